"""``python -m lpc``: see lpc.cli."""
import sys

from .cli import main

sys.exit(main())

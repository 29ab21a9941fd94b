#!/bin/sh
# The Python package after `meson install` into a staged prefix: installed
# next to the library, its _paths.py records where the library went, and
# `import lpc` works with the site directory on PYTHONPATH (no LPC_LIBRARY).
#   test_install.sh SOURCE BUILD PYTHON
set -eu
build=$2
python=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DESTDIR="$tmp/root" meson install -C "$build" --quiet >/dev/null
init=$(find "$tmp/root" -path '*/lpc/__init__.py' | head -1)
[ -n "$init" ] || { echo "lpc/__init__.py was not installed"; exit 1; }
site=$(dirname "$(dirname "$init")")
for f in _paths.py _lib.py _args.py _arrays.py _owner.py analysis.py model.py torchnet.py; do
    [ -f "$site/lpc/$f" ] || { echo "lpc/$f was not installed"; exit 1; }
done
recorded=$(cd "$site/lpc" && "$python" -c 'import _paths; print(_paths.LIBRARY)')
[ -e "$tmp/root$recorded" ] || { echo "_paths.LIBRARY=$recorded is not where the library went"; exit 1; }
# The staged library is not at the recorded path, so the loader finds it here.
unset LPC_LIBRARY
out=$(cd "$tmp" && PYTHONPATH="$site" LD_LIBRARY_PATH=$(dirname "$tmp/root$recorded") \
      "$python" -c 'import lpc, numpy; print(lpc.__version__, lpc.norm_cov(numpy.eye(3)))')
echo "installed package: $out"
case "$out" in *" 0.0") ;; *) echo "unexpected output"; exit 1 ;; esac

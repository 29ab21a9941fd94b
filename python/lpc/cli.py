"""The command line of the Python package: ``python -m lpc analyze ...``.

``analyze`` takes lpc-analyze's main options on .npy files and prints the same
JSON object (the same keys, order and numbers; an undefined metric is null
with a warning on standard error). Exit status 2 on bad arguments or files."""
import argparse
import json
import os
import sys
import warnings

import numpy as np

from . import KL_DEFAULT_K, LPCError, __version__, analyze, set_num_threads


def _parser():
    p = argparse.ArgumentParser(prog="python -m lpc",
                                description="Latent Point Collapse analysis on .npy files.")
    p.add_argument("--version", action="version", version=f"lpc {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyze", help="the paper's metrics on features and labels (JSON)",
                       description="Prints one JSON object with the metrics lpc-analyze prints.")
    a.add_argument("--features", required=True, metavar="Z.npy",
                   help="N x P penultimate features (float32 or float64)")
    a.add_argument("--labels", required=True, metavar="Y.npy",
                   help="N true labels (int32 or int64)")
    a.add_argument("--weights", metavar="W.npy", help="K x P classifier weights: adds nc3 and nc4")
    a.add_argument("--logits", metavar="L.npy",
                   help="N x K logits: predictions for sigma_w and nc4")
    a.add_argument("--k", type=int, default=KL_DEFAULT_K,
                   help=f"neighbours of the entropy estimate (default {KL_DEFAULT_K})")
    a.add_argument("--standardize", action="store_true",
                   help="standardise each dimension before the entropy")
    a.add_argument("--threads", type=int, default=None,
                   help="threads of liblpc's kernels (default: every CPU online, at most 64, "
                        "as lpc-analyze)")
    return p


def _load(path, what):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ValueError(f"{what} {path}: {e}") from None


def _json_number(v):
    return None if v is None or not np.isfinite(v) else float(v)


def _analyze(args):
    z = _load(args.features, "--features")
    y = _load(args.labels, "--labels")
    w = None if args.weights is None else _load(args.weights, "--weights")
    lg = None if args.logits is None else _load(args.logits, "--logits")
    online = os.sysconf("SC_NPROCESSORS_ONLN")
    set_num_threads(args.threads if args.threads is not None else min(max(online, 1), 64))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = analyze(z, y, weights=w, logits=lg, k=args.k, standardize=args.standardize)
    for c in caught:
        print(f"python -m lpc: warning: {c.message}", file=sys.stderr)
    print(json.dumps({key: _json_number(v) for key, v in out.items()}, allow_nan=False))


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "analyze":
            _analyze(args)
    except (ValueError, TypeError, LPCError) as e:
        print(f"python -m lpc: {e}", file=sys.stderr)
        return 2
    return 0

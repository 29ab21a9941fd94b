#!/usr/bin/python3
"""`python -m lpc analyze` (meson suite 'python'): on the same .npy files it
prints the JSON lpc-analyze prints (same keys, order and doubles, null where
lpc-analyze prints null) and refuses bad arguments and files with exit
status 2 and a message.

Environment (set by meson): LPC_LIBRARY, PYTHONPATH, LPC_ANALYZE; without
LPC_ANALYZE only the package's own checks run. Exit status 77 (skip) when
NumPy is missing."""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("numpy is not installed (python3-numpy); skipping")
    sys.exit(77)

FAILURES = []


def expect(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


def run(args):
    return subprocess.run(args, capture_output=True, text=True)


def save(tmp, **arrays):
    files = []
    for key, a in arrays.items():
        path = os.path.join(tmp, key + ".npy")
        np.save(path, a)
        files += ["--" + key, path]
    return files


def data(n=800, p=10, k=5, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    z = (rng.normal(size=(k, p))[y] * 3 + rng.normal(size=(n, p))).astype(np.float32)
    w = rng.normal(size=(k, p)).astype(np.float32)
    logits = (z @ w.T).astype(np.float32)
    return z, y, w, logits


def same_as_lpc_analyze(label, files):
    py = run([sys.executable, "-m", "lpc", "analyze"] + files)
    expect(py.returncode == 0, f"{label}: exit {py.returncode}: {py.stderr}")
    if py.returncode != 0:
        return None
    mine = json.loads(py.stdout)
    if "LPC_ANALYZE" not in os.environ:
        return mine
    c = run([os.environ["LPC_ANALYZE"]] + files)
    expect(c.returncode == 0, f"{label}: lpc-analyze exit {c.returncode}: {c.stderr}")
    cli = json.loads(c.stdout)
    expect(list(mine) == list(cli), f"{label}: keys {list(mine)} vs {list(cli)}")
    for key, v in cli.items():
        expect(mine.get(key) == v, f"{label}: {key} = {mine.get(key)}, lpc-analyze {v}")
    return mine


def main():
    z, y, w, logits = data()
    with tempfile.TemporaryDirectory() as tmp:
        out = same_as_lpc_analyze("plain", save(tmp, features=z, labels=y))
        expect(out is not None and out.get("R", 0) > 1 and out.get("nc1") is not None,
               f"plain: implausible output {out}")
        same_as_lpc_analyze("weights+logits", save(tmp, features=z.astype(np.float64),
                                                   labels=y.astype(np.int32), weights=w,
                                                   logits=logits) + ["--k", "7", "--standardize"])
        zc = z.copy()
        zc[:, 2] = 0.5
        out = same_as_lpc_analyze("constant dim", save(tmp, features=zc, labels=y))
        expect(out is not None and out.get("gmm_l", 0) is None, "constant dim: gmm_l not null")

        labels = os.path.join(tmp, "labels.npy")
        bad = [(["analyze", "--labels", labels], "--features"),
               (["analyze", "--features", os.path.join(tmp, "missing.npy"), "--labels", labels],
                "missing.npy"),
               (["analyze"] + save(tmp, features=z[:10], labels=y[:9]), "9 entries for 10")]
        for args, said in bad:
            r = run([sys.executable, "-m", "lpc"] + args)
            expect(r.returncode == 2 and said in r.stderr,
                   f"{args[1:]}: exit {r.returncode}, stderr {r.stderr!r} (expected 2, '{said}')")
        r = run([sys.executable, "-m", "lpc", "--version"])
        import lpc
        expect(r.returncode == 0 and lpc.__version__ in r.stdout, f"--version: {r.stdout!r}")
    if FAILURES:
        print(f"{len(FAILURES)} failures")
        return 1
    print("python -m lpc: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

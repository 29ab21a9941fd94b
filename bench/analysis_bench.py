#!/usr/bin/env python3
"""Time the analysis metrics in NumPy/scikit-learn on the same synthetic data
as lpc-bench-analysis, and compare with liblpc.

    bench/analysis_bench.py [BUILD/bench/lpc-bench-analysis] [--n N] [--p P]
                            [--rounds R] [--faiss-python PYTHON] [--only entropy]

Runs the C benchmark (which writes z.npy, y.npy, w.npy to a temporary
directory), recomputes every metric with NumPy/scikit-learn on 2 threads,
and prints both timings, the ratio and the largest relative difference.
With --faiss-python (default: $LPC_FAISS_PYTHON), a Python that has
faiss-cpu also times faiss's exact IndexFlatL2 search for the 21 nearest
rows (bench/faiss_knn.py) against liblpc's whole KL entropy call; without
faiss that comparison is skipped with a message. The R rounds run one after
the other, each running liblpc, NumPy and faiss side by side. --only entropy
times the KL entropy alone (wide shapes)."""
import os
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")
import argparse, json, math, subprocess, sys, tempfile, time
import numpy as np
from scipy.special import digamma, gammaln
try:
    from sklearn.mixture import GaussianMixture
    from sklearn.neighbors import NearestNeighbors
except ImportError:
    print("analysis_bench.py: scikit-learn is not installed; skipping")
    sys.exit(0)


def reference_entropy(z, k_nn=20):
    n, p = z.shape
    zs = (z - z.mean(0)) / z.std(0)
    dist, _ = NearestNeighbors(n_neighbors=k_nn + 1).fit(zs).kneighbors(zs)
    lnv = p / 2 * math.log(math.pi) - gammaln(p / 2 + 1)
    h = digamma(n) - digamma(k_nn) + lnv + p / n * np.log(dist[:, k_nn] + 1e-10).sum()
    return zs, h


def reference(z, y, w, only_entropy):
    z = z.astype(np.float64)
    n, p = z.shape
    K = int(y.max()) + 1
    out, sec = {}, {}
    if only_entropy:
        t0 = time.perf_counter()
        _, h = reference_entropy(z)
        out["entropy"], out["entropy_per_dim"] = h, h / p
        return out, {"entropy": time.perf_counter() - t0}
    t0 = time.perf_counter()
    mu = np.stack([z[y == c].mean(0) for c in range(K)])
    d = np.sqrt(((z[:, None, :] - mu[None]) ** 2).sum(-1))
    own = d[np.arange(n), y]
    d[np.arange(n), y] = np.inf
    out["R"] = np.where(own > 0, d.min(1) / np.where(own > 0, own, 1), 0).mean()
    out["sigma_w"] = np.mean([np.cov(z[y == c].T).mean() for c in range(K)])
    nr = np.linalg.norm(z, axis=1)
    out["cov_norm"] = nr.std() / nr.mean()
    t1 = time.perf_counter()
    zs, h = reference_entropy(z)
    out["entropy"], out["entropy_per_dim"] = h, h / p
    t2 = time.perf_counter()
    ls, mus = [], []
    for j in range(p):
        x = zs[:, j:j + 1]
        g = GaussianMixture(2, tol=1e-3, reg_covar=1e-6, max_iter=100, random_state=0).fit(x)
        s = np.sqrt(g.covariances_.ravel())
        ls.append(g.score(x))
        mus.append(abs(g.means_[0, 0] - g.means_[1, 0]) / s.mean())
    out["gmm_l"], out["gmm_mu"] = np.mean(ls), np.mean(mus)
    t3 = time.perf_counter()
    mg = z.mean(0)
    M = (mu - mg).T
    D = z - mu[y]
    Sw = D.T @ D / n
    Sb = M @ M.T / K
    ev, V = np.linalg.eigh(Sb)
    keep = ev > max(p, K) * np.finfo(float).eps * ev.max()
    out["nc1"] = np.trace(Sw @ (V[:, keep] / ev[keep]) @ V[:, keep].T) / K
    out["nc3"] = np.linalg.norm(w.T / np.linalg.norm(w) - M / np.linalg.norm(M)) ** 2
    ncm = np.argmin(((z[:, None, :] - mu[None]) ** 2).sum(-1), 1)
    out["nc4"] = float(np.mean(np.argmax(z @ w.T, 1) != ncm))
    t4 = time.perf_counter()
    sec = {"separation": t1 - t0, "entropy": t2 - t1, "binarity": t3 - t2,
           "neural_collapse": t4 - t3, "total": t4 - t0}
    return out, sec


def faiss_knn(python, z_path):
    """faiss's seconds and entropy, or None (with a message) without faiss."""
    if not python:
        print("faiss: skipped (no --faiss-python or LPC_FAISS_PYTHON given)")
        return None
    here = os.path.dirname(os.path.abspath(__file__))
    run = subprocess.run([python, os.path.join(here, "faiss_knn.py"), z_path, "--threads", "2"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        print(f"faiss: skipped ({run.stderr.strip() or 'exit status %d' % run.returncode})")
        return None
    return json.loads(run.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default="build/bench/lpc-bench-analysis")
    ap.add_argument("--n", type=int, default=60000)
    ap.add_argument("--p", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--faiss-python", default=os.environ.get("LPC_FAISS_PYTHON"))
    ap.add_argument("--only", choices=["entropy"])
    a = ap.parse_args()
    print(f"data: {a.n} x {a.p}, 10 classes, 2 threads")
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            run = subprocess.run([a.binary, "--n", str(a.n), "--p", str(a.p), "--threads", "2",
                                  "--save", tmp] + (["--only", a.only] if a.only else []),
                                 check=True, capture_output=True, text=True)
            c = json.loads(run.stdout)
            z, y, w = (np.load(os.path.join(tmp, f + ".npy")) for f in ("z", "y", "w"))
            ref, sec = reference(z, y, w, a.only == "entropy")
            fs = faiss_knn(a.faiss_python, os.path.join(tmp, "z.npy"))
            print(f"round {r + 1}")
            print(f"{'metric group':16s} {'liblpc s':>10s} {'numpy/sklearn s':>16s} {'ratio':>8s}")
            for key in sec:
                print(f"{key:16s} {c['seconds'][key]:10.2f} {sec[key]:16.2f} "
                      f"{sec[key] / max(c['seconds'][key], 1e-9):8.1f}")
            if fs:
                rel = abs(fs["entropy"] - c["entropy"]) / abs(c["entropy"])
                print(f"{'k-NN (k=21)':16s} {c['seconds']['entropy']:10.2f} "
                      f"{'faiss ' + fs['faiss']:>9s} {fs['seconds']:6.2f} "
                      f"{fs['seconds'] / max(c['seconds']['entropy'], 1e-9):8.2f}  "
                      f"(liblpc: whole KL entropy; faiss: IndexFlatL2 add + search; "
                      f"entropy from faiss's float distances differs by {rel:.1e})")
            worst = max(abs(c[k] - v) / max(abs(v), 1e-300) for k, v in ref.items() if v != 0)
            print(f"largest relative difference over {len(ref)} metrics: {worst:.2e}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()

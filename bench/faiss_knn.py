#!/usr/bin/env python3
"""Exact k-nearest-neighbour search of faiss (IndexFlatL2) on the matrix that
lpc_kl_entropy searches, for bench/analysis_bench.py: run it with a Python
that has faiss-cpu (e.g. a venv with `pip install faiss-cpu`).

    faiss_knn.py Z.npy [--k 21] [--threads 2]

Standardises Z (untimed, as lpc_kl_entropy's LPC_KL_STANDARDIZE does), then
times index.add + index.search for the k nearest rows of every row (the row
itself included, so k = 21 gives the 20th other neighbour) and prints one
JSON object: the seconds and the Kozachenko-Leonenko entropy from faiss's
distances. Exits with 77 when faiss is not importable."""
import argparse, json, math, sys, time
try:
    import faiss
    import numpy as np
except ImportError as e:
    print(f"faiss_knn.py: {e}; skipping", file=sys.stderr)
    sys.exit(77)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("z")
    ap.add_argument("--k", type=int, default=21)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    faiss.omp_set_num_threads(a.threads)
    z = np.load(a.z).astype(np.float64)
    n, p = z.shape
    zs = np.ascontiguousarray(((z - z.mean(0)) / z.std(0)).astype(np.float32))
    t0 = time.perf_counter()
    index = faiss.IndexFlatL2(p)
    index.add(zs)
    dist2, _ = index.search(zs, a.k)
    sec = time.perf_counter() - t0
    kth = np.sqrt(np.maximum(dist2[:, a.k - 1].astype(np.float64), 0.0))
    k = a.k - 1
    digamma = lambda m: -0.57721566490153286061 + sum(1.0 / i for i in range(1, m))
    lnv = p / 2 * math.log(math.pi) - math.lgamma(p / 2 + 1)
    h = digamma(n) - digamma(k) + lnv + p / n * np.log(kth + 1e-10).sum()
    print(json.dumps({"seconds": sec, "entropy": h, "faiss": faiss.__version__}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Time liblpc's OOD detection (the lpc package) against scikit-learn/SciPy
on synthetic features, and print the largest differences.

    LPC_LIBRARY=build/lib/liblpc.so.0 PYTHONPATH=python \\
        bench/ood_bench.py [--n 60000] [--p 512] [--k 10] [--threads 2]

The ID training set is N x P (K Gaussian classes), the evaluation sets are
N/6 ID and N/6 OOD rows. Timed: the detector fit (liblpc: Mahalanobis and
NECO state; reference: EmpiricalCovariance + pinvh, StandardScaler + PCA),
the Mahalanobis and NECO scores of both evaluation sets, and the four
metrics of 2 x N scores with ties (liblpc: lpc.ood_metrics; reference:
roc_auc_score, two average_precision_score, roc_curve)."""
import argparse
import os
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--n", type=int, default=60000)
parser.add_argument("--p", type=int, default=512)
parser.add_argument("--k", type=int, default=10)
parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = str(args.threads)

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import lpc  # noqa: E402


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def reference_fit(z, y, k):
    z = z.astype(np.float64)
    means = np.stack([z[y == c].mean(0) for c in range(k)])
    c = z - means[y]
    prec = scipy.linalg.pinvh(c.T @ c / len(z))
    ss = StandardScaler().fit(z)
    pca = PCA(z.shape[1]).fit(ss.transform(z))
    return means, prec, ss, pca


def reference_scores(fit, x, d):
    means, prec, ss, pca = fit
    x = x.astype(np.float64)
    dist = np.stack([(((x - m) @ prec) * (x - m)).sum(1) for m in means], 1)
    xs = ss.transform(x)
    return -dist.min(1), np.linalg.norm(pca.transform(xs)[:, :d], axis=1) / np.linalg.norm(xs, axis=1)


def reference_metrics(sid, sood):
    yy = np.r_[np.ones(len(sid)), np.zeros(len(sood))]
    s = np.r_[sid, sood]
    fpr, tpr, _ = roc_curve(yy, s, drop_intermediate=False)
    return [roc_auc_score(yy, s), average_precision_score(yy, s),
            average_precision_score(1 - yy, -s), fpr[tpr >= 0.95].min()]


def main():
    lpc.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    n, p, k = args.n, args.p, args.k
    centres = rng.normal(0, 1, (k, p))
    y = rng.integers(0, k, n).astype(np.int32)
    z = (centres[y] + rng.normal(size=(n, p))).astype(np.float32)
    m = n // 6
    zid = (centres[rng.integers(0, k, m)] + rng.normal(size=(m, p))).astype(np.float32)
    zood = rng.normal(0, 1.2, (m, p)).astype(np.float32)
    print(f"N = {n}, P = {p}, K = {k}, {args.threads} threads; evaluation {m} ID + {m} OOD")

    det, t_lpc = timed(lambda: lpc.OODDetector(z, y, k))
    fit, t_ref = timed(lambda: reference_fit(z, y, k))
    print(f"fit (Mahalanobis + NECO)  liblpc {t_lpc:8.2f} s   scikit-learn/SciPy {t_ref:8.2f} s")

    def lpc_scores():
        return [(det.score("mahalanobis", x), det.score("neco", x)) for x in (zid, zood)]
    got, t_lpc = timed(lpc_scores)
    want, t_ref = timed(lambda: [reference_scores(fit, x, k - 1) for x in (zid, zood)])
    err = max(np.max(np.abs(g - w) / np.maximum(np.abs(w), 1.0))
              for gs, ws in zip(got, want) for g, w in zip(gs, ws))
    print(f"scores of {2 * m} rows      liblpc {t_lpc:8.2f} s   NumPy              {t_ref:8.2f} s"
          f"   max rel. diff {err:.1e}")

    sid = np.round(rng.normal(1, 1, n), 2)
    sood = np.round(rng.normal(0, 1, n), 2)
    got, t_lpc = timed(lambda: lpc.ood_metrics(sid, sood))
    want, t_ref = timed(lambda: reference_metrics(sid, sood))
    err = max(abs(g - w) for g, w in zip(got.values(), want))
    print(f"4 metrics of {2 * n} scores liblpc {t_lpc:8.3f} s   scikit-learn       {t_ref:8.3f} s"
          f"   max abs. diff {err:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

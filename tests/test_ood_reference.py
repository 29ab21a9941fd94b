#!/usr/bin/env python3
"""OOD detection and generalized collapse measures of liblpc against an
independent NumPy/SciPy/scikit-learn reference written from the papers'
formulas (not from liblpc's code):

  AUROC, AUPR-In/-Out, FPR95  scikit-learn's roc_auc_score, average_precision_score,
                              roc_curve(drop_intermediate=False); AUROC also as the
                              Mann-Whitney U statistic with mid-ranks
  MSP, max logit, energy      Hendrycks & Gimpel 2017; Hendrycks et al. 2022; Liu et al. 2020
  Mahalanobis                 Lee et al. 2018 (shared covariance, scipy.linalg.pinvh)
  NECO                        Ben Ammar et al. 2024 (StandardScaler + PCA of the ID training features)
  ViM                         Wang et al. 2022 (origin -pinv(W) b, residual of the top-D space)
  NC5                         Ben Ammar et al. 2024: mean_c |cos(mu_c, mu_OOD)|
  GNC2 log / Riesz kernels    Liu et al. 2023 (scipy.spatial.distance.pdist of the unit means)
  log equinorm                Wu & Papyan 2024: var(log |mu_c - mu_G|, ddof=1)
  weak NC1                    Rangamani et al. 2023

Calls liblpc through ctypes. Exit 77 (skip) without NumPy/SciPy/scikit-learn.
Usage: test_ood_reference.py SOURCE_ROOT BUILD_ROOT"""
import ctypes
import glob
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import scipy.linalg
    import scipy.special
    import scipy.stats
    from scipy.spatial.distance import pdist
    from sklearn.decomposition import PCA
    from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve
    from sklearn.preprocessing import StandardScaler
except ImportError:
    # A python3 first on PATH (pyenv, a venv) may lack the Debian packages.
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("NumPy/SciPy/scikit-learn missing: skipped")
    sys.exit(77)

AUROC, AUPR_IN, AUPR_OUT, FPR95 = range(4)
MSP, MAX_LOGIT, ENERGY, MAHALANOBIS, NECO, VIM = range(6)
GNC = ["log_mean", "log_var", "riesz_mean", "riesz_var", "log_equinorm",
       "weak_nc1_between", "weak_nc1_within"]
dp = ctypes.POINTER(ctypes.c_double)
fp = ctypes.POINTER(ctypes.c_float)
ip = ctypes.POINTER(ctypes.c_int32)


class Options(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("w", fp), ("b", fp), ("temperature", ctypes.c_double),
                ("neco_dim", ctypes.c_int), ("neco_standardize", ctypes.c_int),
                ("neco_max_logit", ctypes.c_int), ("vim_dim", ctypes.c_int)]


class Samples(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("x", fp), ("n", ctypes.c_int64), ("c", ctypes.c_int),
                ("h", ctypes.c_int), ("w", ctypes.c_int), ("labels", ip)]


def samples(z, y):
    """The lpc_samples view of the rows z (n x p float32) with labels y (int32)."""
    view = Samples(ctypes.sizeof(Samples), ptr(z, fp), z.shape[0], z.shape[1], 1, 1, ptr(y, ip))
    return ctypes.byref(view)


def load(build):
    so = sorted(glob.glob(os.path.join(build, "lib", "liblpc.so.*.*")))
    so = [s for s in so if os.path.isfile(s)]
    if not so:
        print("liblpc.so not built")
        sys.exit(1)
    lib = ctypes.CDLL(so[0])
    lib.lpc_last_error.restype = ctypes.c_char_p
    lib.lpc_ood_metric_compute.argtypes = [dp, ctypes.c_int64, dp, ctypes.c_int64, ctypes.c_int, dp]
    lib.lpc_ood_logit_score.argtypes = [fp, ctypes.c_int64, ctypes.c_int, ctypes.c_int,
                                        ctypes.c_double, dp]
    lib.lpc_ood_detector_new.argtypes = [ctypes.POINTER(Samples), ctypes.c_int,
                                         ctypes.POINTER(Options), ctypes.POINTER(ctypes.c_void_p)]
    lib.lpc_ood_detector_score.argtypes = [ctypes.c_void_p, ctypes.c_int, fp, fp, ctypes.c_int64, dp]
    lib.lpc_ood_detector_nc5.argtypes = [ctypes.c_void_p, fp, ctypes.c_int64, dp]
    lib.lpc_ood_detector_free.argtypes = [ctypes.c_void_p]
    lib.lpc_gnc_compute.argtypes = [fp, ctypes.c_int64, ctypes.c_int, ip, ctypes.c_int,
                                    ctypes.POINTER(ctypes.c_void_p)]
    lib.lpc_gnc_get.argtypes = [ctypes.c_void_p, ctypes.c_int, dp]
    lib.lpc_gnc_free.argtypes = [ctypes.c_void_p]
    return lib


def f32(a):
    return np.ascontiguousarray(a, np.float32)


def ptr(a, t):
    return None if a is None else a.ctypes.data_as(t)


def check(lib, rc):
    if rc != 0:
        raise RuntimeError(lib.lpc_last_error().decode())


def lib_metric(lib, sid, sood, m):
    sid = np.ascontiguousarray(sid, np.float64)
    sood = np.ascontiguousarray(sood, np.float64)
    v = ctypes.c_double()
    check(lib, lib.lpc_ood_metric_compute(ptr(sid, dp), len(sid), ptr(sood, dp), len(sood), m,
                                          ctypes.byref(v)))
    return v.value


def ref_metrics(sid, sood):
    y = np.r_[np.ones(len(sid)), np.zeros(len(sood))]
    s = np.r_[sid, sood]
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    ranks = scipy.stats.rankdata(s)  # mid-ranks: ties count one half
    u = ranks[:len(sid)].sum() - len(sid) * (len(sid) + 1) / 2
    return {AUROC: roc_auc_score(y, s), AUPR_IN: average_precision_score(y, s),
            AUPR_OUT: average_precision_score(1 - y, -s), FPR95: fpr[tpr >= 0.95].min(),
            "mann_whitney": u / (len(sid) * len(sood))}


def compare(what, got, want, tol, rel=False):
    err = abs(got - want) / (max(abs(want), 1e-300) if rel else 1.0)
    if not np.isfinite(got) or err > tol:
        print(f"{what}: liblpc {got!r} reference {want!r} (error {err:.3g} > {tol:g})")
        return 1
    return 0


def compare_arrays(what, got, want, tol):
    err = np.max(np.abs(got - want) / np.maximum(np.abs(want), 1.0))
    if not np.all(np.isfinite(got)) or err > tol:
        print(f"{what}: max relative error {err:.3g} > {tol:g}")
        return 1
    return 0


def metrics_cases(lib, rng):
    bad = 0
    cases = {
        "untied": (rng.normal(1.0, 1.0, 700), rng.normal(0.0, 1.0, 500)),
        "tied": (np.round(rng.normal(1.0, 1.0, 900), 1), np.round(rng.normal(0.3, 1.0, 600), 1)),
        "few values": (rng.integers(0, 4, 300).astype(float), rng.integers(0, 3, 200).astype(float)),
        "separated": (rng.normal(10, 1, 100), rng.normal(-10, 1, 80)),
        "all tied": (np.zeros(50), np.zeros(70)),
        "one each": (np.array([0.5]), np.array([0.25])),
    }
    for name, (sid, sood) in cases.items():
        want = ref_metrics(sid, sood)
        got = {m: lib_metric(lib, sid, sood, m) for m in (AUROC, AUPR_IN, AUPR_OUT, FPR95)}
        bad += compare(f"{name} AUROC", got[AUROC], want[AUROC], 1e-12)
        bad += compare(f"{name} AUROC (Mann-Whitney)", got[AUROC], want["mann_whitney"], 1e-12)
        bad += compare(f"{name} AUPR-In", got[AUPR_IN], want[AUPR_IN], 1e-12)
        bad += compare(f"{name} AUPR-Out", got[AUPR_OUT], want[AUPR_OUT], 1e-12)
        bad += compare(f"{name} FPR95", got[FPR95], want[FPR95], 1e-12)
    return bad


def clusters(rng, n, p, k, spread):
    centres = rng.normal(0, 3, (k, p))
    y = np.r_[np.arange(k), rng.integers(0, k, n - k)].astype(np.int32)
    z = centres[y] + spread * rng.normal(size=(n, p)) * rng.uniform(0.5, 1.5, p)
    return f32(z), y


def ref_scores(ztr, ytr, k, w, b, z, logits, neco_dim, vim_dim):
    ztr, z = ztr.astype(np.float64), z.astype(np.float64)
    out = {MSP: scipy.special.softmax(logits, axis=1).max(axis=1),
           MAX_LOGIT: logits.max(axis=1),
           ENERGY: scipy.special.logsumexp(logits, axis=1)}
    means = np.stack([ztr[ytr == c].mean(axis=0) for c in range(k)])
    centred = ztr - means[ytr]
    prec = scipy.linalg.pinvh(centred.T @ centred / len(ztr))
    dist = np.stack([np.einsum("ij,jk,ik->i", z - m, prec, z - m) for m in means], axis=1)
    out[MAHALANOBIS] = -dist.min(axis=1)
    ss = StandardScaler().fit(ztr)
    pca = PCA(ztr.shape[1]).fit(ss.transform(ztr))
    xs = ss.transform(z)
    out[NECO] = np.linalg.norm(pca.transform(xs)[:, :neco_dim], axis=1) / np.linalg.norm(xs, axis=1)
    u = -np.linalg.pinv(w) @ b
    lam, vec = np.linalg.eigh((ztr - u).T @ (ztr - u) / len(ztr))
    ns = vec[:, np.argsort(-lam)[vim_dim:]]
    res_tr = np.linalg.norm((ztr - u) @ ns, axis=1)
    alpha = (ztr @ w.T + b).max(axis=1).mean() / res_tr.mean()
    out[VIM] = scipy.special.logsumexp(logits, axis=1) - alpha * np.linalg.norm((z - u) @ ns, axis=1)
    return out, means


def scores_cases(lib, rng):
    bad = 0
    for name, n, p, k, spread in [("K=5 P=12", 600, 12, 5, 1.0), ("K=3 P=8", 300, 8, 3, 0.3),
                                  ("K=10 P=16", 900, 16, 10, 2.0)]:
        ztr, ytr = clusters(rng, n, p, k, spread)
        w = f32(rng.normal(size=(k, p)))
        b = f32(rng.normal(size=k))
        zte = f32(np.r_[clusters(rng, 200, p, k, spread)[0], rng.normal(0, 4, (150, p))])
        logits = f32(zte.astype(np.float64) @ w.T.astype(np.float64) + b)
        opt = Options()
        lib.lpc_ood_detector_options_init(ctypes.byref(opt))
        opt.w, opt.b = ptr(w, fp), ptr(b, fp)
        det = ctypes.c_void_p()
        try:
            check(lib, lib.lpc_ood_detector_new(samples(ztr, ytr), k, ctypes.byref(opt),
                                                ctypes.byref(det)))
        except RuntimeError as e:
            print(f"{name}: {e}")
            bad += 1
            continue
        w64, b64 = w.astype(np.float64), b.astype(np.float64)
        want, means = ref_scores(ztr, ytr, k, w64, b64, zte, logits.astype(np.float64), k - 1, p // 2)
        # Without logits liblpc computes W z + b in double.
        want_wzb, _ = ref_scores(ztr, ytr, k, w64, b64, zte, zte.astype(np.float64) @ w64.T + b64,
                                 k - 1, p // 2)
        for s, tol in [(MSP, 1e-12), (MAX_LOGIT, 1e-12), (ENERGY, 1e-12), (MAHALANOBIS, 1e-9),
                       (NECO, 1e-9), (VIM, 1e-9)]:
            got = np.zeros(len(zte))
            for lg in (logits, None):  # given logits, then W z + b
                if lg is None and s not in (MSP, MAX_LOGIT, ENERGY, VIM):
                    continue
                check(lib, lib.lpc_ood_detector_score(det, s, ptr(zte, fp), ptr(lg, fp), len(zte),
                                                      ptr(got, dp)))
                bad += compare_arrays(f"{name} {s} logits={'given' if lg is not None else 'Wz+b'}",
                                      got, (want if lg is not None else want_wzb)[s], tol)
            if s in (MSP, MAX_LOGIT, ENERGY):
                check(lib, lib.lpc_ood_logit_score(ptr(logits, fp), len(zte), k, s, 1.0, ptr(got, dp)))
                bad += compare_arrays(f"{name} logit score {s}", got, want[s], 1e-12)
        # NECO without standardisation, d = 2, times the maximum logit.
        opt2 = Options()
        lib.lpc_ood_detector_options_init(ctypes.byref(opt2))
        opt2.neco_dim, opt2.neco_standardize, opt2.neco_max_logit = 2, 0, 1
        det2 = ctypes.c_void_p()
        check(lib, lib.lpc_ood_detector_new(samples(ztr, ytr), k, ctypes.byref(opt2),
                                            ctypes.byref(det2)))
        got = np.zeros(len(zte))
        check(lib, lib.lpc_ood_detector_score(det2, NECO, ptr(zte, fp), ptr(logits, fp), len(zte),
                                              ptr(got, dp)))
        z64 = zte.astype(np.float64)
        pca = PCA(p).fit(ztr.astype(np.float64))
        raw = (np.linalg.norm(pca.transform(z64)[:, :2], axis=1) / np.linalg.norm(z64, axis=1)
               * logits.astype(np.float64).max(axis=1))
        bad += compare_arrays(f"{name} NECO raw d=2 x max logit", got, raw, 1e-9)
        lib.lpc_ood_detector_free(det2)
        # Energy and MSP at T = 2.
        got = np.zeros(len(zte))
        check(lib, lib.lpc_ood_logit_score(ptr(logits, fp), len(zte), k, ENERGY, 2.0, ptr(got, dp)))
        lg = logits.astype(np.float64)
        bad += compare_arrays(f"{name} energy T=2", got, 2.0 * scipy.special.logsumexp(lg / 2.0, axis=1), 1e-12)
        check(lib, lib.lpc_ood_logit_score(ptr(logits, fp), len(zte), k, MSP, 2.0, ptr(got, dp)))
        bad += compare_arrays(f"{name} MSP T=2", got, scipy.special.softmax(lg / 2.0, axis=1).max(axis=1), 1e-12)
        # NC5 against the OOD rows' mean.
        zood = zte[200:]
        v = ctypes.c_double()
        check(lib, lib.lpc_ood_detector_nc5(det, ptr(zood, fp), len(zood), ctypes.byref(v)))
        g = zood.astype(np.float64).mean(axis=0)
        nc5 = np.mean(np.abs(means @ g) / (np.linalg.norm(means, axis=1) * np.linalg.norm(g)))
        bad += compare(f"{name} NC5", v.value, nc5, 1e-12, rel=True)
        lib.lpc_ood_detector_free(det)
    return bad


def ref_gnc(z, y, k):
    z = z.astype(np.float64)
    mu = z.mean(axis=0)
    means = np.stack([z[y == c].mean(axis=0) for c in range(k)])
    mc = means - mu
    norms = np.linalg.norm(mc, axis=1)
    dist = pdist(mc / norms[:, None])
    s = z.shape[1] - 2
    lg = np.log(1.0 / dist)
    rz = np.copysign(1.0, s) * dist ** (-float(s))
    tw = np.sum((z - means[y]) ** 2) / len(z)
    tb = np.sum(mc ** 2) / k
    return dict(log_mean=lg.mean(), log_var=lg.var(), riesz_mean=rz.mean(), riesz_var=rz.var(),
                log_equinorm=np.var(np.log(norms), ddof=1), weak_nc1_between=tb / (tb + tw),
                weak_nc1_within=tw / (tb + tw))


def gnc_cases(lib, rng):
    bad = 0
    for name, n, p, k, spread in [("K=5 P=12", 500, 12, 5, 1.0), ("K=40 P=6", 2000, 6, 40, 0.5),
                                  ("K=70 P=2", 700, 2, 70, 0.1), ("K=2000 P=8", 6000, 8, 2000, 0.2)]:
        z, y = clusters(rng, n, p, k, spread)
        h = ctypes.c_void_p()
        check(lib, lib.lpc_gnc_compute(ptr(z, fp), n, p, ptr(y, ip), k, ctypes.byref(h)))
        want = ref_gnc(z, y, k)
        for m, key in enumerate(GNC):
            v = ctypes.c_double()
            check(lib, lib.lpc_gnc_get(h, m, ctypes.byref(v)))
            bad += compare(f"{name} {key}", v.value, want[key], 1e-9, rel=True)
        lib.lpc_gnc_free(h)
    return bad


def analyze_cli(build, rng):
    """lpc-analyze --ood-features against the reference scores and metrics."""
    exe = os.path.join(build, "examples", "analyze", "lpc-analyze")
    if not os.path.exists(exe):
        return 0  # built with -Dexamples=false
    bad = 0
    k, p = 4, 6
    ztr, ytr = clusters(rng, 500, p, k, 1.0)
    w = f32(rng.normal(size=(k, p)))
    zid = clusters(rng, 200, p, k, 1.0)[0]
    zood = f32(rng.normal(0, 4, (150, p)))
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, a in [("z", ztr), ("y", ytr), ("w", w), ("id", zid), ("ood", zood)]:
            paths[name] = os.path.join(tmp, name + ".npy")
            np.save(paths[name], a)
        out = subprocess.run([exe, "--features", paths["z"], "--labels", paths["y"], "--weights",
                              paths["w"], "--id-features", paths["id"], "--ood-features",
                              paths["ood"]], check=True, capture_output=True).stdout
    got = json.loads(out)["ood"]
    w64 = w.astype(np.float64)
    lid, lood = zid.astype(np.float64) @ w64.T, zood.astype(np.float64) @ w64.T
    want_id, means = ref_scores(ztr, ytr, k, w64, np.zeros(k), zid, lid, k - 1, p // 2)
    want_ood, _ = ref_scores(ztr, ytr, k, w64, np.zeros(k), zood, lood, k - 1, p // 2)
    names = ["msp", "max_logit", "energy", "mahalanobis", "neco", "vim"]
    keys = ["auroc", "aupr_in", "aupr_out", "fpr95"]
    for s, name in enumerate(names):
        want = ref_metrics(want_id[s], want_ood[s])
        for m, key in enumerate(keys):
            bad += compare(f"lpc-analyze {name} {key}", got[name][key], want[m], 1e-9)
    g = zood.astype(np.float64).mean(axis=0)
    nc5 = np.mean(np.abs(means @ g) / (np.linalg.norm(means, axis=1) * np.linalg.norm(g)))
    bad += compare("lpc-analyze nc5", got["nc5"], nc5, 1e-12, rel=True)
    return bad


def main():
    lib = load(sys.argv[2])
    rng = np.random.default_rng(26)
    bad = metrics_cases(lib, rng) + scores_cases(lib, rng) + gnc_cases(lib, rng)
    bad += analyze_cli(sys.argv[2], rng)
    print("failures:", bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

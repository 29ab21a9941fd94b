#!/usr/bin/env python3
"""Neural-collapse metrics of liblpc against an independent NumPy/SciPy
reference written from the papers' formulas (not from liblpc's code):

  NC1 (pinv)      Papyan, Han & Donoho 2020: Tr(Sigma_W Sigma_B^+) / K
  NC1 (svd)       Han, Papyan & Donoho 2022: the inverse from the top K-1 eigenpairs
  NC1 (quotient)  Tirer, Huang & Niles-Weed 2023: Tr(Sigma_W) / Tr(Sigma_B)
  CDNV            Galanti, Gyorgy & Hutter 2022: mean_{c<c'} (V_c + V_c') / (2 |mu_c - mu_c'|^2)
  ETF error       Kothapalli 2023: | S/|S|_F - (I - 11^T/K)/sqrt(K-1) |_F, S = M_c M_c^T
  self-duality    Kothapalli 2023: the same with S = W M_c^T
  uniform duality Wu & Papyan 2024: CoV over classes of cos(w_c, mu_c - mu_G)
  NC2/NC3/NC4     Papyan et al. 2020 (doc/method.md section 6)

and the streaming accumulator against the in-memory results (1e-10 relative).
Calls liblpc through ctypes. Exit 77 (skip) without NumPy/SciPy.
Usage: test_nc_reference.py SOURCE_ROOT BUILD_ROOT"""
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
except ImportError:
    # A python3 first on PATH (pyenv, a venv) may lack the Debian packages.
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("NumPy/SciPy missing: skipped")
    sys.exit(77)

EPS = np.finfo(np.float64).eps
NAMES = ["NC1", "NC1_WEIGHTED", "EQUINORM", "EQUIANGULARITY", "MAX_ANGLE", "NC3", "NC4",
         "NC1_SVD", "NC1_QUOTIENT", "CDNV", "ETF_ERROR", "SELF_DUALITY", "UNIFORM_DUALITY"]
BY_PREDICTION, CLASS_COVARIANCE, CUTOFF_P = 1, 2, 4


def load(build):
    so = sorted(glob.glob(os.path.join(build, "lib", "liblpc.so.*.*")))
    if not so:
        print("liblpc.so not built")
        sys.exit(1)
    lib = ctypes.CDLL(so[0])
    lib.lpc_last_error.restype = ctypes.c_char_p
    return lib


def ptr(a, ctype):
    return a.ctypes.data_as(ctypes.POINTER(ctype)) if a is not None else None


def liblpc_nc(lib, z, y, k, w=None, b=None, pred=None, flags=0):
    z = np.ascontiguousarray(z, np.float32)
    y = np.ascontiguousarray(y, np.int32)
    w = None if w is None else np.ascontiguousarray(w, np.float32)
    b = None if b is None else np.ascontiguousarray(b, np.float32)
    pred = None if pred is None else np.ascontiguousarray(pred, np.int32)
    h = ctypes.c_void_p()
    rc = lib.lpc_nc_compute_flags(ptr(z, ctypes.c_float), ctypes.c_int64(z.shape[0]),
                                  z.shape[1], ptr(y, ctypes.c_int32), k, ptr(w, ctypes.c_float),
                                  ptr(b, ctypes.c_float), ptr(pred, ctypes.c_int32),
                                  ctypes.c_uint(flags), ctypes.byref(h))
    if rc != 0:
        raise RuntimeError(lib.lpc_last_error().decode())
    return read_nc(lib, h)


def read_nc(lib, h):
    out = {}
    for m, name in enumerate(NAMES):
        v = ctypes.c_double()
        if lib.lpc_nc_get(h, m, ctypes.byref(v)) == 0:
            out[name] = v.value
    lib.lpc_nc_free(h)
    return out


def structure_error(a, b):
    """Kothapalli 2023: distance of the normalised cross-Gram B A^T to the simplex ETF."""
    k = a.shape[0]
    s = b @ a.T
    s = s / np.linalg.norm(s)
    etf = (np.eye(k) - np.ones((k, k)) / k) / np.sqrt(k - 1)
    return np.linalg.norm(s - etf)


def reference(z, y, k, w=None, b=None, pred=None, flags=0):
    z = z.astype(np.float64)
    n, p = z.shape
    logits = None if w is None else z @ w.astype(np.float64).T + (0 if b is None else b)
    if pred is None and logits is not None:
        pred = np.argmax(logits, axis=1)
    cls = pred if flags & BY_PREDICTION else y
    mu = np.stack([z[cls == c].mean(axis=0) for c in range(k)])
    mu_g = z.mean(axis=0)
    mc = mu - mu_g
    d = z - mu[cls]
    if flags & CLASS_COVARIANCE:
        sw = np.mean([np.cov(z[cls == c].T, ddof=1).reshape(p, p) for c in range(k)], axis=0)
    else:
        sw = d.T @ d / n
    sb = mc.T @ mc / k
    lam, vec = scipy.linalg.eigh(sb)
    lam, vec = lam[::-1], vec[:, ::-1]
    rcond = (p if flags & CUTOFF_P else max(p, k)) * EPS
    out = {"NC1": np.trace(sw @ np.linalg.pinv(sb, rcond=rcond, hermitian=True)) / k}
    out["NC1_WEIGHTED"] = out["NC1"] / p
    keep = [e for e in range(min(k - 1, p)) if lam[e] > rcond * lam[0]]
    inv_top = vec[:, keep] @ np.diag(1 / lam[keep]) @ vec[:, keep].T
    out["NC1_SVD"] = np.trace(sw @ inv_top) / k
    out["NC1_QUOTIENT"] = np.trace(sw) / np.trace(sb)
    norms = np.linalg.norm(mc, axis=1)
    out["EQUINORM"] = norms.std() / norms.mean()
    iu = np.triu_indices(k, 1)
    cos = (mc @ mc.T / np.outer(norms, norms))[iu]
    out["EQUIANGULARITY"] = cos.std()
    out["MAX_ANGLE"] = np.abs(cos + 1 / (k - 1)).mean()
    v = np.array([np.sum((z[cls == c] - mu[c]) ** 2) / np.sum(cls == c) for c in range(k)])
    dist2 = np.sum((mu[:, None, :] - mu[None, :, :]) ** 2, axis=2)
    out["CDNV"] = np.mean((v[iu[0]] + v[iu[1]]) / (2 * dist2[iu]))
    out["ETF_ERROR"] = structure_error(mc, mc)
    if w is not None:
        w64 = w.astype(np.float64)
        out["NC3"] = np.linalg.norm(w64 / np.linalg.norm(w64) - mc / np.linalg.norm(mc)) ** 2
        out["SELF_DUALITY"] = structure_error(mc, w64)
        cw = np.sum(w64 * mc, axis=1) / (np.linalg.norm(w64, axis=1) * norms)
        out["UNIFORM_DUALITY"] = cw.std() / cw.mean()
    if pred is not None:
        near = np.argmin(np.sum((z[:, None, :] - mu[None, :, :]) ** 2, axis=2), axis=1)
        out["NC4"] = np.mean(pred != near)
    return out


def compare(what, got, want, rtol):
    bad = 0
    if set(got) != set(want):
        print(f"{what}: metrics {sorted(got)} != reference {sorted(want)}")
        return 1
    for name, ref in want.items():
        if not abs(got[name] - ref) <= rtol * max(abs(ref), 1e-300):
            print(f"{what}: {name} = {got[name]!r}, reference {ref!r}")
            bad += 1
    return bad


def dataset(rng, n, p, k, spread, balanced=True):
    y = np.arange(n) % k if balanced else rng.integers(0, k, n)
    y[:k] = np.arange(k)  # every class present
    centres = rng.normal(size=(k, p)) * 3
    z = centres[y] + spread * rng.normal(size=(n, p))
    w = centres + 0.3 * rng.normal(size=(k, p))
    b = 0.1 * rng.normal(size=k)
    return z.astype(np.float32), y.astype(np.int32), w.astype(np.float32), b.astype(np.float32)


def analyze_chunks(build, rng):
    """lpc-analyze --stream over 3 .npy chunks equals lpc-analyze on the whole set."""
    exe = os.path.join(build, "examples", "analyze", "lpc-analyze")
    if not os.path.exists(exe):
        print("lpc-analyze not built (-Dexamples=false): chunk check not run")
        return 0
    z, y, w, b = dataset(rng, 900, 12, 6, 0.8, False)
    logits = z @ w.T
    with tempfile.TemporaryDirectory() as tmp:
        def save(name, a):
            path = os.path.join(tmp, name)
            np.save(path, a)
            return path
        whole = ["--features", save("z.npy", z), "--labels", save("y.npy", y),
                 "--weights", save("w.npy", w), "--logits", save("l.npy", logits)]
        chunked = ["--stream", "--weights", os.path.join(tmp, "w.npy")]
        for c, (lo, hi) in enumerate([(0, 100), (100, 517), (517, 900)]):
            chunked += ["--features", save(f"z{c}.npy", z[lo:hi]),
                        "--labels", save(f"y{c}.npy", y[lo:hi].astype(np.int64)),
                        "--logits", save(f"l{c}.npy", logits[lo:hi])]
        ref = json.loads(subprocess.run([exe] + whole, check=True, capture_output=True).stdout)
        got = json.loads(subprocess.run([exe] + chunked, check=True, capture_output=True).stdout)
    bad = 0
    for key, value in got.items():
        if key not in ref or not abs(value - ref[key]) <= 1e-10 * abs(ref[key]):
            print(f"lpc-analyze --stream: {key} = {value!r}, whole set {ref.get(key)!r}")
            bad += 1
    want = {"R", "sigma_w", "cov_norm", "nc1", "nc1_svd", "nc1_quotient", "cdnv", "etf_error",
            "nc3", "self_duality", "uniform_duality", "nc4"}
    if not want <= set(got):
        print(f"lpc-analyze --stream: missing {sorted(want - set(got))}")
        bad += 1
    return bad


def main():
    lib = load(sys.argv[2])
    rng = np.random.default_rng(18)
    bad = 0
    cases = [("balanced", 600, 8, 5, 1.0, True), ("unbalanced", 500, 6, 4, 0.7, False),
             ("P < K", 400, 3, 7, 0.5, True), ("collapsed", 300, 10, 4, 1e-4, True),
             ("overlapping", 800, 5, 6, 4.0, False)]
    for name, n, p, k, spread, balanced in cases:
        z, y, w, b = dataset(rng, n, p, k, spread, balanced)
        for flags in (0, CUTOFF_P, CLASS_COVARIANCE, BY_PREDICTION | CLASS_COVARIANCE | CUTOFF_P):
            what = f"{name} flags={flags}"
            try:
                got = liblpc_nc(lib, z, y, k, w, b, flags=flags)
            except RuntimeError as e:
                if flags & BY_PREDICTION and "no samples" in str(e):
                    continue  # a predicted class is empty: nothing to compare
                print(f"{what}: {e}")
                bad += 1
                continue
            bad += compare(what, got, reference(z, y, k, w, b, flags=flags), 1e-8)
        pred = rng.integers(0, k, n).astype(np.int32)
        got = liblpc_nc(lib, z, y, k, pred=pred)
        bad += compare(f"{name} predictions", got, reference(z, y, k, pred=pred), 1e-8)
    bad += analyze_chunks(sys.argv[2], rng)
    print("failures:", bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

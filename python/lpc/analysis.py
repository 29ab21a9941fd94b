"""The analysis metrics of liblpc (include/lpc/analysis.h) on NumPy arrays.

Features ``z`` are N x P (float32 is passed by pointer; other real dtypes are
converted to float32, as lpc-analyze does), labels are N integers in
[0, k). Every function raises LPCError with the library's status name and
message when the library refuses the input (labels out of range, non-finite
values, degenerate data), and TypeError, ValueError or OverflowError (naming
the argument) for values that cannot reach the library intact."""
import ctypes
import warnings

import numpy as np

from . import _args, _arrays
from ._lib import LPC_E_NUMERIC, LPCError, call, error, lib

KL_DEFAULT_K = 20

_BINARITY = {"l": 0, "sigma": 1, "mu": 2, "l_min": 3, "sigma_min": 4, "mu_min": 5}
# lpc_nc_metric values, in lpc-analyze's key order (examples/analyze/nc_keys.h);
# _NC_NEEDS: 1 needs W, 2 needs W or predictions.
_NC = {"nc1": 0, "nc1_weighted": 1, "nc1_svd": 7, "nc1_quotient": 8, "cdnv": 9, "equinorm": 2,
       "equiangularity": 3, "max_angle": 4, "etf_error": 10, "nc3": 5, "self_duality": 11,
       "uniform_duality": 12, "nc4": 6}
_NC_NEEDS = {"nc3": 1, "self_duality": 1, "uniform_duality": 1, "nc4": 2}


def _nc_keys(have_w, have_pred):
    """The neural-collapse keys computed with these inputs, in order."""
    need = {0: True, 1: have_w, 2: have_w or have_pred}
    return [key for key in _NC if need[_NC_NEEDS.get(key, 0)]]


def _features(z, name="z"):
    z = _arrays.floats(z, name)
    n, p = z.shape
    _args.c_int(p, f"{name}: the number of columns")
    return z, n, p


def _out():
    return ctypes.c_double(0.0)


def separation_ratio(z, labels, k=None):
    """Class-separation ratio R: the mean over samples of the distance to the
    nearest other class centroid over the distance to the own centroid.
    k defaults to the largest label + 1."""
    z, n, p = _features(z)
    y = _arrays.labels(labels, "labels", n)
    r = _out()
    call(lib.lpc_separation_ratio, _arrays.ptr(z, ctypes.c_float), n, p,
                                   _arrays.ptr(y, ctypes.c_int32),
                                   _arrays.num_classes(y, k, "labels"), ctypes.byref(r))
    return r.value


def sigma_w(z, membership, k=None):
    """Sigma_W scalar: per class (by membership, normally the predictions)
    the unbiased covariance, averaged over classes, as the mean of its P^2
    entries."""
    z, n, p = _features(z)
    y = _arrays.labels(membership, "membership", n)
    r = _out()
    call(lib.lpc_sigma_w, _arrays.ptr(z, ctypes.c_float), n, p, _arrays.ptr(y, ctypes.c_int32),
                          _arrays.num_classes(y, k, "membership"), ctypes.byref(r))
    return r.value


def norm_cov(z):
    """Coefficient of variation of the latent norms, std(|z_i|) / mean(|z_i|)."""
    z, n, p = _features(z)
    r = _out()
    call(lib.lpc_norm_cov, _arrays.ptr(z, ctypes.c_float), n, p, ctypes.byref(r))
    return r.value


def pearson(x, y):
    """Pearson correlation of two series of the same length (float64)."""
    x = _arrays.floats(x, "x", 1, np.float64)
    y = _arrays.floats(y, "y", 1, np.float64)
    if x.shape != y.shape:
        raise ValueError(f"pearson: x has {x.shape[0]} values, y {y.shape[0]}")
    r = _out()
    call(lib.lpc_pearson, _arrays.ptr(x, ctypes.c_double), _arrays.ptr(y, ctypes.c_double),
                          x.shape[0], ctypes.byref(r))
    return r.value


def ln_unit_ball_volume(d):
    """ln of the volume of the d-dimensional unit ball (NaN for d < 0)."""
    return lib.lpc_ln_unit_ball_volume(_args.c_int(d, "d"))


def kl_entropy(z, k=KL_DEFAULT_K, standardize=False):
    """Kozachenko–Leonenko entropy estimate in nats with k neighbours;
    returns (H, H / P). standardize: each dimension scaled to unit
    population std first."""
    z, n, p = _features(z)
    k = _args.c_int(k, "k")
    standardize = _args.flag(standardize, "standardize")
    h, hp = _out(), _out()
    call(lib.lpc_kl_entropy, _arrays.ptr(z, ctypes.c_float), n, p, k, standardize,
         ctypes.byref(h), ctypes.byref(hp))
    return h.value, hp.value


def gmm1d_fit(x):
    """Two-component 1-D Gaussian mixture (scikit-learn's settings); returns a
    dict with weights, means, variances (arrays of 2) and mean_loglik."""
    x = _arrays.floats(x, "x", 1, np.float64)
    w, m, v = (ctypes.c_double * 2)(), (ctypes.c_double * 2)(), (ctypes.c_double * 2)()
    ll = _out()
    call(lib.lpc_gmm1d_fit, _arrays.ptr(x, ctypes.c_double), x.shape[0], w, m, v,
                            ctypes.byref(ll))
    return {"weights": np.array(w[:]), "means": np.array(m[:]), "variances": np.array(v[:]),
            "mean_loglik": ll.value}


def binarity(z):
    """Appendix-D binarity: per-dimension two-component mixtures of the
    standardised features. Returns a dict with the summary metrics ("l",
    "sigma", "mu", "l_min", "sigma_min", "mu_min") and per-dimension arrays
    ("l_dim", "sigma_dim", "mu_dim")."""
    z, n, p = _features(z)
    h = ctypes.c_void_p()
    call(lib.lpc_binarity_compute, _arrays.ptr(z, ctypes.c_float), n, p, ctypes.byref(h))
    try:
        out = {}
        for key, metric in _BINARITY.items():
            v = _out()
            call(lib.lpc_binarity_get, h, metric, ctypes.byref(v))
            out[key] = v.value
        dims = np.zeros((3, p))
        for j in range(p):
            a, b, c = _out(), _out(), _out()
            call(lib.lpc_binarity_dim, h, j, ctypes.byref(a), ctypes.byref(b), ctypes.byref(c))
            dims[:, j] = a.value, b.value, c.value
        out["l_dim"], out["sigma_dim"], out["mu_dim"] = dims
        return out
    finally:
        lib.lpc_binarity_free(h)


def neural_collapse(z, labels, k=None, weights=None, bias=None, predictions=None, *,
                    _undefined_as_none=False):
    """Neural-collapse metrics (Papyan et al. 2020 and the measures of the
    collapse libraries, doc/analysis.md) with classes by labels. weights
    (K x P) enable nc3, self_duality, uniform_duality and nc4, bias (K)
    enters nc4's argmax, predictions (N) replace that argmax. Returns a dict
    of the metrics that the inputs allow ("nc1", "nc1_weighted", "nc1_svd",
    "nc1_quotient", "cdnv", "equinorm", "equiangularity", "max_angle",
    "etf_error" and, when available, "nc3", "self_duality",
    "uniform_duality", "nc4")."""
    z, n, p = _features(z)
    y = _arrays.labels(labels, "labels", n)
    k = _arrays.num_classes(y, k, "labels")
    w = None if weights is None else _arrays.floats(weights, "weights")
    if w is not None and w.shape != (k, p):
        raise ValueError(f"weights: shape {w.shape}, expected ({k}, {p})")
    b = None if bias is None else _arrays.floats(bias, "bias", 1)
    if b is not None and b.shape != (k,):
        raise ValueError(f"bias: shape {b.shape}, expected ({k},)")
    pred = None if predictions is None else _arrays.labels(predictions, "predictions", n)
    h = ctypes.c_void_p()
    call(lib.lpc_nc_compute, _arrays.ptr(z, ctypes.c_float), n, p,
                             _arrays.ptr(y, ctypes.c_int32), k, _arrays.ptr(w, ctypes.c_float),
                             _arrays.ptr(b, ctypes.c_float), _arrays.ptr(pred, ctypes.c_int32),
                             ctypes.byref(h))
    try:
        out = {}
        for key in _nc_keys(w is not None, pred is not None):
            if _undefined_as_none:
                _metric(out, key, lambda key=key: _nc_get(h, key))
            else:
                out[key] = _nc_get(h, key)
        return out
    finally:
        lib.lpc_nc_free(h)


def _nc_get(h, key):
    v = _out()
    call(lib.lpc_nc_get, h, _NC[key], ctypes.byref(v))
    return v.value


def _metric(out, key, fn):
    """out[key] = fn(), or None with a warning when the library calls the
    metric undefined for the data (LPC_E_NUMERIC), as lpc-analyze prints null."""
    try:
        out[key] = fn()
    except LPCError as e:
        if e.status != LPC_E_NUMERIC:
            raise
        warnings.warn(f"lpc.analyze: {key} is undefined: {e.message}", RuntimeWarning,
                      stacklevel=3)
        out[key] = None


def analyze(z, y, weights=None, logits=None, k=KL_DEFAULT_K, standardize=False):
    """Every metric of lpc-analyze on features z (N x P) with labels y (N):
    the same keys, order and numbers as its JSON output. weights (K x P, the
    classifier) add nc3 and nc4; logits (N x K) give the predictions used by
    sigma_w and nc4; k is the entropy's neighbour count; standardize as
    lpc-analyze --standardize. An undefined metric is None (with a
    RuntimeWarning), as lpc-analyze prints null."""
    z, n, p = _features(z)
    y = _arrays.labels(y, "y", n)
    k = _args.c_int(k, "k")
    standardize = _args.flag(standardize, "standardize")
    if n < 1 or p < 1:
        raise ValueError("z: needs N, P >= 1")
    if y.size and y.min() < 0:
        i = int(np.argmin(y))
        raise error(-1, f"label {int(y[i])} of sample {i} is negative")
    kc = _arrays.num_classes(y, None, "y")
    w = None if weights is None else _arrays.floats(weights, "weights")
    lg = None if logits is None else _arrays.floats(logits, "logits")
    if w is not None and (w.shape[1] != p or w.shape[0] < kc):
        raise ValueError(f"weights: shape {w.shape}, expected (K, {p}) with K >= {kc}")
    if lg is not None and (lg.shape[0] != n or lg.shape[1] < kc or
                           (w is not None and lg.shape[1] != w.shape[0])):
        raise ValueError(f"logits: shape {lg.shape}, expected ({n}, K)")
    if w is not None:
        kc = w.shape[0]
    elif lg is not None:
        kc = lg.shape[1]
    # The first maximum of each row, as lpc-analyze's argmax.
    pred = None if lg is None else np.argmax(lg, axis=1).astype(np.int32)
    out = {}
    _metric(out, "R", lambda: separation_ratio(z, y, kc))
    _metric(out, "sigma_w", lambda: sigma_w(z, y if pred is None else pred, kc))
    _metric(out, "cov_norm", lambda: norm_cov(z))
    try:
        out["entropy"], out["entropy_per_dim"] = kl_entropy(z, k, standardize)
    except LPCError as e:
        if e.status != LPC_E_NUMERIC:
            raise
        warnings.warn(f"lpc.analyze: entropy is undefined: {e.message}", RuntimeWarning,
                      stacklevel=2)
        out["entropy"] = out["entropy_per_dim"] = None
    bkeys = ["l", "sigma", "mu", "l_min", "mu_min"]
    try:
        b = binarity(z)
        for key in bkeys:
            out["gmm_" + key] = b[key]
    except LPCError as e:
        if e.status != LPC_E_NUMERIC:
            raise
        warnings.warn(f"lpc.analyze: binarity is undefined: {e.message}", RuntimeWarning,
                      stacklevel=2)
        for key in bkeys:
            out["gmm_" + key] = None
    nkeys = _nc_keys(w is not None, pred is not None)
    try:
        nc = neural_collapse(z, y, kc, weights=w, predictions=pred, _undefined_as_none=True)
        for key in nkeys:
            out[key] = nc[key]
    except LPCError as e:
        if e.status != LPC_E_NUMERIC:
            raise
        warnings.warn(f"lpc.analyze: neural collapse is undefined: {e.message}",
                      RuntimeWarning, stacklevel=2)
        for key in nkeys:
            out[key] = None
    return out

"""Out-of-distribution detection and the generalized collapse measures of
liblpc (include/lpc/ood.h, the lpc_gnc functions of include/lpc/analysis.h)
on NumPy arrays.

Every score is larger for in-distribution (ID) inputs; the metrics take ID
as the positive class and equal scikit-learn's roc_auc_score,
average_precision_score and the smallest FPR of
roc_curve(drop_intermediate=False) at TPR >= 0.95. Features are N x P,
logits N x K (converted to float32 as the rest of the package does); every
function raises LPCError with the library's status and message when the
library refuses the input. doc/analysis.md has the formulas."""
import ctypes

import numpy as np

from . import _arrays
from ._lib import c_double_p, c_float_p, c_int32_p, check, cint, cstr, dbl, i64, lib, status, vp

SCORES = ("msp", "max_logit", "energy", "mahalanobis", "neco", "vim")
METRICS = ("auroc", "aupr_in", "aupr_out", "fpr95")
GNC = ("log_mean", "log_var", "riesz_mean", "riesz_var", "log_equinorm", "weak_nc1_between",
       "weak_nc1_within")
_LPC_E_STATE = -7


class _Options(ctypes.Structure):
    """lpc_ood_detector_options (fields in the header's order)."""
    _fields_ = [("size", ctypes.c_size_t), ("w", c_float_p), ("b", c_float_p),
                ("temperature", dbl), ("neco_dim", cint), ("neco_standardize", cint),
                ("neco_max_logit", cint), ("vim_dim", cint)]


_SIGNATURES = {
    "lpc_ood_metric_name": (cstr, [cint]),
    "lpc_ood_metric_compute": (status, [c_double_p, i64, c_double_p, i64, cint, c_double_p]),
    "lpc_ood_score_name": (cstr, [cint]),
    "lpc_ood_logit_score": (status, [c_float_p, i64, cint, cint, dbl, c_double_p]),
    "lpc_ood_detector_options_init": (None, [ctypes.POINTER(_Options)]),
    "lpc_ood_detector_new": (status, [c_float_p, i64, cint, c_int32_p, cint,
                                      ctypes.POINTER(_Options), ctypes.POINTER(vp)]),
    "lpc_ood_detector_score": (status, [vp, cint, c_float_p, c_float_p, i64, c_double_p]),
    "lpc_ood_detector_nc5": (status, [vp, c_float_p, i64, c_double_p]),
    "lpc_ood_detector_dim": (cint, [vp]),
    "lpc_ood_detector_classes": (cint, [vp]),
    "lpc_ood_detector_free": (None, [vp]),
    "lpc_gnc_metric_name": (cstr, [cint]),
    "lpc_gnc_compute": (status, [c_float_p, i64, cint, c_int32_p, cint, ctypes.POINTER(vp)]),
    "lpc_gnc_get": (status, [vp, cint, c_double_p]),
    "lpc_gnc_free": (None, [vp]),
}
for _name, (_res, _args) in _SIGNATURES.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args


def _index(name, names, what):
    if name not in names:
        raise ValueError(f"unknown {what} {name!r}; one of {', '.join(names)}")
    return names.index(name)


def _matrix(a, name, cols=None):
    a = _arrays.floats(a, name)
    if cols is not None and a.shape[1] != cols:
        raise ValueError(f"{name}: {a.shape[1]} columns, expected {cols}")
    return a


def ood_metrics(id_scores, ood_scores):
    """AUROC, AUPR-In, AUPR-Out and FPR95 of ID scores against OOD scores
    (1-D arrays, larger = more ID), as a dict."""
    sid = _arrays.floats(id_scores, "id_scores", 1, np.float64)
    sood = _arrays.floats(ood_scores, "ood_scores", 1, np.float64)
    out = {}
    for m, key in enumerate(METRICS):
        v = ctypes.c_double()
        check(lib.lpc_ood_metric_compute(_arrays.ptr(sid, ctypes.c_double), len(sid),
                                         _arrays.ptr(sood, ctypes.c_double), len(sood), m,
                                         ctypes.byref(v)))
        out[key] = v.value
    return out


def logit_scores(logits, score="energy", temperature=1.0):
    """MSP, maximum logit or energy (T log sum exp(l / T)) of N x K logits."""
    lg = _matrix(logits, "logits")
    out = np.empty(lg.shape[0])
    check(lib.lpc_ood_logit_score(_arrays.ptr(lg, ctypes.c_float), lg.shape[0], lg.shape[1],
                                  _index(score, SCORES[:3], "logit score"), float(temperature),
                                  _arrays.ptr(out, ctypes.c_double)))
    return out


def generalized_collapse(z, labels, k=None):
    """GNC2 log and Riesz kernel statistics of the normalised centred class
    means, the log-norm equinorm and weak NC1, as a dict keyed as
    lpc-analyze's "gnc_*" keys without the prefix."""
    z = _matrix(z, "z")
    y = _arrays.labels(labels, "labels", z.shape[0])
    h = vp()
    check(lib.lpc_gnc_compute(_arrays.ptr(z, ctypes.c_float), z.shape[0], z.shape[1],
                              _arrays.ptr(y, ctypes.c_int32), _arrays.num_classes(y, k),
                              ctypes.byref(h)))
    try:
        out = {}
        for m, key in enumerate(GNC):
            v = ctypes.c_double()
            check(lib.lpc_gnc_get(h, m, ctypes.byref(v)))
            out[key] = v.value
        return out
    finally:
        lib.lpc_gnc_free(h)


class OODDetector:
    """Mahalanobis, NECO and ViM state fitted on labelled ID training
    features (lpc_ood_detector_new); w (K x P) and b (K) are the classifier,
    needed by ViM and used for logits when none are given."""

    def __init__(self, z, labels, k=None, w=None, b=None, temperature=1.0, neco_dim=0,
                 neco_standardize=True, neco_max_logit=False, vim_dim=0):
        z = _matrix(z, "z")
        y = _arrays.labels(labels, "labels", z.shape[0])
        k = _arrays.num_classes(y, k)
        self._w = None if w is None else _matrix(w, "w", z.shape[1])
        self._b = None if b is None else _arrays.floats(b, "b", 1)
        o = _Options()
        lib.lpc_ood_detector_options_init(ctypes.byref(o))
        o.w = _arrays.ptr(self._w, ctypes.c_float)
        o.b = _arrays.ptr(self._b, ctypes.c_float)
        o.temperature = float(temperature)
        o.neco_dim = int(neco_dim)
        o.neco_standardize = int(bool(neco_standardize))
        o.neco_max_logit = int(bool(neco_max_logit))
        o.vim_dim = int(vim_dim)
        self._h = vp()
        check(lib.lpc_ood_detector_new(_arrays.ptr(z, ctypes.c_float), z.shape[0], z.shape[1],
                                       _arrays.ptr(y, ctypes.c_int32), k, ctypes.byref(o),
                                       ctypes.byref(self._h)))
        self.dim = lib.lpc_ood_detector_dim(self._h)
        self.classes = lib.lpc_ood_detector_classes(self._h)

    def close(self):
        """Frees the library's detector (also done when the object is collected)."""
        if getattr(self, "_h", None):
            lib.lpc_ood_detector_free(self._h)
            self._h = None

    def __del__(self):
        self.close()

    def score(self, name, z, logits=None):
        """One score ("msp", "max_logit", "energy", "mahalanobis", "neco",
        "vim") of N rows z (N x P), with their logits (N x K) if given."""
        if not self._h:
            raise ValueError("the detector was closed")
        z = _matrix(z, "z", self.dim)
        lg = None if logits is None else _matrix(logits, "logits", self.classes)
        if lg is not None and lg.shape[0] != z.shape[0]:
            raise ValueError(f"logits: {lg.shape[0]} rows for {z.shape[0]} feature rows")
        out = np.empty(z.shape[0])
        check(lib.lpc_ood_detector_score(self._h, _index(name, SCORES, "score"),
                                         _arrays.ptr(z, ctypes.c_float),
                                         _arrays.ptr(lg, ctypes.c_float), z.shape[0],
                                         _arrays.ptr(out, ctypes.c_double)))
        return out

    def nc5(self, z_ood):
        """NC5: mean over classes of |cos(mu_c, mean of the OOD rows)|."""
        if not self._h:
            raise ValueError("the detector was closed")
        z = _matrix(z_ood, "z_ood", self.dim)
        v = ctypes.c_double()
        check(lib.lpc_ood_detector_nc5(self._h, _arrays.ptr(z, ctypes.c_float), z.shape[0],
                                       ctypes.byref(v)))
        return v.value

    def evaluate(self, z_id, z_ood, logits_id=None, logits_ood=None):
        """What lpc-analyze prints in its "ood" object: n_id, n_ood, nc5 and,
        for every score the inputs allow, its metrics."""
        out = {"n_id": len(z_id), "n_ood": len(z_ood), "nc5": self.nc5(z_ood)}
        for name in SCORES:
            try:
                sid = self.score(name, z_id, logits_id)
                sood = self.score(name, z_ood, logits_ood)
            except Exception as e:  # a score these inputs do not allow is left out
                if getattr(e, "status", None) == _LPC_E_STATE:
                    continue
                raise
            out[name] = ood_metrics(sid, sood)
        return out

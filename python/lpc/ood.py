"""Out-of-distribution detection and the generalized collapse measures of
liblpc (include/lpc/ood.h, the lpc_gnc functions of include/lpc/analysis.h)
on NumPy arrays.

Every score is larger for in-distribution (ID) inputs; the metrics take ID
as the positive class and equal scikit-learn's roc_auc_score,
average_precision_score and the smallest FPR of
roc_curve(drop_intermediate=False) at TPR >= 0.95. Features are N x P,
logits N x K (converted to float32 as the rest of the package does), scores
1-D (float64). Every function raises LPCError with the library's status and
message when the library refuses the input (non-finite values, sizes out of
the function's domain, a score the detector cannot give), and TypeError,
ValueError or OverflowError (naming the argument) for values that cannot
reach the library intact. doc/analysis.md has the formulas."""
import ctypes
import warnings

import numpy as np

from . import _args, _arrays
from ._owner import Owner
from ._lib import LPC_E_NUMERIC, LPC_E_STATE, LPCError, call, error, lib

SCORES = ("msp", "max_logit", "energy", "mahalanobis", "neco", "vim")
LOGIT_SCORES = SCORES[:3]
METRICS = ("auroc", "aupr_in", "aupr_out", "fpr95")
GNC = ("log_mean", "log_var", "riesz_mean", "riesz_var", "log_equinorm", "weak_nc1_between",
       "weak_nc1_within")

_f32p = ctypes.POINTER(ctypes.c_float)
_f64p = ctypes.POINTER(ctypes.c_double)
_i32p = ctypes.POINTER(ctypes.c_int32)
_vp = ctypes.c_void_p
_i64, _int, _dbl, _status = ctypes.c_int64, ctypes.c_int, ctypes.c_double, ctypes.c_int


class _Options(ctypes.Structure):
    """lpc_ood_detector_options (fields in the header's order)."""
    _fields_ = [("size", ctypes.c_size_t), ("w", _f32p), ("b", _f32p),
                ("temperature", _dbl), ("neco_dim", _int), ("neco_standardize", _int),
                ("neco_max_logit", _int), ("vim_dim", _int)]


_SIGNATURES = {
    "lpc_ood_metric_compute": (_status, [_f64p, _i64, _f64p, _i64, _int, _f64p]),
    "lpc_ood_logit_score": (_status, [_f32p, _i64, _int, _int, _dbl, _f64p]),
    "lpc_ood_detector_options_init": (None, [ctypes.POINTER(_Options)]),
    "lpc_ood_detector_new": (_status, [ctypes.POINTER(_arrays.Samples), _int,
                                       ctypes.POINTER(_Options), ctypes.POINTER(_vp)]),
    "lpc_ood_detector_score": (_status, [_vp, _int, _f32p, _f32p, _i64, _f64p]),
    "lpc_ood_detector_nc5": (_status, [_vp, _f32p, _i64, _f64p]),
    "lpc_ood_detector_dim": (_int, [_vp]),
    "lpc_ood_detector_classes": (_int, [_vp]),
    "lpc_ood_detector_free": (None, [_vp]),
    "lpc_gnc_compute": (_status, [_f32p, _i64, _int, _i32p, _int, ctypes.POINTER(_vp)]),
    "lpc_gnc_get": (_status, [_vp, _int, _f64p]),
    "lpc_gnc_free": (None, [_vp]),
}
for _name, (_res, _types) in _SIGNATURES.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _types


def _choice(value, names, what):
    """The index of value (a str) in names; ValueError naming the choices."""
    if not isinstance(value, str) or value not in names:
        raise ValueError(f"{what}: one of {', '.join(names)}, got {value!r}")
    return names.index(value)


def _matrix(a, name, cols=None, rows=None):
    """a as a C-contiguous float32 2-D array whose column count fits a C int
    (and equals cols, and its row count rows, when given)."""
    a = _arrays.floats(a, name)
    n, p = a.shape
    _args.c_int(p, f"{name}: the number of columns")
    if cols is not None and p != cols:
        raise ValueError(f"{name}: {p} columns, expected {cols}")
    if rows is not None and n != rows:
        raise ValueError(f"{name}: {n} rows for {rows} feature rows")
    return a


def _scores(a, name):
    return _arrays.floats(a, name, 1, np.float64)


def _f32(a):
    return _arrays.ptr(a, ctypes.c_float)


def _metrics(sid, sood):
    out = {}
    for m, key in enumerate(METRICS):
        v = ctypes.c_double()
        call(lib.lpc_ood_metric_compute, _arrays.ptr(sid, ctypes.c_double), sid.shape[0],
             _arrays.ptr(sood, ctypes.c_double), sood.shape[0], m, ctypes.byref(v))
        out[key] = v.value
    return out


def ood_metrics(id_scores, ood_scores):
    """AUROC, AUPR-In, AUPR-Out and FPR95 of ID scores against OOD scores
    (1-D arrays of at least one finite value each, larger = more ID), as a
    dict."""
    return _metrics(_scores(id_scores, "id_scores"), _scores(ood_scores, "ood_scores"))


def logit_scores(logits, score="energy", temperature=1.0):
    """MSP, maximum logit or energy (T log sum exp(l / T)) of N x K logits
    at temperature T > 0 (finite); a float64 array of N scores."""
    lg = _matrix(logits, "logits")
    s = _choice(score, LOGIT_SCORES, "score")
    t = _args.real(temperature, "temperature")
    out = np.empty(lg.shape[0])
    call(lib.lpc_ood_logit_score, _f32(lg), lg.shape[0], lg.shape[1], s, t,
         _arrays.ptr(out, ctypes.c_double))
    return out


def generalized_collapse(z, labels, k=None):
    """GNC2 log and Riesz kernel statistics of the normalised centred class
    means, the log-norm equinorm and weak NC1, as a dict keyed as
    lpc-analyze's "gnc_*" keys without the prefix. k (>= 2, every class
    present) defaults to the largest label + 1."""
    z = _matrix(z, "z")
    y = _arrays.labels(labels, "labels", z.shape[0])
    k = _arrays.num_classes(y, k, "labels")
    h = ctypes.c_void_p()
    call(lib.lpc_gnc_compute, _f32(z), z.shape[0], z.shape[1], _arrays.ptr(y, ctypes.c_int32),
         k, ctypes.byref(h))
    try:
        out = {}
        for m, key in enumerate(GNC):
            v = ctypes.c_double()
            call(lib.lpc_gnc_get, h, m, ctypes.byref(v))
            out[key] = v.value
        return out
    finally:
        lib.lpc_gnc_free(h)


def _finite(a, name, who):
    """LPCError LPC_E_NUMERIC naming the first non-finite entry of a (2-D or None)."""
    if a is not None and not np.isfinite(a).all():
        i, j = np.argwhere(~np.isfinite(a))[0]
        raise error(LPC_E_NUMERIC, f"{who}: {name} [{i}, {j}] is not finite")


def _undefined(what, e):
    """None for a result the library calls undefined (LPC_E_NUMERIC), with a
    warning, as lpc-analyze prints null; other errors propagate."""
    if e.status != LPC_E_NUMERIC:
        raise e
    warnings.warn(f"lpc.OODDetector.evaluate: {what} is undefined: {e.message}",
                  RuntimeWarning, stacklevel=3)


class OODDetector(Owner):
    """Mahalanobis, NECO and ViM state fitted on labelled ID training
    features z (N x P) with labels in [0, k) (lpc_ood_detector_new); w
    (K x P) and b (K) are the classifier, needed by ViM and used for the
    logits when none are given (both are copied). k defaults to the largest
    label + 1.

    Attributes: ``dim`` (P) and ``classes`` (K). Thread-safe: the methods of
    one detector take its lock, so threads sharing it run one after the
    other (distinct detectors run in parallel). After close() every method
    raises ValueError."""

    def __init__(self, z, labels, k=None, w=None, b=None, temperature=1.0, neco_dim=0,
                 neco_standardize=True, neco_max_logit=False, vim_dim=0):
        Owner.__init__(self)
        self._h = None
        z = _matrix(z, "z")
        n, p = z.shape
        y = _arrays.labels(labels, "labels", n)
        k = _arrays.num_classes(y, k, "labels")
        w = None if w is None else _matrix(w, "w", p)
        if w is not None and w.shape[0] != k:
            raise ValueError(f"w: {w.shape[0]} rows for {k} classes")
        if b is not None:
            b = _arrays.floats(b, "b", 1)
            if w is None:
                raise ValueError("b: needs w (the bias of the classifier W z + b)")
            if b.shape[0] != k:
                raise ValueError(f"b: {b.shape[0]} entries for {k} classes")
        o = _Options()
        lib.lpc_ood_detector_options_init(ctypes.byref(o))
        o.w = _f32(w)
        o.b = _f32(b)
        o.temperature = _args.real(temperature, "temperature")
        o.neco_dim = _args.c_int(neco_dim, "neco_dim")
        o.neco_standardize = _args.flag(neco_standardize, "neco_standardize")
        o.neco_max_logit = _args.flag(neco_max_logit, "neco_max_logit")
        o.vim_dim = _args.c_int(vim_dim, "vim_dim")
        h = ctypes.c_void_p()
        view = _arrays.samples(_f32(z), n, p, 1, 1, _arrays.ptr(y, ctypes.c_int32))
        call(lib.lpc_ood_detector_new, ctypes.byref(view), k, ctypes.byref(o), ctypes.byref(h))
        self._h = h
        self.dim = lib.lpc_ood_detector_dim(h)
        self.classes = lib.lpc_ood_detector_classes(h)

    def _inputs(self, z, logits, zname="z", lname="logits"):
        z = _matrix(z, zname, self.dim)
        lg = None if logits is None else _matrix(logits, lname, self.classes, z.shape[0])
        return z, lg

    def _score(self, s, z, lg):
        out = np.empty(z.shape[0])
        call(lib.lpc_ood_detector_score, self._h, s, _f32(z), _f32(lg), z.shape[0],
             _arrays.ptr(out, ctypes.c_double))
        return out

    def _nc5(self, z):
        v = ctypes.c_double()
        call(lib.lpc_ood_detector_nc5, self._h, _f32(z), z.shape[0], ctypes.byref(v))
        return v.value

    def score(self, name, z, logits=None):
        """One score ("msp", "max_logit", "energy", "mahalanobis", "neco",
        "vim") of N >= 1 rows z (N x dim), with their logits (N x classes)
        if given; a float64 array of N scores. LPCError LPC_E_STATE when the
        detector lacks what the score needs (the classifier or logits),
        LPC_E_NUMERIC when the score is undefined."""
        s = _choice(name, SCORES, "score")
        z, lg = self._inputs(z, logits)
        with self._lock:
            self._live("score")
            return self._score(s, z, lg)

    def nc5(self, z_ood):
        """NC5: mean over classes of |cos(mu_c, mean of the N >= 1 OOD rows)|."""
        z = _matrix(z_ood, "z_ood", self.dim)
        with self._lock:
            self._live("nc5")
            return self._nc5(z)

    def evaluate(self, z_id, z_ood, logits_id=None, logits_ood=None):
        """What lpc-analyze prints in its "ood" object: n_id, n_ood, nc5 and,
        for every score the inputs allow (LPC_E_STATE leaves it out), its
        metrics. A value the library calls undefined for the data
        (LPC_E_NUMERIC) is None with a RuntimeWarning, as lpc-analyze prints
        null; a non-finite input is LPCError LPC_E_NUMERIC."""
        zi, li = self._inputs(z_id, logits_id, "z_id", "logits_id")
        zo, lo = self._inputs(z_ood, logits_ood, "z_ood", "logits_ood")
        for a, name in ((zi, "z_id"), (li, "logits_id"), (zo, "z_ood"), (lo, "logits_ood")):
            _finite(a, name, "lpc.OODDetector.evaluate")
        out = {"n_id": zi.shape[0], "n_ood": zo.shape[0]}
        with self._lock:
            self._live("evaluate")
            try:
                out["nc5"] = self._nc5(zo)
            except LPCError as e:
                out["nc5"] = _undefined("nc5", e)
            for s, name in enumerate(SCORES):
                try:
                    sid, sood = self._score(s, zi, li), self._score(s, zo, lo)
                except LPCError as e:
                    if e.status == LPC_E_STATE:
                        continue
                    out[name] = _undefined(name, e)
                    continue
                out[name] = _metrics(sid, sood)
        return out

    def _release(self):
        if self._h:
            lib.lpc_ood_detector_free(self._h)
            self._h = None

    @property
    def closed(self):
        """Whether close() was called."""
        return self._h is None


__all__ = ["OODDetector", "generalized_collapse", "logit_scores", "ood_metrics", "SCORES",
           "LOGIT_SCORES", "METRICS", "GNC"]

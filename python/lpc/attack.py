"""Adversarial attacks of include/lpc/attack.h on a ``lpc.Model``: the Fast
Minimum-Norm attack (``fmn``), projected gradient descent (``pgd``), the
gradient-free ``random_search`` and the gradient-masking ``checks``.

Inputs are the model's (normalised) float32 batches. ``mean`` and ``std``
(one value per channel) switch to the pixel domain: the attack moves pixels
x * std + mean within [0,1] and measures norms and radii in pixel units;
without them the perturbation lives in the model's input space, unbounded.
See doc/robustness.md."""
import ctypes

import numpy as np

from . import _arrays
from ._lib import call, lib

_NORMS = {"l2": 0, "linf": 1}
_LOSSES = {"cross-entropy": 0, "margin": 1}
_SCHEDULES = {"constant": 0, "cosine": 1}
_PIXEL_BOX = 1
_F = ctypes.POINTER(ctypes.c_float)
_D = ctypes.POINTER(ctypes.c_double)
_U8 = ctypes.POINTER(ctypes.c_ubyte)


class _FmnOptions(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("norm", ctypes.c_int), ("steps", ctypes.c_int),
                ("max_step", ctypes.c_double), ("min_step", ctypes.c_double),
                ("gamma", ctypes.c_double), ("domain", ctypes.c_int),
                ("mean", _F), ("std", _F)]


class _PgdOptions(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("norm", ctypes.c_int), ("steps", ctypes.c_int),
                ("restarts", ctypes.c_int), ("step_fraction", ctypes.c_double),
                ("schedule", ctypes.c_int), ("loss", ctypes.c_int),
                ("random_start", ctypes.c_int), ("seed", ctypes.c_uint64),
                ("domain", ctypes.c_int), ("mean", _F), ("std", _F)]


class _RandomSearchOptions(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("norm", ctypes.c_int), ("queries", ctypes.c_int),
                ("p_init", ctypes.c_double), ("seed", ctypes.c_uint64),
                ("domain", ctypes.c_int), ("mean", _F), ("std", _F)]


class _ChecksOptions(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("norm", ctypes.c_int), ("radius", ctypes.c_double),
                ("steps", ctypes.c_int), ("restarts", ctypes.c_int), ("queries", ctypes.c_int),
                ("acc_tolerance", ctypes.c_double), ("norm_tolerance", ctypes.c_double),
                ("seed", ctypes.c_uint64), ("domain", ctypes.c_int), ("mean", _F), ("std", _F)]


class _FmnOutputs(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("r", _F), ("norms", _D), ("ratios", _D),
                ("success", _U8)]


class _PgdOutputs(ctypes.Structure):
    """lpc_pgd_outputs, also random search's."""
    _fields_ = [("size", ctypes.c_size_t), ("success", _U8), ("robust_accuracy", _D)]


CHECKS = ("unbounded-pgd", "pgd-converged", "fmn-vs-deepfool", "black-box-weaker")
_vp, _i64, _int = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
lib.lpc_fmn_options_init.restype = None
lib.lpc_fmn_options_init.argtypes = [ctypes.POINTER(_FmnOptions)]
lib.lpc_fmn.restype = _int
_SAMPLES = ctypes.POINTER(_arrays.Samples)
lib.lpc_fmn.argtypes = [_vp, _SAMPLES, ctypes.POINTER(_FmnOptions), ctypes.POINTER(_FmnOutputs)]
lib.lpc_pgd_options_init.restype = None
lib.lpc_pgd_options_init.argtypes = [ctypes.POINTER(_PgdOptions)]
lib.lpc_pgd.restype = _int
lib.lpc_pgd.argtypes = [_vp, _SAMPLES, _D, _int, ctypes.POINTER(_PgdOptions),
                        ctypes.POINTER(_PgdOutputs)]
lib.lpc_random_search_options_init.restype = None
lib.lpc_random_search_options_init.argtypes = [ctypes.POINTER(_RandomSearchOptions)]
lib.lpc_random_search.restype = _int
lib.lpc_random_search.argtypes = [_vp, _SAMPLES, _D, _int, ctypes.POINTER(_RandomSearchOptions),
                                  ctypes.POINTER(_PgdOutputs)]
lib.lpc_attack_checks_options_init.restype = None
lib.lpc_attack_checks_options_init.argtypes = [ctypes.POINTER(_ChecksOptions)]
lib.lpc_attack_checks.restype = _int
lib.lpc_attack_checks.argtypes = [_vp, _SAMPLES, ctypes.POINTER(_ChecksOptions),
                                  ctypes.POINTER(ctypes.c_uint), _D]


def _choice(table, value, what):
    if value not in table:
        raise ValueError(f"{what}: expected one of {sorted(table)}, got {value!r}")
    return table[value]


def _domain(opt, mean, std, c):
    """Sets the pixel domain on opt when mean and std are given; returns the
    arrays to keep alive during the call."""
    if mean is None and std is None:
        return ()
    if mean is None or std is None:
        raise ValueError("mean and std: give both (the pixel domain) or neither")
    m = np.ascontiguousarray(np.broadcast_to(np.asarray(mean, np.float32), (c,)))
    s = np.ascontiguousarray(np.broadcast_to(np.asarray(std, np.float32), (c,)))
    opt.domain = _PIXEL_BOX
    opt.mean = m.ctypes.data_as(_F)
    opt.std = s.ctypes.data_as(_F)
    return m, s


def _shape(model, x, labels):
    x = model._input(x)
    n = x.shape[0]
    c, h, w = (x.shape[1], 1, 1) if x.ndim == 2 else x.shape[1:]
    y = None if labels is None else np.ascontiguousarray(
        _arrays.labels(labels, "labels", n), np.int32)
    yp = None if y is None else y.ctypes.data_as(ctypes.POINTER(ctypes.c_int32))
    return x, n, c, h, w, y, yp


def _view(x, n, c, h, w, yp):
    return _arrays.samples(x.ctypes.data_as(_F), n, c, h, w, yp)


def fmn(model, x, labels=None, norm="l2", steps=100, max_step=1.0, min_step=None, gamma=0.05,
        mean=None, std=None):
    """lpc_fmn: a dict with "norms" (INFINITY where no adversarial point was
    found), "ratios" (norms / |x| in the same norm), "success" (bool) and
    "r" (perturbations in the model's input space), one row per sample.
    labels: the classes to move away from (default: the predictions)."""
    x, n, c, h, w, y, yp = _shape(model, x, labels)
    opt = _FmnOptions()
    lib.lpc_fmn_options_init(ctypes.byref(opt))
    opt.norm = _choice(_NORMS, norm, "norm")
    opt.steps = int(steps)
    opt.max_step = float(max_step)
    opt.min_step = float(max_step) / 100 if min_step is None else float(min_step)
    opt.gamma = float(gamma)
    keep = _domain(opt, mean, std, c)
    r = np.empty(x.shape, np.float32)
    norms = np.empty(n, np.float64)
    ratios = np.empty(n, np.float64)
    ok = np.empty(n, np.uint8)
    out = _FmnOutputs(ctypes.sizeof(_FmnOutputs), r.ctypes.data_as(_F), norms.ctypes.data_as(_D),
                      ratios.ctypes.data_as(_D), ok.ctypes.data_as(_U8))
    call(lib.lpc_fmn, model._net, ctypes.byref(_view(x, n, c, h, w, yp)), ctypes.byref(opt),
         ctypes.byref(out))
    del keep, y
    return {"norms": norms, "ratios": ratios, "success": ok.astype(bool), "r": r}


def pgd(model, x, radii, labels=None, norm="linf", steps=50, restarts=1, step_fraction=0.0,
        schedule="constant", loss="cross-entropy", random_start=True, seed=0, mean=None,
        std=None):
    """lpc_pgd: (robust accuracy per radius, success n x radii as bool).
    step_fraction 0 means Madry et al.'s 2.5 / steps."""
    x, n, c, h, w, y, yp = _shape(model, x, labels)
    rad = np.ascontiguousarray(np.atleast_1d(np.asarray(radii, np.float64)))
    opt = _PgdOptions()
    lib.lpc_pgd_options_init(ctypes.byref(opt))
    opt.norm = _choice(_NORMS, norm, "norm")
    opt.steps = int(steps)
    opt.restarts = int(restarts)
    opt.step_fraction = float(step_fraction)
    opt.schedule = _choice(_SCHEDULES, schedule, "schedule")
    opt.loss = _choice(_LOSSES, loss, "loss")
    opt.random_start = int(bool(random_start))
    opt.seed = int(seed)
    keep = _domain(opt, mean, std, c)
    acc = np.empty(len(rad), np.float64)
    ok = np.empty((n, len(rad)), np.uint8)
    out = _PgdOutputs(ctypes.sizeof(_PgdOutputs), ok.ctypes.data_as(_U8), acc.ctypes.data_as(_D))
    call(lib.lpc_pgd, model._net, ctypes.byref(_view(x, n, c, h, w, yp)), rad.ctypes.data_as(_D),
         len(rad), ctypes.byref(opt), ctypes.byref(out))
    del keep, y
    return acc, ok.astype(bool)


def random_search(model, x, radii, labels=None, norm="linf", queries=1000, p_init=0.0, seed=0,
                  mean=None, std=None):
    """lpc_random_search: (robust accuracy per radius, success n x radii as
    bool). p_init 0 means Square Attack's 0.05 (Linf) or 0.1 (L2)."""
    x, n, c, h, w, y, yp = _shape(model, x, labels)
    rad = np.ascontiguousarray(np.atleast_1d(np.asarray(radii, np.float64)))
    opt = _RandomSearchOptions()
    lib.lpc_random_search_options_init(ctypes.byref(opt))
    opt.norm = _choice(_NORMS, norm, "norm")
    opt.queries = int(queries)
    opt.p_init = float(p_init)
    opt.seed = int(seed)
    keep = _domain(opt, mean, std, c)
    acc = np.empty(len(rad), np.float64)
    ok = np.empty((n, len(rad)), np.uint8)
    out = _PgdOutputs(ctypes.sizeof(_PgdOutputs), ok.ctypes.data_as(_U8), acc.ctypes.data_as(_D))
    call(lib.lpc_random_search, model._net, ctypes.byref(_view(x, n, c, h, w, yp)),
         rad.ctypes.data_as(_D), len(rad), ctypes.byref(opt), ctypes.byref(out))
    del keep, y
    return acc, ok.astype(bool)


def checks(model, x, radius, labels=None, norm="linf", steps=50, restarts=1, queries=1000,
           acc_tolerance=0.02, norm_tolerance=0.05, seed=0, mean=None, std=None):
    """lpc_attack_checks: {check name: (passed, value)} for the names in
    CHECKS (see doc/robustness.md)."""
    x, n, c, h, w, y, yp = _shape(model, x, labels)
    opt = _ChecksOptions()
    lib.lpc_attack_checks_options_init(ctypes.byref(opt))
    opt.norm = _choice(_NORMS, norm, "norm")
    opt.radius = float(radius)
    opt.steps, opt.restarts, opt.queries = int(steps), int(restarts), int(queries)
    opt.acc_tolerance, opt.norm_tolerance = float(acc_tolerance), float(norm_tolerance)
    opt.seed = int(seed)
    keep = _domain(opt, mean, std, c)
    passed = ctypes.c_uint()
    values = np.empty(len(CHECKS), np.float64)
    call(lib.lpc_attack_checks, model._net, ctypes.byref(_view(x, n, c, h, w, yp)),
         ctypes.byref(opt), ctypes.byref(passed), values.ctypes.data_as(_D))
    del keep, y
    return {name: (bool(passed.value >> i & 1), float(values[i]))
            for i, name in enumerate(CHECKS)}

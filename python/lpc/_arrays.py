"""NumPy arrays in and out of liblpc.

An array that already is C-contiguous with the dtype the library reads is
passed by pointer (no copy). Other numeric arrays are converted (a copy):
Fortran-ordered or strided arrays, float64 features, int64 labels. Values
that the conversion would change (floats beyond float32's range, labels
beyond int32) and arrays that cannot mean numbers (objects, strings,
complex numbers, booleans as features) raise TypeError or ValueError with a
message, never reach the library as garbage."""
import ctypes

import numpy as np

from . import _args

_F32_MAX = float(np.finfo(np.float32).max)


def _array(a, name):
    if isinstance(a, np.ndarray):
        return a
    try:
        return np.asarray(a)
    except Exception as e:  # ragged lists and the like
        raise TypeError(f"{name}: not convertible to a NumPy array ({e})") from None


def _shape(a, name, ndim):
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {a.shape}")


def floats(a, name, ndim=2, dtype=np.float32):
    """a as a C-contiguous float32 (or float64) array of ndim dimensions."""
    a = _array(a, name)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{name}: needs real numbers, got dtype {a.dtype}")
    _shape(a, name, ndim)
    if a.dtype == dtype and a.flags.c_contiguous and a.flags.aligned:
        return a
    if dtype == np.float32 and a.dtype.kind == "f" and a.dtype.itemsize > 4 and a.size:
        big = np.abs(a[np.isfinite(a)]).max(initial=0.0)
        if big > _F32_MAX:
            raise ValueError(f"{name}: value {big!r} is beyond float32's range")
    return np.ascontiguousarray(a, dtype=dtype)


def labels(a, name, n=None):
    """a as a C-contiguous int32 vector (of n entries when n is given)."""
    a = _array(a, name)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name}: needs integer labels, got dtype {a.dtype}")
    _shape(a, name, 1)
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name}: {a.shape[0]} entries for {n} samples")
    if a.dtype == np.int32 and a.flags.c_contiguous and a.flags.aligned:
        return a
    if a.size and (a.min() < -2**31 or a.max() >= 2**31):
        raise ValueError(f"{name}: values beyond int32")
    return np.ascontiguousarray(a, dtype=np.int32)


def num_classes(y, k, name):
    """k (a C int), or the largest label of y (the argument name) + 1 when k
    is None."""
    if k is not None:
        return _args.c_int(k, "k")
    k = int(y.max()) + 1 if y.size else 0
    if k > _args.INT_MAX:
        raise OverflowError(f"{name}: the largest label {k - 1} makes {k} classes, "
                            f"more than a C int holds; give k or smaller labels")
    return k


def ptr(a, ctype):
    """Pointer to the data of a (None for None)."""
    if a is None:
        return None
    return a.ctypes.data_as(ctypes.POINTER(ctype))


class Samples(ctypes.Structure):
    """lpc_samples (include/lpc/samples.h): a borrowed view of n samples of
    shape c x h x w and their optional labels; the arrays behind the
    pointers must outlive the call that reads it."""
    _fields_ = [("size", ctypes.c_size_t), ("x", ctypes.POINTER(ctypes.c_float)),
                ("n", ctypes.c_int64), ("c", ctypes.c_int), ("h", ctypes.c_int),
                ("w", ctypes.c_int), ("labels", ctypes.POINTER(ctypes.c_int32))]


def samples(x, n, c, h, w, labels=None):
    """An lpc_samples view of the float pointer x and the int32 pointer labels
    (None: no labels)."""
    return Samples(ctypes.sizeof(Samples), x, n, c, h, w, labels)

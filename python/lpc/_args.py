"""Checking the Python values that cross into C.

ctypes keeps the low bits of a Python int that does not fit the C type
(2**32 + 4 arrives as 4), turns True into 1 and cuts a string at its first
NUL byte. Every value the package hands to liblpc goes through one of these
helpers first, which refuse such values with an exception naming the
argument and the value:

- TypeError: not an integer (bools and floats included), not a real number,
  not a string or path;
- OverflowError: an integer beyond the range of the C type;
- ValueError: within the C type but outside what the argument means (a
  batch size of 0), NaN or infinity where a finite number is needed, a NUL
  byte in a string.

Files the package opens itself go through ``open_regular``, which refuses
what is not a regular file (a FIFO would block the open forever) as liblpc
does, with LPCError LPC_E_IO."""
import math
import operator
import os
import stat

import numpy as np

from ._lib import LPC_E_IO, LPCError

INT_MIN, INT_MAX = -2**31, 2**31 - 1
UINT_MAX = 2**32 - 1
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1
UINT64_MAX = 2**64 - 1


def _integer(value, name):
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: needs an integer, got {value!r} (a bool)")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: needs an integer, got {value!r} "
                        f"({type(value).__name__})") from None


def _ranged(value, name, ctype, cmin, cmax, lo, hi):
    v = _integer(value, name)
    if not cmin <= v <= cmax:
        raise OverflowError(f"{name}: {v} does not fit a C {ctype} ({cmin}..{cmax})")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        bounds = (f"in {lo}..{hi}" if lo is not None and hi is not None
                  else f">= {lo}" if lo is not None else f"<= {hi}")
        raise ValueError(f"{name}: {v} is not {bounds}")
    return v


def c_int(value, name, lo=None, hi=None):
    """value as a Python int that fits a C int (and lo <= value <= hi)."""
    return _ranged(value, name, "int", INT_MIN, INT_MAX, lo, hi)


def c_uint(value, name, lo=None, hi=None):
    """value as a Python int that fits a C unsigned int."""
    return _ranged(value, name, "unsigned int", 0, UINT_MAX, lo, hi)


def c_int64(value, name, lo=None, hi=None):
    """value as a Python int that fits an int64_t."""
    return _ranged(value, name, "int64_t", INT64_MIN, INT64_MAX, lo, hi)


def c_uint64(value, name, lo=None, hi=None):
    """value as a Python int that fits a uint64_t."""
    return _ranged(value, name, "uint64_t", 0, UINT64_MAX, lo, hi)


def real(value, name, finite=True):
    """value as a Python float (a C double); NaN and infinities are refused
    unless finite is False. Bools are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                     np.floating)):
        raise TypeError(f"{name}: needs a real number, got {value!r} "
                        f"({type(value).__name__})")
    try:
        v = float(value)
    except OverflowError:
        raise OverflowError(f"{name}: {value} does not fit a C double") from None
    if finite and not math.isfinite(v):
        raise ValueError(f"{name}: needs a finite number, got {v!r}")
    return v


def flag(value, name):
    """value as 0 or 1: a bool, or the integers 0 and 1."""
    if isinstance(value, (bool, np.bool_)):
        return int(bool(value))
    try:
        v = operator.index(value)
    except TypeError:
        v = None
    if v not in (0, 1):
        raise TypeError(f"{name}: needs True or False, got {value!r}")
    return v


def c_string(value, name, optional=False):
    """A str as NUL-terminated UTF-8 bytes (None stays None when optional)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name}: needs a str, got {type(value).__name__}")
    if "\0" in value:
        raise ValueError(f"{name}: contains a NUL byte: {value!r}")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"{name}: not encodable as UTF-8 ({e})") from None


def c_path(value, name="path"):
    """A file name (str, bytes or os.PathLike) as the bytes the OS sees."""
    try:
        p = os.fsencode(os.fspath(value))
    except TypeError:
        raise TypeError(f"{name}: needs a str, bytes or os.PathLike, got "
                        f"{type(value).__name__}") from None
    if not p:
        raise ValueError(f"{name}: empty")
    if b"\0" in p:
        raise ValueError(f"{name}: contains a NUL byte: {value!r}")
    return p


def _kind(mode):
    return ("a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file")


def open_regular(path, who):
    """The regular file at path (from c_path) opened for reading in binary;
    LPCError LPC_E_IO when it cannot be opened or is not a regular file.
    O_NONBLOCK keeps the open of a FIFO from waiting for a writer."""
    shown = os.fsdecode(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise LPCError(LPC_E_IO, "LPC_E_IO", f"{who}: {shown}: cannot open: {e.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise LPCError(LPC_E_IO, "LPC_E_IO",
                           f"{who}: {shown}: not a regular file ({_kind(mode)})")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise

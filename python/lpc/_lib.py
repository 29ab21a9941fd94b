"""Loading liblpc.so and declaring the C functions the package calls.

The library is looked up, in order, at the path in the environment variable
LPC_LIBRARY, at the path recorded when the package was installed next to the
library (``_paths.LIBRARY``), and by the dynamic loader's search
(``liblpc.so.0``)."""
import ctypes
import os

try:
    from . import _paths
except ImportError:  # running from the source tree
    _paths = None


class LPCError(Exception):
    """A liblpc call failed.

    Attributes: ``status`` (the lpc_status value, e.g. -1), ``name`` (its
    name, e.g. ``"LPC_E_ARG"``) and ``message`` (lpc_last_error(): what and
    where)."""

    def __init__(self, status, name, message):
        super().__init__(f"{name}: {message}")
        self.status = status
        self.name = name
        self.message = message


def _candidates():
    env = os.environ.get("LPC_LIBRARY")
    if env:
        return [env]
    found = []
    if _paths is not None and os.path.exists(_paths.LIBRARY):
        found.append(_paths.LIBRARY)
    return found + ["liblpc.so.0"]


def _load():
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise ImportError("lpc: cannot load liblpc (set LPC_LIBRARY to the path of liblpc.so): "
                      + "; ".join(errors))


lib = _load()

c_float_p = ctypes.POINTER(ctypes.c_float)
c_double_p = ctypes.POINTER(ctypes.c_double)
c_int32_p = ctypes.POINTER(ctypes.c_int32)
c_int_p = ctypes.POINTER(ctypes.c_int)
c_int64_p = ctypes.POINTER(ctypes.c_int64)
vp = ctypes.c_void_p
i64 = ctypes.c_int64
cint = ctypes.c_int
dbl = ctypes.c_double
cstr = ctypes.c_char_p
status = ctypes.c_int

_SIGNATURES = {
    # status and version
    "lpc_status_name": (cstr, [cint]),
    "lpc_strerror": (cstr, [cint]),
    "lpc_last_error": (cstr, []),
    "lpc_clear_error": (None, []),
    "lpc_version_string": (cstr, []),
    "lpc_set_num_threads": (status, [cint]),
    "lpc_get_num_threads": (cint, []),
    # analysis.h
    "lpc_separation_ratio": (status, [c_float_p, i64, cint, c_int32_p, cint, c_double_p]),
    "lpc_sigma_w": (status, [c_float_p, i64, cint, c_int32_p, cint, c_double_p]),
    "lpc_norm_cov": (status, [c_float_p, i64, cint, c_double_p]),
    "lpc_pearson": (status, [c_double_p, c_double_p, i64, c_double_p]),
    "lpc_ln_unit_ball_volume": (dbl, [cint]),
    "lpc_kl_entropy": (status, [c_float_p, i64, cint, cint, ctypes.c_uint, c_double_p,
                                c_double_p]),
    "lpc_gmm1d_fit": (status, [c_double_p, i64, c_double_p, c_double_p, c_double_p,
                               c_double_p]),
    "lpc_binarity_compute": (status, [c_float_p, i64, cint, ctypes.POINTER(vp)]),
    "lpc_binarity_get": (status, [vp, cint, c_double_p]),
    "lpc_binarity_dim": (status, [vp, cint, c_double_p, c_double_p, c_double_p]),
    "lpc_binarity_free": (None, [vp]),
    "lpc_nc_compute": (status, [c_float_p, i64, cint, c_int32_p, cint, c_float_p, c_float_p,
                                c_int32_p, ctypes.POINTER(vp)]),
    "lpc_nc_get": (status, [vp, cint, c_double_p]),
    "lpc_nc_free": (None, [vp]),
    # tensors, contexts, modules
    "lpc_ctx_new": (vp, []),
    "lpc_ctx_free": (None, [vp]),
    "lpc_ctx_reset": (None, [vp]),
    "lpc_ctx_status": (status, [vp]),
    "lpc_ctx_error": (cstr, [vp]),
    "lpc_ctx_set_grad": (status, [vp, cint]),
    "lpc_tensor_from": (vp, [vp, cint, c_int64_p, c_float_p, i64]),
    "lpc_tensor_ndim": (cint, [vp]),
    "lpc_tensor_dim": (i64, [vp, cint]),
    "lpc_tensor_numel": (i64, [vp]),
    "lpc_tensor_data": (c_float_p, [vp]),
    "lpc_tensor_cdata": (c_float_p, [vp]),
    "lpc_rng_new": (vp, [ctypes.c_uint64]),
    "lpc_rng_free": (None, [vp]),
    "lpc_module_forward": (vp, [vp, vp, vp]),
    "lpc_module_forward_collect": (vp, [vp, vp, vp, cint, ctypes.POINTER(ctypes.c_char_p),
                                        ctypes.POINTER(vp)]),
    "lpc_module_set_train": (status, [vp, cint]),
    "lpc_module_num_params": (cint, [vp]),
    "lpc_module_param": (vp, [vp, cint]),
    "lpc_module_param_name": (cstr, [vp, cint]),
    "lpc_module_num_buffers": (cint, [vp]),
    "lpc_module_buffer": (vp, [vp, cint]),
    "lpc_module_buffer_name": (cstr, [vp, cint]),
    "lpc_module_find": (vp, [vp, cstr]),
    "lpc_module_free": (None, [vp]),
    "lpc_linear_new": (vp, [i64, i64, cint, vp]),
    "lpc_silu_new": (vp, []),
    "lpc_flatten_new": (vp, []),
    "lpc_sequential_new": (vp, []),
    "lpc_sequential_add": (status, [vp, cstr, vp]),
    "lpc_resnet_new": (vp, [cint, cint, cint, cint, c_int_p, c_int_p, vp]),
    # robust.h
    "lpc_deepfool": (status, [vp, c_float_p, i64, cint, cint, cint, cint, dbl, cint,
                              c_double_p, c_double_p]),
    # checkpoint.h
    "lpc_checkpoint_load": (status, [cstr, ctypes.POINTER(vp)]),
    "lpc_checkpoint_free": (None, [vp]),
    "lpc_checkpoint_num_tensors": (cint, [vp]),
    "lpc_checkpoint_tensor_name": (cstr, [vp, cint]),
    "lpc_checkpoint_tensor": (vp, [vp, cstr]),
    "lpc_checkpoint_restore_module": (status, [vp, cstr, vp]),
    # safetensors.h
    "lpc_safetensors_save_module": (status, [cstr, vp, cstr, cint, cstr]),
    "lpc_safetensors_load": (status, [cstr, ctypes.POINTER(vp)]),
    "lpc_safetensors_free": (None, [vp]),
    "lpc_safetensors_num_tensors": (cint, [vp]),
    "lpc_safetensors_tensor_name": (cstr, [vp, cint]),
    "lpc_safetensors_tensor_dtype": (cstr, [vp, cint]),
    "lpc_safetensors_tensor_ndim": (cint, [vp, cint]),
    "lpc_safetensors_tensor_dim": (i64, [vp, cint, cint]),
    "lpc_safetensors_metadata": (cstr, [vp, cstr]),
    "lpc_safetensors_restore_module": (status, [vp, cstr, vp, cint]),
}

for _name, (_res, _args) in _SIGNATURES.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

LPC_E_ARG, LPC_E_NOMEM, LPC_E_IO, LPC_E_FORMAT, LPC_E_NUMERIC, LPC_E_STATE = -1, -3, -4, -5, -6, -7


def text(b):
    """A C string from the library as str (None stays None)."""
    return None if b is None else b.decode("utf-8", errors="replace")


def error(s, message=None, where=None):
    """The LPCError for status s with message, or lpc_last_error() when
    message is None. An empty message becomes what the status means and
    where (the function called), so that no error is without text."""
    name = text(lib.lpc_status_name(s))
    if message is None:
        message = text(lib.lpc_last_error())
    if not message:
        message = f"{where or 'liblpc'}: {text(lib.lpc_strerror(s))} (no detail given)"
    return LPCError(s, name, message)


def call(fn, *args):
    """fn(*args) for a liblpc function returning lpc_status; raises LPCError
    unless it returns LPC_OK. The thread's last error is cleared first, so
    that a stale message never describes this failure."""
    lib.lpc_clear_error()
    s = fn(*args)
    if s != 0:
        raise error(s, where=fn.__name__)


def handle(fn, *args):
    """fn(*args) for a liblpc function returning a handle; raises LPCError
    when it returns NULL (the status is not returned then: LPC_E_NOMEM when
    the message says so, LPC_E_ARG otherwise)."""
    lib.lpc_clear_error()
    h = fn(*args)
    if not h:
        msg = text(lib.lpc_last_error())
        raise error(LPC_E_NOMEM if "out of memory" in msg else LPC_E_ARG, msg,
                    where=fn.__name__)
    return h

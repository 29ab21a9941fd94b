"""lpc: Latent Point Collapse analysis and liblpc networks from Python.

A NumPy binding over liblpc's C ABI (ctypes; no compiler needed):

- the analysis metrics of include/lpc/analysis.h (separation_ratio, sigma_w,
  norm_cov, pearson, kl_entropy, gmm1d_fit, binarity, neural_collapse,
  ln_unit_ball_volume) and ``analyze``, which returns what lpc-analyze prints;
- ``Model``: a liblpc network loaded from a checkpoint or safetensors file,
  with forward/evaluate on NumPy batches and DeepFool robustness;
- ``LPCError``: raised when the library refuses a call, with the lpc_status
  name (``.name``) and the library's message (``.message``).

The library is found through the LPC_LIBRARY environment variable or the
path it was installed to. See doc/python.md."""
from ._lib import LPCError, lib as _lib, text as _text
from .analysis import (KL_DEFAULT_K, analyze, binarity, gmm1d_fit, kl_entropy,
                       ln_unit_ball_volume, neural_collapse, norm_cov, pearson,
                       separation_ratio, sigma_w)
from .model import Model, infer_spec, read_shapes
from . import attack  # lpc.attack.fmn, lpc.attack.pgd

__version__ = _text(_lib.lpc_version_string())


def set_num_threads(n):
    """Threads used by liblpc's kernels (process-wide; default 1)."""
    from ._lib import check
    check(_lib.lpc_set_num_threads(int(n)))


def get_num_threads():
    """Threads used by liblpc's kernels."""
    return _lib.lpc_get_num_threads()


__all__ = ["LPCError", "Model", "analyze", "binarity", "gmm1d_fit", "get_num_threads",
           "infer_spec", "kl_entropy", "ln_unit_ball_volume", "neural_collapse", "norm_cov",
           "pearson", "read_shapes", "separation_ratio", "set_num_threads", "sigma_w",
           "KL_DEFAULT_K"]

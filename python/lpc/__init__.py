"""lpc: Latent Point Collapse analysis and liblpc networks from Python.

A NumPy binding over liblpc's C ABI (ctypes; no compiler needed):

- the analysis metrics of include/lpc/analysis.h (separation_ratio, sigma_w,
  norm_cov, pearson, kl_entropy, gmm1d_fit, binarity, neural_collapse,
  ln_unit_ball_volume) and ``analyze``, which returns what lpc-analyze prints;
- ``Model``: a liblpc network loaded from a checkpoint or safetensors file,
  with forward/evaluate on NumPy batches and DeepFool robustness;
- out-of-distribution detection and generalized collapse (include/lpc/ood.h,
  the lpc_gnc functions): ``OODDetector``, ``ood_metrics``, ``logit_scores``,
  ``generalized_collapse``;
- ``LPCError``: raised when the library refuses a call, with the lpc_status
  name (``.name``) and the library's message (``.message``); TypeError,
  ValueError and OverflowError for arguments the package refuses before
  calling the library (doc/python.md, "Errors").

The library is found through the LPC_LIBRARY environment variable or the
path it was installed to. See doc/python.md."""
from . import _args
from ._lib import LPCError, call as _call, lib as _c, text as _text
from .analysis import (KL_DEFAULT_K, analyze, binarity, gmm1d_fit, kl_entropy,
                       ln_unit_ball_volume, neural_collapse, norm_cov, pearson,
                       separation_ratio, sigma_w)
from .model import Model, infer_spec, read_shapes
from .ood import OODDetector, generalized_collapse, logit_scores, ood_metrics
from . import attack  # lpc.attack.fmn, lpc.attack.pgd

__version__ = _text(_c.lpc_version_string())


def set_num_threads(n):
    """Threads used by liblpc's kernels (process-wide, 1..1024; default 1)."""
    _call(_c.lpc_set_num_threads, _args.c_int(n, "n"))


def get_num_threads():
    """Threads used by liblpc's kernels."""
    return _c.lpc_get_num_threads()


__all__ = ["LPCError", "Model", "OODDetector", "analyze", "binarity", "generalized_collapse",
           "gmm1d_fit", "get_num_threads", "infer_spec", "kl_entropy", "ln_unit_ball_volume",
           "logit_scores", "neural_collapse", "norm_cov", "ood_metrics", "pearson",
           "read_shapes", "separation_ratio", "set_num_threads", "sigma_w", "KL_DEFAULT_K"]

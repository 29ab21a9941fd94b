"""liblpc networks from checkpoint and safetensors files, on NumPy batches.

A Model is the structure liblpc's example programs train (lpc-train,
lpc-ablation): a sequential of

- ``backbone``: the dense MLP (flatten, fc1, act1, fc2, act2) or a CIFAR-style
  ResNet (lpc_resnet_new: basic blocks or bottlenecks),
- ``penultimate`` (optional): a linear layer, or linear + SiLU (children
  ``0``, ``1``),
- ``classifier``: a linear layer.

The architecture is read off the names and shapes of the stored tensors, the
network is built from liblpc's module API and the weights are restored by the
library, which checks that every name and shape fits. The latent z is the
penultimate layer's output (the backbone's when there is none)."""
import ctypes
import re

import numpy as np

from . import _arrays
from ._lib import LPCError, check, check_handle, error, lib, text

NAME_STYLES = {"native": 0, "torchvision": 1}
_CKPT_MAGIC = b"\x89LPCCKPT"


def _style(names):
    if names not in NAME_STYLES:
        raise ValueError(f"names must be one of {sorted(NAME_STYLES)}, got {names!r}")
    return NAME_STYLES[names]


def _is_checkpoint(path):
    """Whether path starts as a liblpc checkpoint (unreadable files are left
    to the library, which reports them)."""
    try:
        with open(path, "rb") as f:
            return f.read(8) == _CKPT_MAGIC
    except OSError:
        return False


def read_shapes(path):
    """The tensors of a checkpoint or safetensors file as {name: shape}, and
    (for safetensors) {name: dtype} and the metadata keys the library knows
    ("format", "liblpc_version", "description")."""
    path = str(path)
    shapes, dtypes, meta = {}, {}, {}
    h = ctypes.c_void_p()
    if _is_checkpoint(path):
        check(lib.lpc_checkpoint_load(path.encode(), ctypes.byref(h)))
        try:
            for i in range(lib.lpc_checkpoint_num_tensors(h)):
                name = lib.lpc_checkpoint_tensor_name(h, i)
                t = lib.lpc_checkpoint_tensor(h, name)
                shapes[text(name)] = tuple(lib.lpc_tensor_dim(t, d)
                                           for d in range(lib.lpc_tensor_ndim(t)))
                dtypes[text(name)] = "F32"
        finally:
            lib.lpc_checkpoint_free(h)
        return shapes, dtypes, meta
    check(lib.lpc_safetensors_load(path.encode(), ctypes.byref(h)))
    try:
        for i in range(lib.lpc_safetensors_num_tensors(h)):
            name = text(lib.lpc_safetensors_tensor_name(h, i))
            shapes[name] = tuple(lib.lpc_safetensors_tensor_dim(h, i, d)
                                 for d in range(lib.lpc_safetensors_tensor_ndim(h, i)))
            dtypes[name] = text(lib.lpc_safetensors_tensor_dtype(h, i))
        for key in ("format", "liblpc_version", "description"):
            v = lib.lpc_safetensors_metadata(h, key.encode())
            if v is not None:
                meta[key] = text(v)
    finally:
        lib.lpc_safetensors_free(h)
    return shapes, dtypes, meta


def infer_spec(shapes, prefix=""):
    """The architecture (a dict) of the network whose tensors under prefix
    have these shapes ({name: shape}, native or torchvision names)."""
    s = {}
    for name, shape in shapes.items():
        if not name.startswith(prefix) or name.endswith(".num_batches_tracked"):
            continue
        s[name[len(prefix):].replace(".downsample.", ".shortcut.")] = shape

    def need(name):
        if name not in s:
            raise ValueError(f"cannot infer the architecture: no tensor '{prefix}{name}'")
        return s[name]

    spec = {}
    if "backbone.fc1.weight" in s:
        fc1 = need("backbone.fc1.weight")
        spec["backbone"] = {"kind": "mlp", "in_features": fc1[1], "width": fc1[0]}
        feature_dim = need("backbone.fc2.weight")[0]
    else:
        conv1 = need("backbone.conv1.weight")
        stages = sorted({int(m.group(1)) for n in s
                         for m in [re.match(r"backbone\.layer(\d+)\.", n)] if m})
        if stages != list(range(1, len(stages) + 1)) or not stages:
            raise ValueError(f"cannot infer the architecture: ResNet stages {stages}")
        bottleneck = "backbone.layer1.0.conv3.weight" in s
        # Wide bottlenecks (WideResNet-50-2): inner width 2w, output 4w = 2 x inner.
        wide = bottleneck and (need("backbone.layer1.0.conv3.weight")[0] ==
                               2 * need("backbone.layer1.0.conv1.weight")[0])
        widths, blocks = [], []
        for st in stages:
            ids = {int(m.group(1)) for n in s
                   for m in [re.match(rf"backbone\.layer{st}\.(\d+)\.conv1\.weight$", n)] if m}
            widths.append(need(f"backbone.layer{st}.0.conv1.weight")[0] // (2 if wide else 1))
            blocks.append(len(ids))
        block = "wide_bottleneck" if wide else "bottleneck" if bottleneck else "basic"
        spec["backbone"] = {"kind": "resnet", "block": block,
                            "in_channels": conv1[1], "stem_width": conv1[0],
                            "widths": widths, "blocks": blocks}
        feature_dim = widths[-1] * (4 if bottleneck else 1)
    latent = feature_dim
    if "penultimate.weight" in s or "penultimate.0.weight" in s:
        nonlinear = "penultimate.0.weight" in s
        key = "penultimate.0." if nonlinear else "penultimate."
        w = need(key + "weight")
        spec["penultimate"] = {"nonlinear": nonlinear, "in_features": w[1], "width": w[0],
                               "bias": key + "bias" in s}
        latent = w[0]
    cw = need("classifier.weight")
    spec["classifier"] = {"in_features": cw[1], "num_classes": cw[0],
                          "bias": "classifier.bias" in s}
    if cw[1] != latent:
        raise ValueError(f"cannot infer the architecture: classifier takes {cw[1]} features, "
                         f"the layer before gives {latent}")
    return spec


def _add(seq, name, child):
    check_handle(child, f"building {name}")
    check(lib.lpc_sequential_add(seq, name.encode(), child))


def _build(spec, seed):
    """The liblpc module of spec (a new handle) with weights drawn from seed."""
    rng = check_handle(lib.lpc_rng_new(seed), "lpc_rng_new")
    net = None
    try:
        net = check_handle(lib.lpc_sequential_new(), "lpc_sequential_new")
        b = spec["backbone"]
        if b["kind"] == "mlp":
            bb = check_handle(lib.lpc_sequential_new(), "lpc_sequential_new")
            try:
                _add(bb, "flatten", lib.lpc_flatten_new())
                _add(bb, "fc1", lib.lpc_linear_new(b["in_features"], b["width"], 1, rng))
                _add(bb, "act1", lib.lpc_silu_new())
                _add(bb, "fc2", lib.lpc_linear_new(b["width"], b["width"], 1, rng))
                _add(bb, "act2", lib.lpc_silu_new())
            except Exception:
                lib.lpc_module_free(bb)
                raise
        else:
            n = len(b["widths"])
            kinds = {"basic": 0, "bottleneck": 1, "wide_bottleneck": 2}
            bb = lib.lpc_resnet_new(kinds[b["block"]], b["in_channels"],
                                    b["stem_width"], n, (ctypes.c_int * n)(*b["widths"]),
                                    (ctypes.c_int * n)(*b["blocks"]), rng)
        _add(net, "backbone", bb)
        p = spec.get("penultimate")
        if p:
            lin = lib.lpc_linear_new(p["in_features"], p["width"], int(p["bias"]), rng)
            if p["nonlinear"]:
                seq = check_handle(lib.lpc_sequential_new(), "lpc_sequential_new")
                try:
                    _add(seq, "0", lin)
                    _add(seq, "1", lib.lpc_silu_new())
                except Exception:
                    lib.lpc_module_free(seq)
                    raise
                lin = seq
            _add(net, "penultimate", lin)
        c = spec["classifier"]
        _add(net, "classifier", lib.lpc_linear_new(c["in_features"], c["num_classes"],
                                                   int(c["bias"]), rng))
        return net
    except Exception:
        lib.lpc_module_free(net)
        raise
    finally:
        lib.lpc_rng_free(rng)


class Model:
    """A liblpc network (backbone, optional penultimate layer, classifier) in
    evaluation mode. Build one with Model.load(path) or Model.new(spec).

    Attributes: ``spec`` (the architecture dict), ``num_classes``,
    ``latent_dim``, ``metadata`` (safetensors metadata of the file it came
    from). Inputs are float32 N x C x H x W batches (N x F for the MLP);
    other dtypes and layouts are converted."""

    def __init__(self, spec, seed=0):
        """A fresh network of the architecture spec (see infer_spec), weights
        drawn as PyTorch's defaults from the generator seed."""
        self.spec = spec
        self.metadata = {}
        self._net = None
        self._ctx = None
        self._net = _build(spec, seed)
        self._ctx = check_handle(lib.lpc_ctx_new(), "lpc_ctx_new")
        check(lib.lpc_ctx_set_grad(self._ctx, 0))
        check(lib.lpc_module_set_train(self._net, 0))
        self._parts = [lib.lpc_module_find(self._net, part.encode())
                       for part in ("backbone", "penultimate", "classifier")]
        self.num_classes = spec["classifier"]["num_classes"]
        self.latent_dim = spec["classifier"]["in_features"]

    @classmethod
    def new(cls, spec, seed=0):
        """Same as Model(spec, seed): a fresh network of the architecture spec."""
        return cls(spec, seed)

    @classmethod
    def load(cls, path, names="native", prefix=None):
        """The network stored in a liblpc checkpoint (lpc_checkpoint_save,
        e.g. lpc-ablation's; tensors under "model." are found by themselves)
        or a safetensors file. names: "native" or "torchvision" (see
        doc/python.md) for safetensors files; prefix: where the network's
        tensors start (default: "model." when the file has such names, else
        none). Raises LPCError when the file does not fit the network."""
        path = str(path)
        style = _style(names)
        shapes, dtypes, meta = read_shapes(path)
        if prefix is None:
            prefix = "model." if any(n.startswith("model.backbone.") for n in shapes) else ""
        model = cls(infer_spec(shapes, prefix))
        model.metadata = meta
        h = ctypes.c_void_p()
        if _is_checkpoint(path):
            check(lib.lpc_checkpoint_load(path.encode(), ctypes.byref(h)))
            try:
                check(lib.lpc_checkpoint_restore_module(h, prefix.encode(), model._net))
            finally:
                lib.lpc_checkpoint_free(h)
        else:
            check(lib.lpc_safetensors_load(path.encode(), ctypes.byref(h)))
            try:
                check(lib.lpc_safetensors_restore_module(h, prefix.encode(), model._net, style))
            finally:
                lib.lpc_safetensors_free(h)
        return model

    def save_safetensors(self, path, names="native", description=None):
        """Writes every parameter and buffer (atomically) as safetensors, with
        the metadata format "pt", liblpc_version and description."""
        check(lib.lpc_safetensors_save_module(str(path).encode(), self._net, None, _style(names),
                                              None if description is None
                                              else description.encode()))

    def state_dict(self):
        """Copies of every parameter and buffer as {native name: float32 array}."""
        out = {}
        for count, get, name in ((lib.lpc_module_num_params, lib.lpc_module_param,
                                  lib.lpc_module_param_name),
                                 (lib.lpc_module_num_buffers, lib.lpc_module_buffer,
                                  lib.lpc_module_buffer_name)):
            for i in range(count(self._net)):
                out[text(name(self._net, i))] = _tensor_array(get(self._net, i)).copy()
        return out

    def _input(self, x):
        x = _arrays._array(x, "x")
        if x.ndim not in (2, 4):
            raise ValueError(f"x: expected N x C x H x W (or N x F), got shape {x.shape}")
        return _arrays.floats(x, "x", x.ndim)

    def forward(self, x, batch_size=256):
        """(z, logits) of the batch x as float32 arrays (N x latent_dim,
        N x num_classes)."""
        x = self._input(x)
        n = x.shape[0]
        z = np.empty((n, self.latent_dim), np.float32)
        logits = np.empty((n, self.num_classes), np.float32)
        per = int(np.prod(x.shape[1:]))
        for lo in range(0, n, batch_size):
            hi = min(n, lo + batch_size)
            lib.lpc_ctx_reset(self._ctx)
            shape = (ctypes.c_int64 * x.ndim)(hi - lo, *x.shape[1:])
            t = lib.lpc_tensor_from(self._ctx, x.ndim, shape,
                                    x[lo:hi].ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                    (hi - lo) * per)
            h = lib.lpc_module_forward(self._parts[0], self._ctx, t)
            zt = lib.lpc_module_forward(self._parts[1], self._ctx, h) if self._parts[1] else h
            lt = lib.lpc_module_forward(self._parts[2], self._ctx, zt)
            s = lib.lpc_ctx_status(self._ctx)
            if s != 0:
                raise error(s, text(lib.lpc_ctx_error(self._ctx)))
            z[lo:hi] = _tensor_array(zt)
            logits[lo:hi] = _tensor_array(lt)
        lib.lpc_ctx_reset(self._ctx)
        return z, logits

    def evaluate(self, x, labels=None, batch_size=256):
        """A dict with "z", "logits", "predictions" (argmax of the logits) and,
        when labels are given, "accuracy"."""
        z, logits = self.forward(x, batch_size)
        pred = np.argmax(logits, axis=1).astype(np.int32)
        out = {"z": z, "logits": logits, "predictions": pred}
        if labels is not None:
            y = _arrays.labels(labels, "labels", len(pred))
            out["accuracy"] = float(np.mean(pred == y)) if len(y) else float("nan")
        return out

    def deepfool(self, x, num_candidates=10, overshoot=0.02, max_iter=50):
        """DeepFool robustness (lpc_deepfool, the paper's settings by default):
        (ratios |r_i| / |x_i| per sample, their mean)."""
        x = self._input(x)
        n = x.shape[0]
        c, h, w = (x.shape[1], 1, 1) if x.ndim == 2 else x.shape[1:]
        ratios = np.empty(n, np.float64)
        mean = ctypes.c_double()
        check(lib.lpc_deepfool(self._net, _arrays.ptr(x, ctypes.c_float), n, c, h, w,
                               num_candidates, overshoot, max_iter,
                               _arrays.ptr(ratios, ctypes.c_double), ctypes.byref(mean)))
        return ratios, mean.value

    def close(self):
        """Frees the network now (it is also freed when collected)."""
        if self._net:
            lib.lpc_module_free(self._net)
            self._net = None
        if self._ctx:
            lib.lpc_ctx_free(self._ctx)
            self._ctx = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _tensor_array(t):
    """A NumPy view of tensor t's data (valid while t is)."""
    shape = tuple(lib.lpc_tensor_dim(t, d) for d in range(lib.lpc_tensor_ndim(t)))
    n = lib.lpc_tensor_numel(t)
    if n == 0:
        return np.zeros(shape, np.float32)
    return np.ctypeslib.as_array(lib.lpc_tensor_cdata(t), (n,)).reshape(shape)


__all__ = ["Model", "infer_spec", "read_shapes", "NAME_STYLES", "LPCError"]

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
import os
import re

import numpy as np

from . import _args, _arrays
from ._owner import Owner
from ._lib import LPC_E_FORMAT, LPCError, call, error, handle, lib, text

NAME_STYLES = {"native": 0, "torchvision": 1}
_CKPT_MAGIC = b"\x89LPCCKPT"


def _style(names):
    if not isinstance(names, str) or names not in NAME_STYLES:
        raise ValueError(f"names must be one of {sorted(NAME_STYLES)}, got {names!r}")
    return NAME_STYLES[names]


def _is_checkpoint(path, who):
    """Whether the file at path (bytes) starts as a liblpc checkpoint.
    LPCError LPC_E_IO when it cannot be opened or is not a regular file."""
    with _args.open_regular(path, who) as f:
        return f.read(8) == _CKPT_MAGIC


def read_shapes(path):
    """The tensors of a checkpoint or safetensors file as {name: shape}, and
    (for safetensors) {name: dtype} and the metadata keys the library knows
    ("format", "liblpc_version", "description")."""
    path = _args.c_path(path)
    shapes, dtypes, meta = {}, {}, {}
    h = ctypes.c_void_p()
    if _is_checkpoint(path, "lpc.read_shapes"):
        call(lib.lpc_checkpoint_load, path, ctypes.byref(h))
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
    call(lib.lpc_safetensors_load, path, ctypes.byref(h))
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


def _shape_of(name, shape):
    """shape (any sequence of non-negative ints) as a tuple."""
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"shapes['{name}']: needs a sequence of ints, got {shape!r}") from None
    return tuple(_args.c_int64(d, f"shapes['{name}']", lo=0) for d in dims)


def infer_spec(shapes, prefix=""):
    """The architecture (a dict) of the network whose tensors under prefix
    have these shapes ({name: shape}, native or torchvision names).

    Raises ValueError when the shapes describe no network of this package:
    a tensor missing or of a shape the architecture does not give it. Every
    tensor of the network is checked, so the network built from the spec
    holds no more numbers than the tensors given (a file cannot make the
    package build a network larger than its data)."""
    if not isinstance(shapes, dict):
        raise TypeError(f"shapes: needs a dict {{name: shape}}, got {type(shapes).__name__}")
    if not isinstance(prefix, str):
        raise TypeError(f"prefix: needs a str, got {type(prefix).__name__}")
    s = {}
    for name, shape in shapes.items():
        if not isinstance(name, str):
            raise TypeError(f"shapes: names must be str, got {name!r}")
        if not name.startswith(prefix) or name.endswith(".num_batches_tracked"):
            continue
        s[name[len(prefix):].replace(".downsample.", ".shortcut.")] = _shape_of(name, shape)

    def need(name, ndim):
        if name not in s:
            raise ValueError(f"cannot infer the architecture: no tensor '{prefix}{name}'")
        if len(s[name]) != ndim or 0 in s[name]:
            raise ValueError(f"cannot infer the architecture: tensor '{prefix}{name}' has "
                             f"shape {s[name]}, expected {ndim} non-zero dimensions")
        return s[name]

    spec = {}
    if "backbone.fc1.weight" in s:
        fc1 = need("backbone.fc1.weight", 2)
        spec["backbone"] = {"kind": "mlp", "in_features": fc1[1], "width": fc1[0]}
    else:
        conv1 = need("backbone.conv1.weight", 4)
        # One pass over the names: stage -> its blocks (by their conv1).
        found = {}
        for n in s:
            m = re.match(r"backbone\.layer(\d+)\.(?:(\d+)\.conv1\.weight$)?", n)
            if m:
                ids = found.setdefault(int(m.group(1)), set())
                if m.group(2) is not None:
                    ids.add(int(m.group(2)))
        stages = sorted(found)
        if stages != list(range(1, len(stages) + 1)) or not stages:
            shown = stages if len(stages) < 10 else stages[:10] + ["..."]
            raise ValueError(f"cannot infer the architecture: ResNet stages {shown}")
        bottleneck = "backbone.layer1.0.conv3.weight" in s
        # Wide bottlenecks (WideResNet-50-2): inner width 2w, output 4w = 2 x inner.
        wide = bottleneck and (need("backbone.layer1.0.conv3.weight", 4)[0] ==
                               2 * need("backbone.layer1.0.conv1.weight", 4)[0])
        widths = [need(f"backbone.layer{st}.0.conv1.weight", 4)[0] // (2 if wide else 1)
                  for st in stages]
        blocks = [len(found[st]) for st in stages]
        block = "wide_bottleneck" if wide else "bottleneck" if bottleneck else "basic"
        spec["backbone"] = {"kind": "resnet", "block": block,
                            "in_channels": conv1[1], "stem_width": conv1[0],
                            "widths": widths, "blocks": blocks}
    if "penultimate.weight" in s or "penultimate.0.weight" in s:
        nonlinear = "penultimate.0.weight" in s
        key = "penultimate.0." if nonlinear else "penultimate."
        w = need(key + "weight", 2)
        spec["penultimate"] = {"nonlinear": nonlinear, "in_features": w[1], "width": w[0],
                               "bias": key + "bias" in s}
    cw = need("classifier.weight", 2)
    spec["classifier"] = {"in_features": cw[1], "num_classes": cw[0],
                          "bias": "classifier.bias" in s}
    try:
        spec = check_spec(spec)
    except (TypeError, ValueError, OverflowError) as e:
        raise ValueError(f"cannot infer the architecture: {e}") from None
    for name, shape in tensor_shapes(spec).items():
        if name not in s:
            raise ValueError(f"cannot infer the architecture: no tensor '{prefix}{name}'")
        if s[name] != shape:
            raise ValueError(f"cannot infer the architecture: tensor '{prefix}{name}' has "
                             f"shape {s[name]}, the architecture gives it {shape}")
    return spec


def _dict(d, where, keys, optional=()):
    if not isinstance(d, dict):
        raise TypeError(f"{where}: needs a dict, got {type(d).__name__}")
    missing = [k for k in keys if k not in d]
    extra = [k for k in d if k not in keys and k not in optional]
    if missing or extra:
        raise ValueError(f"{where}: missing keys {missing}, unknown keys {extra}")
    return d


def _positive(d, key, where, check=_args.c_int):
    return check(d[key], f"{where}['{key}']", lo=1)


def check_spec(spec):
    """A validated copy of the architecture dict spec (see infer_spec):
    known kinds and keys, every size an int >= 1 that fits its C type,
    consecutive layers of matching widths. TypeError, ValueError or
    OverflowError naming the entry otherwise."""
    _dict(spec, "spec", ("backbone", "classifier"), ("penultimate",))
    b = spec["backbone"]
    if not isinstance(b, dict) or b.get("kind") not in ("mlp", "resnet"):
        raise ValueError("spec['backbone']: needs a dict with 'kind' 'mlp' or 'resnet'")
    if b["kind"] == "mlp":
        _dict(b, "spec['backbone']", ("kind", "in_features", "width"))
        bb = {"kind": "mlp", "in_features": _positive(b, "in_features", "spec['backbone']",
                                                      _args.c_int64),
              "width": _positive(b, "width", "spec['backbone']", _args.c_int64)}
        features = bb["width"]
    else:
        where = "spec['backbone']"
        _dict(b, where, ("kind", "block", "in_channels", "stem_width", "widths", "blocks"))
        if b["block"] not in ("basic", "bottleneck", "wide_bottleneck"):
            raise ValueError(f"{where}['block']: 'basic', 'bottleneck' or 'wide_bottleneck', "
                             f"got {b['block']!r}")
        lists = []
        for key in ("widths", "blocks"):
            if not isinstance(b[key], (list, tuple)):
                raise TypeError(f"{where}['{key}']: needs a list, got {type(b[key]).__name__}")
            lists.append([_args.c_int(v, f"{where}['{key}'][{i}]", lo=1)
                          for i, v in enumerate(b[key])])
        widths, blocks = lists
        if not widths or len(widths) != len(blocks):
            raise ValueError(f"{where}: widths {widths} and blocks {blocks} need the same "
                             f"number (>= 1) of stages")
        expansion = 1 if b["block"] == "basic" else 4
        for i, wd in enumerate(widths):
            _args.c_int(wd * expansion, f"{where}['widths'][{i}] x {expansion}")
        bb = {"kind": "resnet", "block": b["block"],
              "in_channels": _positive(b, "in_channels", where),
              "stem_width": _positive(b, "stem_width", where), "widths": widths,
              "blocks": blocks}
        features = widths[-1] * expansion
    out = {"backbone": bb}
    p = spec.get("penultimate")
    if p is not None:
        where = "spec['penultimate']"
        _dict(p, where, ("nonlinear", "in_features", "width", "bias"))
        nonlinear = bool(_args.flag(p["nonlinear"], where + "['nonlinear']"))
        out["penultimate"] = {"nonlinear": nonlinear,
                              "in_features": _positive(p, "in_features", where, _args.c_int64),
                              "width": _positive(p, "width", where, _args.c_int64),
                              "bias": bool(_args.flag(p["bias"], where + "['bias']"))}
        if out["penultimate"]["in_features"] != features:
            raise ValueError(f"{where}['in_features']: {p['in_features']}, the backbone gives "
                             f"{features}")
        features = out["penultimate"]["width"]
    where = "spec['classifier']"
    c = _dict(spec["classifier"], where, ("in_features", "num_classes", "bias"))
    out["classifier"] = {"in_features": _positive(c, "in_features", where, _args.c_int64),
                         "num_classes": _positive(c, "num_classes", where),
                         "bias": bool(_args.flag(c["bias"], where + "['bias']"))}
    if out["classifier"]["in_features"] != features:
        raise ValueError(f"{where}['in_features']: {c['in_features']}, the layer before gives "
                         f"{features}")
    return out


def tensor_shapes(spec):
    """{native name: shape} of every parameter and buffer of the network of
    a checked spec (see check_spec), as lpc.Model(spec).state_dict() has."""
    out = {}

    def linear(name, fin, fout, bias):
        out[name + ".weight"] = (fout, fin)
        if bias:
            out[name + ".bias"] = (fout,)

    def conv_bn(conv, bn, cin, cout, k):
        out[conv + ".weight"] = (cout, cin, k, k)
        for t in ("weight", "bias", "running_mean", "running_var"):
            out[f"{bn}.{t}"] = (cout,)

    b = spec["backbone"]
    if b["kind"] == "mlp":
        linear("backbone.fc1", b["in_features"], b["width"], True)
        linear("backbone.fc2", b["width"], b["width"], True)
    else:
        bottleneck = b["block"] != "basic"
        inner_factor = 2 if b["block"] == "wide_bottleneck" else 1
        conv_bn("backbone.conv1", "backbone.bn1", b["in_channels"], b["stem_width"], 3)
        cin = b["stem_width"]
        for st, (width, blocks) in enumerate(zip(b["widths"], b["blocks"])):
            cout = width * (4 if bottleneck else 1)
            inner = width * inner_factor
            for i in range(blocks):
                pre = f"backbone.layer{st + 1}.{i}."
                convs = ([(cin, inner, 1), (inner, inner, 3), (inner, cout, 1)] if bottleneck
                         else [(cin, width, 3), (width, width, 3)])
                for j, (a, o, k) in enumerate(convs, 1):
                    conv_bn(f"{pre}conv{j}", f"{pre}bn{j}", a, o, k)
                if (st > 0 and i == 0) or cin != cout:
                    conv_bn(pre + "shortcut.0", pre + "shortcut.1", cin, cout, 1)
                cin = cout
    p = spec.get("penultimate")
    if p:
        linear("penultimate.0" if p["nonlinear"] else "penultimate", p["in_features"],
               p["width"], p["bias"])
    c = spec["classifier"]
    linear("classifier", c["in_features"], c["num_classes"], c["bias"])
    return out


def _attach(seq, name, child):
    """Adds the module handle child to seq as name (freeing it on failure)."""
    try:
        call(lib.lpc_sequential_add, seq, name.encode(), child)
    except LPCError:
        lib.lpc_module_free(child)
        raise


def _add(seq, name, fn, *args):
    """Adds the module that fn(*args) builds to seq as name."""
    _attach(seq, name, handle(fn, *args))


def _sequential(children):
    """A new sequential of (name, fn, *args) children."""
    seq = handle(lib.lpc_sequential_new)
    try:
        for name, fn, *args in children:
            _add(seq, name, fn, *args)
    except Exception:
        lib.lpc_module_free(seq)
        raise
    return seq


def _build(spec, seed):
    """The liblpc module of a checked spec (a new handle) with weights drawn
    from seed."""
    rng = handle(lib.lpc_rng_new, seed)
    net = None
    try:
        net = handle(lib.lpc_sequential_new)
        b = spec["backbone"]
        if b["kind"] == "mlp":
            _attach(net, "backbone", _sequential([
                ("flatten", lib.lpc_flatten_new),
                ("fc1", lib.lpc_linear_new, b["in_features"], b["width"], 1, rng),
                ("act1", lib.lpc_silu_new),
                ("fc2", lib.lpc_linear_new, b["width"], b["width"], 1, rng),
                ("act2", lib.lpc_silu_new)]))
        else:
            n = len(b["widths"])
            kinds = {"basic": 0, "bottleneck": 1, "wide_bottleneck": 2}
            _add(net, "backbone", lib.lpc_resnet_new, kinds[b["block"]],
                 b["in_channels"], b["stem_width"], n, (ctypes.c_int * n)(*b["widths"]),
                 (ctypes.c_int * n)(*b["blocks"]), rng)
        p = spec.get("penultimate")
        if p:
            linear = (lib.lpc_linear_new, p["in_features"], p["width"], int(p["bias"]), rng)
            if p["nonlinear"]:
                _attach(net, "penultimate",
                        _sequential([("0",) + linear, ("1", lib.lpc_silu_new)]))
            else:
                _add(net, "penultimate", *linear)
        c = spec["classifier"]
        _add(net, "classifier", lib.lpc_linear_new, c["in_features"], c["num_classes"],
             int(c["bias"]), rng)
        return net
    except Exception:
        lib.lpc_module_free(net)
        raise
    finally:
        lib.lpc_rng_free(rng)


class Model(Owner):
    """A liblpc network (backbone, optional penultimate layer, classifier) in
    evaluation mode. Build one with Model.load(path) or Model.new(spec).

    Attributes: ``spec`` (the architecture dict), ``num_classes``,
    ``latent_dim``, ``metadata`` (safetensors metadata of the file it came
    from). Inputs are float32 N x C x H x W batches (N x F for the MLP);
    other dtypes and layouts are converted.

    Thread-safe: the methods of one Model take its lock, so threads that
    share a Model run one after the other (distinct Models run in
    parallel). After close() every method raises ValueError."""

    def __init__(self, spec, seed=0):
        """A fresh network of the architecture spec (see infer_spec), weights
        drawn as PyTorch's defaults from the generator seed (a uint64)."""
        Owner.__init__(self)
        self._net = None
        self._ctx = None
        self.metadata = {}
        self.spec = check_spec(spec)
        self._net = _build(self.spec, _args.c_uint64(seed, "seed"))
        self._ctx = handle(lib.lpc_ctx_new)
        call(lib.lpc_ctx_set_grad, self._ctx, 0)
        call(lib.lpc_module_set_train, self._net, 0)
        self._parts = [lib.lpc_module_find(self._net, part.encode())
                       for part in ("backbone", "penultimate", "classifier")]
        self.num_classes = self.spec["classifier"]["num_classes"]
        self.latent_dim = self.spec["classifier"]["in_features"]

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
        none). Raises LPCError when the file cannot be read (LPC_E_IO, also
        for what is not a regular file) or does not describe a network
        (LPC_E_FORMAT, LPC_E_SHAPE), before building anything."""
        path = _args.c_path(path)
        style = _style(names)
        if prefix is not None:
            _args.c_string(prefix, "prefix")
        shapes, _, meta = read_shapes(path)
        if prefix is None:
            prefix = "model." if any(n.startswith("model.backbone.") for n in shapes) else ""
        try:
            spec = infer_spec(shapes, prefix)
        except ValueError as e:
            raise error(LPC_E_FORMAT, f"lpc.Model.load: {os.fsdecode(path)}: {e}") from None
        model = cls(spec)
        model.metadata = meta
        h = ctypes.c_void_p()
        if _is_checkpoint(path, "lpc.Model.load"):
            call(lib.lpc_checkpoint_load, path, ctypes.byref(h))
            try:
                call(lib.lpc_checkpoint_restore_module, h, prefix.encode(), model._net)
            finally:
                lib.lpc_checkpoint_free(h)
        else:
            call(lib.lpc_safetensors_load, path, ctypes.byref(h))
            try:
                call(lib.lpc_safetensors_restore_module, h, prefix.encode(), model._net, style)
            finally:
                lib.lpc_safetensors_free(h)
        return model

    def save_safetensors(self, path, names="native", description=None):
        """Writes every parameter and buffer (atomically) as safetensors, with
        the metadata format "pt", liblpc_version and description."""
        path = _args.c_path(path)
        style = _style(names)
        description = _args.c_string(description, "description", optional=True)
        with self._lock:
            self._live("save_safetensors")
            call(lib.lpc_safetensors_save_module, path, self._net, None, style, description)

    def state_dict(self):
        """Copies of every parameter and buffer as {native name: float32 array}."""
        out = {}
        with self._lock:
            self._live("state_dict")
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
        N x num_classes), batch_size samples (>= 1) at a time."""
        x = self._input(x)
        batch_size = _args.c_int64(batch_size, "batch_size", lo=1)
        with self._lock:
            self._live("forward")
            return self._forward(x, batch_size)

    def _forward(self, x, batch_size):
        n = x.shape[0]
        z = np.empty((n, self.latent_dim), np.float32)
        logits = np.empty((n, self.num_classes), np.float32)
        per = int(np.prod(x.shape[1:]))
        try:
            for lo in range(0, n, batch_size):
                hi = min(n, lo + batch_size)
                lib.lpc_ctx_reset(self._ctx)
                lib.lpc_clear_error()
                shape = (ctypes.c_int64 * x.ndim)(hi - lo, *x.shape[1:])
                t = lib.lpc_tensor_from(self._ctx, x.ndim, shape,
                                        x[lo:hi].ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                        (hi - lo) * per)
                h = lib.lpc_module_forward(self._parts[0], self._ctx, t)
                zt = lib.lpc_module_forward(self._parts[1], self._ctx, h) if self._parts[1] else h
                lt = lib.lpc_module_forward(self._parts[2], self._ctx, zt)
                s = lib.lpc_ctx_status(self._ctx)
                if s != 0:
                    raise error(s, text(lib.lpc_ctx_error(self._ctx)), where="lpc_module_forward")
                z[lo:hi] = _tensor_array(zt)
                logits[lo:hi] = _tensor_array(lt)
        finally:
            lib.lpc_ctx_reset(self._ctx)
        return z, logits

    def layer_outputs(self, x, names, batch_size=256):
        """The outputs of inner modules for the batch x: a dict from each
        path in names (a list of str, module paths as in the parameter names:
        "backbone", "backbone.layer2", "backbone.layer2.0", "penultimate",
        "classifier"; doc/analysis.md lists them) to a float32 array with one
        row per sample (N x C x H x W for a convolutional stage), the exact
        values the forward pass computes, batch_size samples (>= 1) at a
        time (lpc_module_forward_collect). Raises LPCError (LPC_E_ARG, the
        path in the message) for a path that names no module or a module
        that does not run on its own (a batch norm fused into its block)."""
        x = self._input(x)
        batch_size = _args.c_int64(batch_size, "batch_size", lo=1)
        if isinstance(names, (str, bytes)):
            raise TypeError("names: needs a list of str, got a single string")
        paths = [_args.c_string(n, f"names[{i}]") for i, n in enumerate(names)]
        if not paths:
            raise ValueError("names: needs at least one module path")
        with self._lock:
            self._live("layer_outputs")
            return self._layer_outputs(x, list(names), paths, batch_size)

    def _layer_outputs(self, x, names, paths, batch_size):
        n, k = x.shape[0], len(paths)
        c_names = (ctypes.c_char_p * k)(*paths)
        outs = (ctypes.c_void_p * k)()
        per = int(np.prod(x.shape[1:]))
        # No samples: one zero sample gives the shapes of the empty arrays.
        xb = x if n else np.zeros((1,) + x.shape[1:], np.float32)
        result = {}
        try:
            for lo in range(0, len(xb), batch_size):
                hi = min(len(xb), lo + batch_size)
                lib.lpc_ctx_reset(self._ctx)
                lib.lpc_clear_error()
                shape = (ctypes.c_int64 * x.ndim)(hi - lo, *x.shape[1:])
                t = lib.lpc_tensor_from(self._ctx, x.ndim, shape,
                                        xb[lo:hi].ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                        (hi - lo) * per)
                lib.lpc_module_forward_collect(self._net, self._ctx, t, k, c_names, outs)
                s = lib.lpc_ctx_status(self._ctx)
                if s != 0:
                    raise error(s, text(lib.lpc_ctx_error(self._ctx)),
                                where="lpc_module_forward_collect")
                for name, o in zip(names, outs):
                    a = _tensor_array(o)
                    if name not in result:
                        result[name] = np.empty((n,) + a.shape[1:], np.float32)
                    if n:
                        result[name][lo:hi] = a
        finally:
            lib.lpc_ctx_reset(self._ctx)
        return result

    def evaluate(self, x, labels=None, batch_size=256):
        """A dict with "z", "logits", "predictions" (argmax of the logits) and,
        when labels are given, "accuracy"."""
        x = self._input(x)
        y = None if labels is None else _arrays.labels(labels, "labels", x.shape[0])
        z, logits = self.forward(x, batch_size)
        pred = np.argmax(logits, axis=1).astype(np.int32)
        out = {"z": z, "logits": logits, "predictions": pred}
        if y is not None:
            out["accuracy"] = float(np.mean(pred == y)) if len(y) else float("nan")
        return out

    def deepfool(self, x, num_candidates=10, overshoot=0.02, max_iter=50):
        """DeepFool robustness (lpc_deepfool, the paper's settings by default):
        (ratios |r_i| / |x_i| per sample, their mean)."""
        x = self._input(x)
        n = x.shape[0]
        c, h, w = (x.shape[1], 1, 1) if x.ndim == 2 else x.shape[1:]
        c, h, w = (_args.c_int(v, f"x: dimension {i + 1}") for i, v in enumerate((c, h, w)))
        num_candidates = _args.c_int(num_candidates, "num_candidates")
        overshoot = _args.real(overshoot, "overshoot")
        max_iter = _args.c_int(max_iter, "max_iter")
        ratios = np.empty(n, np.float64)
        mean = ctypes.c_double()
        with self._lock:
            self._live("deepfool")
            call(lib.lpc_deepfool, self._net, _arrays.ptr(x, ctypes.c_float), n, c, h, w,
                 num_candidates, overshoot, max_iter, _arrays.ptr(ratios, ctypes.c_double),
                 ctypes.byref(mean))
        return ratios, mean.value

    def _release(self):
        if self._net:
            lib.lpc_module_free(self._net)
            self._net = None
        if self._ctx:
            lib.lpc_ctx_free(self._ctx)
            self._ctx = None

    @property
    def closed(self):
        """Whether close() was called."""
        return self._net is None


def _tensor_array(t):
    """A NumPy view of tensor t's data (valid while t is)."""
    shape = tuple(lib.lpc_tensor_dim(t, d) for d in range(lib.lpc_tensor_ndim(t)))
    n = lib.lpc_tensor_numel(t)
    if n == 0:
        return np.zeros(shape, np.float32)
    return np.ctypeslib.as_array(lib.lpc_tensor_cdata(t), (n,)).reshape(shape)


__all__ = ["Model", "infer_spec", "read_shapes", "NAME_STYLES", "LPCError"]

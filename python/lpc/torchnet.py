"""PyTorch twins of liblpc's networks, and safetensors files for PyTorch.

Needs PyTorch (imported when this module is); the rest of the package does
not. ``Net(spec)`` is the PyTorch module with the same structure, names and
arithmetic as ``lpc.Model(spec)`` (CIFAR-style ResNet with SiLU and a 3x3
stem, or the dense MLP; optional penultimate layer; linear classifier), so
that a state_dict moves between them by name:

    net = lpc.torchnet.load("model.safetensors")        # a liblpc network in PyTorch
    lpc.torchnet.save("mine.safetensors", net)          # ... and back to liblpc

``names="torchvision"`` builds blocks whose projection shortcut is called
``downsample`` (torchvision's name; liblpc's own is ``shortcut``). PyTorch's
batch norms also carry ``num_batches_tracked``, which liblpc writes in the
torchvision style and ignores when reading.

The safetensors reader and writer here are plain Python (the file format is
an 8-byte header length, a JSON header and raw little-endian bytes), so the
``safetensors`` package is not needed."""
import json
import os
import struct
import tempfile
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from . import _args, model as _model

BN_EPS = 1e-5  # liblpc's batch norm (LPCI_BN_EPS) and momentum 0.1 are PyTorch's defaults


class Block(nn.Module):
    """Post-activation basic block or bottleneck with SiLU, as liblpc's."""

    def __init__(self, bottleneck, cin, width, stride, shortcut_name, inner=None):
        super().__init__()
        out = width * 4 if bottleneck else width
        inner = inner or width  # wide bottlenecks: 2 x width
        if bottleneck:
            convs = [(cin, inner, 1, 1), (inner, inner, 3, stride), (inner, out, 1, 1)]
        else:
            convs = [(cin, width, 3, stride), (width, width, 3, 1)]
        self.n = len(convs)
        for i, (a, b, k, s) in enumerate(convs, 1):
            setattr(self, f"conv{i}", nn.Conv2d(a, b, k, s, k // 2, bias=False))
            setattr(self, f"bn{i}", nn.BatchNorm2d(b, eps=BN_EPS))
        self.shortcut_name = None
        if stride != 1 or cin != out:
            self.shortcut_name = shortcut_name
            setattr(self, shortcut_name, nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False),
                                                       nn.BatchNorm2d(out, eps=BN_EPS)))

    def forward(self, x):
        y = x
        for i in range(1, self.n):
            y = nn.functional.silu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(y)))
        y = getattr(self, f"bn{self.n}")(getattr(self, f"conv{self.n}")(y))
        s = getattr(self, self.shortcut_name)(x) if self.shortcut_name else x
        return nn.functional.silu(y + s)


class ResNet(nn.Module):
    """liblpc's lpc_resnet_new: 3x3 stem, stages (stride 2 after the first),
    global average pooling."""

    def __init__(self, b, shortcut_name="shortcut"):
        super().__init__()
        bottleneck = b["block"] in ("bottleneck", "wide_bottleneck")
        factor = 2 if b["block"] == "wide_bottleneck" else 1
        self.conv1 = nn.Conv2d(b["in_channels"], b["stem_width"], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(b["stem_width"], eps=BN_EPS)
        cin = b["stem_width"]
        for s, (width, blocks) in enumerate(zip(b["widths"], b["blocks"])):
            layer = []
            for i in range(blocks):
                layer.append(Block(bottleneck, cin, width, 2 if s > 0 and i == 0 else 1,
                                   shortcut_name, factor * width))
                cin = width * (4 if bottleneck else 1)
            setattr(self, f"layer{s + 1}", nn.Sequential(*layer))
        self.n_stages = len(b["widths"])

    def forward(self, x):
        x = nn.functional.silu(self.bn1(self.conv1(x)))
        for s in range(1, self.n_stages + 1):
            x = getattr(self, f"layer{s}")(x)
        return x.mean(dim=(2, 3))


def _mlp(b):
    return nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten()), ("fc1", nn.Linear(b["in_features"], b["width"])),
        ("act1", nn.SiLU()), ("fc2", nn.Linear(b["width"], b["width"])), ("act2", nn.SiLU())]))


class Net(nn.Module):
    """backbone -> [penultimate] -> classifier; forward returns (z, logits)."""

    def __init__(self, spec, names="native"):
        super().__init__()
        if names not in ("native", "torchvision"):
            raise ValueError(f"names must be 'native' or 'torchvision', got {names!r}")
        spec = _model.check_spec(spec)
        self.names = names
        b = spec["backbone"]
        shortcut = "downsample" if names == "torchvision" else "shortcut"
        self.backbone = _mlp(b) if b["kind"] == "mlp" else ResNet(b, shortcut)
        p = spec.get("penultimate")
        self.penultimate = None
        if p:
            lin = nn.Linear(p["in_features"], p["width"], bias=p["bias"])
            self.penultimate = nn.Sequential(lin, nn.SiLU()) if p["nonlinear"] else lin
        c = spec["classifier"]
        self.classifier = nn.Linear(c["in_features"], c["num_classes"], bias=c["bias"])

    def forward(self, x):
        z = self.backbone(x)
        if self.penultimate is not None:
            z = self.penultimate(z)
        return z, self.classifier(z)


_DTYPES = {"F32": (torch.float32, "<f4"), "F64": (torch.float64, "<f8"),
           "I64": (torch.int64, "<i8"), "I32": (torch.int32, "<i4")}


def _bad(path, what):
    return ValueError(f"{os.fsdecode(path)}: not a safetensors file this reader takes: {what}")


def read_safetensors(path):
    """{name: tensor} of a safetensors file (F32, F64, I32, I64 tensors) and
    its metadata dict. LPCError LPC_E_IO when the file cannot be opened or
    is not a regular file; ValueError naming the file and the flaw when the
    bytes are not such a file (header length, JSON, dtypes, shapes and data
    offsets are all checked against the file's size)."""
    path = _args.c_path(path)
    with _args.open_regular(path, "lpc.torchnet.read_safetensors") as f:
        raw = f.read()
    if len(raw) < 8:
        raise _bad(path, f"{len(raw)} bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise _bad(path, f"header of {n} bytes in a file of {len(raw)}")
    try:
        header = json.loads(raw[8:8 + n])
    except (ValueError, UnicodeDecodeError) as e:
        raise _bad(path, f"header: {e}") from None
    if not isinstance(header, dict):
        raise _bad(path, "header is not a JSON object")
    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict):
        raise _bad(path, "__metadata__ is not an object")
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        try:
            dtype, np_dtype = _DTYPES[e["dtype"]]
            shape = [int(d) for d in e["shape"]]
            begin, end = (int(v) for v in e["data_offsets"])
            if any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in e["shape"]):
                raise ValueError(f"shape {e['shape']}")
        except (KeyError, TypeError, ValueError) as err:
            raise _bad(path, f"tensor '{name}': {err!r}") from None
        size = int(np.prod(shape, dtype=object)) * np.dtype(np_dtype).itemsize
        if not 0 <= begin <= end <= len(data) or end - begin != size:
            raise _bad(path, f"tensor '{name}': data offsets [{begin}, {end}) for {size} bytes "
                             f"of {len(data)}")
        a = np.frombuffer(data[begin:end], dtype=np_dtype).reshape(shape)
        out[name] = torch.from_numpy(a.copy()).to(dtype)
    return out, meta


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} (float32/float64/int32/int64) as safetensors,
    atomically: into a temporary file beside path, renamed over it when
    complete (as liblpc writes files)."""
    path = _args.c_path(path)
    if not isinstance(tensors, dict):
        raise TypeError(f"tensors: needs a dict {{name: tensor}}, got {type(tensors).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata: needs a dict or None, got {type(metadata).__name__}")
    codes = {v[0]: k for k, v in _DTYPES.items()}
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise ValueError(f"tensors: {name!r} cannot name a tensor")
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"tensors['{name}']: needs a torch.Tensor, got {type(t).__name__}")
        t = t.detach().cpu().contiguous()
        if t.dtype not in codes:
            raise TypeError(f"tensors['{name}']: dtype {t.dtype} is not one of "
                            f"{sorted(str(c) for c in codes)}")
        b = t.numpy().astype(_DTYPES[codes[t.dtype]][1], copy=False).tobytes()
        header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-(8 + len(h)) % 8)
    folder, base = os.path.split(path)
    fd, tmp = tempfile.mkstemp(prefix=base + b".tmp-", dir=folder or b".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path, names="native"):
    """A Net with the architecture and weights of a liblpc safetensors file
    (names as it was written; see lpc.Model.save_safetensors), in eval mode.
    Every stored tensor must fit (strict load_state_dict); only the batch
    counters that native-named files lack are left at their defaults."""
    tensors, _ = read_safetensors(path)
    shapes = {k: tuple(v.shape) for k, v in tensors.items()}
    try:
        spec = _model.infer_spec(shapes)
    except ValueError as e:
        raise _bad(_args.c_path(path), str(e)) from None
    net = Net(spec, names)
    missing, unexpected = net.load_state_dict(tensors, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"{path}: missing {missing[:3]}, unexpected {unexpected[:3]}")
    return net.eval()


def save(path, net, description=None):
    """Writes a Net's state_dict as safetensors for liblpc: load it with
    lpc.Model.load(path, names=net.names). The batch counters
    (num_batches_tracked) are kept in the torchvision style and left out in
    the native one, as liblpc writes them."""
    if not isinstance(net, Net):
        raise TypeError(f"net: needs an lpc.torchnet.Net, got {type(net).__name__}")
    meta = {"format": "pt"}
    if description is not None and not isinstance(description, str):
        raise TypeError(f"description: needs a str, got {type(description).__name__}")
    if description is not None:
        meta["description"] = description
    state = {k: v for k, v in net.state_dict().items()
             if net.names == "torchvision" or not k.endswith(".num_batches_tracked")}
    write_safetensors(path, state, meta)

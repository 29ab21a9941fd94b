#!/usr/bin/python3
"""Every public function of the lpc package misused (meson suite 'python',
and under AddressSanitizer, doc/reliability.md): wrong dtypes, shapes and
layouts, 0-d arrays, integers beyond their C type, bools and floats for
integers, NaN and infinities, closed models, files that are not regular
files or describe oversized networks, and threads sharing one model. Each
misuse must end in an exception that names the argument (never a crash,
a hang, a silently truncated value or uninitialised memory), and valid
calls from several threads must give the sequential results.

Needs only the library (LPC_LIBRARY) and NumPy; the lpc.torchnet part runs
when PyTorch is importable and LPC_TEST_TORCH is not 0. Exit status 77
(skip) when NumPy is missing."""
import json
import os
import struct
import sys
import tempfile
import threading
import time

try:
    import numpy as np
except ImportError:
    print("numpy is not installed (python3-numpy); skipping")
    sys.exit(77)

import lpc
from lpc import _lib

FAILURES = []
TESTED = set()  # public names whose misuse was exercised


def expect(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


def raises(exc, fn, *args, contains=None, name=None, **kw):
    """fn(*args, **kw) raises exc, whose text contains `contains` (a str
    or a tuple of str) and whose status name is `name`."""
    label = getattr(fn, "__qualname__", repr(fn))
    try:
        fn(*args, **kw)
    except exc as e:
        for part in ((contains,) if isinstance(contains, str) else contains or ()):
            if part not in str(e):
                FAILURES.append(f"{label}: '{part}' not in '{e}'")
                print("FAIL: message of", label, "lacks", repr(part), "in:", e)
        if name is not None and getattr(e, "name", None) != name:
            FAILURES.append(f"{label}: status {getattr(e, 'name', None)}, expected {name}")
            print("FAIL: status of", label, e)
        if not str(e).strip() or str(e).rstrip().endswith(":"):
            FAILURES.append(f"{label}: message without text: '{e}'")
            print("FAIL: empty message from", label, repr(e))
        return e
    except Exception as e:  # the wrong exception
        FAILURES.append(f"{label}: {type(e).__name__} ({e}), expected {exc.__name__}")
        print("FAIL:", label, "raised", type(e).__name__, e, "expected", exc.__name__)
        return None
    FAILURES.append(f"{label} did not raise {exc.__name__}")
    print("FAIL: no", exc.__name__, "from", label,
          [getattr(a, "shape", a) for a in args], kw)
    return None


def data(n=60, p=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % k).astype(np.int64)
    z = (rng.normal(size=(k, p))[y] * 3 + rng.normal(size=(n, p))).astype(np.float32)
    return z, y


MLP = {"backbone": {"kind": "mlp", "in_features": 5, "width": 8},
       "penultimate": {"nonlinear": True, "in_features": 8, "width": 4, "bias": True},
       "classifier": {"in_features": 4, "num_classes": 3, "bias": True}}
RESNET = {"backbone": {"kind": "resnet", "block": "basic", "in_channels": 2, "stem_width": 4,
                       "widths": [4, 6], "blocks": [1, 1]},
          "classifier": {"in_features": 6, "num_classes": 3, "bias": False}}
BOTTLENECK = {"backbone": {"kind": "resnet", "block": "bottleneck", "in_channels": 3,
                           "stem_width": 4, "widths": [2, 3], "blocks": [2, 1]},
              "penultimate": {"nonlinear": False, "in_features": 12, "width": 5, "bias": False},
              "classifier": {"in_features": 5, "num_classes": 4, "bias": True}}

# Integers ctypes would have truncated (2**32 + 4 -> 4), and what is no integer.
BEYOND_INT = [2**31, 2**32 + 4, -2**31 - 1, 2**64 + 1]
NOT_INT = [True, np.True_, 2.0, np.float64(3), "3", None, [3]]


def integer_argument(label, fn, valid, beyond=BEYOND_INT, not_int=NOT_INT):
    """fn(v) works for valid (also as a NumPy integer) and refuses every
    value of beyond with OverflowError and of not_int with TypeError, both
    naming the value."""
    try:
        fn(valid)
        fn(np.int64(valid))
    except Exception as e:
        FAILURES.append(f"{label}: valid value {valid} refused: {e}")
        print("FAIL:", label, valid, e)
    for v in beyond:
        raises(OverflowError, fn, v, contains=(label, str(v)))
    for v in not_int:
        raises(TypeError, fn, v, contains=label)


# ---- analysis ----------------------------------------------------------------

def feature_arrays(label, fn, z, empty=lpc.LPCError, numeric=True):
    """fn(features) refuses non-real dtypes, the wrong number of dimensions
    (0-d included), floats beyond float32; converts non-contiguous,
    Fortran-ordered, big-endian and float64 arrays to the same result;
    NaN and infinity are the library's LPC_E_NUMERIC."""
    ref = fn(z)
    for bad in (z.astype(object), z.astype(np.complex64), z.astype(str), z > 0):
        raises(TypeError, fn, bad, contains="real numbers")
    for bad in (np.float32(1.0), z[0], z[None]):
        raises(ValueError, fn, bad, contains="2-D")
    raises(TypeError, fn, [[1.0, 2.0], [3.0]], contains="not convertible")
    raises(ValueError, fn, z.astype(np.float64) * 1e300, contains="float32")
    wide = np.zeros((z.shape[0], 2 * z.shape[1]), np.float32)
    wide[:, ::2] = z
    for same in (wide[:, ::2], np.asfortranarray(z), z.astype(">f4"), z.astype(np.float64)):
        r = fn(same)
        expect(_equal(r, ref), f"{label}: converted array gives {r}, expected {ref}")
    for v in (np.nan, np.inf, -np.inf) if numeric else ():
        bad = z.copy()
        bad[3, 1] = v
        raises(lpc.LPCError, fn, bad, name="LPC_E_NUMERIC", contains="not finite")
    raises(empty, fn, z[:0], contains="N")


def rows(a):
    """The number of samples of a feature argument (0 for a 0-d array)."""
    return len(a) if getattr(a, "ndim", 1) else 0


def _equal(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return np.array_equal(a, b)


def label_arrays(fn, z, y):
    """fn(z, labels) refuses float/bool/object labels, wrong counts and 2-D
    labels; a label that makes more classes than a C int holds is refused
    with the label named (it was k = -2147483648)."""
    for bad in (y.astype(np.float32), y > 0, y.astype(object)):
        raises(TypeError, fn, z, bad, contains="integer labels")
    raises(ValueError, fn, z, y[:-1], contains="entries for")
    raises(ValueError, fn, z, y[None], contains="1-D")
    raises(ValueError, fn, z, np.int64(1), contains="1-D")
    raises(ValueError, fn, z, y + 2**40, contains="beyond int32")
    big = y.astype(np.int32)
    big[-1] = 2**31 - 1
    raises(OverflowError, fn, z, big, contains=("2147483647", "C int"))
    neg = y.copy()
    neg[4] = -1
    raises(lpc.LPCError, fn, z, neg, name="LPC_E_ARG", contains="-1")


def test_analysis():
    z, y = data()
    with_k = {"separation_ratio": lpc.separation_ratio, "sigma_w": lpc.sigma_w,
              "neural_collapse": lpc.neural_collapse}
    for name, fn in with_k.items():
        TESTED.add(name)
        feature_arrays(name, lambda a, fn=fn: fn(a, y[:rows(a)]), z)
        label_arrays(fn, z, y)
        integer_argument("k", lambda k, fn=fn: fn(z, y, k=k), 3,
                         not_int=[True, 3.0, "3", [3]])
        raises(lpc.LPCError, fn, z, y, k=2, name="LPC_E_ARG", contains="label 2")
    TESTED.update({"norm_cov", "kl_entropy", "binarity", "analyze"})
    feature_arrays("norm_cov", lpc.norm_cov, z)
    feature_arrays("kl_entropy", lambda a: lpc.kl_entropy(a, 3), z)
    feature_arrays("binarity", lpc.binarity, z)
    integer_argument("k", lambda k: lpc.kl_entropy(z, k), 3)
    raises(lpc.LPCError, lpc.kl_entropy, z, -1, name="LPC_E_ARG", contains="lpc_kl_entropy")
    raises(lpc.LPCError, lpc.kl_entropy, z, 2**31 - 1, name="LPC_E_ARG")
    for bad in (2, 0.5, "yes", None):
        raises(TypeError, lpc.kl_entropy, z, 3, bad, contains="standardize")
    expect(lpc.kl_entropy(z, 3, np.True_) == lpc.kl_entropy(z, 3, 1), "standardize as 1")
    # analyze: its arrays and integers as the functions it calls.
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feature_arrays("analyze", lambda a: lpc.analyze(a, y[:rows(a)], k=3),
                       z, ValueError, numeric=False)
        bad = z.copy()
        bad[3, 1] = np.inf
        expect(all(v is None for v in lpc.analyze(bad, y, k=3).values()),
               "analyze with an infinite feature: every metric undefined")
    raises(ValueError, lpc.analyze, z[:0], y[:0], contains="N, P >= 1")
    integer_argument("k", lambda k: lpc.analyze(z, y, k=k), 3)
    raises(TypeError, lpc.analyze, z, y, standardize="no", contains="standardize")
    raises(ValueError, lpc.analyze, z, y, weights=np.zeros((3, 4)), contains="weights")
    raises(ValueError, lpc.analyze, z, y, logits=np.zeros((60, 2)), contains="logits")
    raises(TypeError, lpc.analyze, z, y.astype(np.float64), contains="integer labels")
    # neural_collapse's optional arrays.
    raises(ValueError, lpc.neural_collapse, z, y, weights=np.zeros((3, 4)), contains="weights")
    raises(ValueError, lpc.neural_collapse, z, y, weights=np.zeros(3), contains="2-D")
    raises(ValueError, lpc.neural_collapse, z, y, bias=np.zeros(2), contains="bias")
    raises(ValueError, lpc.neural_collapse, z, y, predictions=y[:3], contains="predictions")
    w = np.ones((3, 5), np.float32)
    w[1, 1] = np.nan
    raises(lpc.LPCError, lpc.neural_collapse, z, y, weights=w, name="LPC_E_NUMERIC")
    # 1-D series.
    TESTED.update({"pearson", "gmm1d_fit"})
    x = np.linspace(0, 1, 30)
    for fn, label in ((lambda a: lpc.pearson(a, x[::-1].copy()), "pearson"),
                      (lpc.gmm1d_fit, "gmm1d_fit")):
        raises(ValueError, fn, np.float64(1.0), contains="1-D")
        raises(ValueError, fn, x[None], contains="1-D")
        raises(TypeError, fn, x.astype(np.complex128), contains="real numbers")
        expect(_equal(fn(x[::-1][::-1]), fn(x.copy())), f"{label}: strided series")
        for v in (np.nan, np.inf):
            bad = x.copy()
            bad[2] = v
            raises(lpc.LPCError, fn, bad, name="LPC_E_NUMERIC", contains="not finite")
    raises(lpc.LPCError, lpc.pearson, x[:1], x[:1], name="LPC_E_ARG", contains="n >= 2")
    raises(lpc.LPCError, lpc.gmm1d_fit, x[:1], name="LPC_E_ARG", contains="n >= 2")
    raises(ValueError, lpc.pearson, x, x[:-1], contains="29")
    TESTED.add("ln_unit_ball_volume")
    integer_argument("d", lpc.ln_unit_ball_volume, 3)
    expect(np.isnan(lpc.ln_unit_ball_volume(-1)), "ln_unit_ball_volume(-1) is NaN")
    TESTED.update({"set_num_threads", "get_num_threads"})
    before = lpc.get_num_threads()
    integer_argument("n", lpc.set_num_threads, 2)
    raises(lpc.LPCError, lpc.set_num_threads, 0, name="LPC_E_ARG", contains="1..1024")
    raises(lpc.LPCError, lpc.set_num_threads, 1025, name="LPC_E_ARG", contains="1..1024")
    expect(lpc.get_num_threads() == 2, "a refused thread count changed the count")
    lpc.set_num_threads(before)


def test_error_text():
    """A failure whose message the library left empty still names the status
    and the function; a stale message of an earlier failure is never shown."""
    z, y = data()
    raises(lpc.LPCError, lpc.separation_ratio, z, y, 2)  # leaves a message behind

    def lpc_pretend_failure():
        return -2

    e = raises(lpc.LPCError, _lib.call, lpc_pretend_failure, name="LPC_E_SHAPE",
               contains=("lpc_pretend_failure", "shape mismatch"))
    expect(e is not None and "label" not in str(e), f"stale message: {e}")
    e = _lib.error(-4, "")
    expect(e.name == "LPC_E_IO" and "input/output error" in str(e), f"error(-4, ''): {e}")
    TESTED.add("LPCError")
    expect(e.status == -4 and e.message, "LPCError attributes")


# ---- models ------------------------------------------------------------------

def write_safetensors(path, arrays, header_extra=None):
    """A safetensors file of {name: float32 array}, written here so that
    shapes no writer of liblpc would produce can be given."""
    header, blobs, off = dict(header_extra or {}), [], 0
    for name, a in arrays.items():
        b = np.ascontiguousarray(a, "<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def test_spec_shapes():
    """The architecture check's idea of every tensor is what the library
    builds (so that it never refuses a valid file)."""
    from lpc import model as lm
    for spec in (MLP, RESNET, BOTTLENECK):
        with lpc.Model(spec) as m:
            built = {k: v.shape for k, v in m.state_dict().items()}
        expect(built == lm.tensor_shapes(lm.check_spec(spec)),
               f"tensor_shapes differs from the network built for {spec['backbone']}")
        expect(lpc.infer_spec(built) == lm.check_spec(spec), f"infer_spec of {spec['backbone']}")


def test_specs():
    TESTED.update({"Model", "Model.new"})
    for ctor in (lpc.Model, lpc.Model.new):
        raises(TypeError, ctor, [MLP], contains="spec")
        raises(ValueError, ctor, {"backbone": MLP["backbone"]}, contains="classifier")

    def resnet(**change):
        spec = json.loads(json.dumps(RESNET))
        spec["backbone"].update(change)
        return spec

    # A width of 2**32 + 4 was a width-4 network.
    integer_argument("widths", lambda v: lpc.Model(resnet(widths=[4, v])).close(), 6,
                     beyond=[2**32 + 6, 2**31], not_int=[True, 6.0, "6"])
    integer_argument("stem_width", lambda v: lpc.Model(resnet(stem_width=v)).close(), 4,
                     beyond=[2**32 + 4], not_int=[True, 4.0])
    integer_argument("in_channels", lambda v: lpc.Model(resnet(in_channels=v)).close(), 2,
                     beyond=[2**32 + 2], not_int=[False, 2.5])
    raises(OverflowError, lpc.Model, resnet(block="bottleneck", widths=[4, 2**30]),
           contains="x 4")
    for bad in ([4, 0], [4, -6]):
        raises(ValueError, lpc.Model, resnet(widths=bad), contains=">= 1")
    raises(ValueError, lpc.Model, resnet(widths=[4], blocks=[1, 1]), contains="same number")
    raises(ValueError, lpc.Model, resnet(widths=[], blocks=[]), contains="same number")
    raises(TypeError, lpc.Model, resnet(widths=4), contains="list")
    raises(ValueError, lpc.Model, resnet(block="dense"), contains="basic")
    raises(ValueError, lpc.Model, resnet(depth=3), contains="unknown keys ['depth']")
    wrong = json.loads(json.dumps(RESNET))
    wrong["classifier"]["in_features"] = 5
    raises(ValueError, lpc.Model, wrong, contains="gives 6")
    mlp = json.loads(json.dumps(MLP))
    mlp["classifier"]["bias"] = 2
    raises(TypeError, lpc.Model, mlp, contains="bias")
    integer_argument("seed", lambda s: lpc.Model(MLP, seed=s).close(), 7,
                     beyond=[2**64, -1], not_int=[True, 7.0])
    # infer_spec: what its shapes dict may hold.
    TESTED.add("infer_spec")
    raises(ValueError, lpc.infer_spec, {"backbone.conv1.weight": ()},
           contains=("backbone.conv1.weight", "()"))
    raises(ValueError, lpc.infer_spec, {"backbone.fc1.weight": (8,)}, contains="fc1")
    raises(TypeError, lpc.infer_spec, {"backbone.fc1.weight": 8}, contains="fc1")
    raises(TypeError, lpc.infer_spec, {"backbone.fc1.weight": (8, 2.0)}, contains="fc1")
    raises(ValueError, lpc.infer_spec, {"backbone.fc1.weight": (8, -2)}, contains="fc1")
    raises(TypeError, lpc.infer_spec, [("backbone.fc1.weight", (8, 2))], contains="dict")
    raises(TypeError, lpc.infer_spec, {}, prefix=3, contains="prefix")
    raises(ValueError, lpc.infer_spec, {}, contains="no tensor")
    # Names are read in one pass: 20 000 stages take no quadratic time.
    many = {"backbone.conv1.weight": (4, 3, 3, 3), "classifier.weight": (2, 4)}
    many.update({f"backbone.layer{st}.0.conv1.weight": (4, 4, 3, 3) for st in range(1, 20001)})
    t0 = time.monotonic()
    raises(ValueError, lpc.infer_spec, many, contains="backbone.bn1.weight")
    expect(time.monotonic() - t0 < 10, "infer_spec of 20 000 stages took long")


def huge_resnet_file(path):
    """A file of under 2 KB whose zero-element tensors would make a ResNet
    of 2**20-wide stages (the network tens of gigabytes, the data absent)."""
    w = 2**20
    arrays = {"backbone.conv1.weight": np.zeros((4, 3, 3, 3)),
              "backbone.layer1.0.conv1.weight": np.zeros((w, 0, 3, 3)),
              "backbone.layer2.0.conv1.weight": np.zeros((w, 0, 3, 3)),
              "classifier.weight": np.zeros((10, 0))}
    write_safetensors(path, arrays)


def test_files(tmp):
    TESTED.update({"Model.load", "read_shapes"})
    good = os.path.join(tmp, "good.safetensors")
    with lpc.Model(RESNET) as m:
        m.save_safetensors(good)
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    for fn in (lpc.Model.load, lpc.read_shapes):
        # Each would block forever opening the FIFO; a watchdog makes that a failure.
        done = threading.Event()
        watchdog = threading.Timer(20, lambda: done.is_set() or os._exit(3))
        watchdog.start()
        raises(lpc.LPCError, fn, fifo, name="LPC_E_IO", contains="not a regular file (a FIFO)")
        done.set()
        watchdog.cancel()
        raises(lpc.LPCError, fn, tmp, name="LPC_E_IO", contains="a folder")
        raises(lpc.LPCError, fn, "/dev/null", name="LPC_E_IO", contains="a device")
        raises(lpc.LPCError, fn, os.path.join(tmp, "missing"), name="LPC_E_IO",
               contains="cannot open")
        raises(ValueError, fn, good + "\0.txt", contains="NUL")
        raises(ValueError, fn, "", contains="empty")
        raises(TypeError, fn, 3, contains="path")
    # str, bytes and os.PathLike name the same file.
    import pathlib
    for p in (good, good.encode(), pathlib.Path(good)):
        expect(lpc.read_shapes(p)[0] == lpc.read_shapes(good)[0], f"read_shapes({p!r})")
        lpc.Model.load(p).close()
    raises(ValueError, lpc.Model.load, good, names="keras", contains="names must be")
    raises(ValueError, lpc.Model.load, good, names=0, contains="names must be")
    raises(TypeError, lpc.Model.load, good, prefix=b"model.", contains="prefix")
    raises(ValueError, lpc.Model.load, good, prefix="a\0b", contains="NUL")
    # Damaged files: the library's messages.
    raw = open(good, "rb").read()
    cut = os.path.join(tmp, "cut.safetensors")
    with open(cut, "wb") as f:
        f.write(raw[:len(raw) // 2])
    raises(lpc.LPCError, lpc.Model.load, cut, name="LPC_E_FORMAT", contains="cut.safetensors")
    ck = os.path.join(tmp, "bad.lpcc")
    with open(ck, "wb") as f:
        f.write(b"\x89LPCCKPT" + b"\xff" * 40)
    raises(lpc.LPCError, lpc.Model.load, ck, name="LPC_E_FORMAT", contains="bad.lpcc")
    # Oversized architectures are refused before anything is built.
    huge = os.path.join(tmp, "huge.safetensors")
    huge_resnet_file(huge)
    t0 = time.monotonic()
    raises(lpc.LPCError, lpc.Model.load, huge, name="LPC_E_FORMAT",
           contains=("huge.safetensors", "backbone.layer1.0.conv1.weight"))
    expect(time.monotonic() - t0 < 5, "the oversized network took long to refuse")
    # A plausible-looking file whose stage widths the later tensors contradict.
    shapes = {k: v for k, v in lpc.read_shapes(good)[0].items()}
    shapes["backbone.layer1.0.conv1.weight"] = (2**20, 4, 3, 3)
    raises(ValueError, lpc.infer_spec, shapes, contains="backbone.layer1.0.bn1")
    # What a tensor missing from the file looks like.
    partial = {k: np.zeros(s) for k, s in lpc.read_shapes(good)[0].items()
               if "layer2.0.bn2" not in k}
    path = os.path.join(tmp, "partial.safetensors")
    write_safetensors(path, partial)
    raises(lpc.LPCError, lpc.Model.load, path, name="LPC_E_FORMAT",
           contains="no tensor 'backbone.layer2.0.bn2")


def test_model_calls(tmp):
    rng = np.random.default_rng(1)
    m = lpc.Model(MLP, seed=3)
    x = rng.normal(size=(9, 5)).astype(np.float32)
    ref_z, ref_logits = m.forward(x)
    TESTED.update({"Model.forward", "Model.evaluate", "Model.deepfool", "Model.state_dict",
                   "Model.save_safetensors", "Model.close", "Model.layer_outputs"})
    for fn in (m.forward, lambda a: m.evaluate(a)["logits"],
               lambda a: m.deepfool(a, max_iter=3)[0]):
        raises(ValueError, fn, np.float32(1), contains="N x C x H x W")
        raises(ValueError, fn, x[0], contains="N x C x H x W")
        raises(ValueError, fn, x[:, :, None], contains="N x C x H x W")
        raises(TypeError, fn, x.astype(object), contains="real numbers")
        raises(TypeError, fn, x.astype(np.complex64), contains="real numbers")
        raises(ValueError, fn, x.astype(np.float64) * 1e300, contains="float32")
        raises(lpc.LPCError, fn, x[:, :3], name="LPC_E_SHAPE")
    # Layout conversions give the same numbers; 4-D input is flattened.
    wide = np.zeros((9, 10), np.float32)
    wide[:, ::2] = x
    for same in (wide[:, ::2], np.asfortranarray(x), x.astype(">f4"), x.reshape(9, 5, 1, 1)):
        expect(np.array_equal(m.forward(same)[1], ref_logits), "forward of a converted array")
    # batch_size: a positive integer (-1 returned uninitialised memory).
    for bs in (-1, 0, -2**40):
        raises(ValueError, m.forward, x, batch_size=bs, contains=("batch_size", str(bs)))
        raises(ValueError, m.evaluate, x, batch_size=bs, contains="batch_size")
    integer_argument("batch_size", lambda b: m.forward(x, batch_size=b), 4,
                     beyond=[2**63, 2**64 + 4], not_int=[True, 4.0, "4", None])
    for bs in (1, 4, 9, 2**40):
        expect(np.array_equal(m.forward(x, batch_size=bs)[0], ref_z), f"batch_size {bs}")
    z0, l0 = m.forward(x[:0])
    expect(z0.shape == (0, 4) and l0.shape == (0, 3), "forward of no samples")
    # NaN inputs compute as IEEE arithmetic does (the C API does not check them).
    bad = x.copy()
    bad[2, 0] = np.nan
    z, logits = m.forward(bad)
    expect(np.isnan(logits[2]).all() and np.array_equal(logits[3:], ref_logits[3:]),
           "forward with a NaN sample")
    # layer_outputs: a list of module paths; the library names an unknown one.
    raises(TypeError, m.layer_outputs, x, "classifier", contains="list of str")
    raises(TypeError, m.layer_outputs, x, [1], contains="names[0]")
    raises(ValueError, m.layer_outputs, x, [], contains="at least one")
    raises(ValueError, m.layer_outputs, x, ["a\0b"], contains="NUL")
    raises(lpc.LPCError, m.layer_outputs, x, ["classifier", "backbone.nope"], name="LPC_E_ARG",
           contains="'backbone.nope'")
    raises(lpc.LPCError, m.layer_outputs, x[:, :3], ["classifier"], name="LPC_E_SHAPE")
    raises(ValueError, m.layer_outputs, x, ["classifier"], batch_size=0, contains="batch_size")
    expect(m.layer_outputs(x[:0], ["penultimate"])["penultimate"].shape == (0, 4),
           "layer_outputs of no samples")
    # evaluate's labels.
    raises(ValueError, m.evaluate, x, labels=np.zeros(8, int), contains="8 entries for 9")
    raises(TypeError, m.evaluate, x, labels=np.zeros(9), contains="integer labels")
    # deepfool: integers, overshoot, samples.
    integer_argument("max_iter", lambda v: m.deepfool(x[:2], max_iter=v), 3,
                     beyond=[2**32, 2**31])
    integer_argument("num_candidates", lambda v: m.deepfool(x[:2], num_candidates=v, max_iter=3),
                     3, beyond=[2**32 + 3])
    raises(lpc.LPCError, m.deepfool, x[:2], max_iter=0, name="LPC_E_ARG", contains="max_iter")
    raises(lpc.LPCError, m.deepfool, x[:2], num_candidates=1, name="LPC_E_ARG",
           contains="num_candidates")
    for v in (np.nan, np.inf, -np.inf):
        raises(ValueError, m.deepfool, x[:2], overshoot=v, contains="overshoot")
    for v in ("0.1", None, True):
        raises(TypeError, m.deepfool, x[:2], overshoot=v, contains="overshoot")
    raises(lpc.LPCError, m.deepfool, x[:2], overshoot=-1.0, name="LPC_E_ARG")
    raises(lpc.LPCError, m.deepfool, bad[:4], name="LPC_E_NUMERIC", contains="sample 2")
    raises(lpc.LPCError, m.deepfool, x[:0], name="LPC_E_ARG")
    # A zero-element array with a dimension beyond C int (it was truncated to 0).
    raises(OverflowError, m.deepfool, np.empty((1, 2**32, 0, 1), np.float32),
           contains="dimension 1")
    # save_safetensors' arguments.
    out = os.path.join(tmp, "m.safetensors")
    raises(ValueError, m.save_safetensors, out, names="keras", contains="names must be")
    raises(TypeError, m.save_safetensors, out, description=3, contains="description")
    raises(ValueError, m.save_safetensors, out, description="a\0b", contains="NUL")
    raises(ValueError, m.save_safetensors, out + "\0x", contains="NUL")
    raises(lpc.LPCError, m.save_safetensors, os.path.join(tmp, "no", "dir.st"), name="LPC_E_IO")
    m.save_safetensors(out, description="ünïcode")
    expect(lpc.Model.load(out).metadata["description"] == "ünïcode", "unicode description")
    # Closed: every method says so (it raised "LPC_E_ARG: " with no text).
    sd = m.state_dict()
    m.close()
    m.close()
    expect(m.closed, "closed")
    for fn, args in ((m.forward, (x,)), (m.evaluate, (x,)), (m.deepfool, (x,)),
                     (m.state_dict, ()), (m.save_safetensors, (out,))):
        raises(ValueError, fn, *args, contains="Model is closed")
    expect(sd["classifier.weight"].shape == (3, 4), "state_dict copies outlive the model")
    with lpc.Model(RESNET) as r:
        pass
    raises(ValueError, r.forward, np.zeros((1, 2, 4, 4)), contains="Model is closed")


def test_threads():
    """One Model shared by threads (forward, evaluate, deepfool, state_dict
    at once) gives the sequential results; so do separate Models and the
    analysis functions; each thread sees its own error message."""
    rng = np.random.default_rng(2)
    m = lpc.Model(RESNET, seed=1)
    xs = [rng.normal(size=(16, 2, 16, 16)).astype(np.float32) for _ in range(4)]
    ref = [m.forward(x, batch_size=4) for x in xs]
    ref_df = m.deepfool(xs[0][:2], max_iter=5)
    z, y = data(200, 6, 4, 3)
    ref_r = lpc.separation_ratio(z, y)
    results, errors = {}, []

    def worker(i):
        try:
            for rep in range(10):
                j = (i + rep) % 4
                got = m.forward(xs[j], batch_size=4)
                results[(i, rep)] = all(np.array_equal(a, b) for a, b in zip(got, ref[j]))
                if i == 0 and rep % 2 == 0:
                    results[(i, rep, "df")] = m.deepfool(xs[0][:2], max_iter=5)[1] == ref_df[1]
                if i == 1:
                    m.state_dict()
                if i == 2:
                    results[(i, rep, "r")] = lpc.separation_ratio(z, y) == ref_r
                if i == 3:
                    # A failing call on this thread: its own message, not another thread's.
                    try:
                        lpc.separation_ratio(z, y, 3)
                    except lpc.LPCError as e:
                        results[(i, rep, "err")] = "not in [0, 3)" in e.message
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expect(not errors, f"threads on one Model raised {errors[:2]}")
    expect(results and all(results.values()),
           f"threads on one Model: {[k for k, v in results.items() if not v]} differ")
    # Separate Models in parallel.
    models = [lpc.Model(RESNET, seed=1) for _ in range(3)]
    out = [None] * 3

    def own(i):
        out[i] = models[i].forward(xs[i], batch_size=5)

    threads = [threading.Thread(target=own, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expect(all(out[i] is not None and np.array_equal(out[i][1], ref[i][1]) for i in range(3)),
           "separate Models in threads")
    for mm in models:
        mm.close()
    # close() while other threads run forward: each call either completes
    # with the right numbers or says the model is closed.
    verdicts = []

    def user():
        for _ in range(20):
            try:
                verdicts.append(np.array_equal(m.forward(xs[1], batch_size=4)[1], ref[1][1]))
            except ValueError as e:
                verdicts.append("Model is closed" in str(e))

    threads = [threading.Thread(target=user) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.01)
    m.close()
    for t in threads:
        t.join()
    expect(len(verdicts) == 40 and all(verdicts), "forward racing close()")


# ---- out-of-distribution detection and generalized collapse -------------------

def series(label, fn, x):
    """fn(x) for a 1-D float64 series: 0-d and 2-D arrays and non-real
    dtypes refused, strided and float32 series converted, NaN and infinity
    the library's LPC_E_NUMERIC, an empty series its LPC_E_ARG."""
    ref = fn(x)
    raises(ValueError, fn, np.float64(1.0), contains="1-D")
    raises(ValueError, fn, x[None], contains="1-D")
    raises(TypeError, fn, x.astype(np.complex128), contains="real numbers")
    raises(TypeError, fn, x.astype(object), contains="real numbers")
    wide = np.zeros(2 * len(x))
    wide[::2] = x
    for same in (wide[::2], x.astype(">f8"), list(x)):
        expect(_equal(fn(same), ref), f"{label}: converted series")
    for v in (np.nan, np.inf, -np.inf):
        bad = x.copy()
        bad[2] = v
        raises(lpc.LPCError, fn, bad, name="LPC_E_NUMERIC", contains="not finite")
    raises(lpc.LPCError, fn, x[:0], name="LPC_E_ARG", contains="need >= 1")


def ood_data():
    z, y = data()
    rng = np.random.default_rng(4)
    w = rng.normal(size=(3, 5)).astype(np.float32)
    b = rng.normal(size=3).astype(np.float32)
    z_ood = rng.normal(0, 4, size=(20, 5)).astype(np.float32)
    return z, y, w, b, z_ood


def test_ood():
    z, y, w, b, z_ood = ood_data()
    logits = z @ w.T + b
    TESTED.update({"ood_metrics", "logit_scores", "generalized_collapse", "OODDetector",
                   "OODDetector.score", "OODDetector.nc5", "OODDetector.evaluate",
                   "OODDetector.close"})
    # ood_metrics: two 1-D score series.
    s_id, s_ood = np.linspace(0, 1, 30), np.linspace(-0.5, 0.7, 25)
    series("ood_metrics", lambda a: lpc.ood_metrics(a, s_ood), s_id)
    series("ood_metrics", lambda a: lpc.ood_metrics(s_id, a), s_ood)
    raises(ValueError, lpc.ood_metrics, s_id, np.float64(0.5), contains="ood_scores")
    # logit_scores: the logits as features, the score's name, the temperature.
    feature_arrays("logit_scores", lambda a: lpc.logit_scores(a, "msp"), logits)
    for bad in ("mahalanobis", "vim", "odin", "", None, 0, b"msp"):
        raises(ValueError, lpc.logit_scores, logits, bad, contains="score")
    for v in (np.nan, np.inf, -np.inf):
        raises(ValueError, lpc.logit_scores, logits, "energy", v, contains="temperature")
    for v in ("1", None, True, [1.0]):
        raises(TypeError, lpc.logit_scores, logits, "energy", v, contains="temperature")
    raises(OverflowError, lpc.logit_scores, logits, "energy", 10**400, contains="temperature")
    for v in (0.0, -1.0, 0):
        raises(lpc.LPCError, lpc.logit_scores, logits, "energy", v, name="LPC_E_ARG",
               contains="temperature")
    expect(np.array_equal(lpc.logit_scores(logits, "energy", 2),
                          lpc.logit_scores(logits, "energy", np.float32(2.0))),
           "logit_scores: an int and a NumPy temperature")
    raises(OverflowError, lpc.logit_scores, np.empty((0, 2**31), np.float32),
           contains="number of columns")
    # generalized_collapse: features, labels and k as the analysis functions.
    gnc = lpc.generalized_collapse
    feature_arrays("generalized_collapse", lambda a: gnc(a, y[:rows(a)], 3), z)
    label_arrays(gnc, z, y)
    integer_argument("k", lambda k: gnc(z, y, k=k), 3, not_int=[True, 3.0, "3", [3]])
    raises(lpc.LPCError, gnc, z, y, k=2, name="LPC_E_ARG", contains="label 2")
    raises(lpc.LPCError, gnc, z, y % 1, name="LPC_E_ARG", contains="1 classes")
    test_ood_detector(z, y, w, b, z_ood, logits)


def test_ood_detector(z, y, w, b, z_ood, logits):
    det = lpc.OODDetector
    # The training features and labels.
    feature_arrays("OODDetector", lambda a: det(a, y[:rows(a)], 3).score("mahalanobis", z), z)
    label_arrays(det, z, y)
    raises(lpc.LPCError, det, z, y, k=4, name="LPC_E_NUMERIC", contains="class 3")
    # The classifier: its shape must be (k, P) and b's (k,), or C reads past them.
    for bad, text in ((w[:2], "2 rows for 3 classes"), (w[:, :4], "4 columns, expected 5"),
                      (np.zeros((4, 5)), "4 rows for 3 classes"), (w[0], "2-D"),
                      (np.float32(1), "2-D")):
        raises(ValueError, det, z, y, w=bad, contains=text)
    raises(TypeError, det, z, y, w=w.astype(np.complex64), contains="w")
    raises(ValueError, det, z, y, w=w, b=b[:2], contains="2 entries for 3 classes")
    raises(ValueError, det, z, y, w=w, b=b[None], contains="1-D")
    raises(ValueError, det, z, y, b=b, contains="needs w")
    raises(TypeError, det, z, y, w=w, b=b.astype(object), contains="b")
    for v in (np.nan, np.inf):
        bad = w.copy()
        bad[1, 2] = v
        raises(lpc.LPCError, det, z, y, w=bad, name="LPC_E_NUMERIC", contains="w [1, 2]")
    ref = det(z, y, w=w, b=b).score("vim", z_ood)
    wide = np.zeros((3, 10), np.float32)
    wide[:, ::2] = w
    for same in (wide[:, ::2], np.asfortranarray(w), w.astype(np.float64)):
        expect(np.array_equal(det(z, y, w=same, b=b).score("vim", z_ood), ref),
               "OODDetector: converted classifier")
    # The options: integers, the temperature, flags.
    integer_argument("k", lambda k: det(z, y, k=k), 3, not_int=[True, 3.0, "3"])
    integer_argument("neco_dim", lambda v: det(z, y, neco_dim=v), 2)
    integer_argument("vim_dim", lambda v: det(z, y, w=w, vim_dim=v), 2)
    for v in (-1, 6, 2**31 - 1):
        raises(lpc.LPCError, det, z, y, neco_dim=v, name="LPC_E_ARG", contains="neco_dim")
    raises(lpc.LPCError, det, z, y, w=w, vim_dim=5, name="LPC_E_ARG", contains="vim_dim")
    raises(lpc.LPCError, det, z, y, vim_dim=2, name="LPC_E_ARG", contains="vim_dim")
    for v in (np.nan, np.inf):
        raises(ValueError, det, z, y, temperature=v, contains="temperature")
    for v in ("2", None, True):
        raises(TypeError, det, z, y, temperature=v, contains="temperature")
    raises(lpc.LPCError, det, z, y, temperature=0.0, name="LPC_E_ARG", contains="temperature")
    for key in ("neco_standardize", "neco_max_logit"):
        for v in (2, -1, 0.5, "yes", None):
            raises(TypeError, det, z, y, **{key: v}, contains=key)
    expect(np.array_equal(det(z, y, neco_standardize=np.False_).score("neco", z_ood),
                          det(z, y, neco_standardize=0).score("neco", z_ood)),
           "neco_standardize as 0")
    d = det(z, y, w=w, b=b)
    # score and nc5: the rows, their logits, the score's name.
    feature_arrays("OODDetector.score", lambda a: d.score("mahalanobis", a), z_ood)
    feature_arrays("OODDetector.nc5", d.nc5, z_ood)
    raises(ValueError, d.score, "vim", z_ood[:, :4], contains="4 columns, expected 5")
    raises(ValueError, d.nc5, z[:, :4], contains="4 columns, expected 5")
    for bad in ("odin", "MSP", None, 3, ["msp"]):
        raises(ValueError, d.score, bad, z, contains="score")
    raises(ValueError, d.score, "msp", z, logits[:, :2], contains="2 columns, expected 3")
    raises(ValueError, d.score, "msp", z, logits[:-1], contains="59 rows for 60")
    raises(ValueError, d.score, "msp", z, logits[0], contains="2-D")
    raises(TypeError, d.score, "msp", z, logits.astype(np.complex64), contains="logits")
    for v in (np.nan, -np.inf):
        bad = logits.copy()
        bad[3, 1] = v
        raises(lpc.LPCError, d.score, "energy", z, bad, name="LPC_E_NUMERIC",
               contains="logits [3, 1]")
    expect(np.array_equal(d.score("energy", z, np.asfortranarray(logits)),
                          d.score("energy", z, logits)), "score with Fortran-ordered logits")
    plain = det(z, y)
    for name in ("msp", "max_logit", "energy", "vim"):
        raises(lpc.LPCError, plain.score, name, z, name="LPC_E_STATE")
    # evaluate: every array as score's, the logits optional on either side.
    ev = d.evaluate(z, z_ood, logits, z_ood @ w.T + b)
    for args, text in (((np.float32(1), z_ood), "z_id"), ((z, z_ood[0]), "z_ood"),
                       ((z, z_ood[:, :4]), "z_ood: 4 columns"),
                       ((z, z_ood, logits[:-1]), "logits_id: 59 rows"),
                       ((z, z_ood, None, logits[:20, :2]), "logits_ood: 2 columns")):
        raises(ValueError, d.evaluate, *args, contains=text)
    raises(TypeError, d.evaluate, z.astype(str), z_ood, contains="z_id")
    raises(lpc.LPCError, d.evaluate, z[:0], z_ood, name="LPC_E_ARG", contains="N = 0")
    expect(d.evaluate(z.astype(np.float64), np.asfortranarray(z_ood), logits,
                      z_ood @ w.T + b) == ev, "evaluate of converted arrays")
    # Non-finite inputs are errors, not undefined scores.
    bad = z_ood.copy()
    bad[1, 4] = np.nan
    raises(lpc.LPCError, d.evaluate, z, bad, name="LPC_E_NUMERIC",
           contains="z_ood [1, 4] is not finite")
    bad = logits.copy()
    bad[7, 0] = np.inf
    raises(lpc.LPCError, d.evaluate, z, z_ood, bad, name="LPC_E_NUMERIC",
           contains="logits_id [7, 0] is not finite")
    # A score undefined on the data is None with a warning (lpc-analyze's null).
    import warnings
    flat = np.eye(3, 5, dtype=np.float32)[y] * 4
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = det(flat, y).evaluate(flat, z_ood)
    expect(got["mahalanobis"] is None and got["neco"] is not None,
           f"evaluate with a zero covariance: {got}")
    expect(any("mahalanobis is undefined" in str(c.message) for c in caught),
           "evaluate: no warning for the undefined score")
    # Closed: every method says so; closing twice is harmless.
    d.close()
    d.close()
    expect(d.closed and not plain.closed, "OODDetector.closed")
    for fn, args in ((d.score, ("mahalanobis", z)), (d.nc5, (z_ood,)),
                     (d.evaluate, (z, z_ood))):
        raises(ValueError, fn, *args, contains="OODDetector is closed")
    expect(d.dim == 5 and d.classes == 3, "dim and classes outlive close()")
    with det(z, y) as c:
        c.nc5(z_ood)
    raises(ValueError, c.nc5, z_ood, contains="OODDetector is closed")
    plain.close()


def test_ood_threads():
    """One OODDetector shared by threads (score, nc5, evaluate at once) gives
    the sequential results; close() racing them either lets a call finish
    with the right numbers or makes it say the detector is closed."""
    z, y, w, b, z_ood = ood_data()
    d = lpc.OODDetector(z, y, w=w, b=b)
    ref = {name: d.score(name, z_ood) for name in lpc.ood.SCORES}
    ref_nc5, ref_ev = d.nc5(z_ood), d.evaluate(z, z_ood)
    results, errors = {}, []

    def worker(i):
        try:
            for rep in range(10):
                name = lpc.ood.SCORES[(i + rep) % 6]
                results[(i, rep)] = np.array_equal(d.score(name, z_ood), ref[name])
                if i == 0:
                    results[(i, rep, "nc5")] = d.nc5(z_ood) == ref_nc5
                if i == 1 and rep % 3 == 0:
                    results[(i, rep, "ev")] = d.evaluate(z, z_ood) == ref_ev
                if i == 2:
                    try:
                        d.score("msp", z, z[:, :3] * np.nan)
                    except lpc.LPCError as e:
                        results[(i, rep, "err")] = "logits [0, 0] is not finite" in e.message
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expect(not errors, f"threads on one OODDetector raised {errors[:2]}")
    expect(results and all(results.values()),
           f"threads on one OODDetector: {[k for k, v in results.items() if not v]} differ")
    verdicts = []

    def user():
        for _ in range(20):
            try:
                verdicts.append(np.array_equal(d.score("vim", z_ood), ref["vim"]))
            except ValueError as e:
                verdicts.append("OODDetector is closed" in str(e))

    threads = [threading.Thread(target=user) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.01)
    d.close()
    for t in threads:
        t.join()
    expect(len(verdicts) == 40 and all(verdicts), "score racing close()")


def test_torchnet(tmp):
    if os.environ.get("LPC_TEST_TORCH", "1") == "0":
        print("skip: lpc.torchnet (LPC_TEST_TORCH=0)")
        return
    try:
        import torch  # noqa: F401
    except ImportError:
        print("skip: lpc.torchnet (PyTorch is not installed)")
        return
    from lpc import torchnet
    TESTED.update({"torchnet.Net", "torchnet.read_safetensors", "torchnet.write_safetensors",
                   "torchnet.load", "torchnet.save"})
    raises(OverflowError, torchnet.Net, {**RESNET, "backbone": {**RESNET["backbone"],
                                                                "widths": [4, 2**32 + 6]}},
           contains="widths")
    raises(ValueError, torchnet.Net, RESNET, names="keras", contains="names")
    net = torchnet.Net(RESNET)
    good = os.path.join(tmp, "torch.safetensors")
    torchnet.save(good, net)
    raises(TypeError, torchnet.save, good, net, description=3, contains="description")
    expect(torchnet.load(good) is not None, "torchnet round trip")
    fifo = os.path.join(tmp, "fifo-torch")
    os.mkfifo(fifo)
    for fn in (torchnet.read_safetensors, torchnet.load):
        raises(lpc.LPCError, fn, fifo, name="LPC_E_IO", contains="a FIFO")
        raises(lpc.LPCError, fn, tmp, name="LPC_E_IO", contains="a folder")
    raw = open(good, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    damaged = {"short": raw[:5], "header length": struct.pack("<Q", 2**40) + raw[8:],
               "json": raw[:8] + b"{" * n + raw[8 + n:], "data": raw[:-4]}
    name = next(k for k in header if k != "__metadata__")
    for change, value in (("dtype", "F17"), ("shape", [-1, 4]), ("shape", [2.5]),
                          ("data_offsets", [0, 2**62])):
        h = json.loads(json.dumps(header))
        h[name][change] = value
        hb = json.dumps(h).encode()
        damaged[f"{change} {value}"] = struct.pack("<Q", len(hb)) + hb + raw[8 + n:]
    for what, content in damaged.items():
        p = os.path.join(tmp, "damaged.safetensors")
        with open(p, "wb") as f:
            f.write(content)
        raises(ValueError, torchnet.read_safetensors, p, contains="damaged.safetensors")
    huge = os.path.join(tmp, "huge-torch.safetensors")
    huge_resnet_file(huge)
    raises(ValueError, torchnet.load, huge, contains="backbone.layer1.0.conv1.weight")
    out = os.path.join(tmp, "x.st")
    raises(TypeError, torchnet.write_safetensors, out,
           {"a": torch.zeros(2, dtype=torch.complex64)}, contains="dtype")
    raises(TypeError, torchnet.write_safetensors, out, [torch.zeros(2)], contains="tensors")
    raises(TypeError, torchnet.write_safetensors, out, {"a": [1.0]}, contains="tensors['a']")
    raises(ValueError, torchnet.write_safetensors, out, {"__metadata__": torch.zeros(1)},
           contains="__metadata__")
    raises(TypeError, torchnet.write_safetensors, out, {}, metadata=[1], contains="metadata")
    raises(ValueError, torchnet.write_safetensors, out + "\0", {}, contains="NUL")
    raises(TypeError, torchnet.save, out, torch.nn.Linear(2, 2), contains="torchnet.Net")
    raises(ValueError, torchnet.load, good, names="keras", contains="names")
    # Atomic: a refused write leaves the old file whole and no temporary file.
    before = sorted(os.listdir(tmp))
    raises(TypeError, torchnet.write_safetensors, good, {"a": torch.zeros(2, dtype=torch.bool)})
    expect(sorted(os.listdir(tmp)) == before and open(good, "rb").read() == raw,
           "refused write changed the folder")


def test_coverage():
    """Every public callable of the package had its misuse exercised."""
    public = {n for n in lpc.__all__ if callable(getattr(lpc, n))}
    for cls in (lpc.Model, lpc.OODDetector):
        public |= {f"{cls.__name__}.{n}" for n in vars(cls)
                   if not n.startswith("_") and callable(getattr(cls, n))}
    if any(t.startswith("torchnet.") for t in TESTED):
        from lpc import torchnet
        public |= {"torchnet." + n for n in ("Net", "read_safetensors", "write_safetensors",
                                             "load", "save")}
        expect(callable(torchnet.load), "torchnet.load")
    missing = sorted(public - TESTED)
    expect(not missing, f"public functions without misuse tests: {missing}")


def main():
    lpc.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        test_analysis()
        test_error_text()
        test_spec_shapes()
        test_specs()
        test_files(tmp)
        test_model_calls(tmp)
        test_threads()
        test_ood()
        test_ood_threads()
        test_torchnet(tmp)
    test_coverage()
    if FAILURES:
        print(f"{len(FAILURES)} failures")
        return 1
    print("python misuse: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

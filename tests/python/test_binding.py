#!/usr/bin/python3
"""The lpc Python package against liblpc's own programs (meson suite
'python'): metrics equal lpc-analyze's JSON digit for digit, bad arrays are
converted or refused with a message, contiguous arrays are not copied,
networks load from checkpoints and safetensors (round trip bit-identical)
and give the same outputs either way.

Environment (set by meson): LPC_LIBRARY, PYTHONPATH, LPC_ANALYZE,
LPC_TRAIN_BRIEFLY. Exit status 77 (skip) when NumPy is missing."""
import json
import os
import subprocess
import sys
import tempfile
import warnings

try:
    import numpy as np
except ImportError:
    print("numpy is not installed (python3-numpy); skipping")
    sys.exit(77)

import lpc

FAILURES = []


def expect(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


def raises(exc, fn, *args, contains=None, name=None, **kw):
    """fn(*args) raises exc (whose text contains `contains`, status `name`)."""
    try:
        fn(*args, **kw)
    except exc as e:
        if contains is not None and contains not in str(e):
            FAILURES.append(f"{fn.__name__}: '{contains}' not in '{e}'")
            print("FAIL: message", e)
        if name is not None and getattr(e, "name", None) != name:
            FAILURES.append(f"{fn.__name__}: status {getattr(e, 'name', None)}, expected {name}")
        return e
    FAILURES.append(f"{fn.__name__} did not raise {exc.__name__}")
    print("FAIL: no", exc.__name__, "from", fn.__name__)
    return None


def lpc_analyze(tmp, arrays, *options):
    """lpc-analyze's JSON on arrays saved as .npy, numbers kept as printed."""
    args = [os.environ["LPC_ANALYZE"]]
    for key, a in arrays.items():
        path = os.path.join(tmp, key + ".npy")
        np.save(path, a)
        args += ["--" + key, path]
    out = subprocess.run(args + list(options), check=True, capture_output=True, text=True)
    return json.loads(out.stdout, parse_float=str, parse_int=str)


def same_as_cli(tmp, label, z, y, weights=None, logits=None, k=20, standardize=False):
    arrays = {"features": z, "labels": y}
    if weights is not None:
        arrays["weights"] = weights
    if logits is not None:
        arrays["logits"] = logits
    opts = ["--k", str(k)] + (["--standardize"] if standardize else [])
    cli = lpc_analyze(tmp, arrays, *opts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        py = lpc.analyze(z, y, weights=weights, logits=logits, k=k, standardize=standardize)
    expect(list(py) == list(cli), f"{label}: keys {list(py)} vs {list(cli)}")
    for key, printed in cli.items():
        mine = None if py.get(key) is None else "%.17g" % py[key]
        expect(mine == printed, f"{label}: {key} = {mine}, lpc-analyze printed {printed}")
    return py


def data(n=1500, p=12, k=6, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    centres = rng.normal(size=(k, p)) * 3
    z = (centres[y] + rng.normal(size=(n, p))).astype(np.float32)
    w = rng.normal(size=(k, p)).astype(np.float32)
    logits = (z @ w.T + rng.normal(size=(n, k))).astype(np.float32)
    return z, y, w, logits


def test_analyze_matches_cli(tmp):
    z, y, w, logits = data()
    same_as_cli(tmp, "plain", z, y)
    same_as_cli(tmp, "weights+logits", z, y.astype(np.int32), w, logits, k=7, standardize=True)
    same_as_cli(tmp, "logits", z.astype(np.float64), y, logits=logits)
    # A constant dimension: binarity is undefined (null / None with a warning).
    zc = z.copy()
    zc[:, 3] = 1.5
    py = same_as_cli(tmp, "constant dim", zc, y, weights=w)
    expect(py["gmm_l"] is None, "constant dimension: gmm_l should be None")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lpc.analyze(zc, y)
    expect(any("gmm" in str(c.message) or "binarity" in str(c.message) for c in caught),
           "no warning for the undefined binarity")


def test_functions():
    z, y, w, logits = data(400, 5, 4, 1)
    a = lpc.analyze(z, y, weights=w, logits=logits)
    expect(lpc.separation_ratio(z, y) == a["R"], "separation_ratio differs from analyze")
    expect(lpc.norm_cov(z) == a["cov_norm"], "norm_cov differs from analyze")
    expect(lpc.kl_entropy(z)[0] == a["entropy"], "kl_entropy differs from analyze")
    nc = lpc.neural_collapse(z, y, weights=w, predictions=np.argmax(logits, 1))
    expect(nc["nc3"] == a["nc3"] and nc["nc4"] == a["nc4"], "neural_collapse differs")
    b = lpc.binarity(z)
    expect(b["l"] == a["gmm_l"] and b["l_dim"].shape == (5,), "binarity")
    expect(abs(lpc.ln_unit_ball_volume(2) - np.log(np.pi)) < 1e-14, "ln_unit_ball_volume(2)")
    x = np.arange(10.0)
    expect(abs(lpc.pearson(x, 2 * x + 1) - 1) < 1e-15, "pearson of a line")
    g = lpc.gmm1d_fit(np.r_[np.zeros(50), np.ones(50)] + np.linspace(0, 0.01, 100))
    expect(abs(g["means"][0]) < 0.02 and abs(g["means"][1] - 1) < 0.02, f"gmm1d_fit {g}")
    expect(abs(lpc.sigma_w(z, y) - np.mean([np.cov(z[y == c].T).mean() for c in range(4)]))
           < 1e-9, "sigma_w against NumPy")


def test_arrays():
    z, y, w, _ = data(300, 6, 3, 2)
    r = lpc.separation_ratio(z, y)
    # Contiguous arrays of the right dtype are passed as they are.
    from lpc import _arrays
    expect(_arrays.floats(z, "z") is z, "float32 C array was copied")
    y32 = y.astype(np.int32)
    expect(_arrays.labels(y32, "y") is y32, "int32 labels were copied")
    # Other layouts and dtypes are converted to the same numbers.
    expect(lpc.separation_ratio(np.asfortranarray(z), y) == r, "Fortran order")
    wide = np.zeros((300, 12), np.float32)
    wide[:, ::2] = z
    expect(lpc.separation_ratio(wide[:, ::2], y[::-1][::-1]) == r, "strided arrays")
    expect(lpc.separation_ratio(z.astype(">f4"), y.astype(np.uint8)) == r, "big-endian, uint8")
    expect(lpc.separation_ratio(z.tolist(), y.tolist()) == r, "lists")
    # Refused by the binding, with a message.
    raises(TypeError, lpc.norm_cov, z.astype(object), contains="real numbers")
    raises(TypeError, lpc.norm_cov, z.astype(np.complex64), contains="real numbers")
    raises(TypeError, lpc.separation_ratio, z, y.astype(np.float32), contains="integer labels")
    raises(ValueError, lpc.norm_cov, z[None], contains="2-D")
    raises(ValueError, lpc.separation_ratio, z, y[:-1], contains="299 entries for 300")
    raises(ValueError, lpc.norm_cov, np.full((3, 2), 1e300), contains="float32")
    raises(ValueError, lpc.separation_ratio, z, y.astype(np.int64) + 2**40,
           contains="beyond int32")
    # Refused by the library: its status name and message.
    e = raises(lpc.LPCError, lpc.separation_ratio, z, y, 2, name="LPC_E_ARG",
               contains="lpc_separation_ratio: label 2 of sample")
    expect(e is not None and e.status == -1 and e.message.startswith("lpc_separation_ratio"),
           "LPCError attributes")
    bad = z.copy()
    bad[5, 1] = np.nan
    raises(lpc.LPCError, lpc.norm_cov, bad, name="LPC_E_NUMERIC", contains="lpc_norm_cov")
    raises(lpc.LPCError, lpc.kl_entropy, z[:10], 20, name="LPC_E_ARG", contains="lpc_kl_entropy")
    raises(lpc.LPCError, lpc.analyze, z, y - 1, name="LPC_E_ARG", contains="negative")


def briefly_trained(tmp, fmt):
    path = os.path.join(tmp, "net." + fmt)
    subprocess.run([os.environ["LPC_TRAIN_BRIEFLY"], path, fmt], check=True)
    return path


def test_models(tmp):
    native = briefly_trained(tmp, "native")
    ckpt = briefly_trained(tmp, "checkpoint")
    tv = briefly_trained(tmp, "torchvision")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(20, 3, 16, 16)).astype(np.float32)
    m = lpc.Model.load(native)
    expect(m.spec["backbone"]["widths"] == [32, 64, 128] and m.latent_dim == 64 and
           m.num_classes == 10, f"inferred spec {m.spec}")
    expect(m.metadata.get("description") == "resnet-small, 3 steps" and
           m.metadata.get("liblpc_version") == lpc.__version__, f"metadata {m.metadata}")
    z, logits = m.forward(x)
    expect(z.shape == (20, 64) and logits.shape == (20, 10), "forward shapes")
    for other, names in ((ckpt, "native"), (tv, "torchvision")):
        o = lpc.Model.load(other, names=names)
        expect(all(np.array_equal(a, o.state_dict()[k]) for k, a in m.state_dict().items()),
               f"{other}: weights differ")
        expect(np.array_equal(o.forward(np.asfortranarray(x), batch_size=7)[1], logits),
               f"{other}: logits differ")
    # Inner layers: the values the forward pass computes, in any batch size.
    inner = m.layer_outputs(x, ["backbone.layer2", "penultimate", "classifier"], batch_size=7)
    expect(inner["backbone.layer2"].shape == (20, 64, 8, 8) and
           np.array_equal(inner["penultimate"], z) and np.array_equal(inner["classifier"], logits),
           "layer_outputs")
    ev = m.evaluate(x, labels=np.argmax(logits, 1))
    expect(ev["accuracy"] == 1.0 and np.array_equal(ev["z"], z), "evaluate")
    ratios, mean = m.deepfool(x[:4], max_iter=20)
    expect(ratios.shape == (4,) and np.all(ratios > 0) and abs(ratios.mean() - mean) < 1e-12,
           f"deepfool {ratios} {mean}")
    # Round trip through Python: liblpc -> file -> liblpc, bit-identical.
    for names in ("native", "torchvision"):
        out = os.path.join(tmp, f"again-{names}.safetensors")
        m.save_safetensors(out, names=names, description="again")
        again = lpc.Model.load(out, names=names)
        expect(all(np.array_equal(a, again.state_dict()[k]) for k, a in m.state_dict().items()),
               f"round trip ({names}) not bit-identical")
        expect(again.metadata["description"] == "again", "description")
    # Files that do not fit: the library names the first mismatch.
    raises(lpc.LPCError, lpc.Model.load, native, names="torchvision", name="LPC_E_FORMAT",
           contains="backbone.layer2.0.downsample.0.weight")
    raises(lpc.LPCError, m.forward, x[:, :1], name="LPC_E_SHAPE")
    raises(ValueError, lpc.Model.load, native, names="keras", contains="names must be")
    raises(lpc.LPCError, lpc.Model.load, os.path.join(tmp, "missing.safetensors"),
           name="LPC_E_IO")
    # A fresh MLP network (the dense backbone).
    spec = {"backbone": {"kind": "mlp", "in_features": 12, "width": 16},
            "penultimate": {"nonlinear": True, "in_features": 16, "width": 4, "bias": True},
            "classifier": {"in_features": 4, "num_classes": 3, "bias": False}}
    with lpc.Model(spec, seed=5) as mlp:
        out = os.path.join(tmp, "mlp.safetensors")
        mlp.save_safetensors(out)
        back = lpc.Model.load(out)
        expect(back.spec == spec, f"MLP spec {back.spec}")
        xi = rng.normal(size=(9, 12))
        expect(np.array_equal(back.forward(xi)[1], mlp.forward(xi.astype(np.float32))[1]),
               "MLP logits")
        expect(np.array_equal(back.forward(xi.reshape(9, 3, 2, 2))[0], mlp.forward(xi)[0]),
               "MLP flattens 4-D input")
    # Wide bottlenecks (WideResNet-50-2's blocks): the architecture survives a
    # safetensors round trip (inner width 2w told from a bottleneck of width 2w).
    spec = {"backbone": {"kind": "resnet", "block": "wide_bottleneck", "in_channels": 3,
                         "stem_width": 4, "widths": [2, 3], "blocks": [2, 1]},
            "classifier": {"in_features": 12, "num_classes": 3, "bias": True}}
    with lpc.Model(spec, seed=6) as wide:
        out = os.path.join(tmp, "wide.safetensors")
        wide.save_safetensors(out)
        back = lpc.Model.load(out)
        expect(back.spec == spec, f"wide bottleneck spec {back.spec}")
        xi = rng.normal(size=(2, 3, 6, 6))
        expect(np.array_equal(back.forward(xi)[1], wide.forward(xi)[1]), "wide logits")


def main():
    threads = os.sysconf("SC_NPROCESSORS_ONLN")
    lpc.set_num_threads(min(max(threads, 1), 64))  # what lpc-analyze uses
    with tempfile.TemporaryDirectory() as tmp:
        test_analyze_matches_cli(tmp)
        test_functions()
        test_arrays()
        test_models(tmp)
    if FAILURES:
        print(f"{len(FAILURES)} failures")
        return 1
    print("python binding: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Weights between liblpc and PyTorch through safetensors (meson suite
'python'): a resnet-small trained briefly in liblpc gives the same latent
features and logits in PyTorch (lpc.torchnet) within 1e-5 relative, and a
PyTorch network trained briefly gives the same in liblpc; both name styles.
When the reference `safetensors` package is importable, it reads liblpc's
files and liblpc reads its files too.

Environment (set by meson): LPC_LIBRARY, PYTHONPATH, LPC_TRAIN_BRIEFLY.
Exit status 77 (skip) without NumPy or PyTorch."""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"{e.name} is not installed (python3-torch, python3-numpy); skipping")
    sys.exit(77)

import lpc
from lpc import torchnet

TOL = 1e-5
FAILURES = []


def expect(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what)
    if not cond:
        FAILURES.append(what)


def rel_err(a, b):
    """max |a - b| relative to the largest |b|."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / np.abs(b).max())


def torch_outputs(net, x):
    with torch.no_grad():
        z, logits = net(torch.from_numpy(x))
    return z.numpy(), logits.numpy()


def liblpc_to_torch(tmp, x):
    for names in ("native", "torchvision"):
        path = os.path.join(tmp, f"lpc-{names}.safetensors")
        subprocess.run([os.environ["LPC_TRAIN_BRIEFLY"], path, names], check=True)
        z, logits = lpc.Model.load(path, names=names).forward(x)
        net = torchnet.load(path, names=names)
        tz, tl = torch_outputs(net, x)
        e = max(rel_err(tl, logits), rel_err(tz, z))
        expect(e <= TOL, f"liblpc-trained resnet-small ({names} names) in PyTorch: "
                         f"relative difference {e:.2e}")
    return path


def train_torch(net, steps=3):
    """A few SGD steps in training mode, so that weights and batch-norm
    statistics move away from their initial values."""
    torch.manual_seed(1)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    x = torch.randn(32, 3, 16, 16)
    y = torch.arange(32) % 10
    net.train()
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x)[1], y)
        loss.backward()
        opt.step()
    return net.eval()


def torch_to_liblpc(tmp, x, spec):
    torch.manual_seed(0)
    net = train_torch(torchnet.Net(spec, names="torchvision"))
    tz, tl = torch_outputs(net, x)
    path = os.path.join(tmp, "torch-tv.safetensors")
    torchnet.save(path, net, description="trained in PyTorch")
    m = lpc.Model.load(path, names="torchvision")
    z, logits = m.forward(x)
    e = max(rel_err(logits, tl), rel_err(z, tz))
    expect(e <= TOL, f"PyTorch-trained network in liblpc: relative difference {e:.2e}")
    expect(m.metadata.get("description") == "trained in PyTorch", "metadata from PyTorch")
    # Under the native names it does not fit: the first mismatch is named.
    try:
        lpc.Model.load(path, names="native")
        expect(False, "torchvision-named file refused under native names")
    except lpc.LPCError as err:
        expect(err.name == "LPC_E_FORMAT" and "'backbone.layer2.0.shortcut.0.weight'" in err.message,
               f"torchvision-named file refused under native names: {err}")
    # The same network with liblpc's own names.
    native = torchnet.Net(spec, names="native")
    native.load_state_dict({k.replace("downsample", "shortcut"): v
                            for k, v in net.state_dict().items()})
    path_native = os.path.join(tmp, "torch-native.safetensors")
    torchnet.save(path_native, native.eval())
    e = rel_err(lpc.Model.load(path_native).forward(x)[1], tl)
    expect(e <= TOL, f"PyTorch network with native names in liblpc: relative difference {e:.2e}")
    # DeepFool runs on the PyTorch weights.
    ratios, mean = m.deepfool(x[:2], max_iter=10)
    expect(np.all(np.isfinite(ratios)) and mean > 0, f"DeepFool on PyTorch weights: {mean:.4f}")
    return path


def reference_package(tmp, lpc_file, torch_file):
    try:
        from safetensors.numpy import load_file, save_file
    except ImportError:
        print("skip: the safetensors package is not installed; reference cross-check skipped")
        return
    ours = load_file(lpc_file)
    m = lpc.Model.load(lpc_file, names="torchvision").state_dict()
    expect(all(np.array_equal(ours[k.replace("shortcut", "downsample")], v)
               for k, v in m.items()), "safetensors package reads liblpc's file")
    expect(set(load_file(torch_file)) == set(torchnet.read_safetensors(torch_file)[0]),
           "safetensors package reads torchnet's file")
    again = os.path.join(tmp, "reference.safetensors")
    save_file(ours, again, metadata={"description": "reference writer"})
    back = lpc.Model.load(again, names="torchvision")
    expect(all(np.array_equal(back.state_dict()[k], v) for k, v in m.items()),
           "liblpc reads the safetensors package's file")


def main():
    torch.set_num_threads(2)
    lpc.set_num_threads(2)
    x = np.random.default_rng(0).normal(size=(16, 3, 16, 16)).astype(np.float32)
    spec = {"backbone": {"kind": "resnet", "block": "basic", "in_channels": 3, "stem_width": 32,
                         "widths": [32, 64, 128], "blocks": [2, 2, 2]},
            "penultimate": {"nonlinear": False, "in_features": 128, "width": 64, "bias": True},
            "classifier": {"in_features": 64, "num_classes": 10, "bias": False}}
    with tempfile.TemporaryDirectory() as tmp:
        lpc_file = liblpc_to_torch(tmp, x)
        torch_file = torch_to_liblpc(tmp, x, spec)
        reference_package(tmp, lpc_file, torch_file)
    if FAILURES:
        print(f"{len(FAILURES)} failures")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

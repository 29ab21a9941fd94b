#!/usr/bin/python3
"""liblpc's WideResNet-50-2 against torchvision's wide_resnet50_2 (meson
suite 'python'): a network built by liblpc (lpc_wide_resnet50_2_new's
architecture, a 10-class classifier, random weights and batch-norm
statistics) is written as safetensors with torchvision's names and read by
torchvision's model with liblpc's CIFAR-style stem (3x3 convolution, no
max-pool) and SiLU in place of ReLU, the only differences; the logits and
the 2048 features must agree within 1e-5 relative.

Environment (set by meson): LPC_LIBRARY, PYTHONPATH.
Exit status 77 (skip) without NumPy, PyTorch or torchvision."""
import os
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torchvision
except ImportError as e:
    print(f"{e.name} is not installed (python3-torch, python3-torchvision, python3-numpy); "
          "skipping")
    sys.exit(77)

import lpc
from lpc import torchnet

TOL = 1e-5


def torchvision_wrn(num_classes):
    """torchvision's wide_resnet50_2 with liblpc's stem and activation."""
    net = torchvision.models.wide_resnet50_2(weights=None)
    net.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    net.maxpool = torch.nn.Identity()
    net.relu = torch.nn.SiLU()
    for layer in (net.layer1, net.layer2, net.layer3, net.layer4):
        for block in layer:
            block.relu = torch.nn.SiLU()
    net.fc = torch.nn.Linear(2048, num_classes)
    return net


def main():
    spec = {"backbone": {"kind": "resnet", "block": "wide_bottleneck", "in_channels": 3,
                         "stem_width": 64, "widths": [64, 128, 256, 512], "blocks": [3, 4, 6, 3]},
            "classifier": {"in_features": 2048, "num_classes": 10, "bias": True}}
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp, lpc.Model(spec, seed=3) as model:
        path = os.path.join(tmp, "wrn.safetensors")
        model.save_safetensors(path, names="torchvision")
        tensors, _ = torchnet.read_safetensors(path)
        # Batch-norm statistics other than 0 / 1, so that they matter: set in
        # the file, read back by both sides.
        for name, t in tensors.items():
            if name.endswith("running_mean"):
                tensors[name] = torch.from_numpy(rng.normal(0, 0.1, t.shape).astype(np.float32))
            elif name.endswith("running_var"):
                tensors[name] = torch.from_numpy(rng.uniform(0.5, 1.5, t.shape).astype(np.float32))
        torchnet.write_safetensors(path, tensors)
        model = lpc.Model.load(path, names="torchvision")
        expect_weights = 66826560 + 2048 * 10 + 10
        got_weights = sum(t.numel() for n, t in tensors.items()
                          if not n.endswith(("running_mean", "running_var", "num_batches_tracked")))
        net = torchvision_wrn(10)
        state = {(n[len("backbone."):] if n.startswith("backbone.") else
                  "fc." + n[len("classifier."):]): t for n, t in tensors.items()}
        net.load_state_dict(state, strict=True)
        net.eval()
        x = rng.normal(size=(2, 3, 32, 32)).astype(np.float32)
        z, logits = model.forward(x)
        with torch.no_grad():
            tx = torch.from_numpy(x)
            feats = torch.flatten(net.avgpool(net.layer4(net.layer3(net.layer2(net.layer1(
                net.maxpool(net.relu(net.bn1(net.conv1(tx))))))))), 1)
            tl = net(tx)
        e_logits = float(np.abs(tl.numpy() - logits).max() / np.abs(tl.numpy()).max())
        e_feats = float(np.abs(feats.numpy() - z).max() / np.abs(feats.numpy()).max())
        ok = e_logits <= TOL and e_feats <= TOL and got_weights == expect_weights
        print(f"{'ok' if ok else 'FAIL'}: WideResNet-50-2 against torchvision "
              f"{torchvision.__version__}: logits {e_logits:.2e}, features {e_feats:.2e} "
              f"relative; {got_weights} weights (expected {expect_weights})")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

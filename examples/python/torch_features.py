#!/usr/bin/python3
"""A PyTorch model's penultimate features measured with liblpc's analysis.

Trains a small network (784-256-SiLU-64 penultimate-10) in PyTorch for one
epoch on Fashion-MNIST, then measures its test-set features with
lpc.analyze: class separation, Sigma_W, entropy, binarity and neural
collapse, the numbers lpc-analyze prints.

    PYTHONPATH=<prefix site dir> examples/python/torch_features.py [--data DIR]

Needs python3-torch and python3-numpy, and liblpc (LPC_LIBRARY or an
installed library)."""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402

try:
    import torch
    from torch import nn
except ImportError:
    print("torch_features.py: PyTorch is not installed (python3-torch); nothing to do")
    sys.exit(0)

import lpc  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=fashion_mnist.DEFAULT_DIR)
    ap.add_argument("--epochs", type=int, default=1)
    a = ap.parse_args()
    torch.manual_seed(0)
    x_train, y_train, x_test, y_test = fashion_mnist.load(a.data)
    backbone = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.SiLU(), nn.Linear(256, 64))
    head = nn.Linear(64, 10, bias=False)
    opt = torch.optim.Adam([*backbone.parameters(), *head.parameters()], lr=1e-3)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    for epoch in range(a.epochs):
        order = torch.randperm(len(xt))
        for i in range(0, len(xt), 128):
            idx = order[i:i + 128]
            loss = nn.functional.cross_entropy(head(backbone(xt[idx])), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        z = backbone(torch.from_numpy(x_test))
        logits = head(z)
    print(f"test accuracy {float((logits.argmax(1).numpy() == y_test).mean()):.4f}")

    # The three lines: features, classifier and logits into liblpc's analysis.
    metrics = lpc.analyze(z.numpy(), y_test, weights=head.weight.detach().numpy(),
                          logits=logits.numpy())
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""A network trained by liblpc, in PyTorch through safetensors.

Loads a cell's checkpoint of lpc-ablation's quick preset (dense
784-512-512 backbone on Fashion-MNIST 10k), writes it as safetensors, loads
that file into the PyTorch twin of the network (lpc.torchnet) and evaluates
both on the Fashion-MNIST test set: the test accuracies are the same, and
equal to the acc_test the cell recorded.

    lpc-ablation run --cell 0 --preset quick --out results/quick
    examples/python/from_liblpc.py results/quick/<cell dir> [--data DIR]

Needs python3-numpy, liblpc (LPC_LIBRARY or an installed library) and, for
the PyTorch half, python3-torch."""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402

import lpc  # noqa: E402


def recorded_accuracy(cell_dir):
    """final.acc_test of the cell's result.json, when it has one."""
    try:
        with open(os.path.join(cell_dir, "result.json")) as f:
            return json.load(f)["final"]["acc_test"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cell_dir", help="a cell directory of lpc-ablation (has checkpoint.lpcc)")
    ap.add_argument("--data", default=fashion_mnist.DEFAULT_DIR)
    ap.add_argument("--subset", type=int, default=10000,
                    help="training images the cell used (normalisation statistics)")
    ap.add_argument("--out", help="safetensors file to write (default: CELL_DIR/model.safetensors)")
    a = ap.parse_args()
    model = lpc.Model.load(os.path.join(a.cell_dir, "checkpoint.lpcc"))
    out = a.out or os.path.join(a.cell_dir, "model.safetensors")
    model.save_safetensors(out, description=f"lpc-ablation cell {os.path.basename(a.cell_dir)}")
    _, _, x_test, y_test = fashion_mnist.load(a.data, a.subset)
    ev = model.evaluate(x_test, y_test)
    acc_lpc = ev["accuracy"]
    print(f"liblpc:  test accuracy {acc_lpc:.4f}  ({out} written)")
    saved = os.path.join(a.cell_dir, "features_test.npy")
    if os.path.exists(saved):
        same = np.array_equal(np.load(saved), ev["z"])
        print(f"liblpc:  latent features {'equal to' if same else 'DIFFERENT from'} the cell's "
              f"features_test.npy")
    recorded = recorded_accuracy(a.cell_dir)
    if recorded is not None:
        print(f"cell:    test accuracy {recorded:.4f} (recorded by lpc-ablation)")
    try:
        import torch
        from lpc import torchnet
    except ImportError:
        print("PyTorch is not installed (python3-torch): the PyTorch half is skipped")
        return 0
    net = torchnet.load(out)
    with torch.no_grad():
        _, logits = net(torch.from_numpy(x_test))
    acc_torch = float((logits.argmax(1).numpy() == y_test).mean())
    print(f"PyTorch: test accuracy {acc_torch:.4f}")
    same = acc_torch == acc_lpc and (recorded is None or abs(recorded - acc_lpc) < 5e-5)
    print("same test accuracy" if same else "the accuracies DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

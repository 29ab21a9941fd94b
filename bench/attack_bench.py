#!/usr/bin/python3
"""Time liblpc's FMN and PGD beside foolbox's FMN and torchattacks' PGD on
the same network and inputs (the liblpc network's PyTorch twin, weights
through safetensors), both on the same number of threads.

    LPC_LIBRARY=build/lib/liblpc.so PYTHONPATH=python \\
        bench/attack_bench.py mlp|resnet-small [--n N] [--threads T]

Networks as lpc-bench's (Fashion-MNIST shapes, 1 x 28 x 28, 10 classes):
mlp 784-512-512 with SiLU, resnet-small (widths 32, 64, 128, two basic
blocks each), a linear classifier, fresh weights. Inputs are uniform pixels
in [0,1], attacked in the pixel domain with mean 0.5 and std 0.25; FMN L2
with 100 steps, PGD Linf with 50 steps at eps 8/255, the peers' labels the
liblpc predictions. Prints one line per attack: seconds for liblpc and the
peer (wall and CPU time of all threads), the ratio of CPU times, and the
share of samples each breaks (FMN) or their robust accuracies (PGD; liblpc
stops a sample once broken, torchattacks runs every step). foolbox's L2 FMN
gets the authors' projection (3.3.4's is a no-op), so both run the same
algorithm. foolbox and torchattacks come
from the peers' virtual environment (scripts/setup, LPC_SETUP_OPTIONAL=1)."""
import argparse
import os
import sys
import tempfile
import time

VENV = os.environ.get("LPC_PEER_VENV", os.path.expanduser("~/.cache/liblpc/peers"))
try:
    import numpy as np
    import torch
    import foolbox as fb
    import torchattacks
except ImportError as e:
    venv_py = os.path.join(VENV, "bin", "python3")
    if "LPC_PEER_REEXEC" not in os.environ and os.access(venv_py, os.X_OK):
        os.environ["LPC_PEER_REEXEC"] = "1"
        os.execv(venv_py, [venv_py] + sys.argv)
    sys.exit(f"attack_bench.py: {e.name} is not installed")

import lpc
from lpc import torchnet

MEAN, STD = 0.5, 0.25


def spec(name):
    if name == "mlp":
        bb = {"kind": "mlp", "in_features": 784, "width": 512}
        dim = 512
    else:
        bb = {"kind": "resnet", "block": "basic", "in_channels": 1, "stem_width": 32,
              "widths": [32, 64, 128], "blocks": [2, 2, 2]}
        dim = 128
    return {"backbone": bb, "classifier": {"in_features": dim, "num_classes": 10, "bias": True}}


class PixelNet(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net((x - MEAN) / STD)[1]


def timed(f):
    """(wall seconds, CPU seconds of all threads, f's result)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = f()
    return time.perf_counter() - t0, time.process_time() - c0, out


def l2_project(self, x, x0, epsilon):
    """The authors' projection (foolbox 3.3.4's L2 FMN does not project)."""
    return x0 + fb.attacks.gradient_descent_base.clip_lp_norms(x - x0, norm=epsilon, p=2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["mlp", "resnet-small"])
    ap.add_argument("--n", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    n = a.n or (256 if a.model == "mlp" else 32)
    lpc.set_num_threads(a.threads)
    torch.set_num_threads(a.threads)
    model = lpc.Model.new(spec(a.model), seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "net.safetensors")
        model.save_safetensors(path)
        net = torchnet.load(path).eval()
    pix = np.random.default_rng(0).uniform(0, 1, (n, 1, 28, 28)).astype(np.float32)
    x = ((pix - MEAN) / STD).astype(np.float32)
    y = model.evaluate(x)["predictions"]
    pnet = PixelNet(net).eval()
    pix_t, y_t = torch.from_numpy(pix), torch.from_numpy(y.astype(np.int64))
    fmodel = fb.PyTorchModel(pnet, bounds=(0, 1))

    fmn = fb.attacks.L2FMNAttack(steps=100)
    fmn.project = l2_project.__get__(fmn)
    wl, cl, ours = timed(lambda: lpc.attack.fmn(model, x, y, norm="l2", steps=100, mean=MEAN,
                                                std=STD))
    wp, cp, adv = timed(lambda: fmn.run(fmodel, pix_t, fb.criteria.Misclassification(y_t)))
    with torch.no_grad():
        peer_ok = float((pnet(adv).argmax(1) != y_t).float().mean())
    print(f"{a.model} n={n} threads={a.threads} FMN L2 100 steps: liblpc {wl:.2f} s "
          f"({cl:.2f} s CPU), foolbox {wp:.2f} s ({cp:.2f} s CPU), CPU ratio {cp / cl:.2f}; "
          f"broken {ours['success'].mean():.3f} / {peer_ok:.3f}")
    eps = 8 / 255
    wl, cl, (ra, _) = timed(lambda: lpc.attack.pgd(model, x, [eps], y, norm="linf", steps=50,
                                                   step_fraction=2.5 / 50, mean=MEAN, std=STD))
    atk = torchattacks.PGD(pnet, eps=eps, alpha=2.5 * eps / 50, steps=50, random_start=True)
    wp, cp, adv = timed(lambda: atk(pix_t, y_t))
    with torch.no_grad():
        peer_ra = float((pnet(adv).argmax(1) == y_t).float().mean())
    print(f"{a.model} n={n} threads={a.threads} PGD Linf 50 steps eps 8/255: liblpc {wl:.2f} s "
          f"({cl:.2f} s CPU), torchattacks {wp:.2f} s ({cp:.2f} s CPU), CPU ratio "
          f"{cp / cl:.2f}; robust accuracy {ra[0]:.3f} / {peer_ra:.3f}")


if __name__ == "__main__":
    main()

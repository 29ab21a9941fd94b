#!/usr/bin/python3
"""The same training step as lpc-bench in PyTorch (reference peer).

Prints "MODEL images_per_s=<number> peak_rss_mb=<number>". Exits 3 with a
message when torch is not installed."""
import resource
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("torch not available: skipping the PyTorch side", file=sys.stderr)
    sys.exit(3)


def conv_bn(cin, cout, k, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout))


class Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, w, stride):
        super().__init__()
        self.a = conv_bn(cin, w, 3, stride)
        self.b = conv_bn(w, w, 3, 1)
        self.sc = conv_bn(cin, w, 1, stride) if stride != 1 or cin != w else nn.Identity()

    def forward(self, x):
        return F.silu(self.b(F.silu(self.a(x))) + self.sc(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, w, stride):
        super().__init__()
        self.a = conv_bn(cin, w, 1, 1)
        self.b = conv_bn(w, w, 3, stride)
        self.c = conv_bn(w, 4 * w, 1, 1)
        self.sc = conv_bn(cin, 4 * w, 1, stride) if stride != 1 or cin != 4 * w else nn.Identity()

    def forward(self, x):
        return F.silu(self.c(F.silu(self.b(F.silu(self.a(x))))) + self.sc(x))


def resnet(block, cin, stem, widths, blocks):
    layers = [conv_bn(cin, stem, 3, 1), nn.SiLU()]
    c = stem
    for i, (w, n) in enumerate(zip(widths, blocks)):
        for j in range(n):
            layers.append(block(c, w, 2 if (i > 0 and j == 0) else 1))
            c = w * block.expansion
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers), c


def build(name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.SiLU(), nn.Linear(512, 512), nn.SiLU()), 512, (1, 28, 28)
    if name == "resnet-small":
        return (*resnet(Basic, 1, 32, [32, 64, 128], [2, 2, 2]), (1, 28, 28))
    if name == "resnet18":
        return (*resnet(Basic, 3, 64, [64, 128, 256, 512], [2, 2, 2, 2]), (3, 32, 32))
    if name == "resnet50":
        return (*resnet(Bottleneck, 3, 64, [64, 128, 256, 512], [3, 4, 6, 3]), (3, 32, 32))
    raise SystemExit("unknown model " + name)


def main():
    name = sys.argv[1]
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
    steps = int(sys.argv[sys.argv.index("--steps") + 1]) if "--steps" in sys.argv else 0
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    backbone, d, shape = build(name)
    penult = nn.Linear(d, 64)
    head = nn.Linear(64, 10, bias=False)
    params = list(backbone.parameters()) + list(penult.parameters())
    opt = torch.optim.AdamW([{"params": params}, {"params": head.parameters()}], lr=1e-3, weight_decay=5e-4)
    x = torch.randn(128, *shape)
    y = torch.randint(0, 10, (128,))
    steps = steps or (200 if name == "mlp" else 20 if name == "resnet-small" else 5)
    for s in range(2 + steps):
        if s == 2:
            t0 = time.perf_counter()
        z = penult(backbone(x))
        loss = F.cross_entropy(head(z), y) + 1.0 * (z ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    secs = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"{name} images_per_s={steps * 128 / secs:.1f} peak_rss_mb={rss:.1f} threads={threads} steps={steps} torch={torch.__version__}")


if __name__ == "__main__":
    main()

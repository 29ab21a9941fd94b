"""Fashion-MNIST from the IDX files (Debian's dataset-fashion-mnist installs
them in /usr/share/datasets/fashion-mnist), as liblpc's loader reads them:
uint8 images scaled to [0, 1], then normalised with the mean and population
std of the training images used (the first `subset` ones; 0 = all),
exactly as liblpc computes them."""
import gzip
import os

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def _idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find(directory, stem):
    for name in (stem + "-ubyte.gz", stem + "-ubyte"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{stem} not found in {directory} (install dataset-fashion-mnist)")


def load(directory=DEFAULT_DIR, subset=0):
    """(x_train, y_train, x_test, y_test): float32 N x 1 x 28 x 28 images
    normalised with the training subset's statistics, int64 labels."""
    xs = [_idx(_find(directory, s)) for s in ("train-images-idx3", "t10k-images-idx3")]
    ys = [_idx(_find(directory, s)).astype(np.int64) for s in ("train-labels-idx1",
                                                                 "t10k-labels-idx1")]
    if subset:
        xs[0], ys[0] = xs[0][:subset], ys[0][:subset]
    # Exactly liblpc's lpc_dataset_channel_stats and batcher lookup table:
    # exact integer sums, then (v/255 - mean)/std in double for each byte.
    u = xs[0].astype(np.uint64)
    count = float(u.size)
    m = float(u.sum()) / count
    var = float((u * u).sum()) / count - m * m
    mean, std = m / 255.0, np.sqrt(max(var, 0.0)) / 255.0
    lut = ((np.arange(256) / 255.0 - mean) / std).astype(np.float32)
    return lut[xs[0]][:, None], ys[0], lut[xs[1]][:, None], ys[1]

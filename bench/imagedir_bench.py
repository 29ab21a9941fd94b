#!/usr/bin/env python3
"""Decoding and resizing a folder of JPEGs: lpc_dataset_load_imagedir (1 and
N threads) against Pillow (Image.open, convert("RGB"), resize(BILINEAR), one
process), on N_IMAGES generated S x S JPEGs resized to 64 x 64. Median of
REPEATS runs each. Needs Pillow and NumPy (/usr/bin/python3 from
scripts/setup). Usage: imagedir_bench.py BUILD_DIR [N_IMAGES] [S] [THREADS]"""
import ctypes
import glob
import os
import statistics
import sys
import tempfile
import time

import numpy as np
from PIL import Image

REPEATS = 3


class Options(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("height", ctypes.c_int), ("width", ctypes.c_int),
                ("channels", ctypes.c_int), ("classes_dir", ctypes.c_char_p),
                ("center_crop", ctypes.c_double)]


def main():
    build = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    side = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else os.cpu_count()
    lib = ctypes.CDLL(sorted(glob.glob(os.path.join(build, "lib", "liblpc.so.*.*")))[0])
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(3):
            os.makedirs(os.path.join(tmp, f"c{k}"))
        yy, xx = np.mgrid[0:side, 0:side]
        for i in range(n):
            px = (yy[..., None] + xx[..., None] * (i % 7) + rng.integers(0, 40, (side, side, 3)))
            Image.fromarray((px % 256).astype(np.uint8)).save(
                os.path.join(tmp, f"c{i % 3}", f"{i:05d}.jpg"), quality=90)
        files = sorted(glob.glob(os.path.join(tmp, "*", "*.jpg")))

        def pillow():
            for f in files:
                with Image.open(f) as im:
                    im.convert("RGB").resize((64, 64), Image.BILINEAR)

        def liblpc(t):
            lib.lpc_set_num_threads(t)
            o = Options()
            lib.lpc_imagedir_options_init(ctypes.byref(o))
            o.height = o.width = 64
            ds = ctypes.c_void_p()
            assert lib.lpc_dataset_load_imagedir(tmp.encode(), ctypes.byref(o), ctypes.byref(ds)) == 0
            lib.lpc_dataset_free(ds)

        def median(fn, *a):
            times = []
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                fn(*a)
                times.append(time.perf_counter() - t0)
            return statistics.median(times)

        base = median(pillow)
        print(f"{n} JPEGs {side}x{side} -> 64x64, median of {REPEATS}")
        print(f"  Pillow {Image.__version__} (1 process): {base * 1e3:8.1f} ms")
        for t in sorted({1, threads}):
            s = median(liblpc, t)
            print(f"  liblpc, {t} thread(s):   {s * 1e3:8.1f} ms  ({base / s:.2f}x Pillow)")


if __name__ == "__main__":
    main()

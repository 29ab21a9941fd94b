#!/usr/bin/env python3
"""Image-folder reader against Pillow: PNG images (lossless) of several sizes
and both modes, read by lpc_dataset_load_imagedir with a size (and a grey
conversion, and torchvision's Resize + CenterCrop), must equal Pillow's
Image.resize(size, BILINEAR) / convert("L") / the same crop byte for byte.
Calls liblpc through ctypes. Exit 77 (skip) without Pillow or NumPy.
Usage: test_pillow_resize.py SOURCE_ROOT BUILD_ROOT"""
import ctypes
import glob
import os
import sys
import tempfile

try:
    import numpy as np
    from PIL import Image
except ImportError:
    # A python3 first on PATH (pyenv, a venv) may lack the Debian packages.
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("Pillow/NumPy missing (scripts/setup installs python3-pil): skipped")
    sys.exit(77)


class Options(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("height", ctypes.c_int), ("width", ctypes.c_int),
                ("channels", ctypes.c_int), ("classes_dir", ctypes.c_char_p),
                ("center_crop", ctypes.c_double)]


def load(lib, folder, h, w, c, crop=1.0):
    o = Options()
    lib.lpc_imagedir_options_init(ctypes.byref(o))
    o.height, o.width, o.channels, o.center_crop = h, w, c, crop
    ds = ctypes.c_void_p()
    s = lib.lpc_dataset_load_imagedir(folder.encode(), ctypes.byref(o), ctypes.byref(ds))
    if s != 0:
        raise RuntimeError(lib.lpc_last_error().decode())
    n = lib.lpc_dataset_size(ds)
    ch, hh, ww = lib.lpc_dataset_channels(ds), lib.lpc_dataset_height(ds), lib.lpc_dataset_width(ds)
    buf = ctypes.string_at(lib.lpc_dataset_images(ds), n * ch * hh * ww)
    lib.lpc_dataset_free(ds)
    return np.frombuffer(buf, np.uint8).reshape(n, ch, hh, ww)


def pillow_crop(img, h, w, frac):
    """torchvision's Resize(S) + CenterCrop((h, w)) on a PIL image."""
    side = round(max(h, w) / frac)
    iw, ih = img.size
    if ih <= iw:
        size = (int(side * iw / ih), side)
    else:
        size = (side, int(side * ih / iw))
    big = img.resize(size, Image.BILINEAR)
    top, left = int(round((size[1] - h) / 2.0)), int(round((size[0] - w) / 2.0))
    return big.crop((left, top, left + w, top + h))


def main():
    build = sys.argv[2]
    so = sorted(glob.glob(os.path.join(build, "lib", "liblpc.so.*.*")))
    if not so:
        print("liblpc.so not built")
        return 1
    lib = ctypes.CDLL(so[0])
    lib.lpc_last_error.restype = ctypes.c_char_p
    lib.lpc_dataset_size.restype = ctypes.c_int64
    lib.lpc_dataset_images.restype = ctypes.c_void_p
    for f in ("lpc_dataset_size", "lpc_dataset_channels", "lpc_dataset_height",
              "lpc_dataset_width", "lpc_dataset_images", "lpc_dataset_free"):
        getattr(lib, f).argtypes = [ctypes.c_void_p]
    rng = np.random.default_rng(0)
    cases = [((37, 53), (16, 16)), ((16, 16), (37, 29)), ((100, 61), (7, 9)), ((24, 20), (24, 11))]
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for mode, c in (("RGB", 3), ("L", 1)):
            for (ih, iw), (h, w) in cases:
                folder = os.path.join(tmp, f"{mode}-{ih}x{iw}")
                os.makedirs(os.path.join(folder, "a"))
                shape = (ih, iw, 3) if mode == "RGB" else (ih, iw)
                # Smooth plus noise, so that the filter's weights matter.
                yy, xx = np.mgrid[0:ih, 0:iw]
                base = (yy * 255 // max(ih - 1, 1) + xx * 7) % 256
                px = (base[..., None] if mode == "RGB" else base) + rng.integers(0, 60, shape)
                img = Image.fromarray(np.clip(px, 0, 255).astype(np.uint8), mode)
                img.save(os.path.join(folder, "a", "x.png"))
                got = load(lib, folder, h, w, c)[0]
                want = np.asarray(img.resize((w, h), Image.BILINEAR))
                want = want.transpose(2, 0, 1) if c == 3 else want[None]
                diff = int(np.abs(got.astype(int) - want.astype(int)).max())
                print(f"{mode} {ih}x{iw} -> {h}x{w}: max difference {diff}")
                bad += diff != 0
                if mode == "RGB":  # grey conversion, then resize
                    got = load(lib, folder, h, w, 1)[0, 0]
                    want = np.asarray(img.convert("L").resize((w, h), Image.BILINEAR))
                    diff = int(np.abs(got.astype(int) - want.astype(int)).max())
                    print(f"  grey: max difference {diff}")
                    bad += diff != 0
                if h <= ih and w <= iw:
                    got = load(lib, folder, h, w, c, 0.875)[0]
                    want = np.asarray(pillow_crop(img, h, w, 0.875))
                    want = want.transpose(2, 0, 1) if c == 3 else want[None]
                    diff = int(np.abs(got.astype(int) - want.astype(int)).max())
                    print(f"  resize + centre crop 0.875: max difference {diff}")
                    bad += diff != 0
    print("FAIL" if bad else "OK: equal to Pillow byte for byte")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

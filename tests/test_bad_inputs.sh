#!/bin/bash
# The example programs on bad inputs (issue 12): a checkpoint with a NaN
# weight never gives a finished cell; resuming on replaced data files is
# refused; an unreadable checkpoint is reported as unreadable (not "delete
# it"); lpc-analyze refuses NaN/Inf with file, row and column and prints no
# JSON when it fails; PNG test folders are labelled by class name and a
# test class unknown to the training set is refused.
# Arguments: source and build dirs.
set -u
build=$2
ablation="$build/examples/ablation/lpc-ablation"
analyze="$build/examples/analyze/lpc-analyze"
fmnist=/usr/share/datasets/fashion-mnist
[ -x "$ablation" ] && [ -x "$analyze" ] || { echo "SKIP: examples not built"; exit 77; }
[ -e $fmnist/train-images-idx3-ubyte.gz ] || { echo "SKIP: Fashion-MNIST not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
opts=(--models LPC --subset 300 --deepfool-samples 5 --threads 1 --quiet)
cell=cells/0-LPC-lr0.001-s0

# ---- lpc-analyze: NaN / Inf refused, nothing on stdout (item 8) ----
python3 - "$tmp" <<'EOF'
# .npy files (format 1.0) written by hand: no NumPy needed.
import math, random, struct, sys
d = sys.argv[1]
def save(name, descr, shape, values, fmt):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join("%d, " % n for n in shape))
    hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
    with open(d + "/" + name, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
        f.write(struct.pack("<%d%s" % (len(values), fmt), *values))
random.seed(0)
z = [random.gauss(0, 1) for _ in range(40 * 3)]
save("z.npy", "<f4", (40, 3), z, "f")
save("y.npy", "<i4", (40,), [i % 4 for i in range(40)], "i")
zn = list(z); zn[7 * 3 + 2] = math.nan
save("z_nan.npy", "<f4", (40, 3), zn, "f")
lg = [random.gauss(0, 1) for _ in range(40 * 4)]; lg[5 * 4 + 1] = math.inf
save("logits_inf.npy", "<f4", (40, 4), lg, "f")
save("z1.npy", "<f4", (1, 3), [1.0, 2.0, 3.0], "f")  # one sample: R fails with LPC_E_ARG
save("y1.npy", "<i4", (1,), [0], "i")
EOF
"$analyze" --features "$tmp/z.npy" --labels "$tmp/y.npy" >"$tmp/a.out" 2>"$tmp/a.err" ||
    fail "lpc-analyze on finite data: $(cat "$tmp/a.err")"
check_analyze() { # name, expected stderr text, options...
    local name=$1 want=$2 rc=0
    shift 2
    "$analyze" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
    [ $rc -eq 2 ] || fail "lpc-analyze $name: exit $rc, expected 2"
    grep -qF "$want" "$tmp/$name.err" || fail "lpc-analyze $name: stderr lacks '$want': $(cat "$tmp/$name.err")"
    [ -s "$tmp/$name.out" ] && fail "lpc-analyze $name: printed on stdout: $(cat "$tmp/$name.out")"
    echo "ok: lpc-analyze refuses $name"
}
check_analyze nan-features "z_nan.npy: row 7, column 2 is nan" --features "$tmp/z_nan.npy" --labels "$tmp/y.npy"
check_analyze inf-logits "logits_inf.npy: row 5, column 1 is inf" --features "$tmp/z.npy" \
    --labels "$tmp/y.npy" --logits "$tmp/logits_inf.npy"
check_analyze one-sample "R: lpc_separation_ratio: needs k >= 2" --features "$tmp/z1.npy" \
    --labels "$tmp/y1.npy"

# ---- PNG test folders are labelled by class name (item 5) ----
python3 - "$tmp/png" <<'EOF'
# train/{a_cat,b_dog,c_frog}, test/{a_cat,c_frog}: 8x8 grey PNGs.
import os, struct, sys, zlib
def png(path, w, h, px):
    raw = b"".join(b"\x00" + bytes(px[y * w:(y + 1) * w]) for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
base = {"a_cat": 20, "b_dog": 120, "c_frog": 220}
for split, classes, n in (("train", ("a_cat", "b_dog", "c_frog"), 6), ("test", ("a_cat", "c_frog"), 3)):
    for c in classes:
        os.makedirs("%s/%s/%s" % (sys.argv[1], split, c))
        for i in range(n):
            png("%s/%s/%s/%d.png" % (sys.argv[1], split, c, i), 8, 8,
                [(base[c] + 3 * i + j) % 256 for j in range(64)])
EOF
"$ablation" run --cell 0 --out "$tmp/png-out" --dataset "pngdir:$tmp/png" --epochs 1 --subset 0 \
    "${opts[@]}" >"$tmp/png.log" 2>&1 || fail "pngdir run: $(cat "$tmp/png.log")"
labels=$(python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
print(*struct.unpack("<6i", b[10 + struct.unpack("<H", b[8:10])[0]:]))' "$tmp/png-out/$cell/labels_test.npy")
[ "$labels" = "0 0 0 2 2 2" ] || fail "pngdir test labels are '$labels', expected '0 0 0 2 2 2'"
grep -q "test set of pngdir:.* has no sample of class 1 (b_dog)" "$tmp/png.log" ||
    fail "the missing test class is not reported: $(cat "$tmp/png.log")"
mkdir "$tmp/png/test/x_bird"
cp "$tmp/png/test/a_cat/0.png" "$tmp/png/test/x_bird/"
if "$ablation" run --cell 0 --out "$tmp/png-out2" --dataset "pngdir:$tmp/png" --epochs 1 \
    --subset 0 "${opts[@]}" >"$tmp/png2.log" 2>&1; then
    fail "a test class unknown to the training set was accepted"
fi
grep -q "class 'x_bird' is not a class of" "$tmp/png2.log" || fail "unknown class not named: $(cat "$tmp/png2.log")"
echo "ok: PNG test folders labelled by class name"

# ---- a finished reference cell on a private copy of the data ----
mkdir -p "$tmp/data"
cp $fmnist/*.gz "$tmp/data/"
"$ablation" run --cell 0 --out "$tmp/ref" --dataset "mnist:$tmp/data" --epochs 1 "${opts[@]}" \
    >"$tmp/ref.log" 2>&1 || fail "reference run: $(cat "$tmp/ref.log")"
ck="$tmp/ref/$cell/checkpoint.lpcc"
[ -e "$ck" ] || fail "no checkpoint in the reference run"

# ---- a training class without a sample is warned about (item 6) ----
# The first five Fashion-MNIST training labels are 9 0 0 3 0.
"$ablation" run --cell 0 --out "$tmp/few" --dataset "mnist:$tmp/data" --epochs 1 "${opts[@]}" \
    --subset 5 >"$tmp/few.log" 2>&1
grep -q "warning: the training set of mnist:.* has no sample of class 1, 2, 4, 5, 6, 7, 8 (7 of 10" \
    "$tmp/few.log" || fail "no warning for training classes without a sample: $(cat "$tmp/few.log")"
echo "ok: training classes without a sample are warned about"

# ---- a NaN weight in the final checkpoint: no finished cell (item 7) ----
mkdir -p "$tmp/nan/$cell"
python3 - "$ck" "$tmp/nan/$cell/checkpoint.lpcc" <<'EOF'
# Sets the first element of model.classifier.weight to NaN and fixes the
# section CRC (doc/formats.md).
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
assert b[24:28] == b"TNSR"
L = struct.unpack_from("<Q", b, 28)[0]
pay = 36
count = struct.unpack_from("<I", b, pay)[0]
off = pay + 4
for _ in range(count):
    nl = b[off]; name = bytes(b[off + 1:off + 1 + nl]).decode(); off += 1 + nl
    nd = struct.unpack_from("<I", b, off)[0]; off += 4
    n = 1
    for i in range(nd):
        n *= struct.unpack_from("<Q", b, off)[0]; off += 8
    if name == "model.classifier.weight":
        struct.pack_into("<f", b, off, float("nan"))
        break
    off += 4 * n
else:
    sys.exit("model.classifier.weight not found")
struct.pack_into("<I", b, 36 + L, zlib.crc32(bytes(b[24:36 + L])))
open(sys.argv[2], "wb").write(b)
EOF
[ $? -eq 0 ] || fail "patching the checkpoint"
if "$ablation" run --cell 0 --out "$tmp/nan" --dataset "mnist:$tmp/data" --epochs 1 "${opts[@]}" \
    >"$tmp/nan.log" 2>&1; then
    fail "a checkpoint with a NaN weight finished the cell"
fi
grep -q "classifier.weight\[0\] is nan" "$tmp/nan.log" || fail "NaN weight not named: $(cat "$tmp/nan.log")"
[ -e "$tmp/nan/$cell/result.json" ] && fail "NaN weight: result.json written"
echo "ok: a NaN weight does not finish the cell"

# ---- resume on replaced data is refused (item 9) ----
# Two epochs, then drop the result so that the next run resumes after epoch 2.
"$ablation" run --cell 0 --out "$tmp/fp" --dataset "mnist:$tmp/data" --epochs 2 "${opts[@]}" \
    >"$tmp/fp.log" 2>&1 || fail "fingerprint run: $(cat "$tmp/fp.log")"
rm "$tmp/fp/$cell/result.json"
"$ablation" run --cell 0 --out "$tmp/fp" --dataset "mnist:$tmp/data" --epochs 2 "${opts[@]}" \
    >"$tmp/fp2.log" 2>&1 || fail "resume on the same data: $(cat "$tmp/fp2.log")"
rm "$tmp/fp/$cell/result.json"
# The test files in place of the training files: same format, other images.
cp "$tmp/data/t10k-images-idx3-ubyte.gz" "$tmp/data/train-images-idx3-ubyte.gz"
cp "$tmp/data/t10k-labels-idx1-ubyte.gz" "$tmp/data/train-labels-idx1-ubyte.gz"
if "$ablation" run --cell 0 --out "$tmp/fp" --dataset "mnist:$tmp/data" --epochs 2 "${opts[@]}" \
    >"$tmp/fp3.log" 2>&1; then
    fail "resumed on replaced training data"
fi
grep -q "the data differ from those it was trained on" "$tmp/fp3.log" ||
    fail "no data-mismatch message: $(cat "$tmp/fp3.log")"
[ -e "$tmp/fp/$cell/result.json" ] && fail "replaced data: result.json written"
echo "ok: resuming on replaced data refused"

# ---- an unreadable checkpoint is not called damaged (item 15) ----
# Root reads anything, so run as nobody when root.
as_user=()
if [ "$(id -u)" = 0 ]; then
    command -v setpriv >/dev/null || { echo "SKIP (rest): setpriv missing to drop root"; exit 0; }
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
mkdir -p "$tmp/perm/$cell"
cp "$ck" "$tmp/perm/$cell/checkpoint.lpcc"
chmod 0 "$tmp/perm/$cell/checkpoint.lpcc"
chmod -R a+rwX "$tmp/perm" "$tmp/data"
chmod 0 "$tmp/perm/$cell/checkpoint.lpcc"
if "${as_user[@]}" "$ablation" run --cell 0 --out "$tmp/perm" --dataset fashion-mnist \
    --epochs 1 "${opts[@]}" >"$tmp/perm.log" 2>&1; then
    fail "an unreadable checkpoint was ignored"
fi
grep -q "cannot read checkpoint .*Permission denied" "$tmp/perm.log" ||
    fail "no permission message: $(cat "$tmp/perm.log")"
grep -q "delete it" "$tmp/perm.log" && fail "unreadable checkpoint: advice to delete it"
echo "ok: unreadable checkpoint reported as such"

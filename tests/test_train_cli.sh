#!/bin/sh
# lpc-train refuses a test set whose images do not fit the training set
# before it trains (issue 12 item 15), and bad model names with the list.
set -eu
build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Four 32x32 training images and four 28x28 test images (IDX, 2 classes).
python3 - "$tmp" <<'PY'
import struct, sys
d = sys.argv[1]
def write(prefix, side):
    with open(f"{d}/{prefix}-images-idx3-ubyte", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, 4, side, side) + bytes((i * 7) % 256 for i in range(4 * side * side)))
    with open(f"{d}/{prefix}-labels-idx1-ubyte", "wb") as f:
        f.write(struct.pack(">II", 0x801, 4) + bytes([0, 1, 0, 1]))
write("train", 32)
write("t10k", 28)
PY
rc=0
"$build/examples/train/lpc-train" --dataset "mnist:$tmp" --epochs 1 --batch 2 > "$tmp/out" 2>&1 || rc=$?
cat "$tmp/out"
[ $rc -eq 1 ] || { echo "expected exit 1, got $rc"; exit 1; }
grep -q 'does not fit' "$tmp/out" || { echo "no shape message"; exit 1; }
if grep -q '^epoch' "$tmp/out"; then echo "trained before checking the test set"; exit 1; fi
rc=0
"$build/examples/train/lpc-train" --model Bogus > "$tmp/out" 2>&1 || rc=$?
[ $rc -eq 2 ] && grep -q 'LPC-NoPen' "$tmp/out" || { cat "$tmp/out"; echo "bad model name not refused with the list"; exit 1; }
echo "lpc-train: mismatched test set and unknown model refused before training"

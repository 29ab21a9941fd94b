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
# --lipschitz: the measures reach the summary line and the JSON.
write_same() {
python3 - "$tmp" <<'PY'
import struct, sys
d = sys.argv[1]
for prefix in ("train", "t10k"):
    with open(f"{d}/{prefix}-images-idx3-ubyte", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, 4, 8, 8) + bytes((i * 37) % 256 for i in range(4 * 64)))
    with open(f"{d}/{prefix}-labels-idx1-ubyte", "wb") as f:
        f.write(struct.pack(">II", 0x801, 4) + bytes([0, 1, 0, 1]))
PY
}
write_same
"$build/examples/train/lpc-train" --dataset "mnist:$tmp" --epochs 1 --batch 2 --lipschitz \
    --json "$tmp/out.json" > "$tmp/out" 2>&1 || { cat "$tmp/out"; echo "--lipschitz failed"; exit 1; }
grep -q '^lipschitz grad_max=.*latent_bound=.*cert_acc@0.01=' "$tmp/out" || { cat "$tmp/out"; echo "no Lipschitz line"; exit 1; }
python3 - "$tmp/out.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("lipschitz_grad_max", "lipschitz_grad_mean", "lipschitz_grad_max_correct",
          "lipschitz_grad_mean_correct", "lipschitz_latent_bound", "certified_median_radius",
          "certified_bound_over_grad_median"):
    assert k in r, k
assert r["lipschitz_latent_bound"] > 0 and r["lipschitz_grad_max"] > 0
assert r["certified_bound_over_grad_median"] >= 1, r
assert set(r["certified_accuracy"]) == {"0.01", "0.05", "0.1", "0.25"}
PY
echo "lpc-train --lipschitz: measures in the report and the JSON"

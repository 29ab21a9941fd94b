#!/bin/bash
# lpc-train on JPEG class folders: a generated folder of 300 small JPEGs
# (3 classes of distinct colours, train/ and test/) trains briefly, as
# stored and resized (test images centre-cropped, random resized crops in
# training), and reports an accuracy; a damaged file is named before
# training; bad size specs are refused. Arguments: source and build dirs.
set -u
build=$2
train="$build/examples/train/lpc-train"
make="$build/tests/make_image_folder"
[ -x "$train" ] || { echo "SKIP: examples not built"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$make" "$tmp/img" 3 100 20 24 || fail "cannot write the images"
[ "$(find "$tmp/img/train" -name '*.jpg' | wc -l)" -eq 300 ] || fail "not 300 training images"
run() {
    "$train" --dataset "$@" --epochs 5 --batch 32 --threads 2 --quiet \
        --json "$tmp/out.json" >"$tmp/log" 2>&1 || fail "lpc-train $*: $(cat "$tmp/log")"
    grep -q "^summary" "$tmp/log" || fail "no summary for $1: $(cat "$tmp/log")"
    # The classes are three colours: a dense network separates them at once.
    python3 - "$tmp/out.json" <<'PY' || fail "accuracy too low for $1: $(cat "$tmp/log")"
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["acc_test"] >= 0.9 else 1)
PY
}
run "imagedir:$tmp/img"
# Resized to 16x16 grey, the test set through Resize + CenterCrop, trained
# with random resized crops.
run "imagedir-16x16x1c0.875:$tmp/img" --resized-crop
# A damaged test image is named and nothing trains.
head -c 100 "$tmp/img/test/class1/img003.jpg" >"$tmp/cut" && mv "$tmp/cut" "$tmp/img/test/class1/img003.jpg"
"$train" --dataset "imagedir:$tmp/img" --epochs 1 >"$tmp/log" 2>&1 && fail "a damaged file was accepted"
grep -q "class1/img003.jpg" "$tmp/log" || fail "the damaged file is not named: $(cat "$tmp/log")"
grep -q "^epoch" "$tmp/log" && fail "trained before reading the test set"
for bad in 0x5 16x16z 16x16x2 16x16c0.01; do
    "$train" --dataset "imagedir-$bad:$tmp/img" --epochs 1 >"$tmp/log" 2>&1 && fail "size $bad accepted"
done
echo "image folders: 300 JPEGs trained as stored and resized (centre crop, random resized crops); damage named"

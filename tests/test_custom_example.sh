#!/bin/sh
# The short version of examples/custom (lpc-custom): a user's residual CNN
# with a custom op and module, LPC head vs NoPen, on a Fashion-MNIST subset
# for one epoch: it trains both, measures them, collapses the LPC latent
# more than NoPen's and round-trips a checkpoint. Skipped without the data.
set -eu
build=$2
data=/usr/share/datasets/fashion-mnist
[ -f "$data/train-images-idx3-ubyte.gz" ] || { echo "skipping: no Fashion-MNIST in $data"; exit 77; }
out=$("$build/examples/custom/lpc-custom" --subset 1000 --epochs 1 --deepfool 20 --threads 1)
echo "$out"
echo "$out" | grep -q '^LPC   test accuracy' || { echo "no LPC line"; exit 1; }
echo "$out" | grep -q '^NoPen test accuracy' || { echo "no NoPen line"; exit 1; }
echo "$out" | grep -q '^checkpoint round trip: identical logits' || { echo "round trip failed"; exit 1; }
ratio=$(echo "$out" | sed -n 's/^Sigma_W ratio NoPen \/ LPC: //p')
awk -v r="$ratio" 'BEGIN { exit !(r > 10) }' || { echo "Sigma_W ratio $ratio is not > 10"; exit 1; }
# The table of collapse by layer: one row per layer, and R of z measured
# there (streamed, per layer) equals R of the summary line (in memory).
echo "$out" | grep -q '^Collapse by layer (first 1000 training images' || { echo "no layer table"; exit 1; }
for l in backbone.stem backbone.down1 backbone.down2 backbone.res backbone.act penultimate classifier; do
    echo "$out" | grep -q "^$l " || { echo "no row for $l"; exit 1; }
done
r_lpc=$(echo "$out" | sed -n 's/^LPC   test accuracy .*  R \([^ ]*\) .*/\1/p')
r_nopen=$(echo "$out" | sed -n 's/^NoPen test accuracy .*  R \([^ ]*\) .*/\1/p')
r_z=$(echo "$out" | awk '$1 == "penultimate" { print $7 }')
r_h=$(echo "$out" | awk '$1 == "backbone.act" { print $8 }')
awk -v a="$r_lpc" -v b="$r_z" -v c="$r_nopen" -v d="$r_h" \
    'BEGIN { exit !(a > 0 && c > 0 && (a - b)^2 < 4e-6 && (c - d)^2 < 4e-6) }' ||
    { echo "R by layer ($r_z, $r_h) differs from R ($r_lpc, $r_nopen)"; exit 1; }
# --head takes lpc or nopen only.
if "$build/examples/custom/lpc-custom" --head both >/dev/null 2>&1; then echo "--head both accepted"; exit 1; fi

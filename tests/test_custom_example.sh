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
# --head takes lpc or nopen only.
if "$build/examples/custom/lpc-custom" --head both >/dev/null 2>&1; then echo "--head both accepted"; exit 1; fi

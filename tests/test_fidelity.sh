#!/bin/bash
# lpc-ablation with the authors' conventions (doc/fidelity.md): a tiny cell
# run with --authors records them, logs training-set metrics every epoch,
# and the report writes Table 4 and the Fig. 5 curves; the trained
# checkpoint is re-analysed under liblpc's conventions without training
# again. lpc-train accepts the options. Arguments: source and build dirs.
set -u
build=$2
bin="$build/examples/ablation/lpc-ablation"
train="$build/examples/train/lpc-train"
[ -x "$bin" ] && [ -x "$train" ] || { echo "SKIP: examples not built"; exit 77; }
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
    { echo "SKIP: Fashion-MNIST not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
opts=(--models LPC --subset 600 --epochs 3 --deepfool-samples 20 --threads 1 --metrics-every 1)
cell=cells/0-LPC-lr0.001-s0
fail() { echo "FAIL: $*"; exit 1; }

"$bin" all --out "$tmp/a" "${opts[@]}" --authors >"$tmp/a.log" 2>&1 || fail "run: $(cat "$tmp/a.log")"
"$bin" report --out "$tmp/a" "${opts[@]}" --authors >"$tmp/r.log" 2>&1 || fail "report: $(cat "$tmp/r.log")"
res="$tmp/a/$cell/result.json"
grep -Eq '"conventions":[[:space:]]*"gamma=uncapped,margin-clamp=on,train-metrics=augmented,nc1=authors,deepfool-pick=random"' "$res" ||
    fail "conventions not recorded: $(grep conventions "$res")"
[ "$(grep -o '"nc1_weighted"' "$res" | wc -l)" -ge 4 ] || fail "training-set metrics missing from the log"
grep -q "self_duality" "$res" || fail "library metrics missing from the result"
grep -q "## Table 4" "$tmp/a/tables.md" || fail "no Table 4 in the report"
grep -q "| LPC | .* | 0.181 ± 0.154 |" "$tmp/a/tables.md" || fail "Table 4 lacks the paper's values"
for f in nc1_weighted equinorm equiangularity max_angle; do
    [ -s "$tmp/a/fig5_$f.png" ] || fail "fig5_$f.png not drawn"
done

# Same training, other analysis conventions: the checkpoint is reused.
mkdir -p "$tmp/b/$cell"
cp "$tmp/a/$cell/checkpoint.lpcc" "$tmp/b/$cell/"
"$bin" run --cell 0 --out "$tmp/b" "${opts[@]}" --gamma uncapped --margin-clamp on >"$tmp/b.log" 2>&1 ||
    fail "re-analysis: $(cat "$tmp/b.log")"
grep -q "resuming after epoch 3 of 3" "$tmp/b.log" || fail "the checkpoint was not reused: $(cat "$tmp/b.log")"
grep -Eq '"conventions":[[:space:]]*"gamma=uncapped,margin-clamp=on"' "$tmp/b/$cell/result.json" || fail "b conventions"
# Other training conventions: refused.
mkdir -p "$tmp/c/$cell"
cp "$tmp/a/$cell/checkpoint.lpcc" "$tmp/c/$cell/"
"$bin" run --cell 0 --out "$tmp/c" "${opts[@]}" --lr-decay cosine >"$tmp/c.log" 2>&1 &&
    fail "a checkpoint of other training conventions was accepted"
grep -q "refusing checkpoint" "$tmp/c.log" || fail "no refusal: $(cat "$tmp/c.log")"

# lpc-train: the options are accepted and a bad value is refused.
"$train" --subset 300 --epochs 1 --threads 1 --lr-decay cosine --gamma uncapped --authors --quiet \
    >"$tmp/t.log" 2>&1 || fail "lpc-train: $(cat "$tmp/t.log")"
grep -q "^summary" "$tmp/t.log" || fail "lpc-train printed no summary"
"$train" --lr-decay sometimes >"$tmp/t2.log" 2>&1 && fail "a bad --lr-decay was accepted"
grep -q "lr-decay is one of" "$tmp/t2.log" || fail "no message for a bad --lr-decay"
echo "ok"

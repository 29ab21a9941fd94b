#!/bin/bash
# lpc-ablation checkpoints: a tiny cell killed with SIGKILL at random
# moments and restarted until it finishes must give bit-identical features
# (hence weights) to an uninterrupted run; corrupt, truncated and foreign
# checkpoints must be refused without training. Arguments: source and build dirs.
set -u
build=$2
bin="$build/examples/ablation/lpc-ablation"
[ -x "$bin" ] || { echo "SKIP: $bin not built (examples disabled)"; exit 77; }
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
    { echo "SKIP: Fashion-MNIST not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
opts=(--models LPC --subset 600 --epochs 4 --deepfool-samples 20 --threads 1)
cell=cells/0-LPC-lr0.001-s0
fail() { echo "FAIL: $*"; exit 1; }

"$bin" run --cell 0 --out "$tmp/ref" "${opts[@]}" >"$tmp/ref.log" 2>&1 ||
    fail "uninterrupted run: $(cat "$tmp/ref.log")"

# Interrupted: each round waits for a new epoch line, sleeps a random
# fraction of a second and kills the process.
resumed=0
for round in 1 2 3 4; do
    [ -e "$tmp/int/$cell/result.json" ] && break
    log="$tmp/int.$round.log"
    "$bin" run --cell 0 --out "$tmp/int" "${opts[@]}" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 200); do
        grep -q " epoch " "$log" 2>/dev/null && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.05
    done
    sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    grep -q "resuming after epoch [1-9]" "$log" && resumed=$((resumed + 1))
done
"$bin" run --cell 0 --out "$tmp/int" "${opts[@]}" >"$tmp/int.final.log" 2>&1 ||
    fail "resumed run: $(cat "$tmp/int.final.log")"
grep -q "resuming after epoch\|already finished" "$tmp/int.final.log" && resumed=$((resumed + 1))
[ $resumed -ge 1 ] || fail "no run resumed from a checkpoint"
for f in features_train.npy features_test.npy labels_test.npy; do
    cmp "$tmp/ref/$cell/$f" "$tmp/int/$cell/$f" || fail "$f differs after kill/resume"
done
echo "ok: $resumed resumed runs, features bit-identical"

# A finished cell is not run again.
"$bin" run --cell 0 --out "$tmp/ref" "${opts[@]}" >"$tmp/again.log" 2>&1 || fail "rerun of a finished cell"
grep -q "already finished" "$tmp/again.log" || fail "finished cell not recognised"

# Corrupt (one flipped byte), truncated and foreign checkpoints are refused.
refused() { # name, extra options...
    local name=$1
    shift
    if "$bin" run --cell 0 --out "$tmp/$name" "$@" >"$tmp/$name.log" 2>&1; then
        fail "$name checkpoint was accepted"
    fi
    grep -q "refusing checkpoint" "$tmp/$name.log" || fail "$name: no refusal message: $(cat "$tmp/$name.log")"
    [ -e "$tmp/$name/$cell/result.json" ] && fail "$name: a result was written"
    echo "ok: $name checkpoint refused"
}
ck="$tmp/ref/$cell/checkpoint.lpcc"
size=$(stat -c %s "$ck")
for name in corrupt truncated foreign; do
    mkdir -p "$tmp/$name/$cell"
    cp "$ck" "$tmp/$name/$cell/checkpoint.lpcc"
done
byte=$(od -An -tu1 -j $((size / 2)) -N1 "$ck" | tr -d ' ')
printf "$(printf '\\%03o' $(((byte + 1) % 256)))" |
    dd of="$tmp/corrupt/$cell/checkpoint.lpcc" bs=1 seek=$((size / 2)) conv=notrunc status=none
truncate -s $((size - 100)) "$tmp/truncated/$cell/checkpoint.lpcc"
refused corrupt "${opts[@]}"
refused truncated "${opts[@]}"
refused foreign --models LPC --subset 600 --epochs 5 --deepfool-samples 20 --threads 1

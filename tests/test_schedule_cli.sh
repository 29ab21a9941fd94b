#!/bin/bash
# The authors' current schedules through the programs: lpc-train
# --print-schedule gives gamma and both groups' rates at a few epochs
# hand-computed from the authors' formulas (doc/fidelity.md), on each clock
# (paper, compressed, ramp); the v1 defaults are unchanged; bad combinations
# are refused; a short run trains; lpc-ablation's presets and overrides
# reach the plan and the Slurm script. Arguments: source and build dirs.
set -u
build=$2
train="$build/examples/train/lpc-train"
abl="$build/examples/ablation/lpc-ablation"
[ -x "$train" ] && [ -x "$abl" ] || { echo "SKIP: examples not built"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# Eight 28x28 training and four test images of two classes (IDX).
python3 - "$tmp" <<'PY'
import struct, sys
d = sys.argv[1]
def write(prefix, n):
    with open(f"{d}/{prefix}-images-idx3-ubyte", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + bytes((i * 7) % 256 for i in range(n * 784)))
    with open(f"{d}/{prefix}-labels-idx1-ubyte", "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(i % 2 for i in range(n)))
write("train", 8)
write("t10k", 4)
PY
data=(--dataset "mnist:$tmp" --batch 4 --threads 1)

# sched NAME ARGS...: the run's schedule into $tmp/NAME.
sched() {
    local name=$1
    shift
    "$train" "${data[@]}" --print-schedule "$@" >"$tmp/$name" 2>"$tmp/$name.err" ||
        fail "lpc-train --print-schedule $*: $(cat "$tmp/$name.err")"
}
# expect NAME EPOCH FIELD VALUE: FIELD (gamma, lr, lr_classifier) at EPOCH within 1e-12 relative.
expect() {
    local got
    got=$(awk -v e="$2" -v f="$3" '$1 == "epoch" && $2 == e { for (i = 3; i < NF; i += 2) if ($i == f) print $(i + 1) }' "$tmp/$1")
    [ -n "$got" ] || fail "$1: no $3 at epoch $2"
    awk -v g="$got" -v w="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= 1e-12 * (w < 0 ? -w : w) + 1e-300) }' ||
        fail "$1: $3 at epoch $2 is $got, expected $4"
}

# The authors' CIFAR-10 configuration over its own 1000 epochs.
sched c10 --schedule cifar10 --epochs 1000 --protocol paper --lr 1e-3
expect c10 1 gamma 2e-4          # first update at epoch 1
expect c10 5 gamma 2e-4
expect c10 6 gamma 4e-4
expect c10 115 gamma 838.8608     # 1e-4 * 2^23
expect c10 116 gamma 1000         # capped at the end of phase 1
expect c10 117 gamma 1250         # phase 2 from the next epoch
expect c10 122 gamma 1562.5
expect c10 266 gamma 807793.566946316
expect c10 267 gamma 1e6
expect c10 1000 gamma 1e6
expect c10 1 lr 1e-3
expect c10 200 lr 1e-3            # constant through epoch 200
expect c10 201 lr 9.999961447292884e-4   # 1e-8 + (1e-3 - 1e-8)(1 + cos(pi/800))/2
expect c10 600 lr 5.00005e-4
expect c10 1000 lr 1e-8
expect c10 1000 lr_classifier 1e-3      # the classifier never decays
# The three final-gamma variants.
sched c06 --schedule cifar10-06 --epochs 300 --protocol paper
expect c06 256 gamma 516987.8828456422
expect c06 257 gamma 6e5
sched c08 --schedule cifar10-08 --epochs 300 --protocol paper
expect c08 261 gamma 646234.8535570528
expect c08 262 gamma 8e5
sched c12 --schedule cifar10-12 --epochs 300 --protocol paper
expect c12 267 gamma 1009741.958682895
expect c12 272 gamma 1.2e6
# Changes: final gamma, warmup over 5 epochs from 0.1 (both groups), hold and floor.
sched chg --schedule cifar10 --epochs 300 --protocol paper --gamma-final 5e5 --warmup 5 \
    --lr-hold 100 --lr-floor 1e-6 --lr 1e-3
expect chg 300 gamma 5e5
expect chg 1 lr 2.8e-4
expect chg 1 lr_classifier 2.8e-4
expect chg 2 lr 4.6e-4
expect chg 5 lr 1e-3
expect chg 100 lr 1e-3
expect chg 101 lr 9.999969568750663e-4  # 1e-6 + (1e-3 - 1e-6)(1 + cos(pi/900))/2
# ImageNet: warmup in the configuration, gamma steps every epoch.
sched inet --schedule imagenet --epochs 200 --protocol paper --lr 1e-3
expect inet 1 lr 2.8e-4
expect inet 24 gamma 1000
expect inet 25 gamma 1250
expect inet 71 lr 9.998540216393926e-4
expect inet 200 lr 1e-7
# Compressed clock: 10 epochs cover the 1000 (epoch e starts at clock epoch 100 (e - 1) + 1).
sched cmp --schedule cifar10 --epochs 10 --protocol compressed --lr 1e-3
expect cmp 1 gamma 2e-4
expect cmp 2 gamma 209.7152       # clock epoch 101: 21 updates
expect cmp 3 lr 9.999961447292884e-4   # clock epoch 201
expect cmp 10 lr 3.7322027230565411e-05 # clock epoch 901
# Ramp clock: gamma's 267 epochs in the first half of the run, the rate as compressed.
sched rmp --schedule cifar10 --epochs 10 --protocol ramp --reach 0.5 --lr 1e-3
expect rmp 6 gamma 1e6
expect rmp 5 gamma 86736.17379884035   # clock epoch floor(0.8 * 266) + 1 = 213: 1e3 * 1.25^20
expect rmp 10 lr 3.7322027230565411e-05
# Without --schedule: the first-version schedules, unchanged.
sched v1 --epochs 800 --protocol paper --lr 1e-3
expect v1 3 gamma 0.0105
expect v1 301 lr 5e-4
expect v1 301 lr_classifier 1e-3

# Refusals.
for bad in "--warmup 5" "--schedule nope" "--schedule cifar10 --lr-decay cosine" \
           "--schedule cifar10 --gamma uncapped" "--weight-decay -1" "--schedule cifar10 --lr-floor 1"; do
    # shellcheck disable=SC2086
    "$train" "${data[@]}" --epochs 1 $bad >"$tmp/bad" 2>&1 && fail "accepted: $bad"
    grep -q "error" "$tmp/bad" || fail "no message for: $bad"
done
# A short run with the schedule and a weight decay trains and reports.
"$train" "${data[@]}" --epochs 2 --schedule cifar10-06 --protocol compressed --weight-decay 0.1 \
    --quiet >"$tmp/run" 2>&1 || fail "training: $(cat "$tmp/run")"
grep -q "^summary" "$tmp/run" || fail "no summary: $(cat "$tmp/run")"

# lpc-ablation: presets and overrides reach the plan and the Slurm script.
"$abl" plan --out "$tmp/ab" --preset current-cifar10-12 >"$tmp/plan" 2>&1 || fail "plan: $(cat "$tmp/plan")"
grep -q "1000 epochs.*widths 64/128/32.*weight decay 0.0005, schedule=cifar10-12" "$tmp/plan" ||
    fail "preset: $(head -2 "$tmp/plan")"
grep -q "^220 cells" "$tmp/plan" || fail "grid: $(head -3 "$tmp/plan")"
"$abl" plan --out "$tmp/ab" --preset current-imagenet >"$tmp/plan4" 2>&1 || fail "plan: $(cat "$tmp/plan4")"
grep -q "imagedir-224x224c0.875:data/imagenet, wrn50-2 backbone, paper protocol, 200 epochs, batch 64.*widths 128/256/32, augment 0, resized crop.*weight decay 1e-07, schedule=imagenet" "$tmp/plan4" ||
    fail "ImageNet preset: $(head -2 "$tmp/plan4")"
grep -q "^30 cells" "$tmp/plan4" || fail "ImageNet grid (LPC, NoPen x 3 rates x 5 seeds): $(head -3 "$tmp/plan4")"
"$abl" plan --out "$tmp/ab" --preset quick --schedule cifar10 --warmup 3 --weight-decay 0.1 \
    >"$tmp/plan2" 2>&1 || fail "plan: $(cat "$tmp/plan2")"
grep -q "weight decay 0.1, schedule=cifar10,warmup=3" "$tmp/plan2" || fail "overrides: $(head -2 "$tmp/plan2")"
"$abl" plan --out "$tmp/ab" --preset quick --lr-hold 3 >"$tmp/plan3" 2>&1 &&
    fail "lpc-ablation accepted a change without --schedule"
"$abl" slurm --out "$tmp/ab" --preset quick --schedule cifar10-08 --weight-decay 0.1 \
    >"$tmp/slurm" 2>&1 || fail "slurm: $(cat "$tmp/slurm")"
grep -q -- "--schedule '\?cifar10-08" "$tmp/ab/slurm-array.sh" &&
    grep -q -- "--weight-decay '\?0.1" "$tmp/ab/slurm-array.sh" || fail "Slurm script: $(cat "$tmp/ab/slurm-array.sh")"
echo "schedules: values, clocks, refusals, training and the ablation's presets as expected"

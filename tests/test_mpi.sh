#!/bin/bash
# Data-parallel training over MPI (mpirun --oversubscribe, 1 thread per rank):
#  0. the all-reduce over 2, 3 and 4 ranks sums in the documented order, bit
#     for bit (the ring for large buffers, rank 0 first for small ones);
#  1. 20 steps of the dense model and of resnet-small with 2 and with 4 ranks
#     agree with 1 process on the same global batches: weights within 1e-4
#     and batch-norm running statistics within 2e-4 (largest absolute
#     difference); two runs with the same rank count are bit-identical;
#  2. lpc-ablation run under mpirun: a rank killed with SIGKILL makes the job
#     fail with a message within 60 s, and the rerun resumes from the last
#     checkpoint and ends bit-identical to an uninterrupted 2-rank run;
#  3. 1 process resumes from a 2-rank checkpoint and ends with weights within
#     1e-4 of the 2-rank run's.
#  4. lpc-train under mpirun reports once (rank 0), and a SupCon model is
#     refused with a message (its loss couples all pairs of a batch).
# Every run has a bounded timeout. Arguments: source and build dirs.
set -u
build=$2
steps="$build/tests/mpi_steps"
bin="$build/examples/ablation/lpc-ablation"
command -v mpirun >/dev/null || { echo "SKIP: mpirun not installed (openmpi-bin)"; exit 77; }
[ -x "$steps" ] || { echo "SKIP: $steps not built (no MPI found, or examples disabled)"; exit 77; }
[ -x "$bin" ] || { echo "SKIP: $bin not built (examples disabled)"; exit 77; }
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
    { echo "SKIP: Fashion-MNIST not installed"; exit 77; }
tmp=$(mktemp -d)
bg=""
descendants() { # PIDs below $1, children first
    local c
    for c in $(ps -o pid= --ppid "$1"); do
        descendants "$c"
        echo "$c"
    done
}
cleanup() {
    # A background job still running after a failure: its timeout, mpirun and ranks.
    [ -n "$bg" ] && kill -9 $(descendants "$bg") "$bg" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
mpi() { # ranks, command...
    local np=$1
    shift
    timeout -k 10 900 mpirun --oversubscribe --allow-run-as-root -np "$np" "$@"
}

# 0. The all-reduce's order.
for np in 2 3 4; do
    mpi $np "$steps" allreduce >"$tmp/allreduce.log" 2>&1 ||
        fail "all-reduce over $np ranks: $(cat "$tmp/allreduce.log")"
    echo "ok: all-reduce, $(cat "$tmp/allreduce.log")"
done

# 1. Two and four ranks against one process.
for bb in mlp resnet-small; do
    timeout 900 "$steps" train $bb 20 "$tmp/$bb-1.lpcc" >"$tmp/$bb-1.log" 2>&1 ||
        fail "$bb, 1 process: $(cat "$tmp/$bb-1.log")"
    for np in 2 4; do
        for run in a b; do
            mpi $np "$steps" train $bb 20 "$tmp/$bb-$np$run.lpcc" >"$tmp/$bb-$np$run.log" 2>&1 ||
                fail "$bb, $np ranks: $(cat "$tmp/$bb-$np$run.log")"
        done
        cmp -s "$tmp/$bb-${np}a.lpcc" "$tmp/$bb-${np}b.lpcc" || fail "$bb: two $np-rank runs differ"
        "$steps" compare "$tmp/$bb-1.lpcc" "$tmp/$bb-${np}a.lpcc" 1e-4 2e-4 >"$tmp/$bb.cmp" 2>&1 ||
            fail "$bb: $np ranks differ from 1 process: $(cat "$tmp/$bb.cmp")"
        echo "ok: $bb, 20 steps, $np ranks vs 1 process: $(tr '\n' ';' <"$tmp/$bb.cmp")"
        echo "ok: $bb, two $np-rank runs bit-identical"
    done
done

# 2. lpc-ablation run under mpirun: kill a rank, rerun, resume.
opts=(--models LPC --subset 10000 --epochs 5 --deepfool-samples 20 --threads 1)
cell=cells/0-LPC-lr0.001-s0
mpi 2 "$bin" run --cell 0 --out "$tmp/ref" "${opts[@]}" >"$tmp/ref.log" 2>&1 ||
    fail "uninterrupted 2-rank run: $(cat "$tmp/ref.log")"
grep -Eq '"ranks":[[:space:]]*2[,}[:space:]]' "$tmp/ref/$cell/result.json" || fail "result.json does not record 2 ranks"
# The other cell of the grid locally, into the same directory: report reads both.
"$bin" all --out "$tmp/ref" "${opts[@]}" --models LPC,NoPen --quiet >"$tmp/all.log" 2>&1 ||
    fail "local cell: $(cat "$tmp/all.log")"
"$bin" report --out "$tmp/ref" "${opts[@]}" --models LPC,NoPen >"$tmp/report.log" 2>&1 ||
    fail "report: $(cat "$tmp/report.log")"
grep -q "^2 of 2 cells finished" "$tmp/report.log" || fail "report: $(cat "$tmp/report.log")"
echo "ok: report reads an MPI-trained and a locally trained cell from one directory"

log="$tmp/kill.log"
mpi 2 "$bin" run --cell 0 --out "$tmp/kill" "${opts[@]}" >"$log" 2>&1 &
bg=$!
for _ in $(seq 4800); do
    grep -q " epoch [1-3]/5 " "$log" 2>/dev/null && break
    kill -0 $bg 2>/dev/null || break
    sleep 0.05
done
grep -q " epoch [1-3]/5 " "$log" || fail "no epoch finished within 4 minutes: $(cat "$log")"
# Below the job: timeout, mpirun and the ranks; rank 1's environment says so.
victim=""
for p in $(descendants $bg); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && victim=$p
done
[ -n "$victim" ] || fail "rank 1 not found among mpirun's children"
kill -9 "$victim"
cp "$tmp/kill/$cell/checkpoint.lpcc" "$tmp/two-rank.lpcc" # for part 3
for _ in $(seq 600); do
    kill -0 $bg 2>/dev/null || break
    sleep 0.1
done
kill -0 $bg 2>/dev/null && fail "the job still runs 60 s after rank 1 was killed"
wait $bg
rc=$?
bg=""
[ $rc -ne 0 ] || fail "the job with a killed rank exited with status 0"
grep -qi "signal 9\|killed" "$log" || fail "no message about the killed rank: $(cat "$log")"
echo "ok: rank 1 killed, the job failed with status $rc: $(grep -i -m1 "signal 9\|killed" "$log")"
[ -e "$tmp/kill/$cell/result.json" ] && fail "a result was written by the killed job"

mpi 2 "$bin" run --cell 0 --out "$tmp/kill" "${opts[@]}" >"$tmp/rerun.log" 2>&1 ||
    fail "rerun: $(cat "$tmp/rerun.log")"
grep -q "resuming after epoch [1-4] of 5" "$tmp/rerun.log" ||
    fail "the rerun did not resume: $(cat "$tmp/rerun.log")"
for f in features_train.npy features_test.npy; do
    cmp -s "$tmp/ref/$cell/$f" "$tmp/kill/$cell/$f" || fail "$f differs after kill and resume"
done
# (the checkpoints' epoch logs hold wall times: compare their tensors, exactly)
"$steps" compare "$tmp/ref/$cell/checkpoint.lpcc" "$tmp/kill/$cell/checkpoint.lpcc" 0 0 \
    >"$tmp/kill.cmp" 2>&1 || fail "weights differ after kill and resume: $(cat "$tmp/kill.cmp")"
echo "ok: rerun $(grep -o "resuming after epoch [0-9] of 5" "$tmp/rerun.log"), bit-identical to the uninterrupted run"

# 3. One process resumes from the 2-rank checkpoint.
mkdir -p "$tmp/one/$cell"
cp "$tmp/two-rank.lpcc" "$tmp/one/$cell/checkpoint.lpcc"
timeout 900 "$bin" run --cell 0 --out "$tmp/one" "${opts[@]}" >"$tmp/one.log" 2>&1 ||
    fail "1-process resume: $(cat "$tmp/one.log")"
grep -q "resuming after epoch [1-4] of 5" "$tmp/one.log" ||
    fail "the 1-process run did not resume: $(cat "$tmp/one.log")"
"$steps" compare "$tmp/ref/$cell/checkpoint.lpcc" "$tmp/one/$cell/checkpoint.lpcc" 1e-4 0 \
    >"$tmp/one.cmp" 2>&1 || fail "1-process continuation differs: $(cat "$tmp/one.cmp")"
echo "ok: 1 process $(grep -o "resuming after epoch [0-9] of 5" "$tmp/one.log") of a 2-rank checkpoint: $(head -1 "$tmp/one.cmp")"

# 4. lpc-train under mpirun: rank 0 alone reports; SupCon is refused, not hung.
train="$build/examples/train/lpc-train"
mpi 2 "$train" --subset 2560 --epochs 1 --threads 1 >"$tmp/train.log" 2>&1 ||
    fail "lpc-train under mpirun: $(cat "$tmp/train.log")"
[ "$(grep -c '^summary ' "$tmp/train.log")" = 1 ] && grep -q "2 rank(s)" "$tmp/train.log" ||
    fail "lpc-train under mpirun: one summary from rank 0 expected: $(cat "$tmp/train.log")"
if mpi 2 "$train" --model SCL --subset 2560 --epochs 1 --threads 1 >"$tmp/scl.log" 2>&1; then
    fail "SupCon was trained over 2 ranks"
fi
grep -q "SupCon term, which couples all pairs" "$tmp/scl.log" ||
    fail "no SupCon refusal message: $(cat "$tmp/scl.log")"
echo "ok: lpc-train under mpirun reports once; SCL over 2 ranks refused: $(grep -m1 -o 'model has a SupCon term[^;]*' "$tmp/scl.log")"

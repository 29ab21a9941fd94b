#!/bin/bash
# lpc-ablation on a real Slurm: starts munged, slurmctld and slurmd as a
# single-node cluster from files in a temporary folder (nothing system-wide).
# One results directory of a tiny 4-cell ablation is filled three ways:
# cell 3 by a local `run`; cells 0-2 by a job array submitted through
# `lpc-ablation slurm --submit` (one running task is killed with `scancel
# --signal=KILL`, requeued, and must resume from its checkpoint); then cell
# 2 is deleted and resubmitted by the same command with `--ranks 2`, trained
# by two MPI ranks under mpirun inside the allocation (when built with MPI).
# `report` must find all 4 cells, and the 1-process cells must be
# bit-identical to the same cells run locally with `all`. Every daemon is
# stopped by PID and the folder removed on exit, also when a step fails.
# Arguments: source and build dirs.
set -u
build=$2
bin="$build/examples/ablation/lpc-ablation"
for p in munged slurmctld slurmd sbatch squeue scancel scontrol sinfo; do
    command -v $p >/dev/null || PATH=$PATH:/usr/sbin command -v $p >/dev/null ||
        { echo "SKIP: $p not installed (scripts/setup installs slurm-wlm and munge)"; exit 77; }
done
export PATH=$PATH:/usr/sbin
[ -x "$bin" ] || { echo "SKIP: $bin not built (examples disabled)"; exit 77; }
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
    { echo "SKIP: Fashion-MNIST not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: slurmd must run as root to start jobs"; exit 77; }

tmp=$(mktemp -d /tmp/lpc-slurm.XXXXXX)
chmod 755 "$tmp" # munged wants a socket directory others may traverse
pids=()
jobid=""
fail() { echo "FAIL: $*"; for f in "$tmp"/log/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }
# Waits until "$@" succeeds, at most $limit seconds.
wait_for() {
    local limit=$1
    shift
    for _ in $(seq $((limit * 5))); do
        "$@" && return 0
        sleep 0.2
    done
    return 1
}
cleanup() {
    if [ -n "$jobid" ]; then
        timeout 10 scancel "$jobid" 2>/dev/null
        wait_for 30 queue_empty
    fi
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do # slurmd, slurmctld, then munged
        kill "${pids[i]}" 2>/dev/null
        wait_for 10 eval '! kill -0 '"${pids[i]}"' 2>/dev/null' || kill -9 "${pids[i]}" 2>/dev/null
        wait "${pids[i]}" 2>/dev/null
    done
    # Anything still running from this folder (a task outliving its step) by PID.
    for d in /proc/[0-9]*; do
        grep -qs "$tmp" "$d/cmdline" && kill -9 "${d#/proc/}" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A TCP port nothing listens on (bash's /dev/tcp connects when one does).
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 40000))
        (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
    done
    echo 0
}

# munge: own key, socket, pid and seed files.
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log"
chmod 700 "$tmp/munge"
head -c 1024 /dev/urandom >"$tmp/munge/munge.key"
chmod 400 "$tmp/munge/munge.key"
sock="$tmp/munge/munge.sock"
munged -F --force --socket="$sock" --key-file="$tmp/munge/munge.key" \
    --pid-file="$tmp/munge/munged.pid" --seed-file="$tmp/munge/munged.seed" \
    --log-file="$tmp/log/munged.log" >>"$tmp/log/munged.log" 2>&1 &
pids+=($!)
wait_for 10 test -S "$sock" || fail "munged did not create its socket"

# slurm.conf: this machine's CPUs and memory as node "localhost".
cpus=$(nproc)
mem=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) * 9 / 10))
ctld_port=$(free_port)
d_port=$(free_port)
[ "$ctld_port" != 0 ] && [ "$d_port" != 0 ] && [ "$ctld_port" != "$d_port" ] ||
    fail "no free TCP ports"
: >"$tmp/plugstack.conf"
cat >"$tmp/slurm.conf" <<EOF
ClusterName=lpctest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
PlugStackConfig=$tmp/plugstack.conf
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$tmp/slurm.conf"
slurmctld -D -f "$SLURM_CONF" >>"$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >>"$tmp/log/slurmd.out" 2>&1 &
pids+=($!)
node_idle() { [ "$(timeout 5 sinfo -h -n localhost -o %T 2>/dev/null)" = idle ]; }
wait_for 60 node_idle || fail "the node did not become idle"
echo "ok: single-node cluster up (ports $ctld_port/$d_port, $cpus CPUs, ${mem} MB)"

queue_empty() { [ -z "$(timeout 5 squeue -h -j "$jobid" -o %i 2>/dev/null)" ]; }
# 4 cells (2 models x 2 seeds), 3 epochs on 2,000 images, 1 thread each.
opts=(--models LPC,NoPen --seeds 2 --subset 2000 --epochs 3 --deepfool-samples 50)
out="$tmp/slurm"
"$bin" run --cell 3 --out "$out" --threads 1 "${opts[@]}" >"$tmp/log/cell3.log" 2>&1 ||
    fail "local run of cell 3: $(cat "$tmp/log/cell3.log")"
"$bin" slurm --submit --out "$out" --jobs 2 --threads 1 --sbatch "--time=10:00" \
    "${opts[@]}" >"$tmp/log/submit.log" 2>&1 || fail "submission: $(cat "$tmp/log/submit.log")"
cat "$tmp/log/submit.log"
jobid=$(sed -n 's/^submitted job array \([0-9]*\)$/\1/p' "$tmp/log/submit.log")
[ -n "$jobid" ] || fail "no job id in the submission's output"
grep -q '^#SBATCH --array=0-2%2$' "$out/slurm-array.sh" || fail "array line: $(cat "$out/slurm-array.sh")"

# Kill the first task seen between its first checkpoint and its end.
victim=""
pick_victim() {
    local log
    for log in "$out"/logs/cell-*.log; do
        [ -e "$log" ] || continue
        if grep -q " epoch 1/3 " "$log" && ! grep -q " epoch 3/3 " "$log"; then
            victim=$(basename "$log" .log)
            victim=${victim#cell-}
            return 0
        fi
    done
    return 1
}
wait_for 300 pick_victim || fail "no task was caught between epochs 1 and 3"
timeout 10 scancel --signal=KILL "${jobid}_$victim" || fail "scancel --signal=KILL ${jobid}_$victim"
task_ended() { ! timeout 5 squeue -h -t R -j "${jobid}_$victim" -o %i 2>/dev/null | grep -q .; }
wait_for 30 task_ended || fail "task $victim still running after SIGKILL"
grep -q "finished:" "$out/logs/cell-$victim.log" && fail "task $victim finished despite the kill"
echo "ok: task $victim killed ($(timeout 5 scontrol show job "${jobid}_$victim" 2>/dev/null |
    grep -o 'JobState=[A-Z_]*'))"
timeout 10 scontrol requeue "${jobid}_$victim" || fail "scontrol requeue ${jobid}_$victim"
# A requeued job waits for its begin time; let it start now.
timeout 10 scontrol update JobId="${jobid}_$victim" StartTime=now >/dev/null 2>&1

wait_for 600 queue_empty || fail "the array did not finish within 10 minutes"
grep -q "resuming after epoch [12] of 3" "$out/logs/cell-$victim.log" ||
    fail "requeued task $victim did not resume from its checkpoint: $(cat "$out/logs/cell-$victim.log")"
echo "ok: requeued task $victim resumed from its checkpoint"

# A lost cell is resubmitted by the same command; with --ranks 2 two MPI
# ranks train it under mpirun inside the allocation.
rm -rf "$out"/cells/2-*
mpi_cell=0
if command -v mpirun >/dev/null && ldd "$bin" | grep -q libmpi; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # jobs run as root here
    "$bin" slurm --submit --ranks 2 --out "$out" --threads 1 "${opts[@]}" \
        >"$tmp/log/submit-mpi.log" 2>&1 || fail "MPI submission: $(cat "$tmp/log/submit-mpi.log")"
    grep -q '^#SBATCH --array=2%1$' "$out/slurm-array.sh" && grep -q '^#SBATCH --ntasks=2$' \
        "$out/slurm-array.sh" || fail "MPI array script: $(cat "$out/slurm-array.sh")"
    jobid=$(sed -n 's/^submitted job array \([0-9]*\)$/\1/p' "$tmp/log/submit-mpi.log")
    wait_for 600 queue_empty || fail "the MPI array did not finish within 10 minutes"
    grep -Eq '"ranks":[[:space:]]*2[,}[:space:]]' "$out"/cells/2-*/result.json ||
        fail "cell 2 was not trained by 2 ranks: $(cat "$out/logs/cell-2.log")"
    mpi_cell=1
    echo "ok: missing cell 2 resubmitted and trained by 2 MPI ranks in the allocation"
else
    echo "note: no MPI build: cell 2 resubmitted as 1 process"
    "$bin" slurm --submit --out "$out" --threads 1 "${opts[@]}" >"$tmp/log/submit2.log" 2>&1 ||
        fail "resubmission: $(cat "$tmp/log/submit2.log")"
    jobid=$(sed -n 's/^submitted job array \([0-9]*\)$/\1/p' "$tmp/log/submit2.log")
    wait_for 600 queue_empty || fail "the resubmitted array did not finish within 10 minutes"
fi

"$bin" report --out "$out" "${opts[@]}" --quiet >"$tmp/log/report.log" 2>&1 ||
    fail "report: $(cat "$tmp/log/report.log")"
"$bin" report --out "$out" "${opts[@]}" 2>&1 | grep -q "^4 of 4 cells finished" ||
    fail "report does not count 4 finished cells"
"$bin" slurm --out "$out" --threads 1 "${opts[@]}" | grep -q "nothing to submit" ||
    fail "a finished grid was resubmitted"

"$bin" all --jobs 2 --threads 1 --out "$tmp/local" "${opts[@]}" --quiet >"$tmp/log/local.log" 2>&1 ||
    fail "local run: $(cat "$tmp/log/local.log")"
for cell in "$tmp"/local/cells/*; do
    name=$(basename "$cell")
    [ $mpi_cell = 1 ] && [ "${name%%-*}" = 2 ] && continue # 2 ranks: equal up to rounding only
    for f in features_train.npy features_test.npy; do
        cmp -s "$cell/$f" "$out/cells/$name/$f" || fail "$name/$f differs between Slurm and local runs"
    done
done
[ "$(ls "$tmp/local/cells" | wc -l)" = 4 ] || fail "local run did not produce 4 cells"
echo "ok: report finds all 4 cells; the 1-process ones are bit-identical to a local run"

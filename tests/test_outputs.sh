#!/bin/bash
# lpc-ablation's files under damage, full disks and concurrency (issue 12,
# items 1, 11, 12, 13):
#   - a result.json cut to 100 bytes is reported as damaged and counted as
#     missing by report, plan and all; run reruns the cell;
#   - when outputs cannot be written (a file size limit stands in for a full
#     disk) report and run exit non-zero with the file and the errno text,
#     keep the previous files and leave no partial or temporary file;
#   - a second run of a cell another process is running says which process
#     holds it and exits 75, `all` skips the cell, and after kill -9 of the
#     holder the lock is gone, and so is the temporary file of the write
#     that the kill interrupted.
# Arguments: source and build dirs.
set -u
build=$2
bin="$build/examples/ablation/lpc-ablation"
[ -x "$bin" ] || { echo "SKIP: $bin not built (examples disabled)"; exit 77; }
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
    { echo "SKIP: Fashion-MNIST not installed"; exit 77; }
tmp=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
opts=(--models LPC,NoPen --subset 600 --epochs 2 --deepfool-samples 20 --threads 1 --quiet)
out="$tmp/res"
c0="$out/cells/0-LPC-lr0.001-s0"
c1="$out/cells/1-NoPen-lr0.001-s0"

"$bin" all --out "$out" "${opts[@]}" >"$tmp/all.log" 2>&1 || fail "all: $(cat "$tmp/all.log")"
"$bin" report --out "$out" "${opts[@]}" >"$tmp/report.log" 2>&1 || fail "report: $(cat "$tmp/report.log")"

# ---- item 1: a damaged result.json ----
cp "$c0/result.json" "$tmp/result0.json"
truncate -s 100 "$c0/result.json"
"$bin" report --out "$out" "${opts[@]}" >"$tmp/damaged.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "report on a damaged result.json exited $rc: $(cat "$tmp/damaged.log")"
grep -q "result.json is damaged (damaged: not valid JSON near byte" "$tmp/damaged.log" ||
    fail "report did not name the damaged file: $(cat "$tmp/damaged.log")"
grep -q "1 of 2 cells finished" "$out/tables.md" || fail "damaged cell not counted as missing"
grep -q "0-LPC-lr0.001-s0 (result.json damaged)" "$out/tables.md" || fail "damaged cell not listed"
"$bin" plan --out "$out" "${opts[@]}" | grep -q "LPC .*damaged" || fail "plan does not show the damage"
"$bin" run --cell 0 --out "$out" "${opts[@]}" >"$tmp/rerun.log" 2>&1 ||
    fail "run on a damaged result.json: $(cat "$tmp/rerun.log")"
grep -q "damaged .*counted as missing: running cell" "$tmp/rerun.log" || fail "run did not say why it reran"
"$bin" report --out "$out" "${opts[@]}" >/dev/null 2>&1 || fail "report after the rerun"
grep -q "2 of 2 cells finished" "$out/tables.md" || fail "rerun cell not finished"
echo "ok: damaged result.json reported, counted as missing, rerun"

# ---- item 11: report on a full disk keeps the previous outputs ----
mkdir "$tmp/before"
cp "$out"/*.md "$out"/*.csv "$out"/*.json "$out"/*.png "$tmp/before/"
n_before=$(ls "$tmp/before" | wc -l)
[ "$n_before" -ge 7 ] || fail "expected 3 tables and at least 4 figures, got $n_before files"
( trap '' XFSZ; ulimit -f 1; exec "$bin" report --out "$out" "${opts[@]}" ) >"$tmp/full.log" 2>&1
rc=$?
[ $rc -ne 0 ] || fail "report exited 0 although no output could be written"
grep -q "error: cannot write $out/.*: File too large" "$tmp/full.log" ||
    fail "no message with the file and the errno text: $(cat "$tmp/full.log")"
grep -q "files written before were kept" "$tmp/full.log" || fail "no closing message"
for f in "$tmp"/before/*; do
    cmp -s "$f" "$out/$(basename "$f")" || fail "$(basename "$f") changed by the failed report"
done
ls "$out" | grep -q "\.tmp" && fail "temporary files left: $(ls "$out")"
echo "ok: report on a full disk exits $rc, names the file and cause, keeps all $n_before outputs"

# ---- item 12: run on a full disk: features and result.json ----
rm "$c1/result.json" "$c1"/features_*.npy "$c1"/labels_*.npy
( trap '' XFSZ; ulimit -f 16; exec "$bin" run --cell 1 --out "$out" "${opts[@]}" ) >"$tmp/runfull.log" 2>&1
rc=$?
[ $rc -ne 0 ] || fail "run exited 0 although its features could not be written"
grep -q "features_train.npy.*File too large" "$tmp/runfull.log" ||
    fail "no message naming the .npy file and the errno text: $(cat "$tmp/runfull.log")"
[ -e "$c1/features_train.npy" ] && fail "a partial features_train.npy was left"
[ -e "$c1/result.json" ] && fail "result.json written after a failed output"
ls "$c1" | grep -q "\.tmp" && fail "temporary files left: $(ls "$c1")"
"$bin" run --cell 1 --out "$out" "${opts[@]}" >"$tmp/runok.log" 2>&1 || fail "run after the full disk"
[ -s "$c1/result.json" ] && [ -s "$c1/features_train.npy" ] || fail "outputs missing after the retry"
echo "ok: run on a full disk exits $rc with the file and cause, no partial file"

# ---- item 13: one process per cell ----
lock_opts=(--models LPC --subset 600 --epochs 400 --deepfool-samples 20 --threads 1)
lout="$tmp/lock"
"$bin" run --cell 0 --out "$lout" "${lock_opts[@]}" >"$tmp/holder.log" 2>&1 &
holder=$!
pids="$holder"
for _ in $(seq 400); do
    grep -q " epoch " "$tmp/holder.log" 2>/dev/null && break
    kill -0 $holder 2>/dev/null || fail "holder ended: $(cat "$tmp/holder.log")"
    sleep 0.05
done
"$bin" run --cell 0 --out "$lout" "${lock_opts[@]}" >"$tmp/second.log" 2>&1
rc=$?
[ $rc -eq 75 ] || fail "second run exited $rc (expected 75): $(cat "$tmp/second.log")"
grep -q "cell 0-LPC-lr0.001-s0 is locked by process $holder" "$tmp/second.log" ||
    fail "second run did not name the holder $holder: $(cat "$tmp/second.log")"
"$bin" all --out "$lout" "${lock_opts[@]}" >"$tmp/all2.log" 2>&1 ||
    fail "all with a locked cell failed: $(cat "$tmp/all2.log")"
grep -q "locked by process $holder (running elsewhere); skipped" "$tmp/all2.log" ||
    fail "all did not skip the locked cell: $(cat "$tmp/all2.log")"
"$bin" plan --out "$lout" "${lock_opts[@]}" | grep -q "running in process $holder" ||
    fail "plan does not show the running process"
kill -9 $holder
wait $holder 2>/dev/null
# A temporary file of a write the kill interrupted goes with the next run.
lcell="$lout/cells/0-LPC-lr0.001-s0"
echo partial > "$lcell/checkpoint.lpcc.tmp-Ab12Cd"
# The kernel dropped the lock with the process: a new run takes the cell.
"$bin" run --cell 0 --out "$lout" "${lock_opts[@]}" >"$tmp/third.log" 2>&1 &
third=$!
pids="$third"
for _ in $(seq 400); do
    grep -q "resuming after epoch\|epoch " "$tmp/third.log" 2>/dev/null && break
    kill -0 $third 2>/dev/null || break
    sleep 0.05
done
grep -q "locked" "$tmp/third.log" && fail "stale lock after kill -9: $(cat "$tmp/third.log")"
grep -q "resuming after epoch\| epoch " "$tmp/third.log" || fail "third run did not start: $(cat "$tmp/third.log")"
[ -e "$lcell/checkpoint.lpcc.tmp-Ab12Cd" ] && fail "the interrupted write's temporary file stayed"
kill -9 $third
wait $third 2>/dev/null
echo "ok: a locked cell is refused (75, holder named) and skipped by all; no stale lock after kill -9"

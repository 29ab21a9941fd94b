#!/bin/bash
# The example programs under misuse:
#   - the per-epoch log of result.json: its last entry holds the final
#     training metrics (R, Sigma_W, CoV and neural collapse);
#   - empty or unusable path options, duplicate grid values, control
#     characters in values written into the Slurm script: refused with the
#     option and the value named, before any work;
#   - FIFOs at a cell's result.json or lock: plan, report and run neither
#     block nor fail obscurely;
#   - a standard output that cannot be written (/dev/full, closed): exit 1
#     with the cause, in every program;
#   - SIGTERM to `all --jobs 2`: the children stop too, their locks are
#     released, and `all` ends by that signal;
#   - a result.json of 100,000 log entries: refused as damaged at once; a
#     log longer or shorter than the cell's epochs: damaged;
#   - temporary files of a report killed mid-write: removed by the next
#     report, and nothing else;
#   - one-class training sets, huge labels, dangling *.png links: each error
#     says what is wrong with the value; the report states each paper claim.
# Every process the test starts is stopped on exit; each step is bounded in
# time. Arguments: source and build dirs.
set -u
build=$(cd "$2" && pwd)
ablation="$build/examples/ablation/lpc-ablation"
analyze="$build/examples/analyze/lpc-analyze"
train="$build/examples/train/lpc-train"
collapse2d="$build/examples/collapse2d/lpc-collapse2d"
custom="$build/examples/custom/lpc-custom"
fmnist=/usr/share/datasets/fashion-mnist
for p in "$ablation" "$analyze" "$train" "$collapse2d" "$custom"; do
    [ -x "$p" ] || { echo "SKIP: $p not built"; exit 77; }
done
[ -e $fmnist/train-images-idx3-ubyte.gz ] || { echo "SKIP: Fashion-MNIST not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
tmp=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$tmp" || exit 1
opts=(--models LPC --subset 300 --epochs 2 --deepfool-samples 5 --threads 1 --quiet)
cell=cells/0-LPC-lr0.001-s0
t=20 # seconds any step that must not block may take

# expect_refusal NAME RC TEXT CMD...: CMD exits RC within $t s, says TEXT (if any) on stderr.
expect_refusal() {
    local name=$1 want_rc=$2 text=$3 rc=0
    shift 3
    timeout $t "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
    [ $rc -eq 124 ] && fail "$name: still running after $t s"
    [ $rc -eq "$want_rc" ] || fail "$name: exit $rc, expected $want_rc: $(cat "$tmp/$name.err")"
    [ -z "$text" ] || grep -qF -- "$text" "$tmp/$name.err" || fail "$name: stderr lacks '$text': $(cat "$tmp/$name.err")"
}

# ---- a finished cell: the last log entry is the final training metrics ----
timeout 300 "$ablation" all --out "$tmp/ref" "${opts[@]}" --models LPC,NoPen >"$tmp/ref.log" 2>&1 ||
    fail "reference run: $(cat "$tmp/ref.log")"
python3 - "$tmp/ref/$cell/result.json" <<'EOF' || fail "the last log entry differs from the final metrics"
import json, math, sys
d = json.load(open(sys.argv[1]))
last, final = d["log"][-1], d["final"]["train"]
pairs = [("R_train", final["R"]), ("sigma_w_train", final["sigma_w"]), ("cov_train", final["cov"])]
pairs += [(k, final["nc"][k]) for k in ("nc1", "nc1_weighted", "equinorm", "equiangularity",
                                        "max_angle", "nc3", "nc4")]
bad = [(k, last.get(k), v) for k, v in pairs
       if last.get(k) is None or not math.isclose(last[k], v, rel_tol=1e-9, abs_tol=1e-12)]
for k, a, b in bad:
    print("log[-1].%s = %s, final: %s" % (k, a, b))
sys.exit(1 if bad else 0)
EOF
echo "ok: the last log entry equals the final training metrics (10 values)"

# ---- path options: empty, a file, control characters (8 cases) ----
for sub in plan run all report slurm; do
    expect_refusal "out-empty-$sub" 2 "error: --out is empty" "$ablation" $sub --cell 0 --out "" "${opts[@]}"
done
[ -e "$tmp/cells" ] && fail "--out '' created ./cells"
touch "$tmp/afile"
expect_refusal out-file 2 "--out '$tmp/afile' is not a folder" "$ablation" plan --out "$tmp/afile"
expect_refusal json-empty 2 "error: --json is empty" "$train" --json "" --epochs 1
expect_refusal json-dir 2 "is a folder, not a file" "$train" --json "$tmp/" --epochs 1
expect_refusal json-nodir 2 "its folder $tmp/nowhere does not exist" "$train" --json "$tmp/nowhere/x.json"
expect_refusal collapse2d-empty 2 "error: --out is empty" "$collapse2d" --out ""
expect_refusal custom-empty 2 "--data needs a folder path (got an empty one)" "$custom" --data ""
expect_refusal out-newline 2 "holds a control character" "$ablation" plan --out "$tmp/a
b"
echo "ok: empty and unusable path options refused (12 cases)"

# ---- duplicate grid values (4 cases) ----
expect_refusal seeds-dup 2 "--seeds lists the seed 0 twice ('0' and '0')" "$ablation" plan --seeds 0,0
expect_refusal lrs-dup 2 "--lrs lists the rate 0.001 twice ('1e-3' and '0.001')" \
    "$ablation" plan --lrs 1e-3,0.001
expect_refusal lrs-name 2 "rates must differ in 6 digits" "$ablation" plan --lrs 1e-3,0.0010000001
expect_refusal models-dup 2 "--models lists the model LPC twice" "$ablation" plan --models LPC,lpc
echo "ok: duplicate grid values refused (4 cases)"

# ---- control characters in values written into the Slurm script (3 cases) ----
expect_refusal sbatch-newline 2 "--sbatch '--time=1\\nrm -rf x' holds a control character" \
    "$ablation" slurm --out "$tmp/sl" "${opts[@]}" --sbatch "--time=1
rm -rf x"
expect_refusal sbatch-escape 2 "--sbatch '--x\\x1b[2J' holds a control character" \
    "$ablation" slurm --out "$tmp/sl" "${opts[@]}" --sbatch $'--x\e[2J'
expect_refusal dataset-newline 2 "--dataset 'pngdir:a\\nb' holds a control character" \
    "$ablation" slurm --out "$tmp/sl" --models LPC --dataset "pngdir:a
b"
[ -e "$tmp/sl/slurm-array.sh" ] && fail "a job script was written"
echo "ok: control characters kept out of the job script (3 cases)"

# ---- FIFOs where the programs expect files (5 cases) ----
cp -r "$tmp/ref" "$tmp/fifo"
rm "$tmp/fifo/$cell/result.json"
mkfifo "$tmp/fifo/$cell/result.json"
expect_refusal fifo-plan 0 "" "$ablation" plan --out "$tmp/fifo" "${opts[@]}"
grep -q "damaged" "$tmp/fifo-plan.out" || fail "plan on a FIFO result.json: $(cat "$tmp/fifo-plan.out")"
expect_refusal fifo-report 0 "result.json is damaged (not a regular file (a FIFO))" \
    "$ablation" report --out "$tmp/fifo" "${opts[@]}"
expect_refusal fifo-run 0 "not a regular file (a FIFO)" "$ablation" run --cell 0 --out "$tmp/fifo" "${opts[@]}"
[ -f "$tmp/fifo/$cell/result.json" ] || fail "run did not replace the FIFO by its result"
rm "$tmp/fifo/$cell/lock"
mkfifo "$tmp/fifo/$cell/lock"
expect_refusal fifo-lock-plan 0 "" "$ablation" plan --out "$tmp/fifo" "${opts[@]}"
rm "$tmp/fifo/$cell/result.json"
expect_refusal fifo-lock-run 1 "cannot open the lock file $tmp/fifo/$cell/lock: not a regular file (a FIFO)" \
    "$ablation" run --cell 0 --out "$tmp/fifo" "${opts[@]}"
echo "ok: FIFOs at result.json and lock neither block nor pass for files (5 cases)"

# ---- a standard output that cannot be written (7 cases) ----
python3 - "$tmp" <<'EOF'
import random, struct, sys
d = sys.argv[1]
def save(name, descr, shape, values, fmt):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join("%d, " % n for n in shape))
    hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
    with open(d + "/" + name, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
        f.write(struct.pack("<%d%s" % (len(values), fmt), *values))
random.seed(0)
save("z.npy", "<f4", (40, 3), [random.gauss(0, 1) for _ in range(120)], "f")
save("y.npy", "<i4", (40,), [i % 4 for i in range(40)], "i")
save("ybig.npy", "<i4", (40,), [i % 4 for i in range(39)] + [2**31 - 1], "i")
EOF
an=(--features "$tmp/z.npy" --labels "$tmp/y.npy")
full() { # name, command...: exit 1 and the cause when stdout is /dev/full or closed
    local name=$1 rc=0
    shift
    timeout $t "$@" >/dev/full 2>"$tmp/$name.err" || rc=$?
    [ $rc -eq 1 ] || fail "$name > /dev/full: exit $rc: $(cat "$tmp/$name.err")"
    grep -q "error: cannot write the standard output: No space left on device" "$tmp/$name.err" ||
        fail "$name > /dev/full: no cause: $(cat "$tmp/$name.err")"
    rc=0
    timeout $t "$@" >&- 2>"$tmp/$name.err" || rc=$?
    [ $rc -eq 1 ] || fail "$name with stdout closed: exit $rc: $(cat "$tmp/$name.err")"
    grep -q "error: cannot write the standard output: Bad file descriptor" "$tmp/$name.err" ||
        fail "$name with stdout closed: no cause: $(cat "$tmp/$name.err")"
}
full analyze "$analyze" "${an[@]}"
full analyze-stream "$analyze" --stream "${an[@]}"
full analyze-help "$analyze" --help
full ablation-plan "$ablation" plan --out "$tmp/ref" "${opts[@]}"
full train-help "$train" --help
full collapse2d-help "$collapse2d" --help
python3 - "$tmp/tiny" <<'EOF'
# A Fashion-MNIST-shaped set of 20 + 20 images, so that lpc-custom is quick.
import gzip, os, struct, sys
os.makedirs(sys.argv[1])
for split in ("train", "t10k"):
    with gzip.open("%s/%s-images-idx3-ubyte.gz" % (sys.argv[1], split), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, 20, 28, 28) +
                bytes((i * 37 + j) % 256 for i in range(20) for j in range(784)))
    with gzip.open("%s/%s-labels-idx1-ubyte.gz" % (sys.argv[1], split), "wb") as f:
        f.write(struct.pack(">II", 0x801, 20) + bytes(i % 10 for i in range(20)))
EOF
full custom "$custom" --data "$tmp/tiny" --epochs 1 --deepfool 1 --head nopen --threads 1
echo "ok: an unwritable standard output fails every program with the cause (7 cases)"

# ---- errors that say what is wrong, with the value (3 cases) ----
expect_refusal stream-label 2 "ybig.npy: label 2147483647 of sample 39 is too large (labels are 0..999999)" \
    "$analyze" --stream --features "$tmp/z.npy" --labels "$tmp/ybig.npy"
expect_refusal label-big 2 "2147483648 classes (largest label 2147483647); at most 1000000" \
    "$analyze" --features "$tmp/z.npy" --labels "$tmp/ybig.npy"
python3 - "$tmp/png" <<'EOF'
# train/a_cat only (one class), test/a_cat; 8x8 grey PNGs.
import os, struct, sys, zlib
def png(path, px):
    raw = b"".join(b"\x00" + bytes(px[y * 8:(y + 1) * 8]) for y in range(8))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for split in ("train", "test"):
    os.makedirs("%s/%s/a_cat" % (sys.argv[1], split))
    for i in range(3):
        png("%s/%s/a_cat/%d.png" % (sys.argv[1], split, i), [(i * 7 + j) % 256 for j in range(64)])
EOF
expect_refusal one-class 1 "the training set of pngdir:$tmp/png has 1 class (a_cat); a classifier needs at least 2" \
    "$ablation" run --cell 0 --out "$tmp/one" --dataset "pngdir:$tmp/png" --subset 0 --epochs 1 --models LPC --quiet
grep -q "LPC_E_ARG" "$tmp/one-class.err" && fail "one class: a status without its reason: $(cat "$tmp/one-class.err")"
echo "ok: errors name what is wrong with the value (3 cases)"

# ---- dangling and looping *.png links are errors naming them (2 cases) ----
mkdir -p "$tmp/png/train/b_dog"
cp "$tmp/png/train/a_cat/0.png" "$tmp/png/train/b_dog/0.png"
ln -s "$tmp/png/nothing.png" "$tmp/png/train/b_dog/gone.png"
expect_refusal png-dangling 1 "b_dog/gone.png: cannot read the image: No such file or directory (a dangling or looping symbolic link)" \
    "$ablation" run --cell 0 --out "$tmp/dangling" --dataset "pngdir:$tmp/png" --subset 0 --epochs 1 --models LPC --quiet
rm "$tmp/png/train/b_dog/gone.png"
ln -s loop.png "$tmp/png/train/b_dog/loop.png"
expect_refusal png-loop 1 "b_dog/loop.png: cannot read the image: Too many levels of symbolic links" \
    "$ablation" run --cell 0 --out "$tmp/loop" --dataset "pngdir:$tmp/png" --subset 0 --epochs 1 --models LPC --quiet
echo "ok: dangling and looping *.png links are errors naming them (2 cases)"

# ---- result.json bounded by the cell's epochs (2 cases) ----
cp -r "$tmp/ref" "$tmp/big"
python3 - "$tmp/big/$cell/result.json" 100000 <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
entry = json.dumps(d["log"][-1], indent="\t")
d["log"] = "@LOG@"
head, tail = json.dumps(d, indent="\t").split('"@LOG@"')
with open(sys.argv[1], "w") as f:
    f.write(head + "[" + ",\n".join([entry] * int(sys.argv[2])) + "]" + tail)
EOF
start=$(date +%s)
expect_refusal big-report 0 "result.json is damaged (damaged:" "$ablation" report --out "$tmp/big" "${opts[@]}"
grep -q "more than the .* its settings allow" "$tmp/big-report.err" || fail "big: $(cat "$tmp/big-report.err")"
[ $(($(date +%s) - start)) -le 10 ] || fail "report on a 100,000-entry log took over 10 s"
python3 - "$tmp/big/$cell/result.json" 3 <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["log"] = d["log"][:int(sys.argv[2])]
json.dump(d, open(sys.argv[1], "w"), indent="\t")
EOF
expect_refusal long-log 0 "damaged: the log holds 3 entries for 2 epochs" "$ablation" report --out "$tmp/big" "${opts[@]}"
echo "ok: a result.json beyond its cell's epochs is damaged, refused at once (2 cases)"

# ---- stale temporaries of the programs' own pattern (1 case) ----
for f in tables.md.tmp-AbC123 gamma.png.tmp-x9Y8z7 keep.tmp-12345 keep.png.tmp-abcdefg keep.tmp-ab_def; do
    echo stale >"$tmp/ref/$f"
done
expect_refusal stale 0 "" "$ablation" report --out "$tmp/ref" "${opts[@]}" --models LPC,NoPen
ls "$tmp/ref"/*.tmp-* | sed 's|.*/||' | sort | tr '\n' ' ' >"$tmp/left"
[ "$(cat "$tmp/left")" = "keep.png.tmp-abcdefg keep.tmp-12345 keep.tmp-ab_def " ] ||
    fail "temporaries left after report: $(cat "$tmp/left")"
grep -q "^## Paper claims" "$tmp/ref/tables.md" || fail "no '## Paper claims' section"
grep -qiE "issue|acceptance" "$tmp/ref/tables.md" && fail "tables.md mentions issues: $(grep -iE "issue|acceptance" "$tmp/ref/tables.md")"
echo "ok: report removes its stale temporaries only; states the paper claims (1 case)"

# ---- SIGTERM to all --jobs 2 (1 case) ----
big=(--models LPC,NoPen,LinPen --subset 4000 --epochs 200 --deepfool-samples 5 --threads 1 --quiet)
"$ablation" all --jobs 2 --out "$tmp/sig" "${big[@]}" >"$tmp/sig.log" 2>&1 &
parent=$!
pids="$parent"
kids=""
for _ in $(seq 100); do # until both cells hold their locks (at most 20 s)
    [ "$(timeout $t "$ablation" plan --out "$tmp/sig" "${big[@]}" | grep -c "running in process")" = 2 ] && break
    sleep 0.2
done
kids=$(pgrep -P $parent | tr '\n' ' ')
[ "$(echo $kids | wc -w)" = 2 ] || fail "all --jobs 2 did not start two cells: '$kids' $(cat "$tmp/sig.log")"
pids="$parent $kids"
kill -TERM $parent
rc=0
timeout $t tail --pid=$parent -f /dev/null || fail "all still running $t s after SIGTERM"
wait $parent || rc=$?
[ $rc -eq 143 ] || fail "all ended with $rc after SIGTERM, expected 143 (killed by SIGTERM)"
for k in $kids; do
    for _ in $(seq 50); do kill -0 $k 2>/dev/null || break; sleep 0.2; done
    kill -0 $k 2>/dev/null && fail "child $k still runs after all was stopped"
done
timeout $t "$ablation" plan --out "$tmp/sig" "${big[@]}" >"$tmp/sig-plan.out" 2>&1
grep -q "running in process" "$tmp/sig-plan.out" && fail "a lock is still held: $(cat "$tmp/sig-plan.out")"
grep -q "stopping 2 running cell(s)" "$tmp/sig.log" || fail "all did not say it stops: $(cat "$tmp/sig.log")"
echo "ok: SIGTERM stops all and its cells, releases the locks, exits 143 (1 case)"

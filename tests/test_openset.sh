#!/bin/bash
# lpc-ablation --holdout (the open-set experiment): two tiny cells trained
# without classes 8 and 9 of Fashion-MNIST must hold the split (8,000 ID and
# 2,000 near-OOD test images), a report with the three OOD tables whose
# AUROC and FPR95 lie in [0, 1], and OOD metrics bit-identical to a second
# run of the same configuration; bad --holdout values are refused.
# Arguments: source and build dirs.
set -u
build=$2
bin="$build/examples/ablation/lpc-ablation"
[ -x "$bin" ] || { echo "SKIP: $bin not built (examples disabled)"; exit 77; }
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
    { echo "SKIP: Fashion-MNIST not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
opts=(--holdout 8,9 --models NoPen,LPC --subset 300 --epochs 1 --metrics-every 0
      --deepfool-samples 0)
fail() { echo "FAIL: $*"; exit 1; }

for run in a b; do
    "$bin" all --out "$tmp/$run" --threads 1 --quiet "${opts[@]}" >"$tmp/$run.log" 2>&1 ||
        fail "run $run: $(cat "$tmp/$run.log")"
    "$bin" report --out "$tmp/$run" --quiet "${opts[@]}" >>"$tmp/$run.log" 2>&1 ||
        fail "report $run: $(cat "$tmp/$run.log")"
done

python3 - "$tmp" <<'EOF' || exit 1
import csv, glob, json, math, os, sys
tmp = sys.argv[1]
def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)
sets = ["near", "permuted", "noise"]
scores = ["msp", "max_logit", "energy", "mahalanobis", "neco", "vim"]
md = open(os.path.join(tmp, "a", "tables.md")).read()
if "## Open-set OOD detection" not in md:
    fail("tables.md has no open-set section")
section = md.split("## Open-set OOD detection")[1].split("\n## ")[0]
rows = [l for l in section.splitlines() if l.startswith("| NoPen |") or l.startswith("| LPC |")]
if len(rows) != 6:
    fail("expected 2 models x 3 OOD sets of rows, got %d" % len(rows))
for r in rows:
    cells = [c.strip() for c in r.strip("|").split("|")][1:]
    if len(cells) != 6:
        fail("row without six scores: " + r)
    for c in cells:
        a, f = (float(x) for x in c.split(" / "))
        if not (0 <= a <= 1 and 0 <= f <= 1):
            fail("value out of [0, 1]: " + r)
table = list(csv.DictReader(open(os.path.join(tmp, "a", "ood.csv"))))
if len(table) != 2 * 3 * 6:
    fail("ood.csv has %d rows, expected 36" % len(table))
for t in table:
    for k in ("auroc_mean", "fpr95_mean"):
        v = float(t[k])  # an empty (undefined) value fails here too
        if not 0 <= v <= 1:
            fail("ood.csv %s %s %s %s = %g" % (t["model"], t["set"], t["score"], k, v))
    # Noise is far from any trained feature: Mahalanobis must see it.
    if t["set"] == "noise" and t["score"] == "mahalanobis" and float(t["auroc_mean"]) < 0.9:
        fail("%s: Mahalanobis AUROC on noise %s < 0.9" % (t["model"], t["auroc_mean"]))
cells = sorted(os.path.basename(d) for d in glob.glob(os.path.join(tmp, "a", "cells", "*")))
if len(cells) != 2:
    fail("expected two cells, got %s" % cells)
for cell in cells:
    ra, rb = (json.load(open(os.path.join(tmp, run, "cells", cell, "result.json")))
              for run in "ab")
    c = ra["config"]
    ood = ra["final"]["ood"]
    if c["train_samples"] != 300 or c["test_samples"] != 8000 or ood["id_samples"] != 8000:
        fail("%s: the split is not 300 training and 8000 ID test images: %s %s %s" %
             (cell, c["train_samples"], c["test_samples"], ood["id_samples"]))
    if [ood[s]["samples"] for s in sets] != [2000, 2000, 2000]:
        fail("%s: OOD set sizes %s" % (cell, [ood[s]["samples"] for s in sets]))
    if "holdout=8,9" not in c["identity"]:
        fail("%s: the identity does not name the held-out classes" % cell)
    if ood != rb["final"]["ood"]:
        fail("%s: OOD metrics of the duplicate run differ" % cell)
print("ok: OOD tables in [0, 1], split 300/8000/2000, duplicate run bit-identical")
EOF

# A closed-set configuration does not take the open-set results as its own.
"$bin" plan --out "$tmp/a" --models NoPen,LPC --subset 300 --epochs 1 --metrics-every 0 \
    --deepfool-samples 0 >"$tmp/plan.log" 2>&1 || fail "plan: $(cat "$tmp/plan.log")"
[ "$(grep -c "another configuration's result" "$tmp/plan.log")" = 2 ] ||
    fail "closed-set plan accepted open-set results: $(cat "$tmp/plan.log")"

# Bad values are refused before anything runs.
for bad in 10 8,8 0,1,2,3,4,5,6,7,8 x 8, ""; do
    if "$bin" run --cell 0 --out "$tmp/bad" --holdout "$bad" --models NoPen --subset 300 \
        --epochs 1 --deepfool-samples 0 >"$tmp/bad.log" 2>&1; then
        fail "--holdout '$bad' accepted"
    fi
    grep -q "error" "$tmp/bad.log" || fail "--holdout '$bad': no error message"
    [ -e "$tmp/bad/cells/0-NoPen-lr0.001-s0/result.json" ] && fail "--holdout '$bad' wrote a result"
done
echo "ok: bad --holdout values refused"

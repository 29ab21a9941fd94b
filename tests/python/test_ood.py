#!/usr/bin/python3
"""The lpc package's OOD detection and generalized collapse functions
(python/lpc/ood.py) against lpc-analyze (meson suite 'python'): the "ood"
object and the "gnc_*" keys equal the binding's results digit for digit
(a score undefined on the data is None where lpc-analyze prints null), and
bad input raises LPCError or ValueError with a message (tests/python/
test_misuse.py has every misuse).

Environment (set by meson): LPC_LIBRARY, PYTHONPATH, LPC_ANALYZE. Exit
status 77 (skip) when NumPy is missing."""
import json
import os
import subprocess
import sys
import tempfile
import warnings

try:
    import numpy as np
except ImportError:
    print("numpy is not installed (python3-numpy); skipping")
    sys.exit(77)

import lpc

FAILURES = []


def expect(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


def raises(exc, fn, *args, name=None, **kw):
    try:
        fn(*args, **kw)
    except exc as e:
        expect(name is None or getattr(e, "name", None) == name,
               f"{fn.__name__}: status {getattr(e, 'name', None)}, expected {name}")
        expect(str(e) != "", f"{fn.__name__}: empty message")
        return
    expect(False, f"{fn.__name__} did not raise {exc.__name__}")


def main():
    rng = np.random.default_rng(26)
    k, p = 5, 8
    centres = rng.normal(0, 3, (k, p))
    y = np.r_[np.arange(k), rng.integers(0, k, 595)].astype(np.int32)
    z = (centres[y] + rng.normal(size=(600, p))).astype(np.float32)
    w = rng.normal(size=(k, p)).astype(np.float32)
    b = rng.normal(size=k).astype(np.float32)
    yid = rng.integers(0, k, 200)
    zid = (centres[yid] + rng.normal(size=(200, p))).astype(np.float32)
    zood = rng.normal(0, 4, (120, p)).astype(np.float32)
    lid, lood = zid @ w.T, zood @ w.T
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, a in [("z", z), ("y", y), ("w", w), ("b", b), ("id", zid), ("ood", zood),
                        ("lid", lid), ("lood", lood)]:
            files[name] = os.path.join(tmp, name + ".npy")
            np.save(files[name], a)
        out = subprocess.run([os.environ["LPC_ANALYZE"], "--features", files["z"], "--labels",
                              files["y"], "--weights", files["w"], "--id-features", files["id"],
                              "--id-logits", files["lid"], "--ood-features", files["ood"],
                              "--ood-logits", files["lood"], "--temperature", "2", "--generalized"],
                             check=True, capture_output=True, text=True).stdout
        # With the bias and no logits: W z + b and ViM's origin -W^+ b.
        # Every training sample at its class mean: Mahalanobis is undefined (null).
        flat = (np.eye(k, p, dtype=np.float32)[y] * 4)
        files["flat"] = os.path.join(tmp, "flat.npy")
        np.save(files["flat"], flat)
        out_flat = subprocess.run([os.environ["LPC_ANALYZE"], "--features", files["flat"],
                                   "--labels", files["y"], "--ood-features", files["ood"]],
                                  check=True, capture_output=True, text=True).stdout
        out_b = subprocess.run([os.environ["LPC_ANALYZE"], "--features", files["z"], "--labels",
                                files["y"], "--weights", files["w"], "--bias", files["b"],
                                "--id-features", files["id"], "--ood-features", files["ood"]],
                               check=True, capture_output=True, text=True).stdout
    cli = json.loads(out)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got_flat = lpc.OODDetector(flat, y).evaluate(flat, zood)
    expect(got_flat == json.loads(out_flat)["ood"] and got_flat["mahalanobis"] is None,
           f"evaluate with an undefined score {got_flat} != lpc-analyze {out_flat}")
    expect(any("mahalanobis is undefined" in str(c.message) for c in caught),
           "no warning for the undefined score")
    got_b = lpc.OODDetector(z, y, w=w, b=b).evaluate(zid, zood)
    expect(got_b == json.loads(out_b)["ood"], "evaluate with the bias != lpc-analyze --bias")
    expect(got_b["vim"] != cli["ood"]["vim"], "the bias changes ViM")
    det = lpc.OODDetector(z, y, w=w, temperature=2.0)
    expect(det.dim == p and det.classes == k, "detector dim/classes")
    got = det.evaluate(zid, zood, lid, lood)
    expect(got == cli["ood"], f"evaluate {got} != lpc-analyze {cli['ood']}")
    expect(set(got) == {"n_id", "n_ood", "nc5"} | set(lpc.ood.SCORES), f"keys {sorted(got)}")
    gnc = lpc.generalized_collapse(z, y)
    expect(gnc == {key[4:]: v for key, v in cli.items() if key.startswith("gnc_")},
           f"generalized_collapse {gnc}")
    # Logit scores and metrics on their own equal the detector's.
    e = lpc.logit_scores(lid, "energy", temperature=2.0)
    expect(np.array_equal(e, det.score("energy", zid, lid)), "logit_scores energy")
    m = lpc.ood_metrics(det.score("mahalanobis", zid), det.score("mahalanobis", zood))
    expect(m == cli["ood"]["mahalanobis"], "ood_metrics mahalanobis")
    expect(lpc.ood_metrics([3, 2, 2, 1], [2, 0]) ==
           {"auroc": 0.75, "aupr_in": 0.825, "aupr_out": 0.7, "fpr95": 0.5}, "hand vector")
    # Without the classifier ViM is left out and the logit scores need logits.
    plain = lpc.OODDetector(z, y)
    expect("vim" not in plain.evaluate(zid, zood), "vim without w")
    expect("energy" in plain.evaluate(zid, zood, lid, lood), "energy with logits")
    raises(lpc.LPCError, plain.score, "vim", zid, name="LPC_E_STATE")
    raises(lpc.LPCError, plain.score, "energy", zid, name="LPC_E_STATE")
    raises(ValueError, plain.score, "odin", zid)
    raises(ValueError, plain.score, "energy", zid[:, :3])
    raises(lpc.LPCError, lpc.ood_metrics, [1.0, np.nan], [0.0], name="LPC_E_NUMERIC")
    raises(lpc.LPCError, lpc.ood_metrics, [], [0.0], name="LPC_E_ARG")
    raises(lpc.LPCError, lpc.logit_scores, lid, "msp", temperature=0.0, name="LPC_E_ARG")
    raises(lpc.LPCError, lpc.OODDetector, z, y, neco_dim=p + 1, name="LPC_E_ARG")
    raises(lpc.LPCError, lpc.generalized_collapse, z, np.zeros(600, np.int32), 2,
           name="LPC_E_NUMERIC")
    plain.close()
    raises(ValueError, plain.nc5, zood)
    expect(plain.closed, "closed after close()")
    print("failures:", len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())

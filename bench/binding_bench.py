#!/usr/bin/python3
"""Time lpc.analyze (the Python binding) against the lpc-analyze program on
the same synthetic 60,000 x 128 features (lpc-bench-analysis --save writes
them), in alternating rounds so that machine noise hits both alike:

    LPC_LIBRARY=build/lib/liblpc.so PYTHONPATH=python \\
        bench/binding_bench.py [BUILD] [--rounds 3] [--n N] [--p P]

The program's time is its whole run (loading the .npy files included); the
binding is timed twice: lpc.analyze on arrays in memory, and np.load of the
same files plus lpc.analyze. Both use as many threads as CPUs are online
(lpc-analyze always does) and OMP_WAIT_POLICY=passive, so that idle OpenMP
workers sleep instead of spinning. Wall time and CPU time (user + system of
the program, of this process for the binding) are both reported: on a shared
machine the CPU time is the steadier measure. Prints the medians, the ratios
and whether the two agree on every printed digit."""
import argparse
import json
import os

os.environ["OMP_WAIT_POLICY"] = "passive"  # before liblpc (libgomp) is loaded
import resource
import statistics
import subprocess
import tempfile
import time

import numpy as np

import lpc


def children_cpu():
    """User + system seconds of the finished child processes."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=60000)
    ap.add_argument("--p", type=int, default=128)
    a = ap.parse_args()
    threads = min(max(os.sysconf("SC_NPROCESSORS_ONLN"), 1), 64)  # as lpc-analyze
    lpc.set_num_threads(threads)
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([os.path.join(a.build, "bench/lpc-bench-analysis"), "--n", str(a.n),
                        "--p", str(a.p), "--save", tmp], check=True, capture_output=True)
        files = {k: os.path.join(tmp, k + ".npy") for k in ("z", "y", "w")}
        cmd = [os.path.join(a.build, "examples/analyze/lpc-analyze"), "--features", files["z"],
               "--labels", files["y"], "--weights", files["w"]]
        wall = {"cli": [], "py": [], "py_load": []}
        cpu = {"cli": [], "py": [], "py_load": []}
        for _ in range(a.rounds):
            r0, t0 = children_cpu(), time.perf_counter()
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
            wall["cli"].append(time.perf_counter() - t0)
            cpu["cli"].append(children_cpu() - r0)
            c0, t0 = time.process_time(), time.perf_counter()
            z, y, w = (np.load(files[k]) for k in ("z", "y", "w"))
            c1, t1 = time.process_time(), time.perf_counter()
            py = lpc.analyze(z, y, weights=w)
            c2, t2 = time.process_time(), time.perf_counter()
            wall["py"].append(t2 - t1)
            wall["py_load"].append(t2 - t0)
            cpu["py"].append(c2 - c1)
            cpu["py_load"].append(c2 - c0)
    cli = json.loads(out.stdout, parse_float=str, parse_int=str)
    same = all(("%.17g" % py[k]) == v for k, v in cli.items())
    print(f"data: {a.n} x {a.p}, 10 classes, {threads} threads, {a.rounds} alternating rounds")
    for label, t in (("wall", wall), ("cpu", cpu)):
        c, b, bl = (statistics.median(t[k]) for k in ("cli", "py", "py_load"))
        print(f"{label}: lpc-analyze (whole program)     {c:8.3f} s   rounds "
              f"{['%.2f' % v for v in t['cli']]}")
        print(f"{label}: lpc.analyze (arrays in memory)  {b:8.3f} s   ratio {b / c:.3f}   rounds "
              f"{['%.2f' % v for v in t['py']]}")
        print(f"{label}: np.load + lpc.analyze           {bl:8.3f} s   ratio {bl / c:.3f}")
    print(f"every printed digit equal: {same}")


if __name__ == "__main__":
    main()

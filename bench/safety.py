#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What lxmalloc's safety costs: wall time of bench workloads under three variants.

    python3 bench/safety.py [--runs N] [--quick]

  off      built with -DLX_HARDEN=0 (no free-list encoding, no live-block bitmap)
           into BUILD-noharden/
  default  the normal build (BUILD/liblxmalloc.so)
  debug    the normal build with LXMALLOC_DEBUG=1

Runs are interleaved (off, default, debug, off, ...) and each cell is the
median wall time; the table goes to stdout in Markdown. `make bench-callgrind`
counts instructions per malloc+free pair; docs/SECURITY.md has both.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def workloads(quick):
    q = quick
    return [
        ("churn-lifo", ["churn", "lifo", 2000000 if q else 10000000]),
        ("churn-fifo", ["churn", "fifo", 2000000 if q else 10000000]),
        ("larson-t2", ["larson", 2, 1500000 if q else 8000000, 4000, 6 if q else 20]),
        ("prodcons-t2", ["prodcons", 2, 400000 if q else 2000000]),
        ("frag", ["frag", "8M" if q else "16M", 100]),
        ("realloc", ["realloc", 3 if q else 6, "4M", 8]),
    ]


def run_once(cmd, env):
    t = time.monotonic()
    r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr[-300:]))
    return time.monotonic() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    off = build + "-noharden"
    subprocess.run(["make", "-C", ROOT, "-s", "all", "bench-bins", "BUILD=" + build], check=True)
    subprocess.run(["make", "-C", ROOT, "-s", "all", "BUILD=" + off, "EXTRA_CFLAGS=-DLX_HARDEN=0"],
                   check=True)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("LXMALLOC_", "MALLOC_"))}
    variants = [
        ("off", dict(base_env, LD_PRELOAD=os.path.join(off, "liblxmalloc.so"))),
        ("default", dict(base_env, LD_PRELOAD=os.path.join(build, "liblxmalloc.so"))),
        ("debug", dict(base_env, LD_PRELOAD=os.path.join(build, "liblxmalloc.so"), LXMALLOC_DEBUG="1")),
    ]
    rows = []
    for name, argv in workloads(args.quick):
        cmd = [os.path.join(build, "bench", argv[0])] + [str(a) for a in argv[1:]]
        times = {v: [] for v, _ in variants}
        for _ in range(args.runs):
            for v, env in variants:
                times[v].append(run_once(cmd, env))
        med = {v: statistics.median(t) for v, t in times.items()}
        rows.append((name, med))
        print("%-12s off %.3fs  default %.3fs (%+.1f%%)  debug %.3fs (x%.1f)" % (
            name, med["off"], med["default"], 100 * (med["default"] / med["off"] - 1),
            med["debug"], med["debug"] / med["off"]), file=sys.stderr, flush=True)
    print("| workload | hardening off | default | default vs off | debug mode | debug vs off |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, med in rows:
        print("| %s | %.3f s | %.3f s | %+.1f%% | %.3f s | x%.1f |" % (
            name, med["off"], med["default"], 100 * (med["default"] / med["off"] - 1),
            med["debug"], med["debug"] / med["off"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

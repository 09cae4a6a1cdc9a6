#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What lxmalloc's safety costs: the benchmark suite under hardening variants.

    python3 bench/safety.py [--runs N] [--quick] [--only PATTERN,...] [--debug]

  off      built with -DLX_HARDEN=0 (no free-list encoding, no free checks)
           into BUILD-noharden/
  default  the normal build (BUILD/liblxmalloc.so)
  debug    the normal build with LXMALLOC_DEBUG=1 (only with --debug)

Every workload of `make bench` (bench/run.py's list, real programs included) runs
under each variant, interleaved (off, default, [debug,] off, ...). Each cell is
the median CPU time (user + system, of the workload process; for redis, of the
server) and the median wall time; the table goes to stdout in Markdown, with
geometric means. CPU time is less disturbed than wall time by other processes.
`make bench-callgrind` counts instructions per malloc+free pair; docs/SECURITY.md
has both.
"""

import argparse
import fnmatch
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


SWEEP_BOUND = {"frag"}


def load_runner():
    spec = importlib.util.spec_from_file_location("lxbench_run", os.path.join(HERE, "run.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="comma-separated workload names or globs")
    ap.add_argument("--debug", action="store_true", help="also run debug mode (slow)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    rb = load_runner()
    build = os.path.abspath(args.build)
    off = build + "-noharden"
    subprocess.run(["make", "-C", ROOT, "-s", "all", "bench-bins", "BUILD=" + build], check=True)
    subprocess.run(["make", "-C", ROOT, "-s", "all", "BUILD=" + off, "EXTRA_CFLAGS=-DLX_HARDEN=0"],
                   check=True)
    wls = rb.workloads(args.quick)
    if args.only:
        pats = args.only.split(",")
        wls = [w for w in wls if any(fnmatch.fnmatch(w["name"], p) for p in pats)]
    wls = [w for w in wls if not rb.workload_available(w, False)]
    bindir = rb.ensure_binaries(build, sorted({w["args"][0] for w in wls if w["kind"] == "exe"} |
                                              {"launch"}))
    launcher = rb.Launcher(os.path.join(bindir, "launch"), 600)
    libs = {}
    for name, path in (("off", off), ("default", build)):
        libs[name] = os.path.join(launcher.tmp, "liblxmalloc-%s.so" % name)
        shutil.copyfile(os.path.join(path, "liblxmalloc.so"), libs[name])
    base_env = {k: v for k, v in os.environ.items()
                if k != "LD_PRELOAD" and not k.startswith(("LXMALLOC_", "MALLOC_"))}
    variants = [("off", libs["off"], {}), ("default", libs["default"], {})]
    if args.debug:
        variants.append(("debug", libs["default"], {"LXMALLOC_DEBUG": "1"}))
    rows = []
    try:
        for wi, wl in enumerate(wls):
            cpu = {v[0]: [] for v in variants}
            wall = {v[0]: [] for v in variants}
            for k in range(args.runs):
                for name, lib, extra in variants:
                    res = rb.run_workload(launcher, wl, {"preload": lib}, bindir, dict(base_env, **extra))
                    fail = rb.classify(res)
                    if fail:
                        raise RuntimeError("%s under %s: %s" % (wl["name"], name, fail))
                    cpu[name].append((res.get("utime") or 0.0) + (res.get("stime") or 0.0))
                    wall[name].append(res["wall"])
                    rb.log("[%2d/%d] %-13s %-8s run %d/%d  cpu %.3f s" %
                           (wi + 1, len(wls), wl["name"], name, k + 1, args.runs, cpu[name][-1]))
            rows.append((wl["name"], {v: statistics.median(c) for v, c in cpu.items()},
                         {v: statistics.median(w) for v, w in wall.items()}))
    finally:
        launcher.cleanup()
    names = [v[0] for v in variants]
    head = "| workload | off cpu | default cpu | default/off cpu | default/off wall |"
    rule = "|---|---:|---:|---:|---:|"
    if args.debug:
        head += " debug cpu | debug/off cpu |"
        rule += "---:|---:|"
    print(head)
    print(rule)
    ratios = {v: [] for v in names}
    wratios = []
    for name, cpu, wall in rows:
        line = "| %s | %.3f s | %.3f s | %.3f | %.3f |" % (
            name, cpu["off"], cpu["default"], cpu["default"] / cpu["off"], wall["default"] / wall["off"])
        ratios["default"].append(cpu["default"] / cpu["off"])
        wratios.append(wall["default"] / wall["off"])
        if args.debug:
            line += " %.3f s | %.2f |" % (cpu["debug"], cpu["debug"] / cpu["off"])
            ratios["debug"].append(cpu["debug"] / cpu["off"])
        print(line)
    line = "| **geometric mean** | | | **%.3f** | **%.3f** |" % (rb.geomean(ratios["default"]),
                                                              rb.geomean(wratios))
    if args.debug:
        line += " | **%.2f** |" % rb.geomean(ratios["debug"])
    print(line)
    # The off build finds the free pages of sparse slabs by walking free lists
    # (a hardened block's first word says whether it is free; an unhardened one's
    # does not), so a workload bound by those sweeps compares the two searches,
    # not the hardening. frag is the one.
    keep = [i for i, r in enumerate(rows) if r[0] not in SWEEP_BOUND]
    if len(keep) < len(rows):
        print("| **geometric mean without %s** | | | **%.3f** | **%.3f** |" % (
            ", ".join(sorted(SWEEP_BOUND)), rb.geomean([ratios["default"][i] for i in keep]),
            rb.geomean([wratios[i] for i in keep])))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Instructions per malloc+free pair on the single-thread fast path.

    python3 bench/callgrind.py [--pairs N] [--sizes 16,64,256] [--update-docs]

For each allocator and size, runs build/bench/pairs under
`valgrind --tool=callgrind` once with N pairs and once with 2N pairs and
reports (Ir(2N) - Ir(N)) / N: start-up, initialisation and first-touch costs
appear in both runs and cancel. The number includes the harness's own
instructions (loop, one byte stored per block, two indirect calls), the same
for every allocator; a baseline run with trivial stand-ins for malloc and free
measures that share and the table reports it.

The same size freed at once is every allocator's best case, and a bad one for
allocators that retire a slab when its last block is freed. So a second table
counts the churn workload (random sizes 8-512 B, bursts, LIFO and FIFO; see
bench/churn.c) the same way, N and 2N allocations, keeping only instructions
executed outside the churn program itself (the allocator and whatever it
calls). Writes bench/results/callgrind.md.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

import run as runner  # bench/run.py: allocator discovery, apt, machine info

HERE = runner.HERE
ROOT = runner.ROOT


def count_instructions(pairs_bin, n, size, preload, env, baseline=False):
    env = dict(env)
    if preload:
        env["LD_PRELOAD"] = preload
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
           pairs_bin, str(n), str(size), "1000", "1" if baseline else "0"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    m = re.search(r"Collected\s*:\s*(\d+)", r.stderr)
    if r.returncode != 0 or not m:
        tail = " / ".join(r.stderr.strip().splitlines()[-2:])
        raise RuntimeError("exit %d: %s" % (r.returncode, tail))
    return int(m.group(1))


def count_outside(bin_path, args, preload, env):
    """(all instructions, instructions outside bin_path) of one run."""
    env = dict(env)
    if preload:
        env["LD_PRELOAD"] = preload
    out = os.path.join(tempfile.gettempdir(), "lxbench-callgrind.%d" % os.getpid())
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, bin_path] + args
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    try:
        if r.returncode != 0:
            tail = " / ".join(r.stderr.strip().splitlines()[-2:])
            raise RuntimeError("exit %d: %s" % (r.returncode, tail))
        ann = subprocess.run(["callgrind_annotate", "--threshold=100", out],
                             capture_output=True, text=True, check=True).stdout
    finally:
        if os.path.exists(out):
            os.unlink(out)
    total = inside = 0
    real = os.path.realpath(bin_path)
    objects = {}
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$", line)
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        if "PROGRAM TOTALS" in m.group(2):
            total = ir
            continue
        if ":" not in m.group(2):
            continue
        # callgrind_annotate names a function's object once: lines for code inlined
        # from other files ("bench_common.h:main") leave it out.
        text = m.group(2)
        obj = re.search(r"\s*\[([^\]]+)\]\s*$", text)
        func = (text[:obj.start()] if obj else text).rsplit(":", 1)[-1].strip()
        if obj:
            objects[func] = os.path.realpath(obj.group(1))
        if objects.get(func) == real:
            inside += ir
    if total == 0:
        raise RuntimeError("no totals in callgrind output")
    return total, total - inside


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=200000, help="N (default 200000)")
    ap.add_argument("--sizes", default="16,64,256")
    ap.add_argument("--allocators", help="comma-separated subset of %s" % ",".join(runner.ALLOCATORS))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--update-docs", action="store_true",
                    help="also put the table in docs/BENCHMARKS.md (between the callgrind markers)")
    ap.add_argument("--docs-only", action="store_true",
                    help="run nothing: put OUT/callgrind.md of an earlier run into docs/BENCHMARKS.md")
    args = ap.parse_args()
    if args.docs_only:
        with open(os.path.join(args.out, "callgrind.md")) as f:
            update_docs(f.read())
        return 0

    allow_install = not args.no_install and os.geteuid() == 0
    if shutil.which("valgrind") is None and not runner.apt_install(["valgrind"], allow_install):
        sys.exit("bench-callgrind: valgrind is not available")
    build = os.path.abspath(args.build)
    allocs = runner.ALLOCATORS
    if args.allocators:
        allocs = [a.strip() for a in args.allocators.split(",") if a.strip()]
    sizes = [int(s) for s in args.sizes.split(",")]
    info = runner.find_allocators(build, allocs, allow_install)
    bindir = runner.ensure_binaries(build, ["pairs"])
    pairs_bin = os.path.join(bindir, "pairs")
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    n = args.pairs

    runner.log("callgrind: harness baseline")
    harness = (count_instructions(pairs_bin, 2 * n, 64, None, env, True)
               - count_instructions(pairs_bin, n, 64, None, env, True)) / n
    table = {}
    for size in sizes:
        for a in allocs:
            if not info[a]["ok"]:
                table[(a, size)] = "n/a"
                continue
            runner.log("callgrind: %-9s %4d B  N=%d and 2N" % (a, size, n))
            try:
                one = count_instructions(pairs_bin, n, size, info[a]["preload"], env)
                two = count_instructions(pairs_bin, 2 * n, size, info[a]["preload"], env)
                table[(a, size)] = "%.1f" % ((two - one) / n)
            except (RuntimeError, subprocess.SubprocessError) as e:
                runner.log("callgrind: %s at %d B failed: %s" % (a, size, e))
                table[(a, size)] = "crash"

    churn_n = max(args.pairs, 100000)
    churn_bin = os.path.join(runner.ensure_binaries(build, ["churn"]), "churn")
    churn = {}
    for mode in ("lifo", "fifo"):
        for a in allocs:
            if not info[a]["ok"]:
                churn[(a, mode)] = "n/a"
                continue
            runner.log("callgrind: %-9s churn %s  N=%d and 2N" % (a, mode, churn_n))
            try:
                _, one = count_outside(churn_bin, [mode, str(churn_n)], info[a]["preload"], env)
                _, two = count_outside(churn_bin, [mode, str(2 * churn_n)], info[a]["preload"], env)
                churn[(a, mode)] = "%.1f" % ((two - one) / churn_n)
            except (RuntimeError, subprocess.SubprocessError) as e:
                runner.log("callgrind: %s churn %s failed: %s" % (a, mode, e))
                churn[(a, mode)] = "crash"

    m = runner.machine_info()
    vg = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    lines = ["Date: %s  " % m["date"],
             "Machine: %s cores, %s, kernel %s; %s; commit %s  " % (m["nproc"], m["cpu"], m["kernel"], vg, m["commit"]),
             "Instructions per malloc+free pair, (Ir(2N) - Ir(N)) / N with N = %d, single thread, "
             "same size every time (lower is better). Each number includes %.1f instructions "
             "of the harness itself (loop, a one-byte store, two indirect calls; measured "
             "with trivial stand-ins for malloc and free):" % (n, harness),
             "",
             "| size | " + " | ".join(allocs) + " |",
             "|---:|" + "---:|" * len(allocs)]
    for size in sizes:
        lines.append("| %d B | " % size + " | ".join(table[(a, size)] for a in allocs) + " |")
    lines += ["",
              "Instructions per malloc+free pair in `churn` (random sizes 8-512 B in bursts, "
              "N = %d and 2N allocations), counting only what runs outside the churn "
              "program: the allocator, and any library code it calls:" % churn_n,
              "",
              "| pattern | " + " | ".join(allocs) + " |",
              "|---|" + "---:|" * len(allocs)]
    for mode in ("lifo", "fifo"):
        lines.append("| %s | " % mode + " | ".join(churn[(a, mode)] for a in allocs) + " |")
    md = "\n".join(lines) + "\n"
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "callgrind.md"), "w") as f:
        f.write(md)
    print(md)
    if args.update_docs:
        update_docs(md)
    return 0


def update_docs(md):
    doc = os.path.join(ROOT, "docs", "BENCHMARKS.md")
    if os.path.exists(doc):
        with open(doc) as f:
            text = f.read()
        new = runner.replace_between(text, "<!-- bench-callgrind:begin -->",
                                     "<!-- bench-callgrind:end -->", md)
        if new is not None:
            with open(doc, "w") as f:
                f.write(new)
            runner.log("callgrind: updated docs/BENCHMARKS.md")


if __name__ == "__main__":
    sys.exit(main())

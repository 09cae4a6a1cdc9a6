# SPDX-License-Identifier: MIT
"""Readers and checks for lxmalloc's leak report and heap profile files, used by
the tests/prof/*.sh scripts. Each subcommand exits 0 when the check holds, or
prints why not and exits 1.

  leaks FILE PROG [FUNC=BLOCKS:BYTES ...]
      FILE holds well-formed leak reports (header, sites sorted by bytes, summary
      that adds up). With PROG: the sites whose innermost frame lies in PROG are
      exactly the FUNCs listed, with those block and byte counts (summed over
      the FUNC's sites).
  leak-functions FILE PROG
      print "FUNC BLOCKS BYTES" for the innermost frames of FILE's sites in PROG.
  valgrind-functions LOG
      the same from a memcheck log (--leak-check=full): every loss record,
      attributed to its first frame below the allocation function.
  heap FILE [TRUE_ALLOC TRUE_LIVE TOLERANCE]
      FILE is a well-formed legacy heap profile (header, sample lines whose
      counts add up to the header, a MAPPED_LIBRARIES section); prints the
      estimated allocated and live bytes, unsampled as pprof does; with the true
      figures, each estimate must be within TOLERANCE (a fraction) of them.
  folded FILE FUNC...
      FILE is in folded-stack format and each FUNC appears as a frame.
"""
import math
import os
import re
import sys

HEADER = re.compile(r"^lxmalloc: leak report of pid (\d+): (\d+) bytes in (\d+) blocks "
                    r"still allocated at exit, from (\d+) sites$")
SITE = re.compile(r"^lxmalloc: (\d+) bytes in (\d+) blocks? allocated at:$")
FRAME = re.compile(r"^lxmalloc:     #(\d+) 0x[0-9a-f]+(?: (\S+)\+0x[0-9a-f]+)?"
                   r"(?: \((.+)\+0x([0-9a-f]+)\))?$")
SUMMARY = re.compile(r"^lxmalloc: leak summary: (\d+) bytes in (\d+) blocks from (\d+) sites")


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def parse_leaks(path):
    """A list of reports: dicts with pid, bytes, blocks, sites [(bytes, blocks, frames)]
    where frames are (function or None, module or None)."""
    reports = []
    cur = None
    site = None
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.startswith("lxmalloc: "):
                continue
            m = HEADER.match(line)
            if m:
                if cur is not None and not cur.get("done"):
                    fail(f"{path}:{n}: a report starts before the last one ended")
                cur = {"pid": int(m[1]), "bytes": int(m[2]), "blocks": int(m[3]),
                       "nsites": int(m[4]), "sites": []}
                reports.append(cur)
                continue
            if cur is None or cur.get("done"):
                continue  # other lxmalloc messages
            m = SITE.match(line)
            if m:
                site = (int(m[1]), int(m[2]), [])
                cur["sites"].append(site)
                continue
            m = FRAME.match(line)
            if m and site is not None:
                if int(m[1]) != len(site[2]):
                    fail(f"{path}:{n}: frame #{m[1]} out of order")
                site[2].append((m[2], m[3]))
                continue
            m = SUMMARY.match(line)
            if m:
                cur["done"] = True
                if (int(m[1]), int(m[2]), int(m[3])) != (cur["bytes"], cur["blocks"],
                                                         cur["nsites"]):
                    fail(f"{path}:{n}: summary differs from the header")
                site = None
                continue
            fail(f"{path}:{n}: unexpected line in a leak report: {line}")
    if not reports:
        fail(f"{path}: no leak report")
    for r in reports:
        if not r.get("done"):
            fail(f"{path}: the report of pid {r['pid']} has no summary line")
        sites = r["sites"]
        if len(sites) != r["nsites"]:
            fail(f"{path}: pid {r['pid']}: {len(sites)} sites listed, header says {r['nsites']}")
        if sum(s[0] for s in sites) != r["bytes"] or sum(s[1] for s in sites) != r["blocks"]:
            fail(f"{path}: pid {r['pid']}: the sites do not add up to the header's totals")
        if any(a[0] < b[0] for a, b in zip(sites, sites[1:])):
            fail(f"{path}: pid {r['pid']}: sites are not sorted by bytes")
        if any(not s[2] for s in sites):
            fail(f"{path}: pid {r['pid']}: a site without frames")
    return reports


def leak_functions(reports, prog):
    funcs = {}
    for r in reports:
        for nbytes, nblocks, frames in r["sites"]:
            fn, mod = frames[0]
            if mod is None or os.path.basename(mod) != prog:
                continue
            b, c = funcs.get(fn, (0, 0))
            funcs[fn] = (b + nblocks, c + nbytes)
    return funcs


VG_RECORD = re.compile(r"==\d+== ([\d,]+) bytes in ([\d,]+) blocks are (\S+ \S+) in loss record")
VG_FRAME = re.compile(r"==\d+==    (?:at|by) 0x[0-9A-F]+: (\S+) ")
VG_ALLOCATORS = {"malloc", "calloc", "realloc", "memalign", "posix_memalign", "aligned_alloc",
                 "valloc"}


def valgrind_functions(path):
    funcs = {}
    record = None
    with open(path, errors="replace") as f:
        for line in f:
            m = VG_RECORD.search(line)
            if m:
                record = (int(m[1].replace(",", "")), int(m[2].replace(",", "")))
                continue
            m = VG_FRAME.search(line)
            if m and record is not None:
                fn = m[1]
                if fn in VG_ALLOCATORS or fn.startswith("operator"):
                    continue
                b, c = funcs.get(fn, (0, 0))
                funcs[fn] = (b + record[1], c + record[0])
                record = None
    return funcs


HEAP_HEADER = re.compile(r"^heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] *@ *heap_v2/(\d+)$")
HEAP_LINE = re.compile(r"^ *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] @((?: 0x[0-9a-f]+)+)$")
MAPS_LINE = re.compile(r"^[0-9a-f]+-[0-9a-f]+ [r-][w-][x-][ps] [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ \d+")


def scale(count, size, rate):
    """pprof's unsampling of one line: divide by the chance that a block of the
    line's average size was sampled."""
    if count == 0 or size == 0:
        return 0.0
    if rate <= 1:
        return float(size)
    avg = size / count
    return size / (1 - math.exp(-avg / rate))


def parse_heap(path):
    with open(path, errors="replace") as f:
        lines = f.read().split("\n")
    m = HEAP_HEADER.match(lines[0])
    if not m:
        fail(f"{path}: bad header line: {lines[0]!r}")
    head = [int(m[i]) for i in range(1, 5)]
    rate = int(m[5])
    sums = [0, 0, 0, 0]
    est_alloc = est_live = 0.0
    i = 1
    while i < len(lines) and lines[i].strip() != "":
        s = HEAP_LINE.match(lines[i])
        if not s:
            fail(f"{path}:{i + 1}: bad sample line: {lines[i]!r}")
        vals = [int(s[k]) for k in range(1, 5)]
        if vals[2] == 0 or vals[0] > vals[2] or vals[1] > vals[3]:
            fail(f"{path}:{i + 1}: live counts exceed allocated ones")
        sums = [a + b for a, b in zip(sums, vals)]
        est_live += scale(vals[0], vals[1], rate)
        est_alloc += scale(vals[2], vals[3], rate)
        i += 1
    if sums != head:
        fail(f"{path}: sample lines add up to {sums}, the header says {head}")
    while i < len(lines) and lines[i].strip() == "":
        i += 1
    if i >= len(lines) or lines[i] != "MAPPED_LIBRARIES:":
        fail(f"{path}: no MAPPED_LIBRARIES: section after the samples")
    maps = [l for l in lines[i + 1:] if l]
    if not maps or not all(MAPS_LINE.match(l) for l in maps):
        fail(f"{path}: the MAPPED_LIBRARIES section is not a copy of /proc/self/maps")
    return est_alloc, est_live, head


def check_folded(path, funcs):
    seen = set()
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = re.match(r"^(\S+) (\d+)$", line.rstrip("\n"))
            if not m or int(m[2]) <= 0:
                fail(f"{path}:{n}: not 'frame;frame;... BYTES': {line!r}")
            seen.update(m[1].split(";"))
    missing = [f for f in funcs if f not in seen]
    if missing:
        fail(f"{path}: no stack names {', '.join(missing)}")


def main(argv):
    if len(argv) < 3:
        fail(__doc__)
    cmd, path = argv[1], argv[2]
    if cmd == "leaks":
        reports = parse_leaks(path)
        if len(argv) > 3:
            prog = argv[3]
            want = {}
            for spec in argv[4:]:
                fn, counts = spec.split("=")
                blocks, nbytes = counts.split(":")
                want[fn] = (int(blocks), int(nbytes))
            got = leak_functions(reports, prog)
            if got != want:
                fail(f"leak sites in {prog}: got {sorted(got.items())}, "
                     f"expected {sorted(want.items())}")
    elif cmd == "leak-functions":
        for fn, (blocks, nbytes) in sorted(leak_functions(parse_leaks(path), argv[3]).items()):
            print(fn, blocks, nbytes)
    elif cmd == "valgrind-functions":
        for fn, (blocks, nbytes) in sorted(valgrind_functions(path).items()):
            print(fn, blocks, nbytes)
    elif cmd == "heap":
        est_alloc, est_live, head = parse_heap(path)
        print(f"estimated allocated {est_alloc:.0f} live {est_live:.0f} "
              f"(samples: {head[2]} allocated, {head[0]} live)")
        if len(argv) > 3:
            true_alloc, true_live, tol = int(argv[3]), int(argv[4]), float(argv[5])
            for what, est, true in (("allocated", est_alloc, true_alloc),
                                    ("live", est_live, true_live)):
                if abs(est - true) > tol * true:
                    fail(f"{path}: estimated {what} bytes {est:.0f}, true {true}: off by "
                         f"{100 * (est - true) / true:.1f}%, more than {100 * tol:.0f}%")
    elif cmd == "folded":
        check_folded(path, argv[3:])
    else:
        fail(f"unknown check {cmd}")


if __name__ == "__main__":
    main(sys.argv)

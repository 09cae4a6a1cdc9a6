# `lxmalloc maps` on a process with known regions (tests/cmd/layout.c): every
# region it announced must be in a row of the right kind, size, resident and
# locked bytes; the totals must add up, to /proc/PID/maps too; a process that
# does not exist is an error (status 1), a bad argument a usage error (status 2).
. "$(dirname "$0")/../preload/common.sh"
[ -n "$LXT_SO" ] || lxt_skip "needs the library (LXT_SYSTEM=1)"
lxt_need python3
CMD=$LXT_CMD
[ -x "$CMD" ] || lxt_fail "$CMD not built"

"$CMD" maps --help | grep -q "Usage: lxmalloc maps" || lxt_fail "maps --help"
"$CMD" maps 2147483646 >"$LXT_TMP/nopid.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || lxt_fail "maps of a missing pid: status $rc, not 1"
grep -q "no process with pid 2147483646" "$LXT_TMP/nopid.out" ||
    lxt_fail "maps of a missing pid: message was: $(cat "$LXT_TMP/nopid.out")"
"$CMD" maps not-a-pid >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || lxt_fail "maps not-a-pid: status $rc, not 2"
"$CMD" maps --bogus >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || lxt_fail "maps --bogus: status $rc, not 2"
"$CMD" maps self >"$LXT_TMP/self.out" || lxt_fail "maps self failed"
grep -q "^text " "$LXT_TMP/self.out" || lxt_fail "maps self: no text in the totals"

fifo=$LXT_TMP/fifo
out=$LXT_TMP/layout.out
mkfifo "$fifo" || lxt_fail "mkfifo"
LD_PRELOAD="$LXT_SO" "$LXT_BIN/cmd/layout" "$LXT_TMP/mapped-file" <"$fifo" >"$out" &
lpid=$!
exec 3>"$fifo"
# Wait for its layout (the loop ends when the program is ready or has died).
while ! grep -q '^ready' "$out" 2>/dev/null; do
    kill -0 "$lpid" 2>/dev/null || lxt_fail "layout died: $(cat "$out")"
    sleep 0.1
done
pid=$(sed -n 's/^pid //p' "$out")
"$CMD" maps --tsv "$pid" >"$LXT_TMP/maps.tsv" 2>"$LXT_TMP/maps.err"
rc=$?
"$CMD" maps "$pid" >"$LXT_TMP/maps.txt" 2>&1
rc2=$?
cp "/proc/$pid/maps" "$LXT_TMP/proc-maps"
exec 3>&-
wait "$lpid" || lxt_fail "layout failed"
[ "$rc" -eq 0 ] || lxt_fail "maps --tsv $pid: status $rc: $(cat "$LXT_TMP/maps.err")"
[ "$rc2" -eq 0 ] || lxt_fail "maps $pid: status $rc2"
grep -q "^pid $pid: " "$LXT_TMP/maps.txt" || lxt_fail "maps $pid: no header line"
grep -q "lxmalloc segment" "$LXT_TMP/maps.txt" || lxt_fail "maps $pid: no segment row"

python3 - "$out" "$LXT_TMP/maps.tsv" "$LXT_TMP/proc-maps" "$LXT_TMP/mapped-file" \
    "$LXT_BIN/cmd/layout" <<'PY' || exit 1
import os, sys

announced, tsv, proc_maps, mapped, exe = sys.argv[1:6]
want = {}
for line in open(announced):
    f = line.split()
    if len(f) >= 2 and f[0] not in ("pid", "ready"):
        want[f[0]] = (int(f[1], 16), int(f[2]) if len(f) > 2 else None)

text = open(tsv).read()
rows_part, totals_part = text.split("\n\n")
lines = rows_part.splitlines()
assert lines[0].split("\t") == ["start", "end", "perms", "kind", "size", "rss", "swap",
                                "locked", "file"], lines[0]
rows = []
for line in lines[1:]:
    f = line.split("\t")
    rows.append(dict(start=int(f[0], 16), end=int(f[1], 16), perms=f[2], kind=f[3],
                     size=int(f[4]), rss=int(f[5]), swap=int(f[6]), locked=int(f[7]),
                     file=f[8]))
problems = []

def row_of(addr):
    for r in rows:
        if r["start"] <= addr < r["end"]:
            return r
    return None

def expect(name, kind, exact=False, file=None, rss_full=False):
    if name not in want:
        return
    addr, size = want[name]
    r = row_of(addr)
    if r is None:
        problems.append(f"{name} at {addr:x}: in no row")
        return
    if r["kind"] != kind:
        problems.append(f"{name} at {addr:x}: kind {r['kind']!r}, expected {kind!r}")
    if r["size"] != r["end"] - r["start"]:
        problems.append(f"{name}: size {r['size']} is not end - start")
    if exact and (r["start"] != addr or r["size"] != size):
        problems.append(f"{name}: row {r['start']:x} size {r['size']}, expected "
                        f"{addr:x} size {size}")
    if file is not None and r["file"] != file:
        problems.append(f"{name}: file {r['file']!r}, expected {file!r}")
    if rss_full and r["rss"] != r["size"]:
        problems.append(f"{name}: rss {r['rss']} of {r['size']}, all of it was written")
    return r

expect("anon", "anonymous mmap", exact=True, rss_full=True)
expect("shared", "shared", exact=True, rss_full=True)
expect("file", "file mmap", exact=True, file=os.path.realpath(mapped))
r = expect("locked", "anonymous mmap", exact=True)
if r is not None and r["locked"] != want["locked"][1]:
    problems.append(f"locked: {r['locked']} locked bytes, expected {want['locked'][1]}")
expect("brk", "heap [brk]")
expect("text", "text", file=os.path.realpath(exe))
expect("data", "data", file=os.path.realpath(exe))
expect("bss", "bss")
expect("stack", "stack")
expect("thread_stack", "thread stack")
expect("small", "lxmalloc segment")
expect("large", "lxmalloc segment")
r = expect("huge", "lxmalloc huge block")
if r is not None and r["size"] < 8 << 20:
    problems.append(f"huge: row of {r['size']} bytes holds an 8 MiB block")

# Totals: per kind and overall, from the rows; and the same address space as
# the kernel's own list.
totals = {}
for line in totals_part.strip().splitlines()[1:]:
    f = line.split("\t")
    totals[f[0]] = [int(x) for x in f[1:]]
overall = totals.pop("total")
kinds = {}
for r in rows:
    k = kinds.setdefault(r["kind"], [0, 0, 0, 0, 0])
    for i, key in enumerate(("size", "rss", "swap", "locked")):
        k[i + 1] += r[key]
    k[0] += 1
if kinds != totals:
    problems.append(f"totals per kind {totals} differ from the rows {kinds}")
sums = [sum(t[i] for t in totals.values()) for i in range(5)]
if sums != overall:
    problems.append(f"total line {overall} is not the sum of the kinds {sums}")
kernel = 0
for line in open(proc_maps):
    a, b = line.split()[0].split("-")
    kernel += int(b, 16) - int(a, 16)
if overall[1] != kernel:
    problems.append(f"total size {overall[1]} differs from /proc/PID/maps: {kernel}")
if problems:
    print("\n".join(problems), file=sys.stderr)
    print(text, file=sys.stderr)
    sys.exit(1)
PY
exit 0

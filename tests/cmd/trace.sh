# `lxmalloc run --trace` and `lxmalloc plot`: the trace of a known allocation
# pattern (tests/cmd/grow.c: 64 MiB live, then nothing) must show it; the plot
# must be well-formed SVG with the three lines; garbage must be refused. Then a
# real program (python3) is traced and plotted.
. "$(dirname "$0")/../preload/common.sh"
[ -n "$LXT_SO" ] || lxt_skip "needs the library (LXT_SYSTEM=1)"
lxt_need python3
CMD=$LXT_CMD
[ -x "$CMD" ] || lxt_fail "$CMD not built"
T=$LXT_TMP
LIB=$(dirname "$LXT_SO")/liblxmalloc.so

# 1. Every hook writes a record (interval 0): the count does not depend on time.
echo "old content" >"$T/grow.tsv"
LXMALLOC_TRACE_INTERVAL=0 "$CMD" run --lib "$LIB" --trace "$T/grow.tsv" -- \
    "$LXT_BIN/cmd/grow" >"$T/grow.out" || lxt_fail "run --trace grow failed"
grep -q "grow done" "$T/grow.out" || lxt_fail "grow did not finish"
python3 - "$T/grow.tsv" "$(sed -n 's/.*pid //p' "$T/grow.out")" <<'PY' || exit 1
import sys
path, pid = sys.argv[1], sys.argv[2]
lines = open(path).read().splitlines()
assert lines[0].startswith("# lxmalloc-trace 1 pid=" + pid + " "), lines[0]
assert " cmd=" in lines[0] and "grow" in lines[0], lines[0]
cols = lines[1].split("\t")
for c in ("time_ms", "pid", "live_bytes", "committed_bytes", "resident_bytes", "rss_bytes",
          "peak_live_bytes", "peak_committed_bytes", "peak_rss_bytes"):
    assert c in cols, (c, cols)
recs = [dict(zip(cols, map(float, l.split("\t")))) for l in lines[2:]]
assert not any(l.startswith("#") for l in lines[2:]), "a second header: the fork child traced"
assert all(len(l.split("\t")) == len(cols) for l in lines[2:]), "a short or long record"
assert len(recs) >= 256, f"{len(recs)} records, expected one per 256 KiB block at least"
assert all(int(r["pid"]) == int(pid) for r in recs), "records of another process"
times = [r["time_ms"] for r in recs]
assert times == sorted(times), "times go backwards"
MiB = 1 << 20
peak = max(r["live_bytes"] for r in recs)
assert 64 * MiB <= peak <= 66 * MiB, f"peak live {peak / MiB:.1f} MiB, expected 64 to 66"
top = max(recs, key=lambda r: r["live_bytes"])
assert top["committed_bytes"] >= top["live_bytes"], "committed below live"
assert top["rss_bytes"] >= 64 * MiB, f"RSS {top['rss_bytes'] / MiB:.1f} MiB at the peak"
assert recs[-1]["peak_live_bytes"] >= 64 * MiB, "peak_live_bytes below 64 MiB"
assert recs[-1]["peak_rss_bytes"] >= 64 * MiB, "peak_rss_bytes below 64 MiB"
assert recs[-1]["live_bytes"] < MiB, f"{recs[-1]['live_bytes']} bytes live at the end"
assert recs[0]["live_bytes"] == 0, "the first record is not the start"
PY

# 2. The default interval: at least the start and exit records.
"$CMD" run --lib "$LIB" --trace="$T/grow10.tsv" -- "$LXT_BIN/cmd/grow" >/dev/null ||
    lxt_fail "run --trace=FILE failed"
n=$(grep -vc '^#\|^time_ms' "$T/grow10.tsv")
[ "$n" -ge 2 ] || lxt_fail "default interval: $n records"

# 3. plot: well-formed SVG with the three series, the title from the trace.
"$CMD" plot "$T/grow.tsv" -o "$T/grow.svg" || lxt_fail "plot failed"
"$CMD" plot --help | grep -q "Usage: lxmalloc plot" || lxt_fail "plot --help"
check_svg() { # check_svg FILE MIN_POINTS TITLE_WORD
    python3 - "$@" <<'PY'
import sys
import xml.etree.ElementTree as ET
path, min_points, word = sys.argv[1], int(sys.argv[2]), sys.argv[3]
root = ET.parse(path).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", root.tag
lines = {p.get("id"): p for p in root.iter(ns + "polyline")}
for name in ("live_bytes", "committed_bytes", "rss_bytes"):
    assert name in lines, f"no {name} line"
    pts = lines[name].get("points").split()
    assert len(pts) >= min_points, f"{name}: {len(pts)} points"
    for p in pts:
        x, y = map(float, p.split(","))
        assert 0 <= x <= float(root.get("width")) and 0 <= y <= float(root.get("height")), p
texts = " ".join(t.text or "" for t in root.iter(ns + "text"))
for label in ("live bytes", "committed bytes", "RSS", "MiB", word):
    assert label in texts, f"no {label!r} in the text: {texts[:300]}"
PY
}
check_svg "$T/grow.svg" 100 grow || lxt_fail "grow.svg is wrong"

# One record: still a chart (points marked).
head -n 3 "$T/grow.tsv" >"$T/one.tsv"
"$CMD" plot "$T/one.tsv" -o "$T/one.svg" || lxt_fail "plot of one record failed"
check_svg "$T/one.svg" 1 grow || lxt_fail "one.svg is wrong"

# Garbage, an empty file, a missing file: status 1 and a message; usage: 2.
printf 'hello\nworld\n' >"$T/garbage"
: >"$T/empty"
for f in garbage empty missing; do
    "$CMD" plot "$T/$f" -o "$T/$f.svg" 2>"$T/$f.err"
    rc=$?
    [ "$rc" -eq 1 ] || lxt_fail "plot of $f: status $rc, not 1"
    [ -s "$T/$f.err" ] || lxt_fail "plot of $f: no message"
done
(head -n 2 "$T/grow.tsv"; printf '1.0\t2\tthree\n') >"$T/bad-record"
"$CMD" plot "$T/bad-record" -o "$T/bad.svg" 2>/dev/null
[ $? -eq 1 ] || lxt_fail "plot of a bad record did not fail"
"$CMD" plot "$T/grow.tsv" >/dev/null 2>&1
[ $? -eq 2 ] || lxt_fail "plot without -o is not a usage error"

# 4. A real program: python3 with its objects on malloc.
PYTHONMALLOC=malloc "$CMD" run --lib "$LIB" --trace "$T/py.tsv" -- python3 -c '
x = [bytes(1000) for _ in range(30000)]
del x
print("ok")' >"$T/py.out" || lxt_fail "python3 under run --trace failed"
grep -q ok "$T/py.out" || lxt_fail "python3 printed nothing"
python3 - "$T/py.tsv" <<'PY' || exit 1
import sys
lines = open(sys.argv[1]).read().splitlines()
heads = [l for l in lines if l.startswith("# lxmalloc-trace")]
assert any("python" in h for h in heads), heads
cols = next(l for l in lines if l.startswith("time_ms")).split("\t")
recs = [dict(zip(cols, map(float, l.split("\t")))) for l in lines
        if l and not l.startswith(("#", "time_ms"))]
assert len(recs) >= 2, len(recs)
peak = max(r["peak_live_bytes"] for r in recs)
assert peak >= 30000 * 1000, f"python3's peak live {peak}: its 30 MB of bytes are missing"
PY
"$CMD" plot "$T/py.tsv" -o "$T/py.svg" 2>/dev/null || lxt_fail "plot of the python3 trace failed"
check_svg "$T/py.svg" 2 python || lxt_fail "py.svg is wrong"
exit 0

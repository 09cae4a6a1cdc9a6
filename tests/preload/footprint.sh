# The library's code layout keeps a small program's footprint small
# (docs/ARCHITECTURE.md, "Footprint"): the code every program runs fits the
# first 64 KiB window of the text segment, the rare code and the unwind tables
# come after, the read-only data sits with the loader's tables before the
# code, the big zeroed arrays come before the small variables of .bss, and a
# real program (python3, which allocates, reallocates, forks and exits) leaves
# the rare windows unmapped.
. "$(dirname "$0")/common.sh"
[ -n "$LXT_SO" ] || lxt_skip "needs the library (LXT_SYSTEM=1)"
lxt_need readelf
lxt_need nm
lxt_need python3
SO=$LXT_SO

if nm -D "$SO" | grep -q '__ubsan\|__asan\|__tsan'; then
    lxt_skip "a sanitizer build: its code is laid out by other rules"
fi

# The promise that the common code fits one 64 KiB window is the release
# build's (gcc, -O2, DEBUG=0): a checked build's assertions and clang, which does
# not split cold paths out of functions, make more common code.
WINDOW=1
[ "${LXT_DEBUG:-0}" = 0 ] || WINDOW=0
readelf -p .comment "$SO" 2>/dev/null | grep -q clang && WINDOW=0

# 1. The layout, from the section headers.
python3 - "$SO" "$WINDOW" <<'PY' || exit 1
import subprocess, sys
so, window_check = sys.argv[1], sys.argv[2] == "1"
sec = {}
for line in subprocess.run(["readelf", "-SW", so], capture_output=True, text=True).stdout.splitlines():
    f = line.replace("[ ", "[").split()
    if len(f) > 5 and f[0].startswith("[") and f[0][1:-1].isdigit():
        sec[f[1]] = (int(f[3], 16), int(f[5], 16))
for name in (".text", ".fini", ".text.rare", ".rodata.lx", ".eh_frame_hdr", ".rela.dyn"):
    assert name in sec, "no section " + name
text, size = sec[".text"]
window = text & ~0xffff
assert text - window < 0x1000, "the text segment does not start a 64 KiB window: %#x" % text
assert not window_check or sec[".fini"][0] + sec[".fini"][1] <= window + 0x10000, \
    ".text and .fini end at %#x, past the first window" % (sec[".fini"][0] + sec[".fini"][1])
assert sec[".text.rare"][0] > sec[".fini"][0], "the rare code is not after .fini"
# The read-only data follows the loader's tables in the first segment, before
# the code; the unwind tables stay after the code.
assert ".rodata" not in sec or sec[".rodata"][1] == 0, "a .rodata section outside .rodata.lx"
ro, ro_size = sec[".rodata.lx"]
assert sec[".rela.dyn"][0] < ro and ro + ro_size <= window, \
    ".rodata.lx (%#x) is not in the first segment, before the code (%#x)" % (ro, window)
assert sec[".eh_frame_hdr"][0] > sec[".text.rare"][0], "the unwind tables are not after the code"
# The big zeroed arrays lie before the rest of .bss, whose small variables every
# program touches and which must stay a page or two.
assert ".bss.lx_first" in sec and ".bss" in sec, "no section .bss.lx_first or .bss"
first, first_size = sec[".bss.lx_first"]
assert first + first_size <= sec[".bss"][0], "the big zeroed arrays are not before .bss"
assert sec[".bss"][1] <= 0x2000, ".bss holds %#x bytes: a big array among the small variables" % sec[".bss"][1]

# Functions every program runs must not be rare.
rare_lo, rare_hi = sec[".text.rare"][0], sec[".text.rare"][0] + sec[".text.rare"][1]
common = ["lx_malloc", "lx_free", "lx_realloc", "lx_calloc", "malloc", "free", "realloc",
          "options_init", "sizeclass_init", "lx_process_exit", "stats_at_exit",
          "prof_init", "prof_at_exit", "trace_init", "trace_at_exit",
          "caches_fork_prepare", "caches_fork_parent", "caches_fork_child",
          "xheaps_fork_prepare", "xheaps_fork_parent", "xheaps_fork_child",
          "debug_fork_prepare", "debug_fork_parent", "debug_fork_child",
          "prof_fork_prepare", "prof_fork_parent", "prof_fork_child"]
addr = {}
for line in subprocess.run(["nm", so], capture_output=True, text=True).stdout.splitlines():
    f = line.split()
    if len(f) == 3 and f[1] in "tT":
        addr[f[2]] = int(f[0], 16)
data = {}
for line in subprocess.run(["nm", so], capture_output=True, text=True).stdout.splitlines():
    f = line.split()
    if len(f) == 3 and f[1] in "bB":
        data[f[2]] = int(f[0], 16)
for name in ("lx_arenas", "lx_segmap_top"):
    assert name in data and first <= data[name] < first + first_size, \
        "%s is not in .bss.lx_first" % name
seen = [n for n in common if n in addr]
assert len(seen) >= 5, "too few of the common functions have symbols: %s" % seen
bad = [n for n in seen if rare_lo <= addr[n] < rare_hi]
assert not bad, "common functions in the rare code: %s" % bad
PY

if [ "$WINDOW" = 0 ]; then
    echo "footprint: section order checked; the window checks are the release build's (gcc, DEBUG=0)"
    exit 0
fi

# 2. A real program: the library's code mapping is not wholly resident. The
#    kernel maps a fault's whole 64 KiB window, so with the rare code untouched
#    at least the last window stays out.
cat >"$LXT_TMP/fp.py" <<'PY'
import os, sys
data = [bytes(range(i % 200)) * 3 for i in range(20000)]
data = [d + b"x" * 100 for d in data]
del data[::2]
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
so = sys.argv[1]
rss = size = None
with open("/proc/self/smaps") as f:
    cur = None
    for line in f:
        parts = line.split()
        if "-" in parts[0] and len(parts) >= 5 and ":" not in parts[0]:
            cur = parts[-1] == so and parts[1].startswith("r-x")
            if cur:
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                size = (hi - lo) // 1024
        elif cur and parts[0] == "Rss:":
            rss = int(parts[1])
print(size, rss)
PY
# The interpreter itself (not a wrapper script), in a clean environment: debug
# mode, profiles and reports run rare code on purpose.
PY=$(python3 -c 'import sys; print(sys.executable)') || lxt_fail "python3 does not run"
out=$(env -i PYTHONMALLOC=malloc LD_PRELOAD="$SO" "$PY" -S "$LXT_TMP/fp.py" "$SO") ||
    lxt_fail "python3 failed: $out"
set -- $out
[ "$1" != None ] && [ "$2" != None ] || lxt_fail "no executable mapping of $SO in smaps: $out"
[ "$2" -le $(($1 - 32)) ] ||
    lxt_fail "the library's code is resident: $2 of $1 KiB (the rare code was run or mapped)"
echo "footprint: $2 of $1 KiB of code resident"
exit 0

# Blocks freed by another thread are forgotten: tests/threads/prodcons (blocks
# made by producers, freed by consumers) and tests/threads/random (blocks passed
# between threads at random) free everything they allocate, so under
# LXMALLOC_LEAKS no leak may be attributed to a function of theirs (the thread
# TLS blocks glibc keeps are its own), with the heap profile on as well.
# Run by tests/run.sh with LXT_SO, LXT_BIN and LXT_TMP; exits 77 to be skipped.
. "$(dirname "$0")/../preload/common.sh"
[ -n "$LXT_SO" ] || lxt_skip "needs the library (LXT_SYSTEM=1)"
check=tests/prof/reports.py
for t in prodcons random; do
    exe=$LXT_BIN/threads/$t
    [ -x "$exe" ] || lxt_fail "$exe not built"
    env LD_PRELOAD="$LXT_SO" LXT_QUICK=1 LXMALLOC_LEAKS=1 LXMALLOC_LEAKS_FILE="$LXT_TMP/$t.txt" \
        LXMALLOC_PROFILE="$LXT_TMP/$t" LXMALLOC_PROFILE_RATE=16k "$exe" >"$LXT_TMP/$t.out" 2>&1 ||
        lxt_fail "$t failed under the profiler: $(tail -n 1 "$LXT_TMP/$t.out")"
    python3 "$check" leaks "$LXT_TMP/$t.txt" "$t" ||
        lxt_fail "$t: leaks reported in the program's own functions (above)"
    python3 "$check" heap "$LXT_TMP/$t.heap" >/dev/null || lxt_fail "$t: malformed .heap"
done
exit 0

# The leak report against memcheck: on tests/prof/leaky.c, run plainly under
# `valgrind --leak-check=full` and with lxmalloc's LXMALLOC_LEAKS=1, the two
# must find the same leaking functions with the same blocks and bytes.
# Run by tests/run.sh with LXT_SO, LXT_BIN and LXT_TMP; exits 77 to be skipped.
. "$(dirname "$0")/../preload/common.sh"
lxt_need valgrind
[ -n "$LXT_SO" ] || lxt_skip "needs the library (LXT_SYSTEM=1)"
exe=$LXT_BIN/prof/leaky
[ -x "$exe" ] || lxt_fail "$exe not built"
check=tests/prof/reports.py
valgrind --leak-check=full --log-file="$LXT_TMP/vg.log" "$exe" >/dev/null ||
    lxt_fail "leaky failed under valgrind"
python3 "$check" valgrind-functions "$LXT_TMP/vg.log" | grep '^leak_' >"$LXT_TMP/vg.txt"
env LD_PRELOAD="$LXT_SO" LXMALLOC_LEAKS=1 LXMALLOC_LEAKS_FILE="$LXT_TMP/lx.log" "$exe" \
    >/dev/null || lxt_fail "leaky failed under lxmalloc"
python3 "$check" leak-functions "$LXT_TMP/lx.log" leaky >"$LXT_TMP/lx.txt" ||
    lxt_fail "malformed leak report"
[ "$(wc -l <"$LXT_TMP/vg.txt")" -eq 6 ] ||
    lxt_fail "memcheck found $(wc -l <"$LXT_TMP/vg.txt") leaking functions, expected 6"
cmp -s "$LXT_TMP/vg.txt" "$LXT_TMP/lx.txt" ||
    lxt_fail "memcheck and lxmalloc disagree: $(diff "$LXT_TMP/vg.txt" "$LXT_TMP/lx.txt" | tr '\n' ' ')"
exit 0

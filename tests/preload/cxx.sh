# The C++ program tests/preload/cxx.cc (containers, strings, threads, new/delete,
# aligned new) run plainly and with lxmalloc preloaded: stdout must be identical,
# and the preloaded run must confirm that operator new is served by lxmalloc.
. "$(dirname "$0")/common.sh"
exe="$LXT_BIN/preload/cxx"
[ -x "$exe" ] || lxt_skip "$exe not built (no C++ compiler?)"
lxt_check_preload
if [ -n "$LXT_SO" ]; then
    # --require-lx only changes stderr, so the output still compares equal.
    "$exe" >"$LXT_TMP/cxx.ref" 2>"$LXT_TMP/cxx.ref.err" ||
        lxt_fail "cxx failed without LD_PRELOAD: $(tail -n 1 "$LXT_TMP/cxx.ref.err")"
    lxt_pre "$exe" --require-lx >"$LXT_TMP/cxx.lx" 2>"$LXT_TMP/cxx.lx.err" ||
        lxt_fail "$(tail -n 1 "$LXT_TMP/cxx.lx.err")"
    cmp -s "$LXT_TMP/cxx.ref" "$LXT_TMP/cxx.lx" ||
        lxt_fail "output differs from the run without LD_PRELOAD ($(diff "$LXT_TMP/cxx.ref" "$LXT_TMP/cxx.lx" | head -n 3 | tr '\n' ' '))"
else
    lxt_compare cxx "$exe"
fi
exit 0

# The leak report and the heap profile on real programs: python3 and git run
# under LXMALLOC_LEAKS and LXMALLOC_PROFILE (sampling every 4 KiB) with their
# output and exit status unchanged, and every report and profile they leave is
# well formed. python3 leaves many blocks live at exit (interned objects, the
# allocator state of modules it does not tear down); those are reported.
# Run by tests/run.sh with LXT_SO, LXT_BIN and LXT_TMP; exits 77 to be skipped.
. "$(dirname "$0")/../preload/common.sh"
[ -n "$LXT_SO" ] || lxt_skip "needs the library (LXT_SYSTEM=1)"
lxt_need python3
check=tests/prof/reports.py
# The interpreter itself rather than a wrapper script that may stand first in
# PATH (every process of a wrapper would be profiled too, slowly).
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

# run_both NAME STATUS CMD...: CMD must exit with STATUS and print the same with
# and without the profiler.
run_both() {
    name=$1
    want=$2
    shift 2
    "$@" >"$LXT_TMP/$name.ref" 2>/dev/null
    rc=$?
    [ "$rc" -eq "$want" ] || lxt_fail "$name: exit status $rc without lxmalloc, expected $want"
    env LD_PRELOAD="$LXT_SO" LXMALLOC_LEAKS=1 LXMALLOC_LEAKS_FILE="$LXT_TMP/$name.leaks" \
        LXMALLOC_PROFILE="$LXT_TMP/$name" LXMALLOC_PROFILE_RATE=4k "$@" \
        >"$LXT_TMP/$name.lx" 2>"$LXT_TMP/$name.err"
    rc=$?
    [ "$rc" -eq "$want" ] || lxt_fail "$name: exit status $rc under the profiler, expected $want"
    cmp -s "$LXT_TMP/$name.ref" "$LXT_TMP/$name.lx" || lxt_fail "$name: output differs"
    python3 "$check" leaks "$LXT_TMP/$name.leaks" || lxt_fail "$name: malformed leak report"
    python3 "$check" heap "$LXT_TMP/$name.heap" >/dev/null || lxt_fail "$name: malformed .heap"
    python3 "$check" folded "$LXT_TMP/$name.folded" || lxt_fail "$name: malformed .folded"
    python3 "$check" folded "$LXT_TMP/$name.alloc.folded" || lxt_fail "$name: malformed .alloc.folded"
}

run_both python 0 "$py" -c 'import json, re; d = {str(i): [i] * 10 for i in range(5000)}; print(len(json.dumps(d)), re.sub("a+", "b", "caaat"))'
run_both python_exit 3 "$py" -c 'import sys; x = [bytes(100) for i in range(1000)]; sys.exit(3)'
if command -v git >/dev/null 2>&1; then
    run_both git 0 git --version
fi
exit 0

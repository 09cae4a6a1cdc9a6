# fork while the profiler records: tests/fork/fork_threads (four threads
# allocating while the main thread forks 200 times, children freeing blocks of
# threads they do not have) with the leak report and the heap profile on. A
# table lock held across fork would hang a child; the parent's report and
# profile must be well formed.
# Run by tests/run.sh with LXT_SO, LXT_BIN and LXT_TMP; exits 77 to be skipped.
. "$(dirname "$0")/../preload/common.sh"
[ -n "$LXT_SO" ] || lxt_skip "needs the library (LXT_SYSTEM=1)"
exe=$LXT_BIN/fork/fork_threads
[ -x "$exe" ] || lxt_fail "$exe not built"
check=tests/prof/reports.py
env LD_PRELOAD="$LXT_SO" LXT_QUICK=1 LXMALLOC_LEAKS=1 LXMALLOC_LEAKS_FILE="$LXT_TMP/leaks.txt" \
    LXMALLOC_PROFILE="$LXT_TMP/fork" LXMALLOC_PROFILE_RATE=4k "$exe" ||
    lxt_fail "fork_threads failed under the profiler"
python3 "$check" leaks "$LXT_TMP/leaks.txt" || lxt_fail "malformed leak report"
python3 "$check" heap "$LXT_TMP/fork.heap" >/dev/null || lxt_fail "malformed .heap"
exit 0

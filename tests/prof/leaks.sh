# The leak report (LXMALLOC_LEAKS=1) of tests/prof/leaky.c must list exactly the
# planted leaks, attributed to the functions that made them, with their block
# and byte counts; blocks freed by the program (locally, by another thread,
# through realloc) must not appear. Sites whose innermost frame is in the C
# library or the loader are allowed: the thread's TLS block that glibc keeps
# cached after pthread_join is one. Then the same in debug mode, on stderr and
# through LXMALLOC_REPORT_FILE, and a C++ program's new and delete.
# Run by tests/run.sh with LXT_SO, LXT_BIN and LXT_TMP; exits 77 to be skipped.
. "$(dirname "$0")/../preload/common.sh"
[ -n "$LXT_SO" ] || lxt_skip "needs the library (LXT_SYSTEM=1)"
exe=$LXT_BIN/prof/leaky
[ -x "$exe" ] || lxt_fail "$exe not built"
check=tests/prof/reports.py
want="leak_malloc=3:300 leak_calloc=2:2000 leak_realloc=1:5000 leak_memalign=4:256"
want="$want leak_huge=1:3145728 leak_indirect=2:48"

# leaks NAME [VAR=VALUE...]: run leaky with the report in $LXT_TMP/NAME.txt.
leaks() {
    name=$1
    shift
    out=$LXT_TMP/$name.txt
    env LD_PRELOAD="$LXT_SO" LXMALLOC_LEAKS=1 LXMALLOC_LEAKS_FILE="$out" "$@" "$exe" \
        >"$LXT_TMP/$name.out" 2>"$LXT_TMP/$name.err" ||
        lxt_fail "$name: leaky failed: $(tail -n 2 "$LXT_TMP/$name.err")"
    [ "$(cat "$LXT_TMP/$name.out")" = done ] || lxt_fail "$name: leaky did not finish"
    # shellcheck disable=SC2086
    python3 "$check" leaks "$out" leaky $want || lxt_fail "$name: wrong leak report (above)"
}

leaks plain
grep -q 'leak_huge+0x[0-9a-f]* (.*leaky+0x[0-9a-f]*)$' "$LXT_TMP/plain.txt" ||
    lxt_fail "plain: frames do not give the module and offset"
leaks debug LXMALLOC_DEBUG=1
leaks perturb LXMALLOC_PERTURB=165 LXMALLOC_ZERO_ON_FREE=1

# Without LXMALLOC_LEAKS_FILE: LXMALLOC_REPORT_FILE, else standard error.
env LD_PRELOAD="$LXT_SO" LXMALLOC_LEAKS=1 LXMALLOC_REPORT_FILE="$LXT_TMP/report.txt" "$exe" \
    >/dev/null 2>"$LXT_TMP/report.err" || lxt_fail "report file: leaky failed"
# shellcheck disable=SC2086
python3 "$check" leaks "$LXT_TMP/report.txt" leaky $want || lxt_fail "report file: wrong report"
[ -s "$LXT_TMP/report.err" ] && lxt_fail "report file: something went to stderr anyway"
env LD_PRELOAD="$LXT_SO" LXMALLOC_LEAKS=1 "$exe" >/dev/null 2>"$LXT_TMP/stderr.txt" ||
    lxt_fail "stderr: leaky failed"
# shellcheck disable=SC2086
python3 "$check" leaks "$LXT_TMP/stderr.txt" leaky $want || lxt_fail "stderr: wrong report"

# Off: not a word.
env LD_PRELOAD="$LXT_SO" LXMALLOC_LEAKS=0 "$exe" >/dev/null 2>"$LXT_TMP/off.txt" ||
    lxt_fail "off: leaky failed"
[ -s "$LXT_TMP/off.txt" ] && lxt_fail "off: output with LXMALLOC_LEAKS=0: $(head -n 1 "$LXT_TMP/off.txt")"

# The command: lxmalloc run --leaks (the report on stderr), --profile FILE.
cmd=$(dirname "$LXT_SO")/lxmalloc
if [ -x "$cmd" ]; then
    "$cmd" run --leaks --profile "$LXT_TMP/cmd" -- "$exe" >/dev/null 2>"$LXT_TMP/cmd.txt" ||
        lxt_fail "lxmalloc run --leaks: leaky failed"
    # shellcheck disable=SC2086
    python3 "$check" leaks "$LXT_TMP/cmd.txt" leaky $want || lxt_fail "lxmalloc run --leaks: wrong report"
    python3 "$check" heap "$LXT_TMP/cmd.heap" >/dev/null ||
        lxt_fail "lxmalloc run --profile: no well-formed FILE.heap"
fi

# C++: operator new and new[] go through malloc, delete through free.
cxx=$LXT_BIN/prof/leaky_cxx
if [ -x "$cxx" ]; then
    env LD_PRELOAD="$LXT_SO" LXMALLOC_LEAKS=1 LXMALLOC_LEAKS_FILE="$LXT_TMP/cxx.txt" "$cxx" \
        >/dev/null || lxt_fail "c++: leaky_cxx failed"
    # The innermost frame is operator new in libstdc++ (new[] tail-calls it);
    # the program's function is the next one. libstdc++'s own emergency
    # exception pool, allocated before main, is reported too.
    python3 "$check" leaks "$LXT_TMP/cxx.txt" || lxt_fail "c++: malformed report"
    site() { # site BYTES FUNCTION: a site of BYTES in 1 block, new called by FUNCTION
        grep -A2 "^lxmalloc: $1 bytes in 1 block " "$LXT_TMP/cxx.txt" | tr '\n' ' ' |
            grep -q "#0 [^#]*_Znwm[^#]*#1 [^#]*$2"
    }
    site 40 leak_newv || lxt_fail "c++: no 40-byte leak from operator new in leak_new"
    site 1200 leak_new_arrayv || lxt_fail "c++: no 1200-byte leak from new[] in leak_new_array"
    grep -q 'keep_' "$LXT_TMP/cxx.txt" && lxt_fail "c++: a deleted object is reported"
fi
exit 0

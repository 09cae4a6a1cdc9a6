# Helpers sourced by the tests/preload/*.sh scripts (POSIX sh).
# run.sh sets LXT_SO (absolute path of liblxmalloc.so, empty with LXT_SYSTEM=1),
# LXT_BIN (directory of the test binaries) and LXT_TMP (a fresh scratch directory).
# A script exits 0 on success, 1 on failure (reason on stderr), 77 to be skipped.

lxt_fail() {
    echo "$*" >&2
    exit 1
}

lxt_skip() {
    echo "$*" >&2
    exit 77
}

# lxt_need PROGRAM: skip the test when PROGRAM is not installed.
lxt_need() {
    command -v "$1" >/dev/null 2>&1 || lxt_skip "$1 not installed"
}

# Run "$@" with the allocator under test preloaded (or plainly in system mode).
lxt_pre() {
    if [ -n "$LXT_SO" ]; then
        LD_PRELOAD="$LXT_SO" "$@"
    else
        "$@"
    fi
}

# Fail unless a preloaded process really maps liblxmalloc.so.
lxt_check_preload() {
    [ -n "$LXT_SO" ] || return 0
    [ -f "$LXT_SO" ] || lxt_fail "$LXT_SO does not exist"
    maps=$(LD_PRELOAD="$LXT_SO" cat /proc/self/maps 2>&1) || lxt_fail "cat failed under LD_PRELOAD"
    case $maps in
    *liblxmalloc.so*) ;;
    *) lxt_fail "a preloaded process does not map liblxmalloc.so (preload broken)" ;;
    esac
}

# lxt_compare NAME CMD...: run CMD plainly (it must succeed) and preloaded; stdout
# and exit status must be identical, and the preloaded run must not report a loader
# error.
lxt_compare() {
    name=$1
    shift
    ref="$LXT_TMP/$name.ref"
    out="$LXT_TMP/$name.lx"
    "$@" >"$ref" 2>"$ref.err"
    rc_ref=$?
    [ "$rc_ref" -eq 0 ] ||
        lxt_fail "$name: failed without LD_PRELOAD too (status $rc_ref: $(tail -n 1 "$ref.err"))"
    lxt_pre "$@" >"$out" 2>"$out.err"
    rc_lx=$?
    if grep -q "ld.so" "$out.err"; then
        lxt_fail "$name: loader error under LD_PRELOAD: $(grep ld.so "$out.err" | head -n 1)"
    fi
    [ "$rc_ref" -eq "$rc_lx" ] ||
        lxt_fail "$name: exit status $rc_lx under lxmalloc, $rc_ref without ($(tail -n 1 "$out.err"))"
    cmp -s "$ref" "$out" ||
        lxt_fail "$name: output differs from the run without LD_PRELOAD ($(diff "$ref" "$out" | head -n 3 | tr '\n' ' '))"
    [ -s "$ref" ] || lxt_fail "$name: no output at all (exit status $rc_ref: $(tail -n 1 "$ref.err"))"
    return 0
}

#!/bin/sh
# Runs the lxmalloc test suite: every test is a separate process under `timeout`.
# One line per test: "PASS name", "FAIL name (reason)" or "SKIP name (reason)"
# (skips are counted neither passed nor failed), then "N passed, M failed".
# Exits 1 if any test failed. Logs of every test go to $BUILD/tests/logs/.
#
# Environment:
#   BUILD=dir        build directory (default build), as in the top Makefile
#   LXT_SYSTEM=1     run the standard-name tests against the system malloc (no
#                    LD_PRELOAD; the tests that need the library are skipped)
#   LXT_TIMEOUT=s    per-test time limit (default 120; valgrind runs get 3x)
#   LXT_FILTER=pat   only run tests whose name contains pat
#   LXT_VALGRIND=0   skip the valgrind runs
#   LXT_FUZZ_RUNS=n  random inputs the fuzz replay runs after the corpus (default 200)
#   LXT_STRESS_SECONDS=s  how long each stress test runs (default 10)
#   LXT_CHURN_THREADS=n   threads the churn test creates at most (default 100000)
#   LXT_SCALE=soak   the preload tests' workloads at their soak sizes

cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
T=$BUILD/tests
LOGS=$T/logs
LIMIT=${LXT_TIMEOUT:-120}
VG_LIMIT=$((LIMIT * 3))
mkdir -p "$LOGS" || exit 2

SYSTEM=0
[ "${LXT_SYSTEM:-0}" = 1 ] && SYSTEM=1
if [ "$SYSTEM" = 1 ]; then
    SO=
else
    SO=$(cd "$BUILD" 2>/dev/null && pwd)/liblxmalloc.so
fi
export LXT_SYSTEM=$SYSTEM

TMPROOT=$(mktemp -d "${TMPDIR:-/tmp}/lxmalloc-tests.XXXXXX") || exit 2
trap 'rm -rf "$TMPROOT"' EXIT
trap 'exit 130' INT TERM

pass=0
fail=0
skip=0

# The last non-empty line of a log, on one line, shortened.
reason_of() {
    r=$(grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 | tr -d '\r' | cut -c 1-300)
    [ -n "$r" ] || r="no message"
    printf '%s' "$r"
}

signame() {
    n=$(kill -l "$1" 2>/dev/null) && printf 'SIG%s' "$n" || printf 'signal %s' "$1"
}

selected() {
    [ -z "${LXT_FILTER:-}" ] && return 0
    case $1 in *"$LXT_FILTER"*) return 0 ;; esac
    return 1
}

# run_test NAME LIMIT CMD...: run CMD under timeout, record and print the outcome.
# Exit status 77 means "skipped" (the reason is the last line of the log).
run_test() {
    name=$1
    limit=$2
    shift 2
    selected "$name" || return 0
    log=$LOGS/$(printf '%s' "$name" | tr '/ ' '__').log
    timeout -k 10 "$limit" "$@" >"$log" 2>&1 </dev/null
    rc=$?
    case $rc in
    0)
        echo "PASS $name"
        pass=$((pass + 1))
        ;;
    77)
        echo "SKIP $name ($(reason_of "$log"))"
        skip=$((skip + 1))
        ;;
    124)
        echo "FAIL $name (timed out after ${limit}s: hang?)"
        fail=$((fail + 1))
        ;;
    *)
        if [ "$rc" -gt 128 ]; then
            why="killed by $(signame $((rc - 128)))"
            [ "$rc" -eq 137 ] && why="$why (timeout or OOM)"
            last=$(reason_of "$log")
            [ "$last" != "no message" ] && why="$why: $last"
        else
            why="exit $rc: $(reason_of "$log")"
        fi
        echo "FAIL $name ($why)"
        fail=$((fail + 1))
        ;;
    esac
}

skip_test() {
    selected "$1" || return 0
    echo "SKIP $1 ($2)"
    skip=$((skip + 1))
}

missing() {
    selected "$1" || return 0
    echo "FAIL $1 (not built: $2 missing; run make test-bins)"
    fail=$((fail + 1))
}

# A C test run with the library preloaded (plainly in system mode).
run_preloaded() {
    name=$1
    exe=$T/$1
    [ -x "$exe" ] || { missing "$name" "$exe"; return; }
    if [ "$SYSTEM" = 1 ]; then
        run_test "$name" "$LIMIT" "$exe"
    elif [ ! -f "$SO" ]; then
        missing "$name" "$BUILD/liblxmalloc.so"
    else
        run_test "$name" "$LIMIT" env LD_PRELOAD="$SO" "$exe"
    fi
}

# A test linked with one of the archives, run directly.
run_linked() {
    name=$1
    exe=$T/$1
    if [ "$SYSTEM" = 1 ]; then
        skip_test "$name" "needs the library (LXT_SYSTEM=1)"
        return
    fi
    [ -x "$exe" ] || { missing "$name" "$exe"; return; }
    run_test "$name" "$LIMIT" env UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$exe"
}

# An lx_ API flavour under valgrind.
VALGRIND=
if [ "${LXT_VALGRIND:-1}" != 0 ] && command -v valgrind >/dev/null 2>&1; then
    VALGRIND=valgrind
fi
run_valgrind() {
    name=valgrind/$1
    exe=$T/$1
    if [ "$SYSTEM" = 1 ]; then
        skip_test "$name" "needs the library (LXT_SYSTEM=1)"
        return
    fi
    if [ -z "$VALGRIND" ]; then
        skip_test "$name" "valgrind not installed"
        return
    fi
    [ -x "$exe" ] || { missing "$name" "$exe"; return; }
    run_test "$name" "$VG_LIMIT" env LXT_QUICK=1 valgrind -q --error-exitcode=99 \
        --leak-check=no "$exe"
}

base() {
    b=${1##*/}
    printf '%s' "${b%.*}"
}

# 1. Layer unit tests (linked with liblxmalloc_api.a, run directly).
for src in tests/unit/*.c; do
    [ -f "$src" ] || continue
    run_linked "unit/$(base "$src")"
done

# 1b. Fault injection (linked with the LX_FAULT_INJECT=1 archive, run directly).
for src in tests/fault/*.c; do
    [ -f "$src" ] || continue
    run_linked "fault/$(base "$src")"
done

# 1c. The fuzz target without libFuzzer: replay the seed corpus, then random inputs.
name=fuzz/replay
if selected "$name"; then
    if [ "$SYSTEM" = 1 ]; then
        skip_test "$name" "needs the library (LXT_SYSTEM=1)"
    elif [ ! -x "$T/fuzz/fuzz_ops" ]; then
        missing "$name" "$T/fuzz/fuzz_ops"
    else
        run_test "$name" "$LIMIT" "$T/fuzz/fuzz_ops" tests/fuzz/corpus -r "${LXT_FUZZ_RUNS:-200}"
    fi
fi

# 2. API conformance on the standard names, preloaded; then the UBSan flavour.
for src in tests/api/*.c; do
    run_preloaded "api/$(base "$src")"
done
for src in tests/api/*.c; do
    run_linked "api/$(base "$src")_ubsan"
done

# 3. Threads and fork, preloaded.
for src in tests/threads/*.c tests/fork/*.c; do
    d=${src%/*}
    run_preloaded "${d##*/}/$(base "$src")"
done

# 3b. Stress, preloaded, each for LXT_STRESS_SECONDS (default 10; make soak: minutes).
for src in tests/stress/*.c; do
    [ -f "$src" ] || continue
    run_preloaded "stress/$(base "$src")"
done

# 4. Static linking against liblxmalloc.a.
for src in tests/static/*.c; do
    run_linked "static/$(base "$src")"
done

# 5. Real programs, output compared with the run without LD_PRELOAD.
ABS_T=$(cd "$T" && pwd)
for script in tests/preload/*.sh; do
    [ "$(base "$script")" = common ] && continue
    name=preload/$(base "$script")
    selected "$name" || continue
    if [ "$SYSTEM" = 0 ] && [ ! -f "$SO" ]; then
        missing "$name" "$BUILD/liblxmalloc.so"
        continue
    fi
    tmp=$TMPROOT/$(base "$script")
    mkdir -p "$tmp"
    run_test "$name" "$LIMIT" env LXT_SO="$SO" LXT_BIN="$ABS_T" LXT_TMP="$tmp" sh "$script"
done

# 5b. memcheck must find the planted errors of tests/valgrind/planted.c, and only them.
for script in tests/valgrind/*.sh; do
    [ -f "$script" ] || continue
    name=valgrind/$(base "$script")
    selected "$name" || continue
    if [ -z "$VALGRIND" ]; then
        skip_test "$name" "valgrind not installed or LXT_VALGRIND=0"
        continue
    fi
    tmp=$TMPROOT/vg-$(base "$script")
    mkdir -p "$tmp"
    run_test "$name" "$VG_LIMIT" env LXT_SO="$SO" LXT_BIN="$ABS_T" LXT_TMP="$tmp" sh "$script"
done

# 6. The lx_ API flavours of the API and thread tests under valgrind (the
#    RLIMIT_AS test is left out: valgrind needs more address space than it allows).
for src in tests/api/*.c tests/threads/*.c; do
    [ "$(base "$src")" = rlimit ] && continue
    d=${src%/*}
    run_valgrind "${d##*/}/$(base "$src")_lx"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

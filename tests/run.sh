#!/bin/sh
# Runs the lxmalloc test suite: every test is a separate process under `timeout`.
# One line per test: "PASS name", "FAIL name (reason)" or "SKIP name (reason)"
# (skips are counted neither passed nor failed), then "N passed, M failed".
# Exits 1 if any test failed. Logs of every test go to $BUILD/tests/logs/, with
# how long each took in times.txt there.
#
# Environment:
#   BUILD=dir        build directory (default build), as in the top Makefile
#   LXT_DEBUG=n      the library's LX_DEBUG level, the Makefile's DEBUG (default 0);
#                    checks of the release build's code layout skip above 0
#   LXT_SYSTEM=1     run the standard-name tests against the system malloc (no
#                    LD_PRELOAD; the tests that need the library are skipped)
#   LXT_TIMEOUT=s    per-test time limit (default 60; valgrind runs get 3x)
#   LXT_BUDGET=s     time limit of the whole run (default 1200): tests that would
#                    start after it are reported as failed, not run
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
LIMIT=${LXT_TIMEOUT:-60}
BUDGET=${LXT_BUDGET:-1200}
START=$(date +%s)
VG_LIMIT=$((LIMIT * 3))
mkdir -p "$LOGS" || exit 2
: >"$LOGS/times.txt"

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

# The end of a failed test's log, indented under its FAIL line: the one line
# above is often the shell's note of the signal, not the test's own message.
log_tail() {
    grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 12 | tr -d '\r' | cut -c 1-300 |
        sed 's/^/    | /'
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
    if [ $(($(date +%s) - START)) -ge "$BUDGET" ]; then
        echo "FAIL $name (not run: the suite went over its ${BUDGET}s budget)"
        fail=$((fail + 1))
        return 0
    fi
    log=$LOGS/$(printf '%s' "$name" | tr '/ ' '__').log
    t0=$(date +%s)
    timeout -k 10 "$limit" "$@" >"$log" 2>&1 </dev/null
    rc=$?
    echo "$name $(($(date +%s) - t0))s rc=$rc" >>"$LOGS/times.txt"
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
        log_tail "$log"
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
        log_tail "$log"
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

# run_preloaded TEST [VAR=VALUE...]: a C test run with the library preloaded
# (plainly in system mode), with extra environment settings if given.
run_preloaded() {
    exe=$T/$1
    name=$1
    shift
    if [ $# -gt 0 ]; then
        name="$name[$(echo "$*" | tr ' ' ',')]"
    fi
    [ -x "$exe" ] || { missing "$name" "$exe"; return; }
    if [ "$SYSTEM" = 1 ]; then
        run_test "$name" "$LIMIT" env "$@" "$exe"
    elif [ ! -f "$SO" ]; then
        missing "$name" "$BUILD/liblxmalloc.so"
    else
        run_test "$name" "$LIMIT" env LD_PRELOAD="$SO" "$@" "$exe"
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
NO_VALGRIND="valgrind not installed"
if [ "${LXT_VALGRIND:-1}" = 0 ]; then
    NO_VALGRIND="disabled with LXT_VALGRIND=0"
elif command -v valgrind >/dev/null 2>&1; then
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
        skip_test "$name" "$NO_VALGRIND"
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

# 1d. The example programs (linked with liblxmalloc_api.a, run directly).
for src in examples/*.c; do
    [ -f "$src" ] || continue
    run_linked "examples/$(base "$src")"
done

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

# 3b. The same under other settings (glibc's variable names, which lxmalloc also
#     reads): one arena and immediate trimming, tiny mmap threshold, perturbed memory.
run_preloaded threads/random MALLOC_ARENA_MAX=1 MALLOC_TRIM_THRESHOLD_=0
run_preloaded threads/prodcons MALLOC_MMAP_THRESHOLD_=4096 MALLOC_TRIM_THRESHOLD_=0
run_preloaded fork/fork_threads MALLOC_ARENA_MAX=1
run_preloaded api/calloc MALLOC_PERTURB_=165
run_preloaded api/realloc MALLOC_PERTURB_=165 MALLOC_MMAP_THRESHOLD_=4096
#     lxmalloc's own settings: no purge delay and no huge-block cache, transparent
#     huge pages, segments taken from brk.
run_preloaded api/calloc LXMALLOC_PURGE_DELAY=0 LXMALLOC_HUGE_CACHE=0
run_preloaded threads/prodcons LXMALLOC_PURGE_DELAY=0 LXMALLOC_HUGE_CACHE=0
run_preloaded api/sizes LXMALLOC_THP=1
run_preloaded threads/trim LXMALLOC_PURGE_BATCH=0 LXMALLOC_PURGE_DELAY=0
run_preloaded api/basic LXMALLOC_SOURCE=brk
run_preloaded api/rlimit LXMALLOC_SOURCE=brk
run_preloaded api/sbrk LXMALLOC_SOURCE=brk
run_preloaded threads/random LXMALLOC_SOURCE=brk
run_preloaded threads/trim LXMALLOC_PURGE_DELAY=0 MALLOC_ARENA_MAX=1
run_preloaded fork/fork_threads LXMALLOC_SOURCE=brk MALLOC_TRIM_THRESHOLD_=0

# 3c. Stress, preloaded, each for LXT_STRESS_SECONDS (default 10; make soak: minutes).
for src in tests/stress/*.c; do
    [ -f "$src" ] || continue
    run_preloaded "stress/$(base "$src")"
done

# 4. Static linking against liblxmalloc.a (with the C library linked dynamically,
#    and fully static).
for src in tests/static/*.c; do
    run_linked "static/$(base "$src")"
    run_linked "static/$(base "$src")_full"
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

# 5a. The lxmalloc command: maps, run --trace, plot (tests/cmd/*.sh), on the
#     programs of tests/cmd/*.c.
ABS_CMD=$(cd "$BUILD" && pwd)/lxmalloc
for script in tests/cmd/*.sh; do
    [ -f "$script" ] || continue
    name=cmd/$(base "$script")
    selected "$name" || continue
    tmp=$TMPROOT/cmd-$(base "$script")
    mkdir -p "$tmp"
    run_test "$name" "$LIMIT" env LXT_SO="$SO" LXT_BIN="$ABS_T" LXT_TMP="$tmp" \
        LXT_CMD="$ABS_CMD" sh "$script"
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

# 5c. The leak report and heap profile (LXMALLOC_LEAKS, LXMALLOC_PROFILE): planted
#     leaks, against memcheck, estimated totals, real programs, fork.
for script in tests/prof/*.sh; do
    [ -f "$script" ] || continue
    name=prof/$(base "$script")
    selected "$name" || continue
    if [ "$SYSTEM" = 1 ]; then
        skip_test "$name" "needs the library (LXT_SYSTEM=1)"
        continue
    fi
    [ -f "$SO" ] || { missing "$name" "$BUILD/liblxmalloc.so"; continue; }
    lim=$LIMIT
    [ "$(base "$script")" = valgrind ] && lim=$VG_LIMIT
    tmp=$TMPROOT/prof-$(base "$script")
    mkdir -p "$tmp"
    run_test "$name" "$lim" env LXT_SO="$SO" LXT_BIN="$ABS_T" LXT_TMP="$tmp" sh "$script"
done

# 6. The lx_ API flavours of the API and thread tests under valgrind (the
#    RLIMIT_AS test is left out: valgrind needs more address space than it allows;
#    so is the heap-error test, whose cases run in re-executed children).
for src in tests/api/*.c tests/threads/*.c; do
    case $(base "$src") in rlimit | check) continue ;; esac
    d=${src%/*}
    run_valgrind "${d##*/}/$(base "$src")_lx"
done

# 7. The misuse catalogue: each program commits one heap bug; preloaded, in
#    default and in debug mode, it must die of SIGABRT with the diagnosis its
#    "// expect MODE: text" lines give (every line of the mode must match, @P@ is
#    the address it announced), or exit 0 where the line says "none" (a bug that
#    mode does not see), or exit 0 with the diagnosis printed where the line
#    starts with "exit " (for MALLOC_CHECK_=1). A "// env: VAR=value" line adds
#    to the environment. Under LXT_SYSTEM=1 they are skipped: glibc's own
#    results are in docs/SECURITY.md (tests/misuse/compare.sh).
misuse_check() { # misuse_check SRC MODE LOG RC -> 0 if the outcome is right
    src=$1
    mode=$2
    log=$3
    rc=$4
    addr=$(sed -n 's/^misuse-address //p' "$log" | head -n 1)
    expects=$(sed -n "s|^// expect $mode: ||p" "$src")
    [ -n "$expects" ] || { echo "no expectation for $mode mode" >>"$log"; return 1; }
    want_rc=134
    case $expects in
    none) [ "$rc" -eq 0 ] || { echo "expected a clean exit, got status $rc" >>"$log"; return 1; }
        return 0 ;;
    exit\ *) want_rc=0 ;;
    esac
    [ "$rc" -eq "$want_rc" ] || { echo "expected exit status $want_rc, got $rc" >>"$log"; return 1; }
    echo "$expects" | while IFS= read -r line; do
        line=${line#exit }
        text=$(printf '%s' "$line" | sed "s|@P@|$addr|g")
        grep -qF -- "$text" "$log" || { echo "missing diagnosis: $text" >>"$log"; exit 1; }
    done
}

run_misuse() { # run_misuse SRC MODE
    src=$1
    mode=$2
    name=misuse/$(base "$src")
    [ "$mode" = debug ] && name=$name/debug
    selected "$name" || return 0
    if [ "$SYSTEM" = 1 ]; then
        skip_test "$name" "glibc's results: tests/misuse/compare.sh"
        return
    fi
    exe=$T/misuse/$(base "$src")
    [ -x "$exe" ] || { missing "$name" "$exe"; return; }
    [ -f "$SO" ] || { missing "$name" "$BUILD/liblxmalloc.so"; return; }
    log=$LOGS/$(printf '%s' "$name" | tr '/ ' '__').log
    dbg=0
    [ "$mode" = debug ] && dbg=1
    extra=$(sed -n 's|^// env: ||p' "$src")
    # In a subshell without core files. The trailing `exit $?` keeps dash from
    # exec'ing the last command (it would then lose the subshell's redirections,
    # and print "Aborted" on the terminal).
    here=$(pwd)
    # shellcheck disable=SC2086
    (cd "$TMPROOT" && ulimit -c 0 && timeout -k 10 "$LIMIT" env LD_PRELOAD="$SO" \
        LXMALLOC_DEBUG=$dbg $extra "$here/$exe"; exit $?) >"$log" 2>&1 </dev/null
    rc=$?
    if misuse_check "$src" "$mode" "$log" "$rc"; then
        echo "PASS $name"
        pass=$((pass + 1))
    else
        echo "FAIL $name ($(reason_of "$log"))"
        log_tail "$log"
        fail=$((fail + 1))
    fi
}

for src in tests/misuse/*.c; do
    run_misuse "$src" default
    run_misuse "$src" debug
done

# 8. Correct programs in debug mode: the thread, fork and some API tests must run
#    clean with canaries and quarantine on (realloc and rlimit are left out: they
#    check that freed memory comes back, which the quarantine delays on purpose).
for src in tests/threads/*.c tests/fork/*.c tests/api/basic.c tests/api/calloc.c \
    tests/api/align.c tests/api/sizes.c; do
    d=${src%/*}
    name=debug/${d##*/}/$(base "$src")
    selected "$name" || continue
    if [ "$SYSTEM" = 1 ]; then
        skip_test "$name" "needs the library (LXT_SYSTEM=1)"
        continue
    fi
    exe=$T/${d##*/}/$(base "$src")
    [ -x "$exe" ] || { missing "$name" "$exe"; continue; }
    run_test "$name" "$LIMIT" env LXT_QUICK=1 LXMALLOC_DEBUG=1 LD_PRELOAD="$SO" "$exe"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

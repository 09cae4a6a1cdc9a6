# The sampled heap profile (LXMALLOC_PROFILE) of tests/prof/sampled.c, which
# allocates about 200 MiB in blocks of 16 bytes to 2 MiB and frees half: the
# totals estimated from FILE.heap (unsampled as pprof does) must be within 10% of
# the true ones at a 16 KiB rate, and within 1% when every block is sampled;
# the folded files must name the allocating functions; the dump made on
# LXMALLOC_PROFILE_SIGNAL must hold the first phase of the program; %p must
# become the process id.
# Run by tests/run.sh with LXT_SO, LXT_BIN and LXT_TMP; exits 77 to be skipped.
. "$(dirname "$0")/../preload/common.sh"
[ -n "$LXT_SO" ] || lxt_skip "needs the library (LXT_SYSTEM=1)"
exe=$LXT_BIN/prof/sampled
[ -x "$exe" ] || lxt_fail "$exe not built"
check=tests/prof/reports.py

# profile NAME RATE TOLERANCE [VAR=VALUE...]
profile() {
    name=$1
    rate=$2
    tol=$3
    shift 3
    prefix=$LXT_TMP/$name
    env LD_PRELOAD="$LXT_SO" LXMALLOC_PROFILE="$prefix" LXMALLOC_PROFILE_RATE="$rate" \
        LXMALLOC_PROFILE_SIGNAL=USR2 "$@" "$exe" >"$prefix.out" 2>"$prefix.err" ||
        lxt_fail "$name: sampled failed: $(tail -n 2 "$prefix.err")"
    total=$(sed -n 's/^total //p' "$prefix.out")
    live=$(sed -n 's/^live //p' "$prefix.out")
    phase1=$(sed -n 's/^phase1 //p' "$prefix.out")
    [ -n "$total" ] && [ -n "$live" ] && [ -n "$phase1" ] || lxt_fail "$name: no totals printed"
    python3 "$check" heap "$prefix.heap" "$total" "$live" "$tol" ||
        lxt_fail "$name: the profile at exit is wrong (above)"
    # At the signal nothing was freed yet: allocated and live are both phase 1.
    python3 "$check" heap "$prefix.signal.heap" "$phase1" "$phase1" "$tol" ||
        lxt_fail "$name: the profile dumped on the signal is wrong (above)"
    python3 "$check" folded "$prefix.folded" main alloc_small alloc_medium alloc_large ||
        lxt_fail "$name: live folded stacks wrong"
    python3 "$check" folded "$prefix.alloc.folded" main alloc_small alloc_medium alloc_large ||
        lxt_fail "$name: allocated folded stacks wrong"
    # Outermost first.
    grep -q '^.*main;alloc_large [0-9]*$' "$prefix.folded" ||
        lxt_fail "$name: folded stacks are not outermost first"
    ls "$prefix".*.tmp >/dev/null 2>&1 && lxt_fail "$name: temporary files left behind"
    return 0
}

# At 16 KiB the first phase (40 MiB) gets about 2600 samples: a standard error
# near 2%, so 10% is five of them.
profile sampled 16k 0.10
profile every 1 0.01
profile debug 16k 0.10 LXMALLOC_DEBUG=1

# gperftools' pprof reads FILE.heap (when installed: Debian's google-perftools):
# it names the functions and unsamples the totals itself.
pprof=
for p in google-pprof pprof; do
    if command -v "$p" >/dev/null 2>&1 && "$p" --help 2>&1 | grep -q -- '--alloc_space'; then
        pprof=$p
        break
    fi
done
if [ -n "$pprof" ]; then
    prefix=$LXT_TMP/sampled
    "$pprof" --text --alloc_space "$exe" "$prefix.heap" >"$prefix.pprof" 2>&1 ||
        lxt_fail "pprof cannot read $prefix.heap: $(tail -n 1 "$prefix.pprof")"
    for f in alloc_small alloc_medium alloc_large; do
        grep -q " $f\$" "$prefix.pprof" || lxt_fail "pprof does not name $f"
    done
    mib=$(sed -n 's/^Total: \([0-9.]*\) MB$/\1/p' "$prefix.pprof")
    total=$(sed -n 's/^total //p' "$prefix.out")
    python3 -c "import sys; e, t = float(sys.argv[1]), int(sys.argv[2]) / 2**20; sys.exit(abs(e - t) > 0.1 * t)" \
        "${mib:-0}" "$total" || lxt_fail "pprof estimates ${mib:-no} MiB allocated, true $total bytes"
fi

# %p in the name: one set of files per process.
env LD_PRELOAD="$LXT_SO" LXMALLOC_PROFILE="$LXT_TMP/pid.%p" LXMALLOC_PROFILE_SIGNAL=USR2 \
    "$exe" >/dev/null ||
    lxt_fail "%p: sampled failed"
n=$(ls "$LXT_TMP"/pid.[0-9]*[0-9].heap 2>/dev/null | wc -l)
[ "$n" -eq 1 ] || lxt_fail "%p: expected one pid.<pid>.heap, found $n"
exit 0

#!/bin/sh
# Runs the misuse catalogue under glibc (no LD_PRELOAD), lxmalloc in default mode
# and lxmalloc in debug mode, and prints how each run ended and the first line
# of its diagnosis. For docs/SECURITY.md; tests/run.sh does the checking.
#   sh tests/misuse/compare.sh            (after make test-bins)
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
SO=$(cd "$BUILD" && pwd)/liblxmalloc.so
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# shellcheck disable=SC2086
for src in tests/misuse/*.c; do
    name=$(basename "$src" .c)
    exe=$BUILD/tests/misuse/$name
    extra=$(sed -n 's|^// env: ||p' "$src")
    for mode in glibc default debug; do
        case $mode in
        glibc) (ulimit -c 0; timeout 60 env $extra "$exe"; exit $?) >"$out" 2>&1 </dev/null ;;
        default) (ulimit -c 0; timeout 60 env $extra LD_PRELOAD="$SO" "$exe"; exit $?) >"$out" 2>&1 </dev/null ;;
        debug) (ulimit -c 0; timeout 60 env $extra LD_PRELOAD="$SO" LXMALLOC_DEBUG=1 "$exe"; exit $?) >"$out" 2>&1 </dev/null ;;
        esac
        rc=$?
        msg=$(grep -v '^misuse-address\|^lxmalloc:   \|^lxmalloc: aborting\|^still running' "$out" | head -n 1 | cut -c 1-110)
        case $rc in
        0) how="exit 0" ;;
        134) how="SIGABRT" ;;
        139) how="SIGSEGV" ;;
        *) how="status $rc" ;;
        esac
        printf '%-22s %-8s %-8s %s\n' "$name" "$mode" "$how" "$msg"
    done
done

# valgrind's memcheck on tests/valgrind/planted.c, which has exactly one leak and
# one invalid read: memcheck must report those two errors and nothing else,
#   lx        the program on the lx_ API, linked with liblxmalloc_api.a;
#   static    on the standard names, linked with liblxmalloc.a;
#   preload   LD_PRELOAD=liblxmalloc.so;
#   replaced  LD_PRELOAD plus --soname-synonyms=somalloc=liblxmalloc.so: memcheck
#             replaces lxmalloc's malloc family with its own (a check that every
#             name it needs is exported).
# memcheck replaces any malloc it finds outside libc too, unless told
# --soname-synonyms=somalloc=nouserintercepts: static and preload pass that, so
# lxmalloc serves malloc there and describes its blocks with client requests
# (src/track.h), as it does on the lx_ API.
# Run by tests/run.sh with LXT_BIN (binaries) and LXT_SO; exits 77 to be skipped.
. "$(dirname "$0")/../preload/common.sh"
lxt_need valgrind
[ -n "$LXT_SO" ] || lxt_skip "needs the library (LXT_SYSTEM=1)"

VG="valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite"
VG="$VG --errors-for-leak-kinds=definite --error-exitcode=99"

# expect NAME PRELOAD VALGRIND-ARGS... PROGRAM: memcheck's report must hold the
# two planted errors only. PRELOAD is LD_PRELOAD for the program ("" for none).
expect() {
    name=$1
    pre=$2
    shift 2
    log="$LXT_TMP/$name.log"
    env ${pre:+LD_PRELOAD="$pre"} $VG --log-file="$log" "$@" >"$LXT_TMP/$name.out" 2>&1
    rc=$?
    [ "$rc" -eq 99 ] || lxt_fail "$name: valgrind exited $rc, expected 99 (errors found)"
    grep -q '^checksum [0-9]*$' "$LXT_TMP/$name.out" && grep -q '^done$' "$LXT_TMP/$name.out" ||
        lxt_fail "$name: the program did not run to the end: $(tail -n 2 "$LXT_TMP/$name.out")"
    reads=$(grep -c 'Invalid read of size 1' "$log")
    [ "$reads" -eq 1 ] || lxt_fail "$name: $reads invalid reads reported, expected 1"
    grep -q 'Address .* is 32 bytes inside a block of size 64 free' "$log" ||
        lxt_fail "$name: the invalid read is not placed in the freed 64-byte block"
    grep -Eq 'definitely lost: (40|48) bytes in 1 blocks' "$log" ||
        lxt_fail "$name: the leak is not reported ($(grep 'definitely lost' "$log"))"
    grep -q 'ERROR SUMMARY: 2 errors from 2 contexts' "$log" ||
        lxt_fail "$name: $(grep 'ERROR SUMMARY' "$log"), expected exactly the 2 planted"
}

expect lx "" "$LXT_BIN/valgrind/planted_lx"
OWN=--soname-synonyms=somalloc=nouserintercepts
expect static "" $OWN "$LXT_BIN/valgrind/planted_static"
expect preload "$LXT_SO" $OWN "$LXT_BIN/valgrind/planted"
# lxmalloc's blocks are their usable size (48 bytes here); memcheck's own are 40.
for m in lx static preload; do
    grep -q 'definitely lost: 48 bytes' "$LXT_TMP/$m.log" ||
        lxt_fail "$m: the leak is not lxmalloc's 48-byte block (is lxmalloc serving malloc?)"
done
expect replaced "$LXT_SO" --soname-synonyms=somalloc=liblxmalloc.so "$LXT_BIN/valgrind/planted"
grep -q 'definitely lost: 40 bytes' "$LXT_TMP/replaced.log" ||
    lxt_fail "replaced: the leak is not memcheck's own 40-byte block"
exit 0

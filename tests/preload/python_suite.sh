# CPython's own tests for containers and strings (Debian's libpython3.11-testsuite,
# run with Debian's /usr/bin/python3, PYTHONMALLOC=malloc so every object goes
# through malloc) under lxmalloc: the verbose unittest report, timings removed,
# must match the run without LD_PRELOAD byte for byte. LXT_SCALE=soak runs more
# modules.
. "$(dirname "$0")/common.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || lxt_skip "$PY not installed"
"$PY" -c 'import test.test_list' 2>/dev/null ||
    lxt_skip "CPython's test package is not installed (apt-get install libpython3.11-testsuite)"
lxt_check_preload
export PYTHONHASHSEED=0 PYTHONMALLOC=malloc PYTHONDONTWRITEBYTECODE=1 LC_ALL=C.UTF-8
cd "$LXT_TMP" || lxt_fail "no scratch directory"

MODS="test_list test_dict test_set test_tuple test_deque test_string test_unicode test_bytes
      test_userstring test_collections test_ordered_dict test_re test_heapq"
if [ "${LXT_SCALE:-}" = soak ]; then
    MODS="$MODS test_array test_unicodedata test_userdict test_userlist test_bisect test_json
          test_pickle test_sort test_itertools test_format test_fstring test_codecs"
fi
set --
for m in $MODS; do
    "$PY" -c "import test.$m" 2>/dev/null && set -- "$@" "test.$m"
done
[ $# -gt 0 ] || lxt_skip "none of the test modules imports"

# The report is on stderr; the exit status goes last; "Ran N tests in 1.234s"
# loses its time, the only part that may differ.
lxt_compare unittest sh -c '{ "$0" -m unittest -v "$@" 2>&1; echo "exit status $?"; } |
    sed -E "s/^(Ran [0-9]+ tests?) in [0-9.]+s\$/\1/"' "$PY" "$@"
exit 0

# A shell loop (string building, arithmetic, command substitution, pipes) under
# lxmalloc; output must match the run without LD_PRELOAD.
. "$(dirname "$0")/common.sh"
lxt_need sh
lxt_check_preload

lxt_compare loop sh -c '
s=""
i=0
while [ $i -lt 3000 ]; do
    s="$s$i,"
    i=$((i + 1))
    case $((i % 100)) in 0) v=$(echo "$s" | wc -c); echo "$i $v" ;; esac
done
echo "${#s}"
for w in $(seq 1 500); do echo "word$w"; done | sort | uniq -c | tail -n 3
set -- $(seq 1 2000)
echo "$# $1 $2000"
'
if command -v bash >/dev/null 2>&1; then
    lxt_compare bash bash -c '
declare -A m
for ((i = 0; i < 20000; i++)); do m[k$((i % 997))]+="$i "; done
echo "${#m[@]} ${#m[k5]}"
a=(); for ((i = 0; i < 5000; i++)); do a+=("item$i"); done
echo "${#a[@]} ${a[4999]}"
'
fi
exit 0

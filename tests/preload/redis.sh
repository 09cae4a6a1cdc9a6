# redis-server under lxmalloc on a unix socket (no TCP port): redis-benchmark
# drives a bounded number of requests (5000 per test, 200000 with
# LXT_SCALE=soak) from 20 clients, then a fixed command script builds strings,
# lists, sets, sorted sets and hashes of many sizes, deletes half, and queries
# them. What the server answers (not the benchmark's timings) must match a server
# run without LD_PRELOAD byte for byte; the server, redis-cli and the benchmark
# all run on lxmalloc in the preloaded run.
. "$(dirname "$0")/common.sh"
lxt_need redis-server
lxt_need redis-cli
lxt_need redis-benchmark
lxt_check_preload
REQS=5000
[ "${LXT_SCALE:-}" = soak ] && REQS=200000

# The commands: awk writes them once; both runs replay the same file.
awk 'BEGIN {
    for (i = 0; i < 3000; i++) {
        printf "SET s:%d %s\n", i, substr("abcdefghijklmnopqrstuvwxyz0123456789", 1, 1 + i % 36) i
        printf "RPUSH l:%d", i % 50; for (k = 0; k < i % 40; k++) printf " e%d_%d", i, k; print ""
        printf "SADD set:%d m%d m%d m%d\n", i % 70, i, i * 3, i % 11
        printf "ZADD z:%d %d member%d\n", i % 30, (i * 7919) % 1000, i
        printf "HSET h:%d f%d %d g%d %s\n", i % 90, i, i * i, i, "value" i
        printf "APPEND big:%d %s\n", i % 5, "chunk-" i "-0123456789abcdef"
    }
    for (i = 0; i < 3000; i += 2) { printf "DEL s:%d\n", i; printf "HDEL h:%d f%d\n", i % 90, i }
    for (i = 0; i < 50; i++) { printf "LTRIM l:%d 5 -5\n", i; printf "LPOP l:%d 3\n", i }
    print "DBSIZE"
    for (i = 1; i < 3000; i += 97) printf "GET s:%d\n", i
    for (i = 0; i < 50; i += 7) { printf "LLEN l:%d\n", i; printf "LRANGE l:%d 0 4\n", i }
    for (i = 0; i < 70; i += 9) { printf "SCARD set:%d\n", i; printf "SORT set:%d ALPHA LIMIT 0 5\n", i }
    for (i = 0; i < 30; i += 4) printf "ZRANGE z:%d 0 4 WITHSCORES\n", i
    for (i = 0; i < 90; i += 11) { printf "HLEN h:%d\n", i; printf "HGET h:%d f%d\n", i, i + 90 }
    for (i = 0; i < 5; i++) printf "STRLEN big:%d\n", i
    print "DEBUG DIGEST"
}' >"$LXT_TMP/commands.txt"

cat >"$LXT_TMP/session.sh" <<'SCRIPT'
dir=$1
reqs=$2
sock=$dir/redis.sock
rm -f "$sock"
redis-server --port 0 --unixsocket "$sock" --save "" --appendonly no --daemonize no \
    --enable-debug-command yes --dir "$dir" --logfile "$dir/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
i=0
until [ "$(redis-cli -s "$sock" ping 2>/dev/null)" = PONG ]; do
    i=$((i + 1))
    [ $i -lt 200 ] || { echo "redis-server did not start" >&2; exit 1; }
    sleep 0.05
done
redis-benchmark -s "$sock" -n "$reqs" -c 20 -q \
    -t set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,zadd,lrange_100,mset >/dev/null ||
    { echo "redis-benchmark failed" >&2; exit 1; }
echo "after benchmark: $(redis-cli -s "$sock" dbsize) keys, counter $(redis-cli -s "$sock" get counter:__rand_int__)"
redis-cli -s "$sock" debug digest
redis-cli -s "$sock" <"$dir/commands.txt" | md5sum
redis-cli -s "$sock" <"$dir/commands.txt" | tail -n 40
redis-cli -s "$sock" flushall
redis-cli -s "$sock" dbsize
redis-cli -s "$sock" shutdown nosave >/dev/null 2>&1
wait $pid
echo "server exit status $?"
SCRIPT

lxt_compare redis sh "$LXT_TMP/session.sh" "$LXT_TMP" "$REQS"
exit 0

# python3 runs a deterministic workload script and a threaded one-liner under
# lxmalloc (PYTHONMALLOC=malloc, so every object goes through malloc); output must
# match the run without LD_PRELOAD byte for byte, and ctypes must see lx_malloc.
. "$(dirname "$0")/common.sh"
lxt_need python3
lxt_check_preload

# Call the interpreter itself, not a wrapper script (e.g. pyenv shims).
PY=$(python3 -c 'import sys; print(sys.executable)') || lxt_fail "python3 does not run"
export PYTHONHASHSEED=0 PYTHONMALLOC=malloc PYTHONDONTWRITEBYTECODE=1

if [ -n "$LXT_SO" ]; then
    lxt_pre "$PY" -c 'import ctypes; ctypes.CDLL(None).lx_malloc' ||
        lxt_fail "python3 under LD_PRELOAD does not see lx_malloc"
fi

lxt_compare workload "$PY" "$(dirname "$0")/workload.py"

lxt_compare threads "$PY" -c '
import threading, json, hashlib
res = [None] * 8
def work(k):
    d = {}
    for i in range(30000):
        d[str(i * k)] = [i] * (i % 5) + ["x" * (i % 40)]
    s = json.dumps(d, sort_keys=True)
    res[k] = (len(d), len(s), hashlib.sha1(s.encode()).hexdigest()[:12])
ts = [threading.Thread(target=work, args=(k,)) for k in range(8)]
for t in ts: t.start()
for t in ts: t.join()
for r in res: print(*r)
'
exit 0

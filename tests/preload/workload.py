# Deterministic Python workload for the preload test: dicts, lists, strings, json,
# sorting, big integers, sets, classes and regular expressions. Prints digests only.
import hashlib
import json
import re
import sys
from collections import Counter, OrderedDict, defaultdict, deque


def digest(obj):
    return hashlib.sha256(repr(obj).encode()).hexdigest()[:16]


def lcg(seed):
    x = seed
    while True:
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield x


def main():
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    rnd = lcg(12345)
    # Dicts and lists of many sizes.
    d = {}
    for i in range(100000):
        d["k%d" % (next(rnd) % 50000)] = [i] * (i % 7)
    print("dict", len(d), digest(sorted(d.items())[:1000]))
    lists = [[next(rnd) % 1000 for _ in range(n % 200)] for n in range(2000)]
    print("lists", sum(map(len, lists)), digest([sorted(l) for l in lists[::97]]))

    # Strings: building, splitting, joining, formatting.
    words = ["w%x" % (next(rnd) % 100000) for _ in range(50000)]
    text = " ".join(words)
    parts = text.split(" ")
    c = Counter(parts)
    print("strings", len(text), len(c), c.most_common(3))
    up = text.upper().replace("W", "<>")
    print("replace", len(up), hashlib.md5(up.encode()).hexdigest())
    print("regex", len(re.findall(r"w[0-9a-f]{3}\b", text)))

    # JSON round trip of a nested structure.
    doc = {"items": [{"id": i, "name": "item-%d" % i, "tags": ["t%d" % (i % 13)] * (i % 5),
                      "vals": [i * 0.5, i // 3, None, True]} for i in range(10000)],
           "meta": OrderedDict((str(i), i * i) for i in range(1000))}
    s = json.dumps(doc, sort_keys=True)
    back = json.loads(s)
    print("json", len(s), back["items"][1234]["name"], digest(back["meta"]["999"]))

    # Sorting with keys, tuples, stability.
    recs = [(next(rnd) % 100, "r%d" % i, i) for i in range(50000)]
    recs.sort(key=lambda r: (r[0], r[1]))
    print("sort", digest(recs[::1000]))

    # Big integers.
    f = 1
    for i in range(1, 3000):
        f *= i
    print("factorial digits", len(str(f)), str(f)[:20], f % 1000000007)
    a, b = 0, 1
    for _ in range(20000):
        a, b = b, a + b
    print("fib", a.bit_length(), a % (10 ** 12))
    print("pow", pow(3, 100000, 10 ** 30), len(str(7 ** 20000)))

    # Sets, deques, defaultdicts, objects with reference cycles.
    s1 = set(next(rnd) % 100000 for _ in range(50000))
    s2 = set(range(0, 100000, 3))
    print("sets", len(s1), len(s1 & s2), len(s1 ^ s2))
    dq = deque(maxlen=1000)
    for i in range(50000):
        dq.append(str(i))
    dd = defaultdict(list)
    for i in range(50000):
        dd[i % 1000].append(i)
    print("deque", dq[0], dq[-1], "defaultdict", len(dd), sum(len(v) for v in dd.values()))

    class Node:
        __slots__ = ("val", "next", "other")

        def __init__(self, val):
            self.val = val
            self.next = None
            self.other = None

    nodes = [Node(i) for i in range(50000)]
    for i, n in enumerate(nodes):
        n.next = nodes[(i + 1) % len(nodes)]
        n.other = nodes[(i * 7) % len(nodes)]
    total = 0
    n = nodes[0]
    for _ in range(50000):
        total += n.other.val
        n = n.next
    del nodes, n
    import gc
    print("nodes", total, "gc", gc.collect() >= 0)
    print("bytes", digest(bytes(range(256)) * 1000), len(bytearray(10 ** 6)))
    sys.stdout.flush()


main()

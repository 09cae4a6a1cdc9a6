# SPDX-License-Identifier: MIT
"""python3 workload for the lxmalloc benchmark suite.

    python3 py_workload.py [scale]

The runner starts it with PYTHONMALLOC=malloc so that every object, not only
those above pymalloc's 512-byte limit, comes from the C allocator under test.
The phases are the everyday things Python programs do: build and rebuild
dicts of records, grow and shrink lists, join and split strings, sort, round
trip JSON, and churn many small class instances. Deterministic (fixed seed);
prints one line.
"""
import json
import random
import sys


class Node:
    def __init__(self, key, value, nxt):
        self.key = key
        self.value = value
        self.next = nxt


def records(rng, n):
    table = {}
    for i in range(n):
        key = "user:%d:%x" % (i, rng.getrandbits(32))
        table[key] = {
            "id": i,
            "name": "name-%d" % rng.randrange(1 << 20),
            "tags": [rng.choice("abcdefgh") * rng.randint(1, 8) for _ in range(rng.randint(0, 6))],
            "score": rng.random(),
        }
    # Rebuild with a filter and a transformation, dropping the old one.
    kept = {k: (v["id"], v["name"].upper(), tuple(v["tags"])) for k, v in table.items() if v["score"] > 0.3}
    return len(kept) + sum(len(t[2]) for t in kept.values())


def lists_and_strings(rng, n):
    total = 0
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 12))) for _ in range(n)]
    for rnd in range(4):
        line = " ".join(words)
        parts = line.split(" ")
        total += len(parts)
        rng.shuffle(words)
        words = [w + w[:1] if len(w) < 20 else w[: len(w) // 2] for w in words]
        buf = []
        for w in words:
            buf.append(w * 3)
            if len(buf) > 1000:
                total += len("".join(buf))
                buf = []
    pairs = sorted(((w, i) for i, w in enumerate(words)), key=lambda p: (len(p[0]), p[0]))
    return total + len(pairs)


def json_round_trip(rng, n):
    doc = [{"id": i, "vals": [rng.randint(0, 1000) for _ in range(rng.randint(1, 20))],
            "label": "item-%d" % i, "nested": {"a": [i, str(i)], "b": None}} for i in range(n)]
    total = 0
    for _ in range(3):
        text = json.dumps(doc)
        doc = json.loads(text)
        total += len(text)
    return total


def linked(rng, n):
    head = None
    for i in range(n):
        head = Node(i, [i] * (i % 7), head)
    total = 0
    while head is not None:
        total += head.key + len(head.value)
        head = head.next
    buckets = {}
    for i in range(n):
        buckets.setdefault(rng.randrange(n // 8 + 1), []).append((i, str(i)))
    return total + len(buckets)


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    rng = random.Random(12345)
    n = max(1000, int(100000 * scale))
    result = records(rng, n)
    result += lists_and_strings(rng, 2 * n)
    result += json_round_trip(rng, n // 2)
    result += linked(rng, 3 * n)
    print("python scale=%s result=%d" % (scale, result))


if __name__ == "__main__":
    main()

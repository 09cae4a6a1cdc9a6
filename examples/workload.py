#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A deterministic allocation-heavy Python workload for trying out lxmalloc.

    lxmalloc run --stats -- python3 examples/workload.py
    python3 examples/workload.py            # the same with the system malloc

It builds dicts, lists and strings, round-trips JSON, sorts, runs an in-memory
SQLite database and does some big-integer arithmetic, then prints one checksum
per part. The output depends only on the scale factor (never on the allocator,
the hash seed or the time), so two runs can be compared with diff. Standard
library only; about a second at the default scale.

CPython normally serves objects of up to 512 bytes from its own arenas
(pymalloc), which the C allocator never sees. Unless PYTHONMALLOC is already
set, the script therefore starts itself again, in the same process (exec), with
PYTHONMALLOC=malloc, so that every object comes from the allocator under test.
--pymalloc keeps CPython's default instead.

Usage: workload.py [--scale N] [--pymalloc]
  --scale N   work multiplier, N >= 1 (default 1; the work grows linearly)
"""

import argparse
import hashlib
import json
import os
import sqlite3
import sys

WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima "
    "mike november oscar papa quebec romeo sierra tango uniform victor whiskey "
    "xray yankee zulu"
).split()


class Rng:
    """xorshift64*: the same sequence on every Python version and platform."""

    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = (seed * 0x9E3779B97F4A7C15 + 1) & self.MASK or 1

    def next(self):
        x = self.state
        x ^= x >> 12
        x ^= (x << 25) & self.MASK
        x ^= x >> 27
        self.state = x
        return (x * 0x2545F4914F6CDD1D) & self.MASK

    def below(self, n):
        return self.next() % n

    def word(self):
        return WORDS[self.below(len(WORDS))]


def digest(*parts):
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, int):
            p = p.to_bytes((p.bit_length() + 8) // 8 or 1, "little", signed=True)
        elif isinstance(p, str):
            p = p.encode("utf-8")
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.hexdigest()[:16]


def part_containers(rng, scale):
    """Many small dicts, lists and strings, grown and then mostly dropped."""
    records = []
    for i in range(20000 * scale):
        name = "-".join(rng.word() for _ in range(1 + rng.below(4)))
        rec = {
            "id": i,
            "name": name,
            "tags": [rng.word() for _ in range(rng.below(6))],
            "score": rng.below(100000),
            "blob": name.upper() * (1 + rng.below(8)),
        }
        records.append(rec)
    # Index by first tag; then drop most records to make the heap churn.
    by_tag = {}
    for rec in records:
        key = rec["tags"][0] if rec["tags"] else ""
        by_tag.setdefault(key, []).append(rec["id"])
    kept = [r for r in records if r["score"] % 7 == 0]
    del records
    text = "".join(f"{r['id']}:{r['name']};" for r in kept)
    summary = ",".join(f"{k}={len(v)}" for k, v in sorted(by_tag.items()))
    return kept, digest(text, summary, len(kept))


def part_json(kept, scale):
    """JSON round trips of a nested document."""
    doc = {
        "version": 1,
        "records": kept,
        "matrix": [[(i * j) % 97 for j in range(40)] for i in range(40 * scale)],
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    total = 0
    for _ in range(3):
        back = json.loads(text)
        if back != doc:
            raise SystemExit("workload: JSON round trip changed the document")
        text2 = json.dumps(back, sort_keys=True, indent=1)
        total += len(text2)
    return digest(text, total)


def part_sort(rng, scale):
    """Sorting numbers, tuples and strings, with and without keys."""
    nums = [rng.next() >> 16 for _ in range(100000 * scale)]
    nums.sort()
    pairs = [(rng.word(), rng.below(1000)) for _ in range(50000 * scale)]
    pairs.sort(key=lambda p: (p[1], p[0]))
    strings = sorted((f"{rng.word()}{rng.below(10**6):07d}" for _ in range(50000 * scale)),
                     reverse=True)
    return digest(sum(nums[::97]), nums[0], nums[-1], repr(pairs[::501]), "".join(strings[::499]))


def part_sqlite(rng, scale):
    """An in-memory SQLite database: inserts, an index, aggregates, updates, deletes."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, word TEXT, qty INTEGER, note TEXT)")
    rows = [(i, rng.word(), rng.below(1000), "n" * rng.below(200)) for i in range(30000 * scale)]
    db.executemany("INSERT INTO item VALUES (?, ?, ?, ?)", rows)
    db.execute("CREATE INDEX item_word ON item(word, qty)")
    db.execute("UPDATE item SET qty = qty + 1 WHERE qty % 3 = 0")
    db.execute("DELETE FROM item WHERE id % 11 = 0")
    db.commit()
    groups = db.execute(
        "SELECT word, COUNT(*), SUM(qty), MAX(LENGTH(note)) FROM item GROUP BY word ORDER BY word"
    ).fetchall()
    top = db.execute("SELECT id, word, qty FROM item ORDER BY qty DESC, id LIMIT 50").fetchall()
    joined = db.execute(
        "SELECT COUNT(*) FROM item a JOIN item b ON a.id + 1 = b.id WHERE a.word = b.word"
    ).fetchone()[0]
    db.close()
    return digest(repr(groups), repr(top), joined)


def fib_pair(n):
    """(F(n), F(n+1)) by fast doubling."""
    if n == 0:
        return 0, 1
    a, b = fib_pair(n >> 1)
    c = a * ((b << 1) - a)
    d = a * a + b * b
    return (d, c + d) if n & 1 else (c, d)


def part_bigint(scale):
    """Big-integer arithmetic: factorial, Fibonacci, modular powers."""
    f = 1
    for i in range(2, 3000 * scale):
        f *= i
    fib, _ = fib_pair(100000 * scale)
    m = (1 << 4099) - 1
    p = pow(3, f % (1 << 8192), m)
    q = (fib * f) // (m + 12345)
    return digest(f, fib, p, q & ((1 << 4096) - 1), f.bit_length(), fib.bit_length())


def main():
    ap = argparse.ArgumentParser(description="Deterministic allocation-heavy Python workload.")
    ap.add_argument("--scale", type=int, default=1, help="work multiplier (default 1)")
    ap.add_argument("--pymalloc", action="store_true",
                    help="keep CPython's small-object allocator (default: PYTHONMALLOC=malloc)")
    args = ap.parse_args()
    if args.scale < 1:
        ap.error("--scale must be at least 1")
    scale = args.scale

    if not args.pymalloc and "PYTHONMALLOC" not in os.environ and sys.executable:
        # exec keeps the process id, so `lxmalloc run --stats` still reports this
        # process as the program it started.
        env = dict(os.environ, PYTHONMALLOC="malloc")
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable] + sys.argv, env)

    rng = Rng(20240229)
    results = []
    kept, d = part_containers(rng, scale)
    results.append(("containers", d))
    results.append(("json", part_json(kept, scale)))
    del kept
    results.append(("sort", part_sort(rng, scale)))
    results.append(("sqlite", part_sqlite(rng, scale)))
    results.append(("bigint", part_bigint(scale)))

    print(f"lxmalloc workload, scale {scale}")
    for name, d in results:
        print(f"  {name:<11} {d}")
    print(f"  {'all':<11} {digest(*(d for _, d in results))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

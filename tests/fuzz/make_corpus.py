#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/fuzz_ops.c into tests/fuzz/corpus/.

Each seed is a short program of 4-byte operations (see fuzz_ops.c): op | thread<<4
| kind<<6, slot | extra<<6, and a 16-bit little-endian value. The seeds are kept
in the repository; rerun this only to change them.
"""
import os
import struct

OPS = dict(malloc=0, calloc=1, realloc=2, free=3, posix_memalign=4, aligned_alloc=5,
           memalign=6, usable=7, free_sized=8, reallocarray=9, move=10, check=11,
           trim=12, exit=13, valloc=14, zero=15)


def op(name, slot=0, value=0, thread=0, kind=0, extra=0):
    return struct.pack("<BBH", OPS[name] | thread << 4 | kind << 6, slot | extra << 6, value)


def seeds():
    s = {}
    # Every operation once on one thread, tiny sizes.
    s["each-op"] = b"".join(op(n, slot=i, value=40 + i) for i, n in enumerate(OPS)) + \
        op("check")
    # A block allocated on one thread, freed on the others (remote frees).
    s["remote-free"] = b"".join(
        op("malloc", slot=i, value=24 + i, thread=0) for i in range(32)) + b"".join(
        op("free", slot=i, thread=1 + i % 3) for i in range(32)) + op("check", thread=2)
    # Fill slabs of one class until they are full, free remotely, allocate again:
    # full slabs, the notify bit and delayed frees.
    s["full-slabs"] = b"".join(
        op("malloc", slot=i, value=3000, kind=1) for i in range(64)) + b"".join(
        op("free", slot=i, thread=3) for i in range(0, 64, 2)) + b"".join(
        op("malloc", slot=i, value=3000, kind=1) for i in range(0, 64, 2)) + op("check")
    # realloc growth through every kind: tiny -> small -> large -> huge and back.
    s["realloc-kinds"] = op("malloc", slot=5, value=17) + \
        op("realloc", slot=5, value=20000, kind=1) + \
        op("realloc", slot=5, value=3000, kind=2) + \
        op("realloc", slot=5, value=50000, kind=3) + \
        op("realloc", slot=5, value=1000, kind=3, thread=1) + \
        op("realloc", slot=5, value=60, thread=2) + op("usable", slot=5) + \
        op("reallocarray", slot=5, value=4000, kind=1, extra=3) + op("check", thread=1)
    # Aligned blocks: every alignment shift, small and huge sizes.
    s["aligned"] = b"".join(
        op(["posix_memalign", "aligned_alloc", "memalign"][k % 3], slot=k,
           value=(k << 11) | (k * 37 % 2048), kind=k % 4) for k in range(21)) + \
        op("posix_memalign", slot=30, value=5 << 11, extra=3) + \
        op("memalign", slot=31, value=9 << 11, extra=3) + op("check")
    # Zero-byte blocks at every alignment, freed by another thread (once returned
    # pointers outside their run or mapping at 8 KiB and 4 MiB alignments).
    s["aligned-zero"] = b"".join(
        op("posix_memalign" if k % 2 else "memalign", slot=k, value=k << 11) +
        op("usable", slot=k) for k in range(1, 21)) + \
        b"".join(op("free", slot=k, thread=1) for k in range(1, 21)) + op("check", thread=1)
    # Thread exit with blocks still live: orphaned heap, adopted by the next thread.
    s["orphans"] = b"".join(op("malloc", slot=i, value=i * 50, thread=1) for i in range(40)) + \
        op("exit", thread=1) + b"".join(
        op("free", slot=i, thread=2) for i in range(0, 40, 2)) + op("check", thread=2) + \
        b"".join(op("malloc", slot=i, value=i * 50, thread=1) for i in range(0, 40, 2)) + \
        op("trim", thread=3) + op("check", thread=1)
    # Blocks moving between slots (and owners), calloc, valloc, zero sizes.
    s["handoff"] = b"".join(
        op("calloc", slot=i, value=100 + i * 9, thread=i % 4, extra=i % 4) +
        op("move", slot=i, value=(i + 17) % 64, thread=(i + 1) % 4) for i in range(24)) + \
        op("valloc", slot=50, value=5000, kind=1) + \
        op("valloc", slot=51, value=0, extra=1) + op("zero", slot=52) + \
        op("zero", slot=50) + op("free_sized", slot=51, thread=3) + op("check", thread=3)
    # Large runs and huge blocks freed by other threads, then a trim.
    s["large-huge"] = b"".join(
        op("malloc", slot=i, value=i * 2000, kind=2 + i % 2, thread=i % 2) for i in range(12)) + \
        b"".join(op("free", slot=i, thread=2 + i % 2) for i in range(12)) + \
        op("trim") + op("check")
    return s


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()

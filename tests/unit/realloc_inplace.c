/* Unit test of realloc resizing a block in place.
 *
 * A large block (a page run, between 32 KiB and the mmap threshold) that
 * realloc makes smaller keeps its address and contents, and the whole pages
 * past its new end go back to the arena when they are an eighth of the run or
 * more (the run being the block's pages rounded up to 16, the pages past the
 * new end rounded so go): its usable size is the new size rounded up to a page, the live bytes
 * fall by what it gave back, and the arena
 * stays consistent (lx_heap_check), also after many small steps down and for a
 * block allocated with a big alignment. Only a new size that a slab serves and
 * that is at most half moves (into a slab's block). A huge block that shrinks by
 * a segment or more gives the segments past its new end back, by an eighth or
 * more the mapping past it; by less, it stays as it is. A large block that grows
 * below the threshold takes the free pages after its run in place: into the
 * pages a shrink gave back, and most steps of a buffer growing by an eighth. A
 * huge block grows into the slack of its mapping in place, without a cut. */
#include "lxt.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)
#define PAGE ((size_t)4096)

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i += 512)
        p[i] = (uint8_t)(i / 512 * 7 + seed);
    p[n - 1] = (uint8_t)seed;
}

static void same(const uint8_t *p, size_t n, size_t upto, unsigned seed, const char *what)
{
    for (size_t i = 0; i < upto; i += 512)
        CHECK(p[i] == (uint8_t)(i / 512 * 7 + seed), "%s: byte %zu changed", what, i);
    if (upto == n)
        CHECK(p[n - 1] == (uint8_t)seed, "%s: last byte changed", what);
}

static unsigned long long live(void)
{
    lx_stats_t st;
    lx_stats_get(&st);
    return st.live_bytes;
}

static size_t round_page(size_t n)
{
    return (n + PAGE - 1) & ~(PAGE - 1);
}

int main(void)
{
    /* 1. 900 KiB -> 600 KiB: same place, 300 KiB of pages back. */
    uint8_t *p = lx_malloc(900 * KIB);
    CHECK(p != NULL, "malloc 900 KiB");
    CHECK(lx_malloc_usable_size(p) == 900 * KIB, "900 KiB block has %zu usable",
          lx_malloc_usable_size(p));
    fill(p, 900 * KIB, 1);
    /* By less than an eighth: it stays as it is. */
    uint8_t *q = lx_realloc(p, 850 * KIB);
    CHECK(q == p && lx_malloc_usable_size(q) == 900 * KIB, "900 -> 850 KiB: %zu usable",
          lx_malloc_usable_size(q));
    unsigned long long before = live();
    q = lx_realloc(p, 600 * KIB);
    CHECK(q == p, "900 -> 600 KiB moved the block");
    CHECK(lx_malloc_usable_size(q) == 600 * KIB, "600 KiB block has %zu usable",
          lx_malloc_usable_size(q));
    same(q, 900 * KIB, 600 * KIB, 1, "900 -> 600 KiB");
    unsigned long long after = live();
    CHECK(before - after == 300 * KIB, "live bytes fell by %lld, not 300 KiB",
          (long long)(before - after));
    CHECK(lx_heap_check() == 0, "heap inconsistent after a trim");

    /* Growing again into the pages just given back: in place (below the size
     * at which a growing block gets a mapping of its own, 256 KiB). */
    q = lx_realloc(p, 200 * KIB);
    CHECK(q == p, "600 -> 200 KiB moved the block");
    after = live();
    q = lx_realloc(p, 250 * KIB);
    CHECK(q == p, "200 -> 250 KiB moved the block, its next pages being free");
    CHECK(lx_malloc_usable_size(q) == round_page(250 * KIB), "250 KiB block has %zu usable",
          lx_malloc_usable_size(q));
    same(q, 900 * KIB, 200 * KIB, 1, "200 -> 250 KiB");
    CHECK(live() - after == round_page(250 * KIB) - 200 * KIB, "live bytes rose by %lld",
          (long long)(live() - after));
    fill(q, 250 * KIB, 1);
    CHECK(lx_heap_check() == 0, "heap inconsistent after growing in place");

    /* 2. To less than half, still above the slab sizes: in place too. */
    q = lx_realloc(q, 40 * KIB + 1);
    CHECK(q == p, "250 -> 40 KiB moved the block");
    CHECK(lx_malloc_usable_size(q) == 44 * KIB, "40 KiB + 1 block has %zu usable",
          lx_malloc_usable_size(q));
    same(q, 40 * KIB + 1, 40 * KIB, 1, "250 -> 40 KiB");

    /* 3. To a slab size at most half: moves into a slab's block. */
    uint8_t *r = lx_realloc(q, 20 * KIB);
    CHECK(r != NULL && r != p, "44 -> 20 KiB stayed a page run");
    CHECK(lx_malloc_usable_size(r) >= 20 * KIB && lx_malloc_usable_size(r) < 32 * KIB,
          "20 KiB block has %zu usable", lx_malloc_usable_size(r));
    same(r, 20 * KIB, 20 * KIB - 1, 1, "44 -> 20 KiB");
    lx_free(r);

    /* 4. Many steps down by a page and a bit, every one in place; the run is cut
     * each time its tail is an eighth of it or more. */
    p = lx_malloc(1000 * KIB);
    CHECK(p != NULL, "malloc 1000 KiB");
    fill(p, 1000 * KIB, 2);
    size_t cuts = 0, was = 1000 * KIB;
    for (size_t s = 1000 * KIB - 5000; s > 36 * KIB; s -= 5000) {
        q = lx_realloc(p, s);
        size_t usable = lx_malloc_usable_size(q);
        CHECK(q == p, "step down to %zu moved the block", s);
        /* The run is the block's pages rounded up to 16: the block keeps its
         * size until the rounded run would lose an eighth. */
        CHECK(usable >= s && (usable - round_page(s)) * 8 < usable + 8 * 16 * PAGE,
              "step down to %zu: %zu usable", s, usable);
        cuts += usable != was;
        was = usable;
        CHECK(q[0] == 2 && q[(s - 1) / 512 * 512] == (uint8_t)((s - 1) / 512 * 7 + 2),
              "step down to %zu lost the contents", s);
    }
    /* From a 256-page run: 224, 192, 160, 128, 112, ..., 32, 16 pages. */
    CHECK(cuts >= 8 && cuts <= 30, "%zu cuts on the way down", cuts);
    CHECK(lx_heap_check() == 0, "heap inconsistent after steps down");
    lx_free(p);

    /* 5. A block with a big alignment keeps it; its padding stays before it. */
    p = lx_aligned_alloc(64 * KIB, 500 * KIB);
    CHECK(p != NULL && ((uintptr_t)p & (64 * KIB - 1)) == 0, "aligned_alloc 64 KiB / 500 KiB");
    fill(p, 500 * KIB, 3);
    q = lx_realloc(p, 200 * KIB + 100);
    CHECK(q == p, "aligned block moved");
    CHECK(lx_malloc_usable_size(q) == round_page(200 * KIB + 100),
          "aligned 200 KiB + 100 block has %zu usable", lx_malloc_usable_size(q));
    same(q, 500 * KIB, 200 * KIB, 3, "aligned 500 -> 200 KiB");
    CHECK(lx_heap_check() == 0, "heap inconsistent after an aligned trim");

    /* The pages given back serve the next allocations. */
    void *more[8];
    for (int i = 0; i < 8; i++) {
        more[i] = lx_malloc(100 * KIB);
        CHECK(more[i] != NULL, "malloc 100 KiB");
        memset(more[i], 0x33, 100 * KIB);
    }
    same(q, 500 * KIB, 200 * KIB, 3, "aligned block after neighbours");
    for (int i = 0; i < 8; i++)
        lx_free(more[i]);
    lx_free(q);

    /* 6. Huge: by less than a segment it stays; by more, the segments past the new
     * end go. */
    p = lx_malloc(64 * MIB);
    CHECK(p != NULL, "malloc 64 MiB");
    size_t big = lx_malloc_usable_size(p);
    fill(p, 64 * MIB, 4);
    q = lx_realloc(p, 62 * MIB);
    CHECK(q == p && lx_malloc_usable_size(q) == big, "64 -> 62 MiB: moved or cut (%zu usable)",
          lx_malloc_usable_size(q));
    q = lx_realloc(q, 40 * MIB);
    CHECK(q == p, "64 -> 40 MiB moved the block");
    CHECK(lx_malloc_usable_size(q) >= 40 * MIB && lx_malloc_usable_size(q) < 48 * MIB,
          "64 -> 40 MiB: %zu usable", lx_malloc_usable_size(q));
    same(q, 64 * MIB, 40 * MIB, 4, "64 -> 40 MiB");
    lx_free(q);

    /* By less than a segment but an eighth or more: the mapping past the new end
     * is unmapped; the block keeps its address and contents. */
    p = lx_malloc(4 * MIB);
    CHECK(p != NULL, "malloc 4 MiB");
    big = lx_malloc_usable_size(p);
    fill(p, 4 * MIB, 5);
    /* (It may come from the huge cache, bigger than asked for.) */
    q = lx_realloc(p, big - big / 16);
    CHECK(q == p && lx_malloc_usable_size(q) == big, "%zu -> %zu: moved or cut (%zu usable)", big,
          big - big / 16, lx_malloc_usable_size(q));
    q = lx_realloc(q, 2100 * KIB + 5);
    CHECK(q == p, "4 MiB -> 2100 KiB moved the block");
    CHECK(lx_malloc_usable_size(q) == round_page(2100 * KIB + 5), "4 MiB -> 2100 KiB: %zu usable",
          lx_malloc_usable_size(q));
    same(q, 4 * MIB, 2100 * KIB, 5, "4 MiB -> 2100 KiB");
    lx_free(q);

    /* 7. A buffer growing by an eighth from 40 KiB to 256 KiB: in place whenever
     * the pages after it are free, which in a process doing nothing else they
     * mostly are. */
    p = lx_malloc(40000);
    CHECK(p != NULL, "malloc 40000");
    memset(p, 5, 40000);
    size_t steps = 0, moves = 0, had = 40000;
    for (size_t s = 40000; s < 256 * KIB; s = s * 9 / 8) {
        q = lx_realloc(p, s);
        CHECK(q != NULL, "grow to %zu", s);
        CHECK(q[0] == 5 && q[had - 1] == 5, "grow to %zu lost the contents", s);
        memset(q, 5, s);
        moves += q != p;
        steps++;
        p = q;
        had = s;
    }
    CHECK(moves * 2 < steps, "%zu of %zu steps moved the block", moves, steps);
    CHECK(lx_heap_check() == 0, "heap inconsistent after growing");
    lx_free(p);

    /* 8. A block that realloc grows past 1 MiB gets a mapping that ends on a
     * huge-page boundary. Growing into the rest of it keeps the block as it is,
     * even where the rest would count as a shrink by an eighth of the mapping;
     * going below the size last asked for by an eighth does cut it. */
    p = lx_malloc(900 * KIB);
    CHECK(p != NULL, "malloc 900 KiB");
    fill(p, 900 * KIB, 6);
    p = lx_realloc(p, 1100 * KIB);
    CHECK(p != NULL, "900 KiB -> 1100 KiB");
    big = lx_malloc_usable_size(p);
    /* (At least that: a cached mapping may be bigger.) */
    CHECK(big >= 2 * MIB - PAGE, "a block grown to 1100 KiB has %zu usable", big);
    same(p, 900 * KIB, 900 * KIB, 6, "900 KiB -> 1100 KiB");
    q = lx_realloc(p, 1400 * KIB);
    CHECK(q == p && lx_malloc_usable_size(q) == big, "1100 -> 1400 KiB: moved or cut (%zu usable)",
          lx_malloc_usable_size(q));
    q = lx_realloc(q, 1700 * KIB);
    CHECK(q == p && lx_malloc_usable_size(q) == big, "1400 -> 1700 KiB: moved or cut (%zu usable)",
          lx_malloc_usable_size(q));
    same(q, 900 * KIB, 900 * KIB, 6, "1100 -> 1700 KiB");
    q = lx_realloc(q, 1400 * KIB);
    CHECK(q == p && lx_malloc_usable_size(q) == round_page(1400 * KIB),
          "1700 -> 1400 KiB: %zu usable", lx_malloc_usable_size(q));
    same(q, 900 * KIB, 900 * KIB, 6, "1700 -> 1400 KiB");
    CHECK(lx_heap_check() == 0, "heap inconsistent after a huge block's growth in place");
    lx_free(q);

    CHECK(lx_heap_check() == 0, "heap inconsistent at the end");
    printf("realloc_inplace: ok\n");
    return 0;
}

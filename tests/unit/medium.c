/* Unit test of medium runs (src/medium.c): blocks of 1 KiB to 16 KiB come from
 * RUN_MEDIUM runs, 16-byte aligned, usable exactly to the request rounded up to
 * 16 (lx_good_size says the same); a block freed between two free neighbours
 * merges with both (the whole run is one chunk again and the next block starts
 * where the first did); realloc grows a block into the free chunk after it; random words where a
 * header would be never read as a live block; a random mix of malloc, realloc and free keeps every
 * byte and leaves the heap checker content; blocks freed by another thread come
 * back to the owner, whose runs stop growing; malloc_trim gives back the pages
 * inside free chunks, which work again when handed out; a double free, a free
 * inside a block and an overrun into the next header are reported (children
 * that abort); with the option off, the same sizes come from slabs. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "lxt.h"
#include "lxt_child.h"
#include "heap.h"
#include "medium.h"
#include "options.h"
#include "segment.h"

static struct page *run_of(const void *p)
{
    return segment_page_of(segment_of(p), p);
}

static size_t round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

static struct heap *my_heap(void)
{
    return lx_tls_heap;
}

static void sizes(void)
{
    lxt_rng r = {3};
    for (int i = 0; i < 2000; i++) {
        size_t n = i < 2 ? (i == 0 ? 1025 : LX_MEDIUM_MAX) : lxt_range(&r, 1025, LX_MEDIUM_MAX);
        unsigned char *p = lx_malloc(n);
        CHECK(p != NULL && ((uintptr_t)p & 15) == 0, "malloc(%zu) = %p", n, (void *)p);
        CHECK(run_of(p)->kind == RUN_MEDIUM, "malloc(%zu) not from a medium run", n);
        CHECK(lx_malloc_usable_size(p) == round16(n), "usable size of malloc(%zu): %zu", n,
              lx_malloc_usable_size(p));
        CHECK(lx_good_size(n) == round16(n), "lx_good_size(%zu) = %zu", n, lx_good_size(n));
        lx_free(p);
    }
    /* Just outside the range: slabs. */
    void *small = lx_malloc(1024), *big = lx_malloc(LX_MEDIUM_MAX + 1);
    CHECK(run_of(small)->kind == RUN_SLAB && run_of(big)->kind == RUN_SLAB, "1024 and %d bytes",
          LX_MEDIUM_MAX + 1);
    lx_free(small);
    lx_free(big);
    /* An alignment above 16 keeps to the slabs' aligned classes. */
    void *al = lx_memalign(256, 3000);
    CHECK(al != NULL && ((uintptr_t)al & 255) == 0 && run_of(al)->kind == RUN_SLAB, "memalign");
    lx_free(al);
}

/* Everything freed: one run is left, one free chunk over all of it; a, b, c
 * cut from its start lie side by side, and freeing the middle one last merges
 * all three with the rest. */
static void merging(void)
{
    CHECK(my_heap()->med.nruns == 1, "%u medium runs left", my_heap()->med.nruns);
    unsigned char *a = lx_malloc(4000), *b = lx_malloc(4000), *c = lx_malloc(4000);
    CHECK(b == a + 4016 && c == b + 4016, "a %p b %p c %p not side by side", (void *)a, (void *)b,
          (void *)c);
    CHECK((uintptr_t)(a - 16) == (uintptr_t)run_of(a)->start, "a is not at the run's start");
    lx_free(a);
    lx_free(c);
    CHECK(lx_heap_check() == 0, "heap check with a and c free");
    lx_free(b);
    CHECK(lx_heap_check() == 0, "heap check with all free");
    unsigned char *d = lx_malloc(LX_MEDIUM_MAX);
    CHECK(d == a, "the merged chunk was not reused from its start: %p, a %p", (void *)d, (void *)a);
    lx_free(d);
}

/* realloc grows a block into the free chunk after it, keeping its bytes and
 * its address; with the next chunk in use it moves. */
static void grow_in_place(void)
{
    unsigned char *a = lx_malloc(2000), *b = lx_malloc(2000), *c = lx_malloc(2000);
    lxt_fill(a, 2000, 77);
    lx_free(b);
    unsigned char *a2 = lx_realloc(a, 3900); /* into b's 2016 bytes, 16 left */
    CHECK(a2 == a, "realloc(2000 -> 3900) moved with a free chunk after it");
    CHECK(lx_malloc_usable_size(a2) == 3904, "usable size after growing: %zu",
          lx_malloc_usable_size(a2));
    CHECK(lxt_verify(a2, 2000, 77) == SIZE_MAX, "bytes lost growing in place");
    CHECK(lx_heap_check() == 0, "heap check after growing in place");
    memset(a2, 5, 3900);
    unsigned char *a3 = lx_realloc(a2, 6000); /* c is in use right after: a move */
    CHECK(a3 != a2 && a3 != NULL, "realloc grew into a block in use");
    CHECK(a3[0] == 5 && a3[3899] == 5, "bytes lost moving");
    memset(a3, 6, 6000);
    lx_free(c);
    unsigned char *a4 = lx_realloc(a3, LX_MEDIUM_MAX); /* a3 was cut from the run's rest */
    CHECK(a4 == a3, "realloc(6000 -> %d) moved with the run's rest after it", LX_MEDIUM_MAX);
    CHECK(a4[0] == 6 && a4[5999] == 6, "bytes lost growing to the largest medium size");
    CHECK(lx_heap_check() == 0, "heap check after growing");
    lx_free(a4);
}

/* Whatever a program writes where a header would be, it does not read as a
 * live chunk: 20,000 random words and some plain ones at p + 16 (a header for
 * the address p + 32) leave p + 32 no block. */
static void garbage_headers(void)
{
    unsigned char *p = lx_malloc(3000);
    struct page *pg = run_of(p);
    lxt_rng r = {17};
    for (int i = 0; i < 20000; i++) {
        uint64_t w = i < 4 ? (uint64_t[]){0, ~(uint64_t)0, 0x4141414141414141ull, 3024 | 1}[i]
                           : lxt_next(&r);
        memcpy(p + 24, &w, sizeof w);
        CHECK(medium_usable(pg, p + 32) == 0, "the word %#llx reads as a live header",
              (unsigned long long)w);
    }
    lx_free(p);
}

#define SLOTS 600

static void random_mix(void)
{
    static unsigned char *p[SLOTS];
    static size_t n[SLOTS];
    lxt_rng r = {11};
    for (int op = 0; op < 60000; op++) {
        size_t i = lxt_range(&r, 0, SLOTS - 1);
        if (p[i] != NULL) {
            CHECK(lxt_verify(p[i], n[i], i * 7919 + n[i]) == SIZE_MAX, "block %zu (%zu bytes) changed", i, n[i]);
            if (lxt_range(&r, 0, 3) == 0) {
                size_t m = lxt_range(&r, 1025, LX_MEDIUM_MAX);
                unsigned char *q = lx_realloc(p[i], m);
                CHECK(q != NULL, "realloc");
                size_t keep = m < n[i] ? m : n[i];
                CHECK(lxt_verify(q, keep, i * 7919 + n[i]) == SIZE_MAX, "realloc lost bytes");
                p[i] = q;
                n[i] = m;
                lxt_fill(q, m, i * 7919 + m);
                continue;
            }
            lx_free(p[i]);
            p[i] = NULL;
        } else {
            n[i] = lxt_range(&r, 1025, LX_MEDIUM_MAX);
            p[i] = lx_malloc(n[i]);
            CHECK(p[i] != NULL, "malloc(%zu)", n[i]);
            lxt_fill(p[i], n[i], i * 7919 + n[i]);
        }
        if (op % 10000 == 0)
            CHECK(lx_heap_check() == 0, "heap check after %d operations", op);
    }
    for (size_t i = 0; i < SLOTS; i++)
        lx_free(p[i]);
    CHECK(lx_heap_check() == 0, "heap check after the mix");
    /* All free again: the heap keeps a single run. */
    void *x = lx_malloc(2000);
    lx_free(x);
    CHECK(my_heap()->med.nruns == 1, "%u medium runs after freeing everything",
          my_heap()->med.nruns);
}

struct handoff {
    void *blocks[400];
};

static void *freer(void *arg)
{
    struct handoff *h = arg;
    for (int i = 0; i < 400; i++)
        lx_free(h->blocks[i]);
    return NULL;
}

static void remote_frees(void)
{
    static struct handoff h;
    lxt_rng r = {5};
    uint32_t most = 0;
    for (int round = 0; round < 40; round++) {
        for (int i = 0; i < 400; i++) {
            h.blocks[i] = lx_malloc(lxt_range(&r, 1025, 4096));
            CHECK(h.blocks[i] != NULL, "malloc");
        }
        pthread_t t;
        CHECK(pthread_create(&t, NULL, freer, &h) == 0, "pthread_create");
        CHECK(pthread_join(t, NULL) == 0, "pthread_join");
        if (my_heap()->med.nruns > most)
            most = my_heap()->med.nruns;
    }
    /* 400 blocks of at most 4 KiB: 1.6 MiB at most live, 7 runs; the blocks the
     * other thread freed are used again, so the runs stop growing. */
    CHECK(most <= 10, "%u medium runs for 1.6 MiB freed by another thread", most);
    void *x = lx_malloc(2000); /* takes the last round's frees */
    CHECK(atomic_load(&my_heap()->med.remote) == 0, "remote frees left after a medium malloc");
    lx_free(x);
    CHECK(lx_heap_check() == 0, "heap check after remote frees");
}

static size_t resident(void *p, size_t len)
{
    unsigned char vec[64];
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)(LX_PAGE_SIZE - 1);
    size_t pages = ((uintptr_t)p + len - a + LX_PAGE_SIZE - 1) / LX_PAGE_SIZE;
    CHECK(pages <= 64 && mincore((void *)a, pages * LX_PAGE_SIZE, vec) == 0, "mincore");
    size_t n = 0;
    for (size_t i = 0; i < pages; i++)
        n += vec[i] & 1;
    return n;
}

static void trim(void)
{
    unsigned char *keep = lx_malloc(2000);
    unsigned char *big = lx_malloc(LX_MEDIUM_MAX);
    unsigned char *after = lx_malloc(2000); /* big's chunk stays apart from the run's rest */
    memset(big, 1, LX_MEDIUM_MAX);
    CHECK(resident(big, LX_MEDIUM_MAX) >= 4, "the block's pages are not resident");
    lx_free(big);
    CHECK(lx_malloc_trim(0) >= 0, "malloc_trim");
    /* The chunk keeps its header and links (from 16 bytes before the block to
     * 24 after its start); the whole pages after them, up to the block's end
     * (the next chunk's header), go. */
    uintptr_t lo = ((uintptr_t)big + 24 + LX_PAGE_SIZE - 1) & ~(uintptr_t)(LX_PAGE_SIZE - 1);
    uintptr_t hi = ((uintptr_t)big + LX_MEDIUM_MAX) & ~(uintptr_t)(LX_PAGE_SIZE - 1);
    CHECK(hi - lo >= 2 * LX_PAGE_SIZE, "a 16 KiB chunk spans two whole pages");
    CHECK(resident((void *)lo, hi - lo) == 0,
          "the pages inside a free chunk stayed resident after malloc_trim");
    unsigned char *again = lx_malloc(LX_MEDIUM_MAX);
    CHECK(again == big, "the trimmed chunk was not reused");
    memset(again, 2, LX_MEDIUM_MAX);
    for (size_t i = 0; i < LX_MEDIUM_MAX; i++)
        CHECK(again[i] == 2, "byte %zu of a trimmed chunk", i);
    CHECK(resident((void *)lo, hi - lo) == (hi - lo) / LX_PAGE_SIZE, "written pages not resident");
    lx_free(again);
    lx_free(keep);
    lx_free(after);
    CHECK(lx_heap_check() == 0, "heap check after trim");
}

static void double_free(void *arg)
{
    (void)arg;
    void *p = lx_malloc(3000);
    lx_free(p);
    lx_free(p);
}

static void inside(void *arg)
{
    (void)arg;
    unsigned char *p = lx_malloc(3000);
    lx_free(p + 32);
}

static void overrun(void *arg)
{
    (void)arg;
    /* Two blocks side by side (the heap's free chunks depend on how the threads
     * of remote_frees ran: a pair cut from a big free chunk is adjacent). */
    unsigned char *p = NULL, *q = NULL;
    for (int i = 0; i < 1000 && (p == NULL || q != p + 3024); i++) {
        p = lxt_launder(lx_malloc(3000));
        q = lx_malloc(3000);
    }
    memset(p, 0x41, lxt_opaque(3008 + 16)); /* through q's header (its size word last) */
    lx_free(p);
}

int main(void)
{
    lx_free(lx_malloc(1)); /* a heap for this thread */
    sizes();
    merging();
    grow_in_place();
    garbage_headers();
    random_mix();
    remote_frees();
    trim();
    lxt_expect_death(double_free, NULL, SIGABRT, "double free");
    lxt_expect_death(inside, NULL, SIGABRT, "inside the 3008-byte block");
    lxt_expect_death(overrun, NULL, SIGABRT, "heap corruption");
    /* The option off: the same sizes from slabs. */
    lx_opt.medium = 0;
    void *p = lx_malloc(3000);
    CHECK(run_of(p)->kind == RUN_SLAB && lx_malloc_usable_size(p) == 3072, "LXMALLOC_MEDIUM=0");
    lx_free(p);
    printf("medium: ok\n");
    return 0;
}

/*
 * Basic malloc/free conformance: malloc(0) returns unique non-NULL freeable
 * pointers, free(NULL) is a no-op, every block is 16-byte aligned, the usable size
 * is >= the request and writable, malloc_usable_size(NULL) == 0, and live blocks
 * never overlap (each filled over its whole usable size, then all verified).
 * LXT_QUICK=1 (used under valgrind) keeps 4,000 blocks live instead of 20,000.
 */
#include "lxt.h"

#define NZERO 4096
#define NLIVE 20000

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

struct blk {
    unsigned char *p;
    size_t n, usable;
    uint64_t tag;
};

static int cmp_blk(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct blk *)a)->p, y = (uintptr_t)((const struct blk *)b)->p;
    return x < y ? -1 : x > y;
}

static void zero_size(void)
{
    static void *z[NZERO];
    for (int i = 0; i < NZERO; i++) {
        z[i] = T_malloc(0);
        CHECK(z[i] != NULL, "malloc(0) #%d returned NULL, expected a unique pointer", i);
        CHECK(lxt_aligned(z[i], 16), "malloc(0) returned %p, not 16-byte aligned", z[i]);
    }
    qsort(z, NZERO, sizeof z[0], cmp_ptr);
    for (int i = 1; i < NZERO; i++)
        CHECK(z[i] != z[i - 1], "malloc(0) returned %p twice while both were live", z[i]);
    for (int i = 0; i < NZERO; i++)
        T_free(z[i]);
}

static void live_blocks(void)
{
    const int nlive = lxt_quick() ? 4000 : NLIVE;
    static struct blk b[NLIVE];
    lxt_rng r = {42};
    for (int i = 0; i < nlive; i++) {
        size_t n = i % 97 == 0 ? lxt_range(&r, 64 * LXT_KIB, 512 * LXT_KIB) : lxt_size(&r, 64 * LXT_KIB);
        b[i].p = T_malloc(n);
        CHECK(b[i].p != NULL, "malloc(%zu) returned NULL", n);
        CHECK(lxt_aligned(b[i].p, 16), "malloc(%zu) returned %p, not 16-byte aligned", n,
              (void *)b[i].p);
        b[i].n = n;
        b[i].tag = (uint64_t)i;
        b[i].usable = T_malloc_usable_size(b[i].p);
        CHECK(b[i].usable >= n, "malloc_usable_size(malloc(%zu)) = %zu, expected >= %zu", n,
              b[i].usable, n);
        lxt_fill(b[i].p, b[i].usable, b[i].tag);
    }
    for (int i = 0; i < nlive; i++) {
        CHECK_PATTERN(b[i].p, b[i].usable, b[i].tag, "live block (overlap with another?)");
        CHECK(T_malloc_usable_size(b[i].p) == b[i].usable,
              "malloc_usable_size of %p changed from %zu to %zu", (void *)b[i].p, b[i].usable,
              T_malloc_usable_size(b[i].p));
    }
    qsort(b, (size_t)nlive, sizeof b[0], cmp_blk);
    for (int i = 1; i < nlive; i++)
        CHECK(b[i - 1].p + b[i - 1].usable <= b[i].p,
              "blocks overlap: [%p, +%zu) and %p", (void *)b[i - 1].p, b[i - 1].usable,
              (void *)b[i].p);
    /* Free every other block, reallocate into the holes, check the survivors. */
    for (int i = 0; i < nlive; i += 2)
        T_free(b[i].p);
    for (int i = 0; i < nlive; i += 2) {
        b[i].p = T_malloc(b[i].n);
        CHECK(b[i].p != NULL, "malloc(%zu) returned NULL", b[i].n);
        b[i].usable = T_malloc_usable_size(b[i].p);
        CHECK(b[i].usable >= b[i].n, "malloc_usable_size(malloc(%zu)) = %zu", b[i].n,
              b[i].usable);
        b[i].tag += 1000000;
        lxt_fill(b[i].p, b[i].usable, b[i].tag);
    }
    for (int i = 0; i < nlive; i++)
        CHECK_PATTERN(b[i].p, b[i].usable, b[i].tag, "block after refilling holes");
    for (int i = 0; i < nlive; i++)
        T_free(b[i].p);
}

int main(void)
{
    lxt_require_lxmalloc();

    T_free(NULL);
    CHECK(T_malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) = %zu, expected 0",
          T_malloc_usable_size(NULL));

    zero_size();
    lxt_heap_check("after malloc(0) blocks");

    for (size_t n = 1; n <= 4096; n++) {
        unsigned char *p = T_malloc(n);
        CHECK(p != NULL, "malloc(%zu) returned NULL", n);
        CHECK(lxt_aligned(p, 16), "malloc(%zu) returned %p, not 16-byte aligned", n, (void *)p);
        p[0] = 1;
        p[n - 1] = 2;
        lxt_escape(p);
        T_free(p);
    }

    lxt_heap_check("after small blocks");
    live_blocks();
    lxt_heap_check("after freeing all live blocks");
    return 0;
}

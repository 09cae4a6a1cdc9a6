/*
 * Aligned allocation: posix_memalign, aligned_alloc and memalign honour every
 * power-of-two alignment (from 1 where allowed, from sizeof(void *) for
 * posix_memalign) up to 4 MiB with several sizes, blocks are writable over their
 * usable size and do not overlap; alignments of 8 to 64 MiB work for a few sizes;
 * posix_memalign returns EINVAL for invalid
 * alignments and ENOMEM for absurd sizes; valloc and pvalloc return page-aligned
 * blocks, pvalloc's usable size rounded up to a whole page. LXT_QUICK=1 (used
 * under valgrind) writes and checks at most 8 KiB of each block.
 */
#include "lxt.h"

#define MAXALIGN (4 * LXT_MIB)

struct blk {
    unsigned char *p;
    size_t usable;
};

static struct blk live[4096];
static size_t nlive;

static void keep(void *p, size_t align, size_t n, const char *what)
{
    CHECK(p != NULL, "%s(align %zu, size %zu) returned NULL", what, align, n);
    CHECK(lxt_aligned(p, align), "%s(align %zu, size %zu) = %p, not aligned", what, align, n, p);
    CHECK(lxt_aligned(p, 16), "%s(align %zu, size %zu) = %p, not 16-byte aligned", what, align,
          n, p);
    size_t u = T_malloc_usable_size(p);
    CHECK(u >= n, "malloc_usable_size(%s(%zu, %zu)) = %zu", what, align, n, u);
    CHECK(nlive < sizeof live / sizeof live[0], "too many live blocks");
    if (lxt_quick() && u > 8192)
        u = 8192;
    live[nlive].p = p;
    live[nlive].usable = u;
    lxt_fill(p, u, nlive);
    nlive++;
}

static void release_all(void)
{
    for (size_t i = 0; i < nlive; i++) {
        CHECK_PATTERN(live[i].p, live[i].usable, i, "aligned block (overlap?)");
        T_free(live[i].p);
    }
    nlive = 0;
}

static void sweep(void)
{
    for (size_t a = 1; a <= MAXALIGN; a *= 2) {
        const size_t sizes[] = {1, 8, 24, 100, a, a + 1, 3 * a, 5000, a / 2 + 3};
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t n = sizes[s];
            if (n == 0 || n > 3 * MAXALIGN)
                continue;
            keep(T_aligned_alloc(a, n), a, n, "aligned_alloc");
            keep(T_memalign(a, n), a, n, "memalign");
            if (a >= sizeof(void *)) {
                void *p = NULL;
                int rc = T_posix_memalign(&p, a, n);
                CHECK(rc == 0, "posix_memalign(align %zu, size %zu) returned %d", a, n, rc);
                keep(p, a, n, "posix_memalign");
            }
        }
        /* Large alignments: free as we go so the run stays small. */
        if (a >= 64 * LXT_KIB || nlive > 3000)
            release_all();
    }
    release_all();

    /* Many small blocks at each alignment, kept live together. */
    for (size_t a = 16; a <= 4096; a *= 2) {
        for (int i = 0; i < 200; i++)
            keep(T_memalign(a, (size_t)i * 3 + 1), a, (size_t)i * 3 + 1, "memalign");
        release_all();
    }
}

/* Alignments beyond the 4 MiB segment size. */
static void beyond(void)
{
    for (size_t a = 2 * MAXALIGN; a <= (lxt_quick() ? 16 : 64) * LXT_MIB; a *= 2) {
        const size_t sizes[] = {1, 4096, a / 2, a + 1};
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            void *p = NULL;
            int rc = T_posix_memalign(&p, a, sizes[s]);
            CHECK(rc == 0, "posix_memalign(align %zu, size %zu) returned %d", a, sizes[s], rc);
            keep(p, a, sizes[s], "posix_memalign");
            keep(T_aligned_alloc(a, sizes[s]), a, sizes[s], "aligned_alloc");
            release_all();
        }
    }
}

static void invalid(void)
{
    const size_t bad[] = {0, 1, 2, 3, 4, 12, 24, 40, 48, 4095, 4097, 100000, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *p = (void *)&p;
        int rc = T_posix_memalign(&p, lxt_opaque(bad[i]), 64);
        CHECK(rc == EINVAL, "posix_memalign(alignment %zu) returned %d, expected EINVAL (%d)",
              bad[i], rc, EINVAL);
    }
    const size_t huge[][2] = {{64, SIZE_MAX - 100}, {4096, PTRDIFF_MAX}, {8, SIZE_MAX},
                              {MAXALIGN, SIZE_MAX / 2}};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        void *p = NULL;
        int rc = T_posix_memalign(&p, huge[i][0], lxt_opaque(huge[i][1]));
        CHECK(rc == ENOMEM, "posix_memalign(%zu, %zu) returned %d, expected ENOMEM (%d)",
              huge[i][0], huge[i][1], rc, ENOMEM);
    }
    /* A non-power-of-two alignment: aligned_alloc fails with EINVAL (C11, glibc 2.38;
     * older glibc returns a block); memalign either fails with EINVAL or, as glibc
     * does, rounds the alignment up to the next power of two. */
    const size_t odd[] = {3, 24, 100, 4095};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        size_t up = 1;
        while (up < odd[i])
            up *= 2;
        for (int f = 0; f < 2; f++) {
            const char *fn = f ? "memalign" : "aligned_alloc";
            errno = 0;
            void *p = f ? T_memalign(lxt_opaque(odd[i]), 64)
                        : T_aligned_alloc(lxt_opaque(odd[i]), 64);
            if (p == NULL) {
                CHECK(errno == EINVAL, "%s(%zu, 64) = NULL with errno %d, expected EINVAL", fn,
                      odd[i], errno);
                continue;
            }
            CHECK(f == 1 || lxt_system_mode(), "%s(%zu, 64) = %p, expected NULL with EINVAL", fn,
                  odd[i], p);
            CHECK(f == 0 || lxt_aligned(p, up), "memalign(%zu, 64) = %p, not aligned to %zu", odd[i],
                  p, up);
            memset(p, 1, 64);
            T_free(p);
        }
    }
}

static void pages(void)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    const size_t sizes[] = {1, 100, pg - 1, pg, pg + 1, 3 * pg + 5, 100000, LXT_MIB + 1, 0};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        void *v = T_valloc(n);
        CHECK(v != NULL, "valloc(%zu) returned NULL", n);
        CHECK(lxt_aligned(v, pg), "valloc(%zu) = %p, not page aligned", n, v);
        CHECK(T_malloc_usable_size(v) >= n, "valloc(%zu): usable size %zu", n,
              T_malloc_usable_size(v));
        memset(v, 0x11, T_malloc_usable_size(v));

        void *p = T_pvalloc(n);
        CHECK(p != NULL, "pvalloc(%zu) returned NULL", n);
        CHECK(lxt_aligned(p, pg), "pvalloc(%zu) = %p, not page aligned", n, p);
        size_t want = (n + pg - 1) / pg * pg;
        CHECK(T_malloc_usable_size(p) >= want, "pvalloc(%zu): usable size %zu, expected >= %zu",
              n, T_malloc_usable_size(p), want);
        memset(p, 0x22, T_malloc_usable_size(p));
        T_free(v);
        T_free(p);
    }
    errno = 0;
    void *p = T_pvalloc(lxt_opaque(SIZE_MAX - 10));
    CHECK(p == NULL && errno == ENOMEM, "pvalloc(SIZE_MAX - 10) = %p errno %d, expected NULL/ENOMEM",
          p, errno);
    errno = 0;
    p = T_valloc(lxt_opaque(SIZE_MAX - 10));
    CHECK(p == NULL && errno == ENOMEM, "valloc(SIZE_MAX - 10) = %p errno %d, expected NULL/ENOMEM",
          p, errno);
}

int main(void)
{
    lxt_require_lxmalloc();
    sweep();
    lxt_heap_check("after the alignment sweep");
    beyond();
    invalid();
    pages();
    /* Zero bytes at every alignment up to 8 MiB: a block that can be freed (at
     * 4 MiB and above this once returned a pointer just past its own mapping). */
    for (size_t a = 16; a <= 2 * MAXALIGN; a *= 2) {
        void *z = NULL;
        CHECK(T_posix_memalign(&z, a, lxt_opaque(0)) == 0, "posix_memalign(%zu, 0) failed", a);
        CHECK(lxt_aligned(z, a), "posix_memalign(%zu, 0) = %p, misaligned", a, z);
        T_free(z);
        z = T_memalign(a, lxt_opaque(0));
        CHECK(z != NULL && lxt_aligned(z, a), "memalign(%zu, 0) = %p", a, z);
        CHECK(T_malloc_usable_size(z) < a + 4096, "memalign(%zu, 0): usable size %zu", a,
              T_malloc_usable_size(z));
        T_free(z);
    }
    lxt_heap_check("after valloc/pvalloc");
    /* The heap still works after all of the above. */
    for (int i = 0; i < 1000; i++)
        keep(T_malloc((size_t)i * 7 + 1), 16, (size_t)i * 7 + 1, "malloc");
    release_all();
    return 0;
}

/*
 * realloc and reallocarray: contents are preserved growing and shrinking across
 * small, large and huge sizes (every pair of a size ladder, and a grow-then-shrink
 * chain up to 64 MiB); realloc(NULL, n) behaves as malloc(n); realloc(p, 0) frees p
 * and returns NULL or a freeable pointer (no leak over many rounds); reallocarray
 * overflow returns NULL with errno ENOMEM and leaves the old block untouched;
 * blocks from posix_memalign/aligned_alloc/valloc keep their contents through
 * realloc too. LXT_QUICK=1 (used under valgrind) leaves out sizes above 1 MiB
 * except in the chain.
 */
#include "lxt.h"

static const size_t ladder[] = {1,     8,      16,     24,      100,     500,    1000,
                                4000,  8192,   20000,  65536,   200000,  1048576,
                                4194304, 16777216, 67108864};
#define NL (sizeof ladder / sizeof ladder[0])

static unsigned char *resize(unsigned char *p, size_t old, size_t n, uint64_t tag)
{
    unsigned char *q = T_realloc(p, n);
    CHECK(q != NULL, "realloc(%p, %zu) returned NULL", (void *)p, n);
    CHECK(lxt_aligned(q, 16), "realloc(.., %zu) returned %p, not 16-byte aligned", n, (void *)q);
    size_t u = T_malloc_usable_size(q);
    CHECK(u >= n, "malloc_usable_size(realloc(.., %zu)) = %zu", n, u);
    size_t keep = old < n ? old : n;
    size_t off = lxt_verify(q, keep, tag);
    CHECK(off == SIZE_MAX, "realloc from %zu to %zu bytes: byte %zu not preserved", old, n, off);
    return q;
}

static void pairs(void)
{
    for (size_t i = 0; i < NL; i++) {
        for (size_t j = 0; j < NL; j++) {
            size_t a = ladder[i], b = ladder[j];
            if ((a > 4194304 && b > 4194304 && a != b) || a > 16777216 || b > 16777216)
                continue; /* keep the run short: the chain covers these */
            if (lxt_quick() && (a > 1048576 || b > 1048576))
                continue;
            uint64_t tag = i * 100 + j;
            unsigned char *p = T_malloc(a);
            CHECK(p != NULL, "malloc(%zu) returned NULL", a);
            /* Only the bytes realloc must keep carry the pattern (keeps the run short). */
            size_t keep = a < b ? a : b;
            lxt_fill(p, keep, tag);
            memset(p + keep, 0x77, a - keep);
            p = resize(p, keep, b, tag);
            /* Write the full new size: realloc must have provided it. */
            memset(p, 0x66, T_malloc_usable_size(p));
            T_free(p);
        }
    }
}

static void chain(void)
{
    size_t old = 0;
    unsigned char *p = NULL;
    for (size_t i = 0; i < NL; i++) {
        p = resize(p, old, ladder[i], 99);
        lxt_fill(p, ladder[i], 99);
        old = ladder[i];
    }
    for (size_t i = NL; i-- > 0;) {
        p = resize(p, old, ladder[i], 99);
        old = ladder[i];
    }
    T_free(p);

    /* Small steps: grow one byte at a time to 5000, then shrink back. */
    p = T_malloc(1);
    CHECK(p != NULL, "malloc(1) returned NULL");
    p[0] = 0;
    for (size_t n = 2; n <= 5000; n++) {
        p = T_realloc(p, n);
        CHECK(p != NULL, "realloc(.., %zu) returned NULL", n);
        CHECK(p[n - 2] == (unsigned char)(n - 2), "realloc to %zu lost byte %zu", n, n - 2);
        p[n - 1] = (unsigned char)(n - 1);
    }
    for (size_t n = 4999; n >= 1; n--) {
        p = T_realloc(p, n);
        CHECK(p != NULL, "realloc(.., %zu) returned NULL", n);
        for (size_t k = n > 16 ? n - 16 : 0; k < n; k++)
            CHECK(p[k] == (unsigned char)k, "realloc shrinking to %zu lost byte %zu", n, k);
    }
    T_free(p);
}

static void aligned(void)
{
    const size_t aligns[] = {32, 64, 256, 4096, 65536, LXT_MIB, 4 * LXT_MIB};
    const size_t sizes[] = {10, 100, 3000, 40000, 300000, 1500000, 5000000};
    size_t nsizes = lxt_quick() ? 5 : sizeof sizes / sizeof sizes[0];
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        for (size_t j = 0; j < nsizes; j++) {
            for (size_t k = 0; k < nsizes; k += 2) {
                void *v = NULL;
                int rc = T_posix_memalign(&v, aligns[i], sizes[j]);
                CHECK(rc == 0, "posix_memalign(%zu, %zu) returned %d", aligns[i], sizes[j], rc);
                unsigned char *p = v;
                uint64_t tag = i * 10000 + j * 100 + k;
                lxt_fill(p, sizes[j], tag);
                p = resize(p, sizes[j], sizes[k], tag);
                memset(p, 0x55, sizes[k]);
                T_free(p);
            }
        }
    }
    unsigned char *p = T_valloc(5000);
    CHECK(p != NULL, "valloc(5000) returned NULL");
    lxt_fill(p, 5000, 1);
    p = resize(p, 5000, 50, 1);
    p = resize(p, 50, 2000000, 1);
    T_free(p);
}

static void null_and_zero(void)
{
    unsigned char *p = T_realloc(NULL, 1000);
    CHECK(p != NULL, "realloc(NULL, 1000) returned NULL, expected a new block");
    CHECK(T_malloc_usable_size(p) >= 1000, "realloc(NULL, 1000): usable size %zu",
          T_malloc_usable_size(p));
    memset(p, 1, 1000);
    T_free(p);
    p = T_realloc(NULL, 0);
    CHECK(p != NULL, "realloc(NULL, 0) returned NULL, expected malloc(0)'s unique pointer");
    T_free(p);

    size_t before = lxt_live_bytes();
    for (int i = 0; i < 20000; i++) {
        size_t n = i % 10 == 9 ? 300000 : 4096;
        p = T_malloc(n);
        CHECK(p != NULL, "malloc(%zu) returned NULL", n);
        memset(p, 3, n);
        void *q = T_realloc(p, 0);
        if (q != NULL)
            T_free(q);
    }
    size_t after = lxt_live_bytes();
    /* 20000 leaked blocks would be > 600 MiB; allow caches some slack. */
    CHECK(after < before + 16 * LXT_MIB,
          "realloc(p, 0) does not free p: live bytes grew from %zu to %zu", before, after);
}

static void array(void)
{
    unsigned char *p = T_reallocarray(NULL, 10, 100);
    CHECK(p != NULL, "reallocarray(NULL, 10, 100) returned NULL");
    lxt_fill(p, 1000, 5);
    p = T_reallocarray(p, 100, 100);
    CHECK(p != NULL, "reallocarray(p, 100, 100) returned NULL");
    CHECK_PATTERN(p, 1000, 5, "reallocarray grow");
    p = T_reallocarray(p, 5, 100);
    CHECK(p != NULL, "reallocarray(p, 5, 100) returned NULL");
    CHECK_PATTERN(p, 500, 5, "reallocarray shrink");

    const size_t bad[][2] = {{SIZE_MAX, 2}, {2, SIZE_MAX}, {(size_t)1 << 32, (size_t)1 << 32},
                             {SIZE_MAX / 8 + 1, 8}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        void *q = T_reallocarray(p, lxt_opaque(bad[i][0]), lxt_opaque(bad[i][1]));
        CHECK(q == NULL, "reallocarray(p, %zu, %zu) overflows but returned %p", bad[i][0],
              bad[i][1], q);
        CHECK(errno == ENOMEM, "reallocarray overflow: errno = %d, expected ENOMEM", errno);
        CHECK_PATTERN(p, 500, 5, "old block after failed reallocarray");
    }
    errno = 0;
    void *q = T_reallocarray(NULL, lxt_opaque(SIZE_MAX), lxt_opaque(3));
    CHECK(q == NULL && errno == ENOMEM, "reallocarray(NULL, SIZE_MAX, 3): got %p errno %d", q,
          errno);
    p = T_reallocarray(p, 2000, 1);
    CHECK(p != NULL, "reallocarray after a failed one returned NULL");
    CHECK_PATTERN(p, 500, 5, "block grown after failed reallocarray");
    T_free(p);
}

int main(void)
{
    lxt_require_lxmalloc();
    pairs();
    lxt_heap_check("after realloc between size pairs");
    chain();
    lxt_heap_check("after the realloc chain");
    aligned();
    lxt_heap_check("after realloc of aligned blocks");
    null_and_zero();
    array();
    lxt_heap_check("after reallocarray");
    return 0;
}

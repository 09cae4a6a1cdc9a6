/* Unit test of the aligned and zeroing variants: lx_zalloc zero to its usable
 * size; lx_recalloc grows with zeros, shrinks and grows again with zeros, and
 * refuses an overflowing product (NULL, ENOMEM, block untouched);
 * lx_realloc_aligned keeps contents and alignment (EINVAL for a bad alignment);
 * lx_malloc_size is the usable size; lx_good_size(n) equals
 * lx_malloc_usable_size(lx_malloc(n)) for every n up to 64 KiB, around every
 * class, page and threshold boundary, and for huge sizes (the huge-block cache is
 * turned off here so that the answer is exact). */
#include "lxt.h"

static int all_zero(const unsigned char *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static void check_good(size_t n)
{
    void *p = lx_malloc(n);
    CHECK(p != NULL, "lx_malloc(%zu)", n);
    size_t u = lx_malloc_usable_size(p);
    CHECK(lx_good_size(n) == u, "lx_good_size(%zu) = %zu, usable %zu", n, lx_good_size(n), u);
    CHECK(lx_malloc_size(p) == u, "lx_malloc_size(%zu)", n);
    lx_free(p);
}

int main(void)
{
    setenv("LXMALLOC_HUGE_CACHE", "0", 1); /* read at the first allocation */

    /* dirty some blocks so that reuse would show through */
    for (int i = 0; i < 100; i++) {
        unsigned char *d = lx_malloc((size_t)i * 48 + 8);
        memset(d, 0xff, lx_malloc_usable_size(d));
        lx_free(d);
    }
    unsigned char *z = lx_zalloc(100);
    CHECK(z != NULL && all_zero(z, 0, lx_malloc_usable_size(z)), "lx_zalloc");
    memset(z, 7, 100);
    z = lx_recalloc(z, 50, 20); /* 1000 bytes */
    CHECK(z != NULL && z[99] == 7 && all_zero(z, 100, lx_malloc_usable_size(z)), "recalloc grow");
    memset(z, 9, 1000);
    z = lx_recalloc(z, 1, 600); /* shrink */
    CHECK(z != NULL && z[599] == 9, "recalloc shrink");
    z = lx_recalloc(z, 4, 1000); /* grow again: 600.. must be zero */
    CHECK(z != NULL && z[599] == 9 && all_zero(z, 600, 4000), "recalloc regrow");
    z = lx_recalloc(z, 1, 3 * LXT_MIB);
    CHECK(z != NULL && z[0] == 9 && all_zero(z, 600, 3 * LXT_MIB), "recalloc huge");
    errno = 0;
    CHECK(lx_recalloc(z, lxt_opaque(SIZE_MAX / 4), 8) == NULL && errno == ENOMEM,
          "recalloc overflow");
    CHECK(z[0] == 9, "block changed by a failed recalloc");
    lx_free(z);
    unsigned *a = lx_recalloc(NULL, 10, sizeof *a);
    CHECK(a != NULL && all_zero((unsigned char *)a, 0, 40), "recalloc(NULL)");
    lx_free(a);

    /* realloc_aligned */
    char *r = lx_realloc_aligned(NULL, 100, 64);
    CHECK(r != NULL && ((uintptr_t)r & 63) == 0, "realloc_aligned(NULL)");
    strcpy(r, "aligned");
    r = lx_realloc_aligned(r, 5000, 4096);
    CHECK(r != NULL && ((uintptr_t)r & 4095) == 0 && strcmp(r, "aligned") == 0, "to 4096");
    r = lx_realloc_aligned(r, 300000, 65536);
    CHECK(r != NULL && ((uintptr_t)r & 65535) == 0 && strcmp(r, "aligned") == 0, "to 65536");
    r = lx_realloc_aligned(r, 20, 32);
    CHECK(r != NULL && ((uintptr_t)r & 31) == 0 && strcmp(r, "aligned") == 0, "shrink to 32");
    errno = 0;
    CHECK(lx_realloc_aligned(r, 100, 48) == NULL && errno == EINVAL, "alignment 48");
    CHECK(strcmp(r, "aligned") == 0, "block changed by a refused realloc_aligned");
    CHECK(lx_realloc_aligned(r, 0, 64) == NULL, "realloc_aligned(p, 0) frees");

    /* good_size */
    for (size_t n = 0; n <= 65536; n++)
        check_good(n);
    for (size_t n = 65536; n <= 4 * LXT_MIB; n += 4093)
        check_good(n);
    const size_t edges[] = {LXT_MIB - 1, LXT_MIB, LXT_MIB + 1, 2 * LXT_MIB - 1, 2 * LXT_MIB,
                            2 * LXT_MIB + 1, 7 * LXT_MIB + 3};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        check_good(edges[i]);
    CHECK(lx_mallopt(M_MMAP_THRESHOLD, 64 * 1024) == 1, "mallopt");
    for (size_t n = 60000; n <= 80000; n += 97)
        check_good(n);
    CHECK(lx_good_size(SIZE_MAX) == SIZE_MAX, "good_size of an impossible size");
    CHECK(lx_heap_check() == 0, "heap check");
    printf("xalloc: ok\n");
    return 0;
}

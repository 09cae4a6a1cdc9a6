/*
 * calloc: overflowing count*size returns NULL with errno ENOMEM; calloc(0, n) and
 * calloc(n, 0) return freeable pointers; memory is zeroed even when it is reused:
 * blocks of many sizes (small to 32 MiB) are filled with garbage and freed, then the
 * same sizes are calloc'ed and must read as zero over the whole request.
 * The same after malloc_trim (memory given back to the kernel and then reused), and
 * for huge blocks calloc'ed at other sizes than the dirty ones freed before.
 * LXT_QUICK=1 (used under valgrind) runs one round instead of three.
 */
#include "lxt.h"

static const size_t sizes[] = {1,    7,    8,     16,    24,    40,    64,     100,
                               128,  200,  256,   500,   512,   1000,  1024,   2000,
                               3000, 4096, 5000,  8192,  10000, 16384, 30000,  65536,
                               100000, 262144, 1048576, 3000000, 8388608, 33554432};
#define NS (sizeof sizes / sizeof sizes[0])
#define PER 24

static void check_zero(const unsigned char *p, size_t n, size_t count, size_t size)
{
    for (size_t i = 0; i < n; i++)
        CHECK(p[i] == 0, "calloc(%zu, %zu) = %p: byte %zu is 0x%02x, expected 0", count, size,
              (const void *)p, i, p[i]);
}

static void overflow(size_t count, size_t size)
{
    errno = 0;
    void *p = T_calloc(lxt_opaque(count), lxt_opaque(size));
    CHECK(p == NULL, "calloc(%zu, %zu) overflows but returned %p, expected NULL", count, size, p);
    CHECK(errno == ENOMEM, "calloc(%zu, %zu) overflow: errno = %d, expected ENOMEM", count, size,
          errno);
}

int main(void)
{
    lxt_require_lxmalloc();

    overflow(SIZE_MAX, 2);
    overflow(2, SIZE_MAX);
    overflow(SIZE_MAX / 2 + 1, 2);
    overflow((size_t)1 << 32, (size_t)1 << 32);
    overflow(SIZE_MAX / 16 + 1, 16);
    overflow(65537, SIZE_MAX / 65536);

    void *a = T_calloc(0, 100), *b = T_calloc(100, 0), *c = T_calloc(0, 0);
    CHECK(a != NULL && b != NULL && c != NULL, "calloc with a zero factor returned NULL");
    T_free(a);
    T_free(b);
    T_free(c);

    static unsigned char *blk[PER];
    int rounds = lxt_quick() ? 1 : 3;
    for (int round = 0; round < rounds; round++) {
        for (size_t s = 0; s < NS; s++) {
            size_t n = sizes[s];
            int per = n >= LXT_MIB ? 2 : PER;
            for (int i = 0; i < per; i++) {
                blk[i] = T_malloc(n);
                CHECK(blk[i] != NULL, "malloc(%zu) returned NULL", n);
                memset(blk[i], 0xA5 + round, T_malloc_usable_size(blk[i]));
            }
            /* Free in an order that differs per round. */
            for (int i = 0; i < per; i++)
                T_free(blk[round == 1 ? per - 1 - i : i]);
            if (round == 2) /* give free memory back to the kernel before reusing it */
                T_malloc_trim(0);
            for (int i = 0; i < per; i++) {
                /* Mix one-factor and two-factor forms of the same total. */
                size_t cnt = (i % 2 && n % 4 == 0) ? 4 : 1, sz = n / cnt;
                blk[i] = T_calloc(cnt, sz);
                CHECK(blk[i] != NULL, "calloc(%zu, %zu) returned NULL", cnt, sz);
                CHECK(lxt_aligned(blk[i], 16), "calloc returned %p, not 16-byte aligned",
                      (void *)blk[i]);
                check_zero(blk[i], n, cnt, sz);
                memset(blk[i], 0x5A, n);
            }
            for (int i = 0; i < per; i++)
                T_free(blk[i]);
        }
    }

    /* Huge and large blocks: free a dirty one of one size, calloc another size. */
    const size_t big[] = {40000, 300000, 1500000, 3 * LXT_MIB, 8 * LXT_MIB, 20 * LXT_MIB};
    const int nbig = lxt_quick() ? 4 : (int)(sizeof big / sizeof big[0]);
    for (int i = 0; i < nbig; i++) {
        for (int j = 0; j < nbig; j++) {
            unsigned char *d = T_malloc(big[i]);
            CHECK(d != NULL, "malloc(%zu) returned NULL", big[i]);
            memset(d, 0xC3, big[i]);
            T_free(d);
            if ((i + j) % 3 == 0)
                T_malloc_trim(0);
            unsigned char *z = T_calloc(1, big[j]);
            CHECK(z != NULL, "calloc(1, %zu) returned NULL", big[j]);
            check_zero(z, big[j], 1, big[j]);
            memset(z, 0x3C, big[j]);
            T_free(z);
        }
    }

    /* Interleaved: a dirty freed neighbour must not leak into a new calloc block. */
    lxt_rng r = {7};
    static unsigned char *live[4096];
    for (int i = 0; i < 4096; i++) {
        size_t n = lxt_size(&r, 200000);
        live[i] = T_malloc(n);
        CHECK(live[i] != NULL, "malloc(%zu) returned NULL", n);
        memset(live[i], 0xFF, T_malloc_usable_size(live[i]));
    }
    for (int i = 0; i < 4096; i += 2)
        T_free(live[i]);
    for (int i = 0; i < 4096; i += 2) {
        size_t n = lxt_size(&r, 200000);
        live[i] = T_calloc(1, n);
        CHECK(live[i] != NULL, "calloc(1, %zu) returned NULL", n);
        check_zero(live[i], n, 1, n);
    }
    for (int i = 0; i < 4096; i++)
        T_free(live[i]);
    lxt_heap_check("after the calloc rounds");
    return 0;
}

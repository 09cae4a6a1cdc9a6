/*
 * Allocation failure: impossible requests (malloc(SIZE_MAX), malloc(PTRDIFF_MAX),
 * calloc overflow, realloc to a huge size, aligned_alloc/memalign with an absurd
 * size) return NULL with errno == ENOMEM, a failed realloc leaves the old block
 * intact, and the heap keeps working normally afterwards. Under the kernel's
 * default (heuristic) overcommit, a request several times larger than RAM and
 * swap together fails too, as with glibc: the kernel refuses the mapping.
 */
#include "lxt.h"

static void expect_enomem(void *p, const char *call)
{
    CHECK(p == NULL, "%s returned %p, expected NULL", call, p);
    CHECK(errno == ENOMEM, "%s: errno = %d, expected ENOMEM (%d)", call, errno, ENOMEM);
}

#define TRY(expr)                                                                        \
    do {                                                                                 \
        errno = 0;                                                                       \
        expect_enomem((expr), #expr);                                                    \
    } while (0)

static void still_works(lxt_rng *r)
{
    static unsigned char *p[2000];
    static size_t n[2000];
    for (int i = 0; i < 2000; i++) {
        n[i] = lxt_size(r, 1 * LXT_MIB);
        p[i] = T_malloc(n[i]);
        CHECK(p[i] != NULL, "malloc(%zu) after a failed allocation returned NULL", n[i]);
        lxt_fill(p[i], n[i], (uint64_t)i);
    }
    for (int i = 0; i < 2000; i++) {
        CHECK_PATTERN(p[i], n[i], (uint64_t)i, "block after failed allocations");
        T_free(p[i]);
    }
}

/* A read of /proc as a number: the first number after `key` in the file (the
 * whole file if key is NULL), or -1. */
static long long proc_number(const char *path, const char *key)
{
    char buf[8192];
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *at = key == NULL ? buf : strstr(buf, key);
    if (at == NULL)
        return -1;
    at += key == NULL ? 0 : strlen(key);
    return strtoll(at, NULL, 10);
}

/* Four times RAM and swap together (at least 64 GiB), or 0 when the kernel
 * would grant it anyway (overcommit_memory 1: always overcommit). */
static size_t beyond_memory(void)
{
    long long mode = proc_number("/proc/sys/vm/overcommit_memory", NULL);
    long long ram = proc_number("/proc/meminfo", "MemTotal:");
    long long swap = proc_number("/proc/meminfo", "SwapTotal:");
    if (mode == 1 || ram <= 0 || swap < 0)
        return 0;
    size_t bytes = (size_t)(ram + swap) * 1024 * 4;
    return bytes < ((size_t)64 << 30) ? (size_t)64 << 30 : bytes;
}

/* Called through a pointer so the compiler does not assume a failed realloc freed p. */
static void *(*volatile realloc_fn)(void *, size_t) = T_realloc;

int main(void)
{
    lxt_require_lxmalloc();
    lxt_rng r = {3};
    const size_t smax = lxt_opaque(SIZE_MAX), pmax = lxt_opaque(PTRDIFF_MAX);

    /* Warm the heap first so failures happen on an initialised allocator too. */
    still_works(&r);

    TRY(T_malloc(smax));
    TRY(T_malloc(smax - 4096));
    TRY(T_malloc(pmax));
    TRY(T_malloc(pmax + 1));
    TRY(T_malloc(smax / 2 + 12345));
    TRY(T_calloc(smax, 2));
    TRY(T_calloc(pmax, 1));
    TRY(T_calloc(lxt_opaque((size_t)1 << 40), lxt_opaque((size_t)1 << 30)));
    TRY(T_aligned_alloc(64, smax - 100));
    TRY(T_aligned_alloc(4096, pmax));
    TRY(T_aligned_alloc(2 * LXT_MIB, smax - 2 * LXT_MIB));
    TRY(T_memalign(64, smax - 100));
    TRY(T_memalign(4096, pmax));

    unsigned char *p = T_malloc(1000);
    CHECK(p != NULL, "malloc(1000) returned NULL");
    lxt_fill(p, 1000, 77);
    TRY(realloc_fn(p, smax));
    TRY(realloc_fn(p, smax - 64));
    TRY(realloc_fn(p, pmax));
    TRY(realloc_fn(p, pmax + 1));
    CHECK_PATTERN(p, 1000, 77, "block after failed realloc");
    p = T_realloc(p, 5000);
    CHECK(p != NULL, "realloc(p, 5000) after failed reallocs returned NULL");
    CHECK_PATTERN(p, 1000, 77, "block grown after failed realloc");
    T_free(p);

    /* Same with a block that is large and one that is huge. */
    const size_t big[] = {300000, 20 * LXT_MIB};
    for (int i = 0; i < 2; i++) {
        p = T_malloc(big[i]);
        CHECK(p != NULL, "malloc(%zu) returned NULL", big[i]);
        lxt_fill(p, big[i], 78);
        TRY(realloc_fn(p, smax - 4096));
        TRY(realloc_fn(p, pmax));
        CHECK_PATTERN(p, big[i], 78, "large block after failed realloc");
        T_free(p);
    }

    still_works(&r);

    size_t huge = lxt_opaque(beyond_memory());
    if (huge == 0) {
        printf("failure: overcommit_memory is 1, requests beyond memory not tried\n");
    } else {
        TRY(T_malloc(huge));
        TRY(T_calloc(huge / 8, 8));
        TRY(T_aligned_alloc(2 * LXT_MIB, huge));
        for (int i = 0; i < 2; i++) {
            p = T_malloc(big[i]);
            CHECK(p != NULL, "malloc(%zu) returned NULL", big[i]);
            lxt_fill(p, big[i], 79);
            TRY(realloc_fn(p, huge));
            CHECK_PATTERN(p, big[i], 79, "block after a failed realloc beyond memory");
            T_free(p);
        }
    }

    /* Failures interleaved with normal use. */
    for (int i = 0; i < 100; i++) {
        TRY(T_malloc(smax - (size_t)i));
        void *q = T_malloc((size_t)i + 1);
        CHECK(q != NULL, "malloc(%d) between failures returned NULL", i + 1);
        T_free(q);
    }
    still_works(&r);
    lxt_heap_check("after the failed allocations");
    return 0;
}

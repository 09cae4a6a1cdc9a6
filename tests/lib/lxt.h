/*
 * Shared helpers for the lxmalloc tests.
 *
 * - The allocator under test is reached through T_malloc, T_free, ...: the standard
 *   names by default (the test runs with LD_PRELOAD=liblxmalloc.so), or the lx_
 *   prefixed functions when compiled with -DLXT_LX_API (linked with
 *   liblxmalloc_api.a, used for the valgrind and UBSan flavours).
 * - lxt_require_lxmalloc() fails the test unless malloc really is lxmalloc's
 *   (set LXT_SYSTEM=1 to run the standard-name tests against the system malloc).
 * - CHECK(cond, fmt, ...) prints "test: file:line: message" on stderr and exits 1.
 * - A deterministic PRNG and word patterns to detect overlapping or corrupted blocks.
 * - lxt_quick(): LXT_QUICK=1 (set for the valgrind runs) asks for a lighter run.
 */
#ifndef LXT_H
#define LXT_H

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lxmalloc.h"

#ifdef LXT_LX_API
#define LXT_FLAVOUR "lx_ API"
#define T_malloc lx_malloc
#define T_calloc lx_calloc
#define T_realloc lx_realloc
#define T_reallocarray lx_reallocarray
#define T_free lx_free
#define T_posix_memalign lx_posix_memalign
#define T_aligned_alloc lx_aligned_alloc
#define T_memalign lx_memalign
#define T_valloc lx_valloc
#define T_pvalloc lx_pvalloc
#define T_malloc_usable_size lx_malloc_usable_size
#define T_mallopt lx_mallopt
#define T_malloc_trim lx_malloc_trim
#define T_malloc_stats lx_malloc_stats
#define T_malloc_info lx_malloc_info
#else
#define LXT_FLAVOUR "standard names"
#define T_malloc malloc
#define T_calloc calloc
#define T_realloc realloc
#define T_reallocarray reallocarray
#define T_free free
#define T_posix_memalign posix_memalign
#define T_aligned_alloc aligned_alloc
#define T_memalign memalign
#define T_valloc valloc
#define T_pvalloc pvalloc
#define T_malloc_usable_size malloc_usable_size
#define T_mallopt mallopt
#define T_malloc_trim malloc_trim
#define T_malloc_stats malloc_stats
#define T_malloc_info malloc_info
#endif

#define LXT_KIB ((size_t)1024)
#define LXT_MIB ((size_t)1024 * 1024)

/* Report a failure and end the process at once (safe in threads and forked children). */
__attribute__((format(printf, 3, 4), noreturn)) static inline void
lxt_fail(const char *file, int line, const char *fmt, ...)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "%s: %s:%d: ", program_invocation_short_name, file, line);
    if (n < 0 || (size_t)n >= sizeof buf)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof buf - 2)
        len = sizeof buf - 2;
    buf[len++] = '\n';
    ssize_t w = write(2, buf, len);
    (void)w;
    _exit(1);
}

#define LXT_FAIL(...) lxt_fail(__FILE__, __LINE__, __VA_ARGS__)
#define CHECK(cond, ...)                                                                 \
    do {                                                                                 \
        if (!(cond))                                                                     \
            LXT_FAIL(__VA_ARGS__);                                                       \
    } while (0)

/* An informational line on stderr, printed only with LXT_VERBOSE=1. */
__attribute__((format(printf, 1, 2))) static inline void lxt_note(const char *fmt, ...)
{
    const char *v = getenv("LXT_VERBOSE");
    if (v == NULL || v[0] != '1')
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", program_invocation_short_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Keep the compiler from proving a pointer unused (and eliding malloc/free pairs). */
static inline void lxt_escape(void *p) { __asm__ volatile("" : : "g"(p) : "memory"); }

/* A pointer the compiler cannot see through (e.g. to free a non-heap address on
 * purpose without a -Wfree-nonheap-object error). */
static inline void *lxt_launder(void *p)
{
    __asm__("" : "+r"(p));
    return p;
}

/* A size the compiler cannot see through (avoids -Walloc-size-larger-than). */
static inline size_t lxt_opaque(size_t n)
{
    volatile size_t v = n;
    return v;
}

/* 1 when a lighter run was asked for (LXT_QUICK=1, used under valgrind). */
static inline int lxt_quick(void)
{
    const char *e = getenv("LXT_QUICK");
    return e != NULL && e[0] == '1';
}

/* 1 when the tests were asked to run against the system malloc (LXT_SYSTEM=1). */
static inline int lxt_system_mode(void)
{
#ifdef LXT_LX_API
    return 0;
#else
    const char *e = getenv("LXT_SYSTEM");
    return e != NULL && e[0] == '1';
#endif
}

/* Fail unless the standard functions of this process are lxmalloc's. */
static inline void lxt_require_lxmalloc(void)
{
#ifndef LXT_LX_API
    if (lxt_system_mode())
        return;
    void *lx = dlsym(RTLD_DEFAULT, "lx_malloc");
    CHECK(lx != NULL, "lx_malloc not found in the process: not running on lxmalloc "
                      "(LD_PRELOAD missing or broken)");
    void *std = dlsym(RTLD_DEFAULT, "malloc");
    Dl_info a, b;
    CHECK(std != NULL && dladdr(lx, &a) && dladdr(std, &b), "dladdr failed on malloc/lx_malloc");
    CHECK(a.dli_fbase == b.dli_fbase, "malloc resolves to %s, not to %s which defines lx_malloc",
          b.dli_fname, a.dli_fname);
#endif
}

/* Look up an optional lx_ or standard function at run time. */
static inline void *lxt_sym(const char *name) { return dlsym(RTLD_DEFAULT, name); }

/* The process's resident set, in bytes, from /proc/self/statm. */
static inline size_t lxt_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    CHECK(f != NULL && fscanf(f, "%lu %lu", &size, &resident) == 2, "statm");
    fclose(f);
    return resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Run lxmalloc's consistency checker (lx_heap_check) and fail on any problem it
 * reports; `when` names the checkpoint. Does nothing on the system malloc. */
static inline void lxt_heap_check(const char *when)
{
#ifdef LXT_LX_API
    size_t n = lx_heap_check();
#else
    if (lxt_system_mode())
        return;
    size_t (*check)(void) = (size_t(*)(void))lxt_sym("lx_heap_check");
    CHECK(check != NULL, "lx_heap_check is not defined in the process");
    size_t n = check();
#endif
    CHECK(n == 0, "lx_heap_check found %zu problem(s) %s (details above)", n, when);
}

/* splitmix64: small, deterministic, good enough for test workloads. */
typedef struct {
    uint64_t s;
} lxt_rng;

static inline uint64_t lxt_next(lxt_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static inline size_t lxt_range(lxt_rng *r, size_t lo, size_t hi)
{
    return lo + (size_t)(lxt_next(r) % (uint64_t)(hi - lo + 1));
}

/* A test-like size: mostly small, some medium, a few large. */
static inline size_t lxt_size(lxt_rng *r, size_t max_large)
{
    uint64_t k = lxt_next(r) % 100;
    if (k < 70)
        return lxt_range(r, 1, 256);
    if (k < 95)
        return lxt_range(r, 257, 32 * LXT_KIB);
    return lxt_range(r, 32 * LXT_KIB, max_large);
}

/* Byte i of the pattern of tag: byte i % 8 of a word that depends on tag and i / 8. */
static inline uint64_t lxt_pword(uint64_t tag, size_t w)
{
    uint64_t x = tag * 0x9E3779B97F4A7C15ull + (uint64_t)w * 0xD6E8FEB86659FD93ull + 1;
    return x ^ (x >> 29);
}

/* Fill n bytes at p with the pattern of tag (a function of tag and offset only). */
static inline void lxt_fill(void *p, size_t n, uint64_t tag)
{
    unsigned char *c = p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = lxt_pword(tag, i / 8);
        memcpy(c + i, &w, 8);
    }
    if (i < n) {
        uint64_t w = lxt_pword(tag, i / 8);
        memcpy(c + i, &w, n - i);
    }
}

/* Offset of the first byte that does not match lxt_fill(p, n, tag), or SIZE_MAX. */
static inline size_t lxt_verify(const void *p, size_t n, uint64_t tag)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = lxt_pword(tag, i / 8), v = 0;
        size_t k = n - i < 8 ? n - i : 8;
        memcpy(&v, c + i, k);
        if (k < 8)
            w &= ((uint64_t)1 << (8 * k)) - 1; /* little-endian: low bytes come first */
        if (v != w) {
            for (size_t j = 0; j < k; j++)
                if (c[i + j] != ((const unsigned char *)&w)[j])
                    return i + j;
        }
    }
    return SIZE_MAX;
}

/* CHECK that p holds the pattern of tag over n bytes. */
#define CHECK_PATTERN(p, n, tag, what)                                                   \
    do {                                                                                 \
        size_t lxt_off_ = lxt_verify((p), (n), (tag));                                   \
        CHECK(lxt_off_ == SIZE_MAX, "%s: block %p of %zu bytes corrupted at offset %zu", \
              (what), (void *)(p), (size_t)(n), lxt_off_);                               \
    } while (0)

static inline int lxt_aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

/* Bytes currently allocated according to the allocator itself. */
static inline size_t lxt_live_bytes(void)
{
#ifdef LXT_LX_API
    lx_stats_t st;
    lx_stats_get(&st);
    return (size_t)st.live_bytes;
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

#endif /* LXT_H */

/*
 * glibc extensions: mallopt accepts M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, M_PERTURB,
 * M_CHECK_ACTION and M_ARENA_MAX (returns 1) and rejects an unknown parameter
 * (returns 0); mallinfo/mallinfo2 account 10 MiB of live small blocks in uordblks
 * and drop after they are freed, arena and hblkhd are nonzero when relevant
 * (lx_stats_get plays that part in the lx_ flavour); malloc_stats writes to stderr;
 * malloc_trim returns 0 or 1; malloc_info writes "<malloc ...>...</malloc>";
 * free_sized and free_aligned_sized free blocks of the given size; blocks
 * allocated under one M_MMAP_THRESHOLD are reallocated and freed correctly after
 * it changes.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#include "lxt.h"

#define NSMALL 40960 /* 40960 blocks of 256 bytes = 10 MiB */

static void opts(void)
{
    struct {
        int param, value;
        const char *name;
    } ok[] = {{M_MMAP_THRESHOLD, 256 * 1024, "M_MMAP_THRESHOLD"},
              {M_TRIM_THRESHOLD, 256 * 1024, "M_TRIM_THRESHOLD"},
              {M_PERTURB, 0, "M_PERTURB"},
              {M_CHECK_ACTION, 3, "M_CHECK_ACTION"},
              {M_ARENA_MAX, 8, "M_ARENA_MAX"}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = T_mallopt(ok[i].param, ok[i].value);
        CHECK(rc == 1, "mallopt(%s, %d) returned %d, expected 1", ok[i].name, ok[i].value, rc);
    }
    /* glibc accepts unknown parameters; lxmalloc rejects them, and negative values,
     * as documented. */
    if (!lxt_system_mode()) {
        int rc = T_mallopt(12345, 1);
        CHECK(rc == 0, "mallopt(12345, 1) returned %d, expected 0 for an unknown parameter", rc);
        rc = T_mallopt(M_MMAP_THRESHOLD, -1);
        CHECK(rc == 0, "mallopt(M_MMAP_THRESHOLD, -1) returned %d, expected 0", rc);
        rc = T_mallopt(M_MMAP_THRESHOLD, 256 * 1024);
        CHECK(rc == 1, "mallopt(M_MMAP_THRESHOLD, 256 KiB) returned %d after a rejected call", rc);
    }
    void *p = T_malloc(1000);
    CHECK(p != NULL, "malloc after mallopt returned NULL");
    memset(p, 0, 1000);
    T_free(p);
}

/* Blocks of every kind survive changes of M_MMAP_THRESHOLD. */
static void threshold_changes(void)
{
    const size_t sizes[] = {100, 40000, 600 * 1024, 1500 * 1024, 3 * LXT_MIB};
    const int thresholds[] = {4096, 2 * 1024 * 1024, 128 * 1024, 1024 * 1024};
    enum { NS = sizeof sizes / sizeof sizes[0] };
    unsigned char *p[4][NS];
    for (int t = 0; t < 4; t++) {
        CHECK(T_mallopt(M_MMAP_THRESHOLD, thresholds[t]) == 1, "mallopt(M_MMAP_THRESHOLD, %d) failed",
              thresholds[t]);
        for (int s = 0; s < NS; s++) {
            p[t][s] = T_malloc(sizes[s]);
            CHECK(p[t][s] != NULL, "malloc(%zu) returned NULL", sizes[s]);
            lxt_fill(p[t][s], sizes[s], (uint64_t)(t * NS + s));
        }
    }
    /* Now realloc each block, under yet another threshold, both ways, then free. */
    CHECK(T_mallopt(M_MMAP_THRESHOLD, 64 * 1024) == 1, "mallopt(M_MMAP_THRESHOLD) failed");
    for (int t = 0; t < 4; t++) {
        for (int s = 0; s < NS; s++) {
            size_t n = sizes[(s + 2) % NS], keep = n < sizes[s] ? n : sizes[s];
            unsigned char *q = T_realloc(p[t][s], n);
            CHECK(q != NULL, "realloc(.., %zu) returned NULL", n);
            CHECK_PATTERN(q, keep, (uint64_t)(t * NS + s), "block realloc'ed after threshold change");
            CHECK(T_malloc_usable_size(q) >= n, "usable size %zu < %zu", T_malloc_usable_size(q), n);
            memset(q, 0x12, n);
            T_free(q);
        }
    }
    CHECK(T_mallopt(M_MMAP_THRESHOLD, 1024 * 1024) == 1, "mallopt(M_MMAP_THRESHOLD) failed");
    lxt_heap_check("after M_MMAP_THRESHOLD changes");
}

struct usage {
    size_t used, arena, mapped, old_used; /* old_used: mallinfo's int uordblks */
};

static struct usage usage(void)
{
    struct usage u;
#ifdef LXT_LX_API
    lx_stats_t st;
    CHECK(lx_stats_get(&st) == 0, "lx_stats_get failed");
    u.used = (size_t)st.live_bytes;
    u.arena = (size_t)st.mapped_bytes;
    u.mapped = (size_t)st.huge_bytes;
    u.old_used = u.used;
#else
    struct mallinfo2 mi = mallinfo2();
    u.used = mi.uordblks;
    u.arena = mi.arena;
    u.mapped = mi.hblkhd;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    struct mallinfo old = mallinfo();
#pragma GCC diagnostic pop
    u.old_used = (size_t)(unsigned)old.uordblks;
#endif
    return u;
}

/* A lower M_MMAP_THRESHOLD holds at once for sizes the malloc fast path serves
 * from slabs: with free blocks ready in the 8 KiB class's slab, the threshold
 * goes down to 4 KiB and the next malloc(8000) must be mapped. */
static void threshold_fast_path(void)
{
    void *w[4];
    for (int i = 0; i < 4; i++)
        w[i] = T_malloc(8000);
    for (int i = 0; i < 4; i++)
        T_free(w[i]);
    void *keep = T_malloc(8000); /* takes the frees back: the rest are ready */
    size_t before = usage().mapped;
    CHECK(T_mallopt(M_MMAP_THRESHOLD, 4096) == 1, "mallopt(M_MMAP_THRESHOLD, 4096) failed");
    void *p = T_malloc(8000);
    CHECK(p != NULL, "malloc(8000) returned NULL");
    size_t after = usage().mapped;
    CHECK(after >= before + 8000,
          "malloc(8000) under a 4 KiB mmap threshold was not mapped (%zu bytes mapped, %zu before)",
          after, before);
    T_free(p);
    T_free(keep);
    CHECK(T_mallopt(M_MMAP_THRESHOLD, 1024 * 1024) == 1, "mallopt(M_MMAP_THRESHOLD) failed");
    lxt_heap_check("after the threshold went down and up again");
}

static void info(void)
{
    static void *blk[NSMALL];
    struct usage before = usage();
    for (int i = 0; i < NSMALL; i++) {
        blk[i] = T_malloc(256);
        CHECK(blk[i] != NULL, "malloc(256) returned NULL");
        memset(blk[i], 1, 256);
    }
    struct usage during = usage();
    CHECK(during.used >= before.used + 10 * LXT_MIB,
          "with 10 MiB more live in 256-byte blocks, used bytes went from %zu to %zu",
          before.used, during.used);
    CHECK(during.old_used >= before.old_used + 10 * LXT_MIB,
          "with 10 MiB more live in 256-byte blocks, mallinfo().uordblks went from %zu to %zu",
          before.old_used, during.old_used);
    CHECK(during.arena >= 10 * LXT_MIB, "arena/mapped bytes %zu with 10 MiB live, expected >= 10 MiB",
          during.arena);
    for (int i = 0; i < NSMALL; i++)
        T_free(blk[i]);
    struct usage after = usage();
    CHECK(after.used + 5 * LXT_MIB <= during.used,
          "after freeing 10 MiB of blocks, used bytes only went from %zu to %zu", during.used,
          after.used);
    CHECK(after.old_used + 5 * LXT_MIB <= during.old_used,
          "after freeing 10 MiB of blocks, mallinfo().uordblks only went from %zu to %zu",
          during.old_used, after.old_used);

    void *huge = T_malloc(32 * LXT_MIB);
    CHECK(huge != NULL, "malloc(32 MiB) returned NULL");
    memset(huge, 2, 4096);
    struct usage h = usage();
    CHECK(h.mapped >= 32 * LXT_MIB,
          "with a 32 MiB block live, mmapped/huge bytes = %zu, expected >= 32 MiB", h.mapped);
    T_free(huge);
}

/* Run fn with stderr going to a temporary file; return what it wrote. */
static size_t capture_stderr(void (*fn)(void), char *buf, size_t cap)
{
    FILE *tmp = tmpfile();
    CHECK(tmp != NULL, "tmpfile failed: %s", strerror(errno));
    int saved = dup(2);
    CHECK(saved >= 0 && dup2(fileno(tmp), 2) == 2, "cannot redirect stderr");
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, cap - 1, tmp);
    buf[n] = 0;
    fclose(tmp);
    return n;
}

/* M_PERTURB: new blocks (not calloc's) read as the complement of the byte (glibc
 * skips this for blocks from its thread cache, so only calloc is checked there). */
static void perturb(void)
{
    CHECK(T_mallopt(M_PERTURB, 0xa5) == 1, "mallopt(M_PERTURB, 0xa5) did not return 1");
    const size_t sizes[] = {1, 24, 100, 1000, 5000, 40000, 200000, 3 * LXT_MIB};
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            size_t n = sizes[i];
            unsigned char *p = T_malloc(n);
            CHECK(p != NULL, "malloc(%zu) returned NULL", n);
            for (size_t k = 0; k < n && !lxt_system_mode(); k += (k < 64 ? 1 : 97))
                CHECK(p[k] == 0x5a, "with M_PERTURB 0xa5, malloc(%zu) byte %zu is 0x%02x, "
                      "expected 0x5a", n, k, p[k]);
            T_free(p);
            p = T_calloc(1, n);
            CHECK(p != NULL, "calloc(1, %zu) returned NULL", n);
            for (size_t k = 0; k < n; k++)
                CHECK(p[k] == 0, "with M_PERTURB 0xa5, calloc(1, %zu) byte %zu is 0x%02x", n, k,
                      p[k]);
            memset(p, 0x33, n);
            T_free(p);
        }
    }
    CHECK(T_mallopt(M_PERTURB, 0) == 1, "mallopt(M_PERTURB, 0) did not return 1");
}

/* M_PERTURB set by one thread reaches a thread whose heap already serves the size
 * from its fast path (a slab with free blocks, met before the change). */
static pthread_barrier_t perturb_bar;

static void *perturb_peer(void *arg)
{
    (void)arg;
    void *warm[64];
    for (int i = 0; i < 64; i++)
        warm[i] = T_malloc(48);
    for (int i = 0; i < 64; i++)
        T_free(warm[i]);
    pthread_barrier_wait(&perturb_bar); /* the main thread sets M_PERTURB */
    pthread_barrier_wait(&perturb_bar);
    unsigned char *p = T_malloc(48);
    uintptr_t bad = p == NULL;
    for (size_t k = 0; p != NULL && k < 48; k++)
        bad |= p[k] != 0x5a;
    T_free(p);
    return (void *)bad;
}

static void perturb_other_thread(void)
{
    if (lxt_system_mode())
        return; /* glibc's thread cache skips perturbation */
    pthread_t t;
    CHECK(pthread_barrier_init(&perturb_bar, NULL, 2) == 0, "pthread_barrier_init");
    CHECK(pthread_create(&t, NULL, perturb_peer, NULL) == 0, "pthread_create");
    pthread_barrier_wait(&perturb_bar);
    CHECK(T_mallopt(M_PERTURB, 0xa5) == 1, "mallopt(M_PERTURB, 0xa5) did not return 1");
    pthread_barrier_wait(&perturb_bar);
    void *bad = NULL;
    CHECK(pthread_join(t, &bad) == 0, "pthread_join");
    CHECK(bad == NULL, "another thread's malloc(48) after mallopt(M_PERTURB, 0xa5) in this one "
          "did not read 0x5a");
    CHECK(T_mallopt(M_PERTURB, 0) == 1, "mallopt(M_PERTURB, 0) did not return 1");
    pthread_barrier_destroy(&perturb_bar);
}

static void call_malloc_stats(void) { T_malloc_stats(); }

static void stats_trim_info(void)
{
    static char buf[65536];
    void *p = T_malloc(12345);
    CHECK(p != NULL, "malloc returned NULL");
    size_t n = capture_stderr(call_malloc_stats, buf, sizeof buf);
    CHECK(n > 0, "malloc_stats wrote nothing to stderr");
    T_free(p);

    int rc = T_malloc_trim(0);
    CHECK(rc == 0 || rc == 1, "malloc_trim(0) returned %d, expected 0 or 1", rc);
    rc = T_malloc_trim(1 << 20);
    CHECK(rc == 0 || rc == 1, "malloc_trim(1 MiB) returned %d, expected 0 or 1", rc);

    FILE *f = tmpfile();
    CHECK(f != NULL, "tmpfile failed");
    rc = T_malloc_info(0, f);
    CHECK(rc == 0, "malloc_info(0, f) returned %d, expected 0", rc);
    fflush(f);
    rewind(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    CHECK(strncmp(buf, "<malloc", 7) == 0, "malloc_info output starts with \"%.20s\", expected <malloc",
          buf);
    CHECK(strstr(buf, "</malloc>") != NULL, "malloc_info output has no closing </malloc>");
    if (!lxt_system_mode()) {
        /* Documented: options other than 0 fail with -1 and EINVAL (glibc returns EINVAL). */
        f = tmpfile();
        CHECK(f != NULL, "tmpfile failed");
        errno = 0;
        rc = T_malloc_info(1, f);
        CHECK(rc == -1 && errno == EINVAL, "malloc_info(1, f) = %d errno %d, expected -1 / EINVAL",
              rc, errno);
        fclose(f);
    }
}

typedef void (*free_sized_fn)(void *, size_t);
typedef void (*free_aligned_sized_fn)(void *, size_t, size_t);

static void sized(void)
{
#ifdef LXT_LX_API
    free_sized_fn fs = lx_free_sized;
    free_aligned_sized_fn fas = lx_free_aligned_sized;
#else
    free_sized_fn fs = (free_sized_fn)lxt_sym("free_sized");
    free_aligned_sized_fn fas = (free_aligned_sized_fn)lxt_sym("free_aligned_sized");
    if (lxt_system_mode() && (fs == NULL || fas == NULL))
        return; /* older C libraries lack them */
    CHECK(fs != NULL, "free_sized is not defined");
    CHECK(fas != NULL, "free_aligned_sized is not defined");
#endif
    fs(NULL, 0);
    fas(NULL, 64, 0);
    for (int round = 0; round < 3; round++) {
        for (size_t n = 1; n <= 3 * LXT_MIB; n = n * 3 + 1) {
            void *p = T_malloc(n);
            CHECK(p != NULL, "malloc(%zu) returned NULL", n);
            memset(p, 3, n);
            fs(p, n);
            p = T_calloc(1, n);
            CHECK(p != NULL, "calloc(1, %zu) returned NULL", n);
            fs(p, n);
            for (size_t a = 16; a <= 64 * LXT_KIB; a *= 4) {
                void *q = T_aligned_alloc(a, n);
                CHECK(q != NULL && lxt_aligned(q, a), "aligned_alloc(%zu, %zu) = %p", a, n, q);
                memset(q, 4, n);
                fas(q, a, n);
            }
        }
    }
}

int main(void)
{
    lxt_require_lxmalloc();
    opts();
    threshold_changes();
    threshold_fast_path();
    perturb();
    perturb_other_thread();
    info();
    stats_trim_info();
    sized();
    return 0;
}

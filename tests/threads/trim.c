/*
 * Giving memory back while other threads use it: 4 threads allocate, check and
 * free blocks of all kinds (small, large page runs, huge mappings) while a fifth
 * thread keeps calling malloc_trim(0), mallinfo2, malloc_info and (on lxmalloc)
 * lx_stats_get, with M_TRIM_THRESHOLD at 0 so emptied segments are released at
 * once. Every block's pattern is verified before it is freed. LXT_QUICK=1 (used
 * under valgrind) runs fewer rounds.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "lxt.h"

#define NWORKERS 4
#define SLOTS 256

static atomic_int stop;
static long rounds = 300;

struct blk {
    unsigned char *p;
    size_t n, checked; /* the pattern covers `checked` bytes, and the last byte if more */
    uint64_t tag;
};

static size_t pick(lxt_rng *r)
{
    uint64_t k = lxt_next(r) % 100;
    if (k < 2)
        return lxt_range(r, 1100 * LXT_KIB, 3 * LXT_MIB);
    if (k < 12)
        return lxt_range(r, 40 * LXT_KIB, LXT_MIB);
    return lxt_range(r, 1, 4096);
}

static void put(struct blk *b, size_t n, uint64_t tag)
{
    b->n = n;
    b->checked = n < 16384 ? n : 16384;
    b->tag = tag;
    lxt_fill(b->p, b->checked, tag);
    if (n > b->checked)
        b->p[n - 1] = (unsigned char)(tag | 1);
}

static void check(const struct blk *b, const char *what)
{
    CHECK_PATTERN(b->p, b->checked, b->tag, what);
    CHECK(b->n == b->checked || b->p[b->n - 1] == (unsigned char)(b->tag | 1), "%s: last byte of a %zu-byte block "
          "is 0x%02x, expected 0x%02x", what, b->n, b->p[b->n - 1], (unsigned char)(b->tag | 1));
}

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    lxt_rng r = {4242 + id};
    struct blk *s = T_calloc(SLOTS, sizeof *s);
    CHECK(s != NULL, "calloc returned NULL");
    uint64_t seq = (uint64_t)id << 40;
    for (long round = 0; round < rounds; round++) {
        for (int i = 0; i < SLOTS; i++) {
            size_t n = pick(&r);
            unsigned char *p = T_malloc(n);
            CHECK(p != NULL, "malloc(%zu) returned NULL", n);
            s[i].p = p;
            put(&s[i], n, ++seq);
        }
        /* Free everything but a few, so segments empty out and get trimmed. */
        for (int i = 0; i < SLOTS; i++) {
            check(&s[i], "block while another thread trims");
            if (i % 16 == 0 && lxt_next(&r) % 2) {
                size_t n = pick(&r);
                unsigned char *q = T_realloc(s[i].p, n);
                CHECK(q != NULL, "realloc(.., %zu) returned NULL", n);
                size_t keep = n < s[i].checked ? n : s[i].checked;
                CHECK_PATTERN(q, keep, s[i].tag, "block realloc'ed while another thread trims");
                s[i].p = q;
                put(&s[i], n, ++seq);
                check(&s[i], "block realloc'ed while another thread trims");
            }
            T_free(s[i].p);
        }
    }
    T_free(s);
    return NULL;
}

static void *trimmer(void *arg)
{
    (void)arg;
    FILE *devnull = fopen("/dev/null", "w");
    CHECK(devnull != NULL, "cannot open /dev/null");
    int (*stats)(lx_stats_t *) = NULL;
#ifdef LXT_LX_API
    stats = lx_stats_get;
#else
    if (!lxt_system_mode())
        stats = (int (*)(lx_stats_t *))lxt_sym("lx_stats_get");
#endif
    long n = 0;
    while (!atomic_load(&stop)) {
        int rc = T_malloc_trim(0);
        CHECK(rc == 0 || rc == 1, "malloc_trim(0) returned %d", rc);
        if (n % 8 == 0) {
#ifndef LXT_LX_API
            struct mallinfo2 mi = mallinfo2();
            lxt_escape(&mi);
#endif
            CHECK(T_malloc_info(0, devnull) == 0, "malloc_info failed");
            if (stats != NULL) {
                lx_stats_t st;
                CHECK(stats(&st) == 0, "lx_stats_get failed");
            }
        }
        n++;
    }
    fclose(devnull);
    return (void *)n;
}

int main(void)
{
    lxt_require_lxmalloc();
    if (lxt_quick())
        rounds = 20;
    CHECK(T_mallopt(M_TRIM_THRESHOLD, 0) == 1, "mallopt(M_TRIM_THRESHOLD, 0) did not return 1");
    pthread_t w[NWORKERS], t;
    CHECK(pthread_create(&t, NULL, trimmer, NULL) == 0, "pthread_create failed");
    for (uintptr_t i = 0; i < NWORKERS; i++)
        CHECK(pthread_create(&w[i], NULL, worker, (void *)i) == 0, "pthread_create failed");
    for (int i = 0; i < NWORKERS; i++)
        CHECK(pthread_join(w[i], NULL) == 0, "pthread_join failed");
    atomic_store(&stop, 1);
    void *n;
    CHECK(pthread_join(t, &n) == 0, "pthread_join failed");
    lxt_note("%ld trims while the workers ran", (long)(intptr_t)n);
    lxt_heap_check("after trimming under load");
    return 0;
}

/*
 * 8 threads, each with its own fixed seed, do random malloc/calloc/realloc/
 * posix_memalign/free over a table of slots; every block carries a byte pattern
 * derived from (thread, sequence number) that is verified before every realloc and
 * free, so a block handed to two threads or corrupted by the allocator is caught.
 * LXT_QUICK=1 (used under valgrind) runs fewer operations.
 */
#include <pthread.h>

#include "lxt.h"

#define NTHREADS 8
#define SLOTS 512

struct slot {
    unsigned char *p;
    size_t n;
    uint64_t tag;
};

static long ops = 60000;

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    lxt_rng r = {1000 + id};
    static __thread struct slot s[SLOTS];
    uint64_t seq = id << 40;
    for (long op = 0; op < ops; op++) {
        struct slot *sl = &s[lxt_next(&r) % SLOTS];
        size_t n = lxt_size(&r, 96 * LXT_KIB);
        unsigned k = (unsigned)(lxt_next(&r) % 16);
        if (sl->p != NULL) {
            CHECK_PATTERN(sl->p, sl->n, sl->tag, "thread block");
            if (k < 10) {
                T_free(sl->p);
                sl->p = NULL;
            } else {
                unsigned char *q = T_realloc(sl->p, n);
                CHECK(q != NULL, "realloc(.., %zu) returned NULL", n);
                CHECK(lxt_aligned(q, 16), "realloc returned %p, not 16-byte aligned", (void *)q);
                size_t keep = n < sl->n ? n : sl->n;
                CHECK_PATTERN(q, keep, sl->tag, "block after realloc");
                sl->p = q;
                sl->n = n;
                sl->tag = ++seq;
                lxt_fill(q, n, sl->tag);
            }
            continue;
        }
        unsigned char *p;
        if (k < 10) {
            p = T_malloc(n);
        } else if (k < 13) {
            p = T_calloc(1, n);
            CHECK(p != NULL, "calloc(1, %zu) returned NULL", n);
            for (size_t i = 0; i < n; i += 61)
                CHECK(p[i] == 0, "calloc(1, %zu) byte %zu is 0x%02x", n, i, p[i]);
        } else {
            size_t a = (size_t)16 << (lxt_next(&r) % 9);
            void *v = NULL;
            int rc = T_posix_memalign(&v, a, n);
            CHECK(rc == 0, "posix_memalign(%zu, %zu) returned %d", a, n, rc);
            CHECK(lxt_aligned(v, a), "posix_memalign(%zu, ..) = %p, misaligned", a, v);
            p = v;
        }
        CHECK(p != NULL, "allocation of %zu bytes returned NULL", n);
        CHECK(lxt_aligned(p, 16), "block %p not 16-byte aligned", (void *)p);
        sl->p = p;
        sl->n = n;
        sl->tag = ++seq;
        lxt_fill(p, n, sl->tag);
    }
    for (int i = 0; i < SLOTS; i++) {
        if (s[i].p != NULL) {
            CHECK_PATTERN(s[i].p, s[i].n, s[i].tag, "thread block at exit");
            T_free(s[i].p);
        }
    }
    return NULL;
}

int main(void)
{
    lxt_require_lxmalloc();
    if (lxt_quick())
        ops = 5000;
    pthread_t t[NTHREADS];
    for (uintptr_t i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0, "pthread_create failed");
    for (int i = 0; i < NTHREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0, "pthread_join failed");
    lxt_heap_check("after the threads exited");
    return 0;
}

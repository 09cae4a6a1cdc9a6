/* Unit test of object caches: ctor runs once per object when it is carved and a
 * freed object comes back in the state it was left in; alignment and sizes;
 * shrink gives empty slabs back and runs dtor on their objects; destroy runs
 * dtor on every constructed object; statistics (lx_cache_stats_get and the
 * malloc_stats table); frees from several threads; misuse in forked children
 * (default MALLOC_CHECK_=3: message and abort): an object freed into the wrong
 * cache, a double free, a malloc block given to lx_cache_free, lx_free of a
 * cache object; lx_heap_check after each scenario. */
#include <pthread.h>

#include "lxt.h"
#include "lxt_child.h"

struct obj {
    unsigned magic; /* set by ctor, cleared by dtor */
    unsigned uses;  /* kept across free and alloc */
    char payload[40];
};

static _Atomic long ctors, dtors;

static void ctor(void *p)
{
    struct obj *o = p;
    o->magic = 0xc0ffee;
    o->uses = 0;
    ctors++;
}

static void dtor(void *p)
{
    struct obj *o = p;
    if (o->magic != 0xc0ffee)
        LXT_FAIL("dtor on an object that ctor did not build (%#x)", o->magic);
    o->magic = 0;
    dtors++;
}

#define N 100000
static struct obj *objs[N];
static lx_cache_t *shared;

static void *freer(void *arg)
{
    long part = (long)(intptr_t)arg;
    for (long i = part; i < N; i += 4)
        lx_cache_free(shared, objs[i]);
    return NULL;
}

static lx_cache_t *ca, *cb;
static void wrong_cache(void *arg)
{
    (void)arg;
    void *p = lx_cache_alloc(ca);
    lx_cache_free(cb, p);
}
static void double_free(void *arg)
{
    (void)arg;
    void *p = lx_cache_alloc(ca);
    lx_cache_free(ca, p);
    lx_cache_free(ca, p);
}
static void malloc_block(void *arg)
{
    (void)arg;
    lx_cache_free(ca, lx_malloc(64));
}
static void lx_free_object(void *arg)
{
    (void)arg;
    lx_free(lx_cache_alloc(ca));
}
static void print_stats(void *arg)
{
    (void)arg;
    lx_malloc_stats();
}

int main(void)
{
    lx_cache_t *c = lx_cache_create("test-objects", sizeof(struct obj), 0, ctor, dtor);
    CHECK(c != NULL, "lx_cache_create");
    errno = 0;
    CHECK(lx_cache_create("bad", 0, 0, NULL, NULL) == NULL && errno == EINVAL, "size 0");
    CHECK(lx_cache_create("bad", 64, 24, NULL, NULL) == NULL && errno == EINVAL, "align 24");
    CHECK(lx_cache_create("bad", 64, 8192, NULL, NULL) == NULL && errno == EINVAL, "align 8192");

    /* 1. construct once; state survives free/alloc */
    for (int i = 0; i < N; i++) {
        objs[i] = lx_cache_alloc(c);
        CHECK(objs[i] != NULL && objs[i]->magic == 0xc0ffee, "object %d constructed", i);
        CHECK(((uintptr_t)objs[i] & 15) == 0, "object %d aligned", i);
        objs[i]->uses++;
    }
    CHECK(ctors >= N && dtors == 0, "ctors %ld dtors %ld", (long)ctors, (long)dtors);
    lx_cache_stats_t st;
    CHECK(lx_cache_stats_get(c, &st) == 0, "stats");
    CHECK(st.live == N && st.alloc_count == N && st.slabs > 0 && st.object_size >= sizeof(struct obj),
          "stats: live %llu allocs %llu slabs %llu", st.live, st.alloc_count, st.slabs);
    CHECK(strcmp(st.name, "test-objects") == 0, "name %s", st.name);
    for (int i = 0; i < N; i += 2) {
        objs[i]->uses = 7; /* a state to find again */
        lx_cache_free(c, objs[i]);
    }
    long built = ctors;
    int kept = 0;
    for (int i = 0; i < N; i += 2) {
        objs[i] = lx_cache_alloc(c);
        CHECK(objs[i]->magic == 0xc0ffee, "object %d came back unconstructed", i);
        kept += objs[i]->uses == 7;
        objs[i]->uses = 1;
    }
    /* Objects carved but never handed out may come first; the rest are the freed
     * ones, as they were left. */
    CHECK(kept >= N / 2 - 1000, "only %d of %d objects came back as they were left", kept, N / 2);
    CHECK(ctors - built < 1000, "%ld objects constructed again", (long)(ctors - built));
    CHECK(lx_heap_check() == 0, "heap check (1)");

    /* 2. frees from four threads at once, then shrink */
    shared = c;
    pthread_t th[4];
    for (long t = 0; t < 4; t++)
        CHECK(pthread_create(&th[t], NULL, freer, (void *)(intptr_t)t) == 0, "thread");
    for (int t = 0; t < 4; t++)
        pthread_join(th[t], NULL);
    CHECK(lx_cache_stats_get(c, &st) == 0 && st.live == 0, "live %llu after all frees", st.live);
    size_t released = lx_cache_shrink(c);
    CHECK(lx_cache_stats_get(c, &st) == 0 && st.slabs == 0 && st.constructed == 0,
          "shrink released %zu, %llu slabs left", released, st.slabs);
    CHECK(dtors == ctors, "dtors %ld != ctors %ld after shrink", (long)dtors, (long)ctors);
    CHECK(lx_heap_check() == 0, "heap check (2)");

    /* 3. alignment and odd sizes */
    lx_cache_t *al = lx_cache_create("aligned-200", 200, 256, NULL, NULL);
    CHECK(al != NULL, "aligned cache");
    void *ap[100];
    for (int i = 0; i < 100; i++) {
        ap[i] = lx_cache_alloc(al);
        CHECK(ap[i] != NULL && ((uintptr_t)ap[i] & 255) == 0, "aligned object %d", i);
        memset(ap[i], 0xee, 200);
    }
    lx_cache_t *big = lx_cache_create("big", 100000, 0, NULL, NULL);
    void *bp = lx_cache_alloc(big);
    CHECK(bp != NULL, "big object");
    memset(bp, 1, 100000);
    lx_cache_free(big, bp);

    /* 4. statistics in malloc_stats */
    ca = lx_cache_create("cache-a", 32, 0, NULL, NULL);
    cb = lx_cache_create("cache-b", 32, 0, NULL, NULL);
    CHECK(ca && cb, "caches a, b");
    lxt_expect_death(print_stats, NULL, 0, NULL);
    /* (the child's stderr is checked here) */
    {
        int fds[2];
        CHECK(pipe(fds) == 0, "pipe");
        pid_t pid = fork();
        if (pid == 0) {
            dup2(fds[1], 2);
            lx_malloc_stats();
            _exit(0);
        }
        close(fds[1]);
        static char out[65536];
        size_t n = 0;
        ssize_t rd;
        while ((rd = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
            n += (size_t)rd;
        out[n] = 0;
        waitpid(pid, NULL, 0);
        CHECK(strstr(out, "aligned-200") && strstr(out, "cache-a") && strstr(out, "allocations"),
              "malloc_stats lacks the cache table: %s", out);
    }

    /* 5. misuse */
    lxt_expect_death(wrong_cache, NULL, SIGABRT, "object of cache 'cache-a' freed into cache 'cache-b'");
    lxt_expect_death(double_free, NULL, SIGABRT, "double free");
    lxt_expect_death(malloc_block, NULL, SIGABRT, "not an object of any cache");
    lxt_expect_death(lx_free_object, NULL, SIGABRT, "bytes inside the");

    /* 6. destroy runs dtor on every constructed object, live or not */
    for (int i = 0; i < 1000; i++)
        objs[i] = lx_cache_alloc(c);
    lx_cache_free(c, objs[0]);
    lx_cache_destroy(c);
    CHECK(dtors == ctors, "dtors %ld != ctors %ld after destroy", (long)dtors, (long)ctors);
    for (int i = 0; i < 100; i++)
        lx_cache_free(al, ap[i]);
    lx_cache_destroy(al);
    lx_cache_destroy(big);
    lx_cache_destroy(ca);
    lx_cache_destroy(cb);
    CHECK(lx_heap_check() == 0, "heap check (6)");
    printf("cache: ok\n");
    return 0;
}

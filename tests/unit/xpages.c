/* Unit test of the page allocator: every order from 0 to 12 (buddy runs up to
 * order 9, aligned to their size; mappings above), exact page counts, contents
 * writable to the last byte, blocks freed by another thread; misuse in forked
 * children: a wrong order, a wrong page count, a block that is not a page block,
 * lx_free of a page block, a second free; lx_heap_check after each scenario. */
#include <pthread.h>

#include "lxt.h"
#include "lxt_child.h"

#define PAGE ((size_t)4096)

static void *freer(void *arg)
{
    lx_pages_free(arg, 3);
    return NULL;
}
static void wrong_order(void *arg)
{
    (void)arg;
    lx_pages_free(lx_pages_alloc(2), 3);
}
static void wrong_count(void *arg)
{
    (void)arg;
    lx_pages_free_exact(lx_pages_alloc_exact(5), 6);
}
static void wrong_count_mapped(void *arg)
{
    (void)arg;
    lx_pages_free(lx_pages_alloc(11), 10);
}
static void not_pages(void *arg)
{
    (void)arg;
    lx_pages_free(lx_malloc(8192), 1);
}
static void lx_free_pages(void *arg)
{
    (void)arg;
    lx_free(lx_pages_alloc(0));
}
static void twice(void *arg)
{
    (void)arg;
    void *p = lx_pages_alloc(4);
    lx_pages_free(p, 4);
    lx_pages_free(p, 4);
}

int main(void)
{
    lx_stats_t s0;
    lx_stats_get(&s0);
    for (unsigned order = 0; order <= 12; order++) {
        size_t size = PAGE << order;
        unsigned char *p = lx_pages_alloc(order);
        CHECK(p != NULL, "order %u", order);
        size_t align = order <= 9 ? size : PAGE;
        CHECK(((uintptr_t)p & (align - 1)) == 0, "order %u block %p not aligned to %zu", order,
              (void *)p, align);
        p[0] = 1;
        p[size - 1] = 2;
        lx_pages_free(p, order);
    }
    errno = 0;
    CHECK(lx_pages_alloc(31) == NULL && errno == EINVAL, "order 31");
    errno = 0;
    CHECK(lx_pages_alloc_exact(0) == NULL && errno == EINVAL, "0 pages");
    CHECK(lx_heap_check() == 0, "heap check (1)");

    /* exact runs: many at once, no overlap */
    enum { K = 200 };
    unsigned char *e[K];
    for (int i = 0; i < K; i++) {
        size_t n = (size_t)(i % 37) + 1;
        if (i % 50 == 0)
            n = 700; /* a mapping */
        e[i] = lx_pages_alloc_exact(n);
        CHECK(e[i] != NULL && ((uintptr_t)e[i] & (PAGE - 1)) == 0, "exact %zu", n);
        memset(e[i], i & 0xff, n * PAGE);
    }
    for (int i = 0; i < K; i++) {
        size_t n = i % 50 == 0 ? 700 : (size_t)(i % 37) + 1;
        CHECK(e[i][0] == (i & 0xff) && e[i][n * PAGE - 1] == (i & 0xff), "exact block %d overlaps",
              i);
        lx_pages_free_exact(e[i], n);
    }
    CHECK(lx_heap_check() == 0, "heap check (2)");

    /* freed by another thread */
    void *p = lx_pages_alloc(3);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, freer, p) == 0, "thread");
    pthread_join(th, NULL);
    lx_stats_t s1;
    lx_stats_get(&s1);
    CHECK(s1.live_bytes <= s0.live_bytes, "live bytes %llu after freeing all, %llu before",
          s1.live_bytes, s0.live_bytes);
    CHECK(lx_heap_check() == 0, "heap check (3)");

    lxt_expect_death(wrong_order, NULL, SIGABRT, "wrong size: the block has 4 pages, not 8");
    lxt_expect_death(wrong_count, NULL, SIGABRT, "wrong size: the block has 5 pages, not 6");
    lxt_expect_death(wrong_count_mapped, NULL, SIGABRT, "wrong size: the block has 2048 pages");
    lxt_expect_death(not_pages, NULL, SIGABRT, "not a block of the page allocator");
    lxt_expect_death(lx_free_pages, NULL, SIGABRT, "not a malloc block");
    lxt_expect_death(twice, NULL, SIGABRT, "lx_pages_free() of");
    printf("xpages: ok\n");
    return 0;
}

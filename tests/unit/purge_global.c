/* The purge allowances are the process's, not one arena's: when a thread's work
 * moves to a thread of another arena, the first arena frees what the second
 * allocates, and its freed runs stay resident (they are a small part of what
 * the process uses) instead of going back at once as if the program had freed
 * most of its memory. Once the process as a whole frees more than it uses,
 * the pages go back at once. Runs on two arenas no heap uses. */
#include "lxt.h"
#include "init.h"
#include "options.h"
#include "pages.h"

#define RUNS 64
#define RUN_PAGES 64

static uint64_t purged(struct arena *a)
{
    lx_lock(&a->lock);
    uint64_t n = a->purged_pages;
    lx_unlock(&a->lock);
    return n;
}

int main(void)
{
    lx_process_init();
    struct arena *busy = &lx_arenas[LX_ARENA_MAX - 1];
    struct arena *idle = &lx_arenas[LX_ARENA_MAX - 2];
    /* A delay of 60 s: nothing settles or ages during the test. */
    atomic_store(&lx_opt.purge_delay_ns, (uint64_t)60 * 1000 * 1000 * 1000);

    /* The arena the work leaves holds a quarter of what the other will. */
    struct page *old[RUNS / 4];
    for (int i = 0; i < RUNS / 4; i++) {
        old[i] = arena_alloc_run(idle, RUN_PAGES, RUN_LARGE);
        CHECK(old[i] != NULL, "run %d in the first arena", i);
    }
    struct page *runs[RUNS];
    for (int i = 0; i < RUNS; i++) {
        runs[i] = arena_alloc_run(busy, RUN_PAGES, RUN_LARGE);
        CHECK(runs[i] != NULL, "run %d in the second arena", i);
    }
    /* The first arena frees everything: over its own allowance (its pages in
     * use plus 2 MiB), under the process's (a quarter of its pages in use). */
    uint64_t p0 = purged(idle);
    for (int i = 0; i < RUNS / 4; i++)
        arena_free_run(old[i]);
    uint64_t used_all, dirty_all;
    arenas_pages_all(&used_all, &dirty_all);
    lx_lock(&idle->lock);
    uint64_t idle_used = idle->used_pages;
    lx_unlock(&idle->lock);
    CHECK((uint64_t)(RUNS / 4 * RUN_PAGES) > idle_used + 512,
          "the test frees too little: %d pages with %llu in use in that arena", RUNS / 4 * RUN_PAGES,
          (unsigned long long)idle_used);
    CHECK(purged(idle) == p0,
          "%llu pages purged at once, while the process uses %llu pages and has %llu dirty",
          (unsigned long long)(purged(idle) - p0), (unsigned long long)used_all,
          (unsigned long long)dirty_all);

    /* The whole process frees what it has: now more is free than in use. */
    uint64_t p1 = purged(busy);
    for (int i = 0; i < RUNS; i++)
        arena_free_run(runs[i]);
    CHECK(purged(busy) > p1, "freeing everything purged nothing");
    arenas_pages_all(&used_all, &dirty_all);
    CHECK(dirty_all <= used_all + 512 + RUNS / 4 * RUN_PAGES,
          "%llu dirty pages left, %llu in use", (unsigned long long)dirty_all,
          (unsigned long long)used_all);
    CHECK(arena_check(busy) == 0 && arena_check(idle) == 0, "arena check");
    printf("purge_global: ok (%llu pages purged)\n",
           (unsigned long long)(purged(busy) - p1 + purged(idle) - p0));
    return 0;
}

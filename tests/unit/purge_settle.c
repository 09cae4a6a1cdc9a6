/* Freed page runs beyond an arena's allowance (a quarter of its pages in use
 * plus 2 MiB) go back to the kernel only once they have been free for an
 * eighth of the purge delay, and only as far as the pages in use plus the
 * dirty ones exceed the arena's peak of the last delay: a program that frees a
 * structure and builds the next soon gets the pages back without faults, and
 * keeping them costs no peak memory. Freeing more than is in use gives pages
 * back at once. Runs on an arena no heap uses. */
#include <time.h>

#include "lxt.h"
#include "init.h"
#include "options.h"
#include "pages.h"

#define RUNS 64
#define RUN_PAGES 64

static struct arena *A;

static uint64_t purged(void)
{
    lx_lock(&A->lock);
    uint64_t n = A->purged_pages;
    lx_unlock(&A->lock);
    return n;
}

int main(void)
{
    lx_process_init();
    A = &lx_arenas[LX_ARENA_MAX - 1];
    /* A delay of 4 s: runs settle after 500 ms. */
    atomic_store(&lx_opt.purge_delay_ns, (uint64_t)4000 * 1000 * 1000);

    struct page *runs[RUNS];
    for (int i = 0; i < RUNS; i++) {
        runs[i] = arena_alloc_run(A, RUN_PAGES, RUN_LARGE);
        CHECK(runs[i] != NULL, "run %d", i);
    }
    uint64_t p0 = purged();
    /* Free every other run: 2048 dirty pages that cannot merge, against an
     * allowance of about 1030, fewer than the 2083 pages in use. */
    for (int i = 0; i < RUNS; i += 2)
        arena_free_run(runs[i]);
    lx_lock(&A->lock);
    uint64_t dirty = A->dirty_pages, bound = A->used_pages / 4 + 512;
    lx_unlock(&A->lock);
    CHECK(dirty > bound, "%llu dirty pages, allowance %llu: the test frees too little",
          (unsigned long long)dirty, (unsigned long long)bound);
    CHECK(purged() == p0, "%llu pages purged at once, freed a moment ago",
          (unsigned long long)(purged() - p0));

    /* They come back without faults: reuse takes dirty pages first. */
    struct page *again = arena_alloc_run(A, RUN_PAGES, RUN_LARGE);
    CHECK(again != NULL, "run after the frees");
    CHECK(purged() == p0, "an allocation purged %llu pages of freshly freed runs",
          (unsigned long long)(purged() - p0));
    arena_free_run(again);

    /* After 600 ms (settled, still younger than the delay) they stay while the
     * pages in use plus the dirty ones are within the peak. */
    struct timespec pause = {0, 600 * 1000 * 1000};
    nanosleep(&pause, NULL);
    struct page *one = arena_alloc_run(A, 1, RUN_LARGE);
    CHECK(one != NULL, "1-page run");
    arena_free_run(one);
    CHECK(purged() == p0, "%llu settled pages purged under the peak",
          (unsigned long long)(purged() - p0));

    /* Runs twice as long cannot use the 64-page dirty blocks: they take clean
     * pages, the footprint would pass the peak, and the settled dirty pages go
     * down to the allowance or to the room under the peak. */
    struct page *big[8];
    for (int i = 0; i < 8; i++) {
        big[i] = arena_alloc_run(A, 2 * RUN_PAGES, RUN_LARGE);
        CHECK(big[i] != NULL, "run %d of %d pages", i, 2 * RUN_PAGES);
    }
    lx_lock(&A->lock);
    dirty = A->dirty_pages;
    bound = A->used_pages / 4 + 512;
    uint64_t room = A->peak_used - A->used_pages;
    lx_unlock(&A->lock);
    CHECK(purged() > p0, "nothing purged once the footprint passed the peak");
    CHECK(dirty <= (bound > room ? bound : room) + RUN_PAGES,
          "%llu dirty pages, allowance %llu, room under the peak %llu", (unsigned long long)dirty,
          (unsigned long long)bound, (unsigned long long)room);
    for (int i = 0; i < 8; i++)
        arena_free_run(big[i]);

    /* Freeing the rest (more free than in use) purges at once. */
    uint64_t p1 = purged();
    for (int i = 1; i < RUNS; i += 2)
        arena_free_run(runs[i]);
    CHECK(purged() > p1, "freeing every run purged nothing");
    lx_lock(&A->lock);
    dirty = A->dirty_pages;
    uint64_t hard = A->used_pages + 512;
    lx_unlock(&A->lock);
    CHECK(dirty <= hard, "%llu dirty pages with %llu in use", (unsigned long long)dirty,
          (unsigned long long)(hard - 512));
    CHECK(arena_check(A) == 0, "arena check");
    printf("purge_settle: ok (%llu pages purged)\n", (unsigned long long)(purged() - p0));
    return 0;
}

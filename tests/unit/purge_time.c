/* Runs free for longer than the purge delay go back to the kernel even when the
 * program makes no further page-run operation on their arena: the malloc slow
 * path purges expired runs of every arena on every 64th call. Runs on an arena
 * no heap uses, so only that periodic purge can reach it. */
#include <time.h>

#include "lxt.h"
#include "init.h"
#include "options.h"
#include "pages.h"

#define RUNS 64
#define RUN_PAGES 64
#define FREED 4

static struct arena *A;

static uint64_t dirty(void)
{
    lx_lock(&A->lock);
    uint64_t n = A->dirty_pages;
    lx_unlock(&A->lock);
    return n;
}

int main(void)
{
    lx_process_init();
    A = &lx_arenas[LX_ARENA_MAX - 1];
    atomic_store(&lx_opt.purge_delay_ns, (uint64_t)100 * 1000 * 1000); /* 100 ms */

    struct page *runs[RUNS];
    for (int i = 0; i < RUNS; i++) {
        runs[i] = arena_alloc_run(A, RUN_PAGES, RUN_LARGE);
        CHECK(runs[i] != NULL, "run %d", i);
    }
    /* 256 dirty pages, within the allowance (a quarter of about 3800 pages in
     * use, plus 512): only the time rule can give them back. */
    for (int i = 0; i < FREED; i++)
        arena_free_run(runs[i]);
    CHECK(dirty() == FREED * RUN_PAGES, "%llu dirty pages after the frees",
          (unsigned long long)dirty());

    struct timespec wait = {0, 300 * 1000 * 1000};
    nanosleep(&wait, NULL);
    CHECK(dirty() == FREED * RUN_PAGES, "dirty pages went back with no allocator call");

    /* Blocks above 32 KiB always take the malloc slow path: 128 calls run its
     * periodic work twice. */
    for (int i = 0; i < 128; i++) {
        void *p = lx_malloc(40000);
        CHECK(p != NULL, "malloc");
        lx_free(p);
    }
    CHECK(dirty() == 0, "%llu pages free for longer than the delay still dirty",
          (unsigned long long)dirty());

    for (int i = FREED; i < RUNS; i++)
        arena_free_run(runs[i]);
    CHECK(lx_heap_check() == 0, "heap check");
    printf("purge_time: ok\n");
    return 0;
}

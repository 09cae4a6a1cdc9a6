/* Unit test of the buddy page allocator (pages.c) on an arena no heap uses:
 * exact splitting (a 5-page run costs 5 pages), coalescing back to the
 * segment's initial blocks, runs that never overlap, head[] pointing every page
 * at its run, the arena checker after every step, and empty segments unmapped
 * by arenas_trim. */
#include "lxt.h"
#include "init.h"
#include "os.h"
#include "pages.h"
#include "segment.h"

#define RUNS 400

static struct arena *A;

static void check_arena(const char *when)
{
    size_t n = arena_check(A);
    CHECK(n == 0, "arena check found %zu problems %s", n, when);
}

static void exact_split(void)
{
    struct page *p5 = arena_alloc_run(A, 5, RUN_LARGE);
    CHECK(p5 != NULL, "5-page run");
    struct segment *seg = page_segment(p5);
    CHECK(seg->used_pages == LX_SEGMENT_META_PAGES + 5, "used pages %u after a 5-page run",
          seg->used_pages);
    struct page *p1 = arena_alloc_run(A, 1, RUN_LARGE);
    CHECK(p1 != NULL, "1-page run");
    CHECK(page_idx(seg, p1) == page_idx(seg, p5) + 5,
          "the 1-page run (page %zu) is not the 5-page run's returned tail (page %zu)",
          page_idx(seg, p1), page_idx(seg, p5) + 5);
    for (size_t i = 0; i < 5; i++)
        CHECK(segment_page_of(seg, page_address(seg, p5) + i * LX_PAGE_SIZE) == p5,
              "head[] of page %zu", i);
    check_arena("after exact split");
    arena_free_run(p1);
    arena_free_run(p5);
    CHECK(seg->used_pages == LX_SEGMENT_META_PAGES, "segment not empty after frees");
    check_arena("after coalescing");
    /* Fully coalesced: the largest block (512 pages) is available again in it. */
    struct page *big = arena_alloc_run(A, 512, RUN_LARGE);
    CHECK(big != NULL && page_segment(big) == seg, "512-page run not from the coalesced segment");
    arena_free_run(big);
}

static void random_runs(void)
{
    lxt_rng r = {12345};
    struct page *runs[RUNS] = {0};
    for (int step = 0; step < 4000; step++) {
        int i = (int)lxt_range(&r, 0, RUNS - 1);
        if (runs[i] != NULL) {
            arena_free_run(runs[i]);
            runs[i] = NULL;
        } else {
            size_t n = lxt_range(&r, 1, 1 + lxt_range(&r, 0, 1) * 100 + lxt_range(&r, 0, 8));
            runs[i] = arena_alloc_run(A, n, RUN_LARGE);
            CHECK(runs[i] != NULL, "run of %zu pages", n);
            CHECK(runs[i]->run_pages == n, "run_pages %u != %zu", runs[i]->run_pages, n);
            /* Stamp the run's pages; a later overlap would change another run's stamp. */
            uint8_t *mem = page_address(page_segment(runs[i]), runs[i]);
            for (size_t p = 0; p < n; p++)
                memset(mem + p * LX_PAGE_SIZE, i & 0xff, 64);
        }
        if (step % 97 == 0)
            check_arena("during random runs");
    }
    for (int i = 0; i < RUNS; i++) {
        if (runs[i] == NULL)
            continue;
        uint8_t *mem = page_address(page_segment(runs[i]), runs[i]);
        for (size_t p = 0; p < runs[i]->run_pages; p++)
            CHECK(mem[p * LX_PAGE_SIZE] == (i & 0xff), "run %d page %zu overwritten", i, p);
    }
    for (int i = 0; i < RUNS; i++)
        if (runs[i] != NULL)
            arena_free_run(runs[i]);
    check_arena("after freeing every run");
    CHECK(A->empty_count == A->segment_count, "%llu of %llu segments empty",
          (unsigned long long)A->empty_count, (unsigned long long)A->segment_count);
}

int main(void)
{
    lx_process_init();
    A = &lx_arenas[LX_ARENA_MAX - 1];
    exact_split();
    random_runs();
    uint64_t before = atomic_load(&lx_os_counters.mapped_bytes);
    size_t released = arenas_trim();
    CHECK(released > 0 && A->segment_count == 0, "trim released %zu, %llu segments left",
          released, (unsigned long long)A->segment_count);
    CHECK(atomic_load(&lx_os_counters.mapped_bytes) + released == before, "mapped bytes");
    check_arena("after trim");
    CHECK(arena_alloc_run(A, 0, RUN_LARGE) == NULL, "0 pages");
    CHECK(arena_alloc_run(A, 513, RUN_LARGE) == NULL, "513 pages is above LX_LARGE_MAX");
    printf("buddy: ok\n");
    return 0;
}

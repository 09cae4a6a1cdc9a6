/* SPDX-License-Identifier: MIT */
/*
 * stats.c — reading lxmalloc's counters and tuning it with lx_mallopt.
 *
 * Build from the top of the repository after `make`:
 *   cc -Iinclude examples/stats.c build/liblxmalloc_api.a -lpthread -o stats
 *
 * The M_ parameter names come from glibc's <malloc.h>; lx_mallopt takes the
 * same numbers as mallopt.
 */
#include <lxmalloc.h>

#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define N_SMALL 10000

static void show(const char *title, const lx_stats_t *st)
{
    printf("%s\n", title);
    printf("  allocations %llu, frees %llu\n", st->malloc_count, st->free_count);
    printf("  live %llu bytes (peak %llu), allocated in total %llu bytes\n", st->live_bytes,
           st->peak_live_bytes, st->alloc_bytes);
    printf("  mapped %llu bytes (peak %llu) in %llu segments; %llu huge blocks of %llu bytes\n",
           st->mapped_bytes, st->peak_mapped_bytes, st->segment_count, st->huge_count,
           st->huge_bytes);
    printf("  mmap calls %llu, munmap calls %llu, thread heaps %llu\n", st->os_mmap_count,
           st->os_munmap_count, st->heap_count);
}

int main(void)
{
    static void *small[N_SMALL];
    lx_stats_t before, st;

    lx_stats_get(&before);

    /* Many small blocks: served from size-class slabs. */
    for (int i = 0; i < N_SMALL; i++) {
        small[i] = lx_malloc((size_t)(16 + i % 512));
        if (small[i] == NULL) {
            perror("lx_malloc");
            return 1;
        }
        memset(small[i], 0xab, 16);
    }
    lx_stats_get(&st);
    show("after 10000 small allocations:", &st);
    printf("  (%llu allocations since start)\n", st.malloc_count - before.malloc_count);

    /*
     * Lower the mmap threshold to 64 KiB: a 100 KiB block is then mapped on its
     * own and returned to the kernel as soon as it is freed.
     */
    if (lx_mallopt(M_MMAP_THRESHOLD, 64 * 1024) != 1)
        fprintf(stderr, "lx_mallopt(M_MMAP_THRESHOLD) refused the value\n");
    void *big = lx_malloc(100 * 1024);
    if (big == NULL) {
        perror("lx_malloc");
        return 1;
    }
    lx_stats_get(&st);
    show("with one 100 KiB block above a 64 KiB mmap threshold:", &st);
    lx_free(big);

    for (int i = 0; i < N_SMALL; i++)
        lx_free(small[i]);

    /* Give empty memory back to the kernel. */
    lx_malloc_trim(0);
    lx_stats_get(&st);
    show("after freeing everything and lx_malloc_trim(0):", &st);

    /* The line `lxmalloc run --stats` collects, written to any descriptor. */
    printf("summary line:\n  ");
    fflush(stdout);
    lx_stats_print_summary(STDOUT_FILENO);

    /* glibc-style report on standard error. */
    lx_malloc_stats();
    return 0;
}

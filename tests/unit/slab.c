/* Unit test of slabs and their three free lists through a thread heap: blocks
 * of a slab are distinct and inside it, local frees are reused, frees from
 * another thread come back (also into full slabs, through the delayed list),
 * and a steady cross-thread loop does not grow the mapped memory. */
#include <pthread.h>

#include "lxt.h"
#include "init.h"
#include "segment.h"
#include "sizeclass.h"

#define N 20000

static void *blocks[N];

static void *free_all(void *arg)
{
    (void)arg;
    for (int i = 0; i < N; i++)
        lx_free(blocks[i]);
    return NULL;
}

static void remote_free_all(void)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, free_all, NULL) == 0, "thread");
    pthread_join(t, NULL);
}

int main(void)
{
    /* Distinct blocks inside their slab, class size apart. */
    void *a = lx_malloc(40);
    void *b = lx_malloc(40);
    struct page *pg = segment_page_of(segment_of(a), a);
    CHECK(pg == segment_page_of(segment_of(b), b), "two 40-byte blocks in different slabs");
    CHECK(pg->block_size == 48 && pg->class_idx == size_to_class(40), "class of 40 bytes");
    size_t d = (size_t)((uint8_t *)b > (uint8_t *)a ? (uint8_t *)b - (uint8_t *)a
                                                    : (uint8_t *)a - (uint8_t *)b);
    CHECK(d % 48 == 0, "blocks %zu apart", d);
    uint16_t used = pg->used;
    lx_free(b);
    CHECK(pg->used == used - 1, "local free did not count");
    void *c = lx_malloc(40);
    CHECK(c != NULL, "malloc");
    lx_free(a);
    lx_free(c);

    /* Fill many slabs completely (they go to the full list), free remotely. */
    for (int i = 0; i < N; i++) {
        blocks[i] = lx_malloc(64);
        CHECK(blocks[i] != NULL, "malloc %d", i);
        memset(blocks[i], 0xab, 64);
    }
    lx_stats_t before;
    lx_stats_get(&before);
    for (int round = 0; round < 50; round++) {
        remote_free_all();
        for (int i = 0; i < N; i++) {
            blocks[i] = lx_malloc(64);
            CHECK(blocks[i] != NULL, "malloc %d", i);
        }
    }
    lx_stats_t after;
    lx_stats_get(&after);
    CHECK(after.mapped_bytes <= before.mapped_bytes + (8u << 20),
          "remote-freed blocks not reused: mapped %llu -> %llu",
          (unsigned long long)before.mapped_bytes, (unsigned long long)after.mapped_bytes);
    CHECK(lx_heap_check() == 0, "heap check after remote frees");
    remote_free_all();
    /* Everything free again: a malloc of the same size still works and the
     * live count is back to (about) zero. */
    lx_stats_t end;
    lx_malloc_trim(0);
    lx_stats_get(&end);
    CHECK(end.live_bytes < 64 * 1024, "live bytes %llu after freeing all",
          (unsigned long long)end.live_bytes);
    CHECK(lx_heap_check() == 0, "heap check at end");
    printf("slab: ok\n");
    return 0;
}

/* Unit test of slabs and their three free lists through a thread heap: blocks
 * of a slab are distinct and inside it, local frees are reused, frees from
 * another thread come back (also into full slabs, through the delayed list),
 * and a steady cross-thread loop does not grow the mapped memory. */
#include <pthread.h>

#include "lxt.h"
#include "init.h"
#include "segment.h"
#include "sizeclass.h"
#include "slab.h"

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

/* slab_block_start says yes exactly for the starts of carved blocks, for every
 * class size and some sizes of object caches, at offsets around the carved
 * area and far outside it (below the slab's start: a wrapped offset). */
static void block_start_exact(void)
{
#if LX_HARDEN
    static const uint32_t odd_sizes[] = {16, 24, 40, 56, 72, 88, 104, 1000, 4104, 12336};
    lx_process_init(); /* the class table */
    struct page pg;
    memset(&pg, 0, sizeof pg);
    for (unsigned i = 0; i < LX_CLASS_COUNT + sizeof odd_sizes / sizeof odd_sizes[0]; i++) {
        uint32_t size = i < LX_CLASS_COUNT ? lx_classes[i].size : odd_sizes[i - LX_CLASS_COUNT];
        slab_set_block_size(&pg, size);
        for (uint64_t carved = 0; carved <= 9; carved += 3) {
            pg.carved = carved;
            for (uint64_t n = 0; n < (carved + 2) * size; n += 8) {
                bool want = n % size == 0 && n / size < carved;
                CHECK(slab_block_start(&pg, n) == want, "size %u, %llu carved: offset %llu says %d",
                      size, (unsigned long long)carved, (unsigned long long)n, !want);
                uint64_t wrapped = (uint64_t)0 - n - 8;
                CHECK(!slab_block_start(&pg, wrapped), "size %u: offset -%llu taken", size,
                      (unsigned long long)(n + 8));
            }
            for (uint64_t q = 1; q < 64 && carved != 0; q++) {
                uint64_t far = ((uint64_t)1 << q) * size; /* a multiple, past the end */
                CHECK(!slab_block_start(&pg, far + (far < carved * size ? carved * size : 0)),
                      "size %u: far offset taken", size);
            }
        }
    }
#endif
}

int main(void)
{
    block_start_exact();
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

/* Unit test of segment lookup: the segment map says which 4 MiB chunks are
 * ours, masking finds the header, head[] finds the run, and a pointer anywhere
 * inside a huge block finds its mapping; freed huge blocks leave the map once
 * the cache of freed huge blocks is trimmed. The page descriptors' layout maps
 * every page to its own descriptor inside the header and back, keeps the heads
 * of aligned runs together and spreads them over the sets of a cache. */
#include "lxt.h"
#include "heap.h"
#include "init.h"
#include "pages.h"
#include "segment.h"

static int global_object;

/* L1 set of an address: a 32 KiB, 8-way cache of 64-byte lines has 64 sets. */
static unsigned l1_set(const void *p)
{
    return (unsigned)((uintptr_t)p >> 6) & 63u;
}

static void descriptor_layout(struct segment *seg)
{
    uint8_t *lo = (uint8_t *)seg + offsetof(struct segment, desc);
    uint8_t *hi = (uint8_t *)seg + sizeof(struct segment);
    for (size_t i = 0; i < LX_SEGMENT_PAGES; i++) {
        struct page *d = seg_page(seg, i);
        CHECK((uint8_t *)d >= lo && (uint8_t *)(d + 1) <= hi, "descriptor %zu outside the header", i);
        CHECK(((uintptr_t)d & 63) == 0, "descriptor %zu not line-aligned", i);
        /* Whole slots, and one page per slot (page_idx below): no two overlap. */
        CHECK(((size_t)((uint8_t *)d - (uint8_t *)seg) - seg_desc_base(seg)) % sizeof(struct page) == 0,
              "descriptor %zu is not on a slot", i);
        CHECK(page_idx(seg, d) == i, "page_idx(seg_page(%zu)) = %zu", i, page_idx(seg, d));
        CHECK(seg_page(seg, page_idx(seg, seg_page(seg, i & ~(size_t)15)) + (i & 15)) == d,
              "page %zu from its group's first descriptor", i);
        CHECK(((size_t)seg_head_line(seg, i) << 6) == (size_t)((uint8_t *)d - (uint8_t *)seg),
              "head line of page %zu", i);
    }
    CHECK(sizeof(struct segment) <= LX_SEGMENT_META_DATA_PAGES * LX_PAGE_SIZE, "header size");
    /* The descriptors of runs starting on a multiple of 16 pages (slabs, large
     * runs) lie together: 64 of them in 8 KiB. */
    uint8_t *first = (uint8_t *)seg_page(seg, 0), *last = (uint8_t *)seg_page(seg, 0);
    for (size_t i = 16; i < LX_SEGMENT_PAGES; i += 16) {
        uint8_t *d = (uint8_t *)seg_page(seg, i);
        first = d < first ? d : first;
        last = d > last ? d : last;
    }
    CHECK(last + sizeof(struct page) - first == 64 * sizeof(struct page),
          "descriptors of 16-page-aligned runs span %zu bytes",
          (size_t)(last + sizeof(struct page) - first));
    /* The heads of 16- and 32-page runs (slabs) spread over the sets: at most as
     * many share a set as the cache has ways. */
    for (size_t align = 16; align <= 32; align *= 2) {
        unsigned count[64] = {0}, most = 0;
        for (size_t i = 0; i < LX_SEGMENT_PAGES; i += align) {
            unsigned c = ++count[l1_set(seg_page(seg, i))];
            most = c > most ? c : most;
        }
        CHECK(most <= 2, "%u heads of %zu-page runs share one cache set", most, align);
    }
    /* Two neighbouring segments put the same page's descriptor on other sets. */
    struct segment *next = (struct segment *)((uintptr_t)seg + LX_SEGMENT_SIZE);
    CHECK(l1_set(seg_page(seg, 64)) != l1_set(seg_page(next, 64)),
          "neighbouring segments share descriptor sets");
}

/* The free fast path reads the descriptor of the first page of a pointer's
 * 16-page group (segment_group_page) and trusts it when it carries the heap's
 * key: that descriptor must then head the run every page of the group is in.
 * Checked on every group of every segment of `a`, after slabs of many lengths
 * (16 to 64 pages) and large runs were made, freed and split differently. */
static void group_keys(struct arena *a, uintptr_t key)
{
    size_t keyed = 0;
    lx_lock(&a->lock);
    for (struct segment *seg = a->segments; seg != NULL; seg = seg->next) {
        for (size_t g = 0; g < LX_SEGMENT_PAGES; g += 16) {
            uint8_t *first = (uint8_t *)seg + (g << LX_PAGE_SHIFT);
            struct page *d = segment_group_page(seg, first + 123);
            CHECK(d == seg_page(seg, g), "group descriptor of page %zu", g);
            if ((d->local_key & ~LX_KEY_FLAGS) != key)
                continue;
            /* A medium run carries its heap with LX_KEY_MEDIUM: never the key the
             * free fast path compares with. */
            if (d->kind == RUN_MEDIUM) {
                CHECK((d->local_key & LX_KEY_MEDIUM) != 0, "medium run %zu keyed as a slab", g);
                continue;
            }
            keyed++;
            CHECK(d->kind == RUN_SLAB && d->run_pages >= 16, "keyed group leader %zu is no slab head", g);
            for (size_t i = 0; i < 16; i++)
                CHECK(segment_page_of(seg, first + (i << LX_PAGE_SHIFT)) == d,
                      "page %zu of group %zu is not in the keyed slab", g + i, g);
        }
    }
    lx_unlock(&a->lock);
    CHECK(keyed > 0, "no slab of the heap found");
}

static void churn_runs(void)
{
    enum { N = 3000 };
    static void *blocks[N];
    static const size_t sizes[] = {24, 200, 3000, 7000, 9000, 12000, 20000, 30000, 70000, 300000};
    uint64_t x = 88172645463325252u;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < N; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t size = sizes[(x >> 8) % (sizeof sizes / sizeof sizes[0])];
            if (blocks[i] != NULL)
                lx_free(blocks[i]);
            blocks[i] = (x & 1) ? lx_malloc(size) : NULL;
        }
        if (round == 1)
            lx_malloc_trim(0);
    }
    void *keep = lx_malloc(9000); /* a slab of 20 pages stays keyed */
    group_keys(segment_of(keep)->arena, (uintptr_t)lx_tls_heap);
    for (int i = 0; i < N; i++)
        lx_free(blocks[i]);
    lx_free(keep);
}

/* Segment caches: a cache learns normal segments only, and a segment that is
 * destroyed (malloc_trim unmaps empty ones) leaves every cache holding it, so
 * free() never trusts the descriptors of memory that is no longer a segment.
 * `live` is a segment that keeps blocks of the caller's (not emptied here). */
static void segment_caches(const struct segment *live)
{
    static struct seg_cache c; /* registered caches are never removed */
    enum { N = 100 };
    static void *blocks[N];
    int local = 0;
    seg_cache_register(&c);
    CHECK(!seg_cache_learn(&c, &local), "learnt a stack address");
    CHECK(!seg_cache_holds(&c, &local), "holds a stack address");
    for (int i = 0; i < N; i++) {
        blocks[i] = lx_malloc(100000); /* large runs: 100 of them fill two segments */
        CHECK(blocks[i] != NULL, "large block %d", i);
    }
    /* The last block in a segment of these blocks only (earlier ones may fill
     * gaps of the caller's segment). */
    void *last = blocks[N - 1];
    for (int i = N - 1; i > 0 && segment_of(last) == live; i--)
        last = blocks[i - 1];
    CHECK(segment_of(last) != live && segment_of(last) != segment_of(blocks[0]),
          "blocks in one segment");
    CHECK(seg_cache_learn(&c, last), "did not learn a normal segment");
    CHECK(seg_cache_holds(&c, last), "does not hold what it learnt");
    CHECK(seg_cache_group_page(&c, last) == segment_group_page(segment_of(last), last),
          "cached group descriptor");
    for (int i = 0; i < N; i++)
        lx_free(blocks[i]);
    lx_malloc_trim(0);
    CHECK(segmap_get((uintptr_t)last) == SEGMAP_NONE, "empty segment not unmapped by malloc_trim");
    CHECK(!seg_cache_holds(&c, last), "a destroyed segment stays in a cache");
    CHECK(!seg_cache_holds(&lx_tls_heap->segs, last), "a destroyed segment stays in the heap's cache");

    void *p = lx_malloc(100);
    CHECK(seg_cache_learn(&c, p) && seg_cache_holds(&c, p), "learn a live segment");
    seg_caches_clear();
    CHECK(!seg_cache_holds(&c, p), "seg_caches_clear left a slot");
    lx_free(p);
}

int main(void)
{
    int local = 0;
    void *small = lx_malloc(100);
    void *large = lx_malloc(100000);
    size_t huge_size = (size_t)9 << 20;
    uint8_t *huge = lx_malloc(huge_size);
    CHECK(small && large && huge, "allocations");

    CHECK(segmap_get((uintptr_t)small) == SEGMAP_NORMAL, "small block not in a normal segment");
    CHECK(segmap_get((uintptr_t)large) == SEGMAP_NORMAL, "large block not in a normal segment");
    struct segment *seg = segment_of(small);
    CHECK(segment_valid(seg) && seg->kind == SEGMENT_NORMAL, "small block's segment header");
    struct page *pg = segment_page_of(seg, small);
    CHECK(pg->kind == RUN_SLAB && pg->block_size >= 100, "small block's run");
    struct page *lp = segment_page_of(segment_of(large), (uint8_t *)large + 50000);
    CHECK(lp->kind == RUN_LARGE && lp->start == large, "interior page of a large run -> head");
    descriptor_layout(seg);
    churn_runs();
    CHECK(segment_of(large) == seg, "the first small and large blocks in different segments");
    segment_caches(seg);

    CHECK(segmap_get((uintptr_t)huge) == SEGMAP_HUGE, "huge block's first chunk");
    CHECK(segmap_get((uintptr_t)huge + (5u << 20)) == SEGMAP_HUGE_TAIL, "huge block's tail");
    struct segment *hs = segment_huge_containing(huge + huge_size - 1);
    CHECK(hs != NULL && segment_valid(hs) && hs->kind == SEGMENT_HUGE, "huge header from its end");
    CHECK((uint8_t *)hs + hs->huge_offset == huge, "huge header's offset");

    CHECK(segmap_get((uintptr_t)&local) == SEGMAP_NONE, "stack address looks ours");
    CHECK(segmap_get((uintptr_t)&global_object) == SEGMAP_NONE, "global looks ours");
    CHECK(segmap_get(UINTPTR_MAX - 4095) == SEGMAP_NONE, "address above the map looks ours");
    CHECK(segmap_get(0) == SEGMAP_NONE, "NULL looks ours");

    lx_free(huge);
    /* A freed huge block stays mapped in the cache, marked, until trimmed. */
    struct segment *cached = segment_huge_containing(huge);
    CHECK(cached == NULL || cached->huge_cached == 1, "freed huge block not marked cached");
    lx_malloc_trim(0);
    CHECK(segmap_get((uintptr_t)huge) == SEGMAP_NONE, "trimmed huge block still mapped");
    CHECK(segmap_get((uintptr_t)huge + (5u << 20)) == SEGMAP_NONE, "freed huge tail still ours");
    lx_free(large);
    lx_free(small);
    CHECK(lx_heap_check() == 0, "heap check");
    printf("segment: ok\n");
    return 0;
}

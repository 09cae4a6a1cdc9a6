/* Discards gathered in a batch (os.c: os_discard_queue, os_discard_flush).
 *
 * A mapping of 200 pages is filled; every third page is queued (more ranges
 * than a batch holds, so queueing flushes on its own), and a run of adjacent
 * pages that must join into one range. After the flush exactly the queued
 * pages read as zero and every other page keeps its contents. The same again
 * with batching turned off (one madvise per range, as LXMALLOC_PURGE_BATCH=0
 * asks), and with it on: where the kernel takes process_madvise, a batch costs
 * one call, which the madvise counter shows. */
#include "lxt.h"
#include "os.h"

#define PAGES 200
#define PAGE 4096

static unsigned char *map;
static bool queued[PAGES];

static void fill(void)
{
    for (size_t p = 0; p < PAGES; p++) {
        memset(map + p * PAGE, (int)(p % 250) + 1, PAGE);
        queued[p] = false;
    }
}

static void queue(struct os_discard_batch *b, size_t first, size_t count)
{
    os_discard_queue(b, map + first * PAGE, count * PAGE);
    for (size_t p = first; p < first + count; p++)
        queued[p] = true;
}

static void verify(const char *what)
{
    for (size_t p = 0; p < PAGES; p++) {
        const unsigned char *pg = map + p * PAGE;
        unsigned char want = queued[p] ? 0 : (unsigned char)(p % 250 + 1);
        CHECK(pg[0] == want && pg[PAGE / 2] == want && pg[PAGE - 1] == want,
              "%s: page %zu reads %u, wants %u", what, p, pg[0], want);
    }
}

static void round_trip(const char *what)
{
    fill();
    struct os_discard_batch b;
    os_discard_batch_init(&b);
    for (size_t p = 0; p < 150; p += 3)
        queue(&b, p, 1); /* 50 ranges: more than LX_DISCARD_BATCH */
    CHECK(b.count <= LX_DISCARD_BATCH, "%s: batch holds %u ranges", what, b.count);
    os_discard_flush(&b);
    CHECK(b.count == 0, "%s: batch not empty after a flush", what);
    verify(what);

    /* Adjacent pages join into one range. */
    fill();
    os_discard_batch_init(&b);
    queue(&b, 160, 2);
    queue(&b, 162, 5);
    queue(&b, 167, 1);
    CHECK(b.count == 1, "%s: adjacent ranges make %u entries, not one", what, b.count);
    queue(&b, 190, 3);
    CHECK(b.count == 2, "%s: %u entries after a separate range", what, b.count);
    os_discard_flush(&b);
    verify(what);
}

int main(void)
{
    map = os_map(PAGES * PAGE);
    CHECK(map != NULL, "os_map");

    os_discard_batching(false);
    uint64_t m0 = atomic_load(&lx_os_counters.madvise_count);
    round_trip("one madvise per range");
    uint64_t m1 = atomic_load(&lx_os_counters.madvise_count);
    CHECK(m1 - m0 == 52, "%llu madvise calls without batching, not 52",
          (unsigned long long)(m1 - m0));

    os_discard_batching(true);
    round_trip("batched");
    uint64_t calls = atomic_load(&lx_os_counters.madvise_count) - m1;
    /* A full batch, the rest of the 50, then one of two ranges: three calls. A
     * kernel that refuses process_madvise costs the refused call, then one
     * madvise per range from then on. */
    CHECK(calls == 3 || calls == 1 + 52, "%llu calls for the batched round, not 3 (or 53)",
          (unsigned long long)calls);
    printf("discard_batch: ok (%llu calls batched)\n", (unsigned long long)calls);
    CHECK(os_unmap(map, PAGES * PAGE), "os_unmap");
    return 0;
}

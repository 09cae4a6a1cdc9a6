/* Purging must not turn into a madvise storm: a churn loop at a steady live size
 * reuses freed runs instead of giving them back and faulting them in again, and
 * its resident memory stays bounded. Also: a loop that allocates and frees 5-25
 * MiB blocks reuses its mappings instead of mapping and faulting each one, so do
 * several big blocks live at once, and the huge cache empties once the program
 * stops using it. */
#include <sys/resource.h>
#include <time.h>

#include "lxt.h"
#include "os.h"

#define SLOTS 20000

static void *slot[SLOTS];

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

int main(void)
{
    lxt_rng r = {42};
    /* Steady state: ~20000 live blocks of 16 B .. 64 KiB, replaced at random. */
    for (int i = 0; i < SLOTS; i++)
        slot[i] = lx_malloc(lxt_range(&r, 16, 2048));
    size_t warm = 0;
    uint64_t madv0 = 0;
    for (long op = 0; op < 3000000; op++) {
        if (op == 500000) {
            warm = lxt_rss_bytes();
            madv0 = atomic_load(&lx_os_counters.madvise_count);
        }
        int i = (int)lxt_range(&r, 0, SLOTS - 1);
        lx_free(slot[i]);
        size_t sz = (op & 63) == 0 ? lxt_range(&r, 4096, 65536) : lxt_range(&r, 16, 2048);
        slot[i] = lx_malloc(sz);
        CHECK(slot[i] != NULL, "malloc");
        memset(slot[i], 7, sz < 64 ? sz : 64);
    }
    uint64_t madv = atomic_load(&lx_os_counters.madvise_count) - madv0;
    size_t end = lxt_rss_bytes();
    printf("churn: %llu madvise calls in 2.5M steady operations; RSS %zu -> %zu KiB\n",
           (unsigned long long)madv, warm >> 10, end >> 10);
    CHECK(madv < 2000, "%llu madvise calls in a steady churn loop", (unsigned long long)madv);
    CHECK(end <= warm + warm / 2 + ((size_t)4 << 20), "RSS grew from %zu to %zu KiB", warm >> 10,
          end >> 10);
    for (int i = 0; i < SLOTS; i++)
        lx_free(slot[i]);

    /* Big blocks in a loop: few new mappings, few page faults. */
    lx_stats_t s0, s1;
    lx_stats_get(&s0);
    long faults0 = minor_faults();
    size_t touched = 0;
    for (int i = 0; i < 200; i++) {
        size_t sz = ((size_t)5 << 20) + lxt_range(&r, 0, (size_t)20 << 20);
        uint8_t *p = lx_malloc(sz);
        CHECK(p != NULL, "malloc %zu", sz);
        for (size_t off = 0; off < sz; off += 4096)
            p[off] = 1;
        touched += sz / 4096;
        lx_free(p);
    }
    lx_stats_get(&s1);
    long faults = minor_faults() - faults0;
    unsigned long long maps = s1.os_mmap_count - s0.os_mmap_count;
    printf("big blocks: %llu mmap calls, %ld faults for %zu pages touched\n", maps, faults,
           touched);
    CHECK(maps < 40, "%llu mmap calls for 200 big blocks", maps);
    CHECK((size_t)faults < touched / 20, "%ld page faults for %zu pages touched", faults, touched);

    /* Several big blocks live at once (1-48 MiB, the oldest of four freed each
     * step): the cache keeps what the program used at its peak, so most blocks
     * come back mapped and resident. */
    enum { LIVE = 4, STEPS = 160 };
    uint8_t *live[LIVE] = {0};
    size_t live_size[LIVE] = {0};
    touched = 0;
    long faults_warm = 0;
    for (int i = 0; i < STEPS; i++) {
        if (i == STEPS / 4)
            faults_warm = minor_faults();
        int k = i % LIVE;
        lx_free(live[k]);
        size_t sz = ((size_t)1 << 20) << lxt_range(&r, 0, 5);
        sz += lxt_range(&r, 0, sz / 2);
        live[k] = lx_malloc(sz);
        live_size[k] = sz;
        CHECK(live[k] != NULL, "malloc %zu", sz);
        for (size_t off = 0; off < sz; off += 4096)
            live[k][off] = 2;
        if (i >= STEPS / 4)
            touched += sz / 4096;
    }
    faults = minor_faults() - faults_warm;
    printf("four live big blocks: %ld faults for %zu pages touched\n", faults, touched);
    CHECK((size_t)faults < touched / 3, "%ld page faults for %zu pages touched", faults, touched);
    for (int k = 0; k < LIVE; k++) {
        CHECK(live[k][live_size[k] - 1] == 0 || live[k][live_size[k] - 1] == 2, "block end");
        lx_free(live[k]);
    }

    /* Once the program stops using huge blocks, the cache empties after the purge
     * delay without malloc_trim, as long as the program calls malloc at all. */
    lx_stats_get(&s1);
    CHECK(s1.huge_cached_bytes > ((size_t)32 << 20), "%llu bytes cached after the loop", s1.huge_cached_bytes);
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    for (int i = 0; i < 100000; i++)
        lx_free(lx_malloc(lxt_range(&r, 2000, 4000)));
    lx_stats_get(&s1);
    printf("huge cache after idling: %llu bytes\n", s1.huge_cached_bytes);
    CHECK(s1.huge_cached_bytes == 0, "%llu bytes still cached after the purge delay", s1.huge_cached_bytes);
    CHECK(lx_heap_check() == 0, "heap check");
    return 0;
}

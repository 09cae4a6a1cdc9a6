/* Purging must not turn into a madvise storm: a churn loop at a steady live size
 * reuses freed runs instead of giving them back and faulting them in again, and
 * its resident memory stays bounded. Also: a loop that allocates and frees 5-25
 * MiB blocks reuses its mappings instead of mapping and faulting each one. */
#include <sys/resource.h>

#include "lxt.h"
#include "os.h"

#define SLOTS 20000

static void *slot[SLOTS];

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    CHECK(f != NULL && fscanf(f, "%lu %lu", &size, &resident) == 2, "statm");
    fclose(f);
    return resident * (size_t)sysconf(_SC_PAGESIZE);
}

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
            warm = rss_bytes();
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
    size_t end = rss_bytes();
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
    CHECK((size_t)faults < touched / 4, "%ld page faults for %zu pages touched", faults, touched);
    CHECK(lx_heap_check() == 0, "heap check");
    return 0;
}

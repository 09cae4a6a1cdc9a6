/* calloc of a large block (32 KiB .. 1 MiB) writes no page it does not have to.
 *  1. A block whose pages were never touched reads as zero as it is: calloc
 *     leaves it alone, and its pages stay out of memory until the program
 *     writes them (a sparse table costs what it uses).
 *  2. A block on pages that held data (a freed block's run, from the heap's
 *     cache) is zeroed, whatever mix of old and untouched pages it covers: the
 *     same length, a longer block that reaches past the old one's pages, and a
 *     shorter one.
 *  3. A block that is zeroed has the pages it writes faulted in with one call
 *     (os_populate) where they were not resident. */
#include <sys/mman.h>

#include "lxt.h"
#include "os.h"

static size_t resident_pages(void *p, size_t size)
{
    unsigned char vec[256];
    size_t pages = size / 4096;
    CHECK(pages <= sizeof vec, "range too long");
    CHECK(mincore(p, size, vec) == 0, "mincore: %s", strerror(errno));
    size_t n = 0;
    for (size_t i = 0; i < pages; i++)
        n += vec[i] & 1;
    return n;
}

static void check_zero(const unsigned char *p, size_t size, const char *what)
{
    for (size_t i = 0; i < size; i++)
        CHECK(p[i] == 0, "%s: byte %zu of %zu is %#x", what, i, size, p[i]);
}

int main(void)
{
    /* 1. A new run: 256 KiB, never touched. */
    size_t size = 256 * 1024;
    unsigned char *t = lx_calloc(1, size);
    CHECK(t != NULL, "calloc");
    CHECK(((uintptr_t)t & 4095) == 0, "a large block starts a page");
    size_t res = resident_pages(t, size);
    CHECK(res == 0, "%zu pages of an untouched calloc block are resident", res);
    t[size / 2] = 1; /* one page written: one page resident */
    res = resident_pages(t, size);
    CHECK(res == 1, "%zu pages resident after writing one", res);
    t[size / 2] = 0;
    check_zero(t, size, "untouched block"); /* (reading maps the zero page) */

    /* 2. Old data under a calloc: fill a block, free it (it waits in the run
     * cache), calloc again at the same, a longer and a shorter length. */
    const size_t sizes[] = {40 * 1024, 40 * 1024, 60 * 1024, 36 * 1024, 100 * 1024, 64 * 1024};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        unsigned char *d = lx_malloc(sizes[k]);
        CHECK(d != NULL, "malloc");
        memset(d, 0xee, sizes[k]);
        lx_free(d);
        size_t n = sizes[(k + 1) % (sizeof sizes / sizeof sizes[0])];
        uint64_t c0 = atomic_load(&lx_os_counters.populate_count);
        unsigned char *z = lx_calloc(n, 1);
        CHECK(z != NULL, "calloc");
        check_zero(z, n, "calloc over old data");
        /* 3. At most one call to fault its missing pages in. */
        CHECK(atomic_load(&lx_os_counters.populate_count) - c0 <= 1, "populate calls");
        memset(z, 0xdd, n);
        lx_free(z);
    }
    lx_free(t);
    printf("large_calloc: ok\n");
    return 0;
}

/*
 * A program that moves the break itself (sbrk) between allocations: the memory it
 * takes with sbrk must never overlap a malloc block and must keep its contents,
 * and the allocator's blocks must keep theirs. Matters most when lxmalloc takes
 * its segments from brk (LXMALLOC_SOURCE=brk, run as a variant by run.sh).
 */
#include "lxt.h"

#define ROUNDS 6
#define PER 500

struct range {
    unsigned char *p;
    size_t n;
};

static struct range mine[ROUNDS];
static struct range blk[ROUNDS * PER];

int main(void)
{
    lxt_require_lxmalloc();
    lxt_rng r = {11};
    int nb = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < PER; i++, nb++) {
            blk[nb].n = lxt_size(&r, 200 * LXT_KIB);
            blk[nb].p = T_malloc(blk[nb].n);
            CHECK(blk[nb].p != NULL, "malloc(%zu) returned NULL", blk[nb].n);
            lxt_fill(blk[nb].p, blk[nb].n, (uint64_t)nb);
        }
        /* Free some, so the allocator has holes to reuse next round. */
        for (int i = nb - PER; i < nb; i += 3) {
            T_free(blk[i].p);
            blk[i].p = NULL;
        }
        mine[round].n = 10000 + (size_t)round * 7777;
        void *s = sbrk((intptr_t)mine[round].n);
        CHECK(s != (void *)-1, "sbrk(%zu) failed: %s", mine[round].n, strerror(errno));
        mine[round].p = s;
        lxt_fill(s, mine[round].n, 1000000 + (uint64_t)round);
    }
    for (int i = 0; i < nb; i++) {
        if (blk[i].p == NULL)
            continue;
        CHECK_PATTERN(blk[i].p, blk[i].n, (uint64_t)i, "malloc block after sbrk calls");
        for (int k = 0; k < ROUNDS; k++) {
            uintptr_t a = (uintptr_t)blk[i].p, b = (uintptr_t)mine[k].p;
            CHECK(a + blk[i].n <= b || b + mine[k].n <= a,
                  "malloc block [%p, +%zu) overlaps memory the program took with sbrk [%p, +%zu)",
                  (void *)blk[i].p, blk[i].n, (void *)mine[k].p, mine[k].n);
        }
    }
    for (int k = 0; k < ROUNDS; k++)
        CHECK_PATTERN(mine[k].p, mine[k].n, 1000000 + (uint64_t)k, "memory taken with sbrk");
    for (int i = 0; i < nb; i++)
        T_free(blk[i].p);
    lxt_heap_check("after sbrk calls by the program");
    return 0;
}

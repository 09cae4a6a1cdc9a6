/* LXMALLOC_SOURCE=brk: segments come from the program break, as glibc's main
 * arena does, and when the top of the break is free again the break moves back
 * down. The system malloc of this test process is glibc's, so the test makes
 * its own stdio allocations before it watches the break. */
#include "lxt.h"

#define COUNT 4000

static void *blocks[COUNT];

int main(void)
{
    setenv("LXMALLOC_SOURCE", "brk", 1);
    printf("brk source test\n");
    fflush(stdout);
    uint8_t *b0 = sbrk(0);
    for (int i = 0; i < COUNT; i++) {
        size_t sz = i % 10 == 0 ? 40000 : (size_t)(i % 500) * 8 + 8;
        blocks[i] = lx_malloc(sz);
        CHECK(blocks[i] != NULL, "malloc %zu", sz);
        memset(blocks[i], 3, sz);
    }
    uint8_t *b1 = sbrk(0);
    CHECK(b1 >= b0 + ((size_t)4 << 20), "the break did not grow: %p -> %p", (void *)b0,
          (void *)b1);
    for (int i = 0; i < COUNT; i++)
        CHECK((uint8_t *)blocks[i] >= b0 && (uint8_t *)blocks[i] < b1,
              "block %p is not between the old and new break", blocks[i]);
    CHECK(lx_heap_check() == 0, "heap check");
    for (int i = 0; i < COUNT; i++)
        lx_free(blocks[i]);
    lx_malloc_trim(0);
    uint8_t *b2 = sbrk(0);
    printf("break: %p -> %p -> %p\n", (void *)b0, (void *)b1, (void *)b2);
    CHECK(b2 < b0 + ((size_t)4 << 20), "the break did not move back: %p (start %p)", (void *)b2,
          (void *)b0);
    /* And it grows again on demand. */
    void *p = lx_malloc(1000);
    CHECK(p != NULL && (uint8_t *)p >= b0 && (uint8_t *)p < (uint8_t *)sbrk(0), "regrowth");
    lx_free(p);
    CHECK(lx_heap_check() == 0, "heap check at end");
    return 0;
}

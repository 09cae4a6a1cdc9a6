/* Double free of a small block whose page was given back to the kernel: its slab
 * is kept alive by a few blocks, malloc_trim turns the free pages into holes,
 * and the block's first word (where a free block keeps its list link) now reads
 * as zero, like a live block's. */
// expect default: double free of @P@ (48-byte block)
// expect debug: double free of @P@ (40-byte block)
#include <malloc.h>

#include "misuse.h"

#define N 8192
#define KEEP 256 /* one block in KEEP stays: every slab keeps some, most pages none */

static char *blocks[N];

int main(void)
{
    for (int i = 0; i < N; i++)
        blocks[i] = malloc(40);
    char *p = blocks[N / 2 + KEEP / 2];
    misuse_announce(p);
    for (int i = 0; i < N; i++) {
        if (i % KEEP != 0)
            free(blocks[i]);
    }
    malloc_trim(0);
    free(hide(p));
    for (int i = 0; i < N; i += KEEP)
        free(blocks[i]);
    return 0;
}

/* 100 bytes written past the end of a 24-byte block, then the program goes on
 * allocating. Default mode sees the damage in the next blocks' free-list links. */
// expect default: free list of a 32-byte slab at
// expect default: is corrupt
// expect debug: bytes past a 24-byte block at @P@
// expect debug: heap overflow by
#include "misuse.h"

int main(void)
{
    char *p = malloc(24);
    misuse_announce(p);
    memset(hide(p), 'x', 124);
    free(p);
    for (int i = 0; i < 8; i++)
        hide(malloc(24));
    return 0;
}

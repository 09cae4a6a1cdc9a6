/* A write one byte past the end of a 24-byte block (into the block's rounding
 * slack: default mode cannot see it). */
// expect default: none
// expect debug: heap overflow by 1 byte past a 24-byte block at @P@
#include "misuse.h"

int main(void)
{
    char *p = malloc(24);
    misuse_announce(p);
    memset(p, 'a', 24);
    ((char *)hide(p))[24] = 'x';
    free(p);
    return 0;
}

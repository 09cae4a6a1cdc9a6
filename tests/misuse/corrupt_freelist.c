/* The first word of a freed block overwritten with an address of the attacker's
 * choice (here a global), then the program keeps allocating: a classic way to
 * make malloc return arbitrary memory. */
// expect default: free list of a 48-byte slab at
// expect default: is corrupt (block @P@ links to
// expect debug: write after free at offset 0 of a 48-byte block at @P@
#include "misuse.h"

static char target[64];

int main(void)
{
    void **p = malloc(48);
    misuse_announce(p);
    void **stale = hide(p);
    free(p);
    *stale = target;
    for (int i = 0; i < 1000; i++) {
        char *q = malloc(48);
        if (q == target) {
            puts("malloc returned the attacker's address");
            return 1;
        }
    }
    return 0;
}

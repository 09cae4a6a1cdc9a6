/* free() of a pointer 8 bytes into a block: not a multiple of 16, so the start
 * check of the free fast path (exact division by the class size) must refuse it. */
// expect default: free() of @P@, 8 bytes inside the 48-byte block at
// expect debug: free() of @P@, 8 bytes inside the 48-byte block at
#include "misuse.h"

int main(void)
{
    char *p = malloc(48);
    misuse_announce(p + 8);
    free(hide(p + 8));
    return 0;
}

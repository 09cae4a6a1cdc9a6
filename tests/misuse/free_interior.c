/* free() of a pointer into the middle of a block. */
// expect default: free() of @P@, 16 bytes inside the 48-byte block at
// expect debug: free() of @P@, 16 bytes inside the 48-byte block at
#include "misuse.h"

int main(void)
{
    char *p = malloc(48);
    misuse_announce(p + 16);
    free(hide(p + 16));
    return 0;
}

/* free() of a pointer into a huge block (a mapping of its own), past its first
 * 4 MiB. */
// expect default: free() of @P@, 5242880 bytes inside the
// expect debug: free() of @P@, 5242880 bytes inside the
#include "misuse.h"

int main(void)
{
    char *p = malloc(8 << 20);
    misuse_announce(p + (5 << 20));
    free(hide(p + (5 << 20)));
    return 0;
}

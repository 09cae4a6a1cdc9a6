/* free() of a stack address. */
// expect default: free() of @P@, which lxmalloc did not allocate (a stack address)
// expect debug: free() of @P@, which lxmalloc did not allocate (a stack address)
#include "misuse.h"

int main(void)
{
    char buf[64];
    memset(buf, 1, sizeof buf);
    misuse_announce(buf);
    free(hide(buf));
    return buf[0] == 2;
}

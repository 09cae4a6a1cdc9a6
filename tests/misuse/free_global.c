/* free() of a global array. */
// expect default: free() of @P@, which lxmalloc did not allocate (the static data of
// expect debug: free() of @P@, which lxmalloc did not allocate (the static data of
#include "misuse.h"

static char table[256];

int main(void)
{
    table[0] = 1;
    misuse_announce(table);
    free(hide(table));
    return 0;
}

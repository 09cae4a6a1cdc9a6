/* Double free of a huge block (a mapping of its own). */
// expect default: double free of @P@ (a huge block, already freed)
// expect debug: double free of @P@ (a huge block, already freed)
#include "misuse.h"

int main(void)
{
    char *p = malloc(8 << 20);
    misuse_announce(p);
    char *again = hide(p);
    free(p);
    free(again);
    return 0;
}

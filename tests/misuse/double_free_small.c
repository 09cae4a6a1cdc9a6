/* Double free of a small block. */
// expect default: double free of @P@ (48-byte block)
// expect debug: double free of @P@ (40-byte block)
#include "misuse.h"

int main(void)
{
    char *p = malloc(40);
    misuse_announce(p);
    char *again = hide(p);
    free(p);
    free(again);
    return 0;
}

/* Double free of a medium block (a page run inside a segment). */
// expect default: double free of @P@ (a large block; its pages are already free)
// expect debug: double free of @P@ (100000-byte block)
#include "misuse.h"

int main(void)
{
    char *p = malloc(100000);
    misuse_announce(p);
    char *again = hide(p);
    free(p);
    free(again);
    return 0;
}

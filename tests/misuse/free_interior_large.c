/* free() of a pointer one page into a medium block (a page run). */
// expect default: free() of @P@, 4096 bytes inside the
// expect debug: free() of @P@, 4096 bytes inside the
#include "misuse.h"

int main(void)
{
    char *p = malloc(100000);
    misuse_announce(p + 4096);
    free(hide(p + 4096));
    return 0;
}

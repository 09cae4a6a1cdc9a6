/* MALLOC_CHECK_=1: a double free is reported and ignored, the program goes on,
 * and the heap still works. */
// env: MALLOC_CHECK_=1
// expect default: exit double free of @P@ (48-byte block)
// expect debug: exit double free of @P@ (40-byte block)
#include "misuse.h"

int main(void)
{
    char *p = malloc(40);
    misuse_announce(p);
    char *again = hide(p);
    free(p);
    free(again);
    for (int i = 0; i < 1000; i++)
        free(malloc(40));
    puts("still running");
    return 0;
}

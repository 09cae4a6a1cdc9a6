/* realloc() of a pointer that was already freed. */
// expect default: realloc() of @P@ (48-byte block), which is already free
// expect debug: realloc() of @P@ (48-byte block), which is already free
#include "misuse.h"

int main(void)
{
    char *p = malloc(48);
    misuse_announce(p);
    char *stale = hide(p);
    free(p);
    p = realloc(stale, 100);
    return p == NULL;
}

/* malloc_usable_size of a pointer 16 bytes into a small block: the fast answer
 * is only for the start of a live block; this one is reported. */
// expect default: malloc_usable_size() of @P@, 16 bytes inside the 48-byte block at
// expect debug: malloc_usable_size() of @P@, 16 bytes inside the 40-byte block at
#include <malloc.h>

#include "misuse.h"

int main(void)
{
    char *p = malloc(40);
    misuse_announce(p + 16);
    size_t n = malloc_usable_size(hide(p + 16));
    printf("usable %zu\n", n);
    free(p);
    return 0;
}

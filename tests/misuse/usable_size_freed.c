/* malloc_usable_size of a small block after it was freed: reported, not
 * answered with the block's size. */
// expect default: malloc_usable_size() of @P@ (48-byte block), which is already free
// expect debug: malloc_usable_size() of @P@ (40-byte block), which is already free
#include <malloc.h>

#include "misuse.h"

int main(void)
{
    char *keep = malloc(40); /* the slab stays in use */
    char *p = malloc(40);
    misuse_announce(p);
    free(p);
    size_t n = malloc_usable_size(hide(p));
    printf("usable %zu\n", n);
    free(keep);
    return 0;
}

/* Double free by the owner of a block whose slab was full: the first free keeps
 * the block in the heap's stash for the class's next malloc (the slab stays
 * marked full), and the second free must find it there. */
// expect default: double free of @P@ (48-byte block)
// expect debug: double free of @P@ (40-byte block)
#include "misuse.h"

#define N 20000

int main(void)
{
    static char *keep[N];
    for (int i = 0; i < N; i++) /* the first blocks' slabs are full by the end */
        keep[i] = malloc(40);
    char *p = keep[0];
    misuse_announce(p);
    free(hide(p));
    free(hide(p));
    for (int i = 1; i < N; i++)
        free(keep[i]);
    return 0;
}

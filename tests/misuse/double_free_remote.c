/* Double free of a small block across threads: another thread frees it (a
 * remote free, onto its slab's list of remote frees), then the owner frees it
 * again, and then a third thread tries once more. The owner finds the block on
 * the remote list; the report names it. */
// expect default: double free of @P@ (48-byte block)
// expect debug: double free of @P@ (40-byte block)
#include <pthread.h>

#include "misuse.h"

static void *free_it(void *p)
{
    free(p);
    return NULL;
}

int main(void)
{
    char *keep[64];
    for (int i = 0; i < 64; i++) /* the slab stays in use after the free */
        keep[i] = malloc(40);
    char *p = malloc(40);
    misuse_announce(p);
    pthread_t t;
    if (pthread_create(&t, NULL, free_it, hide(p)) != 0 || pthread_join(t, NULL) != 0)
        return 2;
    free(hide(p));
    for (int i = 0; i < 64; i++)
        free(keep[i]);
    return 0;
}

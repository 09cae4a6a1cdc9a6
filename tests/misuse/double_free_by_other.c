/* Double free of a small block by a thread that does not own it: a thread with
 * a heap of its own (it allocated before) frees another thread's block twice.
 * The first free goes onto the slab's list of remote frees; the second finds
 * the block's first word already a free-list link and is reported, never pushed
 * a second time. */
// expect default: double free of @P@ (48-byte block)
// expect debug: double free of @P@ (40-byte block)
#include <pthread.h>

#include "misuse.h"

static void *free_twice(void *p)
{
    void *own = malloc(40); /* this thread has a heap: its frees take the fast paths */
    free(own);
    free(p);
    free(hide(p));
    return NULL;
}

int main(void)
{
    char *keep[64];
    for (int i = 0; i < 64; i++) /* the slab stays in use after the frees */
        keep[i] = malloc(40);
    char *p = malloc(40);
    misuse_announce(p);
    pthread_t t;
    if (pthread_create(&t, NULL, free_twice, p) != 0 || pthread_join(t, NULL) != 0)
        return 2;
    for (int i = 0; i < 64; i++)
        free(keep[i]);
    return 0;
}

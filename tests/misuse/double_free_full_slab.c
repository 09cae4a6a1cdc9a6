/* Double free of a block whose slab was full: another thread's free of it goes
 * to the owner heap's list of delayed frees (the full slab waits to hear of a
 * free), and the owner's second free must find it there. */
// expect default: double free of @P@ (48-byte block)
// expect debug: double free of @P@ (40-byte block)
#include <pthread.h>

#include "misuse.h"

#define N 20000

static void *free_it(void *p)
{
    free(p);
    return NULL;
}

int main(void)
{
    static char *keep[N];
    for (int i = 0; i < N; i++) /* the first blocks' slabs are full by the end */
        keep[i] = malloc(40);
    char *p = keep[0];
    misuse_announce(p);
    pthread_t t;
    if (pthread_create(&t, NULL, free_it, hide(p)) != 0 || pthread_join(t, NULL) != 0)
        return 2;
    free(hide(p));
    for (int i = 1; i < N; i++)
        free(keep[i]);
    return 0;
}

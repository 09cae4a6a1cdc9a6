/* free() by another thread of a pointer into the middle of a block: the thread
 * (which has a heap of its own) must not push it onto the slab's remote list. */
// expect default: free() of @P@, 16 bytes inside the 48-byte block at
// expect debug: free() of @P@, 16 bytes inside the 48-byte block at
#include <pthread.h>

#include "misuse.h"

static void *free_inside(void *p)
{
    void *own = malloc(48); /* this thread has a heap: its frees take the fast paths */
    free(own);
    free(hide(p));
    return NULL;
}

int main(void)
{
    char *p = malloc(48);
    misuse_announce(p + 16);
    pthread_t t;
    if (pthread_create(&t, NULL, free_inside, p + 16) != 0 || pthread_join(t, NULL) != 0)
        return 2;
    return 0;
}

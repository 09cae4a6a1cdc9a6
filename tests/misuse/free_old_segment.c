/* free() of a pointer into a mapping that now lies where a segment of lxmalloc
 * used to be. The freeing thread met that segment before (free remembers the
 * segments it met), then malloc_trim unmapped it; the remembered segment must
 * not be trusted any more. */
// expect default: free() of @P@, which lxmalloc did not allocate
// expect debug: free() of @P@, which lxmalloc did not allocate
#include <malloc.h>
#include <stdint.h>
#include <sys/mman.h>

#include "misuse.h"

#define N 20000
#define SEG ((uintptr_t)4 << 20)

static char *blocks[N];

int main(void)
{
    for (int i = 0; i < N; i++)
        blocks[i] = malloc(1000);
    for (int i = 0; i < N; i++)
        free(blocks[i]);
    malloc_trim(0);
    for (int i = N - 1; i >= 0; i--) {
        char *base = (char *)((uintptr_t)blocks[i] & ~(SEG - 1));
        void *m = mmap(base, SEG, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (m == base) {
            memset(m, 0xff, SEG); /* what a stale segment's header would read */
            char *p = blocks[i];
            misuse_announce(p);
            free(hide(p));
            return 0;
        }
        if (m != MAP_FAILED)
            munmap(m, SEG);
    }
    return 3; /* no segment was given back: the scene could not be set up */
}

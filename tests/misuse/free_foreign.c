/* free() of memory from somewhere else: a private anonymous mapping, as another
 * allocator would hand out. */
// expect default: free() of @P@, which lxmalloc did not allocate (another allocator's block
// expect debug: free() of @P@, which lxmalloc did not allocate (another allocator's block
#include <sys/mman.h>

#include "misuse.h"

int main(void)
{
    char *m = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 77;
    misuse_announce(m + 64);
    free(hide(m + 64));
    return 0;
}

/* A write to offset 8 of a freed 48-byte block. Debug mode finds it when the
 * block leaves the quarantine (at the latest, at exit). */
// expect default: none
// expect debug: write after free at offset 8 of a 48-byte block at @P@
#include "misuse.h"

int main(void)
{
    char *p = malloc(48);
    memset(p, 0, 48);
    misuse_announce(p);
    char *stale = hide(p);
    free(p);
    stale[8] = 'w';
    for (int i = 0; i < 8; i++)
        free(malloc(48));
    return 0;
}

/*
 * A known allocation pattern for tests/cmd/trace.sh: grows to 64 MiB of live
 * blocks (256 blocks of 256 KiB, each written, plus a few thousand small ones),
 * forks a child that allocates and exits (a forked child must not write to the
 * trace), then frees everything and exits normally (the exit record).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BLOCKS 256
#define BLOCK_SIZE (256 * 1024)
#define SMALL 4096

int main(void)
{
    static char *big[BLOCKS];
    static char *small[SMALL];
    for (int i = 0; i < BLOCKS; i++) {
        big[i] = malloc(BLOCK_SIZE);
        if (big[i] == NULL)
            return 1;
        memset(big[i], i, BLOCK_SIZE);
        for (int j = 0; j < SMALL / BLOCKS; j++) {
            int k = i * (SMALL / BLOCKS) + j;
            small[k] = malloc(48);
            if (small[k] == NULL)
                return 1;
            memset(small[k], k, 48);
        }
    }
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        return 1;
    if (child == 0) {
        for (int i = 0; i < 16; i++) {
            char *p = malloc(1 << 20);
            if (p == NULL)
                _exit(1);
            memset(p, 1, 1 << 20);
            free(p);
        }
        exit(0);
    }
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 1;
    for (int i = 0; i < BLOCKS; i++)
        free(big[i]);
    for (int i = 0; i < SMALL; i++)
        free(small[i]);
    printf("grow done, pid %ld\n", (long)getpid());
    return 0;
}

/*
 * A process with known regions, for tests/cmd/maps.sh: an anonymous mapping of a
 * distinctive size (made read-only so that no neighbour merges into it), a
 * shared anonymous mapping, a private mapping of a file, a locked page range, a
 * brk heap, blocks from the allocator (small, large, huge) and a second thread.
 * It prints "name address [size]" lines, then "ready", and waits until its
 * standard input ends, so the test can read its layout meanwhile.
 *
 *   layout FILE    (FILE: a scratch file it creates and maps)
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ANON_SIZE (771 * 4096)   /* 3 MiB + 12 KiB */
#define SHARED_SIZE (261 * 4096) /* 1 MiB + 20 KiB */
#define FILE_SIZE (50 * 4096)
#define LOCKED_SIZE (4 * 4096)

int initialised_global = 42;      /* data */
static char zeroed_global[1 << 20]; /* bss */

static int ready_pipe[2];

static void *thread_main(void *arg)
{
    (void)arg;
    volatile int local = 1;
    printf("thread_stack %p\n", (void *)&local);
    fflush(stdout);
    char c;
    if (write(ready_pipe[1], "x", 1) != 1)
        exit(1);
    /* Wait for the end of the test, as the main thread does. */
    while (read(0, &c, 1) > 0) {
    }
    return NULL;
}

static void *map_or_die(size_t size, int prot, int flags, int fd)
{
    void *p = mmap(NULL, size, prot, flags, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: layout FILE\n");
        return 2;
    }
    volatile int local = 0;
    char *anon = map_or_die(ANON_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    memset(anon, 1, ANON_SIZE); /* all resident */
    if (mprotect(anon, ANON_SIZE, PROT_READ) != 0) {
        perror("mprotect");
        return 1;
    }
    char *shared = map_or_die(SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1);
    memset(shared, 2, SHARED_SIZE);

    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, FILE_SIZE) != 0) {
        perror(argv[1]);
        return 1;
    }
    char *file = map_or_die(FILE_SIZE, PROT_READ, MAP_PRIVATE, fd);
    close(fd);

    char *locked = map_or_die(LOCKED_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    int is_locked = mlock(locked, LOCKED_SIZE) == 0;

    char *brk_area = sbrk(65536);
    if (brk_area == (void *)-1) {
        perror("sbrk");
        return 1;
    }
    memset(brk_area, 3, 65536);
    memset(zeroed_global, 4, sizeof zeroed_global);

    char *small = malloc(100);
    char *large = malloc(512 * 1024);
    char *huge = malloc(8 << 20);
    if (small == NULL || large == NULL || huge == NULL)
        return 1;
    memset(small, 5, 100);
    memset(large, 6, 512 * 1024);
    memset(huge, 7, 8 << 20);

    if (pipe(ready_pipe) != 0)
        return 1;
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, NULL) != 0)
        return 1;
    char c;
    if (read(ready_pipe[0], &c, 1) != 1)
        return 1;

    printf("pid %ld\n", (long)getpid());
    printf("anon %p %d\n", (void *)anon, ANON_SIZE);
    printf("shared %p %d\n", (void *)shared, SHARED_SIZE);
    printf("file %p %d\n", (void *)file, FILE_SIZE);
    if (is_locked)
        printf("locked %p %d\n", (void *)locked, LOCKED_SIZE);
    printf("brk %p\n", (void *)brk_area);
    printf("text %p\n", (void *)(uintptr_t)main);
    printf("data %p\n", (void *)&initialised_global);
    printf("bss %p\n", (void *)(zeroed_global + sizeof zeroed_global / 2));
    printf("stack %p\n", (void *)&local);
    printf("small %p\n", (void *)small);
    printf("large %p\n", (void *)large);
    printf("huge %p\n", (void *)huge);
    printf("ready\n");
    fflush(stdout);

    while (read(0, &c, 1) > 0) {
    }
    pthread_join(t, NULL);
    free(small);
    free(large);
    free(huge);
    return 0;
}

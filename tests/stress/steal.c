/*
 * An owner and a thief free the same full slabs at the same moment. Each round
 * the owner fills slabs of one class, then takes no allocation slow path for
 * longer than the idle time after which another thread may take its full slabs;
 * the thief then allocates (a slow path: it is the busy one) and both free the
 * owner's blocks in lockstep, the owner the even ones and the thief the odd, so
 * that each slab's first frees (the owner's: off the full list; the thief's:
 * take the slab, then off its own full list) race. A free that acts on a stale
 * key would push onto a slab another thread owns: blocks lost or handed out
 * twice, which the patterns and the heap checker at the end catch.
 * Four such pairs share 2 CPUs, so a thread is often preempted mid-free.
 * LXT_STRESS_SECONDS bounds the time (default 10; at most 60 rounds a pair).
 */
#include "stress.h"

#define NPAIRS 4
#define NBLOCKS 8192
#define BLOCK 512
#define NTRIGGER 256

struct pair {
    struct sblk *blocks[NBLOCKS];
    void *trigger[NTRIGGER];
    pthread_barrier_t start_free, round_done;
    unsigned id, rounds;
    int stop;
};

static struct pair pairs[NPAIRS];
static double deadline;

static void free_half(struct pair *p, unsigned first)
{
    for (unsigned i = first; i < NBLOCKS; i += 2) {
        sblk_check(p->blocks[i], "block before free");
        T_free(p->blocks[i]);
    }
}

static void *thief(void *arg)
{
    struct pair *p = arg;
    for (;;) {
        pthread_barrier_wait(&p->start_free);
        if (p->stop)
            return NULL;
        /* Slow paths of a class the owner does not use: this heap is busy now. */
        for (unsigned i = 0; i < NTRIGGER; i++) {
            p->trigger[i] = T_malloc(200);
            CHECK(p->trigger[i] != NULL, "malloc(200) returned NULL");
        }
        pthread_barrier_wait(&p->start_free);
        free_half(p, 1);
        for (unsigned i = 0; i < NTRIGGER; i++)
            T_free(p->trigger[i]);
        pthread_barrier_wait(&p->round_done);
    }
}

static void *owner(void *arg)
{
    struct pair *p = arg;
    uint64_t tag = (uint64_t)p->id << 40;
    while (p->rounds < 60 && now_s() < deadline) {
        p->rounds++;
        for (unsigned i = 0; i < NBLOCKS; i++) {
            p->blocks[i] = T_malloc(BLOCK);
            CHECK(p->blocks[i] != NULL, "malloc(%d) returned NULL", BLOCK);
            sblk_fill(p->blocks[i], BLOCK, ++tag);
        }
        /* Idle for longer than LX_IDLE_HEAP_NS (20 ms), then let the thief go. */
        struct timespec idle = {0, 30 * 1000 * 1000};
        nanosleep(&idle, NULL);
        pthread_barrier_wait(&p->start_free);
        pthread_barrier_wait(&p->start_free);
        free_half(p, 0);
        pthread_barrier_wait(&p->round_done);
    }
    p->stop = 1;
    pthread_barrier_wait(&p->start_free);
    return NULL;
}

int main(void)
{
    lxt_require_lxmalloc();
    pin_cpus(2);
    deadline = now_s() + stress_seconds(10);
    pthread_t t[2 * NPAIRS];
    for (unsigned k = 0; k < NPAIRS; k++) {
        struct pair *p = &pairs[k];
        p->id = k + 1;
        CHECK(pthread_barrier_init(&p->start_free, NULL, 2) == 0, "barrier init failed");
        CHECK(pthread_barrier_init(&p->round_done, NULL, 2) == 0, "barrier init failed");
        CHECK(pthread_create(&t[2 * k], NULL, owner, p) == 0, "pthread_create failed");
        CHECK(pthread_create(&t[2 * k + 1], NULL, thief, p) == 0, "pthread_create failed");
    }
    unsigned rounds = 0;
    for (unsigned k = 0; k < 2 * NPAIRS; k++)
        CHECK(pthread_join(t[k], NULL) == 0, "pthread_join failed");
    for (unsigned k = 0; k < NPAIRS; k++)
        rounds += pairs[k].rounds;
    T_malloc_trim(0);
    size_t problems = heap_check_if_any();
    CHECK(problems == 0, "lx_heap_check found %zu problems", problems);
    /* Every block is free again: a new allocation of as many must be all distinct. */
    struct sblk **blocks = pairs[0].blocks;
    for (unsigned i = 0; i < NBLOCKS; i++) {
        blocks[i] = T_malloc(BLOCK);
        CHECK(blocks[i] != NULL, "malloc(%d) returned NULL", BLOCK);
        sblk_fill(blocks[i], BLOCK, i + 1);
    }
    for (unsigned i = 0; i < NBLOCKS; i++)
        sblk_check(blocks[i], "block of the last allocation");
    for (unsigned i = 0; i < NBLOCKS; i++)
        T_free(blocks[i]);
    printf("%u rounds of %d blocks, each freed by its owner and a thief at once\n", rounds,
           NBLOCKS);
    return 0;
}

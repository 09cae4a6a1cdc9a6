/*
 * Fuzz target for the lx_ API. The input is a sequence of 4-byte operations:
 *
 *   byte 0  bits 0-3 operation, bits 4-5 thread (0..3), bits 6-7 size kind
 *   byte 1  bits 0-5 slot (0..63), bits 6-7 an extra parameter
 *   bytes 2-3  a 16-bit value: the size (scaled by the kind) or alignment
 *
 * Operations: malloc, calloc, realloc, free, posix_memalign, aligned_alloc,
 * memalign, "use the whole usable size", free_sized, reallocarray, move a block to
 * another slot, heap check, malloc_trim, thread exit (and a new thread in its
 * place), valloc/pvalloc, realloc to 0 or malloc(0).
 *
 * Four worker threads execute the operations in lockstep: the driver hands each
 * run of operations to the thread it names and waits for it, so a run is
 * deterministic (the same input always does the same thing) while blocks are
 * allocated on one thread and freed, reallocated or checked on another (remote
 * frees, full slabs, delayed frees, orphaned and adopted heaps).
 *
 * The 64 slots are the shadow model: every block holds a pattern derived from its
 * tag and byte offsets, checked whenever an operation touches it, every 256
 * operations for all blocks, and at the end of an input, when every block is freed
 * and each thread runs lx_heap_check. Any mismatch, unexpected NULL or errno, or
 * heap problem aborts (which libFuzzer records as a crash).
 *
 * Built two ways (tests/fuzz/fuzz.mk): with -fsanitize=fuzzer for libFuzzer, and
 * plainly with a main() that replays files and directories given as arguments and
 * then runs `-r N` pseudo-random inputs (seed `-s S`), for make test.
 */
#include <dirent.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "lxt.h"

#define NSLOTS 64
#define NWORKERS 4
#define LIVE_CAP ((size_t)16 << 20) /* bytes live at most: keeps inputs fast */
#define CHECK_EVERY 256

/* A failure here must be seen by libFuzzer, which catches signals, not _exit. */
#define FCHECK(cond, ...)                                                                \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_ops: %s:%d: ", __FILE__, __LINE__);                    \
            fprintf(stderr, __VA_ARGS__);                                                \
            fputc('\n', stderr);                                                         \
            abort();                                                                     \
        }                                                                                \
    } while (0)

struct slot {
    unsigned char *p;
    size_t n;     /* bytes that hold the pattern */
    uint64_t tag;
    size_t align; /* alignment the block must keep (16 by default) */
};

static struct slot slots[NSLOTS];
static size_t live;
static uint64_t tags;

enum {
    OP_MALLOC, OP_CALLOC, OP_REALLOC, OP_FREE, OP_MEMALIGN_POSIX, OP_ALIGNED_ALLOC,
    OP_MEMALIGN, OP_USABLE, OP_FREE_SIZED, OP_REALLOCARRAY, OP_MOVE, OP_CHECK, OP_TRIM,
    OP_EXIT, OP_VALLOC, OP_ZERO,
    OP_QUIT = 100, OP_FINISH, /* driver-internal */
};

/* ---- the shadow model ---------------------------------------------------- */

static void verify(const struct slot *s, const char *when)
{
    if (s->p == NULL)
        return;
    size_t off = lxt_verify(s->p, s->n, s->tag);
    FCHECK(off == SIZE_MAX, "%s: block %p (%zu bytes, tag %llu) corrupted at offset %zu", when,
           (void *)s->p, s->n, (unsigned long long)s->tag, off);
    FCHECK(lxt_aligned(s->p, s->align), "%s: block %p lost its %zu-byte alignment", when,
           (void *)s->p, s->align);
}

static void verify_all(const char *when)
{
    for (unsigned i = 0; i < NSLOTS; i++)
        verify(&slots[i], when);
}

/* A new block in slot s (which is empty): check it and fill it. */
static void adopt(struct slot *s, void *p, size_t n, size_t align, const char *call)
{
    FCHECK(p != NULL, "%s(%zu) returned NULL (errno %d)", call, n, errno);
    FCHECK(lxt_aligned(p, align), "%s(%zu): %p is not %zu-byte aligned", call, n, p, align);
    size_t usable = lx_malloc_usable_size(p);
    FCHECK(usable >= n, "%s(%zu): usable size %zu", call, n, usable);
    for (unsigned i = 0; i < NSLOTS; i++) {
        const struct slot *o = &slots[i];
        if (o->p == NULL || o == s)
            continue;
        size_t on = o->n ? o->n : 1, nn = n ? n : 1;
        FCHECK((unsigned char *)p + nn <= o->p || o->p + on <= (unsigned char *)p,
               "%s(%zu) = %p overlaps the live block %p of %zu bytes", call, n, p,
               (void *)o->p, o->n);
    }
    s->p = p;
    s->n = n;
    s->tag = ++tags;
    s->align = align;
    lxt_fill(p, n, s->tag);
    live += n;
}

static void release(struct slot *s, bool sized)
{
    if (s->p == NULL)
        return;
    verify(s, "before free");
    if (sized)
        lx_free_sized(s->p, s->n);
    else
        lx_free(s->p);
    live -= s->n;
    s->p = NULL;
}

/* The size an operation asks for, by kind: tiny, small, large, huge. */
static size_t size_of(unsigned kind, unsigned v)
{
    switch (kind) {
    case 0:
        return v % 129;
    case 1:
        return v % (32 * 1024 + 1);
    case 2:
        return 32 * 1024 + (size_t)v * 32; /* to ~2 MiB: large runs and past them */
    default:
        return ((size_t)1 << 20) - 4096 + (size_t)v * 40; /* around and above 1 MiB */
    }
}

static bool fits(size_t n)
{
    return n <= LIVE_CAP && live + n <= LIVE_CAP;
}

static void do_realloc(struct slot *s, size_t n, bool array, unsigned extra)
{
    if (s->p == NULL || !fits(n))
        return;
    verify(s, "before realloc");
    size_t keep = s->n < n ? s->n : n;
    void *q;
    if (array) {
        size_t count = extra + 1, each = n / count;
        n = count * each;
        keep = s->n < n ? s->n : n;
        q = lx_reallocarray(s->p, count, each);
    } else {
        q = lx_realloc(s->p, n);
    }
    if (n == 0) { /* glibc semantics: freed, NULL returned */
        FCHECK(q == NULL, "realloc(p, 0) returned %p", q);
        live -= s->n;
        s->p = NULL;
        return;
    }
    FCHECK(q != NULL, "realloc(%p, %zu) returned NULL (errno %d)", (void *)s->p, n, errno);
    FCHECK(lxt_verify(q, keep, s->tag) == SIZE_MAX, "realloc to %zu lost the contents", n);
    live -= s->n;
    s->p = NULL;
    adopt(s, q, n, 16, "realloc"); /* refilled under a new tag: stale copies show */
}

static void do_aligned(struct slot *s, unsigned op, unsigned kind, unsigned v, unsigned extra)
{
    unsigned shift = 3 + (v >> 11) % 21; /* 8 B .. 8 MiB */
    size_t align = (size_t)1 << shift;
    size_t n = size_of(kind, v & 0x7ff);
    if (!fits(n))
        return;
    void *p = NULL;
    if (op == OP_MEMALIGN_POSIX) {
        if (extra == 3) { /* a bad alignment: EINVAL, nothing allocated */
            int rc = lx_posix_memalign(&p, align * 3, n);
            FCHECK(rc == EINVAL, "posix_memalign(%zu, %zu) returned %d", align * 3, n, rc);
            return;
        }
        int rc = lx_posix_memalign(&p, align, n);
        FCHECK(rc == 0, "posix_memalign(%zu, %zu) returned %d", align, n, rc);
    } else if (op == OP_ALIGNED_ALLOC) {
        p = lx_aligned_alloc(align, n);
    } else if (extra == 3 && align > 16) { /* glibc rounds odd alignments up */
        p = lx_memalign(align - 3, n);
    } else {
        p = lx_memalign(align, n);
    }
    adopt(s, p, n, align < 16 ? 16 : align, "aligned allocation");
}

/* Execute one operation on the calling worker thread. */
static void execute(const uint8_t *op)
{
    unsigned code = op[0] & 15, kind = op[0] >> 6;
    unsigned idx = op[1] & 63, extra = op[1] >> 6;
    unsigned v = (unsigned)op[2] | (unsigned)op[3] << 8;
    struct slot *s = &slots[idx];
    size_t n = size_of(kind, v);
    switch (code) {
    case OP_MALLOC:
        if (!fits(n))
            return;
        release(s, false);
        adopt(s, lx_malloc(n), n, 16, "malloc");
        break;
    case OP_CALLOC: {
        size_t count = extra + 1, each = n / count;
        if (!fits(count * each))
            return;
        release(s, false);
        unsigned char *p = lx_calloc(count, each);
        FCHECK(p != NULL, "calloc(%zu, %zu) returned NULL", count, each);
        for (size_t i = 0; i < count * each; i++)
            FCHECK(p[i] == 0, "calloc(%zu, %zu): byte %zu is %d", count, each, i, p[i]);
        adopt(s, p, count * each, 16, "calloc");
        break;
    }
    case OP_REALLOC:
    case OP_REALLOCARRAY:
        do_realloc(s, n, code == OP_REALLOCARRAY, extra);
        break;
    case OP_FREE:
    case OP_FREE_SIZED:
        release(s, code == OP_FREE_SIZED);
        break;
    case OP_MEMALIGN_POSIX:
    case OP_ALIGNED_ALLOC:
    case OP_MEMALIGN:
        release(s, false);
        do_aligned(s, code, kind, v, extra);
        break;
    case OP_USABLE: /* the whole usable size is the caller's to use */
        if (s->p != NULL) {
            verify(s, "before using the usable size");
            size_t u = lx_malloc_usable_size(s->p);
            FCHECK(u >= s->n, "usable size %zu below the %zu requested", u, s->n);
            if (!fits(u - s->n))
                return;
            live += u - s->n;
            s->n = u;
            lxt_fill(s->p, u, s->tag);
        }
        break;
    case OP_MOVE: { /* the block changes hands; the next owner may be another thread */
        struct slot *d = &slots[v & 63];
        if (d == s || s->p == NULL)
            return;
        release(d, false);
        *d = *s;
        s->p = NULL;
        break;
    }
    case OP_CHECK: {
        verify_all("check");
        size_t problems = lx_heap_check();
        FCHECK(problems == 0, "lx_heap_check found %zu problems", problems);
        break;
    }
    case OP_TRIM:
        lx_malloc_trim(0);
        break;
    case OP_VALLOC: {
        if (!fits(n + 4096))
            return;
        release(s, false);
        void *p = extra & 1 ? lx_pvalloc(n) : lx_valloc(n);
        size_t want = extra & 1 ? ((n + 4095) & ~(size_t)4095) : n;
        adopt(s, p, want == 0 && (extra & 1) ? 4096 : want, 4096, "valloc");
        break;
    }
    case OP_ZERO:
        if (s->p != NULL && extra == 0) {
            do_realloc(s, 0, false, 0);
        } else {
            release(s, false);
            adopt(s, lx_malloc(0), 0, 16, "malloc(0)");
        }
        break;
    }
}

/* ---- lockstep workers ---------------------------------------------------- */

struct worker {
    pthread_t thread;
    sem_t go;
    const uint8_t *ops; /* a run of operations for this thread */
    size_t count;
    int command;        /* 0: run ops; OP_EXIT; OP_FINISH: free slots i % NWORKERS */
    bool started;
};

static struct worker workers[NWORKERS];
static sem_t done;

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    unsigned id = (unsigned)(w - workers);
    for (;;) {
        while (sem_wait(&w->go) != 0) {
        }
        if (w->command == OP_EXIT) {
            sem_post(&done);
            return NULL;
        }
        if (w->command == OP_FINISH) {
            for (unsigned i = id; i < NSLOTS; i += NWORKERS)
                release(&slots[i], false);
        } else if (w->command == OP_CHECK) {
            size_t problems = lx_heap_check();
            FCHECK(problems == 0, "lx_heap_check found %zu problems on thread %u", problems, id);
        } else {
            for (size_t i = 0; i < w->count; i++)
                execute(w->ops + 4 * i);
        }
        sem_post(&done);
    }
}

static void worker_start(struct worker *w)
{
    FCHECK(sem_init(&w->go, 0, 0) == 0, "sem_init failed");
    FCHECK(pthread_create(&w->thread, NULL, worker_main, w) == 0, "pthread_create failed");
    w->started = true;
}

static void worker_command(struct worker *w, int command, const uint8_t *ops, size_t count)
{
    if (!w->started)
        worker_start(w);
    w->command = command;
    w->ops = ops;
    w->count = count;
    sem_post(&w->go);
    while (sem_wait(&done) != 0) {
    }
    if (command == OP_EXIT) {
        FCHECK(pthread_join(w->thread, NULL) == 0, "pthread_join failed");
        sem_destroy(&w->go);
        w->started = false;
    }
}

static void run_input(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        FCHECK(sem_init(&done, 0, 0) == 0, "sem_init failed");
        ready = true;
    }
    size_t count = size / 4, i = 0;
    while (i < count) {
        const uint8_t *op = data + 4 * i;
        struct worker *w = &workers[(op[0] >> 4) & 3];
        if ((op[0] & 15) == OP_EXIT) {
            if (w->started)
                worker_command(w, OP_EXIT, NULL, 0);
            i++;
            continue;
        }
        /* The run of operations for the same thread, up to the next checkpoint. */
        size_t j = i + 1;
        while (j < count && j % CHECK_EVERY != 0 && (data[4 * j] & 0x30) == (op[0] & 0x30) &&
               (data[4 * j] & 15) != OP_EXIT)
            j++;
        worker_command(w, 0, op, j - i);
        if (j % CHECK_EVERY == 0)
            verify_all("periodic check");
        i = j;
    }
    verify_all("end of input");
    for (unsigned t = 0; t < NWORKERS; t++)
        worker_command(&workers[t], OP_FINISH, NULL, 0);
    for (unsigned t = 0; t < NWORKERS; t++)
        worker_command(&workers[t], OP_CHECK, NULL, 0);
    FCHECK(live == 0, "%zu bytes still counted live after freeing every slot", live);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run_input(data, size);
    return 0;
}

#ifndef LXF_LIBFUZZER
/* ---- replay without libFuzzer -------------------------------------------- */

static unsigned long replayed;

static void replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    FCHECK(f != NULL, "cannot open %s", path);
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    run_input(buf, n);
    replayed++;
}

static void replay_path(const char *path)
{
    struct stat st;
    FCHECK(stat(path, &st) == 0, "cannot stat %s", path);
    if (!S_ISDIR(st.st_mode)) {
        replay_file(path);
        return;
    }
    DIR *d = opendir(path);
    FCHECK(d != NULL, "cannot open directory %s", path);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        replay_file(sub);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    unsigned long random_inputs = 0, seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
            random_inputs = strtoul(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            seed = strtoul(argv[++i], NULL, 0);
        else
            replay_path(argv[i]);
    }
    /* Random inputs: mostly tiny and small sizes (big blocks cost their filling),
     * and runs of a few operations per thread, as real programs have. */
    lxt_rng r = {seed};
    static uint8_t buf[2 * 1024];
    for (unsigned long k = 0; k < random_inputs; k++) {
        size_t len = 4 * lxt_range(&r, 1, sizeof buf / 4);
        uint8_t thread = 0;
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)lxt_next(&r);
        for (size_t i = 0; i < len; i += 4) {
            if (lxt_next(&r) % 8 == 0)
                thread = (uint8_t)(lxt_next(&r) & 0x30);
            unsigned kind = lxt_next(&r) % 32 == 0 ? 2 + (unsigned)(lxt_next(&r) & 1)
                                                   : (unsigned)(lxt_next(&r) & 1);
            buf[i] = (uint8_t)((buf[i] & 0x0f) | thread | kind << 6);
        }
        run_input(buf, len);
    }
    printf("fuzz_ops: %lu inputs replayed, %lu random inputs (seed %lu), all clean\n", replayed,
           random_inputs, seed);
    return 0;
}
#endif /* LXF_LIBFUZZER */

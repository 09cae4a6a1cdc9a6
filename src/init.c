/* SPDX-License-Identifier: MIT */
/*
 * init.c — start-up kept apart from the runtime allocator. The first malloc of
 * the process (which may come from the dynamic loader, a constructor, or another
 * library's start-up, long before main) initialises everything under
 * lx_heaps_lock; nothing in it allocates, so it cannot recurse. The thread-exit
 * key is created inside that critical section (pthread_key_create allocates
 * nothing), and the fork handlers are registered after it, when a malloc from
 * inside pthread_atfork would already find lxmalloc ready.
 *
 * fork: prepare takes the object caches' locks, the first-class heaps' list
 * locks, lx_heaps_lock, every arena lock, the huge cache's lock, the debug
 * quarantine's, then the profiler's table locks (the documented lock order);
 * the parent releases them in reverse; the child resets them, since the forking
 * thread is the only thread left.
 *
 * Exit: a destructor of the library, which runs after the program's static
 * destructors and atexit handlers (the loader finalises a preloaded or linked
 * library after the program that depends on it): the quarantine check, the leak
 * report and heap profile, then the statistics.
 */
#include "init.h"

#include <pthread.h>

#include "alloc.h"
#include "check.h"
#include "debug.h"
#include "cache.h"
#include "heap.h"
#include "large.h"
#include "options.h"
#include "os.h"
#include "pages.h"
#include "prof.h"
#include "report.h"
#include "segment.h"
#include "sizeclass.h"
#include "slab.h"
#include "stack.h"
#include "stats.h"
#include "trace.h"
#include "track.h"
#include "xheap.h"

enum { INIT_NONE = 0, INIT_RUNNING = 1, INIT_DONE = 2 };

static _Atomic int lx_init_state;
#if LX_VALGRIND
bool lx_track_on;
#endif
static pthread_key_t lx_thread_key;
static int lx_thread_key_ok;

/* Set when the thread's heap has been detached at its exit: a free made later
 * (by a destructor that runs after ours) does not give the thread a heap again. */
static LX_TLS bool lx_tls_exited;

static void thread_exit(void *arg)
{
    struct heap *h = arg;
    lx_tls_exited = true;
    if (lx_tls_heap == h)
        lx_tls_heap = &lx_empty_heap;
    heap_detach_thread(h);
}

static void fork_prepare(void)
{
    caches_fork_prepare();
    xheaps_fork_prepare();
    heaps_fork_prepare();
    arenas_lock_all();
    huge_cache_fork_prepare();
    debug_fork_prepare();
    prof_fork_prepare();
}

static void fork_parent(void)
{
    prof_fork_parent();
    debug_fork_parent();
    huge_cache_fork_parent();
    arenas_unlock_all();
    heaps_fork_parent();
    xheaps_fork_parent();
    caches_fork_parent();
}

static void fork_child(void)
{
    trace_fork_child();
    huge_cache_fork_child();
    segment_brk_fork_child();
    debug_fork_child();
    prof_fork_child();
    arenas_reset_locks();
    heaps_fork_child();
    xheaps_fork_child();
    caches_fork_child();
}

void lx_process_init(void)
{
    if (LX_LIKELY(atomic_load_explicit(&lx_init_state, memory_order_acquire) == INIT_DONE))
        return;
    lx_lock(&lx_heaps_lock);
    if (atomic_load_explicit(&lx_init_state, memory_order_relaxed) != INIT_NONE) {
        lx_unlock(&lx_heaps_lock);
        return;
    }
    atomic_store_explicit(&lx_init_state, INIT_RUNNING, memory_order_relaxed);
#if LX_VALGRIND
    lx_track_on = track_detect();
#endif
    if (os_page_size() != LX_PAGE_SIZE)
        lx_fatal("this build needs %zu-byte pages, the system uses %zu", LX_PAGE_SIZE,
                 os_page_size());
    os_random(&lx_secret, sizeof(lx_secret));
    os_random(&lx_list_key, sizeof(lx_list_key));
    os_random(&lx_debug_key, sizeof(lx_debug_key));
    options_init();
    prof_init();
    sizeclass_init();
    arenas_init();
    lx_thread_key_ok = pthread_key_create(&lx_thread_key, thread_exit) == 0;
    atomic_store_explicit(&lx_init_state, INIT_DONE, memory_order_release);
    lx_unlock(&lx_heaps_lock);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    trace_init();
    /* Debug mode reports often, and the profiler walks the stack of every block
     * it records: have the unwinder find its tables now, outside every lock (a
     * malloc from in there finds lxmalloc ready). */
    if (lx_opt.debug)
        stack_preload();
    prof_start();
}

struct heap *lx_thread_init(const struct heap *prefer)
{
    lx_process_init();
    /* Initialisation may have allocated (pthread_atfork, the unwinder) and so
     * given this thread its heap already. */
    if (lx_tls_heap != &lx_empty_heap)
        return lx_tls_heap;
    struct heap *h = heap_attach_thread(prefer);
    if (h == NULL)
        return NULL;
    lx_tls_heap = h;
    if (lx_thread_key_ok)
        pthread_setspecific(lx_thread_key, h);
    return h;
}

struct heap *lx_thread_heap_for_free(const struct heap *owner)
{
    struct heap *h = lx_tls_heap;
    if (h != &lx_empty_heap || lx_tls_exited ||
        atomic_load_explicit(&lx_init_state, memory_order_acquire) != INIT_DONE)
        return h;
    h = lx_thread_init(owner);
    return h != NULL ? h : &lx_empty_heap;
}

__attribute__((destructor)) static void lx_process_exit(void)
{
    if (atomic_load_explicit(&lx_init_state, memory_order_acquire) != INIT_DONE)
        return;
    alloc_debug_exit();
    prof_at_exit();
    stats_at_exit();
    trace_at_exit();
}

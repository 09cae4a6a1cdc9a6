/* SPDX-License-Identifier: MIT */
/*
 * os.h — the operating-system contract. Only os.c makes system calls.
 * Every function is safe to call before lxmalloc is initialised, allocates
 * nothing, and reports failure by its return value (never by errno alone).
 */
#ifndef LX_OS_H
#define LX_OS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "compiler.h"
#include "config.h"

/* Anonymous read-write private mapping of `size` bytes (a page multiple) at a
 * kernel-chosen address; NULL on failure. The memory reads as zero. */
void *os_map(size_t size) LX_WUR;

/* Unmap [addr, addr+size); both page-aligned. Returns false on failure. */
bool os_unmap(void *addr, size_t size);

/* Map `size` bytes aligned to `alignment` (a power of two, >= page size). */
void *os_map_aligned(size_t size, size_t alignment) LX_WUR;

/* Map `size` bytes exactly at `addr` if nothing is mapped there (the kernel
 * never replaces a mapping for it); NULL otherwise. */
void *os_map_at(void *addr, size_t size) LX_WUR;

/* The program break. os_brk_alloc_aligned extends it so that `size` bytes aligned
 * to `alignment` fit, returning them (NULL if the break cannot move, or moved
 * under us). os_brk_release moves the break back to `addr` if [addr, addr+size)
 * is its top, and says whether it did. The caller serialises these calls. */
void *os_brk_alloc_aligned(size_t size, size_t alignment) LX_WUR;
bool os_brk_release(void *addr, size_t size);

/* Ask for (or refuse) transparent huge pages on a range. */
void os_advise_hugepages(void *addr, size_t size, bool enable);

/* Grow or shrink a mapping in place; returns false if it cannot be done there. */
bool os_remap_inplace(void *addr, size_t old_size, size_t new_size);

/* Move a mapping to `to`, replacing whatever is mapped there. NULL on failure. */
void *os_remap_to(void *addr, size_t old_size, size_t new_size, void *to) LX_WUR;

/* Give the pages' contents back to the kernel; they read as zero afterwards. */
bool os_discard(void *addr, size_t size);

/* Fault in a range of untouched pages that are about to be written, in one call
 * (madvise MADV_POPULATE_WRITE, Linux 5.14 and later): cheaper than a page fault
 * per page. A hint: a kernel that refuses it is not asked again. */
void os_populate(void *addr, size_t size);

/*
 * Discards gathered and made together: one process_madvise(2) call for the whole
 * batch (Linux 6.15 and later take MADV_DONTNEED on PIDFD_SELF, the caller
 * itself; recent kernels also flush the TLBs of the other CPUs once for all ranges, where a
 * madvise per range interrupts every CPU running one of the program's threads
 * each time). Where the kernel refuses it, the batch falls back to one madvise
 * per range, and the process does not try again. The caller must not touch a
 * queued range until os_discard_flush: its contents may go at any moment up
 * to then. A queued range that continues the previous one joins it.
 */
#define LX_DISCARD_BATCH 32
struct os_discard_batch {
    struct iovec range[LX_DISCARD_BATCH];
    unsigned count;
};

LX_INLINE void os_discard_batch_init(struct os_discard_batch *b)
{
    b->count = 0;
}
/* Queue [addr, addr+size); flushes first when the batch is full. */
void os_discard_queue(struct os_discard_batch *b, void *addr, size_t size);
/* Discard every queued range; the batch is empty afterwards. */
void os_discard_flush(struct os_discard_batch *b);
/* Whether batches may use process_madvise (LXMALLOC_PURGE_BATCH); default yes. */
void os_discard_batching(bool enable);

/* Lock pages in RAM (mlock). Returns 0, or why not: ENOMEM when RLIMIT_MEMLOCK
 * would be exceeded (or the kernel is short of lockable memory), EPERM when the
 * limit is 0 for an unprivileged process. */
int os_lock_memory(void *addr, size_t size) LX_WUR;
void os_unlock_memory(void *addr, size_t size);

/* Make pages readable and writable, or inaccessible (guard pages). */
bool os_protect(void *addr, size_t size, bool accessible) LX_WUR;

/* Leave pages out of core dumps (MADV_DONTDUMP); best effort. */
void os_dontdump(void *addr, size_t size);

/* Write all of buf to fd, retrying on EINTR and short writes. */
void os_write_all(int fd, const char *buf, size_t len);
int os_open_append(const char *path);
/* Create or truncate a file for writing (mode 0600); -1 on failure. */
int os_open_write(const char *path);
/* Open for reading; -1 on failure. */
int os_open_read(const char *path);
/* read(2), retried on EINTR: bytes read, 0 at the end, -1 on error. */
long os_read(int fd, void *buf, size_t len);
/* rename(2): true if done. */
bool os_rename(const char *from, const char *to);
void os_close(int fd);
/* Run `handler` (which must be async-signal-safe) on signal `sig`, with
 * SA_RESTART; false if the signal cannot be caught. */
bool os_signal_handler(int sig, void (*handler)(int));

LX_NORETURN void os_abort(void);
/* True in set-user-ID / set-group-ID (AT_SECURE) processes. */
bool os_is_secure(void);
int os_getpid(void);
long os_maxrss_kb(void);
unsigned os_cpu_count(void);
size_t os_page_size(void);
void os_random(void *buf, size_t len);
uint64_t os_now_ns(void);
/* CLOCK_MONOTONIC_COARSE: the same clock as os_now_ns, a few ms behind (one
 * kernel tick) and about three times cheaper to read: for the purge delays and
 * cache expiry (pages.c, large.c), which count in tens of ms, and rate limits.
 * Times compared with one another must all come from this clock. */
uint64_t os_now_coarse_ns(void);

/* Read a small file (a /proc entry) into buf, NUL-terminated; the number of bytes
 * read, or -1. Opens and closes it each time. */
long os_read_file(const char *path, char *buf, size_t cap);
/* The current directory into buf (NUL-terminated); false if it does not fit. */
bool os_getcwd(char *buf, size_t cap);

/* Name an anonymous mapping: /proc/PID/maps then shows it as [anon:NAME]. Needs
 * Linux 5.17 built with CONFIG_ANON_VMA_NAME; after the first refusal it is not
 * tried again in this process, so it costs one failed call where unsupported. */
void os_name_mapping(void *addr, size_t size, const char *name);

/* Futex on a 32-bit word: wait while *addr == expected; wake up to n waiters. */
void os_futex_wait(_Atomic int *addr, int expected);
void os_futex_wake(_Atomic int *addr, int count);
void os_yield(void);

#if LX_FAULT_INJECT
/* Tests only. The calls that map memory or change mappings (os_map, os_map_aligned, os_map_at,
 * os_remap_inplace, os_remap_to, os_discard, os_discard_flush of a non-empty
 * batch) are numbered 1, 2, ... from the last
 * os_fault_set. Call number `nth` fails as the kernel would (nothing mapped or
 * changed); with `persistent`, every later one fails too. nth == 0 turns failures
 * off. os_fault_calls() is how many of those calls were made since. */
void os_fault_set(uint64_t nth, bool persistent);
uint64_t os_fault_calls(void);
#endif /* LX_FAULT_INJECT */

/* Counters of the calls above that change mappings. */
struct os_counters {
    _Atomic uint64_t mmap_count;
    _Atomic uint64_t munmap_count;
    _Atomic uint64_t mremap_count;
    _Atomic uint64_t madvise_count;
    _Atomic uint64_t populate_count;
    _Atomic uint64_t populate_bytes;
    _Atomic uint64_t mapped_bytes;
    _Atomic uint64_t peak_mapped_bytes;
};
extern struct os_counters lx_os_counters;

#endif /* LX_OS_H */

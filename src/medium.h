/* SPDX-License-Identifier: MIT */
/*
 * medium.h — blocks of LX_MEDIUM_MIN+1 .. LX_MEDIUM_MAX bytes that malloc cuts
 * to measure from a thread heap's medium runs, where blocks of every such size
 * share the pages (medium.c). Layer: heap, beside heap.c.
 */
#ifndef LX_MEDIUM_H
#define LX_MEDIUM_H

#include <stdbool.h>
#include <stddef.h>

#include "os.h"
#include "types.h"

/* A block of n bytes (LX_MEDIUM_MIN < n <= LX_MEDIUM_MAX) from h's medium runs,
 * 16-byte aligned; NULL if no run can be had. Owner only. */
void *medium_alloc(struct heap *h, size_t n) LX_WUR;

/* Free p, in medium run pg, from a thread whose heap is h (maybe the empty
 * heap): h's own block is coalesced with its free neighbours; another heap's
 * goes on that heap's remote stack. false (nothing done) if p does not start a
 * live chunk of pg: the caller reports it. */
bool medium_free(struct heap *h, struct page *pg, void *p);

/* Owner only: grow h's live block p (run pg) in place to n bytes (at most
 * LX_MEDIUM_MAX) into the free chunk after it. Whether it did. */
bool medium_grow(struct heap *h, struct page *pg, void *p, size_t n);

/* The usable bytes of the live chunk starting at p in run pg, or 0. */
size_t medium_usable(const struct page *pg, const void *p);

/* The chunk holding address p of run pg: its user pointer and usable bytes,
 * and whether it is live. The start of a live block is read from its header;
 * any other address takes a walk of the run's headers, for a report (any
 * thread may ask; false if p lies in none, or past a header that reads wrong). */
bool medium_find(const struct page *pg, const void *p, uint8_t **base, size_t *usable,
                 bool *live);

/* Owner only: free the blocks other threads freed into h's runs; with `all`
 * release every run that is entirely free (else all but one). */
void medium_collect(struct heap *h, bool all);

/* Give back the whole pages inside h's free chunks of 8 KiB and more that were
 * free at the last sweep too (with `all`, every one), queued on `batch`; the
 * bytes queued. Owner only. */
size_t medium_sweep(struct heap *h, bool all, struct os_discard_batch *batch);

/* Heap checker: walk every run of h (chunk headers, neighbours, bins); problems. */
size_t medium_check(struct heap *h);

#endif /* LX_MEDIUM_H */

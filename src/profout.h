/* SPDX-License-Identifier: MIT */
/*
 * profout.h — the reports of the leak report and heap profile (prof.c records,
 * profout.c writes). Both allocate nothing from the heap; call them with no
 * table lock of prof.c held.
 */
#ifndef LX_PROFOUT_H
#define LX_PROFOUT_H

/* The leak report: to LXMALLOC_LEAKS_FILE, else LXMALLOC_REPORT_FILE, else stderr. */
void profout_leaks(void);

/* FILE.heap, FILE.folded and FILE.alloc.folded of LXMALLOC_PROFILE. The
 * caller makes sure only one thread writes them at a time. */
void profout_profile(void);

#endif /* LX_PROFOUT_H */

/*
 * Helpers for the misuse catalogue: tiny programs that each commit one heap bug.
 * tests/run.sh runs each under LD_PRELOAD=liblxmalloc.so, in default and in
 * debug mode (LXMALLOC_DEBUG=1), and compares the outcome with the program's
 * "expect" lines:
 *
 *   // expect default: <text>    the run must die of SIGABRT and its output
 *   // expect debug: <text>      contain <text>; several lines for one mode must
 *                                all match; "@P@" stands for the address the
 *                                program announced with misuse_announce()
 *   // expect default: none      the bug goes unnoticed: the run must exit 0
 *
 * hide() keeps the compiler from seeing (and warning about, or optimising away)
 * the bug.
 */
#ifndef MISUSE_H
#define MISUSE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile misuse_slot;

/* The value comes back through a volatile object, so the compiler cannot track it. */
static inline void *hide(void *p)
{
    misuse_slot = p;
    return misuse_slot;
}

/* The address the expected diagnosis names, on stdout before the bug. */
static inline void misuse_announce(void *p)
{
    printf("misuse-address %p\n", p);
    fflush(stdout);
}

#endif /* MISUSE_H */

/* SPDX-License-Identifier: MIT */
/*
 * stack.h — stack traces without the heap: capture with libgcc's unwinder, name
 * frames with dladdr. Used by heap-error reports (check.c) and by the leak
 * report and heap profile (prof.c). Layer: utility; depends on os only.
 */
#ifndef LX_STACK_H
#define LX_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

/* Frames walked at most, lxmalloc's own included. */
#define LX_STACK_WALK_MAX 48

/* The calling thread's return addresses, innermost first, into ip[0..max).
 * With `from` nonzero the trace starts at the frame whose return address is
 * `from` (the caller of the API function: lxmalloc's own frames are left out);
 * if no frame has it, the whole walk is kept. Returns the number stored. Never
 * allocates once stack_preload has run; before that the unwinder may (the
 * callers guard against re-entry). */
unsigned stack_capture(uintptr_t *ip, unsigned max, uintptr_t from);

/* Let the unwinder find its tables now, outside every lock. */
void stack_preload(void);

/* What dladdr knows about a return address (looked up one byte before it, in
 * the call instruction). Pointers into the loader's tables: valid while the
 * object stays loaded. */
struct stack_symbol {
    const char *function; /* dynamic symbol, or NULL */
    size_t function_offset; /* ip - the symbol's address */
    const char *module;   /* path of the object, or NULL if none contains ip */
    size_t module_offset; /* ip - the object's load bias: the address addr2line takes */
};

void stack_symbolize(uintptr_t ip, struct stack_symbol *out);

/* The last path component of a module name. */
const char *stack_basename(const char *path);

#endif /* LX_STACK_H */

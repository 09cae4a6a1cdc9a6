/* SPDX-License-Identifier: MIT */
/*
 * compiler.h — the compiler extensions lxmalloc uses, wrapped once so the rest
 * of the code stays plain C11. Every file may include it; it depends on nothing.
 */
#ifndef LX_COMPILER_H
#define LX_COMPILER_H

#define LX_EXPORT __attribute__((visibility("default")))
#define LX_HIDDEN __attribute__((visibility("hidden")))
#define LX_LIKELY(x) __builtin_expect(!!(x), 1)
#define LX_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LX_NOINLINE __attribute__((noinline))
#define LX_COLD __attribute__((cold, noinline))
#define LX_INLINE static inline __attribute__((always_inline))
/* Code most programs never run: reports, the profiler, statistics output, debug
 * mode, the extended API. The shared library links it after the code every
 * program runs (src/lxmalloc.ld), with the unlikely parts GCC splits off (as
 * LX_COLD functions) and the unwinder, so that the common code fills one 64 KiB
 * fault-around window and the pages of the rest are never mapped. Placement
 * only: the code is optimized as any other. */
#define LX_RARE __attribute__((section(".text.lx_rare")))
/* Zeroed data that most programs never touch (LX_BSS_COLD) or touch in one
 * place only (LX_BSS_ARENAS, LX_BSS_SEGMAP): src/lxmalloc.ld puts them before
 * the rest of .bss, in that order, so that the small variables every program
 * uses share a page or two instead of lying between them. */
#define LX_BSS_COLD __attribute__((section(".bss.lx_cold")))
#define LX_BSS_ARENAS __attribute__((section(".bss.lx_arenas")))
#define LX_BSS_SEGMAP __attribute__((section(".bss.lx_segmap")))
#define LX_NORETURN __attribute__((noreturn))
#define LX_WUR __attribute__((warn_unused_result))
#define LX_UNUSED __attribute__((unused))
#define LX_TLS _Thread_local __attribute__((tls_model("initial-exec")))
#define LX_CACHE_ALIGNED _Alignas(64)

#if defined(__x86_64__) || defined(__i386__)
#define LX_CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define LX_CPU_RELAX() __asm__ __volatile__("yield" ::: "memory")
#else
#define LX_CPU_RELAX() __asm__ __volatile__("" ::: "memory")
#endif

#define LX_CLZ(x) __builtin_clzll((unsigned long long)(x))
#define LX_CTZ(x) __builtin_ctzll((unsigned long long)(x))
#define LX_MUL_OVERFLOW(a, b, out) __builtin_mul_overflow((a), (b), (out))

#endif /* LX_COMPILER_H */

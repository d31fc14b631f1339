/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cache flush and invalidate for memory that may not be coherent between
 * hosts. The instruction is chosen on first use from CPUID (and the
 * FAMRT_FLUSH override) and kept in one atomic word: threads racing on the
 * first call compute the same answer, so no lock and no constructor.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define FAMRT_X86 1
#else
#define FAMRT_X86 0
#endif

#include "dax.h"
#include "dax_internal.h"

#define DEFAULT_LINE 64u

/*
 * The choice, packed: bit 31 set once chosen, bits 0-3 the flush insn, bits
 * 4-7 the invalidate insn, bits 8-15 log2 of the line size.
 */
static uint32_t flush_state;

unsigned famrt_cpu_features(unsigned *line_size)
{
	unsigned features = 0, line = 0;
#if FAMRT_X86
	unsigned a, b, c, d;

	if (__get_cpuid(1, &a, &b, &c, &d)) {
		if (d & (1u << 19)) {
			features |= FAMRT_CPU_CLFLUSH;
			line = ((b >> 8) & 0xffu) * 8u;
		}
	}
	if (__get_cpuid_max(0, NULL) >= 7 &&
	    __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
		if (b & (1u << 23))
			features |= FAMRT_CPU_CLFLUSHOPT;
		if (b & (1u << 24))
			features |= FAMRT_CPU_CLWB;
	}
#endif
	if (line_size)
		*line_size = line;
	return features;
}

void famrt_flush_choose(unsigned cpu, const char *env,
			enum famrt_flush_insn *flush,
			enum famrt_flush_insn *inval)
{
	enum famrt_flush_insn f = FAMRT_FLUSH_NONE, i = FAMRT_FLUSH_NONE;

	if (cpu & FAMRT_CPU_CLFLUSH)
		f = i = FAMRT_FLUSH_CLFLUSH;
	if (cpu & FAMRT_CPU_CLFLUSHOPT)
		f = i = FAMRT_FLUSH_CLFLUSHOPT;
	if (cpu & FAMRT_CPU_CLWB)
		f = FAMRT_FLUSH_CLWB; /* clwb keeps the line: not for invalidate */

	if (env && !strcmp(env, "clflush") && (cpu & FAMRT_CPU_CLFLUSH)) {
		f = i = FAMRT_FLUSH_CLFLUSH;
	} else if (env && !strcmp(env, "clflushopt") &&
		   (cpu & FAMRT_CPU_CLFLUSHOPT)) {
		f = i = FAMRT_FLUSH_CLFLUSHOPT;
	} else if (env && !strcmp(env, "clwb") && (cpu & FAMRT_CPU_CLWB)) {
		f = FAMRT_FLUSH_CLWB;
	}
	*flush = f;
	*inval = i;
}

static uint32_t flush_state_get(void)
{
	uint32_t s = __atomic_load_n(&flush_state, __ATOMIC_ACQUIRE);
	enum famrt_flush_insn f, i;
	unsigned line, shift = 0, cpu;

	if (s)
		return s;
	cpu = famrt_cpu_features(&line);
	if (!line || (line & (line - 1)))
		line = DEFAULT_LINE;
	while ((1u << shift) < line)
		shift++;
	famrt_flush_choose(cpu, getenv("FAMRT_FLUSH"), &f, &i);
	s = (1u << 31) | (uint32_t)f | (uint32_t)i << 4 | shift << 8;
	__atomic_store_n(&flush_state, s, __ATOMIC_RELEASE);
	return s;
}

void famrt_flush_reset(void)
{
	__atomic_store_n(&flush_state, 0, __ATOMIC_RELEASE);
}

static const char *insn_name(unsigned insn)
{
	switch (insn) {
	case FAMRT_FLUSH_CLWB:
		return "clwb";
	case FAMRT_FLUSH_CLFLUSHOPT:
		return "clflushopt";
	case FAMRT_FLUSH_CLFLUSH:
		return "clflush";
	default:
		return "none";
	}
}

const char *famrt_flush_method(void)
{
	return insn_name(flush_state_get() & 0xfu);
}

const char *famrt_invalidate_method(void)
{
	return insn_name((flush_state_get() >> 4) & 0xfu);
}

#if FAMRT_X86
/* One loop per instruction, so the loop body is a single instruction. */
#define LINE_LOOP(insn, start, end, line)                                     \
	for (uintptr_t a_ = (start); a_ < (end); a_ += (line))                \
		__asm__ volatile(insn " %0"                                   \
				 :                                            \
				 : "m"(*(const volatile char *)a_)            \
				 : "memory")

static void lines(unsigned insn, const void *p, size_t len, unsigned shift)
{
	uintptr_t line = (uintptr_t)1 << shift;
	uintptr_t start = (uintptr_t)p & ~(line - 1);
	uintptr_t end = (uintptr_t)p + len;

	if (!len)
		return;
	switch (insn) {
	case FAMRT_FLUSH_CLWB:
		LINE_LOOP("clwb", start, end, line);
		break;
	case FAMRT_FLUSH_CLFLUSHOPT:
		LINE_LOOP("clflushopt", start, end, line);
		break;
	case FAMRT_FLUSH_CLFLUSH:
		LINE_LOOP("clflush", start, end, line);
		break;
	default:
		break;
	}
}
#endif

void famrt_flush_range(const void *p, size_t len)
{
#if FAMRT_X86
	uint32_t s = flush_state_get();

	lines(s & 0xfu, p, len, (s >> 8) & 0xffu);
	__asm__ volatile("sfence" ::: "memory");
#else
	(void)p;
	(void)len;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

void famrt_invalidate_range(const void *p, size_t len)
{
#if FAMRT_X86
	uint32_t s = flush_state_get();

	lines((s >> 4) & 0xfu, p, len, (s >> 8) & 0xffu);
	__asm__ volatile("mfence" ::: "memory");
#else
	(void)p;
	(void)len;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For programs that use famrt heaps and fork (tests, bench_heap): include
 * in exactly one file of the program. ThreadSanitizer's deadlock detector
 * follows at most 64 locks held by one thread; jemalloc's fork handler
 * takes all of its locks at once (more than 64 when a few arenas exist)
 * and trips it. Races are still detected.
 */
#ifndef FAMRT_TEST_TSAN_OPTIONS_H
#define FAMRT_TEST_TSAN_OPTIONS_H

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) && !defined(__SANITIZE_THREAD__)
#define __SANITIZE_THREAD__ 1
#endif
#endif
#ifdef __SANITIZE_THREAD__
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "detect_deadlocks=0";
}
#endif

#endif

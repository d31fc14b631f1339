/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the benchmark binaries: the command line, a monotonic
 * nanosecond clock, statistics over repeated runs, CPU pinning, and the
 * JSON report (one object per case) with a one-line summary per case on
 * stderr.
 *
 * Every benchmark takes:
 *   --json FILE    write the report there ("-" for stdout)
 *   --quick        few iterations and repeats: a smoke test, not a figure
 *   --repeat N     timed runs per case (default 11); the median is reported
 *   --cpu N        pin to CPU N (default: the last CPU allowed; -1: don't)
 *   --only TEXT    run only the cases whose name contains TEXT (TEXT$: whose
 *                  name ends with TEXT)
 *   --devices LIST run on these devices (comma-separated paths: real
 *                  device-dax, whose contents are destroyed) instead of
 *                  emulated ones; only the benchmarks that use devices
 *                  take it (bench_io, bench_shim, bench_heap, bench_famrtd)
 *
 * The report is one JSON object whose shape never changes:
 *   { "benchmark": "...", "quick": false, "repeat": 11, "cpu": 1,
 *     "cpu_model": "...", "cases": [ CASE, ... ] }
 * and each CASE always has the same keys:
 *   { "name": "...", "params": {...}, "iterations": N,
 *     "ns_per_op": median, "bytes_per_sec": number or null,
 *     "runs": { "n": N, "min": ns, "max": ns, "spread": (max-min)/median },
 *     "baseline": { "name": ..., "ns_per_op": ..., "bytes_per_sec": ... }
 *                 or null,
 *     "ratio": baseline ns_per_op / ns_per_op (above 1: faster than the
 *              baseline) or null }
 */
#ifndef FAMRT_BENCH_COMMON_H
#define FAMRT_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct bench_opts {
	const char *json_path; /* NULL: no JSON */
	const char *only;      /* NULL: every case */
	bool quick;
	unsigned repeat;
	int cpu;               /* CPU pinned to, or -1 */
	const char *devices;   /* --devices, or NULL: emulated devices */
};

/*
 * Parse the common options into o. Returns 0, 1 after --help (the caller
 * exits 0), or -1 after printing a usage error (the caller exits 2).
 */
int bench_parse_args(int argc, char **argv, const char *what,
		     struct bench_opts *o);

/*
 * For a benchmark that makes no devices (or only its own emulated ones):
 * 0 if --devices was not given, else -1 after saying so on stderr.
 */
int bench_no_devices(const struct bench_opts *o, const char *prog);

/*
 * Pin the calling thread to o->cpu, or choose one (the last CPU the process
 * may run on) when o->cpu is -2, the default; -1 means no pinning. Sets
 * o->cpu to where it ran. The one place that decides placement: topology-
 * aware choices (hwloc: a core near a device's memory) belong here.
 */
int bench_pin(struct bench_opts *o);

/* Nanoseconds from CLOCK_MONOTONIC. */
uint64_t bench_now_ns(void);

/* Keep a value alive so the compiler cannot drop the work producing it. */
void bench_consume(uint64_t v);

/* Pseudo-random numbers, cheap and reproducible (xorshift64*). */
static inline uint64_t bench_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

struct bench_stats {
	double median;
	double min;
	double max;
	double spread; /* (max - min) / median */
	unsigned n;
};

/* Statistics of v[0..n) (n >= 1); v is sorted in place. */
void bench_stats(double *v, unsigned n, struct bench_stats *s);

enum bench_param_kind { BENCH_P_INT, BENCH_P_NUM, BENCH_P_STR };

/* One parameter of a case (the "params" object). */
struct bench_param {
	const char *key;
	enum bench_param_kind kind;
	int64_t i;
	double d;
	const char *s;
};

#define BENCH_INT(k, v) { .key = (k), .kind = BENCH_P_INT, .i = (int64_t)(v) }
#define BENCH_NUM(k, v) { .key = (k), .kind = BENCH_P_NUM, .d = (double)(v) }
#define BENCH_STR(k, v) { .key = (k), .kind = BENCH_P_STR, .s = (v) }

/* A measured case, or its baseline. */
struct bench_result {
	const char *name;
	const struct bench_param *params;
	unsigned nparams;
	uint64_t iterations;   /* operations per timed run */
	struct bench_stats ns; /* nanoseconds per operation */
	double bytes_per_op;   /* 0: bytes per second do not apply */
};

/*
 * The work under test: do n operations (or n units that make some number
 * of operations, like ranges that yield runs) and return how many
 * operations were done. It must feed its results to bench_consume() or
 * equivalent so that nothing is optimised away.
 */
typedef uint64_t (*bench_body)(void *arg, uint64_t n);

/*
 * Warm up (one untimed call, and more until 20 ms have passed), then time
 * o->repeat calls of body(arg, n). ns gets the nanoseconds per operation;
 * *ops the operations of one call. Returns 0, or -EINVAL if a call did
 * nothing.
 */
int bench_measure(const struct bench_opts *o, bench_body body, void *arg,
		  uint64_t n, struct bench_stats *ns, uint64_t *ops);

struct bench_report;

/* Start a report (path NULL: summaries on stderr only). NULL on error. */
struct bench_report *bench_report_open(const struct bench_opts *o,
				       const char *benchmark);

/*
 * Add a case with an optional baseline; print its summary line on stderr.
 * Returns 0 or -errno.
 */
int bench_report_add(struct bench_report *r, const struct bench_result *res,
		     const struct bench_result *baseline);

/* Finish the report and free it. Returns 0 or -errno (write failed). */
int bench_report_close(struct bench_report *r);

/* True when the case name passes --only. */
bool bench_selected(const struct bench_opts *o, const char *name);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_heap: famrt heaps (include/famrt/heap.h) against glibc malloc and
 * jemalloc on anonymous memory, side by side in one run, on emulated
 * devices (files in /dev/shm, i.e. tmpfs) served by a real famrtd started
 * through the test harness (tests/common).
 *
 * Allocation rate: each thread allocates blocks of one size, writes their
 * first byte, and frees each block 64 allocations later (so 64 live blocks
 * a thread), 1 and 2 threads, sizes 64 B (thread-cached small class),
 * 4 KiB, and 256 KiB (above jemalloc's tcache_max: arena and extent path).
 * Arms, measured in turn (the order rotates each repeat):
 *   famrt      famrt_heap_malloc/free, a per-thread cache per heap
 *   famrt-nc   the same heap type with FAMRT_HEAP_NO_TCACHE
 *   jemalloc   mallocx/dallocx on jemalloc's default arenas and caches,
 *              i.e. jemalloc over anonymous memory
 *   glibc      glibc's malloc/free (dlsym on libc.so.6 itself)
 * ns_per_op is wall time per malloc+free pair, all threads together
 * (throughput). famrt's baseline is jemalloc; jemalloc's is glibc.
 *
 * Memory-bound loops over a buffer from the heap against the same over a
 * buffer from glibc malloc (anonymous memory), same sizes and offsets:
 * a streaming sum of 64-bit words over a buffer well beyond the last-level
 * cache, and a random pointer chase (one pointer per 64-byte line, a single
 * random cycle) over a buffer in cache and one well beyond it. Both arms
 * must produce the same sum and end at the same offset, or the benchmark
 * fails. The heap's buffer is a tmpfs file's pages (4 KiB), glibc's is
 * anonymous memory (transparent huge pages when the system gives them):
 * the TLB difference is part of what is measured, and the params say so.
 *
 * Threads: the 1-thread cases run on the pinned CPU (--cpu); the 2-thread
 * cases on two different CPUs when the process may use two. Informational:
 * the exit status never depends on a time.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jemalloc/jemalloc.h>

#include <famrt/famrt.h>
#include <famrt/heap.h>

#include "common.h"
#include "famrtd_harness.h"

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)
#define LIVE 64
#define MAXTHREADS 2
#define MAXREPEAT 1000

#include "tsan_options.h"

/* ---- the environment ---- */

struct env {
	struct bench_opts o;
	struct bench_report *rep;
	struct h_fs fs;
	struct h_famrtd d;
	struct famrt *c;
	struct famrt_heap *heap, *heap_nc, *heap_mem;
	void *(*g_malloc)(size_t);
	void (*g_free)(void *);
	cpu_set_t all_cpus;
	int cpus[MAXTHREADS];
	int ncpus;
	uint64_t llc;
	double target_ns;
};

static struct env *cleanup_env;

static void on_signal(int sig)
{
	struct env *e = cleanup_env;

	if (e) {
		if (e->d.pid > 0)
			kill(e->d.pid, SIGKILL);
		for (uint32_t i = 0; i < e->fs.ndevs; i++)
			unlink(e->fs.dev[i]);
	}
	_exit(128 + sig);
}

static uint64_t llc_size(void)
{
	long v = sysconf(_SC_LEVEL3_CACHE_SIZE);
	unsigned long n = 0;
	char unit = 0;
	FILE *f;

	if (v > 0)
		return (uint64_t)v;
	f = fopen("/sys/devices/system/cpu/cpu0/cache/index3/size", "re");
	if (!f)
		return 32 * MiB;
	if (fscanf(f, "%lu%c", &n, &unit) < 1)
		n = 0;
	fclose(f);
	n = unit == 'K' ? n * KiB : unit == 'M' ? n * MiB : n;
	return n ? n : 32 * MiB;
}

/* ---- allocation rate ---- */

enum arm_kind { ARM_FAMRT, ARM_FAMRT_NC, ARM_JEMALLOC, ARM_GLIBC, NARMS };

static const char *const arm_name[NARMS] = { "famrt", "famrt-nc",
					     "jemalloc", "glibc" };

struct worker {
	struct env *e;
	enum arm_kind arm;
	size_t size;
	uint64_t n;
	int cpu;
	pthread_barrier_t *bar;
	uint64_t sum;
	int failed;
};

static inline void *arm_alloc(struct env *e, enum arm_kind a, size_t n)
{
	switch (a) {
	case ARM_FAMRT:
		return famrt_heap_malloc(e->heap, n);
	case ARM_FAMRT_NC:
		return famrt_heap_malloc(e->heap_nc, n);
	case ARM_JEMALLOC:
		return mallocx(n, 0);
	default:
		return e->g_malloc(n);
	}
}

static inline void arm_free(struct env *e, enum arm_kind a, void *p)
{
	switch (a) {
	case ARM_FAMRT:
		famrt_heap_free(e->heap, p);
		break;
	case ARM_FAMRT_NC:
		famrt_heap_free(e->heap_nc, p);
		break;
	case ARM_JEMALLOC:
		dallocx(p, 0);
		break;
	default:
		e->g_free(p);
	}
}

static int alloc_loop(struct worker *w, uint64_t n)
{
	void *ring[LIVE] = { 0 };

	for (uint64_t i = 0; i < n; i++) {
		void *p = arm_alloc(w->e, w->arm, w->size);
		unsigned slot = (unsigned)(i % LIVE);

		if (!p)
			return -1;
		*(volatile char *)p = (char)i;
		if (ring[slot])
			arm_free(w->e, w->arm, ring[slot]);
		ring[slot] = p;
	}
	for (unsigned s = 0; s < LIVE; s++)
		if (ring[s])
			arm_free(w->e, w->arm, ring[s]);
	return 0;
}

static void pin_to(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pin_to(w->cpu);
	/* Warm up: per-thread caches, the heap's record for this thread. */
	if (alloc_loop(w, 2 * LIVE + w->n / 16))
		w->failed = 1;
	pthread_barrier_wait(w->bar);
	if (alloc_loop(w, w->n))
		w->failed = 1;
	pthread_barrier_wait(w->bar);
	return NULL;
}

/* One timed run: nthreads threads, n pairs each; wall ns, or -1. */
static double alloc_run(struct env *e, enum arm_kind arm, size_t size,
			unsigned nthreads, uint64_t n)
{
	struct worker w[MAXTHREADS];
	pthread_t th[MAXTHREADS];
	pthread_barrier_t bar;
	uint64_t t0, t1;
	int failed = 0;

	pthread_barrier_init(&bar, NULL, nthreads + 1);
	for (unsigned i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .e = e, .arm = arm, .size = size,
					.n = n, .bar = &bar,
					.cpu = nthreads == 1 ? e->o.cpu :
					       i < (unsigned)e->ncpus ?
								e->cpus[i] :
								-1 };
		if (pthread_create(&th[i], NULL, worker_main, &w[i])) {
			fprintf(stderr, "bench_heap: pthread_create failed\n");
			exit(1);
		}
	}
	pthread_barrier_wait(&bar);
	t0 = bench_now_ns();
	pthread_barrier_wait(&bar);
	t1 = bench_now_ns();
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		failed |= w[i].failed;
	}
	pthread_barrier_destroy(&bar);
	if (failed) {
		fprintf(stderr, "bench_heap: %s: an allocation of %zu bytes "
				"failed\n",
			arm_name[arm], size);
		return -1;
	}
	return (double)(t1 - t0);
}

static int alloc_case(struct env *e, size_t size, unsigned nthreads)
{
	double v[NARMS][MAXREPEAT];
	struct bench_stats st[NARMS];
	uint64_t n = 20000;
	double t;
	char name[NARMS][64];
	struct bench_param params[NARMS][6];
	struct bench_result res[NARMS];
	int rc = 0;

	if (nthreads > 1 && e->ncpus < 2)
		fprintf(stderr, "bench_heap: only one CPU allowed: the "
				"2-thread cases share it\n");
	/* Size the runs so that the slowest arm takes about target_ns. */
	{
		double tmax = 0;

		for (int a = 0; a < NARMS; a++) {
			t = alloc_run(e, (enum arm_kind)a, size, nthreads, n);
			if (t < 0)
				return -1;
			tmax = t > tmax ? t : tmax;
		}
		if (tmax > 0)
			n = (uint64_t)((double)n * e->target_ns / tmax);
		if (n < 1000)
			n = 1000;
	}
	for (unsigned r = 0; r < e->o.repeat; r++) {
		for (int k = 0; k < NARMS; k++) {
			int a = (int)((k + r) % NARMS);

			t = alloc_run(e, (enum arm_kind)a, size, nthreads, n);
			if (t < 0)
				return -1;
			v[a][r] = t / (double)(n * nthreads);
		}
	}
	for (int a = 0; a < NARMS; a++) {
		bench_stats(v[a], e->o.repeat, &st[a]);
		snprintf(name[a], sizeof(name[a]), "alloc/%zu/t%u/%s", size,
			 nthreads, arm_name[a]);
		params[a][0] = (struct bench_param)BENCH_INT("size", size);
		params[a][1] = (struct bench_param)BENCH_INT("threads", nthreads);
		params[a][2] = (struct bench_param)BENCH_INT("live_per_thread",
							     LIVE);
		params[a][3] = (struct bench_param)BENCH_STR("allocator",
							     arm_name[a]);
		params[a][4] = (struct bench_param)BENCH_STR(
			"op", "malloc+free pair, all threads (throughput)");
		params[a][5] = (struct bench_param)BENCH_STR(
			"cpus", nthreads == 1 ? "pinned" :
			e->ncpus >= 2 ? "two, pinned" : "one, shared");
		res[a] = (struct bench_result){ .name = name[a],
						.params = params[a],
						.nparams = 6,
						.iterations = n * nthreads,
						.ns = st[a] };
	}
	rc |= bench_report_add(e->rep, &res[ARM_FAMRT], &res[ARM_JEMALLOC]);
	rc |= bench_report_add(e->rep, &res[ARM_FAMRT_NC], &res[ARM_FAMRT]);
	rc |= bench_report_add(e->rep, &res[ARM_JEMALLOC], &res[ARM_GLIBC]);
	rc |= bench_report_add(e->rep, &res[ARM_GLIBC], NULL);
	return rc;
}

/* ---- memory-bound loops ---- */

struct membuf {
	uint8_t *p;
	size_t n;
};

static uint64_t stream_sum(const struct membuf *b)
{
	const uint64_t *w = (const uint64_t *)(const void *)b->p;
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t n = b->n / 8;

	for (size_t i = 0; i + 4 <= n; i += 4) {
		s0 += w[i];
		s1 += w[i + 1];
		s2 += w[i + 2];
		s3 += w[i + 3];
	}
	return s0 + s1 + s2 + s3;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* One pointer per line, a single random cycle (Sattolo), same for all. */
static void chase_build(struct membuf *b, const uint32_t *perm, size_t lines)
{
	for (size_t i = 0; i < lines; i++)
		memcpy(b->p + (size_t)perm[i] * 64,
		       &(uint64_t){ (uint64_t)perm[(i + 1) % lines] * 64 }, 8);
}

static uint64_t chase(const struct membuf *b, uint64_t steps)
{
	uint64_t off = 0;

	for (uint64_t i = 0; i < steps; i++)
		off = *(const volatile uint64_t *)(const void *)(b->p + off);
	return off;
}

struct mem_arg {
	struct membuf *buf;
	bool is_chase;
	uint64_t last;
};

static uint64_t mem_body(void *arg, uint64_t n)
{
	struct mem_arg *m = arg;

	if (m->is_chase) {
		m->last = chase(m->buf, n);
		bench_consume(m->last);
		return n;
	}
	for (uint64_t i = 0; i < n; i++) {
		m->last = stream_sum(m->buf);
		bench_consume(m->last);
	}
	return n;
}

static void fill_chase(struct membuf *h, struct membuf *g, size_t lines)
{
	uint32_t *perm = malloc(lines * sizeof(*perm));
	uint64_t r = 42;

	if (!perm) {
		fprintf(stderr, "bench_heap: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < lines; i++)
		perm[i] = (uint32_t)i;
	for (size_t i = lines - 1; i > 0; i--) {
		size_t j;
		uint32_t x;

		r = mix64(r);
		j = (size_t)(r % i);
		x = perm[i];
		perm[i] = perm[j];
		perm[j] = x;
	}
	memset(h->p, 0, h->n);
	memset(g->p, 0, g->n);
	chase_build(h, perm, lines);
	chase_build(g, perm, lines);
	free(perm);
}

/* Time the heap arm and glibc's, alternating which goes first. */
static void mem_time(struct env *e, struct mem_arg *ha, struct mem_arg *ga,
		     uint64_t n, struct bench_stats *hs, struct bench_stats *gs,
		     uint64_t *ops)
{
	double hv[MAXREPEAT], gv[MAXREPEAT];
	struct bench_opts one = e->o;
	struct bench_stats s;

	one.repeat = 1;
	for (unsigned r = 0; r < e->o.repeat; r++) {
		for (int k = 0; k < 2; k++) {
			bool heap_arm = (k + (int)r) % 2 == 0;

			bench_measure(&one, mem_body, heap_arm ? ha : ga, n,
				      &s, ops);
			(heap_arm ? hv : gv)[r] = s.median;
		}
	}
	bench_stats(hv, e->o.repeat, hs);
	bench_stats(gv, e->o.repeat, gs);
}

static int mem_case(struct env *e, const char *what, size_t bytes)
{
	bool is_chase = !strcmp(what, "chase");
	struct membuf hb, gb;
	struct mem_arg ha = { .buf = &hb, .is_chase = is_chase };
	struct mem_arg ga = { .buf = &gb, .is_chase = is_chase };
	struct bench_stats hs, gs;
	uint64_t ops, n;
	void *graw;
	char hname[64], gname[64];
	struct bench_param hp[5], gp[5];
	struct bench_result hr, gr;
	int rc = 0;

	hb.p = famrt_heap_aligned_alloc(e->heap_mem, 4096, bytes);
	graw = e->g_malloc(bytes + 4096);
	if (!hb.p || !graw) {
		fprintf(stderr, "bench_heap: no %zu bytes for %s\n", bytes,
			what);
		return -1;
	}
	/* glibc's block aligned like the heap's. */
	gb.p = (uint8_t *)(((uintptr_t)graw + 4095) & ~(uintptr_t)4095);
	hb.n = gb.n = bytes;
	if (is_chase) {
		fill_chase(&hb, &gb, bytes / 64);
		n = e->o.quick ? 100000 : 2000000;
	} else {
		for (size_t i = 0; i < bytes; i += 8) {
			uint64_t w = mix64(i);

			memcpy(hb.p + i, &w, 8);
			memcpy(gb.p + i, &w, 8);
		}
		n = bytes < 64 * MiB ? 4 : 1;
	}
	mem_time(e, &ha, &ga, n, &hs, &gs, &ops);
	if (ha.last != ga.last) {
		fprintf(stderr,
			"bench_heap: %s over %zu bytes: the heap arm got %llu, "
			"glibc's %llu\n",
			what, bytes, (unsigned long long)ha.last,
			(unsigned long long)ga.last);
		rc = -1;
	}
	snprintf(hname, sizeof(hname), "%s/%zuMiB/famrt-heap", what,
		 bytes / MiB);
	snprintf(gname, sizeof(gname), "%s/%zuMiB/glibc", what, bytes / MiB);
	hp[0] = (struct bench_param)BENCH_INT("bytes", bytes);
	hp[1] = (struct bench_param)BENCH_INT("llc_bytes", e->llc);
	hp[2] = (struct bench_param)BENCH_STR(
		"op", is_chase ? "one dependent 8-byte load (a step)" :
				 "one pass summing every 64-bit word");
	hp[3] = (struct bench_param)BENCH_STR(
		"memory", "famrt heap block: tmpfs file pages (emulated "
			  "device)");
	hp[4] = (struct bench_param)BENCH_STR(
		"where", bytes > e->llc ? "beyond the LLC" : "in cache");
	memcpy(gp, hp, sizeof(hp));
	gp[3] = (struct bench_param)BENCH_STR("memory",
					      "glibc malloc block: anonymous");
	hr = (struct bench_result){ .name = hname, .params = hp, .nparams = 5,
				    .iterations = ops, .ns = hs,
				    .bytes_per_op = is_chase ? 8 :
							       (double)bytes };
	gr = (struct bench_result){ .name = gname, .params = gp, .nparams = 5,
				    .iterations = ops, .ns = gs,
				    .bytes_per_op = hr.bytes_per_op };
	rc |= bench_report_add(e->rep, &hr, &gr);
	rc |= bench_report_add(e->rep, &gr, NULL);
	famrt_heap_free(e->heap_mem, hb.p);
	e->g_free(graw);
	return rc;
}

/* ---- setup ---- */

static int start(struct env *e)
{
	struct famrt_connect_opts co = { .size = sizeof(co) };
	uint64_t dev = e->o.quick ? 192 * MiB : 640 * MiB;
	uint64_t hsz = e->o.quick ? 96 * MiB : 256 * MiB;
	uint64_t msz = e->o.quick ? 64 * MiB : 448 * MiB;
	void *libc;
	int rc;

	libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	if (!libc)
		libc = dlopen("libc.so.6", RTLD_NOW);
	if (libc) {
		e->g_malloc = (void *(*)(size_t))dlsym(libc, "malloc");
		e->g_free = (void (*)(void *))dlsym(libc, "free");
	}
	if (!e->g_malloc || !e->g_free) {
		fprintf(stderr, "bench_heap: glibc's malloc not found\n");
		return -1;
	}
	rc = h_fs_make_on(&e->fs, e->o.devices, 2, dev, "bench-host");
	if (rc)
		return rc;
	rc = h_famrtd_start(&e->d, &e->fs, "svc", "bench-host", NULL);
	if (rc)
		return rc;
	co.socket = e->d.socket;
	rc = famrt_connect(&e->c, &co);
	if (!rc)
		rc = famrt_heap_create(e->c, "/bench-heap", hsz, NULL, 0,
				       &e->heap);
	if (!rc)
		rc = famrt_heap_create(e->c, "/bench-heap-nc", hsz, NULL,
				       FAMRT_HEAP_NO_TCACHE, &e->heap_nc);
	if (!rc)
		rc = famrt_heap_create(e->c, "/bench-mem", msz, NULL, 0,
				       &e->heap_mem);
	if (rc)
		fprintf(stderr, "bench_heap: %s\n", famrt_errmsg());
	return rc;
}

static void stop(struct env *e)
{
	famrt_heap_destroy(e->heap);
	famrt_heap_destroy(e->heap_nc);
	famrt_heap_destroy(e->heap_mem);
	if (e->c)
		famrt_disconnect(e->c);
	if (e->d.pid > 0)
		h_famrtd_kill(&e->d);
	if (e->fs.ndevs)
		h_fs_remove(&e->fs);
}

int main(int argc, char **argv)
{
	static struct env env;
	struct env *e = &env;
	const size_t sizes[] = { 64, 4096, 256 * KiB };
	int rc;

	rc = bench_parse_args(argc, argv,
			      "famrt heaps against glibc malloc and jemalloc: "
			      "allocation rate, memory-bound loops",
			      &e->o);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (e->o.repeat > MAXREPEAT)
		e->o.repeat = MAXREPEAT;
	if (!getenv("FAMRT_BIN_DIR"))
		setenv("FAMRT_BIN_DIR", FAMRT_BENCH_BIN_DIR, 1);
	sched_getaffinity(0, sizeof(e->all_cpus), &e->all_cpus);
	for (int c = CPU_SETSIZE - 1; c >= 0 && e->ncpus < MAXTHREADS; c--)
		if (CPU_ISSET(c, &e->all_cpus))
			e->cpus[e->ncpus++] = c;
	bench_pin(&e->o);
	e->llc = llc_size();
	e->target_ns = e->o.quick ? 2e6 : 40e6;
	cleanup_env = e;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = start(e);
	if (rc) {
		stop(e);
		return 1;
	}
	e->rep = bench_report_open(&e->o, "bench_heap");
	if (!e->rep) {
		stop(e);
		return 1;
	}
	for (unsigned t = 1; t <= MAXTHREADS && !rc; t++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && !rc;
		     i++) {
			char name[64];

			snprintf(name, sizeof(name), "alloc/%zu/t%u/", sizes[i],
				 t);
			if (bench_selected(&e->o, name))
				rc = alloc_case(e, sizes[i], t);
		}
	if (!rc && bench_selected(&e->o, "stream"))
		rc = mem_case(e, "stream", e->o.quick ? 16 * MiB : 256 * MiB);
	if (!rc && bench_selected(&e->o, "chase")) {
		rc = mem_case(e, "chase", 1 * MiB);
		if (!rc)
			rc = mem_case(e, "chase",
				      e->o.quick ? 24 * MiB : 128 * MiB);
	}
	if (bench_report_close(e->rep) && !rc)
		rc = -1;
	stop(e);
	return rc ? 1 : 0;
}

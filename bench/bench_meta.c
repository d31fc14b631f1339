/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_meta: what metadata on the media costs (docs/performance.md,
 * "Metadata on the media"). Every file system lives on emulated devices,
 * sparse files in /dev/shm removed at exit, with a 4 KiB allocation unit
 * and a 64 MiB log (the largest default), so that file data is never
 * touched: only the superblock and the log are written.
 *
 *   create/one-dir      ns per durable famrt_fs_create of a simple 4 KiB
 *                       file, all in one directory (each create is flushed
 *                       to the device before it returns); baseline: famfs's
 *                       published 90 to 120 ms a file (not measured here)
 *   create/100-dirs     the same, spread round-robin over 100 directories
 *   mkdir               ns per famrt_fs_mkdir
 *   mount/N             ns per famrt_fs_open (full replay) of a log of N
 *                       entries (1 mkdir per 100 creates), N = 10k, 50k,
 *                       100k; mount-entry/N is the same per log entry
 *   follow/one-entry    ns for a second struct famrt_fs (same process) to
 *                       pick up one entry just appended by the first
 *   follow/none         ns per famrt_fs_follow with nothing new (polling)
 *   visible/tight       cross-process visibility: a child process polls
 *                       with famrt_fs_follow in a tight loop until the file
 *                       the parent created shows up in a lookup; ns_per_op
 *                       is the median of (seen - create returned), runs
 *                       min/max and params p99 over all samples; negative
 *                       when the follower saw the entry before the
 *                       writer's create returned (the entry is valid once
 *                       its commit word is stored; the writer then still
 *                       records the tail and applies the entry itself)
 *   visible/sleep-100us the same, polling every 100 us
 *
 * Each create/mkdir/follow case runs o->repeat timed runs (after one
 * untimed warm-up run) and reports the median ns per operation; mount
 * times o->repeat opens of each log. Targets (at least 10,000 creates a
 * second, mount of 100,000 entries under 200 ms, visibility under 10 ms)
 * are reported, never enforced; params.target_* says which case has one
 * (null: none).
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "dax/dax.h"
#include "meta/fs.h"

#define KiB (1024ull)
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)

#define UNIT (4 * KiB)
#define LOG_SIZE (64 * MiB)
#define DEV_SIZE (4 * GiB) /* sparse: only the log is ever touched */
#define HOST "bench-meta-host"
#define MAX_RUNS 1000

#define FAMFS_PUBLISHED_NS 90e6 /* famfs: 90 to 120 ms a file, published */

/* ---- emulated devices, removed at exit ---- */

#define MAX_FILES 16
static char made[MAX_FILES][PATH_MAX];
static volatile sig_atomic_t nmade;
static pid_t owner;

static void remove_files(void)
{
	if (getpid() != owner)
		return;
	for (int i = 0; i < nmade; i++)
		unlink(made[i]);
}

static void on_signal(int sig)
{
	remove_files();
	signal(sig, SIG_DFL);
	raise(sig);
}

struct mfs {
	char path[PATH_MAX];
	const char *paths[1];
	struct famrt_fs *fs;
};

static void die_err(const char *what, const struct famrt_err *e)
{
	fprintf(stderr, "bench_meta: %s: %s\n", what, e->msg);
	exit(1);
}

/* A fresh file system on one new emulated device, opened as master. */
static void mfs_make(struct mfs *m, const char *tag)
{
	static const struct famrt_fs_opts fo = { .host_id = HOST };
	struct famrt_mkfs_opts mo = {
		.name = tag, .alloc_unit = UNIT, .log_size = LOG_SIZE,
		.master = HOST,
	};
	struct famrt_err e;

	if (nmade == MAX_FILES) {
		fprintf(stderr, "bench_meta: too many devices\n");
		exit(1);
	}
	snprintf(m->path, sizeof(m->path), "/dev/shm/famrt-bench-meta-%d-%s",
		 (int)getpid(), tag);
	snprintf(made[nmade], sizeof(made[0]), "%s", m->path);
	nmade++;
	m->paths[0] = m->path;
	if (famrt_dev_create_file(m->path, DEV_SIZE, 0600, &e))
		die_err("creating a device", &e);
	if (famrt_mkfs(m->paths, 1, &mo, NULL, &e))
		die_err("mkfs", &e);
	if (famrt_fs_open(&m->fs, m->paths, 1, &fo, &e))
		die_err("open", &e);
}

/* Another handle on the same file system, read-only (a follower). */
static struct famrt_fs *mfs_follower(const struct mfs *m)
{
	static const struct famrt_fs_opts fo = { .host_id = "bench-follower",
						 .readonly = true };
	struct famrt_fs *fs;
	struct famrt_err e;

	if (famrt_fs_open(&fs, m->paths, 1, &fo, &e))
		die_err("open (follower)", &e);
	return fs;
}

static void mfs_drop(struct mfs *m)
{
	famrt_fs_close(m->fs);
	m->fs = NULL;
	unlink(m->path);
}

static void do_mkdir(struct famrt_fs *fs, const char *path)
{
	struct famrt_err e;

	if (famrt_fs_mkdir(fs, path, 0755, 0, 0, NULL, &e))
		die_err(path, &e);
}

static void do_create(struct famrt_fs *fs, const char *path)
{
	struct famrt_err e;

	if (famrt_fs_create(fs, path, 0644, 0, 0, UNIT, NULL, NULL, &e))
		die_err(path, &e);
}

static void report(struct bench_report *rep, const char *name,
		   const struct bench_param *p, unsigned np, uint64_t iters,
		   const struct bench_stats *ns,
		   const struct bench_result *base)
{
	struct bench_result r = {
		.name = name, .params = p, .nparams = np, .iterations = iters,
		.ns = *ns,
	};

	if (bench_report_add(rep, &r, base)) {
		fprintf(stderr, "bench_meta: writing the report failed\n");
		exit(1);
	}
}

__attribute__((format(printf, 4, 5))) static void
target(const char *what, const char *want, bool met, const char *fmt, ...)
{
	char got[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);
	fprintf(stderr, "bench_meta: target %s %s: %s, %s\n", what, want, got,
		met ? "met" : "MISSED");
}

/* ---- creates and mkdirs ---- */

enum mkind { CREATE_ONE_DIR, CREATE_100_DIRS, MKDIR };

/* One timed run: n operations in the fresh directory /r<run>. */
static double meta_run(struct famrt_fs *fs, enum mkind k, unsigned run,
		       uint64_t n)
{
	char path[128];
	uint64_t t;

	snprintf(path, sizeof(path), "/r%u", run);
	do_mkdir(fs, path);
	if (k == CREATE_100_DIRS)
		for (unsigned d = 0; d < 100; d++) {
			snprintf(path, sizeof(path), "/r%u/d%02u", run, d);
			do_mkdir(fs, path);
		}
	t = bench_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		if (k == CREATE_100_DIRS)
			snprintf(path, sizeof(path), "/r%u/d%02u/f%llu", run,
				 (unsigned)(i % 100), (unsigned long long)i);
		else
			snprintf(path, sizeof(path), "/r%u/f%llu", run,
				 (unsigned long long)i);
		if (k == MKDIR)
			do_mkdir(fs, path);
		else
			do_create(fs, path);
	}
	t = bench_now_ns() - t;
	return (double)t / (double)n;
}

static double bench_meta_ops(const struct bench_opts *o,
			     struct bench_report *rep, enum mkind k)
{
	static const char *const names[] = { "create/one-dir",
					     "create/100-dirs", "mkdir" };
	static const struct bench_result famfs = {
		.name = "famfs, published 90-120 ms a file (not measured)",
		.ns = { .median = FAMFS_PUBLISHED_NS, .min = FAMFS_PUBLISHED_NS,
			.max = 120e6, .n = 1 },
	};
	uint64_t n = o->quick ? 500 : 10000;
	double v[MAX_RUNS];
	struct bench_stats st;
	struct mfs m;
	char tag[32];

	if (!bench_selected(o, names[k]))
		return 0;
	snprintf(tag, sizeof(tag), "ops%d", (int)k);
	mfs_make(&m, tag);
	meta_run(m.fs, k, 0, n); /* warm-up */
	for (unsigned r = 0; r < o->repeat; r++)
		v[r] = meta_run(m.fs, k, r + 1, n);
	bench_stats(v, o->repeat, &st);
	{
		const struct bench_param p[] = {
			BENCH_INT("ops_per_run", n),
			BENCH_INT("file_size", k == MKDIR ? 0 : UNIT),
			BENCH_INT("dirs", k == CREATE_100_DIRS ? 100 : 1),
			BENCH_INT("alloc_unit", UNIT),
			BENCH_NUM("per_sec", 1e9 / st.median),
			BENCH_NUM("target_per_sec", k == MKDIR ? NAN : 10000),
			BENCH_STR("durable", "flushed before return"),
		};
		report(rep, names[k], p, sizeof(p) / sizeof(p[0]), n, &st,
		       k == MKDIR ? NULL : &famfs);
	}
	mfs_drop(&m);
	return st.median;
}

/* ---- mount ---- */

/* Grow the log of fs to `entries` entries: 1 mkdir per 100 creates. */
static void grow_log(struct famrt_fs *fs, uint64_t *have, uint64_t entries)
{
	char path[64];

	while (*have < entries) {
		uint64_t i = *have;

		if (i % 101 == 0) {
			snprintf(path, sizeof(path), "/d%llu",
				 (unsigned long long)(i / 101));
			do_mkdir(fs, path);
		} else {
			snprintf(path, sizeof(path), "/d%llu/f%llu",
				 (unsigned long long)(i / 101),
				 (unsigned long long)i);
			do_create(fs, path);
		}
		(*have)++;
	}
}

static double bench_mount(const struct bench_opts *o, struct bench_report *rep)
{
	static const uint64_t full[] = { 10000, 50000, 100000 };
	static const uint64_t quick[] = { 1000, 2000, 5000 };
	const uint64_t *sizes = o->quick ? quick : full;
	static const struct famrt_fs_opts fo = { .host_id = "bench-mounter",
						 .readonly = true };
	double v[MAX_RUNS], per[MAX_RUNS], at100k = 0;
	uint64_t have = 0;
	struct mfs m;

	if (!bench_selected(o, "mount"))
		return 0;
	mfs_make(&m, "mount");
	for (unsigned s = 0; s < 3; s++) {
		struct bench_stats st, pst;
		char name[2][48];
		struct famrt_err e;
		uint64_t log_used;

		grow_log(m.fs, &have, sizes[s]);
		log_used = m.fs->pos;
		for (unsigned r = 0; r <= o->repeat; r++) {
			struct famrt_fs *fs;
			uint64_t t = bench_now_ns();

			if (famrt_fs_open(&fs, m.paths, 1, &fo, &e))
				die_err("mount", &e);
			t = bench_now_ns() - t;
			if (fs->nentries != sizes[s]) {
				fprintf(stderr,
					"bench_meta: mount replayed %llu "
					"entries, not %llu\n",
					(unsigned long long)fs->nentries,
					(unsigned long long)sizes[s]);
				exit(1);
			}
			famrt_fs_close(fs);
			if (r == 0)
				continue; /* warm-up */
			v[r - 1] = (double)t;
			per[r - 1] = (double)t / (double)sizes[s];
		}
		bench_stats(v, o->repeat, &st);
		bench_stats(per, o->repeat, &pst);
		snprintf(name[0], sizeof(name[0]), "mount/%llu",
			 (unsigned long long)sizes[s]);
		snprintf(name[1], sizeof(name[1]), "mount-entry/%llu",
			 (unsigned long long)sizes[s]);
		{
			const struct bench_param p[] = {
				BENCH_INT("entries", sizes[s]),
				BENCH_INT("log_bytes", log_used),
				BENCH_NUM("ns_per_entry", pst.median),
				BENCH_NUM("target_ns", sizes[s] == 100000 ?
							       200e6 : NAN),
			};
			report(rep, name[0], p, sizeof(p) / sizeof(p[0]), 1,
			       &st, NULL);
			report(rep, name[1], p, sizeof(p) / sizeof(p[0]),
			       sizes[s], &pst, NULL);
		}
		if (sizes[s] == 100000)
			at100k = st.median;
	}
	mfs_drop(&m);
	return at100k;
}

/* ---- follow, same process ---- */

static void bench_follow(const struct bench_opts *o, struct bench_report *rep)
{
	uint64_t n = o->quick ? 200 : 5000, polls = o->quick ? 2000 : 200000;
	double v[MAX_RUNS];
	struct bench_stats st;
	struct famrt_fs *b;
	struct famrt_err e;
	struct mfs m;
	char path[64];

	if (!bench_selected(o, "follow"))
		return;
	mfs_make(&m, "follow");
	do_mkdir(m.fs, "/f");
	b = mfs_follower(&m);
	for (unsigned r = 0; r <= o->repeat; r++) {
		uint64_t sum = 0;

		for (uint64_t i = 0; i < n; i++) {
			uint64_t applied = 0, t;

			snprintf(path, sizeof(path), "/f/r%uf%llu", r,
				 (unsigned long long)i);
			do_create(m.fs, path);
			t = bench_now_ns();
			if (famrt_fs_follow(b, &applied, &e))
				die_err("follow", &e);
			sum += bench_now_ns() - t;
			if (applied != 1) {
				fprintf(stderr, "bench_meta: follow applied "
						"%llu entries, not 1\n",
					(unsigned long long)applied);
				exit(1);
			}
		}
		if (r)
			v[r - 1] = (double)sum / (double)n;
	}
	bench_stats(v, o->repeat, &st);
	{
		const struct bench_param p[] = {
			BENCH_INT("follows_per_run", n),
			BENCH_STR("entry", "create, simple 4 KiB file"),
		};
		if (bench_selected(o, "follow/one-entry"))
			report(rep, "follow/one-entry", p, 2, n, &st, NULL);
	}
	for (unsigned r = 0; r <= o->repeat; r++) {
		uint64_t t = bench_now_ns(), applied = 0;

		for (uint64_t i = 0; i < polls; i++) {
			if (famrt_fs_follow(b, &applied, &e))
				die_err("follow", &e);
			bench_consume(applied);
		}
		t = bench_now_ns() - t;
		if (r)
			v[r - 1] = (double)t / (double)polls;
	}
	bench_stats(v, o->repeat, &st);
	{
		const struct bench_param p[] = {
			BENCH_INT("polls_per_run", polls),
			BENCH_INT("log_entries", b->nentries),
		};
		if (bench_selected(o, "follow/none"))
			report(rep, "follow/none", p, 2, polls, &st, NULL);
	}
	famrt_fs_close(b);
	mfs_drop(&m);
}

/* ---- cross-process visibility ---- */

struct vis_shared {
	volatile int ready;   /* child: opened and caught up */
	volatile int failed;  /* child: something went wrong */
	volatile uint64_t seen_count; /* child: files seen so far */
	char why[sizeof(((struct famrt_err *)0)->msg)]; /* child's error */
	uint64_t t_start[MAX_RUNS];   /* parent: create called */
	uint64_t t_ret[MAX_RUNS];     /* parent: create returned */
	uint64_t t_seen[MAX_RUNS];    /* child: file found by lookup */
};

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void pin_other(int parent_cpu)
{
	cpu_set_t set;

	if (parent_cpu < 0 || sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (c != parent_cpu && CPU_ISSET(c, &set)) {
			CPU_ZERO(&set);
			CPU_SET(c, &set);
			sched_setaffinity(0, sizeof(set), &set);
			return;
		}
	}
}

static void vis_child(const struct mfs *m, struct vis_shared *sh,
		      unsigned nsamples, uint64_t poll_sleep_ns, int pcpu)
{
	struct famrt_fs *fs;
	struct famrt_err e;
	char path[64];
	int rc;

	pin_other(pcpu);
	fs = NULL;
	{
		static const struct famrt_fs_opts fo = {
			.host_id = "bench-other-process", .readonly = true };

		if (famrt_fs_open(&fs, m->paths, 1, &fo, &e)) {
			memcpy(sh->why, e.msg, sizeof(sh->why));
			sh->failed = 1;
			_exit(1);
		}
	}
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < nsamples; i++) {
		snprintf(path, sizeof(path), "/vis/f%u", i);
		for (;;) {
			uint64_t applied = 0;

			if (famrt_fs_follow(fs, &applied, &e)) {
				memcpy(sh->why, e.msg, sizeof(sh->why));
				sh->failed = 1;
				_exit(1);
			}
			if (applied && famrt_fs_lookup(fs, path, &rc, NULL))
				break;
			if (poll_sleep_ns)
				sleep_ns(poll_sleep_ns);
		}
		sh->t_seen[i] = bench_now_ns();
		__atomic_store_n(&sh->seen_count, i + 1, __ATOMIC_RELEASE);
	}
	famrt_fs_close(fs);
	_exit(0);
}

static double pct(const double *sorted, unsigned n, double p)
{
	unsigned i = (unsigned)(p * (n - 1) + 0.5);

	return sorted[i < n ? i : n - 1];
}

static double bench_visible(const struct bench_opts *o,
			    struct bench_report *rep, bool tight)
{
	const char *name = tight ? "visible/tight" : "visible/sleep-100us";
	unsigned n = o->quick ? 20 : 500, got = 0;
	uint64_t seed = 0x243f6a8885a308d3ull, missed = 0;
	double lat[MAX_RUNS], from_start[MAX_RUNS], p99, p99s;
	struct bench_stats st, sst;
	struct vis_shared *sh;
	struct mfs m;
	pid_t pid;
	int status;

	if (!bench_selected(o, name))
		return 0;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("bench_meta: mmap");
		exit(1);
	}
	memset(sh, 0, sizeof(*sh));
	mfs_make(&m, tight ? "vis-tight" : "vis-sleep");
	do_mkdir(m.fs, "/vis");
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("bench_meta: fork");
		exit(1);
	}
	if (pid == 0)
		vis_child(&m, sh, n, tight ? 0 : 100000, o->cpu);
	while (!__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE) && !sh->failed)
		sleep_ns(100000);
	for (unsigned i = 0; i < n && !sh->failed; i++) {
		char path[64];
		uint64_t deadline;

		/* A random gap, so creates fall at random poll phases. */
		sleep_ns(200000 + bench_rand(&seed) % 800000);
		snprintf(path, sizeof(path), "/vis/f%u", i);
		sh->t_start[i] = bench_now_ns();
		do_create(m.fs, path);
		sh->t_ret[i] = bench_now_ns();
		deadline = sh->t_ret[i] + 2000000000u;
		while (__atomic_load_n(&sh->seen_count, __ATOMIC_ACQUIRE) <=
			       i &&
		       !sh->failed && bench_now_ns() < deadline)
			sleep_ns(20000);
		if (__atomic_load_n(&sh->seen_count, __ATOMIC_ACQUIRE) <= i) {
			missed++;
			break;
		}
	}
	if (sh->failed)
		fprintf(stderr, "bench_meta: %s: the follower failed: %s\n",
			name, sh->why);
	if (missed || sh->failed)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	for (unsigned i = 0; i < n; i++) {
		if (__atomic_load_n(&sh->seen_count, __ATOMIC_ACQUIRE) <= i)
			break;
		lat[got] = (double)(int64_t)(sh->t_seen[i] - sh->t_ret[i]);
		from_start[got] =
			(double)(int64_t)(sh->t_seen[i] - sh->t_start[i]);
		got++;
	}
	if (!got) {
		fprintf(stderr, "bench_meta: %s: the follower saw nothing%s\n",
			name, sh->failed ? " (it failed)" : "");
		exit(1);
	}
	bench_stats(lat, got, &st);
	bench_stats(from_start, got, &sst);
	p99 = pct(lat, got, 0.99);
	p99s = pct(from_start, got, 0.99);
	{
		const struct bench_param p[] = {
			BENCH_INT("samples", got),
			BENCH_INT("not_seen_in_2s", missed),
			BENCH_INT("poll_sleep_ns", tight ? 0 : 100000),
			BENCH_NUM("p50_ns", st.median),
			BENCH_NUM("p99_ns", p99),
			BENCH_NUM("from_create_start_p50_ns", sst.median),
			BENCH_NUM("from_create_start_p99_ns", p99s),
			BENCH_NUM("target_ns", 10e6),
			BENCH_STR("follower", "another process, lookup after "
					      "famrt_fs_follow"),
		};
		report(rep, name, p, sizeof(p) / sizeof(p[0]), got, &st, NULL);
	}
	fprintf(stderr,
		"bench_meta: %s: seen - create returned: median %.1f us, p99 "
		"%.1f us; seen - create called: median %.1f us, p99 %.1f us "
		"(%u samples)\n",
		name, st.median / 1e3, p99 / 1e3, sst.median / 1e3, p99s / 1e3,
		got);
	mfs_drop(&m);
	munmap(sh, sizeof(*sh));
	return missed ? 1e18 : p99;
}

int main(int argc, char **argv)
{
	double one = 0, spread = 0, mount = 0, vt = 0, vs = 0;
	struct bench_report *rep;
	struct bench_opts o;
	int rc;

	rc = bench_parse_args(argc, argv,
			      "metadata on the media: durable creates and "
			      "mkdirs a second, mount (log replay), follow, "
			      "cross-process visibility",
			      &o);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (bench_no_devices(&o, "bench_meta"))
		return 2;
	owner = getpid();
	atexit(remove_files);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	bench_pin(&o);
	rep = bench_report_open(&o, "bench_meta");
	if (!rep)
		return 1;
	one = bench_meta_ops(&o, rep, CREATE_ONE_DIR);
	spread = bench_meta_ops(&o, rep, CREATE_100_DIRS);
	bench_meta_ops(&o, rep, MKDIR);
	mount = bench_mount(&o, rep);
	bench_follow(&o, rep);
	vt = bench_visible(&o, rep, true);
	vs = bench_visible(&o, rep, false);
	if (one > 0)
		target("create/one-dir", ">= 10000/s", 1e9 / one >= 10000,
		       "%.0f creates/s", 1e9 / one);
	if (spread > 0)
		target("create/100-dirs", ">= 10000/s",
		       1e9 / spread >= 10000, "%.0f creates/s", 1e9 / spread);
	if (mount > 0)
		target("mount/100000", "< 200 ms", mount < 200e6, "%.1f ms",
		       mount / 1e6);
	if (vt > 0)
		target("visible/tight p99", "< 10 ms", vt < 10e6, "%.3f ms",
		       vt / 1e6);
	if (vs > 0)
		target("visible/sleep-100us p99", "< 10 ms", vs < 10e6,
		       "%.3f ms", vs / 1e6);
	rc = bench_report_close(rep);
	if (rc) {
		fprintf(stderr, "bench_meta: writing the report: %s\n",
			strerror(-rc));
		return 1;
	}
	return 0;
}

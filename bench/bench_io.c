/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_io: the libfamrt data path against its two baselines, side by side
 * in one run, on emulated devices (files in /dev/shm, i.e. tmpfs) served by
 * a real famrtd (tests/common harness).
 *
 * Files are created through libfamrt: "simple" (one run on one device) and
 * "ilv" (interleaved over two devices, 2 MiB chunks), filled with a pattern
 * that is a function of the file offset. Every read case has three arms,
 * measured in turn (the order rotates each repeat) over the same offsets:
 *   famrt    famrt_pread(file offset)
 *   memcpy   memcpy from the device mapping libfamrt uses, at the device
 *            offsets the fmap gives (resolved before timing), addressed
 *            as mapping + offset like any caller would: the limit
 *   kernel   pread(2) of the device file itself at those device offsets
 *            (the device is a tmpfs file: the very same bytes)
 * Before a case is timed, its first operations are done once by each arm
 * and the three results compared with each other and with the pattern.
 *
 * Patterns: "hot" (random block-aligned offsets in a working set of
 * max(1 MiB, block), in cache), "rand" (random offsets over the whole file,
 * which is several times the last-level cache; before every timed run of
 * every arm the caches are emptied by reading a buffer of twice the LLC),
 * "seq" (consecutive blocks from offset 0, caches emptied the same way).
 * The sizes of L2, the LLC, the file and the working set are in each case's
 * params.
 *
 * Writes: famrt_pwrite + famrt_flush against memcpy + famrt_flush_range
 * (clwb) on the same device range, 1 MiB; and where non-temporal stores
 * pay: famrt_pwrite with FAMRT_NT_THRESHOLD=0 (never) against 1 (always),
 * with and without the flush, 4 KiB to 16 MiB.
 *
 * famrt_mmap of a file of many runs (interleaved, 64 KiB chunks): the build
 * cost per piece, then the first touch of every byte against memcpy of the
 * same bytes from the device mapping.
 *
 * Open: the first open of a path (a fresh connection each repeat: one round
 * trip) and repeated open+close of a cached path, against open(2)+close(2)
 * of a tmpfs file.
 *
 * Times are this thread's CPU time (user + system, so pread's system call
 * counts), medians of --repeat runs with min, max and spread; wall-clock
 * medians are in each case's params, with the load average (the machines
 * are shared: wall time there includes other processes' time slices).
 * Open is timed on the wall clock, since a round trip waits for famrtd.
 *
 * The end of the output is a table of each target of docs/performance.md
 * against what was measured; the report holds it too, as cases named
 * "target/N". Informational: the exit status never depends on a time.
 *
 * Environment: FAMRT_BENCH_IO_STREAM_MIB sets the size of the large file
 * (default: 8 x LLC rounded up to a power of two, 1 to 4 GiB, at most a
 * quarter of the available memory).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <famrt/famrt.h>

#include "client/internal.h"
#include "common.h"
#include "dax/dax.h"
#include "famrtd_harness.h"

#define KiB (1024ull)
#define MiB (1024ull * 1024)
#define GiB (1024ull * 1024 * 1024)

#define NHOT 4096u          /* offsets of a hot case, cycled */
#define NSTREAM (1u << 18)  /* most offsets of a streaming case */
#define MAXARMS 6

/* Tell the compiler that memory at p may be read: no copy is dropped. */
static inline void clobber(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/*
 * The clock of the data-path cases: this thread's CPU time (user and
 * kernel, so a pread's system call counts), which leaves out the time
 * other processes hold the CPU. The machines are shared and busy: wall
 * time there includes whole scheduler slices (4 ms) taken by others.
 * Wall time is kept too and reported in each case's params.
 */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the environment ---- */

struct machine {
	uint64_t l1d, l2, llc;
	uint64_t mem_avail;
	char placement[96];
	const char *flush_insn;
	bool evict; /* "rand" and "seq" empty the caches first */
};

struct env {
	struct bench_opts o;
	struct bench_report *rep;
	struct machine m;
	struct h_fs fs;
	struct h_famrtd d;
	bool fs_made, d_started;
	struct famrt *c;
	struct famrt_file *big, *ilv, *many;
	int devfd[H_MAX_DEVS];
	uint8_t *evict_buf;
	size_t evict_len;
	double target_ns; /* wanted length of one timed run */
	char open_dir[64];
	unsigned nopen;
	uint64_t many_chunk; /* chunk of the file of many pieces */
};

/* For the signal handler: what to remove if interrupted. */
static struct env *cleanup_env;

static void on_signal(int sig)
{
	struct env *e = cleanup_env;

	if (e) {
		if (e->d_started && e->d.pid > 0)
			kill(e->d.pid, SIGKILL);
		for (uint32_t i = 0; i < e->fs.ndevs; i++)
			unlink(e->fs.dev[i]);
		for (unsigned i = 0; e->open_dir[0] && i < e->nopen; i++) {
			char p[96];

			/* snprintf is not async-signal-safe: build by hand. */
			size_t n = strlen(e->open_dir);

			memcpy(p, e->open_dir, n);
			memcpy(p + n, "/f", 2);
			for (int d = 4; d >= 0; d--) {
				unsigned v = i;

				for (int k = 0; k < 4 - d; k++)
					v /= 10;
				p[n + 2 + d] = (char)('0' + v % 10);
			}
			p[n + 7] = '\0';
			unlink(p);
		}
		if (e->open_dir[0])
			rmdir(e->open_dir);
		if (e->d_started) {
			char lock[sizeof(e->d.socket) + 8];
			size_t n = strlen(e->d.socket);

			unlink(e->d.socket);
			unlink(e->d.log);
			memcpy(lock, e->d.socket, n);
			memcpy(lock + n, ".lock", 6);
			unlink(lock);
		}
		if (e->fs.dir[0])
			rmdir(e->fs.dir);
	}
	_exit(128 + sig);
}

static uint64_t cache_size(int name, const char *idx)
{
	long v = sysconf(name);
	char path[128];
	unsigned long n = 0;
	char unit = 0;
	FILE *f;

	if (v > 0)
		return (uint64_t)v;
	snprintf(path, sizeof(path),
		 "/sys/devices/system/cpu/cpu0/cache/%s/size", idx);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%lu%c", &n, &unit) < 1)
		n = 0;
	fclose(f);
	return unit == 'K' ? n * KiB : unit == 'M' ? n * MiB : n;
}

static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * KiB;
}

/* The 1-minute load average: how busy the shared machine was. */
static double loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "re");
	double v = -1;

	if (f) {
		if (fscanf(f, "%lf", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static uint64_t pow2_up(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* ---- the pattern: a function of the file offset ---- */

static inline uint64_t pattern_word(uint64_t seed, uint64_t off)
{
	uint64_t z = (off >> 3) + seed * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void pattern_fill(uint8_t *buf, uint64_t off, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = pattern_word(seed, off + i);

		memcpy(buf + i, &w, 8);
	}
}

/* 0 when buf holds the pattern of [off, off+len) (off, len 8-aligned). */
static int pattern_check(const uint8_t *buf, uint64_t off, size_t len,
			 uint64_t seed)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = pattern_word(seed, off + i), g;

		memcpy(&g, buf + i, 8);
		if (g != w)
			return -1;
	}
	return 0;
}

static uint8_t *buf_alloc(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, len ? len : 64))
		return NULL;
	memset(p, 0x5a, len); /* fault it in */
	return p;
}

/* Read twice the LLC, one load a line: nothing of ours stays cached. */
static void evict(struct env *e)
{
	const volatile uint64_t *p = (const uint64_t *)e->evict_buf;
	uint64_t acc = 0;

	if (!e->evict_buf)
		return;
	for (size_t i = 0; i < e->evict_len / 8; i += 8)
		acc += p[i];
	bench_consume(acc);
}

/* ---- operations: file offsets and their runs on the devices ---- */

/*
 * A run: device, device offset, length. The raw arms address it as an
 * application would, device mapping + device offset; not through a table
 * of ready-made pointers, which this CPU streams faster (up to 1.4x at
 * 4 KiB, an array-of-pointers prefetch effect) than any computed address,
 * famrt's included.
 */
struct run {
	uint64_t dev_off;
	uint64_t len;
	uint32_t dev;
	int fd;
};

struct opset {
	struct env *e;
	struct famrt_file *f;
	uint64_t block;
	uint64_t nops;
	uint64_t mask;    /* op i uses entry i & mask */
	uint64_t *off;    /* file offsets */
	uint64_t *devoff1; /* single-run ops: device offset */
	uint32_t *dev1;    /* and device */
	uint8_t *const *base; /* the device mappings (libfamrt's) */
	uint32_t *first;  /* runs of op i: runs[first[i] .. first[i+1]) */
	struct run *runs;
	uint64_t nruns;
	bool single;      /* every op is one run */
	uint8_t *buf;     /* destination of reads, source of writes */
	uint64_t errors;
};

static void opset_free(struct opset *s)
{
	free(s->off);
	free(s->devoff1);
	free(s->dev1);
	free(s->first);
	free(s->runs);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

enum pattern { PAT_HOT, PAT_RAND, PAT_SEQ };

static const char *pattern_name(enum pattern p)
{
	return p == PAT_HOT ? "hot" : p == PAT_RAND ? "rand" : "seq";
}

/* Working set of a case: what its offsets are drawn from. */
static uint64_t working_set(const struct opset *s, enum pattern p)
{
	uint64_t size = famrt_file_size(s->f);
	uint64_t ws = s->block > MiB ? s->block : MiB;

	if (p != PAT_HOT || ws > size)
		ws = size;
	return ws / s->block * s->block;
}

static int opset_make(struct opset *s, struct env *e, struct famrt_file *f,
		      uint64_t block, enum pattern p, uint64_t nops,
		      uint64_t seed)
{
	const struct famrt_fmap *m = famrt_file_fmap(f);
	struct famrt_fmap_iter it;
	struct famrt_fmap_run r;
	uint64_t ws, slots, cap, rs = seed;

	memset(s, 0, sizeof(*s));
	s->e = e;
	s->f = f;
	s->block = block;
	s->nops = nops;
	s->mask = p == PAT_HOT ? nops - 1 : UINT64_MAX;
	ws = working_set(s, p);
	slots = ws / block;
	cap = nops * 4;
	s->off = malloc(nops * sizeof(*s->off));
	s->devoff1 = malloc(nops * sizeof(*s->devoff1));
	s->dev1 = malloc(nops * sizeof(*s->dev1));
	s->base = f->base;
	s->first = malloc((nops + 1) * sizeof(*s->first));
	s->runs = malloc(cap * sizeof(*s->runs));
	s->buf = buf_alloc(block);
	if (!s->off || !s->devoff1 || !s->dev1 || !s->first || !s->runs ||
	    !s->buf) {
		opset_free(s);
		return -ENOMEM;
	}
	s->single = true;
	for (uint64_t i = 0; i < nops; i++) {
		uint64_t off;

		if (p == PAT_SEQ)
			off = i % slots * block;
		else
			off = bench_rand(&rs) % slots * block;
		s->off[i] = off;
		s->first[i] = (uint32_t)s->nruns;
		famrt_fmap_iter_init(&it, m, off, block);
		while (famrt_fmap_iter_next(&it, &r)) {
			struct run *x;

			if (s->nruns == cap) {
				struct run *n = realloc(s->runs, 2 * cap *
								 sizeof(*n));

				if (!n) {
					opset_free(s);
					return -ENOMEM;
				}
				s->runs = n;
				cap *= 2;
			}
			x = &s->runs[s->nruns++];
			x->dev = r.dev;
			x->dev_off = r.dev_off;
			x->len = r.len;
			x->fd = e->devfd[r.dev];
		}
		if (s->nruns - s->first[i] != 1)
			s->single = false;
		s->devoff1[i] = s->runs[s->first[i]].dev_off;
		s->dev1[i] = s->runs[s->first[i]].dev;
	}
	s->first[nops] = (uint32_t)s->nruns;
	return 0;
}

/* ---- read arms: n operations, a count of failures ---- */

static uint64_t arm_famrt_read(struct opset *s, uint64_t n)
{
	struct famrt_file *f = s->f;
	uint8_t *buf = s->buf;
	const uint64_t *off = s->off;
	uint64_t mask = s->mask, len = s->block, bad = 0;

	for (uint64_t i = 0; i < n; i++) {
		bad += famrt_pread(f, buf, len, off[i & mask]) != (ssize_t)len;
		clobber(buf);
	}
	return bad;
}

static uint64_t arm_raw_read(struct opset *s, uint64_t n)
{
	uint8_t *buf = s->buf;
	uint64_t mask = s->mask, len = s->block;

	if (s->single) {
		uint8_t *const *base = s->base;
		const uint64_t *devoff = s->devoff1;
		const uint32_t *dev = s->dev1;

		for (uint64_t i = 0; i < n; i++) {
			uint64_t k = i & mask;

			memcpy(buf, base[dev[k]] + devoff[k], len);
			clobber(buf);
		}
		return 0;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t k = i & mask;
		uint8_t *d = buf;

		for (uint32_t j = s->first[k]; j < s->first[k + 1]; j++) {
			const struct run *r = &s->runs[j];

			memcpy(d, s->base[r->dev] + r->dev_off, r->len);
			d += s->runs[j].len;
		}
		clobber(buf);
	}
	return 0;
}

static uint64_t arm_kernel_read(struct opset *s, uint64_t n)
{
	uint8_t *buf = s->buf;
	uint64_t mask = s->mask, bad = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t k = i & mask;
		uint8_t *d = buf;

		for (uint32_t j = s->first[k]; j < s->first[k + 1]; j++) {
			const struct run *r = &s->runs[j];

			bad += pread(r->fd, d, r->len, (off_t)r->dev_off) !=
			       (ssize_t)r->len;
			d += r->len;
		}
		clobber(buf);
	}
	return bad;
}

/* ---- write arms ---- */

static void nt_set(const char *v)
{
	setenv("FAMRT_NT_THRESHOLD", v, 1);
	famrt_copy_rechoose();
}

static const char *nt_default_env; /* FAMRT_NT_THRESHOLD as found */

static void nt_default(void)
{
	if (nt_default_env)
		setenv("FAMRT_NT_THRESHOLD", nt_default_env, 1);
	else
		unsetenv("FAMRT_NT_THRESHOLD");
	famrt_copy_rechoose();
}

static void nt_never(void)
{
	nt_set("0");
}

static void nt_always(void)
{
	nt_set("1");
}

static uint64_t arm_famrt_write(struct opset *s, uint64_t n)
{
	struct famrt_file *f = s->f;
	const uint8_t *buf = s->buf;
	uint64_t mask = s->mask, len = s->block, bad = 0;

	for (uint64_t i = 0; i < n; i++)
		bad += famrt_pwrite(f, buf, len, s->off[i & mask]) !=
		       (ssize_t)len;
	return bad;
}

static uint64_t arm_famrt_write_flush(struct opset *s, uint64_t n)
{
	struct famrt_file *f = s->f;
	const uint8_t *buf = s->buf;
	uint64_t mask = s->mask, len = s->block, bad = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = s->off[i & mask];

		bad += famrt_pwrite(f, buf, len, off) != (ssize_t)len;
		bad += famrt_flush(f, off, len) != 0;
	}
	return bad;
}

static uint64_t arm_raw_write(struct opset *s, uint64_t n, bool flush)
{
	const uint8_t *buf = s->buf;
	uint64_t mask = s->mask;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t k = i & mask;
		const uint8_t *src = buf;

		for (uint32_t j = s->first[k]; j < s->first[k + 1]; j++) {
			const struct run *r = &s->runs[j];
			uint8_t *dst = s->base[r->dev] + r->dev_off;

			memcpy(dst, src, r->len);
			clobber(dst);
			if (flush)
				famrt_flush_range(dst, r->len);
			src += r->len;
		}
	}
	return 0;
}

static uint64_t arm_raw_write_noflush(struct opset *s, uint64_t n)
{
	return arm_raw_write(s, n, false);
}

static uint64_t arm_raw_write_flush(struct opset *s, uint64_t n)
{
	return arm_raw_write(s, n, true);
}

/* ---- measuring arms side by side ---- */

struct arm {
	const char *name;
	uint64_t (*fn)(struct opset *s, uint64_t n);
	void (*prep)(void); /* before every run (untimed), or NULL */
	uint64_t n;         /* operations per timed run */
	struct bench_stats st;   /* CPU time per op */
	struct bench_stats wall; /* wall time per op */
	double v[1000], vw[1000];
};

/*
 * Calibrate how many operations make a timed run of about e->target_ns
 * (same count for every arm when `same`, else per arm), warm up, then time
 * o.repeat runs of each arm, the arms in turn (rotating the order each
 * repeat), emptying the caches before each run when `cold`.
 */
static int measure(struct env *e, struct opset *s, struct arm *a,
		   unsigned na, bool cold, bool same, uint64_t nmax)
{
	uint64_t n0 = s->block >= 4 * MiB ? 2 : s->block >= 256 * KiB ? 8 : 64;
	double worst = 0;

	if (n0 > nmax)
		n0 = nmax;
	for (unsigned k = 0; k < na; k++) {
		uint64_t t;
		double est, want;

		if (a[k].prep)
			a[k].prep();
		a[k].fn(s, n0); /* warm-up, and the first touch of all */
		if (cold)
			evict(e);
		t = cpu_ns();
		if (a[k].fn(s, n0)) {
			fprintf(stderr, "bench_io: arm %s failed: %s\n",
				a[k].name, famrt_errmsg());
			return -EIO;
		}
		t = cpu_ns() - t;
		est = (double)t / (double)n0;
		if (est > worst)
			worst = est;
		want = e->target_ns / (est > 1 ? est : 1);
		a[k].n = want < 1 ? 1 : want > (double)nmax ? nmax :
							     (uint64_t)want;
	}
	if (same) {
		double want = e->target_ns / (worst > 1 ? worst : 1);
		uint64_t n = want < 1 ? 1 : want > (double)nmax ?
					       nmax :
					       (uint64_t)want;

		for (unsigned k = 0; k < na; k++)
			a[k].n = n;
	}
	/* Warm-up at full length (hot cases reach their steady state). */
	if (!cold)
		for (unsigned k = 0; k < na; k++) {
			if (a[k].prep)
				a[k].prep();
			a[k].fn(s, a[k].n);
		}
	for (unsigned r = 0; r < e->o.repeat; r++) {
		for (unsigned j = 0; j < na; j++) {
			struct arm *x = &a[(j + r) % na];
			uint64_t t, w, bad;

			if (x->prep)
				x->prep();
			if (cold)
				evict(e);
			w = bench_now_ns();
			t = cpu_ns();
			bad = x->fn(s, x->n);
			t = cpu_ns() - t;
			w = bench_now_ns() - w;
			if (bad) {
				fprintf(stderr, "bench_io: arm %s: %llu "
						"failures: %s\n",
					x->name, (unsigned long long)bad,
					famrt_errmsg());
				return -EIO;
			}
			x->v[r] = (double)t / (double)x->n;
			x->vw[r] = (double)w / (double)x->n;
		}
	}
	for (unsigned k = 0; k < na; k++) {
		bench_stats(a[k].v, e->o.repeat, &a[k].st);
		bench_stats(a[k].vw, e->o.repeat, &a[k].wall);
	}
	return 0;
}

/* ---- the targets table ---- */

enum tkind { T_RATIO_MIN, T_NS_MAX, T_REPORT };

struct target {
	char what[112];
	enum tkind kind;
	double want;      /* ratio at least / ns at most */
	double got;       /* measured ratio / ns; < 0: not measured */
	double ns;        /* famrt's ns per op behind it */
	double base_ns;   /* the baseline's, 0 if none */
	const char *base; /* the baseline's name */
};

#define MAXTARGETS 64
static struct target targets[MAXTARGETS];
static unsigned ntargets;

static struct target *target_add(enum tkind kind, double want,
				 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct target *target_add(enum tkind kind, double want,
				 const char *fmt, ...)
{
	static struct target spare;
	struct target *t = ntargets < MAXTARGETS ? &targets[ntargets++] :
						   &spare;
	va_list ap;

	memset(t, 0, sizeof(*t));
	va_start(ap, fmt);
	vsnprintf(t->what, sizeof(t->what), fmt, ap);
	va_end(ap);
	t->kind = kind;
	t->want = want;
	t->got = -1;
	return t;
}

/* A ratio target: baseline time / famrt time. */
static void target_ratio(struct target *t, double ns, double base_ns,
			 const char *base)
{
	t->ns = ns;
	t->base_ns = base_ns;
	t->base = base;
	t->got = ns > 0 ? base_ns / ns : -1;
}

/* An absolute target, with a baseline for information. */
static void target_ns(struct target *t, double ns, double base_ns,
		      const char *base)
{
	t->ns = ns;
	t->base_ns = base_ns;
	t->base = base;
	t->got = ns;
}

static bool target_met(const struct target *t)
{
	if (t->got < 0)
		return false;
	switch (t->kind) {
	case T_RATIO_MIN:
		return t->got >= t->want;
	case T_NS_MAX:
		return t->got <= t->want;
	default:
		return true;
	}
}

/* ---- reporting helpers ---- */

static char placement_param[96];
/* What the devices are, and what the kernel arm reads. */
static char devices_param[160] = "emulated: files in /dev/shm (tmpfs)";

static void size_str(char *b, size_t n, uint64_t v)
{
	if (v >= GiB && !(v % GiB))
		snprintf(b, n, "%lluG", (unsigned long long)(v / GiB));
	else if (v >= MiB && !(v % MiB))
		snprintf(b, n, "%lluM", (unsigned long long)(v / MiB));
	else if (v >= KiB && !(v % KiB))
		snprintf(b, n, "%lluK", (unsigned long long)(v / KiB));
	else
		snprintf(b, n, "%llu", (unsigned long long)v);
}

static void result_of(struct bench_result *r, const char *name,
		      const struct bench_param *p, unsigned np,
		      const struct arm *a, double bytes)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->params = p;
	r->nparams = np;
	r->iterations = a->n;
	r->ns = a->st;
	r->bytes_per_op = bytes;
}

/* ---- read cases ---- */

struct read_out {
	double famrt, raw, kernel; /* median ns per op */
	bool ok;
};

static int read_case(struct env *e, struct famrt_file *f, const char *layout,
		     enum pattern p, uint64_t block, struct read_out *out)
{
	struct opset s;
	struct arm a[3] = {
		{ .name = "famrt_pread", .fn = arm_famrt_read },
		{ .name = "memcpy", .fn = arm_raw_read },
		{ .name = "kernel pread", .fn = arm_kernel_read },
	};
	bool cold = p != PAT_HOT && e->m.evict;
	uint64_t nops = p == PAT_HOT ? NHOT : NSTREAM, ws, seed;
	uint64_t ncheck;
	char name[2][128], bs[24], wss[24];
	uint8_t *chk[3];
	int rc;

	memset(out, 0, sizeof(*out));
	size_str(bs, sizeof(bs), block);
	snprintf(name[0], sizeof(name[0]), "read/%s/%s/%s", layout,
		 pattern_name(p), bs);
	snprintf(name[1], sizeof(name[1]), "read-vs-kernel/%s/%s/%s", layout,
		 pattern_name(p), bs);
	if (!bench_selected(&e->o, name[0]) && !bench_selected(&e->o, name[1]))
		return 0;
	/* Big blocks over the whole file: fewer distinct offsets will do. */
	if (p != PAT_HOT && nops * block > 64 * GiB)
		nops = 64 * GiB / block;
	seed = 0x1234567ull + block * 7 + (uint64_t)p;
	rc = opset_make(&s, e, f, block, p, nops, seed);
	if (rc)
		return rc;
	ws = working_set(&s, p);
	size_str(wss, sizeof(wss), ws);

	/* The same bytes in every arm, and the file's bytes. */
	ncheck = s.nops < 16 ? s.nops : 16;
	for (int k = 0; k < 3; k++)
		chk[k] = buf_alloc(block);
	rc = chk[0] && chk[1] && chk[2] ? 0 : -ENOMEM;
	for (uint64_t i = 0; !rc && i < ncheck; i++) {
		struct opset one = s;

		one.mask = 0;
		one.off = &s.off[i];
		one.devoff1 = &s.devoff1[i];
		one.dev1 = &s.dev1[i];
		one.first = &s.first[i];
		for (int k = 0; k < 3 && !rc; k++) {
			one.buf = chk[k];
			memset(chk[k], k, block);
			if (a[k].fn(&one, 1))
				rc = -EIO;
		}
		if (!rc && (memcmp(chk[0], chk[1], block) ||
			    memcmp(chk[0], chk[2], block) ||
			    pattern_check(chk[0], s.off[i], block,
					  (uint64_t)(uintptr_t)f->ino->ino))) {
			fprintf(stderr,
				"bench_io: %s: the arms read different bytes "
				"at file offset %llu\n",
				name[0], (unsigned long long)s.off[i]);
			rc = -EIO;
		}
	}
	for (int k = 0; k < 3; k++)
		free(chk[k]);
	if (!rc)
		rc = measure(e, &s, a, 3, cold, p != PAT_HOT, s.nops);
	if (!rc) {
		struct bench_param prm[] = {
			BENCH_STR("layout", layout),
			BENCH_STR("pattern", pattern_name(p)),
			BENCH_INT("block", block),
			BENCH_INT("working_set", ws),
			BENCH_INT("file_size", famrt_file_size(f)),
			BENCH_NUM("runs_per_op",
				  (double)s.nruns / (double)s.nops),
			BENCH_INT("distinct_offsets", s.nops),
			BENCH_INT("caches_emptied", cold),
			BENCH_INT("l2_bytes", e->m.l2),
			BENCH_INT("llc_bytes", e->m.llc),
			BENCH_STR("placement", placement_param),
			BENCH_STR("devices", devices_param),
			BENCH_STR("clock", "thread CPU time"),
			BENCH_NUM("wall_ns_per_op", a[0].wall.median),
			BENCH_NUM("baseline_wall_ns_per_op", a[1].wall.median),
			BENCH_INT("baseline_iterations", a[1].n),
			BENCH_NUM("loadavg", loadavg()),
		};
		const unsigned np = sizeof(prm) / sizeof(prm[0]);
		struct bench_result r, b;

		result_of(&r, name[0], prm, np, &a[0], (double)block);
		result_of(&b, "memcpy", prm, np, &a[1], (double)block);
		if (bench_selected(&e->o, name[0]))
			rc = bench_report_add(e->rep, &r, &b);
		/* The same params, with the kernel arm as the baseline. */
		prm[np - 3].d = a[2].wall.median; /* baseline_wall_ns_per_op */
		prm[np - 2].i = (int64_t)a[2].n;  /* baseline_iterations */
		r.name = name[1];
		result_of(&b, "kernel pread", prm, np, &a[2], (double)block);
		if (!rc && bench_selected(&e->o, name[1]))
			rc = bench_report_add(e->rep, &r, &b);
		out->famrt = a[0].st.median;
		out->raw = a[1].st.median;
		out->kernel = a[2].st.median;
		out->ok = true;
	}
	opset_free(&s);
	return rc;
}

/* ---- write cases ---- */

struct write_out {
	double ns[MAXARMS];
	bool ok;
};

/*
 * Arms a[0..na) over the same destinations. base[k]: the arm to report arm
 * k against, -1 to report it alone, -2 not to report it (a baseline only).
 * Case names: LABEL/LAYOUT/PATTERN/BLOCK/ARM. Skipped (out->ok false) when
 * --only selects none of them.
 */
static int write_case(struct env *e, struct famrt_file *f, const char *layout,
		      const char *label, enum pattern p, uint64_t block,
		      struct arm *a, unsigned na, const int *base,
		      struct write_out *out)
{
	struct opset s;
	bool cold = p != PAT_HOT && e->m.evict, any = false;
	uint64_t ws, nops = p == PAT_HOT ? NHOT : NSTREAM;
	char name[MAXARMS][128], bs[24];
	int rc;

	memset(out, 0, sizeof(*out));
	size_str(bs, sizeof(bs), block);
	for (unsigned k = 0; k < na; k++) {
		snprintf(name[k], sizeof(name[k]), "%s/%s/%s/%s/%s", label,
			 layout, pattern_name(p), bs, a[k].name);
		if (base[k] != -2 && bench_selected(&e->o, name[k]))
			any = true;
	}
	if (!any)
		return 0;
	if (p != PAT_HOT && nops * block > 64 * GiB)
		nops = 64 * GiB / block;
	rc = opset_make(&s, e, f, block, p, nops, 0xabcdefull + block);
	if (rc)
		return rc;
	pattern_fill(s.buf, 0, block, 0x77);
	ws = working_set(&s, p);
	rc = measure(e, &s, a, na, cold, p != PAT_HOT, s.nops);
	nt_default();
	for (unsigned k = 0; !rc && k < na; k++) {
		struct bench_param prm[] = {
			BENCH_STR("layout", layout),
			BENCH_STR("pattern", pattern_name(p)),
			BENCH_INT("block", block),
			BENCH_INT("working_set", ws),
			BENCH_INT("file_size", famrt_file_size(f)),
			BENCH_NUM("runs_per_op",
				  (double)s.nruns / (double)s.nops),
			BENCH_INT("caches_emptied", cold),
			BENCH_INT("l2_bytes", e->m.l2),
			BENCH_INT("llc_bytes", e->m.llc),
			BENCH_STR("arm", a[k].name),
			BENCH_STR("flush_insn", e->m.flush_insn),
			BENCH_INT("nt_threshold_default",
				  famrt_nt_threshold()),
			BENCH_STR("placement", placement_param),
			BENCH_STR("devices", devices_param),
			BENCH_STR("clock", "thread CPU time"),
			BENCH_NUM("wall_ns_per_op", a[k].wall.median),
			BENCH_NUM("baseline_wall_ns_per_op",
				  base[k] >= 0 ? a[base[k]].wall.median : 0),
			BENCH_NUM("loadavg", loadavg()),
		};
		struct bench_result r, b;

		out->ns[k] = a[k].st.median;
		if (base[k] == -2 || !bench_selected(&e->o, name[k]))
			continue;
		result_of(&r, name[k], prm, sizeof(prm) / sizeof(prm[0]),
			  &a[k], (double)block);
		if (base[k] >= 0)
			result_of(&b, a[base[k]].name, prm,
				  sizeof(prm) / sizeof(prm[0]), &a[base[k]],
				  (double)block);
		rc = bench_report_add(e->rep, &r, base[k] >= 0 ? &b : NULL);
	}
	out->ok = !rc;
	opset_free(&s);
	return rc;
}

/* ---- mmap ---- */

/*
 * What famrt_mmap does, by hand: reserve, then map every run with
 * MAP_FIXED from the device file. The per-piece baseline. Returns the
 * address of the reservation (to munmap with rlen) or NULL.
 */
static void *raw_map(const struct run *runs, uint64_t nruns, uint64_t len,
		     size_t *rlen)
{
	uint64_t align = 4096, pos = 0;
	uint8_t *region;

	*rlen = len + align;
	region = mmap(NULL, *rlen, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED)
		return NULL;
	for (uint64_t j = 0; j < nruns; j++) {
		const struct run *r = &runs[j];
		uint64_t plen = (r->len + align - 1) / align * align;

		if (mmap(region + pos, plen, PROT_READ, MAP_SHARED | MAP_FIXED,
			 r->fd, (off_t)r->dev_off) == MAP_FAILED) {
			munmap(region, *rlen);
			return NULL;
		}
		pos += r->len;
	}
	return region;
}

static int mmap_case(struct env *e, struct famrt_file *f, const char *label,
		     uint64_t len, struct target *tbuild,
		     struct target *tbuild_ns, struct target *ttouch)
{
	struct opset s, all;
	uint64_t blocks = len / MiB, pieces, acc = 0;
	int whole;
	double vb[1000], vt[1000], vm[1000], vbt[1000], vr[1000];
	struct bench_stats sb, st, sm, sbt, sr;
	bool direct = f->direct != NULL, same = false;
	char name[4][96];
	int rc;

	snprintf(name[0], sizeof(name[0]), "mmap-build/%s", label);
	snprintf(name[1], sizeof(name[1]), "mmap-first-touch/%s", label);
	snprintf(name[2], sizeof(name[2]), "mmap-build+touch/%s", label);
	if (!bench_selected(&e->o, name[0]) &&
	    !bench_selected(&e->o, name[1]) && !bench_selected(&e->o, name[2]))
		return 0;
	/* 1 MiB blocks in file order: their runs are the pieces. */
	rc = opset_make(&s, e, f, MiB, PAT_SEQ, blocks, 0);
	if (rc)
		return rc;
	/* The file's runs over the range: famrt_mmap's pieces. */
	whole = opset_make(&all, e, f, len, PAT_SEQ, 1, 0);
	if (whole) {
		opset_free(&s);
		return whole;
	}
	pieces = direct ? 1 : all.nruns;
	for (unsigned rep = 0; rep < e->o.repeat + 1 && !rc; rep++) {
		uint64_t tb = 0, tt = 0, tm = 0, tr = 0;

		/* Three arms, in a rotating order. */
		for (unsigned j = 0; j < 3 && !rc; j++) {
			unsigned arm = (j + rep) % 3;
			uint64_t t0, t1, t2;
			size_t rlen;
			void *p;

			if (arm == 0) {
				t0 = cpu_ns();
				rc = famrt_mmap(f, 0, len, PROT_READ, &p);
				t1 = cpu_ns();
				if (rc) {
					fprintf(stderr,
						"bench_io: famrt_mmap: %s\n",
						famrt_errmsg());
					break;
				}
				for (uint64_t b = 0; b < blocks; b++) {
					memcpy(s.buf, (uint8_t *)p + b * MiB,
					       MiB);
					clobber(s.buf);
				}
				t2 = cpu_ns();
				if (!rep && pattern_check(s.buf,
							  (blocks - 1) * MiB,
							  MiB, f->ino->ino)) {
					fprintf(stderr,
						"bench_io: %s: wrong bytes\n",
						name[1]);
					rc = -EIO;
				}
				acc += s.buf[0];
				/* Served from the device mapping itself? */
				same = direct && p == (void *)f->direct;
				famrt_munmap(e->c, p);
				tb = t1 - t0;
				tt = t2 - t1;
			} else if (arm == 1) {
				t0 = cpu_ns();
				arm_raw_read(&s, blocks);
				tm = cpu_ns() - t0;
			} else if (!direct) {
				t0 = cpu_ns();
				p = raw_map(all.runs, all.nruns, len, &rlen);
				tr = cpu_ns() - t0;
				if (!p) {
					rc = -errno;
					break;
				}
				munmap(p, rlen);
			}
		}
		if (!rep)
			continue; /* warm-up */
		vb[rep - 1] = (double)tb / (double)pieces;
		vr[rep - 1] = (double)tr / (double)pieces;
		vt[rep - 1] = (double)tt / (double)blocks;
		vbt[rep - 1] = (double)(tb + tt) / (double)blocks;
		vm[rep - 1] = (double)tm / (double)blocks;
	}
	bench_consume(acc);
	if (!rc) {
		struct famrt_fmap_extent x;
		struct bench_param prm[] = {
			BENCH_INT("file_size", famrt_file_size(f)),
			BENCH_INT("mapped", len),
			BENCH_INT("pieces", pieces),
			BENCH_INT("chunk", 0),
			BENCH_STR("op", same ? "the whole call (one run: "
					       "the device mapping itself)" :
					direct ? "the whole call (one run, "
						 "mapped anew)" :
						 "one piece (one MAP_FIXED "
						 "mmap)"),
			BENCH_INT("l2_bytes", e->m.l2),
			BENCH_INT("llc_bytes", e->m.llc),
			BENCH_STR("clock", "thread CPU time"),
		};
		struct bench_result rb, rr, rt, rm;

		famrt_fmap_get_extent(famrt_file_fmap(f), 0, &x);
		prm[3].i = x.chunk_size;
		bench_stats(vb, e->o.repeat, &sb);
		bench_stats(vr, e->o.repeat, &sr);
		bench_stats(vt, e->o.repeat, &st);
		bench_stats(vm, e->o.repeat, &sm);
		bench_stats(vbt, e->o.repeat, &sbt);
		memset(&rb, 0, sizeof(rb));
		rb.name = name[0];
		rb.params = prm;
		rb.nparams = 8;
		rb.iterations = pieces;
		rb.ns = sb;
		rr = rb;
		rr.name = "mmap MAP_FIXED by hand";
		rr.ns = sr;
		if (bench_selected(&e->o, name[0]))
			rc = bench_report_add(e->rep, &rb, direct ? NULL : &rr);
		prm[4].s = "1 MiB of first touch (memcpy out of the new "
			   "mapping)";
		rt = rb;
		rt.name = name[1];
		rt.iterations = blocks;
		rt.ns = st;
		rt.bytes_per_op = MiB;
		memset(&rm, 0, sizeof(rm));
		rm.name = "memcpy from the device mapping";
		rm.iterations = blocks;
		rm.ns = sm;
		rm.bytes_per_op = MiB;
		if (!rc && bench_selected(&e->o, name[1]))
			rc = bench_report_add(e->rep, &rt, &rm);
		prm[4].s = "1 MiB of famrt_mmap + first touch";
		rt.name = name[2];
		rt.ns = sbt;
		if (!rc && bench_selected(&e->o, name[2]))
			rc = bench_report_add(e->rep, &rt, &rm);
		if (tbuild)
			target_ratio(tbuild, sb.median, sr.median,
				     "mmap MAP_FIXED by hand");
		if (tbuild_ns)
			target_ns(tbuild_ns, sb.median, sr.median,
				  "mmap MAP_FIXED by hand");
		if (ttouch)
			target_ratio(ttouch, st.median, sm.median,
				     "memcpy from the device mapping");
	}
	opset_free(&s);
	opset_free(&all);
	return rc;
}

/* ---- open ---- */

/* The CPU a process last ran on (/proc/PID/stat field 39), or -1. */
static int last_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	int cpu = -1, field = 2;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')'))) {
		for (p++; *p && field < 39; p++)
			if (*p == ' ')
				field++;
		if (field == 39)
			cpu = atoi(p);
	}
	fclose(f);
	return cpu;
}

/*
 * The floor under a first open: one request and reply over a
 * SOCK_SEQPACKET socket to another process on the CPU famrtd runs on
 * (cpu; -1: anywhere). Answers with as many bytes as it gets. Returns the
 * child's pid and our end in *fd, or -errno.
 */
static pid_t echo_start(int cpu, int *fd)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (!pid) {
		cpu_set_t all;
		char b[512];
		ssize_t n;

		CPU_ZERO(&all);
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (cpu < 0 || c == cpu)
				CPU_SET(c, &all);
		sched_setaffinity(0, sizeof(all), &all);
		close(sv[0]);
		while ((n = recv(sv[1], b, sizeof(b), 0)) > 0)
			if (send(sv[1], b, (size_t)n, 0) != n)
				break;
		_exit(0);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

/* k round trips of 160-byte messages (about an open's); ns each. */
static double echo_time(int fd, unsigned k)
{
	char b[512] = { 0 };
	uint64_t t = bench_now_ns();

	for (unsigned i = 0; i < k; i++) {
		if (send(fd, b, 160, 0) != 160 ||
		    recv(fd, b, sizeof(b), 0) != 160)
			return -1;
	}
	return (double)(bench_now_ns() - t) / k;
}

static int open_cases(struct env *e, struct target *tfirst,
		      struct target *trt, struct target *trep)
{
	int efd = -1, echo_cpu;
	pid_t echo;
	const unsigned k = e->nopen;
	char (*fpath)[32] = calloc(k, sizeof(*fpath));
	char (*kpath)[96] = calloc(k, sizeof(*kpath));
	double v[5][1000];
	struct bench_stats st[5];
	struct famrt_connect_opts co = { .size = sizeof(co),
					 .socket = e->d.socket };
	uint64_t nrep = e->o.quick ? 2000 : 50000;
	int rc = 0;

	if (!fpath || !kpath) {
		free(fpath);
		free(kpath);
		return -ENOMEM;
	}
	echo_cpu = last_cpu(e->d.pid);
	echo = echo_start(echo_cpu, &efd);
	if (echo < 0) {
		free(fpath);
		free(kpath);
		return (int)echo;
	}
	for (unsigned i = 0; i < k; i++) {
		snprintf(fpath[i], sizeof(fpath[i]), "/o/f%05u", i);
		snprintf(kpath[i], sizeof(kpath[i]), "%s/f%05u", e->open_dir,
			 i);
	}
	for (unsigned rep = 0; rep < e->o.repeat + 1 && !rc; rep++) {
		struct famrt *c2;
		struct famrt_file *f;
		uint64_t t;
		int fd;

		/* First opens: a new connection has an empty cache. */
		rc = famrt_connect(&c2, &co);
		if (rc) {
			fprintf(stderr, "bench_io: connect: %s\n",
				famrt_errmsg());
			break;
		}
		t = bench_now_ns();
		for (unsigned i = 0; i < k && !rc; i++) {
			rc = famrt_open(c2, fpath[i], O_RDONLY, &f);
			if (!rc)
				famrt_close(f);
		}
		t = bench_now_ns() - t;
		if (rc)
			fprintf(stderr, "bench_io: famrt_open %s\n",
				famrt_errmsg());
		if (rep)
			v[0][rep - 1] = (double)t / k;
		t = bench_now_ns();
		for (unsigned i = 0; i < k && !rc; i++) {
			fd = open(kpath[i], O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				rc = -errno;
			else
				close(fd);
		}
		t = bench_now_ns() - t;
		if (rep)
			v[1][rep - 1] = (double)t / k;
		/* The same number of bare round trips. */
		v[4][rep ? rep - 1 : 0] = echo_time(efd, k);
		if (v[4][rep ? rep - 1 : 0] < 0)
			rc = -EIO;

		/* Repeated open + close of one cached path. */
		t = bench_now_ns();
		for (uint64_t i = 0; i < nrep && !rc; i++) {
			rc = famrt_open(c2, fpath[0], O_RDONLY, &f);
			if (!rc)
				famrt_close(f);
		}
		t = bench_now_ns() - t;
		if (rep)
			v[2][rep - 1] = (double)t / (double)nrep;
		t = bench_now_ns();
		for (uint64_t i = 0; i < nrep && !rc; i++) {
			fd = open(kpath[0], O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				rc = -errno;
			else
				close(fd);
		}
		t = bench_now_ns() - t;
		if (rep)
			v[3][rep - 1] = (double)t / (double)nrep;
		famrt_disconnect(c2);
	}
	close(efd);
	waitpid(echo, NULL, 0);
	if (!rc) {
		struct bench_param prm[] = {
			BENCH_INT("paths", k),
			BENCH_STR("what", "famrt_open + famrt_close, a new "
					  "connection each run (empty cache)"),
			BENCH_STR("baseline_what",
				  "open(2) + close(2) of tmpfs files"),
			BENCH_STR("clock", "wall (a round trip waits for "
					   "famrtd)"),
		};
		struct bench_result r, b;

		for (int i = 0; i < 5; i++)
			bench_stats(v[i], e->o.repeat, &st[i]);
		memset(&r, 0, sizeof(r));
		memset(&b, 0, sizeof(b));
		r.name = "open-first";
		r.params = prm;
		r.nparams = 4;
		r.iterations = k;
		r.ns = st[0];
		b.name = "kernel open+close";
		b.iterations = k;
		b.ns = st[1];
		if (bench_selected(&e->o, r.name))
			rc = bench_report_add(e->rep, &r, &b);
		/* Against the floor: a bare round trip to another process. */
		r.name = "open-first-vs-roundtrip";
		b.name = "SOCK_SEQPACKET round trip to a process on famrtd's "
			 "CPU";
		prm[1].s = echo_cpu == e->o.cpu ?
				   "famrt_open + famrt_close, a new connection "
				   "each run; famrtd on this CPU" :
				   "famrt_open + famrt_close, a new connection "
				   "each run; famrtd on another CPU";
		b.ns = st[4];
		if (!rc && bench_selected(&e->o, "open-first"))
			rc = bench_report_add(e->rep, &r, &b);
		b.name = "kernel open+close";
		prm[0].i = 1;
		prm[1].s = "famrt_open + famrt_close of one cached path";
		r.name = "open-repeat";
		r.iterations = nrep;
		r.ns = st[2];
		b.iterations = nrep;
		b.ns = st[3];
		if (!rc && bench_selected(&e->o, r.name))
			rc = bench_report_add(e->rep, &r, &b);
		target_ns(tfirst, st[0].median, st[1].median,
			  "kernel open+close");
		target_ratio(trt, st[0].median, st[4].median,
			     "bare round trip");
		target_ns(trep, st[2].median, st[3].median,
			  "kernel open+close");
	}
	free(fpath);
	free(kpath);
	return rc;
}

/* ---- setup ---- */

static int fill_file(struct famrt_file *f)
{
	uint64_t size = famrt_file_size(f), seed = f->ino->ino;
	size_t chunk = 16 * MiB;
	uint8_t *b = malloc(chunk);
	int rc = 0;

	if (!b)
		return -ENOMEM;
	for (uint64_t off = 0; off < size && !rc; off += chunk) {
		size_t n = size - off < chunk ? (size_t)(size - off) : chunk;

		pattern_fill(b, off, n, seed);
		if (famrt_pwrite(f, b, n, off) != (ssize_t)n)
			rc = -EIO;
	}
	free(b);
	if (!rc)
		rc = famrt_fsync(f);
	if (rc)
		fprintf(stderr, "bench_io: filling a file: %s\n",
			famrt_errmsg());
	return rc;
}

/* Copy every byte of f from its device mappings into the shadows. */
static int shadow_file(struct env *e, struct famrt_file *f,
		       const bool *shadowed)
{
	const struct famrt_fmap *m = famrt_file_fmap(f);
	struct famrt_fmap_iter it;
	struct famrt_fmap_run r;

	famrt_fmap_iter_init(&it, m, 0, famrt_file_size(f));
	while (famrt_fmap_iter_next(&it, &r)) {
		const uint8_t *src = f->base[r.dev] + r.dev_off;

		if (!shadowed[r.dev])
			continue;
		for (uint64_t done = 0; done < r.len;) {
			ssize_t n = pwrite(e->devfd[r.dev], src + done,
					   r.len - done, (off_t)(r.dev_off +
								 done));

			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			done += (uint64_t)n;
		}
	}
	return 0;
}

/*
 * The kernel arm reads the device file with pread(2). Device-dax cannot be
 * read(2) at all, so for such a device the arm reads a sparse tmpfs file
 * instead, holding the same bytes at the same device offsets: the kernel
 * path famrt is measured against is still a page-cache read of tmpfs.
 */
static int kernel_arm_shadows(struct env *e)
{
	bool shadowed[H_MAX_DEVS] = { false };
	unsigned nshadow = 0;
	int rc = 0;

	for (uint32_t i = 0; i < e->fs.ndevs; i++) {
		char c, path[96];
		int fd;

		if (pread(e->devfd[i], &c, 1, 0) == 1)
			continue;
		snprintf(path, sizeof(path),
			 "/dev/shm/famrt-bench-io-%d-shadow-%u", (int)getpid(),
			 i);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			rc = -errno;
			fprintf(stderr, "bench_io: cannot create %s for the "
					"kernel arm: %s\n", path, strerror(-rc));
			return rc;
		}
		unlink(path);
		close(e->devfd[i]);
		e->devfd[i] = fd;
		if (ftruncate(fd, (off_t)e->c->dev[i].size))
			return -errno;
		shadowed[i] = true;
		nshadow++;
	}
	if (!nshadow)
		return 0;
	rc = shadow_file(e, e->big, shadowed);
	if (!rc)
		rc = shadow_file(e, e->ilv, shadowed);
	if (!rc)
		rc = shadow_file(e, e->many, shadowed);
	if (rc) {
		fprintf(stderr, "bench_io: copying to tmpfs for the kernel "
				"arm: %s\n", strerror(-rc));
		return rc;
	}
	snprintf(devices_param, sizeof(devices_param),
		 "%s (%u of them cannot be read(2): the kernel arm reads a "
		 "tmpfs copy)", e->o.devices, nshadow);
	return 0;
}

static int setup(struct env *e, uint64_t big, uint64_t many)
{
	struct famrt_connect_opts co = { .size = sizeof(co) };
	struct famrt_layout ilv = { .size = sizeof(ilv), .interleave = true,
				    .nstrips = 2, .chunk = 2 * MiB };
	struct famrt_layout small = ilv;
	uint64_t dev = big + big / 4 + many / 2 + e->nopen * 2 * MiB +
		       320 * MiB;
	int rc;

	dev = (dev + 2 * MiB - 1) / (2 * MiB) * (2 * MiB);
	/* Given devices were sized for in main (fit_devices). */
	rc = h_fs_make_on(&e->fs, e->o.devices, 2, e->o.devices ? 0 : dev,
			  "bench-host");
	if (rc)
		return rc;
	e->fs_made = true;
	cleanup_env = e;
	rc = h_famrtd_start(&e->d, &e->fs, "svc", "bench-host", NULL);
	if (rc)
		return rc;
	e->d_started = true;
	co.socket = e->d.socket;
	rc = famrt_connect(&e->c, &co);
	/*
	 * The file of many pieces: 64 KiB chunks, or the devices' alignment
	 * when larger (2 MiB on device-dax: a chunk is never smaller).
	 */
	e->many_chunk = 64 * KiB;
	for (uint32_t i = 0; !rc && i < e->c->ndevs; i++)
		if (e->c->dev[i].align > e->many_chunk)
			e->many_chunk = e->c->dev[i].align;
	small.chunk = (uint32_t)e->many_chunk;
	if (!rc)
		rc = famrt_create(e->c, "/big", 0644, big, NULL, &e->big);
	if (!rc)
		rc = famrt_create(e->c, "/ilv", 0644, big / 2, &ilv, &e->ilv);
	if (!rc)
		rc = famrt_create(e->c, "/many", 0644, many, &small,
				  &e->many);
	if (!rc)
		rc = famrt_mkdir(e->c, "/o", 0755);
	for (unsigned i = 0; i < e->nopen && !rc; i++) {
		struct famrt_file *f;
		char p[32];

		snprintf(p, sizeof(p), "/o/f%05u", i);
		rc = famrt_create(e->c, p, 0644, 4096, NULL, &f);
		if (!rc)
			famrt_close(f);
	}
	if (rc) {
		fprintf(stderr, "bench_io: setting up: %s\n", famrt_errmsg());
		return rc;
	}
	if (!e->big->direct) {
		fprintf(stderr, "bench_io: /big is not one run\n");
		return -EINVAL;
	}
	for (uint32_t i = 0; i < e->fs.ndevs; i++) {
		e->devfd[i] = open(e->fs.dev[i], O_RDONLY | O_CLOEXEC);
		if (e->devfd[i] < 0)
			return -errno;
	}
	rc = fill_file(e->big);
	if (!rc)
		rc = fill_file(e->ilv);
	if (!rc)
		rc = fill_file(e->many);
	if (!rc)
		rc = kernel_arm_shadows(e);
	if (rc)
		return rc;
	/* tmpfs files for the kernel open baseline. */
	snprintf(e->open_dir, sizeof(e->open_dir),
		 "/dev/shm/famrt-bench-open.XXXXXX");
	if (!mkdtemp(e->open_dir)) {
		rc = -errno;
		fprintf(stderr, "bench_io: cannot create %s: %s\n",
			e->open_dir, strerror(-rc));
		e->open_dir[0] = '\0';
		return rc;
	}
	for (unsigned i = 0; i < e->nopen; i++) {
		char p[96];
		int fd;

		snprintf(p, sizeof(p), "%s/f%05u", e->open_dir, i);
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	return 0;
}

static void teardown(struct env *e)
{
	if (e->big)
		famrt_close(e->big);
	if (e->ilv)
		famrt_close(e->ilv);
	if (e->many)
		famrt_close(e->many);
	if (e->c)
		famrt_disconnect(e->c);
	for (uint32_t i = 0; i < H_MAX_DEVS; i++)
		if (e->devfd[i] >= 0)
			close(e->devfd[i]);
	if (e->d_started)
		h_famrtd_stop(&e->d);
	if (e->fs_made)
		h_fs_remove(&e->fs);
	if (e->open_dir[0]) {
		for (unsigned i = 0; i < e->nopen; i++) {
			char p[96];

			snprintf(p, sizeof(p), "%s/f%05u", e->open_dir, i);
			unlink(p);
		}
		rmdir(e->open_dir);
	}
	cleanup_env = NULL;
	free(e->evict_buf);
}

/* ---- the run ---- */

static const uint64_t sweep_full[] = {
	64, 128, 256, 512, 1 * KiB, 2 * KiB, 4 * KiB, 8 * KiB, 16 * KiB,
	32 * KiB, 64 * KiB, 128 * KiB, 256 * KiB, 512 * KiB, 1 * MiB,
	2 * MiB, 4 * MiB, 8 * MiB, 16 * MiB,
};
static const uint64_t sweep_quick[] = { 64, 4 * KiB, 64 * KiB, 1 * MiB,
					16 * MiB };

static const uint64_t nt_full[] = {
	4 * KiB, 8 * KiB, 16 * KiB, 32 * KiB, 64 * KiB, 128 * KiB,
	256 * KiB, 512 * KiB, 1 * MiB, 2 * MiB, 4 * MiB, 8 * MiB, 16 * MiB,
};
static const uint64_t nt_quick[] = { 4 * KiB, 256 * KiB, 1 * MiB };

struct sweep_row {
	uint64_t block;
	struct read_out r[2][2]; /* [layout][hot, rand] */
};

static int run_reads(struct env *e)
{
	const uint64_t *sz = e->o.quick ? sweep_quick : sweep_full;
	unsigned nsz = e->o.quick ? 5 : sizeof(sweep_full) / 8;
	struct famrt_file *files[2] = { e->big, e->ilv };
	const char *lname[2] = { "simple", "ilv" };
	struct sweep_row *rows = calloc(nsz, sizeof(*rows));
	struct target *t[2][2], *thot[2], *tstr[2], *tseq[2];
	bool any = false;
	int rc = 0;

	if (!rows)
		return -ENOMEM;
	for (int l = 0; l < 2; l++) {
		t[l][0] = target_add(T_RATIO_MIN, 0.90,
				     "famrt_pread %s hot, every size: worst "
				     "speed vs memcpy",
				     lname[l]);
		t[l][1] = target_add(T_RATIO_MIN, 0.90,
				     "famrt_pread %s rand (streaming), every "
				     "size: worst speed vs memcpy",
				     lname[l]);
		thot[l] = target_add(T_RATIO_MIN, 5,
				     "famrt_pread %s 4K random hot vs kernel "
				     "pread",
				     lname[l]);
		tstr[l] = target_add(T_RATIO_MIN, 2,
				     "famrt_pread %s 4K random streaming vs "
				     "kernel pread",
				     lname[l]);
		tseq[l] = target_add(T_RATIO_MIN, 0.95,
				     "famrt_pread %s 1M sequential vs memcpy",
				     lname[l]);
	}
	for (unsigned i = 0; i < nsz && !rc; i++) {
		rows[i].block = sz[i];
		for (int l = 0; l < 2 && !rc; l++)
			for (int p = 0; p < 2 && !rc; p++)
				rc = read_case(e, files[l], lname[l],
					       p ? PAT_RAND : PAT_HOT, sz[i],
					       &rows[i].r[l][p]);
	}
	/* Sequential. */
	for (int l = 0; l < 2 && !rc; l++) {
		static const uint64_t seq[] = { 64 * KiB, 1 * MiB, 16 * MiB };

		for (int i = 0; i < 3 && !rc; i++) {
			struct read_out o;

			rc = read_case(e, files[l], lname[l], PAT_SEQ, seq[i],
				       &o);
			if (!rc && o.ok && seq[i] == MiB)
				target_ratio(tseq[l], o.famrt, o.raw,
					     "memcpy");
		}
	}
	/* The sweep summary, and the targets it feeds. */
	for (unsigned i = 0; i < nsz; i++)
		for (int l = 0; l < 2; l++)
			for (int p = 0; p < 2; p++)
				any |= rows[i].r[l][p].ok;
	if (!any)
		nsz = 0;
	if (!rc && any) {
		fprintf(stderr, "\nbench_io: famrt_pread speed as a fraction "
				"of memcpy (and x kernel pread), by block:\n");
		fprintf(stderr, "%8s | %-21s | %-21s | %-21s | %-21s\n",
			"block", "simple hot", "simple rand", "ilv hot",
			"ilv rand");
	}
	for (unsigned i = 0; i < nsz && !rc; i++) {
		char bs[24];

		size_str(bs, sizeof(bs), rows[i].block);
		fprintf(stderr, "%8s", bs);
		for (int l = 0; l < 2; l++)
			for (int p = 0; p < 2; p++) {
				const struct read_out *o = &rows[i].r[l][p];
				double q;

				if (!o->ok) {
					fprintf(stderr, " | %-21s", "-");
					continue;
				}
				q = o->raw / o->famrt;
				fprintf(stderr, " | %5.3f (%6.2fx kern)", q,
					o->kernel / o->famrt);
				if (t[l][p]->got < 0 || q < t[l][p]->got)
					target_ratio(t[l][p], o->famrt, o->raw,
						     "memcpy");
				if (rows[i].block == 4 * KiB)
					target_ratio((p ? tstr : thot)[l],
						     o->famrt, o->kernel,
						     "kernel pread");
			}
		fputc('\n', stderr);
	}
	/* Name the worst size in each "every size" target. */
	for (int l = 0; l < 2; l++)
		for (int p = 0; p < 2; p++) {
			uint64_t worst = 0;
			double w = 1e30;
			char bs[24];
			size_t n = strlen(t[l][p]->what);

			for (unsigned i = 0; i < nsz; i++) {
				const struct read_out *o = &rows[i].r[l][p];

				if (o->ok && o->raw / o->famrt < w) {
					w = o->raw / o->famrt;
					worst = rows[i].block;
				}
			}
			if (!worst)
				continue;
			size_str(bs, sizeof(bs), worst);
			snprintf(t[l][p]->what + n, sizeof(t[l][p]->what) - n,
				 " (at %s)", bs);
		}
	free(rows);
	return rc;
}

/* plain/NT time by destination (hot, rand), flush (no, yes) and size. */
struct nt_table {
	double ratio[2][2][16];
	bool have[2][2][16];
};

static void nt_summary(const struct nt_table *t, const uint64_t *sz,
		       unsigned nsz)
{
	static const char *const col[2][2] = { { "hot", "hot+flush" },
					       { "rand", "rand+flush" } };
	bool any = false;

	for (int p = 0; p < 2; p++)
		for (unsigned i = 0; i < nsz; i++)
			any |= t->have[p][0][i];
	if (!any)
		return;
	fprintf(stderr, "\nbench_io: non-temporal stores, famrt_pwrite time "
			"plain/nt (above 1: NT pays):\n%8s",
		"size");
	for (int p = 0; p < 2; p++)
		for (int fl = 0; fl < 2; fl++)
			fprintf(stderr, " | %-11s", col[p][fl]);
	fputc('\n', stderr);
	for (unsigned i = 0; i < nsz; i++) {
		char bs[24];

		size_str(bs, sizeof(bs), sz[i]);
		fprintf(stderr, "%8s", bs);
		for (int p = 0; p < 2; p++)
			for (int fl = 0; fl < 2; fl++) {
				if (t->have[p][fl][i])
					fprintf(stderr, " | %11.3f",
						t->ratio[p][fl][i]);
				else
					fprintf(stderr, " | %11s", "-");
			}
		fputc('\n', stderr);
	}
	/* The crossover: the smallest size from which NT always pays. */
	for (int p = 0; p < 2; p++)
		for (int fl = 0; fl < 2; fl++) {
			int from = -1;
			char bs[24];

			for (int i = (int)nsz - 1; i >= 0; i--) {
				if (!t->have[p][fl][i] ||
				    t->ratio[p][fl][i] <= 1.0)
					break;
				from = i;
			}
			if (from < 0)
				snprintf(bs, sizeof(bs), "never");
			else
				size_str(bs, sizeof(bs), sz[from]);
			fprintf(stderr,
				"bench_io: NT crossover, %s destination: %s\n",
				col[p][fl], bs);
		}
	fprintf(stderr, "bench_io: NT threshold in use: %zu\n",
		famrt_nt_threshold());
}

static int run_writes(struct env *e)
{
	const uint64_t *sz = e->o.quick ? nt_quick : nt_full;
	unsigned nsz = e->o.quick ? 3 : sizeof(nt_full) / 8;
	struct target *tw[2];
	struct write_out out;
	struct nt_table nt;
	int rc = 0;

	memset(&nt, 0, sizeof(nt));
	tw[0] = target_add(T_RATIO_MIN, 0.95,
			   "famrt_pwrite+famrt_flush 1M simple (rand dest) "
			   "vs memcpy+clwb");
	tw[1] = target_add(T_RATIO_MIN, 0.95,
			   "famrt_pwrite+famrt_flush 1M ilv (rand dest) vs "
			   "memcpy+clwb");
	/* The target: 1 MiB with flush, and without for reference. */
	for (int l = 0; l < 2 && !rc; l++) {
		struct famrt_file *f = l ? e->ilv : e->big;
		const char *ln = l ? "ilv" : "simple";

		for (int p = 0; p < 2 && !rc; p++) {
			struct arm a[4] = {
				{ .name = "memcpy+clwb",
				  .fn = arm_raw_write_flush,
				  .prep = nt_default },
				{ .name = "famrt_pwrite+flush",
				  .fn = arm_famrt_write_flush,
				  .prep = nt_default },
				{ .name = "memcpy", .fn = arm_raw_write_noflush,
				  .prep = nt_default },
				{ .name = "famrt_pwrite", .fn = arm_famrt_write,
				  .prep = nt_default },
			};
			static const int base[4] = { -2, 0, -2, 2 };

			rc = write_case(e, f, ln, "write",
					p ? PAT_RAND : PAT_HOT, MiB, a, 4, base,
					&out);
			if (!rc && p && out.ok)
				target_ratio(tw[l], out.ns[1], out.ns[0],
					     "memcpy+clwb");
		}
	}
	/* Where non-temporal stores pay. */
	for (int p = 0; p < 2 && !rc; p++)
		for (unsigned i = 0; i < nsz && !rc; i++) {
			struct arm a[4] = {
				{ .name = "plain", .fn = arm_famrt_write,
				  .prep = nt_never },
				{ .name = "nt", .fn = arm_famrt_write,
				  .prep = nt_always },
				{ .name = "plain+flush",
				  .fn = arm_famrt_write_flush,
				  .prep = nt_never },
				{ .name = "nt+flush",
				  .fn = arm_famrt_write_flush,
				  .prep = nt_always },
			};
			/* nt against plain, with and without the flush. */
			static const int base[4] = { -2, 0, -2, 2 };

			rc = write_case(e, e->big, "simple", "nt",
					p ? PAT_RAND : PAT_HOT, sz[i], a, 4,
					base, &out);
			if (rc || !out.ok)
				continue;
			nt.ratio[p][0][i] = out.ns[0] / out.ns[1];
			nt.ratio[p][1][i] = out.ns[2] / out.ns[3];
			nt.have[p][0][i] = nt.have[p][1][i] = true;
		}
	if (!rc)
		nt_summary(&nt, sz, nsz);
	return rc;
}

static void print_targets(struct env *e)
{
	fprintf(stderr, "\nbench_io: targets (docs/performance.md); "
			"informational, never a failure:\n");
	fprintf(stderr, "%-84s %10s %10s  %s\n", "target", "wanted",
		"measured", "result");
	for (unsigned i = 0; i < ntargets; i++) {
		const struct target *t = &targets[i];
		const char *res = t->got < 0       ? "not run" :
				  t->kind == T_REPORT ? "report" :
				  target_met(t)    ? "pass" :
						     "MISS";
		char want[32], got[32];

		if (t->kind == T_RATIO_MIN)
			snprintf(want, sizeof(want), ">= %.2fx", t->want);
		else if (t->kind == T_NS_MAX)
			snprintf(want, sizeof(want), "<= %.0f ns", t->want);
		else
			snprintf(want, sizeof(want), "-");
		if (t->got < 0)
			snprintf(got, sizeof(got), "-");
		else if (t->kind == T_NS_MAX)
			snprintf(got, sizeof(got), "%.0f ns", t->got);
		else
			snprintf(got, sizeof(got), "%.3fx", t->got);
		fprintf(stderr, "%-84s %10s %10s  %s\n", t->what, want, got,
			res);
	}
	for (unsigned i = 0; i < ntargets; i++) {
		const struct target *t = &targets[i];
		struct bench_param prm[] = {
			BENCH_STR("target", t->what),
			BENCH_STR("kind", t->kind == T_RATIO_MIN ?
						  "baseline/famrt at least" :
					  t->kind == T_NS_MAX ? "ns at most" :
								"report"),
			BENCH_NUM("wanted", t->want),
			BENCH_NUM("measured", t->got),
			BENCH_STR("result", t->kind == T_REPORT ? "report" :
					    target_met(t)       ? "pass" :
								  "miss"),
		};
		struct bench_result r, b;
		char name[32];

		if (t->got < 0)
			continue;
		snprintf(name, sizeof(name), "target/%u", i);
		memset(&r, 0, sizeof(r));
		memset(&b, 0, sizeof(b));
		r.name = name;
		r.params = prm;
		r.nparams = 5;
		r.iterations = 1;
		r.ns.median = r.ns.min = r.ns.max = t->ns;
		r.ns.n = 1;
		b.name = t->base;
		b.ns.median = b.ns.min = b.ns.max = t->base_ns;
		b.ns.n = 1;
		bench_report_add(e->rep, &r, t->base_ns > 0 ? &b : NULL);
	}
}

/*
 * On given devices the sizes must fit what they have: everything lands on
 * them together (the large file, the interleaved one of half its size, the
 * file of many runs, the small files, the log). Halve the large file until
 * it fits; refuse devices too small for a meaningful run.
 */
static int fit_devices(struct env *e, uint64_t *big, uint64_t many)
{
	uint32_t n;
	int64_t min = h_devices_min_size(e->o.devices, &n);
	uint64_t total, fixed = many + e->nopen * 2 * MiB + 320 * MiB;

	if (min < 0)
		return -1;
	total = (uint64_t)min * n;
	while (*big > 16 * MiB && fixed + *big + *big / 2 > total)
		*big /= 2;
	if (fixed + *big + *big / 2 > total) {
		fprintf(stderr,
			"bench_io: the devices '%s' hold %llu MiB in all; "
			"this run needs at least %llu MiB%s\n",
			e->o.devices, (unsigned long long)(total / MiB),
			(unsigned long long)((fixed + 24 * MiB) / MiB),
			e->o.quick ? "" : " (--quick needs less)");
		return -1;
	}
	if (*big < 8 * e->m.llc && !e->o.quick)
		fprintf(stderr,
			"bench_io: warning: the large file is only %llu MiB "
			"(%.1f x LLC) on these devices: \"streaming\" cases "
			"are partly cached\n",
			(unsigned long long)(*big / MiB),
			e->m.llc ? (double)*big / (double)e->m.llc : 0);
	snprintf(devices_param, sizeof(devices_param), "%s", e->o.devices);
	return 0;
}

int main(int argc, char **argv)
{
	static struct env env;
	struct env *e = &env;
	uint64_t big, many;
	const char *s;
	struct target *tb, *tbn, *tt, *tfirst, *trt, *trep;
	char chunk_name[24], many_name[40];
	int rc;

	rc = bench_parse_args(argc, argv,
			      "famrt_pread/pwrite/mmap/open against kernel "
			      "pread and raw memcpy, on emulated devices with "
			      "a real famrtd",
			      &e->o);
	if (rc)
		return rc > 0 ? 0 : 2;
	for (int i = 0; i < H_MAX_DEVS; i++)
		e->devfd[i] = -1;
	nt_default_env = getenv("FAMRT_NT_THRESHOLD");
	if (!getenv("FAMRT_BIN_DIR"))
		setenv("FAMRT_BIN_DIR", FAMRT_BENCH_BIN_DIR, 1);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	e->m.l1d = cache_size(_SC_LEVEL1_DCACHE_SIZE, "index0");
	e->m.l2 = cache_size(_SC_LEVEL2_CACHE_SIZE, "index2");
	e->m.llc = cache_size(_SC_LEVEL3_CACHE_SIZE, "index3");
	if (!e->m.llc)
		e->m.llc = e->m.l2;
	e->m.mem_avail = mem_available();
	e->m.flush_insn = famrt_flush_method();
	if (e->o.quick) {
		big = 64 * MiB;
		many = 8 * MiB;
		e->nopen = 16;
		e->target_ns = 1e6;
	} else {
		big = pow2_up(8 * e->m.llc);
		if (big < GiB)
			big = GiB;
		if (big > 4 * GiB)
			big = 4 * GiB;
		while (e->m.mem_avail && big > 256 * MiB &&
		       big > e->m.mem_avail / 4)
			big /= 2;
		many = 128 * MiB;
		e->nopen = 256;
		e->target_ns = 25e6;
	}
	s = getenv("FAMRT_BENCH_IO_STREAM_MIB");
	if (s && *s && strtoull(s, NULL, 10) >= 16)
		big = strtoull(s, NULL, 10) * MiB / (4 * MiB) * (4 * MiB);
	if (e->o.devices && fit_devices(e, &big, many))
		return 1;
	/* Empty the caches between streaming runs: read 2 x LLC. */
	e->m.evict = !e->o.quick;
	if (e->m.evict) {
		e->evict_len = 2 * e->m.llc;
		e->evict_buf = buf_alloc(e->evict_len);
		if (!e->evict_buf) {
			fprintf(stderr, "bench_io: no memory to empty the "
					"caches\n");
			return 1;
		}
	}
	fprintf(stderr,
		"bench_io: L1d %llu KiB, L2 %llu KiB, LLC %llu KiB; large "
		"file %llu MiB (%.1f x LLC); memory available %llu MiB; "
		"flush with %s\n",
		(unsigned long long)(e->m.l1d / KiB),
		(unsigned long long)(e->m.l2 / KiB),
		(unsigned long long)(e->m.llc / KiB),
		(unsigned long long)(big / MiB),
		e->m.llc ? (double)big / (double)e->m.llc : 0,
		(unsigned long long)(e->m.mem_avail / MiB), e->m.flush_insn);

	/* famrtd starts before pinning, so it does not share our CPU. */
	rc = setup(e, big, many);
	if (rc) {
		fprintf(stderr, "bench_io: setup failed: %s\n", strerror(-rc));
		teardown(e);
		return 1;
	}
	rc = famrt_bind_near(e->big, 0, 0);
	if (!rc) {
		snprintf(placement_param, sizeof(placement_param),
			 "hwloc: CPUs near NUMA node %d of the device",
			 famrt_numa_node(e->big, 0, 0));
		e->o.cpu = -1;
	} else {
		bench_pin(&e->o);
		snprintf(placement_param, sizeof(placement_param),
			 "%s%d (device NUMA node unknown: %s)",
			 e->o.cpu >= 0 ? "pinned to CPU " : "not pinned ",
			 e->o.cpu, rc == -ENOENT ? "emulated" : "hwloc failed");
	}
	e->rep = bench_report_open(&e->o, "bench_io");
	if (!e->rep) {
		teardown(e);
		return 1;
	}
	fprintf(stderr, "bench_io: placement: %s\n", placement_param);

	rc = run_reads(e);
	snprintf(chunk_name, sizeof(chunk_name), "%lluK",
		 (unsigned long long)(e->many_chunk / KiB));
	if (e->many_chunk % MiB == 0)
		snprintf(chunk_name, sizeof(chunk_name), "%lluM",
			 (unsigned long long)(e->many_chunk / MiB));
	tb = target_add(T_REPORT, 0,
			"famrt_mmap build per piece vs mmap(MAP_FIXED) by hand "
			"(%s chunks)", chunk_name);
	tbn = target_add(T_NS_MAX, 1500,
			 "famrt_mmap build, ns per piece (%s chunks; 0.9-1.5 "
			 "us a MAP_FIXED seen)", chunk_name);
	tt = target_add(T_REPORT, 0,
			"famrt_mmap first touch vs memcpy (report only)");
	for (char *p = chunk_name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	snprintf(many_name, sizeof(many_name), "ilv-%s-chunks", chunk_name);
	if (!rc)
		rc = mmap_case(e, e->many, many_name,
			       famrt_file_size(e->many), tb, tbn, tt);
	if (!rc)
		rc = mmap_case(e, e->ilv, "ilv-2m-chunks",
			       famrt_file_size(e->many), NULL, NULL, NULL);
	if (!rc)
		rc = mmap_case(e, e->big, "simple", famrt_file_size(e->many),
			       NULL, NULL, NULL);
	if (!rc)
		rc = run_writes(e);
	tfirst = target_add(T_NS_MAX, 30000,
			    "famrt_open first (one round trip), ns");
	trt = target_add(T_REPORT, 0,
			 "famrt_open first vs a bare socket round trip to "
			 "famrtd's CPU");
	trep = target_add(T_NS_MAX, 1000,
			  "famrt_open+close repeated (cached path), ns");
	if (!rc && (bench_selected(&e->o, "open-first") ||
		    bench_selected(&e->o, "open-repeat")))
		rc = open_cases(e, tfirst, trt, trep);
	if (rc)
		fprintf(stderr, "bench_io: %s\n", strerror(-rc));
	print_targets(e);
	if (bench_report_close(e->rep) && !rc)
		rc = -EIO;
	teardown(e);
	return rc ? 1 : 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_famrtd: the metadata service under concurrent clients. A real
 * famrtd (started through tests/common/famrtd_harness.c) serves a file
 * system on two emulated devices, sparse files in /dev/shm (64 GiB each,
 * 2 MiB allocation unit; file data is never touched), removed at exit.
 *
 *   mixed/clients=K   K client PROCESSES (1, 8, 64), each with its own
 *                     connection (famrt_client_connect, untimed), released
 *                     together, each doing N requests (default 10,000;
 *                     --requests N; --quick 200): lookup, getattr and
 *                     GET_FMAP in turn on random files among NFILES made
 *                     first. Every answer is checked (inode, size, the map
 *                     decodes against the device table with the file's
 *                     size): one wrong or failed request makes the run
 *                     exit 1 (a correctness failure, never a timing one).
 *                     ns_per_op is wall time / requests (all clients, from
 *                     the first start to the last end), so 1e9 / ns_per_op
 *                     is requests per second; params has it as
 *                     requests_per_sec and the latency of one request
 *                     (p50, p90, p99, p99.9, max, in ns, over all requests
 *                     of all runs).
 *   create/clients=K  the same for creates (K = 1, 8): each client makes C
 *                     files (default 1,000; --quick 50) of 4 KiB in a
 *                     directory of its own, each create durable in the log
 *                     before its reply; ns_per_op is wall time per create.
 *                     The target (docs/performance.md) is at least 10,000
 *                     creates a second; famfs publishes 90 to 120 ms.
 *
 * Each case runs --repeat times (default 3 here; --quick 1) and reports
 * the median. Nothing is pinned: the clients and the service share the
 * machine's CPUs as the scheduler decides (--cpu N pins them all to N).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "famrtd_harness.h"
#include "proto/client.h"

#define DEV_SIZE (64ull << 30)
#define NDIRS 10
#define MAX_CLIENTS 64

struct file {
	char path[32];
	uint64_t ino;
	uint64_t size;
};

static struct h_fs fs;
static struct h_famrtd svc;
static pid_t owner;
static bool in_child;
static struct file *files;
static unsigned nfiles;

static void cleanup(void)
{
	if (getpid() != owner)
		return;
	h_famrtd_kill(&svc);
	if (fs.ndevs)
		h_fs_remove(&fs);
}

static void on_signal(int sig)
{
	/* Enough to leave nothing big behind; the rest needs libc. */
	if (svc.pid > 0)
		kill(svc.pid, SIGKILL);
	for (uint32_t i = 0; i < fs.ndevs; i++)
		unlink(fs.dev[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

__attribute__((noreturn)) static void die(const char *what, const char *msg)
{
	fprintf(stderr, "bench_famrtd: %s: %s\n", what, msg);
	if (in_child)
		_exit(2); /* never flush the parent's buffered report */
	exit(1);
}

static struct famrt_client *connect_svc(void)
{
	struct famrt_client *c;
	struct famrt_err e;

	if (famrt_client_connect(&c, svc.socket, &e))
		die("connect", e.msg);
	return c;
}

/* What each client process leaves for the parent (shared mapping). */
struct slot {
	uint64_t start_ns, end_ns;
	uint64_t errors;
	uint64_t done;
	char first_error[256];
};

struct shared {
	struct slot slot[MAX_CLIENTS];
	uint64_t lat[]; /* MAX_CLIENTS x per-client requests, ns */
};

static void record_error(struct slot *s, const char *what, const char *path,
			 const char *msg)
{
	if (!s->errors++)
		snprintf(s->first_error, sizeof(s->first_error),
			 "%s %.64s: %.160s", what, path, msg);
}

/* One mixed request on a random file; false (and recorded) if wrong. */
static void mixed_one(struct famrt_client *c, struct slot *s, uint64_t *rng,
		      uint64_t i)
{
	const struct file *f = &files[bench_rand(rng) % nfiles];
	struct famrt_proto_attr a;
	struct famrt_fmap *map;
	struct famrt_err e;

	switch (i % 3) {
	case 0:
		if (famrt_client_lookup(c, f->path, &a, &e))
			record_error(s, "lookup", f->path, e.msg);
		else if (a.ino != f->ino || a.size != f->size)
			record_error(s, "lookup", f->path,
				     "wrong inode or size");
		break;
	case 1:
		if (famrt_client_getattr(c, f->ino, &a, &e))
			record_error(s, "getattr", f->path, e.msg);
		else if (a.ino != f->ino || a.size != f->size)
			record_error(s, "getattr", f->path,
				     "wrong inode or size");
		break;
	default:
		/* The client validates the map against the device table. */
		if (famrt_client_get_fmap(c, f->ino, &map, NULL, NULL, &e)) {
			record_error(s, "get_fmap", f->path, e.msg);
			break;
		}
		if (famrt_fmap_file_size(map) != f->size)
			record_error(s, "get_fmap", f->path,
				     "wrong size");
		famrt_fmap_free(map);
		break;
	}
}

enum kind { MIXED, CREATE };

/* The body of a client process. */
static void client(enum kind k, unsigned id, unsigned run, uint64_t n,
		   int go, struct shared *sh)
{
	struct slot *s = &sh->slot[id];
	uint64_t *lat = sh->lat + (uint64_t)id * n;
	uint64_t rng = 0x9e3779b97f4a7c15ull * (id + 1) + run;
	struct famrt_client *c = connect_svc();
	struct famrt_proto_create_req cr = { .mode = 0644, .size = 4096 };
	struct famrt_proto_attr a;
	struct famrt_err e;
	char dir[64], path[96], b;

	if (k == CREATE) {
		snprintf(dir, sizeof(dir), "/create/r%u-c%u", run, id);
		if (famrt_client_mkdir(c, dir, 0755, &a, &e))
			die(dir, e.msg);
	}
	/* The barrier: the parent closes the pipe. */
	if (read(go, &b, 1) != 0)
		_exit(3);
	s->start_ns = bench_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t = bench_now_ns();

		if (k == MIXED) {
			mixed_one(c, s, &rng, i);
		} else {
			snprintf(path, sizeof(path), "%s/f%llu", dir,
				 (unsigned long long)i);
			if (famrt_client_create(c, path, &cr, &a, &e))
				record_error(s, "create", path, e.msg);
			else if (a.size != cr.size)
				record_error(s, "create", path,
					     "wrong size");
		}
		lat[i] = bench_now_ns() - t;
	}
	s->end_ns = bench_now_ns();
	s->done = n;
	famrt_client_close(c);
	_exit(s->errors ? 1 : 0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t pct(const uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

/*
 * Run one case `repeat` times with k clients of n operations each; report
 * it. Returns the number of failed requests (0 is the only good answer).
 */
static uint64_t run_case(struct bench_report *rep,
			 const struct bench_opts *o, enum kind kind,
			 unsigned k, uint64_t n, unsigned *run_no)
{
	size_t shsize = sizeof(struct shared) + sizeof(uint64_t) * (size_t)k * n;
	struct shared *sh = mmap(NULL, shsize, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double ns[1000];
	uint64_t errors = 0, *all;
	size_t nall = 0;
	char name[64];

	if (sh == MAP_FAILED)
		die("mmap", strerror(errno));
	all = malloc(sizeof(uint64_t) * (size_t)k * n * o->repeat);
	if (!all)
		die("malloc", "out of memory");
	snprintf(name, sizeof(name), "%s/clients=%u",
		 kind == MIXED ? "mixed" : "create", k);
	for (unsigned r = 0; r < o->repeat; r++) {
		pid_t pids[MAX_CLIENTS];
		uint64_t t0 = UINT64_MAX, t1 = 0;
		int go[2];
		unsigned run = (*run_no)++;

		memset(sh->slot, 0, sizeof(sh->slot));
		if (pipe2(go, O_CLOEXEC))
			die("pipe", strerror(errno));
		fflush(NULL);
		for (unsigned i = 0; i < k; i++) {
			pids[i] = fork();
			if (pids[i] < 0)
				die("fork", strerror(errno));
			if (pids[i] == 0) {
				in_child = true;
				close(go[1]);
				client(kind, i, run, n, go[0], sh);
			}
		}
		close(go[0]);
		/* Let them all connect before the start. */
		usleep(k > 8 ? 200000 : 50000);
		close(go[1]);
		for (unsigned i = 0; i < k; i++) {
			int st;

			if (waitpid(pids[i], &st, 0) != pids[i])
				die("waitpid", strerror(errno));
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
			    sh->slot[i].done != n) {
				fprintf(stderr,
					"bench_famrtd: %s: client %u failed "
					"(status 0x%x, %llu errors): %s\n",
					name, i, st,
					(unsigned long long)sh->slot[i].errors,
					sh->slot[i].first_error);
				errors += sh->slot[i].errors ?
						  sh->slot[i].errors :
						  1;
				continue;
			}
			if (sh->slot[i].start_ns < t0)
				t0 = sh->slot[i].start_ns;
			if (sh->slot[i].end_ns > t1)
				t1 = sh->slot[i].end_ns;
			memcpy(all + nall, sh->lat + (uint64_t)i * n,
			       sizeof(uint64_t) * n);
			nall += n;
		}
		if (errors)
			break;
		ns[r] = (double)(t1 - t0) / (double)(k * n);
	}
	if (!errors) {
		struct bench_stats st;
		uint64_t p[5];
		double rps;

		bench_stats(ns, o->repeat, &st);
		qsort(all, nall, sizeof(*all), cmp_u64);
		p[0] = pct(all, nall, 0.50);
		p[1] = pct(all, nall, 0.90);
		p[2] = pct(all, nall, 0.99);
		p[3] = pct(all, nall, 0.999);
		p[4] = all[nall - 1];
		rps = 1e9 / st.median;
		{
			const struct bench_param params[] = {
				BENCH_INT("clients", k),
				BENCH_INT(kind == MIXED ? "requests_per_client" :
							  "creates_per_client",
					  n),
				BENCH_NUM("requests_per_sec", rps),
				BENCH_INT("p50_ns", p[0]),
				BENCH_INT("p90_ns", p[1]),
				BENCH_INT("p99_ns", p[2]),
				BENCH_INT("p999_ns", p[3]),
				BENCH_INT("max_ns", p[4]),
				BENCH_INT("files", nfiles),
				BENCH_INT("errors", 0),
			};
			struct bench_result res = {
				.name = name, .params = params,
				.nparams = sizeof(params) / sizeof(params[0]),
				.iterations = (uint64_t)k * n, .ns = st,
			};

			if (bench_report_add(rep, &res, NULL))
				die("report", "writing the report failed");
		}
		fprintf(stderr,
			"bench_famrtd: %-18s %9.0f %s/s; latency p50 %.1f us, "
			"p90 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f "
			"us\n",
			name, rps, kind == MIXED ? "requests" : "creates",
			p[0] / 1e3, p[1] / 1e3, p[2] / 1e3, p[3] / 1e3,
			p[4] / 1e3);
	}
	free(all);
	munmap(sh, shsize);
	return errors;
}

/* The files the mixed requests ask about. */
static void make_files(unsigned n)
{
	struct famrt_client *c = connect_svc();
	struct famrt_proto_create_req cr = { .mode = 0644 };
	struct famrt_proto_attr a;
	struct famrt_err e;
	char dir[32];

	files = calloc(n, sizeof(*files));
	if (!files)
		die("calloc", "out of memory");
	if (famrt_client_mkdir(c, "/bench", 0755, &a, &e) ||
	    famrt_client_mkdir(c, "/create", 0755, &a, &e))
		die("mkdir", e.msg);
	for (unsigned d = 0; d < NDIRS; d++) {
		snprintf(dir, sizeof(dir), "/bench/d%u", d);
		if (famrt_client_mkdir(c, dir, 0755, &a, &e))
			die(dir, e.msg);
	}
	for (unsigned i = 0; i < n; i++) {
		struct file *f = &files[i];

		snprintf(f->path, sizeof(f->path), "/bench/d%u/f%u", i % NDIRS,
			 i);
		/* Sizes of 1 to 3 units, a third of them interleaved. */
		cr.size = ((i % 3) + 1) * (2ull << 20) - i % 4096;
		cr.layout = i % 3 == 2;
		if (famrt_client_create(c, f->path, &cr, &a, &e))
			die(f->path, e.msg);
		f->ino = a.ino;
		f->size = a.size;
	}
	nfiles = n;
	famrt_client_close(c);
}

int main(int argc, char **argv)
{
	static const unsigned mixed_clients[] = { 1, 8, 64 };
	static const unsigned create_clients[] = { 1, 8 };
	struct bench_opts o;
	struct bench_report *rep;
	char *args[64];
	uint64_t dev_size;
	int nargs = 0, rc;
	long requests = -1;
	bool repeat_given = false, cpu_given = false;
	uint64_t errors = 0, n, nc;
	unsigned run_no = 0;

	/* Our own option first; the rest is the common set. */
	for (int i = 0; i < argc && nargs < 63; i++) {
		if (!strcmp(argv[i], "--requests") && i + 1 < argc) {
			char *end;

			requests = strtol(argv[++i], &end, 10);
			if (*end || requests < 1 || requests > 10000000) {
				fprintf(stderr,
					"bench_famrtd: --requests wants 1 to "
					"10000000\n");
				return 2;
			}
			continue;
		}
		repeat_given |= !strcmp(argv[i], "--repeat");
		cpu_given |= !strcmp(argv[i], "--cpu");
		args[nargs++] = argv[i];
	}
	args[nargs] = NULL;
	rc = bench_parse_args(nargs, args,
			      "famrtd under 1, 8 and 64 client processes: "
			      "requests per second and latency of mixed "
			      "lookup/getattr/GET_FMAP, and creates.\n"
			      "  --requests N  requests per client (default "
			      "10000; --quick 200)",
			      &o);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (!repeat_given)
		o.repeat = o.quick ? 1 : 3;
	if (!cpu_given)
		o.cpu = -1;
	if (bench_pin(&o) && cpu_given)
		return 1;
	n = requests > 0 ? (uint64_t)requests : o.quick ? 200 : 10000;
	nc = o.quick ? 50 : 1000;
	if (!getenv("FAMRT_BIN_DIR"))
		setenv("FAMRT_BIN_DIR", FAMRT_BENCH_BIN_DIR, 1);

	owner = getpid();
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/*
	 * On given devices, ask for what the files take: 2 units on average
	 * for the files looked up, one for each create of the create cases (every repeat),
	 * and room for the log.
	 */
	dev_size = DEV_SIZE;
	if (o.devices) {
		uint32_t ndev = 1;

		if (h_devices_min_size(o.devices, &ndev) < 0)
			return 1;
		dev_size = ((o.quick ? 100 : 1000) * (4ull << 20) +
			    9ull * nc * o.repeat * (2ull << 20) +
			    (256ull << 20)) / ndev;
	}
	if (h_fs_make_on(&fs, o.devices, 2, dev_size, "bench-host"))
		die("file system", "cannot make it");
	if (h_famrtd_start(&svc, &fs, "bench", "bench-host", NULL))
		die("famrtd", "cannot start it");
	make_files(o.quick ? 100 : 1000);

	rep = bench_report_open(&o, "bench_famrtd");
	if (!rep)
		return 1;
	for (unsigned i = 0; i < 3; i++) {
		char nm[32];

		snprintf(nm, sizeof(nm), "mixed/clients=%u", mixed_clients[i]);
		if (bench_selected(&o, nm))
			errors += run_case(rep, &o, MIXED, mixed_clients[i], n,
					   &run_no);
	}
	for (unsigned i = 0; i < 2; i++) {
		char nm[32];

		snprintf(nm, sizeof(nm), "create/clients=%u",
			 create_clients[i]);
		if (bench_selected(&o, nm))
			errors += run_case(rep, &o, CREATE, create_clients[i],
					   nc, &run_no);
	}
	if (bench_report_close(rep)) {
		fprintf(stderr, "bench_famrtd: writing the report failed\n");
		return 1;
	}
	if (h_famrtd_stop(&svc)) {
		fprintf(stderr, "bench_famrtd: famrtd did not stop cleanly\n");
		return 1;
	}
	if (errors) {
		fprintf(stderr, "bench_famrtd: %llu requests failed\n",
			(unsigned long long)errors);
		return 1;
	}
	return 0;
}

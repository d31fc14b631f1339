/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LD_PRELOAD shim, measured the way a user meets it: an ordinary
 * program (shim_reader, nothing of famrt linked in) reading a famrt file
 * under the shim, against the same program reading the same bytes from a
 * tmpfs file without it; and the same program touching no famrt file with
 * and without the shim (what the shim costs everyone else).
 *
 * Targets (performance.md): faster than tmpfs by at least half the pread
 * ratio (4 KiB: 5x hot -> 2.5x, 2x streaming -> 1x); no famrt I/O: within
 * 1%. Informational: a benchmark never fails on a time, only when the two
 * arms read different bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <famrt/famrt.h>

#include "common.h"
#include "famrtd_harness.h"

extern char **environ;

struct env {
	struct h_fs fs;
	struct h_famrtd d;
	char preload[512], reader[512];
	char tmp_hot[128], tmp_big[128];
	uint64_t hot_size, big_size;
};

/* Run shim_reader; *ns and *sum from its output. 0 or -1. */
static int run_reader(const struct env *v, bool shim, const char *path,
		      size_t block, const char *mode, uint64_t ops, double *ns,
		      unsigned long long *sum)
{
	char blk[32], nops[32], out[256];
	char env_preload[600], env_sock[200], env_mount[64];
	char *argv[] = { (char *)v->reader, (char *)path, blk, (char *)mode,
			 nops, NULL };
	char **envp;
	size_t n = 0, k = 0;
	posix_spawn_file_actions_t fa;
	int pipefd[2], st;
	pid_t pid;
	ssize_t r;

	snprintf(blk, sizeof(blk), "%zu", block);
	snprintf(nops, sizeof(nops), "%llu", (unsigned long long)ops);
	while (environ[n])
		n++;
	envp = calloc(n + 4, sizeof(*envp));
	if (!envp)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) &&
		    strncmp(environ[i], "FAMRT_", 6))
			envp[k++] = environ[i];
	if (shim) {
		snprintf(env_preload, sizeof(env_preload), "LD_PRELOAD=%s",
			 v->preload);
		snprintf(env_sock, sizeof(env_sock), "FAMRT_SOCKET=%s",
			 v->d.socket);
		snprintf(env_mount, sizeof(env_mount), "FAMRT_MOUNT=/famrt");
		envp[k++] = env_preload;
		envp[k++] = env_sock;
		envp[k++] = env_mount;
	}
	envp[k] = NULL;
	if (pipe(pipefd)) {
		free(envp);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	st = posix_spawn(&pid, v->reader, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(pipefd[1]);
	if (st) {
		close(pipefd[0]);
		return -1;
	}
	k = 0;
	while (k < sizeof(out) - 1 &&
	       (r = read(pipefd[0], out + k, sizeof(out) - 1 - k)) > 0)
		k += (size_t)r;
	out[k] = '\0';
	close(pipefd[0]);
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) ||
	    sscanf(out, "ns_per_op %lf checksum %llu", ns, sum) != 2) {
		fprintf(stderr, "bench_shim: reader failed on %s%s: %s\n", path,
			shim ? " (under the shim)" : "", out);
		return -1;
	}
	return 0;
}

/* Fill a famrt file and a tmpfs file with the same bytes. */
static int make_pair(struct env *v, struct famrt *c, const char *fpath,
		     const char *tpath, uint64_t size)
{
	struct famrt_file *f;
	size_t chunk = 1u << 20;
	uint8_t *buf = malloc(chunk);
	uint64_t seed = size ^ 0x9e3779b97f4a7c15ull;
	int fd = open(tpath, O_WRONLY | O_CREAT | O_TRUNC, 0600), rc;

	(void)v;
	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rc = famrt_create(c, fpath, 0644, size, NULL, &f);
	for (uint64_t off = 0; !rc && off < size; off += chunk) {
		size_t n = size - off < chunk ? (size_t)(size - off) : chunk;

		for (size_t i = 0; i < n; i += 8) {
			uint64_t x = bench_rand(&seed);

			memcpy(buf + i, &x, n - i < 8 ? n - i : 8);
		}
		if (famrt_pwrite(f, buf, n, off) != (ssize_t)n ||
		    write(fd, buf, n) != (ssize_t)n)
			rc = -1;
	}
	if (!rc)
		famrt_fsync(f);
	if (f)
		famrt_close(f);
	close(fd);
	free(buf);
	if (rc)
		fprintf(stderr, "bench_shim: cannot make %s: %s\n", fpath,
			famrt_errmsg());
	return rc ? -1 : 0;
}

struct pair_case {
	const char *name;
	const char *famrt_path; /* NULL: both arms on tmpfs (no famrt I/O) */
	const char *tmp_path;
	size_t block;
	const char *mode;
	uint64_t ops;
	uint64_t working_set;
};

/*
 * Alternate the two arms repeat times (so drift hits both alike) and
 * report the median of each. Returns 0, or -1 when an arm failed or the
 * arms read different bytes.
 */
static int run_case(struct env *v, const struct bench_opts *o,
		    struct bench_report *rep, const struct pair_case *pc)
{
	double *a = calloc(o->repeat, sizeof(double));
	double *b = calloc(o->repeat, sizeof(double));
	unsigned long long sa = 0, sb = 0;
	struct bench_stats st_a, st_b;
	bool no_famrt = !pc->famrt_path;
	int rc = 0;

	if (!a || !b) {
		free(a);
		free(b);
		return -1;
	}
	for (unsigned i = 0; i < o->repeat && !rc; i++) {
		rc |= run_reader(v, false, pc->tmp_path, pc->block, pc->mode,
				 pc->ops, &b[i], &sb);
		rc |= run_reader(v, true,
				 no_famrt ? pc->tmp_path : pc->famrt_path,
				 pc->block, pc->mode, pc->ops, &a[i], &sa);
		if (!rc && sa != sb) {
			fprintf(stderr,
				"bench_shim: %s: the arms read different bytes "
				"(checksums %llu and %llu)\n",
				pc->name, sa, sb);
			rc = -1;
		}
	}
	if (!rc) {
		struct bench_param p[] = {
			BENCH_INT("block", pc->block),
			BENCH_STR("access", pc->mode),
			BENCH_INT("working_set", pc->working_set),
			BENCH_STR("program", "shim_reader (read/pread)"),
		};
		struct bench_result ra = { .name = pc->name, .params = p,
					   .nparams = 4,
					   .iterations = pc->ops,
					   .bytes_per_op = (double)pc->block };
		struct bench_result rb = ra;

		bench_stats(a, o->repeat, &st_a);
		bench_stats(b, o->repeat, &st_b);
		ra.ns = st_a;
		rb.ns = st_b;
		rb.name = no_famrt ? "same program without the shim" :
				     "same program on tmpfs, no shim";
		rc = bench_report_add(rep, &ra, &rb);
	}
	free(a);
	free(b);
	return rc;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_report *rep;
	struct env v;
	struct famrt *c = NULL;
	struct famrt_connect_opts co = { .size = sizeof(co) };
	const char *bin = getenv("FAMRT_BIN_DIR");
	int rc = bench_parse_args(argc, argv, "bench_shim", &o), ret = 1;

	if (rc)
		return rc > 0 ? 0 : 2;
	memset(&v, 0, sizeof(v));
	if (!bin)
		bin = FAMRT_BENCH_BIN_DIR;
	snprintf(v.preload, sizeof(v.preload),
		 "%s/runtime/libfamrt_preload.so", bin);
	snprintf(v.reader, sizeof(v.reader), "%s/bench/shim_reader", bin);
	setenv("FAMRT_BIN_DIR", bin, 0);
	v.hot_size = 1u << 20;
	v.big_size = o.quick ? 64ull << 20 : 1ull << 30;
	if (h_fs_make_on(&v.fs, o.devices, 1, v.big_size + (256ull << 20),
			 "bench") ||
	    h_famrtd_start(&v.d, &v.fs, "svc", "bench", NULL)) {
		fprintf(stderr, "bench_shim: cannot start famrtd\n");
		return 1;
	}
	co.socket = v.d.socket;
	if (famrt_connect(&c, &co)) {
		fprintf(stderr, "bench_shim: %s\n", famrt_errmsg());
		goto out;
	}
	snprintf(v.tmp_hot, sizeof(v.tmp_hot), "/dev/shm/famrt-bench-%d-hot",
		 (int)getpid());
	snprintf(v.tmp_big, sizeof(v.tmp_big), "/dev/shm/famrt-bench-%d-big",
		 (int)getpid());
	if (make_pair(&v, c, "/hot", v.tmp_hot, v.hot_size) ||
	    make_pair(&v, c, "/big", v.tmp_big, v.big_size))
		goto out;
	bench_pin(&o);
	rep = bench_report_open(&o, "bench_shim");
	if (!rep)
		goto out;
	{
		uint64_t k = o.quick ? 20000 : 400000;
		const struct pair_case cases[] = {
			{ "shim/read4k-seq-hot", "/famrt/hot", v.tmp_hot, 4096,
			  "seq", k, v.hot_size },
			{ "shim/pread4k-rand-hot", "/famrt/hot", v.tmp_hot, 4096,
			  "rand", k, v.hot_size },
			{ "shim/pread4k-rand-streaming", "/famrt/big",
			  v.tmp_big, 4096, "rand", k, v.big_size },
			{ "shim/read64k-seq-streaming", "/famrt/big", v.tmp_big,
			  65536, "seq", k / 8, v.big_size },
			{ "shim/read1m-seq-streaming", "/famrt/big", v.tmp_big,
			  1u << 20, "seq", k / 128, v.big_size },
			{ "shim/no-famrt-io-read4k", NULL, v.tmp_hot, 4096,
			  "seq", k, v.hot_size },
		};

		ret = 0;
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			if (bench_selected(&o, cases[i].name) &&
			    run_case(&v, &o, rep, &cases[i]))
				ret = 1;
	}
	if (bench_report_close(rep))
		ret = 1;
out:
	if (c)
		famrt_disconnect(c);
	unlink(v.tmp_hot);
	unlink(v.tmp_big);
	h_famrtd_kill(&v.d);
	h_fs_remove(&v.fs);
	return ret;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libfamrt_heap_preload.so under an unmodified python3: its large
 * allocations (lists, bytearrays, joined bytes) must go to the famrt heap
 * and its output must be what it prints without the library. What went to
 * the heap is read from the library's exit report (FAMRT_HEAP_REPORT), and
 * the heap's file is checked through the test's own connection. Also: the
 * threshold, a heap that cannot be made and one that fills up (fallback
 * with one warning line), threads, and fork (the child's heap is private).
 *
 * Skips (77) when python3 is not installed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <famrt/famrt.h>

#include "famrtd_harness.h"
#include "rt_util.h"

#ifndef HEAP_PRELOAD_LIB
#error "HEAP_PRELOAD_LIB must name libfamrt_heap_preload.so"
#endif

#define MiB (1024ull * 1024)

extern char **environ;


static const char *python = "/usr/bin/python3";

/* Devices, a file system, famrtd and a connection (rt_util.c). */
static int setup(void **state)
{
	*state = rt_env_new(2, 256 * MiB);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	rt_env_free(*state);
	return 0;
}


struct run {
	int status;   /* exit code, or 128 + signal */
	char out[65536];
	char err[65536];
	char report[4096];
	bool has_report;
};

static void slurp(const char *path, char *buf, size_t cap, bool *ok)
{
	FILE *f = fopen(path, "re");
	size_t n = 0;

	buf[0] = '\0';
	if (ok)
		*ok = f != NULL;
	if (!f)
		return;
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Python runs so far: each writes its own output files. */
static int runs;

/* Variables the child must not inherit from whoever runs the test. */
static bool dropped(const char *e)
{
	return !strncmp(e, "LD_PRELOAD=", 11) || !strncmp(e, "FAMRT_", 6) ||
	       !strncmp(e, "ASAN_OPTIONS=", 13) ||
	       !strncmp(e, "TSAN_OPTIONS=", 13) ||
	       !strncmp(e, "PYTHON", 6) || !strncmp(e, "MALLOC_", 7);
}

/*
 * Run python3 -c script args... with the library (when preload) and the
 * extra variables (NULL-terminated "K=V"), FAMRT_SOCKET and a report path
 * always set. Killed after 120 s.
 */
static void run_py(struct rt_env *v, bool preload, const char *const *extra,
		   const char *script, const char *arg, struct run *r)
{
	char out[160], err[160], rep[160], sock[200], rpt[200];
	char pre[600];
	const char *argv[6] = { python, "-c", script, arg, NULL };
	char **envp;
	size_t n = 0, k = 0;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	memset(r, 0, sizeof(*r));
	runs++;
	snprintf(out, sizeof(out), "%s/py%d.out", v->fs.dir, runs);
	snprintf(err, sizeof(err), "%s/py%d.err", v->fs.dir, runs);
	snprintf(rep, sizeof(rep), "%s/py%d.report", v->fs.dir, runs);
	snprintf(sock, sizeof(sock), "FAMRT_SOCKET=%s", v->d.socket);
	snprintf(rpt, sizeof(rpt), "FAMRT_HEAP_REPORT=%s", rep);
	snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", HEAP_PRELOAD_LIB);
	while (environ[n])
		n++;
	envp = calloc(n + 32, sizeof(*envp));
	assert_non_null(envp);
	for (size_t i = 0; i < n; i++)
		if (!dropped(environ[i]))
			envp[k++] = environ[i];
	envp[k++] = sock;
	envp[k++] = rpt;
	envp[k++] = "LC_ALL=C";
	if (preload)
		envp[k++] = pre;
	for (int i = 0; extra && extra[i] && k < n + 30; i++)
		envp[k++] = (char *)extra[i];
	envp[k] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(posix_spawn(&pid, python, &fa, NULL,
				     (char *const *)argv, envp),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	for (int i = 0;; i++) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		assert_int_equal(w, 0);
		if (i == 12000) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			fail_msg("python3 did not finish within 120 s");
		}
		usleep(10000);
	}
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	slurp(out, r->out, sizeof(r->out), NULL);
	slurp(err, r->err, sizeof(r->err), NULL);
	slurp(rep, r->report, sizeof(r->report), &r->has_report);
	unlink(out);
	unlink(err);
	unlink(rep);
}

static void dump(const char *what, const struct run *r)
{
	fprintf(stderr, "---- %s: status %d\nstdout:\n%s\nstderr:\n%s\n"
			"report:\n%s\n----\n",
		what, r->status, r->out, r->err, r->report);
}

/* A number from the report ("key value" lines); fails if missing. */
static unsigned long long rep_num(const struct run *r, const char *key)
{
	const char *p = r->report;
	size_t kl = strlen(key);

	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoull(p + kl + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	dump("report", r);
	fail_msg("no '%s' in the report", key);
	return 0;
}

static bool rep_has(const struct run *r, const char *line)
{
	const char *p = strstr(r->report, line);

	return p && (p == r->report || p[-1] == '\n') &&
	       (p[strlen(line)] == '\n' || !p[strlen(line)]);
}

/* The report says the heap was in this state at exit. */
static void expect_state(const struct run *r, const char *state)
{
	char line[64];

	snprintf(line, sizeof(line), "state %s", state);
	if (!rep_has(r, line)) {
		dump("with the library", r);
		fail_msg("the report does not say '%s'", line);
	}
}

/* The same program with and without the library: same output, exit 0. */
static void same_output(struct rt_env *v, const char *const *extra,
			const char *script, const char *arg, struct run *with)
{
	struct run *plain = calloc(1, sizeof(*plain));

	assert_non_null(plain);
	run_py(v, false, extra, script, arg, plain);
	run_py(v, true, extra, script, arg, with);
	if (plain->status || with->status || strcmp(plain->out, with->out) ||
	    !with->out[0]) {
		dump("without the library", plain);
		dump("with the library", with);
		fail_msg("python3 under libfamrt_heap_preload.so differs");
	}
	free(plain);
}

static unsigned count_lines(const char *s, const char *needle)
{
	unsigned n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static const char *py_big =
	"import hashlib, sys\n"
	"n = int(sys.argv[1])\n"
	"a = list(range(n))\n"
	"b = bytearray(40 * 1024 * 1024)\n"
	"for i in range(0, len(b), 4093):\n"
	"    b[i] = i % 251\n"
	"h = hashlib.sha256(b).hexdigest()\n"
	"c = [x * 3 for x in a]\n"
	"d = b''.join(bytes([i % 256]) * 100000 for i in range(64))\n"
	"print(sum(c), h, len(d), hashlib.sha256(d).hexdigest())\n"
	"del a, c\n"
	"e = bytearray(b)\n"
	"e[5] = 77\n"
	"print(sum(e[::4093]), len(e))\n"
	"s = b.decode('latin-1')\n"
	"print(s.count('\\x00'), hashlib.md5(s.encode('latin-1')).hexdigest())\n";

static void test_python_big(void **state)
{
	struct rt_env *v = *state;
	const char *extra[] = { "FAMRT_HEAP_FILE=/pyheap", "FAMRT_HEAP_SIZE=256M",
				NULL };
	struct run *r = calloc(1, sizeof(*r));
	struct famrt_stat st;

	assert_non_null(r);
	same_output(v, extra, py_big, "3000000", r);
	if (!r->has_report || !rep_has(r, "state ready") ||
	    !rep_has(r, "file /pyheap")) {
		dump("with the library", r);
		fail_msg("the heap was not used");
	}
	/*
	 * The big objects: two 40 MiB bytearrays, a 40 MiB str, lists of
	 * 3,000,000 pointers (24 MiB each), 6.4 MB of joined bytes.
	 */
	assert_true(rep_num(r, "total_bytes") >= 4 * 40 * MiB);
	assert_true(rep_num(r, "nmalloc") >= 6);
	assert_int_equal(rep_num(r, "fallback_allocs"), 0);
	assert_int_equal(rep_num(r, "nfailed"), 0);
	assert_int_equal(rep_num(r, "threshold"), 65536);
	assert_int_equal(rep_num(r, "mapped"), 256 * MiB);
	assert_true(rep_num(r, "reserved") <= 256 * MiB);
	/* Nothing said on stderr. */
	assert_int_equal(count_lines(r->err, "famrt"), 0);
	/* The heap's file exists in the file system, at the size asked. */
	assert_int_equal(famrt_stat(v->c, "/pyheap", &st), 0);
	assert_int_equal(st.size, 256 * MiB);
	free(r);
}

/* Only requests at or above the threshold go to the heap. */
static void test_python_threshold(void **state)
{
	struct rt_env *v = *state;
	const char *extra[] = { "FAMRT_HEAP_FILE=/pyth-%p",
				"FAMRT_HEAP_THRESHOLD=32M",
				"FAMRT_HEAP_SIZE=96M", NULL };
	const char *small =
		"import sys\n"
		"k = [bytearray(1024 * 1024) for i in range(50)]\n"
		"for x in k:\n"
		"    x[-1] = 7\n"
		"print(sum(x[-1] for x in k))\n";
	const char *one_big =
		"b = bytearray(40 * 1024 * 1024)\n"
		"b[-1] = 9\n"
		"k = [bytearray(1024 * 1024) for i in range(20)]\n"
		"print(b[-1] + len(k))\n";
	struct run *r = calloc(1, sizeof(*r));
	char path[64];
	struct famrt_stat st;
	const char *f;

	assert_non_null(r);
	same_output(v, extra, small, "0", r);
	/* 50 MiB in 1 MiB blocks: all below 32 MiB, no heap at all. */
	if (!rep_has(r, "state unused")) {
		dump("small blocks", r);
		fail_msg("a heap was made for blocks below the threshold");
	}
	assert_int_equal(rep_num(r, "nmalloc"), 0);
	same_output(v, extra, one_big, "0", r);
	expect_state(r, "ready");
	assert_int_equal(rep_num(r, "threshold"), 32 * MiB);
	/*
	 * The one 40 MiB block (in jemalloc's next size class, 48 MiB),
	 * none of the twenty 1 MiB ones.
	 */
	assert_int_equal(rep_num(r, "nmalloc"), 1);
	assert_true(rep_num(r, "total_bytes") >= 40 * MiB);
	assert_true(rep_num(r, "total_bytes") <= 48 * MiB);
	/* %p became the process id. */
	f = strstr(r->report, "file /pyth-");
	assert_non_null(f);
	assert_int_equal(sscanf(f, "file %63s", path), 1);
	assert_true(strlen(path) > strlen("/pyth-"));
	assert_int_equal(famrt_stat(v->c, path, &st), 0);
	free(r);
}

/* No heap (file taken), a heap too small: correct output, one warning. */
static void test_python_fallback(void **state)
{
	struct rt_env *v = *state;
	const char *taken[] = { "FAMRT_HEAP_FILE=/taken", NULL };
	const char *tiny[] = { "FAMRT_HEAP_FILE=/tiny",
			       "FAMRT_HEAP_SIZE=4M", NULL };
	struct run *r = calloc(1, sizeof(*r));
	struct famrt_file *f;

	assert_non_null(r);
	assert_int_equal(famrt_create(v->c, "/taken", 0600, 4 * MiB, NULL,
				      &f),
			 0);
	assert_int_equal(famrt_close(f), 0);
	same_output(v, taken, py_big, "300000", r);
	expect_state(r, "failed");
	assert_int_equal(rep_num(r, "nmalloc"), 0);
	assert_true(rep_num(r, "fallback_allocs") == 0);
	if (count_lines(r->err, "famrt heap preload:") != 1 ||
	    !strstr(r->err, "/taken")) {
		dump("file taken", r);
		fail_msg("expected one warning naming /taken");
	}
	same_output(v, tiny, py_big, "300000", r);
	expect_state(r, "ready");
	assert_true(rep_num(r, "fallback_allocs") >= 1);
	assert_true(rep_num(r, "fallback_bytes") >= 40 * MiB);
	assert_true(rep_num(r, "nfailed") >= 1);
	if (count_lines(r->err, "famrt heap preload:") != 1 ||
	    !strstr(r->err, "full")) {
		dump("tiny heap", r);
		fail_msg("expected one warning saying the heap is full");
	}
	free(r);
}

/* Threads allocating big blocks at once; fork with a private child heap. */
static void test_python_threads_fork(void **state)
{
	struct rt_env *v = *state;
	const char *extra[] = { "FAMRT_HEAP_FILE=/pyfork",
				"FAMRT_HEAP_SIZE=128M", NULL };
	const char *threads =
		"import threading, hashlib\n"
		"res = [None] * 4\n"
		"def work(k):\n"
		"    out = []\n"
		"    for i in range(20):\n"
		"        b = bytearray((k + 1) * 1024 * 1024 + i)\n"
		"        b[i] = k\n"
		"        out.append(hashlib.sha1(b).hexdigest())\n"
		"        l = list(range(100000 + i))\n"
		"        del l\n"
		"    res[k] = hashlib.sha1(''.join(out).encode()).hexdigest()\n"
		"t = [threading.Thread(target=work, args=(k,)) for k in range(4)]\n"
		"for x in t: x.start()\n"
		"for x in t: x.join()\n"
		"print(res)\n";
	const char *forks =
		"import os\n"
		"b = bytearray(b'P' * (8 << 20))\n"
		"pid = os.fork()\n"
		"if pid == 0:\n"
		"    ok = b.count(b'P') == len(b)\n"
		"    b[:] = b'C' * len(b)\n"
		"    c = bytearray(16 << 20)\n"
		"    c[-1] = 1\n"
		"    os._exit(0 if ok and c[-1] == 1 else 3)\n"
		"_, st = os.waitpid(pid, 0)\n"
		"c = bytearray(b'Q' * (4 << 20))\n"
		"print(os.waitstatus_to_exitcode(st), b.count(b'P') == len(b),\n"
		"      c.count(b'Q'))\n";
	const char *fork_extra[] = { "FAMRT_HEAP_FILE=/pyfork2",
				     "FAMRT_HEAP_SIZE=128M", NULL };
	struct run *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	same_output(v, extra, threads, "0", r);
	expect_state(r, "ready");
	assert_true(rep_num(r, "nmalloc") >= 80);
	assert_int_equal(rep_num(r, "fallback_allocs"), 0);
	same_output(v, fork_extra, forks, "0", r);
	assert_non_null(strstr(r->out, "0 True 4194304"));
	expect_state(r, "ready");
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_python_big, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_python_threshold, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_python_fallback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_python_threads_fork, setup,
						teardown),
	};

	if (access(python, X_OK)) {
		fprintf(stderr, "%s is not installed: skipping\n", python);
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}

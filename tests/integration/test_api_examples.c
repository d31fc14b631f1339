/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The examples of docs/api.md cannot rot:
 * - every program in docs/examples/api/ appears in docs/api.md, byte for
 *   byte, and every example block of the page is one of those files;
 * - each builds with the C compiler against the public headers alone
 *   (include/, the installed layout) and libfamrt.so, warnings as errors,
 *   -std=c11 -pedantic;
 * - each runs against a real famrtd (two, for the example that passes a
 *   message between hosts) and prints what this test computes itself;
 * - the build instructions work: after `cmake --install` into a scratch
 *   prefix, an example builds with the flags pkg-config gives and with a
 *   CMake project that uses find_package(famrt) and famrt::famrt, and runs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "famrtd_harness.h"

/* From CMake: EX_CC, EX_CFLAGS, EX_LIBDIR, EX_INSTALL_LIBDIR, EX_CMAKE,
 * EX_PKG_CONFIG. */

#define DATA_SIZE 300000u

static const char *const examples[] = { "hello",   "copy_in", "cat",
					"mapsum",  "threads", "share",
					"layout" };
#define NEX (sizeof(examples) / sizeof(examples[0]))

static struct {
	struct h_fs fs;
	struct h_famrtd a, b;    /* master, follower */
	char tmp[64];
	char src[512];
	uint8_t data[DATA_SIZE];
	bool built;
} S;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			if (len)
				*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

/*
 * Run a shell command; its standard output goes to out (cap bytes, NUL
 * terminated), its standard error to the test's. Returns the exit status
 * (or 128 + signal).
 */
__attribute__((format(printf, 3, 4))) static int run(char *out, size_t cap,
						    const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	size_t n = 0;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (out && cap) {
		n = fread(out, 1, cap - 1, p);
		out[n] = '\0';
	}
	{
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	st = pclose(p);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int setup(void **state)
{
	const char *src = getenv("FAMRT_SRC_DIR");
	uint64_t s = 12345;
	char path[128];
	int fd;

	(void)state;
	if (!src)
		return -1;
	snprintf(S.src, sizeof(S.src), "%s", src);
	snprintf(S.tmp, sizeof(S.tmp), "/tmp/famrt-examples.XXXXXX");
	if (!mkdtemp(S.tmp))
		return -1;
	for (size_t i = 0; i < DATA_SIZE; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		S.data[i] = (uint8_t)(s >> 56);
	}
	snprintf(path, sizeof(path), "%s/data.bin", S.tmp);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, S.data, DATA_SIZE) != DATA_SIZE)
		return -1;
	close(fd);
	if (h_fs_make(&S.fs, 2, 64u << 20, "host-a"))
		return -1;
	if (h_famrtd_start(&S.a, &S.fs, "master", "host-a", NULL) ||
	    h_famrtd_start(&S.b, &S.fs, "follower", "host-b", NULL))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char out[16];

	(void)state;
	h_famrtd_kill(&S.a);
	h_famrtd_kill(&S.b);
	h_fs_remove(&S.fs);
	if (S.tmp[0])
		run(out, sizeof(out), "rm -rf '%s'", S.tmp);
	return 0;
}

/* The page shows each example file exactly, and nothing else. */
static void test_doc_matches_files(void **state)
{
	char path[640], *doc, *p;
	int seen[NEX] = { 0 };
	size_t nblocks = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/docs/api.md", S.src);
	doc = slurp(path, NULL);
	assert_non_null(doc);
	for (p = doc; (p = strstr(p, "<!-- example: ")); nblocks++) {
		char name[64], *code, *fence, *end;
		size_t i;

		p += strlen("<!-- example: ");
		i = strcspn(p, " ");
		assert_true(i < sizeof(name));
		memcpy(name, p, i);
		name[i] = '\0';
		fence = strstr(p, "-->\n```c\n");
		assert_non_null(fence);
		fence += strlen("-->\n```c\n");
		end = strstr(fence, "\n```\n");
		assert_non_null(end);
		snprintf(path, sizeof(path), "%s/docs/examples/api/%s", S.src,
			 name);
		code = slurp(path, NULL);
		if (!code)
			fail_msg("api.md shows %s, which is not a file in "
				 "docs/examples/api/",
				 name);
		if (strlen(code) != (size_t)(end + 1 - fence) ||
		    memcmp(code, fence, strlen(code)))
			fail_msg("the %s block in api.md differs from "
				 "docs/examples/api/%s",
				 name, name);
		for (i = 0; i < NEX; i++)
			if (strlen(name) == strlen(examples[i]) + 2 &&
			    !strncmp(name, examples[i], strlen(examples[i])))
				seen[i]++;
		free(code);
		p = end;
	}
	free(doc);
	for (size_t i = 0; i < NEX; i++)
		if (seen[i] != 1)
			fail_msg("%s.c is shown %d times in api.md",
				 examples[i], seen[i]);
	/* And every program in the directory is one of them. */
	{
		DIR *d;
		struct dirent *de;
		size_t nfiles = 0;

		snprintf(path, sizeof(path), "%s/docs/examples/api", S.src);
		d = opendir(path);
		assert_non_null(d);
		while ((de = readdir(d)))
			if (strstr(de->d_name, ".c"))
				nfiles++;
		closedir(d);
		assert_int_equal(nfiles, NEX);
	}
	assert_int_equal(nblocks, NEX);
}

/* Public headers only, the shared library, strict C11. */
static void test_build(void **state)
{
	char out[4096];

	(void)state;
	for (size_t i = 0; i < NEX; i++) {
		int rc = run(out, sizeof(out),
			     "%s -std=c11 -Wall -Wextra -Werror -pedantic "
			     "%s -I'%s/include' '%s/docs/examples/api/%s.c' "
			     "-o '%s/%s' -L'%s' -Wl,-rpath,'%s' -lfamrt "
			     "-pthread 2>&1",
			     EX_CC, EX_CFLAGS, S.src, S.src, examples[i], S.tmp,
			     examples[i], EX_LIBDIR, EX_LIBDIR);

		if (rc)
			fail_msg("%s.c does not build:\n%s", examples[i], out);
	}
	S.built = true;
}

#define EXPECT_RUN(want_rc, out, ...)                                        \
	do {                                                                 \
		int rc_ = run(out, sizeof(out), __VA_ARGS__);                \
		if (rc_ != (want_rc))                                        \
			fail_msg("exit %d, expected %d; output:\n%s", rc_,   \
				 (want_rc), out);                            \
	} while (0)

static void test_run(void **state)
{
	static char out[DATA_SIZE + 1024];
	char want[256], path[128];
	uint64_t sum = 0;
	char *got;
	size_t n;

	(void)state;
	if (!S.built)
		skip();
	if (setenv("FAMRT_SOCKET", S.a.socket, 1))
		fail();
	/* hello */
	EXPECT_RUN(0, out, "'%s/hello' /greeting", S.tmp);
	assert_string_equal(out, "/greeting is 4096 bytes and starts with: "
				 "hello, fabric memory\n");
	/* Its error path: the message says what and where (leaks on the
	 * way out are the example's business, not LeakSanitizer's). */
	EXPECT_RUN(1, out,
		   "ASAN_OPTIONS=detect_leaks=0 '%s/hello' /greeting 2>&1",
		   S.tmp);
	assert_non_null(strstr(out, "File exists"));
	assert_non_null(strstr(out, "/greeting"));
	/* copy_in, then cat gives the bytes back */
	EXPECT_RUN(0, out, "'%s/copy_in' /data < '%s/data.bin'", S.tmp, S.tmp);
	snprintf(want, sizeof(want), "/data: %u bytes\n", DATA_SIZE);
	assert_string_equal(out, want);
	EXPECT_RUN(0, out, "'%s/cat' /data > '%s/cat.out'", S.tmp, S.tmp);
	snprintf(path, sizeof(path), "%s/cat.out", S.tmp);
	got = slurp(path, &n);
	assert_non_null(got);
	assert_int_equal(n, DATA_SIZE);
	assert_memory_equal(got, S.data, DATA_SIZE);
	free(got);
	EXPECT_RUN(1, out,
		   "ASAN_OPTIONS=detect_leaks=0 '%s/cat' /missing 2>&1",
		   S.tmp);
	assert_non_null(strstr(out, "/missing"));
	/* mapsum, whole and a range */
	EXPECT_RUN(0, out, "'%s/mapsum' /data", S.tmp);
	snprintf(want, sizeof(want), "%016" PRIx64 " %u\n",
		 fnv1a(S.data, DATA_SIZE), DATA_SIZE);
	assert_string_equal(out, want);
	EXPECT_RUN(0, out, "'%s/mapsum' /data 1000 5000", S.tmp);
	snprintf(want, sizeof(want), "%016" PRIx64 " 5000\n",
		 fnv1a(S.data + 1000, 5000));
	assert_string_equal(out, want);
	/* threads */
	for (size_t i = 0; i < DATA_SIZE; i++)
		sum += S.data[i];
	EXPECT_RUN(0, out, "'%s/threads' /data 5", S.tmp);
	snprintf(want, sizeof(want), "%u bytes, byte sum %" PRIu64 "\n",
		 DATA_SIZE, sum);
	assert_string_equal(out, want);
	/* layout: interleaved over both devices */
	EXPECT_RUN(0, out, "'%s/layout' /ilv 10000000", S.tmp);
	assert_non_null(strstr(out, "file system: 2 devices, unit 2097152"));
	assert_non_null(strstr(out, "interleaved over 2 strips, chunk "
				    "2097152"));
	assert_non_null(strstr(out, "  strip 1: device 1 "));
	assert_non_null(strstr(out, "last byte: device "));
}

/* share: a message from the master's host to the follower's and back. */
static void test_share_between_hosts(void **state)
{
	char out[512];

	(void)state;
	if (!S.built)
		skip();
	EXPECT_RUN(0, out, "FAMRT_SOCKET='%s' '%s/share' put /greeting "
			   "'from host a'",
		   S.a.socket, S.tmp);
	EXPECT_RUN(0, out, "FAMRT_SOCKET='%s' '%s/share' get /greeting",
		   S.b.socket, S.tmp);
	assert_string_equal(out, "from host a\n");
	EXPECT_RUN(0, out, "FAMRT_SOCKET='%s' '%s/share' put /greeting "
			   "'and back from host b'",
		   S.b.socket, S.tmp);
	EXPECT_RUN(0, out, "FAMRT_SOCKET='%s' '%s/share' get /greeting",
		   S.a.socket, S.tmp);
	assert_string_equal(out, "and back from host b\n");
	/* Creating is the master's: hello on the follower is refused. */
	EXPECT_RUN(1, out,
		   "ASAN_OPTIONS=detect_leaks=0 FAMRT_SOCKET='%s' "
		   "'%s/hello' /other 2>&1",
		   S.b.socket, S.tmp);
	assert_non_null(strstr(out, "host-a"));
}

/* What "Building against libfamrt" says, done. */
static void test_installed_package(void **state)
{
	static char out[65536];
	char prefix[128], flags[1024], cm[256];
	FILE *f;
	size_t n;

	(void)state;
	snprintf(prefix, sizeof(prefix), "%s/prefix", S.tmp);
	EXPECT_RUN(0, out, "'%s' --install '%s' --prefix '%s' 2>&1", EX_CMAKE,
		   getenv("FAMRT_BIN_DIR"), prefix);
	/* The installed headers are include/famrt/, no more, no less. */
	EXPECT_RUN(0, out, "diff -r '%s/include/famrt' '%s/include/famrt' 2>&1",
		   S.src, prefix);

	/* pkg-config, from the installed .pc alone */
	EXPECT_RUN(0, flags,
		   "PKG_CONFIG_PATH='%s/%s/pkgconfig' '%s' --cflags --libs famrt",
		   prefix, EX_INSTALL_LIBDIR, EX_PKG_CONFIG);
	assert_non_null(strstr(flags, prefix));
	n = strlen(flags);
	while (n && flags[n - 1] == '\n')
		flags[--n] = '\0';
	assert_non_null(strstr(flags, "-lfamrt"));
	EXPECT_RUN(0, out,
		   "%s -std=c11 -Wall -Wextra -Werror %s "
		   "'%s/docs/examples/api/hello.c' -o '%s/hello-pc' %s "
		   "-Wl,-rpath,'%s/%s' 2>&1",
		   EX_CC, EX_CFLAGS, S.src, S.tmp, flags, prefix,
		   EX_INSTALL_LIBDIR);
	EXPECT_RUN(0, out, "FAMRT_SOCKET='%s' '%s/hello-pc' /via-pkg-config",
		   S.a.socket, S.tmp);
	assert_non_null(strstr(out, "/via-pkg-config is 4096 bytes"));
	/* The binary uses the installed library. */
	EXPECT_RUN(0, out, "ldd '%s/hello-pc' | grep libfamrt", S.tmp);
	assert_non_null(strstr(out, prefix));

	/* CMake: find_package(famrt) and famrt::famrt */
	snprintf(cm, sizeof(cm), "%s/consumer/CMakeLists.txt", S.tmp);
	EXPECT_RUN(0, out, "mkdir -p '%s/consumer'", S.tmp);
	f = fopen(cm, "w");
	assert_non_null(f);
	fprintf(f,
		"cmake_minimum_required(VERSION 3.16)\n"
		"project(consumer C)\n"
		"find_package(famrt 0.1 REQUIRED)\n"
		"add_executable(hello %s/docs/examples/api/hello.c)\n"
		"target_link_libraries(hello PRIVATE famrt::famrt)\n",
		S.src);
	fclose(f);
	EXPECT_RUN(0, out,
		   "'%s' -S '%s/consumer' -B '%s/consumer/build' "
		   "-DCMAKE_PREFIX_PATH='%s' -DCMAKE_C_COMPILER='%s' "
		   "-DCMAKE_C_FLAGS='%s' -DCMAKE_EXE_LINKER_FLAGS='%s' 2>&1 && "
		   "'%s' --build '%s/consumer/build' 2>&1",
		   EX_CMAKE, S.tmp, S.tmp, prefix, EX_CC, EX_CFLAGS, EX_CFLAGS,
		   EX_CMAKE, S.tmp);
	EXPECT_RUN(0, out,
		   "FAMRT_SOCKET='%s' '%s/consumer/build/hello' /via-cmake",
		   S.a.socket, S.tmp);
	assert_non_null(strstr(out, "/via-cmake is 4096 bytes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_matches_files),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_share_between_hosts),
		cmocka_unit_test(test_installed_package),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

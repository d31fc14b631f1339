/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What users of an installed famrt get: `cmake --install` into a fresh
 * prefix, then a program built against it with pkg-config and with
 * find_package(famrt), and run.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char prefix[] = "/tmp/famrt-install.XXXXXX";

static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st)
		fprintf(stderr, "command failed (%d): %s\n", st, cmd);
	return st;
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(prefix))
		return -1;
	return sh("cmake --install '%s' --prefix '%s' >'%s/install.log' 2>&1",
		  getenv("FAMRT_BIN_DIR"), prefix, prefix);
}

static int teardown(void **state)
{
	(void)state;
	return sh("rm -rf '%s'", prefix);
}

static void test_layout(void **state)
{
	(void)state;
	assert_int_equal(sh("test -f '%s/include/famrt/famrt.h' && "
			    "test -f '%s/include/famrt/fmap.h' && "
			    "test -f '%s/include/famrt/common.h'",
			    prefix, prefix, prefix),
			 0);
	assert_int_equal(sh("ls '%s'/lib*/libfamrt.so.0 '%s'/lib*/libfamrt_preload.so "
			    "'%s'/lib*/pkgconfig/famrt.pc "
			    "'%s'/lib*/cmake/famrt/famrtConfig.cmake >/dev/null",
			    prefix, prefix, prefix, prefix),
			 0);
	assert_int_equal(sh("test -x '%s/bin/famrt' && test -x '%s/sbin/famrtd'",
			    prefix, prefix),
			 0);
	/*
	 * The systemd units run the famrtd that was installed, and name
	 * documentation that was installed.
	 */
	for (int i = 0; i < 2; i++) {
		const char *unit = i ? "famrtd@.service" : "famrtd.service";

		assert_int_equal(
			sh("u='%s/lib/systemd/system/%s' && test -f \"$u\" && "
			   "exe=$(sed -n 's/^ExecStart=\\([^ ]*\\).*/\\1/p' "
			   "\"$u\") && test \"$exe\" = '%s/sbin/famrtd' && "
			   "test -x \"$exe\" && "
			   "doc=$(sed -n 's|^Documentation=file:||p' \"$u\") && "
			   "test -f \"$doc\"",
			   prefix, unit, prefix),
			0);
	}
	/* Nothing but include/famrt/ is installed as a header. */
	assert_int_equal(sh("test -z \"$(find '%s/include' -name '*.h' -not -path "
			    "'*/include/famrt/*')\"",
			    prefix),
			 0);
}

static void test_pkg_config(void **state)
{
	(void)state;
	assert_int_equal(
		sh("cd '%s' && PKG_CONFIG_PATH=$(echo %s/lib*/pkgconfig) "
		   "cc -Wall -Werror -o consumer-pc '%s/tests/install/consumer.c' "
		   "$(PKG_CONFIG_PATH=$(echo %s/lib*/pkgconfig) pkg-config "
		   "--cflags --libs famrt) && "
		   "LD_LIBRARY_PATH=$(echo %s/lib*) ./consumer-pc | grep -q '^ok'",
		   prefix, prefix, getenv("FAMRT_SRC_DIR"), prefix, prefix),
		0);
}

static void test_find_package(void **state)
{
	(void)state;
	assert_int_equal(
		sh("mkdir -p '%s/c' && cp '%s/tests/install/consumer.c' '%s/c/' && "
		   "cp '%s/tests/install/CMakeLists.txt.in' '%s/c/CMakeLists.txt' && "
		   "cmake -S '%s/c' -B '%s/c/b' -DCMAKE_PREFIX_PATH='%s' "
		   ">'%s/c.log' 2>&1 && cmake --build '%s/c/b' >>'%s/c.log' 2>&1 && "
		   "LD_LIBRARY_PATH=$(echo %s/lib*) '%s/c/b/consumer' | grep -q '^ok'",
		   prefix, getenv("FAMRT_SRC_DIR"), prefix,
		   getenv("FAMRT_SRC_DIR"), prefix, prefix, prefix, prefix,
		   prefix, prefix, prefix, prefix, prefix),
		0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_pkg_config),
		cmocka_unit_test(test_find_package),
	};

	if (!getenv("FAMRT_BIN_DIR") || !getenv("FAMRT_SRC_DIR"))
		return 77;
	return cmocka_run_group_tests(tests, setup, teardown);
}

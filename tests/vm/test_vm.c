/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM tests under ctest: runs tests/vm/run-vm.sh VM_SCENARIO (one, two
 * or bench: see that script and docs/testing.md) on this build tree, passing its
 * output through, and checks that it passed: exit status 0, a PASS result
 * line from every guest it boots, and the final PASS line. A missing qemu,
 * a guest build that fails, a hang, a panic or a failed check in a guest
 * all fail the test; nothing is skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#ifndef VM_SCENARIO
#error "VM_SCENARIO must name the scenario (one, two, bench)"
#endif

/* The guests each scenario boots, and the mode each one runs. */
static const char *const guests_one[] = {
	"one: FAMRT-VM-RESULT: PASS scenario=one ",
	NULL
};
static const char *const guests_bench[] = {
	"bench: FAMRT-VM-RESULT: PASS scenario=bench ",
	NULL
};
static const char *const guests_two[] = {
	"prep: FAMRT-VM-RESULT: PASS scenario=prep ",
	"A: FAMRT-VM-RESULT: PASS scenario=master ",
	"B: FAMRT-VM-RESULT: PASS scenario=follower ",
	NULL
};

static void test_scenario(void **state)
{
	const char *bin = getenv("FAMRT_BIN_DIR");
	const char *src = getenv("FAMRT_SRC_DIR");
	const char *const *guests = !strcmp(VM_SCENARIO, "two") ? guests_two :
				    !strcmp(VM_SCENARIO, "bench") ? guests_bench :
								    guests_one;
	bool seen[4] = { false }, final_pass = false;
	char script[4096], line[8192];
	int pfd[2], status;
	FILE *out;
	pid_t pid;

	(void)state;
	assert_non_null(bin);
	assert_non_null(src);
	snprintf(script, sizeof(script), "%s/tests/vm/run-vm.sh", src);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execl("/bin/bash", "bash", script, VM_SCENARIO, bin,
		      (char *)NULL);
		fprintf(stderr, "test_vm: cannot run %s: %s\n", script,
			strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	out = fdopen(pfd[0], "r");
	assert_non_null(out);
	while (fgets(line, sizeof(line), out)) {
		fputs(line, stdout);
		fflush(stdout);
		for (int i = 0; guests[i]; i++) {
			static const char pre[] = "run-vm: guest ";

			if (!strncmp(line, pre, sizeof(pre) - 1) &&
			    !strncmp(line + sizeof(pre) - 1, guests[i],
				     strlen(guests[i])))
				seen[i] = true;
		}
		if (!strcmp(line, "run-vm: PASS scenario=" VM_SCENARIO "\n"))
			final_pass = true;
	}
	fclose(out);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	for (int i = 0; guests[i]; i++) {
		if (!seen[i])
			fprintf(stderr, "test_vm: no result line 'run-vm: guest "
				"%s...'\n", guests[i]);
		assert_true(seen[i]);
	}
	assert_true(final_pass);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenario),
	};

	return cmocka_run_group_tests_name("vm_" VM_SCENARIO, tests, NULL,
					   NULL);
}

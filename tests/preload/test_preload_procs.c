/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Processes and descriptors under libfamrt_preload.so: threads reading one
 * famrt file, a descriptor handed to a program started with fork + exec or
 * posix_spawn, the shell redirecting input from famrt and output into it,
 * programs touching no famrt file (identical with and without the shim),
 * and the errors of what famrt does not do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <famrt/famrt.h>

#include "famrtd_harness.h"
#include "pl_util.h"

#ifndef PL_HELPER_DIR
#error PL_HELPER_DIR must name the directory of pl_mtread and pl_forkexec
#endif



static void t_threads(void **state)
{
	struct pl *p = *state;
	static const char *const files[] = { "big", "inter", "p4097" };
	char real[512];

	for (size_t i = 0; i < 3; i++) {
		char fpath[64];
		struct pl_res r;
		unsigned long long n = 0;

		snprintf(fpath, sizeof(fpath), "%s/%s", PL_MOUNT, files[i]);
		pl_base_path(p, files[i], real, sizeof(real));
		assert_int_equal(pl_run(p, true, (const char *const[]){
			PL_HELPER_DIR "/pl_mtread", fpath, real, "8", "1500",
			NULL }, NULL, 0, &r), 0);
		if (r.status || sscanf(r.out, "ok %llu", &n) != 1) {
			pl_res_dump("pl_mtread", &r);
			fail_msg("8 threads reading %s", fpath);
		}
		/* It did read (not a famrt file passed over silently). */
		assert_true(n > 1000);
		pl_res_free(&r);
	}
}

/*
 * The shim re-entered from a signal handler on the file being read, and
 * children forked while another thread is inside the shim: nothing hangs,
 * every read that succeeds is right (pl_reenter.c).
 */
static void t_reenter(void **state)
{
	struct pl *p = *state;
	char fpath[64], real[512];
	struct pl_res r;
	int reads = 0, hreads = 0, hdeadlk = 0, forks = 0;

	snprintf(fpath, sizeof(fpath), "%s/%s", PL_MOUNT, "big");
	pl_base_path(p, "big", real, sizeof(real));
	assert_int_equal(pl_run(p, true, (const char *const[]){
		PL_HELPER_DIR "/pl_reenter", fpath, real, "4", NULL },
		NULL, 0, &r), 0);
	if (r.status || sscanf(r.out, "ok reads %d handler_reads %d "
				      "handler_edeadlk %d forks %d",
			       &reads, &hreads, &hdeadlk, &forks) != 4) {
		pl_res_dump("pl_reenter", &r);
		fail_msg("signals and forks inside the shim");
	}
	print_message("pl_reenter: %d reads, %d in the handler (%d refused "
		      "with EDEADLK), %d forks\n",
		      reads, hreads, hdeadlk, forks);
	assert_true(reads > 1000);
	assert_true(hreads > 100);
	assert_true(forks > 10);
	pl_res_free(&r);
}

/*
 * A library's constructor reads a famrt file before the shim's own
 * constructor has run (the loader starts the program's libraries first):
 * same bytes as from main, same output as on the baseline file.
 */
static void t_early(void **state)
{
	struct pl *p = *state;

	PL_SAME(p, 0, 0, PL_HELPER_DIR "/pl_early", "@R@/rnd");
	PL_SAME(p, 0, 0, PL_HELPER_DIR "/pl_early", "@R@/inter");
}

/*
 * Two file systems in one process: FAMRT_MOUNT with a second prefix
 * naming another famrtd's socket (PREFIX=SPEC). A file written under the
 * second prefix lands in the second file system and not in the first,
 * and one program reads from both.
 */
static void t_two_fs(void **state)
{
	struct pl *p = *state;
	struct famrt_connect_opts co = { .size = sizeof(co) };
	struct h_fs fs2 = { 0 };
	struct h_famrtd d2 = { 0 };
	struct famrt *c2 = NULL;
	struct famrt_stat st;
	struct pl_res r;
	char cmd[1024], want[512];
	FILE *f;
	char line[256] = "";
	char real[512];

	assert_int_equal(h_fs_make(&fs2, 1, 64u << 20, "host-a"), 0);
	assert_int_equal(h_famrtd_start(&d2, &fs2, "second", "host-a", NULL),
			 0);
	/* The first line of "text" on the first file system, for reference. */
	pl_base_path(p, "text", real, sizeof(real));
	f = fopen(real, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	snprintf(want, sizeof(want), "written to the second\n%s", line);
	snprintf(cmd, sizeof(cmd),
		 "FAMRT_MOUNT='%s:/second=%s' sh -c "
		 "'echo written to the second > /second/f2 && cat /second/f2 "
		 "&& head -n 1 %s/text'",
		 PL_MOUNT, d2.socket, PL_MOUNT);
	assert_int_equal(pl_run(p, true, (const char *const[]){ "sh", "-c",
								 cmd, NULL },
				NULL, 0, &r), 0);
	if (r.status || strcmp(r.out, want)) {
		pl_res_dump("two file systems", &r);
		fail_msg("expected '%s'", want);
	}
	pl_res_free(&r);
	co.socket = d2.socket;
	assert_int_equal(famrt_connect(&c2, &co), 0);
	assert_int_equal(famrt_stat(c2, "/f2", &st), 0);
	assert_int_equal(st.size, strlen("written to the second\n"));
	assert_int_equal(famrt_stat(p->c, "/f2", &st), -ENOENT);
	famrt_disconnect(c2);
	assert_int_equal(h_famrtd_stop(&d2), 0);
	h_fs_remove(&fs2);
}

/* The calls no real program of the tests makes (pl_calls.c). */
static void t_calls(void **state)
{
	struct pl *p = *state;

	PL_SAME(p, 0, 0, PL_HELPER_DIR "/pl_calls", "@R@/big", "@R@");
	PL_SAME(p, 0, 0, PL_HELPER_DIR "/pl_calls", "@R@/inter", "@R@");
}

static void t_fork_exec(void **state)
{
	struct pl *p = *state;

	PL_SAME(p, 0, 0, PL_HELPER_DIR "/pl_forkexec", "@R@/rnd", "12345");
	PL_SAME(p, 0, 0, PL_HELPER_DIR "/pl_forkexec", "@R@/inter", "5242000");
	PL_SAME(p, 0, 0, PL_HELPER_DIR "/pl_forkexec", "@R@/p4097", "0");
	/* From a shell: it opens and reads a little, programs it starts
	 * go on from its offset. (Offsets are per process after that: a
	 * program's reads do not move the shell's; docs/preload.md.) */
	pl_same_sh(p, 0, PL_BIN,
		   "exec 7< @R@/big && dd bs=4k skip=100 count=3 status=none "
		   "<&7");
	pl_same_sh(p, 0, 0,
		   "exec 7< @R@/text && read -r x <&7 && read -r y <&7 && "
		   "echo \"$y\" && head -n 3 <&7");
}

static void t_stdio(void **state)
{
	struct pl *p = *state;

	PL_SAME(p, 0, 0, PL_HELPER_DIR "/pl_stdio", "@R@");
	pl_same_file(p, "stdio_w");
	pl_same_file(p, "stdio_out");
}

/*
 * A file being created is private to its creator until committed: it
 * stats it by path, another process does not see it; closing commits it.
 */
static void t_private(void **state)
{
	struct pl *p = *state;
	struct pl_res r;

	assert_int_equal(pl_sh(p, true, &r,
		"exec 3> %s/priv && echo abc >&3 && "
		"test -e %s/priv && echo seen-by-creator; "
		"sh -c 'test -e %s/priv' && echo seen-by-child || "
		"echo not-seen-by-child; "
		"stat -c %%s %s/priv 2>/dev/null || echo no-size-for-child; "
		"exec 3>&- && stat -c %%s %s/priv",
		PL_MOUNT, PL_MOUNT, PL_MOUNT, PL_MOUNT, PL_MOUNT), 0);
	if (r.status)
		pl_res_dump("private", &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "seen-by-creator\nnot-seen-by-child\n"
				   "no-size-for-child\n4\n");
	pl_res_free(&r);
}

/* A famrt current directory, and real files reached relative to it. */
static void t_cwd(void **state)
{
	struct pl *p = *state;
	char victim[512];
	struct pl_res r;

	assert_int_equal(pl_base_put(p, "victim", "gone soon\n", 10, 0644), 0);
	pl_base_path(p, "victim", victim, sizeof(victim));
	assert_int_equal(pl_sh(p, true, &r,
			       "cd %s/tree && cat ../..%s && rm ../..%s && "
			       "ls a && pwd", PL_MOUNT, victim, victim), 0);
	if (r.status)
		pl_res_dump("cwd", &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "gone soon\nb\nx.txt\n" PL_MOUNT "/tree\n");
	pl_res_free(&r);
	assert_int_equal(access(victim, F_OK), -1);
	pl_same_sh(p, 0, 0, "cd @R@/tree/e/f && ls -R ../.. | head -n 5 && "
			    "cat ../../top.txt | wc -l && find .. -type f");
}

static void t_shell_in(void **state)
{
	struct pl *p = *state;

	pl_same_sh(p, 0, 0, "cat < @R@/text");
	pl_same_sh(p, 0, PL_BIN, "cat < @R@/inter");
	pl_same_sh(p, 0, 0, "wc -l < @R@/text");
	pl_same_sh(p, 0, 0, "while read a b c; do echo $b; done "
			    "< @R@/tree/c/z.txt");
	pl_same_sh(p, 0, 0, "read x < @R@/text && echo \"$x\"");
	/* Programs reading stdin through stdio. */
	pl_same_sh(p, 0, 0, "sha256sum < @R@/rnd");
	pl_same_sh(p, 0, 0, "sort -k3 < @R@/text | head -n 20");
	pl_same_sh(p, 0, 0, "cat @R@/text | grep -c needle");
	pl_same_sh(p, 1, 0, "cat < @R@/tree/a");
	pl_same_sh(p, 2, 0, "cat < @R@/missing");
}

static void t_shell_out(void **state)
{
	struct pl *p = *state;
	static const struct {
		const char *name, *cmd;
	} c[] = {
		{ "o_echo", "echo x > @R@/o_echo" },
		{ "o_printf", "printf 'a\\nb\\n%%s\\n' c > @R@/o_printf" },
		{ "o_group", "{ echo a; echo b; } > @R@/o_group" },
		{ "o_exec", "exec > @R@/o_exec; echo 1; echo 2" },
		{ "o_cat", "cat @R@/text > @R@/o_cat" },
		{ "o_sort", "sort @R@/tree/a/x.txt > @R@/o_sort" },
		{ "o_pipe", "grep needle @R@/text | sort -r > @R@/o_pipe" },
		{ "o_ls", "ls -1 @R@/tree > @R@/o_ls" },
		{ "o_empty", ": > @R@/o_empty" },
		{ "o_true", "true > @R@/o_true" },
		{ "o_err", "sh -c 'echo oops >&2; exit 3' 2> @R@/o_err; true" },
		{ "o_both", "sh -c 'echo out; echo err >&2' > @R@/o_both 2>&1" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		pl_same_sh(p, 0, 0, c[i].cmd);
		pl_same_file(p, c[i].name);
	}
	if (pl_need("bash", "bash redirections")) {
		PL_SAME(p, 0, 0, "bash", "-c", "echo hello > @R@/o_bash_echo");
		pl_same_file(p, "o_bash_echo");
		PL_SAME(p, 0, 0, "bash", "-c", "sort @R@/text > @R@/o_bash_sort");
		pl_same_file(p, "o_bash_sort");
		PL_SAME(p, 0, 0, "bash", "-c",
			"for i in 1 2 3; do printf '%s\\n' $i; done "
			"> @R@/o_bash_loop");
		pl_same_file(p, "o_bash_loop");
		/* The program closes the file without touching it: still
		 * made (empty), as the shell's open would have made it. */
		PL_SAME(p, 0, 0, "bash", "-c",
			"sh -c 'exec 1>&-' > @R@/o_bash_closed");
		pl_same_file(p, "o_bash_closed");
		/* Written before the exec, then by the program. */
		PL_SAME(p, 0, 0, "bash", "-c",
			"exec > @R@/o_bash_carry; echo first; "
			"exec head -n 3 @R@/text");
		pl_same_file(p, "o_bash_carry");
	}
}

/* Identical stdout, stderr and exit status with and without the shim. */
static void untouched(struct pl *p, const char *const *argv)
{
	struct pl_res a, b;

	assert_int_equal(pl_run(p, true, argv, "in\n", 3, &a), 0);
	assert_int_equal(pl_run(p, false, argv, "in\n", 3, &b), 0);
	if (a.status != b.status || a.out_len != b.out_len ||
	    memcmp(a.out, b.out, a.out_len) || a.err_len != b.err_len ||
	    memcmp(a.err, b.err, a.err_len)) {
		pl_res_dump("with the shim", &a);
		pl_res_dump("without", &b);
		fail_msg("%s behaves differently under the shim", argv[0]);
	}
	pl_res_free(&a);
	pl_res_free(&b);
}

static void t_untouched(void **state)
{
	struct pl *p = *state;
	char text[512], tree[512];

	pl_base_path(p, "text", text, sizeof(text));
	pl_base_path(p, "tree", tree, sizeof(tree));
	untouched(p, (const char *const[]){ "ls", "-l", "/etc", NULL });
	untouched(p, (const char *const[]){ "ls", "-lR", tree, NULL });
	untouched(p, (const char *const[]){ "sort", "-r", text, NULL });
	untouched(p, (const char *const[]){ "cat", "/nonexistent/file", NULL });
	untouched(p, (const char *const[]){ "find", tree, "-type", "f",
					    NULL });
	untouched(p, (const char *const[]){ "sh", "-c",
		"cat; echo out; echo err >&2; cd /tmp && pwd; exit 4", NULL });
	untouched(p, (const char *const[]){ "sh", "-c",
		"stat -c '%n %s %a' /etc/passwd /famrtnot /famr 2>&1", NULL });
	if (pl_need("python3", "python3 without famrt files")) {
		untouched(p, (const char *const[]){ "python3", "-c",
			"import os, sys\n"
			"print(sorted(os.listdir('/etc'))[:5])\n"
			"print(sys.stdin.read())\n"
			"sys.stderr.write('err\\n')\n"
			"sys.exit(3)\n", NULL });
	}
}

/* Run under the shim; check the status and that stderr says `msg`. */
static void fails_with(struct pl *p, const char *cmd, int want,
		       const char *msg)
{
	struct pl_res r;
	char *c = pl_expand(cmd, PL_MOUNT);

	assert_int_equal(pl_sh(p, true, &r, "%s", c), 0);
	if (r.status != want || !strstr(r.err, msg)) {
		pl_res_dump(c, &r);
		fail_msg("'%s': exit %d and a message with '%s' expected", c,
			 want, msg);
	}
	pl_res_free(&r);
	free(c);
}

static void t_errors(void **state)
{
	struct pl *p = *state;
	char cmd[1024], real[512];

	/* Removing and renaming: not supported, and nothing changes. */
	fails_with(p, "rm @R@/text", 1, "Operation not supported");
	fails_with(p, "rm -f @R@/tree/a/x.txt", 1, "Operation not supported");
	fails_with(p, "rmdir @R@/tree/d", 1, "Operation not supported");
	fails_with(p, "mv @R@/text @R@/text2", 1, "Operation not supported");
	fails_with(p, "mv @R@/tree/c @R@/tree/c2", 1, "Operation not supported");
	pl_same_file(p, "text");
	pl_same_file(p, "tree/a/x.txt");
	pl_base_path(p, "tree", real, sizeof(real));
	assert_int_equal(pl_tree_same(p, "/tree", real), 0);
	/* Overwriting an existing file: refused, the file intact. */
	pl_base_path(p, "rnd", real, sizeof(real));
	snprintf(cmd, sizeof(cmd), "cp %s @R@/p4096", real);
	fails_with(p, cmd, 1, "Operation not permitted");
	pl_same_file(p, "p4096");
	fails_with(p, "echo x > @R@/p4095", 2, "Operation not permitted");
	pl_same_file(p, "p4095");
	/* Writing past the end of an existing file: ENOSPC at the end, the
	 * bytes before it written. */
	{
		uint8_t *want, *got = NULL, *src;
		size_t wl, gl = 0, sl;

		pl_base_path(p, "big", real, sizeof(real));
		snprintf(cmd, sizeof(cmd),
			 "dd if=%s of=@R@/p4097 bs=1000 seek=3 conv=notrunc "
			 "status=none", real);
		fails_with(p, cmd, 1, "No space left on device");
		pl_base_path(p, "p4097", real, sizeof(real));
		want = pl_slurp(real, &wl);
		pl_base_path(p, "big", real, sizeof(real));
		src = pl_slurp(real, &sl);
		assert_non_null(want);
		assert_non_null(src);
		assert_int_equal(wl, 4097);
		memcpy(want + 3000, src, 1097);
		assert_int_equal(pl_famrt_get(p, "/p4097", &got, &gl), 0);
		assert_int_equal(gl, 4097);
		assert_memory_equal(got, want, 4097);
		free(want);
		free(got);
		free(src);
	}
	fails_with(p, "/bin/echo more >> @R@/one", 1,
		   "No space left on device");
	pl_same_file(p, "one");
	fails_with(p, "echo a > @R@/o_append && /bin/echo b >> @R@/o_append",
		   1, "No space left on device");
	{
		uint8_t *got = NULL;
		size_t gl = 0;

		assert_int_equal(pl_famrt_get(p, "/o_append", &got, &gl), 0);
		assert_int_equal(gl, 2);
		assert_memory_equal(got, "a\n", 2);
		free(got);
	}
	fails_with(p, "ln @R@/text @R@/text_link", 1, "Operation not supported");
	fails_with(p, "ln -s text @R@/text_sym", 1, "Operation not supported");
	/* A forked shell (no exec) cannot add to a file its parent is
	 * creating: a clear error, and the parent's bytes intact. */
	fails_with(p, "exec > @R@/o_fork; echo a; (echo b); echo c", 0,
		   "is being created by writing in process");
	{
		uint8_t *got = NULL;
		size_t gl = 0;

		assert_int_equal(pl_famrt_get(p, "/o_fork", &got, &gl), 0);
		assert_int_equal(gl, 4);
		assert_memory_equal(got, "a\nc\n", 4);
		free(got);
	}
	fails_with(p, "truncate -s 10 @R@/text", 1, "Operation not permitted");
	pl_same_file(p, "text");
	/* Missing files: the errors of the real thing. */
	PL_SAME(p, 1, 0, "cat", "@R@/missing");
	PL_SAME(p, 1, 0, "head", "@R@/tree/missing");
	PL_SAME(p, 1, 0, "cp", "@R@/missing", "@R@/missing2");
	PL_SAME(p, 2, 0, "ls", "-d", "@R@/no/such/dir");
	pl_same_sh(p, 2, 0, "wc < @R@/missing");
	pl_same_sh(p, 1, 0, "cat @R@/tree/a/x.txt/below");
	/* Creating where the directory does not exist. */
	PL_SAME(p, 1, 0, "cp", "@R@/text", "@R@/nodir/x");
	PL_SAME(p, 1, 0, "mkdir", "@R@/nodir/y");
	/* touch: new files are made, times are not settable (accepted). */
	PL_SAME(p, 0, 0, "touch", "@R@/touched", "@R@/text");
	pl_same_file(p, "touched");
	pl_same_file(p, "text");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_threads),
		cmocka_unit_test(t_fork_exec),
		cmocka_unit_test(t_reenter),
		cmocka_unit_test(t_early),
		cmocka_unit_test(t_two_fs),
		cmocka_unit_test(t_calls),
		cmocka_unit_test(t_stdio),
		cmocka_unit_test(t_cwd),
		cmocka_unit_test(t_private),
		cmocka_unit_test(t_shell_in),
		cmocka_unit_test(t_shell_out),
		cmocka_unit_test(t_untouched),
		cmocka_unit_test(t_errors),
	};

	return pl_exit_code(cmocka_run_group_tests_name("preload_procs", tests,
							pl_setup, pl_teardown));
}

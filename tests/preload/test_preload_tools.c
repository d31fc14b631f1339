/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unmodified command line tools on famrt files through libfamrt_preload.so:
 * each runs on famrt (with the shim) and on the same bytes in a tmpfs
 * directory (without it), and prints the same bytes. Files the tools write
 * into famrt are read back through the test's own libfamrt connection.
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
#include <sys/stat.h>

#include <cmocka.h>

#include "pl_util.h"


/* famrt file fspath holds exactly the bytes of the real file `real`. */
static void famrt_equals_file(struct pl *p, const char *fspath,
			      const char *real)
{
	uint8_t *a = NULL, *b;
	size_t al = 0, bl = 0;
	int rc = pl_famrt_get(p, fspath, &a, &al);

	b = pl_slurp(real, &bl);
	assert_non_null(b);
	if (rc)
		fail_msg("famrt %s: %s", fspath, strerror(-rc));
	if (al != bl || memcmp(a, b, al))
		fail_msg("famrt %s (%zu bytes) is not %s (%zu bytes)", fspath,
			 al, real, bl);
	free(a);
	free(b);
}

/* Run with the shim; exit 0 expected (else print and fail). */
static void ok_shim(struct pl *p, const char *cmd)
{
	struct pl_res r;

	assert_int_equal(pl_sh(p, true, &r, "%s", cmd), 0);
	if (r.status) {
		pl_res_dump(cmd, &r);
		fail_msg("'%s' failed under the shim", cmd);
	}
	pl_res_free(&r);
}

static void t_cat(void **state)
{
	struct pl *p = *state;

	PL_SAME(p, 0, 0, "cat", "@R@/text");
	PL_SAME(p, 0, PL_BIN, "cat", "@R@/rnd");
	PL_SAME(p, 0, PL_BIN, "cat", "@R@/inter");
	PL_SAME(p, 0, PL_BIN, "cat", "@R@/empty", "@R@/one", "@R@/p4095",
		"@R@/p4096", "@R@/p4097");
	PL_SAME(p, 0, 0, "cat", "-n", "@R@/tree/a/x.txt", "@R@/tree/top.txt");
	/* A missing file: the same message and status. */
	PL_SAME(p, 1, 0, "cat", "@R@/text", "@R@/missing");
	/* A directory. */
	PL_SAME(p, 1, 0, "cat", "@R@/tree");
}

static void t_cp_into(void **state)
{
	struct pl *p = *state;
	static const char *const names[] = { "rnd", "big", "inter", "empty",
					     "one", "p4097", "text" };
	char cmd[1024], real[512], fsp[64];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		pl_base_path(p, names[i], real, sizeof(real));
		snprintf(cmd, sizeof(cmd), "cp %s %s/cpin_%s", real, PL_MOUNT,
			 names[i]);
		ok_shim(p, cmd);
		snprintf(fsp, sizeof(fsp), "/cpin_%s", names[i]);
		famrt_equals_file(p, fsp, real);
	}
	/* A tree, directories made by cp. */
	pl_base_path(p, "tree", real, sizeof(real));
	snprintf(cmd, sizeof(cmd), "cp -r %s %s/cpin_tree", real, PL_MOUNT);
	ok_shim(p, cmd);
	assert_int_equal(pl_tree_same(p, "/cpin_tree", real), 0);
	/* Into a directory, keeping the name; -p keeps the modes. */
	ok_shim(p, "mkdir " PL_MOUNT "/cpin_dir");
	pl_base_path(p, "tree/c/ro.txt", real, sizeof(real));
	snprintf(cmd, sizeof(cmd), "cp -p %s %s/cpin_dir/", real, PL_MOUNT);
	ok_shim(p, cmd);
	famrt_equals_file(p, "/cpin_dir/ro.txt", real);
	{
		struct famrt_stat st;

		assert_int_equal(famrt_stat(p->c, "/cpin_dir/ro.txt", &st), 0);
		assert_int_equal(st.mode & 07777, 0444);
	}
}

static void t_cp_out(void **state)
{
	struct pl *p = *state;
	static const char *const names[] = { "rnd", "big", "inter", "empty",
					     "p4095", "text" };
	char cmd[1024], dst[512], src[512];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint8_t *a, *b;
		size_t al, bl;

		pl_base_path(p, "cpout", dst, sizeof(dst));
		snprintf(cmd, sizeof(cmd), "cp %s/%s %s", PL_MOUNT, names[i],
			 dst);
		ok_shim(p, cmd);
		pl_base_path(p, names[i], src, sizeof(src));
		a = pl_slurp(dst, &al);
		b = pl_slurp(src, &bl);
		assert_non_null(a);
		assert_non_null(b);
		if (al != bl || memcmp(a, b, al))
			fail_msg("cp out of famrt: %s differs", names[i]);
		free(a);
		free(b);
	}
	/* A whole tree out, then compared with the famrt one. */
	pl_base_path(p, "cpout_tree", dst, sizeof(dst));
	snprintf(cmd, sizeof(cmd), "cp -rp %s/tree %s", PL_MOUNT, dst);
	ok_shim(p, cmd);
	assert_int_equal(pl_tree_same(p, "/tree", dst), 0);
}

static void t_dd(void **state)
{
	struct pl *p = *state;
	static const struct {
		const char *bs;
		unsigned skip, count, seek;
	} c[] = {
		{ "512", 3, 1000, 7 },
		{ "4k", 1, 300, 2 },
		{ "64k", 5, 40, 3 },
		{ "1M", 2, 6, 1 },
		{ "1M", 7, 5, 0 },   /* runs past the end of big */
		{ "4k", 0, 5000, 0 }, /* the whole file, short last block */
	};
	char cmd[1024], src[512], fsp[64], real[512];

	pl_base_path(p, "big", src, sizeof(src));
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		/* Reading famrt at offsets. */
		snprintf(cmd, sizeof(cmd),
			 "dd if=@R@/big bs=%s skip=%u count=%u status=none",
			 c[i].bs, c[i].skip, c[i].count);
		pl_same_sh(p, 0, PL_BIN, cmd);
		snprintf(cmd, sizeof(cmd),
			 "dd if=@R@/inter bs=%s skip=%u count=%u status=none",
			 c[i].bs, c[i].skip, c[i].count);
		pl_same_sh(p, 0, PL_BIN, cmd);
		/* Writing a new famrt file with a hole at the front. */
		snprintf(cmd, sizeof(cmd),
			 "dd if=%s of=@R@/dd_%zu bs=%s seek=%u skip=%u "
			 "count=%u status=none",
			 src, i, c[i].bs, c[i].seek, c[i].skip, c[i].count);
		pl_same_sh(p, 0, 0, cmd);
		snprintf(fsp, sizeof(fsp), "/dd_%zu", i);
		snprintf(real, sizeof(real), "%s%s", p->base, fsp);
		famrt_equals_file(p, fsp, real);
	}
	/* conv=notrunc on an existing file: overwritten in place, within
	 * its size; both sides start from the same bytes. */
	for (size_t i = 0; i < 4; i++) {
		static const char *const bs[] = { "512", "4k", "64k", "1M" };
		static const unsigned seek[] = { 9, 17, 11, 1 };
		static const unsigned count[] = { 100, 64, 8, 1 };
		uint8_t *b = malloc(3000000);
		char rel[32];

		assert_non_null(b);
		pl_fill(b, 3000000, 100 + i);
		snprintf(rel, sizeof(rel), "nt_%zu", i);
		assert_int_equal(pl_both_put(p, rel, b, 3000000, 0644), 0);
		free(b);
		snprintf(cmd, sizeof(cmd),
			 "dd if=%s of=@R@/%s bs=%s seek=%u count=%u "
			 "conv=notrunc status=none",
			 src, rel, bs[i], seek[i], count[i]);
		pl_same_sh(p, 0, 0, cmd);
		snprintf(fsp, sizeof(fsp), "/%s", rel);
		pl_base_path(p, rel, real, sizeof(real));
		famrt_equals_file(p, fsp, real);
	}
	/* Through a pipe into famrt (dd reading stdin, writing famrt). */
	snprintf(cmd, sizeof(cmd),
		 "cat %s | dd of=@R@/dd_pipe bs=64k iflag=fullblock status=none",
		 src);
	pl_same_sh(p, 0, 0, cmd);
	pl_base_path(p, "dd_pipe", real, sizeof(real));
	famrt_equals_file(p, "/dd_pipe", real);
}

static void t_head_tail(void **state)
{
	struct pl *p = *state;

	PL_SAME(p, 0, 0, "head", "-c", "1000", "@R@/text");
	PL_SAME(p, 0, 0, "head", "-c", "-1000", "@R@/text");
	PL_SAME(p, 0, 0, "head", "-n", "25", "@R@/text");
	PL_SAME(p, 0, 0, "head", "-n", "-4990", "@R@/text");
	PL_SAME(p, 0, PL_BIN, "head", "-c", "2100000", "@R@/rnd");
	PL_SAME(p, 0, 0, "tail", "-c", "5000", "@R@/text");
	PL_SAME(p, 0, 0, "tail", "-n", "30", "@R@/text");
	PL_SAME(p, 0, 0, "tail", "-n", "+4990", "@R@/text");
	PL_SAME(p, 0, PL_BIN, "tail", "-c", "777", "@R@/inter");
	PL_SAME(p, 0, PL_BIN, "tail", "-c", "3000000", "@R@/big");
	PL_SAME(p, 0, 0, "head", "-n", "3", "@R@/tree/top.txt",
		"@R@/tree/c/z.txt");
	PL_SAME(p, 0, 0, "tail", "-n", "2", "@R@/empty", "@R@/tree/a/x.txt");
}

static void t_sha256sum(void **state)
{
	struct pl *p = *state;
	char cmd[512];

	PL_SAME(p, 0, 0, "sha256sum", "@R@/text", "@R@/rnd", "@R@/big",
		"@R@/inter", "@R@/empty", "@R@/one", "@R@/p4095", "@R@/p4096",
		"@R@/p4097");
	/* A checksum list written into famrt, then checked from there. */
	snprintf(cmd, sizeof(cmd),
		 "cd @R@ && sha256sum text rnd inter > @R@/sums && "
		 "sha256sum -c @R@/sums");
	pl_same_sh(p, 0, 0, cmd);
}

static void t_cmp(void **state)
{
	struct pl *p = *state;
	struct pl_res r;
	char real[512];

	/* famrt against the real file: equal. */
	pl_base_path(p, "big", real, sizeof(real));
	assert_int_equal(pl_run(p, true, (const char *const[]){
		"cmp", PL_MOUNT "/big", real, NULL }, NULL, 0, &r), 0);
	if (r.status)
		pl_res_dump("cmp", &r);
	assert_int_equal(r.status, 0);
	pl_res_free(&r);
	PL_SAME(p, 0, 0, "cmp", "@R@/inter", "@R@/inter");
	PL_SAME(p, 1, 0, "cmp", "@R@/rnd", "@R@/big");
	PL_SAME(p, 1, 0, "cmp", "@R@/text", "@R@/tree/a/x.txt");
	PL_SAME(p, 1, 0, "cmp", "@R@/p4096", "@R@/p4097");
	PL_SAME(p, 1, 0, "cmp", "-l", "@R@/p4095", "@R@/p4096");
	PL_SAME(p, 0, 0, "cmp", "-i", "4096:0", "@R@/p4096", "@R@/empty");
}

static void t_tar(void **state)
{
	struct pl *p = *state;
	char cmd[2048], x[512], tarf[512], tree[512];

	/* Create from a famrt tree, extract with no shim, compare. */
	pl_base_path(p, "from_famrt.tar", tarf, sizeof(tarf));
	pl_base_path(p, "tar_x1", x, sizeof(x));
	snprintf(cmd, sizeof(cmd), "tar -C %s/tree -cf %s .", PL_MOUNT, tarf);
	ok_shim(p, cmd);
	assert_int_equal(mkdir(x, 0755), 0);
	{
		struct pl_res r;

		assert_int_equal(pl_sh(p, false, &r, "tar -C %s -xf %s", x,
				       tarf), 0);
		assert_int_equal(r.status, 0);
		pl_res_free(&r);
	}
	assert_int_equal(pl_tree_same(p, "/tree", x), 0);
	/* The archive lists the same members as one made on the baseline. */
	pl_same_sh(p, 0, PL_SORT, "tar -C @R@/tree -cf - . | tar -tf -");
	/* And as a pipe straight into an extraction. */
	pl_base_path(p, "tar_x2", x, sizeof(x));
	assert_int_equal(mkdir(x, 0755), 0);
	snprintf(cmd, sizeof(cmd), "tar -C %s/tree -cf - . | tar -C %s -xf -",
		 PL_MOUNT, x);
	ok_shim(p, cmd);
	assert_int_equal(pl_tree_same(p, "/tree", x), 0);

	/* Extract into famrt (directories, files, modes). */
	pl_base_path(p, "tree", tree, sizeof(tree));
	pl_base_path(p, "base.tar", tarf, sizeof(tarf));
	{
		struct pl_res r;

		assert_int_equal(pl_sh(p, false, &r, "tar -C %s -cf %s .", tree,
				       tarf), 0);
		assert_int_equal(r.status, 0);
		pl_res_free(&r);
	}
	ok_shim(p, "mkdir " PL_MOUNT "/tar_into");
	snprintf(cmd, sizeof(cmd), "tar -C %s/tar_into -xf %s", PL_MOUNT,
		 tarf);
	ok_shim(p, cmd);
	assert_int_equal(pl_tree_same(p, "/tar_into", tree), 0);
	/* From stdin, with a gzip in the middle. */
	if (pl_need("gzip", "tar -z into famrt")) {
		ok_shim(p, "mkdir " PL_MOUNT "/tar_gz");
		snprintf(cmd, sizeof(cmd),
			 "gzip -c < %s > %s/tree.tar.gz && "
			 "tar -C %s/tar_gz -xzf %s/tree.tar.gz",
			 tarf, PL_MOUNT, PL_MOUNT, PL_MOUNT);
		ok_shim(p, cmd);
		assert_int_equal(pl_tree_same(p, "/tar_gz", tree), 0);
	}
}

static void t_grep(void **state)
{
	struct pl *p = *state;

	PL_SAME(p, 0, 0, "grep", "needle", "@R@/text");
	PL_SAME(p, 0, 0, "grep", "-c", "alpha", "@R@/text");
	PL_SAME(p, 0, 0, "grep", "-n", "^00012", "@R@/text");
	PL_SAME(p, 1, 0, "grep", "no such words here", "@R@/text");
	PL_SAME(p, 0, 0, "grep", "-c", "needle", "@R@/text", "@R@/tree/c/z.txt");
	PL_SAME(p, 0, PL_SORT, "grep", "-r", "needle", "@R@/tree");
	PL_SAME(p, 0, PL_SORT, "grep", "-rl", "gamma", "@R@/tree");
	PL_SAME(p, 0, PL_SORT, "grep", "-rc", "delta", "@R@/tree");
	/* Binary files are told apart the same way. */
	PL_SAME(p, 0, PL_SORT, "grep", "-rl", "-a", "e", "@R@/tree/a");
	PL_SAME(p, 2, 0, "grep", "x", "@R@/missing");
}

static void t_wc(void **state)
{
	struct pl *p = *state;

	PL_SAME(p, 0, 0, "wc", "@R@/text", "@R@/rnd", "@R@/empty",
		"@R@/inter", "@R@/tree/a/x.txt");
	PL_SAME(p, 0, 0, "wc", "-l", "@R@/text");
	PL_SAME(p, 0, 0, "wc", "-c", "@R@/big");
	PL_SAME(p, 0, 0, "wc", "-m", "@R@/tree/top.txt");
}

/*
 * ls -l, keeping the type and permission column, the link count, the size
 * (files only: directory sizes are the file system's own) and the name.
 */
static char *ls_cols(const char *out)
{
	char *copy = strdup(out), *line, *save, *res = malloc(strlen(out) + 1);
	size_t n = 0;

	assert_non_null(copy);
	assert_non_null(res);
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char mode[16], user[64], group[64], mon[8], day[8], tm[8];
		char name[512];
		unsigned long nlink, size;

		if (!strncmp(line, "total ", 6) || line[0] == '\0') {
			continue;
		}
		if (line[strlen(line) - 1] == ':') {
			n += (size_t)sprintf(res + n, "%s\n", line);
			continue;
		}
		if (sscanf(line, "%15s %lu %63s %63s %lu %7s %7s %7s %511s",
			   mode, &nlink, user, group, &size, mon, day, tm,
			   name) != 9)
			fail_msg("cannot parse ls -l line '%s'", line);
		if (mode[0] == 'd')
			n += (size_t)sprintf(res + n, "%s %lu - %s\n", mode,
					     nlink, name);
		else
			n += (size_t)sprintf(res + n, "%s %lu %lu %s\n", mode,
					     nlink, size, name);
	}
	res[n] = '\0';
	free(copy);
	return res;
}

static void ls_same(struct pl *p, const char *args)
{
	struct pl_res a, b;
	char *x, *y, *fx, *fy;

	fx = pl_expand(args, PL_MOUNT);
	fy = pl_expand(args, p->base);
	assert_int_equal(pl_sh(p, true, &a, "ls %s", fx), 0);
	assert_int_equal(pl_sh(p, false, &b, "ls %s", fy), 0);
	assert_int_equal(b.status, 0);
	if (a.status) {
		pl_res_dump("ls on famrt", &a);
		fail_msg("ls %s failed on famrt", fx);
	}
	{
		char *sa = pl_subst(a.out, PL_MOUNT);
		char *sb = pl_subst(b.out, p->base);

		x = ls_cols(sa);
		y = ls_cols(sb);
		free(sa);
		free(sb);
	}
	if (strcmp(x, y))
		fail_msg("ls %s differs\n--- famrt:\n%s--- baseline:\n%s", args,
			 x, y);
	assert_string_equal(a.err, b.err);
	free(x);
	free(y);
	free(fx);
	free(fy);
	pl_res_free(&a);
	pl_res_free(&b);
}

static void t_ls(void **state)
{
	struct pl *p = *state;

	ls_same(p, "-l @R@/tree");
	ls_same(p, "-l @R@/tree/a @R@/tree/c");
	ls_same(p, "-lR @R@/tree");
	ls_same(p, "-ln @R@/text @R@/empty @R@/p4097 @R@/tree/c/ro.txt");
	ls_same(p, "-ld @R@/tree/d @R@/tree/c");
	PL_SAME(p, 0, 0, "ls", "@R@/tree");
	PL_SAME(p, 0, 0, "ls", "-R", "@R@/tree");
	PL_SAME(p, 0, 0, "ls", "-1F", "@R@/tree/a/b");
	PL_SAME(p, 0, 0, "ls", "-A", "@R@/tree/d");
	PL_SAME(p, 0, 0, "ls", "-S1", "@R@/tree/a/b");
	PL_SAME(p, 2, 0, "ls", "@R@/missing");
	/* The cwd inside famrt, from the shell to ls. */
	pl_same_sh(p, 0, 0, "cd @R@/tree/a && ls && ls -R ..");
}

static void t_find(void **state)
{
	struct pl *p = *state;

	PL_SAME(p, 0, PL_SORT, "find", "@R@/tree");
	PL_SAME(p, 0, PL_SORT, "find", "@R@/tree", "-type", "f");
	PL_SAME(p, 0, PL_SORT, "find", "@R@/tree", "-type", "d");
	PL_SAME(p, 0, PL_SORT, "find", "@R@/tree", "-name", "*.txt");
	PL_SAME(p, 0, PL_SORT, "find", "@R@/tree", "-size", "+10k");
	PL_SAME(p, 0, PL_SORT, "find", "@R@/tree", "-type", "f", "-size",
		"-3k");
	PL_SAME(p, 0, PL_SORT, "find", "@R@", "-maxdepth", "1", "-type", "f",
		"-size", "+4095c", "-size", "-4097c");
	PL_SAME(p, 0, PL_SORT, "find", "@R@/tree", "-empty");
	PL_SAME(p, 0, PL_SORT, "find", "@R@/tree", "-type", "f", "-perm",
		"-u+x");
	PL_SAME(p, 0, PL_SORT, "find", "@R@/tree", "-mindepth", "2",
		"-maxdepth", "3", "-name", "[a-z]*");
	PL_SAME(p, 0, PL_SORT, "find", "@R@/tree", "-type", "f", "-printf",
		"%p %s %m %y\n");
	pl_same_sh(p, 0, PL_SORT, "cd @R@/tree && find . -name '*.bin'");
	PL_SAME(p, 1, 0, "find", "@R@/missing");
}

static void t_stat(void **state)
{
	struct pl *p = *state;

	PL_SAME(p, 0, 0, "stat", "-c", "%n|%s|%a|%A|%F|%h|%u|%g",
		"@R@/text", "@R@/rnd", "@R@/empty", "@R@/p4097",
		"@R@/tree/a/b/run.sh", "@R@/tree/c/ro.txt", "@R@/inter");
	/* Directories: not the size, the file system's own. */
	PL_SAME(p, 0, 0, "stat", "-c", "%n|%a|%A|%F|%h", "@R@/tree",
		"@R@/tree/a", "@R@/tree/c", "@R@/tree/d", "@R@/tree/e/f");
	PL_SAME(p, 0, 0, "stat", "-L", "-c", "%n %s", "@R@/tree/a/x.txt");
	PL_SAME(p, 0, 0, "stat", "--printf", "%s %a\n", "@R@/big");
	PL_SAME(p, 1, 0, "stat", "-c", "%s", "@R@/missing");
}

static void t_du(void **state)
{
	struct pl *p = *state;
	struct pl_res r;
	unsigned long long n;
	char name[512];

	/* Files: their sizes. */
	PL_SAME(p, 0, 0, "du", "-b", "@R@/text", "@R@/rnd", "@R@/empty",
		"@R@/big", "@R@/tree/a/b/y.bin");
	PL_SAME(p, 0, 0, "du", "--apparent-size", "-k", "@R@/big",
		"@R@/p4097");
	/* A tree: the file bytes (famrt directories have size 0). */
	assert_int_equal(pl_sh(p, true, &r, "du -sb %s/tree", PL_MOUNT), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(sscanf(r.out, "%llu %511s", &n, name), 2);
	assert_string_equal(name, PL_MOUNT "/tree");
	assert_int_equal(n, pl_tree_bytes());
	pl_res_free(&r);
	/* Every file and directory once (names and count), and the
	 * blocks the files hold are counted (not 0). */
	{
		struct pl_res a, b;
		char *x, *y;
		unsigned long long kib;

		assert_int_equal(pl_sh(p, true, &a, "du -a %s/tree | "
				       "sed 's/^[0-9]*\t//'", PL_MOUNT), 0);
		assert_int_equal(pl_sh(p, false, &b, "du -a %s/tree | "
				       "sed 's/^[0-9]*\t//'", p->base), 0);
		x = pl_subst(a.out, PL_MOUNT);
		y = pl_subst(b.out, p->base);
		{
			char *sx = pl_sorted(x), *sy = pl_sorted(y);

			assert_string_equal(sx, sy);
			free(sx);
			free(sy);
		}
		free(x);
		free(y);
		pl_res_free(&a);
		pl_res_free(&b);
		assert_int_equal(pl_sh(p, true, &a, "du -sk %s/big", PL_MOUNT),
				 0);
		assert_int_equal(sscanf(a.out, "%llu", &kib), 1);
		assert_true(kib >= ((9u << 20) + 123) / 1024);
		pl_res_free(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_cat),
		cmocka_unit_test(t_cp_into),
		cmocka_unit_test(t_cp_out),
		cmocka_unit_test(t_dd),
		cmocka_unit_test(t_head_tail),
		cmocka_unit_test(t_sha256sum),
		cmocka_unit_test(t_cmp),
		cmocka_unit_test(t_tar),
		cmocka_unit_test(t_grep),
		cmocka_unit_test(t_wc),
		cmocka_unit_test(t_ls),
		cmocka_unit_test(t_find),
		cmocka_unit_test(t_stat),
		cmocka_unit_test(t_du),
	};

	return pl_exit_code(cmocka_run_group_tests_name("preload_tools", tests,
							pl_setup, pl_teardown));
}

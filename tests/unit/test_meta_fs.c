/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The metadata layer on emulated devices: mkfs, open, mkdir/create (simple
 * and interleaved over several devices), lookup, readdir paging, inode
 * numbers, replay of hand-written logs (including entries that cannot be
 * applied), reopen, incremental follow (two objects in one process, and
 * two processes), the master/readonly rules, device checks, add-device,
 * and a full log or device.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "meta_test.h"

static const struct famrt_alloc_layout simple_lay = { .kind = FAMRT_LAYOUT_SIMPLE };

static const struct famrt_node *mk(struct famrt_fs *fs, const char *path,
				   uint32_t mode)
{
	const struct famrt_node *n = NULL;
	struct famrt_err e;
	int rc = famrt_fs_mkdir(fs, path, mode, 1000, 100, &n, &e);

	if (rc)
		print_error("mkdir %s: %s\n", path, e.msg);
	assert_int_equal(rc, 0);
	assert_non_null(n);
	return n;
}

static const struct famrt_node *cr(struct famrt_fs *fs, const char *path,
				   uint64_t size,
				   const struct famrt_alloc_layout *lay)
{
	const struct famrt_node *n = NULL;
	struct famrt_err e;
	int rc = famrt_fs_create(fs, path, 0640, 1000, 100, size, lay, &n, &e);

	if (rc)
		print_error("create %s: %s\n", path, e.msg);
	assert_int_equal(rc, 0);
	assert_non_null(n);
	return n;
}

static struct famrt_alloc_layout ilv(uint32_t nstrips, uint64_t chunk,
			       uint32_t ndevs, const uint32_t *devs)
{
	struct famrt_alloc_layout l = { .kind = FAMRT_LAYOUT_INTERLEAVE,
				  .nstrips = nstrips, .chunk = chunk,
				  .ndevs = ndevs };

	for (uint32_t i = 0; i < ndevs; i++)
		l.devs[i] = devs[i];
	return l;
}

/* Every byte of every file is inside its device's data region, and no
 * byte belongs to two files (checked here by brute force, per unit). */
struct place {
	uint32_t dev;
	uint64_t off, len;
	uint64_t ino;
};

static int collect(const struct famrt_node *n, void *arg);

struct coll {
	const struct famrt_ns *ns;
	struct place *p;
	size_t n, cap;
};

static void collect_dir(struct coll *c, const struct famrt_node *d)
{
	assert_true(famrt_ns_readdir(c->ns, d, 0, UINT32_MAX, collect, c) ==
		    UINT64_MAX);
}

static int collect(const struct famrt_node *n, void *arg)
{
	struct coll *c = arg;
	struct famrt_fmap_extent x;

	if (S_ISDIR(n->mode)) {
		collect_dir(c, n);
		return 0;
	}
	for (uint32_t i = 0; i < famrt_fmap_nextents(n->fmap); i++) {
		bool il = famrt_fmap_ext_type(n->fmap) ==
			  FAMRT_FMAP_EXT_INTERLEAVE;

		assert_int_equal(famrt_fmap_get_extent(n->fmap, i, &x), 0);
		for (uint32_t j = 0; j < (il ? x.nstrips : 1); j++) {
			if (c->n == c->cap) {
				c->cap = c->cap ? 2 * c->cap : 64;
				c->p = realloc(c->p, c->cap * sizeof(*c->p));
				assert_non_null(c->p);
			}
			c->p[c->n++] = (struct place){ x.strips[j].devindex,
						       x.strips[j].offset,
						       x.strips[j].len, n->ino };
		}
	}
	return 0;
}

static void check_no_overlap(const struct famrt_fs *fs)
{
	struct coll c = { .ns = fs->ns };

	collect_dir(&c, famrt_ns_root(fs->ns));
	for (size_t i = 0; i < c.n; i++) {
		const struct famrt_sb_dev *d = &fs->devs[c.p[i].dev];

		assert_true(c.p[i].dev < fs->ndevs);
		assert_true(c.p[i].off >= d->data_start);
		assert_true(c.p[i].off + c.p[i].len <= d->size);
		assert_int_equal(c.p[i].off % fs->sb.alloc_unit, 0);
		for (size_t j = 0; j < i; j++)
			if (c.p[i].dev == c.p[j].dev)
				assert_true(c.p[i].off + c.p[i].len <=
						    c.p[j].off ||
					    c.p[j].off + c.p[j].len <=
						    c.p[i].off);
	}
	free(c.p);
}

/* ---- mkfs and open ---- */

static void test_mkfs_open(void **state)
{
	struct famrt_mkfs_opts o = mt_opts();
	struct famrt_alloc_stats st;
	const struct famrt_node *root;
	struct famrt_fs *fs;
	struct mt_fsck r;
	struct famrt_err e;
	struct mt_fs f;
	uint8_t uuid[16];
	int rc;

	(void)state;
	mt_devs(&f, 1, 16 * MT_MiB);
	o.name = "unitfs";
	assert_int_equal(famrt_mkfs(f.paths, 1, &o, uuid, &e), 0);
	fs = mt_open(&f);
	assert_string_equal(fs->sb.name, "unitfs");
	assert_string_equal(fs->sb.master, MT_MASTER);
	assert_memory_equal(fs->sb.uuid, uuid, 16);
	assert_int_equal(fs->sb.alloc_unit, MT_UNIT);
	assert_int_equal(fs->sb.log_offset, 8192);
	assert_int_equal(fs->sb.log_size, MT_LOG);
	assert_int_equal(fs->ndevs, 1);
	/* Data starts at the end of the log, rounded up to the unit. */
	assert_int_equal(fs->devs[0].data_start,
			 (8192 + MT_LOG + MT_UNIT - 1) / MT_UNIT * MT_UNIT);
	assert_true(fs->is_master);
	assert_int_equal(fs->nentries, 0);
	assert_int_equal(fs->damage, 0);
	root = famrt_fs_lookup(fs, "/", &rc, &e);
	assert_non_null(root);
	assert_int_equal(root->ino, FAMRT_ROOT_INO);
	assert_true(S_ISDIR(root->mode));
	assert_int_equal(root->nlink, 2);
	famrt_alloc_get_stats(fs->alloc, &st);
	assert_int_equal(st.size, 16 * MT_MiB - fs->devs[0].data_start);
	assert_int_equal(st.free, st.size);
	famrt_fs_close(fs);
	mt_fsck_clean(&f, &r);
	assert_int_equal(r.s.warnings, 0);
	assert_int_equal(r.s.files + r.s.dirs + r.s.entries, 0);
	assert_string_equal(r.s.name, "unitfs");

	/* Defaults: 2 MiB unit, log of device 0 / 8, this host as master. */
	mt_devs(&f, 1, 32 * MT_MiB);
	setenv("FAMRT_HOST_ID", "env-host", 1);
	assert_int_equal(famrt_mkfs(f.paths, 1, NULL, NULL, &e), 0);
	fs = mt_open_n(&f, 1, "env-host", false);
	unsetenv("FAMRT_HOST_ID");
	assert_int_equal(fs->sb.alloc_unit, 2 * MT_MiB);
	assert_int_equal(fs->sb.log_size, 4 * MT_MiB);
	assert_string_equal(fs->sb.master, "env-host");
	assert_string_equal(fs->sb.name, "famrt");
	assert_true(fs->is_master);
	famrt_fs_close(fs);
}

/* ---- mkdir, create, lookup ---- */

static void test_mkdir_create(void **state)
{
	const uint32_t two[2] = { 2, 0 };
	struct famrt_alloc_layout l3 = ilv(0, 0, 0, NULL), l2 = ilv(2, 2 * MT_UNIT, 2,
							     two);
	const struct famrt_node *a, *f1, *f0, *g, *h, *n;
	struct famrt_fmap_extent x;
	struct famrt_fmap_run run;
	struct famrt_fs *fs;
	struct mt_fsck r;
	struct famrt_err e;
	struct mt_fs f;
	uint64_t bytes = 0;
	unsigned used[3] = { 0 };
	int rc;

	(void)state;
	mt_make(&f, 3, 16 * MT_MiB);
	fs = mt_open(&f);

	a = mk(fs, "/a", 0750);
	assert_int_equal(a->ino, 2); /* 1 + seq 1 */
	assert_int_equal(a->mode, S_IFDIR | 0750);
	assert_int_equal(a->uid, 1000);
	assert_int_equal(a->gid, 100);
	assert_int_equal(a->nlink, 2);
	assert_int_equal(a->parent, FAMRT_ROOT_INO);
	assert_int_equal(famrt_ns_root(fs->ns)->nlink, 3);

	f1 = cr(fs, "/a/f", 100000, NULL);
	bytes += 100000;
	assert_int_equal(f1->ino, 3);
	assert_int_equal(f1->mode, S_IFREG | 0640);
	assert_int_equal(f1->size, 100000);
	assert_int_equal(f1->parent, a->ino);
	assert_int_equal(famrt_fmap_ext_type(f1->fmap), FAMRT_FMAP_EXT_SIMPLE);
	assert_int_equal(famrt_fmap_nextents(f1->fmap), 1);
	assert_int_equal(famrt_fmap_get_extent(f1->fmap, 0, &x), 0);
	assert_int_equal(x.strips[0].len, 2 * MT_UNIT);
	for (uint64_t off = 0; off < 100000; off += 4093) {
		assert_int_equal(famrt_fmap_resolve(f1->fmap, off, &run), 0);
		assert_int_equal(run.dev, x.strips[0].devindex);
		assert_int_equal(run.dev_off, x.strips[0].offset + off);
	}
	/* The map is stored as logged: decoding the message gives it. */
	{
		uint64_t sz[FAMRT_MAX_DEVS], al[FAMRT_MAX_DEVS];
		struct famrt_fmap_limits lim;
		struct famrt_fmap *m;

		famrt_fs_fmap_limits(fs, &lim, sz, al);
		assert_int_equal(famrt_fmap_decode(f1->fmap_msg, f1->fmap_len,
						   &lim, &m, NULL),
				 0);
		assert_int_equal(famrt_fmap_file_size(m), 100000);
		famrt_fmap_free(m);
	}

	f0 = cr(fs, "/a/empty", 0, &simple_lay);
	assert_int_equal(f0->size, 0);
	assert_int_equal(famrt_fmap_nextents(f0->fmap), 1);

	/* Interleaved over all three devices, chunk = unit. */
	g = cr(fs, "/a/g", MT_MiB + 1, &l3);
	bytes += MT_MiB + 1;
	assert_int_equal(famrt_fmap_ext_type(g->fmap),
			 FAMRT_FMAP_EXT_INTERLEAVE);
	assert_int_equal(famrt_fmap_get_extent(g->fmap, 0, &x), 0);
	assert_int_equal(x.nstrips, 3);
	assert_int_equal(x.chunk_size, MT_UNIT);
	for (uint32_t j = 0; j < 3; j++)
		assert_int_equal(x.strips[j].devindex, j);
	/* The last (here only) extent says exactly the file's bytes. */
	assert_int_equal(famrt_fmap_nextents(g->fmap), 1);
	assert_int_equal(x.nbytes, MT_MiB + 1);
	for (uint64_t k = 0; k * MT_UNIT < MT_MiB + 1; k++) {
		assert_int_equal(famrt_fmap_resolve(g->fmap, k * MT_UNIT, &run),
				 0);
		assert_int_equal(run.dev, x.strips[k % 3].devindex);
		assert_int_equal(run.dev_off,
				 x.strips[k % 3].offset + (k / 3) * MT_UNIT);
	}

	/* Interleaved over devices 2 then 0, two strips, chunk 128 KiB. */
	h = cr(fs, "/h", 3 * MT_MiB, &l2);
	bytes += 3 * MT_MiB;
	assert_int_equal(famrt_fmap_get_extent(h->fmap, 0, &x), 0);
	assert_int_equal(x.nstrips, 2);
	assert_int_equal(x.chunk_size, 2 * MT_UNIT);
	assert_int_equal(x.strips[0].devindex, 2);
	assert_int_equal(x.strips[1].devindex, 0);

	/* Simple files spread over the devices. */
	for (int i = 0; i < 6; i++) {
		char p[32];

		snprintf(p, sizeof(p), "/s%d", i);
		n = cr(fs, p, MT_MiB, NULL);
		bytes += MT_MiB;
		assert_int_equal(famrt_fmap_get_extent(n->fmap, 0, &x), 0);
		used[x.strips[0].devindex]++;
	}
	assert_true((used[0] > 0) + (used[1] > 0) + (used[2] > 0) >= 2);

	/* Lookups find the same nodes; counts; no overlap. */
	assert_ptr_equal(famrt_fs_lookup(fs, "/a/f", &rc, &e), f1);
	assert_ptr_equal(famrt_fs_lookup(fs, "/a/g", &rc, &e), g);
	assert_ptr_equal(famrt_fs_lookup(fs, "/h", &rc, &e), h);
	assert_ptr_equal(famrt_ns_by_ino(fs->ns, g->ino), g);
	assert_int_equal(famrt_ns_nfiles(fs->ns), 10);
	assert_int_equal(famrt_ns_ndirs(fs->ns), 1);
	check_no_overlap(fs);
	assert_int_equal(fs->nskipped, 0);
	assert_int_equal(fs->damage, 0);
	famrt_fs_close(fs);

	mt_fsck_clean(&f, &r);
	assert_int_equal(r.s.files, 10);
	assert_int_equal(r.s.dirs, 1);
	assert_int_equal(r.s.entries, 11);
	assert_int_equal(r.s.file_bytes, bytes);
	assert_int_equal(r.s.ndevs, 3);
}

/* ---- errors ---- */

static void expect_err(int rc, int want, const struct famrt_err *e,
		       const char *needle)
{
	if (rc != want || !strstr(e->msg, needle))
		print_error("rc %d (want %d), message '%s' (want '%s')\n", rc,
			    want, e->msg, needle);
	assert_int_equal(rc, want);
	assert_non_null(strstr(e->msg, needle));
}

static void test_errors(void **state)
{
	char longname[300];
	const struct famrt_alloc_layout bad33 = ilv(33, 0, 0, NULL);
	const uint32_t dev7[1] = { 7 };
	struct famrt_alloc_layout baddev = ilv(0, 0, 1, dev7);
	struct famrt_fs *fs;
	struct famrt_err e;
	struct mt_fs f;
	char *before, *after;
	uint64_t seq;
	int rc;

	(void)state;
	mt_make(&f, 1, 16 * MT_MiB);
	fs = mt_open(&f);
	mk(fs, "/a", 0755);
	cr(fs, "/a/f", 4096, NULL);
	before = mt_dump(fs);
	seq = fs->next_seq;

	rc = famrt_fs_create(fs, "/nope/x", 0644, 0, 0, 1, NULL, NULL, &e);
	expect_err(rc, -ENOENT, &e, "'/nope' does not exist");
	rc = famrt_fs_mkdir(fs, "/a/f/x", 0755, 0, 0, NULL, &e);
	expect_err(rc, -ENOTDIR, &e, "'/a/f' is not a directory");
	rc = famrt_fs_create(fs, "/a/f/x", 0644, 0, 0, 1, NULL, NULL, &e);
	expect_err(rc, -ENOTDIR, &e, "'/a/f' is not a directory");
	rc = famrt_fs_mkdir(fs, "/a", 0755, 0, 0, NULL, &e);
	expect_err(rc, -EEXIST, &e, "'/a' already exists");
	rc = famrt_fs_create(fs, "/a/f", 0644, 0, 0, 1, NULL, NULL, &e);
	expect_err(rc, -EEXIST, &e, "'/a/f' already exists");
	rc = famrt_fs_mkdir(fs, "/", 0755, 0, 0, NULL, &e);
	expect_err(rc, -EEXIST, &e, "root");
	rc = famrt_fs_mkdir(fs, "a", 0755, 0, 0, NULL, &e);
	expect_err(rc, -EINVAL, &e, "not absolute");
	rc = famrt_fs_mkdir(fs, "/a//b", 0755, 0, 0, NULL, &e);
	expect_err(rc, -EINVAL, &e, "empty component");
	rc = famrt_fs_mkdir(fs, "/a/", 0755, 0, 0, NULL, &e);
	expect_err(rc, -EINVAL, &e, "empty component");
	rc = famrt_fs_mkdir(fs, "/a/..", 0755, 0, 0, NULL, &e);
	expect_err(rc, -EINVAL, &e, "'..'");
	memset(longname, 'n', sizeof(longname));
	longname[0] = '/';
	longname[257] = '\0';
	rc = famrt_fs_mkdir(fs, longname, 0755, 0, 0, NULL, &e);
	expect_err(rc, -ENAMETOOLONG, &e, "256 bytes");
	rc = famrt_fs_mkdir(fs, "/m", 010000, 0, 0, NULL, &e);
	expect_err(rc, -EINVAL, &e, "mode 010000");
	rc = famrt_fs_create(fs, "/m", 0100644, 0, 0, 1, NULL, NULL, &e);
	expect_err(rc, -EINVAL, &e, "mode 0100644");
	rc = famrt_fs_create(fs, "/m", 0644, 0, 0, 1, &bad33, NULL, &e);
	expect_err(rc, -EINVAL, &e, "33 strips");
	rc = famrt_fs_create(fs, "/m", 0644, 0, 0, 1, &baddev, NULL, &e);
	expect_err(rc, -EINVAL, &e, "device 7");
	assert_null(famrt_fs_lookup(fs, "/a/zz", &rc, &e));
	expect_err(rc, -ENOENT, &e, "'/a/zz' does not exist");
	assert_null(famrt_fs_lookup(fs, "/a/f/zz", &rc, &e));
	expect_err(rc, -ENOTDIR, &e, "'/a/f' is not a directory");

	/* Nothing was logged and nothing changed. */
	assert_int_equal(fs->next_seq, seq);
	after = mt_dump(fs);
	mt_same(before, after);
	free(after);
	famrt_fs_close(fs);
	after = mt_dump_fresh(&f);
	mt_same(before, after);
	free(before);
	free(after);
}

/* ---- readdir ---- */

struct rd {
	char names[64][16];
	uint64_t seqs[64];
	unsigned n;
	unsigned stop_at; /* return non-zero at this call (0: never) */
};

static int rd_cb(const struct famrt_node *n, void *arg)
{
	struct rd *r = arg;

	assert_true(r->n < 64);
	snprintf(r->names[r->n], sizeof(r->names[0]), "%s", n->name);
	r->seqs[r->n] = n->seq;
	r->n++;
	return r->stop_at && r->n == r->stop_at;
}

static void test_readdir_paging(void **state)
{
	const struct famrt_node *d, *e0;
	struct famrt_fs *fs;
	struct rd r = { 0 };
	struct mt_fs f;
	uint64_t ck = 0, pages = 0;
	char p[32];

	(void)state;
	mt_make(&f, 1, 16 * MT_MiB);
	fs = mt_open(&f);
	d = mk(fs, "/d", 0755);
	e0 = mk(fs, "/empty", 0755);
	for (int i = 0; i < 25; i++) {
		snprintf(p, sizeof(p), "/d/n%02d", i);
		if (i % 3)
			cr(fs, p, 1, NULL);
		else
			mk(fs, p, 0700);
	}
	/* Pages of 7: every child once, in creation order. */
	do {
		unsigned before = r.n;

		ck = famrt_ns_readdir(fs->ns, d, ck, 7, rd_cb, &r);
		assert_true(r.n - before <= 7);
		if (ck != UINT64_MAX)
			assert_int_equal(ck, r.seqs[r.n - 1]);
		pages++;
	} while (ck != UINT64_MAX);
	assert_int_equal(r.n, 25);
	assert_int_equal(pages, 4);
	for (int i = 0; i < 25; i++) {
		snprintf(p, sizeof(p), "n%02d", i);
		assert_string_equal(r.names[i], p);
		if (i)
			assert_true(r.seqs[i] > r.seqs[i - 1]);
	}
	/* max 0 gives nothing and keeps the cookie. */
	r.n = 0;
	assert_int_equal(famrt_ns_readdir(fs->ns, d, 42, 0, rd_cb, &r), 42);
	assert_int_equal(r.n, 0);
	/* A cookie from the middle continues after that child. */
	{
		struct rd r2 = { 0 };
		uint64_t mid = famrt_ns_child(fs->ns, d->ino, "n09", 3)->seq;

		assert_int_equal(famrt_ns_readdir(fs->ns, d, mid, 100, rd_cb,
						  &r2),
				 UINT64_MAX);
		assert_int_equal(r2.n, 15);
		assert_string_equal(r2.names[0], "n10");
	}
	/* A callback that stops: the cookie is the child it was given. */
	{
		struct rd r3 = { .stop_at = 3 };

		ck = famrt_ns_readdir(fs->ns, d, 0, 100, rd_cb, &r3);
		assert_int_equal(r3.n, 3);
		assert_int_equal(ck, r3.seqs[2]);
		r3.stop_at = 0;
		ck = famrt_ns_readdir(fs->ns, d, ck, 100, rd_cb, &r3);
		assert_int_equal(ck, UINT64_MAX);
		assert_int_equal(r3.n, 25);
		assert_string_equal(r3.names[3], "n03");
	}
	/* An empty directory; and a cookie stays valid as the dir grows. */
	r.n = 0;
	assert_int_equal(famrt_ns_readdir(fs->ns, e0, 0, 10, rd_cb, &r),
			 UINT64_MAX);
	assert_int_equal(r.n, 0);
	r.n = 0;
	ck = famrt_ns_readdir(fs->ns, d, 0, 20, rd_cb, &r);
	assert_int_equal(r.n, 20);
	cr(fs, "/d/late", 1, NULL);
	r.n = 0;
	assert_int_equal(famrt_ns_readdir(fs->ns, d, ck, 10, rd_cb, &r),
			 UINT64_MAX);
	assert_int_equal(r.n, 6);
	assert_string_equal(r.names[0], "n20");
	assert_string_equal(r.names[5], "late");
	famrt_fs_close(fs);
}

/* ---- inode numbers ---- */

static void test_inode_numbers(void **state)
{
	const uint32_t d01[2] = { 0, 1 };
	struct famrt_alloc_layout l = ilv(2, 0, 2, d01);
	struct famrt_log_cursor cur = { 0 };
	struct famrt_entry_hdr h;
	const uint8_t *payload;
	struct famrt_fs *fs;
	struct famrt_err e;
	struct mt_fs f;
	uint64_t n = 0;
	int rc;

	(void)state;
	mt_make(&f, 2, 16 * MT_MiB);
	fs = mt_open(&f);
	mk(fs, "/x", 0755);
	cr(fs, "/x/1", 10, NULL);
	mk(fs, "/x/y", 0755);
	cr(fs, "/x/y/2", 3 * MT_UNIT, &l);
	cr(fs, "/3", 0, NULL);
	famrt_fs_close(fs);
	fs = mt_open(&f);
	while ((rc = famrt_fs_log_next(fs, &cur, &h, &payload, &e)) == 1) {
		char path[FAMRT_PATH_MAX + 1];
		const struct famrt_node *node;
		const char *pp;
		uint16_t plen;

		if (h.type == FAMRT_ENTRY_MKDIR) {
			struct famrt_ent_mkdir m;

			assert_int_equal(famrt_ent_mkdir_decode(payload, h.len,
								&m, &e),
					 0);
			pp = m.path;
			plen = m.path_len;
		} else {
			struct famrt_ent_create c;

			assert_int_equal(h.type, FAMRT_ENTRY_CREATE);
			assert_int_equal(famrt_ent_create_decode(payload, h.len,
								 &c, &e),
					 0);
			pp = c.path;
			plen = c.path_len;
		}
		memcpy(path, pp, plen);
		path[plen] = '\0';
		node = famrt_fs_lookup(fs, path, &rc, &e);
		assert_non_null(node);
		assert_int_equal(node->ino, 1 + h.seq);
		assert_int_equal(node->seq, h.seq);
		assert_int_equal(node->mtime_ns, h.time_ns);
		assert_int_equal(h.seq, ++n);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 5);
	assert_int_equal(fs->nentries, 5);
	famrt_fs_close(fs);
}

/* ---- replay of hand-written logs ---- */

static void test_replay_handmade(void **state)
{
	struct famrt_fs *fs;
	struct mt_raw raw;
	struct mt_fsck r;
	struct famrt_err e;
	const struct famrt_node *n;
	const struct mt_finding *x;
	struct mt_fs f;
	uint64_t ds, dsz = 16 * MT_MiB, u = MT_UNIT;
	uint8_t junk[40];
	char *dump;
	int rc;

	(void)state;
	mt_make(&f, 1, dsz);
	mt_raw_open(&raw, f.paths[0]);
	ds = raw.sb.devs[0].data_start;
	{
		const uint64_t e1[3] = { 0, ds, u };
		const uint64_t e2[3] = { 0, ds, 2 * u };
		const uint64_t e3[3] = { 0, dsz - u, 2 * u };
		const uint64_t e4[3] = { 0, u, u };
		const uint64_t e5[3] = { 0, ds + u, u };
		const uint64_t e6[6] = { 0, ds + 4 * u, u, 0, ds + 4 * u, u };

		assert_int_equal(mt_raw_mkdir(&raw, "/a", 0), 1);
		assert_int_equal(mt_raw_mkdir(&raw, "/x/y", 0), 2);
		assert_int_equal(mt_raw_create(&raw, "/a/f1", u, 1, e1), 3);
		assert_int_equal(mt_raw_create(&raw, "/a/f2", 2 * u, 1, e2), 4);
		assert_int_equal(mt_raw_create(&raw, "/a/f3", 2 * u, 1, e3), 5);
		assert_int_equal(mt_raw_create(&raw, "/a/f4", u, 1, e4), 6);
		memset(junk, 0x5a, sizeof(junk));
		assert_int_equal(mt_raw_append(&raw, 77, FAMRT_ENTRY_SKIPPABLE,
					       junk, sizeof(junk)),
				 7);
		assert_int_equal(mt_raw_mkdir(&raw, "/a/b", 0), 8);
		assert_int_equal(mt_raw_create(&raw, "/a/f5", u, 1, e5), 9);
		assert_int_equal(mt_raw_mkdir(&raw, "/a", 0), 10);
		assert_int_equal(mt_raw_create(&raw, "/a/f6", 2 * u, 2, e6),
				 11);
	}
	fs = mt_open(&f);
	assert_int_equal(fs->nentries, 11);
	assert_int_equal(fs->nskipped, 6);
	assert_true(fs->damage & FAMRT_DAMAGE_SKIPPED);
	assert_non_null(strstr(fs->first_problem.msg, "log entry 2 (mkdir)"));
	assert_non_null(strstr(fs->last_skip.msg, "log entry 11 (create)"));
	n = famrt_fs_lookup(fs, "/a/b", &rc, &e);
	assert_non_null(n);
	assert_int_equal(n->ino, 9); /* seqs count skipped entries too */
	assert_int_equal(n->uid, 1);
	assert_int_equal(n->gid, 2);
	n = famrt_fs_lookup(fs, "/a/f5", &rc, &e);
	assert_non_null(n);
	assert_int_equal(n->ino, 10);
	assert_non_null(famrt_fs_lookup(fs, "/a/f1", &rc, &e));
	for (int i = 2; i <= 6; i++) {
		char p[16];

		if (i == 5)
			continue;
		snprintf(p, sizeof(p), "/a/f%d", i);
		assert_null(famrt_fs_lookup(fs, p, &rc, &e));
		assert_int_equal(rc, -ENOENT);
	}
	assert_null(famrt_fs_lookup(fs, "/x", &rc, &e));
	{
		struct famrt_alloc_stats st;

		famrt_alloc_get_stats(fs->alloc, &st);
		assert_int_equal(st.size - st.free, 2 * u);
	}
	/* The writer carries on after hand-written entries. */
	n = mk(fs, "/z", 0700);
	assert_int_equal(n->ino, 13);
	dump = mt_dump(fs);
	famrt_fs_close(fs);
	mt_raw_close(&raw);

	/* fsck names each entry that could not be applied. */
	mt_fsck_run(&f, &r);
	assert_int_equal(r.rc, 0);
	assert_true(r.s.complete);
	assert_int_equal(r.s.errors, 6);
	assert_int_equal(r.s.warnings, 1);
	assert_int_equal(r.s.skipped, 6);
	assert_int_equal(r.s.entries, 12);
	assert_int_equal(famrt_fsck_exit_code(&r.s), 4);
	x = mt_find(&r, "entry-parent");
	assert_non_null(x);
	assert_int_equal(x->seq, 2);
	assert_string_equal(x->path, "/x/y");
	x = mt_find(&r, "overlap");
	assert_non_null(x);
	assert_int_equal(x->seq, 4);
	assert_non_null(strstr(x->msg, "'/a/f1' (log entry 3)"));
	assert_non_null(strstr(x->msg, "'/a/f2' (log entry 4)"));
	x = mt_find(&r, "entry-fmap");
	assert_non_null(x);
	assert_int_equal(x->seq, 5);
	assert_non_null(strstr(x->msg, "/a/f3"));
	x = mt_find(&r, "extent-outside");
	assert_non_null(x);
	assert_int_equal(x->seq, 6);
	assert_int_equal(x->off, u);
	assert_non_null(strstr(x->msg, "superblocks or the log"));
	x = mt_find(&r, "entry-skippable");
	assert_non_null(x);
	assert_int_equal(x->sev, FAMRT_FSCK_WARNING);
	assert_int_equal(x->seq, 7);
	x = mt_find(&r, "entry-exists");
	assert_non_null(x);
	assert_int_equal(x->seq, 10);
	x = mt_find(&r, "overlap");
	assert_int_equal(mt_count(&r, "overlap"), 2);
	assert_non_null(strstr(r.f[r.n - 1].msg, "twice in its own map"));
	assert_int_equal(r.f[r.n - 1].seq, 11);

	/* Unknown type without the skippable flag: replay stops. */
	mt_raw_open(&raw, f.paths[0]);
	assert_int_equal(raw.seq, 13);
	mt_raw_append(&raw, 77, 0, junk, 8);
	fs = NULL;
	rc = famrt_fs_open(&fs, f.paths, 1,
			   &(struct famrt_fs_opts){ .host_id = MT_MASTER },
			   &e);
	expect_err(rc, -EPROTONOSUPPORT, &e, "log entry 13 has type 77");
	assert_non_null(strstr(e.msg, "upgrade"));
	mt_fsck_run(&f, &r);
	x = mt_find(&r, "entry-unsupported");
	assert_non_null(x);
	assert_int_equal(x->seq, 13);
	/* Unknown flags on a known type: the same. */
	raw.pos -= famrt_entry_size(8);
	raw.seq--;
	mt_raw_mkdir(&raw, "/q", 0x4);
	rc = famrt_fs_open(&fs, f.paths, 1,
			   &(struct famrt_fs_opts){ .host_id = MT_MASTER },
			   &e);
	expect_err(rc, -EPROTONOSUPPORT, &e, "flags 0x4");
	mt_fsck_run(&f, &r);
	x = mt_find(&r, "entry-unsupported");
	assert_non_null(x);
	assert_non_null(strstr(x->msg, "flags 0x4"));

	/*
	 * Take entry 13 back as if it had never been written (its commit
	 * word and the tail slot that records it); then an open follower
	 * applies a valid entry 13.
	 */
	raw.pos -= famrt_entry_size(16 + 2);
	raw.seq--;
	memset(raw.log + raw.pos, 0, 64);
	memset(raw.log + FAMRT_TAIL_SLOT_SIZE, 0, FAMRT_TAIL_SLOT_SIZE);
	fs = mt_open(&f);
	{
		char *d2 = mt_dump(fs);

		mt_same(d2, dump);
		free(d2);
	}
	mt_raw_mkdir(&raw, "/late", 0);
	{
		uint64_t applied = 0;

		assert_int_equal(famrt_fs_follow(fs, &applied, &e), 0);
		assert_int_equal(applied, 1);
		n = famrt_fs_lookup(fs, "/late", &rc, &e);
		assert_non_null(n);
		assert_int_equal(n->ino, 14);
	}
	famrt_fs_close(fs);
	mt_raw_close(&raw);
	free(dump);
}

/* ---- reopen, follow ---- */

static void test_reopen_same(void **state)
{
	struct famrt_alloc_layout l = ilv(0, 0, 0, NULL);
	struct famrt_fs *fs;
	struct mt_fs f;
	char *a, *b, *c;

	(void)state;
	mt_make(&f, 3, 16 * MT_MiB);
	fs = mt_open(&f);
	mk(fs, "/d", 0755);
	for (int i = 0; i < 20; i++) {
		char p[32];

		snprintf(p, sizeof(p), "/d/f%d", i);
		cr(fs, p, (uint64_t)i * 77777, i & 1 ? &l : NULL);
	}
	a = mt_dump(fs);
	famrt_fs_close(fs);
	fs = mt_open(&f);
	b = mt_dump(fs);
	famrt_fs_close(fs);
	c = mt_dump_fresh(&f); /* read-only */
	mt_same(a, b);
	mt_same(a, c);
	free(a);
	free(b);
	free(c);
}

static void test_follow_same_process(void **state)
{
	struct famrt_fs *a, *b;
	const struct famrt_node *na, *nb;
	struct famrt_err e;
	struct mt_fs f;
	uint64_t applied = 99;
	char *da, *db, *dc;
	int rc;

	(void)state;
	mt_make(&f, 2, 16 * MT_MiB);
	a = mt_open(&f);
	b = mt_open_n(&f, 2, MT_OTHER, false);
	assert_false(b->is_master);
	assert_int_equal(famrt_fs_follow(b, &applied, &e), 0);
	assert_int_equal(applied, 0);

	na = cr(a, "/f1", 12345, NULL);
	assert_int_equal(famrt_fs_follow(b, &applied, &e), 0);
	assert_int_equal(applied, 1);
	nb = famrt_fs_lookup(b, "/f1", &rc, &e);
	assert_non_null(nb);
	assert_int_equal(nb->ino, na->ino);
	assert_int_equal(nb->fmap_len, na->fmap_len);
	assert_memory_equal(nb->fmap_msg, na->fmap_msg, na->fmap_len);
	assert_int_equal(b->pos, a->pos);
	for (int i = 0; i < 10; i++) {
		char p[16];

		snprintf(p, sizeof(p), "/g%d", i);
		mk(a, p, 0755);
	}
	assert_int_equal(famrt_fs_follow(b, &applied, &e), 0);
	assert_int_equal(applied, 10);
	assert_int_equal(famrt_fs_follow(b, &applied, &e), 0);
	assert_int_equal(applied, 0);
	famrt_fs_close(b);

	/* Two writers on this host: each catches up before it appends. */
	b = mt_open(&f);
	for (int i = 0; i < 20; i++) {
		char p[16];

		snprintf(p, sizeof(p), "/w%d", i);
		if (i & 1)
			cr(b, p, (uint64_t)i * MT_UNIT, NULL);
		else
			cr(a, p, (uint64_t)i * MT_UNIT, NULL);
	}
	assert_int_equal(famrt_fs_follow(a, NULL, &e), 0);
	assert_int_equal(famrt_fs_follow(b, NULL, &e), 0);
	assert_int_equal(a->nskipped + b->nskipped, 0);
	assert_int_equal(a->damage | b->damage, 0);
	check_no_overlap(a);
	da = mt_dump(a);
	db = mt_dump(b);
	dc = mt_dump_fresh(&f);
	mt_same(da, db);
	mt_same(da, dc);
	free(da);
	free(db);
	free(dc);
	famrt_fs_close(a);
	famrt_fs_close(b);
}

/* One process creates, another follows it while it runs. */
static void test_follow_two_processes(void **state)
{
	const int nfiles = 300;
	struct famrt_fs *fol;
	struct famrt_err e;
	struct mt_fs f;
	uint64_t total = 0, applied, calls = 0;
	bool released = false;
	int status = -1, rc, go[2];
	char *d1, *d2;
	pid_t pid;

	(void)state;
	mt_make(&f, 2, 64 * MT_MiB);
	fol = mt_open_n(&f, 2, MT_OTHER, false);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct famrt_fs_opts o = { .host_id = MT_MASTER };
		struct famrt_alloc_layout l = ilv(0, 0, 0, NULL);
		struct famrt_fs *w;

		if (famrt_fs_open(&w, f.paths, 2, &o, &e) ||
		    famrt_fs_mkdir(w, "/p", 0755, 0, 0, NULL, &e))
			_exit(2);
		for (int i = 0; i < nfiles; i++) {
			char p[32];

			snprintf(p, sizeof(p), "/p/f%03d", i);
			if (famrt_fs_create(w, p, 0644, 0, 0,
					    (uint64_t)(i % 7) * 50000,
					    i % 3 ? NULL : &l, NULL, &e)) {
				fprintf(stderr, "child: %s\n", e.msg);
				_exit(3);
			}
			/* Wait half way until the parent has seen it all. */
			if (i == nfiles / 3 && read(go[0], p, 1) != 1)
				_exit(4);
		}
		famrt_fs_close(w);
		_exit(0);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		rc = famrt_fs_follow(fol, &applied, &e);
		if (rc)
			print_error("follow: %s\n", e.msg);
		assert_int_equal(rc, 0);
		total += applied;
		calls++;
		if (!released && total >= nfiles / 3 + 2) {
			char p[32];

			/* The writer waits: we see exactly what it did. */
			assert_int_equal(total, nfiles / 3 + 2);
			snprintf(p, sizeof(p), "/p/f%03d", nfiles / 3);
			assert_non_null(famrt_fs_lookup(fol, p, &rc, &e));
			snprintf(p, sizeof(p), "/p/f%03d", nfiles / 3 + 1);
			assert_null(famrt_fs_lookup(fol, p, &rc, &e));
			assert_int_equal(write(go[1], "g", 1), 1);
			released = true;
		}
		if (w == pid) {
			assert_int_equal(famrt_fs_follow(fol, &applied, &e), 0);
			total += applied;
			break;
		}
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(total, nfiles + 1);
	assert_true(released);
	assert_true(calls > 1);
	close(go[0]);
	close(go[1]);
	assert_int_equal(fol->damage, 0);
	assert_int_equal(fol->nskipped, 0);
	for (int i = 0; i < nfiles; i++) {
		char p[32];

		snprintf(p, sizeof(p), "/p/f%03d", i);
		assert_non_null(famrt_fs_lookup(fol, p, &rc, &e));
	}
	d1 = mt_dump(fol);
	d2 = mt_dump_fresh(&f);
	mt_same(d1, d2);
	free(d1);
	free(d2);
	famrt_fs_close(fol);
}

/*
 * Two processes of the master host appending at the same time: the log's
 * lock serializes their appends and each catches up with the other's
 * before it allocates, so every create of both is there, no two files
 * share space (fsck finds nothing), and a fresh replay agrees.
 */
static void test_two_appenders(void **state)
{
	const int nfiles = 150;
	struct famrt_fs *fs;
	struct famrt_err e;
	struct mt_fsck r;
	struct mt_fs f;
	pid_t pid[2];
	int rc, go[2];
	char *d1, *d2;

	(void)state;
	mt_make(&f, 2, 64 * MT_MiB);
	assert_int_equal(pipe(go), 0);
	for (int k = 0; k < 2; k++) {
		pid[k] = fork();
		assert_true(pid[k] >= 0);
		if (pid[k] == 0) {
			struct famrt_fs_opts o = { .host_id = MT_MASTER };
			struct famrt_alloc_layout l = ilv(0, 0, 0, NULL);
			struct famrt_fs *w;
			char c, dir[8];

			close(go[1]);
			/* Start together: both wait for the pipe to close. */
			if (read(go[0], &c, 1) != 0)
				_exit(4);
			snprintf(dir, sizeof(dir), "/w%d", k);
			if (famrt_fs_open(&w, f.paths, 2, &o, &e) ||
			    famrt_fs_mkdir(w, dir, 0755, 0, 0, NULL, &e))
				_exit(2);
			for (int i = 0; i < nfiles; i++) {
				char p[32];

				snprintf(p, sizeof(p), "%s/f%03d", dir, i);
				if (famrt_fs_create(w, p, 0644, 0, 0,
						    (uint64_t)(i % 5) * 40000 +
							    4096,
						    i % 4 ? NULL : &l, NULL,
						    &e)) {
					fprintf(stderr, "appender %d: %s\n", k,
						e.msg);
					_exit(3);
				}
			}
			famrt_fs_close(w);
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]);
	for (int k = 0; k < 2; k++) {
		int status = -1;

		assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	fs = mt_open_n(&f, 2, MT_OTHER, true);
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < nfiles; i++) {
			char p[32];

			snprintf(p, sizeof(p), "/w%d/f%03d", k, i);
			assert_non_null(famrt_fs_lookup(fs, p, &rc, &e));
		}
	assert_int_equal(fs->damage, 0);
	assert_int_equal(fs->nskipped, 0);
	d1 = mt_dump(fs);
	d2 = mt_dump_fresh(&f);
	mt_same(d1, d2);
	free(d1);
	free(d2);
	famrt_fs_close(fs);
	mt_fsck_run(&f, &r);
	if (r.s.errors || r.s.warnings)
		mt_fsck_print(&r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.s.errors, 0);
	assert_int_equal(r.s.warnings, 0);
}

/* ---- who may change the file system ---- */

static void test_non_master_and_readonly(void **state)
{
	struct famrt_fs *b, *ro, *a;
	struct famrt_err e;
	struct mt_fs f;
	size_t l1, l2;
	uint8_t *before, *after;
	uint64_t applied;
	int rc;

	(void)state;
	mt_make(&f, 1, 16 * MT_MiB);
	before = mt_slurp(f.paths[0], &l1);
	b = mt_open_n(&f, 1, MT_OTHER, false);
	assert_false(b->is_master);
	rc = famrt_fs_mkdir(b, "/x", 0755, 0, 0, NULL, &e);
	expect_err(rc, -EROFS, &e, "master host '" MT_MASTER "'");
	assert_non_null(strstr(e.msg, "this host is '" MT_OTHER "'"));
	rc = famrt_fs_create(b, "/x", 0644, 0, 0, 1, NULL, NULL, &e);
	expect_err(rc, -EROFS, &e, "master host '" MT_MASTER "'");
	rc = famrt_fs_add_device(b, mt_dev_new(4 * MT_MiB), &e);
	expect_err(rc, -EROFS, &e, "master host '" MT_MASTER "'");

	ro = mt_open_n(&f, 1, MT_MASTER, true);
	assert_true(ro->is_master);
	rc = famrt_fs_mkdir(ro, "/x", 0755, 0, 0, NULL, &e);
	expect_err(rc, -EROFS, &e, "read-only");
	rc = famrt_fs_create(ro, "/x", 0644, 0, 0, 1, NULL, NULL, &e);
	expect_err(rc, -EROFS, &e, "read-only");
	after = mt_slurp(f.paths[0], &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(before, after, l1);
	free(after);

	/* Both still follow what the master does. */
	a = mt_open(&f);
	mk(a, "/m", 0755);
	assert_int_equal(famrt_fs_follow(b, &applied, &e), 0);
	assert_int_equal(applied, 1);
	assert_int_equal(famrt_fs_follow(ro, &applied, &e), 0);
	assert_int_equal(applied, 1);
	assert_non_null(famrt_fs_lookup(ro, "/m", &rc, &e));
	famrt_fs_close(a);
	famrt_fs_close(b);
	famrt_fs_close(ro);
	free(before);
}

static void test_mkfs_refuses_existing(void **state)
{
	struct famrt_mkfs_opts o = mt_opts();
	const char *one[1];
	struct famrt_fs *fs;
	struct famrt_err e;
	struct mt_fs f;
	uint8_t uuid2[16];
	char *d;
	int rc;

	(void)state;
	mt_make(&f, 2, 16 * MT_MiB);
	fs = mt_open(&f);
	mk(fs, "/keep", 0755);
	famrt_fs_close(fs);
	rc = famrt_mkfs(f.paths, 2, &o, NULL, &e);
	expect_err(rc, -EEXIST, &e, f.paths[0]);
	assert_non_null(strstr(e.msg, "'mt'"));
	assert_non_null(strstr(e.msg, "--force"));
	one[0] = f.paths[1];
	rc = famrt_mkfs(one, 1, &o, NULL, &e);
	expect_err(rc, -EEXIST, &e, "is device 1 of famrt file system");
	assert_non_null(strstr(e.msg, f.paths[1]));
	/* Refused means untouched. */
	d = mt_dump_fresh(&f);
	assert_non_null(strstr(d, "/keep"));
	free(d);
	o.force = true;
	assert_int_equal(famrt_mkfs(f.paths, 2, &o, uuid2, &e), 0);
	assert_memory_not_equal(uuid2, f.uuid, 16);
	fs = mt_open(&f);
	assert_int_equal(fs->nentries, 0);
	assert_null(famrt_fs_lookup(fs, "/keep", &rc, &e));
	famrt_fs_close(fs);
}

static void open_fails(const char *const *paths, uint32_t n, int want,
		       const char *needle, const char *needle2,
		       const char *fsck_code)
{
	struct famrt_fs_opts o = { .host_id = MT_MASTER };
	struct famrt_fs *fs = (void *)1;
	struct famrt_err e;
	struct mt_fsck r;
	int rc = famrt_fs_open(&fs, paths, n, &o, &e);

	expect_err(rc, want, &e, needle);
	if (needle2)
		expect_err(rc, want, &e, needle2);
	assert_null(fs);
	mt_fsck_paths(paths, n, &r);
	if (!mt_find(&r, fsck_code)) {
		print_error("fsck did not report %s:\n", fsck_code);
		mt_fsck_print(&r);
	}
	assert_non_null(mt_find(&r, fsck_code));
	assert_int_equal(famrt_fsck_exit_code(&r.s), 4);
}

static void test_wrong_devices(void **state)
{
	struct mt_fs a, b;
	const char *p[5];
	const char *blank = mt_dev_new(16 * MT_MiB);
	struct famrt_fs *fs;
	struct mt_fsck r;

	(void)state;
	mt_make(&a, 3, 16 * MT_MiB);
	mt_make(&b, 2, 16 * MT_MiB);
	fs = mt_open(&a);
	mk(fs, "/x", 0755);
	famrt_fs_close(fs);

	p[0] = a.paths[1], p[1] = a.paths[0], p[2] = a.paths[2];
	open_fails(p, 3, -EINVAL, a.paths[1], "it is device 1 of famrt file",
		   "sb-none");
	p[0] = a.paths[0], p[1] = a.paths[2], p[2] = a.paths[1];
	open_fails(p, 3, -EINVAL, a.paths[2],
		   "is device 2 of this file system but was given as device 1",
		   "label-index");
	open_fails(a.paths, 2, -EINVAL, "device 2 (uuid", "is missing",
		   "dev-missing");
	p[0] = a.paths[0], p[1] = b.paths[1], p[2] = a.paths[2];
	open_fails(p, 3, -EINVAL, b.paths[1], "belongs to file system",
		   "label-fs");
	p[0] = a.paths[0], p[1] = b.paths[0], p[2] = a.paths[2];
	open_fails(p, 3, -EINVAL, b.paths[0], "device 0 (the superblock)",
		   "label-missing");
	p[0] = a.paths[0], p[1] = a.paths[1], p[2] = a.paths[1];
	open_fails(p, 3, -EINVAL, a.paths[1], "given twice", "dev-duplicate");
	p[0] = a.paths[0], p[1] = blank, p[2] = a.paths[2];
	open_fails(p, 3, -EINVAL, blank, "has no famrt label",
		   "label-missing");
	p[0] = blank;
	open_fails(p, 1, -ENOENT, blank, "holds no famrt file system",
		   "sb-none");
	p[0] = a.paths[0], p[1] = a.paths[1], p[2] = a.paths[2], p[3] = blank;
	open_fails(p, 4, -EINVAL, "4 devices were given", "has 3",
		   "dev-extra");
	/* A device that shrank. */
	assert_int_equal(truncate(a.paths[2], 8 * MT_MiB), 0);
	open_fails(a.paths, 3, -EINVAL, a.paths[2], "device 2 of the file",
		   "dev-size");
	assert_int_equal(truncate(a.paths[2], 16 * MT_MiB), 0);
	mt_fsck_clean(&a, &r);
}

/* ---- add-device ---- */

static void test_add_device(void **state)
{
	const uint32_t d01[2] = { 0, 1 };
	struct famrt_alloc_layout l = ilv(2, 0, 2, d01);
	struct famrt_fmap_extent x;
	struct famrt_alloc_stats st;
	const struct famrt_node *g;
	struct famrt_fs *fs;
	struct mt_fsck r;
	struct famrt_err e;
	struct mt_fs f, other;
	const char *extra;
	char *d1, *d2;
	int rc;

	(void)state;
	mt_make(&f, 1, 16 * MT_MiB);
	mt_make(&other, 2, 8 * MT_MiB);
	fs = mt_open(&f);
	cr(fs, "/f1", MT_MiB, NULL);
	rc = famrt_fs_add_device(fs, other.paths[1], &e);
	expect_err(rc, -EEXIST, &e, other.paths[1]);
	extra = mt_dev_new(8 * MT_MiB);
	rc = famrt_fs_add_device(fs, extra, &e);
	if (rc)
		print_error("add: %s\n", e.msg);
	assert_int_equal(rc, 0);
	f.paths[f.n++] = extra;
	assert_int_equal(fs->ndevs, 2);
	assert_int_equal(fs->nopen, 2);
	assert_int_equal(fs->devs[1].data_start, MT_UNIT);
	famrt_alloc_get_stats(fs->alloc, &st);
	assert_int_equal(st.ndevs, 2);
	assert_int_equal(st.dev[1].size, 8 * MT_MiB - MT_UNIT);
	g = cr(fs, "/g", 2 * MT_MiB, &l);
	assert_int_equal(famrt_fmap_get_extent(g->fmap, 0, &x), 0);
	assert_int_equal(x.strips[0].devindex, 0);
	assert_int_equal(x.strips[1].devindex, 1);
	d1 = mt_dump(fs);
	famrt_fs_close(fs);

	/* Replay applies the add-device entry and checks the label. */
	fs = mt_open(&f);
	assert_int_equal(fs->ndevs, 2);
	assert_int_equal(fs->damage, 0);
	d2 = mt_dump(fs);
	mt_same(d1, d2);
	free(d2);
	/* All devices open: adding a device already ours is refused. */
	rc = famrt_fs_add_device(fs, extra, &e);
	expect_err(rc, -EEXIST, &e, extra);
	famrt_fs_close(fs);
	mt_fsck_clean(&f, &r);
	assert_int_equal(r.s.ndevs, 2);
	assert_int_equal(r.s.files, 2);

	/* Without the added device: a writer is refused, naming it; a
	 * reader gets in, and the damage says which device is missing. */
	fs = NULL;
	rc = famrt_fs_open(&fs, f.paths, 1,
			   &(struct famrt_fs_opts){ .host_id = MT_MASTER }, &e);
	expect_err(rc, -ENODEV, &e,
		   "device 1 added by log entry 2 was not given");
	assert_null(fs);
	fs = mt_open_n(&f, 1, MT_MASTER, true);
	assert_true(fs->damage & FAMRT_DAMAGE_DEVICE);
	assert_non_null(strstr(fs->first_problem.msg,
			       "device 1 added by log entry 2 was not given"));
	rc = famrt_fs_add_device(fs, mt_dev_new(8 * MT_MiB), &e);
	assert_int_equal(rc, -EROFS);
	famrt_fs_close(fs);
	mt_fsck_paths(f.paths, 1, &r);
	assert_non_null(mt_find(&r, "dev-missing"));
	/* With a wrong one in its place. */
	{
		const char *p[2] = { f.paths[0], other.paths[1] };

		fs = NULL;
		rc = famrt_fs_open(&fs, p, 2,
				   &(struct famrt_fs_opts){ .host_id =
								    MT_MASTER },
				   &e);
		expect_err(rc, -ENODEV, &e, "belongs to file system");
		rc = famrt_fs_open(&fs, p, 2,
				   &(struct famrt_fs_opts){ .host_id = MT_MASTER,
							    .readonly = true },
				   &e);
		assert_int_equal(rc, 0);
		assert_true(fs->damage & FAMRT_DAMAGE_DEVICE);
		assert_non_null(strstr(fs->first_problem.msg,
				       "belongs to file system"));
		famrt_fs_close(fs);
		mt_fsck_paths(p, 2, &r);
		assert_non_null(mt_find(&r, "label-fs"));
	}
	free(d1);
}

/* ---- full log, full device ---- */

static void test_log_full(void **state)
{
	struct famrt_alloc_stats s1, s2;
	struct famrt_fs *fs;
	struct mt_fsck r;
	struct famrt_err e;
	struct mt_fs f;
	uint8_t *log0, *log1;
	uint64_t seq;
	size_t l0, l1;
	char p[32], *d0, *d1;
	int rc, i = 0;

	(void)state;
	mt_make(&f, 1, 16 * MT_MiB);
	fs = mt_open(&f);
	for (;; i++) {
		snprintf(p, sizeof(p), "/d%05d", i);
		rc = famrt_fs_mkdir(fs, p, 0755, 0, 0, NULL, &e);
		if (rc)
			break;
	}
	expect_err(rc, -ENOSPC, &e, "the metadata log is full");
	assert_true(i > 4000);
	assert_int_equal(fs->nentries, (uint64_t)i);
	seq = fs->next_seq;
	d0 = mt_dump(fs);
	log0 = mt_slurp(f.paths[0], &l0);
	famrt_alloc_get_stats(fs->alloc, &s1);
	rc = famrt_fs_create(fs, "/file", 0644, 0, 0, 5 * MT_UNIT, NULL, NULL,
			     &e);
	expect_err(rc, -ENOSPC, &e, "the metadata log is full");
	rc = famrt_fs_mkdir(fs, "/another-long-name", 0755, 0, 0, NULL, &e);
	expect_err(rc, -ENOSPC, &e, "the metadata log is full");
	famrt_alloc_get_stats(fs->alloc, &s2);
	assert_int_equal(s1.free, s2.free);
	assert_int_equal(fs->next_seq, seq);
	log1 = mt_slurp(f.paths[0], &l1);
	assert_int_equal(l0, l1);
	assert_memory_equal(log0, log1, l0);
	d1 = mt_dump(fs);
	mt_same(d0, d1);
	free(d1);
	famrt_fs_close(fs);
	d1 = mt_dump_fresh(&f);
	mt_same(d0, d1);
	mt_fsck_clean(&f, &r);
	assert_int_equal(r.s.dirs, (uint64_t)i);
	assert_non_null(mt_find(&r, "log-full"));
	free(d0);
	free(d1);
	free(log0);
	free(log1);
}

static void test_device_full(void **state)
{
	struct famrt_alloc_stats st;
	struct famrt_fs *fs;
	struct mt_fsck r;
	struct famrt_err e;
	struct mt_fs f;
	uint64_t seq, space;
	int rc;

	(void)state;
	mt_make(&f, 1, 4 * MT_MiB);
	fs = mt_open(&f);
	famrt_alloc_get_stats(fs->alloc, &st);
	space = st.free;
	seq = fs->next_seq;
	rc = famrt_fs_create(fs, "/big", 0644, 0, 0, space + 1, NULL, NULL,
			     &e);
	expect_err(rc, -ENOSPC, &e, "no space for a file");
	assert_int_equal(fs->next_seq, seq);
	cr(fs, "/all", space, NULL);
	famrt_alloc_get_stats(fs->alloc, &st);
	assert_int_equal(st.free, 0);
	seq = fs->next_seq;
	rc = famrt_fs_create(fs, "/one", 0644, 0, 0, 1, NULL, NULL, &e);
	expect_err(rc, -ENOSPC, &e, "no space");
	rc = famrt_fs_create(fs, "/zero", 0644, 0, 0, 0, NULL, NULL, &e);
	expect_err(rc, -ENOSPC, &e, "no space");
	assert_int_equal(fs->next_seq, seq);
	mk(fs, "/dirs-need-no-space", 0755);
	famrt_fs_close(fs);
	mt_fsck_clean(&f, &r);
	assert_int_equal(r.s.bytes_free, 0);
	assert_int_equal(r.s.bytes_used, space);
	assert_int_equal(r.s.file_bytes, space);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mkfs_open),
		cmocka_unit_test(test_mkdir_create),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_readdir_paging),
		cmocka_unit_test(test_inode_numbers),
		cmocka_unit_test(test_replay_handmade),
		cmocka_unit_test(test_reopen_same),
		cmocka_unit_test(test_follow_same_process),
		cmocka_unit_test(test_follow_two_processes),
		cmocka_unit_test(test_two_appenders),
		cmocka_unit_test(test_non_master_and_readonly),
		cmocka_unit_test(test_mkfs_refuses_existing),
		cmocka_unit_test(test_wrong_devices),
		cmocka_unit_test(test_add_device),
		cmocka_unit_test(test_log_full),
		cmocka_unit_test(test_device_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

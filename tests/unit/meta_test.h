/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the metadata tests (unit and integration): emulated devices
 * in /dev/shm with unique names (removed at exit), mkfs/open wrappers,
 * a text dump of a namespace for comparisons, hand-written log entries and
 * an fsck run that keeps its findings. Include after <cmocka.h>.
 */
#ifndef FAMRT_TEST_META_TEST_H
#define FAMRT_TEST_META_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <famrt/fmap.h>

#include "dax/dax.h"
#include "meta/format.h"
#include "meta/fs.h"
#include "meta/fsck.h"
#include "meta/ns.h"
#include "util/bytes.h"

#define MT_UNUSED __attribute__((unused))
#define MT_KiB 1024ull
#define MT_MiB (1024ull * MT_KiB)
#define MT_MASTER "host-a"
#define MT_OTHER "host-b"
#define MT_UNIT (64 * MT_KiB)
#define MT_LOG (256 * MT_KiB)

/* ---- device files, removed at exit ---- */

static char mt_files[256][96];
static unsigned mt_nfiles;
static bool mt_atexit_set;
static pid_t mt_owner;

static MT_UNUSED void mt_cleanup_all(void)
{
	if (getpid() != mt_owner)
		return; /* a forked child leaves the files to its parent */
	for (unsigned i = 0; i < mt_nfiles; i++)
		unlink(mt_files[i]);
	mt_nfiles = 0;
}

/* A new emulated device of size bytes; returns its path (static). */
static MT_UNUSED const char *mt_dev_new(uint64_t size)
{
	static unsigned counter;
	struct famrt_err e;
	char *p;

	if (!mt_atexit_set) {
		mt_owner = getpid();
		atexit(mt_cleanup_all);
		mt_atexit_set = true;
	}
	assert_true(mt_nfiles < sizeof(mt_files) / sizeof(mt_files[0]));
	p = mt_files[mt_nfiles++];
	snprintf(p, sizeof(mt_files[0]), "/dev/shm/famrt-mt-%d-%u",
		 (int)getpid(), counter++);
	unlink(p);
	if (famrt_dev_create_file(p, size, 0600, &e)) {
		print_error("cannot create %s: %s\n", p, e.msg);
		fail();
	}
	return p;
}

struct mt_fs {
	uint32_t n;
	const char *paths[FAMRT_MAX_DEVS];
	uint8_t uuid[16];
};

static MT_UNUSED void mt_devs(struct mt_fs *f, uint32_t n, uint64_t size)
{
	memset(f, 0, sizeof(*f));
	f->n = n;
	for (uint32_t i = 0; i < n; i++)
		f->paths[i] = mt_dev_new(size);
}

static MT_UNUSED struct famrt_mkfs_opts mt_opts(void)
{
	struct famrt_mkfs_opts o = {
		.name = "mt", .alloc_unit = MT_UNIT, .log_size = MT_LOG,
		.master = MT_MASTER,
	};

	return o;
}

/* Devices and a file system on them (unit 64 KiB, log 256 KiB). */
static MT_UNUSED void mt_make(struct mt_fs *f, uint32_t n, uint64_t size)
{
	struct famrt_mkfs_opts o = mt_opts();
	struct famrt_err e;
	int rc;

	mt_devs(f, n, size);
	rc = famrt_mkfs(f->paths, n, &o, f->uuid, &e);
	if (rc)
		print_error("mkfs: %s\n", e.msg);
	assert_int_equal(rc, 0);
}

static MT_UNUSED struct famrt_fs *mt_open_n(const struct mt_fs *f, uint32_t n,
				  const char *host, bool ro)
{
	struct famrt_fs_opts o = { .host_id = host, .readonly = ro };
	struct famrt_fs *fs = NULL;
	struct famrt_err e;
	int rc = famrt_fs_open(&fs, f->paths, n, &o, &e);

	if (rc)
		print_error("open: %s\n", e.msg);
	assert_int_equal(rc, 0);
	return fs;
}

static MT_UNUSED struct famrt_fs *mt_open(const struct mt_fs *f)
{
	return mt_open_n(f, f->n, MT_MASTER, false);
}

/* ---- a growing string ---- */

struct mt_str {
	char *s;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void
mt_add(struct mt_str *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!b->s) {
		b->cap = 256;
		b->len = 0;
		b->s = malloc(b->cap);
		assert_non_null(b->s);
	}
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, room, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
}

/* ---- namespace dump: one line per node, in readdir order ---- */

/* Leave the times out (to compare runs that append at other times). */
static bool mt_dump_no_time;

struct mt_dump_ctx {
	const struct famrt_ns *ns;
	struct mt_str *out;
};

static MT_UNUSED int mt_dump_one(const struct famrt_node *n, void *arg);

static MT_UNUSED void mt_dump_dir(struct mt_dump_ctx *c, const struct famrt_node *d)
{
	uint64_t ck = famrt_ns_readdir(c->ns, d, 0, UINT32_MAX, mt_dump_one, c);

	assert_true(ck == UINT64_MAX);
}

static MT_UNUSED int mt_dump_one(const struct famrt_node *n, void *arg)
{
	struct mt_dump_ctx *c = arg;
	char path[FAMRT_PATH_MAX + 1];

	assert_true(famrt_ns_path(c->ns, n, path, sizeof(path)) >= 0);
	mt_add(c->out, "%llu %llu %o %u %u %llu %llu %llu %u %s",
	       (unsigned long long)n->ino, (unsigned long long)n->parent,
	       n->mode, n->uid, n->gid, (unsigned long long)n->size,
	       (unsigned long long)(mt_dump_no_time ? 0 : n->mtime_ns),
	       (unsigned long long)n->seq,
	       n->nlink, path);
	if (n->fmap_len) {
		mt_add(c->out, " ");
		for (uint32_t i = 0; i < n->fmap_len; i++)
			mt_add(c->out, "%02x", n->fmap_msg[i]);
	}
	mt_add(c->out, "\n");
	if (S_ISDIR(n->mode))
		mt_dump_dir(c, n);
	return 0;
}

/* The whole namespace as text (malloc'd). */
static MT_UNUSED char *mt_dump_ns(const struct famrt_ns *ns)
{
	struct mt_str out = { 0 };
	struct mt_dump_ctx c = { ns, &out };

	mt_add(&out, "files %llu dirs %llu\n",
	       (unsigned long long)famrt_ns_nfiles(ns),
	       (unsigned long long)famrt_ns_ndirs(ns));
	mt_dump_one(famrt_ns_root(ns), &c);
	return out.s;
}

static MT_UNUSED char *mt_dump(const struct famrt_fs *fs)
{
	return mt_dump_ns(fs->ns);
}

/* Dump of a fresh open (as the master). */
static MT_UNUSED char *mt_dump_fresh(const struct mt_fs *f)
{
	struct famrt_fs *fs = mt_open_n(f, f->n, MT_MASTER, true);
	char *d = mt_dump(fs);

	famrt_fs_close(fs);
	return d;
}

/* Two dumps are the same; else say where they first differ. */
#define mt_same(a, b) mt_same_at((a), (b), __FILE__, __LINE__)

static MT_UNUSED void mt_same_at(const char *a, const char *b,
				 const char *file, int line)
{
	size_t i = 0, ls = 0;

	if (!strcmp(a, b))
		return;
	while (a[i] && a[i] == b[i]) {
		if (a[i] == '\n')
			ls = i + 1;
		i++;
	}
	print_error("%s:%d: dumps differ at line starting:\n  < %.*s\n"
		    "  > %.*s\n",
		    file, line, (int)strcspn(a + ls, "\n"), a + ls,
		    (int)strcspn(b + ls, "\n"), b + ls);
	fail();
}

/* ---- fsck, findings kept ---- */

#define MT_MAX_FINDINGS 64

struct mt_finding {
	enum famrt_fsck_severity sev;
	char code[40];
	uint32_t dev;
	uint64_t off, seq;
	char path[256];
	char msg[1024];
};

struct mt_fsck {
	int rc;
	struct famrt_err e;
	struct famrt_fsck_summary s;
	unsigned n;         /* findings reported (may exceed the array) */
	struct mt_finding f[MT_MAX_FINDINGS];
};

static MT_UNUSED void mt_fsck_cb(const struct famrt_fsck_finding *f, void *arg)
{
	struct mt_fsck *r = arg;

	if (r->n < MT_MAX_FINDINGS) {
		struct mt_finding *x = &r->f[r->n];

		x->sev = f->severity;
		snprintf(x->code, sizeof(x->code), "%s", f->code);
		x->dev = f->dev;
		x->off = f->offset;
		x->seq = f->seq;
		snprintf(x->path, sizeof(x->path), "%s", f->path ? f->path : "");
		snprintf(x->msg, sizeof(x->msg), "%s", f->message);
	}
	r->n++;
}

static MT_UNUSED void mt_fsck_print(const struct mt_fsck *r)
{
	for (unsigned i = 0; i < r->n && i < MT_MAX_FINDINGS; i++)
		print_message("  fsck %s %s: %s\n",
			      famrt_fsck_severity_name(r->f[i].sev),
			      r->f[i].code, r->f[i].msg);
}

static MT_UNUSED void mt_fsck_paths(const char *const *paths, uint32_t n,
			  struct mt_fsck *r)
{
	struct famrt_fsck_opts o = { .report = mt_fsck_cb, .arg = r };

	memset(r, 0, sizeof(*r));
	r->rc = famrt_fsck(paths, n, &o, &r->s, &r->e);
	/* Every finding was counted, and only those. */
	assert_int_equal(r->n, r->s.errors + r->s.warnings);
}

static MT_UNUSED void mt_fsck_run(const struct mt_fs *f, struct mt_fsck *r)
{
	mt_fsck_paths(f->paths, f->n, r);
}

/* The first finding with this code, or NULL. */
static MT_UNUSED const struct mt_finding *mt_find(const struct mt_fsck *r,
					const char *code)
{
	for (unsigned i = 0; i < r->n && i < MT_MAX_FINDINGS; i++)
		if (!strcmp(r->f[i].code, code))
			return &r->f[i];
	return NULL;
}

static MT_UNUSED unsigned mt_count(const struct mt_fsck *r, const char *code)
{
	unsigned c = 0;

	for (unsigned i = 0; i < r->n && i < MT_MAX_FINDINGS; i++)
		c += !strcmp(r->f[i].code, code);
	return c;
}

/* fsck ran, completely, and found no error (warnings allowed). */
static MT_UNUSED void mt_fsck_clean(const struct mt_fs *f, struct mt_fsck *r)
{
	mt_fsck_run(f, r);
	if (r->rc || r->s.errors || !r->s.complete) {
		print_error("fsck rc %d (%s), %llu errors:\n", r->rc, r->e.msg,
			    (unsigned long long)r->s.errors);
		mt_fsck_print(r);
	}
	assert_int_equal(r->rc, 0);
	assert_true(r->s.complete);
	assert_int_equal(r->s.errors, 0);
	assert_int_equal(famrt_fsck_exit_code(&r->s), 0);
}

/* ---- writing log entries by hand ---- */

struct mt_raw {
	struct famrt_dev dev;
	struct famrt_sb sb;
	uint8_t *log;
	uint64_t pos, seq;
};

/* Map device 0 read-write and find the end of its log. */
static MT_UNUSED void mt_raw_open(struct mt_raw *r, const char *dev0)
{
	struct famrt_entry_hdr h;
	struct famrt_err e;

	memset(r, 0, sizeof(*r));
	assert_int_equal(famrt_dev_open(&r->dev, dev0, O_RDWR, &e), 0);
	assert_int_equal(famrt_dev_map(&r->dev, &e), 0);
	assert_int_equal(famrt_sb_decode(r->dev.base, &r->sb, &e), 0);
	r->log = (uint8_t *)r->dev.base + r->sb.log_offset;
	r->pos = FAMRT_LOG_ENTRIES_START;
	r->seq = 1;
	while (!famrt_entry_check(r->log + r->pos, r->sb.log_size - r->pos,
				  r->seq, r->sb.uuid, &h, NULL)) {
		r->pos += famrt_entry_size(h.len);
		r->seq++;
	}
}

static MT_UNUSED void mt_raw_close(struct mt_raw *r)
{
	famrt_dev_close(&r->dev);
}

/* Append an entry as the writer would (zeroed next commit word, tail). */
static MT_UNUSED uint64_t mt_raw_append(struct mt_raw *r, uint16_t type, uint16_t flags,
			      const void *payload, uint32_t len)
{
	uint8_t *ent = r->log + r->pos;
	size_t size = famrt_entry_size(len);
	struct famrt_tail t = { r->seq, r->pos + size };
	uint64_t cw;

	assert_true(r->pos + size + 8 <= r->sb.log_size);
	memset(ent, 0, size + 8);
	memcpy(ent + FAMRT_ENTRY_HDR_SIZE, payload, len);
	cw = famrt_entry_seal(ent, r->seq, type, flags, len,
			      1000000000ull * r->seq, r->sb.uuid);
	famrt_le64_put(ent, cw);
	famrt_tail_encode(&t, r->sb.uuid,
			  r->log + (r->seq & 1) * FAMRT_TAIL_SLOT_SIZE);
	r->pos += size;
	return r->seq++;
}

static MT_UNUSED uint64_t mt_raw_mkdir(struct mt_raw *r, const char *path, uint16_t flags)
{
	uint8_t buf[16 + FAMRT_PATH_MAX];
	struct famrt_ent_mkdir m = { .mode = 0755, .uid = 1, .gid = 2,
				     .path = path,
				     .path_len = (uint16_t)strlen(path) };
	ssize_t len = famrt_ent_mkdir_encode(&m, buf, sizeof(buf));

	assert_true(len > 0);
	return mt_raw_append(r, FAMRT_ENTRY_MKDIR, flags, buf, (uint32_t)len);
}

/* A create entry whose map is n simple extents (dev, off, len) each. */
static MT_UNUSED uint64_t mt_raw_create(struct mt_raw *r, const char *path,
			      uint64_t size, uint32_t n, const uint64_t *ext)
{
	struct famrt_fmap_desc *d = calloc(1, sizeof(*d));
	uint8_t *msg = malloc(FAMRT_FMAP_MSG_MAX);
	uint8_t *buf = malloc(FAMRT_ENTRY_MAX_PAYLOAD);
	struct famrt_ent_create c;
	ssize_t mlen, len;
	uint64_t seq;

	assert_non_null(d);
	assert_non_null(msg);
	assert_non_null(buf);
	d->file_type = FAMRT_FMAP_FILE_REG;
	d->ext_type = FAMRT_FMAP_EXT_SIMPLE;
	d->nextents = n;
	d->file_size = size;
	for (uint32_t i = 0; i < n; i++) {
		d->extents[i].nstrips = 1;
		d->extents[i].nbytes = ext[3 * i + 2];
		d->extents[i].strips[0].devindex = (uint32_t)ext[3 * i];
		d->extents[i].strips[0].offset = ext[3 * i + 1];
		d->extents[i].strips[0].len = ext[3 * i + 2];
	}
	mlen = famrt_fmap_desc_encode(d, msg, FAMRT_FMAP_MSG_MAX);
	assert_true(mlen > 0);
	c = (struct famrt_ent_create){ .mode = 0644, .uid = 1, .gid = 2,
				       .path = path,
				       .path_len = (uint16_t)strlen(path),
				       .fmap = msg,
				       .fmap_len = (uint32_t)mlen };
	len = famrt_ent_create_encode(&c, buf, FAMRT_ENTRY_MAX_PAYLOAD);
	assert_true(len > 0);
	seq = mt_raw_append(r, FAMRT_ENTRY_CREATE, 0, buf, (uint32_t)len);
	free(d);
	free(msg);
	free(buf);
	return seq;
}

/* ---- files ---- */

/* All bytes of a file (malloc'd), for before/after comparisons. */
static MT_UNUSED uint8_t *mt_slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *b;
	size_t got = 0;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	assert_non_null(b);
	while (got < (size_t)st.st_size) {
		ssize_t r = pread(fd, b + got, (size_t)st.st_size - got,
				  (off_t)got);

		assert_true(r > 0);
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return b;
}

static MT_UNUSED void mt_pwrite(const char *path, uint64_t off, const void *p,
		      size_t len)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, p, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static MT_UNUSED void mt_pread(const char *path, uint64_t off, void *p, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, p, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static MT_UNUSED void mt_xor_byte(const char *path, uint64_t off, uint8_t mask)
{
	uint8_t b;

	mt_pread(path, off, &b, 1);
	b ^= mask;
	mt_pwrite(path, off, &b, 1);
}

#endif

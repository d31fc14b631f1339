/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt_fsck (runtime/meta/fsck.c): a clean file system and its summary,
 * then one kind of damage at a time, each made by hand on the devices:
 * the finding's code, severity and place, that the check goes on where it
 * can, the exit code, and that fsck never changes a byte.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "meta_test.h"

/* A file system with 10 entries on two devices: 2 dirs, 8 files. */
struct fx {
	struct mt_fs f;
	uint64_t ends[16]; /* log offset just past entry s */
	uint64_t nent;
	struct famrt_sb sb;
};

static void fx_make(struct fx *x)
{
	struct famrt_alloc_layout l = { .kind = FAMRT_LAYOUT_INTERLEAVE };
	struct famrt_fs *fs;
	struct famrt_err e;

	mt_make(&x->f, 2, 16 * MT_MiB);
	fs = mt_open(&x->f);
	assert_int_equal(famrt_fs_mkdir(fs, "/d", 0755, 0, 0, NULL, &e), 0);
	x->ends[1] = fs->pos;
	assert_int_equal(famrt_fs_mkdir(fs, "/d/e", 0755, 0, 0, NULL, &e), 0);
	x->ends[2] = fs->pos;
	for (int i = 0; i < 8; i++) {
		char p[32];

		snprintf(p, sizeof(p), "/d/f%d", i);
		assert_int_equal(famrt_fs_create(fs, p, 0644, 0, 0,
						 (uint64_t)(i + 1) * 100000,
						 i & 1 ? &l : NULL, NULL, &e),
				 0);
		x->ends[3 + i] = fs->pos;
	}
	x->nent = 10;
	x->sb = fs->sb;
	famrt_fs_close(fs);
}

/* Device bytes, to prove fsck changes none. */
struct snap {
	uint8_t *b[2];
	size_t len[2];
};

static void snap_take(const struct fx *x, struct snap *s)
{
	for (int i = 0; i < 2; i++)
		s->b[i] = mt_slurp(x->f.paths[i], &s->len[i]);
}

static void snap_same(const struct fx *x, struct snap *s)
{
	for (int i = 0; i < 2; i++) {
		size_t l;
		uint8_t *now = mt_slurp(x->f.paths[i], &l);

		assert_int_equal(l, s->len[i]);
		assert_memory_equal(now, s->b[i], l);
		free(now);
		free(s->b[i]);
	}
}

/* fsck, checking it left every byte alone. */
static void run(const struct fx *x, struct mt_fsck *r)
{
	struct snap s;

	snap_take(x, &s);
	mt_fsck_run(&x->f, r);
	snap_same(x, &s);
}

/* Exactly one finding with this code, of this severity; returns it. */
static const struct mt_finding *one(const struct mt_fsck *r, const char *code,
				    enum famrt_fsck_severity sev)
{
	const struct mt_finding *f = mt_find(r, code);

	if (!f || mt_count(r, code) != 1) {
		print_error("want one %s, got:\n", code);
		mt_fsck_print(r);
	}
	assert_non_null(f);
	assert_int_equal(mt_count(r, code), 1);
	assert_int_equal(f->sev, sev);
	return f;
}

static uint64_t log_dev_off(const struct fx *x, uint64_t pos)
{
	return x->sb.log_offset + pos;
}

static void test_clean_summary(void **state)
{
	struct famrt_alloc_stats st;
	struct famrt_fs *fs;
	struct mt_fsck r;
	struct fx x;
	uint64_t fb = 0;

	(void)state;
	fx_make(&x);
	for (int i = 0; i < 8; i++)
		fb += (uint64_t)(i + 1) * 100000;
	run(&x, &r);
	if (r.n)
		mt_fsck_print(&r);
	assert_int_equal(r.rc, 0);
	assert_true(r.s.complete);
	assert_false(r.s.operational_error);
	assert_int_equal(r.s.errors + r.s.warnings, 0);
	fs = mt_open(&x.f);
	famrt_alloc_get_stats(fs->alloc, &st);
	assert_int_equal(r.s.entries, fs->nentries);
	assert_int_equal(r.s.entries, 10);
	assert_int_equal(r.s.entries_lost, 0);
	assert_int_equal(r.s.skipped, 0);
	assert_int_equal(r.s.files, 8);
	assert_int_equal(r.s.dirs, 2);
	assert_int_equal(r.s.file_bytes, fb);
	assert_int_equal(r.s.bytes_total, st.size);
	assert_int_equal(r.s.bytes_free, st.free);
	assert_int_equal(r.s.bytes_used, st.size - st.free);
	assert_int_equal(r.s.log_used, fs->pos);
	assert_int_equal(r.s.log_size, MT_LOG);
	assert_int_equal(r.s.ndevs, 2);
	assert_int_equal(r.s.ndevs_given, 2);
	assert_string_equal(r.s.name, "mt");
	assert_memory_equal(r.s.uuid, x.f.uuid, 16);
	assert_int_equal(famrt_fsck_exit_code(&r.s), 0);
	famrt_fs_close(fs);
	/* A NULL callback only counts. */
	{
		struct famrt_fsck_summary s;

		assert_int_equal(famrt_fsck(x.f.paths, 2, NULL, &s, NULL), 0);
		assert_int_equal(s.files, 8);
	}
}

static void put_sb(const struct fx *x, uint64_t off,
		   const struct famrt_sb *sb)
{
	uint8_t b[FAMRT_SB_SIZE];

	famrt_sb_encode(sb, b);
	mt_pwrite(x->f.paths[0], off, b, sizeof(b));
}

static void test_superblocks(void **state)
{
	const struct mt_finding *f;
	struct famrt_sb sb;
	struct famrt_fs *fs;
	uint8_t saved[2 * FAMRT_SB_SIZE];
	struct mt_fsck r;
	struct fx x;

	(void)state;
	fx_make(&x);
	mt_pread(x.f.paths[0], 0, saved, sizeof(saved));

	/* Primary checksum: an error, the backup is used, all else runs. */
	mt_xor_byte(x.f.paths[0], 100, 0x10);
	run(&x, &r);
	f = one(&r, "sb-primary-crc", FAMRT_FSCK_ERROR);
	assert_int_equal(f->dev, 0);
	assert_int_equal(f->off, 0);
	assert_non_null(strstr(f->msg, "the backup is used"));
	assert_non_null(strstr(f->msg, x.f.paths[0]));
	assert_int_equal(r.s.errors, 1);
	assert_true(r.s.complete);
	assert_int_equal(r.s.files, 8);
	assert_int_equal(famrt_fsck_exit_code(&r.s), 4);
	fs = mt_open(&x.f);
	assert_true(fs->damage & FAMRT_DAMAGE_SB_PRIMARY);
	famrt_fs_close(fs);
	mt_pwrite(x.f.paths[0], 0, saved, sizeof(saved));

	mt_xor_byte(x.f.paths[0], FAMRT_SB_SIZE + 3000, 0x01);
	run(&x, &r);
	f = one(&r, "sb-backup-crc", FAMRT_FSCK_ERROR);
	assert_int_equal(f->off, FAMRT_SB_SIZE);
	assert_int_equal(r.s.errors, 1);
	mt_pwrite(x.f.paths[0], 0, saved, sizeof(saved));

	mt_xor_byte(x.f.paths[0], 0, 0xff);
	run(&x, &r);
	one(&r, "sb-primary-missing", FAMRT_FSCK_ERROR);
	mt_pwrite(x.f.paths[0], 0, saved, sizeof(saved));

	sb = x.sb;
	sb.version = 2;
	put_sb(&x, 0, &sb);
	run(&x, &r);
	one(&r, "sb-primary-unsupported", FAMRT_FSCK_ERROR);
	sb = x.sb;
	sb.alloc_unit = 3000;
	put_sb(&x, FAMRT_SB_SIZE, &sb);
	run(&x, &r);
	one(&r, "sb-backup-invalid", FAMRT_FSCK_ERROR);
	one(&r, "sb-primary-unsupported", FAMRT_FSCK_ERROR);
	one(&r, "sb-none", FAMRT_FSCK_ERROR);
	assert_false(r.s.complete);
	assert_int_equal(r.rc, 0);
	assert_int_equal(famrt_fsck_exit_code(&r.s), 4);
	mt_pwrite(x.f.paths[0], 0, saved, sizeof(saved));

	/* Two valid superblocks that differ. */
	sb = x.sb;
	snprintf(sb.name, sizeof(sb.name), "other");
	put_sb(&x, FAMRT_SB_SIZE, &sb);
	run(&x, &r);
	f = one(&r, "sb-mismatch", FAMRT_FSCK_ERROR);
	assert_non_null(strstr(f->msg, "(name)"));
	mt_pwrite(x.f.paths[0], 0, saved, sizeof(saved));

	/* Nothing there at all. */
	{
		uint8_t zero[2 * FAMRT_SB_SIZE] = { 0 };

		mt_pwrite(x.f.paths[0], 0, zero, sizeof(zero));
		run(&x, &r);
		f = one(&r, "sb-none", FAMRT_FSCK_ERROR);
		assert_non_null(strstr(f->msg, "holds no famrt file system"));
		assert_int_equal(r.s.errors, 1);
		assert_false(r.s.complete);
		mt_pwrite(x.f.paths[0], 0, saved, sizeof(saved));
	}
	mt_fsck_clean(&x.f, &r);
}

static void put_label(const struct fx *x, const struct famrt_label *l)
{
	uint8_t b[FAMRT_LABEL_SIZE];

	famrt_label_encode(l, b);
	mt_pwrite(x->f.paths[1], 0, b, sizeof(b));
}

static void test_labels(void **state)
{
	uint8_t saved[FAMRT_LABEL_SIZE];
	const struct mt_finding *f;
	struct famrt_label l, l0;
	struct famrt_err e;
	struct mt_fsck r;
	struct fx x;

	(void)state;
	fx_make(&x);
	mt_pread(x.f.paths[1], 0, saved, sizeof(saved));
	assert_int_equal(famrt_label_decode(saved, &l0, &e), 0);

	mt_xor_byte(x.f.paths[1], 50, 0x40);
	run(&x, &r);
	f = one(&r, "label-crc", FAMRT_FSCK_ERROR);
	assert_int_equal(f->dev, 1);
	assert_non_null(strstr(f->msg, x.f.paths[1]));
	assert_int_equal(r.s.errors, 1);
	assert_int_equal(r.s.files, 8); /* the check went on */
	mt_pwrite(x.f.paths[1], 0, saved, sizeof(saved));

	mt_xor_byte(x.f.paths[1], 2, 0x40);
	run(&x, &r);
	one(&r, "label-missing", FAMRT_FSCK_ERROR);
	mt_pwrite(x.f.paths[1], 0, saved, sizeof(saved));

	l = l0;
	l.version = 9;
	put_label(&x, &l);
	run(&x, &r);
	one(&r, "label-unsupported", FAMRT_FSCK_ERROR);

	l = l0;
	l.devindex = 5;
	put_label(&x, &l);
	run(&x, &r);
	f = one(&r, "label-index", FAMRT_FSCK_ERROR);
	assert_non_null(strstr(f->msg, "is device 5 of this file system but "
					"was given as device 1"));

	l = l0;
	l.dev_uuid[3] ^= 1;
	put_label(&x, &l);
	run(&x, &r);
	one(&r, "label-uuid", FAMRT_FSCK_ERROR);

	l = l0;
	l.size += 4096;
	put_label(&x, &l);
	run(&x, &r);
	one(&r, "label-size", FAMRT_FSCK_ERROR);
	assert_int_equal(r.s.errors, 1);

	mt_pwrite(x.f.paths[1], 0, saved, sizeof(saved));
	mt_fsck_clean(&x.f, &r);
}

static void put_tail(const struct fx *x, int slot, uint64_t seq, uint64_t end)
{
	struct famrt_tail t = { seq, end };
	uint8_t b[FAMRT_TAIL_SLOT_SIZE];

	famrt_tail_encode(&t, x->sb.uuid, b);
	mt_pwrite(x->f.paths[0], log_dev_off(x, (uint64_t)slot * 64), b,
		  sizeof(b));
}

static void test_tail(void **state)
{
	uint8_t saved[128], nw[64], old[64], torn[64];
	const struct mt_finding *f;
	struct famrt_tail t;
	struct famrt_fs *fs;
	struct mt_fsck r;
	struct fx x;

	(void)state;
	fx_make(&x);
	mt_pread(x.f.paths[0], log_dev_off(&x, 0), saved, sizeof(saved));
	/* Entry 10 is in slot 0, entry 9 in slot 1. */
	assert_int_equal(famrt_tail_decode(saved, x.sb.uuid, &t), 0);
	assert_int_equal(t.seq, 10);
	assert_int_equal(t.end, x.ends[10]);

	mt_xor_byte(x.f.paths[0], log_dev_off(&x, 64 + 9), 0x02);
	run(&x, &r);
	f = one(&r, "tail-damaged", FAMRT_FSCK_ERROR);
	assert_int_equal(f->off, log_dev_off(&x, 64));
	assert_int_equal(r.s.errors, 1);
	mt_xor_byte(x.f.paths[0], log_dev_off(&x, 64 + 1), 0x02);
	mt_xor_byte(x.f.paths[0], log_dev_off(&x, 64 + 9), 0x02);
	run(&x, &r);
	f = one(&r, "tail-damaged", FAMRT_FSCK_ERROR);
	assert_non_null(strstr(f->msg, "magic"));
	mt_pwrite(x.f.paths[0], log_dev_off(&x, 0), saved, sizeof(saved));

	put_tail(&x, 0, 9, x.ends[9]);
	run(&x, &r);
	one(&r, "tail-parity", FAMRT_FSCK_ERROR);
	put_tail(&x, 0, 10, x.ends[9]);
	run(&x, &r);
	f = one(&r, "tail-end", FAMRT_FSCK_ERROR);
	assert_int_equal(r.s.errors, 1);
	/* A tail lagging behind the log (a crash before recording it). */
	put_tail(&x, 0, 8, x.ends[8]);
	mt_fsck_clean(&x.f, &r);
	assert_int_equal(r.s.warnings, 0);

	/* Torn: the tail of 10 stored over that of 8 up to byte 21. */
	{
		struct famrt_tail tn = { 10, x.ends[10] }, to = { 8,
								  x.ends[8] };

		famrt_tail_encode(&tn, x.sb.uuid, nw);
		famrt_tail_encode(&to, x.sb.uuid, old);
		memcpy(torn, nw, 21);
		memcpy(torn + 21, old + 21, 43);
		mt_pwrite(x.f.paths[0], log_dev_off(&x, 0), torn, 64);
	}
	run(&x, &r);
	f = one(&r, "tail-torn", FAMRT_FSCK_WARNING);
	assert_int_equal(r.s.errors, 0);
	assert_int_equal(famrt_fsck_exit_code(&r.s), 0);
	/* Replay flags it; fsck's own cross-check accepts that. */
	fs = mt_open(&x.f);
	assert_int_equal(fs->damage, FAMRT_DAMAGE_TAIL0);
	famrt_fs_close(fs);
	/* The same bytes with one more changed are not a torn write. */
	torn[40] ^= 0x80;
	mt_pwrite(x.f.paths[0], log_dev_off(&x, 0), torn, 64);
	run(&x, &r);
	one(&r, "tail-damaged", FAMRT_FSCK_ERROR);
	mt_pwrite(x.f.paths[0], log_dev_off(&x, 0), saved, sizeof(saved));
	mt_fsck_clean(&x.f, &r);
}

static void test_log_entries(void **state)
{
	uint8_t *saved;
	const struct mt_finding *f;
	struct famrt_fs *fs = NULL;
	struct famrt_err e;
	struct mt_fsck r;
	struct fx x;
	int rc;

	(void)state;
	fx_make(&x);
	saved = malloc(MT_LOG);
	assert_non_null(saved);
	mt_pread(x.f.paths[0], log_dev_off(&x, 0), saved, MT_LOG);

	/* A byte of entry 3's payload. */
	mt_xor_byte(x.f.paths[0], log_dev_off(&x, x.ends[2] + 40), 0x04);
	run(&x, &r);
	f = one(&r, "log-entry-damaged", FAMRT_FSCK_ERROR);
	assert_int_equal(f->seq, 3);
	assert_int_equal(f->off, log_dev_off(&x, x.ends[2]));
	assert_non_null(strstr(f->msg, "the next whole entry is 4"));
	assert_int_equal(r.s.entries, 2);
	assert_int_equal(r.s.entries_lost, 7);
	assert_int_equal(r.s.files, 0);
	assert_int_equal(r.s.dirs, 2);
	rc = famrt_fs_open(&fs, x.f.paths, 2,
			   &(struct famrt_fs_opts){ .host_id = MT_MASTER },
			   &e);
	assert_int_equal(rc, -EUCLEAN);
	assert_non_null(strstr(e.msg, "log entry 3"));
	mt_pwrite(x.f.paths[0], log_dev_off(&x, 0), saved, MT_LOG);

	/* Its length field: the scan finds entry 4 all the same. */
	mt_xor_byte(x.f.paths[0], log_dev_off(&x, x.ends[2] + 21), 0x01);
	run(&x, &r);
	f = one(&r, "log-entry-damaged", FAMRT_FSCK_ERROR);
	assert_non_null(strstr(f->msg, "the next whole entry is 4"));
	assert_int_equal(r.s.entries_lost, 7);
	mt_pwrite(x.f.paths[0], log_dev_off(&x, 0), saved, MT_LOG);

	/* The last entry. */
	mt_xor_byte(x.f.paths[0], log_dev_off(&x, x.ends[9] + 1), 0x01);
	run(&x, &r);
	f = one(&r, "log-entry-damaged", FAMRT_FSCK_ERROR);
	assert_int_equal(f->seq, 10);
	assert_non_null(strstr(f->msg, "no whole entry follows"));
	assert_int_equal(r.s.entries, 9);
	assert_int_equal(r.s.errors, 1);
	mt_pwrite(x.f.paths[0], log_dev_off(&x, 0), saved, MT_LOG);

	/* Garbage where the next entry would begin. */
	{
		uint8_t g[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

		mt_pwrite(x.f.paths[0], log_dev_off(&x, x.ends[10]), g, 8);
		run(&x, &r);
		f = one(&r, "log-garbage", FAMRT_FSCK_ERROR);
		assert_int_equal(f->off, log_dev_off(&x, x.ends[10]));
		assert_non_null(strstr(f->msg, "0x0807060504030201"));
		mt_pwrite(x.f.paths[0], log_dev_off(&x, 0), saved, MT_LOG);
	}

	/* An append cut short in its commit word: harmless. */
	{
		struct mt_raw raw;
		uint8_t cw[8];

		mt_raw_open(&raw, x.f.paths[0]);
		assert_int_equal(raw.seq, 11);
		mt_raw_mkdir(&raw, "/torn", 0);
		memcpy(cw, raw.log + x.ends[10], 8);
		memset(raw.log + x.ends[10], 0, 8);
		/* The tail slot it wrote would say 11: put 9 back. */
		memcpy(raw.log + 64, saved + 64, 64);
		memcpy(raw.log + x.ends[10], cw, 5);
		mt_raw_close(&raw);
		run(&x, &r);
		f = one(&r, "log-torn", FAMRT_FSCK_WARNING);
		assert_int_equal(f->seq, 11);
		assert_int_equal(r.s.errors, 0);
		assert_int_equal(r.s.entries, 10);
		/* ... but not when a stored byte is wrong. */
		mt_xor_byte(x.f.paths[0], log_dev_off(&x, x.ends[10] + 4),
			    0x01);
		run(&x, &r);
		one(&r, "log-garbage", FAMRT_FSCK_ERROR);
		mt_pwrite(x.f.paths[0], log_dev_off(&x, 0), saved, MT_LOG);
	}
	mt_fsck_clean(&x.f, &r);
	free(saved);
}

static void test_bad_entries(void **state)
{
	const struct mt_finding *f;
	struct famrt_fs *fs;
	struct mt_raw raw;
	struct mt_fsck r;
	struct fx x;
	uint64_t ds, u = MT_UNIT;
	uint8_t buf[64];

	(void)state;
	fx_make(&x);
	mt_raw_open(&raw, x.f.paths[0]);
	ds = raw.sb.devs[1].data_start;
	{
		/* Aligned for the device (4 KiB), not on a unit. */
		const uint64_t ex[3] = { 1, 8 * u + 4096, u };

		assert_int_equal(mt_raw_create(&raw, "/d/unal", u, 1, ex), 11);
	}
	{
		struct famrt_ent_mkdir m = { .mode = 0755, .path = "/d/m",
					     .path_len = 4 };
		ssize_t len = famrt_ent_mkdir_encode(&m, buf, sizeof(buf));

		assert_true(len > 0);
		buf[len++] = 0; /* a trailing byte */
		assert_int_equal(mt_raw_append(&raw, FAMRT_ENTRY_MKDIR, 0, buf,
					       (uint32_t)len),
				 12);
	}
	{
		struct famrt_ent_add_device a = {
			.devindex = 5,
			.dev = { .size = 8 * MT_MiB, .align = 4096,
				 .data_start = u },
		};
		ssize_t len = famrt_ent_add_device_encode(&a, buf, sizeof(buf));

		assert_int_equal(mt_raw_append(&raw, FAMRT_ENTRY_ADD_DEVICE, 0,
					       buf, (uint32_t)len),
				 13);
		a.devindex = 2;
		a.dev.data_start = 0; /* data over its own label */
		len = famrt_ent_add_device_encode(&a, buf, sizeof(buf));
		assert_int_equal(mt_raw_append(&raw, FAMRT_ENTRY_ADD_DEVICE, 0,
					       buf, (uint32_t)len),
				 14);
	}
	{
		/* Overlaps a file the writer made. */
		const uint64_t ex[3] = { 1, ds, u };

		assert_int_equal(mt_raw_create(&raw, "/d/ov", u, 1, ex), 15);
	}
	{
		/* chmod of an inode that was never made. */
		struct famrt_ent_setattr a = { .ino = 999, .mode = 0700,
					       .uid = FAMRT_SETATTR_KEEP,
					       .gid = FAMRT_SETATTR_KEEP };
		ssize_t len = famrt_ent_setattr_encode(&a, buf, sizeof(buf));

		assert_int_equal(mt_raw_append(&raw, FAMRT_ENTRY_SETATTR, 0,
					       buf, (uint32_t)len),
				 16);
	}
	mt_raw_close(&raw);

	fs = mt_open(&x.f);
	assert_int_equal(fs->nskipped, 6);
	assert_int_equal(fs->ndevs, 2);
	famrt_fs_close(fs);
	run(&x, &r);
	assert_int_equal(r.s.skipped, 6);
	assert_int_equal(r.s.errors, 6);
	f = one(&r, "entry-inode", FAMRT_FSCK_ERROR);
	assert_int_equal(f->seq, 16);
	assert_non_null(strstr(f->msg, "no inode 999"));
	f = one(&r, "extent-unaligned", FAMRT_FSCK_ERROR);
	assert_int_equal(f->seq, 11);
	assert_int_equal(f->dev, 1);
	assert_int_equal(f->off, 8 * u + 4096);
	assert_string_equal(f->path, "/d/unal");
	f = one(&r, "entry-invalid", FAMRT_FSCK_ERROR);
	assert_int_equal(f->seq, 12);
	assert_non_null(strstr(f->msg, "trailing"));
	assert_int_equal(mt_count(&r, "entry-add-device"), 2);
	f = one(&r, "overlap", FAMRT_FSCK_ERROR);
	assert_int_equal(f->seq, 15);
	assert_int_equal(f->dev, 1);
	assert_non_null(strstr(f->msg, "/d/ov"));
	assert_non_null(strstr(f->msg, "/d/f"));
}

/* Attributes changed by setattr entries: fsck replays them too (its
 * cross-check with famrt_fs_open compares every node's mode and owner). */
static void test_setattr(void **state)
{
	const struct famrt_node *n;
	struct famrt_fs *fs;
	struct famrt_err e;
	struct mt_fsck r;
	struct fx x;

	(void)state;
	fx_make(&x);
	fs = mt_open(&x.f);
	assert_int_equal(famrt_fs_setattr(fs, "/d/f3", 0600, 42,
					  FAMRT_SETATTR_KEEP, &n, &e),
			 0);
	assert_int_equal(n->mode, S_IFREG | 0600);
	assert_int_equal(famrt_fs_setattr(fs, "/d/e", FAMRT_SETATTR_KEEP,
					  FAMRT_SETATTR_KEEP, 77, NULL, &e),
			 0);
	famrt_fs_close(fs);
	run(&x, &r);
	if (r.n)
		mt_fsck_print(&r);
	assert_int_equal(r.s.errors + r.s.warnings, 0);
	assert_int_equal(r.s.entries, 12);
}

static void test_operational(void **state)
{
	const char *bad[2] = { "/dev/shm/famrt-no-such-device", NULL };
	struct famrt_fsck_summary s;
	struct famrt_err e;
	struct fx x;

	(void)state;
	assert_int_equal(famrt_fsck(bad, 1, NULL, &s, &e), -ENOENT);
	assert_non_null(strstr(e.msg, bad[0]));
	assert_true(s.operational_error);
	assert_false(s.complete);
	assert_int_equal(famrt_fsck_exit_code(&s), 8);
	assert_int_equal(famrt_fsck(bad, 0, NULL, &s, &e), -EINVAL);
	assert_int_equal(famrt_fsck_exit_code(&s), 8);
	/* Both kinds at once: the bits add up. */
	fx_make(&x);
	bad[0] = x.f.paths[0];
	bad[1] = "/dev/shm/famrt-no-such-device";
	assert_int_equal(famrt_fsck(bad, 2, NULL, &s, &e), -ENOENT);
	s.errors = 1;
	assert_int_equal(famrt_fsck_exit_code(&s), 12);
	assert_string_equal(famrt_fsck_severity_name(FAMRT_FSCK_ERROR),
			    "error");
	assert_string_equal(famrt_fsck_severity_name(FAMRT_FSCK_WARNING),
			    "warning");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_summary),
		cmocka_unit_test(test_superblocks),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_log_entries),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_setattr),
		cmocka_unit_test(test_operational),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

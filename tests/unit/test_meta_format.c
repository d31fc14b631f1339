/* SPDX-License-Identifier: Apache-2.0 */
/*
 * On-media structures: CRC-32C vectors, superblock/label/tail/entry
 * encode-decode round trips, every byte of each structure flipped, payload
 * codecs and path rules.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "meta/format.h"
#include "util/crc32c.h"

static void test_crc32c_vectors(void **state)
{
	static const uint8_t zeros[32];
	uint8_t ones[32], inc[32];

	(void)state;
	memset(ones, 0xff, sizeof(ones));
	for (int i = 0; i < 32; i++)
		inc[i] = (uint8_t)i;
	/* RFC 3720 B.4 test vectors. */
	assert_int_equal(famrt_crc32c_update(0, zeros, 32), 0x8a9136aa);
	assert_int_equal(famrt_crc32c_update(0, ones, 32), 0x62a8ab43);
	assert_int_equal(famrt_crc32c_update(0, inc, 32), 0x46dd794e);
	assert_int_equal(famrt_crc32c_update(0, "123456789", 9), 0xe3069283);
	assert_int_equal(famrt_crc32c_sw(0, "123456789", 9), 0xe3069283);
	/* Chaining equals one pass, at every split and misalignment. */
	for (size_t split = 0; split <= 32; split++) {
		uint32_t c = famrt_crc32c_update(0, inc, split);

		c = famrt_crc32c_update(c, inc + split, 32 - split);
		assert_int_equal(c, 0x46dd794e);
		assert_int_equal(famrt_crc32c_update(0, inc + 1, 31 - split / 2),
				 famrt_crc32c_sw(0, inc + 1, 31 - split / 2));
	}
}

static void make_sb(struct famrt_sb *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->version = FAMRT_FORMAT_VERSION;
	for (int i = 0; i < 16; i++)
		sb->uuid[i] = (uint8_t)(0x10 + i);
	strcpy(sb->name, "testfs");
	sb->alloc_unit = 2u << 20;
	sb->log_offset = FAMRT_LOG_DEFAULT_OFFSET;
	sb->log_size = 1u << 20;
	sb->ctime_ns = 123456789;
	strcpy(sb->master, "host-a");
	sb->ndevs = 2;
	sb->flags = FAMRT_SB_NONCOHERENT;
	for (uint32_t i = 0; i < 2; i++) {
		memset(sb->devs[i].uuid, 0xa0 + (int)i, 16);
		sb->devs[i].size = 64u << 20;
		sb->devs[i].align = 4096;
		sb->devs[i].data_start = i ? 2u << 20 : 4u << 20;
	}
}

static void test_sb_roundtrip_and_flips(void **state)
{
	uint8_t buf[FAMRT_SB_SIZE];
	struct famrt_sb sb, out;
	struct famrt_err e;

	(void)state;
	make_sb(&sb);
	famrt_sb_encode(&sb, buf);
	assert_int_equal(famrt_sb_decode(buf, &out, &e), 0);
	assert_memory_equal(&sb, &out, sizeof(sb));
	/* Every single-bit flip anywhere is refused. */
	for (size_t i = 0; i < FAMRT_SB_SIZE; i++) {
		buf[i] ^= 0x04;
		assert_int_not_equal(famrt_sb_decode(buf, &out, &e), 0);
		assert_true(e.msg[0] != '\0');
		buf[i] ^= 0x04;
	}
	assert_int_equal(famrt_sb_decode(buf, &out, NULL), 0);
}

/* Re-encode after changing a field, so the CRC is right. */
static int sb_decode_with(void (*change)(struct famrt_sb *), struct famrt_err *e)
{
	uint8_t buf[FAMRT_SB_SIZE];
	struct famrt_sb sb, out;

	make_sb(&sb);
	change(&sb);
	famrt_sb_encode(&sb, buf);
	return famrt_sb_decode(buf, &out, e);
}

static void ch_version(struct famrt_sb *s) { s->version = 2; }
static void ch_unit(struct famrt_sb *s) { s->alloc_unit = 3u << 20; }
static void ch_ndevs0(struct famrt_sb *s) { s->ndevs = 0; }
static void ch_flags(struct famrt_sb *s) { s->flags = 0x80; }
static void ch_log(struct famrt_sb *s) { s->log_size = 4096; }
static void ch_logend(struct famrt_sb *s) { s->devs[0].data_start = 0; }
static void ch_align(struct famrt_sb *s) { s->devs[1].align = 4u << 20; }

static void test_sb_semantic_refusals(void **state)
{
	struct famrt_err e;

	(void)state;
	assert_int_equal(sb_decode_with(ch_version, &e), -EPROTONOSUPPORT);
	assert_non_null(strstr(e.msg, "version"));
	assert_int_equal(sb_decode_with(ch_unit, &e), -EUCLEAN);
	assert_non_null(strstr(e.msg, "allocation unit"));
	assert_int_equal(sb_decode_with(ch_ndevs0, &e), -EUCLEAN);
	assert_int_equal(sb_decode_with(ch_flags, &e), -EPROTONOSUPPORT);
	assert_int_equal(sb_decode_with(ch_log, &e), -EUCLEAN);
	assert_int_equal(sb_decode_with(ch_logend, &e), -EUCLEAN);
	assert_int_equal(sb_decode_with(ch_align, &e), -EUCLEAN);
	assert_non_null(strstr(e.msg, "device 1"));
}

static void test_label(void **state)
{
	uint8_t buf[FAMRT_LABEL_SIZE];
	struct famrt_label l = { .version = 1, .devindex = 3, .size = 1u << 30 },
			   o;
	struct famrt_err e;

	(void)state;
	memset(l.fs_uuid, 1, 16);
	memset(l.dev_uuid, 2, 16);
	famrt_label_encode(&l, buf);
	assert_int_equal(famrt_label_decode(buf, &o, &e), 0);
	assert_memory_equal(&l, &o, sizeof(l));
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] ^= 0x80;
		assert_int_not_equal(famrt_label_decode(buf, &o, &e), 0);
		buf[i] ^= 0x80;
	}
	memset(buf, 0, sizeof(buf));
	assert_int_equal(famrt_label_decode(buf, &o, &e), -ENOENT);
}

static void test_tail(void **state)
{
	uint8_t buf[FAMRT_TAIL_SLOT_SIZE], uuid[16], other[16];
	struct famrt_tail t = { .seq = 77, .end = 4096 }, o;

	(void)state;
	memset(uuid, 7, 16);
	memset(other, 8, 16);
	famrt_tail_encode(&t, uuid, buf);
	assert_int_equal(famrt_tail_decode(buf, uuid, &o), 0);
	assert_int_equal(o.seq, 77);
	assert_int_equal(o.end, 4096);
	/* Another file system's tail never passes. */
	assert_int_equal(famrt_tail_decode(buf, other, &o), -EUCLEAN);
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] ^= 1;
		assert_int_not_equal(famrt_tail_decode(buf, uuid, &o), 0);
		buf[i] ^= 1;
	}
	memset(buf, 0, sizeof(buf));
	assert_int_equal(famrt_tail_decode(buf, uuid, &o), -ENODATA);
}

/* Build a whole entry in buf; returns its size. */
static size_t make_entry(uint8_t *buf, size_t cap, uint64_t seq,
			 const uint8_t *uuid, const void *payload, uint32_t len)
{
	size_t size = famrt_entry_size(len);
	uint64_t cw;

	assert_true(size <= cap);
	memset(buf, 0, size);
	memcpy(buf + FAMRT_ENTRY_HDR_SIZE, payload, len);
	cw = famrt_entry_seal(buf, seq, FAMRT_ENTRY_MKDIR, 0, len, 42, uuid);
	for (int i = 0; i < 8; i++)
		buf[i] = (uint8_t)(cw >> (8 * i));
	return size;
}

static void test_entry_check(void **state)
{
	uint8_t buf[256], uuid[16], other[16];
	struct famrt_entry_hdr h;
	struct famrt_err e;
	size_t size;

	(void)state;
	memset(uuid, 3, 16);
	memset(other, 4, 16);
	size = make_entry(buf, sizeof(buf), 9, uuid, "hello, log", 10);
	assert_int_equal(size, 48);
	assert_int_equal(famrt_entry_check(buf, size, 9, uuid, &h, &e), 0);
	assert_int_equal(h.seq, 9);
	assert_int_equal(h.len, 10);
	assert_int_equal(h.type, FAMRT_ENTRY_MKDIR);
	assert_int_equal(h.time_ns, 42);
	/* Wrong sequence, other file system, truncated view. */
	assert_int_equal(famrt_entry_check(buf, size, 10, uuid, &h, &e),
			 -ENODATA);
	assert_non_null(strstr(e.msg, "sequence"));
	assert_int_equal(famrt_entry_check(buf, size, 9, other, &h, &e),
			 -ENODATA);
	assert_int_equal(famrt_entry_check(buf, size - 1, 9, uuid, &h, &e),
			 -ENODATA);
	/* Every byte flipped is refused. */
	for (size_t i = 0; i < size; i++) {
		buf[i] ^= 0x10;
		assert_int_equal(famrt_entry_check(buf, size, 9, uuid, &h, &e),
				 -ENODATA);
		buf[i] ^= 0x10;
	}
	/* An over-long length is refused before anything is read. */
	buf[20] = 0xff;
	buf[21] = 0xff;
	buf[22] = 0xff;
	assert_int_equal(famrt_entry_check(buf, size, 9, uuid, &h, &e),
			 -ENODATA);
}

static void test_payloads(void **state)
{
	uint8_t buf[512], fmap[56];
	struct famrt_ent_mkdir m = { .mode = 0750, .uid = 1000, .gid = 100,
				     .path = "/a/bc", .path_len = 5 },
			       mo;
	struct famrt_ent_create c = { .mode = 0644, .uid = 1, .gid = 2,
				      .path = "/a/file", .path_len = 7,
				      .fmap = fmap, .fmap_len = sizeof(fmap) },
				co;
	struct famrt_ent_add_device a = { .devindex = 2 }, ao;
	struct famrt_err e;
	ssize_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(fmap); i++)
		fmap[i] = (uint8_t)i;
	n = famrt_ent_mkdir_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, 16 + 5);
	assert_int_equal(famrt_ent_mkdir_decode(buf, (size_t)n, &mo, &e), 0);
	assert_int_equal(mo.mode, 0750);
	assert_int_equal(mo.uid, 1000);
	assert_int_equal(mo.gid, 100);
	assert_int_equal(mo.path_len, 5);
	assert_memory_equal(mo.path, "/a/bc", 5);
	assert_int_equal(famrt_ent_mkdir_decode(buf, (size_t)n + 1, &mo, &e),
			 -EINVAL);
	assert_int_equal(famrt_ent_mkdir_decode(buf, (size_t)n - 1, &mo, &e),
			 -EINVAL);
	assert_int_equal(famrt_ent_mkdir_encode(&m, buf, 20), -ENOSPC);

	n = famrt_ent_create_encode(&c, buf, sizeof(buf));
	assert_int_equal(n, 24 + 8 + 56);
	assert_int_equal(famrt_ent_create_decode(buf, (size_t)n, &co, &e), 0);
	assert_int_equal(co.fmap_len, 56);
	assert_memory_equal(co.fmap, fmap, 56);
	assert_memory_equal(co.path, "/a/file", 7);
	/* The fmap length must match what follows the path. */
	assert_int_equal(famrt_ent_create_decode(buf, (size_t)n - 8, &co, &e),
			 -EINVAL);
	buf[24 + 7] = 1; /* path padding */
	assert_int_equal(famrt_ent_create_decode(buf, (size_t)n, &co, &e),
			 -EINVAL);
	buf[24 + 7] = 0;
	buf[1] = 0x10; /* mode 0x1000 | 0644: not permission bits */
	assert_int_equal(famrt_ent_create_decode(buf, (size_t)n, &co, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "mode"));

	memset(a.dev.uuid, 9, 16);
	a.dev.size = 1u << 30;
	a.dev.align = 2u << 20;
	a.dev.data_start = 2u << 20;
	n = famrt_ent_add_device_encode(&a, buf, sizeof(buf));
	assert_int_equal(n, 48);
	assert_int_equal(famrt_ent_add_device_decode(buf, 48, &ao, &e), 0);
	/* Field by field: the struct has padding after devindex. */
	assert_int_equal(ao.devindex, a.devindex);
	assert_memory_equal(ao.dev.uuid, a.dev.uuid, 16);
	assert_int_equal(ao.dev.size, a.dev.size);
	assert_int_equal(ao.dev.align, a.dev.align);
	assert_int_equal(ao.dev.data_start, a.dev.data_start);
	assert_int_equal(famrt_ent_add_device_decode(buf, 47, &ao, &e),
			 -EINVAL);
	buf[5] = 1;
	assert_int_equal(famrt_ent_add_device_decode(buf, 48, &ao, &e),
			 -EINVAL);
}

static void test_paths(void **state)
{
	char longname[300], longpath[4200];
	struct famrt_err e;
	static const char *const good[] = { "/", "/a", "/a/b", "/.hidden",
					     "/a..b", "/...", "/x y/z" };
	static const char *const bad[] = { "",    "a",     "//",  "/a/",
					   "/a//b", "/.",   "/..", "/a/./b",
					   "/a/../b" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(famrt_path_check(good[i], strlen(good[i]), &e),
				 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(famrt_path_check(bad[i], strlen(bad[i]), &e),
				 -EINVAL);
	assert_int_equal(famrt_path_check("/a\0b", 4, &e), -EINVAL);
	memset(longname, 'n', sizeof(longname));
	longname[0] = '/';
	assert_int_equal(famrt_path_check(longname, 256, &e), 0);
	assert_int_equal(famrt_path_check(longname, 257, &e), -ENAMETOOLONG);
	for (size_t i = 0; i < sizeof(longpath); i++)
		longpath[i] = (i % 100) ? 'p' : '/';
	assert_int_equal(famrt_path_check(longpath, 4000, &e), 0);
	assert_int_equal(famrt_path_check(longpath, 4096, &e), -ENAMETOOLONG);
}

static void test_uuid(void **state)
{
	uint8_t a[16], b[16];
	char s[37];

	(void)state;
	assert_int_equal(famrt_uuid_generate(a), 0);
	assert_int_equal(famrt_uuid_generate(b), 0);
	assert_memory_not_equal(a, b, 16);
	assert_int_equal(a[6] >> 4, 4);
	assert_int_equal(a[8] & 0xc0, 0x80);
	famrt_uuid_format(a, s);
	assert_int_equal(strlen(s), 36);
	memset(b, 0, 16);
	assert_int_equal(famrt_uuid_parse(s, b), 0);
	assert_memory_equal(a, b, 16);
	assert_int_equal(famrt_uuid_parse("not-a-uuid", b), -EINVAL);
	s[35] = 'g';
	assert_int_equal(famrt_uuid_parse(s, b), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vectors),
		cmocka_unit_test(test_sb_roundtrip_and_flips),
		cmocka_unit_test(test_sb_semantic_refusals),
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_entry_check),
		cmocka_unit_test(test_payloads),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_uuid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file system commands of famrt (mkfs, mkdir, creat, cp, ls, stat,
 * getmap, df, log, verify, adddev, fsck), run as a program on emulated
 * devices in /dev/shm. Where a byte lands is computed here from the fmap
 * format's arithmetic (docs/fmap-format.md) and read from the device files
 * directly, not through famrt.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "json.h"

#define KiB UINT64_C(1024)
#define MiB (KiB * 1024)
#define DEV_SIZE (32 * MiB)
#define MASTER "cli-test-master"

static char base[256]; /* /dev/shm/famrt-cli-meta-PID */

static const char *dev(int i)
{
	static char p[8][300];

	snprintf(p[i], sizeof(p[i]), "%s-d%d", base, i);
	return p[i];
}

/* "d0,d1[,...]" for n devices in the given order. */
static const char *fs_of(int n, const int *order)
{
	static char s[4][1400];
	static int k;
	size_t len = 0;

	k = (k + 1) % 4;
	s[k][0] = '\0';
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(s[k] + len, sizeof(s[k]) - len, "%s%s",
					i ? "," : "",
					dev(order ? order[i] : i));
	return s[k];
}

static const char *fs2(void)
{
	return fs_of(2, NULL);
}

static const char *tfile(const char *name)
{
	static char p[8][320];
	static int k;

	k = (k + 1) % 8;
	snprintf(p[k], sizeof(p[k]), "%s-%s", base, name);
	return p[k];
}

/* ---- running famrt ---- */

static void run(struct cli_result *r, ...)
{
	const char *args[64];
	va_list ap;
	int k = 0;

	va_start(ap, r);
	while (k < 63 && (args[k] = va_arg(ap, const char *)))
		k++;
	va_end(ap);
	args[k] = NULL;
	assert_int_equal(cli_run(args, NULL, 0, r), 0);
}

#define RUN(r, ...) run(r, __VA_ARGS__, (const char *)NULL)

/* Run, expect exit code `code`; free the result unless r is kept. */
#define EXPECT(code, ...)                                                    \
	do {                                                                 \
		struct cli_result r_;                                        \
		RUN(&r_, __VA_ARGS__);                                       \
		if (r_.status != (code))                                     \
			fail_msg("exit %d, not %d; stderr: %s stdout: %s",  \
				 r_.status, (code), r_.err, r_.out);         \
		cli_result_free(&r_);                                        \
	} while (0)

/* ---- JSON ---- */

static struct famrt_json_doc *parse(const struct cli_result *r)
{
	struct famrt_json_doc *doc = NULL;
	struct famrt_json_error err;

	if (famrt_json_parse(r->out, r->out_len, NULL, &doc, &err))
		fail_msg("not JSON (%s): %s", err.message, r->out);
	return doc;
}

static const struct famrt_json_value *jget(const struct famrt_json_value *o,
					   const char *key)
{
	const struct famrt_json_value *v = famrt_json_get(o, key);

	if (!v)
		fail_msg("no key \"%s\"", key);
	return v;
}

static uint64_t ju64(const struct famrt_json_value *o, const char *key)
{
	uint64_t v;

	if (famrt_json_get_u64(jget(o, key), &v))
		fail_msg("\"%s\" is not an unsigned integer", key);
	return v;
}

static const char *jstr(const struct famrt_json_value *o, const char *key)
{
	const struct famrt_json_value *v = jget(o, key);

	if (v->type != FAMRT_JSON_STRING)
		fail_msg("\"%s\" is not a string", key);
	return v->str;
}

static bool jnull(const struct famrt_json_value *o, const char *key)
{
	return jget(o, key)->type == FAMRT_JSON_NULL;
}

static const struct famrt_json_value *jidx(const struct famrt_json_value *a,
					   uint32_t i)
{
	const struct famrt_json_value *v;

	assert_int_equal(a->type, FAMRT_JSON_ARRAY);
	assert_true(i < a->count);
	v = a->child;
	while (i--)
		v = v->next;
	return v;
}

/* The object has exactly these keys, in this order. */
static void check_keys(const struct famrt_json_value *o,
		       const char *const *keys, size_t n)
{
	const struct famrt_json_value *m;
	size_t i = 0;

	assert_int_equal(o->type, FAMRT_JSON_OBJECT);
	for (m = o->child; m; m = m->next, i++) {
		if (i >= n)
			fail_msg("extra key \"%.*s\"", (int)m->key_len, m->key);
		if (strlen(keys[i]) != m->key_len ||
		    memcmp(keys[i], m->key, m->key_len))
			fail_msg("key %zu is \"%.*s\", not \"%s\"", i,
				 (int)m->key_len, m->key, keys[i]);
	}
	if (i != n)
		fail_msg("%zu keys, not %zu", i, n);
}

#define CHECK_KEYS(o, ...)                                                   \
	do {                                                                 \
		static const char *const k_[] = { __VA_ARGS__ };            \
		check_keys(o, k_, sizeof(k_) / sizeof(k_[0]));               \
	} while (0)

static bool json_equal(const struct famrt_json_value *a,
		       const struct famrt_json_value *b)
{
	const struct famrt_json_value *x, *y;

	if (a->type != b->type || a->count != b->count)
		return false;
	switch (a->type) {
	case FAMRT_JSON_NUMBER:
	case FAMRT_JSON_STRING:
		return a->len == b->len && !memcmp(a->str, b->str, a->len);
	case FAMRT_JSON_ARRAY:
	case FAMRT_JSON_OBJECT:
		for (x = a->child, y = b->child; x && y;
		     x = x->next, y = y->next) {
			if (a->type == FAMRT_JSON_OBJECT &&
			    (x->key_len != y->key_len ||
			     memcmp(x->key, y->key, x->key_len)))
				return false;
			if (!json_equal(x, y))
				return false;
		}
		return !x && !y;
	default:
		return true;
	}
}

/* ---- a map, read from getmap --json; resolution by the format doc ---- */

struct tstrip {
	uint32_t dev;
	uint64_t off, len;
};

struct text {
	uint32_t nstrips;
	uint64_t chunk, nbytes;
	struct tstrip s[32];
};

struct tmap {
	bool ilv;
	uint64_t size;
	uint32_t n;
	struct text e[32];
};

static void tmap_from_json(const struct famrt_json_value *o, struct tmap *m)
{
	const struct famrt_json_value *ex = jget(o, "extents");

	memset(m, 0, sizeof(*m));
	m->ilv = !strcmp(jstr(o, "ext_type"), "interleaved");
	m->size = ju64(o, "file_size");
	m->n = (uint32_t)ju64(o, "nextents");
	assert_int_equal(ex->count, m->n);
	for (uint32_t i = 0; i < m->n; i++) {
		const struct famrt_json_value *x = jidx(ex, i);
		const struct famrt_json_value *st = jget(x, "strips");

		m->e[i].nstrips = (uint32_t)ju64(x, "nstrips");
		m->e[i].chunk = ju64(x, "chunk_size");
		m->e[i].nbytes = ju64(x, "nbytes");
		assert_int_equal(st->count, m->e[i].nstrips);
		for (uint32_t j = 0; j < m->e[i].nstrips; j++) {
			const struct famrt_json_value *s = jidx(st, j);

			m->e[i].s[j].dev = (uint32_t)ju64(s, "devindex");
			m->e[i].s[j].off = ju64(s, "offset");
			m->e[i].s[j].len = ju64(s, "len");
		}
	}
}

/* Where file byte off lives: docs/fmap-format.md, "Resolving". */
static void tresolve(const struct tmap *m, uint64_t off, uint32_t *dev,
		     uint64_t *devoff)
{
	uint64_t start = 0;

	assert_true(off < m->size);
	for (uint32_t i = 0; i < m->n; i++) {
		const struct text *x = &m->e[i];
		uint64_t held = m->ilv ? x->nbytes : x->s[0].len;

		if (m->ilv && held > m->size - start)
			held = m->size - start;
		if (off - start < held) {
			uint64_t l = off - start, chunk, stripe;
			uint32_t strip;

			if (!m->ilv) {
				*dev = x->s[0].dev;
				*devoff = x->s[0].off + l;
				return;
			}
			chunk = l / x->chunk;
			stripe = chunk / x->nstrips;
			strip = (uint32_t)(chunk % x->nstrips);
			*dev = x->s[strip].dev;
			*devoff = x->s[strip].off + stripe * x->chunk +
				  l % x->chunk;
			return;
		}
		start += held;
	}
	fail_msg("offset %" PRIu64 " not in the map", off);
}

static void getmap(const char *path, struct tmap *m)
{
	struct famrt_json_doc *doc;
	struct cli_result r;

	RUN(&r, "getmap", "--fs", fs2(), "--json", path);
	assert_int_equal(r.status, 0);
	doc = parse(&r);
	tmap_from_json(famrt_json_root(doc), m);
	famrt_json_free(doc);
	cli_result_free(&r);
}

/* ---- files ---- */

static void *random_bytes(size_t n, unsigned seed)
{
	uint8_t *b = malloc(n ? n : 1);
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = (uint8_t)(x >> 24);
	}
	return b;
}

static void write_file(const char *path, const void *b, size_t n, mode_t m)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, m);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, m), 0);
	assert_int_equal(close(fd), 0);
}

static void *read_whole(const char *path, size_t *n)
{
	struct stat st;
	uint8_t *b;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	assert_non_null(b);
	assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
	close(fd);
	*n = (size_t)st.st_size;
	return b;
}

static uint8_t dev_byte(uint32_t d, uint64_t off)
{
	uint8_t b;
	int fd = open(dev((int)d), O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	close(fd);
	return b;
}

static void dev_poke(uint32_t d, uint64_t off, uint8_t b)
{
	int fd = open(dev((int)d), O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

/* A new file system on n devices (made with --force: they may exist). */
static void fresh_fs(int n)
{
	const char *args[16] = { "mkfs", "--force", "--create", "32M",
				 "--log-size", "1M", "--name", "clitest" };
	struct cli_result r;
	int k = 8;

	for (int i = 0; i < n; i++)
		args[k++] = dev(i);
	args[k] = NULL;
	assert_int_equal(cli_run(args, NULL, 0, &r), 0);
	if (r.status)
		fail_msg("mkfs: %s", r.err);
	cli_result_free(&r);
}

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/dev/shm/famrt-cli-meta-%d",
		 (int)getpid());
	umask(022);
	setenv("FAMRT_HOST_ID", MASTER, 1);
	unsetenv("FAMRT_FS");
	return 0;
}

static int teardown(void **state)
{
	static const char *const files[] = { "src", "out", "out2", "zero",
					     "zero.out", "raw", "big" };

	(void)state;
	for (int i = 0; i < 4; i++)
		unlink(dev(i));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(tfile(files[i]));
	return 0;
}

/* ---- tests ---- */

static void test_mkfs(void **state)
{
	struct famrt_json_doc *doc;
	const struct famrt_json_value *o, *d;
	struct cli_result r;
	char uuid[40];

	(void)state;
	for (int i = 0; i < 2; i++)
		unlink(dev(i));
	RUN(&r, "mkfs", "--create", "32M", "--log-size", "1M", "--name", "m1",
	    "--json", dev(0), dev(1));
	assert_int_equal(r.status, 0);
	doc = parse(&r);
	o = famrt_json_root(doc);
	CHECK_KEYS(o, "uuid", "name", "fs", "master", "noncoherent",
		   "alloc_unit", "log_size", "size", "free", "devices");
	snprintf(uuid, sizeof(uuid), "%s", jstr(o, "uuid"));
	assert_int_equal(strlen(uuid), 36);
	assert_string_equal(jstr(o, "name"), "m1");
	assert_string_equal(jstr(o, "fs"), fs2());
	assert_string_equal(jstr(o, "master"), MASTER);
	assert_int_equal(jget(o, "noncoherent")->type, FAMRT_JSON_FALSE);
	assert_int_equal(ju64(o, "alloc_unit"), 2 * MiB);
	assert_int_equal(ju64(o, "log_size"), MiB);
	/* Device 0's data starts after the log (8 KiB + 1 MiB) rounded up
	 * to 2 MiB; device 1's after its label, rounded up: 30 MiB each. */
	assert_int_equal(ju64(o, "size"), 60 * MiB);
	assert_int_equal(ju64(o, "free"), 60 * MiB);
	d = jget(o, "devices");
	assert_int_equal(d->count, 2);
	for (uint32_t i = 0; i < 2; i++) {
		const struct famrt_json_value *x = jidx(d, i);

		CHECK_KEYS(x, "index", "path", "size", "align", "uuid");
		assert_int_equal(ju64(x, "index"), i);
		assert_string_equal(jstr(x, "path"), dev((int)i));
		assert_int_equal(ju64(x, "size"), DEV_SIZE);
		assert_int_equal(ju64(x, "align"), 4096);
	}
	famrt_json_free(doc);
	cli_result_free(&r);
	{
		struct stat st;

		assert_int_equal(stat(dev(1), &st), 0);
		assert_int_equal(st.st_size, (off_t)DEV_SIZE);
		assert_int_equal(st.st_mode & 0777, 0600);
	}

	/* An existing file system is not overwritten without --force. */
	RUN(&r, "mkfs", dev(0), dev(1));
	assert_int_equal(r.status, 4);
	assert_int_equal(r.out_len, 0);
	assert_non_null(strstr(r.err, "--force"));
	assert_non_null(strstr(r.err, dev(0)));
	assert_non_null(strstr(r.err, uuid));
	cli_result_free(&r);
	/* Nor its second device alone. */
	RUN(&r, "mkfs", dev(1));
	assert_int_equal(r.status, 4);
	assert_non_null(strstr(r.err, "--force"));
	cli_result_free(&r);

	/* The human summary; devices from --fs. */
	RUN(&r, "mkfs", "--force", "--fs", fs2(), "--unit", "4M",
	    "--noncoherent");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "uuid:"));
	assert_null(strstr(r.out, uuid));
	assert_non_null(strstr(r.out, "alloc unit:  4194304 (4 MiB)"));
	assert_non_null(strstr(r.out, "not coherent"));
	assert_non_null(strstr(r.out, fs2()));
	cli_result_free(&r);

	/* Devices from $FAMRT_FS. */
	setenv("FAMRT_FS", fs2(), 1);
	RUN(&r, "mkfs", "--force", "--json", "--master", "someone-else");
	unsetenv("FAMRT_FS");
	assert_int_equal(r.status, 0);
	doc = parse(&r);
	assert_string_equal(jstr(famrt_json_root(doc), "master"),
			    "someone-else");
	famrt_json_free(doc);
	cli_result_free(&r);

	/* A missing device file without --create: a system error. */
	RUN(&r, "mkfs", "--force", dev(0), tfile("missing"));
	assert_int_equal(r.status, 3);
	assert_non_null(strstr(r.err, tfile("missing")));
	cli_result_free(&r);
}

static void test_device_order(void **state)
{
	static const int swapped[] = { 1, 0 }, mixed[] = { 0, 2, 1 };
	struct cli_result r;

	(void)state;
	fresh_fs(3);
	EXPECT(0, "ls", "--fs", fs_of(3, NULL), "/");
	/* Device 1 first: named as device 1 of the file system. */
	RUN(&r, "ls", "--fs", fs_of(2, swapped), "/");
	assert_int_equal(r.status, 4);
	assert_int_equal(cli_count_lines(r.err), 1);
	assert_non_null(strstr(r.err, dev(1)));
	assert_non_null(strstr(r.err, "device 1"));
	assert_non_null(strstr(r.err, "order"));
	cli_result_free(&r);
	/* Devices 1 and 2 swapped: the one in the wrong place is named. */
	RUN(&r, "ls", "--fs", fs_of(3, mixed), "/");
	assert_int_equal(r.status, 4);
	assert_non_null(strstr(r.err, dev(2)));
	assert_non_null(strstr(r.err, "is device 2"));
	assert_non_null(strstr(r.err, "given as device 1"));
	cli_result_free(&r);
	/* Too few devices. */
	RUN(&r, "ls", "--fs", dev(0), "/");
	assert_int_equal(r.status, 4);
	assert_non_null(strstr(r.err, "3 devices"));
	cli_result_free(&r);
	/* A device that does not exist: a system error naming it. */
	RUN(&r, "ls", "--fs", fs_of(2, NULL), "--fs",
	    fs_of(1, NULL), "/"); /* the last --fs wins */
	assert_int_equal(r.status, 4);
	cli_result_free(&r);
	RUN(&r, "ls", "--fs", tfile("nodev"), "/");
	assert_int_equal(r.status, 3);
	assert_non_null(strstr(r.err, tfile("nodev")));
	cli_result_free(&r);
}

static void test_mkdir(void **state)
{
	struct famrt_json_doc *doc;
	const struct famrt_json_value *o;
	struct cli_result r;

	(void)state;
	fresh_fs(2);
	EXPECT(0, "mkdir", "--fs", fs2(), "/d");
	RUN(&r, "mkdir", "--fs", fs2(), "/d");
	assert_int_equal(r.status, 4);
	assert_non_null(strstr(r.err, "/d"));
	cli_result_free(&r);
	EXPECT(4, "mkdir", "--fs", fs2(), "/x/y");     /* no parent */
	EXPECT(0, "mkdir", "--fs", fs2(), "-p", "/d/e/f");
	EXPECT(0, "mkdir", "--fs", fs2(), "-p", "/d/e/f"); /* exists: fine */
	EXPECT(0, "mkdir", "--fs", fs2(), "-p", ":/d//e/g/"); /* :, //, / */
	EXPECT(0, "mkdir", "--fs", fs2(), "-m", "0700", "/m", "/m2");
	EXPECT(2, "mkdir", "--fs", fs2(), "relative");
	EXPECT(2, "mkdir", "--fs", fs2(), "-m", "0800", "/bad");
	EXPECT(2, "mkdir", "--fs", fs2(), "-m", "rwx", "/bad");
	EXPECT(0, "creat", "--fs", fs2(), "/d/file", "--size", "4K");
	RUN(&r, "mkdir", "--fs", fs2(), "-p", "/d/file/sub");
	assert_int_equal(r.status, 4);
	assert_non_null(strstr(r.err, "not a directory"));
	cli_result_free(&r);

	RUN(&r, "stat", "--fs", fs2(), "--json", "/d/e/f");
	assert_int_equal(r.status, 0);
	doc = parse(&r);
	o = famrt_json_root(doc);
	assert_string_equal(jstr(o, "type"), "directory");
	assert_int_equal(ju64(o, "mode"), 0755); /* 0755 less umask 022 */
	assert_int_equal(ju64(o, "uid"), geteuid());
	assert_int_equal(ju64(o, "gid"), getegid());
	assert_true(jnull(o, "layout"));
	famrt_json_free(doc);
	cli_result_free(&r);
	RUN(&r, "stat", "--fs", fs2(), "--json", "/m2");
	doc = parse(&r);
	assert_int_equal(ju64(famrt_json_root(doc), "mode"), 0700);
	famrt_json_free(doc);
	cli_result_free(&r);
	RUN(&r, "ls", "--fs", fs2(), "/d/e");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "f\ng\n");
	cli_result_free(&r);
}

static void test_creat_layouts(void **state)
{
	struct famrt_json_doc *doc, *doc2;
	const struct famrt_json_value *o;
	struct cli_result r, r2;
	struct tmap m;
	char *raw;
	size_t rawlen;

	(void)state;
	fresh_fs(2);
	EXPECT(0, "creat", "--fs", fs2(), "/s", "--size", "10M");
	getmap("/s", &m);
	assert_false(m.ilv);
	assert_int_equal(m.size, 10 * MiB);
	{
		uint64_t total = 0;

		for (uint32_t i = 0; i < m.n; i++) {
			assert_true(m.e[i].s[0].dev < 2);
			assert_int_equal(m.e[i].s[0].off % (2 * MiB), 0);
			assert_true(m.e[i].s[0].off + m.e[i].s[0].len <=
				    DEV_SIZE);
			total += m.e[i].s[0].len;
		}
		assert_int_equal(total, 10 * MiB);
	}
	/* One strip per device, 1 MiB chunks. */
	EXPECT(0, "creat", "--fs", fs2(), "/i", "--size", "5M",
	       "--interleave", "0", "--chunk", "1M");
	getmap("/i", &m);
	assert_true(m.ilv);
	assert_int_equal(m.size, 5 * MiB);
	assert_int_equal(m.e[0].nstrips, 2);
	assert_int_equal(m.e[0].chunk, MiB);
	assert_int_equal(m.e[0].s[0].dev, 0);
	assert_int_equal(m.e[0].s[1].dev, 1);
	/* Strip order follows --devices. */
	EXPECT(0, "creat", "--fs", fs2(), "/j", "-s", "8M", "--interleave",
	       "2", "--devices", "1,0");
	getmap("/j", &m);
	assert_true(m.ilv);
	assert_int_equal(m.e[0].chunk, 2 * MiB); /* the allocation unit */
	assert_int_equal(m.e[0].s[0].dev, 1);
	assert_int_equal(m.e[0].s[1].dev, 0);
	/* Simple on device 1 only. */
	EXPECT(0, "creat", "--fs", fs2(), "/k", "-s", "3M", "--devices", "1",
	       "-m", "600");
	getmap("/k", &m);
	for (uint32_t i = 0; i < m.n; i++)
		assert_int_equal(m.e[i].s[0].dev, 1);

	/* creat --json is stat --json. */
	RUN(&r, "creat", "--fs", fs2(), "/l", "-s", "1", "--json");
	assert_int_equal(r.status, 0);
	RUN(&r2, "stat", "--fs", fs2(), "--json", "/l");
	assert_string_equal(r.out, r2.out);
	cli_result_free(&r2);
	doc = parse(&r);
	o = famrt_json_root(doc);
	CHECK_KEYS(o, "path", "name", "ino", "parent", "type", "mode", "uid",
		   "gid", "nlink", "size", "alloc_bytes", "mtime_ns", "layout");
	assert_int_equal(ju64(o, "size"), 1);
	assert_int_equal(ju64(o, "alloc_bytes"), 2 * MiB);
	assert_int_equal(ju64(o, "mode"), 0644);
	CHECK_KEYS(jget(o, "layout"), "ext_type", "nextents", "nstrips",
		   "chunk_size", "alloc_bytes", "devices");
	famrt_json_free(doc);
	cli_result_free(&r);

	/* getmap --raw, checked by fmap inspect: the same map. */
	EXPECT(0, "getmap", "--fs", fs2(), "--raw", "-o", tfile("raw"), "/i");
	raw = read_whole(tfile("raw"), &rawlen);
	RUN(&r, "getmap", "--fs", fs2(), "--raw", ":/i");
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out_len, rawlen);
	assert_memory_equal(r.out, raw, rawlen);
	cli_result_free(&r);
	free(raw);
	RUN(&r, "fmap", "inspect", "--json", "--align", "4K", "--device-sizes",
	    "32M,32M", tfile("raw"));
	assert_int_equal(r.status, 0);
	RUN(&r2, "getmap", "--fs", fs2(), "--json", "/i");
	assert_int_equal(r2.status, 0);
	doc = parse(&r);
	doc2 = parse(&r2);
	CHECK_KEYS(famrt_json_root(doc2), "path", "ino", "file_type",
		   "fmap_version", "ext_type", "file_size", "nextents",
		   "extents");
	assert_string_equal(jstr(famrt_json_root(doc2), "path"), "/i");
	{
		static const char *const keys[] = { "file_type",
						    "fmap_version", "ext_type",
						    "file_size", "nextents",
						    "extents" };

		for (size_t i = 0; i < 6; i++)
			assert_true(json_equal(jget(famrt_json_root(doc),
						    keys[i]),
					       jget(famrt_json_root(doc2),
						    keys[i])));
	}
	famrt_json_free(doc);
	famrt_json_free(doc2);
	cli_result_free(&r);
	cli_result_free(&r2);
	/* The human form is fmap inspect's. */
	RUN(&r, "getmap", "--fs", fs2(), "/i");
	RUN(&r2, "fmap", "inspect", tfile("raw"), "--align", "4K");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, r2.out);
	assert_non_null(strstr(r.out, "ext_type:     interleaved (1)"));
	cli_result_free(&r);
	cli_result_free(&r2);

	/* Refusals. */
	EXPECT(4, "creat", "--fs", fs2(), "/s", "--size", "1M"); /* exists */
	RUN(&r, "creat", "--fs", fs2(), "/huge", "--size", "1G");
	assert_int_equal(r.status, 4);
	assert_non_null(strstr(r.err, "free"));
	cli_result_free(&r);
	EXPECT(4, "creat", "--fs", fs2(), "/nodir/f", "--size", "1M");
	EXPECT(4, "creat", "--fs", fs2(), "/bad", "--size", "1M",
	       "--devices", "5");
	EXPECT(4, "getmap", "--fs", fs2(), "/");
	EXPECT(4, "getmap", "--fs", fs2(), "/nothere");
}

static void check_copy_placement(const char *path, const uint8_t *src,
				  size_t n)
{
	struct tmap m;

	getmap(path, &m);
	assert_int_equal(m.size, n);
	/* A few bytes of every MiB, and the last one. */
	for (uint64_t off = 0; off < n; off += MiB / 3) {
		uint32_t d;
		uint64_t devoff;

		tresolve(&m, off, &d, &devoff);
		assert_int_equal(dev_byte(d, devoff), src[off]);
	}
	{
		uint32_t d;
		uint64_t devoff;

		tresolve(&m, n - 1, &d, &devoff);
		assert_int_equal(dev_byte(d, devoff), src[n - 1]);
	}
}

static void test_cp(void **state)
{
	const size_t n = 3 * MiB + 12345;
	uint8_t *src = random_bytes(n, 7), *back;
	struct famrt_json_doc *doc;
	struct cli_result r;
	size_t m;

	(void)state;
	fresh_fs(2);
	write_file(tfile("src"), src, n, 0640);
	EXPECT(0, "mkdir", "--fs", fs2(), "/in");

	/* In, simple, into a directory: the source's name and mode. */
	EXPECT(0, "cp", "--fs", fs2(), tfile("src"), ":/in/");
	{
		char p[400];

		snprintf(p, sizeof(p), "/in/%s",
			 strrchr(tfile("src"), '/') + 1);
		RUN(&r, "stat", "--fs", fs2(), "--json", p);
		assert_int_equal(r.status, 0);
		doc = parse(&r);
		assert_int_equal(ju64(famrt_json_root(doc), "size"), n);
		assert_int_equal(ju64(famrt_json_root(doc), "mode"), 0640);
		famrt_json_free(doc);
		cli_result_free(&r);
		check_copy_placement(p, src, n);
	}
	/* In, interleaved, 1 MiB chunks; and with small blocks, depth 1. */
	EXPECT(0, "cp", "--fs", fs2(), tfile("src"), ":/in/ilv",
	       "--interleave", "0", "--chunk", "1M", "--mode", "0600");
	check_copy_placement("/in/ilv", src, n);
	EXPECT(0, "cp", "--fs", fs2(), "--block", "4K", "--depth", "1",
	       tfile("src"), ":/in/small");
	check_copy_placement("/in/small", src, n);

	/* Out, both layouts: the same bytes. An existing file is
	 * truncated first. */
	write_file(tfile("out"), src, n, 0644);
	write_file(tfile("out2"), "x", 1, 0644);
	{
		static const char *const from[] = { ":/in/ilv", ":/in/small" };

		for (int i = 0; i < 2; i++) {
			uint8_t *junk = random_bytes(n + 5 * MiB, 9);

			write_file(tfile("out"), junk, n + 5 * MiB, 0644);
			free(junk);
			RUN(&r, "cp", "-v", "--fs", fs2(), from[i],
			    tfile("out"));
			assert_int_equal(r.status, 0);
			assert_int_equal(r.out_len, 0);
			assert_non_null(strstr(r.err, "bytes"));
			cli_result_free(&r);
			back = read_whole(tfile("out"), &m);
			assert_int_equal(m, n);
			assert_memory_equal(back, src, n);
			free(back);
		}
	}
	/* A new ordinary file gets the famrt file's mode. */
	unlink(tfile("out2"));
	EXPECT(0, "cp", "--fs", fs2(), ":/in/ilv", tfile("out2"));
	{
		struct stat st;

		assert_int_equal(stat(tfile("out2"), &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(st.st_size, (off_t)n);
	}

	/* famrt files are never overwritten. */
	RUN(&r, "cp", "--fs", fs2(), tfile("out"), ":/in/ilv");
	assert_int_equal(r.status, 4);
	assert_non_null(strstr(r.err, ":/in/ilv"));
	assert_non_null(strstr(r.err, "immutable"));
	cli_result_free(&r);

	/* An empty file. */
	write_file(tfile("zero"), "", 0, 0644);
	EXPECT(0, "cp", "--fs", fs2(), tfile("zero"), ":/zero");
	EXPECT(0, "cp", "--fs", fs2(), ":/zero", tfile("zero.out"));
	back = read_whole(tfile("zero.out"), &m);
	assert_int_equal(m, 0);
	free(back);

	/* Errors. */
	EXPECT(2, "cp", "--fs", fs2(), tfile("src"), tfile("out"));
	EXPECT(2, "cp", "--fs", fs2(), ":/a", ":/b");
	EXPECT(2, "cp", "--fs", fs2(), tfile("src"));
	EXPECT(2, "cp", "--fs", fs2(), ":/in/ilv", tfile("out"),
	       "--interleave", "2");
	EXPECT(4, "cp", "--fs", fs2(), ":/nothere", tfile("out"));
	EXPECT(4, "cp", "--fs", fs2(), ":/in", tfile("out"));
	EXPECT(4, "cp", "--fs", fs2(), tfile("src"), ":/nodir/");
	EXPECT(3, "cp", "--fs", fs2(), tfile("nosrc"), ":/x");
	EXPECT(3, "cp", "--fs", fs2(), "/dev/shm", ":/x");

	/* Memory that is not coherent: the same bytes (through flush and
	 * invalidate), and without io_uring too. */
	EXPECT(0, "mkfs", "--force", "--noncoherent", "--log-size", "1M",
	       dev(0), dev(1));
	EXPECT(0, "cp", "--fs", fs2(), tfile("src"), ":/nc", "--interleave",
	       "0");
	check_copy_placement("/nc", src, n);
	EXPECT(0, "cp", "--fs", fs2(), "--no-uring", tfile("src"), ":/nc2");
	check_copy_placement("/nc2", src, n);
	for (int i = 0; i < 2; i++) {
		unlink(tfile("out"));
		if (i)
			EXPECT(0, "cp", "--fs", fs2(), "--no-uring", ":/nc2",
			       tfile("out"));
		else
			EXPECT(0, "cp", "--fs", fs2(), ":/nc", tfile("out"));
		back = read_whole(tfile("out"), &m);
		assert_int_equal(m, n);
		assert_memory_equal(back, src, n);
		free(back);
	}
	free(src);
}

static void test_ls_stat(void **state)
{
	static const char *const names[] = { "e0", "e1", "e2", "e3", "e4" };
	struct famrt_json_doc *doc;
	const struct famrt_json_value *o, *l, *ents;
	struct cli_result r, r2;
	char p[64];

	(void)state;
	fresh_fs(2);
	EXPECT(0, "mkdir", "--fs", fs2(), "/dir", "/empty");
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "/dir/%s", names[i]);
		if (i == 2)
			EXPECT(0, "mkdir", "--fs", fs2(), p);
		else
			EXPECT(0, "creat", "--fs", fs2(), p, "--size", "1M");
	}
	/* Paging through cookies gives what one batch gives. */
	RUN(&r, "ls", "--fs", fs2(), "--json", "/dir");
	assert_int_equal(r.status, 0);
	for (int b = 1; b <= 3; b++) {
		char bs[8];

		snprintf(bs, sizeof(bs), "%d", b);
		RUN(&r2, "ls", "--fs", fs2(), "--json", "--batch", bs, "/dir");
		assert_int_equal(r2.status, 0);
		assert_string_equal(r.out, r2.out);
		cli_result_free(&r2);
	}
	doc = parse(&r);
	o = famrt_json_root(doc);
	CHECK_KEYS(o, "listings");
	l = jget(o, "listings");
	assert_int_equal(l->count, 1);
	CHECK_KEYS(jidx(l, 0), "path", "type", "entries");
	assert_string_equal(jstr(jidx(l, 0), "path"), "/dir");
	assert_string_equal(jstr(jidx(l, 0), "type"), "directory");
	ents = jget(jidx(l, 0), "entries");
	assert_int_equal(ents->count, 5);
	for (uint32_t i = 0; i < 5; i++) {
		const struct famrt_json_value *e = jidx(ents, i);

		CHECK_KEYS(e, "path", "name", "ino", "parent", "type", "mode",
			   "uid", "gid", "nlink", "size", "alloc_bytes",
			   "mtime_ns");
		assert_string_equal(jstr(e, "name"), names[i]);
		snprintf(p, sizeof(p), "/dir/%s", names[i]);
		assert_string_equal(jstr(e, "path"), p);
		assert_string_equal(jstr(e, "type"),
				    i == 2 ? "directory" : "file");
		assert_int_equal(ju64(e, "size"), i == 2 ? 0 : MiB);
		assert_int_equal(ju64(e, "alloc_bytes"), i == 2 ? 0 : 2 * MiB);
	}
	famrt_json_free(doc);
	cli_result_free(&r);

	/* Empty directory: an empty array; a file lists itself; a missing
	 * path is reported and the rest listed. */
	RUN(&r, "ls", "--fs", fs2(), "--json", "/empty", "/dir/e1",
	    "/missing");
	assert_int_equal(r.status, 4);
	assert_non_null(strstr(r.err, "/missing"));
	doc = parse(&r);
	l = jget(famrt_json_root(doc), "listings");
	assert_int_equal(l->count, 2);
	ents = jget(jidx(l, 0), "entries");
	assert_int_equal(ents->type, FAMRT_JSON_ARRAY);
	assert_int_equal(ents->count, 0);
	assert_string_equal(jstr(jidx(l, 1), "type"), "file");
	ents = jget(jidx(l, 1), "entries");
	assert_int_equal(ents->count, 1);
	assert_string_equal(jstr(jidx(ents, 0), "path"), "/dir/e1");
	famrt_json_free(doc);
	cli_result_free(&r);

	/* Human forms. */
	RUN(&r, "ls", "--fs", fs2());
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "dir\nempty\n");
	cli_result_free(&r);
	RUN(&r, "ls", "--fs", fs2(), "-l", "/dir");
	assert_int_equal(r.status, 0);
	assert_int_equal(cli_count_lines(r.out), 5);
	assert_true(!strncmp(r.out, "-rw-r--r-- ", 11));
	assert_non_null(strstr(r.out, "\ndrwxr-xr-x "));
	assert_non_null(strstr(r.out, " 1048576 "));
	cli_result_free(&r);
	RUN(&r, "ls", "--fs", fs2(), "/dir", "/empty");
	assert_string_equal(r.out, "/dir:\ne0\ne1\ne2\ne3\ne4\n\n/empty:\n");
	cli_result_free(&r);
	RUN(&r, "stat", "--fs", fs2(), "/dir/e3");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "Size: 1048576 (1 MiB)"));
	assert_non_null(strstr(r.out, "Mode: 0644 (-rw-r--r--)"));
	assert_non_null(strstr(r.out, "Layout: simple, 1 extent"));
	cli_result_free(&r);
	EXPECT(4, "stat", "--fs", fs2(), "/dir/nope");
	EXPECT(2, "stat", "--fs", fs2(), "/a", "/b");
}

static void test_df_log(void **state)
{
	struct famrt_json_doc *doc;
	const struct famrt_json_value *o, *d, *ents;
	struct cli_result r, r2;
	uint64_t used = 0, fsum = 0;

	(void)state;
	fresh_fs(2);
	EXPECT(0, "mkdir", "--fs", fs2(), "/a");
	EXPECT(0, "creat", "--fs", fs2(), "/a/f", "-s", "5M");
	EXPECT(0, "creat", "--fs", fs2(), "/g", "-s", "6M", "--interleave",
	       "0");
	EXPECT(0, "mkdir", "--fs", fs2(), "-p", "/b/c");

	RUN(&r, "df", "--fs", fs2(), "--json");
	assert_int_equal(r.status, 0);
	RUN(&r2, "statfs", "--fs", fs2(), "--json");
	assert_string_equal(r.out, r2.out);
	cli_result_free(&r2);
	doc = parse(&r);
	o = famrt_json_root(doc);
	CHECK_KEYS(o, "uuid", "name", "backend", "master", "host_id",
		   "is_master", "noncoherent", "alloc_unit", "size", "used",
		   "free", "largest_free", "free_runs", "files", "dirs",
		   "log_used", "log_size", "log_entries", "devices");
	assert_string_equal(jstr(o, "name"), "clitest");
	assert_string_equal(jstr(o, "backend"), "direct");
	assert_string_equal(jstr(o, "master"), MASTER);
	assert_string_equal(jstr(o, "host_id"), MASTER);
	assert_int_equal(jget(o, "is_master")->type, FAMRT_JSON_TRUE);
	assert_int_equal(ju64(o, "files"), 2);
	assert_int_equal(ju64(o, "dirs"), 3);
	assert_int_equal(ju64(o, "log_entries"), 5);
	assert_int_equal(ju64(o, "log_size"), MiB);
	assert_int_equal(ju64(o, "size"), 60 * MiB);
	/* 5 MiB simple takes 3 units, 6 MiB; 6 MiB over 2 strips of equal
	 * length in whole units: 2 x 4 MiB. */
	assert_int_equal(ju64(o, "used"), 14 * MiB);
	assert_int_equal(ju64(o, "free") + ju64(o, "used"), ju64(o, "size"));
	assert_true(ju64(o, "largest_free") <= ju64(o, "free"));
	d = jget(o, "devices");
	assert_int_equal(d->count, 2);
	for (uint32_t i = 0; i < 2; i++) {
		const struct famrt_json_value *x = jidx(d, i);

		CHECK_KEYS(x, "index", "path", "size", "align", "free",
			   "largest_free", "free_runs");
		assert_string_equal(jstr(x, "path"), dev((int)i));
		fsum += ju64(x, "free");
	}
	assert_int_equal(fsum, ju64(o, "free"));
	used = ju64(o, "used");
	famrt_json_free(doc);
	cli_result_free(&r);
	/* ... which is what the two files' maps hold. */
	{
		static const char *const files[] = { "/a/f", "/g" };
		uint64_t held = 0;

		for (int i = 0; i < 2; i++) {
			RUN(&r, "stat", "--fs", fs2(), "--json", files[i]);
			doc = parse(&r);
			held += ju64(famrt_json_root(doc), "alloc_bytes");
			famrt_json_free(doc);
			cli_result_free(&r);
		}
		assert_int_equal(held, used);
	}
	RUN(&r, "df", "--fs", fs2());
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "files 2, directories 3"));
	assert_non_null(strstr(r.out, "5 entries"));
	assert_non_null(strstr(r.out, dev(1)));
	cli_result_free(&r);

	/* The log: one entry per change, in order, with what it did. */
	RUN(&r, "log", "--fs", fs2(), "--json");
	assert_int_equal(r.status, 0);
	doc = parse(&r);
	o = famrt_json_root(doc);
	CHECK_KEYS(o, "entries", "next_seq", "error");
	assert_int_equal(ju64(o, "next_seq"), 6);
	assert_true(jnull(o, "error"));
	ents = jget(o, "entries");
	assert_int_equal(ents->count, 5);
	{
		static const char *const type[] = { "mkdir", "create", "create",
						    "mkdir", "mkdir" };
		static const char *const path[] = { "/a", "/a/f", "/g", "/b",
						    "/b/c" };

		for (uint32_t i = 0; i < 5; i++) {
			const struct famrt_json_value *e = jidx(ents, i);

			CHECK_KEYS(e, "seq", "time_ns", "type", "flags", "path",
				   "mode", "uid", "gid", "size", "layout",
				   "device");
			assert_int_equal(ju64(e, "seq"), i + 1);
			assert_string_equal(jstr(e, "type"), type[i]);
			assert_string_equal(jstr(e, "path"), path[i]);
			assert_int_equal(ju64(e, "uid"), geteuid());
			assert_true(jnull(e, "device"));
			if (!strcmp(type[i], "mkdir")) {
				assert_true(jnull(e, "size"));
				assert_true(jnull(e, "layout"));
				assert_int_equal(ju64(e, "mode"), 0755);
			} else {
				assert_int_equal(ju64(e, "mode"), 0644);
			}
		}
		assert_int_equal(ju64(jidx(ents, 1), "size"), 5 * MiB);
		assert_string_equal(jstr(jget(jidx(ents, 2), "layout"),
					 "ext_type"),
				    "interleaved");
		assert_int_equal(jget(jget(jidx(ents, 2), "layout"),
				      "devices")->count,
				 2);
	}
	famrt_json_free(doc);
	cli_result_free(&r);
	RUN(&r, "log", "--fs", fs2(), "--json", "--from", "4");
	doc = parse(&r);
	ents = jget(famrt_json_root(doc), "entries");
	assert_int_equal(ents->count, 2);
	assert_int_equal(ju64(jidx(ents, 0), "seq"), 4);
	famrt_json_free(doc);
	cli_result_free(&r);
	RUN(&r, "log", "--fs", fs2());
	assert_int_equal(r.status, 0);
	assert_int_equal(cli_count_lines(r.out), 6);
	assert_non_null(strstr(r.out, " create "));
	assert_non_null(strstr(r.out, "/a/f mode 0644"));
	assert_non_null(strstr(r.out, "end of log: 5 entries"));
	cli_result_free(&r);
	EXPECT(2, "log", "--fs", fs2(), "--from", "0");
}

static void test_verify(void **state)
{
	struct famrt_json_doc *doc;
	const struct famrt_json_value *o, *mm;
	struct cli_result r;
	struct tmap m;
	uint64_t off = 3 * MiB + 4321, devoff;
	uint32_t d;
	uint8_t old;

	(void)state;
	fresh_fs(2);
	EXPECT(0, "creat", "--fs", fs2(), "/v", "-s", "6M", "--interleave",
	       "0", "--chunk", "1M");
	RUN(&r, "verify", "--fs", fs2(), "/v");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "all inside their devices"));
	assert_non_null(strstr(r.out, "read: "));
	cli_result_free(&r);
	RUN(&r, "verify", "--fs", fs2(), "--overwrite", "--seed", "9", "/v");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "read back and compared"));
	cli_result_free(&r);
	EXPECT(0, "verify", "--fs", fs2(), "--check", "--seed", "9", "/v");
	/* Another seed's pattern differs at once. */
	RUN(&r, "verify", "--fs", fs2(), "--check", "--seed", "10", "--json",
	    "/v");
	assert_int_equal(r.status, 1);
	doc = parse(&r);
	o = famrt_json_root(doc);
	CHECK_KEYS(o, "path", "size", "action", "seed", "runs", "devices",
		   "inside", "write_ns", "read_ns", "mismatch");
	assert_int_equal(ju64(jget(o, "mismatch"), "file_offset"), 0);
	famrt_json_free(doc);
	cli_result_free(&r);

	/* Corrupt one byte in the device file where the map puts offset
	 * `off`: verify names that very place. */
	getmap("/v", &m);
	tresolve(&m, off, &d, &devoff);
	old = dev_byte(d, devoff);
	dev_poke(d, devoff, (uint8_t)~old);
	RUN(&r, "verify", "--fs", fs2(), "--check", "--seed", "9", "--json",
	    "/v");
	assert_int_equal(r.status, 1);
	doc = parse(&r);
	o = famrt_json_root(doc);
	assert_string_equal(jstr(o, "action"), "check");
	assert_int_equal(ju64(o, "seed"), 9);
	assert_true(jnull(o, "write_ns"));
	mm = jget(o, "mismatch");
	CHECK_KEYS(mm, "file_offset", "device", "device_offset", "expected",
		   "found");
	assert_int_equal(ju64(mm, "file_offset"), off);
	assert_int_equal(ju64(mm, "device"), d);
	assert_int_equal(ju64(mm, "device_offset"), devoff);
	assert_int_equal(ju64(mm, "expected"), old);
	assert_int_equal(ju64(mm, "found"), (uint8_t)~old);
	famrt_json_free(doc);
	cli_result_free(&r);
	RUN(&r, "verify", "--fs", fs2(), "--check", "--seed", "9", "/v");
	assert_int_equal(r.status, 1);
	{
		char want[160];

		snprintf(want, sizeof(want),
			 "mismatch at file offset %" PRIu64 " (device %u, "
			 "device offset %" PRIu64 ")",
			 off, d, devoff);
		assert_non_null(strstr(r.err, want));
	}
	cli_result_free(&r);
	/* --overwrite writes it again and passes. */
	EXPECT(0, "verify", "--fs", fs2(), "--overwrite", "--seed", "9", "/v");
	assert_int_equal(dev_byte(d, devoff), old);

	EXPECT(2, "verify", "--fs", fs2(), "--seed", "1", "/v");
	EXPECT(2, "verify", "--fs", fs2(), "--check", "--overwrite", "/v");
	EXPECT(4, "verify", "--fs", fs2(), "/");
}

static void test_not_master(void **state)
{
	struct cli_result r;

	(void)state;
	fresh_fs(2);
	EXPECT(0, "mkdir", "--fs", fs2(), "/d");
	RUN(&r, "mkdir", "--fs", fs2(), "--host-id", "other-host", "/e");
	assert_int_equal(r.status, 4);
	assert_int_equal(cli_count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "master host '" MASTER "'"));
	assert_non_null(strstr(r.err, "other-host"));
	cli_result_free(&r);
	/* The same through the top-level options. */
	RUN(&r, "--fs", fs2(), "--host-id", "other-host", "creat", "/f", "-s",
	    "1M");
	assert_int_equal(r.status, 4);
	assert_non_null(strstr(r.err, MASTER));
	cli_result_free(&r);
	write_file(tfile("src"), "hello", 5, 0644);
	RUN(&r, "cp", "--fs", fs2(), "--host-id", "other-host", tfile("src"),
	    ":/d/x");
	assert_int_equal(r.status, 4);
	assert_non_null(strstr(r.err, MASTER));
	cli_result_free(&r);
	/* Reading is fine anywhere; $FAMRT_HOST_ID is this host's id. */
	setenv("FAMRT_HOST_ID", "other-host", 1);
	setenv("FAMRT_FS", fs2(), 1);
	RUN(&r, "ls");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "d\n");
	cli_result_free(&r);
	EXPECT(4, "mkdir", "/e");
	EXPECT(0, "mkdir", "--host-id", MASTER, "/e");
	setenv("FAMRT_HOST_ID", MASTER, 1);
	unsetenv("FAMRT_FS");
	EXPECT(0, "--fs", fs2(), "ls", "/e");
}

static void test_adddev(void **state)
{
	struct famrt_json_doc *doc;
	struct cli_result r;
	struct tmap m;

	(void)state;
	fresh_fs(2);
	unlink(dev(2));
	RUN(&r, "adddev", "--fs", fs2(), "--create", "32M", dev(2));
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "as device 2"));
	assert_non_null(strstr(r.out, fs_of(3, NULL)));
	cli_result_free(&r);
	RUN(&r, "df", "--fs", fs_of(3, NULL), "--json");
	assert_int_equal(r.status, 0);
	doc = parse(&r);
	assert_int_equal(jget(famrt_json_root(doc), "devices")->count, 3);
	assert_int_equal(ju64(famrt_json_root(doc), "size"), 90 * MiB);
	famrt_json_free(doc);
	cli_result_free(&r);
	/* The new device holds files. */
	RUN(&r, "creat", "--fs", fs_of(3, NULL), "/on2", "-s", "4M",
	    "--devices", "2");
	assert_int_equal(r.status, 0);
	cli_result_free(&r);
	{
		struct famrt_json_doc *d2;

		RUN(&r, "getmap", "--fs", fs_of(3, NULL), "--json", "/on2");
		d2 = parse(&r);
		tmap_from_json(famrt_json_root(d2), &m);
		famrt_json_free(d2);
		cli_result_free(&r);
		assert_int_equal(m.e[0].s[0].dev, 2);
	}
	RUN(&r, "log", "--fs", fs_of(3, NULL), "--json");
	doc = parse(&r);
	{
		const struct famrt_json_value *e =
			jidx(jget(famrt_json_root(doc), "entries"), 0);

		assert_string_equal(jstr(e, "type"), "add-device");
		assert_true(jnull(e, "path"));
		CHECK_KEYS(jget(e, "device"), "index", "size", "align",
			   "data_start", "uuid");
		assert_int_equal(ju64(jget(e, "device"), "index"), 2);
		assert_int_equal(ju64(jget(e, "device"), "size"), DEV_SIZE);
	}
	famrt_json_free(doc);
	cli_result_free(&r);
	/* The old two-device name no longer opens it: device 2 is named. */
	RUN(&r, "ls", "--fs", fs2(), "/");
	assert_int_equal(r.status, 4);
	assert_non_null(strstr(r.err, "3 devices"));
	assert_non_null(strstr(r.err, "added device 2"));
	cli_result_free(&r);
	/* A device of a file system already. */
	RUN(&r, "adddev", "--fs", fs_of(3, NULL), dev(1));
	assert_int_equal(r.status, 4);
	cli_result_free(&r);
}

static void test_fsck(void **state)
{
	struct famrt_json_doc *doc;
	const struct famrt_json_value *o, *f;
	struct cli_result r;
	uint8_t b;

	(void)state;
	fresh_fs(2);
	EXPECT(0, "mkdir", "--fs", fs2(), "/d");
	EXPECT(0, "creat", "--fs", fs2(), "/d/f", "-s", "3M");
	RUN(&r, "fsck", dev(0), dev(1));
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "0 errors, 0 warnings"));
	assert_non_null(strstr(r.out, "clean"));
	cli_result_free(&r);
	RUN(&r, "fsck", "--fs", fs2(), "--json");
	assert_int_equal(r.status, 0);
	doc = parse(&r);
	o = famrt_json_root(doc);
	CHECK_KEYS(o, "findings", "summary", "error", "exit_code");
	assert_int_equal(jget(o, "findings")->count, 0);
	assert_true(jnull(o, "error"));
	assert_int_equal(ju64(o, "exit_code"), 0);
	CHECK_KEYS(jget(o, "summary"), "complete", "operational_error", "name",
		   "uuid", "ndevs", "ndevs_given", "entries", "entries_lost",
		   "skipped", "files", "dirs", "file_bytes", "bytes_total",
		   "bytes_used", "bytes_free", "log_size", "log_used", "errors",
		   "warnings");
	assert_int_equal(ju64(jget(o, "summary"), "files"), 1);
	assert_int_equal(ju64(jget(o, "summary"), "dirs"), 1);
	assert_int_equal(ju64(jget(o, "summary"), "entries"), 2);
	famrt_json_free(doc);
	cli_result_free(&r);

	/* A damaged primary superblock (byte 40, inside the name): an
	 * error, exit 4; the backup still serves. */
	b = dev_byte(0, 40);
	dev_poke(0, 40, (uint8_t)(b ^ 0x55));
	RUN(&r, "fsck", "--fs", fs2(), "--json");
	assert_int_equal(r.status, 4);
	doc = parse(&r);
	o = famrt_json_root(doc);
	assert_int_equal(ju64(o, "exit_code"), 4);
	assert_true(jget(o, "findings")->count >= 1);
	f = jidx(jget(o, "findings"), 0);
	CHECK_KEYS(f, "severity", "code", "dev", "offset", "seq", "path",
		   "message");
	assert_string_equal(jstr(f, "severity"), "error");
	assert_string_equal(jstr(f, "code"), "sb-primary-crc");
	assert_int_equal(ju64(f, "dev"), 0);
	famrt_json_free(doc);
	cli_result_free(&r);
	RUN(&r, "fsck", "-q", dev(0), dev(1));
	assert_int_equal(r.status, 4);
	assert_true(!strncmp(r.out, "error: sb-primary-crc: ", 23));
	assert_int_equal(cli_count_lines(r.out), 1);
	cli_result_free(&r);
	dev_poke(0, 40, b);
	EXPECT(0, "fsck", dev(0), dev(1));

	/* A device that cannot be opened: operational error; usage: 16. */
	RUN(&r, "fsck", dev(0), tfile("nodev"));
	assert_int_equal(r.status, 8);
	assert_non_null(strstr(r.err, tfile("nodev")));
	cli_result_free(&r);
	EXPECT(16, "fsck", "--bogus", dev(0));
	EXPECT(16, "fsck", "--fs", fs2(), dev(0));
	EXPECT(16, "fsck");
}

static void test_usage(void **state)
{
	static const char *const cases[][10] = {
		{ "ls", "/" },                   /* no --fs, no $FAMRT_FS */
		{ "mkdir", "--fs", "x" },
		{ "mkdir", "--fs", "x", "rel" },
		{ "creat", "--fs", "x", "/f" },
		{ "creat", "--fs", "x", "/f", "-s", "1Q" },
		{ "creat", "--fs", "x", "/f", "-s", "1M", "--chunk", "2M" },
		{ "creat", "--fs", "x", "/f", "-s", "1M", "--interleave", "33" },
		{ "creat", "--fs", "x", "/f", "-s", "1M", "--devices", "0,0" },
		{ "creat", "--fs", "x", "/f", "-s", "1M", "--devices", "32" },
		{ "creat", "--fs", "x,,y", "/f", "-s", "1M" },
		{ "cp", "--fs", "x", "a", "b" },
		{ "cp", "--fs", "x", ":/a" },
		{ "cp", "--fs", "x", "a", ":/b", "--depth", "0" },
		{ "getmap", "--fs", "x", "--json", "--raw", "/f" },
		{ "getmap", "--fs", "x", "-o", "f", "/f" },
		{ "ls", "--fs", "x", "--batch", "0" },
		{ "ls", "--fs", "x", "--batch", "1025" },
		{ "stat", "--fs", "x" },
		{ "df", "--fs", "x", "extra" },
		{ "log", "--fs", "x", "--from", "x" },
		{ "mkfs", "--unit", "3K", "x" },
		{ "mkfs", "--log-size", "4K", "x" },
		{ "mkfs", "--fs", "x", "y" },
		{ "mkfs", "--create", "1000", "x" },
		{ "verify", "--fs", "x" },
		{ "adddev", "--fs", "x" },
		{ "mkdir", "--fs", "x", "--host-id", "", "/d" },
		{ "--fs" },
	};
	struct cli_result r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(cli_run(cases[i], NULL, 0, &r), 0);
		if (r.status != 2)
			fail_msg("case %zu (%s %s %s %s): exit %d, stderr %s",
				 i, cases[i][0], cases[i][1], cases[i][2],
				 cases[i][3], r.status, r.err);
		assert_int_equal(r.out_len, 0);
		assert_non_null(strstr(r.err, "Usage: famrt"));
		cli_result_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mkfs),
		cmocka_unit_test(test_device_order),
		cmocka_unit_test(test_mkdir),
		cmocka_unit_test(test_creat_layouts),
		cmocka_unit_test(test_cp),
		cmocka_unit_test(test_ls_stat),
		cmocka_unit_test(test_df_log),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_not_master),
		cmocka_unit_test(test_adddev),
		cmocka_unit_test(test_fsck),
		cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

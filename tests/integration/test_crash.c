/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Crash safety of the metadata log (docs/format.md, "Appending"):
 *  - an append cut short after every byte of its write sequence (the
 *    fs->debug_cut hook) replays to exactly the state before it, or after
 *    it once its commit word is whole; fsck finds no error; and the writer
 *    carries on over what was left;
 *  - a writer process killed with SIGKILL at random moments, hundreds of
 *    times: every create it acknowledged is there with its size and map,
 *    the log replays without damage, fsck finds no error;
 *  - every byte of the log's data, of both superblocks and of a label
 *    flipped in turn: replay (open, and follow) and fsck both notice.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../unit/meta_test.h"

#define CR_UNIT 4096u

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cr_mkfs(const struct mt_fs *f, uint64_t log_size)
{
	struct famrt_mkfs_opts o = { .name = "crash", .alloc_unit = CR_UNIT,
				     .log_size = log_size, .master = MT_MASTER,
				     .force = true };
	struct famrt_err e;
	int rc = famrt_mkfs(f->paths, f->n, &o, NULL, &e);

	if (rc)
		print_error("mkfs: %s\n", e.msg);
	assert_int_equal(rc, 0);
}

static void ok(int rc, const struct famrt_err *e, const char *what)
{
	if (rc)
		print_error("%s: %s\n", what, e->msg);
	assert_int_equal(rc, 0);
}

/* Fresh open: nothing skipped, no damage but (allowed) a torn tail. */
static char *fresh_dump(const struct mt_fs *f, uint32_t *damage)
{
	struct famrt_fs *fs = mt_open_n(f, f->n, MT_MASTER, true);
	char *d;

	assert_int_equal(fs->nskipped, 0);
	if (fs->damage & ~(FAMRT_DAMAGE_TAIL0 | FAMRT_DAMAGE_TAIL1))
		print_error("damage 0x%x: %s\n", fs->damage,
			    fs->first_problem.msg);
	assert_int_equal(fs->damage & ~(FAMRT_DAMAGE_TAIL0 |
					 FAMRT_DAMAGE_TAIL1),
			 0);
	*damage = fs->damage;
	d = mt_dump(fs);
	famrt_fs_close(fs);
	return d;
}

/* ---- an append cut short at every byte ---- */

static const struct famrt_alloc_layout ilv3 = { .kind = FAMRT_LAYOUT_INTERLEAVE,
					  .nstrips = 3, .chunk = 8192 };

static void base_empty(struct famrt_fs *fs)
{
	(void)fs;
}

static void base_one(struct famrt_fs *fs)
{
	struct famrt_err e;

	ok(famrt_fs_mkdir(fs, "/a", 0755, 1, 2, NULL, &e), &e, "mkdir");
}

static void base_five(struct famrt_fs *fs)
{
	struct famrt_err e;

	base_one(fs);
	ok(famrt_fs_create(fs, "/a/f1", 0644, 1, 2, 100000, NULL, NULL, &e),
	   &e, "create");
	ok(famrt_fs_mkdir(fs, "/a/b", 0755, 1, 2, NULL, &e), &e, "mkdir");
	ok(famrt_fs_create(fs, "/a/g", 0644, 1, 2, 70000, &ilv3, NULL, &e),
	   &e, "create");
	ok(famrt_fs_create(fs, "/a/h", 0644, 1, 2, 0, NULL, NULL, &e), &e,
	   "create");
}

static void base_six(struct famrt_fs *fs)
{
	struct famrt_err e;

	base_five(fs);
	ok(famrt_fs_mkdir(fs, "/a/b/c", 0700, 1, 2, NULL, &e), &e, "mkdir");
}

static int op_mkdir_a(struct famrt_fs *fs, struct famrt_err *e)
{
	return famrt_fs_mkdir(fs, "/a", 0755, 3, 4, NULL, e);
}

static int op_create_f(struct famrt_fs *fs, struct famrt_err *e)
{
	return famrt_fs_create(fs, "/a/new", 0600, 3, 4, 50000, NULL, NULL,
			       e);
}

static int op_mkdir_deep(struct famrt_fs *fs, struct famrt_err *e)
{
	return famrt_fs_mkdir(fs, "/a/b/a-rather-long-directory-name", 0711, 3,
			      4, NULL, e);
}

static int op_create_ilv(struct famrt_fs *fs, struct famrt_err *e)
{
	return famrt_fs_create(fs, "/a/b/c/new", 0600, 3, 4, 300000, &ilv3,
			       NULL, e);
}

static int op_create_empty(struct famrt_fs *fs, struct famrt_err *e)
{
	return famrt_fs_create(fs, "/a/new", 0600, 3, 4, 0, NULL, NULL, e);
}

struct cut_case {
	const char *name;
	void (*base)(struct famrt_fs *fs);
	int (*op)(struct famrt_fs *fs, struct famrt_err *e);
	uint64_t seq; /* the entry the op appends */
};

static const struct cut_case cut_cases[] = {
	{ "mkdir, first entry", base_empty, op_mkdir_a, 1 },
	{ "create, second entry", base_one, op_create_f, 2 },
	{ "mkdir, entry 6", base_five, op_mkdir_deep, 6 },
	{ "create interleaved, entry 7", base_six, op_create_ilv, 7 },
	{ "create empty, entry 6", base_five, op_create_empty, 6 },
};

static void cut_case(const struct mt_fs *f, const struct cut_case *cc)
{
	size_t meta_len = 8192 + MT_LOG;
	uint8_t *meta = malloc(meta_len), *ent;
	struct famrt_fs *fs;
	struct famrt_err e;
	struct mt_fsck r;
	char *before, *after;
	uint64_t pos0, size, T, log_off;
	uint8_t uuid[16];
	unsigned nbefore = 0, nafter = 0, ntorn_log = 0, ntorn_tail = 0;
	uint32_t damage;

	assert_non_null(meta);
	cr_mkfs(f, MT_LOG);
	fs = mt_open(f);
	cc->base(fs);
	pos0 = fs->pos;
	assert_int_equal(fs->next_seq, cc->seq);
	log_off = fs->sb.log_offset;
	memcpy(uuid, fs->sb.uuid, 16);
	famrt_fs_close(fs);
	mt_pread(f->paths[0], 0, meta, meta_len);
	before = fresh_dump(f, &damage);
	assert_int_equal(damage, 0);

	/* The whole append once: its size, and the state after it. */
	fs = mt_open(f);
	ok(cc->op(fs, &e), &e, cc->name);
	size = fs->pos - pos0;
	famrt_fs_close(fs);
	after = fresh_dump(f, &damage);
	assert_int_equal(damage, 0);
	assert_true(strcmp(before, after) != 0);
	/* zero word, body after the commit word, commit word, tail slot */
	T = 8 + (size - 8) + 8 + FAMRT_TAIL_SLOT_SIZE;
	ent = malloc(size);
	assert_non_null(ent);

	for (uint64_t k = 1; k <= T + 1; k++) {
		uint64_t stored = k <= T ? k - 1 : T;
		bool want_after;
		char *now;
		int rc;

		mt_pwrite(f->paths[0], 0, meta, meta_len);
		fs = mt_open(f);
		fs->debug_cut = k;
		rc = cc->op(fs, &e);
		if (k <= T) {
			assert_int_equal(rc, -EINTR);
			assert_non_null(strstr(e.msg, "cut short"));
		} else {
			ok(rc, &e, "uncut append");
		}
		assert_int_equal(fs->debug_cut, 0);
		famrt_fs_close(fs);

		/*
		 * Before, until the commit word is whole on the media (its
		 * last bytes may happen to be zero already).
		 */
		mt_pread(f->paths[0], log_off + pos0, ent, size);
		if (stored <= size) {
			want_after = false;
		} else if (stored >= size + 8) {
			want_after = true;
		} else {
			uint8_t cw[8];

			famrt_le32_put(cw, FAMRT_ENTRY_MAGIC);
			famrt_le32_put(cw + 4,
				       famrt_entry_crc(ent, size, uuid));
			want_after = !memcmp(ent, cw, 8);
		}
		now = fresh_dump(f, &damage);
		if (strcmp(now, want_after ? after : before))
			print_error("%s: cut after %llu of %llu bytes\n",
				    cc->name, (unsigned long long)stored,
				    (unsigned long long)T);
		mt_same(now, want_after ? after : before);
		free(now);
		nafter += want_after;
		nbefore += !want_after;
		/* Only a cut in the tail slot may leave it torn. */
		if (damage)
			assert_true(stored > size + 8 && stored < T);

		mt_fsck_clean(f, &r);
		if (stored > size && !want_after) {
			assert_non_null(mt_find(&r, "log-torn"));
			ntorn_log++;
		}
		if (damage) {
			assert_non_null(mt_find(&r, "tail-torn"));
			ntorn_tail++;
		}
		assert_int_equal(r.s.entries, cc->seq - !want_after);

		/* The writer carries on over whatever was left. */
		fs = mt_open(f);
		ok(famrt_fs_mkdir(fs, "/carry-on", 0755, 0, 0, NULL, &e), &e,
		   "mkdir after the cut");
		assert_int_equal(fs->next_seq, cc->seq + 1 + want_after);
		famrt_fs_close(fs);
		now = fresh_dump(f, &damage);
		assert_non_null(strstr(now, " /carry-on\n"));
		free(now);
		mt_fsck_clean(f, &r);
		assert_null(mt_find(&r, "log-torn"));
	}
	print_message("%s: %llu-byte entry, %llu cut points: %u before, %u "
		      "after; %u torn commit words, %u torn tail slots seen\n",
		      cc->name, (unsigned long long)size,
		      (unsigned long long)T + 1, nbefore, nafter, ntorn_log,
		      ntorn_tail);
	assert_true(nbefore >= size + 1);
	assert_true(nafter >= 64 + 1);
	assert_true(ntorn_log >= 1);
	assert_true(ntorn_tail >= 32);
	free(before);
	free(after);
	free(meta);
	free(ent);
}

static void test_cut_every_byte(void **state)
{
	struct mt_fs f;

	(void)state;
	mt_dump_no_time = true; /* each run appends at another time */
	mt_devs(&f, 3, 32 * MT_MiB);
	for (size_t i = 0; i < sizeof(cut_cases) / sizeof(cut_cases[0]); i++)
		cut_case(&f, &cut_cases[i]);
	mt_dump_no_time = false;
}

/* ---- SIGKILL storm ---- */

#define STORM_LOG (256 * MT_KiB)

/* One line, written whole (pipe writes under PIPE_BUF are atomic). */
__attribute__((format(printf, 2, 3))) static void say(int fd,
						       const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(line) - 1 ||
	    write(fd, line, (size_t)n) != n)
		_exit(5);
}

static void hex(char *out, const uint8_t *p, uint32_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (uint32_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The writer: creates until killed; acknowledges each create. */
static __attribute__((noreturn)) void storm_child(const struct mt_fs *f,
						  int fd, unsigned id)
{
	struct famrt_fs_opts o = { .host_id = MT_MASTER };
	struct famrt_fs *fs;
	struct famrt_err e;
	char dir[64], path[128], h[1700];
	unsigned seed = id * 2654435761u + 1;
	int rc;

	if (famrt_fs_open(&fs, f->paths, f->n, &o, &e)) {
		say(fd, "E open: %s\n", e.msg);
		_exit(3);
	}
	say(fd, "R\n");
	snprintf(dir, sizeof(dir), "/c%u", id);
	for (unsigned i = 0;; i++) {
		const struct famrt_node *n = NULL;
		struct famrt_alloc_layout l = { .kind = FAMRT_LAYOUT_SIMPLE };
		unsigned r = rand_r(&seed);
		uint64_t size = r % 5 == 0 ? 0 : rand_r(&seed) % 100000;

		if (i % 16 == 0) {
			if (i)
				snprintf(dir, sizeof(dir), "/c%u/s%u", id, i);
			rc = famrt_fs_mkdir(fs, dir, 0755, 0, 0, NULL, &e);
			if (!rc) {
				say(fd, "D %s\n", dir);
				continue;
			}
		} else {
			if (r & 8) {
				l.kind = FAMRT_LAYOUT_INTERLEAVE;
				l.nstrips = 2 + (r >> 4) % 3;
				l.chunk = 4096u << ((r >> 6) % 3);
				if (r & 0x100) {
					l.ndevs = 2;
					l.devs[0] = (r >> 9) % 3;
					l.devs[1] = (l.devs[0] + 1) % 3;
				}
			}
			snprintf(path, sizeof(path), "%s/f%u", dir, i);
			rc = famrt_fs_create(fs, path, 0644, 0, 0, size, &l, &n,
					     &e);
			if (!rc) {
				if (n->fmap_len * 2 >= sizeof(h))
					_exit(6);
				hex(h, n->fmap_msg, n->fmap_len);
				say(fd, "C %s %llu %s\n", path,
				    (unsigned long long)n->size, h);
				continue;
			}
		}
		if (rc == -ENOSPC || rc == -E2BIG) {
			say(fd, "F %s\n", e.msg);
			for (;;)
				pause();
		}
		say(fd, "E %d: %s\n", rc, e.msg);
		_exit(3);
	}
}

struct acks {
	char **line;
	size_t n, cap;
};

static void acks_add(struct acks *a, const char *line)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 1024;
		a->line = realloc(a->line, a->cap * sizeof(*a->line));
		assert_non_null(a->line);
	}
	a->line[a->n] = strdup(line);
	assert_non_null(a->line[a->n]);
	a->n++;
}

static void acks_clear(struct acks *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->line[i]);
	a->n = 0;
}

/* Everything acknowledged is there; replay and fsck are clean. */
static void storm_verify(const struct mt_fs *f, const struct acks *a)
{
	struct famrt_fs *fs = mt_open_n(f, f->n, MT_MASTER, true);
	struct mt_fsck r;
	uint32_t damage;
	char h[1700];

	assert_int_equal(fs->nskipped, 0);
	if (fs->damage & ~(FAMRT_DAMAGE_TAIL0 | FAMRT_DAMAGE_TAIL1))
		print_error("damage: %s\n", fs->first_problem.msg);
	assert_int_equal(fs->damage & ~(FAMRT_DAMAGE_TAIL0 |
					 FAMRT_DAMAGE_TAIL1),
			 0);
	for (size_t i = 0; i < a->n; i++) {
		const char *l = a->line[i];
		char path[128], want[1700];
		unsigned long long size;
		const struct famrt_node *n;
		struct famrt_err e;
		int rc;

		if (l[0] == 'D') {
			assert_int_equal(sscanf(l, "D %127s", path), 1);
			n = famrt_fs_lookup(fs, path, &rc, &e);
			if (!n)
				print_error("acknowledged %s is gone\n", path);
			assert_non_null(n);
			assert_true(S_ISDIR(n->mode));
			continue;
		}
		assert_int_equal(sscanf(l, "C %127s %llu %1699s", path, &size,
					want),
				 3);
		n = famrt_fs_lookup(fs, path, &rc, &e);
		if (!n)
			print_error("acknowledged %s is gone\n", path);
		assert_non_null(n);
		assert_int_equal(n->size, size);
		hex(h, n->fmap_msg, n->fmap_len);
		assert_string_equal(h, want);
	}
	damage = fs->damage;
	famrt_fs_close(fs);
	mt_fsck_clean(f, &r);
	if (damage)
		assert_non_null(mt_find(&r, "tail-torn"));
}

/*
 * Read the child's lines until EOF, or until an "R" line (until_ready), or
 * until the deadline (if not 0) passes.
 */
static bool storm_read(int fd, char *buf, size_t *len, size_t cap,
		       bool until_ready, double deadline, struct acks *a,
		       bool *full)
{
	for (;;) {
		char *nl;
		ssize_t got;

		while ((nl = memchr(buf, '\n', *len))) {
			*nl = '\0';
			if (buf[0] == 'C' || buf[0] == 'D') {
				acks_add(a, buf);
			} else if (buf[0] == 'F') {
				*full = true;
			} else if (buf[0] == 'E') {
				print_error("writer: %s\n", buf);
				fail();
			}
			bool ready = buf[0] == 'R';

			*len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, *len);
			if (ready && until_ready)
				return true;
		}
		if (until_ready || deadline) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int ms = 10000;

			if (deadline) {
				double left = deadline - now_s();

				if (left <= 0)
					return true;
				ms = (int)(left * 1000) + 1;
			}
			if (poll(&p, 1, ms) != 1) {
				if (deadline)
					continue;
				return false;
			}
		}
		got = read(fd, buf + *len, cap - *len);
		if (got < 0 && errno == EINTR)
			continue;
		assert_true(got >= 0);
		if (got == 0) {
			assert_int_equal(*len, 0); /* no partial line */
			return false;
		}
		*len += (size_t)got;
	}
}

static void test_sigkill_storm(void **state)
{
	const unsigned want_kills = 300;
	const double budget = 40.0;
	struct acks a = { 0 };
	struct mt_fs f;
	unsigned kills = 0, rounds = 0, early = 0, id = 0;
	unsigned long long acked = 0;
	unsigned seed = 12345;
	double t0 = now_s();
	char *buf = malloc(1 << 16);

	(void)state;
	assert_non_null(buf);
	mt_devs(&f, 3, 256 * MT_MiB);
	while (kills < want_kills && now_s() - t0 < budget) {
		bool full = false;

		cr_mkfs(&f, STORM_LOG);
		rounds++;
		acks_clear(&a);
		while (!full && kills < want_kills && now_s() - t0 < budget) {
			size_t len = 0;
			int p[2], status;
			pid_t pid;
			bool wait_ready = rand_r(&seed) % 8 != 0;

			assert_int_equal(pipe(p), 0);
			pid = fork();
			assert_true(pid >= 0);
			if (pid == 0) {
				close(p[0]);
				storm_child(&f, p[1], id);
			}
			id++;
			close(p[1]);
			if (wait_ready)
				assert_true(storm_read(p[0], buf, &len, 1 << 16,
						       true, 0, &a, &full));
			else
				early++;
			/* Let it run a random while, taking its lines. */
			storm_read(p[0], buf, &len, 1 << 16, false,
				   now_s() + (rand_r(&seed) %
					      (wait_ready ? 3000 : 300)) / 1e6 +
					   1e-7,
				   &a, &full);
			assert_int_equal(kill(pid, SIGKILL), 0);
			assert_int_equal(waitpid(pid, &status, 0), pid);
			storm_read(p[0], buf, &len, 1 << 16, false, 0, &a,
				   &full);
			close(p[0]);
			if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
				print_error("writer ended with status 0x%x\n",
					    status);
			assert_true(WIFSIGNALED(status));
			assert_int_equal(WTERMSIG(status), SIGKILL);
			kills++;
			storm_verify(&f, &a);
		}
		acked += a.n;
	}
	print_message("%u kills (%u before the writer was ready) in %u "
		      "rounds, %llu acknowledged changes, %.1f s\n",
		      kills, early, rounds, acked, now_s() - t0);
	assert_true(kills >= 200);
	assert_true(acked >= kills);
	acks_clear(&a);
	free(a.line);
	free(buf);
}

/* ---- every byte flipped ---- */

static void copy_file(const char *from, const char *to)
{
	size_t len;
	uint8_t *b = mt_slurp(from, &len);

	mt_pwrite(to, 0, b, len);
	free(b);
}

static bool open_notices(const struct mt_fs *f, uint32_t flags)
{
	struct famrt_fs_opts o = { .host_id = MT_MASTER, .readonly = true };
	struct famrt_fs *fs;
	struct famrt_err e;
	bool seen;
	int rc = famrt_fs_open(&fs, f->paths, f->n, &o, &e);

	if (rc)
		return flags == 0 || rc == -EUCLEAN;
	seen = (fs->damage & flags) != 0;
	famrt_fs_close(fs);
	return seen;
}

static bool fsck_notices(const struct mt_fs *f, const char *prefix)
{
	struct mt_fsck r;

	mt_fsck_run(f, &r);
	if (r.rc || !r.s.errors)
		return false;
	for (unsigned i = 0; i < r.n && i < MT_MAX_FINDINGS; i++)
		if (r.f[i].sev == FAMRT_FSCK_ERROR &&
		    !strncmp(r.f[i].code, prefix, strlen(prefix)))
			return true;
	return false;
}

static void test_byte_flips(void **state)
{
	const uint32_t d01[2] = { 0, 1 };
	struct famrt_alloc_layout l = { .kind = FAMRT_LAYOUT_INTERLEAVE,
				  .nstrips = 2, .ndevs = 2,
				  .devs = { d01[0], d01[1] } };
	size_t meta_len = 8192 + MT_LOG;
	uint8_t *half = malloc(meta_len), *full = malloc(meta_len);
	uint8_t label[FAMRT_LABEL_SIZE];
	struct mt_fs orig, f;
	struct famrt_fs *fs;
	struct famrt_err e;
	struct mt_fsck r;
	uint64_t log_off, pos_half = 0, end, n = 0;
	unsigned missed = 0;
	double t0 = now_s();

	(void)state;
	assert_non_null(half);
	assert_non_null(full);
	mt_make(&orig, 2, 8 * MT_MiB);
	fs = mt_open(&orig);
	log_off = fs->sb.log_offset;
	for (int i = 0; i < 32; i++) {
		char p[32];

		if (i % 5 == 0) {
			snprintf(p, sizeof(p), "/d%d", i);
			ok(famrt_fs_mkdir(fs, p, 0755, 0, 0, NULL, &e), &e,
			   "mkdir");
		} else {
			snprintf(p, sizeof(p), "/d%d/f%d", i - i % 5, i);
			ok(famrt_fs_create(fs, p, 0644, 0, 0,
					   (uint64_t)i * 9999, i & 1 ? &l : NULL,
					   NULL, &e),
			   &e, "create");
		}
		if (i == 15) {
			pos_half = fs->pos;
			mt_pread(orig.paths[0], 0, half, meta_len);
		}
	}
	end = fs->pos;
	famrt_fs_close(fs);
	mt_pread(orig.paths[0], 0, full, meta_len);

	/* Work on copies of the device files. */
	f = orig;
	for (uint32_t i = 0; i < 2; i++) {
		f.paths[i] = mt_dev_new(8 * MT_MiB);
		copy_file(orig.paths[i], f.paths[i]);
	}
	mt_fsck_clean(&f, &r);
	assert_int_equal(r.s.entries, 32);

	/* The log: tail slots and every byte of every entry. */
	for (uint64_t b = 0; b < end; b++) {
		uint8_t m = (uint8_t)(1u << (b & 7));

		mt_xor_byte(f.paths[0], log_off + b, m);
		if (!open_notices(&f, FAMRT_DAMAGE_TAIL0 | FAMRT_DAMAGE_TAIL1)) {
			print_error("replay missed log byte %llu\n",
				    (unsigned long long)b);
			missed++;
		}
		if (!fsck_notices(&f, b < FAMRT_LOG_ENTRIES_START ? "tail-" :
								    "log-")) {
			print_error("fsck missed log byte %llu\n",
				    (unsigned long long)b);
			missed++;
		}
		mt_xor_byte(f.paths[0], log_off + b, m);
		n++;
	}
	/* The same bytes seen by a follower that had read half the log. */
	for (uint64_t b = 0; b < end; b++) {
		uint8_t m = (uint8_t)(1u << (b & 7));
		uint64_t applied;
		int rc;

		if (b == FAMRT_LOG_ENTRIES_START)
			b = pos_half;
		mt_pwrite(f.paths[0], 0, half, meta_len);
		fs = mt_open_n(&f, 2, MT_OTHER, false);
		assert_int_equal(fs->nentries, 16);
		mt_pwrite(f.paths[0], 0, full, meta_len);
		mt_xor_byte(f.paths[0], log_off + b, m);
		rc = famrt_fs_follow(fs, &applied, &e);
		if (!(rc == -EUCLEAN ||
		      (!rc && (fs->damage & (FAMRT_DAMAGE_TAIL0 |
					     FAMRT_DAMAGE_TAIL1))))) {
			print_error("follow missed log byte %llu (rc %d)\n",
				    (unsigned long long)b, rc);
			missed++;
		}
		famrt_fs_close(fs);
		n++;
	}
	mt_pwrite(f.paths[0], 0, full, meta_len);
	/* Both superblocks. */
	for (uint64_t b = 0; b < 2 * FAMRT_SB_SIZE; b++) {
		uint8_t m = (uint8_t)(1u << (b & 7));

		mt_xor_byte(f.paths[0], b, m);
		if (!open_notices(&f, b < FAMRT_SB_SIZE ?
					      FAMRT_DAMAGE_SB_PRIMARY :
					      FAMRT_DAMAGE_SB_BACKUP)) {
			print_error("open missed superblock byte %llu\n",
				    (unsigned long long)b);
			missed++;
		}
		if (!fsck_notices(&f, b < FAMRT_SB_SIZE ? "sb-primary-" :
							  "sb-backup-")) {
			print_error("fsck missed superblock byte %llu\n",
				    (unsigned long long)b);
			missed++;
		}
		mt_xor_byte(f.paths[0], b, m);
		n++;
	}
	/* Device 1's label: the open refuses, fsck reports it. */
	mt_pread(f.paths[1], 0, label, sizeof(label));
	for (uint64_t b = 0; b < FAMRT_LABEL_SIZE; b++) {
		uint8_t m = (uint8_t)(1u << (b & 7));

		mt_xor_byte(f.paths[1], b, m);
		if (!open_notices(&f, 0)) {
			print_error("open missed label byte %llu\n",
				    (unsigned long long)b);
			missed++;
		}
		if (!fsck_notices(&f, "label-")) {
			print_error("fsck missed label byte %llu\n",
				    (unsigned long long)b);
			missed++;
		}
		mt_xor_byte(f.paths[1], b, m);
		n++;
	}
	print_message("%llu flips (log %llu bytes, 2 superblocks, a label), "
		      "%u missed, %.1f s\n",
		      (unsigned long long)n, (unsigned long long)end, missed,
		      now_s() - t0);
	assert_int_equal(missed, 0);
	mt_fsck_clean(&f, &r);
	free(half);
	free(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cut_every_byte),
		cmocka_unit_test(test_sigkill_storm),
		cmocka_unit_test(test_byte_flips),
	};

	/* FAMRT_TEST_FILTER=test_byte_flips runs one test (a glob). */
	if (getenv("FAMRT_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FAMRT_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kill -9 of famrtd under load: several client processes create files
 * through the service and tell the parent, through a pipe, about each
 * create they start and each one the service acknowledges (path, inode,
 * size). The parent SIGKILLs the service at random moments while creates
 * are flowing, dozens of times, and restarts it; the clients reconnect and
 * go on with new names (a create whose answer was lost is never retried).
 *
 * At the end, through the service: every acknowledged create is there with
 * its inode, size and a valid map (decoded with the device table's limits);
 * a create that was in flight at a kill is either absent or whole (right
 * size, valid map); no other file exists. Then, on the devices directly
 * (famrt_fs_open, as fsck would): no damage, no skipped entry, one entry
 * per object, and the free space is exactly the devices' space minus what
 * the files' maps hold (nothing leaked, nothing counted twice).
 *
 * FAMRT_TEST_SEED=N replays the random choices (the seed is printed; the
 * timing of kills against creates is not reproducible).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "famrtd_harness.h"
#include "meta/fs.h"
#include "proto/client.h"

#define NCLIENTS 4
#define KILLS 36
#define MAX_CREATES 100000u /* per client, at most */
#define DEV_SIZE (1ull << 40) /* sparse: file data is never touched */
#define UNIT (2ull << 20)

/* What a client reports, one record per write (atomic on a pipe). */
struct rec {
	uint8_t kind;   /* 'T' trying, 'A' acknowledged, 'E' failed */
	uint8_t layout;
	uint16_t client;
	uint32_t n;     /* the client's create number: /c<client>/f<n> */
	uint64_t ino;   /* 'A': the inode; 'E': the errno */
	uint64_t size;
};

struct intent {
	uint64_t size;
	uint64_t ino;
	uint8_t layout;
	bool tried, acked;
};

struct env {
	struct h_fs fs;
	struct h_famrtd d;
	uint64_t seed;
	struct intent *in[NCLIENTS];
	uint32_t ntried[NCLIENTS];
	uint64_t dir_ino[NCLIENTS];
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
	struct env *v = calloc(1, sizeof(*v));
	const char *seed = getenv("FAMRT_TEST_SEED");

	*state = NULL;
	if (!v)
		return -1;
	v->seed = seed ? strtoull(seed, NULL, 0) :
			 (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rng_state = v->seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
	if (!rng_state)
		rng_state = 1;
	fprintf(stderr, "# seed %llu (FAMRT_TEST_SEED to replay)\n",
		(unsigned long long)v->seed);
	for (int i = 0; i < NCLIENTS; i++) {
		v->in[i] = calloc(MAX_CREATES, sizeof(*v->in[i]));
		if (!v->in[i])
			return -1;
	}
	if (h_fs_make(&v->fs, 2, DEV_SIZE, "host-a"))
		return -1;
	if (h_famrtd_start(&v->d, &v->fs, "master", "host-a", NULL)) {
		h_fs_remove(&v->fs);
		return -1;
	}
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	struct env *v = *state;

	if (!v)
		return 0;
	h_famrtd_kill(&v->d);
	h_fs_remove(&v->fs);
	for (int i = 0; i < NCLIENTS; i++)
		free(v->in[i]);
	free(v);
	return 0;
}

/* ---- the client processes ---- */

static void report(int fd, const struct rec *r)
{
	ssize_t n;

	do
		n = write(fd, r, sizeof(*r));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*r))
		_exit(90);
}

/* The service went away (killed): reconnect and go on. */
static bool service_lost(int rc)
{
	return rc == -ECONNRESET || rc == -EPIPE || rc == -ECONNREFUSED ||
	       rc == -ENOENT || rc == -ECONNABORTED || rc == -ENOTCONN;
}

static struct famrt_client *reconnect(const char *sock)
{
	struct famrt_client *c;
	struct famrt_err e;
	uint64_t t0 = now_ms();
	int rc;

	for (;;) {
		rc = famrt_client_connect(&c, sock, &e);
		if (!rc)
			return c;
		/* Dying or restarting: connect, hello or devices may fail. */
		if (!service_lost(rc) || now_ms() - t0 > 30000) {
			fprintf(stderr, "client: cannot reconnect: %s\n",
				e.msg);
			_exit(91);
		}
		usleep(1000);
	}
}

static void client_main(int id, const char *sock, int out, int stop,
			uint64_t seed)
{
	struct famrt_client *c = NULL;
	struct famrt_proto_attr a;
	struct famrt_err e;
	char path[64];

	rng_state = seed;
	for (uint32_t n = 0; n < MAX_CREATES; n++) {
		struct famrt_proto_create_req cr = { .mode = 0644 };
		struct rec r = { .client = (uint16_t)id, .n = n };
		struct pollfd p = { .fd = stop, .events = POLLIN };
		uint64_t k = rnd_below(10);
		int rc;

		if (poll(&p, 1, 0) > 0)
			break; /* the parent closed the pipe: stop */
		if (!c)
			c = reconnect(sock);
		/* Mostly one unit; some interleaved over both devices. */
		if (k < 6) {
			cr.size = 1 + rnd_below(UNIT);
		} else if (k < 9) {
			cr.layout = 1;
			cr.size = 1 + rnd_below(3 * UNIT);
		} else {
			cr.size = 0;
		}
		snprintf(path, sizeof(path), "/c%d/f%u", id, n);
		r.kind = 'T';
		r.layout = (uint8_t)cr.layout;
		r.size = cr.size;
		report(out, &r);
		rc = famrt_client_create(c, path, &cr, &a, &e);
		if (rc == 0) {
			if (a.size != cr.size || !S_ISREG(a.mode)) {
				fprintf(stderr, "client %d: %s: size %llu\n",
					id, path, (unsigned long long)a.size);
				_exit(92);
			}
			r.kind = 'A';
			r.ino = a.ino;
			report(out, &r);
		} else if (service_lost(rc)) {
			famrt_client_close(c);
			c = NULL;
		} else {
			fprintf(stderr, "client %d: create %s: %s\n", id, path,
				e.msg);
			r.kind = 'E';
			r.ino = (uint64_t)-rc;
			report(out, &r);
			_exit(93);
		}
		/* Half the clients keep the service busy, half pace. */
		if (id % 2)
			usleep((useconds_t)rnd_below(1000));
	}
	famrt_client_close(c);
	_exit(0);
}

/* ---- the parent ---- */

struct reader {
	int fd;
	uint8_t buf[sizeof(struct rec) * 64];
	size_t have;
	bool eof;
};

/* Read what is there; apply whole records. Returns acks seen. */
static unsigned drain(struct env *v, struct reader *rd, int timeout_ms)
{
	struct pollfd p[NCLIENTS];
	unsigned acks = 0;
	int n = 0;

	for (int i = 0; i < NCLIENTS; i++) {
		p[i].fd = rd[i].eof ? -1 : rd[i].fd;
		p[i].events = POLLIN;
		p[i].revents = 0;
		n += !rd[i].eof;
	}
	if (!n) {
		if (timeout_ms > 0)
			usleep((useconds_t)timeout_ms * 1000);
		return 0;
	}
	if (poll(p, NCLIENTS, timeout_ms) <= 0)
		return 0;
	for (int i = 0; i < NCLIENTS; i++) {
		struct reader *r = &rd[i];
		ssize_t k;
		size_t off = 0;

		if (!(p[i].revents & (POLLIN | POLLHUP)))
			continue;
		k = read(r->fd, r->buf + r->have, sizeof(r->buf) - r->have);
		if (k == 0) {
			r->eof = true;
			assert_int_equal(r->have, 0);
			continue;
		}
		assert_true(k > 0);
		r->have += (size_t)k;
		while (r->have - off >= sizeof(struct rec)) {
			struct rec x;
			struct intent *in;

			memcpy(&x, r->buf + off, sizeof(x));
			off += sizeof(x);
			assert_int_equal(x.client, i);
			assert_true(x.n < MAX_CREATES);
			in = &v->in[i][x.n];
			switch (x.kind) {
			case 'T':
				assert_false(in->tried);
				in->tried = true;
				in->size = x.size;
				in->layout = x.layout;
				if (x.n + 1 > v->ntried[i])
					v->ntried[i] = x.n + 1;
				break;
			case 'A':
				assert_true(in->tried);
				assert_int_equal(in->size, x.size);
				in->acked = true;
				in->ino = x.ino;
				acks++;
				break;
			default:
				fprintf(stderr,
					"client %d: create %u failed: %s\n", i,
					x.n, strerror((int)x.ino));
				fail();
			}
		}
		memmove(r->buf, r->buf + off, r->have - off);
		r->have -= off;
	}
	return acks;
}

static struct famrt_client *connect_to(const struct h_famrtd *d)
{
	struct famrt_client *c = NULL;
	struct famrt_err e;
	int rc = famrt_client_connect(&c, d->socket, &e);

	if (rc) {
		fprintf(stderr, "connect: %s\n", e.msg);
		h_famrtd_dump_log(d);
	}
	assert_int_equal(rc, 0);
	return c;
}

struct seen {
	struct env *v;
	int client;
	uint32_t count;
	bool bad;
};

static int seen_one(const struct famrt_proto_dirent *d, void *arg)
{
	struct seen *s = arg;
	unsigned n;
	char tail;

	s->count++;
	/* Only names some client tried. */
	if (sscanf(d->name, "f%u%c", &n, &tail) != 1 || n >= MAX_CREATES ||
	    !s->v->in[s->client][n].tried || !S_ISREG(d->mode)) {
		fprintf(stderr, "/c%d/%.*s: nobody created this\n", s->client,
			(int)d->name_len, d->name);
		s->bad = true;
	}
	return 0;
}

static void test_kill_under_load(void **state)
{
	struct env *v = *state;
	struct reader rd[NCLIENTS];
	pid_t pids[NCLIENTS];
	int stop[2];
	struct famrt_client *c;
	struct famrt_proto_attr a;
	struct famrt_err e;
	unsigned kills = 0, acks = 0, waited_load = 0;
	uint64_t t0 = now_ms();

	c = connect_to(&v->d);
	for (int i = 0; i < NCLIENTS; i++) {
		char p[16];

		snprintf(p, sizeof(p), "/c%d", i);
		assert_int_equal(famrt_client_mkdir(c, p, 0755, &a, &e), 0);
		v->dir_ino[i] = a.ino;
	}
	famrt_client_close(c);

	/* Close-on-exec: the famrtd instances must not hold these. */
	assert_int_equal(pipe2(stop, O_CLOEXEC), 0);
	for (int i = 0; i < NCLIENTS; i++) {
		int p[2];
		uint64_t cseed = rnd() | 1;

		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(p[0]);
			close(stop[1]);
			for (int j = 0; j < i; j++)
				close(rd[j].fd);
			client_main(i, v->d.socket, p[1], stop[0], cseed);
		}
		close(p[1]);
		rd[i] = (struct reader){ .fd = p[0] };
	}
	close(stop[0]);

	while (kills < KILLS) {
		uint64_t t = now_ms(), until;
		unsigned got = 0;

		/* Under load: creates are being acknowledged. */
		while (!got && now_ms() - t < 10000)
			got += drain(v, rd, 100);
		assert_true(got > 0);
		acks += got;
		waited_load += (unsigned)(now_ms() - t);
		/* Then at a random moment. */
		until = now_ms() + rnd_below(40);
		while (now_ms() < until)
			acks += drain(v, rd, (int)(until - now_ms()));
		h_famrtd_kill(&v->d);
		kills++;
		/* Down for a while sometimes: clients retry. */
		if (rnd_below(3) == 0)
			acks += drain(v, rd, (int)rnd_below(30));
		assert_int_equal(h_famrtd_start(&v->d, &v->fs, "master",
						"host-a", NULL),
				 0);
	}
	/*
	 * The clients are back after the last restart too (and their creates
	 * have rewritten both log tail slots since the last kill).
	 */
	{
		uint64_t t = now_ms();
		unsigned got = 0;

		while (got < 2 * NCLIENTS && now_ms() - t < 10000)
			got += drain(v, rd, 100);
		assert_true(got >= 2 * NCLIENTS);
		acks += got;
	}
	/* Stop the clients and collect the rest of their reports. */
	close(stop[1]);
	for (;;) {
		bool all = true;

		for (int i = 0; i < NCLIENTS; i++)
			all = all && rd[i].eof;
		if (all)
			break;
		acks += drain(v, rd, 1000);
		assert_true(now_ms() - t0 < 120000);
	}
	for (int i = 0; i < NCLIENTS; i++) {
		int st;

		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fprintf(stderr, "client %d: status 0x%x\n", i, st);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		close(rd[i].fd);
	}
	fprintf(stderr,
		"# %u kills in %llu ms (load seen after each restart within "
		"%u ms in all), %u creates acknowledged\n",
		kills, (unsigned long long)(now_ms() - t0), waited_load, acks);
	assert_int_equal(kills, KILLS);
}

/*
 * A second famrtd for the same socket, while the first runs: it must
 * refuse (exit 1) and leave the first serving. Returns its exit status.
 */
static int second_instance(const struct env *v)
{
	char bin[512];
	const char *dir = getenv("FAMRT_BIN_DIR");
	pid_t pid;
	int st;

	assert_non_null(dir);
	snprintf(bin, sizeof(bin), "%s/tools/famrtd/famrtd", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0)
			dup2(fd, 2);
		execl(bin, bin, "--fs", v->fs.spec, "--socket", v->d.socket,
		      "--host-id", "host-a", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Everything reported is there as it must be; nothing else is. */
static void test_verify_through_service(void **state)
{
	struct env *v = *state;
	struct famrt_client *c = connect_to(&v->d);
	const struct famrt_proto_devices_rep *t = famrt_client_devtable(c);
	uint64_t sizes[32], aligns[32];
	struct famrt_fmap_limits lim = { .size = sizeof(lim), .align = 4096 };
	uint8_t *raw = malloc(FAMRT_FMAP_MSG_MAX);
	unsigned acked = 0, doubt = 0, doubt_there = 0;
	struct famrt_err e;

	/* Only one service per socket, however often it was restarted. */
	assert_int_equal(second_instance(v), 1);
	assert_non_null(raw);
	assert_int_equal(t->ndevs, 2);
	for (uint32_t i = 0; i < t->ndevs; i++) {
		sizes[i] = t->dev[i].size;
		aligns[i] = t->dev[i].align;
	}
	lim.ndevices = t->ndevs;
	lim.dev_size = sizes;
	lim.dev_align = aligns;
	for (int i = 0; i < NCLIENTS; i++) {
		struct seen s = { .v = v, .client = i };
		uint64_t cookie = 0, next;
		uint32_t present = 0;

		for (uint32_t n = 0; n < v->ntried[i]; n++) {
			const struct intent *in = &v->in[i][n];
			struct famrt_proto_attr a;
			struct famrt_fmap *map = NULL, *map2 = NULL;
			struct famrt_fmap_error fe;
			char path[64];
			size_t rawlen = 0;
			int rc;

			assert_true(in->tried);
			snprintf(path, sizeof(path), "/c%d/f%u", i, n);
			rc = famrt_client_lookup(c, path, &a, &e);
			if (in->acked) {
				acked++;
				if (rc)
					fprintf(stderr,
						"%s acknowledged (inode %llu) "
						"but missing: %s\n",
						path,
						(unsigned long long)in->ino,
						e.msg);
				assert_int_equal(rc, 0);
				assert_int_equal(a.ino, in->ino);
			} else {
				doubt++;
				if (rc == -ENOENT)
					continue;
				assert_int_equal(rc, 0);
				doubt_there++;
			}
			present++;
			/* Whole: its size, its parent, a map that is valid. */
			assert_true(S_ISREG(a.mode));
			assert_int_equal(a.size, in->size);
			assert_int_equal(a.parent, v->dir_ino[i]);
			assert_true(a.alloc_bytes >= a.size);
			assert_int_equal(famrt_client_get_fmap(c, a.ino, &map, raw,
							       &rawlen, &e),
					 0);
			rc = famrt_fmap_decode(raw, rawlen, &lim, &map2, &fe);
			if (rc)
				fprintf(stderr, "%s: %s\n", path, fe.message);
			assert_int_equal(rc, 0);
			assert_int_equal(famrt_fmap_file_size(map2), in->size);
			assert_int_equal(famrt_fmap_ext_type(map2),
					 in->layout ? FAMRT_FMAP_EXT_INTERLEAVE :
						      FAMRT_FMAP_EXT_SIMPLE);
			famrt_fmap_free(map);
			famrt_fmap_free(map2);
		}
		/* Nothing else in the directory. */
		do {
			assert_int_equal(famrt_client_readdir(c, v->dir_ino[i],
							      cookie, 0,
							      seen_one, &s,
							      &next, &e),
					 0);
			cookie = next;
		} while (next != UINT64_MAX);
		assert_false(s.bad);
		assert_int_equal(s.count, present);
	}
	famrt_client_close(c);
	free(raw);
	fprintf(stderr,
		"# %u acknowledged creates all present; %u in flight at a "
		"kill: %u whole, %u absent\n",
		acked, doubt, doubt_there, doubt - doubt_there);
	assert_true(acked > 0);
	assert_int_equal(h_famrtd_stop(&v->d), 0);
}

static void add_used(const struct famrt_fmap *m, uint64_t *used)
{
	struct famrt_fmap_extent x;

	for (uint32_t i = 0; i < famrt_fmap_nextents(m); i++) {
		assert_int_equal(famrt_fmap_get_extent(m, i, &x), 0);
		for (uint32_t j = 0; j < x.nstrips; j++)
			*used += (x.strips[j].len + UNIT - 1) & ~(UNIT - 1);
	}
}

/* The devices as fsck sees them: replay without the service. */
static void test_fsck(void **state)
{
	struct env *v = *state;
	const char *paths[H_MAX_DEVS];
	struct famrt_fs_opts o = { .host_id = "host-a", .readonly = true };
	struct famrt_alloc_stats st;
	struct famrt_fs *fs;
	struct famrt_err e;
	uint64_t used = 0, files = 0;
	int rc;

	for (uint32_t i = 0; i < v->fs.ndevs; i++)
		paths[i] = v->fs.dev[i];
	rc = famrt_fs_open(&fs, paths, v->fs.ndevs, &o, &e);
	if (rc)
		fprintf(stderr, "fs open: %s\n", e.msg);
	assert_int_equal(rc, 0);
	if (fs->damage)
		fprintf(stderr, "damage 0x%x: %s\n", fs->damage,
			fs->first_problem.msg);
	assert_int_equal(fs->damage, 0);
	assert_int_equal(fs->nskipped, 0);
	/* One log entry per object (the root is neither logged nor counted). */
	assert_int_equal(fs->nentries,
			 famrt_ns_nfiles(fs->ns) + famrt_ns_ndirs(fs->ns));
	assert_int_equal(famrt_ns_ndirs(fs->ns), NCLIENTS);
	for (int i = 0; i < NCLIENTS; i++) {
		for (uint32_t n = 0; n < v->ntried[i]; n++) {
			char path[64];
			const struct famrt_node *nd;

			snprintf(path, sizeof(path), "/c%d/f%u", i, n);
			nd = famrt_fs_lookup(fs, path, &rc, &e);
			if (!nd) {
				assert_false(v->in[i][n].acked);
				continue;
			}
			assert_non_null(nd->fmap);
			assert_int_equal(nd->size, v->in[i][n].size);
			add_used(nd->fmap, &used);
			files++;
		}
	}
	assert_int_equal(famrt_ns_nfiles(fs->ns), files);
	famrt_alloc_get_stats(fs->alloc, &st);
	fprintf(stderr,
		"# fsck: %llu entries, %llu files, %llu MiB in use, %llu MiB "
		"free of %llu MiB\n",
		(unsigned long long)fs->nentries, (unsigned long long)files,
		(unsigned long long)(used >> 20),
		(unsigned long long)(st.free >> 20),
		(unsigned long long)(st.size >> 20));
	assert_int_equal(st.free, st.size - used);
	famrt_fs_close(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_under_load),
		cmocka_unit_test(test_verify_through_service),
		cmocka_unit_test(test_fsck),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the metadata log replayer (famrt_fs_open, famrt_fs_follow,
 * famrt_fs_log_next, lookups) and the on-media decoders under it.
 *
 * One small file system (fuzz_log_input.h: two emulated devices, 4 KiB
 * allocation unit, 256 KiB log) is made once per process on two memfds;
 * every input rewrites its log (and, in one mode, its superblocks) through
 * the harness's own mapping and opens it again, read-only. The input
 * format is in fuzz_log_input.h.
 *
 * Checks, besides "no crash, no leak, no sanitizer report":
 *  - framing: the harness knows which entries it sealed correctly, which
 *    flags and types they have and what the tail slots say, so it knows
 *    how many entries replay must take and whether it must stop with
 *    -EUCLEAN (a committed entry damaged) or -EPROTONOSUPPORT (an entry
 *    this version must not skip): open and follow must agree exactly;
 *  - incremental replay equals full replay: entries appended after the
 *    open and picked up by famrt_fs_follow give the same namespace, the
 *    same allocator state and the same counts as a fresh open;
 *  - the state is consistent: every node is found again by inode, by
 *    (parent, name) and by its path, directory listings page correctly,
 *    every file's map encodes back to the logged message and lies inside
 *    its devices' data regions, no two files share an allocation unit, and
 *    the allocator's free space is exactly what the files leave;
 *  - with FUZZ_LOG_VERBOSE set, what replay made of each record input is
 *    printed (to see what a seed or a crash input does);
 *  - the decoders (superblock, label, tail, entry, payloads, paths, uuids)
 *    give back, when re-encoded, the very bytes they accepted.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <famrt/fmap.h>

#include "fuzz.h"
#include "fuzz_log_input.h"
#include "meta/fs.h"
#include "util/bytes.h"
#include "util/crc32c.h"

#define MAX_ENTRIES 8192 /* a 256 KiB log holds at most 8191 entries */

static struct {
	bool ready;
	int fd[2];
	char path[2][64];
	const char *paths[2];
	uint8_t *base[2];
	size_t size[2];
	uint8_t pristine_sb[2 * FAMRT_SB_SIZE];
	uint8_t pristine_label[FAMRT_LABEL_SIZE];
	struct famrt_sb sb;
	uint8_t *log;
	size_t dirty; /* log bytes an input may have written */
} g;

/*
 * A reader that finds a tail slot it cannot decode looks again a number of
 * times, sleeping 20 us in between, in case the master is storing it right
 * then (fs.c, read_tail). Nobody writes here while replay runs, so those
 * sleeps are wall time and no work: they made this target wait more than
 * it ran. Short sleeps return at once; longer ones (libFuzzer's own) sleep.
 */
int nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (req && req->tv_sec == 0 && req->tv_nsec < 1000000)
		return 0;
	return (int)syscall(SYS_nanosleep, req, rem);
}

static const struct famrt_fs_opts ro = { .host_id = "fuzz-follower",
					 .readonly = true };

static void setup(void)
{
	static const size_t sizes[2] = { FUZZ_LOG_DEV0_SIZE,
					 FUZZ_LOG_DEV1_SIZE };
	struct famrt_mkfs_opts mo = {
		.name = "fuzz", .alloc_unit = FUZZ_LOG_UNIT,
		.log_size = FUZZ_LOG_LOG_SIZE, .master = FUZZ_LOG_MASTER,
	};
	struct famrt_err e;

	for (int i = 0; i < 2; i++) {
		g.fd[i] = memfd_create(i ? "fuzz-log-dev1" : "fuzz-log-dev0",
				       MFD_CLOEXEC);
		FUZZ_CHECK(g.fd[i] >= 0);
		FUZZ_CHECK(ftruncate(g.fd[i], (off_t)sizes[i]) == 0);
		snprintf(g.path[i], sizeof(g.path[i]), "/proc/self/fd/%d",
			 g.fd[i]);
		g.paths[i] = g.path[i];
		g.size[i] = sizes[i];
	}
	if (famrt_mkfs(g.paths, 2, &mo, NULL, &e)) {
		fprintf(stderr, "fuzz_log: mkfs: %s\n", e.msg);
		abort();
	}
	for (int i = 0; i < 2; i++) {
		g.base[i] = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE,
				 MAP_SHARED, g.fd[i], 0);
		FUZZ_CHECK(g.base[i] != MAP_FAILED);
	}
	memcpy(g.pristine_sb, g.base[0], sizeof(g.pristine_sb));
	memcpy(g.pristine_label, g.base[1], sizeof(g.pristine_label));
	FUZZ_CHECK(famrt_sb_decode(g.base[0], &g.sb, NULL) == 0);
	FUZZ_CHECK(g.sb.log_size == FUZZ_LOG_LOG_SIZE);
	g.log = g.base[0] + g.sb.log_offset;
	g.ready = true;
}

static void mark_dirty(size_t end)
{
	if (end > g.dirty)
		g.dirty = end;
}

/* Back to the empty file system mkfs made. */
static void reset(void)
{
	memset(g.log, 0, g.dirty);
	g.dirty = 0;
	memcpy(g.base[0], g.pristine_sb, sizeof(g.pristine_sb));
	memcpy(g.base[1], g.pristine_label, sizeof(g.pristine_label));
}

/* ---- reading the input ---- */

struct rd {
	const uint8_t *p;
	size_t n;
};

static uint8_t get8(struct rd *r)
{
	uint8_t v = 0;

	if (r->n) {
		v = r->p[0];
		r->p++;
		r->n--;
	}
	return v;
}

static uint16_t get16(struct rd *r)
{
	uint16_t lo = get8(r);

	return (uint16_t)(lo | get8(r) << 8);
}

static const uint8_t *take(struct rd *r, size_t *n)
{
	const uint8_t *p = r->p;

	if (*n > r->n)
		*n = r->n;
	r->p += *n;
	r->n -= *n;
	return p;
}

/* ---- building payloads from compact descriptions ---- */

static uint8_t payload[FAMRT_ENTRY_MAX_PAYLOAD];
static uint8_t fmsg[FAMRT_FMAP_MSG_MAX];
static struct famrt_fmap_desc desc;

static uint64_t data_start(uint32_t dev)
{
	return dev < g.sb.ndevs ? g.sb.devs[dev].data_start : FUZZ_LOG_UNIT;
}

static void build_place(struct rd *r, struct famrt_fmap_strip *s)
{
	s->devindex = get8(r) % 4;
	s->offset = data_start(s->devindex) +
		    (uint64_t)get16(r) * FUZZ_LOG_UNIT;
	s->len = ((uint64_t)get8(r) + 1) * FUZZ_LOG_UNIT;
}

/* The payload a record describes; -1 when it cannot be built. */
static ssize_t build(uint8_t type, struct rd *r)
{
	size_t n;

	switch (type) {
	case FAMRT_ENTRY_MKDIR: {
		struct famrt_ent_mkdir m = { .mode = 0755 };

		n = r->n > FAMRT_PATH_MAX + 16 ? FAMRT_PATH_MAX + 16 : r->n;
		m.path = (const char *)take(r, &n);
		m.path_len = (uint16_t)n;
		return famrt_ent_mkdir_encode(&m, payload, sizeof(payload));
	}
	case FAMRT_ENTRY_CREATE: {
		struct famrt_ent_create c = { .mode = 0644 };
		uint8_t ne;
		ssize_t mlen;

		n = get8(r);
		c.path = (const char *)take(r, &n);
		c.path_len = (uint16_t)n;
		memset(&desc, 0, sizeof(desc));
		desc.file_size = (uint64_t)get16(r) * 512;
		ne = get8(r);
		desc.file_type = (ne >> 5) & 3;
		desc.ext_type = ne & 0x80 ? FAMRT_FMAP_EXT_INTERLEAVE :
					    FAMRT_FMAP_EXT_SIMPLE;
		desc.nextents = (ne & 31u) + 1;
		for (uint32_t i = 0; i < desc.nextents; i++) {
			struct famrt_fmap_extent *x = &desc.extents[i];

			if (desc.ext_type == FAMRT_FMAP_EXT_SIMPLE) {
				x->nstrips = 1;
				build_place(r, &x->strips[0]);
				x->nbytes = x->strips[0].len;
				continue;
			}
			x->nstrips = (get8(r) & 31u) + 1;
			x->chunk_size = ((uint32_t)get8(r) + 1) * FUZZ_LOG_UNIT;
			x->nbytes = (uint64_t)get16(r) * FUZZ_LOG_UNIT;
			for (uint32_t j = 0; j < x->nstrips; j++)
				build_place(r, &x->strips[j]);
		}
		mlen = famrt_fmap_desc_encode(&desc, fmsg, sizeof(fmsg));
		if (mlen < 0)
			return -1;
		c.fmap = fmsg;
		c.fmap_len = (uint32_t)mlen;
		return famrt_ent_create_encode(&c, payload, sizeof(payload));
	}
	case FAMRT_ENTRY_ADD_DEVICE: {
		struct famrt_ent_add_device a;

		memset(&a, 0, sizeof(a));
		a.devindex = get8(r);
		a.dev.size = (uint64_t)get16(r) * FUZZ_LOG_UNIT;
		a.dev.align = 1ull << (get8(r) & 63);
		a.dev.data_start = (uint64_t)get16(r) * FUZZ_LOG_UNIT;
		a.dev.uuid[0] = (uint8_t)a.devindex;
		return famrt_ent_add_device_encode(&a, payload,
						   sizeof(payload));
	}
	default:
		return -1;
	}
}

/* ---- writing the log as a writer would, with the faults asked for ---- */

struct info {
	bool broken;  /* never valid: torn, bad CRC or wrong seq */
	bool stopper; /* valid, but replay must refuse it */
};

struct logw {
	uint64_t pos;      /* log offset of the next entry */
	uint64_t n;        /* entries written */
	uint64_t slot_seq[2];
	bool slot_ok[2];
	bool full;
	struct info e[MAX_ENTRIES];
};

static void put_tail(struct logw *w, uint64_t seq, uint64_t claim,
		     bool damage)
{
	struct famrt_tail t = { .seq = claim, .end = w->pos };
	uint8_t *slot = g.log + (seq & 1) * FAMRT_TAIL_SLOT_SIZE;

	famrt_tail_encode(&t, g.sb.uuid, slot);
	if (damage)
		slot[FAMRT_TAIL_SLOT_SIZE - 1] ^= 0x40;
	w->slot_seq[seq & 1] = claim;
	w->slot_ok[seq & 1] = !damage;
	mark_dirty(FAMRT_LOG_ENTRIES_START);
}

static void put_entry(struct logw *w, uint8_t ctl, uint16_t type,
		      const uint8_t *p, size_t len)
{
	uint64_t seq = w->n + 1, commit;
	size_t size = famrt_entry_size(len);
	uint8_t *ent = g.log + w->pos;
	uint16_t flags = 0;

	if (w->full || w->n == MAX_ENTRIES - 1 ||
	    w->pos + size + 8 > FUZZ_LOG_LOG_SIZE) {
		w->full = true;
		return;
	}
	if (ctl & FUZZ_LOG_CTL_SKIPPABLE)
		flags |= FAMRT_ENTRY_SKIPPABLE;
	if (ctl & FUZZ_LOG_CTL_BAD_FLAGS)
		flags |= 0x8000;
	memset(ent, 0, size + 8);
	memcpy(ent + FAMRT_ENTRY_HDR_SIZE, p, len);
	commit = famrt_entry_seal(ent,
				  seq + !!(ctl & FUZZ_LOG_CTL_BAD_SEQ), type,
				  flags, (uint32_t)len, seq * 1000,
				  g.sb.uuid);
	if (ctl & FUZZ_LOG_CTL_BAD_CRC)
		commit ^= 1ull << 32;
	if (!(ctl & FUZZ_LOG_CTL_TORN))
		famrt_le64_put(ent, commit);
	mark_dirty(w->pos + size + 8);
	w->e[w->n].broken = ctl & (FUZZ_LOG_CTL_TORN | FUZZ_LOG_CTL_BAD_CRC |
				   FUZZ_LOG_CTL_BAD_SEQ);
	/* The types this build knows are the ones it has a name for. */
	w->e[w->n].stopper =
		(flags & 0x8000) ||
		(!strcmp(famrt_entry_type_name(type), "unknown") &&
		 !(flags & FAMRT_ENTRY_SKIPPABLE));
	w->pos += size;
	w->n++;
	if (ctl & FUZZ_LOG_CTL_TAIL)
		put_tail(w, seq, seq + !!(ctl & FUZZ_LOG_CTL_TAIL_X), false);
	else if (ctl & FUZZ_LOG_CTL_TAIL_X)
		put_tail(w, seq, seq, true);
}

/* Write records until the input ends or `count` were written. */
static void put_records(struct logw *w, struct rd *r, size_t count)
{
	while (count-- && r->n >= 4 && !w->full) {
		uint8_t ctl = get8(r), type = get8(r);
		size_t len = get16(r);
		const uint8_t *p = take(r, &len);

		if (ctl & FUZZ_LOG_CTL_BUILD) {
			struct rd sub = { p, len };
			ssize_t n = build(type, &sub);

			if (n >= 0) {
				put_entry(w, ctl, type, payload, (size_t)n);
				continue;
			}
		}
		put_entry(w, ctl, type, p, len);
	}
}

/* What replay must do with what w wrote: entries taken and result. */
static void expect(const struct logw *w, uint64_t *nent, int *rc)
{
	uint64_t tail = 0;

	for (int i = 0; i < 2; i++)
		if (w->slot_ok[i] && w->slot_seq[i] > tail)
			tail = w->slot_seq[i];
	for (uint64_t k = 0; k < w->n; k++) {
		*nent = k;
		if (w->e[k].broken) {
			*rc = tail >= k + 1 ? -EUCLEAN : 0;
			return;
		}
		if (w->e[k].stopper) {
			*rc = -EPROTONOSUPPORT;
			return;
		}
	}
	*nent = w->n;
	/* No room for another header: replay stops without asking. */
	if (w->pos + FAMRT_ENTRY_HDR_SIZE > FUZZ_LOG_LOG_SIZE)
		*rc = 0;
	else
		*rc = tail >= w->n + 1 ? -EUCLEAN : 0;
}

/* ---- checking a replayed state ---- */

struct place {
	uint32_t dev;
	uint64_t off, end;
};

struct audit {
	uint64_t hash;
	uint64_t files, dirs;
	struct place *pl;
	size_t npl, cap;
};

static void mix(struct audit *a, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		a->hash ^= b[i];
		a->hash *= 0x100000001b3ull;
	}
}

static void add_place(struct audit *a, const struct famrt_fs *fs,
		      const struct famrt_fmap_strip *s)
{
	uint64_t unit = fs->sb.alloc_unit, len, end;

	FUZZ_CHECK(s->devindex < fs->ndevs);
	len = (s->len + unit - 1) & ~(unit - 1);
	FUZZ_CHECK(len >= s->len);
	FUZZ_CHECK(!__builtin_add_overflow(s->offset, len, &end));
	FUZZ_CHECK(s->offset % unit == 0);
	FUZZ_CHECK(s->offset >= fs->devs[s->devindex].data_start);
	FUZZ_CHECK(end <= (fs->devs[s->devindex].size & ~(unit - 1)));
	if (a->npl == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->pl = realloc(a->pl, a->cap * sizeof(*a->pl));
		FUZZ_CHECK(a->pl);
	}
	a->pl[a->npl++] = (struct place){ s->devindex, s->offset, end };
}

static int cmp_place(const void *x, const void *y)
{
	const struct place *a = x, *b = y;

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	return (a->off > b->off) - (a->off < b->off);
}

struct pager {
	const struct famrt_node *const *kids;
	uint32_t i;
};

static int page_fn(const struct famrt_node *n, void *arg)
{
	struct pager *p = arg;

	FUZZ_CHECK(p->kids[p->i] == n);
	p->i++;
	return 0;
}

static void check_node(struct famrt_fs *fs, const struct famrt_node *n,
		       struct audit *a)
{
	static char path[FAMRT_PATH_MAX + 2];
	static uint8_t enc[FAMRT_FMAP_MSG_MAX];
	const struct famrt_ns *ns = fs->ns;
	ssize_t plen;
	int rc;

	FUZZ_CHECK(famrt_ns_by_ino(ns, n->ino) == n);
	if (n->ino != FAMRT_ROOT_INO) {
		FUZZ_CHECK(n->ino == FAMRT_ROOT_INO + n->seq);
		FUZZ_CHECK(famrt_ns_child(ns, n->parent, n->name,
					  n->name_len) == n);
		FUZZ_CHECK(n->name_len >= 1 &&
			   n->name_len <= FAMRT_NAME_COMPONENT_MAX);
	}
	plen = famrt_ns_path(ns, n, path, sizeof(path));
	FUZZ_CHECK(plen > 0 && (size_t)plen <= FAMRT_PATH_MAX);
	FUZZ_CHECK(famrt_path_check(path, (size_t)plen, NULL) == 0);
	FUZZ_CHECK(famrt_fs_lookup(fs, path, &rc, NULL) == n);
	mix(a, path, (size_t)plen + 1);
	mix(a, &n->ino, sizeof(n->ino));
	mix(a, &n->mode, sizeof(n->mode));
	mix(a, &n->uid, sizeof(n->uid));
	mix(a, &n->gid, sizeof(n->gid));
	mix(a, &n->size, sizeof(n->size));
	mix(a, &n->mtime_ns, sizeof(n->mtime_ns));
	mix(a, &n->nlink, sizeof(n->nlink));
	if ((n->mode & S_IFMT) == S_IFREG) {
		uint32_t ne, et;

		a->files++;
		FUZZ_CHECK(n->fmap && n->nkids == 0);
		FUZZ_CHECK(n->size == famrt_fmap_file_size(n->fmap));
		FUZZ_CHECK(famrt_fmap_file_type(n->fmap) ==
			   FAMRT_FMAP_FILE_REG);
		FUZZ_CHECK(famrt_fmap_encode(n->fmap, enc, sizeof(enc)) ==
			   (ssize_t)n->fmap_len);
		FUZZ_CHECK(!memcmp(enc, n->fmap_msg, n->fmap_len));
		mix(a, n->fmap_msg, n->fmap_len);
		ne = famrt_fmap_nextents(n->fmap);
		et = famrt_fmap_ext_type(n->fmap);
		for (uint32_t i = 0; i < ne; i++) {
			struct famrt_fmap_extent x;

			FUZZ_CHECK(famrt_fmap_get_extent(n->fmap, i, &x) == 0);
			for (uint32_t j = 0;
			     j < (et == FAMRT_FMAP_EXT_INTERLEAVE ? x.nstrips :
								   1);
			     j++)
				add_place(a, fs, &x.strips[j]);
		}
		return;
	}
	FUZZ_CHECK((n->mode & S_IFMT) == S_IFDIR && !n->fmap);
	if (n->ino != FAMRT_ROOT_INO)
		a->dirs++;
	/* Listing in pages of 3 gives the children in order. */
	{
		struct pager pg = { (const struct famrt_node *const *)n->kids,
				    0 };
		uint64_t cookie = 0;

		while (cookie != UINT64_MAX)
			cookie = famrt_ns_readdir(ns, n, cookie, 3, page_fn,
						  &pg);
		FUZZ_CHECK(pg.i == n->nkids);
	}
	for (uint32_t i = 0; i < n->nkids; i++) {
		FUZZ_CHECK(n->kids[i]->parent == n->ino);
		if (i)
			FUZZ_CHECK(n->kids[i - 1]->seq < n->kids[i]->seq);
	}
}

/* Walk the whole namespace; check it and the allocator; hash the state. */
static uint64_t audit(struct famrt_fs *fs)
{
	struct audit a = { .hash = 0xcbf29ce484222325ull };
	const struct famrt_node **stack;
	size_t sp = 0, cap = 64;
	uint64_t used[FAMRT_MAX_DEVS] = { 0 };
	struct famrt_alloc_stats st;

	stack = malloc(cap * sizeof(*stack));
	FUZZ_CHECK(stack);
	stack[sp++] = famrt_ns_root(fs->ns);
	while (sp) {
		const struct famrt_node *n = stack[--sp];

		check_node(fs, n, &a);
		for (uint32_t i = n->nkids; i-- > 0;) {
			if (sp == cap) {
				cap *= 2;
				stack = realloc(stack, cap * sizeof(*stack));
				FUZZ_CHECK(stack);
			}
			stack[sp++] = n->kids[i];
		}
	}
	free(stack);
	FUZZ_CHECK(a.files == famrt_ns_nfiles(fs->ns));
	FUZZ_CHECK(a.dirs == famrt_ns_ndirs(fs->ns));

	/* No two files share a unit; free space is what they leave. */
	if (a.npl)
		qsort(a.pl, a.npl, sizeof(*a.pl), cmp_place);
	for (size_t i = 0; i < a.npl; i++) {
		if (i && a.pl[i].dev == a.pl[i - 1].dev &&
		    a.pl[i].off < a.pl[i - 1].end) {
			fprintf(stderr, "device %u: [0x%llx, 0x%llx) and "
					"[0x%llx, 0x%llx) overlap\n",
				a.pl[i].dev,
				(unsigned long long)a.pl[i - 1].off,
				(unsigned long long)a.pl[i - 1].end,
				(unsigned long long)a.pl[i].off,
				(unsigned long long)a.pl[i].end);
			FUZZ_CHECK(0 && "two files share space");
		}
		used[a.pl[i].dev] += a.pl[i].end - a.pl[i].off;
	}
	free(a.pl);
	famrt_alloc_get_stats(fs->alloc, &st);
	FUZZ_CHECK(st.ndevs == fs->ndevs);
	for (uint32_t d = 0; d < fs->ndevs; d++) {
		uint64_t unit = fs->sb.alloc_unit;
		uint64_t region = (fs->devs[d].size & ~(unit - 1)) -
				  fs->devs[d].data_start;

		FUZZ_CHECK(st.dev[d].size == region);
		FUZZ_CHECK(st.dev[d].free == region - used[d]);
		FUZZ_CHECK(st.dev[d].largest_free <= st.dev[d].free);
	}
	mix(&a, &st, sizeof(st));
	mix(&a, &fs->nentries, sizeof(fs->nentries));
	mix(&a, &fs->nskipped, sizeof(fs->nskipped));
	mix(&a, &fs->ndevs, sizeof(fs->ndevs));
	FUZZ_CHECK(fs->nskipped <= fs->nentries);
	FUZZ_CHECK(fs->next_seq == fs->nentries + 1);
	return a.hash;
}

/* The dump cursor walks the same entries replay took. */
static void check_dump(struct famrt_fs *fs)
{
	struct famrt_log_cursor c = { 0, 0 };
	struct famrt_entry_hdr h;
	const uint8_t *p;
	uint64_t n = 0;
	int rc;

	while ((rc = famrt_fs_log_next(fs, &c, &h, &p, NULL)) == 1) {
		FUZZ_CHECK(h.seq == n + 1);
		FUZZ_CHECK(p > fs->log &&
			   p + h.len <= fs->log + fs->sb.log_size);
		n++;
	}
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(n == fs->nentries);
}

static void try_lookups(struct famrt_fs *fs, const uint8_t *data, size_t size)
{
	char path[300];
	size_t n = size < sizeof(path) - 1 ? size : sizeof(path) - 1;
	const struct famrt_node *x;
	struct famrt_err e;
	int rc = 0;

	memcpy(path, data, n);
	path[n] = '\0';
	x = famrt_fs_lookup(fs, path, &rc, &e);
	if (x) {
		char back[FAMRT_PATH_MAX + 2];
		ssize_t len = famrt_ns_path(fs->ns, x, back, sizeof(back));

		FUZZ_CHECK(rc == 0 && len >= 0 && !strcmp(back, path));
	} else {
		FUZZ_CHECK(rc == -ENOENT || rc == -ENOTDIR || rc == -EINVAL ||
			   rc == -ENAMETOOLONG);
		FUZZ_CHECK(e.msg[0]);
	}
}

static int open_fs(struct famrt_fs **fs)
{
	struct famrt_err e;
	int rc = famrt_fs_open(fs, g.paths, 2, &ro, &e);

	if (rc)
		FUZZ_CHECK(*fs == NULL && e.msg[0]);
	return rc;
}

/* ---- the modes ---- */

static struct logw lw;

static void mode_records(struct rd *r)
{
	struct famrt_fs *inc = NULL, *full = NULL;
	uint64_t nent, applied = 0, h_inc = 0;
	size_t split = get8(r);
	const uint8_t *all = r->p;
	size_t all_n = r->n;
	struct famrt_err e;
	int want, rc, rc_inc;

	memset(&lw, 0, sizeof(lw));
	lw.pos = FAMRT_LOG_ENTRIES_START;
	put_records(&lw, r, split);
	expect(&lw, &nent, &want);
	rc_inc = open_fs(&inc);
	FUZZ_CHECK(rc_inc == want);
	if (!rc_inc) {
		FUZZ_CHECK(inc->nentries == nent);
		audit(inc);
		check_dump(inc);
	}

	put_records(&lw, r, SIZE_MAX);
	expect(&lw, &nent, &want);
	if (inc) {
		uint64_t before = inc->nentries;

		famrt_err_clear(&e);
		rc_inc = famrt_fs_follow(inc, &applied, &e);
		if (getenv("FUZZ_LOG_VERBOSE"))
			fprintf(stderr,
				"fuzz_log: follow after the open: %d (want "
				"%d), %llu entries (want %llu): %s\n",
				rc_inc, want,
				(unsigned long long)inc->nentries,
				(unsigned long long)nent, e.msg);
		FUZZ_CHECK(rc_inc == want);
		FUZZ_CHECK(inc->nentries == nent);
		FUZZ_CHECK(applied == nent - before);
		if (rc_inc)
			FUZZ_CHECK(e.msg[0]);
		h_inc = audit(inc);
		if (!rc_inc)
			check_dump(inc);
	}
	rc = open_fs(&full);
	if (getenv("FUZZ_LOG_VERBOSE"))
		fprintf(stderr,
			"fuzz_log: %llu records, want %d and %llu entries; "
			"open %d, %llu entries, %llu skipped, %llu files, "
			"%llu dirs, damage 0x%x (%s)\n",
			(unsigned long long)lw.n, want,
			(unsigned long long)nent, rc,
			(unsigned long long)(full ? full->nentries : 0),
			(unsigned long long)(full ? full->nskipped : 0),
			(unsigned long long)(full ? famrt_ns_nfiles(full->ns) :
						    0),
			(unsigned long long)(full ? famrt_ns_ndirs(full->ns) :
						    0),
			full ? full->damage : 0,
			full ? full->first_problem.msg : "");
	FUZZ_CHECK(rc == want);
	if (!rc) {
		FUZZ_CHECK(full->nentries == nent);
		if (inc && !rc_inc)
			FUZZ_CHECK(audit(full) == h_inc);
		else
			audit(full);
		check_dump(full);
		/* Nothing new: following again changes nothing. */
		FUZZ_CHECK(famrt_fs_follow(full, &applied, NULL) == 0 &&
			   applied == 0);
		try_lookups(full, all, all_n);
		for (size_t i = 0; i + 1 < all_n && i < 64; i += 8)
			try_lookups(full, all + i, all_n - i);
	}
	famrt_fs_close(inc);
	famrt_fs_close(full);
}

/*
 * Fix the CRC of both tail slots (when they have the magic) and of every
 * entry that can be framed, walking as replay would. (A slot replay finds
 * damaged costs a reader about a millisecond of looking again: it may be
 * being written. Most inputs should not pay that.)
 */
static void fix_crcs(void)
{
	uint64_t pos = FAMRT_LOG_ENTRIES_START;

	for (int i = 0; i < 2; i++) {
		uint8_t *t = g.log + i * FAMRT_TAIL_SLOT_SIZE;

		if (!memcmp(t, "FAMRTLT1", 8))
			famrt_le32_put(t + 60,
				       famrt_crc32c_update(
					       famrt_crc32c_update(
						       0, g.sb.uuid, 16),
					       t, 60));
	}

	while (pos + FAMRT_ENTRY_HDR_SIZE <= FUZZ_LOG_LOG_SIZE) {
		uint8_t *p = g.log + pos;
		uint32_t len = famrt_le32_get(p + 20);
		size_t size;

		if (famrt_le32_get(p) != FAMRT_ENTRY_MAGIC ||
		    len > FAMRT_ENTRY_MAX_PAYLOAD)
			break;
		size = famrt_entry_size(len);
		if (size > FUZZ_LOG_LOG_SIZE - pos)
			break;
		famrt_le32_put(p + 4, famrt_entry_crc(p, size, g.sb.uuid));
		pos += size;
	}
}

static void mode_raw(struct rd *r)
{
	struct famrt_fs *a = NULL, *b = NULL;
	size_t n = r->n > FUZZ_LOG_LOG_SIZE ? FUZZ_LOG_LOG_SIZE : r->n;
	int ra, rb;

	memcpy(g.log, r->p, n);
	mark_dirty(n);
	fix_crcs();
	ra = open_fs(&a);
	rb = open_fs(&b);
	/* Replay is a function of the bytes. */
	FUZZ_CHECK(ra == rb);
	if (!ra) {
		FUZZ_CHECK(a->nentries == b->nentries);
		FUZZ_CHECK(audit(a) == audit(b));
	}
	famrt_fs_close(a);
	famrt_fs_close(b);
}

static void mode_super(struct rd *r)
{
	uint8_t flags = get8(r), npatch = get8(r);
	uint8_t *region = flags & FUZZ_LOG_SB_LABEL ? g.base[1] : g.base[0];
	size_t rlen = flags & FUZZ_LOG_SB_LABEL ? FAMRT_LABEL_SIZE :
						  2 * FAMRT_SB_SIZE;
	struct famrt_fs *fs = NULL;

	for (unsigned i = 0; i < npatch && r->n >= 3; i++) {
		uint16_t off = get16(r);

		region[off % rlen] = get8(r);
	}
	if (flags & FUZZ_LOG_SB_LABEL) {
		famrt_le32_put(region + FAMRT_LABEL_SIZE - 4,
			       famrt_crc32c_update(0, region,
						   FAMRT_LABEL_SIZE - 4));
	} else {
		for (int i = 0; i < 2; i++) {
			uint8_t *sb = region + i * FAMRT_SB_SIZE;

			if (flags & (i ? FUZZ_LOG_SB_FIX_BACKUP :
					 FUZZ_LOG_SB_FIX_PRIMARY))
				famrt_le32_put(sb + FAMRT_SB_SIZE - 4,
					       famrt_crc32c_update(
						       0, sb,
						       FAMRT_SB_SIZE - 4));
		}
	}
	memset(&lw, 0, sizeof(lw));
	lw.pos = FAMRT_LOG_ENTRIES_START;
	put_records(&lw, r, SIZE_MAX);
	if (!open_fs(&fs)) {
		audit(fs);
		famrt_fs_close(fs);
	}
}

/* ---- the decoders on raw bytes ---- */

/* A heap copy of exactly n bytes (zero-filled past the input). */
static uint8_t *exact(const uint8_t *p, size_t have, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	FUZZ_CHECK(b);
	memset(b, 0, n);
	memcpy(b, p, have < n ? have : n);
	return b;
}

/* The rules of a path, straight from docs/format.md. */
static int ref_path(const char *p, size_t n)
{
	size_t i = 1;

	if (n == 0 || p[0] != '/')
		return -EINVAL;
	if (n > FAMRT_PATH_MAX)
		return -ENAMETOOLONG;
	if (n == 1)
		return 0;
	while (i <= n) {
		size_t s = i;
		bool bad = false;

		while (i < n && p[i] != '/') {
			bad |= p[i] == '\0';
			i++;
		}
		if (bad || i == s)
			return -EINVAL;
		if (i - s > FAMRT_NAME_COMPONENT_MAX)
			return -ENAMETOOLONG;
		if ((i - s == 1 && p[s] == '.') ||
		    (i - s == 2 && p[s] == '.' && p[s + 1] == '.'))
			return -EINVAL;
		i++;
	}
	return 0;
}

static void dec_sb(const uint8_t *in, size_t n, bool fix)
{
	uint8_t *b = exact(in, n, FAMRT_SB_SIZE), enc[FAMRT_SB_SIZE];
	struct famrt_sb sb;
	struct famrt_err e;

	if (fix)
		famrt_le32_put(b + FAMRT_SB_SIZE - 4,
			       famrt_crc32c_update(0, b, FAMRT_SB_SIZE - 4));
	if (famrt_sb_decode(b, &sb, &e) == 0) {
		FUZZ_CHECK(sb.ndevs >= 1 && sb.ndevs <= FAMRT_MAX_DEVS);
		FUZZ_CHECK(sb.alloc_unit >= 4096 &&
			   !(sb.alloc_unit & (sb.alloc_unit - 1)));
		FUZZ_CHECK(sb.log_offset + sb.log_size <=
			   sb.devs[0].data_start);
		famrt_sb_encode(&sb, enc);
		FUZZ_CHECK(!memcmp(enc, b, FAMRT_SB_SIZE));
	} else {
		FUZZ_CHECK(e.msg[0]);
	}
	free(b);
}

static void dec_label(const uint8_t *in, size_t n, bool fix)
{
	uint8_t *b = exact(in, n, FAMRT_LABEL_SIZE), enc[FAMRT_LABEL_SIZE];
	struct famrt_label l;

	if (fix)
		famrt_le32_put(b + FAMRT_LABEL_SIZE - 4,
			       famrt_crc32c_update(0, b,
						   FAMRT_LABEL_SIZE - 4));
	if (famrt_label_decode(b, &l, NULL) == 0) {
		famrt_label_encode(&l, enc);
		FUZZ_CHECK(!memcmp(enc, b, FAMRT_LABEL_SIZE));
	}
	free(b);
}

static void dec_tail(const uint8_t *in, size_t n, bool fix)
{
	uint8_t *b = exact(in, n, FAMRT_TAIL_SLOT_SIZE);
	uint8_t enc[FAMRT_TAIL_SLOT_SIZE];
	struct famrt_tail t;
	int rc;

	if (fix)
		famrt_le32_put(b + 60,
			       famrt_crc32c_update(
				       famrt_crc32c_update(0, g.sb.uuid, 16),
				       b, 60));
	rc = famrt_tail_decode(b, g.sb.uuid, &t);
	FUZZ_CHECK(rc == 0 || rc == -ENODATA || rc == -EUCLEAN);
	if (rc == 0) {
		famrt_tail_encode(&t, g.sb.uuid, enc);
		FUZZ_CHECK(!memcmp(enc, b, FAMRT_TAIL_SLOT_SIZE));
	} else {
		FUZZ_CHECK(t.seq == 0 && t.end == 0);
	}
	free(b);
}

static void dec_entry(const uint8_t *in, size_t n, bool fix)
{
	uint8_t *b = exact(in, n, n);
	struct famrt_entry_hdr h;
	struct famrt_err e;
	uint64_t seq = n >= 16 ? famrt_le64_get(b + 8) : 1;
	int rc;

	if (fix && n >= FAMRT_ENTRY_HDR_SIZE) {
		uint32_t len = famrt_le32_get(b + 20);

		if (len <= FAMRT_ENTRY_MAX_PAYLOAD &&
		    famrt_entry_size(len) <= n)
			famrt_le32_put(b + 4,
				       famrt_entry_crc(b, famrt_entry_size(len),
						       g.sb.uuid));
	}
	rc = famrt_entry_check(b, n, seq, g.sb.uuid, &h, &e);
	if (rc == 0) {
		size_t size = famrt_entry_size(h.len);
		uint8_t *c = exact(b, n, size);
		uint64_t commit;

		FUZZ_CHECK(size <= n && h.seq == seq);
		FUZZ_CHECK(h.len <= FAMRT_ENTRY_MAX_PAYLOAD);
		commit = famrt_entry_seal(c, h.seq, h.type, h.flags, h.len,
					  h.time_ns, g.sb.uuid);
		FUZZ_CHECK(commit == famrt_le64_get(b));
		FUZZ_CHECK(!memcmp(c + 8, b + 8, size - 8));
		FUZZ_CHECK(famrt_entry_check(b, size, seq, g.sb.uuid, &h,
					     NULL) == 0);
		free(c);
	} else {
		FUZZ_CHECK(rc == -ENODATA && e.msg[0]);
	}
	free(b);
}

static void dec_payload(int which, const uint8_t *in, size_t n)
{
	uint8_t *b = exact(in, n, n);
	struct famrt_err e;
	ssize_t len = -1;
	int rc;

	if (which == FUZZ_LOG_DEC_MKDIR) {
		struct famrt_ent_mkdir m;

		rc = famrt_ent_mkdir_decode(b, n, &m, &e);
		if (!rc) {
			FUZZ_CHECK((const uint8_t *)m.path == b + 16);
			FUZZ_CHECK(ref_path(m.path, m.path_len) == 0);
			len = famrt_ent_mkdir_encode(&m, payload,
						     sizeof(payload));
		}
	} else if (which == FUZZ_LOG_DEC_CREATE) {
		struct famrt_ent_create c;

		rc = famrt_ent_create_decode(b, n, &c, &e);
		if (!rc) {
			FUZZ_CHECK((const uint8_t *)c.path == b + 24);
			FUZZ_CHECK(ref_path(c.path, c.path_len) == 0);
			FUZZ_CHECK(c.fmap >= b && c.fmap + c.fmap_len == b + n);
			FUZZ_CHECK(c.fmap >= (const uint8_t *)c.path +
						     c.path_len);
			len = famrt_ent_create_encode(&c, payload,
						      sizeof(payload));
		}
	} else {
		struct famrt_ent_add_device a;

		rc = famrt_ent_add_device_decode(b, n, &a, &e);
		if (!rc)
			len = famrt_ent_add_device_encode(&a, payload,
							  sizeof(payload));
	}
	if (rc) {
		FUZZ_CHECK(rc == -EINVAL || rc == -ENAMETOOLONG);
		FUZZ_CHECK(e.msg[0]);
	} else {
		FUZZ_CHECK(len == (ssize_t)n && !memcmp(payload, b, n));
	}
	free(b);
}

static void dec_path(const uint8_t *in, size_t n)
{
	uint8_t *b = exact(in, n, n);
	struct famrt_err e;
	int rc = famrt_path_check((const char *)b, n, &e);

	FUZZ_CHECK(rc == ref_path((const char *)b, n));
	if (rc)
		FUZZ_CHECK(e.msg[0]);
	free(b);
}

static void dec_uuid(const uint8_t *in, size_t n)
{
	char s[64], back[37];
	uint8_t u[16];

	n = n < sizeof(s) - 1 ? n : sizeof(s) - 1;
	memcpy(s, in, n);
	s[n] = '\0';
	if (famrt_uuid_parse(s, u))
		return;
	famrt_uuid_format(u, back);
	FUZZ_CHECK(strlen(s) == 36 && !strcasecmp(back, s));
}

static void mode_decoders(struct rd *r)
{
	uint8_t sel = get8(r);
	bool fix = sel & FUZZ_LOG_DEC_FIX_CRC;

	switch ((sel & 0x7f) % FUZZ_LOG_DEC_COUNT_) {
	case FUZZ_LOG_DEC_SB:
		dec_sb(r->p, r->n, fix);
		break;
	case FUZZ_LOG_DEC_LABEL:
		dec_label(r->p, r->n, fix);
		break;
	case FUZZ_LOG_DEC_TAIL:
		dec_tail(r->p, r->n, fix);
		break;
	case FUZZ_LOG_DEC_ENTRY:
		dec_entry(r->p, r->n, fix);
		break;
	case FUZZ_LOG_DEC_MKDIR:
		dec_payload(FUZZ_LOG_DEC_MKDIR, r->p, r->n);
		break;
	case FUZZ_LOG_DEC_CREATE:
		dec_payload(FUZZ_LOG_DEC_CREATE, r->p, r->n);
		break;
	case FUZZ_LOG_DEC_ADD_DEVICE:
		dec_payload(FUZZ_LOG_DEC_ADD_DEVICE, r->p, r->n);
		break;
	case FUZZ_LOG_DEC_PATH:
		dec_path(r->p, r->n);
		break;
	default:
		dec_uuid(r->p, r->n);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = { data, size };

	if (!g.ready)
		setup();
	switch (get8(&r) & 3) {
	case FUZZ_LOG_RECORDS:
		mode_records(&r);
		break;
	case FUZZ_LOG_RAW:
		mode_raw(&r);
		break;
	case FUZZ_LOG_DECODERS:
		mode_decoders(&r);
		break;
	default:
		mode_super(&r);
		break;
	}
	reset();
	return 0;
}

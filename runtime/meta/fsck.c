/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fsck: see fsck.h. Reads only: devices are opened O_RDONLY and mapped
 * PROT_READ, so a bug here cannot damage what it checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "dax/dax.h"
#include "meta/alloc.h"
#include "meta/format.h"
#include "meta/fs.h"
#include "meta/fsck.h"
#include "meta/ns.h"
#include "util/bytes.h"
#include "util/crc32c.h"

/* Space a file was given, to name the other file of an overlap. */
struct ext_rec {
	uint32_t dev;
	uint64_t off, end;
	uint64_t seq;
};

struct fsck {
	const struct famrt_fsck_opts *o;
	struct famrt_fsck_summary *s;
	const char *const *paths;
	uint32_t n;
	struct famrt_dev dev[FAMRT_MAX_DEVS];
	int lock_fd;
	struct famrt_sb sb;
	uint32_t ndevs; /* devices of the file system so far */
	struct famrt_sb_dev devs[FAMRT_MAX_DEVS];
	const uint8_t *log;
	struct famrt_ns *ns;
	struct famrt_alloc *alloc;
	struct ext_rec *ext;
	size_t next, ext_cap;
	uint64_t *ends; /* ends[s]: log offset just past entry s; 0 unknown */
	uint64_t ends_cap;
	uint64_t maxseq;    /* highest entry seen whole (applied or lost) */
	bool stopped;       /* replay stops before the next entry */
	bool tail_torn[2];
	struct famrt_err *e;
};

struct where {
	uint32_t dev;
	uint64_t off;
	uint64_t seq;
	const char *path;
};

static const struct where nowhere = { FAMRT_FSCK_NO_DEV, FAMRT_FSCK_NO_OFFSET,
				      0, NULL };

static struct where at_dev(uint32_t dev, uint64_t off)
{
	return (struct where){ dev, off, 0, NULL };
}

static struct where at_log(const struct fsck *c, uint64_t pos, uint64_t seq,
			   const char *path)
{
	return (struct where){ 0, c->sb.log_offset + pos, seq, path };
}

__attribute__((format(printf, 5, 6))) static void
report(struct fsck *c, enum famrt_fsck_severity sev, const char *code,
       struct where w, const char *fmt, ...)
{
	char msg[1024];
	struct famrt_fsck_finding f = {
		.severity = sev, .code = code, .dev = w.dev, .offset = w.off,
		.seq = w.seq, .path = w.path, .message = msg,
	};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sev == FAMRT_FSCK_ERROR)
		c->s->errors++;
	else
		c->s->warnings++;
	if (c->o && c->o->report)
		c->o->report(&f, c->o->arg);
}

static int nomem(struct fsck *c, const char *what)
{
	c->s->operational_error = true;
	c->s->complete = false;
	return famrt_err_set(c->e, ENOMEM, "fsck: out of memory %s", what);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* ---- devices, superblocks, labels ---- */

static int open_devices(struct fsck *c)
{
	for (uint32_t i = 0; i < c->n; i++) {
		int rc = famrt_dev_open(&c->dev[i], c->paths[i], O_RDONLY, c->e);

		if (!rc)
			rc = famrt_dev_map(&c->dev[i], c->e);
		if (rc) {
			famrt_err_prefix(c->e, "fsck: device %u", i);
			return rc;
		}
		for (uint32_t j = 0; j < i; j++) {
			struct stat a, b;

			if (!fstat(c->dev[i].fd, &a) && !fstat(c->dev[j].fd, &b) &&
			    a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
			    a.st_rdev == b.st_rdev)
				report(c, FAMRT_FSCK_ERROR, "dev-duplicate",
				       at_dev(i, FAMRT_FSCK_NO_OFFSET),
				       "'%s' is given twice (as device %u and "
				       "%u)",
				       c->paths[i], j, i);
		}
	}
	return 0;
}

enum { K_MISSING, K_CRC, K_UNSUPPORTED, K_INVALID };

/* Why a superblock or label (CRC at crc_off) failed to decode. */
static int classify(int rc, const uint8_t *b, size_t crc_off)
{
	if (rc == -ENOENT)
		return K_MISSING;
	if (famrt_le32_get(b + crc_off) != famrt_crc32c_update(0, b, crc_off))
		return K_CRC;
	if (rc == -EPROTONOSUPPORT)
		return K_UNSUPPORTED;
	return K_INVALID;
}

static const char *const sb_codes[2][4] = {
	{ "sb-primary-missing", "sb-primary-crc", "sb-primary-unsupported",
	  "sb-primary-invalid" },
	{ "sb-backup-missing", "sb-backup-crc", "sb-backup-unsupported",
	  "sb-backup-invalid" },
};

static const char *const label_codes[4] = {
	"label-missing", "label-crc", "label-unsupported", "label-invalid",
};

/* The first field two valid superblocks disagree on. */
static const char *sb_diff(const struct famrt_sb *a, const struct famrt_sb *b)
{
	if (memcmp(a->uuid, b->uuid, 16))
		return "uuid";
	if (strcmp(a->name, b->name))
		return "name";
	if (a->alloc_unit != b->alloc_unit)
		return "allocation unit";
	if (a->log_offset != b->log_offset || a->log_size != b->log_size)
		return "log region";
	if (a->ctime_ns != b->ctime_ns)
		return "creation time";
	if (strcmp(a->master, b->master))
		return "master host";
	if (a->ndevs != b->ndevs)
		return "device count";
	if (a->flags != b->flags)
		return "flags";
	return "device table";
}

/* Returns false when no superblock can be used. */
static bool check_superblocks(struct fsck *c)
{
	const uint8_t *b = c->dev[0].base;
	const char *p0 = c->paths[0];
	struct famrt_sb sb[2];
	struct famrt_err why[2];
	int r[2];

	if (c->dev[0].size < 2 * FAMRT_SB_SIZE) {
		report(c, FAMRT_FSCK_ERROR, "sb-none", at_dev(0, 0),
		       "'%s' (%llu bytes) is too small to hold famrt "
		       "superblocks",
		       p0, (unsigned long long)c->dev[0].size);
		return false;
	}
	famrt_invalidate_range(b, 2 * FAMRT_SB_SIZE);
	for (int i = 0; i < 2; i++)
		r[i] = famrt_sb_decode(b + i * FAMRT_SB_SIZE, &sb[i], &why[i]);
	if (r[0] == -ENOENT && r[1] == -ENOENT) {
		struct famrt_label l;
		char u[37];

		if (!famrt_label_decode(b, &l, NULL)) {
			famrt_uuid_format(l.fs_uuid, u);
			report(c, FAMRT_FSCK_ERROR, "sb-none", at_dev(0, 0),
			       "'%s' was given as device 0, but it is device "
			       "%u of famrt file system %s: list the devices "
			       "in their order",
			       p0, l.devindex, u);
		} else {
			report(c, FAMRT_FSCK_ERROR, "sb-none", at_dev(0, 0),
			       "'%s' holds no famrt file system: neither "
			       "superblock (offsets 0 and 4096) has the magic",
			       p0);
		}
		return false;
	}
	for (int i = 0; i < 2; i++) {
		int k;

		if (!r[i])
			continue;
		k = classify(r[i], b + i * FAMRT_SB_SIZE, FAMRT_SB_SIZE - 4);
		report(c, FAMRT_FSCK_ERROR, sb_codes[i][k],
		       at_dev(0, (uint64_t)i * FAMRT_SB_SIZE),
		       "%s superblock on '%s' (device 0, offset %u): %s%s",
		       i ? "backup" : "primary", p0, i * FAMRT_SB_SIZE,
		       why[i].msg,
		       i == 0 && !r[1] ? "; the backup is used" : "");
	}
	if (r[0] && r[1]) {
		report(c, FAMRT_FSCK_ERROR, "sb-none", at_dev(0, 0),
		       "no usable superblock on '%s': nothing else can be "
		       "checked",
		       p0);
		return false;
	}
	if (!r[0] && !r[1] && memcmp(&sb[0], &sb[1], sizeof(sb[0])))
		report(c, FAMRT_FSCK_ERROR, "sb-mismatch",
		       at_dev(0, FAMRT_SB_SIZE),
		       "backup superblock on '%s' (device 0, offset 4096) "
		       "differs from the primary (%s)",
		       p0, sb_diff(&sb[0], &sb[1]));
	c->sb = r[0] ? sb[1] : sb[0];
	return true;
}

/* Is the device given at index i device i of this file system? */
static void check_dev(struct fsck *c, uint32_t i)
{
	const struct famrt_dev *d = &c->dev[i];
	const struct famrt_sb_dev *want = &c->devs[i];
	const uint8_t *b = d->base;
	struct famrt_label l;
	struct famrt_sb other;
	struct famrt_err why;
	char u1[37], u2[37];
	int rc;

	if (d->size < want->size)
		report(c, FAMRT_FSCK_ERROR, "dev-size",
		       at_dev(i, FAMRT_FSCK_NO_OFFSET),
		       "'%s' (device %u) has %llu bytes, but the file system "
		       "recorded %llu",
		       d->path, i, (unsigned long long)d->size,
		       (unsigned long long)want->size);
	if (d->align > want->align)
		report(c, FAMRT_FSCK_ERROR, "dev-align",
		       at_dev(i, FAMRT_FSCK_NO_OFFSET),
		       "'%s' (device %u) needs alignment %llu, more than the "
		       "%llu the file system recorded",
		       d->path, i, (unsigned long long)d->align,
		       (unsigned long long)want->align);
	if (i == 0)
		return; /* the superblock is device 0's label */
	famrt_invalidate_range(b, FAMRT_LABEL_SIZE);
	rc = famrt_label_decode(b, &l, &why);
	if (rc) {
		int k = classify(rc, b, FAMRT_LABEL_SIZE - 4);

		if (k == K_MISSING && !famrt_sb_decode(b, &other, NULL))
			report(c, FAMRT_FSCK_ERROR, "label-missing",
			       at_dev(i, 0),
			       "'%s' was given as device %u but has no label: "
			       "it holds the superblock of file system '%s' "
			       "(it is a device 0)",
			       d->path, i, other.name);
		else
			report(c, FAMRT_FSCK_ERROR, label_codes[k],
			       at_dev(i, 0), "'%s' (device %u, offset 0): %s",
			       d->path, i, why.msg);
		return;
	}
	famrt_uuid_format(c->sb.uuid, u1);
	famrt_uuid_format(l.fs_uuid, u2);
	if (memcmp(l.fs_uuid, c->sb.uuid, 16)) {
		report(c, FAMRT_FSCK_ERROR, "label-fs", at_dev(i, 0),
		       "'%s' (given as device %u) belongs to file system %s, "
		       "not %s",
		       d->path, i, u2, u1);
		return;
	}
	if (l.devindex != i)
		report(c, FAMRT_FSCK_ERROR, "label-index", at_dev(i, 0),
		       "'%s' is device %u of this file system but was given "
		       "as device %u: list the devices in their order",
		       d->path, l.devindex, i);
	else if (memcmp(l.dev_uuid, want->uuid, 16))
		report(c, FAMRT_FSCK_ERROR, "label-uuid", at_dev(i, 0),
		       "'%s' (device %u): its label's device uuid is not the "
		       "one the file system lists for device %u",
		       d->path, i, i);
	if (l.size != want->size)
		report(c, FAMRT_FSCK_ERROR, "label-size", at_dev(i, 0),
		       "'%s' (device %u): its label says %llu bytes, the file "
		       "system %llu",
		       d->path, i, (unsigned long long)l.size,
		       (unsigned long long)want->size);
}

/* ---- replay into fsck's own namespace and allocator ---- */

static int set_end(struct fsck *c, uint64_t seq, uint64_t end)
{
	if (seq >= c->ends_cap) {
		uint64_t cap = c->ends_cap ? c->ends_cap : 1024;
		uint64_t *n;

		while (cap <= seq)
			cap *= 2;
		n = realloc(c->ends, cap * sizeof(*n));
		if (!n)
			return nomem(c, "for the log index");
		memset(n + c->ends_cap, 0, (cap - c->ends_cap) * sizeof(*n));
		c->ends = n;
		c->ends_cap = cap;
	}
	c->ends[seq] = end;
	if (seq > c->maxseq)
		c->maxseq = seq;
	return 0;
}

static uint64_t end_of(const struct fsck *c, uint64_t seq)
{
	return seq < c->ends_cap ? c->ends[seq] : 0;
}

/* An entry replay does not apply; type "mkdir", path w.path if known. */
static void skip(struct fsck *c, const char *code, struct where w,
		 const char *type, const char *why)
{
	report(c, FAMRT_FSCK_ERROR, code, w,
	       "log entry %llu (%s%s%s%s) at device 0 offset %llu not "
	       "applied: %s",
	       (unsigned long long)w.seq, type, w.path ? " '" : "",
	       w.path ? w.path : "", w.path ? "'" : "",
	       (unsigned long long)w.off, why);
	c->s->skipped++;
}

static const char *prepare_code(int rc)
{
	if (rc == -EEXIST)
		return "entry-exists";
	if (rc == -ENOENT || rc == -ENOTDIR)
		return "entry-parent";
	return "entry-invalid";
}

static int apply_mkdir(struct fsck *c, const struct famrt_entry_hdr *h,
		       const uint8_t *p, uint64_t pos)
{
	const struct famrt_node *parent, *x;
	struct famrt_ent_mkdir m;
	struct famrt_err why;
	char path[FAMRT_PATH_MAX + 1];
	const char *name;
	size_t nlen;
	int rc = famrt_ent_mkdir_decode(p, h->len, &m, &why);

	if (rc) {
		skip(c, "entry-invalid", at_log(c, pos, h->seq, NULL), "mkdir",
		     why.msg);
		return 0;
	}
	memcpy(path, m.path, m.path_len);
	path[m.path_len] = '\0';
	rc = famrt_ns_prepare(c->ns, m.path, m.path_len, &parent, &name, &nlen,
			      &x, &why);
	if (rc) {
		skip(c, prepare_code(rc), at_log(c, pos, h->seq, path), "mkdir",
		     why.msg);
		return 0;
	}
	if (!famrt_ns_add(c->ns, parent, name, nlen, h->seq, m.mode, m.uid,
			  m.gid, h->time_ns, NULL, 0, NULL, &why))
		return nomem(c, "for the namespace");
	return 0;
}

static int add_rec(struct fsck *c, uint32_t dev, uint64_t off, uint64_t end,
		   uint64_t seq)
{
	if (c->next == c->ext_cap) {
		size_t cap = c->ext_cap ? c->ext_cap * 2 : 256;
		struct ext_rec *n = realloc(c->ext, cap * sizeof(*n));

		if (!n)
			return nomem(c, "for the extent list");
		c->ext = n;
		c->ext_cap = cap;
	}
	c->ext[c->next++] = (struct ext_rec){ dev, off, end, seq };
	return 0;
}

/* Report which file already holds some of [off, end) on dev. */
static void report_overlap(struct fsck *c, struct where w, uint32_t dev,
			   uint64_t off, uint64_t end)
{
	for (size_t i = 0; i < c->next; i++) {
		const struct ext_rec *r = &c->ext[i];
		const struct famrt_node *other;
		char opath[FAMRT_PATH_MAX + 1];
		uint64_t lo, hi;

		if (r->dev != dev || r->end <= off || r->off >= end)
			continue;
		lo = r->off > off ? r->off : off;
		hi = r->end < end ? r->end : end;
		if (r->seq == w.seq) {
			report(c, FAMRT_FSCK_ERROR, "overlap",
			       (struct where){ dev, lo, w.seq, w.path },
			       "'%s' (log entry %llu) uses device %u "
			       "[0x%llx, 0x%llx) twice in its own map",
			       w.path, (unsigned long long)w.seq, dev,
			       (unsigned long long)lo, (unsigned long long)hi);
			return;
		}
		other = famrt_ns_by_ino(c->ns, FAMRT_ROOT_INO + r->seq);
		if (!other || famrt_ns_path(c->ns, other, opath,
					    sizeof(opath)) < 0)
			snprintf(opath, sizeof(opath), "?");
		report(c, FAMRT_FSCK_ERROR, "overlap",
		       (struct where){ dev, lo, w.seq, w.path },
		       "'%s' (log entry %llu) and '%s' (log entry %llu) both "
		       "use device %u [0x%llx, 0x%llx); the later entry is not "
		       "applied",
		       opath, (unsigned long long)r->seq, w.path,
		       (unsigned long long)w.seq, dev, (unsigned long long)lo,
		       (unsigned long long)hi);
		return;
	}
	report(c, FAMRT_FSCK_ERROR, "overlap", (struct where){ dev, off, w.seq,
							       w.path },
	       "'%s' (log entry %llu) uses device %u [0x%llx, 0x%llx), which "
	       "the allocator has in use but no file claims",
	       w.path, (unsigned long long)w.seq, dev,
	       (unsigned long long)off, (unsigned long long)end);
}

/*
 * Check and mark every place of a map. Returns 1 when all of it is
 * inside data regions and free (marked, recorded), 0 when not (reported,
 * nothing left marked), -ENOMEM.
 */
static int mark_map(struct fsck *c, const struct famrt_fmap *map,
		    struct where w)
{
	uint64_t unit = c->sb.alloc_unit;
	uint32_t n = famrt_fmap_nextents(map);
	bool ilv = famrt_fmap_ext_type(map) == FAMRT_FMAP_EXT_INTERLEAVE;
	size_t first = c->next;
	struct famrt_fmap_extent x;
	struct famrt_err why;
	bool bad = false;
	int rc = 0;

	for (uint32_t i = 0; i < n && !rc; i++) {
		famrt_fmap_get_extent(map, i, &x);
		for (uint32_t j = 0; j < (ilv ? x.nstrips : 1) && !rc; j++) {
			const struct famrt_fmap_strip *s = &x.strips[j];
			const struct famrt_sb_dev *d = &c->devs[s->devindex];
			uint64_t lo = d->data_start, hi = d->size & ~(unit - 1);
			uint64_t len = (s->len + unit - 1) & ~(unit - 1);
			char where[48] = "";

			if (ilv)
				snprintf(where, sizeof(where), " strip %u", j);
			if (s->offset < lo || len < s->len ||
			    s->offset + len < s->offset ||
			    s->offset + len > hi) {
				report(c, FAMRT_FSCK_ERROR, "extent-outside",
				       (struct where){ s->devindex, s->offset,
						       w.seq, w.path },
				       "'%s' (log entry %llu) extent %u%s is "
				       "device %u [0x%llx, +0x%llx), outside "
				       "the device's data region [0x%llx, "
				       "0x%llx)%s",
				       w.path, (unsigned long long)w.seq, i,
				       where, s->devindex,
				       (unsigned long long)s->offset,
				       (unsigned long long)s->len,
				       (unsigned long long)lo,
				       (unsigned long long)hi,
				       s->offset >= lo ? "" :
				       s->devindex ? " (over its label)" :
						     " (over the superblocks "
						     "or the log)");
				bad = true;
				continue;
			}
			if (s->offset & (unit - 1)) {
				report(c, FAMRT_FSCK_ERROR, "extent-unaligned",
				       (struct where){ s->devindex, s->offset,
						       w.seq, w.path },
				       "'%s' (log entry %llu) extent %u%s at "
				       "device %u offset 0x%llx is not on a "
				       "0x%llx-byte allocation unit",
				       w.path, (unsigned long long)w.seq, i,
				       where, s->devindex,
				       (unsigned long long)s->offset,
				       (unsigned long long)unit);
				bad = true;
				continue;
			}
			rc = famrt_alloc_mark(c->alloc, s->devindex, s->offset,
					      len, &why);
			if (rc == -EEXIST) {
				report_overlap(c, w, s->devindex, s->offset,
					       s->offset + len);
				bad = true;
				rc = 0;
				continue;
			}
			if (rc == -ENOMEM)
				break;
			if (rc) {
				report(c, FAMRT_FSCK_ERROR, "extent-outside",
				       (struct where){ s->devindex, s->offset,
						       w.seq, w.path },
				       "'%s' (log entry %llu) extent %u%s: %s",
				       w.path, (unsigned long long)w.seq, i,
				       where, why.msg);
				bad = true;
				rc = 0;
				continue;
			}
			rc = add_rec(c, s->devindex, s->offset,
				     s->offset + len, w.seq);
			if (rc) {
				(void)famrt_alloc_release(c->alloc,
							  s->devindex,
							  s->offset, len,
							  NULL);
				break;
			}
		}
	}
	if (!bad && !rc)
		return 1;
	/* Give back what this map marked: replay applies all or nothing. */
	while (c->next > first) {
		const struct ext_rec *r = &c->ext[--c->next];

		(void)famrt_alloc_release(c->alloc, r->dev, r->off,
					  r->end - r->off, NULL);
	}
	return rc == -ENOMEM ? nomem(c, "for the allocator") : 0;
}

static int apply_create(struct fsck *c, const struct famrt_entry_hdr *h,
			const uint8_t *p, uint64_t pos)
{
	uint64_t sizes[FAMRT_MAX_DEVS], aligns[FAMRT_MAX_DEVS];
	const struct famrt_node *parent, *x;
	struct famrt_fmap_limits lim;
	struct famrt_fmap_error ferr;
	struct famrt_fmap *map = NULL;
	struct famrt_ent_create cr;
	struct famrt_err why;
	char path[FAMRT_PATH_MAX + 1];
	struct where w = at_log(c, pos, h->seq, NULL);
	const char *name;
	size_t nlen;
	int rc = famrt_ent_create_decode(p, h->len, &cr, &why);

	if (rc) {
		skip(c, "entry-invalid", w, "create", why.msg);
		return 0;
	}
	memcpy(path, cr.path, cr.path_len);
	path[cr.path_len] = '\0';
	w.path = path;
	rc = famrt_ns_prepare(c->ns, cr.path, cr.path_len, &parent, &name,
			      &nlen, &x, &why);
	if (rc) {
		skip(c, prepare_code(rc), w, "create", why.msg);
		return 0;
	}
	for (uint32_t i = 0; i < c->ndevs; i++) {
		sizes[i] = c->devs[i].size;
		aligns[i] = c->devs[i].align;
	}
	memset(&lim, 0, sizeof(lim));
	lim.size = sizeof(lim);
	lim.align = 4096;
	lim.ndevices = c->ndevs;
	lim.dev_size = sizes;
	lim.dev_align = aligns;
	rc = famrt_fmap_decode(cr.fmap, cr.fmap_len, &lim, &map, &ferr);
	if (rc == -ENOMEM)
		return nomem(c, "decoding a map");
	if (rc) {
		char m[sizeof(ferr.message) + 32];

		snprintf(m, sizeof(m), "its map is invalid: %s", ferr.message);
		skip(c, "entry-fmap", w, "create", m);
		return 0;
	}
	if (famrt_fmap_file_type(map) != FAMRT_FMAP_FILE_REG) {
		char m[64];

		snprintf(m, sizeof(m), "its map's file type %u is not a "
				       "regular file",
			 famrt_fmap_file_type(map));
		famrt_fmap_free(map);
		skip(c, "entry-fmap", w, "create", m);
		return 0;
	}
	rc = mark_map(c, map, w);
	if (rc <= 0) {
		famrt_fmap_free(map);
		if (rc == 0)
			c->s->skipped++;
		return rc;
	}
	if (!famrt_ns_add(c->ns, parent, name, nlen, h->seq, cr.mode, cr.uid,
			  cr.gid, h->time_ns, cr.fmap, cr.fmap_len, map,
			  &why)) {
		famrt_fmap_free(map);
		return nomem(c, "for the namespace");
	}
	c->s->file_bytes += famrt_fmap_file_size(map);
	return 0;
}

static int apply_add_device(struct fsck *c, const struct famrt_entry_hdr *h,
			    const uint8_t *p, uint64_t pos)
{
	struct where w = at_log(c, pos, h->seq, NULL);
	struct famrt_ent_add_device a;
	const struct famrt_sb_dev *d = &a.dev;
	uint64_t unit = c->sb.alloc_unit;
	struct famrt_err why;
	char m[256];
	int rc = famrt_ent_add_device_decode(p, h->len, &a, &why);

	if (rc) {
		skip(c, "entry-invalid", w, "add-device", why.msg);
		return 0;
	}
	if (a.devindex != c->ndevs || c->ndevs >= FAMRT_MAX_DEVS) {
		snprintf(m, sizeof(m), "it adds device %u, but the next index "
				       "is %u (at most %u devices)",
			 a.devindex, c->ndevs, FAMRT_MAX_DEVS);
		skip(c, "entry-add-device", w, "add-device", m);
		return 0;
	}
	if (!is_pow2(d->align) || d->align > unit || d->data_start % unit ||
	    d->data_start >= d->size || d->data_start < FAMRT_LABEL_SIZE) {
		snprintf(m, sizeof(m), "device %u: size %llu, alignment %llu, "
				       "data start %llu are inconsistent "
				       "(unit %llu, label %u bytes)",
			 a.devindex, (unsigned long long)d->size,
			 (unsigned long long)d->align,
			 (unsigned long long)d->data_start,
			 (unsigned long long)unit, FAMRT_LABEL_SIZE);
		skip(c, "entry-add-device", w, "add-device", m);
		return 0;
	}
	rc = famrt_alloc_add_device(c->alloc, a.devindex, d->data_start,
				    d->size & ~(unit - 1), d->align, &why);
	if (rc == -ENOMEM)
		return nomem(c, "for the allocator");
	if (rc) {
		skip(c, "entry-add-device", w, "add-device", why.msg);
		return 0;
	}
	c->devs[c->ndevs++] = *d;
	if (a.devindex < c->n)
		check_dev(c, a.devindex);
	return 0;
}

static int apply_setattr(struct fsck *c, const struct famrt_entry_hdr *h,
			 const uint8_t *p, uint64_t pos)
{
	struct where w = at_log(c, pos, h->seq, NULL);
	struct famrt_ent_setattr a;
	struct famrt_node *n;
	struct famrt_err why;
	char m[64];
	int rc = famrt_ent_setattr_decode(p, h->len, &a, &why);

	if (rc) {
		skip(c, "entry-invalid", w, "setattr", why.msg);
		return 0;
	}
	/* fsck's own namespace: replay is what changes its nodes. */
	n = (struct famrt_node *)famrt_ns_by_ino(c->ns, a.ino);
	if (!n) {
		snprintf(m, sizeof(m), "no inode %llu",
			 (unsigned long long)a.ino);
		skip(c, "entry-inode", w, "setattr", m);
		return 0;
	}
	if (a.mode != FAMRT_SETATTR_KEEP)
		n->mode = (n->mode & ~07777u) | a.mode;
	if (a.uid != FAMRT_SETATTR_KEEP)
		n->uid = a.uid;
	if (a.gid != FAMRT_SETATTR_KEEP)
		n->gid = a.gid;
	return 0;
}

static int apply(struct fsck *c, const struct famrt_entry_hdr *h,
		 uint64_t pos)
{
	const uint8_t *p = c->log + pos + FAMRT_ENTRY_HDR_SIZE;
	struct where w = at_log(c, pos, h->seq, NULL);

	if (h->flags & ~FAMRT_ENTRY_KNOWN_FLAGS) {
		report(c, FAMRT_FSCK_ERROR, "entry-unsupported", w,
		       "log entry %llu (%s) at device 0 offset %llu has flags "
		       "0x%x this famrt does not know: replay stops here "
		       "(upgrade famrt)",
		       (unsigned long long)h->seq,
		       famrt_entry_type_name(h->type),
		       (unsigned long long)w.off, h->flags);
		c->stopped = true;
		return 0;
	}
	switch (h->type) {
	case FAMRT_ENTRY_MKDIR:
		return apply_mkdir(c, h, p, pos);
	case FAMRT_ENTRY_CREATE:
		return apply_create(c, h, p, pos);
	case FAMRT_ENTRY_ADD_DEVICE:
		return apply_add_device(c, h, p, pos);
	case FAMRT_ENTRY_SETATTR:
		return apply_setattr(c, h, p, pos);
	default:
		if (h->flags & FAMRT_ENTRY_SKIPPABLE) {
			report(c, FAMRT_FSCK_WARNING, "entry-skippable", w,
			       "log entry %llu at device 0 offset %llu has "
			       "type %u, which this famrt does not know; it "
			       "is marked skippable, so replay skips it",
			       (unsigned long long)h->seq,
			       (unsigned long long)w.off, h->type);
			return 0;
		}
		report(c, FAMRT_FSCK_ERROR, "entry-unsupported", w,
		       "log entry %llu at device 0 offset %llu has type %u, "
		       "which this famrt does not know: replay stops here "
		       "(upgrade famrt)",
		       (unsigned long long)h->seq, (unsigned long long)w.off,
		       h->type);
		c->stopped = true;
		return 0;
	}
}

/* ---- the log ---- */

/*
 * After a damaged entry at pos: the next whole entry with a higher seq,
 * searched on 8-byte steps. Returns its offset (and *seq), or 0.
 */
static uint64_t resync(const struct fsck *c, uint64_t pos, uint64_t *seq)
{
	uint64_t size = c->sb.log_size;

	for (uint64_t q = pos + 8; q + FAMRT_ENTRY_HDR_SIZE <= size; q += 8) {
		struct famrt_entry_hdr h;
		uint64_t s;

		if (famrt_le32_get(c->log + q) != FAMRT_ENTRY_MAGIC)
			continue;
		s = famrt_le64_get(c->log + q + 8);
		if (s <= *seq)
			continue;
		if (!famrt_entry_check(c->log + q, size - q, s, c->sb.uuid, &h,
				       NULL)) {
			*seq = s;
			return q;
		}
	}
	return 0;
}

/* Is the commit word at pos a prefix of the one the entry there needs? */
static bool torn_commit(const struct fsck *c, uint64_t pos, uint64_t seq)
{
	const uint8_t *p = c->log + pos;
	uint64_t avail = c->sb.log_size - pos;
	uint8_t cw[8];
	uint32_t len;
	size_t size;

	if (avail < FAMRT_ENTRY_HDR_SIZE)
		return false;
	len = famrt_le32_get(p + 20);
	if (len > FAMRT_ENTRY_MAX_PAYLOAD)
		return false;
	size = famrt_entry_size(len);
	if (size > avail || famrt_le64_get(p + 8) != seq)
		return false;
	famrt_le32_put(cw, FAMRT_ENTRY_MAGIC);
	famrt_le32_put(cw + 4, famrt_entry_crc(p, size, c->sb.uuid));
	for (size_t k = 1; k < 8; k++)
		if (!memcmp(p, cw, k) && all_zero(p + k, 8 - k))
			return true;
	return false;
}

/*
 * Could a bad tail slot be a write of the tail for some recent entry of
 * its parity, cut short over the slot's previous contents (a crash)?
 */
static bool torn_tail(const struct fsck *c, int slot, const uint8_t *b)
{
	uint8_t nw[FAMRT_TAIL_SLOT_SIZE], old[FAMRT_TAIL_SLOT_SIZE];
	int tries = 0;

	for (uint64_t m = c->maxseq; m >= 1 && tries < 3; m--) {
		struct famrt_tail t = { m, end_of(c, m) };

		if ((int)(m & 1) != slot || !t.end)
			continue;
		tries++;
		famrt_tail_encode(&t, c->sb.uuid, nw);
		for (uint64_t back = 2; back <= 8; back += 2) {
			if (m > back) {
				struct famrt_tail o = { m - back,
							end_of(c, m - back) };

				if (!o.end)
					continue;
				famrt_tail_encode(&o, c->sb.uuid, old);
			} else {
				memset(old, 0, sizeof(old));
			}
			for (size_t k = 1; k < FAMRT_TAIL_SLOT_SIZE; k++)
				if (!memcmp(b, nw, k) &&
				    !memcmp(b + k, old + k,
					    FAMRT_TAIL_SLOT_SIZE - k))
					return true;
			if (m <= back)
				break;
		}
	}
	return false;
}

static void check_tail(struct fsck *c, const struct famrt_tail *t,
		       const int *r)
{
	for (int i = 0; i < 2; i++) {
		const uint8_t *b = c->log + i * FAMRT_TAIL_SLOT_SIZE;
		uint64_t off = c->sb.log_offset + (uint64_t)i *
							  FAMRT_TAIL_SLOT_SIZE;
		uint64_t end;

		if (!r[i]) {
			if ((int)(t[i].seq & 1) != i)
				report(c, FAMRT_FSCK_ERROR, "tail-parity",
				       at_dev(0, off),
				       "log tail slot %d (device 0, offset "
				       "%llu) records entry %llu, which "
				       "belongs in slot %d",
				       i, (unsigned long long)off,
				       (unsigned long long)t[i].seq,
				       (int)(t[i].seq & 1));
			end = t[i].seq ? end_of(c, t[i].seq) :
					 FAMRT_LOG_ENTRIES_START;
			if (end && end != t[i].end)
				report(c, FAMRT_FSCK_ERROR, "tail-end",
				       at_dev(0, off),
				       "log tail slot %d (device 0, offset "
				       "%llu) says entry %llu ends at log "
				       "offset %llu, but it ends at %llu",
				       i, (unsigned long long)off,
				       (unsigned long long)t[i].seq,
				       (unsigned long long)t[i].end,
				       (unsigned long long)end);
			continue;
		}
		if (r[i] == -ENODATA && all_zero(b, FAMRT_TAIL_SLOT_SIZE))
			continue; /* never written yet, or lagging: harmless */
		if (torn_tail(c, i, b)) {
			c->tail_torn[i] = true;
			report(c, FAMRT_FSCK_WARNING, "tail-torn",
			       at_dev(0, off),
			       "log tail slot %d (device 0, offset %llu) was "
			       "cut short while being written (a crash during "
			       "an append); it is a hint only, so nothing is "
			       "lost",
			       i, (unsigned long long)off);
			continue;
		}
		report(c, FAMRT_FSCK_ERROR, "tail-damaged", at_dev(0, off),
		       "log tail slot %d (device 0, offset %llu) is damaged "
		       "(%s)",
		       i, (unsigned long long)off,
		       r[i] == -ENODATA ? "its magic is gone" :
					  "checksum or reserved bytes");
	}
}

static int walk_log(struct fsck *c)
{
	uint64_t size = c->sb.log_size, pos = FAMRT_LOG_ENTRIES_START;
	uint64_t seq = 1, tail_max = 0;
	struct famrt_tail t[2];
	bool lost = false, at_end = true;
	int r[2], rc;

	c->log = (const uint8_t *)c->dev[0].base + c->sb.log_offset;
	famrt_invalidate_range(c->log, size);
	for (int i = 0; i < 2; i++) {
		r[i] = famrt_tail_decode(c->log + i * FAMRT_TAIL_SLOT_SIZE,
					 c->sb.uuid, &t[i]);
		if (!r[i] && t[i].seq > tail_max)
			tail_max = t[i].seq;
	}
	rc = set_end(c, 0, FAMRT_LOG_ENTRIES_START);
	if (rc)
		return rc;
	for (;;) {
		struct famrt_entry_hdr h;
		struct famrt_err why;
		uint64_t next_seq, q;

		if (pos + FAMRT_ENTRY_HDR_SIZE > size) {
			famrt_err_set(&why, ENODATA, "the log region ends");
			rc = -ENODATA;
		} else {
			rc = famrt_entry_check(c->log + pos, size - pos, seq,
					       c->sb.uuid, &h, &why);
		}
		if (rc) {
			if (seq > tail_max)
				break; /* the end of the log */
			next_seq = seq;
			q = pos + FAMRT_ENTRY_HDR_SIZE <= size ?
				    resync(c, pos, &next_seq) : 0;
			if (q)
				report(c, FAMRT_FSCK_ERROR, "log-entry-damaged",
				       at_log(c, pos, seq, NULL),
				       "log entry %llu at log offset %llu "
				       "(device 0 offset %llu) is damaged "
				       "(%s), but the log tail says entries "
				       "up to %llu were committed; replay "
				       "stops here; the next whole entry is "
				       "%llu at log offset %llu",
				       (unsigned long long)seq,
				       (unsigned long long)pos,
				       (unsigned long long)(c->sb.log_offset +
							    pos),
				       why.msg, (unsigned long long)tail_max,
				       (unsigned long long)next_seq,
				       (unsigned long long)q);
			else
				report(c, FAMRT_FSCK_ERROR, "log-entry-damaged",
				       at_log(c, pos, seq, NULL),
				       "log entry %llu at log offset %llu "
				       "(device 0 offset %llu) is damaged "
				       "(%s), but the log tail says entries "
				       "up to %llu were committed; replay "
				       "stops here and no whole entry "
				       "follows",
				       (unsigned long long)seq,
				       (unsigned long long)pos,
				       (unsigned long long)(c->sb.log_offset +
							    pos),
				       why.msg, (unsigned long long)tail_max);
			lost = true;
			if (!q) {
				/* No end of the log to judge: stop here. */
				at_end = false;
				break;
			}
			pos = q;
			seq = next_seq;
			continue;
		}
		rc = set_end(c, seq, pos + famrt_entry_size(h.len));
		if (rc)
			return rc;
		if (lost || c->stopped) {
			c->s->entries_lost++;
		} else {
			c->s->entries++;
			rc = apply(c, &h, pos);
			if (rc)
				return rc;
		}
		pos += famrt_entry_size(h.len);
		seq++;
	}
	c->s->log_used = pos < size ? pos : size;
	if (at_end && pos + 8 <= size && famrt_le64_get(c->log + pos)) {
		if (torn_commit(c, pos, seq))
			report(c, FAMRT_FSCK_WARNING, "log-torn",
			       at_log(c, pos, seq, NULL),
			       "an append of entry %llu at log offset %llu "
			       "(device 0 offset %llu) was cut short while "
			       "storing its commit word (a crash); the entry "
			       "does not count and nothing is lost",
			       (unsigned long long)seq,
			       (unsigned long long)pos,
			       (unsigned long long)(c->sb.log_offset + pos));
		else
			report(c, FAMRT_FSCK_ERROR, "log-garbage",
			       at_log(c, pos, 0, NULL),
			       "the 8 bytes just past the last entry (%llu), "
			       "at log offset %llu (device 0 offset %llu), "
			       "are 0x%016llx, not zero: a writer would "
			       "append over them",
			       (unsigned long long)(seq - 1),
			       (unsigned long long)pos,
			       (unsigned long long)(c->sb.log_offset + pos),
			       (unsigned long long)famrt_le64_get(c->log +
								   pos));
	}
	if (at_end && size - c->s->log_used < famrt_entry_size(16 + 2) + 8)
		report(c, FAMRT_FSCK_WARNING, "log-full",
		       at_log(c, c->s->log_used, 0, NULL),
		       "the log is full (%llu of %llu bytes used): no more "
		       "changes can be made",
		       (unsigned long long)c->s->log_used,
		       (unsigned long long)size);
	check_tail(c, t, r);
	return 0;
}

/* ---- cross-check with famrt_fs_open ---- */

static bool same_node(const struct famrt_node *a, const struct famrt_node *b)
{
	return a->parent == b->parent && a->mode == b->mode &&
	       a->uid == b->uid && a->gid == b->gid && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->nlink == b->nlink &&
	       a->name_len == b->name_len &&
	       !memcmp(a->name, b->name, a->name_len) &&
	       a->fmap_len == b->fmap_len &&
	       (!a->fmap_len || !memcmp(a->fmap_msg, b->fmap_msg, a->fmap_len));
}

struct cmp_state {
	const struct famrt_ns *theirs;
	const struct famrt_node *bad;
	const struct famrt_node **stack;
	size_t depth, cap;
};

static int cmp_one(const struct famrt_node *n, void *arg)
{
	struct cmp_state *st = arg;
	const struct famrt_node *o = famrt_ns_by_ino(st->theirs, n->ino);

	if (!o || !same_node(n, o)) {
		st->bad = n;
		return 1;
	}
	if (S_ISDIR(n->mode)) {
		if (st->depth == st->cap) {
			size_t cap = st->cap ? st->cap * 2 : 64;
			const struct famrt_node **s =
				realloc(st->stack, cap * sizeof(*s));

			if (!s)
				return -1;
			st->stack = s;
			st->cap = cap;
		}
		st->stack[st->depth++] = n;
	}
	return 0;
}

/* 0 same, 1 different (*bad set), -ENOMEM. */
static int compare_ns(const struct famrt_ns *mine,
		      const struct famrt_ns *theirs,
		      const struct famrt_node **bad)
{
	struct cmp_state st = { .theirs = theirs };
	int rc = 0;

	*bad = NULL;
	if (cmp_one(famrt_ns_root(mine), &st) < 0)
		return -ENOMEM;
	while (st.depth && !st.bad) {
		const struct famrt_node *d = st.stack[--st.depth];
		uint64_t ck = famrt_ns_readdir(mine, d, 0, UINT32_MAX, cmp_one,
					       &st);

		if (ck != UINT64_MAX && !st.bad) {
			rc = -ENOMEM;
			break;
		}
	}
	free(st.stack);
	if (rc)
		return rc;
	*bad = st.bad;
	return st.bad ? 1 : 0;
}

static int cross_check(struct fsck *c)
{
	static const struct famrt_fs_opts fo = { .host_id = "famrt-fsck",
						 .readonly = true };
	uint32_t tail_flags = (c->tail_torn[0] ? FAMRT_DAMAGE_TAIL0 : 0) |
			      (c->tail_torn[1] ? FAMRT_DAMAGE_TAIL1 : 0);
	struct famrt_alloc_stats st;
	const struct famrt_node *bad;
	struct famrt_fs *fs;
	struct famrt_err why;
	char path[FAMRT_PATH_MAX + 1];
	int rc;

	rc = famrt_fs_open(&fs, c->paths, c->n, &fo, &why);
	if (rc == -ENOMEM)
		return nomem(c, "opening the file system");
	if (rc) {
		report(c, FAMRT_FSCK_ERROR, "replay-failed", nowhere,
		       "fsck found no error, but opening the file system "
		       "fails: %s",
		       why.msg);
		return 0;
	}
	famrt_alloc_get_stats(fs->alloc, &st);
	if (fs->nentries != c->s->entries || fs->nskipped != c->s->skipped ||
	    fs->ndevs != c->ndevs || st.free != c->s->bytes_free ||
	    famrt_ns_nfiles(fs->ns) != c->s->files ||
	    famrt_ns_ndirs(fs->ns) != c->s->dirs) {
		report(c, FAMRT_FSCK_ERROR, "replay-mismatch", nowhere,
		       "replay disagrees with fsck: entries %llu/%llu, "
		       "skipped %llu/%llu, devices %u/%u, files %llu/%llu, "
		       "directories %llu/%llu, free bytes %llu/%llu "
		       "(replay/fsck)",
		       (unsigned long long)fs->nentries,
		       (unsigned long long)c->s->entries,
		       (unsigned long long)fs->nskipped,
		       (unsigned long long)c->s->skipped, fs->ndevs, c->ndevs,
		       (unsigned long long)famrt_ns_nfiles(fs->ns),
		       (unsigned long long)c->s->files,
		       (unsigned long long)famrt_ns_ndirs(fs->ns),
		       (unsigned long long)c->s->dirs,
		       (unsigned long long)st.free,
		       (unsigned long long)c->s->bytes_free);
	} else if (fs->damage & ~tail_flags) {
		report(c, FAMRT_FSCK_ERROR, "replay-mismatch", nowhere,
		       "replay reports damage fsck did not find (flags 0x%x): "
		       "%s",
		       fs->damage & ~tail_flags, fs->first_problem.msg);
	} else {
		rc = compare_ns(c->ns, fs->ns, &bad);
		if (rc < 0) {
			famrt_fs_close(fs);
			return nomem(c, "comparing namespaces");
		}
		if (rc) {
			if (famrt_ns_path(c->ns, bad, path, sizeof(path)) < 0)
				snprintf(path, sizeof(path), "?");
			report(c, FAMRT_FSCK_ERROR, "replay-mismatch",
			       (struct where){ FAMRT_FSCK_NO_DEV,
					       FAMRT_FSCK_NO_OFFSET, bad->seq,
					       path },
			       "replay and fsck disagree about '%s' (inode "
			       "%llu)",
			       path, (unsigned long long)bad->ino);
		}
	}
	famrt_fs_close(fs);
	return 0;
}

/* ---- the whole check ---- */

static int run(struct fsck *c)
{
	struct famrt_alloc_stats st;
	int rc;

	rc = open_devices(c);
	if (rc) {
		c->s->operational_error = true;
		return rc;
	}
	/* On the master host, keep local appends out while we read. */
	c->lock_fd = c->dev[0].fd;
	while (flock(c->lock_fd, LOCK_SH) < 0 && errno == EINTR)
		;
	if (!check_superblocks(c))
		return 0;
	memcpy(c->s->uuid, c->sb.uuid, 16);
	snprintf(c->s->name, sizeof(c->s->name), "%s", c->sb.name);
	c->s->log_size = c->sb.log_size;
	if (c->sb.log_offset + c->sb.log_size > c->dev[0].size) {
		report(c, FAMRT_FSCK_ERROR, "dev-size",
		       at_dev(0, FAMRT_FSCK_NO_OFFSET),
		       "'%s' (%llu bytes) is smaller than the file system's "
		       "log region [%llu, +%llu): the log cannot be checked",
		       c->paths[0], (unsigned long long)c->dev[0].size,
		       (unsigned long long)c->sb.log_offset,
		       (unsigned long long)c->sb.log_size);
		return 0;
	}
	rc = famrt_ns_create(&c->ns, c->e);
	if (!rc)
		rc = famrt_alloc_create(&c->alloc, c->sb.alloc_unit, c->e);
	if (rc)
		return nomem(c, "for the namespace");
	for (uint32_t i = 0; i < c->sb.ndevs; i++) {
		struct famrt_err why;

		c->devs[i] = c->sb.devs[i];
		rc = famrt_alloc_add_device(c->alloc, i,
					    c->devs[i].data_start,
					    c->devs[i].size &
						    ~(c->sb.alloc_unit - 1),
					    c->devs[i].align, &why);
		if (rc == -ENOMEM)
			return nomem(c, "for the allocator");
		if (rc) /* famrt_sb_decode refuses what could cause this */
			return famrt_err_set(c->e, -rc, "fsck: %s", why.msg);
		if (i < c->n)
			check_dev(c, i);
	}
	c->ndevs = c->sb.ndevs;
	rc = walk_log(c);
	if (rc)
		return rc;
	c->s->ndevs = c->ndevs;
	for (uint32_t i = c->n; i < c->ndevs; i++) {
		char u[37];

		famrt_uuid_format(c->devs[i].uuid, u);
		report(c, FAMRT_FSCK_ERROR, "dev-missing",
		       at_dev(i, FAMRT_FSCK_NO_OFFSET),
		       "device %u of the file system (uuid %s, %llu bytes) "
		       "was not given",
		       i, u, (unsigned long long)c->devs[i].size);
	}
	for (uint32_t i = c->ndevs; i < c->n; i++)
		report(c, FAMRT_FSCK_ERROR, "dev-extra",
		       at_dev(i, FAMRT_FSCK_NO_OFFSET),
		       "'%s' was given as device %u, but the file system has "
		       "only %u devices",
		       c->paths[i], i, c->ndevs);
	c->s->files = famrt_ns_nfiles(c->ns);
	c->s->dirs = famrt_ns_ndirs(c->ns);
	famrt_alloc_get_stats(c->alloc, &st);
	c->s->bytes_total = st.size;
	c->s->bytes_free = st.free;
	c->s->bytes_used = st.size - st.free;
	c->s->complete = true;
	if (c->s->errors == 0)
		return cross_check(c);
	return 0;
}

int famrt_fsck(const char *const *paths, uint32_t n,
	       const struct famrt_fsck_opts *o, struct famrt_fsck_summary *s,
	       struct famrt_err *e)
{
	struct fsck *c;
	int rc;

	memset(s, 0, sizeof(*s));
	s->ndevs_given = n;
	if (n < 1 || n > FAMRT_MAX_DEVS) {
		s->operational_error = true;
		return famrt_err_set(e, EINVAL,
				     "fsck: a file system has 1 to %u devices, "
				     "not %u",
				     FAMRT_MAX_DEVS, n);
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		s->operational_error = true;
		return famrt_err_set(e, ENOMEM, "fsck: out of memory");
	}
	c->o = o;
	c->s = s;
	c->paths = paths;
	c->n = n;
	c->e = e;
	c->lock_fd = -1;
	for (uint32_t i = 0; i < FAMRT_MAX_DEVS; i++)
		c->dev[i].fd = -1;
	rc = run(c);
	if (rc)
		s->complete = false;
	if (c->lock_fd >= 0)
		flock(c->lock_fd, LOCK_UN);
	for (uint32_t i = 0; i < n; i++)
		famrt_dev_close(&c->dev[i]);
	famrt_ns_destroy(c->ns);
	famrt_alloc_destroy(c->alloc);
	free(c->ext);
	free(c->ends);
	free(c);
	return rc;
}

int famrt_fsck_exit_code(const struct famrt_fsck_summary *s)
{
	return (s->errors ? 4 : 0) | (s->operational_error ? 8 : 0);
}

const char *famrt_fsck_severity_name(enum famrt_fsck_severity sev)
{
	return sev == FAMRT_FSCK_ERROR ? "error" : "warning";
}

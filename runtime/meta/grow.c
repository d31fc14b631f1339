/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Files created by writing: reservations that grow with the file, then one
 * create entry. See fs.h. The reservation lives only in this process's
 * allocator (the service's), never in the log: if the writer or the service
 * dies before the commit, the space was never used as far as the log says.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "meta/fs.h"

int famrt_fs_reserve(struct famrt_fs *fs, struct famrt_reservation *r,
		     uint64_t bytes, uint32_t *added, struct famrt_err *e)
{
	static const struct famrt_alloc_layout simple = { .kind =
							    FAMRT_LAYOUT_SIMPLE };
	struct famrt_fmap_desc *d;
	int rc;

	*added = 0;
	if (r->n >= FAMRT_FMAP_MAX_EXTENTS)
		return famrt_err_set(e, E2BIG,
				     "the file already has %u extents, the most "
				     "an fmap can hold",
				     FAMRT_FMAP_MAX_EXTENTS);
	d = malloc(sizeof(*d));
	if (!d)
		return famrt_err_set(e, ENOMEM, "out of memory");
	rc = famrt_fs_lock(fs, e);
	if (rc) {
		free(d);
		return rc;
	}
	rc = famrt_alloc_file(fs->alloc, bytes ? bytes : 1, &simple, d, e);
	if (rc)
		goto out;
	if (d->nextents > FAMRT_FMAP_MAX_EXTENTS - r->n) {
		famrt_alloc_release_desc(fs->alloc, d);
		rc = famrt_err_set(e, E2BIG,
				   "growing the file by %llu bytes takes %u "
				   "more extents (free space is fragmented); "
				   "with the %u it has that passes the %u an "
				   "fmap can hold",
				   (unsigned long long)bytes, d->nextents, r->n,
				   FAMRT_FMAP_MAX_EXTENTS);
		goto out;
	}
	for (uint32_t i = 0; i < d->nextents; i++) {
		r->ext[r->n++] = d->extents[i].strips[0];
		r->bytes += d->extents[i].strips[0].len;
	}
	*added = d->nextents;
out:
	famrt_fs_unlock(fs);
	free(d);
	return rc;
}

void famrt_fs_unreserve(struct famrt_fs *fs, struct famrt_reservation *r)
{
	for (uint32_t i = 0; i < r->n; i++)
		famrt_alloc_release(fs->alloc, r->ext[i].devindex,
				    r->ext[i].offset, r->ext[i].len, NULL);
	r->n = 0;
	r->bytes = 0;
}

/* Put r's extents back in the allocator after a failed commit. */
static void remark(struct famrt_fs *fs, const struct famrt_reservation *r)
{
	for (uint32_t i = 0; i < r->n; i++)
		famrt_alloc_mark(fs->alloc, r->ext[i].devindex,
				 r->ext[i].offset, r->ext[i].len, NULL);
}

int famrt_fs_commit(struct famrt_fs *fs, const char *path, uint32_t mode,
		    uint32_t uid, uint32_t gid, uint64_t size,
		    struct famrt_reservation *r, const struct famrt_node **out,
		    struct famrt_err *e)
{
	uint64_t unit = fs->sb.alloc_unit, covered = 0;
	uint64_t sizes[FAMRT_MAX_DEVS], aligns[FAMRT_MAX_DEVS];
	const struct famrt_node *parent, *x;
	struct famrt_fmap_limits lim;
	struct famrt_fmap_error ferr;
	struct famrt_fmap_desc *d = NULL;
	struct famrt_fmap *map = NULL;
	struct famrt_ent_create c;
	uint8_t *msg = NULL, *buf = NULL;
	const char *name;
	size_t nlen, plen = strlen(path);
	ssize_t mlen, len;
	bool released = false;
	int rc;

	if (mode & ~07777u)
		return famrt_err_set(e, EINVAL, "mode 0%o has bits beyond 07777",
				     mode);
	if (!r->n)
		return famrt_err_set(e, EINVAL,
				     "'%s' has no space reserved to commit",
				     path);
	if (size > r->bytes)
		return famrt_err_set(e, EINVAL,
				     "'%s': size %llu is more than the %llu "
				     "bytes reserved",
				     path, (unsigned long long)size,
				     (unsigned long long)r->bytes);
	d = calloc(1, sizeof(*d));
	msg = malloc(FAMRT_FMAP_MSG_MAX);
	buf = malloc(FAMRT_ENTRY_MAX_PAYLOAD);
	if (!d || !msg || !buf) {
		rc = famrt_err_set(e, ENOMEM, "out of memory");
		goto free_out;
	}
	/* The extents the size needs, the last one trimmed to whole units. */
	d->file_type = FAMRT_FMAP_FILE_REG;
	d->ext_type = FAMRT_FMAP_EXT_SIMPLE;
	d->file_size = size;
	for (uint32_t i = 0; i < r->n && (covered < size || !d->nextents);
	     i++) {
		struct famrt_fmap_extent *x0 = &d->extents[d->nextents++];
		uint64_t want = size - covered;

		x0->nstrips = 1;
		x0->strips[0] = r->ext[i];
		if (want < r->ext[i].len) {
			uint64_t t = (want + unit - 1) / unit * unit;

			x0->strips[0].len = t ? t : unit;
		}
		x0->nbytes = x0->strips[0].len;
		covered += x0->strips[0].len;
	}
	rc = famrt_fs_lock(fs, e);
	if (rc)
		goto free_out;
	rc = famrt_ns_prepare(fs->ns, path, plen, &parent, &name, &nlen, &x, e);
	if (rc)
		goto unlock;
	famrt_fs_fmap_limits(fs, &lim, sizes, aligns);
	rc = famrt_fmap_build(d, &lim, &map, &ferr);
	if (rc) {
		rc = famrt_err_set(e, -rc, "the map of '%s' is invalid: %s",
				   path, ferr.message);
		goto unlock;
	}
	mlen = famrt_fmap_encode(map, msg, FAMRT_FMAP_MSG_MAX);
	famrt_fmap_free(map);
	c = (struct famrt_ent_create){ .mode = mode, .uid = uid, .gid = gid,
				       .path = path,
				       .path_len = (uint16_t)plen,
				       .fmap = msg,
				       .fmap_len = (uint32_t)mlen };
	len = famrt_ent_create_encode(&c, buf, FAMRT_ENTRY_MAX_PAYLOAD);
	if (mlen < 0 || len < 0) {
		rc = famrt_err_set(e, EINVAL, "create entry for '%s' is too "
					      "large",
				   path);
		goto unlock;
	}
	/* Replay marks the logged extents again; the rest becomes free. */
	for (uint32_t i = 0; i < r->n; i++)
		famrt_alloc_release(fs->alloc, r->ext[i].devindex,
				    r->ext[i].offset, r->ext[i].len, NULL);
	released = true;
	rc = famrt_fs_append(fs, FAMRT_ENTRY_CREATE, buf, (uint32_t)len, e);
	if (rc)
		goto unlock;
	if (out)
		*out = famrt_ns_child(fs->ns, parent->ino, name, nlen);
	r->n = 0;
	r->bytes = 0;
	released = false;
unlock:
	if (released)
		remark(fs, r);
	famrt_fs_unlock(fs);
free_out:
	free(d);
	free(msg);
	free(buf);
	return rc;
}

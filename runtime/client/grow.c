/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Files created by writing. The service reserves space as the file grows
 * (each request at least doubles what the file has, so 32 extents reach
 * 2^32 allocation units); the bytes are written straight into the devices;
 * famrt_fsync or famrt_close commits the file with its final size in one
 * log entry. Until then nobody else sees it, and if this process dies the
 * service drops the reservation: no file, no lost space.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <famrt/famrt.h>

#include "client/internal.h"
#include "meta/format.h"

int famrt_create_growing(struct famrt *fs, const char *path, mode_t mode,
			 struct famrt_file **out)
{
	struct famrt_growing *g;
	struct famrt_file *f;
	struct famrt_err e;
	int rc;

	*out = NULL;
	if (!fs)
		return famrt_fail(EINVAL, "famrt_create_growing: no connection");
	if (!path || famrt_path_check(path, strlen(path), &e))
		return path ? famrt_fail_err(&e) : famrt_fail(EFAULT, "no path");
	if (mode & ~07777u)
		return famrt_fail(EINVAL, "mode 0%o has bits beyond 07777",
				  (unsigned)mode);
	g = calloc(1, sizeof(*g));
	f = calloc(1, sizeof(*f));
	if (!g || !f || !(g->path = strdup(path))) {
		if (g)
			free(g->path);
		free(g);
		free(f);
		return famrt_fail(ENOMEM, "out of memory");
	}
	pthread_mutex_init(&g->lock, NULL);
	g->owner = getpid();
	g->mode = mode;
	pthread_mutex_lock(&fs->lock);
	rc = famrt_ensure_conn(fs);
	if (!rc) {
		rc = famrt_client_begin(fs->client, path, mode, &g->handle, &e);
		if (rc)
			rc = famrt_fail_err(&e);
	}
	if (!rc)
		fs->open_files++;
	pthread_mutex_unlock(&fs->lock);
	if (rc) {
		pthread_mutex_destroy(&g->lock);
		free(g->path);
		free(g);
		free(f);
		return rc;
	}
	f->fs = fs;
	f->grow = g;
	f->base = fs->base;
	f->writable = true;
	f->noncoherent = fs->noncoherent;
	*out = f;
	return 0;
}

/* Reserve until the file can hold `need` bytes (g->lock held). */
static int grow_to(struct famrt_file *f, uint64_t need)
{
	struct famrt_growing *g = f->grow;
	struct famrt *fs = f->fs;

	while (g->capacity < need) {
		uint64_t want = need - g->capacity;
		struct famrt_fmap_strip x[FAMRT_PROTO_ALLOC_MAX_EXT];
		struct famrt_err e;
		uint32_t n = 0;
		int rc;

		/* Grow geometrically: at least double, at least 2 MiB. */
		if (want < g->capacity)
			want = g->capacity;
		if (want < (2u << 20))
			want = 2u << 20;
		pthread_mutex_lock(&fs->lock);
		if (fs->pid != getpid())
			rc = famrt_fail(EBADF,
					"'%s' is being created by the parent "
					"process; a forked child cannot extend "
					"it",
					g->path);
		else if ((rc = famrt_client_alloc(fs->client, g->handle, want,
						  x, &n, &e)))
			rc = famrt_fail_err(&e);
		pthread_mutex_unlock(&fs->lock);
		if (rc)
			return rc;
		for (uint32_t i = 0; i < n; i++) {
			if (g->n == FAMRT_FMAP_MAX_EXTENTS)
				return famrt_fail(EPROTO,
						  "famrtd gave '%s' more than "
						  "%u extents",
						  g->path,
						  FAMRT_FMAP_MAX_EXTENTS);
			if (!fs->base[x[i].devindex] ||
			    !fs->writable[x[i].devindex])
				return famrt_fail(EACCES,
						  "'%s' got space on device %u, "
						  "which this user may not "
						  "write",
						  g->path, x[i].devindex);
			g->ext[g->n] = x[i];
			g->start[g->n + 1] = g->start[g->n] + x[i].len;
			g->n++;
			g->capacity += x[i].len;
		}
	}
	return 0;
}

/* Only the creating process may touch a file it is creating. */
static int owner_check(const struct famrt_growing *g)
{
	if (g->owner != getpid())
		return famrt_fail(EBADF,
				  "'%s' is being created by process %d; a "
				  "forked child may not write, cut or commit "
				  "it",
				  g->path, (int)g->owner);
	return 0;
}

enum dir { TO_DEV, FROM_DEV, ZERO, FLUSH };

/* Apply op to [off, off+len) of the reserved space (g->lock held). */
static void each_piece(struct famrt_file *f, uint64_t off, uint64_t len,
		       enum dir op, uint8_t *buf)
{
	struct famrt_growing *g = f->grow;
	uint32_t i = 0;

	while (len) {
		uint64_t in, n;
		uint8_t *dev;

		while (g->start[i + 1] <= off)
			i++;
		in = off - g->start[i];
		n = g->ext[i].len - in;
		if (n > len)
			n = len;
		dev = f->base[g->ext[i].devindex] + g->ext[i].offset + in;
		switch (op) {
		case TO_DEV:
			famrt_copy_to_dev(dev, buf, n);
			buf += n;
			break;
		case FROM_DEV:
			memcpy(buf, dev, n);
			buf += n;
			break;
		case ZERO:
			memset(dev, 0, n);
			break;
		case FLUSH:
			famrt_flush_range(dev, n);
			break;
		}
		off += n;
		len -= n;
	}
}

ssize_t famrt_grow_pwrite(struct famrt_file *f, const void *buf, size_t len,
			  uint64_t off)
{
	struct famrt_growing *g = f->grow;
	uint64_t end;
	int rc;

	if (__builtin_add_overflow(off, (uint64_t)len, &end))
		return famrt_fail(EFBIG, "write past 2^64");
	if (!len)
		return 0;
	rc = owner_check(g);
	if (rc)
		return rc;
	pthread_mutex_lock(&g->lock);
	rc = grow_to(f, end);
	if (rc) {
		pthread_mutex_unlock(&g->lock);
		return rc;
	}
	/* Bytes skipped over read as zeros, never as old device contents. */
	if (off > g->size)
		each_piece(f, g->size, off - g->size, ZERO, NULL);
	each_piece(f, off, len, TO_DEV, (uint8_t *)buf);
	if (end > g->size)
		g->size = end;
	pthread_mutex_unlock(&g->lock);
	return (ssize_t)len;
}

ssize_t famrt_grow_pread(struct famrt_file *f, void *buf, size_t len,
			 uint64_t off)
{
	struct famrt_growing *g = f->grow;

	pthread_mutex_lock(&g->lock);
	if (off >= g->size) {
		pthread_mutex_unlock(&g->lock);
		return 0;
	}
	if (len > g->size - off)
		len = g->size - off;
	each_piece(f, off, len, FROM_DEV, buf);
	pthread_mutex_unlock(&g->lock);
	return (ssize_t)len;
}

int famrt_grow_commit(struct famrt_file *f)
{
	struct famrt_growing *g = f->grow;
	struct famrt *fs = f->fs;
	struct famrt_proto_attr a;
	struct famrt_err e;
	uint64_t unit, tail;
	int rc = owner_check(g);

	if (rc)
		return rc;
	pthread_mutex_lock(&g->lock);
	unit = famrt_client_hello(fs->client)->alloc_unit;
	/* The last unit past the end is exposed to mappings: zero it. */
	rc = grow_to(f, g->size ? g->size : 1);
	if (rc)
		goto out;
	tail = (g->size + unit - 1) / unit * unit;
	if (!g->size)
		tail = unit;
	if (tail > g->capacity)
		tail = g->capacity;
	if (tail > g->size)
		each_piece(f, g->size, tail - g->size, ZERO, NULL);
	each_piece(f, 0, tail, FLUSH, NULL);
	pthread_mutex_lock(&fs->lock);
	if (fs->pid != getpid())
		rc = famrt_fail(EBADF, "'%s' is being created by the parent "
				       "process; a forked child cannot commit it",
				g->path);
	else if ((rc = famrt_client_commit(fs->client, g->handle, g->size,
					   g->mode, &a, &e)))
		rc = famrt_fail_err(&e);
	if (!rc) {
		/* From now on an ordinary file. */
		rc = famrt_file_attach(f, g->path);
	}
	pthread_mutex_unlock(&fs->lock);
out:
	pthread_mutex_unlock(&g->lock);
	if (!rc) {
		pthread_mutex_destroy(&g->lock);
		free(g->path);
		free(g);
		f->grow = NULL;
	}
	return rc;
}

void famrt_grow_abort(struct famrt_file *f)
{
	struct famrt_growing *g = f->grow;
	struct famrt *fs = f->fs;
	struct famrt_err e;

	if (!g)
		return;
	pthread_mutex_lock(&fs->lock);
	if (fs->pid == getpid())
		famrt_client_abort(fs->client, g->handle, &e);
	pthread_mutex_unlock(&fs->lock);
	pthread_mutex_destroy(&g->lock);
	free(g->path);
	free(g);
	f->grow = NULL;
}

int famrt_ftruncate(struct famrt_file *f, uint64_t size)
{
	struct famrt_growing *g;
	int rc = 0;

	if (!f)
		return famrt_fail(EBADF, "no file");
	g = f->grow;
	if (!g) {
		if (size == f->size)
			return 0;
		return famrt_fail(EPERM,
				  "'%s' has %llu bytes and famrt files never "
				  "change size once written",
				  f->ino->path, (unsigned long long)f->size);
	}
	rc = owner_check(g);
	if (rc)
		return rc;
	pthread_mutex_lock(&g->lock);
	if (size > g->size) {
		rc = grow_to(f, size);
		if (!rc)
			each_piece(f, g->size, size - g->size, ZERO, NULL);
	}
	if (!rc)
		g->size = size;
	pthread_mutex_unlock(&g->lock);
	return rc;
}

int famrt_fchmod(struct famrt_file *f, mode_t mode)
{
	if (!f)
		return famrt_fail(EBADF, "no file");
	if (mode & ~07777u)
		return famrt_fail(EINVAL, "mode 0%o has bits beyond 07777",
				  (unsigned)mode);
	if (!f->grow) {
		if ((f->ino->attr.mode & 07777) == mode)
			return 0;
		return famrt_chmod(f->fs, f->ino->path, mode);
	}
	pthread_mutex_lock(&f->grow->lock);
	f->grow->mode = mode;
	pthread_mutex_unlock(&f->grow->lock);
	return 0;
}

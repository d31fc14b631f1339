/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Directories: opendir/readdir and friends, getdents64, chdir/getcwd.
 * A famrt DIR is our own structure, told apart from glibc's by a magic
 * number where glibc keeps the descriptor (never that large).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload/shim.h"

#define DIR_MAGIC 0x46414d52 /* "FAMR", never a descriptor number */

struct shim_dir {
	int magic;
	int fd;
	struct dirent64 ent;
};

static struct shim_dir *ours(DIR *d)
{
	struct shim_dir *s = (struct shim_dir *)d;

	return s && s->magic == DIR_MAGIC ? s : NULL;
}

void shim_dir_rewind(struct shim_ofd *o)
{
	if (o->dir) {
		shim_busy++;
		famrt_closedir(o->dir);
		shim_busy--;
	}
	o->dir = NULL;
	o->dir_index = 0;
	o->have_held = false;
}

/*
 * The next entry of a famrt directory (o->lock held): "." and "..", then
 * the listing. 1 with *e filled, 0 at the end, -errno.
 */
static int next_ent(struct shim_ofd *o, struct famrt_dirent *e)
{
	struct famrt *fs;
	int rc;

	if (o->dir_index < 2) {
		memset(e, 0, sizeof(*e));
		strcpy(e->name, o->dir_index ? ".." : ".");
		e->mode = S_IFDIR;
		e->ino = o->dir_index ? 1 : 1; /* the shim has no parent ino */
		o->dir_index++;
		return 1;
	}
	if (o->have_held) {
		*e = o->held;
		o->have_held = false;
		o->dir_index++;
		return 1;
	}
	if (!o->dir) {
		fs = shim_fs(o->m);
		if (!fs)
			return -errno;
		shim_busy++;
		rc = famrt_opendir(fs, o->path, &o->dir);
		shim_busy--;
		if (rc)
			return rc;
	}
	shim_busy++;
	rc = famrt_readdir(o->dir, e);
	shim_busy--;
	if (rc == 1)
		o->dir_index++;
	return rc;
}

static unsigned char dtype(uint32_t mode)
{
	return S_ISDIR(mode) ? DT_DIR : S_ISREG(mode) ? DT_REG : DT_UNKNOWN;
}

SHIM_EXPORT ssize_t getdents64(int fd, void *buf, size_t n)
{
	struct shim_ofd *o = shim_fd_get(fd);
	struct famrt_dirent e;
	size_t used = 0;
	int rc = 0;

	if (!o)
		return REAL(getdents64)(fd, buf, n);
	if (!o->is_dir)
		return shim_err(-ENOTDIR);
	if (shim_ofd_lock(o))
		return shim_err(-EDEADLK);
	while ((rc = next_ent(o, &e)) == 1) {
		size_t nl = strlen(e.name);
		size_t rl = (offsetof(struct dirent64, d_name) + nl + 1 + 7) &
			    ~(size_t)7;
		struct dirent64 *d = (struct dirent64 *)((char *)buf + used);

		if (used + rl > n) {
			/* Give it back: it goes in the next call. */
			o->held = e;
			o->have_held = true;
			o->dir_index--;
			if (!used)
				rc = -EINVAL;
			break;
		}
		d->d_ino = e.ino;
		d->d_off = (off64_t)o->dir_index;
		d->d_reclen = (unsigned short)rl;
		d->d_type = dtype(e.mode);
		memcpy(d->d_name, e.name, nl + 1);
		used += rl;
	}
	shim_ofd_unlock(o);
	if (rc < 0)
		return shim_err(rc);
	return (ssize_t)used;
}

static DIR *dir_for_fd(int fd)
{
	struct shim_dir *s = calloc(1, sizeof(*s));

	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->magic = DIR_MAGIC;
	s->fd = fd;
	return (DIR *)s;
}

SHIM_EXPORT DIR *opendir(const char *path)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;
	DIR *d;
	int fd;

	if (!shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf))
		return REAL(opendir)(real);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	d = dir_for_fd(fd);
	if (!d)
		close(fd);
	return d;
}

SHIM_EXPORT DIR *fdopendir(int fd)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(fdopendir)(fd);
	if (!o->is_dir) {
		errno = ENOTDIR;
		return NULL;
	}
	return dir_for_fd(fd);
}

static struct dirent64 *read_one(struct shim_dir *s)
{
	struct shim_ofd *o = shim_fd_get(s->fd);
	struct famrt_dirent e;
	int rc, saved = errno;

	if (!o) {
		errno = EBADF;
		return NULL;
	}
	if (shim_ofd_lock(o)) {
		errno = EDEADLK;
		return NULL;
	}
	rc = next_ent(o, &e);
	/* readdir leaves errno alone unless it fails: callers tell the end
	 * of a listing from an error that way. */
	errno = saved;
	if (rc == 1) {
		s->ent.d_ino = e.ino;
		s->ent.d_off = (off64_t)o->dir_index;
		s->ent.d_reclen = sizeof(s->ent);
		s->ent.d_type = dtype(e.mode);
		snprintf(s->ent.d_name, sizeof(s->ent.d_name), "%s", e.name);
	}
	shim_ofd_unlock(o);
	if (rc < 0)
		errno = -rc;
	return rc == 1 ? &s->ent : NULL;
}

/* struct dirent and struct dirent64 have one layout on 64-bit Linux. */
_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "dirent");

SHIM_EXPORT struct dirent *readdir(DIR *d)
{
	struct shim_dir *s = ours(d);

	if (!s)
		return REAL(readdir)(d);
	return (struct dirent *)read_one(s);
}

SHIM_EXPORT struct dirent64 *readdir64(DIR *d)
{
	struct shim_dir *s = ours(d);

	if (!s)
		return REAL(readdir64)(d);
	return read_one(s);
}

SHIM_EXPORT int readdir_r(DIR *d, struct dirent *ent, struct dirent **res)
{
	struct shim_dir *s = ours(d);
	struct dirent64 *e;

	if (!s) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		return REAL(readdir_r)(d, ent, res);
#pragma GCC diagnostic pop
	}
	errno = 0;
	e = read_one(s);
	if (!e) {
		*res = NULL;
		return errno;
	}
	memcpy(ent, e, sizeof(*e));
	*res = ent;
	return 0;
}

SHIM_EXPORT int readdir64_r(DIR *d, struct dirent64 *ent,
			    struct dirent64 **res)
{
	struct shim_dir *s = ours(d);
	struct dirent64 *e;

	if (!s) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		return REAL(readdir64_r)(d, ent, res);
#pragma GCC diagnostic pop
	}
	errno = 0;
	e = read_one(s);
	if (!e) {
		*res = NULL;
		return errno;
	}
	*ent = *e;
	*res = ent;
	return 0;
}

SHIM_EXPORT int closedir(DIR *d)
{
	struct shim_dir *s = ours(d);
	int rc;

	if (!s)
		return REAL(closedir)(d);
	rc = close(s->fd);
	s->magic = 0;
	free(s);
	return rc;
}

SHIM_EXPORT int dirfd(DIR *d)
{
	struct shim_dir *s = ours(d);

	return s ? s->fd : REAL(dirfd)(d);
}

SHIM_EXPORT void rewinddir(DIR *d)
{
	struct shim_dir *s = ours(d);
	struct shim_ofd *o;

	if (!s) {
		REAL(rewinddir)(d);
		return;
	}
	o = shim_fd_get(s->fd);
	if (o && !shim_ofd_lock(o)) {
		shim_dir_rewind(o);
		shim_ofd_unlock(o);
	}
}

SHIM_EXPORT long telldir(DIR *d)
{
	struct shim_dir *s = ours(d);
	struct shim_ofd *o;

	if (!s)
		return REAL(telldir)(d);
	o = shim_fd_get(s->fd);
	return o ? (long)o->dir_index : -1;
}

SHIM_EXPORT void seekdir(DIR *d, long pos)
{
	struct shim_dir *s = ours(d);
	struct shim_ofd *o;
	struct famrt_dirent e;

	if (!s) {
		REAL(seekdir)(d, pos);
		return;
	}
	o = shim_fd_get(s->fd);
	if (!o || pos < 0 || shim_ofd_lock(o))
		return;
	shim_dir_rewind(o);
	while (o->dir_index < (uint64_t)pos && next_ent(o, &e) == 1)
		;
	shim_ofd_unlock(o);
}

/* ---- the current directory ---- */

SHIM_EXPORT int chdir(const char *path)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;
	struct famrt_stat st;
	struct famrt *fs;
	int rc;

	if (!shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf)) {
		rc = REAL(chdir)(real);
		if (!rc)
			shim_vcwd_mount = NULL;
		return rc;
	}
	fs = shim_fs(m);
	if (!fs)
		return -1;
	shim_busy++;
	rc = famrt_stat(fs, fspath, &st);
	shim_busy--;
	if (rc)
		return shim_err(rc);
	if (!S_ISDIR(st.mode))
		return shim_err(-ENOTDIR);
	/* The kernel's cwd stays where it is; famrt paths are relative to
	 * this one from now on. */
	if (snprintf(shim_vcwd, sizeof(shim_vcwd), "%s%s", m->prefix,
		     strcmp(fspath, "/") ? fspath : "") >=
	    (int)sizeof(shim_vcwd))
		return shim_err(-ENAMETOOLONG);
	shim_vcwd_mount = m;
	return 0;
}

SHIM_EXPORT int fchdir(int fd)
{
	struct shim_ofd *o = shim_fd_get(fd);
	int rc;

	if (!o) {
		rc = REAL(fchdir)(fd);
		if (!rc)
			shim_vcwd_mount = NULL;
		return rc;
	}
	if (!o->is_dir)
		return shim_err(-ENOTDIR);
	if (snprintf(shim_vcwd, sizeof(shim_vcwd), "%s%s", o->m->prefix,
		     strcmp(o->path, "/") ? o->path : "") >=
	    (int)sizeof(shim_vcwd))
		return shim_err(-ENAMETOOLONG);
	shim_vcwd_mount = o->m;
	return 0;
}

SHIM_EXPORT char *getcwd(char *buf, size_t size)
{
	size_t n;

	if (!shim_vcwd_mount || shim_busy)
		return REAL(getcwd)(buf, size);
	n = strlen(shim_vcwd) + 1;
	if (!buf) {
		buf = malloc(size > n ? size : n);
		if (!buf)
			return NULL;
		size = size > n ? size : n;
	}
	if (size < n) {
		errno = ERANGE;
		return NULL;
	}
	memcpy(buf, shim_vcwd, n);
	return buf;
}

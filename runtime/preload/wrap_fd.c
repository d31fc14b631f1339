/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shim's wrappers for descriptors and paths: open, read, write, seek,
 * stat, fcntl, dup, mmap, sync, and the namespace calls. Each first asks
 * whether its argument is a famrt file; if not, it calls libc at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "client/internal.h"
#include "dax/dax.h"
#include "preload/shim.h"

/* Declared by glibc only under _FORTIFY_SOURCE or not at all. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off,
		      size_t buflen);
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
	       int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
		 int flags);

#define EXPORT SHIM_EXPORT

/*
 * Lock an ofd and make sure its famrt file is open. -EDEADLK (errno set)
 * from a signal handler that interrupted this thread inside the shim on
 * the same open file.
 */
static int ofd_enter(struct shim_ofd *o)
{
	int rc;

	if (shim_ofd_lock(o)) {
		errno = EDEADLK;
		return -EDEADLK;
	}
	rc = shim_ofd_ready(o);
	if (rc) {
		shim_ofd_unlock(o);
		errno = -rc;
		return rc;
	}
	return 0;
}

static mode_t current_umask(void)
{
	mode_t m = umask(022);

	umask(m);
	return m;
}

/* ---- open ---- */

static int famrt_openat_path(struct shim_mount *m, const char *fspath,
			     int flags, mode_t mode)
{
	struct famrt *fs = shim_fs(m);
	struct famrt_file *f = NULL;
	struct famrt_stat st;
	struct shim_ofd *o;
	int acc = flags & O_ACCMODE, kfd, rc;
	bool is_dir = false, created = false;

	if (!fs)
		return -1;
	shim_busy++;
	rc = famrt_stat(fs, fspath, &st);
	if (!rc) {
		if ((flags & O_CREAT) && (flags & O_EXCL)) {
			rc = -EEXIST;
		} else if (S_ISDIR(st.mode)) {
			if (acc != O_RDONLY)
				rc = -EISDIR;
			is_dir = true;
		} else if (flags & O_DIRECTORY) {
			rc = -ENOTDIR;
		} else if ((flags & O_TRUNC) && acc != O_RDONLY && st.size) {
			shim_warn("famrt preload: %s%s: famrt files cannot be "
				  "truncated or overwritten once written",
				  m->prefix, fspath);
			rc = -EPERM;
		} else {
			rc = famrt_open(fs, fspath,
					acc == O_RDONLY ? O_RDONLY : O_RDWR,
					&f);
		}
	} else if (rc == -ENOENT && (flags & O_CREAT)) {
		rc = famrt_create_growing(fs, fspath,
					  mode & 07777 & ~current_umask(), &f);
		created = !rc;
	}
	shim_busy--;
	if (rc)
		return shim_err(rc);
	o = shim_ofd_new(m, fspath);
	kfd = o ? shim_kfd_new(o, flags & O_CLOEXEC) : -1;
	if (kfd < 0) {
		int err = o ? errno : ENOMEM;

		free(o);
		if (f) {
			shim_busy++;
			/* No file, rather than an empty one. */
			if (created)
				famrt_grow_abort(f);
			famrt_close(f);
			shim_busy--;
		}
		return shim_err(-err);
	}
	o->f = f;
	o->is_dir = is_dir;
	o->creator = created ? shim_mypid : 0;
	o->flags = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
	shim_fd_set(kfd, o);
	if (kfd <= 2)
		shim_std_after(kfd);
	return kfd;
}

static int open_common(int dirfd, const char *path, int flags, mode_t mode,
		       bool at)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;

	if (shim_claim(dirfd, path, &m, fspath, &real, realbuf))
		return famrt_openat_path(m, fspath, flags, mode);
	if (at)
		return REAL(openat)(dirfd, real, flags, mode);
	return REAL(open)(real, flags, mode);
}

static mode_t va_mode(int flags, va_list ap)
{
	if (flags & (O_CREAT | __O_TMPFILE))
		return (mode_t)va_arg(ap, int);
	return 0;
}

EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	return open_common(AT_FDCWD, path, flags, mode, false);
}

EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	return open_common(AT_FDCWD, path, flags | O_LARGEFILE, mode, false);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	return open_common(dirfd, path, flags, mode, true);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	return open_common(dirfd, path, flags | O_LARGEFILE, mode, true);
}

EXPORT int __open_2(const char *path, int flags)
{
	return open_common(AT_FDCWD, path, flags, 0, false);
}

EXPORT int __open64_2(const char *path, int flags)
{
	return open_common(AT_FDCWD, path, flags | O_LARGEFILE, 0, false);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return open_common(dirfd, path, flags, 0, true);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	return open_common(dirfd, path, flags | O_LARGEFILE, 0, true);
}

EXPORT int creat(const char *path, mode_t mode)
{
	return open_common(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode,
			   false);
}

EXPORT int creat64(const char *path, mode_t mode)
{
	return open_common(AT_FDCWD, path,
			   O_CREAT | O_WRONLY | O_TRUNC | O_LARGEFILE, mode,
			   false);
}

/* ---- close, dup, fcntl ---- */

EXPORT int close(int fd)
{
	struct shim_ofd *o = shim_fd_get(fd);
	int rc, frc;

	/* A vfork child must leave the parent's table alone. */
	if (!o || shim_vforked())
		return REAL(close)(fd);
	o = shim_fd_take(fd);
	rc = REAL(close)(fd);
	if (!o)
		return rc;
	frc = shim_ofd_unref(o);
	if (frc)
		return shim_err(frc);
	return rc;
}

EXPORT int dup(int fd)
{
	struct shim_ofd *o = shim_fd_get(fd);
	int nfd = REAL(dup)(fd);

	if (o && nfd >= 0 && !shim_vforked()) {
		shim_fd_set(nfd, o);
		if (nfd <= 2)
			shim_std_after(nfd);
	}
	return nfd;
}

static int dup_common(int fd, int nfd, int flags, bool three)
{
	struct shim_ofd *o = shim_fd_get(fd);
	/* stdin/stdout/stderr change file: stdio follows (cheap test). */
	bool std = nfd >= 0 && nfd <= 2 && fd != nfd &&
		   (o || (__atomic_load_n(&shim_std_active, __ATOMIC_RELAXED) &
			  (1 << nfd)));
	int rc;

	if ((o || shim_fd_get(nfd)) && shim_vforked()) {
		/* A vfork child: the table is its parent's. The new program
		 * finds its famrt files by their descriptors' identity. */
		if (o && nfd <= 2 && fd != nfd)
			shim_hand_over_early(o);
		return three ? REAL(dup3)(fd, nfd, flags) : REAL(dup2)(fd, nfd);
	}
	if (std)
		shim_std_before(nfd, o != NULL);
	rc = three ? REAL(dup3)(fd, nfd, flags) : REAL(dup2)(fd, nfd);
	if (rc < 0 || fd == nfd)
		return rc;
	if (o) {
		shim_fd_set(nfd, o);
	} else {
		struct shim_ofd *old = shim_fd_take(nfd);

		if (old)
			shim_ofd_unref(old);
	}
	if (std)
		shim_std_after(nfd);
	return rc;
}

EXPORT int dup2(int fd, int nfd)
{
	return dup_common(fd, nfd, 0, false);
}

EXPORT int dup3(int fd, int nfd, int flags)
{
	return dup_common(fd, nfd, flags, true);
}

static int fcntl_common(int fd, int cmd, void *arg, bool is64)
{
	struct shim_ofd *o = shim_fd_get(fd);
	int rc;

	if (!o)
		return is64 ? REAL(fcntl64)(fd, cmd, arg) :
			      REAL(fcntl)(fd, cmd, arg);
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		rc = REAL(fcntl)(fd, cmd, arg);
		if (rc >= 0 && !shim_vforked()) {
			shim_fd_set(rc, o);
			if (rc <= 2)
				shim_std_after(rc);
		}
		return rc;
	case F_GETFL:
		return o->flags;
	case F_SETFL:
		rc = REAL(fcntl)(fd, cmd, arg);
		if (rc == 0) {
			int keep = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT |
				   O_NOATIME;

			if (shim_ofd_lock(o))
				return shim_err(-EDEADLK);
			o->flags = (o->flags & ~keep) |
				   ((int)(intptr_t)arg & keep);
			shim_ofd_unlock(o);
		}
		return rc;
	default:
		/* Descriptor flags and locks: the kernel descriptor does. */
		return REAL(fcntl)(fd, cmd, arg);
	}
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(fd, cmd, arg, false);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(fd, cmd, arg, true);
}

/* ---- read and write ---- */

/* The famrt paths are out of line: see shim_fd_get. */
static __attribute__((noinline)) ssize_t
f_read(struct shim_ofd *o, void *buf, size_t n, int64_t off, bool use_pos)
{
	ssize_t rc;

	if (ofd_enter(o))
		return -1;
	if (o->is_dir) {
		rc = -EISDIR;
	} else if ((o->flags & O_ACCMODE) == O_WRONLY) {
		rc = -EBADF;
	} else if (!use_pos && off < 0) {
		rc = -EINVAL;
	} else {
		rc = famrt_pread(o->f, buf, n,
				 use_pos ? o->pos : (uint64_t)off);
		if (rc > 0 && use_pos)
			o->pos += (uint64_t)rc;
	}
	shim_ofd_unlock(o);
	return rc < 0 ? shim_err((int)rc) : rc;
}

static __attribute__((noinline)) ssize_t
f_write(struct shim_ofd *o, const void *buf, size_t n, int64_t off,
	bool use_pos)
{
	ssize_t rc;

	if (ofd_enter(o))
		return -1;
	if (o->is_dir) {
		rc = -EISDIR;
	} else if ((o->flags & O_ACCMODE) == O_RDONLY) {
		rc = -EBADF;
	} else if (!use_pos && off < 0) {
		rc = -EINVAL;
	} else if (!famrt_file_fmap(o->f) && o->creator != shim_mypid) {
		/* Forked from the process creating it: its writes would land
		 * in space whose size only the creator knows. */
		if (!o->warned)
			shim_warn("famrt preload: %s%s is being created by "
				  "writing in process %d; other processes "
				  "cannot write it before it is committed",
				  o->m->prefix, o->path, (int)o->creator);
		o->warned = true;
		rc = -EBADF;
	} else {
		uint64_t at = use_pos ? o->pos : (uint64_t)off;

		if (use_pos && (o->flags & O_APPEND))
			at = famrt_file_size(o->f);
		shim_busy++;
		rc = famrt_pwrite(o->f, buf, n, at);
		shim_busy--;
		if (rc > 0 && use_pos)
			o->pos = at + (uint64_t)rc;
		if (rc == -EFBIG)
			/* Like a full device: the file cannot grow. */
			rc = -ENOSPC;
	}
	shim_ofd_unlock(o);
	return rc < 0 ? shim_err((int)rc) : rc;
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(read)(fd, buf, n);
	return f_read(o, buf, n, 0, true);
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (n > buflen)
		abort(); /* what glibc's own check does */
	if (!o)
		return REAL(read)(fd, buf, n);
	return f_read(o, buf, n, 0, true);
}

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(pread)(fd, buf, n, off);
	return f_read(o, buf, n, off, false);
}

EXPORT ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(pread64)(fd, buf, n, off);
	return f_read(o, buf, n, off, false);
}

EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off,
			   size_t buflen)
{
	if (n > buflen)
		abort();
	return pread(fd, buf, n, off);
}

EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off,
			     size_t buflen)
{
	if (n > buflen)
		abort();
	return pread64(fd, buf, n, off);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(write)(fd, buf, n);
	return f_write(o, buf, n, 0, true);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(pwrite)(fd, buf, n, off);
	return f_write(o, buf, n, off, false);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(pwrite64)(fd, buf, n, off);
	return f_write(o, buf, n, off, false);
}

/* Vectored forms: one iovec at a time, stopping at a short transfer. */
static __attribute__((noinline)) ssize_t
f_readv(struct shim_ofd *o, const struct iovec *iov, int cnt, int64_t off,
	bool use_pos)
{
	ssize_t total = 0;

	if (cnt < 0 || cnt > IOV_MAX)
		return shim_err(-EINVAL);
	for (int i = 0; i < cnt; i++) {
		ssize_t n = f_read(o, iov[i].iov_base, iov[i].iov_len,
				   off + total, use_pos);

		if (n < 0)
			return total ? total : -1;
		total += n;
		if ((size_t)n < iov[i].iov_len)
			break;
	}
	return total;
}

static __attribute__((noinline)) ssize_t
f_writev(struct shim_ofd *o, const struct iovec *iov, int cnt, int64_t off,
	 bool use_pos)
{
	ssize_t total = 0;

	if (cnt < 0 || cnt > IOV_MAX)
		return shim_err(-EINVAL);
	for (int i = 0; i < cnt; i++) {
		ssize_t n;

		if (!iov[i].iov_len)
			continue;
		n = f_write(o, iov[i].iov_base, iov[i].iov_len, off + total,
			    use_pos);
		if (n < 0)
			return total ? total : -1;
		total += n;
		if ((size_t)n < iov[i].iov_len)
			break;
	}
	return total;
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(readv)(fd, iov, cnt);
	return f_readv(o, iov, cnt, 0, true);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(writev)(fd, iov, cnt);
	return f_writev(o, iov, cnt, 0, true);
}

EXPORT ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(preadv)(fd, iov, cnt, off);
	return f_readv(o, iov, cnt, off, false);
}

EXPORT ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(preadv64)(fd, iov, cnt, off);
	return f_readv(o, iov, cnt, off, false);
}

EXPORT ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off,
		       int flags)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(preadv2)(fd, iov, cnt, off, flags);
	return f_readv(o, iov, cnt, off, off == -1);
}

EXPORT ssize_t preadv64v2(int fd, const struct iovec *iov, int cnt,
			  off64_t off, int flags)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(preadv64v2)(fd, iov, cnt, off, flags);
	return f_readv(o, iov, cnt, off, off == -1);
}

EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(pwritev)(fd, iov, cnt, off);
	return f_writev(o, iov, cnt, off, false);
}

EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int cnt,
			 off64_t off)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(pwritev64)(fd, iov, cnt, off);
	return f_writev(o, iov, cnt, off, false);
}

EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off,
			int flags)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(pwritev2)(fd, iov, cnt, off, flags);
	return f_writev(o, iov, cnt, off, off == -1);
}

EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt,
			   off64_t off, int flags)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(pwritev64v2)(fd, iov, cnt, off, flags);
	return f_writev(o, iov, cnt, off, off == -1);
}

/* ---- seek ---- */

static __attribute__((noinline)) off64_t
f_lseek(struct shim_ofd *o, off64_t off, int whence)
{
	int64_t base, rc;

	if (ofd_enter(o))
		return -1;
	if (o->is_dir) {
		/* Only a rewind makes sense for a directory. */
		if (whence == SEEK_SET && off == 0) {
			shim_dir_rewind(o);
			rc = 0;
		} else {
			rc = -EINVAL;
		}
		shim_ofd_unlock(o);
		return rc < 0 ? shim_err((int)rc) : rc;
	}
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)o->pos;
		break;
	case SEEK_END:
		base = (int64_t)famrt_file_size(o->f);
		break;
	case SEEK_DATA:
		base = off < (off64_t)famrt_file_size(o->f) ? 0 : -1;
		if (base < 0) {
			shim_ofd_unlock(o);
			return shim_err(-ENXIO);
		}
		base = 0;
		break;
	case SEEK_HOLE:
		if (off >= (off64_t)famrt_file_size(o->f)) {
			shim_ofd_unlock(o);
			return shim_err(-ENXIO);
		}
		off = 0;
		base = (int64_t)famrt_file_size(o->f);
		break;
	default:
		shim_ofd_unlock(o);
		return shim_err(-EINVAL);
	}
	if ((off < 0 && base + off < 0) || (off > 0 && base > INT64_MAX - off))
		rc = -EINVAL;
	else
		rc = base + off;
	if (rc >= 0)
		o->pos = (uint64_t)rc;
	shim_ofd_unlock(o);
	return rc < 0 ? shim_err((int)rc) : rc;
}

EXPORT off_t lseek(int fd, off_t off, int whence)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(lseek)(fd, off, whence);
	return f_lseek(o, off, whence);
}

EXPORT off64_t lseek64(int fd, off64_t off, int whence)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(lseek64)(fd, off, whence);
	return f_lseek(o, off, whence);
}

/* ---- stat ---- */

static int ofd_stat(struct shim_ofd *o, struct stat *st)
{
	struct famrt_stat fst;
	struct famrt *fs;
	int rc;

	if (ofd_enter(o))
		return -1;
	shim_busy++;
	if (o->f) {
		rc = famrt_fstat(o->f, &fst);
	} else {
		fs = shim_fs(o->m);
		rc = fs ? famrt_stat(fs, o->path, &fst) : -errno;
	}
	shim_busy--;
	shim_ofd_unlock(o);
	if (rc)
		return shim_err(rc);
	shim_stat_fill(o->m, &fst, st);
	return 0;
}

static int path_stat(struct shim_mount *m, const char *fspath, struct stat *st)
{
	struct famrt *fs = shim_fs(m);
	struct famrt_stat fst;
	int rc;

	if (!fs)
		return -1;
	shim_busy++;
	rc = famrt_stat(fs, fspath, &fst);
	shim_busy--;
	if (rc == -ENOENT) {
		/* Not committed yet, but this process is creating it. */
		struct shim_ofd *o = shim_growing_at(m, fspath);

		if (o)
			return ofd_stat(o, st);
	}
	if (rc)
		return shim_err(rc);
	shim_stat_fill(m, &fst, st);
	return 0;
}

/* stat-family front door: dirfd/path/flags as fstatat takes them. */
static int stat_common(int dirfd, const char *path, struct stat *st,
		       int flags, int *handled, const char **real,
		       char *realbuf)
{
	char fspath[PATH_MAX];
	struct shim_mount *m;

	*handled = 1;
	*real = path;
	if (path && !*path && (flags & AT_EMPTY_PATH)) {
		struct shim_ofd *o = shim_fd_get(dirfd);

		if (o)
			return ofd_stat(o, st);
		*handled = 0;
		return 0;
	}
	if (shim_claim(dirfd, path, &m, fspath, real, realbuf))
		return path_stat(m, fspath, st);
	*handled = 0;
	return 0;
}

#define STAT_VARS                                                            \
	char realbuf_[PATH_MAX];                                             \
	const char *real_;                                                   \
	int h_, rc_

EXPORT int stat(const char *path, struct stat *st)
{
	STAT_VARS = stat_common(AT_FDCWD, path, st, 0, &h_, &real_, realbuf_);

	return h_ ? rc_ : REAL(stat)(real_, st);
}

EXPORT int stat64(const char *path, struct stat64 *st)
{
	STAT_VARS = stat_common(AT_FDCWD, path, (struct stat *)st, 0, &h_, &real_, realbuf_);

	return h_ ? rc_ : REAL(stat64)(real_, st);
}

EXPORT int lstat(const char *path, struct stat *st)
{
	STAT_VARS = stat_common(AT_FDCWD, path, st, 0, &h_, &real_, realbuf_);

	return h_ ? rc_ : REAL(lstat)(real_, st);
}

EXPORT int lstat64(const char *path, struct stat64 *st)
{
	STAT_VARS = stat_common(AT_FDCWD, path, (struct stat *)st, 0, &h_, &real_, realbuf_);

	return h_ ? rc_ : REAL(lstat64)(real_, st);
}

EXPORT int fstat(int fd, struct stat *st)
{
	struct shim_ofd *o = shim_fd_get(fd);

	return o ? ofd_stat(o, st) : REAL(fstat)(fd, st);
}

EXPORT int fstat64(int fd, struct stat64 *st)
{
	struct shim_ofd *o = shim_fd_get(fd);

	return o ? ofd_stat(o, (struct stat *)st) : REAL(fstat64)(fd, st);
}

EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	STAT_VARS = stat_common(dirfd, path, st, flags, &h_, &real_, realbuf_);

	return h_ ? rc_ : REAL(fstatat)(dirfd, real_, st, flags);
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st,
		     int flags)
{
	STAT_VARS = stat_common(dirfd, path, (struct stat *)st, flags, &h_, &real_, realbuf_);

	return h_ ? rc_ : REAL(fstatat64)(dirfd, real_, st, flags);
}

EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	STAT_VARS = stat_common(AT_FDCWD, path, st, 0, &h_, &real_, realbuf_);

	return h_ ? rc_ : REAL(__xstat)(ver, real_, st);
}

EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
	STAT_VARS = stat_common(AT_FDCWD, path, (struct stat *)st, 0, &h_, &real_, realbuf_);

	return h_ ? rc_ : REAL(__xstat64)(ver, real_, st);
}

EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	STAT_VARS = stat_common(AT_FDCWD, path, st, 0, &h_, &real_, realbuf_);

	return h_ ? rc_ : REAL(__lxstat)(ver, real_, st);
}

EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	STAT_VARS = stat_common(AT_FDCWD, path, (struct stat *)st, 0, &h_, &real_, realbuf_);

	return h_ ? rc_ : REAL(__lxstat64)(ver, real_, st);
}

EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	struct shim_ofd *o = shim_fd_get(fd);

	return o ? ofd_stat(o, st) : REAL(__fxstat)(ver, fd, st);
}

EXPORT int __fxstat64(int ver, int fd, struct stat64 *st)
{
	struct shim_ofd *o = shim_fd_get(fd);

	return o ? ofd_stat(o, (struct stat *)st) :
		   REAL(__fxstat64)(ver, fd, st);
}

EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
		      int flags)
{
	STAT_VARS = stat_common(dirfd, path, st, flags, &h_, &real_, realbuf_);

	return h_ ? rc_ : REAL(__fxstatat)(ver, dirfd, real_, st, flags);
}

EXPORT int __fxstatat64(int ver, int dirfd, const char *path,
			struct stat64 *st, int flags)
{
	STAT_VARS = stat_common(dirfd, path, (struct stat *)st, flags, &h_, &real_, realbuf_);

	return h_ ? rc_ : REAL(__fxstatat64)(ver, dirfd, real_, st, flags);
}

EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask,
		 struct statx *sx)
{
	struct stat st;
	STAT_VARS = stat_common(dirfd, path, &st, flags, &h_, &real_, realbuf_);

	if (!h_)
		return REAL(statx)(dirfd, real_, flags, mask, sx);
	if (rc_)
		return rc_;
	memset(sx, 0, sizeof(*sx));
	sx->stx_mask = STATX_BASIC_STATS;
	sx->stx_blksize = (uint32_t)st.st_blksize;
	sx->stx_nlink = (uint32_t)st.st_nlink;
	sx->stx_uid = st.st_uid;
	sx->stx_gid = st.st_gid;
	sx->stx_mode = (uint16_t)st.st_mode;
	sx->stx_ino = st.st_ino;
	sx->stx_size = (uint64_t)st.st_size;
	sx->stx_blocks = (uint64_t)st.st_blocks;
	sx->stx_atime.tv_sec = st.st_atim.tv_sec;
	sx->stx_atime.tv_nsec = (uint32_t)st.st_atim.tv_nsec;
	sx->stx_mtime = sx->stx_atime;
	sx->stx_ctime = sx->stx_atime;
	sx->stx_dev_major = major(st.st_dev);
	sx->stx_dev_minor = minor(st.st_dev);
	return 0;
}

/* access(2) as the caller would get it (famrtd enforces it anyway). */
static int access_common(int dirfd, const char *path, int mode, int *handled)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;
	struct stat st;
	unsigned bits;
	uid_t uid;

	*handled = 0;
	if (!shim_claim(dirfd, path, &m, fspath, &real, realbuf))
		return 0;
	*handled = 1;
	if (path_stat(m, fspath, &st))
		return -1;
	if (mode == F_OK)
		return 0;
	uid = geteuid();
	if (uid == 0) {
		if ((mode & X_OK) && !S_ISDIR(st.st_mode) &&
		    !(st.st_mode & 0111))
			return shim_err(-EACCES);
		return 0;
	}
	if (uid == st.st_uid)
		bits = (st.st_mode >> 6) & 7;
	else if (getegid() == st.st_gid)
		bits = (st.st_mode >> 3) & 7;
	else
		bits = st.st_mode & 7;
	if ((bits & (unsigned)mode) != (unsigned)mode)
		return shim_err(-EACCES);
	return 0;
}

EXPORT int access(const char *path, int mode)
{
	int h, rc = access_common(AT_FDCWD, path, mode, &h);

	return h ? rc : REAL(access)(path, mode);
}

EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	int h, rc = access_common(dirfd, path, mode, &h);

	return h ? rc : REAL(faccessat)(dirfd, path, mode, flags);
}

EXPORT int euidaccess(const char *path, int mode)
{
	int h, rc = access_common(AT_FDCWD, path, mode, &h);

	return h ? rc : REAL(euidaccess)(path, mode);
}

EXPORT int eaccess(const char *path, int mode)
{
	int h, rc = access_common(AT_FDCWD, path, mode, &h);

	return h ? rc : REAL(eaccess)(path, mode);
}

/* ---- mmap ---- */

struct shim_map {
	void *addr;
	size_t flen; /* the file's bytes in it (famrt maps them rounded up to
		      * the devices' alignment, a multiple of the page) */
	struct famrt *fs;
	struct shim_map *next;
};
static struct shim_map *maps;
static int nmaps;
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;

void shim_maps_after_fork(void)
{
	pthread_mutex_init(&maps_lock, NULL);
}

static void *f_mmap(void *addr, size_t len, int prot, int flags,
		    struct shim_ofd *o, off64_t off)
{
	struct shim_map *sm;
	uint64_t size;
	void *p = NULL;
	int rc;

	if (o->is_dir) {
		errno = ENODEV;
		return MAP_FAILED;
	}
	if ((flags & MAP_FIXED) || (flags & MAP_FIXED_NOREPLACE) ||
	    (prot & PROT_EXEC) || off < 0) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	(void)addr;
	if (ofd_enter(o))
		return MAP_FAILED;
	size = famrt_file_size(o->f);
	if ((uint64_t)off >= size || !len) {
		shim_ofd_unlock(o);
		errno = (uint64_t)off >= size ? ENXIO : EINVAL;
		return MAP_FAILED;
	}
	if (len > size - (uint64_t)off)
		len = size - (uint64_t)off;
	shim_busy++;
	if ((flags & MAP_TYPE) == MAP_PRIVATE && (prot & PROT_WRITE)) {
		/* Copy on write: a private copy of the bytes. */
		p = REAL(mmap)(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (p != MAP_FAILED &&
		    famrt_pread(o->f, p, len, (uint64_t)off) != (ssize_t)len) {
			REAL(munmap)(p, len);
			p = MAP_FAILED;
			errno = EIO;
		}
		shim_busy--;
		shim_ofd_unlock(o);
		return p;
	}
	if ((prot & PROT_WRITE) && (o->flags & O_ACCMODE) == O_RDONLY) {
		shim_busy--;
		shim_ofd_unlock(o);
		errno = EACCES;
		return MAP_FAILED;
	}
	rc = famrt_mmap(o->f, (uint64_t)off, len,
			prot & (PROT_READ | PROT_WRITE), &p);
	shim_busy--;
	shim_ofd_unlock(o);
	if (rc) {
		errno = -rc;
		return MAP_FAILED;
	}
	sm = malloc(sizeof(*sm));
	if (!sm) {
		famrt_munmap(shim_fs(o->m), p);
		errno = ENOMEM;
		return MAP_FAILED;
	}
	sm->addr = p;
	sm->flen = len;
	sm->fs = shim_fs(o->m);
	pthread_mutex_lock(&maps_lock);
	sm->next = maps;
	maps = sm;
	__atomic_add_fetch(&nmaps, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&maps_lock);
	return p;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	struct shim_ofd *o = (flags & MAP_ANONYMOUS) ? NULL : shim_fd_get(fd);

	if (!o)
		return REAL(mmap)(addr, len, prot, flags, fd, off);
	return f_mmap(addr, len, prot, flags, o, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off64_t off)
{
	struct shim_ofd *o = (flags & MAP_ANONYMOUS) ? NULL : shim_fd_get(fd);

	if (!o)
		return REAL(mmap64)(addr, len, prot, flags, fd, off);
	return f_mmap(addr, len, prot, flags, o, off);
}

EXPORT int munmap(void *addr, size_t len)
{
	struct shim_map **pp, *sm = NULL;

	if (!__atomic_load_n(&nmaps, __ATOMIC_ACQUIRE))
		return REAL(munmap)(addr, len);
	pthread_mutex_lock(&maps_lock);
	for (pp = &maps; *pp; pp = &(*pp)->next)
		if ((*pp)->addr == addr) {
			sm = *pp;
			*pp = sm->next;
			__atomic_sub_fetch(&nmaps, 1, __ATOMIC_RELEASE);
			break;
		}
	pthread_mutex_unlock(&maps_lock);
	if (!sm)
		return REAL(munmap)(addr, len);
	shim_busy++;
	famrt_munmap(sm->fs, addr);
	shim_busy--;
	free(sm);
	return 0;
}

/*
 * msync of any part of a famrt mapping: the kernel cannot do it (on
 * device-dax it refuses MS_SYNC with EINVAL, and it knows nothing of
 * flushing CPU caches to the device). A mapping counts up to its last
 * page, as the kernel's would; only the file's bytes in it are written
 * back (the rest of the page is past the end of the file). A range that
 * runs past the mapping goes on to whatever lies there.
 */
EXPORT int msync(void *addr, size_t len, int flags)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)addr, end = 0, fend = 0;
	struct shim_map *sm;

	if (__atomic_load_n(&nmaps, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&maps_lock);
		for (sm = maps; sm; sm = sm->next) {
			size_t len_pages = (sm->flen + page - 1) / page * page;

			if (a >= (uintptr_t)sm->addr &&
			    a - (uintptr_t)sm->addr < len_pages) {
				end = (uintptr_t)sm->addr + len_pages;
				fend = (uintptr_t)sm->addr + sm->flen;
				break;
			}
		}
		pthread_mutex_unlock(&maps_lock);
	}
	if (!end)
		return REAL(msync)(addr, len, flags);
	if ((flags & MS_SYNC) && (flags & MS_ASYNC)) {
		errno = EINVAL;
		return -1;
	}
	if (len > end - a) {
		int rc = msync((void *)end, len - (end - a), flags);

		if (rc)
			return rc;
		len = end - a;
	}
	if (a >= fend)
		return 0;
	if (len > fend - a)
		len = fend - a;
	/* Device memory: durability is writing the cache lines back. */
	if (flags & (MS_SYNC | MS_ASYNC))
		famrt_flush_range(addr, len);
	if (flags & MS_INVALIDATE)
		famrt_invalidate_range(addr, len);
	return 0;
}

/* ---- sync, size ---- */

static int f_sync(int fd, int (*real)(int))
{
	struct shim_ofd *o = shim_fd_get(fd);
	int rc = 0;

	if (!o)
		return real(fd);
	if (ofd_enter(o))
		return -1;
	if (o->f) {
		shim_busy++;
		rc = famrt_fsync(o->f);
		shim_busy--;
	}
	shim_ofd_unlock(o);
	return rc ? shim_err(rc) : 0;
}

EXPORT int fsync(int fd)
{
	return f_sync(fd, REAL(fsync));
}

EXPORT int fdatasync(int fd)
{
	return f_sync(fd, REAL(fdatasync));
}

static int f_ftruncate(struct shim_ofd *o, off64_t len)
{
	int rc;

	if (len < 0)
		return shim_err(-EINVAL);
	if (ofd_enter(o))
		return -1;
	if (o->is_dir || (o->flags & O_ACCMODE) == O_RDONLY)
		rc = o->is_dir ? -EISDIR : -EBADF;
	else
		rc = famrt_ftruncate(o->f, (uint64_t)len);
	shim_ofd_unlock(o);
	return rc ? shim_err(rc) : 0;
}

EXPORT int ftruncate(int fd, off_t len)
{
	struct shim_ofd *o = shim_fd_get(fd);

	return o ? f_ftruncate(o, len) : REAL(ftruncate)(fd, len);
}

EXPORT int ftruncate64(int fd, off64_t len)
{
	struct shim_ofd *o = shim_fd_get(fd);

	return o ? f_ftruncate(o, len) : REAL(ftruncate64)(fd, len);
}

static int path_truncate(const char *path, off64_t len, int *handled)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;
	struct stat st;

	*handled = 0;
	if (!shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf))
		return 0;
	*handled = 1;
	if (path_stat(m, fspath, &st))
		return -1;
	if (st.st_size == len)
		return 0;
	return shim_err(-EPERM);
}

EXPORT int truncate(const char *path, off_t len)
{
	int h, rc = path_truncate(path, len, &h);

	return h ? rc : REAL(truncate)(path, len);
}

EXPORT int truncate64(const char *path, off64_t len)
{
	int h, rc = path_truncate(path, len, &h);

	return h ? rc : REAL(truncate64)(path, len);
}

static int f_fallocate(struct shim_ofd *o, int mode, off64_t off,
		       off64_t len)
{
	uint64_t end;
	int rc = 0;

	if (off < 0 || len <= 0 || mode & ~FALLOC_FL_KEEP_SIZE)
		return -EINVAL;
	end = (uint64_t)off + (uint64_t)len;
	if (ofd_enter(o))
		return -errno;
	if (end > famrt_file_size(o->f) && !(mode & FALLOC_FL_KEEP_SIZE))
		rc = famrt_ftruncate(o->f, end);
	if (rc == -EPERM)
		rc = -EFBIG;
	shim_ofd_unlock(o);
	return rc;
}

EXPORT int fallocate(int fd, int mode, off_t off, off_t len)
{
	struct shim_ofd *o = shim_fd_get(fd);
	int rc;

	if (!o)
		return REAL(fallocate)(fd, mode, off, len);
	rc = f_fallocate(o, mode, off, len);
	return rc ? shim_err(rc) : 0;
}

EXPORT int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	struct shim_ofd *o = shim_fd_get(fd);
	int rc;

	if (!o)
		return REAL(fallocate64)(fd, mode, off, len);
	rc = f_fallocate(o, mode, off, len);
	return rc ? shim_err(rc) : 0;
}

EXPORT int posix_fallocate(int fd, off_t off, off_t len)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(posix_fallocate)(fd, off, len);
	return -f_fallocate(o, 0, off, len);
}

EXPORT int posix_fallocate64(int fd, off64_t off, off64_t len)
{
	struct shim_ofd *o = shim_fd_get(fd);

	if (!o)
		return REAL(posix_fallocate64)(fd, off, len);
	return -f_fallocate(o, 0, off, len);
}

EXPORT int posix_fadvise(int fd, off_t off, off_t len, int advice)
{
	if (shim_fd_get(fd))
		return 0; /* memory has no read-ahead to advise */
	return REAL(posix_fadvise)(fd, off, len, advice);
}

EXPORT int posix_fadvise64(int fd, off64_t off, off64_t len, int advice)
{
	if (shim_fd_get(fd))
		return 0;
	return REAL(posix_fadvise64)(fd, off, len, advice);
}

EXPORT ssize_t readahead(int fd, off64_t off, size_t count)
{
	if (shim_fd_get(fd))
		return 0;
	return REAL(readahead)(fd, off, count);
}

/* ---- copies between descriptors ---- */

/* Move up to len bytes from in to out through a buffer. */
static ssize_t copy_fds(int in, int64_t *inoff, int out, int64_t *outoff,
			size_t len)
{
	size_t bufsz = len < (1u << 20) ? len : (1u << 20);
	char *buf = malloc(bufsz ? bufsz : 1);
	ssize_t total = 0;

	if (!buf)
		return shim_err(-ENOMEM);
	while ((size_t)total < len) {
		size_t want = len - (size_t)total < bufsz ? len - (size_t)total :
							  bufsz;
		ssize_t r, w = 0;

		r = inoff ? pread64(in, buf, want, *inoff) : read(in, buf, want);
		if (r <= 0) {
			if (r < 0 && !total) {
				free(buf);
				return -1;
			}
			break;
		}
		while (w < r) {
			ssize_t k = outoff ?
					    pwrite64(out, buf + w, (size_t)(r - w),
						     *outoff + w) :
					    write(out, buf + w, (size_t)(r - w));

			if (k <= 0) {
				int err = errno;

				free(buf);
				if (total || w) {
					total += w;
					if (inoff)
						*inoff += w;
					if (outoff)
						*outoff += w;
					return total;
				}
				errno = err;
				return -1;
			}
			w += k;
		}
		if (inoff)
			*inoff += r;
		if (outoff)
			*outoff += r;
		total += r;
		if (r < (ssize_t)want)
			break;
	}
	free(buf);
	return total;
}

EXPORT ssize_t copy_file_range(int in, off64_t *inoff, int out,
			       off64_t *outoff, size_t len, unsigned int flags)
{
	int64_t a, b;
	ssize_t n;

	if (!shim_fd_get(in) && !shim_fd_get(out))
		return REAL(copy_file_range)(in, inoff, out, outoff, len,
					     flags);
	if (flags)
		return shim_err(-EINVAL);
	a = inoff ? *inoff : 0;
	b = outoff ? *outoff : 0;
	n = copy_fds(in, inoff ? &a : NULL, out, outoff ? &b : NULL, len);
	if (n > 0) {
		if (inoff)
			*inoff = a;
		if (outoff)
			*outoff = b;
	}
	return n;
}

EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	int64_t a;
	ssize_t n;

	if (!shim_fd_get(in) && !shim_fd_get(out))
		return REAL(sendfile)(out, in, off, count);
	a = off ? *off : 0;
	n = copy_fds(in, off ? &a : NULL, out, NULL, count);
	if (n > 0 && off)
		*off = a;
	return n;
}

EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t count)
{
	return sendfile(out, in, (off_t *)off, count);
}

/* ---- namespace calls ---- */

EXPORT int mkdir(const char *path, mode_t mode)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;
	struct famrt *fs;
	int rc;

	if (!shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf))
		return REAL(mkdir)(real, mode);
	fs = shim_fs(m);
	if (!fs)
		return -1;
	shim_busy++;
	rc = famrt_mkdir(fs, fspath, mode & 07777 & ~current_umask());
	shim_busy--;
	return rc ? shim_err(rc) : 0;
}

EXPORT int mkdirat(int dirfd, const char *path, mode_t mode)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;
	struct famrt *fs;
	int rc;

	if (!shim_claim(dirfd, path, &m, fspath, &real, realbuf))
		return REAL(mkdirat)(dirfd, real, mode);
	fs = shim_fs(m);
	if (!fs)
		return -1;
	shim_busy++;
	rc = famrt_mkdir(fs, fspath, mode & 07777 & ~current_umask());
	shim_busy--;
	return rc ? shim_err(rc) : 0;
}

/*
 * Calls famrt does not support on its paths: a clear errno. Otherwise
 * libc gets *real: the path itself, or its absolute form when the current
 * directory is inside famrt (the kernel's is elsewhere).
 */
static bool claimed(int dirfd, const char *path, const char **real,
		    char *realbuf)
{
	char fspath[PATH_MAX];
	struct shim_mount *m;

	return shim_claim(dirfd, path, &m, fspath, real, realbuf);
}

/* Two paths: ENOTSUP inside famrt, EXDEV across its edge. */
#define TWO_PATHS(da, a, db, b)                                              \
	char rb1_[PATH_MAX], rb2_[PATH_MAX];                                 \
	const char *ra_, *rb_;                                               \
	bool h1_ = claimed(da, a, &ra_, rb1_);                               \
	bool h2_ = claimed(db, b, &rb_, rb2_);                               \
	if (h1_ || h2_)                                                      \
		return shim_err(h1_ && h2_ ? -ENOTSUP : -EXDEV)

EXPORT int unlink(const char *path)
{
	char rb[PATH_MAX];
	const char *r;

	if (claimed(AT_FDCWD, path, &r, rb))
		return shim_err(-ENOTSUP);
	return REAL(unlink)(r);
}

EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
	char rb[PATH_MAX];
	const char *r;

	if (claimed(dirfd, path, &r, rb))
		return shim_err(-ENOTSUP);
	return REAL(unlinkat)(dirfd, r, flags);
}

EXPORT int rmdir(const char *path)
{
	char rb[PATH_MAX];
	const char *r;

	if (claimed(AT_FDCWD, path, &r, rb))
		return shim_err(-ENOTSUP);
	return REAL(rmdir)(r);
}

EXPORT int rename(const char *a, const char *b)
{
	TWO_PATHS(AT_FDCWD, a, AT_FDCWD, b);
	return REAL(rename)(ra_, rb_);
}

EXPORT int renameat(int da, const char *a, int db, const char *b)
{
	TWO_PATHS(da, a, db, b);
	return REAL(renameat)(da, ra_, db, rb_);
}

EXPORT int renameat2(int da, const char *a, int db, const char *b,
		     unsigned int flags)
{
	TWO_PATHS(da, a, db, b);
	return REAL(renameat2)(da, ra_, db, rb_, flags);
}

EXPORT int link(const char *a, const char *b)
{
	TWO_PATHS(AT_FDCWD, a, AT_FDCWD, b);
	return REAL(link)(ra_, rb_);
}

EXPORT int linkat(int da, const char *a, int db, const char *b, int flags)
{
	TWO_PATHS(da, a, db, b);
	return REAL(linkat)(da, ra_, db, rb_, flags);
}

EXPORT int symlink(const char *target, const char *path)
{
	char rb[PATH_MAX];
	const char *r;

	if (claimed(AT_FDCWD, path, &r, rb))
		return shim_err(-ENOTSUP);
	return REAL(symlink)(target, r);
}

EXPORT int symlinkat(const char *target, int dirfd, const char *path)
{
	char rb[PATH_MAX];
	const char *r;

	if (claimed(dirfd, path, &r, rb))
		return shim_err(-ENOTSUP);
	return REAL(symlinkat)(target, dirfd, r);
}

EXPORT ssize_t readlink(const char *path, char *buf, size_t len)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;
	struct stat st;

	if (!shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf))
		return REAL(readlink)(real, buf, len);
	if (path_stat(m, fspath, &st))
		return -1;
	return shim_err(-EINVAL); /* famrt has no symbolic links */
}

EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;
	struct stat st;

	if (!shim_claim(dirfd, path, &m, fspath, &real, realbuf))
		return REAL(readlinkat)(dirfd, real, buf, len);
	if (path_stat(m, fspath, &st))
		return -1;
	return shim_err(-EINVAL);
}

static int chmod_common(struct shim_mount *m, const char *fspath, mode_t mode)
{
	struct famrt *fs = shim_fs(m);
	int rc;

	if (!fs)
		return -1;
	shim_busy++;
	rc = famrt_chmod(fs, fspath, mode & 07777);
	shim_busy--;
	return rc ? shim_err(rc) : 0;
}

EXPORT int chmod(const char *path, mode_t mode)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;

	if (!shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf))
		return REAL(chmod)(real, mode);
	return chmod_common(m, fspath, mode);
}

EXPORT int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;

	if (!shim_claim(dirfd, path, &m, fspath, &real, realbuf))
		return REAL(fchmodat)(dirfd, real, mode, flags);
	return chmod_common(m, fspath, mode);
}

EXPORT int fchmod(int fd, mode_t mode)
{
	struct shim_ofd *o = shim_fd_get(fd);
	int rc;

	if (!o)
		return REAL(fchmod)(fd, mode);
	if (ofd_enter(o))
		return -1;
	shim_busy++;
	rc = o->f ? famrt_fchmod(o->f, mode & 07777) :
		    famrt_chmod(shim_fs(o->m), o->path, mode & 07777);
	shim_busy--;
	shim_ofd_unlock(o);
	return rc ? shim_err(rc) : 0;
}

/* Nothing to change: done; else ask famrtd (which checks who may). */
static int chown_do(struct shim_mount *m, const char *fspath,
		    const struct stat *st, uid_t u, gid_t g)
{
	int rc;

	if ((u == (uid_t)-1 || u == st->st_uid) &&
	    (g == (gid_t)-1 || g == st->st_gid))
		return 0;
	shim_busy++;
	rc = famrt_chown(shim_fs(m), fspath, u, g);
	shim_busy--;
	return rc ? shim_err(rc) : 0;
}

EXPORT int chown(const char *path, uid_t u, gid_t g)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;
	struct stat st;

	if (!shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf))
		return REAL(chown)(real, u, g);
	return path_stat(m, fspath, &st) ? -1 : chown_do(m, fspath, &st, u, g);
}

EXPORT int lchown(const char *path, uid_t u, gid_t g)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;
	struct stat st;

	if (!shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf))
		return REAL(lchown)(real, u, g);
	return path_stat(m, fspath, &st) ? -1 : chown_do(m, fspath, &st, u, g);
}

EXPORT int fchownat(int dirfd, const char *path, uid_t u, gid_t g, int flags)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;
	struct stat st;

	if (path && !*path && (flags & AT_EMPTY_PATH) && shim_fd_get(dirfd))
		return fchown(dirfd, u, g);
	if (!shim_claim(dirfd, path, &m, fspath, &real, realbuf))
		return REAL(fchownat)(dirfd, real, u, g, flags);
	return path_stat(m, fspath, &st) ? -1 : chown_do(m, fspath, &st, u, g);
}

EXPORT int fchown(int fd, uid_t u, gid_t g)
{
	struct shim_ofd *o = shim_fd_get(fd);
	struct stat st;

	if (!o)
		return REAL(fchown)(fd, u, g);
	if (fstat(fd, &st))
		return -1;
	if (o->f && famrt_file_fmap(o->f) == NULL) {
		/* Being written: it will be committed with our own ids. */
		if ((u == (uid_t)-1 || u == st.st_uid) &&
		    (g == (gid_t)-1 || g == st.st_gid))
			return 0;
		return shim_err(-EPERM);
	}
	return chown_do(o->m, o->path, &st, u, g);
}

/* Times: famrt keeps the creation time; setting times is accepted and
 * ignored, so that tar and cp -p do not fail on every file. */
EXPORT int utimensat(int dirfd, const char *path, const struct timespec t[2],
		     int flags)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;
	struct stat st;

	if (!path && shim_fd_get(dirfd))
		return 0;
	if (!path || !shim_claim(dirfd, path, &m, fspath, &real, realbuf))
		return REAL(utimensat)(dirfd, path ? real : path, t, flags);
	return path_stat(m, fspath, &st);
}

EXPORT int futimens(int fd, const struct timespec t[2])
{
	if (shim_fd_get(fd))
		return 0;
	return REAL(futimens)(fd, t);
}

/* Extended attributes: none. */
static int xattr_claim(const char *path)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;

	return shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf);
}

EXPORT ssize_t getxattr(const char *path, const char *name, void *v, size_t n)
{
	if (xattr_claim(path))
		return shim_err(-ENOTSUP);
	return REAL(getxattr)(path, name, v, n);
}

EXPORT ssize_t lgetxattr(const char *path, const char *name, void *v, size_t n)
{
	if (xattr_claim(path))
		return shim_err(-ENOTSUP);
	return REAL(lgetxattr)(path, name, v, n);
}

EXPORT ssize_t fgetxattr(int fd, const char *name, void *v, size_t n)
{
	if (shim_fd_get(fd))
		return shim_err(-ENOTSUP);
	return REAL(fgetxattr)(fd, name, v, n);
}

/*
 * Setting or removing one: not supported (ENOTSUP, what a file system
 * without xattrs says). Tools copying ACLs (cp -p, tar --acls) then fall
 * back to chmod, which famrt does; without these wrappers the attribute
 * would land on the kernel descriptor behind the famrt file and the mode
 * change would be lost.
 */
EXPORT int setxattr(const char *path, const char *name, const void *v,
		    size_t n, int flags)
{
	if (xattr_claim(path))
		return shim_err(-ENOTSUP);
	return REAL(setxattr)(path, name, v, n, flags);
}

EXPORT int lsetxattr(const char *path, const char *name, const void *v,
		     size_t n, int flags)
{
	if (xattr_claim(path))
		return shim_err(-ENOTSUP);
	return REAL(lsetxattr)(path, name, v, n, flags);
}

EXPORT int fsetxattr(int fd, const char *name, const void *v, size_t n,
		     int flags)
{
	if (shim_fd_get(fd))
		return shim_err(-ENOTSUP);
	return REAL(fsetxattr)(fd, name, v, n, flags);
}

EXPORT int removexattr(const char *path, const char *name)
{
	if (xattr_claim(path))
		return shim_err(-ENOTSUP);
	return REAL(removexattr)(path, name);
}

EXPORT int lremovexattr(const char *path, const char *name)
{
	if (xattr_claim(path))
		return shim_err(-ENOTSUP);
	return REAL(lremovexattr)(path, name);
}

EXPORT int fremovexattr(int fd, const char *name)
{
	if (shim_fd_get(fd))
		return shim_err(-ENOTSUP);
	return REAL(fremovexattr)(fd, name);
}

EXPORT ssize_t listxattr(const char *path, char *list, size_t n)
{
	if (xattr_claim(path))
		return 0;
	return REAL(listxattr)(path, list, n);
}

EXPORT ssize_t llistxattr(const char *path, char *list, size_t n)
{
	if (xattr_claim(path))
		return 0;
	return REAL(llistxattr)(path, list, n);
}

EXPORT ssize_t flistxattr(int fd, char *list, size_t n)
{
	if (shim_fd_get(fd))
		return 0;
	return REAL(flistxattr)(fd, list, n);
}

/* statfs: what famrtd says. */
#define FAMRT_SUPER_MAGIC 0x46414d52
static int fill_statfs(struct shim_mount *m, struct statfs *s)
{
	struct famrt *fs = shim_fs(m);
	struct famrt_statfs st;
	int rc;

	if (!fs)
		return -1;
	shim_busy++;
	rc = famrt_statfs(fs, &st);
	shim_busy--;
	if (rc)
		return shim_err(rc);
	memset(s, 0, sizeof(*s));
	s->f_type = FAMRT_SUPER_MAGIC;
	s->f_bsize = (long)st.alloc_unit;
	s->f_frsize = (long)st.alloc_unit;
	s->f_blocks = st.size / st.alloc_unit;
	s->f_bfree = st.free / st.alloc_unit;
	s->f_bavail = s->f_bfree;
	s->f_files = st.files + st.dirs + 1;
	s->f_namelen = 255;
	return 0;
}

EXPORT int statfs(const char *path, struct statfs *s)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;

	if (!shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf))
		return REAL(statfs)(real, s);
	return fill_statfs(m, s);
}

EXPORT int fstatfs(int fd, struct statfs *s)
{
	struct shim_ofd *o = shim_fd_get(fd);

	return o ? fill_statfs(o->m, s) : REAL(fstatfs)(fd, s);
}

static void vfs_of(const struct statfs *s, struct statvfs *v)
{
	memset(v, 0, sizeof(*v));
	v->f_bsize = (unsigned long)s->f_bsize;
	v->f_frsize = (unsigned long)s->f_frsize;
	v->f_blocks = s->f_blocks;
	v->f_bfree = s->f_bfree;
	v->f_bavail = s->f_bavail;
	v->f_files = s->f_files;
	v->f_namemax = 255;
}

EXPORT int statvfs(const char *path, struct statvfs *v)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;
	struct statfs s;

	if (!shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf))
		return REAL(statvfs)(real, v);
	if (fill_statfs(m, &s))
		return -1;
	vfs_of(&s, v);
	return 0;
}

EXPORT int fstatvfs(int fd, struct statvfs *v)
{
	struct shim_ofd *o = shim_fd_get(fd);
	struct statfs s;

	if (!o)
		return REAL(fstatvfs)(fd, v);
	if (fill_statfs(o->m, &s))
		return -1;
	vfs_of(&s, v);
	return 0;
}

/* realpath: famrt has no symlinks, so the normalized path is the answer. */
static char *real_path(const char *path, char *resolved, int *handled)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX], out[PATH_MAX];
	struct shim_mount *m;
	const char *real;
	struct stat st;

	*handled = 0;
	if (!shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf))
		return NULL;
	*handled = 1;
	if (path_stat(m, fspath, &st))
		return NULL;
	if (snprintf(out, sizeof(out), "%s%s", m->prefix,
		     strcmp(fspath, "/") ? fspath : "") >= (int)sizeof(out)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (resolved) {
		strcpy(resolved, out);
		return resolved;
	}
	return strdup(out);
}

EXPORT char *realpath(const char *path, char *resolved)
{
	int h;
	char *r = real_path(path, resolved, &h);

	return h ? r : REAL(realpath)(path, resolved);
}

char *__realpath_chk(const char *path, char *resolved, size_t len);
EXPORT char *__realpath_chk(const char *path, char *resolved, size_t len)
{
	int h;
	char *r;

	if (len < PATH_MAX)
		abort();
	r = real_path(path, resolved, &h);
	return h ? r : REAL(realpath)(path, resolved);
}

EXPORT char *canonicalize_file_name(const char *path)
{
	int h;
	char *r = real_path(path, NULL, &h);

	return h ? r : REAL(canonicalize_file_name)(path);
}

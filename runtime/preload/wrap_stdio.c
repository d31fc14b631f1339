/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stdio on famrt files: a cookie stream (fopencookie) whose functions are
 * the shim's own read/write/seek/close on the famrt descriptor. glibc's
 * stdio would otherwise read the /dev/null descriptor behind it directly.
 * fileno() on such a stream gives that descriptor.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload/shim.h"

struct cookie_file {
	FILE *fp;
	int fd;
	int std;         /* 0..2: stands in for stdin/stdout/stderr; else -1 */
	bool detached;   /* closing the stream leaves fd open */
	struct cookie_file *next;
};

static struct cookie_file *cookies;
static int ncookies;
static pthread_mutex_t cookies_lock = PTHREAD_MUTEX_INITIALIZER;

void shim_stdio_after_fork(void)
{
	pthread_mutex_init(&cookies_lock, NULL);
}

/* The std streams of ours in place, and glibc's own they replaced. */
int shim_std_active;
static struct cookie_file *std_ours[3];
static FILE *std_orig[3];

static FILE **std_slot(int fd)
{
	return fd == 0 ? &stdin : fd == 1 ? &stdout : &stderr;
}

static ssize_t c_read(void *c, char *buf, size_t n)
{
	return read(((struct cookie_file *)c)->fd, buf, n);
}

static ssize_t c_write(void *c, const char *buf, size_t n)
{
	ssize_t k = write(((struct cookie_file *)c)->fd, buf, n);

	/* stdio wants 0, not -1, for a failed write. */
	return k < 0 ? 0 : k;
}

static int c_seek(void *c, off64_t *off, int whence)
{
	off64_t r = lseek64(((struct cookie_file *)c)->fd, *off, whence);

	if (r < 0)
		return -1;
	*off = r;
	return 0;
}

static int c_close(void *c)
{
	struct cookie_file **pp, *cf = c;
	int fd = cf->fd;
	bool keep = cf->detached;

	pthread_mutex_lock(&cookies_lock);
	for (pp = &cookies; *pp; pp = &(*pp)->next)
		if (*pp == cf) {
			*pp = cf->next;
			ncookies--;
			break;
		}
	if (cf->std >= 0 && std_ours[cf->std] == cf) {
		/* fclose(stdout) by the program: glibc's own comes back (on
		 * a closed descriptor, as it would be). */
		std_ours[cf->std] = NULL;
		__atomic_and_fetch(&shim_std_active, ~(1 << cf->std),
				   __ATOMIC_RELAXED);
		*std_slot(cf->std) = std_orig[cf->std];
	}
	pthread_mutex_unlock(&cookies_lock);
	free(cf);
	return keep ? 0 : close(fd);
}

static int mode_flags(const char *mode)
{
	int flags;

	switch (mode[0]) {
	case 'r':
		flags = O_RDONLY;
		break;
	case 'w':
		flags = O_WRONLY | O_CREAT | O_TRUNC;
		break;
	case 'a':
		flags = O_WRONLY | O_CREAT | O_APPEND;
		break;
	default:
		return -1;
	}
	for (const char *p = mode + 1; *p && *p != ','; p++) {
		if (*p == '+')
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		else if (*p == 'x')
			flags |= O_EXCL;
		else if (*p == 'e')
			flags |= O_CLOEXEC;
	}
	return flags;
}

static struct cookie_file *cookie_new(int fd, const char *mode, int std)
{
	cookie_io_functions_t io = { c_read, c_write, c_seek, c_close };
	struct cookie_file *cf = calloc(1, sizeof(*cf));
	char m[8];
	FILE *fp;

	if (!cf) {
		errno = ENOMEM;
		return NULL;
	}
	cf->fd = fd;
	cf->std = std;
	/* fopencookie takes the mode without our 'e'/'x'. */
	snprintf(m, sizeof(m), "%c%s", mode[0], strchr(mode, '+') ? "+" : "");
	fp = fopencookie(cf, m, io);
	if (!fp) {
		free(cf);
		return NULL;
	}
	cf->fp = fp;
	pthread_mutex_lock(&cookies_lock);
	cf->next = cookies;
	cookies = cf;
	ncookies++;
	pthread_mutex_unlock(&cookies_lock);
	return cf;
}

static FILE *cookie_stream(int fd, const char *mode)
{
	struct cookie_file *cf = cookie_new(fd, mode, -1);

	return cf ? cf->fp : NULL;
}

/*
 * stdin, stdout and stderr are variables glibc lets programs assign:
 * while descriptor 0, 1 or 2 holds a famrt file, the variable points at a
 * stream of ours on it; when the descriptor goes back to something else,
 * glibc's own stream returns. (What captured the old pointer before, such
 * as C++ iostreams initialised earlier, keeps using glibc's.)
 */
void shim_std_before(int fd, bool famrt_next)
{
	struct cookie_file *cf = std_ours[fd];

	/* What is buffered belongs to the file there now. */
	if (cf)
		fflush(cf->fp);
	else if (famrt_next && fd)
		fflush(*std_slot(fd));
}

void shim_std_after(int fd)
{
	bool famrt = shim_fd_get(fd) != NULL;
	struct cookie_file *cf = std_ours[fd];

	if (famrt && !cf) {
		cf = cookie_new(fd, fd ? "w" : "r", fd);
		if (!cf)
			return;
		if (fd == 2)
			setvbuf(cf->fp, NULL, _IONBF, 0);
		std_orig[fd] = *std_slot(fd);
		*std_slot(fd) = cf->fp;
		std_ours[fd] = cf;
		__atomic_or_fetch(&shim_std_active, 1 << fd, __ATOMIC_RELAXED);
	} else if (!famrt && cf) {
		std_ours[fd] = NULL;
		__atomic_and_fetch(&shim_std_active, ~(1 << fd),
				   __ATOMIC_RELAXED);
		*std_slot(fd) = std_orig[fd];
		cf->detached = true;
		fclose(cf->fp);
	}
}

static FILE *famrt_fopen(const char *path, const char *mode)
{
	int flags = mode_flags(mode), fd;
	FILE *fp;

	if (flags < 0) {
		errno = EINVAL;
		return NULL;
	}
	fd = open(path, flags, 0666);
	if (fd < 0)
		return NULL;
	fp = cookie_stream(fd, mode);
	if (!fp)
		close(fd);
	return fp;
}

SHIM_EXPORT FILE *fopen(const char *path, const char *mode)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;

	if (!shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf))
		return REAL(fopen)(real, mode);
	return famrt_fopen(path, mode);
}

SHIM_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;

	if (!shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf))
		return REAL(fopen64)(real, mode);
	return famrt_fopen(path, mode);
}

SHIM_EXPORT FILE *fdopen(int fd, const char *mode)
{
	if (!shim_fd_get(fd))
		return REAL(fdopen)(fd, mode);
	return cookie_stream(fd, mode);
}

/*
 * freopen onto a famrt path. For stdin, stdout or stderr, the file goes to
 * descriptor 0, 1 or 2 and the variable to a stream of ours on it (as for
 * a shell redirection), so a program that goes on using `stdout` writes
 * the file. Any other stream: a new stream is returned (glibc cannot
 * point an existing FILE at a cookie) and the old one is closed, as
 * freopen would.
 */
static FILE *famrt_freopen(const char *path, const char *mode, FILE *old)
{
	int n = -1, flags, fd;

	for (int i = 0; old && i < 3; i++)
		if (old == *std_slot(i))
			n = i;
	if (n < 0) {
		if (old)
			fclose(old);
		return famrt_fopen(path, mode);
	}
	flags = mode_flags(mode);
	if (flags < 0) {
		errno = EINVAL;
		return NULL;
	}
	fflush(old);
	fd = open(path, flags, 0666);
	if (fd < 0)
		return NULL;
	if (fd != n) {
		/* The dup2 wrapper puts our stream in place. */
		if (dup2(fd, n) < 0) {
			int err = errno;

			close(fd);
			errno = err;
			return NULL;
		}
		close(fd);
	} else {
		shim_std_after(n);
	}
	return *std_slot(n);
}

SHIM_EXPORT FILE *freopen(const char *path, const char *mode, FILE *fp)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;

	if (!path || !shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf))
		return REAL(freopen)(path ? real : path, mode, fp);
	return famrt_freopen(path, mode, fp);
}

SHIM_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *fp)
{
	char fspath[PATH_MAX], realbuf[PATH_MAX];
	struct shim_mount *m;
	const char *real;

	if (!path || !shim_claim(AT_FDCWD, path, &m, fspath, &real, realbuf))
		return REAL(freopen64)(path ? real : path, mode, fp);
	return famrt_freopen(path, mode, fp);
}

static int cookie_fd(FILE *fp)
{
	int fd = -1;

	pthread_mutex_lock(&cookies_lock);
	for (struct cookie_file *c = cookies; c; c = c->next)
		if (c->fp == fp && !c->detached) {
			fd = c->fd;
			break;
		}
	pthread_mutex_unlock(&cookies_lock);
	return fd;
}

SHIM_EXPORT int fileno(FILE *fp)
{
	if (__atomic_load_n(&ncookies, __ATOMIC_RELAXED)) {
		int fd = cookie_fd(fp);

		if (fd >= 0)
			return fd;
	}
	return REAL(fileno)(fp);
}

SHIM_EXPORT int fileno_unlocked(FILE *fp)
{
	if (__atomic_load_n(&ncookies, __ATOMIC_RELAXED)) {
		int fd = cookie_fd(fp);

		if (fd >= 0)
			return fd;
	}
	return REAL(fileno_unlocked)(fp);
}

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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload/shim.h"

struct cookie_file {
	FILE *fp;
	int fd;
	struct cookie_file *next;
};

static struct cookie_file *cookies;
static int ncookies;
static pthread_mutex_t cookies_lock = PTHREAD_MUTEX_INITIALIZER;

static ssize_t c_read(void *c, char *buf, size_t n)
{
	return read((int)(intptr_t)c, buf, n);
}

static ssize_t c_write(void *c, const char *buf, size_t n)
{
	ssize_t k = write((int)(intptr_t)c, buf, n);

	/* stdio wants 0, not -1, for a failed write. */
	return k < 0 ? 0 : k;
}

static int c_seek(void *c, off64_t *off, int whence)
{
	off64_t r = lseek64((int)(intptr_t)c, *off, whence);

	if (r < 0)
		return -1;
	*off = r;
	return 0;
}

static int c_close(void *c)
{
	int fd = (int)(intptr_t)c;
	struct cookie_file **pp, *cf = NULL;

	pthread_mutex_lock(&cookies_lock);
	for (pp = &cookies; *pp; pp = &(*pp)->next)
		if ((*pp)->fd == fd) {
			cf = *pp;
			*pp = cf->next;
			ncookies--;
			break;
		}
	pthread_mutex_unlock(&cookies_lock);
	free(cf);
	return close(fd);
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

static FILE *cookie_stream(int fd, const char *mode)
{
	cookie_io_functions_t io = { c_read, c_write, c_seek, c_close };
	struct cookie_file *cf = malloc(sizeof(*cf));
	char m[8];
	FILE *fp;

	if (!cf) {
		errno = ENOMEM;
		return NULL;
	}
	/* fopencookie takes the mode without our 'e'/'x'. */
	snprintf(m, sizeof(m), "%c%s", mode[0], strchr(mode, '+') ? "+" : "");
	fp = fopencookie((void *)(intptr_t)fd, m, io);
	if (!fp) {
		free(cf);
		return NULL;
	}
	cf->fp = fp;
	cf->fd = fd;
	pthread_mutex_lock(&cookies_lock);
	cf->next = cookies;
	cookies = cf;
	ncookies++;
	pthread_mutex_unlock(&cookies_lock);
	return fp;
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
 * freopen onto a famrt path returns a new stream (glibc cannot point an
 * existing FILE at a cookie); the old stream is closed as freopen would.
 */
static FILE *famrt_freopen(const char *path, const char *mode, FILE *old)
{
	if (old)
		fclose(old);
	return famrt_fopen(path, mode);
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
		if (c->fp == fp) {
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

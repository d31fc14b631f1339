/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The calls of the shim's list that the real programs of the tests do not
 * all make, each on FILE (and DIR), printing what it returned: run on a
 * famrt file under the shim and on the same bytes on tmpfs, the two
 * outputs must be the same. Plain: nothing of famrt is linked in.
 *
 *   pl_calls FILE DIR
 *
 * FILE must be at least 64 KiB. Prints one line per call; exits 0 when
 * every call behaved as on an ordinary file, 1 otherwise (saying which).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static int bad;

static uint64_t fnv(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "pl_calls: %s: %s\n", what, strerror(errno));
		bad = 1;
	}
}

int main(int argc, char **argv)
{
	char a[8192], b[8192], c[8192];
	struct iovec iov[3] = { { a, 1000 }, { b, 3000 }, { c, 5000 } };
	struct stat st, st2;
	struct pollfd pfd;
	char rp[PATH_MAX];
	int fd, fd2, fd3, p[2];
	ssize_t n;
	off_t off;

	if (argc != 3) {
		fprintf(stderr, "usage: pl_calls FILE DIR\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	check(fd >= 0, "open");
	if (fd < 0)
		return 1;

	/* preadv2 with and without an offset, readv after lseek. */
	n = preadv2(fd, iov, 3, 12345, 0);
	printf("preadv2 at 12345: %zd %016llx\n", n,
	       (unsigned long long)(fnv(a, 1000) ^ fnv(b, 3000) ^
				    fnv(c, 5000)));
	check(n == 9000, "preadv2");
	off = lseek(fd, 777, SEEK_SET);
	n = preadv2(fd, iov, 2, -1, 0);
	printf("preadv2 at the offset: %zd %016llx, offset now %lld\n", n,
	       (unsigned long long)(fnv(a, 1000) ^ fnv(b, 3000)),
	       (long long)lseek(fd, 0, SEEK_CUR));
	check(off == 777 && n == 4000, "preadv2 at the offset");

	/* dup3 with O_CLOEXEC and F_DUPFD_CLOEXEC, both read the file. */
	fd2 = dup3(fd, 100, O_CLOEXEC);
	check(fd2 == 100, "dup3");
	printf("dup3: %d, cloexec %d\n", fd2,
	       !!(fcntl(fd2, F_GETFD) & FD_CLOEXEC));
	fd3 = fcntl(fd, F_DUPFD_CLOEXEC, 200);
	check(fd3 >= 200, "F_DUPFD_CLOEXEC");
	n = pread(fd3, a, 100, 4096);
	printf("F_DUPFD_CLOEXEC >= 200: %d, pread %zd %016llx\n", fd3 >= 200,
	       n, (unsigned long long)fnv(a, 100));
	/* Offsets are shared by duplicates. */
	lseek(fd2, 5000, SEEK_SET);
	printf("offset through the original after lseek on dup: %lld\n",
	       (long long)lseek(fd, 0, SEEK_CUR));
	close(fd2);
	close(fd3);

	/* poll: a regular file is always readable. */
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	n = poll(&pfd, 1, 0);
	printf("poll: %zd revents 0x%x\n", n, (unsigned)pfd.revents);

	/* sendfile into a pipe, with an offset that moves. */
	check(!pipe(p), "pipe");
	off = 1000;
	n = sendfile(p[1], fd, &off, 4000);
	check(n == 4000, "sendfile");
	n = read(p[0], a, sizeof(a));
	printf("sendfile: %zd bytes %016llx, offset %lld\n", n,
	       (unsigned long long)fnv(a, n > 0 ? (size_t)n : 0),
	       (long long)off);
	close(p[0]);
	close(p[1]);

	/* posix_fadvise: accepted. */
	printf("posix_fadvise: %d\n", posix_fadvise(fd, 0, 0,
						    POSIX_FADV_SEQUENTIAL));

	/* fstat and stat agree; the glibc-internal __fxstat too. */
	check(!fstat(fd, &st) && !stat(argv[1], &st2), "stat");
	printf("size %lld, same ino %d, mode %o\n", (long long)st.st_size,
	       st.st_ino == st2.st_ino, (unsigned)(st.st_mode & S_IFMT));
	{
		int (*fx)(int, int, struct stat *) =
			(int (*)(int, int, struct stat *))dlsym(RTLD_DEFAULT,
								"__fxstat");

		if (fx) {
			memset(&st2, 0, sizeof(st2));
			check(!fx(1, fd, &st2), "__fxstat");
			printf("__fxstat: size %lld\n", (long long)st2.st_size);
		} else {
			printf("__fxstat: size %lld\n", (long long)st.st_size);
		}
	}

	/* faccessat and realpath on the file and its directory. */
	printf("faccessat R_OK: %d\n",
	       faccessat(AT_FDCWD, argv[1], R_OK, 0));
	if (realpath(argv[2], rp)) {
		size_t k = strlen(rp);

		printf("realpath of the directory ends in /: %d, file inside: "
		       "%d\n",
		       rp[k - 1] == '/',
		       realpath(argv[1], a) && !strncmp(a, rp, k));
	} else {
		check(0, "realpath");
	}
	close(fd);
	return bad;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A plain multithreaded reader (it knows nothing of famrt): threads read
 * random ranges of FILE with pread on one shared descriptor and with
 * lseek + read on descriptors of their own, and compare every byte with
 * REF (the same bytes elsewhere). Prints "ok <bytes>" and exits 0, or says
 * what differed and exits 1.
 *
 *   pl_mtread FILE REF [THREADS [ROUNDS]]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *path;
static int shared_fd;
static const uint8_t *ref;
static size_t size;
static unsigned rounds;
static uint64_t total;
static int failed;

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int check(unsigned id, const char *how, const uint8_t *got,
		 ssize_t n, uint64_t off, size_t len)
{
	size_t want = off >= size ? 0 : (size - off < len ? size - off : len);

	if (n < 0) {
		fprintf(stderr, "thread %u: %s of %zu at %llu: %s\n", id, how,
			len, (unsigned long long)off, strerror(errno));
		return -1;
	}
	if ((size_t)n != want) {
		fprintf(stderr, "thread %u: %s of %zu at %llu gave %zd bytes, "
				"not %zu\n", id, how, len,
			(unsigned long long)off, n, want);
		return -1;
	}
	for (size_t i = 0; i < want; i++)
		if (got[i] != ref[off + i]) {
			fprintf(stderr, "thread %u: %s at %llu: byte %llu is "
					"0x%02x, not 0x%02x\n", id, how,
				(unsigned long long)off,
				(unsigned long long)(off + i), got[i],
				ref[off + i]);
			return -1;
		}
	__atomic_add_fetch(&total, want, __ATOMIC_RELAXED);
	return 0;
}

static void *reader(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint64_t s = 0x9e3779b97f4a7c15ull * (id + 1);
	size_t cap = 1u << 20;
	uint8_t *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC), bad = 0;

	if (!buf || fd < 0) {
		fprintf(stderr, "thread %u: open %s: %s\n", id, path,
			strerror(errno));
		bad = 1;
	}
	for (unsigned r = 0; !bad && r < rounds &&
			     !__atomic_load_n(&failed, __ATOMIC_RELAXED);
	     r++) {
		uint64_t off = next(&s) % (size + 4096);
		size_t len = (size_t)(next(&s) % (r % 8 ? 70000 : cap)) + 1;

		if (r % 3) {
			bad = check(id, "pread", buf,
				    pread(shared_fd, buf, len, (off_t)off),
				    off, len);
		} else if (lseek(fd, (off_t)off, SEEK_SET) != (off_t)off) {
			fprintf(stderr, "thread %u: lseek to %llu: %s\n", id,
				(unsigned long long)off, strerror(errno));
			bad = 1;
		} else {
			bad = check(id, "read", buf, read(fd, buf, len), off,
				    len);
		}
	}
	if (bad)
		__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned nthreads = argc > 3 ? (unsigned)atoi(argv[3]) : 8;
	pthread_t t[64];
	struct stat st, rst;
	uint8_t *r;
	size_t got = 0;
	int rfd;

	if (argc < 3 || nthreads < 1 || nthreads > 64) {
		fprintf(stderr,
			"usage: pl_mtread FILE REF [THREADS [ROUNDS]]\n");
		return 2;
	}
	rounds = argc > 4 ? (unsigned)atoi(argv[4]) : 2000;
	path = argv[1];
	shared_fd = open(path, O_RDONLY);
	rfd = open(argv[2], O_RDONLY);
	if (shared_fd < 0 || rfd < 0 || fstat(shared_fd, &st) ||
	    fstat(rfd, &rst)) {
		perror("open/fstat");
		return 1;
	}
	if (st.st_size != rst.st_size) {
		fprintf(stderr, "%s has %lld bytes, %s %lld\n", path,
			(long long)st.st_size, argv[2],
			(long long)rst.st_size);
		return 1;
	}
	size = (size_t)st.st_size;
	r = malloc(size ? size : 1);
	while (r && got < size) {
		ssize_t n = read(rfd, r + got, size - got);

		if (n <= 0) {
			perror("read reference");
			return 1;
		}
		got += (size_t)n;
	}
	if (!r)
		return 1;
	ref = r;
	for (unsigned i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, reader, (void *)(uintptr_t)i)) {
			perror("pthread_create");
			return 1;
		}
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	if (failed)
		return 1;
	printf("ok %llu\n", (unsigned long long)total);
	return 0;
}

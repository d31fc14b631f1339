/* SPDX-License-Identifier: Apache-2.0 */
/*
 * threads: read one file with several threads that share one connection
 * and one open handle (every libfamrt call is thread-safe), each summing
 * the bytes of its slice.
 *   threads PATH [NTHREADS]
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <famrt/famrt.h>

struct slice {
	struct famrt_file *f;
	uint64_t off, len, sum;
	int err;
};

static void *reader(void *arg)
{
	struct slice *s = arg;
	unsigned char buf[65536];

	while (s->len) {
		size_t want = s->len < sizeof(buf) ? (size_t)s->len :
						     sizeof(buf);
		ssize_t n = famrt_pread(s->f, buf, want, s->off);

		if (n <= 0) {
			s->err = n < 0 ? (int)-n : EIO;
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			s->sum += buf[i];
		s->off += (uint64_t)n;
		s->len -= (uint64_t)n;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct famrt *fs;
	struct famrt_file *f;
	struct slice s[64];
	pthread_t t[64];
	uint64_t size, per, total = 0;
	int n = argc > 2 ? atoi(argv[2]) : 4, rc, status = 0;

	if (argc < 2 || n < 1 || n > 64) {
		fprintf(stderr, "usage: threads PATH [NTHREADS (1-64)]\n");
		return 2;
	}
	rc = famrt_connect(&fs, NULL);
	if (rc || (rc = famrt_open(fs, argv[1], O_RDONLY, &f))) {
		fprintf(stderr, "threads: %s\n", famrt_errmsg());
		return 1;
	}
	size = famrt_file_size(f);
	per = (size + (uint64_t)n - 1) / (uint64_t)n;
	for (int i = 0; i < n; i++) {
		uint64_t off = per * (uint64_t)i;

		s[i] = (struct slice){ .f = f, .off = off,
				       .len = off < size ? (size - off < per ?
							    size - off : per) :
							 0 };
		pthread_create(&t[i], NULL, reader, &s[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		if (s[i].err) {
			fprintf(stderr, "threads: slice %d: %s\n", i,
				strerror(s[i].err));
			status = 1;
		}
		total += s[i].sum;
	}
	printf("%" PRIu64 " bytes, byte sum %" PRIu64 "\n", size, total);
	famrt_close(f);
	famrt_disconnect(fs);
	return status;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the libfamrt integration tests: see rt_util.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rt_util.h"

struct famrt *rt_connect(const char *socket, uint32_t budget)
{
	struct famrt_connect_opts o = { .size = sizeof(o),
					.socket = socket,
					.map_budget = budget };
	struct famrt *c;
	int rc = famrt_connect(&c, &o);

	if (rc) {
		fprintf(stderr, "famrt_connect %s: %d %s\n", socket, rc,
			famrt_errmsg());
		return NULL;
	}
	return c;
}

static int remkfs(struct rt_env *v, const struct rt_mkfs *mk)
{
	const char *paths[H_MAX_DEVS];

	for (uint32_t i = 0; i < v->fs.ndevs; i++)
		paths[i] = v->fs.dev[i];
	return rt_mkfs(paths, v->fs.ndevs, mk, v->fs.uuid);
}

static int map_devs(struct rt_env *v)
{
	for (uint32_t i = 0; i < v->fs.ndevs; i++) {
		struct stat st;
		int fd = open(v->fs.dev[i], O_RDWR | O_CLOEXEC);
		void *p;

		if (fd < 0 || fstat(fd, &st)) {
			perror(v->fs.dev[i]);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
		close(fd);
		if (p == MAP_FAILED) {
			perror("mmap");
			return -1;
		}
		v->dev[i] = p;
		v->dev_len[i] = (size_t)st.st_size;
	}
	return 0;
}

int rt_env_start(struct rt_env *v, uint32_t ndevs, uint64_t devsize,
		 const struct rt_mkfs *mk, uint32_t budget)
{
	memset(v, 0, sizeof(*v));
	if (h_fs_make(&v->fs, ndevs, devsize, "host-a"))
		return -1;
	if (mk && remkfs(v, mk))
		goto fail;
	if (h_famrtd_start(&v->d, &v->fs, "svc", "host-a", NULL))
		goto fail;
	v->c = rt_connect(v->d.socket, budget);
	if (!v->c || map_devs(v))
		goto fail;
	return 0;
fail:
	rt_env_stop(v);
	return -1;
}

void rt_env_stop(struct rt_env *v)
{
	for (uint32_t i = 0; i < H_MAX_DEVS; i++)
		if (v->dev[i]) {
			munmap(v->dev[i], v->dev_len[i]);
			v->dev[i] = NULL;
		}
	if (v->c && famrt_disconnect(v->c))
		fprintf(stderr, "rt_env_stop: disconnect: %s\n",
			famrt_errmsg());
	v->c = NULL;
	h_famrtd_kill(&v->d);
	h_fs_remove(&v->fs);
}

struct rt_env *rt_env_new(uint32_t ndevs, uint64_t devsize)
{
	struct rt_env *v = calloc(1, sizeof(*v));

	if (v && rt_env_start(v, ndevs, devsize, NULL, 0)) {
		free(v);
		v = NULL;
	}
	return v;
}

void rt_env_free(struct rt_env *v)
{
	if (!v)
		return;
	rt_env_stop(v);
	free(v);
}

void rt_fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < n; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(s >> 56);
	}
}

uint64_t rt_rand(uint64_t *s)
{
	uint64_t x = *s += 0x9e3779b97f4a7c15ull;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

bool rt_model(const struct famrt_fmap *m, uint64_t x, struct rt_place *p)
{
	uint64_t size = famrt_fmap_file_size(m), start = 0;
	bool ilv = famrt_fmap_ext_type(m) == FAMRT_FMAP_EXT_INTERLEAVE;
	uint32_t ne = famrt_fmap_nextents(m);
	struct famrt_fmap_extent xt;

	if (x >= size)
		return false;
	for (uint32_t i = 0; i < ne; i++) {
		uint64_t holds, l;

		if (famrt_fmap_get_extent(m, i, &xt))
			return false;
		holds = ilv ? xt.nbytes : xt.strips[0].len;
		if (holds > size - start)
			holds = size - start;
		if (x >= start + holds) {
			start += holds;
			continue;
		}
		l = x - start;
		if (!ilv) {
			p->dev = xt.strips[0].devindex;
			p->off = xt.strips[0].offset + l;
			p->run = holds - l;
		} else {
			uint64_t c = xt.chunk_size, chunk = l / c,
				 coff = l % c, stripe = chunk / xt.nstrips;
			const struct famrt_fmap_strip *s =
				&xt.strips[chunk % xt.nstrips];

			p->dev = s->devindex;
			p->off = s->offset + stripe * c + coff;
			p->run = c - coff;
			if (p->run > holds - l)
				p->run = holds - l;
			/* The place must lie inside its strip. */
			if (stripe * c + coff + p->run > s->len)
				return false;
		}
		return true;
	}
	return false;
}

uint64_t rt_check_placement(const struct famrt_fmap *m, uint8_t *const *dev,
			    const uint8_t *ref, uint64_t size)
{
	uint64_t bad = 0, x = 0;
	struct rt_place p;

	while (x < size) {
		if (!rt_model(m, x, &p)) {
			fprintf(stderr, "model has no place for offset %llu\n",
				(unsigned long long)x);
			return size - x;
		}
		if (p.run > size - x)
			p.run = size - x;
		for (uint64_t k = 0; k < p.run; k++) {
			const uint8_t *d = dev[p.dev] + p.off + k;

			if (*d == ref[x + k])
				continue;
			if (!bad)
				fprintf(stderr,
					"file offset %llu: device %u offset "
					"%llu holds 0x%02x, expected 0x%02x\n",
					(unsigned long long)(x + k), p.dev,
					(unsigned long long)(p.off + k), *d,
					ref[x + k]);
			bad++;
		}
		x += p.run;
	}
	return bad;
}

size_t rt_boundaries(const struct famrt_fmap *m, uint64_t *out, size_t max)
{
	uint64_t size = famrt_fmap_file_size(m), x = 0;
	struct rt_place p;
	size_t n = 0;

	while (x < size && rt_model(m, x, &p)) {
		x += p.run;
		if (x < size) {
			if (n < max)
				out[n] = x;
			n++;
		}
	}
	return n;
}

int rt_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

uint64_t rt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

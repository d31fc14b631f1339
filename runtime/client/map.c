/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt_mmap: a file range as one contiguous virtual range. A file stored
 * in one run is served from the device mapping itself; otherwise a range
 * aligned for huge pages is reserved and each run is mapped into it with
 * MAP_FIXED from the device descriptor, at the device offset the fmap
 * gives. Every piece's device offset and length is checked against the
 * device's alignment and size first: the kernel does not always refuse a
 * wrong one (devdax-facts.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <famrt/famrt.h>

#include "client/internal.h"

/* The device a one-run file lives on. */
static uint32_t famrt_dev_of_direct(const struct famrt_file *f)
{
	struct famrt_fmap_run r;

	famrt_fmap_resolve(f->map, 0, &r);
	return r.dev;
}

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* The largest alignment among the devices the map uses (>= page size). */
static uint64_t map_align(const struct famrt_file *f)
{
	uint64_t a = (uint64_t)sysconf(_SC_PAGESIZE);
	uint32_t ne = famrt_fmap_nextents(f->map);
	struct famrt_fmap_extent x;

	for (uint32_t k = 0; k < ne; k++) {
		famrt_fmap_get_extent(f->map, k, &x);
		for (uint32_t j = 0; j < x.nstrips; j++) {
			const struct famrt_dev *d =
				&f->fs->dev[x.strips[j].devindex];

			if (d->align > a)
				a = d->align;
		}
	}
	return a;
}

static int add_mapping(struct famrt *fs, void *base, void *region,
		       size_t region_len, uint64_t pieces)
{
	struct famrt_mapping *m = calloc(1, sizeof(*m));

	if (!m)
		return famrt_fail(ENOMEM, "out of memory");
	m->base = base;
	m->region = region;
	m->region_len = region_len;
	m->pieces = pieces;
	m->next = fs->maps;
	fs->maps = m;
	fs->map_pieces += pieces;
	return 0;
}

int famrt_mmap(struct famrt_file *f, uint64_t off, size_t len, int prot,
	       void **addr)
{
	struct famrt *fs;
	struct famrt_fmap_iter it;
	struct famrt_fmap_run r;
	uint64_t align, start, end, pieces = 0, span;
	uint8_t *region = NULL, *base;
	size_t rlen;
	int rc;

	*addr = NULL;
	if (!f)
		return famrt_fail(EBADF, "no file");
	fs = f->fs;
	if (f->grow)
		return famrt_fail(EINVAL,
				  "'%s' is still being written and cannot be "
				  "mapped before famrt_fsync commits it",
				  f->grow->path);
	if (prot & ~(PROT_READ | PROT_WRITE))
		return famrt_fail(EINVAL, "famrt_mmap: prot 0x%x (only "
					  "PROT_READ and PROT_WRITE)",
				  prot);
	if ((prot & PROT_WRITE) && !f->writable)
		return famrt_fail(EACCES, "'%s' is not open for writing",
				  f->ino->path);
	if (off > f->size || (!len && off == f->size))
		return famrt_fail(EINVAL,
				  "famrt_mmap '%s': offset %llu is past the "
				  "end (%llu bytes)",
				  f->ino->path, (unsigned long long)off,
				  (unsigned long long)f->size);
	if (!len)
		len = f->size - off;
	if (len > f->size - off)
		return famrt_fail(EINVAL,
				  "famrt_mmap '%s': %zu bytes at %llu run past "
				  "the end (%llu bytes)",
				  f->ino->path, len, (unsigned long long)off,
				  (unsigned long long)f->size);

	/*
	 * A one-run file is served from the device mapping itself, when that
	 * mapping allows what was asked (a writable device mapping also
	 * serves a read-only request: the device is the trust boundary, see
	 * docs/security.md, and this costs no kernel mapping at all).
	 */
	if (f->direct && (!(prot & PROT_WRITE) ||
			  f->fs->writable[famrt_dev_of_direct(f)])) {
		pthread_mutex_lock(&fs->lock);
		rc = add_mapping(fs, f->direct + off, NULL, 0, 0);
		pthread_mutex_unlock(&fs->lock);
		if (!rc)
			*addr = f->direct + off;
		return rc;
	}

	align = map_align(f);
	start = off / align * align;
	end = off + len;
	span = round_up(end - start, align);

	/* Count and check the pieces before touching anything. */
	famrt_fmap_iter_init(&it, f->map, start, end - start);
	while (famrt_fmap_iter_next(&it, &r)) {
		const struct famrt_dev *d = &fs->dev[r.dev];
		uint64_t plen = round_up(r.len, align);

		if (!fs->base[r.dev])
			return famrt_fail(EACCES,
					  "'%s' lives on device %u, which this "
					  "user may not map",
					  f->ino->path, r.dev);
		if ((r.file_off - start) % align || r.dev_off % align ||
		    r.dev_off + plen > d->size)
			return famrt_fail(EINVAL,
					  "'%s' cannot be mapped: its run at "
					  "file offset %llu (device %u offset "
					  "%llu, %llu bytes) is not aligned to "
					  "%llu",
					  f->ino->path,
					  (unsigned long long)r.file_off, r.dev,
					  (unsigned long long)r.dev_off,
					  (unsigned long long)r.len,
					  (unsigned long long)align);
		pieces++;
	}

	pthread_mutex_lock(&fs->lock);
	if (fs->map_pieces + pieces > fs->map_budget) {
		uint64_t used = fs->map_pieces, budget = fs->map_budget;

		pthread_mutex_unlock(&fs->lock);
		return famrt_fail(ENOMEM,
				  "mapping %zu bytes of '%s' needs %llu kernel "
				  "mappings (one per run of its map), but only "
				  "%llu of the budget of %llu are left: map a "
				  "smaller range, create the file with a larger "
				  "chunk size or fewer strips, or raise "
				  "FAMRT_MAP_BUDGET (and vm.max_map_count)",
				  len, f->ino->path,
				  (unsigned long long)pieces,
				  (unsigned long long)(budget - used),
				  (unsigned long long)budget);
	}
	/* Reserve the whole range so nothing else lands inside it. */
	rlen = span + align;
	region = mmap(NULL, rlen, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED) {
		pthread_mutex_unlock(&fs->lock);
		return famrt_fail(ENOMEM, "cannot reserve %zu bytes of address "
					  "space: %s",
				  rlen, strerror(errno));
	}
	base = (uint8_t *)round_up((uintptr_t)region, align);
	famrt_fmap_iter_init(&it, f->map, start, end - start);
	while (famrt_fmap_iter_next(&it, &r)) {
		uint64_t plen = round_up(r.len, align);
		void *p = mmap(base + (r.file_off - start), plen, prot,
			       MAP_SHARED | MAP_FIXED, fs->dev[r.dev].fd,
			       (off_t)r.dev_off);

		if (p == MAP_FAILED) {
			int err = errno;

			munmap(region, rlen);
			pthread_mutex_unlock(&fs->lock);
			return famrt_fail(err,
					  "mapping device %u offset %llu (%llu "
					  "bytes) for '%s': %s",
					  r.dev, (unsigned long long)r.dev_off,
					  (unsigned long long)plen,
					  f->ino->path, strerror(err));
		}
	}
	rc = add_mapping(fs, base + (off - start), region, rlen, pieces);
	pthread_mutex_unlock(&fs->lock);
	if (rc) {
		munmap(region, rlen);
		return rc;
	}
	*addr = base + (off - start);
	return 0;
}

int famrt_munmap(struct famrt *fs, void *addr)
{
	struct famrt_mapping **pp, *m;

	if (!fs)
		return famrt_fail(EINVAL, "famrt_munmap: no connection");
	pthread_mutex_lock(&fs->lock);
	for (pp = &fs->maps; (m = *pp); pp = &m->next)
		if (m->base == addr)
			break;
	if (!m) {
		pthread_mutex_unlock(&fs->lock);
		return famrt_fail(EINVAL,
				  "famrt_munmap: %p is not an address "
				  "famrt_mmap returned",
				  addr);
	}
	*pp = m->next;
	fs->map_pieces -= m->pieces;
	pthread_mutex_unlock(&fs->lock);
	if (m->region)
		munmap(m->region, m->region_len);
	free(m);
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libfamrt data path: resolve runs with the fmap, copy. No system call and
 * no lock: a file's map and the device mappings never change while it is
 * open.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include <famrt/famrt.h>

#include "client/internal.h"
#include "fmap/fmap_resolve.h"

/* ---- copy routines ---- */

/*
 * Streaming (non-temporal) stores: the bytes go to memory without filling
 * the cache, which pays for large writes to device memory (no cache
 * pollution, nothing left to write back at flush). Below the threshold a
 * plain memcpy is faster.
 */
__attribute__((target("avx2"))) static void copy_nt_avx2(void *dst,
							 const void *src,
							 size_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	size_t head = (64 - ((uintptr_t)d & 63)) & 63;

	if (head > len)
		head = len;
	memcpy(d, s, head);
	d += head;
	s += head;
	len -= head;
	while (len >= 128) {
		__m256i a = _mm256_loadu_si256((const __m256i *)s);
		__m256i b = _mm256_loadu_si256((const __m256i *)(s + 32));
		__m256i c = _mm256_loadu_si256((const __m256i *)(s + 64));
		__m256i e = _mm256_loadu_si256((const __m256i *)(s + 96));

		_mm256_stream_si256((__m256i *)d, a);
		_mm256_stream_si256((__m256i *)(d + 32), b);
		_mm256_stream_si256((__m256i *)(d + 64), c);
		_mm256_stream_si256((__m256i *)(d + 96), e);
		d += 128;
		s += 128;
		len -= 128;
	}
	memcpy(d, s, len);
	_mm_sfence();
}

static void copy_nt_sse2(void *dst, const void *src, size_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	size_t head = (16 - ((uintptr_t)d & 15)) & 15;

	if (head > len)
		head = len;
	memcpy(d, s, head);
	d += head;
	s += head;
	len -= head;
	while (len >= 64) {
		__m128i a = _mm_loadu_si128((const __m128i *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
		__m128i e = _mm_loadu_si128((const __m128i *)(s + 48));

		_mm_stream_si128((__m128i *)d, a);
		_mm_stream_si128((__m128i *)(d + 16), b);
		_mm_stream_si128((__m128i *)(d + 32), c);
		_mm_stream_si128((__m128i *)(d + 48), e);
		d += 64;
		s += 64;
		len -= 64;
	}
	memcpy(d, s, len);
	_mm_sfence();
}

struct copy_choice {
	void (*nt)(void *, const void *, size_t);
	size_t threshold;
};

static struct copy_choice choice;
static pthread_once_t choice_once = PTHREAD_ONCE_INIT;

static void choose(void)
{
	const char *env = getenv("FAMRT_NT_THRESHOLD");

	__builtin_cpu_init();
	choice.nt = __builtin_cpu_supports("avx2") ? copy_nt_avx2 :
						     copy_nt_sse2;
	/*
	 * bench_io's nt/ cases (Xeon, AVX-512, clwb; plain/NT time): to a
	 * destination not in the cache, or flushed after (clwb), NT stores
	 * win from 4 KiB (1.3x to 2.1x); to a destination still in the cache
	 * and not flushed, they lose up to about the L2 size (2 MiB: 0.26x
	 * at 4 KiB, 0.43x at 64 KiB, 0.71x at 1 MiB). Per write, what NT
	 * gains on cold memory passes what it loses on cached memory at 8 to
	 * 16 KiB (4 KiB: +180 ns against -310 ns; 16 KiB: +900 against
	 * -620). Files on shared memory are mostly written cold or flushed;
	 * small writes are the likeliest to be rewritten while cached.
	 */
	choice.threshold = 16 * 1024;
	if (env && *env) {
		char *end;
		unsigned long long v = strtoull(env, &end, 0);

		if (!*end)
			choice.threshold = v ? (size_t)v : SIZE_MAX;
	}
}

size_t famrt_nt_threshold(void)
{
	pthread_once(&choice_once, choose);
	return choice.threshold == SIZE_MAX ? 0 : choice.threshold;
}

void famrt_copy_rechoose(void)
{
	pthread_once(&choice_once, choose);
	choose();
}

void famrt_copy_to_dev(void *dst, const void *src, size_t len)
{
	pthread_once(&choice_once, choose);
	if (len >= choice.threshold)
		choice.nt(dst, src, len);
	else
		memcpy(dst, src, len);
}

void famrt_copy_from_dev(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
}

/* ---- read and write ---- */

static ssize_t check_file(const struct famrt_file *f, const void *buf,
			  size_t len)
{
	if (!f)
		return famrt_fail(EBADF, "no file");
	if (!buf && len)
		return famrt_fail(EFAULT, "no buffer");
	if (len > SSIZE_MAX)
		return famrt_fail(EINVAL, "length %zu is over SSIZE_MAX", len);
	return 0;
}

/*
 * The general paths: every check, every case. famrt_pread and famrt_pwrite
 * below take a shortcut for the common case (an open, committed file and
 * a range inside it that lies in one run) and come here for everything
 * else, errors included.
 */
static __attribute__((noinline)) ssize_t
pread_general(struct famrt_file *f, void *buf, size_t len, uint64_t off)
{
	struct famrt_fmap_iter it;
	struct famrt_fmap_run r;
	uint8_t *dst = buf;
	ssize_t rc = check_file(f, buf, len);

	if (rc)
		return rc;
	if (__builtin_expect(f->grow != NULL, 0))
		return famrt_grow_pread(f, buf, len, off);
	/* Not even memcpy(NULL, p, 0): buf may be NULL when len is 0. */
	if (off >= f->size || !len)
		return 0;
	if (len > f->size - off)
		len = f->size - off;
	if (f->direct && !f->noncoherent) {
		memcpy(buf, f->direct + off, len);
		return (ssize_t)len;
	}
	famrt_fmap_iter_init(&it, f->map, off, len);
	while (famrt_fmap_iter_next(&it, &r)) {
		const uint8_t *src = f->base[r.dev] + r.dev_off;

		if (f->noncoherent)
			famrt_invalidate_range(src, r.len);
		memcpy(dst, src, r.len);
		dst += r.len;
	}
	return (ssize_t)len;
}

static __attribute__((noinline)) ssize_t
pwrite_general(struct famrt_file *f, const void *buf, size_t len,
	       uint64_t off)
{
	struct famrt_fmap_iter it;
	struct famrt_fmap_run r;
	const uint8_t *src = buf;
	ssize_t rc = check_file(f, buf, len);

	if (rc)
		return rc;
	if (__builtin_expect(f->grow != NULL, 0))
		return famrt_grow_pwrite(f, buf, len, off);
	if (!f->writable)
		return famrt_fail(EBADF, "'%s' is not open for writing",
				  f->ino->path);
	if (!len)
		return 0;
	if (off >= f->size)
		return famrt_fail(EFBIG,
				  "'%s': offset %llu is at or past the end of "
				  "the file (%llu bytes); famrt files do not "
				  "grow",
				  f->ino->path, (unsigned long long)off,
				  (unsigned long long)f->size);
	if (len > f->size - off)
		len = f->size - off;
	if (f->direct) {
		famrt_copy_to_dev(f->direct + off, buf, len);
		return (ssize_t)len;
	}
	famrt_fmap_iter_init(&it, f->map, off, len);
	while (famrt_fmap_iter_next(&it, &r)) {
		famrt_copy_to_dev(f->base[r.dev] + r.dev_off, src, r.len);
		src += r.len;
	}
	return (ssize_t)len;
}

/*
 * Copy up to SMALL_COPY (64) bytes with overlapping 16-byte moves (8 and 4
 * below 16, then bytes): no call. For reads this small the call into
 * memcpy and its own dispatch on the size cost as much as the copy
 * (bench_io read/.../64: 2.1 ns a read against 2.8 through memcpy). From
 * 65 bytes memcpy's wider vectors win (128: 2.5 ns against 3.0).
 */
static inline __attribute__((always_inline)) void
copy_small(uint8_t *d, const uint8_t *s, size_t n)
{
#if defined(__x86_64__)
	if (n >= 16) {
		const uint8_t *se = s + n - 16;
		uint8_t *de = d + n - 16;
		__m128i a = _mm_loadu_si128((const __m128i *)s);
		__m128i z = _mm_loadu_si128((const __m128i *)se);

		if (n > 32) {
			__m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
			__m128i y = _mm_loadu_si128((const __m128i *)(se - 16));

			_mm_storeu_si128((__m128i *)(d + 16), b);
			_mm_storeu_si128((__m128i *)(de - 16), y);
		}
		_mm_storeu_si128((__m128i *)d, a);
		_mm_storeu_si128((__m128i *)de, z);
	} else if (n >= 8) {
		uint64_t a, z;

		memcpy(&a, s, 8);
		memcpy(&z, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &z, 8);
	} else if (n >= 4) {
		uint32_t a, z;

		memcpy(&a, s, 4);
		memcpy(&z, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &z, 4);
	} else if (n) {
		uint8_t a = s[0], m = s[n / 2], z = s[n - 1];

		d[0] = a;
		d[n / 2] = m;
		d[n - 1] = z;
	}
#else
	memcpy(d, s, n);
#endif
}

#define SMALL_COPY 64

/*
 * The rest of famrt_pread's fast path, reached by tail calls so that it
 * saves no register: larger copies, and memory that is not coherent
 * between hosts.
 */
static __attribute__((noinline)) ssize_t pread_copy(uint8_t *buf,
						    const uint8_t *src,
						    size_t len)
{
	memcpy(buf, src, len);
	return (ssize_t)len;
}

static __attribute__((noinline)) ssize_t pread_nc(uint8_t *buf,
						  const uint8_t *src,
						  size_t len)
{
	famrt_invalidate_range(src, len);
	memcpy(buf, src, len);
	return (ssize_t)len;
}

/* The copy of famrt_pread's fast path, src..src+len in one run. */
static inline __attribute__((always_inline)) ssize_t
pread_from(const struct famrt_file *f, uint8_t *buf, const uint8_t *src,
	   size_t len)
{
	if (__builtin_expect(f->noncoherent, 0))
		return pread_nc(buf, src, len);
	if (len > SMALL_COPY)
		return pread_copy(buf, src, len);
	copy_small(buf, src, len);
	return (ssize_t)len;
}

/*
 * A file of several runs: resolve the piece holding off in place (the
 * caller has checked off < f->size, and the map's size is the file's: the
 * client refuses any other map); one copy when the read lies in it, else
 * the general path and its iterator. Out of line, so that its registers
 * do not cost the one-run files a stack frame.
 */
static __attribute__((noinline)) ssize_t
pread_map(struct famrt_file *f, uint8_t *buf, size_t len, uint64_t off)
{
	struct famrt_fmap_run r;

	famrt_fmap_resolve_in(f->map, off, &r);
	if (__builtin_expect(r.len < len, 0))
		return pread_general(f, buf, len, off);
	return pread_from(f, buf, f->base[r.dev] + r.dev_off, len);
}

ssize_t famrt_pread(struct famrt_file *f, void *buf, size_t len, uint64_t off)
{
	uint64_t size;

	if (__builtin_expect(!f || !buf || !len || len > SSIZE_MAX || f->grow,
			     0))
		return pread_general(f, buf, len, off);
	size = f->size;
	if (__builtin_expect(off >= size, 0))
		return pread_general(f, buf, len, off);
	if (len > size - off)
		len = size - off;
	if (!f->direct)
		return pread_map(f, buf, len, off);
	return pread_from(f, buf, f->direct + off, len);
}

static __attribute__((noinline)) ssize_t pwrite_copy(uint8_t *dst,
						     const uint8_t *src,
						     size_t len)
{
	famrt_copy_to_dev(dst, src, len);
	return (ssize_t)len;
}

static __attribute__((noinline)) ssize_t
pwrite_map(struct famrt_file *f, const uint8_t *buf, size_t len, uint64_t off)
{
	struct famrt_fmap_run r;

	famrt_fmap_resolve_in(f->map, off, &r);
	if (__builtin_expect(r.len < len, 0))
		return pwrite_general(f, buf, len, off);
	return pwrite_copy(f->base[r.dev] + r.dev_off, buf, len);
}

ssize_t famrt_pwrite(struct famrt_file *f, const void *buf, size_t len,
		     uint64_t off)
{
	uint64_t size;

	if (__builtin_expect(!f || !buf || !len || len > SSIZE_MAX ||
				     f->grow || !f->writable,
			     0))
		return pwrite_general(f, buf, len, off);
	size = f->size;
	if (__builtin_expect(off >= size, 0))
		return pwrite_general(f, buf, len, off);
	if (len > size - off)
		len = size - off;
	if (!f->direct)
		return pwrite_map(f, buf, len, off);
	return pwrite_copy(f->direct + off, buf, len);
}

ssize_t famrt_preadv(struct famrt_file *f, const struct iovec *iov, int iovcnt,
		     uint64_t off)
{
	ssize_t total = 0;

	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return famrt_fail(EINVAL, "iovcnt %d", iovcnt);
	for (int i = 0; i < iovcnt; i++) {
		ssize_t n = famrt_pread(f, iov[i].iov_base, iov[i].iov_len,
					off + (uint64_t)total);

		if (n < 0)
			return total ? total : n;
		total += n;
		if ((size_t)n < iov[i].iov_len)
			break;
	}
	return total;
}

ssize_t famrt_pwritev(struct famrt_file *f, const struct iovec *iov,
		      int iovcnt, uint64_t off)
{
	ssize_t total = 0;

	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return famrt_fail(EINVAL, "iovcnt %d", iovcnt);
	for (int i = 0; i < iovcnt; i++) {
		ssize_t n;

		if (!iov[i].iov_len)
			continue;
		n = famrt_pwrite(f, iov[i].iov_base, iov[i].iov_len,
				 off + (uint64_t)total);
		if (n < 0)
			return total ? total : n;
		total += n;
		if ((size_t)n < iov[i].iov_len)
			break;
	}
	return total;
}

/* ---- cache maintenance ---- */

static int each_run(struct famrt_file *f, uint64_t off, uint64_t len,
		    void (*fn)(const void *, size_t))
{
	struct famrt_fmap_iter it;
	struct famrt_fmap_run r;

	if (!f)
		return famrt_fail(EBADF, "no file");
	if (f->grow)
		return famrt_fail(EINVAL,
				  "'%s' is still being written: famrt_fsync "
				  "commits it",
				  f->grow->path);
	if (off > f->size)
		return famrt_fail(EINVAL,
				  "offset %llu is past the end of '%s' (%llu "
				  "bytes)",
				  (unsigned long long)off, f->ino->path,
				  (unsigned long long)f->size);
	if (!len)
		len = f->size - off;
	famrt_fmap_iter_init(&it, f->map, off, len);
	while (famrt_fmap_iter_next(&it, &r))
		fn(f->base[r.dev] + r.dev_off, r.len);
	return 0;
}

int famrt_flush(struct famrt_file *f, uint64_t off, uint64_t len)
{
	return each_run(f, off, len, famrt_flush_range);
}

int famrt_invalidate(struct famrt_file *f, uint64_t off, uint64_t len)
{
	return each_run(f, off, len, famrt_invalidate_range);
}

int famrt_fsync(struct famrt_file *f)
{
	if (f && f->grow)
		return famrt_grow_commit(f);
	return famrt_flush(f, 0, 0);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libfamrt_heap_preload.so: an unmodified program's large allocations on a
 * famrt heap.
 *
 * Loaded with LD_PRELOAD, it replaces malloc and its family. A request of
 * at least FAMRT_HEAP_THRESHOLD bytes (default 64 KiB) goes to a famrt
 * heap over the file FAMRT_HEAP_FILE (created on the first such request,
 * FAMRT_HEAP_SIZE bytes, default 1 GiB, through the service named by
 * FAMRT_SOCKET or the usual environment); everything else goes to the
 * allocator that comes next in the lookup order (normally glibc's), found
 * with dlsym(RTLD_NEXT). free and realloc tell heap blocks from others by
 * address (famrt_heap_contains); realloc across the threshold moves the
 * block. When the heap cannot be made, or is full, requests go to the
 * normal allocator, after one warning line on stderr. docs/heap.md lists
 * every variable and the limits.
 *
 * Bootstrapping: dlsym itself may allocate (calloc), before the real
 * functions are known; those few requests are served from a static buffer
 * and never freed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <famrt/famrt.h>
#include <famrt/heap.h>

#define EXPORT __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))

#define KiB (1024ull)
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)

/* ---- the normal allocator ---- */

static void *(*r_malloc)(size_t);
static void (*r_free)(void *);
static void *(*r_calloc)(size_t, size_t);
static void *(*r_realloc)(void *, size_t);
static void *(*r_memalign)(size_t, size_t);
static size_t (*r_usable)(void *);
static atomic_int resolved;
static pthread_mutex_t resolve_lock = PTHREAD_MUTEX_INITIALIZER;
static TLS int resolving;

/* Settings, read once with the real functions. */
static size_t threshold = 64 * KiB;
static uint64_t heap_size = 1 * GiB;
static const char *heap_file;

/* ---- the bootstrap buffer ---- */

static _Alignas(64) unsigned char boot[256 * KiB];
static atomic_size_t boot_used;

static bool in_boot(const void *p)
{
	return (uintptr_t)p - (uintptr_t)boot < sizeof(boot);
}

/* A block of the static buffer, its size in the 16 bytes before it. */
static void *boot_alloc(size_t size, size_t align)
{
	size_t cur = atomic_load(&boot_used), start, end;

	if (align < 16)
		align = 16;
	do {
		start = (cur + 16 + align - 1) / align * align;
		if (size > sizeof(boot) || start > sizeof(boot) - size) {
			errno = ENOMEM;
			return NULL;
		}
		end = start + size;
	} while (!atomic_compare_exchange_weak(&boot_used, &cur, end));
	memcpy(boot + start - sizeof(size_t), &size, sizeof(size));
	return boot + start; /* zero: the buffer is never reused */
}

static size_t boot_size(const void *p)
{
	size_t n;

	memcpy(&n, (const unsigned char *)p - sizeof(size_t), sizeof(n));
	return n;
}

/* "123", "64K", "256M", "1G" (binary units); 0 when malformed. */
static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return 0;
	switch (*end) {
	case 'k': case 'K': v *= KiB; end++; break;
	case 'm': case 'M': v *= MiB; end++; break;
	case 'g': case 'G': v *= GiB; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	return *end ? 0 : v;
}

static void say(const char *msg)
{
	size_t n = strlen(msg);

	while (n) {
		ssize_t w = write(2, msg, n);

		if (w <= 0)
			break;
		msg += w;
		n -= (size_t)w;
	}
}

/* False while this thread is inside dlsym (use the static buffer). */
static bool resolve(void)
{
	const char *v;

	if (__builtin_expect(atomic_load_explicit(&resolved,
						  memory_order_acquire), 1))
		return true;
	if (resolving)
		return false;
	resolving = 1;
	pthread_mutex_lock(&resolve_lock);
	if (!atomic_load(&resolved)) {
		r_malloc = dlsym(RTLD_NEXT, "malloc");
		r_free = dlsym(RTLD_NEXT, "free");
		r_calloc = dlsym(RTLD_NEXT, "calloc");
		r_realloc = dlsym(RTLD_NEXT, "realloc");
		r_memalign = dlsym(RTLD_NEXT, "memalign");
		r_usable = dlsym(RTLD_NEXT, "malloc_usable_size");
		if (!r_malloc || !r_free || !r_calloc || !r_realloc ||
		    !r_memalign) {
			say("famrt heap preload: the normal allocator's "
			    "functions cannot be found (dlsym RTLD_NEXT)\n");
			abort();
		}
		v = getenv("FAMRT_HEAP_THRESHOLD");
		if (v && *v) {
			uint64_t t = parse_size(v);

			if (t)
				threshold = (size_t)t;
			else
				say("famrt heap preload: FAMRT_HEAP_THRESHOLD "
				    "is not a size; using 64K\n");
		}
		v = getenv("FAMRT_HEAP_SIZE");
		if (v && *v) {
			uint64_t s = parse_size(v);

			if (s)
				heap_size = s;
			else
				say("famrt heap preload: FAMRT_HEAP_SIZE is "
				    "not a size; using 1G\n");
		}
		heap_file = getenv("FAMRT_HEAP_FILE");
		atomic_store_explicit(&resolved, 1, memory_order_release);
	}
	pthread_mutex_unlock(&resolve_lock);
	resolving = 0;
	return true;
}

/* ---- the heap ---- */

enum { H_NONE, H_INIT, H_READY, H_FAILED };

static atomic_int hstate;
static struct famrt *hfs;
static struct famrt_heap *heap;
static atomic_uintptr_t hbase, hlen;
static char hpath[1024];
static atomic_ullong fallback_allocs, fallback_bytes;
static atomic_int warned_full;
/* Inside the heap's own creation: everything to the normal allocator. */
static TLS int busy;

static bool in_heap(const void *p)
{
	return (uintptr_t)p -
		       atomic_load_explicit(&hbase, memory_order_relaxed) <
	       atomic_load_explicit(&hlen, memory_order_relaxed);
}

/* FAMRT_HEAP_FILE with %p replaced by the process id, %% by %. */
static int expand_path(const char *tmpl, char *out, size_t cap)
{
	size_t o = 0;

	for (const char *s = tmpl; *s; s++) {
		int n;

		if (s[0] == '%' && (s[1] == 'p' || s[1] == '%')) {
			if (s[1] == 'p')
				n = snprintf(out + o, cap - o, "%d",
					     (int)getpid());
			else
				n = snprintf(out + o, cap - o, "%%");
			s++;
		} else {
			n = snprintf(out + o, cap - o, "%c", *s);
		}
		if (n < 0 || (size_t)n >= cap - o)
			return -ENAMETOOLONG;
		o += (size_t)n;
	}
	return 0;
}

static bool env_yes(const char *name)
{
	const char *v = getenv(name);

	return v && (!strcmp(v, "1") || !strcmp(v, "yes") ||
		     !strcmp(v, "true"));
}

static int make_heap(char *why, size_t cap)
{
	struct famrt_layout lay = { .size = sizeof(lay), .interleave = true };
	const char *fork_mode = getenv("FAMRT_HEAP_FORK");
	unsigned flags = FAMRT_HEAP_FORK_PRIVATE;
	size_t len;
	void *base;
	int rc;

	if (!heap_file || !*heap_file) {
		snprintf(why, cap, "FAMRT_HEAP_FILE is not set");
		return -EINVAL;
	}
	if (expand_path(heap_file, hpath, sizeof(hpath))) {
		snprintf(why, cap, "FAMRT_HEAP_FILE is too long");
		return -ENAMETOOLONG;
	}
	if (fork_mode && !strcmp(fork_mode, "shared"))
		flags &= ~FAMRT_HEAP_FORK_PRIVATE;
	rc = famrt_connect(&hfs, NULL);
	if (rc) {
		snprintf(why, cap, "%s", famrt_errmsg());
		return rc;
	}
	rc = famrt_heap_create(hfs, hpath, heap_size,
			       env_yes("FAMRT_HEAP_INTERLEAVE") ? &lay : NULL,
			       flags, &heap);
	if (rc == -EEXIST && env_yes("FAMRT_HEAP_REUSE"))
		rc = famrt_heap_create(hfs, hpath, 0, NULL,
				       flags | FAMRT_HEAP_OPEN, &heap);
	if (rc) {
		snprintf(why, cap, "%s", famrt_errmsg());
		famrt_disconnect(hfs);
		hfs = NULL;
		return rc;
	}
	base = famrt_heap_base(heap, &len);
	atomic_store_explicit(&hbase, (uintptr_t)base, memory_order_relaxed);
	atomic_store_explicit(&hlen, len, memory_order_relaxed);
	return 0;
}

/* The heap, made on first use; NULL when there is none (yet). */
static struct famrt_heap *get_heap(void)
{
	int s = atomic_load_explicit(&hstate, memory_order_acquire);
	char why[600], msg[900];
	int rc;

	if (__builtin_expect(s == H_READY, 1))
		return heap;
	if (s != H_NONE || busy)
		return NULL;
	if (!atomic_compare_exchange_strong(&hstate, &s, H_INIT))
		return s == H_READY ? heap : NULL;
	busy++;
	why[0] = '\0';
	rc = make_heap(why, sizeof(why));
	busy--;
	if (rc) {
		snprintf(msg, sizeof(msg),
			 "famrt heap preload: no heap (%s); allocations go to "
			 "the normal allocator\n",
			 why);
		say(msg);
		atomic_store_explicit(&hstate, H_FAILED, memory_order_release);
		return NULL;
	}
	atomic_store_explicit(&hstate, H_READY, memory_order_release);
	return heap;
}

static void note_fallback(size_t size)
{
	atomic_fetch_add_explicit(&fallback_allocs, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&fallback_bytes, size, memory_order_relaxed);
	if (atomic_load_explicit(&hstate, memory_order_relaxed) == H_READY &&
	    !atomic_exchange(&warned_full, 1)) {
		char msg[1200];

		snprintf(msg, sizeof(msg),
			 "famrt heap preload: heap '%s' is full; what does "
			 "not fit goes to the normal allocator\n",
			 hpath);
		say(msg);
	}
}

/* A large request on the heap, or NULL (then the caller falls back). */
static void *heap_get(size_t size, size_t align, bool zero)
{
	struct famrt_heap *h;
	void *p;

	if (size < threshold || busy || !(h = get_heap()))
		return NULL;
	if (align > 16)
		p = famrt_heap_aligned_alloc(h, align, size);
	else if (zero)
		p = famrt_heap_calloc(h, 1, size);
	else
		p = famrt_heap_malloc(h, size);
	if (!p)
		note_fallback(size);
	return p;
}

/* ---- the interface ---- */

EXPORT void *malloc(size_t size)
{
	void *p;

	if (!resolve())
		return boot_alloc(size, 16);
	if (size >= threshold && (p = heap_get(size, 0, false)))
		return p;
	return r_malloc(size);
}

EXPORT void free(void *p)
{
	if (!p)
		return;
	if (in_heap(p)) {
		famrt_heap_free(heap, p);
		return;
	}
	if (in_boot(p) || !resolve())
		return;
	r_free(p);
}

EXPORT void *calloc(size_t n, size_t size)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (!resolve())
		return boot_alloc(total, 16);
	if (total >= threshold && (p = heap_get(total, 0, true)))
		return p;
	return r_calloc(n, size);
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

EXPORT void *realloc(void *p, size_t size)
{
	void *q;

	if (!p)
		return malloc(size);
	if (in_boot(p)) {
		q = malloc(size ? size : 1);
		if (q)
			memcpy(q, p, min_size(boot_size(p), size));
		return q;
	}
	if (!resolve())
		return NULL; /* not reached: p came from somewhere */
	if (in_heap(p)) {
		size_t old;

		if (!size) {
			famrt_heap_free(heap, p);
			return NULL;
		}
		if (size >= threshold) {
			q = famrt_heap_realloc(heap, p, size);
			if (q)
				return q;
			note_fallback(size);
		}
		/* Below the threshold now, or the heap is full: move out. */
		old = famrt_heap_usable_size(heap, p);
		q = r_malloc(size);
		if (!q)
			return NULL;
		memcpy(q, p, min_size(old, size));
		famrt_heap_free(heap, p);
		return q;
	}
	if (size >= threshold && r_usable && (q = heap_get(size, 0, false))) {
		memcpy(q, p, min_size(r_usable(p), size));
		r_free(p);
		return q;
	}
	return r_realloc(p, size);
}

EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

static void *aligned(size_t align, size_t size)
{
	void *p;

	if (!resolve())
		return boot_alloc(size, align);
	if (size >= threshold && (p = heap_get(size, align, false)))
		return p;
	return r_memalign(align, size);
}

EXPORT void *memalign(size_t align, size_t size)
{
	if (align & (align - 1)) {
		/* glibc rounds up to the next power of two. */
		size_t a = 1;

		while (a < align && a)
			a <<= 1;
		if (!a) {
			errno = EINVAL;
			return NULL;
		}
		align = a;
	}
	return aligned(align ? align : 1, size);
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
	if (!align || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return aligned(align, size);
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;
	int saved = errno;

	if (!align || (align & (align - 1)) || align % sizeof(void *))
		return EINVAL;
	p = aligned(align, size);
	if (!p) {
		int e = errno;

		errno = saved;
		return e ? e : ENOMEM;
	}
	*out = p;
	return 0;
}

EXPORT void *valloc(size_t size)
{
	return aligned((size_t)sysconf(_SC_PAGESIZE), size);
}

EXPORT void *pvalloc(size_t size)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);

	if (size > SIZE_MAX - ps) {
		errno = ENOMEM;
		return NULL;
	}
	return aligned(ps, size ? (size + ps - 1) / ps * ps : ps);
}

EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (in_heap(p))
		return famrt_heap_usable_size(heap, p);
	if (in_boot(p))
		return boot_size(p);
	if (!resolve() || !r_usable)
		return 0;
	return r_usable(p);
}

/*
 * FAMRT_HEAP_REPORT=path: at exit, write what the heap served, one
 * "key value" per line (for tests and for people checking a setup).
 */
__attribute__((destructor)) static void heap_report(void)
{
	const char *path = getenv("FAMRT_HEAP_REPORT");
	struct famrt_heap_stats st = { .size = sizeof(st) };
	int s = atomic_load(&hstate);
	FILE *f;

	if (!path || !*path)
		return;
	if (s == H_READY && famrt_heap_stats(heap, &st))
		memset(&st, 0, sizeof(st));
	f = fopen(path, "we");
	if (!f)
		return;
	fprintf(f,
		"state %s\nfile %s\nthreshold %zu\nmapped %llu\n"
		"reserved %llu\nnmalloc %llu\ntotal_bytes %llu\nlive %llu\n"
		"allocated %llu\nnfailed %llu\nfallback_allocs %llu\n"
		"fallback_bytes %llu\n",
		s == H_READY ? "ready" : s == H_FAILED ? "failed" : "unused",
		s == H_READY ? hpath : "-", threshold,
		(unsigned long long)st.mapped,
		(unsigned long long)st.reserved,
		(unsigned long long)st.nmalloc,
		(unsigned long long)st.total_bytes,
		(unsigned long long)st.live,
		(unsigned long long)st.allocated,
		(unsigned long long)st.nfailed,
		(unsigned long long)atomic_load(&fallback_allocs),
		(unsigned long long)atomic_load(&fallback_bytes));
	fclose(f);
}

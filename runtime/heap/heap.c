/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt heaps: a jemalloc arena whose memory is one famrt file's mapping.
 *
 * Extent hooks. jemalloc gets its extents (page multiples, aligned to a
 * power of two) from our alloc hook, which hands out the mapping from the
 * front with a lock-free bump pointer. Memory is never given back: a dax
 * device cannot take pages back (no MADV_REMOVE or MADV_DONTNEED), so
 * dalloc, decommit and both purges opt out (NULL hooks, the documented
 * universal opt-out, same as returning true). jemalloc then keeps every
 * freed extent, still committed and with its old bytes, in its "retained"
 * cache, and reuses, splits and merges it there: that is the reuse of freed
 * extents, done by jemalloc itself. Decommit must refuse rather than
 * pretend: a decommit reported as done makes jemalloc believe the pages come
 * back zeroed, and calloc would skip its zeroing. split and merge always
 * succeed (every extent lies in one contiguous mapping); commit succeeds
 * (the memory is always there); nothing is destroyed at arena destruction:
 * the mapping goes away whole. jemalloc never merges extents that came
 * from different alloc calls, so the heap is taken in one extent at
 * creation (arena_prime); decay purging is switched off (it could only
 * fail), and a request that does not fit empties the thread's cache and
 * purges the arena once, which merges freed extents, before it fails.
 * Those purges and their second tries are serialized (reclaim_lock):
 * jemalloc runs one purge of an arena at a time and a second caller returns
 * at once, before the first has put the space back; without the lock a
 * thread failing while another purges would fail in a heap with room.
 *
 * Metadata. The arena is created with "experimental.arenas_create_ext" and
 * metadata_use_hooks = false when this jemalloc has it (5.3 does), so
 * jemalloc's own bookkeeping stays in ordinary memory and the file holds
 * only blocks; otherwise with "arenas.create", and the bookkeeping comes
 * out of the file too.
 *
 * Thread caches. With MALLOCX_ARENA and the automatic tcache, jemalloc
 * serves a request from the calling thread's cache whatever arena the
 * cached block came from (the tcache is per thread, shared by all arenas):
 * blocks of ordinary memory would come out of famrt_heap_malloc, and heap
 * blocks freed through the automatic cache would come out of malloc. So
 * each thread gets an explicit tcache ("tcache.create") per heap it uses,
 * used only with that heap's arena, and destroyed when the thread exits or
 * the heap is destroyed. FAMRT_HEAP_NO_TCACHE uses MALLOCX_TCACHE_NONE
 * instead (bench_heap measures both). The per-thread record also holds the
 * thread's statistics counters (blocks, bytes asked for), written by that
 * thread only, so counting costs a few plain stores and no call into
 * jemalloc; the bytes in use come from jemalloc's own arena statistics.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jemalloc/jemalloc.h>

#include <famrt/famrt.h>
#include <famrt/heap.h>

#include "client/internal.h"

#define HEAP_MIN (2u << 20)
#define HEAP_FLAGS (FAMRT_HEAP_OPEN | FAMRT_HEAP_NO_TCACHE | \
		    FAMRT_HEAP_FORK_PRIVATE)

/* One thread's use of one heap. */
struct heap_tc {
	uint64_t heap_id;
	struct famrt_heap *heap; /* NULL once the heap is gone (heap_lock) */
	int tcache;              /* explicit tcache, or -1 */
	int flags;               /* mallocx flags for this thread */
	/* Statistics: written by the owning thread only, read by anyone. */
	_Atomic int64_t live;
	_Atomic uint64_t nmalloc, bytes, nfailed;
	struct heap_tc *tnext;          /* the thread's records */
	struct heap_tc *hnext, *hprev;  /* the heap's records (heap_lock) */
};

struct famrt_heap {
	extent_hooks_t hooks; /* first: a hook finds its heap from it */
	uint64_t id;          /* unique in the process, never reused */
	struct famrt *fs;
	struct famrt_file *file;
	uint8_t *base;
	size_t len;
	unsigned arena;
	unsigned flags;
	int flags_none;       /* mallocx flags without a thread record */
	bool meta_in_heap;    /* jemalloc's bookkeeping is in the file too */
	bool dead;            /* a forked child could not make its copy */
	_Atomic size_t bump;  /* bytes of the mapping handed to jemalloc */
	_Atomic size_t hwm;   /* end of the highest block handed out */
	/* Counters of exited threads and of threads without a record. */
	_Atomic int64_t live;
	_Atomic uint64_t nmalloc, bytes, nfailed;
	struct heap_tc *tcs;                   /* heap_lock */
	struct famrt_heap *reg_next, *reg_prev; /* heap_lock */
	void *fork_copy;                       /* fork_prepare .. after */
	size_t fork_len;
};

/*
 * heap_lock protects the registry of heaps, the heaps' record lists and
 * every record's heap pointer. It is never held while waiting for a lock
 * of jemalloc's from inside a hook (the hooks take no lock at all).
 */
static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
/*
 * reclaim_lock is held across a purge and the try after it (rare: only
 * when a request does not fit). Taken before any of jemalloc's locks and
 * never while heap_lock is held; fork_prepare takes it before heap_lock.
 * That fork waits for a purge in progress matters too: a fork in the
 * middle of one would leave jemalloc's "purging" mark set in the child
 * (its fork handler does not clear it), and every later purge there would
 * return at once. One lock for all heaps: purges are rare and short.
 */
static pthread_mutex_t reclaim_lock = PTHREAD_MUTEX_INITIALIZER;
static struct famrt_heap *registry;
static _Atomic uint64_t next_id = 1;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t tc_key;
static bool tc_key_ok;
static __thread struct heap_tc *tc_list, *tc_last;

static size_t page_size(void)
{
	static size_t ps;

	if (!ps)
		ps = (size_t)sysconf(_SC_PAGESIZE);
	return ps;
}

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

/* ---- extent hooks ---- */

static void *hook_alloc(extent_hooks_t *eh, void *new_addr, size_t size,
			size_t align, bool *zero, bool *commit, unsigned ind)
{
	struct famrt_heap *h = (struct famrt_heap *)(void *)eh;
	uintptr_t base = (uintptr_t)h->base;
	size_t cur = atomic_load_explicit(&h->bump, memory_order_relaxed);
	size_t start;

	(void)ind;
	if (!size || !align || (align & (align - 1)))
		return NULL;
	do {
		if (new_addr) {
			/* Growing in place: only at the frontier. */
			if ((uintptr_t)new_addr != base + cur ||
			    (uintptr_t)new_addr % align)
				return NULL;
			start = cur;
		} else {
			uintptr_t a = (base + cur + align - 1) &
				      ~(uintptr_t)(align - 1);

			if (a < base + cur)
				return NULL;
			start = a - base;
		}
		if (start > h->len || size > h->len - start)
			return NULL;
	} while (!atomic_compare_exchange_weak_explicit(
		&h->bump, &cur, start + size, memory_order_relaxed,
		memory_order_relaxed));
	/* The file's old bytes are still there: zero when asked. */
	if (*zero)
		memset(h->base + start, 0, size);
	*commit = true;
	return h->base + start;
}

static bool hook_commit(extent_hooks_t *eh, void *addr, size_t size,
			size_t off, size_t len, unsigned ind)
{
	(void)eh, (void)addr, (void)size, (void)off, (void)len, (void)ind;
	return false; /* always committed */
}

static bool hook_split(extent_hooks_t *eh, void *addr, size_t size,
		       size_t size_a, size_t size_b, bool committed,
		       unsigned ind)
{
	(void)eh, (void)addr, (void)size, (void)size_a, (void)size_b;
	(void)committed, (void)ind;
	return false;
}

static bool hook_merge(extent_hooks_t *eh, void *addr_a, size_t size_a,
		       void *addr_b, size_t size_b, bool committed,
		       unsigned ind)
{
	(void)eh, (void)addr_a, (void)size_a, (void)addr_b, (void)size_b;
	(void)committed, (void)ind;
	return false;
}

static const extent_hooks_t heap_hooks = {
	.alloc = hook_alloc,
	.dalloc = NULL,       /* opt out: keep the extent (retained) */
	.destroy = NULL,      /* the mapping goes away whole */
	.commit = hook_commit,
	.decommit = NULL,     /* opt out: stays committed, bytes kept */
	.purge_lazy = NULL,   /* opt out */
	.purge_forced = NULL, /* opt out */
	.split = hook_split,
	.merge = hook_merge,
};

/* ---- per-thread records ---- */

static void cnt_add(_Atomic int64_t *c, int64_t d)
{
	/* Only the owner writes: a plain load and store, no locked add. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) +
				       d,
			      memory_order_relaxed);
}

static void cnt_addu(_Atomic uint64_t *c, uint64_t d)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) +
				       d,
			      memory_order_relaxed);
}

static void tcache_destroy(int tc)
{
	unsigned ind = (unsigned)tc;

	if (tc >= 0)
		mallctl("tcache.destroy", NULL, NULL, &ind, sizeof(ind));
}

/* Fold a record into its heap and detach it (heap_lock held). */
static void tc_retire(struct heap_tc *t)
{
	struct famrt_heap *h = t->heap;

	atomic_fetch_add(&h->live, atomic_load(&t->live));
	atomic_fetch_add(&h->nmalloc, atomic_load(&t->nmalloc));
	atomic_fetch_add(&h->bytes, atomic_load(&t->bytes));
	atomic_fetch_add(&h->nfailed, atomic_load(&t->nfailed));
	tcache_destroy(t->tcache);
	t->tcache = -1;
	if (t->hprev)
		t->hprev->hnext = t->hnext;
	else
		h->tcs = t->hnext;
	if (t->hnext)
		t->hnext->hprev = t->hprev;
	t->heap = NULL;
}

static void tc_thread_exit(void *arg)
{
	struct heap_tc *t = arg, *n;

	pthread_mutex_lock(&heap_lock);
	for (; t; t = n) {
		n = t->tnext;
		if (t->heap)
			tc_retire(t);
		free(t);
	}
	pthread_mutex_unlock(&heap_lock);
	tc_list = tc_last = NULL;
}

static struct heap_tc *tc_slow(struct famrt_heap *h)
{
	struct heap_tc *t, **pp;
	unsigned ind;
	size_t sz = sizeof(ind);

	for (t = tc_list; t; t = t->tnext)
		if (t->heap_id == h->id) {
			tc_last = t;
			return t;
		}
	if (!tc_key_ok)
		return NULL; /* no way to clean up after the thread */
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->heap_id = h->id;
	t->heap = h;
	t->tcache = -1;
	if (!(h->flags & FAMRT_HEAP_NO_TCACHE) &&
	    !mallctl("tcache.create", &ind, &sz, NULL, 0))
		t->tcache = (int)ind;
	t->flags = MALLOCX_ARENA(h->arena) |
		   (t->tcache >= 0 ? MALLOCX_TCACHE(t->tcache) :
				     MALLOCX_TCACHE_NONE);
	pthread_mutex_lock(&heap_lock);
	/* Drop this thread's records of heaps destroyed since. */
	for (pp = &tc_list; *pp;) {
		struct heap_tc *x = *pp;

		if (!x->heap) {
			*pp = x->tnext;
			free(x);
		} else {
			pp = &x->tnext;
		}
	}
	t->hnext = h->tcs;
	if (h->tcs)
		h->tcs->hprev = t;
	h->tcs = t;
	t->tnext = tc_list;
	tc_list = t;
	pthread_mutex_unlock(&heap_lock);
	tc_last = t;
	pthread_setspecific(tc_key, tc_list);
	return t;
}

static inline struct heap_tc *tc_get(struct famrt_heap *h)
{
	struct heap_tc *t = tc_last;

	if (__builtin_expect(t && t->heap_id == h->id, 1))
		return t;
	return tc_slow(h);
}

/*
 * Counting costs no call into jemalloc on the way: blocks are counted by
 * number and by the bytes asked for. Only when a block ends past the
 * high-water mark is its real (usable) end looked up.
 */
static void note_alloc(struct famrt_heap *h, struct heap_tc *t, void *p,
		       size_t size)
{
	size_t off = (size_t)((uint8_t *)p - h->base);
	size_t cur = atomic_load_explicit(&h->hwm, memory_order_relaxed);

	if (__builtin_expect(off + size > cur, 0)) {
		size_t end = off + sallocx(p, 0);

		while (end > cur &&
		       !atomic_compare_exchange_weak_explicit(
			       &h->hwm, &cur, end, memory_order_relaxed,
			       memory_order_relaxed))
			;
	}
	if (t) {
		cnt_add(&t->live, 1);
		cnt_addu(&t->nmalloc, 1);
		cnt_addu(&t->bytes, size);
	} else {
		atomic_fetch_add(&h->live, 1);
		atomic_fetch_add(&h->nmalloc, 1);
		atomic_fetch_add(&h->bytes, size);
	}
}

static void note_free(struct famrt_heap *h, struct heap_tc *t)
{
	if (t)
		cnt_add(&t->live, -1);
	else
		atomic_fetch_sub(&h->live, 1);
}

static void note_failed(struct famrt_heap *h, struct heap_tc *t)
{
	if (t)
		cnt_addu(&t->nfailed, 1);
	else
		atomic_fetch_add(&h->nfailed, 1);
}

/* ---- fork ---- */

/*
 * The part of the mapping that holds anything: up to the highest block
 * ever handed out (and all jemalloc took, when its bookkeeping is in the
 * file too). The rest is free space whose bytes do not matter.
 */
static size_t used_len(struct famrt_heap *h)
{
	size_t n = atomic_load(&h->hwm);

	if (h->meta_in_heap && atomic_load(&h->bump) > n)
		n = atomic_load(&h->bump);
	n = round_up(n, page_size());
	return n < h->len ? n : h->len;
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&reclaim_lock);
	pthread_mutex_lock(&heap_lock);
	for (struct famrt_heap *h = registry; h; h = h->reg_next) {
		size_t n;
		void *c;

		h->fork_copy = NULL;
		h->fork_len = 0;
		if (!(h->flags & FAMRT_HEAP_FORK_PRIVATE) || h->dead)
			continue;
		n = used_len(h);
		h->fork_len = n;
		if (!n)
			continue;
		c = mmap(NULL, n, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c == MAP_FAILED)
			continue;
		memcpy(c, h->base, n);
		h->fork_copy = c;
	}
}

static void fork_parent(void)
{
	for (struct famrt_heap *h = registry; h; h = h->reg_next) {
		if (h->fork_copy)
			munmap(h->fork_copy, h->fork_len);
		h->fork_copy = NULL;
	}
	pthread_mutex_unlock(&heap_lock);
	pthread_mutex_unlock(&reclaim_lock);
}

/*
 * In the child: put the private copy where the heap was, and fresh private
 * memory over the rest of the range, so nothing of the child's heap is the
 * shared file any more.
 */
static void fork_child_one(struct famrt_heap *h)
{
	size_t n = h->fork_len, now = used_len(h);
	uint8_t *c = h->fork_copy;

	h->fork_copy = NULL;
	if (n && !c) {
		h->dead = true; /* no memory for the copy in the parent */
		return;
	}
	if (now > n) {
		/* Handed out by other threads while fork ran: copy it now. */
		void *g = c ? mremap(c, n, now, MREMAP_MAYMOVE) :
			      mmap(NULL, now, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (g == MAP_FAILED) {
			if (c)
				munmap(c, n);
			h->dead = true;
			return;
		}
		c = g;
		memcpy(c + n, h->base + n, now - n);
		n = now;
	}
	if (n && mremap(c, n, n, MREMAP_MAYMOVE | MREMAP_FIXED, h->base) ==
			 MAP_FAILED) {
		munmap(c, n);
		h->dead = true;
		return;
	}
	if (h->len > n &&
	    mmap(h->base + n, h->len - n, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1,
		 0) == MAP_FAILED)
		h->dead = true;
}

static void fork_child(void)
{
	for (struct famrt_heap *h = registry; h; h = h->reg_next)
		if ((h->flags & FAMRT_HEAP_FORK_PRIVATE) && !h->dead)
			fork_child_one(h);
	pthread_mutex_unlock(&heap_lock);
	pthread_mutex_unlock(&reclaim_lock);
}

static void init_once(void)
{
	tc_key_ok = !pthread_key_create(&tc_key, tc_thread_exit);
	/*
	 * Registered after jemalloc is initialised (the caller made an arena
	 * first), so our prepare runs before jemalloc's and our child handler
	 * after its: heap_lock is never awaited while jemalloc's locks are
	 * held by the forking thread.
	 */
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ---- create and destroy ---- */

/* jemalloc's arena_config_t (5.3): hooks, and where metadata comes from. */
struct heap_arena_config {
	extent_hooks_t *extent_hooks;
	bool metadata_use_hooks;
};

static int arena_make(struct famrt_heap *h, const char *path)
{
	struct heap_arena_config cfg = { .extent_hooks = &h->hooks,
					 .metadata_use_hooks = false };
	extent_hooks_t *hp = &h->hooks;
	unsigned ind;
	size_t sz = sizeof(ind);
	int rc;

	rc = mallctl("experimental.arenas_create_ext", &ind, &sz, &cfg,
		     sizeof(cfg));
	if (rc) {
		sz = sizeof(ind);
		rc = mallctl("arenas.create", &ind, &sz, &hp, sizeof(hp));
		h->meta_in_heap = true;
	}
	if (rc)
		return famrt_fail(rc == EAGAIN ? ENOMEM : rc,
				  "heap '%s': jemalloc cannot create an "
				  "arena: %s",
				  path, strerror(rc));
	if (ind > 4094) {
		char name[48];

		snprintf(name, sizeof(name), "arena.%u.destroy", ind);
		mallctl(name, NULL, NULL, NULL, 0);
		return famrt_fail(EMFILE,
				  "heap '%s': jemalloc arena index %u is past "
				  "what MALLOCX_ARENA can name",
				  path, ind);
	}
	h->arena = ind;
	h->flags_none = MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE;
	/*
	 * Purging cannot give memory back here, so do not try on a timer:
	 * freed extents stay in jemalloc's dirty cache for reuse (reclaim()
	 * purges on demand when a request does not fit).
	 */
	{
		ssize_t never = -1;
		char name[64];

		snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", ind);
		mallctl(name, NULL, NULL, &never, sizeof(never));
		snprintf(name, sizeof(name), "arena.%u.muzzy_decay_ms", ind);
		mallctl(name, NULL, NULL, &never, sizeof(never));
	}
	return 0;
}

/*
 * jemalloc never merges extents that came from different calls of the
 * alloc hook (each is a "head"), and left to itself it grows in steps of
 * 2 MiB, 2.5 MiB, 3 MiB...: a heap filled and emptied again could then
 * never hold a block larger than its largest step. So take the heap in
 * one extent first: allocate the largest size class that fits and free
 * it, then purge, which moves it to jemalloc's retained cache, from which
 * every later extent is split (and into which freed ones merge back).
 */
static void arena_prime(struct famrt_heap *h)
{
	size_t page = page_size(), avail, cls, sz;
	unsigned n;
	char name[48];

	sz = sizeof(n);
	if (mallctl("arenas.nlextents", &n, &sz, NULL, 0))
		return;
	avail = h->len - atomic_load(&h->bump);
	while (n--) {
		void *p;

		snprintf(name, sizeof(name), "arenas.lextent.%u.size", n);
		sz = sizeof(cls);
		if (mallctl(name, &cls, &sz, NULL, 0) || cls + page > avail)
			continue;
		p = mallocx(cls, h->flags_none);
		if (p) {
			dallocx(p, h->flags_none);
			break;
		}
	}
	snprintf(name, sizeof(name), "arena.%u.purge", h->arena);
	mallctl(name, NULL, NULL, NULL, 0);
}

/* Prefix this thread's famrt message with the heap's path. */
static int heap_fail(int rc, const char *path, const char *what)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", famrt_errmsg());
	return famrt_fail(-rc, "heap '%s': %s: %s", path, what, msg);
}

int famrt_heap_create(struct famrt *fs, const char *path, uint64_t size,
		      const struct famrt_layout *lay, unsigned flags,
		      struct famrt_heap **out)
{
	struct famrt_heap *h;
	uint64_t fsize;
	void *base;
	int rc;

	if (!out)
		return famrt_fail(EINVAL, "famrt_heap_create: no out pointer");
	*out = NULL;
	if (!fs || !path)
		return famrt_fail(EINVAL, "famrt_heap_create: no %s",
				  fs ? "path" : "connection");
	if (flags & ~HEAP_FLAGS)
		return famrt_fail(EINVAL,
				  "heap '%s': unknown flags 0x%x", path,
				  flags & ~HEAP_FLAGS);
	if ((flags & FAMRT_HEAP_OPEN) && lay)
		return famrt_fail(EINVAL,
				  "heap '%s': a layout is for a new file, not "
				  "with FAMRT_HEAP_OPEN",
				  path);
	if (!(flags & FAMRT_HEAP_OPEN) && size < HEAP_MIN)
		return famrt_fail(EINVAL,
				  "heap '%s': %llu bytes is too small (at "
				  "least %u)",
				  path, (unsigned long long)size, HEAP_MIN);
	if (size > (uint64_t)PTRDIFF_MAX)
		return famrt_fail(EINVAL, "heap '%s': %llu bytes is too large",
				  path, (unsigned long long)size);
	h = calloc(1, sizeof(*h));
	if (!h)
		return famrt_fail(ENOMEM, "out of memory");
	h->hooks = heap_hooks;
	h->fs = fs;
	h->flags = flags;
	if (flags & FAMRT_HEAP_OPEN)
		rc = famrt_open(fs, path, O_RDWR, &h->file);
	else
		rc = famrt_create(fs, path, 0600, size, lay, &h->file);
	if (rc) {
		rc = heap_fail(rc, path, flags & FAMRT_HEAP_OPEN ?
						 "cannot open the file" :
						 "cannot create the file");
		free(h);
		return rc;
	}
	fsize = famrt_file_size(h->file);
	if ((flags & FAMRT_HEAP_OPEN) &&
	    ((size && size != fsize) || fsize < HEAP_MIN)) {
		famrt_close(h->file);
		free(h);
		if (fsize < HEAP_MIN)
			return famrt_fail(EINVAL,
					  "heap '%s': the file has %llu bytes, "
					  "too few for a heap (at least %u)",
					  path, (unsigned long long)fsize,
					  HEAP_MIN);
		return famrt_fail(EINVAL,
				  "heap '%s': the file has %llu bytes, not "
				  "the %llu asked for",
				  path, (unsigned long long)fsize,
				  (unsigned long long)size);
	}
	h->len = (size_t)(fsize / page_size() * page_size());
	rc = famrt_mmap(h->file, 0, h->len, PROT_READ | PROT_WRITE, &base);
	if (rc) {
		rc = heap_fail(rc, path, "cannot map the file");
		famrt_close(h->file);
		free(h);
		return rc;
	}
	h->base = base;
	if ((uintptr_t)base % page_size()) {
		famrt_munmap(fs, base);
		famrt_close(h->file);
		free(h);
		return famrt_fail(EINVAL,
				  "heap '%s': the mapping at %p is not page "
				  "aligned",
				  path, base);
	}
	rc = arena_make(h, path);
	if (rc) {
		famrt_munmap(fs, base);
		famrt_close(h->file);
		free(h);
		return rc;
	}
	arena_prime(h);
	h->id = atomic_fetch_add(&next_id, 1);
	pthread_once(&once, init_once);
	pthread_mutex_lock(&heap_lock);
	h->reg_next = registry;
	if (registry)
		registry->reg_prev = h;
	registry = h;
	pthread_mutex_unlock(&heap_lock);
	*out = h;
	return 0;
}

int famrt_heap_destroy(struct famrt_heap *h)
{
	char name[48];
	int rc;

	if (!h)
		return 0;
	pthread_mutex_lock(&heap_lock);
	while (h->tcs) {
		struct heap_tc *t = h->tcs;

		h->tcs = t->hnext;
		tcache_destroy(t->tcache);
		t->tcache = -1;
		t->heap = NULL;
	}
	if (h->reg_prev)
		h->reg_prev->reg_next = h->reg_next;
	else
		registry = h->reg_next;
	if (h->reg_next)
		h->reg_next->reg_prev = h->reg_prev;
	pthread_mutex_unlock(&heap_lock);
	snprintf(name, sizeof(name), "arena.%u.destroy", h->arena);
	rc = mallctl(name, NULL, NULL, NULL, 0);
	if (rc)
		/*
		 * The arena still uses the hooks and the mapping: keep both
		 * (a leak) rather than let jemalloc touch freed memory.
		 */
		return famrt_fail(rc, "famrt_heap_destroy: jemalloc cannot "
				      "destroy arena %u: %s; the heap's memory "
				      "is leaked",
				  h->arena, strerror(rc));
	rc = famrt_munmap(h->fs, h->base);
	if (!rc)
		rc = famrt_close(h->file);
	else
		famrt_close(h->file);
	free(h);
	return rc;
}

/* ---- allocation ---- */

/*
 * After a failure: empty this thread's cache, purge the arena's caches.
 * Called with reclaim_lock held, and the caller tries again before it lets
 * go: a thread that failed while another purged waits here for that purge
 * to end (jemalloc's own second purge would return at once, the space
 * still on its way).
 */
static void reclaim(struct famrt_heap *h, struct heap_tc *t)
{
	char name[48];

	if (t && t->tcache >= 0) {
		unsigned ind = (unsigned)t->tcache;

		mallctl("tcache.flush", NULL, NULL, &ind, sizeof(ind));
	}
	/*
	 * Purging cannot give pages back (the hooks refuse) but moves freed
	 * extents from jemalloc's "dirty" cache, where neighbours merge only
	 * lazily, to "retained", where they merge at once: a large request
	 * then finds the space that small frees left.
	 */
	snprintf(name, sizeof(name), "arena.%u.purge", h->arena);
	mallctl(name, NULL, NULL, NULL, 0);
}

static void *heap_alloc(struct famrt_heap *h, size_t size, int extra)
{
	struct heap_tc *t;
	void *p;
	int flags;

	if (!h) {
		errno = EINVAL;
		return NULL;
	}
	if (__builtin_expect(h->dead, 0)) {
		errno = ENOMEM;
		return NULL;
	}
	t = tc_get(h);
	flags = (t ? t->flags : h->flags_none) | extra;
	if (!size)
		size = 1;
	p = mallocx(size, flags);
	if (__builtin_expect(!p, 0)) {
		pthread_mutex_lock(&reclaim_lock);
		reclaim(h, t);
		p = mallocx(size, flags);
		pthread_mutex_unlock(&reclaim_lock);
		if (!p) {
			note_failed(h, t);
			errno = ENOMEM;
			return NULL;
		}
	}
	note_alloc(h, t, p, size);
	return p;
}

void *famrt_heap_malloc(struct famrt_heap *h, size_t size)
{
	return heap_alloc(h, size, 0);
}

void *famrt_heap_calloc(struct famrt_heap *h, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		if (h)
			note_failed(h, tc_get(h));
		errno = ENOMEM;
		return NULL;
	}
	return heap_alloc(h, total, MALLOCX_ZERO);
}

void *famrt_heap_aligned_alloc(struct famrt_heap *h, size_t align,
			       size_t size)
{
	if (!align || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return heap_alloc(h, size, align > 16 ? MALLOCX_ALIGN(align) : 0);
}

bool famrt_heap_contains(const struct famrt_heap *h, const void *p)
{
	return h && (uintptr_t)p - (uintptr_t)h->base < h->len;
}

void famrt_heap_free(struct famrt_heap *h, void *p)
{
	struct heap_tc *t;

	if (!p || !famrt_heap_contains(h, p) || h->dead)
		return;
	t = tc_get(h);
	dallocx(p, t ? t->flags : h->flags_none);
	note_free(h, t);
}

void *famrt_heap_realloc(struct famrt_heap *h, void *p, size_t size)
{
	struct heap_tc *t;
	void *q;
	int flags;

	if (!p)
		return famrt_heap_malloc(h, size);
	if (!famrt_heap_contains(h, p)) {
		errno = EINVAL;
		return NULL;
	}
	if (!size) {
		famrt_heap_free(h, p);
		return NULL;
	}
	if (h->dead) {
		errno = ENOMEM;
		return NULL;
	}
	t = tc_get(h);
	flags = t ? t->flags : h->flags_none;
	q = rallocx(p, size, flags);
	if (__builtin_expect(!q, 0)) {
		pthread_mutex_lock(&reclaim_lock);
		reclaim(h, t);
		q = rallocx(p, size, flags);
		pthread_mutex_unlock(&reclaim_lock);
		if (!q) {
			note_failed(h, t);
			errno = ENOMEM;
			return NULL;
		}
	}
	/* Counted as a free of the old block and a new allocation. */
	note_free(h, t);
	note_alloc(h, t, q, size);
	return q;
}

size_t famrt_heap_usable_size(struct famrt_heap *h, const void *p)
{
	if (!p || !famrt_heap_contains(h, p) || h->dead)
		return 0;
	return sallocx(p, 0);
}

/* ---- information ---- */

void *famrt_heap_base(const struct famrt_heap *h, size_t *len)
{
	if (!h) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = h->len;
	return h->base;
}

struct famrt_file *famrt_heap_file(struct famrt_heap *h)
{
	return h ? h->file : NULL;
}

int famrt_heap_numa_node(struct famrt_heap *h)
{
	if (!h)
		return famrt_fail(EINVAL, "famrt_heap_numa_node: no heap");
	return famrt_numa_node(h->file, 0, 0);
}

/* jemalloc's count of the bytes its arena has handed out, or 0. */
static uint64_t arena_allocated(struct famrt_heap *h)
{
	uint64_t epoch = 1, total = 0;
	size_t sz = sizeof(epoch), v;
	const char *const kinds[] = { "small", "large" };

	mallctl("epoch", &epoch, &sz, &epoch, sz);
	for (int i = 0; i < 2; i++) {
		char name[64];

		snprintf(name, sizeof(name), "stats.arenas.%u.%s.allocated",
			 h->arena, kinds[i]);
		sz = sizeof(v);
		if (!mallctl(name, &v, &sz, NULL, 0))
			total += v;
	}
	return total;
}

int famrt_heap_stats(struct famrt_heap *h, struct famrt_heap_stats *st)
{
	struct famrt_heap_stats s = { 0 };
	struct heap_tc *me;
	int64_t live;

	if (!h || !st)
		return famrt_fail(EINVAL, "famrt_heap_stats: no %s",
				  h ? "stats" : "heap");
	if (st->size < offsetof(struct famrt_heap_stats, nfailed) +
			       sizeof(st->nfailed))
		return famrt_fail(EINVAL,
				  "famrt_heap_stats: stats.size %zu is too "
				  "small",
				  st->size);
	/* This thread's cached blocks go back first: its view is exact. */
	me = tc_get(h);
	if (me && me->tcache >= 0) {
		unsigned ind = (unsigned)me->tcache;

		mallctl("tcache.flush", NULL, NULL, &ind, sizeof(ind));
	}
	pthread_mutex_lock(&heap_lock);
	live = atomic_load(&h->live);
	s.nmalloc = atomic_load(&h->nmalloc);
	s.total_bytes = atomic_load(&h->bytes);
	s.nfailed = atomic_load(&h->nfailed);
	for (struct heap_tc *t = h->tcs; t; t = t->hnext) {
		live += atomic_load_explicit(&t->live, memory_order_relaxed);
		s.nmalloc += atomic_load_explicit(&t->nmalloc,
						  memory_order_relaxed);
		s.total_bytes += atomic_load_explicit(&t->bytes,
						      memory_order_relaxed);
		s.nfailed += atomic_load_explicit(&t->nfailed,
						  memory_order_relaxed);
	}
	pthread_mutex_unlock(&heap_lock);
	s.size = st->size < sizeof(s) ? st->size : sizeof(s);
	s.mapped = h->len;
	s.reserved = atomic_load(&h->bump);
	s.highwater = atomic_load(&h->hwm);
	s.allocated = arena_allocated(h);
	s.live = live > 0 ? (uint64_t)live : 0;
	memcpy(st, &s, s.size);
	return 0;
}

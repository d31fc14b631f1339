/* SPDX-License-Identifier: Apache-2.0 */
/* In-memory namespace: see ns.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "meta/format.h"
#include "meta/ns.h"

struct famrt_ns {
	struct famrt_node root;
	struct famrt_node **by_name; /* chained on name_next */
	struct famrt_node **by_ino;  /* chained on ino_next */
	size_t nbuckets;             /* power of two, same for both */
	size_t count;                /* nodes other than the root */
	uint64_t nfiles, ndirs;
	uint64_t seed;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint64_t name_hash(const struct famrt_ns *ns, uint64_t parent,
			  const char *name, size_t len)
{
	uint64_t h = ns->seed ^ mix64(parent);

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)name[i];
		h *= 0x100000001b3ull;
	}
	return mix64(h);
}

static uint64_t ino_hash(const struct famrt_ns *ns, uint64_t ino)
{
	return mix64(ino ^ ns->seed);
}

int famrt_ns_create(struct famrt_ns **out, struct famrt_err *e)
{
	struct famrt_ns *ns = calloc(1, sizeof(*ns));

	*out = NULL;
	if (!ns)
		return famrt_err_set(e, ENOMEM, "out of memory for namespace");
	ns->nbuckets = 1024;
	ns->by_name = calloc(ns->nbuckets, sizeof(*ns->by_name));
	ns->by_ino = calloc(ns->nbuckets, sizeof(*ns->by_ino));
	if (!ns->by_name || !ns->by_ino) {
		famrt_ns_destroy(ns);
		return famrt_err_set(e, ENOMEM, "out of memory for namespace");
	}
	if (getrandom(&ns->seed, sizeof(ns->seed), GRND_NONBLOCK) !=
	    sizeof(ns->seed))
		ns->seed = (uint64_t)(uintptr_t)ns * 0x9e3779b97f4a7c15ull;
	ns->root.ino = FAMRT_ROOT_INO;
	ns->root.parent = FAMRT_ROOT_INO;
	ns->root.mode = S_IFDIR | 0755;
	ns->root.nlink = 2;
	ns->root.name = (char *)"";
	*out = ns;
	return 0;
}

static void node_free(struct famrt_node *n)
{
	free(n->name);
	free(n->fmap_msg);
	famrt_fmap_free(n->fmap);
	free(n->kids);
	free(n);
}

void famrt_ns_destroy(struct famrt_ns *ns)
{
	if (!ns)
		return;
	if (ns->by_ino) {
		for (size_t b = 0; b < ns->nbuckets; b++) {
			struct famrt_node *n = ns->by_ino[b], *next;

			for (; n; n = next) {
				next = n->ino_next;
				if (n != &ns->root)
					node_free(n);
			}
		}
	}
	free(ns->root.kids);
	free(ns->by_name);
	free(ns->by_ino);
	free(ns);
}

const struct famrt_node *famrt_ns_root(const struct famrt_ns *ns)
{
	return &ns->root;
}

const struct famrt_node *famrt_ns_by_ino(const struct famrt_ns *ns,
					 uint64_t ino)
{
	const struct famrt_node *n;

	if (ino == FAMRT_ROOT_INO)
		return &ns->root;
	n = ns->by_ino[ino_hash(ns, ino) & (ns->nbuckets - 1)];
	for (; n; n = n->ino_next)
		if (n->ino == ino)
			return n;
	return NULL;
}

const struct famrt_node *famrt_ns_child(const struct famrt_ns *ns,
					uint64_t parent, const char *name,
					size_t len)
{
	const struct famrt_node *n;

	n = ns->by_name[name_hash(ns, parent, name, len) & (ns->nbuckets - 1)];
	for (; n; n = n->name_next)
		if (n->parent == parent && n->name_len == len &&
		    !memcmp(n->name, name, len))
			return n;
	return NULL;
}

/* Walk the components of path[0..len); stop before the last if `last`. */
static int walk(const struct famrt_ns *ns, const char *path, size_t len,
		bool stop_before_last, const struct famrt_node **out,
		const char **lname, size_t *llen, struct famrt_err *e)
{
	const struct famrt_node *cur = &ns->root;
	size_t i = 1;
	int rc = famrt_path_check(path, len, e);

	if (rc)
		return rc;
	*lname = NULL;
	*llen = 0;
	if (len == 1) {
		*out = cur;
		return 0;
	}
	while (i < len) {
		size_t s = i;
		const struct famrt_node *next;

		while (i < len && path[i] != '/')
			i++;
		if (!S_ISDIR(cur->mode))
			return famrt_err_set(e, ENOTDIR, "'%.*s' is not a "
							 "directory",
					     (int)(s - 1), path);
		if (stop_before_last && i == len) {
			*lname = path + s;
			*llen = i - s;
			break;
		}
		next = famrt_ns_child(ns, cur->ino, path + s, i - s);
		if (!next)
			return famrt_err_set(e, ENOENT, "'%.*s' does not exist",
					     (int)i, path);
		cur = next;
		i++;
	}
	*out = cur;
	return 0;
}

const struct famrt_node *famrt_ns_lookup(const struct famrt_ns *ns,
					 const char *path, size_t len, int *rc,
					 struct famrt_err *e)
{
	const struct famrt_node *n = NULL;
	const char *ln;
	size_t ll;

	*rc = walk(ns, path, len, false, &n, &ln, &ll, e);
	return *rc ? NULL : n;
}

int famrt_ns_prepare(const struct famrt_ns *ns, const char *path, size_t len,
		     const struct famrt_node **parent, const char **name,
		     size_t *name_len, const struct famrt_node **existing,
		     struct famrt_err *e)
{
	const struct famrt_node *p, *x;
	int rc;

	*existing = NULL;
	rc = walk(ns, path, len, true, &p, name, name_len, e);
	if (rc)
		return rc;
	if (!*name)
		return famrt_err_set(e, EEXIST, "'/' is the root directory");
	x = famrt_ns_child(ns, p->ino, *name, *name_len);
	*parent = p;
	if (x) {
		*existing = x;
		return famrt_err_set(e, EEXIST, "'%.*s' already exists",
				     (int)len, path);
	}
	return 0;
}

static int grow(struct famrt_ns *ns)
{
	size_t nb = ns->nbuckets * 2;
	struct famrt_node **bn = calloc(nb, sizeof(*bn));
	struct famrt_node **bi = calloc(nb, sizeof(*bi));

	if (!bn || !bi) {
		free(bn);
		free(bi);
		return -ENOMEM;
	}
	for (size_t b = 0; b < ns->nbuckets; b++) {
		struct famrt_node *n, *next;

		for (n = ns->by_name[b]; n; n = next) {
			uint64_t h = name_hash(ns, n->parent, n->name,
					       n->name_len) & (nb - 1);

			next = n->name_next;
			n->name_next = bn[h];
			bn[h] = n;
		}
		for (n = ns->by_ino[b]; n; n = next) {
			uint64_t h = ino_hash(ns, n->ino) & (nb - 1);

			next = n->ino_next;
			n->ino_next = bi[h];
			bi[h] = n;
		}
	}
	free(ns->by_name);
	free(ns->by_ino);
	ns->by_name = bn;
	ns->by_ino = bi;
	ns->nbuckets = nb;
	return 0;
}

struct famrt_node *famrt_ns_add(struct famrt_ns *ns,
				const struct famrt_node *cparent,
				const char *name, size_t name_len,
				uint64_t seq, uint32_t mode, uint32_t uid,
				uint32_t gid, uint64_t mtime_ns,
				const uint8_t *fmap_msg, uint32_t fmap_len,
				struct famrt_fmap *fmap, struct famrt_err *e)
{
	/* The namespace owns every node; callers only get const views. */
	struct famrt_node *parent = (struct famrt_node *)cparent;
	struct famrt_node *n;
	uint64_t h;

	if (ns->count + 1 > ns->nbuckets && grow(ns)) {
		famrt_err_set(e, ENOMEM, "out of memory growing the namespace");
		return NULL;
	}
	if (parent->nkids == parent->kids_cap) {
		uint32_t cap = parent->kids_cap ? parent->kids_cap * 2 : 8;
		struct famrt_node **k = realloc(parent->kids,
						cap * sizeof(*k));

		if (!k) {
			famrt_err_set(e, ENOMEM, "out of memory for a "
						 "directory");
			return NULL;
		}
		parent->kids = k;
		parent->kids_cap = cap;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		goto nomem;
	n->name = malloc(name_len + 1);
	if (!n->name)
		goto nomem;
	memcpy(n->name, name, name_len);
	n->name[name_len] = '\0';
	n->name_len = (uint16_t)name_len;
	if (fmap) {
		n->fmap_msg = malloc(fmap_len);
		if (!n->fmap_msg)
			goto nomem;
		memcpy(n->fmap_msg, fmap_msg, fmap_len);
		n->fmap_len = fmap_len;
		n->fmap = fmap;
		n->size = famrt_fmap_file_size(fmap);
		n->mode = S_IFREG | (mode & 07777);
		n->nlink = 1;
		ns->nfiles++;
	} else {
		n->mode = S_IFDIR | (mode & 07777);
		n->nlink = 2;
		parent->nlink++;
		ns->ndirs++;
	}
	n->ino = FAMRT_ROOT_INO + seq;
	n->parent = parent->ino;
	n->uid = uid;
	n->gid = gid;
	n->mtime_ns = mtime_ns;
	n->seq = seq;
	parent->kids[parent->nkids++] = n;
	h = name_hash(ns, n->parent, n->name, n->name_len) & (ns->nbuckets - 1);
	n->name_next = ns->by_name[h];
	ns->by_name[h] = n;
	h = ino_hash(ns, n->ino) & (ns->nbuckets - 1);
	n->ino_next = ns->by_ino[h];
	ns->by_ino[h] = n;
	ns->count++;
	return n;
nomem:
	if (n) {
		free(n->name);
		free(n);
	}
	famrt_err_set(e, ENOMEM, "out of memory for a namespace node");
	return NULL;
}

uint64_t famrt_ns_readdir(const struct famrt_ns *ns,
			  const struct famrt_node *dir, uint64_t cookie,
			  uint32_t max,
			  int (*fn)(const struct famrt_node *, void *),
			  void *arg)
{
	uint32_t lo = 0, hi = dir->nkids, given = 0;

	(void)ns;
	if (!max)
		return cookie;
	/* Children are in seq order: find the first with seq > cookie. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (dir->kids[mid]->seq <= cookie)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (uint32_t i = lo; i < dir->nkids; i++) {
		if (given == max)
			return dir->kids[i - 1]->seq;
		if (fn(dir->kids[i], arg))
			return dir->kids[i]->seq;
		given++;
	}
	return UINT64_MAX;
}

uint64_t famrt_ns_nfiles(const struct famrt_ns *ns)
{
	return ns->nfiles;
}

uint64_t famrt_ns_ndirs(const struct famrt_ns *ns)
{
	return ns->ndirs;
}

ssize_t famrt_ns_path(const struct famrt_ns *ns, const struct famrt_node *n,
		      char *buf, size_t len)
{
	const struct famrt_node *chain[FAMRT_PATH_MAX / 2 + 1];
	size_t depth = 0, pos = 0;

	if (n->ino == FAMRT_ROOT_INO) {
		if (len < 2)
			return -ENAMETOOLONG;
		buf[0] = '/';
		buf[1] = '\0';
		return 1;
	}
	while (n && n->ino != FAMRT_ROOT_INO) {
		if (depth == sizeof(chain) / sizeof(chain[0]))
			return -ELOOP;
		chain[depth++] = n;
		n = famrt_ns_by_ino(ns, n->parent);
	}
	if (!n)
		return -ENOENT;
	while (depth--) {
		const struct famrt_node *c = chain[depth];

		if (pos + 1 + c->name_len + 1 > len)
			return -ENAMETOOLONG;
		buf[pos++] = '/';
		memcpy(buf + pos, c->name, c->name_len);
		pos += c->name_len;
	}
	buf[pos] = '\0';
	return (ssize_t)pos;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The namespace: directories and files as the log describes them, in
 * memory. Built and kept current by replay; lookups by path, by
 * (parent, name) and by inode number; directory listing in creation order
 * with a stable cookie. Not thread-safe: the owner serializes.
 */
#ifndef FAMRT_META_NS_H
#define FAMRT_META_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <famrt/fmap.h>

#include "util/err.h"

#define FAMRT_ROOT_INO 1u

struct famrt_node {
	uint64_t ino;      /* root 1; others FAMRT_ROOT_INO + log seq */
	uint64_t parent;   /* parent's ino (root: itself) */
	uint32_t mode;     /* S_IFDIR or S_IFREG | permission bits */
	uint32_t uid, gid;
	uint64_t size;     /* files: file size; directories: 0 */
	uint64_t mtime_ns; /* time of the log entry that made it */
	uint64_t seq;      /* log entry that made it (0: root) */
	uint32_t nlink;
	char *name;        /* last path component ("" for the root) */
	uint16_t name_len;
	/* Files. */
	uint8_t *fmap_msg; /* the seed-format message as logged */
	uint32_t fmap_len;
	struct famrt_fmap *fmap;
	/* Directories: children in creation order. */
	struct famrt_node **kids;
	uint32_t nkids, kids_cap;
	/* Hash chains. */
	struct famrt_node *name_next;
	struct famrt_node *ino_next;
};

struct famrt_ns;

int famrt_ns_create(struct famrt_ns **out, struct famrt_err *e);
void famrt_ns_destroy(struct famrt_ns *ns);

const struct famrt_node *famrt_ns_root(const struct famrt_ns *ns);
const struct famrt_node *famrt_ns_by_ino(const struct famrt_ns *ns,
					 uint64_t ino);
const struct famrt_node *famrt_ns_child(const struct famrt_ns *ns,
					uint64_t parent, const char *name,
					size_t name_len);

/*
 * Resolve an absolute path (checked with famrt_path_check). Returns the node,
 * or NULL with -ENOENT (a component missing) or -ENOTDIR (a component that is
 * a file) or -EINVAL in *rc, and the message in e.
 */
const struct famrt_node *famrt_ns_lookup(const struct famrt_ns *ns,
					 const char *path, size_t len, int *rc,
					 struct famrt_err *e);

/*
 * The parent directory of path and the last component: 0, -ENOENT, -ENOTDIR,
 * -EEXIST (the last component exists: *existing set), -EINVAL (the root).
 */
int famrt_ns_prepare(const struct famrt_ns *ns, const char *path, size_t len,
		     const struct famrt_node **parent, const char **name,
		     size_t *name_len, const struct famrt_node **existing,
		     struct famrt_err *e);

/*
 * Add a directory or a file under parent (which the caller found with
 * famrt_ns_prepare). A file takes ownership of fmap (decoded) and copies
 * the message. Returns the node or NULL (-ENOMEM).
 */
struct famrt_node *famrt_ns_add(struct famrt_ns *ns, const struct famrt_node
				*parent, const char *name, size_t name_len,
				uint64_t seq, uint32_t mode, uint32_t uid,
				uint32_t gid, uint64_t mtime_ns,
				const uint8_t *fmap_msg, uint32_t fmap_len,
				struct famrt_fmap *fmap, struct famrt_err *e);

/*
 * List directory dir from cookie (0 = start; then the cookie returned):
 * calls fn(node, arg) for each child in creation order until it returns
 * non-zero or max entries were given. Returns the cookie to continue from
 * (UINT64_MAX when done).
 */
uint64_t famrt_ns_readdir(const struct famrt_ns *ns,
			  const struct famrt_node *dir, uint64_t cookie,
			  uint32_t max,
			  int (*fn)(const struct famrt_node *, void *),
			  void *arg);

/* Counts, for statfs. */
uint64_t famrt_ns_nfiles(const struct famrt_ns *ns);
uint64_t famrt_ns_ndirs(const struct famrt_ns *ns);

/* Full path of a node into buf (len bytes); returns its length or -errno. */
ssize_t famrt_ns_path(const struct famrt_ns *ns, const struct famrt_node *n,
		      char *buf, size_t len);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libfamrt: connections, the file cache, open/create/stat, directories,
 * NUMA. Data paths are in io.c, mappings in map.c.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hwloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <famrt/famrt.h>

#include "client/internal.h"
#include "meta/format.h"
#include "meta/probe.h"

static __thread char errmsg[512];

const char *famrt_errmsg(void)
{
	return errmsg;
}

int famrt_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	return -code;
}

int famrt_fail_err(const struct famrt_err *e)
{
	snprintf(errmsg, sizeof(errmsg), "%s", e->msg);
	return -(e->code ? e->code : EIO);
}

/* ---- fork handling: every connection in a registry ---- */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct famrt *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
/* famrt_default's lock: held across a connect, so fork takes it too. */
static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static struct famrt *default_fs;

/*
 * Devices are mapped once per process: connections to the same device
 * (same device node, or same file standing in for one) with the same
 * access share one descriptor and one whole-device mapping, counted.
 */
struct shared_dev {
	struct famrt_dev d; /* owns the descriptor and the mapping */
	dev_t id_dev;       /* st_rdev of a device node, st_dev of a file */
	ino_t id_ino;       /* 0 for a device node */
	unsigned refs;
	struct shared_dev *next;
};
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shared_dev *shared;

/* Lock order: default_lock, shared_lock, reg_lock, each connection's. */
static void fork_prepare(void)
{
	pthread_mutex_lock(&default_lock);
	pthread_mutex_lock(&shared_lock);
	pthread_mutex_lock(&reg_lock);
	for (struct famrt *fs = registry; fs; fs = fs->reg_next)
		pthread_mutex_lock(&fs->lock);
}

static void fork_after(void)
{
	for (struct famrt *fs = registry; fs; fs = fs->reg_next)
		pthread_mutex_unlock(&fs->lock);
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_unlock(&shared_lock);
	pthread_mutex_unlock(&default_lock);
}

static void install_atfork(void)
{
	pthread_atfork(fork_prepare, fork_after, fork_after);
}

/* ---- connecting ---- */

static int socket_from_devices(const char *spec, char *out, size_t len)
{
	char first[PATH_MAX];
	struct famrt_sb sb;
	struct famrt_err e;
	size_t n = strcspn(spec, ",");
	int rc;

	if (n >= sizeof(first))
		return famrt_fail(ENAMETOOLONG, "device path too long in '%s'",
				  spec);
	memcpy(first, spec, n);
	first[n] = '\0';
	rc = famrt_fs_probe(first, &sb, &e);
	if (rc == -EACCES || rc == -EPERM) {
		/* Device 0 is not ours to read: famrtd's name for it. */
		if (famrt_client_socket_alias(first, NULL, out, len))
			return famrt_fail(EACCES,
					  "cannot read '%s' to find its "
					  "service; set FAMRT_SOCKET",
					  first);
		return 0;
	}
	if (rc)
		return famrt_fail(-rc,
				  "cannot read the superblock to find the "
				  "service (%s); set FAMRT_SOCKET instead",
				  e.msg);
	if (famrt_client_socket_path(sb.uuid, out, len))
		return famrt_fail(ENAMETOOLONG, "socket path too long");
	return 0;
}

static int only_socket(char *out, size_t len)
{
	const char *dir = getenv("FAMRT_RUN_DIR");
	struct dirent *de;
	int found = 0;
	DIR *d;

	if (!dir || !*dir)
		dir = "/run/famrt";
	d = opendir(dir);
	if (!d)
		return famrt_fail(ENOENT,
				  "no famrt service: set FAMRT_SOCKET or "
				  "FAMRT_FS (%s: %s)",
				  dir, strerror(errno));
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		/* Symbolic links are famrtd's second names (by device). */
		if (n < 6 || strcmp(de->d_name + n - 5, ".sock") ||
		    de->d_type == DT_LNK)
			continue;
		if (found++)
			break;
		if ((size_t)snprintf(out, len, "%s/%s", dir, de->d_name) >= len)
			found = 99;
	}
	closedir(d);
	if (found == 1)
		return 0;
	if (!found)
		return famrt_fail(ENOENT,
				  "no famrt service socket in %s: is famrtd "
				  "running? (or set FAMRT_SOCKET)",
				  dir);
	return famrt_fail(EINVAL,
			  "several famrt services in %s: choose one with "
			  "FAMRT_SOCKET or FAMRT_FS",
			  dir);
}

static int choose_socket(const struct famrt_connect_opts *o, char *out,
			 size_t len)
{
	const char *s;

	if (o && o->socket) {
		if ((size_t)snprintf(out, len, "%s", o->socket) >= len)
			return famrt_fail(ENAMETOOLONG, "socket path too long");
		return 0;
	}
	if (o && o->fs)
		return socket_from_devices(o->fs, out, len);
	s = getenv("FAMRT_SOCKET");
	if (s && *s) {
		if ((size_t)snprintf(out, len, "%s", s) >= len)
			return famrt_fail(ENAMETOOLONG, "FAMRT_SOCKET too long");
		return 0;
	}
	s = getenv("FAMRT_FS");
	if (s && *s)
		return socket_from_devices(s, out, len);
	return only_socket(out, len);
}

static uint64_t default_budget(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
	unsigned long v = 65530;
	const char *env = getenv("FAMRT_MAP_BUDGET");

	if (env && *env) {
		unsigned long b = strtoul(env, NULL, 10);

		if (b)
			return b;
	}
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 65530;
		fclose(f);
	}
	return v / 4;
}

/*
 * d is open (owning its descriptor), not mapped, its alignment final.
 * Share the process's mapping of the same device with the same access,
 * or map it and make it shareable. On success d is a copy of the shared
 * device (its descriptor and mapping belong to *out, released with
 * dev_release); on failure d is closed.
 */
static int dev_acquire(struct famrt_dev *d, struct shared_dev **out,
		       struct famrt_err *e)
{
	struct shared_dev *x;
	struct stat st;
	dev_t id_dev;
	ino_t id_ino;
	int rc;

	if (fstat(d->fd, &st)) {
		rc = famrt_err_set(e, errno, "%s: fstat: %s", d->path,
				   strerror(errno));
		famrt_dev_close(d);
		return rc;
	}
	id_dev = S_ISCHR(st.st_mode) ? st.st_rdev : st.st_dev;
	id_ino = S_ISCHR(st.st_mode) ? 0 : st.st_ino;
	pthread_mutex_lock(&shared_lock);
	for (x = shared; x; x = x->next)
		if (x->id_dev == id_dev && x->id_ino == id_ino &&
		    x->d.writable == d->writable && x->d.size == d->size &&
		    x->d.align == d->align)
			break;
	if (x) {
		x->refs++;
		pthread_mutex_unlock(&shared_lock);
		famrt_dev_close(d);
		*d = x->d;
		*out = x;
		return 0;
	}
	x = calloc(1, sizeof(*x));
	rc = x ? famrt_dev_map(d, e) :
		 famrt_err_set(e, ENOMEM, "out of memory");
	if (rc) {
		pthread_mutex_unlock(&shared_lock);
		free(x);
		famrt_dev_close(d);
		return rc;
	}
	x->d = *d;
	x->id_dev = id_dev;
	x->id_ino = id_ino;
	x->refs = 1;
	x->next = shared;
	shared = x;
	pthread_mutex_unlock(&shared_lock);
	*out = x;
	return 0;
}

static void dev_release(struct shared_dev *x)
{
	struct shared_dev **pp;

	if (!x)
		return;
	pthread_mutex_lock(&shared_lock);
	if (--x->refs) {
		pthread_mutex_unlock(&shared_lock);
		return;
	}
	for (pp = &shared; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	pthread_mutex_unlock(&shared_lock);
	famrt_dev_close(&x->d);
	free(x);
}

static void unmap_devices(struct famrt *fs)
{
	for (uint32_t i = 0; i < fs->ndevs; i++) {
		dev_release(fs->sdev[i]);
		fs->sdev[i] = NULL;
		fs->dev[i].fd = -1;
		fs->dev[i].base = NULL;
		fs->dev[i].map_len = 0;
		fs->base[i] = NULL;
	}
}

/* Get the device descriptors and map each device once. */
static int map_devices(struct famrt *fs)
{
	const struct famrt_proto_devices_rep *t =
		famrt_client_devtable(fs->client);
	int fds[32];
	uint32_t acc[32];
	struct famrt_err e;
	int rc;

	fs->ndevs = t->ndevs;
	for (uint32_t i = 0; i < 32; i++)
		fs->dev[i].fd = -1;
	rc = famrt_client_device_fds(fs->client, fds, acc, &e);
	if (rc == -EACCES)
		return 0; /* namespace only: data access fails later */
	if (rc)
		return famrt_fail_err(&e);
	for (uint32_t i = 0; i < fs->ndevs; i++) {
		struct famrt_dev *d = &fs->dev[i];
		char name[32];

		if (fds[i] < 0)
			continue;
		snprintf(name, sizeof(name), "device %u", i);
		rc = famrt_dev_open_fd(d, fds[i], name,
				       acc[i] == FAMRT_DEV_ACCESS_RW, &e);
		if (!rc && d->size < t->dev[i].size)
			rc = famrt_err_set(&e, EPROTO,
					   "device %u has %llu bytes, the file "
					   "system says %llu",
					   i, (unsigned long long)d->size,
					   (unsigned long long)t->dev[i].size);
		if (!rc) {
			if (t->dev[i].align > d->align)
				d->align = t->dev[i].align;
			rc = dev_acquire(d, &fs->sdev[i], &e);
		} else {
			famrt_dev_close(d);
		}
		if (rc) {
			for (uint32_t j = i + 1; j < fs->ndevs; j++)
				if (fds[j] >= 0)
					close(fds[j]);
			unmap_devices(fs);
			return famrt_fail_err(&e);
		}
		fs->base[i] = d->base;
		fs->writable[i] = d->writable;
	}
	return 0;
}

int famrt_connect(struct famrt **out, const struct famrt_connect_opts *o)
{
	struct famrt *fs;
	struct famrt_err e;
	int rc;

	*out = NULL;
	if (o && o->size < offsetof(struct famrt_connect_opts, map_budget) +
				   sizeof(o->map_budget))
		return famrt_fail(EINVAL, "famrt_connect: opts.size %zu is too "
					  "small",
				  o->size);
	pthread_once(&atfork_once, install_atfork);
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return famrt_fail(ENOMEM, "out of memory");
	pthread_mutex_init(&fs->lock, NULL);
	fs->nbuckets = 256;
	fs->cache = calloc(fs->nbuckets, sizeof(*fs->cache));
	if (!fs->cache) {
		rc = famrt_fail(ENOMEM, "out of memory");
		goto fail;
	}
	rc = choose_socket(o, fs->socket, sizeof(fs->socket));
	if (rc)
		goto fail;
	rc = famrt_client_connect(&fs->client, fs->socket, &e);
	if (rc) {
		rc = famrt_fail_err(&e);
		goto fail;
	}
	fs->pid = getpid();
	fs->noncoherent = famrt_client_hello(fs->client)->flags &
			  FAMRT_HELLO_NONCOHERENT;
	rc = map_devices(fs);
	if (rc)
		goto fail;
	fs->map_budget = o && o->map_budget ? o->map_budget : default_budget();
	pthread_mutex_lock(&reg_lock);
	fs->reg_next = registry;
	registry = fs;
	pthread_mutex_unlock(&reg_lock);
	*out = fs;
	return 0;
fail:
	famrt_client_close(fs->client);
	free(fs->cache);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
	return rc;
}

struct famrt *famrt_default(void)
{
	struct famrt *fs;
	int rc = 0;

	/* Before default_lock is ever held, so a fork always sees it. */
	pthread_once(&atfork_once, install_atfork);
	pthread_mutex_lock(&default_lock);
	if (!default_fs)
		rc = famrt_connect(&default_fs, NULL);
	fs = default_fs;
	pthread_mutex_unlock(&default_lock);
	if (rc)
		errno = -rc;
	return fs;
}

int famrt_ensure_conn(struct famrt *fs)
{
	struct famrt_client *c;
	struct famrt_err e;
	int rc;

	if (fs->pid == getpid())
		return 0;
	/* A forked child: the socket is shared with the parent. */
	rc = famrt_client_connect(&c, fs->socket, &e);
	if (rc)
		return famrt_fail_err(&e);
	famrt_client_close(fs->client);
	fs->client = c;
	fs->pid = getpid();
	return 0;
}

static void drop_cache(struct famrt *fs)
{
	for (size_t b = 0; b < fs->nbuckets; b++) {
		struct famrt_inode *i = fs->cache[b], *n;

		for (; i; i = n) {
			n = i->next;
			famrt_fmap_free(i->map);
			free(i->path);
			free(i);
		}
	}
	free(fs->cache);
}

int famrt_disconnect(struct famrt *fs)
{
	struct famrt **pp;

	if (!fs)
		return 0;
	pthread_mutex_lock(&fs->lock);
	if (fs->open_files || fs->maps) {
		uint64_t n = fs->open_files;
		bool maps = fs->maps != NULL;

		pthread_mutex_unlock(&fs->lock);
		return famrt_fail(EBUSY,
				  "famrt_disconnect: %llu files are still open "
				  "and %s: close and famrt_munmap them first",
				  (unsigned long long)n,
				  maps ? "mappings still exist" :
					 "no mappings");
	}
	pthread_mutex_unlock(&fs->lock);
	pthread_mutex_lock(&reg_lock);
	for (pp = &registry; *pp; pp = &(*pp)->reg_next)
		if (*pp == fs) {
			*pp = fs->reg_next;
			break;
		}
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_lock(&default_lock);
	if (default_fs == fs)
		default_fs = NULL;
	pthread_mutex_unlock(&default_lock);
	unmap_devices(fs);
	drop_cache(fs);
	famrt_client_close(fs->client);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
	return 0;
}

/* ---- the file cache ---- */

static uint64_t path_hash(const char *p)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*p) {
		h ^= (uint8_t)*p++;
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

static struct famrt_inode *cache_find(struct famrt *fs, const char *path)
{
	struct famrt_inode *i = fs->cache[path_hash(path) & (fs->nbuckets - 1)];

	for (; i; i = i->next)
		if (!strcmp(i->path, path))
			return i;
	return NULL;
}

static void cache_grow(struct famrt *fs)
{
	size_t nb = fs->nbuckets * 2;
	struct famrt_inode **c = calloc(nb, sizeof(*c));

	if (!c)
		return; /* a longer chain is only slower */
	for (size_t b = 0; b < fs->nbuckets; b++) {
		struct famrt_inode *i = fs->cache[b], *n;

		for (; i; i = n) {
			uint64_t h = path_hash(i->path) & (nb - 1);

			n = i->next;
			i->next = c[h];
			c[h] = i;
		}
	}
	free(fs->cache);
	fs->cache = c;
	fs->nbuckets = nb;
}

/* Whole file in one run on one device: its address, else NULL. */
static uint8_t *direct_of(struct famrt *fs, const struct famrt_fmap *m)
{
	struct famrt_fmap_iter it;
	struct famrt_fmap_run r;

	famrt_fmap_iter_init(&it, m, 0, UINT64_MAX);
	if (!famrt_fmap_iter_next(&it, &r) || famrt_fmap_iter_next(&it, &r))
		return NULL;
	famrt_fmap_iter_init(&it, m, 0, UINT64_MAX);
	famrt_fmap_iter_next(&it, &r);
	if (r.dev >= fs->ndevs || !fs->base[r.dev])
		return NULL;
	return fs->base[r.dev] + r.dev_off;
}

/*
 * The cached inode for path with at least `access` granted, asking the
 * service if needed (lock held).
 */
static int inode_get(struct famrt *fs, const char *path, uint32_t access,
		     struct famrt_inode **out)
{
	struct famrt_inode *i = cache_find(fs, path);
	struct famrt_proto_attr a;
	struct famrt_fmap *map = NULL;
	struct famrt_err e;
	int rc;

	if (i && (i->granted & access) == access) {
		*out = i;
		return 0;
	}
	rc = famrt_ensure_conn(fs);
	if (rc)
		return rc;
	rc = famrt_client_open(fs->client, path, access, &a, &map, &e);
	if (rc)
		return famrt_fail_err(&e);
	if (!map) {
		return famrt_fail(EISDIR,
				  "'%s' is a directory: use famrt_opendir",
				  path);
	}
	if (i) {
		/* Same file, more access granted now. */
		famrt_fmap_free(map);
		i->granted |= access;
		*out = i;
		return 0;
	}
	i = calloc(1, sizeof(*i));
	if (!i || !(i->path = strdup(path))) {
		free(i);
		famrt_fmap_free(map);
		return famrt_fail(ENOMEM, "out of memory");
	}
	i->ino = a.ino;
	i->attr = a;
	i->map = map;
	i->granted = access;
	i->direct = direct_of(fs, map);
	if (fs->ncached + 1 > fs->nbuckets)
		cache_grow(fs);
	{
		uint64_t h = path_hash(path) & (fs->nbuckets - 1);

		i->next = fs->cache[h];
		fs->cache[h] = i;
	}
	fs->ncached++;
	*out = i;
	return 0;
}

static int check_path(const char *path)
{
	struct famrt_err e;

	if (!path)
		return famrt_fail(EFAULT, "no path");
	if (famrt_path_check(path, strlen(path), &e))
		return famrt_fail_err(&e);
	return 0;
}

static int file_new(struct famrt *fs, struct famrt_inode *i, bool writable,
		    struct famrt_file **out)
{
	struct famrt_file *f = calloc(1, sizeof(*f));

	if (!f)
		return famrt_fail(ENOMEM, "out of memory");
	f->fs = fs;
	f->ino = i;
	f->map = i->map;
	f->base = fs->base;
	f->size = i->attr.size;
	f->direct = i->direct;
	f->writable = writable;
	f->noncoherent = fs->noncoherent;
	i->nopen++;
	fs->open_files++;
	*out = f;
	return 0;
}

/* Every device the map touches must be mapped (writable when asked). */
static int check_access(struct famrt *fs, const char *path,
			const struct famrt_fmap *m, bool write)
{
	uint32_t ne = famrt_fmap_nextents(m);
	struct famrt_fmap_extent x;

	for (uint32_t k = 0; k < ne; k++) {
		famrt_fmap_get_extent(m, k, &x);
		for (uint32_t j = 0; j < x.nstrips; j++) {
			uint32_t d = x.strips[j].devindex;

			if (d >= fs->ndevs || !fs->base[d])
				return famrt_fail(EACCES,
						  "'%s' lives on device %u, which "
						  "famrtd does not let this user "
						  "map",
						  path, d);
			if (write && !fs->writable[d])
				return famrt_fail(EACCES,
						  "'%s' lives on device %u, which "
						  "this user may only read",
						  path, d);
		}
	}
	return 0;
}

int famrt_file_attach(struct famrt_file *f, const char *path)
{
	struct famrt *fs = f->fs;
	struct famrt_inode *i;
	bool w = true;
	int rc = inode_get(fs, path, FAMRT_OPEN_READ | FAMRT_OPEN_WRITE, &i);

	if (rc == -EACCES) {
		/* Committed with a mode that does not let us write. */
		w = false;
		rc = inode_get(fs, path, FAMRT_OPEN_READ, &i);
	}
	if (!rc)
		rc = check_access(fs, path, i->map, w);
	if (rc)
		return rc;
	f->ino = i;
	f->map = i->map;
	f->size = i->attr.size;
	f->direct = i->direct;
	f->writable = w;
	i->nopen++;
	return 0;
}

int famrt_open(struct famrt *fs, const char *path, int flags,
	       struct famrt_file **out)
{
	int acc = flags & O_ACCMODE;
	struct famrt_inode *i;
	uint32_t access;
	int rc;

	*out = NULL;
	if (!fs)
		return famrt_fail(EINVAL, "famrt_open: no connection");
	rc = check_path(path);
	if (rc)
		return rc;
	if (flags & ~(O_ACCMODE | O_CLOEXEC | O_NOATIME | O_LARGEFILE))
		return famrt_fail(EINVAL,
				  "famrt_open '%s': flags 0%o are not supported "
				  "(files are created with famrt_create and "
				  "never grow or shrink)",
				  path,
				  flags & ~(O_ACCMODE | O_CLOEXEC | O_NOATIME |
					    O_LARGEFILE));
	if (acc == O_WRONLY)
		acc = O_RDWR;
	if (acc != O_RDONLY && acc != O_RDWR)
		return famrt_fail(EINVAL, "famrt_open '%s': bad access mode",
				  path);
	access = FAMRT_OPEN_READ | (acc == O_RDWR ? FAMRT_OPEN_WRITE : 0);
	pthread_mutex_lock(&fs->lock);
	rc = inode_get(fs, path, access, &i);
	if (!rc)
		rc = check_access(fs, path, i->map, acc == O_RDWR);
	if (!rc)
		rc = file_new(fs, i, acc == O_RDWR, out);
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

int famrt_create(struct famrt *fs, const char *path, mode_t mode,
		 uint64_t size, const struct famrt_layout *lay,
		 struct famrt_file **out)
{
	struct famrt_proto_create_req req = { .mode = mode & 07777,
					      .size = size };
	struct famrt_proto_attr a;
	struct famrt_err e;
	int rc;

	*out = NULL;
	if (!fs)
		return famrt_fail(EINVAL, "famrt_create: no connection");
	rc = check_path(path);
	if (rc)
		return rc;
	if (mode & ~07777u)
		return famrt_fail(EINVAL, "famrt_create '%s': mode 0%o has bits "
					  "beyond 07777",
				  path, (unsigned)mode);
	if (lay) {
		if (lay->size < offsetof(struct famrt_layout, devs) +
					sizeof(lay->devs))
			return famrt_fail(EINVAL,
					  "famrt_create: layout.size %zu is too "
					  "small",
					  lay->size);
		if (lay->ndevs > 32 || lay->nstrips > 32 ||
		    lay->chunk > UINT32_MAX)
			return famrt_fail(EINVAL,
					  "famrt_create '%s': layout asks for "
					  "%u devices, %u strips, chunk %llu",
					  path, lay->ndevs, lay->nstrips,
					  (unsigned long long)lay->chunk);
		req.layout = lay->interleave ? 1 : 0;
		req.nstrips = lay->nstrips;
		req.chunk = (uint32_t)lay->chunk;
		req.ndevs = lay->ndevs;
		memcpy(req.devs, lay->devs, sizeof(req.devs));
	}
	pthread_mutex_lock(&fs->lock);
	rc = famrt_ensure_conn(fs);
	if (!rc) {
		rc = famrt_client_create(fs->client, path, &req, &a, &e);
		if (rc)
			rc = famrt_fail_err(&e);
	}
	pthread_mutex_unlock(&fs->lock);
	if (rc)
		return rc;
	return famrt_open(fs, path, O_RDWR, out);
}

int famrt_close(struct famrt_file *f)
{
	struct famrt *fs;
	int rc = 0;

	if (!f)
		return famrt_fail(EBADF, "famrt_close: no file");
	fs = f->fs;
	if (f->grow) {
		rc = famrt_grow_commit(f);
		if (rc)
			famrt_grow_abort(f); /* keeps the message */
	}
	pthread_mutex_lock(&fs->lock);
	if (f->ino)
		f->ino->nopen--;
	fs->open_files--;
	pthread_mutex_unlock(&fs->lock);
	free(f);
	return rc;
}

static void stat_of(const struct famrt_proto_attr *a, struct famrt_stat *st)
{
	st->ino = a->ino;
	st->size = a->size;
	st->alloc_bytes = a->alloc_bytes;
	st->mtime_ns = a->mtime_ns;
	st->mode = a->mode;
	st->uid = a->uid;
	st->gid = a->gid;
	st->nlink = a->nlink;
}

int famrt_stat(struct famrt *fs, const char *path, struct famrt_stat *st)
{
	struct famrt_proto_attr a;
	struct famrt_err e;
	int rc = check_path(path);

	if (rc)
		return rc;
	/* Mode and owner may change: ask (a file's size and map never do). */
	pthread_mutex_lock(&fs->lock);
	rc = famrt_ensure_conn(fs);
	if (!rc) {
		rc = famrt_client_lookup(fs->client, path, &a, &e);
		if (rc)
			rc = famrt_fail_err(&e);
	}
	pthread_mutex_unlock(&fs->lock);
	if (!rc)
		stat_of(&a, st);
	return rc;
}

int famrt_fstat(struct famrt_file *f, struct famrt_stat *st)
{
	if (f->grow) {
		struct famrt_growing *g = f->grow;

		memset(st, 0, sizeof(*st));
		pthread_mutex_lock(&g->lock);
		st->size = g->size;
		st->alloc_bytes = g->capacity;
		pthread_mutex_unlock(&g->lock);
		st->mode = S_IFREG | g->mode;
		st->uid = getuid();
		st->gid = getgid();
		st->nlink = 1;
		return 0;
	}
	stat_of(&f->ino->attr, st);
	return 0;
}

uint64_t famrt_file_size(const struct famrt_file *f)
{
	if (f->grow) {
		uint64_t n;

		pthread_mutex_lock(&f->grow->lock);
		n = f->grow->size;
		pthread_mutex_unlock(&f->grow->lock);
		return n;
	}
	return f->size;
}

const struct famrt_fmap *famrt_file_fmap(const struct famrt_file *f)
{
	return f->map; /* NULL while a file is being created by writing */
}

int famrt_mkdir(struct famrt *fs, const char *path, mode_t mode)
{
	struct famrt_proto_attr a;
	struct famrt_err e;
	int rc = check_path(path);

	if (rc)
		return rc;
	pthread_mutex_lock(&fs->lock);
	rc = famrt_ensure_conn(fs);
	if (!rc) {
		rc = famrt_client_mkdir(fs->client, path, mode & 07777, &a, &e);
		if (rc)
			rc = famrt_fail_err(&e);
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

int famrt_statfs(struct famrt *fs, struct famrt_statfs *st)
{
	struct famrt_proto_statfs_rep r;
	struct famrt_err e;
	int rc;

	pthread_mutex_lock(&fs->lock);
	rc = famrt_ensure_conn(fs);
	if (!rc) {
		rc = famrt_client_statfs(fs->client, &r, &e);
		if (rc)
			rc = famrt_fail_err(&e);
	}
	pthread_mutex_unlock(&fs->lock);
	if (rc)
		return rc;
	memset(st, 0, sizeof(*st));
	st->size = r.size;
	st->free = r.free;
	st->largest_free = r.largest_free;
	st->files = r.files;
	st->dirs = r.dirs;
	st->alloc_unit = r.alloc_unit;
	st->ndevs = r.ndevs;
	return 0;
}

static int setattr(struct famrt *fs, const char *path, uint32_t mode,
		   uint32_t uid, uint32_t gid)
{
	struct famrt_proto_attr a;
	struct famrt_inode *i;
	struct famrt_err e;
	int rc = check_path(path);

	if (rc)
		return rc;
	pthread_mutex_lock(&fs->lock);
	rc = famrt_ensure_conn(fs);
	if (!rc) {
		rc = famrt_client_setattr(fs->client, path, mode, uid, gid, &a,
					  &e);
		if (rc)
			rc = famrt_fail_err(&e);
	}
	if (!rc && (i = cache_find(fs, path)))
		i->attr = a;
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

int famrt_chmod(struct famrt *fs, const char *path, mode_t mode)
{
	if (mode & ~07777u)
		return famrt_fail(EINVAL, "mode 0%o has bits beyond 07777",
				  (unsigned)mode);
	return setattr(fs, path, mode, UINT32_MAX, UINT32_MAX);
}

int famrt_chown(struct famrt *fs, const char *path, uid_t uid, gid_t gid)
{
	return setattr(fs, path, UINT32_MAX, (uint32_t)uid, (uint32_t)gid);
}

/* ---- directories ---- */

struct famrt_dir {
	struct famrt *fs;
	uint64_t ino;
	uint64_t cookie; /* next page; UINT64_MAX: no more pages */
	struct famrt_dirent *ents;
	uint32_t n, pos, cap;
};

int famrt_opendir(struct famrt *fs, const char *path, struct famrt_dir **out)
{
	struct famrt_proto_attr a;
	struct famrt_dir *d;
	struct famrt_err e;
	int rc = check_path(path);

	*out = NULL;
	if (rc)
		return rc;
	pthread_mutex_lock(&fs->lock);
	rc = famrt_ensure_conn(fs);
	if (!rc) {
		rc = famrt_client_lookup(fs->client, path, &a, &e);
		if (rc)
			rc = famrt_fail_err(&e);
	}
	pthread_mutex_unlock(&fs->lock);
	if (rc)
		return rc;
	if (!S_ISDIR(a.mode))
		return famrt_fail(ENOTDIR, "'%s' is not a directory", path);
	d = calloc(1, sizeof(*d));
	if (!d)
		return famrt_fail(ENOMEM, "out of memory");
	d->fs = fs;
	d->ino = a.ino;
	*out = d;
	return 0;
}

static int add_ent(const struct famrt_proto_dirent *pd, void *arg)
{
	struct famrt_dir *d = arg;
	struct famrt_dirent *x;

	if (d->n == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 64;

		x = realloc(d->ents, cap * sizeof(*x));
		if (!x)
			return -1;
		d->ents = x;
		d->cap = cap;
	}
	x = &d->ents[d->n++];
	x->ino = pd->ino;
	x->mode = pd->mode;
	memcpy(x->name, pd->name, pd->name_len);
	x->name[pd->name_len] = '\0';
	return 0;
}

int famrt_readdir(struct famrt_dir *d, struct famrt_dirent *ent)
{
	struct famrt_err e;
	uint64_t next;
	int rc;

	while (d->pos == d->n) {
		if (d->cookie == UINT64_MAX)
			return 0;
		d->n = d->pos = 0;
		pthread_mutex_lock(&d->fs->lock);
		rc = famrt_ensure_conn(d->fs);
		if (!rc) {
			rc = famrt_client_readdir(d->fs->client, d->ino,
						  d->cookie, 0, add_ent, d,
						  &next, &e);
			if (rc)
				rc = famrt_fail_err(&e);
		}
		pthread_mutex_unlock(&d->fs->lock);
		if (rc)
			return rc;
		d->cookie = next;
	}
	*ent = d->ents[d->pos++];
	return 1;
}

int famrt_closedir(struct famrt_dir *d)
{
	if (d) {
		free(d->ents);
		free(d);
	}
	return 0;
}

/* ---- NUMA ---- */

int famrt_numa_node(struct famrt_file *f, uint64_t off, uint64_t len)
{
	uint64_t per_node[64] = { 0 }, best = 0;
	struct famrt_fmap_iter it;
	struct famrt_fmap_run r;
	int node = -1;

	if (!len)
		len = f->size > off ? f->size - off : 0;
	famrt_fmap_iter_init(&it, f->map, off, len);
	while (famrt_fmap_iter_next(&it, &r)) {
		int n = f->fs->dev[r.dev].numa_node;

		if (n >= 0 && n < 64)
			per_node[n] += r.len;
	}
	for (int n = 0; n < 64; n++)
		if (per_node[n] > best) {
			best = per_node[n];
			node = n;
		}
	if (node < 0)
		return famrt_fail(ENOENT,
				  "the memory behind this range has no known "
				  "NUMA node (emulated devices)");
	return node;
}

int famrt_bind_near(struct famrt_file *f, uint64_t off, uint64_t len)
{
	hwloc_topology_t topo;
	hwloc_obj_t obj = NULL;
	int node = famrt_numa_node(f, off, len), rc = 0;

	if (node < 0)
		return node;
	if (hwloc_topology_init(&topo) || hwloc_topology_load(topo))
		return famrt_fail(EIO, "hwloc cannot read the topology");
	while ((obj = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE,
						 obj)))
		if ((int)obj->os_index == node)
			break;
	if (!obj)
		rc = famrt_fail(ENOENT, "hwloc does not know NUMA node %d", node);
	else if (hwloc_set_cpubind(topo, obj->cpuset, HWLOC_CPUBIND_THREAD))
		rc = famrt_fail(errno ? errno : EPERM,
				"cannot bind this thread near node %d: %s",
				node, strerror(errno));
	hwloc_topology_destroy(topo);
	return rc;
}

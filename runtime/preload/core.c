/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shim's core: configuration, real symbols, path claiming, the
 * descriptor table, and state carried across exec.
 *
 * FAMRT_MOUNT lists the prefixes the shim claims, separated by ':'; each is
 * PREFIX or PREFIX=SPEC, where SPEC names the file system (a famrtd socket
 * path ending in ".sock", or the devices "DEV0,DEV1"); without SPEC the
 * default connection is used (FAMRT_SOCKET, FAMRT_FS, or the only service
 * running). Example: FAMRT_MOUNT=/famrt  or  FAMRT_MOUNT=/a=/run/famrt/x.sock:/b
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "preload/shim.h"

__thread int shim_busy __attribute__((tls_model("initial-exec")));
int shim_nmounts;
int shim_have_fds;

static struct shim_mount mounts[SHIM_MAX_MOUNTS];
static struct shim_ofd **fdtab; /* SHIM_MAX_FDS slots, mmap'd lazily */
static pthread_mutex_t fdtab_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

char shim_vcwd[PATH_MAX];
struct shim_mount *shim_vcwd_mount;

void *shim_real(void **slot, const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p) {
		static const char msg[] = "famrt preload: a libc function is "
					  "missing: ";

		if (write(2, msg, sizeof(msg) - 1) < 0 ||
		    write(2, name, strlen(name)) < 0 || write(2, "\n", 1) < 0)
			_exit(127);
		abort();
	}
	__atomic_store_n(slot, p, __ATOMIC_RELAXED);
	return p;
}

void shim_warn(const char *fmt, ...)
{
	char buf[768];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	shim_busy++;
	if (write(2, buf, (size_t)n) < 0) {
		/* nothing more we can do */
	}
	shim_busy--;
}

/*
 * Normalize an absolute path lexically into out: no "//", ".", "..", no
 * trailing '/'. famrt has no symlinks, so this is exact inside famrt.
 */
static int normalize(const char *in, char *out)
{
	size_t o = 0;
	const char *p = in;

	if (*p != '/')
		return -EINVAL;
	while (*p) {
		const char *s;
		size_t n;

		while (*p == '/')
			p++;
		s = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (!n || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		if (o + 1 + n >= PATH_MAX)
			return -ENAMETOOLONG;
		out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
	}
	if (!o)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

static void add_mount(const char *entry, size_t len)
{
	char raw[PATH_MAX], norm[PATH_MAX];
	const char *eq = memchr(entry, '=', len);
	size_t plen = eq ? (size_t)(eq - entry) : len;
	struct shim_mount *m;

	if (shim_nmounts == SHIM_MAX_MOUNTS || !plen || plen >= PATH_MAX ||
	    entry[0] != '/') {
		shim_warn("famrt preload: ignoring mount entry '%.*s' (an "
			  "absolute prefix, at most %d entries)",
			  (int)len, entry, SHIM_MAX_MOUNTS);
		return;
	}
	memcpy(raw, entry, plen);
	raw[plen] = '\0';
	if (normalize(raw, norm) || !strcmp(norm, "/")) {
		shim_warn("famrt preload: ignoring mount prefix '%s'", raw);
		return;
	}
	m = &mounts[shim_nmounts];
	snprintf(m->prefix, sizeof(m->prefix), "%s", norm);
	m->plen = strlen(norm);
	if (eq && len - plen - 1 < sizeof(m->spec)) {
		memcpy(m->spec, eq + 1, len - plen - 1);
		m->spec[len - plen - 1] = '\0';
	}
	pthread_mutex_init(&m->lock, NULL);
	m->index = (uint32_t)shim_nmounts;
	shim_nmounts++;
}

static void restore_fds(const char *s);

static void init(void)
{
	const char *cfg = getenv("FAMRT_MOUNT");
	const char *fds = getenv(SHIM_ENV_FDS);

	shim_busy++;
	while (cfg && *cfg) {
		size_t n = strcspn(cfg, ":");

		if (n)
			add_mount(cfg, n);
		cfg += n;
		if (*cfg == ':')
			cfg++;
	}
	if (fds && *fds && shim_nmounts)
		restore_fds(fds);
	/* Consumed: a program that later execs must not pass it on stale. */
	if (fds)
		unsetenv(SHIM_ENV_FDS);
	shim_busy--;
}

void shim_init(void)
{
	pthread_once(&init_once, init);
}

__attribute__((constructor)) static void shim_ctor(void)
{
	/* Only configuration: no connection until a famrt path is used. */
	shim_init();
}

struct famrt *shim_fs(struct shim_mount *m)
{
	struct famrt *fs = __atomic_load_n(&m->fs, __ATOMIC_ACQUIRE);
	struct famrt_connect_opts o = { .size = sizeof(o) };
	int rc;

	if (fs)
		return fs;
	pthread_mutex_lock(&m->lock);
	fs = m->fs;
	if (!fs) {
		size_t n = strlen(m->spec);

		if (n > 5 && !strcmp(m->spec + n - 5, ".sock"))
			o.socket = m->spec;
		else if (n)
			o.fs = m->spec;
		shim_busy++;
		rc = famrt_connect(&fs, &o);
		shim_busy--;
		if (rc) {
			if (m->connect_errno != -rc)
				shim_warn("famrt preload: %s: %s", m->prefix,
					  famrt_errmsg());
			m->connect_errno = -rc;
			fs = NULL;
			errno = -rc;
		} else {
			__atomic_store_n(&m->fs, fs, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&m->lock);
	return fs;
}

/* ---- claiming paths ---- */

static struct shim_mount *match(const char *abs, char *fspath)
{
	for (int i = 0; i < shim_nmounts; i++) {
		struct shim_mount *m = &mounts[i];

		if (strncmp(abs, m->prefix, m->plen))
			continue;
		if (abs[m->plen] == '\0') {
			strcpy(fspath, "/");
			return m;
		}
		if (abs[m->plen] == '/') {
			snprintf(fspath, PATH_MAX, "%s", abs + m->plen);
			return m;
		}
	}
	return NULL;
}

static bool has_dotdot(const char *p)
{
	const char *s = p;

	while ((s = strstr(s, ".."))) {
		if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
			return true;
		s += 2;
	}
	return false;
}

int shim_claim(int dirfd, const char *path, struct shim_mount **mp,
	       char *fspath, const char **real, char *realbuf)
{
	char joined[PATH_MAX], norm[PATH_MAX];
	struct shim_ofd *dir = NULL;
	struct shim_mount *m;

	*real = path;
	if (shim_busy || !path)
		return 0;
	shim_init();
	if (!shim_nmounts)
		return 0;
	if (path[0] == '/') {
		/* Fast reject: the first bytes must match some prefix. */
		int i;

		for (i = 0; i < shim_nmounts; i++)
			if (!strncmp(path, mounts[i].prefix, 2))
				break;
		if (i == shim_nmounts)
			return 0;
		if (normalize(path, norm))
			return 0;
	} else {
		const char *base;

		if (dirfd != AT_FDCWD) {
			dir = shim_fd_get(dirfd);
			if (!dir) {
				if (!has_dotdot(path))
					return 0;
				/* A real directory: only its own prefix
				 * could lead into famrt; leave it to libc. */
				return 0;
			}
			base = NULL;
		} else if (shim_vcwd_mount) {
			base = shim_vcwd;
		} else {
			if (!has_dotdot(path))
				return 0;
			shim_busy++;
			base = getcwd(joined, sizeof(joined)) ? joined : NULL;
			shim_busy--;
			if (!base)
				return 0;
		}
		if (dir) {
			/* Inside a famrt directory opened with O_DIRECTORY. */
			snprintf(norm, sizeof(norm), "%s/%s", dir->path, path);
			if (normalize(norm, fspath))
				return 0;
			*mp = dir->m;
			return 1;
		}
		if (base != joined) {
			/* Virtual cwd: always absolute below. */
			snprintf(joined, sizeof(joined), "%s", base);
		}
		if (strlen(joined) + 1 + strlen(path) >= sizeof(joined))
			return 0;
		strcat(joined, "/");
		strcat(joined, path);
		if (normalize(joined, norm))
			return 0;
	}
	m = match(norm, fspath);
	if (m) {
		*mp = m;
		return 1;
	}
	if (path[0] != '/' && shim_vcwd_mount) {
		/* The kernel's cwd is elsewhere: give libc the real path. */
		snprintf(realbuf, PATH_MAX, "%s", norm);
		*real = realbuf;
	}
	return 0;
}

/* ---- the descriptor table ---- */

static struct shim_ofd **table(void)
{
	struct shim_ofd **t = __atomic_load_n(&fdtab, __ATOMIC_ACQUIRE);

	if (t)
		return t;
	pthread_mutex_lock(&fdtab_lock);
	if (!fdtab) {
		void *p = mmap(NULL, SHIM_MAX_FDS * sizeof(*fdtab),
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			       0);

		if (p != MAP_FAILED)
			__atomic_store_n(&fdtab, p, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&fdtab_lock);
	return fdtab;
}

struct shim_ofd *shim_fd_get(int fd)
{
	struct shim_ofd **t = __atomic_load_n(&fdtab, __ATOMIC_ACQUIRE);

	if (!t || fd < 0 || fd >= SHIM_MAX_FDS)
		return NULL;
	return __atomic_load_n(&t[fd], __ATOMIC_ACQUIRE);
}

void shim_fd_set(int fd, struct shim_ofd *o)
{
	struct shim_ofd **t = table();
	struct shim_ofd *old;

	if (!t || fd < 0 || fd >= SHIM_MAX_FDS)
		return;
	shim_ofd_ref(o);
	old = __atomic_exchange_n(&t[fd], o, __ATOMIC_ACQ_REL);
	__atomic_store_n(&shim_have_fds, 1, __ATOMIC_RELAXED);
	if (old)
		shim_ofd_unref(old);
}

struct shim_ofd *shim_fd_take(int fd)
{
	struct shim_ofd **t = __atomic_load_n(&fdtab, __ATOMIC_ACQUIRE);

	if (!t || fd < 0 || fd >= SHIM_MAX_FDS)
		return NULL;
	return __atomic_exchange_n(&t[fd], NULL, __ATOMIC_ACQ_REL);
}

struct shim_ofd *shim_ofd_new(struct shim_mount *m, const char *path)
{
	size_t n = strlen(path);
	struct shim_ofd *o = calloc(1, sizeof(*o) + n + 1);

	if (!o)
		return NULL;
	pthread_mutex_init(&o->lock, NULL);
	o->m = m;
	memcpy(o->path, path, n + 1);
	return o;
}

void shim_ofd_ref(struct shim_ofd *o)
{
	__atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
}

int shim_ofd_unref(struct shim_ofd *o)
{
	int rc = 0;

	if (__atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL))
		return 0;
	shim_busy++;
	if (o->f) {
		rc = famrt_close(o->f);
		if (rc)
			shim_warn("famrt preload: %s%s: %s", o->m->prefix,
				  o->path, famrt_errmsg());
	}
	if (o->dir)
		famrt_closedir(o->dir);
	shim_busy--;
	pthread_mutex_destroy(&o->lock);
	free(o);
	return rc;
}

int shim_ofd_ready(struct shim_ofd *o)
{
	struct famrt *fs;
	int rc;

	if (!o->pending)
		return 0;
	fs = shim_fs(o->m);
	if (!fs)
		return -errno;
	if (o->is_dir) {
		o->pending = false;
		return 0;
	}
	shim_busy++;
	rc = famrt_open(fs, o->path,
			(o->flags & O_ACCMODE) == O_RDONLY ? O_RDONLY : O_RDWR,
			&o->f);
	shim_busy--;
	if (!rc)
		o->pending = false;
	return rc;
}

void shim_stat_fill(const struct shim_mount *m, const struct famrt_stat *fs,
		    struct stat *st)
{
	memset(st, 0, sizeof(*st));
	/* A device number of our own, so tools see one file system. */
	st->st_dev = makedev(0xfa, m->index);
	st->st_ino = fs->ino;
	st->st_mode = fs->mode;
	st->st_nlink = fs->nlink;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = (off_t)fs->size;
	st->st_blksize = 1 << 20;
	st->st_blocks = (blkcnt_t)(fs->alloc_bytes / 512);
	st->st_mtim.tv_sec = (time_t)(fs->mtime_ns / 1000000000ull);
	st->st_mtim.tv_nsec = (long)(fs->mtime_ns % 1000000000ull);
	st->st_atim = st->st_mtim;
	st->st_ctim = st->st_mtim;
}

/* ---- across exec ---- */

/*
 * FAMRT_SHIM_FDS=fd:mount:pos:flags:dir:path;... (path last; ';' cannot
 * appear in famrt paths here as it ends an entry, so entries with ';' in
 * their path are not carried).
 */
static void restore_fds(const char *s)
{
	while (*s) {
		char path[PATH_MAX];
		unsigned mi;
		int fd, flags, isdir, n = 0;
		unsigned long long pos;
		struct stat st;
		struct shim_ofd *o;
		const char *end = strchr(s, ';');
		size_t plen;

		if (sscanf(s, "%d:%u:%llu:%d:%d:%n", &fd, &mi, &pos, &flags,
			   &isdir, &n) != 5 || !n)
			break;
		s += n;
		plen = end ? (size_t)(end - s) : strlen(s);
		if (plen >= sizeof(path))
			break;
		memcpy(path, s, plen);
		path[plen] = '\0';
		s += plen;
		if (*s == ';')
			s++;
		/* Only if the descriptor still is what we left there. */
		if (mi >= (unsigned)shim_nmounts || REAL(fstat)(fd, &st) ||
		    !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
			continue;
		o = shim_ofd_new(&mounts[mi], path);
		if (!o)
			continue;
		o->pending = true;
		o->is_dir = isdir;
		o->flags = flags;
		o->pos = pos;
		shim_fd_set(fd, o);
	}
}

char **shim_env_for_exec(char *const *envp)
{
	extern char **environ;
	char *const *src = envp ? envp : environ;
	struct shim_ofd **t = __atomic_load_n(&fdtab, __ATOMIC_ACQUIRE);
	size_t n = 0, cap = 4096, len = 0;
	char *val = NULL, **out;

	if (t && shim_have_fds) {
		val = malloc(cap);
		if (!val)
			return NULL;
		len = (size_t)snprintf(val, cap, "%s=", SHIM_ENV_FDS);
		for (int fd = 0; fd < 65536; fd++) {
			struct shim_ofd *o = __atomic_load_n(&t[fd],
							     __ATOMIC_ACQUIRE);
			int fdf;
			char ent[PATH_MAX + 96];
			int k;

			if (!o || strchr(o->path, ';'))
				continue;
			fdf = REAL(fcntl)(fd, F_GETFD);
			if (fdf < 0 || (fdf & FD_CLOEXEC))
				continue;
			k = snprintf(ent, sizeof(ent), "%d:%u:%llu:%d:%d:%s;",
				     fd, o->m->index, (unsigned long long)o->pos,
				     o->flags, o->is_dir ? 1 : 0, o->path);
			if (k < 0 || (size_t)k >= sizeof(ent))
				continue;
			if (len + (size_t)k + 1 > cap) {
				char *v = realloc(val, cap * 2 + (size_t)k);

				if (!v) {
					free(val);
					return NULL;
				}
				val = v;
				cap = cap * 2 + (size_t)k;
			}
			memcpy(val + len, ent, (size_t)k + 1);
			len += (size_t)k;
			/* A file being written cannot cross exec. */
		}
	}
	while (src && src[n])
		n++;
	out = calloc(n + 2, sizeof(*out));
	if (!out) {
		free(val);
		return NULL;
	}
	n = 0;
	for (size_t i = 0; src && src[i]; i++)
		if (strncmp(src[i], SHIM_ENV_FDS "=", sizeof(SHIM_ENV_FDS)))
			out[n++] = src[i];
	if (val)
		out[n++] = val;
	out[n] = NULL;
	/* Remember which entry is ours, to free it. */
	return out;
}

void shim_env_free(char **env)
{
	size_t n = 0;

	if (!env)
		return;
	while (env[n])
		n++;
	if (n && !strncmp(env[n - 1], SHIM_ENV_FDS "=", sizeof(SHIM_ENV_FDS)))
		free(env[n - 1]);
	free(env);
}

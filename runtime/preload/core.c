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
#include <dirent.h>
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
#include <time.h>
#include <unistd.h>

#include "client/internal.h"
#include "preload/shim.h"

__thread int shim_busy __attribute__((tls_model("initial-exec")));
__thread struct shim_ofd *shim_held[SHIM_HELD_MAX]
	__attribute__((tls_model("initial-exec")));
__thread unsigned shim_nheld __attribute__((tls_model("initial-exec")));
__thread unsigned shim_held_locked __attribute__((tls_model("initial-exec")));

bool shim_ofd_locked_here(const struct shim_ofd *o)
{
	for (unsigned i = 0; i < shim_nheld && i < SHIM_HELD_MAX; i++)
		if (shim_held[i] == o && (shim_held_locked & (1u << i)))
			return true;
	return false;
}
int shim_nmounts;
int shim_have_fds;
int shim_fd_hi;
pid_t shim_mypid;

static struct shim_mount mounts[SHIM_MAX_MOUNTS];
struct shim_ofd **shim_fdtab; /* SHIM_MAX_FDS slots, mmap'd lazily */
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
static struct shim_mount *match(const char *abs, char *fspath);

/* The famrt current directory the program that exec'd us had. */
static void restore_cwd(const char *cwd)
{
	char fspath[PATH_MAX];
	struct shim_mount *m;

	if (strlen(cwd) >= sizeof(shim_vcwd))
		return;
	m = match(cwd, fspath);
	if (!m)
		return;
	strcpy(shim_vcwd, cwd);
	shim_vcwd_mount = m;
}

static void init(void)
{
	const char *cfg = getenv("FAMRT_MOUNT");
	const char *fds = getenv(SHIM_ENV_FDS);
	const char *cwd = getenv(SHIM_ENV_CWD);

	if (!shim_mypid)
		shim_mypid = getpid();
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
	if (cwd && *cwd && shim_nmounts)
		restore_cwd(cwd);
	/* Consumed: a program that later execs must not pass them on stale
	 * (the exec wrappers set them again from the state of then). */
	if (fds)
		unsetenv(SHIM_ENV_FDS);
	if (cwd)
		unsetenv(SHIM_ENV_CWD);
	shim_busy--;
	/* A famrt file inherited as stdin/stdout/stderr: stdio must use it
	 * through the shim. */
	for (int fd = 0; fd < 3; fd++)
		if (shim_fd_get(fd))
			shim_std_after(fd);
}

void shim_init(void)
{
	pthread_once(&init_once, init);
}

/*
 * In a child of fork only the forking thread lives on: a lock of the
 * shim's that another thread held at that moment would never be released
 * there. Every lock of the shim is made anew (the state it guarded is as
 * that thread left it; the child can go on using its files, as POSIX asks
 * of a program that forks under threads only until exec, and in practice
 * after it too). An open file's lock that this thread itself holds (a
 * signal handler forked while its thread was inside the shim) is made anew
 * and taken again, so that the interrupted call's unlock stays right, and
 * this thread's record of its locks is kept.
 */
static void after_fork(void)
{
	struct shim_ofd **t = __atomic_load_n(&shim_fdtab, __ATOMIC_ACQUIRE);
	int hi = __atomic_load_n(&shim_fd_hi, __ATOMIC_ACQUIRE);
	const struct shim_ofd *retaken[SHIM_HELD_MAX];
	unsigned nretaken = 0;

	shim_mypid = getpid();
	pthread_mutex_init(&fdtab_lock, NULL);
	for (int i = 0; i < shim_nmounts; i++)
		pthread_mutex_init(&mounts[i].lock, NULL);
	for (int fd = 0; t && fd < hi && fd < SHIM_MAX_FDS; fd++) {
		struct shim_ofd *o = t[fd];
		bool seen = false;

		if (!o)
			continue;
		if (!shim_ofd_locked_here(o)) {
			pthread_mutex_init(&o->lock, NULL);
			continue;
		}
		/* A dup'd descriptor's ofd comes again: taken once. */
		for (unsigned i = 0; i < nretaken; i++)
			seen |= retaken[i] == o;
		if (seen || nretaken == SHIM_HELD_MAX)
			continue;
		retaken[nretaken++] = o;
		pthread_mutex_init(&o->lock, NULL);
		pthread_mutex_lock(&o->lock);
	}
	shim_maps_after_fork();
	shim_stdio_after_fork();
}

__attribute__((constructor)) static void shim_ctor(void)
{
	shim_mypid = getpid();
	pthread_atfork(NULL, NULL, after_fork);
	/* Only configuration: no connection until a famrt path is used. */
	shim_init();
}

/*
 * Exiting closes every descriptor, and closing commits a file being
 * created by writing: do that for the files this process created and
 * left open. From exit() (a destructor; stdio is flushed first, its
 * buffers may hold the last bytes) and from _exit (which shells use, and
 * which discards stdio buffers). A crash or a kill leaves no file, as
 * designed. getpid() and not the cached id: a vfork child's _exit must
 * not commit its parent's files.
 */
static void commit_own(void)
{
	int hi = __atomic_load_n(&shim_fd_hi, __ATOMIC_ACQUIRE);
	pid_t me = getpid();

	/* _exit from a signal handler that interrupted the shim on this
	 * thread: its locks may be held here; leave the files (as a crash
	 * would) rather than deadlock. */
	if (shim_busy)
		return;
	for (int fd = 0; fd < hi; fd++) {
		struct shim_ofd *o = shim_fd_get(fd);
		int rc;

		if (!o || o->foreign || o->creator != me ||
		    !shim_ofd_growing(o) || shim_ofd_trylock(o))
			continue;
		rc = shim_ofd_ready(o);
		if (!rc && o->f && !famrt_file_fmap(o->f)) {
			shim_busy++;
			rc = famrt_fsync(o->f);
			shim_busy--;
		}
		if (rc)
			shim_warn("famrt preload: %s%s: not committed at exit: "
				  "%s", o->m->prefix, o->path, famrt_errmsg());
		shim_ofd_unlock(o);
	}
}

__attribute__((destructor)) static void shim_dtor(void)
{
	if (!__atomic_load_n(&shim_have_fds, __ATOMIC_ACQUIRE))
		return;
	fflush(NULL);
	commit_own();
}

SHIM_EXPORT void _exit(int status)
{
	if (__atomic_load_n(&shim_have_fds, __ATOMIC_ACQUIRE))
		commit_own();
	REAL(_exit)(status);
	__builtin_unreachable();
}

SHIM_EXPORT void _Exit(int status)
{
	if (__atomic_load_n(&shim_have_fds, __ATOMIC_ACQUIRE))
		commit_own();
	REAL(_Exit)(status);
	__builtin_unreachable();
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
	struct shim_ofd **t = __atomic_load_n(&shim_fdtab, __ATOMIC_ACQUIRE);

	if (t)
		return t;
	pthread_mutex_lock(&fdtab_lock);
	if (!shim_fdtab) {
		void *p = mmap(NULL, SHIM_MAX_FDS * sizeof(*shim_fdtab),
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			       0);

		if (p != MAP_FAILED)
			__atomic_store_n(&shim_fdtab, p, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&fdtab_lock);
	return shim_fdtab;
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
	for (int hi = __atomic_load_n(&shim_fd_hi, __ATOMIC_RELAXED);
	     hi <= fd && !__atomic_compare_exchange_n(&shim_fd_hi, &hi, fd + 1,
						      false, __ATOMIC_RELEASE,
						      __ATOMIC_RELAXED);)
		;
	if (old)
		shim_ofd_unref(old);
}

struct shim_ofd *shim_fd_take(int fd)
{
	struct shim_ofd **t = __atomic_load_n(&shim_fdtab, __ATOMIC_ACQUIRE);

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
	o->carry_fd = -1;
	o->handed_carry = -1;
	memcpy(o->path, path, n + 1);
	return o;
}

bool shim_ofd_growing(const struct shim_ofd *o)
{
	return o->regrow || (o->f && !famrt_file_fmap(o->f));
}

struct shim_ofd *shim_growing_at(const struct shim_mount *m,
				 const char *fspath)
{
	int hi = __atomic_load_n(&shim_fd_hi, __ATOMIC_ACQUIRE);

	for (int fd = 0; fd < hi; fd++) {
		struct shim_ofd *o = shim_fd_get(fd);

		if (o && o->m == m && !o->foreign && o->creator == shim_mypid &&
		    shim_ofd_growing(o) && !strcmp(o->path, fspath))
			return o;
	}
	return NULL;
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
	if (o->regrow && o->creator == shim_mypid) {
		/* Inherited across exec, closed before any use: the file
		 * still comes to exist (empty, or with what was written before
		 * the exec), as the closing below commits it. */
		rc = shim_ofd_ready(o);
		if (rc)
			rc = 0; /* said by regrow */
	}
	shim_busy++;
	if (o->f && !famrt_file_fmap(o->f) && o->creator != shim_mypid) {
		/* A forked child's copy of a file its parent is creating:
		 * the parent commits it; here it only goes away. */
		famrt_grow_abort(o->f);
		famrt_close(o->f);
	} else if (o->f) {
		rc = famrt_close(o->f);
		if (rc)
			shim_warn("famrt preload: %s%s: %s", o->m->prefix,
				  o->path, famrt_errmsg());
	}
	if (o->dir)
		famrt_closedir(o->dir);
	if (o->carry_fd >= 0)
		REAL(close)(o->carry_fd);
	shim_busy--;
	pthread_mutex_destroy(&o->lock);
	free(o);
	return rc;
}

/*
 * A file this process was creating before it exec'd: its old reservation
 * went with the old image's connection (famrtd may take a moment to
 * notice), so create it again and put back the bytes written before.
 */
static int regrow(struct shim_ofd *o, struct famrt *fs)
{
	struct timespec wait = { 0, 1000000 };
	struct famrt_stat st;
	long waited_ms = 0;
	int rc;

	shim_busy++;
	for (;;) {
		rc = famrt_create_growing(fs, o->path, o->mode, &o->f);
		if (rc != -EEXIST || famrt_stat(fs, o->path, &st) != -ENOENT ||
		    waited_ms > 5000)
			break;
		nanosleep(&wait, NULL);
		waited_ms += wait.tv_nsec / 1000000;
		if (wait.tv_nsec < 50000000)
			wait.tv_nsec *= 2;
	}
	if (!rc && o->carry_fd >= 0) {
		char buf[65536];
		uint64_t off = 0;
		ssize_t n;

		while ((n = REAL(pread)(o->carry_fd, buf, sizeof(buf),
					(off_t)off)) > 0) {
			ssize_t w = famrt_pwrite(o->f, buf, (size_t)n, off);

			if (w != n) {
				rc = w < 0 ? (int)w : -EIO;
				break;
			}
			off += (uint64_t)n;
		}
		if (n < 0)
			rc = -errno;
		if (rc) {
			famrt_grow_abort(o->f);
			famrt_close(o->f);
			o->f = NULL;
		}
	}
	shim_busy--;
	if (rc) {
		shim_warn("famrt preload: %s%s: could not go on writing it "
			  "after exec: %s", o->m->prefix, o->path,
			  famrt_errmsg());
		return rc;
	}
	if (o->carry_fd >= 0) {
		REAL(close)(o->carry_fd);
		o->carry_fd = -1;
	}
	o->regrow = false;
	o->pending = false;
	o->creator = shim_mypid;
	return 0;
}

int shim_ofd_ready(struct shim_ofd *o)
{
	struct famrt *fs;
	int rc;

	if (!o->pending)
		return 0;
	if (o->foreign) {
		if (o->warned)
			return -EBADF;
		o->warned = true;
		shim_warn("famrt preload: %s%s is being created by writing in "
			  "process %d; other processes can use it only once "
			  "it is committed (when that process closes it)",
			  o->m->prefix, o->path, (int)o->creator);
		return -EBADF;
	}
	fs = shim_fs(o->m);
	if (!fs)
		return -errno;
	if (o->is_dir) {
		o->pending = false;
		return 0;
	}
	if (o->regrow)
		return regrow(o, fs);
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

/* ---- kernel descriptors ---- */

int shim_kfd_new(struct shim_ofd *o, bool cloexec)
{
	struct stat st;
	int fd = memfd_create("famrt", MFD_ALLOW_SEALING |
					       (cloexec ? MFD_CLOEXEC : 0));

	if (fd < 0)
		return -1;
	if (REAL(fcntl)(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
						 F_SEAL_WRITE | F_SEAL_SEAL) ||
	    REAL(fstat)(fd, &st)) {
		int err = errno;

		REAL(close)(fd);
		errno = err;
		return -1;
	}
	o->kdev = st.st_dev;
	o->kino = st.st_ino;
	return fd;
}

bool shim_vforked(void)
{
	return getpid() != shim_mypid;
}

/* ---- across exec ---- */

/*
 * FAMRT_SHIM_FDS=fd:dev:ino:mount:pos:flags:kind:mode:carry:creator:path;...
 * One entry per open famrt file, named by its kernel descriptor's device
 * and inode (fd is where the old image had it: a hint). The new image
 * finds its descriptors by that identity, wherever they ended up (dup2 in
 * a vfork child, posix_spawn file actions). kind: f file, d directory,
 * g a file this process (or a vfork child taking it over) is creating by
 * writing (carry: a memfd with its bytes so far, or -1), x a file another
 * process is creating. The path comes last; ';' ends an entry, so a path
 * with ';' in it is not carried.
 */
#define ENTRY_FMT "%d:%llu:%llu:%u:%llu:%d:%c:%o:%d:%d:"

struct carried {
	int fd, flags, carry, creator;
	unsigned long long dev, ino, pos;
	unsigned mi, mode;
	char kind;
	char path[PATH_MAX];
	struct shim_ofd *o;
};

/* Parse one entry at s; returns the next entry, or NULL at the end. */
static const char *parse_entry(const char *s, struct carried *c)
{
	const char *end;
	size_t plen;
	int n = 0;

	if (sscanf(s, ENTRY_FMT "%n", &c->fd, &c->dev, &c->ino, &c->mi,
		   &c->pos, &c->flags, &c->kind, &c->mode, &c->carry,
		   &c->creator, &n) != 10 || !n)
		return NULL;
	s += n;
	end = strchr(s, ';');
	plen = end ? (size_t)(end - s) : strlen(s);
	if (plen >= sizeof(c->path))
		return NULL;
	memcpy(c->path, s, plen);
	c->path[plen] = '\0';
	return s + plen + (end ? 1 : 0);
}

static void restore_one(int fd, struct carried *v, size_t n)
{
	struct stat st;
	struct shim_ofd *o;
	size_t i;

	if (REAL(fstat)(fd, &st) || !S_ISREG(st.st_mode))
		return;
	for (i = 0; i < n; i++)
		if (v[i].dev == (unsigned long long)st.st_dev &&
		    v[i].ino == (unsigned long long)st.st_ino)
			break;
	if (i == n || v[i].mi >= (unsigned)shim_nmounts)
		return;
	o = v[i].o;
	if (!o) {
		o = shim_ofd_new(&mounts[v[i].mi], v[i].path);
		if (!o)
			return;
		o->kdev = st.st_dev;
		o->kino = st.st_ino;
		o->pending = true;
		o->is_dir = v[i].kind == 'd';
		o->regrow = v[i].kind == 'g';
		o->foreign = v[i].kind == 'x';
		o->creator = v[i].kind == 'g' ? shim_mypid :
						(pid_t)v[i].creator;
		o->carry_fd = v[i].kind == 'g' ? v[i].carry : -1;
		o->mode = v[i].mode & 07777;
		o->flags = v[i].flags;
		o->pos = v[i].pos;
		v[i].o = o;
	}
	shim_fd_set(fd, o);
}

static void restore_fds(const char *s)
{
	struct carried *v = NULL;
	size_t n = 0, cap = 0;
	int hint = 0;
	DIR *d;

	while (s && *s) {
		if (n == cap) {
			struct carried *w = realloc(v, (cap = cap * 2 + 8) *
							       sizeof(*v));

			if (!w)
				break;
			v = w;
		}
		memset(&v[n], 0, sizeof(v[n]));
		s = parse_entry(s, &v[n]);
		if (!s)
			break;
		if (v[n].fd >= hint)
			hint = v[n].fd + 1;
		n++;
	}
	/* Every descriptor we have: /proc lists them, else try the likely. */
	d = n ? REAL(opendir)("/proc/self/fd") : NULL;
	if (d) {
		int self = REAL(dirfd)(d);
		struct dirent *e;

		while ((e = REAL(readdir)(d)))
			if (e->d_name[0] != '.' && atoi(e->d_name) != self)
				restore_one(atoi(e->d_name), v, n);
		REAL(closedir)(d);
	} else {
		for (int fd = 0; n && fd < (hint > 1024 ? hint : 1024); fd++)
			restore_one(fd, v, n);
	}
	/* Memfds handed to us for files we never got. */
	for (size_t i = 0; i < n; i++)
		if (v[i].kind == 'g' && !v[i].o && v[i].carry >= 0)
			REAL(close)(v[i].carry);
	free(v);
}

/* A memfd (inherited across exec) with the bytes of growing file f:
 * -1 when there are none, -2 on failure. */
static int carry_bytes(struct famrt_file *f)
{
	uint64_t size = famrt_file_size(f), off = 0;
	char buf[65536];
	int fd;

	if (!size)
		return -1;
	fd = memfd_create("famrt-carry", 0);
	if (fd < 0)
		return -2;
	while (off < size) {
		ssize_t n = famrt_pread(f, buf, sizeof(buf), off);

		if (n <= 0 ||
		    REAL(pwrite)(fd, buf, (size_t)n, (off_t)off) != n) {
			REAL(close)(fd);
			return -2;
		}
		off += (uint64_t)n;
	}
	return fd;
}

/* Does this process hold o as stdin, stdout or stderr? */
static bool holds_as_std(const struct shim_ofd *o)
{
	struct stat st;

	for (int fd = 0; fd < 3; fd++)
		if (!REAL(fstat)(fd, &st) && st.st_dev == o->kdev &&
		    st.st_ino == o->kino)
			return true;
	return false;
}

/*
 * A vfork child of the process creating o, about to exec with o as its
 * stdin/stdout/stderr (`prog > /famrt/new` in dash, subprocess with
 * stdout= in python): the program it starts takes the file over. The
 * parent is stopped until the exec, so its connection is ours to use:
 * give its reservation back (the new program makes the file anew), and
 * mark its open file as no longer its own (this memory is the parent's).
 * *carry gets a memfd with the bytes written so far (-1: none); without
 * with_bytes, only a file with nothing written yet is taken over. Fails
 * when the parent's connection is not open here (python closes every
 * descriptor in the child before exec): then the file stays the parent's.
 */
static int hand_over(struct shim_ofd *o, int *carry, bool with_bytes)
{
	struct famrt_file *f = o->f;
	struct famrt *fs = f->fs;
	struct famrt_stat st;
	struct famrt_err e;
	int rc;

	*carry = -1;
	if (shim_ofd_lock(o))
		return -EDEADLK;
	shim_busy++;
	if (famrt_file_size(f))
		*carry = with_bytes ? carry_bytes(f) : -2;
	rc = *carry == -2 ? -EIO : famrt_fstat(f, &st);
	if (!rc) {
		pthread_mutex_lock(&fs->lock);
		rc = -ESRCH;
		if (fs->pid == shim_mypid && fs->client)
			rc = famrt_client_abort(fs->client, f->grow->handle,
						&e);
		pthread_mutex_unlock(&fs->lock);
	}
	if (!rc) {
		/* Frees what is left (it sends nothing: pid differs). */
		famrt_grow_abort(f);
		famrt_close(f);
		o->f = NULL;
		o->mode = st.mode & 07777;
		o->foreign = true;
		o->pending = true;
		o->warned = false;
		o->creator = getpid();
		o->handed_to = getpid();
		/* For every exec attempt (execvp tries each PATH entry). */
		o->handed_carry = *carry;
	} else if (*carry >= 0) {
		REAL(close)(*carry);
		*carry = -1;
	}
	shim_busy--;
	shim_ofd_unlock(o);
	return rc;
}

void shim_hand_over_early(struct shim_ofd *o)
{
	int carry;

	if (!o->foreign && !o->regrow && o->f && !famrt_file_fmap(o->f) &&
	    o->creator == shim_mypid)
		hand_over(o, &carry, false);
}

/* The SHIM_ENV_FDS entry of o (at fd), appended to *val. */
static int env_entry(char **val, size_t *len, size_t *cap, int fd,
		     struct shim_ofd *o, bool same_process, bool vforked)
{
	int carry = -1, creator = (int)o->creator, k;
	unsigned mode = o->mode;
	char kind = o->is_dir ? 'd' : 'f';
	char ent[PATH_MAX + 200];

	if (o->foreign) {
		kind = 'x';
		if (same_process && o->handed_to == getpid()) {
			/* Taken over by this vfork child already (at dup2, or
			 * at an exec attempt that failed). */
			kind = 'g';
			mode = o->mode;
			carry = o->handed_carry;
			creator = (int)getpid();
		}
	} else if (shim_ofd_growing(o)) {
		kind = 'x';
		if (!same_process) {
			/* spawned: the parent goes on creating it */
		} else if (o->regrow && o->creator == shim_mypid && !vforked) {
			kind = 'g';     /* still as we got it */
			carry = o->carry_fd;
		} else if (o->regrow || o->creator != shim_mypid) {
			/* another process's */
		} else if (!vforked) {
			struct famrt_stat st;

			if (shim_ofd_lock(o))
				return -EDEADLK;
			shim_busy++;
			if (!famrt_fstat(o->f, &st))
				mode = st.mode & 07777;
			carry = carry_bytes(o->f);
			shim_busy--;
			shim_ofd_unlock(o);
			if (carry == -2)
				return -EIO;
			kind = 'g';
		} else if (holds_as_std(o) && !hand_over(o, &carry, true)) {
			kind = 'g';
			mode = o->mode;
			creator = (int)getpid();
		}
	}
	k = snprintf(ent, sizeof(ent), ENTRY_FMT "%s;", fd,
		     (unsigned long long)o->kdev, (unsigned long long)o->kino,
		     o->m->index, (unsigned long long)o->pos, o->flags, kind,
		     mode, carry, creator, o->path);
	if (k < 0 || (size_t)k >= sizeof(ent))
		return 0;
	if (*len + (size_t)k + 1 > *cap) {
		char *v = realloc(*val, *cap * 2 + (size_t)k);

		if (!v)
			return -ENOMEM;
		*val = v;
		*cap = *cap * 2 + (size_t)k;
	}
	memcpy(*val + *len, ent, (size_t)k + 1);
	*len += (size_t)k;
	return 0;
}

static char *fds_value(bool same_process)
{
	struct shim_ofd **t = __atomic_load_n(&shim_fdtab, __ATOMIC_ACQUIRE);
	int hi = __atomic_load_n(&shim_fd_hi, __ATOMIC_ACQUIRE);
	size_t cap = 4096, len, ndone = 0;
	struct shim_ofd **done = calloc((size_t)hi + 1, sizeof(*done));
	/* In a vfork child the table is the parent's, not ours: every open
	 * file in it may be anywhere here; the new image sorts it out. */
	bool vforked = shim_vforked();
	char *val = malloc(cap);

	if (!val || !done) {
		free(val);
		free(done);
		return NULL;
	}
	len = (size_t)snprintf(val, cap, "%s=", SHIM_ENV_FDS);
	for (int fd = 0; fd < hi; fd++) {
		struct shim_ofd *o = __atomic_load_n(&t[fd], __ATOMIC_ACQUIRE);
		size_t i;
		int fdf;

		if (!o || strchr(o->path, ';'))
			continue;
		for (i = 0; i < ndone && done[i] != o; i++)
			;
		if (i < ndone)
			continue;
		if (!vforked) {
			fdf = REAL(fcntl)(fd, F_GETFD);
			if (fdf < 0 || (fdf & FD_CLOEXEC))
				continue;
		}
		done[ndone++] = o;
		if (env_entry(&val, &len, &cap, fd, o, same_process, vforked)) {
			/* Undo what the entries so far set up. */
			char *tmp[2] = { val, NULL };
			char **env = malloc(sizeof(tmp));

			if (env) {
				memcpy(env, tmp, sizeof(tmp));
				shim_env_free(env);
			} else {
				free(val);
			}
			free(done);
			return NULL;
		}
	}
	free(done);
	return val;
}

char **shim_env_for_exec(char *const *envp, bool same_process)
{
	extern char **environ;
	char *const *src = envp ? envp : environ;
	struct shim_ofd **t = __atomic_load_n(&shim_fdtab, __ATOMIC_ACQUIRE);
	char *val = NULL, *cwd = NULL, **out;
	size_t n = 0;

	if (t && shim_have_fds) {
		val = fds_value(same_process);
		if (!val) {
			errno = ENOMEM;
			return NULL;
		}
	}
	if (shim_vcwd_mount &&
	    asprintf(&cwd, "%s=%s", SHIM_ENV_CWD, shim_vcwd) < 0)
		cwd = NULL;
	while (src && src[n])
		n++;
	out = calloc(n + 3, sizeof(*out));
	if (!out) {
		free(val);
		free(cwd);
		return NULL;
	}
	n = 0;
	for (size_t i = 0; src && src[i]; i++)
		if (strncmp(src[i], SHIM_ENV_FDS "=", sizeof(SHIM_ENV_FDS)) &&
		    strncmp(src[i], SHIM_ENV_CWD "=", sizeof(SHIM_ENV_CWD)))
			out[n++] = src[i];
	/* Ours go last, so shim_env_free finds them. */
	if (cwd)
		out[n++] = cwd;
	if (val)
		out[n++] = val;
	out[n] = NULL;
	return out;
}

/* Close the memfds a failed exec would have handed over (not those we
 * were handed ourselves and still keep). */
static void close_carried(const char *s)
{
	struct carried *c = malloc(sizeof(*c));
	struct shim_ofd **t = __atomic_load_n(&shim_fdtab, __ATOMIC_ACQUIRE);
	int hi = __atomic_load_n(&shim_fd_hi, __ATOMIC_ACQUIRE);

	while (c && s && *s && (s = parse_entry(s, c))) {
		bool kept = false;

		if (c->kind != 'g' || c->carry < 0)
			continue;
		for (int fd = 0; t && fd < hi && !kept; fd++) {
			struct shim_ofd *o = __atomic_load_n(&t[fd],
							     __ATOMIC_ACQUIRE);

			kept = o && (o->carry_fd == c->carry ||
				     (o->handed_to == getpid() &&
				      o->handed_carry == c->carry));
		}
		if (!kept)
			REAL(close)(c->carry);
	}
	free(c);
}

void shim_env_free(char **env)
{
	size_t n = 0;

	if (!env)
		return;
	while (env[n])
		n++;
	while (n--) {
		if (!strncmp(env[n], SHIM_ENV_FDS "=", sizeof(SHIM_ENV_FDS))) {
			close_carried(env[n] + sizeof(SHIM_ENV_FDS));
			free(env[n]);
		} else if (!strncmp(env[n], SHIM_ENV_CWD "=",
				    sizeof(SHIM_ENV_CWD))) {
			free(env[n]);
		} else {
			break;
		}
	}
	free(env);
}

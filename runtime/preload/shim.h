/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libfamrt_preload.so internals. The shim claims paths under the famrt
 * mount prefixes (FAMRT_MOUNT), gives every famrt file a real kernel
 * descriptor (a sealed, empty memfd) so that dup, poll, close, fork and
 * exec keep working, and keeps the famrt state of each in a table indexed
 * by that descriptor. Everything else goes to libc untouched.
 */
#ifndef FAMRT_PRELOAD_SHIM_H
#define FAMRT_PRELOAD_SHIM_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <famrt/famrt.h>

#define SHIM_EXPORT __attribute__((visibility("default")))
#define SHIM_MAX_MOUNTS 8
#define SHIM_MAX_FDS (1 << 20)

/* One mount prefix and the file system behind it. */
struct shim_mount {
	char prefix[PATH_MAX];   /* normalized, no trailing '/' */
	size_t plen;
	char spec[PATH_MAX];     /* socket path or device list; "" = default */
	struct famrt *fs;        /* connected on first use */
	int connect_errno;       /* last failure, reported once */
	pthread_mutex_t lock;
	uint32_t index;
};

/* A famrt open file description, shared by dup'd descriptors. */
struct shim_ofd {
	pthread_mutex_t lock;   /* position, lazy open, directory state */
	int refs;               /* descriptors pointing here (atomic) */
	struct shim_mount *m;
	struct famrt_file *f;   /* NULL for a directory or before reopen */
	bool is_dir;
	bool pending;           /* inherited across exec: reopen on use */
	dev_t kdev;             /* the kernel descriptor's identity */
	ino_t kino;
	/*
	 * A file being created by writing (not yet committed) belongs to the
	 * process that created it: `creator`. Inherited across that
	 * process's own exec (regrow) it is created anew on first use, with
	 * the bytes written before exec (carry_fd, a memfd; -1 if none);
	 * any other process holding it (foreign) can neither read nor
	 * write it until it is committed.
	 */
	bool regrow;
	bool foreign;
	bool warned;            /* said so once */
	pid_t creator;
	pid_t handed_to;        /* the vfork child that took it over, */
	int handed_carry;       /* with its bytes (a memfd in that child) */
	int carry_fd;
	mode_t mode;
	int flags;              /* open flags */
	uint64_t pos;
	/* Directory listing (getdents64/readdir). */
	struct famrt_dir *dir;
	uint64_t dir_index;     /* entries given so far, "." and ".." included */
	struct famrt_dirent held; /* read from famrt but not yet given */
	bool have_held;
	char path[];            /* path inside the file system */
};

/* Real libc functions, found once with dlsym(RTLD_NEXT). */
__attribute__((cold)) void *shim_real(void **slot, const char *name);
#define REAL(name)                                                           \
	({                                                                   \
		static void *slot_;                                          \
		void *p_ = __atomic_load_n(&slot_, __ATOMIC_RELAXED);        \
		if (__builtin_expect(!p_, 0))                                \
			p_ = shim_real(&slot_, #name);                       \
		(__typeof__(&name))p_;                                       \
	})

/* While the shim itself calls into libc or libfamrt: pass everything on. */
extern __thread int shim_busy __attribute__((tls_model("initial-exec")));

/*
 * An open file description's lock is taken and released only through
 * shim_ofd_lock/trylock/unlock, which keep, per thread, the locks it holds
 * or is taking. A signal handler that calls into the shim on a famrt file
 * whose lock its own thread holds (the handler interrupted the shim) would
 * otherwise wait forever: it gets EDEADLK instead. Locks are released in
 * the reverse order they were taken. The record is written so that a
 * handler running between any two of its steps sees either too much (a
 * harmless EDEADLK) or its own thread's state, never too little.
 */
#define SHIM_HELD_MAX 4
extern __thread struct shim_ofd *shim_held[SHIM_HELD_MAX]
	__attribute__((tls_model("initial-exec")));
extern __thread unsigned shim_nheld __attribute__((tls_model("initial-exec")));
/* Bit i: shim_held[i]'s lock is taken (not only being taken). */
extern __thread unsigned shim_held_locked
	__attribute__((tls_model("initial-exec")));
/* Whether this thread holds o's lock (for the fork child handler). */
bool shim_ofd_locked_here(const struct shim_ofd *o);

/* A virtual current directory inside famrt (after chdir into one). */
extern char shim_vcwd[PATH_MAX];
extern struct shim_mount *shim_vcwd_mount;
/* Restart a directory listing (o->lock held). */
void shim_dir_rewind(struct shim_ofd *o);

/* Configuration, read once. */
void shim_init(void);
extern int shim_nmounts;

/*
 * Is path (relative to dirfd, as for openat) a famrt path? 1 and *m and
 * fspath (PATH_MAX bytes) filled when it is; 0 when it is not, with
 * `real` set to the path libc should get (the same pointer, or an absolute
 * form when the current directory is inside famrt).
 */
int shim_claim(int dirfd, const char *path, struct shim_mount **m,
	       char *fspath, const char **real, char *realbuf);

/* The mount's connection, made on first use (NULL and errno on failure). */
struct famrt *shim_fs(struct shim_mount *m);

/* In a child of fork: make the locks of wrap_fd.c and wrap_stdio.c anew. */
void shim_maps_after_fork(void);
void shim_stdio_after_fork(void);

/*
 * The descriptor table: NULL until the first famrt open, then
 * SHIM_MAX_FDS slots. shim_fd_get is inline: with the real function's
 * call, it is what a call on a descriptor that is not famrt's costs (each
 * wrapper keeps its famrt path out of line, so this path stays short).
 */
extern struct shim_ofd **shim_fdtab;

static inline struct shim_ofd *shim_fd_get(int fd)
{
	struct shim_ofd **t = __atomic_load_n(&shim_fdtab, __ATOMIC_ACQUIRE);

	if (!t || (unsigned)fd >= SHIM_MAX_FDS)
		return NULL;
	return __atomic_load_n(&t[fd], __ATOMIC_ACQUIRE);
}

static inline bool shim_ofd_held(const struct shim_ofd *o)
{
	unsigned n = shim_nheld;

	for (unsigned i = 0; i < n && i < SHIM_HELD_MAX; i++)
		if (shim_held[i] == o)
			return true;
	return false;
}

static inline void shim_held_push(struct shim_ofd *o)
{
	unsigned n = shim_nheld;

	shim_nheld = n + 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (n < SHIM_HELD_MAX)
		shim_held[n] = o;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline void shim_held_pop(void)
{
	unsigned n = shim_nheld;

	if (n && n <= SHIM_HELD_MAX)
		shim_held[n - 1] = NULL;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	shim_nheld = n ? n - 1 : 0;
}

static inline void shim_held_mark(bool locked)
{
	unsigned bit = 1u << (shim_nheld - 1);

	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	shim_held_locked = locked ? shim_held_locked | bit :
				    shim_held_locked & ~bit;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/*
 * 0, or EDEADLK: this thread holds (or is taking) o's lock already, or is
 * so deep in handlers interrupting the shim that it keeps no more record.
 */
static inline int shim_ofd_lock(struct shim_ofd *o)
{
	if (__builtin_expect(shim_nheld >= SHIM_HELD_MAX || shim_ofd_held(o),
			     0))
		return EDEADLK;
	shim_held_push(o);
	pthread_mutex_lock(&o->lock);
	shim_held_mark(true);
	return 0;
}

/* 0, EBUSY (held by another thread) or EDEADLK (by this one). */
static inline int shim_ofd_trylock(struct shim_ofd *o)
{
	if (shim_nheld >= SHIM_HELD_MAX || shim_ofd_held(o))
		return EDEADLK;
	shim_held_push(o);
	if (pthread_mutex_trylock(&o->lock)) {
		shim_held_pop();
		return EBUSY;
	}
	shim_held_mark(true);
	return 0;
}

static inline void shim_ofd_unlock(struct shim_ofd *o)
{
	shim_held_mark(false);
	pthread_mutex_unlock(&o->lock);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	shim_held_pop();
}
/* Put o at fd (taking a reference); drops what was there. */
void shim_fd_set(int fd, struct shim_ofd *o);
/* Remove fd from the table; returns what was there (caller unrefs). */
struct shim_ofd *shim_fd_take(int fd);
struct shim_ofd *shim_ofd_new(struct shim_mount *m, const char *path);
void shim_ofd_ref(struct shim_ofd *o);
/* Drop a reference; the last one closes the famrt file (committing a file
 * being written). Returns 0 or -errno from that commit. */
int shim_ofd_unref(struct shim_ofd *o);
/* Reopen an ofd inherited across exec (o->lock held). */
int shim_ofd_ready(struct shim_ofd *o);
/* Any famrt descriptor at all? (a cheap test for the fast paths) */
extern int shim_have_fds;
/* One more than the highest descriptor that ever held a famrt file. */
extern int shim_fd_hi;
/* This process's id (cached; kept right across fork). */
extern pid_t shim_mypid;
/*
 * The kernel descriptor for a new famrt open file o: a sealed, empty
 * memfd (unique, so the file is recognised wherever a descriptor for it
 * ends up across exec; anything writing it behind the shim's back gets
 * EPERM). -1 and errno on failure.
 */
int shim_kfd_new(struct shim_ofd *o, bool cloexec);
/*
 * Are we a vfork child (sharing the parent's memory until exec)? Then the
 * shim's tables are the parent's and must not change. A system call:
 * only for calls that involve a famrt descriptor.
 */
bool shim_vforked(void);
/*
 * A vfork child makes o (a file its parent is creating, nothing written
 * yet) its stdin/stdout/stderr: the program it is about to exec takes the
 * file over (while the parent's connection is still open here).
 */
void shim_hand_over_early(struct shim_ofd *o);
/* Is o a file being created by writing (not yet committed)? */
bool shim_ofd_growing(const struct shim_ofd *o);
/* The open file of a file this process is creating at fspath, or NULL
 * (for stat by path: nobody else sees the file yet, but we do). */
struct shim_ofd *shim_growing_at(const struct shim_mount *m,
				 const char *fspath);

/* Fill a struct stat for a famrt object. */
void shim_stat_fill(const struct shim_mount *m, const struct famrt_stat *fs,
		    struct stat *st);

/* Make an error visible: errno = -rc, returns -1. */
static inline int shim_err(int rc)
{
	errno = rc < 0 ? -rc : rc;
	return -1;
}

/* Exec: the environment variables carrying famrt descriptors and a
 * current directory inside famrt across exec. */
#define SHIM_ENV_FDS "FAMRT_SHIM_FDS"
#define SHIM_ENV_CWD "FAMRT_SHIM_CWD"
/*
 * A copy of envp (or environ) with SHIM_ENV_FDS describing our open,
 * non-close-on-exec descriptors and SHIM_ENV_CWD the famrt current
 * directory. same_process: this process itself is about to exec (not a
 * child it spawns), so files it is creating by writing go along with it.
 * NULL if there is nothing to add (or no memory). shim_env_free after a
 * failed exec or a spawn releases it (and what it set up for the exec).
 */
char **shim_env_for_exec(char *const *envp, bool same_process);
void shim_env_free(char **env);

/* stdio: point stdin/stdout/stderr at a stream of our own while
 * descriptor 0/1/2 holds a famrt file (glibc's stdio would use the
 * kernel descriptor behind it directly). Before a descriptor in 0..2
 * changes (flush what is buffered for its old file): shim_std_before;
 * after (attach or detach): shim_std_after. */
extern int shim_std_active; /* a bit per std stream of ours */
void shim_std_before(int fd, bool famrt_next);
void shim_std_after(int fd);

/* Complain once on stderr (things a user must learn about). */
__attribute__((format(printf, 1, 2))) void shim_warn(const char *fmt, ...);

#endif

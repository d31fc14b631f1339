/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libfamrt: files on fabric-attached (CXL) memory, from userspace.
 *
 * Connect to a file system's metadata service (famrtd), open files by path,
 * and read, write or map them: the library fetches each file's map once,
 * maps the dax devices itself (once per process) and turns file offsets
 * into device addresses, so a read is a memcpy and a mapping is a pointer.
 *
 * Conventions: functions returning int return 0 (or a count) on success and
 * a negative errno on failure; functions returning a pointer return NULL
 * and set errno. After a failure, famrt_errmsg() gives a one-line message
 * saying what failed and where (per thread). Every function is thread-safe;
 * a connection, its files and its mappings may be shared by threads. After
 * fork() the child keeps its mappings and reconnects to the service on its
 * first call that needs it. docs/api.md has examples.
 */
#ifndef FAMRT_FAMRT_H
#define FAMRT_FAMRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <famrt/common.h>
#include <famrt/fmap.h>

FAMRT_BEGIN_DECLS

struct famrt;      /* a connection to one file system */
struct famrt_file; /* an open file */
struct famrt_dir;  /* an open directory listing */

struct famrt_connect_opts {
	size_t size;        /* sizeof(struct famrt_connect_opts) */
	const char *socket; /* the service's socket; NULL: see famrt_connect */
	const char *fs;     /* or the file system's devices "DEV0[,DEV1...]"
			     * (the socket is derived from its uuid) */
	uint32_t map_budget; /* most kernel mappings famrt_mmap may create in
			      * this process; 0: vm.max_map_count / 4 */
};

/*
 * Connect to a file system's service. The socket is, in order: opts->socket,
 * the one derived from opts->fs, $FAMRT_SOCKET, the one derived from
 * $FAMRT_FS, or the only socket in $FAMRT_RUN_DIR (default /run/famrt).
 * opts may be NULL. The service must run as root, as this user or as
 * $FAMRT_SERVICE_UID. Gets the device descriptors and maps every device.
 */
FAMRT_API int famrt_connect(struct famrt **out,
			    const struct famrt_connect_opts *opts);

/*
 * The process-wide default connection, made on first use from the
 * environment as famrt_connect(NULL) would. NULL (errno set) if that fails;
 * a later call tries again.
 */
FAMRT_API struct famrt *famrt_default(void);

/*
 * Close a connection. Its files must be closed and its mappings unmapped
 * first (EBUSY otherwise).
 */
FAMRT_API int famrt_disconnect(struct famrt *fs);

/* The message of this thread's last failure ("" if none). */
FAMRT_API const char *famrt_errmsg(void);

/* File attributes. */
struct famrt_stat {
	uint64_t ino;
	uint64_t size;
	uint64_t alloc_bytes; /* bytes the file holds on the devices */
	uint64_t mtime_ns;
	uint32_t mode;        /* S_IFREG or S_IFDIR | permission bits */
	uint32_t uid, gid;
	uint32_t nlink;
};

FAMRT_API int famrt_stat(struct famrt *fs, const char *path,
			 struct famrt_stat *st);

/* How a new file's bytes are laid out on the devices. */
struct famrt_layout {
	size_t size;         /* sizeof(struct famrt_layout) */
	bool interleave;     /* false: simple extents */
	uint32_t nstrips;    /* strips per interleaved extent; 0: one per device */
	uint64_t chunk;      /* chunk size; 0: the allocation unit */
	uint32_t ndevs;      /* 0: every device */
	uint32_t devs[32];   /* devices to use, in strip order */
};

/*
 * Open path. flags: O_RDONLY or O_RDWR (O_CLOEXEC and O_NOATIME are
 * ignored). Directories cannot be opened (EISDIR): use famrt_opendir. The
 * first open of a path costs one request to the service; later opens of
 * the same path are served from a cache. O_CREAT is refused here (EINVAL):
 * use famrt_create, which needs the size.
 */
FAMRT_API int famrt_open(struct famrt *fs, const char *path, int flags,
			 struct famrt_file **out);

/*
 * Create a file of `size` bytes (fixed for its life) with permission bits
 * `mode` and layout lay (NULL: simple extents), and open it read-write.
 * EEXIST if the path exists; EROFS on a host that is not the master.
 */
FAMRT_API int famrt_create(struct famrt *fs, const char *path, mode_t mode,
			   uint64_t size, const struct famrt_layout *lay,
			   struct famrt_file **out);

/*
 * Create a file by writing it: the file starts empty, grows as famrt_pwrite
 * writes past its end (space is reserved as it grows, in extents that grow
 * geometrically), and is visible to no one else until famrt_fsync or
 * famrt_close commits it to the log with its final size; from then on its
 * size is fixed like any other file's. If the writer dies first, no file
 * appears and no space is lost. EEXIST if the path exists or is being
 * written; EROFS on a host that is not the master.
 */
FAMRT_API int famrt_create_growing(struct famrt *fs, const char *path,
				   mode_t mode, struct famrt_file **out);

/*
 * Close a file. For a file made with famrt_create_growing and not yet
 * committed, this commits it; a failure to commit is returned (and the
 * file does not exist).
 */
FAMRT_API int famrt_close(struct famrt_file *f);
FAMRT_API int famrt_fstat(struct famrt_file *f, struct famrt_stat *st);
FAMRT_API uint64_t famrt_file_size(const struct famrt_file *f);
/* The file's map (valid while the file is open). */
FAMRT_API const struct famrt_fmap *famrt_file_fmap(const struct famrt_file *f);

/*
 * Read up to len bytes at off into buf: the number read (0 at or past the
 * end of the file). Never a system call: resolution plus memcpy.
 */
FAMRT_API ssize_t famrt_pread(struct famrt_file *f, void *buf, size_t len,
			      uint64_t off);
/*
 * Write len bytes from buf at off: the number written (short at the end of
 * the file; files do not grow: EFBIG at or past the end). EBADF when the
 * file is not open for writing. The bytes are visible to other processes
 * on this host at once; for other hosts (and for durability) famrt_flush.
 */
FAMRT_API ssize_t famrt_pwrite(struct famrt_file *f, const void *buf,
			       size_t len, uint64_t off);
FAMRT_API ssize_t famrt_preadv(struct famrt_file *f, const struct iovec *iov,
			       int iovcnt, uint64_t off);
FAMRT_API ssize_t famrt_pwritev(struct famrt_file *f, const struct iovec *iov,
				int iovcnt, uint64_t off);

/*
 * Write back the CPU cache lines of [off, off+len) of the file to the
 * memory (so other hosts, and a power loss, see them), or drop them (so
 * the next read sees what another host wrote). len 0: to the end of file.
 */
FAMRT_API int famrt_flush(struct famrt_file *f, uint64_t off, uint64_t len);
FAMRT_API int famrt_invalidate(struct famrt_file *f, uint64_t off,
			       uint64_t len);
/*
 * Set the size of a file being created by writing (growing it with zeros
 * or cutting it back). For any other file, only its own size is accepted:
 * famrt files never change size once committed (EPERM otherwise).
 */
FAMRT_API int famrt_ftruncate(struct famrt_file *f, uint64_t size);
/*
 * Change the permission bits of an open file (for a file being created by
 * writing: the bits it will be committed with).
 */
FAMRT_API int famrt_fchmod(struct famrt_file *f, mode_t mode);

/* Flush the whole file; commit a file being created by writing. */
FAMRT_API int famrt_fsync(struct famrt_file *f);

/*
 * Map [off, off+len) of the file (len 0: to the end) as one contiguous
 * range; *addr gets the address of byte `off`. prot: PROT_READ, optionally
 * | PROT_WRITE (file open O_RDWR). A file stored in one contiguous run is
 * served from the device mapping itself; otherwise the range is reserved
 * and each run is mapped into it with MAP_FIXED. ENOMEM with an explaining
 * message when the pieces would pass the mapping budget. The mapping
 * outlives the file handle (not the connection); release it with
 * famrt_munmap.
 */
FAMRT_API int famrt_mmap(struct famrt_file *f, uint64_t off, size_t len,
			 int prot, void **addr);
FAMRT_API int famrt_munmap(struct famrt *fs, void *addr);

/* Directory listing. */
struct famrt_dirent {
	uint64_t ino;
	uint32_t mode;
	char name[256];
};
FAMRT_API int famrt_opendir(struct famrt *fs, const char *path,
			    struct famrt_dir **out);
/* 1 and *ent filled, 0 at the end, or -errno. */
FAMRT_API int famrt_readdir(struct famrt_dir *d, struct famrt_dirent *ent);
FAMRT_API int famrt_closedir(struct famrt_dir *d);

FAMRT_API int famrt_mkdir(struct famrt *fs, const char *path, mode_t mode);

/*
 * Change permission bits (owner or root) or owner (root; the owner may
 * change the group to one of theirs). (uid_t)-1 / (gid_t)-1 keep a field.
 * Logged like every change: master host only.
 */
FAMRT_API int famrt_chmod(struct famrt *fs, const char *path, mode_t mode);
FAMRT_API int famrt_chown(struct famrt *fs, const char *path, uid_t uid,
			  gid_t gid);

struct famrt_statfs {
	uint64_t size;        /* data bytes on all devices */
	uint64_t free;
	uint64_t largest_free; /* largest contiguous free run */
	uint64_t files, dirs;
	uint64_t alloc_unit;
	uint32_t ndevs;
};
FAMRT_API int famrt_statfs(struct famrt *fs, struct famrt_statfs *st);

/*
 * NUMA: the node of the memory behind [off, off+len) of the file (the node
 * holding most of it), or -ENOENT when unknown (emulated devices).
 * famrt_bind_near binds the calling thread to the CPUs near that node.
 */
FAMRT_API int famrt_numa_node(struct famrt_file *f, uint64_t off,
			      uint64_t len);
FAMRT_API int famrt_bind_near(struct famrt_file *f, uint64_t off,
			      uint64_t len);

FAMRT_END_DECLS

#endif /* FAMRT_FAMRT_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening and mapping devices, real (device-dax) or emulated (a regular
 * file). A character device is described from sysfs before it is opened, so
 * that famrt never opens (with its side effects) something that is not dax.
 */
#include <errno.h>
#include <linux/magic.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "dax.h"
#include "dax_internal.h"

#define MIN_ALIGN 4096u

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static const char *file_type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symbolic link";
	default:
		return "an unknown kind of file";
	}
}

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void dev_reset(struct famrt_dev *d)
{
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->kind = FAMRT_DEV_NONE;
	d->numa_node = -1;
	d->target_node = -1;
}

/* Last component of a path, ignoring trailing slashes. */
static void base_name(char *dst, size_t size, const char *path)
{
	const char *end = path + strlen(path), *start;
	size_t n;

	while (end > path + 1 && end[-1] == '/')
		end--;
	start = end;
	while (start > path && start[-1] != '/')
		start--;
	if (end == start) {
		copy_str(dst, size, path);
		return;
	}
	n = (size_t)(end - start);
	if (n >= size)
		n = size - 1;
	memcpy(dst, start, n);
	dst[n] = '\0';
}

/*
 * Read a one-line sysfs attribute dir/name into buf without its newline.
 * Returns 0 or -errno.
 */
static int sysfs_read(const char *dir, const char *name, char *buf,
		      size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, err;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		n = read(fd, buf, len - 1);
	} while (n < 0 && errno == EINTR);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int sysfs_read_u64(const char *dir, const char *name, uint64_t *v)
{
	char buf[64], *end;
	unsigned long long x;
	int rc;

	rc = sysfs_read(dir, name, buf, sizeof(buf));
	if (rc)
		return rc;
	if (buf[0] < '0' || buf[0] > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(buf, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*v = x;
	return 0;
}

/* A node number from sysfs; -1 when missing or unreadable. */
static int sysfs_read_node(const char *dir, const char *name)
{
	char buf[32], *end;
	long v;

	if (sysfs_read(dir, name, buf, sizeof(buf)))
		return -1;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || *end || end == buf || v < -1 || v > INT_MAX)
		return -1;
	return (int)v;
}

/* Base name of the target of symlink dir/name; -errno if none. */
static int sysfs_link_name(const char *dir, const char *name, char *buf,
			   size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base_name(buf, len, target);
	return 0;
}

static const char *driver_hint(const char *driver)
{
	if (!strcmp(driver, "fsdev_dax"))
		return " (famfs mode: raw mmap is forbidden, and the device "
		       "may hold a mounted famfs: unmount it first)";
	if (!strcmp(driver, "kmem"))
		return " (system-ram mode: its memory belongs to the kernel)";
	return "";
}

int famrt_dax_sysfs_probe(const char *sysdir, const char *name,
			  struct famrt_dev *d, struct famrt_err *e)
{
	char subsys[64], driver[64], real[PATH_MAX], devname[64];
	char region[PATH_MAX];
	uint64_t size, align;
	struct stat st;
	bool on_bus;
	int rc;

	if (stat(sysdir, &st) || !S_ISDIR(st.st_mode))
		return famrt_err_set(e, ENODEV,
				     "%s: a character device that sysfs does "
				     "not describe (%s missing): famrt needs a "
				     "device-dax device (/dev/daxX.Y) or a "
				     "regular file",
				     name, sysdir);
	rc = sysfs_link_name(sysdir, "subsystem", subsys, sizeof(subsys));
	if (rc)
		return famrt_err_set(e, ENODEV,
				     "%s: cannot tell its subsystem (%s/subsystem:"
				     " %s): famrt needs a device-dax device "
				     "(/dev/daxX.Y) or a regular file",
				     name, sysdir, strerror(-rc));
	if (strcmp(subsys, "dax"))
		return famrt_err_set(e, ENODEV,
				     "%s: a character device of the '%s' "
				     "subsystem, not device-dax: famrt needs a "
				     "device-dax device (/dev/daxX.Y) or a "
				     "regular file",
				     name, subsys);
	if (realpath(sysdir, real))
		base_name(devname, sizeof(devname), real);
	else
		base_name(devname, sizeof(devname), name);
	/* "/sys/bus/dax" or, before Linux 5.1, "/sys/class/dax". */
	snprintf(region, sizeof(region), "%s/subsystem", sysdir);
	on_bus = realpath(region, real) && strlen(real) >= 8 &&
		 !strcmp(real + strlen(real) - 8, "/bus/dax");

	/*
	 * On the dax bus (every kernel since 5.1) the device has a driver of
	 * its own; plain devdax is device_dax. The older dax class has no
	 * driver link and knows only devdax.
	 */
	rc = sysfs_link_name(sysdir, "driver", driver, sizeof(driver));
	if (rc == -ENOENT) {
		if (!on_bus)
			driver[0] = '\0';
		else
			return famrt_err_set(e, ENXIO,
					     "%s (%s): device-dax device with no "
					     "driver bound (disabled); enable it "
					     "in devdax mode: daxctl "
					     "reconfigure-device --mode=devdax %s",
					     name, devname, devname);
	} else if (rc) {
		return famrt_err_set(e, -rc, "%s (%s): cannot read %s/driver: %s",
				     name, devname, sysdir, strerror(-rc));
	} else if (strcmp(driver, "device_dax")) {
		return famrt_err_set(e, EBUSY,
				     "%s (%s): bound to driver '%s'%s, but famrt "
				     "maps the device itself and needs plain "
				     "devdax mode (driver device_dax): daxctl "
				     "reconfigure-device --mode=devdax %s",
				     name, devname, driver, driver_hint(driver),
				     devname);
	}

	rc = sysfs_read_u64(sysdir, "size", &size);
	if (rc)
		return famrt_err_set(e, rc == -EINVAL ? EIO : -rc,
				     "%s (%s): cannot read its size from "
				     "%s/size: %s",
				     name, devname, sysdir, strerror(-rc));
	/* The per-device align attribute exists since Linux 5.10. */
	rc = sysfs_read_u64(sysdir, "align", &align);
	if (rc == -ENOENT) {
		snprintf(region, sizeof(region), "%s/../dax_region", sysdir);
		rc = sysfs_read_u64(region, "align", &align);
		if (rc == -ENOENT) {
			snprintf(region, sizeof(region), "%s/device/dax_region",
				 sysdir);
			rc = sysfs_read_u64(region, "align", &align);
		}
	}
	if (rc)
		return famrt_err_set(e, rc == -EINVAL ? EIO : -rc,
				     "%s (%s): cannot read its alignment from "
				     "sysfs (%s/align): %s",
				     name, devname, sysdir, strerror(-rc));
	if (!is_pow2(align) || align < MIN_ALIGN)
		return famrt_err_set(e, EINVAL,
				     "%s (%s): alignment %" PRIu64 " is not a "
				     "power of two of at least 4096",
				     name, devname, align);
	if (size == 0)
		return famrt_err_set(e, EINVAL,
				     "%s (%s): the device has size 0", name,
				     devname);
	if (size % align)
		return famrt_err_set(e, EINVAL,
				     "%s (%s): size %" PRIu64 " is not a "
				     "multiple of its alignment %" PRIu64,
				     name, devname, size, align);

	d->kind = FAMRT_DEV_DEVDAX;
	copy_str(d->devname, sizeof(d->devname), devname);
	d->size = size;
	d->align = align;
	d->numa_node = sysfs_read_node(sysdir, "numa_node");
	d->target_node = sysfs_read_node(sysdir, "target_node");
	return 0;
}

static void char_sysdir(char *buf, size_t len, dev_t rdev)
{
	snprintf(buf, len, "/sys/dev/char/%u:%u", major(rdev), minor(rdev));
}

/*
 * The alignment of a file standing in for a device: 4 KiB, unless its file
 * system maps in larger pages (hugetlbfs: its huge page size, which every
 * mapping of the file must be a multiple of). fd < 0: ask by path.
 */
static uint64_t file_align(int fd, const char *path)
{
	struct statfs sf;

	if ((fd >= 0 ? fstatfs(fd, &sf) : statfs(path, &sf)) == 0 &&
	    sf.f_type == HUGETLBFS_MAGIC && sf.f_bsize > FAMRT_FILE_DEV_ALIGN &&
	    !(sf.f_bsize & (sf.f_bsize - 1)))
		return (uint64_t)sf.f_bsize;
	return FAMRT_FILE_DEV_ALIGN;
}

/* Describe a regular file standing in for a device (fd, or -1: by name). */
static int probe_file(const struct stat *st, int fd, const char *name,
		      struct famrt_dev *d, struct famrt_err *e)
{
	uint64_t align = file_align(fd, name);

	if (st->st_size == 0)
		return famrt_err_set(e, EINVAL,
				     "%s: the file is empty; a file standing in "
				     "for a device needs a size that is a "
				     "multiple of %" PRIu64
				     " (e.g. truncate -s 1G %s)",
				     name, align, name);
	if ((uint64_t)st->st_size % align)
		return famrt_err_set(e, EINVAL,
				     "%s: size %lld is not a multiple of %" PRIu64
				     ", the alignment of an emulated device%s",
				     name, (long long)st->st_size, align,
				     align > FAMRT_FILE_DEV_ALIGN ?
					     " on hugetlbfs (its page size)" :
					     "");
	d->kind = FAMRT_DEV_FILE;
	base_name(d->devname, sizeof(d->devname), name);
	d->size = (uint64_t)st->st_size;
	d->align = align;
	d->numa_node = -1;
	d->target_node = -1;
	return 0;
}

static int refuse_kind(const struct stat *st, const char *name,
		       struct famrt_err *e)
{
	return famrt_err_set(e, ENODEV,
			     "%s: is %s, which famrt cannot use: it needs a "
			     "device-dax device (/dev/daxX.Y) or a regular "
			     "file standing in for one",
			     name, file_type_name(st->st_mode));
}

static int refuse_access(int err, const char *path, bool writable,
			 struct famrt_err *e)
{
	struct stat st;

	if (stat(path, &st))
		return famrt_err_set(e, err, "%s: cannot open %s: %s", path,
				     writable ? "read-write" : "read-only",
				     strerror(err));
	return famrt_err_set(e, err,
			     "%s: cannot open %s: %s (mode %04o, owner uid %u "
			     "gid %u; this process runs as uid %u gid %u): %s "
			     "access is needed; run as a user the mode allows "
			     "(device nodes are usually root-only) or have "
			     "famrtd pass the descriptor",
			     path, writable ? "read-write" : "read-only",
			     strerror(err), (unsigned)(st.st_mode & 07777),
			     (unsigned)st.st_uid, (unsigned)st.st_gid,
			     (unsigned)geteuid(), (unsigned)getegid(),
			     writable ? "read and write" : "read");
}

int famrt_dev_open(struct famrt_dev *d, const char *path, int oflags,
		   struct famrt_err *e)
{
	struct stat st, fst;
	bool writable;
	int fd, rc, flags;

	dev_reset(d);
	famrt_err_clear(e);
	if (!path || !*path)
		return famrt_err_set(e, EINVAL, "device path is empty");
	if ((oflags & ~(O_ACCMODE | O_CLOEXEC)) ||
	    ((oflags & O_ACCMODE) != O_RDONLY && (oflags & O_ACCMODE) != O_RDWR))
		return famrt_err_set(e, EINVAL,
				     "%s: open flags 0%o: only O_RDONLY or "
				     "O_RDWR are allowed",
				     path, (unsigned)oflags);
	if (strlen(path) >= sizeof(d->path))
		return famrt_err_set(e, ENAMETOOLONG, "%.64s...: path too long",
				     path);
	writable = (oflags & O_ACCMODE) == O_RDWR;

	if (stat(path, &st)) {
		rc = errno;
		return famrt_err_set(e, rc, "%s: cannot open device: %s", path,
				     strerror(rc));
	}
	if (S_ISCHR(st.st_mode)) {
		char sysdir[64];

		char_sysdir(sysdir, sizeof(sysdir), st.st_rdev);
		rc = famrt_dax_sysfs_probe(sysdir, path, d, e);
		if (rc) {
			dev_reset(d);
			return rc;
		}
	} else if (S_ISREG(st.st_mode)) {
		rc = probe_file(&st, -1, path, d, e);
		if (rc) {
			dev_reset(d);
			return rc;
		}
	} else {
		return refuse_kind(&st, path, e);
	}

	flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY |
		O_NONBLOCK;
	fd = open(path, flags);
	if (fd < 0) {
		int err = errno;

		dev_reset(d);
		if (err == EACCES || err == EPERM)
			return refuse_access(err, path, writable, e);
		return famrt_err_set(e, err, "%s: cannot open %s: %s", path,
				     writable ? "read-write" : "read-only",
				     strerror(err));
	}
	/* Whatever is open now must be what was described. */
	if (fstat(fd, &fst) || fst.st_dev != st.st_dev ||
	    fst.st_ino != st.st_ino || (fst.st_mode & S_IFMT) !=
	    (st.st_mode & S_IFMT) || fst.st_rdev != st.st_rdev) {
		close(fd);
		dev_reset(d);
		return famrt_err_set(e, EAGAIN,
				     "%s: changed while being opened; try again",
				     path);
	}
	if (S_ISREG(fst.st_mode) && fst.st_size != st.st_size) {
		close(fd);
		dev_reset(d);
		return famrt_err_set(e, EAGAIN,
				     "%s: resized while being opened; try again",
				     path);
	}
	/* O_NONBLOCK only kept open(2) from waiting; drop it. */
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);

	copy_str(d->path, sizeof(d->path), path);
	d->fd = fd;
	d->writable = writable;
	return 0;
}

int famrt_dev_open_fd(struct famrt_dev *d, int fd, const char *name,
		      bool writable, struct famrt_err *e)
{
	struct stat st;
	int rc, acc;

	dev_reset(d);
	famrt_err_clear(e);
	if (!name)
		name = "(descriptor)";
	if (fd < 0)
		return famrt_err_set(e, EBADF, "%s: invalid descriptor %d", name,
				     fd);
	if (fstat(fd, &st)) {
		rc = famrt_err_set(e, errno, "%s: fstat of descriptor %d: %s",
				   name, fd, strerror(errno));
		close(fd);
		return rc;
	}
	acc = fcntl(fd, F_GETFL);
	if (acc >= 0) {
		acc &= O_ACCMODE;
		if (acc == O_WRONLY || (writable && acc != O_RDWR)) {
			close(fd);
			return famrt_err_set(e, EBADF,
					     "%s: descriptor %d is open %s, but "
					     "%s access is wanted",
					     name, fd,
					     acc == O_WRONLY ? "write-only"
							     : "read-only",
					     writable ? "read-write"
						      : "read");
		}
	}
	if (S_ISCHR(st.st_mode)) {
		char sysdir[64];

		char_sysdir(sysdir, sizeof(sysdir), st.st_rdev);
		rc = famrt_dax_sysfs_probe(sysdir, name, d, e);
	} else if (S_ISREG(st.st_mode)) {
		rc = probe_file(&st, fd, name, d, e);
	} else {
		rc = refuse_kind(&st, name, e);
	}
	if (rc) {
		close(fd);
		dev_reset(d);
		return rc;
	}
	copy_str(d->path, sizeof(d->path), name);
	d->fd = fd;
	d->writable = writable;
	return 0;
}

/* The driver bound to an open devdax device now, for messages; "" if none. */
static void current_driver(const struct famrt_dev *d, char *buf, size_t len)
{
	char sysdir[64];
	struct stat st;

	buf[0] = '\0';
	if (fstat(d->fd, &st) || !S_ISCHR(st.st_mode))
		return;
	char_sysdir(sysdir, sizeof(sysdir), st.st_rdev);
	if (sysfs_link_name(sysdir, "driver", buf, len))
		buf[0] = '\0';
}

static int explain_mmap(const struct famrt_dev *d, int err,
			struct famrt_err *e)
{
	char driver[64];

	if (d->kind == FAMRT_DEV_FILE)
		return famrt_err_set(e, err,
				     "%s: mmap of %" PRIu64 " bytes (MAP_SHARED, "
				     "%s) failed: %s%s",
				     d->path, d->size,
				     d->writable ? "read-write" : "read-only",
				     strerror(err),
				     err == ENOMEM ? " (address space or "
						     "vm.max_map_count exhausted?)"
						   : "");
	current_driver(d, driver, sizeof(driver));
	switch (err) {
	case EINVAL:
	case ENODEV:
	case EOPNOTSUPP:
	case EPERM:
		if (driver[0] && strcmp(driver, "device_dax"))
			return famrt_err_set(e, err,
					     "%s (%s): mmap failed (%s): the "
					     "device is now bound to driver "
					     "'%s'%s; famrt needs plain devdax "
					     "mode: daxctl reconfigure-device "
					     "--mode=devdax %s",
					     d->path, d->devname, strerror(err),
					     driver, driver_hint(driver),
					     d->devname);
		return famrt_err_set(e, err,
				     "%s (%s): mmap of %" PRIu64 " bytes at "
				     "alignment %" PRIu64 " failed (%s): the "
				     "kernel refuses a length or address not "
				     "aligned to the device's alignment, or a "
				     "device not in devdax mode (driver '%s'); "
				     "check 'daxctl list -u' and use daxctl "
				     "reconfigure-device --mode=devdax %s",
				     d->path, d->devname, d->size, d->align,
				     strerror(err), driver[0] ? driver : "none",
				     d->devname);
	case ENXIO:
		return famrt_err_set(e, err,
				     "%s (%s): mmap failed (%s): no memory "
				     "behind the range; the device was "
				     "disabled, resized or reconfigured since "
				     "it was opened (driver '%s')",
				     d->path, d->devname, strerror(err),
				     driver[0] ? driver : "none");
	case ENOMEM:
		return famrt_err_set(e, err,
				     "%s (%s): mmap of %" PRIu64 " bytes failed "
				     "(%s): address space or vm.max_map_count "
				     "exhausted",
				     d->path, d->devname, d->size,
				     strerror(err));
	default:
		return famrt_err_set(e, err, "%s (%s): mmap failed: %s",
				     d->path, d->devname, strerror(err));
	}
}

int famrt_dev_map(struct famrt_dev *d, struct famrt_err *e)
{
	uintptr_t res_addr, aligned;
	size_t len, res_len, head, tail;
	void *res, *p;
	int prot, err;

	famrt_err_clear(e);
	if (d->base)
		return 0;
	if (d->kind == FAMRT_DEV_NONE || d->fd < 0)
		return famrt_err_set(e, EBADF, "%s: device is not open",
				     d->path[0] ? d->path : "(device)");
	if (!is_pow2(d->align) || d->align < MIN_ALIGN)
		return famrt_err_set(e, EINVAL,
				     "%s: alignment %" PRIu64 " is not a power "
				     "of two of at least 4096",
				     d->path, d->align);
	if (d->size == 0 || d->size % d->align)
		return famrt_err_set(e, EINVAL,
				     "%s: size %" PRIu64 " is not a non-zero "
				     "multiple of the alignment %" PRIu64,
				     d->path, d->size, d->align);
	if (d->size > SIZE_MAX - d->align || d->size > (uint64_t)PTRDIFF_MAX)
		return famrt_err_set(e, ENOMEM,
				     "%s: size %" PRIu64 " does not fit in the "
				     "address space",
				     d->path, d->size);
	len = (size_t)d->size;
	res_len = len + (size_t)d->align;

	/*
	 * Reserve room for an aligned placement, put the device there with
	 * MAP_FIXED, then give back the slack on both sides.
	 */
	res = mmap(NULL, res_len, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return famrt_err_set(e, errno,
				     "%s: cannot reserve %zu bytes of address "
				     "space: %s",
				     d->path, res_len, strerror(errno));
	res_addr = (uintptr_t)res;
	aligned = (res_addr + (uintptr_t)d->align - 1) &
		  ~((uintptr_t)d->align - 1);
	prot = PROT_READ | (d->writable ? PROT_WRITE : 0);
	p = mmap((void *)aligned, len, prot, MAP_SHARED | MAP_FIXED, d->fd, 0);
	if (p == MAP_FAILED) {
		err = errno;
		munmap(res, res_len);
		return explain_mmap(d, err, e);
	}
	head = aligned - res_addr;
	tail = res_len - head - len;
	if (head)
		munmap(res, head);
	if (tail)
		munmap((void *)(aligned + len), tail);
	d->base = p;
	d->map_len = len;
	return 0;
}

void famrt_dev_close(struct famrt_dev *d)
{
	if (!d)
		return;
	if (d->base && d->map_len)
		munmap(d->base, d->map_len);
	d->base = NULL;
	d->map_len = 0;
	if (d->kind != FAMRT_DEV_NONE && d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	d->kind = FAMRT_DEV_NONE;
}

int famrt_dev_check_range(const struct famrt_dev *d, uint64_t off,
			  uint64_t len, struct famrt_err *e)
{
	const char *name = d->path[0] ? d->path : "(device)";

	if (off + len < off)
		return famrt_err_set(e, EOVERFLOW,
				     "%s: range offset %" PRIu64 " length %" PRIu64
				     " overflows",
				     name, off, len);
	if (off + len > d->size)
		return famrt_err_set(e, ERANGE,
				     "%s: range [%" PRIu64 ", %" PRIu64 ") is "
				     "past the end of the device (%" PRIu64
				     " bytes)",
				     name, off, off + len, d->size);
	if (!d->align || off % d->align || len % d->align)
		return famrt_err_set(e, EINVAL,
				     "%s: range offset %" PRIu64 " length %" PRIu64
				     " is not aligned to %" PRIu64,
				     name, off, len, d->align);
	return 0;
}

int famrt_dev_create_file(const char *path, uint64_t size, mode_t mode,
			  struct famrt_err *e)
{
	struct stat st;
	int fd, err;

	famrt_err_clear(e);
	if (!path || !*path)
		return famrt_err_set(e, EINVAL, "device file path is empty");
	if (size == 0 || size % FAMRT_FILE_DEV_ALIGN)
		return famrt_err_set(e, EINVAL,
				     "%s: size %" PRIu64 " must be a non-zero "
				     "multiple of 4096",
				     path, size);
	if (size > (uint64_t)INT64_MAX)
		return famrt_err_set(e, EFBIG, "%s: size %" PRIu64 " too large",
				     path, size);
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return famrt_err_set(e, EEXIST,
				     "%s: exists and is %s, not a regular file; "
				     "refusing to use it as a device file",
				     path, file_type_name(st.st_mode));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		  mode);
	if (fd < 0)
		return famrt_err_set(e, errno, "%s: cannot create: %s", path,
				     strerror(errno));
	if (fstat(fd, &st)) {
		err = errno;
		close(fd);
		return famrt_err_set(e, err, "%s: fstat: %s", path,
				     strerror(err));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return famrt_err_set(e, EEXIST,
				     "%s: became %s while being created; "
				     "refusing to use it",
				     path, file_type_name(st.st_mode));
	}
	if (ftruncate(fd, (off_t)size)) {
		err = errno;
		close(fd);
		return famrt_err_set(e, err,
				     "%s: cannot set size to %" PRIu64 ": %s",
				     path, size, strerror(err));
	}
	if (close(fd))
		return famrt_err_set(e, errno, "%s: close: %s", path,
				     strerror(errno));
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vm_devdax: what a real device-dax device refuses, and that famrt's own
 * device layer (runtime/dax) refuses the same pieces before the kernel is
 * asked, with a clear message. Run inside the VM tests' guest on a fresh
 * /dev/dax0.0 (it writes to the first 2 MiB of the device).
 *
 *   vm_devdax DEVICE [--expect-flush clwb|clflushopt|clflush]
 *
 * The kernel's answers expected here are those of devdax-facts.md (Debian
 * 6.1 guest kernel, 2 MiB alignment); size and alignment are read from
 * sysfs by this program itself and compared with what famrt finds. Each
 * check prints one line "ok: ..." or "FAIL: ..."; exit 0 when all passed,
 * 1 otherwise, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dax/dax.h"

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

#define KIB UINT64_C(1024)
#define MIB (UINT64_C(1024) * 1024)

static int failures;

__attribute__((format(printf, 2, 3))) static void check(bool ok,
							const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
}

static const char *errname(int e)
{
	switch (e) {
	case 0:
		return "success";
	case EINVAL:
		return "EINVAL";
	case ENXIO:
		return "ENXIO";
	case ENODEV:
		return "ENODEV";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case ERANGE:
		return "ERANGE";
	case EACCES:
		return "EACCES";
	case EFAULT:
		return "EFAULT";
	default:
		return strerror(e);
	}
}

static uint64_t sysfs_u64(const char *dev, const char *attr)
{
	char path[PATH_MAX], buf[64];
	FILE *f;
	unsigned long long v;

	snprintf(path, sizeof(path), "/sys/bus/dax/devices/%s/%s", dev, attr);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f) ||
	    sscanf(buf, "%lli", &v) != 1) {
		printf("FAIL: cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	return v;
}

/* A raw mmap of the device: the errno (0 on success; then unmapped). */
static int try_mmap(int fd, size_t len, off_t off, int flags, int prot)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		return errno;
	munmap(p, len);
	return 0;
}

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

/* The flush instruction famrt should pick, from /proc/cpuinfo. */
static const char *cpuinfo_flush(void)
{
	static char line[8192];
	bool clwb = false, opt = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return "?";
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5)) {
			clwb = strstr(line, " clwb") != NULL;
			opt = strstr(line, " clflushopt") != NULL;
			break;
		}
	fclose(f);
	return clwb ? "clwb" : opt ? "clflushopt" : "clflush";
}

static void raw_checks(const char *path, uint64_t size)
{
	char buf[4096];
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC), e;
	ssize_t n;
	volatile uint8_t *p;
	struct sigaction sa = { .sa_handler = on_sigbus }, old;

	if (fd < 0) {
		check(false, "open %s: %s", path, strerror(errno));
		return;
	}
	check(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode),
	      "%s is a character device", path);
	check(st.st_size == 0, "fstat st_size is %lld (expected 0: the size "
	      "comes from sysfs)", (long long)st.st_size);
	check(lseek(fd, 0, SEEK_END) == 0, "lseek(SEEK_END) gives 0");

	errno = 0;
	n = pread(fd, buf, sizeof(buf), 0);
	e = errno;
	check(n == -1 && e == EINVAL, "raw pread: %zd %s (expected -1 EINVAL: "
	      "devdax has no read)", n, errname(n < 0 ? e : 0));
	errno = 0;
	n = read(fd, buf, sizeof(buf));
	e = errno;
	check(n == -1 && e == EINVAL, "raw read: %zd %s (expected -1 EINVAL)",
	      n, errname(n < 0 ? e : 0));
	memset(buf, 0, sizeof(buf));
	errno = 0;
	n = pwrite(fd, buf, sizeof(buf), 0);
	e = errno;
	check(n == -1 && e == EINVAL, "raw pwrite: %zd %s (expected -1 EINVAL)",
	      n, errname(n < 0 ? e : 0));
	errno = 0;
	e = fsync(fd) ? errno : 0;
	check(e == EINVAL, "raw fsync: %s (expected EINVAL)", errname(e));

	e = try_mmap(fd, 2 * MIB, 0, MAP_SHARED, PROT_READ | PROT_WRITE);
	check(e == 0, "raw mmap offset 0 length 2 MiB MAP_SHARED: %s",
	      errname(e));
	e = try_mmap(fd, 2 * MIB, 4 * KIB, MAP_SHARED, PROT_READ);
	check(e == EINVAL, "raw mmap offset 4 KiB: %s (expected EINVAL)",
	      errname(e));
	e = try_mmap(fd, 2 * MIB, 1 * MIB, MAP_SHARED, PROT_READ);
	check(e == EINVAL, "raw mmap offset 1 MiB: %s (expected EINVAL)",
	      errname(e));
	e = try_mmap(fd, 4 * KIB, 0, MAP_SHARED, PROT_READ);
	check(e == EINVAL, "raw mmap length 4 KiB: %s (expected EINVAL)",
	      errname(e));
	e = try_mmap(fd, 3 * MIB, 0, MAP_SHARED, PROT_READ);
	check(e == EINVAL, "raw mmap length 3 MiB: %s (expected EINVAL)",
	      errname(e));
	e = try_mmap(fd, 3 * MIB, 4 * KIB, MAP_SHARED, PROT_READ);
	check(e == EINVAL, "raw mmap offset 4 KiB length 3 MiB: %s (expected "
	      "EINVAL)", errname(e));
	e = try_mmap(fd, 2 * MIB, 0, MAP_PRIVATE, PROT_READ | PROT_WRITE);
	check(e == EINVAL, "raw mmap MAP_PRIVATE read-write: %s (expected "
	      "EINVAL)", errname(e));
	e = try_mmap(fd, 2 * MIB, 0, MAP_PRIVATE, PROT_READ);
	check(e == EINVAL, "raw mmap MAP_PRIVATE read-only: %s (expected "
	      "EINVAL)", errname(e));
	e = try_mmap(fd, 2 * MIB, 0, MAP_SHARED_VALIDATE | MAP_SYNC,
		     PROT_READ | PROT_WRITE);
	check(e == 0, "raw mmap MAP_SHARED_VALIDATE|MAP_SYNC: %s (expected "
	      "success)", errname(e));

	/* Durability is cache flushing: msync(MS_SYNC) is refused. */
	p = mmap(NULL, 2 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		check(false, "raw mmap for msync: %s", errname(errno));
	} else {
		errno = 0;
		e = msync((void *)p, 2 * MIB, MS_SYNC) ? errno : 0;
		check(e == EINVAL, "raw msync(MS_SYNC): %s (expected EINVAL)",
		      errname(e));
		e = msync((void *)p, 2 * MIB, MS_ASYNC) ? errno : 0;
		check(e == 0, "raw msync(MS_ASYNC): %s (expected success)",
		      errname(e));
		munmap((void *)p, 2 * MIB);
	}

	/* Past the end: the kernel maps it; the first touch is SIGBUS. */
	p = mmap(NULL, 2 * MIB, PROT_READ, MAP_SHARED, fd, (off_t)size);
	if (p == MAP_FAILED) {
		printf("note: raw mmap at offset = device size refused: %s\n",
		       errname(errno));
	} else {
		bool bus = false;

		sigaction(SIGBUS, &sa, &old);
		if (sigsetjmp(bus_jmp, 1) == 0)
			(void)p[0];
		else
			bus = true;
		sigaction(SIGBUS, &old, NULL);
		munmap((void *)p, 2 * MIB);
		printf("note: raw mmap at offset = device size succeeds; first "
		       "touch: %s\n", bus ? "SIGBUS" : "no fault");
	}
	close(fd);
}

/* A device offset that is not aligned, through MAP_FIXED (devdax-facts). */
static void fixed_note(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint8_t *res, *base, *p, *q;

	if (fd < 0)
		return;
	res = mmap(NULL, 6 * MIB, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED) {
		close(fd);
		return;
	}
	base = (uint8_t *)(((uintptr_t)res + 2 * MIB - 1) & ~(2 * MIB - 1));
	p = mmap(base, 2 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0);
	if (p != MAP_FAILED) {
		p[0] = 0xa0;
		p[4096] = 0xb4;
		q = mmap(base + 2 * MIB, 2 * MIB, PROT_READ,
			 MAP_SHARED | MAP_FIXED, fd, 4096);
		if (q == MAP_FAILED)
			printf("note: MAP_FIXED at a 2 MiB-aligned address with "
			       "device offset 4 KiB: refused (%s)\n",
			       errname(errno));
		else
			printf("note: MAP_FIXED at a 2 MiB-aligned address with "
			       "device offset 4 KiB: accepted; its first byte "
			       "is 0x%02x (0xa0 is device offset 0, 0xb4 offset "
			       "4 KiB)\n",
			       q[0]);
	}
	munmap(res, 6 * MIB);
	close(fd);
}

static void famrt_checks(const char *path, const char *devname,
			 uint64_t size, uint64_t align)
{
	struct famrt_dev d, d2;
	struct famrt_err e;
	int rc;

	rc = famrt_dev_open(&d, path, O_RDWR, &e);
	check(rc == 0, "famrt_dev_open %s: %s", path, rc ? e.msg : "opened");
	if (rc)
		return;
	check(d.kind == FAMRT_DEV_DEVDAX, "famrt sees a devdax device (kind %d)",
	      d.kind);
	check(!strcmp(d.devname, devname), "famrt devname '%s' (sysfs: %s)",
	      d.devname, devname);
	check(d.size == size, "famrt size %" PRIu64 " (sysfs: %" PRIu64 ")",
	      d.size, size);
	check(d.align == align, "famrt alignment %" PRIu64 " (sysfs: %" PRIu64
	      ")", d.align, align);

	rc = famrt_dev_check_range(&d, 4 * KIB, 3 * MIB, &e);
	check(rc == -EINVAL && strstr(e.msg, "not aligned"),
	      "famrt refuses device range offset 4 KiB length 3 MiB: %d %s",
	      rc, rc ? e.msg : "(accepted)");
	rc = famrt_dev_check_range(&d, 0, 3 * MIB, &e);
	check(rc == -EINVAL, "famrt refuses device range length 3 MiB: %d %s",
	      rc, rc ? e.msg : "(accepted)");
	rc = famrt_dev_check_range(&d, 1 * MIB, 2 * MIB, &e);
	check(rc == -EINVAL, "famrt refuses device range offset 1 MiB: %d %s",
	      rc, rc ? e.msg : "(accepted)");
	rc = famrt_dev_check_range(&d, size, align, &e);
	check(rc == -ERANGE, "famrt refuses a range at the device's end: %d %s",
	      rc, rc ? e.msg : "(accepted)");
	rc = famrt_dev_check_range(&d, size - align, align, &e);
	check(rc == 0, "famrt accepts the last aligned piece: %d %s", rc,
	      rc ? e.msg : "");
	rc = famrt_dev_check_range(&d, align, 2 * align, &e);
	check(rc == 0, "famrt accepts an aligned piece: %d %s", rc,
	      rc ? e.msg : "");

	/* A wrong alignment must fail in famrt_dev_map with a clear word. */
	d.align = 4 * KIB;
	rc = famrt_dev_map(&d, &e);
	if (rc == 0) {
		check(((uintptr_t)d.base % align) == 0,
		      "famrt_dev_map with a 4 KiB alignment still worked, at "
		      "%p", d.base);
		munmap(d.base, d.map_len);
		d.base = NULL;
		d.map_len = 0;
	} else {
		printf("note: famrt_dev_map told a 4 KiB alignment: %s\n",
		       e.msg);
	}
	d.align = align;

	rc = famrt_dev_map(&d, &e);
	check(rc == 0, "famrt_dev_map: %s", rc ? e.msg : "mapped");
	if (rc) {
		famrt_dev_close(&d);
		return;
	}
	check((uintptr_t)d.base % align == 0 && d.map_len == size,
	      "device mapped whole (%zu bytes) at %p, aligned to %" PRIu64,
	      d.map_len, d.base, align);
	{
		volatile uint8_t *b = d.base;
		uint8_t last = b[size - 1];

		(void)last;
		check(true, "first and last byte of the mapping readable");
	}
	/* Written through one mapping, flushed, read through another. */
	rc = famrt_dev_open(&d2, path, O_RDONLY, &e);
	if (!rc)
		rc = famrt_dev_map(&d2, &e);
	check(rc == 0, "second (read-only) famrt mapping: %s",
	      rc ? e.msg : "mapped");
	if (!rc) {
		static const char msg[] = "famrt vm_devdax marker";
		uint8_t *w = d.base + align - sizeof(msg);

		memcpy(w, msg, sizeof(msg));
		famrt_flush_range(w, sizeof(msg));
		famrt_invalidate_range(d2.base + align - sizeof(msg),
				       sizeof(msg));
		check(!memcmp(d2.base + align - sizeof(msg), msg, sizeof(msg)),
		      "bytes written and flushed (%s) through one mapping are "
		      "read through another",
		      famrt_flush_method());
		memset(w, 0, sizeof(msg));
		famrt_flush_range(w, sizeof(msg));
	}
	famrt_dev_close(&d2);
	famrt_dev_close(&d);
}

int main(int argc, char **argv)
{
	const char *path, *devname, *expect = NULL;
	uint64_t size, align;

	if (argc == 4 && !strcmp(argv[2], "--expect-flush"))
		expect = argv[3];
	else if (argc != 2)
		goto usage;
	path = argv[1];
	devname = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (strncmp(devname, "dax", 3))
		goto usage;

	size = sysfs_u64(devname, "size");
	align = sysfs_u64(devname, "align");
	printf("%s: size %" PRIu64 " (%" PRIu64 " MiB), alignment %" PRIu64
	       " (sysfs)\n", path, size, size / MIB, align);
	check(align == 2 * MIB, "sysfs alignment is 2 MiB (the namespace was "
	      "made with -a 2M)");

	raw_checks(path, size);
	fixed_note(path);
	famrt_checks(path, devname, size, align);

	printf("flush: famrt uses %s to flush and %s to invalidate; "
	       "/proc/cpuinfo says the best is %s\n",
	       famrt_flush_method(), famrt_invalidate_method(),
	       cpuinfo_flush());
	check(!strcmp(famrt_flush_method(), cpuinfo_flush()),
	      "famrt's flush instruction (%s) is the best the CPU has (%s)",
	      famrt_flush_method(), cpuinfo_flush());
	if (expect)
		check(!strcmp(famrt_flush_method(), expect),
		      "flush instruction %s on this CPU model (expected %s)",
		      famrt_flush_method(), expect);
	printf("vm_devdax: %d failure%s\n", failures, failures == 1 ? "" : "s");
	return failures ? 1 : 0;
usage:
	fprintf(stderr, "usage: vm_devdax /dev/daxX.Y [--expect-flush "
			"clwb|clflushopt|clflush]\n");
	return 2;
}

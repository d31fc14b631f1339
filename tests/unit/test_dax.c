/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/dax: opening and mapping emulated devices, the refusals and their
 * messages, range checks, device-dax detection from a fake sysfs tree, cache
 * flush/invalidate with every instruction, libdaxctl listing, hwloc.
 *
 * Expected values come from independent sources: the test's own pread of
 * the backing file, /proc/cpuinfo, /proc/self/maps, sysfs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dax/dax.h"
#include "dax/dax_internal.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)

static char tmpdir[PATH_MAX];

/* ---------------------------------------------------------------- helpers */

/* snprintf that fails the test instead of truncating. */
__attribute__((format(printf, 3, 4))) static void
xpath(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < len);
}

static void tpath(char *buf, size_t len, const char *name)
{
	xpath(buf, len, "%s/%s", tmpdir, name);
}

static int rm_cb(const char *p, const struct stat *sb, int flag,
		 struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int group_setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/dev/shm/famrt-test-dax-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	/* Traversable by the unprivileged user of the permission test. */
	return chmod(tmpdir, 0755);
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_file(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

/* The test's own view of the backing file, independent of the mapping. */
static void pread_all(const char *path, void *buf, size_t len, off_t off)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = pread(fd, buf, len, off);
	close(fd);
	assert_int_equal(n, (ssize_t)len);
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void assert_msg_has(const struct famrt_err *e, const char *what)
{
	if (!strstr(e->msg, what))
		fail_msg("message \"%s\" lacks \"%s\"", e->msg, what);
}

/* Permissions of the mapping that contains addr, from /proc/self/maps. */
static void maps_perms(const void *addr, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	unsigned long lo, hi;
	uintptr_t a = (uintptr_t)addr;

	assert_non_null(f);
	perms[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 &&
		    a >= lo && a < hi)
			break;
		perms[0] = '\0';
	}
	fclose(f);
	assert_int_equal(strlen(perms), 4);
}

/* ------------------------------------------------------- open and map */

static void test_open_map_file(void **state)
{
	const uint64_t size = 2 * MiB;
	struct famrt_dev d, r;
	struct famrt_err e;
	char path[PATH_MAX];
	uint8_t *pat, *back;
	int status;
	pid_t pid;

	(void)state;
	tpath(path, sizeof(path), "dev-basic");
	assert_int_equal(famrt_dev_create_file(path, size, 0600, &e), 0);
	assert_int_equal(famrt_dev_open(&d, path, O_RDWR, &e), 0);
	assert_int_equal(d.kind, FAMRT_DEV_FILE);
	assert_int_equal(d.size, size);
	assert_int_equal(d.align, 4096);
	assert_true(d.writable);
	assert_true(d.fd >= 0);
	assert_string_equal(d.path, path);
	assert_string_equal(d.devname, "dev-basic");
	assert_int_equal(d.numa_node, -1);
	assert_null(d.base);
	assert_int_equal(famrt_dev_map(&d, &e), 0);
	assert_non_null(d.base);
	assert_int_equal((uintptr_t)d.base % 4096, 0);
	assert_int_equal(d.map_len, size);
	/* Mapping again is a no-op. */
	{
		void *b = d.base;
		assert_int_equal(famrt_dev_map(&d, &e), 0);
		assert_ptr_equal(d.base, b);
	}

	pat = malloc(size);
	back = malloc(size);
	assert_non_null(pat);
	assert_non_null(back);
	fill(pat, size, 1);
	memcpy(d.base, pat, size);

	/* A second, read-only mapping in this process sees the bytes. */
	assert_int_equal(famrt_dev_open(&r, path, O_RDONLY, &e), 0);
	assert_false(r.writable);
	assert_int_equal(famrt_dev_map(&r, &e), 0);
	assert_ptr_not_equal(r.base, d.base);
	assert_memory_equal(r.base, pat, size);
	/* So does the file itself, read by the test. */
	pread_all(path, back, size, 0);
	assert_memory_equal(back, pat, size);

	/* Another process writes through its own mapping... */
	fill(pat + 12345, 70000, 2);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct famrt_dev c;
		uint8_t *mine = malloc(size);

		if (!mine || famrt_dev_open(&c, path, O_RDWR, NULL) ||
		    famrt_dev_map(&c, NULL))
			_exit(2);
		/* ...after checking it sees what the parent wrote. */
		if (memcmp(c.base, d.base, size))
			_exit(3);
		fill(mine, size, 1);
		fill(mine + 12345, 70000, 2);
		memcpy((uint8_t *)c.base + 12345, mine + 12345, 70000);
		famrt_flush_range((uint8_t *)c.base + 12345, 70000);
		famrt_dev_close(&c);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* ...and both of this process's mappings see it. */
	assert_memory_equal(d.base, pat, size);
	assert_memory_equal(r.base, pat, size);
	pread_all(path, back, size, 0);
	assert_memory_equal(back, pat, size);

	famrt_dev_close(&r);
	famrt_dev_close(&d);
	assert_int_equal(d.fd, -1);
	assert_null(d.base);
	assert_int_equal(d.map_len, 0);
	assert_int_equal(d.kind, FAMRT_DEV_NONE);
	free(pat);
	free(back);
}

static void test_raised_alignment(void **state)
{
	struct famrt_dev d;
	struct famrt_err e;
	char path[PATH_MAX];

	(void)state;
	tpath(path, sizeof(path), "dev-align");
	make_file(path, 6 * MiB);
	assert_int_equal(famrt_dev_open(&d, path, O_RDWR, &e), 0);
	assert_int_equal(d.align, 4096);

	/* Not a power of two, or not dividing the size: refused. */
	d.align = 3 * MiB;
	assert_int_equal(famrt_dev_map(&d, &e), -EINVAL);
	assert_msg_has(&e, path);
	d.align = 4 * MiB;
	assert_int_equal(famrt_dev_map(&d, &e), -EINVAL);
	assert_msg_has(&e, path);
	assert_null(d.base);

	d.align = 2 * MiB;
	assert_int_equal(famrt_dev_map(&d, &e), 0);
	assert_int_equal((uintptr_t)d.base % (2 * MiB), 0);
	assert_int_equal(d.map_len, 6 * MiB);
	/* The whole range is usable; nothing of the reservation remains
	 * right before or after (it was unmapped, not left PROT_NONE). */
	memset(d.base, 0xa5, d.map_len);
	assert_int_equal(famrt_dev_check_range(&d, 2 * MiB, 4 * MiB, &e), 0);
	assert_int_equal(famrt_dev_check_range(&d, 4096, 4 * MiB, &e),
			 -EINVAL);
	{
		unsigned char v;
		/* mincore on an unmapped page fails with ENOMEM. */
		assert_int_equal(mincore((uint8_t *)d.base - 4096, 4096, &v),
				 -1);
		assert_int_equal(errno, ENOMEM);
		assert_int_equal(mincore((uint8_t *)d.base + d.map_len, 4096,
					 &v),
				 -1);
		assert_int_equal(errno, ENOMEM);
	}
	famrt_dev_close(&d);

	/*
	 * The kernel places large anonymous mappings at 2 MiB boundaries by
	 * itself, so only a larger alignment shows that famrt aligns. Several
	 * mappings kept at once make an accidental pass unlikely.
	 */
	{
		struct famrt_dev m[4];
		unsigned char v;
		uint8_t b;

		tpath(path, sizeof(path), "dev-align32");
		make_file(path, 32 * MiB);
		for (int i = 0; i < 4; i++) {
			assert_int_equal(famrt_dev_open(&m[i], path, O_RDWR, &e),
					 0);
			m[i].align = 32 * MiB;
			assert_int_equal(famrt_dev_map(&m[i], &e), 0);
			assert_int_equal((uintptr_t)m[i].base % (32 * MiB), 0);
			assert_int_equal(mincore((uint8_t *)m[i].base - 4096,
						 4096, &v),
					 -1);
			assert_int_equal(mincore((uint8_t *)m[i].base +
							 m[i].map_len,
						 4096, &v),
					 -1);
			((uint8_t *)m[i].base)[32 * MiB - 1] = (uint8_t)(i + 1);
		}
		pread_all(path, &b, 1, 32 * MiB - 1);
		assert_int_equal(b, 4);
		for (int i = 0; i < 4; i++)
			famrt_dev_close(&m[i]);
	}
}

/*
 * A file on hugetlbfs stands in for a device with the file system's page
 * size as its alignment (every mapping of such a file is a multiple of
 * it). Needs root, to mount a private hugetlbfs: skipped otherwise, with
 * the reason. No huge page is needed: nothing is mapped.
 */
static void test_hugetlbfs_alignment(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct famrt_dev d;
	struct famrt_err e;
	int fd;

	(void)state;
	tpath(dir, sizeof(dir), "hugetlbfs");
	assert_int_equal(mkdir(dir, 0700), 0);
	if (mount("famrt-test", dir, "hugetlbfs", 0, "pagesize=2M")) {
		print_message("hugetlbfs: cannot mount one (%s): skipped\n",
			      strerror(errno));
		rmdir(dir);
		skip();
	}
	xpath(path, sizeof(path), "%s/dev", dir);
	make_file(path, 4 * MiB);
	assert_int_equal(famrt_dev_open(&d, path, O_RDWR, &e), 0);
	assert_int_equal(d.align, 2 * MiB);
	assert_int_equal(d.size, 4 * MiB);
	famrt_dev_close(&d);
	/* The same through a descriptor (as received from famrtd). */
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(famrt_dev_open_fd(&d, fd, "dev", true, &e), 0);
	assert_int_equal(d.align, 2 * MiB);
	famrt_dev_close(&d);
	/* hugetlbfs itself refuses sizes that are not a multiple of its page;
	 * an empty file is refused with the size it needs. */
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(famrt_dev_open(&d, path, O_RDWR, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "multiple of 2097152"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(umount(dir), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_close_idempotent(void **state)
{
	struct famrt_dev d;
	struct famrt_err e;
	char path[PATH_MAX];
	int fd0_open;

	(void)state;
	/* A zeroed struct has fd 0: closing it must not close stdin. */
	fd0_open = fcntl(0, F_GETFD) != -1;
	if (!fd0_open)
		assert_int_equal(open("/dev/null", O_RDONLY), 0);
	memset(&d, 0, sizeof(d));
	famrt_dev_close(&d);
	famrt_dev_close(&d);
	assert_true(fcntl(0, F_GETFD) != -1);
	famrt_dev_close(NULL);

	tpath(path, sizeof(path), "dev-close");
	make_file(path, 64 * KiB);
	assert_int_equal(famrt_dev_open(&d, path, O_RDWR, &e), 0);
	assert_int_equal(famrt_dev_map(&d, &e), 0);
	famrt_dev_close(&d);
	famrt_dev_close(&d);
	assert_int_equal(d.fd, -1);
	assert_null(d.base);
	/* Mapping a closed device is refused. */
	assert_int_equal(famrt_dev_map(&d, &e), -EBADF);
	if (!fd0_open)
		close(0);
}

static void test_open_fd(void **state)
{
	struct famrt_dev d;
	struct famrt_err e;
	char path[PATH_MAX];
	uint8_t buf[4096], back[4096];
	int fd;

	(void)state;
	tpath(path, sizeof(path), "dev-fd");
	make_file(path, 64 * KiB);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(famrt_dev_open_fd(&d, fd, "passed-fd", true, &e), 0);
	assert_int_equal(d.fd, fd);
	assert_int_equal(d.size, 64 * KiB);
	assert_int_equal(famrt_dev_map(&d, &e), 0);
	fill(buf, sizeof(buf), 7);
	memcpy((uint8_t *)d.base + 8192, buf, sizeof(buf));
	famrt_dev_close(&d);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	pread_all(path, back, sizeof(back), 8192);
	assert_memory_equal(back, buf, sizeof(buf));

	/* Read-only descriptor, read-write wanted: refused, fd closed. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(famrt_dev_open_fd(&d, fd, "ro-fd", true, &e), -EBADF);
	assert_msg_has(&e, "ro-fd");
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);

	/* Not a device: refused, fd closed. */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(famrt_dev_open_fd(&d, fd, "null-fd", true, &e),
			 -ENODEV);
	assert_msg_has(&e, "null-fd");
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	famrt_dev_close(&d);
}

/* ------------------------------------------------------------ refusals */

static void expect_refusal(const char *path, int oflags, int err)
{
	struct famrt_dev d;
	struct famrt_err e;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = famrt_dev_open(&d, path, oflags, &e);
	if (rc != -err)
		fail_msg("%s: got %d (%s), want %d; msg: %s", path, rc,
			 strerror(-rc), -err, e.msg);
	assert_int_equal(e.code, err);
	assert_msg_has(&e, path);
	assert_int_equal(d.fd, -1);
	assert_int_equal(d.kind, FAMRT_DEV_NONE);
	famrt_dev_close(&d);
}

static void test_refusals(void **state)
{
	char missing[PATH_MAX], dir[PATH_MAX], fifo[PATH_MAX], empty[PATH_MAX];
	char odd[PATH_MAX], sock[PATH_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct famrt_dev d;
	struct famrt_err e;
	int before, s;

	(void)state;
	tpath(missing, sizeof(missing), "no-such-device");
	tpath(dir, sizeof(dir), "a-directory");
	tpath(fifo, sizeof(fifo), "a-fifo");
	tpath(empty, sizeof(empty), "empty-file");
	tpath(odd, sizeof(odd), "odd-size");
	tpath(sock, sizeof(sock), "a-socket");
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	make_file(empty, 0);
	make_file(odd, 4096 + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_true(strlen(sock) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, sock);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);

	before = count_fds();
	expect_refusal(missing, O_RDWR, ENOENT);
	expect_refusal(dir, O_RDONLY, ENODEV);
	expect_refusal(dir, O_RDWR, ENODEV);
	expect_refusal("/dev/null", O_RDWR, ENODEV);
	expect_refusal(fifo, O_RDONLY, ENODEV); /* would block if opened */
	expect_refusal(fifo, O_RDWR, ENODEV);
	expect_refusal(sock, O_RDWR, ENODEV);
	expect_refusal(empty, O_RDWR, EINVAL);
	expect_refusal(odd, O_RDWR, EINVAL);
	/* Flags other than the access mode. */
	expect_refusal(odd, O_WRONLY, EINVAL);
	expect_refusal(odd, O_RDWR | O_CREAT, EINVAL);
	assert_int_equal(count_fds(), before);

	/* The messages say what famrt wants. */
	assert_int_equal(famrt_dev_open(&d, "/dev/null", O_RDONLY, &e),
			 -ENODEV);
	assert_msg_has(&e, "'mem' subsystem");
	assert_msg_has(&e, "device-dax");
	assert_int_equal(famrt_dev_open(&d, fifo, O_RDONLY, &e), -ENODEV);
	assert_msg_has(&e, "FIFO");
	assert_msg_has(&e, "regular file");
	assert_int_equal(famrt_dev_open(&d, empty, O_RDONLY, &e), -EINVAL);
	assert_msg_has(&e, "empty");
	assert_int_equal(famrt_dev_open(&d, odd, O_RDONLY, &e), -EINVAL);
	assert_msg_has(&e, "4097");
	close(s);
}

/* As an unprivileged user, open a file it may not open. */
static int open_denied(const char *path, int oflags)
{
	struct famrt_dev d;
	struct famrt_err e;
	int rc;

	rc = famrt_dev_open(&d, path, oflags, &e);
	if (rc != -EACCES)
		return 10;
	if (!strstr(e.msg, path) || !strstr(e.msg, "uid"))
		return 11;
	if (d.fd != -1)
		return 12;
	return 0;
}

static void test_permission_denied(void **state)
{
	char none[PATH_MAX], ro[PATH_MAX];
	int status, rc;
	pid_t pid;

	(void)state;
	tpath(none, sizeof(none), "mode-000");
	tpath(ro, sizeof(ro), "mode-444");
	make_file(none, 64 * KiB);
	make_file(ro, 64 * KiB);
	assert_int_equal(chmod(none, 0), 0);
	assert_int_equal(chmod(ro, 0444), 0);

	if (geteuid() != 0) {
		/* Already unprivileged: no need to change user. */
		assert_int_equal(open_denied(none, O_RDONLY), 0);
		assert_int_equal(open_denied(ro, O_RDWR), 0);
		return;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(20);
		rc = open_denied(none, O_RDONLY);
		if (!rc)
			rc = open_denied(ro, O_RDWR);
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_readonly_map(void **state)
{
	struct famrt_dev d;
	struct famrt_err e;
	char path[PATH_MAX], perms[5];
	int status;
	pid_t pid;

	(void)state;
	tpath(path, sizeof(path), "dev-ro");
	make_file(path, 1 * MiB);
	assert_int_equal(famrt_dev_open(&d, path, O_RDONLY, &e), 0);
	assert_int_equal(famrt_dev_map(&d, &e), 0);
	maps_perms(d.base, perms);
	assert_string_equal(perms, "r--s");
	assert_int_equal(((volatile uint8_t *)d.base)[4096], 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		((volatile uint8_t *)d.base)[4096] = 1;
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
	famrt_dev_close(&d);

	/* Read-write gives a writable shared mapping. */
	assert_int_equal(famrt_dev_open(&d, path, O_RDWR, &e), 0);
	assert_int_equal(famrt_dev_map(&d, &e), 0);
	maps_perms(d.base, perms);
	assert_string_equal(perms, "rw-s");
	famrt_dev_close(&d);
}

/* --------------------------------------------------------- check_range */

static void test_check_range(void **state)
{
	const uint64_t size = 2 * MiB;
	struct famrt_dev d;
	struct famrt_err e;
	char path[PATH_MAX];

	(void)state;
	tpath(path, sizeof(path), "dev-range");
	make_file(path, size);
	assert_int_equal(famrt_dev_open(&d, path, O_RDONLY, &e), 0);

	assert_int_equal(famrt_dev_check_range(&d, 0, size, &e), 0);
	assert_int_equal(famrt_dev_check_range(&d, size - 4096, 4096, &e), 0);
	assert_int_equal(famrt_dev_check_range(&d, 0, 0, &e), 0);
	assert_int_equal(famrt_dev_check_range(&d, size, 0, &e), 0);
	assert_int_equal(famrt_dev_check_range(&d, 4096, size - 4096, &e), 0);

	assert_int_equal(famrt_dev_check_range(&d, size, 4096, &e), -ERANGE);
	assert_msg_has(&e, path);
	assert_int_equal(famrt_dev_check_range(&d, size - 4096, 8192, &e),
			 -ERANGE);
	assert_int_equal(famrt_dev_check_range(&d, 0, size + 4096, &e),
			 -ERANGE);
	assert_int_equal(famrt_dev_check_range(&d, size + 4096, 0, &e),
			 -ERANGE);
	assert_int_equal(famrt_dev_check_range(&d, 0, size + 1, &e), -ERANGE);

	assert_int_equal(famrt_dev_check_range(&d, UINT64_MAX - 4095, 8192,
					       &e),
			 -EOVERFLOW);
	assert_msg_has(&e, path);
	assert_int_equal(famrt_dev_check_range(&d, 4096, UINT64_MAX, &e),
			 -EOVERFLOW);
	assert_int_equal(famrt_dev_check_range(&d, UINT64_MAX, 1, &e),
			 -EOVERFLOW);
	/* Huge but not wrapping: past the end. */
	assert_int_equal(famrt_dev_check_range(&d, 0, UINT64_MAX, &e),
			 -ERANGE);

	assert_int_equal(famrt_dev_check_range(&d, 1, 4096, &e), -EINVAL);
	assert_msg_has(&e, path);
	assert_int_equal(famrt_dev_check_range(&d, 0, 100, &e), -EINVAL);
	assert_int_equal(famrt_dev_check_range(&d, 2048, 2048, &e), -EINVAL);
	assert_int_equal(famrt_dev_check_range(&d, size - 1, 1, &e), -EINVAL);

	/* With a raised alignment, 4 KiB steps no longer suffice. */
	d.align = 1 * MiB;
	assert_int_equal(famrt_dev_check_range(&d, 1 * MiB, 1 * MiB, &e), 0);
	assert_int_equal(famrt_dev_check_range(&d, 4096, 1 * MiB, &e),
			 -EINVAL);
	assert_int_equal(famrt_dev_check_range(&d, 0, 4096, &e), -EINVAL);
	famrt_dev_close(&d);
}

/* --------------------------------------------------------- create_file */

static void test_create_file(void **state)
{
	char path[PATH_MAX], link[PATH_MAX], dir[PATH_MAX], fifo[PATH_MAX];
	char target[PATH_MAX], dlink[PATH_MAX];
	uint8_t buf[8192], zero[8192], pat[4096];
	struct famrt_err e;
	struct stat st;
	mode_t old;
	int fd;

	(void)state;
	tpath(path, sizeof(path), "created");
	tpath(link, sizeof(link), "link-to-null");
	tpath(dir, sizeof(dir), "create-dir");
	tpath(fifo, sizeof(fifo), "create-fifo");
	tpath(target, sizeof(target), "link-target");
	tpath(dlink, sizeof(dlink), "link-to-target");

	assert_int_equal(famrt_dev_create_file(path, 0, 0600, &e), -EINVAL);
	assert_msg_has(&e, path);
	assert_int_equal(famrt_dev_create_file(path, 4097, 0600, &e), -EINVAL);
	assert_int_equal(famrt_dev_create_file(path, 2048, 0600, &e), -EINVAL);
	assert_int_equal(stat(path, &st), -1); /* nothing created */
	assert_int_equal(famrt_dev_create_file(path, UINT64_MAX - 4095, 0600,
					       &e),
			 -EFBIG);

	old = umask(022);
	assert_int_equal(famrt_dev_create_file(path, 8192, 0640, &e), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 8192);
	assert_int_equal(st.st_mode & 07777, 0640);
	memset(zero, 0, sizeof(zero));
	pread_all(path, buf, 8192, 0);
	assert_memory_equal(buf, zero, 8192);

	/* Grow: existing bytes kept, new bytes zero. */
	fill(pat, sizeof(pat), 9);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, pat, sizeof(pat), 4096), sizeof(pat));
	close(fd);
	assert_int_equal(famrt_dev_create_file(path, 3 * 4096, 0600, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3 * 4096);
	assert_int_equal(st.st_mode & 07777, 0640); /* mode unchanged */
	pread_all(path, buf, 4096, 4096);
	assert_memory_equal(buf, pat, 4096);
	pread_all(path, buf, 4096, 8192);
	assert_memory_equal(buf, zero, 4096);
	/* Shrink. */
	assert_int_equal(famrt_dev_create_file(path, 4096, 0600, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4096);

	/* Symlink to a character device: refused, /dev/null untouched. */
	assert_int_equal(symlink("/dev/null", link), 0);
	assert_int_equal(famrt_dev_create_file(link, 8192, 0600, &e), -EEXIST);
	assert_msg_has(&e, link);
	assert_msg_has(&e, "character device");
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	/* A directory, a FIFO (must not block): refused. */
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(famrt_dev_create_file(dir, 8192, 0600, &e), -EEXIST);
	assert_msg_has(&e, "directory");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(famrt_dev_create_file(fifo, 8192, 0600, &e), -EEXIST);
	assert_msg_has(&e, "FIFO");
	/* A symlink to a regular file: followed, the target resized. */
	make_file(target, 4096);
	assert_int_equal(symlink(target, dlink), 0);
	assert_int_equal(famrt_dev_create_file(dlink, 16384, 0600, &e), 0);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 16384);
	assert_int_equal(lstat(dlink, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

/* ------------------------------------------------- fake sysfs (devdax) */

struct fake {
	char root[PATH_MAX];
	char dev[PATH_MAX]; /* root/devices/region0/dax0.0 */
};

static void fmk(const struct fake *f, const char *rel)
{
	char p[PATH_MAX];

	xpath(p, sizeof(p), "%s/%s", f->root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void fput(const char *dir, const char *name, const char *val)
{
	char p[PATH_MAX];
	FILE *fp;

	xpath(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "we");
	assert_non_null(fp);
	fputs(val, fp);
	fclose(fp);
}

static void flink(const char *dir, const char *name, const char *target)
{
	char p[PATH_MAX];

	xpath(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
	if (target)
		assert_int_equal(symlink(target, p), 0);
}

/*
 * A fresh fake sysfs: root/{bus,class,drivers}/... and one
 * device root/devices/region0/dax0.0 in devdax mode, 503 x 2 MiB.
 */
static void fake_make(struct fake *f, const char *name)
{
	tpath(f->root, sizeof(f->root), name);
	assert_int_equal(mkdir(f->root, 0755), 0);
	fmk(f, "bus");
	fmk(f, "bus/dax");
	fmk(f, "class");
	fmk(f, "class/dax");
	fmk(f, "class/mem");
	fmk(f, "drivers");
	fmk(f, "drivers/device_dax");
	fmk(f, "drivers/fsdev_dax");
	fmk(f, "drivers/kmem");
	fmk(f, "devices");
	fmk(f, "devices/region0");
	fmk(f, "devices/region0/dax_region");
	fmk(f, "devices/region0/dax0.0");
	xpath(f->dev, sizeof(f->dev), "%s/devices/region0/dax0.0", f->root);
	flink(f->dev, "subsystem", "../../../bus/dax");
	flink(f->dev, "driver", "../../../drivers/device_dax");
	fput(f->dev, "size", "1054867456\n");
	fput(f->dev, "align", "2097152\n");
	fput(f->dev, "numa_node", "0\n");
	fput(f->dev, "target_node", "1\n");
}

static void test_sysfs_probe(void **state)
{
	struct famrt_dev d;
	struct famrt_err e;
	struct fake f;
	char region[PATH_MAX], missing[PATH_MAX];
	int rc;

	(void)state;
	fake_make(&f, "sysfs");

	memset(&d, 0, sizeof(d));
	rc = famrt_dax_sysfs_probe(f.dev, "/dev/dax0.0", &d, &e);
	if (rc)
		fail_msg("probe: %d %s", rc, e.msg);
	assert_int_equal(d.kind, FAMRT_DEV_DEVDAX);
	assert_string_equal(d.devname, "dax0.0");
	assert_int_equal(d.size, 1054867456ull);
	assert_int_equal(d.align, 2 * MiB);
	assert_int_equal(d.numa_node, 0);
	assert_int_equal(d.target_node, 1);

	/* famfs mode: refused, naming the driver and the fix. */
	flink(f.dev, "driver", "../../../drivers/fsdev_dax");
	assert_int_equal(famrt_dax_sysfs_probe(f.dev, "/dev/dax0.0", &d, &e),
			 -EBUSY);
	assert_msg_has(&e, "/dev/dax0.0");
	assert_msg_has(&e, "'fsdev_dax'");
	assert_msg_has(&e, "famfs");
	assert_msg_has(&e, "daxctl reconfigure-device --mode=devdax dax0.0");
	/* system-ram mode. */
	flink(f.dev, "driver", "../../../drivers/kmem");
	assert_int_equal(famrt_dax_sysfs_probe(f.dev, "/dev/dax0.0", &d, &e),
			 -EBUSY);
	assert_msg_has(&e, "'kmem'");
	assert_msg_has(&e, "system-ram");
	/* No driver on the dax bus: disabled. */
	flink(f.dev, "driver", NULL);
	assert_int_equal(famrt_dax_sysfs_probe(f.dev, "/dev/dax0.0", &d, &e),
			 -ENXIO);
	assert_msg_has(&e, "/dev/dax0.0");
	assert_msg_has(&e, "--mode=devdax dax0.0");
	/* The old dax class has no driver link: fine. */
	flink(f.dev, "subsystem", "../../../class/dax");
	assert_int_equal(famrt_dax_sysfs_probe(f.dev, "/dev/dax0.0", &d, &e),
			 0);
	assert_int_equal(d.kind, FAMRT_DEV_DEVDAX);
	/* Another subsystem: not dax. */
	flink(f.dev, "subsystem", "../../../class/mem");
	assert_int_equal(famrt_dax_sysfs_probe(f.dev, "/dev/mem0", &d, &e),
			 -ENODEV);
	assert_msg_has(&e, "/dev/mem0");
	assert_msg_has(&e, "'mem'");
	flink(f.dev, "subsystem", NULL);
	assert_int_equal(famrt_dax_sysfs_probe(f.dev, "/dev/x", &d, &e),
			 -ENODEV);
	/* sysfs does not know the device. */
	xpath(missing, sizeof(missing), "%s/devices/nothing", f.root);
	assert_int_equal(famrt_dax_sysfs_probe(missing, "/dev/x", &d, &e),
			 -ENODEV);
	assert_msg_has(&e, "/dev/x");

	/* Sizes and alignments. */
	flink(f.dev, "subsystem", "../../../bus/dax");
	flink(f.dev, "driver", "../../../drivers/device_dax");
	fput(f.dev, "size", "0\n");
	assert_int_equal(famrt_dax_sysfs_probe(f.dev, "/dev/dax0.0", &d, &e),
			 -EINVAL);
	assert_msg_has(&e, "size 0");
	fput(f.dev, "size", "3145728\n"); /* 3 MiB, align 2 MiB */
	assert_int_equal(famrt_dax_sysfs_probe(f.dev, "/dev/dax0.0", &d, &e),
			 -EINVAL);
	assert_msg_has(&e, "3145728");
	fput(f.dev, "size", "4194304\n");
	fput(f.dev, "align", "3000\n");
	assert_int_equal(famrt_dax_sysfs_probe(f.dev, "/dev/dax0.0", &d, &e),
			 -EINVAL);
	fput(f.dev, "align", "1024\n");
	assert_int_equal(famrt_dax_sysfs_probe(f.dev, "/dev/dax0.0", &d, &e),
			 -EINVAL);
	fput(f.dev, "size", "garbage\n");
	fput(f.dev, "align", "2097152\n");
	assert_int_equal(famrt_dax_sysfs_probe(f.dev, "/dev/dax0.0", &d, &e),
			 -EIO);
	/* Before Linux 5.10: no per-device align, the region's is used. */
	fput(f.dev, "size", "4194304\n");
	flink(f.dev, "align", NULL);
	xpath(region, sizeof(region), "%s/devices/region0/dax_region",
		 f.root);
	fput(region, "align", "1073741824\n");
	assert_int_equal(famrt_dax_sysfs_probe(f.dev, "/dev/dax0.0", &d, &e),
			 -EINVAL); /* 4 MiB is not a multiple of 1 GiB */
	fput(region, "align", "4096\n");
	assert_int_equal(famrt_dax_sysfs_probe(f.dev, "/dev/dax0.0", &d, &e),
			 0);
	assert_int_equal(d.align, 4096);
	/* Unknown NUMA nodes. */
	flink(f.dev, "numa_node", NULL);
	fput(f.dev, "target_node", "-1\n");
	assert_int_equal(famrt_dax_sysfs_probe(f.dev, "/dev/dax0.0", &d, &e),
			 0);
	assert_int_equal(d.numa_node, -1);
	assert_int_equal(d.target_node, -1);
}

/* --------------------------------------------------------- flush */

/* Does /proc/cpuinfo list this flag? (The test's own oracle.) */
static bool cpu_has(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[8192], *tok, *save;
	bool found = false;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		tok = strchr(line, ':');
		if (!tok)
			continue;
		for (tok = strtok_r(tok + 1, " \n", &save); tok;
		     tok = strtok_r(NULL, " \n", &save))
			if (!strcmp(tok, flag))
				found = true;
		break;
	}
	fclose(f);
	return found;
}

static const char *best_flush(void)
{
	return cpu_has("clwb")	       ? "clwb"
	       : cpu_has("clflushopt") ? "clflushopt"
				       : "clflush";
}

static const char *best_inval(void)
{
	return cpu_has("clflushopt") ? "clflushopt" : "clflush";
}

static void test_flush_choose(void **state)
{
	const unsigned all = FAMRT_CPU_CLFLUSH | FAMRT_CPU_CLFLUSHOPT |
			     FAMRT_CPU_CLWB;
	const unsigned opt = FAMRT_CPU_CLFLUSH | FAMRT_CPU_CLFLUSHOPT;
	const struct {
		unsigned cpu;
		const char *env;
		enum famrt_flush_insn flush, inval;
	} c[] = {
		{ all, NULL, FAMRT_FLUSH_CLWB, FAMRT_FLUSH_CLFLUSHOPT },
		{ all, "", FAMRT_FLUSH_CLWB, FAMRT_FLUSH_CLFLUSHOPT },
		{ all, "clwb", FAMRT_FLUSH_CLWB, FAMRT_FLUSH_CLFLUSHOPT },
		{ all, "clflushopt", FAMRT_FLUSH_CLFLUSHOPT,
		  FAMRT_FLUSH_CLFLUSHOPT },
		{ all, "clflush", FAMRT_FLUSH_CLFLUSH, FAMRT_FLUSH_CLFLUSH },
		{ all, "bogus", FAMRT_FLUSH_CLWB, FAMRT_FLUSH_CLFLUSHOPT },
		{ all, "CLWB", FAMRT_FLUSH_CLWB, FAMRT_FLUSH_CLFLUSHOPT },
		{ opt, NULL, FAMRT_FLUSH_CLFLUSHOPT, FAMRT_FLUSH_CLFLUSHOPT },
		{ opt, "clwb", FAMRT_FLUSH_CLFLUSHOPT, FAMRT_FLUSH_CLFLUSHOPT },
		{ opt, "clflush", FAMRT_FLUSH_CLFLUSH, FAMRT_FLUSH_CLFLUSH },
		{ FAMRT_CPU_CLFLUSH, NULL, FAMRT_FLUSH_CLFLUSH,
		  FAMRT_FLUSH_CLFLUSH },
		{ FAMRT_CPU_CLFLUSH, "clwb", FAMRT_FLUSH_CLFLUSH,
		  FAMRT_FLUSH_CLFLUSH },
		{ FAMRT_CPU_CLFLUSH, "clflushopt", FAMRT_FLUSH_CLFLUSH,
		  FAMRT_FLUSH_CLFLUSH },
		{ 0, NULL, FAMRT_FLUSH_NONE, FAMRT_FLUSH_NONE },
		{ 0, "clflush", FAMRT_FLUSH_NONE, FAMRT_FLUSH_NONE },
	};
	enum famrt_flush_insn f, i;
	unsigned line, cpu;

	(void)state;
	for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		famrt_flush_choose(c[k].cpu, c[k].env, &f, &i);
		if (f != c[k].flush || i != c[k].inval)
			fail_msg("case %zu (cpu %x env %s): got %d/%d want "
				 "%d/%d",
				 k, c[k].cpu, c[k].env ? c[k].env : "NULL", f,
				 i, c[k].flush, c[k].inval);
	}

	/* CPUID agrees with /proc/cpuinfo. */
	cpu = famrt_cpu_features(&line);
	assert_int_equal(!!(cpu & FAMRT_CPU_CLFLUSH), cpu_has("clflush"));
	assert_int_equal(!!(cpu & FAMRT_CPU_CLFLUSHOPT), cpu_has("clflushopt"));
	assert_int_equal(!!(cpu & FAMRT_CPU_CLWB), cpu_has("clwb"));
	{
		FILE *fp = fopen("/proc/cpuinfo", "re");
		char l[512];
		unsigned want = 0;

		assert_non_null(fp);
		while (fgets(l, sizeof(l), fp))
			if (sscanf(l, "clflush size : %u", &want) == 1)
				break;
		fclose(fp);
		if (want)
			assert_int_equal(line, want);
	}
}

/* Flush and invalidate ranges of odd sizes and offsets; data must hold. */
static void flush_ranges(uint8_t *base, size_t size, const uint8_t *want)
{
	static const struct {
		size_t off, len;
	} r[] = {
		{ 0, 0 },	  { 1, 0 },	      { 0, 1 },
		{ 63, 1 },	  { 63, 2 },	      { 64, 64 },
		{ 65, 127 },	  { 4095, 2 },	      { 4095, 4098 },
		{ 5, 100000 },	  { 12345, 67891 },   { 0, 1u << 20 },
		{ 1, (1u << 20) - 1 },
	};

	for (size_t k = 0; k < sizeof(r) / sizeof(r[0]); k++) {
		assert_true(r[k].off + r[k].len <= size);
		famrt_flush_range(base + r[k].off, r[k].len);
		assert_memory_equal(base, want, size);
		famrt_invalidate_range(base + r[k].off, r[k].len);
		assert_memory_equal(base, want, size);
	}
}

static void test_flush_variants(void **state)
{
	static const char *const variants[] = { "clwb", "clflushopt",
						"clflush", "bogus", NULL };
	const size_t size = 1 * MiB;
	struct famrt_dev d;
	struct famrt_err e;
	char path[PATH_MAX];
	uint8_t *want, *back, *heap;
	const char *saved = getenv("FAMRT_FLUSH");
	char *saved_copy = saved ? strdup(saved) : NULL;

	(void)state;
	tpath(path, sizeof(path), "dev-flush");
	make_file(path, size);
	assert_int_equal(famrt_dev_open(&d, path, O_RDWR, &e), 0);
	assert_int_equal(famrt_dev_map(&d, &e), 0);
	want = malloc(size);
	back = malloc(size);
	heap = malloc(size + 64);
	assert_non_null(want);
	assert_non_null(back);
	assert_non_null(heap);

	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		const char *name = variants[v];
		const char *expect_f, *expect_i;

		if (name)
			assert_int_equal(setenv("FAMRT_FLUSH", name, 1), 0);
		else
			assert_int_equal(unsetenv("FAMRT_FLUSH"), 0);
		famrt_flush_reset();

		if (name && !strcmp(name, "clflush")) {
			expect_f = expect_i = "clflush";
		} else if (name && !strcmp(name, "clflushopt") &&
			   cpu_has("clflushopt")) {
			expect_f = expect_i = "clflushopt";
		} else if (name && !strcmp(name, "clwb") && cpu_has("clwb")) {
			expect_f = "clwb";
			expect_i = best_inval();
		} else {
			expect_f = best_flush();
			expect_i = best_inval();
		}
		assert_string_equal(famrt_flush_method(), expect_f);
		assert_string_equal(famrt_invalidate_method(), expect_i);

		fill(want, size, (uint32_t)v + 100);
		memcpy(d.base, want, size);
		flush_ranges(d.base, size, want);
		pread_all(path, back, size, 0);
		assert_memory_equal(back, want, size);
		/* Plain memory, at an odd address. */
		memcpy(heap + 3, want, size);
		flush_ranges(heap + 3, size, want);

		/* Changing the variable later has no effect until reset. */
		assert_int_equal(setenv("FAMRT_FLUSH", "clflush", 1), 0);
		assert_string_equal(famrt_flush_method(), expect_f);
	}

	if (saved_copy)
		setenv("FAMRT_FLUSH", saved_copy, 1);
	else
		unsetenv("FAMRT_FLUSH");
	famrt_flush_reset();
	free(saved_copy);
	free(want);
	free(back);
	free(heap);
	famrt_dev_close(&d);
}

static void *method_thread(void *arg)
{
	(void)arg;
	return (void *)famrt_flush_method();
}

static void test_flush_threads(void **state)
{
	pthread_t t[8];
	void *res[8];

	(void)state;
	famrt_flush_reset();
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, method_thread,
						NULL),
				 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_join(t[i], &res[i]), 0);
	for (int i = 0; i < 8; i++)
		assert_string_equal((const char *)res[i], famrt_flush_method());
}

/* ------------------------------------------------------- listing, NUMA */

/* Devices with a non-zero size under /sys/bus/dax/devices. */
static size_t sysfs_dax_count(void)
{
	DIR *d = opendir("/sys/bus/dax/devices");
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char p[PATH_MAX], buf[64] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/bus/dax/devices/%s/size",
			 de->d_name);
		f = fopen(p, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && strtoull(buf, NULL, 0))
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static void test_dax_list(void **state)
{
	struct famrt_daxinfo *v = (void *)1;
	struct famrt_err e;
	size_t n = 99;

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(famrt_dax_list(&v, &n, &e), 0);
	assert_int_equal(e.code, 0);
	assert_int_equal(n, sysfs_dax_count());
	if (n == 0)
		assert_null(v);
	for (size_t i = 0; i < n; i++) {
		assert_true(v[i].size > 0);
		assert_true(strncmp(v[i].devname, "dax", 3) == 0);
		assert_true(v[i].mode[0] != '\0');
	}
	free(v);
}

/* Parse a Linux CPU list ("0-3,8") into a bitmask of the first 64 CPUs. */
static uint64_t cpulist_mask(const char *s)
{
	uint64_t m = 0;
	unsigned lo, hi;
	int used;

	while (*s && *s != '\n') {
		if (sscanf(s, "%u-%u%n", &lo, &hi, &used) == 2) {
			s += used;
		} else if (sscanf(s, "%u%n", &lo, &used) == 1) {
			hi = lo;
			s += used;
		} else {
			fail_msg("bad cpu list at '%s'", s);
		}
		for (unsigned c = lo; c <= hi && c < 64; c++)
			m |= 1ull << c;
		if (*s == ',')
			s++;
	}
	return m;
}

static void test_numa_cpus(void **state)
{
	char buf[256], sys[256] = "";
	FILE *f;
	int rc;

	(void)state;
	rc = famrt_numa_node_cpus(0, buf, sizeof(buf));
	if (rc)
		fail_msg("famrt_numa_node_cpus(0): %s", strerror(-rc));
	assert_true(buf[0] != '\0');
	f = fopen("/sys/devices/system/node/node0/cpulist", "re");
	if (f) {
		uint64_t got = cpulist_mask(buf), all;

		assert_non_null(fgets(sys, sizeof(sys), f));
		fclose(f);
		all = cpulist_mask(sys);
		/* hwloc may hide CPUs this process may not use. */
		assert_true(got != 0);
		assert_int_equal(got & ~all, 0);
	}

	strcpy(buf, "junk");
	assert_int_equal(famrt_numa_node_cpus(-1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	strcpy(buf, "junk");
	assert_int_equal(famrt_numa_node_cpus(4000, buf, sizeof(buf)),
			 -ENOENT);
	assert_string_equal(buf, "");
	assert_int_equal(famrt_numa_node_cpus(0, buf, 1), -ERANGE);
	assert_string_equal(buf, "");
	assert_int_equal(famrt_numa_node_cpus(0, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_map_file),
		cmocka_unit_test(test_raised_alignment),
		cmocka_unit_test(test_hugetlbfs_alignment),
		cmocka_unit_test(test_close_idempotent),
		cmocka_unit_test(test_open_fd),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_permission_denied),
		cmocka_unit_test(test_readonly_map),
		cmocka_unit_test(test_check_range),
		cmocka_unit_test(test_create_file),
		cmocka_unit_test(test_sysfs_probe),
		cmocka_unit_test(test_flush_choose),
		cmocka_unit_test(test_flush_variants),
		cmocka_unit_test(test_flush_threads),
		cmocka_unit_test(test_dax_list),
		cmocka_unit_test(test_numa_cpus),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

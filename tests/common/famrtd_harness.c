/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dax/dax.h"
#include "famrtd_harness.h"
#include "meta/fs.h"

int h_fs_make(struct h_fs *fs, uint32_t ndevs, uint64_t size,
	      const char *master)
{
	const char *paths[H_MAX_DEVS];
	struct famrt_mkfs_opts o = { .name = "testfs", .master = master,
				     .alloc_unit = 2u << 20 };
	struct famrt_err e;
	size_t pos = 0;
	int rc;

	memset(fs, 0, sizeof(*fs));
	if (ndevs < 1 || ndevs > H_MAX_DEVS)
		return -EINVAL;
	snprintf(fs->dir, sizeof(fs->dir), "/tmp/famrt-test.XXXXXX");
	if (!mkdtemp(fs->dir))
		return -errno;
	/* Like /run/famrt: other users must reach the sockets. */
	chmod(fs->dir, 0755);
	fs->ndevs = ndevs;
	for (uint32_t i = 0; i < ndevs; i++) {
		snprintf(fs->dev[i], sizeof(fs->dev[i]),
			 "/dev/shm/famrt-test-%d-%s-%u", (int)getpid(),
			 strrchr(fs->dir, '.') + 1, i);
		rc = famrt_dev_create_file(fs->dev[i], size, 0600, &e);
		if (rc) {
			fprintf(stderr, "h_fs_make: %s\n", e.msg);
			h_fs_remove(fs);
			return rc;
		}
		paths[i] = fs->dev[i];
		pos += (size_t)snprintf(fs->spec + pos, sizeof(fs->spec) - pos,
					"%s%s", i ? "," : "", fs->dev[i]);
	}
	rc = famrt_mkfs(paths, ndevs, &o, fs->uuid, &e);
	if (rc) {
		fprintf(stderr, "h_fs_make: mkfs: %s\n", e.msg);
		h_fs_remove(fs);
	}
	return rc;
}

/* Split a comma-separated device list into fs->dev[]. */
static int split_devices(struct h_fs *fs, const char *devices)
{
	const char *p = devices;

	fs->ndevs = 0;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 0 || n >= sizeof(fs->dev[0]) ||
		    fs->ndevs == H_MAX_DEVS) {
			fprintf(stderr,
				"harness: bad device list '%s': 1 to %d "
				"paths of under %zu bytes, comma-separated\n",
				devices, H_MAX_DEVS, sizeof(fs->dev[0]));
			return -EINVAL;
		}
		memcpy(fs->dev[fs->ndevs], p, n);
		fs->dev[fs->ndevs++][n] = '\0';
		p += n + (p[n] == ',');
	}
	if (!fs->ndevs) {
		fprintf(stderr, "harness: empty device list\n");
		return -EINVAL;
	}
	return 0;
}

int64_t h_devices_min_size(const char *devices, uint32_t *count)
{
	struct h_fs fs;
	int64_t min = INT64_MAX;
	int rc;

	memset(&fs, 0, sizeof(fs));
	rc = split_devices(&fs, devices);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < fs.ndevs; i++) {
		struct famrt_dev d;
		struct famrt_err e;

		rc = famrt_dev_open(&d, fs.dev[i], O_RDONLY, &e);
		if (rc) {
			fprintf(stderr, "harness: %s\n", e.msg);
			return rc;
		}
		if ((int64_t)d.size < min)
			min = (int64_t)d.size;
		famrt_dev_close(&d);
	}
	if (count)
		*count = fs.ndevs;
	return min;
}

int h_fs_make_on(struct h_fs *fs, const char *devices, uint32_t ndevs,
		 uint64_t size, const char *master)
{
	const char *paths[H_MAX_DEVS];
	/* Asked for by name: an existing file system there goes. */
	struct famrt_mkfs_opts o = { .name = "benchfs", .master = master,
				     .alloc_unit = 2u << 20, .force = true };
	struct famrt_err e;
	size_t pos = 0;
	int64_t min;
	int rc;

	if (!devices)
		return h_fs_make(fs, ndevs, size, master);
	memset(fs, 0, sizeof(*fs));
	rc = split_devices(fs, devices);
	if (rc)
		return rc;
	fs->keep_devs = 1;
	min = h_devices_min_size(devices, NULL);
	if (min < 0)
		return (int)min;
	if (size && (uint64_t)min < size) {
		fprintf(stderr,
			"harness: the devices '%s' are too small: %llu MiB "
			"wanted on each, the smallest has %llu MiB\n",
			devices, (unsigned long long)(size >> 20),
			(unsigned long long)((uint64_t)min >> 20));
		return -ENOSPC;
	}
	snprintf(fs->dir, sizeof(fs->dir), "/tmp/famrt-test.XXXXXX");
	if (!mkdtemp(fs->dir))
		return -errno;
	chmod(fs->dir, 0755);
	for (uint32_t i = 0; i < fs->ndevs; i++) {
		paths[i] = fs->dev[i];
		pos += (size_t)snprintf(fs->spec + pos, sizeof(fs->spec) - pos,
					"%s%s", i ? "," : "", fs->dev[i]);
	}
	rc = famrt_mkfs(paths, fs->ndevs, &o, fs->uuid, &e);
	if (rc) {
		fprintf(stderr, "harness: mkfs on %s: %s\n", devices, e.msg);
		h_fs_remove(fs);
	}
	return rc;
}

void h_fs_remove(struct h_fs *fs)
{
	char cmd[128];

	for (uint32_t i = 0; i < fs->ndevs && !fs->keep_devs; i++)
		unlink(fs->dev[i]);
	if (fs->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fs->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "h_fs_remove: could not remove %s\n",
				fs->dir);
	}
	fs->ndevs = 0;
	fs->dir[0] = '\0';
}

/*
 * 0 when the service listening at path is process `pid` (a socket left by
 * an instance just killed may still accept connections for a moment).
 */
static int try_connect(const char *path, pid_t pid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred uc;
	socklen_t len = sizeof(uc);
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	if (!rc && (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) ||
		    uc.pid != pid))
		rc = -EAGAIN;
	close(fd);
	return rc;
}

int h_famrtd_start(struct h_famrtd *d, const struct h_fs *fs,
		   const char *name, const char *host_id,
		   const char *const *extra)
{
	const char *bin_dir = getenv("FAMRT_BIN_DIR");
	const char *argv[32];
	char bin[512];
	int n = 0, status;

	memset(d, 0, sizeof(*d));
	if (!bin_dir) {
		fprintf(stderr, "h_famrtd_start: FAMRT_BIN_DIR is not set\n");
		return -EINVAL;
	}
	snprintf(bin, sizeof(bin), "%s/tools/famrtd/famrtd", bin_dir);
	snprintf(d->socket, sizeof(d->socket), "%s/%s.sock", fs->dir, name);
	snprintf(d->log, sizeof(d->log), "%s/%s.log", fs->dir, name);
	argv[n++] = bin;
	argv[n++] = "--fs";
	argv[n++] = fs->spec;
	argv[n++] = "--socket";
	argv[n++] = d->socket;
	argv[n++] = "--host-id";
	argv[n++] = host_id;
	for (int i = 0; extra && extra[i] && n < 30; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	d->pid = fork();
	if (d->pid < 0)
		return -errno;
	if (d->pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		/* A test that dies must not leave its service running. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);

		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		execv(bin, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		if (!try_connect(d->socket, d->pid))
			return 0;
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			fprintf(stderr, "famrtd %s exited at start:\n", name);
			h_famrtd_dump_log(d);
			d->pid = 0;
			return -ECHILD;
		}
		usleep(10000);
	}
	fprintf(stderr, "famrtd %s did not answer within 10 s\n", name);
	h_famrtd_kill(d);
	return -ETIMEDOUT;
}

int h_famrtd_stop(struct h_famrtd *d)
{
	int status = 0;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			int rc = WIFEXITED(status) ? WEXITSTATUS(status) :
						     128 + WTERMSIG(status);

			d->pid = 0;
			if (rc)
				h_famrtd_dump_log(d);
			return rc;
		}
		usleep(10000);
	}
	fprintf(stderr, "famrtd did not stop within 10 s of SIGTERM\n");
	h_famrtd_kill(d);
	return 128 + SIGKILL;
}

void h_famrtd_kill(struct h_famrtd *d)
{
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGKILL);
	waitpid(d->pid, NULL, 0);
	d->pid = 0;
}

long h_famrtd_rss_kib(const struct h_famrtd *d)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

void h_famrtd_dump_log(const struct h_famrtd *d)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(d->log, "re");

	if (!f)
		return;
	fprintf(stderr, "---- %s ----\n", d->log);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "---- end ----\n");
	fclose(f);
}

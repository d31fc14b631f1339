/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test harness: emulated devices on /dev/shm, a file system on them, and
 * famrtd processes serving it, all cleaned up by the harness.
 */
#ifndef FAMRT_TEST_FAMRTD_HARNESS_H
#define FAMRT_TEST_FAMRTD_HARNESS_H

#include <stdint.h>
#include <sys/types.h>

#define H_MAX_DEVS 4

struct h_fs {
	char dir[64];                 /* private run directory (sockets) */
	char dev[H_MAX_DEVS][96];     /* device files */
	char spec[H_MAX_DEVS * 97];   /* "dev0,dev1" */
	uint32_t ndevs;
	uint8_t uuid[16];
	int keep_devs;                /* given devices: never unlinked */
};

struct h_famrtd {
	pid_t pid;
	char socket[128];
	char log[128];                /* its stderr */
};

/*
 * Make ndevs emulated devices of size bytes each and a file system on them
 * whose master host is `master`. Returns 0 or -errno (message on stderr).
 */
int h_fs_make(struct h_fs *fs, uint32_t ndevs, uint64_t size,
	      const char *master);
/*
 * For benchmarks: like h_fs_make, except that when `devices` is not NULL
 * (a comma-separated list of 1 to H_MAX_DEVS paths, e.g.
 * "/dev/dax0.0,/dev/dax1.0": real device-dax or existing files) the file
 * system is made on those devices, whose contents are destroyed, and
 * h_fs_remove leaves them in place. ndevs is then ignored, and a device
 * smaller than `size` (when not 0) is refused with -ENOSPC.
 */
int h_fs_make_on(struct h_fs *fs, const char *devices, uint32_t ndevs,
		 uint64_t size, const char *master);
/*
 * The size in bytes of the smallest device in a comma-separated list, or
 * -errno (message on stderr); *count (if not NULL) gets how many there are.
 */
int64_t h_devices_min_size(const char *devices, uint32_t *count);
/* Remove the devices (unless given) and the run directory. */
void h_fs_remove(struct h_fs *fs);

/*
 * Start $FAMRT_BIN_DIR/tools/famrtd/famrtd on fs as host `host_id`, with
 * extra arguments (NULL-terminated, may be NULL), and wait until it
 * answers on its socket (up to 10 s). `name` tells instances apart.
 */
int h_famrtd_start(struct h_famrtd *d, const struct h_fs *fs,
		   const char *name, const char *host_id,
		   const char *const *extra);
/* SIGTERM and wait; returns the exit status (or 128 + signal). */
int h_famrtd_stop(struct h_famrtd *d);
/* SIGKILL and reap. */
void h_famrtd_kill(struct h_famrtd *d);
/* Resident memory of the service in KiB (from /proc), or -1. */
long h_famrtd_rss_kib(const struct h_famrtd *d);
/* Print the service's log to stderr (for failures). */
void h_famrtd_dump_log(const struct h_famrtd *d);

#endif

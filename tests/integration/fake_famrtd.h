/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A stand-in for famrtd, for testing libfamrt against a service that lies:
 * a child process listening on a SOCK_SEQPACKET socket that speaks the
 * protocol with the runtime/proto encoders, sends the descriptors of
 * emulated device files, and serves the files (attributes and fmap bytes,
 * valid or not) it is given. A hook may replace any reply (wrong ids,
 * oversized or truncated messages, extra or missing descriptors, silence,
 * a closed connection). Connections are served one after the other.
 */
#ifndef FAMRT_TEST_FAKE_FAMRTD_H
#define FAMRT_TEST_FAKE_FAMRTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <famrt/fmap.h>

#include "proto/proto.h"

#define FAKE_MAX_DEVS 4
#define FAKE_MAX_FILES 8
#define FAKE_MAX_FDS 64
#define FAKE_OUT_MAX (2 * FAMRT_PROTO_MSG_MAX)

struct fake_file {
	char path[64];
	struct famrt_proto_attr attr;
	uint8_t fmap[FAMRT_PROTO_MSG_MAX];
	size_t fmap_len;
};

struct fake_cfg;

/*
 * Called for every request before the default handling. Return 0 for the
 * default reply; FAKE_SEND to send out[0..*len) with fds[0..*nfds);
 * FAKE_SILENT to send nothing; FAKE_CLOSE to close the connection.
 */
#define FAKE_DEFAULT 0
#define FAKE_SEND 1
#define FAKE_SILENT 2
#define FAKE_CLOSE 3
typedef int (*fake_hook)(const struct fake_cfg *cfg,
			 const struct famrt_proto_req *q, const int *devfd,
			 uint8_t *out, size_t *len, int *fds, int *nfds);

struct fake_cfg {
	uint32_t ndevs;
	char dev[FAKE_MAX_DEVS][128];  /* device files, sent in index order */
	uint32_t access[FAKE_MAX_DEVS]; /* FAMRT_DEV_ACCESS_* in the table */
	bool open_ro[FAKE_MAX_DEVS];   /* open (and send) read-only anyway */
	uint64_t size[FAKE_MAX_DEVS];  /* size in the table; 0: the file's */
	uint64_t align[FAKE_MAX_DEVS]; /* alignment in the table; 0: 4096 */
	uint32_t hello_flags;
	uid_t uid;                     /* listen as this user (0: as we are) */
	uint32_t nfiles;
	struct fake_file files[FAKE_MAX_FILES];
	fake_hook hook;
	int scenario;                  /* for the hook */
};

struct fake {
	pid_t pid;
	char dir[64];
	char socket[128];
};

/* Start the service; 0 or -errno (printed). */
int fake_start(struct fake *f, const struct fake_cfg *cfg);
/* Kill it and remove its socket. */
void fake_stop(struct fake *f);

/*
 * Add a file to cfg: path, regular file of mode 0644, size from the map
 * (or size_override when not UINT64_MAX), map bytes msg[0..len).
 */
struct fake_file *fake_add_file(struct fake_cfg *cfg, const char *path,
				const void *msg, size_t len,
				uint64_t size_override);
/* Same, encoding desc (which need not be valid). */
struct fake_file *fake_add_desc(struct fake_cfg *cfg, const char *path,
				const struct famrt_fmap_desc *desc,
				uint64_t size_override);

/*
 * The reply the fake gives by default (into out, FAKE_OUT_MAX bytes; its
 * length, 0 if none), for hooks that alter it.
 */
size_t fake_default_reply(const struct fake_cfg *cfg,
			  const struct famrt_proto_req *q, const int *devfd,
			  uint8_t *out, int *fds, int *nfds);

/* Build a whole reply message: header (op/id/flags/status) + body. */
size_t fake_msg(uint8_t *out, size_t cap, uint16_t op, uint64_t id,
		uint32_t flags, int32_t status, const void *body, size_t blen);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* famrtd internals shared by its files and its tests. */
#ifndef FAMRTD_H
#define FAMRTD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "meta/fs.h"
#include "proto/proto.h"

#define FAMRTD_MAX_GROUPS 64

/* Who a client is (SO_PEERCRED and SO_PEERGROUPS at connect). */
struct famrtd_cred {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	uint32_t ngroups;
	gid_t groups[FAMRTD_MAX_GROUPS];
};

struct famrtd_config {
	const char *fs_spec;      /* DEV0[,DEV1...] */
	const char *socket_path;  /* NULL: famrt_client_socket_path() */
	const char *host_id;      /* NULL: famrt_host_id() */
	gid_t rw_group;           /* members get read-write descriptors */
	gid_t ro_group;           /* members get read-only descriptors */
	bool have_rw_group, have_ro_group;
	uint32_t poll_us;         /* follow the log this often */
	uint32_t max_clients;
	bool verbose;
};

/* A file being created by writing, owned by one client connection. */
struct famrtd_grow {
	uint64_t handle;
	struct famrtd_session *owner;
	uint32_t mode;
	uid_t uid;
	gid_t gid;
	struct famrt_reservation r;
	struct famrtd_grow *next;  /* in the service's list of all of them */
	char path[FAMRT_PATH_MAX + 1];
};

#define FAMRTD_MAX_GROWS_PER_CLIENT 64u

/* Per-connection state. */
struct famrtd_session {
	uint32_t ngrows;
};

struct famrtd {
	struct famrtd_config cfg;
	struct famrt_fs *fs;
	char **paths;
	uint32_t npaths;
	int ro_fd[FAMRT_MAX_DEVS]; /* read-only descriptors to hand out */
	uid_t self_uid;
	/* Counters, for the log and tests. */
	uint64_t requests, errors, bad_messages, followed;
	uint64_t last_follow_log_ns;
	uint64_t pending_followed;
	/* Files being created by writing, over all clients. */
	struct famrtd_grow *grows;
	uint64_t next_handle;
};

/* Logging: one line to stderr with time and pid. */
__attribute__((format(printf, 1, 2))) void famrtd_log(const char *fmt, ...);

/* Open the file system and the read-only descriptors. */
int famrtd_open(struct famrtd *d, const struct famrtd_config *cfg,
		struct famrt_err *e);
void famrtd_close(struct famrtd *d);

/* Follow the log; logs what was applied (rate-limited). */
int famrtd_follow(struct famrtd *d);

/*
 * Handle one request message req[0..len) from a client with credentials
 * cred. Writes the reply into out (cap >= FAMRT_PROTO_MSG_MAX) and returns
 * its length; *nfds descriptors to pass with it go to fds. *close_after is
 * set when the message was too broken to keep talking (the reply still
 * goes out first). Never fails: every problem becomes an error reply.
 */
size_t famrtd_handle(struct famrtd *d, const struct famrtd_cred *cred,
		     const uint8_t *req, size_t len, uint8_t *out, size_t cap,
		     int *fds, int *nfds, bool *close_after);
/*
 * The same for a connection with state (files being created by writing:
 * BEGIN/ALLOC/COMMIT/ABORT need one; famrtd_handle refuses them).
 */
size_t famrtd_handle_session(struct famrtd *d, struct famrtd_session *s,
			     const struct famrtd_cred *cred, const uint8_t *req,
			     size_t len, uint8_t *out, size_t cap, int *fds,
			     int *nfds, bool *close_after);
/* The connection is gone: drop its unfinished files and their space. */
void famrtd_session_end(struct famrtd *d, struct famrtd_session *s);

/* The event loop: serve until SIGTERM/SIGINT. Returns the exit status. */
int famrtd_serve(struct famrtd *d, int listen_fd);

/*
 * Bind the listening socket at path, refusing (EADDRINUSE) if a live famrtd
 * holds the lock on path + ".lock"; the lock is kept until the process ends.
 */
int famrtd_listen(const char *path, struct famrt_err *e);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Synchronous famrtd client: see client.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "meta/format.h"
#include "proto/client.h"
#include "util/bytes.h"

struct famrt_client {
	int fd;
	uint64_t spin_ns; /* look for a reply this long before sleeping */
	pthread_mutex_t lock;
	uint64_t next_id;
	uint32_t abandoned; /* requests we stopped waiting for (timeouts) */
	struct famrt_proto_hello_rep hello;
	struct famrt_proto_devices_rep devs;
	int dev_fd[32];
	uint64_t dev_size[32];
	uint64_t dev_align[32];
	uint8_t *rbuf; /* reply buffer, FAMRT_PROTO_MSG_MAX + 1 bytes */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

int famrt_client_socket_path(const uint8_t *fs_uuid, char *buf, size_t len)
{
	const char *dir = getenv("FAMRT_RUN_DIR");
	char u[37];
	int n;

	if (!dir || !*dir)
		dir = "/run/famrt";
	famrt_uuid_format(fs_uuid, u);
	n = snprintf(buf, len, "%s/%s.sock", dir, u);
	if (n < 0 || (size_t)n >= len ||
	    (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int famrt_client_socket_alias(const char *dev0, const char *dir, char *buf,
			      size_t len)
{
	struct stat st;
	int n;

	if (stat(dev0, &st))
		return -errno;
	if (!dir) {
		dir = getenv("FAMRT_RUN_DIR");
		if (!dir || !*dir)
			dir = "/run/famrt";
	}
	if (S_ISCHR(st.st_mode))
		n = snprintf(buf, len, "%s/dev-%u-%u.sock", dir,
			     major(st.st_rdev), minor(st.st_rdev));
	else
		n = snprintf(buf, len, "%s/file-%llx-%llx.sock", dir,
			     (unsigned long long)st.st_dev,
			     (unsigned long long)st.st_ino);
	if (n < 0 || (size_t)n >= len ||
	    (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

static int trusted_uid(uid_t uid)
{
	const char *s = getenv("FAMRT_SERVICE_UID");
	char *end;
	unsigned long v;

	if (uid == 0 || uid == geteuid())
		return 1;
	if (s && *s) {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (!errno && !*end && v == uid)
			return 1;
	}
	return 0;
}

/*
 * One request, one reply. On success *body and *blen point into c->rbuf (valid
 * until the next call). fds/nfds receive SCM_RIGHTS descriptors if any.
 */
static int transact(struct famrt_client *c, const uint8_t *req, size_t len,
		    uint16_t op, uint64_t id, const uint8_t **body,
		    size_t *blen, int *fds, int *nfds, struct famrt_err *e)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 32)];
	} cm;
	struct iovec iov = { .iov_base = c->rbuf,
			     .iov_len = FAMRT_PROTO_MSG_MAX + 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct famrt_proto_hdr h;
	struct famrt_err he;
	ssize_t n;
	int got = 0, rc, saved_errno;

	if (nfds)
		*nfds = 0;
	do
		n = send(c->fd, req, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return famrt_err_set(e, errno, "famrtd at %s: send: %s",
				     c->path, strerror(errno));
again:
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	mh.msg_flags = 0;
	/*
	 * The service usually answers within microseconds; sleeping in the
	 * kernel and being woken costs tens of them on some machines (a
	 * virtual CPU's wakeup). So look for the reply without blocking for
	 * a short while first (c->spin_ns; 0 turns it off).
	 */
	n = -1;
	saved_errno = errno;
	if (c->spin_ns) {
		struct timespec t0, t;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
			if (n >= 0 || (errno != EAGAIN && errno != EINTR))
				break;
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((uint64_t)(t.tv_sec - t0.tv_sec) * 1000000000ull +
				    (uint64_t)t.tv_nsec - (uint64_t)t0.tv_nsec >
			    c->spin_ns)
				break;
			mh.msg_controllen = sizeof(cm.buf);
			mh.msg_flags = 0;
		}
	}
	if (n < 0 && (!c->spin_ns || errno == EAGAIN || errno == EINTR)) {
		mh.msg_controllen = sizeof(cm.buf);
		mh.msg_flags = 0;
		do
			n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
		while (n < 0 && errno == EINTR);
	}
	if (n >= 0)
		errno = saved_errno; /* the looking is not the caller's error */
	if (n < 0) {
		int err = errno == EAGAIN ? ETIMEDOUT : errno;

		/* Its reply may still come: skip it then (below). */
		if (err == ETIMEDOUT)
			c->abandoned++;
		return famrt_err_set(e, err, "famrtd at %s: no reply: %s",
				     c->path, strerror(err));
	}
	for (struct cmsghdr *ch = CMSG_FIRSTHDR(&mh); ch;
	     ch = CMSG_NXTHDR(&mh, ch)) {
		if (ch->cmsg_level != SOL_SOCKET || ch->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((ch->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int *p = (int *)CMSG_DATA(ch);

		for (int i = 0; i < k; i++) {
			if (fds && got < 32)
				fds[got++] = p[i];
			else
				close(p[i]);
		}
	}
	if (nfds)
		*nfds = got;
	rc = 0;
	/*
	 * The late reply to a request that timed out (ids only grow): drop
	 * it and wait for ours, or every later reply would be one behind.
	 */
	if (n > 0 && c->abandoned &&
	    !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) &&
	    !famrt_proto_hdr_decode(c->rbuf, (size_t)n, &h, &he) &&
	    (h.flags & FAMRT_PROTO_FLAG_REPLY) && h.req_id < id) {
		c->abandoned--;
		for (int i = 0; i < got; i++)
			close(fds[i]);
		got = 0;
		if (nfds)
			*nfds = 0;
		goto again;
	}
	if (n == 0)
		rc = famrt_err_set(e, ECONNRESET,
				   "famrtd at %s closed the connection",
				   c->path);
	else if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		rc = famrt_err_set(e, EPROTO,
				   "famrtd at %s sent an oversized reply",
				   c->path);
	else if (famrt_proto_hdr_decode(c->rbuf, (size_t)n, &h, &he))
		rc = famrt_err_set(e, EPROTO, "famrtd at %s: bad reply: %s",
				   c->path, he.msg);
	else if (!(h.flags & FAMRT_PROTO_FLAG_REPLY) || h.op != op ||
		 h.req_id != id)
		rc = famrt_err_set(e, EPROTO,
				   "famrtd at %s answered another request "
				   "(op %u id %llu, expected op %u id %llu)",
				   c->path, h.op, (unsigned long long)h.req_id,
				   op, (unsigned long long)id);
	else if (h.status > 0 || h.status < -4095)
		rc = famrt_err_set(e, EPROTO, "famrtd at %s: bad status %d",
				   c->path, h.status);
	else if (h.status < 0) {
		char msg[FAMRT_PROTO_ERRMSG_MAX];

		if (famrt_proto_error_get(c->rbuf + FAMRT_PROTO_HDR_SIZE,
					  (size_t)n - FAMRT_PROTO_HDR_SIZE, msg,
					  sizeof(msg)) || !msg[0])
			snprintf(msg, sizeof(msg), "%s", strerror(-h.status));
		rc = famrt_err_set(e, -h.status, "%s", msg);
	}
	if (rc) {
		for (int i = 0; i < got; i++)
			close(fds[i]);
		if (nfds)
			*nfds = 0;
		return rc;
	}
	*body = c->rbuf + FAMRT_PROTO_HDR_SIZE;
	*blen = (size_t)n - FAMRT_PROTO_HDR_SIZE;
	return 0;
}

/* Send an encoded request (n < 0: the encoder's error) and take the reply. */
static int call(struct famrt_client *c, uint16_t op, const uint8_t *req,
		ssize_t n, uint64_t id, const uint8_t **body, size_t *blen,
		int *fds, int *nfds, struct famrt_err *e)
{
	if (n < 0)
		return famrt_err_set(e, (int)-n, "cannot encode a %s request",
				     famrt_op_name(op));
	return transact(c, req, (size_t)n, op, id, body, blen, fds, nfds, e);
}

static int get_devices(struct famrt_client *c, struct famrt_err *e)
{
	const uint8_t *body;
	size_t blen;
	int fds[32], nfds = 0, rc;
	uint32_t want = 0;

	uint8_t req[64];
	uint64_t id = ++c->next_id;

	rc = call(c, FAMRT_OP_DEVICES, req,
		  famrt_proto_simple_req_encode(req, sizeof(req),
						FAMRT_OP_DEVICES, id),
		  id, &body, &blen, fds, &nfds, e);
	if (rc)
		return rc;
	rc = famrt_proto_devices_get(body, blen, &c->devs, e);
	for (uint32_t i = 0; !rc && i < c->devs.ndevs; i++)
		if (c->devs.dev[i].access != FAMRT_DEV_ACCESS_NONE)
			want++;
	if (!rc && (want != (uint32_t)nfds ||
		    c->devs.ndevs != c->hello.ndevs))
		rc = famrt_err_set(e, EPROTO,
				   "famrtd sent %d descriptors for %u usable "
				   "devices (%u in its table, %u at hello)",
				   nfds, want, c->devs.ndevs, c->hello.ndevs);
	if (rc) {
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		return rc;
	}
	for (uint32_t i = 0, k = 0; i < c->devs.ndevs; i++) {
		c->dev_size[i] = c->devs.dev[i].size;
		c->dev_align[i] = c->devs.dev[i].align;
		c->dev_fd[i] = c->devs.dev[i].access ? fds[k++] : -1;
	}
	return 0;
}

int famrt_client_connect(struct famrt_client **out, const char *path,
			 struct famrt_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 60 };
	struct famrt_client *c;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	const char *tmo = getenv("FAMRT_CLIENT_TIMEOUT_MS");
	const uint8_t *body;
	size_t blen;
	int rc;

	*out = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return famrt_err_set(e, ENAMETOOLONG,
				     "socket path '%s' is too long", path);
	c = calloc(1, sizeof(*c));
	if (!c)
		return famrt_err_set(e, ENOMEM, "out of memory");
	c->rbuf = malloc(FAMRT_PROTO_MSG_MAX + 1);
	for (int i = 0; i < 32; i++)
		c->dev_fd[i] = -1;
	pthread_mutex_init(&c->lock, NULL);
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (!c->rbuf || c->fd < 0) {
		rc = famrt_err_set(e, c->rbuf ? errno : ENOMEM,
				   "cannot make a socket: %s",
				   strerror(c->rbuf ? errno : ENOMEM));
		goto fail;
	}
	if (tmo && *tmo) {
		long ms = strtol(tmo, NULL, 10);

		if (ms > 0) {
			tv.tv_sec = ms / 1000;
			tv.tv_usec = (ms % 1000) * 1000;
		}
	}
	{
		const char *spin = getenv("FAMRT_CLIENT_SPIN_US");

		c->spin_ns = 30000;
		if (spin && *spin)
			c->spin_ns = strtoull(spin, NULL, 10) * 1000;
	}
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memcpy(sa.sun_path, path, strlen(path));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = famrt_err_set(e, errno, "no famrtd at %s: %s", path,
				   strerror(errno));
		goto fail;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		rc = famrt_err_set(e, errno, "cannot tell who serves %s: %s",
				   path, strerror(errno));
		goto fail;
	}
	if (!trusted_uid(cred.uid)) {
		rc = famrt_err_set(e, EPERM,
				   "the service at %s runs as uid %u, which is "
				   "neither root, you, nor FAMRT_SERVICE_UID: "
				   "not trusting it",
				   path, (unsigned)cred.uid);
		goto fail;
	}
	{
		uint8_t req[64];
		uint64_t id = ++c->next_id;

		rc = call(c, FAMRT_OP_HELLO, req,
			  famrt_proto_hello_req_encode(req, sizeof(req), id), id,
			  &body, &blen, NULL, NULL, e);
	}
	if (!rc)
		rc = famrt_proto_hello_get(body, blen, &c->hello, e);
	if (!rc)
		rc = get_devices(c, e);
	if (rc)
		goto fail;
	*out = c;
	return 0;
fail:
	famrt_client_close(c);
	return rc;
}

void famrt_client_close(struct famrt_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	for (int i = 0; i < 32; i++)
		if (c->dev_fd[i] >= 0)
			close(c->dev_fd[i]);
	pthread_mutex_destroy(&c->lock);
	free(c->rbuf);
	free(c);
}

const struct famrt_proto_hello_rep *
famrt_client_hello(const struct famrt_client *c)
{
	return &c->hello;
}

const struct famrt_proto_devices_rep *
famrt_client_devtable(const struct famrt_client *c)
{
	return &c->devs;
}

void famrt_client_fmap_limits(const struct famrt_client *c,
			      struct famrt_fmap_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->size = sizeof(*lim);
	lim->align = 4096;
	lim->ndevices = c->devs.ndevs;
	lim->dev_size = c->dev_size;
	lim->dev_align = c->dev_align;
}

int famrt_client_device_fds(struct famrt_client *c, int *fds, uint32_t *access,
			    struct famrt_err *e)
{
	uint32_t usable = 0;

	for (uint32_t i = 0; i < c->devs.ndevs; i++) {
		fds[i] = -1;
		access[i] = c->devs.dev[i].access;
		if (c->dev_fd[i] < 0)
			continue;
		fds[i] = fcntl(c->dev_fd[i], F_DUPFD_CLOEXEC, 0);
		if (fds[i] < 0) {
			int err = errno;

			for (uint32_t j = 0; j < i; j++)
				if (fds[j] >= 0)
					close(fds[j]);
			return famrt_err_set(e, err,
					     "cannot duplicate device %u's "
					     "descriptor: %s",
					     i, strerror(err));
		}
		usable++;
	}
	if (!usable)
		return famrt_err_set(e, EACCES,
				     "famrtd gives this user no device access "
				     "(ask for membership of the service's "
				     "access group)");
	return 0;
}

#define LOCKED(c, expr)                                                      \
	({                                                                   \
		int r_;                                                      \
		pthread_mutex_lock(&(c)->lock);                              \
		r_ = (expr);                                                 \
		pthread_mutex_unlock(&(c)->lock);                            \
		r_;                                                          \
	})

static int attr_call(struct famrt_client *c, uint16_t op, const uint8_t *req,
		     ssize_t n, uint64_t id, struct famrt_proto_attr *a,
		     struct famrt_err *e)
{
	const uint8_t *body;
	size_t blen;
	int rc;

	rc = call(c, op, req, n, id, &body, &blen, NULL, NULL, e);
	if (!rc)
		rc = famrt_proto_attr_get(body, blen, a, e);
	return rc;
}

static int do_lookup(struct famrt_client *c, const char *path,
		     struct famrt_proto_attr *a, struct famrt_err *e)
{
	uint8_t req[FAMRT_PROTO_REQ_MAX];
	uint64_t id = ++c->next_id;
	ssize_t n = famrt_proto_path_req_encode(req, sizeof(req),
						FAMRT_OP_LOOKUP, id, path);

	return attr_call(c, FAMRT_OP_LOOKUP, req, n, id, a, e);
}

int famrt_client_lookup(struct famrt_client *c, const char *path,
			struct famrt_proto_attr *a, struct famrt_err *e)
{
	return LOCKED(c, do_lookup(c, path, a, e));
}

static int do_getattr(struct famrt_client *c, uint64_t ino,
		      struct famrt_proto_attr *a, struct famrt_err *e)
{
	uint8_t req[64];
	uint64_t id = ++c->next_id;
	ssize_t n = famrt_proto_ino_req_encode(req, sizeof(req),
					       FAMRT_OP_GETATTR, id, ino);

	return attr_call(c, FAMRT_OP_GETATTR, req, n, id, a, e);
}

int famrt_client_getattr(struct famrt_client *c, uint64_t ino,
			 struct famrt_proto_attr *a, struct famrt_err *e)
{
	return LOCKED(c, do_getattr(c, ino, a, e));
}

static int do_readdir(struct famrt_client *c, uint64_t ino, uint64_t cookie,
		      uint32_t max,
		      int (*fn)(const struct famrt_proto_dirent *, void *),
		      void *arg, uint64_t *next, struct famrt_err *e)
{
	uint8_t req[64];
	uint64_t id = ++c->next_id;
	const uint8_t *body;
	size_t blen;
	int rc = call(c, FAMRT_OP_READDIR, req,
		      famrt_proto_readdir_req_encode(req, sizeof(req), id, ino,
						     cookie, max),
		      id, &body, &blen, NULL, NULL, e);

	if (!rc)
		rc = famrt_proto_readdir_get(body, blen, next, fn, arg, e);
	return rc;
}

int famrt_client_readdir(struct famrt_client *c, uint64_t ino, uint64_t cookie,
			 uint32_t max,
			 int (*fn)(const struct famrt_proto_dirent *, void *),
			 void *arg, uint64_t *next, struct famrt_err *e)
{
	return LOCKED(c, do_readdir(c, ino, cookie, max, fn, arg, next, e));
}

static int do_get_fmap(struct famrt_client *c, uint64_t ino,
		       struct famrt_fmap **map, uint8_t *raw, size_t *rawlen,
		       struct famrt_err *e)
{
	struct famrt_fmap_limits lim;
	struct famrt_fmap_error fe;
	uint8_t req[64];
	uint64_t id = ++c->next_id;
	const uint8_t *body;
	size_t blen;
	int rc = call(c, FAMRT_OP_GET_FMAP, req,
		      famrt_proto_ino_req_encode(req, sizeof(req),
						 FAMRT_OP_GET_FMAP, id, ino),
		      id, &body, &blen, NULL, NULL, e);

	if (rc)
		return rc;
	famrt_client_fmap_limits(c, &lim);
	rc = famrt_fmap_decode(body, blen, &lim, map, &fe);
	if (rc)
		return famrt_err_set(e, EPROTO,
				     "famrtd sent a map for inode %llu that "
				     "famrt refuses: %s",
				     (unsigned long long)ino, fe.message);
	if (raw) {
		memcpy(raw, body, blen);
		*rawlen = blen;
	}
	return 0;
}

int famrt_client_get_fmap(struct famrt_client *c, uint64_t ino,
			  struct famrt_fmap **map, uint8_t *raw, size_t *rawlen,
			  struct famrt_err *e)
{
	*map = NULL;
	return LOCKED(c, do_get_fmap(c, ino, map, raw, rawlen, e));
}

static int do_open(struct famrt_client *c, const char *path, uint32_t access,
		   struct famrt_proto_attr *a, struct famrt_fmap **map,
		   struct famrt_err *e)
{
	uint8_t req[FAMRT_PROTO_REQ_MAX];
	uint64_t id = ++c->next_id;
	struct famrt_fmap_limits lim;
	struct famrt_fmap_error fe;
	const uint8_t *body, *fm;
	size_t blen, fmlen;
	int rc = call(c, FAMRT_OP_OPEN, req,
		      famrt_proto_open_req_encode(req, sizeof(req), id, path,
						  access),
		      id, &body, &blen, NULL, NULL, e);

	if (!rc)
		rc = famrt_proto_open_get(body, blen, a, &fm, &fmlen, e);
	if (!rc && !S_ISREG(a->mode) && !S_ISDIR(a->mode))
		rc = famrt_err_set(e, EPROTO,
				   "famrtd says '%s' has mode 0%o: neither a "
				   "file nor a directory",
				   path, a->mode);
	if (rc || !fmlen)
		return rc;
	famrt_client_fmap_limits(c, &lim);
	rc = famrt_fmap_decode(fm, fmlen, &lim, map, &fe);
	if (rc)
		return famrt_err_set(e, EPROTO,
				     "famrtd sent a map for '%s' that famrt "
				     "refuses: %s",
				     path, fe.message);
	if (famrt_fmap_file_size(*map) != a->size) {
		uint64_t msize = famrt_fmap_file_size(*map);

		famrt_fmap_free(*map);
		*map = NULL;
		return famrt_err_set(e, EPROTO,
				     "famrtd sent a map of %llu bytes for '%s' "
				     "of %llu bytes",
				     (unsigned long long)msize, path,
				     (unsigned long long)a->size);
	}
	return 0;
}

int famrt_client_open(struct famrt_client *c, const char *path,
		      uint32_t access, struct famrt_proto_attr *a,
		      struct famrt_fmap **map, struct famrt_err *e)
{
	*map = NULL;
	return LOCKED(c, do_open(c, path, access, a, map, e));
}

static int do_create(struct famrt_client *c, const char *path,
		     const struct famrt_proto_create_req *r,
		     struct famrt_proto_attr *a, struct famrt_err *e)
{
	uint8_t req[FAMRT_PROTO_REQ_MAX];
	uint64_t id = ++c->next_id;
	ssize_t n = famrt_proto_create_req_encode(req, sizeof(req), id, r,
						  path);

	return attr_call(c, FAMRT_OP_CREATE, req, n, id, a, e);
}

int famrt_client_create(struct famrt_client *c, const char *path,
			const struct famrt_proto_create_req *req,
			struct famrt_proto_attr *a, struct famrt_err *e)
{
	return LOCKED(c, do_create(c, path, req, a, e));
}

static int do_mkdir(struct famrt_client *c, const char *path, uint32_t mode,
		    struct famrt_proto_attr *a, struct famrt_err *e)
{
	uint8_t req[FAMRT_PROTO_REQ_MAX];
	uint64_t id = ++c->next_id;
	ssize_t n = famrt_proto_mkdir_req_encode(req, sizeof(req), id, mode,
						 path);

	return attr_call(c, FAMRT_OP_MKDIR, req, n, id, a, e);
}

int famrt_client_mkdir(struct famrt_client *c, const char *path, uint32_t mode,
		       struct famrt_proto_attr *a, struct famrt_err *e)
{
	return LOCKED(c, do_mkdir(c, path, mode, a, e));
}

static int do_statfs(struct famrt_client *c, struct famrt_proto_statfs_rep *s,
		     struct famrt_err *e)
{
	uint8_t req[64];
	uint64_t id = ++c->next_id;
	const uint8_t *body;
	size_t blen;
	int rc = call(c, FAMRT_OP_STATFS, req,
		      famrt_proto_simple_req_encode(req, sizeof(req),
						    FAMRT_OP_STATFS, id),
		      id, &body, &blen, NULL, NULL, e);

	if (!rc)
		rc = famrt_proto_statfs_get(body, blen, s, e);
	return rc;
}

int famrt_client_statfs(struct famrt_client *c,
			struct famrt_proto_statfs_rep *s, struct famrt_err *e)
{
	return LOCKED(c, do_statfs(c, s, e));
}

/* ---- files created by writing ---- */

static int do_begin(struct famrt_client *c, const char *path, uint32_t mode,
		    uint64_t *handle, struct famrt_err *e)
{
	uint8_t req[FAMRT_PROTO_REQ_MAX];
	uint64_t id = ++c->next_id;
	const uint8_t *body;
	size_t blen;
	int rc = call(c, FAMRT_OP_BEGIN, req,
		      famrt_proto_begin_req_encode(req, sizeof(req), id, mode,
						   path),
		      id, &body, &blen, NULL, NULL, e);

	if (rc)
		return rc;
	if (blen != 8)
		return famrt_err_set(e, EPROTO, "begin reply is %zu bytes",
				     blen);
	*handle = famrt_le64_get(body);
	return 0;
}

int famrt_client_begin(struct famrt_client *c, const char *path, uint32_t mode,
		       uint64_t *handle, struct famrt_err *e)
{
	return LOCKED(c, do_begin(c, path, mode, handle, e));
}

static int do_alloc(struct famrt_client *c, uint64_t handle, uint64_t bytes,
		    struct famrt_fmap_strip *x, uint32_t *n,
		    struct famrt_err *e)
{
	uint8_t req[64];
	uint64_t id = ++c->next_id;
	const uint8_t *body;
	size_t blen;
	int rc = call(c, FAMRT_OP_ALLOC, req,
		      famrt_proto_alloc_req_encode(req, sizeof(req), id, handle,
						   bytes),
		      id, &body, &blen, NULL, NULL, e);

	if (!rc)
		rc = famrt_proto_extents_get(body, blen, x, n, e);
	for (uint32_t i = 0; !rc && i < *n; i++) {
		uint64_t end;

		if (x[i].devindex >= c->devs.ndevs ||
		    __builtin_add_overflow(x[i].offset, x[i].len, &end) ||
		    end > c->dev_size[x[i].devindex] ||
		    x[i].offset % c->dev_align[x[i].devindex] ||
		    x[i].len % c->dev_align[x[i].devindex])
			rc = famrt_err_set(e, EPROTO,
					   "famrtd reserved an extent outside "
					   "or misaligned on device %u",
					   x[i].devindex);
	}
	return rc;
}

int famrt_client_alloc(struct famrt_client *c, uint64_t handle, uint64_t bytes,
		       struct famrt_fmap_strip *x, uint32_t *n,
		       struct famrt_err *e)
{
	*n = 0;
	return LOCKED(c, do_alloc(c, handle, bytes, x, n, e));
}

static int do_commit(struct famrt_client *c, uint64_t handle, uint64_t size,
		     uint32_t mode, struct famrt_proto_attr *a,
		     struct famrt_err *e)
{
	struct famrt_proto_commit_req r = { .handle = handle, .size = size,
					    .mode = mode };
	uint8_t req[64];
	uint64_t id = ++c->next_id;

	return attr_call(c, FAMRT_OP_COMMIT, req,
			 famrt_proto_commit_req_encode(req, sizeof(req), id,
						       &r),
			 id, a, e);
}

int famrt_client_commit(struct famrt_client *c, uint64_t handle, uint64_t size,
			uint32_t mode, struct famrt_proto_attr *a,
			struct famrt_err *e)
{
	return LOCKED(c, do_commit(c, handle, size, mode, a, e));
}

static int do_abort(struct famrt_client *c, uint64_t handle,
		    struct famrt_err *e)
{
	uint8_t req[64];
	uint64_t id = ++c->next_id;
	const uint8_t *body;
	size_t blen;

	return call(c, FAMRT_OP_ABORT, req,
		    famrt_proto_ino_req_encode(req, sizeof(req), FAMRT_OP_ABORT,
					       id, handle),
		    id, &body, &blen, NULL, NULL, e);
}

int famrt_client_abort(struct famrt_client *c, uint64_t handle,
		       struct famrt_err *e)
{
	return LOCKED(c, do_abort(c, handle, e));
}

static int do_setattr(struct famrt_client *c, const char *path, uint32_t mode,
		      uint32_t uid, uint32_t gid, struct famrt_proto_attr *a,
		      struct famrt_err *e)
{
	uint8_t req[FAMRT_PROTO_REQ_MAX];
	uint64_t id = ++c->next_id;

	return attr_call(c, FAMRT_OP_SETATTR, req,
			 famrt_proto_setattr_req_encode(req, sizeof(req), id,
							mode, uid, gid, path),
			 id, a, e);
}

int famrt_client_setattr(struct famrt_client *c, const char *path,
			 uint32_t mode, uint32_t uid, uint32_t gid,
			 struct famrt_proto_attr *a, struct famrt_err *e)
{
	return LOCKED(c, do_setattr(c, path, mode, uid, gid, a, e));
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrtd's event loop: one io_uring for the listening socket, every client,
 * the follow timer and the signals; no thread per client.
 *
 * Each client is served in lockstep: one receive, then one send of the
 * reply, then the next receive. A client that never reads its replies thus
 * holds one reply buffer and stalls only itself; a client that sends junk
 * gets an error reply and is dropped; the number of clients is capped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "famrtd.h"

enum op_kind { OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_TIMER, OP_SIGNAL };

struct op {
	enum op_kind kind;
	struct conn *conn;
};

struct conn {
	int fd;
	struct famrtd_cred cred;
	struct famrtd_session sess;
	struct op rx, tx;
	uint8_t rbuf[FAMRT_PROTO_REQ_MAX];
	uint8_t *sbuf; /* the reply in flight */
	size_t slen;
	bool close_after;
	struct msghdr mh;
	struct iovec iov;
	union { /* aligned like a cmsghdr, which is not named here: its
		 * flexible array member makes clang refuse it in a struct */
		size_t align;
		char buf[CMSG_SPACE(sizeof(int) * FAMRT_MAX_DEVS)];
	} cm;
	struct conn *prev, *next;
};

struct loop {
	struct famrtd *d;
	struct io_uring ring;
	int listen_fd, sig_fd;
	struct op accept_op, timer_op, sig_op;
	struct __kernel_timespec tick;
	struct signalfd_siginfo si;
	struct conn *conns;
	uint32_t nconns;
	uint64_t refused;
	bool stop;
	uint8_t scratch[FAMRT_PROTO_MSG_MAX];
};

static struct io_uring_sqe *sqe_get(struct loop *l)
{
	struct io_uring_sqe *s = io_uring_get_sqe(&l->ring);

	if (!s) {
		io_uring_submit(&l->ring);
		s = io_uring_get_sqe(&l->ring);
	}
	return s;
}

static void arm_accept(struct loop *l)
{
	struct io_uring_sqe *s = sqe_get(l);

	io_uring_prep_multishot_accept(s, l->listen_fd, NULL, NULL,
				       SOCK_CLOEXEC);
	io_uring_sqe_set_data(s, &l->accept_op);
}

static void arm_timer(struct loop *l)
{
	struct io_uring_sqe *s = sqe_get(l);

	io_uring_prep_timeout(s, &l->tick, 0, 0);
	io_uring_sqe_set_data(s, &l->timer_op);
}

static void arm_signal(struct loop *l)
{
	struct io_uring_sqe *s = sqe_get(l);

	io_uring_prep_read(s, l->sig_fd, &l->si, sizeof(l->si), 0);
	io_uring_sqe_set_data(s, &l->sig_op);
}

static void arm_recv(struct loop *l, struct conn *c)
{
	struct io_uring_sqe *s = sqe_get(l);

	/* MSG_TRUNC: learn the real size of an oversized message. */
	io_uring_prep_recv(s, c->fd, c->rbuf, sizeof(c->rbuf), MSG_TRUNC);
	io_uring_sqe_set_data(s, &c->rx);
}

static void arm_send(struct loop *l, struct conn *c, const int *fds, int nfds)
{
	struct io_uring_sqe *s = sqe_get(l);

	memset(&c->mh, 0, sizeof(c->mh));
	c->iov.iov_base = c->sbuf;
	c->iov.iov_len = c->slen;
	c->mh.msg_iov = &c->iov;
	c->mh.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *ch;

		c->mh.msg_control = c->cm.buf;
		c->mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		ch = CMSG_FIRSTHDR(&c->mh);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(ch), fds, sizeof(int) * (size_t)nfds);
	}
	io_uring_prep_sendmsg(s, c->fd, &c->mh, MSG_NOSIGNAL);
	io_uring_sqe_set_data(s, &c->tx);
}

static void conn_free(struct loop *l, struct conn *c)
{
	famrtd_session_end(l->d, &c->sess);
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	l->nconns--;
	close(c->fd);
	free(c->sbuf);
	free(c);
}

static void read_cred(int fd, struct famrtd_cred *cr)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	gid_t groups[FAMRTD_MAX_GROUPS];

	memset(cr, 0, sizeof(*cr));
	/* Unknown peer: treat as nobody. */
	cr->uid = (uid_t)-1;
	cr->gid = (gid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0) {
		cr->pid = uc.pid;
		cr->uid = uc.uid;
		cr->gid = uc.gid;
	}
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
		cr->ngroups = len / sizeof(gid_t);
		memcpy(cr->groups, groups, cr->ngroups * sizeof(gid_t));
	} else if (errno == ERANGE) {
		/*
		 * More groups than we keep: the call fails (len now says how
		 * many there are) rather than truncate. Fetch them all and
		 * keep the first ones; the extra ones are simply not used.
		 */
		gid_t *all = malloc(len);

		if (all && getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, all,
				      &len) == 0 &&
		    len >= sizeof(cr->groups)) {
			cr->ngroups = FAMRTD_MAX_GROUPS;
			memcpy(cr->groups, all, sizeof(cr->groups));
		}
		free(all);
	}
}

static void on_accept(struct loop *l, const struct io_uring_cqe *cqe)
{
	struct conn *c;
	int fd = cqe->res;

	if (!(cqe->flags & IORING_CQE_F_MORE) && !l->stop)
		arm_accept(l);
	if (fd < 0) {
		if (fd != -ECANCELED)
			famrtd_log("accept: %s", strerror(-fd));
		return;
	}
	if (l->nconns >= l->d->cfg.max_clients) {
		if (!(l->refused++ % 1000))
			famrtd_log("refusing client: %u connected is the "
				   "maximum (--max-clients; %llu refused so "
				   "far)",
				   l->nconns, (unsigned long long)l->refused);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		famrtd_log("accept: out of memory for a client");
		close(fd);
		return;
	}
	c->fd = fd;
	c->rx = (struct op){ OP_RECV, c };
	c->tx = (struct op){ OP_SEND, c };
	read_cred(fd, &c->cred);
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	l->nconns++;
	arm_recv(l, c);
}

static void on_recv(struct loop *l, struct conn *c, int res)
{
	int fds[FAMRT_MAX_DEVS], nfds = 0;
	size_t n;

	if (res == 0) {
		/*
		 * io_uring's receive can report end of file while a message
		 * the peer sent before shutting down its side is still
		 * queued (seen on 6.x kernels: about 1 in 1000 such peers);
		 * a plain receive finds it. Serve it: its sender is waiting
		 * for the reply.
		 */
		ssize_t k = recv(c->fd, c->rbuf, sizeof(c->rbuf),
				 MSG_DONTWAIT | MSG_TRUNC);

		if (k > 0)
			res = (int)k;
	}
	if (res <= 0) { /* EOF, reset, or cancelled at shutdown */
		conn_free(l, c);
		return;
	}
	if ((size_t)res > sizeof(c->rbuf)) {
		/* Oversized: answer once, then drop the client. */
		struct famrt_proto_hdr h = { 0 };
		char msg[96];

		if (res >= (int)FAMRT_PROTO_HDR_SIZE)
			famrt_proto_hdr_decode(c->rbuf, sizeof(c->rbuf), &h,
					       NULL);
		snprintf(msg, sizeof(msg),
			 "request of %d bytes is over the %u-byte limit", res,
			 FAMRT_PROTO_REQ_MAX);
		l->d->bad_messages++;
		n = 0;
		{
			ssize_t k = famrt_proto_error_encode(
				l->scratch, sizeof(l->scratch), h.op, h.req_id,
				-EMSGSIZE, msg);

			n = k > 0 ? (size_t)k : 0;
		}
		c->close_after = true;
	} else {
		n = famrtd_handle_session(l->d, &c->sess, &c->cred, c->rbuf,
					  (size_t)res, l->scratch,
					  sizeof(l->scratch), fds, &nfds,
					  &c->close_after);
	}
	if (!n) {
		conn_free(l, c);
		return;
	}
	c->sbuf = malloc(n);
	if (!c->sbuf) {
		famrtd_log("out of memory for a reply: dropping a client");
		conn_free(l, c);
		return;
	}
	memcpy(c->sbuf, l->scratch, n);
	c->slen = n;
	arm_send(l, c, fds, nfds);
}

static void on_send(struct loop *l, struct conn *c, int res)
{
	free(c->sbuf);
	c->sbuf = NULL;
	if (res < 0 || c->close_after || l->stop) {
		conn_free(l, c);
		return;
	}
	arm_recv(l, c);
}

int famrtd_listen(const char *path, struct famrt_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], lock[sizeof(sa.sun_path) + 8];
	char *slash;
	int fd, lock_fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return famrt_err_set(e, ENAMETOOLONG,
				     "socket path '%s' is too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return famrt_err_set(e, errno,
					     "cannot make directory '%s': %s",
					     dir, strerror(errno));
	}
	/*
	 * Who owns the socket is decided by a lock on PATH.lock, held (never
	 * closed) for the life of the process. Connecting to the socket would
	 * not tell: a famrtd killed with SIGKILL leaves its listening socket
	 * accepting connections until the kernel has torn down its io_uring,
	 * which happens after the process is gone, so a prompt restart would
	 * refuse to start. The lock goes with the process.
	 */
	snprintf(lock, sizeof(lock), "%s.lock", path);
	lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock_fd < 0)
		return famrt_err_set(e, errno, "cannot open '%s': %s", lock,
				     strerror(errno));
	if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		close(lock_fd);
		if (err == EWOULDBLOCK)
			return famrt_err_set(e, EADDRINUSE,
					     "another famrtd already serves "
					     "this file system at %s",
					     path);
		return famrt_err_set(e, err, "cannot lock '%s': %s", lock,
				     strerror(err));
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int err = errno;

		close(lock_fd);
		return famrt_err_set(e, err, "socket: %s", strerror(err));
	}
	/* The lock is ours: a socket there is stale (from a crash). */
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0666) < 0 || listen(fd, 128) < 0) {
		int err = errno;

		close(fd);
		close(lock_fd);
		return famrt_err_set(e, err, "cannot listen at %s: %s", path,
				     strerror(err));
	}
	/* lock_fd stays open (and locked) until the process ends. */
	return fd;
}

int famrtd_serve(struct famrtd *d, int listen_fd)
{
	struct loop *l = calloc(1, sizeof(*l));
	struct io_uring_params p;
	sigset_t mask;
	int rc;

	if (!l) {
		famrtd_log("out of memory");
		return 1;
	}
	l->d = d;
	l->listen_fd = listen_fd;
	l->accept_op.kind = OP_ACCEPT;
	l->timer_op.kind = OP_TIMER;
	l->sig_op.kind = OP_SIGNAL;
	l->tick.tv_sec = d->cfg.poll_us / 1000000;
	l->tick.tv_nsec = (long long)(d->cfg.poll_us % 1000000) * 1000;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	l->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	memset(&p, 0, sizeof(p));
	rc = l->sig_fd < 0 ? -errno : io_uring_queue_init_params(256, &l->ring, &p);
	if (rc < 0) {
		famrtd_log("cannot set up the event loop: %s", strerror(-rc));
		if (l->sig_fd >= 0)
			close(l->sig_fd);
		free(l);
		return 1;
	}
	arm_accept(l);
	arm_timer(l);
	arm_signal(l);
	while (!l->stop || l->nconns) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;

		rc = io_uring_submit_and_wait(&l->ring, 1);
		if (rc < 0 && rc != -EINTR) {
			famrtd_log("event loop: %s", strerror(-rc));
			break;
		}
		io_uring_for_each_cqe(&l->ring, head, cqe)
		{
			struct op *o = io_uring_cqe_get_data(cqe);

			seen++;
			if (!o)
				continue;
			switch (o->kind) {
			case OP_ACCEPT:
				on_accept(l, cqe);
				break;
			case OP_RECV:
				on_recv(l, o->conn, cqe->res);
				break;
			case OP_SEND:
				on_send(l, o->conn, cqe->res);
				break;
			case OP_TIMER:
				famrtd_follow(d);
				if (!l->stop)
					arm_timer(l);
				break;
			case OP_SIGNAL:
				if (cqe->res == sizeof(l->si)) {
					famrtd_log("signal %u: shutting down "
						   "(%u clients connected)",
						   l->si.ssi_signo, l->nconns);
					l->stop = true;
					/* Cancel everything pending. The SQE
					 * slot keeps its old user_data unless
					 * cleared: clear it. */
					struct io_uring_sqe *s = sqe_get(l);

					io_uring_prep_cancel(s, NULL,
							     IORING_ASYNC_CANCEL_ANY);
					io_uring_sqe_set_data(s, NULL);
				} else if (!l->stop) {
					arm_signal(l);
				}
				break;
			}
		}
		io_uring_cq_advance(&l->ring, seen);
	}
	while (l->conns)
		conn_free(l, l->conns);
	io_uring_queue_exit(&l->ring);
	close(l->sig_fd);
	free(l);
	return 0;
}

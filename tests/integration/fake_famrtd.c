/* SPDX-License-Identifier: Apache-2.0 */
/* A lying famrtd for libfamrt tests: see fake_famrtd.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_famrtd.h"

size_t fake_msg(uint8_t *out, size_t cap, uint16_t op, uint64_t id,
		uint32_t flags, int32_t status, const void *body, size_t blen)
{
	struct famrt_proto_hdr h = { .version = FAMRT_PROTO_VERSION,
				     .op = op,
				     .flags = flags,
				     .req_id = id,
				     .status = status };

	if (blen + FAMRT_PROTO_HDR_SIZE > cap)
		return 0;
	memcpy(out + FAMRT_PROTO_HDR_SIZE, body, blen);
	h.length = (uint32_t)(blen + FAMRT_PROTO_HDR_SIZE);
	famrt_proto_hdr_encode(out, &h);
	return blen + FAMRT_PROTO_HDR_SIZE;
}

struct fake_file *fake_add_file(struct fake_cfg *cfg, const char *path,
				const void *msg, size_t len,
				uint64_t size_override)
{
	struct fake_file *f;

	if (cfg->nfiles == FAKE_MAX_FILES || len > sizeof(f->fmap))
		return NULL;
	f = &cfg->files[cfg->nfiles++];
	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s", path);
	memcpy(f->fmap, msg, len);
	f->fmap_len = len;
	f->attr.ino = 100 + cfg->nfiles;
	f->attr.parent = 1;
	f->attr.mode = S_IFREG | 0644;
	f->attr.nlink = 1;
	f->attr.uid = 0;
	f->attr.gid = 0;
	if (size_override != UINT64_MAX) {
		f->attr.size = size_override;
	} else if (len >= 24) {
		/* file_size: bytes 16..23 of the fmap header, little-endian */
		for (int i = 7; i >= 0; i--)
			f->attr.size = f->attr.size << 8 |
				       ((const uint8_t *)msg)[16 + i];
	}
	return f;
}

struct fake_file *fake_add_desc(struct fake_cfg *cfg, const char *path,
				const struct famrt_fmap_desc *desc,
				uint64_t size_override)
{
	uint8_t buf[FAMRT_FMAP_MSG_MAX];
	ssize_t n = famrt_fmap_desc_encode(desc, buf, sizeof(buf));

	if (n < 0)
		return NULL;
	return fake_add_file(cfg, path, buf, (size_t)n, size_override);
}

static const struct fake_file *by_path(const struct fake_cfg *cfg,
				       const char *p, size_t n)
{
	for (uint32_t i = 0; i < cfg->nfiles; i++)
		if (strlen(cfg->files[i].path) == n &&
		    !memcmp(cfg->files[i].path, p, n))
			return &cfg->files[i];
	return NULL;
}

static const struct fake_file *by_ino(const struct fake_cfg *cfg, uint64_t ino)
{
	for (uint32_t i = 0; i < cfg->nfiles; i++)
		if (cfg->files[i].attr.ino == ino)
			return &cfg->files[i];
	return NULL;
}

static size_t reply_error(uint8_t *out, const struct famrt_proto_hdr *h,
			  int status, const char *msg)
{
	ssize_t n = famrt_proto_error_encode(out, FAKE_OUT_MAX, h->op,
					     h->req_id, status, msg);

	return n > 0 ? (size_t)n : 0;
}

size_t fake_default_reply(const struct fake_cfg *cfg,
			  const struct famrt_proto_req *q, const int *devfd,
			  uint8_t *out, int *fds, int *nfds)
{
	struct famrt_proto_hdr h = { .version = FAMRT_PROTO_VERSION,
				     .op = q->hdr.op,
				     .flags = FAMRT_PROTO_FLAG_REPLY,
				     .req_id = q->hdr.req_id };
	struct famrt_proto_attr root = { .ino = 1, .parent = 1,
					 .mode = S_IFDIR | 0755, .nlink = 2 };
	const struct fake_file *f = NULL;
	struct famrt_msg m;

	*nfds = 0;
	famrt_msg_init(&m, out, FAKE_OUT_MAX);
	switch (q->hdr.op) {
	case FAMRT_OP_HELLO: {
		struct famrt_proto_hello_rep r = { .version = 1 };

		r.flags = cfg->hello_flags;
		r.server_pid = (uint32_t)getpid();
		r.ndevs = cfg->ndevs;
		r.alloc_unit = 2u << 20;
		memset(r.fs_uuid, 0xfa, sizeof(r.fs_uuid));
		snprintf(r.fs_name, sizeof(r.fs_name), "fake");
		snprintf(r.host_id, sizeof(r.host_id), "fake-host");
		snprintf(r.master, sizeof(r.master), "fake-host");
		famrt_proto_hello_put(&m, &r);
		break;
	}
	case FAMRT_OP_DEVICES: {
		struct famrt_proto_devices_rep r;

		memset(&r, 0, sizeof(r));
		r.ndevs = cfg->ndevs;
		for (uint32_t i = 0; i < cfg->ndevs; i++) {
			struct stat st;

			r.dev[i].index = i;
			r.dev[i].access = cfg->access[i];
			r.dev[i].align = cfg->align[i] ? cfg->align[i] : 4096;
			r.dev[i].numa_node = -1;
			r.dev[i].size = cfg->size[i];
			if (!r.dev[i].size && devfd[i] >= 0 &&
			    !fstat(devfd[i], &st))
				r.dev[i].size = (uint64_t)st.st_size;
			if (cfg->access[i] != FAMRT_DEV_ACCESS_NONE)
				fds[(*nfds)++] = devfd[i];
		}
		famrt_proto_devices_put(&m, &r);
		break;
	}
	case FAMRT_OP_LOOKUP:
	case FAMRT_OP_OPEN:
		if (q->u.path.path_len == 1) {
			famrt_proto_attr_put(&m, &root);
			break;
		}
		f = by_path(cfg, q->u.path.path, q->u.path.path_len);
		if (!f)
			return reply_error(out, &q->hdr, -ENOENT,
					   "no such file in the fake");
		famrt_proto_attr_put(&m, &f->attr);
		if (q->hdr.op == FAMRT_OP_OPEN)
			famrt_msg_bytes(&m, f->fmap, f->fmap_len);
		break;
	case FAMRT_OP_GETATTR:
	case FAMRT_OP_GET_FMAP:
		f = by_ino(cfg, q->u.ino.ino);
		if (!f)
			return reply_error(out, &q->hdr, -ENOENT,
					   "no such inode in the fake");
		if (q->hdr.op == FAMRT_OP_GETATTR)
			famrt_proto_attr_put(&m, &f->attr);
		else
			famrt_msg_bytes(&m, f->fmap, f->fmap_len);
		break;
	default:
		return reply_error(out, &q->hdr, -EOPNOTSUPP,
				   "the fake does not do that");
	}
	/* Not famrt_msg_finish: the fake may send more than the limit. */
	if (m.overflow)
		return 0;
	h.length = (uint32_t)m.len;
	famrt_proto_hdr_encode(out, &h);
	return m.len;
}

static int send_reply(int fd, const uint8_t *out, size_t len, const int *fds,
		      int nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * FAKE_MAX_FDS)];
	} cm;
	struct iovec iov = { .iov_base = (void *)out, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static void serve(const struct fake_cfg *cfg, int lfd, const int *devfd)
{
	uint8_t *in = malloc(FAMRT_PROTO_MSG_MAX + 1);
	uint8_t *out = malloc(FAKE_OUT_MAX);

	if (!in || !out)
		_exit(3);
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			_exit(4);
		}
		for (;;) {
			struct famrt_proto_req q;
			struct famrt_err e;
			int fds[FAKE_MAX_FDS], nfds = 0, act = FAKE_DEFAULT;
			size_t len = 0;
			ssize_t n = recv(c, in, FAMRT_PROTO_MSG_MAX + 1, 0);

			if (n <= 0)
				break;
			if (famrt_proto_req_decode(in, (size_t)n, &q, &e)) {
				len = reply_error(out, &q.hdr, -EPROTO, e.msg);
			} else {
				if (cfg->hook)
					act = cfg->hook(cfg, &q, devfd, out,
							&len, fds, &nfds);
				if (act == FAKE_DEFAULT)
					len = fake_default_reply(cfg, &q, devfd,
								 out, fds,
								 &nfds);
			}
			if (act == FAKE_SILENT)
				continue;
			if (act == FAKE_CLOSE)
				break;
			if (len && send_reply(c, out, len, fds, nfds))
				break;
		}
		close(c);
	}
}

int fake_start(struct fake *f, const struct fake_cfg *cfg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int pfd[2];
	char ok = 0;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/famrt-fake.XXXXXX");
	if (!mkdtemp(f->dir))
		return -errno;
	chmod(f->dir, 0755);
	snprintf(f->socket, sizeof(f->socket), "%s/fake.sock", f->dir);
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	f->pid = fork();
	if (f->pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (f->pid == 0) {
		int devfd[FAKE_MAX_DEVS], lfd;

		/* Never outlive the test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pfd[0]);
		for (uint32_t i = 0; i < FAKE_MAX_DEVS; i++) {
			bool rw = cfg->access[i] == FAMRT_DEV_ACCESS_RW &&
				  !cfg->open_ro[i];

			devfd[i] = -1;
			if (i >= cfg->ndevs || !cfg->dev[i][0])
				continue;
			devfd[i] = open(cfg->dev[i], rw ? O_RDWR : O_RDONLY);
			if (devfd[i] < 0) {
				perror(cfg->dev[i]);
				_exit(2);
			}
		}
		lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		memcpy(sa.sun_path, f->socket, strlen(f->socket) + 1);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)))
			_exit(5);
		/* SO_PEERCRED reports who called listen(). */
		if (cfg->uid && (setgroups(0, NULL) || setgid(cfg->uid) ||
				 setuid(cfg->uid)))
			_exit(6);
		if (listen(lfd, 16))
			_exit(7);
		if (write(pfd[1], "1", 1) != 1)
			_exit(8);
		close(pfd[1]);
		serve(cfg, lfd, devfd);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &ok, 1) != 1 || ok != '1') {
		int st = 0;

		close(pfd[0]);
		waitpid(f->pid, &st, 0);
		fprintf(stderr, "fake famrtd did not start (status 0x%x)\n",
			st);
		f->pid = 0;
		return -ECHILD;
	}
	close(pfd[0]);
	return 0;
}

void fake_stop(struct fake *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
		f->pid = 0;
	}
	if (f->socket[0])
		unlink(f->socket);
	if (f->dir[0])
		rmdir(f->dir);
	f->socket[0] = f->dir[0] = '\0';
}

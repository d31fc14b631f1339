/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt cp: copy an ordinary file into a famrt file system (the famrt file
 * is made with the source's size, then io_uring reads land straight in the
 * device mapping, run by run, each flushed when it is complete) or out of
 * one (io_uring writes straight from the mapping, invalidated first when
 * the memory is not coherent).
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <famrt/fmap.h>

#include "cmd_common.h"
#include "dax/dax.h"
#include "famrt.h"
#include "size.h"

enum {
	OPT_MODE = FAMRT_OPT_FIRST_OWN,
	OPT_INTERLEAVE,
	OPT_CHUNK,
	OPT_DEVICES,
	OPT_BLOCK,
	OPT_DEPTH,
	OPT_QUIET,
	OPT_VERBOSE,
	OPT_NO_URING,
};

#define DEFAULT_BLOCK (4u << 20)
#define DEFAULT_DEPTH 8u
#define MAX_DEPTH 64u
#define MAX_BLOCK (1u << 30)

static const struct famrt_cli_opt cp_opts[] = {
	FAMRT_FS_OPT_ROWS,
	{ "mode", 'm', true, "MODE",
	  "copy in: the new file's mode (default: SRC's)", OPT_MODE },
	FAMRT_LAYOUT_OPT_ROWS(OPT_INTERLEAVE, OPT_CHUNK, OPT_DEVICES),
	{ "block", 0, true, "BYTES",
	  "bytes per read or write (default 4M, at most 1G)", OPT_BLOCK },
	{ "depth", 0, true, "N", "reads or writes in flight (default 8)",
	  OPT_DEPTH },
	{ "no-uring", 0, false, NULL,
	  "pread/pwrite instead of io_uring (to compare)", OPT_NO_URING },
	{ "quiet", 'q', false, NULL, "no progress bar", OPT_QUIET },
	{ "verbose", 'v', false, NULL,
	  "say how many bytes were copied, how fast", OPT_VERBOSE },
	{ NULL, 0, false, NULL, NULL, 0 },
};

const struct famrt_cli_spec famrt_cp_spec = {
	.path = "famrt cp",
	.args = "SRC DST",
	.summary = "Copy an ordinary file into a famrt file system, or out.",
	.details =
		"A famrt path starts with ':' (:/dir/file); any other path is\n"
		"an ordinary file (write ./:name for a local file whose name\n"
		"starts with ':'). Exactly one of SRC and DST is a famrt path.\n"
		"In: SRC must be a regular file. The famrt file is made with\n"
		"its size and mode (less the umask; --mode to choose) and the\n"
		"layout asked for, then filled. famrt files are immutable once\n"
		"made: an existing DST is refused (exit 4). A DST that is a\n"
		"directory or ends in '/' gets SRC's name.\n"
		"Out: an ordinary DST is created or truncated (a directory\n"
		"gets the famrt file's name).\n"
		"The data moves with io_uring: up to --depth reads (in) or\n"
		"writes (out) of --block bytes in flight, straight between the\n"
		"ordinary file and the device mapping; each piece read in is\n"
		"flushed to the memory, and on memory that is not coherent\n"
		"each piece is invalidated before it is written out. A\n"
		"progress bar goes to stderr when it is a terminal.\n"
		"If copying in fails after the file was made, the message says\n"
		"so: the file stays, with incomplete data.\n",
	.opts = cp_opts,
	.examples =
		"famrt cp --fs /dev/dax0.0,/dev/dax1.0 ./data.bin :/data/\n"
		"famrt cp ./data.bin :/data/data.bin --interleave 0\n"
		"famrt cp :/data/data.bin ./copy.bin\n",
};

/* ---- the transfer ---- */

struct xfer {
	int fd;           /* the ordinary file */
	bool in;          /* ordinary file -> famrt */
	bool noncoherent;
	uint8_t *base[FAMRT_MAX_DEVS];
	const struct famrt_fmap *map;
	uint64_t size;
	uint32_t block, depth;
	bool no_uring;
	/* progress */
	bool bar;
	uint64_t done;
	double t0, shown;
	/* error */
	char what[256];
};

struct piece {
	uint8_t *addr;
	uint64_t off;   /* file offset */
	uint32_t len;
	uint32_t done;
	bool busy;
};

/* Pieces of at most x->block bytes, in file order, from the fmap's runs. */
struct cutter {
	struct famrt_fmap_iter it;
	struct famrt_fmap_run run; /* what is left of the current run */
	bool have;
};

static bool next_piece(struct xfer *x, struct cutter *c, struct piece *p)
{
	if (!c->have || !c->run.len) {
		c->have = famrt_fmap_iter_next(&c->it, &c->run);
		if (!c->have)
			return false;
	}
	p->addr = x->base[c->run.dev] + c->run.dev_off;
	p->off = c->run.file_off;
	p->len = (uint32_t)(c->run.len < x->block ? c->run.len : x->block);
	p->done = 0;
	c->run.file_off += p->len;
	c->run.dev_off += p->len;
	c->run.len -= p->len;
	return true;
}

static void progress(struct xfer *x, bool final)
{
	char h1[FAMRT_SIZE_HUMAN_MAX], h2[FAMRT_SIZE_HUMAN_MAX], r[32];
	double now;

	if (!x->bar)
		return;
	now = famrt_now_s();
	if (!final && now - x->shown < 0.1)
		return;
	x->shown = now;
	famrt_rate_string(x->done, now - x->t0, r);
	fprintf(stderr, "\r%3u%% %s / %s  %s   ",
		(unsigned)(x->size ? x->done * 100 / x->size : 100),
		famrt_size_human(x->done, h1), famrt_size_human(x->size, h2),
		r);
	if (final)
		fputc('\n', stderr);
}

static void populate(const struct xfer *x, const struct piece *p)
{
	famrt_populate(p->addr, p->len, x->in);
}

static void piece_complete(struct xfer *x, struct piece *p)
{
	if (x->in)
		famrt_flush_range(p->addr, p->len);
	x->done += p->len;
	p->busy = false;
	progress(x, false);
}

static void prep(struct xfer *x, struct io_uring_sqe *sqe, struct piece *p,
		 unsigned slot)
{
	uint8_t *a = p->addr + p->done;
	unsigned n = p->len - p->done;
	uint64_t off = p->off + p->done;

	if (x->in)
		io_uring_prep_read(sqe, x->fd, a, n, off);
	else
		io_uring_prep_write(sqe, x->fd, a, n, off);
	io_uring_sqe_set_data64(sqe, slot);
}

static int copy_uring(struct xfer *x, struct io_uring *ring)
{
	struct piece slots[MAX_DEPTH];
	struct cutter c = { 0 };
	unsigned inflight = 0;
	int err = 0;

	memset(slots, 0, sizeof(slots));
	famrt_fmap_iter_init(&c.it, x->map, 0, x->size);
	for (;;) {
		struct io_uring_cqe *cqe;
		bool more = !err;
		int rc;

		/* Fill the free slots. */
		for (unsigned s = 0; more && s < x->depth; s++) {
			struct io_uring_sqe *sqe;

			if (slots[s].busy)
				continue;
			if (!next_piece(x, &c, &slots[s])) {
				more = false;
				break;
			}
			populate(x, &slots[s]);
			if (!x->in && x->noncoherent)
				famrt_invalidate_range(slots[s].addr,
						       slots[s].len);
			sqe = io_uring_get_sqe(ring);
			if (!sqe) { /* cannot happen: depth <= ring size */
				err = -EBUSY;
				snprintf(x->what, sizeof(x->what),
					 "io_uring submission queue full");
				break;
			}
			slots[s].busy = true;
			prep(x, sqe, &slots[s], s);
			inflight++;
		}
		if (!inflight)
			break;
		rc = io_uring_submit_and_wait(ring, 1);
		if (rc < 0 && rc != -EINTR) {
			/* Nothing more can be waited for: give up now. */
			snprintf(x->what, sizeof(x->what), "io_uring: %s",
				 strerror(-rc));
			return err ? err : rc;
		}
		while (io_uring_peek_cqe(ring, &cqe) == 0) {
			unsigned s = (unsigned)io_uring_cqe_get_data64(cqe);
			struct piece *p = &slots[s];
			int res = cqe->res;

			io_uring_cqe_seen(ring, cqe);
			inflight--;
			if (res == -EINTR || res == -EAGAIN) {
				res = 0; /* try the same again */
			} else if (res <= 0) {
				if (!err) {
					err = res < 0 ? res : -EIO;
					snprintf(x->what, sizeof(x->what),
						 "%s at offset %" PRIu64 ": %s",
						 x->in ? "reading" : "writing",
						 p->off + p->done,
						 res < 0 ? strerror(-res) :
						 x->in ? "the file ended early "
							 "(it shrank)" :
							 "nothing written");
				}
				p->busy = false;
				continue;
			}
			p->done += (uint32_t)res;
			if (err) {
				p->busy = false;
				continue;
			}
			if (p->done < p->len) { /* short: the rest again */
				struct io_uring_sqe *sqe =
					io_uring_get_sqe(ring);

				if (sqe) {
					prep(x, sqe, p, s);
					inflight++;
					continue;
				}
				err = -EBUSY;
				p->busy = false;
				continue;
			}
			piece_complete(x, p);
		}
	}
	return err;
}

/* Without io_uring (a kernel or sandbox that refuses it): pread/pwrite. */
static int copy_plain(struct xfer *x)
{
	struct cutter c = { 0 };
	struct piece p;

	famrt_fmap_iter_init(&c.it, x->map, 0, x->size);
	while (next_piece(x, &c, &p)) {
		populate(x, &p);
		if (!x->in && x->noncoherent)
			famrt_invalidate_range(p.addr, p.len);
		while (p.done < p.len) {
			ssize_t n = x->in ? pread(x->fd, p.addr + p.done,
						  p.len - p.done,
						  (off_t)(p.off + p.done)) :
					    pwrite(x->fd, p.addr + p.done,
						   p.len - p.done,
						   (off_t)(p.off + p.done));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				int err = n < 0 ? errno : EIO;

				snprintf(x->what, sizeof(x->what),
					 "%s at offset %" PRIu64 ": %s",
					 x->in ? "reading" : "writing",
					 p.off + p.done,
					 n < 0 ? strerror(err) :
						 "the file ended early (it "
						 "shrank)");
				return -err;
			}
			p.done += (uint32_t)n;
		}
		piece_complete(x, &p);
	}
	return 0;
}

static int transfer(struct xfer *x)
{
	struct io_uring ring;
	int rc;

	x->t0 = famrt_now_s();
	rc = x->no_uring ? -ENOSYS : io_uring_queue_init(x->depth * 2, &ring, 0);
	if (rc == -ENOSYS || rc == -EPERM || rc == -EACCES) {
		rc = copy_plain(x);
	} else if (rc < 0) {
		snprintf(x->what, sizeof(x->what), "io_uring setup: %s",
			 strerror(-rc));
		return rc;
	} else {
		rc = copy_uring(x, &ring);
		io_uring_queue_exit(&ring);
	}
	if (!rc)
		progress(x, true);
	else if (x->bar)
		fputc('\n', stderr);
	return rc;
}

/* ---- the command ---- */

struct cp_opts {
	struct famrt_fsopt fo;
	struct famrt_layout_opt lo;
	uint32_t mode;
	bool mode_set, quiet, verbose, no_uring;
	uint32_t block, depth;
};

static int map_file(const struct famrt_cli_spec *spec,
		    struct famrt_backend *be, const char *path,
		    const struct famrt_proto_attr *a, bool writable,
		    struct xfer *x, struct famrt_fmap **mapp)
{
	struct famrt_err e;
	uint8_t *msg = malloc(FAMRT_FMAP_MSG_MAX);
	uint32_t maxdev;
	size_t len;
	int rc;

	*mapp = NULL;
	if (!msg)
		return famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				      "out of memory");
	famrt_err_clear(&e);
	rc = famrt_backend_get_fmap(be, a->ino, msg, FAMRT_FMAP_MSG_MAX, &len,
				    &e);
	if (rc) {
		free(msg);
		return famrt_cmd_fail(spec, rc, &e);
	}
	rc = famrt_cmd_decode_fmap(spec, be, path, msg, len, mapp);
	free(msg);
	if (rc)
		return rc;
	maxdev = famrt_fmap_max_devindex(*mapp);
	for (uint32_t i = 0; i <= maxdev; i++) {
		struct famrt_backend_map m;

		rc = famrt_backend_device_map(be, i, &m, &e);
		if (rc)
			return famrt_cmd_fail(spec, rc, &e);
		if (writable && !m.writable)
			return famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					      "device %u is mapped read-only",
					      i);
		x->base[i] = m.base;
	}
	x->map = *mapp;
	x->size = a->size;
	return 0;
}

static void report(const struct xfer *x, const struct cp_opts *o,
		   const char *src, const char *dst)
{
	char h[FAMRT_SIZE_HUMAN_MAX], r[32];
	double t = famrt_now_s() - x->t0;

	if (!o->verbose)
		return;
	famrt_rate_string(x->size, t, r);
	fprintf(stderr, "'%s' -> '%s': %" PRIu64 " bytes (%s) in %.3f s, %s\n",
		src, dst, x->size, famrt_size_human(x->size, h), t, r);
}

static int copy_in(const struct famrt_cli_spec *spec, struct cp_opts *o,
		   const char *src, const char *dst_arg)
{
	struct famrt_backend *be = NULL;
	struct famrt_fmap *map = NULL;
	struct famrt_proto_attr a;
	struct famrt_err e;
	struct xfer x = { 0 };
	struct stat st;
	char dst[FAMRT_CMD_PATH_MAX];
	bool want_dir = dst_arg[strlen(dst_arg) - 1] == '/';
	uint32_t mode;
	int ret, rc, fd;

	ret = famrt_cmd_fspath(spec, dst_arg, dst, sizeof(dst));
	if (ret)
		return ret;
	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				      "cannot open '%s': %s", src,
				      strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				     "'%s' is not a regular file: its size "
				     "is needed before the famrt file is made",
				     src);
		goto out;
	}
	ret = famrt_cmd_open(spec, &o->fo, false, &be);
	if (ret)
		goto out;
	famrt_err_clear(&e);
	rc = famrt_backend_lookup(be, dst, &a, &e);
	if (!rc && S_ISDIR(a.mode)) {
		const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 :
						       src;
		size_t n = strlen(dst);

		if (n + 1 + strlen(base) >= sizeof(dst)) {
			ret = famrt_cli_fail(FAMRT_EXIT_REFUSED, spec->path,
					     "'%s/%s' is too long", dst, base);
			goto out;
		}
		snprintf(dst + n, sizeof(dst) - n, "%s%s",
			 n > 1 ? "/" : "", base);
		rc = famrt_backend_lookup(be, dst, &a, &e);
	} else if (rc == -ENOENT && want_dir) {
		ret = famrt_cli_fail(FAMRT_EXIT_REFUSED, spec->path,
				     "':%s' is not a directory of the file "
				     "system",
				     dst);
		goto out;
	}
	if (!rc) {
		ret = famrt_cli_fail(FAMRT_EXIT_REFUSED, spec->path,
				     "':%s' exists: famrt files are immutable "
				     "once made and cannot be overwritten",
				     dst);
		goto out;
	}
	if (rc != -ENOENT) {
		ret = famrt_cmd_fail(spec, rc, &e);
		goto out;
	}
	if (o->mode_set) {
		mode = o->mode;
	} else {
		mode_t mask = umask(0);

		umask(mask);
		mode = (uint32_t)(st.st_mode & 0777 & ~mask);
	}
	rc = famrt_backend_create(be, dst, mode, (uint64_t)st.st_size,
				  &o->lo.lay, &a, &e);
	if (rc) {
		ret = famrt_cmd_fail(spec, rc, &e);
		goto out;
	}
	ret = map_file(spec, be, dst, &a, true, &x, &map);
	if (ret)
		goto incomplete;
	x.fd = fd;
	x.in = true;
	x.noncoherent = be->info.noncoherent;
	x.block = o->block;
	x.depth = o->depth;
	x.no_uring = o->no_uring;
	x.bar = !o->quiet && isatty(STDERR_FILENO);
	rc = transfer(&x);
	if (rc) {
		ret = famrt_cli_fail(famrt_exit_for(rc) == FAMRT_EXIT_REFUSED ?
					     FAMRT_EXIT_SYSTEM :
					     famrt_exit_for(rc),
				     spec->path, "'%s': %s", src, x.what);
		goto incomplete;
	}
	{
		char shown[FAMRT_CMD_PATH_MAX + 1];

		snprintf(shown, sizeof(shown), ":%s", dst);
		report(&x, o, src, shown);
	}
	ret = FAMRT_EXIT_OK;
	goto out;
incomplete:
	fprintf(stderr,
		"%s: the famrt file ':%s' was made but its data is "
		"incomplete\n",
		spec->path, dst);
out:
	famrt_fmap_free(map);
	famrt_backend_close(be);
	close(fd);
	return ret;
}

static int copy_out(const struct famrt_cli_spec *spec, struct cp_opts *o,
		    const char *src_arg, const char *dst_arg)
{
	struct famrt_backend *be = NULL;
	struct famrt_fmap *map = NULL;
	struct famrt_proto_attr a;
	struct famrt_err e;
	struct xfer x = { 0 };
	struct stat st;
	char src[FAMRT_CMD_PATH_MAX], *dst = NULL;
	int ret, rc, fd = -1;

	ret = famrt_cmd_fspath(spec, src_arg, src, sizeof(src));
	if (ret)
		return ret;
	ret = famrt_cmd_open(spec, &o->fo, true, &be);
	if (ret)
		return ret;
	famrt_err_clear(&e);
	rc = famrt_backend_lookup(be, src, &a, &e);
	if (!rc && !S_ISREG(a.mode))
		rc = famrt_err_set(&e, EISDIR,
				   "':%s' is a directory (cp copies files)",
				   src);
	if (rc) {
		ret = famrt_cmd_fail(spec, rc, &e);
		goto out;
	}
	ret = map_file(spec, be, src, &a, false, &x, &map);
	if (ret)
		goto out;
	if (!stat(dst_arg, &st) && S_ISDIR(st.st_mode)) {
		if (asprintf(&dst, "%s/%s", dst_arg, famrt_path_base(src)) <
		    0) {
			dst = NULL;
			ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					     "out of memory");
			goto out;
		}
	} else {
		dst = strdup(dst_arg);
		if (!dst) {
			ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					     "out of memory");
			goto out;
		}
	}
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  (mode_t)(a.mode & 0777));
	if (fd < 0) {
		ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				     "cannot create '%s': %s", dst,
				     strerror(errno));
		goto out;
	}
	x.fd = fd;
	x.in = false;
	x.noncoherent = be->info.noncoherent;
	x.block = o->block;
	x.depth = o->depth;
	x.no_uring = o->no_uring;
	x.bar = !o->quiet && isatty(STDERR_FILENO);
	rc = transfer(&x);
	if (!rc && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size != x.size && ftruncate(fd, (off_t)x.size))
		rc = -errno;
	if (rc) {
		ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path, "'%s': %s",
				     dst, x.what[0] ? x.what : strerror(-rc));
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				     "writing '%s': %s", dst, strerror(errno));
		goto out;
	}
	fd = -1;
	report(&x, o, src_arg, dst);
	ret = FAMRT_EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	free(dst);
	famrt_fmap_free(map);
	famrt_backend_close(be);
	return ret;
}

int famrt_cmd_cp(int argc, char **argv)
{
	const struct famrt_cli_spec *spec = &famrt_cp_spec;
	struct famrt_cli_getopt g = { 0 };
	struct cp_opts o = { .block = DEFAULT_BLOCK, .depth = DEFAULT_DEPTH };
	const char *src, *dst;
	bool src_fam, dst_fam;
	uint64_t v;
	int c, ret;

	while ((c = famrt_cli_getopt(&g, spec, argc, argv)) != -1) {
		if (famrt_fsopt_take(&o.fo, c, g.arg))
			continue;
		switch (c) {
		case FAMRT_CLI_HELP:
			return FAMRT_EXIT_OK;
		case FAMRT_CLI_ERROR:
			return FAMRT_EXIT_USAGE;
		case OPT_MODE:
			ret = famrt_cmd_mode(spec, g.arg, &o.mode);
			if (ret)
				return ret;
			o.mode_set = true;
			break;
		case OPT_INTERLEAVE:
		case OPT_CHUNK:
		case OPT_DEVICES:
			ret = famrt_layout_opt_parse(spec, &o.lo,
						     c - OPT_INTERLEAVE, g.arg);
			if (ret)
				return ret;
			break;
		case OPT_BLOCK:
			if (famrt_size_parse(g.arg, &v) || v < 4096 ||
			    v > MAX_BLOCK)
				return famrt_cli_usage_error(
					spec, "--block '%s': 4K to 1G", g.arg);
			o.block = (uint32_t)v;
			break;
		case OPT_DEPTH:
			if (famrt_size_parse(g.arg, &v) || !v ||
			    v > MAX_DEPTH)
				return famrt_cli_usage_error(
					spec, "--depth '%s': 1 to %u", g.arg,
					MAX_DEPTH);
			o.depth = (uint32_t)v;
			break;
		case OPT_QUIET:
			o.quiet = true;
			break;
		case OPT_VERBOSE:
			o.verbose = true;
			break;
		case OPT_NO_URING:
			o.no_uring = true;
			break;
		}
	}
	if (argc - optind < 2)
		return famrt_cli_usage_error(spec, "SRC and DST are needed");
	if (argc - optind > 2)
		return famrt_cli_usage_error(spec, "unexpected argument '%s'",
					     argv[optind + 2]);
	src = argv[optind];
	dst = argv[optind + 1];
	if (!*src || !*dst)
		return famrt_cli_usage_error(spec, "an empty path");
	src_fam = src[0] == ':';
	dst_fam = dst[0] == ':';
	if (src_fam && dst_fam)
		return famrt_cli_usage_error(spec,
					     "both paths are famrt paths: copy "
					     "out, then in");
	if (!src_fam && !dst_fam)
		return famrt_cli_usage_error(spec,
					     "one of SRC and DST must be a "
					     "famrt path, written :/dir/file");
	ret = famrt_layout_opt_check(spec, &o.lo);
	if (ret)
		return ret;
	if (src_fam && (o.lo.lay.kind != FAMRT_LAYOUT_SIMPLE ||
			o.lo.devices_set || o.mode_set))
		return famrt_cli_usage_error(spec,
					     "--mode, --interleave, --chunk and "
					     "--devices are for copying in");
	if (!famrt_fsopt_spec(spec, &o.fo, &ret))
		return ret;
	return dst_fam ? copy_in(spec, &o, src, dst) :
			 copy_out(spec, &o, src, dst);
}

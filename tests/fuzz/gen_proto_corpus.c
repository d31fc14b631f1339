/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Write the seed corpus of fuzz_proto: one valid request of every
 * operation, valid replies of every kind, and a few broken ones, each
 * behind fuzz_proto's selector byte, all made with the protocol's own
 * encoders so that the seeds follow the format as it is.
 *
 *   gen_proto_corpus DIR      (DIR is tests/fuzz/corpus/proto)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_proto_input.h"
#include "proto/proto.h"

#define SEL_REQ FUZZ_PROTO_REQUEST
#define SEL_FIX FUZZ_PROTO_FLAG
#define SEL_ATTR FUZZ_PROTO_ATTR
#define SEL_HELLO FUZZ_PROTO_HELLO
#define SEL_DEVICES FUZZ_PROTO_DEVICES
#define SEL_STATFS FUZZ_PROTO_STATFS
#define SEL_ERROR FUZZ_PROTO_ERROR
#define SEL_READDIR FUZZ_PROTO_READDIR

static const char *outdir;
static uint8_t buf[FAMRT_PROTO_MSG_MAX];
static int failures;

static void put(const char *name, unsigned sel, const uint8_t *p, ssize_t n)
{
	char path[4096];
	FILE *f;

	if (n < 0) {
		fprintf(stderr, "gen_proto_corpus: %s: encoder failed: %s\n",
			name, strerror((int)-n));
		failures++;
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f || fputc((int)sel, f) == EOF ||
	    fwrite(p, 1, (size_t)n, f) != (size_t)n || fclose(f)) {
		fprintf(stderr, "gen_proto_corpus: cannot write %s\n", path);
		exit(1);
	}
}

/* A reply body built with the service's helpers. */
static struct famrt_msg m;

static void body_begin(void)
{
	famrt_msg_init(&m, buf, sizeof(buf));
}

static void body_put(const char *name, unsigned sel)
{
	if (m.overflow) {
		fprintf(stderr, "gen_proto_corpus: %s overflows\n", name);
		failures++;
		return;
	}
	put(name, sel, buf + FAMRT_PROTO_HDR_SIZE,
	    (ssize_t)(m.len - FAMRT_PROTO_HDR_SIZE));
}

int main(int argc, char **argv)
{
	struct famrt_proto_create_req c = { 0 };
	ssize_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_proto_corpus DIR\n");
		return 2;
	}
	outdir = argv[1];

	/* Requests. */
	put("req-hello", SEL_REQ,
	    buf, famrt_proto_hello_req_encode(buf, sizeof(buf), 1));
	put("req-devices", SEL_REQ, buf,
	    famrt_proto_simple_req_encode(buf, sizeof(buf), FAMRT_OP_DEVICES,
					  2));
	put("req-statfs", SEL_REQ, buf,
	    famrt_proto_simple_req_encode(buf, sizeof(buf), FAMRT_OP_STATFS,
					  3));
	put("req-lookup", SEL_REQ, buf,
	    famrt_proto_path_req_encode(buf, sizeof(buf), FAMRT_OP_LOOKUP, 4,
					"/data/set-1/part.0"));
	put("req-lookup-root", SEL_REQ, buf,
	    famrt_proto_path_req_encode(buf, sizeof(buf), FAMRT_OP_LOOKUP, 5,
					"/"));
	put("req-getattr", SEL_REQ, buf,
	    famrt_proto_ino_req_encode(buf, sizeof(buf), FAMRT_OP_GETATTR, 6,
				       1));
	put("req-get-fmap", SEL_REQ, buf,
	    famrt_proto_ino_req_encode(buf, sizeof(buf), FAMRT_OP_GET_FMAP, 7,
				       42));
	put("req-readdir", SEL_REQ, buf,
	    famrt_proto_readdir_req_encode(buf, sizeof(buf), 8, 1, 0, 240));
	c.mode = 0644;
	c.layout = 1;
	c.size = 64ull << 20;
	c.nstrips = 4;
	c.chunk = 2u << 20;
	c.ndevs = 2;
	c.devs[0] = 1;
	c.devs[1] = 0;
	put("req-create", SEL_REQ, buf,
	    famrt_proto_create_req_encode(buf, sizeof(buf), 9, &c,
					  "/data/new-file"));
	put("req-mkdir", SEL_REQ, buf,
	    famrt_proto_mkdir_req_encode(buf, sizeof(buf), 10, 0755,
					 "/data/dir"));
	put("req-open", SEL_REQ, buf,
	    famrt_proto_open_req_encode(buf, sizeof(buf), 20, "/data/file",
					FAMRT_OPEN_READ | FAMRT_OPEN_WRITE));
	put("req-begin", SEL_REQ, buf,
	    famrt_proto_begin_req_encode(buf, sizeof(buf), 21, 0644,
					 "/data/growing"));
	put("req-alloc", SEL_REQ, buf,
	    famrt_proto_alloc_req_encode(buf, sizeof(buf), 22, 3,
					 8u << 20));
	{
		struct famrt_proto_commit_req cm = {
			.handle = 3, .size = 5000000,
			.mode = FAMRT_COMMIT_KEEP_MODE,
		};

		put("req-commit", SEL_REQ, buf,
		    famrt_proto_commit_req_encode(buf, sizeof(buf), 23, &cm));
	}
	put("req-abort", SEL_REQ, buf,
	    famrt_proto_ino_req_encode(buf, sizeof(buf), FAMRT_OP_ABORT, 24,
				       3));
	/* Broken requests: the selector asks to fix magic and length. */
	n = famrt_proto_mkdir_req_encode(buf, sizeof(buf), 11, 0755, "/a");
	buf[n - 1] = '.';
	buf[n - 2] = '/';
	put("req-mkdir-dot-fix", SEL_REQ | SEL_FIX, buf, n);
	n = famrt_proto_path_req_encode(buf, sizeof(buf), FAMRT_OP_LOOKUP, 12,
					"/x//y");
	put("req-lookup-empty-component", SEL_REQ, buf, n);
	n = famrt_proto_simple_req_encode(buf, sizeof(buf), 99, 13);
	put("req-unknown-op", SEL_REQ, buf, n);
	n = famrt_proto_ino_req_encode(buf, sizeof(buf), FAMRT_OP_GETATTR, 14,
				       2);
	put("req-getattr-short-fix", SEL_REQ | SEL_FIX, buf, n - 1);
	memset(buf, 0, 64);
	put("req-zeros", SEL_REQ, buf, 64);

	/* Replies (bodies). */
	{
		struct famrt_proto_attr a = {
			.ino = 5, .parent = 1, .mode = 0100644, .uid = 1000,
			.gid = 1000, .nlink = 1, .size = 123456,
			.alloc_bytes = 2u << 20,
			.mtime_ns = 1700000000000000000ull,
		};

		body_begin();
		famrt_proto_attr_put(&m, &a);
		body_put("rep-attr", SEL_ATTR);
	}
	{
		struct famrt_proto_hello_rep h = {
			.version = 1, .flags = FAMRT_HELLO_MASTER,
			.server_pid = 4242, .ndevs = 2, .alloc_unit = 2u << 20,
		};

		memset(h.fs_uuid, 0xab, sizeof(h.fs_uuid));
		snprintf(h.fs_name, sizeof(h.fs_name), "famrt");
		snprintf(h.host_id, sizeof(h.host_id), "host-a");
		snprintf(h.master, sizeof(h.master), "host-a");
		body_begin();
		famrt_proto_hello_put(&m, &h);
		body_put("rep-hello", SEL_HELLO);
	}
	{
		static struct famrt_proto_devices_rep d;

		d.ndevs = 2;
		for (uint32_t i = 0; i < 2; i++) {
			d.dev[i].index = i;
			d.dev[i].access = FAMRT_DEV_ACCESS_RW;
			d.dev[i].size = 1ull << 30;
			d.dev[i].align = 2u << 20;
			d.dev[i].numa_node = i ? -1 : 0;
			memset(d.dev[i].uuid, (int)(0x10 + i), 16);
		}
		body_begin();
		famrt_proto_devices_put(&m, &d);
		body_put("rep-devices", SEL_DEVICES);
	}
	{
		struct famrt_proto_statfs_rep s = {
			.size = 1ull << 30, .free = 1ull << 29,
			.largest_free = 1ull << 28, .free_runs = 3, .files = 10,
			.dirs = 2, .log_used = 4096, .log_size = 1u << 20,
			.entries = 12, .alloc_unit = 2u << 20, .ndevs = 1,
		};

		body_begin();
		famrt_proto_statfs_put(&m, &s);
		body_put("rep-statfs", SEL_STATFS);
	}
	{
		struct famrt_proto_attr a = { .ino = 9, .parent = 1,
					      .mode = 0100644, .nlink = 1,
					      .size = 4096 };
		static const uint8_t fmap[56] = {
			0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
			0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			/* one simple extent: device 0, offset 2 MiB, 2 MiB */
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0,
			0, 0, 0x20, 0, 0, 0, 0, 0,
		};
		struct famrt_fmap_strip x[2] = {
			{ .devindex = 0, .offset = 2u << 20, .len = 2u << 20 },
			{ .devindex = 1, .offset = 0, .len = 4u << 20 },
		};

		body_begin();
		famrt_proto_attr_put(&m, &a);
		famrt_msg_bytes(&m, fmap, sizeof(fmap));
		body_put("rep-open-file", FUZZ_PROTO_OPEN);
		a.mode = 040755;
		body_begin();
		famrt_proto_attr_put(&m, &a);
		body_put("rep-open-dir", FUZZ_PROTO_OPEN);
		body_begin();
		famrt_proto_extents_put(&m, x, 2);
		body_put("rep-alloc-extents", FUZZ_PROTO_EXTENTS);
	}
	n = famrt_proto_error_encode(buf, sizeof(buf), FAMRT_OP_LOOKUP, 1,
				     -ENOENT, "'/x' does not exist");
	put("rep-error", SEL_ERROR | 3u << FUZZ_PROTO_ERRSIZE_SHIFT,
	    buf + FAMRT_PROTO_HDR_SIZE, n - FAMRT_PROTO_HDR_SIZE);
	put("rep-error-cut", SEL_ERROR | 1u << FUZZ_PROTO_ERRSIZE_SHIFT,
	    buf + FAMRT_PROTO_HDR_SIZE, n - FAMRT_PROTO_HDR_SIZE);
	{
		static const char *const names[] = { "a", "file.txt",
						     "a-name-of-17-byte" };

		body_begin();
		famrt_msg_u64(&m, 17);
		famrt_msg_u32(&m, 3);
		famrt_msg_u32(&m, 0);
		for (uint32_t i = 0; i < 3; i++) {
			struct famrt_proto_dirent d = {
				.ino = 2 + i, .mode = i ? 0100644 : 040755,
				.name_len = (uint16_t)strlen(names[i]),
				.name = names[i],
			};

			famrt_proto_dirent_put(&m, &d);
		}
		body_put("rep-readdir", SEL_READDIR);
		body_put("rep-readdir-stop", SEL_READDIR | FUZZ_PROTO_FLAG);
		m.len -= 8; /* cut the last entry short */
		body_put("rep-readdir-truncated", SEL_READDIR);
	}
	return failures ? 1 : 0;
}

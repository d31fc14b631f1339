/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Write the seed corpus of fuzz_log (input format in fuzz_log_input.h):
 * hand-made record streams for each replay rule (overlap, missing parent,
 * unknown types and flags, torn and damaged entries, lying and damaged
 * tails, added devices, entries appended after the open); the entries a
 * real writer (famrt_fs_mkdir/create/add_device on a file system of the
 * same geometry) puts in its log, as records and as a raw log region; and
 * inputs for each decoder. The real writer's seeds carry a fresh uuid and
 * the time, so they differ from one run to the next; the others do not.
 *
 *   gen_log_corpus DIR      (DIR is tests/fuzz/corpus/log)
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_log_input.h"
#include "meta/fs.h"

static const char *outdir;

/* An input being built. */
static uint8_t in[1 << 20];
static size_t n;

static void b8(unsigned v)
{
	in[n++] = (uint8_t)v;
}

static void b16(unsigned v)
{
	b8(v & 0xff);
	b8(v >> 8);
}

static void bytes(const void *p, size_t len)
{
	memcpy(in + n, p, len);
	n += len;
}

static void begin(unsigned mode, unsigned arg)
{
	n = 0;
	b8(mode);
	b8(arg);
}

static void save(const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(in, 1, n, f) != n || fclose(f)) {
		fprintf(stderr, "gen_log_corpus: cannot write %s\n", path);
		exit(1);
	}
}

/* ---- records ---- */

static void rec_raw(unsigned ctl, unsigned type, const void *p, size_t len)
{
	b8(ctl);
	b8(type);
	b16((unsigned)len);
	bytes(p, len);
}

static void rec_mkdir(unsigned ctl, const char *path)
{
	rec_raw(ctl | FUZZ_LOG_CTL_BUILD, FAMRT_ENTRY_MKDIR, path,
		strlen(path));
}

/*
 * A create with simple extents: (dev, offset units, length units) each;
 * the fmap's file type is ftype.
 */
static void rec_create_type(unsigned ctl, const char *path, unsigned size512,
			    unsigned ftype, unsigned next,
			    const unsigned (*ext)[3])
{
	size_t at;

	b8(ctl | FUZZ_LOG_CTL_BUILD);
	b8(FAMRT_ENTRY_CREATE);
	at = n;
	b16(0);
	b8((unsigned)strlen(path));
	bytes(path, strlen(path));
	b16(size512);
	b8(ftype << 5 | (next - 1));
	for (unsigned i = 0; i < next; i++) {
		b8(ext[i][0]);
		b16(ext[i][1]);
		b8(ext[i][2] - 1);
	}
	in[at] = (uint8_t)(n - at - 2);
	in[at + 1] = (uint8_t)((n - at - 2) >> 8);
}

static void rec_create(unsigned ctl, const char *path, unsigned size512,
		       unsigned next, const unsigned (*ext)[3])
{
	rec_create_type(ctl, path, size512, 0, next, ext);
}

/* One interleaved extent over devices 0 and 1, chunk 1 unit. */
static void rec_create_ilv(unsigned ctl, const char *path, unsigned off0,
			   unsigned off1, unsigned units)
{
	size_t at;

	b8(ctl | FUZZ_LOG_CTL_BUILD);
	b8(FAMRT_ENTRY_CREATE);
	at = n;
	b16(0);
	b8((unsigned)strlen(path));
	bytes(path, strlen(path));
	b16(units * 2 * 8); /* both strips full */
	b8(0x80);           /* interleaved, one extent */
	b8(1);              /* two strips */
	b8(0);              /* chunk: one unit */
	b16(units * 2);     /* nbytes */
	b8(0);
	b16(off0);
	b8(units - 1);
	b8(1);
	b16(off1);
	b8(units - 1);
	in[at] = (uint8_t)(n - at - 2);
	in[at + 1] = (uint8_t)((n - at - 2) >> 8);
}

static void rec_add_device(unsigned ctl, unsigned idx, unsigned size_units,
			   unsigned align_log2, unsigned start_units)
{
	b8(ctl | FUZZ_LOG_CTL_BUILD);
	b8(FAMRT_ENTRY_ADD_DEVICE);
	b16(6);
	b8(idx);
	b16(size_units);
	b8(align_log2);
	b16(start_units);
}

static void hand_made(void)
{
	static const unsigned one[][3] = { { 0, 0, 1 } };
	static const unsigned two[][3] = { { 0, 4, 2 }, { 1, 0, 3 } };
	static const unsigned over[][3] = { { 0, 0, 2 } };
	static const unsigned out_of_dev[][3] = { { 1, 120, 8 } };
	static const unsigned dev2[][3] = { { 2, 0, 1 } };

	begin(FUZZ_LOG_RECORDS, 2);
	rec_mkdir(0, "/a");
	rec_create(FUZZ_LOG_CTL_TAIL, "/a/f", 8, 1, one);
	rec_create(0, "/a/g", 40, 2, two);
	rec_create_ilv(FUZZ_LOG_CTL_TAIL, "/a/i", 20, 10, 4);
	rec_mkdir(0, "/b");
	rec_mkdir(0, "/b/c");
	save("records-basic");

	begin(FUZZ_LOG_RECORDS, 1);
	rec_create(0, "/f", 8, 1, one);
	rec_create(0, "/overlaps-f", 16, 1, over);
	rec_create(0, "/past-device-end", 8, 1, out_of_dev);
	rec_create(0, "/f", 8, 1, two);
	rec_create(0, "/no/parent", 8, 1, two);
	rec_create(0, "/f/under-a-file", 8, 1, two);
	rec_mkdir(0, "/f");
	rec_mkdir(0, "relative");
	rec_mkdir(0, "/dot/.");
	rec_create(0, "/ok", 8, 1, two);
	save("records-skipped");

	/* Maps that are not of regular files are refused. */
	begin(FUZZ_LOG_RECORDS, 0);
	rec_create_type(0, "/sb", 8, FAMRT_FMAP_FILE_SUPERBLOCK, 1, one);
	rec_create_type(0, "/log", 8, FAMRT_FMAP_FILE_LOG, 1, one);
	rec_create_type(0, "/unknown", 8, 3, 1, one);
	rec_create(0, "/reg", 8, 1, one);
	save("records-create-not-regular");

	begin(FUZZ_LOG_RECORDS, 0);
	rec_mkdir(0, "/a");
	rec_raw(FUZZ_LOG_CTL_SKIPPABLE, 99, "future", 6);
	rec_mkdir(FUZZ_LOG_CTL_SKIPPABLE, "/b");
	save("records-unknown-skippable");

	begin(FUZZ_LOG_RECORDS, 3);
	rec_mkdir(0, "/a");
	rec_raw(0, 99, "future", 6);
	rec_mkdir(0, "/b");
	save("records-unknown-type");

	begin(FUZZ_LOG_RECORDS, 1);
	rec_mkdir(0, "/a");
	rec_mkdir(FUZZ_LOG_CTL_BAD_FLAGS, "/b");
	rec_mkdir(0, "/c");
	save("records-unknown-flags");

	begin(FUZZ_LOG_RECORDS, 3);
	rec_mkdir(FUZZ_LOG_CTL_TAIL, "/a");
	rec_mkdir(0, "/b");
	rec_mkdir(FUZZ_LOG_CTL_TORN, "/c");
	rec_mkdir(0, "/d");
	save("records-torn");

	begin(FUZZ_LOG_RECORDS, 1);
	rec_mkdir(0, "/a");
	rec_mkdir(FUZZ_LOG_CTL_BAD_CRC, "/b");
	rec_mkdir(FUZZ_LOG_CTL_TAIL, "/c");
	save("records-damaged-committed");

	begin(FUZZ_LOG_RECORDS, 4);
	rec_mkdir(0, "/a");
	rec_mkdir(FUZZ_LOG_CTL_BAD_SEQ, "/b");
	rec_mkdir(0, "/c");
	save("records-bad-seq");

	begin(FUZZ_LOG_RECORDS, 1);
	rec_mkdir(FUZZ_LOG_CTL_TAIL, "/a");
	rec_mkdir(FUZZ_LOG_CTL_TAIL | FUZZ_LOG_CTL_TAIL_X, "/b");
	save("records-tail-lies");

	begin(FUZZ_LOG_RECORDS, 2);
	rec_mkdir(FUZZ_LOG_CTL_TAIL, "/a");
	rec_mkdir(FUZZ_LOG_CTL_TAIL_X, "/b");
	rec_mkdir(FUZZ_LOG_CTL_TAIL_X, "/c");
	save("records-damaged-tail-slots");

	begin(FUZZ_LOG_RECORDS, 1);
	rec_add_device(0, 2, 64, 12, 1);
	rec_create(0, "/on-dev2", 8, 1, dev2);
	rec_add_device(0, 4, 64, 12, 1);
	rec_add_device(0, 3, 64, 30, 1);
	rec_add_device(0, 3, 2, 12, 5);
	save("records-add-device");
}

/* ---- a real writer ---- */

static int memfd(const char *name, size_t size, char *path, size_t plen)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		perror("gen_log_corpus: memfd");
		exit(1);
	}
	snprintf(path, plen, "/proc/self/fd/%d", fd);
	return fd;
}

static void die(const char *what, const struct famrt_err *e)
{
	fprintf(stderr, "gen_log_corpus: %s: %s\n", what, e->msg);
	exit(1);
}

static void real_writer(void)
{
	static const struct famrt_fs_opts fo = { .host_id = FUZZ_LOG_MASTER };
	struct famrt_mkfs_opts mo = {
		.name = "fuzz", .alloc_unit = FUZZ_LOG_UNIT,
		.log_size = FUZZ_LOG_LOG_SIZE, .master = FUZZ_LOG_MASTER,
	};
	struct famrt_alloc_layout ilv = { .kind = FAMRT_LAYOUT_INTERLEAVE,
				    .chunk = FUZZ_LOG_UNIT };
	char p[3][64];
	const char *paths[3] = { p[0], p[1], p[2] };
	struct famrt_log_cursor c = { 0, 0 };
	struct famrt_entry_hdr h;
	const uint8_t *payload;
	struct famrt_fs *fs;
	struct famrt_err e;
	int fd0, rc;

	fd0 = memfd("gen-dev0", FUZZ_LOG_DEV0_SIZE, p[0], sizeof(p[0]));
	memfd("gen-dev1", FUZZ_LOG_DEV1_SIZE, p[1], sizeof(p[1]));
	memfd("gen-dev2", 256 * 1024, p[2], sizeof(p[2]));
	if (famrt_mkfs(paths, 2, &mo, NULL, &e))
		die("mkfs", &e);
	if (famrt_fs_open(&fs, paths, 2, &fo, &e))
		die("open", &e);
	if (famrt_fs_mkdir(fs, "/data", 0755, 1000, 1000, NULL, &e) ||
	    famrt_fs_create(fs, "/data/small", 0644, 1000, 1000, 100, NULL,
			    NULL, &e) ||
	    famrt_fs_create(fs, "/data/big", 0600, 0, 0, 300 * 1024, NULL,
			    NULL, &e) ||
	    famrt_fs_create(fs, "/data/striped", 0640, 0, 0, 64 * 1024, &ilv,
			    NULL, &e) ||
	    famrt_fs_mkdir(fs, "/data/sub", 0700, 0, 0, NULL, &e) ||
	    famrt_fs_create(fs, "/data/sub/empty", 0644, 0, 0, 0, NULL, NULL,
			    &e) ||
	    famrt_fs_add_device(fs, p[2], &e) ||
	    famrt_fs_create(fs, "/data/after-add", 0644, 0, 0, 20000, &ilv,
			    NULL, &e))
		die("writing", &e);

	/* Its entries as records, with the tail after every other one. */
	begin(FUZZ_LOG_RECORDS, 4);
	while ((rc = famrt_fs_log_next(fs, &c, &h, &payload, &e)) == 1)
		rec_raw(h.seq & 1 ? FUZZ_LOG_CTL_TAIL : 0, h.type, payload,
			h.len);
	if (rc)
		die("reading the log", &e);
	save("writer-records");

	/* Its log region, raw. */
	begin(FUZZ_LOG_RAW, 0);
	n = 1;
	bytes(fs->log, fs->pos + 8);
	save("writer-raw-log");

	/* Decoder inputs. */
	begin(FUZZ_LOG_DECODERS, FUZZ_LOG_DEC_SB);
	bytes(fs->dev[0].base, FAMRT_SB_SIZE);
	save("dec-superblock");
	begin(FUZZ_LOG_DECODERS, FUZZ_LOG_DEC_SB | FUZZ_LOG_DEC_FIX_CRC);
	bytes(fs->dev[0].base, 300);
	save("dec-superblock-short-fix");
	begin(FUZZ_LOG_DECODERS, FUZZ_LOG_DEC_LABEL);
	bytes(fs->dev[1].base, FAMRT_LABEL_SIZE);
	save("dec-label");
	begin(FUZZ_LOG_DECODERS, FUZZ_LOG_DEC_TAIL | FUZZ_LOG_DEC_FIX_CRC);
	bytes(fs->log, FAMRT_TAIL_SLOT_SIZE);
	save("dec-tail-fix");
	c = (struct famrt_log_cursor){ 0, 0 };
	for (int i = 0; famrt_fs_log_next(fs, &c, &h, &payload, &e) == 1;
	     i++) {
		static const char *const names[] = {
			[FAMRT_ENTRY_MKDIR] = "dec-payload-mkdir",
			[FAMRT_ENTRY_CREATE] = "dec-payload-create",
			[FAMRT_ENTRY_ADD_DEVICE] = "dec-payload-add-device",
		};
		static const unsigned dec[] = {
			[FAMRT_ENTRY_MKDIR] = FUZZ_LOG_DEC_MKDIR,
			[FAMRT_ENTRY_CREATE] = FUZZ_LOG_DEC_CREATE,
			[FAMRT_ENTRY_ADD_DEVICE] = FUZZ_LOG_DEC_ADD_DEVICE,
		};

		if (i == 1) {
			begin(FUZZ_LOG_DECODERS, FUZZ_LOG_DEC_ENTRY |
							 FUZZ_LOG_DEC_FIX_CRC);
			bytes(payload - FAMRT_ENTRY_HDR_SIZE,
			      famrt_entry_size(h.len));
			save("dec-entry-fix");
			begin(FUZZ_LOG_DECODERS, FUZZ_LOG_DEC_ENTRY);
			bytes(payload - FAMRT_ENTRY_HDR_SIZE,
			      famrt_entry_size(h.len));
			save("dec-entry-other-fs");
		}
		if (h.type >= 1 && h.type <= 3) {
			begin(FUZZ_LOG_DECODERS, dec[h.type]);
			bytes(payload, h.len);
			save(names[h.type]);
		}
	}
	famrt_fs_close(fs);
	close(fd0);
}

static void decoders(void)
{
	begin(FUZZ_LOG_DECODERS, FUZZ_LOG_DEC_PATH);
	bytes("/a/b/c", 6);
	save("dec-path");
	begin(FUZZ_LOG_DECODERS, FUZZ_LOG_DEC_PATH);
	bytes("/a/../b//", 9);
	save("dec-path-bad");
	begin(FUZZ_LOG_DECODERS, FUZZ_LOG_DEC_PATH);
	b8('/');
	for (int i = 0; i < 256; i++)
		b8('x');
	save("dec-path-long-component");
	begin(FUZZ_LOG_DECODERS, FUZZ_LOG_DEC_UUID);
	bytes("0f1e2d3c-4b5a-4697-a8b9-CADBECFD0E1F", 36);
	save("dec-uuid");
	/* Found by fuzzing: 32 hex digits and any 4 bytes passed. */
	begin(FUZZ_LOG_DECODERS, FUZZ_LOG_DEC_UUID);
	bytes("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbB1/", 36);
	save("dec-uuid-no-hyphens");
}

static void super(void)
{
	static const unsigned one[][3] = { { 0, 0, 1 } };

	/* Name changed in both copies, CRCs fixed: a valid superblock. */
	begin(FUZZ_LOG_SUPER,
	      FUZZ_LOG_SB_FIX_PRIMARY | FUZZ_LOG_SB_FIX_BACKUP);
	b8(2);
	b16(32);
	b8('G');
	b16(4096 + 32);
	b8('G');
	rec_mkdir(0, "/a");
	rec_create(0, "/a/f", 8, 1, one);
	save("super-renamed");

	/* Primary damaged (no CRC fix): the backup is used. */
	begin(FUZZ_LOG_SUPER, 0);
	b8(1);
	b16(100);
	b8(0x55);
	rec_mkdir(0, "/a");
	save("super-primary-damaged");

	/* One device fewer than given. */
	begin(FUZZ_LOG_SUPER,
	      FUZZ_LOG_SB_FIX_PRIMARY | FUZZ_LOG_SB_FIX_BACKUP);
	b8(2);
	b16(192);
	b8(1);
	b16(4096 + 192);
	b8(1);
	save("super-ndevs");

	/* Device 1's label says it is device 0. */
	begin(FUZZ_LOG_SUPER, FUZZ_LOG_SB_LABEL);
	b8(1);
	b16(12);
	b8(0);
	save("super-label-index");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_log_corpus DIR\n");
		return 2;
	}
	outdir = argv[1];
	hand_made();
	real_writer();
	decoders();
	super();
	return 0;
}

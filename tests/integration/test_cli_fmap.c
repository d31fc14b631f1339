/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt fmap inspect / encode, run as a program. Expected messages and runs
 * are computed here from the wire format doc, not by the library.
 */
#define _GNU_SOURCE /* posix_openpt, ptsname */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "json.h"

#define KiB UINT64_C(1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)

/* ---- a map as the test knows it ---- */

struct tstrip {
	uint32_t dev;
	uint64_t off, len;
};

struct text {
	uint32_t nstrips, chunk;
	uint64_t nbytes;
	struct tstrip s[8];
};

struct tmap {
	uint8_t ftype;
	bool ilv;
	uint64_t size;
	uint32_t n;
	struct text e[8];
};

/* The simple example of docs/examples/simple.txt. */
static const struct tmap map_simple = {
	.size = 10 * MiB, .n = 2,
	.e = { { .s = { { 0, 64 * MiB, 4 * MiB } } },
	       { .s = { { 0, 128 * MiB, 8 * MiB } } } },
};

/* The worked example of the format doc: N = 4, C = 2 MiB. */
static const struct tmap map_worked = {
	.ilv = true, .size = 32 * MiB, .n = 1,
	.e = { { .nstrips = 4, .chunk = 2 * MiB, .nbytes = 32 * MiB,
		 .s = { { 0, 64 * MiB, 8 * MiB }, { 1, 64 * MiB, 8 * MiB },
			{ 2, 64 * MiB, 8 * MiB }, { 3, 64 * MiB, 8 * MiB } } } },
};

/* Strip counts and chunks that are not powers of two; a partial extent. */
static const struct tmap map_odd = {
	.ftype = 2, .ilv = true, .size = 40 * MiB, .n = 2,
	.e = { { .nstrips = 3, .chunk = 4 * MiB, .nbytes = 24 * MiB,
		 .s = { { 0, 0, 8 * MiB }, { 1, 8 * MiB, 8 * MiB },
			{ 2, 16 * MiB, 10 * MiB } } },
	       { .nstrips = 2, .chunk = 6 * MiB, .nbytes = 24 * MiB,
		 .s = { { 1, 32 * MiB, 12 * MiB }, { 0, 40 * MiB, 14 * MiB } } } },
};

/* Simple extents on three devices; a file size that is not aligned. */
static const struct tmap map_multi = {
	.ftype = 1, .size = 7 * MiB + 12345, .n = 3,
	.e = { { .s = { { 2, 0, 2 * MiB } } },
	       { .s = { { 1, 6 * MiB, 4 * MiB } } },
	       { .s = { { 0, 2 * MiB, 2 * MiB } } } },
};

/* Extents that continue each other on the device: runs must merge. */
static const struct tmap map_contig = {
	.size = 6 * MiB, .n = 3,
	.e = { { .s = { { 0, 0, 2 * MiB } } },
	       { .s = { { 0, 2 * MiB, 2 * MiB } } },
	       { .s = { { 1, 2 * MiB, 2 * MiB } } } },
};

static const struct tmap *const all_maps[] = {
	&map_simple, &map_worked, &map_odd, &map_multi, &map_contig,
};
#define NMAPS (sizeof(all_maps) / sizeof(all_maps[0]))

static const char *const ftype_name[] = { "regular", "superblock", "log" };

static uint64_t ext_nbytes(const struct tmap *m, uint32_t i)
{
	return m->ilv ? m->e[i].nbytes : m->e[i].s[0].len;
}

/* Bytes of the file extent i holds, and where it starts. */
static uint64_t ext_held(const struct tmap *m, uint32_t i, uint64_t *start)
{
	uint64_t s = 0, held = 0;

	for (uint32_t k = 0; k <= i; k++) {
		s += held;
		held = ext_nbytes(m, k);
		if (m->ilv)
			held = s >= m->size ? 0 :
			       held < m->size - s ? held : m->size - s;
	}
	*start = s;
	return held;
}

static size_t tmap_text(const struct tmap *m, char *b, size_t cap)
{
	size_t n = 0;

	n += (size_t)snprintf(b + n, cap - n, "# made by the test\ntype %s\n"
			      "size %" PRIu64 "\n",
			      ftype_name[m->ftype], m->size);
	for (uint32_t i = 0; i < m->n; i++) {
		const struct text *e = &m->e[i];

		if (!m->ilv) {
			n += (size_t)snprintf(b + n, cap - n,
					      "simple %u 0x%" PRIx64 " %" PRIu64
					      "K\n",
					      e->s[0].dev, e->s[0].off,
					      e->s[0].len / KiB);
			continue;
		}
		n += (size_t)snprintf(b + n, cap - n,
				      "interleave nbytes=%" PRIu64
				      "M chunk=%u  # C\n",
				      e->nbytes / MiB, e->chunk);
		for (uint32_t j = 0; j < e->nstrips; j++)
			n += (size_t)snprintf(b + n, cap - n,
					      "\tstrip %u %" PRIu64 " %" PRIu64
					      "\n",
					      e->s[j].dev, e->s[j].off,
					      e->s[j].len);
	}
	return n;
}

/* ---- messages, byte by byte as the format doc lays them out ---- */

struct mb {
	uint8_t b[40000];
	size_t n;
};

static void put(struct mb *m, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		m->b[m->n++] = (uint8_t)(v >> (8 * i));
}

static void hdr(struct mb *m, uint8_t ft, uint8_t res, uint16_t ver,
		uint32_t ext, uint32_t next, uint32_t res0, uint64_t size,
		uint64_t res1)
{
	put(m, ft, 1);
	put(m, res, 1);
	put(m, ver, 2);
	put(m, ext, 4);
	put(m, next, 4);
	put(m, res0, 4);
	put(m, size, 8);
	put(m, res1, 8);
}

static void se(struct mb *m, uint32_t dev, uint32_t res, uint64_t off,
	       uint64_t len)
{
	put(m, dev, 4);
	put(m, res, 4);
	put(m, off, 8);
	put(m, len, 8);
}

static void ie(struct mb *m, uint32_t ns, uint32_t chunk, uint64_t nbytes,
	       uint64_t res)
{
	put(m, ns, 4);
	put(m, chunk, 4);
	put(m, nbytes, 8);
	put(m, res, 8);
}

static void tmap_wire(const struct tmap *m, struct mb *b)
{
	b->n = 0;
	hdr(b, m->ftype, 0, 1, m->ilv, m->n, 0, m->size, 0);
	for (uint32_t i = 0; i < m->n; i++) {
		const struct text *e = &m->e[i];

		if (m->ilv)
			ie(b, e->nstrips, e->chunk, e->nbytes, 0);
		for (uint32_t j = 0; j < (m->ilv ? e->nstrips : 1); j++)
			se(b, e->s[j].dev, 0, e->s[j].off, e->s[j].len);
	}
}

/* ---- resolution, from the doc's arithmetic ---- */

struct trun {
	uint64_t off;
	uint32_t dev;
	uint64_t devoff, len;
};

static size_t ref_runs(const struct tmap *m, uint64_t off, uint64_t len,
		       struct trun *out, size_t max)
{
	uint64_t end = off + len < off ? UINT64_MAX : off + len;
	size_t n = 0;

	if (end > m->size)
		end = m->size;
	while (off < end) {
		uint64_t start = 0, held = 0, l, plen;
		uint32_t i, dev;
		uint64_t devoff;

		for (i = 0; i < m->n; i++) {
			held = ext_held(m, i, &start);
			if (off < start + held)
				break;
		}
		assert_true(i < m->n);
		l = off - start;
		if (!m->ilv) {
			dev = m->e[i].s[0].dev;
			devoff = m->e[i].s[0].off + l;
			plen = held - l;
		} else {
			uint64_t c = m->e[i].chunk, nst = m->e[i].nstrips;
			uint64_t chunk = l / c, coff = l % c;
			uint64_t stripe = chunk / nst, strip = chunk % nst;

			dev = m->e[i].s[strip].dev;
			devoff = m->e[i].s[strip].off + stripe * c + coff;
			plen = c - coff < held - l ? c - coff : held - l;
		}
		if (plen > end - off)
			plen = end - off;
		if (n && out[n - 1].dev == dev &&
		    out[n - 1].devoff + out[n - 1].len == devoff) {
			out[n - 1].len += plen;
		} else {
			assert_true(n < max);
			out[n].off = off;
			out[n].dev = dev;
			out[n].devoff = devoff;
			out[n].len = plen;
			n++;
		}
		off += plen;
	}
	return n;
}

/* ---- files ---- */

static char tmpdir[256];

static const char *tpath(const char *name)
{
	static char p[8][512];
	static int k;

	k = (k + 1) % 8;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
	return p[k];
}

static void write_file(const char *path, const void *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static char *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *b = malloc(65536);
	size_t k;

	assert_non_null(f);
	assert_non_null(b);
	k = fread(b, 1, 65536, f);
	fclose(f);
	b[k < 65536 ? k : 65535] = '\0';
	*n = k;
	return b;
}

static int setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/famrt-cli-XXXXXX", t ? t : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;

	(void)state;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlink(tpath(de->d_name));
	if (d)
		closedir(d);
	return rmdir(tmpdir);
}

/* ---- running famrt ---- */

static void run(struct cli_result *r, const void *in, size_t n, ...)
{
	const char *args[64];
	va_list ap;
	int k = 0;

	va_start(ap, n);
	while (k < 63 && (args[k] = va_arg(ap, const char *)))
		k++;
	va_end(ap);
	args[k] = NULL;
	assert_int_equal(cli_run(args, in, n, r), 0);
}

static void run_argv(struct cli_result *r, const char *const *args,
		     const void *in, size_t n)
{
	assert_int_equal(cli_run(args, in, n, r), 0);
}

#define RUN(r, ...) run(r, NULL, 0, __VA_ARGS__, (const char *)NULL)

static void encode_map(const struct tmap *m, const char *file)
{
	char text[8192];
	size_t n = tmap_text(m, text, sizeof(text));
	struct cli_result r;
	struct mb want;
	size_t got_n;
	char *got;

	run(&r, text, n, "fmap", "encode", "-o", tpath(file),
	    (const char *)NULL);
	if (r.status)
		fprintf(stderr, "encode failed: %s\n%s", r.err, text);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out_len, 0);
	assert_int_equal(r.err_len, 0);
	cli_result_free(&r);
	tmap_wire(m, &want);
	got = read_file(tpath(file), &got_n);
	assert_int_equal(got_n, want.n);
	assert_memory_equal(got, want.b, want.n);
	free(got);
}

static bool is_num(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Lines of out that are exactly four decimal numbers, parsed. */
static size_t four_number_lines(const char *out, struct trun *runs,
				size_t max)
{
	size_t n = 0;

	while (*out) {
		const char *nl = strchr(out, '\n');
		size_t len = nl ? (size_t)(nl - out) : strlen(out);
		const char *w[5];
		size_t wl[5], k = 0, i = 0;
		bool ok = true;

		while (i < len && ok) {
			size_t s = i;

			while (i < len && out[i] != ' ')
				i++;
			if (k == 4) {
				ok = false;
				break;
			}
			w[k] = out + s;
			wl[k++] = i - s;
			if (i < len)
				i++; /* one space */
		}
		for (size_t j = 0; ok && j < k; j++)
			ok = is_num(w[j], wl[j]);
		if (ok && k == 4) {
			assert_true(n < max);
			runs[n].off = strtoull(w[0], NULL, 10);
			runs[n].dev = (uint32_t)strtoul(w[1], NULL, 10);
			runs[n].devoff = strtoull(w[2], NULL, 10);
			runs[n].len = strtoull(w[3], NULL, 10);
			n++;
		}
		out += len + (nl ? 1 : 0);
	}
	return n;
}

static bool has_line(const char *out, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = out; (p = strstr(p, line)); p++)
		if ((p == out || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

static void assert_has_line(const char *out, const char *line)
{
	if (!has_line(out, line))
		fail_msg("line not found: [%s] in:\n%s", line, out);
}

/* ---- tests ---- */

static void test_help_every_command(void **state)
{
	struct cli_result r, h;
	const char *p;
	int count = 0;
	bool inspect = false, encode = false;

	(void)state;
	RUN(&r, "--list-commands");
	assert_int_equal(r.status, 0);
	for (p = r.out; *p;) {
		const char *nl = strchr(p, '\n');
		char line[256], *words[8];
		const char *args[10];
		int nw = 0;
		char *save, *tok;

		assert_non_null(nl);
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		inspect |= !strcmp(line, "fmap inspect");
		encode |= !strcmp(line, "fmap encode");
		for (tok = strtok_r(line, " ", &save); tok && nw < 8;
		     tok = strtok_r(NULL, " ", &save))
			words[nw++] = tok;
		for (int i = 0; i < nw; i++)
			args[i] = words[i];
		for (int form = 0; form < 2; form++) {
			char example[300];

			args[nw] = form ? "-h" : "--help";
			args[nw + 1] = NULL;
			run_argv(&h, args, NULL, 0);
			assert_int_equal(h.status, 0);
			assert_int_equal(h.err_len, 0);
			assert_non_null(strstr(h.out, "Usage: famrt "));
			assert_non_null(strstr(h.out, "\nExamples:\n"));
			/* An example that runs this very command. */
			snprintf(example, sizeof(example), "\n  famrt %.*s ",
				 (int)(nl - p), p);
			assert_non_null(strstr(h.out, example));
			assert_non_null(strstr(h.out, "Exit status:"));
			cli_result_free(&h);
		}
		count++;
		p = nl + 1;
	}
	assert_true(inspect && encode);
	assert_true(count >= 2);
	cli_result_free(&r);

	/* Groups and the top level have help with examples too. */
	RUN(&r, "--help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\nExamples:\n"));
	assert_non_null(strstr(r.out, "  fmap "));
	cli_result_free(&r);
	RUN(&r, "fmap", "--help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\nExamples:\n"));
	assert_non_null(strstr(r.out, "  inspect "));
	assert_non_null(strstr(r.out, "  encode "));
	cli_result_free(&r);
	RUN(&r, "--version");
	assert_int_equal(r.status, 0);
	assert_true(!strncmp(r.out, "famrt ", 6));
	cli_result_free(&r);
}

static void test_usage_errors(void **state)
{
	/* "nofile" does not exist: reading it would be exit 3, not 2. */
	static const char *const cases[][8] = {
		{ NULL },
		{ "frob" },
		{ "--bogus" },
		{ "fmap" },
		{ "fmap", "frob" },
		{ "fmap", "--bogus" },
		{ "fmap", "inspect" },
		{ "fmap", "inspect", "--bogus", "nofile" },
		{ "fmap", "inspect", "-x", "nofile" },
		{ "fmap", "inspect", "nofile", "another" },
		{ "fmap", "inspect", "-r" },
		{ "fmap", "inspect", "-r", "nocolon", "nofile" },
		{ "fmap", "inspect", "-r", "1Q:2", "nofile" },
		{ "fmap", "inspect", "-r", "1:-2", "nofile" },
		{ "fmap", "inspect", "--align", "3K", "nofile" },
		{ "fmap", "inspect", "--align", "0", "nofile" },
		{ "fmap", "inspect", "--align", "x", "nofile" },
		{ "fmap", "inspect", "--device-sizes", "1G,,2G", "nofile" },
		{ "fmap", "inspect", "--device-sizes", "", "nofile" },
		{ "fmap", "inspect", "--json=yes", "nofile" },
		{ "fmap", "encode", "--no-validate", "--align", "4K", "nofile" },
		{ "fmap", "encode", "nofile", "another" },
		{ "fmap", "encode", "-o" },
		{ "fmap", "encode", "--device-sizes", "1X", "nofile" },
	};
	char many[33 * 3 + 1] = "";
	const char *devs[] = { "fmap", "inspect", "--device-sizes", many,
			       "nofile", NULL };
	struct cli_result r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_argv(&r, cases[i], NULL, 0);
		if (r.status != 2)
			fail_msg("case %zu (%s %s %s): exit %d, stderr %s", i,
				 cases[i][0], cases[i][1], cases[i][2],
				 r.status, r.err);
		assert_int_equal(r.out_len, 0);
		assert_non_null(strstr(r.err, "Usage: famrt"));
		cli_result_free(&r);
	}
	/* 33 devices: one more than a file system can have. */
	for (int i = 0; i < 33; i++)
		strcat(many, i ? ",1G" : "1G");
	run_argv(&r, devs, NULL, 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "more than 32"));
	cli_result_free(&r);
	/* A missing file is a system error, not a usage error. */
	RUN(&r, "fmap", "inspect", tpath("nofile"));
	assert_int_equal(r.status, 3);
	assert_int_equal(cli_count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "No such file"));
	cli_result_free(&r);
}

static void test_summary_simple(void **state)
{
	struct cli_result r;

	(void)state;
	encode_map(&map_simple, "simple.fmap");
	RUN(&r, "fmap", "inspect", tpath("simple.fmap"));
	assert_int_equal(r.status, 0);
	assert_int_equal(r.err_len, 0);
	assert_has_line(r.out, "file_type:    regular (0)");
	assert_has_line(r.out, "fmap_version: 1");
	assert_has_line(r.out, "ext_type:     simple (0)");
	assert_has_line(r.out, "file_size:    10485760 (10 MiB)");
	assert_has_line(r.out, "nextents:     2");
	assert_has_line(r.out,
			"extent 0: file_offset 0 (0 B), file_bytes 4194304 "
			"(4 MiB), devindex 0, offset 67108864 (64 MiB), len "
			"4194304 (4 MiB)");
	assert_has_line(r.out,
			"extent 1: file_offset 4194304 (4 MiB), file_bytes "
			"6291456 (6 MiB), devindex 0, offset 134217728 "
			"(128 MiB), len 8388608 (8 MiB)");
	assert_int_equal(cli_count_lines(r.out), 7);
	cli_result_free(&r);
}

static void test_summary_interleaved(void **state)
{
	struct cli_result r;

	(void)state;
	encode_map(&map_odd, "odd.fmap");
	RUN(&r, "fmap", "inspect", tpath("odd.fmap"));
	assert_int_equal(r.status, 0);
	assert_has_line(r.out, "file_type:    log (2)");
	assert_has_line(r.out, "ext_type:     interleaved (1)");
	assert_has_line(r.out, "file_size:    41943040 (40 MiB)");
	assert_has_line(r.out, "nextents:     2");
	assert_has_line(r.out,
			"extent 0: file_offset 0 (0 B), file_bytes 25165824 "
			"(24 MiB), nbytes 25165824 (24 MiB), chunk_size "
			"4194304 (4 MiB), nstrips 3");
	assert_has_line(r.out,
			"  strip 2: devindex 2, offset 16777216 (16 MiB), len "
			"10485760 (10 MiB)");
	/* The second extent holds 24 MiB but the file needs 16 MiB of it. */
	assert_has_line(r.out,
			"extent 1: file_offset 25165824 (24 MiB), file_bytes "
			"16777216 (16 MiB), nbytes 25165824 (24 MiB), "
			"chunk_size 6291456 (6 MiB), nstrips 2");
	assert_has_line(r.out,
			"  strip 1: devindex 0, offset 41943040 (40 MiB), len "
			"14680064 (14 MiB)");
	cli_result_free(&r);

	encode_map(&map_multi, "multi.fmap");
	RUN(&r, "fmap", "inspect", tpath("multi.fmap"));
	assert_int_equal(r.status, 0);
	assert_has_line(r.out, "file_type:    superblock (1)");
	assert_has_line(r.out, "file_size:    7352377 (7.01 MiB)");
	cli_result_free(&r);
}

/* Hand-computed from the doc: l = 15 MiB is chunk 7, coff 1 MiB,
 * stripe 1, strip 3: device 3, 64 MiB + 2 MiB + 1 MiB, run 1 MiB. */
static void test_worked_example(void **state)
{
	struct cli_result r;
	struct trun runs[8];

	(void)state;
	encode_map(&map_worked, "worked.fmap");
	RUN(&r, "fmap", "inspect", tpath("worked.fmap"), "--resolve",
	    "15M:1M", "--resolve", "15M:2M", "-r", "0:5M");
	assert_int_equal(r.status, 0);
	assert_int_equal(four_number_lines(r.out, runs, 8), 6);
	assert_has_line(r.out, "15728640 3 70254592 1048576");
	/* 15M + 1M is chunk 8: stripe 2, strip 0: device 0 at 64M + 4M. */
	assert_has_line(r.out, "16777216 0 71303168 1048576");
	assert_has_line(r.out, "0 0 67108864 2097152");
	assert_has_line(r.out, "2097152 1 67108864 2097152");
	assert_has_line(r.out, "4194304 2 67108864 1048576");
	cli_result_free(&r);
}

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 11;
}

/* Every map, many ranges: the run lines are exactly the doc's runs. */
static void test_resolve_matches_reference(void **state)
{
	uint64_t seed = 42;

	(void)state;
	for (size_t mi = 0; mi < NMAPS; mi++) {
		const struct tmap *m = all_maps[mi];
		uint64_t ranges[40][2] = {
			{ 0, m->size }, { 1, 1 }, { m->size - 1, 10 },
			{ m->size, 5 }, { m->size + 100, 1 }, { 0, 0 },
			{ 0, UINT64_MAX }, { 3 * MiB + 123, 7 * MiB },
			{ UINT64_MAX, UINT64_MAX },
		};
		size_t nr = 9, nexp = 0, ngot;
		static struct trun exp[4096], got[4096];
		char spec[40][64];
		const char *args[100];
		char name[32];
		struct cli_result r;
		int k = 0;

		while (nr < 40) {
			ranges[nr][0] = lcg(&seed) % (m->size + 2 * MiB);
			ranges[nr][1] = lcg(&seed) % (m->size / 2 + 1);
			nr++;
		}
		snprintf(name, sizeof(name), "ref%zu.fmap", mi);
		encode_map(m, name);
		args[k++] = "fmap";
		args[k++] = "inspect";
		args[k++] = tpath(name);
		for (size_t i = 0; i < nr; i++) {
			snprintf(spec[i], sizeof(spec[i]),
				 i % 2 ? "%" PRIu64 ":%" PRIu64 :
					 "0x%" PRIx64 ":%" PRIu64,
				 ranges[i][0], ranges[i][1]);
			args[k++] = "--resolve";
			args[k++] = spec[i];
			nexp += ref_runs(m, ranges[i][0], ranges[i][1],
					 exp + nexp, 4096 - nexp);
		}
		args[k] = NULL;
		run_argv(&r, args, NULL, 0);
		if (r.status)
			fail_msg("map %zu: exit %d: %s", mi, r.status, r.err);
		ngot = four_number_lines(r.out, got, 4096);
		assert_int_equal(ngot, nexp);
		for (size_t i = 0; i < nexp; i++) {
			assert_int_equal(got[i].off, exp[i].off);
			assert_int_equal(got[i].dev, exp[i].dev);
			assert_int_equal(got[i].devoff, exp[i].devoff);
			assert_int_equal(got[i].len, exp[i].len);
		}
		cli_result_free(&r);
	}
}

/* Contiguous pieces merge; without --resolve no line is four numbers. */
static void test_run_lines_only(void **state)
{
	struct cli_result r;
	struct trun runs[8];

	(void)state;
	for (size_t mi = 0; mi < NMAPS; mi++) {
		char name[32];

		snprintf(name, sizeof(name), "only%zu.fmap", mi);
		encode_map(all_maps[mi], name);
		RUN(&r, "fmap", "inspect", tpath(name));
		assert_int_equal(r.status, 0);
		assert_int_equal(four_number_lines(r.out, runs, 8), 0);
		cli_result_free(&r);
	}
	RUN(&r, "fmap", "inspect", tpath("only4.fmap"), "-r", "0:6M");
	assert_int_equal(r.status, 0);
	assert_int_equal(four_number_lines(r.out, runs, 8), 2);
	assert_has_line(r.out, "0 0 0 4194304");
	assert_has_line(r.out, "4194304 1 2097152 2097152");
	cli_result_free(&r);
}

static const struct famrt_json_value *jget(const struct famrt_json_value *o,
					   const char *key,
					   enum famrt_json_type t)
{
	const struct famrt_json_value *v = famrt_json_get(o, key);

	if (!v)
		fail_msg("missing key %s", key);
	assert_int_equal(v->type, t);
	return v;
}

static uint64_t jnum(const struct famrt_json_value *o, const char *key)
{
	uint64_t v;

	assert_int_equal(famrt_json_get_u64(jget(o, key, FAMRT_JSON_NUMBER),
					    &v),
			 0);
	return v;
}

static void check_json(const char *out, const struct tmap *m,
		       uint64_t (*ranges)[2], size_t nr)
{
	struct famrt_json_doc *doc;
	struct famrt_json_error je;
	const struct famrt_json_value *root, *a, *e, *s, *rr, *rn;
	uint32_t i = 0;

	assert_int_equal(famrt_json_parse(out, strlen(out), NULL, &doc, &je),
			 0);
	root = famrt_json_root(doc);
	assert_int_equal(root->type, FAMRT_JSON_OBJECT);
	/* Fixed keys, in this order, and no others. */
	{
		static const char *const keys[] = {
			"file_type", "fmap_version", "ext_type", "file_size",
			"nextents", "extents", "resolve",
		};
		const struct famrt_json_value *v = root->child;

		for (size_t k = 0; k < 7; k++, v = v->next) {
			assert_non_null(v);
			assert_string_equal(v->key, keys[k]);
		}
		assert_null(v);
	}
	assert_string_equal(jget(root, "file_type", FAMRT_JSON_STRING)->str,
			    ftype_name[m->ftype]);
	assert_int_equal(jnum(root, "fmap_version"), 1);
	assert_string_equal(jget(root, "ext_type", FAMRT_JSON_STRING)->str,
			    m->ilv ? "interleaved" : "simple");
	assert_int_equal(jnum(root, "file_size"), m->size);
	assert_int_equal(jnum(root, "nextents"), m->n);
	a = jget(root, "extents", FAMRT_JSON_ARRAY);
	assert_int_equal(a->count, m->n);
	for (e = a->child; e; e = e->next, i++) {
		uint64_t start, held = ext_held(m, i, &start);
		uint32_t j = 0, ns = m->ilv ? m->e[i].nstrips : 1;

		assert_int_equal(e->count, 6);
		assert_int_equal(jnum(e, "file_offset"), start);
		assert_int_equal(jnum(e, "file_bytes"),
				 m->ilv ? held :
				 start >= m->size ? 0 :
				 held < m->size - start ? held :
							  m->size - start);
		assert_int_equal(jnum(e, "nstrips"), ns);
		assert_int_equal(jnum(e, "chunk_size"),
				 m->ilv ? m->e[i].chunk : 0);
		assert_int_equal(jnum(e, "nbytes"), ext_nbytes(m, i));
		s = jget(e, "strips", FAMRT_JSON_ARRAY);
		assert_int_equal(s->count, ns);
		for (s = s->child; s; s = s->next, j++) {
			assert_int_equal(s->count, 3);
			assert_int_equal(jnum(s, "devindex"), m->e[i].s[j].dev);
			assert_int_equal(jnum(s, "offset"), m->e[i].s[j].off);
			assert_int_equal(jnum(s, "len"), m->e[i].s[j].len);
		}
	}
	a = jget(root, "resolve", FAMRT_JSON_ARRAY);
	assert_int_equal(a->count, nr);
	i = 0;
	for (rr = a->child; rr; rr = rr->next, i++) {
		struct trun exp[64];
		size_t n = ref_runs(m, ranges[i][0], ranges[i][1], exp, 64), k = 0;

		assert_int_equal(rr->count, 3);
		assert_int_equal(jnum(rr, "off"), ranges[i][0]);
		assert_int_equal(jnum(rr, "len"), ranges[i][1]);
		rn = jget(rr, "runs", FAMRT_JSON_ARRAY);
		assert_int_equal(rn->count, n);
		for (rn = rn->child; rn; rn = rn->next, k++) {
			assert_int_equal(rn->count, 4);
			assert_int_equal(jnum(rn, "off"), exp[k].off);
			assert_int_equal(jnum(rn, "dev"), exp[k].dev);
			assert_int_equal(jnum(rn, "devoff"), exp[k].devoff);
			assert_int_equal(jnum(rn, "len"), exp[k].len);
		}
	}
	famrt_json_free(doc);
}

/* inspect --json | encode gives back the very same bytes. */
static void test_json_roundtrip(void **state)
{
	(void)state;
	for (size_t mi = 0; mi < NMAPS; mi++) {
		const struct tmap *m = all_maps[mi];
		uint64_t ranges[3][2] = { { 0, m->size }, { m->size, 1 },
					  { 1 * MiB + 5, 3 * MiB } };
		struct cli_result r, e;
		char name[32];
		struct mb want;

		snprintf(name, sizeof(name), "rt%zu.fmap", mi);
		encode_map(m, name);
		tmap_wire(m, &want);

		/* Without --resolve the list is still there, empty. */
		RUN(&r, "fmap", "inspect", "--json", tpath(name));
		assert_int_equal(r.status, 0);
		check_json(r.out, m, NULL, 0);
		assert_non_null(strstr(r.out, "\"resolve\": []"));
		run(&e, r.out, r.out_len, "fmap", "encode", (const char *)NULL);
		assert_int_equal(e.status, 0);
		assert_int_equal(e.out_len, want.n);
		assert_memory_equal(e.out, want.b, want.n);
		cli_result_free(&e);
		cli_result_free(&r);

		RUN(&r, "fmap", "inspect", tpath(name), "--json", "-r",
		    "0:0xffffffffffffffff", "-r", "0x0:1", "-r", "1048581:3M");
		ranges[0][0] = 0;
		ranges[0][1] = UINT64_MAX;
		ranges[1][0] = 0;
		ranges[1][1] = 1;
		assert_int_equal(r.status, 0);
		check_json(r.out, m, ranges, 3);
		/* From a file, with "-" as the name of stdin in between. */
		write_file(tpath("rt.json"), r.out, r.out_len);
		cli_result_free(&r);
		RUN(&e, "fmap", "encode", "-o", "-", tpath("rt.json"));
		assert_int_equal(e.status, 0);
		assert_int_equal(e.out_len, want.n);
		assert_memory_equal(e.out, want.b, want.n);
		cli_result_free(&e);
	}
}

struct bad {
	const char *name;
	const char *rule;   /* "(rule X," must be in the message */
	const char *word;   /* another piece of text it must have, or NULL */
	const char *devs;   /* --device-sizes, or NULL */
	void (*make)(struct mb *m);
};

static void simple1(struct mb *m, uint64_t size, uint32_t dev, uint64_t off,
		    uint64_t len)
{
	hdr(m, 0, 0, 1, 0, 1, 0, size, 0);
	se(m, dev, 0, off, len);
}

static void mk_trunc_hdr(struct mb *m) { simple1(m, 2 * MiB, 0, 0, 2 * MiB); m->n = 20; }
static void mk_trunc_ext(struct mb *m) { simple1(m, 2 * MiB, 0, 0, 2 * MiB); m->n = 50; }
static void mk_trunc_strips(struct mb *m)
{
	hdr(m, 0, 0, 1, 1, 1, 0, 4 * MiB, 0);
	ie(m, 2, 2 * MiB, 4 * MiB, 0);
	se(m, 0, 0, 0, 2 * MiB);
}
static void mk_empty(struct mb *m) { m->n = 0; }
static void mk_trailing(struct mb *m) { simple1(m, 2 * MiB, 0, 0, 2 * MiB); put(m, 0, 1); }
static void mk_file_type(struct mb *m)
{
	hdr(m, 3, 0, 1, 0, 1, 0, 2 * MiB, 0);
	se(m, 0, 0, 0, 2 * MiB);
}
static void mk_version(struct mb *m)
{
	hdr(m, 0, 0, 2, 0, 1, 0, 2 * MiB, 0);
	se(m, 0, 0, 0, 2 * MiB);
}
static void mk_ext_type(struct mb *m)
{
	hdr(m, 0, 0, 1, 2, 1, 0, 2 * MiB, 0);
	se(m, 0, 0, 0, 2 * MiB);
}
static void mk_res_hdr(struct mb *m)
{
	hdr(m, 0, 1, 1, 0, 1, 0, 2 * MiB, 0);
	se(m, 0, 0, 0, 2 * MiB);
}
static void mk_res0(struct mb *m)
{
	hdr(m, 0, 0, 1, 0, 1, 7, 2 * MiB, 0);
	se(m, 0, 0, 0, 2 * MiB);
}
static void mk_res1(struct mb *m)
{
	hdr(m, 0, 0, 1, 0, 1, 0, 2 * MiB, 1ull << 40);
	se(m, 0, 0, 0, 2 * MiB);
}
static void mk_res_se(struct mb *m)
{
	hdr(m, 0, 0, 1, 0, 2, 0, 4 * MiB, 0);
	se(m, 0, 0, 0, 2 * MiB);
	se(m, 0, 9, 2 * MiB, 2 * MiB);
}
static void mk_res_ie(struct mb *m)
{
	hdr(m, 0, 0, 1, 1, 1, 0, 4 * MiB, 0);
	ie(m, 2, 2 * MiB, 4 * MiB, 5);
	se(m, 0, 0, 0, 2 * MiB);
	se(m, 1, 0, 0, 2 * MiB);
}
static void mk_next0(struct mb *m) { hdr(m, 0, 0, 1, 0, 0, 0, 0, 0); }
static void mk_next33(struct mb *m)
{
	hdr(m, 0, 0, 1, 0, 33, 0, 2 * MiB, 0);
	for (int i = 0; i < 33; i++)
		se(m, 0, 0, (uint64_t)i * 2 * MiB, 2 * MiB);
}
static void mk_nstrips0(struct mb *m)
{
	hdr(m, 0, 0, 1, 1, 1, 0, 2 * MiB, 0);
	ie(m, 0, 2 * MiB, 2 * MiB, 0);
}
static void mk_nstrips33(struct mb *m)
{
	hdr(m, 0, 0, 1, 1, 1, 0, 2 * MiB, 0);
	ie(m, 33, 2 * MiB, 2 * MiB, 0);
	for (int i = 0; i < 33; i++)
		se(m, (uint32_t)i, 0, 0, 2 * MiB);
}
static void mk_zero_len(struct mb *m) { simple1(m, 0, 0, 0, 0); }
static void mk_unal_off(struct mb *m) { simple1(m, 2 * MiB, 0, 4 * KiB, 2 * MiB); }
static void mk_unal_len(struct mb *m) { simple1(m, 4 * KiB, 0, 0, 4 * KiB); }
static void mk_chunk0(struct mb *m)
{
	hdr(m, 0, 0, 1, 1, 1, 0, 4 * MiB, 0);
	ie(m, 2, 0, 4 * MiB, 0);
	se(m, 0, 0, 0, 2 * MiB);
	se(m, 1, 0, 0, 2 * MiB);
}
static void mk_chunk_unal(struct mb *m)
{
	hdr(m, 0, 0, 1, 1, 1, 0, 4 * MiB, 0);
	ie(m, 2, 1 * MiB, 4 * MiB, 0);
	se(m, 0, 0, 0, 2 * MiB);
	se(m, 1, 0, 0, 2 * MiB);
}
static void mk_nbytes0(struct mb *m)
{
	hdr(m, 0, 0, 1, 1, 1, 0, 0, 0);
	ie(m, 2, 2 * MiB, 0, 0);
	se(m, 0, 0, 0, 2 * MiB);
	se(m, 1, 0, 0, 2 * MiB);
}
static void mk_capacity(struct mb *m)
{
	/* Two strips of 4M and 2M with 2M chunks hold 2 x 1 stripe = 4M. */
	hdr(m, 0, 0, 1, 1, 1, 0, 6 * MiB, 0);
	ie(m, 2, 2 * MiB, 6 * MiB, 0);
	se(m, 0, 0, 0, 4 * MiB);
	se(m, 1, 0, 0, 2 * MiB);
}
static void mk_overflow(struct mb *m)
{
	/* 2^63 + 2^63 wraps to 0, which is >= a file_size of 0 in u64. */
	hdr(m, 0, 0, 1, 0, 2, 0, 0, 0);
	se(m, 0, 0, 0, 1ull << 63);
	se(m, 1, 0, 0, 1ull << 63);
}
static void mk_short(struct mb *m) { simple1(m, 10 * MiB, 0, 0, 4 * MiB); }
static void mk_short_ilv(struct mb *m)
{
	hdr(m, 0, 0, 1, 1, 1, 0, 8 * MiB + 1, 0);
	ie(m, 2, 2 * MiB, 8 * MiB, 0);
	se(m, 0, 0, 0, 4 * MiB);
	se(m, 1, 0, 0, 4 * MiB);
}
static void mk_big(struct mb *m) { simple1(m, 2 * MiB, 0, 0, 2 * MiB); m->n = 40000; }
static void mk_devindex(struct mb *m)
{
	hdr(m, 0, 0, 1, 0, 2, 0, 4 * MiB, 0);
	se(m, 0, 0, 0, 2 * MiB);
	se(m, 2, 0, 0, 2 * MiB);
}
static void mk_bounds(struct mb *m) { simple1(m, 4 * MiB, 1, 62 * MiB, 4 * MiB); }
static void mk_bounds_wrap(struct mb *m)
{
	simple1(m, 4 * MiB, 0, UINT64_MAX - 2 * MiB + 1, 4 * MiB);
}

static const struct bad bads[] = {
	{ "trunc-hdr", "truncated", "header", NULL, mk_trunc_hdr },
	{ "trunc-ext", "truncated", "simple extent", NULL, mk_trunc_ext },
	{ "trunc-strips", "truncated", "strip list", NULL, mk_trunc_strips },
	{ "empty", "truncated", "header", NULL, mk_empty },
	{ "trailing", "trailing-bytes", "1 bytes", NULL, mk_trailing },
	{ "file-type", "file-type", "file_type 3", NULL, mk_file_type },
	{ "version", "version", "fmap_version 2", NULL, mk_version },
	{ "ext-type", "ext-type", "ext_type 2", NULL, mk_ext_type },
	{ "res-hdr", "reserved", "byte 1 ", NULL, mk_res_hdr },
	{ "res0", "reserved", "reserved0", NULL, mk_res0 },
	{ "res1", "reserved", "reserved1", NULL, mk_res1 },
	{ "res-se", "reserved", "extent 1", NULL, mk_res_se },
	{ "res-ie", "reserved", "extent 0", NULL, mk_res_ie },
	{ "next0", "nextents", "nextents is 0", NULL, mk_next0 },
	{ "next33", "nextents", "nextents is 33", NULL, mk_next33 },
	{ "nstrips0", "nstrips", "ie_nstrips is 0", NULL, mk_nstrips0 },
	{ "nstrips33", "nstrips", "ie_nstrips is 33", NULL, mk_nstrips33 },
	{ "zero-len", "zero-length", "se_len", NULL, mk_zero_len },
	{ "unal-off", "unaligned", "se_offset", NULL, mk_unal_off },
	{ "unal-len", "unaligned", "se_len", NULL, mk_unal_len },
	{ "chunk0", "chunk-zero", "ie_chunk_size", NULL, mk_chunk0 },
	{ "chunk-unal", "chunk-unaligned", "ie_chunk_size", NULL,
	  mk_chunk_unal },
	{ "nbytes0", "nbytes-zero", "ie_nbytes", NULL, mk_nbytes0 },
	{ "capacity", "nbytes-capacity", "ie_nbytes", NULL, mk_capacity },
	{ "overflow", "overflow", "extent 1", NULL, mk_overflow },
	{ "short", "short", "file_size", NULL, mk_short },
	{ "short-ilv", "short", "file_size", NULL, mk_short_ilv },
	{ "too-large", "too-large", "40000 bytes", NULL, mk_big },
	{ "devindex", "devindex", "extent 1", "1G,1G", mk_devindex },
	{ "bounds", "device-bounds", "device 1", "1G,64M", mk_bounds },
	{ "bounds-wrap", "device-bounds", "device 0", "1G", mk_bounds_wrap },
};

static void check_one_line_rule(const struct cli_result *r, const char *rule,
				const char *word, const char *what)
{
	char tag[64];

	snprintf(tag, sizeof(tag), "(rule %s,", rule);
	if (r->status != 1 || cli_count_lines(r->err) != 1 ||
	    r->err[r->err_len - 1] != '\n' || !strstr(r->err, tag) ||
	    (word && !strstr(r->err, word)))
		fail_msg("%s: exit %d, stderr [%s], want %s and '%s'", what,
			 r->status, r->err, tag, word ? word : "");
	assert_int_equal(r->out_len, 0);
}

static void test_invalid_messages(void **state)
{
	static struct mb m;

	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		struct cli_result r;
		char name[64];

		memset(&m, 0, sizeof(m));
		b->make(&m);
		snprintf(name, sizeof(name), "bad-%s.fmap", b->name);
		write_file(tpath(name), m.b, m.n);
		if (b->devs)
			RUN(&r, "fmap", "inspect", "--device-sizes", b->devs,
			    tpath(name));
		else
			RUN(&r, "fmap", "inspect", tpath(name));
		check_one_line_rule(&r, b->rule, b->word, b->name);
		cli_result_free(&r);
		/* The same through stdin. */
		if (b->devs)
			run(&r, m.b, m.n, "fmap", "inspect", "--device-sizes",
			    b->devs, "-", (const char *)NULL);
		else
			run(&r, m.b, m.n, "fmap", "inspect", "-",
			    (const char *)NULL);
		check_one_line_rule(&r, b->rule,
				    strcmp(b->rule, "too-large") ? b->word :
								   NULL,
				    b->name);
		cli_result_free(&r);
	}
}

/* --align changes which messages are valid. */
static void test_align(void **state)
{
	struct mb m = { .n = 0 };
	struct cli_result r;

	(void)state;
	mk_unal_off(&m); /* offset 4K, len 2M */
	write_file(tpath("al.fmap"), m.b, m.n);
	RUN(&r, "fmap", "inspect", "--align", "4K", tpath("al.fmap"));
	assert_int_equal(r.status, 0);
	cli_result_free(&r);
	RUN(&r, "fmap", "inspect", "--align", "0x1000", tpath("al.fmap"));
	assert_int_equal(r.status, 0);
	cli_result_free(&r);
	m.n = 0;
	simple1(&m, 2 * MiB, 0, 2 * MiB, 2 * MiB);
	write_file(tpath("al2.fmap"), m.b, m.n);
	RUN(&r, "fmap", "inspect", tpath("al2.fmap"));
	assert_int_equal(r.status, 0);
	cli_result_free(&r);
	RUN(&r, "fmap", "inspect", "--align", "4M", tpath("al2.fmap"));
	check_one_line_rule(&r, "unaligned", "0x400000", "align 4M");
	cli_result_free(&r);
}

static void test_device_sizes(void **state)
{
	struct cli_result r;
	struct mb m = { .n = 0 };

	(void)state;
	encode_map(&map_worked, "dev.fmap");
	RUN(&r, "fmap", "inspect", "--device-sizes", "1G,1G,1G,1G",
	    tpath("dev.fmap"));
	assert_int_equal(r.status, 0);
	cli_result_free(&r);
	/* Strip 3 ends at 72 MiB on device 3: exactly fits, one byte not. */
	RUN(&r, "fmap", "inspect", "--device-sizes", "1G,1G,1G,72M",
	    tpath("dev.fmap"));
	assert_int_equal(r.status, 0);
	cli_result_free(&r);
	RUN(&r, "fmap", "inspect", "--device-sizes", "1G,1G,1G,75497471",
	    tpath("dev.fmap"));
	check_one_line_rule(&r, "device-bounds", "extent 0 strip 3",
			    "72M - 1");
	cli_result_free(&r);
	RUN(&r, "fmap", "inspect", "--device-sizes", "1G,1G,1G",
	    tpath("dev.fmap"));
	check_one_line_rule(&r, "devindex", "strip 3", "3 devices");
	cli_result_free(&r);
	/* Without --device-sizes there is no device check at all. */
	hdr(&m, 0, 0, 1, 0, 2, 0, 4 * MiB, 0);
	se(&m, 31, 0, 1ull << 50, 2 * MiB);
	se(&m, 4000000000u, 0, 0, 2 * MiB);
	write_file(tpath("far.fmap"), m.b, m.n);
	RUN(&r, "fmap", "inspect", tpath("far.fmap"), "-r", "2M:1M");
	assert_int_equal(r.status, 0);
	assert_has_line(r.out, "2097152 4000000000 0 1048576");
	cli_result_free(&r);
	/* encode validates against the sizes too, and writes nothing. */
	{
		char text[4096];
		size_t n = tmap_text(&map_worked, text, sizeof(text));

		run(&r, text, n, "fmap", "encode", "--device-sizes",
		    "1G,1G,1G,70M", "-o", tpath("dev2.fmap"),
		    (const char *)NULL);
		check_one_line_rule(&r, "device-bounds", "device 3",
				    "encode bounds");
		cli_result_free(&r);
		assert_int_not_equal(access(tpath("dev2.fmap"), F_OK), 0);
	}
}

static int count_temp_files(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") &&
		    strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_encode_validation(void **state)
{
	static const char bad[] = "size 6M\n"
				  "interleave chunk=2M nbytes=6M\n"
				  "  strip 0 0 4M\n"
				  "  strip 1 0 2M\n";
	static const char good[] = "size 2M\nsimple 0 0 2M\n";
	struct cli_result r;
	struct mb want = { .n = 0 };
	char *got;
	size_t n;

	(void)state;
	/* Refused: exit 1, the fmap error alone, the old file untouched. */
	write_file(tpath("keep.fmap"), "old", 3);
	run(&r, bad, sizeof(bad) - 1, "fmap", "encode", "-o",
	    tpath("keep.fmap"), (const char *)NULL);
	check_one_line_rule(&r, "nbytes-capacity", "extent 0", "encode bad");
	cli_result_free(&r);
	got = read_file(tpath("keep.fmap"), &n);
	assert_int_equal(n, 3);
	assert_memory_equal(got, "old", 3);
	free(got);
	/* Refused to stdout: nothing on stdout. */
	run(&r, bad, sizeof(bad) - 1, "fmap", "encode", (const char *)NULL);
	check_one_line_rule(&r, "nbytes-capacity", NULL, "encode bad stdout");
	cli_result_free(&r);

	/* --no-validate writes it; inspect then refuses it by the same rule. */
	run(&r, bad, sizeof(bad) - 1, "fmap", "encode", "--no-validate", "-o",
	    tpath("keep.fmap"), (const char *)NULL);
	assert_int_equal(r.status, 0);
	cli_result_free(&r);
	hdr(&want, 0, 0, 1, 1, 1, 0, 6 * MiB, 0);
	ie(&want, 2, 2 * MiB, 6 * MiB, 0);
	se(&want, 0, 0, 0, 4 * MiB);
	se(&want, 1, 0, 0, 2 * MiB);
	got = read_file(tpath("keep.fmap"), &n);
	assert_int_equal(n, want.n);
	assert_memory_equal(got, want.b, n);
	free(got);
	RUN(&r, "fmap", "inspect", tpath("keep.fmap"));
	check_one_line_rule(&r, "nbytes-capacity", "ie_nbytes", "inspect bad");
	cli_result_free(&r);

	/* --no-validate can make messages the validator would never pass. */
	run(&r, "type 9\nsize 0\n", 14, "fmap", "encode", "--no-validate",
	    (const char *)NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out_len, 32);
	assert_int_equal((uint8_t)r.out[0], 9);
	assert_int_equal((uint8_t)r.out[8], 0); /* nextents */
	cli_result_free(&r);

	/* A valid one replaces the file whole; no temporary is left. */
	run(&r, good, sizeof(good) - 1, "fmap", "encode", "-o",
	    tpath("keep.fmap"), (const char *)NULL);
	assert_int_equal(r.status, 0);
	cli_result_free(&r);
	got = read_file(tpath("keep.fmap"), &n);
	assert_int_equal(n, 56);
	free(got);
	assert_int_equal(count_temp_files(), 0);
	/* A replaced file keeps its mode; through a symlink, the target is
	 * replaced and the link stays. */
	{
		struct stat st;

		assert_int_equal(chmod(tpath("keep.fmap"), 0640), 0);
		assert_int_equal(symlink("keep.fmap", tpath("link.fmap")), 0);
		run(&r, good, sizeof(good) - 1, "fmap", "encode", "-o",
		    tpath("link.fmap"), (const char *)NULL);
		assert_int_equal(r.status, 0);
		cli_result_free(&r);
		assert_int_equal(lstat(tpath("link.fmap"), &st), 0);
		assert_true(S_ISLNK(st.st_mode));
		assert_int_equal(stat(tpath("keep.fmap"), &st), 0);
		assert_int_equal(st.st_mode & 07777, 0640);
		assert_int_equal(st.st_size, 56);
		assert_int_equal(count_temp_files(), 0);
	}
	/* Writing into a directory that does not exist fails cleanly. */
	run(&r, good, sizeof(good) - 1, "fmap", "encode", "-o",
	    tpath("nodir/x.fmap"), (const char *)NULL);
	assert_int_equal(r.status, 3);
	assert_int_equal(cli_count_lines(r.err), 1);
	cli_result_free(&r);
}

static void test_encode_syntax_errors(void **state)
{
	static const struct {
		const char *in;
		const char *where;
	} cases[] = {
		{ "size 10M\nsimple 0 0 4X\n", "<stdin>:2:12: " },
		{ "size 10M\nfoo 1\n", "<stdin>:2:1: " },
		{ "size 10M\n  strip 0 0 4M\n", "<stdin>:2:3: " },
		{ "size 10M\nsimple 0 0\n", "<stdin>:2:1: " },
		{ "size 10M\nsimple 0 0 2M extra\n", "<stdin>:2:15: " },
		{ "size 1M\nsize 2M\n", "<stdin>:2:1: " },
		{ "# no size\nsimple 0 0 2M\n", "<stdin>: no 'size' line" },
		{ "size 4M\nsimple 0 0 2M\ninterleave chunk=2M nbytes=2M\n",
		  "<stdin>:3:1: " },
		{ "size 4M\ninterleave chunk=2M\n", "<stdin>:2:1: " },
		{ "size 4M\ninterleave chunk=5G nbytes=2M\n", "<stdin>:2:18: " },
		{ "size 4M\ninterleave chunk=2M nbytes=2M size=3\n",
		  "<stdin>:2:31: " },
		{ "size 4M\nsimple 4294967296 0 2M\n", "<stdin>:2:8: " },
		{ "size 4M\nsimple 0 0 2M \xc3\xa9\n", "<stdin>:2:15: " },
		{ "type folder\nsize 4M\n", "<stdin>:1:6: " },
		{ "size -1\n", "<stdin>:1:6: " },
		{ "size 99999999999999999999\n", "<stdin>:1:6: " },
		{ "{\n  \"file_type\": 7.5\n}", "<stdin>:2:16: " },
		{ "{\n \"a\": [1,]\n}", "<stdin>:2:10: " },
		{ "  {\"file_type\": \"regular\", \"file_type\": \"log\"}",
		  "<stdin>:1:28: " },
	};
	struct cli_result r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(&r, cases[i].in, strlen(cases[i].in), "fmap", "encode",
		    (const char *)NULL);
		if (r.status != 1 || cli_count_lines(r.err) != 1 ||
		    !strstr(r.err, cases[i].where))
			fail_msg("case %zu: exit %d, stderr [%s], want [%s]", i,
				 r.status, r.err, cases[i].where);
		assert_true(!strncmp(r.err, "famrt fmap encode: ", 19));
		assert_int_equal(r.out_len, 0);
		cli_result_free(&r);
	}
	/* A named file is named in the message. */
	write_file(tpath("d.txt"), "size 4M\nbogus\n", 14);
	RUN(&r, "fmap", "encode", tpath("d.txt"));
	assert_int_equal(r.status, 1);
	{
		char want[600];

		snprintf(want, sizeof(want), "%s:2:1: ", tpath("d.txt"));
		assert_non_null(strstr(r.err, want));
	}
	cli_result_free(&r);
}

static void test_encode_not_to_terminal(void **state)
{
	static const char good[] = "size 2M\nsimple 0 0 2M\n";
	struct cli_result r;
	int m, s;

	(void)state;
	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) || unlockpt(m)) {
		if (m >= 0)
			close(m);
		skip();
	}
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	assert_true(s >= 0);
	assert_int_equal(cli_run_fd((const char *[]){ "fmap", "encode", NULL },
				    good, sizeof(good) - 1, s, &r),
			 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "terminal"));
	cli_result_free(&r);
	/* -o FILE is fine with a terminal on stdout. */
	assert_int_equal(cli_run_fd((const char *[]){ "fmap", "encode", "-o",
						      tpath("tty.fmap"), NULL },
				    good, sizeof(good) - 1, s, &r),
			 0);
	assert_int_equal(r.status, 0);
	cli_result_free(&r);
	close(s);
	close(m);
}

/* docs/examples: the binary messages are what their descriptions encode to. */
static void test_docs_examples(void **state)
{
	static const char *const names[] = { "simple", "interleaved",
					     "multidev" };
	const char *src = getenv("FAMRT_SRC_DIR");
	char txt[1024], bin[1024];
	struct cli_result r;

	(void)state;
	assert_non_null(src);
	for (size_t i = 0; i < 3; i++) {
		size_t n;
		char *want;

		snprintf(txt, sizeof(txt), "%s/docs/examples/%s.txt", src,
			 names[i]);
		snprintf(bin, sizeof(bin), "%s/docs/examples/%s.fmap", src,
			 names[i]);
		RUN(&r, "fmap", "encode", txt);
		assert_int_equal(r.status, 0);
		want = read_file(bin, &n);
		assert_int_equal(r.out_len, n);
		assert_memory_equal(r.out, want, n);
		free(want);
		cli_result_free(&r);
	}
	/* The interleaved example is the doc's worked example. */
	snprintf(bin, sizeof(bin), "%s/docs/examples/interleaved.fmap", src);
	RUN(&r, "fmap", "inspect", bin, "--resolve", "15M:1M");
	assert_int_equal(r.status, 0);
	assert_has_line(r.out, "15728640 3 70254592 1048576");
	cli_result_free(&r);
	/* The bad example is refused, and its message is what it encodes to
	 * without validation. */
	snprintf(txt, sizeof(txt), "%s/docs/examples/bad-nbytes.txt", src);
	snprintf(bin, sizeof(bin), "%s/docs/examples/bad-nbytes.fmap", src);
	RUN(&r, "fmap", "encode", txt);
	check_one_line_rule(&r, "nbytes-capacity", NULL, "bad example");
	cli_result_free(&r);
	RUN(&r, "fmap", "inspect", bin);
	check_one_line_rule(&r, "nbytes-capacity", NULL, "bad example msg");
	cli_result_free(&r);
	RUN(&r, "fmap", "encode", "--no-validate", txt);
	assert_int_equal(r.status, 0);
	{
		size_t n;
		char *want = read_file(bin, &n);

		assert_int_equal(r.out_len, n);
		assert_memory_equal(r.out, want, n);
		free(want);
	}
	cli_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_every_command),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_summary_simple),
		cmocka_unit_test(test_summary_interleaved),
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_resolve_matches_reference),
		cmocka_unit_test(test_run_lines_only),
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_invalid_messages),
		cmocka_unit_test(test_align),
		cmocka_unit_test(test_device_sizes),
		cmocka_unit_test(test_encode_validation),
		cmocka_unit_test(test_encode_syntax_errors),
		cmocka_unit_test(test_encode_not_to_terminal),
		cmocka_unit_test(test_docs_examples),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the fmap description parsers of the tools: the text form
 * (famrt_fmapdesc_parse_text), the JSON form (famrt_fmapdesc_parse_json)
 * and the detecting famrt_fmapdesc_parse, on the input as it comes.
 *
 * Checks:
 *  - a refusal is -EINVAL/-E2BIG/-ENOMEM with a message, and a position
 *    that is either none (line 0, column 0) or inside the input's lines;
 *  - famrt_fmapdesc_parse agrees with the parser famrt_fmapdesc_detect
 *    picks;
 *  - an accepted description is within the format's counts, and written
 *    back in text form (by this target, from docs/cli.md's syntax) parses
 *    to the same description;
 *  - when it also encodes and decodes into a valid map (4 KiB alignment, no
 *    device checks), the map's JSON from famrt_fmapdesc_write_json parses
 *    back (famrt_fmapdesc_parse_json) to the map's own description: the
 *    JSON the CLI prints is always JSON the CLI reads.
 */
#define _GNU_SOURCE /* open_memstream */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <famrt/fmap.h>

#include "fmapdesc.h"
#include "fuzz.h"
#include "json.h"

/* Results of the three parsers, and scratch for the round trips. */
static struct famrt_fmap_desc dt, dj, dp, d2, d3;

static void check_err(int rc, const struct famrt_fmapdesc_error *e,
		      const uint8_t *data, size_t size)
{
	uint32_t lines = 1;

	FUZZ_CHECK(rc == -EINVAL || rc == -E2BIG || rc == -ENOMEM);
	FUZZ_CHECK(e->message[0] != '\0');
	FUZZ_CHECK(memchr(e->message, 0, sizeof(e->message)));
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (e->line == 0)
		FUZZ_CHECK(e->col == 0);
	else
		FUZZ_CHECK(e->line <= lines && e->col >= 1 &&
			   e->col <= size + 1);
}

/* The counts every consumer relies on. */
static void check_counts(const struct famrt_fmap_desc *d)
{
	FUZZ_CHECK(d->nextents <= FAMRT_FMAP_MAX_EXTENTS);
	FUZZ_CHECK(d->ext_type <= FAMRT_FMAP_EXT_INTERLEAVE);
	for (uint32_t i = 0; i < d->nextents; i++) {
		const struct famrt_fmap_extent *x = &d->extents[i];

		FUZZ_CHECK(x->nstrips <= FAMRT_FMAP_MAX_STRIPS);
		if (d->ext_type == FAMRT_FMAP_EXT_SIMPLE)
			FUZZ_CHECK(x->nstrips == 1 && x->chunk_size == 0 &&
				   x->nbytes == x->strips[0].len);
	}
}

static bool same_desc(const struct famrt_fmap_desc *a,
		      const struct famrt_fmap_desc *b)
{
	if (a->file_type != b->file_type || a->ext_type != b->ext_type ||
	    a->nextents != b->nextents || a->file_size != b->file_size)
		return false;
	for (uint32_t i = 0; i < a->nextents; i++) {
		const struct famrt_fmap_extent *x = &a->extents[i];
		const struct famrt_fmap_extent *y = &b->extents[i];

		if (x->nstrips != y->nstrips ||
		    x->chunk_size != y->chunk_size || x->nbytes != y->nbytes)
			return false;
		for (uint32_t j = 0; j < x->nstrips; j++)
			if (x->strips[j].devindex != y->strips[j].devindex ||
			    x->strips[j].offset != y->strips[j].offset ||
			    x->strips[j].len != y->strips[j].len)
				return false;
	}
	return true;
}

/* The text form of d, as docs/cli.md gives it. */
static char *to_text(const struct famrt_fmap_desc *d, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	FUZZ_CHECK(f);
	fprintf(f, "# written back by fuzz_fmapdesc\ntype %u\nsize %llu\n",
		d->file_type, (unsigned long long)d->file_size);
	for (uint32_t i = 0; i < d->nextents; i++) {
		const struct famrt_fmap_extent *x = &d->extents[i];

		if (d->ext_type == FAMRT_FMAP_EXT_SIMPLE) {
			fprintf(f, "simple %u 0x%llx %llu\n",
				x->strips[0].devindex,
				(unsigned long long)x->strips[0].offset,
				(unsigned long long)x->strips[0].len);
			continue;
		}
		fprintf(f, "  interleave nbytes=%llu chunk=%u\n",
			(unsigned long long)x->nbytes, x->chunk_size);
		for (uint32_t j = 0; j < x->nstrips; j++)
			fprintf(f, "\tstrip %u %llu 0x%llX # strip %u\n",
				x->strips[j].devindex,
				(unsigned long long)x->strips[j].offset,
				(unsigned long long)x->strips[j].len, j);
	}
	FUZZ_CHECK(fclose(f) == 0);
	return out;
}

static void text_round_trip(const struct famrt_fmap_desc *d)
{
	struct famrt_fmapdesc_error err;
	size_t len = 0;
	char *t = to_text(d, &len);
	int rc = famrt_fmapdesc_parse_text(t, len, &d2, &err);

	if (rc) {
		fprintf(stderr, "text written back refused: line %u col %u: "
				"%s\n%s",
			err.line, err.col, err.message, t);
		FUZZ_CHECK(0 && "the text form parses back");
	}
	FUZZ_CHECK(famrt_fmapdesc_detect(t, len) == FAMRT_FMAPDESC_TEXT);
	FUZZ_CHECK(same_desc(d, &d2));
	free(t);
}

/* A valid map from d? Then its printed JSON must read back as its desc. */
static void json_round_trip(const struct famrt_fmap_desc *d)
{
	static uint8_t msg[FAMRT_FMAP_MSG_MAX];
	const struct famrt_fmap_limits lim = { .size = sizeof(lim),
					       .align = 4096 };
	struct famrt_fmapdesc_error err;
	struct famrt_fmap_error ferr;
	struct famrt_fmap *map;
	struct famrt_jw w;
	char *out = NULL;
	size_t len = 0;
	ssize_t mlen;
	FILE *f;
	int rc;

	mlen = famrt_fmap_desc_encode(d, msg, sizeof(msg));
	if (mlen < 0)
		return;
	if (famrt_fmap_decode(msg, (size_t)mlen, &lim, &map, &ferr))
		return;
	famrt_fmap_to_desc(map, &d3);
	/* The map is what was described. */
	FUZZ_CHECK(same_desc(d, &d3));
	f = open_memstream(&out, &len);
	FUZZ_CHECK(f);
	famrt_jw_init(&w, f, len & 1);
	famrt_jw_obj_begin(&w, NULL);
	famrt_fmapdesc_write_json(&w, map);
	famrt_jw_obj_end(&w);
	FUZZ_CHECK(famrt_jw_finish(&w) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	FUZZ_CHECK(famrt_fmapdesc_detect(out, len) == FAMRT_FMAPDESC_JSON);
	rc = famrt_fmapdesc_parse_json(out, len, &d2, &err);
	if (rc) {
		fprintf(stderr, "JSON written back refused: %s\n%s",
			err.message, out);
		FUZZ_CHECK(0 && "the JSON form parses back");
	}
	FUZZ_CHECK(same_desc(&d3, &d2));
	famrt_fmap_free(map);
	free(out);
}

static void one(int rc, const struct famrt_fmapdesc_error *err,
		const struct famrt_fmap_desc *d, const uint8_t *data,
		size_t size)
{
	if (rc) {
		check_err(rc, err, data, size);
		return;
	}
	check_counts(d);
	text_round_trip(d);
	json_round_trip(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct famrt_fmapdesc_error e1, e2, e3;
	int r1, r2, r3;
	bool json = famrt_fmapdesc_detect(in, size) == FAMRT_FMAPDESC_JSON;

	r1 = famrt_fmapdesc_parse_text(in, size, &dt, &e1);
	one(r1, &e1, &dt, data, size);
	r2 = famrt_fmapdesc_parse_json(in, size, &dj, &e2);
	one(r2, &e2, &dj, data, size);
	r3 = famrt_fmapdesc_parse(in, size, &dp, &e3);
	FUZZ_CHECK(r3 == (json ? r2 : r1));
	if (r3)
		FUZZ_CHECK(!strcmp(e3.message, json ? e2.message : e1.message));
	else
		FUZZ_CHECK(same_desc(&dp, json ? &dj : &dt));
	return 0;
}

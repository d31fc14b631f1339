/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fmap descriptions for people: a short text form and the JSON form that
 * `famrt fmap inspect --json` prints, both read into a struct
 * famrt_fmap_desc; and the JSON form written from a map. Syntax only: the
 * result is not validated here (famrt_fmap_build() does that), so that
 * tools can make invalid messages on purpose. See docs/cli.md.
 */
#ifndef FAMRT_TOOLS_FMAPDESC_H
#define FAMRT_TOOLS_FMAPDESC_H

#include <stddef.h>
#include <stdint.h>

#include <famrt/fmap.h>

#include "json.h"

struct famrt_fmapdesc_error {
	uint32_t line;     /* 1-based; 0 when the problem has no one place */
	uint32_t col;      /* 1-based, in bytes; 0 with line 0 */
	char message[256]; /* what is wrong, without the position */
};

enum famrt_fmapdesc_format {
	FAMRT_FMAPDESC_TEXT = 0,
	FAMRT_FMAPDESC_JSON = 1,
};

/* JSON when the first byte that is not white space is '{', else text. */
enum famrt_fmapdesc_format famrt_fmapdesc_detect(const char *buf, size_t len);

/*
 * Parse a description (text, JSON, or whichever famrt_fmapdesc_detect()
 * says) into *desc. Returns 0, or -EINVAL with *err saying where and what
 * (-ENOMEM, -E2BIG for JSON beyond its limits).
 */
int famrt_fmapdesc_parse_text(const char *buf, size_t len,
			      struct famrt_fmap_desc *desc,
			      struct famrt_fmapdesc_error *err);
int famrt_fmapdesc_parse_json(const char *buf, size_t len,
			      struct famrt_fmap_desc *desc,
			      struct famrt_fmapdesc_error *err);
int famrt_fmapdesc_parse(const char *buf, size_t len,
			 struct famrt_fmap_desc *desc,
			 struct famrt_fmapdesc_error *err);

/* "regular", "superblock", "log"; NULL for other values. */
const char *famrt_fmapdesc_file_type_name(unsigned type);
/* "simple", "interleaved"; NULL for other values. */
const char *famrt_fmapdesc_ext_type_name(unsigned type);

/*
 * Write the members file_type, fmap_version, ext_type, file_size,
 * nextents and extents (with file_offset, file_bytes, nstrips, chunk_size,
 * nbytes and strips) of map into the object w has open.
 */
void famrt_fmapdesc_write_json(struct famrt_jw *w,
			       const struct famrt_fmap *map);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A strict, bounded JSON parser and a streaming JSON writer, private to the
 * tools (the library never speaks JSON).
 *
 * The parser accepts exactly RFC 8259 JSON: UTF-8 only (no BOM), no
 * comments, no trailing commas, no duplicate keys in an object, nothing but
 * white space after the top-level value. It never recurses: nesting is an
 * explicit stack bounded by max_depth, and input is bounded by max_size and
 * its number of values (hence memory) by max_values.
 * Numbers are kept as their source text and, when they are a plain
 * non-negative integer that fits, as an exact uint64_t (never through a
 * double).
 */
#ifndef FAMRT_TOOLS_JSON_H
#define FAMRT_TOOLS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FAMRT_JSON_DEFAULT_MAX_DEPTH 32u
#define FAMRT_JSON_DEFAULT_MAX_SIZE (8u << 20)
#define FAMRT_JSON_MAX_MAX_SIZE (1u << 30)
#define FAMRT_JSON_MAX_MAX_DEPTH 4096u
#define FAMRT_JSON_DEFAULT_MAX_VALUES 1000000u

enum famrt_json_type {
	FAMRT_JSON_NULL = 0,
	FAMRT_JSON_FALSE,
	FAMRT_JSON_TRUE,
	FAMRT_JSON_NUMBER,
	FAMRT_JSON_STRING,
	FAMRT_JSON_ARRAY,
	FAMRT_JSON_OBJECT,
};

/* What kind of number a FAMRT_JSON_NUMBER is. */
enum famrt_json_numkind {
	FAMRT_JSON_NUM_U64 = 0,  /* integer in 0..2^64-1; u64 holds it */
	FAMRT_JSON_NUM_NEGATIVE, /* integer below 0 (text only) */
	FAMRT_JSON_NUM_FRACTION, /* has a fraction or an exponent */
	FAMRT_JSON_NUM_HUGE,     /* integer above 2^64-1 */
};

/* Why parsing failed. */
enum famrt_json_errcode {
	FAMRT_JSON_OK = 0,
	FAMRT_JSON_E_ARG,        /* bad arguments or options */
	FAMRT_JSON_E_TOO_LARGE,  /* input over max_size or max_values */
	FAMRT_JSON_E_EMPTY,      /* no value at all */
	FAMRT_JSON_E_TRUNCATED,  /* input ends inside a value */
	FAMRT_JSON_E_UNEXPECTED, /* a character that has no place here */
	FAMRT_JSON_E_LITERAL,    /* misspelt true, false or null */
	FAMRT_JSON_E_NUMBER,     /* malformed number */
	FAMRT_JSON_E_ESCAPE,     /* bad backslash escape in a string */
	FAMRT_JSON_E_SURROGATE,  /* unpaired UTF-16 surrogate in \u escapes */
	FAMRT_JSON_E_CONTROL,    /* raw control character in a string */
	FAMRT_JSON_E_UTF8,       /* invalid UTF-8 */
	FAMRT_JSON_E_DEPTH,      /* nesting deeper than max_depth */
	FAMRT_JSON_E_DUPLICATE,  /* the same key twice in one object */
	FAMRT_JSON_E_TRAILING,   /* something after the top-level value */
	FAMRT_JSON_E_NOMEM,      /* out of memory */
	FAMRT_JSON_E_COUNT_
};

struct famrt_json_error {
	enum famrt_json_errcode code;
	size_t offset;     /* byte offset of the problem in the input */
	uint32_t line;     /* 1-based */
	uint32_t col;      /* 1-based, in bytes */
	char message[200]; /* "line L column C: what" */
};

struct famrt_json_opts {
	size_t size;         /* sizeof(struct famrt_json_opts) */
	size_t max_size;     /* 0: FAMRT_JSON_DEFAULT_MAX_SIZE */
	uint32_t max_depth;  /* 0: FAMRT_JSON_DEFAULT_MAX_DEPTH */
	uint32_t max_values; /* 0: FAMRT_JSON_DEFAULT_MAX_VALUES (each value
			      * costs about 100 bytes of memory) */
};

/*
 * A parsed value. Everything is read-only and lives as long as its
 * document. Strings are NUL-terminated and may also contain NULs (from
 * \u0000): use len. For object members, key/key_len name the member and
 * key_line/key_col say where the key is.
 */
struct famrt_json_value {
	enum famrt_json_type type;
	enum famrt_json_numkind numkind;  /* numbers only */
	uint64_t u64;                     /* numbers of kind U64 */
	const char *str;                  /* string value or number text */
	size_t len;
	const char *key;                  /* member of an object, else NULL */
	size_t key_len;
	uint32_t line, col;               /* where the value starts */
	uint32_t key_line, key_col;
	uint32_t count;                   /* members of an array or object */
	const struct famrt_json_value *child; /* first member */
	const struct famrt_json_value *next;  /* next member of the parent */
	/* private to the parser */
	uint32_t i_child_, i_last_, i_next_;
};

struct famrt_json_doc;

/*
 * Parse in[0..len) (it need not be NUL-terminated). opts may be NULL.
 * Returns 0 and *out, or a negative errno (-EINVAL malformed, -E2BIG over
 * max_size or max_depth, -ENOMEM) with *out NULL and *err filled.
 */
int famrt_json_parse(const char *in, size_t len,
		     const struct famrt_json_opts *opts,
		     struct famrt_json_doc **out, struct famrt_json_error *err);

void famrt_json_free(struct famrt_json_doc *doc);

const struct famrt_json_value *
famrt_json_root(const struct famrt_json_doc *doc);

/* Short name of an error code ("duplicate-key", ...), never NULL. */
const char *famrt_json_errcode_name(enum famrt_json_errcode code);

/* "object", "string", ... never NULL. */
const char *famrt_json_type_name(enum famrt_json_type type);

/* The member named key of an object, or NULL (also if obj is no object). */
const struct famrt_json_value *
famrt_json_get(const struct famrt_json_value *obj, const char *key);

/*
 * The value as a uint64_t: 0, -EINVAL when it is not a number or not an
 * integer (fraction, exponent), -ERANGE when negative or above 2^64-1.
 */
int famrt_json_get_u64(const struct famrt_json_value *v, uint64_t *out);

/*
 * Write a printable, quoted rendering of s[0..len) into out (at most
 * outlen bytes with the NUL), shortened with "..." when too long. For
 * error messages. Returns out.
 */
char *famrt_json_quote(const char *s, size_t len, char *out, size_t outlen);

/*
 * The writer. Build a document with begin/end and value calls; each takes
 * the member's key when inside an object and NULL otherwise. Errors
 * (misuse, a failed write) are sticky and reported by famrt_jw_finish().
 * Strings are written as valid UTF-8 JSON whatever the input: invalid
 * bytes become U+FFFD.
 */
#define FAMRT_JW_MAX_DEPTH 32

struct famrt_jw {
	FILE *f;
	int err;
	int depth;
	bool pretty;
	bool done;                          /* a top-level value is complete */
	bool is_obj[FAMRT_JW_MAX_DEPTH];
	bool empty[FAMRT_JW_MAX_DEPTH];
};

void famrt_jw_init(struct famrt_jw *w, FILE *f, bool pretty);
void famrt_jw_obj_begin(struct famrt_jw *w, const char *key);
void famrt_jw_obj_end(struct famrt_jw *w);
void famrt_jw_arr_begin(struct famrt_jw *w, const char *key);
void famrt_jw_arr_end(struct famrt_jw *w);
void famrt_jw_u64(struct famrt_jw *w, const char *key, uint64_t v);
void famrt_jw_str(struct famrt_jw *w, const char *key, const char *s);
void famrt_jw_strn(struct famrt_jw *w, const char *key, const char *s,
		   size_t len);
void famrt_jw_bool(struct famrt_jw *w, const char *key, bool v);
void famrt_jw_null(struct famrt_jw *w, const char *key);

/*
 * End the document: writes the final newline and flushes. Returns 0, or
 * -EINVAL (misuse: unbalanced, a key where none belongs or none where one
 * is needed, two top-level values, nesting over FAMRT_JW_MAX_DEPTH), or the
 * -errno of a failed write.
 */
int famrt_jw_finish(struct famrt_jw *w);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fmapdesc.h"
#include "size.h"

static const char *const file_types[] = { "regular", "superblock", "log" };
static const char *const ext_types[] = { "simple", "interleaved" };

const char *famrt_fmapdesc_file_type_name(unsigned type)
{
	return type < 3 ? file_types[type] : NULL;
}

const char *famrt_fmapdesc_ext_type_name(unsigned type)
{
	return type < 2 ? ext_types[type] : NULL;
}

__attribute__((format(printf, 4, 5))) static int
dfail(struct famrt_fmapdesc_error *err, uint32_t line, uint32_t col,
      const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->line = line;
		err->col = line ? col : 0;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

enum famrt_fmapdesc_format famrt_fmapdesc_detect(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		return c == '{' ? FAMRT_FMAPDESC_JSON : FAMRT_FMAPDESC_TEXT;
	}
	return FAMRT_FMAPDESC_TEXT;
}

/* ---- text form ---- */

#define MAX_WORDS 8

struct word {
	const char *s;
	size_t n;
	uint32_t col;
};

struct tctx {
	struct famrt_fmap_desc *d;
	struct famrt_fmapdesc_error *err;
	uint32_t line;
	uint32_t size_line;
	uint32_t type_line;
	uint32_t simple_line; /* first simple extent */
	uint32_t ilv_line;    /* first interleaved extent */
	bool in_ilv;          /* strips go to the last interleaved extent */
};

static bool word_is(const struct word *w, const char *s)
{
	return w->n == strlen(s) && !memcmp(w->s, s, w->n);
}

/* A word for a message, quoted and cut short if long. */
static const char *wshow(const struct word *w, char buf[48])
{
	return famrt_json_quote(w->s, w->n, buf, 48);
}

static int word_size(struct tctx *c, const struct word *w, const char *what,
		     uint64_t max, uint64_t *out)
{
	char q[48];
	int rc = famrt_size_parse_n(w->s, w->n, out);

	if (rc)
		return dfail(c->err, c->line, w->col, "%s %s %s", what,
			     wshow(w, q), famrt_size_strerror(rc));
	if (*out > max)
		return dfail(c->err, c->line, w->col,
			     "%s %s is more than %llu", what, wshow(w, q),
			     (unsigned long long)max);
	return 0;
}

static int want_words(struct tctx *c, const struct word *w, size_t nw,
		      size_t want, const char *synopsis)
{
	char q[48];

	if (nw < want)
		return dfail(c->err, c->line, w[0].col,
			     "'%.*s' needs %zu values: %s", (int)w[0].n,
			     w[0].s, want - 1, synopsis);
	if (nw > want)
		return dfail(c->err, c->line, w[want].col,
			     "unexpected %s after '%s'", wshow(&w[want], q),
			     synopsis);
	return 0;
}

/* devindex offset len, as in "simple" and "strip" lines. */
static int parse_place(struct tctx *c, const struct word *w,
		       struct famrt_fmap_strip *s)
{
	uint64_t dev;
	int rc;

	rc = word_size(c, &w[1], "devindex", UINT32_MAX, &dev);
	if (rc)
		return rc;
	s->devindex = (uint32_t)dev;
	rc = word_size(c, &w[2], "offset", UINT64_MAX, &s->offset);
	if (rc)
		return rc;
	return word_size(c, &w[3], "length", UINT64_MAX, &s->len);
}

static int kind_check(struct tctx *c, const struct word *w, bool ilv)
{
	if (ilv && c->simple_line)
		return dfail(c->err, c->line, w->col,
			     "interleaved and simple extents cannot be mixed "
			     "(a simple extent is on line %u)",
			     c->simple_line);
	if (!ilv && c->ilv_line)
		return dfail(c->err, c->line, w->col,
			     "simple and interleaved extents cannot be mixed "
			     "(an interleaved extent is on line %u)",
			     c->ilv_line);
	if (c->d->nextents >= FAMRT_FMAP_MAX_EXTENTS)
		return dfail(c->err, c->line, w->col,
			     "more than %u extents", FAMRT_FMAP_MAX_EXTENTS);
	return 0;
}

static int do_type(struct tctx *c, const struct word *w, size_t nw)
{
	uint64_t v;
	int rc = want_words(c, w, nw, 2, "type regular|superblock|log");

	if (rc)
		return rc;
	if (c->type_line)
		return dfail(c->err, c->line, w[0].col,
			     "a second 'type' line (the first is line %u)",
			     c->type_line);
	c->type_line = c->line;
	for (unsigned t = 0; t < 3; t++) {
		if (word_is(&w[1], file_types[t])) {
			c->d->file_type = (uint8_t)t;
			return 0;
		}
	}
	/* A number makes any file_type byte, for invalid test messages. */
	if (w[1].s[0] >= '0' && w[1].s[0] <= '9' &&
	    !famrt_size_parse_n(w[1].s, w[1].n, &v) && v <= UINT8_MAX) {
		c->d->file_type = (uint8_t)v;
		return 0;
	}
	{
		char q[48];

		return dfail(c->err, c->line, w[1].col,
			     "unknown file type %s (regular, superblock, log, "
			     "or a number 0 to 255)",
			     wshow(&w[1], q));
	}
}

static int do_size(struct tctx *c, const struct word *w, size_t nw)
{
	int rc = want_words(c, w, nw, 2, "size BYTES");

	if (rc)
		return rc;
	if (c->size_line)
		return dfail(c->err, c->line, w[0].col,
			     "a second 'size' line (the first is line %u)",
			     c->size_line);
	c->size_line = c->line;
	return word_size(c, &w[1], "size", UINT64_MAX, &c->d->file_size);
}

static int do_simple(struct tctx *c, const struct word *w, size_t nw)
{
	struct famrt_fmap_extent *e;
	int rc = want_words(c, w, nw, 4, "simple DEVINDEX OFFSET LENGTH");

	if (rc)
		return rc;
	rc = kind_check(c, &w[0], false);
	if (rc)
		return rc;
	e = &c->d->extents[c->d->nextents];
	memset(e, 0, sizeof(*e));
	rc = parse_place(c, w, &e->strips[0]);
	if (rc)
		return rc;
	e->nstrips = 1;
	e->nbytes = e->strips[0].len;
	if (!c->simple_line)
		c->simple_line = c->line;
	c->d->ext_type = FAMRT_FMAP_EXT_SIMPLE;
	c->d->nextents++;
	c->in_ilv = false;
	return 0;
}

static int do_interleave(struct tctx *c, const struct word *w, size_t nw)
{
	static const char synopsis[] = "interleave chunk=BYTES nbytes=BYTES";
	struct famrt_fmap_extent *e;
	bool have_chunk = false, have_nbytes = false;
	int rc;

	rc = kind_check(c, &w[0], true);
	if (rc)
		return rc;
	e = &c->d->extents[c->d->nextents];
	memset(e, 0, sizeof(*e));
	for (size_t i = 1; i < nw; i++) {
		const char *eq = memchr(w[i].s, '=', w[i].n);
		struct word key, val;
		uint64_t v;
		char q[48];

		if (!eq)
			return dfail(c->err, c->line, w[i].col,
				     "expected chunk=BYTES or nbytes=BYTES, "
				     "found %s",
				     wshow(&w[i], q));
		key = w[i];
		key.n = (size_t)(eq - w[i].s);
		val.s = eq + 1;
		val.n = w[i].n - key.n - 1;
		val.col = w[i].col + (uint32_t)key.n + 1;
		if (word_is(&key, "chunk")) {
			if (have_chunk)
				return dfail(c->err, c->line, w[i].col,
					     "chunk= given twice");
			rc = word_size(c, &val, "chunk size", UINT32_MAX, &v);
			if (rc)
				return rc;
			e->chunk_size = (uint32_t)v;
			have_chunk = true;
		} else if (word_is(&key, "nbytes")) {
			if (have_nbytes)
				return dfail(c->err, c->line, w[i].col,
					     "nbytes= given twice");
			rc = word_size(c, &val, "nbytes", UINT64_MAX,
				       &e->nbytes);
			if (rc)
				return rc;
			have_nbytes = true;
		} else {
			return dfail(c->err, c->line, w[i].col,
				     "unknown setting %s (expected chunk= or "
				     "nbytes=)",
				     wshow(&key, q));
		}
	}
	if (!have_chunk || !have_nbytes)
		return dfail(c->err, c->line, w[0].col, "%s: %s missing",
			     synopsis, have_chunk ? "nbytes=" : "chunk=");
	if (!c->ilv_line)
		c->ilv_line = c->line;
	c->d->ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	c->d->nextents++;
	c->in_ilv = true;
	return 0;
}

static int do_strip(struct tctx *c, const struct word *w, size_t nw)
{
	struct famrt_fmap_extent *e;
	int rc = want_words(c, w, nw, 4, "strip DEVINDEX OFFSET LENGTH");

	if (rc)
		return rc;
	if (!c->in_ilv)
		return dfail(c->err, c->line, w[0].col,
			     "a 'strip' line must follow an 'interleave' line "
			     "or another strip");
	e = &c->d->extents[c->d->nextents - 1];
	if (e->nstrips >= FAMRT_FMAP_MAX_STRIPS)
		return dfail(c->err, c->line, w[0].col,
			     "more than %u strips in one interleaved extent",
			     FAMRT_FMAP_MAX_STRIPS);
	rc = parse_place(c, w, &e->strips[e->nstrips]);
	if (rc)
		return rc;
	e->nstrips++;
	return 0;
}

/* Split one line into words; '#' starts a comment. */
static int split(struct tctx *c, const char *p, size_t n, struct word *w,
		 size_t *nw)
{
	size_t i = 0, k = 0;

	while (i < n) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == ' ' || ch == '\t' || ch == '\r') {
			i++;
			continue;
		}
		if (ch == '#') {
			/* Comments may hold any text but NUL. */
			const char *nul = memchr(p + i, '\0', n - i);

			if (nul)
				return dfail(c->err, c->line,
					     (uint32_t)(nul - p) + 1,
					     "NUL byte in a comment");
			break;
		}
		if (ch < 0x21 || ch > 0x7e)
			return dfail(c->err, c->line, (uint32_t)i + 1,
				     "unexpected byte 0x%02x (only printable "
				     "ASCII outside comments)",
				     ch);
		if (k == MAX_WORDS)
			return dfail(c->err, c->line, (uint32_t)i + 1,
				     "too many words on one line");
		w[k].s = p + i;
		w[k].col = (uint32_t)i + 1;
		while (i < n && p[i] > 0x20 && p[i] < 0x7f && p[i] != '#')
			i++;
		w[k].n = (size_t)(p + i - w[k].s);
		k++;
	}
	*nw = k;
	return 0;
}

int famrt_fmapdesc_parse_text(const char *buf, size_t len,
			      struct famrt_fmap_desc *desc,
			      struct famrt_fmapdesc_error *err)
{
	struct tctx c = { .d = desc, .err = err };
	size_t pos = 0;

	memset(desc, 0, sizeof(*desc));
	if (err)
		memset(err, 0, sizeof(*err));
	while (pos < len) {
		const char *p = buf + pos;
		const char *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos;
		struct word w[MAX_WORDS];
		size_t nw = 0;
		char q[48];
		int rc;

		if (c.line == UINT32_MAX)
			return dfail(err, 0, 0, "too many lines");
		c.line++;
		pos += n + (nl ? 1 : 0);
		rc = split(&c, p, n, w, &nw);
		if (rc)
			return rc;
		if (!nw)
			continue;
		if (word_is(&w[0], "type"))
			rc = do_type(&c, w, nw);
		else if (word_is(&w[0], "size"))
			rc = do_size(&c, w, nw);
		else if (word_is(&w[0], "simple"))
			rc = do_simple(&c, w, nw);
		else if (word_is(&w[0], "interleave"))
			rc = do_interleave(&c, w, nw);
		else if (word_is(&w[0], "strip"))
			rc = do_strip(&c, w, nw);
		else
			rc = dfail(err, c.line, w[0].col,
				   "unknown directive %s (expected type, size, "
				   "simple, interleave or strip)",
				   wshow(&w[0], q));
		if (rc)
			return rc;
	}
	if (!c.size_line)
		return dfail(err, 0, 0,
			     "no 'size' line: the description must give the "
			     "file size");
	return 0;
}

/* ---- JSON form ---- */

struct jctx {
	struct famrt_fmapdesc_error *err;
	char path[96];
};

static int jfail_at(struct jctx *c, const struct famrt_json_value *v,
		    const char *what)
{
	if (!c->path[0])
		return dfail(c->err, v->line, v->col, "%s", what);
	return dfail(c->err, v->line, v->col, "%s: %s", c->path, what);
}

static const char *article(enum famrt_json_type t)
{
	return t == FAMRT_JSON_ARRAY || t == FAMRT_JSON_OBJECT ? "an" : "a";
}

/* Member key of obj (at path c->path); NULL (and an error) if missing. */
static const struct famrt_json_value *member(struct jctx *c,
					     const struct famrt_json_value *obj,
					     const char *key,
					     enum famrt_json_type type)
{
	const struct famrt_json_value *v = famrt_json_get(obj, key);
	char msg[160];

	if (!v) {
		snprintf(msg, sizeof(msg), "missing key \"%s\"", key);
		jfail_at(c, obj, msg);
		return NULL;
	}
	if (v->type != type) {
		snprintf(msg, sizeof(msg), "\"%s\" must be %s %s, not %s %s",
			 key, article(type), famrt_json_type_name(type),
			 article(v->type), famrt_json_type_name(v->type));
		jfail_at(c, v, msg);
		return NULL;
	}
	return v;
}

static int jnum(struct jctx *c, const struct famrt_json_value *obj,
		const char *key, uint64_t max, uint64_t *out)
{
	const struct famrt_json_value *v = famrt_json_get(obj, key);
	char msg[200], q[48];

	if (!v) {
		snprintf(msg, sizeof(msg), "missing key \"%s\"", key);
		return jfail_at(c, obj, msg);
	}
	if (v->type != FAMRT_JSON_NUMBER) {
		snprintf(msg, sizeof(msg),
			 "\"%s\" must be an unsigned integer, not %s %s", key,
			 article(v->type), famrt_json_type_name(v->type));
		return jfail_at(c, v, msg);
	}
	famrt_json_quote(v->str, v->len, q, sizeof(q));
	switch (v->numkind) {
	case FAMRT_JSON_NUM_U64:
		break;
	case FAMRT_JSON_NUM_NEGATIVE:
		snprintf(msg, sizeof(msg), "\"%s\" is %s: negative", key, q);
		return jfail_at(c, v, msg);
	case FAMRT_JSON_NUM_FRACTION:
		snprintf(msg, sizeof(msg),
			 "\"%s\" is %s: not an integer (no fraction or "
			 "exponent)",
			 key, q);
		return jfail_at(c, v, msg);
	case FAMRT_JSON_NUM_HUGE:
		snprintf(msg, sizeof(msg),
			 "\"%s\" is %s: does not fit in 64 bits", key, q);
		return jfail_at(c, v, msg);
	}
	if (v->u64 > max) {
		snprintf(msg, sizeof(msg), "\"%s\" is %s: more than %llu", key,
			 q, (unsigned long long)max);
		return jfail_at(c, v, msg);
	}
	*out = v->u64;
	return 0;
}

/* file_type or ext_type: a name from names[], or a number up to max. */
static int jtype(struct jctx *c, const struct famrt_json_value *obj,
		 const char *key, const char *const *names, unsigned nnames,
		 uint64_t max, uint8_t *out)
{
	const struct famrt_json_value *v = famrt_json_get(obj, key);
	char msg[200], q[48];
	uint64_t n;
	int rc;

	if (v && v->type == FAMRT_JSON_STRING) {
		for (unsigned i = 0; i < nnames; i++) {
			if (v->len == strlen(names[i]) &&
			    !memcmp(v->str, names[i], v->len)) {
				*out = (uint8_t)i;
				return 0;
			}
		}
		snprintf(msg, sizeof(msg), "\"%s\" %s is unknown (%s%s%s%s%s)",
			 key, famrt_json_quote(v->str, v->len, q, sizeof(q)),
			 names[0], nnames > 1 ? ", " : "",
			 nnames > 1 ? names[1] : "", nnames > 2 ? ", " : "",
			 nnames > 2 ? names[2] : "");
		return jfail_at(c, v, msg);
	}
	rc = jnum(c, obj, key, max, &n);
	if (rc)
		return rc;
	*out = (uint8_t)n;
	return 0;
}

static int jcount(struct jctx *c, const struct famrt_json_value *obj,
		  const char *key, uint32_t actual, const char *list)
{
	const struct famrt_json_value *v;
	uint64_t n;
	char msg[160];
	int rc = jnum(c, obj, key, UINT32_MAX, &n);

	if (rc)
		return rc;
	if (n != actual) {
		v = famrt_json_get(obj, key);
		snprintf(msg, sizeof(msg),
			 "\"%s\" is %llu but \"%s\" has %u entries", key,
			 (unsigned long long)n, list, actual);
		return jfail_at(c, v, msg);
	}
	return 0;
}

static int jstrip(struct jctx *c, const struct famrt_json_value *o,
		  struct famrt_fmap_strip *s)
{
	uint64_t dev = 0;
	int rc;

	if (o->type != FAMRT_JSON_OBJECT)
		return jfail_at(c, o, "a strip must be an object");
	rc = jnum(c, o, "devindex", UINT32_MAX, &dev);
	if (!rc)
		rc = jnum(c, o, "offset", UINT64_MAX, &s->offset);
	if (!rc)
		rc = jnum(c, o, "len", UINT64_MAX, &s->len);
	s->devindex = (uint32_t)dev;
	return rc;
}

static int jextent(struct jctx *c, const struct famrt_json_value *o,
		   bool ilv, struct famrt_fmap_extent *e)
{
	const struct famrt_json_value *strips, *s;
	size_t plen = strlen(c->path);
	uint64_t chunk, nbytes;
	uint32_t k = 0;
	char msg[160];
	int rc;

	if (o->type != FAMRT_JSON_OBJECT)
		return jfail_at(c, o, "an extent must be an object");
	strips = member(c, o, "strips", FAMRT_JSON_ARRAY);
	if (!strips)
		return -EINVAL;
	if (strips->count > FAMRT_FMAP_MAX_STRIPS) {
		snprintf(msg, sizeof(msg), "more than %u strips",
			 FAMRT_FMAP_MAX_STRIPS);
		return jfail_at(c, strips, msg);
	}
	rc = jcount(c, o, "nstrips", strips->count, "strips");
	if (rc)
		return rc;
	rc = jnum(c, o, "chunk_size", UINT32_MAX, &chunk);
	if (rc)
		return rc;
	rc = jnum(c, o, "nbytes", UINT64_MAX, &nbytes);
	if (rc)
		return rc;
	for (s = strips->child; s; s = s->next, k++) {
		snprintf(c->path + plen, sizeof(c->path) - plen,
			 ".strips[%u]", k);
		rc = jstrip(c, s, &e->strips[k]);
		if (rc)
			return rc;
	}
	c->path[plen] = '\0';
	e->nstrips = strips->count;
	e->chunk_size = (uint32_t)chunk;
	e->nbytes = nbytes;
	if (!ilv) {
		if (strips->count != 1)
			return jfail_at(c, strips,
					"a simple extent has exactly one "
					"strip");
		if (chunk != 0)
			return jfail_at(c, famrt_json_get(o, "chunk_size"),
					"a simple extent has chunk_size 0");
		if (nbytes != e->strips[0].len)
			return jfail_at(c, famrt_json_get(o, "nbytes"),
					"a simple extent's nbytes is its "
					"strip's len");
	}
	return 0;
}

static void strip_position(char *msg)
{
	/* "line L column C: what" -> "what" */
	char *p = strstr(msg, ": ");

	if (!strncmp(msg, "line ", 5) && p)
		memmove(msg, p + 2, strlen(p + 2) + 1);
}

int famrt_fmapdesc_parse_json(const char *buf, size_t len,
			      struct famrt_fmap_desc *desc,
			      struct famrt_fmapdesc_error *err)
{
	struct jctx c = { .err = err, .path = "" };
	struct famrt_json_error je;
	struct famrt_json_doc *doc;
	const struct famrt_json_value *root, *exts, *e, *ver;
	uint64_t v;
	uint32_t i = 0;
	int rc;

	memset(desc, 0, sizeof(*desc));
	if (err)
		memset(err, 0, sizeof(*err));
	rc = famrt_json_parse(buf, len, NULL, &doc, &je);
	if (rc) {
		strip_position(je.message);
		if (err) {
			err->line = je.line;
			err->col = je.col;
			snprintf(err->message, sizeof(err->message),
				 "JSON: %s", je.message);
		}
		return rc;
	}
	root = famrt_json_root(doc);
	if (root->type != FAMRT_JSON_OBJECT) {
		rc = jfail_at(&c, root, "must be a JSON object");
		goto out;
	}
	rc = jtype(&c, root, "file_type", file_types, 3, UINT8_MAX,
		   &desc->file_type);
	if (rc)
		goto out;
	rc = jnum(&c, root, "fmap_version", UINT64_MAX, &v);
	if (rc)
		goto out;
	if (v != FAMRT_FMAP_VERSION) {
		ver = famrt_json_get(root, "fmap_version");
		rc = jfail_at(&c, ver, "only fmap_version 1 can be encoded");
		goto out;
	}
	rc = jtype(&c, root, "ext_type", ext_types, 2, 1, &desc->ext_type);
	if (rc)
		goto out;
	rc = jnum(&c, root, "file_size", UINT64_MAX, &desc->file_size);
	if (rc)
		goto out;
	exts = member(&c, root, "extents", FAMRT_JSON_ARRAY);
	if (!exts) {
		rc = -EINVAL;
		goto out;
	}
	if (exts->count > FAMRT_FMAP_MAX_EXTENTS) {
		rc = jfail_at(&c, exts, "more than 32 extents");
		goto out;
	}
	rc = jcount(&c, root, "nextents", exts->count, "extents");
	if (rc)
		goto out;
	for (e = exts->child; e; e = e->next, i++) {
		snprintf(c.path, sizeof(c.path), "extents[%u]", i);
		rc = jextent(&c, e, desc->ext_type == FAMRT_FMAP_EXT_INTERLEAVE,
			     &desc->extents[i]);
		if (rc)
			goto out;
	}
	desc->nextents = exts->count;
out:
	famrt_json_free(doc);
	return rc;
}

int famrt_fmapdesc_parse(const char *buf, size_t len,
			 struct famrt_fmap_desc *desc,
			 struct famrt_fmapdesc_error *err)
{
	if (famrt_fmapdesc_detect(buf, len) == FAMRT_FMAPDESC_JSON)
		return famrt_fmapdesc_parse_json(buf, len, desc, err);
	return famrt_fmapdesc_parse_text(buf, len, desc, err);
}

void famrt_fmapdesc_write_json(struct famrt_jw *w,
			       const struct famrt_fmap *map)
{
	uint32_t n = famrt_fmap_nextents(map);
	const char *ft, *et;

	ft = famrt_fmapdesc_file_type_name(famrt_fmap_file_type(map));
	et = famrt_fmapdesc_ext_type_name(famrt_fmap_ext_type(map));

	/* A decoded map always has known types; stay total anyway. */
	famrt_jw_str(w, "file_type", ft ? ft : "unknown");
	famrt_jw_u64(w, "fmap_version", FAMRT_FMAP_VERSION);
	famrt_jw_str(w, "ext_type", et ? et : "unknown");
	famrt_jw_u64(w, "file_size", famrt_fmap_file_size(map));
	famrt_jw_u64(w, "nextents", n);
	famrt_jw_arr_begin(w, "extents");
	for (uint32_t i = 0; i < n; i++) {
		struct famrt_fmap_extent x;

		if (famrt_fmap_get_extent(map, i, &x))
			break;
		famrt_jw_obj_begin(w, NULL);
		famrt_jw_u64(w, "file_offset", x.file_offset);
		famrt_jw_u64(w, "file_bytes", x.file_bytes);
		famrt_jw_u64(w, "nstrips", x.nstrips);
		famrt_jw_u64(w, "chunk_size", x.chunk_size);
		famrt_jw_u64(w, "nbytes", x.nbytes);
		famrt_jw_arr_begin(w, "strips");
		for (uint32_t j = 0; j < x.nstrips; j++) {
			famrt_jw_obj_begin(w, NULL);
			famrt_jw_u64(w, "devindex", x.strips[j].devindex);
			famrt_jw_u64(w, "offset", x.strips[j].offset);
			famrt_jw_u64(w, "len", x.strips[j].len);
			famrt_jw_obj_end(w);
		}
		famrt_jw_arr_end(w);
		famrt_jw_obj_end(w);
	}
	famrt_jw_arr_end(w);
}

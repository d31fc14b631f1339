/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict JSON parser (RFC 8259), iterative, bounded in size and depth.
 *
 * Values go into one growing array of nodes linked by index while parsing
 * (the array moves when it grows) and by pointer once it is final. Strings
 * and number texts go into one buffer of len + 2 bytes, allocated up front:
 * an unescaped string plus its NUL is never longer than its quoted source,
 * and a number plus its NUL is at most one byte longer than its text, with
 * a delimiter or the end of input after it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

struct famrt_json_doc {
	struct famrt_json_value *nodes;
	size_t n;
	size_t cap;
	char *sbuf;
	size_t sused;
	size_t scap;
};

struct keyref {
	const char *key;
	size_t len;
	uint32_t idx;
};

struct pctx {
	const uint8_t *in;
	size_t len;
	size_t pos;
	uint32_t line;
	size_t line_start;
	struct famrt_json_doc *d;
	struct famrt_json_error *err;
	uint32_t max_depth;
	uint32_t max_values;
	uint32_t depth;
	uint32_t *stack;
	/* the key of the member whose value comes next */
	const char *key;
	size_t key_len;
	uint32_t kline, kcol;
	struct keyref *scratch;
	size_t scratch_cap;
};

static const char *const errnames[FAMRT_JSON_E_COUNT_] = {
	[FAMRT_JSON_OK] = "ok",
	[FAMRT_JSON_E_ARG] = "argument",
	[FAMRT_JSON_E_TOO_LARGE] = "too-large",
	[FAMRT_JSON_E_EMPTY] = "empty",
	[FAMRT_JSON_E_TRUNCATED] = "truncated",
	[FAMRT_JSON_E_UNEXPECTED] = "unexpected-character",
	[FAMRT_JSON_E_LITERAL] = "bad-literal",
	[FAMRT_JSON_E_NUMBER] = "bad-number",
	[FAMRT_JSON_E_ESCAPE] = "bad-escape",
	[FAMRT_JSON_E_SURROGATE] = "bad-surrogate",
	[FAMRT_JSON_E_CONTROL] = "control-character",
	[FAMRT_JSON_E_UTF8] = "bad-utf8",
	[FAMRT_JSON_E_DEPTH] = "too-deep",
	[FAMRT_JSON_E_DUPLICATE] = "duplicate-key",
	[FAMRT_JSON_E_TRAILING] = "trailing-garbage",
	[FAMRT_JSON_E_NOMEM] = "nomem",
};

const char *famrt_json_errcode_name(enum famrt_json_errcode code)
{
	if ((unsigned)code >= FAMRT_JSON_E_COUNT_)
		return "unknown";
	return errnames[code];
}

const char *famrt_json_type_name(enum famrt_json_type type)
{
	switch (type) {
	case FAMRT_JSON_NULL: return "null";
	case FAMRT_JSON_FALSE: return "false";
	case FAMRT_JSON_TRUE: return "true";
	case FAMRT_JSON_NUMBER: return "number";
	case FAMRT_JSON_STRING: return "string";
	case FAMRT_JSON_ARRAY: return "array";
	case FAMRT_JSON_OBJECT: return "object";
	}
	return "unknown";
}

static int errno_of(enum famrt_json_errcode code)
{
	switch (code) {
	case FAMRT_JSON_E_NOMEM: return ENOMEM;
	case FAMRT_JSON_E_TOO_LARGE:
	case FAMRT_JSON_E_DEPTH: return E2BIG;
	default: return EINVAL;
	}
}

__attribute__((format(printf, 4, 5))) static int
fail_at(struct pctx *c, size_t pos, enum famrt_json_errcode code,
	const char *fmt, ...)
{
	struct famrt_json_error *e = c->err;
	char detail[160];
	va_list ap;

	if (e) {
		e->code = code;
		e->offset = pos;
		e->line = c->line;
		e->col = (uint32_t)(pos - c->line_start + 1);
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
		snprintf(e->message, sizeof(e->message),
			 "line %u column %u: %s", e->line, e->col, detail);
	}
	return -errno_of(code);
}

/* A character for a message: 'x', or byte 0xNN when it is not printable. */
static const char *show(uint8_t ch, char buf[16])
{
	if (ch >= 0x21 && ch < 0x7f)
		snprintf(buf, 16, "'%c'", ch);
	else if (ch == ' ')
		snprintf(buf, 16, "a space");
	else
		snprintf(buf, 16, "byte 0x%02x", ch);
	return buf;
}

static void skip_ws(struct pctx *c)
{
	while (c->pos < c->len) {
		uint8_t ch = c->in[c->pos];

		if (ch == '\n') {
			c->line++;
			c->line_start = c->pos + 1;
		} else if (ch != ' ' && ch != '\t' && ch != '\r') {
			return;
		}
		c->pos++;
	}
}

static uint32_t col_of(const struct pctx *c, size_t pos)
{
	return (uint32_t)(pos - c->line_start + 1);
}

/* A new node, attached to the open container if any. Returns its index. */
static int new_node(struct pctx *c, enum famrt_json_type type, size_t pos,
		    uint32_t *idx)
{
	struct famrt_json_doc *d = c->d;
	struct famrt_json_value *v;

	if (d->n >= c->max_values)
		return fail_at(c, pos, FAMRT_JSON_E_TOO_LARGE,
			       "more than %u values", c->max_values);
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 64;

		if (ncap > c->max_values)
			ncap = c->max_values;
		struct famrt_json_value *nn;

		nn = realloc(d->nodes, ncap * sizeof(*nn));
		if (!nn)
			return fail_at(c, pos, FAMRT_JSON_E_NOMEM,
				       "out of memory for %zu values", ncap);
		d->nodes = nn;
		d->cap = ncap;
	}
	*idx = (uint32_t)d->n;
	v = &d->nodes[d->n++];
	memset(v, 0, sizeof(*v));
	v->type = type;
	v->line = c->line;
	v->col = col_of(c, pos);
	if (c->depth) {
		struct famrt_json_value *p = &d->nodes[c->stack[c->depth - 1]];

		if (p->type == FAMRT_JSON_OBJECT) {
			v->key = c->key;
			v->key_len = c->key_len;
			v->key_line = c->kline;
			v->key_col = c->kcol;
		}
		if (p->count == 0)
			p->i_child_ = *idx + 1;
		else
			d->nodes[p->i_last_ - 1].i_next_ = *idx + 1;
		p->i_last_ = *idx + 1;
		p->count++;
	}
	return 0;
}

static char *sbuf_reserve(struct pctx *c, size_t n)
{
	struct famrt_json_doc *d = c->d;

	/* Cannot happen (see the top of the file); refuse rather than trust. */
	if (d->scap - d->sused < n)
		return NULL;
	return d->sbuf + d->sused;
}

static int hex4(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		uint8_t ch = p[i];
		uint32_t x;

		if (ch >= '0' && ch <= '9')
			x = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			x = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			x = ch - 'A' + 10;
		else
			return -1;
		v = v << 4 | x;
	}
	*out = v;
	return 0;
}

/* One \uXXXX at c->pos (the backslash); -1 truncated, -2 not hex. */
static int read_u(struct pctx *c, size_t at, uint32_t *cp)
{
	size_t avail = c->len - at;

	if (avail >= 6) {
		if (hex4(c->in + at + 2, cp))
			return -2;
		return 0;
	}
	/* Cut off: say truncated only if what is there could be hex. */
	for (size_t i = at + 2; i < c->len; i++) {
		uint8_t ch = c->in[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		      (ch >= 'A' && ch <= 'F')))
			return -2;
	}
	return -1;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* The string at c->pos (its opening quote). */
static int parse_string(struct pctx *c, const char **out, size_t *outlen)
{
	size_t start = c->pos;
	/* The unescaped text is never longer than the rest of the input. */
	char *o = sbuf_reserve(c, c->len - c->pos);
	size_t n = 0;
	char cb[16];

	if (!o)
		return fail_at(c, start, FAMRT_JSON_E_NOMEM,
			       "string buffer exhausted");
	c->pos++;
	for (;;) {
		uint8_t ch;

		if (c->pos >= c->len)
			return fail_at(c, c->pos, FAMRT_JSON_E_TRUNCATED,
				       "input ends inside the string that "
				       "starts at column %u",
				       col_of(c, start));
		ch = c->in[c->pos];
		if (ch == '"') {
			c->pos++;
			break;
		}
		if (ch == '\\') {
			size_t at = c->pos;
			uint32_t cp, lo;
			int r;

			if (at + 1 >= c->len)
				return fail_at(c, at, FAMRT_JSON_E_TRUNCATED,
					       "input ends inside an escape");
			ch = c->in[at + 1];
			switch (ch) {
			case '"': o[n++] = '"'; break;
			case '\\': o[n++] = '\\'; break;
			case '/': o[n++] = '/'; break;
			case 'b': o[n++] = '\b'; break;
			case 'f': o[n++] = '\f'; break;
			case 'n': o[n++] = '\n'; break;
			case 'r': o[n++] = '\r'; break;
			case 't': o[n++] = '\t'; break;
			case 'u':
				r = read_u(c, at, &cp);
				if (r == -1)
					return fail_at(c, at,
						       FAMRT_JSON_E_TRUNCATED,
						       "input ends inside a "
						       "\\u escape");
				if (r == -2)
					return fail_at(c, at,
						       FAMRT_JSON_E_ESCAPE,
						       "\\u must be followed by "
						       "4 hex digits");
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					return fail_at(c, at,
						       FAMRT_JSON_E_SURROGATE,
						       "\\u%04X is a low "
						       "surrogate with no high "
						       "surrogate before it",
						       cp);
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					size_t at2 = at + 6;

					if (at2 >= c->len ||
					    (at2 + 1 >= c->len &&
					     c->in[at2] == '\\'))
						return fail_at(
							c, at2,
							FAMRT_JSON_E_TRUNCATED,
							"input ends after the "
							"high surrogate \\u%04X",
							cp);
					if (c->in[at2] != '\\' ||
					    c->in[at2 + 1] != 'u')
						return fail_at(
							c, at,
							FAMRT_JSON_E_SURROGATE,
							"high surrogate \\u%04X "
							"is not followed by a "
							"\\u low surrogate",
							cp);
					r = read_u(c, at2, &lo);
					if (r == -1)
						return fail_at(
							c, at2,
							FAMRT_JSON_E_TRUNCATED,
							"input ends inside a "
							"\\u escape");
					if (r == -2)
						return fail_at(
							c, at2,
							FAMRT_JSON_E_ESCAPE,
							"\\u must be followed "
							"by 4 hex digits");
					if (lo < 0xDC00 || lo > 0xDFFF)
						return fail_at(
							c, at2,
							FAMRT_JSON_E_SURROGATE,
							"high surrogate \\u%04X "
							"is followed by \\u%04X, "
							"not a low surrogate",
							cp, lo);
					cp = 0x10000 + ((cp - 0xD800) << 10) +
					     (lo - 0xDC00);
					c->pos += 6;
				}
				n += put_utf8(o + n, cp);
				c->pos += 4;
				break;
			default:
				return fail_at(c, at, FAMRT_JSON_E_ESCAPE,
					       "invalid escape: backslash "
					       "then %s",
					       show(ch, cb));
			}
			c->pos += 2;
			continue;
		}
		if (ch < 0x20)
			return fail_at(c, c->pos, FAMRT_JSON_E_CONTROL,
				       "control character 0x%02x in a string "
				       "(write it as a \\u escape)",
				       ch);
		if (ch < 0x80) {
			o[n++] = (char)ch;
			c->pos++;
		} else {
			int r = famrt_utf8_check(c->in + c->pos,
						 c->len - c->pos);

			if (r < 0)
				return fail_at(c, c->pos,
					       FAMRT_JSON_E_TRUNCATED,
					       "input ends inside a UTF-8 "
					       "sequence");
			if (r == 0)
				return fail_at(c, c->pos, FAMRT_JSON_E_UTF8,
					       "invalid UTF-8 byte 0x%02x in "
					       "a string",
					       ch);
			memcpy(o + n, c->in + c->pos, (size_t)r);
			n += (size_t)r;
			c->pos += (size_t)r;
		}
	}
	o[n] = '\0';
	c->d->sused += n + 1;
	*out = o;
	*outlen = n;
	return 0;
}

static bool is_digit(uint8_t ch)
{
	return ch >= '0' && ch <= '9';
}

static int parse_number(struct pctx *c, uint32_t idx)
{
	size_t start = c->pos;
	bool neg = false, frac = false, huge = false;
	uint64_t v = 0;
	struct famrt_json_value *node;
	char *o;
	char cb[16];

	if (c->in[c->pos] == '-') {
		neg = true;
		c->pos++;
	}
	if (c->pos >= c->len)
		return fail_at(c, c->pos, FAMRT_JSON_E_TRUNCATED,
			       "input ends inside a number");
	if (c->in[c->pos] == '0') {
		c->pos++;
		if (c->pos < c->len && is_digit(c->in[c->pos]))
			return fail_at(c, start, FAMRT_JSON_E_NUMBER,
				       "number with a leading zero");
	} else if (is_digit(c->in[c->pos])) {
		while (c->pos < c->len && is_digit(c->in[c->pos])) {
			uint64_t dgt = c->in[c->pos] - '0';

			if (__builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, dgt, &v))
				huge = true;
			c->pos++;
		}
	} else {
		return fail_at(c, c->pos, FAMRT_JSON_E_NUMBER,
			       "expected a digit after '-', found %s",
			       show(c->in[c->pos], cb));
	}
	if (c->pos < c->len && c->in[c->pos] == '.') {
		c->pos++;
		if (c->pos >= c->len)
			return fail_at(c, c->pos, FAMRT_JSON_E_TRUNCATED,
				       "input ends inside a number");
		if (!is_digit(c->in[c->pos]))
			return fail_at(c, c->pos, FAMRT_JSON_E_NUMBER,
				       "expected a digit after '.', found %s",
				       show(c->in[c->pos], cb));
		while (c->pos < c->len && is_digit(c->in[c->pos]))
			c->pos++;
		frac = true;
	}
	if (c->pos < c->len && (c->in[c->pos] == 'e' || c->in[c->pos] == 'E')) {
		c->pos++;
		if (c->pos < c->len &&
		    (c->in[c->pos] == '+' || c->in[c->pos] == '-'))
			c->pos++;
		if (c->pos >= c->len)
			return fail_at(c, c->pos, FAMRT_JSON_E_TRUNCATED,
				       "input ends inside a number");
		if (!is_digit(c->in[c->pos]))
			return fail_at(c, c->pos, FAMRT_JSON_E_NUMBER,
				       "expected a digit in the exponent, "
				       "found %s",
				       show(c->in[c->pos], cb));
		while (c->pos < c->len && is_digit(c->in[c->pos]))
			c->pos++;
		frac = true;
	}
	o = sbuf_reserve(c, c->pos - start + 1);
	if (!o)
		return fail_at(c, start, FAMRT_JSON_E_NOMEM,
			       "string buffer exhausted");
	memcpy(o, c->in + start, c->pos - start);
	o[c->pos - start] = '\0';
	c->d->sused += c->pos - start + 1;
	node = &c->d->nodes[idx];
	node->str = o;
	node->len = c->pos - start;
	if (frac)
		node->numkind = FAMRT_JSON_NUM_FRACTION;
	else if (neg)
		node->numkind = FAMRT_JSON_NUM_NEGATIVE;
	else if (huge)
		node->numkind = FAMRT_JSON_NUM_HUGE;
	else
		node->numkind = FAMRT_JSON_NUM_U64;
	node->u64 = node->numkind == FAMRT_JSON_NUM_U64 ? v : 0;
	return 0;
}

static int parse_literal(struct pctx *c, const char *word)
{
	size_t n = strlen(word);

	for (size_t i = 0; i < n; i++) {
		if (c->pos + i >= c->len)
			return fail_at(c, c->pos + i, FAMRT_JSON_E_TRUNCATED,
				       "input ends inside '%s'", word);
		if (c->in[c->pos + i] != (uint8_t)word[i])
			return fail_at(c, c->pos, FAMRT_JSON_E_LITERAL,
				       "not a JSON value (expected '%s')",
				       word);
	}
	c->pos += n;
	return 0;
}

static int keycmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int r = memcmp(x->key, y->key, n);

	if (r)
		return r;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* Refuse an object (node idx) that names a key twice. */
static int check_dups(struct pctx *c, uint32_t idx)
{
	struct famrt_json_doc *d = c->d;
	const struct famrt_json_value *o = &d->nodes[idx];
	uint32_t n = o->count, k = 0;
	char q[64];

	if (n < 2)
		return 0;
	if (c->scratch_cap < n) {
		struct keyref *s = realloc(c->scratch, n * sizeof(*s));

		if (!s)
			return fail_at(c, c->pos, FAMRT_JSON_E_NOMEM,
				       "out of memory checking %u keys", n);
		c->scratch = s;
		c->scratch_cap = n;
	}
	for (uint32_t i = o->i_child_; i; i = d->nodes[i - 1].i_next_) {
		c->scratch[k].key = d->nodes[i - 1].key;
		c->scratch[k].len = d->nodes[i - 1].key_len;
		c->scratch[k].idx = i - 1;
		k++;
	}
	qsort(c->scratch, k, sizeof(*c->scratch), keycmp);
	for (uint32_t i = 1; i < k; i++) {
		const struct keyref *a = &c->scratch[i - 1];
		const struct keyref *b = &c->scratch[i];
		const struct famrt_json_value *first, *second;

		if (a->len != b->len || memcmp(a->key, b->key, a->len))
			continue;
		first = &d->nodes[a->idx];
		second = &d->nodes[b->idx];
		/* Report at the second occurrence. */
		c->err->code = FAMRT_JSON_E_DUPLICATE;
		famrt_json_quote(b->key, b->len, q, sizeof(q));
		c->err->offset = c->pos;
		c->err->line = second->key_line;
		c->err->col = second->key_col;
		snprintf(c->err->message, sizeof(c->err->message),
			 "line %u column %u: duplicate key %s (first at "
			 "line %u column %u)",
			 second->key_line, second->key_col, q, first->key_line,
			 first->key_col);
		return -EINVAL;
	}
	return 0;
}

static int parse_all(struct pctx *c)
{
	struct famrt_json_doc *d = c->d;
	uint32_t idx;
	char cb[16];
	int rc;

	skip_ws(c);
	if (c->pos >= c->len)
		return fail_at(c, c->pos, FAMRT_JSON_E_EMPTY,
			       "no JSON value in the input");
value:
	skip_ws(c);
	if (c->pos >= c->len)
		return fail_at(c, c->pos, FAMRT_JSON_E_TRUNCATED,
			       "input ends where a value should start");
	switch (c->in[c->pos]) {
	case '{':
	case '[': {
		bool obj = c->in[c->pos] == '{';

		if (c->depth >= c->max_depth)
			return fail_at(c, c->pos, FAMRT_JSON_E_DEPTH,
				       "nesting deeper than %u levels",
				       c->max_depth);
		rc = new_node(c, obj ? FAMRT_JSON_OBJECT : FAMRT_JSON_ARRAY,
			      c->pos, &idx);
		if (rc)
			return rc;
		c->stack[c->depth++] = idx;
		c->pos++;
		skip_ws(c);
		if (c->pos >= c->len)
			return fail_at(c, c->pos, FAMRT_JSON_E_TRUNCATED,
				       "input ends inside an %s",
				       obj ? "object" : "array");
		if (c->in[c->pos] == (obj ? '}' : ']')) {
			c->pos++;
			c->depth--;
			goto after;
		}
		if (obj)
			goto key;
		goto value;
	}
	case '"': {
		const char *s;
		size_t n;
		size_t at = c->pos;

		rc = new_node(c, FAMRT_JSON_STRING, at, &idx);
		if (rc)
			return rc;
		rc = parse_string(c, &s, &n);
		if (rc)
			return rc;
		d->nodes[idx].str = s;
		d->nodes[idx].len = n;
		goto after;
	}
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		rc = new_node(c, FAMRT_JSON_NUMBER, c->pos, &idx);
		if (rc)
			return rc;
		rc = parse_number(c, idx);
		if (rc)
			return rc;
		goto after;
	case 't':
	case 'f':
	case 'n': {
		uint8_t ch = c->in[c->pos];
		enum famrt_json_type t = ch == 't' ? FAMRT_JSON_TRUE :
					 ch == 'f' ? FAMRT_JSON_FALSE :
						     FAMRT_JSON_NULL;

		rc = parse_literal(c, ch == 't' ? "true" :
				      ch == 'f' ? "false" : "null");
		if (rc)
			return rc;
		rc = new_node(c, t, c->pos - (ch == 'f' ? 5 : 4), &idx);
		if (rc)
			return rc;
		goto after;
	}
	default:
		return fail_at(c, c->pos, FAMRT_JSON_E_UNEXPECTED,
			       "unexpected %s where a value should start",
			       show(c->in[c->pos], cb));
	}
key:
	if (c->pos >= c->len)
		return fail_at(c, c->pos, FAMRT_JSON_E_TRUNCATED,
			       "input ends where a key should start");
	if (c->in[c->pos] != '"')
		return fail_at(c, c->pos, FAMRT_JSON_E_UNEXPECTED,
			       "unexpected %s where a \"key\" should start",
			       show(c->in[c->pos], cb));
	c->kline = c->line;
	c->kcol = col_of(c, c->pos);
	rc = parse_string(c, &c->key, &c->key_len);
	if (rc)
		return rc;
	skip_ws(c);
	if (c->pos >= c->len)
		return fail_at(c, c->pos, FAMRT_JSON_E_TRUNCATED,
			       "input ends after a key");
	if (c->in[c->pos] != ':')
		return fail_at(c, c->pos, FAMRT_JSON_E_UNEXPECTED,
			       "unexpected %s after a key (expected ':')",
			       show(c->in[c->pos], cb));
	c->pos++;
	goto value;
after:
	if (c->depth == 0) {
		skip_ws(c);
		if (c->pos < c->len)
			return fail_at(c, c->pos, FAMRT_JSON_E_TRAILING,
				       "unexpected %s after the end of the "
				       "JSON value",
				       show(c->in[c->pos], cb));
		return 0;
	}
	skip_ws(c);
	{
		uint32_t top = c->stack[c->depth - 1];
		bool obj = d->nodes[top].type == FAMRT_JSON_OBJECT;

		if (c->pos >= c->len)
			return fail_at(c, c->pos, FAMRT_JSON_E_TRUNCATED,
				       "input ends inside an %s",
				       obj ? "object" : "array");
		if (c->in[c->pos] == ',') {
			c->pos++;
			skip_ws(c);
			if (obj)
				goto key;
			goto value;
		}
		if (c->in[c->pos] == (obj ? '}' : ']')) {
			if (obj) {
				rc = check_dups(c, top);
				if (rc)
					return rc;
			}
			c->pos++;
			c->depth--;
			goto after;
		}
		return fail_at(c, c->pos, FAMRT_JSON_E_UNEXPECTED,
			       "unexpected %s in an %s (expected ',' or '%c')",
			       show(c->in[c->pos], cb),
			       obj ? "object" : "array", obj ? '}' : ']');
	}
}

void famrt_json_free(struct famrt_json_doc *doc)
{
	if (!doc)
		return;
	free(doc->nodes);
	free(doc->sbuf);
	free(doc);
}

int famrt_json_parse(const char *in, size_t len,
		     const struct famrt_json_opts *opts,
		     struct famrt_json_doc **out, struct famrt_json_error *err)
{
	struct famrt_json_error dummy;
	struct pctx c = { .in = (const uint8_t *)in, .len = len, .line = 1 };
	size_t max_size = FAMRT_JSON_DEFAULT_MAX_SIZE;
	struct famrt_json_doc *d;
	int rc;

	if (!err)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	c.err = err;
	c.max_depth = FAMRT_JSON_DEFAULT_MAX_DEPTH;
	c.max_values = FAMRT_JSON_DEFAULT_MAX_VALUES;
	if (out)
		*out = NULL;
	if (!out || (!in && len))
		return fail_at(&c, 0, FAMRT_JSON_E_ARG,
			       "no input or no output");
	if (opts) {
		if (opts->size < offsetof(struct famrt_json_opts, max_depth) +
					 sizeof(opts->max_depth))
			return fail_at(&c, 0, FAMRT_JSON_E_ARG,
				       "options size %zu is too small",
				       opts->size);
		if (opts->max_size)
			max_size = opts->max_size;
		if (opts->max_depth)
			c.max_depth = opts->max_depth;
		if (opts->size >= offsetof(struct famrt_json_opts,
					   max_values) +
					  sizeof(opts->max_values) &&
		    opts->max_values)
			c.max_values = opts->max_values;
		if (max_size > FAMRT_JSON_MAX_MAX_SIZE ||
		    c.max_depth > FAMRT_JSON_MAX_MAX_DEPTH)
			return fail_at(&c, 0, FAMRT_JSON_E_ARG,
				       "limits over %u bytes or %u levels",
				       FAMRT_JSON_MAX_MAX_SIZE,
				       FAMRT_JSON_MAX_MAX_DEPTH);
	}
	if (len > max_size)
		return fail_at(&c, max_size, FAMRT_JSON_E_TOO_LARGE,
			       "input is %zu bytes, more than the %zu allowed",
			       len, max_size);
	d = calloc(1, sizeof(*d));
	if (!d)
		return fail_at(&c, 0, FAMRT_JSON_E_NOMEM, "out of memory");
	d->scap = len + 2;
	d->sbuf = malloc(d->scap);
	c.stack = malloc(c.max_depth * sizeof(*c.stack));
	c.d = d;
	if (!d->sbuf || !c.stack) {
		rc = fail_at(&c, 0, FAMRT_JSON_E_NOMEM, "out of memory");
		goto out;
	}
	rc = parse_all(&c);
	if (rc)
		goto out;
	for (size_t i = 0; i < d->n; i++) {
		struct famrt_json_value *v = &d->nodes[i];

		v->child = v->i_child_ ? &d->nodes[v->i_child_ - 1] : NULL;
		v->next = v->i_next_ ? &d->nodes[v->i_next_ - 1] : NULL;
	}
	*out = d;
	d = NULL;
out:
	free(c.stack);
	free(c.scratch);
	famrt_json_free(d);
	return rc;
}

const struct famrt_json_value *
famrt_json_root(const struct famrt_json_doc *doc)
{
	return doc && doc->n ? &doc->nodes[0] : NULL;
}

const struct famrt_json_value *
famrt_json_get(const struct famrt_json_value *obj, const char *key)
{
	size_t n = strlen(key);

	if (!obj || obj->type != FAMRT_JSON_OBJECT)
		return NULL;
	for (const struct famrt_json_value *v = obj->child; v; v = v->next)
		if (v->key_len == n && !memcmp(v->key, key, n))
			return v;
	return NULL;
}

int famrt_json_get_u64(const struct famrt_json_value *v, uint64_t *out)
{
	if (!v || v->type != FAMRT_JSON_NUMBER)
		return -EINVAL;
	switch (v->numkind) {
	case FAMRT_JSON_NUM_U64:
		*out = v->u64;
		return 0;
	case FAMRT_JSON_NUM_NEGATIVE:
	case FAMRT_JSON_NUM_HUGE:
		return -ERANGE;
	default:
		return -EINVAL;
	}
}

char *famrt_json_quote(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen < 8) {
		if (outlen)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = (uint8_t)s[i];
		char tmp[8];
		size_t n;

		if (ch == '"' || ch == '\\')
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\%c", ch);
		else if (ch >= 0x20 && ch < 0x7f)
			n = (size_t)snprintf(tmp, sizeof(tmp), "%c", ch);
		else
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
		/* Keep room for '..."' and the NUL. */
		if (o + n + 5 > outlen) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

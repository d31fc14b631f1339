/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming JSON writer: exact integers, valid UTF-8, sticky errors. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

void famrt_jw_init(struct famrt_jw *w, FILE *f, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->pretty = pretty;
}

static void wr(struct famrt_jw *w, const char *s, size_t n)
{
	if (w->err || !n)
		return;
	errno = 0;
	if (fwrite(s, 1, n, w->f) != n)
		w->err = errno ? -errno : -EIO;
}

static void wrs(struct famrt_jw *w, const char *s)
{
	wr(w, s, strlen(s));
}

static void newline_indent(struct famrt_jw *w)
{
	if (!w->pretty)
		return;
	wr(w, "\n", 1);
	for (int i = 0; i < w->depth; i++)
		wr(w, "  ", 2);
}

static void write_string(struct famrt_jw *w, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, run = 0;

	wr(w, "\"", 1);
	while (i < len) {
		uint8_t ch = p[i];
		char esc[8];
		int n;

		if (ch >= 0x20 && ch != '"' && ch != '\\' && ch < 0x80) {
			i++;
			run++;
			continue;
		}
		if (ch >= 0x80) {
			n = famrt_utf8_check(p + i, len - i);
			if (n > 0) {
				i += (size_t)n;
				run += (size_t)n;
				continue;
			}
		}
		/* Flush the plain run before this byte. */
		wr(w, (const char *)p + i - run, run);
		run = 0;
		switch (ch) {
		case '"': wrs(w, "\\\""); break;
		case '\\': wrs(w, "\\\\"); break;
		case '\b': wrs(w, "\\b"); break;
		case '\f': wrs(w, "\\f"); break;
		case '\n': wrs(w, "\\n"); break;
		case '\r': wrs(w, "\\r"); break;
		case '\t': wrs(w, "\\t"); break;
		default:
			if (ch < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", ch);
				wrs(w, esc);
			} else {
				wrs(w, "\\ufffd"); /* ill-formed UTF-8 */
			}
		}
		i++;
	}
	wr(w, (const char *)p + i - run, run);
	wr(w, "\"", 1);
}

/* Separator, indentation and key before a value; false on misuse. */
static bool prefix(struct famrt_jw *w, const char *key)
{
	if (w->err)
		return false;
	if (w->depth == 0) {
		if (w->done || key) {
			w->err = -EINVAL;
			return false;
		}
		return true;
	}
	if (w->is_obj[w->depth - 1] != (key != NULL)) {
		w->err = -EINVAL;
		return false;
	}
	if (!w->empty[w->depth - 1])
		wr(w, ",", 1);
	w->empty[w->depth - 1] = false;
	newline_indent(w);
	if (key) {
		write_string(w, key, strlen(key));
		wrs(w, w->pretty ? ": " : ":");
	}
	return true;
}

static void value_done(struct famrt_jw *w)
{
	if (w->depth == 0)
		w->done = true;
}

static void begin(struct famrt_jw *w, const char *key, bool obj)
{
	if (!prefix(w, key))
		return;
	if (w->depth >= FAMRT_JW_MAX_DEPTH) {
		w->err = -EINVAL;
		return;
	}
	wr(w, obj ? "{" : "[", 1);
	w->is_obj[w->depth] = obj;
	w->empty[w->depth] = true;
	w->depth++;
}

static void end(struct famrt_jw *w, bool obj)
{
	if (w->err)
		return;
	if (w->depth == 0 || w->is_obj[w->depth - 1] != obj) {
		w->err = -EINVAL;
		return;
	}
	w->depth--;
	if (!w->empty[w->depth])
		newline_indent(w);
	wr(w, obj ? "}" : "]", 1);
	value_done(w);
}

void famrt_jw_obj_begin(struct famrt_jw *w, const char *key)
{
	begin(w, key, true);
}

void famrt_jw_obj_end(struct famrt_jw *w)
{
	end(w, true);
}

void famrt_jw_arr_begin(struct famrt_jw *w, const char *key)
{
	begin(w, key, false);
}

void famrt_jw_arr_end(struct famrt_jw *w)
{
	end(w, false);
}

void famrt_jw_u64(struct famrt_jw *w, const char *key, uint64_t v)
{
	char buf[24];

	if (!prefix(w, key))
		return;
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	wrs(w, buf);
	value_done(w);
}

void famrt_jw_strn(struct famrt_jw *w, const char *key, const char *s,
		   size_t len)
{
	if (!prefix(w, key))
		return;
	write_string(w, s, len);
	value_done(w);
}

void famrt_jw_str(struct famrt_jw *w, const char *key, const char *s)
{
	famrt_jw_strn(w, key, s, strlen(s));
}

void famrt_jw_bool(struct famrt_jw *w, const char *key, bool v)
{
	if (!prefix(w, key))
		return;
	wrs(w, v ? "true" : "false");
	value_done(w);
}

void famrt_jw_null(struct famrt_jw *w, const char *key)
{
	if (!prefix(w, key))
		return;
	wrs(w, "null");
	value_done(w);
}

int famrt_jw_finish(struct famrt_jw *w)
{
	if (!w->err && (w->depth || !w->done))
		w->err = -EINVAL;
	wr(w, "\n", 1);
	if (!w->err && fflush(w->f))
		w->err = errno ? -errno : -EIO;
	if (!w->err && ferror(w->f))
		w->err = -EIO;
	return w->err;
}

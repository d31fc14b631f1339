/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error detail for internal modules: functions return -errno and, when the
 * caller passes a struct famrt_err, fill it with one line saying what failed
 * and where. Nothing here prints.
 */
#ifndef FAMRT_UTIL_ERR_H
#define FAMRT_UTIL_ERR_H

#include <stddef.h>

struct famrt_err {
	int code;      /* positive errno, 0 when no error */
	char msg[512]; /* one line, no trailing newline */
};

/* Record code and a formatted message in e (if not NULL); returns -code. */
__attribute__((format(printf, 3, 4))) int
famrt_err_set(struct famrt_err *e, int code, const char *fmt, ...);

/* Prefix the message already in e with "prefix: " (keeps code). */
__attribute__((format(printf, 2, 3))) void
famrt_err_prefix(struct famrt_err *e, const char *fmt, ...);

static inline void famrt_err_clear(struct famrt_err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* famrt devices: the printing half, separate so that tests can feed it. */
#ifndef FAMRT_TOOL_CMD_DEVICES_H
#define FAMRT_TOOL_CMD_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dax/dax.h"

/*
 * Print n devices to f as the table or, with json, as the one JSON object
 * of `famrt devices --json`. Returns 0 or -errno (a failed write).
 */
int famrt_devices_write(FILE *f, const struct famrt_daxinfo *v, size_t n,
			bool json);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* The commands of the famrt tool (one file per command group). */
#ifndef FAMRT_TOOL_FAMRT_H
#define FAMRT_TOOL_FAMRT_H

#include "cli.h"

int famrt_cmd_fmap_inspect(int argc, char **argv);
int famrt_cmd_fmap_encode(int argc, char **argv);
extern const struct famrt_cli_spec famrt_fmap_inspect_spec;
extern const struct famrt_cli_spec famrt_fmap_encode_spec;
extern const char famrt_fmap_examples[];

/* famrt devices (cmd_devices.c) */
int famrt_cmd_devices(int argc, char **argv);
extern const struct famrt_cli_spec famrt_devices_spec;

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* The commands of the famrt tool (one file per command group). */
#ifndef FAMRT_TOOL_FAMRT_H
#define FAMRT_TOOL_FAMRT_H

#include <stdio.h>

#include <famrt/fmap.h>

#include "cli.h"

int famrt_cmd_fmap_inspect(int argc, char **argv);
int famrt_cmd_fmap_encode(int argc, char **argv);
extern const struct famrt_cli_spec famrt_fmap_inspect_spec;
extern const struct famrt_cli_spec famrt_fmap_encode_spec;
extern const char famrt_fmap_examples[];
/* What `famrt fmap inspect` prints of a map (without resolve lines). */
void famrt_fmap_print_text(FILE *f, const struct famrt_fmap *map);

/* famrt devices (cmd_devices.c) */
int famrt_cmd_devices(int argc, char **argv);
extern const struct famrt_cli_spec famrt_devices_spec;

/* The file system: cmd_fs.c */
int famrt_cmd_mkfs(int argc, char **argv);
int famrt_cmd_adddev(int argc, char **argv);
int famrt_cmd_df(int argc, char **argv);
int famrt_cmd_statfs(int argc, char **argv);
int famrt_cmd_log(int argc, char **argv);
int famrt_cmd_fsck(int argc, char **argv);
extern const struct famrt_cli_spec famrt_mkfs_spec;
extern const struct famrt_cli_spec famrt_adddev_spec;
extern const struct famrt_cli_spec famrt_df_spec;
extern const struct famrt_cli_spec famrt_statfs_spec;
extern const struct famrt_cli_spec famrt_log_spec;
extern const struct famrt_cli_spec famrt_fsck_spec;

/* Its namespace: cmd_ns.c */
int famrt_cmd_mkdir(int argc, char **argv);
int famrt_cmd_creat(int argc, char **argv);
int famrt_cmd_ls(int argc, char **argv);
int famrt_cmd_stat(int argc, char **argv);
int famrt_cmd_getmap(int argc, char **argv);
extern const struct famrt_cli_spec famrt_mkdir_spec;
extern const struct famrt_cli_spec famrt_creat_spec;
extern const struct famrt_cli_spec famrt_ls_spec;
extern const struct famrt_cli_spec famrt_stat_spec;
extern const struct famrt_cli_spec famrt_getmap_spec;

/* Its data: cmd_cp.c, cmd_verify.c */
int famrt_cmd_cp(int argc, char **argv);
int famrt_cmd_verify(int argc, char **argv);
extern const struct famrt_cli_spec famrt_cp_spec;
extern const struct famrt_cli_spec famrt_verify_spec;

#endif

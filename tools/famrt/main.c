/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt: the command line tool. A table of commands, grouped
 * ("famrt fmap inspect"); each command parses its own options. Add a
 * command by adding a row here and a spec + function in its group's file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "famrt.h"

#ifndef FAMRT_VERSION
#define FAMRT_VERSION "unknown"
#endif

static const struct famrt_cli_cmd fmap_cmds[] = {
	{ .name = "inspect",
	  .summary = "show what a binary fmap message says; resolve offsets",
	  .run = famrt_cmd_fmap_inspect,
	  .spec = &famrt_fmap_inspect_spec },
	{ .name = "encode",
	  .summary = "write a binary fmap message from a text or JSON "
		     "description",
	  .run = famrt_cmd_fmap_encode,
	  .spec = &famrt_fmap_encode_spec },
	{ .name = NULL },
};

static const struct famrt_cli_cmd commands[] = {
	{ .name = "fmap",
	  .summary = "file maps (fmap messages): inspect, encode",
	  .sub = fmap_cmds,
	  .examples = famrt_fmap_examples },
	{ .name = "devices",
	  .summary = "list the device-dax devices of this host",
	  .run = famrt_cmd_devices,
	  .spec = &famrt_devices_spec },
	/* A file system as a whole. */
	{ .name = "mkfs",
	  .summary = "make a file system on 1 to 32 devices",
	  .run = famrt_cmd_mkfs,
	  .spec = &famrt_mkfs_spec },
	{ .name = "adddev",
	  .summary = "add a device to a file system",
	  .run = famrt_cmd_adddev,
	  .spec = &famrt_adddev_spec },
	{ .name = "df",
	  .summary = "free space, fragmentation, log use",
	  .run = famrt_cmd_df,
	  .spec = &famrt_df_spec },
	{ .name = "statfs",
	  .summary = "the same as df",
	  .run = famrt_cmd_statfs,
	  .spec = &famrt_statfs_spec },
	{ .name = "fsck",
	  .summary = "check a file system; change nothing",
	  .run = famrt_cmd_fsck,
	  .spec = &famrt_fsck_spec },
	{ .name = "log",
	  .summary = "print the entries of the metadata log",
	  .run = famrt_cmd_log,
	  .spec = &famrt_log_spec },
	/* Its namespace. */
	{ .name = "mkdir",
	  .summary = "make directories",
	  .run = famrt_cmd_mkdir,
	  .spec = &famrt_mkdir_spec },
	{ .name = "creat",
	  .summary = "make a file of a given size and layout",
	  .run = famrt_cmd_creat,
	  .spec = &famrt_creat_spec },
	{ .name = "ls",
	  .summary = "list directories",
	  .run = famrt_cmd_ls,
	  .spec = &famrt_ls_spec },
	{ .name = "stat",
	  .summary = "attributes of a file or directory",
	  .run = famrt_cmd_stat,
	  .spec = &famrt_stat_spec },
	{ .name = "getmap",
	  .summary = "a file's map (fmap), for people, JSON or raw",
	  .run = famrt_cmd_getmap,
	  .spec = &famrt_getmap_spec },
	/* Its data. */
	{ .name = "cp",
	  .summary = "copy a file in (to :/path) or out (from :/path)",
	  .run = famrt_cmd_cp,
	  .spec = &famrt_cp_spec },
	{ .name = "verify",
	  .summary = "check a file's map and read, or write and compare, "
		     "its bytes",
	  .run = famrt_cmd_verify,
	  .spec = &famrt_verify_spec },
	{ .name = NULL },
};

static const char top_synopsis[] =
	"famrt [--version] [--help] [--list-commands] [--fs DEV0[,DEV1...]]\n"
	"             [--host-id ID] <command> [arguments]";

static const char top_examples[] =
	"famrt mkfs --create 1G /dev/shm/famrt0 /dev/shm/famrt1\n"
	"export FAMRT_FS=/dev/shm/famrt0,/dev/shm/famrt1\n"
	"famrt cp ./data.bin :/data.bin && famrt ls -l /\n"
	"famrt --fs /dev/dax0.0,/dev/dax1.0 df\n"
	"famrt fmap encode -o file.fmap docs/examples/interleaved.txt\n"
	"famrt fmap inspect file.fmap --resolve 15M:1M\n"
	"famrt devices --json\n";

/*
 * --fs and --host-id before the command stand for $FAMRT_FS and
 * $FAMRT_HOST_ID; a command's own --fs still wins.
 */
static int top_env(int argc, char **argv, int *i, const char *opt,
		   const char *var)
{
	const char *a = argv[*i], *v;
	size_t n = strlen(opt);

	if (strncmp(a, opt, n) || (a[n] && a[n] != '='))
		return 0;
	if (a[n] == '=') {
		v = a + n + 1;
	} else {
		if (*i + 1 >= argc)
			return -1;
		v = argv[++*i];
	}
	if (!*v)
		return -1;
	setenv(var, v, 1);
	return 1;
}

__attribute__((format(printf, 1, 2))) static int
top_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "famrt: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: %s\nTry 'famrt --help' for more "
			"information.\n",
		top_synopsis);
	return FAMRT_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	int i = 1, rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "--version")) {
			printf("famrt %s\n", FAMRT_VERSION);
			return FAMRT_EXIT_OK;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			printf("famrt %s: files in shared (CXL) memory on "
			       "device-dax, from userspace\n\n",
			       FAMRT_VERSION);
			famrt_cli_group_help(commands, "famrt", top_synopsis,
					     top_examples, stdout);
			return FAMRT_EXIT_OK;
		}
		if (!strcmp(a, "--list-commands")) {
			famrt_cli_list_commands(commands, "", stdout);
			return FAMRT_EXIT_OK;
		}
		rc = top_env(argc, argv, &i, "--fs", "FAMRT_FS");
		if (!rc)
			rc = top_env(argc, argv, &i, "--host-id",
				     "FAMRT_HOST_ID");
		if (rc < 0)
			return top_usage("option '%s' needs a value", a);
		if (rc > 0 && !strncmp(a, "--host-id", 9) &&
		    getenv("FAMRT_HOST_ID") &&
		    strlen(getenv("FAMRT_HOST_ID")) > 63)
			return top_usage("--host-id: at most 63 bytes");
		if (rc > 0)
			continue;
		return top_usage("unknown option '%s'", a);
	}
	if (i >= argc)
		return top_usage("a command is needed");
	return famrt_cli_dispatch(commands, "famrt", top_examples, argc - i,
				  argv + i);
}

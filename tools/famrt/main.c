/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt: the command line tool. A table of commands, grouped
 * ("famrt fmap inspect"); each command parses its own options. Add a
 * command by adding a row here and a spec + function in its group's file.
 */
#include <stdarg.h>
#include <stdio.h>
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
	{ .name = NULL },
};

static const char top_synopsis[] =
	"famrt [--version] [--help] [--list-commands] <command> [arguments]";

static const char top_examples[] =
	"famrt fmap encode -o file.fmap docs/examples/interleaved.txt\n"
	"famrt fmap inspect file.fmap --resolve 15M:1M\n"
	"famrt devices --json\n";

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
	int i = 1;

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
		return top_usage("unknown option '%s'", a);
	}
	if (i >= argc)
		return top_usage("a command is needed");
	return famrt_cli_dispatch(commands, "famrt", top_examples, argc - i,
				  argv + i);
}

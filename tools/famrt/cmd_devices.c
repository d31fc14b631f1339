/* SPDX-License-Identifier: Apache-2.0 */
/* famrt devices: the device-dax devices of this host. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_devices.h"
#include "dax/dax.h"
#include "meta/probe.h"
#include "famrt.h"
#include "json.h"
#include "size.h"

enum {
	OPT_JSON = 256,
};

static const struct famrt_cli_opt devices_opts[] = {
	{ "json", 0, false, NULL, "print one JSON object instead of a table",
	  OPT_JSON },
	{ NULL, 0, false, NULL, NULL, 0 },
};

const struct famrt_cli_spec famrt_devices_spec = {
	.path = "famrt devices",
	.args = NULL,
	.summary = "List the device-dax devices of this host (libdaxctl).",
	.details =
		"One row per device with a non-zero size:\n"
		"  DEVICE  name (dax0.0) and PATH its node (/dev/dax0.0)\n"
		"  MODE    devdax (the only mode famrt can map), fsdev (bound\n"
		"          to kernel famfs), system-ram, disabled or unknown;\n"
		"          'daxctl reconfigure-device --mode=devdax NAME'\n"
		"          makes a device usable by famrt\n"
		"  SIZE, ALIGN   bytes; every mapping is a multiple of ALIGN\n"
		"  NUMA    node of the CPUs the device hangs off, CPUS those\n"
		"          CPUs (hwloc); TARGET the node its memory would\n"
		"          join as system-ram; '-' when unknown\n"
		"  FS      UUID of the famrt file system on it, or '-'\n"
		"A host without devices prints only the header (with --json an\n"
		"empty \"devices\" array): that is not an error. Files standing\n"
		"in for devices are not listed.\n"
		"\n"
		"--json prints {\"devices\": [...]}; each element always has the\n"
		"keys devname, path, mode, driver, region (strings), size,\n"
		"align (integers), numa_node, target_node (integer or null),\n"
		"near_cpus (string, \"\" when unknown) and fs_uuid (string or\n"
		"null).\n",
	.opts = devices_opts,
	.examples =
		"famrt devices\n"
		"famrt devices --json | jq -r '.devices[] | "
		"select(.mode == \"devdax\") | .path'\n",
};

/*
 * The uuid of the famrt file system the device belongs to (its superblock,
 * or its label for devices 1 and up), or NULL: none, or not readable by
 * this user (device nodes are usually root's). Valid until the next call.
 */
static const char *fs_uuid_of(const struct famrt_daxinfo *info)
{
	static char text[37];
	uint8_t uuid[16];
	uint32_t index;

	if (!info->path[0] ||
	    famrt_fs_probe_device(info->path, uuid, &index, NULL))
		return NULL;
	famrt_uuid_format(uuid, text);
	return text;
}

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

static void node_str(int node, char buf[16])
{
	if (node < 0)
		strcpy(buf, "-");
	else
		snprintf(buf, 16, "%d", node);
}

static void jw_node(struct famrt_jw *w, const char *key, int node)
{
	if (node < 0)
		famrt_jw_null(w, key);
	else
		famrt_jw_u64(w, key, (uint64_t)node);
}

static int write_json(FILE *f, const struct famrt_daxinfo *v, size_t n)
{
	struct famrt_jw w;

	famrt_jw_init(&w, f, true);
	famrt_jw_obj_begin(&w, NULL);
	famrt_jw_arr_begin(&w, "devices");
	for (size_t i = 0; i < n; i++) {
		const char *uuid = fs_uuid_of(&v[i]);

		famrt_jw_obj_begin(&w, NULL);
		famrt_jw_str(&w, "devname", v[i].devname);
		famrt_jw_str(&w, "path", v[i].path);
		famrt_jw_str(&w, "mode", v[i].mode);
		famrt_jw_str(&w, "driver", v[i].driver);
		famrt_jw_str(&w, "region", v[i].region);
		famrt_jw_u64(&w, "size", v[i].size);
		famrt_jw_u64(&w, "align", v[i].align);
		jw_node(&w, "numa_node", v[i].numa_node);
		jw_node(&w, "target_node", v[i].target_node);
		famrt_jw_str(&w, "near_cpus", v[i].near_cpus);
		if (uuid)
			famrt_jw_str(&w, "fs_uuid", uuid);
		else
			famrt_jw_null(&w, "fs_uuid");
		famrt_jw_obj_end(&w);
	}
	famrt_jw_arr_end(&w);
	famrt_jw_obj_end(&w);
	return famrt_jw_finish(&w);
}

#define ROW_FMT "%-10s %-14s %-10s %10s %9s %4s %6s %-12s %s\n"

static int write_table(FILE *f, const struct famrt_daxinfo *v, size_t n)
{
	fprintf(f, ROW_FMT, "DEVICE", "PATH", "MODE", "SIZE", "ALIGN", "NUMA",
		"TARGET", "CPUS", "FS");
	for (size_t i = 0; i < n; i++) {
		char size[FAMRT_SIZE_HUMAN_MAX], align[FAMRT_SIZE_HUMAN_MAX];
		char numa[16], target[16];

		famrt_size_human(v[i].size, size);
		famrt_size_human(v[i].align, align);
		node_str(v[i].numa_node, numa);
		node_str(v[i].target_node, target);
		fprintf(f, ROW_FMT, v[i].devname, v[i].path, dash(v[i].mode),
			size, align, numa, target, dash(v[i].near_cpus),
			dash(fs_uuid_of(&v[i])));
	}
	if (fflush(f) || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}

int famrt_devices_write(FILE *f, const struct famrt_daxinfo *v, size_t n,
			bool json)
{
	return json ? write_json(f, v, n) : write_table(f, v, n);
}

int famrt_cmd_devices(int argc, char **argv)
{
	const struct famrt_cli_spec *spec = &famrt_devices_spec;
	struct famrt_cli_getopt g = { 0 };
	struct famrt_daxinfo *v = NULL;
	struct famrt_err e;
	bool json = false;
	size_t n = 0;
	int c, rc;

	while ((c = famrt_cli_getopt(&g, spec, argc, argv)) != -1) {
		switch (c) {
		case FAMRT_CLI_HELP:
			return FAMRT_EXIT_OK;
		case FAMRT_CLI_ERROR:
			return FAMRT_EXIT_USAGE;
		case OPT_JSON:
			json = true;
			break;
		}
	}
	if (optind < argc)
		return famrt_cli_usage_error(spec, "unexpected argument '%s'",
					     argv[optind]);

	rc = famrt_dax_list(&v, &n, &e);
	if (rc)
		return famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path, "%s",
				      e.msg);
	rc = famrt_devices_write(stdout, v, n, json);
	free(v);
	if (rc)
		return famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				      "cannot write the list: %s",
				      strerror(-rc));
	return FAMRT_EXIT_OK;
}

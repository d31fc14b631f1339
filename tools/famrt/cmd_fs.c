/* SPDX-License-Identifier: Apache-2.0 */
/* famrt mkfs | adddev | df | statfs | log: a file system as a whole. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <famrt/fmap.h>

#include "cmd_common.h"
#include "dax/dax.h"
#include "famrt.h"
#include "json.h"
#include "meta/format.h"
#include "meta/fs.h"
#include "size.h"

enum {
	OPT_NAME = FAMRT_OPT_FIRST_OWN,
	OPT_UNIT,
	OPT_LOG_SIZE,
	OPT_MASTER,
	OPT_NONCOHERENT,
	OPT_FORCE,
	OPT_CREATE,
	OPT_DEV_ALIGN,
	OPT_JSON,
	OPT_FROM,
};

static int parse_size_opt(const struct famrt_cli_spec *spec, const char *opt,
			  const char *arg, uint64_t *v)
{
	int rc = famrt_size_parse(arg, v);

	if (rc)
		return famrt_cli_usage_error(spec, "--%s '%s' %s", opt, arg,
					     famrt_size_strerror(rc));
	return 0;
}

/* A size option that must be a power of two of at least 4K. */
static int parse_pow2_opt(const struct famrt_cli_spec *spec, const char *opt,
			  const char *arg, uint64_t *v)
{
	int rc = parse_size_opt(spec, opt, arg, v);

	if (rc)
		return rc;
	if (*v < 4096 || (*v & (*v - 1)))
		return famrt_cli_usage_error(spec,
					     "--%s %s is not a power of two of "
					     "at least 4K",
					     opt, arg);
	return 0;
}

static void print_fs_arg(FILE *f, const struct famrt_backend_info *in)
{
	for (uint32_t i = 0; i < in->ndevs; i++)
		fprintf(f, "%s%s", i ? "," : "", in->dev[i].path);
}

/* ---- famrt mkfs ---- */

static const struct famrt_cli_opt mkfs_opts[] = {
	FAMRT_FS_OPT_ROWS,
	{ "name", 0, true, "NAME", "the file system's name (default famrt)",
	  OPT_NAME },
	{ "unit", 0, true, "BYTES",
	  "allocation unit, a power of two (default 2M)", OPT_UNIT },
	{ "log-size", 0, true, "BYTES",
	  "log size (default: device 0 / 8, at most 64M)",
	  OPT_LOG_SIZE },
	{ "master", 0, true, "HOST",
	  "the one host that changes metadata (default: this)",
	  OPT_MASTER },
	{ "noncoherent", 0, false, NULL,
	  "the memory is not cache-coherent between hosts", OPT_NONCOHERENT },
	{ "force", 'f', false, NULL,
	  "overwrite a famrt file system or device label",
	  OPT_FORCE },
	{ "create", 0, true, "SIZE",
	  "make missing device files (emulated) of SIZE",
	  OPT_CREATE },
	{ "dev-align", 0, true, "BYTES",
	  "raise the devices' alignment (e.g. 2M for files)",
	  OPT_DEV_ALIGN },
	{ "json", 0, false, NULL, "print the summary as one JSON object",
	  OPT_JSON },
	{ NULL, 0, false, NULL, NULL, 0 },
};

const struct famrt_cli_spec famrt_mkfs_spec = {
	.path = "famrt mkfs",
	.args = "[DEV...]",
	.summary = "Make a famrt file system on 1 to 32 devices.",
	.details =
		"The devices are the operands, else --fs, else $FAMRT_FS; the\n"
		"first is device 0 (superblock and log), and the file system\n"
		"is named by this list, in this order, from then on. A device\n"
		"is a /dev/daxX.Y or a regular file standing in for one\n"
		"(--create makes missing files, sparse, mode 0600).\n"
		"A device that holds a famrt file system or label is refused\n"
		"(exit 4) unless --force. Prints the new uuid and a summary;\n"
		"--json prints {uuid, name, fs, master, noncoherent,\n"
		"alloc_unit, log_size, size, free, devices: [{index, path,\n"
		"size, align, uuid}]}.\n",
	.opts = mkfs_opts,
	.examples =
		"famrt mkfs /dev/dax0.0 /dev/dax1.0 --name pool\n"
		"famrt mkfs --create 1G /dev/shm/famrt0 /dev/shm/famrt1\n"
		"famrt mkfs --force --unit 4M --noncoherent --fs "
		"/dev/dax0.0,/dev/dax1.0\n",
};

static int mkfs_summary(const struct famrt_cli_spec *spec,
			struct famrt_backend *be, bool json)
{
	const struct famrt_backend_info *in = &be->info;
	struct famrt_proto_statfs_rep st;
	struct famrt_err e;
	char u[37], h1[FAMRT_SIZE_HUMAN_MAX], h2[FAMRT_SIZE_HUMAN_MAX];
	int rc;

	famrt_err_clear(&e);
	rc = famrt_backend_statfs(be, &st, &e);
	if (rc)
		return famrt_cmd_fail(spec, rc, &e);
	famrt_uuid_format(in->fs_uuid, u);
	if (json) {
		struct famrt_jw w;
		char fsarg[FAMRT_MAX_DEVS * (PATH_MAX + 1)];
		size_t n = 0;

		fsarg[0] = '\0';
		for (uint32_t i = 0; i < in->ndevs; i++)
			n += (size_t)snprintf(fsarg + n, sizeof(fsarg) - n,
					      "%s%s", i ? "," : "",
					      in->dev[i].path);
		famrt_jw_init(&w, stdout, true);
		famrt_jw_obj_begin(&w, NULL);
		famrt_jw_str(&w, "uuid", u);
		famrt_jw_str(&w, "name", in->fs_name);
		famrt_jw_str(&w, "fs", fsarg);
		famrt_jw_str(&w, "master", in->master);
		famrt_jw_bool(&w, "noncoherent", in->noncoherent);
		famrt_jw_u64(&w, "alloc_unit", in->alloc_unit);
		famrt_jw_u64(&w, "log_size", st.log_size);
		famrt_jw_u64(&w, "size", st.size);
		famrt_jw_u64(&w, "free", st.free);
		famrt_jw_arr_begin(&w, "devices");
		for (uint32_t i = 0; i < in->ndevs; i++) {
			char du[37];

			famrt_uuid_format(in->dev[i].uuid, du);
			famrt_jw_obj_begin(&w, NULL);
			famrt_jw_u64(&w, "index", i);
			famrt_jw_str(&w, "path", in->dev[i].path);
			famrt_jw_u64(&w, "size", in->dev[i].size);
			famrt_jw_u64(&w, "align", in->dev[i].align);
			famrt_jw_str(&w, "uuid", du);
			famrt_jw_obj_end(&w);
		}
		famrt_jw_arr_end(&w);
		famrt_jw_obj_end(&w);
		rc = famrt_jw_finish(&w);
		if (rc)
			return famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					      "writing the output: %s",
					      strerror(-rc));
		return FAMRT_EXIT_OK;
	}
	printf("made famrt file system '%s'\n", in->fs_name);
	printf("uuid:        %s\n", u);
	printf("master:      %s%s\n", in->master,
	       in->is_master ? " (this host)" : "");
	printf("memory:      %s\n",
	       in->noncoherent ? "not coherent between hosts (readers "
				 "invalidate)" :
				 "coherent");
	printf("alloc unit:  %" PRIu64 " (%s)\n", in->alloc_unit,
	       famrt_size_human(in->alloc_unit, h1));
	printf("log:         %" PRIu64 " bytes (%s)\n", st.log_size,
	       famrt_size_human(st.log_size, h1));
	printf("data:        %" PRIu64 " bytes (%s) in %u device%s, %s free\n",
	       st.size, famrt_size_human(st.size, h1), in->ndevs,
	       in->ndevs == 1 ? "" : "s", famrt_size_human(st.free, h2));
	for (uint32_t i = 0; i < in->ndevs; i++)
		printf("device %u:    %s, %" PRIu64 " bytes (%s), align %"
		       PRIu64 "\n",
		       i, in->dev[i].path, in->dev[i].size,
		       famrt_size_human(in->dev[i].size, h1),
		       in->dev[i].align);
	printf("name it:     --fs ");
	print_fs_arg(stdout, in);
	printf("\n");
	return famrt_cmd_finish_stdout(spec);
}

int famrt_cmd_mkfs(int argc, char **argv)
{
	const struct famrt_cli_spec *spec = &famrt_mkfs_spec;
	struct famrt_cli_getopt g = { 0 };
	struct famrt_fsopt fo = { 0 };
	struct famrt_mkfs_opts mo = { 0 };
	struct famrt_fs_spec s = { 0 };
	struct famrt_backend *be = NULL;
	struct famrt_err e;
	uint64_t create = 0;
	bool json = false;
	char *joined = NULL;
	int c, ret, rc;

	while ((c = famrt_cli_getopt(&g, spec, argc, argv)) != -1) {
		if (famrt_fsopt_take(&fo, c, g.arg))
			continue;
		switch (c) {
		case FAMRT_CLI_HELP:
			return FAMRT_EXIT_OK;
		case FAMRT_CLI_ERROR:
			return FAMRT_EXIT_USAGE;
		case OPT_NAME:
			if (strlen(g.arg) > FAMRT_NAME_MAX)
				return famrt_cli_usage_error(
					spec, "--name: at most %u bytes",
					FAMRT_NAME_MAX);
			mo.name = g.arg;
			break;
		case OPT_UNIT:
			ret = parse_pow2_opt(spec, "unit", g.arg,
					     &mo.alloc_unit);
			if (ret)
				return ret;
			break;
		case OPT_LOG_SIZE:
			ret = parse_size_opt(spec, "log-size", g.arg,
					     &mo.log_size);
			if (ret)
				return ret;
			if (mo.log_size < FAMRT_LOG_MIN_SIZE ||
			    mo.log_size % 4096)
				return famrt_cli_usage_error(
					spec,
					"--log-size %s: a multiple of 4K, at "
					"least 256K",
					g.arg);
			break;
		case OPT_MASTER:
			if (!*g.arg || strlen(g.arg) > FAMRT_HOSTID_MAX)
				return famrt_cli_usage_error(
					spec, "--master must be 1 to %u bytes",
					FAMRT_HOSTID_MAX);
			mo.master = g.arg;
			break;
		case OPT_NONCOHERENT:
			mo.noncoherent = true;
			break;
		case OPT_FORCE:
			mo.force = true;
			break;
		case OPT_CREATE:
			ret = parse_size_opt(spec, "create", g.arg, &create);
			if (ret)
				return ret;
			if (!create || create % 4096)
				return famrt_cli_usage_error(
					spec,
					"--create %s: a non-zero multiple of "
					"4K",
					g.arg);
			break;
		case OPT_DEV_ALIGN:
			ret = parse_pow2_opt(spec, "dev-align", g.arg,
					     &mo.dev_align);
			if (ret)
				return ret;
			break;
		case OPT_JSON:
			json = true;
			break;
		}
	}
	famrt_err_clear(&e);
	if (optind < argc) {
		size_t len = 1;

		if (fo.fs)
			return famrt_cli_usage_error(spec,
						     "give the devices as "
						     "operands or with --fs, "
						     "not both");
		for (int i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		joined = calloc(1, len);
		if (!joined)
			return famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					      "out of memory");
		for (int i = optind; i < argc; i++) {
			if (strchr(argv[i], ',')) {
				free(joined);
				return famrt_cli_usage_error(
					spec,
					"device path '%s' has a comma: file "
					"systems are named by comma-separated "
					"device lists",
					argv[i]);
			}
			if (i > optind)
				strcat(joined, ",");
			strcat(joined, argv[i]);
		}
		fo.fs = joined;
	}
	if (!famrt_fsopt_spec(spec, &fo, &ret)) {
		free(joined);
		return ret;
	}
	if (famrt_fs_spec_parse(&s, fo.fs ? fo.fs : getenv("FAMRT_FS"),
				&e)) {
		ret = famrt_cli_usage_error(spec, "%s", e.msg);
		goto out;
	}
	if (!mo.master && fo.host_id)
		mo.master = fo.host_id;
	for (uint32_t i = 0; create && i < s.n; i++) {
		if (!access(s.paths[i], F_OK))
			continue;
		rc = famrt_dev_create_file(s.paths[i], create, 0600, &e);
		if (rc) {
			ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					     "%s", e.msg);
			goto out;
		}
	}
	{
		/* Never pull a file system from under its service. */
		int pid = famrt_backend_service_pid(fo.fs ? fo.fs :
							    getenv("FAMRT_FS"));

		if (pid > 0) {
			ret = famrt_cli_fail(FAMRT_EXIT_REFUSED, spec->path,
					     "famrtd (pid %d) serves the file "
					     "system on '%s': stop it before "
					     "making a new one there",
					     pid, s.paths[0]);
			goto out;
		}
	}
	rc = famrt_mkfs(s.paths, s.n, &mo, NULL, &e);
	if (rc) {
		ret = famrt_cli_fail(rc == -EEXIST || rc == -ENOSPC ||
					     rc == -EINVAL ||
					     rc == -ENAMETOOLONG ?
					     FAMRT_EXIT_REFUSED :
					     FAMRT_EXIT_SYSTEM,
				     spec->path, "%s", e.msg);
		goto out;
	}
	ret = famrt_cmd_open(spec, &fo, true, &be);
	if (!ret)
		ret = mkfs_summary(spec, be, json);
out:
	famrt_backend_close(be);
	famrt_fs_spec_free(&s);
	free(joined);
	return ret;
}

/* ---- famrt adddev ---- */

static const struct famrt_cli_opt adddev_opts[] = {
	FAMRT_FS_OPT_ROWS,
	{ "create", 0, true, "SIZE",
	  "make the device file (emulated) if missing",
	  OPT_CREATE },
	{ NULL, 0, false, NULL, NULL, 0 },
};

const struct famrt_cli_spec famrt_adddev_spec = {
	.path = "famrt adddev",
	.args = "DEVICE",
	.summary = "Add a device to a file system (as its next index).",
	.details =
		"The device is labelled and the addition logged; its space\n"
		"joins the free space at once. A device that already belongs\n"
		"to a famrt file system is refused. From then on the file\n"
		"system is named with the new device last (the command prints\n"
		"the new --fs). Only on the master host.\n",
	.opts = adddev_opts,
	.examples =
		"famrt adddev --fs /dev/dax0.0,/dev/dax1.0 /dev/dax2.0\n"
		"famrt adddev --create 1G /dev/shm/famrt2\n",
};

int famrt_cmd_adddev(int argc, char **argv)
{
	const struct famrt_cli_spec *spec = &famrt_adddev_spec;
	struct famrt_cli_getopt g = { 0 };
	struct famrt_fsopt fo = { 0 };
	struct famrt_backend *be = NULL;
	struct famrt_err e;
	uint64_t create = 0;
	const char *dev;
	char u[37];
	int c, ret, rc;

	while ((c = famrt_cli_getopt(&g, spec, argc, argv)) != -1) {
		if (famrt_fsopt_take(&fo, c, g.arg))
			continue;
		switch (c) {
		case FAMRT_CLI_HELP:
			return FAMRT_EXIT_OK;
		case FAMRT_CLI_ERROR:
			return FAMRT_EXIT_USAGE;
		case OPT_CREATE:
			ret = parse_size_opt(spec, "create", g.arg, &create);
			if (ret)
				return ret;
			if (!create || create % 4096)
				return famrt_cli_usage_error(
					spec,
					"--create %s: a non-zero multiple of "
					"4K",
					g.arg);
			break;
		}
	}
	if (optind >= argc)
		return famrt_cli_usage_error(spec, "a DEVICE is needed");
	if (optind + 1 < argc)
		return famrt_cli_usage_error(spec, "unexpected argument '%s'",
					     argv[optind + 1]);
	dev = argv[optind];
	if (strchr(dev, ','))
		return famrt_cli_usage_error(spec,
					     "device path '%s' has a comma", dev);
	ret = famrt_cmd_open(spec, &fo, false, &be);
	if (ret)
		return ret;
	famrt_err_clear(&e);
	if (create && access(dev, F_OK)) {
		rc = famrt_dev_create_file(dev, create, 0600, &e);
		if (rc) {
			ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					     "%s", e.msg);
			goto out;
		}
	}
	rc = famrt_backend_add_device(be, dev, &e);
	if (rc) {
		ret = famrt_cmd_fail(spec, rc, &e);
		goto out;
	}
	famrt_uuid_format(be->info.fs_uuid, u);
	printf("added '%s' as device %u of file system '%s' (%s)\n", dev,
	       be->info.ndevs - 1, be->info.fs_name, u);
	printf("name it from now on: --fs ");
	print_fs_arg(stdout, &be->info);
	printf("\n");
	ret = famrt_cmd_finish_stdout(spec);
out:
	famrt_backend_close(be);
	return ret;
}

/* ---- famrt df / statfs ---- */

static const struct famrt_cli_opt df_opts[] = {
	FAMRT_FS_OPT_ROWS,
	{ "json", 0, false, NULL, "print one JSON object", OPT_JSON },
	{ NULL, 0, false, NULL, NULL, 0 },
};

#define DF_DETAILS                                                            \
	"Data space (size, used, free, the largest free run and the number\n" \
	"of free runs: many small runs mean fragmentation), in total and\n"   \
	"per device; files and directories; how much of the metadata log\n"  \
	"is used. --json prints {uuid, name, backend, master, host_id,\n"    \
	"is_master, noncoherent, alloc_unit, size, used, free,\n"            \
	"largest_free, free_runs, files, dirs, log_used, log_size,\n"        \
	"log_entries, devices: [{index, path, size, align, free,\n"          \
	"largest_free, free_runs}]}; per-device figures are null when the\n" \
	"backend cannot tell them.\n"

const struct famrt_cli_spec famrt_df_spec = {
	.path = "famrt df",
	.args = NULL,
	.summary = "Show free space, fragmentation and log use.",
	.details = DF_DETAILS,
	.opts = df_opts,
	.examples =
		"famrt df --fs /dev/dax0.0,/dev/dax1.0\n"
		"famrt df --json | jq .free\n",
};

const struct famrt_cli_spec famrt_statfs_spec = {
	.path = "famrt statfs",
	.args = NULL,
	.summary = "The same as 'famrt df'.",
	.details = DF_DETAILS,
	.opts = df_opts,
	.examples =
		"famrt statfs --fs /dev/dax0.0,/dev/dax1.0\n"
		"famrt statfs --json | jq .log_used\n",
};

static void jw_opt_u64(struct famrt_jw *w, const char *key, bool have,
		       uint64_t v)
{
	if (have)
		famrt_jw_u64(w, key, v);
	else
		famrt_jw_null(w, key);
}

static unsigned pct(uint64_t part, uint64_t whole)
{
	return whole ? (unsigned)((part * 100 + whole / 2) / whole) : 0;
}

#define DF_ROW "%-8s %10s %10s %10s %4s %12s %9s%s%s\n"

static int df_run(const struct famrt_cli_spec *spec, int argc, char **argv)
{
	struct famrt_cli_getopt g = { 0 };
	struct famrt_fsopt fo = { 0 };
	struct famrt_backend *be = NULL;
	struct famrt_proto_statfs_rep st;
	struct famrt_alloc_stats as;
	const struct famrt_backend_info *in;
	struct famrt_err e;
	bool json = false, have_dev;
	char u[37];
	int c, ret, rc;

	while ((c = famrt_cli_getopt(&g, spec, argc, argv)) != -1) {
		if (famrt_fsopt_take(&fo, c, g.arg))
			continue;
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
	ret = famrt_cmd_open(spec, &fo, true, &be);
	if (ret)
		return ret;
	in = &be->info;
	famrt_err_clear(&e);
	rc = famrt_backend_statfs(be, &st, &e);
	if (rc) {
		ret = famrt_cmd_fail(spec, rc, &e);
		goto out;
	}
	have_dev = !famrt_backend_alloc_stats(be, &as, NULL) &&
		   as.ndevs == in->ndevs;
	famrt_uuid_format(in->fs_uuid, u);
	if (json) {
		struct famrt_jw w;

		famrt_jw_init(&w, stdout, true);
		famrt_jw_obj_begin(&w, NULL);
		famrt_jw_str(&w, "uuid", u);
		famrt_jw_str(&w, "name", in->fs_name);
		famrt_jw_str(&w, "backend", in->kind);
		famrt_jw_str(&w, "master", in->master);
		famrt_jw_str(&w, "host_id", in->host_id);
		famrt_jw_bool(&w, "is_master", in->is_master);
		famrt_jw_bool(&w, "noncoherent", in->noncoherent);
		famrt_jw_u64(&w, "alloc_unit", st.alloc_unit);
		famrt_jw_u64(&w, "size", st.size);
		famrt_jw_u64(&w, "used", st.size - st.free);
		famrt_jw_u64(&w, "free", st.free);
		famrt_jw_u64(&w, "largest_free", st.largest_free);
		famrt_jw_u64(&w, "free_runs", st.free_runs);
		famrt_jw_u64(&w, "files", st.files);
		famrt_jw_u64(&w, "dirs", st.dirs);
		famrt_jw_u64(&w, "log_used", st.log_used);
		famrt_jw_u64(&w, "log_size", st.log_size);
		famrt_jw_u64(&w, "log_entries", st.entries);
		famrt_jw_arr_begin(&w, "devices");
		for (uint32_t i = 0; i < in->ndevs; i++) {
			famrt_jw_obj_begin(&w, NULL);
			famrt_jw_u64(&w, "index", i);
			famrt_jw_str(&w, "path", in->dev[i].path);
			famrt_jw_u64(&w, "size", in->dev[i].size);
			famrt_jw_u64(&w, "align", in->dev[i].align);
			jw_opt_u64(&w, "free", have_dev, as.dev[i].free);
			jw_opt_u64(&w, "largest_free", have_dev,
				   as.dev[i].largest_free);
			jw_opt_u64(&w, "free_runs", have_dev,
				   as.dev[i].free_runs);
			famrt_jw_obj_end(&w);
		}
		famrt_jw_arr_end(&w);
		famrt_jw_obj_end(&w);
		rc = famrt_jw_finish(&w);
		ret = rc ? famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					  "writing the output: %s",
					  strerror(-rc)) :
			   FAMRT_EXIT_OK;
		goto out;
	}
	{
		char s1[FAMRT_SIZE_HUMAN_MAX], s2[FAMRT_SIZE_HUMAN_MAX],
			s3[FAMRT_SIZE_HUMAN_MAX], s4[FAMRT_SIZE_HUMAN_MAX];
		char p[8], runs[24];

		printf("file system '%s' (%s), %u device%s, master '%s'%s\n",
		       in->fs_name, u, in->ndevs, in->ndevs == 1 ? "" : "s",
		       in->master, in->is_master ? " (this host)" : "");
		printf("allocation unit %s; memory %s\n\n",
		       famrt_size_human(st.alloc_unit, s1),
		       in->noncoherent ? "not coherent between hosts" :
					 "coherent");
		printf(DF_ROW, "", "SIZE", "USED", "FREE", "USE%",
		       "LARGEST FREE", "FREE RUNS", "", "");
		snprintf(p, sizeof(p), "%u%%", pct(st.size - st.free, st.size));
		snprintf(runs, sizeof(runs), "%" PRIu64, st.free_runs);
		printf(DF_ROW, "total", famrt_size_human(st.size, s1),
		       famrt_size_human(st.size - st.free, s2),
		       famrt_size_human(st.free, s3), p,
		       famrt_size_human(st.largest_free, s4), runs, "", "");
		for (uint32_t i = 0; have_dev && i < in->ndevs; i++) {
			const struct famrt_alloc_dev_stats *d = &as.dev[i];
			char name[24];

			snprintf(name, sizeof(name), "device %u", i);
			snprintf(p, sizeof(p), "%u%%",
				 pct(d->size - d->free, d->size));
			snprintf(runs, sizeof(runs), "%" PRIu64, d->free_runs);
			printf(DF_ROW, name, famrt_size_human(d->size, s1),
			       famrt_size_human(d->size - d->free, s2),
			       famrt_size_human(d->free, s3), p,
			       famrt_size_human(d->largest_free, s4), runs,
			       "  ", in->dev[i].path);
		}
		printf("\nfiles %" PRIu64 ", directories %" PRIu64 "\n",
		       st.files, st.dirs);
		printf("log: %" PRIu64 " of %" PRIu64 " bytes used (%u%%), %"
		       PRIu64 " entr%s\n",
		       st.log_used, st.log_size, pct(st.log_used, st.log_size),
		       st.entries, st.entries == 1 ? "y" : "ies");
		ret = famrt_cmd_finish_stdout(spec);
	}
out:
	famrt_backend_close(be);
	return ret;
}

int famrt_cmd_df(int argc, char **argv)
{
	return df_run(&famrt_df_spec, argc, argv);
}

int famrt_cmd_statfs(int argc, char **argv)
{
	return df_run(&famrt_statfs_spec, argc, argv);
}

/* ---- famrt log ---- */

static const struct famrt_cli_opt log_opts[] = {
	FAMRT_FS_OPT_ROWS,
	{ "from", 0, true, "SEQ", "start at entry SEQ (default 1)", OPT_FROM },
	{ "json", 0, false, NULL, "print one JSON object", OPT_JSON },
	{ NULL, 0, false, NULL, NULL, 0 },
};

const struct famrt_cli_spec famrt_log_spec = {
	.path = "famrt log",
	.args = NULL,
	.summary = "Print the entries of the metadata log.",
	.details =
		"One line per entry: sequence number, time (UTC), type, and\n"
		"what it says: the path, mode, owner; for a file its size and\n"
		"layout; for an added device its index and size. The end of\n"
		"the log is reported; a damaged committed entry too (exit 4;\n"
		"'famrt fsck' says more).\n"
		"--json prints {\"entries\": [...], \"next_seq\": N, \"error\":\n"
		"null or a string}; every entry has the keys seq, time_ns,\n"
		"type, flags, path, mode, uid, gid, size, layout, device (null\n"
		"where the type has none; layout as in 'famrt stat --json',\n"
		"device {index, size, align, data_start, uuid}).\n",
	.opts = log_opts,
	.examples =
		"famrt log --fs /dev/dax0.0,/dev/dax1.0\n"
		"famrt log --from 100 --json | jq -r '.entries[].path'\n",
};

struct log_ent {
	const char *type;
	bool has_node, has_file, has_dev, has_setattr;
	struct famrt_ent_setattr sa;
	char path[FAMRT_PATH_MAX + 1];
	uint32_t mode, uid, gid;
	uint64_t size;
	bool has_layout;
	struct famrt_map_summary lay;
	struct famrt_ent_add_device dev;
};

static void log_decode(const struct famrt_entry_hdr *h, const uint8_t *p,
		       struct log_ent *o)
{
	memset(o, 0, sizeof(*o));
	o->type = famrt_entry_type_name(h->type);
	if (h->type == FAMRT_ENTRY_MKDIR) {
		struct famrt_ent_mkdir m;

		if (famrt_ent_mkdir_decode(p, h->len, &m, NULL))
			return;
		o->has_node = true;
		snprintf(o->path, sizeof(o->path), "%.*s", (int)m.path_len,
			 m.path);
		o->mode = m.mode;
		o->uid = m.uid;
		o->gid = m.gid;
	} else if (h->type == FAMRT_ENTRY_CREATE) {
		struct famrt_ent_create c;
		struct famrt_fmap_limits lim = { .size = sizeof(lim),
						 .align = 4096 };
		struct famrt_fmap *map = NULL;

		if (famrt_ent_create_decode(p, h->len, &c, NULL))
			return;
		o->has_node = o->has_file = true;
		snprintf(o->path, sizeof(o->path), "%.*s", (int)c.path_len,
			 c.path);
		o->mode = c.mode;
		o->uid = c.uid;
		o->gid = c.gid;
		if (!famrt_fmap_decode(c.fmap, c.fmap_len, &lim, &map, NULL)) {
			o->size = famrt_fmap_file_size(map);
			famrt_map_summarize(map, &o->lay);
			o->has_layout = true;
			famrt_fmap_free(map);
		}
	} else if (h->type == FAMRT_ENTRY_ADD_DEVICE) {
		if (!famrt_ent_add_device_decode(p, h->len, &o->dev, NULL))
			o->has_dev = true;
	} else if (h->type == FAMRT_ENTRY_SETATTR) {
		if (!famrt_ent_setattr_decode(p, h->len, &o->sa, NULL))
			o->has_setattr = true;
	}
}

static void log_json_entry(struct famrt_jw *w, const struct famrt_entry_hdr *h,
			   const struct log_ent *o)
{
	famrt_jw_obj_begin(w, NULL);
	famrt_jw_u64(w, "seq", h->seq);
	famrt_jw_u64(w, "time_ns", h->time_ns);
	famrt_jw_str(w, "type", o->type);
	famrt_jw_u64(w, "flags", h->flags);
	if (o->has_node)
		famrt_jw_str(w, "path", o->path);
	else
		famrt_jw_null(w, "path");
	if (o->has_setattr) {
		const uint32_t k = FAMRT_SETATTR_KEEP;

		jw_opt_u64(w, "mode", o->sa.mode != k, o->sa.mode);
		jw_opt_u64(w, "uid", o->sa.uid != k, o->sa.uid);
		jw_opt_u64(w, "gid", o->sa.gid != k, o->sa.gid);
	} else {
		jw_opt_u64(w, "mode", o->has_node, o->mode);
		jw_opt_u64(w, "uid", o->has_node, o->uid);
		jw_opt_u64(w, "gid", o->has_node, o->gid);
	}
	jw_opt_u64(w, "size", o->has_layout, o->size);
	famrt_map_summary_json(w, "layout", o->has_layout ? &o->lay : NULL);
	if (o->has_dev) {
		char u[37];

		famrt_uuid_format(o->dev.dev.uuid, u);
		famrt_jw_obj_begin(w, "device");
		famrt_jw_u64(w, "index", o->dev.devindex);
		famrt_jw_u64(w, "size", o->dev.dev.size);
		famrt_jw_u64(w, "align", o->dev.dev.align);
		famrt_jw_u64(w, "data_start", o->dev.dev.data_start);
		famrt_jw_str(w, "uuid", u);
		famrt_jw_obj_end(w);
	} else {
		famrt_jw_null(w, "device");
	}
	famrt_jw_obj_end(w);
}

static void log_text_entry(const struct famrt_entry_hdr *h,
			   const struct log_ent *o)
{
	char t[48], h1[FAMRT_SIZE_HUMAN_MAX], lay[160];

	famrt_time_utc(h->time_ns, t);
	printf("%-6" PRIu64 " %s %-10s", h->seq, t, o->type);
	if (o->has_node)
		printf(" %s mode %04o uid %u gid %u", o->path, o->mode, o->uid,
		       o->gid);
	if (o->has_layout) {
		famrt_map_summary_text(&o->lay, lay, sizeof(lay));
		printf(" size %" PRIu64 " (%s) %s", o->size,
		       famrt_size_human(o->size, h1), lay);
	} else if (o->has_file) {
		printf(" (map unreadable)");
	}
	if (o->has_dev)
		printf(" device %u size %" PRIu64 " (%s) align %" PRIu64,
		       o->dev.devindex, o->dev.dev.size,
		       famrt_size_human(o->dev.dev.size, h1),
		       o->dev.dev.align);
	if (o->has_setattr) {
		printf(" inode %" PRIu64, o->sa.ino);
		if (o->sa.mode != FAMRT_SETATTR_KEEP)
			printf(" mode %04o", o->sa.mode);
		if (o->sa.uid != FAMRT_SETATTR_KEEP)
			printf(" uid %u", o->sa.uid);
		if (o->sa.gid != FAMRT_SETATTR_KEEP)
			printf(" gid %u", o->sa.gid);
	}
	if (!o->has_node && !o->has_dev && !o->has_setattr)
		printf(" (%u bytes%s)", h->len,
		       h->flags & FAMRT_ENTRY_SKIPPABLE ? ", skippable" : "");
	printf("\n");
}

int famrt_cmd_log(int argc, char **argv)
{
	const struct famrt_cli_spec *spec = &famrt_log_spec;
	struct famrt_cli_getopt g = { 0 };
	struct famrt_fsopt fo = { 0 };
	struct famrt_backend *be = NULL;
	struct famrt_log_cursor cur = { 0, 0 };
	struct famrt_jw w;
	struct famrt_err e;
	struct log_ent *o = NULL;
	uint64_t from = 1, shown = 0;
	bool json = false;
	int c, ret, rc;

	while ((c = famrt_cli_getopt(&g, spec, argc, argv)) != -1) {
		if (famrt_fsopt_take(&fo, c, g.arg))
			continue;
		switch (c) {
		case FAMRT_CLI_HELP:
			return FAMRT_EXIT_OK;
		case FAMRT_CLI_ERROR:
			return FAMRT_EXIT_USAGE;
		case OPT_FROM:
			if (famrt_size_parse(g.arg, &from) || !from)
				return famrt_cli_usage_error(
					spec,
					"--from '%s': a sequence number, 1 or "
					"more",
					g.arg);
			break;
		case OPT_JSON:
			json = true;
			break;
		}
	}
	if (optind < argc)
		return famrt_cli_usage_error(spec, "unexpected argument '%s'",
					     argv[optind]);
	ret = famrt_cmd_open(spec, &fo, true, &be);
	if (ret)
		return ret;
	o = malloc(sizeof(*o));
	if (!o) {
		ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				     "out of memory");
		goto out;
	}
	if (json) {
		famrt_jw_init(&w, stdout, true);
		famrt_jw_obj_begin(&w, NULL);
		famrt_jw_arr_begin(&w, "entries");
	}
	famrt_err_clear(&e);
	for (;;) {
		struct famrt_entry_hdr h;
		const uint8_t *p;

		rc = famrt_backend_log_next(be, &cur, &h, &p, &e);
		if (rc <= 0)
			break;
		if (h.seq < from)
			continue;
		log_decode(&h, p, o);
		if (json)
			log_json_entry(&w, &h, o);
		else
			log_text_entry(&h, o);
		shown++;
	}
	if (json) {
		famrt_jw_arr_end(&w);
		famrt_jw_u64(&w, "next_seq", cur.seq ? cur.seq : 1);
		if (rc < 0)
			famrt_jw_str(&w, "error", e.msg);
		else
			famrt_jw_null(&w, "error");
		famrt_jw_obj_end(&w);
		if (famrt_jw_finish(&w)) {
			ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					     "writing the output failed");
			goto out;
		}
	} else if (!rc) {
		printf("end of log: %" PRIu64 " entr%s shown, next sequence "
		       "number %" PRIu64 "\n",
		       shown, shown == 1 ? "y" : "ies", cur.seq ? cur.seq : 1);
	}
	ret = famrt_cmd_finish_stdout(spec);
	if (rc < 0 && !ret)
		ret = famrt_cmd_fail(spec, rc, &e);
out:
	free(o);
	famrt_backend_close(be);
	return ret;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt fsck: check a file system on its devices (famrt_fsck(), which
 * reads the media itself and never writes). Exit codes as fsck(8).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_common.h"
#include "famrt.h"
#include "json.h"
#include "meta/format.h"
#include "meta/fsck.h"
#include "size.h"

enum {
	OPT_JSON = FAMRT_OPT_FIRST_OWN,
	OPT_QUIET,
};

/* fsck(8)'s exit codes. */
enum {
	FSCK_OK = 0,
	FSCK_ERRORS = 4,
	FSCK_OPERATIONAL = 8,
	FSCK_USAGE = 16,
};

static const struct famrt_cli_opt fsck_opts[] = {
	FAMRT_FS_OPT_ROW,
	{ "json", 0, false, NULL, "print one JSON object", OPT_JSON },
	{ "quiet", 'q', false, NULL, "print only errors, no summary",
	  OPT_QUIET },
	{ NULL, 0, false, NULL, NULL, 0 },
};

const struct famrt_cli_spec famrt_fsck_spec = {
	.path = "famrt fsck",
	.args = "[DEV...]",
	.summary = "Check a file system on its devices; change nothing.",
	.details =
		"The devices are the operands, else --fs, else $FAMRT_FS,\n"
		"device 0 first. Every device is opened read-only. fsck reads\n"
		"the superblocks, labels and log itself and replays the log\n"
		"into its own namespace and allocator, so it reports damage\n"
		"that makes the file system unusable, then cross-checks with\n"
		"a normal read-only open. Run it on a quiet file system.\n"
		"One line per finding: 'error' or 'warning', a stable code\n"
		"(sb-primary-crc, log-entry-damaged, overlap, ...) and what\n"
		"and where; then a summary.\n"
		"--json prints {findings: [{severity, code, dev, offset, seq,\n"
		"path, message}], summary: {complete, operational_error, name,\n"
		"uuid, ndevs, ndevs_given, entries, entries_lost, skipped,\n"
		"files, dirs, file_bytes, bytes_total, bytes_used, bytes_free,\n"
		"log_size, log_used, errors, warnings}, error, exit_code};\n"
		"dev, offset, seq, path, uuid and error are null when they do\n"
		"not apply.\n",
	.opts = fsck_opts,
	.examples =
		"famrt fsck /dev/dax0.0 /dev/dax1.0\n"
		"famrt fsck --fs /dev/shm/f0,/dev/shm/f1 --json | "
		"jq -r '.findings[].code'\n",
	.exit_status =
		"Exit status: as fsck(8): 0 no errors (warnings allowed), 4\n"
		"errors found, 8 operational error (a device cannot be\n"
		"opened), 16 usage error.\n",
};

struct fsck_out {
	bool json, quiet;
	struct famrt_jw *w;
};

static void report(const struct famrt_fsck_finding *f, void *arg)
{
	struct fsck_out *o = arg;

	if (!o->json) {
		if (o->quiet && f->severity != FAMRT_FSCK_ERROR)
			return;
		printf("%s: %s: %s\n", famrt_fsck_severity_name(f->severity),
		       f->code, f->message);
		return;
	}
	famrt_jw_obj_begin(o->w, NULL);
	famrt_jw_str(o->w, "severity", famrt_fsck_severity_name(f->severity));
	famrt_jw_str(o->w, "code", f->code);
	if (f->dev == FAMRT_FSCK_NO_DEV)
		famrt_jw_null(o->w, "dev");
	else
		famrt_jw_u64(o->w, "dev", f->dev);
	if (f->offset == FAMRT_FSCK_NO_OFFSET)
		famrt_jw_null(o->w, "offset");
	else
		famrt_jw_u64(o->w, "offset", f->offset);
	if (f->seq)
		famrt_jw_u64(o->w, "seq", f->seq);
	else
		famrt_jw_null(o->w, "seq");
	if (f->path)
		famrt_jw_str(o->w, "path", f->path);
	else
		famrt_jw_null(o->w, "path");
	famrt_jw_str(o->w, "message", f->message);
	famrt_jw_obj_end(o->w);
}

static bool uuid_known(const struct famrt_fsck_summary *s)
{
	for (int i = 0; i < 16; i++)
		if (s->uuid[i])
			return true;
	return false;
}

static void summary_json(struct famrt_jw *w, const struct famrt_fsck_summary *s)
{
	char u[37];

	famrt_jw_obj_begin(w, "summary");
	famrt_jw_bool(w, "complete", s->complete);
	famrt_jw_bool(w, "operational_error", s->operational_error);
	famrt_jw_str(w, "name", s->name);
	if (uuid_known(s)) {
		famrt_uuid_format(s->uuid, u);
		famrt_jw_str(w, "uuid", u);
	} else {
		famrt_jw_null(w, "uuid");
	}
	famrt_jw_u64(w, "ndevs", s->ndevs);
	famrt_jw_u64(w, "ndevs_given", s->ndevs_given);
	famrt_jw_u64(w, "entries", s->entries);
	famrt_jw_u64(w, "entries_lost", s->entries_lost);
	famrt_jw_u64(w, "skipped", s->skipped);
	famrt_jw_u64(w, "files", s->files);
	famrt_jw_u64(w, "dirs", s->dirs);
	famrt_jw_u64(w, "file_bytes", s->file_bytes);
	famrt_jw_u64(w, "bytes_total", s->bytes_total);
	famrt_jw_u64(w, "bytes_used", s->bytes_used);
	famrt_jw_u64(w, "bytes_free", s->bytes_free);
	famrt_jw_u64(w, "log_size", s->log_size);
	famrt_jw_u64(w, "log_used", s->log_used);
	famrt_jw_u64(w, "errors", s->errors);
	famrt_jw_u64(w, "warnings", s->warnings);
	famrt_jw_obj_end(w);
}

static void summary_text(const struct famrt_fsck_summary *s)
{
	char u[37] = "?", h1[FAMRT_SIZE_HUMAN_MAX], h2[FAMRT_SIZE_HUMAN_MAX];

	if (uuid_known(s))
		famrt_uuid_format(s->uuid, u);
	if (!s->ndevs) /* no superblock: nothing else to tell */
		goto counts;
	printf("file system '%s' (%s): %u device%s (%u given)\n", s->name, u,
	       s->ndevs, s->ndevs == 1 ? "" : "s", s->ndevs_given);
	printf("log: %" PRIu64 " entries (%" PRIu64 " lost after damage, %"
	       PRIu64 " not applied), %" PRIu64 " of %" PRIu64 " bytes\n",
	       s->entries, s->entries_lost, s->skipped, s->log_used,
	       s->log_size);
	printf("%" PRIu64 " files (%s), %" PRIu64 " directories; %s of "
	       "data in use, ",
	       s->files, famrt_size_human(s->file_bytes, h1), s->dirs,
	       famrt_size_human(s->bytes_used, h2));
	printf("%s free\n", famrt_size_human(s->bytes_free, h1));
counts:
	printf("%" PRIu64 " error%s, %" PRIu64 " warning%s%s: %s\n", s->errors,
	       s->errors == 1 ? "" : "s", s->warnings,
	       s->warnings == 1 ? "" : "s",
	       s->complete ? "" : " (the check could not finish)",
	       s->errors || s->operational_error ? "NOT CLEAN" : "clean");
}

int famrt_cmd_fsck(int argc, char **argv)
{
	const struct famrt_cli_spec *spec = &famrt_fsck_spec;
	struct famrt_cli_getopt g = { 0 };
	struct famrt_fsopt fo = { 0 };
	struct famrt_fs_spec fs = { 0 };
	struct famrt_fsck_summary s;
	struct famrt_fsck_opts opts;
	struct fsck_out out = { 0 };
	struct famrt_jw w;
	struct famrt_err e;
	const char *list;
	char *joined = NULL;
	int c, ret, rc;

	while ((c = famrt_cli_getopt(&g, spec, argc, argv)) != -1) {
		if (famrt_fsopt_take(&fo, c, g.arg))
			continue;
		switch (c) {
		case FAMRT_CLI_HELP:
			return FSCK_OK;
		case FAMRT_CLI_ERROR:
			return FSCK_USAGE;
		case OPT_JSON:
			out.json = true;
			break;
		case OPT_QUIET:
			out.quiet = true;
			break;
		}
	}
	if (optind < argc) {
		size_t len = 1;

		if (fo.fs) {
			famrt_cli_usage_error(spec,
					      "give the devices as operands or "
					      "with --fs, not both");
			return FSCK_USAGE;
		}
		for (int i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		joined = calloc(1, len);
		if (!joined) {
			famrt_cli_fail(FSCK_OPERATIONAL, spec->path,
				       "out of memory");
			return FSCK_OPERATIONAL;
		}
		for (int i = optind; i < argc; i++) {
			if (i > optind)
				strcat(joined, ",");
			strcat(joined, argv[i]);
		}
		fo.fs = joined;
	}
	list = famrt_fsopt_spec(spec, &fo, &ret);
	famrt_err_clear(&e);
	if (!list || famrt_fs_spec_parse(&fs, list, &e)) {
		if (list)
			famrt_cli_usage_error(spec, "%s", e.msg);
		ret = FSCK_USAGE;
		goto done;
	}
	memset(&s, 0, sizeof(s));
	opts.report = report;
	opts.arg = &out;
	if (out.json) {
		famrt_jw_init(&w, stdout, true);
		out.w = &w;
		famrt_jw_obj_begin(&w, NULL);
		famrt_jw_arr_begin(&w, "findings");
	}
	rc = famrt_fsck(fs.paths, fs.n, &opts, &s, &e);
	ret = famrt_fsck_exit_code(&s);
	if (rc && !(ret & FSCK_OPERATIONAL))
		ret |= FSCK_OPERATIONAL;
	if (out.json) {
		famrt_jw_arr_end(&w);
		summary_json(&w, &s);
		if (rc)
			famrt_jw_str(&w, "error", e.msg);
		else
			famrt_jw_null(&w, "error");
		famrt_jw_u64(&w, "exit_code", (uint64_t)ret);
		famrt_jw_obj_end(&w);
		if (famrt_jw_finish(&w))
			ret |= FSCK_OPERATIONAL;
	} else {
		if (!out.quiet && !rc)
			summary_text(&s);
		if (fflush(stdout) || ferror(stdout))
			ret |= FSCK_OPERATIONAL;
	}
	if (rc) {
		const char *m = e.msg[0] ? e.msg : strerror(-rc);

		if (!strncmp(m, "fsck: ", 6))
			m += 6;
		famrt_cli_fail(ret, spec->path, "%s", m);
	}
done:
	famrt_fs_spec_free(&fs);
	free(joined);
	return ret;
}

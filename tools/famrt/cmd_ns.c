/* SPDX-License-Identifier: Apache-2.0 */
/* famrt mkdir | creat | ls | stat | getmap: the namespace of a file system. */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <famrt/fmap.h>

#include "cmd_common.h"
#include "famrt.h"
#include "fmapdesc.h"
#include "json.h"
#include "size.h"

enum {
	OPT_MODE = FAMRT_OPT_FIRST_OWN,
	OPT_PARENTS,
	OPT_SIZE,
	OPT_INTERLEAVE,
	OPT_CHUNK,
	OPT_DEVICES,
	OPT_JSON,
	OPT_LONG,
	OPT_BATCH,
	OPT_RAW,
	OPT_OUTPUT,
};

/* ---- famrt mkdir ---- */

static const struct famrt_cli_opt mkdir_opts[] = {
	FAMRT_FS_OPT_ROWS,
	{ "mode", 'm', true, "MODE",
	  "octal permission bits (default 0755 - umask)", OPT_MODE },
	{ "parents", 'p', false, NULL,
	  "make parents as needed; existing ones are fine",
	  OPT_PARENTS },
	{ NULL, 0, false, NULL, NULL, 0 },
};

const struct famrt_cli_spec famrt_mkdir_spec = {
	.path = "famrt mkdir",
	.args = "PATH...",
	.summary = "Make directories in a famrt file system.",
	.details =
		"PATH is absolute inside the file system (/dir or :/dir). The\n"
		"new directory belongs to the caller (effective uid and gid).\n"
		"Only the master host changes a file system: elsewhere this\n"
		"is refused (exit 4) with a message naming the master.\n",
	.opts = mkdir_opts,
	.examples =
		"famrt mkdir --fs /dev/dax0.0,/dev/dax1.0 /data\n"
		"FAMRT_FS=/dev/shm/f0,/dev/shm/f1 famrt mkdir -p -m 0750 "
		"/data/run1/out\n",
};

static int mkdir_one(const struct famrt_cli_spec *spec,
		     struct famrt_backend *be, const char *path, uint32_t mode,
		     bool parents)
{
	struct famrt_proto_attr a;
	struct famrt_err e;
	char buf[FAMRT_CMD_PATH_MAX];
	size_t len = strlen(path);
	int rc;

	famrt_err_clear(&e);
	if (!parents) {
		rc = famrt_backend_mkdir(be, path, mode, NULL, &e);
		return rc ? famrt_cmd_fail(spec, rc, &e) : FAMRT_EXIT_OK;
	}
	memcpy(buf, path, len + 1);
	/* Each prefix in turn: "/a", "/a/b", ... */
	for (size_t i = 1; i <= len; i++) {
		if (i < len && buf[i] != '/')
			continue;
		buf[i] = '\0';
		rc = famrt_backend_lookup(be, buf, &a, &e);
		if (rc == -ENOENT) {
			rc = famrt_backend_mkdir(be, buf,
						 i < len ?
						 famrt_backend_default_mode(
							 true) :
						 mode,
						 &a, &e);
			if (rc == -EEXIST) /* made meanwhile by someone */
				rc = famrt_backend_lookup(be, buf, &a, &e);
		}
		if (rc)
			return famrt_cmd_fail(spec, rc, &e);
		if (!S_ISDIR(a.mode))
			return famrt_cli_fail(FAMRT_EXIT_REFUSED, spec->path,
					      "'%s' exists and is a file, not "
					      "a directory",
					      buf);
		if (i < len)
			buf[i] = '/';
	}
	return FAMRT_EXIT_OK;
}

int famrt_cmd_mkdir(int argc, char **argv)
{
	const struct famrt_cli_spec *spec = &famrt_mkdir_spec;
	struct famrt_cli_getopt g = { 0 };
	struct famrt_fsopt fo = { 0 };
	struct famrt_backend *be = NULL;
	char (*paths)[FAMRT_CMD_PATH_MAX] = NULL;
	uint32_t mode = famrt_backend_default_mode(true);
	bool parents = false;
	int c, ret, npaths;

	while ((c = famrt_cli_getopt(&g, spec, argc, argv)) != -1) {
		if (famrt_fsopt_take(&fo, c, g.arg))
			continue;
		switch (c) {
		case FAMRT_CLI_HELP:
			return FAMRT_EXIT_OK;
		case FAMRT_CLI_ERROR:
			return FAMRT_EXIT_USAGE;
		case OPT_MODE:
			ret = famrt_cmd_mode(spec, g.arg, &mode);
			if (ret)
				return ret;
			break;
		case OPT_PARENTS:
			parents = true;
			break;
		}
	}
	if (optind >= argc)
		return famrt_cli_usage_error(spec, "a PATH is needed");
	npaths = argc - optind;
	paths = calloc((size_t)npaths, sizeof(*paths));
	if (!paths)
		return famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				      "out of memory");
	for (int i = 0; i < npaths; i++) {
		ret = famrt_cmd_fspath(spec, argv[optind + i], paths[i],
				       sizeof(paths[i]));
		if (ret)
			goto out;
	}
	ret = famrt_cmd_open(spec, &fo, false, &be);
	if (ret)
		goto out;
	for (int i = 0; i < npaths && !ret; i++)
		ret = mkdir_one(spec, be, paths[i], mode, parents);
out:
	famrt_backend_close(be);
	free(paths);
	return ret;
}

/* ---- famrt stat (and creat --json) ---- */

static const char *user_name(uint32_t uid, char buf[16])
{
	struct passwd *pw = getpwuid(uid);

	if (pw && pw->pw_name)
		return pw->pw_name;
	snprintf(buf, 16, "%u", uid);
	return buf;
}

static const char *group_name(uint32_t gid, char buf[16])
{
	struct group *gr = getgrgid(gid);

	if (gr && gr->gr_name)
		return gr->gr_name;
	snprintf(buf, 16, "%u", gid);
	return buf;
}

/* The map summary of a file (false for a directory or on failure). */
static int file_summary(struct famrt_backend *be,
			const struct famrt_proto_attr *a,
			struct famrt_map_summary *s, struct famrt_fmap **mapp,
			struct famrt_err *e)
{
	uint64_t sizes[FAMRT_MAX_DEVS], aligns[FAMRT_MAX_DEVS];
	struct famrt_fmap_limits lim;
	struct famrt_fmap_error ferr;
	struct famrt_fmap *map = NULL;
	uint8_t *msg = malloc(FAMRT_FMAP_MSG_MAX);
	size_t len;
	int rc;

	if (!msg)
		return famrt_err_set(e, ENOMEM, "out of memory");
	rc = famrt_backend_get_fmap(be, a->ino, msg, FAMRT_FMAP_MSG_MAX, &len,
				    e);
	if (!rc) {
		famrt_backend_fmap_limits(be, &lim, sizes, aligns);
		rc = famrt_fmap_decode(msg, len, &lim, &map, &ferr);
		if (rc)
			famrt_err_set(e, -rc, "%s", ferr.message);
	}
	free(msg);
	if (rc)
		return rc;
	if (s)
		famrt_map_summarize(map, s);
	if (mapp)
		*mapp = map;
	else
		famrt_fmap_free(map);
	return 0;
}

static int write_stat_json(struct famrt_backend *be, const char *path,
			   const struct famrt_proto_attr *a,
			   struct famrt_err *e)
{
	struct famrt_map_summary s;
	struct famrt_jw w;
	bool file = S_ISREG(a->mode);
	int rc = 0;

	if (file) {
		rc = file_summary(be, a, &s, NULL, e);
		if (rc)
			return rc;
	}
	famrt_jw_init(&w, stdout, true);
	famrt_jw_obj_begin(&w, NULL);
	famrt_attr_json(&w, path, famrt_path_base(path), a);
	famrt_map_summary_json(&w, "layout", file ? &s : NULL);
	famrt_jw_obj_end(&w);
	rc = famrt_jw_finish(&w);
	if (rc)
		famrt_err_set(e, -rc, "writing the output: %s", strerror(-rc));
	return rc;
}

static int write_stat_text(struct famrt_backend *be, const char *path,
			   const struct famrt_proto_attr *a,
			   struct famrt_err *e)
{
	char h1[FAMRT_SIZE_HUMAN_MAX], h2[FAMRT_SIZE_HUMAN_MAX];
	char ms[11], t[48], ub[16], gb[16], lay[160];
	struct famrt_map_summary s;
	int rc;

	famrt_mode_string(a->mode, ms);
	famrt_time_utc(a->mtime_ns, t);
	printf("  Path: %s\n", path);
	printf("  Type: %s  Inode: %" PRIu64 "  Parent: %" PRIu64
	       "  Links: %u\n",
	       famrt_mode_type(a->mode), a->ino, a->parent, a->nlink);
	printf("  Size: %" PRIu64 " (%s)  Allocated: %" PRIu64 " (%s)\n",
	       a->size, famrt_size_human(a->size, h1), a->alloc_bytes,
	       famrt_size_human(a->alloc_bytes, h2));
	printf("  Mode: %04o (%s)  Uid: %u (%s)  Gid: %u (%s)\n",
	       a->mode & 07777, ms, a->uid, user_name(a->uid, ub), a->gid,
	       group_name(a->gid, gb));
	printf("Modify: %s\n", t);
	if (S_ISREG(a->mode)) {
		rc = file_summary(be, a, &s, NULL, e);
		if (rc)
			return rc;
		famrt_map_summary_text(&s, lay, sizeof(lay));
		printf("Layout: %s\n", lay);
	}
	return 0;
}

static const struct famrt_cli_opt stat_opts[] = {
	FAMRT_FS_OPT_ROWS,
	{ "json", 0, false, NULL, "print one JSON object", OPT_JSON },
	{ NULL, 0, false, NULL, NULL, 0 },
};

const struct famrt_cli_spec famrt_stat_spec = {
	.path = "famrt stat",
	.args = "PATH",
	.summary = "Show the attributes of a file or directory.",
	.details =
		"Type, inode, parent, links, size, allocated bytes (what the\n"
		"map holds: whole allocation units), mode, owner, the time of\n"
		"the log entry that made it, and for a file its layout.\n"
		"--json prints {path, name, ino, parent, type, mode, uid, gid,\n"
		"nlink, size, alloc_bytes, mtime_ns, layout}; layout is null\n"
		"for a directory, else {ext_type, nextents, nstrips,\n"
		"chunk_size, alloc_bytes, devices}.\n",
	.opts = stat_opts,
	.examples =
		"famrt stat --fs /dev/dax0.0 /data/input.bin\n"
		"famrt stat --json :/data | jq .ino\n",
};

int famrt_cmd_stat(int argc, char **argv)
{
	const struct famrt_cli_spec *spec = &famrt_stat_spec;
	struct famrt_cli_getopt g = { 0 };
	struct famrt_fsopt fo = { 0 };
	struct famrt_backend *be = NULL;
	struct famrt_proto_attr a;
	struct famrt_err e;
	char path[FAMRT_CMD_PATH_MAX];
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
		case OPT_JSON:
			json = true;
			break;
		}
	}
	if (optind >= argc)
		return famrt_cli_usage_error(spec, "a PATH is needed");
	if (optind + 1 < argc)
		return famrt_cli_usage_error(spec, "unexpected argument '%s'",
					     argv[optind + 1]);
	ret = famrt_cmd_fspath(spec, argv[optind], path, sizeof(path));
	if (ret)
		return ret;
	ret = famrt_cmd_open(spec, &fo, true, &be);
	if (ret)
		return ret;
	famrt_err_clear(&e);
	rc = famrt_backend_lookup(be, path, &a, &e);
	if (!rc)
		rc = json ? write_stat_json(be, path, &a, &e) :
			    write_stat_text(be, path, &a, &e);
	ret = rc ? famrt_cmd_fail(spec, rc, &e) :
		   famrt_cmd_finish_stdout(spec);
	famrt_backend_close(be);
	return ret;
}

/* ---- famrt creat ---- */

static const struct famrt_cli_opt creat_opts[] = {
	FAMRT_FS_OPT_ROWS,
	{ "size", 's', true, "BYTES", "the file's size (required)", OPT_SIZE },
	{ "mode", 'm', true, "MODE",
	  "octal permission bits (default 0644 - umask)", OPT_MODE },
	FAMRT_LAYOUT_OPT_ROWS(OPT_INTERLEAVE, OPT_CHUNK, OPT_DEVICES),
	{ "json", 0, false, NULL,
	  "print what 'famrt stat --json' prints of it",
	  OPT_JSON },
	{ NULL, 0, false, NULL, NULL, 0 },
};

const struct famrt_cli_spec famrt_creat_spec = {
	.path = "famrt creat",
	.args = "PATH --size BYTES",
	.summary = "Make a file of a given size (allocated whole, zero "
		   "bytes are not promised).",
	.details =
		"Space is allocated at once and the file's size and map never\n"
		"change afterwards (famrt files are immutable once made). The\n"
		"bytes are whatever the memory held: write them with\n"
		"'famrt cp' or through the runtime.\n"
		"Layout: simple by default (one extent on the device that\n"
		"fits it best, or several). --interleave N spreads chunks of\n"
		"--chunk bytes (default the allocation unit) round-robin over\n"
		"N strips, each on another device (N = 0: one strip per\n"
		"device). --devices limits the devices used; with\n"
		"--interleave strip j goes on the j-th device listed.\n",
	.opts = creat_opts,
	.examples =
		"famrt creat --fs /dev/dax0.0,/dev/dax1.0 /data/a.bin --size 1G\n"
		"famrt creat /data/b.bin -s 64M --interleave 0 --chunk 2M\n"
		"famrt creat /data/c.bin -s 10M --devices 1 --mode 0600\n",
};

int famrt_cmd_creat(int argc, char **argv)
{
	const struct famrt_cli_spec *spec = &famrt_creat_spec;
	struct famrt_cli_getopt g = { 0 };
	struct famrt_fsopt fo = { 0 };
	struct famrt_layout_opt lo = { 0 };
	struct famrt_backend *be = NULL;
	struct famrt_proto_attr a;
	struct famrt_err e;
	char path[FAMRT_CMD_PATH_MAX];
	uint32_t mode = famrt_backend_default_mode(false);
	uint64_t size = 0;
	bool json = false, size_set = false;
	int c, ret, rc;

	while ((c = famrt_cli_getopt(&g, spec, argc, argv)) != -1) {
		if (famrt_fsopt_take(&fo, c, g.arg))
			continue;
		switch (c) {
		case FAMRT_CLI_HELP:
			return FAMRT_EXIT_OK;
		case FAMRT_CLI_ERROR:
			return FAMRT_EXIT_USAGE;
		case OPT_SIZE:
			rc = famrt_size_parse(g.arg, &size);
			if (rc)
				return famrt_cli_usage_error(
					spec, "--size '%s' %s", g.arg,
					famrt_size_strerror(rc));
			size_set = true;
			break;
		case OPT_MODE:
			ret = famrt_cmd_mode(spec, g.arg, &mode);
			if (ret)
				return ret;
			break;
		case OPT_INTERLEAVE:
		case OPT_CHUNK:
		case OPT_DEVICES:
			ret = famrt_layout_opt_parse(spec, &lo,
						     c - OPT_INTERLEAVE, g.arg);
			if (ret)
				return ret;
			break;
		case OPT_JSON:
			json = true;
			break;
		}
	}
	if (optind >= argc)
		return famrt_cli_usage_error(spec, "a PATH is needed");
	if (optind + 1 < argc)
		return famrt_cli_usage_error(spec, "unexpected argument '%s'",
					     argv[optind + 1]);
	if (!size_set)
		return famrt_cli_usage_error(spec, "--size is needed");
	ret = famrt_layout_opt_check(spec, &lo);
	if (ret)
		return ret;
	ret = famrt_cmd_fspath(spec, argv[optind], path, sizeof(path));
	if (ret)
		return ret;
	ret = famrt_cmd_open(spec, &fo, false, &be);
	if (ret)
		return ret;
	famrt_err_clear(&e);
	rc = famrt_backend_create(be, path, mode, size, &lo.lay, &a, &e);
	if (!rc && json)
		rc = write_stat_json(be, path, &a, &e);
	ret = rc ? famrt_cmd_fail(spec, rc, &e) :
		   famrt_cmd_finish_stdout(spec);
	famrt_backend_close(be);
	return ret;
}

/* ---- famrt ls ---- */

struct lsent {
	uint64_t ino;
	uint32_t mode;
	char *name;
};

struct lslist {
	struct lsent *v;
	size_t n, cap;
	int err;
};

static int ls_collect(const struct famrt_proto_dirent *d, void *arg)
{
	struct lslist *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct lsent *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->err = -ENOMEM;
			return 1;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].name = strndup(d->name, d->name_len);
	if (!l->v[l->n].name) {
		l->err = -ENOMEM;
		return 1;
	}
	l->v[l->n].ino = d->ino;
	l->v[l->n].mode = d->mode;
	l->n++;
	return 0;
}

static void ls_free(struct lslist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static const struct famrt_cli_opt ls_opts[] = {
	FAMRT_FS_OPT_ROWS,
	{ "long", 'l', false, NULL,
	  "mode, links, owner, group, size, time, name", OPT_LONG },
	{ "json", 0, false, NULL, "print one JSON object", OPT_JSON },
	{ "batch", 0, true, "N",
	  "entries per readdir request (1..1024, def. 1024)", OPT_BATCH },
	{ NULL, 0, false, NULL, NULL, 0 },
};

const struct famrt_cli_spec famrt_ls_spec = {
	.path = "famrt ls",
	.args = "[PATH...]",
	.summary = "List directories (default /) of a famrt file system.",
	.details =
		"Entries come in the order they were made (readdir order),\n"
		"read in batches that continue from a cookie. A PATH that is\n"
		"a file lists itself. With several PATHs each directory gets\n"
		"a 'PATH:' header. A PATH that does not exist is reported and\n"
		"the others are still listed (exit 4).\n"
		"--json prints {\"listings\": [{path, type, entries: [...]}]}\n"
		"with one listing per PATH listed; each entry has the keys of\n"
		"'famrt stat --json' but layout.\n",
	.opts = ls_opts,
	.examples =
		"famrt ls --fs /dev/dax0.0,/dev/dax1.0 /\n"
		"famrt ls -l :/data\n"
		"famrt ls --json /data | jq -r '.listings[0].entries[].name'\n",
};

static void child_path(const char *dir, const char *name, char *out,
		       size_t len)
{
	snprintf(out, len, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
}

static void ls_long_line(const struct famrt_proto_attr *a, const char *name)
{
	char ms[11], t[48], ub[16], gb[16];

	famrt_mode_string(a->mode, ms);
	famrt_time_utc(a->mtime_ns, t);
	t[16] = '\0'; /* to the minute: 2024-05-01T12:00 */
	t[10] = ' ';
	printf("%s %3u %-8s %-8s %12" PRIu64 " %s %s\n", ms, a->nlink,
	       user_name(a->uid, ub), group_name(a->gid, gb), a->size, t,
	       name);
}

int famrt_cmd_ls(int argc, char **argv)
{
	const struct famrt_cli_spec *spec = &famrt_ls_spec;
	struct famrt_cli_getopt g = { 0 };
	struct famrt_fsopt fo = { 0 };
	struct famrt_backend *be = NULL;
	char (*paths)[FAMRT_CMD_PATH_MAX] = NULL;
	struct famrt_jw w;
	bool json = false, lng = false;
	uint32_t batch = FAMRT_PROTO_READDIR_MAX;
	int c, ret, npaths, failed = 0;

	while ((c = famrt_cli_getopt(&g, spec, argc, argv)) != -1) {
		if (famrt_fsopt_take(&fo, c, g.arg))
			continue;
		switch (c) {
		case FAMRT_CLI_HELP:
			return FAMRT_EXIT_OK;
		case FAMRT_CLI_ERROR:
			return FAMRT_EXIT_USAGE;
		case OPT_LONG:
			lng = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_BATCH: {
			uint64_t v;

			if (famrt_size_parse(g.arg, &v) || !v ||
			    v > FAMRT_PROTO_READDIR_MAX)
				return famrt_cli_usage_error(
					spec, "--batch '%s': 1 to %u", g.arg,
					FAMRT_PROTO_READDIR_MAX);
			batch = (uint32_t)v;
			break;
		}
		}
	}
	npaths = argc > optind ? argc - optind : 1;
	paths = calloc((size_t)npaths, sizeof(*paths));
	if (!paths)
		return famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				      "out of memory");
	if (argc == optind)
		strcpy(paths[0], "/");
	for (int i = 0; i < argc - optind; i++) {
		ret = famrt_cmd_fspath(spec, argv[optind + i], paths[i],
				       sizeof(paths[i]));
		if (ret)
			goto out;
	}
	ret = famrt_cmd_open(spec, &fo, true, &be);
	if (ret)
		goto out;
	if (json) {
		famrt_jw_init(&w, stdout, true);
		famrt_jw_obj_begin(&w, NULL);
		famrt_jw_arr_begin(&w, "listings");
	}
	for (int i = 0; i < npaths; i++) {
		struct famrt_proto_attr a;
		struct lslist l = { 0 };
		struct famrt_err e;
		uint64_t cookie = 0;
		int rc;

		famrt_err_clear(&e);
		rc = famrt_backend_lookup(be, paths[i], &a, &e);
		if (rc) {
			int x = famrt_cmd_fail(spec, rc, &e);

			failed = failed > x ? failed : x;
			continue;
		}
		if (S_ISDIR(a.mode)) {
			while (cookie != UINT64_MAX && !rc) {
				rc = famrt_backend_readdir(be, a.ino, cookie,
							   batch, ls_collect,
							   &l, &cookie, &e);
				if (!rc && l.err)
					rc = famrt_err_set(&e, -l.err,
							   "out of memory");
			}
		} else {
			struct famrt_proto_dirent d = {
				.ino = a.ino, .mode = a.mode,
				.name = paths[i],
				.name_len = (uint16_t)strlen(paths[i]),
			};

			ls_collect(&d, &l);
			if (l.err)
				rc = famrt_err_set(&e, -l.err,
						   "out of memory");
		}
		if (rc) {
			ls_free(&l);
			ret = famrt_cmd_fail(spec, rc, &e);
			goto done;
		}
		if (json) {
			famrt_jw_obj_begin(&w, NULL);
			famrt_jw_str(&w, "path", paths[i]);
			famrt_jw_str(&w, "type", famrt_mode_type(a.mode));
			famrt_jw_arr_begin(&w, "entries");
		} else if (npaths > 1 && S_ISDIR(a.mode)) {
			printf("%s%s:\n", i ? "\n" : "", paths[i]);
		}
		for (size_t k = 0; k < l.n && !rc; k++) {
			struct famrt_proto_attr ea;
			char cp[FAMRT_CMD_PATH_MAX];

			if (!json && !lng) {
				printf("%s\n", l.v[k].name);
				continue;
			}
			rc = famrt_backend_getattr(be, l.v[k].ino, &ea, &e);
			if (rc)
				break;
			if (!json) {
				ls_long_line(&ea, l.v[k].name);
				continue;
			}
			if (S_ISDIR(a.mode))
				child_path(paths[i], l.v[k].name, cp,
					   sizeof(cp));
			else
				snprintf(cp, sizeof(cp), "%s", paths[i]);
			famrt_jw_obj_begin(&w, NULL);
			famrt_attr_json(&w, cp, famrt_path_base(cp), &ea);
			famrt_jw_obj_end(&w);
		}
		ls_free(&l);
		if (rc) {
			ret = famrt_cmd_fail(spec, rc, &e);
			goto done;
		}
		if (json) {
			famrt_jw_arr_end(&w);
			famrt_jw_obj_end(&w);
		}
	}
	if (json) {
		famrt_jw_arr_end(&w);
		famrt_jw_obj_end(&w);
		ret = famrt_jw_finish(&w);
		if (ret) {
			ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					     "writing the output: %s",
					     strerror(-ret));
			goto done;
		}
	}
	ret = famrt_cmd_finish_stdout(spec);
	if (!ret)
		ret = failed;
done:
	famrt_backend_close(be);
out:
	free(paths);
	return ret;
}

/* ---- famrt getmap ---- */

static const struct famrt_cli_opt getmap_opts[] = {
	FAMRT_FS_OPT_ROWS,
	{ "json", 0, false, NULL,
	  "print the map as 'famrt fmap inspect --json' does", OPT_JSON },
	{ "raw", 0, false, NULL,
	  "write the GET_FMAP message bytes exactly", OPT_RAW },
	{ "output", 'o', true, "FILE",
	  "with --raw: write to FILE (atomically), not stdout", OPT_OUTPUT },
	{ NULL, 0, false, NULL, NULL, 0 },
};

const struct famrt_cli_spec famrt_getmap_spec = {
	.path = "famrt getmap",
	.args = "PATH",
	.summary = "Show a file's map (fmap): where each of its bytes lives.",
	.details =
		"Without options: what 'famrt fmap inspect' prints of the\n"
		"file's GET_FMAP message. --json: the object of 'famrt fmap\n"
		"inspect --json' (without \"resolve\") after \"path\" and\n"
		"\"ino\"; 'famrt fmap encode' turns it back into the message.\n"
		"--raw: the message itself, byte for byte (never to a\n"
		"terminal), for 'famrt fmap inspect' and other tools.\n",
	.opts = getmap_opts,
	.examples =
		"famrt getmap --fs /dev/dax0.0,/dev/dax1.0 /data/a.bin\n"
		"famrt getmap --raw -o a.fmap /data/a.bin && "
		"famrt fmap inspect a.fmap -r 0:4M\n"
		"famrt getmap --json :/data/a.bin | jq '.extents | length'\n",
};

int famrt_cmd_getmap(int argc, char **argv)
{
	const struct famrt_cli_spec *spec = &famrt_getmap_spec;
	struct famrt_cli_getopt g = { 0 };
	struct famrt_fsopt fo = { 0 };
	struct famrt_backend *be = NULL;
	struct famrt_fmap *map = NULL;
	struct famrt_proto_attr a;
	char path[FAMRT_CMD_PATH_MAX];
	const char *out = NULL;
	uint8_t *msg = NULL;
	bool json = false, raw = false;
	size_t len = 0;
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
		case OPT_RAW:
			raw = true;
			break;
		case OPT_OUTPUT:
			out = g.arg;
			break;
		}
	}
	if (optind >= argc)
		return famrt_cli_usage_error(spec, "a PATH is needed");
	if (optind + 1 < argc)
		return famrt_cli_usage_error(spec, "unexpected argument '%s'",
					     argv[optind + 1]);
	if (json && raw)
		return famrt_cli_usage_error(spec,
					     "--json and --raw exclude each "
					     "other");
	if (out && !raw)
		return famrt_cli_usage_error(spec, "--output needs --raw");
	if (out && !*out)
		return famrt_cli_usage_error(spec,
					     "--output needs a file name");
	if (out && !strcmp(out, "-"))
		out = NULL;
	if (raw && !out && isatty(STDOUT_FILENO))
		return famrt_cli_usage_error(spec,
					     "will not write a binary message "
					     "to a terminal (use -o FILE or "
					     "redirect stdout)");
	ret = famrt_cmd_fspath(spec, argv[optind], path, sizeof(path));
	if (ret)
		return ret;
	ret = famrt_cmd_open(spec, &fo, true, &be);
	if (ret)
		return ret;
	msg = malloc(FAMRT_FMAP_MSG_MAX);
	if (!msg) {
		ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				     "out of memory");
		goto out;
	}
	ret = famrt_cmd_file_fmap(spec, be, path, "only files have maps", &a,
				  msg, &len);
	if (ret)
		goto out;
	if (raw) {
		rc = out ? famrt_cli_write_file(out, msg, len) :
			   famrt_cli_write_all(STDOUT_FILENO, msg, len);
		ret = rc ? famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					  "cannot write '%s': %s",
					  out ? out : "<stdout>",
					  strerror(-rc)) :
			   FAMRT_EXIT_OK;
		goto out;
	}
	ret = famrt_cmd_decode_fmap(spec, be, path, msg, len, &map);
	if (ret)
		goto out;
	if (json) {
		struct famrt_jw w;

		famrt_jw_init(&w, stdout, true);
		famrt_jw_obj_begin(&w, NULL);
		famrt_jw_str(&w, "path", path);
		famrt_jw_u64(&w, "ino", a.ino);
		famrt_fmapdesc_write_json(&w, map);
		famrt_jw_obj_end(&w);
		rc = famrt_jw_finish(&w);
		if (rc) {
			ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					     "writing the output: %s",
					     strerror(-rc));
			goto out;
		}
	} else {
		famrt_fmap_print_text(stdout, map);
	}
	ret = famrt_cmd_finish_stdout(spec);
out:
	famrt_fmap_free(map);
	free(msg);
	famrt_backend_close(be);
	return ret;
}

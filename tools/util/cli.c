/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char exit_status_text[] =
	"Exit status: 0 done, 1 invalid input, 2 usage error, "
	"3 system error,\n4 refused by the file system.\n";

static void build_opts(struct famrt_cli_getopt *g,
		       const struct famrt_cli_spec *spec)
{
	size_t n = 0, s = 0;

	g->sopts[s++] = ':'; /* report a missing argument as ':' */
	for (const struct famrt_cli_opt *o = spec->opts;
	     o && o->name && n < FAMRT_CLI_MAX_OPTS; o++, n++) {
		g->lopts[n].name = o->name;
		g->lopts[n].has_arg = o->has_arg ? required_argument :
						   no_argument;
		g->lopts[n].flag = NULL;
		g->lopts[n].val = o->id;
		if (o->short_name) {
			g->sopts[s++] = (char)o->short_name;
			if (o->has_arg)
				g->sopts[s++] = ':';
		}
	}
	g->lopts[n].name = "help";
	g->lopts[n].has_arg = no_argument;
	g->lopts[n].flag = NULL;
	g->lopts[n].val = 'h';
	n++;
	memset(&g->lopts[n], 0, sizeof(g->lopts[n]));
	g->sopts[s++] = 'h';
	g->sopts[s] = '\0';
}

static const struct famrt_cli_opt *find_opt(const struct famrt_cli_spec *spec,
					    int id)
{
	for (const struct famrt_cli_opt *o = spec->opts; o && o->name; o++)
		if (o->id == id)
			return o;
	return NULL;
}

int famrt_cli_getopt(struct famrt_cli_getopt *g,
		     const struct famrt_cli_spec *spec, int argc, char **argv)
{
	const struct famrt_cli_opt *o;
	int c;

	if (!g->started) {
		build_opts(g, spec);
		g->started = true;
		optind = 0; /* full reinitialization (GNU) */
		opterr = 0;
	}
	g->arg = NULL;
	c = getopt_long(argc, argv, g->sopts, g->lopts, NULL);
	switch (c) {
	case -1:
		return -1;
	case 'h':
		famrt_cli_help(spec, stdout);
		return FAMRT_CLI_HELP;
	case '?':
		o = optopt >= 256 ? find_opt(spec, optopt) : NULL;
		if (o || (optopt == 'h' && !strncmp(argv[optind - 1], "--", 2)))
			famrt_cli_usage_error(spec,
					      "option '--%s' takes no argument",
					      o ? o->name : "help");
		else if (optopt)
			famrt_cli_usage_error(spec, "unknown option '-%c'",
					      optopt);
		else
			famrt_cli_usage_error(spec,
					      "unknown or ambiguous option "
					      "'%s'",
					      argv[optind - 1]);
		return FAMRT_CLI_ERROR;
	case ':':
		o = find_opt(spec, optopt);
		for (const struct famrt_cli_opt *p = spec->opts;
		     !o && p && p->name; p++)
			if (p->short_name && p->short_name == optopt)
				o = p;
		if (o)
			famrt_cli_usage_error(spec,
					      "option '--%s' needs an "
					      "argument (%s)",
					      o->name, o->arg ? o->arg : "");
		else
			famrt_cli_usage_error(spec,
					      "option '%s' needs an argument",
					      argv[optind - 1]);
		return FAMRT_CLI_ERROR;
	default:
		g->arg = optarg;
		/* A short option comes back as its letter: give its id. */
		for (o = spec->opts; o && o->name; o++)
			if (o->short_name && o->short_name == c)
				return o->id;
		return c;
	}
}

static void print_synopsis(const struct famrt_cli_spec *spec, FILE *f)
{
	fprintf(f, "Usage: %s [options]%s%s\n", spec->path,
		spec->args ? " " : "", spec->args ? spec->args : "");
}

static void print_indented(const char *text, FILE *f)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n)
			fprintf(f, "  %.*s\n", (int)n, p);
		else
			fputc('\n', f);
		p += n + (nl ? 1 : 0);
	}
}

void famrt_cli_help(const struct famrt_cli_spec *spec, FILE *f)
{
	print_synopsis(spec, f);
	fprintf(f, "\n%s\n", spec->summary);
	if (spec->details)
		fprintf(f, "\n%s", spec->details);
	fprintf(f, "\nOptions:\n");
	for (const struct famrt_cli_opt *o = spec->opts; o && o->name; o++) {
		char left[64];
		int n;

		if (o->short_name)
			n = snprintf(left, sizeof(left), "-%c, --%s%s%s",
				     o->short_name, o->name,
				     o->has_arg ? " " : "",
				     o->has_arg ? o->arg : "");
		else
			n = snprintf(left, sizeof(left), "    --%s%s%s",
				     o->name, o->has_arg ? " " : "",
				     o->has_arg ? o->arg : "");
		if (n > 26)
			fprintf(f, "  %s\n  %-26s  %s\n", left, "", o->help);
		else
			fprintf(f, "  %-26s  %s\n", left, o->help);
	}
	fprintf(f, "  %-26s  %s\n", "-h, --help", "show this help and exit");
	if (spec->examples) {
		fprintf(f, "\nExamples:\n");
		print_indented(spec->examples, f);
	}
	fprintf(f, "\n%s", spec->exit_status ? spec->exit_status :
						exit_status_text);
}

int famrt_cli_usage_error(const struct famrt_cli_spec *spec, const char *fmt,
			  ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", spec->path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_synopsis(spec, stderr);
	fprintf(stderr, "Try '%s --help' for more information.\n", spec->path);
	return FAMRT_EXIT_USAGE;
}

int famrt_cli_fail(int code, const char *path, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

void famrt_cli_group_help(const struct famrt_cli_cmd *table, const char *path,
			  const char *usage, const char *examples, FILE *f)
{
	if (usage)
		fprintf(f, "Usage: %s\n\nCommands:\n", usage);
	else
		fprintf(f, "Usage: %s <command> [options] [arguments]\n\n"
			   "Commands:\n",
			path);
	for (const struct famrt_cli_cmd *c = table; c->name; c++)
		fprintf(f, "  %-12s  %s\n", c->name, c->summary);
	fprintf(f, "\nRun '%s <command> --help' for the options and examples "
		   "of a command.\n",
		path);
	if (examples) {
		fprintf(f, "\nExamples:\n");
		print_indented(examples, f);
	}
	fprintf(f, "\n%s", exit_status_text);
}

void famrt_cli_list_commands(const struct famrt_cli_cmd *table,
			     const char *prefix, FILE *f)
{
	for (const struct famrt_cli_cmd *c = table; c->name; c++) {
		char sub[256];
		int n = snprintf(sub, sizeof(sub), "%s%s%s", prefix,
				 *prefix ? " " : "", c->name);

		/* Command paths are a few short words; never cut one. */
		if (n < 0 || (size_t)n >= sizeof(sub)) {
			fprintf(f, "%s%s%s (and more: path too long)\n",
				prefix, *prefix ? " " : "", c->name);
			continue;
		}
		if (c->sub)
			famrt_cli_list_commands(c->sub, sub, f);
		else
			fprintf(f, "%s\n", sub);
	}
}

__attribute__((format(printf, 3, 4))) static int
group_usage(const struct famrt_cli_cmd *table, const char *path,
	    const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: %s <command> [options] [arguments]\n"
			"Commands:",
		path);
	for (const struct famrt_cli_cmd *c = table; c->name; c++)
		fprintf(stderr, " %s", c->name);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", path);
	return FAMRT_EXIT_USAGE;
}

int famrt_cli_dispatch(const struct famrt_cli_cmd *table, const char *path,
		       const char *examples, int argc, char **argv)
{
	const char *name;

	if (argc < 1)
		return group_usage(table, path, "a command is needed");
	name = argv[0];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") ||
	    !strcmp(name, "help")) {
		famrt_cli_group_help(table, path, NULL, examples, stdout);
		return FAMRT_EXIT_OK;
	}
	if (name[0] == '-')
		return group_usage(table, path, "unknown option '%s'", name);
	for (const struct famrt_cli_cmd *c = table; c->name; c++) {
		char sub[256];

		if (strcmp(c->name, name))
			continue;
		if (!c->sub)
			return c->run(argc, argv);
		snprintf(sub, sizeof(sub), "%s %s", path, c->name);
		return famrt_cli_dispatch(c->sub, sub, c->examples, argc - 1,
					  argv + 1);
	}
	return group_usage(table, path, "unknown command '%s'", name);
}

int famrt_cli_read_file(const char *path, size_t max, char **bufp,
			size_t *lenp, uint64_t *total)
{
	bool is_stdin = !strcmp(path, "-");
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	int rc = 0;

	*bufp = NULL;
	*lenp = 0;
	*total = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		*total = (uint64_t)st.st_size;
		rc = -EFBIG;
		goto out;
	}
	cap = max + 2; /* room to notice one byte too many, and the NUL */
	buf = malloc(cap);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	while (len <= max) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		rc = -EFBIG;
		goto out;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	buf = NULL;
out:
	free(buf);
	if (!is_stdin)
		close(fd);
	return rc;
}

int famrt_cli_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write directly into something that is not a regular file. */
static int write_direct(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	rc = famrt_cli_write_all(fd, buf, len);
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

int famrt_cli_write_file(const char *path, const void *buf, size_t len)
{
	char target[PATH_MAX], dirbuf[PATH_MAX], tmp[PATH_MAX];
	const char *dir, *base;
	char *slash;
	struct stat st;
	mode_t mask, mode;
	int fd, rc;

	if (strlen(path) >= sizeof(target))
		return -ENAMETOOLONG;
	strcpy(target, path);
	/* Replace the file a symlink points to, not the link. */
	if (!lstat(path, &st) && S_ISLNK(st.st_mode)) {
		if (!realpath(path, target))
			return -errno;
	}
	mask = umask(0);
	umask(mask);
	mode = 0666 & ~mask;
	if (!stat(target, &st)) {
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (!S_ISREG(st.st_mode))
			return write_direct(target, buf, len);
		mode = st.st_mode & 07777; /* a replaced file keeps its mode */
	}
	strcpy(dirbuf, target);
	slash = strrchr(dirbuf, '/');
	if (slash) {
		*slash = '\0';
		dir = slash == dirbuf ? "/" : dirbuf;
		base = slash + 1;
	} else {
		dir = ".";
		base = target;
	}
	if (!*base)
		return -EISDIR;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >=
	    sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	rc = famrt_cli_write_all(fd, buf, len);
	if (!rc && fchmod(fd, mode))
		rc = -errno;
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, target))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

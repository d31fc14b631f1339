/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every famrt tool shares: exit codes, a table of (grouped)
 * subcommands, an option table per command that drives both getopt_long
 * and --help, usage and error messages, bounded reading and atomic writing
 * of files.
 */
#ifndef FAMRT_TOOLS_CLI_H
#define FAMRT_TOOLS_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of every famrt command (docs/cli.md). */
enum famrt_exit {
	FAMRT_EXIT_OK = 0,      /* done */
	FAMRT_EXIT_INVALID = 1, /* the input is invalid (fmap rule, syntax) */
	FAMRT_EXIT_USAGE = 2,   /* bad command line */
	FAMRT_EXIT_SYSTEM = 3,  /* I/O error, out of memory, ... */
	FAMRT_EXIT_REFUSED = 4, /* the file system says no: a path exists or
				 * does not, not the master host, no space,
				 * devices that are not the file system */
};

#define FAMRT_CLI_MAX_OPTS 32

/* One option of a command. The table ends with name NULL. */
struct famrt_cli_opt {
	const char *name;    /* long name, without "--" */
	int short_name;      /* 'o', or 0 for none */
	bool has_arg;
	const char *arg;     /* the argument's name in the help: "BYTES" */
	const char *help;    /* one line */
	int id;              /* what famrt_cli_getopt() returns for it
			      * (>= 256, so it never clashes with a
			      * letter) */
};

/* Everything the help and usage messages of one command say. */
struct famrt_cli_spec {
	const char *path;     /* "famrt fmap inspect" */
	const char *args;     /* positional part of the synopsis: "FILE" */
	const char *summary;  /* one line */
	const char *details;  /* more text, or NULL */
	const struct famrt_cli_opt *opts;
	const char *examples; /* lines, each an example command */
	const char *exit_status; /* the help's exit status line; NULL: the
				  * codes of enum famrt_exit */
};

/*
 * An entry of a command table (ends with name NULL): a command with run()
 * and spec, or a group with sub (its own table) and examples.
 */
struct famrt_cli_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
	const struct famrt_cli_spec *spec;
	const struct famrt_cli_cmd *sub;
	const char *examples;              /* groups */
};

/* famrt_cli_getopt() returns these besides option ids and -1 (done). */
#define FAMRT_CLI_HELP (-2)  /* --help: help printed on stdout, exit 0 */
#define FAMRT_CLI_ERROR (-3) /* usage error printed on stderr, exit 2 */

struct famrt_cli_getopt {
	bool started;
	const char *arg; /* the argument of the option just returned */
	struct option lopts[FAMRT_CLI_MAX_OPTS + 2];
	char sopts[FAMRT_CLI_MAX_OPTS * 2 + 4];
};

/*
 * getopt_long driven by spec->opts plus -h/--help. Zero-initialize g and
 * call until it returns -1; then argv[optind..argc) are the operands.
 * Options and operands may be mixed.
 */
int famrt_cli_getopt(struct famrt_cli_getopt *g,
		     const struct famrt_cli_spec *spec, int argc, char **argv);

/* The full help of a command. */
void famrt_cli_help(const struct famrt_cli_spec *spec, FILE *f);

/*
 * "PATH: message", the synopsis and a pointer to --help on stderr.
 * Returns FAMRT_EXIT_USAGE.
 */
__attribute__((format(printf, 2, 3))) int
famrt_cli_usage_error(const struct famrt_cli_spec *spec, const char *fmt, ...);

/* "PATH: message" on stderr. Returns code. */
__attribute__((format(printf, 3, 4))) int
famrt_cli_fail(int code, const char *path, const char *fmt, ...);

/*
 * Run the command named by argv[0] from table; path is what precedes it
 * ("famrt", "famrt fmap"). Groups recurse. "--help" or "help" in place of a
 * command prints the table's help. Returns the exit code.
 */
int famrt_cli_dispatch(const struct famrt_cli_cmd *table, const char *path,
		       const char *examples, int argc, char **argv);

/*
 * The help of a table of commands (a group, or the top level); usage is
 * the synopsis line, NULL for "PATH <command> [options] [arguments]".
 */
void famrt_cli_group_help(const struct famrt_cli_cmd *table, const char *path,
			  const char *usage, const char *examples, FILE *f);

/* Every runnable command, one per line: "fmap inspect". */
void famrt_cli_list_commands(const struct famrt_cli_cmd *table,
			     const char *prefix, FILE *f);

/*
 * Read path ("-" is stdin) into a new buffer with a NUL after the data.
 * At most max bytes: a regular file larger than that is refused before
 * anything is read (*total gets its size), a stream once max + 1 bytes have
 * come (*total gets 0: unknown). Returns 0, -EFBIG when too large, or the
 * -errno of open or read.
 */
int famrt_cli_read_file(const char *path, size_t max, char **buf,
			size_t *len, uint64_t *total);

/*
 * Write buf to path so that it has either its old content or all of the new
 * one: a temporary file in the same directory, fsync, rename over path. A
 * new file gets mode 0666 & ~umask, a replaced one keeps its mode; a
 * symlink's target is replaced. Paths that are not regular files (a FIFO,
 * /dev/stdout) are written directly. Returns 0 or -errno; on failure
 * nothing is left behind.
 */
int famrt_cli_write_file(const char *path, const void *buf, size_t len);

/* Write all of buf to fd (retrying short writes). 0 or -errno. */
int famrt_cli_write_all(int fd, const void *buf, size_t len);

#endif

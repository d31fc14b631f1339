/* SPDX-License-Identifier: Apache-2.0 */
/* famrtd: the famrt metadata service. See docs/famrtd.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "famrtd.h"
#include "proto/client.h"

static const char usage_text[] =
	"Usage: famrtd --fs DEV0[,DEV1...] [options]\n"
	"\n"
	"Serve one famrt file system on this host: follow its metadata log and\n"
	"answer clients (libfamrt, the famrt tool, the LD_PRELOAD shim) on a\n"
	"Unix socket. Runs in the foreground; logs to stderr; SIGTERM or SIGINT\n"
	"stops it cleanly.\n"
	"\n"
	"Options:\n"
	"  -f, --fs DEVS          the file system's devices, device 0 first,\n"
	"                         comma-separated (default: $FAMRT_FS)\n"
	"  -s, --socket PATH      listen here (default: $FAMRT_RUN_DIR or\n"
	"                         /run/famrt, then /<fs uuid>.sock)\n"
	"      --host-id ID       this host's identity (default: $FAMRT_HOST_ID,\n"
	"                         /etc/machine-id, or the host name)\n"
	"      --group GROUP      members may map the devices read-write\n"
	"      --ro-group GROUP   members may map the devices read-only\n"
	"                         (root and famrtd's own user always may)\n"
	"      --poll-us N        follow the log every N microseconds\n"
	"                         (default 1000)\n"
	"      --max-clients N    connections served at once (default 1024)\n"
	"  -v, --verbose          log every refused request\n"
	"  -h, --help             this text\n"
	"\n"
	"Example:\n"
	"  famrtd --fs /dev/dax0.0,/dev/dax1.0 --group famrt\n"
	"\n"
	"Exit status: 0 after a clean shutdown, 1 when the file system cannot be\n"
	"served (the reason is logged), 2 for a usage error.\n";

__attribute__((format(printf, 1, 2))) static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "famrtd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'famrtd --help'.\n");
	return 2;
}

static int parse_group(const char *s, gid_t *g)
{
	struct group *gr = getgrnam(s);
	char *end;
	unsigned long v;

	if (gr) {
		*g = gr->gr_gid;
		return 0;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || v > (gid_t)-2)
		return -1;
	*g = (gid_t)v;
	return 0;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fs", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "host-id", required_argument, NULL, 'H' },
		{ "group", required_argument, NULL, 'g' },
		{ "ro-group", required_argument, NULL, 'r' },
		{ "poll-us", required_argument, NULL, 'p' },
		{ "max-clients", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct famrtd_config cfg = { .poll_us = 1000, .max_clients = 1024 };
	char sock[256], alias[300];
	struct famrt_err e;
	struct famrtd d;
	char uuid[37];
	int c, fd, rc;

	cfg.fs_spec = getenv("FAMRT_FS");
	while ((c = getopt_long(argc, argv, "f:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			cfg.fs_spec = optarg;
			break;
		case 's':
			cfg.socket_path = optarg;
			break;
		case 'H':
			cfg.host_id = optarg;
			break;
		case 'g':
			if (parse_group(optarg, &cfg.rw_group))
				return usage_error("no group '%s'", optarg);
			cfg.have_rw_group = true;
			break;
		case 'r':
			if (parse_group(optarg, &cfg.ro_group))
				return usage_error("no group '%s'", optarg);
			cfg.have_ro_group = true;
			break;
		case 'p':
			if (parse_u32(optarg, 50, 1000000, &cfg.poll_us))
				return usage_error("--poll-us '%s' is not 50 to "
						   "1000000",
						   optarg);
			break;
		case 'm':
			if (parse_u32(optarg, 1, 1000000, &cfg.max_clients))
				return usage_error("--max-clients '%s' is not 1 "
						   "to 1000000",
						   optarg);
			break;
		case 'v':
			cfg.verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'famrtd --help'.\n");
			return 2;
		}
	}
	if (optind != argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!cfg.fs_spec || !*cfg.fs_spec)
		return usage_error("name the file system with --fs DEV0[,DEV1...] "
				   "or FAMRT_FS");

	rc = famrtd_open(&d, &cfg, &e);
	if (rc) {
		famrtd_log("cannot serve '%s': %s", cfg.fs_spec, e.msg);
		famrtd_close(&d);
		return 1;
	}
	if (!cfg.socket_path) {
		if (famrt_client_socket_path(d.fs->sb.uuid, sock, sizeof(sock))) {
			famrtd_log("socket path too long: set --socket");
			famrtd_close(&d);
			return 1;
		}
		cfg.socket_path = sock;
		d.cfg.socket_path = sock;
	}
	fd = famrtd_listen(cfg.socket_path, &e);
	if (fd < 0) {
		famrtd_log("%s", e.msg);
		famrtd_close(&d);
		return 1;
	}
	/* A second name, from device 0's identity, for users who cannot
	 * read its superblock to learn the uuid. */
	{
		char dir[256], *slash;

		snprintf(dir, sizeof(dir), "%s", cfg.socket_path);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		if (!famrt_client_socket_alias(d.paths[0], slash ? dir : ".",
					       alias, sizeof(alias))) {
			unlink(alias);
			if (symlink(cfg.socket_path, alias))
				famrtd_log("cannot publish %s: %s", alias,
					   strerror(errno));
		} else {
			alias[0] = '\0';
		}
	}
	famrt_uuid_format(d.fs->sb.uuid, uuid);
	famrtd_log("serving file system '%s' (%s): %u device(s), log at entry "
		   "%llu, %llu files, %llu directories; socket %s; master host "
		   "'%s'%s",
		   d.fs->sb.name, uuid, d.fs->ndevs,
		   (unsigned long long)(d.fs->next_seq - 1),
		   (unsigned long long)famrt_ns_nfiles(d.fs->ns),
		   (unsigned long long)famrt_ns_ndirs(d.fs->ns),
		   cfg.socket_path, d.fs->sb.master,
		   d.fs->is_master ? " (this host)" :
				     ": this host follows and cannot change "
				     "metadata");
	if (d.fs->damage)
		famrtd_log("warning: the file system has damage: %s (run famrt "
			   "fsck)",
			   d.fs->first_problem.msg);
	rc = famrtd_serve(&d, fd);
	close(fd);
	unlink(cfg.socket_path);
	if (alias[0])
		unlink(alias);
	famrtd_log("stopped after %llu requests (%llu refused, %llu malformed)",
		   (unsigned long long)d.requests,
		   (unsigned long long)d.errors,
		   (unsigned long long)d.bad_messages);
	famrtd_close(&d);
	return rc;
}

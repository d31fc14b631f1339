/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the file system commands share: the --fs/--host-id options, opening
 * the backend with messages and exit codes, famrt paths, modes, layouts,
 * attribute printing.
 */
#ifndef FAMRT_TOOL_CMD_COMMON_H
#define FAMRT_TOOL_CMD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "cli.h"
#include "json.h"

/* Option ids shared by every file system command; their own start after. */
enum {
	FAMRT_OPT_FS = 256,
	FAMRT_OPT_HOST_ID,
	FAMRT_OPT_FIRST_OWN,
};

/* The two rows every file system command's option table starts with. */
#define FAMRT_FS_OPT_ROW                                                      \
	{ "fs", 0, true, "DEV0[,DEV1...]",                                    \
	  "its devices, device 0 first (default $FAMRT_FS)",    \
	  FAMRT_OPT_FS }
#define FAMRT_FS_OPT_ROWS                                                     \
	FAMRT_FS_OPT_ROW,                                                     \
	{ "host-id", 0, true, "ID",                                           \
	  "this host (default $FAMRT_HOST_ID, machine-id)",    \
	  FAMRT_OPT_HOST_ID }

/* A famrt path on the command line: "/dir/f" or ":/dir/f". */
#define FAMRT_CMD_PATH_MAX 4096

struct famrt_fsopt {
	const char *fs;
	const char *host_id;
};

/* Take --fs / --host-id; true when c was one of them. */
bool famrt_fsopt_take(struct famrt_fsopt *o, int c, const char *arg);

/*
 * The file system spec: --fs, else $FAMRT_FS. NULL (after a usage error
 * on stderr, *ret = FAMRT_EXIT_USAGE) when there is none or --host-id is
 * unusable. Call before touching any file.
 */
const char *famrt_fsopt_spec(const struct famrt_cli_spec *spec,
			     const struct famrt_fsopt *o, int *ret);

/*
 * Open the file system (famrt_backend_open). Returns 0, or the exit code
 * after printing "PATH: message" on stderr.
 */
int famrt_cmd_open(const struct famrt_cli_spec *spec,
		   const struct famrt_fsopt *o, bool readonly,
		   struct famrt_backend **be);

/* The exit code for a -errno from a backend operation. */
int famrt_exit_for(int rc);

/* Print "PATH: e->msg" (or strerror) and return famrt_exit_for(rc). */
int famrt_cmd_fail(const struct famrt_cli_spec *spec, int rc,
		   const struct famrt_err *e);

/*
 * Look up the file at path (a directory is refused: "'PATH' is a
 * directory: DIRWHY") and fetch its map message into msg, which holds
 * FAMRT_FMAP_MSG_MAX bytes. 0, or the exit code after saying why.
 */
int famrt_cmd_file_fmap(const struct famrt_cli_spec *spec,
			struct famrt_backend *be, const char *path,
			const char *dirwhy, struct famrt_proto_attr *a,
			uint8_t *msg, size_t *len);

/*
 * Decode the map message of the file at path, checked against the
 * backend's devices. 0 with *map set, or the exit code after
 * "map of 'PATH': why".
 */
int famrt_cmd_decode_fmap(const struct famrt_cli_spec *spec,
			  struct famrt_backend *be, const char *path,
			  const uint8_t *msg, size_t len,
			  struct famrt_fmap **map);

/*
 * A famrt path from the command line into out: an optional ':' prefix is
 * dropped, the rest must start with '/'; repeated and trailing slashes go.
 * Returns 0, or FAMRT_EXIT_USAGE after a usage error.
 */
int famrt_cmd_fspath(const struct famrt_cli_spec *spec, const char *arg,
		     char *out, size_t len);

/* Octal permission bits, at most 07777. 0 or FAMRT_EXIT_USAGE. */
int famrt_cmd_mode(const struct famrt_cli_spec *spec, const char *arg,
		   uint32_t *mode);

/* --interleave N, --chunk C, --devices LIST (creat and cp). */
struct famrt_layout_opt {
	struct famrt_alloc_layout lay;
	bool chunk_set;
	bool devices_set;
};

/* Option rows for the layout options, with these ids. */
#define FAMRT_LAYOUT_OPT_ROWS(ID_INTERLEAVE, ID_CHUNK, ID_DEVICES)            \
	{ "interleave", 0, true, "N",                                         \
	  "interleave over N strips (0: one per device)", ID_INTERLEAVE },     \
	{ "chunk", 0, true, "BYTES",                                          \
	  "interleave chunk (default: the allocation unit)", ID_CHUNK },  \
	{ "devices", 0, true, "I[,J...]",                                     \
	  "only these devices (strip j on the j-th listed)",         \
	  ID_DEVICES }

/* Parse one layout option (which: 0 interleave, 1 chunk, 2 devices). */
int famrt_layout_opt_parse(const struct famrt_cli_spec *spec,
			   struct famrt_layout_opt *l, int which,
			   const char *arg);
/* Cross-checks once all options are in (--chunk needs --interleave). */
int famrt_layout_opt_check(const struct famrt_cli_spec *spec,
			   const struct famrt_layout_opt *l);

/* "drwxr-xr-x" from a mode with its type bits (11 bytes with the NUL). */
void famrt_mode_string(uint32_t mode, char out[11]);

/* "2024-05-01T12:00:00.123456789Z" (UTC); out has 48 bytes. */
void famrt_time_utc(uint64_t ns, char out[48]);

/* "file" or "directory" (or "other") from a mode's type bits. */
const char *famrt_mode_type(uint32_t mode);

/*
 * The members path, name, ino, parent, type, mode, uid, gid, nlink, size,
 * alloc_bytes, mtime_ns of an object w has open.
 */
void famrt_attr_json(struct famrt_jw *w, const char *path, const char *name,
		     const struct famrt_proto_attr *a);

/* The last component of a famrt path ("" for "/"). */
const char *famrt_path_base(const char *path);

/* Bytes per second for people: "1.52 GB/s" (decimal units). */
void famrt_rate_string(uint64_t bytes, double seconds, char out[32]);

/*
 * Fault [p, p+len) of a device mapping in at once (MADV_POPULATE_WRITE or
 * _READ) instead of a page fault per page when it is first touched: a
 * third faster when copying a file in on tmpfs. Best effort: older kernels
 * and some mappings refuse, and the faults then happen as usual.
 */
void famrt_populate(const void *p, size_t len, bool write);

/* Monotonic seconds. */
double famrt_now_s(void);

/* A file's layout in a few words (stat, log). */
struct famrt_map_summary {
	const char *ext_type;  /* "simple" or "interleaved" */
	uint32_t nextents;
	uint32_t nstrips;      /* of extent 0; 1 for simple */
	uint32_t chunk_size;   /* of extent 0; 0 for simple */
	uint64_t alloc_bytes;  /* sum of extent (strip) lengths */
	uint32_t devmask;      /* bit i: device i holds some of it */
};

void famrt_map_summarize(const struct famrt_fmap *m,
			 struct famrt_map_summary *s);
/* "simple, 2 extents, devices 0,1" */
void famrt_map_summary_text(const struct famrt_map_summary *s, char *out,
			    size_t len);
/*
 * The object {ext_type, nextents, nstrips, chunk_size, alloc_bytes,
 * devices: [...]} under key (NULL s: null).
 */
void famrt_map_summary_json(struct famrt_jw *w, const char *key,
			    const struct famrt_map_summary *s);

/* Flush stdout; FAMRT_EXIT_OK or the exit code after a message. */
int famrt_cmd_finish_stdout(const struct famrt_cli_spec *spec);

#endif

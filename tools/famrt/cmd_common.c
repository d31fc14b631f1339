/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd_common.h"
#include "size.h"

bool famrt_fsopt_take(struct famrt_fsopt *o, int c, const char *arg)
{
	switch (c) {
	case FAMRT_OPT_FS:
		o->fs = arg;
		return true;
	case FAMRT_OPT_HOST_ID:
		o->host_id = arg;
		return true;
	default:
		return false;
	}
}

const char *famrt_fsopt_spec(const struct famrt_cli_spec *spec,
			     const struct famrt_fsopt *o, int *ret)
{
	const char *fs = o->fs ? o->fs : getenv("FAMRT_FS");

	*ret = FAMRT_EXIT_OK;
	if (o->host_id &&
	    (!*o->host_id || strlen(o->host_id) > FAMRT_HOSTID_MAX)) {
		*ret = famrt_cli_usage_error(spec,
					     "--host-id must be 1 to %u bytes",
					     FAMRT_HOSTID_MAX);
		return NULL;
	}
	if (!fs || !*fs) {
		*ret = famrt_cli_usage_error(spec,
					     "which file system? Give --fs "
					     "DEV0[,DEV1...] or set FAMRT_FS");
		return NULL;
	}
	return fs;
}

int famrt_exit_for(int rc)
{
	switch (-rc) {
	case 0:
		return FAMRT_EXIT_OK;
	case ENOMEM:
	case EIO:
	case EFAULT:
	case EMFILE:
	case ENFILE:
	case EINTR:
	case EAGAIN:
	case EBADF:
	case EFBIG:
	case EOVERFLOW:
	case EPIPE:
		return FAMRT_EXIT_SYSTEM;
	default:
		return FAMRT_EXIT_REFUSED;
	}
}

int famrt_cmd_fail(const struct famrt_cli_spec *spec, int rc,
		   const struct famrt_err *e)
{
	const char *msg = e && e->msg[0] ? e->msg : strerror(-rc);

	return famrt_cli_fail(famrt_exit_for(rc), spec->path, "%s", msg);
}

int famrt_cmd_file_fmap(const struct famrt_cli_spec *spec,
			struct famrt_backend *be, const char *path,
			const char *dirwhy, struct famrt_proto_attr *a,
			uint8_t *msg, size_t *len)
{
	struct famrt_err e;
	int rc;

	famrt_err_clear(&e);
	rc = famrt_backend_lookup(be, path, a, &e);
	if (!rc && !S_ISREG(a->mode))
		rc = famrt_err_set(&e, EISDIR, "'%s' is a directory: %s", path,
				   dirwhy);
	if (!rc)
		rc = famrt_backend_get_fmap(be, a->ino, msg,
					    FAMRT_FMAP_MSG_MAX, len, &e);
	return rc ? famrt_cmd_fail(spec, rc, &e) : 0;
}

int famrt_cmd_decode_fmap(const struct famrt_cli_spec *spec,
			  struct famrt_backend *be, const char *path,
			  const uint8_t *msg, size_t len,
			  struct famrt_fmap **map)
{
	uint64_t sizes[FAMRT_MAX_DEVS], aligns[FAMRT_MAX_DEVS];
	struct famrt_fmap_limits lim;
	struct famrt_fmap_error ferr;
	int rc;

	famrt_backend_fmap_limits(be, &lim, sizes, aligns);
	rc = famrt_fmap_decode(msg, len, &lim, map, &ferr);
	if (rc)
		return famrt_cli_fail(rc == -ENOMEM ? FAMRT_EXIT_SYSTEM :
						      FAMRT_EXIT_INVALID,
				      spec->path, "map of '%s': %s", path,
				      ferr.message);
	return 0;
}

/* Opening failed: was it the devices themselves (3) or what is on them? */
static int open_exit(int rc, const struct famrt_fs_spec *s)
{
	switch (-rc) {
	case EACCES:
	case EPERM:
	case ENODEV:
	case EBUSY:
	case ENXIO:
	case EROFS:
		return FAMRT_EXIT_SYSTEM;
	case ENOENT:
		for (uint32_t i = 0; i < s->n; i++)
			if (access(s->paths[i], F_OK))
				return FAMRT_EXIT_SYSTEM;
		return FAMRT_EXIT_REFUSED;
	default:
		return famrt_exit_for(rc);
	}
}

int famrt_cmd_open(const struct famrt_cli_spec *spec,
		   const struct famrt_fsopt *o, bool readonly,
		   struct famrt_backend **be)
{
	struct famrt_backend_opts bo = { 0 };
	struct famrt_fs_spec s;
	struct famrt_err e;
	int ret, rc;

	*be = NULL;
	bo.fs = famrt_fsopt_spec(spec, o, &ret);
	if (!bo.fs)
		return ret;
	famrt_err_clear(&e);
	if (famrt_fs_spec_parse(&s, bo.fs, &e)) {
		famrt_fs_spec_free(&s);
		return famrt_cli_usage_error(spec, "--fs: %s", e.msg);
	}
	bo.host_id = o->host_id;
	bo.readonly = readonly;
	rc = famrt_backend_open(be, &bo, &e);
	if (!rc) {
		famrt_fs_spec_free(&s);
		return FAMRT_EXIT_OK;
	}
	ret = open_exit(rc, &s);
	famrt_fs_spec_free(&s);
	return famrt_cli_fail(ret, spec->path, "%s",
			      e.msg[0] ? e.msg : strerror(-rc));
}

int famrt_cmd_fspath(const struct famrt_cli_spec *spec, const char *arg,
		     char *out, size_t len)
{
	const char *p = arg;
	size_t n = 0;

	if (*p == ':')
		p++;
	if (*p != '/')
		return famrt_cli_usage_error(spec,
					     "'%s' is not an absolute famrt path "
					     "(like /dir/file or :/dir/file)",
					     arg);
	for (; *p; p++) {
		if (*p == '/' && n && out[n - 1] == '/')
			continue;
		if (n + 1 >= len)
			return famrt_cli_usage_error(spec,
						     "famrt path '%.40s...' is "
						     "longer than %zu bytes",
						     arg, len - 1);
		out[n++] = *p;
	}
	if (n > 1 && out[n - 1] == '/')
		n--;
	out[n] = '\0';
	return 0;
}

int famrt_cmd_mode(const struct famrt_cli_spec *spec, const char *arg,
		   uint32_t *mode)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 8);
	if (!*arg || *end || errno || v > 07777 || arg[0] == '-' ||
	    arg[0] == '+' || arg[0] == ' ')
		return famrt_cli_usage_error(spec,
					     "mode '%s' is not octal permission "
					     "bits (0 to 7777)",
					     arg);
	*mode = (uint32_t)v;
	return 0;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int famrt_layout_opt_parse(const struct famrt_cli_spec *spec,
			   struct famrt_layout_opt *l, int which,
			   const char *arg)
{
	uint64_t v;
	int rc;

	switch (which) {
	case 0:
		if (parse_u32(arg, FAMRT_FMAP_MAX_STRIPS, &l->lay.nstrips))
			return famrt_cli_usage_error(spec,
						     "--interleave '%s': a "
						     "number of strips, 0 to %u "
						     "(0: one per device)",
						     arg, FAMRT_FMAP_MAX_STRIPS);
		l->lay.kind = FAMRT_LAYOUT_INTERLEAVE;
		return 0;
	case 1:
		rc = famrt_size_parse(arg, &v);
		if (rc)
			return famrt_cli_usage_error(spec, "--chunk '%s' %s",
						     arg,
						     famrt_size_strerror(rc));
		if (!v || v > UINT32_MAX)
			return famrt_cli_usage_error(spec,
						     "--chunk %s: 1 byte to "
						     "4294967295 (the fmap "
						     "format's limit)",
						     arg);
		l->lay.chunk = v;
		l->chunk_set = true;
		return 0;
	default: {
		const char *p = arg;

		l->lay.ndevs = 0;
		for (;;) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			char num[16];
			uint32_t d;

			if (n == 0 || n >= sizeof(num))
				goto bad;
			memcpy(num, p, n);
			num[n] = '\0';
			if (parse_u32(num, FAMRT_MAX_DEVICES - 1, &d))
				goto bad;
			for (uint32_t i = 0; i < l->lay.ndevs; i++)
				if (l->lay.devs[i] == d)
					return famrt_cli_usage_error(
						spec,
						"--devices '%s': device %u "
						"is listed twice",
						arg, d);
			l->lay.devs[l->lay.ndevs++] = d;
			if (!comma)
				break;
			p = comma + 1;
		}
		l->devices_set = true;
		return 0;
bad:
		return famrt_cli_usage_error(spec,
					     "--devices '%s': device indexes "
					     "0 to %u separated by commas",
					     arg, FAMRT_MAX_DEVICES - 1);
	}
	}
}

int famrt_layout_opt_check(const struct famrt_cli_spec *spec,
			   const struct famrt_layout_opt *l)
{
	if (l->chunk_set && l->lay.kind != FAMRT_LAYOUT_INTERLEAVE)
		return famrt_cli_usage_error(spec,
					     "--chunk needs --interleave");
	return 0;
}

void famrt_mode_string(uint32_t mode, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";

	out[0] = S_ISDIR(mode) ? 'd' : S_ISREG(mode) ? '-' : '?';
	for (int i = 0; i < 9; i++)
		out[1 + i] = mode & (0400u >> i) ? rwx[i] : '-';
	if (mode & S_ISUID)
		out[3] = out[3] == 'x' ? 's' : 'S';
	if (mode & S_ISGID)
		out[6] = out[6] == 'x' ? 's' : 'S';
	if (mode & S_ISVTX)
		out[9] = out[9] == 'x' ? 't' : 'T';
	out[10] = '\0';
}

void famrt_time_utc(uint64_t ns, char out[48])
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(out, 48, "@%llu", (unsigned long long)ns);
		return;
	}
	snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned)(ns % 1000000000u));
}

const char *famrt_mode_type(uint32_t mode)
{
	return S_ISDIR(mode) ? "directory" : S_ISREG(mode) ? "file" : "other";
}

void famrt_attr_json(struct famrt_jw *w, const char *path, const char *name,
		     const struct famrt_proto_attr *a)
{
	famrt_jw_str(w, "path", path);
	famrt_jw_str(w, "name", name);
	famrt_jw_u64(w, "ino", a->ino);
	famrt_jw_u64(w, "parent", a->parent);
	famrt_jw_str(w, "type", famrt_mode_type(a->mode));
	famrt_jw_u64(w, "mode", a->mode & 07777);
	famrt_jw_u64(w, "uid", a->uid);
	famrt_jw_u64(w, "gid", a->gid);
	famrt_jw_u64(w, "nlink", a->nlink);
	famrt_jw_u64(w, "size", a->size);
	famrt_jw_u64(w, "alloc_bytes", a->alloc_bytes);
	famrt_jw_u64(w, "mtime_ns", a->mtime_ns);
}

const char *famrt_path_base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

void famrt_rate_string(uint64_t bytes, double seconds, char out[32])
{
	double r = seconds > 0 ? (double)bytes / seconds : 0;

	if (r >= 1e9)
		snprintf(out, 32, "%.2f GB/s", r / 1e9);
	else if (r >= 1e6)
		snprintf(out, 32, "%.1f MB/s", r / 1e6);
	else
		snprintf(out, 32, "%.0f kB/s", r / 1e3);
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

void famrt_populate(const void *p, size_t len, bool write)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;
	uintptr_t end = ((uintptr_t)p + len + 4095) & ~(uintptr_t)4095;

	if (len)
		madvise((void *)a, end - a,
			write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
}

double famrt_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int famrt_cmd_finish_stdout(const struct famrt_cli_spec *spec)
{
	if (fflush(stdout) || ferror(stdout))
		return famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				      "writing the output: %s",
				      strerror(errno ? errno : EIO));
	return FAMRT_EXIT_OK;
}

void famrt_map_summarize(const struct famrt_fmap *m,
			 struct famrt_map_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->ext_type = famrt_fmap_ext_type(m) == FAMRT_FMAP_EXT_SIMPLE ?
			      "simple" :
			      "interleaved";
	s->nextents = famrt_fmap_nextents(m);
	for (uint32_t i = 0; i < s->nextents; i++) {
		struct famrt_fmap_extent x;

		if (famrt_fmap_get_extent(m, i, &x))
			break;
		if (i == 0) {
			s->nstrips = x.nstrips;
			s->chunk_size = x.chunk_size;
		}
		for (uint32_t j = 0; j < x.nstrips; j++) {
			s->alloc_bytes += x.strips[j].len;
			if (x.strips[j].devindex < 32)
				s->devmask |= 1u << x.strips[j].devindex;
		}
	}
}

void famrt_map_summary_text(const struct famrt_map_summary *s, char *out,
			    size_t len)
{
	size_t n;

	if (!strcmp(s->ext_type, "simple")) {
		n = (size_t)snprintf(out, len, "simple, %u extent%s",
				     s->nextents, s->nextents == 1 ? "" : "s");
	} else {
		char chunk[FAMRT_SIZE_HUMAN_MAX];

		n = (size_t)snprintf(out, len,
				     "interleaved, %u extent%s of %u strips, "
				     "chunk %s",
				     s->nextents, s->nextents == 1 ? "" : "s",
				     s->nstrips,
				     famrt_size_human(s->chunk_size, chunk));
	}
	for (uint32_t i = 0, first = 1; i < 32 && n < len; i++) {
		if (!(s->devmask & (1u << i)))
			continue;
		n += (size_t)snprintf(out + n, len - n, "%s%u",
				      first ? (s->devmask & (s->devmask - 1) ?
						       ", devices " :
						       ", device ") :
					      ",",
				      i);
		first = 0;
	}
}

void famrt_map_summary_json(struct famrt_jw *w, const char *key,
			    const struct famrt_map_summary *s)
{
	if (!s) {
		famrt_jw_null(w, key);
		return;
	}
	famrt_jw_obj_begin(w, key);
	famrt_jw_str(w, "ext_type", s->ext_type);
	famrt_jw_u64(w, "nextents", s->nextents);
	famrt_jw_u64(w, "nstrips", s->nstrips);
	famrt_jw_u64(w, "chunk_size", s->chunk_size);
	famrt_jw_u64(w, "alloc_bytes", s->alloc_bytes);
	famrt_jw_arr_begin(w, "devices");
	for (uint32_t i = 0; i < 32; i++)
		if (s->devmask & (1u << i))
			famrt_jw_u64(w, NULL, i);
	famrt_jw_arr_end(w);
	famrt_jw_obj_end(w);
}

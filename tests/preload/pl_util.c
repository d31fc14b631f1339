/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stddef.h>

#include <cmocka.h>

#include "pl_util.h"

extern char **environ;

#ifndef PL_SANITIZER_RT
#define PL_SANITIZER_RT ""
#endif
#ifndef PL_ASAN_COMPAT
#define PL_ASAN_COMPAT ""
#endif

/* Variables the children must not inherit from whoever runs the test. */
static bool dropped(const char *e)
{
	static const char *const names[] = {
		"LD_PRELOAD=", "FAMRT_SOCKET=", "FAMRT_FS=", "FAMRT_MOUNT=",
		"FAMRT_SHIM_FDS=", "FAMRT_SHIM_CWD=", "FAMRT_RUN_DIR=",
		"ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LC_ALL=", "LANGUAGE=",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncmp(e, names[i], strlen(names[i])))
			return true;
	return false;
}

static char **make_env(const struct pl *p, bool shim)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 8, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!dropped(environ[i]))
			env[k++] = strdup(environ[i]);
	/* The same in both, so only LD_PRELOAD tells them apart. */
	if (asprintf(&env[k++], "FAMRT_SOCKET=%s", p->d.socket) < 0)
		return NULL;
	env[k++] = strdup("FAMRT_MOUNT=" PL_MOUNT);
	env[k++] = strdup("LC_ALL=C");
	env[k++] = strdup("ASAN_OPTIONS=detect_leaks=0:"
			  "verify_asan_link_order=0:abort_on_error=1");
	if (shim && asprintf(&env[k++], "LD_PRELOAD=%s", p->preload) < 0)
		return NULL;
	env[k] = NULL;
	for (size_t i = 0; i < k; i++)
		if (!env[i])
			return NULL;
	return env;
}

static void free_env(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

struct pl *pl_start(uint32_t ndevs, uint64_t devsize)
{
	struct famrt_connect_opts o = { .size = sizeof(o) };
	const char *bin = getenv("FAMRT_BIN_DIR");
	char shim[4096];
	struct pl *p;

	if (!bin) {
		fprintf(stderr, "FAMRT_BIN_DIR is not set (run under ctest)\n");
		return NULL;
	}
	snprintf(shim, sizeof(shim), "%s/runtime/libfamrt_preload.so", bin);
	if (access(shim, R_OK)) {
		fprintf(stderr, "%s: %s\n", shim, strerror(errno));
		return NULL;
	}
	if (PL_SANITIZER_RT[0] && access(PL_SANITIZER_RT, R_OK)) {
		fprintf(stderr, "the shim is built with sanitizers but their "
				"runtime %s is missing: %s\n",
			PL_SANITIZER_RT, strerror(errno));
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	/* An ASan-built shim in uninstrumented programs needs the ASan
	 * runtime loaded before it. */
	snprintf(p->preload, sizeof(p->preload), "%s%s%s%s%s", PL_ASAN_COMPAT,
		 PL_ASAN_COMPAT[0] ? " " : "", PL_SANITIZER_RT,
		 PL_SANITIZER_RT[0] ? " " : "", shim);
	if (h_fs_make(&p->fs, ndevs, devsize, "host-a")) {
		free(p);
		return NULL;
	}
	if (h_famrtd_start(&p->d, &p->fs, "svc", "host-a", NULL)) {
		h_fs_remove(&p->fs);
		free(p);
		return NULL;
	}
	o.socket = p->d.socket;
	if (famrt_connect(&p->c, &o)) {
		fprintf(stderr, "connect: %s\n", famrt_errmsg());
		goto fail;
	}
	snprintf(p->base, sizeof(p->base), "/dev/shm/plbase.XXXXXX");
	if (!mkdtemp(p->base)) {
		fprintf(stderr, "mkdtemp %s: %s\n", p->base, strerror(errno));
		p->base[0] = '\0';
		goto fail;
	}
	snprintf(p->scratch, sizeof(p->scratch), "/dev/shm/plscratch.XXXXXX");
	if (!mkdtemp(p->scratch)) {
		fprintf(stderr, "mkdtemp %s: %s\n", p->scratch,
			strerror(errno));
		p->scratch[0] = '\0';
		goto fail;
	}
	p->env_shim = make_env(p, true);
	p->env_plain = make_env(p, false);
	if (!p->env_shim || !p->env_plain)
		goto fail;
	return p;
fail:
	pl_stop(p);
	return NULL;
}

void pl_stop(struct pl *p)
{
	char cmd[256];

	if (!p)
		return;
	if (p->c)
		famrt_disconnect(p->c);
	if (h_famrtd_stop(&p->d))
		fprintf(stderr, "famrtd did not stop cleanly\n");
	h_fs_remove(&p->fs);
	if (p->base[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->base);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", p->base);
	}
	if (p->scratch[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->scratch);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", p->scratch);
	}
	free_env(p->env_shim);
	free_env(p->env_plain);
	free(p);
}

/* ---- running programs ---- */

int pl_run(struct pl *p, bool shim, const char *const *argv, const void *in,
	   size_t n, struct pl_res *r)
{
	return h_run(argv, shim ? p->env_shim : p->env_plain, in, n, -1,
		     60000, r);
}

int pl_sh(struct pl *p, bool shim, struct pl_res *r, const char *fmt, ...)
{
	const char *argv[4] = { "sh", "-c", NULL, NULL };
	char *cmd;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -ENOMEM;
	argv[2] = cmd;
	rc = pl_run(p, shim, argv, NULL, 0, r);
	free(cmd);
	return rc;
}

void pl_res_free(struct pl_res *r)
{
	h_run_result_free(r);
}

void pl_res_dump(const char *what, const struct pl_res *r)
{
	fprintf(stderr, "---- %s: status %d, %zu bytes out, %zu bytes err\n",
		what, r->status, r->out_len, r->err_len);
	if (r->out && r->out_len)
		fprintf(stderr, "stdout:\n%.*s%s\n", (int)(r->out_len > 4000 ?
							 4000 : r->out_len),
			r->out, r->out_len > 4000 ? "\n[...]" : "");
	if (r->err && r->err_len)
		fprintf(stderr, "stderr:\n%.*s\n", (int)(r->err_len > 4000 ?
							4000 : r->err_len),
			r->err);
}

bool pl_have(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (n && !access(buf, X_OK))
			return true;
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

static int skipped;

bool pl_need(const char *prog, const char *what)
{
	if (pl_have(prog))
		return true;
	print_message("SKIP: %s is not installed (tools/deps.sh installs it): "
		      "%s not tested\n", prog, what);
	skipped++;
	return false;
}

int pl_exit_code(int failures)
{
	if (failures)
		return failures;
	if (skipped)
		fprintf(stderr, "%d case(s) skipped: a program they need is "
				"missing\n", skipped);
	return skipped ? 77 : 0;
}

char *pl_subst(const char *s, const char *root)
{
	size_t rl = strlen(root), cap = strlen(s) + 1, n = 0;
	const char *q;
	char *out;

	for (q = s; (q = strstr(q, root)); q += rl)
		cap += 3;
	out = malloc(cap);
	if (!out)
		abort();
	while (*s) {
		if (!strncmp(s, root, rl)) {
			memcpy(out + n, "@R@", 3);
			n += 3;
			s += rl;
		} else {
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
	return out;
}

/* ---- data ---- */

void pl_fill(uint8_t *buf, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)(x >> 24);
	}
}

char *pl_text(size_t lines, uint64_t seed, size_t *len)
{
	static const char *const words[] = {
		"alpha", "beta", "gamma", "delta", "fabric", "memory",
		"extent", "strip", "chunk", "device", "host", "cxl",
	};
	size_t cap = lines * 80 + 1, n = 0;
	char *s = malloc(cap);
	uint64_t x = seed | 1;

	if (!s)
		abort();
	for (size_t i = 0; i < lines; i++) {
		int k;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		k = snprintf(s + n, cap - n, "%06zu %s %s %s%s %llu\n", i,
			     words[(x >> 33) % 12], words[(x >> 40) % 12],
			     words[(x >> 48) % 12],
			     i % 7 == 3 ? " needle" : "",
			     (unsigned long long)(x >> 44));
		n += (size_t)k;
	}
	*len = n;
	return s;
}

/* ---- files ---- */

void pl_base_path(const struct pl *p, const char *rel, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", p->base, rel[0] == '/' ? rel + 1 : rel);
}

int pl_base_put(const struct pl *p, const char *rel, const void *data,
		size_t n, mode_t mode)
{
	char path[4096];
	size_t done = 0;
	int fd;

	pl_base_path(p, rel, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (done < n) {
		ssize_t w = write(fd, (const char *)data + done, n - done);

		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			close(fd);
			return -e;
		}
		done += (size_t)w;
	}
	/* The umask must not make the two sides differ. */
	if (fchmod(fd, mode) || close(fd))
		return -errno;
	return 0;
}

int pl_base_mkdir(const struct pl *p, const char *rel, mode_t mode)
{
	char path[4096];

	pl_base_path(p, rel, path, sizeof(path));
	if (mkdir(path, mode) || chmod(path, mode))
		return -errno;
	return 0;
}

uint8_t *pl_slurp(const char *path, size_t *len)
{
	size_t cap = 65536, n = 0;
	uint8_t *b = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !b) {
		if (fd >= 0)
			close(fd);
		free(b);
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			uint8_t *q = realloc(b, cap * 2);

			if (!q) {
				free(b);
				close(fd);
				return NULL;
			}
			b = q;
			cap *= 2;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			free(b);
			close(fd);
			return NULL;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return b;
}

int pl_famrt_put(struct pl *p, const char *fspath, const void *data,
		 size_t n, mode_t mode)
{
	struct famrt_file *f;
	size_t done = 0;
	int rc;

	rc = famrt_create_growing(p->c, fspath, mode, &f);
	if (rc) {
		fprintf(stderr, "create %s: %s\n", fspath, famrt_errmsg());
		return rc;
	}
	while (done < n) {
		ssize_t w = famrt_pwrite(f, (const char *)data + done,
					 n - done, done);

		if (w <= 0) {
			fprintf(stderr, "write %s: %s\n", fspath,
				famrt_errmsg());
			famrt_close(f);
			return w < 0 ? (int)w : -EIO;
		}
		done += (size_t)w;
	}
	rc = famrt_close(f);
	if (rc)
		fprintf(stderr, "close %s: %s\n", fspath, famrt_errmsg());
	return rc;
}

int pl_famrt_get(struct pl *p, const char *fspath, uint8_t **data,
		 size_t *len)
{
	struct famrt_file *f;
	uint64_t size;
	uint8_t *b;
	ssize_t r;
	int rc;

	*data = NULL;
	*len = 0;
	rc = famrt_open(p->c, fspath, O_RDONLY, &f);
	if (rc)
		return rc;
	size = famrt_file_size(f);
	b = malloc(size ? size : 1);
	if (!b) {
		famrt_close(f);
		return -ENOMEM;
	}
	r = size ? famrt_pread(f, b, size, 0) : 0;
	famrt_close(f);
	if (r != (ssize_t)size) {
		free(b);
		return r < 0 ? (int)r : -EIO;
	}
	*data = b;
	*len = size;
	return 0;
}

int pl_famrt_mkdir(struct pl *p, const char *fspath, mode_t mode)
{
	int rc = famrt_mkdir(p->c, fspath, mode);

	if (rc)
		fprintf(stderr, "mkdir %s: %s\n", fspath, famrt_errmsg());
	return rc;
}

static void fs_path(const char *rel, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s", rel[0] == '/' ? "" : "/", rel);
}

int pl_both_put(struct pl *p, const char *rel, const void *data, size_t n,
		mode_t mode)
{
	char fsp[4096];
	int rc = pl_base_put(p, rel, data, n, mode);

	if (rc)
		return rc;
	fs_path(rel, fsp, sizeof(fsp));
	return pl_famrt_put(p, fsp, data, n, mode);
}

int pl_both_mkdir(struct pl *p, const char *rel, mode_t mode)
{
	char fsp[4096];
	int rc = pl_base_mkdir(p, rel, mode);

	if (rc)
		return rc;
	fs_path(rel, fsp, sizeof(fsp));
	return pl_famrt_mkdir(p, fsp, mode);
}

/* ---- trees ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct names {
	char **v;
	size_t n, cap;
};

static void names_add(struct names *s, const char *name)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			abort();
	}
	s->v[s->n++] = strdup(name);
}

static void names_free(struct names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

int pl_tree_same(struct pl *p, const char *fspath, const char *dir)
{
	struct names a = { 0 }, b = { 0 };
	struct famrt_dir *fd;
	struct famrt_dirent e;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (famrt_opendir(p->c, fspath, &fd)) {
		fprintf(stderr, "famrt opendir %s: %s\n", fspath,
			famrt_errmsg());
		return -1;
	}
	while (famrt_readdir(fd, &e) == 1)
		if (strcmp(e.name, ".") && strcmp(e.name, ".."))
			names_add(&a, e.name);
	famrt_closedir(fd);
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "opendir %s: %s\n", dir, strerror(errno));
		names_free(&a);
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			names_add(&b, de->d_name);
	closedir(d);
	if (a.n)
		qsort(a.v, a.n, sizeof(*a.v), cmp_str);
	if (b.n)
		qsort(b.v, b.n, sizeof(*b.v), cmp_str);
	if (a.n != b.n) {
		fprintf(stderr, "famrt %s has %zu entries, %s has %zu\n",
			fspath, a.n, dir, b.n);
		rc = -1;
	}
	for (size_t i = 0; !rc && i < a.n; i++) {
		char fp[4096], rp[4096];
		struct famrt_stat fst;
		struct stat st;

		if (strcmp(a.v[i], b.v[i])) {
			fprintf(stderr, "famrt %s has '%s' where %s has '%s'\n",
				fspath, a.v[i], dir, b.v[i]);
			rc = -1;
			break;
		}
		snprintf(fp, sizeof(fp), "%s/%s", strcmp(fspath, "/") ?
			 fspath : "", a.v[i]);
		snprintf(rp, sizeof(rp), "%s/%s", dir, b.v[i]);
		if (famrt_stat(p->c, fp, &fst) || lstat(rp, &st)) {
			fprintf(stderr, "stat %s or %s failed\n", fp, rp);
			rc = -1;
			break;
		}
		if ((fst.mode & S_IFMT) != (st.st_mode & S_IFMT) ||
		    (fst.mode & 07777) != (st.st_mode & 07777)) {
			fprintf(stderr, "famrt %s mode 0%o, %s mode 0%o\n", fp,
				fst.mode, rp, st.st_mode);
			rc = -1;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			rc = pl_tree_same(p, fp, rp);
		} else {
			uint8_t *x = NULL, *y;
			size_t xl = 0, yl = 0;

			y = pl_slurp(rp, &yl);
			if (pl_famrt_get(p, fp, &x, &xl) || !y || xl != yl ||
			    memcmp(x, y, xl)) {
				fprintf(stderr, "famrt %s (%zu bytes) differs "
						"from %s (%zu bytes)\n",
					fp, xl, rp, yl);
				rc = -1;
			}
			free(x);
			free(y);
		}
	}
	names_free(&a);
	names_free(&b);
	return rc;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *pl_sorted(const char *s)
{
	size_t n = 0, cap = 64, pos = 0;
	char **v = malloc(cap * sizeof(*v)), *copy = strdup(s), *q, *save;
	char *out = malloc(strlen(s) + 2);

	if (!v || !copy || !out)
		abort();
	for (q = strtok_r(copy, "\n", &save); q;
	     q = strtok_r(NULL, "\n", &save)) {
		if (n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				abort();
		}
		v[n++] = q;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_line);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);

		memcpy(out + pos, v[i], l);
		pos += l;
		out[pos++] = '\n';
	}
	out[pos] = '\0';
	free(v);
	free(copy);
	return out;
}

/* ---- the same command on both sides ---- */

char *pl_expand(const char *tmpl, const char *root)
{
	size_t rl = strlen(root), cap = strlen(tmpl) + 1, n = 0;
	const char *q;
	char *out;

	for (q = tmpl; (q = strstr(q, "@R@")); q += 3)
		cap += rl;
	out = malloc(cap);
	if (!out)
		abort();
	while (*tmpl) {
		if (!strncmp(tmpl, "@R@", 3)) {
			memcpy(out + n, root, rl);
			n += rl;
			tmpl += 3;
		} else {
			out[n++] = *tmpl++;
		}
	}
	out[n] = '\0';
	return out;
}

static char *show_cmd(const char *const *argv)
{
	size_t cap = 1, n = 0;
	char *s;

	for (int i = 0; argv[i]; i++)
		cap += strlen(argv[i]) + 1;
	s = malloc(cap);
	if (!s)
		abort();
	for (int i = 0; argv[i]; i++)
		n += (size_t)sprintf(s + n, "%s%s", i ? " " : "", argv[i]);
	s[n] = '\0';
	return s;
}

void pl_same(struct pl *p, int want, unsigned flags, const char *const *argv)
{
	const char *fa[64], *ba[64];
	struct pl_res a, b;
	char *cmd = show_cmd(argv);
	bool ok = true;
	int n = 0;

	for (; argv[n]; n++) {
		if (n == 63)
			fail_msg("too many arguments");
		fa[n] = pl_expand(argv[n], PL_MOUNT);
		ba[n] = pl_expand(argv[n], p->base);
	}
	fa[n] = ba[n] = NULL;
	if (pl_run(p, true, fa, NULL, 0, &a) ||
	    pl_run(p, false, ba, NULL, 0, &b))
		fail_msg("could not start %s", argv[0]);
	if (b.status != want) {
		fprintf(stderr, "baseline of '%s' exited %d, not %d\n", cmd,
			b.status, want);
		ok = false;
	}
	if (a.status != b.status) {
		fprintf(stderr, "'%s' exited %d on famrt, %d on the baseline\n",
			cmd, a.status, b.status);
		ok = false;
	}
	if (flags & PL_BIN) {
		if (a.out_len != b.out_len || memcmp(a.out, b.out, a.out_len)) {
			fprintf(stderr, "'%s': %zu bytes of output on famrt, "
					"%zu on the baseline, not the same\n",
				cmd, a.out_len, b.out_len);
			ok = false;
		}
	} else {
		char *x = pl_subst(a.out, PL_MOUNT);
		char *y = pl_subst(b.out, p->base);

		if (flags & PL_SORT) {
			char *sx = pl_sorted(x), *sy = pl_sorted(y);

			free(x);
			free(y);
			x = sx;
			y = sy;
		}
		if (strcmp(x, y)) {
			fprintf(stderr, "'%s': output differs\n--- famrt:\n%s"
					"--- baseline:\n%s---\n", cmd, x, y);
			ok = false;
		}
		free(x);
		free(y);
	}
	if (!(flags & PL_NOERR)) {
		char *x = pl_subst(a.err, PL_MOUNT);
		char *y = pl_subst(b.err, p->base);

		if (strcmp(x, y)) {
			fprintf(stderr, "'%s': stderr differs\n--- famrt:\n%s"
					"--- baseline:\n%s---\n", cmd, x, y);
			ok = false;
		}
		free(x);
		free(y);
	}
	if (!ok && !(flags & PL_BIN)) {
		pl_res_dump("famrt", &a);
		pl_res_dump("baseline", &b);
	} else if (!ok) {
		fprintf(stderr, "stderr on famrt:\n%s\nstderr on the baseline:"
				"\n%s\n", a.err, b.err);
	}
	for (int i = 0; i < n; i++) {
		free((void *)fa[i]);
		free((void *)ba[i]);
	}
	pl_res_free(&a);
	pl_res_free(&b);
	if (!ok)
		fail_msg("'%s' behaves differently on famrt", cmd);
	free(cmd);
}

void pl_same_sh(struct pl *p, int want, unsigned flags, const char *cmd)
{
	pl_same(p, want, flags, (const char *const[]){ "sh", "-c", cmd, NULL });
}

/* ---- the data set ---- */

const char *const pl_tree_files[] = {
	"tree/top.txt", "tree/a/x.txt", "tree/a/b/y.bin", "tree/a/b/run.sh",
	"tree/c/z.txt", "tree/c/ro.txt", "tree/e/f/g/h.txt", NULL,
};

static size_t tree_sizes[8];

uint64_t pl_tree_bytes(void)
{
	uint64_t n = 0;

	for (int i = 0; pl_tree_files[i]; i++)
		n += tree_sizes[i];
	return n;
}

static int put_text(struct pl *p, const char *rel, size_t lines,
		    uint64_t seed, mode_t mode, size_t *len)
{
	size_t n;
	char *t = pl_text(lines, seed, &n);
	int rc = pl_both_put(p, rel, t, n, mode);

	free(t);
	if (len)
		*len = n;
	return rc;
}

static int put_rand(struct pl *p, const char *rel, size_t n, uint64_t seed,
		    mode_t mode)
{
	uint8_t *b = malloc(n ? n : 1);
	int rc;

	if (!b)
		return -ENOMEM;
	pl_fill(b, n, seed);
	rc = pl_both_put(p, rel, b, n, mode);
	free(b);
	return rc;
}

static int put_inter(struct pl *p, const char *rel, size_t n, uint64_t seed)
{
	struct famrt_layout lay = { .size = sizeof(lay), .interleave = true,
				    .chunk = 64 << 10 };
	struct famrt_file *f;
	uint8_t *b = malloc(n);
	char fsp[512];
	int rc;

	if (!b)
		return -ENOMEM;
	pl_fill(b, n, seed);
	rc = pl_base_put(p, rel, b, n, 0644);
	snprintf(fsp, sizeof(fsp), "/%s", rel);
	if (!rc)
		rc = famrt_create(p->c, fsp, 0644, n, &lay, &f);
	if (!rc) {
		ssize_t w = famrt_pwrite(f, b, n, 0);

		rc = famrt_close(f);
		if (w != (ssize_t)n)
			rc = -EIO;
	}
	if (rc)
		fprintf(stderr, "interleaved %s: %s\n", rel, famrt_errmsg());
	free(b);
	return rc;
}

int pl_dataset(struct pl *p)
{
	static const char run_sh[] = "#!/bin/sh\necho hi\n";
	int rc = 0;

	rc |= put_text(p, "text", 5000, 1, 0644, NULL);
	rc |= put_rand(p, "rnd", 3000000, 2, 0644);
	rc |= put_rand(p, "big", (9u << 20) + 123, 3, 0644);
	rc |= put_inter(p, "inter", (5u << 20) + 77, 4);
	rc |= put_rand(p, "empty", 0, 5, 0644);
	rc |= put_rand(p, "one", 1, 6, 0644);
	rc |= put_rand(p, "p4095", 4095, 7, 0644);
	rc |= put_rand(p, "p4096", 4096, 8, 0644);
	rc |= put_rand(p, "p4097", 4097, 9, 0600);
	rc |= pl_both_mkdir(p, "tree", 0755);
	rc |= pl_both_mkdir(p, "tree/a", 0755);
	rc |= pl_both_mkdir(p, "tree/a/b", 0755);
	rc |= pl_both_mkdir(p, "tree/c", 0750);
	rc |= pl_both_mkdir(p, "tree/d", 0700);
	rc |= pl_both_mkdir(p, "tree/e", 0755);
	rc |= pl_both_mkdir(p, "tree/e/f", 0755);
	rc |= pl_both_mkdir(p, "tree/e/f/g", 0755);
	rc |= put_text(p, pl_tree_files[0], 40, 10, 0644, &tree_sizes[0]);
	rc |= put_text(p, pl_tree_files[1], 300, 11, 0644, &tree_sizes[1]);
	rc |= put_rand(p, pl_tree_files[2], 70000, 12, 0644);
	tree_sizes[2] = 70000;
	rc |= pl_both_put(p, pl_tree_files[3], run_sh, sizeof(run_sh) - 1,
			  0755);
	tree_sizes[3] = sizeof(run_sh) - 1;
	rc |= put_text(p, pl_tree_files[4], 50, 13, 0644, &tree_sizes[4]);
	rc |= put_text(p, pl_tree_files[5], 10, 14, 0444, &tree_sizes[5]);
	rc |= put_text(p, pl_tree_files[6], 20, 15, 0640, &tree_sizes[6]);
	if (rc)
		fprintf(stderr, "could not make the data set\n");
	return rc ? -1 : 0;
}

int pl_setup(void **state)
{
	struct pl *p = pl_start(2, 256u << 20);

	*state = p;
	if (!p)
		return -1;
	if (pl_dataset(p)) {
		pl_stop(p);
		*state = NULL;
		return -1;
	}
	return 0;
}

int pl_teardown(void **state)
{
	pl_stop(*state);
	*state = NULL;
	return 0;
}

void pl_same_file(struct pl *p, const char *rel)
{
	char fsp[512], real[512];
	uint8_t *a = NULL, *b;
	size_t al = 0, bl = 0;
	int rc;

	snprintf(fsp, sizeof(fsp), "/%s", rel);
	pl_base_path(p, rel, real, sizeof(real));
	rc = pl_famrt_get(p, fsp, &a, &al);
	b = pl_slurp(real, &bl);
	assert_non_null(b);
	if (rc)
		fail_msg("famrt %s: %s", fsp, strerror(-rc));
	if (al != bl || memcmp(a, b, al))
		fail_msg("famrt %s (%zu bytes) is not the baseline's (%zu "
			 "bytes)\n--- famrt:\n%.*s\n--- baseline:\n%.*s", fsp,
			 al, bl, (int)(al > 300 ? 300 : al), (char *)a,
			 (int)(bl > 300 ? 300 : bl), (char *)b);
	free(a);
	free(b);
}

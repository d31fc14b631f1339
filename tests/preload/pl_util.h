/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the preload tests: a file system with its own famrtd, a
 * baseline directory on tmpfs holding the same bytes, and a runner that
 * starts real, unmodified programs with or without libfamrt_preload.so
 * and captures what they print. The test checks famrt contents through
 * its own libfamrt connection, not through the shim.
 */
#ifndef FAMRT_TEST_PL_UTIL_H
#define FAMRT_TEST_PL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <famrt/famrt.h>

#include "famrtd_harness.h"
#include "h_run.h"

/* The prefix the shim claims in these tests (virtual: no such directory). */
#define PL_MOUNT "/famrt"

struct pl {
	struct h_fs fs;
	struct h_famrtd d;
	struct famrt *c;          /* the test's own connection */
	char base[96];            /* baseline directory on tmpfs */
	char scratch[96];         /* another, for scripts and such */
	char preload[8192];       /* the LD_PRELOAD value */
	char **env_shim;          /* environment with the shim */
	char **env_plain;         /* the same without it */
};

/*
 * Devices, a file system, famrtd, the test's connection and an empty
 * baseline directory. NULL on failure (printed).
 */
struct pl *pl_start(uint32_t ndevs, uint64_t devsize);
void pl_stop(struct pl *p);

/* What a program did (tests/common/h_run.h). */
#define pl_res h_run_result

/*
 * Run argv (argv[0] looked up in PATH) with or without the shim, feeding
 * in[0..n) on stdin. A program still running after 60 s is killed.
 * 0, or -errno when it could not be started.
 */
int pl_run(struct pl *p, bool shim, const char *const *argv, const void *in,
	   size_t n, struct pl_res *r);
/* sh -c "command" (printf format). */
int pl_sh(struct pl *p, bool shim, struct pl_res *r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void pl_res_free(struct pl_res *r);
/* Print what a program did (for a failing comparison). */
void pl_res_dump(const char *what, const struct pl_res *r);

/* Is a program installed (in PATH)? */
bool pl_have(const char *prog);
/*
 * The same, and if not: say so (a case not tested) and count it. A test
 * program whose cases all passed but some were skipped exits with
 * pl_exit_code() = 77, which ctest shows as skipped.
 */
bool pl_need(const char *prog, const char *what);
int pl_exit_code(int failures);

/*
 * s with every occurrence of `root` replaced by "@R@" (so outputs naming
 * files under famrt and under the baseline can be compared). Caller frees.
 */
char *pl_subst(const char *s, const char *root);

/* Deterministic bytes. */
void pl_fill(uint8_t *buf, size_t n, uint64_t seed);
/* Text lines, deterministic, with "needle" in some of them. */
char *pl_text(size_t lines, uint64_t seed, size_t *len);

/* Baseline files: base/rel. */
void pl_base_path(const struct pl *p, const char *rel, char *out, size_t cap);
int pl_base_put(const struct pl *p, const char *rel, const void *data,
		size_t n, mode_t mode);
int pl_base_mkdir(const struct pl *p, const char *rel, mode_t mode);

/* Any real file, whole. NULL on failure. Caller frees. */
uint8_t *pl_slurp(const char *path, size_t *len);

/*
 * famrt files through the test's own connection (fspath inside the file
 * system, "/x/y"): write a new file whole, read one whole, make a
 * directory. -errno on failure.
 */
int pl_famrt_put(struct pl *p, const char *fspath, const void *data,
		 size_t n, mode_t mode);
int pl_famrt_get(struct pl *p, const char *fspath, uint8_t **data,
		 size_t *len);
int pl_famrt_mkdir(struct pl *p, const char *fspath, mode_t mode);

/*
 * The same bytes in both places: base/rel and PL_MOUNT/rel (a directory
 * tree made on both sides first).
 */
int pl_both_put(struct pl *p, const char *rel, const void *data, size_t n,
		mode_t mode);
int pl_both_mkdir(struct pl *p, const char *rel, mode_t mode);

/*
 * Compare the tree under famrt fspath with the real directory dir: the
 * same names, types, permission bits and file bytes. 0, or -1 with the
 * first difference printed.
 */
int pl_tree_same(struct pl *p, const char *fspath, const char *dir);

/*
 * The lines of s sorted, empty lines dropped, each ending in '\n' (for
 * outputs whose order is a directory listing's). Caller frees.
 */
char *pl_sorted(const char *s);

/*
 * The standard data set, the same bytes on both sides:
 *   text (5000 lines), rnd (3,000,000 random bytes), big (9 MiB + 123),
 *   inter (5 MiB + 77, interleaved over every device in 64 KiB chunks),
 *   empty, one (1 byte), p4095, p4096, p4097,
 *   tree/{top.txt, a/x.txt, a/b/y.bin, a/b/run.sh (0755), c/z.txt,
 *         c/ro.txt (0444), d/ (empty, 0700), e/f/g/h.txt}  (c is 0750)
 * 0 or -1 (printed).
 */
int pl_dataset(struct pl *p);
/* The regular files of tree/ and their sizes (for du). */
extern const char *const pl_tree_files[];
uint64_t pl_tree_bytes(void);

/*
 * Run one command on famrt (PL_MOUNT for every "@R@" in it, with the shim)
 * and on the baseline (the baseline directory, without the shim), and
 * check both exit with `want` and print the same (paths under each root
 * shown as "@R@"). Fails the running cmocka test otherwise.
 */
#define PL_SORT 1u   /* stdout compared as sorted lines */
#define PL_BIN 2u    /* stdout compared as bytes, no substitution */
#define PL_NOERR 4u  /* stderr not compared */
void pl_same(struct pl *p, int want, unsigned flags, const char *const *argv);
#define PL_SAME(p, want, flags, ...)                                          \
	pl_same(p, want, flags, (const char *const[]){ __VA_ARGS__, NULL })
/* The same for sh -c "cmd". */
void pl_same_sh(struct pl *p, int want, unsigned flags, const char *cmd);
/* tmpl with every "@R@" replaced by root. Caller frees. */
char *pl_expand(const char *tmpl, const char *root);

/*
 * cmocka group setup and teardown of the preload tests: pl_start(2 devices
 * of 256 MiB) and pl_dataset; pl_stop.
 */
int pl_setup(void **state);
int pl_teardown(void **state);
/* The famrt file /rel holds exactly what the baseline file rel holds
 * (fails the running cmocka test, showing the start of both, if not). */
void pl_same_file(struct pl *p, const char *rel);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec and spawn: the new program gets, in FAMRT_SHIM_FDS, the famrt files
 * it inherits (descriptors without close-on-exec), so its shim can go on
 * serving them. glibc's own exec functions call each other internally, out
 * of the shim's reach, so every public one is wrapped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload/shim.h"

extern char **environ;

/*
 * NULL: nothing to add (no famrt descriptors, no famrt current
 * directory); else an environment. same: this process itself execs.
 */
static char **env_for(char *const *envp, bool same)
{
	if (!__atomic_load_n(&shim_have_fds, __ATOMIC_RELAXED) &&
	    !shim_vcwd_mount)
		return NULL;
	return shim_env_for_exec(envp, same);
}

SHIM_EXPORT int execve(const char *path, char *const argv[],
		       char *const envp[])
{
	char **env = env_for(envp, true);
	int rc, err;

	rc = REAL(execve)(path, argv, env ? env : envp);
	err = errno;
	shim_env_free(env);
	errno = err;
	return rc;
}

SHIM_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

SHIM_EXPORT int execvpe(const char *file, char *const argv[],
			char *const envp[])
{
	char **env = env_for(envp, true);
	int rc, err;

	rc = REAL(execvpe)(file, argv, env ? env : envp);
	err = errno;
	shim_env_free(env);
	errno = err;
	return rc;
}

SHIM_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

SHIM_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	char **env = env_for(envp, true);
	int rc, err;

	rc = REAL(fexecve)(fd, argv, env ? env : envp);
	err = errno;
	shim_env_free(env);
	errno = err;
	return rc;
}

/* Collect the variadic arguments of execl and friends. */
static char **gather(const char *arg0, va_list ap, char ***envp)
{
	size_t n = 1, cap = 16;
	char **argv = malloc(cap * sizeof(*argv));
	const char *a;

	if (!argv)
		return NULL;
	argv[0] = (char *)arg0;
	while ((a = va_arg(ap, const char *))) {
		if (n + 1 >= cap) {
			char **v = realloc(argv, cap * 2 * sizeof(*argv));

			if (!v) {
				free(argv);
				return NULL;
			}
			argv = v;
			cap *= 2;
		}
		argv[n++] = (char *)a;
	}
	argv[n] = NULL;
	if (envp)
		*envp = va_arg(ap, char **);
	return argv;
}

SHIM_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	char **argv;
	int rc;

	va_start(ap, arg);
	argv = gather(arg, ap, NULL);
	va_end(ap);
	if (!argv)
		return shim_err(-ENOMEM);
	rc = execve(path, argv, environ);
	free(argv);
	return rc;
}

SHIM_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	char **argv;
	int rc;

	va_start(ap, arg);
	argv = gather(arg, ap, NULL);
	va_end(ap);
	if (!argv)
		return shim_err(-ENOMEM);
	rc = execvpe(file, argv, environ);
	free(argv);
	return rc;
}

SHIM_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	char **argv, **envp = NULL;
	int rc;

	va_start(ap, arg);
	argv = gather(arg, ap, &envp);
	va_end(ap);
	if (!argv)
		return shim_err(-ENOMEM);
	rc = execve(path, argv, envp);
	free(argv);
	return rc;
}

SHIM_EXPORT int posix_spawn(pid_t *pid, const char *path,
			    const posix_spawn_file_actions_t *fa,
			    const posix_spawnattr_t *attr, char *const argv[],
			    char *const envp[])
{
	char **env = env_for(envp, false);
	int rc = REAL(posix_spawn)(pid, path, fa, attr, argv, env ? env : envp);

	shim_env_free(env);
	return rc;
}

SHIM_EXPORT int posix_spawnp(pid_t *pid, const char *file,
			     const posix_spawn_file_actions_t *fa,
			     const posix_spawnattr_t *attr, char *const argv[],
			     char *const envp[])
{
	char **env = env_for(envp, false);
	int rc = REAL(posix_spawnp)(pid, file, fa, attr, argv,
				    env ? env : envp);

	shim_env_free(env);
	return rc;
}

/*
 * system() and popen() spawn with the process environment: put our
 * variable there for the call, and take it out again.
 */
static void env_set(void)
{
	char **env = env_for(NULL, false);

	if (!env)
		return;
	for (size_t i = 0; env[i]; i++) {
		if (!strncmp(env[i], SHIM_ENV_FDS "=", sizeof(SHIM_ENV_FDS)))
			setenv(SHIM_ENV_FDS, env[i] + sizeof(SHIM_ENV_FDS), 1);
		if (!strncmp(env[i], SHIM_ENV_CWD "=", sizeof(SHIM_ENV_CWD)))
			setenv(SHIM_ENV_CWD, env[i] + sizeof(SHIM_ENV_CWD), 1);
	}
	shim_env_free(env);
}

static void env_unset(void)
{
	unsetenv(SHIM_ENV_FDS);
	unsetenv(SHIM_ENV_CWD);
}

SHIM_EXPORT int system(const char *cmd)
{
	int rc;

	env_set();
	rc = REAL(system)(cmd);
	env_unset();
	return rc;
}

SHIM_EXPORT FILE *popen(const char *cmd, const char *type)
{
	FILE *fp;

	env_set();
	fp = REAL(popen)(cmd, type);
	env_unset();
	return fp;
}

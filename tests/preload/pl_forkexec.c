/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A plain program (it knows nothing of famrt) that hands an open file to
 * a program it starts: it opens FILE, reads SKIP bytes, then starts
 * itself as a child (fork + execv, then posix_spawn) with the descriptor
 * number as an argument. The child fstat's, reads from the offset it
 * inherited, seeks and reads again, and prints what it got; the parent
 * prints that and checks it against what its own descriptor gives.
 * Exit 0 when every child saw what the parent sees.
 *
 *   pl_forkexec FILE SKIP
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static size_t hex(char *out, const unsigned char *b, ssize_t n)
{
	size_t k = 0;

	for (ssize_t i = 0; i < n; i++)
		k += (size_t)sprintf(out + k, "%02x", b[i]);
	out[k] = '\0';
	return k;
}

/*
 * What a child prints for descriptor fd whose offset is at `pos`: the
 * child computes it with read/lseek, the parent with pread (so that its
 * own offset stays put). clo: whether the close-on-exec descriptor was
 * gone in the child.
 */
static char *report(int fd, int child, int clo_closed)
{
	unsigned char b[1000];
	char *out = malloc(8192), h[2001];
	size_t k = 0;
	struct stat st;
	off_t pos = 0, end;
	ssize_t n;

	if (!out)
		exit(1);
	if (fstat(fd, &st)) {
		k += (size_t)sprintf(out + k, "fstat: %s\n", strerror(errno));
		return out;
	}
	k += (size_t)sprintf(out + k, "fstat: size=%lld regular=%d\n",
			     (long long)st.st_size, S_ISREG(st.st_mode));
	if (!child)
		pos = lseek(fd, 0, SEEK_CUR);
	n = child ? read(fd, b, 1000) : pread(fd, b, 1000, pos);
	hex(h, b, n > 0 ? n : 0);
	k += (size_t)sprintf(out + k, "read1: n=%zd %s\n", n, h);
	k += (size_t)sprintf(out + k, "lseek: %lld\n", child ?
			     (long long)lseek(fd, 10, SEEK_SET) : 10LL);
	n = child ? read(fd, b, 100) : pread(fd, b, 100, 10);
	hex(h, b, n > 0 ? n : 0);
	k += (size_t)sprintf(out + k, "read2: n=%zd %s\n", n, h);
	end = child ? lseek(fd, 0, SEEK_END) : st.st_size;
	k += (size_t)sprintf(out + k, "end: %lld\n", (long long)end);
	n = pread(fd, b, 50, st.st_size > 20 ? st.st_size - 20 : 0);
	hex(h, b, n > 0 ? n : 0);
	k += (size_t)sprintf(out + k, "pread: n=%zd %s\n", n, h);
	sprintf(out + k, "cloexec: %s\n", clo_closed ? "closed" : "open");
	return out;
}

static int child_main(int fd, int clo)
{
	/* First, before anything here opens a descriptor of its own. */
	int closed = fcntl(clo, F_GETFD) < 0 && errno == EBADF;
	char *r = report(fd, 1, closed);

	fputs(r, stdout);
	free(r);
	return 0;
}

static char *collect(int rfd)
{
	size_t cap = 16384, n = 0;
	char *s = malloc(cap);
	ssize_t k;

	while (s && (k = read(rfd, s + n, cap - n - 1)) > 0) {
		n += (size_t)k;
		if (cap - n < 2) {
			cap *= 2;
			s = realloc(s, cap);
		}
	}
	if (!s)
		exit(1);
	s[n] = '\0';
	return s;
}

static int run(const char *self, int fd, int clo, int spawn, off_t skip)
{
	char fdarg[16], cloarg[16], *got, *want;
	char *argv[] = { (char *)self, "child", fdarg, cloarg, NULL };
	int p[2], st, ok;
	pid_t pid;

	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	snprintf(cloarg, sizeof(cloarg), "%d", clo);
	if (lseek(fd, skip, SEEK_SET) != skip || pipe2(p, O_CLOEXEC)) {
		perror("lseek/pipe");
		return 1;
	}
	fflush(stdout);
	if (spawn) {
		posix_spawn_file_actions_t fa;
		int rc;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, p[1], 1);
		rc = posix_spawn(&pid, self, &fa, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
		if (rc) {
			fprintf(stderr, "posix_spawn: %s\n", strerror(rc));
			return 1;
		}
	} else {
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (!pid) {
			dup2(p[1], 1);
			execv(self, argv);
			perror("execv");
			_exit(127);
		}
	}
	close(p[1]);
	got = collect(p[0]);
	close(p[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st)) {
		fprintf(stderr, "the child failed (status 0x%x)\n", st);
		return 1;
	}
	/* The parent's view: the child started at `skip`. */
	lseek(fd, skip, SEEK_SET);
	want = report(fd, 0, 1);
	ok = !strcmp(got, want);
	printf("%s:\n%s%s\n", spawn ? "posix_spawn" : "fork+execv", got,
	       ok ? "same as the parent's view" : "DIFFERENT from the parent");
	if (!ok)
		fprintf(stderr, "child saw:\n%sparent sees:\n%s", got, want);
	free(got);
	free(want);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	unsigned char b[65536];
	off_t skip, done = 0;
	int fd, clo, rc;

	if (argc == 4 && !strcmp(argv[1], "child"))
		return child_main(atoi(argv[2]), atoi(argv[3]));
	if (argc != 3) {
		fprintf(stderr, "usage: pl_forkexec FILE SKIP\n");
		return 2;
	}
	skip = atoll(argv[2]);
	fd = open(argv[1], O_RDONLY);
	clo = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || clo < 0) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* Move the offset by reading, as a program would. */
	while (done < skip) {
		size_t want = (size_t)(skip - done) < sizeof(b) ?
				      (size_t)(skip - done) : sizeof(b);
		ssize_t n = read(fd, b, want);

		if (n <= 0) {
			fprintf(stderr, "read: %s\n", n ? strerror(errno) :
							  "end of file");
			return 1;
		}
		done += n;
	}
	rc = run("/proc/self/exe", fd, clo, 0, skip);
	rc |= run("/proc/self/exe", fd, clo, 1, skip);
	return rc;
}

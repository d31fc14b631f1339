/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A plain program (it knows nothing of famrt) that calls into the shim the
 * two ways a library can be re-entered or cut short: from a signal handler
 * that interrupts a read of the same file, and from the child of a fork
 * made while another thread is in the middle of reading that file. Neither
 * may hang, and every read that succeeds must return the right bytes.
 *
 *   pl_reenter FILE REF SECONDS
 *
 * FILE is read with pread (4 KiB at pseudo-random offsets) and every byte
 * compared with REF (the same bytes elsewhere). Part 1, for SECONDS/2: a
 * timer signal every 50 us whose handler also preads FILE on the same
 * descriptor; a handler's read may fail with EDEADLK (it interrupted this
 * thread inside the shim on that file), never hang or return wrong bytes.
 * Part 2: a thread preads FILE without pause while the main thread forks,
 * again and again; each child preads FILE on the inherited descriptor and
 * exits. A child that does not exit within 10 s has hung: it is killed
 * and the program fails. A watchdog ends the whole program after
 * SECONDS + 30 s with "hung".
 *
 * Prints "ok reads R handler_reads H handler_edeadlk D forks F" and exits
 * 0, or says what went wrong and exits 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096

static int fd;
static const uint8_t *ref;
static size_t nblocks;
static volatile sig_atomic_t h_reads, h_deadlk, h_bad;
static atomic_int stop;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* One checked 4 KiB read: 0 right bytes, 1 wrong or short, -errno. */
static int read_one(uint64_t *seed, uint8_t *buf)
{
	uint64_t off = next(seed) % nblocks * BLOCK;
	ssize_t n = pread(fd, buf, BLOCK, (off_t)off);

	if (n < 0)
		return -errno;
	return n != BLOCK || memcmp(buf, ref + off, BLOCK) ? 1 : 0;
}

static void on_timer(int sig)
{
	static uint64_t seed = 0x2545f4914f6cdd1dull;
	static uint8_t buf[BLOCK];
	int saved = errno, rc;

	(void)sig;
	rc = read_one(&seed, buf);
	if (rc == -EDEADLK)
		h_deadlk++;
	else if (rc)
		h_bad++;
	else
		h_reads++;
	errno = saved;
}

/* Started with SIGALRM blocked: the timer's signals go to the main
 * thread, and they do not cut the watchdog's sleep short. */
static void *watchdog(void *arg)
{
	uint64_t end = now_ns() + (uint64_t)(uintptr_t)arg * 1000000000ull;

	while (now_ns() < end)
		usleep(100000);
	fprintf(stderr, "pl_reenter: hung (the watchdog fired)\n");
	_exit(1);
}

static void *reader(void *arg)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	uint8_t *buf = malloc(BLOCK);
	uintptr_t bad = 0;

	(void)arg;
	while (buf && !atomic_load(&stop))
		bad += read_one(&seed, buf) != 0;
	free(buf);
	return (void *)bad;
}

/* Wait for a child for at most 10 s: its exit status, or -1 if it hung. */
static int wait_child(pid_t pid)
{
	uint64_t end = now_ns() + 10000000000ull;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		if (r < 0 || now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(200);
	}
}

int main(int argc, char **argv)
{
	struct itimerval it = { { 0, 50 }, { 0, 50 } }, off = { 0 };
	struct sigaction sa = { 0 };
	sigset_t mask;
	uint64_t seed = 88172645463325252ull, reads = 0, end;
	unsigned seconds, forks = 0;
	uint8_t buf[BLOCK];
	pthread_t wd, th;
	struct stat st;
	uint8_t *r;
	void *bad;
	int rfd;

	if (argc != 4) {
		fprintf(stderr, "usage: pl_reenter FILE REF SECONDS\n");
		return 2;
	}
	seconds = (unsigned)strtoul(argv[3], NULL, 10);
	fd = open(argv[1], O_RDONLY);
	rfd = open(argv[2], O_RDONLY);
	if (fd < 0 || rfd < 0 || fstat(rfd, &st) || st.st_size < BLOCK) {
		perror("pl_reenter: open");
		return 1;
	}
	nblocks = (size_t)st.st_size / BLOCK;
	r = malloc((size_t)st.st_size);
	if (!r || pread(rfd, r, (size_t)st.st_size, 0) != st.st_size) {
		perror("pl_reenter: reading REF");
		return 1;
	}
	ref = r;
	sigemptyset(&mask);
	sigaddset(&mask, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	if (pthread_create(&wd, NULL, watchdog,
			   (void *)(uintptr_t)(seconds + 30)))
		return 1;
	pthread_sigmask(SIG_UNBLOCK, &mask, NULL);

	/* Part 1: a handler that reads the file the main thread reads. */
	sa.sa_handler = on_timer;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	end = now_ns() + (uint64_t)seconds * 500000000ull;
	while (now_ns() < end) {
		int rc = read_one(&seed, buf);

		if (rc) {
			fprintf(stderr, "pl_reenter: main thread's read: %s\n",
				rc < 0 ? strerror(-rc) : "wrong bytes");
			return 1;
		}
		reads++;
	}
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_IGN);
	if (h_bad) {
		fprintf(stderr, "pl_reenter: %d reads in the handler failed "
				"other than with EDEADLK, or were wrong\n",
			(int)h_bad);
		return 1;
	}
	if (!h_reads) {
		fprintf(stderr, "pl_reenter: the handler never ran a read\n");
		return 1;
	}

	/* Part 2: fork while another thread is inside the shim. */
	if (pthread_create(&th, NULL, reader, NULL))
		return 1;
	end = now_ns() + (uint64_t)seconds * 500000000ull;
	while (now_ns() < end) {
		pid_t pid = fork();
		int rc;

		if (pid < 0) {
			perror("pl_reenter: fork");
			return 1;
		}
		if (pid == 0) {
			uint64_t s = 0xdeadbeefcafef00dull + forks;

			_exit(read_one(&s, buf) ? 1 : 0);
		}
		rc = wait_child(pid);
		if (rc) {
			fprintf(stderr, "pl_reenter: child %u %s\n", forks,
				rc < 0 ? "hung: killed after 10 s" :
					 "read wrong bytes or failed");
			return 1;
		}
		forks++;
	}
	atomic_store(&stop, 1);
	pthread_join(th, &bad);
	if (bad) {
		fprintf(stderr, "pl_reenter: the reading thread got %lu bad "
				"reads\n",
			(unsigned long)(uintptr_t)bad);
		return 1;
	}
	printf("ok reads %llu handler_reads %d handler_edeadlk %d forks %u\n",
	       (unsigned long long)reads, (int)h_reads, (int)h_deadlk, forks);
	return 0;
}

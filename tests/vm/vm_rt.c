/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vm_rt: libfamrt (the shared library, as applications link it) on a real
 * /dev/dax0.0 inside the VM tests' guests. One command per run; exit 0
 * when every check passed, 1 on the first failure (one line on stderr
 * saying what, where, expected and found), 2 on a usage error.
 *
 *   vm_rt pattern SEED SIZE
 *       write the test pattern of SEED (SIZE bytes) to stdout
 *   vm_rt create [--mmap] [--interleave N --chunk BYTES] PATH SIZE SEED
 *       famrt_create PATH and fill it with the pattern, through
 *       famrt_pwrite in pieces of irregular sizes, or (--mmap) through a
 *       famrt_mmap'd range; then famrt_flush
 *   vm_rt verify [--align BYTES] PATH (--seed SEED | --ref FILE)
 *       read PATH through famrt_pread (whole, sequential blocks of many
 *       sizes, pieces that straddle 2 MiB boundaries, random pieces, the
 *       end of file) and famrt_mmap (whole file, offset 4 KiB length
 *       3 MiB, odd offsets, the last byte) and compare every byte with the
 *       pattern or FILE; with --align, every mapping must be placed so that
 *       file offset 0 would sit on a multiple of BYTES (huge pages)
 *   vm_rt erofs PATH MASTER
 *       famrt_create and famrt_mkdir must fail with EROFS and a message
 *       naming MASTER (run on a host that is not the master)
 *   vm_rt poke PATH OFF TEXT
 *       publish TEXT in PATH at OFF through a mapping: the bytes at
 *       OFF+8, flushed, then their length as one 8-byte store at OFF,
 *       flushed (OFF a multiple of 8)
 *   vm_rt await PATH OFF SECONDS
 *       wait (invalidating the cache lines each time) until a length
 *       appears at OFF, then print the TEXT poked there
 *
 * The connection is made from the environment (FAMRT_SOCKET, FAMRT_FS or
 * the only socket in FAMRT_RUN_DIR).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <famrt/famrt.h>

#define MIB (UINT64_C(1024) * 1024)

static const char *prog = "vm_rt";

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt,
								...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

__attribute__((noreturn)) static void usage(void)
{
	fprintf(stderr,
		"usage: vm_rt pattern SEED SIZE\n"
		"       vm_rt create [--mmap] [--interleave N --chunk BYTES] "
		"PATH SIZE SEED\n"
		"       vm_rt verify [--align BYTES] PATH (--seed SEED | "
		"--ref FILE)\n"
		"       vm_rt erofs PATH MASTER\n"
		"       vm_rt poke PATH OFF TEXT\n"
		"       vm_rt await PATH OFF SECONDS\n"
		"       vm_rt numa PATH NODE\n");
	exit(2);
}

static uint64_t num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-')
		usage();
	return v;
}

/*
 * The pattern: byte o is byte (o % 8) of a splitmix64 mix of the seed and
 * o / 8. Every 8-byte word differs, so a misplaced block shows.
 */
static uint64_t mix(uint64_t seed, uint64_t word)
{
	uint64_t z = seed + (word + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void pattern_fill(uint8_t *buf, uint64_t off, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t o = off + i;

		buf[i] = (uint8_t)(mix(seed, o / 8) >> (8 * (o % 8)));
	}
}

static uint8_t *xmalloc(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

static struct famrt *connect_env(void)
{
	struct famrt *fs;
	int rc = famrt_connect(&fs, NULL);

	if (rc)
		die("famrt_connect: %s (%s)", strerror(-rc), famrt_errmsg());
	return fs;
}

static int cmd_pattern(int argc, char **argv)
{
	uint64_t seed, size, off = 0;
	uint8_t *buf = xmalloc(MIB);

	if (argc != 4)
		usage();
	seed = num(argv[2]);
	size = num(argv[3]);
	while (off < size) {
		size_t n = size - off < MIB ? (size_t)(size - off) : MIB;

		pattern_fill(buf, off, n, seed);
		if (fwrite(buf, 1, n, stdout) != n)
			die("pattern: write to stdout: %s", strerror(errno));
		off += n;
	}
	free(buf);
	if (fflush(stdout))
		die("pattern: write to stdout: %s", strerror(errno));
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	struct famrt_layout lay = { .size = sizeof(lay) };
	bool via_mmap = false;
	const char *path;
	uint64_t size, seed, off = 0;
	struct famrt_file *f;
	struct famrt *fs;
	uint8_t *buf;
	int i = 2, rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--mmap")) {
			via_mmap = true;
		} else if (!strcmp(argv[i], "--interleave") && i + 1 < argc) {
			lay.interleave = true;
			lay.nstrips = (uint32_t)num(argv[++i]);
		} else if (!strcmp(argv[i], "--chunk") && i + 1 < argc) {
			lay.chunk = num(argv[++i]);
		} else {
			usage();
		}
	}
	if (argc - i != 3)
		usage();
	path = argv[i];
	size = num(argv[i + 1]);
	seed = num(argv[i + 2]);

	fs = connect_env();
	rc = famrt_create(fs, path, 0644, size, lay.interleave ? &lay : NULL,
			  &f);
	if (rc)
		die("famrt_create %s (%" PRIu64 " bytes): %s (%s)", path, size,
		    strerror(-rc), famrt_errmsg());
	if (via_mmap) {
		uint8_t *p;

		rc = famrt_mmap(f, 0, 0, PROT_READ | PROT_WRITE, (void **)&p);
		if (rc)
			die("famrt_mmap %s read-write: %s (%s)", path,
			    strerror(-rc), famrt_errmsg());
		pattern_fill(p, 0, (size_t)size, seed);
		rc = famrt_munmap(fs, p);
		if (rc)
			die("famrt_munmap %s: %s", path, famrt_errmsg());
	} else {
		/* Pieces of irregular sizes: tiny, odd, 2 MiB-straddling. */
		static const size_t step[] = { 1, 4095, 12345, MIB + 7,
					       2 * MIB - 3, 64, 3 * MIB };
		unsigned k = 0;

		buf = xmalloc(3 * MIB);
		while (off < size) {
			size_t n = step[k++ % (sizeof(step) / sizeof(step[0]))];
			ssize_t w;

			if (n > size - off)
				n = (size_t)(size - off);
			pattern_fill(buf, off, n, seed);
			w = famrt_pwrite(f, buf, n, off);
			if (w != (ssize_t)n)
				die("famrt_pwrite %s: %zu bytes at %" PRIu64
				    ": returned %zd (%s)",
				    path, n, off, w, famrt_errmsg());
			off += n;
		}
		free(buf);
	}
	rc = famrt_flush(f, 0, 0);
	if (rc)
		die("famrt_flush %s: %s (%s)", path, strerror(-rc),
		    famrt_errmsg());
	rc = famrt_close(f);
	if (rc)
		die("famrt_close %s: %s", path, famrt_errmsg());
	rc = famrt_disconnect(fs);
	if (rc)
		die("famrt_disconnect: %s", famrt_errmsg());
	printf("vm_rt: created %s: %" PRIu64 " bytes of seed %" PRIu64
	       " written through %s and flushed\n",
	       path, size, seed, via_mmap ? "famrt_mmap" : "famrt_pwrite");
	return 0;
}

/* The first difference between got and want, as a message. */
static void compare(const char *path, const char *how, const uint8_t *got,
		    const uint8_t *want, uint64_t off, size_t len)
{
	if (!memcmp(got, want, len))
		return;
	for (size_t i = 0; i < len; i++)
		if (got[i] != want[i])
			die("%s: %s: byte at file offset %" PRIu64
			    " is 0x%02x, expected 0x%02x",
			    path, how, off + i, got[i], want[i]);
}

struct verify {
	const char *path;
	struct famrt *fs;
	struct famrt_file *f;
	const uint8_t *want;
	uint64_t size, align;
	unsigned preads, maps;
};

static void check_pread(struct verify *v, uint64_t off, size_t len,
			uint8_t *buf)
{
	size_t expect = off >= v->size ? 0
			: (len < v->size - off ? len : (size_t)(v->size - off));
	ssize_t n = famrt_pread(v->f, buf, len, off);
	char how[96];

	if (n < 0)
		die("%s: famrt_pread %zu bytes at %" PRIu64 ": %s (%s)",
		    v->path, len, off, strerror((int)-n), famrt_errmsg());
	if ((size_t)n != expect)
		die("%s: famrt_pread %zu bytes at %" PRIu64 " returned %zd, "
		    "expected %zu (file size %" PRIu64 ")",
		    v->path, len, off, n, expect, v->size);
	snprintf(how, sizeof(how), "famrt_pread of %zu at %" PRIu64, len, off);
	compare(v->path, how, buf, v->want + off, off, (size_t)n);
	v->preads++;
}

static void check_mmap(struct verify *v, uint64_t off, size_t len)
{
	uint8_t *p;
	char how[96];
	int rc = famrt_mmap(v->f, off, len, PROT_READ, (void **)&p);

	if (rc)
		die("%s: famrt_mmap %zu bytes at %" PRIu64 ": %s (%s)", v->path,
		    len, off, strerror(-rc), famrt_errmsg());
	if (v->align && ((uintptr_t)p - off) % v->align)
		die("%s: famrt_mmap at %" PRIu64 " returned %p: file offset 0 "
		    "would be at an address not aligned to %" PRIu64,
		    v->path, off, (void *)p, v->align);
	if (!len)
		len = (size_t)(v->size - off);
	snprintf(how, sizeof(how), "famrt_mmap of %zu at %" PRIu64, len, off);
	compare(v->path, how, p, v->want + off, off, len);
	rc = famrt_munmap(v->fs, p);
	if (rc)
		die("%s: famrt_munmap: %s", v->path, famrt_errmsg());
	v->maps++;
}

static uint8_t *read_ref(const char *file, uint64_t *size)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		die("%s: %s", file, strerror(errno));
	buf = xmalloc((size_t)st.st_size);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n <= 0)
			die("%s: read: %s", file, n ? strerror(errno) : "short");
		got += (size_t)n;
	}
	close(fd);
	*size = (uint64_t)st.st_size;
	return buf;
}

static int cmd_verify(int argc, char **argv)
{
	struct verify v = { 0 };
	const char *ref = NULL;
	bool have_seed = false;
	uint64_t seed = 0, refsize = 0, rng = 42;
	struct famrt_stat st;
	uint8_t *want, *buf;
	int i = 2, rc;

	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--align") && i + 1 < argc)
			v.align = num(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			have_seed = true, seed = num(argv[++i]);
		else if (!strcmp(argv[i], "--ref") && i + 1 < argc)
			ref = argv[++i];
		else if (argv[i][0] != '-' && !v.path)
			v.path = argv[i];
		else
			usage();
	}
	if (!v.path || have_seed == !!ref)
		usage();

	v.fs = connect_env();
	rc = famrt_open(v.fs, v.path, O_RDONLY, &v.f);
	if (rc)
		die("famrt_open %s: %s (%s)", v.path, strerror(-rc),
		    famrt_errmsg());
	rc = famrt_fstat(v.f, &st);
	if (rc)
		die("famrt_fstat %s: %s", v.path, famrt_errmsg());
	v.size = st.size;
	if (famrt_file_size(v.f) != v.size)
		die("%s: famrt_file_size %" PRIu64 " but famrt_fstat %" PRIu64,
		    v.path, famrt_file_size(v.f), v.size);
	if (ref) {
		want = read_ref(ref, &refsize);
		if (refsize != v.size)
			die("%s: %" PRIu64 " bytes, but %s has %" PRIu64,
			    v.path, v.size, ref, refsize);
	} else {
		want = xmalloc((size_t)v.size);
		pattern_fill(want, 0, (size_t)v.size, seed);
	}
	v.want = want;
	/* Another host may have written it: drop stale lines first. */
	rc = famrt_invalidate(v.f, 0, 0);
	if (rc)
		die("famrt_invalidate %s: %s", v.path, famrt_errmsg());

	buf = xmalloc((size_t)v.size + 4 * MIB);
	/* The whole file, in one call and past the end. */
	check_pread(&v, 0, (size_t)v.size + MIB, buf);
	/* Sequential blocks of many sizes. */
	{
		static const size_t bs[] = { 4096, 65536 + 3, MIB, 2 * MIB + 1,
					     4 * MIB };

		for (unsigned k = 0; k < sizeof(bs) / sizeof(bs[0]); k++)
			for (uint64_t off = 0; off < v.size; off += bs[k])
				check_pread(&v, off, bs[k], buf);
	}
	/* Pieces straddling every 2 MiB boundary of the file. */
	for (uint64_t b = 2 * MIB; b < v.size; b += 2 * MIB) {
		check_pread(&v, b - 5, 10, buf);
		check_pread(&v, b - 1, 1, buf);
		check_pread(&v, b, 1, buf);
	}
	/* Random pieces. */
	for (int k = 0; k < 200 && v.size; k++) {
		uint64_t off, len;

		rng = mix(rng, (uint64_t)k);
		off = rng % v.size;
		rng = mix(rng, (uint64_t)k);
		len = rng % (3 * MIB) + 1;
		check_pread(&v, off, (size_t)len, buf);
	}
	/* The end of the file. */
	if (v.size) {
		check_pread(&v, v.size - 1, 4096, buf);
		check_pread(&v, v.size, 4096, buf);
		check_pread(&v, v.size + 3 * MIB, 1, buf);
	}

	/* Mappings: whole, unaligned pieces the raw device would refuse. */
	check_mmap(&v, 0, 0);
	if (v.size >= 4096 + 3 * MIB)
		check_mmap(&v, 4096, 3 * MIB);
	if (v.size > 12345)
		check_mmap(&v, 12345, (size_t)(v.size - 12345 < MIB + 7
					       ? v.size - 12345 : MIB + 7));
	if (v.size > 2 * MIB + 1)
		check_mmap(&v, 2 * MIB - 1, 2);
	if (v.size)
		check_mmap(&v, v.size - 1, 1);

	free(buf);
	free(want);
	rc = famrt_close(v.f);
	if (rc)
		die("famrt_close %s: %s", v.path, famrt_errmsg());
	rc = famrt_disconnect(v.fs);
	if (rc)
		die("famrt_disconnect: %s", famrt_errmsg());
	printf("vm_rt: verified %s: %" PRIu64 " bytes equal to %s%s through "
	       "%u famrt_pread calls and %u famrt_mmap ranges\n",
	       v.path, v.size, ref ? "the file " : "the pattern",
	       ref ? ref : "", v.preads, v.maps);
	return 0;
}

static int cmd_erofs(int argc, char **argv)
{
	struct famrt_file *f = NULL;
	struct famrt *fs;
	char dir[4096];
	int rc;

	if (argc != 4)
		usage();
	fs = connect_env();
	rc = famrt_create(fs, argv[2], 0644, 2 * MIB, NULL, &f);
	if (rc != -EROFS)
		die("famrt_create %s on a follower returned %d (%s), expected "
		    "-EROFS", argv[2], rc, rc ? famrt_errmsg() : "success");
	if (!strstr(famrt_errmsg(), argv[3]))
		die("famrt_create %s: EROFS, but the message does not name "
		    "the master '%s': %s", argv[2], argv[3], famrt_errmsg());
	printf("vm_rt: famrt_create refused: %s\n", famrt_errmsg());
	snprintf(dir, sizeof(dir), "%s.dir", argv[2]);
	rc = famrt_mkdir(fs, dir, 0755);
	if (rc != -EROFS)
		die("famrt_mkdir %s on a follower returned %d (%s), expected "
		    "-EROFS", dir, rc, rc ? famrt_errmsg() : "success");
	if (!strstr(famrt_errmsg(), argv[3]))
		die("famrt_mkdir %s: EROFS, but the message does not name "
		    "the master '%s': %s", dir, argv[3], famrt_errmsg());
	printf("vm_rt: famrt_mkdir refused: %s\n", famrt_errmsg());
	rc = famrt_disconnect(fs);
	if (rc)
		die("famrt_disconnect: %s", famrt_errmsg());
	return 0;
}

/* Map the 4 KiB of PATH holding [off, off+4096): returns the pointer. */
static uint8_t *map_slot(struct famrt *fs, const char *path, uint64_t off,
			 int prot, struct famrt_file **f)
{
	uint8_t *p;
	int rc = famrt_open(fs, path, prot & PROT_WRITE ? O_RDWR : O_RDONLY, f);

	if (rc)
		die("famrt_open %s: %s (%s)", path, strerror(-rc),
		    famrt_errmsg());
	if (off % 8 || off + 4096 > famrt_file_size(*f))
		die("%s: offset %" PRIu64 " must be a multiple of 8 with 4096 "
		    "bytes after it in the file", path, off);
	rc = famrt_mmap(*f, off, 4096, prot, (void **)&p);
	if (rc)
		die("famrt_mmap %s at %" PRIu64 ": %s (%s)", path, off,
		    strerror(-rc), famrt_errmsg());
	return p;
}

static int cmd_poke(int argc, char **argv)
{
	struct famrt_file *f;
	struct famrt *fs;
	uint64_t off, len;
	uint8_t *p;
	int rc;

	if (argc != 5)
		usage();
	off = num(argv[3]);
	len = strlen(argv[4]);
	if (!len || len > 4096 - 8)
		usage();
	fs = connect_env();
	p = map_slot(fs, argv[2], off, PROT_READ | PROT_WRITE, &f);
	memcpy(p + 8, argv[4], len);
	rc = famrt_flush(f, off + 8, len);
	if (!rc) {
		__atomic_store_n((uint64_t *)(void *)p, len, __ATOMIC_RELEASE);
		rc = famrt_flush(f, off, 8);
	}
	if (rc)
		die("famrt_flush %s: %s", argv[2], famrt_errmsg());
	if (famrt_munmap(fs, p) || famrt_close(f) || famrt_disconnect(fs))
		die("%s: cleanup: %s", argv[2], famrt_errmsg());
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmd_await(int argc, char **argv)
{
	struct famrt_file *f;
	struct famrt *fs;
	uint64_t off, len;
	double limit;
	char text[4096];
	uint8_t *p;

	if (argc != 5)
		usage();
	off = num(argv[3]);
	limit = now() + (double)num(argv[4]);
	fs = connect_env();
	p = map_slot(fs, argv[2], off, PROT_READ, &f);
	for (;;) {
		if (famrt_invalidate(f, off, 4096))
			die("famrt_invalidate %s: %s", argv[2], famrt_errmsg());
		len = __atomic_load_n((uint64_t *)(void *)p, __ATOMIC_ACQUIRE);
		if (len)
			break;
		if (now() > limit)
			die("%s: nothing appeared at offset %" PRIu64 " in %s s",
			    argv[2], off, argv[4]);
		usleep(20000);
	}
	if (len > 4096 - 8)
		die("%s: length %" PRIu64 " at offset %" PRIu64 " is too large",
		    argv[2], len, off);
	memcpy(text, p + 8, (size_t)len);
	text[len] = '\0';
	printf("%s\n", text);
	if (famrt_munmap(fs, p) || famrt_close(f) || famrt_disconnect(fs))
		die("%s: cleanup: %s", argv[2], famrt_errmsg());
	return 0;
}

/*
 * numa PATH NODE: the file's memory is on NUMA node NODE (what sysfs says
 * of the device), and famrt_bind_near binds this thread to exactly the
 * CPUs sysfs lists for that node.
 */
static int cmd_numa(int argc, char **argv)
{
	char sys[64], list[256] = "";
	cpu_set_t before, after, want;
	struct famrt_file *f;
	struct famrt *fs;
	int node, rc;
	FILE *in;

	if (argc != 4)
		usage();
	node = (int)num(argv[3]);
	fs = connect_env();
	rc = famrt_open(fs, argv[2], O_RDONLY, &f);
	if (rc)
		die("famrt_open %s: %s", argv[2], famrt_errmsg());
	rc = famrt_numa_node(f, 0, 0);
	if (rc != node)
		die("%s: famrt_numa_node %d, sysfs says %d (%s)", argv[2], rc,
		    node, rc < 0 ? famrt_errmsg() : "");
	/* The node's CPUs, from sysfs: "0-3,8" style. */
	snprintf(sys, sizeof(sys), "/sys/devices/system/node/node%d/cpulist",
		 node);
	in = fopen(sys, "r");
	if (!in || !fgets(list, sizeof(list), in))
		die("%s: cannot read", sys);
	fclose(in);
	CPU_ZERO(&want);
	for (char *t = strtok(list, ",\n"); t; t = strtok(NULL, ",\n")) {
		unsigned a, b;

		if (sscanf(t, "%u-%u", &a, &b) != 2)
			b = a = (unsigned)num(t);
		for (unsigned c = a; c <= b && c < CPU_SETSIZE; c++)
			CPU_SET(c, &want);
	}
	sched_getaffinity(0, sizeof(before), &before);
	rc = famrt_bind_near(f, 0, 0);
	if (rc)
		die("famrt_bind_near: %s", famrt_errmsg());
	sched_getaffinity(0, sizeof(after), &after);
	if (!CPU_EQUAL(&after, &want))
		die("after famrt_bind_near the thread may run on %d CPUs, "
		    "node %d has %d",
		    CPU_COUNT(&after), node, CPU_COUNT(&want));
	printf("node %d, bound to its %d CPUs (%d before)\n", node,
	       CPU_COUNT(&after), CPU_COUNT(&before));
	famrt_close(f);
	famrt_disconnect(fs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "pattern"))
		return cmd_pattern(argc, argv);
	if (!strcmp(argv[1], "create"))
		return cmd_create(argc, argv);
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argc, argv);
	if (!strcmp(argv[1], "erofs"))
		return cmd_erofs(argc, argv);
	if (!strcmp(argv[1], "poke"))
		return cmd_poke(argc, argv);
	if (!strcmp(argv[1], "await"))
		return cmd_await(argc, argv);
	if (!strcmp(argv[1], "numa"))
		return cmd_numa(argc, argv);
	usage();
}

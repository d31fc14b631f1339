/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the benchmark binaries; see common.h. */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

#define CPU_DEFAULT (-2)

struct bench_report {
	FILE *f;          /* NULL: no JSON */
	bool to_stdout;
	const char *benchmark;
	unsigned ncases;
	int err;
};

static volatile uint64_t sink;

void bench_consume(uint64_t v)
{
	sink ^= v;
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f, const char *prog, const char *what)
{
	fprintf(f,
		"usage: %s [--json FILE] [--quick] [--repeat N] [--cpu N] "
		"[--only TEXT] [--devices LIST]\n"
		"%s\n"
		"  --json FILE   write the JSON report to FILE ('-': stdout)\n"
		"  --quick       few iterations: a smoke test, not a figure\n"
		"  --repeat N    timed runs per case, median reported "
		"(default 11)\n"
		"  --cpu N       pin to CPU N (default: the last allowed; -1: "
		"no pinning)\n"
		"  --only TEXT   run only the cases whose name contains TEXT\n"
		"                (TEXT$: whose name ends with TEXT)\n"
		"  --devices LIST  comma-separated devices to run on (e.g. "
		"/dev/dax0.0,/dev/dax1.0)\n"
		"                instead of emulated ones; THEIR CONTENTS ARE "
		"DESTROYED\n"
		"example: %s --json out/%s.json\n",
		prog, what, prog, prog);
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int bench_no_devices(const struct bench_opts *o, const char *prog)
{
	if (!o->devices)
		return 0;
	fprintf(stderr,
		"%s: --devices: this benchmark uses no shared devices (or only "
		"its own emulated ones); run bench_io, bench_shim, bench_heap "
		"or bench_famrtd on real devices\n",
		prog);
	return -1;
}

int bench_parse_args(int argc, char **argv, const char *what,
		     struct bench_opts *o)
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 :
						   argv[0];
	bool repeat_set = false;

	memset(o, 0, sizeof(*o));
	o->repeat = 11;
	o->cpu = CPU_DEFAULT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		long n;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout, prog, what);
			return 1;
		} else if (!strcmp(a, "--quick")) {
			o->quick = true;
			continue;
		}
		if (strcmp(a, "--json") && strcmp(a, "--repeat") &&
		    strcmp(a, "--cpu") && strcmp(a, "--only") &&
		    strcmp(a, "--devices")) {
			fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
			usage(stderr, prog, what);
			return -1;
		}
		if (!v) {
			fprintf(stderr, "%s: %s needs a value\n", prog, a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--json")) {
			o->json_path = v;
		} else if (!strcmp(a, "--only")) {
			o->only = v;
		} else if (!strcmp(a, "--devices")) {
			o->devices = v;
		} else if (!strcmp(a, "--repeat")) {
			if (parse_int(v, 1, 1000, &n)) {
				fprintf(stderr,
					"%s: --repeat wants 1 to 1000, not "
					"'%s'\n",
					prog, v);
				return -1;
			}
			o->repeat = (unsigned)n;
			repeat_set = true;
		} else {
			if (parse_int(v, -1, CPU_SETSIZE - 1, &n)) {
				fprintf(stderr,
					"%s: --cpu wants -1 or a CPU number, "
					"not '%s'\n",
					prog, v);
				return -1;
			}
			o->cpu = (int)n;
		}
	}
	if (o->quick && !repeat_set)
		o->repeat = 3;
	return 0;
}

int bench_pin(struct bench_opts *o)
{
	cpu_set_t set;
	int cpu = o->cpu;

	if (cpu == -1)
		return 0;
	if (cpu == CPU_DEFAULT) {
		/* The last CPU allowed: CPU 0 takes most interrupts. */
		if (sched_getaffinity(0, sizeof(set), &set) < 0)
			return -errno;
		for (int c = CPU_SETSIZE - 1; c >= 0; c--) {
			if (CPU_ISSET(c, &set)) {
				cpu = c;
				break;
			}
		}
		if (cpu < 0)
			return -ENODEV;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		int e = errno;

		fprintf(stderr, "bench: cannot pin to CPU %d: %s\n", cpu,
			strerror(e));
		o->cpu = -1;
		return -e;
	}
	o->cpu = cpu;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_stats(double *v, unsigned n, struct bench_stats *s)
{
	qsort(v, n, sizeof(*v), cmp_double);
	s->n = n;
	s->min = v[0];
	s->max = v[n - 1];
	s->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s->spread = s->median > 0 ? (s->max - s->min) / s->median : 0;
}

int bench_measure(const struct bench_opts *o, bench_body body, void *arg,
		  uint64_t n, struct bench_stats *ns, uint64_t *ops)
{
	double v[1000];
	uint64_t t0 = bench_now_ns(), done;

	done = body(arg, n);
	while (bench_now_ns() - t0 < 20000000u)
		done = body(arg, n);
	if (!done)
		return -EINVAL;
	for (unsigned r = 0; r < o->repeat; r++) {
		uint64_t t = bench_now_ns();

		done = body(arg, n);
		t = bench_now_ns() - t;
		v[r] = (double)t / (double)done;
	}
	bench_stats(v, o->repeat, ns);
	*ops = done;
	return 0;
}

bool bench_selected(const struct bench_opts *o, const char *name)
{
	size_t n, len;

	if (!o->only)
		return true;
	n = strlen(o->only);
	if (!n || o->only[n - 1] != '$')
		return strstr(name, o->only);
	/* "TEXT$": the name ends with TEXT (read/ilv/hot/64$ is not 64K). */
	len = strlen(name);
	return len >= n - 1 && !memcmp(name + len - (n - 1), o->only, n - 1);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double d)
{
	if (isfinite(d))
		fprintf(f, "%.6g", d);
	else
		fputs("null", f);
}

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[512];

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon += strspn(colon + 1, " \t") + 1;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, len, "%s", colon);
		break;
	}
	fclose(f);
}

struct bench_report *bench_report_open(const struct bench_opts *o,
				       const char *benchmark)
{
	struct bench_report *r = calloc(1, sizeof(*r));
	char model[256];

	if (!r)
		return NULL;
	r->benchmark = benchmark;
	if (o->json_path) {
		r->to_stdout = !strcmp(o->json_path, "-");
		r->f = r->to_stdout ? stdout : fopen(o->json_path, "we");
		if (!r->f) {
			fprintf(stderr, "%s: cannot write %s: %s\n", benchmark,
				o->json_path, strerror(errno));
			free(r);
			return NULL;
		}
	}
	cpu_model(model, sizeof(model));
	fprintf(stderr, "%s: %s, %s, %u runs a case, CPU %d (%s)\n",
		benchmark, o->quick ? "quick" : "full", model, o->repeat,
		o->cpu, o->cpu < 0 ? "not pinned" : "pinned");
	if (r->f) {
		fputs("{\"benchmark\": ", r->f);
		json_str(r->f, benchmark);
		fprintf(r->f, ", \"quick\": %s, \"repeat\": %u, \"cpu\": %d",
			o->quick ? "true" : "false", o->repeat, o->cpu);
		fputs(", \"cpu_model\": ", r->f);
		json_str(r->f, model);
		fputs(", \"cases\": [", r->f);
	}
	return r;
}

static void json_result(FILE *f, const struct bench_result *res)
{
	fputs("\"ns_per_op\": ", f);
	json_num(f, res->ns.median);
	fputs(", \"bytes_per_sec\": ", f);
	if (res->bytes_per_op > 0 && res->ns.median > 0)
		json_num(f, res->bytes_per_op * 1e9 / res->ns.median);
	else
		fputs("null", f);
}

int bench_report_add(struct bench_report *r, const struct bench_result *res,
		     const struct bench_result *base)
{
	FILE *f = r->f;
	double ratio = base && res->ns.median > 0 ?
			       base->ns.median / res->ns.median :
			       NAN;

	fprintf(stderr, "%s: %-36s %9.3f ns/op (min %.3f, max %.3f, spread "
			"%.1f%%; %u runs of %llu)",
		r->benchmark, res->name, res->ns.median, res->ns.min,
		res->ns.max, 100 * res->ns.spread, res->ns.n,
		(unsigned long long)res->iterations);
	if (res->bytes_per_op > 0)
		fprintf(stderr, ", %.3f GB/s",
			res->bytes_per_op / res->ns.median);
	if (base)
		fprintf(stderr, "; %s %.3f ns/op, ratio %.3f", base->name,
			base->ns.median, ratio);
	fputc('\n', stderr);
	if (!f)
		return 0;

	fputs(r->ncases++ ? ",\n  {" : "\n  {", f);
	fputs("\"name\": ", f);
	json_str(f, res->name);
	fputs(", \"params\": {", f);
	for (unsigned i = 0; i < res->nparams; i++) {
		const struct bench_param *p = &res->params[i];

		fputs(i ? ", " : "", f);
		json_str(f, p->key);
		fputs(": ", f);
		if (p->kind == BENCH_P_INT)
			fprintf(f, "%lld", (long long)p->i);
		else if (p->kind == BENCH_P_NUM)
			json_num(f, p->d);
		else
			json_str(f, p->s);
	}
	fprintf(f, "}, \"iterations\": %llu, ",
		(unsigned long long)res->iterations);
	json_result(f, res);
	fprintf(f, ", \"runs\": {\"n\": %u, \"min\": ", res->ns.n);
	json_num(f, res->ns.min);
	fputs(", \"max\": ", f);
	json_num(f, res->ns.max);
	fputs(", \"spread\": ", f);
	json_num(f, res->ns.spread);
	fputs("}, \"baseline\": ", f);
	if (base) {
		fputs("{\"name\": ", f);
		json_str(f, base->name);
		fputs(", ", f);
		json_result(f, base);
		fputs("}, \"ratio\": ", f);
		json_num(f, ratio);
	} else {
		fputs("null, \"ratio\": null", f);
	}
	fputc('}', f);
	if (ferror(f))
		r->err = -EIO;
	return r->err;
}

int bench_report_close(struct bench_report *r)
{
	int rc = r->err;

	if (r->f) {
		fputs("\n]}\n", r->f);
		if (r->to_stdout) {
			if (fflush(r->f))
				rc = -errno;
		} else if (fclose(r->f)) {
			rc = -errno;
		}
	}
	free(r);
	return rc;
}

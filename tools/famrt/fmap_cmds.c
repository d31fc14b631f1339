/* SPDX-License-Identifier: Apache-2.0 */
/* famrt fmap inspect | encode */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <famrt/fmap.h>

#include "famrt.h"
#include "fmapdesc.h"
#include "json.h"
#include "size.h"

enum {
	OPT_ALIGN = 256,
	OPT_DEVSIZES,
	OPT_RESOLVE,
	OPT_JSON,
	OPT_OUTPUT,
	OPT_NO_VALIDATE,
};

#define MAX_DEVICES 32u
/* Descriptions are small; a JSON one may carry inspect's resolve lists. */
#define DESC_MAX_SIZE FAMRT_JSON_DEFAULT_MAX_SIZE

const char famrt_fmap_examples[] =
	"famrt fmap encode -o f.fmap docs/examples/interleaved.txt\n"
	"famrt fmap inspect f.fmap --resolve 15M:1M\n"
	"famrt fmap inspect --json f.fmap | famrt fmap encode -o copy.fmap\n";

static const struct famrt_cli_opt inspect_opts[] = {
	{ "align", 0, true, "BYTES",
	  "alignment of offsets, lengths, chunks (default 2M)", OPT_ALIGN },
	{ "device-sizes", 0, true, "S0[,S1...]",
	  "sizes of devices 0, 1...: check device indexes and bounds",
	  OPT_DEVSIZES },
	{ "resolve", 'r', true, "OFF:LEN",
	  "print the runs of bytes [OFF, OFF+LEN) (repeatable)", OPT_RESOLVE },
	{ "json", 0, false, NULL, "print one JSON object instead of text",
	  OPT_JSON },
	{ NULL, 0, false, NULL, NULL, 0 },
};

const struct famrt_cli_spec famrt_fmap_inspect_spec = {
	.path = "famrt fmap inspect",
	.args = "FILE",
	.summary = "Validate one binary fmap message from FILE ('-' is stdin) "
		   "and show what it says.",
	.details =
		"Prints the file type, size, extent type, extents and strips.\n"
		"For each --resolve OFF:LEN it then prints one line per run of\n"
		"contiguous bytes, 'FILE_OFFSET DEVICE DEVICE_OFFSET LENGTH' in\n"
		"decimal, covering [OFF, min(OFF+LEN, file size)) in order; no\n"
		"other line of the text output is four decimal numbers.\n"
		"Sizes take K, M, G, T, P, E suffixes (binary) or 0x hex.\n"
		"Without --device-sizes, device indexes and bounds are not\n"
		"checked. An invalid message exits 1 with one line on stderr\n"
		"that names the rule, the field and the extent.\n",
	.opts = inspect_opts,
	.examples =
		"famrt fmap inspect f.fmap\n"
		"famrt fmap inspect f.fmap --resolve 15M:1M --resolve 0:4K\n"
		"famrt fmap inspect --device-sizes 1G,1G --json f.fmap\n"
		"famrt fmap inspect f.fmap -r 0:64M | awk 'NF == 4'\n",
};

static const struct famrt_cli_opt encode_opts[] = {
	{ "output", 'o', true, "FILE",
	  "write the message to FILE (atomically), not stdout", OPT_OUTPUT },
	{ "no-validate", 0, false, NULL,
	  "write the message even if it breaks the format's rules",
	  OPT_NO_VALIDATE },
	{ "align", 0, true, "BYTES",
	  "alignment to validate against (default 2M)", OPT_ALIGN },
	{ "device-sizes", 0, true, "S0[,S1...]",
	  "validate device indexes and bounds against these sizes",
	  OPT_DEVSIZES },
	{ NULL, 0, false, NULL, NULL, 0 },
};

const struct famrt_cli_spec famrt_fmap_encode_spec = {
	.path = "famrt fmap encode",
	.args = "[DESC|-]",
	.summary = "Write a binary fmap message from a text or JSON "
		   "description (DESC, or stdin).",
	.details =
		"JSON when the first non-space character is '{' (the shape\n"
		"'famrt fmap inspect --json' prints), else the text form, one\n"
		"directive per line, '#' starts a comment:\n"
		"  type regular|superblock|log      (default regular)\n"
		"  size BYTES                       (required)\n"
		"  simple DEVINDEX OFFSET LENGTH    (one line per simple extent)\n"
		"  interleave chunk=BYTES nbytes=BYTES\n"
		"    strip DEVINDEX OFFSET LENGTH   (one line per strip)\n"
		"The message is validated first; an invalid one is refused\n"
		"with the fmap error (exit 1) and nothing is written, unless\n"
		"--no-validate. A binary message is never written to a\n"
		"terminal.\n",
	.opts = encode_opts,
	.examples =
		"printf 'size 10M\\nsimple 0 0 4M\\nsimple 0 8M 6M\\n' | "
		"famrt fmap encode -o f.fmap\n"
		"famrt fmap encode -o f.fmap docs/examples/interleaved.txt\n"
		"famrt fmap inspect --json f.fmap | famrt fmap encode -o g.fmap\n"
		"famrt fmap encode --no-validate -o bad.fmap bad.txt\n",
};

struct range {
	uint64_t off;
	uint64_t len;
};

/* Options shared by inspect and encode. */
struct limits_opt {
	uint64_t align;
	uint64_t sizes[MAX_DEVICES];
	uint32_t ndev;
	bool set;
};

static int parse_align(const struct famrt_cli_spec *spec, const char *arg,
		       struct limits_opt *l)
{
	int rc = famrt_size_parse(arg, &l->align);

	if (rc)
		return famrt_cli_usage_error(spec, "--align '%s' %s", arg,
					     famrt_size_strerror(rc));
	if (!l->align || (l->align & (l->align - 1)))
		return famrt_cli_usage_error(spec,
					     "--align %s is not a power of two",
					     arg);
	l->set = true;
	return 0;
}

static int parse_devsizes(const struct famrt_cli_spec *spec, const char *arg,
			  struct limits_opt *l)
{
	const char *p = arg;

	l->ndev = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		int rc;

		if (l->ndev == MAX_DEVICES)
			return famrt_cli_usage_error(spec,
						     "--device-sizes: more "
						     "than %u devices",
						     MAX_DEVICES);
		rc = famrt_size_parse_n(p, n, &l->sizes[l->ndev]);
		if (rc)
			return famrt_cli_usage_error(spec,
						     "--device-sizes: size %u "
						     "'%.*s' %s",
						     l->ndev, (int)n, p,
						     famrt_size_strerror(rc));
		l->ndev++;
		if (!comma)
			break;
		p = comma + 1;
	}
	l->set = true;
	return 0;
}

static void make_limits(const struct limits_opt *l,
			struct famrt_fmap_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->size = sizeof(*lim);
	lim->align = l->align;
	lim->ndevices = l->ndev;
	lim->dev_size = l->ndev ? l->sizes : NULL;
}

static int parse_range(const struct famrt_cli_spec *spec, const char *arg,
		       struct range *r)
{
	const char *colon = strchr(arg, ':');
	int rc;

	if (!colon)
		return famrt_cli_usage_error(spec,
					     "--resolve '%s': expected OFF:LEN",
					     arg);
	rc = famrt_size_parse_n(arg, (size_t)(colon - arg), &r->off);
	if (rc)
		return famrt_cli_usage_error(spec,
					     "--resolve '%s': offset %s", arg,
					     famrt_size_strerror(rc));
	rc = famrt_size_parse(colon + 1, &r->len);
	if (rc)
		return famrt_cli_usage_error(spec,
					     "--resolve '%s': length %s", arg,
					     famrt_size_strerror(rc));
	return 0;
}

static const char *human(uint64_t v, char buf[FAMRT_SIZE_HUMAN_MAX])
{
	return famrt_size_human(v, buf);
}

void famrt_fmap_print_text(FILE *f, const struct famrt_fmap *map)
{
	char h1[FAMRT_SIZE_HUMAN_MAX], h2[FAMRT_SIZE_HUMAN_MAX],
		h3[FAMRT_SIZE_HUMAN_MAX];
	unsigned ft = famrt_fmap_file_type(map), et = famrt_fmap_ext_type(map);
	uint32_t n = famrt_fmap_nextents(map);

	fprintf(f, "file_type:    %s (%u)\n",
		famrt_fmapdesc_file_type_name(ft), ft);
	fprintf(f, "fmap_version: %u\n", FAMRT_FMAP_VERSION);
	fprintf(f, "ext_type:     %s (%u)\n", famrt_fmapdesc_ext_type_name(et),
		et);
	fprintf(f, "file_size:    %" PRIu64 " (%s)\n",
		famrt_fmap_file_size(map), human(famrt_fmap_file_size(map), h1));
	fprintf(f, "nextents:     %u\n", n);
	for (uint32_t i = 0; i < n; i++) {
		struct famrt_fmap_extent x;

		if (famrt_fmap_get_extent(map, i, &x))
			break;
		fprintf(f, "extent %u: file_offset %" PRIu64 " (%s), "
			   "file_bytes %" PRIu64 " (%s), ",
			i, x.file_offset, human(x.file_offset, h1),
			x.file_bytes, human(x.file_bytes, h2));
		if (et == FAMRT_FMAP_EXT_SIMPLE) {
			fprintf(f, "devindex %u, offset %" PRIu64 " (%s), len %"
				   PRIu64 " (%s)\n",
				x.strips[0].devindex, x.strips[0].offset,
				human(x.strips[0].offset, h1), x.strips[0].len,
				human(x.strips[0].len, h3));
			continue;
		}
		fprintf(f, "nbytes %" PRIu64 " (%s), chunk_size %u (%s), "
			   "nstrips %u\n",
			x.nbytes, human(x.nbytes, h1), x.chunk_size,
			human(x.chunk_size, h3), x.nstrips);
		for (uint32_t j = 0; j < x.nstrips; j++)
			fprintf(f, "  strip %u: devindex %u, offset %" PRIu64
				   " (%s), len %" PRIu64 " (%s)\n",
				j, x.strips[j].devindex, x.strips[j].offset,
				human(x.strips[j].offset, h1), x.strips[j].len,
				human(x.strips[j].len, h2));
	}
}

static void print_text(const struct famrt_fmap *map, const struct range *rv,
		       size_t nr)
{
	famrt_fmap_print_text(stdout, map);
	for (size_t r = 0; r < nr; r++) {
		struct famrt_fmap_iter it;
		struct famrt_fmap_run run;
		uint64_t count = 0;

		famrt_fmap_iter_init(&it, map, rv[r].off, rv[r].len);
		while (famrt_fmap_iter_next(&it, &run))
			count++;
		printf("resolve %" PRIu64 " %" PRIu64 ": %" PRIu64 " run%s\n",
		       rv[r].off, rv[r].len, count, count == 1 ? "" : "s");
		famrt_fmap_iter_init(&it, map, rv[r].off, rv[r].len);
		while (famrt_fmap_iter_next(&it, &run))
			printf("%" PRIu64 " %u %" PRIu64 " %" PRIu64 "\n",
			       run.file_off, run.dev, run.dev_off, run.len);
	}
}

static int print_json(const struct famrt_fmap *map, const struct range *rv,
		      size_t nr)
{
	struct famrt_jw w;

	famrt_jw_init(&w, stdout, true);
	famrt_jw_obj_begin(&w, NULL);
	famrt_fmapdesc_write_json(&w, map);
	famrt_jw_arr_begin(&w, "resolve");
	for (size_t r = 0; r < nr; r++) {
		struct famrt_fmap_iter it;
		struct famrt_fmap_run run;

		famrt_jw_obj_begin(&w, NULL);
		famrt_jw_u64(&w, "off", rv[r].off);
		famrt_jw_u64(&w, "len", rv[r].len);
		famrt_jw_arr_begin(&w, "runs");
		famrt_fmap_iter_init(&it, map, rv[r].off, rv[r].len);
		while (famrt_fmap_iter_next(&it, &run)) {
			famrt_jw_obj_begin(&w, NULL);
			famrt_jw_u64(&w, "off", run.file_off);
			famrt_jw_u64(&w, "dev", run.dev);
			famrt_jw_u64(&w, "devoff", run.dev_off);
			famrt_jw_u64(&w, "len", run.len);
			famrt_jw_obj_end(&w);
		}
		famrt_jw_arr_end(&w);
		famrt_jw_obj_end(&w);
	}
	famrt_jw_arr_end(&w);
	famrt_jw_obj_end(&w);
	return famrt_jw_finish(&w);
}

/* The one line for a message over the size limit, as the library says it. */
static void print_too_large(uint64_t total)
{
	if (total)
		fprintf(stderr,
			"fmap: message is %" PRIu64 " bytes, more than the %u "
			"allowed (rule %s, byte %u of the message)\n",
			total, FAMRT_FMAP_MSG_MAX,
			famrt_fmap_rule_name(FAMRT_FMAP_RULE_TOO_LARGE),
			FAMRT_FMAP_MSG_MAX);
	else
		fprintf(stderr,
			"fmap: message is more than the %u bytes allowed "
			"(rule %s, byte %u of the message)\n",
			FAMRT_FMAP_MSG_MAX,
			famrt_fmap_rule_name(FAMRT_FMAP_RULE_TOO_LARGE),
			FAMRT_FMAP_MSG_MAX);
}

static int finish_stdout(const char *path)
{
	if (fflush(stdout) || ferror(stdout))
		return famrt_cli_fail(FAMRT_EXIT_SYSTEM, path,
				      "writing the output: %s",
				      strerror(errno ? errno : EIO));
	return FAMRT_EXIT_OK;
}

int famrt_cmd_fmap_inspect(int argc, char **argv)
{
	const struct famrt_cli_spec *spec = &famrt_fmap_inspect_spec;
	struct famrt_cli_getopt g = { 0 };
	struct limits_opt lo = { 0 };
	struct famrt_fmap_limits lim;
	struct famrt_fmap_error ferr;
	struct famrt_fmap *map = NULL;
	struct range *rv = NULL;
	size_t nr = 0, len;
	bool json = false;
	const char *path;
	uint64_t total;
	char *buf = NULL;
	int c, rc, ret;

	while ((c = famrt_cli_getopt(&g, spec, argc, argv)) != -1) {
		switch (c) {
		case FAMRT_CLI_HELP:
			ret = FAMRT_EXIT_OK;
			goto out;
		case FAMRT_CLI_ERROR:
			ret = FAMRT_EXIT_USAGE;
			goto out;
		case OPT_ALIGN:
			ret = parse_align(spec, g.arg, &lo);
			if (ret)
				goto out;
			break;
		case OPT_DEVSIZES:
			ret = parse_devsizes(spec, g.arg, &lo);
			if (ret)
				goto out;
			break;
		case OPT_RESOLVE: {
			struct range *n = realloc(rv, (nr + 1) * sizeof(*rv));

			if (!n) {
				ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM,
						     spec->path,
						     "out of memory");
				goto out;
			}
			rv = n;
			ret = parse_range(spec, g.arg, &rv[nr]);
			if (ret)
				goto out;
			nr++;
			break;
		}
		case OPT_JSON:
			json = true;
			break;
		}
	}
	if (optind >= argc) {
		ret = famrt_cli_usage_error(spec,
					    "a FILE is needed ('-' for stdin)");
		goto out;
	}
	if (optind + 1 < argc) {
		ret = famrt_cli_usage_error(spec, "unexpected argument '%s'",
					    argv[optind + 1]);
		goto out;
	}
	path = argv[optind];

	rc = famrt_cli_read_file(path, FAMRT_FMAP_MSG_MAX, &buf, &len, &total);
	if (rc == -EFBIG) {
		print_too_large(total);
		ret = FAMRT_EXIT_INVALID;
		goto out;
	}
	if (rc) {
		ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				     "cannot read '%s': %s", path,
				     strerror(-rc));
		goto out;
	}
	make_limits(&lo, &lim);
	rc = famrt_fmap_decode(buf, len, &lim, &map, &ferr);
	if (rc) {
		fprintf(stderr, "%s\n", ferr.message);
		ret = rc == -ENOMEM ? FAMRT_EXIT_SYSTEM : FAMRT_EXIT_INVALID;
		goto out;
	}
	if (json) {
		rc = print_json(map, rv, nr);
		if (rc) {
			ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					     "writing the output: %s",
					     strerror(-rc));
			goto out;
		}
	} else {
		print_text(map, rv, nr);
	}
	ret = finish_stdout(spec->path);
out:
	famrt_fmap_free(map);
	free(buf);
	free(rv);
	return ret;
}

int famrt_cmd_fmap_encode(int argc, char **argv)
{
	const struct famrt_cli_spec *spec = &famrt_fmap_encode_spec;
	struct famrt_cli_getopt g = { 0 };
	struct limits_opt lo = { 0 };
	struct famrt_fmap_limits lim;
	struct famrt_fmap_error ferr;
	struct famrt_fmapdesc_error derr;
	struct famrt_fmap_desc *desc = NULL;
	struct famrt_fmap *map = NULL;
	const char *in = "-", *out = NULL, *name;
	bool validate = true;
	uint8_t *msg = NULL;
	char *buf = NULL;
	size_t len;
	uint64_t total;
	ssize_t n;
	int c, rc, ret;

	while ((c = famrt_cli_getopt(&g, spec, argc, argv)) != -1) {
		switch (c) {
		case FAMRT_CLI_HELP:
			return FAMRT_EXIT_OK;
		case FAMRT_CLI_ERROR:
			return FAMRT_EXIT_USAGE;
		case OPT_OUTPUT:
			out = g.arg;
			break;
		case OPT_NO_VALIDATE:
			validate = false;
			break;
		case OPT_ALIGN:
			ret = parse_align(spec, g.arg, &lo);
			if (ret)
				return ret;
			break;
		case OPT_DEVSIZES:
			ret = parse_devsizes(spec, g.arg, &lo);
			if (ret)
				return ret;
			break;
		}
	}
	if (optind < argc)
		in = argv[optind];
	if (optind + 1 < argc)
		return famrt_cli_usage_error(spec, "unexpected argument '%s'",
					     argv[optind + 1]);
	if (!validate && lo.set)
		return famrt_cli_usage_error(spec,
					     "--no-validate cannot be combined "
					     "with --align or --device-sizes");
	if (out && !*out)
		return famrt_cli_usage_error(spec,
					     "--output needs a file name");
	if (out && !strcmp(out, "-"))
		out = NULL;
	if (!out && isatty(STDOUT_FILENO))
		return famrt_cli_usage_error(spec,
					     "will not write a binary message "
					     "to a terminal (use -o FILE or "
					     "redirect stdout)");
	name = strcmp(in, "-") ? in : "<stdin>";

	rc = famrt_cli_read_file(in, DESC_MAX_SIZE, &buf, &len, &total);
	if (rc == -EFBIG) {
		ret = famrt_cli_fail(FAMRT_EXIT_INVALID, spec->path,
				     "%s: a description is at most %u bytes",
				     name, DESC_MAX_SIZE);
		goto out;
	}
	if (rc) {
		ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				     "cannot read '%s': %s", name,
				     strerror(-rc));
		goto out;
	}
	desc = calloc(1, sizeof(*desc));
	msg = malloc(FAMRT_FMAP_MSG_MAX);
	if (!desc || !msg) {
		ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				     "out of memory");
		goto out;
	}
	rc = famrt_fmapdesc_parse(buf, len, desc, &derr);
	if (rc) {
		if (derr.line)
			ret = famrt_cli_fail(rc == -ENOMEM ? FAMRT_EXIT_SYSTEM :
							     FAMRT_EXIT_INVALID,
					     spec->path, "%s:%u:%u: %s", name,
					     derr.line, derr.col,
					     derr.message);
		else
			ret = famrt_cli_fail(rc == -ENOMEM ? FAMRT_EXIT_SYSTEM :
							     FAMRT_EXIT_INVALID,
					     spec->path, "%s: %s", name,
					     derr.message);
		goto out;
	}
	if (validate) {
		make_limits(&lo, &lim);
		rc = famrt_fmap_build(desc, &lim, &map, &ferr);
		if (rc) {
			fprintf(stderr, "%s\n", ferr.message);
			ret = rc == -ENOMEM ? FAMRT_EXIT_SYSTEM :
					      FAMRT_EXIT_INVALID;
			goto out;
		}
		n = famrt_fmap_encode(map, msg, FAMRT_FMAP_MSG_MAX);
	} else {
		n = famrt_fmap_desc_encode(desc, msg, FAMRT_FMAP_MSG_MAX);
	}
	if (n < 0) {
		ret = famrt_cli_fail(FAMRT_EXIT_INVALID, spec->path,
				     "%s: the description cannot be encoded: "
				     "%s",
				     name, strerror((int)-n));
		goto out;
	}
	if (out) {
		rc = famrt_cli_write_file(out, msg, (size_t)n);
		if (rc) {
			ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					     "cannot write '%s': %s", out,
					     strerror(-rc));
			goto out;
		}
	} else {
		rc = famrt_cli_write_all(STDOUT_FILENO, msg, (size_t)n);
		if (rc) {
			ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					     "writing to stdout: %s",
					     strerror(-rc));
			goto out;
		}
	}
	ret = FAMRT_EXIT_OK;
out:
	famrt_fmap_free(map);
	free(desc);
	free(msg);
	free(buf);
	return ret;
}

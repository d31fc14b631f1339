/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt verify: check that a file's map stays inside its devices and read
 * every byte (throughput); or write a seeded pattern through the map,
 * flush, invalidate, read it back and compare.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <famrt/fmap.h>

#include "cmd_common.h"
#include "dax/dax.h"
#include "famrt.h"
#include "json.h"
#include "size.h"

enum {
	OPT_OVERWRITE = FAMRT_OPT_FIRST_OWN,
	OPT_CHECK,
	OPT_SEED,
	OPT_JSON,
};

static const struct famrt_cli_opt verify_opts[] = {
	FAMRT_FS_OPT_ROWS,
	{ "overwrite", 0, false, NULL,
	  "write the pattern of --seed, then compare",
	  OPT_OVERWRITE },
	{ "check", 0, false, NULL,
	  "compare with the pattern, write nothing", OPT_CHECK },
	{ "seed", 0, true, "N", "the pattern's seed (default 1)", OPT_SEED },
	{ "json", 0, false, NULL, "print one JSON object", OPT_JSON },
	{ NULL, 0, false, NULL, NULL, 0 },
};

const struct famrt_cli_spec famrt_verify_spec = {
	.path = "famrt verify",
	.args = "PATH",
	.summary = "Check a file's map; read, or write and compare, every "
		   "byte.",
	.details =
		"Always: every run of the file's map must lie inside its\n"
		"device, and the runs must cover the file exactly. Then:\n"
		"  (default)    read every byte, report the throughput;\n"
		"  --overwrite  write a pattern made from --seed through the\n"
		"               map (THE FILE'S DATA IS LOST), flush it to the\n"
		"               memory, invalidate the cache, read it back and\n"
		"               compare;\n"
		"  --check      compare with the pattern, writing nothing (finds\n"
		"               what changed since an --overwrite).\n"
		"Byte o of the pattern is byte o%8 (little-endian) of a 64-bit\n"
		"mix of the seed and o/8. The first mismatch is reported with\n"
		"its file offset, device and device offset; exit 1.\n"
		"--json prints {path, size, action, seed, runs, devices,\n"
		"inside, write_ns, read_ns, mismatch}; seed and write_ns are\n"
		"null when unused; mismatch is null or {file_offset, device,\n"
		"device_offset, expected, found}.\n",
	.opts = verify_opts,
	.examples =
		"famrt verify --fs /dev/dax0.0,/dev/dax1.0 /data/a.bin\n"
		"famrt verify --overwrite --seed 7 :/scratch/t.bin\n"
		"famrt verify --check --seed 7 --json :/scratch/t.bin\n",
};

static inline uint64_t mix(uint64_t seed, uint64_t k)
{
	uint64_t z = k + seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint8_t pattern_byte(uint64_t seed, uint64_t off)
{
	return (uint8_t)(mix(seed, off >> 3) >> ((off & 7) * 8));
}

static inline uint64_t le64(uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return __builtin_bswap64(v);
#else
	return v;
#endif
}

/* Fill p (file bytes [off, off+len)) with the pattern. */
static void pattern_write(uint8_t *p, uint64_t off, uint64_t len,
			  uint64_t seed)
{
	uint64_t i = 0;

	for (; i < len && ((off + i) & 7); i++)
		p[i] = pattern_byte(seed, off + i);
	for (; i + 8 <= len; i += 8) {
		uint64_t v = le64(mix(seed, (off + i) >> 3));

		memcpy(p + i, &v, 8);
	}
	for (; i < len; i++)
		p[i] = pattern_byte(seed, off + i);
}

/* Index of the first byte of p that differs from the pattern, or len. */
static uint64_t pattern_compare(const uint8_t *p, uint64_t off, uint64_t len,
				uint64_t seed)
{
	uint64_t i = 0;

	for (; i < len && ((off + i) & 7); i++)
		if (p[i] != pattern_byte(seed, off + i))
			return i;
	for (; i + 8 <= len; i += 8) {
		uint64_t v, want = le64(mix(seed, (off + i) >> 3));

		memcpy(&v, p + i, 8);
		if (v != want)
			break;
	}
	for (; i < len; i++)
		if (p[i] != pattern_byte(seed, off + i))
			return i;
	return len;
}

/* Read every byte (an xor of its 64-bit words, so none is skipped). */
static uint64_t read_all(const uint8_t *p, uint64_t len)
{
	uint64_t acc = 0, i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t v;

		memcpy(&v, p + i, 8);
		acc ^= v;
	}
	for (; i < len; i++)
		acc ^= p[i];
	return acc;
}

struct mismatch {
	bool found;
	uint64_t file_off, dev_off;
	uint32_t dev;
	uint8_t expected, got;
};

static uint64_t now_ns(void)
{
	return (uint64_t)(famrt_now_s() * 1e9);
}

int famrt_cmd_verify(int argc, char **argv)
{
	const struct famrt_cli_spec *spec = &famrt_verify_spec;
	struct famrt_cli_getopt g = { 0 };
	struct famrt_fsopt fo = { 0 };
	struct famrt_backend *be = NULL;
	struct famrt_fmap *map = NULL;
	struct famrt_proto_attr a;
	struct famrt_fmap_iter it;
	struct famrt_fmap_run run;
	struct famrt_err e;
	struct mismatch mm = { 0 };
	uint8_t *base[FAMRT_MAX_DEVS] = { 0 };
	uint8_t *msg = NULL;
	char path[FAMRT_CMD_PATH_MAX], where[256] = "";
	bool overwrite = false, check = false, json = false, inside = true;
	bool seed_set = false;
	uint64_t seed = 1, nruns = 0, covered = 0, sink = 0;
	uint64_t write_ns = 0, read_ns = 0, t;
	uint32_t devmask = 0;
	size_t len;
	int c, ret, rc;

	while ((c = famrt_cli_getopt(&g, spec, argc, argv)) != -1) {
		if (famrt_fsopt_take(&fo, c, g.arg))
			continue;
		switch (c) {
		case FAMRT_CLI_HELP:
			return FAMRT_EXIT_OK;
		case FAMRT_CLI_ERROR:
			return FAMRT_EXIT_USAGE;
		case OPT_OVERWRITE:
			overwrite = true;
			break;
		case OPT_CHECK:
			check = true;
			break;
		case OPT_SEED:
			if (famrt_size_parse(g.arg, &seed))
				return famrt_cli_usage_error(
					spec,
					"--seed '%s': a number (decimal or "
					"0x hex)",
					g.arg);
			seed_set = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		}
	}
	if (optind >= argc)
		return famrt_cli_usage_error(spec, "a PATH is needed");
	if (optind + 1 < argc)
		return famrt_cli_usage_error(spec, "unexpected argument '%s'",
					     argv[optind + 1]);
	if (overwrite && check)
		return famrt_cli_usage_error(spec,
					     "--overwrite already checks: use "
					     "one of --overwrite and --check");
	if (seed_set && !overwrite && !check)
		return famrt_cli_usage_error(spec,
					     "--seed needs --overwrite or "
					     "--check");
	ret = famrt_cmd_fspath(spec, argv[optind], path, sizeof(path));
	if (ret)
		return ret;
	ret = famrt_cmd_open(spec, &fo, !overwrite, &be);
	if (ret)
		return ret;
	famrt_err_clear(&e);
	msg = malloc(FAMRT_FMAP_MSG_MAX);
	if (!msg) {
		ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
				     "out of memory");
		goto out;
	}
	ret = famrt_cmd_file_fmap(spec, be, path, "verify checks files", &a,
				  msg, &len);
	if (ret)
		goto out;
	{
		/* Decode without device limits: the check is done here. */
		struct famrt_fmap_limits lim = { .size = sizeof(lim),
						 .align = 4096 };
		struct famrt_fmap_error ferr;

		rc = famrt_fmap_decode(msg, len, &lim, &map, &ferr);
		if (rc) {
			ret = famrt_cli_fail(rc == -ENOMEM ? FAMRT_EXIT_SYSTEM :
							     FAMRT_EXIT_INVALID,
					     spec->path, "map of '%s': %s",
					     path, ferr.message);
			goto out;
		}
	}

	/* Every run inside its device; the runs cover the file exactly. */
	famrt_fmap_iter_init(&it, map, 0, UINT64_MAX);
	while (famrt_fmap_iter_next(&it, &run)) {
		const struct famrt_backend_dev *d =
			run.dev < be->info.ndevs ? &be->info.dev[run.dev] :
						   NULL;

		nruns++;
		if (run.file_off != covered) {
			inside = false;
			snprintf(where, sizeof(where),
				 "run %" PRIu64 " starts at file offset %"
				 PRIu64 ", not %" PRIu64,
				 nruns - 1, run.file_off, covered);
			break;
		}
		if (!d || run.dev_off > d->size ||
		    run.len > d->size - run.dev_off) {
			inside = false;
			snprintf(where, sizeof(where),
				 "file bytes [%" PRIu64 ", %" PRIu64
				 ") would be at device %u offset %" PRIu64
				 ", outside the device (%s%" PRIu64 " bytes)",
				 run.file_off, run.file_off + run.len,
				 run.dev, run.dev_off,
				 d ? "" : "no such device; ",
				 d ? d->size : 0);
			break;
		}
		devmask |= 1u << run.dev;
		covered += run.len;
	}
	if (inside && covered != a.size) {
		inside = false;
		snprintf(where, sizeof(where),
			 "the runs cover %" PRIu64 " bytes of a %" PRIu64
			 "-byte file",
			 covered, a.size);
	}
	for (uint32_t i = 0; inside && i < 32; i++) {
		struct famrt_backend_map m;

		if (!(devmask & (1u << i)))
			continue;
		rc = famrt_backend_device_map(be, i, &m, &e);
		if (rc) {
			ret = famrt_cmd_fail(spec, rc, &e);
			goto out;
		}
		base[i] = m.base;
	}

	if (inside && overwrite) {
		t = now_ns();
		famrt_fmap_iter_init(&it, map, 0, a.size);
		while (famrt_fmap_iter_next(&it, &run)) {
			uint8_t *p = base[run.dev] + run.dev_off;

			famrt_populate(p, run.len, true);
			pattern_write(p, run.file_off, run.len, seed);
			famrt_flush_range(p, run.len);
		}
		write_ns = now_ns() - t;
	}
	if (inside) {
		t = now_ns();
		famrt_fmap_iter_init(&it, map, 0, a.size);
		while (!mm.found && famrt_fmap_iter_next(&it, &run)) {
			uint8_t *p = base[run.dev] + run.dev_off;
			uint64_t i;

			famrt_populate(p, run.len, false);
			if (overwrite || be->info.noncoherent)
				famrt_invalidate_range(p, run.len);
			if (!overwrite && !check) {
				sink ^= read_all(p, run.len);
				continue;
			}
			i = pattern_compare(p, run.file_off, run.len, seed);
			if (i < run.len) {
				mm.found = true;
				mm.file_off = run.file_off + i;
				mm.dev = run.dev;
				mm.dev_off = run.dev_off + i;
				mm.expected = pattern_byte(seed, mm.file_off);
				mm.got = p[i];
			}
		}
		read_ns = now_ns() - t;
	}

	if (json) {
		struct famrt_jw w;

		famrt_jw_init(&w, stdout, true);
		famrt_jw_obj_begin(&w, NULL);
		famrt_jw_str(&w, "path", path);
		famrt_jw_u64(&w, "size", a.size);
		famrt_jw_str(&w, "action", overwrite ? "overwrite" :
					   check     ? "check" :
						       "read");
		if (overwrite || check)
			famrt_jw_u64(&w, "seed", seed);
		else
			famrt_jw_null(&w, "seed");
		famrt_jw_u64(&w, "runs", nruns);
		famrt_jw_arr_begin(&w, "devices");
		for (uint32_t i = 0; i < 32; i++)
			if (devmask & (1u << i))
				famrt_jw_u64(&w, NULL, i);
		famrt_jw_arr_end(&w);
		famrt_jw_bool(&w, "inside", inside);
		if (overwrite && inside)
			famrt_jw_u64(&w, "write_ns", write_ns);
		else
			famrt_jw_null(&w, "write_ns");
		if (inside)
			famrt_jw_u64(&w, "read_ns", read_ns);
		else
			famrt_jw_null(&w, "read_ns");
		if (mm.found) {
			famrt_jw_obj_begin(&w, "mismatch");
			famrt_jw_u64(&w, "file_offset", mm.file_off);
			famrt_jw_u64(&w, "device", mm.dev);
			famrt_jw_u64(&w, "device_offset", mm.dev_off);
			famrt_jw_u64(&w, "expected", mm.expected);
			famrt_jw_u64(&w, "found", mm.got);
			famrt_jw_obj_end(&w);
		} else {
			famrt_jw_null(&w, "mismatch");
		}
		famrt_jw_obj_end(&w);
		rc = famrt_jw_finish(&w);
		if (rc) {
			ret = famrt_cli_fail(FAMRT_EXIT_SYSTEM, spec->path,
					     "writing the output: %s",
					     strerror(-rc));
			goto out;
		}
	} else {
		char h[FAMRT_SIZE_HUMAN_MAX], r[32];

		if (inside)
			printf("':%s': %" PRIu64 " bytes (%s) in %" PRIu64
			       " run%s, all inside their devices\n",
			       path, a.size, famrt_size_human(a.size, h),
			       nruns, nruns == 1 ? "" : "s");
		if (inside && overwrite) {
			famrt_rate_string(a.size, (double)write_ns / 1e9, r);
			printf("wrote the pattern of seed %" PRIu64
			       " (with flush): %.3f s, %s\n",
			       seed, (double)write_ns / 1e9, r);
		}
		if (inside && !mm.found) {
			famrt_rate_string(a.size, (double)read_ns / 1e9, r);
			printf("%s: %.3f s, %s\n",
			       overwrite || check ? "read back and compared" :
						    "read",
			       (double)read_ns / 1e9, r);
		}
	}
	ret = famrt_cmd_finish_stdout(spec);
	if (ret)
		goto out;
	if (!inside) {
		ret = famrt_cli_fail(FAMRT_EXIT_INVALID, spec->path,
				     "'%s': %s", path, where);
	} else if (mm.found) {
		ret = famrt_cli_fail(FAMRT_EXIT_INVALID, spec->path,
				     "'%s': mismatch at file offset %" PRIu64
				     " (device %u, device offset %" PRIu64
				     "): expected 0x%02x, found 0x%02x",
				     path, mm.file_off, mm.dev, mm.dev_off,
				     mm.expected, mm.got);
	}
	if (sink == 0x5eed5eed5eed5eedull) /* keep the reads */
		fputc('\n', stderr);
out:
	famrt_fmap_free(map);
	free(msg);
	famrt_backend_close(be);
	return ret;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt devices: the JSON shape never changes (same keys, in order, for
 * every device; "devices" always an array; unknown numbers are null), the
 * table, and the command itself on this host (its JSON parsed back with the
 * tools' own strict parser, the count compared with sysfs).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../tools/famrt/cmd_devices.h"
#include "../../tools/famrt/famrt.h"
#include "json.h"

static const char *const keys[] = {
	"devname", "path",	  "mode",	 "driver",    "region", "size",
	"align",   "numa_node", "target_node", "near_cpus", "fs_uuid",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Run fn with stdout going to a memory file; returns what it printed. */
static char *capture(int (*fn)(void *), void *arg, int *ret)
{
	int fd = memfd_create("famrt-test-out", MFD_CLOEXEC), saved;
	off_t len;
	char *buf;

	assert_true(fd >= 0);
	fflush(stdout);
	saved = dup(1);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, 1), 1);
	*ret = fn(arg);
	fflush(stdout);
	assert_int_equal(dup2(saved, 1), 1);
	close(saved);
	len = lseek(fd, 0, SEEK_END);
	assert_true(len >= 0);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)len, 0), len);
	close(fd);
	return buf;
}

static struct famrt_json_doc *parse(const char *s)
{
	struct famrt_json_doc *doc = NULL;
	struct famrt_json_error err;

	if (famrt_json_parse(s, strlen(s), NULL, &doc, &err))
		fail_msg("not JSON (%s): %s", err.message, s);
	return doc;
}

/* The root is {"devices": [...]} and nothing else; returns the array. */
static const struct famrt_json_value *
devices_array(const struct famrt_json_doc *doc)
{
	const struct famrt_json_value *root = famrt_json_root(doc), *arr;

	assert_int_equal(root->type, FAMRT_JSON_OBJECT);
	assert_int_equal(root->count, 1);
	arr = famrt_json_get(root, "devices");
	assert_non_null(arr);
	assert_int_equal(arr->type, FAMRT_JSON_ARRAY);
	return arr;
}

/* Every element has exactly the documented keys, in order. */
static void check_shape(const struct famrt_json_value *dev)
{
	const struct famrt_json_value *m = dev->child;

	assert_int_equal(dev->type, FAMRT_JSON_OBJECT);
	assert_int_equal(dev->count, NKEYS);
	for (size_t k = 0; k < NKEYS; k++, m = m->next) {
		assert_non_null(m);
		assert_int_equal(m->key_len, strlen(keys[k]));
		assert_memory_equal(m->key, keys[k], m->key_len);
	}
	assert_null(m);
	assert_int_equal(famrt_json_get(dev, "devname")->type,
			 FAMRT_JSON_STRING);
	assert_int_equal(famrt_json_get(dev, "size")->type, FAMRT_JSON_NUMBER);
	assert_int_equal(famrt_json_get(dev, "align")->type, FAMRT_JSON_NUMBER);
	assert_int_equal(famrt_json_get(dev, "near_cpus")->type,
			 FAMRT_JSON_STRING);
}

/*
 * noinline: once inlined, gcc -O3 takes the stream's buffer for a pointer
 * to the local that open_memstream writes it to (-Wdangling-pointer).
 */
__attribute__((noinline)) static char *
write_to_string(const struct famrt_daxinfo *v, size_t n, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(famrt_devices_write(f, v, n, json), 0);
	fclose(f);
	return buf;
}

static void make_devices(struct famrt_daxinfo v[2])
{
	memset(v, 0, 2 * sizeof(v[0]));
	strcpy(v[0].devname, "dax0.0");
	strcpy(v[0].path, "/dev/dax0.0");
	strcpy(v[0].mode, "devdax");
	strcpy(v[0].driver, "device_dax");
	strcpy(v[0].region, "region0");
	v[0].size = (1ull << 40) + (2ull << 20);
	v[0].align = 2ull << 20;
	v[0].numa_node = 0;
	v[0].target_node = 2;
	strcpy(v[0].near_cpus, "0-3,8");

	strcpy(v[1].devname, "dax1.0");
	strcpy(v[1].path, "/dev/dax1.0");
	strcpy(v[1].mode, "fsdev");
	strcpy(v[1].driver, "fsdev_dax");
	strcpy(v[1].region, "region1");
	v[1].size = UINT64_MAX - ((1ull << 30) - 1);
	v[1].align = 1ull << 30;
	v[1].numa_node = -1;
	v[1].target_node = -1;
}

static void test_json_shape(void **state)
{
	struct famrt_daxinfo v[2];
	const struct famrt_json_value *arr, *d;
	struct famrt_json_doc *doc;
	uint64_t u;
	char *s;

	(void)state;
	/* No devices: still an object with an empty array. */
	s = write_to_string(NULL, 0, true);
	doc = parse(s);
	assert_int_equal(devices_array(doc)->count, 0);
	famrt_json_free(doc);
	free(s);

	make_devices(v);
	for (size_t n = 1; n <= 2; n++) {
		s = write_to_string(v, n, true);
		doc = parse(s);
		arr = devices_array(doc);
		assert_int_equal(arr->count, n);
		for (d = arr->child; d; d = d->next)
			check_shape(d);
		famrt_json_free(doc);
		free(s);
	}

	s = write_to_string(v, 2, true);
	doc = parse(s);
	arr = devices_array(doc);
	d = arr->child;
	assert_int_equal(famrt_json_get_u64(famrt_json_get(d, "size"), &u), 0);
	assert_int_equal(u, v[0].size);
	assert_int_equal(famrt_json_get_u64(famrt_json_get(d, "numa_node"), &u),
			 0);
	assert_int_equal(u, 0);
	assert_int_equal(
		famrt_json_get_u64(famrt_json_get(d, "target_node"), &u), 0);
	assert_int_equal(u, 2);
	assert_string_equal(famrt_json_get(d, "near_cpus")->str, "0-3,8");
	assert_string_equal(famrt_json_get(d, "mode")->str, "devdax");
	assert_int_equal(famrt_json_get(d, "fs_uuid")->type, FAMRT_JSON_NULL);
	d = d->next;
	assert_int_equal(famrt_json_get_u64(famrt_json_get(d, "size"), &u), 0);
	assert_int_equal(u, v[1].size);
	assert_int_equal(famrt_json_get(d, "numa_node")->type, FAMRT_JSON_NULL);
	assert_int_equal(famrt_json_get(d, "target_node")->type,
			 FAMRT_JSON_NULL);
	assert_string_equal(famrt_json_get(d, "near_cpus")->str, "");
	assert_string_equal(famrt_json_get(d, "driver")->str, "fsdev_dax");
	famrt_json_free(doc);
	free(s);
}

static void test_table(void **state)
{
	struct famrt_daxinfo v[2];
	char *s, *line2;

	(void)state;
	s = write_to_string(NULL, 0, false);
	/* Only the header. */
	assert_non_null(strstr(s, "DEVICE"));
	assert_non_null(strstr(s, "FS"));
	assert_int_equal(strchr(s, '\n') - s + 1, (ptrdiff_t)strlen(s));
	free(s);

	make_devices(v);
	s = write_to_string(v, 2, false);
	line2 = strchr(s, '\n') + 1;
	assert_true(strncmp(line2, "dax0.0 ", 7) == 0);
	assert_non_null(strstr(line2, "/dev/dax0.0"));
	assert_non_null(strstr(line2, "1.00 TiB")); /* 1 TiB + 2 MiB */
	assert_non_null(strstr(line2, "2 MiB"));
	assert_non_null(strstr(line2, "0-3,8"));
	{
		/* Second device: unknown nodes and CPUs, no file system. */
		char *line3 = strchr(line2, '\n') + 1, *tok, *save;
		int dashes = 0;

		assert_true(strncmp(line3, "dax1.0 ", 7) == 0);
		assert_non_null(strstr(line3, "fsdev"));
		assert_non_null(strstr(line3, "1 GiB"));
		for (tok = strtok_r(line3, " \n", &save); tok;
		     tok = strtok_r(NULL, " \n", &save)) {
			dashes += !strcmp(tok, "-");
		}
		/* NUMA, TARGET, CPUS, FS */
		assert_int_equal(dashes, 4);
	}
	free(s);
}

struct run_args {
	int argc;
	char **argv;
};

static int run_cmd(void *p)
{
	struct run_args *a = p;

	return famrt_cmd_devices(a->argc, a->argv);
}

static size_t sysfs_dax_count(void)
{
	DIR *d = opendir("/sys/bus/dax/devices");
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char p[PATH_MAX], buf[64] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(p, sizeof(p), "/sys/bus/dax/devices/%s/size",
			     de->d_name) >= (int)sizeof(p))
			continue;
		f = fopen(p, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && strtoull(buf, NULL, 0))
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static void test_command(void **state)
{
	char a0[] = "devices", json[] = "--json", help[] = "--help",
	     bogus[] = "--bogus", extra[] = "extra";
	char *argv_json[] = { a0, json, NULL };
	char *argv_plain[] = { a0, NULL };
	char *argv_help[] = { a0, help, NULL };
	char *argv_bogus[] = { a0, bogus, NULL };
	char *argv_extra[] = { a0, extra, NULL };
	struct run_args a;
	struct famrt_json_doc *doc;
	const struct famrt_json_value *arr, *d;
	char *out;
	int ret;

	(void)state;
	a = (struct run_args){ 2, argv_json };
	out = capture(run_cmd, &a, &ret);
	assert_int_equal(ret, FAMRT_EXIT_OK);
	doc = parse(out);
	arr = devices_array(doc);
	assert_int_equal(arr->count, sysfs_dax_count());
	for (d = arr->child; d; d = d->next)
		check_shape(d);
	famrt_json_free(doc);
	free(out);

	a = (struct run_args){ 1, argv_plain };
	out = capture(run_cmd, &a, &ret);
	assert_int_equal(ret, FAMRT_EXIT_OK);
	assert_true(strncmp(out, "DEVICE", 6) == 0);
	free(out);

	a = (struct run_args){ 2, argv_help };
	out = capture(run_cmd, &a, &ret);
	assert_int_equal(ret, FAMRT_EXIT_OK);
	assert_non_null(strstr(out, "Usage: famrt devices"));
	assert_non_null(strstr(out, "Examples:"));
	assert_non_null(strstr(out, "famrt devices --json"));
	free(out);

	a = (struct run_args){ 2, argv_bogus };
	out = capture(run_cmd, &a, &ret);
	assert_int_equal(ret, FAMRT_EXIT_USAGE);
	assert_string_equal(out, ""); /* the complaint goes to stderr */
	free(out);

	a = (struct run_args){ 2, argv_extra };
	out = capture(run_cmd, &a, &ret);
	assert_int_equal(ret, FAMRT_EXIT_USAGE);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

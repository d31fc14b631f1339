/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A plain program (it knows nothing of famrt) using stdio on files under
 * DIR: fopen/fprintf/fseek/fputs to write one, fgets/fseek/fread/ftell/
 * fileno+fstat/getline to read, then freopen of stdin onto a file and of
 * stdout onto a new one (what it prints after that goes there). Reports on
 * stderr.
 *
 *   pl_stdio DIR
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static unsigned long sum(const char *b, size_t n)
{
	unsigned long s = 0;

	for (size_t i = 0; i < n; i++)
		s = s * 131 + (unsigned char)b[i];
	return s;
}

int main(int argc, char **argv)
{
	char path[4096], line[256], buf[100];
	char *lp = NULL;
	size_t lcap = 0, n;
	struct stat st;
	unsigned lines = 0, needles = 0;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: pl_stdio DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/stdio_w", argv[1]);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return 1;
	}
	for (int i = 0; i < 1000; i++)
		fprintf(f, "line %04d of a stdio file\n", i);
	fseek(f, 10, SEEK_SET);
	fputs("XX", f);
	if (fclose(f)) {
		perror("fclose");
		return 1;
	}
	f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 1;
	}
	while (fgets(line, sizeof(line), f))
		lines++;
	fseek(f, 5000, SEEK_SET);
	n = fread(buf, 1, sizeof(buf), f);
	if (fstat(fileno(f), &st)) {
		perror("fstat");
		return 1;
	}
	fprintf(stderr, "lines %u read %zu sum %lu tell %ld size %lld\n", lines,
		n, sum(buf, n), ftell(f), (long long)st.st_size);
	fclose(f);

	snprintf(path, sizeof(path), "%s/text", argv[1]);
	if (!freopen(path, "r", stdin)) {
		perror("freopen stdin");
		return 1;
	}
	lines = 0;
	while (getline(&lp, &lcap, stdin) > 0) {
		lines++;
		needles += strstr(lp, "needle") != NULL;
	}
	free(lp);
	fprintf(stderr, "stdin lines %u needles %u\n", lines, needles);

	snprintf(path, sizeof(path), "%s/stdio_out", argv[1]);
	if (!freopen(path, "w", stdout)) {
		perror("freopen stdout");
		return 1;
	}
	for (int i = 0; i < 500; i++)
		printf("printed line %d\n", i);
	puts("last");
	return 0;
}

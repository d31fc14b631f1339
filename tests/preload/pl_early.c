/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pl_early FILE: prints what pl_early_lib's constructor read of FILE
 * (before any preloaded library's constructor ran), then reads FILE again
 * from main with stdio. Plain: nothing of famrt is linked in.
 */
#include <stdint.h>
#include <stdio.h>

const char *pl_early_result(void);

int main(int argc, char **argv)
{
	uint64_t h = 0xcbf29ce484222325ull, total = 0;
	FILE *f;
	int c;

	if (argc != 2) {
		fprintf(stderr, "usage: pl_early FILE\n");
		return 2;
	}
	printf("%s\n", pl_early_result());
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	while ((c = getc(f)) != EOF) {
		h = (h ^ (uint8_t)c) * 0x100000001b3ull;
		total++;
	}
	fclose(f);
	printf("main: %llu bytes, fnv1a %016llx\n", (unsigned long long)total,
	       (unsigned long long)h);
	return 0;
}

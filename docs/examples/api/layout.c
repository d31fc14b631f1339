/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layout: create a file interleaved over every device and show where its
 * bytes live.
 *   layout PATH SIZE [CHUNK]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <famrt/famrt.h>

int main(int argc, char **argv)
{
	struct famrt_layout lay = { .size = sizeof(lay), .interleave = true };
	struct famrt_statfs st;
	struct famrt_fmap_extent x;
	const struct famrt_fmap *m;
	struct famrt_fmap_run run;
	struct famrt *fs;
	struct famrt_file *f;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: layout PATH SIZE [CHUNK]\n");
		return 2;
	}
	/* 0: one strip per device, the allocation unit as chunk. */
	lay.chunk = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
	rc = famrt_connect(&fs, NULL);
	if (!rc)
		rc = famrt_statfs(fs, &st);
	if (!rc)
		rc = famrt_create(fs, argv[1], 0644, strtoull(argv[2], NULL, 0),
				  &lay, &f);
	if (rc) {
		fprintf(stderr, "layout: %s (%s)\n", strerror(-rc),
			famrt_errmsg());
		return 1;
	}
	printf("file system: %u devices, unit %" PRIu64 ", %" PRIu64
	       " of %" PRIu64 " bytes free\n",
	       st.ndevs, st.alloc_unit, st.free, st.size);
	m = famrt_file_fmap(f);
	for (uint32_t i = 0; i < famrt_fmap_nextents(m); i++) {
		famrt_fmap_get_extent(m, i, &x);
		printf("extent %u: file bytes %" PRIu64 "..%" PRIu64
		       ", interleaved over %u strips, chunk %u\n",
		       i, x.file_offset, x.file_offset + x.file_bytes,
		       x.nstrips, x.chunk_size);
		for (uint32_t j = 0; j < x.nstrips; j++)
			printf("  strip %u: device %u offset %" PRIu64
			       " length %" PRIu64 "\n",
			       j, x.strips[j].devindex, x.strips[j].offset,
			       x.strips[j].len);
	}
	/* Where the last byte of the file is. */
	if (famrt_file_size(f) &&
	    !famrt_fmap_resolve(m, famrt_file_size(f) - 1, &run))
		printf("last byte: device %u offset %" PRIu64 "\n", run.dev,
		       run.dev_off);
	famrt_close(f);
	famrt_disconnect(fs);
	return 0;
}

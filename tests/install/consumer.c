/* A program outside famrt's tree, built against an installed famrt. */
#include <stdio.h>
#include <string.h>

#include <famrt/famrt.h>
#include <famrt/fmap.h>

int main(void)
{
	struct famrt_fmap_desc d;
	struct famrt_fmap *m;
	struct famrt_fmap_error e;
	struct famrt_fmap_run r;

	memset(&d, 0, sizeof(d));
	d.nextents = 1;
	d.file_size = 3u << 20;
	d.extents[0].nstrips = 1;
	d.extents[0].strips[0].len = 4u << 20;
	d.extents[0].strips[0].offset = 2u << 20;
	if (famrt_fmap_build(&d, NULL, &m, &e)) {
		fprintf(stderr, "%s\n", e.message);
		return 1;
	}
	if (famrt_fmap_resolve(m, 1u << 20, &r) || r.dev_off != (3u << 20)) {
		fprintf(stderr, "wrong resolution\n");
		return 1;
	}
	famrt_fmap_free(m);
	/* The runtime is there too (no service: a clear error). */
	printf("ok %s\n", famrt_errmsg()[0] ? "err" : "clean");
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fmap resolution, property-tested: thousands of random valid maps (simple
 * and interleaved; 1 to 32 extents of 1 to 32 strips over 1 to 32 devices;
 * chunk sizes and strip counts powers of two or not; equal power-of-two
 * extents; file sizes that end anywhere, leaving later extents empty),
 * each checked against a reference model written here from the format
 * document's arithmetic (plain division, a linear walk over the extents):
 *
 *  - famrt_fmap_resolve() agrees with the model at boundary and random
 *    offsets, on the fast paths and with every fast path forced off;
 *  - the iterator's runs over random ranges are exactly the model's maximal
 *    runs (in order, covering the clipped range, never two in a row
 *    contiguous on one device), and agree with the model at sampled bytes;
 *  - encode(decode(m)) == m; to_desc + desc_encode == m; build == decode;
 *    get_extent and the accessors agree with the model;
 *  - every resolver path (ONE, SHIFT, SEARCH; interleave by shifts and by
 *    division) is really taken.
 *
 * Deterministic: the seed is fixed unless FAMRT_TEST_SEED is set, and
 * FAMRT_TEST_MAPS sets the number of maps. A failure prints the seed, the
 * map's index and the map.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>

#include "fmap_test.h"
#include "fmap/fmap_internal.h"

#define DEFAULT_SEED 0x5eed0f3a9c1d2b47ull
#define DEFAULT_MAPS 10000u
#define MAX_RUNS 16384u

/* ---- PRNG (splitmix64) ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform-enough in [0, n); 0 when n is 0. */
static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

/* [lo, hi], hi - lo < 2^64 - 1. */
static uint64_t between(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + below(r, hi - lo + 1);
}

static bool chance(struct rng *r, unsigned pct)
{
	return below(r, 100) < pct;
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* ---- a generated map and its model ---- */

struct gmap {
	struct famrt_fmap_desc d;
	uint64_t dev_size[32];
	uint64_t dev_align[32];
	uint32_t ndev;
	bool use_lim;
	bool big;
	struct famrt_fmap_limits lim;
	/* model: where each extent starts in the file, bytes it holds */
	uint64_t start[FAMRT_FMAP_MAX_EXTENTS];
	uint64_t held[FAMRT_FMAP_MAX_EXTENTS];
};

static struct gmap G;
static uint64_t g_seed;
static unsigned g_map;
static uint8_t g_msg[FAMRT_FMAP_MSG_MAX];
static size_t g_len;

static void dump_map(const struct gmap *g)
{
	const struct famrt_fmap_desc *d = &g->d;

	print_error("reproduce with FAMRT_TEST_SEED=0x%" PRIx64
		    " (map %u of the run)\n", g_seed, g_map);
	print_error("map: %s, file_type %u, file_size %" PRIu64
		    " (0x%" PRIx64 "), %u extents\n",
		    desc_ilv(d) ? "interleaved" : "simple", d->file_type,
		    d->file_size, d->file_size, d->nextents);
	if (g->use_lim)
		print_error("limits: align 0x%" PRIx64 ", %u devices%s\n",
			    g->lim.align, g->lim.ndevices,
			    g->lim.dev_align ? ", per-device alignment" : "");
	else
		print_error("limits: none\n");
	for (uint32_t i = 0; i < d->nextents; i++) {
		const struct famrt_fmap_extent *e = &d->extents[i];

		print_error("  ext %u: file [%" PRIu64 ", +%" PRIu64 ") ", i,
			    g->start[i], g->held[i]);
		if (!desc_ilv(d)) {
			print_error("dev %u off 0x%" PRIx64 " len 0x%" PRIx64
				    "\n",
				    e->strips[0].devindex, e->strips[0].offset,
				    e->strips[0].len);
			continue;
		}
		print_error("N %u chunk 0x%x nbytes %" PRIu64 "\n", e->nstrips,
			    e->chunk_size, e->nbytes);
		for (uint32_t j = 0; j < e->nstrips; j++)
			print_error("    strip %u: dev %u off 0x%" PRIx64
				    " len 0x%" PRIx64 "\n",
				    j, e->strips[j].devindex,
				    e->strips[j].offset, e->strips[j].len);
	}
}

#define PCHECK(cond, ...)                     \
	do {                                  \
		if (!(cond)) {                \
			dump_map(&G);         \
			fail_msg(__VA_ARGS__); \
		}                             \
	} while (0)

/*
 * The model: the byte at file offset off (< file size) is on device *dev at
 * *dev_off, and the piece holding it (simple extent or chunk, clipped at
 * the end of what its extent holds) continues for *len bytes.
 */
static void model_at(const struct gmap *g, uint64_t off, uint32_t *dev,
		     uint64_t *dev_off, uint64_t *len)
{
	const struct famrt_fmap_desc *d = &g->d;
	uint32_t i;

	for (i = 0; i < d->nextents; i++)
		if (off >= g->start[i] && off - g->start[i] < g->held[i])
			break;
	PCHECK(i < d->nextents, "model: offset %" PRIu64 " in no extent",
	       off);
	{
		const struct famrt_fmap_extent *e = &d->extents[i];
		uint64_t l = off - g->start[i];
		uint64_t left = g->start[i] + g->held[i] - off;

		if (!desc_ilv(d)) {
			*dev = e->strips[0].devindex;
			*dev_off = e->strips[0].offset + l;
			*len = left;
		} else {
			uint64_t c = e->chunk_size, n = e->nstrips;
			uint64_t chunk = l / c, coff = l % c;
			uint64_t stripe = chunk / n, strip = chunk % n;

			*dev = e->strips[strip].devindex;
			*dev_off = e->strips[strip].offset + stripe * c + coff;
			*len = min64(left, c - coff);
		}
	}
}

static void model_prepare(struct gmap *g)
{
	const struct famrt_fmap_desc *d = &g->d;
	uint64_t s = 0;

	for (uint32_t i = 0; i < d->nextents; i++) {
		uint64_t n = desc_ilv(d) ? d->extents[i].nbytes :
					   d->extents[i].strips[0].len;

		g->start[i] = s;
		g->held[i] = s >= d->file_size ? 0 :
						 min64(n, d->file_size - s);
		s += desc_ilv(d) ? g->held[i] : n;
	}
}

/* End of the range [off, off + len), clipped at the file size. */
static uint64_t range_end(uint64_t size, uint64_t off, uint64_t len)
{
	if (off >= size)
		return off;
	return len > size - off ? size : off + len;
}

/* The maximal runs of [off, off + len) by the model; returns the count. */
static uint32_t model_runs(const struct gmap *g, uint64_t off, uint64_t len,
			   struct famrt_fmap_run *runs, uint32_t *npieces)
{
	uint64_t end = range_end(g->d.file_size, off, len);
	uint32_t n = 0;

	*npieces = 0;
	while (off < end) {
		struct famrt_fmap_run p;

		model_at(g, off, &p.dev, &p.dev_off, &p.len);
		p.file_off = off;
		p.len = min64(p.len, end - off);
		++*npieces;
		if (n && runs[n - 1].dev == p.dev &&
		    runs[n - 1].dev_off + runs[n - 1].len == p.dev_off) {
			runs[n - 1].len += p.len;
		} else {
			PCHECK(n < MAX_RUNS, "model: too many runs");
			runs[n++] = p;
		}
		off += p.len;
	}
	return n;
}

/* ---- the generator ---- */

struct placer {
	uint64_t bump[32];
	uint64_t unit;
	uint32_t ndev;
	uint32_t next;
	int mode; /* 0: one device, 1: round robin, 2: random */
	bool packed;
};

/* Where the next strip of len bytes goes. */
static void place(struct rng *r, struct placer *p, uint64_t len,
		  uint32_t *dev, uint64_t *off)
{
	uint32_t d;

	if (p->mode == 0)
		d = p->next;
	else if (p->mode == 1)
		d = p->next++ % p->ndev;
	else
		d = (uint32_t)below(r, p->ndev);
	if (!p->packed)
		p->bump[d] += p->unit * below(r, 4);
	*dev = d;
	*off = p->bump[d];
	p->bump[d] += len;
}

static uint32_t pick_nstrips(struct rng *r)
{
	if (chance(r, 40))
		return 1u << below(r, 6);
	return (uint32_t)between(r, 1, 32);
}

static uint64_t pick_chunk(struct rng *r, const struct gmap *g, uint64_t u)
{
	static const unsigned odd[] = { 3, 5, 6, 7, 12 };

	if (g->big && chance(r, 15))
		return 0xffffffffull / u * u; /* largest chunk there is */
	if (g->big && chance(r, 15))
		return 1 * GiB;
	if (chance(r, 50))
		return u << below(r, 4);
	return u * odd[below(r, 5)];
}

static void gen(struct rng *r, struct gmap *g)
{
	static const unsigned odd[] = { 3, 5, 6, 7, 12 };
	struct famrt_fmap_desc *d = &g->d;
	struct placer pl;
	uint64_t a, u, total = 0, caps[FAMRT_FMAP_MAX_EXTENTS];
	uint32_t n;

	memset(g, 0, sizeof(*g));
	memset(&pl, 0, sizeof(pl));
	g->big = chance(r, 12);
	a = g->big ? 2 * MiB : 4 * KiB;
	g->ndev = chance(r, 10) ? 32 : (uint32_t)between(r, 1, 8);
	g->lim.size = sizeof(g->lim);
	g->lim.align = g->big && chance(r, 50) ? 0 : a;
	g->lim.ndevices = g->ndev;
	g->lim.dev_size = g->dev_size;
	g->use_lim = !g->big || chance(r, 50);
	u = a;
	if (!g->big && chance(r, 20)) {
		for (uint32_t k = 0; k < g->ndev; k++) {
			g->dev_align[k] = a << below(r, 5);
			if (g->dev_align[k] > u)
				u = g->dev_align[k];
		}
		g->lim.dev_align = g->dev_align;
	} else if (chance(r, 10)) {
		g->lim.ndevices = 0; /* no device checks */
	}

	pl.unit = u;
	pl.ndev = g->ndev;
	pl.packed = chance(r, 50);
	pl.mode = (int)below(r, 3);
	pl.next = (uint32_t)below(r, g->ndev);
	for (uint32_t k = 0; k < g->ndev; k++)
		pl.bump[k] = pl.packed ? 0 : u * below(r, 16);

	d->file_type = (uint8_t)below(r, 3);
	d->ext_type = chance(r, 50) ? FAMRT_FMAP_EXT_INTERLEAVE :
				      FAMRT_FMAP_EXT_SIMPLE;
	n = chance(r, 15) ? 1 : chance(r, 12) ? 32 : (uint32_t)between(r, 2, 32);
	d->nextents = n;

	if (!desc_ilv(d)) {
		unsigned mode = (unsigned)below(r, 10);
		uint64_t eq = mode < 3 ? u << below(r, g->big ? 10 : 6) :
				         u * odd[below(r, 5)];

		for (uint32_t i = 0; i < n; i++) {
			uint64_t len = mode < 4 ? eq :
				       u * between(r, 1, g->big ? 1024 : 48);
			uint32_t dev;
			uint64_t off;

			place(r, &pl, len, &dev, &off);
			desc_simple(d, i, dev, off, len);
			total += len;
		}
	} else {
		bool uniform = chance(r, 50);
		uint32_t n0 = pick_nstrips(r);
		uint64_t c0 = pick_chunk(r, g, u), mincap = UINT64_MAX;

		for (uint32_t i = 0; i < n; i++) {
			uint32_t ns = uniform ? n0 : pick_nstrips(r);
			uint64_t c = uniform ? c0 : pick_chunk(r, g, u);
			uint64_t minlen = UINT64_MAX;

			desc_iext(d, i, ns, (uint32_t)c, 0);
			for (uint32_t j = 0; j < ns; j++) {
				uint64_t len = c * between(r, 1, 6);
				uint32_t dev;
				uint64_t off;

				/* Sometimes not a whole number of chunks. */
				if (c > u && chance(r, 25))
					len += u * between(r, 1, c / u - 1);
				place(r, &pl, len, &dev, &off);
				desc_strip(d, i, j, dev, off, len);
				minlen = min64(minlen, len);
			}
			caps[i] = ns * (minlen / c * c);
			mincap = min64(mincap, caps[i]);
		}
		if (chance(r, 25)) {
			/* Equal power-of-two ie_nbytes: the SHIFT path. */
			unsigned kmax = 63u - (unsigned)__builtin_clzll(mincap);
			unsigned k = chance(r, 50) ? kmax :
						     (unsigned)below(r, kmax + 1);

			for (uint32_t i = 0; i < n; i++)
				d->extents[i].nbytes = 1ull << k;
		} else {
			for (uint32_t i = 0; i < n; i++) {
				struct famrt_fmap_extent *e = &d->extents[i];
				unsigned m = (unsigned)below(r, 10);
				uint64_t c = e->chunk_size;

				if (m < 4)
					e->nbytes = caps[i];
				else if (m < 7)
					e->nbytes = c * between(r, 1, caps[i] / c);
				else
					e->nbytes = between(r, 1, caps[i]);
			}
		}
		for (uint32_t i = 0; i < n; i++)
			total += d->extents[i].nbytes;
	}

	/* File size: all, a random part, near the end, inside an extent. */
	switch (below(r, 20)) {
	case 0: case 1: case 2: case 3: case 4: case 5:
		d->file_size = total;
		break;
	case 6: case 7: case 8: case 9: case 10: case 11: case 12:
		d->file_size = below(r, total + 1);
		break;
	case 13: case 14:
		d->file_size = total - between(r, 1, min64(total, 3 * u));
		break;
	case 15: case 16: {
		uint32_t k = (uint32_t)below(r, n);
		uint64_t s = 0, len;

		for (uint32_t i = 0; i < k; i++)
			s += d->extents[i].nbytes;
		len = d->extents[k].nbytes;
		d->file_size = s + between(r, 1, len);
		break;
	}
	case 17:
		d->file_size = 0;
		break;
	default:
		d->file_size = between(r, 0, total / 4);
		break;
	}

	for (uint32_t k = 0; k < g->ndev; k++)
		g->dev_size[k] = pl.bump[k] + (chance(r, 50) ? 0 :
							      u * below(r, 8));
	model_prepare(g);
}

/* ---- statistics: which paths the maps exercised ---- */

static struct {
	unsigned find[3];
	unsigned ext_pow2, ext_div;
	unsigned empty_ext;   /* interleaved extents holding no bytes */
	unsigned mid_chunk;   /* files ending inside a chunk */
	unsigned merged;      /* ranges where pieces merged into runs */
	unsigned shift_ilv;   /* SHIFT on interleaved maps */
	unsigned big;
	unsigned devs32;
	uint64_t resolves, ranges, runs;
} st;

/* ---- checks ---- */

static void check_resolve(const struct famrt_fmap *m, const char *which,
			  uint64_t off)
{
	struct famrt_fmap_run got;
	uint32_t dev;
	uint64_t dev_off, len;
	int rc;

	model_at(&G, off, &dev, &dev_off, &len);
	memset(&got, 0xa5, sizeof(got));
	rc = famrt_fmap_resolve(m, off, &got);
	PCHECK(rc == 0 && got.file_off == off && got.dev == dev &&
		       got.dev_off == dev_off && got.len == len,
	       "%s: resolve(%" PRIu64 ") = %d: dev %u dev_off 0x%" PRIx64
	       " len %" PRIu64 " (file_off %" PRIu64 "); the model says "
	       "dev %u dev_off 0x%" PRIx64 " len %" PRIu64,
	       which, off, rc, got.dev, got.dev_off, got.len, got.file_off,
	       dev, dev_off, len);
	st.resolves++;
}

static struct famrt_fmap_run mruns[MAX_RUNS], iruns[MAX_RUNS];

/* One byte of an iterator run against the model. */
static void check_byte(const struct famrt_fmap_run *run, uint64_t b,
		       const char *which)
{
	uint32_t dev;
	uint64_t dev_off, len;

	model_at(&G, b, &dev, &dev_off, &len);
	PCHECK(dev == run->dev && dev_off == run->dev_off + (b - run->file_off),
	       "%s: byte %" PRIu64 " of run [%" PRIu64 ", +%" PRIu64
	       ") is dev %u 0x%" PRIx64 " by the run, dev %u 0x%" PRIx64
	       " by the model",
	       which, b, run->file_off, run->len, run->dev,
	       run->dev_off + (b - run->file_off), dev, dev_off);
}

static void check_iter(struct rng *r, const struct famrt_fmap *m,
		       const char *which, uint64_t off, uint64_t len,
		       uint32_t nm)
{
	uint64_t end = range_end(G.d.file_size, off, len);
	struct famrt_fmap_iter it;
	struct famrt_fmap_run run;
	uint32_t ni = 0;

	famrt_fmap_iter_init(&it, m, off, len);
	while (famrt_fmap_iter_next(&it, &run)) {
		PCHECK(ni < MAX_RUNS, "%s: iterator does not end", which);
		iruns[ni++] = run;
	}
	PCHECK(!famrt_fmap_iter_next(&it, &run),
	       "%s: iterator restarts after its end", which);

	for (uint32_t k = 0; k < ni; k++) {
		const struct famrt_fmap_run *p = &iruns[k];
		uint64_t at = k ? iruns[k - 1].file_off + iruns[k - 1].len :
				  off;

		PCHECK(p->len > 0 && p->file_off == at,
		       "%s: range [%" PRIu64 ", +%" PRIu64 "): run %u is [%"
		       PRIu64 ", +%" PRIu64 "), expected it at %" PRIu64,
		       which, off, len, k, p->file_off, p->len, at);
		PCHECK(p->len <= end - p->file_off,
		       "%s: run %u passes the end %" PRIu64, which, k, end);
		PCHECK(!k || p->dev != p[-1].dev ||
			       p->dev_off != p[-1].dev_off + p[-1].len,
		       "%s: range [%" PRIu64 ", +%" PRIu64 "): runs %u and %u "
		       "are contiguous on device %u (not maximal)",
		       which, off, len, k - 1, k, p->dev);
	}
	PCHECK(ni == 0 ? off >= end :
			 iruns[ni - 1].file_off + iruns[ni - 1].len == end,
	       "%s: range [%" PRIu64 ", +%" PRIu64 ") covered up to %" PRIu64
	       ", expected %" PRIu64,
	       which, off, len,
	       ni ? iruns[ni - 1].file_off + iruns[ni - 1].len : off, end);

	/* Bytes of (a sample of) the runs against the model. */
	for (uint32_t s = 0; s < ni && s < 128; s++) {
		const struct famrt_fmap_run *p =
			&iruns[ni <= 128 ? s : below(r, ni)];

		check_byte(p, p->file_off, which);
		check_byte(p, p->file_off + p->len - 1, which);
		if (p->len > 2) {
			check_byte(p, p->file_off + between(r, 1, p->len - 2),
				   which);
			check_byte(p, p->file_off + between(r, 1, p->len - 2),
				   which);
		}
	}

	/* And exactly the model's maximal runs. */
	PCHECK(ni == nm,
	       "%s: range [%" PRIu64 ", +%" PRIu64 "): %u runs, the model "
	       "has %u",
	       which, off, len, ni, nm);
	for (uint32_t k = 0; k < ni; k++) {
		const struct famrt_fmap_run *p = &iruns[k], *q = &mruns[k];

		PCHECK(p->file_off == q->file_off && p->dev == q->dev &&
			       p->dev_off == q->dev_off && p->len == q->len,
		       "%s: range [%" PRIu64 ", +%" PRIu64 "): run %u is [%"
		       PRIu64 ", +%" PRIu64 ") dev %u 0x%" PRIx64
		       "; the model's is [%" PRIu64 ", +%" PRIu64
		       ") dev %u 0x%" PRIx64,
		       which, off, len, k, p->file_off, p->len, p->dev,
		       p->dev_off, q->file_off, q->len, q->dev, q->dev_off);
	}
	st.runs += ni;
}

static void check_range(struct rng *r, const struct famrt_fmap *fast,
			const struct famrt_fmap *gen_map, uint64_t off,
			uint64_t len)
{
	uint32_t npieces;
	uint32_t nm = model_runs(&G, off, len, mruns, &npieces);

	if (nm < npieces)
		st.merged++;
	check_iter(r, fast, "fast", off, len, nm);
	check_iter(r, gen_map, "general", off, len, nm);
	st.ranges++;
}

/* Accessors, codec round trips, extents in plain form. */
static void check_codec(const struct famrt_fmap *m,
			const struct famrt_fmap_limits *lim)
{
	static struct famrt_fmap_desc d2;
	static uint8_t buf[FAMRT_FMAP_MSG_MAX];
	const struct famrt_fmap_desc *d = &G.d;
	struct famrt_fmap_extent x;
	struct famrt_fmap *b = NULL;
	struct famrt_fmap_error err;
	uint32_t maxdev = 0;

	PCHECK(famrt_fmap_file_size(m) == d->file_size, "file_size");
	PCHECK(famrt_fmap_file_type(m) == d->file_type, "file_type");
	PCHECK(famrt_fmap_ext_type(m) == d->ext_type, "ext_type");
	PCHECK(famrt_fmap_nextents(m) == d->nextents, "nextents");
	PCHECK(famrt_fmap_encoded_size(m) == g_len, "encoded_size %zu, "
	       "message %zu", famrt_fmap_encoded_size(m), g_len);
	PCHECK(famrt_fmap_encode(m, buf, sizeof(buf)) == (ssize_t)g_len &&
		       !memcmp(buf, g_msg, g_len),
	       "encode(decode(m)) != m");
	famrt_fmap_to_desc(m, &d2);
	PCHECK(famrt_fmap_desc_encode(&d2, buf, sizeof(buf)) ==
			       (ssize_t)g_len &&
		       !memcmp(buf, g_msg, g_len),
	       "desc_encode(to_desc(decode(m))) != m");
	for (uint32_t i = 0; i < d->nextents; i++) {
		const struct famrt_fmap_extent *e = &d->extents[i];

		PCHECK(famrt_fmap_get_extent(m, i, &x) == 0, "get_extent");
		PCHECK(x.file_offset == G.start[i] &&
			       x.file_bytes == G.held[i],
		       "extent %u: file_offset %" PRIu64 " file_bytes %"
		       PRIu64 "; the model says %" PRIu64 ", %" PRIu64,
		       i, x.file_offset, x.file_bytes, G.start[i],
		       G.held[i]);
		PCHECK(d2.extents[i].file_offset == G.start[i] &&
			       d2.extents[i].file_bytes == G.held[i],
		       "to_desc extent %u offsets", i);
		PCHECK(x.nstrips == (desc_ilv(d) ? e->nstrips : 1) &&
			       x.chunk_size == (desc_ilv(d) ? e->chunk_size : 0) &&
			       x.nbytes == e->nbytes,
		       "extent %u: nstrips %u chunk %u nbytes %" PRIu64, i,
		       x.nstrips, x.chunk_size, x.nbytes);
		for (uint32_t j = 0; j < x.nstrips; j++) {
			PCHECK(x.strips[j].devindex == e->strips[j].devindex &&
				       x.strips[j].offset ==
					       e->strips[j].offset &&
				       x.strips[j].len == e->strips[j].len,
			       "extent %u strip %u", i, j);
			if (e->strips[j].devindex > maxdev)
				maxdev = e->strips[j].devindex;
		}
	}
	PCHECK(famrt_fmap_get_extent(m, d->nextents, &x) == -ERANGE,
	       "get_extent past the end");
	PCHECK(famrt_fmap_max_devindex(m) == maxdev, "max_devindex %u, "
	       "expected %u", famrt_fmap_max_devindex(m), maxdev);
	PCHECK(famrt_fmap_build(d, lim, &b, &err) == 0, "build: %s",
	       err.message);
	PCHECK(famrt_fmap_encode(b, buf, sizeof(buf)) == (ssize_t)g_len &&
		       !memcmp(buf, g_msg, g_len),
	       "build and decode differ");
	famrt_fmap_free(b);
}

/* Which resolver paths the map should take, and count them. */
static void check_paths(const struct famrt_fmap *m, struct famrt_fmap *gm)
{
	const struct famrt_fmap_desc *d = &G.d;
	enum famrt_fmap_find want = FAMRT_FMAP_FIND_SEARCH;
	bool equal = true;

	for (uint32_t i = 1; i < d->nextents; i++)
		if (d->extents[i].nbytes != d->extents[0].nbytes)
			equal = false;
	if (d->nextents == 1)
		want = FAMRT_FMAP_FIND_ONE;
	else if (equal && pow2(d->extents[0].nbytes))
		want = FAMRT_FMAP_FIND_SHIFT;
	PCHECK(famrt_fmap_debug_find(m) == want, "find path %d, expected %d",
	       famrt_fmap_debug_find(m), want);
	if (d->file_size) {
		st.find[want]++;
		if (want == FAMRT_FMAP_FIND_SHIFT && desc_ilv(d))
			st.shift_ilv++;
	}
	for (uint32_t i = 0; i < d->nextents; i++) {
		const struct famrt_fmap_extent *e = &d->extents[i];
		bool p2 = desc_ilv(d) && pow2(e->chunk_size) &&
			  pow2(e->nstrips);

		PCHECK(famrt_fmap_debug_ext_pow2(m, i) == p2,
		       "extent %u: pow2 path %d, expected %d", i,
		       famrt_fmap_debug_ext_pow2(m, i), p2);
		PCHECK(!famrt_fmap_debug_ext_pow2(gm, i),
		       "extent %u: pow2 path after force_general", i);
		if (!desc_ilv(d))
			continue;
		if (!G.held[i]) {
			st.empty_ext++;
		} else {
			if (p2)
				st.ext_pow2++;
			else
				st.ext_div++;
			if (G.start[i] + G.held[i] == d->file_size &&
			    (G.held[i] % e->chunk_size))
				st.mid_chunk++;
		}
	}
	PCHECK(famrt_fmap_debug_find(gm) == FAMRT_FMAP_FIND_SEARCH,
	       "force_general left find path %d", famrt_fmap_debug_find(gm));
}

static void check_map(struct rng *r)
{
	const struct famrt_fmap_limits *lim = G.use_lim ? &G.lim : NULL;
	const struct famrt_fmap_desc *d = &G.d;
	struct famrt_fmap *m = NULL, *gm = NULL;
	struct famrt_fmap_error err;
	struct famrt_fmap_run run;
	uint64_t size = d->file_size;
	ssize_t n;

	n = famrt_fmap_desc_encode(d, g_msg, sizeof(g_msg));
	PCHECK(n > 0, "desc_encode: %zd", n);
	g_len = (size_t)n;
	PCHECK(famrt_fmap_decode(g_msg, g_len, lim, &m, &err) == 0,
	       "valid map refused: %s", err.message);
	PCHECK(famrt_fmap_decode(g_msg, g_len, lim, &gm, &err) == 0,
	       "valid map refused: %s", err.message);
	famrt_fmap_debug_force_general(gm);

	check_codec(m, lim);
	check_paths(m, gm);

	/* Offsets: the ends of every extent, chunk edges, random ones. */
	if (size) {
		check_resolve(m, "fast", 0);
		check_resolve(gm, "general", 0);
		check_resolve(m, "fast", size - 1);
		check_resolve(gm, "general", size - 1);
	}
	for (uint32_t i = 0; i < d->nextents; i++) {
		uint64_t s = G.start[i], h = G.held[i];
		uint64_t c = d->extents[i].chunk_size;
		uint64_t probe[6];
		unsigned np = 0;

		if (!h)
			continue;
		probe[np++] = s;
		probe[np++] = s + h - 1;
		if (s + h < size)
			probe[np++] = s + h;
		if (c && h > c) {
			uint64_t k = between(r, 1, (h - 1) / c);

			probe[np++] = s + k * c - 1;
			probe[np++] = s + k * c;
		}
		probe[np++] = s + below(r, h);
		for (unsigned k = 0; k < np; k++) {
			check_resolve(m, "fast", probe[k]);
			check_resolve(gm, "general", probe[k]);
		}
	}
	for (int k = 0; size && k < 32; k++) {
		uint64_t off = below(r, size);

		check_resolve(m, "fast", off);
		check_resolve(gm, "general", off);
	}
	PCHECK(famrt_fmap_resolve(m, size, &run) == -ERANGE &&
		       famrt_fmap_resolve(gm, size, &run) == -ERANGE &&
		       famrt_fmap_resolve(m, size + 1 + below(r, 1000), &run) ==
			       -ERANGE &&
		       famrt_fmap_resolve(m, UINT64_MAX, &run) == -ERANGE,
	       "resolve at or past the file size must be -ERANGE");

	/* Ranges: the whole file once, then random ones. */
	check_range(r, m, gm, 0, UINT64_MAX);
	for (int k = 0; k < 10; k++) {
		uint64_t off, len;
		unsigned kind = (unsigned)below(r, 10);
		uint64_t c = desc_ilv(d) ? d->extents[0].chunk_size :
					   d->extents[0].strips[0].len;

		off = chance(r, 5) ? size + below(r, 3) : below(r, size + 1);
		if (kind < 4)
			len = between(r, 1, 2 * c);
		else if (kind < 6)
			len = between(r, 0, size / 8 + 1);
		else if (kind < 7)
			len = UINT64_MAX - below(r, off + 1); /* off+len wraps */
		else if (kind < 8)
			len = 0;
		else
			len = between(r, 0, size - min64(off, size) + c);
		check_range(r, m, gm, off, len);
	}
	famrt_fmap_free(m);
	famrt_fmap_free(gm);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

static void test_random_maps(void **state)
{
	unsigned nmaps = (unsigned)env_u64("FAMRT_TEST_MAPS", DEFAULT_MAPS);

	(void)state;
	g_seed = env_u64("FAMRT_TEST_SEED", DEFAULT_SEED);
	memset(&st, 0, sizeof(st));
	for (g_map = 0; g_map < nmaps; g_map++) {
		struct rng r = { g_seed ^ (0xa0761d6478bd642full * (g_map + 1)) };

		rnd(&r);
		gen(&r, &G);
		if (G.big)
			st.big++;
		if (G.ndev == 32)
			st.devs32++;
		check_map(&r);
	}
	print_message("seed 0x%" PRIx64 ": %u maps (%u with 2 MiB alignment, "
		      "%u on 32 devices), %" PRIu64 " resolves, %" PRIu64
		      " ranges, %" PRIu64 " runs\n",
		      g_seed, nmaps, st.big, st.devs32, st.resolves, st.ranges,
		      st.runs);
	print_message("paths: ONE %u, SHIFT %u (%u interleaved), SEARCH %u; "
		      "interleaved extents by shifts %u, by division %u, "
		      "empty %u; files ending mid-chunk %u; ranges with "
		      "merged pieces %u\n",
		      st.find[FAMRT_FMAP_FIND_ONE],
		      st.find[FAMRT_FMAP_FIND_SHIFT], st.shift_ilv,
		      st.find[FAMRT_FMAP_FIND_SEARCH], st.ext_pow2, st.ext_div,
		      st.empty_ext, st.mid_chunk, st.merged);
	if (nmaps >= 500) {
		assert_true(st.find[FAMRT_FMAP_FIND_ONE] > 0);
		assert_true(st.find[FAMRT_FMAP_FIND_SHIFT] > 0);
		assert_true(st.find[FAMRT_FMAP_FIND_SEARCH] > 0);
		assert_true(st.shift_ilv > 0);
		assert_true(st.ext_pow2 > 0);
		assert_true(st.ext_div > 0);
		assert_true(st.empty_ext > 0);
		assert_true(st.mid_chunk > 0);
		assert_true(st.merged > 0);
		assert_true(st.big > 0);
		assert_true(st.devs32 > 0);
	}
}

/* ---- the worked example of the format document ---- */

/*
 * N = 4, C = 2 MiB, l = 15 MiB: chunk 7, coff 1 MiB, stripe 1, strip 3,
 * devoff = strips[3].se_offset + 3 MiB, run 1 MiB. Checked as the only
 * extent (file offset 15 MiB) and as the second (after a 6 MiB extent),
 * on the fast and the general paths, by resolve and by the iterator.
 */
static void worked_example(bool second, bool general)
{
	static const uint64_t soff[4] = { 0, 16 * MiB, 32 * MiB, 48 * MiB };
	uint64_t sz[5] = { 64 * MiB, 64 * MiB, 64 * MiB, 64 * MiB, 64 * MiB };
	struct famrt_fmap_limits lim = {
		.size = sizeof(lim), .ndevices = 5, .dev_size = sz,
	};
	struct famrt_fmap_desc *d = &G.d;
	struct famrt_fmap_error err;
	struct famrt_fmap_iter it;
	struct famrt_fmap_run r;
	struct famrt_fmap *m;
	uint32_t x = second ? 1 : 0;
	uint64_t base = second ? 6 * MiB : 0;

	memset(d, 0, sizeof(*d));
	d->ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	d->nextents = x + 1;
	if (second) {
		desc_iext(d, 0, 1, 2 * MiB, 6 * MiB);
		desc_strip(d, 0, 0, 4, 0, 6 * MiB);
	}
	desc_iext(d, x, 4, 2 * MiB, 32 * MiB);
	for (uint32_t j = 0; j < 4; j++)
		desc_strip(d, x, j, j, soff[j], 8 * MiB);
	d->file_size = base + 32 * MiB;
	assert_int_equal(famrt_fmap_build(d, &lim, &m, &err), 0);
	assert_true(famrt_fmap_debug_ext_pow2(m, x));
	if (general) {
		famrt_fmap_debug_force_general(m);
		assert_false(famrt_fmap_debug_ext_pow2(m, x));
	}

	assert_int_equal(famrt_fmap_resolve(m, base + 15 * MiB, &r), 0);
	EQ(r.file_off, base + 15 * MiB, "file_off");
	EQ(r.dev, 3, "device = strips[3].se_devindex");
	EQ(r.dev_off, 48 * MiB + 3 * MiB, "devoff = strips[3].se_offset + 3 MiB");
	EQ(r.len, 1 * MiB, "run");

	/* From there on: chunk 8 (strip 0, stripe 2), chunk 9 (strip 1). */
	famrt_fmap_iter_init(&it, m, base + 15 * MiB, 4 * MiB);
	assert_true(famrt_fmap_iter_next(&it, &r));
	EQ(r.file_off, base + 15 * MiB, "run 0 file_off");
	EQ(r.dev, 3, "run 0 dev");
	EQ(r.dev_off, 51 * MiB, "run 0 dev_off");
	EQ(r.len, 1 * MiB, "run 0 len");
	assert_true(famrt_fmap_iter_next(&it, &r));
	EQ(r.file_off, base + 16 * MiB, "run 1 file_off");
	EQ(r.dev, 0, "run 1 dev");
	EQ(r.dev_off, 0 + 4 * MiB, "run 1 dev_off");
	EQ(r.len, 2 * MiB, "run 1 len");
	assert_true(famrt_fmap_iter_next(&it, &r));
	EQ(r.file_off, base + 18 * MiB, "run 2 file_off");
	EQ(r.dev, 1, "run 2 dev");
	EQ(r.dev_off, 16 * MiB + 4 * MiB, "run 2 dev_off");
	EQ(r.len, 1 * MiB, "run 2 len");
	assert_false(famrt_fmap_iter_next(&it, &r));
	famrt_fmap_free(m);
}

static void test_worked_example(void **state)
{
	(void)state;
	worked_example(false, false);
	worked_example(false, true);
	worked_example(true, false);
	worked_example(true, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_random_maps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

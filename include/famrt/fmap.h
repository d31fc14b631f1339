/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt fmap: the map from a file's bytes to places on dax devices.
 *
 * The wire form is the GET_FMAP reply of the famfs kernel patch, byte for
 * byte (docs/fmap-format.md). famrt_fmap_decode() validates a message and
 * builds an in-memory map in one pass; the resolver turns file offsets into
 * (device, device offset, contiguous length) runs. Nothing here does I/O or
 * keeps global state; every function is safe to call from any thread on
 * distinct objects, and a decoded map may be shared read-only by any number
 * of threads.
 */
#ifndef FAMRT_FMAP_H
#define FAMRT_FMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <famrt/common.h>

FAMRT_BEGIN_DECLS

/* Constants of the wire format. */
#define FAMRT_FMAP_VERSION 1u
#define FAMRT_FMAP_MSG_MAX 32768u     /* largest message accepted */
#define FAMRT_FMAP_MAX_EXTENTS 32u    /* nextents is 1..32 */
#define FAMRT_FMAP_MAX_STRIPS 32u     /* ie_nstrips is 1..32 */
#define FAMRT_FMAP_DEFAULT_ALIGN (2u * 1024 * 1024)
#define FAMRT_FMAP_HEADER_SIZE 32u
#define FAMRT_FMAP_SIMPLE_EXT_SIZE 24u
#define FAMRT_FMAP_IEXT_SIZE 24u
#define FAMRT_FMAP_MSG_MIN (FAMRT_FMAP_HEADER_SIZE + FAMRT_FMAP_SIMPLE_EXT_SIZE)

enum famrt_fmap_file_type {
	FAMRT_FMAP_FILE_REG = 0,
	FAMRT_FMAP_FILE_SUPERBLOCK = 1,
	FAMRT_FMAP_FILE_LOG = 2,
};

enum famrt_fmap_ext_type {
	FAMRT_FMAP_EXT_SIMPLE = 0,
	FAMRT_FMAP_EXT_INTERLEAVE = 1,
};

/*
 * The wire structures, for reference and for code that builds messages by
 * hand. All fields are little-endian on the wire; the codec reads and writes
 * them byte by byte, so these structs are never cast onto a buffer by famrt
 * itself. Sizes and offsets are checked at compile time.
 */
struct famrt_fmap_wire_header {
	uint8_t file_type;     /* enum famrt_fmap_file_type */
	uint8_t reserved;      /* must be 0 */
	uint16_t fmap_version; /* FAMRT_FMAP_VERSION */
	uint32_t ext_type;     /* enum famrt_fmap_ext_type */
	uint32_t nextents;     /* 1..32 */
	uint32_t reserved0;    /* must be 0 */
	uint64_t file_size;
	uint64_t reserved1;    /* must be 0 */
};

struct famrt_fmap_wire_simple_ext {
	uint32_t se_devindex;
	uint32_t reserved;     /* must be 0 */
	uint64_t se_offset;    /* byte offset on the device */
	uint64_t se_len;
};

struct famrt_fmap_wire_iext {
	uint32_t ie_nstrips;   /* 1..32 simple extents follow */
	uint32_t ie_chunk_size;
	uint64_t ie_nbytes;    /* bytes of the file this extent holds */
	uint64_t reserved;     /* must be 0 */
};

/* Which validation rule a message broke. */
enum famrt_fmap_rule {
	FAMRT_FMAP_RULE_NONE = 0,
	FAMRT_FMAP_RULE_LIMITS,          /* caller's limits unusable */
	FAMRT_FMAP_RULE_TOO_LARGE,       /* message over 32768 bytes */
	FAMRT_FMAP_RULE_TRUNCATED,       /* message ends inside a structure */
	FAMRT_FMAP_RULE_TRAILING,        /* bytes after the last extent */
	FAMRT_FMAP_RULE_FILE_TYPE,       /* unknown file_type */
	FAMRT_FMAP_RULE_VERSION,         /* unknown fmap_version */
	FAMRT_FMAP_RULE_EXT_TYPE,        /* unknown ext_type */
	FAMRT_FMAP_RULE_RESERVED,        /* a reserved field is not 0 */
	FAMRT_FMAP_RULE_NEXTENTS,        /* nextents not in 1..32 */
	FAMRT_FMAP_RULE_NSTRIPS,         /* ie_nstrips not in 1..32 */
	FAMRT_FMAP_RULE_ZERO_LENGTH,     /* se_len is 0 */
	FAMRT_FMAP_RULE_UNALIGNED,       /* se_offset or se_len not aligned */
	FAMRT_FMAP_RULE_CHUNK_ZERO,      /* ie_chunk_size is 0 */
	FAMRT_FMAP_RULE_CHUNK_UNALIGNED, /* ie_chunk_size not aligned */
	FAMRT_FMAP_RULE_NBYTES_ZERO,     /* ie_nbytes is 0 */
	FAMRT_FMAP_RULE_NBYTES_CAPACITY, /* ie_nbytes more than the strips hold */
	FAMRT_FMAP_RULE_DEVINDEX,        /* device index >= number of devices */
	FAMRT_FMAP_RULE_DEVICE_BOUNDS,   /* extent runs past its device's end */
	FAMRT_FMAP_RULE_OVERFLOW,        /* a sum of lengths passes 2^64 */
	FAMRT_FMAP_RULE_SHORT,           /* extents hold less than file_size */
	FAMRT_FMAP_RULE_NOMEM,           /* out of memory */
	FAMRT_FMAP_RULE_COUNT_
};

/*
 * What a refused message broke. `field` is the wire field's name (static
 * storage) or NULL; `extent` and `strip` are indexes or -1; `msg_offset` is
 * the byte offset of the field in the message. `message` is one line that
 * says all of it, for people.
 */
struct famrt_fmap_error {
	enum famrt_fmap_rule rule;
	const char *field;
	int32_t extent;
	int32_t strip;
	uint64_t msg_offset;
	char message[224];
};

/*
 * What the caller knows of the devices. Pass NULL to decode for the default
 * (2 MiB alignment, no device checks).
 */
struct famrt_fmap_limits {
	size_t size;               /* sizeof(struct famrt_fmap_limits) */
	uint64_t align;            /* power of two; 0 means 2 MiB */
	uint32_t ndevices;         /* 0: device index and bounds not checked */
	const uint64_t *dev_size;  /* ndevices sizes in bytes (needed if ndevices) */
	const uint64_t *dev_align; /* optional per-device alignment (power of
				    * two); an extent on device d must be
				    * aligned to max(align, dev_align[d]) */
};

/* One strip of an interleaved extent, or one simple extent. */
struct famrt_fmap_strip {
	uint32_t devindex;
	uint64_t offset;
	uint64_t len;
};

/*
 * One extent. A simple extent has nstrips 1, chunk_size 0, nbytes equal to
 * its length and strips[0] as its place. file_offset and file_bytes are
 * filled by famrt_fmap_get_extent() (where in the file the extent starts and
 * how many bytes of the file it holds) and ignored when encoding.
 */
struct famrt_fmap_extent {
	uint32_t nstrips;
	uint32_t chunk_size;
	uint64_t nbytes;
	uint64_t file_offset;
	uint64_t file_bytes;
	struct famrt_fmap_strip strips[FAMRT_FMAP_MAX_STRIPS];
};

/* A whole map in plain form, for building messages (about 25 KiB). */
struct famrt_fmap_desc {
	uint8_t file_type;
	uint8_t ext_type;
	uint32_t nextents;
	uint64_t file_size;
	struct famrt_fmap_extent extents[FAMRT_FMAP_MAX_EXTENTS];
};

/* A contiguous piece of a file on one device. */
struct famrt_fmap_run {
	uint64_t file_off; /* file offset of the first byte */
	uint64_t dev_off;  /* device offset of the first byte */
	uint64_t len;      /* contiguous bytes */
	uint32_t dev;      /* device index */
};

/* A decoded, validated map (opaque, immutable). */
struct famrt_fmap;

/*
 * Iterator over the runs of a file range. Stack-allocate it; the fields are
 * private to the library.
 */
struct famrt_fmap_iter {
	const struct famrt_fmap *map_;
	uint64_t off_;
	uint64_t end_;
	uint64_t pend_off_;
	uint64_t pend_len_;
	uint32_t ext_;
	uint32_t pend_dev_;
};

/* Short name of a rule ("unaligned", "nextents", ...), never NULL. */
FAMRT_API const char *famrt_fmap_rule_name(enum famrt_fmap_rule rule);

/*
 * Validate the message msg[0..len) against every rule of the format and,
 * only if it passes, build the in-memory map in *out. Returns 0, or
 * -EINVAL (a rule broken), -E2BIG (message or a count over its maximum),
 * -ENOMEM; on failure *out is NULL and, if err is not NULL, *err says which
 * rule, field and index.
 */
FAMRT_API FAMRT_NODISCARD int
famrt_fmap_decode(const void *msg, size_t len,
		  const struct famrt_fmap_limits *lim, struct famrt_fmap **out,
		  struct famrt_fmap_error *err);

/* Free a map from famrt_fmap_decode() or famrt_fmap_build(); NULL is ok. */
FAMRT_API void famrt_fmap_free(struct famrt_fmap *map);

/* Size in bytes of the map's wire message. */
FAMRT_API size_t famrt_fmap_encoded_size(const struct famrt_fmap *map);

/*
 * Write the map's wire message into buf. Returns its length, or -ENOSPC if
 * buflen is too small. encode(decode(m)) reproduces m exactly.
 */
FAMRT_API ssize_t famrt_fmap_encode(const struct famrt_fmap *map, void *buf,
				    size_t buflen);

/*
 * Write the wire message for desc without validating it (tests and tools
 * use this to make any message, valid or not). Returns its length, -EINVAL
 * when desc cannot be represented (nextents or nstrips over 32, ext_type
 * unknown), or -ENOSPC.
 */
FAMRT_API ssize_t famrt_fmap_desc_encode(const struct famrt_fmap_desc *desc,
					 void *buf, size_t buflen);

/* Encode desc and decode the result: a validated map or an error. */
FAMRT_API FAMRT_NODISCARD int
famrt_fmap_build(const struct famrt_fmap_desc *desc,
		 const struct famrt_fmap_limits *lim, struct famrt_fmap **out,
		 struct famrt_fmap_error *err);

/* Copy a map into plain form. */
FAMRT_API void famrt_fmap_to_desc(const struct famrt_fmap *map,
				  struct famrt_fmap_desc *desc);

FAMRT_API uint64_t famrt_fmap_file_size(const struct famrt_fmap *map);
FAMRT_API enum famrt_fmap_file_type
famrt_fmap_file_type(const struct famrt_fmap *map);
FAMRT_API enum famrt_fmap_ext_type
famrt_fmap_ext_type(const struct famrt_fmap *map);
FAMRT_API uint32_t famrt_fmap_nextents(const struct famrt_fmap *map);
/* Highest device index any extent or strip uses. */
FAMRT_API uint32_t famrt_fmap_max_devindex(const struct famrt_fmap *map);

/* Extent idx in plain form; -ERANGE if idx >= nextents. */
FAMRT_API int famrt_fmap_get_extent(const struct famrt_fmap *map,
				    uint32_t idx,
				    struct famrt_fmap_extent *ext);

/*
 * Resolve one file offset: the device, device offset and the contiguous
 * bytes from there to the end of the piece holding it (the simple extent, or
 * the chunk of an interleaved extent), clipped at the file size. Returns 0,
 * or -ERANGE if off >= file size. Adjacent pieces that happen to be
 * contiguous on the device are not merged here; the iterator merges them.
 */
FAMRT_API int famrt_fmap_resolve(const struct famrt_fmap *map, uint64_t off,
				 struct famrt_fmap_run *run);

/*
 * Start iterating over the runs of [off, off + len), clipped at the file
 * size (nothing at all when off >= size). Runs come in file order, cover the
 * range exactly, and are maximal: two consecutive runs are never contiguous
 * on the same device.
 */
FAMRT_API void famrt_fmap_iter_init(struct famrt_fmap_iter *it,
				    const struct famrt_fmap *map, uint64_t off,
				    uint64_t len);

/* Next run; false when the range is exhausted. */
FAMRT_API bool famrt_fmap_iter_next(struct famrt_fmap_iter *it,
				    struct famrt_fmap_run *run);

FAMRT_END_DECLS

#endif /* FAMRT_FMAP_H */

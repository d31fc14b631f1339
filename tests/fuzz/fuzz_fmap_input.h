/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layout of a fuzz_fmap input, shared by the target and the corpus
 * generator: a 24-byte prefix that chooses the decode limits and the probe
 * offsets, then the fmap message itself.
 *
 *   byte 0     bits 0-2: alignment, an index into fmap_fuzz_align[]
 *              bits 3-5: number of devices, modulo 5 (0 to 4)
 *              bit 6:    per-device alignments from byte 6
 *              bit 7:    decode with NULL limits (the defaults)
 *   byte 1     bit 0:    limits.size covers only .align (an old caller)
 *              bit 1:    limits.size is 4, too small (refused)
 *              bit 2:    dev_size is NULL (refused when devices are named)
 *   bytes 2-5  device sizes, one byte each: fmap_fuzz_dev_size()
 *   byte 6     per-device alignment, 2 bits a device (device 0 lowest):
 *              an index into fmap_fuzz_dev_align[]
 *   byte 7     bit 0:    device 0's alignment is 12 KiB, not a power of
 *                        two (refused when per-device alignments count)
 *   bytes 8-15 little-endian u64: a probe offset (taken modulo the size)
 *   bytes 16-23 little-endian u64: a range length for the iterator
 */
#ifndef FAMRT_FUZZ_FMAP_INPUT_H
#define FAMRT_FUZZ_FMAP_INPUT_H

#include <stdint.h>

#define FMAP_FUZZ_PREFIX 24u
#define FMAP_FUZZ_MAX_DEV 4u

#define FMAP_FUZZ_ALIGN_MASK 0x07u
#define FMAP_FUZZ_NDEV_SHIFT 3u
#define FMAP_FUZZ_DEV_ALIGN 0x40u
#define FMAP_FUZZ_NULL_LIMITS 0x80u
#define FMAP_FUZZ_SHORT_LIMITS 0x01u
#define FMAP_FUZZ_TINY_LIMITS 0x02u
#define FMAP_FUZZ_NO_DEV_SIZE 0x04u
#define FMAP_FUZZ_BAD_DEV_ALIGN 0x01u

/* Alignment indexes of byte 0; 5 and 6 are not powers of two. */
enum {
	FMAP_FUZZ_A4K = 0,
	FMAP_FUZZ_A2M = 1,
	FMAP_FUZZ_A1G = 2,
	FMAP_FUZZ_A64K = 3,
	FMAP_FUZZ_ADEFAULT = 4, /* 0: the library's default, 2 MiB */
	FMAP_FUZZ_ABAD12K = 5,
	FMAP_FUZZ_ABADODD = 6,
	FMAP_FUZZ_A4K_B = 7,
};

static const uint64_t fmap_fuzz_align[8] = {
	4096, 2u << 20, 1u << 30, 65536, 0, 12288, (2u << 20) + 1, 4096,
};

static const uint64_t fmap_fuzz_dev_align[4] = {
	4096, 2u << 20, 1u << 30, 65536,
};

/* 0xff: no limit (UINT64_MAX); otherwise the byte times 32 MiB. */
static inline uint64_t fmap_fuzz_dev_size(uint8_t b)
{
	return b == 0xff ? UINT64_MAX : (uint64_t)b << 25;
}

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The input format of fuzz_log, shared with gen_log_corpus (which writes its
 * seeds). Byte 0 chooses the mode:
 *
 * FUZZ_LOG_RECORDS (0): byte 1 is the split: that many records are written
 *   before the file system is opened, the others after, then picked up with
 *   famrt_fs_follow. Then records until the input ends, each
 *     u8 ctl, u8 type, u16 len (little-endian), len bytes
 *   sealed by the harness as log entries with the next sequence number (so
 *   CRCs are right unless ctl says otherwise). ctl bits: FUZZ_LOG_CTL_*.
 *   With FUZZ_LOG_CTL_BUILD the bytes are not the payload but a compact
 *   description the harness turns into one (see fuzz_log.c):
 *     mkdir:      path (the rest of the bytes)
 *     create:     u8 path length, path, u16 file size in 512-byte units,
 *                 u8 extents (bit 7 interleaved, bits 5-6 the fmap's
 *                 file_type, bits 0-4 count - 1), then
 *                 per simple extent    u8 dev, u16 offset, u8 length - 1
 *                 per interleaved one  u8 strips - 1, u8 chunk - 1,
 *                                      u16 nbytes, then per strip as a
 *                                      simple extent
 *                 (offsets, lengths, chunks and nbytes in 4 KiB units;
 *                 offsets from the device's data start)
 *     add-device: u8 index, u16 size, u8 log2(alignment), u16 data start
 *                 (sizes in 4 KiB units)
 * FUZZ_LOG_RAW (1): the rest is the log region itself (tail slots first);
 *   the harness fixes the CRC of both tail slots and of every entry it can
 *   frame, so mutations reach the payloads.
 * FUZZ_LOG_DECODERS (2): byte 1 chooses a decoder (FUZZ_LOG_DEC_*, bit 7:
 *   fix the CRC first), the rest is its input.
 * FUZZ_LOG_SUPER (3): byte 1 holds FUZZ_LOG_SB_* flags, then records as in
 *   mode 0 (all written before the open) preceded by u8 npatch and npatch
 *   patches (u16 offset, u8 value) to the superblocks or the label.
 */
#ifndef FAMRT_FUZZ_LOG_INPUT_H
#define FAMRT_FUZZ_LOG_INPUT_H

/* The file system every input runs on. */
#define FUZZ_LOG_UNIT 4096u
#define FUZZ_LOG_LOG_SIZE (256u * 1024)
#define FUZZ_LOG_DEV0_SIZE (1024u * 1024)
#define FUZZ_LOG_DEV1_SIZE (512u * 1024)
#define FUZZ_LOG_MASTER "fuzz-master"

enum {
	FUZZ_LOG_RECORDS = 0,
	FUZZ_LOG_RAW = 1,
	FUZZ_LOG_DECODERS = 2,
	FUZZ_LOG_SUPER = 3,
};

#define FUZZ_LOG_CTL_SKIPPABLE 0x01 /* entry flag: skippable */
#define FUZZ_LOG_CTL_BAD_FLAGS 0x02 /* entry flag 0x8000, unknown */
#define FUZZ_LOG_CTL_BAD_CRC 0x04   /* CRC off by one bit */
#define FUZZ_LOG_CTL_BAD_SEQ 0x08   /* sequence number one too high */
#define FUZZ_LOG_CTL_TAIL 0x10      /* record the tail after it */
#define FUZZ_LOG_CTL_TAIL_X 0x20    /* with TAIL: the tail claims one entry
				     * more; alone: a damaged tail slot */
#define FUZZ_LOG_CTL_TORN 0x40      /* no commit word: a torn entry */
#define FUZZ_LOG_CTL_BUILD 0x80     /* bytes describe the payload */

enum {
	FUZZ_LOG_DEC_SB = 0,
	FUZZ_LOG_DEC_LABEL = 1,
	FUZZ_LOG_DEC_TAIL = 2,
	FUZZ_LOG_DEC_ENTRY = 3,
	FUZZ_LOG_DEC_MKDIR = 4,
	FUZZ_LOG_DEC_CREATE = 5,
	FUZZ_LOG_DEC_ADD_DEVICE = 6,
	FUZZ_LOG_DEC_PATH = 7,
	FUZZ_LOG_DEC_UUID = 8,
	FUZZ_LOG_DEC_COUNT_
};
#define FUZZ_LOG_DEC_FIX_CRC 0x80

#define FUZZ_LOG_SB_FIX_PRIMARY 0x01 /* recompute the primary's CRC */
#define FUZZ_LOG_SB_FIX_BACKUP 0x02  /* and the backup's */
#define FUZZ_LOG_SB_LABEL 0x04       /* patch device 1's label instead */

#endif

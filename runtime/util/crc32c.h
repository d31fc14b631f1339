/* SPDX-License-Identifier: Apache-2.0 */
#ifndef FAMRT_UTIL_CRC32C_H
#define FAMRT_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * CRC-32C of buf, continuing from crc (0 to start): crc32c(a||b) ==
 * famrt_crc32c_update(famrt_crc32c_update(0, a), b).
 */
uint32_t famrt_crc32c_update(uint32_t crc, const void *buf, size_t len);
/* The same, always with the portable table (for tests). */
uint32_t famrt_crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif

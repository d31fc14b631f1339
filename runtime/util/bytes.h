/* SPDX-License-Identifier: Apache-2.0 */
/* Little-endian loads and stores on byte buffers (no alignment needed). */
#ifndef FAMRT_UTIL_BYTES_H
#define FAMRT_UTIL_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint16_t famrt_le16_get(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] | (uint16_t)b[1] << 8);
}

static inline uint32_t famrt_le32_get(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static inline uint64_t famrt_le64_get(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)famrt_le32_get(b) | (uint64_t)famrt_le32_get(b + 4) << 32;
}

static inline void famrt_le16_put(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static inline void famrt_le32_put(void *p, uint32_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static inline void famrt_le64_put(void *p, uint64_t v)
{
	famrt_le32_put(p, (uint32_t)v);
	famrt_le32_put((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

#endif

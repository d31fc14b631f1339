/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The selector byte that starts every fuzz_proto input (shared with
 * gen_proto_corpus, which writes its seeds). See fuzz_proto.c.
 */
#ifndef FAMRT_FUZZ_PROTO_INPUT_H
#define FAMRT_FUZZ_PROTO_INPUT_H

#define FUZZ_PROTO_WHAT 0x0f /* bits 0-3: what to decode */
#define FUZZ_PROTO_REQUEST 0 /* also 1 and 10..15 */
#define FUZZ_PROTO_ATTR 2
#define FUZZ_PROTO_HELLO 3
#define FUZZ_PROTO_DEVICES 4
#define FUZZ_PROTO_STATFS 5
#define FUZZ_PROTO_ERROR 6
#define FUZZ_PROTO_READDIR 7
#define FUZZ_PROTO_OPEN 8
#define FUZZ_PROTO_EXTENTS 9
#define FUZZ_PROTO_FLAG 0x10 /* requests: fix magic and length first;
			      * readdir: stop at the first entry */
#define FUZZ_PROTO_ERRSIZE_SHIFT 5 /* bits 5-7: error buffer size */

#endif

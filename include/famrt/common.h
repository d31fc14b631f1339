/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt: definitions shared by every public header.
 */
#ifndef FAMRT_COMMON_H
#define FAMRT_COMMON_H

#if defined(__GNUC__) || defined(__clang__)
#define FAMRT_API __attribute__((visibility("default")))
#define FAMRT_NODISCARD __attribute__((warn_unused_result))
#else
#define FAMRT_API
#define FAMRT_NODISCARD
#endif

#ifdef __cplusplus
#define FAMRT_BEGIN_DECLS extern "C" {
#define FAMRT_END_DECLS }
#else
#define FAMRT_BEGIN_DECLS
#define FAMRT_END_DECLS
#endif

#endif /* FAMRT_COMMON_H */

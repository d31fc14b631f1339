/* SPDX-License-Identifier: Apache-2.0 */
/* dax internals visible to the library's own tests, never exported. */
#ifndef FAMRT_DAX_INTERNAL_H
#define FAMRT_DAX_INTERNAL_H

#include "dax.h"

/*
 * Describe the device-dax device whose sysfs directory is sysdir (normally
 * /sys/dev/char/MAJ:MIN) into d: kind, devname, size, align, numa_node,
 * target_node. name is the path used in messages. The refusals of
 * famrt_dev_open for character devices (ENODEV, EBUSY, ENXIO, EINVAL) come
 * from here; tests point it at a fake sysfs tree.
 */
int famrt_dax_sysfs_probe(const char *sysdir, const char *name,
			  struct famrt_dev *d, struct famrt_err *e);

/* CPU features the flush code cares about. */
enum {
	FAMRT_CPU_CLFLUSH = 1u << 0,
	FAMRT_CPU_CLFLUSHOPT = 1u << 1,
	FAMRT_CPU_CLWB = 1u << 2,
};

/* Cache-maintenance instructions, as chosen. */
enum famrt_flush_insn {
	FAMRT_FLUSH_NONE = 0, /* no instruction: fences only (not x86) */
	FAMRT_FLUSH_CLFLUSH = 1,
	FAMRT_FLUSH_CLFLUSHOPT = 2,
	FAMRT_FLUSH_CLWB = 3,
};

/*
 * The pure choice: given the CPU's features and the FAMRT_FLUSH value (or
 * NULL), the instructions used to flush and to invalidate.
 */
void famrt_flush_choose(unsigned cpu_features, const char *env,
			enum famrt_flush_insn *flush,
			enum famrt_flush_insn *inval);
/* What CPUID says this CPU has (FAMRT_CPU_* bits), and its line size. */
unsigned famrt_cpu_features(unsigned *line_size);
/* Forget the choice so that the next call reads FAMRT_FLUSH again (tests). */
void famrt_flush_reset(void);

#endif

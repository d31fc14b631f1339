/* SPDX-License-Identifier: Apache-2.0 */
/* Device discovery (libdaxctl) and NUMA locality (hwloc). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <daxctl/libdaxctl.h>
#include <hwloc.h>

#include "dax.h"

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* libdaxctl logs to stderr by default; the library must not print. */
static void quiet_log(struct daxctl_ctx *ctx, int priority, const char *file,
		      int line, const char *fn, const char *format,
		      va_list args)
{
	(void)ctx;
	(void)priority;
	(void)file;
	(void)line;
	(void)fn;
	(void)format;
	(void)args;
}

static int read_attr(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int read_node(const char *devname, const char *attr)
{
	char path[128], buf[32], *end;
	long v;

	snprintf(path, sizeof(path), "/sys/bus/dax/devices/%s/%s", devname,
		 attr);
	if (read_attr(path, buf, sizeof(buf)))
		return -1;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || *end || v < -1 || v > INT_MAX)
		return -1;
	return (int)v;
}

static void read_driver(const char *devname, char *buf, size_t len)
{
	char path[128], target[PATH_MAX];
	const char *slash;
	ssize_t n;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/bus/dax/devices/%s/driver", devname);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	slash = strrchr(target, '/');
	copy_str(buf, len, slash ? slash + 1 : target);
}

/* famrt_numa_node_cpus on a loaded topology. */
static int node_cpus(hwloc_topology_t topo, int node, char *buf, size_t len)
{
	hwloc_obj_t obj;
	int w;

	obj = hwloc_get_numanode_obj_by_os_index(topo, (unsigned)node);
	if (!obj)
		return -ENOENT;
	if (!obj->cpuset || hwloc_bitmap_iszero(obj->cpuset))
		return 0;
	w = hwloc_bitmap_list_snprintf(buf, len, obj->cpuset);
	if (w < 0 || (size_t)w >= len) {
		buf[0] = '\0';
		return w < 0 ? -EIO : -ERANGE;
	}
	return 0;
}

static int topo_load(hwloc_topology_t *topo)
{
	int rc;

	if (hwloc_topology_init(topo))
		return errno ? -errno : -ENOMEM;
	if (hwloc_topology_load(*topo)) {
		rc = errno ? -errno : -EIO;
		hwloc_topology_destroy(*topo);
		return rc;
	}
	return 0;
}

/* topo is loaded on first need and kept for the other devices. */
static void fill_info(struct famrt_daxinfo *info, struct daxctl_region *region,
		      struct daxctl_dev *dev, hwloc_topology_t *topo,
		      int *topo_rc)
{
	const char *name = daxctl_dev_get_devname(dev);
	unsigned long align;

	memset(info, 0, sizeof(*info));
	copy_str(info->devname, sizeof(info->devname), name);
	snprintf(info->path, sizeof(info->path), "/dev/%s", info->devname);
	copy_str(info->region, sizeof(info->region),
		 daxctl_region_get_devname(region));
	info->size = daxctl_dev_get_size(dev);
	align = daxctl_dev_get_align(dev);
	if (!align) {
		/* No per-device align before Linux 5.10: the region's. */
		align = daxctl_region_get_align(region);
		if (align == ULONG_MAX)
			align = 0;
	}
	info->align = align;
	info->target_node = daxctl_dev_get_target_node(dev);
	if (info->target_node < -1)
		info->target_node = -1;
	info->numa_node = read_node(info->devname, "numa_node");
	read_driver(info->devname, info->driver, sizeof(info->driver));

	if (!daxctl_dev_is_enabled(dev))
		copy_str(info->mode, sizeof(info->mode), "disabled");
	else if (daxctl_dev_get_memory(dev) || !strcmp(info->driver, "kmem"))
		copy_str(info->mode, sizeof(info->mode), "system-ram");
	else if (!strcmp(info->driver, "fsdev_dax"))
		copy_str(info->mode, sizeof(info->mode), "fsdev");
	else if (!strcmp(info->driver, "device_dax") || !info->driver[0])
		/* The old dax class has no driver link and is devdax only. */
		copy_str(info->mode, sizeof(info->mode), "devdax");
	else
		copy_str(info->mode, sizeof(info->mode), "unknown");

	if (info->numa_node < 0)
		return;
	if (*topo_rc > 0)
		*topo_rc = topo_load(topo);
	if (*topo_rc == 0 && node_cpus(*topo, info->numa_node, info->near_cpus,
				       sizeof(info->near_cpus)))
		info->near_cpus[0] = '\0';
}

int famrt_dax_list(struct famrt_daxinfo **out, size_t *n, struct famrt_err *e)
{
	struct famrt_daxinfo *v = NULL, *nv;
	struct daxctl_region *region;
	struct daxctl_ctx *ctx;
	struct daxctl_dev *dev;
	size_t count = 0, cap = 0;
	hwloc_topology_t topo = NULL;
	int rc, topo_rc = 1; /* 1: not loaded yet */

	famrt_err_clear(e);
	*out = NULL;
	*n = 0;
	rc = daxctl_new(&ctx);
	if (rc < 0)
		return famrt_err_set(e, -rc,
				     "libdaxctl: cannot create a context: %s",
				     strerror(-rc));
	daxctl_set_log_fn(ctx, quiet_log);

	daxctl_region_foreach(ctx, region) {
		daxctl_dev_foreach(region, dev) {
			/* Unconfigured seed devices have size 0. */
			if (!daxctl_dev_get_size(dev))
				continue;
			if (count == cap) {
				cap = cap ? cap * 2 : 8;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					free(v);
					daxctl_unref(ctx);
					if (topo_rc == 0)
						hwloc_topology_destroy(topo);
					return famrt_err_set(e, ENOMEM,
							     "listing dax devices: "
							     "out of memory");
				}
				v = nv;
			}
			fill_info(&v[count++], region, dev, &topo, &topo_rc);
		}
	}
	daxctl_unref(ctx);
	if (topo_rc == 0)
		hwloc_topology_destroy(topo);
	*out = v;
	*n = count;
	return 0;
}

int famrt_numa_node_cpus(int node, char *buf, size_t len)
{
	hwloc_topology_t topo;
	int rc;

	if (!buf || !len)
		return -EINVAL;
	buf[0] = '\0';
	if (node < 0)
		return 0;
	rc = topo_load(&topo);
	if (rc)
		return rc;
	rc = node_cpus(topo, node, buf, len);
	hwloc_topology_destroy(topo);
	return rc;
}

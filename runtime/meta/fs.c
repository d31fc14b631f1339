/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File system: mkfs, open, replay/follow, appends. See fs.h and
 * docs/format.md for the layout and the crash-safety argument.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "meta/fs.h"
#include "util/bytes.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int read_id_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -ENODATA;
	}
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return n ? 0 : -ENODATA;
}

int famrt_host_id(char *buf, size_t len, struct famrt_err *e)
{
	const char *env = getenv("FAMRT_HOST_ID");
	char host[256];

	if (len < 2)
		return famrt_err_set(e, EINVAL, "host id buffer too small");
	if (env && *env) {
		if (strlen(env) > FAMRT_HOSTID_MAX || strlen(env) >= len)
			return famrt_err_set(e, ENAMETOOLONG,
					     "FAMRT_HOST_ID is longer than %u "
					     "bytes",
					     FAMRT_HOSTID_MAX);
		snprintf(buf, len, "%s", env);
		return 0;
	}
	if (!read_id_file("/etc/machine-id", buf, len) ||
	    !read_id_file("/var/lib/dbus/machine-id", buf, len))
		return 0;
	if (gethostname(host, sizeof(host)) == 0 && host[0]) {
		host[sizeof(host) - 1] = '\0';
		snprintf(buf, len, "host:%.*s",
			 (int)(len > 6 ? len - 6 : 0), host);
		return 0;
	}
	return famrt_err_set(e, ENOENT,
			     "cannot tell this host's id: set FAMRT_HOST_ID "
			     "or create /etc/machine-id");
}

/* ---- opening devices ---- */

static void close_devs(struct famrt_dev *dev, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		famrt_dev_close(&dev[i]);
}

static int open_devs(struct famrt_dev *dev, const char *const *paths,
		     uint32_t n, bool rw, struct famrt_err *e)
{
	for (uint32_t i = 0; i < FAMRT_MAX_DEVS; i++)
		dev[i].fd = -1;
	if (n < 1 || n > FAMRT_MAX_DEVS)
		return famrt_err_set(e, EINVAL,
				     "a file system has 1 to %u devices, not %u",
				     FAMRT_MAX_DEVS, n);
	for (uint32_t i = 0; i < n; i++) {
		int rc = famrt_dev_open(&dev[i], paths[i], rw ? O_RDWR :
								O_RDONLY, e);

		if (!rc)
			rc = famrt_dev_map(&dev[i], e);
		if (rc) {
			close_devs(dev, i + 1);
			return rc;
		}
		for (uint32_t j = 0; j < i; j++) {
			struct stat a, b;

			if (!fstat(dev[i].fd, &a) && !fstat(dev[j].fd, &b) &&
			    a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
			    a.st_rdev == b.st_rdev) {
				close_devs(dev, i + 1);
				return famrt_err_set(e, EINVAL,
						     "'%s' is given twice (as "
						     "device %u and %u)",
						     paths[i], j, i);
			}
		}
	}
	return 0;
}

/* ---- mkfs ---- */

int famrt_mkfs(const char *const *paths, uint32_t n,
	       const struct famrt_mkfs_opts *o, uint8_t *uuid_out,
	       struct famrt_err *e)
{
	static const struct famrt_mkfs_opts defaults;
	struct famrt_dev dev[FAMRT_MAX_DEVS];
	struct famrt_sb sb;
	uint8_t block[FAMRT_SB_SIZE];
	uint64_t unit, log_size, log_end, max_align = 0;
	int rc;

	if (!o)
		o = &defaults;
	rc = open_devs(dev, paths, n, true, e);
	if (rc)
		return rc;
	memset(&sb, 0, sizeof(sb));

	/* Refuse to overwrite a file system unless forced. */
	if (!o->force) {
		struct famrt_sb old;
		struct famrt_label lab;
		char u[37];

		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *b = dev[i].base;

			if (dev[i].size < FAMRT_SB_SIZE)
				continue;
			famrt_invalidate_range(b, FAMRT_SB_SIZE);
			if (!famrt_sb_decode(b, &old, NULL)) {
				famrt_uuid_format(old.uuid, u);
				rc = famrt_err_set(e, EEXIST,
						   "'%s' holds famrt file system "
						   "'%s' (%s); use --force to "
						   "overwrite it",
						   paths[i], old.name, u);
				goto out;
			}
			if (!famrt_label_decode(b, &lab, NULL)) {
				famrt_uuid_format(lab.fs_uuid, u);
				rc = famrt_err_set(e, EEXIST,
						   "'%s' is device %u of famrt "
						   "file system %s; use --force "
						   "to overwrite it",
						   paths[i], lab.devindex, u);
				goto out;
			}
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		if (o->dev_align) {
			if (!is_pow2(o->dev_align) ||
			    o->dev_align < dev[i].align) {
				rc = famrt_err_set(e, EINVAL,
						   "alignment %llu is not a power "
						   "of two >= '%s''s own %llu",
						   (unsigned long long)o->dev_align,
						   paths[i],
						   (unsigned long long)dev[i].align);
				goto out;
			}
			dev[i].align = o->dev_align;
		}
		if (dev[i].align > max_align)
			max_align = dev[i].align;
	}
	unit = o->alloc_unit ? o->alloc_unit : FAMRT_DEFAULT_UNIT;
	if (unit < max_align)
		unit = o->alloc_unit ? unit : max_align;
	if (!is_pow2(unit) || unit < 4096 || unit < max_align) {
		rc = famrt_err_set(e, EINVAL,
				   "allocation unit %llu must be a power of two, "
				   "at least 4096 and at least every device's "
				   "alignment (largest here %llu)",
				   (unsigned long long)unit,
				   (unsigned long long)max_align);
		goto out;
	}
	log_size = o->log_size;
	if (!log_size) {
		log_size = dev[0].size / 8;
		if (log_size > FAMRT_LOG_DEFAULT_SIZE)
			log_size = FAMRT_LOG_DEFAULT_SIZE;
		if (log_size < FAMRT_LOG_MIN_SIZE)
			log_size = FAMRT_LOG_MIN_SIZE;
		log_size &= ~4095ull;
	}
	if (log_size < FAMRT_LOG_MIN_SIZE || (log_size & 4095)) {
		rc = famrt_err_set(e, EINVAL,
				   "log size %llu must be a multiple of 4096 and "
				   "at least %u",
				   (unsigned long long)log_size,
				   FAMRT_LOG_MIN_SIZE);
		goto out;
	}
	log_end = FAMRT_LOG_DEFAULT_OFFSET + log_size;

	sb.version = FAMRT_FORMAT_VERSION;
	rc = famrt_uuid_generate(sb.uuid);
	if (rc) {
		famrt_err_set(e, -rc, "cannot generate a uuid");
		goto out;
	}
	if (o->name && strlen(o->name) > FAMRT_NAME_MAX) {
		rc = famrt_err_set(e, ENAMETOOLONG,
				   "file system name is longer than %u bytes",
				   FAMRT_NAME_MAX);
		goto out;
	}
	snprintf(sb.name, sizeof(sb.name), "%s", o->name ? o->name : "famrt");
	if (o->master) {
		if (strlen(o->master) > FAMRT_HOSTID_MAX || !*o->master) {
			rc = famrt_err_set(e, EINVAL,
					   "master host id must be 1 to %u bytes",
					   FAMRT_HOSTID_MAX);
			goto out;
		}
		snprintf(sb.master, sizeof(sb.master), "%s", o->master);
	} else {
		rc = famrt_host_id(sb.master, sizeof(sb.master), e);
		if (rc)
			goto out;
	}
	sb.alloc_unit = unit;
	sb.log_offset = FAMRT_LOG_DEFAULT_OFFSET;
	sb.log_size = log_size;
	sb.ctime_ns = now_ns();
	sb.ndevs = n;
	sb.flags = o->noncoherent ? FAMRT_SB_NONCOHERENT : 0;
	for (uint32_t i = 0; i < n; i++) {
		struct famrt_sb_dev *d = &sb.devs[i];
		uint64_t start = i == 0 ? round_up(log_end, unit) :
					  round_up(FAMRT_LABEL_SIZE, unit);
		uint64_t end = dev[i].size & ~(unit - 1);

		if (start >= end) {
			rc = famrt_err_set(e, ENOSPC,
					   "device %u '%s' (%llu bytes) is too "
					   "small: its data would start at %llu "
					   "and it must hold at least one %llu-"
					   "byte allocation unit",
					   i, paths[i],
					   (unsigned long long)dev[i].size,
					   (unsigned long long)start,
					   (unsigned long long)unit);
			goto out;
		}
		rc = famrt_uuid_generate(d->uuid);
		if (rc) {
			famrt_err_set(e, -rc, "cannot generate a uuid");
			goto out;
		}
		d->size = dev[i].size;
		d->align = dev[i].align;
		d->data_start = start;
	}

	/* Clear the log, label the other devices, then the superblocks:
	 * the primary superblock, written last, makes the file system. */
	{
		uint8_t *b0 = dev[0].base;

		memset(b0, 0, FAMRT_SB_SIZE);
		famrt_flush_range(b0, FAMRT_SB_SIZE);
		memset(b0 + sb.log_offset, 0, log_size);
		famrt_flush_range(b0 + sb.log_offset, log_size);
	}
	for (uint32_t i = 1; i < n; i++) {
		struct famrt_label l = {
			.version = FAMRT_FORMAT_VERSION,
			.devindex = i,
			.size = sb.devs[i].size,
		};

		memcpy(l.fs_uuid, sb.uuid, 16);
		memcpy(l.dev_uuid, sb.devs[i].uuid, 16);
		famrt_label_encode(&l, block);
		memcpy(dev[i].base, block, FAMRT_LABEL_SIZE);
		famrt_flush_range(dev[i].base, FAMRT_LABEL_SIZE);
	}
	famrt_sb_encode(&sb, block);
	memcpy((uint8_t *)dev[0].base + FAMRT_SB_BACKUP_OFFSET, block,
	       FAMRT_SB_SIZE);
	famrt_flush_range((uint8_t *)dev[0].base + FAMRT_SB_BACKUP_OFFSET,
		    FAMRT_SB_SIZE);
	memcpy(dev[0].base, block, FAMRT_SB_SIZE);
	famrt_flush_range(dev[0].base, FAMRT_SB_SIZE);
	if (uuid_out)
		memcpy(uuid_out, sb.uuid, 16);
	rc = 0;
out:
	close_devs(dev, n);
	return rc;
}

/* ---- opening ---- */

static void note(struct famrt_fs *fs, uint32_t what, const struct famrt_err *e)
{
	if (!fs->damage && e)
		fs->first_problem = *e;
	fs->damage |= what;
}

static int read_sb(struct famrt_fs *fs, const char *path, struct famrt_err *e)
{
	const uint8_t *b = fs->dev[0].base;
	struct famrt_err e1, e2;
	struct famrt_sb backup;
	int r1, r2;

	if (fs->dev[0].size < 2 * FAMRT_SB_SIZE)
		return famrt_err_set(e, ENOENT,
				     "'%s' is too small to hold a famrt "
				     "superblock",
				     path);
	famrt_invalidate_range(b, 2 * FAMRT_SB_SIZE);
	r1 = famrt_sb_decode(b + FAMRT_SB_OFFSET, &fs->sb, &e1);
	r2 = famrt_sb_decode(b + FAMRT_SB_BACKUP_OFFSET, &backup, &e2);
	if (r1 == -ENOENT && r2 == -ENOENT) {
		struct famrt_label l;
		char u[37];

		if (!famrt_label_decode(b, &l, NULL)) {
			famrt_uuid_format(l.fs_uuid, u);
			return famrt_err_set(e, EINVAL,
					     "'%s' was given as device 0, but "
					     "it is device %u of famrt file "
					     "system %s: list the devices in "
					     "their order",
					     path, l.devindex, u);
		}
		return famrt_err_set(e, ENOENT,
				     "'%s' holds no famrt file system (no "
				     "superblock; make one with famrt mkfs)",
				     path);
	}
	if (r1 && r2)
		return famrt_err_set(e, -r1,
				     "'%s': both superblocks are unusable: "
				     "primary: %s; backup: %s",
				     path, e1.msg, e2.msg);
	if (r1) {
		famrt_err_prefix(&e1, "primary superblock on '%s'", path);
		note(fs, FAMRT_DAMAGE_SB_PRIMARY, &e1);
		fs->sb = backup;
	} else if (r2) {
		famrt_err_prefix(&e2, "backup superblock on '%s'", path);
		note(fs, FAMRT_DAMAGE_SB_BACKUP, &e2);
	} else if (memcmp(&fs->sb, &backup, sizeof(backup))) {
		struct famrt_err d;

		famrt_err_set(&d, EUCLEAN,
			      "backup superblock on '%s' differs from the "
			      "primary",
			      path);
		note(fs, FAMRT_DAMAGE_SB_BACKUP, &d);
	}
	return 0;
}

/* Check that open device i is device i of this file system. */
static int check_label(struct famrt_fs *fs, uint32_t i, struct famrt_err *e)
{
	struct famrt_dev *d = &fs->dev[i];
	const struct famrt_sb_dev *want = &fs->devs[i];
	struct famrt_label l;
	char u1[37], u2[37];
	int rc;

	if (d->size < want->size)
		return famrt_err_set(e, EINVAL,
				     "'%s' has %llu bytes but device %u of the "
				     "file system had %llu",
				     d->path, (unsigned long long)d->size, i,
				     (unsigned long long)want->size);
	if (d->align > want->align)
		return famrt_err_set(e, EINVAL,
				     "'%s' needs alignment %llu, more than the "
				     "%llu the file system was made with",
				     d->path, (unsigned long long)d->align,
				     (unsigned long long)want->align);
	d->align = want->align;
	if (i == 0)
		return 0; /* the superblock is device 0's label */
	famrt_invalidate_range(d->base, FAMRT_LABEL_SIZE);
	rc = famrt_label_decode(d->base, &l, e);
	if (rc == -ENOENT) {
		struct famrt_sb other;

		if (!famrt_sb_decode(d->base, &other, NULL))
			return famrt_err_set(e, EINVAL,
					     "'%s' was given as device %u, but "
					     "it is device 0 (the superblock) "
					     "of file system '%s'",
					     d->path, i, other.name);
		return famrt_err_set(e, EINVAL,
				     "'%s' was given as device %u but has no "
				     "famrt label",
				     d->path, i);
	}
	if (rc) {
		famrt_err_prefix(e, "'%s'", d->path);
		return rc;
	}
	famrt_uuid_format(fs->sb.uuid, u1);
	famrt_uuid_format(l.fs_uuid, u2);
	if (memcmp(l.fs_uuid, fs->sb.uuid, 16))
		return famrt_err_set(e, EINVAL,
				     "'%s' belongs to file system %s, not %s",
				     d->path, u2, u1);
	if (l.devindex != i)
		return famrt_err_set(e, EINVAL,
				     "'%s' is device %u of this file system "
				     "but was given as device %u: list the "
				     "devices in their order",
				     d->path, l.devindex, i);
	if (memcmp(l.dev_uuid, want->uuid, 16))
		return famrt_err_set(e, EINVAL,
				     "'%s' label names a device uuid the "
				     "file system does not list at index %u",
				     d->path, i);
	return 0;
}

static int add_fs_device(struct famrt_fs *fs, uint32_t i,
			 const struct famrt_sb_dev *d, struct famrt_err *e)
{
	uint64_t end = d->size & ~(fs->sb.alloc_unit - 1);

	fs->devs[i] = *d;
	return famrt_alloc_add_device(fs->alloc, i, d->data_start, end,
				      d->align, e);
}

int famrt_fs_open(struct famrt_fs **out, const char *const *paths, uint32_t n,
		  const struct famrt_fs_opts *o, struct famrt_err *e)
{
	static const struct famrt_fs_opts defaults;
	struct famrt_fs *fs;
	int rc;

	*out = NULL;
	if (!o)
		o = &defaults;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return famrt_err_set(e, ENOMEM, "out of memory");
	fs->readonly = o->readonly;
	famrt_err_clear(&fs->first_problem);
	rc = open_devs(fs->dev, paths, n, !o->readonly, e);
	if (rc) {
		free(fs);
		return rc;
	}
	fs->nopen = n;
	if (o->host_id) {
		snprintf(fs->host_id, sizeof(fs->host_id), "%s", o->host_id);
	} else {
		rc = famrt_host_id(fs->host_id, sizeof(fs->host_id), e);
		if (rc)
			goto fail;
	}
	rc = read_sb(fs, paths[0], e);
	if (rc)
		goto fail;
	if (fs->sb.log_offset + fs->sb.log_size > fs->dev[0].size) {
		rc = famrt_err_set(e, EINVAL,
				   "'%s' is smaller than the file system's log "
				   "region",
				   paths[0]);
		goto fail;
	}
	if (n < fs->sb.ndevs) {
		char u[37];

		famrt_uuid_format(fs->sb.devs[n].uuid, u);
		rc = famrt_err_set(e, EINVAL,
				   "the file system has %u devices but %u were "
				   "given: device %u (uuid %s, %llu bytes) is "
				   "missing",
				   fs->sb.ndevs, n, n, u,
				   (unsigned long long)fs->sb.devs[n].size);
		goto fail;
	}
	fs->is_master = !strcmp(fs->host_id, fs->sb.master);
	rc = famrt_ns_create(&fs->ns, e);
	if (!rc)
		rc = famrt_alloc_create(&fs->alloc, fs->sb.alloc_unit, e);
	if (rc)
		goto fail;
	for (uint32_t i = 0; i < fs->sb.ndevs; i++) {
		fs->devs[i] = fs->sb.devs[i];
		rc = check_label(fs, i, e);
		if (!rc)
			rc = add_fs_device(fs, i, &fs->sb.devs[i], e);
		if (rc)
			goto fail;
	}
	fs->ndevs = fs->sb.ndevs;
	fs->log = (uint8_t *)fs->dev[0].base + fs->sb.log_offset;
	fs->pos = FAMRT_LOG_ENTRIES_START;
	fs->next_seq = 1;
	rc = famrt_fs_follow(fs, NULL, e);
	if (rc)
		goto fail;
	if (n > fs->ndevs) {
		rc = famrt_err_set(e, EINVAL,
				   "%u devices were given but the file system "
				   "has %u",
				   n, fs->ndevs);
		goto fail;
	}
	if (!fs->readonly && (fs->damage & FAMRT_DAMAGE_DEVICE)) {
		/* A writer must never allocate on a device it cannot see,
		 * or on somebody else's. */
		rc = famrt_err_set(e, ENODEV,
				   "%s; open it read-only, or name all %u "
				   "devices in their order to change it",
				   fs->first_problem.msg, fs->ndevs);
		goto fail;
	}
	*out = fs;
	return 0;
fail:
	famrt_fs_close(fs);
	return rc;
}

void famrt_fs_close(struct famrt_fs *fs)
{
	if (!fs)
		return;
	close_devs(fs->dev, fs->nopen);
	famrt_ns_destroy(fs->ns);
	famrt_alloc_destroy(fs->alloc);
	free(fs);
}

void famrt_fs_fmap_limits(const struct famrt_fs *fs,
			  struct famrt_fmap_limits *lim, uint64_t *sizes,
			  uint64_t *aligns)
{
	for (uint32_t i = 0; i < fs->ndevs; i++) {
		sizes[i] = fs->devs[i].size;
		aligns[i] = fs->devs[i].align;
	}
	memset(lim, 0, sizeof(*lim));
	lim->size = sizeof(*lim);
	lim->align = 4096;
	lim->ndevices = fs->ndevs;
	lim->dev_size = sizes;
	lim->dev_align = aligns;
}

/* ---- following the log ---- */

/* A slot that holds something, but not a valid tail. */
static bool slot_bad(const uint8_t *b, int r)
{
	if (r == -ENODATA) {
		for (size_t i = 0; i < FAMRT_TAIL_SLOT_SIZE; i++)
			if (b[i])
				return true;
		return false; /* never written */
	}
	return r != 0;
}

static void read_tail(struct famrt_fs *fs)
{
	struct famrt_tail t[2];
	int r[2];

	for (int i = 0; i < 2; i++) {
		const uint8_t *b = fs->log + i * FAMRT_TAIL_SLOT_SIZE;
		uint32_t flag = i ? FAMRT_DAMAGE_TAIL1 : FAMRT_DAMAGE_TAIL0;
		struct famrt_err d;

		/*
		 * The master (another process or host) may be storing this
		 * slot right now: look again for a while before calling it
		 * damaged (once; a slot a crash left torn stays flagged).
		 */
		for (int tries = 0;; tries++) {
			famrt_invalidate_range(b, FAMRT_TAIL_SLOT_SIZE);
			r[i] = famrt_tail_decode(b, fs->sb.uuid, &t[i]);
			if (!slot_bad(b, r[i]) || (fs->damage & flag))
				break;
			if (tries == 20) {
				famrt_err_set(&d, EUCLEAN,
					      "log tail slot %d is damaged%s", i,
					      r[i] == -ENODATA ?
						      " (its magic is gone)" :
						      "");
				note(fs, flag, &d);
				break;
			}
			nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
		}
	}
	for (int i = 0; i < 2; i++)
		if (!r[i] && t[i].seq > fs->tail.seq)
			fs->tail = t[i];
}

/*
 * Look at the entry at pos. 1: valid (h filled). 0: the end of the log.
 * -EUCLEAN: a damaged entry the tail says was committed.
 */
static int check_at(struct famrt_fs *fs, uint64_t pos, uint64_t seq,
		    struct famrt_entry_hdr *h, struct famrt_err *why)
{
	uint64_t avail = fs->sb.log_size - pos;
	const uint8_t *p = fs->log + pos;

	famrt_invalidate_range(p, FAMRT_ENTRY_HDR_SIZE);
	/* The commit word is stored last: look at it before the rest. */
	if (__atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE) ==
	    FAMRT_ENTRY_MAGIC) {
		uint32_t len = famrt_le32_get(p + 20);

		if (len <= FAMRT_ENTRY_MAX_PAYLOAD &&
		    famrt_entry_size(len) <= avail)
			famrt_invalidate_range(p, famrt_entry_size(len));
	}
	return famrt_entry_check(p, avail, seq, fs->sb.uuid, h, why);
}

static int entry_at(struct famrt_fs *fs, uint64_t pos, uint64_t seq,
		    struct famrt_entry_hdr *h, struct famrt_err *e)
{
	struct famrt_err why;

	if (pos + FAMRT_ENTRY_HDR_SIZE > fs->sb.log_size)
		return 0;
	if (!check_at(fs, pos, seq, h, &why))
		return 1;
	if (fs->tail.seq < seq)
		read_tail(fs);
	/*
	 * The writer may have committed the entry and recorded the tail
	 * between our look at the entry and our read of the tail: it stores
	 * the entry before the tail, so look at the entry again now.
	 */
	if (fs->tail.seq >= seq) {
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!check_at(fs, pos, seq, h, &why))
			return 1;
		famrt_err_set(e, EUCLEAN,
			      "log entry %llu at log offset %llu is damaged "
			      "(%s), but the log tail says entries up to %llu "
			      "were committed",
			      (unsigned long long)seq,
			      (unsigned long long)pos, why.msg,
			      (unsigned long long)fs->tail.seq);
		note(fs, FAMRT_DAMAGE_LOG, e);
		return -EUCLEAN;
	}
	return 0;
}

static void skip_entry(struct famrt_fs *fs, const struct famrt_entry_hdr *h,
		       struct famrt_err *why)
{
	famrt_err_prefix(why, "log entry %llu (%s) not applied",
			 (unsigned long long)h->seq,
			 famrt_entry_type_name(h->type));
	note(fs, FAMRT_DAMAGE_SKIPPED, why);
	fs->last_skip = *why;
	fs->nskipped++;
}

static int apply_mkdir(struct famrt_fs *fs, const struct famrt_entry_hdr *h,
		       const uint8_t *p, struct famrt_err *why)
{
	struct famrt_ent_mkdir m;
	const struct famrt_node *parent, *x;
	const char *name;
	size_t nlen;
	int rc = famrt_ent_mkdir_decode(p, h->len, &m, why);

	if (!rc)
		rc = famrt_ns_prepare(fs->ns, m.path, m.path_len, &parent,
				      &name, &nlen, &x, why);
	if (!rc && !famrt_ns_add(fs->ns, parent, name, nlen, h->seq, m.mode,
				 m.uid, m.gid, h->time_ns, NULL, 0, NULL, why))
		rc = -ENOMEM;
	return rc;
}

/* Undo famrt_alloc_mark_fmap(map), newest first: it needs no memory. */
static void unmark_map(struct famrt_alloc *a, const struct famrt_fmap *map)
{
	bool ilv = famrt_fmap_ext_type(map) == FAMRT_FMAP_EXT_INTERLEAVE;
	struct famrt_fmap_extent x;

	for (uint32_t i = famrt_fmap_nextents(map); i-- > 0;) {
		famrt_fmap_get_extent(map, i, &x);
		for (uint32_t j = ilv ? x.nstrips : 1; j-- > 0;)
			(void)famrt_alloc_release(a, x.strips[j].devindex,
						  x.strips[j].offset,
						  x.strips[j].len, NULL);
	}
}

static int apply_create(struct famrt_fs *fs, const struct famrt_entry_hdr *h,
			const uint8_t *p, struct famrt_err *why)
{
	uint64_t sizes[FAMRT_MAX_DEVS], aligns[FAMRT_MAX_DEVS];
	struct famrt_fmap_limits lim;
	struct famrt_fmap_error ferr;
	struct famrt_ent_create c;
	struct famrt_fmap *map = NULL;
	const struct famrt_node *parent, *x;
	const char *name;
	size_t nlen;
	int rc = famrt_ent_create_decode(p, h->len, &c, why);

	if (!rc)
		rc = famrt_ns_prepare(fs->ns, c.path, c.path_len, &parent,
				      &name, &nlen, &x, why);
	if (rc)
		return rc;
	famrt_fs_fmap_limits(fs, &lim, sizes, aligns);
	rc = famrt_fmap_decode(c.fmap, c.fmap_len, &lim, &map, &ferr);
	if (rc)
		return famrt_err_set(why, -rc, "%s", ferr.message);
	if (famrt_fmap_file_type(map) != FAMRT_FMAP_FILE_REG) {
		unsigned type = famrt_fmap_file_type(map);

		famrt_fmap_free(map);
		return famrt_err_set(why, EINVAL,
				     "fmap file type %u is not a regular file",
				     type);
	}
	rc = famrt_alloc_mark_fmap(fs->alloc, map, why);
	if (rc) {
		famrt_fmap_free(map);
		return rc;
	}
	if (!famrt_ns_add(fs->ns, parent, name, nlen, h->seq, c.mode, c.uid,
			  c.gid, h->time_ns, c.fmap, c.fmap_len, map, why)) {
		/*
		 * Keep allocator and namespace in step: the entry is applied
		 * again by the next follow, which must find its space free.
		 */
		unmark_map(fs->alloc, map);
		famrt_fmap_free(map);
		return -ENOMEM;
	}
	return 0;
}

static int apply_add_device(struct famrt_fs *fs,
			    const struct famrt_entry_hdr *h, const uint8_t *p,
			    struct famrt_err *why)
{
	struct famrt_ent_add_device a;
	const struct famrt_sb_dev *d = &a.dev;
	int rc = famrt_ent_add_device_decode(p, h->len, &a, why);

	if (rc)
		return rc;
	if (a.devindex != fs->ndevs || fs->ndevs >= FAMRT_MAX_DEVS)
		return famrt_err_set(why, EINVAL,
				     "adds device %u, but the next index is %u "
				     "(at most %u devices)",
				     a.devindex, fs->ndevs, FAMRT_MAX_DEVS);
	if (!is_pow2(d->align) || d->align > fs->sb.alloc_unit ||
	    d->data_start % fs->sb.alloc_unit || d->data_start >= d->size ||
	    d->data_start < FAMRT_LABEL_SIZE)
		return famrt_err_set(why, EINVAL,
				     "device size %llu, alignment %llu, data "
				     "start %llu are inconsistent",
				     (unsigned long long)d->size,
				     (unsigned long long)d->align,
				     (unsigned long long)d->data_start);
	rc = add_fs_device(fs, a.devindex, d, why);
	if (rc)
		return rc;
	fs->ndevs++;
	if (a.devindex < fs->nopen) {
		rc = check_label(fs, a.devindex, why);
		if (rc) {
			note(fs, FAMRT_DAMAGE_DEVICE, why);
			famrt_err_clear(why);
		}
	} else {
		struct famrt_err m;

		famrt_err_set(&m, ENODEV,
			      "device %u added by log entry %llu was not given",
			      a.devindex, (unsigned long long)h->seq);
		note(fs, FAMRT_DAMAGE_DEVICE, &m);
	}
	return 0;
}

static int apply_setattr(struct famrt_fs *fs, const struct famrt_entry_hdr *h,
			 const uint8_t *p, struct famrt_err *why)
{
	struct famrt_ent_setattr a;
	struct famrt_node *n;
	int rc = famrt_ent_setattr_decode(p, h->len, &a, why);

	if (rc)
		return rc;
	/* The namespace owns its nodes; replay is what changes them. */
	n = (struct famrt_node *)famrt_ns_by_ino(fs->ns, a.ino);
	if (!n)
		return famrt_err_set(why, ENOENT, "no inode %llu",
				     (unsigned long long)a.ino);
	if (a.mode != FAMRT_SETATTR_KEEP)
		n->mode = (n->mode & ~07777u) | a.mode;
	if (a.uid != FAMRT_SETATTR_KEEP)
		n->uid = a.uid;
	if (a.gid != FAMRT_SETATTR_KEEP)
		n->gid = a.gid;
	return 0;
}

int famrt_fs_follow(struct famrt_fs *fs, uint64_t *applied,
		    struct famrt_err *e)
{
	uint64_t count = 0;
	int rc = 0;

	for (;;) {
		struct famrt_entry_hdr h;
		const uint8_t *p;
		struct famrt_err why;

		rc = entry_at(fs, fs->pos, fs->next_seq, &h, e);
		if (rc <= 0)
			break;
		p = fs->log + fs->pos + FAMRT_ENTRY_HDR_SIZE;
		famrt_err_clear(&why);
		if (h.flags & ~FAMRT_ENTRY_KNOWN_FLAGS) {
			rc = famrt_err_set(e, EPROTONOSUPPORT,
					   "log entry %llu has flags 0x%x this "
					   "famrt does not know: upgrade famrt",
					   (unsigned long long)h.seq, h.flags);
			break;
		}
		switch (h.type) {
		case FAMRT_ENTRY_MKDIR:
			rc = apply_mkdir(fs, &h, p, &why);
			break;
		case FAMRT_ENTRY_CREATE:
			rc = apply_create(fs, &h, p, &why);
			break;
		case FAMRT_ENTRY_ADD_DEVICE:
			rc = apply_add_device(fs, &h, p, &why);
			break;
		case FAMRT_ENTRY_SETATTR:
			rc = apply_setattr(fs, &h, p, &why);
			break;
		default:
			if (h.flags & FAMRT_ENTRY_SKIPPABLE) {
				rc = 0;
				break;
			}
			rc = famrt_err_set(e, EPROTONOSUPPORT,
					   "log entry %llu has type %u, which "
					   "this famrt does not know: upgrade "
					   "famrt",
					   (unsigned long long)h.seq, h.type);
			goto out;
		}
		if (rc == -ENOMEM) {
			famrt_err_set(e, ENOMEM, "%s", why.msg);
			goto out;
		}
		if (rc)
			skip_entry(fs, &h, &why);
		rc = 0;
		fs->pos += famrt_entry_size(h.len);
		fs->next_seq++;
		fs->nentries++;
		count++;
	}
out:
	if (applied)
		*applied = count;
	return rc < 0 ? rc : 0;
}

int famrt_fs_log_next(struct famrt_fs *fs, struct famrt_log_cursor *c,
		      struct famrt_entry_hdr *h, const uint8_t **payload,
		      struct famrt_err *e)
{
	int rc;

	if (c->seq == 0) {
		c->seq = 1;
		c->pos = FAMRT_LOG_ENTRIES_START;
	}
	rc = entry_at(fs, c->pos, c->seq, h, e);
	if (rc <= 0)
		return rc;
	*payload = fs->log + c->pos + FAMRT_ENTRY_HDR_SIZE;
	c->pos += famrt_entry_size(h->len);
	c->seq++;
	return 1;
}

/* ---- appending ---- */

/*
 * Write n bytes unless the test hook's byte budget runs out first; returns
 * false when it did (the "crash" point).
 */
static bool put(struct famrt_fs *fs, void *dst, const void *src, size_t n)
{
	if (fs->debug_cut) {
		if (fs->debug_cut - 1 < n) {
			memcpy(dst, src, fs->debug_cut - 1);
			fs->debug_cut = 0;
			return false;
		}
		fs->debug_cut -= n;
	}
	memcpy(dst, src, n);
	return true;
}

static int lock_log(struct famrt_fs *fs, struct famrt_err *e)
{
	char u[37];
	int rc;

	if (fs->readonly)
		return famrt_err_set(e, EROFS,
				     "file system '%s' was opened read-only",
				     fs->sb.name);
	if (!fs->is_master) {
		famrt_uuid_format(fs->sb.uuid, u);
		return famrt_err_set(e, EROFS,
				     "file system '%s' (%s) is changed only by "
				     "its master host '%s'; this host is '%s'",
				     fs->sb.name, u, fs->sb.master,
				     fs->host_id);
	}
	while (flock(fs->dev[0].fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return famrt_err_set(e, errno,
					     "cannot lock the log on '%s': %s",
					     fs->dev[0].path, strerror(errno));
	rc = famrt_fs_follow(fs, NULL, e);
	if (rc)
		flock(fs->dev[0].fd, LOCK_UN);
	return rc;
}

static void unlock_log(struct famrt_fs *fs)
{
	flock(fs->dev[0].fd, LOCK_UN);
}

/*
 * Append one entry (lock held, caught up). The order makes a crash at any
 * byte leave the whole entry or none: (1) zero the commit word of the slot
 * after this entry, so the log ends there once this entry is valid; (2)
 * write the body; (3) flush both; (4) store the commit word (magic + CRC)
 * in one 8-byte store and flush it: from here the entry is valid; (5)
 * record the new tail in the slot of this seq's parity, so a damaged
 * committed entry is told apart from a torn one.
 */
static int append(struct famrt_fs *fs, uint16_t type, const uint8_t *payload,
		  uint32_t len, uint64_t *seq_out, struct famrt_err *e)
{
	size_t size = famrt_entry_size(len);
	uint64_t pos = fs->pos, seq = fs->next_seq, commit;
	uint8_t *ent, *dst = fs->log + pos;
	uint8_t zero[8] = { 0 }, tail[FAMRT_TAIL_SLOT_SIZE];
	struct famrt_tail t;
	int rc = 0;

	if (len > FAMRT_ENTRY_MAX_PAYLOAD)
		return famrt_err_set(e, E2BIG, "log entry of %u bytes is over "
					       "the %u-byte limit",
				     len, FAMRT_ENTRY_MAX_PAYLOAD);
	if (pos + size + sizeof(zero) > fs->sb.log_size)
		return famrt_err_set(e, ENOSPC,
				     "the metadata log is full (%llu entries, "
				     "%llu of %llu bytes used)",
				     (unsigned long long)(fs->next_seq - 1),
				     (unsigned long long)pos,
				     (unsigned long long)fs->sb.log_size);
	ent = calloc(1, size);
	if (!ent)
		return famrt_err_set(e, ENOMEM, "out of memory for a log entry");
	memcpy(ent + FAMRT_ENTRY_HDR_SIZE, payload, len);
	commit = famrt_entry_seal(ent, seq, type, 0, len, now_ns(),
				  fs->sb.uuid);
	if (!put(fs, dst + size, zero, sizeof(zero)) ||
	    !put(fs, dst + 8, ent + 8, size - 8))
		goto cut;
	famrt_flush_range(dst, size + sizeof(zero));
	if (fs->debug_cut) {
		uint8_t cw[8];

		famrt_le64_put(cw, commit);
		if (!put(fs, dst, cw, 8))
			goto cut;
	} else {
		__atomic_store_n((uint64_t *)dst, commit, __ATOMIC_RELEASE);
	}
	famrt_flush_range(dst, 8);
	t.seq = seq;
	t.end = pos + size;
	famrt_tail_encode(&t, fs->sb.uuid, tail);
	if (!put(fs, fs->log + (seq & 1) * FAMRT_TAIL_SLOT_SIZE, tail,
		 sizeof(tail)))
		goto cut;
	famrt_flush_range(fs->log + (seq & 1) * FAMRT_TAIL_SLOT_SIZE, sizeof(tail));
	fs->debug_cut = 0; /* a budget larger than the append is used up */
	fs->tail = t;
	*seq_out = seq;
	free(ent);
	return 0;
cut:
	free(ent);
	rc = famrt_err_set(e, EINTR, "append cut short by the test hook");
	return rc;
}

/* Append and apply at once (lock held). */
static int append_apply(struct famrt_fs *fs, uint16_t type,
			const uint8_t *payload, uint32_t len,
			struct famrt_err *e)
{
	uint64_t seq = 0, applied = 0, skipped = fs->nskipped;
	int rc = append(fs, type, payload, len, &seq, e);

	if (rc)
		return rc;
	rc = famrt_fs_follow(fs, &applied, e);
	if (!rc && (fs->next_seq != seq + 1 || applied != 1 ||
		    fs->nskipped != skipped))
		rc = famrt_err_set(e, EIO,
				   "log entry %llu was appended but not "
				   "applied: %s",
				   (unsigned long long)seq,
				   fs->last_skip.msg);
	return rc;
}

int famrt_fs_mkdir(struct famrt_fs *fs, const char *path, uint32_t mode,
		   uint32_t uid, uint32_t gid, const struct famrt_node **out,
		   struct famrt_err *e)
{
	const struct famrt_node *parent, *x;
	const char *name;
	size_t nlen, plen = strlen(path);
	uint8_t buf[16 + FAMRT_PATH_MAX];
	struct famrt_ent_mkdir m = {
		.mode = mode & 07777, .uid = uid, .gid = gid, .path = path,
		.path_len = (uint16_t)plen,
	};
	ssize_t len;
	int rc;

	if (mode & ~07777u)
		return famrt_err_set(e, EINVAL, "mode 0%o has bits beyond 07777",
				     mode);
	rc = lock_log(fs, e);
	if (rc)
		return rc;
	rc = famrt_ns_prepare(fs->ns, path, plen, &parent, &name, &nlen, &x,
			      e);
	if (rc)
		goto out;
	len = famrt_ent_mkdir_encode(&m, buf, sizeof(buf));
	if (len < 0) {
		rc = famrt_err_set(e, (int)-len, "cannot encode mkdir entry");
		goto out;
	}
	rc = append_apply(fs, FAMRT_ENTRY_MKDIR, buf, (uint32_t)len, e);
	if (!rc && out)
		*out = famrt_ns_child(fs->ns, parent->ino, name, nlen);
out:
	unlock_log(fs);
	return rc;
}

int famrt_fs_create(struct famrt_fs *fs, const char *path, uint32_t mode,
		    uint32_t uid, uint32_t gid, uint64_t size,
		    const struct famrt_alloc_layout *lay,
		    const struct famrt_node **out, struct famrt_err *e)
{
	static const struct famrt_alloc_layout simple = { .kind =
							    FAMRT_LAYOUT_SIMPLE };
	uint64_t sizes[FAMRT_MAX_DEVS], aligns[FAMRT_MAX_DEVS];
	const struct famrt_node *parent, *x;
	struct famrt_fmap_limits lim;
	struct famrt_fmap_error ferr;
	struct famrt_fmap_desc *d = NULL;
	struct famrt_fmap *map = NULL;
	struct famrt_ent_create c;
	uint8_t *buf = NULL, *msg = NULL;
	const char *name;
	size_t nlen, plen = strlen(path);
	ssize_t mlen, len;
	bool allocated = false;
	int rc;

	if (mode & ~07777u)
		return famrt_err_set(e, EINVAL, "mode 0%o has bits beyond 07777",
				     mode);
	if (!lay)
		lay = &simple;
	rc = lock_log(fs, e);
	if (rc)
		return rc;
	rc = famrt_ns_prepare(fs->ns, path, plen, &parent, &name, &nlen, &x,
			      e);
	if (rc)
		goto out;
	d = malloc(sizeof(*d));
	msg = malloc(FAMRT_FMAP_MSG_MAX);
	buf = malloc(FAMRT_ENTRY_MAX_PAYLOAD);
	if (!d || !msg || !buf) {
		rc = famrt_err_set(e, ENOMEM, "out of memory");
		goto out;
	}
	rc = famrt_alloc_file(fs->alloc, size, lay, d, e);
	if (rc)
		goto out;
	allocated = true;
	famrt_fs_fmap_limits(fs, &lim, sizes, aligns);
	rc = famrt_fmap_build(d, &lim, &map, &ferr);
	if (rc) {
		rc = famrt_err_set(e, -rc, "allocator produced a bad map: %s",
				   ferr.message);
		goto out;
	}
	mlen = famrt_fmap_encode(map, msg, FAMRT_FMAP_MSG_MAX);
	famrt_fmap_free(map);
	if (mlen < 0) {
		rc = famrt_err_set(e, (int)-mlen, "cannot encode the fmap");
		goto out;
	}
	c = (struct famrt_ent_create){
		.mode = mode, .uid = uid, .gid = gid, .path = path,
		.path_len = (uint16_t)plen, .fmap = msg,
		.fmap_len = (uint32_t)mlen,
	};
	len = famrt_ent_create_encode(&c, buf, FAMRT_ENTRY_MAX_PAYLOAD);
	if (len < 0) {
		rc = famrt_err_set(e, (int)-len, "create entry for '%s' is too "
						 "large",
				   path);
		goto out;
	}
	/* Replay marks the space again from the logged map. */
	famrt_alloc_release_desc(fs->alloc, d);
	allocated = false;
	rc = append_apply(fs, FAMRT_ENTRY_CREATE, buf, (uint32_t)len, e);
	if (!rc && out)
		*out = famrt_ns_child(fs->ns, parent->ino, name, nlen);
out:
	if (allocated)
		famrt_alloc_release_desc(fs->alloc, d);
	unlock_log(fs);
	free(d);
	free(msg);
	free(buf);
	return rc;
}

int famrt_fs_add_device(struct famrt_fs *fs, const char *path,
			struct famrt_err *e)
{
	struct famrt_ent_add_device a;
	struct famrt_label l;
	struct famrt_sb other;
	struct famrt_dev *d;
	uint8_t block[FAMRT_LABEL_SIZE], buf[64];
	uint32_t i;
	ssize_t len;
	int rc;

	rc = lock_log(fs, e);
	if (rc)
		return rc;
	i = fs->ndevs;
	if (i >= FAMRT_MAX_DEVS || fs->nopen != i) {
		rc = famrt_err_set(e, EINVAL,
				   i >= FAMRT_MAX_DEVS ?
					   "the file system already has the "
					   "maximum of %u devices" :
					   "open the file system with all its "
					   "%u devices before adding one",
				   i >= FAMRT_MAX_DEVS ? FAMRT_MAX_DEVS : i);
		goto out;
	}
	d = &fs->dev[i];
	rc = famrt_dev_open(d, path, O_RDWR, e);
	if (!rc)
		rc = famrt_dev_map(d, e);
	if (rc)
		goto out_close;
	if (!famrt_label_decode(d->base, &l, NULL) ||
	    !famrt_sb_decode(d->base, &other, NULL)) {
		rc = famrt_err_set(e, EEXIST,
				   "'%s' already belongs to a famrt file system",
				   path);
		goto out_close;
	}
	memset(&a, 0, sizeof(a));
	a.devindex = i;
	a.dev.size = d->size;
	a.dev.align = d->align;
	a.dev.data_start = (FAMRT_LABEL_SIZE + fs->sb.alloc_unit - 1) &
			   ~(fs->sb.alloc_unit - 1);
	if (d->align > fs->sb.alloc_unit ||
	    a.dev.data_start + fs->sb.alloc_unit > d->size) {
		rc = famrt_err_set(e, EINVAL,
				   "'%s' (%llu bytes, alignment %llu) cannot "
				   "hold data in %llu-byte units after its "
				   "label",
				   path, (unsigned long long)d->size,
				   (unsigned long long)d->align,
				   (unsigned long long)fs->sb.alloc_unit);
		goto out_close;
	}
	rc = famrt_uuid_generate(a.dev.uuid);
	if (rc) {
		famrt_err_set(e, -rc, "cannot generate a uuid");
		goto out_close;
	}
	l = (struct famrt_label){ .version = FAMRT_FORMAT_VERSION,
				  .devindex = i, .size = d->size };
	memcpy(l.fs_uuid, fs->sb.uuid, 16);
	memcpy(l.dev_uuid, a.dev.uuid, 16);
	famrt_label_encode(&l, block);
	memcpy(d->base, block, sizeof(block));
	famrt_flush_range(d->base, sizeof(block));
	fs->nopen = i + 1;
	len = famrt_ent_add_device_encode(&a, buf, sizeof(buf));
	rc = append_apply(fs, FAMRT_ENTRY_ADD_DEVICE, buf, (uint32_t)len, e);
	if (!rc) {
		unlock_log(fs);
		return 0;
	}
	/* Not logged: the label stays, but the device is not ours. */
	fs->nopen = i;
out_close:
	famrt_dev_close(d);
	d->fd = -1;
out:
	unlock_log(fs);
	return rc;
}

const struct famrt_node *famrt_fs_lookup(struct famrt_fs *fs, const char *path,
					 int *rc, struct famrt_err *e)
{
	return famrt_ns_lookup(fs->ns, path, strlen(path), rc, e);
}

/* ---- hooks for grow.c (files created by writing) ---- */

int famrt_fs_lock(struct famrt_fs *fs, struct famrt_err *e)
{
	return lock_log(fs, e);
}

void famrt_fs_unlock(struct famrt_fs *fs)
{
	unlock_log(fs);
}

int famrt_fs_append(struct famrt_fs *fs, uint16_t type, const uint8_t *payload,
		    uint32_t len, struct famrt_err *e)
{
	return append_apply(fs, type, payload, len, e);
}

int famrt_fs_setattr(struct famrt_fs *fs, const char *path, uint32_t mode,
		     uint32_t uid, uint32_t gid, const struct famrt_node **out,
		     struct famrt_err *e)
{
	struct famrt_ent_setattr a = { .mode = mode, .uid = uid, .gid = gid };
	const struct famrt_node *n;
	uint8_t buf[32];
	ssize_t len;
	int rc;

	if (mode != FAMRT_SETATTR_KEEP && (mode & ~07777u))
		return famrt_err_set(e, EINVAL, "mode 0%o has bits beyond 07777",
				     mode);
	rc = lock_log(fs, e);
	if (rc)
		return rc;
	n = famrt_ns_lookup(fs->ns, path, strlen(path), &rc, e);
	if (!n)
		goto out;
	if (n->ino == FAMRT_ROOT_INO) {
		rc = famrt_err_set(e, EPERM,
				   "the root directory's attributes are fixed");
		goto out;
	}
	a.ino = n->ino;
	len = famrt_ent_setattr_encode(&a, buf, sizeof(buf));
	rc = append_apply(fs, FAMRT_ENTRY_SETATTR, buf, (uint32_t)len, e);
	if (!rc && out)
		*out = n;
out:
	unlock_log(fs);
	return rc;
}

int famrt_fs_probe(const char *path, struct famrt_sb *sb, struct famrt_err *e)
{
	struct famrt_dev d = { .fd = -1 };
	int rc = famrt_dev_open(&d, path, O_RDONLY, e);

	if (!rc)
		rc = famrt_dev_map(&d, e);
	if (rc) {
		famrt_dev_close(&d);
		return rc;
	}
	if (d.size < 2 * FAMRT_SB_SIZE) {
		famrt_dev_close(&d);
		return famrt_err_set(e, ENOENT,
				     "'%s' is too small to hold a famrt "
				     "superblock",
				     path);
	}
	famrt_invalidate_range(d.base, 2 * FAMRT_SB_SIZE);
	rc = famrt_sb_decode(d.base, sb, e);
	/* The primary may be damaged: the backup then. */
	if (rc && !famrt_sb_decode((uint8_t *)d.base + FAMRT_SB_BACKUP_OFFSET,
				   sb, NULL))
		rc = 0;
	famrt_dev_close(&d);
	if (rc)
		famrt_err_prefix(e, "'%s'", path);
	return rc;
}

int famrt_fs_probe_device(const char *path, uint8_t *fs_uuid, uint32_t *index,
			  struct famrt_err *e)
{
	struct famrt_dev d = { .fd = -1 };
	struct famrt_label l;
	struct famrt_sb sb;
	int rc = famrt_dev_open(&d, path, O_RDONLY, e);

	if (!rc)
		rc = famrt_dev_map(&d, e);
	if (rc) {
		famrt_dev_close(&d);
		return rc;
	}
	rc = -ENOENT;
	if (d.size >= 2 * FAMRT_SB_SIZE) {
		famrt_invalidate_range(d.base, 2 * FAMRT_SB_SIZE);
		if (!famrt_sb_decode(d.base, &sb, NULL) ||
		    !famrt_sb_decode((uint8_t *)d.base + FAMRT_SB_BACKUP_OFFSET,
				     &sb, NULL)) {
			memcpy(fs_uuid, sb.uuid, 16);
			*index = 0;
			rc = 0;
		} else if (!famrt_label_decode(d.base, &l, NULL)) {
			memcpy(fs_uuid, l.fs_uuid, 16);
			*index = l.devindex;
			rc = 0;
		}
	}
	famrt_dev_close(&d);
	if (rc)
		famrt_err_set(e, ENOENT, "'%s' holds no famrt superblock or label",
			      path);
	return rc;
}

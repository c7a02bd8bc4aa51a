// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Selective KSM partitions: named merge spaces with synchronous merging, as
 * posted in the Selective KSM RFC (not in mainline). Two backends, found by
 * probing: the RFC's sysfs layout (ksm/control/add_partition, a directory
 * per partition with trigger_merge and trigger_unmerge) and the RFC's
 * ksm_open()/ksm_merge() syscalls, whose numbers are only ever taken from
 * configuration. Without either, every call fails with -EOPNOTSUPP.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "internal.h"

#ifndef LIBKSM_SKSM_SYSCALLS
#define LIBKSM_SKSM_SYSCALLS ""
#endif

#define SKSM_ENV "LIBKSM_SKSM_SYSCALLS"

/* The RFC's files. */
#define CONTROL_DIR "control"
#define ADD_PARTITION "control/add_partition"
#define REMOVE_PARTITION "control/remove_partition"
#define TRIGGER_MERGE "trigger_merge"
#define TRIGGER_UNMERGE "trigger_unmerge"

/* How long ksm_partition_open() waits for the directory of a new partition. */
#define CREATE_WAIT_MS 500

struct ksm_partition {
	struct ksm_ctx *ctx;
	unsigned int backend; /* KSM_PARTITION_SYSFS or KSM_PARTITION_SYSCALL */
	unsigned int flags;   /* KSM_SYNC, KSM_CREAT, KSM_EXCL as opened */
	int fd;               /* sysfs: the partition's directory; syscall: the ksm_open() fd */
	long nr_merge;        /* syscall: the number of ksm_merge() */
	char name[KSM_PARTITION_NAME_MAX + 1];
};

struct sksm_syscalls {
	long open;
	long merge;
};

/* Every RFC syscall goes through here (one place for tests to trap). */
long ksm_sys_partition(long nr, long a1, long a2, long a3, long a4)
{
	long r = syscall(nr, a1, a2, a3, a4);

	return r < 0 ? -errno : r;
}

/*
 * Errors of the configured syscalls: ENOSYS means the kernel has no such
 * call. The RFC's calls read no user memory but the name, which is valid, so
 * EFAULT means the number belongs to another call (mainline reuses 467 and
 * 468): neither is Selective KSM.
 */
static int map_syscall_error(int r)
{
	return r == -ENOSYS || r == -EFAULT ? -EOPNOTSUPP : r;
}

/* A syscall number: decimal digits only, at most INT_MAX. */
static int parse_nr(const char *s, size_t len, long *nr)
{
	long v = 0;

	if (len == 0 || len > 10)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v > INT_MAX)
		return -EINVAL;
	*nr = v;
	return 0;
}

/*
 * The configured syscall numbers: the environment if set (an empty value
 * turns the backend off), else the build option. 1 if configured, 0 if not,
 * -EINVAL if the text is not "OPEN,MERGE".
 */
static int syscall_config(struct sksm_syscalls *nrs)
{
	const char *text = secure_getenv(SKSM_ENV);
	const char *comma;

	if (!text)
		text = LIBKSM_SKSM_SYSCALLS;
	if (!*text)
		return 0;
	comma = strchr(text, ',');
	if (!comma || parse_nr(text, (size_t)(comma - text), &nrs->open) < 0 ||
	    parse_nr(comma + 1, strlen(comma + 1), &nrs->merge) < 0 || nrs->open == nrs->merge)
		return -EINVAL;
	return 1;
}

static bool has_sysfs(const struct ksm_ctx *ctx)
{
	struct stat st;

	return ctx->ksmfd >= 0 && fstatat(ctx->ksmfd, ADD_PARTITION, &st, 0) == 0;
}

KSM_EXPORT int ksm_partition_backends(struct ksm_ctx *ctx)
{
	struct sksm_syscalls nrs;
	int r, bits = 0;

	if (!ctx)
		return -EINVAL;
	r = syscall_config(&nrs);
	if (r < 0)
		return r;
	if (r > 0)
		bits |= KSM_PARTITION_SYSCALL;
	if (has_sysfs(ctx))
		bits |= KSM_PARTITION_SYSFS;
	return bits;
}

/* ------------------------------------------------------------------------ */
/* Names                                                                     */

static bool reserved_name(const char *name)
{
	/* "partition" is where the LSF/MM proposal put partitions. */
	if (strcmp(name, CONTROL_DIR) == 0 || strcmp(name, "partition") == 0)
		return true;
	return ksm_knob_lookup(name) >= 0;
}

KSM_EXPORT int ksm_partition_name_check(const char *name)
{
	size_t len;

	if (!name || !*name)
		return -EINVAL;
	len = strnlen(name, KSM_PARTITION_NAME_MAX + 1);
	if (len > KSM_PARTITION_NAME_MAX)
		return -ENAMETOOLONG;
	if (name[0] == '.' || name[0] == '-')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return -EINVAL;
	}
	return reserved_name(name) ? -EINVAL : 0;
}

/* ------------------------------------------------------------------------ */
/* The sysfs backend                                                         */

/*
 * Open the directory of partition @name: the fd; -ENOENT if there is no
 * entry of that name; -EINVAL if the entry is not a partition (a file, or a
 * directory without trigger_merge); another -errno.
 */
static int open_partition_dir(int ksmfd, const char *name)
{
	struct stat st;
	int fd;

	fd = openat(ksmfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			return -EINVAL;
		return -errno;
	}
	if (fstatat(fd, TRIGGER_MERGE, &st, 0) < 0) {
		int r = errno == ENOENT ? -EINVAL : -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Kernel errors of a write to a control or trigger file. */
static int map_write_error(int r)
{
	/* Capabilities or an LSM refused: a question of privilege, as for knobs. */
	return r == -EPERM ? -EACCES : r;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000L;
}

/*
 * The kernel creates the directory of a new partition before the write to
 * add_partition returns; wait a little all the same, so that a tree in
 * which a slower party plays the kernel works too.
 */
static int wait_partition_dir(int ksmfd, const char *name)
{
	long deadline = now_ms() + CREATE_WAIT_MS;
	long delay = 1;
	int fd;

	for (;;) {
		fd = open_partition_dir(ksmfd, name);
		if (fd != -ENOENT)
			return fd;
		if (now_ms() >= deadline)
			return -EIO;
		sleep_ms(delay);
		if (delay < 16)
			delay *= 2;
	}
}

static int apply_mode(int dirfd, unsigned int mode)
{
	if (fchmodat(dirfd, TRIGGER_MERGE, (mode_t)mode, 0) < 0)
		return -errno;
	/* trigger_unmerge came with a later patch of the series; a kernel may lack it. */
	if (fchmodat(dirfd, TRIGGER_UNMERGE, (mode_t)mode, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int sysfs_open(struct ksm_ctx *ctx, const char *name, unsigned int flags, unsigned int mode)
{
	bool created = false;
	int fd, r;

	fd = open_partition_dir(ctx->ksmfd, name);
	if (fd >= 0 && (flags & KSM_EXCL)) {
		close(fd);
		return -EEXIST;
	}
	if (fd == -ENOENT) {
		if (!(flags & KSM_CREAT))
			return -ENOENT;
		/* The kernel takes all but the last byte: the newline is required. */
		r = map_write_error(ksm_write_at(ctx->ksmfd, ADD_PARTITION, name));
		if (r == -EEXIST && !(flags & KSM_EXCL)) {
			/* Created by someone else since we looked: open it. */
			fd = open_partition_dir(ctx->ksmfd, name);
		} else if (r < 0) {
			return r;
		} else {
			created = true;
			fd = wait_partition_dir(ctx->ksmfd, name);
		}
	}
	if (fd < 0)
		return fd;

	if (created) {
		r = apply_mode(fd, mode);
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	if ((flags & KSM_SYNC) && faccessat(fd, TRIGGER_MERGE, W_OK, AT_EACCESS) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* A range as the kernel's unsigned longs; -EINVAL if it wraps or does not fit. */
static int range_end(uint64_t addr, uint64_t size, unsigned long *start, unsigned long *end)
{
	if (addr > ULONG_MAX || size > ULONG_MAX - addr)
		return -EINVAL;
	*start = (unsigned long)addr;
	*end = (unsigned long)(addr + size);
	return 0;
}

/* Write @text to @file of the partition; a vanished partition is -ENOENT. */
static int sysfs_trigger(struct ksm_partition *part, const char *file, const char *text)
{
	struct stat st;
	int r = map_write_error(ksm_write_at(part->fd, file, text));

	if (r == -ENODEV)
		r = -ENOENT;
	if (r == -ENOENT && strcmp(file, TRIGGER_UNMERGE) == 0 &&
	    fstatat(part->fd, TRIGGER_MERGE, &st, 0) == 0)
		/* The partition is there, only without trigger_unmerge. */
		r = -EOPNOTSUPP;
	return r;
}

/* ------------------------------------------------------------------------ */
/* Public calls                                                              */

KSM_EXPORT int ksm_partition_open(struct ksm_ctx *ctx, const char *name, unsigned int flags,
				  unsigned int mode, struct ksm_partition **out)
{
	struct ksm_partition *part;
	struct sksm_syscalls nrs;
	int cfg, r, fd;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!ctx || !name)
		return -EINVAL;
	cfg = syscall_config(&nrs);
	if (cfg < 0)
		return cfg;
	if (cfg == 0 && !has_sysfs(ctx))
		return -EOPNOTSUPP;
	if (flags & ~(KSM_SYNC | KSM_CREAT | KSM_EXCL))
		return -EINVAL;
	if ((flags & KSM_EXCL) && !(flags & KSM_CREAT))
		return -EINVAL;
	if (mode & ~0777u)
		return -EINVAL;
	r = ksm_partition_name_check(name);
	if (r < 0)
		return r;

	part = calloc(1, sizeof(*part));
	if (!part)
		return -ENOMEM;
	if (cfg > 0) {
		/* ksm_open() has no mode: nothing could enforce one. */
		if ((flags & KSM_CREAT) && mode != 0) {
			free(part);
			return -EOPNOTSUPP;
		}
		fd = (int)ksm_sys_partition(nrs.open, (long)name,
					    ((flags & KSM_CREAT) ? O_CREAT : 0) |
					    ((flags & KSM_EXCL) ? O_EXCL : 0), 0, 0);
		fd = map_syscall_error(fd);
		/* The kernel's descriptor lacks close-on-exec. */
		if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			r = -errno;
			close(fd);
			fd = r;
		}
		part->backend = KSM_PARTITION_SYSCALL;
		part->nr_merge = nrs.merge;
	} else {
		fd = sysfs_open(ctx, name, flags, mode);
		part->backend = KSM_PARTITION_SYSFS;
	}
	if (fd < 0) {
		free(part);
		return fd;
	}
	part->fd = fd;
	part->flags = flags;
	part->ctx = ksm_ref(ctx);
	memcpy(part->name, name, strlen(name) + 1);
	*out = part;
	return 0;
}

KSM_EXPORT struct ksm_partition *ksm_partition_close(struct ksm_partition *part)
{
	if (!part)
		return NULL;
	close(part->fd);
	ksm_unref(part->ctx);
	free(part);
	return NULL;
}

KSM_EXPORT const char *ksm_partition_get_name(const struct ksm_partition *part)
{
	return part ? part->name : "";
}

KSM_EXPORT int ksm_partition_unlink(struct ksm_ctx *ctx, const char *name, unsigned int flags)
{
	int fd, r;

	if (!ctx || !name)
		return -EINVAL;
	if (!has_sysfs(ctx))
		return -EOPNOTSUPP;
	if (flags & ~KSM_UNLINK_ALLOW_UNMERGE)
		return -EINVAL;
	r = ksm_partition_name_check(name);
	if (r < 0)
		return r;
	fd = open_partition_dir(ctx->ksmfd, name);
	if (fd < 0)
		return fd;
	close(fd);
	/* The RFC's removal calls the global unmerge before freeing the partition. */
	if (!(flags & KSM_UNLINK_ALLOW_UNMERGE))
		return -EBUSY;
	/* remove_partition reads "%31s"; names are at most 31 characters. */
	return map_write_error(ksm_write_at(ctx->ksmfd, REMOVE_PARTITION, name));
}

KSM_EXPORT int ksm_partition_merge(struct ksm_partition *part, int pid, uint64_t addr, uint64_t size)
{
	unsigned long start, end;
	char text[64];
	long r;

	if (!part || pid < 0 || size == 0)
		return -EINVAL;
	if (!(part->flags & KSM_SYNC))
		return -EBADF;
	if (range_end(addr, size, &start, &end) < 0)
		return -EINVAL;
	if (pid == 0)
		pid = getpid();

	if (part->backend == KSM_PARTITION_SYSCALL) {
		r = ksm_sys_partition(part->nr_merge, part->fd, pid, (long)start, (long)size);
		return r < 0 ? map_syscall_error((int)r) : 0;
	}
	/* The kernel parses "%d %lx %lx": pid in decimal, start and end in hex. */
	snprintf(text, sizeof(text), "%d %lx %lx", pid, start, end);
	return sysfs_trigger(part, TRIGGER_MERGE, text);
}

KSM_EXPORT int ksm_partition_unmerge(struct ksm_partition *part, int pid, uint64_t addr, uint64_t size)
{
	unsigned long start, end;
	char text[32];

	if (!part || pid < 0)
		return -EINVAL;
	if (!(part->flags & KSM_SYNC))
		return -EBADF;
	if (size == 0 && addr != 0)
		return -EINVAL;
	if (range_end(addr, size, &start, &end) < 0)
		return -EINVAL;
	/* No backend unmerges a range, and the syscalls cannot unmerge at all. */
	if (size != 0 || part->backend != KSM_PARTITION_SYSFS)
		return -EOPNOTSUPP;
	if (pid == 0)
		pid = getpid();
	snprintf(text, sizeof(text), "%d", pid);
	return sysfs_trigger(part, TRIGGER_UNMERGE, text);
}

KSM_EXPORT int ksm_partition_stats_read(struct ksm_partition *part, struct ksm_stats *st)
{
	struct stat s;

	if (!part || !st)
		return -EINVAL;
	if (part->backend != KSM_PARTITION_SYSFS)
		return -EOPNOTSUPP;
	if (fstatat(part->fd, TRIGGER_MERGE, &s, 0) < 0)
		return errno == ENODEV ? -ENOENT : -errno;
	return ksm_stats_read_at(part->ctx, part->fd, st);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

KSM_EXPORT int ksm_partition_foreach(struct ksm_ctx *ctx, int (*fn)(const char *name, void *data),
				     void *data)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir;
	int fd, r = 0;

	if (!ctx || !fn)
		return -EINVAL;
	if (!has_sysfs(ctx))
		return -EOPNOTSUPP;
	fd = openat(ctx->ksmfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return r;
	}
	/* Collect first: @fn may create or remove partitions. */
	while ((errno = 0, de = readdir(dir))) {
		char *copy;
		int pfd;

		if (de->d_name[0] == '.' || strcmp(de->d_name, CONTROL_DIR) == 0)
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		pfd = open_partition_dir(dirfd(dir), de->d_name);
		if (pfd < 0)
			continue;
		close(pfd);
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nn = realloc(names, ncap * sizeof(*names));
			if (!nn) {
				r = -ENOMEM;
				break;
			}
			names = nn;
			cap = ncap;
		}
		copy = strdup(de->d_name);
		if (!copy) {
			r = -ENOMEM;
			break;
		}
		names[n++] = copy;
	}
	if (r == 0 && errno != 0)
		r = -errno;
	closedir(dir);

	if (r == 0) {
		if (n > 1) /* qsort() takes no NULL array, even empty */
			qsort(names, n, sizeof(*names), cmp_names);
		for (size_t i = 0; i < n; i++) {
			int f = fn(names[i], data);
			if (f < 0) {
				r = f;
				break;
			}
			r++;
			if (f > 0)
				break;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

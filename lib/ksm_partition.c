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
	int refcount;
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

/* What a failed call was doing, for its message. */
enum op { OP_OPEN, OP_CREATE, OP_REMOVE, OP_MERGE, OP_UNMERGE, OP_READ };

static const char *const op_verb[] = {
	[OP_OPEN] = "open",           [OP_CREATE] = "create",       [OP_REMOVE] = "remove",
	[OP_MERGE] = "merge into",    [OP_UNMERGE] = "unmerge in",  [OP_READ] = "read",
};

/* Length of the system root without trailing slashes: paths print as "%.*s/sys/...". */
static int root_len(const struct ksm_ctx *ctx)
{
	size_t len = strlen(ctx->sysroot);

	while (len > 0 && ctx->sysroot[len - 1] == '/')
		len--;
	return (int)len;
}

/* Every RFC syscall goes through here (one place for tests to trap). */
long ksm_sys_partition(long nr, long a1, long a2, long a3, long a4)
{
	long r = syscall(nr, a1, a2, a3, a4);

	return r < 0 ? -errno : r;
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
 * -EINVAL (recorded) if the text is not "OPEN,MERGE".
 */
static int syscall_config(struct sksm_syscalls *nrs)
{
	const char *text = secure_getenv(SKSM_ENV);
	bool from_env = text != NULL;
	const char *comma;

	if (!text)
		text = LIBKSM_SKSM_SYSCALLS;
	if (!*text)
		return 0;
	comma = strchr(text, ',');
	if (!comma || parse_nr(text, (size_t)(comma - text), &nrs->open) < 0 ||
	    parse_nr(comma + 1, strlen(comma + 1), &nrs->merge) < 0 || nrs->open == nrs->merge)
		return ksm_fail(-EINVAL,
				"%s must be \"OPEN,MERGE\", the numbers of the Selective KSM "
				"syscalls ksm_open() and ksm_merge() in decimal (or empty for "
				"none), not \"%s\"",
				from_env ? "the environment variable " SKSM_ENV :
					   "the build option sksm_syscalls",
				ksm_escape(text, 40, (char[256]){ 0 }, 256));
	return 1;
}

static bool has_sysfs(const struct ksm_ctx *ctx)
{
	struct stat st;

	return ctx->ksmfd >= 0 && fstatat(ctx->ksmfd, ADD_PARTITION, &st, 0) == 0;
}

/* No backend at all: what partitions are, and what to do instead. */
static int fail_unavailable(const struct ksm_ctx *ctx)
{
	return ksm_fail(-EOPNOTSUPP,
			"Selective KSM partitions are not available: this kernel has no Selective "
			"KSM interface (%.*s/sys/kernel/mm/ksm/" ADD_PARTITION ") and no partition "
			"syscalls are configured (" SKSM_ENV ", build option sksm_syscalls). "
			"Mainline Linux has not merged Selective KSM; its KSM merges across the "
			"whole system and cannot keep trust domains apart. Without isolation, "
			"merge only memory of one trust domain ('ksmctl exec', 'ksmctl merge-now')",
			root_len(ctx), ctx->sysroot);
}

/*
 * The sysfs backend is needed for @op: the message for a system without it,
 * where partitions are either missing or made by the syscalls.
 */
static int fail_no_sysfs(const struct ksm_ctx *ctx, const char *what)
{
	struct sksm_syscalls nrs;
	int cfg = syscall_config(&nrs);

	if (cfg <= 0)
		return fail_unavailable(ctx);
	return ksm_fail(-EOPNOTSUPP,
			"cannot %s: partitions of the Selective KSM syscalls (" SKSM_ENV ") have "
			"no directory in sysfs; each exists only while a process holds its "
			"descriptor from ksm_partition_open()",
			what);
}

/*
 * The configured syscalls are not the RFC's: ENOSYS means the kernel has no
 * such call. The RFC's calls read no user memory but the name, which is
 * valid, so EFAULT means the number belongs to another call (mainline reuses
 * 467 and 468): neither is Selective KSM. Returns -EOPNOTSUPP.
 */
static int fail_not_sksm_syscall(enum op op, const char *name, int kernel_err)
{
	return ksm_fail(-EOPNOTSUPP,
			"cannot %s partition '%s': the configured partition syscalls are not "
			"Selective KSM's on this kernel (%s); check " SKSM_ENV " and the build "
			"option sksm_syscalls",
			op_verb[op], name,
			kernel_err == -ENOSYS ? "no such syscall" : "the number belongs to another call");
}

/* Why a partition call failed with @err, per errno; @pid for merge and unmerge. */
static int fail_partition(enum op op, const char *name, int err, int pid)
{
	const char *why;
	char buf[160];

	switch (-err) {
	case ENOENT:
		if (op == OP_OPEN)
			why = "no such partition (see ksm_partition_foreach(), 'ksmctl partition "
			      "list'; KSM_CREAT creates it)";
		else if (op == OP_REMOVE)
			why = "no such partition (see 'ksmctl partition list')";
		else if (op == OP_CREATE)
			why = "the kernel's " ADD_PARTITION " is gone";
		else
			why = "the partition was removed";
		break;
	case EEXIST:
		why = "it already exists";
		break;
	case EACCES:
		if (op == OP_CREATE || op == OP_REMOVE)
			why = "permission denied: creating and removing partitions needs root";
		else
			why = "permission denied: the partition's mode, set when it was created "
			      "('ksmctl partition create --mode'), does not let this caller merge "
			      "and unmerge";
		break;
	case EROFS:
		why = "sysfs is mounted read-only (in a container, use the host's root as the "
		      "system root, e.g. /proc/1/root)";
		break;
	case ESRCH:
		snprintf(buf, sizeof(buf), "no process %d", pid);
		why = buf;
		break;
	case EINVAL:
		if (op != OP_MERGE && op != OP_UNMERGE) {
			why = strerror(-err);
			break;
		}
		snprintf(buf, sizeof(buf), "the kernel refused: process %d has no memory (a kernel "
					   "thread or a zombie)", pid);
		why = buf;
		break;
	case EIO:
		snprintf(buf, sizeof(buf), "the kernel accepted the name but no partition appeared "
					   "within %d ms", CREATE_WAIT_MS);
		why = buf;
		break;
	case ENOMEM:
		why = "the kernel ran out of memory";
		break;
	case EINTR:
		why = "a signal interrupted the unmerge";
		break;
	case EBADF:
		why = "the kernel rejected the partition's descriptor";
		break;
	default:
		why = strerror(-err);
		break;
	}
	return ksm_fail(err, "cannot %s partition '%s': %s", op_verb[op], name, why);
}

KSM_EXPORT int ksm_partition_backends(struct ksm_ctx *ctx)
{
	struct sksm_syscalls nrs;
	int r, bits = 0;

	ksm_fail_clear();
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

/* ksm_partition_name_check(), with the message recorded. */
static int check_name(const char *name)
{
	size_t len;

	if (!name || !*name)
		return ksm_fail(-EINVAL, "a partition name must not be empty");
	len = strnlen(name, KSM_PARTITION_NAME_MAX + 1);
	if (len > KSM_PARTITION_NAME_MAX)
		return ksm_fail(-ENAMETOOLONG, "partition name '%s...' is longer than %d characters",
				ksm_escape(name, KSM_PARTITION_NAME_MAX, (char[256]){ 0 }, 256),
				KSM_PARTITION_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-') || (i == 0 && (c == '.' || c == '-')))
			return ksm_fail(-EINVAL,
					"invalid partition name '%s': use letters, digits, '_', '.' "
					"and '-', not '.' or '-' first", KSM_ESC(name));
	}
	if (reserved_name(name))
		return ksm_fail(-EINVAL,
				"invalid partition name '%s': the name of a file of the KSM "
				"directory (a knob, 'control' or 'partition') is reserved", KSM_ESC(name));
	return 0;
}

KSM_EXPORT int ksm_partition_name_check(const char *name)
{
	ksm_fail_clear();
	return check_name(name);
}

/* ------------------------------------------------------------------------ */
/* The sysfs backend                                                         */

/*
 * Open the directory of partition @name: the fd; -ENOENT if there is no
 * entry of that name; -EINVAL if the entry is not a partition (a file, or a
 * directory without trigger_merge); another -errno. Records nothing.
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

/* open_partition_dir() with the message of a failure recorded. */
static int open_dir_or_fail(const struct ksm_ctx *ctx, enum op op, const char *name)
{
	int fd = open_partition_dir(ctx->ksmfd, name);

	if (fd == -EINVAL)
		return ksm_fail(fd, "cannot %s partition '%s': '%s' is no partition but another entry "
				    "of the KSM directory", op_verb[op], name, name);
	if (fd < 0)
		return fail_partition(op, name, fd, 0);
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

/*
 * chmod @name below @dirfd without following a symbolic link: fchmodat()
 * ignores AT_SYMLINK_NOFOLLOW on Linux, so the file is opened with
 * O_PATH|O_NOFOLLOW, checked to be a regular file, and changed through its
 * descriptor's /proc/self/fd entry (which names that very inode). -ELOOP for
 * a link, -EINVAL for another file type.
 */
static int chmod_nofollow(int dirfd, const char *name, mode_t mode)
{
	char path[64];
	struct stat st;
	int fd, r = 0;

	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISLNK(st.st_mode))
		r = -ELOOP;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (chmod(path, mode) < 0)
			r = -errno;
	}
	close(fd);
	return r;
}

/* Give the trigger files @mode; the name of the file that failed in *file. */
static int apply_mode(int dirfd, unsigned int mode, const char **file)
{
	int r;

	*file = TRIGGER_MERGE;
	r = chmod_nofollow(dirfd, TRIGGER_MERGE, (mode_t)mode);
	if (r < 0)
		return r;
	/* trigger_unmerge came with a later patch of the series; a kernel may lack it. */
	*file = TRIGGER_UNMERGE;
	r = chmod_nofollow(dirfd, TRIGGER_UNMERGE, (mode_t)mode);
	return r == -ENOENT ? 0 : r;
}

static int sysfs_open(struct ksm_ctx *ctx, const char *name, unsigned int flags, unsigned int mode)
{
	bool created = false;
	const char *file;
	int fd, r;

	fd = open_partition_dir(ctx->ksmfd, name);
	if (fd >= 0 && (flags & KSM_EXCL)) {
		close(fd);
		return fail_partition(OP_CREATE, name, -EEXIST, 0);
	}
	if (fd == -ENOENT) {
		if (!(flags & KSM_CREAT))
			return fail_partition(OP_OPEN, name, -ENOENT, 0);
		/* The kernel takes all but the last byte: the newline is required. */
		r = map_write_error(ksm_write_at(ctx->ksmfd, ADD_PARTITION, name));
		if (r == -EEXIST && !(flags & KSM_EXCL)) {
			/* Created by someone else since we looked: open it. */
			fd = open_dir_or_fail(ctx, OP_OPEN, name);
		} else if (r < 0) {
			return fail_partition(OP_CREATE, name, r, 0);
		} else {
			created = true;
			fd = wait_partition_dir(ctx->ksmfd, name);
			if (fd == -EINVAL)
				fd = open_dir_or_fail(ctx, OP_CREATE, name);
			else if (fd < 0)
				fd = fail_partition(OP_CREATE, name, fd, 0);
		}
	} else if (fd == -EINVAL) {
		return ksm_fail(fd, "cannot %s partition '%s': '%s' is no partition but another entry "
				    "of the KSM directory",
				op_verb[(flags & KSM_CREAT) ? OP_CREATE : OP_OPEN], name, name);
	} else if (fd < 0) {
		return fail_partition(OP_OPEN, name, fd, 0);
	}
	if (fd < 0)
		return fd;

	if (created) {
		r = apply_mode(fd, mode, &file);
		if (r < 0) {
			close(fd);
			return ksm_fail(r, "partition '%s' was created, but mode %#o cannot be given to "
					   "its %s: %s; the partition stays, writable by root only",
					name, mode, file,
					r == -ELOOP ? "it is a symbolic link, which is not followed" :
						      strerror(-r));
		}
	}
	if ((flags & KSM_SYNC) && faccessat(fd, TRIGGER_MERGE, W_OK, AT_EACCESS) < 0) {
		r = -errno;
		close(fd);
		return fail_partition(OP_OPEN, name, r, 0);
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
		return ksm_fail(-EOPNOTSUPP, "cannot unmerge in partition '%s': this kernel's "
					     "partitions offer no unmerge (no " TRIGGER_UNMERGE ")",
				part->name);
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

	ksm_fail_clear();
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!ctx || !name)
		return -EINVAL;
	cfg = syscall_config(&nrs);
	if (cfg < 0)
		return cfg;
	if (cfg == 0 && !has_sysfs(ctx))
		return fail_unavailable(ctx);
	if (flags & ~(KSM_SYNC | KSM_CREAT | KSM_EXCL | KSM_PERSIST))
		return ksm_fail(-EINVAL, "unknown flags %#x for ksm_partition_open()",
				flags & ~(KSM_SYNC | KSM_CREAT | KSM_EXCL | KSM_PERSIST));
	if ((flags & KSM_EXCL) && !(flags & KSM_CREAT))
		return ksm_fail(-EINVAL, "KSM_EXCL needs KSM_CREAT");
	if (mode & ~0777u)
		return ksm_fail(-EINVAL, "mode %#o is no permission mode (0 to 0777)", mode);
	r = check_name(name);
	if (r < 0)
		return r;

	/* Only the sysfs backend has partitions that outlive their handles. */
	if ((flags & KSM_PERSIST) && !has_sysfs(ctx))
		return ksm_fail(-EOPNOTSUPP,
				"cannot %s partition '%s' to outlast this process: the configured "
				"partition syscalls (" SKSM_ENV ") make partitions that exist only while "
				"a process holds their descriptor; open it with ksm_partition_open() in "
				"the process that merges",
				op_verb[(flags & KSM_CREAT) ? OP_CREATE : OP_OPEN], name);

	part = calloc(1, sizeof(*part));
	if (!part)
		return ksm_fail(-ENOMEM, "out of memory");
	if (cfg > 0 && !(flags & KSM_PERSIST)) {
		/* ksm_open() has no mode: nothing could enforce one. */
		if ((flags & KSM_CREAT) && mode != 0) {
			free(part);
			return ksm_fail(-EOPNOTSUPP,
					"cannot create partition '%s' with mode %#o: partitions of the "
					"Selective KSM syscalls (" SKSM_ENV ") have no permissions, so "
					"only mode 0 is accepted; and such a partition exists only while "
					"a process holds its descriptor: open it with libksm in the "
					"process that merges", name, mode);
		}
		fd = (int)ksm_sys_partition(nrs.open, (long)name,
					    ((flags & KSM_CREAT) ? O_CREAT : 0) |
					    ((flags & KSM_EXCL) ? O_EXCL : 0), 0, 0);
		if (fd == -ENOSYS || fd == -EFAULT)
			fd = fail_not_sksm_syscall((flags & KSM_CREAT) ? OP_CREATE : OP_OPEN, name, fd);
		else if (fd == -ENOENT)
			fd = ksm_fail(fd, "cannot open partition '%s': no such partition (one made by "
					  "the Selective KSM syscalls exists only while a process holds "
					  "its descriptor; KSM_CREAT creates it)", name);
		else if (fd == -EINVAL)
			fd = ksm_fail(fd, "cannot %s partition '%s': the kernel refused the call (if "
					  "syscall %ld is not Selective KSM's ksm_open() on this "
					  "kernel, check " SKSM_ENV " and the build option "
					  "sksm_syscalls)",
				      op_verb[(flags & KSM_CREAT) ? OP_CREATE : OP_OPEN], name, nrs.open);
		else if (fd < 0)
			fd = fail_partition((flags & KSM_CREAT) ? OP_CREATE : OP_OPEN, name, fd, 0);
		/* The kernel's descriptor lacks close-on-exec. */
		if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			r = -errno;
			close(fd);
			fd = ksm_fail(r, "cannot set close-on-exec on the descriptor of partition "
					 "'%s': %s", name, strerror(-r));
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
	part->refcount = 1;
	part->fd = fd;
	part->flags = flags;
	part->ctx = ksm_ref(ctx);
	memcpy(part->name, name, strlen(name) + 1);
	*out = part;
	return 0;
}

KSM_EXPORT struct ksm_partition *ksm_partition_ref(struct ksm_partition *part)
{
	if (part)
		__atomic_add_fetch(&part->refcount, 1, __ATOMIC_RELAXED);
	return part;
}

KSM_EXPORT struct ksm_partition *ksm_partition_unref(struct ksm_partition *part)
{
	if (!part)
		return NULL;
	if (__atomic_sub_fetch(&part->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return part;
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

	ksm_fail_clear();
	if (!ctx || !name)
		return -EINVAL;
	if (!has_sysfs(ctx))
		return fail_no_sysfs(ctx, "remove a partition by name");
	if (flags & ~KSM_UNLINK_ALLOW_UNMERGE)
		return ksm_fail(-EINVAL, "unknown flags %#x for ksm_partition_unlink()",
				flags & ~KSM_UNLINK_ALLOW_UNMERGE);
	r = check_name(name);
	if (r < 0)
		return r;
	fd = open_dir_or_fail(ctx, OP_REMOVE, name);
	if (fd < 0)
		return fd;
	close(fd);
	/* The RFC's removal calls the global unmerge before freeing the partition. */
	if (!(flags & KSM_UNLINK_ALLOW_UNMERGE))
		return ksm_fail(-EBUSY,
				"cannot remove partition '%s': on this kernel removing a partition "
				"unmerges every merged page of the system, in all partitions; pass "
				"KSM_UNLINK_ALLOW_UNMERGE ('ksmctl partition remove --allow-unmerge') "
				"to accept that", name);
	/* remove_partition reads "%31s"; names are at most 31 characters. */
	r = map_write_error(ksm_write_at(ctx->ksmfd, REMOVE_PARTITION, name));
	return r < 0 ? fail_partition(OP_REMOVE, name, r, 0) : 0;
}

/* The checks shared by merge and unmerge; 0 or -errno (recorded). */
static int check_trigger(struct ksm_partition *part, enum op op, int pid, uint64_t addr,
			 uint64_t size, unsigned long *start, unsigned long *end)
{
	if (!part)
		return -EINVAL;
	if (pid < 0)
		return ksm_fail(-EINVAL, "invalid process ID %d", pid);
	if (!(part->flags & KSM_SYNC))
		return ksm_fail(-EBADF, "cannot %s partition '%s': the handle was opened without "
					"KSM_SYNC and only reads statistics", op_verb[op], part->name);
	if (range_end(addr, size, start, end) < 0)
		return ksm_fail(-EINVAL, "cannot %s partition '%s': the range %#llx+%#llx wraps "
					 "or does not fit in an unsigned long",
				op_verb[op], part->name, (unsigned long long)addr,
				(unsigned long long)size);
	return 0;
}

KSM_EXPORT int ksm_partition_merge(struct ksm_partition *part, int pid, uint64_t addr, uint64_t size)
{
	unsigned long start, end;
	char text[64];
	long r;

	ksm_fail_clear();
	if (part && pid >= 0 && size == 0)
		return ksm_fail(-EINVAL, "cannot merge into partition '%s': the range is empty",
				part->name);
	r = check_trigger(part, OP_MERGE, pid, addr, size, &start, &end);
	if (r < 0)
		return (int)r;
	if (pid == 0)
		pid = getpid();

	if (part->backend == KSM_PARTITION_SYSCALL) {
		r = ksm_sys_partition(part->nr_merge, part->fd, pid, (long)start, (long)size);
		if (r == -ENOSYS || r == -EFAULT)
			return fail_not_sksm_syscall(OP_MERGE, part->name, (int)r);
		return r < 0 ? fail_partition(OP_MERGE, part->name, (int)r, pid) : 0;
	}
	/* The kernel parses "%d %lx %lx": pid in decimal, start and end in hex. */
	snprintf(text, sizeof(text), "%d %lx %lx", pid, start, end);
	r = sysfs_trigger(part, TRIGGER_MERGE, text);
	return r < 0 ? fail_partition(OP_MERGE, part->name, (int)r, pid) : 0;
}

KSM_EXPORT int ksm_partition_unmerge(struct ksm_partition *part, int pid, uint64_t addr, uint64_t size)
{
	unsigned long start, end;
	char text[32];
	int r;

	ksm_fail_clear();
	r = check_trigger(part, OP_UNMERGE, pid, addr, size, &start, &end);
	if (r < 0)
		return r;
	if (size == 0 && addr != 0)
		return ksm_fail(-EINVAL, "cannot unmerge in partition '%s': the range is empty (give "
					 "address and size 0 for the whole process)", part->name);
	/* No backend unmerges a range, and the syscalls cannot unmerge at all. */
	if (size != 0)
		return ksm_fail(-EOPNOTSUPP,
				"cannot unmerge a range in partition '%s': the kernel unmerges only "
				"whole processes, in every partition (address and size 0, "
				"'ksmctl partition unmerge %s PID')", part->name, part->name);
	if (part->backend != KSM_PARTITION_SYSFS)
		return ksm_fail(-EOPNOTSUPP, "cannot unmerge in partition '%s': the Selective KSM "
					     "syscalls have no unmerge call", part->name);
	if (pid == 0)
		pid = getpid();
	snprintf(text, sizeof(text), "%d", pid);
	r = sysfs_trigger(part, TRIGGER_UNMERGE, text);
	if (r == -EOPNOTSUPP)
		return r; /* recorded by sysfs_trigger() */
	return r < 0 ? fail_partition(OP_UNMERGE, part->name, r, pid) : 0;
}

KSM_EXPORT int ksm_partition_stats_read(struct ksm_partition *part, struct ksm_stats *st, size_t size)
{
	struct stat s;

	ksm_fail_clear();
	if (!part || !st)
		return -EINVAL;
	if (size < sizeof(st->present))
		return ksm_fail_struct_size("ksm_stats", size);
	if (part->backend != KSM_PARTITION_SYSFS)
		return ksm_fail(-EOPNOTSUPP, "cannot read partition '%s': partitions of the Selective "
					     "KSM syscalls have no directory and so no statistics",
				part->name);
	if (fstatat(part->fd, TRIGGER_MERGE, &s, 0) < 0)
		return fail_partition(OP_READ, part->name, errno == ENODEV ? -ENOENT : -errno,
				      0);
	return ksm_stats_read_at(part->ctx, part->fd, st, size);
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

	ksm_fail_clear();
	if (!ctx || !fn)
		return -EINVAL;
	if (!has_sysfs(ctx))
		return fail_no_sysfs(ctx, "list partitions");
	fd = openat(ctx->ksmfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		return ksm_fail(r, "cannot list partitions: cannot open %.*s/sys/kernel/mm/ksm: %s",
				root_len(ctx), ctx->sysroot, strerror(-r));
	}
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return ksm_fail(r, "cannot list partitions: %s", strerror(-r));
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
	if (r < 0)
		ksm_fail(r, "cannot list partitions in %.*s/sys/kernel/mm/ksm: %s", root_len(ctx),
			 ctx->sysroot, strerror(-r));

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

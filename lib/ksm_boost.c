// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Boosts: ksmd at full speed for a while, shared by every process that asks,
 * with the previous knob values kept durably so that nothing is lost when a
 * booster dies.
 *
 * State lives in <sysroot>/run/libksm, a directory that must belong to the
 * caller (or root) and be writable by nobody else; its path components are
 * opened one at a time without following symbolic links, and every file in
 * it must be a regular file. Anything else is refused (-EUCLEAN) before
 * anything is read or changed.
 *   boost.lock     flock()ed around every read-modify-write of the record;
 *                  the kernel drops the lock of a process that dies. The
 *                  wait for it is bounded (LOCK_WAIT_MS, then -ETIMEDOUT).
 *   boost          the record: the knob values from before the first boost
 *                  and one line per holder (pid, token). Written to a
 *                  temporary file, fsync()ed and renamed, before any knob
 *                  changes; removed only after the knobs were restored. Read
 *                  back, it is trusted only as far as it validates: boost
 *                  knobs only, each value one the knob table accepts, and
 *                  run 0 or 1.
 *   holder.TOKEN   one per holder, flock()ed by it for the whole boost. A
 *                  holder is alive while its file is locked: the kernel
 *                  drops the lock when the process dies, whatever pid
 *                  namespace it or the one that looks is in.
 * When no live holder is left, the saved values are written back, each only
 * where the knob still holds what the boost wrote: a change made during the
 * boost (ksmctl stop, set) is the administrator's and stays.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define BOOST_DIR "run/libksm"
#define LOCK_NAME "boost.lock"
#define RECORD_NAME "boost"
#define RECORD_TMP_NAME "boost.tmp"
#define HOLDER_PREFIX "holder."
#define BOOST_LOCK BOOST_DIR "/" LOCK_NAME
#define BOOST_RECORD BOOST_DIR "/" RECORD_NAME
#define BOOST_RECORD_TMP BOOST_DIR "/" RECORD_TMP_NAME
#define RECORD_MAGIC "libksm-boost 2"
#define RECORD_MAX_BYTES (256 * 1024)
#define MAX_HOLDERS 1024
#define LOCK_WAIT_MS 10000

/*
 * The boost, as policy: which knobs it wants at which values. ksm_apply()
 * (the transaction planner) decides the order of the writes, and the knob
 * table says which knobs depend on which. pages_to_scan is raised to
 * KSM_FAST_PAGES_TO_SCAN, never lowered.
 */
#define BIT(k) (UINT64_C(1) << (k))

static const struct {
	int knob;
	int64_t value;
} boost_values[] = {
	{ KSM_KNOB_RUN, KSM_RUN_MERGE },                    /* ksmd running */
	{ KSM_KNOB_PAGES_TO_SCAN, KSM_FAST_PAGES_TO_SCAN }, /* large batches */
	{ KSM_KNOB_SLEEP_MILLISECS, 0 },                    /* no sleep between them */
	{ KSM_KNOB_SMART_SCAN, 0 },                         /* no skipping of unchanged pages */
	{ KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE },        /* pages_to_scan as set here */
};

struct holder {
	int pid;         /* in the holder's pid namespace: for messages only */
	uint64_t token;  /* names its file holder.TOKEN */
};

struct record {
	bool exists;
	uint64_t saved_set;
	int64_t saved[KSM_KNOB_NR];
	int nholders;
	struct holder holders[MAX_HOLDERS];
};

struct ksm_boost {
	struct ksm_ctx *ctx;
	struct holder self;
	int holdfd; /* holder.TOKEN, locked while the boost lasts */
};

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */

/* Length of the system root without trailing slashes: paths print as "%.*s/run/...". */
static int root_len(const struct ksm_ctx *ctx)
{
	size_t len = strlen(ctx->sysroot);

	while (len > 0 && ctx->sysroot[len - 1] == '/')
		len--;
	return (int)len;
}

/* "cannot <what> <sysroot>/<path>: <strerror>"; returns @err. */
static int fail_file(const struct ksm_ctx *ctx, int err, const char *what, const char *path)
{
	return ksm_fail(err, "cannot %s %.*s/%s: %s", what, root_len(ctx), ctx->sysroot, path,
			strerror(-err));
}

/* The state directory or a file in it cannot be trusted: -EUCLEAN. */
static int fail_unsafe(const struct ksm_ctx *ctx, const char *path, const char *why)
{
	return ksm_fail(-EUCLEAN, "refusing to use %.*s/%s: %s; nothing was read or changed "
				  "(remove it if no boost is running)",
			root_len(ctx), ctx->sysroot, path, why);
}

/*
 * The message recorded for a failure, kept across the cleanup that follows
 * it (ending a boost, restoring knobs), which may record messages of its own.
 */
struct kept_msg {
	int err;
	char text[512];
};

static void msg_keep(struct kept_msg *m, int err)
{
	const char *t = ksm_fail_message(err);

	m->err = err;
	snprintf(m->text, sizeof(m->text), "%s", t ? t : strerror(-err));
}

/* Record the kept message again, with @suffix (may be ""); returns its error. */
static int msg_again(const struct kept_msg *m, const char *suffix)
{
	return ksm_fail(m->err, "%s%s", m->text, suffix);
}

static int fail_interrupted(const char *during)
{
	return ksm_fail(-EINTR, "interrupted %s; no knob was changed", during);
}

/* ------------------------------------------------------------------------ */
/* KSM disabled                                                              */

/*
 * Is merging disabled by the administrator, so that a boost must not switch
 * it on? 0 if not, -ECANCELED (recorded) if so, or -errno. Today: run=2, the
 * state that unmerged every page.
 */
static int ksm_disabled(struct ksm_ctx *ctx)
{
	int64_t run;
	int r = ksm_get(ctx, KSM_KNOB_RUN, &run);

	if (r < 0)
		return r;
	if (run == KSM_RUN_UNMERGE)
		return ksm_fail(-ECANCELED, "KSM is disabled: run is 2 (every page was unmerged); "
					    "a boost would merge again, so nothing was changed. "
					    "Start KSM first ('ksmctl start') if merging is wanted");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The state directory                                                       */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One directory below @parent, never through a symbolic link; created if @create. */
static int open_component(struct ksm_ctx *ctx, int parent, const char *name, const char *rel,
			  bool create)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
			return fail_file(ctx, -errno, "create", rel);
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd >= 0)
		return fd;
	if (errno == ELOOP || errno == ENOTDIR)
		return fail_unsafe(ctx, rel, "it is not a directory (a symbolic link or another file)");
	if (errno == ENOENT)
		return -ENOENT;
	return fail_file(ctx, -errno, "open", rel);
}

/*
 * <sysroot>/run/libksm, opened one component at a time and checked: it must
 * belong to the caller or root and be writable by nobody else. -ENOENT (not
 * recorded) if it does not exist and !@create.
 */
static int open_state_dir(struct ksm_ctx *ctx, bool create)
{
	struct stat st;
	char why[128];
	int run, dfd;

	run = open_component(ctx, ctx->rootfd, "run", "run", create);
	if (run < 0)
		return run;
	dfd = open_component(ctx, run, "libksm", BOOST_DIR, create);
	close(run);
	if (dfd < 0)
		return dfd;
	if (fstat(dfd, &st) < 0) {
		int r = -errno;

		close(dfd);
		return fail_file(ctx, r, "inspect", BOOST_DIR);
	}
	why[0] = '\0';
	if (st.st_uid != geteuid() && st.st_uid != 0)
		snprintf(why, sizeof(why), "it belongs to user %u, neither the caller (%u) nor root",
			 (unsigned int)st.st_uid, (unsigned int)geteuid());
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		snprintf(why, sizeof(why), "it is writable by %s (mode %04o)",
			 st.st_mode & S_IWOTH ? "others" : "its group",
			 (unsigned int)(st.st_mode & 07777));
	if (why[0]) {
		close(dfd);
		return fail_unsafe(ctx, BOOST_DIR, why);
	}
	return dfd;
}

/* Open @name in the state directory, which must be a regular file if it exists. */
static int open_regular(struct ksm_ctx *ctx, int dfd, const char *name, const char *rel, int flags,
			mode_t mode)
{
	struct stat st;
	int fd = openat(dfd, name, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);

	if (fd < 0) {
		if (errno == ELOOP)
			return fail_unsafe(ctx, rel, "it is a symbolic link");
		if (errno == ENOENT)
			return -ENOENT;
		return fail_file(ctx, -errno, "open", rel);
	}
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return fail_file(ctx, r, "inspect", rel);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail_unsafe(ctx, rel, "it is not a regular file");
	}
	return fd;
}

/*
 * Take the lock of the record; the fd, whose close releases it. Waits at
 * most LOCK_WAIT_MS (-ETIMEDOUT); when @interruptible, returns -EINTR as
 * soon as the caller's interrupt flag is raised or a signal handler runs.
 */
static int lock_state(struct ksm_ctx *ctx, int dfd, bool interruptible)
{
	int64_t deadline = now_ms() + LOCK_WAIT_MS;
	long interval_ns = 1000000;
	int fd;

	fd = open_regular(ctx, dfd, LOCK_NAME, BOOST_LOCK, O_RDWR | O_CREAT, 0600);
	if (fd == -ENOENT)
		return fail_file(ctx, fd, "open", BOOST_LOCK);
	if (fd < 0)
		return fd;
	for (;;) {
		struct timespec ts = { 0, interval_ns };
		int r;

		if (interruptible && ksm_interrupted(ctx)) {
			close(fd);
			return fail_interrupted("while waiting for the lock of the boost record");
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			r = -errno;
			close(fd);
			return fail_file(ctx, r, "lock", BOOST_LOCK);
		}
		if (now_ms() >= deadline) {
			close(fd);
			return ksm_fail(-ETIMEDOUT, "another process has held %.*s/" BOOST_LOCK
						    " for %d s; try again later (a stuck process "
						    "holding it can be found with fuser(1))",
					root_len(ctx), ctx->sysroot, LOCK_WAIT_MS / 1000);
		}
		if (nanosleep(&ts, NULL) < 0 && errno == EINTR && interruptible) {
			close(fd);
			return fail_interrupted("by a signal while waiting for the lock of the boost record");
		}
		if (interval_ns < 10000000)
			interval_ns *= 2;
	}
}

static void unlock_state(int fd)
{
	close(fd); /* drops the flock */
}

static void sync_dir(int dfd)
{
	fsync(dfd);
}

/* ------------------------------------------------------------------------ */
/* Holders                                                                   */

static void holder_name(uint64_t token, char *name, size_t size)
{
	snprintf(name, size, HOLDER_PREFIX "%016llx", (unsigned long long)token);
}

/*
 * Is the holder whose file is @name alive? Its file is locked while it
 * lives. A missing file, or one that is not a regular file, holds nothing;
 * an unexpected error counts as alive: never restore under a live booster.
 */
static bool holder_file_alive(int dfd, const char *name)
{
	struct stat st;
	bool alive;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return !(errno == ENOENT || errno == ELOOP);
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		return false;
	}
	alive = flock(fd, LOCK_SH | LOCK_NB) < 0;
	close(fd);
	return alive;
}

/*
 * Drop the holders whose processes died and remove the files of dead
 * holders (also of processes killed before they entered the record).
 * Returns how many were dropped; *dead_pid receives the pid of the first.
 */
static int prune(int dfd, struct record *rec, int *dead_pid)
{
	char name[64];
	int n = 0, dead = 0, d;
	DIR *dir;

	for (int i = 0; i < rec->nholders; i++) {
		holder_name(rec->holders[i].token, name, sizeof(name));
		if (holder_file_alive(dfd, name)) {
			rec->holders[n++] = rec->holders[i];
		} else if (dead++ == 0 && dead_pid) {
			*dead_pid = rec->holders[i].pid;
		}
	}
	rec->nholders = n;

	d = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return dead;
	dir = fdopendir(d);
	if (!dir) {
		close(d);
		return dead;
	}
	for (struct dirent *e; (e = readdir(dir));) {
		if (strncmp(e->d_name, HOLDER_PREFIX, strlen(HOLDER_PREFIX)) != 0)
			continue;
		if (!holder_file_alive(dfd, e->d_name))
			unlinkat(dfd, e->d_name, 0);
	}
	closedir(dir);
	return dead;
}

static uint64_t new_token(void)
{
	static uint64_t counter;
	struct timespec ts;
	uint64_t t;

	if (getrandom(&t, sizeof(t), GRND_NONBLOCK) == (ssize_t)sizeof(t))
		return t;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) * 64 +
	       (__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) % 64) + (uint64_t)getpid() * 0x9e3779b97f4a7c15u;
}

/* Create and lock this boost's holder file; its fd, or -errno. */
static int holder_create(struct ksm_ctx *ctx, int dfd, struct holder *self)
{
	char name[64], rel[96];

	for (int tries = 0; tries < 8; tries++) {
		int fd;

		self->token = new_token();
		holder_name(self->token, name, sizeof(name));
		snprintf(rel, sizeof(rel), BOOST_DIR "/%s", name);
		fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return fail_file(ctx, -errno, "create", rel);
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int r = -errno;

			close(fd);
			unlinkat(dfd, name, 0);
			return fail_file(ctx, r, "lock", rel);
		}
		return fd;
	}
	return ksm_fail(-EEXIST, "cannot create a holder file in %.*s/" BOOST_DIR,
			root_len(ctx), ctx->sysroot);
}

static void holder_remove(int dfd, const struct holder *h)
{
	char name[64];

	holder_name(h->token, name, sizeof(name));
	unlinkat(dfd, name, 0);
}

/* ------------------------------------------------------------------------ */
/* The record                                                                */

static int boost_index(int knob)
{
	for (size_t i = 0; i < KSM_ARRAY_SIZE(boost_values); i++)
		if (boost_values[i].knob == knob)
			return (int)i;
	return -1;
}

/* Validate one "saved" line; NULL if it is one a boost writes, else why not. */
static const char *check_saved(const struct record *rec, const char *name, long long v, int *knob,
			       char *why, size_t size)
{
	int k = ksm_knob_lookup(name);

	if (k < 0 || boost_index(k) < 0) {
		snprintf(why, size, "'%.64s' is not a knob a boost changes", name);
		return why;
	}
	if (rec->saved_set & BIT(k)) {
		snprintf(why, size, "%s is saved twice", name);
		return why;
	}
	if (ksm_knob_check(k, (int64_t)v) < 0 ||
	    (k == KSM_KNOB_RUN && v != KSM_RUN_STOP && v != KSM_RUN_MERGE)) {
		snprintf(why, size, "%lld is not a value a boost saves for %s", v, name);
		return why;
	}
	*knob = k;
	return NULL;
}

static int read_record(struct ksm_ctx *ctx, int dfd, struct record *rec)
{
	char *line = NULL, why[160];
	const char *bad = NULL;
	size_t cap = 0;
	struct stat st;
	int fd, lineno = 1;
	FILE *f;

	memset(rec, 0, sizeof(*rec));
	fd = open_regular(ctx, dfd, RECORD_NAME, BOOST_RECORD, O_RDONLY, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) == 0 && st.st_size > RECORD_MAX_BYTES) {
		close(fd);
		return ksm_fail(-EBADMSG, "%.*s/" BOOST_RECORD " is larger than a boost record "
					  "can be; nothing was changed (remove it if no boost is running)",
				root_len(ctx), ctx->sysroot);
	}
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return ksm_fail(-ENOMEM, "out of memory");
	}
	rec->exists = true;
	if (getline(&line, &cap, f) < 0 || strcmp(line, RECORD_MAGIC "\n") != 0)
		bad = "it does not start with \"" RECORD_MAGIC "\"";
	while (!bad && getline(&line, &cap, f) > 0) {
		char name[64], tail;
		long long v;
		unsigned long long token;
		int pid, knob;

		lineno++;
		if (sscanf(line, "saved %63s %lld%c", name, &v, &tail) == 3 && tail == '\n') {
			bad = check_saved(rec, name, v, &knob, why, sizeof(why));
			if (!bad) {
				rec->saved_set |= BIT(knob);
				rec->saved[knob] = v;
			}
		} else if (sscanf(line, "holder %d %llx%c", &pid, &token, &tail) == 3 && tail == '\n' &&
			   pid > 0) {
			if (rec->nholders >= MAX_HOLDERS)
				bad = "it lists more holders than a boost allows";
			else
				rec->holders[rec->nholders++] =
					(struct holder){ .pid = pid, .token = token };
		} else {
			bad = "the line is neither \"saved KNOB VALUE\" nor \"holder PID TOKEN\"";
		}
	}
	free(line);
	fclose(f);
	if (bad) {
		memset(rec, 0, sizeof(*rec));
		return ksm_fail(-EBADMSG, "%.*s/" BOOST_RECORD ", line %d: %s: it is not a boost "
					  "record of this libksm, so nothing was changed; remove it "
					  "if no boost is running",
				root_len(ctx), ctx->sysroot, lineno, bad);
	}
	return 0;
}

static int write_record(struct ksm_ctx *ctx, int dfd, const struct record *rec,
			bool interruptible)
{
	int fd, r = 0;
	FILE *f;

	/* Whatever is there is ours (the directory is): start from nothing. */
	if (unlinkat(dfd, RECORD_TMP_NAME, 0) < 0 && errno != ENOENT)
		return fail_file(ctx, -errno, "remove", BOOST_RECORD_TMP);
	fd = openat(dfd, RECORD_TMP_NAME, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fail_file(ctx, -errno, "create", BOOST_RECORD_TMP);
	f = fdopen(fd, "we");
	if (!f) {
		close(fd);
		unlinkat(dfd, RECORD_TMP_NAME, 0);
		return ksm_fail(-ENOMEM, "out of memory");
	}
	fprintf(f, "%s\n", RECORD_MAGIC);
	for (int k = 0; k < KSM_KNOB_NR; k++)
		if (rec->saved_set & BIT(k))
			fprintf(f, "saved %s %lld\n", ksm_table_get(k)->name, (long long)rec->saved[k]);
	for (int i = 0; i < rec->nholders; i++)
		fprintf(f, "holder %d %016llx\n", rec->holders[i].pid,
			(unsigned long long)rec->holders[i].token);
	/* stdio keeps an earlier write error to itself: ask for it (ENOSPC on /run). */
	errno = 0;
	if (ferror(f) || fflush(f) != 0)
		r = errno ? -errno : -EIO;
	if (r == 0 && interruptible && ksm_interrupted(ctx)) {
		fclose(f);
		unlinkat(dfd, RECORD_TMP_NAME, 0);
		return fail_interrupted("before the boost record was written");
	}
	if (r == 0 && fsync(fileno(f)) < 0)
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dfd, RECORD_TMP_NAME, dfd, RECORD_NAME) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dfd, RECORD_TMP_NAME, 0);
		return fail_file(ctx, r, "write", BOOST_RECORD);
	}
	sync_dir(dfd);
	return 0;
}

static int remove_record(struct ksm_ctx *ctx, int dfd)
{
	if (unlinkat(dfd, RECORD_NAME, 0) < 0 && errno != ENOENT)
		return fail_file(ctx, -errno, "remove", BOOST_RECORD);
	sync_dir(dfd);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The knobs                                                                 */

/* Does restoring the knobs in @set give @knob back to its owner, so that it needs no saving? */
static bool covered_by(int knob, uint64_t set)
{
	int adv = ksm_knob_of_role(KSM_ROLE_ADVISOR);

	/* A knob the advisor controls is the advisor's again once advisor_mode is restored. */
	return (ksm_knob_defs()[knob].info.requires & KSM_REQUIRES_ADVISOR_NONE) && adv >= 0 &&
	       (set & BIT(adv));
}

/* The values from before the first boost. */
static int save_current(struct ksm_ctx *ctx, struct record *rec)
{
	const struct ksm_knob_def *defs = ksm_knob_defs();
	int adv = ksm_knob_of_role(KSM_ROLE_ADVISOR);
	struct ksm_stats s;
	int64_t mode = KSM_ADVISOR_NONE;
	int r = ksm_stats_read(ctx, &s, sizeof(s));

	if (r < 0)
		return r;
	if (adv >= 0)
		(void)ksm_stats_value(&s, adv, &mode);
	rec->saved_set = 0;
	for (size_t i = 0; i < KSM_ARRAY_SIZE(boost_values); i++) {
		int k = boost_values[i].knob;
		const char *name = defs[k].info.name;
		int64_t v;

		if (ksm_stats_value(&s, k, &v) < 0) {
			ksm_info(ctx, "boost: this kernel has no %s; the boost goes without it", name);
			continue;
		}
		/* While the advisor is on, it sets such a knob: that is not a setting to save. */
		if ((defs[k].info.requires & KSM_REQUIRES_ADVISOR_NONE) && mode != KSM_ADVISOR_NONE) {
			ksm_notice(ctx, "boost: %s is not saved: the advisor (%s) sets it, and sets "
					"it again once the boost ends", name, defs[adv].info.name);
			continue;
		}
		rec->saved_set |= BIT(k);
		rec->saved[k] = v;
	}
	return 0;
}

/* The values the boost writes for the record @rec, in @want; which ones in *@set. */
static void fast_values(const struct record *rec, int64_t want[KSM_KNOB_NR], uint64_t *set)
{
	*set = 0;
	for (size_t i = 0; i < KSM_ARRAY_SIZE(boost_values); i++) {
		int k = boost_values[i].knob;

		/* Only what the record covers: what it does not cover, it cannot restore. */
		if (!(rec->saved_set & BIT(k)) && !covered_by(k, rec->saved_set))
			continue;
		want[k] = boost_values[i].value;
		/* A batch size set higher than the boost's stays. */
		if (k == KSM_KNOB_PAGES_TO_SCAN && (rec->saved_set & BIT(k)) && rec->saved[k] > want[k])
			want[k] = rec->saved[k];
		*set |= BIT(k);
	}
}

static int apply_fast(struct ksm_ctx *ctx, const struct record *rec)
{
	int64_t want[KSM_KNOB_NR] = { 0 };
	uint64_t set;

	fast_values(rec, want, &set);
	return ksm_apply(ctx, set, want, 0, NULL);
}

/*
 * Write back the saved values, each only where the knob still holds what the
 * boost wrote: a knob changed during the boost was changed by someone who
 * meant it, and stays (logged at LOG_NOTICE). Failures are logged (LOG_ERR)
 * and recorded.
 */
static int restore(struct ksm_ctx *ctx, const struct record *rec)
{
	const struct ksm_knob_def *defs = ksm_knob_defs();
	int64_t fast[KSM_KNOB_NR] = { 0 };
	uint64_t fast_set, set = 0;
	struct ksm_stats s;
	struct kept_msg m;
	int r;

	fast_values(rec, fast, &fast_set);
	r = ksm_stats_read(ctx, &s, sizeof(s));
	for (int k = 0; r == 0 && k < KSM_KNOB_NR; k++) {
		int64_t cur;

		if (!(rec->saved_set & BIT(k)) || ksm_stats_value(&s, k, &cur) < 0)
			continue;
		if (cur == rec->saved[k])
			continue; /* nothing to write back */
		if (!(fast_set & BIT(k)) || cur == fast[k]) {
			set |= BIT(k);
			continue;
		}
		ksm_notice(ctx, "boost: %s is left at %lld, not restored to %lld: it was changed "
				"during the boost (the boost set %lld)",
			   defs[k].info.name, (long long)cur, (long long)rec->saved[k],
			   (long long)fast[k]);
	}
	if (r == 0 && set)
		r = ksm_apply(ctx, set, rec->saved, 0, NULL);
	if (r < 0) {
		msg_keep(&m, r);
		ksm_err(ctx, "cannot restore the knobs a boost changed: %s; %.*s/" BOOST_RECORD
			     " keeps their values for ksm_boost_recover() ('ksmctl recover')",
			m.text, root_len(ctx), ctx->sysroot);
		return ksm_fail(r, "cannot restore the knobs a boost changed: %s (their values stay "
				   "saved; try again with ksm_boost_recover(), 'ksmctl recover')",
				m.text);
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Begin and end                                                             */

static int boost_begin(struct ksm_ctx *ctx, struct ksm_boost **out)
{
	struct ksm_boost *b;
	struct record *rec;
	struct kept_msg m;
	int dfd, lock, r, dead, dead_pid = 0;

	*out = NULL;
	if (ksm_disabled_by_policy(ctx) > 0)
		return -ECANCELED;
	if (ctx->ksmfd < 0)
		return ksm_fail_no_ksm(ctx);
	/* Refused before anything is created; checked again under the lock. */
	r = ksm_disabled(ctx);
	if (r < 0)
		return r;
	if (ksm_interrupted(ctx))
		return fail_interrupted("before the boost began");
	b = calloc(1, sizeof(*b));
	rec = malloc(sizeof(*rec));
	if (!b || !rec) {
		free(b);
		free(rec);
		return ksm_fail(-ENOMEM, "out of memory");
	}
	b->holdfd = -1;
	b->self.pid = getpid();

	dfd = open_state_dir(ctx, true);
	if (dfd < 0) {
		r = dfd == -ENOENT ? fail_file(ctx, dfd, "open", BOOST_DIR) : dfd;
		goto out;
	}
	lock = lock_state(ctx, dfd, true);
	if (lock < 0) {
		r = lock;
		goto close_dir;
	}
	/* A torn record cannot exist (rename); an alien or forged one is refused: -EBADMSG. */
	r = read_record(ctx, dfd, rec);
	if (r < 0)
		goto unlock;
	r = ksm_disabled(ctx);
	if (r < 0)
		goto unlock;
	dead = prune(dfd, rec, &dead_pid);
	if (rec->exists && rec->nholders == 0 && dead > 0)
		ksm_notice(ctx, "boost: process %d ended without ending its boost; this boost takes "
				"over, and the knobs saved before that boost are restored when this "
				"one ends", dead_pid);
	else if (rec->exists && rec->nholders == 0)
		ksm_notice(ctx, "boost: the knobs of an earlier boost were not restored; this boost "
				"takes over, and they are restored when this one ends");
	else if (rec->nholders > 0)
		ksm_info(ctx, "boost: joining the boost of %d other holder%s", rec->nholders,
			 rec->nholders == 1 ? "" : "s");
	if (!rec->exists) {
		r = save_current(ctx, rec);
		if (r < 0)
			goto unlock;
	}
	if (rec->nholders >= MAX_HOLDERS) {
		r = ksm_fail(-EAGAIN, "too many boosts at once: %d processes hold one; try again "
				      "later", rec->nholders);
		goto unlock;
	}
	r = holder_create(ctx, dfd, &b->self);
	if (r < 0)
		goto unlock;
	b->holdfd = r;
	rec->holders[rec->nholders++] = b->self;
	/* Durable before any knob changes. */
	r = write_record(ctx, dfd, rec, true);
	if (r < 0)
		goto unlock;
	r = apply_fast(ctx, rec);
	if (r < 0) {
		msg_keep(&m, r);
		rec->nholders--;
		if (rec->nholders == 0 && restore(ctx, rec) == 0)
			remove_record(ctx, dfd);
		else
			write_record(ctx, dfd, rec, false);
		msg_again(&m, "");
	}
unlock:
	if (r < 0 && b->holdfd >= 0) {
		holder_remove(dfd, &b->self);
		close(b->holdfd);
		b->holdfd = -1;
	}
	unlock_state(lock);
close_dir:
	close(dfd);
out:
	free(rec);
	if (r < 0) {
		free(b);
		return r;
	}
	b->ctx = ksm_ref(ctx);
	*out = b;
	return 0;
}

/*
 * Remove @self (if not NULL) and the dead; restore when nobody is left (1),
 * else 0. Never interrupted: it is what undoes a boost.
 */
static int settle(struct ksm_ctx *ctx, const struct holder *self)
{
	struct record *rec = malloc(sizeof(*rec));
	int dfd, lock, r, n = 0, dead, dead_pid = 0;

	if (!rec)
		return ksm_fail(-ENOMEM, "out of memory");
	dfd = open_state_dir(ctx, false);
	if (dfd < 0) {
		free(rec);
		return dfd == -ENOENT ? 0 : dfd;
	}
	lock = lock_state(ctx, dfd, false);
	if (lock < 0) {
		close(dfd);
		free(rec);
		return lock;
	}
	r = read_record(ctx, dfd, rec);
	if (self)
		holder_remove(dfd, self);
	if (r < 0 || !rec->exists)
		goto unlock;
	for (int i = 0; i < rec->nholders; i++) {
		const struct holder *h = &rec->holders[i];
		if (self && h->token == self->token)
			continue;
		rec->holders[n++] = *h;
	}
	rec->nholders = n;
	dead = prune(dfd, rec, &dead_pid);
	if (rec->nholders > 0) {
		r = write_record(ctx, dfd, rec, false);
		goto unlock;
	}
	r = restore(ctx, rec);
	if (r == 0) {
		if (dead > 0)
			ksm_notice(ctx, "boost: restored the knobs of a boost whose process (%d%s) "
					"ended without ending it", dead_pid,
				   dead > 1 ? " and others" : "");
		r = remove_record(ctx, dfd);
		if (r == 0)
			r = 1;
	} else {
		struct kept_msg m;

		msg_keep(&m, r);
		write_record(ctx, dfd, rec, false); /* keep it for the next try */
		msg_again(&m, "");
	}
unlock:
	unlock_state(lock);
	close(dfd);
	free(rec);
	return r;
}

/* End and free @b: 1 if the knobs were restored, 0 if other boosts go on, or -errno. */
static int boost_end(struct ksm_boost *b)
{
	int r;

	if (!b)
		return 0;
	r = settle(b->ctx, &b->self);
	if (b->holdfd >= 0)
		close(b->holdfd);
	ksm_unref(b->ctx);
	free(b);
	return r;
}

KSM_EXPORT int ksm_boost_begin(struct ksm_ctx *ctx, struct ksm_boost **out)
{
	ksm_fail_clear();
	if (!ctx || !out)
		return -EINVAL;
	return boost_begin(ctx, out);
}

KSM_EXPORT int ksm_boost_end(struct ksm_boost *b)
{
	int r;

	ksm_fail_clear();
	r = boost_end(b);
	return r < 0 ? r : 0;
}

KSM_EXPORT int ksm_boost_recover(struct ksm_ctx *ctx)
{
	ksm_fail_clear();
	if (!ctx)
		return -EINVAL;
	return settle(ctx, NULL);
}

/* ------------------------------------------------------------------------ */
/* Merging now                                                               */

/*
 * End @b after the work under it returned @r: the result of both, with the
 * message of the work kept and the outcome of the restore added to it.
 */
static int finish(struct ksm_boost *b, int r)
{
	struct kept_msg m, e_msg;
	int e;

	if (r >= 0) {
		e = boost_end(b);
		return e < 0 ? e : 0;
	}
	msg_keep(&m, r);
	e = boost_end(b);
	if (e < 0) {
		char suffix[600];

		msg_keep(&e_msg, e);
		snprintf(suffix, sizeof(suffix), "; then %s", e_msg.text);
		return msg_again(&m, suffix);
	}
	return msg_again(&m, e > 0 ? "; the boost ended and the knobs are restored"
				   : "; the boost ended (other boosts keep ksmd fast)");
}

KSM_EXPORT int ksm_merge_now(struct ksm_ctx *ctx, unsigned int scans, int timeout_ms)
{
	struct ksm_boost *b;
	int r;

	ksm_fail_clear();
	if (!ctx)
		return -EINVAL;
	r = boost_begin(ctx, &b);
	if (r < 0)
		return r;
	r = ksm_wait_scans(ctx, scans, timeout_ms);
	return finish(b, r);
}

KSM_EXPORT int ksm_merge_range(struct ksm_ctx *ctx, void *addr, size_t len, int timeout_ms,
			       uint64_t *merged)
{
	struct ksm_boost *b;
	struct timespec ts;
	uintptr_t start, end;
	uint64_t registered;
	int64_t ksm = -1, prev = -1, deadline = -1, base;
	bool whole = false;
	int r;

	ksm_fail_clear();
	if (merged)
		*merged = 0;
	if (!ctx)
		return -EINVAL;
	r = ksm_page_range(addr, len, &start, &end);
	if (r < 0 || start == end)
		return r;
	if (ctx->ksmfd < 0)
		return ksm_fail_no_ksm(ctx);
	/* Refused before the range is registered: nothing is touched. */
	r = ksm_disabled(ctx);
	if (r < 0)
		return r;
	r = ksm_mark_mergeable_bytes(addr, len, &registered);
	if (r < 0)
		return r;
	if (timeout_ms >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		deadline = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + timeout_ms;
	}

	r = ksm_get(ctx, KSM_KNOB_FULL_SCANS, &base);
	if (r < 0)
		return r;
	r = boost_begin(ctx, &b);
	if (r < 0)
		return r;
	/*
	 * A newly registered process may join the scan behind ksmd's cursor,
	 * so the current pass can miss it; its pages then merge on their
	 * second scan. Stop when all of it is merged, or when a pass after the
	 * third brought nothing new. Passes are counted from before the boost,
	 * so none is missed while smaps is read.
	 */
	for (unsigned int scans = 0;;) {
		int wait_ms = -1, n;

		if (deadline >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			wait_ms = (int)(deadline - (ts.tv_sec * 1000LL + ts.tv_nsec / 1000000));
			if (wait_ms <= 0) {
				r = -ETIMEDOUT;
				break;
			}
		}
		/* The range was just registered: something is there to scan. */
		n = ksm_wait_scans_since_registered(ctx, &base, 1, wait_ms);
		if (n < 0) {
			r = n;
			break;
		}
		scans += (unsigned int)n;
		r = ksm_range_info(start, end, NULL, &ksm, &whole);
		if (r < 0) {
			r = ksm_fail(r, "cannot read /proc/self/smaps: %s", strerror(-r));
			break;
		}
		if (ksm < 0) {
			if (scans >= 3)
				break; /* no KSM field in smaps: three passes */
			continue;
		}
		/* smaps counts whole mappings: all merged only if the range is whole ones. */
		if ((whole && (uint64_t)ksm >= registered) || (scans > 3 && ksm == prev))
			break;
		prev = ksm;
	}
	if (merged && ksm > 0)
		*merged = (uint64_t)ksm;
	if (r == -ETIMEDOUT)
		r = ksm_fail(r, "timed out after %d ms before the range %#lx-%#lx was merged "
				"(%lld of %llu registered bytes are in KSM pages so far)",
			     timeout_ms, (unsigned long)start, (unsigned long)end,
			     (long long)(ksm > 0 ? ksm : 0), (unsigned long long)registered);
	return finish(b, r);
}

KSM_EXPORT int ksm_boost_status(struct ksm_ctx *ctx, int *holders)
{
	struct record *rec;
	int dfd, r;

	ksm_fail_clear();
	if (!ctx)
		return -EINVAL;
	if (holders)
		*holders = 0;
	dfd = open_state_dir(ctx, false);
	if (dfd == -ENOENT)
		return 0; /* no state directory: no record */
	if (dfd < 0)
		return dfd;
	rec = malloc(sizeof(*rec));
	if (!rec) {
		close(dfd);
		return ksm_fail(-ENOMEM, "out of memory");
	}
	/* The record is replaced by rename(): a read without the lock sees a whole one. */
	r = read_record(ctx, dfd, rec);
	if (r == 0) {
		prune(dfd, rec, NULL);
		if (holders)
			*holders = rec->exists ? rec->nholders : 0;
		r = rec->exists;
	}
	free(rec);
	close(dfd);
	return r;
}

/* ------------------------------------------------------------------------ */
/* For other layers                                                          */

/* Is a boost held by a live process? 1, 0, or -errno. */
int ksm_boost_running(struct ksm_ctx *ctx)
{
	int holders, r = ksm_boost_status(ctx, &holders);

	return r < 0 ? r : holders > 0;
}

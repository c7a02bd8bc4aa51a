// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Boosts: ksmd at full speed for a while, shared by every process that asks,
 * with the previous knob values kept durably so that nothing is lost when a
 * booster dies.
 *
 * State lives in <sysroot>/run/libksm:
 *   boost.lock  flock()ed around every read-modify-write of the record; the
 *               kernel drops the lock of a process that dies.
 *   boost       the record: the knob values from before the first boost and
 *               one line per holder (pid, start time, token). Written to a
 *               temporary file, fsync()ed and renamed, before any knob
 *               changes; removed only after the knobs were restored.
 * A holder whose process is gone (or whose pid now belongs to a process with
 * another start time) no longer counts. When no live holder is left, the
 * saved values are written back.
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

#include "internal.h"

#define BOOST_DIR "run/libksm"
#define BOOST_LOCK BOOST_DIR "/boost.lock"
#define BOOST_RECORD BOOST_DIR "/boost"
#define BOOST_RECORD_TMP BOOST_DIR "/boost.tmp"
#define RECORD_MAGIC "libksm-boost 1"
#define MAX_HOLDERS 1024

/*
 * The boost, as policy: which knobs it wants at which values. ksm_apply()
 * (the transaction planner) decides the order of the writes, and the knob
 * table says which knobs depend on which. pages_to_scan is raised to
 * FAST_PAGES_TO_SCAN, never lowered.
 */
#define FAST_PAGES_TO_SCAN 20000
#define BIT(k) (UINT64_C(1) << (k))

static const struct {
	int knob;
	int64_t value;
} boost_values[] = {
	{ KSM_KNOB_RUN, KSM_RUN_MERGE },                /* ksmd running */
	{ KSM_KNOB_PAGES_TO_SCAN, FAST_PAGES_TO_SCAN }, /* large batches */
	{ KSM_KNOB_SLEEP_MILLISECS, 0 },                /* no sleep between them */
	{ KSM_KNOB_SMART_SCAN, 0 },                     /* no skipping of unchanged pages */
	{ KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE },    /* pages_to_scan as set here */
};

struct holder {
	int pid;
	uint64_t start;  /* /proc/PID/stat field 22, against pid reuse */
	uint64_t token;  /* tells apart several boosts of one process */
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

/* ------------------------------------------------------------------------ */
/* Holders                                                                   */

/*
 * Start time of a process in clock ticks since boot; -ESRCH if it is gone.
 * Holders are processes of the running system, so this reads the real /proc
 * whatever the system root (which only places the record).
 */
static int proc_start(int pid, uint64_t *start)
{
	char path[32], buf[1024];
	unsigned long long v;
	const char *p;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	r = ksm_read_at(AT_FDCWD, path, buf, sizeof(buf));
	if (r == -ENOENT)
		return -ESRCH;
	if (r < 0)
		return r;
	/* The command name may contain anything: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EBADMSG;
	p++;
	/* Field 3, the state: a zombie has died, it only waits to be reaped. */
	if (p[1] == 'Z' || p[1] == 'X')
		return -ESRCH;
	/* p is at the blank before field 3; step to the blank before field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EBADMSG;
	}
	if (sscanf(p, " %llu", &v) != 1)
		return -EBADMSG;
	*start = v;
	return 0;
}

static bool holder_alive(const struct holder *h)
{
	uint64_t start;
	int r = proc_start(h->pid, &start);

	/* Unsure (e.g. EACCES) counts as alive: never restore under a live booster. */
	if (r == -ESRCH)
		return false;
	return r < 0 || start == h->start;
}

/*
 * Drop the holders whose processes died. Returns how many were dropped;
 * *dead_pid receives the pid of the first (if any).
 */
static int prune(struct record *rec, int *dead_pid)
{
	int n = 0, dead = 0;

	for (int i = 0; i < rec->nholders; i++) {
		if (holder_alive(&rec->holders[i])) {
			rec->holders[n++] = rec->holders[i];
		} else if (dead++ == 0 && dead_pid) {
			*dead_pid = rec->holders[i].pid;
		}
	}
	rec->nholders = n;
	return dead;
}

/* ------------------------------------------------------------------------ */
/* The record                                                                */

static int lock_state(struct ksm_ctx *ctx)
{
	int fd, r;

	if (mkdirat(ctx->rootfd, "run", 0755) < 0 && errno != EEXIST)
		return fail_file(ctx, -errno, "create", "run");
	if (mkdirat(ctx->rootfd, BOOST_DIR, 0755) < 0 && errno != EEXIST)
		return fail_file(ctx, -errno, "create", BOOST_DIR);
	fd = openat(ctx->rootfd, BOOST_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fail_file(ctx, -errno, "open", BOOST_LOCK);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			r = -errno;
			close(fd);
			return fail_file(ctx, r, "lock", BOOST_LOCK);
		}
	}
	return fd;
}

static void unlock_state(int fd)
{
	close(fd); /* drops the flock */
}

static int read_record(struct ksm_ctx *ctx, struct record *rec)
{
	char *line = NULL;
	size_t cap = 0;
	int fd, r = 0;
	FILE *f;

	memset(rec, 0, sizeof(*rec));
	fd = openat(ctx->rootfd, BOOST_RECORD, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : fail_file(ctx, -errno, "open", BOOST_RECORD);
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return ksm_fail(-ENOMEM, "out of memory");
	}
	rec->exists = true;
	if (getline(&line, &cap, f) < 0 || strncmp(line, RECORD_MAGIC, strlen(RECORD_MAGIC)) != 0)
		r = -EBADMSG;
	while (r == 0 && getline(&line, &cap, f) > 0) {
		char name[64];
		long long v;
		unsigned long long start, token;
		int pid, knob;

		if (sscanf(line, "saved %63s %lld", name, &v) == 2) {
			knob = ksm_knob_lookup(name);
			if (knob < 0) {
				r = -EBADMSG;
				break;
			}
			rec->saved_set |= BIT(knob);
			rec->saved[knob] = v;
		} else if (sscanf(line, "holder %d %llu %llu", &pid, &start, &token) == 3) {
			if (rec->nholders < MAX_HOLDERS)
				rec->holders[rec->nholders++] =
					(struct holder){ .pid = pid, .start = start, .token = token };
		} else {
			r = -EBADMSG;
		}
	}
	free(line);
	fclose(f);
	if (r == -EBADMSG)
		return ksm_fail(r, "%.*s/" BOOST_RECORD " is not a boost record of this libksm; "
				   "remove it if no boost is running",
				root_len(ctx), ctx->sysroot);
	return r;
}

static int write_record(struct ksm_ctx *ctx, const struct record *rec)
{
	char buf[128];
	int fd, dfd, r = 0;
	FILE *f;

	fd = openat(ctx->rootfd, BOOST_RECORD_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	if (fd < 0)
		return fail_file(ctx, -errno, "create", BOOST_RECORD_TMP);
	f = fdopen(fd, "we");
	if (!f) {
		close(fd);
		return ksm_fail(-ENOMEM, "out of memory");
	}
	fprintf(f, "%s\n", RECORD_MAGIC);
	for (int k = 0; k < KSM_KNOB_NR; k++)
		if (rec->saved_set & BIT(k))
			fprintf(f, "saved %s %lld\n", ksm_table_get(k)->name, (long long)rec->saved[k]);
	for (int i = 0; i < rec->nholders; i++) {
		snprintf(buf, sizeof(buf), "holder %d %llu %llu\n", rec->holders[i].pid,
			 (unsigned long long)rec->holders[i].start,
			 (unsigned long long)rec->holders[i].token);
		fputs(buf, f);
	}
	/* stdio keeps an earlier write error to itself: ask for it (ENOSPC on /run). */
	errno = 0;
	if (ferror(f) || fflush(f) != 0 || fsync(fileno(f)) < 0)
		r = errno ? -errno : -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(ctx->rootfd, BOOST_RECORD_TMP, ctx->rootfd, BOOST_RECORD) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(ctx->rootfd, BOOST_RECORD_TMP, 0);
		return fail_file(ctx, r, "write", BOOST_RECORD);
	}
	dfd = openat(ctx->rootfd, BOOST_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static int remove_record(struct ksm_ctx *ctx)
{
	int dfd;

	if (unlinkat(ctx->rootfd, BOOST_RECORD, 0) < 0 && errno != ENOENT)
		return fail_file(ctx, -errno, "remove", BOOST_RECORD);
	dfd = openat(ctx->rootfd, BOOST_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
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
		/* run=2 means stopped; writing it back would unmerge what the boost merged. */
		if (defs[k].role == KSM_ROLE_STATE && v == KSM_RUN_UNMERGE)
			v = KSM_RUN_STOP;
		rec->saved_set |= BIT(k);
		rec->saved[k] = v;
	}
	return 0;
}

static int apply_fast(struct ksm_ctx *ctx, const struct record *rec)
{
	int64_t want[KSM_KNOB_NR] = { 0 };
	uint64_t set = 0;

	for (size_t i = 0; i < KSM_ARRAY_SIZE(boost_values); i++) {
		int k = boost_values[i].knob;

		/* Only what the record covers: what it does not cover, it cannot restore. */
		if (!(rec->saved_set & BIT(k)) && !covered_by(k, rec->saved_set))
			continue;
		want[k] = boost_values[i].value;
		/* A batch size set higher than the boost's stays. */
		if (k == KSM_KNOB_PAGES_TO_SCAN && (rec->saved_set & BIT(k)) && rec->saved[k] > want[k])
			want[k] = rec->saved[k];
		set |= BIT(k);
	}
	return ksm_apply(ctx, set, want, 0, NULL);
}

/* Write back the saved values; failures are logged (LOG_ERR) and recorded. */
static int restore(struct ksm_ctx *ctx, const struct record *rec)
{
	struct kept_msg m;
	int r = ksm_apply(ctx, rec->saved_set, rec->saved, 0, NULL);

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

static uint64_t new_token(void)
{
	static uint64_t counter;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) * 64 +
	       (__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) % 64);
}

static int boost_begin(struct ksm_ctx *ctx, struct ksm_boost **out)
{
	struct ksm_boost *b;
	struct record *rec;
	struct kept_msg m;
	int lock, r, dead, dead_pid = 0;

	*out = NULL;
	if (ctx->ksmfd < 0)
		return ksm_fail_no_ksm(ctx);
	b = calloc(1, sizeof(*b));
	rec = malloc(sizeof(*rec));
	if (!b || !rec) {
		free(b);
		free(rec);
		return ksm_fail(-ENOMEM, "out of memory");
	}
	b->self.pid = getpid();
	b->self.token = new_token();
	r = proc_start(b->self.pid, &b->self.start);
	if (r < 0) {
		r = ksm_fail(r, "cannot read /proc/%d/stat (the start time that identifies this "
				"boost's process): %s", b->self.pid, strerror(-r));
		goto out;
	}

	lock = lock_state(ctx);
	if (lock < 0) {
		r = lock;
		goto out;
	}
	/* A torn record cannot exist (rename); an alien one is not ours: -EBADMSG. */
	r = read_record(ctx, rec);
	if (r < 0)
		goto unlock;
	dead = prune(rec, &dead_pid);
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
	rec->holders[rec->nholders++] = b->self;
	/* Durable before any knob changes. */
	r = write_record(ctx, rec);
	if (r < 0)
		goto unlock;
	r = apply_fast(ctx, rec);
	if (r < 0) {
		msg_keep(&m, r);
		rec->nholders--;
		if (rec->nholders == 0 && restore(ctx, rec) == 0)
			remove_record(ctx);
		else
			write_record(ctx, rec);
		msg_again(&m, "");
	}
unlock:
	unlock_state(lock);
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

/* Remove @self (if not NULL) and the dead; restore when nobody is left (1), else 0. */
static int settle(struct ksm_ctx *ctx, const struct holder *self)
{
	struct record *rec = malloc(sizeof(*rec));
	int lock, r, n = 0, dead, dead_pid = 0;

	if (!rec)
		return ksm_fail(-ENOMEM, "out of memory");
	lock = lock_state(ctx);
	if (lock < 0) {
		free(rec);
		return lock;
	}
	r = read_record(ctx, rec);
	if (r < 0 || !rec->exists)
		goto unlock;
	for (int i = 0; i < rec->nholders; i++) {
		const struct holder *h = &rec->holders[i];
		if (self && h->pid == self->pid && h->start == self->start && h->token == self->token)
			continue;
		rec->holders[n++] = *h;
	}
	rec->nholders = n;
	dead = prune(rec, &dead_pid);
	if (rec->nholders > 0) {
		r = write_record(ctx, rec);
		goto unlock;
	}
	r = restore(ctx, rec);
	if (r == 0) {
		if (dead > 0)
			ksm_notice(ctx, "boost: restored the knobs of a boost whose process (%d%s) "
					"ended without ending it", dead_pid,
				   dead > 1 ? " and others" : "");
		r = remove_record(ctx);
		if (r == 0)
			r = 1;
	} else {
		struct kept_msg m;

		msg_keep(&m, r);
		write_record(ctx, rec); /* keep it for the next try */
		msg_again(&m, "");
	}
unlock:
	unlock_state(lock);
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

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

/* ksmd at full speed: no sleep, large batches, no skipping, no advisor. */
#define FAST_PAGES_TO_SCAN 20000
#define BIT(k) (UINT64_C(1) << (k))

static const int boost_knobs[] = {
	KSM_KNOB_RUN, KSM_KNOB_PAGES_TO_SCAN, KSM_KNOB_SLEEP_MILLISECS,
	KSM_KNOB_SMART_SCAN, KSM_KNOB_ADVISOR_MODE,
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

/*
 * Start time of a process in clock ticks since boot; -ESRCH if it is gone.
 * Holders are processes of the running system, so this reads the real /proc
 * whatever the system root (which only places the record).
 */
static int proc_start(struct ksm_ctx *ctx, int pid, uint64_t *start)
{
	char path[32], buf[1024];
	unsigned long long v;
	const char *p;
	int r;

	(void)ctx;
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

static bool holder_alive(struct ksm_ctx *ctx, const struct holder *h)
{
	uint64_t start;
	int r = proc_start(ctx, h->pid, &start);

	/* Unsure (e.g. EACCES) counts as alive: never restore under a live booster. */
	if (r == -ESRCH)
		return false;
	return r < 0 || start == h->start;
}

static int lock_state(struct ksm_ctx *ctx)
{
	int fd;

	if (mkdirat(ctx->rootfd, "run", 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdirat(ctx->rootfd, BOOST_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(ctx->rootfd, BOOST_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int r = -errno;
			close(fd);
			return r;
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
		return errno == ENOENT ? 0 : -errno;
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return -ENOMEM;
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
		return -errno;
	f = fdopen(fd, "we");
	if (!f) {
		close(fd);
		return -ENOMEM;
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
		return r;
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
		return -errno;
	dfd = openat(ctx->rootfd, BOOST_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static void prune(struct ksm_ctx *ctx, struct record *rec)
{
	int n = 0;

	for (int i = 0; i < rec->nholders; i++)
		if (holder_alive(ctx, &rec->holders[i]))
			rec->holders[n++] = rec->holders[i];
	rec->nholders = n;
}

/* The values from before the first boost. */
static int save_current(struct ksm_ctx *ctx, struct record *rec)
{
	struct ksm_stats s = { .size = sizeof(s) };
	int r = ksm_stats_read(ctx, &s);

	if (r < 0)
		return r;
	rec->saved_set = 0;
	for (size_t i = 0; i < KSM_ARRAY_SIZE(boost_knobs); i++) {
		int k = boost_knobs[i];
		int64_t v;

		if (ksm_stats_value(&s, k, &v) < 0)
			continue;
		/* The advisor owns pages_to_scan in scan-time mode: it is not a setting then. */
		if (k == KSM_KNOB_PAGES_TO_SCAN && s.advisor_mode == KSM_ADVISOR_SCAN_TIME &&
		    (s.present & BIT(KSM_KNOB_ADVISOR_MODE)))
			continue;
		/* run=2 means stopped; writing it back would unmerge what the boost merged. */
		if (k == KSM_KNOB_RUN && v == KSM_RUN_UNMERGE)
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
	int64_t pages;

	want[KSM_KNOB_RUN] = KSM_RUN_MERGE;
	want[KSM_KNOB_SLEEP_MILLISECS] = 0;
	pages = (rec->saved_set & BIT(KSM_KNOB_PAGES_TO_SCAN)) ? rec->saved[KSM_KNOB_PAGES_TO_SCAN] : 0;
	want[KSM_KNOB_PAGES_TO_SCAN] = pages > FAST_PAGES_TO_SCAN ? pages : FAST_PAGES_TO_SCAN;
	want[KSM_KNOB_SMART_SCAN] = 0;
	want[KSM_KNOB_ADVISOR_MODE] = KSM_ADVISOR_NONE;
	for (size_t i = 0; i < KSM_ARRAY_SIZE(boost_knobs); i++) {
		int k = boost_knobs[i];
		/* Only what the record covers: what it does not cover, it cannot restore. */
		if ((rec->saved_set & BIT(k)) ||
		    (k == KSM_KNOB_PAGES_TO_SCAN && (rec->saved_set & BIT(KSM_KNOB_ADVISOR_MODE))))
			set |= BIT(k);
	}
	return ksm_apply(ctx, set, want, 0, NULL);
}

static int restore(struct ksm_ctx *ctx, const struct record *rec)
{
	return ksm_apply(ctx, rec->saved_set, rec->saved, 0, NULL);
}

static uint64_t new_token(void)
{
	static uint64_t counter;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) * 64 +
	       (__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) % 64);
}

KSM_EXPORT int ksm_boost_begin(struct ksm_ctx *ctx, struct ksm_boost **out)
{
	struct ksm_boost *b;
	struct record *rec;
	int lock, r;

	if (!ctx || !out)
		return -EINVAL;
	*out = NULL;
	if (ctx->ksmfd < 0)
		return -ENOENT;
	b = calloc(1, sizeof(*b));
	rec = malloc(sizeof(*rec));
	if (!b || !rec) {
		free(b);
		free(rec);
		return -ENOMEM;
	}
	b->self.pid = getpid();
	b->self.token = new_token();
	r = proc_start(ctx, b->self.pid, &b->self.start);
	if (r < 0)
		goto out;

	lock = lock_state(ctx);
	if (lock < 0) {
		r = lock;
		goto out;
	}
	r = read_record(ctx, rec);
	if (r == -EBADMSG) /* a torn record cannot exist (rename); an alien one is not ours */
		goto unlock;
	if (r < 0)
		goto unlock;
	prune(ctx, rec);
	if (!rec->exists) {
		r = save_current(ctx, rec);
		if (r < 0)
			goto unlock;
	}
	if (rec->nholders >= MAX_HOLDERS) {
		r = -EAGAIN;
		goto unlock;
	}
	rec->holders[rec->nholders++] = b->self;
	/* Durable before any knob changes. */
	r = write_record(ctx, rec);
	if (r < 0)
		goto unlock;
	r = apply_fast(ctx, rec);
	if (r < 0) {
		rec->nholders--;
		if (rec->nholders == 0 && restore(ctx, rec) == 0)
			remove_record(ctx);
		else
			write_record(ctx, rec);
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

/* Remove @self (if not NULL) and the dead; restore when nobody is left. */
static int settle(struct ksm_ctx *ctx, const struct holder *self)
{
	struct record *rec = malloc(sizeof(*rec));
	int lock, r, n = 0;

	if (!rec)
		return -ENOMEM;
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
	prune(ctx, rec);
	if (rec->nholders > 0) {
		r = write_record(ctx, rec);
		goto unlock;
	}
	r = restore(ctx, rec);
	if (r == 0) {
		r = remove_record(ctx);
		if (r == 0)
			r = 1;
	} else {
		write_record(ctx, rec); /* keep it for the next try */
	}
unlock:
	unlock_state(lock);
	free(rec);
	return r;
}

KSM_EXPORT int ksm_boost_end(struct ksm_boost *b)
{
	int r;

	if (!b)
		return 0;
	r = settle(b->ctx, &b->self);
	ksm_unref(b->ctx);
	free(b);
	return r < 0 ? r : 0;
}

KSM_EXPORT int ksm_boost_recover(struct ksm_ctx *ctx)
{
	if (!ctx)
		return -EINVAL;
	return settle(ctx, NULL);
}

KSM_EXPORT int ksm_scan_now(struct ksm_ctx *ctx, unsigned int scans, int timeout_ms)
{
	struct ksm_boost *b;
	int r, e;

	r = ksm_boost_begin(ctx, &b);
	if (r < 0)
		return r;
	r = ksm_wait_scans(ctx, scans, timeout_ms);
	e = ksm_boost_end(b);
	return r < 0 ? r : e;
}

KSM_EXPORT int ksm_merge_now(struct ksm_ctx *ctx, void *addr, size_t len, int timeout_ms,
			     uint64_t *merged)
{
	struct ksm_boost *b;
	struct timespec ts;
	uintptr_t start, end;
	uint64_t registered;
	int64_t ksm = -1, prev = -1, deadline = -1, base;
	bool whole = false;
	int r, e;

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
	r = ksm_boost_begin(ctx, &b);
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
		n = ksm_wait_scans_since(ctx, &base, 1, wait_ms);
		if (n < 0) {
			r = n;
			break;
		}
		scans += (unsigned int)n;
		r = ksm_range_info(start, end, NULL, &ksm, &whole);
		if (r < 0)
			break;
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
	e = ksm_boost_end(b);
	return r < 0 ? r : e;
}

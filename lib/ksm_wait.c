// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Waiting for ksmd: full_scans has no change notification, so it is polled
 * with sleeps that grow from 1 ms to 2 ms; each poll costs two pread()s.
 * Measured with getrusage() over a 10 s 'ksmctl wait': about 4800
 * wake-ups and 0.2 s of CPU time, 2% of one CPU, the /proc check once a
 * second included.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define POLL_MIN_NS 1000000LL      /* 1 ms */
#define POLL_MAX_NS 2000000LL      /* 2 ms: a scan is noticed at most 2 ms late */
#define IDLE_CHECK_NS 1000000000LL /* look for registered memory again after 1 s without a scan */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* 0, or -EINTR when a signal handler ran. */
static int sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };

	return -clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}

static int fail_not_running(int64_t run, bool stopped)
{
	return ksm_fail(-EHOSTDOWN, "ksmd %s (run is %lld); start it with run=1 ('ksmctl start')",
			stopped ? "stopped during the wait" : "is not running", (long long)run);
}

static int fail_nothing_registered(void)
{
	return ksm_fail(-ENODATA, "no process has memory registered for merging, so ksmd has "
				  "nothing to scan; register memory (madvise MADV_MERGEABLE, prctl "
				  "PR_SET_MEMORY_MERGE, 'ksmctl exec')");
}

/*
 * Wait until @scans full scans completed after the full_scans value *base;
 * *base is updated to the last value seen. Returns the number of scans
 * completed (>= @scans), or -errno (recorded for ksm_strerror()).
 *
 * full_scans advances only while some process has memory registered: that
 * is checked at once (unless @registered: the caller has just registered
 * memory itself) and then about once a second while no scan completes. A
 * kernel without per-process KSM files (before 5.19) cannot tell; then the
 * wait goes on without asking again.
 */
static int wait_since(struct ksm_ctx *ctx, int64_t *base, unsigned int scans, int timeout_ms,
		      bool registered)
{
	int64_t run, cur, done = 0;
	int64_t start, deadline, next_check, interval = POLL_MIN_NS;
	bool idle_check = true, first = true;
	int r;

	r = ksm_get(ctx, KSM_KNOB_FULL_SCANS, &cur);
	if (r < 0)
		return r;
	start = now_ns();
	next_check = registered ? start + IDLE_CHECK_NS : start;
	deadline = timeout_ms < 0 ? INT64_MAX : start + (int64_t)timeout_ms * 1000000LL;
	for (;; first = false) {
		int64_t now;

		if (cur != *base) {
			/* run=2 resets full_scans to 0: count from there. */
			done = ksm_add_sat(done, cur > *base ? ksm_sub_sat(cur, *base) : cur);
			*base = cur;
			next_check = now_ns() + IDLE_CHECK_NS;
			if (done >= scans)
				return done > INT32_MAX ? INT32_MAX : (int)done;
		}
		r = ksm_get(ctx, KSM_KNOB_RUN, &run);
		if (r < 0)
			return r;
		if (run != KSM_RUN_MERGE)
			return fail_not_running(run, !first);

		if (ksm_interrupted(ctx))
			return ksm_fail(-EINTR, "interrupted while waiting for ksmd's full scans");
		if (idle_check && now_ns() >= next_check) {
			r = ksm_proc_any_registered(ctx);
			if (ksm_interrupted(ctx))
				return ksm_fail(-EINTR, "interrupted while waiting for ksmd's full "
							"scans");
			if (r == -EOPNOTSUPP || r == -ENOENT) {
				idle_check = false;
			} else if (r < 0) {
				char msg[256];
				const char *m = ksm_fail_message(r);

				snprintf(msg, sizeof(msg), "%s", m ? m : strerror(-r));
				return ksm_fail(r, "cannot tell whether ksmd has anything to scan: %s",
						msg);
			} else if (r == 0) {
				return fail_nothing_registered();
			}
			next_check = now_ns() + IDLE_CHECK_NS;
		}

		now = now_ns();
		if (now >= deadline)
			return ksm_fail(-ETIMEDOUT, "timed out after %d ms: %lld of %u full scan%s "
						    "completed",
					timeout_ms, (long long)done, scans, scans == 1 ? "" : "s");
		r = sleep_ns(deadline - now < interval ? deadline - now : interval);
		if (r == -EINTR)
			return ksm_fail(r, "a signal interrupted the wait for ksmd's full scans");
		if (r < 0)
			return ksm_fail(r, "cannot sleep: %s", strerror(-r));
		if (interval < POLL_MAX_NS)
			interval *= 2;
		r = ksm_get(ctx, KSM_KNOB_FULL_SCANS, &cur);
		if (r < 0)
			return r;
	}
}

int ksm_wait_scans_since(struct ksm_ctx *ctx, int64_t *base, unsigned int scans, int timeout_ms)
{
	return wait_since(ctx, base, scans, timeout_ms, false);
}

int ksm_wait_scans_since_registered(struct ksm_ctx *ctx, int64_t *base, unsigned int scans,
				    int timeout_ms)
{
	return wait_since(ctx, base, scans, timeout_ms, true);
}

KSM_EXPORT int ksm_wait_scans(struct ksm_ctx *ctx, unsigned int scans, int timeout_ms)
{
	int64_t run, base;
	int r;

	ksm_fail_clear();
	if (!ctx)
		return -EINVAL;
	r = ksm_get(ctx, KSM_KNOB_RUN, &run);
	if (r < 0)
		return r;
	if (run != KSM_RUN_MERGE)
		return fail_not_running(run, false);
	if (scans == 0)
		return 0;
	r = ksm_get(ctx, KSM_KNOB_FULL_SCANS, &base);
	if (r < 0)
		return r;
	r = ksm_wait_scans_since(ctx, &base, scans, timeout_ms);
	return r < 0 ? r : 0;
}

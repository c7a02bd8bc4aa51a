// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Waiting for ksmd: full_scans has no change notification, so it is polled
 * with sleeps that grow from 1 ms to 2 ms; each poll costs two pread()s
 * (about 5 us), well under 1% of a CPU.
 */
#include <errno.h>
#include <time.h>

#include "internal.h"

#define POLL_MIN_NS 1000000LL      /* 1 ms */
#define POLL_MAX_NS 2000000LL      /* 2 ms: a scan is noticed at most 2 ms late */
#define IDLE_CHECK_NS 1000000000LL /* look for registered memory after 1 s without a scan */

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

/*
 * Wait until @scans full scans completed after the full_scans value *base;
 * *base is updated to the last value seen. Returns the number of scans
 * completed (>= @scans), or -errno.
 */
int ksm_wait_scans_since(struct ksm_ctx *ctx, int64_t *base, unsigned int scans, int timeout_ms)
{
	int64_t run, cur, done = 0;
	int64_t start, deadline, idle_since, interval = POLL_MIN_NS;
	bool idle_check = timeout_ms < 0;
	int r;

	r = ksm_get(ctx, KSM_KNOB_FULL_SCANS, &cur);
	if (r < 0)
		return r;
	start = idle_since = now_ns();
	deadline = timeout_ms < 0 ? INT64_MAX : start + (int64_t)timeout_ms * 1000000LL;
	for (;;) {
		int64_t now;

		if (cur != *base) {
			/* run=2 resets full_scans to 0: count from there. */
			done += cur > *base ? cur - *base : cur;
			*base = cur;
			idle_since = now_ns();
			if (done >= scans)
				return done > INT32_MAX ? INT32_MAX : (int)done;
		}
		r = ksm_get(ctx, KSM_KNOB_RUN, &run);
		if (r < 0)
			return r;
		if (run != KSM_RUN_MERGE)
			return -ESRCH;

		/*
		 * Without a deadline, make sure a scan can happen at all. A
		 * kernel without per-process KSM files (before 5.19) cannot
		 * tell: keep waiting without asking again.
		 */
		if (idle_check && now_ns() - idle_since >= IDLE_CHECK_NS) {
			r = ksm_proc_any_registered(ctx);
			if (r == -EOPNOTSUPP || r == -ENOENT) {
				idle_check = false;
			} else if (r < 0) {
				return r;
			} else if (r == 0) {
				return -ENODATA;
			}
			idle_since = now_ns();
		}

		now = now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		r = sleep_ns(deadline - now < interval ? deadline - now : interval);
		if (r < 0)
			return r;
		if (interval < POLL_MAX_NS)
			interval *= 2;
		r = ksm_get(ctx, KSM_KNOB_FULL_SCANS, &cur);
		if (r < 0)
			return r;
	}
}

KSM_EXPORT int ksm_wait_scans(struct ksm_ctx *ctx, unsigned int scans, int timeout_ms)
{
	int64_t run, base;
	int r;

	if (!ctx)
		return -EINVAL;
	r = ksm_get(ctx, KSM_KNOB_RUN, &run);
	if (r < 0)
		return r;
	if (run != KSM_RUN_MERGE)
		return -ESRCH;
	if (scans == 0)
		return 0;
	r = ksm_get(ctx, KSM_KNOB_FULL_SCANS, &base);
	if (r < 0)
		return r;
	r = ksm_wait_scans_since(ctx, &base, scans, timeout_ms);
	return r < 0 ? r : 0;
}

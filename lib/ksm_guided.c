// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Guided merging: estimate, register in each process only the ranges that
 * hold pages that would merge, and merge now, so that ksmd scans those and
 * not the rest. Each step is a public call of its own; this file only
 * chains them and accounts for what each did.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define GUIDED_FLAGS (KSM_FORCE | KSM_GUIDED_DRY_RUN | KSM_GUIDED_IDLE)

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The first process that could not be registered, and how many could not. */
struct failure {
	int err;
	int pid;
	char text[512];
};

static void note_failure(struct failure *f, const struct ksm_guided_process *p)
{
	if (f->err)
		return;
	f->err = p->error;
	f->pid = p->pid;
	snprintf(f->text, sizeof(f->text), "%s", ksm_strerror(p->error));
}

/*
 * Find the ranges of each process the estimate read, register them (unless
 * a dry run) and report each process with ranges to @fn. 0 also when @fn
 * stopped the walk with a positive value: .present then lacks
 * KSM_GUIDED_REGISTERED.
 */
static int register_all(struct ksm_ctx *ctx, struct ksm_estimate *est, unsigned int gap_pages,
			unsigned int flags, int (*fn)(const struct ksm_guided_process *, void *),
			void *data, struct ksm_guided_result *res)
{
	struct ksm_range *ranges = NULL;
	struct failure first = { 0 };
	int *pids = NULL, npids, i, r;
	bool stopped = false;

	r = npids = ksm_estimate_pids(est, NULL, 0);
	if (r > 0 && !(pids = calloc((size_t)npids, sizeof(*pids))))
		r = ksm_fail(-ENOMEM, "out of memory");
	if (r > 0)
		r = ksm_estimate_pids(est, pids, (size_t)npids);
	if (r > 0 && !(ranges = calloc(KSM_GUIDED_MAX_RANGES, sizeof(*ranges))))
		r = ksm_fail(-ENOMEM, "out of memory");
	for (i = 0; r >= 0 && i < npids; i++) {
		struct ksm_guided_process p = { .pid = pids[i], .ranges = ranges };
		int n;

		if (ksm_interrupted(ctx))
			break;
		r = n = ksm_estimate_ranges(est, p.pid, gap_pages, ranges, KSM_GUIDED_MAX_RANGES);
		if (n <= 0)
			continue;
		p.nranges = (size_t)n;
		for (int k = 0; k < n; k++)
			p.pages += (int64_t)(ranges[k].length / (uint64_t)ctx->page_size);
		if (!(flags & KSM_GUIDED_DRY_RUN)) {
			r = ksm_process_register(ctx, p.pid, ranges, p.nranges, flags & KSM_FORCE);
			p.registered = r > 0 ? r : 0;
			p.error = r < 0 ? r : 0;
		}
		if (p.error == -ESRCH) {
			res->exited_processes++;
		} else if (p.error < 0) {
			res->failed_processes++;
			note_failure(&first, &p);
		} else {
			res->registered_processes++;
			res->ranges += (flags & KSM_GUIDED_DRY_RUN) ? n : p.registered;
			res->pages += p.pages;
		}
		r = fn ? fn(&p, data) : 0;
		if (r > 0) {
			stopped = true;
			break;
		}
	}
	free(ranges);
	free(pids);
	if (r < 0)
		return r;
	if (stopped)
		return 0;
	if (i < npids || ksm_interrupted(ctx))
		return ksm_fail(-EINTR, "interrupted after %d of %d processes; what was registered "
				"stays registered", i, npids);
	res->present |= KSM_GUIDED_REGISTERED;
	if (first.err)
		return ksm_fail(first.err, "%s (registering failed in %" PRId64 " of %d processes; "
				"nothing was merged)", first.text, res->failed_processes, npids);
	return 0;
}

static int guided(struct ksm_estimate *est, unsigned int gap_pages, unsigned int scans,
		  int timeout_ms, unsigned int flags,
		  int (*fn)(const struct ksm_guided_process *, void *), void *data,
		  struct ksm_guided_result *res)
{
	struct ksm_ctx *ctx = ksm_estimate_ctx(est);
	struct ksm_estimate_result er;
	struct ksm_stats st;
	int64_t t = mono_ns();
	int r;

	r = ksm_estimate_run_full(est, (flags & KSM_GUIDED_IDLE) ? KSM_ESTIMATE_IDLE : 0);
	if (r > 0)
		res->estimate_ns = mono_ns() - t;
	if (r >= 0)
		r = ksm_estimate_result(est, -1, &er, sizeof(er));
	if (r < 0)
		return r;
	res->present |= KSM_GUIDED_ESTIMATED;
	res->processes = er.processes;
	res->candidate_pages = er.candidate_pages;

	t = mono_ns();
	r = register_all(ctx, est, gap_pages, flags, fn, data, res);
	res->register_ns = mono_ns() - t;
	if (r < 0 || (flags & KSM_GUIDED_DRY_RUN) || res->pages == 0)
		return r;

	t = mono_ns();
	r = ksm_merge_now(ctx, scans, timeout_ms);
	res->merge_ns = mono_ns() - t;
	if (r == 0)
		r = ksm_stats_read(ctx, &st, sizeof(st));
	if (r < 0)
		return r;
	res->present |= KSM_GUIDED_MERGED;
	res->pages_sharing = st.pages_sharing;
	res->ksm_zero_pages = st.ksm_zero_pages;
	return 0;
}

KSM_EXPORT int ksm_merge_guided(struct ksm_estimate *est, unsigned int gap_pages,
				unsigned int scans, int timeout_ms, unsigned int flags,
				int (*fn)(const struct ksm_guided_process *proc, void *data),
				void *data, struct ksm_guided_result *res, size_t size)
{
	struct ksm_guided_result g = { 0 };
	int r;

	ksm_fail_clear();
	if (!est || !res)
		return -EINVAL;
	if (size < sizeof(res->present))
		return ksm_fail_struct_size("ksm_guided_result", size);
	if (flags & ~GUIDED_FLAGS)
		r = ksm_fail(-EINVAL, "unknown flags 0x%x", flags & ~GUIDED_FLAGS);
	else
		r = guided(est, gap_pages, scans, timeout_ms, flags, fn, data, &g);
	ksm_copy_out(res, size, &g, sizeof(g));
	return r;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * merge-now --guided: estimate the targets, register only the ranges that
 * hold pages that would merge, then merge now.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksmctl.h"

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

static int on_progress(void *data, uint64_t done, uint64_t total)
{
	(void)data;
	(void)done;
	(void)total;
	return caught != 0;
}

static bool parse_secs(const char *s, double max, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return !errno && end != s && !*end && *v >= 0 && *v <= max;
}

int cmd_merge_guided(struct ksm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "guided", no_argument, NULL, 'g' },
		TARGET_OPTIONS,
		{ "gap", required_argument, NULL, 'G' },
		{ "verify", required_argument, NULL, 'v' },
		{ "scans", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = on_signal };
	struct ksm_estimate *est = NULL;
	struct ksm_estimate_result res;
	struct ksm_range *ranges = NULL;
	struct estimate_targets targets = { 0 };
	unsigned long gap = KSM_GUIDED_GAP_PAGES, scans = 2;
	int timeout_ms = -1, c, r, npids, *pids = NULL, status = EXIT_SUCCESS;
	unsigned int flags = 0;
	bool dry_run = false;
	double secs, verify = 0;
	uint64_t reg_pages = 0, nranges = 0;
	long ps = ksm_get_page_size(ctx);
	char *end, b1[32], b2[32];

	r = ksm_estimate_new(ctx, &est);
	if (r < 0)
		return fail(r);
	optind = 0;
	while ((c = getopt_long(argc, argv, ":gp:c:u:aG:v:n:t:dfh", opts, NULL)) != -1) {
		status = target_option(est, &targets, c, optarg);
		if (status > 0)
			goto out;
		if (status == 0)
			continue;
		status = EXIT_SUCCESS;
		switch (c) {
		case 'g':
			break;
		case 'G':
			errno = 0;
			gap = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' || gap > UINT32_MAX) {
				status = usage_error("--gap takes a number of pages, not '%s'", optarg);
				goto out;
			}
			break;
		case 'v':
			if (!parse_secs(optarg, 86400, &verify)) {
				status = usage_error("invalid verify delay '%s' (seconds)", optarg);
				goto out;
			}
			break;
		case 'n':
			errno = 0;
			scans = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' || scans == 0 ||
			    scans > UINT32_MAX) {
				status = usage_error("--scans takes a number of full scans, not '%s'",
						     optarg);
				goto out;
			}
			break;
		case 't':
			if (!parse_secs(optarg, INT32_MAX / 1000, &secs)) {
				status = usage_error("--timeout takes seconds, not '%s'", optarg);
				goto out;
			}
			timeout_ms = (int)(secs * 1000.0 + 0.5);
			break;
		case 'd':
			dry_run = true;
			break;
		case 'f':
			flags |= KSM_FORCE;
			break;
		case 'h':
			status = cmd_help(NULL, 2, (char *[]){ "help", "merge-now", NULL });
			goto out;
		default:
			status = option_error("merge-now", c, argv);
			goto out;
		}
	}
	if (optind < argc) {
		status = usage_error("'merge-now' takes no arguments besides its options");
		goto out;
	}
	status = targets_check(&targets, "merge-now --guided");
	if (status)
		goto out;

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	r = ksm_estimate_set_verify(est, (unsigned int)(verify * 1000 + 0.5));
	if (r == 0)
		r = ksm_estimate_set_memory_limit(est, 0); /* guided needs every content */
	if (r == 0)
		r = ksm_estimate_set_progress(est, on_progress, NULL);
	if (r == 0)
		r = ksm_estimate_run(est, KSM_ESTIMATE_IDLE);
	if (r == 0)
		r = ksm_estimate_result(est, -1, &res, sizeof(res));
	if (r == 0)
		r = npids = ksm_estimate_pids(est, NULL, 0);
	if (r >= 0 && npids > 0 && !(pids = calloc((size_t)npids, sizeof(*pids))))
		r = -ENOMEM;
	if (r >= 0 && npids > 0)
		r = ksm_estimate_pids(est, pids, (size_t)npids);
	if (r < 0) {
		status = caught ? 128 + caught : fail(r);
		goto out;
	}
	format_bytes(res.freed_bytes, b1, sizeof(b1));
	printf("estimate: %" PRId64 " processes, %" PRId64 " pages read, pages_sharing %" PRId64
	       " predicted, %s freed%s\n", res.processes, res.candidate_pages, res.pages_sharing,
	       (res.present & KSM_ESTIMATE_FRAMES) ? b1 : "unknown",
	       (res.present & KSM_ESTIMATE_VERIFIED) ? " (verified)" : "");
	ranges = calloc(KSM_GUIDED_MAX_RANGES, sizeof(*ranges));
	if (!ranges) {
		status = fail(-ENOMEM);
		goto out;
	}
	for (int i = 0; i < npids && !caught; i++) {
		char comm[16] = "?";
		uint64_t pages = 0;
		int n = ksm_estimate_ranges(est, pids[i], (unsigned int)gap, ranges,
					    KSM_GUIDED_MAX_RANGES);

		if (n < 0) {
			status = fail(n);
			continue;
		}
		if (n == 0)
			continue;
		for (int k = 0; k < n; k++)
			pages += ranges[k].length / (uint64_t)ps;
		ksm_proc_comm(ctx, pids[i], comm, sizeof(comm));
		if (dry_run) {
			printf("%d %s: %d ranges, %" PRIu64 " pages\n", pids[i], text_escape(comm, b2,
			       sizeof(b2)), n, pages);
			for (int k = 0; k < n; k++)
				printf("  %" PRIx64 "-%" PRIx64 "\n", ranges[k].start,
				       ranges[k].start + ranges[k].length);
			nranges += (uint64_t)n;
			reg_pages += pages;
			continue;
		}
		r = ksm_process_register(ctx, pids[i], ranges, (size_t)n, flags);
		if (r == -ESRCH) {
			fprintf(stderr, "%s: notice: process %d exited\n", progname, pids[i]);
			continue;
		}
		if (r < 0) {
			status = fail(r);
			continue;
		}
		printf("%d %s: registered %d of %d ranges, %" PRIu64 " pages\n", pids[i],
		       text_escape(comm, b2, sizeof(b2)), r, n, pages);
		nranges += (uint64_t)r;
		reg_pages += pages;
	}
	if (caught) {
		error("interrupted; what was registered stays registered");
		status = 128 + caught;
		goto out;
	}
	printf("%s %" PRIu64 " of %" PRId64 " pages read (%.1f%%) in %" PRIu64 " ranges\n",
	       dry_run ? "would register" : "registered", reg_pages, res.candidate_pages,
	       res.candidate_pages ? 100.0 * (double)reg_pages / (double)res.candidate_pages : 0.0,
	       nranges);
	if (dry_run || status != EXIT_SUCCESS || reg_pages == 0)
		goto out;
	ksm_set_interrupt(ctx, &caught);
	r = ksm_merge_now(ctx, (unsigned int)scans, timeout_ms);
	ksm_set_interrupt(ctx, NULL);
	if (caught) {
		error("interrupted; the knobs are restored");
		status = 128 + caught;
		goto out;
	}
	if (r < 0) {
		status = fail(r);
		goto out;
	}
	{
		struct ksm_stats st;

		if (ksm_stats_read(ctx, &st, sizeof(st)) == 0)
			printf("merged: pages_sharing %" PRId64 " (predicted %" PRId64 ")\n",
			       st.pages_sharing, res.pages_sharing);
	}
out:
	free(ranges);
	free(pids);
	ksm_estimate_unref(est);
	return status;
}

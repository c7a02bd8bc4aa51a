// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * merge-now --guided: ksm_merge_guided() on the targets, and what it did:
 * the estimate, the ranges of each process, what was registered and merged.
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

struct report {
	struct ksm_ctx *ctx;
	struct ksm_estimate *est;
	struct ksm_estimate_result est_res;
	bool estimate_printed, dry_run;
	int status;
};

static void print_estimate(struct report *rep)
{
	const struct ksm_estimate_result *res = &rep->est_res;
	char b[32];

	if (rep->estimate_printed || ksm_estimate_result(rep->est, -1, &rep->est_res,
							 sizeof(rep->est_res)) < 0)
		return;
	rep->estimate_printed = true;
	format_bytes(res->freed_bytes, b, sizeof(b));
	printf("estimate: %" PRId64 " processes, %" PRId64 " pages read, pages_sharing %" PRId64
	       " predicted, %s freed%s\n", res->processes, res->candidate_pages, res->pages_sharing,
	       (res->present & KSM_ESTIMATE_FRAMES) ? b : "unknown",
	       (res->present & KSM_ESTIMATE_VERIFIED) ? " (verified)" : "");
}

static int on_process(const struct ksm_guided_process *p, void *data)
{
	struct report *rep = data;
	char comm[16] = "?", b[32];

	if (p->error == -ESRCH) {
		print_estimate(rep);
		fprintf(stderr, "%s: notice: process %d exited\n", progname, p->pid);
		return 0;
	}
	if (p->error < 0) {
		rep->status = fail(p->error); /* before any other call replaces the message */
		print_estimate(rep);
		return 0;
	}
	print_estimate(rep);
	ksm_proc_comm(rep->ctx, p->pid, comm, sizeof(comm));
	if (rep->dry_run) {
		printf("%d %s: %zu ranges, %" PRId64 " pages\n", p->pid,
		       text_escape(comm, b, sizeof(b)), p->nranges, p->pages);
		for (size_t k = 0; k < p->nranges; k++)
			printf("  %" PRIx64 "-%" PRIx64 "\n", p->ranges[k].start,
			       p->ranges[k].start + p->ranges[k].length);
	} else {
		printf("%d %s: registered %d of %zu ranges, %" PRId64 " pages\n", p->pid,
		       text_escape(comm, b, sizeof(b)), p->registered, p->nranges, p->pages);
	}
	return 0;
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
	struct ksm_guided_result res;
	struct estimate_targets targets = { 0 };
	struct report rep = { .ctx = ctx };
	unsigned long gap = KSM_GUIDED_GAP_PAGES, scans = 2;
	int timeout_ms = -1, c, r, status = EXIT_SUCCESS;
	unsigned int flags = KSM_GUIDED_IDLE;
	bool dry_run = false;
	double secs, verify = 0;
	char *end;

	r = ksm_estimate_new(ctx, &est);
	if (r < 0)
		return fail(r);
	rep.est = est;
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
			flags |= KSM_GUIDED_DRY_RUN;
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
		r = ksm_estimate_set_progress(est, on_progress, NULL);
	if (r < 0) {
		status = fail(r);
		goto out;
	}
	rep.dry_run = dry_run;
	ksm_set_interrupt(ctx, &caught);
	r = ksm_merge_guided(est, (unsigned int)gap, (unsigned int)scans, timeout_ms, flags,
			     on_process, &rep, &res, sizeof(res));
	ksm_set_interrupt(ctx, NULL);
	status = rep.status;
	if (!(res.present & KSM_GUIDED_ESTIMATED)) {
		status = caught ? 128 + caught : fail(r);
		goto out;
	}
	print_estimate(&rep);
	if (!(res.present & KSM_GUIDED_REGISTERED)) {
		if (caught) {
			error("interrupted; what was registered stays registered");
			status = 128 + caught;
		} else {
			status = fail(r);
		}
		goto out;
	}
	printf("%s %" PRId64 " of %" PRId64 " pages read (%.1f%%) in %" PRId64 " ranges\n",
	       dry_run ? "would register" : "registered", res.pages, res.candidate_pages,
	       res.candidate_pages ? 100.0 * (double)res.pages / (double)res.candidate_pages : 0.0,
	       res.ranges);
	if (res.failed_processes)
		goto out; /* each failure was reported; nothing was merged */
	if (r < 0 && caught) {
		error("interrupted; the knobs are restored");
		status = 128 + caught;
	} else if (r < 0) {
		status = fail(r);
	} else if (res.present & KSM_GUIDED_MERGED) {
		printf("merged: pages_sharing %" PRId64 " (predicted %" PRId64 ")\n",
		       res.pages_sharing, rep.est_res.pages_sharing);
	}
out:
	ksm_estimate_unref(est);
	return status;
}

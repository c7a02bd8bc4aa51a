// SPDX-License-Identifier: LGPL-2.1-or-later
/* estimate: what KSM would save, before enabling it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ksmctl.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct progress {
	bool tty;
	double last;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int on_progress(void *data, uint64_t done, uint64_t total)
{
	struct progress *p = data;

	if (interrupted)
		return 1;
	if (p->tty && mono_s() - p->last >= 0.2) {
		p->last = mono_s();
		fprintf(stderr, "\rreading: %" PRIu64 " of %" PRIu64 " pages (%.0f%%)   ", done, total,
			total ? 100.0 * (double)done / (double)total : 0.0);
	}
	return 0;
}

static void json_result(const struct ksm_estimate_result *r, long page_size)
{
	printf("\"page_size\": %ld, \"pages_sharing\": %" PRId64 ", \"pages_shared\": %" PRId64
	       ", \"ksm_zero_pages\": %" PRId64 ", \"rmap_items\": %" PRId64
	       ", \"general_profit\": %" PRId64, page_size, r->pages_sharing, r->pages_shared,
	       r->ksm_zero_pages, r->rmap_items, r->general_profit);
	if (r->present & KSM_ESTIMATE_FRAMES)
		printf(", \"freed_bytes\": %" PRId64, r->freed_bytes);
	printf(", \"ksm_merging_pages\": %" PRId64, r->ksm_merging_pages);
	if (r->present & KSM_ESTIMATE_SAMPLED)
		printf(", \"pages_sharing_ci\": %" PRId64 ", \"general_profit_ci\": %" PRId64
		       ", \"freed_bytes_ci\": %" PRId64, r->pages_sharing_ci, r->general_profit_ci,
		       r->freed_bytes_ci);
	printf(", \"candidate_pages\": %" PRId64 ", \"thp_pages\": %" PRId64, r->candidate_pages,
	       r->thp_pages);
	if (r->present & KSM_ESTIMATE_VERIFIED)
		printf(", \"volatile_pages\": %" PRId64, r->volatile_pages);
	printf(", \"processes\": %" PRId64 ", \"skipped_processes\": %" PRId64, r->processes,
	       r->skipped_processes);
	printf(", \"unreadable_pages\": %" PRId64, r->unreadable_pages);
	if (r->present & KSM_ESTIMATE_KSMD_COST)
		printf(", \"ksmd_cpu_to_merge_ns\": %" PRId64 ", \"ksmd_wall_to_merge_ms\": %" PRId64
		       ", \"ksmd_cpu_per_hour_ns\": %" PRId64, r->ksmd_cpu_to_merge_ns,
		       r->ksmd_wall_to_merge_ms, r->ksmd_cpu_per_hour_ns);
}

static void human_bytes(const char *label, int64_t v, int64_t ci, bool sampled)
{
	char b[32], c[32];

	format_bytes(v, b, sizeof(b));
	if (sampled) {
		format_bytes(ci, c, sizeof(c));
		printf("  %-20s %s (± %s)\n", label, b, c);
	} else {
		printf("  %-20s %s\n", label, b);
	}
}

static void human_result(const struct ksm_estimate_result *r)
{
	bool s = r->present & KSM_ESTIMATE_SAMPLED;

	if (s)
		printf("  %-20s %" PRId64 " (± %" PRId64 ")\n", "pages_sharing", r->pages_sharing,
		       r->pages_sharing_ci);
	else
		printf("  %-20s %" PRId64 "\n", "pages_sharing", r->pages_sharing);
	printf("  %-20s %" PRId64 "\n", "pages_shared", r->pages_shared);
	printf("  %-20s %" PRId64 "\n", "ksm_zero_pages", r->ksm_zero_pages);
	printf("  %-20s %" PRId64 "\n", "rmap_items", r->rmap_items);
	human_bytes("general_profit", r->general_profit, r->general_profit_ci, s);
	if (r->present & KSM_ESTIMATE_FRAMES)
		human_bytes("memory freed", r->freed_bytes, r->freed_bytes_ci, s);
	else
		printf("  %-20s unknown (frames need CAP_SYS_ADMIN)\n", "memory freed");
	printf("  %-20s %" PRId64 "\n", "ksm_merging_pages", r->ksm_merging_pages);
	printf("  %-20s %" PRId64 " (%" PRId64 " in huge pages, split by merging)\n",
	       "pages read", r->candidate_pages, r->thp_pages);
	if (r->present & KSM_ESTIMATE_VERIFIED)
		printf("  %-20s %" PRId64 "\n", "volatile pages", r->volatile_pages);
	printf("  %-20s %" PRId64 " (%" PRId64 " skipped)\n", "processes", r->processes,
	       r->skipped_processes);
	if (r->unreadable_pages)
		printf("  %-20s %" PRId64 " (gone before they were read: not counted)\n",
		       "unreadable pages", r->unreadable_pages);
	if (r->present & KSM_ESTIMATE_KSMD_COST)
		printf("  %-20s %.1f CPU s over %.0f s to merge, then %.1f CPU s per hour\n",
		       "ksmd (model)", (double)r->ksmd_cpu_to_merge_ns / 1e9,
		       (double)r->ksmd_wall_to_merge_ms / 1e3, (double)r->ksmd_cpu_per_hour_ns / 1e9);
}

static int64_t overlap(struct ksm_estimate *est, int a, int b)
{
	int64_t v = 0;

	ksm_estimate_overlap(est, a, b, &v);
	return v;
}

static void print_estimate(struct ksm_ctx *ctx, struct ksm_estimate *est, bool json)
{
	struct ksm_estimate_result all, r;
	int n = ksm_estimate_target_count(est);
	long ps = ksm_get_page_size(ctx);
	char rate[32];

	ksm_estimate_result(est, -1, &all, sizeof(all));
	if (json) {
		format_double(all.sample_rate, true, rate, sizeof(rate));
		printf("{\"max_page_sharing\": %" PRId64 ", \"use_zero_pages\": %" PRId64
		       ", \"merge_across_nodes\": %" PRId64 ", \"sample_rate\": %s, \"frames\": %s, ",
		       all.max_page_sharing, all.use_zero_pages, all.merge_across_nodes, rate,
		       (all.present & KSM_ESTIMATE_FRAMES) ? "true" : "false");
		printf("\"auto_sampled\": %s, ", (all.present & KSM_ESTIMATE_AUTO_SAMPLED) ? "true" : "false");
		if (all.present & KSM_ESTIMATE_KSMD_COST)
			printf("\"page_size\": %ld, \"pages_to_scan\": %" PRId64
			       ", \"sleep_millisecs\": %" PRId64 ", ", ps, all.pages_to_scan,
			       all.sleep_millisecs);
		printf("\"total\": {");
		json_result(&all, ps);
		printf("},\n \"targets\": [");
		for (int t = 0; t < n; t++) {
			ksm_estimate_result(est, t, &r, sizeof(r));
			printf("%s\n  {\"target\": ", t ? "," : "");
			json_string(ksm_estimate_target_name(est, t));
			printf(", ");
			json_result(&r, ps);
			printf(", \"overlap\": [");
			for (int b = 0; b < n; b++)
				printf("%s%" PRId64, b ? ", " : "", overlap(est, t, b));
			printf("]}");
		}
		printf("\n]}\n");
		return;
	}
	printf("Predicted with max_page_sharing=%" PRId64 " use_zero_pages=%" PRId64
	       " merge_across_nodes=%" PRId64 "%s%s:\n", all.max_page_sharing, all.use_zero_pages,
	       all.merge_across_nodes, (all.present & KSM_ESTIMATE_SAMPLED) ? ", sampled" : "",
	       (all.present & KSM_ESTIMATE_VERIFIED) ? ", verified" : "");
	if (all.present & KSM_ESTIMATE_SAMPLED)
		printf("(sample rate %g%s; ± is the half-width of a 95%% confidence interval)\n",
		       all.sample_rate, (all.present & KSM_ESTIMATE_AUTO_SAMPLED) ?
		       ", chosen to fit the memory limit" : "");
	if (all.present & KSM_ESTIMATE_KSMD_COST)
		printf("(ksmd cost model at pages_to_scan=%" PRId64 " sleep_millisecs=%" PRId64 ")\n",
		       all.pages_to_scan, all.sleep_millisecs);
	if (!(all.present & KSM_ESTIMATE_FRAMES))
		printf("Frame numbers were hidden (they need CAP_SYS_ADMIN): pages shared after fork()\n"
		       "or already merged count as copies, so this is an upper bound.\n");
	printf("\nAll targets:\n");
	human_result(&all);
	if (n < 2)
		return;
	for (int t = 0; t < n; t++) {
		ksm_estimate_result(est, t, &r, sizeof(r));
		printf("\nTarget %s alone:\n", ksm_estimate_target_name(est, t));
		human_result(&r);
	}
	printf("\nPages of ROW merged with a page of COLUMN:\n%-16s", "");
	for (int b = 0; b < n; b++)
		printf(" %12.12s", ksm_estimate_target_name(est, b));
	printf("\n");
	for (int a = 0; a < n; a++) {
		printf("%-16.16s", ksm_estimate_target_name(est, a));
		for (int b = 0; b < n; b++)
			printf(" %12" PRId64, overlap(est, a, b));
		printf("\n");
	}
}

static bool parse_double(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s)
		return false;
	if (*end == '%') {
		*v /= 100;
		end++;
	}
	return *end == 0;
}

/* Bytes with an optional K, M, G or T (powers of 1024). */
static bool parse_size(const char *s, unsigned long long *v)
{
	char *end;
	int shift = 0;

	errno = 0;
	if (*s == '-')
		return false;
	*v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	default: break;
	}
	if (*end || (shift && *v > (~0ULL >> shift)))
		return false;
	*v <<= shift;
	return true;
}

int cmd_estimate(struct ksm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		TARGET_OPTIONS,
		{ "sample", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "verify", required_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "normal-priority", no_argument, NULL, 'N' },
		{ "memory-limit", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ksm_estimate *est = NULL;
	struct progress prog = { .tty = isatty(STDERR_FILENO) };
	struct sigaction sa = { .sa_handler = on_signal };
	struct estimate_targets targets = { 0 };
	bool json = false, idle = true;
	double rate = 1, verify = 0;
	unsigned long long seed = 0, limit = KSM_ESTIMATE_MEMORY_LIMIT;
	int c, r, status;

	r = ksm_estimate_new(ctx, &est);
	if (r < 0)
		return fail(r);
	optind = 0;
	while ((c = getopt_long(argc, argv, ":p:c:u:as:S:v:jNM:h", opts, NULL)) != -1) {
		char *end;

		status = target_option(est, &targets, c, optarg);
		if (status > 0)
			goto out;
		if (status == 0)
			continue;
		switch (c) {
		case 's':
			if (!parse_double(optarg, &rate) || !(rate > 0 && rate <= 1)) {
				status = usage_error("invalid sampling rate '%s' (0 < RATE <= 1, or a "
						     "percentage)", optarg);
				goto out;
			}
			break;
		case 'S':
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno || *end) {
				status = usage_error("invalid seed '%s'", optarg);
				goto out;
			}
			break;
		case 'v':
			if (!parse_double(optarg, &verify) || verify < 0 || verify > 86400) {
				status = usage_error("invalid verify delay '%s' (seconds)", optarg);
				goto out;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'M':
			if (!parse_size(optarg, &limit)) {
				status = usage_error("invalid memory limit '%s' (bytes, with K, M or G; 0: "
						     "none)", optarg);
				goto out;
			}
			break;
		case 'N':
			idle = false;
			break;
		case 'h':
			status = cmd_help(NULL, 2, (char *[]){ "help", "estimate", NULL });
			goto out;
		default:
			status = option_error("estimate", c, argv);
			goto out;
		}
	}
	if (optind < argc) {
		status = usage_error("'estimate' takes no arguments (use --pid, --cgroup, --unit or --all)");
		goto out;
	}
	status = targets_check(&targets, "estimate");
	if (status)
		goto out;
	r = ksm_estimate_set_sample(est, rate, seed);
	if (r == 0)
		r = ksm_estimate_set_verify(est, (unsigned int)(verify * 1000 + 0.5));
	if (r == 0)
		r = ksm_estimate_set_memory_limit(est, limit);
	if (r == 0)
		r = ksm_estimate_set_progress(est, on_progress, &prog);
	if (r < 0) {
		status = fail(r);
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r = ksm_estimate_run(est, idle ? KSM_ESTIMATE_IDLE : 0);
	if (prog.tty && prog.last > 0)
		fprintf(stderr, "\r%60s\r", "");
	if (r < 0) {
		status = fail(r);
		goto out;
	}
	print_estimate(ctx, est, json);
	status = EXIT_SUCCESS;
out:
	ksm_estimate_unref(est);
	return status;
}

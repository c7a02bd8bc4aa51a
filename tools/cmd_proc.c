// SPDX-License-Identifier: LGPL-2.1-or-later
/* exec, ps, wait: processes and ksmd. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ksmctl.h"

/* ------------------------------------------------------------------------ */
/* exec / ps / wait                                                          */

int cmd_exec(struct ksm_ctx *ctx, int argc, char **argv)
{
	int r;

	/* Options of ksmctl end here; everything after is the command's. */
	argc--;
	argv++;
	if (argc > 0 && strcmp(argv[0], "--") == 0) {
		argc--;
		argv++;
	} else if (argc > 0 && (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0)) {
		return cmd_help(NULL, 2, (char *[]){ "help", "exec", NULL });
	}
	if (argc == 0)
		return usage_error("'exec' needs a command to run");

	r = ksm_set_process_merge(1);
	if (r < 0)
		return fail(r);
	execvp(argv[0], argv);
	r = errno;
	error("cannot run '%s': %s", argv[0], strerror(r));
	return r == ENOENT ? 127 : 126;
}

enum ps_sort { SORT_PROFIT, SORT_MERGING, SORT_ZERO, SORT_RMAP };

struct ps_list {
	struct ksm_proc *procs;
	size_t n, cap;
};

static int ps_collect(const struct ksm_proc *p, void *data)
{
	struct ps_list *l = data;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct ksm_proc *np = realloc(l->procs, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		l->procs = np;
		l->cap = cap;
	}
	l->procs[l->n++] = *p;
	return 0;
}

static enum ps_sort ps_sort_key;

static int64_t ps_key(const struct ksm_proc *p)
{
	switch (ps_sort_key) {
	case SORT_MERGING: return p->stats.ksm_merging_pages;
	case SORT_ZERO: return p->stats.ksm_zero_pages;
	case SORT_RMAP: return p->stats.ksm_rmap_items;
	case SORT_PROFIT: break;
	}
	/* The kernel's figure, or the library's estimate where it has none. */
	return p->stats.profit_bytes;
}

static int ps_compare(const void *a, const void *b)
{
	const struct ksm_proc *x = a, *y = b;
	int64_t kx = ps_key(x), ky = ps_key(y);

	if (kx != ky)
		return kx < ky ? 1 : -1; /* largest first */
	return x->pid - y->pid;
}

static void ps_bytes(const struct ksm_proc *p, uint32_t bit, int64_t pages, long page_size,
		     char *buf, size_t size)
{
	if (p->stats.present & bit)
		format_bytes(pages * page_size, buf, size);
	else
		snprintf(buf, size, "-");
}

static const char *ps_flag(const struct ksm_proc *p, uint32_t bit, int64_t v)
{
	return (p->stats.present & bit) ? (v ? "yes" : "no") : "-";
}

static void ps_print(const struct ps_list *l, bool json, long page_size)
{
	if (json) {
		printf("[");
		for (size_t i = 0; i < l->n; i++) {
			const struct ksm_proc *p = &l->procs[i];
			const struct ksm_proc_stats *s = &p->stats;

			printf("%s\n  {\"pid\": %d, \"comm\": ", i ? "," : "", p->pid);
			json_string(p->comm);
			printf(", \"page_size\": %ld", page_size);
			if (s->present & KSM_PROC_RMAP_ITEMS)
				printf(", \"ksm_rmap_items\": %" PRId64, s->ksm_rmap_items);
			if (s->present & KSM_PROC_ZERO_PAGES)
				printf(", \"ksm_zero_pages\": %" PRId64, s->ksm_zero_pages);
			if (s->present & KSM_PROC_MERGING_PAGES)
				printf(", \"ksm_merging_pages\": %" PRId64, s->ksm_merging_pages);
			if (s->present & KSM_PROC_PROCESS_PROFIT)
				printf(", \"ksm_process_profit\": %" PRId64, s->ksm_process_profit);
			if (s->present & KSM_PROC_MERGE_ANY)
				printf(", \"ksm_merge_any\": %s", s->ksm_merge_any ? "true" : "false");
			if (s->present & KSM_PROC_MERGEABLE)
				printf(", \"ksm_mergeable\": %s", s->ksm_mergeable ? "true" : "false");
			printf("}");
		}
		printf("%s]\n", l->n ? "\n" : "");
		return;
	}
	printf("%7s %-15s %10s %10s %10s %10s %-9s %s\n", "PID", "COMMAND", "MERGING", "ZERO",
	       "RMAP", "PROFIT", "MERGE_ANY", "MERGEABLE");
	for (size_t i = 0; i < l->n; i++) {
		const struct ksm_proc *p = &l->procs[i];
		const struct ksm_proc_stats *s = &p->stats;
		char merging[24], zero[24], rmap[24], profit[24];

		ps_bytes(p, KSM_PROC_MERGING_PAGES, s->ksm_merging_pages, page_size, merging,
			 sizeof(merging));
		ps_bytes(p, KSM_PROC_ZERO_PAGES, s->ksm_zero_pages, page_size, zero, sizeof(zero));
		if (s->present & KSM_PROC_RMAP_ITEMS)
			snprintf(rmap, sizeof(rmap), "%" PRId64, s->ksm_rmap_items);
		else
			snprintf(rmap, sizeof(rmap), "-");
		format_bytes(s->profit_bytes, profit, sizeof(profit));
		printf("%7d %-15s %10s %10s %10s %10s %-9s %s\n", p->pid, p->comm, merging, zero, rmap,
		       profit, ps_flag(p, KSM_PROC_MERGE_ANY, s->ksm_merge_any),
		       ps_flag(p, KSM_PROC_MERGEABLE, s->ksm_mergeable));
	}
}

int cmd_ps(struct ksm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sort", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const sort_names[] = { "profit", "merging", "zero", "rmap" };
	struct ps_list l = { 0 };
	bool json = false, found;
	int c, r, status = EXIT_SUCCESS;

	ps_sort_key = SORT_PROFIT;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":js:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			found = false;
			for (size_t i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++) {
				if (strcmp(optarg, sort_names[i]) == 0) {
					ps_sort_key = (enum ps_sort)i;
					found = true;
				}
			}
			if (!found)
				return usage_error("--sort takes profit, merging, zero or rmap, not '%s'", optarg);
			break;
		case 'h':
			return cmd_help(NULL, 2, (char *[]){ "help", "ps", NULL });
		default:
			return option_error("ps", c, argv);
		}
	}

	if (optind < argc) {
		for (int i = optind; i < argc; i++) {
			struct ksm_proc p = { 0 };
			int64_t pid;
			char *end;

			errno = 0;
			pid = strtoll(argv[i], &end, 10);
			if (errno || *end || end == argv[i] || pid < 1 || pid > INT32_MAX) {
				free(l.procs);
				return usage_error("'%s' is not a process ID", argv[i]);
			}
			p.pid = (int)pid;
			r = ksm_proc_stats_read(ctx, p.pid, &p.stats, sizeof(p.stats));
			if (r == 0)
				r = ksm_proc_comm(ctx, p.pid, p.comm, sizeof(p.comm));
			if (r < 0) {
				status = fail(r);
				continue;
			}
			r = ps_collect(&p, &l);
			if (r < 0)
				break;
		}
	} else {
		struct ksm_proc_counts counts;

		r = ksm_proc_foreach_counted(ctx, ps_collect, &l, &counts, sizeof(counts));
		if (r < 0) {
			r = fail(r);
			free(l.procs);
			return r;
		}
		if (counts.denied > 0)
			error("%" PRId64 " of %" PRId64 " processes could not be read and are left "
			      "out: their KSM figures are readable by their owner and root only",
			      counts.denied, counts.listed);
	}
	if (l.n > 1) /* qsort() takes no NULL array, even empty */
		qsort(l.procs, l.n, sizeof(*l.procs), ps_compare);
	ps_print(&l, json, ksm_get_page_size(ctx));
	free(l.procs);
	return status;
}

int cmd_wait(struct ksm_ctx *ctx, int argc, char **argv)
{
	unsigned long scans = 1;
	int timeout_ms = -1;
	int r;

	r = parse_scan_options(argc, argv, "wait", &scans, &timeout_ms);
	if (r >= 0)
		return r;

	r = ksm_wait_scans(ctx, (unsigned int)scans, timeout_ms);
	return r < 0 ? fail(r) : EXIT_SUCCESS;
}

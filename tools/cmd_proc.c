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
#include <sys/ioctl.h>
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
	const struct ksm_proc *x = &((const struct proc_entry *)a)->proc;
	const struct ksm_proc *y = &((const struct proc_entry *)b)->proc;
	int64_t kx = ps_key(x), ky = ps_key(y);

	if (kx != ky)
		return kx < ky ? 1 : -1; /* largest first */
	return x->pid - y->pid;
}

static void ps_bytes(const struct ksm_proc *p, uint32_t bit, int64_t pages, long page_size,
		     char *buf, size_t size)
{
	int64_t bytes;

	/* Saturated, like the library's derived figures. */
	if (__builtin_mul_overflow(pages, (int64_t)page_size, &bytes))
		bytes = (pages < 0) != (page_size < 0) ? INT64_MIN : INT64_MAX;
	if (p->stats.present & bit)
		format_bytes(bytes, buf, size);
	else
		snprintf(buf, size, "-");
}

static const char *ps_flag(const struct ksm_proc *p, uint32_t bit, int64_t v)
{
	return (p->stats.present & bit) ? (v ? "yes" : "no") : "-";
}

/*
 * By which means the process merges, from the kernel's two flags:
 * process-wide (ksm_merge_any, which registers every eligible area, so any
 * area it registered itself cannot be told apart), areas it registered
 * itself with madvise (ksm_mergeable without ksm_merge_any), or none; "-"
 * where the kernel does not say.
 */
static const char *ps_merge_by(const struct ksm_proc *p)
{
	const struct ksm_proc_stats *s = &p->stats;

	if ((s->present & KSM_PROC_MERGE_ANY) && s->ksm_merge_any)
		return "merge-any";
	if (!(s->present & KSM_PROC_MERGE_ANY) || !(s->present & KSM_PROC_MERGEABLE))
		return "-";
	return s->ksm_mergeable ? "madvise" : "none";
}

/* Columns left for the command line: the terminal's width, or no limit. */
static int terminal_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

/* "guest NAME", "VMID N", both, or "-". */
static void ps_guest(const struct ksm_proc_ident *id, char *buf, size_t size)
{
	bool g = id->present & KSM_IDENT_GUEST, v = id->present & KSM_IDENT_VMID;

	if (g && v)
		snprintf(buf, size, "%s/%" PRId64, id->guest, id->vmid);
	else if (g)
		snprintf(buf, size, "%s", id->guest);
	else if (v)
		snprintf(buf, size, "%" PRId64, id->vmid);
	else
		snprintf(buf, size, "-");
}

static void ps_print_json(const struct proc_table *t, long page_size)
{
	printf("[");
	for (size_t i = 0; i < t->n; i++) {
		const struct ksm_proc *p = &t->v[i].proc;
		const struct ksm_proc_stats *s = &p->stats;
		const struct ksm_proc_ident *id = &t->v[i].id;

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
		if (id->present & KSM_IDENT_CMDLINE) {
			printf(", \"cmdline\": ");
			json_string(id->cmdline);
		}
		if (id->present & KSM_IDENT_CGROUP) {
			printf(", \"cgroup\": ");
			json_string(id->cgroup);
		}
		if (id->present & KSM_IDENT_UNIT) {
			printf(", \"unit\": ");
			json_string(id->unit);
		}
		if (id->present & KSM_IDENT_GUEST) {
			printf(", \"guest\": ");
			json_string(id->guest);
		}
		if (id->present & KSM_IDENT_VMID)
			printf(", \"vmid\": %" PRId64, id->vmid);
		printf("}");
	}
	printf("%s]\n", t->n ? "\n" : "");
}

static void ps_print(const struct proc_table *t, long page_size)
{
	int width = terminal_width();

	printf("%7s %-15s %10s %10s %10s %10s %-9s %-9s %-9s %-24s %-14s %s\n", "PID", "COMMAND",
	       "MERGING", "ZERO", "RMAP", "PROFIT", "MERGE_ANY", "MERGEABLE", "MERGE_BY", "UNIT",
	       "GUEST", "CMDLINE");
	for (size_t i = 0; i < t->n; i++) {
		const struct ksm_proc *p = &t->v[i].proc;
		const struct ksm_proc_stats *s = &p->stats;
		const struct ksm_proc_ident *id = &t->v[i].id;
		char merging[24], zero[24], rmap[24], profit[24], guest[300];
		static char comm_e[4 * sizeof(p->comm)], unit_e[1024], guest_e[1200], cmd_e[16384];
		const char *unit = (id->present & KSM_IDENT_UNIT)     ? id->unit :
				   (id->present & KSM_IDENT_CGROUP) ? id->cgroup : "-";
		const char *cmd = (id->present & KSM_IDENT_CMDLINE) && id->cmdline[0] ? id->cmdline : "-";
		int n;

		ps_bytes(p, KSM_PROC_MERGING_PAGES, s->ksm_merging_pages, page_size, merging,
			 sizeof(merging));
		ps_bytes(p, KSM_PROC_ZERO_PAGES, s->ksm_zero_pages, page_size, zero, sizeof(zero));
		if (s->present & KSM_PROC_RMAP_ITEMS)
			snprintf(rmap, sizeof(rmap), "%" PRId64, s->ksm_rmap_items);
		else
			snprintf(rmap, sizeof(rmap), "-");
		format_bytes(s->profit_bytes, profit, sizeof(profit));
		ps_guest(id, guest, sizeof(guest));
		/* Names and command lines are anyone's: escaped (ksmctl(8), "Names"). */
		cmd = text_escape(cmd, cmd_e, sizeof(cmd_e));
		n = printf("%7d %-15s %10s %10s %10s %10s %-9s %-9s %-9s %-24s %-14s ", p->pid,
			   text_escape(p->comm, comm_e, sizeof(comm_e)), merging, zero, rmap, profit,
			   ps_flag(p, KSM_PROC_MERGE_ANY, s->ksm_merge_any),
			   ps_flag(p, KSM_PROC_MERGEABLE, s->ksm_mergeable), ps_merge_by(p),
			   text_escape(unit, unit_e, sizeof(unit_e)),
			   text_escape(guest, guest_e, sizeof(guest_e)));
		/* The command line fills the rest of the terminal's line. */
		if (width > 0 && n < width)
			printf("%.*s\n", width - n, cmd);
		else if (width > 0)
			printf("\n");
		else
			printf("%s\n", cmd);
	}
}

static void ps_print_groups(const struct proc_group *g, size_t n, enum group_by by, bool json,
			    long page_size)
{
	static const char *const key_name[] = { "", "cgroup", "unit", "comm" };

	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++) {
			printf("%s\n  {\"%s\": ", i ? "," : "", key_name[by]);
			json_string(g[i].key);
			printf(", \"processes\": %d, \"page_size\": %ld, \"ksm_rmap_items\": %" PRId64
			       ", \"ksm_zero_pages\": %" PRId64 ", \"ksm_merging_pages\": %" PRId64
			       ", \"saved_bytes\": %" PRId64 ", \"profit_bytes\": %" PRId64 "}",
			       g[i].processes, page_size, g[i].ksm_rmap_items, g[i].ksm_zero_pages,
			       g[i].ksm_merging_pages, g[i].saved_bytes, g[i].profit_bytes);
		}
		printf("%s]\n", n ? "\n" : "");
		return;
	}
	printf("%5s %10s %10s %10s %10s %s\n", "PROCS", "MERGING", "ZERO", "RMAP", "PROFIT",
	       by == GROUP_CGROUP ? "CGROUP" : by == GROUP_UNIT ? "UNIT" : "COMMAND");
	for (size_t i = 0; i < n; i++) {
		char merging[24], zero[24], profit[24];

		format_bytes(g[i].ksm_merging_pages * page_size, merging, sizeof(merging));
		format_bytes(g[i].ksm_zero_pages * page_size, zero, sizeof(zero));
		format_bytes(g[i].profit_bytes, profit, sizeof(profit));
		printf("%5d %10s %10s %10" PRId64 " %10s %s\n", g[i].processes, merging, zero,
		       g[i].ksm_rmap_items, profit, g[i].key[0] ? g[i].key : "-");
	}
}

int cmd_ps(struct ksm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sort", required_argument, NULL, 's' },
		{ "by", required_argument, NULL, 'b' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const sort_names[] = { "profit", "merging", "zero", "rmap" };
	static const char *const by_names[] = { "", "cgroup", "unit", "comm" };
	struct proc_table t = { 0 };
	enum group_by by = GROUP_NONE;
	const char *output = NULL;
	bool json = false, prometheus = false, found;
	int c, r, status = EXIT_SUCCESS;

	ps_sort_key = SORT_PROFIT;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":js:b:po:h", opts, NULL)) != -1) {
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
		case 'b':
			found = false;
			for (size_t i = 1; i < sizeof(by_names) / sizeof(by_names[0]); i++) {
				if (strcmp(optarg, by_names[i]) == 0) {
					by = (enum group_by)i;
					found = true;
				}
			}
			if (!found)
				return usage_error("--by takes cgroup, unit or comm, not '%s'", optarg);
			break;
		case 'p':
			prometheus = true;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			return cmd_help(NULL, 2, (char *[]){ "help", "ps", NULL });
		default:
			return option_error("ps", c, argv);
		}
	}
	if (json && prometheus)
		return usage_error("--json and --prometheus exclude each other");
	if (output && !prometheus)
		return usage_error("--output needs --prometheus");
	if (prometheus) {
		if (optind < argc || by != GROUP_NONE)
			return usage_error("--prometheus lists every process and every cgroup; it takes "
					   "no PID and no --by");
		return prom_output(ctx, PROM_PROCESSES, output);
	}

	if (optind < argc) {
		for (int i = optind; i < argc; i++) {
			int64_t pid;
			char *end;

			errno = 0;
			pid = strtoll(argv[i], &end, 10);
			if (errno || *end || end == argv[i] || pid < 1 || pid > INT32_MAX) {
				proc_table_free(&t);
				return usage_error("'%s' is not a process ID", argv[i]);
			}
			r = proc_table_add_pid(ctx, &t, (int)pid, true);
			if (r == -ENOMEM)
				break;
			if (r < 0)
				status = fail(r);
		}
	} else {
		struct ksm_proc_counts counts;

		r = proc_table_fill(ctx, &t, true, &counts);
		if (r < 0) {
			r = fail(r);
			proc_table_free(&t);
			return r;
		}
		if (counts.denied > 0)
			error("%" PRId64 " of %" PRId64 " processes could not be read and are left "
			      "out: their KSM figures are readable by their owner and root only",
			      counts.denied, counts.listed);
	}
	if (by != GROUP_NONE) {
		struct proc_group *g;
		size_t n;

		r = proc_table_group(&t, by, &g, &n);
		if (r < 0) {
			proc_table_free(&t);
			error("out of memory");
			return EXIT_FAILURE;
		}
		ps_print_groups(g, n, by, json, ksm_get_page_size(ctx));
		free(g);
		proc_table_free(&t);
		return status;
	}
	if (t.n > 1) /* qsort() takes no NULL array, even empty */
		qsort(t.v, t.n, sizeof(*t.v), ps_compare);
	if (json)
		ps_print_json(&t, ksm_get_page_size(ctx));
	else
		ps_print(&t, ksm_get_page_size(ctx));
	proc_table_free(&t);
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

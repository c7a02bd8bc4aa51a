// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * "Why is nothing (or too little) merging?": a fixed list of checks, each
 * with a verdict, the evidence it rests on and the fix. The answers come
 * from the knobs, the per-process figures, the processes' cgroups and
 * smaps_rollup, the THP setting and the boost record, all below the
 * context's system root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* A full scan slower than this is too slow for the memory registered. */
#define SLOW_SCAN_SECONDS 600
/* pages_volatile above this share of the pages KSM tracks is high. */
#define VOLATILE_SHARE 0.25
/* Below this many tracked pages, shares are noise. */
#define MIN_TRACKED_PAGES 1024

struct reg_proc {
	int pid;
	int64_t rmap_items;
};

struct doctor {
	struct ksm_ctx *ctx;
	int (*fn)(const struct ksm_finding *, void *);
	void *data;
	int count;
	int stop;   /* non-zero: what fn returned */
	/* what the walk found */
	struct reg_proc *procs;
	size_t nprocs, cap;
	int64_t rmap_items;
};

__attribute__((format(printf, 5, 6)))
static void report(struct doctor *d, const char *id, enum ksm_severity sev, const char *fix,
		   const char *format, ...)
{
	char summary[256], evidence[512];
	struct ksm_finding f = { .id = id, .severity = sev, .fix = fix ? fix : "" };
	va_list ap;
	char *bar;

	if (d->stop)
		return;
	/* The format is "summary|evidence". */
	va_start(ap, format);
	vsnprintf(evidence, sizeof(evidence), format, ap);
	va_end(ap);
	bar = strchr(evidence, '|');
	if (bar) {
		snprintf(summary, sizeof(summary), "%.*s", (int)(bar - evidence), evidence);
		memmove(evidence, bar + 1, strlen(bar + 1) + 1);
	} else {
		snprintf(summary, sizeof(summary), "%.255s", evidence);
		evidence[0] = '\0';
	}
	f.summary = summary;
	f.evidence = evidence;
	d->count++;
	d->stop = d->fn(&f, d->data);
}

static int collect(const struct ksm_proc *p, void *data)
{
	struct doctor *d = data;
	const struct ksm_proc_stats *s = &p->stats;
	bool registered = (s->present & KSM_PROC_MERGEABLE) ? (s->ksm_mergeable || s->ksm_merge_any)
							     : s->ksm_rmap_items > 0 || s->ksm_merging_pages > 0;

	if (!registered)
		return 0;
	if (d->nprocs == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		struct reg_proc *np = realloc(d->procs, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		d->procs = np;
		d->cap = cap;
	}
	d->procs[d->nprocs++] = (struct reg_proc){ .pid = p->pid, .rmap_items = s->ksm_rmap_items };
	d->rmap_items += s->ksm_rmap_items;
	return 0;
}

/* The first other program that controls KSM (ksm_controller_foreach()). */
struct found_controller {
	char text[400];
	char advice[256];
	bool found;
};

static int first_controller(const struct ksm_controller *c, void *data)
{
	struct found_controller *f = data;

	if (c->pid > 0)
		snprintf(f->text, sizeof(f->text), "process %d (%.60s) %.300s", c->pid, c->name,
			 c->changes);
	else
		snprintf(f->text, sizeof(f->text), "%.60s (%.60s) %.250s", c->name, c->unit, c->changes);
	snprintf(f->advice, sizeof(f->advice), "%.255s", c->advice);
	f->found = true;
	return 1;
}

/* AnonHugePages of a process in kB (smaps_rollup), or -1. */
static int64_t anon_huge_kb(struct ksm_ctx *ctx, int pid)
{
	char path[64], buf[4096];
	const char *p;
	long long kb;

	snprintf(path, sizeof(path), "proc/%d/smaps_rollup", pid);
	if (ksm_read_at(ctx->rootfd, path, buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "\nAnonHugePages:");
	if (!p || sscanf(p + 15, "%lld", &kb) != 1)
		return -1;
	return kb;
}

/* The THP mode: the bracketed word of transparent_hugepage/enabled, or "". */
static void thp_mode(struct ksm_ctx *ctx, char *mode, size_t size)
{
	char buf[128], *open, *close;

	mode[0] = '\0';
	if (ksm_read_at(ctx->rootfd, "sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf)) < 0)
		return;
	open = strchr(buf, '[');
	close = open ? strchr(open, ']') : NULL;
	if (open && close)
		snprintf(mode, size, "%.*s", (int)(close - open - 1), open + 1);
}

static double mib(int64_t pages, long page_size)
{
	return (double)pages * (double)page_size / (1024.0 * 1024.0);
}

static void check_controllers(struct doctor *d)
{
	struct found_controller c = { .found = false };
	int holders = 0, b;

	ksm_controller_foreach(d->ctx, first_controller, &c);
	b = ksm_boost_status(d->ctx, &holders);
	if (c.found)
		report(d, "controller", KSM_SEVERITY_WARN, c.advice,
		       "another program controls KSM|%s", c.text);
	if (b > 0 && holders == 0)
		report(d, "boost-record", KSM_SEVERITY_WARN, "ksmctl recover",
		       "a boost record was left behind|%s/run/libksm/boost exists but no live "
		       "process holds the boost: the knobs keep the boost's values", d->ctx->sysroot);
	else if (b > 0)
		report(d, "boost-record", KSM_SEVERITY_OK, NULL,
		       "a boost is in progress|%d process%s hold%s a boost; the knobs go back when the "
		       "last one ends", holders, holders == 1 ? "" : "es", holders == 1 ? "s" : "");
	if (!c.found && b <= 0)
		report(d, "controller", KSM_SEVERITY_OK, NULL,
		       "no other program controls KSM|no known controller running, no boost record");
}

KSM_EXPORT int ksm_doctor(struct ksm_ctx *ctx, int (*fn)(const struct ksm_finding *finding, void *data),
			  void *data)
{
	struct doctor d = { .ctx = ctx, .fn = fn, .data = data };
	struct ksm_stats st;
	int64_t tracked;
	long ps;
	int r;

	ksm_fail_clear();
	if (!ctx || !fn)
		return -EINVAL;
	ps = ctx->page_size;

	/* 1. KSM present and running */
	r = ksm_stats_read(ctx, &st, sizeof(st));
	if (r == -ENOENT) {
		report(&d, "ksm-present", KSM_SEVERITY_FAIL,
		       "use a kernel built with CONFIG_KSM=y",
		       "KSM is not available|%s/sys/kernel/mm/ksm does not exist", ctx->sysroot);
		return d.stop < 0 ? d.stop : d.count;
	}
	if (r < 0)
		return r;
	report(&d, "ksm-present", KSM_SEVERITY_OK, NULL, "KSM is available|%d knob files",
	       __builtin_popcountll(st.present));
	if (st.run == KSM_RUN_MERGE)
		report(&d, "ksmd-running", KSM_SEVERITY_OK, NULL, "ksmd is running|run=1");
	else
		report(&d, "ksmd-running", KSM_SEVERITY_FAIL, "ksmctl run",
		       "ksmd is not running|run=%" PRId64 " (%s)", st.run,
		       st.run == KSM_RUN_UNMERGE ? "stopped, every page unmerged" : "stopped");

	/* 2. Another controller, a boost */
	check_controllers(&d);

	/* 3. What is registered */
	r = ksm_proc_foreach(ctx, collect, &d);
	if (r == -ENOMEM) {
		free(d.procs);
		return r;
	}
	tracked = st.pages_shared + st.pages_sharing + st.pages_unshared + st.pages_volatile;
	if (d.rmap_items > tracked)
		tracked = d.rmap_items;
	if (r == -EOPNOTSUPP)
		report(&d, "registered", KSM_SEVERITY_WARN, NULL,
		       "cannot tell which processes registered memory|the kernel has no per-process "
		       "KSM figures (Linux 5.19+); KSM tracks %" PRId64 " pages (%.1f MiB)",
		       tracked, mib(tracked, ps));
	else if (r < 0)
		report(&d, "registered", KSM_SEVERITY_WARN, NULL,
		       "cannot list processes|%s", ksm_strerror(r));
	else if (d.nprocs == 0)
		report(&d, "registered", KSM_SEVERITY_FAIL,
		       "register memory: run programs with 'ksmctl exec', set MemoryKSM=yes in "
		       "their systemd units, or give QEMU -machine mem-merge=on",
		       "nothing asked for merging|no process has memory registered for merging%s",
		       geteuid() == 0 ? "" : " (as far as this user may see: run as root)");
	else
		report(&d, "registered", KSM_SEVERITY_OK, NULL,
		       "%zu process%s registered memory|ksmd scans %" PRId64 " pages (%.1f MiB) of them",
		       d.nprocs, d.nprocs == 1 ? "" : "es", d.rmap_items, mib(d.rmap_items, ps));

	/* 4. Transparent huge pages over the registered ranges */
	if (d.nprocs > 0) {
		char mode[32];
		int64_t kb = 0;
		size_t with = 0;

		thp_mode(ctx, mode, sizeof(mode));
		for (size_t i = 0; i < d.nprocs; i++) {
			int64_t k = anon_huge_kb(ctx, d.procs[i].pid);
			if (k > 0) {
				kb += k;
				with++;
			}
		}
		if (kb > 0)
			report(&d, "thp", KSM_SEVERITY_WARN,
			       "set transparent_hugepage/enabled to madvise, or madvise(MADV_NOHUGEPAGE) "
			       "the ranges registered for merging",
			       "transparent huge pages cover registered memory|%.1f MiB of AnonHugePages "
			       "in %zu registered process%s (THP mode %s); a huge page merges only after "
			       "ksmd splits it, and khugepaged collapses merged ranges back",
			       (double)kb / 1024.0, with, with == 1 ? "" : "es", mode[0] ? mode : "unknown");
		else
			report(&d, "thp", KSM_SEVERITY_OK, NULL,
			       "no transparent huge pages in registered memory|THP mode %s",
			       mode[0] ? mode : "unknown");
	}

	/* 5. Scan rate against the registered memory */
	if (st.run == KSM_RUN_MERGE && tracked > 0) {
		bool advisor = (st.present & (UINT64_C(1) << KSM_KNOB_ADVISOR_MODE)) &&
			       st.advisor_mode == KSM_ADVISOR_SCAN_TIME;
		double secs = st.pages_to_scan > 0 ?
			(double)tracked / (double)st.pages_to_scan * (double)st.sleep_millisecs / 1000.0 : -1;

		if (advisor)
			report(&d, "scan-rate", KSM_SEVERITY_OK, NULL,
			       "the advisor sets the scan rate|advisor_mode=scan-time aims at a full scan "
			       "every %" PRId64 " s", st.advisor_target_scan_time);
		else if (secs < 0)
			report(&d, "scan-rate", KSM_SEVERITY_FAIL, "ksmctl set pages_to_scan=100",
			       "ksmd scans nothing|pages_to_scan=0");
		else if (secs > SLOW_SCAN_SECONDS)
			report(&d, "scan-rate", KSM_SEVERITY_WARN,
			       "raise pages_to_scan or lower sleep_millisecs (ksmctl set pages_to_scan=...), "
			       "or let the kernel tune it: ksmctl set advisor_mode=scan-time",
			       "the scan rate is too slow for the registered memory|%" PRId64 " pages at "
			       "%" PRId64 " pages every %" PRId64 " ms: a full scan takes about %.0f s, "
			       "and a page merges on its second scan", tracked, st.pages_to_scan,
			       st.sleep_millisecs, secs);
		else
			report(&d, "scan-rate", KSM_SEVERITY_OK, NULL,
			       "the scan rate fits the registered memory|a full scan of %" PRId64
			       " pages takes about %.0f s", tracked, secs);
	}

	/* 6. Volatile pages */
	if (tracked >= MIN_TRACKED_PAGES && st.pages_volatile > VOLATILE_SHARE * (double)tracked)
		report(&d, "volatile", KSM_SEVERITY_WARN,
		       "merge memory that stays put (caches, guest RAM, read-mostly data); "
		       "a slower scan gives pages more time to settle",
		       "much of the memory changes too fast to merge|pages_volatile=%" PRId64
		       " of %" PRId64 " tracked pages (%.0f%%)", st.pages_volatile, tracked,
		       100.0 * (double)st.pages_volatile / (double)tracked);
	else if (tracked > 0)
		report(&d, "volatile", KSM_SEVERITY_OK, NULL,
		       "few pages change too fast to merge|pages_volatile=%" PRId64 " of %" PRId64,
		       st.pages_volatile, tracked);

	/* 7. Profit */
	if (st.profit_bytes < 0)
		report(&d, "profit", KSM_SEVERITY_WARN,
		       "stop registering memory that does not merge (see 'ksmctl ps --sort profit'), "
		       "or stop KSM: ksmctl stop",
		       "KSM costs more than it saves|%s=%" PRId64 " bytes: the metadata of the "
		       "scanned pages outweighs the saving",
		       (st.present & (UINT64_C(1) << KSM_KNOB_GENERAL_PROFIT)) ? "general_profit"
									      : "estimated profit",
		       st.profit_bytes);
	else
		report(&d, "profit", KSM_SEVERITY_OK, NULL, "KSM saves more than it costs|profit %.1f MiB",
		       (double)st.profit_bytes / (1024.0 * 1024.0));

	/* 8. What the other knobs do to merging */
	if ((st.present & (UINT64_C(1) << KSM_KNOB_STABLE_NODE_DUPS)) && st.stable_node_dups > 0)
		report(&d, "max-page-sharing", KSM_SEVERITY_OK,
		       "a higher max_page_sharing saves a little more and makes rmap walks slower",
		       "some content is shared more than max_page_sharing times|stable_node_dups=%"
		       PRId64 " extra KSM pages because max_page_sharing=%" PRId64,
		       st.stable_node_dups, st.max_page_sharing);
	if (st.present & (UINT64_C(1) << KSM_KNOB_USE_ZERO_PAGES)) {
		if (st.use_zero_pages)
			report(&d, "use-zero-pages", KSM_SEVERITY_OK, NULL,
			       "empty pages map to the zero page|use_zero_pages=1, ksm_zero_pages=%" PRId64,
			       st.ksm_zero_pages);
		else
			report(&d, "use-zero-pages", KSM_SEVERITY_OK, NULL,
			       "empty pages merge like any other|use_zero_pages=0: they share one KSM "
			       "page (and count in pages_sharing)");
	}
	if ((st.present & (UINT64_C(1) << KSM_KNOB_MERGE_ACROSS_NODES)) && !st.merge_across_nodes)
		report(&d, "merge-across-nodes", KSM_SEVERITY_OK,
		       "merge_across_nodes=1 saves more where NUMA locality matters less",
		       "pages merge only within a NUMA node|merge_across_nodes=0: identical pages on "
		       "different nodes are kept once per node");

	/* 9. Merging across trust domains */
	if (d.nprocs > 1) {
		char first[256] = "", other[256] = "";

		for (size_t i = 0; i < d.nprocs && !other[0]; i++) {
			struct ksm_proc_ident id;

			if (ksm_proc_ident_read(ctx, d.procs[i].pid, &id, sizeof(id)) < 0 ||
			    !(id.present & KSM_IDENT_CGROUP))
				continue;
			if (!first[0])
				snprintf(first, sizeof(first), "%.255s", id.cgroup);
			else if (strcmp(first, id.cgroup) != 0)
				snprintf(other, sizeof(other), "%.255s", id.cgroup);
		}
		if (other[0])
			report(&d, "side-channel", KSM_SEVERITY_WARN,
			       "merge only memory of one trust domain: keep tenants that must stay apart "
			       "out of KSM (MemoryKSM=no, QEMU mem-merge=off), or use partitions where "
			       "the kernel has them",
			       "merging crosses cgroups|registered processes in %.100s and %.100s share one "
			       "merge space: the copy-on-write delay of a merged page tells one that the "
			       "other holds the same content", first, other);
		else if (first[0])
			report(&d, "side-channel", KSM_SEVERITY_OK, NULL,
			       "merging stays within one cgroup|every registered process is in %.200s",
			       first);
	}
	free(d.procs);
	return d.stop < 0 ? d.stop : d.count;
}

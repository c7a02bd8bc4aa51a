// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The Prometheus text exposition format (version 0.0.4) of what libksm
 * reads, for node_exporter's textfile collector or any scraper.
 *
 * Names: the nine files node_exporter's ksmd collector exposes keep its
 * names, types and help texts (node_ksmd_*), so that dashboards built on it
 * keep working; everything else is under the prefix ksm_: one metric per
 * other knob of the library's table (ksm_<knob>, with _total for the
 * cumulative counters), the derived figures, ksmd's CPU time, the boost
 * state, and per-process and per-cgroup figures.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ksmctl.h"

/* node_exporter's ksmd collector (collector/ksmd_linux.go): its nine files. */
static const int node_exporter_knobs[] = {
	KSM_KNOB_FULL_SCANS, KSM_KNOB_MERGE_ACROSS_NODES, KSM_KNOB_PAGES_SHARED,
	KSM_KNOB_PAGES_SHARING, KSM_KNOB_PAGES_TO_SCAN, KSM_KNOB_PAGES_UNSHARED,
	KSM_KNOB_PAGES_VOLATILE, KSM_KNOB_RUN, KSM_KNOB_SLEEP_MILLISECS,
};

static bool in_node_exporter(int knob)
{
	for (size_t i = 0; i < sizeof(node_exporter_knobs) / sizeof(node_exporter_knobs[0]); i++)
		if (node_exporter_knobs[i] == knob)
			return true;
	return false;
}

/* A label value or help text, escaped as the format says: \\, \" (labels), \n. */
static void escape(FILE *f, const char *s, bool label)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && label)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	escape(f, help, false);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static void gauge_int(FILE *f, const char *name, const char *help, int64_t v)
{
	family(f, name, "gauge", help);
	fprintf(f, "%s %" PRId64 "\n", name, v);
}

static void gauge_double(FILE *f, const char *name, const char *help, double v)
{
	family(f, name, "gauge", help);
	fprintf(f, "%s %.9g\n", name, v);
}

static int write_global(FILE *f, struct ksm_ctx *ctx)
{
	struct ksm_stats st;
	char name[128], help[256];
	uint64_t nsec;
	int64_t v;
	int holders = 0, r;

	r = ksm_stats_read(ctx, &st, sizeof(st));
	if (r < 0)
		return r;

	/* node_exporter's names first, as its collector writes them. */
	for (size_t i = 0; i < sizeof(node_exporter_knobs) / sizeof(node_exporter_knobs[0]); i++) {
		int k = node_exporter_knobs[i];
		const char *file = ksm_knob_info(k)->name;

		if (ksm_stats_value(&st, k, &v) < 0)
			continue;
		snprintf(help, sizeof(help), "ksmd '%s' file.", file);
		if (k == KSM_KNOB_FULL_SCANS) {
			family(f, "node_ksmd_full_scans_total", "counter", help);
			fprintf(f, "node_ksmd_full_scans_total %" PRId64 "\n", v);
		} else if (k == KSM_KNOB_SLEEP_MILLISECS) {
			char frac[8];
			int n;

			/* Milliseconds as seconds, written the shortest way, as node_exporter does. */
			n = snprintf(frac, sizeof(frac), "%03" PRId64, v % 1000);
			while (n > 0 && frac[n - 1] == '0')
				frac[--n] = '\0';
			family(f, "node_ksmd_sleep_seconds", "gauge", help);
			fprintf(f, "node_ksmd_sleep_seconds %" PRId64 "%s%s\n", v / 1000, n ? "." : "", frac);
		} else {
			snprintf(name, sizeof(name), "node_ksmd_%s", file);
			family(f, name, "gauge", help);
			fprintf(f, "%s %" PRId64 "\n", name, v);
		}
	}

	/* Every other knob of the library's table. */
	for (int k = 0; k < ksm_knob_count(); k++) {
		const struct ksm_knob_info *ki = ksm_knob_info(k);
		bool cumulative = ki->flags & KSM_KNOB_CUMULATIVE;

		if (in_node_exporter(k) || ksm_stats_value(&st, k, &v) < 0)
			continue;
		/* ksm_zero_pages keeps its name rather than becoming ksm_ksm_zero_pages. */
		snprintf(name, sizeof(name), "%s%s%s", strncmp(ki->name, "ksm_", 4) ? "ksm_" : "",
			 ki->name, cumulative ? "_total" : "");
		snprintf(help, sizeof(help), "KSM %s %s: %s%s.",
			 ki->kind == KSM_KIND_TUNABLE ? "tunable" : "counter", ki->name,
			 ki->description, ki->type == KSM_TYPE_ENUM && ki->values ?
			 " (the value's index in its list of names)" : "");
		family(f, name, cumulative ? "counter" : "gauge", help);
		fprintf(f, "%s %" PRId64 "\n", name, v);
	}

	gauge_int(f, "ksm_page_size_bytes", "Bytes per page.", st.page_size);
	gauge_int(f, "ksm_saved_pages", "Pages saved by merging: pages_sharing + ksm_zero_pages.",
		  st.saved_pages);
	gauge_int(f, "ksm_saved_bytes", "Bytes saved by merging: ksm_saved_pages times the page size.",
		  st.saved_bytes);
	gauge_int(f, "ksm_profit_bytes",
		  "Bytes saved less KSM's own metadata: general_profit, or the kernel's formula "
		  "where that file is missing; negative when KSM costs more than it saves.",
		  st.profit_bytes);
	gauge_double(f, "ksm_sharing_ratio", "Mappings per KSM page: pages_sharing / pages_shared.",
		     st.sharing_ratio);
	gauge_double(f, "ksm_effectiveness_ratio",
		     "Share of the pages KSM tracks that are saved (0 to 1).", st.effectiveness);

	if (ksm_ksmd_cpu(ctx, &nsec) == 0) {
		uint64_t usec = nsec / 1000;

		family(f, "ksm_ksmd_cpu_seconds_total", "counter",
		       "CPU time ksmd has used since boot (user and system), in seconds.");
		fprintf(f, "ksm_ksmd_cpu_seconds_total %" PRIu64 ".%06" PRIu64 "\n", usec / 1000000,
			usec % 1000000);
	}
	r = ksm_boost_status(ctx, &holders);
	if (r >= 0) {
		gauge_int(f, "ksm_boost_record",
			  "1 while a boost record exists (ksmctl merge-now, ksm_boost_begin()), else 0.", r);
		gauge_int(f, "ksm_boost_holders",
			  "Live processes holding the boost; 0 with a record means it was left behind "
			  "(ksmctl recover restores the knobs).", holders);
	}
	return 0;
}

static void proc_labels(FILE *f, const struct proc_entry *e)
{
	fprintf(f, "{pid=\"%d\",comm=\"", e->proc.pid);
	escape(f, e->proc.comm, true);
	fputs("\",cgroup=\"", f);
	escape(f, proc_group_key(e, GROUP_CGROUP), true);
	fputs("\",unit=\"", f);
	escape(f, proc_group_key(e, GROUP_UNIT), true);
	fputs("\"}", f);
}

static void group_labels(FILE *f, const struct proc_group *g)
{
	fputs("{cgroup=\"", f);
	escape(f, g->key, true);
	fputs("\",unit=\"", f);
	escape(f, g->unit, true);
	fputs("\"}", f);
}

/* Per-process and per-cgroup families: one value of a process or group each. */
static const struct {
	const char *name, *help;
	size_t proc_offset, group_offset;
	uint32_t bit; /* KSM_PROC_* the value needs; 0: always */
} per_proc[] = {
#define P(n, h, pf, gf, b) { n, h, offsetof(struct ksm_proc_stats, pf), offsetof(struct proc_group, gf), b }
	P("merging_pages", "pages of it that are merged (ksm_merging_pages)", ksm_merging_pages,
	  ksm_merging_pages, KSM_PROC_MERGING_PAGES),
	P("zero_pages", "empty pages of it mapped to the zero page (ksm_zero_pages)", ksm_zero_pages,
	  ksm_zero_pages, KSM_PROC_ZERO_PAGES),
	P("rmap_items", "pages of it that ksmd scans (ksm_rmap_items)", ksm_rmap_items,
	  ksm_rmap_items, KSM_PROC_RMAP_ITEMS),
	P("saved_bytes", "bytes it saves by merging", saved_bytes, saved_bytes, 0),
	P("profit_bytes", "bytes it saves less KSM's metadata for it (ksm_process_profit)",
	  profit_bytes, profit_bytes, 0),
#undef P
};

static int write_processes(FILE *f, struct ksm_ctx *ctx)
{
	struct proc_table t = { 0 };
	struct proc_group *g = NULL;
	size_t ng = 0;
	char name[96], help[256];
	int r = proc_table_fill(ctx, &t, true, NULL);

	/* No per-process figures (an older kernel, no /proc): the global
	 * metrics still stand, unlike node_exporter's collector, which fails
	 * whole when one file is missing. */
	if (r < 0 && r != -ENOMEM) {
		proc_table_free(&t);
		return 0;
	}
	if (r < 0)
		return r;
	r = proc_table_group(&t, GROUP_CGROUP, &g, &ng);
	if (r < 0) {
		proc_table_free(&t);
		return r;
	}
	for (size_t m = 0; m < sizeof(per_proc) / sizeof(per_proc[0]); m++) {
		snprintf(name, sizeof(name), "ksm_process_%s", per_proc[m].name);
		snprintf(help, sizeof(help), "Per process with KSM activity: %s.", per_proc[m].help);
		family(f, name, "gauge", help);
		for (size_t i = 0; i < t.n; i++) {
			const struct ksm_proc_stats *s = &t.v[i].proc.stats;

			if (per_proc[m].bit && !(s->present & per_proc[m].bit))
				continue;
			fputs(name, f);
			proc_labels(f, &t.v[i]);
			fprintf(f, " %" PRId64 "\n",
				*(const int64_t *)((const char *)s + per_proc[m].proc_offset));
		}
	}
	family(f, "ksm_cgroup_processes", "gauge", "Per cgroup: processes with KSM activity.");
	for (size_t i = 0; i < ng; i++) {
		fputs("ksm_cgroup_processes", f);
		group_labels(f, &g[i]);
		fprintf(f, " %d\n", g[i].processes);
	}
	for (size_t m = 0; m < sizeof(per_proc) / sizeof(per_proc[0]); m++) {
		snprintf(name, sizeof(name), "ksm_cgroup_%s", per_proc[m].name);
		snprintf(help, sizeof(help), "Per cgroup, summed over its processes: %s.",
			 per_proc[m].help);
		family(f, name, "gauge", help);
		for (size_t i = 0; i < ng; i++) {
			fputs(name, f);
			group_labels(f, &g[i]);
			fprintf(f, " %" PRId64 "\n",
				*(const int64_t *)((const char *)&g[i] + per_proc[m].group_offset));
		}
	}
	free(g);
	proc_table_free(&t);
	return 0;
}

int prom_write(FILE *f, struct ksm_ctx *ctx, unsigned int what)
{
	int r = 0;

	if (what & PROM_GLOBAL)
		r = write_global(f, ctx);
	if (r == 0 && (what & PROM_PROCESSES))
		r = write_processes(f, ctx);
	return r;
}

int prom_output(struct ksm_ctx *ctx, unsigned int what, const char *path)
{
	char *dir_copy, *tmp;
	FILE *f;
	int fd, r, e;

	if (!path) {
		r = prom_write(stdout, ctx, what);
		return r < 0 ? fail(r) : EXIT_SUCCESS;
	}
	/* A temporary file in the same directory, renamed over the target: a
	 * scraper sees the old file or the new one, never half of one. Its name
	 * does not end in .prom, so the textfile collector ignores it. */
	dir_copy = strdup(path);
	if (!dir_copy || asprintf(&tmp, "%s/.%s.XXXXXX", dirname(dir_copy),
				  strrchr(path, '/') ? strrchr(path, '/') + 1 : path) < 0) {
		free(dir_copy);
		error("out of memory");
		return EXIT_FAILURE;
	}
	free(dir_copy);
	fd = mkstemp(tmp);
	if (fd < 0) {
		e = errno;
		error("cannot create a temporary file beside %s: %s", path, strerror(e));
		free(tmp);
		return EXIT_FAILURE;
	}
	fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		free(tmp);
		error("out of memory");
		return EXIT_FAILURE;
	}
	r = prom_write(f, ctx, what);
	if (r < 0) {
		r = fail(r);
		fclose(f);
		unlink(tmp);
		free(tmp);
		return r;
	}
	e = 0;
	if (fflush(f) != 0 || fsync(fd) != 0)
		e = errno;
	if (fclose(f) != 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) != 0)
		e = errno;
	if (e) {
		error("cannot write %s: %s", path, strerror(e));
		unlink(tmp);
		free(tmp);
		return EXIT_FAILURE;
	}
	free(tmp);
	return EXIT_SUCCESS;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Guided merging against registering everything, the ksmd cost model, and
 * the estimator's wall time against stock-knob ksmd, in one run.
 *
 * Part 1, guided vs all. The workload is est-workload (NPROC processes of
 * MIB MiB; -d DUP % duplicates, 5 % zero and 1 % 0xA5 pages, all at the
 * start of each process's memory; the rest unique). Twice, each time on a
 * fresh workload:
 *   all     every worker registers all its memory (PR_SET_MEMORY_MERGE);
 *   guided  a full estimate, then only the ranges ksm_estimate_ranges()
 *           returns (gap KSM_GUIDED_GAP_PAGES) are registered, through
 *           ksm_process_register() (ptrace injection); the CPU of that
 *           (user + system of this process) is the guided run's "estimator
 *           CPU" and is added to its ksmd CPU below.
 * Then ksmd runs at full speed (pages_to_scan 10000, sleep_millisecs 0,
 * smart_scan 0, use_zero_pages 0, max_page_sharing 256) from run=1. Two
 * windows are measured, and both are printed:
 *   convergence  ksmd CPU (/proc schedstat through ksm_ksmd_cpu()) until
 *                pages_sharing + ksm_zero_pages reached 99 % of the value
 *                it settles at, and until it was stable over a whole full
 *                scan after at least 4 full scans ("stable");
 *   continued    then WINDOW seconds at the boot knobs (pages_to_scan 100,
 *                sleep_millisecs 20, smart_scan 1), as ksmd really runs
 *                once merged: the CPU it keeps spending, added to "stable".
 * Saving = pages_sharing + ksm_zero_pages at the end, in MiB. Ratios are
 * guided / all of (CPU per MiB saved) and of the saving.
 *
 * Part 2, the cost model (KSM_KSMD_NS_PER_PAGE, ksmctl(8) COST MODEL):
 * ksmd CPU per page scanned (pages_scanned) in the "all" run at full speed
 * is the fit; the model is then checked against part 3's stock-knob run
 * (wall and CPU to 99 %) and against the continued window (CPU per hour).
 *
 * Part 3, wall time: a full estimate of NPROC x STOCK_MIB MiB against ksmd
 * at the boot knobs (pages_to_scan 100, sleep_millisecs 20, smart_scan 1)
 * from run=1 until pages_sharing + ksm_zero_pages reached 99 % of the
 * estimate. Larger sizes are extrapolated linearly from the measured rates
 * (pages per second of each), and printed as such.
 *
 * Changes global KSM state: every knob is saved first and written back at
 * the end, also on SIGINT/SIGTERM/SIGHUP. Needs root.
 *
 * Usage: bench-guided EST_WORKLOAD [MIB [DUP% [WINDOW_S [STOCK_MIB]]]]
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "knobs.h"
#include "clock.h"
#include "ksm.h"

#define NPROC 4
#define MAX_SAMPLES 100000

static struct ksm_ctx *ctx;

static double ksmd_cpu_s(void)
{
	uint64_t ns;

	return ksm_ksmd_cpu(ctx, &ns) == 0 ? (double)ns / 1e9 : -1;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-guided: %s\n", what);
	restore_knobs();
	exit(1);
}

struct workload {
	pid_t pid;
	FILE *in, *out;
	int pids[NPROC];
};

static void wl_start(struct workload *w, const char *exe, int mib, int dup)
{
	int to[2], from[2];
	char line[256], m[16], d[16], *p;

	snprintf(m, sizeof(m), "%d", mib);
	snprintf(d, sizeof(d), "%d", dup);
	if (pipe(to) < 0 || pipe(from) < 0)
		die("pipe");
	w->pid = fork();
	if (w->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		execl(exe, exe, "-n", "4", "-m", m, "-d", d, "-z", "5", (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	w->in = fdopen(to[1], "w");
	w->out = fdopen(from[0], "r");
	if (!fgets(line, sizeof(line), w->out) || strncmp(line, "ready", 5) != 0)
		die("the workload did not start");
	p = line + 5;
	for (int i = 0; i < NPROC; i++)
		w->pids[i] = (int)strtol(p, &p, 10);
}

static void wl_merge(struct workload *w)
{
	char line[64];

	fprintf(w->in, "merge\n");
	fflush(w->in);
	if (!fgets(line, sizeof(line), w->out) || strcmp(line, "merged\n") != 0)
		die("the workload did not register");
}

static void wl_stop(struct workload *w)
{
	fprintf(w->in, "quit\n");
	fclose(w->in);
	fclose(w->out);
	waitpid(w->pid, NULL, 0);
}

static long saving(void)
{
	return raw_read("pages_sharing") + raw_read("ksm_zero_pages");
}

/* KSM off and empty, the advisor off: the state each run starts from. */
static void reset_ksm(void)
{
	double t0 = now_s();

	raw_write("run", "2");
	while (raw_read("pages_shared") > 0 || raw_read("ksm_zero_pages") > 0) {
		if (now_s() - t0 > 60)
			die("KSM did not unmerge in 60 s");
		usleep(20000);
	}
	raw_write("advisor_mode", "none");
	raw_write("max_page_sharing", "256");
	raw_write("use_zero_pages", "0");
}

static void full_speed(void)
{
	raw_write("pages_to_scan", "10000");
	raw_write("sleep_millisecs", "0");
	raw_write("smart_scan", "0");
}

static void stock_speed(void)
{
	raw_write("pages_to_scan", "100");
	raw_write("sleep_millisecs", "20");
	raw_write("smart_scan", "1");
}

struct run {
	double est_cpu, est_wall;   /* guided: estimate + ranges + registration */
	long registered, candidates, predicted;
	int ranges;
	double cpu99, t99, cpu_stable, t_stable, cpu_window, cpu_window_b;
	double merged_share;        /* of the pages ksmd tracks, in KSM pages (window) */
	long pts_b;
	long saving_stable, saving_end, scanned;
};

/* ksmd from run=1 until stable; fills the convergence figures. */
static void converge(struct run *r)
{
	static double s_cpu[MAX_SAMPLES];
	static long s_v[MAX_SAMPLES];
	static double s_t[MAX_SAMPLES];
	long last = -1, last_scan = -1, scanned0 = raw_read("pages_scanned");
	double k0 = ksmd_cpu_s(), t0;
	int n = 0;

	t0 = now_s();
	raw_write("run", "1");
	for (;;) {
		long scans = raw_read("full_scans"), v = saving();

		if (n < MAX_SAMPLES) {
			s_cpu[n] = ksmd_cpu_s() - k0;
			s_t[n] = now_s() - t0;
			s_v[n++] = v;
		}
		if (scans != last_scan) {
			if (scans >= 4 && v == last)
				break;
			last = v;
			last_scan = scans;
		}
		if (now_s() - t0 > 600)
			die("ksmd did not settle in 600 s");
		usleep(20000);
	}
	r->cpu_stable = ksmd_cpu_s() - k0;
	r->t_stable = now_s() - t0;
	r->scanned = raw_read("pages_scanned") - scanned0;
	r->saving_stable = last;
	for (int i = 0; i < n; i++)
		if ((double)s_v[i] >= 0.99 * (double)last) {
			r->cpu99 = s_cpu[i];
			r->t99 = s_t[i];
			break;
		}
}

/* The share of the pages ksmd tracks that are in KSM pages: rmap_items from
 * general_profit = (pages_sharing + ksm_zero_pages) * 4096 - rmap_items * 64. */
static double merged_share(void)
{
	long sharing = raw_read("pages_sharing"), shared = raw_read("pages_shared");
	long zero = raw_read("ksm_zero_pages"), profit = raw_read("general_profit");
	double rmap = ((double)(sharing + zero) * 4096 - (double)profit) / 64;

	return rmap > 0 ? (double)(sharing + shared) / rmap : 0;
}

/* Per-page CPU in a window at the boot knobs: from ksmd's share of a CPU,
 * each batch of 100 pages is followed by a sleep of 20 ms + @extra_ms. */
static double window_ns_per_page(double cpu, double secs, double extra_ms)
{
	double frac = cpu / secs;

	return frac * (20e6 + extra_ms * 1e6) / (1 - frac) / 100;
}

static void run_mode(const char *exe, int mib, int dup, bool guided, int window, struct run *r)
{
	struct workload w;
	struct ksm_range *ranges = calloc(KSM_GUIDED_MAX_RANGES, sizeof(*ranges));
	double k0;

	memset(r, 0, sizeof(*r));
	reset_ksm();
	full_speed();
	wl_start(&w, exe, mib, dup);
	if (guided) {
		struct ksm_estimate *est;
		struct ksm_estimate_result res;
		double c0 = cpu_s(), t0 = now_s();
		int rr;

		if (!ranges || ksm_estimate_new(ctx, &est) < 0)
			die("out of memory");
		for (int i = 0; i < NPROC; i++)
			ksm_estimate_add_pid(est, w.pids[i]);
		rr = ksm_estimate_run(est, 0);
		if (rr < 0)
			die(ksm_strerror(rr));
		ksm_estimate_result(est, -1, &res, sizeof(res));
		r->candidates = res.candidate_pages;
		r->predicted = res.pages_sharing + res.ksm_zero_pages;
		for (int i = 0; i < NPROC; i++) {
			int n = ksm_estimate_ranges(est, w.pids[i], KSM_GUIDED_GAP_PAGES, ranges,
						    KSM_GUIDED_MAX_RANGES);

			if (n < 0)
				die(ksm_strerror(n));
			rr = ksm_process_register(ctx, w.pids[i], ranges, (size_t)n, 0);
			if (rr < 0)
				die(ksm_strerror(rr));
			r->ranges += n;
			for (int k = 0; k < n; k++)
				r->registered += (long)(ranges[k].length / 4096);
		}
		r->est_cpu = cpu_s() - c0;
		r->est_wall = now_s() - t0;
		ksm_estimate_unref(est);
	} else {
		wl_merge(&w);
	}
	converge(r);
	/* Continued scanning as ksmd runs once merged: the boot knobs. */
	stock_speed();
	k0 = ksmd_cpu_s();
	sleep((unsigned int)window);
	r->cpu_window = ksmd_cpu_s() - k0;
	r->merged_share = merged_share();
	if (guided) {
		/* The same full-scan period as everything registered at 100 pages
		 * per batch: fewer pages per batch for fewer pages registered. */
		char v[32];

		r->pts_b = (100 * r->registered + r->candidates / 2) / r->candidates;
		if (r->pts_b < 1)
			r->pts_b = 1;
		snprintf(v, sizeof(v), "%ld", r->pts_b);
		raw_write("pages_to_scan", v);
		k0 = ksmd_cpu_s();
		sleep((unsigned int)window);
		r->cpu_window_b = ksmd_cpu_s() - k0;
	}
	r->saving_end = saving();
	raw_write("run", "2");
	wl_stop(&w);
	free(ranges);
}

/* Part 3: the estimator's wall time against ksmd at the boot knobs. */
/* Part 3: returns the per-batch overhead beyond sleep_millisecs and the
 * pages' CPU that this run shows (ms), given the fitted CPU per page. */
struct stock {
	double overhead_ms;      /* per batch beyond the sleep, measured */
	double window_cpu, merged_share;
};

static void stock_wall(const char *exe, int mib, double ns_per_page, double overhead_ms,
		       int window, struct stock *out)
{
	struct workload w;
	struct ksm_estimate *est;
	struct ksm_estimate_result res;
	double t0, c0, est_wall, est_cpu, t99 = -1, k0, cpu99 = -1;
	long target, pages;
	int rr;

	reset_ksm();
	stock_speed();
	wl_start(&w, exe, mib, 50);
	if (ksm_estimate_new(ctx, &est) < 0)
		die("out of memory");
	for (int i = 0; i < NPROC; i++)
		ksm_estimate_add_pid(est, w.pids[i]);
	t0 = now_s();
	c0 = cpu_s();
	rr = ksm_estimate_run(est, 0);
	est_wall = now_s() - t0;
	est_cpu = cpu_s() - c0;
	if (rr < 0)
		die(ksm_strerror(rr));
	ksm_estimate_result(est, -1, &res, sizeof(res));
	ksm_estimate_unref(est);
	target = res.pages_sharing + res.ksm_zero_pages;
	pages = res.candidate_pages;
	wl_merge(&w);
	k0 = ksmd_cpu_s();
	t0 = now_s();
	raw_write("run", "1");
	while (now_s() - t0 < 900) {
		if ((double)saving() >= 0.99 * (double)target) {
			t99 = now_s() - t0;
			cpu99 = ksmd_cpu_s() - k0;
			break;
		}
		usleep(50000);
	}
	if (t99 >= 0 && window > 0) {
		/* Continued scanning at the boot knobs once merged. */
		k0 = ksmd_cpu_s();
		sleep((unsigned int)window);
		out->window_cpu = ksmd_cpu_s() - k0;
		out->merged_share = merged_share();
	}
	raw_write("run", "2");
	wl_stop(&w);
	if (t99 < 0)
		die("stock-knob ksmd did not reach 99 % of the estimate in 900 s");

	printf("\nWall time to the answer, %d x %d MiB (50 %% duplicates, 5 %% zero): %ld pages\n",
	       NPROC, mib, pages);
	printf("  estimator (full):                      %8.2f s wall  %6.3f s CPU\n", est_wall,
	       est_cpu);
	printf("  ksmd at pages_to_scan=100 sleep_millisecs=20 to 99 %% of it: %8.2f s wall  "
	       "%6.3f s CPU\n", t99, cpu99);
	printf("  ratio ksmd/estimator wall: %.0fx\n", t99 / est_wall);
	printf("  extrapolated linearly from these rates (not measured):\n");
	for (int gib = 4; gib <= 64; gib *= 4) {
		double p = (double)gib * 262144;

		printf("    %2d GiB: estimator %7.1f s, stock ksmd %9.0f s (%.1f h)\n", gib,
		       est_wall * p / (double)pages, t99 * p / (double)pages,
		       t99 * p / (double)pages / 3600);
	}
	/* The cost model against this run. */
	{
		double batch = 100 * ns_per_page / 1e9, batches = ceil((double)pages / 100);
		double wall = 2 * batches * (0.020 + overhead_ms / 1e3 + batch);
		double cpu = 2 * (double)pages * ns_per_page / 1e9;

		printf("  cost model (%.0f ns/page, %.2f ms per batch beyond the sleep): to merge "
		       "%.2f s wall (measured %.2f: %+.1f %%), %.3f s CPU (measured %.3f: %+.1f %%)\n",
		       ns_per_page, overhead_ms, wall, t99, 100 * (wall - t99) / t99, cpu, cpu99,
		       100 * (cpu - cpu99) / cpu99);
		out->overhead_ms = (t99 / (2 * batches) - 0.020 - batch) * 1e3;
	}
}

int main(int argc, char **argv)
{
	int mib = argc > 2 ? atoi(argv[2]) : 128, dup = argc > 3 ? atoi(argv[3]) : 10;
	int window = argc > 4 ? atoi(argv[4]) : 60, stock_mib = argc > 5 ? atoi(argv[5]) : 64;
	struct run all, g;
	double mib_all, mib_g, ns_per_page;

	if (argc < 2 || mib < 1 || dup < 1 || dup > 90 || window < 1 || stock_mib < 1) {
		fprintf(stderr, "usage: %s EST_WORKLOAD [MIB [DUP%% [WINDOW_S [STOCK_MIB]]]]\n",
			argv[0]);
		return 2;
	}
	if (geteuid() != 0 || access(KSM "run", W_OK) != 0) {
		fprintf(stderr, "bench-guided: needs root and a writable /sys/kernel/mm/ksm\n");
		return 77;
	}
	if (ksm_new_at(&ctx, "/") < 0)
		return 1;
	knobs_guard();

	run_mode(argv[1], mib, dup, false, window, &all);
	run_mode(argv[1], mib, dup, true, window, &g);
	ns_per_page = all.cpu_stable * 1e9 / (double)all.scanned;

	mib_all = (double)all.saving_stable * 4096 / (1 << 20);
	mib_g = (double)g.saving_stable * 4096 / (1 << 20);
	printf("Guided merging vs registering everything: %d x %d MiB, duplicates (%d %% + 5 %% "
	       "zero + 1 %% 0xA5) at the start of each\n", NPROC, mib, dup);
	printf("  guided: estimate + %d ranges registered (%ld of %ld pages, %.1f %%) in %.3f s "
	       "CPU, %.3f s wall; predicted saving %ld pages\n", g.ranges, g.registered,
	       g.candidates, 100.0 * (double)g.registered / (double)g.candidates, g.est_cpu,
	       g.est_wall, g.predicted);
	printf("  %-7s %10s %12s %12s %10s %12s %12s %12s\n", "", "saved MiB", "ksmd CPU 99%",
	       "ksmd stable", "scanned", "window CPU", "saved end", "wall stable");
	printf("  %-7s %10.1f %12.3f %12.3f %10ld %12.3f %12.1f %12.2f\n", "all", mib_all,
	       all.cpu99, all.cpu_stable, all.scanned, all.cpu_window,
	       (double)all.saving_end * 4096 / (1 << 20), all.t_stable);
	printf("  %-7s %10.1f %12.3f %12.3f %10ld %12.3f %12.1f %12.2f\n", "guided", mib_g,
	       g.cpu99, g.cpu_stable, g.scanned, g.cpu_window,
	       (double)g.saving_end * 4096 / (1 << 20), g.t_stable);
	printf("  (CPU in s; window: %d s at pages_to_scan=100 sleep_millisecs=20 smart_scan=1 "
	       "after \"stable\")\n", window);
	printf("ratio saving guided/all: %.4f  (goal >= 0.99)\n",
	       (double)g.saving_stable / (double)all.saving_stable);
	printf("ratio CPU per MiB saved guided/all, estimator CPU included:\n");
	printf("  to 99 %% at full speed:          %.3f  (goal <= 0.33)\n",
	       ((g.cpu99 + g.est_cpu) / mib_g) / (all.cpu99 / mib_all));
	printf("  to stable at full speed:        %.3f\n",
	       ((g.cpu_stable + g.est_cpu) / mib_g) / (all.cpu_stable / mib_all));
	printf("  stable + %d s continued:        %.3f\n", window,
	       ((g.cpu_stable + g.cpu_window + g.est_cpu) / mib_g) /
		       ((all.cpu_stable + all.cpu_window) / mib_all));
	printf("  continued scanning alone:       %.3f  (ksmd CPU per hour: all %.1f s, guided %.1f s)\n",
	       (g.cpu_window / mib_g) / (all.cpu_window / mib_all),
	       all.cpu_window * 3600 / window, g.cpu_window * 3600 / window);
	printf("  stable + %d s continued at the same full-scan period (guided pages_to_scan=%ld):"
	       " %.3f\n", window, g.pts_b,
	       ((g.cpu_stable + g.cpu_window_b + g.est_cpu) / mib_g) /
		       ((all.cpu_stable + all.cpu_window) / mib_all));
	printf("  continued at the same full-scan period alone: %.3f  (guided %.1f s per hour)\n",
	       (g.cpu_window_b / mib_g) / (all.cpu_window / mib_all),
	       g.cpu_window_b * 3600 / window);

	printf("\nCost model fit: ksmd CPU per page scanned at full speed (\"all\" run): %.0f ns "
	       "(%.3f s over %ld pages)\n", ns_per_page, all.cpu_stable, all.scanned);
	printf("  guided run, same speed: %.0f ns per page scanned\n",
	       g.cpu_stable * 1e9 / (double)g.scanned);
	{
		struct stock s1 = { 0 }, s2 = { 0 };
		double oh, c_all, c_g, c_m, c_u, x, c_eff, pred, meas;

		stock_wall(argv[1], stock_mib / 4 > 0 ? stock_mib / 4 : 1, ns_per_page, 0, 0, &s1);
		oh = s1.overhead_ms;
		printf("Cost model fit: %.2f ms per batch beyond sleep_millisecs (timer granularity) "
		       "from the %d MiB run above; validated on the next:\n", oh,
		       stock_mib / 4 > 0 ? stock_mib / 4 : 1);
		stock_wall(argv[1], stock_mib, ns_per_page, oh, window, &s2);

		/* Continued scanning: the CPU per page of a batch is that of pages
		 * in KSM pages (c_m) and of the others (c_u), mixed by the share
		 * merged; both fitted on part 1's two windows (16 % and ~100 %
		 * merged), checked on the window after the run above (~56 %). */
		c_all = window_ns_per_page(all.cpu_window, window, oh);
		c_g = window_ns_per_page(g.cpu_window, window, oh);
		c_m = (c_all * (1 - g.merged_share) - c_g * (1 - all.merged_share)) /
		      (all.merged_share - g.merged_share);
		c_u = (c_all - all.merged_share * c_m) / (1 - all.merged_share);
		printf("\nCost model fit, continued scanning at the boot knobs (smart_scan=1): "
		       "%.0f ns per page in a KSM page, %.0f ns per other page\n"
		       "  (part 1's windows: all %.0f ns per page of a batch with %.1f %% merged, "
		       "guided %.0f ns with %.1f %% merged)\n", c_m, c_u, c_all,
		       100 * all.merged_share, c_g, 100 * g.merged_share);
		x = s2.merged_share;
		c_eff = x * c_m + (1 - x) * c_u;
		pred = 3600 * 100 * c_eff / (100 * c_eff + 20e6 + oh * 1e6);
		meas = s2.window_cpu * 3600 / window;
		printf("  validated on the %d MiB run's %d s window (%.1f %% merged): model %.1f CPU s "
		       "per hour, measured %.1f (%+.1f %%)\n", stock_mib, window, 100 * x, pred, meas,
		       100 * (pred - meas) / meas);
	}
	restore_knobs();
	ksm_unref(ctx);
	return 0;
}

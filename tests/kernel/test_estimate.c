// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The estimate against the running kernel: what ksm_estimate_run() predicts
 * for workloads this test starts (EST_WORKLOAD, est-workload.c: known mixes
 * of duplicate, zero, 0xA5, unique and churning pages, optionally forked),
 * compared with the counters KSM reaches when it then merges them at full
 * speed until they are stable.
 *
 *  - the full estimate equals the kernel's pages_sharing + ksm_zero_pages,
 *    pages_shared and general_profit within 1 %, with use_zero_pages 0 and
 *    1, for a forked family whose frames are shared copy-on-write, and for
 *    memory in transparent huge pages; and
 *    the memory it says is freed is the drop of the workers' Pss_Anon;
 *  - reading leaves sharing intact: the workers' shared memory
 *    (smaps_rollup) before merging, and their merged pages (ksm_stat) and
 *    the system's cow_ksm after, are the same before and after an estimate;
 *  - the verify pass removes the churning pages: without it the estimate
 *    overshoots, with it it equals the kernel within 1 %;
 *  - content-keyed sampling at 10 %: the 95 % interval holds the full
 *    estimate for at least 18 of 20 seeds;
 *  - guided merging: registering only the ranges the estimate names
 *    (through ptrace injection into the workers) saves at least 99 % of
 *    what registering everything saves, and ksmd tracks only those pages;
 *    the same in one call, ksm_merge_guided(): the same ranges, registered
 *    and merged by its merge-now to the stable saving.
 *
 * Needs root and KSM (exit 77 otherwise). The guard (guard.c) restores every
 * knob after each test, at exit and on SIGINT/SIGTERM/SIGHUP.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ksm.h"
#include "guard.h"

#ifndef EST_WORKLOAD
#error "EST_WORKLOAD must name the built est-workload"
#endif

#define NPROC 4

struct workload {
	pid_t pid;
	FILE *in, *out;
	int pids[NPROC];
};

static void workload_start(struct workload *w, const char *args)
{
	int to[2], from[2];
	char line[256], *p;

	ck_assert_int_eq(pipe(to), 0);
	ck_assert_int_eq(pipe(from), 0);
	w->pid = fork();
	ck_assert_int_ge(w->pid, 0);
	if (w->pid == 0) {
		char cmd[512];

		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		snprintf(cmd, sizeof(cmd), "exec %s -n %d %s", EST_WORKLOAD, NPROC, args);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	w->in = fdopen(to[1], "w");
	w->out = fdopen(from[0], "r");
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), w->out));
	ck_assert_msg(strncmp(line, "ready", 5) == 0, "workload: %s", line);
	p = line + 5;
	for (int i = 0; i < NPROC; i++)
		w->pids[i] = (int)strtol(p, &p, 10);
	ck_assert_int_gt(w->pids[NPROC - 1], 0);
}

static void workload_merge(struct workload *w)
{
	char line[64];

	fprintf(w->in, "merge\n");
	fflush(w->in);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), w->out));
	ck_assert_str_eq(line, "merged\n");
}

static void workload_stop(struct workload *w)
{
	fprintf(w->in, "quit\n");
	fclose(w->in);
	fclose(w->out);
	waitpid(w->pid, NULL, 0);
}

static int64_t knob(const char *name)
{
	char buf[64];

	ck_assert_int_gt(guard_raw_read(name, buf, sizeof(buf)), 0);
	return strtoll(buf, NULL, 10);
}

static void set_knob(const char *name, const char *value)
{
	int r = guard_raw_write(name, value);

	ck_assert_msg(r == 0, "write %s=%s: %s", name, value, strerror(-r));
}

/* What other processes merged before the workload registered (guard_settle()). */
static struct guard_counts others;
static int64_t base_profit;

/* The workload's share of a global counter: what other processes merged taken out. */
static int64_t ours(const char *name)
{
	int64_t v = knob(name);

	if (strcmp(name, "pages_shared") == 0)
		return v - others.shared;
	if (strcmp(name, "pages_sharing") == 0)
		return v - others.sharing;
	if (strcmp(name, "ksm_zero_pages") == 0)
		return v - others.zero;
	if (strcmp(name, "general_profit") == 0)
		return v - base_profit;
	ck_abort_msg("ours(%s)", name);
	return 0;
}

/*
 * Full speed, ksmd stopped, and what other processes have registered merged
 * first (guard_settle()), so that ours() tells the workload's part. Called
 * before the workload registers anything.
 */
static void full_speed(int use_zero_pages)
{
	set_knob("run", "2");
	if (access(GUARD_KSM_DIR "/advisor_mode", F_OK) == 0)
		set_knob("advisor_mode", "none");
	set_knob("max_page_sharing", "256");
	set_knob("use_zero_pages", use_zero_pages ? "1" : "0");
	set_knob("pages_to_scan", "10000");
	set_knob("sleep_millisecs", "0");
	if (access(GUARD_KSM_DIR "/smart_scan", F_OK) == 0)
		set_knob("smart_scan", "0");
	guard_settle(&others);
	base_profit = access(GUARD_KSM_DIR "/general_profit", F_OK) == 0 ? knob("general_profit") : 0;
}

/*
 * Merge at full speed until the counters are stable: everything of the
 * workers (@all: they call PR_SET_MEMORY_MERGE; full_speed() first), else
 * what the test registered after calling full_speed() itself.
 */
static void settle(struct workload *w, int use_zero_pages, bool all)
{
	int64_t last = -1, last_scan = -1, scans0;
	double t0;

	if (all) {
		full_speed(use_zero_pages);
		workload_merge(w);
	}
	scans0 = knob("full_scans");
	set_knob("run", "1");
	t0 = now_s();
	for (;;) {
		int64_t scans = knob("full_scans");
		int64_t v = knob("pages_sharing") + knob("ksm_zero_pages");

		if (scans != last_scan) {
			/* Stable over a whole full scan, after at least three. */
			if (scans >= scans0 + 4 && v == last)
				break;
			last = v;
			last_scan = scans;
		}
		ck_assert_msg(now_s() - t0 < 120, "KSM did not settle in 120 s");
		sleep_ms(50);
	}
	set_knob("run", "0");
}

static void merge_until_stable(struct workload *w, int use_zero_pages)
{
	settle(w, use_zero_pages, true);
}

static struct ksm_estimate *estimate(struct ksm_ctx *ctx, const struct workload *w, double rate,
				     uint64_t seed, unsigned int verify_ms,
				     struct ksm_estimate_result *res)
{
	struct ksm_estimate *est;
	int r;

	ck_assert_int_eq(ksm_estimate_new(ctx, &est), 0);
	for (int i = 0; i < NPROC; i++)
		ck_assert_int_eq(ksm_estimate_add_pid(est, w->pids[i]), i);
	if (rate < 1)
		ck_assert_int_eq(ksm_estimate_set_sample(est, rate, seed), 0);
	ck_assert_int_eq(ksm_estimate_set_verify(est, verify_ms), 0);
	r = ksm_estimate_run(est, KSM_ESTIMATE_IDLE);
	ck_assert_msg(r == 0, "estimate: %s", ksm_strerror(r));
	ck_assert_int_eq(ksm_estimate_result(est, -1, res, sizeof(*res)), 0);
	ck_assert_uint_eq(res->present & KSM_ESTIMATE_FRAMES, KSM_ESTIMATE_FRAMES);
	ck_assert_int_eq(res->processes, NPROC);
	return est;
}

static void assert_within(const char *what, int64_t est, int64_t actual, double tolerance)
{
	double err = actual ? (double)(est - actual) / (double)llabs(actual) : (double)est;

	printf("%-28s estimate %10" PRId64 "  kernel %10" PRId64 "  error %+.3f%%\n", what, est,
	       actual, 100 * err);
	ck_assert_msg(err <= tolerance && err >= -tolerance,
		      "%s: estimate %" PRId64 ", kernel %" PRId64 " (%+.2f%%)", what, est, actual,
		      100 * err);
}

static int64_t file_field(const char *path, const char *key);

/* The workers' anonymous memory, each shared page counted once: the sum of
 * their Pss_Anon, in bytes. */
static int64_t workers_anon(const struct workload *w)
{
	char path[64];
	int64_t kb = 0;

	for (int i = 0; i < NPROC; i++) {
		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", w->pids[i]);
		kb += file_field(path, "Pss_Anon");
	}
	return kb * 1024;
}

static void compare_with_kernel(const char *args, int use_zero_pages, unsigned int verify_ms)
{
	struct ksm_ctx *ctx = new_ctx();
	struct ksm_estimate_result r;
	struct workload w;
	char what[96];

	set_knob("use_zero_pages", use_zero_pages ? "1" : "0");
	workload_start(&w, args);
	int64_t anon_before, anon_drop;

	ksm_estimate_unref(estimate(ctx, &w, 1, 0, verify_ms, &r));
	ck_assert_int_eq(r.use_zero_pages, use_zero_pages);
	anon_before = workers_anon(&w);
	merge_until_stable(&w, use_zero_pages);
	snprintf(what, sizeof(what), "[%s uzp=%d] sharing+zero", args, use_zero_pages);
	assert_within(what, r.pages_sharing + r.ksm_zero_pages,
		      ours("pages_sharing") + ours("ksm_zero_pages"), 0.01);
	assert_within("  pages_shared", r.pages_shared, ours("pages_shared"), 0.01);
	assert_within("  ksm_zero_pages", r.ksm_zero_pages, ours("ksm_zero_pages"), 0.01);
	assert_within("  general_profit", r.general_profit, ours("general_profit"), 0.01);
	/* What merging freed: the workers' memory shrank by that much. With huge
	 * pages, one run in several saw the drop smaller by one huge page (the
	 * counters still matched): allow that much. */
	anon_drop = anon_before - workers_anon(&w);
	assert_within("  freed bytes (Pss_Anon drop)", r.freed_bytes, anon_drop,
		      0.01 + (strstr(args, "-H") ? (double)(2 << 20) / (double)anon_drop : 0));
	set_knob("run", "2");
	workload_stop(&w);
	ksm_unref(ctx);
}

START_TEST(test_full_dup50)
{
	compare_with_kernel("-m 64 -d 50 -z 5", 0, 0);
}
END_TEST

START_TEST(test_full_dup50_zero_pages)
{
	compare_with_kernel("-m 64 -d 50 -z 5", 1, 0);
}
END_TEST

START_TEST(test_full_dup90)
{
	compare_with_kernel("-m 32 -d 90 -z 2", 0, 0);
}
END_TEST

/* Huge pages: merging splits them, and the split maps their zero pages to
 * the zero page, outside KSM's counters (where the kernel does that). */
START_TEST(test_full_thp)
{
	compare_with_kernel("-m 64 -d 50 -z 5 -H", 0, 0);
}
END_TEST

START_TEST(test_full_thp_zero_pages)
{
	compare_with_kernel("-m 64 -d 50 -z 5 -H", 1, 0);
}
END_TEST

START_TEST(test_full_fork)
{
	compare_with_kernel("-m 64 -d 40 -z 5 -f", 0, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */

/* A field of /proc/PID/smaps_rollup in kB, or of /proc/vmstat. */
static int64_t file_field(const char *path, const char *key)
{
	char line[256];
	size_t n = strlen(key);
	int64_t v = -1;
	FILE *f = fopen(path, "re");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0 && (line[n] == ':' || line[n] == ' '))
			v = strtoll(line + n + 1 + (line[n] == ':'), NULL, 10);
	fclose(f);
	return v;
}

static void sharing_snapshot(const struct workload *w, int64_t *out)
{
	char path[64];

	for (int i = 0; i < NPROC; i++) {
		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", w->pids[i]);
		out[3 * i] = file_field(path, "Shared_Dirty");
		out[3 * i + 1] = file_field(path, "Private_Dirty");
		snprintf(path, sizeof(path), "/proc/%d/ksm_stat", w->pids[i]);
		out[3 * i + 2] = file_field(path, "ksm_merging_pages");
	}
	out[3 * NPROC] = file_field("/proc/vmstat", "cow_ksm");
}

/* A snapshot taken once two in a row, 200 ms apart, agree (the workers and
 * the kernel settle after merging), so that only the estimate can change it. */
static void settled_snapshot(const struct workload *w, int64_t *out)
{
	int64_t again[3 * NPROC + 1];

	sharing_snapshot(w, out);
	for (int i = 0; i < 25; i++) {
		sleep_ms(200);
		sharing_snapshot(w, again);
		if (memcmp(out, again, sizeof(again)) == 0)
			return;
		memcpy(out, again, sizeof(again));
	}
	ck_abort_msg("the workers' memory does not settle");
}

START_TEST(test_reading_keeps_sharing)
{
	struct ksm_ctx *ctx = new_ctx();
	struct ksm_estimate_result r;
	int64_t before[3 * NPROC + 1], after[3 * NPROC + 1];
	struct workload w;

	workload_start(&w, "-m 32 -d 40 -z 5 -f");
	/* Before merging: frames shared after fork(). */
	settled_snapshot(&w, before);
	ck_assert_int_gt(before[0], 1024); /* kB shared copy-on-write */
	ksm_estimate_unref(estimate(ctx, &w, 1, 0, 100, &r));
	sharing_snapshot(&w, after);
	for (int i = 0; i < 3 * NPROC + 1; i++)
		ck_assert_msg(before[i] == after[i], "value %d changed by reading: %" PRId64
			      " -> %" PRId64, i, before[i], after[i]);
	/* After merging (ksmd stopped): KSM pages. */
	merge_until_stable(&w, 0);
	settled_snapshot(&w, before);
	ck_assert_int_gt(before[2], 1000); /* merged pages of the first worker */
	ksm_estimate_unref(estimate(ctx, &w, 1, 0, 100, &r));
	ksm_estimate_unref(estimate(ctx, &w, 0.1, 3, 0, &r));
	sharing_snapshot(&w, after);
	for (int i = 0; i < 3 * NPROC + 1; i++)
		ck_assert_msg(before[i] == after[i], "value %d changed by reading merged pages: %"
			      PRId64 " -> %" PRId64, i, before[i], after[i]);
	set_knob("run", "2");
	workload_stop(&w);
	ksm_unref(ctx);
}
END_TEST

START_TEST(test_verify_churn)
{
	struct ksm_ctx *ctx = new_ctx();
	struct ksm_estimate_result snap, ver;
	struct workload w;
	int64_t churn = 64 * 256 * 10 / 100; /* churning pages per worker */

	set_knob("use_zero_pages", "0");
	workload_start(&w, "-m 64 -d 40 -z 5 -c 10");
	ksm_estimate_unref(estimate(ctx, &w, 1, 0, 0, &snap));
	ksm_estimate_unref(estimate(ctx, &w, 1, 0, 300, &ver));
	printf("churn: snapshot %" PRId64 ", verified %" PRId64 ", volatile %" PRId64 "\n",
	       snap.pages_sharing, ver.pages_sharing, ver.volatile_pages);
	/* The churning pages look duplicate in one snapshot (a few are read while
	 * being written)... */
	ck_assert_int_ge(snap.pages_sharing - ver.pages_sharing, churn * NPROC * 8 / 10);
	/* ...and the verify pass drops them. */
	ck_assert_int_ge(ver.volatile_pages, churn * NPROC * 8 / 10);
	ck_assert_uint_eq(ver.present & KSM_ESTIMATE_VERIFIED, KSM_ESTIMATE_VERIFIED);
	merge_until_stable(&w, 0);
	assert_within("[churn, verified] sharing", ver.pages_sharing, ours("pages_sharing"), 0.01);
	assert_within("  pages_shared", ver.pages_shared, ours("pages_shared"), 0.01);
	ck_assert_msg((double)snap.pages_sharing > 1.05 * (double)ours("pages_sharing"),
		      "without the verify pass the estimate should overshoot");
	set_knob("run", "2");
	workload_stop(&w);
	ksm_unref(ctx);
}
END_TEST

START_TEST(test_sampled_interval)
{
	struct ksm_ctx *ctx = new_ctx();
	struct ksm_estimate_result full, r;
	struct workload w;
	int inside = 0;

	workload_start(&w, "-m 64 -d 50 -z 5");
	ksm_estimate_unref(estimate(ctx, &w, 1, 0, 0, &full));
	for (uint64_t seed = 1; seed <= 20; seed++) {
		ksm_estimate_unref(estimate(ctx, &w, 0.1, seed, 0, &r));
		ck_assert_uint_eq(r.present & KSM_ESTIMATE_SAMPLED, KSM_ESTIMATE_SAMPLED);
		ck_assert_int_eq(r.rmap_items, full.rmap_items);
		if (llabs(r.pages_sharing - full.pages_sharing) <= r.pages_sharing_ci)
			inside++;
		printf("seed %2" PRIu64 ": %" PRId64 " ± %" PRId64 " (full %" PRId64 ")\n", seed,
		       r.pages_sharing, r.pages_sharing_ci, full.pages_sharing);
	}
	ck_assert_int_ge(inside, 18);
	workload_stop(&w);
	ksm_unref(ctx);
}
END_TEST

/* The same processes as a cgroup and within every process of the host. */
START_TEST(test_cgroup_and_all)
{
	struct ksm_ctx *ctx = new_ctx();
	struct ksm_estimate_result by_pid, by_cg, all;
	struct ksm_estimate *est;
	struct workload w;
	char dir[160], procs[200], name[64];
	FILE *f;
	int t, r;

	const char *base = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ?
				   "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
	char parent[160];

	snprintf(parent, sizeof(parent), "%s/cgroup.procs", base);
	ck_assert_msg(access(parent, W_OK) == 0, "no writable cgroup v2 hierarchy");
	workload_start(&w, "-m 16 -d 50 -z 5");
	for (int i = 0; i < NPROC; i++)
		kill(w.pids[i], SIGSTOP); /* their memory stays as it is */
	snprintf(name, sizeof(name), "libksm-test-estimate-%d", (int)getpid());
	snprintf(dir, sizeof(dir), "%s/%s", base, name);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	for (int i = 0; i < NPROC; i++) {
		f = fopen(procs, "we");
		ck_assert_ptr_nonnull(f);
		fprintf(f, "%d\n", w.pids[i]);
		ck_assert_int_eq(fclose(f), 0);
	}
	ksm_estimate_unref(estimate(ctx, &w, 1, 0, 0, &by_pid));

	ck_assert_int_eq(ksm_estimate_new(ctx, &est), 0);
	t = ksm_estimate_add_cgroup(est, name);
	ck_assert_int_eq(t, 0);
	r = ksm_estimate_run(est, 0);
	ck_assert_msg(r == 0, "%s", ksm_strerror(r));
	ck_assert_int_eq(ksm_estimate_result(est, 0, &by_cg, sizeof(by_cg)), 0);
	ksm_estimate_unref(est);
	ck_assert_int_eq(by_cg.processes, NPROC);
	ck_assert_int_eq(by_cg.pages_sharing, by_pid.pages_sharing);
	ck_assert_int_eq(by_cg.pages_shared, by_pid.pages_shared);
	ck_assert_int_eq(by_cg.rmap_items, by_pid.rmap_items);

	ck_assert_int_eq(ksm_estimate_new(ctx, &est), 0);
	ck_assert_int_eq(ksm_estimate_add_all(est), 0);
	r = ksm_estimate_run(est, 0);
	ck_assert_msg(r == 0, "%s", ksm_strerror(r));
	ck_assert_int_eq(ksm_estimate_result(est, -1, &all, sizeof(all)), 0);
	ksm_estimate_unref(est);
	printf("all: %" PRId64 " processes, %" PRId64 " pages read, pages_sharing %" PRId64 "\n",
	       all.processes, all.candidate_pages, all.pages_sharing);
	ck_assert_int_gt(all.processes, NPROC);
	ck_assert_int_ge(all.candidate_pages, by_pid.candidate_pages);
	ck_assert_int_ge(all.pages_sharing, by_pid.pages_sharing);

	/* Back to the parent cgroup, and away. */
	for (int i = 0; i < NPROC; i++) {
		f = fopen(parent, "we");
		ck_assert_ptr_nonnull(f);
		fprintf(f, "%d\n", w.pids[i]);
		fclose(f);
		kill(w.pids[i], SIGCONT);
	}
	workload_stop(&w);
	ck_assert_int_eq(rmdir(dir), 0);
	ksm_unref(ctx);
}
END_TEST

/* The rmap_items (pages ksmd tracks) of the workers, from their ksm_stat. */
static int64_t workers_rmap_items(const struct workload *w)
{
	char path[64];
	int64_t n = 0;

	for (int i = 0; i < NPROC; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ksm_stat", w->pids[i]);
		n += file_field(path, "ksm_rmap_items");
	}
	return n;
}

/*
 * Guided merging: on workers whose duplicates lie in the first 16 % of their
 * memory, registering only the ranges an estimate names reaches at least
 * 99 % of the saving of registering everything (and the estimate's figure
 * within 1 %), while ksmd tracks only about the pages registered.
 */
START_TEST(test_guided)
{
	static const char args[] = "-m 32 -d 10 -z 5";
	struct ksm_ctx *ctx = new_ctx();
	struct ksm_estimate_result r;
	struct ksm_estimate *est;
	struct ksm_range ranges[KSM_GUIDED_MAX_RANGES];
	struct workload w;
	int64_t saving_all, saving_guided, registered = 0, rmap;
	int nranges = 0;

	/* Everything registered. */
	workload_start(&w, args);
	merge_until_stable(&w, 0);
	saving_all = ours("pages_sharing") + ours("ksm_zero_pages");
	set_knob("run", "2");
	workload_stop(&w);

	/* Guided, on fresh workers. */
	workload_start(&w, args);
	est = estimate(ctx, &w, 1, 0, 0, &r);
	full_speed(0);
	for (int i = 0; i < NPROC; i++) {
		int n = ksm_estimate_ranges(est, w.pids[i], KSM_GUIDED_GAP_PAGES, ranges,
					    KSM_GUIDED_MAX_RANGES);

		ck_assert_msg(n > 0, "ranges of %d: %s", w.pids[i], ksm_strerror(n));
		for (int k = 0; k < n; k++)
			registered += (int64_t)(ranges[k].length / 4096);
		nranges += n;
		ck_assert_int_eq(ksm_process_register(ctx, w.pids[i], ranges, (size_t)n, 0), n);
		/* Not process-wide: only ranges. */
		ck_assert_int_eq(ksm_process_merge_state(ctx, w.pids[i]), KSM_PROCESS_MADVISED);
	}
	ksm_estimate_unref(est);
	settle(&w, 0, false);
	saving_guided = ours("pages_sharing") + ours("ksm_zero_pages");
	rmap = workers_rmap_items(&w);
	printf("guided: %d ranges, %" PRId64 " of %" PRId64 " pages registered; ksmd tracks %"
	       PRId64 "; saving %" PRId64 " vs %" PRId64 " registering everything (%.4f), "
	       "estimate %" PRId64 "\n", nranges, registered, r.candidate_pages, rmap,
	       saving_guided, saving_all, (double)saving_guided / (double)saving_all,
	       r.pages_sharing + r.ksm_zero_pages);
	ck_assert_msg((double)saving_guided >= 0.99 * (double)saving_all,
		      "guided saved %" PRId64 " pages, everything %" PRId64, saving_guided,
		      saving_all);
	assert_within("guided vs estimate", r.pages_sharing + r.ksm_zero_pages, saving_guided, 0.01);
	/* Duplicates are 16 % of the memory: with the gaps, well under a third is
	 * registered, and ksmd tracks no more than that. */
	ck_assert_int_lt(registered * 3, r.candidate_pages);
	ck_assert_int_le(rmap, registered);
	set_knob("run", "2");
	workload_stop(&w);

	/* The same in one call, ksm_merge_guided(), on fresh workers: the same
	 * ranges registered, merged by its merge-now, the same saving. */
	{
		struct ksm_guided_result g;
		int64_t pages = 0, ranges_n = 0, saving_call, counted;
		int rc;

		workload_start(&w, args);
		full_speed(0);
		est = estimate(ctx, &w, 1, 0, 0, &r);
		for (int i = 0; i < NPROC; i++) {
			int n = ksm_estimate_ranges(est, w.pids[i], KSM_GUIDED_GAP_PAGES, ranges,
						    KSM_GUIDED_MAX_RANGES);

			ck_assert_int_gt(n, 0);
			for (int k = 0; k < n; k++)
				pages += (int64_t)(ranges[k].length / 4096);
			ranges_n += n;
		}
		rc = ksm_merge_guided(est, KSM_GUIDED_GAP_PAGES, 4, 120000, 0, NULL, NULL, &g, sizeof(g));

		ck_assert_msg(rc == 0, "ksm_merge_guided: %s", ksm_strerror(rc));
		ck_assert_uint_eq(g.present & (KSM_GUIDED_ESTIMATED | KSM_GUIDED_REGISTERED | KSM_GUIDED_MERGED),
				  KSM_GUIDED_ESTIMATED | KSM_GUIDED_REGISTERED | KSM_GUIDED_MERGED);
		ck_assert_int_eq(g.processes, NPROC);
		ck_assert_int_eq(g.registered_processes, NPROC);
		ck_assert_int_eq(g.failed_processes, 0);
		ck_assert_int_eq(g.ranges, ranges_n);
		ck_assert_int_eq(g.pages, pages);
		for (int i = 0; i < NPROC; i++)
			ck_assert_int_eq(ksm_process_merge_state(ctx, w.pids[i]), KSM_PROCESS_MADVISED);
		/* Its counters after four full scans, then stable ones. */
		counted = g.pages_sharing - others.sharing + g.ksm_zero_pages - others.zero;
		settle(&w, 0, false);
		saving_call = ours("pages_sharing") + ours("ksm_zero_pages");
		printf("ksm_merge_guided: %" PRId64 " ranges, %" PRId64 " pages registered; saving %"
		       PRId64 " after its merge, %" PRId64 " stable, vs %" PRId64
		       " registering everything\n", g.ranges, g.pages, counted, saving_call, saving_all);
		ck_assert_msg((double)saving_call >= 0.99 * (double)saving_all,
			      "ksm_merge_guided saved %" PRId64 " pages, everything %" PRId64,
			      saving_call, saving_all);
		assert_within("ksm_merge_guided's merge vs stable", counted, saving_call, 0.01);
		ksm_estimate_unref(est);
		set_knob("run", "2");
		workload_stop(&w);
	}
	ksm_unref(ctx);
}
END_TEST

static Suite *estimate_suite(void)
{
	Suite *s = suite_create("estimate");

	guard_add(s, "full_dup50", test_full_dup50);
	guard_add(s, "full_dup50_zero_pages", test_full_dup50_zero_pages);
	guard_add(s, "full_dup90", test_full_dup90);
	guard_add(s, "full_fork", test_full_fork);
	guard_add(s, "full_thp", test_full_thp);
	guard_add(s, "full_thp_zero_pages", test_full_thp_zero_pages);
	guard_add(s, "reading_keeps_sharing", test_reading_keeps_sharing);
	guard_add(s, "verify_churn", test_verify_churn);
	guard_add(s, "sampled_interval", test_sampled_interval);
	guard_add(s, "cgroup_and_all", test_cgroup_and_all);
	guard_add(s, "guided", test_guided);
	return s;
}

int main(void)
{
	return guard_main(guard_missing_ksm_stat_prctl, estimate_suite, NULL);
}

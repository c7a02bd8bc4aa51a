// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The tuner: its policy branch by branch (ksmtuned's decisions when
 * configured as ksmtuned, then the native policy), the settings files as
 * Debian, RHEL and Proxmox ship them, errors with their line, and one
 * decision on a fake system root. Links the library's objects: the policy
 * is internal (lib/internal.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

#define BIT(k) (UINT64_C(1) << (k))
#define GiB_KB (1024LL * 1024)

static int64_t S[KSM_TUNE_S_NR];

static struct ksm_tune_input input(int64_t total, int64_t free, int64_t avail, int64_t committed)
{
	struct ksm_tune_input in = {
		.mem_total_kb = total, .mem_free_kb = free, .mem_available_kb = avail,
		.psi_some = -1, .psi_full = -1, .committed_kb = committed, .procs = 1,
		.ksmd_cpu = -1, .run = 0, .pages_to_scan = 100, .sleep_millisecs = 20,
	};
	return in;
}

static void setup_settings(int policy)
{
	ksm_tune_defaults(S);
	S[KSM_TUNE_S_POLICY] = policy;
}

/* ------------------------------------------------------------ ksmtuned */

/*
 * ksmtuned's adjust() on 16 GiB (total 16777216 kB): thres = 20% =
 * 3355443 kB, sleep = 10 * 16 GiB / total = 10. Each row is one call in
 * sequence, so that npages carries over as in the script.
 */
static const struct row {
	int64_t free, committed;
	int64_t run, npages; /* -1: not written */
	const char *reason;
} ksmtuned_rows[] = {
	/* committed + thres < total and free > thres: stop, npages untouched */
	{ 10000000, 0, 0, -1, "3355443 < 16777216 and free > 3355443, stop ksm" },
	/* committed + thres >= total, free > thres: decay from 0, clamped to MIN */
	{ 10000000, 14000000, 1, 64, "17355443 > 16777216, start ksm; 10000000 > 3355443, decay" },
	/* free < thres: boost */
	{ 1000000, 14000000, 1, 364, NULL },
	{ 1000000, 14000000, 1, 664, NULL },
	{ 1000000, 14000000, 1, 964, NULL },
	{ 1000000, 14000000, 1, 1250, NULL }, /* 1264 clamped to MAX */
	{ 1000000, 14000000, 1, 1250, NULL },
	/* free == thres: neither "free > thres" (so no stop) nor "free < thres" (so decay) */
	{ 3355443, 0, 1, 1200, "3355443 > 16777216, start ksm; 3355443 > 3355443, decay" },
	/* committed + thres == total is not "<": start, decay */
	{ 10000000, 16777216 - 3355443, 1, 1150, NULL },
	/* low free alone starts ksm even with nothing committed */
	{ 100, 0, 1, 1250, NULL },
	{ 10000000, 0, 0, -1, NULL },
};

START_TEST(ksmtuned_sequence)
{
	struct ksm_tune_state st = { 0 };
	struct ksm_tune_out out;

	setup_settings(KSM_TUNE_POLICY_KSMTUNED);
	for (size_t i = 0; i < sizeof(ksmtuned_rows) / sizeof(ksmtuned_rows[0]); i++) {
		const struct row *r = &ksmtuned_rows[i];
		struct ksm_tune_input in = input(16 * GiB_KB, r->free, 99 * GiB_KB, r->committed);

		ksm_tune_policy(S, &in, &st, &out);
		ck_assert_msg(out.threshold_kb == 3355443, "row %zu", i);
		ck_assert_msg(out.set & BIT(KSM_KNOB_RUN), "row %zu", i);
		ck_assert_int_eq(out.want[KSM_KNOB_RUN], r->run);
		if (r->npages < 0) {
			ck_assert_msg(!(out.set & BIT(KSM_KNOB_PAGES_TO_SCAN)), "row %zu", i);
			ck_assert_msg(!(out.set & BIT(KSM_KNOB_SLEEP_MILLISECS)), "row %zu", i);
		} else {
			ck_assert_msg(out.want[KSM_KNOB_PAGES_TO_SCAN] == r->npages, "row %zu: %lld", i,
				      (long long)out.want[KSM_KNOB_PAGES_TO_SCAN]);
			ck_assert_int_eq(out.want[KSM_KNOB_SLEEP_MILLISECS], 10);
			ck_assert_int_eq(st.npages, r->npages);
		}
		if (r->reason)
			ck_assert_str_eq(out.reason, r->reason);
		/* The native signals play no part: ksmtuned has none of them. */
		ck_assert(!(out.set & BIT(KSM_KNOB_ADVISOR_MODE)));
	}
}
END_TEST

/* sleep = KSM_SLEEP_MSEC * 16 GiB / total, at least 10; thres at least KSM_THRES_CONST. */
START_TEST(ksmtuned_sleep_and_threshold)
{
	static const struct {
		int64_t total, sleep_msec, coef, cnst;
		int64_t sleep, thres;
	} rows[] = {
		{ 8 * GiB_KB, 10, 20, 2048, 20, 1677721 },
		{ 16 * GiB_KB, 10, 20, 2048, 10, 3355443 },
		{ 32 * GiB_KB, 10, 20, 2048, 10, 6710886 },  /* 5 raised to 10 */
		{ 24 * GiB_KB, 100, 20, 2048, 66, 5033164 }, /* Proxmox's 100 ms on 24 GiB */
		{ 4096, 10, 20, 2048, 40960, 2048 },         /* the constant floor */
		{ 16 * GiB_KB, 10, 0, 0, 10, 0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ksm_tune_state st = { 0 };
		struct ksm_tune_out out;
		struct ksm_tune_input in = input(rows[i].total, 0, -1, 0); /* free 0: start */

		setup_settings(KSM_TUNE_POLICY_KSMTUNED);
		S[KSM_TUNE_S_SLEEP_MSEC] = rows[i].sleep_msec;
		S[KSM_TUNE_S_THRES_COEF] = rows[i].coef;
		S[KSM_TUNE_S_THRES_CONST] = rows[i].cnst;
		ksm_tune_policy(S, &in, &st, &out);
		ck_assert_msg(out.threshold_kb == rows[i].thres, "row %zu: %lld", i, (long long)out.threshold_kb);
		ck_assert_int_eq(out.want[KSM_KNOB_RUN], 1);
		ck_assert_msg(out.want[KSM_KNOB_SLEEP_MILLISECS] == rows[i].sleep, "row %zu: %lld", i,
			      (long long)out.want[KSM_KNOB_SLEEP_MILLISECS]);
	}
}
END_TEST

/* run=2 is the administrator's: no policy writes anything then. */
START_TEST(disabled_is_left_alone)
{
	for (int policy = 0; policy < 2; policy++) {
		struct ksm_tune_state st = { 0 };
		struct ksm_tune_out out;
		struct ksm_tune_input in = input(16 * GiB_KB, 100, 100, 15 * GiB_KB);

		setup_settings(policy);
		in.run = 2;
		ksm_tune_policy(S, &in, &st, &out);
		ck_assert_int_eq(out.set, 0);
		ck_assert(strstr(out.reason, "run=2"));
		ck_assert_int_eq(st.npages, 0);
		/* disabled by policy (ksm.conf): left alone although run reads 1 */
		in.run = 1;
		in.policy_disabled = true;
		ksm_tune_policy(S, &in, &st, &out);
		ck_assert_int_eq(out.set, 0);
		ck_assert(strstr(out.reason, "disabled by policy"));
		ck_assert_int_eq(st.npages, 0);
	}
}
END_TEST

/* ------------------------------------------------------------ native */

START_TEST(native_nothing_registered)
{
	struct ksm_tune_state st = { 0 };
	struct ksm_tune_out out;
	struct ksm_tune_input in = input(16 * GiB_KB, 100, 100, 0);

	setup_settings(KSM_TUNE_POLICY_NATIVE);
	in.procs = 0;
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.set, BIT(KSM_KNOB_RUN));
	ck_assert_int_eq(out.want[KSM_KNOB_RUN], 0);
	ck_assert(strstr(out.reason, "no process has memory registered"));

	/* A kernel that cannot tell (procs -1) does not stop for that reason. */
	in.procs = -1;
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_RUN], 1);
}
END_TEST

START_TEST(native_no_pressure)
{
	struct ksm_tune_state st = { 0 };
	struct ksm_tune_out out;
	/* MemAvailable 12 GiB of 16, registered 1 GiB: stop, even though the
	 * overestimating free of ksmtuned would say the same. */
	struct ksm_tune_input in = input(16 * GiB_KB, 14 * GiB_KB, 12 * GiB_KB, GiB_KB);

	setup_settings(KSM_TUNE_POLICY_NATIVE);
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.set, BIT(KSM_KNOB_RUN));
	ck_assert_int_eq(out.want[KSM_KNOB_RUN], 0);
	ck_assert(strstr(out.reason, "no memory pressure"));
}
END_TEST

/* MemAvailable below the threshold boosts although ksmtuned's free (which
 * counts shmem in Cached) is above it. */
START_TEST(native_available_not_free)
{
	struct ksm_tune_state st = { 0 }, st2 = { 0 };
	struct ksm_tune_out out;
	struct ksm_tune_input in = input(16 * GiB_KB, 8 * GiB_KB, 2 * GiB_KB, GiB_KB);

	setup_settings(KSM_TUNE_POLICY_NATIVE);
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_RUN], 1);
	ck_assert_int_eq(out.want[KSM_KNOB_PAGES_TO_SCAN], 300);
	ck_assert_int_eq(out.want[KSM_KNOB_SLEEP_MILLISECS], 10);
	ck_assert(strstr(out.reason, "below threshold"));

	setup_settings(KSM_TUNE_POLICY_KSMTUNED);
	ksm_tune_policy(S, &in, &st2, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_RUN], 0);

	/* Without MemAvailable the native policy falls back to free. */
	setup_settings(KSM_TUNE_POLICY_NATIVE);
	in.mem_available_kb = -1;
	st = (struct ksm_tune_state){ 0 };
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_RUN], 0);
}
END_TEST

START_TEST(native_psi)
{
	struct ksm_tune_state st = { 0 };
	struct ksm_tune_out out;
	struct ksm_tune_input in = input(16 * GiB_KB, 12 * GiB_KB, 12 * GiB_KB, GiB_KB);

	setup_settings(KSM_TUNE_POLICY_NATIVE);
	in.psi_some = 9.99;
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_RUN], 0);
	in.psi_some = 10.0;
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_RUN], 1);
	ck_assert_int_eq(out.want[KSM_KNOB_PAGES_TO_SCAN], 300);
	ck_assert(strstr(out.reason, "PSI some avg10 10.0%"));
	/* psi_some = 0 turns the signal off. */
	S[KSM_TUNE_S_PSI_SOME] = 0;
	in.psi_some = 90;
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_RUN], 0);
}
END_TEST

/* Registered memory close to the total: merge, gently (decay). */
START_TEST(native_committed_decays)
{
	struct ksm_tune_state st = { .npages = 500 };
	struct ksm_tune_out out;
	struct ksm_tune_input in = input(16 * GiB_KB, 12 * GiB_KB, 12 * GiB_KB, 14 * GiB_KB);

	setup_settings(KSM_TUNE_POLICY_NATIVE);
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_RUN], 1);
	ck_assert_int_eq(out.want[KSM_KNOB_PAGES_TO_SCAN], 450);
	ck_assert(strstr(out.reason, "decay"));
}
END_TEST

/*
 * Whether scanning pays, decision by decision: a scan that grew the savings
 * by more than 1/256 scans at npages_max; a full scan that grew them by
 * less, two or more scans after the last new work, is convergence: run=0,
 * and it stays so until a change.
 */
static const struct conv_row {
	int64_t full_scans, saved_pages, now_s, procs, committed_gib, avail_gib;
	bool new_process;
	int64_t run, npages; /* -1: not written */
	bool converged;
	const char *reason;
} conv_rows[] = {
	/* the start is new work: scan 6 is too early to judge */
	{ 5, 1000, 0, 4, 14, 12, false, 1, 64, false, "decay" },
	{ 6, 1000, 5, 4, 14, 12, false, 1, 64, false, "decay" },
	/* no scan completed since: no verdict */
	{ 6, 1000, 10, 4, 14, 12, false, 1, 64, false, "decay" },
	{ 7, 2000, 20, 4, 14, 12, false, 1, 1250, false, "merged more: scan at npages_max" },
	/* 8 more pages: 8 * 256 > 2000, it still pays */
	{ 8, 2008, 25, 4, 14, 12, false, 1, 1250, false, "merged more" },
	/* 7 more: 7 * 256 <= 2008, converged, stop */
	{ 9, 2015, 40, 4, 14, 12, false, 0, -1, true, "converged, stop ksmd" },
	/* nothing changed: stays stopped */
	{ 9, 2015, 100, 4, 14, 12, false, 0, -1, true, "converged 60s ago" },
	/* registered memory grew by less than an eighth: still nothing */
	{ 9, 2015, 110, 4, 15, 12, false, 0, -1, true, "ksmd stays stopped" },
	/* a new process: scan again at npages_max */
	{ 9, 2015, 120, 5, 15, 12, true, 1, 1250, false, "a new process registered memory: scan" },
	/* its first scan merges nothing yet: not converged before 2 scans */
	{ 10, 2015, 130, 5, 15, 12, false, 1, 1200, false, "decay" },
	{ 11, 3000, 140, 5, 15, 12, false, 1, 1250, false, "merged more" },
	{ 12, 3000, 150, 5, 15, 12, false, 0, -1, true, "converged" },
	/* the registered memory grew by more than an eighth */
	{ 12, 3000, 160, 5, 17, 12, false, 1, 1250, false, "grew by more than an eighth" },
	{ 13, 3000, 165, 5, 17, 12, false, 1, 1200, false, "decay" },
	{ 14, 3000, 170, 5, 17, 12, false, 0, -1, true, "converged" },
	/* more processes found by the walk (no event) */
	{ 14, 3000, 180, 6, 17, 12, false, 1, 1250, false, "more processes" },
	{ 16, 3000, 190, 6, 17, 12, false, 0, -1, true, "converged" },
	/* memory pressure rises (available below the threshold) */
	{ 16, 3000, 200, 6, 17, 1, false, 1, 1250, false, "memory pressure rose" },
	{ 18, 3000, 210, 6, 17, 1, false, 0, -1, true, "converged" },
	/* still under pressure, no change: stays stopped, also when pressure falls */
	{ 18, 3000, 220, 6, 17, 1, false, 0, -1, true, "ksmd stays stopped" },
	{ 18, 3000, 230, 6, 17, 12, false, 0, -1, true, "ksmd stays stopped" },
	/* recheck (600 s) after convergence at 210 */
	{ 18, 3000, 809, 6, 17, 12, false, 0, -1, true, "ksmd stays stopped" },
	{ 18, 3000, 810, 6, 17, 12, false, 1, 1250, false, "time to re-check" },
	{ 20, 3000, 820, 6, 17, 12, false, 0, -1, true, "converged" },
	/* no pressure at all: stop, and forget convergence */
	{ 20, 3000, 830, 6, 1, 12, false, 0, -1, false, "no memory pressure" },
	/* pressure again: scanning resumes without waiting for a trigger */
	{ 20, 3000, 840, 6, 17, 12, false, 1, 1150, false, "decay" },
};

START_TEST(native_convergence)
{
	struct ksm_tune_state st = { 0 };
	struct ksm_tune_out out;

	setup_settings(KSM_TUNE_POLICY_NATIVE);
	S[KSM_TUNE_S_CATCHUP] = 0; /* new processes scan at npages_max: native_catchup has the rest */
	st.npages = 50;
	for (size_t i = 0; i < sizeof(conv_rows) / sizeof(conv_rows[0]); i++) {
		const struct conv_row *r = &conv_rows[i];
		struct ksm_tune_input in = input(16 * GiB_KB, 12 * GiB_KB, r->avail_gib * GiB_KB,
						 r->committed_gib * GiB_KB);

		in.full_scans = r->full_scans;
		in.saved_pages = r->saved_pages;
		in.now_s = r->now_s;
		in.procs = r->procs;
		in.new_process = r->new_process;
		in.run = 1;
		ksm_tune_policy(S, &in, &st, &out);
		ck_assert_msg(out.want[KSM_KNOB_RUN] == r->run && (out.set & BIT(KSM_KNOB_RUN)),
			      "row %zu: run %lld: %s", i, (long long)out.want[KSM_KNOB_RUN], out.reason);
		if (r->npages < 0)
			ck_assert_msg(!(out.set & BIT(KSM_KNOB_PAGES_TO_SCAN)), "row %zu: %s", i,
				      out.reason);
		else
			ck_assert_msg(out.want[KSM_KNOB_PAGES_TO_SCAN] == r->npages,
				      "row %zu: npages %lld: %s", i,
				      (long long)out.want[KSM_KNOB_PAGES_TO_SCAN], out.reason);
		ck_assert_msg(st.converged == r->converged, "row %zu: %s", i, out.reason);
		ck_assert_msg(strstr(out.reason, r->reason), "row %zu: %s", i, out.reason);
	}
	/* recheck = 0: only a change starts ksmd again */
	S[KSM_TUNE_S_RECHECK] = 0;
	{
		struct ksm_tune_input in = input(16 * GiB_KB, 12 * GiB_KB, 12 * GiB_KB, 17 * GiB_KB);
		in.full_scans = 22;
		in.saved_pages = 3000;
		in.procs = 6;
		in.now_s = 900;
		ksm_tune_policy(S, &in, &st, &out);
		ck_assert_int_eq(out.want[KSM_KNOB_RUN], 0);
		ck_assert(st.converged);
		in.now_s = 1000000;
		ksm_tune_policy(S, &in, &st, &out);
		ck_assert_int_eq(out.want[KSM_KNOB_RUN], 0);
		ck_assert(strstr(out.reason, "ksmd stays stopped"));
	}
}
END_TEST

/*
 * A process registered memory: scan at full speed until it was scanned
 * (catchup), or at npages_max with catchup = 0 or where the advisor sets
 * pages_to_scan, even if the last scan paid nothing.
 */
START_TEST(native_new_process)
{
	const struct ksm_tune_state st0 = { .npages = 100, .seen = true, .full_scans = 1, .saved_pages = 10 };
	struct ksm_tune_state st = st0;
	struct ksm_tune_out out;
	struct ksm_tune_input in = input(16 * GiB_KB, 12 * GiB_KB, 12 * GiB_KB, 14 * GiB_KB);

	setup_settings(KSM_TUNE_POLICY_NATIVE);
	in.full_scans = 2;
	in.saved_pages = 10;
	in.new_process = true;
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_RUN], 1);
	ck_assert_int_eq(out.want[KSM_KNOB_PAGES_TO_SCAN], 20000);
	ck_assert_int_eq(out.want[KSM_KNOB_SLEEP_MILLISECS], 0);
	ck_assert(st.catchup);
	ck_assert(strstr(out.reason, "a new process registered memory: scan at full speed"));
	/* catchup = 0 */
	S[KSM_TUNE_S_CATCHUP] = 0;
	st = st0;
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_PAGES_TO_SCAN], 1250);
	ck_assert_int_eq(out.want[KSM_KNOB_SLEEP_MILLISECS], 10);
	ck_assert(!st.catchup);
	ck_assert(strstr(out.reason, "a new process registered memory: scan at npages_max"));
	/* the advisor sets pages_to_scan (chosen here, or by the administrator): no full speed */
	S[KSM_TUNE_S_CATCHUP] = 30;
	for (int adv = 0; adv < 2; adv++) {
		st = st0;
		in.has_advisor = true;
		S[KSM_TUNE_S_ADVISOR] = !adv;
		in.advisor_mode = adv ? KSM_ADVISOR_SCAN_TIME : KSM_ADVISOR_NONE;
		ksm_tune_policy(S, &in, &st, &out);
		ck_assert(!st.catchup);
		ck_assert(!(out.set & BIT(KSM_KNOB_PAGES_TO_SCAN)));
		ck_assert_int_eq(out.want[KSM_KNOB_SLEEP_MILLISECS], 10);
	}
	S[KSM_TUNE_S_ADVISOR] = 0;
	in.has_advisor = false;
	in.advisor_mode = KSM_ADVISOR_NONE;
	/* no pressure at all: still stop */
	in = input(16 * GiB_KB, 12 * GiB_KB, 12 * GiB_KB, GiB_KB);
	in.new_process = true;
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_RUN], 0);
	/* ksmtuned's policy does not know of it */
	setup_settings(KSM_TUNE_POLICY_KSMTUNED);
	st = (struct ksm_tune_state){ 0 };
	in = input(16 * GiB_KB, GiB_KB, GiB_KB, 14 * GiB_KB);
	in.new_process = true;
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_PAGES_TO_SCAN], 300);
}
END_TEST

/*
 * The full-speed scan after a new process, decision by decision: it lasts
 * until full_scans grew by two (the new memory was scanned once) or for
 * catchup seconds (30), max_cpu does not cut it, nor the decision after it
 * (whose ksmd CPU is the full-speed scan's); then the usual rules.
 */
static const struct catchup_row {
	int64_t full_scans, saved_pages, now_s, avail_gib;
	bool new_process;
	double ksmd_cpu;
	int64_t run, npages, sleep; /* -1: not written */
	bool catchup;
	const char *reason;
} catchup_rows[] = {
	{ 5, 1000, 0, 12, false, -1, 1, 64, 10, false, "decay" },
	/* a new process: full speed until full_scans reaches 8 or now_s 40 */
	{ 6, 1000, 10, 12, true, 5, 1, 20000, 0, true, "scan at full speed until it is scanned (at most 30s)" },
	/* one full scan: the new process may still be ahead of the cursor */
	{ 7, 2000, 11, 12, false, 100, 1, 20000, 0, true, "catching up with a new process at full speed (29s left)" },
	/* two: it was scanned; the scan merged more; its 100% CPU is not held against it */
	{ 8, 3000, 12, 12, false, 100, 1, 1250, 10, false, "the new memory was scanned: full speed ends; the last full scan merged more" },
	{ 9, 3001, 13, 12, false, 3, 0, -1, -1, false, "converged" },
	/* converged, then a new process: full speed again */
	{ 9, 3001, 20, 12, true, 0, 1, 20000, 0, true, "converged before, but a new process registered memory: scan at full speed" },
	/* a second one meanwhile: the time and the scans count from it */
	{ 10, 3001, 25, 12, true, 100, 1, 20000, 0, true, "scan at full speed" },
	{ 11, 3001, 54, 12, false, 100, 1, 20000, 0, true, "(1s left)" },
	/* the time is up before full_scans reached 12: npages_max, not converged */
	{ 11, 3001, 55, 12, false, 100, 1, 1250, 10, false, "ran out of time (catchup): scan at npages_max" },
	/* max_cpu applies again: 1200 (decay) * 20 / 50 */
	{ 11, 3001, 60, 12, false, 50, 1, 480, 10, false, "above max_cpu" },
	/* a new process while there is no pressure: stop, no full speed */
	{ 12, 3001, 70, 13, true, 0, 0, -1, -1, false, "no memory pressure" },
	{ 12, 3001, 71, 12, false, 0, 1, 430, 10, false, "decay" },
};

START_TEST(native_catchup)
{
	struct ksm_tune_state st = { 0 };
	struct ksm_tune_out out;

	setup_settings(KSM_TUNE_POLICY_NATIVE);
	for (size_t i = 0; i < sizeof(catchup_rows) / sizeof(catchup_rows[0]); i++) {
		const struct catchup_row *r = &catchup_rows[i];
		/* 16 GiB, 14 registered: pressure with 12 available, none with 13 and 1 registered */
		struct ksm_tune_input in = input(16 * GiB_KB, 12 * GiB_KB, r->avail_gib * GiB_KB,
						 (r->avail_gib > 12 ? 1 : 14) * GiB_KB);

		in.full_scans = r->full_scans;
		in.saved_pages = r->saved_pages;
		in.now_s = r->now_s;
		in.procs = 4;
		in.new_process = r->new_process;
		in.ksmd_cpu = r->ksmd_cpu;
		in.run = 1;
		ksm_tune_policy(S, &in, &st, &out);
		ck_assert_msg(out.want[KSM_KNOB_RUN] == r->run && (out.set & BIT(KSM_KNOB_RUN)),
			      "row %zu: run %lld: %s", i, (long long)out.want[KSM_KNOB_RUN], out.reason);
		ck_assert_msg(r->npages < 0 ? !(out.set & BIT(KSM_KNOB_PAGES_TO_SCAN))
					    : out.want[KSM_KNOB_PAGES_TO_SCAN] == r->npages,
			      "row %zu: npages %lld: %s", i, (long long)out.want[KSM_KNOB_PAGES_TO_SCAN],
			      out.reason);
		ck_assert_msg(r->sleep < 0 ? !(out.set & BIT(KSM_KNOB_SLEEP_MILLISECS))
					   : out.want[KSM_KNOB_SLEEP_MILLISECS] == r->sleep,
			      "row %zu: sleep %lld: %s", i, (long long)out.want[KSM_KNOB_SLEEP_MILLISECS],
			      out.reason);
		ck_assert_msg(st.catchup == r->catchup, "row %zu: %s", i, out.reason);
		ck_assert_msg(strstr(out.reason, r->reason), "row %zu: %s", i, out.reason);
	}
}
END_TEST

START_TEST(native_cpu_budget)
{
	struct ksm_tune_state st = { .npages = 1000 };
	struct ksm_tune_out out;
	struct ksm_tune_input in = input(16 * GiB_KB, GiB_KB, GiB_KB, GiB_KB);

	setup_settings(KSM_TUNE_POLICY_NATIVE);
	in.ksmd_cpu = 50; /* budget 20%: 1250 * 20 / 50 = 500 */
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_PAGES_TO_SCAN], 500);
	ck_assert(strstr(out.reason, "ksmd used 50.0% CPU"));
	in.ksmd_cpu = 19;
	st.npages = 100;
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_PAGES_TO_SCAN], 400);
	S[KSM_TUNE_S_MAX_CPU] = 0; /* no budget */
	in.ksmd_cpu = 99;
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert_int_eq(out.want[KSM_KNOB_PAGES_TO_SCAN], 700);
}
END_TEST

START_TEST(native_advisor)
{
	struct ksm_tune_state st = { 0 };
	struct ksm_tune_out out;
	struct ksm_tune_input in = input(16 * GiB_KB, GiB_KB, GiB_KB, GiB_KB);

	setup_settings(KSM_TUNE_POLICY_NATIVE);
	in.has_advisor = true;
	S[KSM_TUNE_S_ADVISOR] = 1;
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert(!(out.set & BIT(KSM_KNOB_PAGES_TO_SCAN)));
	ck_assert_int_eq(out.want[KSM_KNOB_ADVISOR_MODE], KSM_ADVISOR_SCAN_TIME);
	ck_assert_int_eq(out.want[KSM_KNOB_ADVISOR_MAX_CPU], 20);
	ck_assert_int_eq(out.want[KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN], 64);
	ck_assert_int_eq(out.want[KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN], 1250);
	ck_assert_int_eq(out.want[KSM_KNOB_RUN], 1);

	/* chosen but absent: pages_to_scan as usual */
	in.has_advisor = false;
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert(out.set & BIT(KSM_KNOB_PAGES_TO_SCAN));
	ck_assert(!(out.set & BIT(KSM_KNOB_ADVISOR_MODE)));

	/* not chosen, but the administrator turned it on: do not fight it */
	S[KSM_TUNE_S_ADVISOR] = 0;
	in.has_advisor = true;
	in.advisor_mode = KSM_ADVISOR_SCAN_TIME;
	ksm_tune_policy(S, &in, &st, &out);
	ck_assert(!(out.set & BIT(KSM_KNOB_PAGES_TO_SCAN)));
	ck_assert(!(out.set & BIT(KSM_KNOB_ADVISOR_MODE)));
	ck_assert(strstr(out.reason, "left to the kernel advisor"));
	ck_assert_int_eq(out.want[KSM_KNOB_RUN], 1);
}
END_TEST

/* ------------------------------------------------------------ settings */

static char logged[4096];

static void capture(void *data, int prio, const char *file, int line, const char *fn,
		    const char *format, va_list args)
{
	size_t len = strlen(logged);

	len += (size_t)snprintf(logged + len, sizeof(logged) - len, "%d:", prio);
	if (len < sizeof(logged))
		len += (size_t)vsnprintf(logged + len, sizeof(logged) - len, format, args);
	if (len < sizeof(logged) - 1)
		strcat(logged, "\n");
}

static struct ksm_ctx *log_ctx(void)
{
	struct ksm_ctx *ctx;

	ck_assert_int_eq(ksm_new_at(&ctx, "/"), 0);
	ksm_set_log_fn(ctx, capture, NULL);
	ksm_set_log_priority(ctx, LOG_DEBUG);
	logged[0] = '\0';
	return ctx;
}

static char *data_path(const char *name)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/../data/%s", getenv("LIBKSM_SYSROOTS"), name), 0);
	return p;
}

/* The shipped files: every line a comment or, for Proxmox, its sleep. */
START_TEST(shipped_files)
{
	static const struct {
		const char *file;
		int count;
		int64_t sleep;
	} rows[] = {
		{ "ksmtuned.conf.debian", 0, 10 },
		{ "ksmtuned.conf.rhel", 0, 10 },
		{ "ksmtuned.conf.proxmox", 1, 100 },
	};
	struct ksm_ctx *ctx = log_ctx();

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int64_t set[KSM_TUNE_S_NR], def[KSM_TUNE_S_NR];
		char *path = data_path(rows[i].file);
		unsigned int line = 99;

		ksm_tune_defaults(set);
		ksm_tune_defaults(def);
		ck_assert_int_eq(ksm_tune_parse_file(ctx, path, KSM_TUNE_FORMAT_AUTO, set, &line),
				 rows[i].count);
		ck_assert_int_eq(line, 0);
		ck_assert_int_eq(set[KSM_TUNE_S_SLEEP_MSEC], rows[i].sleep);
		set[KSM_TUNE_S_SLEEP_MSEC] = def[KSM_TUNE_S_SLEEP_MSEC];
		ck_assert(memcmp(set, def, sizeof(set)) == 0);
		free(path);
	}
	ck_assert_str_eq(logged, "");
	/* ksmtuned's defaults */
	ck_assert_int_eq(S[0], S[0]);
	{
		int64_t d[KSM_TUNE_S_NR];
		ksm_tune_defaults(d);
		ck_assert_int_eq(d[KSM_TUNE_S_INTERVAL], 60);
		ck_assert_int_eq(d[KSM_TUNE_S_BOOST], 300);
		ck_assert_int_eq(d[KSM_TUNE_S_DECAY], -50);
		ck_assert_int_eq(d[KSM_TUNE_S_MIN], 64);
		ck_assert_int_eq(d[KSM_TUNE_S_MAX], 1250);
		ck_assert_int_eq(d[KSM_TUNE_S_THRES_COEF], 20);
		ck_assert_int_eq(d[KSM_TUNE_S_THRES_CONST], 2048);
	}
	ksm_unref(ctx);
}
END_TEST

START_TEST(edited_file)
{
	struct ksm_ctx *ctx = log_ctx();
	char *path = data_path("ksmtuned.conf.edited");
	int64_t set[KSM_TUNE_S_NR];
	unsigned int line;
	char want[512];

	ksm_tune_defaults(set);
	ck_assert_int_eq(ksm_tune_parse_file(ctx, path, KSM_TUNE_FORMAT_AUTO, set, &line), 11);
	ck_assert_int_eq(set[KSM_TUNE_S_INTERVAL], 30);
	ck_assert_int_eq(set[KSM_TUNE_S_SLEEP_MSEC], 20);
	ck_assert_int_eq(set[KSM_TUNE_S_BOOST], 600);
	ck_assert_int_eq(set[KSM_TUNE_S_DECAY], -100);
	ck_assert_int_eq(set[KSM_TUNE_S_MIN], 32);
	ck_assert_int_eq(set[KSM_TUNE_S_MAX], 2500);
	ck_assert_int_eq(set[KSM_TUNE_S_THRES_COEF], 50);
	ck_assert_int_eq(set[KSM_TUNE_S_THRES_CONST], 2048); /* empty: the default */
	ck_assert_int_eq(set[KSM_TUNE_S_METRIC], KSM_TUNE_METRIC_PSS);
	ck_assert_int_eq(set[KSM_TUNE_S_DEBUG], 1);
	snprintf(want, sizeof(want),
		 "%d:%s:12: unknown variable KSM_NPAGES_MAXX, ignored\n"
		 "%d:%s:13: LOGFILE is not used: messages go to standard error (the journal)\n"
		 "%d:%s:14: not a variable assignment, ignored\n",
		 LOG_WARNING, path, LOG_NOTICE, path, LOG_WARNING, path);
	ck_assert_str_eq(logged, want);
	free(path);
	ksm_unref(ctx);
}
END_TEST

static char *tmpfile_with(const char *text)
{
	char *path = strdup("/tmp/test_tune.XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

START_TEST(errors_with_lines)
{
	static const struct {
		const char *text;
		int err;
		unsigned int line;
		const char *msg;
	} rows[] = {
		{ "# c\nKSM_NPAGES_MIN=abc\n", -EBADMSG, 2, "KSM_NPAGES_MIN: 'abc' is not a valid value" },
		{ "\n\nKSM_THRES_COEF=101\n", -EINVAL, 3, "KSM_THRES_COEF=101 is outside 0 to 100" },
		{ "KSM_SLEEP_MSEC=\"10\nX=1\n", -EBADMSG, 1, "unterminated quote" },
		{ "KSM_PS_METRIC=foo\n", -EBADMSG, 1, "KSM_PS_METRIC" },
		{ "run = 1\n[tune]\ninterval = 0\n", -EINVAL, 3, "interval=0 is outside 1 to 86400" },
		{ "[tune]\npolicy = fast\n", -EBADMSG, 2, "policy: 'fast'" },
		{ "[tune]\nadvisor = maybe\n", -EBADMSG, 2, "advisor: 'maybe'" },
		{ "[tune]\ninterval 5\n", -EBADMSG, 2, "expected \"setting = value\"" },
		{ "[knobs]\n", -EBADMSG, 1, "unknown section [knobs]" },
	};
	struct ksm_ctx *ctx = log_ctx();

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int64_t set[KSM_TUNE_S_NR];
		char *path = tmpfile_with(rows[i].text), prefix[128];
		unsigned int line = 0;
		int r;

		ksm_tune_defaults(set);
		r = ksm_tune_parse_file(ctx, path, KSM_TUNE_FORMAT_AUTO, set, &line);
		ck_assert_msg(r == rows[i].err, "row %zu: %d", i, r);
		ck_assert_int_eq(line, rows[i].line);
		snprintf(prefix, sizeof(prefix), "%s:%u: ", path, rows[i].line);
		ck_assert_msg(strncmp(ksm_strerror(r), prefix, strlen(prefix)) == 0, "%s", ksm_strerror(r));
		ck_assert_msg(strstr(ksm_strerror(r), rows[i].msg), "row %zu: %s", i, ksm_strerror(r));
		unlink(path);
		free(path);
	}
	ksm_unref(ctx);
}
END_TEST

/* A byte order mark some editors write is ignored, in both formats. */
START_TEST(byte_order_mark)
{
	struct ksm_ctx *ctx = log_ctx();
	const char *texts[] = { "\xef\xbb\xbfKSM_MONITOR_INTERVAL=9\n", "\xef\xbb\xbf[tune]\ninterval = 9\n" };

	for (int i = 0; i < 2; i++) {
		int64_t set[KSM_TUNE_S_NR];
		char *path = tmpfile_with(texts[i]);
		unsigned int line;

		ksm_tune_defaults(set);
		ck_assert_int_eq(ksm_tune_parse_file(ctx, path, KSM_TUNE_FORMAT_AUTO, set, &line), 1);
		ck_assert_int_eq(set[KSM_TUNE_S_INTERVAL], 9);
		unlink(path);
		free(path);
	}
	ck_assert_str_eq(logged, "");
	ksm_unref(ctx);
}
END_TEST

/* ksm.conf: the knob loader skips [tune], the tuner reads only [tune]. */
START_TEST(ksm_conf_sections)
{
	char *root = tu_sysroot_copy("6.18"), *path, dir[512];
	struct ksm_ctx *ctx;
	struct ksm_txn *txn;
	struct ksm_tune *tune;
	unsigned int line;
	int64_t v;

	ck_assert_int_eq(ksm_new_at(&ctx, root), 0);
	ksm_set_log_fn(ctx, capture, NULL);
	ksm_set_log_priority(ctx, LOG_DEBUG);
	logged[0] = '\0';
	path = tmpfile_with("pages_to_scan = 500\nsleep_millisecs = 30\n\n[tune]\n"
			    "policy = ksmtuned\ninterval = 5 # seconds\nrestore = no\nmetric = vsz\n"
			    "advisor = yes\nwhatever = 1\n");
	ck_assert_int_eq(ksm_txn_new(ctx, &txn), 0);
	ck_assert_int_eq(ksm_profile_load(txn, path, &line), 2);
	ksm_txn_unref(txn);

	ck_assert_int_eq(ksm_tune_new(ctx, &tune), 0);
	ck_assert_int_eq(ksm_tune_load(tune, path, &line), 5);
	ck_assert_int_eq(ksm_tune_get(tune, "policy", &v), 0);
	ck_assert_int_eq(v, KSM_TUNE_POLICY_KSMTUNED);
	ck_assert_int_eq(ksm_tune_get(tune, "interval", &v), 0);
	ck_assert_int_eq(v, 5);
	ck_assert_int_eq(ksm_tune_get(tune, "restore", &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(ksm_tune_get(tune, "metric", &v), 0);
	ck_assert_int_eq(v, KSM_TUNE_METRIC_VSZ);
	ck_assert_int_eq(ksm_tune_get(tune, "nonsense", &v), -ENOENT);
	ck_assert_msg(strstr(logged, ":10: unknown setting 'whatever' in [tune], ignored"), "%s", logged);

	/* A failed load keeps the settings. */
	unlink(path);
	ck_assert_int_eq(ksm_tune_load(tune, path, &line), -ENOENT);
	ck_assert_int_eq(ksm_tune_get(tune, "interval", &v), 0);
	ck_assert_int_eq(v, 5);

	/* NULL: <sysroot>/etc/ksmtuned.conf, then [tune] of the default profile. */
	snprintf(dir, sizeof(dir), "%s%s", root, SYSCONFDIR);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	tu_write(dir, "ksmtuned.conf", "KSM_MONITOR_INTERVAL=7\nKSM_NPAGES_MAX=999\n");
	ck_assert_int_eq(ksm_tune_load(tune, NULL, &line), 2);
	ck_assert_int_eq(ksm_tune_get(tune, "interval", &v), 0);
	ck_assert_int_eq(v, 7);
	tu_write(dir, "ksm.conf", "run = 1\n[tune]\nnpages_max = 3000\n");
	ck_assert_int_eq(ksm_tune_load(tune, NULL, &line), 3);
	ck_assert_int_eq(ksm_tune_get(tune, "interval", &v), 0);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(ksm_tune_get(tune, "npages_max", &v), 0);
	ck_assert_int_eq(v, 3000);
	/* ... and a knob-only ksm.conf is no ksmtuned.conf: nothing to warn about. */
	logged[0] = '\0';
	tu_write(dir, "ksm.conf", "pages_to_scan = 100\n");
	ck_assert_int_eq(ksm_tune_load(tune, NULL, &line), 2);
	ck_assert_str_eq(logged, "");

	ksm_tune_unref(tune);
	ksm_unref(ctx);
	free(path);
	tu_rmtree(root);
	free(root);
}
END_TEST

/* ------------------------------------------------------------ one decision */

/*
 * The 6.18 tree: four processes with memory registered (ksm_stat), a
 * meminfo under pressure. A dry run writes nothing; a decision writes run,
 * pages_to_scan and sleep_millisecs; restore puts them back; run=2 is
 * never touched.
 */
START_TEST(decide_on_sysroot)
{
	char *root = tu_sysroot_copy("6.18"), *v;
	struct ksm_tune_decision d;
	struct ksm_ctx *ctx;
	struct ksm_tune *tune;

	tu_write(root, "proc/meminfo",
		 "MemTotal:       16777216 kB\nMemFree:          500000 kB\n"
		 "MemAvailable:    1000000 kB\nBuffers:           10000 kB\nCached:           200000 kB\n");
	for (int pid = 2001; pid <= 2004; pid++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "proc/%d/statm", pid);
		tu_write(root, rel, "300000 262144 1000 10 0 200000 0\n"); /* 1 GiB resident */
	}
	tu_write(root, "sys/kernel/mm/ksm/run", "0\n");
	ck_assert_int_eq(ksm_new_at(&ctx, root), 0);
	ck_assert_int_eq(ksm_tune_new(ctx, &tune), 0);

	ck_assert_int_eq(ksm_tune_decide(tune, KSM_TUNE_DRY_RUN, &d, sizeof(d)), 0);
	ck_assert_int_eq(d.run, 1);
	ck_assert_int_eq(d.pages_to_scan, 300);
	ck_assert_int_eq(d.sleep_millisecs, 10);
	ck_assert_int_eq(d.advisor_mode, -1);
	ck_assert_int_eq(d.written, 0);
	ck_assert_int_eq(d.mem_total, 16777216LL * 1024);
	ck_assert_int_eq(d.mem_available, 1000000LL * 1024);
	ck_assert_int_eq(d.mem_free, 710000LL * 1024);
	ck_assert_int_eq(d.threshold, 3355443LL * 1024);
	ck_assert_msg(d.registered_procs >= 4, "%lld", (long long)d.registered_procs);
	ck_assert_int_ge(d.committed, 4LL << 30);
	ck_assert_double_eq(d.psi_some_avg10, -1);
	ck_assert(strstr(d.reason, "below threshold"));
	v = tu_read(root, "sys/kernel/mm/ksm/run");
	ck_assert_str_eq(v, "0\n");
	free(v);

	ck_assert_int_eq(ksm_tune_decide(tune, 0, &d, sizeof(d)), 0);
	ck_assert_int_eq(d.written, 3);
	v = tu_read(root, "sys/kernel/mm/ksm/pages_to_scan");
	ck_assert_str_eq(v, "300\n");
	free(v);
	v = tu_read(root, "sys/kernel/mm/ksm/sleep_millisecs");
	ck_assert_str_eq(v, "10\n");
	free(v);
	v = tu_read(root, "sys/kernel/mm/ksm/run");
	ck_assert_str_eq(v, "1\n");
	free(v);
	/* the second boost carries npages over */
	ck_assert_int_eq(ksm_tune_decide(tune, 0, &d, sizeof(d)), 0);
	ck_assert_int_eq(d.pages_to_scan, 600);
	ck_assert_int_eq(d.written, 1);

	ck_assert_int_eq(ksm_tune_restore(tune), 3);
	v = tu_read(root, "sys/kernel/mm/ksm/pages_to_scan");
	ck_assert_str_eq(v, "100\n");
	free(v);
	v = tu_read(root, "sys/kernel/mm/ksm/run");
	ck_assert_str_eq(v, "0\n");
	free(v);
	ck_assert_int_eq(ksm_tune_restore(tune), 0);

	/* The administrator disables KSM: nothing is written, restore keeps run=2. */
	ck_assert_int_eq(ksm_tune_decide(tune, 0, &d, sizeof(d)), 0);
	tu_write(root, "sys/kernel/mm/ksm/run", "2\n");
	ck_assert_int_eq(ksm_tune_decide(tune, 0, &d, sizeof(d)), 0);
	ck_assert_int_eq(d.run, -1);
	ck_assert_int_eq(d.written, 0);
	ck_assert(strstr(d.reason, "run=2"));
	ck_assert_int_eq(ksm_tune_restore(tune), 2);
	v = tu_read(root, "sys/kernel/mm/ksm/run");
	ck_assert_str_eq(v, "2\n");
	free(v);

	/* A smaller struct of an older caller gets exactly its size. */
	{
		char small[16];
		memset(small, 0x55, sizeof(small));
		ck_assert_int_eq(ksm_tune_decide(tune, KSM_TUNE_DRY_RUN, (void *)small, 8), 0);
		ck_assert_int_eq(small[8], 0x55);
	}
	ksm_tune_unref(tune);
	ksm_unref(ctx);
	tu_rmtree(root);
	free(root);
}
END_TEST

/*
 * Restore writes back only the knobs that still hold what the tuner set;
 * KSM disabled by policy (run = 2 in ksm.conf) is left alone even while
 * run reads 1, and the profile is read again when it changes.
 */
START_TEST(restore_and_policy)
{
	char *root = tu_sysroot_copy("6.18"), *v;
	struct ksm_tune_decision d;
	struct ksm_ctx *ctx;
	struct ksm_tune *tune;

	tu_write(root, "proc/meminfo",
		 "MemTotal:       16777216 kB\nMemFree:          500000 kB\n"
		 "MemAvailable:    1000000 kB\n");
	tu_write(root, "sys/kernel/mm/ksm/run", "0\n");
	ck_assert_int_eq(ksm_new_at(&ctx, root), 0);
	ck_assert_int_eq(ksm_tune_new(ctx, &tune), 0);
	ck_assert_int_eq(ksm_tune_decide(tune, 0, &d, sizeof(d)), 0);
	ck_assert_int_eq(d.written, 3);
	/* someone else sets pages_to_scan: it stays at exit */
	tu_write(root, "sys/kernel/mm/ksm/pages_to_scan", "4242\n");
	ck_assert_int_eq(ksm_tune_restore(tune), 2);
	v = tu_read(root, "sys/kernel/mm/ksm/pages_to_scan");
	ck_assert_str_eq(v, "4242\n");
	free(v);
	v = tu_read(root, "sys/kernel/mm/ksm/run");
	ck_assert_str_eq(v, "0\n");
	free(v);
	v = tu_read(root, "sys/kernel/mm/ksm/sleep_millisecs");
	ck_assert_str_eq(v, "20\n");
	free(v);

	/* disabled by policy: nothing written, although run reads 0, not 2 */
	ck_assert_int_eq(mkdir(strcat(strcpy((char[4200]){ 0 }, root), "/etc"), 0755), 0);
	tu_write(root, "etc/ksm.conf", "# disabled by policy since 2026-01-01T00:00:00Z\nrun = 2\n");
	ck_assert_int_eq(ksm_tune_decide(tune, 0, &d, sizeof(d)), 0);
	ck_assert_int_eq(d.written, 0);
	ck_assert_int_eq(d.run, -1);
	ck_assert_msg(strstr(d.reason, "disabled by policy"), "%s", d.reason);
	ck_assert_int_eq(ksm_tune_decide(tune, 0, &d, sizeof(d)), 0); /* cached */
	ck_assert_int_eq(d.written, 0);
	/* enabled again (the file changes): the tuner decides again */
	tu_write(root, "etc/ksm.conf", "pages_to_scan = 100\n");
	ck_assert_int_eq(ksm_tune_decide(tune, 0, &d, sizeof(d)), 0);
	ck_assert_int_eq(d.run, 1);
	ck_assert_int_ge(d.written, 1);
	ck_assert_int_eq(ksm_tune_restore(tune), 3);

	ksm_tune_unref(tune);
	ksm_unref(ctx);
	tu_rmtree(root);
	free(root);
}
END_TEST

/* On another system root there is no proc connector: poll /proc/loadavg
 * at least twice a second, and a registered new process is found. */
START_TEST(next_without_connector)
{
	char *root = tu_sysroot_copy("6.18");
	struct ksm_ctx *ctx;
	struct ksm_tune *tune;
	int fd = 42, due;

	tu_write(root, "proc/loadavg", "0.00 0.00 0.00 1/100 3000\n");
	ck_assert_int_eq(ksm_new_at(&ctx, root), 0);
	ck_assert_int_eq(ksm_tune_new(ctx, &tune), 0);
	ck_assert_int_eq(ksm_tune_next(tune, NULL), -EINVAL);
	due = ksm_tune_next(tune, &fd);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_ge(due, 0);
	ck_assert_int_le(due, 500);
	ck_assert_int_eq(ksm_tune_poll(tune), 0);
	/* a new process, registered: looked at from 250 ms of age */
	ck_assert_int_eq(mkdir(strcat(strcpy((char[4200]){ 0 }, root), "/proc/3001"), 0755), 0);
	tu_write(root, "proc/3001/ksm_stat", "ksm_rmap_items 0\nksm_merge_any: no\nksm_mergeable: yes\n");
	tu_write(root, "proc/loadavg", "0.00 0.00 0.00 1/101 3001\n");
	ck_assert_int_eq(ksm_tune_poll(tune), 0); /* noted, not looked at yet */
	due = ksm_tune_next(tune, &fd);
	ck_assert_int_ge(due, 0); /* due when it is 250 ms old */
	ck_assert_int_le(due, 250);
	usleep(260000);
	ck_assert_int_eq(ksm_tune_poll(tune), KSM_TUNE_POLL_NEW_PROCESS);
	ksm_tune_unref(tune);
	ksm_unref(ctx);
	tu_rmtree(root);
	free(root);
}
END_TEST

START_TEST(psi_parsing)
{
	char *root = tu_sysroot_copy("6.18");
	struct ksm_tune_decision d;
	struct ksm_ctx *ctx;
	struct ksm_tune *tune;

	tu_write(root, "proc/meminfo", "MemTotal: 16777216 kB\nMemFree: 16000000 kB\n");
	ck_assert_int_eq(mkdir(strcat(strcpy((char[512]){ 0 }, root), "/proc/pressure"), 0755), 0);
	tu_write(root, "proc/pressure/memory",
		 "some avg10=12.50 avg60=1.00 avg300=0.10 total=123\n"
		 "full avg10=3.25 avg60=0.00 avg300=0.00 total=0\n");
	ck_assert_int_eq(ksm_new_at(&ctx, root), 0);
	ck_assert_int_eq(ksm_tune_new(ctx, &tune), 0);
	ck_assert_int_eq(ksm_tune_decide(tune, KSM_TUNE_DRY_RUN, &d, sizeof(d)), 0);
	ck_assert_double_eq_tol(d.psi_some_avg10, 12.5, 1e-9);
	ck_assert_double_eq_tol(d.psi_full_avg10, 3.25, 1e-9);
	ck_assert_int_eq(d.mem_available, -1);
	ck_assert_int_eq(d.run, 1); /* PSI 12.5% >= 10%: boost */
	ck_assert(strstr(d.reason, "PSI"));
	ksm_tune_unref(tune);
	ksm_unref(ctx);
	tu_rmtree(root);
	free(root);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tune");
	TCase *tc = tcase_create("policy");

	tcase_add_test(tc, ksmtuned_sequence);
	tcase_add_test(tc, ksmtuned_sleep_and_threshold);
	tcase_add_test(tc, disabled_is_left_alone);
	tcase_add_test(tc, native_nothing_registered);
	tcase_add_test(tc, native_no_pressure);
	tcase_add_test(tc, native_available_not_free);
	tcase_add_test(tc, native_psi);
	tcase_add_test(tc, native_committed_decays);
	tcase_add_test(tc, native_convergence);
	tcase_add_test(tc, native_new_process);
	tcase_add_test(tc, native_catchup);
	tcase_add_test(tc, native_cpu_budget);
	tcase_add_test(tc, native_advisor);
	suite_add_tcase(s, tc);
	tc = tcase_create("settings");
	tcase_add_test(tc, shipped_files);
	tcase_add_test(tc, edited_file);
	tcase_add_test(tc, errors_with_lines);
	tcase_add_test(tc, byte_order_mark);
	tcase_add_test(tc, ksm_conf_sections);
	suite_add_tcase(s, tc);
	tc = tcase_create("decide");
	tcase_add_test(tc, decide_on_sysroot);
	tcase_add_test(tc, psi_parsing);
	tcase_add_test(tc, restore_and_policy);
	tcase_add_test(tc, next_without_connector);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(suite());
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel suite: libksm against the running kernel's /sys/kernel/mm/ksm.
 *
 * Needs root and KSM; exits 77 (skipped) otherwise. Every result of the
 * library is compared with the raw sysfs files, read and parsed here
 * independently of the library. KSM state is global to the machine: the
 * guard (guard.c) snapshots every writable knob before the first test and
 * restores it
 *  - in each test child's checked setup and teardown (the teardown also
 *    fails the test if any file differs from the snapshot afterwards),
 *  - in the runner process after every test (unchecked teardown of the
 *    one-test TCase): a failed check assertion _exit()s the child before the
 *    checked teardown, and a killed or timed-out child runs no teardown,
 *  - at exit, and on SIGINT/SIGTERM/SIGHUP of the runner.
 *
 * Expected numbers come from docs/kernel-ksm-abi.md and docs/ksm-behaviour.md
 * (measured on 6.18).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksm.h"
#include "guard.h"

#ifndef MADV_MERGEABLE
#define MADV_MERGEABLE 12
#endif

/* PR_GET_MEMORY_MERGE, spelled as a number: older headers lack it. */
#define PRCTL_GET_MEMORY_MERGE 68

#define BIT(k) (UINT64_C(1) << (k))

/* The 24 files of /sys/kernel/mm/ksm, independently of the library's table. */
static const struct {
	const char *name;
	enum ksm_knob knob;
	bool tunable;
} knobs[] = {
	{ "run", KSM_KNOB_RUN, true },
	{ "pages_to_scan", KSM_KNOB_PAGES_TO_SCAN, true },
	{ "sleep_millisecs", KSM_KNOB_SLEEP_MILLISECS, true },
	{ "merge_across_nodes", KSM_KNOB_MERGE_ACROSS_NODES, true },
	{ "use_zero_pages", KSM_KNOB_USE_ZERO_PAGES, true },
	{ "max_page_sharing", KSM_KNOB_MAX_PAGE_SHARING, true },
	{ "stable_node_chains_prune_millisecs", KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, true },
	{ "smart_scan", KSM_KNOB_SMART_SCAN, true },
	{ "advisor_mode", KSM_KNOB_ADVISOR_MODE, true },
	{ "advisor_max_cpu", KSM_KNOB_ADVISOR_MAX_CPU, true },
	{ "advisor_min_pages_to_scan", KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, true },
	{ "advisor_max_pages_to_scan", KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, true },
	{ "advisor_target_scan_time", KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, true },
	{ "pages_shared", KSM_KNOB_PAGES_SHARED, false },
	{ "pages_sharing", KSM_KNOB_PAGES_SHARING, false },
	{ "pages_unshared", KSM_KNOB_PAGES_UNSHARED, false },
	{ "pages_volatile", KSM_KNOB_PAGES_VOLATILE, false },
	{ "pages_scanned", KSM_KNOB_PAGES_SCANNED, false },
	{ "pages_skipped", KSM_KNOB_PAGES_SKIPPED, false },
	{ "full_scans", KSM_KNOB_FULL_SCANS, false },
	{ "stable_node_chains", KSM_KNOB_STABLE_NODE_CHAINS, false },
	{ "stable_node_dups", KSM_KNOB_STABLE_NODE_DUPS, false },
	{ "ksm_zero_pages", KSM_KNOB_KSM_ZERO_PAGES, false },
	{ "general_profit", KSM_KNOB_GENERAL_PROFIT, false },
};
#define NKNOBS ((int)(sizeof(knobs) / sizeof(knobs[0])))

/* ------------------------------------------------------------------------ */
/* raw sysfs access, independent of the library                             */

/* advisor_mode reads "[none] scan-time" or "none [scan-time]". */
static int64_t raw_advisor_mode(void)
{
	char buf[128];

	raw_text("advisor_mode", buf, sizeof(buf));
	if (strcmp(buf, "[none] scan-time\n") == 0)
		return KSM_ADVISOR_NONE;
	if (strcmp(buf, "none [scan-time]\n") == 0)
		return KSM_ADVISOR_SCAN_TIME;
	ck_abort_msg("advisor_mode holds unexpected text '%s'", buf);
	return -1;
}

static int64_t raw_value(const char *name)
{
	if (strcmp(name, "advisor_mode") == 0)
		return raw_advisor_mode();
	if (strcmp(name, "run") == 0)
		/* KSM_RUN_OFFLINE (4) is set while memory is hot-removed */
		return raw_num(name) & 3;
	return raw_num(name);
}

static uint64_t mode_bits(const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", GUARD_KSM_DIR, name);
	ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
	return st.st_mode;
}

/* ------------------------------------------------------------------------ */

/* What other processes have merged (guard_settle()), which the counts add to. */
static struct guard_counts others;

/*
 * reset_counters(), then let the pages of other processes merge again
 * (guard_settle()) into @others, which the counts of a test add to.
 */
static void reset_settled(void)
{
	reset_counters();
	guard_settle(&others);
}

struct area {
	unsigned char *p;
	size_t len;
	size_t pages;
};

/* @pages private anonymous pages, all with the same (non-zero) content, registered. */
static void area_map(struct area *a, size_t pages)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct timespec ts;
	uint64_t seed, *w;

	a->pages = pages;
	a->len = pages * (size_t)ps;
	a->p = mmap(NULL, a->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(a->p != MAP_FAILED, "mmap %zu pages: %s", pages, strerror(errno));
	(void)madvise(a->p, a->len, MADV_NOHUGEPAGE);

	/* content unique to this run, so that no foreign page merges with ours */
	clock_gettime(CLOCK_REALTIME, &ts);
	seed = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ pages;
	w = (uint64_t *)a->p;
	for (size_t i = 0; i < (size_t)ps / sizeof(*w); i++)
		w[i] = (seed + i) * UINT64_C(0x9E3779B97F4A7C15) | 1;
	for (size_t i = 1; i < pages; i++)
		memcpy(a->p + i * (size_t)ps, a->p, (size_t)ps);
	ck_assert_msg(madvise(a->p, a->len, MADV_MERGEABLE) == 0, "MADV_MERGEABLE: %s", strerror(errno));
}

static void area_unmap(struct area *a)
{
	if (a->p && a->p != MAP_FAILED)
		munmap(a->p, a->len);
	a->p = NULL;
}

/* Fast scanning through the library (the knobs under test). */
static void fast_scan(struct ksm_ctx *ctx)
{
	int r;

	if (raw_exists("advisor_mode") && raw_advisor_mode() != KSM_ADVISOR_NONE)
		raw_write_ok("advisor_mode", "none");
	r = ksm_set(ctx, KSM_KNOB_PAGES_TO_SCAN, 10000);
	ck_assert_msg(r == 0, "ksm_set(pages_to_scan, 10000) = %d", r);
	r = ksm_set(ctx, KSM_KNOB_SLEEP_MILLISECS, 0);
	ck_assert_msg(r == 0, "ksm_set(sleep_millisecs, 0) = %d", r);
}

/*
 * Merge @a for real: pages_to_scan=10000, sleep_millisecs=0, run=1, then wait
 * (10 s at most) until pages_shared/pages_sharing show the kernel's counts
 * on top of what other processes merged (reset_settled() first).
 */
static void area_merge(struct ksm_ctx *ctx, struct area *a)
{
	int64_t shared, sharing;
	double t;
	int r;

	expected_counts((int64_t)a->pages, max_page_sharing(), &shared, &sharing, NULL);
	fast_scan(ctx);
	r = ksm_start(ctx);
	ck_assert_msg(r == 0, "ksm_start = %d", r);
	if (!wait_counts(others.shared + shared, others.sharing + sharing, 10.0, &t))
		ck_abort_msg("%zu identical pages: pages_shared=%" PRId64 " pages_sharing=%" PRId64
			     " after %.1f s (full_scans %" PRId64 "), expected %" PRId64 "/%" PRId64
			     " + %" PRId64 "/%" PRId64 " of other processes",
			     a->pages, raw_num("pages_shared"), raw_num("pages_sharing"), t,
			     raw_num("full_scans"), shared, sharing, others.shared, others.sharing);
	printf("    merged %zu pages into %" PRId64 "/%" PRId64 " in %.3f s (full_scans %" PRId64 ")\n",
	       a->pages, shared, sharing, t, raw_num("full_scans"));
	fflush(stdout);
}

/* Call @expr, expect @err, and the raw file @name unchanged (byte for byte). */
#define EXPECT_REJECTED(name, expr, err)                                                   \
	do {                                                                               \
		char before_[128], after_[128];                                            \
		int r_;                                                                    \
		raw_text(name, before_, sizeof(before_));                                  \
		r_ = (expr);                                                               \
		raw_text(name, after_, sizeof(after_));                                    \
		ck_assert_msg(r_ == (err), "%s = %d (%s), expected %d (%s)", #expr, r_,     \
			      strerror(-r_), (err), strerror(-(err)));                     \
		ck_assert_msg(strcmp(before_, after_) == 0, "%s: %s changed from '%s' to '%s'", \
			      #expr, name, before_, after_);                                \
	} while (0)

/* ------------------------------------------------------------------------ */
/* 1. reading                                                                */

START_TEST(test_get_matches_raw)
{
	struct ksm_ctx *ctx = new_ctx();
	struct ksm_stats st;
	uint64_t present = 0;
	int64_t v;
	int r;

	ck_assert_int_eq(ksm_knob_count(), NKNOBS);
	/* ksmd stopped and nothing of ours registered: no counter moves */
	if (raw_value("run") == KSM_RUN_MERGE)
		raw_write_ok("run", "0");

	for (int i = 0; i < NKNOBS; i++) {
		const char *name = knobs[i].name;

		ck_assert_int_eq(ksm_knob_lookup(name), knobs[i].knob);
		r = ksm_get(ctx, knobs[i].knob, &v);
		if (!raw_exists(name)) {
			ck_assert_msg(r == -ENOENT, "ksm_get(%s) = %d for a missing file", name, r);
			continue;
		}
		present |= BIT(knobs[i].knob);
		ck_assert_msg(r == 0, "ksm_get(%s) = %d (%s)", name, r, strerror(-r));
		ck_assert_msg(v == raw_value(name), "ksm_get(%s) = %" PRId64 ", raw %" PRId64, name, v,
			      raw_value(name));
	}
	ck_assert_msg(present & BIT(KSM_KNOB_RUN), "no run file");

	if (raw_exists("advisor_mode")) {
		char buf[64];
		raw_text("advisor_mode", buf, sizeof(buf));
		if (strcmp(buf, "[none] scan-time\n") == 0) {
			ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_ADVISOR_MODE, &v), 0);
			ck_assert_int_eq(v, KSM_ADVISOR_NONE);
		}
	}

	memset(&st, 0xa5, sizeof(st)); /* it needs no initialisation */
	r = ksm_stats_read(ctx, &st, sizeof(st));
	ck_assert_msg(r == 0, "ksm_stats_read = %d", r);
	ck_assert_msg(st.present == present, "present = %#" PRIx64 ", files %#" PRIx64, st.present, present);
	for (int i = 0; i < NKNOBS; i++) {
		r = ksm_stats_value(&st, knobs[i].knob, &v);
		if (!(present & BIT(knobs[i].knob))) {
			ck_assert_int_eq(r, -ENOENT);
			continue;
		}
		ck_assert_int_eq(r, 0);
		ck_assert_msg(v == raw_value(knobs[i].name), "stats.%s = %" PRId64 ", raw %" PRId64,
			      knobs[i].name, v, raw_value(knobs[i].name));
	}
	/* the named fields too */
	ck_assert_int_eq(st.run, raw_value("run"));
	ck_assert_int_eq(st.pages_to_scan, raw_num("pages_to_scan"));
	ck_assert_int_eq(st.sleep_millisecs, raw_num("sleep_millisecs"));
	ck_assert_int_eq(st.pages_shared, raw_num("pages_shared"));
	ck_assert_int_eq(st.pages_sharing, raw_num("pages_sharing"));
	ck_assert_int_eq(st.pages_unshared, raw_num("pages_unshared"));
	ck_assert_int_eq(st.pages_volatile, raw_num("pages_volatile"));
	ck_assert_int_eq(st.full_scans, raw_num("full_scans"));
	if (raw_exists("general_profit"))
		ck_assert_int_eq(st.general_profit, raw_num("general_profit"));
	if (raw_exists("pages_scanned"))
		ck_assert_int_eq(st.pages_scanned, raw_num("pages_scanned"));
	if (raw_exists("advisor_mode"))
		ck_assert_int_eq(st.advisor_mode, raw_advisor_mode());

	/* derived figures */
	ck_assert_int_eq(st.page_size, sysconf(_SC_PAGESIZE));
	ck_assert_int_eq(st.saved_pages, st.pages_sharing + st.ksm_zero_pages);
	ck_assert_int_eq(st.saved_bytes, st.saved_pages * st.page_size);
	if (st.pages_shared == 0)
		ck_assert(st.sharing_ratio == 0.0);
	else
		ck_assert(fabs(st.sharing_ratio - (double)st.pages_sharing / (double)st.pages_shared) < 1e-9);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 2. set/get round trip                                                     */

START_TEST(test_set_roundtrip)
{
	static const struct {
		enum ksm_knob knob;
		const char *name;
		int64_t a, b; /* a, or b if a is the current value */
	} vals[] = {
		{ KSM_KNOB_PAGES_TO_SCAN, "pages_to_scan", 1234, 1235 },
		{ KSM_KNOB_SLEEP_MILLISECS, "sleep_millisecs", 7, 8 },
		{ KSM_KNOB_USE_ZERO_PAGES, "use_zero_pages", 1, 0 },
		{ KSM_KNOB_SMART_SCAN, "smart_scan", 0, 1 },
		{ KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, "stable_node_chains_prune_millisecs", 1500, 1600 },
		{ KSM_KNOB_ADVISOR_MAX_CPU, "advisor_max_cpu", 55, 56 },
		{ KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, "advisor_min_pages_to_scan", 600, 601 },
		{ KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, "advisor_max_pages_to_scan", 20000, 20001 },
		{ KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, "advisor_target_scan_time", 150, 151 },
		/* these two need no KSM pages: run=2 below */
		{ KSM_KNOB_MAX_PAGE_SHARING, "max_page_sharing", 300, 301 },
		{ KSM_KNOB_MERGE_ACROSS_NODES, "merge_across_nodes", 0, 1 },
	};
	struct ksm_ctx *ctx = new_ctx();
	int64_t v;
	int r, done = 0;

	/* every writable file is a tunable of the table and the reverse */
	for (int i = 0; i < NKNOBS; i++) {
		const struct ksm_knob_info *info = ksm_knob_info(knobs[i].knob);

		ck_assert_ptr_nonnull(info);
		ck_assert_str_eq(info->name, knobs[i].name);
		ck_assert_int_eq(info->kind == KSM_KIND_TUNABLE, knobs[i].tunable);
		if (raw_exists(knobs[i].name))
			ck_assert_msg(((mode_bits(knobs[i].name) & S_IWUSR) != 0) == knobs[i].tunable,
				      "%s: mode %o", knobs[i].name, (unsigned)mode_bits(knobs[i].name) & 0777);
	}

	reset_counters();
	if (raw_exists("advisor_mode") && raw_advisor_mode() != KSM_ADVISOR_NONE)
		raw_write_ok("advisor_mode", "none");

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		int64_t want;

		if (!raw_exists(vals[i].name)) {
			ck_assert_int_eq(ksm_set(ctx, vals[i].knob, vals[i].a), -ENOENT);
			continue;
		}
		want = raw_num(vals[i].name) != vals[i].a ? vals[i].a : vals[i].b;
		r = ksm_set(ctx, vals[i].knob, want);
		ck_assert_msg(r == 0, "ksm_set(%s, %" PRId64 ") = %d (%s)", vals[i].name, want, r, strerror(-r));
		ck_assert_msg(raw_num(vals[i].name) == want, "%s reads %" PRId64 " after ksm_set(%" PRId64 ")",
			      vals[i].name, raw_num(vals[i].name), want);
		ck_assert_int_eq(ksm_get(ctx, vals[i].knob, &v), 0);
		ck_assert_int_eq(v, want);
		done++;
	}
	printf("    %d tunables round-tripped\n", done);

	if (raw_exists("advisor_mode")) {
		char buf[64];

		ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME), 0);
		raw_text("advisor_mode", buf, sizeof(buf));
		ck_assert_str_eq(buf, "none [scan-time]\n");
		ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_ADVISOR_MODE, &v), 0);
		ck_assert_int_eq(v, KSM_ADVISOR_SCAN_TIME);
		/* switching to scan-time starts from advisor_min_pages_to_scan */
		ck_assert_int_eq(raw_num("pages_to_scan"), raw_num("advisor_min_pages_to_scan"));

		ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE), 0);
		raw_text("advisor_mode", buf, sizeof(buf));
		ck_assert_str_eq(buf, "[none] scan-time\n");
		ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_ADVISOR_MODE, &v), 0);
		ck_assert_int_eq(v, KSM_ADVISOR_NONE);
		/* and switching back to none resets pages_to_scan to 100 */
		ck_assert_int_eq(raw_num("pages_to_scan"), 100);

		ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_ADVISOR_MODE, "scan-time"), 0);
		ck_assert_int_eq(raw_advisor_mode(), KSM_ADVISOR_SCAN_TIME);
		ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_ADVISOR_MODE, "none"), 0);
		ck_assert_int_eq(raw_advisor_mode(), KSM_ADVISOR_NONE);
	}

	/* the text forms */
	ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_SLEEP_MILLISECS, " 9\n"), 0);
	ck_assert_int_eq(raw_num("sleep_millisecs"), 9);
	if (raw_exists("use_zero_pages")) {
		ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_USE_ZERO_PAGES, "yes"), 0);
		ck_assert_int_eq(raw_num("use_zero_pages"), 1);
		ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_USE_ZERO_PAGES, "off"), 0);
		ck_assert_int_eq(raw_num("use_zero_pages"), 0);
	}
	ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_RUN, "stop"), 0);
	ck_assert_int_eq(raw_value("run"), KSM_RUN_STOP);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 3. invalid values                                                         */

START_TEST(test_set_invalid)
{
	struct ksm_ctx *ctx = new_ctx();

	EXPECT_REJECTED("run", ksm_set(ctx, KSM_KNOB_RUN, 3), -EINVAL);
	EXPECT_REJECTED("run", ksm_set(ctx, KSM_KNOB_RUN, -1), -EINVAL);
	EXPECT_REJECTED("run", ksm_set_text(ctx, KSM_KNOB_RUN, "3"), -EINVAL);
	EXPECT_REJECTED("run", ksm_set_text(ctx, KSM_KNOB_RUN, "abc"), -EINVAL);
	if (raw_exists("max_page_sharing")) {
		EXPECT_REJECTED("max_page_sharing", ksm_set(ctx, KSM_KNOB_MAX_PAGE_SHARING, 1), -EINVAL);
		EXPECT_REJECTED("max_page_sharing", ksm_set_text(ctx, KSM_KNOB_MAX_PAGE_SHARING, "99999999999"), -EINVAL);
	}
	if (raw_exists("merge_across_nodes"))
		EXPECT_REJECTED("merge_across_nodes", ksm_set(ctx, KSM_KNOB_MERGE_ACROSS_NODES, 2), -EINVAL);
	EXPECT_REJECTED("pages_to_scan", ksm_set(ctx, KSM_KNOB_PAGES_TO_SCAN, INT64_C(4294967296)), -EINVAL);
	EXPECT_REJECTED("pages_to_scan", ksm_set_text(ctx, KSM_KNOB_PAGES_TO_SCAN, "4294967296"), -EINVAL);
	EXPECT_REJECTED("pages_to_scan", ksm_set(ctx, KSM_KNOB_PAGES_TO_SCAN, -1), -EINVAL);
	EXPECT_REJECTED("pages_to_scan", ksm_set_text(ctx, KSM_KNOB_PAGES_TO_SCAN, "-1"), -EINVAL);
	EXPECT_REJECTED("pages_to_scan", ksm_set_text(ctx, KSM_KNOB_PAGES_TO_SCAN, "abc"), -EINVAL);
	EXPECT_REJECTED("pages_to_scan", ksm_set_text(ctx, KSM_KNOB_PAGES_TO_SCAN, "12abc"), -EINVAL);
	EXPECT_REJECTED("pages_to_scan", ksm_set_text(ctx, KSM_KNOB_PAGES_TO_SCAN, "0x10"), -EINVAL);
	EXPECT_REJECTED("sleep_millisecs", ksm_set_text(ctx, KSM_KNOB_SLEEP_MILLISECS, ""), -EINVAL);
	EXPECT_REJECTED("sleep_millisecs", ksm_set_text(ctx, KSM_KNOB_SLEEP_MILLISECS, "  "), -EINVAL);
	EXPECT_REJECTED("sleep_millisecs", ksm_set_text(ctx, KSM_KNOB_SLEEP_MILLISECS, "-1"), -EINVAL);
	if (raw_exists("use_zero_pages"))
		EXPECT_REJECTED("use_zero_pages", ksm_set(ctx, KSM_KNOB_USE_ZERO_PAGES, 2), -EINVAL);
	if (raw_exists("smart_scan"))
		EXPECT_REJECTED("smart_scan", ksm_set_text(ctx, KSM_KNOB_SMART_SCAN, "maybe"), -EINVAL);
	if (raw_exists("advisor_mode")) {
		EXPECT_REJECTED("advisor_mode", ksm_set(ctx, KSM_KNOB_ADVISOR_MODE, 2), -EINVAL);
		EXPECT_REJECTED("advisor_mode", ksm_set_text(ctx, KSM_KNOB_ADVISOR_MODE, "bogus"), -EINVAL);
		EXPECT_REJECTED("advisor_target_scan_time",
				ksm_set(ctx, KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, 0), -EINVAL);
	}

	/* The kernel agrees with the library's validation (ksm-behaviour.md §2.5). */
	EXPECT_REJECTED("run", guard_raw_write("run", "3"), -EINVAL);
	EXPECT_REJECTED("pages_to_scan", guard_raw_write("pages_to_scan", "4294967296"), -EINVAL);
	EXPECT_REJECTED("pages_to_scan", guard_raw_write("pages_to_scan", "-1"), -EINVAL);
	if (raw_exists("max_page_sharing"))
		EXPECT_REJECTED("max_page_sharing", guard_raw_write("max_page_sharing", "1"), -EINVAL);
	if (raw_exists("merge_across_nodes"))
		EXPECT_REJECTED("merge_across_nodes", guard_raw_write("merge_across_nodes", "2"), -EINVAL);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 4. EBUSY while pages are merged                                           */

START_TEST(test_ebusy_merged)
{
	struct ksm_ctx *ctx = new_ctx();
	struct area a = { 0 };
	bool mac = raw_exists("merge_across_nodes");
	bool mps = raw_exists("max_page_sharing");
	int64_t mac_cur = 0, mac_other = 0, mps_cur = 0, mps_other = 0;
	char text[32];

	if (!mac && !mps) {
		printf("    SKIP: neither merge_across_nodes nor max_page_sharing exists\n");
		ksm_unref(ctx);
		return;
	}
	reset_settled();
	area_map(&a, 100);
	area_merge(ctx, &a);
	/* ksmd stopped: the pages stay merged, the counts stay put */
	ck_assert_int_eq(ksm_stop(ctx), 0);
	ck_assert_int_eq(raw_num("pages_shared"), others.shared + 1);
	ck_assert_int_eq(raw_num("pages_sharing"), others.sharing + 99);

	if (mac) {
		mac_cur = raw_num("merge_across_nodes");
		mac_other = !mac_cur;
		EXPECT_REJECTED("merge_across_nodes", ksm_set(ctx, KSM_KNOB_MERGE_ACROSS_NODES, mac_other), -EBUSY);
		ck_assert_msg(strstr(ksm_strerror(-EBUSY), "merge_across_nodes") != NULL, "ksm_strerror(-EBUSY) = \"%s\"",
			      ksm_strerror(-EBUSY));
		/* the kernel itself refuses the same way */
		snprintf(text, sizeof(text), "%" PRId64, mac_other);
		EXPECT_REJECTED("merge_across_nodes", guard_raw_write("merge_across_nodes", text), -EBUSY);
		/* the current value is always accepted */
		ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MERGE_ACROSS_NODES, mac_cur), 0);
		ck_assert_int_eq(raw_num("merge_across_nodes"), mac_cur);
	}
	if (mps) {
		mps_cur = raw_num("max_page_sharing");
		mps_other = mps_cur != 512 ? 512 : 513;
		EXPECT_REJECTED("max_page_sharing", ksm_set(ctx, KSM_KNOB_MAX_PAGE_SHARING, mps_other), -EBUSY);
		snprintf(text, sizeof(text), "%" PRId64, mps_other);
		EXPECT_REJECTED("max_page_sharing", guard_raw_write("max_page_sharing", text), -EBUSY);
		ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MAX_PAGE_SHARING, mps_cur), 0);
		ck_assert_int_eq(raw_num("max_page_sharing"), mps_cur);
	}
	ck_assert_int_eq(raw_num("pages_sharing"), others.sharing + 99);

	ck_assert_int_eq(ksm_unmerge_all(ctx), 0);
	ck_assert_int_eq(raw_num("pages_shared"), 0);
	if (mac) {
		ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MERGE_ACROSS_NODES, mac_other), 0);
		ck_assert_int_eq(raw_num("merge_across_nodes"), mac_other);
	}
	if (mps) {
		ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MAX_PAGE_SHARING, mps_other), 0);
		ck_assert_int_eq(raw_num("max_page_sharing"), mps_other);
	}
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 5. the advisor holds pages_to_scan                                        */

START_TEST(test_advisor_busy)
{
	struct ksm_ctx *ctx = new_ctx();
	int64_t v;

	if (!raw_exists("advisor_mode")) {
		printf("    SKIP: no advisor_mode on this kernel\n");
		ksm_unref(ctx);
		return;
	}
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME), 0);
	ck_assert_int_eq(raw_advisor_mode(), KSM_ADVISOR_SCAN_TIME);
	ck_assert_int_eq(raw_num("pages_to_scan"), raw_num("advisor_min_pages_to_scan"));

	EXPECT_REJECTED("pages_to_scan", ksm_set(ctx, KSM_KNOB_PAGES_TO_SCAN, 1234), -EBUSY);
	ck_assert_msg(strstr(ksm_strerror(-EBUSY), "pages_to_scan") != NULL, "ksm_strerror(-EBUSY) = \"%s\"",
		      ksm_strerror(-EBUSY));
	EXPECT_REJECTED("pages_to_scan", ksm_set_text(ctx, KSM_KNOB_PAGES_TO_SCAN, "1234"), -EBUSY);
	/* the kernel's own answer is EINVAL; the library names the cause */
	EXPECT_REJECTED("pages_to_scan", guard_raw_write("pages_to_scan", "1234"), -EINVAL);
	/* the file stays readable */
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_PAGES_TO_SCAN, &v), 0);
	ck_assert_int_eq(v, raw_num("pages_to_scan"));

	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE), 0);
	ck_assert_int_eq(raw_advisor_mode(), KSM_ADVISOR_NONE);
	ck_assert_int_eq(raw_num("pages_to_scan"), 100);
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_PAGES_TO_SCAN, 1234), 0);
	ck_assert_int_eq(raw_num("pages_to_scan"), 1234);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 6. read-only counters                                                     */

START_TEST(test_counters_readonly)
{
	static const char *const ro[] = { "pages_shared", "general_profit", "full_scans" };
	struct ksm_ctx *ctx = new_ctx();

	for (int i = 0; i < NKNOBS; i++)
		if (!knobs[i].tunable)
			ck_assert_msg(ksm_set(ctx, knobs[i].knob, 1) == -EPERM, "ksm_set(%s, 1) != -EPERM",
				      knobs[i].name);
	EXPECT_REJECTED("pages_shared", ksm_set(ctx, KSM_KNOB_PAGES_SHARED, 1), -EPERM);
	ck_assert_msg(strstr(ksm_strerror(-EPERM), "pages_shared") != NULL, "ksm_strerror(-EPERM) = \"%s\"",
		      ksm_strerror(-EPERM));
	EXPECT_REJECTED("pages_shared", ksm_set_text(ctx, KSM_KNOB_PAGES_SHARED, "1"), -EPERM);

	/*
	 * Opening a 0444 sysfs file for writing fails with EACCES even for
	 * root: CAP_DAC_OVERRIDE passes the permission check, but kernfs'
	 * own open (kernfs_fop_open) refuses a write open of a file that has
	 * no write bit or no store method.
	 */
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		char path[256];
		int fd;

		if (!raw_exists(ro[i]))
			continue;
		snprintf(path, sizeof(path), "%s/%s", GUARD_KSM_DIR, ro[i]);
		errno = 0;
		fd = open(path, O_WRONLY);
		if (fd >= 0)
			close(fd);
		ck_assert_msg(fd < 0 && errno == EACCES, "open(%s, O_WRONLY) as root: fd %d, %s", path, fd,
			      strerror(errno));
	}
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 7. run control                                                            */

START_TEST(test_run_control)
{
	struct ksm_ctx *ctx = new_ctx();
	struct area a = { 0 };
	int64_t shared, sharing, scans, v;
	char buf[32];

	reset_settled();
	area_map(&a, 10);
	fast_scan(ctx);

	ck_assert_int_eq(ksm_start(ctx), 0);
	raw_text("run", buf, sizeof(buf));
	ck_assert_str_eq(buf, "1\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_RUN, &v), 0);
	ck_assert_int_eq(v, KSM_RUN_MERGE);
	area_merge(ctx, &a);

	ck_assert_int_eq(ksm_stop(ctx), 0);
	raw_text("run", buf, sizeof(buf));
	ck_assert_str_eq(buf, "0\n");
	shared = raw_num("pages_shared");
	sharing = raw_num("pages_sharing");
	scans = raw_num("full_scans");
	ck_assert_int_eq(shared, others.shared + 1);
	ck_assert_int_eq(sharing, others.sharing + 9);
	sleep_ms(200);
	/* stopped: merged pages stay merged, ksmd scans no more */
	ck_assert_int_eq(raw_num("pages_shared"), shared);
	ck_assert_int_eq(raw_num("pages_sharing"), sharing);
	ck_assert_int_eq(raw_num("full_scans"), scans);

	ck_assert_int_eq(ksm_unmerge_all(ctx), 0);
	/*
	 * After a successful run=2 the kernel keeps ksm_run = KSM_RUN_UNMERGE,
	 * so run reads "2" (mm/ksm.c run_store; measured on 6.18.44). Only a
	 * failed unmerge leaves 0. ksmd does not run in either state.
	 */
	raw_text("run", buf, sizeof(buf));
	ck_assert_str_eq(buf, "2\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_RUN, &v), 0);
	ck_assert_int_eq(v, KSM_RUN_UNMERGE);
	raw_text("pages_shared", buf, sizeof(buf));
	ck_assert_str_eq(buf, "0\n");
	raw_text("pages_sharing", buf, sizeof(buf));
	ck_assert_str_eq(buf, "0\n");
	raw_text("full_scans", buf, sizeof(buf));
	ck_assert_str_eq(buf, "0\n");
	ck_assert_int_eq(raw_num("pages_unshared"), 0);
	ck_assert_int_eq(raw_num("pages_volatile"), 0);
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 8. merging counts                                                         */

static void check_merge_counts(size_t n, int64_t doc_shared, int64_t doc_sharing)
{
	struct ksm_ctx *ctx = new_ctx();
	struct ksm_stats st;
	struct area a = { 0 };
	int64_t m = max_page_sharing(), shared, sharing, v;

	expected_counts((int64_t)n, m, &shared, &sharing, NULL);
	if (m == 256) {
		/* the table of ksm-behaviour.md §2.1 */
		ck_assert_int_eq(shared, doc_shared);
		ck_assert_int_eq(sharing, doc_sharing);
	}
	reset_settled();
	area_map(&a, n);
	area_merge(ctx, &a);
	ck_assert_int_eq(ksm_stop(ctx), 0); /* freeze the counters */
	/* the totals: ours and those of other processes (reset_settled()) */
	shared += others.shared;
	sharing += others.sharing;

	ck_assert_int_eq(raw_num("pages_shared"), shared);
	ck_assert_int_eq(raw_num("pages_sharing"), sharing);
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_PAGES_SHARED, &v), 0);
	ck_assert_int_eq(v, shared);
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_PAGES_SHARING, &v), 0);
	ck_assert_int_eq(v, sharing);

	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.pages_shared, shared);
	ck_assert_int_eq(st.pages_sharing, sharing);
	ck_assert_int_eq(st.pages_shared, raw_num("pages_shared"));
	ck_assert_int_eq(st.pages_sharing, raw_num("pages_sharing"));
	ck_assert_int_eq(st.pages_unshared, raw_num("pages_unshared"));
	ck_assert_int_eq(st.pages_volatile, raw_num("pages_volatile"));
	ck_assert_int_eq(st.full_scans, raw_num("full_scans"));
	ck_assert_int_ge(st.full_scans, 2);
	if (raw_exists("general_profit"))
		ck_assert_int_eq(st.general_profit, raw_num("general_profit"));
	if (raw_exists("ksm_zero_pages")) {
		ck_assert_int_eq(st.ksm_zero_pages, raw_num("ksm_zero_pages"));
		ck_assert_int_eq(st.ksm_zero_pages, others.zero); /* our pages are not zero pages */
	}
	ck_assert_int_eq(st.page_size, sysconf(_SC_PAGESIZE));
	ck_assert_int_eq(st.saved_pages, sharing + others.zero);
	ck_assert_int_eq(st.saved_bytes, (sharing + others.zero) * st.page_size);
	ck_assert_msg(fabs(st.sharing_ratio - (double)sharing / (double)shared) < 1e-9,
		      "sharing_ratio %f, expected %f", st.sharing_ratio, (double)sharing / (double)shared);

	ck_assert_int_eq(ksm_unmerge_all(ctx), 0);
	ck_assert_int_eq(raw_num("pages_shared"), 0);
	ck_assert_int_eq(raw_num("pages_sharing"), 0);
	area_unmap(&a);
	ksm_unref(ctx);
}

START_TEST(test_merge_10)
{
	check_merge_counts(10, 1, 9);
}
END_TEST

START_TEST(test_merge_1000)
{
	check_merge_counts(1000, 4, 996);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* helpers for tests in a child process                                     */

typedef int (*child_fn)(char *msg, size_t size);

/* Run @fn in a forked child; returns its exit status; its message in @msg. */
static int run_in_child(child_fn fn, char *msg, size_t size)
{
	int pfd[2], status;
	size_t off = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char m[1024] = "";
		int rc;

		close(pfd[0]);
		rc = fn(m, sizeof(m));
		if (write(pfd[1], m, strlen(m)) < 0)
			rc = 2;
		_exit(rc);
	}
	close(pfd[1]);
	while (off + 1 < size && (n = read(pfd[0], msg + off, size - 1 - off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		off += (size_t)n;
	}
	msg[off] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	snprintf(msg + off, size - off, " (killed by signal %d)", WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

#define CHILD_FAIL(...)                                \
	do {                                           \
		snprintf(msg, size, __VA_ARGS__);      \
		return 1;                              \
	} while (0)

/* ------------------------------------------------------------------------ */
/* 9. read-only sysfs: EROFS                                                 */

static int child_erofs(char *msg, size_t size)
{
	struct ksm_ctx *ctx = NULL;
	uint64_t f = 0;
	int64_t v;
	int r, fd;

	if (unshare(CLONE_NEWNS) < 0) {
		snprintf(msg, size, "unshare(CLONE_NEWNS): %s", strerror(errno));
		return 77;
	}
	/*
	 * Private mount tree: nothing done here propagates to the machine.
	 * Source and type are ignored by these calls; "none" rather than NULL
	 * keeps valgrind quiet.
	 */
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
		snprintf(msg, size, "making / private: %s", strerror(errno));
		return 77;
	}
	/* read-only bind remount of /sys, in this namespace only */
	if (mount("none", "/sys", "none", MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
		snprintf(msg, size, "read-only bind remount of /sys: %s", strerror(errno));
		return 77;
	}
	fd = open(GUARD_KSM_DIR "/sleep_millisecs", O_WRONLY);
	if (fd >= 0 || errno != EROFS)
		CHILD_FAIL("raw open(sleep_millisecs, O_WRONLY) on the ro /sys: fd %d, %s", fd, strerror(errno));

	r = ksm_new_at(&ctx, "/");
	if (r < 0)
		CHILD_FAIL("ksm_new_at: %d", r);
	r = ksm_set(ctx, KSM_KNOB_SLEEP_MILLISECS, 20);
	if (r != -EROFS)
		CHILD_FAIL("ksm_set(sleep_millisecs, 20) = %d (%s), expected -EROFS", r, strerror(-r));
	if (!strstr(ksm_strerror(r), "sleep_millisecs"))
		CHILD_FAIL("ksm_strerror(-EROFS) = \"%s\" does not name the knob", ksm_strerror(r));
	r = ksm_start(ctx);
	if (r != -EROFS)
		CHILD_FAIL("ksm_start = %d (%s), expected -EROFS", r, strerror(-r));
	r = ksm_get(ctx, KSM_KNOB_SLEEP_MILLISECS, &v);
	if (r != 0)
		CHILD_FAIL("ksm_get(sleep_millisecs) on the ro /sys = %d", r);
	r = ksm_probe_features(ctx, &f);
	if (r != 0)
		CHILD_FAIL("ksm_probe_features = %d", r);
	if (!(f & KSM_FEATURE_KSM))
		CHILD_FAIL("features %#" PRIx64 " lack KSM", f);
	if (f & KSM_FEATURE_WRITABLE)
		CHILD_FAIL("features %#" PRIx64 " claim WRITABLE on a read-only /sys", f);
	ksm_unref(ctx);
	snprintf(msg, size, "EROFS as expected, features %#" PRIx64, f);
	return 0;
}

START_TEST(test_erofs)
{
	char msg[1024];
	int rc = run_in_child(child_erofs, msg, sizeof(msg));

	if (rc == 77) {
		printf("    SKIP EROFS check: %s\n", msg);
		return;
	}
	ck_assert_msg(rc == 0, "read-only /sys child (status %d): %s", rc, msg);
	printf("    %s\n", msg);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 10. unprivileged caller: EACCES                                           */

#define NOBODY 65534

static int child_nobody(char *msg, size_t size)
{
	struct ksm_stats st;
	struct ksm_ctx *ctx = NULL;
	char buf[64];
	uint64_t f = 0;
	int r, fd;

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		CHILD_FAIL("dropping to uid/gid %d: %s", NOBODY, strerror(errno));
	if (geteuid() != NOBODY || getegid() != NOBODY)
		CHILD_FAIL("still euid %d egid %d", (int)geteuid(), (int)getegid());

	r = ksm_new_at(&ctx, "/");
	if (r < 0)
		CHILD_FAIL("ksm_new_at as nobody: %d", r);
	r = ksm_stats_read(ctx, &st, sizeof(st));
	if (r != 0)
		CHILD_FAIL("ksm_stats_read as nobody = %d (%s)", r, strerror(-r));
	if (!(st.present & BIT(KSM_KNOB_RUN)))
		CHILD_FAIL("stats.present %#" PRIx64 " lacks run", st.present);
	if (guard_raw_read("sleep_millisecs", buf, sizeof(buf)) < 0 || st.sleep_millisecs != atoll(buf))
		CHILD_FAIL("stats.sleep_millisecs %" PRId64 ", raw '%s'", st.sleep_millisecs, buf);

	r = ksm_set(ctx, KSM_KNOB_SLEEP_MILLISECS, 20);
	if (r != -EACCES)
		CHILD_FAIL("ksm_set(sleep_millisecs, 20) as nobody = %d (%s), expected -EACCES", r, strerror(-r));
	if (!strstr(ksm_strerror(r), "sleep_millisecs"))
		CHILD_FAIL("ksm_strerror(-EACCES) = \"%s\" does not name the knob", ksm_strerror(r));
	fd = open(GUARD_KSM_DIR "/sleep_millisecs", O_WRONLY);
	if (fd >= 0 || errno != EACCES)
		CHILD_FAIL("raw open(sleep_millisecs, O_WRONLY) as nobody: fd %d, %s", fd, strerror(errno));

	r = ksm_probe_features(ctx, &f);
	if (r != 0)
		CHILD_FAIL("ksm_probe_features as nobody = %d", r);
	if (!(f & KSM_FEATURE_KSM) || (f & KSM_FEATURE_WRITABLE))
		CHILD_FAIL("features as nobody %#" PRIx64 ": want KSM and no WRITABLE", f);
	ksm_unref(ctx);
	snprintf(msg, size, "nobody: stats ok, EACCES, features %#" PRIx64, f);
	return 0;
}

START_TEST(test_unprivileged)
{
	char msg[1024];
	int rc = run_in_child(child_nobody, msg, sizeof(msg));

	ck_assert_msg(rc == 0, "unprivileged child (status %d): %s", rc, msg);
	printf("    %s\n", msg);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 11. features of the live system                                           */

START_TEST(test_features_live)
{
	static const struct {
		uint64_t bit;
		const char *path; /* relative to /, "" for the prctl */
	} expect[] = {
		{ KSM_FEATURE_MERGE_ACROSS_NODES, "sys/kernel/mm/ksm/merge_across_nodes" },
		{ KSM_FEATURE_USE_ZERO_PAGES, "sys/kernel/mm/ksm/use_zero_pages" },
		{ KSM_FEATURE_MAX_PAGE_SHARING, "sys/kernel/mm/ksm/max_page_sharing" },
		{ KSM_FEATURE_GENERAL_PROFIT, "sys/kernel/mm/ksm/general_profit" },
		{ KSM_FEATURE_KSM_ZERO_PAGES, "sys/kernel/mm/ksm/ksm_zero_pages" },
		{ KSM_FEATURE_SMART_SCAN, "sys/kernel/mm/ksm/smart_scan" },
		{ KSM_FEATURE_ADVISOR, "sys/kernel/mm/ksm/advisor_mode" },
		{ KSM_FEATURE_PROC_KSM_STAT, "proc/self/ksm_stat" },
		{ KSM_FEATURE_SELECTIVE_KSM, "sys/kernel/mm/ksm/control/add_partition" },
	};
	struct ksm_ctx *ctx = new_ctx();
	uint64_t want = 0, got = 0;
	char path[256], names[512] = "";

	if (access(GUARD_KSM_DIR, F_OK) == 0)
		want |= KSM_FEATURE_KSM;
	if (access(GUARD_KSM_DIR "/run", W_OK) == 0)
		want |= KSM_FEATURE_WRITABLE;
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		snprintf(path, sizeof(path), "/%s", expect[i].path);
		if (access(path, F_OK) == 0)
			want |= expect[i].bit;
	}
	if (prctl(PRCTL_GET_MEMORY_MERGE, 0, 0, 0, 0) >= 0)
		want |= KSM_FEATURE_PRCTL_MEMORY_MERGE;

	ck_assert_int_eq(ksm_probe_features(ctx, &got), 0);
	for (int b = 0; b < 64; b++) {
		const char *n = ksm_feature_name(BIT(b));

		if (b <= 11)
			ck_assert_msg(n != NULL, "feature bit %d has no name", b);
		else
			ck_assert_msg(n == NULL, "feature bit %d has the name %s", b, n);
		if (got & BIT(b)) {
			strncat(names, n ? n : "?", sizeof(names) - strlen(names) - 2);
			strcat(names, " ");
		}
	}
	ck_assert_msg(got == want, "ksm_probe_features = %#" PRIx64 ", expected %#" PRIx64 " (got: %s)", got,
		      want, names);
	printf("    features %#" PRIx64 ": %s\n", got, names);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* the suite (runner: guard_run() in guard.c)                               */

static Suite *kernel_suite(void)
{
	Suite *s = suite_create("kernel");

	guard_add(s, "get", test_get_matches_raw);
	guard_add(s, "roundtrip", test_set_roundtrip);
	guard_add(s, "invalid", test_set_invalid);
	guard_add(s, "ebusy", test_ebusy_merged);
	guard_add(s, "advisor", test_advisor_busy);
	guard_add(s, "readonly", test_counters_readonly);
	guard_add(s, "run", test_run_control);
	guard_add(s, "merge10", test_merge_10);
	guard_add(s, "merge1000", test_merge_1000);
	guard_add(s, "erofs", test_erofs);
	guard_add(s, "unprivileged", test_unprivileged);
	guard_add(s, "features", test_features_live);
	return s;
}

int main(void)
{
	return guard_main(NULL, kernel_suite, NULL);
}

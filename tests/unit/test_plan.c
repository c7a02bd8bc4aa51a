// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The transaction planner, ksm_plan() of lib/internal.h, linked from the
 * library's objects: a pure function from a knob table, the current values
 * and the wanted ones to the ordered writes. Its rules must come from the
 * table alone (kind, requires, role), so the tests plan
 *  - with the library's own table, for the order that ksm_txn_plan()
 *    documents (include/ksm.h);
 *  - with a copy of it plus one row that no kernel has, "new_knob", once
 *    without prerequisites, once requiring no merged pages, once requiring
 *    the advisor off: a knob added to the table is planned with no change to
 *    the planner;
 *  - with rows whose prerequisites were changed in the copy.
 * Values are written as numbers (advisor_mode 0 none, 1 scan-time).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "internal.h"

#define BIT(k) (UINT64_C(1) << (k))
#define NEW_KNOB KSM_KNOB_NR
#define NDEFS (KSM_KNOB_NR + 1)
#define ALL (BIT(NDEFS) - 1)

static struct ksm_knob_def defs[NDEFS];
static int ndefs;
static uint64_t present;
static int64_t cur[NDEFS];
static int64_t want[NDEFS];
static uint64_t set;

/* The library's table only, the values of a 6.18 kernel after boot (tests/sysroots/6.18). */
static void setup(void)
{
	static const int64_t boot[KSM_KNOB_NR] = {
		[KSM_KNOB_RUN] = 0,
		[KSM_KNOB_PAGES_TO_SCAN] = 100,
		[KSM_KNOB_SLEEP_MILLISECS] = 20,
		[KSM_KNOB_MERGE_ACROSS_NODES] = 1,
		[KSM_KNOB_USE_ZERO_PAGES] = 0,
		[KSM_KNOB_MAX_PAGE_SHARING] = 256,
		[KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS] = 2000,
		[KSM_KNOB_SMART_SCAN] = 1,
		[KSM_KNOB_ADVISOR_MODE] = KSM_ADVISOR_NONE,
		[KSM_KNOB_ADVISOR_MAX_CPU] = 70,
		[KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN] = 500,
		[KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN] = 30000,
		[KSM_KNOB_ADVISOR_TARGET_SCAN_TIME] = 200,
	};

	memset(defs, 0, sizeof(defs));
	memcpy(defs, ksm_knob_defs(), KSM_KNOB_NR * sizeof(defs[0]));
	ndefs = KSM_KNOB_NR;
	present = BIT(KSM_KNOB_NR) - 1;
	memset(cur, 0, sizeof(cur));
	memcpy(cur, boot, sizeof(boot));
	memset(want, 0, sizeof(want));
	set = 0;
}

/* A row appended to the copy of the table, current value 5. */
static void add_new_knob(unsigned int requires, int64_t advisor_off_value)
{
	defs[NEW_KNOB] = (struct ksm_knob_def){
		.info = {
			.name = "new_knob",
			.description = "a tunable of a kernel newer than the library",
			.kind = KSM_KIND_TUNABLE,
			.type = KSM_TYPE_UNSIGNED,
			.min = 0,
			.max = 1000,
			.requires = requires,
			.since = "99.1",
		},
		.offset = sizeof(struct ksm_stats), /* the field it would be appended as */
		.role = KSM_ROLE_NONE,
		.advisor_off_value = advisor_off_value,
	};
	ndefs = NDEFS;
	present |= BIT(NEW_KNOB);
	cur[NEW_KNOB] = 5;
}

/* The state of tests/sysroots/6.18-merged: run 1, 4 KSM pages. */
static void merged(void)
{
	cur[KSM_KNOB_RUN] = KSM_RUN_MERGE;
	cur[KSM_KNOB_PAGES_SHARED] = 4;
	cur[KSM_KNOB_PAGES_SHARING] = 996;
	cur[KSM_KNOB_FULL_SCANS] = 7;
}

/* The state of tests/sysroots/6.18-advisor: scan-time, pages_to_scan set by the advisor. */
static void advisor_on(void)
{
	cur[KSM_KNOB_RUN] = KSM_RUN_MERGE;
	cur[KSM_KNOB_ADVISOR_MODE] = KSM_ADVISOR_SCAN_TIME;
	cur[KSM_KNOB_PAGES_TO_SCAN] = 500;
}

static void want_value(int knob, int64_t value)
{
	set |= BIT(knob);
	want[knob] = value;
}

/* The plan as "name=value name=value"; the result of ksm_plan() in *ret, the failed knob in *failed. */
static void plan_text(unsigned int flags, char *buf, size_t size, int *ret, int *failed)
{
	struct ksm_txn_step steps[KSM_PLAN_KNOBS_MAX];
	int r;

	buf[0] = '\0';
	*failed = -2;
	r = ksm_plan(defs, ndefs, present, cur, set, want, flags, steps, KSM_PLAN_KNOBS_MAX, failed);
	*ret = r;
	for (int i = 0; i < r && i < KSM_PLAN_KNOBS_MAX; i++) {
		size_t len = strlen(buf);

		ck_assert_msg(steps[i].knob >= 0 && steps[i].knob < ndefs, "step %d: knob %d", i, steps[i].knob);
		snprintf(buf + len, size - len, "%s%s=%" PRId64, i ? " " : "", defs[steps[i].knob].info.name,
			 steps[i].value);
	}
}

#define ASSERT_PLAN(flags, expect)                                                                   \
	do {                                                                                         \
		char got_[1024];                                                                     \
		int r_, f_, n_ = 0;                                                                  \
		const char *e_ = (expect);                                                           \
		plan_text((flags), got_, sizeof(got_), &r_, &f_);                                    \
		for (const char *p_ = e_; *p_; p_++)                                                 \
			n_ += *p_ == '=';                                                            \
		ck_assert_msg(r_ == n_ && strcmp(got_, e_) == 0, "plan = %d [%s], expected %d [%s]", r_, \
			      r_ < 0 ? strerror(-r_) : got_, n_, e_);                                 \
	} while (0)

#define ASSERT_PLAN_FAILS(flags, err, knob)                                                          \
	do {                                                                                         \
		char got_[1024];                                                                     \
		int r_, f_;                                                                          \
		plan_text((flags), got_, sizeof(got_), &r_, &f_);                                    \
		ck_assert_msg(r_ == (err) && f_ == (int)(knob),                                      \
			      "plan = %d (%s), failed %d; expected %d (%s), failed %d (%s)", r_,      \
			      r_ < 0 ? strerror(-r_) : got_, f_, (err), strerror(-(err)), (int)(knob), \
			      defs[knob].info.name);                                                 \
	} while (0)

/* ------------------------------------------------------------------------ */
/* The library's table                                                       */

START_TEST(table_is_what_the_header_says)
{
	const struct ksm_knob_def *t = ksm_knob_defs();

	for (int k = 0; k < KSM_KNOB_NR; k++)
		ck_assert_ptr_eq(&t[k].info, ksm_knob_info((enum ksm_knob)k));
	ck_assert_int_eq(t[KSM_KNOB_RUN].role, KSM_ROLE_STATE);
	ck_assert_int_eq(t[KSM_KNOB_ADVISOR_MODE].role, KSM_ROLE_ADVISOR);
	ck_assert_int_eq(t[KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN].role, KSM_ROLE_ADVISOR_START);
	ck_assert_int_eq(t[KSM_KNOB_PAGES_SHARED].role, KSM_ROLE_MERGED);
	ck_assert_uint_eq(t[KSM_KNOB_PAGES_TO_SCAN].offset, offsetof(struct ksm_stats, pages_to_scan));
	ck_assert_uint_eq(t[KSM_KNOB_GENERAL_PROFIT].offset, offsetof(struct ksm_stats, general_profit));
	/* The kernel's DEFAULT_PAGES_TO_SCAN comes back when the advisor is switched off. */
	ck_assert_int_eq(t[KSM_KNOB_PAGES_TO_SCAN].advisor_off_value, 100);
}
END_TEST

START_TEST(plan_nothing_to_do)
{
	ASSERT_PLAN(0, "");
	/* the current values: no step */
	want_value(KSM_KNOB_RUN, 0);
	want_value(KSM_KNOB_PAGES_TO_SCAN, 100);
	want_value(KSM_KNOB_MAX_PAGE_SHARING, 256);
	want_value(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE);
	want_value(KSM_KNOB_SMART_SCAN, 1);
	ASSERT_PLAN(0, "");
	ASSERT_PLAN(KSM_TXN_ALLOW_UNMERGE, "");
}
END_TEST

/* The six groups of ksm_txn_plan(), each knob of a group in table order. */
START_TEST(plan_group_order)
{
	want_value(KSM_KNOB_ADVISOR_MAX_CPU, 50);
	want_value(KSM_KNOB_RUN, 1);
	want_value(KSM_KNOB_SMART_SCAN, 0);
	want_value(KSM_KNOB_MAX_PAGE_SHARING, 1000);
	want_value(KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, 100);
	want_value(KSM_KNOB_MERGE_ACROSS_NODES, 0);
	want_value(KSM_KNOB_USE_ZERO_PAGES, 1);
	want_value(KSM_KNOB_PAGES_TO_SCAN, 3000);
	want_value(KSM_KNOB_SLEEP_MILLISECS, 1);
	want_value(KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, 100);
	want_value(KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, 9000);
	want_value(KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, 600);
	ASSERT_PLAN(0, "sleep_millisecs=1 use_zero_pages=1 stable_node_chains_prune_millisecs=100 smart_scan=0 "
		       "advisor_max_cpu=50 advisor_min_pages_to_scan=600 advisor_max_pages_to_scan=9000 "
		       "advisor_target_scan_time=100 pages_to_scan=3000 merge_across_nodes=0 "
		       "max_page_sharing=1000 run=1");
}
END_TEST

START_TEST(plan_merged)
{
	merged();
	want_value(KSM_KNOB_MERGE_ACROSS_NODES, 0);
	ASSERT_PLAN_FAILS(0, -EBUSY, KSM_KNOB_MERGE_ACROSS_NODES);
	ASSERT_PLAN(KSM_TXN_ALLOW_UNMERGE, "run=2 merge_across_nodes=0 run=1");
	/* with other knobs: run=2 first, run last */
	want_value(KSM_KNOB_MAX_PAGE_SHARING, 300);
	want_value(KSM_KNOB_SLEEP_MILLISECS, 5);
	want_value(KSM_KNOB_PAGES_TO_SCAN, 200);
	ASSERT_PLAN_FAILS(0, -EBUSY, KSM_KNOB_MERGE_ACROSS_NODES);
	ASSERT_PLAN(KSM_TXN_ALLOW_UNMERGE,
		    "run=2 sleep_millisecs=5 pages_to_scan=200 merge_across_nodes=0 max_page_sharing=300 run=1");
	/* an explicit run=0 comes last instead of the old value */
	want_value(KSM_KNOB_RUN, KSM_RUN_STOP);
	ASSERT_PLAN(KSM_TXN_ALLOW_UNMERGE,
		    "run=2 sleep_millisecs=5 pages_to_scan=200 merge_across_nodes=0 max_page_sharing=300 run=0");
	/* run=2 named in the transaction allows it without the flag */
	want_value(KSM_KNOB_RUN, KSM_RUN_UNMERGE);
	ASSERT_PLAN(0, "run=2 sleep_millisecs=5 pages_to_scan=200 merge_across_nodes=0 max_page_sharing=300");
}
END_TEST

START_TEST(plan_merged_current_values)
{
	merged();
	/* writing the current values needs no unmerge */
	want_value(KSM_KNOB_MERGE_ACROSS_NODES, 1);
	want_value(KSM_KNOB_MAX_PAGE_SHARING, 256);
	want_value(KSM_KNOB_USE_ZERO_PAGES, 1);
	ASSERT_PLAN(0, "use_zero_pages=1");
	/* nothing merged any more: no run=2 */
	cur[KSM_KNOB_PAGES_SHARED] = 0;
	want_value(KSM_KNOB_MAX_PAGE_SHARING, 512);
	ASSERT_PLAN(0, "use_zero_pages=1 max_page_sharing=512");
	ASSERT_PLAN(KSM_TXN_ALLOW_UNMERGE, "use_zero_pages=1 max_page_sharing=512");
}
END_TEST

START_TEST(plan_advisor_off)
{
	advisor_on();
	/* the kernel resets pages_to_scan to 100 when the advisor goes off: written back */
	want_value(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE);
	ASSERT_PLAN(0, "advisor_mode=0 pages_to_scan=500");
	/* already at the kernel's value: nothing to write back */
	cur[KSM_KNOB_PAGES_TO_SCAN] = 100;
	ASSERT_PLAN(0, "advisor_mode=0");
	cur[KSM_KNOB_PAGES_TO_SCAN] = 500;
	/* pages_to_scan while the advisor stays: refused, with or without the unmerge flag */
	set = 0;
	want_value(KSM_KNOB_PAGES_TO_SCAN, 5);
	ASSERT_PLAN_FAILS(0, -EBUSY, KSM_KNOB_PAGES_TO_SCAN);
	ASSERT_PLAN_FAILS(KSM_TXN_ALLOW_UNMERGE, -EBUSY, KSM_KNOB_PAGES_TO_SCAN);
	/* ... at the advisor's own value: nothing to do */
	want_value(KSM_KNOB_PAGES_TO_SCAN, 500);
	ASSERT_PLAN(0, "");
	/* advisor off and pages_to_scan together: the mode first; its parameters before it */
	want_value(KSM_KNOB_PAGES_TO_SCAN, 5);
	want_value(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE);
	want_value(KSM_KNOB_ADVISOR_MAX_CPU, 40);
	want_value(KSM_KNOB_SLEEP_MILLISECS, 0);
	ASSERT_PLAN(0, "sleep_millisecs=0 advisor_max_cpu=40 advisor_mode=0 pages_to_scan=5");
}
END_TEST

START_TEST(plan_advisor_on)
{
	want_value(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME);
	want_value(KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, 700);
	ASSERT_PLAN(0, "advisor_min_pages_to_scan=700 advisor_mode=1");
	/* switching the advisor on and setting pages_to_scan contradict each other */
	want_value(KSM_KNOB_PAGES_TO_SCAN, 800);
	ASSERT_PLAN_FAILS(0, -EBUSY, KSM_KNOB_PAGES_TO_SCAN);
}
END_TEST

START_TEST(plan_absent)
{
	/* a 4.18 kernel: no smart_scan, no advisor */
	present &= ~(BIT(KSM_KNOB_SMART_SCAN) | BIT(KSM_KNOB_ADVISOR_MODE) | BIT(KSM_KNOB_ADVISOR_MAX_CPU) |
		     BIT(KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN) | BIT(KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN) |
		     BIT(KSM_KNOB_ADVISOR_TARGET_SCAN_TIME) | BIT(KSM_KNOB_PAGES_SCANNED) |
		     BIT(KSM_KNOB_PAGES_SKIPPED) | BIT(KSM_KNOB_GENERAL_PROFIT) | BIT(KSM_KNOB_KSM_ZERO_PAGES));
	want_value(KSM_KNOB_SLEEP_MILLISECS, 5);
	want_value(KSM_KNOB_SMART_SCAN, 0);
	ASSERT_PLAN_FAILS(0, -ENOENT, KSM_KNOB_SMART_SCAN);
	/* no advisor: pages_to_scan is free */
	set = 0;
	want_value(KSM_KNOB_PAGES_TO_SCAN, 5);
	ASSERT_PLAN(0, "pages_to_scan=5");
	want_value(KSM_KNOB_ADVISOR_MAX_CPU, 10);
	ASSERT_PLAN_FAILS(0, -ENOENT, KSM_KNOB_ADVISOR_MAX_CPU);
}
END_TEST

/* The count comes back whatever room there is for the steps. */
START_TEST(plan_room)
{
	struct ksm_txn_step steps[2];
	int failed = -2;

	want_value(KSM_KNOB_SLEEP_MILLISECS, 5);
	want_value(KSM_KNOB_USE_ZERO_PAGES, 1);
	want_value(KSM_KNOB_SMART_SCAN, 0);
	want_value(KSM_KNOB_RUN, 1);
	memset(steps, 0, sizeof(steps));
	ck_assert_int_eq(ksm_plan(defs, ndefs, present, cur, set, want, 0, steps, 2, &failed), 4);
	ck_assert_int_eq(steps[0].knob, KSM_KNOB_SLEEP_MILLISECS);
	ck_assert_int_eq(steps[0].value, 5);
	ck_assert_int_eq(steps[1].knob, KSM_KNOB_USE_ZERO_PAGES);
	ck_assert_int_eq(steps[1].value, 1);
	ck_assert_int_eq(ksm_plan(defs, ndefs, present, cur, set, want, 0, NULL, 0, &failed), 4);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A row the library's table does not have                                   */

START_TEST(new_knob_alone)
{
	add_new_knob(0, 0);
	want_value(NEW_KNOB, 7);
	ASSERT_PLAN(0, "new_knob=7");
	want_value(NEW_KNOB, 5); /* its current value */
	ASSERT_PLAN(0, "");
	/* absent on this kernel */
	want_value(NEW_KNOB, 7);
	present &= ~BIT(NEW_KNOB);
	ASSERT_PLAN_FAILS(0, -ENOENT, NEW_KNOB);
}
END_TEST

/* Without prerequisites: among the tunables without prerequisites, in table order (last). */
START_TEST(new_knob_no_prerequisites)
{
	add_new_knob(0, 0);
	want_value(NEW_KNOB, 7);
	want_value(KSM_KNOB_RUN, 1);
	want_value(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME);
	want_value(KSM_KNOB_SLEEP_MILLISECS, 5);
	want_value(KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, 300);
	ASSERT_PLAN(0, "sleep_millisecs=5 advisor_target_scan_time=300 new_knob=7 advisor_mode=1 run=1");
}
END_TEST

/* Without prerequisites, with an unmerge: after run=2, before pages_to_scan and run. */
START_TEST(new_knob_no_prerequisites_merged)
{
	add_new_knob(0, 0);
	merged();
	want_value(NEW_KNOB, 7);
	ASSERT_PLAN(0, "new_knob=7"); /* nothing merged matters to it */
	want_value(KSM_KNOB_MAX_PAGE_SHARING, 512);
	want_value(KSM_KNOB_PAGES_TO_SCAN, 300);
	ASSERT_PLAN_FAILS(0, -EBUSY, KSM_KNOB_MAX_PAGE_SHARING);
	ASSERT_PLAN(KSM_TXN_ALLOW_UNMERGE, "run=2 new_knob=7 pages_to_scan=300 max_page_sharing=512 run=1");
}
END_TEST

/* Without prerequisites, while the advisor is switched off: before advisor_mode and pages_to_scan. */
START_TEST(new_knob_no_prerequisites_advisor)
{
	add_new_knob(0, 0);
	advisor_on();
	want_value(NEW_KNOB, 7);
	ASSERT_PLAN(0, "new_knob=7"); /* the advisor does not hold it */
	want_value(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE);
	want_value(KSM_KNOB_PAGES_TO_SCAN, 1000);
	ASSERT_PLAN(0, "new_knob=7 advisor_mode=0 pages_to_scan=1000");
}
END_TEST

/* Requiring no merged pages, while pages are merged. */
START_TEST(new_knob_no_merged_pages)
{
	add_new_knob(KSM_REQUIRES_NO_MERGED_PAGES, 0);
	merged();
	want_value(NEW_KNOB, 7);
	ASSERT_PLAN_FAILS(0, -EBUSY, NEW_KNOB);
	ASSERT_PLAN(KSM_TXN_ALLOW_UNMERGE, "run=2 new_knob=7 run=1");
	/* with the others: after pages_to_scan and the table's own such knobs, run last */
	want_value(KSM_KNOB_PAGES_TO_SCAN, 300);
	want_value(KSM_KNOB_MERGE_ACROSS_NODES, 0);
	want_value(KSM_KNOB_SLEEP_MILLISECS, 5);
	ASSERT_PLAN_FAILS(0, -EBUSY, KSM_KNOB_MERGE_ACROSS_NODES);
	ASSERT_PLAN(KSM_TXN_ALLOW_UNMERGE,
		    "run=2 sleep_millisecs=5 pages_to_scan=300 merge_across_nodes=0 new_knob=7 run=1");
	/* its current value needs no unmerge */
	set = 0;
	want_value(NEW_KNOB, 5);
	want_value(KSM_KNOB_SLEEP_MILLISECS, 5);
	ASSERT_PLAN(0, "sleep_millisecs=5");
	/* nothing merged: no unmerge */
	cur[KSM_KNOB_PAGES_SHARED] = 0;
	want_value(NEW_KNOB, 7);
	ASSERT_PLAN(0, "sleep_millisecs=5 new_knob=7");
	/* explicit run=2 allows it without the flag */
	cur[KSM_KNOB_PAGES_SHARED] = 4;
	want_value(KSM_KNOB_RUN, KSM_RUN_UNMERGE);
	ASSERT_PLAN(0, "run=2 sleep_millisecs=5 new_knob=7");
}
END_TEST

/* Requiring the advisor off, like pages_to_scan; the kernel would reset it to 0. */
START_TEST(new_knob_advisor_none)
{
	add_new_knob(KSM_REQUIRES_ADVISOR_NONE, 0);
	advisor_on();
	want_value(NEW_KNOB, 7);
	ASSERT_PLAN_FAILS(0, -EBUSY, NEW_KNOB);
	ASSERT_PLAN_FAILS(KSM_TXN_ALLOW_UNMERGE, -EBUSY, NEW_KNOB);
	/* the advisor off first, then the knobs that need it off, in table order */
	want_value(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE);
	want_value(KSM_KNOB_PAGES_TO_SCAN, 300);
	ASSERT_PLAN(0, "advisor_mode=0 pages_to_scan=300 new_knob=7");
	/* not named: it keeps its value (5) although switching the advisor off resets it */
	set = 0;
	want_value(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE);
	ASSERT_PLAN(0, "advisor_mode=0 pages_to_scan=500 new_knob=5");
	/* the advisor switched on: setting it contradicts */
	setup();
	add_new_knob(KSM_REQUIRES_ADVISOR_NONE, 0);
	want_value(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME);
	want_value(NEW_KNOB, 7);
	ASSERT_PLAN_FAILS(0, -EBUSY, NEW_KNOB);
	/* advisor off all along: free */
	set = 0;
	want_value(NEW_KNOB, 7);
	ASSERT_PLAN(0, "new_knob=7");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Rows of the copy with other prerequisites                                 */

START_TEST(changed_rows)
{
	merged();
	/* sleep_millisecs made to need no merged pages: planned and refused as such */
	defs[KSM_KNOB_SLEEP_MILLISECS].info.requires = KSM_REQUIRES_NO_MERGED_PAGES;
	want_value(KSM_KNOB_SLEEP_MILLISECS, 5);
	want_value(KSM_KNOB_USE_ZERO_PAGES, 1);
	ASSERT_PLAN_FAILS(0, -EBUSY, KSM_KNOB_SLEEP_MILLISECS);
	ASSERT_PLAN(KSM_TXN_ALLOW_UNMERGE, "run=2 use_zero_pages=1 sleep_millisecs=5 run=1");
	/* max_page_sharing freed of its prerequisite: no unmerge, with the others of its group */
	setup();
	merged();
	defs[KSM_KNOB_MAX_PAGE_SHARING].info.requires = 0;
	want_value(KSM_KNOB_MAX_PAGE_SHARING, 512);
	want_value(KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, 10);
	want_value(KSM_KNOB_USE_ZERO_PAGES, 1);
	ASSERT_PLAN(0, "use_zero_pages=1 max_page_sharing=512 stable_node_chains_prune_millisecs=10");
}
END_TEST

static Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, table_is_what_the_header_says);
	tcase_add_test(tc, plan_nothing_to_do);
	tcase_add_test(tc, plan_group_order);
	tcase_add_test(tc, plan_merged);
	tcase_add_test(tc, plan_merged_current_values);
	tcase_add_test(tc, plan_advisor_off);
	tcase_add_test(tc, plan_advisor_on);
	tcase_add_test(tc, plan_absent);
	tcase_add_test(tc, plan_room);
	suite_add_tcase(s, tc);

	tc = tcase_create("new row");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, new_knob_alone);
	tcase_add_test(tc, new_knob_no_prerequisites);
	tcase_add_test(tc, new_knob_no_prerequisites_merged);
	tcase_add_test(tc, new_knob_no_prerequisites_advisor);
	tcase_add_test(tc, new_knob_no_merged_pages);
	tcase_add_test(tc, new_knob_advisor_none);
	tcase_add_test(tc, changed_rows);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(plan_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

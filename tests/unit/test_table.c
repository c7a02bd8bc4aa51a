// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The knob table and the pure functions (parse, format, feature names).
 * No file system is touched. The expectations below are written out from
 * the kernel ABI notes (§1: the files of /sys/kernel/mm/ksm, their types,
 * ranges and versions) and serve as the oracle for the library's table.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ksm.h>

#include "testutil.h"

#define NO_REQ 0u
#define F_BASE UINT64_C(0)

/* One row per mainline sysfs file, by enum value (the values are stable ABI). */
static const struct expect {
	enum ksm_knob knob;
	const char *name;
	enum ksm_knob_kind kind;
	enum ksm_knob_type type;
	unsigned int requires;
	uint64_t feature;
	const char *since;
} expected[] = {
	{ KSM_KNOB_RUN, "run", KSM_KIND_TUNABLE, KSM_TYPE_ENUM, NO_REQ, F_BASE, "2.6.32" },
	{ KSM_KNOB_PAGES_TO_SCAN, "pages_to_scan", KSM_KIND_TUNABLE, KSM_TYPE_UNSIGNED,
	  KSM_REQUIRES_ADVISOR_NONE, F_BASE, "2.6.32" },
	{ KSM_KNOB_SLEEP_MILLISECS, "sleep_millisecs", KSM_KIND_TUNABLE, KSM_TYPE_UNSIGNED, NO_REQ, F_BASE,
	  "2.6.32" },
	{ KSM_KNOB_MERGE_ACROSS_NODES, "merge_across_nodes", KSM_KIND_TUNABLE, KSM_TYPE_BOOL,
	  KSM_REQUIRES_NO_MERGED_PAGES, KSM_FEATURE_MERGE_ACROSS_NODES, "3.9" },
	{ KSM_KNOB_USE_ZERO_PAGES, "use_zero_pages", KSM_KIND_TUNABLE, KSM_TYPE_BOOL, NO_REQ,
	  KSM_FEATURE_USE_ZERO_PAGES, "4.11" },
	/* The kernel parses it with kstrtoint (an int >= 2). */
	{ KSM_KNOB_MAX_PAGE_SHARING, "max_page_sharing", KSM_KIND_TUNABLE, KSM_TYPE_SIGNED,
	  KSM_REQUIRES_NO_MERGED_PAGES, KSM_FEATURE_MAX_PAGE_SHARING, "4.13" },
	{ KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, "stable_node_chains_prune_millisecs", KSM_KIND_TUNABLE,
	  KSM_TYPE_UNSIGNED, NO_REQ, KSM_FEATURE_MAX_PAGE_SHARING, "4.13" },
	{ KSM_KNOB_SMART_SCAN, "smart_scan", KSM_KIND_TUNABLE, KSM_TYPE_BOOL, NO_REQ, KSM_FEATURE_SMART_SCAN,
	  "6.7" },
	{ KSM_KNOB_ADVISOR_MODE, "advisor_mode", KSM_KIND_TUNABLE, KSM_TYPE_ENUM, NO_REQ, KSM_FEATURE_ADVISOR,
	  "6.8" },
	{ KSM_KNOB_ADVISOR_MAX_CPU, "advisor_max_cpu", KSM_KIND_TUNABLE, KSM_TYPE_UNSIGNED, NO_REQ,
	  KSM_FEATURE_ADVISOR, "6.8" },
	{ KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, "advisor_min_pages_to_scan", KSM_KIND_TUNABLE, KSM_TYPE_UNSIGNED,
	  NO_REQ, KSM_FEATURE_ADVISOR, "6.8" },
	{ KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, "advisor_max_pages_to_scan", KSM_KIND_TUNABLE, KSM_TYPE_UNSIGNED,
	  NO_REQ, KSM_FEATURE_ADVISOR, "6.8" },
	{ KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, "advisor_target_scan_time", KSM_KIND_TUNABLE, KSM_TYPE_UNSIGNED,
	  NO_REQ, KSM_FEATURE_ADVISOR, "6.8" },
	{ KSM_KNOB_PAGES_SHARED, "pages_shared", KSM_KIND_COUNTER, KSM_TYPE_UNSIGNED, NO_REQ, F_BASE, "2.6.32" },
	{ KSM_KNOB_PAGES_SHARING, "pages_sharing", KSM_KIND_COUNTER, KSM_TYPE_UNSIGNED, NO_REQ, F_BASE, "2.6.32" },
	{ KSM_KNOB_PAGES_UNSHARED, "pages_unshared", KSM_KIND_COUNTER, KSM_TYPE_UNSIGNED, NO_REQ, F_BASE,
	  "2.6.32" },
	{ KSM_KNOB_PAGES_VOLATILE, "pages_volatile", KSM_KIND_COUNTER, KSM_TYPE_UNSIGNED, NO_REQ, F_BASE,
	  "2.6.32" },
	{ KSM_KNOB_PAGES_SCANNED, "pages_scanned", KSM_KIND_COUNTER, KSM_TYPE_UNSIGNED, NO_REQ,
	  KSM_FEATURE_SMART_SCAN, "6.7" },
	{ KSM_KNOB_PAGES_SKIPPED, "pages_skipped", KSM_KIND_COUNTER, KSM_TYPE_UNSIGNED, NO_REQ,
	  KSM_FEATURE_SMART_SCAN, "6.7" },
	{ KSM_KNOB_FULL_SCANS, "full_scans", KSM_KIND_COUNTER, KSM_TYPE_UNSIGNED, NO_REQ, F_BASE, "2.6.32" },
	{ KSM_KNOB_STABLE_NODE_CHAINS, "stable_node_chains", KSM_KIND_COUNTER, KSM_TYPE_UNSIGNED, NO_REQ,
	  KSM_FEATURE_MAX_PAGE_SHARING, "4.13" },
	{ KSM_KNOB_STABLE_NODE_DUPS, "stable_node_dups", KSM_KIND_COUNTER, KSM_TYPE_UNSIGNED, NO_REQ,
	  KSM_FEATURE_MAX_PAGE_SHARING, "4.13" },
	{ KSM_KNOB_KSM_ZERO_PAGES, "ksm_zero_pages", KSM_KIND_COUNTER, KSM_TYPE_SIGNED, NO_REQ,
	  KSM_FEATURE_KSM_ZERO_PAGES, "6.6" },
	{ KSM_KNOB_GENERAL_PROFIT, "general_profit", KSM_KIND_COUNTER, KSM_TYPE_SIGNED, NO_REQ,
	  KSM_FEATURE_GENERAL_PROFIT, "6.4" },
};

#define N_EXPECTED ((int)(sizeof(expected) / sizeof(expected[0])))

/* The 24 files as the kernel's ksm_attrs[] lists them (ABI notes §1). */
static const char *const sysfs_names[] = {
	"sleep_millisecs", "pages_to_scan", "run", "pages_scanned", "pages_shared",
	"pages_sharing", "pages_unshared", "pages_volatile", "pages_skipped",
	"ksm_zero_pages", "full_scans", "merge_across_nodes", "max_page_sharing",
	"stable_node_chains", "stable_node_dups", "stable_node_chains_prune_millisecs",
	"use_zero_pages", "general_profit", "smart_scan", "advisor_mode", "advisor_max_cpu",
	"advisor_min_pages_to_scan", "advisor_max_pages_to_scan", "advisor_target_scan_time",
};

/* ------------------------------------------------------------------ table */

START_TEST(test_count)
{
	ck_assert_int_eq(ksm_knob_count(), 24);
	ck_assert_int_eq(N_EXPECTED, 24);
	ck_assert_int_eq((int)(sizeof(sysfs_names) / sizeof(sysfs_names[0])), 24);
}
END_TEST

START_TEST(test_info_complete)
{
	for (int i = 0; i < ksm_knob_count(); i++) {
		const struct ksm_knob_info *k = ksm_knob_info((enum ksm_knob)i);

		ck_assert_msg(k != NULL, "knob %d has no entry", i);
		ck_assert_msg(k->name && *k->name, "knob %d has no name", i);
		ck_assert_msg(k->description && *k->description, "%s has no description", k->name);
		ck_assert_msg(k->since && *k->since, "%s has no since", k->name);
		ck_assert_msg(k->min <= k->max, "%s: min > max", k->name);
	}
	ck_assert_ptr_null(ksm_knob_info((enum ksm_knob)-1));
	ck_assert_ptr_null(ksm_knob_info((enum ksm_knob)24));
	ck_assert_ptr_null(ksm_knob_info((enum ksm_knob)1000));
}
END_TEST

/* Loop test over the rows of expected[]. */
START_TEST(test_info_matches_abi)
{
	const struct expect *e = &expected[_i];
	const struct ksm_knob_info *k = ksm_knob_info(e->knob);

	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->name, e->name);
	ck_assert_msg(k->kind == e->kind, "%s: kind %d, expected %d", e->name, k->kind, e->kind);
	ck_assert_msg(k->type == e->type, "%s: type %d, expected %d", e->name, k->type, e->type);
	ck_assert_msg(k->requires == e->requires, "%s: requires %#x, expected %#x", e->name, k->requires,
		      e->requires);
	ck_assert_msg(k->feature == e->feature, "%s: feature %#llx, expected %#llx", e->name,
		      (unsigned long long)k->feature, (unsigned long long)e->feature);
	ck_assert_str_eq(k->since, e->since);
	if (e->type == KSM_TYPE_ENUM)
		ck_assert_ptr_nonnull(k->values);
	else
		ck_assert_ptr_null(k->values);
}
END_TEST

START_TEST(test_names_are_the_sysfs_files)
{
	uint32_t seen = 0;

	for (int i = 0; i < 24; i++) {
		int knob = ksm_knob_lookup(sysfs_names[i]);

		ck_assert_msg(knob >= 0, "%s not in the table", sysfs_names[i]);
		ck_assert_msg(!(seen & (1u << knob)), "%s found twice", sysfs_names[i]);
		seen |= 1u << knob;
	}
	/* 24 distinct names map onto all 24 knobs: the sets are equal. */
	ck_assert_uint_eq(seen, 0xffffffu);
}
END_TEST

START_TEST(test_kinds_and_types)
{
	int tunables = 0, counters = 0, signed_knobs = 0;

	for (int i = 0; i < ksm_knob_count(); i++) {
		const struct ksm_knob_info *k = ksm_knob_info((enum ksm_knob)i);

		if (k->kind == KSM_KIND_TUNABLE)
			tunables++;
		else if (k->kind == KSM_KIND_COUNTER)
			counters++;
		else
			ck_abort_msg("%s: kind %d", k->name, k->kind);
		if (k->kind == KSM_KIND_COUNTER && k->type == KSM_TYPE_SIGNED)
			signed_knobs++;
		/* Counters are never range-limited below 0 unless signed. */
		if (k->kind == KSM_KIND_COUNTER)
			ck_assert_int_eq(k->min, k->type == KSM_TYPE_SIGNED ? INT64_MIN : 0);
		if (k->type == KSM_TYPE_BOOL) {
			ck_assert_int_eq(k->min, 0);
			ck_assert_int_eq(k->max, 1);
		}
	}
	ck_assert_int_eq(tunables, 13);
	ck_assert_int_eq(counters, 11);
	ck_assert_int_eq(signed_knobs, 2);

	ck_assert_int_eq(ksm_knob_info(KSM_KNOB_GENERAL_PROFIT)->type, KSM_TYPE_SIGNED);
	ck_assert_int_eq(ksm_knob_info(KSM_KNOB_KSM_ZERO_PAGES)->type, KSM_TYPE_SIGNED);
	ck_assert_int_eq(ksm_knob_info(KSM_KNOB_RUN)->type, KSM_TYPE_ENUM);
	ck_assert_int_eq(ksm_knob_info(KSM_KNOB_ADVISOR_MODE)->type, KSM_TYPE_ENUM);
	ck_assert_int_eq(ksm_knob_info(KSM_KNOB_MERGE_ACROSS_NODES)->type, KSM_TYPE_BOOL);
	ck_assert_int_eq(ksm_knob_info(KSM_KNOB_USE_ZERO_PAGES)->type, KSM_TYPE_BOOL);
	ck_assert_int_eq(ksm_knob_info(KSM_KNOB_SMART_SCAN)->type, KSM_TYPE_BOOL);
}
END_TEST

START_TEST(test_requires)
{
	for (int i = 0; i < ksm_knob_count(); i++) {
		const struct ksm_knob_info *k = ksm_knob_info((enum ksm_knob)i);
		unsigned int want = 0;

		if (i == KSM_KNOB_MERGE_ACROSS_NODES || i == KSM_KNOB_MAX_PAGE_SHARING)
			want = KSM_REQUIRES_NO_MERGED_PAGES;
		else if (i == KSM_KNOB_PAGES_TO_SCAN)
			want = KSM_REQUIRES_ADVISOR_NONE;
		ck_assert_msg(k->requires == want, "%s requires %#x, expected %#x", k->name, k->requires, want);
	}
}
END_TEST

START_TEST(test_enum_values)
{
	const char *const *run = ksm_knob_info(KSM_KNOB_RUN)->values;
	const char *const *adv = ksm_knob_info(KSM_KNOB_ADVISOR_MODE)->values;

	ck_assert_str_eq(run[KSM_RUN_STOP], "stop");
	ck_assert_str_eq(run[KSM_RUN_MERGE], "merge");
	ck_assert_str_eq(run[KSM_RUN_UNMERGE], "unmerge");
	ck_assert_ptr_null(run[3]);
	ck_assert_str_eq(adv[KSM_ADVISOR_NONE], "none");
	ck_assert_str_eq(adv[KSM_ADVISOR_SCAN_TIME], "scan-time");
	ck_assert_ptr_null(adv[2]);
}
END_TEST

START_TEST(test_lookup)
{
	for (int i = 0; i < ksm_knob_count(); i++)
		ck_assert_int_eq(ksm_knob_lookup(ksm_knob_info((enum ksm_knob)i)->name), i);
	ck_assert_int_eq(ksm_knob_lookup("no_such_knob"), -ENOENT);
	ck_assert_int_eq(ksm_knob_lookup(""), -ENOENT);
	ck_assert_int_eq(ksm_knob_lookup("RUN"), -ENOENT);
	ck_assert_int_eq(ksm_knob_lookup("run\n"), -ENOENT);
	ck_assert_int_eq(ksm_knob_lookup("pages"), -ENOENT);
	ck_assert_int_eq(ksm_knob_lookup(NULL), -ENOENT);
}
END_TEST

/* ------------------------------------------------------------------ parse */

static int64_t parse_ok(enum ksm_knob knob, const char *text)
{
	int64_t v = -12345;
	int r = ksm_knob_parse(knob, text, &v);

	ck_assert_msg(r == 0, "parse %s \"%s\": %d", ksm_knob_info(knob)->name, text, r);
	return v;
}

static void parse_einval(enum ksm_knob knob, const char *text)
{
	int64_t v = -12345;
	int r = ksm_knob_parse(knob, text, &v);

	ck_assert_msg(r == -EINVAL, "parse %s \"%s\": %d, expected -EINVAL", ksm_knob_info(knob)->name,
		      text, r);
	ck_assert_msg(v == -12345, "parse %s \"%s\" changed the value on failure", ksm_knob_info(knob)->name,
		      text);
}

START_TEST(test_parse_numbers)
{
	ck_assert_int_eq(parse_ok(KSM_KNOB_PAGES_TO_SCAN, "100"), 100);
	ck_assert_int_eq(parse_ok(KSM_KNOB_PAGES_TO_SCAN, "0"), 0);
	ck_assert_int_eq(parse_ok(KSM_KNOB_PAGES_TO_SCAN, "00"), 0);
	ck_assert_int_eq(parse_ok(KSM_KNOB_SLEEP_MILLISECS, "20"), 20);
	ck_assert_int_eq(parse_ok(KSM_KNOB_MAX_PAGE_SHARING, "256"), 256);
	ck_assert_int_eq(parse_ok(KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, "2000"), 2000);
	ck_assert_int_eq(parse_ok(KSM_KNOB_ADVISOR_MAX_CPU, "100"), 100);
	ck_assert_int_eq(parse_ok(KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, "200"), 200);
	ck_assert_int_eq(parse_ok(KSM_KNOB_RUN, "0"), 0);
	ck_assert_int_eq(parse_ok(KSM_KNOB_RUN, "1"), 1);
	ck_assert_int_eq(parse_ok(KSM_KNOB_RUN, "2"), 2);
	ck_assert_int_eq(parse_ok(KSM_KNOB_MERGE_ACROSS_NODES, "0"), 0);
	ck_assert_int_eq(parse_ok(KSM_KNOB_MERGE_ACROSS_NODES, "1"), 1);
	/* Counters parse too (signed ones below zero). */
	ck_assert_int_eq(parse_ok(KSM_KNOB_GENERAL_PROFIT, "-64768"), -64768);
	ck_assert_int_eq(parse_ok(KSM_KNOB_PAGES_SHARING, "996"), 996);
}
END_TEST

/* The grammar of ksm_knob_parse(3): a '+' as the kernel takes it, names in any case. */
START_TEST(test_parse_grammar)
{
	ck_assert_int_eq(parse_ok(KSM_KNOB_PAGES_TO_SCAN, "+1"), 1);
	ck_assert_int_eq(parse_ok(KSM_KNOB_PAGES_TO_SCAN, " +100\n"), 100);
	ck_assert_int_eq(parse_ok(KSM_KNOB_USE_ZERO_PAGES, "+1"), 1);
	ck_assert_int_eq(parse_ok(KSM_KNOB_RUN, "+2"), 2);
	ck_assert_int_eq(parse_ok(KSM_KNOB_RUN, "UNMERGE"), KSM_RUN_UNMERGE);
	ck_assert_int_eq(parse_ok(KSM_KNOB_RUN, "Merge"), KSM_RUN_MERGE);
	ck_assert_int_eq(parse_ok(KSM_KNOB_ADVISOR_MODE, "SCAN-TIME"), KSM_ADVISOR_SCAN_TIME);
	ck_assert_int_eq(parse_ok(KSM_KNOB_ADVISOR_MODE, " None "), KSM_ADVISOR_NONE);
	parse_einval(KSM_KNOB_ADVISOR_MODE, "+1");
}
END_TEST

START_TEST(test_parse_blanks)
{
	ck_assert_int_eq(parse_ok(KSM_KNOB_PAGES_TO_SCAN, " 5 \n"), 5);
	ck_assert_int_eq(parse_ok(KSM_KNOB_PAGES_TO_SCAN, "5\n"), 5);
	ck_assert_int_eq(parse_ok(KSM_KNOB_PAGES_TO_SCAN, "\t42\t"), 42);
	ck_assert_int_eq(parse_ok(KSM_KNOB_RUN, "  merge\n"), KSM_RUN_MERGE);
	ck_assert_int_eq(parse_ok(KSM_KNOB_ADVISOR_MODE, "scan-time\n"), KSM_ADVISOR_SCAN_TIME);
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "5 5");
}
END_TEST

START_TEST(test_parse_bool_words)
{
	static const struct {
		const char *text;
		int64_t value;
	} words[] = {
		{ "yes", 1 }, { "no", 0 }, { "on", 1 }, { "off", 0 }, { "true", 1 }, { "false", 0 },
		{ "YES", 1 }, { "No", 0 }, { "ON", 1 }, { "Off", 0 }, { "TRUE", 1 }, { "False", 0 },
		{ "1", 1 }, { "0", 0 }, { " yes\n", 1 },
		{ "y", 1 }, { "n", 0 }, { "Y", 1 }, { "N", 0 },
	};
	static const enum ksm_knob bools[] = {
		KSM_KNOB_MERGE_ACROSS_NODES, KSM_KNOB_USE_ZERO_PAGES, KSM_KNOB_SMART_SCAN,
	};

	for (size_t b = 0; b < sizeof(bools) / sizeof(bools[0]); b++) {
		for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
			int64_t v = parse_ok(bools[b], words[w].text);
			ck_assert_msg(v == words[w].value, "%s \"%s\" -> %lld", ksm_knob_info(bools[b])->name,
				      words[w].text, (long long)v);
		}
		parse_einval(bools[b], "2");
		parse_einval(bools[b], "maybe");
		parse_einval(bools[b], "-1");
	}
	/* Words are for bools only. */
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "yes");
	parse_einval(KSM_KNOB_RUN, "on");
	parse_einval(KSM_KNOB_MAX_PAGE_SHARING, "true");
}
END_TEST

START_TEST(test_parse_enum_names)
{
	ck_assert_int_eq(parse_ok(KSM_KNOB_RUN, "stop"), KSM_RUN_STOP);
	ck_assert_int_eq(parse_ok(KSM_KNOB_RUN, "merge"), KSM_RUN_MERGE);
	ck_assert_int_eq(parse_ok(KSM_KNOB_RUN, "unmerge"), KSM_RUN_UNMERGE);
	parse_einval(KSM_KNOB_RUN, "start");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "merge");

	/* The kernel takes advisor_mode by name only. */
	ck_assert_int_eq(parse_ok(KSM_KNOB_ADVISOR_MODE, "none"), KSM_ADVISOR_NONE);
	ck_assert_int_eq(parse_ok(KSM_KNOB_ADVISOR_MODE, "scan-time"), KSM_ADVISOR_SCAN_TIME);
	parse_einval(KSM_KNOB_ADVISOR_MODE, "0");
	parse_einval(KSM_KNOB_ADVISOR_MODE, "1");
	parse_einval(KSM_KNOB_ADVISOR_MODE, "foo");
	parse_einval(KSM_KNOB_ADVISOR_MODE, "[none]");
	parse_einval(KSM_KNOB_ADVISOR_MODE, "scan");
}
END_TEST

START_TEST(test_parse_invalid)
{
	parse_einval(KSM_KNOB_RUN, "3");
	parse_einval(KSM_KNOB_RUN, "4");
	parse_einval(KSM_KNOB_RUN, "-1");
	parse_einval(KSM_KNOB_MAX_PAGE_SHARING, "1");
	parse_einval(KSM_KNOB_MAX_PAGE_SHARING, "-5");
	parse_einval(KSM_KNOB_MAX_PAGE_SHARING, "2147483648");
	parse_einval(KSM_KNOB_MERGE_ACROSS_NODES, "2");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "4294967296");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "abc");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "0x1");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "0X1");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "+");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "++1");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "+-1");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "-+1");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "+ 1");
	parse_einval(KSM_KNOB_RUN, "+merge");
	/* A percentage. */
	parse_einval(KSM_KNOB_ADVISOR_MAX_CPU, "101");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "   ");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "\n");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "-1");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "1.5");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "1e3");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "12abc");
	parse_einval(KSM_KNOB_SLEEP_MILLISECS, "-20");
	parse_einval(KSM_KNOB_ADVISOR_MAX_CPU, "-1");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, "99999999999999999999");
	parse_einval(KSM_KNOB_GENERAL_PROFIT, "99999999999999999999");
	parse_einval(KSM_KNOB_GENERAL_PROFIT, "-99999999999999999999");
	parse_einval(KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, "99999999999999999999");
	parse_einval(KSM_KNOB_PAGES_TO_SCAN, NULL);
	/* A text longer than any value is rejected, not truncated. */
	parse_einval(KSM_KNOB_PAGES_TO_SCAN,
		     "0000000000000000000000000000000000000000000000000000000000000000000000000001");
}
END_TEST

START_TEST(test_parse_boundaries)
{
	ck_assert_int_eq(parse_ok(KSM_KNOB_PAGES_TO_SCAN, "4294967295"), 4294967295LL);
	ck_assert_int_eq(parse_ok(KSM_KNOB_SLEEP_MILLISECS, "4294967295"), 4294967295LL);
	parse_einval(KSM_KNOB_SLEEP_MILLISECS, "4294967296");
	ck_assert_int_eq(parse_ok(KSM_KNOB_MAX_PAGE_SHARING, "2"), 2);
	ck_assert_int_eq(parse_ok(KSM_KNOB_MAX_PAGE_SHARING, "2147483647"), INT_MAX);
	ck_assert_int_eq(parse_ok(KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, "1"), 1);
	parse_einval(KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, "0");
	ck_assert_int_eq(parse_ok(KSM_KNOB_GENERAL_PROFIT, "9223372036854775807"), INT64_MAX);
	ck_assert_int_eq(parse_ok(KSM_KNOB_GENERAL_PROFIT, "-9223372036854775808"), INT64_MIN);
	parse_einval(KSM_KNOB_GENERAL_PROFIT, "9223372036854775808");
	parse_einval(KSM_KNOB_GENERAL_PROFIT, "-9223372036854775809");
}
END_TEST

/* Every tunable: min and max round-trip through format and parse; one step outside is rejected. */
START_TEST(test_parse_format_range)
{
	for (int i = 0; i < ksm_knob_count(); i++) {
		const struct ksm_knob_info *k = ksm_knob_info((enum ksm_knob)i);
		char buf[64];
		int64_t v;

		if (k->kind != KSM_KIND_TUNABLE)
			continue;
		ck_assert_int_gt(ksm_knob_format((enum ksm_knob)i, k->min, buf, sizeof(buf)), 0);
		ck_assert_int_eq(parse_ok((enum ksm_knob)i, buf), k->min);
		ck_assert_int_gt(ksm_knob_format((enum ksm_knob)i, k->max, buf, sizeof(buf)), 0);
		ck_assert_int_eq(parse_ok((enum ksm_knob)i, buf), k->max);
		if (i == KSM_KNOB_ADVISOR_MODE)
			continue;
		snprintf(buf, sizeof(buf), "%lld", (long long)k->min - 1);
		ck_assert_msg(ksm_knob_parse((enum ksm_knob)i, buf, &v) == -EINVAL, "%s accepts %s", k->name, buf);
		if (k->max < INT64_MAX) {
			snprintf(buf, sizeof(buf), "%lld", (long long)k->max + 1);
			ck_assert_msg(ksm_knob_parse((enum ksm_knob)i, buf, &v) == -EINVAL, "%s accepts %s",
				      k->name, buf);
		}
	}
}
END_TEST

START_TEST(test_parse_unknown_knob)
{
	int64_t v = 7;

	ck_assert_int_eq(ksm_knob_parse((enum ksm_knob)24, "1", &v), -ENOENT);
	ck_assert_int_eq(ksm_knob_parse((enum ksm_knob)-1, "1", &v), -ENOENT);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(ksm_knob_parse(KSM_KNOB_RUN, "1", NULL), -EINVAL);
}
END_TEST

/* ----------------------------------------------------------------- format */

START_TEST(test_format)
{
	char buf[32];

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME, buf, sizeof(buf)), 9);
	ck_assert_str_eq(buf, "scan-time");
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE, buf, sizeof(buf)), 4);
	ck_assert_str_eq(buf, "none");
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_ADVISOR_MODE, 2, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_ADVISOR_MODE, -1, buf, sizeof(buf)), -EINVAL);

	/* run is written as a number, as the kernel takes it. */
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_RUN, KSM_RUN_UNMERGE, buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "2");
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_PAGES_TO_SCAN, 100, buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "100");
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_PAGES_TO_SCAN, 4294967295LL, buf, sizeof(buf)), 10);
	ck_assert_str_eq(buf, "4294967295");
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_USE_ZERO_PAGES, 1, buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "1");
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_GENERAL_PROFIT, -64768, buf, sizeof(buf)), 6);
	ck_assert_str_eq(buf, "-64768");
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_GENERAL_PROFIT, INT64_MIN, buf, sizeof(buf)), 20);
	ck_assert_str_eq(buf, "-9223372036854775808");
}
END_TEST

START_TEST(test_format_short_buffer)
{
	char buf[16];

	/* "100" needs 4 bytes with its NUL. */
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_PAGES_TO_SCAN, 100, buf, 3), -ENOSPC);
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_PAGES_TO_SCAN, 100, buf, 4), 3);
	ck_assert_str_eq(buf, "100");
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_PAGES_TO_SCAN, 100, buf, 0), -ENOSPC);
	/* "scan-time" needs 10. */
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME, buf, 9), -ENOSPC);
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME, buf, 10), 9);
	ck_assert_str_eq(buf, "scan-time");
}
END_TEST

START_TEST(test_format_errors)
{
	char buf[16];

	ck_assert_int_eq(ksm_knob_format((enum ksm_knob)24, 1, buf, sizeof(buf)), -ENOENT);
	ck_assert_int_eq(ksm_knob_format((enum ksm_knob)-1, 1, buf, sizeof(buf)), -ENOENT);
	ck_assert_int_eq(ksm_knob_format(KSM_KNOB_RUN, 1, NULL, 16), -EINVAL);
}
END_TEST

/* -------------------------------------------------------- describe values */

static void assert_describes(enum ksm_knob knob, const char *expect)
{
	char buf[160];
	int r;

	memset(buf, 'x', sizeof(buf));
	r = ksm_knob_describe_values(knob, buf, sizeof(buf));
	ck_assert_msg(r == (int)strlen(expect) && strcmp(buf, expect) == 0,
		      "describe %s = %d \"%s\", expected %d \"%s\"", ksm_knob_info(knob)->name, r,
		      r >= 0 ? buf : "", (int)strlen(expect), expect);
}

START_TEST(test_describe_values)
{
	char expect[96];

	/* The examples of the header. */
	assert_describes(KSM_KNOB_PAGES_TO_SCAN, "0 to 4294967295");
	assert_describes(KSM_KNOB_SLEEP_MILLISECS, "0 to 4294967295");
	assert_describes(KSM_KNOB_MAX_PAGE_SHARING, "2 to 2147483647");
	assert_describes(KSM_KNOB_USE_ZERO_PAGES, "0 or 1 (also y/n, yes/no, on/off, true/false)");
	assert_describes(KSM_KNOB_MERGE_ACROSS_NODES, "0 or 1 (also y/n, yes/no, on/off, true/false)");
	assert_describes(KSM_KNOB_SMART_SCAN, "0 or 1 (also y/n, yes/no, on/off, true/false)");
	assert_describes(KSM_KNOB_RUN, "stop (0), merge (1) or unmerge (2)");
	assert_describes(KSM_KNOB_ADVISOR_MODE, "none or scan-time");
	/* Every number range is the table's. */
	for (int i = 0; i < ksm_knob_count(); i++) {
		const struct ksm_knob_info *k = ksm_knob_info((enum ksm_knob)i);

		if (k->kind != KSM_KIND_TUNABLE || (k->type != KSM_TYPE_UNSIGNED && k->type != KSM_TYPE_SIGNED))
			continue;
		snprintf(expect, sizeof(expect), "%lld to %lld", (long long)k->min, (long long)k->max);
		assert_describes((enum ksm_knob)i, expect);
	}
}
END_TEST

START_TEST(test_describe_values_errors)
{
	char buf[64];

	/* A counter accepts nothing. */
	for (int i = 0; i < ksm_knob_count(); i++) {
		if (ksm_knob_info((enum ksm_knob)i)->kind != KSM_KIND_COUNTER)
			continue;
		ck_assert_msg(ksm_knob_describe_values((enum ksm_knob)i, buf, sizeof(buf)) == -EPERM,
			      "describe %s is not -EPERM", ksm_knob_info((enum ksm_knob)i)->name);
	}
	ck_assert_int_eq(ksm_knob_describe_values((enum ksm_knob)24, buf, sizeof(buf)), -ENOENT);
	ck_assert_int_eq(ksm_knob_describe_values((enum ksm_knob)-1, buf, sizeof(buf)), -ENOENT);
	/* "none or scan-time" is 17 characters: 18 bytes with the NUL. */
	ck_assert_int_eq(ksm_knob_describe_values(KSM_KNOB_ADVISOR_MODE, buf, 17), -ENOSPC);
	ck_assert_int_eq(ksm_knob_describe_values(KSM_KNOB_ADVISOR_MODE, buf, 0), -ENOSPC);
	ck_assert_int_eq(ksm_knob_describe_values(KSM_KNOB_ADVISOR_MODE, buf, 18), 17);
	ck_assert_str_eq(buf, "none or scan-time");
	ck_assert_int_eq(ksm_knob_describe_values(KSM_KNOB_RUN, NULL, 16), -EINVAL);
}
END_TEST

/* --------------------------------------------------------------- features */

START_TEST(test_feature_names)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
		{ KSM_FEATURE_KSM, "ksm" },
		{ KSM_FEATURE_WRITABLE, "writable" },
		{ KSM_FEATURE_MERGE_ACROSS_NODES, "merge_across_nodes" },
		{ KSM_FEATURE_USE_ZERO_PAGES, "use_zero_pages" },
		{ KSM_FEATURE_MAX_PAGE_SHARING, "max_page_sharing" },
		{ KSM_FEATURE_GENERAL_PROFIT, "general_profit" },
		{ KSM_FEATURE_KSM_ZERO_PAGES, "ksm_zero_pages" },
		{ KSM_FEATURE_SMART_SCAN, "smart_scan" },
		{ KSM_FEATURE_ADVISOR, "advisor" },
		{ KSM_FEATURE_PRCTL_MEMORY_MERGE, "prctl_memory_merge" },
		{ KSM_FEATURE_PROC_KSM_STAT, "proc_ksm_stat" },
		{ KSM_FEATURE_SELECTIVE_KSM, "selective_ksm" },
	};
	const size_t n = sizeof(names) / sizeof(names[0]);

	/* The bits are 0..11 without gaps; no call uses a bit 12 (0.1's process_ksm). */
	ck_assert_int_eq(n, 12);
	for (size_t i = 0; i < n; i++) {
		const char *got = ksm_feature_name(names[i].bit);

		ck_assert_uint_eq(names[i].bit, UINT64_C(1) << i);
		ck_assert_msg(got != NULL, "bit %zu has no name", i);
		ck_assert_str_eq(got, names[i].name);
	}
	ck_assert_ptr_null(ksm_feature_name(0));
	ck_assert_ptr_null(ksm_feature_name(KSM_FEATURE_KSM | KSM_FEATURE_WRITABLE));
	ck_assert_ptr_null(ksm_feature_name(KSM_FEATURE_ADVISOR | KSM_FEATURE_SMART_SCAN));
	ck_assert_ptr_null(ksm_feature_name(UINT64_C(1) << 12));
	ck_assert_ptr_null(ksm_feature_name(UINT64_C(1) << 13));
	ck_assert_ptr_null(ksm_feature_name(UINT64_C(1) << 63));
	ck_assert_ptr_null(ksm_feature_name(UINT64_MAX));
}
END_TEST

static Suite *table_suite(void)
{
	Suite *s = suite_create("table");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_test(tc, test_count);
	tcase_add_test(tc, test_info_complete);
	tcase_add_loop_test(tc, test_info_matches_abi, 0, N_EXPECTED);
	tcase_add_test(tc, test_names_are_the_sysfs_files);
	tcase_add_test(tc, test_kinds_and_types);
	tcase_add_test(tc, test_requires);
	tcase_add_test(tc, test_enum_values);
	tcase_add_test(tc, test_lookup);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_numbers);
	tcase_add_test(tc, test_parse_blanks);
	tcase_add_test(tc, test_parse_bool_words);
	tcase_add_test(tc, test_parse_enum_names);
	tcase_add_test(tc, test_parse_invalid);
	tcase_add_test(tc, test_parse_grammar);
	tcase_add_test(tc, test_parse_boundaries);
	tcase_add_test(tc, test_parse_format_range);
	tcase_add_test(tc, test_parse_unknown_knob);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_format_short_buffer);
	tcase_add_test(tc, test_format_errors);
	tcase_add_test(tc, test_describe_values);
	tcase_add_test(tc, test_describe_values_errors);
	tcase_add_test(tc, test_feature_names);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return tu_run_suite(table_suite());
}

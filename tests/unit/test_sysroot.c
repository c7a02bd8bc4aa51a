// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The library against copies of the fake sysroots in tests/sysroots. Every
 * test works on a fresh copy (tu_sysroot_copy()), removed by the checked
 * teardown. Expected values are taken from the raw files by the test's own
 * parsing, or spelled out for the trees whose numbers are documented in
 * tests/sysroots/README.md.
 */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <ksm.h>

#include "testutil.h"

#define KSM_REL "sys/kernel/mm/ksm"
#define BIT(k) (UINT64_C(1) << (k))

/* present masks */
#define M_BASE                                                                                       \
	(BIT(KSM_KNOB_RUN) | BIT(KSM_KNOB_PAGES_TO_SCAN) | BIT(KSM_KNOB_SLEEP_MILLISECS) |           \
	 BIT(KSM_KNOB_PAGES_SHARED) | BIT(KSM_KNOB_PAGES_SHARING) | BIT(KSM_KNOB_PAGES_UNSHARED) |   \
	 BIT(KSM_KNOB_PAGES_VOLATILE) | BIT(KSM_KNOB_FULL_SCANS))
#define M_418                                                                                        \
	(M_BASE | BIT(KSM_KNOB_MERGE_ACROSS_NODES) | BIT(KSM_KNOB_USE_ZERO_PAGES) |                  \
	 BIT(KSM_KNOB_MAX_PAGE_SHARING) | BIT(KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS) |         \
	 BIT(KSM_KNOB_STABLE_NODE_CHAINS) | BIT(KSM_KNOB_STABLE_NODE_DUPS))
#define M_ALL (BIT(24) - 1)
#define M_NONUMA (M_ALL & ~BIT(KSM_KNOB_MERGE_ACROSS_NODES))

/* feature masks, without KSM_FEATURE_WRITABLE */
#define F_418                                                                                        \
	(KSM_FEATURE_KSM | KSM_FEATURE_MERGE_ACROSS_NODES | KSM_FEATURE_USE_ZERO_PAGES |             \
	 KSM_FEATURE_MAX_PAGE_SHARING)
#define F_68                                                                                         \
	(F_418 | KSM_FEATURE_GENERAL_PROFIT | KSM_FEATURE_KSM_ZERO_PAGES | KSM_FEATURE_SMART_SCAN | \
	 KSM_FEATURE_ADVISOR | KSM_FEATURE_PROC_KSM_STAT)

static const struct gen {
	const char *name;
	int nfiles;       /* files in sys/kernel/mm/ksm */
	uint64_t present; /* ksm_stats.present */
	uint64_t features; /* ksm_probe_features() without WRITABLE */
} gens[] = {
	{ "2.6.32", 8, M_BASE, KSM_FEATURE_KSM },
	{ "4.18", 14, M_418, F_418 },
	{ "6.1", 14, M_418, F_418 | KSM_FEATURE_PROC_KSM_STAT },
	{ "6.8", 24, M_ALL, F_68 },
	{ "6.18", 24, M_ALL, F_68 },
	{ "6.18-merged", 24, M_ALL, F_68 },
	{ "6.18-advisor", 24, M_ALL, F_68 },
	{ "nonuma-6.18", 23, M_NONUMA, F_68 & ~KSM_FEATURE_MERGE_ACROSS_NODES },
};
#define N_GENS ((int)(sizeof(gens) / sizeof(gens[0])))

/* The copy and the context of the running test; the teardown releases both. */
static char *root;
static struct ksm_ctx *ctx;

static void teardown(void)
{
	tu_unuse(&root, &ctx);
}

/* Copy generation @name and open a context on it. */
static void use(const char *name)
{
	tu_use(name, &root, &ctx);
	ck_assert_ptr_nonnull(ctx);
}

static char *knob_rel(enum ksm_knob knob, char *buf, size_t size)
{
	snprintf(buf, size, KSM_REL "/%s", ksm_knob_info(knob)->name);
	return buf;
}

static bool knob_exists(enum ksm_knob knob)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/" KSM_REL "/%s", root, ksm_knob_info(knob)->name);
	return access(path, F_OK) == 0;
}

/* The raw text of a knob file; the caller frees it. */
static char *raw(enum ksm_knob knob)
{
	char rel[256];

	return tu_read(root, knob_rel(knob, rel, sizeof(rel)));
}

static void put(enum ksm_knob knob, const char *text)
{
	char rel[256];

	tu_write(root, knob_rel(knob, rel, sizeof(rel)), text);
}

static void assert_raw(enum ksm_knob knob, const char *expect)
{
	char *text = raw(knob);

	ck_assert_msg(strcmp(text, expect) == 0, "%s holds \"%s\", expected \"%s\"", ksm_knob_info(knob)->name,
		      text, expect);
	free(text);
}

/* The test's own reading of a kernel file: a decimal number, or advisor_mode's bracketed name. */
static int64_t raw_value(enum ksm_knob knob)
{
	char *text = raw(knob), *end;
	int64_t v;

	if (knob == KSM_KNOB_ADVISOR_MODE) {
		if (strstr(text, "[none]"))
			v = KSM_ADVISOR_NONE;
		else if (strstr(text, "[scan-time]"))
			v = KSM_ADVISOR_SCAN_TIME;
		else
			ck_abort_msg("advisor_mode holds \"%s\"", text);
	} else {
		errno = 0;
		v = strtoll(text, &end, 10);
		ck_assert_msg(errno == 0 && end != text && strcmp(end, "\n") == 0, "%s holds \"%s\"",
			      ksm_knob_info(knob)->name, text);
	}
	free(text);
	return v;
}

/* Raw text of every knob file, to prove that a failed call wrote nothing. */
struct snapshot {
	char *text[24];
};

static void snap_take(struct snapshot *s)
{
	for (int i = 0; i < 24; i++)
		s->text[i] = knob_exists((enum ksm_knob)i) ? raw((enum ksm_knob)i) : NULL;
}

/* Every file except @except (-1: none) still holds the snapshot's text. */
static void snap_check(const struct snapshot *s, int except)
{
	for (int i = 0; i < 24; i++) {
		if (i == except)
			continue;
		ck_assert_msg(knob_exists((enum ksm_knob)i) == (s->text[i] != NULL), "%s appeared or vanished",
			      ksm_knob_info((enum ksm_knob)i)->name);
		if (s->text[i])
			assert_raw((enum ksm_knob)i, s->text[i]);
	}
}

static void snap_free(struct snapshot *s)
{
	for (int i = 0; i < 24; i++) {
		free(s->text[i]);
		s->text[i] = NULL;
	}
}

/* The set of knobs that have a file in the copy, found by reading the directory. */
static uint64_t dir_mask(int *nfiles)
{
	char path[4096];
	struct dirent *de;
	uint64_t mask = 0;
	DIR *d;

	*nfiles = 0;
	snprintf(path, sizeof(path), "%s/" KSM_REL, root);
	d = opendir(path);
	ck_assert_msg(d != NULL, "opendir %s: %s", path, strerror(errno));
	while ((de = readdir(d))) {
		int k;

		if (de->d_name[0] == '.')
			continue;
		k = ksm_knob_lookup(de->d_name);
		ck_assert_msg(k >= 0, "unknown file %s in the tree", de->d_name);
		mask |= BIT(k);
		(*nfiles)++;
	}
	closedir(d);
	return mask;
}

static int64_t page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* ---------------------------------------------------------------- context */

START_TEST(test_new_at)
{
	use(gens[_i].name);
	ck_assert_str_eq(ksm_get_sysroot(ctx), root);
	ck_assert_int_eq(ksm_get_page_size(ctx), page_size());
}
END_TEST

START_TEST(test_env_sysroot)
{
	struct ksm_ctx *c = NULL;
	int64_t v = -1;

	root = tu_sysroot_copy("6.18-merged");
	ck_assert_int_eq(setenv("KSM_SYSROOT", root, 1), 0);
	ck_assert_int_eq(ksm_new(&ctx), 0);
	ck_assert_str_eq(ksm_get_sysroot(ctx), root);
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_PAGES_SHARING, &v), 0);
	ck_assert_int_eq(v, 996);

	/* ksm_new_at(NULL) is ksm_new(). */
	ck_assert_int_eq(ksm_new_at(&c, NULL), 0);
	ck_assert_str_eq(ksm_get_sysroot(c), root);
	ck_assert_ptr_null(ksm_unref(c));

	/* An explicit sysroot wins over the environment. */
	ck_assert_int_eq(setenv("KSM_SYSROOT", "/nonexistent-libksm-test", 1), 0);
	ck_assert_int_eq(ksm_new_at(&c, root), 0);
	ck_assert_str_eq(ksm_get_sysroot(c), root);
	ck_assert_ptr_null(ksm_unref(c));
	c = (struct ksm_ctx *)&v;
	ck_assert_int_eq(ksm_new(&c), -ENOENT);
	ck_assert_ptr_null(c);

	/* Empty means "/" (only looked at, nothing is read or written). */
	ck_assert_int_eq(setenv("KSM_SYSROOT", "", 1), 0);
	ck_assert_int_eq(ksm_new(&c), 0);
	ck_assert_str_eq(ksm_get_sysroot(c), "/");
	ck_assert_ptr_null(ksm_unref(c));
	ck_assert_int_eq(unsetenv("KSM_SYSROOT"), 0);
	ck_assert_int_eq(ksm_new(&c), 0);
	ck_assert_str_eq(ksm_get_sysroot(c), "/");
	ck_assert_ptr_null(ksm_unref(c));
}
END_TEST

START_TEST(test_missing_sysroot)
{
	char path[4096];
	struct ksm_ctx *c = (struct ksm_ctx *)path;

	root = tu_sysroot_copy("6.18");
	snprintf(path, sizeof(path), "%s/does-not-exist", root);
	ck_assert_int_eq(ksm_new_at(&c, path), -ENOENT);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(ksm_new_at(NULL, root), -EINVAL);
}
END_TEST

START_TEST(test_sysroot_is_file)
{
	char path[4096];
	struct ksm_ctx *c = (struct ksm_ctx *)path;

	root = tu_sysroot_copy("6.18");
	snprintf(path, sizeof(path), "%s/" KSM_REL "/run", root);
	ck_assert_int_eq(ksm_new_at(&c, path), -ENOTDIR);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_noksm)
{
	struct ksm_stats st;
	uint64_t f = ~UINT64_C(0);
	int64_t v = 42;

	use("noksm");
	for (int i = 0; i < ksm_knob_count(); i++)
		ck_assert_int_eq(ksm_get(ctx, (enum ksm_knob)i, &v), -ENOENT);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), -ENOENT);
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_PAGES_TO_SCAN, 100), -ENOENT);
	ck_assert_int_eq(ksm_start(ctx), -ENOENT);
	ck_assert_int_eq(ksm_probe_features(ctx, &f), 0);
	ck_assert_uint_eq(f, 0);
	/* Nothing was created. */
	{
		char path[4096];
		snprintf(path, sizeof(path), "%s/" KSM_REL, root);
		ck_assert_int_eq(access(path, F_OK), -1);
		ck_assert_int_eq(errno, ENOENT);
	}
}
END_TEST

START_TEST(test_refcount)
{
	use("6.18");
	ck_assert_ptr_eq(ksm_ref(ctx), ctx);
	ck_assert_ptr_eq(ksm_ref(ctx), ctx);
	ck_assert_ptr_eq(ksm_unref(ctx), ctx);
	ck_assert_ptr_eq(ksm_unref(ctx), ctx);
	/* The context still works with its last reference. */
	{
		int64_t v;
		ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_PAGES_TO_SCAN, &v), 0);
		ck_assert_int_eq(v, 100);
	}
	ck_assert_ptr_null(ksm_unref(ctx));
	ctx = NULL;
	ck_assert_ptr_null(ksm_ref(NULL));
	ck_assert_ptr_null(ksm_unref(NULL));
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct ksm_stats st;
	int64_t v;

	use("6.18");
	ck_assert_int_eq(ksm_get(NULL, KSM_KNOB_RUN, &v), -EINVAL);
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_RUN, NULL), -EINVAL);
	ck_assert_int_eq(ksm_get(ctx, (enum ksm_knob)24, &v), -ENOENT);
	ck_assert_int_eq(ksm_set(NULL, KSM_KNOB_RUN, 1), -EINVAL);
	ck_assert_int_eq(ksm_set(ctx, (enum ksm_knob)24, 1), -ENOENT);
	ck_assert_int_eq(ksm_stats_read(ctx, NULL, sizeof(struct ksm_stats)), -EINVAL);
	ck_assert_int_eq(ksm_stats_read(NULL, &st, sizeof(st)), -EINVAL);
	ck_assert_int_eq(ksm_probe_features(ctx, NULL), -EINVAL);
	ck_assert_int_eq(ksm_probe_features(NULL, (uint64_t *)&v), -EINVAL);
	assert_raw(KSM_KNOB_RUN, "0\n");
}
END_TEST

/* ------------------------------------------------------------------- read */

START_TEST(test_get_every_knob)
{
	use(gens[_i].name);
	for (int i = 0; i < ksm_knob_count(); i++) {
		enum ksm_knob k = (enum ksm_knob)i;
		int64_t v = -777;
		int r = ksm_get(ctx, k, &v);

		if (gens[_i].present & BIT(i)) {
			ck_assert_msg(knob_exists(k), "%s: %s missing in the tree", gens[_i].name,
				      ksm_knob_info(k)->name);
			ck_assert_msg(r == 0, "%s: get %s: %d", gens[_i].name, ksm_knob_info(k)->name, r);
			ck_assert_msg(v == raw_value(k), "%s: get %s = %lld, file %lld", gens[_i].name,
				      ksm_knob_info(k)->name, (long long)v, (long long)raw_value(k));
		} else {
			ck_assert_msg(!knob_exists(k), "%s: %s should not exist", gens[_i].name,
				      ksm_knob_info(k)->name);
			ck_assert_msg(r == -ENOENT, "%s: get %s: %d, expected -ENOENT", gens[_i].name,
				      ksm_knob_info(k)->name, r);
		}
	}
}
END_TEST

START_TEST(test_get_known_values)
{
	int64_t v;

	use("6.18-advisor");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_ADVISOR_MODE, &v), 0);
	ck_assert_int_eq(v, KSM_ADVISOR_SCAN_TIME);
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_PAGES_TO_SCAN, &v), 0);
	ck_assert_int_eq(v, 500);
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_RUN, &v), 0);
	ck_assert_int_eq(v, KSM_RUN_MERGE);
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_MAX_PAGE_SHARING, &v), 0);
	ck_assert_int_eq(v, 256);
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, &v), 0);
	ck_assert_int_eq(v, 30000);
}
END_TEST

/* A value changed behind the library's back is seen at the next read. */
START_TEST(test_get_fresh_value)
{
	int64_t v;

	use("6.18-merged");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_PAGES_SHARING, &v), 0);
	ck_assert_int_eq(v, 996);
	put(KSM_KNOB_PAGES_SHARING, "1000\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_PAGES_SHARING, &v), 0);
	ck_assert_int_eq(v, 1000);
	put(KSM_KNOB_PAGES_SHARING, "7\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_PAGES_SHARING, &v), 0);
	ck_assert_int_eq(v, 7);
}
END_TEST

START_TEST(test_run_offlining_bit)
{
	struct ksm_stats st;
	int64_t v;

	use("6.18");
	put(KSM_KNOB_RUN, "5\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_RUN, &v), 0);
	ck_assert_int_eq(v, KSM_RUN_MERGE);
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.run, KSM_RUN_MERGE);
	put(KSM_KNOB_RUN, "4\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_RUN, &v), 0);
	ck_assert_int_eq(v, KSM_RUN_STOP);
	put(KSM_KNOB_RUN, "6\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_RUN, &v), 0);
	ck_assert_int_eq(v, KSM_RUN_UNMERGE);
}
END_TEST

START_TEST(test_get_garbage)
{
	struct ksm_stats st;
	int64_t v = 42;

	use("6.18");
	put(KSM_KNOB_PAGES_TO_SCAN, "abc\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_PAGES_TO_SCAN, &v), -EBADMSG);
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), -EBADMSG);
	put(KSM_KNOB_PAGES_TO_SCAN, "");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_PAGES_TO_SCAN, &v), -EBADMSG);
	put(KSM_KNOB_PAGES_TO_SCAN, "0x10\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_PAGES_TO_SCAN, &v), -EBADMSG);
	put(KSM_KNOB_PAGES_TO_SCAN, "99999999999999999999\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_PAGES_TO_SCAN, &v), -EBADMSG);
	put(KSM_KNOB_ADVISOR_MODE, "none scan-time\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_ADVISOR_MODE, &v), -EBADMSG);
	put(KSM_KNOB_ADVISOR_MODE, "[bogus] none\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_ADVISOR_MODE, &v), -EBADMSG);
	put(KSM_KNOB_ADVISOR_MODE, "none [scan-time\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_ADVISOR_MODE, &v), -EBADMSG);
	ck_assert_int_eq(v, 42);
	/* A signed counter may be negative. */
	put(KSM_KNOB_GENERAL_PROFIT, "-4096\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_GENERAL_PROFIT, &v), 0);
	ck_assert_int_eq(v, -4096);
}
END_TEST

/* ------------------------------------------------------------------ stats */

START_TEST(test_stats_present)
{
	struct ksm_stats st;
	int nfiles;
	uint64_t mask;

	use(gens[_i].name);
	mask = dir_mask(&nfiles);
	ck_assert_int_eq(nfiles, gens[_i].nfiles);
	ck_assert_uint_eq(mask, gens[_i].present);

	memset(&st, 0xa5, sizeof(st)); /* no initialisation needed */
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.present, mask);
	ck_assert_int_eq(st.page_size, page_size());
	for (int i = 0; i < ksm_knob_count(); i++) {
		enum ksm_knob k = (enum ksm_knob)i;
		int64_t v = -777;
		int r = ksm_stats_value(&st, k, &v);

		if (mask & BIT(i)) {
			ck_assert_int_eq(r, 0);
			ck_assert_msg(v == raw_value(k), "%s: stats %s = %lld, file %lld", gens[_i].name,
				      ksm_knob_info(k)->name, (long long)v, (long long)raw_value(k));
		} else {
			ck_assert_int_eq(r, -ENOENT);
			ck_assert_int_eq(v, -777);
		}
	}
	/* Spot checks of the named fields against the same files. */
	ck_assert_int_eq(st.run, raw_value(KSM_KNOB_RUN));
	ck_assert_int_eq(st.pages_to_scan, raw_value(KSM_KNOB_PAGES_TO_SCAN));
	ck_assert_int_eq(st.pages_sharing, raw_value(KSM_KNOB_PAGES_SHARING));
	ck_assert_int_eq(st.full_scans, raw_value(KSM_KNOB_FULL_SCANS));
	if (mask & BIT(KSM_KNOB_GENERAL_PROFIT))
		ck_assert_int_eq(st.general_profit, raw_value(KSM_KNOB_GENERAL_PROFIT));
	else
		ck_assert_int_eq(st.general_profit, 0);
	if (!(mask & BIT(KSM_KNOB_MAX_PAGE_SHARING)))
		ck_assert_int_eq(st.max_page_sharing, 0);
}
END_TEST

START_TEST(test_stats_merged)
{
	struct ksm_stats st;

	use("6.18-merged");
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.run, 1);
	ck_assert_int_eq(st.pages_shared, 4);
	ck_assert_int_eq(st.pages_sharing, 996);
	ck_assert_int_eq(st.pages_unshared, 10);
	ck_assert_int_eq(st.pages_volatile, 2);
	ck_assert_int_eq(st.ksm_zero_pages, 0);
	ck_assert_int_eq(st.full_scans, 7);
	ck_assert_int_eq(st.general_profit, 4014848);
	ck_assert_int_eq(st.advisor_mode, KSM_ADVISOR_NONE);

	ck_assert_int_eq(st.page_size, page_size());
	ck_assert_int_eq(st.saved_pages, 996);
	ck_assert_int_eq(st.saved_bytes, 996 * page_size());
	ck_assert_int_eq(st.profit_bytes, 4014848);
	ck_assert_double_eq(st.sharing_ratio, 996 / 4.0);
	ck_assert_double_eq(st.effectiveness, 996.0 / 1012.0);

	/* Zero pages count as saved and as tracked. */
	put(KSM_KNOB_KSM_ZERO_PAGES, "24\n");
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.saved_pages, 1020);
	ck_assert_int_eq(st.saved_bytes, 1020 * page_size());
	ck_assert_int_eq(st.profit_bytes, 4014848); /* the kernel's file, as it is */
	ck_assert_double_eq(st.sharing_ratio, 996 / 4.0);
	ck_assert_double_eq(st.effectiveness, 1020.0 / 1036.0);
}
END_TEST

START_TEST(test_stats_idle)
{
	struct ksm_stats st;

	use("6.18");
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.saved_pages, 0);
	ck_assert_int_eq(st.saved_bytes, 0);
	ck_assert_int_eq(st.profit_bytes, 0);
	ck_assert_double_eq(st.sharing_ratio, 0.0);
	ck_assert_double_eq(st.effectiveness, 0.0);
	ck_assert_int_eq(st.pages_to_scan, 100);
	ck_assert_int_eq(st.max_page_sharing, 256);
	ck_assert_int_eq(st.smart_scan, 1);
}
END_TEST

/* Without general_profit the library uses the kernel's formula. */
START_TEST(test_stats_profit_formula)
{
	struct ksm_stats st;
	int64_t expect;

	use(_i == 0 ? "4.18" : "6.1");
	put(KSM_KNOB_PAGES_SHARED, "3\n");
	put(KSM_KNOB_PAGES_SHARING, "50\n");
	put(KSM_KNOB_PAGES_UNSHARED, "7\n");
	put(KSM_KNOB_PAGES_VOLATILE, "1\n");
	expect = 50 * page_size() - (3 + 50 + 7 + 1) * tu_rmap_item_size();
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.present & BIT(KSM_KNOB_GENERAL_PROFIT), 0);
	ck_assert_int_eq(st.general_profit, 0);
	ck_assert_int_eq(st.saved_pages, 50);
	ck_assert_int_eq(st.saved_bytes, 50 * page_size());
	ck_assert_int_eq(st.profit_bytes, expect);
	ck_assert_double_eq(st.sharing_ratio, 50 / 3.0);
	ck_assert_double_eq(st.effectiveness, 50.0 / 61.0);

	/* Metadata can outweigh the savings. */
	put(KSM_KNOB_PAGES_SHARING, "0\n");
	put(KSM_KNOB_PAGES_UNSHARED, "100000\n");
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.profit_bytes, -(3 + 100000 + 1) * tu_rmap_item_size());
	ck_assert_double_eq(st.sharing_ratio, 0.0);
	ck_assert_double_eq(st.effectiveness, 0.0);
}
END_TEST

START_TEST(test_stats_value)
{
	struct ksm_stats st;
	int64_t v = -777;

	use("6.18-merged");
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), 0);
	ck_assert_int_eq(ksm_stats_value(&st, KSM_KNOB_PAGES_SHARED, &v), 0);
	ck_assert_int_eq(v, 4);
	ck_assert_int_eq(ksm_stats_value(&st, KSM_KNOB_ADVISOR_MODE, &v), 0);
	ck_assert_int_eq(v, KSM_ADVISOR_NONE);
	/* Every knob's field is the one of its name. */
	for (int i = 0; i < ksm_knob_count(); i++) {
		ck_assert_int_eq(ksm_stats_value(&st, (enum ksm_knob)i, &v), 0);
		ck_assert_msg(v == raw_value((enum ksm_knob)i), "stats value of %s = %lld, file %lld",
			      ksm_knob_info((enum ksm_knob)i)->name, (long long)v,
			      (long long)raw_value((enum ksm_knob)i));
	}
	v = -777;
	ck_assert_int_eq(ksm_stats_value(&st, (enum ksm_knob)24, &v), -EINVAL);
	ck_assert_int_eq(ksm_stats_value(&st, (enum ksm_knob)-1, &v), -EINVAL);
	ck_assert_int_eq(v, -777);
	ck_assert_int_eq(ksm_stats_value(&st, KSM_KNOB_RUN, NULL), -EINVAL);
	ck_assert_int_eq(ksm_stats_value(NULL, KSM_KNOB_RUN, &v), -EINVAL);
	/* A bit cleared in .present: the field does not count. */
	st.present &= ~BIT(KSM_KNOB_PAGES_SHARED);
	ck_assert_int_eq(ksm_stats_value(&st, KSM_KNOB_PAGES_SHARED, &v), -ENOENT);
	ck_assert_int_eq(v, -777);
}
END_TEST

/* ------------------------------------------------------------------ write */

/* A valid value different from every tree's default, and its kernel text. */
static const struct {
	enum ksm_knob knob;
	int64_t value;
	const char *text;
} new_values[] = {
	{ KSM_KNOB_RUN, 1, "1\n" },
	{ KSM_KNOB_PAGES_TO_SCAN, 1234, "1234\n" },
	{ KSM_KNOB_SLEEP_MILLISECS, 50, "50\n" },
	{ KSM_KNOB_MERGE_ACROSS_NODES, 0, "0\n" },
	{ KSM_KNOB_USE_ZERO_PAGES, 1, "1\n" },
	{ KSM_KNOB_MAX_PAGE_SHARING, 512, "512\n" },
	{ KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, 3000, "3000\n" },
	{ KSM_KNOB_SMART_SCAN, 0, "0\n" },
	{ KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME, "scan-time\n" },
	{ KSM_KNOB_ADVISOR_MAX_CPU, 80, "80\n" },
	{ KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, 600, "600\n" },
	{ KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, 40000, "40000\n" },
	{ KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, 300, "300\n" },
};

/* Loop over 2.6.32, 4.18, 6.8, 6.18: every tunable present is written exactly, and nothing else. */
START_TEST(test_set_every_tunable)
{
	static const char *const trees[] = { "2.6.32", "4.18", "6.8", "6.18" };
	int written = 0;

	use(trees[_i]);
	ck_assert_int_eq((int)(sizeof(new_values) / sizeof(new_values[0])), 13);
	for (size_t n = 0; n < sizeof(new_values) / sizeof(new_values[0]); n++) {
		enum ksm_knob k = new_values[n].knob;
		struct snapshot s;
		int64_t v;
		int r;

		ck_assert_int_eq(ksm_knob_info(k)->kind, KSM_KIND_TUNABLE);
		snap_take(&s);
		r = ksm_set(ctx, k, new_values[n].value);
		if (!s.text[k]) {
			ck_assert_msg(r == -ENOENT, "%s: set absent %s: %d", trees[_i], ksm_knob_info(k)->name, r);
			snap_check(&s, -1);
			snap_free(&s);
			continue;
		}
		ck_assert_msg(r == 0, "%s: set %s: %d", trees[_i], ksm_knob_info(k)->name, r);
		assert_raw(k, new_values[n].text);
		snap_check(&s, (int)k);
		snap_free(&s);
		/* advisor_mode is written as the kernel takes it, not as it prints it: no read-back. */
		if (k != KSM_KNOB_ADVISOR_MODE) {
			ck_assert_int_eq(ksm_get(ctx, k, &v), 0);
			ck_assert_int_eq(v, new_values[n].value);
		}
		written++;
	}
	ck_assert_int_eq(written, _i == 0 ? 3 : _i == 1 ? 7 : 13);
}
END_TEST

START_TEST(test_set_text)
{
	use("6.18");
	ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_USE_ZERO_PAGES, "yes"), 0);
	assert_raw(KSM_KNOB_USE_ZERO_PAGES, "1\n");
	ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_SMART_SCAN, " off\n"), 0);
	assert_raw(KSM_KNOB_SMART_SCAN, "0\n");
	ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_RUN, "unmerge"), 0);
	assert_raw(KSM_KNOB_RUN, "2\n");
	ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_PAGES_TO_SCAN, "4294967295"), 0);
	assert_raw(KSM_KNOB_PAGES_TO_SCAN, "4294967295\n");
	ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_PAGES_TO_SCAN, "abc"), -EINVAL);
	ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_PAGES_TO_SCAN, "4294967296"), -EINVAL);
	assert_raw(KSM_KNOB_PAGES_TO_SCAN, "4294967295\n");
	ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_ADVISOR_MODE, "1"), -EINVAL);
	assert_raw(KSM_KNOB_ADVISOR_MODE, "[none] scan-time\n");
	ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_ADVISOR_MODE, "scan-time"), 0);
	assert_raw(KSM_KNOB_ADVISOR_MODE, "scan-time\n");
	ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_PAGES_SHARED, "0"), -EPERM);
}
END_TEST

START_TEST(test_set_counter)
{
	struct snapshot s;

	use("6.18-merged");
	snap_take(&s);
	for (int i = 0; i < ksm_knob_count(); i++) {
		enum ksm_knob k = (enum ksm_knob)i;

		if (ksm_knob_info(k)->kind != KSM_KIND_COUNTER)
			continue;
		ck_assert_msg(ksm_set(ctx, k, 1) == -EPERM, "set %s", ksm_knob_info(k)->name);
		ck_assert_msg(ksm_set(ctx, k, 0) == -EPERM, "set %s", ksm_knob_info(k)->name);
	}
	snap_check(&s, -1);
	snap_free(&s);
}
END_TEST

START_TEST(test_set_out_of_range)
{
	static const struct {
		enum ksm_knob knob;
		int64_t value;
	} bad[] = {
		{ KSM_KNOB_RUN, 3 },
		{ KSM_KNOB_RUN, 4 },
		{ KSM_KNOB_RUN, -1 },
		{ KSM_KNOB_PAGES_TO_SCAN, 4294967296LL },
		{ KSM_KNOB_PAGES_TO_SCAN, -1 },
		{ KSM_KNOB_SLEEP_MILLISECS, -20 },
		{ KSM_KNOB_MAX_PAGE_SHARING, 1 },
		{ KSM_KNOB_MAX_PAGE_SHARING, 2147483648LL },
		{ KSM_KNOB_MERGE_ACROSS_NODES, 2 },
		{ KSM_KNOB_USE_ZERO_PAGES, 2 },
		{ KSM_KNOB_SMART_SCAN, -1 },
		{ KSM_KNOB_ADVISOR_MODE, 2 },
		{ KSM_KNOB_ADVISOR_MODE, -1 },
		{ KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, 0 },
		{ KSM_KNOB_ADVISOR_MAX_CPU, 4294967296LL },
	};
	struct snapshot s;

	use("6.18");
	snap_take(&s);
	for (size_t n = 0; n < sizeof(bad) / sizeof(bad[0]); n++) {
		int r = ksm_set(ctx, bad[n].knob, bad[n].value);
		ck_assert_msg(r == -EINVAL, "set %s=%lld: %d", ksm_knob_info(bad[n].knob)->name,
			      (long long)bad[n].value, r);
	}
	snap_check(&s, -1);
	snap_free(&s);

	/* The edges themselves are accepted. */
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_PAGES_TO_SCAN, 4294967295LL), 0);
	assert_raw(KSM_KNOB_PAGES_TO_SCAN, "4294967295\n");
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_PAGES_TO_SCAN, 0), 0);
	assert_raw(KSM_KNOB_PAGES_TO_SCAN, "0\n");
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MAX_PAGE_SHARING, 2), 0);
	assert_raw(KSM_KNOB_MAX_PAGE_SHARING, "2\n");
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, 1), 0);
	assert_raw(KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, "1\n");
}
END_TEST

START_TEST(test_set_busy_merged)
{
	struct snapshot s;

	use("6.18-merged");
	snap_take(&s);
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MERGE_ACROSS_NODES, 0), -EBUSY);
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MAX_PAGE_SHARING, 512), -EBUSY);
	ck_assert_int_eq(ksm_set_text(ctx, KSM_KNOB_MAX_PAGE_SHARING, "2"), -EBUSY);
	snap_check(&s, -1);
	snap_free(&s);

	/*
	 * Writing the current value is allowed. The files get a trailing blank
	 * (which the parser ignores) so that the rewrite to "1\n" proves the
	 * write took place.
	 */
	put(KSM_KNOB_MERGE_ACROSS_NODES, "1 \n");
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MERGE_ACROSS_NODES, 1), 0);
	assert_raw(KSM_KNOB_MERGE_ACROSS_NODES, "1\n");
	put(KSM_KNOB_MAX_PAGE_SHARING, "256 \n");
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MAX_PAGE_SHARING, 256), 0);
	assert_raw(KSM_KNOB_MAX_PAGE_SHARING, "256\n");

	/* Other tunables do not care about merged pages. */
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_USE_ZERO_PAGES, 1), 0);
	assert_raw(KSM_KNOB_USE_ZERO_PAGES, "1\n");

	/* Once nothing is shared (after run=2), both can change. */
	put(KSM_KNOB_PAGES_SHARED, "0\n");
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MERGE_ACROSS_NODES, 0), 0);
	assert_raw(KSM_KNOB_MERGE_ACROSS_NODES, "0\n");
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MAX_PAGE_SHARING, 512), 0);
	assert_raw(KSM_KNOB_MAX_PAGE_SHARING, "512\n");
}
END_TEST

START_TEST(test_set_busy_advisor)
{
	struct snapshot s;

	use("6.18-advisor");
	snap_take(&s);
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_PAGES_TO_SCAN, 100), -EBUSY);
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_PAGES_TO_SCAN, 500), -EBUSY);
	snap_check(&s, -1);
	snap_free(&s);
	assert_raw(KSM_KNOB_PAGES_TO_SCAN, "500\n");

	/* The advisor's own knobs stay writable. */
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, 20000), 0);
	assert_raw(KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, "20000\n");

	/* Back to none, as the kernel would then print it: pages_to_scan is free again. */
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE), 0);
	assert_raw(KSM_KNOB_ADVISOR_MODE, "none\n");
	put(KSM_KNOB_ADVISOR_MODE, "[none] scan-time\n");
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_PAGES_TO_SCAN, 100), 0);
	assert_raw(KSM_KNOB_PAGES_TO_SCAN, "100\n");
}
END_TEST

START_TEST(test_set_advisor_mode)
{
	use("6.18");
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME), 0);
	assert_raw(KSM_KNOB_ADVISOR_MODE, "scan-time\n");
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE), 0);
	assert_raw(KSM_KNOB_ADVISOR_MODE, "none\n");
}
END_TEST

START_TEST(test_set_absent)
{
	char path[4096];

	use("4.18");
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_SMART_SCAN, 0), -ENOENT);
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME), -ENOENT);
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_ADVISOR_MAX_CPU, 50), -ENOENT);
	snprintf(path, sizeof(path), "%s/" KSM_REL "/smart_scan", root);
	ck_assert_int_eq(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/" KSM_REL "/advisor_max_cpu", root);
	ck_assert_int_eq(access(path, F_OK), -1);
	/* No advisor: pages_to_scan is free. */
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_PAGES_TO_SCAN, 200), 0);
	assert_raw(KSM_KNOB_PAGES_TO_SCAN, "200\n");
	teardown();

	use("nonuma-6.18");
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MERGE_ACROSS_NODES, 1), -ENOENT);
	snprintf(path, sizeof(path), "%s/" KSM_REL "/merge_across_nodes", root);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

START_TEST(test_run_control)
{
	use("6.18");
	ck_assert_int_eq(ksm_start(ctx), 0);
	assert_raw(KSM_KNOB_RUN, "1\n");
	ck_assert_int_eq(ksm_stop(ctx), 0);
	assert_raw(KSM_KNOB_RUN, "0\n");
	ck_assert_int_eq(ksm_unmerge_all(ctx), 0);
	assert_raw(KSM_KNOB_RUN, "2\n");
	ck_assert_int_eq(ksm_start(NULL), -EINVAL);
}
END_TEST

START_TEST(test_set_read_only)
{
	char path[4096];
	uint64_t f;
	bool dac_bypass;
	int r;

	use("6.18");
	snprintf(path, sizeof(path), "%s/" KSM_REL "/run", root);
	ck_assert_int_eq(chmod(path, 0444), 0);
	/* Root (CAP_DAC_OVERRIDE) writes a 0444 regular file anyway; the kernel suite covers sysfs. */
	dac_bypass = access(path, W_OK) == 0;
	ck_assert_int_eq(ksm_probe_features(ctx, &f), 0);
	ck_assert_uint_eq(f & KSM_FEATURE_WRITABLE, dac_bypass ? KSM_FEATURE_WRITABLE : 0);
	r = ksm_start(ctx);
	if (dac_bypass) {
		ck_assert_int_eq(r, 0);
		assert_raw(KSM_KNOB_RUN, "1\n");
	} else {
		ck_assert_int_eq(r, -EACCES);
		assert_raw(KSM_KNOB_RUN, "0\n");
	}
}
END_TEST

/* --------------------------------------------------------------- features */

START_TEST(test_features)
{
	uint64_t f = 0;

	use(gens[_i].name);
	ck_assert_int_eq(ksm_probe_features(ctx, &f), 0);
	ck_assert_msg(f == (gens[_i].features | KSM_FEATURE_WRITABLE), "%s: features %#llx, expected %#llx",
		      gens[_i].name, (unsigned long long)f,
		      (unsigned long long)(gens[_i].features | KSM_FEATURE_WRITABLE));
	ck_assert_uint_eq(f & KSM_FEATURE_PRCTL_MEMORY_MERGE, 0);
}
END_TEST

START_TEST(test_features_extra_layouts)
{
	uint64_t f = 0;

	use("6.18");
	{
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/" KSM_REL "/control", root);
		ck_assert_int_eq(mkdir(dir, 0755), 0);
		snprintf(dir, sizeof(dir), "%s/sys/kernel/process_ksm", root);
		ck_assert_int_eq(mkdir(dir, 0755), 0);
	}
	tu_write(root, KSM_REL "/control/add_partition", "");
	/* The process_ksm proposal: no call uses it, so no bit reports it. */
	tu_write(root, "sys/kernel/process_ksm/process_ksm_enable", "");
	ck_assert_int_eq(ksm_probe_features(ctx, &f), 0);
	ck_assert_uint_eq(f, F_68 | KSM_FEATURE_WRITABLE | KSM_FEATURE_SELECTIVE_KSM);
}
END_TEST

/* ----------------------------------------------------------------- errors */

/* ksm_strerror(@err) as a string of our own (the library's is valid until its next call). */
static char *message(int err)
{
	const char *m = ksm_strerror(err);
	char *copy;

	ck_assert_msg(m != NULL, "ksm_strerror(%d) is NULL", err);
	copy = strdup(m);
	ck_assert_ptr_nonnull(copy);
	return copy;
}

static void assert_mentions(int err, const char *what)
{
	char *m = message(err);

	ck_assert_msg(strstr(m, what) != NULL, "ksm_strerror(%d) = \"%s\" does not name %s", err, m, what);
	free(m);
}

static void assert_not_mentions(int err, const char *what)
{
	char *m = message(err);

	ck_assert_msg(m[0] != '\0', "ksm_strerror(%d) is empty", err);
	ck_assert_msg(strstr(m, what) == NULL, "ksm_strerror(%d) = \"%s\" names %s", err, m, what);
	free(m);
}

START_TEST(test_strerror_detail)
{
	char *m;

	use("6.18-merged");
	/* A counter: the message names it. */
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_PAGES_SHARED, 1), -EPERM);
	assert_mentions(-EPERM, "pages_shared");
	assert_mentions(EPERM, "pages_shared"); /* a positive code is accepted too */
	/* Codes the last call did not return: the library's generic meaning. */
	assert_not_mentions(-EBUSY, "pages_shared");
	assert_not_mentions(-ENOENT, "pages_shared");
	/* A code the library never returns: strerror()'s text. */
	m = message(-EXDEV);
	ck_assert_str_eq(m, strerror(EXDEV));
	free(m);
	/* Asking twice does not lose the message. */
	assert_mentions(-EPERM, "pages_shared");

	/* A prerequisite: the knob and the cause. */
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MERGE_ACROSS_NODES, 0), -EBUSY);
	assert_mentions(-EBUSY, "merge_across_nodes");
	/* The earlier failure is forgotten: -EPERM is generic again. */
	assert_not_mentions(-EPERM, "pages_shared");

	/* A value out of range. */
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_PAGES_TO_SCAN, -1), -EINVAL);
	assert_mentions(-EINVAL, "pages_to_scan");
	assert_not_mentions(-EBUSY, "merge_across_nodes");
	assert_raw(KSM_KNOB_PAGES_TO_SCAN, "100\n");
}
END_TEST

struct other_thread {
	char before[512]; /* ksm_strerror(-EPERM) in the thread, before its own failure */
	int ret;          /* its own failing call */
	char after[512];  /* ksm_strerror(-EINVAL) after it */
};

static void *fail_in_thread(void *data)
{
	struct other_thread *t = data;

	snprintf(t->before, sizeof(t->before), "%s", ksm_strerror(-EPERM));
	t->ret = ksm_set(ctx, KSM_KNOB_SLEEP_MILLISECS, -5);
	snprintf(t->after, sizeof(t->after), "%s", ksm_strerror(-EINVAL));
	return NULL;
}

/* The message belongs to the thread whose call failed. */
START_TEST(test_strerror_thread)
{
	struct other_thread t;
	pthread_t th;

	use("6.18");
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_PAGES_SHARED, 1), -EPERM);
	ck_assert_int_eq(pthread_create(&th, NULL, fail_in_thread, &t), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_msg(t.before[0] != '\0' && strstr(t.before, "pages_shared") == NULL,
		      "another thread sees \"%s\"", t.before);
	ck_assert_int_eq(t.ret, -EINVAL);
	ck_assert_msg(strstr(t.after, "sleep_millisecs") != NULL, "the thread's own message: \"%s\"", t.after);
	/* This thread still has its own. */
	assert_mentions(-EPERM, "pages_shared");
	assert_not_mentions(-EINVAL, "sleep_millisecs");
}
END_TEST

/* The log priority: LOG_ERR, or what KSM_LOG says when the context is made. */
START_TEST(test_log_priority)
{
	static const struct {
		const char *env;
		int prio;
	} envs[] = {
		{ "err", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
		{ "info", LOG_INFO }, { "debug", LOG_DEBUG }, { "6", LOG_INFO }, { "3", LOG_ERR },
	};

	root = tu_sysroot_copy("6.18");
	ck_assert_int_eq(unsetenv("KSM_LOG"), 0);
	ck_assert_int_eq(ksm_new_at(&ctx, root), 0);
	ck_assert_int_eq(ksm_get_log_priority(ctx), LOG_ERR);
	ksm_set_log_priority(ctx, LOG_NOTICE);
	ck_assert_int_eq(ksm_get_log_priority(ctx), LOG_NOTICE);
	ksm_set_log_priority(ctx, LOG_DEBUG);
	ck_assert_int_eq(ksm_get_log_priority(ctx), LOG_DEBUG);
	ctx = ksm_unref(ctx);
	ck_assert_ptr_null(ctx);

	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		ck_assert_int_eq(setenv("KSM_LOG", envs[i].env, 1), 0);
		ck_assert_int_eq(ksm_new_at(&ctx, root), 0);
		ck_assert_msg(ksm_get_log_priority(ctx) == envs[i].prio, "KSM_LOG=%s: priority %d, expected %d",
			      envs[i].env, ksm_get_log_priority(ctx), envs[i].prio);
		/* Set later, the variable changes nothing for a context that exists. */
		ck_assert_int_eq(setenv("KSM_LOG", "debug", 1), 0);
		ck_assert_int_eq(ksm_get_log_priority(ctx), envs[i].prio);
		ctx = ksm_unref(ctx);
	}
	ck_assert_int_eq(unsetenv("KSM_LOG"), 0);
}
END_TEST

static int logged;
static int logged_worst; /* the most urgent priority seen (smallest number) */

static void count_log(void *data, int priority, const char *file, int line, const char *fn,
		      const char *format, va_list args)
{
	(void)data;
	(void)file;
	(void)line;
	(void)fn;
	(void)format;
	(void)args;
	logged++;
	if (priority < logged_worst)
		logged_worst = priority;
}

/* Failures of a call are its return value, not log messages. */
START_TEST(test_failures_not_logged)
{
	use("6.18-merged");
	logged = 0;
	logged_worst = LOG_DEBUG + 1;
	ksm_set_log_fn(ctx, count_log, NULL);
	ksm_set_log_priority(ctx, LOG_WARNING);
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_PAGES_SHARED, 1), -EPERM);
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MAX_PAGE_SHARING, 512), -EBUSY);
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_RUN, 7), -EINVAL);
	ck_assert_msg(logged == 0, "%d messages logged for failed calls (most urgent %d)", logged, logged_worst);
	ksm_set_log_fn(ctx, NULL, NULL);
}
END_TEST

static Suite *sysroot_suite(void)
{
	Suite *s = suite_create("sysroot");
	TCase *tc;

	tc = tcase_create("context");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_loop_test(tc, test_new_at, 0, N_GENS);
	tcase_add_test(tc, test_env_sysroot);
	tcase_add_test(tc, test_missing_sysroot);
	tcase_add_test(tc, test_sysroot_is_file);
	tcase_add_test(tc, test_noksm);
	tcase_add_test(tc, test_refcount);
	tcase_add_test(tc, test_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("read");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_loop_test(tc, test_get_every_knob, 0, N_GENS);
	tcase_add_test(tc, test_get_known_values);
	tcase_add_test(tc, test_get_fresh_value);
	tcase_add_test(tc, test_run_offlining_bit);
	tcase_add_test(tc, test_get_garbage);
	suite_add_tcase(s, tc);

	tc = tcase_create("stats");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_loop_test(tc, test_stats_present, 0, N_GENS);
	tcase_add_test(tc, test_stats_merged);
	tcase_add_test(tc, test_stats_idle);
	tcase_add_loop_test(tc, test_stats_profit_formula, 0, 2);
	tcase_add_test(tc, test_stats_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_loop_test(tc, test_set_every_tunable, 0, 4);
	tcase_add_test(tc, test_set_text);
	tcase_add_test(tc, test_set_counter);
	tcase_add_test(tc, test_set_out_of_range);
	tcase_add_test(tc, test_set_busy_merged);
	tcase_add_test(tc, test_set_busy_advisor);
	tcase_add_test(tc, test_set_advisor_mode);
	tcase_add_test(tc, test_set_absent);
	tcase_add_test(tc, test_run_control);
	tcase_add_test(tc, test_set_read_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_strerror_detail);
	tcase_add_test(tc, test_strerror_thread);
	tcase_add_test(tc, test_log_priority);
	tcase_add_test(tc, test_failures_not_logged);
	suite_add_tcase(s, tc);

	tc = tcase_create("features");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_loop_test(tc, test_features, 0, N_GENS);
	tcase_add_test(tc, test_features_extra_layouts);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return tu_run_suite(sysroot_suite());
}

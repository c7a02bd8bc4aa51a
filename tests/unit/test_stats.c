// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The structures the library fills in (struct ksm_stats, struct
 * ksm_proc_stats), read the way a user writes the call:
 *
 *     struct ksm_stats st;
 *     ksm_stats_read(ctx, &st, sizeof(st));
 *
 *  - on every fake sysroot in tests/sysroots (found by listing the
 *    directory, so that a new tree is covered without a change here), with a
 *    zeroed struct and with one full of garbage: both read the same, and
 *    every field equals what the test reads from the raw files itself;
 *  - as an older caller, built against a smaller struct: exactly the size it
 *    passes is written, and .present has no bit for a field beyond it;
 *  - as a newer caller, with a larger struct: the bytes the library does
 *    not know are zeroed;
 *  - with a size that cannot hold .present: -EINVAL, nothing written.
 * The same for the statistics of Selective KSM partitions (sksm-rfc).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ksm.h>

#include "testutil.h"

#define KSM_REL "sys/kernel/mm/ksm"
#define BIT(k) (UINT64_C(1) << (k))
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define GARBAGE 0xa5
#define GUARD 0x5a

/* ------------------------------------------------------------------------ */
/* The oracle: where each knob and each per-process figure lives             */

/* The field of struct ksm_stats for each knob, by enum value, spelled out here. */
static const size_t knob_field[] = {
	[KSM_KNOB_RUN] = offsetof(struct ksm_stats, run),
	[KSM_KNOB_PAGES_TO_SCAN] = offsetof(struct ksm_stats, pages_to_scan),
	[KSM_KNOB_SLEEP_MILLISECS] = offsetof(struct ksm_stats, sleep_millisecs),
	[KSM_KNOB_MERGE_ACROSS_NODES] = offsetof(struct ksm_stats, merge_across_nodes),
	[KSM_KNOB_USE_ZERO_PAGES] = offsetof(struct ksm_stats, use_zero_pages),
	[KSM_KNOB_MAX_PAGE_SHARING] = offsetof(struct ksm_stats, max_page_sharing),
	[KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS] =
		offsetof(struct ksm_stats, stable_node_chains_prune_millisecs),
	[KSM_KNOB_SMART_SCAN] = offsetof(struct ksm_stats, smart_scan),
	[KSM_KNOB_ADVISOR_MODE] = offsetof(struct ksm_stats, advisor_mode),
	[KSM_KNOB_ADVISOR_MAX_CPU] = offsetof(struct ksm_stats, advisor_max_cpu),
	[KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN] = offsetof(struct ksm_stats, advisor_min_pages_to_scan),
	[KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN] = offsetof(struct ksm_stats, advisor_max_pages_to_scan),
	[KSM_KNOB_ADVISOR_TARGET_SCAN_TIME] = offsetof(struct ksm_stats, advisor_target_scan_time),
	[KSM_KNOB_PAGES_SHARED] = offsetof(struct ksm_stats, pages_shared),
	[KSM_KNOB_PAGES_SHARING] = offsetof(struct ksm_stats, pages_sharing),
	[KSM_KNOB_PAGES_UNSHARED] = offsetof(struct ksm_stats, pages_unshared),
	[KSM_KNOB_PAGES_VOLATILE] = offsetof(struct ksm_stats, pages_volatile),
	[KSM_KNOB_PAGES_SCANNED] = offsetof(struct ksm_stats, pages_scanned),
	[KSM_KNOB_PAGES_SKIPPED] = offsetof(struct ksm_stats, pages_skipped),
	[KSM_KNOB_FULL_SCANS] = offsetof(struct ksm_stats, full_scans),
	[KSM_KNOB_STABLE_NODE_CHAINS] = offsetof(struct ksm_stats, stable_node_chains),
	[KSM_KNOB_STABLE_NODE_DUPS] = offsetof(struct ksm_stats, stable_node_dups),
	[KSM_KNOB_KSM_ZERO_PAGES] = offsetof(struct ksm_stats, ksm_zero_pages),
	[KSM_KNOB_GENERAL_PROFIT] = offsetof(struct ksm_stats, general_profit),
};
#define NKNOBS ((int)N(knob_field))

/* The lines of /proc/PID/ksm_stat, their bits and fields. */
static const struct {
	const char *key;
	uint64_t bit;
	size_t field;
	bool yes_no; /* "yes"/"no" rather than a number */
} proc_field[] = {
	{ "ksm_rmap_items", KSM_PROC_RMAP_ITEMS, offsetof(struct ksm_proc_stats, ksm_rmap_items), false },
	{ "ksm_zero_pages", KSM_PROC_ZERO_PAGES, offsetof(struct ksm_proc_stats, ksm_zero_pages), false },
	{ "ksm_merging_pages", KSM_PROC_MERGING_PAGES, offsetof(struct ksm_proc_stats, ksm_merging_pages), false },
	{ "ksm_process_profit", KSM_PROC_PROCESS_PROFIT, offsetof(struct ksm_proc_stats, ksm_process_profit),
	  false },
	{ "ksm_merge_any", KSM_PROC_MERGE_ANY, offsetof(struct ksm_proc_stats, ksm_merge_any), true },
	{ "ksm_mergeable", KSM_PROC_MERGEABLE, offsetof(struct ksm_proc_stats, ksm_mergeable), true },
};

static int64_t page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static int64_t *stats_field(struct ksm_stats *st, size_t off)
{
	return (int64_t *)((char *)st + off);
}

static int64_t *proc_stats_field(struct ksm_proc_stats *st, size_t off)
{
	return (int64_t *)((char *)st + off);
}

/* ------------------------------------------------------------------------ */
/* The trees                                                                 */

/* Every tree the README lists must be among those found. */
static const char *const documented[] = {
	"2.6.32", "4.18", "5.19", "6.1", "6.8", "6.18", "6.18-merged", "6.18-advisor",
	"nonuma-6.18", "future", "noksm", "sksm-rfc",
};

static char *trees[64];
static int ntrees;

static const char *sysroots_dir(void)
{
	const char *base = getenv("LIBKSM_SYSROOTS");

	return base && *base ? base : "tests/sysroots";
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directories of the sysroots directory (README.md is no tree). */
static int find_trees(void)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(sysroots_dir());

	if (!d) {
		fprintf(stderr, "cannot list %s: %s\n", sysroots_dir(), strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", sysroots_dir(), de->d_name);
		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (ntrees == (int)N(trees)) {
			fprintf(stderr, "more than %zu trees in %s\n", N(trees), sysroots_dir());
			closedir(d);
			return -1;
		}
		trees[ntrees] = strdup(de->d_name);
		if (!trees[ntrees++]) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	qsort(trees, (size_t)ntrees, sizeof(trees[0]), by_name);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Fixture                                                                   */

static char *root;
static struct ksm_ctx *ctx;

static void teardown(void)
{
	tu_unuse(&root, &ctx);
	unsetenv("LIBKSM_SKSM_SYSCALLS");
}

static void use(const char *name)
{
	/* A partition handle must speak to the tree's sysfs, whatever the build configured. */
	setenv("LIBKSM_SKSM_SYSCALLS", "", 1);
	tu_use(name, &root, &ctx);
}

static bool is_file(const char *rel)
{
	char path[8192];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *rel)
{
	char path[8192];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ------------------------------------------------------------------------ */
/* struct ksm_stats from the raw files of a directory                        */

/* The test's own reading of a knob file: a decimal number, or advisor_mode's bracketed name. */
static int64_t raw_knob(const char *dir, enum ksm_knob knob)
{
	char rel[4096], *text, *end;
	int64_t v;

	snprintf(rel, sizeof(rel), "%s/%s", dir, ksm_knob_info(knob)->name);
	text = tu_read(root, rel);
	if (knob == KSM_KNOB_ADVISOR_MODE) {
		if (strstr(text, "[none]"))
			v = KSM_ADVISOR_NONE;
		else if (strstr(text, "[scan-time]"))
			v = KSM_ADVISOR_SCAN_TIME;
		else
			ck_abort_msg("%s holds \"%s\"", rel, text);
	} else {
		errno = 0;
		v = strtoll(text, &end, 10);
		ck_assert_msg(errno == 0 && end != text && strcmp(end, "\n") == 0, "%s holds \"%s\"", rel, text);
	}
	free(text);
	return v;
}

/* What ksm_stats_read() must give for the knob files below @dir (relative to the copy). */
static void expected_stats(const char *dir, struct ksm_stats *e)
{
	int64_t shared, sharing, unshared, volatil, zero, tracked;

	memset(e, 0, sizeof(*e));
	for (int k = 0; k < NKNOBS; k++) {
		char rel[4096];

		snprintf(rel, sizeof(rel), "%s/%s", dir, ksm_knob_info((enum ksm_knob)k)->name);
		if (!is_file(rel))
			continue;
		e->present |= BIT(k);
		*stats_field(e, knob_field[k]) = raw_knob(dir, (enum ksm_knob)k);
	}
	shared = e->pages_shared;
	sharing = e->pages_sharing;
	unshared = e->pages_unshared;
	volatil = e->pages_volatile;
	zero = e->ksm_zero_pages;
	e->page_size = page_size();
	e->saved_pages = sharing + zero;
	e->saved_bytes = e->saved_pages * e->page_size;
	if (e->present & BIT(KSM_KNOB_GENERAL_PROFIT))
		e->profit_bytes = e->general_profit;
	else
		e->profit_bytes = e->saved_bytes - (shared + sharing + unshared + volatil) * tu_rmap_item_size();
	e->sharing_ratio = shared ? (double)sharing / (double)shared : 0.0;
	tracked = shared + sharing + unshared + volatil + zero;
	e->effectiveness = tracked ? (double)e->saved_pages / (double)tracked : 0.0;
}

static void assert_stats_equal(const struct ksm_stats *got, const struct ksm_stats *want, const char *what)
{
	ck_assert_msg(got->present == want->present, "%s: present %#" PRIx64 ", files %#" PRIx64, what,
		      got->present, want->present);
	for (int k = 0; k < NKNOBS; k++) {
		int64_t g = *stats_field((struct ksm_stats *)got, knob_field[k]);
		int64_t w = *stats_field((struct ksm_stats *)want, knob_field[k]);

		ck_assert_msg(g == w, "%s: %s = %" PRId64 ", expected %" PRId64 "%s", what,
			      ksm_knob_info((enum ksm_knob)k)->name, g, w,
			      want->present & BIT(k) ? "" : " (no file: 0)");
	}
	ck_assert_msg(got->page_size == want->page_size, "%s: page_size %" PRId64, what, got->page_size);
	ck_assert_msg(got->saved_pages == want->saved_pages, "%s: saved_pages %" PRId64 ", expected %" PRId64, what,
		      got->saved_pages, want->saved_pages);
	ck_assert_msg(got->saved_bytes == want->saved_bytes, "%s: saved_bytes %" PRId64 ", expected %" PRId64, what,
		      got->saved_bytes, want->saved_bytes);
	ck_assert_msg(got->profit_bytes == want->profit_bytes, "%s: profit_bytes %" PRId64 ", expected %" PRId64,
		      what, got->profit_bytes, want->profit_bytes);
	ck_assert_msg(got->sharing_ratio == want->sharing_ratio, "%s: sharing_ratio %g, expected %g", what,
		      got->sharing_ratio, want->sharing_ratio);
	ck_assert_msg(got->effectiveness == want->effectiveness, "%s: effectiveness %g, expected %g", what,
		      got->effectiveness, want->effectiveness);
}

/* ------------------------------------------------------------------------ */
/* struct ksm_proc_stats from the raw files of a process                     */

/* "key value" or "key: value"; false for a line without a value. */
static bool split_line(char *line, char **key, char **value)
{
	char *p = line;

	*key = p;
	while (*p && *p != ' ' && *p != '\t' && *p != ':')
		p++;
	if (!*p)
		return false;
	if (*p == ':')
		*p++ = '\0';
	else
		*p++ = '\0';
	while (*p == ' ' || *p == '\t' || *p == ':')
		p++;
	*value = p;
	return **key != '\0' && *p != '\0';
}

/* What ksm_proc_stats_read() must give for proc/@entry of the copy. */
static void expected_proc_stats(const char *entry, struct ksm_proc_stats *e)
{
	char rel[256], *text, *save = NULL;

	memset(e, 0, sizeof(*e));
	snprintf(rel, sizeof(rel), "proc/%.31s/ksm_stat", entry);
	if (is_file(rel)) {
		text = tu_read(root, rel);
		for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *key, *value, *end;

			if (!split_line(line, &key, &value))
				continue;
			for (size_t i = 0; i < N(proc_field); i++) {
				int64_t v;

				if (strcmp(key, proc_field[i].key) != 0)
					continue;
				if (proc_field[i].yes_no) {
					ck_assert_msg(!strcmp(value, "yes") || !strcmp(value, "no"), "%s: %s %s", rel,
						      key, value);
					v = strcmp(value, "yes") == 0;
				} else {
					v = strtoll(value, &end, 10);
					ck_assert_msg(end != value && *end == '\0', "%s: %s %s", rel, key, value);
				}
				e->present |= proc_field[i].bit;
				*proc_stats_field(e, proc_field[i].field) = v;
			}
		}
		free(text);
	}
	snprintf(rel, sizeof(rel), "proc/%.31s/ksm_merging_pages", entry);
	if (!(e->present & KSM_PROC_MERGING_PAGES) && is_file(rel)) {
		char *end;

		text = tu_read(root, rel);
		if (text[0] != '\0') { /* a kernel thread's file is empty */
			e->ksm_merging_pages = strtoll(text, &end, 10);
			ck_assert_msg(end != text && strcmp(end, "\n") == 0, "%s holds \"%s\"", rel, text);
			e->present |= KSM_PROC_MERGING_PAGES;
		}
		free(text);
	}
	e->saved_bytes = (e->ksm_merging_pages + e->ksm_zero_pages) * page_size();
	if (e->present & KSM_PROC_PROCESS_PROFIT)
		e->profit_bytes = e->ksm_process_profit;
	else
		e->profit_bytes = e->saved_bytes - e->ksm_rmap_items * tu_rmap_item_size();
}

static void assert_proc_stats_equal(const struct ksm_proc_stats *got, const struct ksm_proc_stats *want,
				    const char *what)
{
	ck_assert_msg(got->present == want->present, "%s: present %#" PRIx64 ", files %#" PRIx64, what,
		      got->present, want->present);
	for (size_t i = 0; i < N(proc_field); i++) {
		int64_t g = *proc_stats_field((struct ksm_proc_stats *)got, proc_field[i].field);
		int64_t w = *proc_stats_field((struct ksm_proc_stats *)want, proc_field[i].field);

		ck_assert_msg(g == w, "%s: %s = %" PRId64 ", expected %" PRId64, what, proc_field[i].key, g, w);
	}
	ck_assert_msg(got->saved_bytes == want->saved_bytes, "%s: saved_bytes %" PRId64 ", expected %" PRId64, what,
		      got->saved_bytes, want->saved_bytes);
	ck_assert_msg(got->profit_bytes == want->profit_bytes, "%s: profit_bytes %" PRId64 ", expected %" PRId64,
		      what, got->profit_bytes, want->profit_bytes);
}

/* The entries of proc/ in the copy: "self" and the numeric ones. */
static int proc_entries(char names[][32], int max)
{
	char path[4096];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/proc", root);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= 32)
			continue;
		if (strcmp(de->d_name, "self") != 0 && strspn(de->d_name, "0123456789") != strlen(de->d_name))
			continue;
		ck_assert_int_lt(n, max);
		snprintf(names[n++], 32, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

/* ------------------------------------------------------------------------ */
/* Every tree, zeroed and uninitialised                                      */

START_TEST(every_tree_is_found)
{
	ck_assert_int_ge(ntrees, (int)N(documented));
	for (size_t i = 0; i < N(documented); i++) {
		bool found = false;

		for (int t = 0; t < ntrees; t++)
			found |= strcmp(trees[t], documented[i]) == 0;
		ck_assert_msg(found, "tree %s is not in %s", documented[i], sysroots_dir());
	}
}
END_TEST

START_TEST(stats_every_tree)
{
	const char *name = trees[_i];
	struct ksm_stats zeroed, garbage, want;
	char what[128];
	int r;

	use(name);
	memset(&zeroed, 0, sizeof(zeroed));
	memset(&garbage, GARBAGE, sizeof(garbage));
	if (!is_dir(KSM_REL)) {
		/* No KSM in this kernel. */
		ck_assert_int_eq(ksm_stats_read(ctx, &zeroed, sizeof(zeroed)), -ENOENT);
		ck_assert_int_eq(ksm_stats_read(ctx, &garbage, sizeof(garbage)), -ENOENT);
		return;
	}
	expected_stats(KSM_REL, &want);

	r = ksm_stats_read(ctx, &zeroed, sizeof(zeroed));
	ck_assert_msg(r == 0, "%s: ksm_stats_read(zeroed struct) = %d (%s)", name, r, strerror(-r));
	snprintf(what, sizeof(what), "%s, zeroed struct", name);
	assert_stats_equal(&zeroed, &want, what);

	r = ksm_stats_read(ctx, &garbage, sizeof(garbage));
	ck_assert_msg(r == 0, "%s: ksm_stats_read(uninitialised struct) = %d (%s)", name, r, strerror(-r));
	snprintf(what, sizeof(what), "%s, uninitialised struct", name);
	assert_stats_equal(&garbage, &want, what);
	/* Not one byte of the garbage is left (the struct has no padding). */
	ck_assert_msg(memcmp(&zeroed, &garbage, sizeof(zeroed)) == 0, "%s: the two reads differ", name);

	/* Each present knob through ksm_stats_value() as well. */
	for (int k = 0; k < NKNOBS; k++) {
		int64_t v = -777;

		r = ksm_stats_value(&garbage, (enum ksm_knob)k, &v);
		if (want.present & BIT(k)) {
			ck_assert_msg(r == 0 && v == *stats_field(&want, knob_field[k]), "%s: ksm_stats_value(%s) = %d, %" PRId64,
				      name, ksm_knob_info((enum ksm_knob)k)->name, r, v);
		} else {
			ck_assert_msg(r == -ENOENT && v == -777, "%s: ksm_stats_value(%s) of a missing file = %d",
				      name, ksm_knob_info((enum ksm_knob)k)->name, r);
		}
	}
}
END_TEST

START_TEST(proc_stats_every_tree)
{
	const char *name = trees[_i];
	char entries[64][32], what[128], rel[256];
	int n, checked = 0;
	bool has_figures = false;

	use(name);
	n = proc_entries(entries, 64);
	for (int i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "proc/%.31s/ksm_stat", entries[i]);
		has_figures |= is_file(rel);
		snprintf(rel, sizeof(rel), "proc/%.31s/ksm_merging_pages", entries[i]);
		has_figures |= is_file(rel);
	}
	for (int i = 0; i < n; i++) {
		int pid = strcmp(entries[i], "self") == 0 ? 0 : atoi(entries[i]);
		struct ksm_proc_stats zeroed, garbage, want;
		int r1, r2;

		memset(&zeroed, 0, sizeof(zeroed));
		memset(&garbage, GARBAGE, sizeof(garbage));
		r1 = ksm_proc_stats_read(ctx, pid, &zeroed, sizeof(zeroed));
		r2 = ksm_proc_stats_read(ctx, pid, &garbage, sizeof(garbage));
		if (!has_figures) {
			/* The processes exist, the kernel has no per-process figures. */
			ck_assert_msg(r1 == -EOPNOTSUPP && r2 == -EOPNOTSUPP, "%s: pid %d: %d and %d, expected -EOPNOTSUPP",
				      name, pid, r1, r2);
			continue;
		}
		ck_assert_msg(r1 == 0 && r2 == 0, "%s: ksm_proc_stats_read(%d) = %d (zeroed), %d (uninitialised)", name,
			      pid, r1, r2);
		expected_proc_stats(entries[i], &want);
		snprintf(what, sizeof(what), "%.40s pid %.31s, zeroed struct", name, entries[i]);
		assert_proc_stats_equal(&zeroed, &want, what);
		snprintf(what, sizeof(what), "%.40s pid %.31s, uninitialised struct", name, entries[i]);
		assert_proc_stats_equal(&garbage, &want, what);
		ck_assert_msg(memcmp(&zeroed, &garbage, sizeof(zeroed)) == 0, "%s pid %s: the two reads differ", name,
			      entries[i]);
		checked++;
	}
	if (has_figures)
		ck_assert_msg(checked == n && checked > 0, "%s: %d of %d processes checked", name, checked, n);
}
END_TEST

/* The partitions of the RFC layout, through their handles. */
START_TEST(partition_stats_every_partition)
{
	static const char *const parts[] = { "tenant-a", "tenant-b" };

	use("sksm-rfc");
	for (size_t i = 0; i < N(parts); i++) {
		struct ksm_stats zeroed, garbage, want;
		struct ksm_partition *p = NULL;
		char dir[256], what[128];
		int r;

		ck_assert_int_eq(ksm_partition_open(ctx, parts[i], 0, 0, &p), 0);
		snprintf(dir, sizeof(dir), KSM_REL "/%s", parts[i]);
		expected_stats(dir, &want);
		memset(&zeroed, 0, sizeof(zeroed));
		memset(&garbage, GARBAGE, sizeof(garbage));
		r = ksm_partition_stats_read(p, &zeroed, sizeof(zeroed));
		ck_assert_msg(r == 0, "%s: zeroed struct: %d", parts[i], r);
		r = ksm_partition_stats_read(p, &garbage, sizeof(garbage));
		ck_assert_msg(r == 0, "%s: uninitialised struct: %d", parts[i], r);
		snprintf(what, sizeof(what), "partition %s, zeroed struct", parts[i]);
		assert_stats_equal(&zeroed, &want, what);
		snprintf(what, sizeof(what), "partition %s, uninitialised struct", parts[i]);
		assert_stats_equal(&garbage, &want, what);
		ck_assert_int_eq(memcmp(&zeroed, &garbage, sizeof(zeroed)), 0);
		ck_assert_ptr_null(ksm_partition_unref(p));
	}
	/* tenant-a is the one with figures (README): the test is not comparing zeros. */
	{
		struct ksm_stats want;

		expected_stats(KSM_REL "/tenant-a", &want);
		ck_assert_int_eq(want.pages_sharing, 120);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Older and newer callers                                                   */

/*
 * A buffer for one read: the struct, then guard bytes. An older caller's
 * struct is a prefix of ours; whatever it did not declare must stay as it
 * was (it may be the caller's next variable).
 */
#define SLACK 256

union buffer {
	unsigned char bytes[sizeof(struct ksm_stats) + sizeof(struct ksm_proc_stats) + SLACK];
	struct ksm_stats st;
	struct ksm_proc_stats pst;
};

/* Does [off, off + 8) lie within the first @size bytes? */
static bool fits(size_t off, size_t size)
{
	return off + sizeof(int64_t) <= size;
}

/* The bits of the knobs whose fields an older caller's struct of @size bytes holds. */
static uint64_t knob_bits_within(size_t size)
{
	uint64_t bits = 0;

	for (int k = 0; k < NKNOBS; k++)
		if (fits(knob_field[k], size))
			bits |= BIT(k);
	return bits;
}

static uint64_t proc_bits_within(size_t size)
{
	uint64_t bits = 0;

	for (size_t i = 0; i < N(proc_field); i++)
		if (fits(proc_field[i].field, size))
			bits |= proc_field[i].bit;
	return bits;
}

static void assert_guard(const union buffer *b, size_t from, size_t to, unsigned char fill, const char *what,
			 size_t size)
{
	for (size_t i = from; i < to; i++)
		ck_assert_msg(b->bytes[i] == fill, "%s with size %zu: byte %zu is %#x, expected %#x", what, size, i,
			      b->bytes[i], fill);
}

/*
 * The checks common to the three reads. @full is a read with our own size;
 * @reader(b, size) reads into b. Every size from 0 up to ours + SLACK.
 */
typedef int (*reader_fn)(void *st, size_t size);

static void check_sizes(reader_fn reader, const void *full, size_t ours, uint64_t (*bits_within)(size_t),
			size_t present_off, const char *what)
{
	static union buffer b;

	ck_assert_uint_le(ours + SLACK, sizeof(b.bytes));
	/* Too small to hold .present: -EINVAL, nothing written. */
	for (size_t size = 0; size < sizeof(uint64_t); size++) {
		memset(&b, GUARD, sizeof(b));
		ck_assert_msg(reader(&b, size) == -EINVAL, "%s with size %zu is not -EINVAL", what, size);
		assert_guard(&b, 0, sizeof(b.bytes), GUARD, what, size);
	}
	/* An older caller: exactly @size bytes, only the bits of the fields it has. */
	for (size_t size = sizeof(uint64_t); size <= ours; size++) {
		uint64_t present, want_present;
		int r;

		memset(&b, GUARD, sizeof(b));
		r = reader(&b, size);
		ck_assert_msg(r == 0, "%s with size %zu = %d (%s)", what, size, r, strerror(-r));
		assert_guard(&b, size, sizeof(b.bytes), GUARD, what, size);
		memcpy(&present, b.bytes + present_off, sizeof(present));
		memcpy(&want_present, (const char *)full + present_off, sizeof(want_present));
		want_present &= bits_within(size);
		ck_assert_msg(present == want_present, "%s with size %zu: present %#" PRIx64 ", expected %#" PRIx64, what,
			      size, present, want_present);
		/* The whole fields it has are those of the full read. */
		for (size_t off = present_off + sizeof(uint64_t); fits(off, size); off += sizeof(int64_t))
			ck_assert_msg(memcmp(b.bytes + off, (const char *)full + off, sizeof(int64_t)) == 0,
				      "%s with size %zu: the field at offset %zu differs from a full read", what, size,
				      off);
	}
	/* A newer caller: ours as usual, the rest zeroed. */
	for (size_t extra = 1; extra <= SLACK - 32; extra += extra < 16 ? 1 : 37) {
		size_t size = ours + extra;
		int r;

		memset(&b, GARBAGE, sizeof(b));
		r = reader(&b, size);
		ck_assert_msg(r == 0, "%s with size %zu = %d (%s)", what, size, r, strerror(-r));
		ck_assert_msg(memcmp(b.bytes, full, ours) == 0, "%s with size %zu: the known part differs", what, size);
		assert_guard(&b, ours, size, 0, what, size);
		assert_guard(&b, size, sizeof(b.bytes), GARBAGE, what, size);
	}
}

static int read_global(void *st, size_t size)
{
	return ksm_stats_read(ctx, st, size);
}

static uint64_t global_bits_within(size_t size)
{
	return knob_bits_within(size);
}

START_TEST(stats_older_and_newer_callers)
{
	struct ksm_stats full, old;
	int64_t v = -777;

	use("6.18-merged");
	ck_assert_int_eq(ksm_stats_read(ctx, &full, sizeof(full)), 0);
	ck_assert_uint_eq(full.present, BIT(NKNOBS) - 1);
	check_sizes(read_global, &full, sizeof(full), global_bits_within, offsetof(struct ksm_stats, present),
		    "ksm_stats_read");

	/* The example of the issue: a caller whose struct ended after run. */
	memset(&old, GUARD, sizeof(old));
	ck_assert_int_eq(ksm_stats_read(ctx, &old, offsetof(struct ksm_stats, pages_to_scan)), 0);
	ck_assert_uint_eq(old.present, BIT(KSM_KNOB_RUN));
	ck_assert_int_eq(old.run, 1);
	ck_assert_int_eq(ksm_stats_value(&old, KSM_KNOB_RUN, &v), 0);
	ck_assert_int_eq(v, 1);
	v = -777;
	/* Beyond its size: not present, whatever the bytes say. */
	ck_assert_int_eq(ksm_stats_value(&old, KSM_KNOB_PAGES_TO_SCAN, &v), -ENOENT);
	ck_assert_int_eq(ksm_stats_value(&old, KSM_KNOB_PAGES_SHARING, &v), -ENOENT);
	ck_assert_int_eq(v, -777);
	for (size_t i = 0; i < sizeof(old.pages_to_scan); i++)
		ck_assert_uint_eq(((unsigned char *)&old.pages_to_scan)[i], GUARD);
}
END_TEST

static int proc_pid = 2001;

static int read_proc(void *st, size_t size)
{
	return ksm_proc_stats_read(ctx, proc_pid, st, size);
}

START_TEST(proc_stats_older_and_newer_callers)
{
	struct ksm_proc_stats full;

	use("6.18");
	ck_assert_int_eq(ksm_proc_stats_read(ctx, proc_pid, &full, sizeof(full)), 0);
	ck_assert_uint_eq(full.present, KSM_PROC_RMAP_ITEMS | KSM_PROC_ZERO_PAGES | KSM_PROC_MERGING_PAGES |
						KSM_PROC_PROCESS_PROFIT | KSM_PROC_MERGE_ANY | KSM_PROC_MERGEABLE);
	ck_assert_int_eq(full.ksm_merging_pages, 3000);
	check_sizes(read_proc, &full, sizeof(full), proc_bits_within, offsetof(struct ksm_proc_stats, present),
		    "ksm_proc_stats_read");
	/* 0.1's layout ended at ksm_mergeable: without the derived figures. */
	{
		union buffer b;

		memset(&b, GUARD, sizeof(b));
		ck_assert_int_eq(ksm_proc_stats_read(ctx, proc_pid, &b.pst, offsetof(struct ksm_proc_stats, saved_bytes)),
				 0);
		ck_assert_uint_eq(b.pst.present, full.present);
		ck_assert_int_eq(b.pst.ksm_mergeable, 1);
		assert_guard(&b, offsetof(struct ksm_proc_stats, saved_bytes), sizeof(b.bytes), GUARD,
			     "ksm_proc_stats_read", offsetof(struct ksm_proc_stats, saved_bytes));
	}
}
END_TEST

static struct ksm_partition *part;

static int read_partition(void *st, size_t size)
{
	return ksm_partition_stats_read(part, st, size);
}

START_TEST(partition_stats_older_and_newer_callers)
{
	struct ksm_stats full;

	use("sksm-rfc");
	ck_assert_int_eq(ksm_partition_open(ctx, "tenant-a", 0, 0, &part), 0);
	ck_assert_int_eq(ksm_partition_stats_read(part, &full, sizeof(full)), 0);
	ck_assert_int_eq(full.pages_sharing, 120);
	check_sizes(read_partition, &full, sizeof(full), global_bits_within, offsetof(struct ksm_stats, present),
		    "ksm_partition_stats_read");
	part = ksm_partition_unref(part);
	ck_assert_ptr_null(part);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc;

	tc = tcase_create("every tree");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, every_tree_is_found);
	tcase_add_loop_test(tc, stats_every_tree, 0, ntrees);
	tcase_add_loop_test(tc, proc_stats_every_tree, 0, ntrees);
	tcase_add_test(tc, partition_stats_every_partition);
	suite_add_tcase(s, tc);

	tc = tcase_create("sizes");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, stats_older_and_newer_callers);
	tcase_add_test(tc, proc_stats_older_and_newer_callers);
	tcase_add_test(tc, partition_stats_older_and_newer_callers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int r;

	if (find_trees() < 0)
		return EXIT_FAILURE;
	r = tu_run_suite(stats_suite());
	for (int i = 0; i < ntrees; i++)
		free(trees[i]);
	return r;
}

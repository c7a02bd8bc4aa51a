// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One knob at a time: read, write with its prerequisites checked first and
 * the kernel's errors mapped to their causes, run control, and the feature
 * probe. Built on the table and the I/O of ksm_sysfs.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "missing.h"

/* Read and parse one knob; failures other than -ENOENT are recorded. */
static int get_knob(struct ksm_ctx *ctx, int knob, int64_t *value)
{
	char buf[KSM_VALUE_MAX];
	int r = ksm_read_knob(ctx, knob, buf, sizeof(buf));

	if (r == -ENOENT)
		return r;
	if (r < 0)
		return ksm_fail_read(ctx, NULL, knob, r, NULL);
	r = ksm_parse_kernel(knob, buf, value);
	if (r < 0)
		return ksm_fail_read(ctx, NULL, knob, r, buf);
	return 0;
}

/* The RFC's layout: control/add_partition, and no global run file. */
#define SKSM_CONTROL "control/add_partition"

bool ksm_selective_layout(const struct ksm_ctx *ctx)
{
	int run = ksm_knob_of_role(KSM_ROLE_STATE);

	return ctx->ksmfd >= 0 && faccessat(ctx->ksmfd, SKSM_CONTROL, F_OK, AT_EACCESS) == 0 &&
	       faccessat(ctx->ksmfd, ksm_table_get(run)->name, F_OK, AT_EACCESS) < 0;
}

int ksm_fail_selective(const struct ksm_ctx *ctx, const char *what)
{
	char dir[4200];

	ksm_knob_path(ctx, "", dir, sizeof(dir));
	dir[strlen(dir) - 1] = '\0';
	return ksm_fail(-EOPNOTSUPP,
			"cannot %s: this kernel has the Selective KSM layout: %s holds partitions "
			"(one merge space each), not the global KSM files; see the partitions "
			"with 'ksmctl partition list' and 'ksmctl partition status NAME'",
			what, dir);
}

/* The message for a knob this kernel lacks, with the release that added it. */
static int fail_missing(struct ksm_ctx *ctx, const struct ksm_knob_info *k, const char *what)
{
	char doing[128];

	if (ctx->ksmfd < 0)
		return ksm_fail_no_ksm(ctx);
	if (ksm_selective_layout(ctx)) {
		snprintf(doing, sizeof(doing), "%s %s", what, k->name);
		return ksm_fail_selective(ctx, doing);
	}
	return ksm_fail(-ENOENT, "cannot %s %s: this kernel has no such file (it appeared in Linux %s)",
			what, k->name, k->since);
}

KSM_EXPORT int ksm_get(struct ksm_ctx *ctx, enum ksm_knob knob, int64_t *value)
{
	const struct ksm_knob_info *k = ksm_table_get((int)knob);
	int r;

	ksm_fail_clear();
	if (!ctx || !value)
		return -EINVAL;
	if (!k)
		return ksm_fail(-ENOENT, "no knob number %d (see ksm_knob_count())", (int)knob);
	r = get_knob(ctx, (int)knob, value);
	if (r == -ENOENT)
		return fail_missing(ctx, k, "read");
	return r;
}

int ksm_advisor_active(struct ksm_ctx *ctx)
{
	int advisor = ksm_knob_of_role(KSM_ROLE_ADVISOR);
	int64_t mode;
	int r;

	if (advisor < 0)
		return 0;
	r = get_knob(ctx, advisor, &mode);
	if (r == -ENOENT)
		return 0; /* no advisor: off */
	if (r < 0)
		return r;
	return mode != KSM_ADVISOR_NONE;
}

static int fail_advisor(const struct ksm_knob_info *k)
{
	int adv = ksm_knob_of_role(KSM_ROLE_ADVISOR);
	const char *name = adv >= 0 ? ksm_table_get(adv)->name : "advisor_mode";

	return ksm_fail(-EBUSY, "cannot set %s: the kernel's advisor controls it while %s is "
				"not none (set %s=none first, e.g. 'ksmctl set %s=none')",
			k->name, name, name, name);
}

static int check_requirements(struct ksm_ctx *ctx, const struct ksm_knob_info *k, int knob,
			      int64_t value)
{
	int64_t cur, shared;
	int r;

	if (k->requires & KSM_REQUIRES_NO_MERGED_PAGES) {
		int merged = ksm_knob_of_role(KSM_ROLE_MERGED);

		/* Writing the current value always succeeds in the kernel. */
		r = get_knob(ctx, knob, &cur);
		if (r == -ENOENT)
			return fail_missing(ctx, k, "read");
		if (r < 0)
			return r;
		if (cur != value && merged >= 0) {
			r = get_knob(ctx, merged, &shared);
			if (r < 0 && r != -ENOENT)
				return r;
			if (r == 0 && shared > 0)
				return ksm_fail(-EBUSY,
						"cannot set %s: %lld KSM pages are still merged, and the "
						"kernel changes %s only when none are (unmerge first: "
						"run=2, 'ksmctl unmerge'; or let a transaction do it "
						"with KSM_TXN_ALLOW_UNMERGE, 'ksmctl set --allow-unmerge')",
						k->name, (long long)shared, k->name);
		}
	}
	if (k->requires & KSM_REQUIRES_ADVISOR_NONE) {
		r = ksm_advisor_active(ctx);
		if (r < 0)
			return r;
		if (r > 0)
			return fail_advisor(k);
	}
	return 0;
}

/* The rules between knobs (ksm_rules_check()), with the others as they are. */
static int check_rules(struct ksm_ctx *ctx, int knob, int64_t value)
{
	uint64_t partners = ksm_rules_partners(knob), known = UINT64_C(1) << knob;
	int64_t vals[KSM_KNOB_NR] = { 0 };
	int r;

	vals[knob] = value;
	for (int k = 0; k < KSM_KNOB_NR; k++) {
		if (!(partners & (UINT64_C(1) << k)))
			continue;
		r = get_knob(ctx, k, &vals[k]);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		known |= UINT64_C(1) << k;
	}
	return ksm_rules_check(known, vals, UINT64_C(1) << knob);
}

/* Format and write one knob; kernel errors mapped to their causes. */
int ksm_write_knob(struct ksm_ctx *ctx, int knob, int64_t value)
{
	const struct ksm_knob_info *k = ksm_table_get(knob);
	char text[KSM_VALUE_MAX];
	int r;

	r = ksm_knob_format(knob, value, text, sizeof(text));
	if (r < 0)
		return ksm_fail(-EINVAL, "cannot set %s: %lld is no value of it", k->name,
				(long long)value);
	r = ksm_write_at(ctx->ksmfd, k->name, text);
	switch (r) {
	case 0:
		return 0;
	case -EPERM:
	case -EACCES:
		/* File mode, capabilities or an LSM refused: a question of privilege. */
		return ksm_fail(-EACCES, "cannot set %s: permission denied (the KSM knobs are "
					 "writable by root only)", k->name);
	case -EROFS:
		return ksm_fail(-EROFS, "cannot set %s: sysfs is mounted read-only (in a container, "
					"use the host's root as the system root, e.g. /proc/1/root)",
				k->name);
	case -ENOENT:
		return fail_missing(ctx, k, "set");
	case -ERANGE:
	case -EINVAL:
		/* The advisor may have been switched on since we looked. */
		if ((k->requires & KSM_REQUIRES_ADVISOR_NONE) && ksm_advisor_active(ctx) > 0)
			return fail_advisor(k);
		return ksm_fail(-EINVAL, "cannot set %s to %s: the kernel refused the value", k->name,
				text);
	case -EBUSY:
		return ksm_fail(-EBUSY, "cannot set %s: the kernel refused while KSM pages are "
					"merged (unmerge first: run=2, 'ksmctl unmerge')", k->name);
	case -ENOMEM:
		return ksm_fail(-ENOMEM, "cannot set %s to %s: the kernel ran out of memory", k->name,
				text);
	case -EINTR:
		return ksm_fail(-EINTR, "cannot set %s to %s: interrupted by a signal (the kernel "
					"leaves run=0 after an interrupted unmerge)", k->name, text);
	case -ELOOP: {
		char path[4200];

		return ksm_fail(-ELOOP, "cannot set %s: %s is a symbolic link, which libksm never "
					"writes through (sysfs has none there: the system root is not "
					"a kernel's)", k->name,
				ksm_knob_path(ctx, k->name, path, sizeof(path)));
	}
	default:
		return ksm_fail(r, "cannot set %s to %s: %s", k->name, text, strerror(-r));
	}
}

KSM_EXPORT int ksm_set(struct ksm_ctx *ctx, enum ksm_knob knob, int64_t value)
{
	const struct ksm_knob_info *k = ksm_table_get((int)knob);
	int r;

	ksm_fail_clear();
	if (!ctx)
		return -EINVAL;
	r = ksm_knob_check((int)knob, value);
	if (r < 0)
		return r;
	if (ctx->ksmfd < 0)
		return ksm_fail_no_ksm(ctx);
	if (faccessat(ctx->ksmfd, k->name, F_OK, AT_EACCESS) < 0) {
		r = -errno;
		if (r == -ENOENT)
			return fail_missing(ctx, k, "set");
		return ksm_fail(r, "cannot set %s: %s", k->name, strerror(-r));
	}
	r = check_requirements(ctx, k, (int)knob, value);
	if (r < 0)
		return r;
	r = check_rules(ctx, (int)knob, value);
	if (r < 0)
		return r;
	return ksm_write_knob(ctx, (int)knob, value);
}

KSM_EXPORT int ksm_set_text(struct ksm_ctx *ctx, enum ksm_knob knob, const char *text)
{
	int64_t value;
	int r;

	ksm_fail_clear();
	r = ksm_parse_value((int)knob, text, &value);
	if (r < 0)
		return r;
	return ksm_set(ctx, knob, value);
}

KSM_EXPORT int ksm_start(struct ksm_ctx *ctx)
{
	ksm_fail_clear();
	if (ctx && ksm_disabled_by_policy(ctx) > 0)
		return -ECANCELED;
	return ksm_set(ctx, KSM_KNOB_RUN, KSM_RUN_MERGE);
}

KSM_EXPORT int ksm_stop(struct ksm_ctx *ctx)
{
	return ksm_set(ctx, KSM_KNOB_RUN, KSM_RUN_STOP);
}

KSM_EXPORT int ksm_unmerge_all(struct ksm_ctx *ctx)
{
	return ksm_set(ctx, KSM_KNOB_RUN, KSM_RUN_UNMERGE);
}

/* ------------------------------------------------------------------------ */
/* Features                                                                  */

static const struct {
	uint64_t bit;
	const char *name;
} feature_names[] = {
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

KSM_EXPORT const char *ksm_feature_name(uint64_t feature)
{
	for (size_t i = 0; i < KSM_ARRAY_SIZE(feature_names); i++)
		if (feature_names[i].bit == feature)
			return feature_names[i].name;
	return NULL;
}

static bool exists_at(int dirfd, const char *path)
{
	return dirfd >= 0 && faccessat(dirfd, path, F_OK, AT_EACCESS) == 0;
}

/* Is the context's system root the root this process runs in? */
static bool is_live_root(const struct ksm_ctx *ctx)
{
	struct stat a, b;

	return fstat(ctx->rootfd, &a) == 0 && stat("/", &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

KSM_EXPORT int ksm_probe_features(struct ksm_ctx *ctx, uint64_t *features)
{
	uint64_t f = 0;
	int run = ksm_knob_of_role(KSM_ROLE_STATE);

	if (!ctx || !features)
		return -EINVAL;

	if (ctx->ksmfd >= 0) {
		f |= KSM_FEATURE_KSM;
		if (faccessat(ctx->ksmfd, ksm_table_get(run)->name, W_OK, AT_EACCESS) == 0)
			f |= KSM_FEATURE_WRITABLE;
		for (int i = 0; i < KSM_KNOB_NR; i++) {
			const struct ksm_knob_info *k = ksm_table_get(i);
			if (k->feature && !(f & k->feature) && exists_at(ctx->ksmfd, k->name))
				f |= k->feature;
		}
		if (exists_at(ctx->ksmfd, SKSM_CONTROL))
			f |= KSM_FEATURE_SELECTIVE_KSM;
	}
	if (exists_at(ctx->rootfd, "proc/self/ksm_stat"))
		f |= KSM_FEATURE_PROC_KSM_STAT;
	/* GET takes no arguments; -EINVAL means no KSM or a kernel before the prctl. */
	if (is_live_root(ctx) && prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) >= 0)
		f |= KSM_FEATURE_PRCTL_MEMORY_MERGE;

	*features = f;
	return 0;
}

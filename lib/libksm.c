// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The context (system root, the opened KSM directory, page size), knob
 * access with prerequisites, run control, the statistics snapshot with its
 * derived figures, and the feature probe.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "missing.h"

#define KSM_DIR "sys/kernel/mm/ksm"

KSM_EXPORT int ksm_new_at(struct ksm_ctx **out, const char *sysroot)
{
	struct ksm_ctx *ctx;
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!sysroot)
		sysroot = secure_getenv("KSM_SYSROOT");
	if (!sysroot || !*sysroot)
		sysroot = "/";

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->refcount = 1;
	ctx->ksmfd = -1;
	for (int i = 0; i < KSM_KNOB_NR; i++)
		ctx->knobfd[i] = -1;
	ctx->page_size = sysconf(_SC_PAGESIZE);
	ctx->sysroot = strdup(sysroot);
	if (!ctx->sysroot) {
		free(ctx);
		return -ENOMEM;
	}

	ctx->rootfd = open(sysroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->rootfd < 0) {
		r = -errno;
		goto fail;
	}
	ctx->ksmfd = openat(ctx->rootfd, KSM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->ksmfd < 0 && errno != ENOENT && errno != ENOTDIR) {
		r = -errno;
		goto fail;
	}
	*out = ctx;
	return 0;

fail:
	if (ctx->rootfd >= 0)
		close(ctx->rootfd);
	free(ctx->sysroot);
	free(ctx);
	return r;
}

KSM_EXPORT int ksm_new(struct ksm_ctx **out)
{
	return ksm_new_at(out, NULL);
}

KSM_EXPORT struct ksm_ctx *ksm_ref(struct ksm_ctx *ctx)
{
	if (ctx)
		__atomic_add_fetch(&ctx->refcount, 1, __ATOMIC_RELAXED);
	return ctx;
}

KSM_EXPORT struct ksm_ctx *ksm_unref(struct ksm_ctx *ctx)
{
	if (!ctx)
		return NULL;
	if (__atomic_sub_fetch(&ctx->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return ctx;
	for (int i = 0; i < KSM_KNOB_NR; i++)
		if (ctx->knobfd[i] >= 0)
			close(ctx->knobfd[i]);
	if (ctx->ksmfd >= 0)
		close(ctx->ksmfd);
	close(ctx->rootfd);
	free(ctx->sysroot);
	free(ctx);
	return NULL;
}

KSM_EXPORT const char *ksm_get_sysroot(const struct ksm_ctx *ctx)
{
	return ctx ? ctx->sysroot : "/";
}

KSM_EXPORT long ksm_get_page_size(const struct ksm_ctx *ctx)
{
	return ctx ? ctx->page_size : sysconf(_SC_PAGESIZE);
}

/* ------------------------------------------------------------------------ */

/*
 * Read a knob's text through a descriptor kept open in the context: a
 * pread() from offset 0 makes sysfs produce a fresh value, which saves the
 * open/close pair on every read of a snapshot.
 */
static int read_knob_text(struct ksm_ctx *ctx, int knob, char *buf, size_t size)
{
	const struct ksm_knob_info *k = ksm_table_get(knob);
	int fd, r;

	if (ctx->ksmfd < 0)
		return -ENOENT;
	fd = __atomic_load_n(&ctx->knobfd[knob], __ATOMIC_ACQUIRE);
	if (fd >= 0) {
		r = ksm_pread_text(fd, buf, size);
		if (r >= 0)
			return r;
		/*
		 * The file went away behind us (ENODEV on sysfs). Another
		 * thread may still use the cached descriptor, so it stays
		 * until ksm_unref(); read through a fresh one instead.
		 */
		return ksm_read_at(ctx->ksmfd, k->name, buf, size);
	}

	fd = openat(ctx->ksmfd, k->name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = ksm_pread_text(fd, buf, size);
	if (r < 0) {
		close(fd);
		return r;
	}
	int expected = -1;
	if (!__atomic_compare_exchange_n(&ctx->knobfd[knob], &expected, fd, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		close(fd);
	return r;
}

KSM_EXPORT int ksm_get(struct ksm_ctx *ctx, enum ksm_knob knob, int64_t *value)
{
	char buf[KSM_VALUE_MAX];
	int r;

	if (!ctx || !value)
		return -EINVAL;
	if (!ksm_table_get((int)knob))
		return -ENOENT;
	r = read_knob_text(ctx, (int)knob, buf, sizeof(buf));
	if (r < 0)
		return r;
	return ksm_parse_kernel((int)knob, buf, value);
}

/* Does the advisor hold pages_to_scan? An absent advisor never does. */
static int advisor_active(struct ksm_ctx *ctx)
{
	int64_t mode;
	int r = ksm_get(ctx, KSM_KNOB_ADVISOR_MODE, &mode);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return mode != KSM_ADVISOR_NONE;
}

static int check_requirements(struct ksm_ctx *ctx, const struct ksm_knob_info *k,
			      enum ksm_knob knob, int64_t value)
{
	int64_t cur, shared;
	int r;

	if (k->requires & KSM_REQUIRES_NO_MERGED_PAGES) {
		/* Writing the current value always succeeds in the kernel. */
		r = ksm_get(ctx, knob, &cur);
		if (r < 0)
			return r;
		if (cur != value) {
			r = ksm_get(ctx, KSM_KNOB_PAGES_SHARED, &shared);
			if (r < 0 && r != -ENOENT)
				return r;
			if (r == 0 && shared > 0)
				return -EBUSY;
		}
	}
	if (k->requires & KSM_REQUIRES_ADVISOR_NONE) {
		r = advisor_active(ctx);
		if (r < 0)
			return r;
		if (r > 0)
			return -EBUSY;
	}
	return 0;
}

/* Format and write one knob; kernel errors mapped to their causes. */
int ksm_write_knob(struct ksm_ctx *ctx, int knob, int64_t value)
{
	const struct ksm_knob_info *k = ksm_table_get(knob);
	char text[KSM_VALUE_MAX];
	int r;

	r = ksm_knob_format(knob, value, text, sizeof(text));
	if (r < 0)
		return r;
	r = ksm_write_at(ctx->ksmfd, k->name, text);
	switch (r) {
	case 0:
		return 0;
	case -EPERM:
		/* Capabilities or an LSM refused: a question of privilege. */
		return -EACCES;
	case -ERANGE:
		return -EINVAL;
	case -EINVAL:
		/* The advisor may have been switched on since we looked. */
		if ((k->requires & KSM_REQUIRES_ADVISOR_NONE) && advisor_active(ctx) > 0)
			return -EBUSY;
		return -EINVAL;
	default:
		return r;
	}
}

KSM_EXPORT int ksm_set(struct ksm_ctx *ctx, enum ksm_knob knob, int64_t value)
{
	const struct ksm_knob_info *k = ksm_table_get((int)knob);
	int r;

	if (!ctx)
		return -EINVAL;
	r = ksm_knob_check(knob, value);
	if (r < 0)
		return r;
	if (ctx->ksmfd < 0)
		return -ENOENT;
	if (faccessat(ctx->ksmfd, k->name, F_OK, AT_EACCESS) < 0)
		return -errno;

	r = check_requirements(ctx, k, knob, value);
	if (r < 0)
		return r;
	return ksm_write_knob(ctx, (int)knob, value);
}

KSM_EXPORT int ksm_set_text(struct ksm_ctx *ctx, enum ksm_knob knob, const char *text)
{
	int64_t value;
	int r = ksm_knob_parse(knob, text, &value);

	if (r < 0)
		return r;
	return ksm_set(ctx, knob, value);
}

KSM_EXPORT int ksm_start(struct ksm_ctx *ctx)
{
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

/* The knob fields of struct ksm_stats are int64_t in table order from .run. */
_Static_assert(offsetof(struct ksm_stats, general_profit) ==
	       offsetof(struct ksm_stats, run) + KSM_KNOB_GENERAL_PROFIT * sizeof(int64_t),
	       "struct ksm_stats knob fields must follow enum ksm_knob");
_Static_assert(offsetof(struct ksm_stats, advisor_mode) ==
	       offsetof(struct ksm_stats, run) + KSM_KNOB_ADVISOR_MODE * sizeof(int64_t),
	       "struct ksm_stats knob fields must follow enum ksm_knob");
_Static_assert(KSM_KNOB_GENERAL_PROFIT == KSM_KNOB_NR - 1, "table size");

/* Size of struct ksm_stats as first published (0.1). */
#define KSM_STATS_SIZE_0_1 (offsetof(struct ksm_stats, effectiveness) + sizeof(double))

static int64_t *stats_field(struct ksm_stats *st, int knob)
{
	return &st->run + knob;
}

/* sizeof(struct ksm_rmap_item) in the kernel: 64 bytes on 64-bit, 32 on 32-bit. */
#define RMAP_ITEM_SIZE ((int64_t)(sizeof(void *) * 8))

static void stats_derive(struct ksm_stats *s, long page_size)
{
	int64_t tracked = s->pages_shared + s->pages_sharing + s->pages_unshared +
			  s->pages_volatile + s->ksm_zero_pages;

	s->page_size = page_size;
	s->saved_pages = s->pages_sharing + s->ksm_zero_pages;
	s->saved_bytes = s->saved_pages * page_size;
	if (s->present & (UINT64_C(1) << KSM_KNOB_GENERAL_PROFIT))
		s->profit_bytes = s->general_profit;
	else
		/* Documentation/admin-guide/mm/ksm.rst, "Monitoring KSM profit" */
		s->profit_bytes = s->saved_bytes - (tracked - s->ksm_zero_pages) * RMAP_ITEM_SIZE;
	s->sharing_ratio = s->pages_shared ? (double)s->pages_sharing / (double)s->pages_shared : 0.0;
	s->effectiveness = tracked > 0 ? (double)s->saved_pages / (double)tracked : 0.0;
}

KSM_EXPORT int ksm_stats_read(struct ksm_ctx *ctx, struct ksm_stats *st)
{
	if (!ctx)
		return -EINVAL;
	return ksm_stats_read_at(ctx, ctx->ksmfd, st);
}

/*
 * The snapshot of the knob files in @dirfd: the KSM directory itself (read
 * through the context's cached descriptors) or a directory holding the same
 * attribute group, such as a Selective KSM partition.
 */
int ksm_stats_read_at(struct ksm_ctx *ctx, int dirfd, struct ksm_stats *st)
{
	struct ksm_stats s = { .size = sizeof(s) };
	char buf[KSM_VALUE_MAX];
	uint32_t size;
	int r;

	if (!ctx || !st || st->size < KSM_STATS_SIZE_0_1)
		return -EINVAL;
	if (dirfd < 0)
		return -ENOENT;

	for (int i = 0; i < KSM_KNOB_NR; i++) {
		if (dirfd == ctx->ksmfd)
			r = read_knob_text(ctx, i, buf, sizeof(buf));
		else
			r = ksm_read_at(dirfd, ksm_table_get(i)->name, buf, sizeof(buf));
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		r = ksm_parse_kernel(i, buf, stats_field(&s, i));
		if (r < 0)
			return r;
		s.present |= UINT64_C(1) << i;
	}
	stats_derive(&s, ctx->page_size);

	size = st->size < sizeof(s) ? st->size : (uint32_t)sizeof(s);
	memcpy(st, &s, size);
	st->size = size;
	return 0;
}

KSM_EXPORT int ksm_stats_value(const struct ksm_stats *st, enum ksm_knob knob, int64_t *value)
{
	if (!st || !value || !ksm_table_get((int)knob) || st->size < KSM_STATS_SIZE_0_1)
		return -EINVAL;
	if (!(st->present & (UINT64_C(1) << knob)))
		return -ENOENT;
	*value = *stats_field((struct ksm_stats *)st, (int)knob);
	return 0;
}

/* ------------------------------------------------------------------------ */

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
	{ KSM_FEATURE_PROCESS_KSM, "process_ksm" },
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

	if (!ctx || !features)
		return -EINVAL;

	if (ctx->ksmfd >= 0) {
		f |= KSM_FEATURE_KSM;
		if (faccessat(ctx->ksmfd, ksm_table_get(KSM_KNOB_RUN)->name, W_OK, AT_EACCESS) == 0)
			f |= KSM_FEATURE_WRITABLE;
		for (int i = 0; i < KSM_KNOB_NR; i++) {
			const struct ksm_knob_info *k = ksm_table_get(i);
			if (k->feature && !(f & k->feature) && exists_at(ctx->ksmfd, k->name))
				f |= k->feature;
		}
		if (exists_at(ctx->ksmfd, "control/add_partition"))
			f |= KSM_FEATURE_SELECTIVE_KSM;
	}
	if (exists_at(ctx->rootfd, "proc/self/ksm_stat"))
		f |= KSM_FEATURE_PROC_KSM_STAT;
	if (exists_at(ctx->rootfd, "sys/kernel/process_ksm/process_ksm_enable"))
		f |= KSM_FEATURE_PROCESS_KSM;
	/* GET takes no arguments; -EINVAL means no KSM or a kernel before the prctl. */
	if (is_live_root(ctx) && prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) >= 0)
		f |= KSM_FEATURE_PRCTL_MEMORY_MERGE;

	*features = f;
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The statistics snapshot: every knob file in one call, placed into struct
 * ksm_stats through the offsets of the knob table, plus the derived figures.
 * The caller passes the size of its struct, so that programs built against
 * an older (smaller) or newer (larger) header work with this library.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

#define BIT(k) (UINT64_C(1) << (k))

/* Every field is 8 bytes; each knob's field lies inside the struct. */
_Static_assert(sizeof(((struct ksm_stats *)0)->run) == sizeof(int64_t), "knob fields are int64_t");
_Static_assert(KSM_KNOB_NR <= 64, "struct ksm_stats.present has 64 bits");

static int64_t *field(struct ksm_stats *st, int knob)
{
	return (int64_t *)((char *)st + ksm_knob_defs()[knob].offset);
}

static void derive(struct ksm_stats *s, long page_size)
{
	/* Saturating: the figures come from files that may hold anything. */
	int64_t rmap = ksm_add_sat(ksm_add_sat(s->pages_shared, s->pages_sharing),
				   ksm_add_sat(s->pages_unshared, s->pages_volatile));
	int64_t tracked = ksm_add_sat(rmap, s->ksm_zero_pages);

	s->page_size = page_size;
	s->saved_pages = ksm_add_sat(s->pages_sharing, s->ksm_zero_pages);
	s->saved_bytes = ksm_mul_sat(s->saved_pages, page_size);
	if (s->present & BIT(KSM_KNOB_GENERAL_PROFIT))
		s->profit_bytes = s->general_profit;
	else
		/* Documentation/admin-guide/mm/ksm.rst, "Monitoring KSM profit" */
		s->profit_bytes = ksm_sub_sat(s->saved_bytes, ksm_mul_sat(rmap, RMAP_ITEM_SIZE));
	s->sharing_ratio = s->pages_shared ? (double)s->pages_sharing / (double)s->pages_shared : 0.0;
	s->effectiveness = tracked > 0 ? (double)s->saved_pages / (double)tracked : 0.0;
}

/*
 * Hand @s to a caller whose struct is @size bytes: exactly @size bytes are
 * written; fields the caller does not have are not marked present; bytes
 * the library does not know are zeroed.
 */
static void copy_out(struct ksm_stats *s, struct ksm_stats *st, size_t size)
{
	const struct ksm_knob_def *defs = ksm_knob_defs();

	for (int i = 0; i < KSM_KNOB_NR; i++)
		if (defs[i].offset + sizeof(int64_t) > size)
			s->present &= ~BIT(i);
	ksm_copy_out(st, size, s, sizeof(*s));
}

/*
 * The snapshot of the knob files in @dirfd: the KSM directory itself (read
 * through the context's cached descriptors) or a directory holding the same
 * attribute group, such as a Selective KSM partition.
 */
static int stats_read(struct ksm_ctx *ctx, int dirfd, uint64_t mask, struct ksm_stats *st,
		      size_t size)
{
	struct ksm_stats s;
	char buf[KSM_VALUE_MAX];
	int r;

	if (!ctx || !st || size < sizeof(st->present))
		return -EINVAL;
	if (dirfd < 0)
		return dirfd == ctx->ksmfd ? ksm_fail_no_ksm(ctx) : -ENOENT;

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < KSM_KNOB_NR; i++) {
		const char *name = ksm_table_get(i)->name;

		if (!(mask & BIT(i)))
			continue;

		if (dirfd == ctx->ksmfd)
			r = ksm_read_knob(ctx, i, buf, sizeof(buf));
		else
			r = ksm_read_whole_at(dirfd, name, buf, sizeof(buf));
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return ksm_fail_read(ctx, dirfd == ctx->ksmfd ? NULL : "", i, r, NULL);
		r = ksm_parse_kernel(i, buf, field(&s, i));
		if (r < 0)
			return ksm_fail_read(ctx, dirfd == ctx->ksmfd ? NULL : "", i, r, buf);
		s.present |= BIT(i);
	}
	derive(&s, ctx->page_size);
	copy_out(&s, st, size);
	return 0;
}

int ksm_stats_read_at(struct ksm_ctx *ctx, int dirfd, struct ksm_stats *st, size_t size)
{
	return stats_read(ctx, dirfd, ~UINT64_C(0), st, size);
}

int ksm_stats_read_some(struct ksm_ctx *ctx, uint64_t mask, struct ksm_stats *st)
{
	return stats_read(ctx, ctx ? ctx->ksmfd : -1, mask, st, sizeof(*st));
}

KSM_EXPORT int ksm_stats_read(struct ksm_ctx *ctx, struct ksm_stats *st, size_t size)
{
	ksm_fail_clear();
	if (!ctx)
		return -EINVAL;
	return ksm_stats_read_at(ctx, ctx->ksmfd, st, size);
}

KSM_EXPORT int ksm_stats_value(const struct ksm_stats *st, enum ksm_knob knob, int64_t *value)
{
	if (!st || !value || !ksm_table_get((int)knob))
		return -EINVAL;
	/* A field beyond the caller's struct was never marked present. */
	if (!(st->present & BIT(knob)))
		return -ENOENT;
	*value = *field((struct ksm_stats *)st, (int)knob);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* What an unmerge costs                                                     */

/* MemAvailable of <sysroot>/proc/meminfo in bytes; -ENODATA if the kernel
 * has no such line (before 3.14), -EBADMSG, or the -errno of the read. */
int ksm_mem_available(struct ksm_ctx *ctx, int64_t *bytes)
{
	static const char key[] = "MemAvailable:";
	char buf[8192], *line;
	int64_t kb = 0;
	int r;

	r = ksm_read_at(ctx->rootfd, "proc/meminfo", buf, sizeof(buf));
	if (r < 0)
		return r;
	for (line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char *p, *end;

		if (strncmp(line, key, sizeof(key) - 1) != 0)
			continue;
		p = line + sizeof(key) - 1;
		p += strspn(p, " \t");
		end = p + strspn(p, "0123456789");
		if (end == p || strncmp(end, " kB", 3) != 0)
			return -EBADMSG;
		*end = '\0';
		if (ksm_parse_int64(p, &kb) < 0 || kb > INT64_MAX / 1024)
			return -EBADMSG;
		*bytes = kb * 1024;
		return 0;
	}
	return -ENODATA;
}

static double mib(int64_t bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

KSM_EXPORT int ksm_unmerge_estimate(struct ksm_ctx *ctx, struct ksm_unmerge_cost *cost, size_t size)
{
	struct ksm_unmerge_cost c;
	struct ksm_stats st;
	int r;

	ksm_fail_clear();
	if (!ctx || !cost || size < sizeof(cost->pages))
		return -EINVAL;
	r = ksm_stats_read_at(ctx, ctx->ksmfd, &st, sizeof(st));
	if (r < 0)
		return r;
	memset(&c, 0, sizeof(c));
	c.pages = st.saved_pages;
	c.need_bytes = st.saved_bytes;
	c.available_bytes = -1;
	r = ksm_mem_available(ctx, &c.available_bytes);
	if (r == -ENOENT || r == -ENODATA)
		r = 0; /* no /proc/meminfo or no MemAvailable: the cost cannot be compared */
	if (r < 0) {
		size_t len = strlen(ctx->sysroot);

		while (len > 0 && ctx->sysroot[len - 1] == '/')
			len--;
		if (r == -EBADMSG)
			r = ksm_fail(r, "cannot tell the memory available: the MemAvailable line of "
					"%.*s/proc/meminfo is not \"MemAvailable: <number> kB\"",
				     (int)len, ctx->sysroot);
		else
			r = ksm_fail(r, "cannot read %.*s/proc/meminfo: %s", (int)len, ctx->sysroot,
				     strerror(-r));
	}
	if (r == 0 && c.available_bytes >= 0 && c.need_bytes > c.available_bytes)
		r = ksm_fail(-ENOMEM, "unmerging would copy back %lld pages (%.1f MiB), more than the "
				      "%.1f MiB of memory available: the system could run out of "
				      "memory; free memory first, or force it",
			     (long long)c.pages, mib(c.need_bytes), mib(c.available_bytes));
	ksm_copy_out(cost, size, &c, sizeof(c));
	return r;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The statistics snapshot: every knob file in one call, placed into struct
 * ksm_stats through the offsets of the knob table, plus the derived figures.
 * The caller passes the size of its struct, so that programs built against
 * an older (smaller) or newer (larger) header work with this library.
 */
#include <errno.h>
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
	int64_t tracked = s->pages_shared + s->pages_sharing + s->pages_unshared +
			  s->pages_volatile + s->ksm_zero_pages;

	s->page_size = page_size;
	s->saved_pages = s->pages_sharing + s->ksm_zero_pages;
	s->saved_bytes = s->saved_pages * page_size;
	if (s->present & BIT(KSM_KNOB_GENERAL_PROFIT))
		s->profit_bytes = s->general_profit;
	else
		/* Documentation/admin-guide/mm/ksm.rst, "Monitoring KSM profit" */
		s->profit_bytes = s->saved_bytes - (tracked - s->ksm_zero_pages) * RMAP_ITEM_SIZE;
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
	if (size <= sizeof(*s)) {
		memcpy(st, s, size);
	} else {
		memcpy(st, s, sizeof(*s));
		memset((char *)st + sizeof(*s), 0, size - sizeof(*s));
	}
}

/*
 * The snapshot of the knob files in @dirfd: the KSM directory itself (read
 * through the context's cached descriptors) or a directory holding the same
 * attribute group, such as a Selective KSM partition.
 */
int ksm_stats_read_at(struct ksm_ctx *ctx, int dirfd, struct ksm_stats *st, size_t size)
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

		if (dirfd == ctx->ksmfd)
			r = ksm_read_knob(ctx, i, buf, sizeof(buf));
		else
			r = ksm_read_at(dirfd, name, buf, sizeof(buf));
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return ksm_fail(r, "cannot read %s: %s", name, strerror(-r));
		r = ksm_parse_kernel(i, buf, field(&s, i));
		if (r < 0)
			return ksm_fail(r, "cannot read %s: the kernel's text cannot be parsed", name);
		s.present |= BIT(i);
	}
	derive(&s, ctx->page_size);
	copy_out(&s, st, size);
	return 0;
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

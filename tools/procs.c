// SPDX-License-Identifier: LGPL-2.1-or-later
/* The processes with KSM activity, with who they are, and their sums by group. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ksmctl.h"

static int table_add(struct proc_table *t, const struct ksm_proc *p)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct proc_entry *nv = realloc(t->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		t->v = nv;
		t->cap = cap;
	}
	memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
	t->v[t->n].proc = *p;
	t->n++;
	return 0;
}

static int collect(const struct ksm_proc *p, void *data)
{
	return table_add(data, p);
}

/* Who each process is; a process that exited meanwhile keeps an empty identity. */
static void identify(struct ksm_ctx *ctx, struct proc_table *t, size_t from)
{
	for (size_t i = from; i < t->n; i++)
		if (ksm_proc_ident_read(ctx, t->v[i].proc.pid, &t->v[i].id, sizeof(t->v[i].id)) < 0)
			t->v[i].id.present = 0;
}

int proc_table_fill(struct ksm_ctx *ctx, struct proc_table *t, bool ident,
		    struct ksm_proc_counts *counts)
{
	struct ksm_proc_counts c;
	size_t from = t->n;
	int r = ksm_proc_foreach_counted(ctx, collect, t, counts ? counts : &c, sizeof(c));

	if (r >= 0 && ident)
		identify(ctx, t, from);
	return r;
}

int proc_table_add_pid(struct ksm_ctx *ctx, struct proc_table *t, int pid, bool ident)
{
	struct ksm_proc p = { .pid = pid };
	int r = ksm_proc_stats_read(ctx, pid, &p.stats, sizeof(p.stats));

	if (r == 0)
		r = ksm_proc_comm(ctx, pid, p.comm, sizeof(p.comm));
	if (r >= 0)
		r = table_add(t, &p);
	if (r == 0 && ident)
		identify(ctx, t, t->n - 1);
	return r;
}

void proc_table_free(struct proc_table *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

const char *proc_group_key(const struct proc_entry *e, enum group_by by)
{
	switch (by) {
	case GROUP_CGROUP:
		return (e->id.present & KSM_IDENT_CGROUP) ? e->id.cgroup : "";
	case GROUP_UNIT:
		return (e->id.present & KSM_IDENT_UNIT) ? e->id.unit : "";
	case GROUP_COMM:
	case GROUP_NONE:
		break;
	}
	return e->proc.comm;
}

static int group_cmp(const void *a, const void *b)
{
	const struct proc_group *x = a, *y = b;

	if (x->profit_bytes != y->profit_bytes)
		return x->profit_bytes < y->profit_bytes ? 1 : -1;
	return strcmp(x->key, y->key);
}

static int entry_key_cmp(const void *a, const void *b, void *by)
{
	return strcmp(proc_group_key(*(struct proc_entry *const *)a, *(enum group_by *)by),
		      proc_group_key(*(struct proc_entry *const *)b, *(enum group_by *)by));
}

int proc_table_group(const struct proc_table *t, enum group_by by, struct proc_group **out,
		     size_t *nout)
{
	struct proc_entry **order;
	struct proc_group *g;
	size_t n = 0;

	*out = NULL;
	*nout = 0;
	if (t->n == 0)
		return 0;
	/* Sort pointers by key, then sum runs of equal keys: n log n, no hashing. */
	order = malloc(t->n * sizeof(*order));
	g = calloc(t->n, sizeof(*g));
	if (!order || !g) {
		free(order);
		free(g);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++)
		order[i] = &t->v[i];
	qsort_r(order, t->n, sizeof(*order), entry_key_cmp, &by);
	for (size_t i = 0; i < t->n; i++) {
		const struct proc_entry *e = order[i];
		const struct ksm_proc_stats *s = &e->proc.stats;
		const char *key = proc_group_key(e, by);

		if (n == 0 || strcmp(g[n - 1].key, key) != 0) {
			g[n].key = key;
			g[n].unit = (e->id.present & KSM_IDENT_UNIT) ? e->id.unit : "";
			n++;
		} else if (strcmp(g[n - 1].unit, (e->id.present & KSM_IDENT_UNIT) ? e->id.unit : "")) {
			g[n - 1].unit = ""; /* a key spanning several units names none */
		}
		g[n - 1].processes++;
		g[n - 1].ksm_merging_pages += s->ksm_merging_pages;
		g[n - 1].ksm_zero_pages += s->ksm_zero_pages;
		g[n - 1].ksm_rmap_items += s->ksm_rmap_items;
		g[n - 1].saved_bytes += s->saved_bytes;
		g[n - 1].profit_bytes += s->profit_bytes;
	}
	free(order);
	if (n > 1)
		qsort(g, n, sizeof(*g), group_cmp);
	*out = g;
	*nout = n;
	return 0;
}

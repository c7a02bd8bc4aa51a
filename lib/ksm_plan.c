// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The order of a transaction's writes: a pure function of the knob table,
 * the current values and the wanted ones. Every rule comes from the table
 * (each knob's kind, its requires flags and its role), so that a tunable
 * added to the table is planned and written with no change here.
 *
 *  1. run=2 first, if a knob that requires no merged pages changes while
 *     pages are merged (and the caller allowed the unmerge);
 *  2. the tunables without prerequisites, in table order;
 *  3. the advisor's mode; the kernel then resets the knobs it controls;
 *  4. the knobs that require the advisor off, now that they can be written;
 *  5. the knobs that require no merged pages;
 *  6. the state knob (run) last.
 */
#include <errno.h>

#include "internal.h"

#define BIT(k) (UINT64_C(1) << (k))

struct out {
	struct ksm_txn_step *steps;
	size_t max, n;
};

static void add(struct out *o, int knob, int64_t value)
{
	if (o->n < o->max)
		o->steps[o->n] = (struct ksm_txn_step){ .knob = knob, .value = value };
	o->n++;
}

static int role_knob(const struct ksm_knob_def *defs, int n, uint64_t present,
		     enum ksm_knob_role role)
{
	for (int k = 0; k < n; k++)
		if (defs[k].role == role)
			return (present & BIT(k)) ? k : -1;
	return -1;
}

static bool is_tunable(const struct ksm_knob_def *d)
{
	return d->info.kind == KSM_KIND_TUNABLE;
}

int ksm_plan(const struct ksm_knob_def *defs, int n, uint64_t present, const int64_t *cur,
	     uint64_t set, const int64_t *want, unsigned int flags, struct ksm_txn_step *steps,
	     size_t max, int *failed)
{
	struct out o = { .steps = steps, .max = steps ? max : 0 };
	int64_t t[KSM_PLAN_KNOBS_MAX], now[KSM_PLAN_KNOBS_MAX];
	int state, advisor, start, merged;
	bool unmerge = false, advisor_on;

	*failed = -1;
	if (n <= 0 || n > KSM_PLAN_KNOBS_MAX)
		return -EINVAL;
	state = role_knob(defs, n, present, KSM_ROLE_STATE);
	advisor = role_knob(defs, n, present, KSM_ROLE_ADVISOR);
	start = role_knob(defs, n, present, KSM_ROLE_ADVISOR_START);
	merged = role_knob(defs, n, present, KSM_ROLE_MERGED);

	for (int k = 0; k < n; k++) {
		now[k] = t[k] = (present & BIT(k)) ? cur[k] : 0;
		if (!(set & BIT(k)))
			continue;
		*failed = k;
		if (!(present & BIT(k)))
			return -ENOENT;
		if (!is_tunable(&defs[k]))
			return -EPERM;
		t[k] = want[k];
		*failed = -1;
	}
	advisor_on = advisor >= 0 && t[advisor] != KSM_ADVISOR_NONE;

	/* While the advisor runs, it owns the knobs that require it off. */
	for (int k = 0; k < n && advisor_on; k++) {
		if (!(set & BIT(k)) || !(defs[k].info.requires & KSM_REQUIRES_ADVISOR_NONE))
			continue;
		if (cur[advisor] == KSM_ADVISOR_NONE || t[k] != cur[k]) {
			*failed = k;
			return -EBUSY;
		}
	}

	/* 1. Knobs that change only without merged pages. */
	for (int k = 0; k < n; k++) {
		if (!(present & BIT(k)) || !is_tunable(&defs[k]) ||
		    !(defs[k].info.requires & KSM_REQUIRES_NO_MERGED_PAGES) || t[k] == cur[k] ||
		    merged < 0 || cur[merged] == 0)
			continue;
		if (!(flags & KSM_TXN_ALLOW_UNMERGE) &&
		    !(state >= 0 && (set & BIT(state)) && t[state] == KSM_RUN_UNMERGE)) {
			*failed = k;
			return -EBUSY;
		}
		unmerge = true;
	}
	if (unmerge && state >= 0) {
		add(&o, state, KSM_RUN_UNMERGE);
		now[state] = KSM_RUN_UNMERGE;
	}

	/* 2. Tunables without prerequisites, in table order. */
	for (int k = 0; k < n; k++)
		if ((present & BIT(k)) && is_tunable(&defs[k]) && !defs[k].info.requires &&
		    defs[k].role != KSM_ROLE_STATE && defs[k].role != KSM_ROLE_ADVISOR && t[k] != cur[k])
			add(&o, k, t[k]);
	/* The start value counts as written: the advisor may start from it. */
	if (start >= 0)
		now[start] = t[start];

	/* 3. The advisor's mode, and what switching it does to the knobs it controls. */
	if (advisor >= 0 && t[advisor] != cur[advisor]) {
		add(&o, advisor, t[advisor]);
		for (int k = 0; k < n; k++) {
			if (!(defs[k].info.requires & KSM_REQUIRES_ADVISOR_NONE))
				continue;
			if (t[advisor] == KSM_ADVISOR_NONE)
				now[k] = defs[k].advisor_off_value;
			else if (start >= 0)
				now[k] = t[k] = now[start];
		}
	}

	/* 4. The knobs that require the advisor off. */
	for (int k = 0; k < n && !advisor_on; k++)
		if ((present & BIT(k)) && is_tunable(&defs[k]) &&
		    (defs[k].info.requires & KSM_REQUIRES_ADVISOR_NONE) &&
		    !(defs[k].info.requires & KSM_REQUIRES_NO_MERGED_PAGES) && t[k] != now[k])
			add(&o, k, t[k]);

	/* 5. The knobs that require no merged pages. */
	for (int k = 0; k < n; k++)
		if ((present & BIT(k)) && is_tunable(&defs[k]) &&
		    (defs[k].info.requires & KSM_REQUIRES_NO_MERGED_PAGES) && t[k] != cur[k])
			add(&o, k, t[k]);

	/* 6. The state last: back to its old value after an unmerge, unless set. */
	if (state >= 0 && t[state] != now[state])
		add(&o, state, t[state]);
	return (int)o.n;
}

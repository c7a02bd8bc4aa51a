// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Knob transactions. The order of the writes comes from ksm_plan() (a pure
 * function of the knob table, the current values and the wanted ones); the
 * code here only reads the kernel, writes the plan, and on failure plans
 * and writes the way back, and says whether the way back worked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_STEPS (KSM_KNOB_NR + 2)
#define BIT(k) (UINT64_C(1) << (k))

struct ksm_txn {
	int refcount;
	struct ksm_ctx *ctx;
	uint64_t set;                /* knobs named in the transaction */
	int64_t want[KSM_KNOB_NR];
};

KSM_EXPORT int ksm_txn_new(struct ksm_ctx *ctx, struct ksm_txn **out)
{
	struct ksm_txn *txn;

	if (!ctx || !out)
		return -EINVAL;
	txn = calloc(1, sizeof(*txn));
	if (!txn)
		return -ENOMEM;
	txn->refcount = 1;
	txn->ctx = ksm_ref(ctx);
	*out = txn;
	return 0;
}

KSM_EXPORT struct ksm_txn *ksm_txn_ref(struct ksm_txn *txn)
{
	if (txn)
		__atomic_add_fetch(&txn->refcount, 1, __ATOMIC_RELAXED);
	return txn;
}

KSM_EXPORT struct ksm_txn *ksm_txn_unref(struct ksm_txn *txn)
{
	if (!txn)
		return NULL;
	if (__atomic_sub_fetch(&txn->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return txn;
	ksm_unref(txn->ctx);
	free(txn);
	return NULL;
}

KSM_EXPORT int ksm_txn_set(struct ksm_txn *txn, enum ksm_knob knob, int64_t value)
{
	int r;

	ksm_fail_clear();
	if (!txn)
		return -EINVAL;
	r = ksm_knob_check((int)knob, value);
	if (r < 0)
		return r;
	txn->set |= BIT(knob);
	txn->want[knob] = value;
	return 0;
}

KSM_EXPORT int ksm_txn_set_text(struct ksm_txn *txn, enum ksm_knob knob, const char *text)
{
	int64_t value;
	int r;

	ksm_fail_clear();
	if (!txn)
		return -EINVAL;
	r = ksm_parse_value((int)knob, text, &value);
	if (r < 0)
		return r;
	return ksm_txn_set(txn, knob, value);
}

KSM_EXPORT int ksm_txn_get(const struct ksm_txn *txn, enum ksm_knob knob, int64_t *value)
{
	if (!txn || !ksm_table_get((int)knob))
		return -EINVAL;
	if (!(txn->set & BIT(knob)))
		return 0;
	if (value)
		*value = txn->want[knob];
	return 1;
}

/* ------------------------------------------------------------------------ */

struct state {
	uint64_t present;
	int64_t cur[KSM_KNOB_NR];
};

static int snapshot(struct ksm_ctx *ctx, struct state *s)
{
	struct ksm_stats st;
	int r = ksm_stats_read(ctx, &st, sizeof(st));

	if (r < 0)
		return r;
	s->present = st.present;
	for (int k = 0; k < KSM_KNOB_NR; k++)
		if (ksm_stats_value(&st, k, &s->cur[k]) < 0)
			s->cur[k] = 0;
	return 0;
}

static int plan(const struct state *s, uint64_t set, const int64_t *want, unsigned int flags,
		struct ksm_txn_step *steps, size_t max, int *failed)
{
	return ksm_plan(ksm_knob_defs(), KSM_KNOB_NR, s->present, s->cur, set, want, flags, steps, max,
			failed);
}

/* The rules between knobs, on the values the transaction would leave. */
static int check_rules(const struct state *s, uint64_t set, const int64_t *want)
{
	int64_t vals[KSM_KNOB_NR];

	for (int k = 0; k < KSM_KNOB_NR; k++)
		vals[k] = (set & BIT(k)) ? want[k] : s->cur[k];
	return ksm_rules_check(s->present | set, vals, set);
}

/* The message of a plan that was refused. */
static int fail_plan(struct ksm_ctx *ctx, const struct state *s, int r, int knob)
{
	const struct ksm_knob_info *k = ksm_table_get(knob);
	int merged_knob = ksm_knob_of_role(KSM_ROLE_MERGED);

	if (!k)
		return ksm_fail(r, "cannot plan the transaction: %s", strerror(-r));
	if (r == -ENOENT)
		return ksm_fail(r, "cannot set %s: this kernel has no such file (it appeared in Linux %s)",
				k->name, k->since);
	if (r == -EPERM)
		return ksm_fail(r, "%s is a counter that the kernel maintains; it cannot be written",
				k->name);
	if (r == -EBUSY && (k->requires & KSM_REQUIRES_NO_MERGED_PAGES)) {
		int64_t merged = merged_knob >= 0 ? s->cur[merged_knob] : 0;

		return ksm_fail(r, "cannot set %s: %lld KSM pages are still merged, and the kernel "
				   "changes %s only when none are (allow the transaction to unmerge "
				   "first: KSM_TXN_ALLOW_UNMERGE, 'ksmctl set --allow-unmerge'; or "
				   "unmerge: run=2, 'ksmctl unmerge')",
				k->name, (long long)merged, k->name);
	}
	if (r == -EBUSY)
		return ksm_fail(r, "cannot set %s: the kernel's advisor controls it while the "
				   "advisor is on (set advisor_mode=none in the same transaction, "
				   "or first)", k->name);
	(void)ctx;
	return ksm_fail(r, "cannot plan the change of %s: %s", k->name, strerror(-r));
}

KSM_EXPORT int ksm_txn_plan(struct ksm_txn *txn, unsigned int flags, struct ksm_txn_step *steps,
			    size_t max, int *failed_knob)
{
	struct state s;
	int failed, r;

	ksm_fail_clear();
	if (failed_knob)
		*failed_knob = -1;
	if (!txn)
		return -EINVAL;
	r = snapshot(txn->ctx, &s);
	if (r < 0)
		return r;
	r = check_rules(&s, txn->set, txn->want);
	if (r < 0)
		return r;
	r = plan(&s, txn->set, txn->want, flags, steps, steps ? max : 0, &failed);
	if (failed_knob)
		*failed_knob = failed;
	if (r < 0)
		return fail_plan(txn->ctx, &s, r, failed);
	return r;
}

/*
 * The knobs that the way back must restore after steps[0..done) (the step
 * that failed is included: it may have half happened), with their values
 * from @before.
 */
static uint64_t rollback_set(const struct state *before, const struct ksm_txn_step *steps,
			     size_t done)
{
	const struct ksm_knob_def *defs = ksm_knob_defs();
	uint64_t set = 0;
	bool advisor_written = false, advisor_was_on = false;

	for (size_t i = 0; i < done; i++) {
		set |= BIT(steps[i].knob);
		if (defs[steps[i].knob].role == KSM_ROLE_ADVISOR)
			advisor_written = true;
	}
	for (int k = 0; k < KSM_KNOB_NR; k++) {
		if (defs[k].role == KSM_ROLE_ADVISOR && (before->present & BIT(k)))
			advisor_was_on = before->cur[k] != KSM_ADVISOR_NONE;
		/* An unmerge cannot be undone; the state gets its old value back. */
		if (defs[k].role == KSM_ROLE_STATE && before->cur[k] == KSM_RUN_UNMERGE)
			set &= ~BIT(k);
	}
	for (int k = 0; k < KSM_KNOB_NR; k++) {
		if (!(defs[k].info.requires & KSM_REQUIRES_ADVISOR_NONE))
			continue;
		/* Writing the advisor's mode also changed the knobs it controls... */
		if (advisor_written)
			set |= BIT(k);
		/* ...but while it was on, they were its own, and it recomputes them. */
		if (advisor_was_on)
			set &= ~BIT(k);
	}
	return set & before->present;
}

/*
 * Write back what steps[0..done) changed, best effort, planned afresh from
 * the state the failure left behind. Returns the knobs that did not get
 * their old values back (0: everything was restored).
 */
static uint64_t roll_back(struct ksm_ctx *ctx, const struct state *before,
			  const struct ksm_txn_step *steps, size_t done, unsigned int flags)
{
	struct ksm_txn_step back[MAX_STEPS];
	uint64_t set = rollback_set(before, steps, done), left;
	struct state now;
	int failed, n = 0;

	if (snapshot(ctx, &now) < 0)
		return set;
	/*
	 * Unmerge only if the caller allowed it. A knob that cannot go back
	 * (pages merged meanwhile) is left out, so that the others still do.
	 */
	for (int tries = 0; tries < KSM_KNOB_NR; tries++) {
		n = plan(&now, set, before->cur, flags, back, MAX_STEPS, &failed);
		if (n >= 0)
			break;
		if (failed < 0 || !(set & BIT(failed)))
			return set;
		set &= ~BIT(failed);
	}
	for (int i = 0; i < n && i < MAX_STEPS; i++)
		(void)ksm_write_knob(ctx, back[i].knob, back[i].value);

	/* What is still not as before? */
	left = rollback_set(before, steps, done);
	if (snapshot(ctx, &now) < 0)
		return left;
	for (int k = 0; k < KSM_KNOB_NR; k++)
		if ((left & BIT(k)) && now.cur[k] == before->cur[k])
			left &= ~BIT(k);
	return left;
}

static void names_of(uint64_t set, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int k = 0; k < KSM_KNOB_NR && len < size; k++)
		if (set & BIT(k))
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
						ksm_table_get(k)->name);
}

/* Apply @set/@want to @ctx all or nothing; shared with the boost code. */
int ksm_apply(struct ksm_ctx *ctx, uint64_t set, const int64_t *want, unsigned int flags,
	      int *failed_knob)
{
	struct ksm_txn_step steps[MAX_STEPS];
	struct state before;
	int failed = -1, n, r;

	if (failed_knob)
		*failed_knob = -1;
	r = snapshot(ctx, &before);
	if (r < 0)
		return r;
	r = check_rules(&before, set, want);
	if (r < 0)
		return r;
	n = plan(&before, set, want, flags, steps, MAX_STEPS, &failed);
	if (n < 0) {
		if (failed_knob)
			*failed_knob = failed;
		return fail_plan(ctx, &before, n, failed);
	}
	for (int i = 0; i < n; i++) {
		char failure[512], left_names[256];
		uint64_t left;

		r = ksm_write_knob(ctx, steps[i].knob, steps[i].value);
		if (r == 0)
			continue;
		if (failed_knob)
			*failed_knob = steps[i].knob;
		snprintf(failure, sizeof(failure), "%s", ksm_strerror(r));
		/* The failed write too: a failed run=2 leaves run at 0. */
		left = roll_back(ctx, &before, steps, (size_t)i + 1, flags);
		if (!left) {
			if (i > 0)
				ksm_warn(ctx, "%s; rolled back the %d knob(s) already written", failure, i);
			/* The failure's own message stays what ksm_strerror() says. */
			ksm_fail(r, "%s", failure);
			return r;
		}
		names_of(left, left_names, sizeof(left_names));
		ksm_err(ctx, "%s; rolling back failed too, left changed: %s", failure, left_names);
		return ksm_fail(-ENOTRECOVERABLE, "%s; rolling back failed too, left changed: %s",
				failure, left_names);
	}
	return 0;
}

KSM_EXPORT int ksm_txn_commit(struct ksm_txn *txn, unsigned int flags, int *failed_knob)
{
	ksm_fail_clear();
	if (failed_knob)
		*failed_knob = -1;
	if (!txn)
		return -EINVAL;
	return ksm_apply(txn->ctx, txn->set, txn->want, flags, failed_knob);
}

struct ksm_ctx *ksm_txn_get_ctx(const struct ksm_txn *txn)
{
	return txn->ctx;
}

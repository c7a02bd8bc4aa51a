// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Knob transactions and profiles. The order of the writes is decided by
 * plan(), a pure function of the current values and the wanted ones; the
 * code around it only reads the kernel, writes the plan, and on failure
 * plans and writes the way back.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MAX_STEPS (KSM_KNOB_NR + 2)
#define BIT(k) (UINT64_C(1) << (k))

struct ksm_txn {
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
	txn->ctx = ksm_ref(ctx);
	*out = txn;
	return 0;
}

KSM_EXPORT struct ksm_txn *ksm_txn_free(struct ksm_txn *txn)
{
	if (txn) {
		ksm_unref(txn->ctx);
		free(txn);
	}
	return NULL;
}

KSM_EXPORT int ksm_txn_set(struct ksm_txn *txn, enum ksm_knob knob, int64_t value)
{
	int r;

	if (!txn)
		return -EINVAL;
	r = ksm_knob_check(knob, value);
	if (r < 0)
		return r;
	txn->set |= BIT(knob);
	txn->want[knob] = value;
	return 0;
}

KSM_EXPORT int ksm_txn_set_text(struct ksm_txn *txn, enum ksm_knob knob, const char *text)
{
	int64_t value;
	int r = ksm_knob_parse(knob, text, &value);

	if (r < 0)
		return r;
	return ksm_txn_set(txn, knob, value);
}

/* ------------------------------------------------------------------------ */

static int64_t cur_value(const struct ksm_stats *s, int knob)
{
	return (&s->run)[knob];
}

/* The kernel's pages_to_scan after the advisor is switched off (DEFAULT_PAGES_TO_SCAN). */
#define KERNEL_DEFAULT_PAGES_TO_SCAN 100

struct plan_out {
	struct ksm_txn_step *steps;
	size_t max, n;
};

static void add(struct plan_out *p, int knob, int64_t value)
{
	if (p->n < p->max)
		p->steps[p->n] = (struct ksm_txn_step){ .knob = knob, .value = value };
	p->n++;
}

/*
 * From the current state @s to the wanted values (@set, @want): the ordered
 * writes, or -ENOENT/-EBUSY with *failed set. Knobs not in @set keep their
 * current values, also where the kernel would change them as a side effect.
 */
static int plan(const struct ksm_stats *s, uint64_t set, const int64_t *want, unsigned int flags,
		struct plan_out *out, int *failed)
{
	static const int advisor_params[] = {
		KSM_KNOB_ADVISOR_MAX_CPU, KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN,
		KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, KSM_KNOB_ADVISOR_TARGET_SCAN_TIME,
	};
	static const int merge_rules[] = { KSM_KNOB_MERGE_ACROSS_NODES, KSM_KNOB_MAX_PAGE_SHARING };
	static const int others[] = {
		KSM_KNOB_SLEEP_MILLISECS, KSM_KNOB_USE_ZERO_PAGES,
		KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, KSM_KNOB_SMART_SCAN,
	};
	int64_t t[KSM_KNOB_NR];
	bool has_advisor = s->present & BIT(KSM_KNOB_ADVISOR_MODE);
	bool unmerge = false;
	int64_t run_now = s->run, pages_now = s->pages_to_scan;

	*failed = -1;
	for (int k = 0; k < KSM_KNOB_NR; k++) {
		t[k] = cur_value(s, k);
		if (!(set & BIT(k)))
			continue;
		if (!(s->present & BIT(k))) {
			*failed = k;
			return -ENOENT;
		}
		t[k] = want[k];
	}

	/* While the advisor runs, it owns pages_to_scan. */
	if ((set & BIT(KSM_KNOB_PAGES_TO_SCAN)) && has_advisor &&
	    t[KSM_KNOB_ADVISOR_MODE] == KSM_ADVISOR_SCAN_TIME) {
		if (s->advisor_mode != KSM_ADVISOR_SCAN_TIME || t[KSM_KNOB_PAGES_TO_SCAN] != s->pages_to_scan) {
			*failed = KSM_KNOB_PAGES_TO_SCAN;
			return -EBUSY;
		}
	}

	/* merge_across_nodes and max_page_sharing change only without KSM pages. */
	for (size_t i = 0; i < KSM_ARRAY_SIZE(merge_rules); i++) {
		int k = merge_rules[i];
		if (t[k] == cur_value(s, k) || s->pages_shared == 0)
			continue;
		if (!(flags & KSM_TXN_ALLOW_UNMERGE) &&
		    !((set & BIT(KSM_KNOB_RUN)) && t[KSM_KNOB_RUN] == KSM_RUN_UNMERGE)) {
			*failed = k;
			return -EBUSY;
		}
		unmerge = true;
	}
	if (unmerge) {
		add(out, KSM_KNOB_RUN, KSM_RUN_UNMERGE);
		run_now = KSM_RUN_UNMERGE;
	}

	for (size_t i = 0; i < KSM_ARRAY_SIZE(advisor_params); i++) {
		int k = advisor_params[i];
		if (t[k] != cur_value(s, k))
			add(out, k, t[k]);
	}
	if (has_advisor && t[KSM_KNOB_ADVISOR_MODE] != s->advisor_mode) {
		add(out, KSM_KNOB_ADVISOR_MODE, t[KSM_KNOB_ADVISOR_MODE]);
		if (t[KSM_KNOB_ADVISOR_MODE] == KSM_ADVISOR_NONE)
			pages_now = KERNEL_DEFAULT_PAGES_TO_SCAN;
		else
			pages_now = t[KSM_KNOB_PAGES_TO_SCAN] = t[KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN];
	}
	if ((!has_advisor || t[KSM_KNOB_ADVISOR_MODE] == KSM_ADVISOR_NONE) &&
	    t[KSM_KNOB_PAGES_TO_SCAN] != pages_now)
		add(out, KSM_KNOB_PAGES_TO_SCAN, t[KSM_KNOB_PAGES_TO_SCAN]);

	for (size_t i = 0; i < KSM_ARRAY_SIZE(merge_rules); i++) {
		int k = merge_rules[i];
		if (t[k] != cur_value(s, k))
			add(out, k, t[k]);
	}
	for (size_t i = 0; i < KSM_ARRAY_SIZE(others); i++) {
		int k = others[i];
		if (t[k] != cur_value(s, k))
			add(out, k, t[k]);
	}
	if (t[KSM_KNOB_RUN] != run_now)
		add(out, KSM_KNOB_RUN, t[KSM_KNOB_RUN]);
	return 0;
}

static int snapshot(struct ksm_ctx *ctx, struct ksm_stats *s)
{
	*s = (struct ksm_stats){ .size = sizeof(*s) };
	return ksm_stats_read(ctx, s);
}

KSM_EXPORT int ksm_txn_plan(struct ksm_txn *txn, unsigned int flags, struct ksm_txn_step *steps,
			    size_t max, int *failed_knob)
{
	struct plan_out out = { .steps = steps, .max = steps ? max : 0 };
	struct ksm_stats s;
	int failed, r;

	if (failed_knob)
		*failed_knob = -1;
	if (!txn)
		return -EINVAL;
	r = snapshot(txn->ctx, &s);
	if (r < 0)
		return r;
	r = plan(&s, txn->set, txn->want, flags, &out, &failed);
	if (failed_knob)
		*failed_knob = failed;
	return r < 0 ? r : (int)out.n;
}

/*
 * Write back what steps[0..done) changed (or may have changed: the step
 * that failed is included), best effort, planned afresh from the state the
 * failure left behind.
 */
static void roll_back(struct ksm_ctx *ctx, const struct ksm_stats *before,
		      const struct ksm_txn_step *steps, size_t done, unsigned int flags)
{
	struct ksm_txn_step back[MAX_STEPS];
	struct plan_out out = { .steps = back, .max = MAX_STEPS };
	int64_t want[KSM_KNOB_NR];
	uint64_t set = 0;
	struct ksm_stats now;
	int failed;

	for (size_t i = 0; i < done; i++)
		set |= BIT(steps[i].knob);
	for (int k = 0; k < KSM_KNOB_NR; k++)
		want[k] = cur_value(before, k);
	/*
	 * A write of advisor_mode also changed pages_to_scan (the kernel sets
	 * it to 100 or to advisor_min_pages_to_scan), so pages_to_scan must
	 * go back too, even if no step wrote it.
	 */
	if (set & BIT(KSM_KNOB_ADVISOR_MODE))
		set |= BIT(KSM_KNOB_PAGES_TO_SCAN);
	/* The advisor's own pages_to_scan cannot be written back; it recomputes it. */
	if (before->advisor_mode == KSM_ADVISOR_SCAN_TIME)
		set &= ~BIT(KSM_KNOB_PAGES_TO_SCAN);
	/* An unmerge cannot be undone; run gets its old value back. */
	if (want[KSM_KNOB_RUN] == KSM_RUN_UNMERGE)
		set &= ~BIT(KSM_KNOB_RUN);

	if (snapshot(ctx, &now) < 0)
		return;
	/*
	 * Unmerge only if the caller allowed it. A knob that cannot go back
	 * (pages merged meanwhile) is left out, so that the others still do.
	 */
	for (int tries = 0; tries < KSM_KNOB_NR; tries++) {
		out.n = 0;
		if (plan(&now, set, want, flags, &out, &failed) == 0)
			break;
		if (failed < 0 || !(set & BIT(failed)))
			return;
		set &= ~BIT(failed);
	}
	for (size_t i = 0; i < out.n && i < MAX_STEPS; i++)
		(void)ksm_write_knob(ctx, back[i].knob, back[i].value);
}

/* Apply @set/@want to @ctx all or nothing; shared with the boost code. */
int ksm_apply(struct ksm_ctx *ctx, uint64_t set, const int64_t *want, unsigned int flags,
	      int *failed_knob)
{
	struct ksm_txn_step steps[MAX_STEPS];
	struct plan_out out = { .steps = steps, .max = MAX_STEPS };
	struct ksm_stats before;
	int failed = -1, r;

	r = snapshot(ctx, &before);
	if (r == 0)
		r = plan(&before, set, want, flags, &out, &failed);
	for (size_t i = 0; r == 0 && i < out.n; i++) {
		r = ksm_write_knob(ctx, steps[i].knob, steps[i].value);
		if (r < 0) {
			failed = steps[i].knob;
			/* The failed write too: a failed run=2 leaves run at 0. */
			roll_back(ctx, &before, steps, i + 1, flags);
		}
	}
	if (failed_knob)
		*failed_knob = failed;
	return r;
}

KSM_EXPORT int ksm_txn_commit(struct ksm_txn *txn, unsigned int flags, int *failed_knob)
{
	if (failed_knob)
		*failed_knob = -1;
	if (!txn)
		return -EINVAL;
	return ksm_apply(txn->ctx, txn->set, txn->want, flags, failed_knob);
}

/* ------------------------------------------------------------------------ */
/* Profiles                                                                  */

static char *strip(char *s)
{
	char *e;

	s += strspn(s, " \t\r");
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

KSM_EXPORT int ksm_txn_load(struct ksm_txn *txn, const char *path, unsigned int *line)
{
	char *buf = NULL;
	size_t cap = 0;
	unsigned int no = 0;
	int count = 0, r = 0;
	FILE *f;

	if (line)
		*line = 0;
	if (!txn || !path)
		return -EINVAL;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	errno = 0;
	while (getline(&buf, &cap, f) >= 0) {
		char *hash, *eq, *name, *value;
		int knob;

		no++;
		hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		name = strip(buf);
		if (!*name)
			continue;
		eq = strchr(name, '=');
		if (!eq) {
			r = -EBADMSG;
			break;
		}
		*eq = '\0';
		name = strip(name);
		value = strip(eq + 1);
		if (!*name || !*value || strpbrk(name, " \t") || strchr(value, '=')) {
			r = -EBADMSG;
			break;
		}
		knob = ksm_knob_lookup(name);
		if (knob < 0) {
			r = -ENOKEY;
			break;
		}
		r = ksm_txn_set_text(txn, knob, value);
		if (r < 0)
			break;
		count++;
	}
	if (r == 0 && ferror(f))
		r = errno > 0 ? -errno : -EIO; /* e.g. EISDIR */
	free(buf);
	fclose(f);
	if (r < 0) {
		if (line)
			*line = no;
		return r;
	}
	return count;
}

static int write_all(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

KSM_EXPORT int ksm_profile_write(struct ksm_ctx *ctx, int fd)
{
	struct ksm_stats s;
	char line[128], value[KSM_VALUE_MAX];
	int r;

	if (!ctx || fd < 0)
		return -EINVAL;
	r = snapshot(ctx, &s);
	if (r < 0)
		return r;
	r = write_all(fd, "# KSM tunables, one \"knob = value\" per line (ksm.conf(5)).\n"
			  "# Apply with: ksmctl apply FILE\n");
	for (int k = 0; r == 0 && k < KSM_KNOB_NR; k++) {
		const struct ksm_knob_info *info = ksm_table_get(k);

		if (info->kind != KSM_KIND_TUNABLE || k == KSM_KNOB_RUN || !(s.present & BIT(k)))
			continue;
		if (k == KSM_KNOB_PAGES_TO_SCAN && (s.present & BIT(KSM_KNOB_ADVISOR_MODE)) &&
		    s.advisor_mode == KSM_ADVISOR_SCAN_TIME)
			continue;
		r = ksm_knob_format(k, cur_value(&s, k), value, sizeof(value));
		if (r < 0)
			break;
		snprintf(line, sizeof(line), "%s = %s\n", info->name, value);
		r = write_all(fd, line);
	}
	return r;
}

KSM_EXPORT int ksm_profile_save(struct ksm_ctx *ctx, const char *path)
{
	char *tmp, *dir_copy, *dir;
	int fd, dfd, r;

	if (!ctx || !path || !*path)
		return -EINVAL;
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(tmp);
		return r;
	}
	r = ksm_profile_write(ctx, fd);
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		free(tmp);
		return r;
	}
	free(tmp);

	/* The rename itself must reach the disk too. */
	dir_copy = strdup(path);
	if (!dir_copy)
		return -ENOMEM;
	dir = dirname(dir_copy);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dir_copy);
	return 0;
}

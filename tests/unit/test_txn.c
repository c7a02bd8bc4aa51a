// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Transactions, profiles and boosts against copies of the fake sysroots
 * (tests/sysroots). Every test works on a fresh copy (tu_sysroot_copy()),
 * removed by the checked teardown.
 *
 * The fake trees are plain files, not the kernel: writing one knob has no
 * side effect on another, and advisor_mode reads back as the bare word that
 * was written. Tests that commit therefore avoid changing advisor_mode;
 * the kernel's side effects are covered by tests/kernel/test_boost.c.
 *
 * The boost code places its record under <sysroot>/run/libksm; a holder is
 * alive while its file run/libksm/holder.TOKEN is flock()ed, so the tests
 * fabricate live holders by locking such a file themselves, and dead ones
 * by leaving it unlocked or absent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <ksm.h>

#include "testutil.h"

#define KSM_REL "sys/kernel/mm/ksm"
#define RECORD_REL "run/libksm/boost"
#define NKNOBS 24

static char *root;
static struct ksm_ctx *ctx;
static struct ksm_txn *txn;
/* raw text of every knob file of the copy, as copied; NULL where absent */
static char *orig[NKNOBS];

static void teardown(void)
{
	txn = ksm_txn_unref(txn);
	for (int k = 0; k < NKNOBS; k++) {
		free(orig[k]);
		orig[k] = NULL;
	}
	tu_unuse(&root, &ctx);
}

static char *knob_path(int knob, char *buf, size_t size)
{
	snprintf(buf, size, "%s/" KSM_REL "/%s", root, ksm_knob_info(knob)->name);
	return buf;
}

static char *knob_rel(int knob, char *buf, size_t size)
{
	snprintf(buf, size, KSM_REL "/%s", ksm_knob_info(knob)->name);
	return buf;
}

static bool knob_exists(int knob)
{
	char path[4096];

	return access(knob_path(knob, path, sizeof(path)), F_OK) == 0;
}

static char *raw(int knob)
{
	char rel[256];

	return tu_read(root, knob_rel(knob, rel, sizeof(rel)));
}

static void put(int knob, const char *text)
{
	char rel[256];

	tu_write(root, knob_rel(knob, rel, sizeof(rel)), text);
}

static void assert_raw(int knob, const char *expect)
{
	char *got = raw(knob);

	ck_assert_msg(strcmp(got, expect) == 0, "%s holds '%s', expected '%s'", ksm_knob_info(knob)->name,
		      got, expect);
	free(got);
}

/* Copy generation @name, remember every file's text, open a context and a transaction. */
static void use(const char *name)
{
	int r;

	tu_use(name, &root, &ctx);
	for (int k = 0; k < NKNOBS; k++)
		orig[k] = knob_exists(k) ? raw(k) : NULL;
	r = ksm_txn_new(ctx, &txn);
	ck_assert_msg(r == 0, "ksm_txn_new: %d", r);
}

/* Every knob file equals its copied text, except @skip (-1: none); a list of the others in @msg. */
static int count_changed(int skip, char *msg, size_t size)
{
	int bad = 0;

	msg[0] = '\0';
	for (int k = 0; k < NKNOBS; k++) {
		char *now;

		if (!orig[k] || k == skip)
			continue;
		now = raw(k);
		if (strcmp(now, orig[k]) != 0) {
			size_t len = strlen(msg);
			snprintf(msg + len, size - len, "%s='%.*s' (was '%.*s') ", ksm_knob_info(k)->name,
				 (int)strcspn(now, "\n"), now, (int)strcspn(orig[k], "\n"), orig[k]);
			bad++;
		}
		free(now);
	}
	return bad;
}

static void assert_all_original(const char *when)
{
	char msg[2048];
	int bad = count_changed(-1, msg, sizeof(msg));

	ck_assert_msg(bad == 0, "%s: %d knob files changed: %s", when, bad, msg);
}

static void set_ok(int knob, int64_t value)
{
	int r = ksm_txn_set(txn, knob, value);

	ck_assert_msg(r == 0, "ksm_txn_set(%s, %" PRId64 ") = %d", ksm_knob_info(knob)->name, value, r);
}

/* The plan as "knob=value knob=value"; *ret and *failed receive the results. */
static void plan_text(unsigned int flags, char *buf, size_t size, int *ret, int *failed)
{
	struct ksm_txn_step steps[32];
	int r;

	buf[0] = '\0';
	r = ksm_txn_plan(txn, flags, steps, 32, failed);
	*ret = r;
	for (int i = 0; i < r && i < 32; i++) {
		char value[64];
		size_t len = strlen(buf);

		ck_assert_int_ge(ksm_knob_format(steps[i].knob, steps[i].value, value, sizeof(value)), 0);
		snprintf(buf + len, size - len, "%s%s=%s", i ? " " : "", ksm_knob_info(steps[i].knob)->name,
			 value);
	}
}

#define ASSERT_PLAN(flags, expect)                                                                  \
	do {                                                                                        \
		char got_[1024];                                                                    \
		int r_, f_ = -2, n_ = 0;                                                            \
		const char *e_ = (expect);                                                          \
		plan_text((flags), got_, sizeof(got_), &r_, &f_);                                   \
		for (const char *p_ = e_; *p_; p_++)                                                \
			n_ += *p_ == '=';                                                           \
		ck_assert_msg(r_ == n_ && strcmp(got_, e_) == 0 && f_ == -1,                        \
			      "plan = %d [%s] failed %d, expected %d [%s] failed -1", r_, got_, f_, \
			      n_, e_);                                                              \
	} while (0)

#define ASSERT_PLAN_FAILS(flags, err, knob)                                                         \
	do {                                                                                        \
		char got_[1024];                                                                    \
		int r_, f_ = -2;                                                                    \
		plan_text((flags), got_, sizeof(got_), &r_, &f_);                                   \
		ck_assert_msg(r_ == (err) && f_ == (int)(knob),                                     \
			      "plan = %d (%s) failed %d, expected %d (%s) failed %d (%s)", r_,      \
			      r_ < 0 ? strerror(-r_) : got_, f_, (err), strerror(-(err)), (int)(knob), \
			      ksm_knob_info(knob)->name);                                           \
	} while (0)

/* ------------------------------------------------------------------------ */
/* validation                                                                */

START_TEST(test_set_validation)
{
	int r;

	use("6.18");
	ck_assert_int_eq(ksm_txn_set(txn, KSM_KNOB_SLEEP_MILLISECS, -1), -EINVAL);
	ck_assert_int_eq(ksm_txn_set(txn, KSM_KNOB_PAGES_TO_SCAN, (int64_t)UINT32_MAX + 1), -EINVAL);
	ck_assert_int_eq(ksm_txn_set(txn, KSM_KNOB_MAX_PAGE_SHARING, 1), -EINVAL);
	ck_assert_int_eq(ksm_txn_set(txn, KSM_KNOB_RUN, 3), -EINVAL);
	ck_assert_int_eq(ksm_txn_set(txn, KSM_KNOB_MERGE_ACROSS_NODES, 2), -EINVAL);
	ck_assert_int_eq(ksm_txn_set(txn, KSM_KNOB_ADVISOR_MODE, 2), -EINVAL);
	ck_assert_int_eq(ksm_txn_set(txn, KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, 0), -EINVAL);
	ck_assert_int_eq(ksm_txn_set(txn, KSM_KNOB_PAGES_SHARED, 0), -EPERM);
	ck_assert_int_eq(ksm_txn_set(txn, KSM_KNOB_FULL_SCANS, 1), -EPERM);
	ck_assert_int_eq(ksm_txn_set(txn, KSM_KNOB_GENERAL_PROFIT, 0), -EPERM);
	ck_assert_int_eq(ksm_txn_set(txn, (enum ksm_knob)NKNOBS, 0), -ENOENT);
	ck_assert_int_eq(ksm_txn_set(txn, (enum ksm_knob)-1, 0), -ENOENT);
	ck_assert_int_eq(ksm_txn_set(NULL, KSM_KNOB_RUN, 1), -EINVAL);
	ck_assert_int_eq(ksm_txn_set_text(txn, KSM_KNOB_ADVISOR_MODE, "1"), -EINVAL);
	ck_assert_int_eq(ksm_txn_set_text(txn, KSM_KNOB_SLEEP_MILLISECS, "abc"), -EINVAL);
	ck_assert_int_eq(ksm_txn_set_text(txn, KSM_KNOB_PAGES_SHARING, "5"), -EPERM);
	/* rejected values left nothing behind */
	ASSERT_PLAN(0, "");

	/* text forms, and a later value replaces the earlier one */
	ck_assert_int_eq(ksm_txn_set_text(txn, KSM_KNOB_SMART_SCAN, " off "), 0);
	ck_assert_int_eq(ksm_txn_set_text(txn, KSM_KNOB_RUN, "merge"), 0);
	set_ok(KSM_KNOB_SLEEP_MILLISECS, 5);
	set_ok(KSM_KNOB_SLEEP_MILLISECS, 6);
	ASSERT_PLAN(0, "sleep_millisecs=6 smart_scan=0 run=1");

	/* without room for steps, the count still comes back */
	r = ksm_txn_plan(txn, 0, NULL, 0, NULL);
	ck_assert_int_eq(r, 3);
	ck_assert_int_eq(ksm_txn_plan(NULL, 0, NULL, 0, NULL), -EINVAL);
	ck_assert_int_eq(ksm_txn_new(NULL, &txn), -EINVAL);
	ck_assert_int_eq(ksm_txn_commit(NULL, 0, NULL), -EINVAL);
	ck_assert_ptr_null(ksm_txn_unref(NULL));
	ck_assert_ptr_null(ksm_txn_ref(NULL));
	/* planning writes nothing */
	assert_all_original("after planning");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* plan order                                                                */

START_TEST(test_plan_merged)
{
	use("6.18-merged");
	set_ok(KSM_KNOB_MERGE_ACROSS_NODES, 0);
	ASSERT_PLAN_FAILS(0, -EBUSY, KSM_KNOB_MERGE_ACROSS_NODES);
	ASSERT_PLAN(KSM_TXN_ALLOW_UNMERGE, "run=2 merge_across_nodes=0 run=1");
	txn = ksm_txn_unref(txn);

	/* max_page_sharing likewise */
	ck_assert_int_eq(ksm_txn_new(ctx, &txn), 0);
	set_ok(KSM_KNOB_MAX_PAGE_SHARING, 512);
	ASSERT_PLAN_FAILS(0, -EBUSY, KSM_KNOB_MAX_PAGE_SHARING);
	ASSERT_PLAN(KSM_TXN_ALLOW_UNMERGE, "run=2 max_page_sharing=512 run=1");
	/* run=2 named in the transaction allows it without the flag */
	set_ok(KSM_KNOB_RUN, KSM_RUN_UNMERGE);
	ASSERT_PLAN(0, "run=2 max_page_sharing=512");
	/* writing the current value needs no unmerge */
	txn = ksm_txn_unref(txn);
	ck_assert_int_eq(ksm_txn_new(ctx, &txn), 0);
	set_ok(KSM_KNOB_MAX_PAGE_SHARING, 256);
	set_ok(KSM_KNOB_MERGE_ACROSS_NODES, 1);
	ASSERT_PLAN(0, "");
	/* both changed, an explicit run=0 comes last */
	set_ok(KSM_KNOB_MAX_PAGE_SHARING, 300);
	set_ok(KSM_KNOB_MERGE_ACROSS_NODES, 0);
	set_ok(KSM_KNOB_RUN, KSM_RUN_STOP);
	ASSERT_PLAN(KSM_TXN_ALLOW_UNMERGE, "run=2 merge_across_nodes=0 max_page_sharing=300 run=0");
	assert_all_original("after planning");
}
END_TEST

START_TEST(test_plan_advisor)
{
	use("6.18-advisor");
	/* the kernel resets pages_to_scan to 100 when the advisor goes off: written back */
	set_ok(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE);
	ASSERT_PLAN(0, "advisor_mode=none pages_to_scan=500");
	txn = ksm_txn_unref(txn);

	ck_assert_int_eq(ksm_txn_new(ctx, &txn), 0);
	set_ok(KSM_KNOB_PAGES_TO_SCAN, 5);
	ASSERT_PLAN_FAILS(0, -EBUSY, KSM_KNOB_PAGES_TO_SCAN);
	ASSERT_PLAN_FAILS(KSM_TXN_ALLOW_UNMERGE, -EBUSY, KSM_KNOB_PAGES_TO_SCAN);
	set_ok(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE);
	ASSERT_PLAN(0, "advisor_mode=none pages_to_scan=5");
	/* the tunables without prerequisites (the advisor's parameters among them) come before the mode */
	set_ok(KSM_KNOB_ADVISOR_MAX_CPU, 40);
	set_ok(KSM_KNOB_SLEEP_MILLISECS, 0);
	ASSERT_PLAN(0, "sleep_millisecs=0 advisor_max_cpu=40 advisor_mode=none pages_to_scan=5");
	txn = ksm_txn_unref(txn);

	/* pages_to_scan at the advisor's own value while it stays on: nothing to do */
	ck_assert_int_eq(ksm_txn_new(ctx, &txn), 0);
	set_ok(KSM_KNOB_PAGES_TO_SCAN, 500);
	ASSERT_PLAN(0, "");
	assert_all_original("after planning");
}
END_TEST

START_TEST(test_plan_advisor_on)
{
	use("6.18");
	set_ok(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME);
	set_ok(KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, 700);
	ASSERT_PLAN(0, "advisor_min_pages_to_scan=700 advisor_mode=scan-time");
	/* switching the advisor on and setting pages_to_scan contradict each other */
	set_ok(KSM_KNOB_PAGES_TO_SCAN, 800);
	ASSERT_PLAN_FAILS(0, -EBUSY, KSM_KNOB_PAGES_TO_SCAN);
	txn = ksm_txn_unref(txn);

	/* unchanged values produce no steps */
	ck_assert_int_eq(ksm_txn_new(ctx, &txn), 0);
	set_ok(KSM_KNOB_RUN, 0);
	set_ok(KSM_KNOB_PAGES_TO_SCAN, 100);
	set_ok(KSM_KNOB_SLEEP_MILLISECS, 20);
	set_ok(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE);
	set_ok(KSM_KNOB_MAX_PAGE_SHARING, 256);
	set_ok(KSM_KNOB_SMART_SCAN, 1);
	set_ok(KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, 200);
	ASSERT_PLAN(0, "");
	ASSERT_PLAN(KSM_TXN_ALLOW_UNMERGE, "");
	/* the full order of the groups */
	set_ok(KSM_KNOB_RUN, 1);
	set_ok(KSM_KNOB_SMART_SCAN, 0);
	set_ok(KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, 100);
	set_ok(KSM_KNOB_USE_ZERO_PAGES, 1);
	set_ok(KSM_KNOB_SLEEP_MILLISECS, 1);
	set_ok(KSM_KNOB_MAX_PAGE_SHARING, 1000);
	set_ok(KSM_KNOB_MERGE_ACROSS_NODES, 0);
	set_ok(KSM_KNOB_PAGES_TO_SCAN, 3000);
	set_ok(KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, 100);
	set_ok(KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, 9000);
	set_ok(KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, 600);
	set_ok(KSM_KNOB_ADVISOR_MAX_CPU, 50);
	ASSERT_PLAN(0, "sleep_millisecs=1 use_zero_pages=1 stable_node_chains_prune_millisecs=100 smart_scan=0 "
		       "advisor_max_cpu=50 advisor_min_pages_to_scan=600 advisor_max_pages_to_scan=9000 "
		       "advisor_target_scan_time=100 pages_to_scan=3000 merge_across_nodes=0 "
		       "max_page_sharing=1000 run=1");
	assert_all_original("after planning");
}
END_TEST

START_TEST(test_plan_absent)
{
	use("4.18");
	set_ok(KSM_KNOB_SLEEP_MILLISECS, 5);
	set_ok(KSM_KNOB_SMART_SCAN, 0);
	ASSERT_PLAN_FAILS(0, -ENOENT, KSM_KNOB_SMART_SCAN);
	ck_assert_int_eq(ksm_txn_commit(txn, 0, NULL), -ENOENT);
	assert_all_original("after a refused commit");
	txn = ksm_txn_unref(txn);

	/* no advisor: pages_to_scan is free */
	ck_assert_int_eq(ksm_txn_new(ctx, &txn), 0);
	set_ok(KSM_KNOB_PAGES_TO_SCAN, 5);
	ASSERT_PLAN(0, "pages_to_scan=5");
	set_ok(KSM_KNOB_ADVISOR_MAX_CPU, 10);
	ASSERT_PLAN_FAILS(0, -ENOENT, KSM_KNOB_ADVISOR_MAX_CPU);
	teardown();

	use("nonuma-6.18");
	set_ok(KSM_KNOB_MERGE_ACROSS_NODES, 1);
	ASSERT_PLAN_FAILS(KSM_TXN_ALLOW_UNMERGE, -ENOENT, KSM_KNOB_MERGE_ACROSS_NODES);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* commit and rollback                                                       */

START_TEST(test_commit_writes)
{
	int failed = -2, r;

	use("6.18");
	set_ok(KSM_KNOB_PAGES_TO_SCAN, 1000);
	set_ok(KSM_KNOB_SLEEP_MILLISECS, 5);
	set_ok(KSM_KNOB_MAX_PAGE_SHARING, 512);
	set_ok(KSM_KNOB_USE_ZERO_PAGES, 1);
	set_ok(KSM_KNOB_SMART_SCAN, 0);
	set_ok(KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, 0);
	set_ok(KSM_KNOB_ADVISOR_MAX_CPU, 70); /* unchanged: not written */
	r = ksm_txn_commit(txn, 0, &failed);
	ck_assert_msg(r == 0 && failed == -1, "commit = %d, failed %d", r, failed);
	assert_raw(KSM_KNOB_PAGES_TO_SCAN, "1000\n");
	assert_raw(KSM_KNOB_SLEEP_MILLISECS, "5\n");
	assert_raw(KSM_KNOB_MAX_PAGE_SHARING, "512\n");
	assert_raw(KSM_KNOB_USE_ZERO_PAGES, "1\n");
	assert_raw(KSM_KNOB_SMART_SCAN, "0\n");
	assert_raw(KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, "0\n");
	{
		char msg[2048];
		int changed = count_changed(-1, msg, sizeof(msg));
		ck_assert_msg(changed == 6, "%d files changed, expected 6: %s", changed, msg);
	}
	/* committing again: nothing left to do */
	ASSERT_PLAN(0, "");
	ck_assert_int_eq(ksm_txn_commit(txn, 0, NULL), 0);
	teardown();

	/* the unmerge sequence on the merged tree; run ends at its old value */
	use("6.18-merged");
	set_ok(KSM_KNOB_MERGE_ACROSS_NODES, 0);
	r = ksm_txn_commit(txn, 0, &failed);
	ck_assert_msg(r == -EBUSY && failed == KSM_KNOB_MERGE_ACROSS_NODES, "commit = %d, failed %d", r,
		      failed);
	assert_all_original("after -EBUSY");
	r = ksm_txn_commit(txn, KSM_TXN_ALLOW_UNMERGE, &failed);
	ck_assert_msg(r == 0 && failed == -1, "commit = %d, failed %d", r, failed);
	assert_raw(KSM_KNOB_MERGE_ACROSS_NODES, "0\n");
	assert_raw(KSM_KNOB_RUN, "1\n");
}
END_TEST

/*
 * The rollback case: five knobs, the third planned write fails. The knob
 * file is made unwritable but stays readable: as root by a read-only bind
 * mount of just that file in a private mount namespace of a child process,
 * otherwise by mode 0444.
 */
struct commit_result {
	int ret;
	int failed;
	int how; /* 0 ro bind mount, 1 chmod, 2 setup failed */
	char why[200];
	char message[512]; /* ksm_strerror(ret) right after the commit */
	int nlog;          /* messages the log function received */
	int prio[8];
	char text[8][256];
};

/* The log function of the tests: every message into *(struct commit_result *)data. */
static void collect_log(void *data, int priority, const char *file, int line, const char *fn,
			const char *format, va_list args)
{
	struct commit_result *c = data;

	(void)file;
	(void)line;
	(void)fn;
	if (c->nlog < 8) {
		c->prio[c->nlog] = priority;
		vsnprintf(c->text[c->nlog], sizeof(c->text[0]), format, args);
	}
	c->nlog++;
}

/* The transaction of test_commit_rollback(), built on @t. */
static void rollback_txn(struct ksm_txn *t)
{
	ck_assert_int_eq(ksm_txn_set(t, KSM_KNOB_SMART_SCAN, 0), 0);
	ck_assert_int_eq(ksm_txn_set(t, KSM_KNOB_USE_ZERO_PAGES, 1), 0);
	ck_assert_int_eq(ksm_txn_set(t, KSM_KNOB_SLEEP_MILLISECS, 5), 0);
	ck_assert_int_eq(ksm_txn_set(t, KSM_KNOB_MAX_PAGE_SHARING, 512), 0);
	ck_assert_int_eq(ksm_txn_set(t, KSM_KNOB_PAGES_TO_SCAN, 1000), 0);
}

/* Commit @t on @c with the log at LOG_WARNING going into @res. */
static void commit_logged(struct ksm_ctx *c, struct ksm_txn *t, struct commit_result *res)
{
	ksm_set_log_fn(c, collect_log, res);
	ksm_set_log_priority(c, LOG_WARNING);
	res->ret = ksm_txn_commit(t, 0, &res->failed);
	snprintf(res->message, sizeof(res->message), "%s", ksm_strerror(res->ret));
	ksm_set_log_fn(c, NULL, NULL);
}

static void commit_unwritable(int knob, struct commit_result *res)
{
	char path[4096];
	int pfd[2], status;
	pid_t pid;

	knob_path(knob, path, sizeof(path));
	memset(res, 0, sizeof(*res));
	if (geteuid() != 0) {
		ck_assert_int_eq(chmod(path, 0444), 0);
		res->how = 1;
		commit_logged(ctx, txn, res);
		return;
	}
	ck_assert_int_eq(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct commit_result c = { .how = 0 };

		close(pfd[0]);
		if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount(path, path, "none", MS_BIND, NULL) < 0 ||
		    mount("none", path, "none", MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
			c.how = 2;
			snprintf(c.why, sizeof(c.why), "read-only bind mount of %.120s: %s", path, strerror(errno));
		} else {
			/*
			 * A new context: one opened before the mount would
			 * look up the file in the old namespace's mount.
			 */
			struct ksm_ctx *c2 = NULL;
			struct ksm_txn *t2 = NULL;

			if (ksm_new_at(&c2, root) < 0 || ksm_txn_new(c2, &t2) < 0)
				_exit(3);
			rollback_txn(t2);
			commit_logged(c2, t2, &c);
			ksm_txn_unref(t2);
			ksm_unref(c2);
		}
		if (write(pfd[1], &c, sizeof(c)) != (ssize_t)sizeof(c))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], res, sizeof(*res)), (ssize_t)sizeof(*res));
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
}

/* IN_CLOSE_WRITE events per knob since @fd was set up. */
static void count_writes(int fd, int counts[NKNOBS])
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	memset(counts, 0, sizeof(int) * NKNOBS);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			int k = e->len ? ksm_knob_lookup(e->name) : -1;

			if (k >= 0 && (e->mask & IN_CLOSE_WRITE))
				counts[k]++;
			p += sizeof(*e) + e->len;
		}
	}
}

START_TEST(test_commit_rollback)
{
	struct ksm_txn_step steps[8];
	struct commit_result res;
	char path[4096], msg[2048];
	int counts[NKNOBS], ino, n, third, warnings = 0;

	use("6.18");
	rollback_txn(txn);
	n = ksm_txn_plan(txn, 0, steps, 8, NULL);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(steps[0].knob, KSM_KNOB_SLEEP_MILLISECS);
	ck_assert_int_eq(steps[1].knob, KSM_KNOB_USE_ZERO_PAGES);
	third = steps[2].knob;
	ck_assert_int_eq(third, KSM_KNOB_SMART_SCAN);
	ck_assert_int_eq(steps[3].knob, KSM_KNOB_PAGES_TO_SCAN);
	ck_assert_int_eq(steps[4].knob, KSM_KNOB_MAX_PAGE_SHARING);

	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ck_assert_int_ge(ino, 0);
	snprintf(path, sizeof(path), "%s/" KSM_REL, root);
	ck_assert_int_ge(inotify_add_watch(ino, path, IN_CLOSE_WRITE), 0);

	commit_unwritable(third, &res);
	if (res.how == 2) {
		close(ino);
		printf("SKIP rollback check: %s\n", res.why);
		return;
	}
	ck_assert_msg(res.ret == (res.how == 0 ? -EROFS : -EACCES) && res.failed == third,
		      "commit with %s unwritable = %d (%s), failed %d; expected %d, failed %d",
		      ksm_knob_info(third)->name, res.ret, strerror(-res.ret), res.failed,
		      res.how == 0 ? -EROFS : -EACCES, third);
	ck_assert_int_eq(count_changed(-1, msg, sizeof(msg)), 0);
	/* the first two writes happened, and were each written back once */
	count_writes(ino, counts);
	close(ino);
	for (int k = 0; k < NKNOBS; k++) {
		int want = (k == KSM_KNOB_SLEEP_MILLISECS || k == KSM_KNOB_USE_ZERO_PAGES) ? 2 : 0;
		ck_assert_msg(counts[k] == want, "%s written %d times, expected %d", ksm_knob_info(k)->name,
			      counts[k], want);
	}
	/* the message of the failed write names the knob */
	ck_assert_msg(strstr(res.message, "smart_scan") != NULL, "ksm_strerror(%d) = \"%s\"", res.ret, res.message);
	/* the rollback is logged, as a warning: it restored everything */
	for (int i = 0; i < res.nlog && i < 8; i++) {
		ck_assert_msg(res.prio[i] <= LOG_WARNING, "message of priority %d at LOG_WARNING: %s", res.prio[i],
			      res.text[i]);
		ck_assert_msg(res.prio[i] > LOG_ERR, "a rollback that restored everything logged at %d: %s",
			      res.prio[i], res.text[i]);
		if (res.prio[i] == LOG_WARNING && strstr(res.text[i], "smart_scan"))
			warnings++;
	}
	ck_assert_msg(warnings >= 1, "%d warnings naming smart_scan among %d messages (first: \"%s\")", warnings,
		      res.nlog, res.nlog ? res.text[0] : "");
	if (res.how == 1)
		chmod(knob_path(third, path, sizeof(path)), 0644);
}
END_TEST

/*
 * A rollback that cannot restore everything. The copy's files are limited
 * to 2 bytes (RLIMIT_FSIZE; it holds for root too): the transaction's
 * stable_node_chains_prune_millisecs=5 is "5\n" and fits, its
 * pages_to_scan=1000 does not ("1000\n" becomes "10", a short write:
 * -EIO), and neither do the rollback's writes of the old values, "2000\n"
 * and "100\n" (both become "20" and "10").
 */
struct unrecoverable_result {
	struct commit_result c;
	char err[1024]; /* what the default log function wrote to stderr */
};

static void commit_unrecoverable(bool default_log, struct unrecoverable_result *res)
{
	int pfd[2], status;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	ck_assert_int_eq(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		static struct unrecoverable_result r;
		struct rlimit rl;
		struct ksm_ctx *c2 = NULL;
		struct ksm_txn *t2 = NULL;
		int efd[2];
		ssize_t n;

		close(pfd[0]);
		unsetenv("KSM_LOG");
		/* stderr into a pipe (not a file: the size limit would cut it) */
		if (pipe2(efd, O_NONBLOCK) < 0 || dup2(efd[1], STDERR_FILENO) < 0)
			_exit(4);
		if (ksm_new_at(&c2, root) < 0 || ksm_txn_new(c2, &t2) < 0 ||
		    ksm_txn_set(t2, KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, 5) < 0 ||
		    ksm_txn_set(t2, KSM_KNOB_PAGES_TO_SCAN, 1000) < 0)
			_exit(3);
		if (!default_log)
			ksm_set_log_fn(c2, collect_log, &r.c);
		signal(SIGXFSZ, SIG_IGN);
		if (getrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(5);
		rl.rlim_cur = 2;
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(5);
		r.c.ret = ksm_txn_commit(t2, 0, &r.c.failed);
		snprintf(r.c.message, sizeof(r.c.message), "%s", ksm_strerror(r.c.ret));
		n = read(efd[0], r.err, sizeof(r.err) - 1);
		r.err[n > 0 ? n : 0] = '\0';
		ksm_txn_unref(t2);
		ksm_unref(c2);
		if (write(pfd[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], res, sizeof(*res)), (ssize_t)sizeof(*res));
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
}

static void assert_unrecoverable(const struct unrecoverable_result *res)
{
	ck_assert_msg(res->c.ret == -ENOTRECOVERABLE && res->c.failed == KSM_KNOB_PAGES_TO_SCAN,
		      "commit = %d (%s), failed %d; expected -ENOTRECOVERABLE, failed %d", res->c.ret,
		      strerror(-res->c.ret), res->c.failed, KSM_KNOB_PAGES_TO_SCAN);
	/* the knob the rollback could not restore is named */
	ck_assert_msg(strstr(res->c.message, "stable_node_chains_prune_millisecs") != NULL,
		      "ksm_strerror(-ENOTRECOVERABLE) = \"%s\"", res->c.message);
	/* what the short writes left */
	assert_raw(KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, "20");
	assert_raw(KSM_KNOB_PAGES_TO_SCAN, "10");
}

START_TEST(test_commit_unrecoverable)
{
	struct unrecoverable_result res;
	int errors = 0;

	use("6.18");
	commit_unrecoverable(false, &res);
	assert_unrecoverable(&res);
	/* logged at LOG_ERR (the default priority lets nothing less urgent through) */
	for (int i = 0; i < res.c.nlog && i < 8; i++) {
		ck_assert_msg(res.c.prio[i] <= LOG_ERR, "message of priority %d at the default LOG_ERR: %s",
			      res.c.prio[i], res.c.text[i]);
		errors += res.c.prio[i] == LOG_ERR && strstr(res.c.text[i], "stable_node_chains_prune_millisecs") != NULL;
	}
	ck_assert_msg(errors >= 1, "%d LOG_ERR messages name the knob left changed among %d (first: \"%s\")", errors,
		      res.c.nlog, res.c.nlog ? res.c.text[0] : "");
	ck_assert_msg(res.err[0] == '\0', "with a log function, stderr got: %s", res.err);
}
END_TEST

/* Without a log function: "libksm: <message>" on stderr. */
START_TEST(test_commit_unrecoverable_stderr)
{
	struct unrecoverable_result res;

	use("6.18");
	commit_unrecoverable(true, &res);
	assert_unrecoverable(&res);
	ck_assert_int_eq(res.c.nlog, 0);
	ck_assert_msg(strncmp(res.err, "libksm: ", 8) == 0 && strstr(res.err, "stable_node_chains_prune_millisecs") &&
			      res.err[strlen(res.err) - 1] == '\n',
		      "stderr: \"%s\"", res.err);
}
END_TEST

/* One reference more or less; the last one frees the transaction and its reference on the context. */
START_TEST(test_txn_refcount)
{
	struct ksm_ctx *c;

	use("6.18");
	ck_assert_ptr_eq(ksm_txn_ref(txn), txn);
	ck_assert_ptr_eq(ksm_txn_unref(txn), txn);
	/* the transaction keeps the context alive */
	c = ctx;
	ctx = NULL;
	ck_assert_ptr_eq(ksm_unref(c), c);
	set_ok(KSM_KNOB_SLEEP_MILLISECS, 7);
	ck_assert_int_eq(ksm_txn_commit(txn, 0, NULL), 0);
	assert_raw(KSM_KNOB_SLEEP_MILLISECS, "7\n");
	ck_assert_ptr_null(ksm_txn_unref(txn));
	txn = NULL;
}
END_TEST

/* ------------------------------------------------------------------------ */
/* profiles                                                                  */

static char *write_file(const char *name, const char *text)
{
	char *path;

	ck_assert_int_ge(asprintf(&path, "%s/%s", root, name), 0);
	tu_write(root, name, text);
	return path;
}

START_TEST(test_load)
{
	char *path;
	unsigned int line = 99;
	int r;

	use("6.18");
	path = write_file("good.conf",
			  "# a profile\n"
			  "\n"
			  "sleep_millisecs=5\n"
			  "   \t\n"
			  "  pages_to_scan =  1234  # c\n"
			  "# use_zero_pages = 1\n"
			  "smart_scan = off\r\n"
			  "\tadvisor_max_cpu\t=\t40\n"
			  "max_page_sharing = 256"); /* last line without newline */
	r = ksm_profile_load(txn, path, &line);
	ck_assert_msg(r == 5 && line == 0, "load = %d, line %u", r, line);
	ASSERT_PLAN(0, "sleep_millisecs=5 smart_scan=0 advisor_max_cpu=40 pages_to_scan=1234");
	free(path);
	txn = ksm_txn_unref(txn);

	/* A UTF-8 byte order mark before the first line is no part of it. */
	ck_assert_int_eq(ksm_txn_new(ctx, &txn), 0);
	path = write_file("bom.conf", "\xef\xbb\xbfsleep_millisecs = 7\n");
	ck_assert_int_eq(ksm_profile_load(txn, path, &line), 1);
	ASSERT_PLAN(0, "sleep_millisecs=7");
	free(path);
	txn = ksm_txn_unref(txn);

	/* an empty file and a comment-only file are 0 settings */
	ck_assert_int_eq(ksm_txn_new(ctx, &txn), 0);
	path = write_file("empty.conf", "");
	ck_assert_int_eq(ksm_profile_load(txn, path, &line), 0);
	free(path);
	path = write_file("comments.conf", "# nothing\n\n   # still nothing\n");
	ck_assert_int_eq(ksm_profile_load(txn, path, &line), 0);
	ck_assert_uint_eq(line, 0);
	free(path);
	ASSERT_PLAN(0, "");
}
END_TEST

static const struct bad_profile {
	const char *text;
	int err;
	unsigned int line;
} bad_profiles[] = {
	{ "# x\n\nsleep_millisecs = 5\n\n  sleep_millisecs 5\n", -EBADMSG, 5 },
	{ "sleep_millisecs = 5 = 6\n", -EBADMSG, 1 },
	{ "\n= 5\n", -EBADMSG, 2 },
	{ "sleep_millisecs =\n", -EBADMSG, 1 },
	{ "sleep_millisecs = # no value\n", -EBADMSG, 1 },
	{ "sleep millisecs = 5\n", -EBADMSG, 1 },
	{ "# ok\npages_to_scan = 5\nbogus_knob = 1\n", -ENOKEY, 3 },
	{ "\n\n\n\nPAGES_TO_SCAN = 5\n", -ENOKEY, 5 },
	{ "pages_to_scan = 5\n# counters\npages_shared = 1\n", -EPERM, 3 },
	{ "\nfull_scans = 0\n", -EPERM, 2 },
	{ "pages_to_scan = 5\nsleep_millisecs = -1\n", -EINVAL, 2 },
	/* A knob named twice is an error, as in 'ksmctl set'. */
	{ "sleep_millisecs = 5\n\nsleep_millisecs = 6\n", -EBADMSG, 3 },
	/* A BOM counts only at the start of the file. */
	{ "pages_to_scan = 5\n\xef\xbb\xbfsleep_millisecs = 5\n", -ENOKEY, 2 },
	/* Hexadecimal is not taken, as by the kernel. */
	{ "pages_to_scan = 0x10\n", -EINVAL, 1 },
	{ "# mode by name only\nadvisor_mode = 1\n", -EINVAL, 2 },
	{ "\n\n\nmax_page_sharing = 1\n", -EINVAL, 4 },
	{ "run = 3\n", -EINVAL, 1 },
	{ "use_zero_pages = maybe\n", -EINVAL, 1 },
};

/* A NUL byte and lines too long for any setting: errors on the right line. */
START_TEST(test_load_nul_and_long_lines)
{
	static const char nul[] = "pages_to_scan = 5\nsleep_millisecs = 5\0garbage\n";
	char long_comment[400], *overlong, *path, *text;
	unsigned int line = 99;
	int fd;

	use("6.18");
	ck_assert_int_ge(asprintf(&path, "%s/nul.conf", root), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, nul, sizeof(nul) - 1), (ssize_t)(sizeof(nul) - 1));
	close(fd);
	ck_assert_int_eq(ksm_profile_load(txn, path, &line), -EBADMSG);
	ck_assert_uint_eq(line, 2);
	ck_assert_ptr_nonnull(strstr(ksm_strerror(-EBADMSG), ":2: the line holds a NUL byte"));
	free(path);

	/* After a 300-byte comment, the error is on the line that follows. */
	memset(long_comment, 'x', sizeof(long_comment));
	long_comment[0] = '#';
	long_comment[300] = '\0';
	ck_assert_int_ge(asprintf(&text, "%s\nbogus = 1\n", long_comment), 0);
	path = write_file("long.conf", text);
	ck_assert_int_eq(ksm_profile_load(txn, path, &line), -ENOKEY);
	ck_assert_uint_eq(line, 2);
	free(path);
	free(text);

	/* A line of more than 4096 bytes is refused as such. */
	overlong = malloc(6000);
	ck_assert_ptr_nonnull(overlong);
	memset(overlong, ' ', 5999);
	overlong[5999] = '\0';
	memcpy(overlong + 5980, "pages_to_scan = 5", 17);
	ck_assert_int_ge(asprintf(&text, "sleep_millisecs = 5\n%s\n", overlong), 0);
	path = write_file("overlong.conf", text);
	ck_assert_int_eq(ksm_profile_load(txn, path, &line), -EBADMSG);
	ck_assert_uint_eq(line, 2);
	ck_assert_ptr_nonnull(strstr(ksm_strerror(-EBADMSG), ":2: the line is longer than 4096 bytes"));
	free(path);
	free(text);
	free(overlong);
	assert_all_original("after failed loads");
}
END_TEST

START_TEST(test_load_errors)
{
	const struct bad_profile *b = &bad_profiles[_i];
	unsigned int line = 99;
	char *path;
	int r;

	use("6.18");
	path = write_file("bad.conf", b->text);
	r = ksm_profile_load(txn, path, &line);
	ck_assert_msg(r == b->err && line == b->line, "load of '%s' = %d (%s) at line %u, expected %d (%s) at line %u",
		      b->text, r, strerror(-r), line, b->err, strerror(-b->err), b->line);
	free(path);
	assert_all_original("after a failed load");
}
END_TEST

START_TEST(test_load_missing)
{
	unsigned int line = 99;
	char *path;

	use("6.18");
	ck_assert_int_ge(asprintf(&path, "%s/no-such.conf", root), 0);
	ck_assert_int_eq(ksm_profile_load(txn, path, &line), -ENOENT);
	ck_assert_uint_eq(line, 0);
	free(path);
	line = 99;
	ck_assert_int_eq(ksm_profile_load(txn, root, &line), -EISDIR);
	ck_assert_uint_eq(line, 0);
	/* NULL: the default profile below the system root, which the copy does not have */
	line = 99;
	ck_assert_int_eq(ksm_profile_load(txn, NULL, &line), -ENOENT);
	ck_assert_uint_eq(line, 0);
	ck_assert_int_eq(ksm_profile_load(NULL, "x", NULL), -EINVAL);
}
END_TEST

/* ksm_profile_write() into a pipe, as a string. */
static char *profile_text(void)
{
	static char buf[8192];
	int pfd[2], r;
	ssize_t n;
	size_t off = 0;

	ck_assert_int_eq(pipe(pfd), 0);
	r = ksm_profile_write(ctx, pfd[1]);
	close(pfd[1]);
	ck_assert_msg(r == 0, "ksm_profile_write = %d", r);
	while ((n = read(pfd[0], buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	close(pfd[0]);
	buf[off] = '\0';
	return buf;
}

#define PROFILE_HEAD                                                             \
	"# KSM tunables, one \"knob = value\" per line (ksm.conf(5)).\n" \
	"# Apply with: ksmctl apply FILE\n"

START_TEST(test_profile_write)
{
	char *got;

	use("6.18");
	got = profile_text();
	ck_assert_str_eq(got, PROFILE_HEAD
		"pages_to_scan = 100\n"
		"sleep_millisecs = 20\n"
		"merge_across_nodes = 1\n"
		"use_zero_pages = 0\n"
		"max_page_sharing = 256\n"
		"stable_node_chains_prune_millisecs = 2000\n"
		"smart_scan = 1\n"
		"advisor_mode = none\n"
		"advisor_max_cpu = 70\n"
		"advisor_min_pages_to_scan = 500\n"
		"advisor_max_pages_to_scan = 30000\n"
		"advisor_target_scan_time = 200\n");
	teardown();

	/* the advisor owns pages_to_scan: not a setting */
	use("6.18-advisor");
	got = profile_text();
	ck_assert_str_eq(got, PROFILE_HEAD
		"sleep_millisecs = 20\n"
		"merge_across_nodes = 1\n"
		"use_zero_pages = 0\n"
		"max_page_sharing = 256\n"
		"stable_node_chains_prune_millisecs = 2000\n"
		"smart_scan = 1\n"
		"advisor_mode = scan-time\n"
		"advisor_max_cpu = 70\n"
		"advisor_min_pages_to_scan = 500\n"
		"advisor_max_pages_to_scan = 30000\n"
		"advisor_target_scan_time = 200\n");
	teardown();

	use("2.6.32");
	got = profile_text();
	ck_assert_str_eq(got, PROFILE_HEAD "pages_to_scan = 100\nsleep_millisecs = 20\n");
	ck_assert_int_eq(ksm_profile_write(ctx, -1), -EINVAL);
	ck_assert_int_eq(ksm_profile_write(NULL, 1), -EINVAL);
}
END_TEST

START_TEST(test_profile_save_roundtrip)
{
	char dir[4096], path[4096 + 16], *saved;
	struct dirent *de;
	struct stat st;
	unsigned int line = 99;
	int names = 0, failed = -2, r;
	mode_t old_umask;
	DIR *d;

	use("6.18");
	snprintf(dir, sizeof(dir), "%s/etc", root);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/ksm.conf", dir);
	tu_write(root, "etc/ksm.conf", "old content\n");
	old_umask = umask(077);
	r = ksm_profile_save(ctx, path);
	umask(old_umask);
	ck_assert_msg(r == 0, "ksm_profile_save = %d", r);

	/* replaced atomically: only the profile is left, mode 0644 */
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		ck_assert_msg(strcmp(de->d_name, "ksm.conf") == 0, "left behind: %s", de->d_name);
		names++;
	}
	closedir(d);
	ck_assert_int_eq(names, 1);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_msg((st.st_mode & 07777) == 0644, "mode %o", st.st_mode & 07777);
	saved = tu_read(root, "etc/ksm.conf");
	ck_assert_str_eq(saved, profile_text());
	free(saved);

	/* change every tunable the profile names, then apply it */
	put(KSM_KNOB_PAGES_TO_SCAN, "999\n");
	put(KSM_KNOB_SLEEP_MILLISECS, "7\n");
	put(KSM_KNOB_MERGE_ACROSS_NODES, "0\n");
	put(KSM_KNOB_USE_ZERO_PAGES, "1\n");
	put(KSM_KNOB_MAX_PAGE_SHARING, "300\n");
	put(KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, "1\n");
	put(KSM_KNOB_SMART_SCAN, "0\n");
	put(KSM_KNOB_ADVISOR_MAX_CPU, "10\n");
	put(KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, "11\n");
	put(KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, "12\n");
	put(KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, "13\n");
	r = ksm_profile_load(txn, path, &line);
	ck_assert_msg(r == 12 && line == 0, "load = %d, line %u", r, line);
	r = ksm_txn_commit(txn, 0, &failed);
	ck_assert_msg(r == 0 && failed == -1, "commit = %d, failed %d", r, failed);
	assert_all_original("after applying the saved profile");

	/* a directory that does not exist */
	snprintf(path, sizeof(path), "%s/nodir/ksm.conf", root);
	ck_assert_int_eq(ksm_profile_save(ctx, path), -ENOENT);
	ck_assert_int_eq(ksm_profile_save(ctx, ""), -EINVAL);
}
END_TEST

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc" /* the build passes its own */
#endif

/* mkdir -p <root>@rel */
static void make_dirs(const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
	ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
}

/* The default profile is <sysroot><sysconfdir>/ksm.conf: saved and loaded there, nowhere else. */
START_TEST(test_profile_default)
{
	char expect[4096], *saved;
	struct stat host_before, host_after;
	struct ksm_ctx *c = NULL;
	bool host_had = stat(SYSCONFDIR "/ksm.conf", &host_before) == 0;
	unsigned int line = 99;
	int failed = -2, r;

	use("6.18");
	snprintf(expect, sizeof(expect), "%s" SYSCONFDIR "/ksm.conf", root);
	ck_assert_str_eq(ksm_profile_path(ctx), expect);

	/* nothing there yet */
	ck_assert_int_eq(ksm_profile_load(txn, NULL, &line), -ENOENT);
	ck_assert_uint_eq(line, 0);

	make_dirs(SYSCONFDIR);
	r = ksm_profile_save(ctx, NULL);
	ck_assert_msg(r == 0, "ksm_profile_save(NULL) = %d (%s)", r, strerror(-r));
	saved = tu_read(root, SYSCONFDIR "/ksm.conf" + 1);
	ck_assert_str_eq(saved, profile_text());
	free(saved);
	/* the host's own profile is untouched */
	ck_assert_int_eq(stat(SYSCONFDIR "/ksm.conf", &host_after) == 0, host_had);
	if (host_had)
		ck_assert_msg(host_after.st_ino == host_before.st_ino &&
				      host_after.st_mtim.tv_sec == host_before.st_mtim.tv_sec &&
				      host_after.st_mtim.tv_nsec == host_before.st_mtim.tv_nsec,
			      SYSCONFDIR "/ksm.conf of the host was replaced or changed");

	/* change the tunables, load the default profile, apply it */
	put(KSM_KNOB_PAGES_TO_SCAN, "999\n");
	put(KSM_KNOB_SLEEP_MILLISECS, "7\n");
	put(KSM_KNOB_ADVISOR_MAX_CPU, "10\n");
	line = 99;
	r = ksm_profile_load(txn, NULL, &line);
	ck_assert_msg(r == 12 && line == 0, "ksm_profile_load(NULL) = %d, line %u", r, line);
	ASSERT_PLAN(0, "sleep_millisecs=20 advisor_max_cpu=70 pages_to_scan=100");
	r = ksm_txn_commit(txn, 0, &failed);
	ck_assert_msg(r == 0 && failed == -1, "commit = %d, failed %d", r, failed);
	assert_all_original("after applying the default profile");

	/* a bad line of the default profile: its line number */
	tu_write(root, SYSCONFDIR "/ksm.conf" + 1, "sleep_millisecs = 5\nbogus = 1\n");
	ck_assert_int_eq(ksm_profile_load(txn, NULL, &line), -ENOKEY);
	ck_assert_uint_eq(line, 2);

	/* the same file through KSM_SYSROOT */
	ck_assert_int_eq(setenv("KSM_SYSROOT", root, 1), 0);
	ck_assert_int_eq(ksm_new(&c), 0);
	ck_assert_str_eq(ksm_profile_path(c), expect);
	ck_assert_ptr_null(ksm_unref(c));
	ck_assert_int_eq(unsetenv("KSM_SYSROOT"), 0);
	/* and for the root itself, the build's path as it is */
	ck_assert_int_eq(ksm_new_at(&c, "/"), 0);
	ck_assert_str_eq(ksm_profile_path(c), SYSCONFDIR "/ksm.conf");
	ck_assert_ptr_null(ksm_unref(c));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* boosts                                                                    */

/* Is run/libksm/holder.TOKEN locked, as a live holder keeps it? */
static bool holder_locked(unsigned long long token)
{
	char path[4096];
	bool locked;
	int fd;

	snprintf(path, sizeof(path), "%s/run/libksm/holder.%016llx", root, token);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	locked = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return locked;
}

/* Play a live holder: create run/libksm/holder.TOKEN and keep it locked; the fd. */
static int hold_token(unsigned long long token)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/run/libksm/holder.%016llx", root, token);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	return fd;
}

static bool record_exists(void)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/" RECORD_REL, root);
	return access(path, F_OK) == 0;
}

#define SAVED_618                                                                                  \
	"libksm-boost 2\n"                                                                          \
	"saved run 0\n"                                                                             \
	"saved pages_to_scan 100\n"                                                                 \
	"saved sleep_millisecs 20\n"                                                                \
	"saved smart_scan 1\n"                                                                      \
	"saved advisor_mode 0\n"

/* The record's saved lines, and its holders' tokens (each with its file locked); the holder count. */
static int record_holders(const char *expect_saved, unsigned long long tokens[8])
{
	char *rec = tu_read(root, RECORD_REL), *p;
	int n = 0;

	ck_assert_msg(strncmp(rec, expect_saved, strlen(expect_saved)) == 0, "record:\n%s\nexpected to start with:\n%s",
		      rec, expect_saved);
	for (p = rec + strlen(expect_saved); *p; p = strchr(p, '\n') + 1) {
		int pid;
		unsigned long long token;

		ck_assert_msg(sscanf(p, "holder %d %llx", &pid, &token) == 2, "bad line in record: %s", p);
		ck_assert_int_eq(pid, getpid());
		ck_assert_msg(holder_locked(token), "the file of holder %016llx is not locked", token);
		ck_assert_int_lt(n, 8);
		tokens[n++] = token;
		ck_assert_ptr_nonnull(strchr(p, '\n'));
	}
	free(rec);
	return n;
}

static void assert_fast(void)
{
	assert_raw(KSM_KNOB_RUN, "1\n");
	assert_raw(KSM_KNOB_SLEEP_MILLISECS, "0\n");
	assert_raw(KSM_KNOB_PAGES_TO_SCAN, "20000\n");
	assert_raw(KSM_KNOB_SMART_SCAN, "0\n");
	assert_raw(KSM_KNOB_ADVISOR_MODE, orig[KSM_KNOB_ADVISOR_MODE]); /* none already: not written */
}

START_TEST(test_boost_begin_end)
{
	struct ksm_boost *b = NULL;
	char dir[4096], buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	unsigned long long tokens[8];
	int ino, seq = 0, record_at = -1, first_knob_at = -1, r;
	ssize_t n;

	use("6.18");
	/* watch the record's directory and the knobs in one queue: events keep their order */
	snprintf(dir, sizeof(dir), "%s/run", root);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/run/libksm", root);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ck_assert_int_ge(ino, 0);
	ck_assert_int_ge(inotify_add_watch(ino, dir, IN_MOVED_TO | IN_CLOSE_WRITE), 0);
	snprintf(dir, sizeof(dir), "%s/" KSM_REL, root);
	ck_assert_int_ge(inotify_add_watch(ino, dir, IN_CLOSE_WRITE), 0);

	r = ksm_boost_begin(ctx, &b);
	ck_assert_msg(r == 0 && b, "ksm_boost_begin = %d", r);
	while ((n = read(ino, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;

			if ((e->mask & IN_MOVED_TO) && e->len && strcmp(e->name, "boost") == 0 && record_at < 0)
				record_at = seq;
			if ((e->mask & IN_CLOSE_WRITE) && e->len && ksm_knob_lookup(e->name) >= 0 &&
			    first_knob_at < 0)
				first_knob_at = seq;
			seq++;
			p += sizeof(*e) + e->len;
		}
	}
	close(ino);
	ck_assert_msg(record_at >= 0 && first_knob_at >= 0 && record_at < first_knob_at,
		      "record renamed into place at event %d, first knob written at event %d", record_at,
		      first_knob_at);

	ck_assert_int_eq(record_holders(SAVED_618, tokens), 1);
	assert_fast();
	{
		char msg[2048];
		int changed = count_changed(-1, msg, sizeof(msg));
		ck_assert_msg(changed == 4, "%d files changed by the boost, expected 4: %s", changed, msg);
	}

	r = ksm_boost_end(b);
	ck_assert_int_eq(r, 0);
	assert_all_original("after the boost");
	ck_assert_msg(!record_exists(), "record left after the last boost ended");
	ck_assert_int_eq(ksm_boost_end(NULL), 0);
	ck_assert_int_eq(ksm_boost_begin(NULL, &b), -EINVAL);
	ck_assert_int_eq(ksm_boost_begin(ctx, NULL), -EINVAL);
	ck_assert_int_eq(ksm_boost_recover(ctx), 0);
	ck_assert_int_eq(ksm_boost_recover(NULL), -EINVAL);
}
END_TEST

START_TEST(test_boost_nested)
{
	struct ksm_boost *b1 = NULL, *b2 = NULL;
	unsigned long long t1[8], t2[8];

	use("6.18");
	ck_assert_int_eq(ksm_boost_begin(ctx, &b1), 0);
	ck_assert_int_eq(record_holders(SAVED_618, t1), 1);
	ck_assert_int_eq(ksm_boost_begin(ctx, &b2), 0);
	/* the saved values are still those from before the first boost */
	ck_assert_int_eq(record_holders(SAVED_618, t2), 2);
	ck_assert_msg(t2[0] == t1[0] && t2[1] != t1[0], "tokens %llu %llu after %llu", t2[0], t2[1], t1[0]);
	assert_fast();

	/* the first one ends: still boosted */
	ck_assert_int_eq(ksm_boost_end(b1), 0);
	ck_assert_int_eq(record_holders(SAVED_618, t1), 1);
	ck_assert_msg(t1[0] == t2[1], "remaining holder %llu, expected %llu", t1[0], t2[1]);
	assert_fast();
	/* recovery does nothing while a live process holds a boost */
	ck_assert_int_eq(ksm_boost_recover(ctx), 0);
	assert_fast();

	/* the second one restores */
	ck_assert_int_eq(ksm_boost_end(b2), 0);
	assert_all_original("after the nested boosts");
	ck_assert(!record_exists());

	/* ended in the order they began, too */
	ck_assert_int_eq(ksm_boost_begin(ctx, &b1), 0);
	ck_assert_int_eq(ksm_boost_begin(ctx, &b2), 0);
	ck_assert_int_eq(ksm_boost_end(b2), 0);
	assert_fast();
	ck_assert_int_eq(ksm_boost_end(b1), 0);
	assert_all_original("after the second pair");
	ck_assert(!record_exists());
}
END_TEST

/* A pid that belonged to a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(kill(pid, 0) < 0 && errno == ESRCH, "pid %d still exists", (int)pid);
	return pid;
}

static void fake_record(const char *holders)
{
	char dir[4096], text[4096];

	snprintf(dir, sizeof(dir), "%s/run", root);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/run/libksm", root);
	mkdir(dir, 0755);
	snprintf(text, sizeof(text), SAVED_618 "%s", holders);
	tu_write(root, RECORD_REL, text);
}

static void make_fast(void)
{
	put(KSM_KNOB_RUN, "1\n");
	put(KSM_KNOB_SLEEP_MILLISECS, "0\n");
	put(KSM_KNOB_PAGES_TO_SCAN, "20000\n");
	put(KSM_KNOB_SMART_SCAN, "0\n");
}

START_TEST(test_boost_recover_stale)
{
	char holders[256], *rec;
	pid_t dead = dead_pid();
	int fd;

	use("6.18");
	/* a holder without a file */
	snprintf(holders, sizeof(holders), "holder %d 0000000000003039\n", (int)dead);
	fake_record(holders);
	make_fast();
	ck_assert_int_eq(ksm_boost_recover(ctx), 1);
	assert_all_original("after recovery");
	ck_assert(!record_exists());
	ck_assert_int_eq(ksm_boost_recover(ctx), 0);
	assert_all_original("after the second recovery");

	/* a live holder (its file locked): nothing is restored, the record stays */
	snprintf(holders, sizeof(holders), "holder %d 0000000000000007\n", (int)getpid());
	fake_record(holders);
	fd = hold_token(7);
	make_fast();
	ck_assert_int_eq(ksm_boost_recover(ctx), 0);
	assert_fast();
	ck_assert(record_exists());
	rec = tu_read(root, RECORD_REL);
	{
		char want[4096];
		snprintf(want, sizeof(want), SAVED_618 "%s", holders);
		ck_assert_str_eq(rec, want);
	}
	free(rec);

	/* its file unlocked (the process died): dead, and the file is removed */
	close(fd);
	ck_assert_int_eq(ksm_boost_recover(ctx), 1);
	assert_all_original("after recovery from an unlocked holder file");
	ck_assert(!record_exists());
	{
		char path[4096];
		snprintf(path, sizeof(path), "%s/run/libksm/holder.%016llx", root, 7ULL);
		ck_assert_msg(access(path, F_OK) < 0, "%s left behind", path);
	}
}
END_TEST

/*
 * A holder in another pid namespace: its pid means nothing here (it may not
 * exist, or be another process), but its file is locked: alive.
 */
START_TEST(test_boost_holder_other_pidns)
{
	char holders[256];
	int fd;

	use("6.18");
	/* pid 1 here is not the holder, and the highest pid does not exist */
	snprintf(holders, sizeof(holders), "holder 1 00000000000000aa\nholder 4194304 00000000000000bb\n");
	fake_record(holders);
	fd = hold_token(0xbb);
	make_fast();
	ck_assert_int_eq(ksm_boost_recover(ctx), 0);
	assert_fast();
	ck_assert(record_exists());
	close(fd);
	ck_assert_int_eq(ksm_boost_recover(ctx), 1);
	assert_all_original("after the holder in another namespace ended");
	ck_assert(!record_exists());
}
END_TEST

/* The same with a real pid namespace: a boost begun as pid 1 of a new one. */
START_TEST(test_boost_real_pidns)
{
	int to_child[2], from_child[2], status;
	char c;
	pid_t pid;

	use("6.18");
	ck_assert_int_eq(pipe(to_child), 0);
	ck_assert_int_eq(pipe(from_child), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pid_t inner;

		close(to_child[1]);
		close(from_child[0]);
		if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0) {
			c = 's';
			_exit(write(from_child[1], &c, 1) == 1 ? 0 : 2);
		}
		inner = fork();
		if (inner == 0) {
			struct ksm_ctx *c2 = NULL;
			struct ksm_boost *b = NULL;

			c = getpid() == 1 && ksm_new_at(&c2, root) == 0 && ksm_boost_begin(c2, &b) == 0
				    ? 'y' : 'n';
			if (write(from_child[1], &c, 1) != 1)
				_exit(2);
			(void)read(to_child[0], &c, 1); /* until the parent closes it */
			c = ksm_boost_end(b) == 0 ? 'e' : 'f';
			if (write(from_child[1], &c, 1) != 1)
				_exit(2);
			_exit(0);
		}
		_exit(inner > 0 && waitpid(inner, &status, 0) == inner && WIFEXITED(status) ?
			      WEXITSTATUS(status) : 3);
	}
	close(to_child[0]);
	close(from_child[1]);
	ck_assert_int_eq(read(from_child[0], &c, 1), 1);
	if (c == 's') {
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		close(to_child[1]);
		close(from_child[0]);
		return; /* no user namespaces here: test_boost_holder_other_pidns covers the rule */
	}
	ck_assert_int_eq(c, 'y');
	assert_fast();
	/* the record names pid 1, which is another process here: still a live holder */
	ck_assert_int_eq(ksm_boost_recover(ctx), 0);
	assert_fast();
	ck_assert(record_exists());
	close(to_child[1]);
	ck_assert_int_eq(read(from_child[0], &c, 1), 1);
	ck_assert_int_eq(c, 'e');
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(from_child[0]);
	assert_all_original("after the boost of another pid namespace ended");
	ck_assert(!record_exists());
}
END_TEST

/* A crashed boost half-way through: the next boost keeps the values from before the crash. */
START_TEST(test_boost_adopts_stale)
{
	struct ksm_boost *b = NULL;
	unsigned long long tokens[8];
	char holders[256];

	use("6.18");
	snprintf(holders, sizeof(holders), "holder %d 0000000000003039\n", (int)dead_pid());
	fake_record(holders);
	put(KSM_KNOB_SLEEP_MILLISECS, "0\n");
	put(KSM_KNOB_PAGES_TO_SCAN, "20000\n");
	ck_assert_int_eq(ksm_boost_begin(ctx, &b), 0);
	/* the dead holder is gone, the saved values are the old ones (sleep 20, not 0) */
	ck_assert_int_eq(record_holders(SAVED_618, tokens), 1);
	assert_fast();
	ck_assert_int_eq(ksm_boost_end(b), 0);
	assert_all_original("after the boost that adopted a stale record");
	ck_assert(!record_exists());
}
END_TEST

/* ------------------------------------------------------------------------ */
/* the state directory, trusted only when it is safe                         */

static long long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void mkdir_at(const char *rel, mode_t mode)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	ck_assert_msg(mkdir(path, mode) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
	ck_assert_int_eq(chmod(path, mode), 0);
}

static bool exists_at(const char *rel)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return lstat(path, &st) == 0;
}

/* Every way in: begin, merge now, recover all refuse with @err and change no knob. */
static void assert_refused(int err, const char *what)
{
	struct ksm_boost *b = NULL;
	struct timespec t0;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = ksm_boost_begin(ctx, &b);
	ck_assert_msg(r == err, "%s: ksm_boost_begin = %d (%s), expected %d", what, r, ksm_strerror(r), err);
	ck_assert_ptr_null(b);
	assert_all_original(what);
	r = ksm_merge_now(ctx, 1, 2000);
	ck_assert_msg(r == err, "%s: ksm_merge_now = %d (%s), expected %d", what, r, ksm_strerror(r), err);
	assert_all_original(what);
	make_fast();
	r = ksm_boost_recover(ctx);
	ck_assert_msg(r == err, "%s: ksm_boost_recover = %d (%s), expected %d", what, r, ksm_strerror(r), err);
	assert_fast(); /* recover touched nothing either */
	ck_assert_msg(ms_since(&t0) < 2000, "%s: refused after %lld ms", what, ms_since(&t0));
	for (int k = 0; k < NKNOBS; k++)
		if (orig[k])
			put(k, orig[k]);
}

START_TEST(test_boost_state_symlinks)
{
	char path[4096], target[4096];
	const char *msg;

	use("6.18");
	/* run -> a directory elsewhere: never followed */
	snprintf(target, sizeof(target), "%s/elsewhere", root);
	ck_assert_int_eq(mkdir(target, 0755), 0);
	snprintf(path, sizeof(path), "%s/run", root);
	ck_assert_int_eq(symlink(target, path), 0);
	assert_refused(-EUCLEAN, "run is a symlink");
	msg = ksm_strerror(-EUCLEAN);
	ck_assert_msg(strstr(msg, "/run") && strstr(msg, "symbolic link"), "message: %s", msg);
	ck_assert_msg(!exists_at("elsewhere/libksm"), "created a directory through the symlink");
	/* run/libksm -> elsewhere */
	ck_assert_int_eq(unlink(path), 0);
	mkdir_at("run", 0755);
	snprintf(path, sizeof(path), "%s/run/libksm", root);
	ck_assert_int_eq(symlink(target, path), 0);
	assert_refused(-EUCLEAN, "run/libksm is a symlink");
	ck_assert_msg(!exists_at("elsewhere/boost.lock"), "created the lock through the symlink");
	/* the record and the lock as symlinks */
	ck_assert_int_eq(unlink(path), 0);
	mkdir_at("run/libksm", 0755);
	snprintf(path, sizeof(path), "%s/run/libksm/boost", root);
	snprintf(target, sizeof(target), "%s/elsewhere/forged", root);
	tu_write(root, "elsewhere/forged", SAVED_618);
	ck_assert_int_eq(symlink(target, path), 0);
	assert_refused(-EUCLEAN, "the record is a symlink");
	ck_assert_int_eq(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/run/libksm/boost.lock", root);
	ck_assert_int_eq(unlink(path), 0); /* created by the attempts above */
	ck_assert_int_eq(symlink(target, path), 0);
	assert_refused(-EUCLEAN, "the lock is a symlink");
}
END_TEST

START_TEST(test_boost_state_modes)
{
	char path[4096];

	use("6.18");
	mkdir_at("run", 0755);
	mkdir_at("run/libksm", 0777);
	assert_refused(-EUCLEAN, "run/libksm is world-writable");
	ck_assert_msg(strstr(ksm_strerror(-EUCLEAN), "writable by others"), "message: %s",
		      ksm_strerror(-EUCLEAN));
	ck_assert_msg(!exists_at("run/libksm/boost.lock"), "the lock was created in an unsafe directory");
	mkdir_at("run/libksm", 0775);
	assert_refused(-EUCLEAN, "run/libksm is group-writable");
	mkdir_at("run/libksm", 0755);
	snprintf(path, sizeof(path), "%s/run/libksm", root);
	if (geteuid() == 0) {
		/* another user's directory (only root can make one here) */
		ck_assert_int_eq(chown(path, 12345, 12345), 0);
		assert_refused(-EUCLEAN, "run/libksm belongs to another user");
		ck_assert_int_eq(chown(path, 0, 0), 0);
	}
	/* run/libksm is a file */
	ck_assert_int_eq(rmdir(path), 0);
	tu_write(root, "run/libksm", "");
	assert_refused(-EUCLEAN, "run/libksm is a file");
}
END_TEST

START_TEST(test_boost_state_not_regular)
{
	char path[4096];

	use("6.18");
	mkdir_at("run", 0755);
	mkdir_at("run/libksm", 0755);
	/* a FIFO record would block every reader */
	snprintf(path, sizeof(path), "%s/run/libksm/boost", root);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	assert_refused(-EUCLEAN, "the record is a FIFO");
	ck_assert_msg(strstr(ksm_strerror(-EUCLEAN), "not a regular file"), "message: %s",
		      ksm_strerror(-EUCLEAN));
	ck_assert_int_eq(unlink(path), 0);
	/* a directory record */
	ck_assert_int_eq(mkdir(path, 0755), 0);
	assert_refused(-EUCLEAN, "the record is a directory");
	ck_assert_int_eq(rmdir(path), 0);
	/* a FIFO lock */
	snprintf(path, sizeof(path), "%s/run/libksm/boost.lock", root);
	ck_assert_int_eq(unlink(path), 0); /* created by the attempts above */
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	assert_refused(-EUCLEAN, "the lock is a FIFO");
	ck_assert_int_eq(unlink(path), 0);
}
END_TEST

/* Records a boost never writes: refused by recover and begin, nothing applied. */
static const char *const forged[] = {
	"libksm-boost 2\nsaved run 2\n",
	"libksm-boost 2\nsaved pages_to_scan 4294967296\n",
	"libksm-boost 2\nsaved pages_to_scan 99999999999999999999\n",
	"libksm-boost 2\nsaved smart_scan 6\n",
	"libksm-boost 2\nsaved sleep_millisecs -1\n",
	"libksm-boost 2\nsaved advisor_mode 7\n",
	"libksm-boost 2\nsaved max_page_sharing 2\n",
	"libksm-boost 2\nsaved merge_across_nodes 0\n",
	"libksm-boost 2\nsaved full_scans 0\n",
	"libksm-boost 2\nsaved run 0\nsaved run 1\n",
	"libksm-boost 2\nsaved run 0 trailing\n",
	"libksm-boost 2\nholder 0 00000000000000aa\n",
	"libksm-boost 2\nholder -5 00000000000000aa\n",
	"libksm-boost 1\nsaved run 0\n",
	"not a record\n",
};

START_TEST(test_boost_forged_record)
{
	const char *msg;

	use("6.18");
	mkdir_at("run", 0755);
	mkdir_at("run/libksm", 0755);
	tu_write(root, RECORD_REL, forged[_i]);
	assert_refused(-EBADMSG, forged[_i]);
	msg = ksm_strerror(-EBADMSG);
	ck_assert_msg(strstr(msg, "run/libksm/boost") && strstr(msg, "nothing was changed"),
		      "message: %s", msg);
	{
		char *rec = tu_read(root, RECORD_REL);
		ck_assert_str_eq(rec, forged[_i]);
		free(rec);
	}
}
END_TEST

/* Another process holds the lock: begin gives up after 10 s with -ETIMEDOUT. */
START_TEST(test_boost_lock_timeout)
{
	struct ksm_boost *b = NULL;
	struct timespec t0;
	char path[4096];
	long long ms;
	int pfd[2], status, r;
	char c;
	pid_t pid;

	use("6.18");
	mkdir_at("run", 0755);
	mkdir_at("run/libksm", 0755);
	snprintf(path, sizeof(path), "%s/run/libksm/boost.lock", root);
	ck_assert_int_eq(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		close(pfd[0]);
		c = fd >= 0 && flock(fd, LOCK_EX) == 0 ? 'y' : 'n';
		if (write(pfd[1], &c, 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &c, 1), 1);
	ck_assert_int_eq(c, 'y');
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = ksm_boost_begin(ctx, &b);
	ms = ms_since(&t0);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	close(pfd[0]);
	ck_assert_msg(r == -ETIMEDOUT, "ksm_boost_begin with the lock held = %d (%s)", r, ksm_strerror(r));
	ck_assert_msg(ms >= 9500 && ms < 15000, "-ETIMEDOUT after %lld ms", ms);
	ck_assert_msg(strstr(ksm_strerror(r), "boost.lock"), "message: %s", ksm_strerror(r));
	assert_all_original("after the lock wait timed out");
	/* the holder died: the lock is free again */
	ck_assert_int_eq(ksm_boost_begin(ctx, &b), 0);
	ck_assert_int_eq(ksm_boost_end(b), 0);
	assert_all_original("after the boost");
}
END_TEST

static volatile sig_atomic_t stop_flag;

static void on_alarm(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* The interrupt flag ends a lock wait, and a wait for scans, within milliseconds. */
START_TEST(test_boost_interrupt_flag)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	struct itimerval it = { .it_value = { 0, 300000 } };
	struct timespec t0;
	char path[4096];
	long long ms;
	int fd, r;

	use("6.18"); /* pid 2001 has memory registered; no scan ever completes */
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	ksm_set_interrupt(ctx, &stop_flag);

	/* during the wait for scans (SA_RESTART: only the flag tells) */
	stop_flag = 0;
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = ksm_merge_now(ctx, 1, 5000);
	ms = ms_since(&t0);
	ck_assert_msg(r == -EINTR, "ksm_merge_now interrupted = %d (%s)", r, ksm_strerror(r));
	ck_assert_msg(ms >= 250 && ms < 1500, "-EINTR after %lld ms", ms);
	assert_all_original("after merge now was interrupted during the wait");
	ck_assert(!record_exists());

	/* during the lock wait: the lock is held by this process through another open file */
	snprintf(path, sizeof(path), "%s/run/libksm/boost.lock", root);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	stop_flag = 0;
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = ksm_merge_now(ctx, 1, 5000);
	ms = ms_since(&t0);
	close(fd);
	ck_assert_msg(r == -EINTR, "ksm_merge_now interrupted in the lock wait = %d (%s)", r, ksm_strerror(r));
	ck_assert_msg(ms >= 250 && ms < 1500, "-EINTR after %lld ms", ms);
	assert_all_original("after merge now was interrupted during the lock wait");
	ck_assert(!record_exists());

	/* a flag already raised: nothing starts */
	stop_flag = 1;
	ck_assert_int_eq(ksm_merge_now(ctx, 1, 5000), -EINTR);
	assert_all_original("after merge now with the flag raised");
	ksm_set_interrupt(ctx, NULL);
	ck_assert_int_eq(ksm_merge_now(ctx, 1, 100), -ETIMEDOUT);
	signal(SIGALRM, SIG_DFL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* what happens to the knobs when a boost ends                               */

static char notices[4096];

static void log_notices(void *data, int priority, const char *file, int line, const char *fn,
			const char *format, va_list args)
{
	size_t len = strlen(notices);

	(void)data, (void)file, (void)line, (void)fn;
	if (priority != LOG_NOTICE)
		return;
	vsnprintf(notices + len, sizeof(notices) - len, format, args);
	len = strlen(notices);
	snprintf(notices + len, sizeof(notices) - len, "\n");
}

/* A knob changed during the boost (ksmctl stop, set) keeps the new value. */
START_TEST(test_boost_keeps_changes)
{
	struct ksm_boost *b = NULL;

	use("6.18");
	put(KSM_KNOB_RUN, "1\n"); /* started: the boost must end with run=1 unless stopped */
	free(orig[KSM_KNOB_RUN]);
	orig[KSM_KNOB_RUN] = strdup("1\n");
	notices[0] = '\0';
	ksm_set_log_fn(ctx, log_notices, NULL);
	ksm_set_log_priority(ctx, LOG_NOTICE);
	ck_assert_int_eq(ksm_boost_begin(ctx, &b), 0);
	assert_fast();
	put(KSM_KNOB_RUN, "0\n");             /* ksmctl stop */
	put(KSM_KNOB_SLEEP_MILLISECS, "50\n"); /* ksmctl set sleep_millisecs=50 */
	ck_assert_int_eq(ksm_boost_end(b), 0);
	assert_raw(KSM_KNOB_RUN, "0\n");
	assert_raw(KSM_KNOB_SLEEP_MILLISECS, "50\n");
	assert_raw(KSM_KNOB_PAGES_TO_SCAN, orig[KSM_KNOB_PAGES_TO_SCAN]);
	assert_raw(KSM_KNOB_SMART_SCAN, orig[KSM_KNOB_SMART_SCAN]);
	ck_assert(!record_exists());
	ck_assert_msg(strstr(notices, "run is left at 0, not restored to 1") &&
			      strstr(notices, "sleep_millisecs is left at 50, not restored to 20"),
		      "notices: %s", notices);

	/* unchanged: everything back exactly, nothing logged */
	put(KSM_KNOB_RUN, "1\n");
	put(KSM_KNOB_SLEEP_MILLISECS, orig[KSM_KNOB_SLEEP_MILLISECS]);
	notices[0] = '\0';
	ck_assert_int_eq(ksm_boost_begin(ctx, &b), 0);
	assert_fast();
	ck_assert_int_eq(ksm_boost_end(b), 0);
	assert_all_original("after a boost from run=1");
	ck_assert_str_eq(notices, "");
}
END_TEST

/* run=2: the administrator unmerged everything; boosts refuse and touch nothing. */
START_TEST(test_boost_refuses_run2)
{
	static char buf[4 * 4096] __attribute__((aligned(4096)));
	struct ksm_boost *b = NULL;
	uint64_t merged = 1;
	int r;

	use("6.18");
	put(KSM_KNOB_RUN, "2\n");
	free(orig[KSM_KNOB_RUN]);
	orig[KSM_KNOB_RUN] = strdup("2\n");
	r = ksm_boost_begin(ctx, &b);
	ck_assert_msg(r == -ECANCELED, "ksm_boost_begin at run=2 = %d (%s)", r, ksm_strerror(r));
	ck_assert_ptr_null(b);
	ck_assert_msg(strstr(ksm_strerror(r), "run is 2"), "message: %s", ksm_strerror(r));
	ck_assert_int_eq(ksm_merge_now(ctx, 1, 1000), -ECANCELED);
	r = ksm_merge_range(ctx, buf, sizeof(buf), 1000, &merged);
	ck_assert_msg(r == -ECANCELED, "ksm_merge_range at run=2 = %d (%s)", r, ksm_strerror(r));
	ck_assert_int_eq(merged, 0);
	{
		uint64_t mg = 1;
		/* the range was not registered */
		r = ksm_mergeable_bytes(buf, sizeof(buf), &mg);
		ck_assert_msg(r < 0 || mg == 0, "ksm_mergeable_bytes = %d, %llu bytes", r,
			      (unsigned long long)mg);
	}
	assert_all_original("after boosts were refused at run=2");
	ck_assert_msg(!exists_at("run"), "the refused boost created run/");
}
END_TEST

/* A holder that died but was not reaped yet (a zombie) holds nothing. */
START_TEST(test_boost_zombie_holder)
{
	int pfd[2], status;
	char c;
	pid_t pid;

	use("6.18");
	ck_assert_int_eq(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ksm_boost *b = NULL;

		close(pfd[0]);
		c = ksm_boost_begin(ctx, &b) == 0 ? 'y' : 'n';
		if (write(pfd[1], &c, 1) != 1)
			_exit(2);
		_exit(0); /* dies holding the boost */
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &c, 1), 1);
	ck_assert_int_eq(c, 'y');
	ck_assert_int_eq(read(pfd[0], &c, 1), 0); /* the child is gone */
	close(pfd[0]);
	assert_fast();
	ck_assert(record_exists());
	/* wait until it is a zombie, without reaping it */
	for (int i = 0; i < 1000; i++) {
		siginfo_t si = { 0 };
		ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT), 0);
		if (si.si_pid == pid)
			break;
		usleep(1000);
	}
	ck_assert_int_eq(ksm_boost_recover(ctx), 1);
	assert_all_original("after recovery from a zombie holder");
	ck_assert(!record_exists());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}
END_TEST

/* The processes of the 6.18 tree that have memory registered, made idle. */
static void nothing_registered(void)
{
	static const int pids[] = { 2001, 2002, 2003, 2004 };
	char rel[64];

	for (size_t i = 0; i < sizeof(pids) / sizeof(pids[0]); i++) {
		snprintf(rel, sizeof(rel), "proc/%d/ksm_stat", pids[i]);
		tu_write(root, rel, "ksm_rmap_items 0\nksm_zero_pages 0\nksm_merging_pages 0\n"
				    "ksm_process_profit 0\nksm_merge_any: no\nksm_mergeable: no\n");
	}
}

/* Merge now with nothing registered: -ENODATA at once, the boost undone. */
START_TEST(test_merge_now_nothing_registered)
{
	struct timespec t0;
	int r;

	use("6.18");
	nothing_registered();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = ksm_merge_now(ctx, 2, 5000);
	ck_assert_msg(r == -ENODATA, "ksm_merge_now(2, 5000) with nothing registered = %d (%s)", r, strerror(-r));
	ck_assert_msg(ms_since(&t0) < 1000, "-ENODATA after %lld ms", ms_since(&t0));
	assert_all_original("after ksm_merge_now gave up");
	ck_assert(!record_exists());
	ck_assert_int_eq(ksm_merge_now(NULL, 1, 0), -EINVAL);
}
END_TEST

/* Merge now while no scan completes (nothing plays ksmd here): -ETIMEDOUT, the boost undone. */
START_TEST(test_merge_now_timeout)
{
	struct timespec t0;
	long long ms;
	int r;

	use("6.18"); /* pid 2001 has memory registered */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = ksm_merge_now(ctx, 1, 300);
	ms = ms_since(&t0);
	ck_assert_msg(r == -ETIMEDOUT, "ksm_merge_now(1, 300) = %d (%s)", r, strerror(-r));
	ck_assert_msg(ms >= 250 && ms < 2000, "-ETIMEDOUT after %lld ms", ms);
	assert_all_original("after ksm_merge_now timed out");
	ck_assert(!record_exists());
}
END_TEST

static Suite *txn_suite(void)
{
	Suite *s = suite_create("txn");
	TCase *tc;

	tc = tcase_create("plan");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_set_validation);
	tcase_add_test(tc, test_plan_merged);
	tcase_add_test(tc, test_plan_advisor);
	tcase_add_test(tc, test_plan_advisor_on);
	tcase_add_test(tc, test_plan_absent);
	suite_add_tcase(s, tc);

	tc = tcase_create("commit");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_commit_writes);
	tcase_add_test(tc, test_commit_rollback);
	tcase_add_test(tc, test_commit_unrecoverable);
	tcase_add_test(tc, test_commit_unrecoverable_stderr);
	tcase_add_test(tc, test_txn_refcount);
	suite_add_tcase(s, tc);

	tc = tcase_create("profile");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_load_nul_and_long_lines);
	tcase_add_loop_test(tc, test_load_errors, 0, (int)(sizeof(bad_profiles) / sizeof(bad_profiles[0])));
	tcase_add_test(tc, test_load_missing);
	tcase_add_test(tc, test_profile_write);
	tcase_add_test(tc, test_profile_save_roundtrip);
	tcase_add_test(tc, test_profile_default);
	suite_add_tcase(s, tc);

	tc = tcase_create("boost");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_boost_begin_end);
	tcase_add_test(tc, test_boost_nested);
	tcase_add_test(tc, test_boost_recover_stale);
	tcase_add_test(tc, test_boost_adopts_stale);
	tcase_add_test(tc, test_boost_holder_other_pidns);
	tcase_add_test(tc, test_boost_real_pidns);
	tcase_add_test(tc, test_boost_state_symlinks);
	tcase_add_test(tc, test_boost_state_modes);
	tcase_add_test(tc, test_boost_state_not_regular);
	tcase_add_loop_test(tc, test_boost_forged_record, 0, (int)(sizeof(forged) / sizeof(forged[0])));
	tcase_add_test(tc, test_boost_lock_timeout);
	tcase_add_test(tc, test_boost_interrupt_flag);
	tcase_add_test(tc, test_boost_keeps_changes);
	tcase_add_test(tc, test_boost_refuses_run2);
	tcase_add_test(tc, test_boost_zombie_holder);
	tcase_add_test(tc, test_merge_now_nothing_registered);
	tcase_add_test(tc, test_merge_now_timeout);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return tu_run_suite(txn_suite());
}

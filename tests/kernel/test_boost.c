// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Transactions, profiles and boosts against the running kernel.
 *
 * Needs root and KSM; exits 77 (skipped) otherwise. Every outcome is checked
 * against the raw files of /sys/kernel/mm/ksm, read here independently of
 * the library, and against the boost record /run/libksm/boost, which must
 * not outlive a test. KSM state is global: the guard (guard.c) snapshots
 * every writable knob before the first test and restores it in each test
 * child's checked setup and teardown, in the runner after every test, at
 * exit and on SIGINT/SIGTERM/SIGHUP, exactly as in test_kernel.c. A boost
 * record left behind by a failed test is recovered by the runner (and the
 * test counted as failed).
 *
 * Expected numbers: docs/kernel-ksm-abi.md §1 (advisor side effects, EBUSY)
 * and docs/ksm-behaviour.md §2.1 (16384 identical pages: 64 / 16320).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksm.h"
#include "guard.h"

#ifndef MADV_MERGEABLE
#define MADV_MERGEABLE 12
#endif

#define RECORD "/run/libksm/boost"
#define NKNOBS 24
#define FAST_PAGES 20000

/* ------------------------------------------------------------------------ */
/* raw sysfs access, independent of the library                             */

/* An unsigned kernel number: decimal digits and "\n". */
static int64_t raw_unsigned(const char *name)
{
	char buf[128], *end;
	long long v;

	raw_text(name, buf, sizeof(buf));
	errno = 0;
	v = strtoll(buf, &end, 10);
	ck_assert_msg(errno == 0 && end != buf && buf[0] >= '0' && buf[0] <= '9' && strcmp(end, "\n") == 0,
		      "%s holds no plain number: '%s'", name, buf);
	return v;
}

/* "[none] scan-time" -> 0, "none [scan-time]" -> 1 */
static int raw_advisor_mode(void)
{
	char buf[128];

	raw_text("advisor_mode", buf, sizeof(buf));
	if (strcmp(buf, "[none] scan-time\n") == 0)
		return KSM_ADVISOR_NONE;
	if (strcmp(buf, "none [scan-time]\n") == 0)
		return KSM_ADVISOR_SCAN_TIME;
	ck_abort_msg("advisor_mode holds unexpected text '%s'", buf);
	return -1;
}

static bool record_exists(void)
{
	return access(RECORD, F_OK) == 0;
}

/* A snapshot of the raw text of every writable knob (the guard's list). */
struct snap {
	int n;
	char name[NKNOBS + 8][64];
	char text[NKNOBS + 8][128];
};

static void snap_take(struct snap *s)
{
	s->n = guard_count();
	for (int i = 0; i < s->n; i++) {
		snprintf(s->name[i], sizeof(s->name[i]), "%s", guard_name(i));
		raw_text(s->name[i], s->text[i], sizeof(s->text[i]));
	}
}

static int snap_index(const struct snap *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->name[i], name) == 0)
			return i;
	ck_abort_msg("%s is not in the snapshot", name);
	return -1;
}

/*
 * Number of writable knobs whose raw text differs from @s, apart from the
 * names in @skip (NULL-terminated, may be NULL); the differences in @msg.
 */
static int snap_diff(const struct snap *s, const char *const *skip, char *msg, size_t size)
{
	int bad = 0;

	msg[0] = '\0';
	for (int i = 0; i < s->n; i++) {
		char now[128];
		bool skipped = false;

		for (int j = 0; skip && skip[j]; j++)
			skipped |= strcmp(skip[j], s->name[i]) == 0;
		if (skipped)
			continue;
		raw_text(s->name[i], now, sizeof(now));
		if (strcmp(now, s->text[i]) != 0) {
			size_t len = strlen(msg);
			snprintf(msg + len, size - len, "%s='%.*s' (was '%.*s') ", s->name[i],
				 (int)strcspn(now, "\n"), now, (int)strcspn(s->text[i], "\n"), s->text[i]);
			bad++;
		}
	}
	return bad;
}

#define ASSERT_SNAP(s, skip, when)                                                        \
	do {                                                                              \
		char m_[2048];                                                            \
		int b_ = snap_diff((s), (skip), m_, sizeof(m_));                          \
		ck_assert_msg(b_ == 0, "%s: %d knobs differ: %s", (when), b_, m_);        \
	} while (0)

#define ASSERT_NO_RECORD(when) \
	ck_assert_msg(!record_exists(), "%s: %s is left behind", (when), RECORD)

/* The fast profile of a boost, raw. */
static bool raw_is_fast(char *why, size_t size)
{
	int64_t run = raw_unsigned("run") & 3, sleep = raw_unsigned("sleep_millisecs"), pages = raw_unsigned("pages_to_scan");
	int64_t smart = raw_exists("smart_scan") ? raw_unsigned("smart_scan") : 0;
	int mode = raw_exists("advisor_mode") ? raw_advisor_mode() : KSM_ADVISOR_NONE;

	snprintf(why, size, "run=%" PRId64 " sleep_millisecs=%" PRId64 " pages_to_scan=%" PRId64
		 " smart_scan=%" PRId64 " advisor_mode=%d", run, sleep, pages, smart, mode);
	return run == 1 && sleep == 0 && pages >= FAST_PAGES && smart == 0 && mode == KSM_ADVISOR_NONE;
}

#define ASSERT_FAST(when)                                                             \
	do {                                                                          \
		char w_[256];                                                         \
		ck_assert_msg(raw_is_fast(w_, sizeof(w_)), "%s: not the fast profile: %s", (when), w_); \
	} while (0)

/* ------------------------------------------------------------------------ */

struct area {
	unsigned char *p;
	size_t len;
	size_t pages;
};

/* @pages private anonymous pages with one content unique to this run; registered if @mergeable. */
static void area_map(struct area *a, size_t pages, bool mergeable)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct timespec ts;
	uint64_t seed, *w;

	a->pages = pages;
	a->len = pages * (size_t)ps;
	a->p = mmap(NULL, a->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(a->p != MAP_FAILED, "mmap %zu pages: %s", pages, strerror(errno));
	(void)madvise(a->p, a->len, MADV_NOHUGEPAGE);
	clock_gettime(CLOCK_REALTIME, &ts);
	seed = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ pages;
	w = (uint64_t *)a->p;
	for (size_t i = 0; i < (size_t)ps / sizeof(*w); i++)
		w[i] = (seed + i) * UINT64_C(0x9E3779B97F4A7C15) | 1;
	for (size_t i = 1; i < pages; i++)
		memcpy(a->p + i * (size_t)ps, a->p, (size_t)ps);
	if (mergeable)
		ck_assert_msg(madvise(a->p, a->len, MADV_MERGEABLE) == 0, "MADV_MERGEABLE: %s", strerror(errno));
}

static void area_unmap(struct area *a)
{
	if (a->p && a->p != MAP_FAILED)
		munmap(a->p, a->len);
	a->p = NULL;
}

/* The plan of @txn as "knob=value ..."; returns the step count, the steps in @steps. */
static int plan_text(struct ksm_txn *txn, unsigned int flags, struct ksm_txn_step *steps, size_t max,
		     char *buf, size_t size)
{
	int n = ksm_txn_plan(txn, flags, steps, max, NULL);

	buf[0] = '\0';
	for (int i = 0; i < n && i < (int)max; i++) {
		char value[64];
		size_t len = strlen(buf);

		ck_assert_int_ge(ksm_knob_format(steps[i].knob, steps[i].value, value, sizeof(value)), 0);
		snprintf(buf + len, size - len, "%s%s=%s", i ? " " : "", ksm_knob_info(steps[i].knob)->name, value);
	}
	return n;
}

/* Run $KSMCTL with @argv (NULL-terminated, without argv[0]); its output in @out; returns the wait status. */
static int ksmctl(const char *const *argv, char *out, size_t size, pid_t *bg)
{
	const char *bin = getenv("KSMCTL");
	char *args[16];
	int pfd[2], status, n = 0;
	size_t off = 0;
	ssize_t r;
	pid_t pid;

	ck_assert_msg(bin && *bin, "KSMCTL is not set");
	args[n++] = (char *)bin;
	for (int i = 0; argv[i] && n < 15; i++)
		args[n++] = (char *)argv[i];
	args[n] = NULL;
	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		setenv("KSM_SYSROOT", "", 1);
		execv(bin, args);
		_exit(127);
	}
	close(pfd[1]);
	if (bg) {
		/* in the background: the caller reads @out later through the fd returned in *bg's place */
		*bg = pid;
		return pfd[0];
	}
	while (off + 1 < size && (r = read(pfd[0], out + off, size - 1 - off)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		off += (size_t)r;
	}
	out[off] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	return status;
}

static void read_all(int fd, char *out, size_t size)
{
	size_t off = 0;
	ssize_t r;

	while (off + 1 < size && (r = read(fd, out + off, size - 1 - off)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		off += (size_t)r;
	}
	out[off] = '\0';
}

/* Holder lines of the record. */
static int record_holders(void)
{
	char line[256];
	int n = 0;
	FILE *f = fopen(RECORD, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		n += strncmp(line, "holder ", 7) == 0;
	fclose(f);
	return n;
}

/* ------------------------------------------------------------------------ */
/* 1. a failing write in the middle of a transaction                        */

/*
 * Two transactions; the third planned write is made to fail. The values
 * differ from the current ones (whatever state the machine is in), and are
 * listed in the order the plan must have (include/ksm.h, ksm_txn_plan()).
 */
struct fault_set {
	int n;
	int knob[5];
	int64_t value[5];
};

static int64_t other_than(const char *name, int64_t want, int64_t alt)
{
	return raw_unsigned(name) == want ? alt : want;
}

static void fault_values(int which, struct fault_set *f)
{
	if (which == 0) {
		/*
		 * advisor_mode is written before the failing write, and
		 * switching the advisor on and off again resets pages_to_scan:
		 * the rollback must undo that too
		 */
		*f = (struct fault_set){
			4,
			{ KSM_KNOB_ADVISOR_MAX_CPU, KSM_KNOB_ADVISOR_MODE, KSM_KNOB_MAX_PAGE_SHARING, KSM_KNOB_RUN },
			{ other_than("advisor_max_cpu", 55, 56), KSM_ADVISOR_SCAN_TIME,
			  other_than("max_page_sharing", 300, 301), other_than("run", KSM_RUN_STOP, KSM_RUN_MERGE) },
		};
	} else {
		*f = (struct fault_set){
			5,
			{ KSM_KNOB_SLEEP_MILLISECS, KSM_KNOB_USE_ZERO_PAGES, KSM_KNOB_ADVISOR_MAX_CPU,
			  KSM_KNOB_PAGES_TO_SCAN, KSM_KNOB_MAX_PAGE_SHARING },
			{ other_than("sleep_millisecs", 7, 8), 1 - raw_unsigned("use_zero_pages"),
			  other_than("advisor_max_cpu", 55, 56), other_than("pages_to_scan", 1234, 1235),
			  other_than("max_page_sharing", 300, 301) },
		};
	}
}

/* Named in reverse plan order, so that the plan has to sort them. */
static void fault_txn(const struct fault_set *f, struct ksm_txn *txn)
{
	for (int i = f->n - 1; i >= 0; i--)
		ck_assert_int_eq(ksm_txn_set(txn, f->knob[i], f->value[i]), 0);
}

static void fault_plan_text(const struct fault_set *f, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 0; i < f->n; i++) {
		char value[64];
		size_t len = strlen(buf);

		ck_assert_int_ge(ksm_knob_format(f->knob[i], f->value[i], value, sizeof(value)), 0);
		snprintf(buf + len, size - len, "%s%s=%s", i ? " " : "", ksm_knob_info(f->knob[i])->name, value);
	}
}

struct fault_result {
	int ret, failed, setup; /* setup: 0 ok, else errno of the mount step */
	char why[160];
};

/*
 * In a child: private mount namespace, /sys/kernel/mm/ksm/<knob> bind-mounted
 * read-only onto itself, then the commit through a context opened there.
 * Every other knob is the machine's own: writes to them are global.
 */
static void commit_with_ro_knob(const struct fault_set *f, const char *knob, struct fault_result *res)
{
	char path[256];
	int pfd[2], status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", GUARD_KSM_DIR, knob);
	ck_assert_int_eq(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct fault_result c = { 0 };
		const char *step = NULL;

		close(pfd[0]);
		if (unshare(CLONE_NEWNS) < 0)
			step = "unshare(CLONE_NEWNS)";
		else if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
			step = "making / private";
		else if (mount(path, path, "none", MS_BIND, NULL) < 0)
			step = "bind mount";
		else if (mount("none", path, "none", MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
			step = "read-only remount";
		if (step) {
			c.setup = errno;
			snprintf(c.why, sizeof(c.why), "%s of %.60s: %s", step, path, strerror(errno));
		} else {
			struct ksm_ctx *ctx = NULL;
			struct ksm_txn *txn = NULL;
			int fd = open(path, O_WRONLY);

			if (fd >= 0 || errno != EROFS) {
				c.setup = EINVAL;
				snprintf(c.why, sizeof(c.why), "raw open of the ro %s: fd %d, %s", knob, fd,
					 strerror(errno));
			} else if (ksm_new_at(&ctx, "/") < 0 || ksm_txn_new(ctx, &txn) < 0) {
				c.setup = ENOMEM;
				snprintf(c.why, sizeof(c.why), "context in the child");
			} else {
				fault_txn(f, txn);
				c.ret = ksm_txn_commit(txn, 0, &c.failed);
			}
			ksm_txn_unref(txn);
			ksm_unref(ctx);
		}
		if (write(pfd[1], &c, sizeof(c)) != (ssize_t)sizeof(c))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], res, sizeof(*res)), (ssize_t)sizeof(*res));
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fault child status %#x", status);
}

START_TEST(test_txn_fault)
{
	struct ksm_ctx *ctx = new_ctx();
	struct ksm_txn *txn = NULL;
	struct ksm_txn_step steps[16];
	struct fault_result res;
	struct fault_set f;
	struct snap before;
	char plan[512], expect[512], buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	int writes[NKNOBS] = { 0 }, ino, n, third;
	ssize_t len;

	/* max_page_sharing changes only without merged pages; the advisor starts off */
	if (raw_unsigned("pages_shared") != 0)
		raw_write_ok("run", "2");
	if (raw_advisor_mode() != KSM_ADVISOR_NONE)
		raw_write_ok("advisor_mode", "none");
	snap_take(&before);
	fault_values(_i, &f);
	fault_plan_text(&f, expect, sizeof(expect));

	ck_assert_int_eq(ksm_txn_new(ctx, &txn), 0);
	fault_txn(&f, txn);
	n = plan_text(txn, 0, steps, 16, plan, sizeof(plan));
	ck_assert_msg(n == f.n && strcmp(plan, expect) == 0, "plan %d [%s], expected %d [%s]", n, plan, f.n, expect);
	third = steps[2].knob;
	printf("    plan: %s; failing: %s\n", plan, ksm_knob_info(third)->name);
	/* nothing allocated across fork(): the child exits without freeing the parent's objects */
	txn = ksm_txn_unref(txn);
	ctx = ksm_unref(ctx);

	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ck_assert_int_ge(ino, 0);
	ck_assert_int_ge(inotify_add_watch(ino, GUARD_KSM_DIR, IN_CLOSE_WRITE), 0);
	commit_with_ro_knob(&f, ksm_knob_info(third)->name, &res);
	ck_assert_msg(res.setup == 0, "fault injection: %s", res.why);
	ck_assert_msg(res.ret == -EROFS && res.failed == third,
		      "commit = %d (%s), failed_knob %d; expected -EROFS, failed_knob %d (%s)", res.ret,
		      strerror(-res.ret), res.failed, third, ksm_knob_info(third)->name);

	/* all knobs as before, byte for byte */
	ASSERT_SNAP(&before, NULL, "after the failed commit");

	/* the first two writes reached the kernel and were written back; nothing else was written */
	while ((len = read(ino, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len;) {
			struct inotify_event *e = (struct inotify_event *)p;
			int k = e->len ? ksm_knob_lookup(e->name) : -1;

			if (k >= 0 && (e->mask & IN_CLOSE_WRITE))
				writes[k]++;
			p += sizeof(*e) + e->len;
		}
	}
	close(ino);
	for (int k = 0; k < NKNOBS; k++) {
		int want = (k == steps[0].knob || k == steps[1].knob) ? 2 : 0;

		/*
		 * advisor_mode scan-time and back to none left pages_to_scan at
		 * the kernel's 100: written back (once) only if it was something else
		 */
		if (k == KSM_KNOB_PAGES_TO_SCAN && _i == 0)
			want = strtoll(before.text[snap_index(&before, "pages_to_scan")], NULL, 10) != 100;

		ck_assert_msg(writes[k] == want, "%s was written %d times, expected %d", ksm_knob_info(k)->name,
			      writes[k], want);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 2. the order of writes around the advisor                                 */

static int commit2(struct ksm_ctx *ctx, unsigned int flags, int *failed, int k1, int64_t v1, int k2, int64_t v2)
{
	struct ksm_txn *txn = NULL;
	int r;

	ck_assert_int_eq(ksm_txn_new(ctx, &txn), 0);
	ck_assert_int_eq(ksm_txn_set(txn, k1, v1), 0);
	if (k2 >= 0)
		ck_assert_int_eq(ksm_txn_set(txn, k2, v2), 0);
	r = ksm_txn_commit(txn, flags, failed);
	ksm_txn_unref(txn);
	return r;
}

START_TEST(test_txn_advisor)
{
	struct ksm_ctx *ctx = new_ctx();
	struct snap before;
	int64_t min = raw_unsigned("advisor_min_pages_to_scan");
	int failed = -2, r;
	static const char *const skip_adv[] = { "pages_to_scan", "advisor_mode", "advisor_min_pages_to_scan", NULL };
	static const char *const skip_on[] = { "pages_to_scan", "advisor_min_pages_to_scan", NULL };

	/* scan-time: the kernel sets pages_to_scan to advisor_min_pages_to_scan and refuses writes to it */
	raw_write_ok("advisor_mode", "scan-time");
	ck_assert_int_eq(raw_advisor_mode(), KSM_ADVISOR_SCAN_TIME);
	ck_assert_int_eq(raw_unsigned("pages_to_scan"), min);
	ck_assert_int_eq(guard_raw_write("pages_to_scan", "1234"), -EINVAL);
	snap_take(&before);

	/* pages_to_scan alone while the advisor stays: refused, nothing written */
	r = commit2(ctx, 0, &failed, KSM_KNOB_PAGES_TO_SCAN, 1234, -1, 0);
	ck_assert_msg(r == -EBUSY && failed == KSM_KNOB_PAGES_TO_SCAN, "commit = %d, failed %d", r, failed);
	ASSERT_SNAP(&before, NULL, "after the refused commit");

	/* advisor off and pages_to_scan in one transaction: mode first */
	r = commit2(ctx, 0, &failed, KSM_KNOB_PAGES_TO_SCAN, 1234, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE);
	ck_assert_msg(r == 0 && failed == -1, "commit = %d (%s), failed %d", r, strerror(-r), failed);
	ck_assert_int_eq(raw_advisor_mode(), KSM_ADVISOR_NONE);
	ck_assert_int_eq(raw_unsigned("pages_to_scan"), 1234);

	/* advisor off alone: the kernel resets pages_to_scan to 100; the transaction keeps the old value */
	raw_write_ok("advisor_mode", "scan-time");
	ck_assert_int_eq(raw_unsigned("pages_to_scan"), min);
	r = commit2(ctx, 0, &failed, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE, -1, 0);
	ck_assert_msg(r == 0 && failed == -1, "commit = %d (%s), failed %d", r, strerror(-r), failed);
	ck_assert_int_eq(raw_advisor_mode(), KSM_ADVISOR_NONE);
	ck_assert_int_eq(raw_unsigned("pages_to_scan"), min);
	ASSERT_SNAP(&before, skip_adv, "after switching the advisor off");

	/* advisor on with a new minimum: the minimum first, so pages_to_scan starts from it */
	r = commit2(ctx, 0, &failed, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME,
		    KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, min + 200);
	ck_assert_msg(r == 0 && failed == -1, "commit = %d (%s), failed %d", r, strerror(-r), failed);
	ck_assert_int_eq(raw_advisor_mode(), KSM_ADVISOR_SCAN_TIME);
	ck_assert_int_eq(raw_unsigned("advisor_min_pages_to_scan"), min + 200);
	ck_assert_int_eq(raw_unsigned("pages_to_scan"), min + 200);
	ASSERT_SNAP(&before, skip_on, "after switching the advisor on");
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 3. merge_across_nodes with merged pages                                   */

START_TEST(test_txn_unmerge)
{
	struct ksm_ctx *ctx = new_ctx();
	struct ksm_txn *txn = NULL;
	struct ksm_txn_step steps[8];
	struct area a;
	struct snap before;
	struct guard_counts base;
	char plan[256], expect[256];
	int failed = -2, r, n;
	int64_t man;
	static const char *const skip_man[] = { "merge_across_nodes", NULL };

	if (!raw_exists("merge_across_nodes")) {
		printf("    SKIP: no merge_across_nodes (kernel without NUMA)\n");
		ksm_unref(ctx);
		return;
	}
	/* 1000 identical pages merge into 4 KSM pages with max_page_sharing 256 */
	raw_write_ok("run", "2");
	raw_write_ok("max_page_sharing", "256");
	/* on top of what other processes merge again (the commit below unmerges them too) */
	guard_settle(&base);
	man = raw_unsigned("merge_across_nodes");
	area_map(&a, 1000, true);
	raw_write_ok("pages_to_scan", "10000");
	raw_write_ok("sleep_millisecs", "0");
	raw_write_ok("run", "1");
	ck_assert_msg(wait_counts(base.shared + 4, base.sharing + 996, 10.0, NULL),
		      "1000 pages not merged into 4/996 (+ %" PRId64 "/%" PRId64 " of other processes): %" PRId64
		      "/%" PRId64, base.shared, base.sharing, raw_unsigned("pages_shared"), raw_unsigned("pages_sharing"));
	/* ksmd keeps running, but slowly: after an unmerge nothing merges again within the test */
	raw_write_ok("pages_to_scan", "100");
	raw_write_ok("sleep_millisecs", "60000");
	snap_take(&before);

	ck_assert_int_eq(ksm_txn_new(ctx, &txn), 0);
	ck_assert_int_eq(ksm_txn_set(txn, KSM_KNOB_MERGE_ACROSS_NODES, 1 - man), 0);
	r = ksm_txn_commit(txn, 0, &failed);
	ck_assert_msg(r == -EBUSY && failed == KSM_KNOB_MERGE_ACROSS_NODES, "commit = %d (%s), failed %d", r,
		      strerror(-r), failed);
	ASSERT_SNAP(&before, NULL, "after -EBUSY");
	ck_assert_int_eq(raw_unsigned("pages_shared"), base.shared + 4);
	ck_assert_int_eq(raw_unsigned("pages_sharing"), base.sharing + 996);

	n = plan_text(txn, KSM_TXN_ALLOW_UNMERGE, steps, 8, plan, sizeof(plan));
	snprintf(expect, sizeof(expect), "run=2 merge_across_nodes=%d run=1", (int)(1 - man));
	ck_assert_msg(n == 3 && strcmp(plan, expect) == 0, "plan %d [%s], expected [%s]", n, plan, expect);
	r = ksm_txn_commit(txn, KSM_TXN_ALLOW_UNMERGE, &failed);
	ck_assert_msg(r == 0 && failed == -1, "commit = %d (%s), failed %d", r, strerror(-r), failed);
	ck_assert_int_eq(raw_unsigned("merge_across_nodes"), 1 - man);
	ck_assert_int_eq(raw_unsigned("run"), 1);
	ck_assert_int_eq(raw_unsigned("pages_shared"), 0);
	ck_assert_int_eq(raw_unsigned("pages_sharing"), 0);
	ASSERT_SNAP(&before, skip_man, "after the unmerging commit");
	ksm_txn_unref(txn);
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 4. ksmctl save / set / apply                                              */

/* Every "knob = value" line of @text matches the raw file. Returns the number of lines. */
static int check_profile(const char *text, bool *has_pages)
{
	char copy[4096], *save = NULL;
	int n = 0;

	*has_pages = false;
	snprintf(copy, sizeof(copy), "%s", text);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64], value[64], raw[128];

		if (line[0] == '#')
			continue;
		ck_assert_msg(sscanf(line, "%63s = %63s", name, value) == 2, "profile line '%s'", line);
		ck_assert_msg(strcmp(name, "run") != 0, "the profile names run");
		*has_pages |= strcmp(name, "pages_to_scan") == 0;
		raw_text(name, raw, sizeof(raw));
		if (strcmp(name, "advisor_mode") == 0)
			ck_assert_msg(strcmp(value, raw_advisor_mode() == KSM_ADVISOR_NONE ? "none" : "scan-time") == 0,
				      "profile advisor_mode %s, raw %s", value, raw);
		else
			ck_assert_msg(strtoll(raw, NULL, 10) == strtoll(value, NULL, 10) && raw[strspn(raw, "0123456789")] == '\n',
				      "profile %s = %s, raw '%s'", name, value, raw);
		n++;
	}
	return n;
}

static char *slurp(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	read_all(fd, buf, sizeof(buf));
	close(fd);
	return buf;
}

START_TEST(test_profile_roundtrip)
{
	char dir[] = "/tmp/libksm-boost-XXXXXX", file[64], out[4096];
	struct snap before;
	bool has_pages;
	int status, n;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/ksm.conf", dir);
	if (raw_unsigned("pages_shared") != 0)
		raw_write_ok("run", "2");
	if (raw_advisor_mode() != KSM_ADVISOR_NONE)
		raw_write_ok("advisor_mode", "none");
	snap_take(&before);

	status = ksmctl((const char *[]){ "save", file, NULL }, out, sizeof(out), NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ksmctl save: status %#x: %s", status, out);
	n = check_profile(slurp(file), &has_pages);
	ck_assert_msg(n == guard_count() - 1 && has_pages, "profile has %d settings (pages_to_scan %d), %d writable knobs",
		      n, has_pages, guard_count());

	status = ksmctl((const char *[]){ "set", "sleep_millisecs=7", "pages_to_scan=999", "max_page_sharing=300",
					  "use_zero_pages=1", "smart_scan=0", "advisor_max_cpu=33",
					  "stable_node_chains_prune_millisecs=1", NULL },
			out, sizeof(out), NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ksmctl set: status %#x: %s", status, out);
	ck_assert_int_eq(raw_unsigned("sleep_millisecs"), 7);
	ck_assert_int_eq(raw_unsigned("pages_to_scan"), 999);
	ck_assert_int_eq(raw_unsigned("max_page_sharing"), 300);
	ck_assert_int_eq(raw_unsigned("advisor_max_cpu"), 33);

	status = ksmctl((const char *[]){ "apply", file, NULL }, out, sizeof(out), NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ksmctl apply: status %#x: %s", status, out);
	ASSERT_SNAP(&before, NULL, "after ksmctl apply");

	/* saved while the advisor runs the show: no pages_to_scan in the profile */
	raw_write_ok("advisor_mode", "scan-time");
	snap_take(&before);
	status = ksmctl((const char *[]){ "save", file, NULL }, out, sizeof(out), NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ksmctl save: status %#x: %s", status, out);
	n = check_profile(slurp(file), &has_pages);
	ck_assert_msg(n == guard_count() - 2 && !has_pages, "scan-time profile has %d settings (pages_to_scan %d)", n,
		      has_pages);
	status = ksmctl((const char *[]){ "set", "advisor_mode=none", "pages_to_scan=1234", "sleep_millisecs=3", NULL },
			out, sizeof(out), NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ksmctl set: status %#x: %s", status, out);
	ck_assert_int_eq(raw_advisor_mode(), KSM_ADVISOR_NONE);
	ck_assert_int_eq(raw_unsigned("pages_to_scan"), 1234);
	status = ksmctl((const char *[]){ "apply", file, NULL }, out, sizeof(out), NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ksmctl apply: status %#x: %s", status, out);
	/* pages_to_scan included: switching to scan-time sets it to advisor_min_pages_to_scan, as saved */
	ASSERT_SNAP(&before, NULL, "after applying the scan-time profile");

	unlink(file);
	rmdir(dir);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 5. ksm_merge_range of 64 MiB                                               */

/* Processes with memory registered for merging. */
static int count_registered(const struct ksm_proc *p, void *data)
{
	if (p->stats.ksm_mergeable == 1 || p->stats.ksm_merge_any == 1)
		(*(int *)data)++;
	return 0;
}

static int64_t self_ksm_stat(const char *key)
{
	char *text = slurp("/proc/self/ksm_stat"), *p;
	size_t len = strlen(key);

	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, len) == 0 && (p[len] == ' ' || p[len] == ':'))
			return strtoll(p + len + 1, NULL, 10);
	ck_abort_msg("no %s in /proc/self/ksm_stat:\n%s", key, text);
	return -1;
}

START_TEST(test_merge_range_64m)
{
	struct ksm_ctx *ctx = new_ctx();
	struct area a;
	struct snap before;
	struct guard_counts base;
	uint64_t merged = 0;
	double t0, t;
	int r;

	/* clean counters; 16384 pages with max_page_sharing 256: 64 KSM pages */
	raw_write_ok("run", "2");
	raw_write_ok("run", "0"); /* a boost refuses to run from run=2 */
	raw_write_ok("max_page_sharing", "256");
	ck_assert_int_eq(raw_unsigned("pages_shared"), 0);
	ck_assert_int_eq(raw_unsigned("pages_sharing"), 0);
	/* other processes' pages merged again first (leaves run=0), so that only ours merge in the boost */
	guard_settle(&base);
	area_map(&a, 16384, false);
	ck_assert_int_eq(a.len, 64u << 20);
	snap_take(&before);

	t0 = now_s();
	r = ksm_merge_range(ctx, a.p, a.len, 20000, &merged);
	t = now_s() - t0;
	ck_assert_msg(r == 0, "ksm_merge_range(64 MiB) = %d (%s) after %.3f s", r, strerror(-r), t);
	printf("    ksm_merge_range(64 MiB): %.3f s, full_scans %" PRId64 ", merged %" PRIu64 " bytes\n", t,
	       raw_unsigned("full_scans"), merged);
	ck_assert_msg(merged == (uint64_t)64 << 20, "merged %" PRIu64 " bytes, expected %u", merged, 64u << 20);
	ck_assert_int_eq(raw_unsigned("pages_shared"), base.shared + 64);
	ck_assert_int_eq(raw_unsigned("pages_sharing"), base.sharing + 16320);
	ck_assert_int_eq(self_ksm_stat("ksm_merging_pages"), 16384);
	/* the boost is over: every knob exactly as before */
	ASSERT_SNAP(&before, NULL, "after ksm_merge_range");
	ASSERT_NO_RECORD("after ksm_merge_range");
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* The page frame a virtual address maps (root reads PFNs from pagemap). */
static uint64_t pfn_of(const void *addr)
{
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &entry, sizeof(entry), (off_t)((uintptr_t)addr / (uintptr_t)ps) * 8),
			 (ssize_t)sizeof(entry));
	close(fd);
	ck_assert_msg(entry & (UINT64_C(1) << 63), "page %p not present", addr);
	return entry & ((UINT64_C(1) << 55) - 1);
}

/*
 * A range inside a bigger mapping that already holds KSM pages: smaps counts
 * the whole mapping, so the range's own pages must still be waited for.
 */
START_TEST(test_merge_range_part)
{
	struct ksm_ctx *ctx = new_ctx();
	long ps = sysconf(_SC_PAGESIZE);
	struct area a;
	uint64_t merged = 0;
	int r;

	raw_write_ok("run", "2");
	raw_write_ok("run", "0"); /* a boost refuses to run from run=2 */
	/* One registered mapping, big enough that a full scan takes a while. */
	area_map(&a, 16384, true);
	/* Pages 100 and up made unique; the first 100 merge. */
	for (size_t i = 100; i < a.pages; i++)
		memcpy(a.p + i * (size_t)ps, &i, sizeof(i));
	r = ksm_merge_range(ctx, a.p, 100 * (size_t)ps, 20000, &merged);
	ck_assert_msg(r == 0, "ksm_merge_range(first half) = %d", r);
	ck_assert_uint_eq(pfn_of(a.p), pfn_of(a.p + 99 * (size_t)ps));

	/* Two fresh identical pages in the unmerged half, merged on their own. */
	memset(a.p + 150 * (size_t)ps, 0x5a, (size_t)ps);
	memset(a.p + 151 * (size_t)ps, 0x5a, (size_t)ps);
	ck_assert_uint_ne(pfn_of(a.p + 150 * (size_t)ps), pfn_of(a.p + 151 * (size_t)ps));
	r = ksm_merge_range(ctx, a.p + 150 * (size_t)ps, 2 * (size_t)ps, 20000, &merged);
	ck_assert_msg(r == 0, "ksm_merge_range(two pages) = %d", r);
	ck_assert_msg(pfn_of(a.p + 150 * (size_t)ps) == pfn_of(a.p + 151 * (size_t)ps),
		      "the two pages of the range were not merged when ksm_merge_range returned");
	ASSERT_NO_RECORD("after ksm_merge_range");
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 6. four processes boosting at once                                        */

#define NBOOSTERS 4

struct msg {
	int who;
	char what; /* B began, E about to end, S merge_now done, D ended */
	int ret;
};

static void send_msg(int fd, int who, char what, int ret)
{
	struct msg m;

	memset(&m, 0, sizeof(m)); /* no uninitialised padding through the pipe */
	m.who = who;
	m.what = what;
	m.ret = ret;
	if (write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
		_exit(3);
}

static void booster(int who, int go, int release, int report)
{
	struct ksm_ctx *ctx = NULL;
	struct ksm_boost *b = NULL;
	struct area a = { 0 };
	char c;
	int r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	srand((unsigned int)getpid() * 2654435761u);
	if (ksm_new_at(&ctx, "/") < 0)
		_exit(4);
	if (who % 2) {
		/* something to scan for ksm_merge_now */
		long ps = sysconf(_SC_PAGESIZE);
		a.len = 64 * (size_t)ps;
		a.p = mmap(NULL, a.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a.p == MAP_FAILED)
			_exit(5);
		memset(a.p, 0x5a + who, a.len);
		if (madvise(a.p, a.len, MADV_MERGEABLE) < 0)
			_exit(6);
	}
	if (read(go, &c, 1) != 1)
		_exit(7);
	r = ksm_boost_begin(ctx, &b);
	send_msg(report, who, 'B', r);
	if (r < 0)
		_exit(8);
	(void)!read(release, &c, 1); /* EOF also releases */
	sleep_ms(50 + rand() % 251);
	send_msg(report, who, 'E', 0);
	if (who % 2)
		send_msg(report, who, 'S', ksm_merge_now(ctx, 2, 10000));
	send_msg(report, who, 'D', ksm_boost_end(b));
	ksm_unref(ctx);
	_exit(0);
}

START_TEST(test_concurrent_boosts)
{
	int go[2], rel[2], rep[2], began = 0, ending = 0, done = 0, samples = 0, bad = 0, status;
	pid_t pids[NBOOSTERS];
	struct snap before;
	char why[256] = "", first_bad[256] = "";
	double t0;

	snap_take(&before);
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(rel, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(rep, O_CLOEXEC), 0);
	fflush(NULL);
	for (int i = 0; i < NBOOSTERS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			close(go[1]);
			close(rel[1]);
			close(rep[0]);
			booster(i, go[0], rel[0], rep[1]);
		}
	}
	close(go[0]);
	close(rel[0]);
	close(rep[1]);
	ck_assert_int_eq(write(go[1], "gggg", NBOOSTERS), NBOOSTERS);

	while (began < NBOOSTERS) {
		struct msg m;
		ck_assert_int_eq(read(rep[0], &m, sizeof(m)), (ssize_t)sizeof(m));
		ck_assert_msg(m.what == 'B' && m.ret == 0, "booster %d: '%c' %d (%s)", m.who, m.what, m.ret,
			      strerror(-m.ret));
		began++;
	}
	/* all four hold a boost */
	ASSERT_FAST("with four boosts");
	ck_assert_int_eq(record_holders(), NBOOSTERS);
	ck_assert_int_eq(write(rel[1], "rrrr", NBOOSTERS), NBOOSTERS);
	close(rel[1]);

	/* until the last one starts to end, the knobs stay fast */
	ck_assert_int_eq(fcntl(rep[0], F_SETFL, O_NONBLOCK), 0);
	t0 = now_s();
	while (done < NBOOSTERS) {
		bool fast = raw_is_fast(why, sizeof(why));
		struct msg m;

		while (read(rep[0], &m, sizeof(m)) == (ssize_t)sizeof(m)) {
			if (m.what == 'E')
				ending++;
			if (m.what == 'S')
				ck_assert_msg(m.ret == 0, "booster %d: ksm_merge_now = %d (%s)", m.who, m.ret,
					      strerror(-m.ret));
			if (m.what == 'D') {
				ck_assert_msg(m.ret == 0, "booster %d: ksm_boost_end = %d (%s)", m.who, m.ret,
					      strerror(-m.ret));
				done++;
			}
		}
		if (ending < NBOOSTERS) {
			samples++;
			if (!fast && !bad++)
				snprintf(first_bad, sizeof(first_bad), "%s", why);
		}
		ck_assert_msg(now_s() - t0 < 20, "boosters did not finish: %d ending, %d done", ending, done);
		sleep_ms(2);
	}
	for (int i = 0; i < NBOOSTERS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "booster %d status %#x", i, status);
	}
	close(go[1]);
	close(rep[0]);
	printf("    overlap: %d samples of the knobs while boosts were held, %d not fast\n", samples, bad);
	ck_assert_msg(bad == 0, "%d of %d samples during the overlap were not fast, first: %s", bad, samples, first_bad);
	ck_assert_int_gt(samples, 5);
	ASSERT_SNAP(&before, NULL, "after the last boost ended");
	ASSERT_NO_RECORD("after the last boost ended");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 7. boosters killed with SIGKILL                                           */

#define CRASHES 20

START_TEST(test_crash_recovery)
{
	struct ksm_ctx *ctx = new_ctx();
	struct snap before;
	volatile uint64_t *cycles;
	int mid = 0, restored = 0;
	char out[1024];

	snap_take(&before);
	cycles = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne((void *)cycles, MAP_FAILED);
	srand((unsigned int)time(NULL) ^ (unsigned int)getpid());

	for (int it = 0; it < CRASHES; it++) {
		bool in_boost;
		int status, ready[2];
		char c1;
		pid_t pid;

		ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
		fflush(NULL);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			struct ksm_ctx *c = NULL;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(ready[0]);
			if (ksm_new_at(&c, "/") < 0)
				_exit(4);
			srand((unsigned int)getpid());
			if (write(ready[1], "r", 1) != 1)
				_exit(7);
			for (;;) {
				struct ksm_boost *b = NULL;

				if (ksm_boost_begin(c, &b) < 0)
					_exit(5);
				usleep((useconds_t)(rand() % 2000));
				if (ksm_boost_end(b) < 0)
					_exit(6);
				cycles[0]++;
				usleep((useconds_t)(rand() % 1000));
			}
		}
		close(ready[1]);
		/* the random delay counts from the first boost, not from fork() */
		ck_assert_int_eq(read(ready[0], &c1, 1), 1);
		close(ready[0]);
		sleep_ms(rand() % 31);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "crash child status %#x", status);
		in_boost = record_exists();
		mid += in_boost;

		if (it % 2 == 0) {
			status = ksmctl((const char *[]){ "recover", NULL }, out, sizeof(out), NULL);
			ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ksmctl recover: status %#x: %s",
				      status, out);
			ck_assert_msg(strcmp(out, in_boost ? "restored the knobs saved by an interrupted boost\n"
							   : "nothing to recover\n") == 0,
				      "iteration %d (record %d): ksmctl recover said '%s'", it, in_boost, out);
			restored += in_boost;
		} else {
			struct ksm_boost *b = NULL;
			int r = ksm_boost_begin(ctx, &b);

			ck_assert_msg(r == 0, "iteration %d: ksm_boost_begin after a crash = %d (%s)", it, r, strerror(-r));
			ASSERT_FAST("boost after a crash");
			ck_assert_int_eq(record_holders(), 1);
			r = ksm_boost_end(b);
			ck_assert_msg(r == 0, "iteration %d: ksm_boost_end = %d (%s)", it, r, strerror(-r));
		}
		{
			char m[2048], when[64];
			int d = snap_diff(&before, NULL, m, sizeof(m));

			snprintf(when, sizeof(when), "iteration %d (killed %s)", it, in_boost ? "mid-boost" : "outside");
			ck_assert_msg(d == 0, "%s: %d knobs differ: %s", when, d, m);
			ASSERT_NO_RECORD(when);
		}
	}
	printf("    %d kills, %d landed mid-boost (record present; %d recovered by ksmctl recover, %d by the next boost), "
	       "%" PRIu64 " complete boost cycles\n",
	       CRASHES, mid, restored, mid - restored, cycles[0]);
	ck_assert_msg(mid > 0, "no kill landed mid-boost in %d tries", CRASHES);
	munmap((void *)cycles, 4096);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 8. ksmctl merge-now interrupted, and timed out                            */

START_TEST(test_merge_now_sigint)
{
	struct snap before;
	struct area a;
	char out[2048], why[256];
	int fd, status;
	pid_t pid;
	double t0;

	snap_take(&before);
	area_map(&a, 2048, true); /* something to scan, so that the wait goes on */
	fd = ksmctl((const char *[]){ "merge-now", "--scans", "100000", NULL }, out, sizeof(out), &pid);
	t0 = now_s();
	while (!(record_exists() && raw_is_fast(why, sizeof(why)))) {
		ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0, "ksmctl merge-now ended early: status %#x", status);
		ck_assert_msg(now_s() - t0 < 5, "no boost 5 s after ksmctl merge-now started: %s", why);
		sleep_ms(5);
	}
	sleep_ms(200);
	ASSERT_FAST("while ksmctl merge-now waits");
	ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0, "ksmctl merge-now ended before SIGINT: status %#x", status);
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	read_all(fd, out, sizeof(out));
	close(fd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT, "ksmctl merge-now after SIGINT: status %#x: %s",
		      status, out);
	ck_assert_msg(strstr(out, "interrupted; the knobs are restored"), "output: %s", out);
	ASSERT_SNAP(&before, NULL, "after SIGINT to ksmctl merge-now");
	ASSERT_NO_RECORD("after SIGINT to ksmctl merge-now");
	area_unmap(&a);
}
END_TEST

START_TEST(test_merge_now_timeout)
{
	struct ksm_ctx *ctx = new_ctx();
	struct snap before;
	struct area a;
	char out[2048];
	int status, registered = 0, r;
	double t0, t;

	snap_take(&before);
	/*
	 * Nothing registered anywhere: no scan can ever complete, so merge now
	 * gives up at once, timeout or not (-ENODATA, ksmctl's exit 5).
	 */
	ck_assert_int_ge(ksm_proc_foreach(ctx, count_registered, &registered), 0);
	if (registered == 0) {
		t0 = now_s();
		r = ksm_merge_now(ctx, 1, 5000);
		t = now_s() - t0;
		ck_assert_msg(r == -ENODATA, "ksm_merge_now(1, 5000) with nothing registered = %d (%s)", r,
			      strerror(-r));
		ck_assert_msg(t < 0.5, "-ENODATA after %.3f s", t);
		ASSERT_SNAP(&before, NULL, "after ksm_merge_now with nothing registered");
		ASSERT_NO_RECORD("after ksm_merge_now with nothing registered");

		t0 = now_s();
		status = ksmctl((const char *[]){ "merge-now", "--timeout", "5", NULL }, out, sizeof(out), NULL);
		t = now_s() - t0;
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 5,
			      "ksmctl merge-now with nothing registered: status %#x: %s", status, out);
		ck_assert_msg(t < 1.0, "ksmctl merge-now with nothing registered took %.3f s", t);
		printf("    nothing registered: -ENODATA after %.3f s, ksmctl merge-now exit 5\n", t);
		ASSERT_SNAP(&before, NULL, "after ksmctl merge-now with nothing registered");
		ASSERT_NO_RECORD("after ksmctl merge-now with nothing registered");
	} else {
		printf("    %d processes have memory registered: no -ENODATA check\n", registered);
	}

	/* Something registered, more scans than 0.5 s can give: timed out, 3. */
	area_map(&a, 2048, true);
	t0 = now_s();
	status = ksmctl((const char *[]){ "merge-now", "--scans", "100000", "--timeout", "0.5", NULL }, out,
			sizeof(out), NULL);
	t = now_s() - t0;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3, "ksmctl merge-now --timeout 0.5: status %#x: %s",
		      status, out);
	ck_assert_msg(strstr(out, "timed out") != NULL, "output: %s", out);
	ck_assert_msg(t >= 0.5 && t < 5, "timed out after %.3f s", t);
	printf("    merge-now --scans 100000 --timeout 0.5: exit 3 after %.3f s\n", t);
	ASSERT_SNAP(&before, NULL, "after ksmctl merge-now timed out");
	ASSERT_NO_RECORD("after ksmctl merge-now timed out");
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 9. changes made during a boost stay; KSM disabled by the administrator     */

/* Wait until ksmctl merge-now (@pid) holds its boost. */
static void wait_boosted(pid_t pid)
{
	char why[256];
	int status;
	double t0 = now_s();

	while (!(record_exists() && raw_is_fast(why, sizeof(why)))) {
		ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0, "ksmctl merge-now ended early: status %#x", status);
		ck_assert_msg(now_s() - t0 < 5, "no boost 5 s after ksmctl merge-now started: %s", why);
		sleep_ms(2);
	}
}

START_TEST(test_stop_during_boost)
{
	struct ksm_ctx *ctx = new_ctx();
	static const char *const skip_run[] = { "run", NULL };
	static const char *const skip_sleep[] = { "sleep_millisecs", NULL };
	struct ksm_boost *b = NULL;
	struct snap before;
	struct area a;
	char out[2048];
	int fd, status;
	pid_t pid;

	area_map(&a, 2048, true); /* something to scan, so that the wait goes on */
	if (raw_unsigned("run") == 2)
		raw_write_ok("run", "0");
	raw_write_ok("run", "1");
	snap_take(&before);

	/* ksmctl stop while ksmctl merge-now boosts: merge-now ends (exit 4), ksmd stays stopped */
	fd = ksmctl((const char *[]){ "merge-now", "--scans", "100000", NULL }, out, sizeof(out), &pid);
	wait_boosted(pid);
	status = ksmctl((const char *[]){ "stop", NULL }, out, sizeof(out), NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ksmctl stop: status %#x: %s", status, out);
	read_all(fd, out, sizeof(out));
	close(fd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 4, "ksmctl merge-now after ksmctl stop: status %#x: %s",
		      status, out);
	ck_assert_msg(raw_unsigned("run") == 0, "run=%" PRId64 " after the boost ended: ksmctl stop was undone",
		      raw_unsigned("run"));
	ASSERT_SNAP(&before, skip_run, "after the boost ended (run aside)");
	ASSERT_NO_RECORD("after ksmctl stop during a boost");

	/* ksmctl set during a boost: that knob keeps the new value, the others come back */
	raw_write_ok("run", "1");
	ck_assert_int_eq(ksm_boost_begin(ctx, &b), 0);
	ASSERT_FAST("during the boost");
	status = ksmctl((const char *[]){ "set", "sleep_millisecs=37", NULL }, out, sizeof(out), NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ksmctl set: status %#x: %s", status, out);
	ck_assert_int_eq(ksm_boost_end(b), 0);
	ck_assert_int_eq(raw_unsigned("sleep_millisecs"), 37);
	ASSERT_SNAP(&before, skip_sleep, "after the boost ended (sleep_millisecs aside)");
	ASSERT_NO_RECORD("after ksmctl set during a boost");
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

START_TEST(test_boost_disabled)
{
	struct ksm_ctx *ctx = new_ctx();
	static const char *const skip_pages[] = { "pages_to_scan", NULL };
	struct ksm_boost *b = NULL;
	struct snap before;
	struct area a, u;
	uint64_t merged = 1, mg = 1;
	char out[2048];
	int status, r;

	area_map(&a, 256, true);
	area_map(&u, 16, false);
	raw_write_ok("run", "2");
	snap_take(&before);

	r = ksm_merge_now(ctx, 1, 2000);
	ck_assert_msg(r == -ECANCELED, "ksm_merge_now at run=2 = %d (%s)", r, ksm_strerror(r));
	r = ksm_boost_begin(ctx, &b);
	ck_assert_msg(r == -ECANCELED && !b, "ksm_boost_begin at run=2 = %d (%s)", r, ksm_strerror(r));
	r = ksm_merge_range(ctx, u.p, u.len, 2000, &merged);
	ck_assert_msg(r == -ECANCELED && merged == 0, "ksm_merge_range at run=2 = %d (%s)", r, ksm_strerror(r));
	ck_assert_int_eq(ksm_mergeable_bytes(u.p, u.len, &mg), 0);
	ck_assert_msg(mg == 0, "the refused ksm_merge_range registered %" PRIu64 " bytes", mg);
	status = ksmctl((const char *[]){ "merge-now", NULL }, out, sizeof(out), NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1 && strstr(out, "run is 2"),
		      "ksmctl merge-now at run=2: status %#x: %s", status, out);
	ASSERT_SNAP(&before, NULL, "after boosts were refused at run=2");
	ASSERT_NO_RECORD("after boosts were refused at run=2");
	ck_assert_int_eq(raw_unsigned("pages_shared"), 0);

	/* from run=0 and run=1, with and without the advisor: every knob exactly as before */
	for (int i = 0; i < 4; i++) {
		bool advisor = i >= 2;
		char when[64];

		raw_write_ok("advisor_mode", advisor ? "scan-time" : "none");
		raw_write_ok("run", i % 2 ? "1" : "0");
		snap_take(&before);
		r = ksm_merge_now(ctx, 1, 10000);
		ck_assert_msg(r == 0, "ksm_merge_now from run=%d = %d (%s)", i % 2, r, ksm_strerror(r));
		snprintf(when, sizeof(when), "after a boost from run=%d%s", i % 2, advisor ? ", advisor on" : "");
		/*
		 * With the advisor on, pages_to_scan is the kernel's: the
		 * advisor sets it after each full scan, also after the restore
		 * switched it on again while ksmd ran.
		 */
		ASSERT_SNAP(&before, advisor ? skip_pages : NULL, when);
		ASSERT_NO_RECORD(when);
	}
	area_unmap(&a);
	area_unmap(&u);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 10. ksmctl merge-now killed with SIGKILL, from several initial states      */

#define CRASH_STATES 5
#define KILLS_PER_STATE 60
#define OTHER_PAGES 2048

/* A process of its own for state 4, which stands for the processes of others. */
static pid_t other_pid;

/* A field of /proc/<pid>/ksm_stat; -1 without it. */
static int64_t ksm_stat_of(pid_t pid, const char *key)
{
	char path[64], line[128];
	size_t klen = strlen(key);
	int64_t v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/ksm_stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			v = strtoll(line + klen + 1, NULL, 10);
	fclose(f);
	return v;
}

/*
 * Start a process with OTHER_PAGES mergeable pages (groups of 16 identical
 * pages of random content and 1/8 zero pages) and merge them: merged pages
 * that merge-now did not make and must leave as they are.
 */
static void other_start(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	size_t dup = OTHER_PAGES / 8 * 7, zero = OTHER_PAGES - dup;
	int fds[2];
	char c;
	double t0;

	ck_assert_int_eq(pipe(fds), 0);
	other_pid = fork();
	ck_assert_int_ge(other_pid, 0);
	if (other_pid == 0) {
		unsigned char *p = mmap(NULL, OTHER_PAGES * (size_t)ps, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int rnd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (p == MAP_FAILED || rnd < 0)
			_exit(1);
		(void)madvise(p, OTHER_PAGES * (size_t)ps, MADV_NOHUGEPAGE);
		for (size_t i = 0; i < dup; i += 16) {
			if (read(rnd, p + i * (size_t)ps, (size_t)ps) != ps)
				_exit(1);
			for (size_t j = 1; j < 16; j++)
				memcpy(p + (i + j) * (size_t)ps, p + i * (size_t)ps, (size_t)ps);
		}
		memset(p + dup * (size_t)ps, 0, zero * (size_t)ps);
		if (madvise(p, OTHER_PAGES * (size_t)ps, MADV_MERGEABLE) < 0 || write(fds[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	close(fds[0]);
	raw_write_ok("pages_to_scan", "5000");
	raw_write_ok("sleep_millisecs", "0");
	raw_write_ok("run", "1");
	/* zero pages count as merging pages, or as KSM zero pages with use_zero_pages=1 */
	for (t0 = now_s(); ksm_stat_of(other_pid, "ksm_merging_pages") + ksm_stat_of(other_pid, "ksm_zero_pages") <
			   (int64_t)OTHER_PAGES;)
		ck_assert_msg(now_s() - t0 < 30, "the other process's pages did not merge in 30 s: %" PRId64
			      " merging, %" PRId64 " zero", ksm_stat_of(other_pid, "ksm_merging_pages"),
			      ksm_stat_of(other_pid, "ksm_zero_pages"));
}

static void other_stop(void)
{
	if (other_pid > 0) {
		kill(other_pid, SIGKILL);
		waitpid(other_pid, NULL, 0);
	}
	other_pid = 0;
}

/* Put KSM in initial state @which (on top of the snapshot); its description. */
static const char *crash_state(int which)
{
	switch (which) {
	case 0:
		return "run=0, advisor off, other knobs as found";
	case 1:
		if (raw_unsigned("run") == 2)
			raw_write_ok("run", "0");
		raw_write_ok("advisor_mode", "none");
		raw_write_ok("pages_to_scan", "1234");
		raw_write_ok("sleep_millisecs", "7");
		raw_write_ok("run", "1");
		return "run=1 pages_to_scan=1234 sleep_millisecs=7";
	case 2:
		raw_write_ok("advisor_mode", "scan-time");
		raw_write_ok("run", "1");
		return "advisor scan-time, run=1";
	case 3:
		raw_write_ok("advisor_mode", "none");
		raw_write_ok("run", "2");
		raw_write_ok("use_zero_pages", "1");
		raw_write_ok("smart_scan", "0");
		return "run=2 use_zero_pages=1 smart_scan=0";
	default: {
		/* after state 3: use_zero_pages=1, smart_scan=0 */
		char pts[32], sleep[32];

		ck_assert_int_gt(guard_raw_read("pages_to_scan", pts, sizeof(pts)), 0);
		ck_assert_int_gt(guard_raw_read("sleep_millisecs", sleep, sizeof(sleep)), 0);
		pts[strcspn(pts, "\n")] = sleep[strcspn(sleep, "\n")] = '\0';
		raw_write_ok("run", "0");
		other_start();
		raw_write_ok("run", "0");
		raw_write_ok("pages_to_scan", pts);
		raw_write_ok("sleep_millisecs", sleep);
		return "run=0 with 2048 merged pages of another process";
	}
	}
}

START_TEST(test_crash_merge_now)
{
	static const char *const skip_pages[] = { "pages_to_scan", NULL };
	struct ksm_ctx *ctx = new_ctx();
	int total = 0, total_mid = 0;
	struct area a;
	char out[1024];

	area_map(&a, 512, true); /* something for merge-now to scan */
	srand((unsigned int)time(NULL) ^ (unsigned int)getpid());
	for (int st = 0; st < CRASH_STATES; st++) {
		const char *name = crash_state(st);
		bool advisor = raw_advisor_mode() != KSM_ADVISOR_NONE; /* pages_to_scan is the kernel's */
		bool disabled = raw_unsigned("run") == 2;
		int mid = 0, by_recover = 0, dead_before = 0;
		struct snap before;

		snap_take(&before);
		for (int it = 0; it < KILLS_PER_STATE; it++) {
			char scans[8], when[160];
			bool in_boost;
			int fd, status, d;
			pid_t pid;

			snprintf(scans, sizeof(scans), "%d", 1 + rand() % 3);
			fd = ksmctl((const char *[]){ "merge-now", "--scans", scans, "--timeout", "5", NULL }, out,
				    sizeof(out), &pid);
			/* from exec to past the end of a short merge-now */
			usleep((useconds_t)(rand() % 12000));
			ck_assert_int_eq(kill(pid, SIGKILL), 0);
			close(fd);
			ck_assert_int_eq(waitpid(pid, &status, 0), pid);
			dead_before += !WIFSIGNALED(status);
			in_boost = record_exists();
			mid += in_boost;
			if (it % 2 == 0) {
				status = ksmctl((const char *[]){ "recover", NULL }, out, sizeof(out), NULL);
				ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
					      "%s, kill %d: ksmctl recover: status %#x: %s", name, it, status, out);
				by_recover += in_boost;
			} else {
				struct ksm_boost *b = NULL;
				int r = ksm_boost_begin(ctx, &b);

				if (disabled) {
					ck_assert_msg(r == -ECANCELED, "%s, kill %d: ksm_boost_begin = %d (%s)", name,
						      it, r, ksm_strerror(r));
				} else {
					ck_assert_msg(r == 0, "%s, kill %d: ksm_boost_begin after a kill = %d (%s)",
						      name, it, r, ksm_strerror(r));
					ASSERT_FAST("boost after a kill");
					r = ksm_boost_end(b);
					ck_assert_msg(r == 0, "%s, kill %d: ksm_boost_end = %d (%s)", name, it, r,
						      ksm_strerror(r));
				}
			}
			snprintf(when, sizeof(when), "%s, kill %d (%s)", name, it,
				 in_boost ? "mid-boost" : "outside a boost");
			{
				char m[2048];

				d = snap_diff(&before, advisor ? skip_pages : NULL, m, sizeof(m));
				ck_assert_msg(d == 0, "%s: %d knobs differ: %s", when, d, m);
			}
			ASSERT_NO_RECORD(when);
		}
		printf("    %s: %d kills of ksmctl merge-now, %d mid-boost (%d recovered by ksmctl recover, "
		       "%d by the next boost), %d had already exited\n",
		       name, KILLS_PER_STATE, mid, by_recover, mid - by_recover, dead_before);
		total += KILLS_PER_STATE;
		total_mid += mid;
		other_stop();
		if (!disabled)
			ck_assert_msg(mid > 0, "%s: no kill landed mid-boost in %d tries", name, KILLS_PER_STATE);
	}
	printf("    %d kills in %d initial states, %d mid-boost, 0 failures\n", total, CRASH_STATES, total_mid);
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* fixtures and runner                                                       */

static int runner_failures;
static pid_t runner_pid;
/*
 * The current test child (MAP_SHARED). check makes it the leader of its own
 * process group, so that the runner can kill everything a test started
 * (boosters, ksmctl) in one go; as a child subreaper, the runner then reaps
 * the orphans. On SIGINT/SIGTERM, check's own handler kills that group and
 * sends the signal again to the runner's group, with our handler restored.
 */
static volatile pid_t *test_pid;
static struct sigaction guard_action[3];
static const int guarded_signals[3] = { SIGINT, SIGTERM, SIGHUP };

/* Kill and reap every process of the test; async-signal-safe. True if anything was reaped. */
static bool stop_test_processes(void)
{
	pid_t pid = test_pid ? *test_pid : 0;
	bool reaped = false;
	int status;

	if (pid <= 0 || pid == runner_pid)
		return false; /* CK_FORK=no: the tests run in the runner itself */
	kill(-pid, SIGKILL);
	for (;;) {
		pid_t r = waitpid(-1, &status, 0);
		if (r > 0)
			reaped = true;
		else if (errno != EINTR)
			break;
	}
	*test_pid = 0;
	return reaped;
}

/*
 * Does every holder of the record belong to a process that is gone? Only
 * open/read/kill, for the signal handler. False if a holder lives (a boost
 * of another program: its own ksm_boost_end() needs the record) or if the
 * record cannot be read.
 */
static bool record_holders_gone(void)
{
	static char buf[65536];
	size_t off = 0;
	ssize_t n;
	int fd = open(RECORD, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while (off + 1 < sizeof(buf) && (n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	close(fd);
	buf[off] = '\0';
	for (char *p = buf; (p = strstr(p, "\nholder ")) != NULL;) {
		long pid = 0;

		for (p += 8; *p >= '0' && *p <= '9'; p++)
			pid = pid * 10 + (*p - '0');
		if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			return false;
	}
	return true;
}

/*
 * SIGINT/SIGTERM/SIGHUP of the runner: stop the test's processes first, so
 * that none writes a knob after the guard restored them, drop the record
 * their boosts left, then let the guard restore and re-raise.
 */
static void on_signal(int sig)
{
	int saved_errno = errno;

	if (getpid() == runner_pid && stop_test_processes() && record_holders_gone()) {
		unlink(RECORD);
		unlink(RECORD ".tmp"); /* a booster killed while writing the record */
	}
	errno = saved_errno;
	for (int i = 0; i < 3; i++)
		if (guarded_signals[i] == sig && guard_action[i].sa_handler != SIG_DFL &&
		    guard_action[i].sa_handler != SIG_IGN)
			guard_action[i].sa_handler(sig);
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaddset(&sa.sa_mask, guarded_signals[i]);
	for (int i = 0; i < 3; i++)
		sigaction(guarded_signals[i], &sa, &guard_action[i]);
}

static void checked_setup(void)
{
	char msg[1024];

	if (getpid() != runner_pid && test_pid)
		*test_pid = getpid();
	guard_mark_child();
	if (guard_restore(msg, sizeof(msg)) != 0)
		ck_abort_msg("KSM state could not be restored before the test: %s", msg);
	guard_neutral();
	ck_assert_msg(!record_exists(), "%s exists before the test", RECORD);
}

static void checked_teardown(void)
{
	char msg[1024];
	int bad = guard_restore(msg, sizeof(msg));

	ck_assert_msg(bad == 0, "KSM state not restored after the test: %s", msg);
	ASSERT_NO_RECORD("after the test");
}

/* A leftover record: recover it (its holders are gone), then put the snapshot back. */
static bool clear_record(const char *when)
{
	struct ksm_ctx *ctx = NULL;
	int r = -ENOENT;

	if (!record_exists())
		return true;
	if (ksm_new_at(&ctx, "/") == 0) {
		for (int i = 0; i < 100 && record_exists(); i++) {
			r = ksm_boost_recover(ctx);
			if (record_exists())
				usleep(50000);
		}
		ksm_unref(ctx);
	}
	fprintf(stderr, "%s: %s was left behind; recovery: %d, still there: %d\n", when, RECORD, r, record_exists());
	return false;
}

static void runner_teardown(void)
{
	char msg[1024];

	stop_test_processes();
	if (!clear_record("after a test"))
		runner_failures++;
	if (guard_restore(msg, sizeof(msg)) != 0) {
		fprintf(stderr, "KSM state NOT restored after a test: %s\n", msg);
		runner_failures++;
	}
}

static void add(Suite *s, const char *name, const TTest *t, int loops)
{
	TCase *tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, NULL, runner_teardown);
	tcase_add_checked_fixture(tc, checked_setup, checked_teardown);
	tcase_add_loop_test(tc, t, 0, loops);
	suite_add_tcase(s, tc);
}

static Suite *boost_suite(void)
{
	Suite *s = suite_create("boost");

	add(s, "txn_fault", test_txn_fault, 2);
	add(s, "txn_advisor", test_txn_advisor, 1);
	add(s, "txn_unmerge", test_txn_unmerge, 1);
	add(s, "profile", test_profile_roundtrip, 1);
	add(s, "merge_range_64m", test_merge_range_64m, 1);
	add(s, "merge_range_part", test_merge_range_part, 1);
	add(s, "concurrent", test_concurrent_boosts, 1);
	add(s, "crash", test_crash_recovery, 1);
	add(s, "merge_now_sigint", test_merge_now_sigint, 1);
	add(s, "merge_now_timeout", test_merge_now_timeout, 1);
	add(s, "stop_during_boost", test_stop_during_boost, 1);
	add(s, "boost_disabled", test_boost_disabled, 1);
	add(s, "crash_merge_now", test_crash_merge_now, 1);
	return s;
}

static const char *missing_features(void)
{
	if (!raw_exists("advisor_mode") || !raw_exists("smart_scan") || access("/proc/self/ksm_stat", F_OK) < 0)
		return "these tests need a kernel with the KSM advisor, smart_scan and ksm_stat (6.8+)";
	return NULL;
}

/* The runner of guard_run(), with the boost record cleared before and after. */
static int boost_run(Suite *s)
{
	char msg[2048];
	int failed, r;

	/* other kernel test programs (other build directories) change the same global state */
	r = guard_lock(300);
	if (r < 0) {
		fprintf(stderr, "cannot lock %s: %s\n", GUARD_LOCK_FILE, strerror(-r));
		srunner_free(srunner_create(s)); /* frees @s */
		return EXIT_FAILURE;
	}
	/* the snapshot must not be a boosted state */
	if (!clear_record("before the tests") && record_exists()) {
		fprintf(stderr, "a live process holds a boost (%s); not testing\n", RECORD);
		srunner_free(srunner_create(s));
		return EXIT_FAILURE;
	}
	r = guard_save();
	if (r < 0) {
		fprintf(stderr, "cannot snapshot %s: %s\n", GUARD_KSM_DIR, strerror(-r));
		srunner_free(srunner_create(s));
		return EXIT_FAILURE;
	}
	guard_install();
	runner_pid = getpid();
	test_pid = mmap(NULL, sizeof(pid_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (test_pid == MAP_FAILED)
		test_pid = NULL;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	install_signals();
	failed = guard_run_suite(s);

	if (!clear_record("at the end"))
		failed++;
	if (guard_restore(msg, sizeof(msg)) != 0) {
		fprintf(stderr, "KSM state NOT restored at the end: %s\n", msg);
		failed++;
	}
	return failed || runner_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(void)
{
	return guard_main(missing_features, boost_suite, boost_run);
}

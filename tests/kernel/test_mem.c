// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The memory suite: libksm's calls on the memory of processes (madvise,
 * prctl), per-process statistics and waiting for ksmd, against the running
 * kernel.
 *
 * Needs root and KSM; exits 77 (skipped) otherwise. Every outcome is checked
 * against the kernel's own files, read and parsed here independently of the
 * library: the files of /sys/kernel/mm/ksm, /proc/PID/ksm_stat, the VmFlags "mg" of
 * /proc/self/smaps and the PFNs of /proc/self/pagemap (root sees PFNs). KSM
 * state is global to the machine; the guard (guard.c) snapshots every
 * writable knob and restores it around every test, at exit and on
 * SIGINT/SIGTERM/SIGHUP, exactly as in test_kernel.c.
 *
 * Processes under test: the test child itself, children forked from it, and
 * KSM_HELPER (ksm-helper.c) started through 'ksmctl exec' ($KSMCTL), which
 * fills pages without madvise and waits for its stdin to close.
 *
 * Expected numbers come from docs/kernel-ksm-abi.md and docs/ksm-behaviour.md
 * (measured on 6.18).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksm.h"
#include "guard.h"

#ifndef KSM_HELPER
#error "KSM_HELPER must name the built ksm-helper"
#endif

/* PR_GET_MEMORY_MERGE, spelled as a number: older headers lack it. */
#define PRCTL_GET_MEMORY_MERGE 68

/* pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst) */
#define PM_PFN_MASK ((UINT64_C(1) << 55) - 1)
#define PM_EXCLUSIVE (UINT64_C(1) << 56)
#define PM_PRESENT (UINT64_C(1) << 63)

#define NOBODY 65534

static long page_size;

/* ------------------------------------------------------------------------ */
/* raw sysfs access, independent of the library                             */

/* A counter of /proc/vmstat, -1 if this kernel has none of that name. */
static int64_t vmstat_num(const char *name)
{
	char line[256];
	int64_t v = -1;
	size_t len = strlen(name);
	FILE *f = fopen("/proc/vmstat", "re");

	ck_assert_msg(f != NULL, "/proc/vmstat: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, len) == 0 && line[len] == ' ') {
			v = strtoll(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* ------------------------------------------------------------------------ */
/* raw /proc/PID/ksm_stat                                                    */

struct raw_stat {
	int64_t rmap_items, zero_pages, merging_pages, process_profit;
	int merge_any, mergeable; /* 1 yes, 0 no */
	int lines;                /* how many of the six lines were found */
};

/* Read /proc/<pid>/ksm_stat (pid 0: self); 0 or -errno. The format is exactly the kernel's. */
static int raw_stat_read(int pid, struct raw_stat *s)
{
	char path[64], line[256], word[16];
	long long v;
	FILE *f;

	memset(s, 0, sizeof(*s));
	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/ksm_stat");
	else
		snprintf(path, sizeof(path), "/proc/%d/ksm_stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "ksm_rmap_items %lld", &v) == 1)
			s->rmap_items = v, s->lines++;
		else if (sscanf(line, "ksm_zero_pages %lld", &v) == 1)
			s->zero_pages = v, s->lines++;
		else if (sscanf(line, "ksm_merging_pages %lld", &v) == 1)
			s->merging_pages = v, s->lines++;
		else if (sscanf(line, "ksm_process_profit %lld", &v) == 1)
			s->process_profit = v, s->lines++;
		else if (sscanf(line, "ksm_merge_any: %15s", word) == 1)
			s->merge_any = strcmp(word, "yes") == 0, s->lines++;
		else if (sscanf(line, "ksm_mergeable: %15s", word) == 1)
			s->mergeable = strcmp(word, "yes") == 0, s->lines++;
	}
	fclose(f);
	return 0;
}

static struct raw_stat raw_stat(int pid)
{
	struct raw_stat s;
	int r = raw_stat_read(pid, &s);

	ck_assert_msg(r == 0, "reading /proc/%d/ksm_stat: %s", pid, strerror(-r));
	ck_assert_msg(s.lines == 6, "/proc/%d/ksm_stat has %d of the 6 lines", pid, s.lines);
	return s;
}

/* Every field of the library's figures equals the raw file. */
static void assert_stats_equal(const struct ksm_proc_stats *st, const struct raw_stat *s, const char *who)
{
	const uint64_t all = KSM_PROC_RMAP_ITEMS | KSM_PROC_ZERO_PAGES | KSM_PROC_MERGING_PAGES |
			     KSM_PROC_PROCESS_PROFIT | KSM_PROC_MERGE_ANY | KSM_PROC_MERGEABLE;
	int64_t saved = (s->merging_pages + s->zero_pages) * page_size;

	ck_assert_msg(st->present == all, "%s: present %#" PRIx64 ", expected %#" PRIx64, who, st->present, all);
	ck_assert_msg(st->ksm_rmap_items == s->rmap_items, "%s: ksm_rmap_items %" PRId64 ", raw %" PRId64,
		      who, st->ksm_rmap_items, s->rmap_items);
	ck_assert_msg(st->ksm_zero_pages == s->zero_pages, "%s: ksm_zero_pages %" PRId64 ", raw %" PRId64,
		      who, st->ksm_zero_pages, s->zero_pages);
	ck_assert_msg(st->ksm_merging_pages == s->merging_pages,
		      "%s: ksm_merging_pages %" PRId64 ", raw %" PRId64, who, st->ksm_merging_pages,
		      s->merging_pages);
	ck_assert_msg(st->ksm_process_profit == s->process_profit,
		      "%s: ksm_process_profit %" PRId64 ", raw %" PRId64, who, st->ksm_process_profit,
		      s->process_profit);
	ck_assert_msg(st->ksm_merge_any == s->merge_any, "%s: ksm_merge_any %" PRId64 ", raw %d", who,
		      st->ksm_merge_any, s->merge_any);
	ck_assert_msg(st->ksm_mergeable == s->mergeable, "%s: ksm_mergeable %" PRId64 ", raw %d", who,
		      st->ksm_mergeable, s->mergeable);
	/* derived: this kernel has ksm_process_profit, so that is the profit */
	ck_assert_msg(st->saved_bytes == saved, "%s: saved_bytes %" PRId64 ", raw figures give %" PRId64, who,
		      st->saved_bytes, saved);
	ck_assert_msg(st->profit_bytes == s->process_profit, "%s: profit_bytes %" PRId64 ", raw %" PRId64, who,
		      st->profit_bytes, s->process_profit);
}

/* ------------------------------------------------------------------------ */
/* raw /proc/self/smaps and /proc/self/pagemap                               */

/*
 * Bytes of [start, end) in VMAs whose VmFlags carry "mg"; with start 0 and
 * end UINTPTR_MAX, *vmas receives the number of such VMAs in the process.
 */
static uint64_t raw_mg_bytes(uintptr_t start, uintptr_t end, int *vmas)
{
	char line[1024];
	unsigned long a, b, vs = 0, ve = 0;
	uint64_t sum = 0;
	int n = 0;
	FILE *f = fopen("/proc/self/smaps", "re");

	ck_assert_msg(f != NULL, "/proc/self/smaps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *tok, *save = NULL;

		if (sscanf(line, "%lx-%lx ", &a, &b) == 2) {
			vs = a;
			ve = b;
			continue;
		}
		if (strncmp(line, "VmFlags:", 8) != 0)
			continue;
		for (tok = strtok_r(line + 8, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			if (strcmp(tok, "mg") != 0)
				continue;
			n++;
			if (ve > start && vs < end)
				sum += (ve < end ? ve : end) - (vs > start ? vs : start);
		}
	}
	fclose(f);
	if (vmas)
		*vmas = n;
	return sum;
}

/* The pagemap entries of @pages pages at @addr. */
static void pagemap_read(const void *addr, size_t pages, uint64_t *ent)
{
	off_t off = (off_t)((uintptr_t)addr / (uintptr_t)page_size * sizeof(uint64_t));
	size_t want = pages * sizeof(uint64_t), got = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "/proc/self/pagemap: %s", strerror(errno));
	while (got < want) {
		ssize_t n = pread(fd, (char *)ent + got, want - got, off + (off_t)got);

		ck_assert_msg(n > 0, "reading pagemap: %s", n < 0 ? strerror(errno) : "EOF");
		got += (size_t)n;
	}
	close(fd);
}

/* PFNs of @pages present pages at @addr (fails for a page that is not present). */
static void pfns_read(const void *addr, size_t pages, uint64_t *pfn)
{
	pagemap_read(addr, pages, pfn);
	for (size_t i = 0; i < pages; i++) {
		ck_assert_msg(pfn[i] & PM_PRESENT, "page %zu at %p is not present", i, addr);
		pfn[i] &= PM_PFN_MASK;
		ck_assert_msg(pfn[i] != 0, "PFN of page %zu reads 0: not root (CAP_SYS_ADMIN)?", i);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Number of distinct PFNs among @n, and (if not NULL) the largest number of pages on one. */
static size_t distinct_pfns(const uint64_t *pfn, size_t n, size_t *max_on_one)
{
	uint64_t *s = malloc(n * sizeof(*s));
	size_t d = 0, run = 0, max = 0;

	ck_assert(s != NULL);
	memcpy(s, pfn, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || s[i] != s[i - 1]) {
			d++;
			run = 0;
		}
		if (++run > max)
			max = run;
	}
	free(s);
	if (max_on_one)
		*max_on_one = max;
	return d;
}

/* ------------------------------------------------------------------------ */

static double cpu_s(void)
{
	struct rusage ru;

	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * ksmd as fast as it goes, raw (the guard restores every knob): advisor
 * off, pages_to_scan=10000, sleep_millisecs=0, and smart_scan=0 so that
 * pages merge within 2-4 full scans (ksm-behaviour.md §2.4).
 */
static void fast_scan(void)
{
	char buf[64];

	if (raw_exists("advisor_mode")) {
		raw_text("advisor_mode", buf, sizeof(buf));
		if (strcmp(buf, "[none] scan-time\n") != 0)
			raw_write_ok("advisor_mode", "none");
	}
	raw_write_ok("pages_to_scan", "10000");
	raw_write_ok("sleep_millisecs", "0");
	if (raw_exists("smart_scan"))
		raw_write_ok("smart_scan", "0");
}

/* What other processes have merged (guard_settle()), which the global counts add to. */
static struct guard_counts others;

/* run=2, fast knobs, the pages of other processes merged again into @others, run=1. */
static void clean_fast_start(void)
{
	reset_counters();
	fast_scan();
	guard_settle(&others);
	raw_write_ok("run", "1");
}

/* Poll /proc/<pid>/ksm_stat until ksm_merging_pages is @n; false after @timeout s. */
static bool wait_merging(int pid, int64_t n, double timeout)
{
	double t0 = now_s();

	for (;;) {
		if (raw_stat(pid).merging_pages == n)
			return true;
		if (now_s() - t0 > timeout)
			return false;
		sleep_ms(5);
	}
}

/* ------------------------------------------------------------------------ */
/* areas of identical pages                                                  */

struct area {
	unsigned char *p;
	size_t len, pages;
	unsigned char *model; /* malloc'd copy of what every page holds */
};

/*
 * @pages private anonymous pages, written with the same content, unique to
 * this run (no foreign page merges with ours); not registered. With
 * @unique, every page differs from every other.
 */
static void area_map(struct area *a, size_t pages, bool unique)
{
	struct timespec ts;
	uint64_t seed, *w;

	a->pages = pages;
	a->len = pages * (size_t)page_size;
	a->p = mmap(NULL, a->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(a->p != MAP_FAILED, "mmap %zu pages: %s", pages, strerror(errno));
	(void)madvise(a->p, a->len, MADV_NOHUGEPAGE);
	a->model = malloc((size_t)page_size);
	ck_assert(a->model != NULL);

	clock_gettime(CLOCK_REALTIME, &ts);
	seed = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ pages;
	w = (uint64_t *)a->model;
	for (size_t i = 0; i < (size_t)page_size / sizeof(*w); i++)
		w[i] = (seed + i) * UINT64_C(0x9E3779B97F4A7C15) | 1;
	for (size_t i = 0; i < pages; i++) {
		memcpy(a->p + i * (size_t)page_size, a->model, (size_t)page_size);
		if (unique)
			*(uint64_t *)(a->p + i * (size_t)page_size) ^= (uint64_t)i + 1;
	}
}

static void area_unmap(struct area *a)
{
	if (a->p && a->p != MAP_FAILED)
		munmap(a->p, a->len);
	a->p = NULL;
	free(a->model);
	a->model = NULL;
}

/* ksm_mark_mergeable() on the whole area; the kernel must show "mg" on all of it. */
static void area_register(struct area *a)
{
	uint64_t bytes = 0;
	int r = ksm_mark_mergeable(a->p, a->len);

	ck_assert_msg(r == 0, "ksm_mark_mergeable(%zu pages) = %d (%s)", a->pages, r, strerror(-r));
	ck_assert_msg(raw_mg_bytes((uintptr_t)a->p, (uintptr_t)a->p + a->len, NULL) == a->len,
		      "smaps: the registered area lacks mg");
	ck_assert_int_eq(ksm_mergeable_bytes(a->p, a->len, &bytes), 0);
	ck_assert_uint_eq(bytes, a->len);
}

/* Every page holds the model, except byte @off of page @page (if page >= 0) which holds @byte. */
static void area_check_data(const struct area *a, long page, size_t off, unsigned char byte)
{
	for (size_t i = 0; i < a->pages; i++) {
		const unsigned char *pg = a->p + i * (size_t)page_size;

		if ((long)i != page) {
			ck_assert_msg(memcmp(pg, a->model, (size_t)page_size) == 0, "page %zu lost its data", i);
			continue;
		}
		ck_assert_msg(pg[off] == byte, "page %zu byte %zu: %#x, wrote %#x", i, off, pg[off], byte);
		ck_assert_msg(memcmp(pg, a->model, off) == 0 &&
			      memcmp(pg + off + 1, a->model + off + 1, (size_t)page_size - off - 1) == 0,
			      "page %zu: bytes other than %zu changed", i, off);
	}
}

/*
 * Register @a (@pages identical pages), merge them with ksmd at full speed
 * and wait (10 s at most) until the raw counters show the kernel's counts,
 * globally (on top of what other processes merged: @others) and in
 * /proc/self/ksm_stat.
 */
static void area_merge(struct ksm_ctx *ctx, struct area *a)
{
	int64_t shared, sharing, merged;
	double t;
	int r;

	expected_counts((int64_t)a->pages, max_page_sharing(), &shared, &sharing, &merged);
	clean_fast_start();
	area_register(a);
	r = ksm_wait_scans(ctx, 2, 5000);
	ck_assert_msg(r == 0, "ksm_wait_scans(2, 5000) = %d (%s), full_scans %" PRId64, r, strerror(-r),
		      raw_num("full_scans"));
	if (!wait_counts(others.shared + shared, others.sharing + sharing, 10.0, &t))
		ck_abort_msg("%zu identical pages: pages_shared=%" PRId64 " pages_sharing=%" PRId64
			     " after %.1f s (full_scans %" PRId64 "), expected %" PRId64 "/%" PRId64
			     " + %" PRId64 "/%" PRId64 " of other processes",
			     a->pages, raw_num("pages_shared"), raw_num("pages_sharing"), t,
			     raw_num("full_scans"), shared, sharing, others.shared, others.sharing);
	ck_assert_msg(wait_merging(0, merged, 10.0), "%zu pages: own ksm_merging_pages %" PRId64 ", expected %" PRId64,
		      a->pages, raw_stat(0).merging_pages, merged);
	printf("    merged %zu pages into %" PRId64 "/%" PRId64 " (%" PRId64 " merging) in %.3f s, full_scans %" PRId64
	       "\n", a->pages, shared, sharing, merged, t, raw_num("full_scans"));
	fflush(stdout);
}

/* ------------------------------------------------------------------------ */
/* the helper process, under 'ksmctl exec'                                   */

struct helper {
	pid_t pid;  /* ksmctl, which becomes the helper by exec */
	int in;     /* its stdin */
	int out;    /* its stdout */
	int merge_any;
};

static const char *ksmctl_path(void)
{
	const char *p = getenv("KSMCTL");

	ck_assert_msg(p && *p, "KSMCTL (path of the built ksmctl) is not set");
	return p;
}

/* One line of the helper's output, without "\n"; fails after @timeout_ms. */
static void helper_line(struct helper *h, char *buf, size_t size, int timeout_ms)
{
	double t0 = now_s();
	size_t n = 0;

	for (;;) {
		struct pollfd pfd = { .fd = h->out, .events = POLLIN };
		int left = timeout_ms - (int)((now_s() - t0) * 1000);
		ssize_t r;
		char c;

		ck_assert_msg(left > 0, "helper: no complete line within %d ms (have '%.*s')", timeout_ms, (int)n, buf);
		if (poll(&pfd, 1, left) <= 0)
			continue;
		r = read(h->out, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		ck_assert_msg(r == 1, "helper: output ended (have '%.*s')", (int)n, buf);
		if (c == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = c;
	}
	buf[n] = '\0';
}

/*
 * Start "ksmctl exec -- ksm-helper PAGES PATTERN [fork]" and read its
 * "merge_any=" and "ready PID" lines. ksmctl execs the helper in place, so
 * the pid we forked is the helper's.
 */
static void helper_start(struct helper *h, size_t pages, bool fork_mode)
{
	char arg_pages[32], arg_pattern[32], line[128];
	int pin[2], pout[2], ready_pid = -1;
	const char *ksmctl = ksmctl_path();

	snprintf(arg_pages, sizeof(arg_pages), "%zu", pages);
	snprintf(arg_pattern, sizeof(arg_pattern), "%lu",
		 ((unsigned long)getpid() << 20) ^ (unsigned long)time(NULL) ^ (unsigned long)pages);
	ck_assert_int_eq(pipe2(pin, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(pout, O_CLOEXEC), 0);
	fflush(NULL);
	h->pid = fork();
	ck_assert_int_ge(h->pid, 0);
	if (h->pid == 0) {
		char *argv[] = { (char *)ksmctl, "exec", "--", KSM_HELPER, arg_pages, arg_pattern,
				 fork_mode ? "fork" : NULL, NULL };

		dup2(pin[0], 0);
		dup2(pout[1], 1);
		execv(ksmctl, argv);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	h->in = pin[1];
	h->out = pout[0];

	helper_line(h, line, sizeof(line), 5000);
	ck_assert_msg(sscanf(line, "merge_any=%d", &h->merge_any) == 1, "helper said '%s', not merge_any=", line);
	helper_line(h, line, sizeof(line), 5000);
	ck_assert_msg(sscanf(line, "ready %d", &ready_pid) == 1, "helper said '%s', not ready", line);
	ck_assert_msg(ready_pid == h->pid, "helper is pid %d, ksmctl was %d (no exec in place?)", ready_pid,
		      (int)h->pid);
}

/* Close its stdin and reap it; it must exit 0. */
static void helper_stop(struct helper *h)
{
	double t0 = now_s();
	pid_t pid = h->pid, r;
	int status = 0;

	if (pid <= 0)
		return;
	h->pid = 0;
	close(h->in);
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && now_s() - t0 < 5)
		sleep_ms(5);
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	close(h->out);
	ck_assert_msg(r == pid, "helper did not exit within 5 s after its stdin closed");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "helper ended with status %#x", status);
}

/*
 * Run @argv (argv[0] a path) with stdout captured into @out (may be NULL);
 * stderr passes through. Returns the exit status (128 + signal if killed).
 */
static int run_capture(char *const argv[], char *out, size_t size, double *elapsed)
{
	double t0 = now_s();
	size_t off = 0;
	int pfd[2], status;
	char sink[4096];
	pid_t pid;

	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		char *dst = out && off + 1 < size ? out + off : sink;
		size_t room = out && off + 1 < size ? size - 1 - off : sizeof(sink);
		ssize_t n = read(pfd[0], dst, room);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst != sink)
			off += (size_t)n;
	}
	if (out)
		out[off] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	if (elapsed)
		*elapsed = now_s() - t0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ------------------------------------------------------------------------ */
/* forked children                                                           */

/*
 * A forked child runs a function and sends its int result and a message
 * through a pipe: exit statuses are not reliable under valgrind (a child's
 * leak check at _exit() can replace them).
 */
struct child {
	pid_t pid;
	int fd;
};

typedef int (*child_fn)(void *arg, char *msg, size_t size);

static void child_start(struct child *c, child_fn fn, void *arg)
{
	int pfd[2];

	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	fflush(NULL);
	c->pid = fork();
	ck_assert_int_ge(c->pid, 0);
	if (c->pid == 0) {
		char buf[sizeof(int) + 512] = "";
		int rc;

		close(pfd[0]);
		rc = fn(arg, buf + sizeof(int), sizeof(buf) - sizeof(int));
		memcpy(buf, &rc, sizeof(int));
		if (write(pfd[1], buf, sizeof(int) + strlen(buf + sizeof(int))) < 0)
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	c->fd = pfd[0];
}

/* Reap the child; its result (the child must have sent one), its message in @msg. */
static int child_finish(struct child *c, char *msg, size_t size)
{
	char buf[sizeof(int) + 512];
	size_t off = 0;
	int rc, status;
	ssize_t n;

	while (off < sizeof(buf) - 1 && (n = read(c->fd, buf + off, sizeof(buf) - 1 - off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		off += (size_t)n;
	}
	close(c->fd);
	while (waitpid(c->pid, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	ck_assert_msg(off >= sizeof(int), "forked child sent no result (status %#x)", status);
	memcpy(&rc, buf, sizeof(int));
	buf[off] = '\0';
	snprintf(msg, size, "%s", buf + sizeof(int));
	return rc;
}

static int run_child(child_fn fn, void *arg, char *msg, size_t size)
{
	struct child c;

	child_start(&c, fn, arg);
	return child_finish(&c, msg, size);
}

/* ------------------------------------------------------------------------ */
/* 1. merge counts                                                           */

static void check_merge_counts(size_t n, int64_t doc_shared, int64_t doc_sharing, int64_t doc_merging)
{
	struct ksm_ctx *ctx = new_ctx();
	struct ksm_proc_stats st;
	struct area a = { 0 };
	int64_t m = max_page_sharing(), shared, sharing, merged;
	uint64_t *pfn;
	size_t distinct, most;
	struct raw_stat rs;

	expected_counts((int64_t)n, m, &shared, &sharing, &merged);
	if (m == 256) {
		/* the table of ksm-behaviour.md §2.1 */
		ck_assert_int_eq(shared, doc_shared);
		ck_assert_int_eq(sharing, doc_sharing);
		ck_assert_int_eq(merged, doc_merging);
	}
	area_map(&a, n, false);
	area_merge(ctx, &a);
	raw_write_ok("run", "0"); /* freeze the counters */

	ck_assert_int_eq(raw_num("pages_shared"), others.shared + shared);
	ck_assert_int_eq(raw_num("pages_sharing"), others.sharing + sharing);
	rs = raw_stat(0);
	ck_assert_int_eq(rs.merging_pages, merged);
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 0, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.ksm_merging_pages, merged);
	assert_stats_equal(&st, &rs, "self");

	/* the page tables: one PFN per KSM page, plus the pages left unmerged */
	pfn = malloc(n * sizeof(*pfn));
	ck_assert(pfn != NULL);
	pfns_read(a.p, n, pfn);
	distinct = distinct_pfns(pfn, n, &most);
	ck_assert_msg(distinct == (size_t)(shared + ((int64_t)n - merged)),
		      "%zu pages map %zu distinct PFNs, expected %" PRId64, n, distinct,
		      shared + ((int64_t)n - merged));
	ck_assert_msg((int64_t)most <= m, "%zu pages map one PFN, max_page_sharing is %" PRId64, most, m);
	free(pfn);
	area_check_data(&a, -1, 0, 0);
	area_unmap(&a);
	ksm_unref(ctx);
}

START_TEST(test_merge_2)
{
	check_merge_counts(2, 1, 1, 2);
}
END_TEST

START_TEST(test_merge_10)
{
	check_merge_counts(10, 1, 9, 10);
}
END_TEST

START_TEST(test_merge_257)
{
	check_merge_counts(257, 1, 255, 256);
}
END_TEST

START_TEST(test_merge_258)
{
	check_merge_counts(258, 2, 256, 258);
}
END_TEST

START_TEST(test_merge_1000)
{
	check_merge_counts(1000, 4, 996, 1000);
}
END_TEST

START_TEST(test_unique_pages)
{
	struct ksm_ctx *ctx = new_ctx();
	struct area a = { 0 };
	uint64_t pfn[100];
	int64_t scans;
	int r;

	area_map(&a, 100, true);
	clean_fast_start();
	area_register(&a);
	r = ksm_wait_scans(ctx, 5, 5000);
	ck_assert_msg(r == 0, "ksm_wait_scans(5, 5000) = %d (%s)", r, strerror(-r));
	raw_write_ok("run", "0");
	scans = raw_num("full_scans");
	ck_assert_msg(scans >= 5, "full_scans %" PRId64 " after waiting for 5", scans);
	ck_assert_int_eq(raw_num("pages_shared"), others.shared);
	ck_assert_int_eq(raw_num("pages_sharing"), others.sharing);
	ck_assert_int_eq(raw_stat(0).merging_pages, 0);
	ck_assert_int_eq(raw_stat(0).rmap_items, 100); /* every page was scanned */
	pfns_read(a.p, a.pages, pfn);
	ck_assert_uint_eq(distinct_pfns(pfn, a.pages, NULL), a.pages);
	printf("    100 unique pages: 0/0 after %" PRId64 " full scans, pages_unshared %" PRId64 "\n", scans,
	       raw_num("pages_unshared"));
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 2. copy on write                                                          */

START_TEST(test_cow)
{
	struct ksm_ctx *ctx = new_ctx();
	struct area a = { 0 };
	uint64_t pfn[10], ent[10], shared_pfn;
	int64_t cow0, cow1;
	const size_t victim = 3, off = 17;
	unsigned char byte;

	area_map(&a, 10, false);
	area_merge(ctx, &a);
	raw_write_ok("run", "0"); /* ksmd must not touch the pages now */
	pfns_read(a.p, 10, pfn);
	ck_assert_uint_eq(distinct_pfns(pfn, 10, NULL), 1);
	shared_pfn = pfn[0];
	pagemap_read(a.p, 10, ent);
	for (size_t i = 0; i < 10; i++)
		ck_assert_msg(!(ent[i] & PM_EXCLUSIVE), "merged page %zu is mapped exclusively", i);

	cow0 = vmstat_num("cow_ksm");
	byte = (unsigned char)(a.model[off] ^ 0x5a);
	*(volatile unsigned char *)(a.p + victim * (size_t)page_size + off) = byte;
	cow1 = vmstat_num("cow_ksm");

	pfns_read(a.p, 10, pfn);
	pagemap_read(a.p, 10, ent);
	for (size_t i = 0; i < 10; i++) {
		if (i == victim) {
			ck_assert_msg(pfn[i] != shared_pfn, "written page %zu still maps the KSM page", i);
			ck_assert_msg(ent[i] & PM_EXCLUSIVE, "written page %zu is not exclusive", i);
		} else {
			ck_assert_msg(pfn[i] == shared_pfn, "page %zu left the KSM page: %#" PRIx64 " != %#" PRIx64,
				      i, pfn[i], shared_pfn);
		}
	}
	if (cow0 >= 0)
		ck_assert_msg(cow1 >= cow0 + 1, "vmstat cow_ksm %" PRId64 " -> %" PRId64, cow0, cow1);
	area_check_data(&a, (long)victim, off, byte);
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 3. unmerge a range                                                        */

START_TEST(test_unmerge)
{
	struct ksm_ctx *ctx = new_ctx();
	struct area a = { 0 };
	uint64_t pfn[10], ent[10], bytes = 1;
	int r;

	area_map(&a, 10, false);
	area_merge(ctx, &a);
	pfns_read(a.p, 10, pfn);
	ck_assert_uint_eq(distinct_pfns(pfn, 10, NULL), 1);

	/* ksmd keeps running: nothing may merge again once the range is unregistered */
	r = ksm_mark_unmergeable(a.p, a.len);
	ck_assert_msg(r == 0, "ksm_mark_unmergeable = %d (%s)", r, strerror(-r));
	pfns_read(a.p, 10, pfn);
	ck_assert_msg(distinct_pfns(pfn, 10, NULL) == 10, "after unmerging, 10 pages map %zu PFNs",
		      distinct_pfns(pfn, 10, NULL));
	pagemap_read(a.p, 10, ent);
	for (size_t i = 0; i < 10; i++)
		ck_assert_msg(ent[i] & PM_EXCLUSIVE, "page %zu is not exclusive after unmerging", i);
	ck_assert_uint_eq(raw_mg_bytes((uintptr_t)a.p, (uintptr_t)a.p + a.len, NULL), 0);
	ck_assert_int_eq(ksm_mergeable_bytes(a.p, a.len, &bytes), 0);
	ck_assert_uint_eq(bytes, 0);
	area_check_data(&a, -1, 0, 0);

	sleep_ms(100);
	pfns_read(a.p, 10, pfn);
	ck_assert_uint_eq(distinct_pfns(pfn, 10, NULL), 10);
	ck_assert_int_eq(raw_stat(0).mergeable, 0);
	area_check_data(&a, -1, 0, 0);
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 4. use_zero_pages                                                         */

START_TEST(test_zero_pages)
{
	struct ksm_ctx *ctx = new_ctx();
	struct ksm_proc_stats st;
	struct ksm_stats gs;
	struct area a = { 0 };
	struct raw_stat rs;
	uint64_t pfn[10];
	double t0 = now_s();
	int r;

	if (!raw_exists("use_zero_pages") || !raw_exists("ksm_zero_pages")) {
		printf("    SKIP: no use_zero_pages/ksm_zero_pages on this kernel\n");
		return;
	}
	area_map(&a, 10, false);
	memset(a.p, 0, a.len); /* written zeros: every page is a real anonymous page */
	memset(a.model, 0, (size_t)page_size);
	reset_counters();
	fast_scan();
	raw_write_ok("use_zero_pages", "1");
	guard_settle(&others); /* other processes' zero pages count too */
	raw_write_ok("run", "1");
	area_register(&a);
	r = ksm_wait_scans(ctx, 2, 5000);
	ck_assert_msg(r == 0, "ksm_wait_scans(2, 5000) = %d", r);
	while (raw_num("ksm_zero_pages") != others.zero + 10 && now_s() - t0 < 10)
		sleep_ms(5);
	raw_write_ok("run", "0");

	ck_assert_int_eq(raw_num("ksm_zero_pages"), others.zero + 10);
	ck_assert_int_eq(raw_num("pages_shared"), others.shared);
	ck_assert_int_eq(raw_num("pages_sharing"), others.sharing);
	rs = raw_stat(0);
	ck_assert_int_eq(rs.zero_pages, 10);
	ck_assert_int_eq(rs.merging_pages, 0);
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 0, &st, sizeof(st)), 0);
	assert_stats_equal(&st, &rs, "self");
	ck_assert_int_eq(ksm_stats_read(ctx, &gs, sizeof(gs)), 0);
	ck_assert_int_eq(gs.ksm_zero_pages, others.zero + 10);
	ck_assert_int_eq(gs.pages_sharing, others.sharing);
	ck_assert_int_eq(gs.saved_pages, others.sharing + others.zero + 10);
	/* all ten map the one kernel zero page */
	pfns_read(a.p, 10, pfn);
	ck_assert_uint_eq(distinct_pfns(pfn, 10, NULL), 1);
	area_check_data(&a, -1, 0, 0);
	printf("    10 zero pages -> ksm_zero_pages 10 in %.3f s\n", now_s() - t0);
	area_unmap(&a);
	ck_assert_int_eq(raw_num("ksm_zero_pages"), others.zero); /* munmap drops ours at once */
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 5. process-wide merging (prctl)                                           */

/* 10 * raw PR_GET_MEMORY_MERGE + the library's answer */
static int child_get_merge(void *arg, char *msg, size_t size)
{
	(void)arg;
	(void)msg;
	(void)size;
	return prctl(PRCTL_GET_MEMORY_MERGE, 0, 0, 0, 0) * 10 + ksm_get_process_merge();
}

START_TEST(test_prctl_self)
{
	void *p, *s;
	int vmas, rc;
	struct raw_stat rs;
	char msg[512];

	ck_assert_int_eq(ksm_get_process_merge(), 0);
	ck_assert_int_eq(prctl(PRCTL_GET_MEMORY_MERGE, 0, 0, 0, 0), 0);

	ck_assert_int_eq(ksm_set_process_merge(1), 0);
	ck_assert_int_eq(ksm_get_process_merge(), 1);
	ck_assert_int_eq(prctl(PRCTL_GET_MEMORY_MERGE, 0, 0, 0, 0), 1);
	rs = raw_stat(0);
	ck_assert_int_eq(rs.merge_any, 1);
	ck_assert_int_eq(rs.mergeable, 1);

	/* new private anonymous memory is registered without madvise; shared is not */
	p = mmap(NULL, 4 * (size_t)page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	s = mmap(NULL, 4 * (size_t)page_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(p != MAP_FAILED && s != MAP_FAILED);
	ck_assert_uint_eq(raw_mg_bytes((uintptr_t)p, (uintptr_t)p + 4 * (size_t)page_size, NULL),
			  4 * (size_t)page_size);
	ck_assert_uint_eq(raw_mg_bytes((uintptr_t)s, (uintptr_t)s + 4 * (size_t)page_size, NULL), 0);

	/* inherited across fork */
	rc = run_child(child_get_merge, NULL, msg, sizeof(msg));
	ck_assert_msg(rc == 11, "forked child: raw PR_GET %d, library %d, expected 1 and 1", rc / 10, rc % 10);

	ck_assert_int_eq(ksm_set_process_merge(0), 0);
	ck_assert_int_eq(ksm_get_process_merge(), 0);
	ck_assert_int_eq(prctl(PRCTL_GET_MEMORY_MERGE, 0, 0, 0, 0), 0);
	raw_mg_bytes(0, UINTPTR_MAX, &vmas);
	ck_assert_msg(vmas == 0, "%d VMAs keep mg after disabling", vmas);
	rs = raw_stat(0);
	ck_assert_int_eq(rs.merge_any, 0);
	ck_assert_int_eq(rs.mergeable, 0);
	munmap(p, 4 * (size_t)page_size);
	munmap(s, 4 * (size_t)page_size);
}
END_TEST

struct find_pid {
	int pid;
	int found;
	struct ksm_proc proc;
};

static int find_pid_cb(const struct ksm_proc *proc, void *data)
{
	struct find_pid *f = data;

	if (proc->pid == f->pid) {
		f->found++;
		f->proc = *proc;
	}
	return 0;
}

/*
 * The object of `ksmctl ps --json` output @json for @pid: the value of
 * "ksm_merging_pages" (-1 if missing) and whether "ksm_merge_any" is true.
 */
static int64_t ps_json_merging(const char *json, int pid, int *merge_any, char *comm, size_t comm_size)
{
	char key[48];
	const char *o, *end, *v;

	snprintf(key, sizeof(key), "{\"pid\": %d,", pid);
	o = strstr(json, key);
	if (!o)
		return -2;
	end = strchr(o, '}');
	ck_assert(end != NULL);
	*merge_any = -1;
	v = strstr(o, "\"ksm_merge_any\": ");
	if (v && v < end)
		*merge_any = strncmp(v + 17, "true", 4) == 0;
	v = strstr(o, "\"comm\": \"");
	if (v && v < end)
		snprintf(comm, comm_size, "%.*s", (int)strcspn(v + 9, "\""), v + 9);
	v = strstr(o, "\"ksm_merging_pages\": ");
	if (!v || v > end)
		return -1;
	return strtoll(v + 21, NULL, 10);
}

/* Count the processes (not @except) with memory registered: merge_any or a mergeable VMA. */
static int count_registered_cb(const struct ksm_proc *proc, void *data)
{
	int *n = data;

	if (proc->stats.ksm_merge_any || proc->stats.ksm_mergeable) {
		printf("    registered: pid %d (%s)\n", proc->pid, proc->comm);
		(*n)++;
	}
	return 0;
}

static int registered_processes(struct ksm_ctx *ctx)
{
	int n = 0, r = ksm_proc_foreach(ctx, count_registered_cb, &n);

	ck_assert_msg(r >= 0, "ksm_proc_foreach = %d (%s)", r, strerror(-r));
	return n;
}

START_TEST(test_prctl_exec)
{
	const size_t n = 100;
	struct ksm_ctx *ctx = new_ctx();
	struct helper h = { 0 };
	struct find_pid f = { 0 };
	int64_t shared, sharing, merged, ps_merging;
	char json[16384], line[128], comm[32] = "";
	char pidarg[16];
	int ps_merge_any, rc, r;
	double t;

	expected_counts((int64_t)n, max_page_sharing(), &shared, &sharing, &merged);
	reset_counters();
	fast_scan();
	guard_settle(&others);
	helper_start(&h, n, true);
	/* the prctl survived exec: PR_GET in the new program and its ksm_stat */
	ck_assert_msg(h.merge_any == 1, "helper under 'ksmctl exec' has merge_any=%d", h.merge_any);
	ck_assert_int_eq(raw_stat(h.pid).merge_any, 1);
	ck_assert_int_eq(raw_stat(h.pid).mergeable, 1);

	raw_write_ok("run", "1");
	r = ksm_wait_scans(ctx, 2, 5000);
	ck_assert_msg(r == 0, "ksm_wait_scans(2, 5000) = %d", r);
	/* its pages merge without any madvise */
	ck_assert_msg(wait_counts(others.shared + shared, others.sharing + sharing, 10.0, &t),
		      "helper's %zu pages: pages_shared %" PRId64 " pages_sharing %" PRId64 ", expected %" PRId64
		      "/%" PRId64 " + %" PRId64 "/%" PRId64 " of other processes", n, raw_num("pages_shared"),
		      raw_num("pages_sharing"), shared, sharing, others.shared, others.sharing);
	ck_assert_msg(wait_merging(h.pid, merged, 10.0), "helper ksm_merging_pages %" PRId64 ", expected %" PRId64,
		      raw_stat(h.pid).merging_pages, merged);
	raw_write_ok("run", "0"); /* freeze */

	/* the library's walk finds it */
	f.pid = h.pid;
	r = ksm_proc_foreach(ctx, find_pid_cb, &f);
	ck_assert_msg(r >= 1, "ksm_proc_foreach = %d", r);
	ck_assert_msg(f.found == 1, "ksm_proc_foreach reported pid %d %d times", h.pid, f.found);
	ck_assert_str_eq(f.proc.comm, "ksm-helper");
	ck_assert_int_eq(f.proc.stats.ksm_merging_pages, merged);
	ck_assert_int_eq(f.proc.stats.ksm_merging_pages, raw_stat(h.pid).merging_pages);
	ck_assert_int_eq(f.proc.stats.ksm_merge_any, 1);

	/* and so does ksmctl ps --json, in full and for the one pid */
	rc = run_capture((char *const[]){ (char *)ksmctl_path(), "ps", "--json", NULL }, json, sizeof(json), NULL);
	ck_assert_msg(rc == 0, "ksmctl ps --json exited %d", rc);
	ps_merging = ps_json_merging(json, h.pid, &ps_merge_any, comm, sizeof(comm));
	ck_assert_msg(ps_merging == merged, "ksmctl ps --json: pid %d ksm_merging_pages %" PRId64 ", expected %" PRId64
		      "\n%s", h.pid, ps_merging, merged, json);
	ck_assert_int_eq(ps_merging, raw_stat(h.pid).merging_pages);
	ck_assert_int_eq(ps_merge_any, 1);
	ck_assert_str_eq(comm, "ksm-helper");
	snprintf(pidarg, sizeof(pidarg), "%d", h.pid);
	rc = run_capture((char *const[]){ (char *)ksmctl_path(), "ps", "--json", pidarg, NULL }, json, sizeof(json),
			 NULL);
	ck_assert_msg(rc == 0, "ksmctl ps --json %s exited %d", pidarg, rc);
	ck_assert_int_eq(ps_json_merging(json, h.pid, &ps_merge_any, comm, sizeof(comm)), merged);

	/* a child forked now (ksmd stopped) inherits the flag but starts with 0 merging pages */
	ck_assert_int_eq(write(h.in, "fork\n", 5), 5);
	helper_line(&h, line, sizeof(line), 5000);
	ck_assert_str_eq(line, "child merge_any=1");
	helper_line(&h, line, sizeof(line), 5000);
	ck_assert_str_eq(line, "child ksm_merging_pages 0");
	helper_line(&h, line, sizeof(line), 5000);
	ck_assert_str_eq(line, "forked 0");
	ck_assert_int_eq(raw_stat(h.pid).merging_pages, merged); /* the parent keeps its own */

	printf("    helper pid %d under ksmctl exec: merge_any=1, %zu pages -> %" PRId64 "/%" PRId64
	       " in %.3f s, ksm_merging_pages %" PRId64 "\n", h.pid, n, shared, sharing, t, merged);
	helper_stop(&h);
	ksm_unref(ctx);
}
END_TEST

/* A child forked right now reports on its own ksm_stat. */
static int child_fresh_counters(void *arg, char *msg, size_t size)
{
	struct ksm_proc_stats st;
	struct ksm_ctx *ctx = arg;
	struct raw_stat s;
	int r;

	if (raw_stat_read(0, &s) < 0 || s.lines != 6) {
		snprintf(msg, size, "own ksm_stat unreadable or incomplete");
		return 1;
	}
	if (s.merging_pages != 0 || s.rmap_items != 0) {
		snprintf(msg, size, "fresh child: ksm_merging_pages %" PRId64 ", ksm_rmap_items %" PRId64
			 ", expected 0 and 0", s.merging_pages, s.rmap_items);
		return 1;
	}
	if (s.merge_any != 1 || prctl(PRCTL_GET_MEMORY_MERGE, 0, 0, 0, 0) != 1) {
		snprintf(msg, size, "fresh child: merge_any not inherited");
		return 1;
	}
	r = ksm_proc_stats_read(ctx, 0, &st, sizeof(st));
	if (r != 0 || st.ksm_merging_pages != 0 || st.ksm_merge_any != 1) {
		snprintf(msg, size, "fresh child: ksm_proc_stats_read = %d, merging %" PRId64 ", merge_any %" PRId64,
			 r, st.ksm_merging_pages, st.ksm_merge_any);
		return 1;
	}
	return 0;
}

START_TEST(test_prctl_disable)
{
	const size_t n = 10;
	struct ksm_ctx *ctx = new_ctx();
	struct area a = { 0 };
	uint64_t pfn[10], bytes = 1;
	struct raw_stat rs;
	char msg[512];
	int vmas, r;
	double t0;

	clean_fast_start();
	ck_assert_int_eq(ksm_set_process_merge(1), 0);
	area_map(&a, n, false); /* no madvise: registered by the prctl */
	ck_assert_uint_eq(raw_mg_bytes((uintptr_t)a.p, (uintptr_t)a.p + a.len, NULL), a.len);
	r = ksm_wait_scans(ctx, 2, 5000);
	ck_assert_msg(r == 0, "ksm_wait_scans(2, 5000) = %d", r);
	t0 = now_s();
	for (;;) {
		pfns_read(a.p, n, pfn);
		if (distinct_pfns(pfn, n, NULL) == 1 && raw_stat(0).merging_pages >= (int64_t)n)
			break;
		ck_assert_msg(now_s() - t0 < 10, "pages did not merge in 10 s: %zu PFNs, ksm_merging_pages %" PRId64,
			      distinct_pfns(pfn, n, NULL), raw_stat(0).merging_pages);
		sleep_ms(5);
	}
	raw_write_ok("run", "0"); /* nothing may scan the child before it looks */
	rs = raw_stat(0);
	ck_assert_int_ge(rs.merging_pages, (int64_t)n);

	/* a child forked while we have merged pages starts at 0 */
	r = run_child(child_fresh_counters, ctx, msg, sizeof(msg));
	ck_assert_msg(r == 0, "%s", msg);
	ck_assert_int_eq(raw_stat(0).merging_pages, rs.merging_pages);

	/* disabling unmerges at once, without run=2, and unregisters everything */
	ck_assert_int_eq(ksm_set_process_merge(0), 0);
	ck_assert_int_eq(ksm_get_process_merge(), 0);
	ck_assert_int_eq(prctl(PRCTL_GET_MEMORY_MERGE, 0, 0, 0, 0), 0);
	pfns_read(a.p, n, pfn);
	ck_assert_msg(distinct_pfns(pfn, n, NULL) == n, "after disabling, %zu pages map %zu PFNs", n,
		      distinct_pfns(pfn, n, NULL));
	raw_mg_bytes(0, UINTPTR_MAX, &vmas);
	ck_assert_msg(vmas == 0, "%d VMAs keep mg after disabling", vmas);
	ck_assert_int_eq(ksm_mergeable_bytes(a.p, a.len, &bytes), 0);
	ck_assert_uint_eq(bytes, 0);
	rs = raw_stat(0);
	ck_assert_int_eq(rs.merge_any, 0);
	ck_assert_int_eq(rs.mergeable, 0);
	area_check_data(&a, -1, 0, 0);

	/* the counter follows when ksmd next visits the mm (ksm-behaviour.md §2.3) */
	raw_write_ok("run", "1");
	t0 = now_s();
	while (raw_stat(0).merging_pages != 0 && now_s() - t0 < 5)
		sleep_ms(5);
	ck_assert_msg(raw_stat(0).merging_pages == 0, "ksm_merging_pages %" PRId64 " 5 s after disabling",
		      raw_stat(0).merging_pages);
	printf("    disabled: %zu distinct PFNs, no mg, ksm_merging_pages 0 after %.3f s of ksmd\n", n,
	       now_s() - t0);
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 6. ranges the kernel registers partly or not at all                       */

START_TEST(test_ranges)
{
	const size_t ps = (size_t)page_size;
	uint64_t bytes;
	unsigned char *p, *q;
	int r;

	/* MAP_SHARED anonymous: madvise says yes, the kernel ignores it */
	p = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(p != MAP_FAILED);
	ck_assert_int_eq(madvise(p, 4 * ps, MADV_MERGEABLE), 0); /* the raw call "succeeds" */
	ck_assert_uint_eq(raw_mg_bytes((uintptr_t)p, (uintptr_t)p + 4 * ps, NULL), 0);
	r = ksm_mark_mergeable(p, 4 * ps);
	ck_assert_msg(r == -EOPNOTSUPP, "ksm_mark_mergeable(MAP_SHARED) = %d (%s)", r, strerror(-r));
	bytes = 1;
	ck_assert_int_eq(ksm_mergeable_bytes(p, 4 * ps, &bytes), 0);
	ck_assert_uint_eq(bytes, 0);
	munmap(p, 4 * ps);

	/* half private, half shared: two adjacent mappings */
	p = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(p != MAP_FAILED);
	q = mmap(p + 2 * ps, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ck_assert(q == p + 2 * ps);
	r = ksm_mark_mergeable(p, 4 * ps);
	ck_assert_msg(r == 0, "ksm_mark_mergeable(half shared) = %d (%s)", r, strerror(-r));
	ck_assert_uint_eq(raw_mg_bytes((uintptr_t)p, (uintptr_t)p + 2 * ps, NULL), 2 * ps);
	ck_assert_uint_eq(raw_mg_bytes((uintptr_t)q, (uintptr_t)q + 2 * ps, NULL), 0);
	ck_assert_int_eq(ksm_mergeable_bytes(p, 4 * ps, &bytes), 0);
	ck_assert_uint_eq(bytes, 2 * ps);
	ck_assert_int_eq(ksm_mergeable_bytes(q, 2 * ps, &bytes), 0);
	ck_assert_uint_eq(bytes, 0);
	munmap(p, 4 * ps);

	/* unaligned start: widened to the page; the raw madvise refuses it */
	p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(p != MAP_FAILED);
	ck_assert_int_eq(madvise(p + 100, 1, MADV_MERGEABLE), -1);
	ck_assert_int_eq(errno, EINVAL);
	r = ksm_mark_mergeable(p + 100, 1);
	ck_assert_msg(r == 0, "ksm_mark_mergeable(addr+100, 1) = %d (%s)", r, strerror(-r));
	ck_assert_uint_eq(raw_mg_bytes((uintptr_t)p, (uintptr_t)p + ps, NULL), ps);
	ck_assert_uint_eq(raw_mg_bytes((uintptr_t)p + ps, (uintptr_t)p + 2 * ps, NULL), 0);
	ck_assert_int_eq(ksm_mergeable_bytes(p, 2 * ps, &bytes), 0);
	ck_assert_uint_eq(bytes, ps);
	ck_assert_int_eq(ksm_mergeable_bytes(p + ps - 1, 2, &bytes), 0); /* straddles both pages */
	ck_assert_uint_eq(bytes, ps);
	munmap(p, 2 * ps);

	/* an unmapped hole: -EFAULT, and both mapped pages are still registered */
	p = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(p != MAP_FAILED);
	ck_assert_int_eq(munmap(p + ps, ps), 0);
	r = ksm_mark_mergeable(p, 3 * ps);
	ck_assert_msg(r == -EFAULT, "ksm_mark_mergeable(range with a hole) = %d (%s)", r, strerror(-r));
	ck_assert_uint_eq(raw_mg_bytes((uintptr_t)p, (uintptr_t)p + ps, NULL), ps);
	ck_assert_uint_eq(raw_mg_bytes((uintptr_t)p + 2 * ps, (uintptr_t)p + 3 * ps, NULL), ps);
	ck_assert_int_eq(ksm_mergeable_bytes(p, 3 * ps, &bytes), 0);
	ck_assert_uint_eq(bytes, 2 * ps);
	r = ksm_mark_unmergeable(p, 3 * ps);
	ck_assert_msg(r == -EFAULT, "ksm_mark_unmergeable(range with a hole) = %d (%s)", r, strerror(-r));
	ck_assert_uint_eq(raw_mg_bytes((uintptr_t)p, (uintptr_t)p + 3 * ps, NULL), 0);
	munmap(p, ps);
	munmap(p + 2 * ps, ps);

	/* len 0: nothing to do, nothing registered */
	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(p != MAP_FAILED);
	ck_assert_int_eq(ksm_mark_mergeable(p, 0), 0);
	ck_assert_int_eq(ksm_mark_mergeable(p + 100, 0), 0);
	ck_assert_uint_eq(raw_mg_bytes((uintptr_t)p, (uintptr_t)p + ps, NULL), 0);
	ck_assert_int_eq(ksm_mergeable_bytes(p, 0, &bytes), 0);
	ck_assert_uint_eq(bytes, 0);
	ck_assert_int_eq(ksm_mark_mergeable(p, ps), 0);
	ck_assert_int_eq(ksm_mergeable_bytes(p + 100, 0, &bytes), 0); /* covers no byte */
	ck_assert_uint_eq(bytes, 0);
	ck_assert_int_eq(ksm_mark_unmergeable(p + 100, 0), 0);
	ck_assert_uint_eq(raw_mg_bytes((uintptr_t)p, (uintptr_t)p + ps, NULL), ps);
	munmap(p, ps);
}
END_TEST

/*
 * madvise() answers EAGAIN when the VMA split it needs would exceed
 * vm.max_map_count; the library reports that as -ENOMEM. In a child: the
 * process fills its map count with one PROT_NONE region cut into pages of
 * alternating protection, then asks to register the middle page of a
 * three-page mapping (two splits).
 */
static int child_map_count(void *arg, char *msg, size_t size)
{
	long max = 0, ps = page_size;
	size_t pages;
	char *t, *base;
	bool full = false;
	FILE *f;
	int r;

	(void)arg;
	f = fopen("/proc/sys/vm/max_map_count", "re");
	if (!f || fscanf(f, "%ld", &max) != 1) {
		snprintf(msg, size, "cannot read vm.max_map_count");
		return 1;
	}
	fclose(f);
	if (max <= 0 || max > (1L << 20)) {
		snprintf(msg, size, "vm.max_map_count is %ld: too many mappings to fill", max);
		return 77;
	}
	t = mmap(NULL, 3 * (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pages = 2 * (size_t)max + 16;
	base = mmap(NULL, pages * (size_t)ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t == MAP_FAILED || base == MAP_FAILED) {
		snprintf(msg, size, "mmap: %s", strerror(errno));
		return 1;
	}
	memset(t, 0x5a, 3 * (size_t)ps);
	for (size_t i = 1; 2 * i + 1 < pages; i++) {
		if (mprotect(base + 2 * i * (size_t)ps, (size_t)ps, PROT_READ) == 0)
			continue;
		if (errno != ENOMEM) {
			snprintf(msg, size, "mprotect: %s", strerror(errno));
			return 1;
		}
		full = true;
		break;
	}
	if (!full) {
		snprintf(msg, size, "%zu pages of alternating protection did not reach vm.max_map_count %ld", pages,
			 max);
		return 1;
	}
	r = ksm_mark_mergeable(t + ps, (size_t)ps);
	if (r != -ENOMEM) {
		snprintf(msg, size, "ksm_mark_mergeable with the map count full = %d (%s), expected -ENOMEM", r,
			 strerror(-r));
		return 1;
	}
	/* the kernel's own answer */
	if (madvise(t + ps, (size_t)ps, MADV_MERGEABLE) == 0 || errno != EAGAIN) {
		snprintf(msg, size, "raw madvise with the map count full: %s, expected EAGAIN", strerror(errno));
		return 1;
	}
	munmap(base, pages * (size_t)ps);
	r = ksm_mark_mergeable(t + ps, (size_t)ps);
	if (r != 0) {
		snprintf(msg, size, "ksm_mark_mergeable with room again = %d (%s)", r, strerror(-r));
		return 1;
	}
	snprintf(msg, size, "vm.max_map_count %ld: -ENOMEM (madvise EAGAIN), then 0", max);
	munmap(t, 3 * (size_t)ps);
	return 0;
}

START_TEST(test_ranges_map_count)
{
	char msg[512];
	int rc = run_child(child_map_count, NULL, msg, sizeof(msg));

	if (rc == 77) {
		printf("    SKIP: %s\n", msg);
		return;
	}
	ck_assert_msg(rc == 0, "map count child: %s", msg);
	printf("    %s\n", msg);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 7. unprivileged caller                                                    */

/* A pid that no process has: above pid_max if possible. */
static int unused_pid(void)
{
	int pid = (1 << 22) + 12345;

	while (kill(pid, 0) == 0 || errno != ESRCH)
		pid++;
	return pid;
}

#define CHILD_FAIL(...)                                \
	do {                                           \
		snprintf(msg, size, __VA_ARGS__);      \
		goto fail;                             \
	} while (0)

/* As uid/gid nobody: the prctl works, pid 1's figures are closed, a missing pid is missing. */
static int child_nobody(void *arg, char *msg, size_t size)
{
	struct ksm_proc_stats st;
	struct ksm_ctx *ctx = NULL;
	int nopid = *(int *)arg;
	struct raw_stat rs;
	int r, fd;

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		CHILD_FAIL("dropping to uid/gid %d: %s", NOBODY, strerror(errno));
	if (geteuid() != NOBODY || getuid() != NOBODY)
		CHILD_FAIL("still uid %d", (int)geteuid());
	/* the uid change made us non-dumpable, which hands /proc/self to root */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		CHILD_FAIL("PR_SET_DUMPABLE: %s", strerror(errno));
	r = ksm_set_process_merge(1);
	if (r != 0)
		CHILD_FAIL("ksm_set_process_merge(1) as nobody = %d (%s)", r, strerror(-r));
	if (ksm_get_process_merge() != 1 || prctl(PRCTL_GET_MEMORY_MERGE, 0, 0, 0, 0) != 1)
		CHILD_FAIL("as nobody after enabling: library %d, raw %d", ksm_get_process_merge(),
			   prctl(PRCTL_GET_MEMORY_MERGE, 0, 0, 0, 0));
	if (ksm_new_at(&ctx, "/") != 0)
		CHILD_FAIL("ksm_new_at as nobody failed");
	/* own figures: readable, equal to the raw file */
	if (ksm_proc_stats_read(ctx, 0, &st, sizeof(st)) != 0 || raw_stat_read(0, &rs) != 0 || rs.lines != 6)
		CHILD_FAIL("own ksm_stat not readable as nobody");
	if (st.ksm_merge_any != 1 || rs.merge_any != 1 || st.ksm_mergeable != rs.mergeable)
		CHILD_FAIL("own ksm_stat: library merge_any %" PRId64 " mergeable %" PRId64 ", raw %d %d",
			   st.ksm_merge_any, st.ksm_mergeable, rs.merge_any, rs.mergeable);
	/* pid 1 belongs to root: the file is 0400 */
	fd = open("/proc/1/ksm_stat", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES) {
		if (fd >= 0)
			close(fd);
		CHILD_FAIL("raw open(/proc/1/ksm_stat) as nobody: fd %d, %s", fd, strerror(errno));
	}
	r = ksm_proc_stats_read(ctx, 1, &st, sizeof(st));
	if (r != -EACCES)
		CHILD_FAIL("ksm_proc_stats_read(1) as nobody = %d (%s), expected -EACCES", r, strerror(-r));
	r = ksm_proc_stats_read(ctx, nopid, &st, sizeof(st));
	if (r != -ESRCH)
		CHILD_FAIL("ksm_proc_stats_read(%d, no such process) = %d (%s), expected -ESRCH", nopid, r,
			   strerror(-r));
	ksm_unref(ctx);
	snprintf(msg, size, "nobody: prctl 1, pid 1 -EACCES, pid %d -ESRCH", nopid);
	return 0;
fail:
	ksm_unref(ctx);
	return 1;
}

START_TEST(test_unprivileged)
{
	struct ksm_proc_stats st;
	struct ksm_ctx *ctx;
	int nopid = unused_pid();
	char msg[512];
	int rc;

	rc = run_child(child_nobody, &nopid, msg, sizeof(msg));
	ck_assert_msg(rc == 0, "nobody child: %s", msg);
	printf("    %s\n", msg);

	/* as root too: no such process; pid 1 readable */
	ctx = new_ctx();
	ck_assert_int_eq(ksm_proc_stats_read(ctx, nopid, &st, sizeof(st)), -ESRCH);
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 1, &st, sizeof(st)), 0);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 8. ksm_proc_stats_read equals the raw ksm_stat                            */

START_TEST(test_proc_stats_raw)
{
	struct ksm_ctx *ctx = new_ctx();
	struct ksm_proc_stats st;
	struct area a = { 0 };
	struct helper h = { 0 };
	struct raw_stat rs;
	int64_t shared, sharing, merged;

	/* self, with merged pages (frozen: run=0) */
	area_map(&a, 20, false);
	area_merge(ctx, &a);
	raw_write_ok("run", "0");
	rs = raw_stat(0);
	memset(&st, 0xa5, sizeof(st)); /* it needs no initialisation */
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 0, &st, sizeof(st)), 0);
	assert_stats_equal(&st, &rs, "self");
	ck_assert_int_eq(ksm_proc_stats_read(ctx, getpid(), &st, sizeof(st)), 0);
	assert_stats_equal(&st, &rs, "getpid()");
	ck_assert_int_eq(st.ksm_merging_pages, 20);
	ck_assert_int_eq(st.ksm_mergeable, 1);
	ck_assert_int_eq(st.ksm_merge_any, 0);
	area_unmap(&a);

	/* the helper, merged by process-wide merging */
	expected_counts(30, max_page_sharing(), &shared, &sharing, &merged);
	reset_counters();
	fast_scan();
	helper_start(&h, 30, false);
	raw_write_ok("run", "1");
	ck_assert_msg(wait_merging(h.pid, merged, 10.0), "helper ksm_merging_pages %" PRId64 ", expected %" PRId64,
		      raw_stat(h.pid).merging_pages, merged);
	raw_write_ok("run", "0");
	rs = raw_stat(h.pid);
	ck_assert_int_eq(ksm_proc_stats_read(ctx, h.pid, &st, sizeof(st)), 0);
	assert_stats_equal(&st, &rs, "helper");
	ck_assert_int_eq(st.ksm_merge_any, 1);
	ck_assert_int_eq(st.ksm_merging_pages, 30);
	printf("    helper: rmap_items %" PRId64 " merging %" PRId64 " profit %" PRId64 "\n", st.ksm_rmap_items,
	       st.ksm_merging_pages, st.ksm_process_profit);
	helper_stop(&h);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 9. ksm_wait_scans                                                         */

START_TEST(test_wait_not_running)
{
	struct ksm_ctx *ctx = new_ctx();
	double t0;
	int r;

	raw_write_ok("run", "0");
	t0 = now_s();
	r = ksm_wait_scans(ctx, 1, 5000);
	ck_assert_msg(r == -EHOSTDOWN, "ksm_wait_scans with run=0 = %d (%s)", r, strerror(-r));
	ck_assert_msg(now_s() - t0 < 0.05, "-EHOSTDOWN took %.3f s", now_s() - t0);
	t0 = now_s();
	r = ksm_wait_scans(ctx, 1, -1);
	ck_assert_int_eq(r, -EHOSTDOWN);
	ck_assert_msg(now_s() - t0 < 0.05, "-EHOSTDOWN (no timeout) took %.3f s", now_s() - t0);
	reset_counters(); /* run=2 is not 1 either */
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, 5000), -EHOSTDOWN);
	ksm_unref(ctx);
}
END_TEST

/*
 * run=1 with nothing registered anywhere, and full_scans seen standing
 * still; false (and a message) if another process has memory registered.
 */
static bool idle_ksmd(struct ksm_ctx *ctx)
{
	int64_t scans;
	int vmas;

	raw_mg_bytes(0, UINTPTR_MAX, &vmas);
	ck_assert_msg(vmas == 0 && ksm_get_process_merge() == 0, "the test process has registered memory");
	if (registered_processes(ctx) > 0) {
		printf("    other processes have memory registered for merging; full_scans would advance\n");
		return false;
	}
	reset_counters();
	raw_write_ok("run", "1");
	/*
	 * An mm that unregistered everything stays on ksmd's list until ksmd
	 * visits it once more (with CK_FORK=no the test process itself is
	 * one): let that last scan happen, then full_scans must stand still.
	 */
	sleep_ms(100);
	scans = raw_num("full_scans");
	sleep_ms(100);
	if (raw_num("full_scans") != scans || (raw_num("run") & 3) != 1) {
		printf("    ksmd not idle: full_scans %" PRId64 " -> %" PRId64 ", run %" PRId64 "\n", scans,
		       raw_num("full_scans"), raw_num("run"));
		return false;
	}
	return true;
}

/*
 * Did something outside this test disturb an idle ksmd during a measurement
 * that started at full_scans @scans? Other processes may register memory
 * (full_scans then advances) or write run at any time; such a measurement
 * is repeated, not judged.
 */
static bool disturbed(int64_t scans)
{
	int64_t now = raw_num("full_scans"), run = raw_num("run") & 3;

	if (now == scans && run == 1)
		return false;
	printf("    disturbed from outside (full_scans %" PRId64 " -> %" PRId64 ", run %" PRId64 "): again\n", scans,
	       now, run);
	return true;
}

#define IDLE_ATTEMPTS 3

/*
 * ksmd at a pace that cannot finish a full scan of @a within seconds:
 * one page per batch, a minute's sleep between batches, advisor off. The
 * area is registered: the wait has something to wait for.
 */
static void slow_scan_registered(struct area *a)
{
	char buf[64];

	reset_counters();
	if (raw_exists("advisor_mode")) {
		raw_text("advisor_mode", buf, sizeof(buf));
		if (strcmp(buf, "[none] scan-time\n") != 0)
			raw_write_ok("advisor_mode", "none");
	}
	raw_write_ok("pages_to_scan", "1");
	raw_write_ok("sleep_millisecs", "60000");
	raw_write_ok("run", "1");
	area_register(a);
}

START_TEST(test_wait_timeout)
{
	struct ksm_ctx *ctx = new_ctx();
	struct area a = { 0 };
	double t0, c0, wall, cpu;
	int64_t scans;
	int r, attempt;

	area_map(&a, 10, false);
	for (attempt = 0; attempt < IDLE_ATTEMPTS; attempt++) {
		slow_scan_registered(&a);
		scans = raw_num("full_scans");
		c0 = cpu_s();
		t0 = now_s();
		r = ksm_wait_scans(ctx, 1, 1000);
		wall = now_s() - t0;
		cpu = cpu_s() - c0;
		if (disturbed(scans))
			continue;
		ck_assert_msg(r == -ETIMEDOUT, "ksm_wait_scans(1, 1000) with a slow ksmd = %d (%s)", r, strerror(-r));
		ck_assert_msg(wall >= 0.8 && wall <= 1.2, "timeout of 1000 ms took %.3f s", wall);
		ck_assert_msg(cpu < 0.1 * wall, "waiting used %.3f s CPU in %.3f s (%.1f%%)", cpu, wall,
			      100 * cpu / wall);
		printf("    -ETIMEDOUT after %.3f s, CPU %.4f s (%.2f%% of wall)\n", wall, cpu, 100 * cpu / wall);
		break;
	}
	if (attempt == IDLE_ATTEMPTS)
		printf("    SKIP: ksmd was disturbed from outside %d times\n", IDLE_ATTEMPTS);
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* Nothing registered anywhere: -ENODATA at once, with a timeout or without. */
START_TEST(test_wait_nodata)
{
	struct ksm_ctx *ctx = new_ctx();
	double t0, wall1, wall2;
	int64_t scans;
	int r1, r2, attempt;

	for (attempt = 0; attempt < IDLE_ATTEMPTS; attempt++) {
		if (!idle_ksmd(ctx)) {
			sleep_ms(500);
			continue;
		}
		scans = raw_num("full_scans");
		t0 = now_s();
		r1 = ksm_wait_scans(ctx, 1, -1);
		wall1 = now_s() - t0;
		t0 = now_s();
		r2 = ksm_wait_scans(ctx, 1, 5000);
		wall2 = now_s() - t0;
		if (disturbed(scans))
			continue;
		ck_assert_msg(r1 == -ENODATA, "ksm_wait_scans(1, -1) with nothing registered = %d (%s)", r1,
			      strerror(-r1));
		ck_assert_msg(wall1 < 0.3, "-ENODATA (no timeout) took %.3f s", wall1);
		ck_assert_msg(r2 == -ENODATA, "ksm_wait_scans(1, 5000) with nothing registered = %d (%s)", r2,
			      strerror(-r2));
		ck_assert_msg(wall2 < 0.3, "-ENODATA (timeout 5 s) took %.3f s", wall2);
		printf("    -ENODATA after %.3f s (no timeout) and %.3f s (timeout 5 s)\n", wall1, wall2);
		break;
	}
	if (attempt == IDLE_ATTEMPTS)
		printf("    SKIP: ksmd was not idle or was disturbed from outside %d times\n", IDLE_ATTEMPTS);
	ksm_unref(ctx);
}
END_TEST

START_TEST(test_wait_scans)
{
	struct ksm_ctx *ctx = new_ctx();
	struct area a = { 0 };
	int64_t before, after;
	double t0, wall;
	int r;

	area_map(&a, 10, false);
	clean_fast_start();
	area_register(&a);
	before = raw_num("full_scans");
	t0 = now_s();
	r = ksm_wait_scans(ctx, 2, 5000);
	wall = now_s() - t0;
	after = raw_num("full_scans");
	ck_assert_msg(r == 0, "ksm_wait_scans(2, 5000) = %d (%s)", r, strerror(-r));
	ck_assert_msg(after >= before + 2, "full_scans %" PRId64 " -> %" PRId64, before, after);
	ck_assert_int_eq(ksm_wait_scans(ctx, 0, 0), 0);

	/* at the default pace (20 ms sleeps): still exact, still without busy waiting */
	raw_write_ok("sleep_millisecs", "20");
	raw_write_ok("pages_to_scan", "100");
	before = raw_num("full_scans");
	r = ksm_wait_scans(ctx, 3, 5000);
	after = raw_num("full_scans");
	ck_assert_msg(r == 0, "ksm_wait_scans(3, 5000) at 20 ms = %d (%s)", r, strerror(-r));
	ck_assert_msg(after >= before + 3, "full_scans %" PRId64 " -> %" PRId64, before, after);
	printf("    2 scans in %.4f s at full speed\n", wall);
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* After 300 ms, run=2 (raw); the errno of the write. */
static int child_unmerge_later(void *arg, char *msg, size_t size)
{
	(void)arg;
	(void)msg;
	(void)size;
	sleep_ms(300);
	return -guard_raw_write("run", "2");
}

START_TEST(test_wait_run2)
{
	struct ksm_ctx *ctx = new_ctx();
	struct area a = { 0 };
	struct child c;
	char buf[16], msg[512];
	double t0, wall;
	int r, rc;

	/* registered memory, default pace: 100000 scans take far longer than the test */
	area_map(&a, 10, false);
	reset_counters();
	area_register(&a);
	raw_write_ok("run", "1");
	child_start(&c, child_unmerge_later, NULL);
	t0 = now_s();
	r = ksm_wait_scans(ctx, 100000, 10000);
	wall = now_s() - t0;
	rc = child_finish(&c, msg, sizeof(msg));
	ck_assert_msg(rc == 0, "child could not write run=2: %s", strerror(rc));
	ck_assert_msg(r == -EHOSTDOWN, "ksm_wait_scans across run=2 = %d (%s)", r, strerror(-r));
	ck_assert_msg(wall >= 0.25 && wall < 1.0, "-EHOSTDOWN after %.3f s, run=2 was written at 0.3 s", wall);
	raw_text("run", buf, sizeof(buf));
	ck_assert_str_eq(buf, "2\n");
	ck_assert_int_eq(raw_num("full_scans"), 0);
	printf("    -EHOSTDOWN %.3f s into the wait (run=2 at 0.3 s)\n", wall);
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 10. ksmctl wait                                                           */

START_TEST(test_cli_wait)
{
	struct ksm_ctx *ctx = new_ctx();
	struct area a = { 0 };
	const char *k = ksmctl_path();
	int64_t before, after;
	double wall;
	int rc;

	/* ksmd stopped: 4 */
	raw_write_ok("run", "0");
	rc = run_capture((char *const[]){ (char *)k, "wait", "--timeout", "5", NULL }, NULL, 0, &wall);
	ck_assert_msg(rc == 4, "ksmctl wait with run=0 exited %d, expected 4", rc);
	ck_assert_msg(wall < 1.0, "ksmctl wait with run=0 took %.3f s", wall);

	/* nothing registered, ksmd running: nothing to wait for, 5 at once */
	for (int attempt = 0; attempt < IDLE_ATTEMPTS; attempt++) {
		int64_t scans;

		if (!idle_ksmd(ctx)) {
			sleep_ms(500);
			continue;
		}
		scans = raw_num("full_scans");
		rc = run_capture((char *const[]){ (char *)k, "wait", "--timeout", "5", NULL }, NULL, 0, &wall);
		if (disturbed(scans))
			continue;
		ck_assert_msg(rc == 5, "ksmctl wait --timeout 5 (nothing registered) exited %d, expected 5", rc);
		ck_assert_msg(wall < 1.0, "ksmctl wait --timeout 5 (nothing registered) took %.3f s", wall);
		printf("    ksmctl wait --timeout 5, nothing registered: exit 5 after %.3f s\n", wall);
		break;
	}

	/* registered, but ksmd too slow: times out, 3 */
	area_map(&a, 10, false);
	slow_scan_registered(&a);
	before = raw_num("full_scans");
	rc = run_capture((char *const[]){ (char *)k, "wait", "--timeout", "0.5", NULL }, NULL, 0, &wall);
	if (!disturbed(before)) {
		ck_assert_msg(rc == 3, "ksmctl wait --timeout 0.5 (slow ksmd) exited %d, expected 3", rc);
		ck_assert_msg(wall >= 0.45 && wall < 1.5, "ksmctl wait --timeout 0.5 took %.3f s", wall);
		printf("    ksmctl wait --timeout 0.5, slow ksmd: exit 3 after %.3f s\n", wall);
	}

	/* scans complete: 0 */
	clean_fast_start();
	area_register(&a);
	before = raw_num("full_scans");
	rc = run_capture((char *const[]){ (char *)k, "wait", "--scans", "2", "--timeout", "10", NULL }, NULL, 0,
			 &wall);
	after = raw_num("full_scans");
	ck_assert_msg(rc == 0, "ksmctl wait --scans 2 exited %d, expected 0", rc);
	ck_assert_msg(after >= before + 2, "full_scans %" PRId64 " -> %" PRId64, before, after);
	printf("    ksmctl wait --scans 2: exit 0 after %.3f s\n", wall);
	area_unmap(&a);
	ksm_unref(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* the suite (runner: guard_run() in guard.c)                               */

static Suite *mem_suite(void)
{
	Suite *s = suite_create("mem");

	guard_add(s, "merge2", test_merge_2);
	guard_add(s, "merge10", test_merge_10);
	guard_add(s, "merge257", test_merge_257);
	guard_add(s, "merge258", test_merge_258);
	guard_add(s, "merge1000", test_merge_1000);
	guard_add(s, "unique", test_unique_pages);
	guard_add(s, "cow", test_cow);
	guard_add(s, "unmerge", test_unmerge);
	guard_add(s, "zero_pages", test_zero_pages);
	guard_add(s, "prctl_self", test_prctl_self);
	guard_add(s, "prctl_exec", test_prctl_exec);
	guard_add(s, "prctl_disable", test_prctl_disable);
	guard_add(s, "ranges", test_ranges);
	guard_add(s, "ranges_map_count", test_ranges_map_count);
	guard_add(s, "unprivileged", test_unprivileged);
	guard_add(s, "proc_stats_raw", test_proc_stats_raw);
	guard_add(s, "wait_not_running", test_wait_not_running);
	guard_add(s, "wait_timeout", test_wait_timeout);
	guard_add(s, "wait_nodata", test_wait_nodata);
	guard_add(s, "wait_scans", test_wait_scans);
	guard_add(s, "wait_run2", test_wait_run2);
	guard_add(s, "cli_wait", test_cli_wait);
	return s;
}

int main(void)
{
	page_size = sysconf(_SC_PAGESIZE);
	return guard_main(guard_missing_ksm_stat_prctl, mem_suite, NULL);
}

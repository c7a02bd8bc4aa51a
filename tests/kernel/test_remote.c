// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The remote suite: ksm_process_set_merge() and ksm_process_merge_state() on
 * running processes that this test starts itself (never on foreign ones),
 * through the backend the running kernel offers (ptrace injection on
 * mainline x86-64).
 *
 * Every target fills 16 MiB of private anonymous pages of 32 contents without
 * registering them, then waits in one way (nanosleep, read, pause with a
 * handler, epoll_wait, pthread_join, a busy loop, a signal storm, SIGSTOP,
 * seccomp filters) and reports through a shared page what it saw. Each test
 * checks, through the kernel's own files read here (ksm_stat, smaps VmFlags
 * "mg"), that merging was off, that enabling made the region mergeable and
 * that ksmd merged it, and that after disabling the region is no longer
 * mergeable and its pages are unmerged; then that the target's own
 * computation and sleeps were unaffected and that it exits normally.
 *
 * ksmd runs under a boost for the test's duration; the guard restores every
 * knob afterwards, also on failure and on SIGINT/SIGTERM. Needs root, KSM and
 * x86-64 (skipped otherwise).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksm.h"
#include "guard.h"

#define REGION (16u << 20)
#define PAGES (REGION / 4096)
/* Merged pages that count as "merged": all but a few. */
#define MERGED_MIN (PAGES - 64)

enum mode {
	T_SLEEP, T_READ, T_PAUSE, T_EPOLL, T_EPOLL2, T_THREADS, T_BUSY, T_FLOOD, T_MADVISED,
	T_SECCOMP_ERRNO, T_SECCOMP_KILL,
};

/* The page shared with a target. */
struct shared {
	volatile int ready;      /* the target waits where it should */
	volatile int stop;       /* the test asks the busy ones to finish */
	volatile int sent;       /* T_PAUSE: the test sent the real SIGUSR1 */
	volatile int spam_stop;  /* T_FLOOD: the spammer stops */
	volatile uintptr_t region;
	volatile double elapsed; /* T_SLEEP: the sleep's length */
	volatile int ok;         /* the target's own check passed */
	volatile int eintr;      /* spurious EINTR returns seen */
	volatile long rt_sent, rt_got, alrm;
	char detail[128];
};

struct target {
	pid_t pid, spammer;
	struct shared *sh;
	int pipe_w;
};

static struct ksm_ctx *ctx;
static struct ksm_boost *boost;

/* ------------------------------------------------------------------------ */
/* the targets                                                               */

/* A computation in 8 lanes and 2 floating-point accumulators; deterministic. */
static uint64_t compute(uint64_t n, double *fp)
{
	uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8;
	double x = 1.0, y = 0.5;

	for (uint64_t i = 0; i < n; i++) {
		a ^= a << 13; a ^= a >> 7; a ^= a << 17;
		b += a; c ^= b * 3; d += c >> 3; e ^= d + i; f += e * 5; g ^= f >> 11; h += g;
		x = x * 1.0000001 + 1e-9; y = y * 0.9999999 + (double)(a & 0xff) * 1e-12;
	}
	*fp = x + y;
	return a ^ b ^ c ^ d ^ e ^ f ^ g ^ h;
}

/* Busy until told to stop; every round must equal a clean computation made
 * before anything was done to the process. */
static bool busy_and_check(struct shared *sh)
{
	double f0, f;
	uint64_t r0 = compute(200000, &f0);
	bool ok = true;

	while (!sh->stop)
		if (compute(200000, &f) != r0 || f != f0)
			ok = false;
	return ok;
}

static void *worker(void *arg)
{
	return (void *)(uintptr_t)busy_and_check(arg);
}

static void on_usr1(int sig)
{
	(void)sig;
}

static volatile long alrm_count, rt_count;
static void on_alrm(int sig)
{
	(void)sig;
	alrm_count++;
}
static void on_rt(int sig)
{
	(void)sig;
	rt_count++;
}

static void install_seccomp(bool kill)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 67, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, kill ? SECCOMP_RET_KILL_PROCESS : SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

	struct rlimit no_core = { 0, 0 };

	/* Killed by SIGSYS when forced: no core file for that. */
	setrlimit(RLIMIT_CORE, &no_core);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		_exit(20);
}

static void target_main(enum mode mode, struct shared *sh, int rfd)
{
	unsigned char *p = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				-1, 0);
	bool ok = true;

	if (p == MAP_FAILED)
		_exit(21);
	/* 32 contents of 128 pages each: below max_page_sharing, so no chains. */
	for (size_t i = 0; i < REGION / 4096; i++)
		memset(p + i * 4096, 0x40 + (int)(i % 32), 4096);
	sh->region = (uintptr_t)p;
	if (mode == T_MADVISED && madvise(p, REGION, 12 /* MADV_MERGEABLE */) < 0)
		_exit(22);
	if (mode == T_SECCOMP_ERRNO || mode == T_SECCOMP_KILL)
		install_seccomp(mode == T_SECCOMP_KILL);

	switch (mode) {
	case T_SLEEP:
	case T_MADVISED: {
		struct timespec req = { 8, 0 }, a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		sh->ready = 1;
		ok = nanosleep(&req, NULL) == 0;
		clock_gettime(CLOCK_MONOTONIC, &b);
		sh->elapsed = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		break;
	}
	case T_READ: {
		char buf[64];
		ssize_t n;

		sh->ready = 1;
		n = read(rfd, buf, sizeof(buf));
		ok = n == 19 && memcmp(buf, "payload of 19 bytes", 19) == 0;
		if (n < 0)
			snprintf(sh->detail, sizeof(sh->detail), "read: %s", strerror(errno));
		break;
	}
	case T_PAUSE: {
		struct sigaction sa = { .sa_handler = on_usr1 }; /* no SA_RESTART */

		sigaction(SIGUSR1, &sa, NULL);
		sh->ready = 1;
		ok = pause() == -1 && errno == EINTR && sh->sent;
		break;
	}
	case T_EPOLL:
	case T_EPOLL2: {
		int ep = epoll_create1(0);
		struct epoll_event ev = { .events = EPOLLIN }, out;
		pthread_t th;
		int n;

		if (mode == T_EPOLL2) {
			/* A second thread blocked in a futex: the injection picks it. */
			sh->stop = 0;
			pthread_create(&th, NULL, worker, sh);
		}
		epoll_ctl(ep, EPOLL_CTL_ADD, rfd, &ev);
		sh->ready = 1;
		while ((n = epoll_wait(ep, &out, 1, -1)) < 0 && errno == EINTR)
			sh->eintr++;
		ok = n == 1;
		if (mode == T_EPOLL2) {
			void *res;

			sh->stop = 1;
			pthread_join(th, &res);
			ok = ok && res;
		}
		break;
	}
	case T_THREADS: {
		pthread_t th[3];

		for (int i = 0; i < 3; i++)
			pthread_create(&th[i], NULL, worker, sh);
		sh->ready = 1;
		for (int i = 0; i < 3; i++) {
			void *res;

			pthread_join(th[i], &res);
			ok = ok && res;
		}
		break;
	}
	case T_BUSY:
	case T_SECCOMP_ERRNO:
	case T_SECCOMP_KILL:
		sh->ready = 1;
		ok = busy_and_check(sh);
		break;
	case T_FLOOD: {
		struct sigaction sa = { .sa_handler = on_alrm, .sa_flags = SA_RESTART };
		struct itimerval it = { { 0, 200 }, { 0, 200 } };

		/* Handlers do not nest: a nested one would lose an increment. */
		sigfillset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
		sa.sa_handler = on_rt;
		sigaction(SIGRTMIN, &sa, NULL);
		sigaction(SIGRTMIN + 1, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
		sh->ready = 1;
		ok = busy_and_check(sh);
		memset(&it, 0, sizeof(it));
		setitimer(ITIMER_REAL, &it, NULL);
		{
			sigset_t all;

			sigfillset(&all);
			sigprocmask(SIG_BLOCK, &all, NULL);
		}
		sh->alrm = alrm_count;
		sh->rt_got = rt_count;
		break;
	}
	}
	/* The region is intact. */
	for (size_t i = 0; i < REGION / 4096; i++)
		if (p[i * 4096] != 0x40 + i % 32 || p[i * 4096 + 4095] != 0x40 + i % 32)
			ok = false;
	sh->ok = ok;
	_exit(ok ? 0 : 1);
}

/* The spammer of T_FLOOD: queued RT signals in bursts, counted. */
static void spammer_main(pid_t pid, struct shared *sh)
{
	union sigval v = { 0 };

	while (!sh->spam_stop) {
		for (int i = 0; i < 4; i++)
			if (sigqueue(pid, SIGRTMIN + (i & 1), v) == 0)
				sh->rt_sent++;
		usleep(20);
	}
	_exit(0);
}

/* ------------------------------------------------------------------------ */
/* raw views of the target                                                   */

/* The value of @key in /proc/PID/ksm_stat ("yes"/"no" as 1/0), or -1. */
static long raw_ksm_stat(pid_t pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/ksm_stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t k = strlen(key);
		char *val;

		if (strncmp(line, key, k) != 0 || (line[k] != ' ' && line[k] != ':'))
			continue;
		val = line + k + strspn(line + k, ": ");
		v = strncmp(val, "yes", 3) == 0 ? 1 : strncmp(val, "no", 2) == 0 ? 0 : atol(val);
	}
	fclose(f);
	return v;
}

/* Does the VMA that holds @addr in /proc/PID/smaps have "mg"? 1, 0, -1. */
static int raw_mg(pid_t pid, uintptr_t addr)
{
	char path[64], line[512];
	bool in = false;
	int r = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			in = addr >= lo && addr < hi;
		else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			r = strstr(line, " mg") != NULL;
			break;
		}
	}
	fclose(f);
	return r;
}

/* The syscall number the main thread is blocked in, -1 running, -2 unknown. */
static long raw_syscall(pid_t pid)
{
	char path[64], buf[256];
	long nr = -2;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	f = fopen(path, "re");
	if (!f)
		return -2;
	if (fgets(buf, sizeof(buf), f))
		nr = strncmp(buf, "running", 7) == 0 ? -1 : atol(buf);
	fclose(f);
	return nr;
}

/* Wait (at most 2 s) until the main thread is in syscall @nr again: right
 * after a detach it may still be on its way back in. */
static long wait_syscall(pid_t pid, long nr)
{
	double t0 = now_s();
	long v;

	while ((v = raw_syscall(pid)) != nr && now_s() - t0 < 2)
		sleep_ms(2);
	return v;
}

/* ------------------------------------------------------------------------ */
/* the steps                                                                 */

static void setup(void)
{
	ctx = new_ctx();
	ck_assert_int_eq(ksm_boost_begin(ctx, &boost), 0);
}

static void teardown(void)
{
	if (boost)
		ksm_boost_end(boost);
	boost = NULL;
	ksm_unref(ctx);
	ctx = NULL;
}

static void start(struct target *t, enum mode mode, long want_syscall)
{
	int fds[2];
	double t0;

	memset(t, 0, sizeof(*t));
	t->sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(t->sh, MAP_FAILED);
	ck_assert_int_eq(pipe(fds), 0);
	t->pid = fork();
	ck_assert_int_ge(t->pid, 0);
	if (t->pid == 0) {
		close(fds[1]);
		target_main(mode, t->sh, fds[0]);
	}
	close(fds[0]);
	t->pipe_w = fds[1];
	t0 = now_s();
	while (!t->sh->ready && now_s() - t0 < 10)
		sleep_ms(5);
	ck_assert_msg(t->sh->ready, "the target did not get ready");
	/* Wait until it really is where it should be. */
	if (want_syscall != -2) {
		while (raw_syscall(t->pid) != want_syscall && now_s() - t0 < 10)
			sleep_ms(5);
		ck_assert_int_eq(raw_syscall(t->pid), want_syscall);
	}
	if (mode == T_FLOOD) {
		t->spammer = fork();
		ck_assert_int_ge(t->spammer, 0);
		if (t->spammer == 0)
			spammer_main(t->pid, t->sh);
	}
}

/* Wait for the target's exit; assert it was normal and its own check passed. */
static void finish(struct target *t)
{
	int st;

	ck_assert_int_eq(waitpid(t->pid, &st, 0), t->pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "target: status 0x%x (%s)", st, t->sh->detail);
	ck_assert(t->sh->ok);
	close(t->pipe_w);
}

/* Poll ksm_stat's @key of @pid until @pred holds, at most @s seconds. */
static long wait_stat(pid_t pid, const char *key, bool at_least, long value, double s)
{
	double t0 = now_s();
	long v;

	for (;;) {
		v = raw_ksm_stat(pid, key);
		if ((at_least && v >= value) || (!at_least && v <= value) || now_s() - t0 > s)
			return v;
		sleep_ms(20);
	}
}

/* Off at first; enabled: mergeable and merged; disabled: off and unmerged. */
static void cycle_checked(struct target *t, unsigned int flags)
{
	pid_t pid = t->pid;
	uintptr_t region = t->sh->region;

	ck_assert_int_eq(raw_ksm_stat(pid, "ksm_merge_any"), 0);
	ck_assert_int_eq(raw_mg(pid, region), 0);
	ck_assert_int_eq(ksm_process_merge_state(ctx, pid), 0);

	int r = ksm_process_set_merge(ctx, pid, 1, flags);

	ck_assert_msg(r == 0, "enable: %d %s", r, ksm_strerror(r));
	ck_assert_int_eq(raw_ksm_stat(pid, "ksm_merge_any"), 1);
	ck_assert_int_eq(raw_mg(pid, region), 1);
	ck_assert_int_eq(ksm_process_merge_state(ctx, pid), KSM_PROCESS_MERGE_ANY);
	ck_assert_int_ge(wait_stat(pid, "ksm_merging_pages", true, MERGED_MIN, 30), MERGED_MIN);
	r = ksm_process_set_merge(ctx, pid, 0, flags);
	ck_assert_msg(r == 0, "disable: %d %s", r, ksm_strerror(r));
	ck_assert_int_eq(raw_ksm_stat(pid, "ksm_merge_any"), 0);
	ck_assert_int_eq(raw_mg(pid, region), 0);
	ck_assert_int_eq(ksm_process_merge_state(ctx, pid), 0);
	ck_assert_int_eq(wait_stat(pid, "ksm_merging_pages", false, 0, 30), 0);
}

/* ------------------------------------------------------------------------ */
/* the tests                                                                 */

START_TEST(test_sleeping)
{
	struct target t;

	setup();
	start(&t, T_SLEEP, SYS_clock_nanosleep);
	cycle_checked(&t, 0);
	/* Still asleep: the injections did not end the sleep early. */
	ck_assert_int_eq(wait_syscall(t.pid, SYS_restart_syscall), SYS_restart_syscall);
	finish(&t);
	/* A sleep of 8 s lasted 8 s. */
	ck_assert_msg(t.sh->elapsed >= 8.0 && t.sh->elapsed < 8.05, "slept %.4f s", t.sh->elapsed);
	teardown();
}
END_TEST

START_TEST(test_madvised)
{
	struct target t;
	pid_t pid;

	setup();
	start(&t, T_MADVISED, SYS_clock_nanosleep);
	pid = t.pid;
	/* It registered the region itself: madvise, not merge-any. */
	ck_assert_int_eq(raw_mg(pid, t.sh->region), 1);
	ck_assert_int_eq(ksm_process_merge_state(ctx, pid), KSM_PROCESS_MADVISED);
	ck_assert_int_ge(wait_stat(pid, "ksm_merging_pages", true, MERGED_MIN, 30), MERGED_MIN);
	/* Disabling unregisters and unmerges its ranges. */
	ck_assert_int_eq(ksm_process_set_merge(ctx, pid, 0, 0), 0);
	ck_assert_int_eq(raw_mg(pid, t.sh->region), 0);
	ck_assert_int_eq(ksm_process_merge_state(ctx, pid), 0);
	ck_assert_int_eq(wait_stat(pid, "ksm_merging_pages", false, 0, 30), 0);
	finish(&t);
	ck_assert_msg(t.sh->elapsed >= 8.0 && t.sh->elapsed < 8.05, "slept %.4f s", t.sh->elapsed);
	teardown();
}
END_TEST

START_TEST(test_reading)
{
	struct target t;

	setup();
	start(&t, T_READ, SYS_read);
	cycle_checked(&t, 0);
	/* The read was not ended by the injections: it gets exactly the payload. */
	ck_assert_int_eq(wait_syscall(t.pid, SYS_read), SYS_read);
	ck_assert_int_eq(write(t.pipe_w, "payload of 19 bytes", 19), 19);
	finish(&t);
	teardown();
}
END_TEST

START_TEST(test_pause_handler)
{
	struct target t;

	setup();
	start(&t, T_PAUSE, SYS_pause);
	cycle_checked(&t, 0);
	sleep_ms(300);
	/* Still in pause: no EINTR came from the injections. */
	ck_assert_int_eq(wait_syscall(t.pid, SYS_pause), SYS_pause);
	t.sh->sent = 1;
	ck_assert_int_eq(kill(t.pid, SIGUSR1), 0);
	finish(&t);
	teardown();
}
END_TEST

START_TEST(test_epoll)
{
	struct target t;

	setup();
	/* One thread in epoll_wait: it may see a spurious EINTR (as under a
	 * debugger), which its retry loop handles. */
	start(&t, T_EPOLL, SYS_epoll_wait);
	cycle_checked(&t, 0);
	ck_assert_int_eq(write(t.pipe_w, "x", 1), 1);
	finish(&t);
	teardown();
}
END_TEST

START_TEST(test_epoll_two_threads)
{
	struct target t;

	setup();
	start(&t, T_EPOLL2, SYS_epoll_wait);
	cycle_checked(&t, 0);
	ck_assert_int_eq(write(t.pipe_w, "x", 1), 1);
	finish(&t);
	/* The busy thread was chosen: the epoll thread saw no EINTR. */
	ck_assert_int_eq(t.sh->eintr, 0);
	teardown();
}
END_TEST

START_TEST(test_threads)
{
	struct target t;

	setup();
	start(&t, T_THREADS, SYS_futex);
	cycle_checked(&t, 0);
	t.sh->stop = 1;
	finish(&t);
	teardown();
}
END_TEST

START_TEST(test_busy)
{
	struct target t;

	setup();
	start(&t, T_BUSY, -1);
	cycle_checked(&t, 0);
	t.sh->stop = 1;
	finish(&t);
	teardown();
}
END_TEST

START_TEST(test_signal_flood)
{
	struct target t;
	int st;

	setup();
	start(&t, T_FLOOD, -2);
	for (int i = 0; i < 3; i++) {
		cycle_checked(&t, 0);
		sleep_ms(50);
	}
	t.sh->spam_stop = 1;
	ck_assert_int_eq(waitpid(t.spammer, &st, 0), t.spammer);
	/* Let the last queued signals arrive before the target counts. */
	sleep_ms(200);
	t.sh->stop = 1;
	finish(&t);
	ck_assert_int_gt(t.sh->alrm, 100);
	ck_assert_int_gt(t.sh->rt_sent, 1000);
	/* Nothing lost or duplicated. */
	ck_assert_int_eq(t.sh->rt_got, t.sh->rt_sent);
	teardown();
}
END_TEST

START_TEST(test_stopped)
{
	struct target t;

	setup();
	start(&t, T_BUSY, -1);
	ck_assert_int_eq(kill(t.pid, SIGSTOP), 0);
	while (proc_state(t.pid) != 'T')
		sleep_ms(5);
	cycle_checked(&t, 0);
	/* Still stopped after every injection. */
	sleep_ms(100);
	ck_assert_int_eq(proc_state(t.pid), 'T');
	ck_assert_int_eq(kill(t.pid, SIGCONT), 0);
	t.sh->stop = 1;
	finish(&t);
	teardown();
}
END_TEST

START_TEST(test_seccomp_errno)
{
	struct target t;

	setup();
	start(&t, T_SECCOMP_ERRNO, -1);
	/* Refused without force, untouched. */
	ck_assert_int_eq(ksm_process_set_merge(ctx, t.pid, 1, 0), -EBUSY);
	ck_assert_ptr_nonnull(strstr(ksm_strerror(-EBUSY), "seccomp"));
	ck_assert_int_eq(raw_ksm_stat(t.pid, "ksm_merge_any"), 0);
	/* With force the filter answers EPERM for the prctl: harmless. */
	ck_assert_int_eq(ksm_process_set_merge(ctx, t.pid, 1, KSM_FORCE), -EACCES);
	ck_assert_int_eq(raw_ksm_stat(t.pid, "ksm_merge_any"), 0);
	t.sh->stop = 1;
	finish(&t);
	teardown();
}
END_TEST

START_TEST(test_seccomp_kill)
{
	struct target t;

	setup();
	start(&t, T_SECCOMP_KILL, -1);
	/* A filter that would kill it: refused, the target lives on untouched. */
	ck_assert_int_eq(ksm_process_set_merge(ctx, t.pid, 1, 0), -EBUSY);
	ck_assert_int_eq(ksm_process_set_merge(ctx, t.pid, 0, 0), -EBUSY);
	ck_assert_int_eq(raw_ksm_stat(t.pid, "ksm_merge_any"), 0);
	t.sh->stop = 1;
	finish(&t);
	teardown();
}
END_TEST

/* Forced against a filter that kills for the prctl: the documented outcome
 * is that the filter kills the target with SIGSYS, and the call says so with
 * -ESRCH. The target, the test's own child, is not reaped by the library:
 * its status stays for its parent. */
START_TEST(test_seccomp_kill_forced)
{
	struct target t;
	int r, st;

	setup();
	start(&t, T_SECCOMP_KILL, -1);
	r = ksm_process_set_merge(ctx, t.pid, 1, KSM_FORCE);
	ck_assert_msg(r == -ESRCH, "forced enable: %d %s", r, ksm_strerror(r));
	ck_assert_ptr_nonnull(strstr(ksm_strerror(r), "killed by SIGSYS"));
	ck_assert_ptr_nonnull(strstr(ksm_strerror(r), "seccomp"));
	ck_assert_int_eq(waitpid(t.pid, &st, 0), t.pid);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "target: status 0x%x", st);
	close(t.pipe_w);
	teardown();
}
END_TEST

START_TEST(test_traced)
{
	struct target t;
	int ready[2], hold[2], st;
	pid_t tracer;
	char c;

	setup();
	start(&t, T_BUSY, -1);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(hold), 0);
	tracer = fork();
	ck_assert_int_ge(tracer, 0);
	if (tracer == 0) {
		close(ready[0]);
		close(hold[1]);
		if (ptrace(PTRACE_SEIZE, t.pid, 0, 0) < 0)
			_exit(1);
		if (write(ready[1], "s", 1) != 1)
			_exit(1);
		/* Hold it until the test closes the pipe; exiting detaches. */
		if (read(hold[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	/* Traced by another: -EPERM (PTRACE_SEIZE's own answer), left untouched,
	 * for both directions and for the query. */
	ck_assert_int_eq(ksm_process_set_merge(ctx, t.pid, 1, 0), -EPERM);
	ck_assert_ptr_nonnull(strstr(ksm_strerror(-EPERM), "traces it already"));
	ck_assert_int_eq(ksm_process_set_merge(ctx, t.pid, 0, KSM_FORCE), -EPERM);
	ck_assert_int_eq(raw_ksm_stat(t.pid, "ksm_merge_any"), 0);
	ck_assert_int_eq(raw_mg(t.pid, t.sh->region), 0);
	{
		char path[64], line[128];
		long tracer_seen = -1;
		FILE *f;

		/* Still traced by the same tracer: nothing detached it. */
		snprintf(path, sizeof(path), "/proc/%d/status", t.pid);
		f = fopen(path, "re");
		ck_assert_ptr_nonnull(f);
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "TracerPid:", 10) == 0)
				tracer_seen = atol(line + 10);
		fclose(f);
		ck_assert_int_eq(tracer_seen, tracer);
	}
	close(hold[1]);
	close(ready[0]);
	ck_assert_int_eq(waitpid(tracer, &st, 0), tracer);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Once the tracer is gone, it works. */
	cycle_checked(&t, 0);
	t.sh->stop = 1;
	finish(&t);
	teardown();
}
END_TEST

/* A caller without ptrace access (another user, no CAP_SYS_PTRACE): -EPERM,
 * the target untouched. */
START_TEST(test_no_access)
{
	struct target t;
	pid_t child;
	int st;

	setup();
	start(&t, T_BUSY, -1);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		struct ksm_ctx *c;
		int r;

		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		if (ksm_new(&c) < 0)
			_exit(11);
		r = ksm_process_set_merge(c, t.pid, 1, 0);
		if (r != -EPERM)
			_exit(12);
		if (!strstr(ksm_strerror(r), "no ptrace access"))
			_exit(13);
		r = ksm_process_set_merge(c, t.pid, 0, KSM_FORCE);
		_exit(r == -EPERM ? 0 : 14);
	}
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "unprivileged caller: status 0x%x", st);
	ck_assert_int_eq(raw_ksm_stat(t.pid, "ksm_merge_any"), 0);
	ck_assert_int_eq(raw_mg(t.pid, t.sh->region), 0);
	t.sh->stop = 1;
	finish(&t);
	teardown();
}
END_TEST

START_TEST(test_no_process)
{
	pid_t pid;
	int st;

	setup();
	pid = fork();
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(ksm_process_set_merge(ctx, pid, 1, 0), -ESRCH);
	ck_assert_int_eq(ksm_process_set_merge(ctx, 0, 1, 0), -EINVAL);
	ck_assert_int_eq(ksm_process_set_merge(ctx, getpid(), 1, 0x80), -EINVAL);
	teardown();
}
END_TEST

/* 200 enable/disable cycles on a busy and on a sleeping target; every 20th
 * waits for the merge so that the disable has pages to unmerge. */
static void cycles(enum mode mode, long want)
{
	struct target t;

	setup();
	start(&t, mode, want);
	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(ksm_process_set_merge(ctx, t.pid, 1, 0), 0);
		ck_assert_int_eq(raw_ksm_stat(t.pid, "ksm_merge_any"), 1);
		if (i % 20 == 0)
			ck_assert_int_ge(wait_stat(t.pid, "ksm_merging_pages", true, MERGED_MIN, 30),
					 MERGED_MIN);
		ck_assert_int_eq(ksm_process_set_merge(ctx, t.pid, 0, 0), 0);
		ck_assert_int_eq(raw_ksm_stat(t.pid, "ksm_merge_any"), 0);
	}
	ck_assert_int_eq(wait_stat(t.pid, "ksm_merging_pages", false, 0, 30), 0);
	t.sh->stop = 1;
	if (mode == T_READ)
		ck_assert_int_eq(write(t.pipe_w, "payload of 19 bytes", 19), 19);
	finish(&t);
	teardown();
}

START_TEST(test_cycles_busy)
{
	cycles(T_BUSY, -1);
}
END_TEST

START_TEST(test_cycles_reading)
{
	cycles(T_READ, SYS_read);
}
END_TEST

static Suite *remote_suite(void)
{
	Suite *s = suite_create("remote");

	guard_add(s, "sleeping", test_sleeping);
	guard_add(s, "madvised", test_madvised);
	guard_add(s, "reading", test_reading);
	guard_add(s, "pause", test_pause_handler);
	guard_add(s, "epoll", test_epoll);
	guard_add(s, "epoll2", test_epoll_two_threads);
	guard_add(s, "threads", test_threads);
	guard_add(s, "busy", test_busy);
	guard_add(s, "flood", test_signal_flood);
	guard_add(s, "stopped", test_stopped);
	guard_add(s, "seccomp_errno", test_seccomp_errno);
	guard_add(s, "seccomp_kill", test_seccomp_kill);
	guard_add(s, "seccomp_kill_forced", test_seccomp_kill_forced);
	guard_add(s, "traced", test_traced);
	guard_add(s, "no_access", test_no_access);
	guard_add(s, "no_process", test_no_process);
	guard_add(s, "cycles_busy", test_cycles_busy);
	guard_add(s, "cycles_reading", test_cycles_reading);
	return s;
}

int main(void)
{
	return guard_main(guard_missing_injection, remote_suite, NULL);
}

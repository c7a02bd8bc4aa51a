// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The process_ksm backend of ksm_process_set_merge() and
 * ksm_process_merge_state() without a patched kernel: the 6.18 tree with a
 * fake /sys/kernel/process_ksm (numbers 467, 468, 469, as on a 6.13-based
 * CachyOS kernel) and, in a forked child, a seccomp filter that traps those
 * numbers into a SIGSYS handler playing the kernel: it records the calls,
 * checks that the pidfd names the process asked for, and answers.
 *
 * Skipped where seccomp filters cannot be installed (valgrind) and on
 * architectures other than x86-64 (the handler reads x86-64 registers).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <ksm.h>

#include "testutil.h"
#include "trap.h"

#define NR_ENABLE 467
#define NR_DISABLE 468
#define NR_STATUS 469

static char *root;
static struct ksm_ctx *ctx;


#if defined(__x86_64__)

/* The fake kernel: the calls it saw and what it answers. */
static struct {
	struct {
		long nr, flags;
		int pid; /* the process the pidfd refers to */
	} calls[16];
	int ncalls;
	long answer[3]; /* per syscall: the result (or -errno) */
} k;

/* The pid of a pidfd, from /proc/self/fdinfo (async-signal-safe enough here). */
static int pidfd_pid(int fd)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nPid:");
	return p ? atoi(p + 5) : -1;
}

static void sigsys(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	int saved = errno;
	long nr = si->si_syscall;

	(void)sig;
	if (k.ncalls < 16) {
		k.calls[k.ncalls].nr = nr;
		k.calls[k.ncalls].pid = pidfd_pid((int)g[REG_RDI]);
		k.calls[k.ncalls].flags = g[REG_RSI];
		k.ncalls++;
	}
	g[REG_RAX] = nr >= NR_ENABLE && nr <= NR_STATUS ? k.answer[nr - NR_ENABLE] : -ENOSYS;
	errno = saved;
}

/* In the child: trap the three numbers into the fake kernel. */
static void trap_process_ksm(void)
{
	memset(&k, 0, sizeof(k));
	trap_syscalls(NR_ENABLE, NR_STATUS, sigsys);
}

/* This process in the fake tree: ksm_stat without ksm_merge_any (as before
 * 6.14), so the state must come from process_ksm_status. */
static void fake_self(const char *smaps)
{
	char rel[64], dir[4200];

	snprintf(dir, sizeof(dir), "%s/proc/%d", root, getpid());
	CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST);
	snprintf(rel, sizeof(rel), "proc/%d/ksm_stat", getpid());
	tu_write(root, rel, "ksm_rmap_items 10\nksm_zero_pages 0\nksm_merging_pages 5\n"
			    "ksm_process_profit 100\n");
	snprintf(rel, sizeof(rel), "proc/%d/smaps", getpid());
	tu_write(root, rel, smaps);
}

#define SMAPS_PLAIN                                                                  \
	"7f0000000000-7f0000100000 rw-p 00000000 00:00 0 \nSize: 1024 kB\n"          \
	"VmFlags: rd wr mr mw me ac sd \n"

static void child_calls(void)
{
	pid_t self = getpid();

	fake_self(SMAPS_PLAIN);
	trap_process_ksm();

	/* enable: process_ksm_enable(pidfd of the process, 0). */
	CHECK_EQ(ksm_process_set_merge(ctx, self, 1, 0), 0);
	CHECK_EQ(k.ncalls, 1);
	CHECK_EQ(k.calls[0].nr, NR_ENABLE);
	CHECK_EQ(k.calls[0].pid, self);
	CHECK_EQ(k.calls[0].flags, 0);

	/* state: ksm_stat has no ksm_merge_any here, so process_ksm_status. */
	k.answer[2] = 1;
	CHECK_EQ(ksm_process_merge_state(ctx, self), KSM_PROCESS_MERGE_ANY);
	CHECK_EQ(k.ncalls, 2);
	CHECK_EQ(k.calls[1].nr, NR_STATUS);
	CHECK_EQ(k.calls[1].pid, self);
	k.answer[2] = 0;
	CHECK_EQ(ksm_process_merge_state(ctx, self), 0);

	/* disable: process_ksm_disable; no ranges of its own remain. */
	CHECK_EQ(ksm_process_set_merge(ctx, self, 0, 0), 0);
	CHECK_EQ(k.calls[3].nr, NR_DISABLE);
	CHECK_EQ(k.calls[3].pid, self);
	CHECK_EQ(k.ncalls, 4);

	/* The kernel's errors, mapped. */
	k.answer[0] = -EPERM;
	CHECK_EQ(ksm_process_set_merge(ctx, self, 1, 0), -EACCES);
	CHECK(strstr(ksm_strerror(-EACCES), "CAP_SYS_NICE"));
	/* The kernel's ptrace access check on the target: "cannot be traced". */
	k.answer[0] = -EACCES;
	CHECK_EQ(ksm_process_set_merge(ctx, self, 1, 0), -EPERM);
	CHECK(strstr(ksm_strerror(-EPERM), "no ptrace access"));
	k.answer[0] = -ESRCH;
	CHECK_EQ(ksm_process_set_merge(ctx, self, 1, 0), -ESRCH);
	k.answer[1] = -ENOMEM;
	CHECK_EQ(ksm_process_set_merge(ctx, self, 0, 0), -ENOMEM);
	k.answer[1] = -EINTR;
	CHECK_EQ(ksm_process_set_merge(ctx, self, 0, 0), -EINTR);
	CHECK_EQ(k.ncalls, 9);
	/* Bad arguments reach no kernel. */
	CHECK_EQ(ksm_process_set_merge(ctx, 0, 1, 0), -EINVAL);
	CHECK_EQ(ksm_process_set_merge(ctx, self, 1, 0x100), -EINVAL);
	CHECK_EQ(ksm_process_merge_state(ctx, -1), -EINVAL);
	CHECK_EQ(k.ncalls, 9);
}

/* Without the numbers in sysfs, the syscalls are never called. */
static void child_no_numbers(void)
{
	pid_t self = getpid();

	fake_self(SMAPS_PLAIN);
	tu_write(root, "sys/kernel/process_ksm/process_ksm_status", "");
	trap_process_ksm();
	ksm_process_merge_state(ctx, self);
	ksm_process_set_merge(ctx, self, 1, 0);
	CHECK_EQ(k.ncalls, 0);
}

#endif

static void setup(void)
{
	char dir[4200];

	root = tu_sysroot_copy("6.18");
	snprintf(dir, sizeof(dir), "%s/sys/kernel/process_ksm", root);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	tu_write(root, "sys/kernel/process_ksm/process_ksm_enable", "467\n");
	tu_write(root, "sys/kernel/process_ksm/process_ksm_disable", "468\n");
	tu_write(root, "sys/kernel/process_ksm/process_ksm_status", "469\n");
	ck_assert_int_eq(ksm_new_at(&ctx, root), 0);
}

static void teardown(void)
{
	tu_unuse(&root, &ctx);
}

START_TEST(calls)
{
#if defined(__x86_64__)
	ck_assert_int_eq(trap_run("calls", child_calls), 0);
#endif
}
END_TEST

START_TEST(no_numbers)
{
#if defined(__x86_64__)
	ck_assert_int_eq(trap_run("no_numbers", child_no_numbers), 0);
#endif
}
END_TEST

static Suite *process_ksm_suite(void)
{
	Suite *s = suite_create("process_ksm");
	TCase *tc = tcase_create("process_ksm");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, calls);
	tcase_add_test(tc, no_numbers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(process_ksm_suite());
}

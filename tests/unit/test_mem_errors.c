// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the memory calls make of the kernel's errors, without that kernel:
 * in a forked child, a seccomp filter makes madvise(MADV_MERGEABLE /
 * MADV_UNMERGEABLE) and prctl(PR_SET/GET_MEMORY_MERGE) fail with a chosen
 * errno, as a kernel without KSM, a process at vm.max_map_count or a range
 * with holes would, and the test checks the library's code for each (one
 * meaning per errno, libksm(3) ERRORS):
 *   madvise EINVAL  -> -EOPNOTSUPP  (no KSM in the kernel)
 *   madvise ENOMEM  -> -EFAULT      (unmapped holes)
 *   madvise EAGAIN  -> -ENOMEM      (out of memory, vm.max_map_count)
 *   madvise EINTR   -> -EINTR       (unmerging interrupted)
 *   prctl   EINVAL  -> -EOPNOTSUPP  (no PR_SET_MEMORY_MERGE)
 * Skipped where seccomp filters cannot be installed (valgrind).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <ksm.h>

#include "testutil.h"
#include "trap.h"

#define PRCTL_SET_MEMORY_MERGE 67
#define PRCTL_GET_MEMORY_MERGE 68
#ifndef MADV_MERGEABLE
#define MADV_MERGEABLE 12
#define MADV_UNMERGEABLE 13
#endif

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

/* In the child, as CHECK_EQ() (trap.h): a failure prints and exits 1. */
#define CHECK_MENTIONS(err, what)                                                                   \
	do {                                                                                        \
		const char *_m = ksm_strerror(err);                                                 \
		if (!_m || !strstr(_m, what)) {                                                     \
			fprintf(stderr, "%s:%d: ksm_strerror(%d) = \"%s\" lacks \"%s\"\n", __FILE__,     \
				__LINE__, (int)(err), _m ? _m : "(null)", what);                    \
			_exit(1);                                                                   \
		}                                                                                   \
	} while (0)

#ifdef NATIVE_ARCH

/*
 * Fail madvise(*, *, MADV_MERGEABLE or MADV_UNMERGEABLE) with @madvise_err
 * and prctl(PR_SET/GET_MEMORY_MERGE, ...) with @prctl_err (0: allowed).
 * Exits TRAP_SKIP if no filter can be installed.
 */
static void fail_syscalls(int madvise_err, int prctl_err)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_madvise, 0, 5),
		/* madvise: the advice, args[2] (its low word on these little-endian machines) */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MADV_MERGEABLE, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MADV_UNMERGEABLE, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, madvise_err ? SECCOMP_RET_ERRNO | (madvise_err & SECCOMP_RET_DATA)
						      : SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_prctl, 0, 4),
		/* prctl: the option, args[0] */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PRCTL_SET_MEMORY_MERGE, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PRCTL_GET_MEMORY_MERGE, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, prctl_err ? SECCOMP_RET_ERRNO | (prctl_err & SECCOMP_RET_DATA)
						    : SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(TRAP_SKIP);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		_exit(TRAP_SKIP);
}

static char *page(void)
{
	char *p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		_exit(3);
	p[0] = 1;
	return p;
}

static void child_no_ksm(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p = page();

	fail_syscalls(EINVAL, EINVAL);
	CHECK_EQ(ksm_mark_mergeable(p, (size_t)ps), -EOPNOTSUPP);
	CHECK_MENTIONS(-EOPNOTSUPP, "KSM");
	CHECK_EQ(ksm_mark_unmergeable(p, (size_t)ps), -EOPNOTSUPP);
	CHECK_EQ(ksm_set_process_merge(1), -EOPNOTSUPP);
	CHECK_EQ(ksm_set_process_merge(0), -EOPNOTSUPP);
	CHECK_EQ(ksm_get_process_merge(), -EOPNOTSUPP);
	/* checked before the kernel: still -EINVAL */
	CHECK_EQ(ksm_mark_mergeable((void *)(UINTPTR_MAX - 10), 100), -EINVAL);
	/* nothing to do: no call, no error */
	CHECK_EQ(ksm_mark_mergeable(p, 0), 0);
}

START_TEST(no_ksm)
{
	ck_assert_int_eq(trap_run("no_ksm", child_no_ksm), 0);
}
END_TEST

/* madvise's ENOMEM: the range had unmapped holes. */
static void child_holes(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p = page();

	fail_syscalls(ENOMEM, 0);
	CHECK_EQ(ksm_mark_mergeable(p, (size_t)ps), -EFAULT);
	CHECK_MENTIONS(-EFAULT, "unmapped");
	CHECK_EQ(ksm_mark_unmergeable(p, (size_t)ps), -EFAULT);
}

START_TEST(holes)
{
	ck_assert_int_eq(trap_run("holes", child_holes), 0);
}
END_TEST

/* madvise's EAGAIN: out of memory, or the split would exceed vm.max_map_count. */
static void child_no_memory(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p = page();

	fail_syscalls(EAGAIN, 0);
	CHECK_EQ(ksm_mark_mergeable(p, (size_t)ps), -ENOMEM);
	CHECK_MENTIONS(-ENOMEM, "max_map_count");
	CHECK_EQ(ksm_mark_unmergeable(p, (size_t)ps), -ENOMEM);
}

START_TEST(no_memory)
{
	ck_assert_int_eq(trap_run("no_memory", child_no_memory), 0);
}
END_TEST

/* madvise's EINTR while unmerging. */
static void child_interrupted(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p = page();

	fail_syscalls(EINTR, 0);
	CHECK_EQ(ksm_mark_unmergeable(p, (size_t)ps), -EINTR);
}

START_TEST(interrupted)
{
	ck_assert_int_eq(trap_run("interrupted", child_interrupted), 0);
}
END_TEST

/* A kernel with KSM but without the prctl (before 6.4): only the process-wide calls fail. */
static void child_no_prctl(void)
{
	fail_syscalls(0, EINVAL);
	CHECK_EQ(ksm_set_process_merge(1), -EOPNOTSUPP);
	CHECK_EQ(ksm_get_process_merge(), -EOPNOTSUPP);
}

START_TEST(no_prctl)
{
	ck_assert_int_eq(trap_run("no_prctl", child_no_prctl), 0);
}
END_TEST

#else

START_TEST(no_ksm)
{
	printf("skipped: no seccomp architecture for this machine in the test\n");
}
END_TEST

START_TEST(holes)
{
}
END_TEST

START_TEST(no_memory)
{
}
END_TEST

START_TEST(interrupted)
{
}
END_TEST

START_TEST(no_prctl)
{
}
END_TEST

#endif

static Suite *mem_errors_suite(void)
{
	Suite *s = suite_create("mem_errors");
	TCase *tc = tcase_create("madvise and prctl");

	tcase_add_test(tc, no_ksm);
	tcase_add_test(tc, holes);
	tcase_add_test(tc, no_memory);
	tcase_add_test(tc, interrupted);
	tcase_add_test(tc, no_prctl);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(mem_errors_suite());
}

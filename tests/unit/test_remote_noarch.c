// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Where libksm cannot inject system calls (every architecture but x86-64,
 * until ported), ksm_process_set_merge() and ksm_process_merge_state() must
 * fail with -EOPNOTSUPP and a message that says what to use instead. This
 * test builds lib/ksm_remote.c with LIBKSM_NO_INJECTION, the build-time
 * switch that takes the path those architectures take, so that the path is
 * tested on every build host. It runs against a fake sysroot without the
 * process_ksm syscalls.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ksm.h"
#include "internal.h"
#include "testutil.h"

#ifndef LIBKSM_NO_INJECTION
#error "this test is built with -DLIBKSM_NO_INJECTION"
#endif

static void assert_alternatives(int r)
{
	const char *m = ksm_strerror(r);

	ck_assert_int_eq(r, -EOPNOTSUPP);
	ck_assert_msg(strstr(m, "x86-64"), "message: %s", m);
	ck_assert_msg(strstr(m, "ksmctl exec"), "message: %s", m);
	ck_assert_msg(strstr(m, "mem-merge"), "message: %s", m);
	ck_assert_msg(strstr(m, "MemoryKSM="), "message: %s", m);
}

START_TEST(no_injection)
{
	char *root = tu_sysroot_copy("6.18");
	struct ksm_ctx *ctx;
	const long args[6] = { 0 };
	pid_t child;
	int st;

	ck_assert_int_eq(ksm_new_at(&ctx, root), 0);
	/* A real process of the test's own, asleep. */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_alternatives(ksm_process_set_merge(ctx, child, 1, 0));
	assert_alternatives(ksm_process_set_merge(ctx, child, 0, 0));
	assert_alternatives(ksm_process_set_merge(ctx, child, 0, KSM_FORCE));
	/* Without ksm_merge_any in ksm_stat (a 6.1 kernel's file) there is
	 * nothing else to ask. */
	{
		char rel[64], dir[4200];

		snprintf(dir, sizeof(dir), "%s/proc/%d", root, (int)child);
		mkdir(dir, 0755);
		snprintf(rel, sizeof(rel), "proc/%d/ksm_stat", (int)child);
		tu_write(root, rel, "ksm_rmap_items 0\nksm_merging_pages 0\n");
	}
	ck_assert_int_eq(ksm_process_merge_state(ctx, child), -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(ksm_strerror(-EOPNOTSUPP), "ksm_merge_any"));
	ck_assert_int_eq(ksm_inject_syscall(ctx, child, 39, args), -EOPNOTSUPP);
	/* The process was not touched: it still sleeps, and dies of our signal. */
	ck_assert_int_eq(kill(child, SIGKILL), 0);
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* No process at all: that comes first. */
	ck_assert_int_eq(ksm_process_set_merge(ctx, child, 1, 0), -ESRCH);
	ksm_unref(ctx);
	tu_rmtree(root);
	free(root);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("remote-noarch");
	TCase *tc = tcase_create("noarch");

	tcase_add_test(tc, no_injection);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/* Fake system calls for the unit tests: a seccomp filter in a forked child; see trap.h. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "trap.h"

int trap_in_child(void (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child died of signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

int trap_run(const char *test, void (*fn)(void))
{
	int r = trap_in_child(fn);

	if (r == TRAP_SKIP)
		printf("%s: skipped, seccomp filters are not available here (valgrind?)\n", test);
	return r == TRAP_SKIP ? 0 : r;
}

#if defined(__x86_64__)
void trap_syscalls(long first, long last, void (*handler)(int sig, siginfo_t *si, void *uc))
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (__u32)first, 0, 2),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (__u32)last, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO };

	CHECK(sigaction(SIGSYS, &sa, NULL) == 0);
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	/* Valgrind and kernels without CONFIG_SECCOMP_FILTER cannot filter: skip. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
		if (errno == ENOSYS || errno == EINVAL)
			_exit(TRAP_SKIP);
		CHECK(!"seccomp(SECCOMP_SET_MODE_FILTER) failed");
	}
}
#endif

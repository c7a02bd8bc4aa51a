// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests that play the kernel's side of system calls: each test body
 * runs in a forked child (so that a seccomp filter stays there), where
 * check's assertions do not belong; CHECK() and CHECK_EQ() print and exit 1
 * instead. A child that cannot install its filter (valgrind, a kernel
 * without CONFIG_SECCOMP_FILTER) exits TRAP_SKIP.
 */
#ifndef LIBKSM_TESTS_TRAP_H
#define LIBKSM_TESTS_TRAP_H

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#define TRAP_SKIP 77 /* exit status of a child that cannot run its test */

/* In the child: check failures print and exit 1. */
#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			_exit(1);                                                    \
		}                                                                    \
	} while (0)
#define CHECK_EQ(a, b)                                                               \
	do {                                                                         \
		long long _a = (long long)(a), _b = (long long)(b);                  \
		if (_a != _b) {                                                      \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, \
				__LINE__, #a, _a, #b, _b);                           \
			_exit(1);                                                    \
		}                                                                    \
	} while (0)

/*
 * Run @fn in a forked child, which exits 0 when @fn returns; the child's
 * exit status. Fails the test if the child died of a signal.
 */
int trap_in_child(void (*fn)(void));

/*
 * trap_in_child(), where a child's TRAP_SKIP counts as a pass: "@test:
 * skipped, ..." is printed and 0 returned.
 */
int trap_run(const char *test, void (*fn)(void));

#if defined(__x86_64__)
/*
 * In the child: send the x86-64 system calls @first..@last to @handler
 * (SIGSYS, SA_SIGINFO), which plays the kernel and puts its result in the
 * saved registers; every other call goes through. Exits TRAP_SKIP where no
 * seccomp filter can be installed.
 */
void trap_syscalls(long first, long last, void (*handler)(int sig, siginfo_t *si, void *uc));
#endif

#endif

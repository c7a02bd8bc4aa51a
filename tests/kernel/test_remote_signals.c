// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The injection's signal paths that a signal storm hits only by chance,
 * made to happen every time: a signal that becomes pending after the
 * injected system call ran and before the single-step trap is reported.
 *
 * The injected call itself sends the signal to the target's own thread
 * (tgkill), through the library's internal injection (lib/internal.h), so
 * the signal is pending at the very moment the kernel reports the trap:
 *  - SIGUSR1: the trap is reported first (the kernel takes signals of its
 *    own making first); SIGUSR1 stays pending and must reach the target's
 *    handler after the detach, exactly once;
 *  - SIGTRAP: the kernel's trap is dropped, since a SIGTRAP is already
 *    pending and standard signals do not queue twice; the stop the
 *    injector sees is the target's own SIGTRAP, which must not be taken for
 *    the trap and swallowed, but delivered, exactly once;
 *  - SIGSTOP: the target stops after the detach, and resumes on SIGCONT.
 * Each is repeated; the target's computation must stay exact and it must
 * exit normally. Targets are this test's own children. No knob is touched.
 * Needs root and x86-64 (skipped otherwise).
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ksm.h"
#include "internal.h"
#include "guard.h"

#define ROUNDS 20

struct shared {
	volatile int ready, stop, ok;
	volatile long usr1, trap;
};

static struct shared *sh;

static void on_usr1(int sig)
{
	(void)sig;
	sh->usr1++;
}

static void on_trap(int sig)
{
	(void)sig;
	sh->trap++;
}

static uint64_t compute(uint64_t n)
{
	uint64_t a = 1, b = 2, c = 3;

	for (uint64_t i = 0; i < n; i++) {
		a ^= a << 13; a ^= a >> 7; a ^= a << 17;
		b += a; c ^= b * 3 + i;
	}
	return a ^ b ^ c;
}

static void target_main(void)
{
	struct sigaction sa = { .sa_flags = SA_RESTART };
	uint64_t r0 = compute(100000);
	bool ok = true;

	sigfillset(&sa.sa_mask); /* handlers do not nest: no lost increment */
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_trap;
	sigaction(SIGTRAP, &sa, NULL);
	sh->ready = 1;
	while (!sh->stop)
		if (compute(100000) != r0)
			ok = false;
	sh->ok = ok;
	_exit(ok ? 0 : 1);
}

static char state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p ? p[2] : '?';
}

/* Wait at most 2 s for *@v to reach @want; its value. */
static long wait_count(volatile long *v, long want)
{
	double t0 = now_s();

	while (*v < want && now_s() - t0 < 2)
		sleep_ms(1);
	return *v;
}

START_TEST(test_signal_after_call)
{
	struct ksm_ctx *ctx = new_ctx();
	pid_t pid;
	double t0;
	int st;

	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(sh, MAP_FAILED);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		target_main();
	t0 = now_s();
	while (!sh->ready && now_s() - t0 < 10)
		sleep_ms(2);
	ck_assert(sh->ready);

	for (int i = 1; i <= ROUNDS; i++) {
		const long usr1[6] = { pid, pid, SIGUSR1 }, trap[6] = { pid, pid, SIGTRAP };
		long r;

		r = ksm_inject_syscall(ctx, pid, SYS_tgkill, usr1);
		ck_assert_msg(r == 0, "tgkill SIGUSR1: %ld %s", r, ksm_strerror((int)r));
		ck_assert_int_eq(wait_count(&sh->usr1, i), i);
		r = ksm_inject_syscall(ctx, pid, SYS_tgkill, trap);
		ck_assert_msg(r == 0, "tgkill SIGTRAP: %ld %s", r, ksm_strerror((int)r));
		ck_assert_int_eq(wait_count(&sh->trap, i), i);
	}
	/* Delivered once each: nothing late, nothing doubled. */
	sleep_ms(100);
	ck_assert_int_eq(sh->usr1, ROUNDS);
	ck_assert_int_eq(sh->trap, ROUNDS);

	/* A stop signal pending at the trap: the target stops after the detach. */
	{
		const long stop[6] = { pid, pid, SIGSTOP };

		ck_assert_int_eq(ksm_inject_syscall(ctx, pid, SYS_tgkill, stop), 0);
		t0 = now_s();
		while (state(pid) != 'T' && now_s() - t0 < 2)
			sleep_ms(1);
		ck_assert_int_eq(state(pid), 'T');
		ck_assert_int_eq(kill(pid, SIGCONT), 0);
	}

	sh->stop = 1;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "target: status 0x%x", st);
	ck_assert(sh->ok);
	ck_assert_int_eq(sh->usr1, ROUNDS);
	ck_assert_int_eq(sh->trap, ROUNDS);
	munmap(sh, 4096);
	ksm_unref(ctx);
}
END_TEST

int main(void)
{
	char why[256];
	Suite *s;

	if (guard_usable(why, sizeof(why)) < 0) {
		printf("SKIP: %s\n", why);
		return 77;
	}
#if !defined(__x86_64__)
	printf("SKIP: the injection backend is x86-64 only\n");
	return 77;
#endif
	s = suite_create("remote-signals");
	guard_add(s, "signal_after_call", test_signal_after_call);
	return guard_run(s);
}

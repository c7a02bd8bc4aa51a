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
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
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
		while (proc_state(pid) != 'T' && now_s() - t0 < 2)
			sleep_ms(1);
		ck_assert_int_eq(proc_state(pid), 'T');
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

/* SigBlk of thread @tid of @pid, SigIgn of the process: SIGTRAP's bit. */
static int trap_bits(pid_t pid, pid_t tid, const char *key)
{
	char path[96], line[256];
	unsigned long long mask = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			mask = strtoull(line + strlen(key), NULL, 16);
	fclose(f);
	return (mask >> (SIGTRAP - 1)) & 1;
}

static void *trap_free_worker(void *arg)
{
	sigset_t none;

	(void)arg;
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	for (;;)
		pause();
	return NULL;
}

/* mode 0: SIGTRAP blocked; 1: ignored; 2: blocked in the main thread, a
 * second thread has it unblocked. */
static pid_t trap_target(int mode)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sigset_t trap;

		sigemptyset(&trap);
		sigaddset(&trap, SIGTRAP);
		if (mode == 1)
			signal(SIGTRAP, SIG_IGN);
		else
			pthread_sigmask(SIG_BLOCK, &trap, NULL);
		if (mode == 2) {
			pthread_t th;
			sigset_t none;

			sigemptyset(&none);
			pthread_create(&th, NULL, trap_free_worker, NULL);
		}
		for (;;)
			pause();
	}
	sleep_ms(100);
	return pid;
}

static long merge_any(pid_t pid)
{
	char path[64], line[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/ksm_stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "ksm_merge_any:", 14) == 0)
			v = strstr(line, "yes") != NULL;
	fclose(f);
	return v;
}

/*
 * The single-step trap is forced on the stopped thread, and the kernel
 * unblocks SIGTRAP (or resets an ignored one) to force it: a lasting change
 * to the target. Such targets are refused, untouched, unless forced; a
 * thread with SIGTRAP unblocked is chosen where there is one.
 */
START_TEST(test_sigtrap_state)
{
	struct ksm_ctx *ctx = new_ctx();
	pid_t pid;
	int st, r;

	for (int mode = 0; mode < 2; mode++) {
		pid = trap_target(mode);
		r = ksm_process_set_merge(ctx, pid, 1, 0);
		ck_assert_msg(r == -EBUSY, "mode %d: %d %s", mode, r, ksm_strerror(r));
		ck_assert_ptr_nonnull(strstr(ksm_strerror(r), "SIGTRAP"));
		ck_assert_int_eq(trap_bits(pid, pid, mode ? "SigIgn:" : "SigBlk:"), 1);
		ck_assert_int_eq(merge_any(pid), 0);
		/* Forced: done, and the change the message warned of happened. */
		ck_assert_int_eq(ksm_process_set_merge(ctx, pid, 1, KSM_FORCE), 0);
		ck_assert_int_eq(merge_any(pid), 1);
		ck_assert_int_eq(trap_bits(pid, pid, mode ? "SigIgn:" : "SigBlk:"), 0);
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	}
	/* Another thread has SIGTRAP unblocked: it is the one stopped. */
	pid = trap_target(2);
	ck_assert_int_eq(ksm_process_set_merge(ctx, pid, 1, 0), 0);
	ck_assert_int_eq(merge_any(pid), 1);
	ck_assert_int_eq(ksm_process_set_merge(ctx, pid, 0, 0), 0);
	ck_assert_int_eq(merge_any(pid), 0);
	ck_assert_int_eq(trap_bits(pid, pid, "SigBlk:"), 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ksm_unref(ctx);
}
END_TEST

/* The log says how many ranges the window locked. */
static int locked_ranges = -1;

static void on_log(void *data, int priority, const char *file, int line, const char *fn,
		   const char *format, va_list args)
{
	char msg[256];

	(void)data; (void)priority; (void)file; (void)line; (void)fn;
	vsnprintf(msg, sizeof(msg), format, args);
	if (strstr(msg, "window locked in memory"))
		locked_ranges = atoi(msg);
}

/* VmLck of this process in kB. */
static long vmlck(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmLck:", 6) == 0)
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

/*
 * The window's code, its stack and the libc functions it calls are locked
 * for the injection and unlocked after it; a caller that locks memory of
 * its own is left as it was (its locks are not undone).
 */
START_TEST(test_window_locked)
{
	struct ksm_ctx *ctx = new_ctx();
	const long args[6] = { 0 };
	char *mine;
	pid_t pid;
	int st;

	ksm_set_log_fn(ctx, on_log, NULL);
	ksm_set_log_priority(ctx, 7 /* LOG_DEBUG */);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	sleep_ms(50);
	ck_assert_int_eq(vmlck(), 0);
	/* getpid, injected: the result is the target's pid. */
	ck_assert_int_eq(ksm_inject_syscall(ctx, pid, SYS_getpid, args), pid);
	/* The section, the stack and several libc pages. */
	ck_assert_int_ge(locked_ranges, 3);
	ck_assert_int_eq(vmlck(), 0);

	/* A caller with locked memory of its own. */
	mine = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(mine, MAP_FAILED);
	ck_assert_int_eq(mlock(mine, 4096), 0);
	ck_assert_int_eq(vmlck(), 4);
	locked_ranges = -1;
	ck_assert_int_eq(ksm_inject_syscall(ctx, pid, SYS_getpid, args), pid);
	ck_assert_int_eq(locked_ranges, -1);
	ck_assert_int_eq(vmlck(), 4);
	munlock(mine, 4096);
	munmap(mine, 4096);

	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ksm_unref(ctx);
}
END_TEST

static Suite *remote_signals_suite(void)
{
	Suite *s = suite_create("remote-signals");

	guard_add(s, "signal_after_call", test_signal_after_call);
	guard_add(s, "window_locked", test_window_locked);
	guard_add(s, "sigtrap_state", test_sigtrap_state);
	return s;
}

int main(void)
{
	return guard_main(guard_missing_injection, remote_signals_suite, NULL);
}

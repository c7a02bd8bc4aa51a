// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksmctl's whole command line: the input, split at NUL bytes, is argv after
 * "ksmctl", run through ksmctl's main (built as ksmctl_main). Nothing may
 * reach the running system:
 *  - every context is made on a copy of the 6.18 fake sysroot, whatever
 *    --sysroot says (ksm_new_at() is wrapped at link time);
 *  - profiles and tune settings are read and saved only inside that copy
 *    (ksm_profile_load(), ksm_profile_save() and ksm_tune_load() are
 *    wrapped);
 *  - exec never replaces the fuzzer and registers nothing (execvp() and
 *    prctl() are stubbed), and waits for ksmd end at once as if a signal
 *    came (clock_nanosleep() is stubbed), the tune daemon stops at its
 *    first wait as if SIGTERM came (sigtimedwait() is stubbed), and so does
 *    watch (poll() is stubbed).
 * The fake knob files, the profile and the boost record are put back after
 * each input;
 * ksmctl's output goes to /dev/null.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ksm.h"
#include "fuzz_util.h"

#define MAX_ARGS 16

int ksmctl_main(int argc, char **argv);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *root;
static char profile[4200], record[4200];

int __real_ksm_new_at(struct ksm_ctx **ctx, const char *sysroot);
int __wrap_ksm_new_at(struct ksm_ctx **ctx, const char *sysroot);
int __real_ksm_profile_load(struct ksm_txn *txn, const char *path, unsigned int *line);
int __wrap_ksm_profile_load(struct ksm_txn *txn, const char *path, unsigned int *line);
int __real_ksm_profile_save(struct ksm_ctx *ctx, const char *path);
int __wrap_ksm_profile_save(struct ksm_ctx *ctx, const char *path);

int __wrap_ksm_new_at(struct ksm_ctx **ctx, const char *sysroot)
{
	int r = __real_ksm_new_at(ctx, root);

	if (r == 0)
		ksm_set_log_priority(*ctx, 0);
	return r;
}

int __wrap_ksm_profile_load(struct ksm_txn *txn, const char *path, unsigned int *line)
{
	/* NULL is the default profile, below the fake sysroot. */
	return __real_ksm_profile_load(txn, path ? profile : NULL, line);
}

int __wrap_ksm_profile_save(struct ksm_ctx *ctx, const char *path)
{
	return __real_ksm_profile_save(ctx, path ? profile : NULL);
}

int __real_ksm_tune_load(struct ksm_tune *tune, const char *path, unsigned int *line);
int __wrap_ksm_tune_load(struct ksm_tune *tune, const char *path, unsigned int *line);

int __wrap_ksm_tune_load(struct ksm_tune *tune, const char *path, unsigned int *line)
{
	return __real_ksm_tune_load(tune, path ? profile : NULL, line);
}

int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
	return SIGTERM;
}

int execvp(const char *file, char *const argv[])
{
	errno = ENOENT;
	return -1;
}

int prctl(int option, ...)
{
	errno = EINVAL;
	return -1;
}

/* watch waits in poll() until its interval, a key or a signal: the signal
 * comes at once (its handler is installed by then, and SIGTERM is not
 * blocked: see restore_signals()). tune blocks SIGTERM and reads it from a
 * signalfd among @fds: it is made pending, and the descriptors are polled
 * without waiting, so that the signalfd reports it. Else the wait is empty. */
int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	static const struct timespec zero;
	struct sigaction sa;
	sigset_t now;

	if (sigprocmask(SIG_SETMASK, NULL, &now) < 0)
		return 0;
	if (sigismember(&now, SIGTERM)) {
		raise(SIGTERM);
		return ppoll(fds, nfds, &zero, NULL);
	}
	if (sigaction(SIGTERM, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN) {
		raise(SIGTERM);
		errno = EINTR;
		return -1;
	}
	return 0;
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem)
{
	return EINTR;
}

/* glibc's nanosleep() calls its own clock_nanosleep(), not the one above:
 * without this, 'estimate --verify 68033' sleeps for 19 hours. */
int nanosleep(const struct timespec *req, struct timespec *rem)
{
	return 0;
}

/* The signal state of one input does not carry over to the next: tune blocks
 * signals for sigtimedwait(), and merge-now, watch and estimate install
 * handlers. */
static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGWINCH };
static struct sigaction sa0[sizeof(signals) / sizeof(signals[0])];
static sigset_t mask0;

static void restore_signals(void)
{
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaction(signals[i], &sa0[i], NULL);
	sigprocmask(SIG_SETMASK, &mask0, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE *null = fopen("/dev/null", "w");

	setenv("LIBKSM_SKSM_SYSCALLS", "", 1);
	unsetenv("KSM_SYSROOT");
	root = fz_sysroot("6.18");
	snprintf(profile, sizeof(profile), "%s/fuzz.conf", root);
	snprintf(record, sizeof(record), "%s/run/libksm/boost", root);
	fz_write("fuzz.conf", "pages_to_scan = 200\nrun = 1\n", 27);
	fz_track("fuzz.conf");
	if (!null)
		abort();
	sigprocmask(SIG_SETMASK, NULL, &mask0);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaction(signals[i], NULL, &sa0[i]);
	/* libFuzzer keeps its own stream for its reports. */
	stdout = null;
	stderr = null;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *args[MAX_ARGS + 2];
	size_t pos = 0, len;
	const uint8_t *piece;
	int argc = 1;

	args[0] = strdup("ksmctl");
	while (argc <= MAX_ARGS && (piece = fz_next(data, size, &pos, &len)))
		args[argc++] = fz_strndup(piece, len);
	args[argc] = NULL;
	optind = 0;
	opterr = 1;
	ksmctl_main(argc, args);
	fflush(stdout);
	restore_signals();
	for (int i = 0; i < argc; i++)
		free(args[i]);
	unlink(record);
	fz_restore_knobs();
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * 'ksmctl tune' on the running kernel, with processes it starts itself:
 * three workers with duplicated memory, started one after another. Each
 * also reserves a third of MemTotal of address space it never touches, and
 * the tuner counts registered processes by their virtual size (metric =
 * vsz): so the threshold is crossed by the third worker whatever else the
 * machine does, without using that memory. The tuner must stop (run=0)
 * with one and two workers, start merging within a second of the third,
 * stop ksmd once the memory merged, stay stopped when it is gone, start
 * within a second of a replacement, and restore the knobs at SIGTERM. The guard
 * restores every knob at the end whatever happens.
 *
 * It runs twice, once for each source of new processes: the ksm:ksm_enter
 * tracepoint (the tuner started in a mount namespace of its own where
 * tracefs is mounted, so that nothing changes outside it) and the proc
 * connector with its looks (tracefs hidden in that namespace under empty
 * tmpfs mounts); the tuner's debug log must name the source used.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "testutil.h"

#define WORK_MB 64

static pid_t workers[3];
static pid_t tuner;

static long long mem_total_kb(void)
{
	char buf[256];
	long long kb = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	ck_assert_ptr_nonnull(f);
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "MemTotal: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * A worker: @reserve_kb of untouched address space, WORK_MB of identical
 * pages, registered. Returns once the worker has registered its memory, so
 * that the tuner's reaction is timed from then, not from a fork that a busy
 * machine may take long to complete.
 */
static pid_t start_worker(long long reserve_kb, int ready_fd_unused)
{
	int ready[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		size_t len = (size_t)WORK_MB << 20;
		char *p;

		if (mmap(NULL, (size_t)reserve_kb * 1024, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) == MAP_FAILED)
			_exit(2);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(3);
		memset(p, 0x5a, len);
		if (madvise(p, len, MADV_MERGEABLE) < 0)
			_exit(4);
		if (write(ready[1], "r", 1) != 1)
			_exit(5);
		for (;;)
			pause();
	}
	(void)ready_fd_unused;
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static void stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		*pid = 0;
	}
}

static long long knob(const char *name)
{
	char buf[64];

	ck_assert_int_ge(guard_raw_read(name, buf, sizeof(buf)), 0);
	return atoll(buf);
}

/* Milliseconds until knob @name reads @want, or -1 after @ms. */
static long wait_knob(const char *name, long long want, long ms)
{
	double start = now_s();

	for (;;) {
		if (knob(name) == want)
			return (long)((now_s() - start) * 1000);
		if ((now_s() - start) * 1000 > ms)
			return -1;
		sleep_ms(10);
	}
}

/* The tuner's log so far (its standard error), NUL-terminated, in a static buffer. */
static const char *tuner_log(int fd)
{
	static char log[65536];
	ssize_t n = pread(fd, log, sizeof(log) - 1, 0);

	log[n > 0 ? n : 0] = '\0';
	return log;
}

enum source { TRACEPOINT, CONNECTOR };

#define NO_TRACEPOINT "test: no ksm:ksm_enter tracepoint in this kernel"

/*
 * In the tuner's child, before its exec: a mount namespace of its own
 * (nothing mounted here is seen outside, and it goes with the tuner), with
 * tracefs mounted, or hidden. Messages go to the tuner's log (stderr).
 */
static void tuner_namespace(enum source src)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		fprintf(stderr, "test: no private mount namespace: %s\n", strerror(errno));
		_exit(126);
	}
	if (src == TRACEPOINT) {
		if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0 ||
		    access("/sys/kernel/tracing/events/ksm/ksm_enter/id", R_OK) < 0)
			fprintf(stderr, NO_TRACEPOINT "\n");
		return;
	}
	/* Hide tracefs wherever the tuner looks for it (systemd mounts it). */
	if (mount("tmpfs", "/sys/kernel/tracing", "tmpfs", 0, "size=4k") < 0 ||
	    (access("/sys/kernel/debug", F_OK) == 0 &&
	     mount("tmpfs", "/sys/kernel/debug", "tmpfs", 0, "size=4k") < 0)) {
		fprintf(stderr, "test: cannot hide tracefs: %s\n", strerror(errno));
		_exit(126);
	}
}

static void tune_workload(enum source src)
{
	char conf[] = "/tmp/test_tune_kernel.XXXXXX", logname[] = "/tmp/test_tune_log.XXXXXX", text[256];
	const char *log, *at;
	int logfd;
	const char *bin = getenv("KSMCTL");
	long long third = mem_total_kb() / 3 + 1024;
	int fd, status;
	long took;

	guard_mark_child();
	ck_assert_msg(bin && *bin, "KSMCTL is not set");
	/* Boot-like state to start from. */
	ck_assert_int_eq(guard_raw_write("run", "0"), 0);
	ck_assert_int_eq(guard_raw_write("pages_to_scan", "100"), 0);
	ck_assert_int_eq(guard_raw_write("sleep_millisecs", "20"), 0);
	fd = mkstemp(conf);
	ck_assert_int_ge(fd, 0);
	/* psi_some 0: pressure from other work on the machine must not start it */
	snprintf(text, sizeof(text), "[tune]\ninterval = 3600\nmetric = vsz\npsi_some = 0\n"
				     "");
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	logfd = mkstemp(logname);
	ck_assert_int_ge(logfd, 0);
	unlink(logname);

	tuner = fork();
	ck_assert_int_ge(tuner, 0);
	if (tuner == 0) {
		dup2(logfd, 2);
		tuner_namespace(src);
		execl(bin, bin, "tune", "--verbose", "--config", conf, (char *)NULL);
		_exit(127);
	}
	sleep_ms(500);
	ck_assert_int_eq(knob("run"), 0);
	/* the source of new processes, as its debug line says */
	log = tuner_log(logfd);
	if (src == TRACEPOINT && strstr(log, NO_TRACEPOINT)) {
		printf("note: the kernel has no ksm:ksm_enter: the tracepoint run tests the fallback\n");
		src = CONNECTOR;
	}
	if (src == TRACEPOINT) {
		ck_assert_msg(strstr(log, "reported by the ksm:ksm_enter tracepoint"),
			      "the tuner does not use the tracepoint:\n%s", log);
	} else {
		ck_assert_msg(strstr(log, "no ksm:ksm_enter tracepoint"),
			      "the tuner did not fall back from the tracepoint:\n%s", log);
		ck_assert_msg(strstr(log, "reported by the proc connector"),
			      "the tuner does not use the proc connector:\n%s", log);
	}

	/* one and two workers: below the threshold, KSM stays stopped */
	workers[0] = start_worker(third, -1);
	sleep_ms(1500);
	ck_assert_int_eq(knob("run"), 0);
	workers[1] = start_worker(third, -1);
	sleep_ms(1500);
	ck_assert_int_eq(knob("run"), 0);

	/* the third crosses it: merging starts within a second */
	workers[2] = start_worker(third, -1);
	took = wait_knob("run", 1, 5000);
	ck_assert_msg(took >= 0, "run did not become 1");
	ck_assert_msg(took <= 1100, "the tuner reacted after %ld ms", took);
	printf("%s: reacted to the third worker after %ld ms\n",
	       src == TRACEPOINT ? "tracepoint" : "connector", took);
	{
		/* the new worker: ksmd at full speed, unless that already ended */
		long long pages = knob("pages_to_scan"), sleep = knob("sleep_millisecs");

		if (!strstr(tuner_log(logfd), "full speed ends"))
			ck_assert_msg(pages == 20000 && sleep == 0, "pages_to_scan %lld sleep_millisecs %lld",
				      pages, sleep);
	}
	{
		double start = now_s();
		while (knob("pages_sharing") == 0 && now_s() - start < 60)
			sleep_ms(100);
		ck_assert_msg(knob("pages_sharing") > 0, "nothing merged in 60 s");
	}
	/* merged: a full scan adds nothing more, ksmd stops and the pages stay merged */
	ck_assert_msg(wait_knob("run", 0, 60000) >= 0, "ksmd still runs 60 s after merging");
	ck_assert_int_gt(knob("pages_sharing"), 0);
	/* A new process registered: ksmd scanned at full speed until two
	 * full scans had passed, then at npages_max, then converged. */
	log = tuner_log(logfd);
	at = strstr(log, "a new process registered memory: scan at full speed until it is scanned");
	ck_assert_msg(at, "no full-speed scan for the new worker:\n%s", log);
	at = strstr(at, "the new memory was scanned: full speed ends");
	ck_assert_msg(at, "the full-speed scan did not end after two full scans:\n%s", log);
	at = strstr(at, "converged");
	ck_assert_msg(at, "no convergence after the full-speed scan:\n%s", log);

	/* the third goes away: at the next decision (SIGUSR1, as for ksmtuned) it stays stopped */
	stop(&workers[2]);
	kill(tuner, SIGUSR1);
	ck_assert_msg(wait_knob("run", 0, 2000) >= 0, "run is 1");

	/* and it starts again by itself within a second of a new one registering
	 * (the tracepoint or the connector's looks; the workers register before
	 * they report ready) */
	workers[2] = start_worker(third, -1);
	took = wait_knob("run", 1, 5000);
	ck_assert_msg(took >= 0, "run stayed 0");
	ck_assert_msg(took <= 1100, "the tuner reacted to the replacement after %ld ms", took);
	printf("%s: reacted to the replacement after %ld ms\n",
	       src == TRACEPOINT ? "tracepoint" : "connector", took);

	/* SIGTERM: the knobs it changed go back */
	kill(tuner, SIGTERM);
	ck_assert_int_eq(waitpid(tuner, &status, 0), tuner);
	tuner = 0;
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(knob("run"), 0);
	ck_assert_int_eq(knob("pages_to_scan"), 100);
	ck_assert_int_eq(knob("sleep_millisecs"), 20);

	for (int i = 0; i < 3; i++)
		stop(&workers[i]);
	unlink(conf);
	close(logfd);
}

START_TEST(test_tune_tracepoint)
{
	tune_workload(TRACEPOINT);
}
END_TEST

START_TEST(test_tune_connector)
{
	tune_workload(CONNECTOR);
}
END_TEST

static Suite *tune_kernel_suite(void)
{
	Suite *s = suite_create("tune-kernel");

	guard_add(s, "tune_tracepoint", test_tune_tracepoint);
	guard_add(s, "tune_connector", test_tune_connector);
	return s;
}

int main(void)
{
	return guard_main(guard_missing_ksm_stat, tune_kernel_suite, NULL);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-process control of a running process, measured in one run:
 *   opt-out   ksm_process_set_merge(pid, 0) on a running process whose 1 GiB
 *             is merged, until it returns (its pages are unmerged then);
 *   restart   the alternative: stop that process and start it again with
 *             merging off, until it has its 1 GiB again;
 *   enable    ksm_process_set_merge(pid, 1) on a running process;
 *   state     ksm_process_merge_state(pid).
 *   disable   the same on a process with nothing merged (the kernel's walk).
 * Prints the medians and the ratio opt-out/restart.
 *
 * The targets are children of this program. ksmd runs under a libksm boost
 * while the memory is merged (the boost restores the knobs, also when this
 * program dies: ksmctl recover). Needs root and KSM; exits 77 otherwise.
 *
 * Usage: ksm-bench-remote [ROUNDS]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ksm.h"

#define SIZE (1UL << 30)
#define PAGES (SIZE / 4096)
#define CYCLES 50

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A process with 1 GiB of 32 contents (below max_page_sharing per content);
 * returns once it is filled. */
static pid_t start_target(void)
{
	int fds[2];
	char c;
	pid_t pid;

	if (pipe(fds) < 0)
		exit(1);
	pid = fork();
	if (pid == 0) {
		char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			_exit(1);
		for (size_t i = 0; i < PAGES; i++)
			memset(p + i * 4096, 0x40 + (int)(i % 32), 4096);
		if (write(fds[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], &c, 1) != 1)
		exit(1);
	close(fds[0]);
	return pid;
}

static void stop_target(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static long merging_pages(struct ksm_ctx *ctx, pid_t pid)
{
	struct ksm_proc_stats st;

	if (ksm_proc_stats_read(ctx, pid, &st, sizeof(st)) < 0)
		return -1;
	return (long)st.ksm_merging_pages;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 3;
	double optout[16], restart[16], enable[CYCLES], state[CYCLES], disable[CYCLES];
	struct ksm_ctx *ctx;
	pid_t pid;
	int r;

	if (rounds < 1 || rounds > 16)
		rounds = 3;
	if (geteuid() != 0 || ksm_new(&ctx) < 0 || access("/sys/kernel/mm/ksm/run", W_OK) < 0) {
		printf("skipped: needs root and KSM\n");
		return 77;
	}
	for (int i = 0; i < rounds; i++) {
		struct ksm_boost *b;
		double t0, merge_s;

		pid = start_target();
		r = ksm_process_set_merge(ctx, pid, 1, 0);
		if (r < 0) {
			fprintf(stderr, "enable: %s\n", ksm_strerror(r));
			stop_target(pid);
			return r == -EOPNOTSUPP ? 77 : 1;
		}
		r = ksm_boost_begin(ctx, &b);
		if (r < 0) {
			fprintf(stderr, "boost: %s\n", ksm_strerror(r));
			stop_target(pid);
			return 1;
		}
		t0 = now_s();
		while (merging_pages(ctx, pid) < (long)PAGES - 1024 && now_s() - t0 < 120)
			usleep(20000);
		merge_s = now_s() - t0;
		ksm_boost_end(b);
		printf("round %d: %ld of %lu pages merged in %.1f s\n", i + 1, merging_pages(ctx, pid),
		       PAGES, merge_s);

		t0 = now_s();
		r = ksm_process_set_merge(ctx, pid, 0, 0);
		optout[i] = now_s() - t0;
		if (r < 0) {
			fprintf(stderr, "disable: %s\n", ksm_strerror(r));
			stop_target(pid);
			return 1;
		}

		/* The alternative: stop it and start it again with merging off. */
		t0 = now_s();
		stop_target(pid);
		pid = start_target();
		restart[i] = now_s() - t0;
		stop_target(pid);
	}

	pid = start_target();
	for (int i = 0; i < CYCLES; i++) {
		double t0 = now_s();

		r = ksm_process_set_merge(ctx, pid, 1, 0);
		enable[i] = now_s() - t0;
		t0 = now_s();
		if (r == 0)
			r = ksm_process_merge_state(ctx, pid) == KSM_PROCESS_MERGE_ANY ? 0 : -EIO;
		state[i] = now_s() - t0;
		t0 = now_s();
		if (r == 0)
			r = ksm_process_set_merge(ctx, pid, 0, 0);
		disable[i] = now_s() - t0;
		if (r < 0) {
			fprintf(stderr, "cycle %d: %s\n", i, ksm_strerror(r));
			stop_target(pid);
			return 1;
		}
	}
	stop_target(pid);

	double o = median(optout, rounds), s = median(restart, rounds);

	printf("opt a running 1 GiB merged process out: %.1f ms (median of %d)\n", o * 1e3, rounds);
	printf("stop it and start it again unmerged:    %.1f ms (median of %d; its own start-up "
	       "is only a 1 GiB fill here)\n", s * 1e3, rounds);
	printf("ratio opt-out/restart: %.3f\n", o / s);
	printf("enable per process:  %.3f ms median of %d (1 GiB mapped, nothing merged)\n",
	       median(enable, CYCLES) * 1e3, CYCLES);
	printf("state per process:   %.3f ms median of %d\n", median(state, CYCLES) * 1e3, CYCLES);
	printf("disable, nothing merged: %.1f ms median of %d (the kernel walks every page)\n",
	       median(disable, CYCLES) * 1e3, CYCLES);
	ksm_unref(ctx);
	return 0;
}

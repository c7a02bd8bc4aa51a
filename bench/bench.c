// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Benchmarks of the foundation, printed as ratios measured in one run:
 *  1. median ns per ksm_stats_read() against the goal of 30 us;
 *  2. the whole-process cost of 'ksmctl status --json' against
 *     'grep -r . /sys/kernel/mm/ksm' (the shell way to see the same files),
 *     run alternately so that both see the same machine load.
 *
 * Usage: bench KSMCTL [ROUNDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksm.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Wall time of one fork+exec+wait of argv, output to /dev/null. */
static double run_once(char *const argv[])
{
	double t0 = now_ns();
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench: '%s' failed\n", argv[0]);
		exit(1);
	}
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	enum { BATCHES = 31, PER_BATCH = 1000 };
	int rounds = argc > 2 ? atoi(argv[2]) : 101;
	double batch[BATCHES], *tool, *grep;
	struct ksm_stats st;
	struct ksm_ctx *ctx;
	int r;

	if (argc < 2 || rounds < 1) {
		fprintf(stderr, "usage: %s KSMCTL [ROUNDS]\n", argv[0]);
		return 2;
	}
	r = ksm_new(&ctx);
	if (r == 0)
		r = ksm_stats_read(ctx, &st, sizeof(st));
	if (r < 0) {
		fprintf(stderr, "bench: KSM not readable here: %s\n", strerror(-r));
		return 77;
	}

	for (int b = 0; b < BATCHES; b++) {
		double t0 = now_ns();
		for (int i = 0; i < PER_BATCH; i++)
			if (ksm_stats_read(ctx, &st, sizeof(st)) < 0)
				return 1;
		batch[b] = (now_ns() - t0) / PER_BATCH;
	}
	double stats_ns = median(batch, BATCHES);
	printf("ksm_stats_read:        median %8.0f ns per call   goal 30000 ns   ratio to goal %.3f\n",
	       stats_ns, stats_ns / 30000.0);
	ksm_unref(ctx);

	char *tool_argv[] = { argv[1], "status", "--json", NULL };
	char *grep_argv[] = { "grep", "-r", ".", "/sys/kernel/mm/ksm", NULL };
	tool = calloc((size_t)rounds, sizeof(double));
	grep = calloc((size_t)rounds, sizeof(double));
	if (!tool || !grep)
		return 1;
	run_once(tool_argv); /* warm the page cache for both */
	run_once(grep_argv);
	for (int i = 0; i < rounds; i++) {
		tool[i] = run_once(tool_argv);
		grep[i] = run_once(grep_argv);
	}
	double t = median(tool, rounds), g = median(grep, rounds);
	printf("ksmctl status --json:  median %8.0f us per run\n", t / 1000.0);
	printf("grep -r . (ksm dir):   median %8.0f us per run\n", g / 1000.0);
	printf("ratio ksmctl/grep:     %.3f  (%d alternating runs each)\n", t / g, rounds);
	free(tool);
	free(grep);
	return 0;
}

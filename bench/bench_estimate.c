// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The estimate's CPU cost against ksmd's, on the same workload, in one run:
 *   estimator  CPU seconds (user + system) of ksm_estimate_run(), full and
 *              sampled at 10 %, per GiB of memory read (medians of ROUNDS);
 *   ksmd       CPU seconds of ksmd (/proc/PID/schedstat) from run=1 at full
 *              speed (pages_to_scan 10000, sleep_millisecs 0, smart_scan 0)
 *              until pages_sharing + ksm_zero_pages reached 99 % of the value
 *              it settles at, per GiB of the same memory.
 * Prints both and the ratio estimator/ksmd (goal <= 0.3), and how close the
 * full estimate came to the counters.
 *
 * The workload is est-workload (NPROC processes of MIB MiB, 50 % duplicates,
 * 5 % zero pages). Changes global KSM state: every knob is saved first and
 * written back at the end, also on SIGINT/SIGTERM/SIGHUP. Needs root.
 *
 * Usage: bench-estimate EST_WORKLOAD [MIB_PER_PROCESS] [ROUNDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "knobs.h"
#include "clock.h"
#include "ksm.h"

#define NPROC 4


/* ksmd's CPU time in seconds (the library's reading, clock-tick resolution). */
static double ksmd_cpu_s(struct ksm_ctx *ctx)
{
	uint64_t ns;

	return ksm_ksmd_cpu(ctx, &ns) == 0 ? (double)ns / 1e9 : -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double run_estimate(struct ksm_ctx *ctx, const int *pids, double rate,
			   struct ksm_estimate_result *res)
{
	struct ksm_estimate *est;
	double c0;
	int r;

	if (ksm_estimate_new(ctx, &est) < 0)
		exit(1);
	for (int i = 0; i < NPROC; i++)
		ksm_estimate_add_pid(est, pids[i]);
	if (rate < 1)
		ksm_estimate_set_sample(est, rate, 1);
	c0 = cpu_s();
	r = ksm_estimate_run(est, 0);
	c0 = cpu_s() - c0;
	if (r < 0) {
		fprintf(stderr, "bench-estimate: %s\n", ksm_strerror(r));
		restore_knobs();
		exit(1);
	}
	ksm_estimate_result(est, -1, res, sizeof(*res));
	ksm_estimate_unref(est);
	return c0;
}

int main(int argc, char **argv)
{
	int mib = argc > 2 ? atoi(argv[2]) : 128, rounds = argc > 3 ? atoi(argv[3]) : 5;
	double full[64], samp[64], gib, ksmd0, t0, cpu99 = -1, t99 = -1;
	double samples_cpu[20000], samples_t[20000];
	long samples_v[20000], last = -1, last_scan = -1, final;
	int to[2], from[2], pids[NPROC], ns = 0;
	struct ksm_estimate_result res;
	struct ksm_ctx *ctx;
	char line[256], args[64], *p;
	pid_t wl;
	FILE *in, *out;

	if (argc < 2 || rounds < 1 || rounds > 64 || mib < 1) {
		fprintf(stderr, "usage: %s EST_WORKLOAD [MIB_PER_PROCESS] [ROUNDS]\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0 || access(KSM "run", W_OK) != 0) {
		fprintf(stderr, "bench-estimate: needs root and a writable /sys/kernel/mm/ksm\n");
		return 77;
	}
	if (ksm_new_at(&ctx, "/") < 0 || pipe(to) < 0 || pipe(from) < 0)
		return 1;
	snprintf(args, sizeof(args), "%d", mib);
	wl = fork();
	if (wl == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		execl(argv[1], argv[1], "-n", "4", "-m", args, "-d", "50", "-z", "5", (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	in = fdopen(to[1], "w");
	out = fdopen(from[0], "r");
	if (!fgets(line, sizeof(line), out) || strncmp(line, "ready", 5) != 0)
		return 1;
	p = line + 5;
	for (int i = 0; i < NPROC; i++)
		pids[i] = (int)strtol(p, &p, 10);

	knobs_guard();
	raw_write("run", "2");

	for (int i = 0; i < rounds; i++) {
		full[i] = run_estimate(ctx, pids, 1, &res);
		samp[i] = run_estimate(ctx, pids, 0.1, &res);
	}
	run_estimate(ctx, pids, 1, &res);
	gib = (double)res.candidate_pages * 4096 / (1 << 30);

	/* ksmd at full speed on the same memory. */
	raw_write("advisor_mode", "none");
	raw_write("max_page_sharing", "256");
	raw_write("use_zero_pages", "0");
	raw_write("pages_to_scan", "10000");
	raw_write("sleep_millisecs", "0");
	raw_write("smart_scan", "0");
	fprintf(in, "merge\n");
	fflush(in);
	if (!fgets(line, sizeof(line), out) || strcmp(line, "merged\n") != 0) {
		restore_knobs();
		return 1;
	}
	ksmd0 = ksmd_cpu_s(ctx);
	t0 = now_s();
	raw_write("run", "1");
	for (;;) {
		long scans = raw_read("full_scans");
		long v = raw_read("pages_sharing") + raw_read("ksm_zero_pages");

		if (ns < 20000) {
			samples_cpu[ns] = ksmd_cpu_s(ctx) - ksmd0;
			samples_t[ns] = now_s() - t0;
			samples_v[ns++] = v;
		}
		if (scans != last_scan) {
			if (scans >= 4 && v == last)
				break;
			last = v;
			last_scan = scans;
		}
		if (now_s() - t0 > 600)
			break;
		usleep(20000);
	}
	final = last;
	for (int i = 0; i < ns; i++) {
		if ((double)samples_v[i] >= 0.99 * (double)final) {
			cpu99 = samples_cpu[i];
			t99 = samples_t[i];
			break;
		}
	}
	long k_sharing = raw_read("pages_sharing"), k_shared = raw_read("pages_shared");
	restore_knobs();
	fprintf(in, "quit\n");
	fclose(in);
	fclose(out);
	waitpid(wl, NULL, 0);
	ksm_unref(ctx);

	double f = median(full, rounds), s = median(samp, rounds);
	printf("%d processes x %d MiB (50 %% duplicates, 5 %% zero): %.3f GiB read\n", NPROC, mib, gib);
	printf("  estimate, full:            %8.3f CPU s  %6.3f CPU s/GiB  (median of %d)\n", f,
	       f / gib, rounds);
	printf("  estimate, sampled 10 %%:    %8.3f CPU s  %6.3f CPU s/GiB  (median of %d)\n", s,
	       s / gib, rounds);
	printf("  ksmd to 99 %% at full speed: %7.3f CPU s  %6.3f CPU s/GiB  (%.2f s wall)\n", cpu99,
	       cpu99 / gib, t99);
	printf("  prediction: pages_sharing %" PRId64 " / kernel %ld, pages_shared %" PRId64
	       " / kernel %ld\n", res.pages_sharing, k_sharing, res.pages_shared, k_shared);
	printf("ratio estimate/ksmd (CPU per GiB): %.3f  (goal <= 0.30)\n", f / cpu99);
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Synchronous merge of 100 MiB of identical pages, from the call to merged:
 *   libksm   ksm_merge_range() on the range;
 *   fastest  the kernel's fastest path with raw writes, as the kernel's own
 *            ksm_tests -P does it: run=2, sleep_millisecs=0, a large
 *            pages_to_scan, madvise, run=1, wait for two full scans;
 *   stock    the default knobs (100 pages per 20 ms): run=2, madvise, run=1,
 *            wait until the counters show the range merged.
 * Prints the medians and the ratios libksm/fastest and libksm/stock.
 *
 * Changes global KSM state: every knob is saved first and written back at
 * the end, also on SIGINT/SIGTERM/SIGHUP. Needs root.
 *
 * Usage: bench-merge [ROUNDS] [STOCK_ROUNDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "knobs.h"
#include "clock.h"
#include "ksm.h"

#define SIZE (100UL << 20)


static char *fresh_region(int round)
{
	char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		restore_knobs();
		exit(1);
	}
	memset(p, 'A' + round % 26, SIZE);
	return p;
}

static void wait_full_scans(long scans)
{
	long start = raw_read("full_scans");
	struct timespec ts = { 0, 1000000 };

	while (raw_read("full_scans") < start + scans)
		nanosleep(&ts, NULL);
}

static double run_fastest(int round)
{
	char *p = fresh_region(round);
	double t0 = now_s();

	raw_write("run", "2");
	raw_write("sleep_millisecs", "0");
	raw_write("pages_to_scan", "25600");
	madvise(p, SIZE, MADV_MERGEABLE);
	raw_write("run", "1");
	wait_full_scans(2);
	double t = now_s() - t0;

	if (raw_read("pages_sharing") < 25500)
		fprintf(stderr, "bench-merge: fastest path merged only %ld pages\n", raw_read("pages_sharing"));
	munmap(p, SIZE);
	restore_knobs();
	return t;
}

static double run_stock(int round)
{
	char *p = fresh_region(round);
	struct timespec ts = { 0, 5000000 };
	double t0 = now_s();

	raw_write("run", "2");
	raw_write("pages_to_scan", "100");
	raw_write("sleep_millisecs", "20");
	madvise(p, SIZE, MADV_MERGEABLE);
	raw_write("run", "1");
	while (raw_read("pages_sharing") < 25500 && now_s() - t0 < 120)
		nanosleep(&ts, NULL);
	double t = now_s() - t0;

	munmap(p, SIZE);
	restore_knobs();
	return t;
}

static double run_libksm(struct ksm_ctx *ctx, int round)
{
	char *p = fresh_region(round);
	uint64_t merged = 0;
	double t0, t;
	int r;

	raw_write("run", "2"); /* start like the others: nothing merged (not timed) */
	raw_write("run", "0");
	t0 = now_s();
	r = ksm_merge_range(ctx, p, SIZE, 60000, &merged);
	t = now_s() - t0;
	if (r < 0 || merged < SIZE)
		fprintf(stderr, "bench-merge: ksm_merge_range: %s, %llu bytes merged\n", ksm_strerror(r),
			(unsigned long long)merged);
	munmap(p, SIZE);
	restore_knobs();
	return t;
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

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	int stock_rounds = argc > 2 ? atoi(argv[2]) : 3;
	double lib[64], fast[64], stock[64];
	struct ksm_ctx *ctx;

	if (rounds < 1 || rounds > 64 || stock_rounds < 1 || stock_rounds > 64) {
		fprintf(stderr, "usage: %s [ROUNDS] [STOCK_ROUNDS]\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0 || access(KSM "run", W_OK) != 0) {
		fprintf(stderr, "bench-merge: needs root and a writable /sys/kernel/mm/ksm\n");
		return 77;
	}
	if (ksm_new_at(&ctx, "/") < 0)
		return 1;
	knobs_guard();

	/* Alternate, so that all three see the same machine. */
	for (int i = 0; i < rounds; i++) {
		lib[i] = run_libksm(ctx, i);
		fast[i] = run_fastest(i);
		if (i < stock_rounds)
			stock[i] = run_stock(i);
	}
	restore_knobs();
	ksm_unref(ctx);

	double l = median(lib, rounds), f = median(fast, rounds), s = median(stock, stock_rounds);
	printf("100 MiB identical pages, from the call to merged (medians):\n");
	printf("  libksm ksm_merge_range:      %8.3f s  (%d runs)\n", l, rounds);
	printf("  fastest kernel path:       %8.3f s  (%d runs)\n", f, rounds);
	printf("  stock default knobs:       %8.3f s  (%d runs)\n", s, stock_rounds);
	printf("ratio libksm/fastest:        %.3f  (goal <= 1.10)\n", l / f);
	printf("ratio libksm/stock:          %.3f  (goal <= 0.06)\n", l / s);
	return 0;
}

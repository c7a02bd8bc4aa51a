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

#include "ksm.h"

#define KSM "/sys/kernel/mm/ksm/"
#define SIZE (100UL << 20)

static const char *const knobs[] = {
	"max_page_sharing", "merge_across_nodes", "advisor_mode", "pages_to_scan",
	"sleep_millisecs", "smart_scan", "use_zero_pages", "stable_node_chains_prune_millisecs",
	"run",
};
static char saved[sizeof(knobs) / sizeof(knobs[0])][64];

static int raw_write(const char *knob, const char *value)
{
	char path[128];
	int fd, r = 0;

	snprintf(path, sizeof(path), KSM "%s", knob);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		r = -errno;
	close(fd);
	return r;
}

static long raw_read(const char *knob)
{
	char path[128], buf[64] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), KSM "%s", knob);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

static void save_knobs(void)
{
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		char path[128];
		int fd;
		ssize_t n;

		snprintf(path, sizeof(path), KSM "%s", knobs[i]);
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, saved[i], sizeof(saved[i]) - 1);
		if (fd >= 0)
			close(fd);
		saved[i][n > 0 ? n : 0] = '\0';
		/* advisor_mode reads as "[none] scan-time": keep the selected word. */
		char *open_b = strchr(saved[i], '['), *close_b = open_b ? strchr(open_b, ']') : NULL;
		if (open_b && close_b) {
			memmove(saved[i], open_b + 1, (size_t)(close_b - open_b - 1));
			saved[i][close_b - open_b - 1] = '\0';
		}
	}
}

/* In an order the kernel accepts; async-signal-safe (open/write/close). */
static void restore_knobs(void)
{
	raw_write("run", "2");
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (saved[i][0] && strcmp(knobs[i], "run") != 0)
			raw_write(knobs[i], saved[i]);
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (saved[i][0] && strcmp(knobs[i], "run") == 0)
			raw_write("run", strcmp(saved[i], "2\n") == 0 ? "0" : saved[i]);
}

static void on_signal(int sig)
{
	restore_knobs();
	signal(sig, SIG_DFL);
	raise(sig);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
	save_knobs();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

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

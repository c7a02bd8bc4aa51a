// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * est-workload: processes with a known mix of pages, for the estimate tests
 * and the estimate benchmark.
 *
 *   est-workload [-n NPROC] [-m MIB] [-d DUP%] [-z ZERO%] [-c CHURN%] [-f] [-H]
 *
 * Each of NPROC worker processes fills MIB MiB of private anonymous memory:
 * ZERO% zero pages (written, so present), 1 % pages filled with 0xA5 (one
 * content in every process: a max_page_sharing chain), DUP% duplicates (the
 * same contents in every process, at shifted positions), CHURN% pages
 * rewritten every 20 ms with content that changes every 50 ms and repeats
 * every 8 pages (so one read sees duplicates; a later one sees them changed),
 * and unique pages for the rest. With -f, one worker fills the
 * zero, 0xA5 and duplicate pages (each duplicate content four times) and
 * forks the others, which share those frames copy-on-write. -H asks for
 * transparent huge pages (MADV_HUGEPAGE), else MADV_NOHUGEPAGE.
 *
 * Prints "ready PID..." when every worker has filled its memory. Reads
 * commands from stdin: "merge" makes every worker call
 * prctl(PR_SET_MEMORY_MERGE, 1) and prints "merged"; "quit" or EOF kills the
 * workers and exits.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif

#define PS 4096
#define MAXPROC 64

static int nproc = 4, mib = 64, dup_pct = 50, zero_pct = 5, churn_pct = 0;
static int forked, thp;
static int ack_fd;
static volatile sig_atomic_t want_merge;

static uint64_t rnd(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static void fill(char *page, uint64_t seed)
{
	uint64_t *w = (uint64_t *)page;

	for (size_t i = 0; i < PS / 8; i++)
		w[i] = rnd(seed * 1024 + i);
}

static void on_usr1(int sig)
{
	(void)sig;
	want_merge = 1;
}

struct layout {
	size_t pages, zero, hot, dup, churn;
};

static struct layout layout(void)
{
	struct layout l;

	l.pages = (size_t)mib * 1024 * 1024 / PS;
	l.zero = l.pages * (size_t)zero_pct / 100;
	l.hot = l.pages / 100;
	l.dup = l.pages * (size_t)dup_pct / 100;
	l.churn = l.pages * (size_t)churn_pct / 100;
	return l;
}

static char *map_region(size_t pages)
{
	char *p = mmap(NULL, pages * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	madvise(p, pages * PS, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return p;
}

/* The shared part: zero, 0xA5 and duplicate pages. */
static void fill_shared(char *p, const struct layout *l, int idx)
{
	size_t i = 0, ncontents = forked ? (l->dup + 3) / 4 : l->dup;

	for (; i < l->zero; i++) {
		p[i * PS] = 1;
		memset(p + i * PS, 0, PS);
	}
	for (; i < l->zero + l->hot; i++)
		memset(p + i * PS, 0xa5, PS);
	for (size_t k = 0; k < l->dup; k++, i++)
		fill(p + i * PS, UINT64_C(1) << 40 | ((k + (size_t)idx * 7) % (ncontents ? ncontents : 1)));
}

static void fill_own(char *p, const struct layout *l, int idx)
{
	size_t start = l->zero + l->hot + l->dup + l->churn;

	for (size_t i = start; i < l->pages; i++)
		fill(p + i * PS, (uint64_t)(idx + 1) << 48 | i);
}

static void worker_loop(char *p, const struct layout *l)
{
	size_t start = l->zero + l->hot + l->dup;

	for (;;) {
		if (want_merge) {
			char c = prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) == 0 ? 'm' : 'e';

			want_merge = 0;
			if (write(ack_fd, &c, 1) != 1)
				_exit(1);
		}
		if (l->churn) {
			struct timespec ts;
			uint64_t tick;

			clock_gettime(CLOCK_REALTIME, &ts);
			tick = (uint64_t)ts.tv_sec * 20 + (uint64_t)ts.tv_nsec / 50000000;
			for (size_t i = 0; i < l->churn; i++)
				fill(p + (start + i) * PS, UINT64_C(3) << 56 | tick << 20 | (i % 8));
		}
		usleep(20000);
	}
}

int main(int argc, char **argv)
{
	struct layout l;
	int ready[2], ack[2], c;
	pid_t pids[MAXPROC];
	char line[64];

	while ((c = getopt(argc, argv, "n:m:d:z:c:fH")) != -1) {
		switch (c) {
		case 'n': nproc = atoi(optarg); break;
		case 'm': mib = atoi(optarg); break;
		case 'd': dup_pct = atoi(optarg); break;
		case 'z': zero_pct = atoi(optarg); break;
		case 'c': churn_pct = atoi(optarg); break;
		case 'f': forked = 1; break;
		case 'H': thp = 1; break;
		default:
			fprintf(stderr, "usage: est-workload [-n N] [-m MIB] [-d DUP%%] [-z ZERO%%] "
				"[-c CHURN%%] [-f] [-H]\n");
			return 2;
		}
	}
	if (nproc < 1 || nproc > MAXPROC || mib < 1)
		return 2;
	l = layout();
	if (pipe(ready) < 0 || pipe(ack) < 0)
		return 1;
	ack_fd = ack[1];
	signal(SIGUSR1, on_usr1);
	if (!forked) {
		for (int i = 0; i < nproc; i++) {
			pids[i] = fork();
			if (pids[i] == 0) {
				char *p = map_region(l.pages);
				pid_t me = getpid();

				prctl(PR_SET_PDEATHSIG, SIGKILL);
				fill_shared(p, &l, i);
				fill_own(p, &l, i);
				if (write(ready[1], &me, sizeof(me)) != sizeof(me))
					_exit(1);
				worker_loop(p, &l);
			}
		}
	} else {
		pid_t root = fork();

		if (root == 0) {
			char *p = map_region(l.pages);

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			fill_shared(p, &l, 0);
			for (int i = 1; i < nproc; i++) {
				if (fork() == 0) {
					pid_t me = getpid();

					prctl(PR_SET_PDEATHSIG, SIGKILL);
					fill_own(p, &l, i);
					if (write(ready[1], &me, sizeof(me)) != sizeof(me))
						_exit(1);
					worker_loop(p, &l);
				}
			}
			{
				pid_t me = getpid();

				fill_own(p, &l, 0);
				if (write(ready[1], &me, sizeof(me)) != sizeof(me))
					_exit(1);
				worker_loop(p, &l);
			}
		}
	}
	printf("ready");
	for (int i = 0; i < nproc; i++) {
		if (read(ready[0], &pids[i], sizeof(pids[i])) != sizeof(pids[i]))
			return 1;
		printf(" %d", (int)pids[i]);
	}
	printf("\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "merge", 5) == 0) {
			int ok = 1;

			for (int i = 0; i < nproc; i++)
				kill(pids[i], SIGUSR1);
			for (int i = 0; i < nproc; i++) {
				char a;

				if (read(ack[0], &a, 1) != 1 || a != 'm')
					ok = 0;
			}
			printf(ok ? "merged\n" : "failed\n");
			fflush(stdout);
		} else if (strncmp(line, "quit", 4) == 0) {
			break;
		}
	}
	for (int i = 0; i < nproc; i++)
		kill(pids[i], SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Policy quality: the same scripted workload under Debian's ksmtuned,
 * under 'ksmctl tune' twice and under the kernel advisor alone. 'ksmctl
 * tune' runs once learning of new processes from the ksm:ksm_enter
 * tracepoint ("tune, tp": tracefs mounted in a mount namespace of its own,
 * see tracefs.h) and once from the proc connector and its looks ("tune,
 * cn": tracefs hidden there); the log of each says which it used.
 *
 * Workload: WORKERS processes, started STAGGER seconds apart, each with
 * WORKER_MB of memory of which 75% are pages identical across all workers
 * (and 25% unique), registered for merging, with the command line
 * "qemu-system-x86_64 -enable-kvm ..." that Debian's ksmtuned pattern
 * (^qemu-system.*-enable-kvm) matches. Then, from half of TOTAL for a
 * quarter of it, memory pressure: a process (not registered for merging)
 * that allocates and touches PRESSURE_MB. Each run lasts TOTAL seconds.
 *
 * Fairness: both tuners read the same ksmtuned.conf: the default interval
 * (60 s) and KSM_THRES_COEF=99, so that this machine counts as under
 * pressure for both (ksmtuned: free < threshold; ksmctl tune: MemAvailable
 * < threshold). The advisor run sets advisor_mode=scan-time and run=1 with
 * the kernel's default advisor parameters. Every run starts from run=0,
 * pages_to_scan=100, sleep_millisecs=20, advisor_mode=none.
 *
 * Measured, sampled every 100 ms: the bytes saved (pages_sharing), ksmd's
 * CPU time (ksm_ksmd_cpu()), and for each worker the time from its start
 * to its first merged page (ksm_merging_pages in its ksm_stat). Printed:
 * saved bytes at the end, ksmd CPU-seconds, bytes saved per ksmd
 * CPU-second, mean and worst time to first merge, and the ratios of
 * each ksmctl tune run to ksmtuned.
 *
 * The pressure process allocates a fixed amount rather than until the
 * host is short of memory: on a shared host that would push other work
 * into reclaim. With KSM_THRES_COEF=99 the host counts as under
 * pressure for both tuners throughout anyway.
 *
 * Changes global KSM state: the knobs are saved first and written back at
 * the end, also on SIGINT/SIGTERM/SIGHUP. Needs root.
 *
 * Usage: bench-tune-quality KSMCTL KSMTUNED_SCRIPT [WORKERS] [WORKER_MB] [STAGGER] [TOTAL]
 *                           [PRESSURE_MB]
 * (defaults 8, 256, 10, 240, 2048)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ksm.h"
#include "tracefs.h"

#define MAXW 32

static struct ksm_ctx *ctx;
static struct ksm_stats before;
static pid_t workers[MAXW], tuner, hog;
static const char *logdir = "/tmp"; /* the tuners' output: <logdir>/<name>.log */

static void reset_knobs(const struct ksm_stats *to)
{
	struct ksm_txn *txn;

	if (ksm_txn_new(ctx, &txn) < 0)
		return;
	if (to) {
		int64_t v;
		static const int k[] = { KSM_KNOB_ADVISOR_MODE, KSM_KNOB_PAGES_TO_SCAN,
					 KSM_KNOB_SLEEP_MILLISECS, KSM_KNOB_RUN };
		for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
			if (ksm_stats_value(to, k[i], &v) == 0)
				ksm_txn_set(txn, k[i], v);
	} else {
		ksm_txn_set(txn, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE);
		ksm_txn_set(txn, KSM_KNOB_PAGES_TO_SCAN, 100);
		ksm_txn_set(txn, KSM_KNOB_SLEEP_MILLISECS, 20);
		ksm_txn_set(txn, KSM_KNOB_RUN, 0);
	}
	if (ksm_txn_commit(txn, 0, NULL) < 0)
		fprintf(stderr, "bench-tune-quality: cannot write the knobs: %s\n", ksm_strerror(-EIO));
	ksm_txn_unref(txn);
}

static void stop_all(void)
{
	if (hog > 0) {
		kill(hog, SIGKILL);
		waitpid(hog, NULL, 0);
		hog = 0;
	}
	if (tuner > 0) {
		kill(tuner, SIGTERM);
		usleep(200000);
		kill(-tuner, SIGKILL);
		waitpid(tuner, NULL, 0);
		tuner = 0;
	}
	for (int i = 0; i < MAXW; i++)
		if (workers[i] > 0) {
			kill(workers[i], SIGKILL);
			waitpid(workers[i], NULL, 0);
			workers[i] = 0;
		}
}

static void at_exit(void)
{
	stop_all();
	reset_knobs(&before);
}

static void on_signal(int sig)
{
	at_exit();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void worker(size_t mb)
{
	size_t len = mb << 20, page = (size_t)sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(1);
	srand((unsigned int)getpid());
	for (size_t off = 0; off < len; off += page) {
		if ((off / page) % 4 == 0) /* unique */
			for (size_t i = 0; i < page; i += sizeof(int))
				*(int *)(p + off + i) = rand();
		else /* the same in every worker, different per page position */
			memset(p + off, (int)((off / page) % 251) + 1, page);
	}
	if (ksm_mark_mergeable(p, len) < 0)
		_exit(1);
	for (;;)
		pause();
}

/* The memory-pressure phase: plain anonymous memory, touched, not registered. */
static void allocate(size_t mb)
{
	size_t len = mb << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(1);
	for (size_t off = 0; off < len; off += 4096)
		p[off] = (char)(off >> 12);
	for (;;)
		pause();
}

/* Which source of new processes a tuner's log says it used. */
static const char *source_of(const char *logname)
{
	char path[256], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s.log", logdir, logname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "unknown (no log)";
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* The messages of ksm_tune_next()'s choice (the one without the
	 * tracepoint names it too). */
	if (strstr(buf, "reported by the ksm:ksm_enter tracepoint"))
		return "ksm:ksm_enter tracepoint";
	if (strstr(buf, "reported by the proc connector"))
		return "proc connector";
	return "unknown (not in the log)";
}

static long merging_pages(pid_t pid)
{
	struct ksm_proc_stats st;

	if (ksm_proc_stats_read(ctx, pid, &st, sizeof(st)) < 0)
		return 0;
	return (long)st.ksm_merging_pages;
}

struct result {
	double saved;      /* bytes at the end */
	double cpu;        /* ksmd seconds */
	double first_mean; /* seconds from start to first merged page, mean */
	double first_max;
	int never;         /* workers that never merged */
	double saved_at[8];
	double cpu_at[8];  /* ksmd seconds since the start */
};

static struct result run(const char *name, const char *logname, enum bench_ns ns, char *const argv[],
			 char *const envp[], bool advisor, int n, size_t mb, double stagger, double total,
			 size_t pressure_mb)
{
	struct result res = { 0 };
	double start[MAXW] = { 0 }, first[MAXW] = { 0 }, t0;
	uint64_t c0 = 0, c1 = 0;
	int started = 0;

	hog = 0;
	reset_knobs(NULL);
	ksm_ksmd_cpu(ctx, &c0);
	t0 = now_s();
	if (argv) {
		tuner = fork();
		if (tuner == 0) {
			char log[256];
			int fd;

			snprintf(log, sizeof(log), "%s/%s.log", logdir, logname);
			fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			dup2(fd, 1);
			dup2(fd, 2);
			setpgid(0, 0);
			bench_namespace(ns, "bench-tune-quality");
			execve(argv[0], argv, envp);
			_exit(127);
		}
	}
	if (advisor) {
		struct ksm_txn *txn;
		ksm_txn_new(ctx, &txn);
		ksm_txn_set(txn, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME);
		ksm_txn_set(txn, KSM_KNOB_RUN, 1);
		ksm_txn_commit(txn, 0, NULL);
		ksm_txn_unref(txn);
	}
	for (;;) {
		double t = now_s() - t0;

		if (t >= total)
			break;
		if (pressure_mb && !hog && t >= total / 2 && t < total * 3 / 4) {
			hog = fork();
			if (hog == 0)
				allocate(pressure_mb);
		}
		if (hog > 0 && t >= total * 3 / 4) {
			kill(hog, SIGKILL);
			waitpid(hog, NULL, 0);
			hog = -1; /* once */
		}
		if (started < n && t >= started * stagger) {
			char mbs[16];
			snprintf(mbs, sizeof(mbs), "%zu", mb);
			workers[started] = fork();
			if (workers[started] == 0) {
				setenv("BENCH_TUNE_WORKER", mbs, 1);
				execl("/proc/self/exe", "qemu-system-x86_64", "-enable-kvm", "-m", mbs, (char *)NULL);
				_exit(127);
			}
			start[started++] = now_s();
		}
		for (int i = 0; i < started; i++)
			if (!first[i] && merging_pages(workers[i]) > 0)
				first[i] = now_s();
		{
			int slot = (int)(t / (total / 8));
			struct ksm_stats st;
			uint64_t c;
			if (slot < 8 && ksm_stats_read(ctx, &st, sizeof(st)) == 0)
				res.saved_at[slot] = (double)st.pages_sharing * (double)st.page_size;
			if (slot < 8 && ksm_ksmd_cpu(ctx, &c) == 0)
				res.cpu_at[slot] = (double)(c - c0) / 1e9;
		}
		usleep(100000);
	}
	{
		struct ksm_stats st;
		ksm_stats_read(ctx, &st, sizeof(st));
		res.saved = (double)st.pages_sharing * (double)st.page_size;
	}
	ksm_ksmd_cpu(ctx, &c1);
	res.cpu = (double)(c1 - c0) / 1e9;
	for (int i = 0; i < started; i++) {
		double f = first[i] ? first[i] - start[i] : total - (start[i] - t0);
		if (!first[i])
			res.never++;
		res.first_mean += f / started;
		if (f > res.first_max)
			res.first_max = f;
	}
	stop_all();
	reset_knobs(NULL);
	printf("%-12s ksmd CPU-s %.2f, saved over time (MiB, every %.0f s):", name, res.cpu, total / 8);
	for (int i = 0; i < 8; i++)
		printf(" %.0f", res.saved_at[i] / 1048576);
	printf("\n%-12s ksmd CPU-s over time (every %.0f s):", "", total / 8);
	for (int i = 0; i < 8; i++)
		printf(" %.2f", res.cpu_at[i]);
	printf("\n");
	fflush(stdout);
	return res;
}

int main(int argc, char **argv)
{
	char tmp[] = "/tmp/bench-tune-quality.XXXXXX", conf[128], env_conf[160], env_pid[160];
	char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	int n;
	size_t mb, pressure_mb;
	double stagger, total;
	FILE *f;

	if (getenv("BENCH_TUNE_WORKER"))
		worker((size_t)atol(getenv("BENCH_TUNE_WORKER")));
	if (argc < 3) {
		fprintf(stderr, "usage: bench-tune-quality KSMCTL KSMTUNED [WORKERS] [MB] [STAGGER] [TOTAL]\n");
		return 2;
	}
	n = argc > 3 ? atoi(argv[3]) : 8;
	mb = argc > 4 ? (size_t)atol(argv[4]) : 256;
	stagger = argc > 5 ? atof(argv[5]) : 10;
	total = argc > 6 ? atof(argv[6]) : 240;
	pressure_mb = argc > 7 ? (size_t)atol(argv[7]) : 2048;
	if (n > MAXW)
		n = MAXW;
	if (geteuid() != 0 || access("/sys/kernel/mm/ksm/run", W_OK) != 0) {
		printf("SKIP: needs root and a writable /sys/kernel/mm/ksm\n");
		return 77;
	}
	if (ksm_new(&ctx) < 0 || ksm_stats_read(ctx, &before, sizeof(before)) < 0 || !mkdtemp(tmp))
		return 1;
	atexit(at_exit);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	snprintf(conf, sizeof(conf), "%s/ksmtuned.conf", tmp);
	logdir = tmp;
	printf("tuners' output in %s\n", tmp);
	f = fopen(conf, "we");
	fprintf(f, "# the same for both tuners: default interval, this host under pressure\n"
		   "KSM_THRES_COEF=99\n");
	fclose(f);
	snprintf(env_conf, sizeof(env_conf), "KSMTUNED_CONF=%s", conf);
	snprintf(env_pid, sizeof(env_pid), "PIDFILE=%s/ksmtune.pid", tmp);
	char *kt_argv[] = { "/bin/bash", argv[2], NULL };
	char *kt_env[] = { env_path, env_conf, env_pid, NULL };
	char *tn_argv[] = { argv[1], "tune", "--verbose", "--config", conf, NULL };
	char *tn_env[] = { env_path, NULL };

	printf("workload: %d processes 'qemu-system-x86_64 -enable-kvm', %zu MiB each (75%% shared "
	       "content), one every %.0f s; %.0f s per run; %zu MiB allocated from %.0f to %.0f s\n",
	       n, mb, stagger, total, pressure_mb, total / 2, total * 3 / 4);
	struct result kt = run("ksmtuned", "ksmtuned", NS_NONE, kt_argv, kt_env, false, n, mb, stagger,
			       total, pressure_mb);
	struct result tp = run("tune, tp", "tune-tracepoint", NS_TRACEFS, tn_argv, tn_env, false, n, mb,
			       stagger, total, pressure_mb);
	struct result cn = run("tune, cn", "tune-connector", NS_NO_TRACEFS, tn_argv, tn_env, false, n,
			       mb, stagger, total, pressure_mb);
	struct result ad = run("advisor", "advisor", NS_NONE, NULL, NULL, true, n, mb, stagger, total,
			       pressure_mb);
	const struct result *r[] = { &kt, &tp, &cn, &ad };
	double pc[4];

	/* "tune, tp" learns of new processes from the ksm:ksm_enter tracepoint,
	 * "tune, cn" from the proc connector and its looks: say what each used. */
	printf("new processes: tune, tp: %s; tune, cn: %s\n", source_of("tune-tracepoint"),
	       source_of("tune-connector"));
	printf("%-34s %10s %10s %10s %10s %8s %8s\n", "", "ksmtuned", "tune, tp", "tune, cn", "advisor",
	       "tp/kt", "cn/kt");
	printf("%-34s", "saved at the end (MiB)");
	for (int i = 0; i < 4; i++)
		printf(" %10.0f", r[i]->saved / 1048576);
	printf(" %7.2fx %7.2fx\n", kt.saved > 0 ? tp.saved / kt.saved : 0, kt.saved > 0 ? cn.saved / kt.saved : 0);
	printf("%-34s", "ksmd CPU (s)");
	for (int i = 0; i < 4; i++)
		printf(" %10.2f", r[i]->cpu);
	/* The last quarter: no new process, no pressure change; what a tuner
	 * costs once everything has merged, per minute. */
	printf("\n%-34s", "ksmd CPU-s per minute, last quarter");
	for (int i = 0; i < 4; i++)
		printf(" %10.3f", (r[i]->cpu - r[i]->cpu_at[5]) * 60 / (total / 4));
	printf("\n%-34s", "MiB saved per ksmd CPU-second");
	for (int i = 0; i < 4; i++) {
		pc[i] = r[i]->cpu > 0 ? r[i]->saved / 1048576 / r[i]->cpu : 0;
		printf(" %10.0f", pc[i]);
	}
	printf(" %7.2fx %7.2fx\n", pc[0] > 0 ? pc[1] / pc[0] : 0, pc[0] > 0 ? pc[2] / pc[0] : 0);
	printf("%-34s", "time to first merge, mean (s)");
	for (int i = 0; i < 4; i++)
		printf(" %10.1f", r[i]->first_mean);
	printf(" %7.1fx %7.1fx\n", tp.first_mean > 0 ? kt.first_mean / tp.first_mean : 0,
	       cn.first_mean > 0 ? kt.first_mean / cn.first_mean : 0);
	printf("%-34s", "time to first merge, worst (s)");
	for (int i = 0; i < 4; i++)
		printf(" %10.1f", r[i]->first_max);
	printf("\n%-34s", "workers never merged");
	for (int i = 0; i < 4; i++)
		printf(" %10d", r[i]->never);
	printf("\n");
	for (int i = 1; i <= 2; i++)
		printf("goals (%s): saved per ksmd CPU-second >= 1.5x ksmtuned: %s; first merge >= 10x "
		       "sooner: %s\n", i == 1 ? "tune, tp" : "tune, cn",
		       pc[0] > 0 && pc[i] / pc[0] >= 1.5 ? "met" : "NOT met",
		       r[i]->first_mean > 0 && kt.first_mean / r[i]->first_mean >= 10 ? "met" : "NOT met");
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The cost of tuning: 'ksmctl tune' against Debian's ksmtuned, on the same
 * host, at the same interval, for the same time, with the same workload.
 *
 * Workload: WORKERS processes whose command line ksmtuned's pattern
 * (^qemu-system.*-enable-kvm) matches, each with 64 MiB of identical pages
 * registered for merging, so that both tuners count the same processes.
 *
 * Runs, every tuner a child of this program so that
 * wait4() gives its CPU time (with that of every process it forked and
 * waited for, pgrep, ps and awk for ksmtuned) in microseconds and its peak
 * RSS:
 *   ksmtuned   the script of Debian's package with KSM_MONITOR_INTERVAL=1
 *              (foreground: "loop &" is run as "loop");
 *   tune       ksmctl tune with interval = 1;
 *   polls      ksmctl tune with interval = 3600: only the
 *              checks for new processes, on whatever else the host runs
 *              meanwhile; twice: with the ksm:ksm_enter tracepoint (wakes
 *              only when a process registers memory or a registered one
 *              forks), and with the proc connector's events and its looks
 *              at each new process (at most four wake-ups a second).
 * The tracepoint needs tracefs, which this machine may not mount: every
 * ksmctl tune runs in a mount namespace of its own (unshare(CLONE_NEWNS),
 * / made private) where tracefs is mounted at /sys/kernel/tracing, or, for
 * the connector's figure, hidden under empty tmpfs mounts. Nothing is
 * mounted outside those namespaces, and they go with the processes. The
 * source each run used is read from its debug log and printed.
 * Each runs twice, SECONDS/3 and SECONDS long; the difference of the two is
 * the cost of the extra intervals without start-up. ksmtuned's intervals
 * are counted as the seconds (it sleeps 1 s and then works, so it has at
 * most that many): its cost per interval is a lower bound. ksmctl tune's
 * decisions are counted from its log. The checks cost less than two
 * start-ups differ, so "polls" is measured instead by the daemon's own
 * scheduler account (/proc/PID/task/TID/schedstat, nanoseconds, user and
 * system time) over the last two thirds of its long run.
 *
 * Prints per interval: CPU of ksmtuned and of ksmctl tune at a 1 s
 * interval; and at ksmtuned's default of 60 s, ksmtuned's interval against
 * one decision of ksmctl tune plus 59 s of its checks (each source); the
 * ratios; peak RSS; and the host's load: processes started a second
 * (/proc/stat "processes") and the load average during the check runs.
 * Also the allocations of ksmctl tune after start-up (LD_PRELOAD counter).
 *
 * Changes global KSM state: every knob is saved first and written back at
 * the end, also on SIGINT/SIGTERM/SIGHUP. Needs root.
 *
 * The check runs are made twice for each source: on the host as it is,
 * and with CHURN processes a second more started by this program
 * (/bin/sleep 0.5, which none registers: like a build's compilers, each
 * lives long enough for the connector's first look), the same churn for
 * both sources.
 *
 * Usage: bench-tune KSMCTL KSMTUNED_SCRIPT MALLOC_COUNT_SO [SECONDS] [WORKERS] [CHURN]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksm.h"
#include "tracefs.h"

static struct ksm_ctx *ctx;
static struct ksm_stats before;
static pid_t workers[64];
static int nworkers;
static pid_t churn_pid; /* the churn's process group */

static void restore(void)
{
	struct ksm_txn *txn;
	static const int knobs[] = { KSM_KNOB_PAGES_TO_SCAN, KSM_KNOB_SLEEP_MILLISECS, KSM_KNOB_RUN,
				     KSM_KNOB_ADVISOR_MODE };

	for (int i = 0; i < nworkers; i++)
		if (workers[i] > 0)
			kill(workers[i], SIGKILL);
	if (churn_pid > 0)
		kill(-churn_pid, SIGKILL);
	if (ksm_txn_new(ctx, &txn) < 0)
		return;
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		int64_t v;
		if (ksm_stats_value(&before, knobs[i], &v) == 0)
			ksm_txn_set(txn, knobs[i], v);
	}
	if (ksm_txn_commit(txn, 0, NULL) < 0)
		fprintf(stderr, "bench-tune: cannot restore the knobs\n");
	ksm_txn_unref(txn);
}

static void on_signal(int sig)
{
	restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void worker(void)
{
	size_t len = 64UL << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(1);
	memset(p, 0x5a, len);
	if (ksm_mark_mergeable(p, len) < 0)
		_exit(1);
	for (;;)
		pause();
}

struct cost {
	double cpu_s;   /* user + system, with waited-for children */
	long maxrss_kb;
	int decisions;
	double steady_s; /* the process's own CPU from 1/3 of the run to its end */
};

/* The CPU time of every thread of @pid so far, in seconds, from the
 * scheduler's own nanosecond account (/proc/PID/task/TID/schedstat, user
 * and system time alike): precise where getrusage()'s ticks are not. */
static double schedstat_s(pid_t pid)
{
	char path[64], buf[320];
	struct dirent *e;
	double sum = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		unsigned long long ns;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(buf, sizeof(buf), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
		f = fopen(buf, "re");
		if (f && fscanf(f, "%llu", &ns) == 1)
			sum += (double)ns / 1e9;
		if (f)
			fclose(f);
	}
	closedir(d);
	return sum;
}

/* Start /bin/sleep 0.5 @rate times a second until killed; its pid. */
static pid_t churn_start(int rate)
{
	struct timespec next;
	long step;
	pid_t p;

	if (rate <= 0)
		return 0;
	p = fork();
	if (p != 0)
		return p;
	signal(SIGCHLD, SIG_IGN); /* reaped by the kernel */
	setpgid(0, 0);
	step = 1000000000L / rate;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		if (fork() == 0) {
			execl("/bin/sleep", "sleep", "0.5", (char *)NULL);
			_exit(127);
		}
		next.tv_nsec += step;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
}

static void churn_stop(pid_t p)
{
	if (p > 0) {
		kill(-p, SIGKILL);
		kill(p, SIGKILL);
		waitpid(p, NULL, 0);
	}
}

/* The processes the kernel started since boot (/proc/stat). */
static long long forks(void)
{
	char line[256];
	long long n = -1;
	FILE *f = fopen("/proc/stat", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "processes %lld", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

static double loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "re");

	if (f && fscanf(f, "%lf", &l) != 1)
		l = -1;
	if (f)
		fclose(f);
	return l;
}

/* Which source of new processes the log of a ksmctl tune --verbose names. */
static const char *source(const char *log)
{
	char line[1024];
	const char *src = "unknown";
	FILE *f = fopen(log, "re");

	while (f && fgets(line, sizeof(line), f)) {
		if (strstr(line, "reported by the ksm:ksm_enter tracepoint"))
			src = "tracepoint";
		else if (strstr(line, "reported by the proc connector"))
			src = "connector";
		else if (strstr(line, "/proc/loadavg twice a second"))
			src = "loadavg";
	}
	if (f)
		fclose(f);
	return src;
}

/* Run @argv for @seconds, stop it with SIGTERM, and measure it. */
static struct cost run(char *const argv[], char *const envp[], double seconds, const char *log,
		       enum bench_ns ns)
{
	struct cost c = { 0 };
	struct rusage ru;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (log) {
			int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			dup2(fd, 2);
		}
		bench_namespace(ns, "bench-tune");
		setpgid(0, 0);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	usleep((useconds_t)(seconds / 3 * 1e6));
	double s0 = schedstat_s(pid);
	usleep((useconds_t)((seconds - seconds / 3) * 1e6));
	double s1 = schedstat_s(pid);
	c.steady_s = s0 >= 0 && s1 >= s0 ? s1 - s0 : -1;
	kill(pid, SIGTERM);
	usleep(200000);
	kill(-pid, SIGKILL); /* ksmtuned's sleep and pipeline, if any */
	wait4(pid, &status, 0, &ru);
	c.cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		  ru.ru_stime.tv_usec / 1e6;
	c.maxrss_kb = ru.ru_maxrss;
	if (log) {
		char line[1024];
		FILE *f = fopen(log, "re");
		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, "tune: interval:") || strstr(line, "tune: start:"))
				c.decisions++;
		if (f)
			fclose(f);
	}
	return c;
}

static long mallocs(const char *log)
{
	char line[256];
	long n = -1;
	FILE *f = fopen(log, "re");

	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "malloc-count: %ld", &n);
	if (f)
		fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	char tmp[] = "/tmp/bench-tune.XXXXXX", conf1[128], conf3600[128], tconf[128], log[128];
	char env_conf[160], env_pid[160], env_pre[300], env_count[64], env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	double seconds;
	int n, churn;
	FILE *f;

	if (getenv("BENCH_TUNE_WORKER"))
		worker();
	if (argc < 4) {
		fprintf(stderr, "usage: bench-tune KSMCTL KSMTUNED MALLOC_COUNT_SO [SECONDS] [WORKERS]\n");
		return 2;
	}
	seconds = argc > 4 ? atof(argv[4]) : 30;
	n = argc > 5 ? atoi(argv[5]) : 4;
	churn = argc > 6 ? atoi(argv[6]) : 50;
	if (n > 64)
		n = 64;
	if (geteuid() != 0 || access("/sys/kernel/mm/ksm/run", W_OK) != 0) {
		printf("SKIP: needs root and a writable /sys/kernel/mm/ksm\n");
		return 77;
	}
	if (ksm_new(&ctx) < 0 || ksm_stats_read(ctx, &before, sizeof(before)) < 0 || !mkdtemp(tmp)) {
		fprintf(stderr, "bench-tune: cannot read the knobs\n");
		return 1;
	}
	atexit(restore);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	/* The workload: "qemu-system-x86_64 -enable-kvm" with registered memory. */
	setenv("BENCH_TUNE_WORKER", "1", 1);
	for (nworkers = 0; nworkers < n; nworkers++) {
		workers[nworkers] = fork();
		if (workers[nworkers] == 0) {
			execl("/proc/self/exe", "qemu-system-x86_64", "-enable-kvm", (char *)NULL);
			_exit(127);
		}
	}
	unsetenv("BENCH_TUNE_WORKER");
	sleep(1);

	snprintf(conf1, sizeof(conf1), "%s/ksmtuned.conf", tmp);
	f = fopen(conf1, "we");
	fprintf(f, "KSM_MONITOR_INTERVAL=1\n");
	fclose(f);
	snprintf(tconf, sizeof(tconf), "%s/tune1.conf", tmp);
	f = fopen(tconf, "we");
	fprintf(f, "[tune]\ninterval = 1\nrestore = no\n");
	fclose(f);
	snprintf(conf3600, sizeof(conf3600), "%s/tune3600.conf", tmp);
	f = fopen(conf3600, "we");
	fprintf(f, "[tune]\ninterval = 3600\nrestore = no\n");
	fclose(f);
	snprintf(env_conf, sizeof(env_conf), "KSMTUNED_CONF=%s", conf1);
	snprintf(env_pid, sizeof(env_pid), "PIDFILE=%s/ksmtune.pid", tmp);

	/* ksmtuned's script reads /etc/ksmtuned.conf: the copy run.sh made reads $KSMTUNED_CONF. */
	char *ksmtuned_argv[] = { "/bin/bash", argv[2], NULL };
	char *ksmtuned_env[] = { env_path, env_conf, env_pid, NULL };
	char *tune_argv[] = { argv[1], "tune", "--verbose", "--config", tconf, NULL };
	/* --verbose for the debug line that names the source; with an
	 * interval of 3600 s it logs only the start and registrations. */
	char *poll_argv[] = { argv[1], "tune", "--verbose", "--config", conf3600, NULL };
	char *env[] = { env_path, NULL };
	char plog_tp[160], plog_cn[160];

	snprintf(log, sizeof(log), "%s/tune.log", tmp);
	snprintf(plog_tp, sizeof(plog_tp), "%s/polls-tracepoint.log", tmp);
	snprintf(plog_cn, sizeof(plog_cn), "%s/polls-connector.log", tmp);
	/* Each tuner twice, a third of the time and the whole time: the
	 * differences are the cost of the extra intervals, without start-up. */
	struct cost kt_s = run(ksmtuned_argv, ksmtuned_env, seconds / 3, NULL, NS_NONE);
	struct cost kt = run(ksmtuned_argv, ksmtuned_env, seconds, NULL, NS_NONE);
	struct cost tn_s = run(tune_argv, env, seconds / 3, log, NS_TRACEFS);
	struct cost tn = run(tune_argv, env, seconds, log, NS_TRACEFS);
	const char *tn_src = source(log);
	long long f0 = forks();
	double l0 = loadavg();
	struct cost pl = run(poll_argv, env, seconds, plog_tp, NS_TRACEFS);
	long long f1 = forks();
	double l1 = loadavg();
	struct cost pc = run(poll_argv, env, seconds, plog_cn, NS_NO_TRACEFS);
	long long f2 = forks();
	double l2 = loadavg();
	/* The same two under a churn of our own. */
	pid_t ch = churn_pid = churn_start(churn);
	struct cost pl_ch = run(poll_argv, env, seconds, plog_tp, NS_TRACEFS);
	long long f3 = forks();
	struct cost pc_ch = run(poll_argv, env, seconds, plog_cn, NS_NO_TRACEFS);
	long long f4 = forks();
	double l4 = loadavg();
	churn_stop(ch);
	churn_pid = 0;

	/* Allocations after start-up: two runs of different length. */
	snprintf(env_pre, sizeof(env_pre), "LD_PRELOAD=%s", argv[3]);
	snprintf(env_count, sizeof(env_count), "MALLOC_COUNT=1");
	char *count_env[] = { env_path, env_pre, env_count, NULL };
	char log2[160], log3[160];
	snprintf(log2, sizeof(log2), "%s/count-short.log", tmp);
	snprintf(log3, sizeof(log3), "%s/count-long.log", tmp);
	struct cost c_short = run(tune_argv, count_env, 2.5, log2, NS_TRACEFS);
	struct cost c_long = run(tune_argv, count_env, 6.5, log3, NS_TRACEFS);
	long m_short = mallocs(log2), m_long = mallocs(log3);

	double dsec = seconds - seconds / 3;
	double kt_per = (kt.cpu_s - kt_s.cpu_s) / dsec; /* at most one interval per second */
	int dec = tn.decisions - tn_s.decisions;
	double tn_per = dec > 0 ? (tn.cpu_s - tn_s.cpu_s) / dec : 0;
	/* The checks alone are too cheap for the difference of two runs'
	 * getrusage() (start-ups differ by more on a quiet host): the daemon's
	 * own scheduler account over the last two thirds of the long run. */
	double poll_per_s = pl.steady_s / dsec, conn_per_s = pc.steady_s / dsec;
	double tn60 = tn_per + 59 * poll_per_s, cn60 = tn_per + 59 * conn_per_s;

	printf("workload: %d processes 'qemu-system-x86_64 -enable-kvm', 64 MiB registered each; "
	       "runs of %.0f s and %.0f s, the difference counted\n", n, seconds / 3, seconds);
	printf("host load during the check runs: tracepoint %.0f processes started/s, load average "
	       "%.2f to %.2f; connector %.0f/s, %.2f to %.2f\n",
	       (double)(f1 - f0) / seconds, l0, l1, (double)(f2 - f1) / seconds, l1, l2);
	printf("with a churn of %d /bin/sleep 0.5 a second more: tracepoint %.0f processes started/s, "
	       "connector %.0f/s, load average %.2f to %.2f\n", churn,
	       (double)(f3 - f2) / seconds, (double)(f4 - f3) / seconds, l2, l4);
	printf("source of new processes: decisions run: %s; checks runs: %s and %s\n", tn_src,
	       source(plog_tp), source(plog_cn));
	printf("%-40s %12s %12s %10s\n", "", "ksmtuned", "ksmctl tune", "ratio");
	printf("%-40s %12.0f %12d\n", "intervals (decisions) counted", dsec, dec);
	printf("%-40s %9.3f ms %9.3f ms %9.1fx\n", "CPU per interval (decision only)", kt_per * 1e3,
	       tn_per * 1e3, tn_per > 0 ? kt_per / tn_per : 0);
	printf("%-40s %12s %9.4f ms\n", "CPU per second of checks, tracepoint", "-", poll_per_s * 1e3);
	printf("%-40s %12s %9.4f ms\n", "CPU per second of checks, connector", "-", conn_per_s * 1e3);
	printf("%-40s %12s %9.4f ms\n", "same, churn, tracepoint", "-", pl_ch.steady_s / dsec * 1e3);
	printf("%-40s %12s %9.4f ms\n", "same, churn, connector", "-", pc_ch.steady_s / dsec * 1e3);
	printf("%-40s %9.3f ms %9.3f ms %9.1fx\n", "CPU per 60 s (+59 s checks), tracepoint",
	       kt_per * 1e3, tn60 * 1e3, tn60 > 0 ? kt_per / tn60 : 0);
	printf("%-40s %9.3f ms %9.3f ms %9.1fx\n", "CPU per 60 s (+59 s checks), connector",
	       kt_per * 1e3, cn60 * 1e3, cn60 > 0 ? kt_per / cn60 : 0);
	{
		double a = tn_per + 59 * pl_ch.steady_s / dsec, b = tn_per + 59 * pc_ch.steady_s / dsec;

		printf("%-40s %9.3f ms %9.3f ms %9.1fx\n", "same, churn, tracepoint", kt_per * 1e3,
		       a * 1e3, a > 0 ? kt_per / a : 0);
		printf("%-40s %9.3f ms %9.3f ms %9.1fx\n", "same, churn, connector", kt_per * 1e3,
		       b * 1e3, b > 0 ? kt_per / b : 0);
	}
	printf("%-40s %8ld KiB %8ld KiB\n", "peak RSS (largest process)", kt.maxrss_kb, tn.maxrss_kb);
	printf("%-40s %8ld KiB %8ld KiB\n", "peak RSS of the checks runs (tp, conn)", pl.maxrss_kb,
	       pc.maxrss_kb);
	printf("%-40s %8ld KiB %8ld KiB\n", "same, churn (tp, conn)", pl_ch.maxrss_kb,
	       pc_ch.maxrss_kb);
	printf("%-40s %12s %12ld\n", "mallocs during 4 more intervals", "", m_long - m_short);
	printf("goals: CPU ratio >= 50 at 60 s: %s; RSS <= 2048 KiB: %s; no allocation per interval: %s\n",
	       tn60 > 0 && kt_per / tn60 >= 50 &&
			       kt_per / (tn_per + 59 * pl_ch.steady_s / dsec) >= 50 ? "met" : "NOT met",
	       tn.maxrss_kb <= 2048 && pl.maxrss_kb <= 2048 && pl_ch.maxrss_kb <= 2048 ? "met"
											: "NOT met",
	       m_short >= 0 && m_long == m_short ? "met" : "NOT met");
	(void)c_short;
	(void)c_long;
	return 0;
}

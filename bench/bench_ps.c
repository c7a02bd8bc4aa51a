// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * 'ksmctl ps --json' on a host with many processes, as a ratio to
 * grep -H over every /proc/PID/ksm_stat (the shell way to read the same files),
 * and 'ksmctl ps --by cgroup' as a ratio to the plain 'ksmctl ps' (what the
 * identity reads and the sums cost), all run alternately in one run. The processes are spawned here: forked
 * children that wait for the benchmark to end, one in a hundred with
 * process-wide merging enabled so that ps has something to report.
 *
 * Usage: bench-ps KSMCTL [PROCESSES] [ROUNDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
	/* grep exits 2 when a process vanished between glob and open: still timed. */
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) > 2) {
		fprintf(stderr, "bench-ps: '%s' failed\n", argv[0]);
		exit(1);
	}
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	int nproc = argc > 2 ? atoi(argv[2]) : 10000;
	int rounds = argc > 3 ? atoi(argv[3]) : 11;
	int gate[2];
	double *tool, *grep, *plain, *by;
	int spawned = 0;

	if (argc < 2 || nproc < 1 || rounds < 1) {
		fprintf(stderr, "usage: %s KSMCTL [PROCESSES] [ROUNDS]\n", argv[0]);
		return 2;
	}
	if (access("/proc/self/ksm_stat", R_OK) != 0) {
		fprintf(stderr, "bench-ps: no /proc/PID/ksm_stat on this kernel\n");
		return 77;
	}
	tool = calloc((size_t)rounds, sizeof(double));
	grep = calloc((size_t)rounds, sizeof(double));
	plain = calloc((size_t)rounds, sizeof(double));
	by = calloc((size_t)rounds, sizeof(double));
	if (!tool || !grep || !plain || !by || pipe(gate) < 0)
		return 1;

	/*
	 * A spawner process forks the children, so that they are not children
	 * of the process that times the commands: waiting for one child walks
	 * the list of all of them, which would add the same cost to both.
	 * The children block reading the gate; closing it ends them all.
	 */
	int ready[2];
	if (pipe(ready) < 0)
		return 1;
	pid_t spawner = fork();
	if (spawner < 0)
		return 1;
	if (spawner == 0) {
		close(gate[1]);
		close(ready[0]);
		for (int i = 0; i < nproc; i++) {
			pid_t pid = fork();
			char c;

			if (pid < 0) {
				fprintf(stderr, "bench-ps: fork %d: %s\n", i, strerror(errno));
				break;
			}
			if (pid == 0) {
				close(ready[1]);
				if (i % 100 == 0)
					prctl(67 /* PR_SET_MEMORY_MERGE */, 1, 0, 0, 0);
				while (read(gate[0], &c, 1) < 0 && errno == EINTR)
					;
				_exit(0);
			}
			spawned++;
		}
		if (write(ready[1], &spawned, sizeof(spawned)) != sizeof(spawned))
			_exit(1);
		close(ready[1]);
		while (wait(NULL) > 0)
			;
		_exit(0);
	}
	close(gate[0]);
	close(ready[1]);
	if (read(ready[0], &spawned, sizeof(spawned)) != sizeof(spawned))
		return 1;

	char *tool_argv[] = { argv[1], "ps", "--json", NULL };
	char *grep_argv[] = { "sh", "-c", "grep -H . /proc/[0-9]*/ksm_stat", NULL };
	char *plain_argv[] = { argv[1], "ps", NULL };
	char *by_argv[] = { argv[1], "ps", "--by", "cgroup", NULL };
	run_once(tool_argv);
	run_once(grep_argv);
	run_once(plain_argv);
	run_once(by_argv);
	for (int i = 0; i < rounds; i++) {
		tool[i] = run_once(tool_argv);
		grep[i] = run_once(grep_argv);
		plain[i] = run_once(plain_argv);
		by[i] = run_once(by_argv);
	}
	qsort(tool, (size_t)rounds, sizeof(double), cmp_double);
	qsort(grep, (size_t)rounds, sizeof(double), cmp_double);
	qsort(plain, (size_t)rounds, sizeof(double), cmp_double);
	qsort(by, (size_t)rounds, sizeof(double), cmp_double);

	close(gate[1]);
	waitpid(spawner, NULL, 0);

	printf("processes alive:             %d\n", spawned);
	printf("ksmctl ps --json:            median %8.1f ms per run\n", tool[rounds / 2] / 1e6);
	printf("grep -H . /proc/*/ksm_stat:  median %8.1f ms per run\n", grep[rounds / 2] / 1e6);
	printf("ratio ksmctl/grep:           %.3f  (goal <= 0.5; %d alternating runs each)\n",
	       tool[rounds / 2] / grep[rounds / 2], rounds);
	printf("ksmctl ps:                   median %8.1f ms per run\n", plain[rounds / 2] / 1e6);
	printf("ksmctl ps --by cgroup:       median %8.1f ms per run\n", by[rounds / 2] / 1e6);
	printf("ratio --by cgroup/plain:     %.3f  (goal <= 1.2)\n", by[rounds / 2] / plain[rounds / 2]);
	free(tool);
	free(grep);
	free(plain);
	free(by);
	return 0;
}

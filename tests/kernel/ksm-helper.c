// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksm-helper: a process for the memory tests, meant to run under
 * 'ksmctl exec'. It does not use libksm and never calls madvise: its pages
 * can only be merged if process-wide merging (PR_SET_MEMORY_MERGE) was
 * inherited across exec.
 *
 * Usage: ksm-helper [PAGES [PATTERN [fork]]]
 *   PAGES    private anonymous pages to fill with identical content (default 100)
 *   PATTERN  a number that seeds the content, so that concurrent runs differ
 *   fork     accept "fork" lines on stdin (see below)
 *
 * Output (stdout, one line each, flushed):
 *   merge_any=<PR_GET_MEMORY_MERGE result>      (-errno if the prctl fails)
 *   ready <pid>
 * Then it reads stdin until EOF (or a signal ends it) and exits 0. In fork
 * mode, each line "fork" makes it fork a child that prints
 *   child merge_any=<PR_GET_MEMORY_MERGE result in the child>
 *   child <the ksm_merging_pages line of the child's /proc/self/ksm_stat>
 * and exits; the helper waits for it and prints "forked <status>".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PRCTL_GET_MEMORY_MERGE 68

static int get_merge_any(void)
{
	int r = prctl(PRCTL_GET_MEMORY_MERGE, 0UL, 0UL, 0UL, 0UL);

	return r < 0 ? -errno : r;
}

/* The "ksm_merging_pages ..." line of /proc/self/ksm_stat, or "ksm_merging_pages <error>". */
static void merging_line(char *out, size_t size)
{
	char buf[1024];
	ssize_t n = 0, r;
	const char *p;
	int fd;

	fd = open("/proc/self/ksm_stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(out, size, "ksm_merging_pages <%s>", strerror(errno));
		return;
	}
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	close(fd);
	buf[n] = '\0';
	p = strstr(buf, "ksm_merging_pages");
	if (!p) {
		snprintf(out, size, "ksm_merging_pages <missing>");
		return;
	}
	snprintf(out, size, "%.*s", (int)strcspn(p, "\n"), p);
}

static void do_fork(void)
{
	char line[256];
	int status = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("forked <%s>\n", strerror(errno));
		fflush(stdout);
		return;
	}
	if (pid == 0) {
		int r = get_merge_any();

		merging_line(line, sizeof(line));
		printf("child merge_any=%d\nchild %s\n", r, line);
		fflush(stdout);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	printf("forked %d\n", status);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	long ps = sysconf(_SC_PAGESIZE);
	unsigned long pages = 100, pattern = 0;
	int fork_mode = 0;
	unsigned char *p;
	uint64_t *w;
	char line[64];

	if (argc > 1)
		pages = strtoul(argv[1], NULL, 0);
	if (argc > 2)
		pattern = strtoul(argv[2], NULL, 0);
	if (argc > 3)
		fork_mode = strcmp(argv[3], "fork") == 0;
	if (pages == 0 || pages > (1UL << 20)) {
		fprintf(stderr, "ksm-helper: bad page count\n");
		return 2;
	}

	printf("merge_any=%d\n", get_merge_any());
	fflush(stdout);

	p = mmap(NULL, pages * (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "ksm-helper: mmap: %s\n", strerror(errno));
		return 1;
	}
	/* non-zero content derived from the pattern, the same in every page */
	w = (uint64_t *)p;
	for (size_t i = 0; i < (size_t)ps / sizeof(*w); i++)
		w[i] = ((uint64_t)pattern + i + 1) * UINT64_C(0x9E3779B97F4A7C15) | 1;
	for (size_t i = 1; i < pages; i++)
		memcpy(p + i * (size_t)ps, p, (size_t)ps);

	printf("ready %d\n", (int)getpid());
	fflush(stdout);

	while (fgets(line, sizeof(line), stdin)) {
		if (fork_mode && strncmp(line, "fork", 4) == 0)
			do_fork();
	}
	munmap(p, pages * (size_t)ps);
	return 0;
}

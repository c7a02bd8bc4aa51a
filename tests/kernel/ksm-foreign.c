// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksm-foreign: a process that holds mergeable memory which the kernel tests
 * did not make, for the initial state "merged pages of other processes" of
 * tests/kernel/initial-states.sh. It does not use libksm.
 *
 * Usage: ksm-foreign [PAGES]
 *   PAGES private anonymous pages (default 4096), registered with
 *         MADV_MERGEABLE: 3/4 in groups of 16 identical pages, 1/8 zero
 *         pages (written, so that they exist), 1/8 unique. The contents come
 *         from getrandom(), so that no test's page equals one of them (the
 *         zero pages aside).
 * Prints "ready <pid> <duplicates> <zero> <unique>" once the memory is filled,
 * then sleeps until a signal ends it; it never writes its memory again, so
 * what ksmd merges stays merged.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

static void fill_random(unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("ksm-foreign: getrandom");
			exit(1);
		}
		p += n;
		len -= (size_t)n;
	}
}

int main(int argc, char **argv)
{
	size_t pages = argc > 1 ? strtoul(argv[1], NULL, 10) : 4096, dup, zero, uniq;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), len;
	unsigned char *p;

	if (pages < 16) {
		fprintf(stderr, "ksm-foreign: at least 16 pages\n");
		return 2;
	}
	dup = pages / 4 * 3 / 16 * 16;
	zero = pages / 8;
	uniq = pages - dup - zero;
	len = pages * ps;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("ksm-foreign: mmap");
		return 1;
	}
	(void)madvise(p, len, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < dup; i += 16) {
		fill_random(p + i * ps, ps);
		for (size_t j = 1; j < 16; j++)
			memcpy(p + (i + j) * ps, p + i * ps, ps);
	}
	memset(p + dup * ps, 0, zero * ps);
	fill_random(p + (dup + zero) * ps, uniq * ps);
	if (madvise(p, len, MADV_MERGEABLE) < 0) {
		perror("ksm-foreign: MADV_MERGEABLE");
		return 1;
	}
	printf("ready %d %zu %zu %zu\n", (int)getpid(), dup, zero, uniq);
	fflush(stdout);
	for (;;)
		pause();
}

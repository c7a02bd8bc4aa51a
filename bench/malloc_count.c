// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * LD_PRELOAD library for bench-tune: counts malloc, calloc and realloc
 * calls and prints "malloc-count: N" to stderr when the program exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* glibc's own entry points: no dlsym, which may allocate itself. */
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t a, size_t b);
void *__libc_realloc(void *p, size_t n);

static long count;

void *malloc(size_t n)
{
	count++;
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	count++;
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	count++;
	return __libc_realloc(p, n);
}

__attribute__((destructor)) static void report(void)
{
	char buf[64];
	int len = snprintf(buf, sizeof(buf), "malloc-count: %ld\n", count);

	if (write(2, buf, (size_t)len) < 0)
		return;
}

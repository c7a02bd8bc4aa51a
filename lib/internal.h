/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private declarations shared by the files of lib/. */
#ifndef LIBKSM_INTERNAL_H
#define LIBKSM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ksm.h"

#define KSM_EXPORT __attribute__((visibility("default")))

#define KSM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Number of entries in the knob table. */
#define KSM_KNOB_NR 24

/* Largest text a knob file holds ("[none] scan-time\n" is the longest). */
#define KSM_VALUE_MAX 64

struct ksm_ctx {
	int refcount;
	int rootfd;            /* <sysroot> */
	int ksmfd;             /* <sysroot>/sys/kernel/mm/ksm, -1 if absent */
	int knobfd[KSM_KNOB_NR]; /* cached read-only fds, -1 = not open, -2 = absent */
	long page_size;
	char *sysroot;
};

/* ksm_sysfs.c: the knob table and value parsing */
const struct ksm_knob_info *ksm_table_get(int knob);
/* Parse the kernel's text of @knob (as read from sysfs) into @value. */
int ksm_parse_kernel(int knob, const char *text, int64_t *value);

/* ksm_sysfs.c: I/O relative to a directory fd */
/* Read at most size-1 bytes of @name below @dirfd; NUL-terminates. */
int ksm_read_at(int dirfd, const char *name, char *buf, size_t size);
/* pread() an open sysfs file from offset 0; NUL-terminates. */
int ksm_pread_text(int fd, char *buf, size_t size);
/* Write @text (a newline is appended) to @name below @dirfd in one write. */
int ksm_write_at(int dirfd, const char *name, const char *text);
/* Parse a decimal integer the strict way the kernel does. */
int ksm_parse_int64(const char *text, int64_t *value);

#endif

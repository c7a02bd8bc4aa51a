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
/* May @value be written to @knob? -ENOENT unknown, -EPERM counter, -EINVAL range. */
int ksm_knob_check(int knob, int64_t value);
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

/* libksm.c: format and write one knob, errors mapped; no prerequisite checks */
int ksm_write_knob(struct ksm_ctx *ctx, int knob, int64_t value);

/* ksm_txn.c: apply @want for the knobs in @set, all or nothing (ksm_txn_commit) */
int ksm_apply(struct ksm_ctx *ctx, uint64_t set, const int64_t *want, unsigned int flags,
	      int *failed_knob);

/* ksm_mem.c: the syscalls a kernel may lack, one function each */
int ksm_sys_madvise(void *addr, size_t len, int advice);
int ksm_sys_prctl(int option, unsigned long arg2);
/* Mergeable bytes ("mg") of a page range, the KSM bytes of its VMAs (-1:
 * unknown), and whether those VMAs lie wholly inside the range. */
int ksm_range_info(uintptr_t start, uintptr_t end, uint64_t *mergeable, int64_t *ksm_bytes,
		   bool *whole);
int ksm_page_range(const void *addr, size_t len, uintptr_t *start, uintptr_t *end);
/* ksm_mark_mergeable() that also tells the bytes it registered. */
int ksm_mark_mergeable_bytes(void *addr, size_t len, uint64_t *registered);

/* ksm_wait.c: wait for @scans full scans after *base (updated); count or -errno */
int ksm_wait_scans_since(struct ksm_ctx *ctx, int64_t *base, unsigned int scans, int timeout_ms);

/* ksm_proc.c */
/* Does any process have memory registered with KSM? 1 (also when a process
 * could not be inspected), 0, or -errno (-EOPNOTSUPP: no per-process files). */
int ksm_proc_any_registered(struct ksm_ctx *ctx);

/* libksm.c: the statistics snapshot of the knob files below @dirfd (the KSM
 * directory or a Selective KSM partition directory) */
int ksm_stats_read_at(struct ksm_ctx *ctx, int dirfd, struct ksm_stats *st);

/* ksm_partition.c: a Selective KSM RFC syscall; the result or -errno */
long ksm_sys_partition(long nr, long a1, long a2, long a3, long a4);

#endif

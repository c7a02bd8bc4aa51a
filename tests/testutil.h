// SPDX-License-Identifier: LGPL-2.1-or-later
/* Helpers shared by the C test programs: fake sysroot copies, file I/O, the runner. */
#ifndef LIBKSM_TESTUTIL_H
#define LIBKSM_TESTUTIL_H

#include <stdint.h>

#include <check.h>

/* Copy $LIBKSM_SYSROOTS/<name> (default ./tests/sysroots) into a fresh mkdtemp() directory (under $TMPDIR or /tmp; inside tu_run_suite() below its session directory), with knob modes from the table (counters 0444, else 0644); returns the malloc'd path, aborts the test on failure. */
char *tu_sysroot_copy(const char *name);

/* Remove a directory tree (nftw, FTW_DEPTH|FTW_PHYS); a missing path is not an error. */
void tu_rmtree(const char *path);

/* The whole content of <dir>/<relpath> as a malloc'd string; aborts the test on failure. */
char *tu_read(const char *dir, const char *relpath);

/* Replace the content of <dir>/<relpath> with @text in place (same inode, mode kept; created 0644 if missing); aborts the test on failure. */
void tu_write(const char *dir, const char *relpath, const char *text);

struct ksm_ctx;

/* Copy the fake sysroot @name (tu_sysroot_copy()) into *@root and open a context on it into *@ctx; fails the test if it cannot. */
void tu_use(const char *name, char **root, struct ksm_ctx **ctx);

/* Undo tu_use(): unref *@ctx and remove the copy *@root (each may be unset), and clear both. */
void tu_unuse(char **root, struct ksm_ctx **ctx);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t tu_now_ms(void);

/* sizeof(struct ksm_rmap_item) in the kernel (64 on 64-bit, 32 on 32-bit), for the profit formula. */
int64_t tu_rmap_item_size(void);

/* Run @s with CK_NORMAL output and free it; returns EXIT_SUCCESS if every test passed, else EXIT_FAILURE. */
int tu_run_suite(Suite *s);

#endif

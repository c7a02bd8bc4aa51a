// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guard: save and restore the global KSM tunables of the running kernel.
 *
 * KSM state is global to the machine, so the kernel suite must leave every
 * writable file of /sys/kernel/mm/ksm exactly as it found it: after each
 * test, at exit, and on SIGINT/SIGTERM/SIGHUP. Snapshot and restore
 * deliberately do not use libksm (the tests check the library against these
 * raw files); they use plain open/read/write/close. The file also holds the
 * runner and small helpers the kernel test programs share.
 *
 * Usage (in the parent test process):
 *	guard_usable()     -> 0, or 77-worthy reason (not root, no KSM, ro sysfs)
 *	guard_save()       snapshot every writable knob file that exists
 *	guard_install()    signal handlers + atexit handler, owned by this pid
 *	...
 *	guard_restore()    write the snapshot back, then verify it
 * In each forked test child: guard_mark_child() so that a signal handler of
 * the parent can stop the child before restoring.
 */
#ifndef LIBKSM_TESTS_GUARD_H
#define LIBKSM_TESTS_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>

struct ksm_ctx;

#define GUARD_KSM_DIR "/sys/kernel/mm/ksm"

/*
 * Can the kernel suite run here? 0 if yes; otherwise -1 and a reason in
 * @why: not root, no /sys/kernel/mm/ksm, or its run file is not writable
 * (read-only sysfs).
 */
int guard_usable(char *why, size_t size);

/*
 * Serialise kernel test programs of every build directory: an exclusive
 * flock() on GUARD_LOCK_FILE, waiting at most @timeout_s seconds. Take it
 * before guard_save(); it is held until the process (and its forked
 * children) exit. 0, -ETIMEDOUT, or another -errno.
 */
#define GUARD_LOCK_FILE "/run/libksm-kernel-tests.lock"
int guard_lock(int timeout_s);

/* Snapshot the raw text of every writable knob file. 0 or -errno. */
int guard_save(void);

/* Number of files in the snapshot, and the name/raw text of entry @i. */
int guard_count(void);
const char *guard_name(int i);
const char *guard_saved_text(int i);

/*
 * Install SIGINT/SIGTERM/SIGHUP handlers and an atexit() handler that
 * restore the snapshot; they act only in the process that called this (the
 * test runner), forked children leave restoring to it.
 */
void guard_install(void);

/* Called in a forked test child: lets the parent's signal handler find it. */
void guard_mark_child(void);

/*
 * Write the snapshot back where the current value differs, in an order the
 * kernel accepts, then verify every file. Returns 0 if every file equals the
 * snapshot afterwards, else the number of differing files; a description of
 * the first differences goes to @msg (may be NULL).
 */
int guard_restore(char *msg, size_t size);

/*
 * The state every test starts from, whatever the machine's: the advisor off
 * (pages_to_scan is then the tests' to set) and ksmd stopped (run=0: nothing
 * merges behind a test's back, and a boost is not refused as at run=2). The
 * other knobs keep the values found, so that non-default ones are
 * exercised. A test that needs another state sets it; the guard restores
 * the snapshot afterwards.
 */
void guard_neutral(void);

/* Compare every file with the snapshot; as guard_restore() but no writes. */
int guard_verify(char *msg, size_t size);

/*
 * Raw access to a file of /sys/kernel/mm/ksm, for tests and setup.
 * guard_raw_read: NUL-terminated text, returns its length or -errno.
 * guard_raw_write: one write() of @text plus "\n", returns 0 or -errno.
 */
int guard_raw_read(const char *name, char *buf, size_t size);
int guard_raw_write(const char *name, const char *text);

/*
 * The runner of test_kernel and test_mem. guard_add() puts test @t into its
 * own test case, restored before and after it in the test child and again
 * in the runner (also after a failed or killed test). guard_run() takes the
 * lock, snapshots, installs the handlers, runs @s, restores, and returns the
 * exit status for main(): failure if a test failed or a restore did not
 * leave every file as it was.
 */
void guard_add(Suite *s, const char *name, const TTest *t);
int guard_run(Suite *s);

/*
 * The middle of guard_run(), for a runner of its own (test_boost): print
 * the snapshot, run @s (freed) with check's verbose output and a 60 s
 * default timeout, and return the number of failed tests. The caller has
 * taken the lock, saved and installed the guard, and restores afterwards.
 */
int guard_run_suite(Suite *s);

/*
 * The main() of every kernel test program. Skips (prints "SKIP: <why>" and
 * returns 77) where the suite cannot run: guard_usable() says no, or
 * @missing (may be NULL) returns why a kernel feature the suite needs is
 * absent (NULL if present). Otherwise builds the suite with @suite, runs it
 * with @run (NULL: guard_run()), which frees it, and returns its exit status.
 */
int guard_main(const char *(*missing)(void), Suite *(*suite)(void), int (*run)(Suite *s));

/* Feature checks for guard_main(): why the feature is absent, or NULL. */
/* /proc/self/ksm_stat and PR_GET_MEMORY_MERGE (6.4+). */
const char *guard_missing_ksm_stat_prctl(void);
/* /proc/self/ksm_stat. */
const char *guard_missing_ksm_stat(void);
/* The ptrace injection backend (x86-64 only). */
const char *guard_missing_injection(void);

/*
 * Merged pages of processes a test did not start. A test that compares the
 * global counters with what its own pages make first calls guard_settle()
 * (after run=2 and after setting the knobs that decide merging, such as
 * use_zero_pages, but before registering its own memory): ksmd runs fast
 * until a full scan changes none of pages_shared, pages_sharing and
 * ksm_zero_pages, so that what other processes have registered is merged
 * again, then ksmd stops (run=0; pages_to_scan and sleep_millisecs as they
 * were). @base gets the counters then, which the test adds to its own
 * expectation; all zero on a machine where nothing else merges. Fails the
 * test if the counters do not settle within 30 s.
 */
struct guard_counts {
	int64_t shared, sharing, zero;
};
void guard_counts_read(struct guard_counts *c);
void guard_settle(struct guard_counts *base);

/*
 * Raw access that fails the test: raw_text() reads file @name of
 * /sys/kernel/mm/ksm into @buf; raw_num() reads a kernel number (optional
 * '-', decimal digits, one optional "\n"); raw_write_ok() writes @text.
 * raw_exists(): does the file exist?
 */
void raw_text(const char *name, char *buf, size_t size);
int64_t raw_num(const char *name);
void raw_write_ok(const char *name, const char *text);
bool raw_exists(const char *name);
/* run=2: stop ksmd, unmerge everything, counters (full_scans too) to 0. */
void reset_counters(void);

/* max_page_sharing, INT64_MAX where the file does not exist (before 4.13). */
int64_t max_page_sharing(void);
/*
 * The kernel's counts for @n identical pages with max_page_sharing @m
 * (ksm-behaviour.md §2.1, as asserted by the kernel's ksm_tests.c): a KSM
 * page takes at most m mappings; one leftover page (n % m == 1) stays
 * unmerged. @merged (may be NULL): pages that end up mapping a KSM page
 * (the owner's ksm_merging_pages).
 */
void expected_counts(int64_t n, int64_t m, int64_t *shared, int64_t *sharing, int64_t *merged);
/*
 * Poll the raw global counters every 5 ms until they are @shared/@sharing;
 * false after @timeout s. @elapsed (may be NULL) gets the seconds waited.
 */
bool wait_counts(int64_t shared, int64_t sharing, double timeout, double *elapsed);

/* A context on the real root (fails the test if it cannot be had). */
struct ksm_ctx *new_ctx(void);
/* CLOCK_MONOTONIC in seconds. */
double now_s(void);
/* Sleep @ms milliseconds, through signals. */
void sleep_ms(long ms);
/* The state letter of /proc/PID/stat ('R', 'S', 'T', ...), '?' if unreadable. */
char proc_state(pid_t pid);

#endif

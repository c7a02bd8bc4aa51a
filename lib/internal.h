/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private declarations shared by the files of lib/.
 *
 * The files are layers; each calls only the ones above it in this list:
 *   libksm.c       the context, the log hook, ksm_strerror()
 *   ksm_sysfs.c    the knob table, value parsing, openat() I/O
 *   ksm_knob.c     one knob: get, set with prerequisites, run control,
 *                  the feature probe
 *   ksm_stats.c    the statistics snapshot and its derived figures
 *   ksm_plan.c     the order of a transaction's writes (pure)
 *   ksm_txn.c      transactions: plan, write, roll back
 *   ksm_profile.c  profiles: load into a transaction, write, save
 *   ksm_mem.c      the calling process's memory (madvise, prctl, smaps)
 *   ksm_proc.c     per-process statistics and the walk over /proc
 *   ksm_controllers.c  other programs that control KSM (ksmtuned)
 *   ksm_wait.c     waiting for full scans
 *   ksm_boost.c    boosts, merge now, merge a range
 *   ksm_partition.c  Selective KSM partitions
 *   ksm_estimate.c what KSM would save: reading other processes' memory,
 *                  the accounting model (pure), sampling, the verify pass
 *   ksm_ksmd.c     ksmd's CPU time
 *   ksm_tune.c     the tuner: its settings, its policy (pure), the daemon's steps
 *   ksm_ident.c    who a process is: command line, cgroup, unit, guest
 *   ksm_doctor.c   the checks of "why is nothing merging?"
 *   ksm_remote.c   another process's merging: process_ksm syscalls, ptrace
 *                  injection
 *   ksm_policy.c   the node-wide disable recorded in the profile
 *   ksm_guided.c   guided merging: estimate, register the ranges that
 *                  would merge, merge now
 */
#ifndef LIBKSM_INTERNAL_H
#define LIBKSM_INTERNAL_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include "ksm.h"

#define KSM_EXPORT __attribute__((visibility("default")))

#define KSM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Arithmetic on what the kernel says: saturated at INT64_MIN and INT64_MAX
 * rather than overflowing (documented for the derived figures in ksm.h).
 */
static inline int64_t ksm_add_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static inline int64_t ksm_sub_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static inline int64_t ksm_mul_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_mul_overflow(a, b, &r))
		return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
	return r;
}

/* Number of entries in the knob table. */
#define KSM_KNOB_NR 24

/* sizeof(struct ksm_rmap_item) in the kernel: 64 bytes on 64-bit, 32 on 32-bit. */
#define RMAP_ITEM_SIZE ((int64_t)(sizeof(void *) * 8))

/* The KSM directory below the system root. */
#define KSM_DIR "sys/kernel/mm/ksm"

/* Largest text a knob file holds ("[none] scan-time\n" is the longest). */
#define KSM_VALUE_MAX 64

struct ksm_ctx {
	int refcount;
	int rootfd;            /* <sysroot> */
	int ksmfd;             /* <sysroot>/sys/kernel/mm/ksm, -1 if absent */
	int knobfd[KSM_KNOB_NR]; /* cached read-only fds, -1 = not open, -2 = absent */
	long page_size;
	char *sysroot;
	char *profile_path;    /* <sysroot><sysconfdir>/ksm.conf, for messages */
	void (*log_fn)(void *data, int priority, const char *file, int line, const char *fn,
		       const char *format, va_list args);
	void *log_data;
	int log_priority;
	int ksmd_pid;          /* ksm_ksmd_cpu(): ksmd's pid once found, else 0 */
	const volatile sig_atomic_t *interrupt; /* ksm_set_interrupt(); NULL: none */
};

/* ------------------------------------------------------------------------ */
/* libksm.c: the context, the log and the messages of ksm_strerror()        */

/* Log through the context's log function if @prio passes its priority. */
__attribute__((format(printf, 6, 7)))
void ksm_log(const struct ksm_ctx *ctx, int prio, const char *file, int line, const char *fn,
	     const char *format, ...);
#define ksm_err(ctx, ...)    ksm_log(ctx, LOG_ERR, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define ksm_warn(ctx, ...)   ksm_log(ctx, LOG_WARNING, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define ksm_notice(ctx, ...) ksm_log(ctx, LOG_NOTICE, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define ksm_info(ctx, ...)   ksm_log(ctx, LOG_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define ksm_dbg(ctx, ...)    ksm_log(ctx, LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__)

/*
 * Record, for this thread, the message ksm_strerror(@err) gives: what failed,
 * why, and what to do. Returns @err (negative), so that a failure path reads
 * "return ksm_fail(-EBUSY, "cannot set %s: ...", ...);". The message should
 * not end in a newline or a full stop.
 */
__attribute__((format(printf, 2, 3)))
int ksm_fail(int err, const char *format, ...);
/* Has the caller's interrupt flag (ksm_set_interrupt()) been raised? */
bool ksm_interrupted(const struct ksm_ctx *ctx);
/* Forget the recorded message: public calls that record one call it first. */
void ksm_fail_clear(void);
/*
 * Text from the system (file contents, process and partition names) made safe
 * to quote in a message: at most @len bytes of @s (up to a NUL), with control
 * characters, invalid UTF-8 and backslashes written as \xHH and \\ (as
 * ksmctl(8) does), cut with "..." to fit @size. Returns @buf.
 */
const char *ksm_escape(const char *s, size_t len, char *buf, size_t size);
/* ksm_escape() of a whole string into a buffer declared in the call. */
#define KSM_ESC(s) ksm_escape((s), (size_t)-1, (char[256]){ 0 }, 256)
/* The recorded message if it was recorded for @err (negative), else NULL. */
const char *ksm_fail_message(int err);
/* Record and return -ENOENT, "KSM is not available" with the path concerned. */
int ksm_fail_no_ksm(const struct ksm_ctx *ctx);
/*
 * Hand a struct the library filled (@len bytes at @src) to a caller whose
 * struct is @size bytes: exactly @size bytes are written, those beyond @len
 * set to 0 (the rule of ksm_stats_read()).
 */
void ksm_copy_out(void *dst, size_t size, const void *src, size_t len);
/* Record and return -EINVAL for a caller's struct @type ("ksm_stats") of
 * @size bytes, too small to hold its .present. */
int ksm_fail_struct_size(const char *type, size_t size);
/* "<sysroot>/sys/kernel/mm/ksm/<name>" in @buf, for messages. */
const char *ksm_knob_path(const struct ksm_ctx *ctx, const char *name, char *buf, size_t size);

/* ------------------------------------------------------------------------ */
/* ksm_sysfs.c: the knob table, value parsing, I/O relative to a directory   */

/* What the planner and the statistics need beyond the public entry. */
enum ksm_knob_role {
	KSM_ROLE_NONE = 0,
	KSM_ROLE_STATE,         /* run: the state, written last */
	KSM_ROLE_ADVISOR,       /* advisor_mode: KSM_REQUIRES_ADVISOR_NONE refers to it */
	KSM_ROLE_ADVISOR_START, /* advisor_min_pages_to_scan: what the advisor starts from */
	KSM_ROLE_MERGED,        /* pages_shared: KSM_REQUIRES_NO_MERGED_PAGES refers to it */
};

struct ksm_knob_def {
	struct ksm_knob_info info; /* what ksm_knob_info() hands out; first member */
	size_t offset;             /* offsetof(struct ksm_stats, <name>) */
	enum ksm_knob_role role;
	int64_t advisor_off_value; /* KSM_REQUIRES_ADVISOR_NONE knobs: the value the kernel
	                              sets when the advisor is switched off */
	bool names_only;           /* enum the kernel reads and prints only by name, the
	                              selected one in brackets ("[none] scan-time") */
	int64_t value_mask;        /* bits of the kernel's number that are the value (0: all) */
};

/* The table: KSM_KNOB_NR entries indexed by enum ksm_knob. */
const struct ksm_knob_def *ksm_knob_defs(void);
/* The knob that plays @role (the first in the table), or -1. */
int ksm_knob_of_role(enum ksm_knob_role role);
/* The rules between knobs (ksm_sysfs.c): with the values @vals (indexed by
 * knob) of the knobs in @known, check every rule that involves a knob in
 * @changed; 0, or -EINVAL with the message recorded. */
int ksm_rules_check(uint64_t known, const int64_t *vals, uint64_t changed);
/* The knobs a rule pairs with @knob, as bits. */
uint64_t ksm_rules_partners(int knob);
/* ksm_knob_parse() that records the message of ksm_strerror() on failure. */
int ksm_parse_value(int knob, const char *text, int64_t *value);
const struct ksm_knob_info *ksm_table_get(int knob);
/* May @value be written to @knob? -ENOENT unknown, -EPERM counter, -EINVAL range. */
int ksm_knob_check(int knob, int64_t value);
/* Parse the kernel's text of @knob (as read from sysfs) into @value. */
int ksm_parse_kernel(int knob, const char *text, int64_t *value);
/*
 * Record the message of a failed read of @knob and return @err: the file
 * (below the KSM directory of @ctx, or @dir's @knob file when @dir is not
 * NULL, e.g. a partition) and, for -EBADMSG, what was expected and the
 * @text found there.
 */
int ksm_fail_read(const struct ksm_ctx *ctx, const char *dir, int knob, int err, const char *text);

/* ksm_sysfs.c: I/O relative to a directory fd */
/* Read a knob's text through the context's cached descriptor; NUL-terminates. */
int ksm_read_knob(struct ksm_ctx *ctx, int knob, char *buf, size_t size);
/* Read at most size-1 bytes of @name below @dirfd; NUL-terminates. */
int ksm_read_at(int dirfd, const char *name, char *buf, size_t size);
/* The same for a file whose whole text matters (knob files, ksm_stat, comm):
 * -EBADMSG if it holds more than size-1 bytes, never a cut text. */
int ksm_read_whole_at(int dirfd, const char *name, char *buf, size_t size);
/* pread() an open sysfs file from offset 0; NUL-terminates. -EBADMSG if the
 * file holds more than size-1 bytes (ksm_read_knob() too). */
int ksm_pread_text(int fd, char *buf, size_t size);
/* Write @text (a newline is appended) to @name below @dirfd in one write;
 * -ELOOP if @name is a symbolic link, which is never followed. */
int ksm_write_at(int dirfd, const char *name, const char *text);
/* Parse a decimal integer the strict way the kernel does. */
int ksm_parse_int64(const char *text, int64_t *value);

/* ksm_knob.c: format and write one knob, errors mapped (and recorded for
 * ksm_strerror()); no prerequisite checks */
int ksm_write_knob(struct ksm_ctx *ctx, int knob, int64_t value);
/* ksm_knob.c: does the KSM directory have the Selective KSM RFC's layout
 * (partitions, no global files)? */
bool ksm_selective_layout(const struct ksm_ctx *ctx);
/* ksm_knob.c: record and return -EOPNOTSUPP, "cannot <what>: ... Selective KSM layout" */
int ksm_fail_selective(const struct ksm_ctx *ctx, const char *what);
/* ksm_knob.c: is the advisor on (1), off or absent (0), or -errno */
int ksm_advisor_active(struct ksm_ctx *ctx);

/* ------------------------------------------------------------------------ */
/* ksm_plan.c: the order of a transaction's writes, a pure function          */

#define KSM_PLAN_KNOBS_MAX 64

/*
 * From the current values @cur of the knobs in @present (indexed like
 * @defs, @n entries) to @want for the knobs in @set: the ordered writes
 * into @steps (up to @max; the count is returned and may exceed @max), or
 * -ENOENT/-EBUSY with *@failed set to the knob concerned. Knobs not in
 * @set keep their current values, also where the kernel would change them
 * as a side effect. Every rule comes from @defs: kind, requires and role.
 */
int ksm_plan(const struct ksm_knob_def *defs, int n, uint64_t present, const int64_t *cur,
	     uint64_t set, const int64_t *want, unsigned int flags, struct ksm_txn_step *steps,
	     size_t max, int *failed);

/* ksm_txn.c: the context a transaction works on (no reference taken) */
struct ksm_ctx *ksm_txn_get_ctx(const struct ksm_txn *txn);
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
/* The same for a caller that has just registered memory itself: the check for
 * registered memory (-ENODATA) starts after a second without a scan, not at once. */
int ksm_wait_scans_since_registered(struct ksm_ctx *ctx, int64_t *base, unsigned int scans,
				    int timeout_ms);

/* ksm_proc.c */
/* Does any process have memory registered with KSM? 1 (also when a process
 * could not be inspected), 0, or -errno (-EOPNOTSUPP: no per-process files). */
int ksm_proc_any_registered(struct ksm_ctx *ctx);
/* The figures of "<pid>" below @procfd as the files say them (no derived
 * ones); present = 0 for a process without memory. Allocates nothing. */
int ksm_proc_read_at(int procfd, const char *pid, struct ksm_proc_stats *st);

/* ksm_stats.c: the statistics snapshot of the knob files below @dirfd (the
 * KSM directory or a Selective KSM partition directory), @size as for
 * ksm_stats_read() */
int ksm_stats_read_at(struct ksm_ctx *ctx, int dirfd, struct ksm_stats *st, size_t size);
/* Only the knobs in @mask of the KSM directory, with the derived figures (the
 * tuner reads what its policy uses); fields not read are 0 and not present. */
int ksm_stats_read_some(struct ksm_ctx *ctx, uint64_t mask, struct ksm_stats *st);

/* ksm_boost.c: does a live process hold a boost? 1, 0 or -errno (read only) */
int ksm_boost_running(struct ksm_ctx *ctx);

/* ksm_partition.c: a Selective KSM RFC syscall; the result or -errno */
long ksm_sys_partition(long nr, long a1, long a2, long a3, long a4);

/* ------------------------------------------------------------------------ */
/* ksm_estimate.c: the KSM accounting model, a pure function                  */

/* What the kernel's merging depends on, as its knobs say. */
struct ksm_model {
	int64_t max_page_sharing;   /* sharers per KSM page (INT64_MAX: no limit) */
	bool use_zero_pages;
	bool merge_across_nodes;
};

/* What merging one content group does to the kernel's counters. */
struct ksm_model_counts {
	int64_t pages_sharing;
	int64_t pages_shared;
	int64_t ksm_zero_pages;
	int64_t rmap_removed;   /* rmap_items ksmd frees (zero pages with use_zero_pages) */
	int64_t freed_pages;    /* frames actually freed */
	int64_t merged;         /* mappings that end up in KSM pages (ksm_merging_pages) */
};

/*
 * One content group: @n mappings of the same content (within one NUMA node
 * when merge_across_nodes is 0) on @f distinct frames, all-zero content if
 * @zero. Fills @c (not added to it).
 */
void ksm_model_group(const struct ksm_model *m, int64_t n, int64_t f, bool zero,
		     struct ksm_model_counts *c);

/* Feed one candidate page read elsewhere (tests): @pfn 0 = unknown frame. */
int ksm_estimate_feed(struct ksm_estimate *est, int target, int pid, uint64_t vaddr,
		      uint64_t pfn, int node, const void *page);
/* The model pages are fed with (tests): merge_across_nodes keys contents by node. */
void ksm_estimate_set_model(struct ksm_estimate *est, const struct ksm_model *m);
/* Compute the results of what was fed or scanned, with model @m (the same
 * merge_across_nodes as the pages were fed or scanned with). */
int ksm_estimate_account(struct ksm_estimate *est, const struct ksm_model *m);

/*
 * The ksmd cost model (ksmctl(8), COST MODEL), a pure function: ksmd spends
 * KSM_KSMD_NS_PER_PAGE of CPU per registered page per full scan while it
 * merges; scans @pages_to_scan pages per batch and sleeps @sleep_ms, plus
 * KSM_KSMD_SLEEP_EXTRA_NS when it sleeps at all, after each batch; merging
 * takes KSM_KSMD_SCANS_TO_MERGE full scans of @pages. When it keeps
 * scanning afterwards, a page of a batch costs KSM_KSMD_NS_PER_MERGED_PAGE
 * if it is one of the @merged pages in KSM pages, else
 * KSM_KSMD_NS_PER_UNMERGED_PAGE (with smart_scan, pages it skips are walked
 * but not counted). The constants were fitted on bench/bench_guided.c
 * (BENCHMARKS.md): ksmd's CPU over the pages_scanned of a run at full
 * speed; the wall time of a run at the boot knobs; ksmd's CPU in windows at
 * the boot knobs after merging memory 16 % and 100 % of which merged.
 */
#define KSM_KSMD_NS_PER_PAGE 3800
#define KSM_KSMD_SLEEP_EXTRA_NS 3000000
#define KSM_KSMD_NS_PER_MERGED_PAGE 350
#define KSM_KSMD_NS_PER_UNMERGED_PAGE 8800
#define KSM_KSMD_SCANS_TO_MERGE 2
struct ksm_ksmd_cost {
	int64_t cpu_to_merge_ns;
	int64_t wall_to_merge_ms;
	int64_t cpu_per_hour_ns;
};
void ksm_ksmd_cost_model(int64_t pages, int64_t merged, int64_t pages_to_scan, int64_t sleep_ms,
			 struct ksm_ksmd_cost *c);

/* The sampling rate at which @pages candidate pages fit in @limit bytes of
 * tables (KSM_ESTIMATE_BYTES_PER_PAGE each): 1 if they fit in full. */
double ksm_estimate_fit_rate(uint64_t pages, uint64_t limit);

/* The context of @est. */
struct ksm_ctx *ksm_estimate_ctx(const struct ksm_estimate *est);
/* Make @est ready for ksm_estimate_ranges(): unless it has run, run it with
 * @flags and no memory limit (every content is needed). 1 if it ran now, 0
 * if it had run; -EINVAL if it is sampled or its run failed; the errors of
 * ksm_estimate_run(). */
int ksm_estimate_run_full(struct ksm_estimate *est, unsigned int flags);

/*
 * Join the page addresses @addrs (@n of them, ascending) into ranges: two
 * pages share a range when at most @gap pages of @page_size lie between
 * them. Up to @max ranges go to @out; returns how many there are.
 */
size_t ksm_coalesce_pages(const uint64_t *addrs, size_t n, uint64_t page_size, uint64_t gap,
			  struct ksm_range *out, size_t max);

/* ksm_boost.c, ksm_tune.c: ksmd at full speed is sleep_millisecs = 0
 * with batches of this many pages (pages_to_scan). */
#define KSM_FAST_PAGES_TO_SCAN 20000

/* ksm_ksmd.c, ksm_tune.c: the tuner. The policy is a pure function so that
 * it can be tested branch by branch. */
enum {
	KSM_TUNE_S_POLICY,      /* KSM_TUNE_POLICY_* */
	KSM_TUNE_S_INTERVAL,    /* seconds between decisions */
	KSM_TUNE_S_SLEEP_MSEC,  /* sleep_millisecs for 16 GiB */
	KSM_TUNE_S_BOOST,
	KSM_TUNE_S_DECAY,
	KSM_TUNE_S_MIN,
	KSM_TUNE_S_MAX,
	KSM_TUNE_S_THRES_COEF,  /* percent of MemTotal */
	KSM_TUNE_S_THRES_CONST, /* kB */
	KSM_TUNE_S_METRIC,      /* KSM_TUNE_METRIC_* */
	KSM_TUNE_S_PSI_SOME,    /* percent, 0: off */
	KSM_TUNE_S_MAX_CPU,     /* percent of a CPU for ksmd, 0: no limit */
	KSM_TUNE_S_ADVISOR,
	KSM_TUNE_S_RESTORE,
	KSM_TUNE_S_REACT,
	KSM_TUNE_S_RECHECK,     /* seconds a converged ksmd stays stopped, 0: until a change */
	KSM_TUNE_S_CATCHUP,     /* seconds of full speed after a new process, 0: none */
	KSM_TUNE_S_DEBUG,
	KSM_TUNE_S_NR
};
enum { KSM_TUNE_POLICY_NATIVE = 0, KSM_TUNE_POLICY_KSMTUNED = 1 };
enum { KSM_TUNE_METRIC_RSS = 0, KSM_TUNE_METRIC_PSS = 1, KSM_TUNE_METRIC_VSZ = 2 };
enum { KSM_TUNE_FORMAT_AUTO, KSM_TUNE_FORMAT_KSMTUNED, KSM_TUNE_FORMAT_KSM_CONF };

/* What the policy looks at; sizes in kB as /proc/meminfo gives them. */
struct ksm_tune_input {
	int64_t mem_total_kb;
	int64_t mem_free_kb;      /* MemFree + Buffers + Cached (ksmtuned's "free") */
	int64_t mem_available_kb; /* -1: the kernel lacks MemAvailable */
	double psi_some, psi_full; /* avg10 in percent, -1: no PSI */
	int64_t committed_kb;     /* memory of the processes with registered memory */
	int64_t procs;            /* those processes; -1: the kernel cannot tell */
	double ksmd_cpu;          /* percent of a CPU since the last decision, -1: unknown */
	int64_t run, pages_to_scan, sleep_millisecs;
	bool has_advisor;
	int64_t advisor_mode;
	int64_t full_scans, saved_pages;
	bool new_process;         /* a process registered memory since the last decision */
	int64_t now_s;            /* monotonic seconds */
	bool policy_disabled;     /* ksm_policy_disable(): run = 2 in the default profile */
};

/* What the policy carries from one decision to the next. */
struct ksm_tune_state {
	int64_t npages; /* ksmtuned's npages: starts at 0 */
	bool seen;
	int64_t full_scans, saved_pages; /* at the last decision */
	int64_t change_scans;   /* full_scans when merging last had new work (a start, a new process) */
	/* Converged: a full scan added no savings, ksmd is stopped (run=0 keeps
	 * what is merged) until something changes. What it was like then: */
	bool converged;
	bool conv_pressure;     /* MemAvailable below the threshold or PSI high */
	int64_t conv_at;        /* now_s */
	int64_t conv_procs, conv_committed_kb;
	/* Catching up: ksmd at full speed until the new process's memory has
	 * been scanned once (full_scans reaches catchup_scans) or until
	 * catchup_until (now_s), whichever comes first. */
	bool catchup;
	int64_t catchup_scans, catchup_until;
};

struct ksm_tune_out {
	uint64_t set;                /* knobs to write */
	int64_t want[KSM_KNOB_NR];
	int64_t threshold_kb;
	char reason[256];
};

void ksm_tune_defaults(int64_t *settings);
void ksm_tune_policy(const int64_t *settings, const struct ksm_tune_input *in,
		     struct ksm_tune_state *state, struct ksm_tune_out *out);
int ksm_tune_parse_file(const struct ksm_ctx *ctx, const char *path, int format, int64_t *settings,
			unsigned int *line);

/* ksm_stats.c: MemAvailable of <sysroot>/proc/meminfo in bytes into *@bytes:
 * 0; -ENODATA without the line (before 3.14), -EBADMSG, or the read's -errno.
 * The one reader of that line for every memory check of the library. */
int ksm_mem_available(struct ksm_ctx *ctx, int64_t *bytes);

/* ksm_remote.c: make process @pid execute syscall @nr with @args, by the
 * ptrace injection of ksm_process_set_merge() (x86-64; -EOPNOTSUPP
 * elsewhere). Its result, or -errno recorded. For the tests. */
long ksm_inject_syscall(struct ksm_ctx *ctx, int pid, long nr, const long args[6]);

/* ksm_remote.c: the syscalls a kernel may lack, one function each */
int ksm_sys_pidfd_open(int pid);
long ksm_sys_process_ksm(long nr, int pidfd);

/* libksm.c: the node-wide disable recorded in the default profile: the last
 * "run" line says 2; the marker comment before it says since when. */
#define KSM_POLICY_MARKER "# disabled by policy since "
/* 1 (disabled, *@since seconds since the epoch or -1), 0, or -errno. */
int ksm_policy_read(const struct ksm_ctx *ctx, int64_t *since);
/* libksm.c: is KSM disabled by policy (run = 2 in the default profile)?
 * 1 (with a message recorded for ksm_strerror(-ECANCELED)), 0, or -errno.
 * Boosts, merge-now and starting ksmd consult it and refuse. */
int ksm_disabled_by_policy(struct ksm_ctx *ctx);

#endif

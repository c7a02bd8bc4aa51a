/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libksm - a library for Linux Kernel Samepage Merging (KSM)
 *
 * Conventions, valid for every function below:
 *  - Functions return 0 (or a count) on success and a negative errno value
 *    on failure. errno itself is never part of the interface. A NULL
 *    pointer where an object is required gives -EINVAL. Each error code
 *    has one meaning across the library: see "ERRORS" in libksm(3).
 *    ksm_strerror() turns a failure into a message people can act on.
 *  - One lifecycle rule: objects are opaque and reference counted. A
 *    constructor ("_new", "_open", "_begin") hands the object back through
 *    an out-parameter with a reference count of 1; "_ref" takes another
 *    reference and returns its argument; "_unref" drops one and returns
 *    NULL when it freed the object (both accept NULL). The one exception is
 *    a boost, which is an action rather than a value: ksm_boost_end() is its
 *    only release call, and it returns whether the knobs were restored.
 *  - Structures the library fills in for the caller (statistics) are passed
 *    together with their size, as openat2() and clone3() take theirs:
 *    ksm_stats_read(ctx, &st, sizeof(st)). Such a structure needs no
 *    initialisation and only ever grows at its end, so programs built
 *    against an older header keep working with a newer library.
 *  - Knobs are the files of /sys/kernel/mm/ksm. Every knob is described by
 *    one table inside the library (see ksm_knob_info()); names, types, ranges
 *    and prerequisites come from there.
 */
#ifndef LIBKSM_KSM_H
#define LIBKSM_KSM_H

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KSM_VERSION_MAJOR 0
#define KSM_VERSION_MINOR 2

struct ksm_ctx;

/* ------------------------------------------------------------------------ */
/* Context                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * ksm_new() - create a context for the system root named by the environment.
 * @ctx: receives the new context (refcount 1).
 *
 * The system root is taken from the environment variable KSM_SYSROOT (read
 * with secure_getenv(), so it is ignored in set-user-ID programs), else "/".
 * The context opens <sysroot>/sys/kernel/mm/ksm once; every knob is then read
 * and written with openat() relative to that directory. A missing KSM
 * directory is not an error here: ksm_probe_features() reports it, and knob
 * calls return -ENOENT.
 *
 * Return: 0; -ENOENT or -ENOTDIR if the system root does not exist or is no
 * directory; -ENOMEM; another -errno from open().
 * Since: 0.2
 */
int ksm_new(struct ksm_ctx **ctx);

/**
 * ksm_new_at() - create a context for an explicit system root.
 * @ctx: receives the new context (refcount 1).
 * @sysroot: directory that stands for "/" (e.g. a dump of /sys for tests);
 *           NULL behaves exactly like ksm_new(); "" means "/".
 *
 * Return: as ksm_new().
 * Since: 0.2
 */
int ksm_new_at(struct ksm_ctx **ctx, const char *sysroot);

/**
 * ksm_ref() - take a reference.
 * Return: @ctx (NULL stays NULL).
 * Since: 0.2
 */
struct ksm_ctx *ksm_ref(struct ksm_ctx *ctx);

/**
 * ksm_unref() - drop a reference; the last one frees the context and closes
 * its file descriptors.
 * Return: NULL if the context was freed (or @ctx was NULL), else @ctx.
 * Since: 0.2
 */
struct ksm_ctx *ksm_unref(struct ksm_ctx *ctx);

/**
 * ksm_get_sysroot() - the system root this context works on.
 * Return: a string owned by the context, never NULL.
 * Since: 0.2
 */
const char *ksm_get_sysroot(const struct ksm_ctx *ctx);

/**
 * ksm_get_page_size() - the page size used for byte figures (sysconf).
 * Return: the page size in bytes.
 * Since: 0.2
 */
long ksm_get_page_size(const struct ksm_ctx *ctx);

/**
 * ksm_set_log_fn() - send the library's log to @log_fn instead of stderr.
 * @log_fn: called for each message at or above the log priority, with
 *          @data, a syslog(3) priority (LOG_ERR ... LOG_DEBUG), the source
 *          location, and a printf format with its arguments; NULL restores
 *          the default, which writes "libksm: <message>" to stderr.
 *
 * The log tells what the library decided on its own: a transaction rolled
 * back (LOG_WARNING) or a rollback that could not restore everything
 * (LOG_ERR), a boost recovered from a dead process or knobs a boost left
 * alone (LOG_NOTICE). Failures of a call are not logged: they are its return value (and ksm_strerror()).
 * Since: 0.2
 */
void ksm_set_log_fn(struct ksm_ctx *ctx,
		    void (*log_fn)(void *data, int priority, const char *file, int line,
				   const char *fn, const char *format, va_list args),
		    void *data);

/**
 * ksm_get_log_priority() - the lowest priority that is logged.
 *
 * The default is LOG_ERR, or what the environment variable KSM_LOG says
 * (read with secure_getenv() by ksm_new()): a number, or one of "err",
 * "warning", "notice", "info", "debug".
 * Return: a syslog(3) priority.
 * Since: 0.2
 */
int ksm_get_log_priority(const struct ksm_ctx *ctx);

/**
 * ksm_set_log_priority() - log messages of priority @priority and more
 * urgent ones (LOG_ERR is 3, LOG_DEBUG 7).
 * Since: 0.2
 */
void ksm_set_log_priority(struct ksm_ctx *ctx, int priority);

/**
 * ksm_set_interrupt() - make the calls that wait return when *@flag becomes
 * non-zero, typically set by the caller's signal handler.
 * @flag: checked before every blocking step of a wait (the boost lock, the
 *        record's fsync, each poll of ksmd's progress, the walk over /proc)
 *        and at least every 10 ms while waiting; NULL removes it.
 *
 * A signal handler that only sets a flag may run between two of those steps,
 * where no system call is there to be interrupted: the flag is what makes
 * ksm_merge_now(), ksm_merge_range(), ksm_merge_guided() (between processes
 * too) and ksm_wait_scans() return -EINTR
 * promptly whenever the signal arrives. Ending a boost (restoring the knobs)
 * is never interrupted.
 * Since: 0.2
 */
void ksm_set_interrupt(struct ksm_ctx *ctx, const volatile sig_atomic_t *flag);

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * ksm_strerror() - a message for an error a libksm call returned.
 * @err: the negative value the call returned (a positive one is accepted
 *       too).
 *
 * When the last failed libksm call of this thread returned @err, the
 * message is that call's own: what failed (the knob, the file, the
 * process), why, and what to do about it, for example "cannot set
 * merge_across_nodes: 1234 pages are still merged; unmerge them first
 * (run=2, 'ksmctl unmerge') or allow the transaction to unmerge". Otherwise
 * it is the library's meaning of the code (see ERRORS in libksm(3)), and
 * strerror()'s text for a code the library never returns.
 *
 * Return: a string owned by the library, valid in this thread until its
 * next libksm call; never NULL.
 * Since: 0.2
 */
const char *ksm_strerror(int err);

/* ------------------------------------------------------------------------ */
/* The knob table                                                            */
/* ------------------------------------------------------------------------ */

/* Every file of /sys/kernel/mm/ksm that mainline has. Values are stable. */
enum ksm_knob {
	KSM_KNOB_RUN = 0,
	KSM_KNOB_PAGES_TO_SCAN = 1,
	KSM_KNOB_SLEEP_MILLISECS = 2,
	KSM_KNOB_MERGE_ACROSS_NODES = 3,
	KSM_KNOB_USE_ZERO_PAGES = 4,
	KSM_KNOB_MAX_PAGE_SHARING = 5,
	KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS = 6,
	KSM_KNOB_SMART_SCAN = 7,
	KSM_KNOB_ADVISOR_MODE = 8,
	KSM_KNOB_ADVISOR_MAX_CPU = 9,
	KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN = 10,
	KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN = 11,
	KSM_KNOB_ADVISOR_TARGET_SCAN_TIME = 12,
	KSM_KNOB_PAGES_SHARED = 13,
	KSM_KNOB_PAGES_SHARING = 14,
	KSM_KNOB_PAGES_UNSHARED = 15,
	KSM_KNOB_PAGES_VOLATILE = 16,
	KSM_KNOB_PAGES_SCANNED = 17,
	KSM_KNOB_PAGES_SKIPPED = 18,
	KSM_KNOB_FULL_SCANS = 19,
	KSM_KNOB_STABLE_NODE_CHAINS = 20,
	KSM_KNOB_STABLE_NODE_DUPS = 21,
	KSM_KNOB_KSM_ZERO_PAGES = 22,
	KSM_KNOB_GENERAL_PROFIT = 23,
};

/* Values of the run knob. */
enum ksm_run {
	KSM_RUN_STOP = 0,    /* ksmd stopped, merged pages stay merged */
	KSM_RUN_MERGE = 1,   /* ksmd scans and merges */
	KSM_RUN_UNMERGE = 2, /* stop and unmerge everything; reads back as 2 */
};

/* Values of the advisor_mode knob. */
enum ksm_advisor_mode {
	KSM_ADVISOR_NONE = 0,
	KSM_ADVISOR_SCAN_TIME = 1,
};

enum ksm_knob_kind {
	KSM_KIND_TUNABLE = 1, /* root may write it */
	KSM_KIND_COUNTER = 2, /* read-only */
};

enum ksm_knob_type {
	KSM_TYPE_UNSIGNED = 1,
	KSM_TYPE_SIGNED = 2,
	KSM_TYPE_BOOL = 3,
	KSM_TYPE_ENUM = 4, /* small integer with names, see .values */
};

/* Prerequisites of a write (ksm_knob_info.requires). */
#define KSM_REQUIRES_NO_MERGED_PAGES (1u << 0) /* changing it needs pages_shared == 0 */
#define KSM_REQUIRES_ADVISOR_NONE    (1u << 1) /* writable only while advisor_mode is none */

/* Feature bits (ksm_probe_features()). */
#define KSM_FEATURE_KSM                (UINT64_C(1) << 0)  /* <sysroot>/sys/kernel/mm/ksm exists */
#define KSM_FEATURE_WRITABLE           (UINT64_C(1) << 1)  /* this caller may write the knobs */
#define KSM_FEATURE_MERGE_ACROSS_NODES (UINT64_C(1) << 2)  /* NUMA kernel: merge_across_nodes */
#define KSM_FEATURE_USE_ZERO_PAGES     (UINT64_C(1) << 3)  /* use_zero_pages */
#define KSM_FEATURE_MAX_PAGE_SHARING   (UINT64_C(1) << 4)  /* max_page_sharing, stable_node_* */
#define KSM_FEATURE_GENERAL_PROFIT     (UINT64_C(1) << 5)  /* general_profit */
#define KSM_FEATURE_KSM_ZERO_PAGES     (UINT64_C(1) << 6)  /* ksm_zero_pages counter */
#define KSM_FEATURE_SMART_SCAN         (UINT64_C(1) << 7)  /* smart_scan, pages_skipped, pages_scanned */
#define KSM_FEATURE_ADVISOR            (UINT64_C(1) << 8)  /* advisor_mode and advisor_* */
#define KSM_FEATURE_PRCTL_MEMORY_MERGE (UINT64_C(1) << 9)  /* PR_SET/GET_MEMORY_MERGE work */
#define KSM_FEATURE_PROC_KSM_STAT      (UINT64_C(1) << 10) /* /proc/PID/ksm_stat */
#define KSM_FEATURE_SELECTIVE_KSM      (UINT64_C(1) << 11) /* RFC layout: ksm/control/add_partition */

/*
 * Static description of one knob. The library owns the memory; fields may be
 * appended in later versions, so never copy the struct by value into storage
 * that outlives the library.
 */
struct ksm_knob_info {
	const char *name;           /* the sysfs file name, e.g. "pages_to_scan" */
	const char *description;    /* one line for people */
	enum ksm_knob_kind kind;
	enum ksm_knob_type type;
	int64_t min;                /* smallest accepted value (tunables) */
	int64_t max;                /* largest accepted value (tunables) */
	unsigned int requires;      /* KSM_REQUIRES_* */
	uint64_t feature;           /* KSM_FEATURE_* bit of its group; 0 for the 2.6.32 base set */
	const char *const *values;  /* KSM_TYPE_ENUM: names indexed by value, NULL-terminated */
	const char *since;          /* first mainline release with the file, e.g. "4.13" */
	unsigned int flags;         /* KSM_KNOB_CUMULATIVE */
};

/* ksm_knob_info.flags */
#define KSM_KNOB_CUMULATIVE (1u << 0) /* a counter that only grows (until a reset such as run=2):
                                         a rate makes sense; the others are levels */

/**
 * ksm_knob_count() - number of knobs in the table.
 * Return: the count; knob values run from 0 to count - 1.
 * Since: 0.2
 */
int ksm_knob_count(void);

/**
 * ksm_knob_info() - the table entry of a knob.
 * Return: a pointer to static data, or NULL for an unknown @knob.
 * Since: 0.2
 */
const struct ksm_knob_info *ksm_knob_info(enum ksm_knob knob);

/**
 * ksm_knob_lookup() - find a knob by its sysfs name.
 * Return: the knob (>= 0), or -ENOENT if no knob has that name.
 * Since: 0.2
 */
int ksm_knob_lookup(const char *name);

/**
 * ksm_knob_parse() - parse and validate a value given as text.
 * @text: the one grammar of values (libksm(3) has it in full): blanks
 *        around the text ignored; a decimal number with an optional '+' or
 *        '-', as the kernel's kstrto*() take it in base 10 (no hexadecimal);
 *        for bool knobs also y/n, yes/no, on/off and true/false, for run
 *        also stop/merge/unmerge, names in any letter case. advisor_mode
 *        takes only its names, none or scan-time, as the kernel does.
 * @value: receives the value.
 *
 * Return: 0; -EINVAL if the text is not a value of the knob's type or lies
 * outside the knob's range; -ENOENT for an unknown knob.
 * Since: 0.2
 */
int ksm_knob_parse(enum ksm_knob knob, const char *text, int64_t *value);

/**
 * ksm_knob_format() - format a value the way the kernel prints it
 * (advisor_mode as its name, everything else as a decimal number).
 * Return: the length written (without NUL), -ENOSPC if @size is too small,
 * -ENOENT for an unknown knob, -EINVAL for an advisor_mode value that names
 * no mode. Numbers are not range-checked: counters can hold any value.
 * Since: 0.2
 */
int ksm_knob_format(enum ksm_knob knob, int64_t value, char *buf, size_t size);

/**
 * ksm_knob_describe_values() - the values a knob accepts, as text for people:
 * "0 to 4294967295", "0 or 1 (also y/n, yes/no, on/off, true/false)",
 * "stop (0), merge (1) or unmerge (2)", "none or scan-time".
 * Return: the length written (without NUL), -ENOSPC if @size is too small,
 * -ENOENT for an unknown knob, -EPERM for a counter (it accepts nothing).
 * Since: 0.2
 */
int ksm_knob_describe_values(enum ksm_knob knob, char *buf, size_t size);

/* ------------------------------------------------------------------------ */
/* Reading and writing knobs                                                 */
/* ------------------------------------------------------------------------ */

/**
 * ksm_get() - read one knob.
 * @value: receives the value; advisor_mode as enum ksm_advisor_mode, run
 *         without the kernel's internal "offlining" bit.
 *
 * Return: 0; -ENOENT if this kernel has no such file (or no KSM);
 * -EBADMSG if the kernel's text cannot be parsed, is longer than any value
 * of the knob, or is negative for a knob of type KSM_TYPE_UNSIGNED; -EACCES;
 * another -errno from the read.
 * Since: 0.2
 */
int ksm_get(struct ksm_ctx *ctx, enum ksm_knob knob, int64_t *value);

/**
 * ksm_set() - validate and write one tunable.
 *
 * The value is checked against the table before anything is written:
 * range, and prerequisites (changing merge_across_nodes or max_page_sharing
 * while KSM pages exist; writing pages_to_scan while the advisor is active).
 * Kernel errors are passed on with the cause they stand for.
 *
 * Return: 0;
 *  -EINVAL  the value is outside the knob's range;
 *  -EBUSY   a prerequisite does not hold (see ksm_knob_info().requires:
 *           pages are still merged, or advisor_mode is not none);
 *  -EPERM   the knob is a read-only counter: no privilege can write it;
 *  -EACCES  the caller lacks the permission or privilege to write the
 *           knob (file mode, capability or security module);
 *  -EROFS   sysfs is mounted read-only (typical in containers);
 *  -ENOENT  the knob does not exist on this kernel;
 *  -ENOMEM  the kernel could not allocate (first merge_across_nodes=0);
 *  another -errno from the write.
 * Since: 0.2
 */
int ksm_set(struct ksm_ctx *ctx, enum ksm_knob knob, int64_t value);

/**
 * ksm_set_text() - ksm_knob_parse() followed by ksm_set().
 * Return: as ksm_knob_parse() and ksm_set().
 * Since: 0.2
 */
int ksm_set_text(struct ksm_ctx *ctx, enum ksm_knob knob, const char *text);

/* ------------------------------------------------------------------------ */
/* Run control                                                               */
/* ------------------------------------------------------------------------ */

/**
 * ksm_start() - run=1: ksmd scans and merges registered memory.
 * Return: 0 or -errno as ksm_set().
 * Since: 0.2
 */
int ksm_start(struct ksm_ctx *ctx);

/**
 * ksm_stop() - run=0: ksmd stops; merged pages stay merged.
 * Return: 0 or -errno as ksm_set().
 * Since: 0.2
 */
int ksm_stop(struct ksm_ctx *ctx);

/**
 * ksm_unmerge_all() - run=2: stop ksmd and unmerge every merged page.
 *
 * Unmerging breaks copy-on-write for every shared page, so memory use grows
 * by up to pages_sharing pages at once. Registered areas stay registered;
 * the counters, including full_scans, drop to 0.
 *
 * Return: 0; -ENOMEM if the kernel ran out of memory while unmerging;
 * -EINTR if a signal interrupted it (in both cases the kernel leaves run=0);
 * other errors as ksm_set().
 * Since: 0.2
 */
int ksm_unmerge_all(struct ksm_ctx *ctx);

/* ------------------------------------------------------------------------ */
/* Statistics                                                                */
/* ------------------------------------------------------------------------ */

/*
 * One snapshot of every knob. Fields carry the sysfs names. A field is valid
 * only if its bit (1 << enum ksm_knob) is set in .present. New fields are
 * only ever appended. The struct needs no initialisation: pass its size to
 * ksm_stats_read().
 */
struct ksm_stats {
	uint64_t present;     /* bit (1 << enum ksm_knob) set if the file exists */

	/* tunables */
	int64_t run;
	int64_t pages_to_scan;
	int64_t sleep_millisecs;
	int64_t merge_across_nodes;
	int64_t use_zero_pages;
	int64_t max_page_sharing;
	int64_t stable_node_chains_prune_millisecs;
	int64_t smart_scan;
	int64_t advisor_mode;  /* enum ksm_advisor_mode */
	int64_t advisor_max_cpu;
	int64_t advisor_min_pages_to_scan;
	int64_t advisor_max_pages_to_scan;
	int64_t advisor_target_scan_time;

	/* counters */
	int64_t pages_shared;
	int64_t pages_sharing;
	int64_t pages_unshared;
	int64_t pages_volatile;
	int64_t pages_scanned;
	int64_t pages_skipped;
	int64_t full_scans;
	int64_t stable_node_chains;
	int64_t stable_node_dups;
	int64_t ksm_zero_pages;
	int64_t general_profit;

	/* derived figures, always filled; a sum or product beyond the range of
	   int64_t is saturated at INT64_MAX or INT64_MIN, never wrapped */
	int64_t page_size;       /* bytes per page (sysconf) */
	int64_t saved_pages;     /* pages_sharing + ksm_zero_pages */
	int64_t saved_bytes;     /* saved_pages * page_size */
	int64_t profit_bytes;    /* general_profit, or its formula where the file is missing */
	double sharing_ratio;    /* pages_sharing / pages_shared: mappings of a KSM page
	                            beyond its first, on average; 0 when nothing is shared */
	double effectiveness;    /* saved_pages / every page KSM tracks
	                            (shared + sharing + unshared + volatile + ksm_zero_pages);
	                            0 when KSM tracks nothing */
	/* Fields added in later versions go here. */
};

/**
 * ksm_stats_read() - read every counter and tunable present, in one call.
 * @st: filled; needs no initialisation.
 * @size: sizeof(*st) as the caller knows it. A program built against an
 *        older header passes a smaller size and gets exactly that many
 *        bytes filled (fields beyond it are neither written nor marked in
 *        .present); one built against a newer header passes a larger size
 *        and gets the bytes the library does not know set to 0.
 *
 * Files this kernel lacks are left 0 and their .present bit clear. The
 * profit estimate used where general_profit is missing counts the kernel's
 * rmap_item as 64 bytes on 64-bit builds of libksm and 32 on 32-bit ones.
 *
 * Return: 0; -ENOENT if KSM is absent (no <sysroot>/sys/kernel/mm/ksm);
 * -EINVAL if @size cannot hold .present (less than 8 bytes);
 * -EBADMSG if a file holds text that cannot be parsed, is longer than any
 * value of its knob (a cut text is never read as a value), or is negative
 * for a knob of type KSM_TYPE_UNSIGNED; another -errno.
 * Since: 0.2
 */
int ksm_stats_read(struct ksm_ctx *ctx, struct ksm_stats *st, size_t size);

/**
 * ksm_stats_value() - the field of a snapshot that belongs to a knob.
 * Return: 0 and *value; -ENOENT if the knob's file was not present (or the
 * field lies beyond the size the snapshot was read with); -EINVAL for an
 * unknown knob.
 * Since: 0.2
 */
int ksm_stats_value(const struct ksm_stats *st, enum ksm_knob knob, int64_t *value);

/* What unmerging everything (run=2) would cost, ksm_unmerge_estimate(). */
struct ksm_unmerge_cost {
	int64_t pages;           /* pages unmerging copies back: pages_sharing + ksm_zero_pages */
	int64_t need_bytes;      /* pages * page size: the memory use can grow by that much */
	int64_t available_bytes; /* MemAvailable of <sysroot>/proc/meminfo in bytes; -1 if unknown */
	/* Fields added in later versions go here. */
};

/**
 * ksm_unmerge_estimate() - what unmerging every page would cost, against the
 * memory available, before ksm_unmerge_all() or a transaction that unmerges.
 * @cost: filled; needs no initialisation.
 * @size: sizeof(*cost) as the caller knows it, with the rules of
 *        ksm_stats_read().
 *
 * Unmerging gives every mapping of a KSM page (pages_sharing) and every KSM
 * zero page (ksm_zero_pages) a page of its own, at once. That need is
 * compared with MemAvailable of <sysroot>/proc/meminfo, the kernel's own
 * estimate of the memory that can be had without swapping. Where the file or
 * the line is missing (kernels before 3.14), available_bytes is -1 and the
 * call returns 0.
 *
 * Return: 0 when the unmerge fits, or when it cannot be told;
 * -ENOMEM when it clearly does not fit (need_bytes > available_bytes; *@cost
 * is filled and ksm_strerror() says by how much); -ENOENT without KSM;
 * -EBADMSG if a KSM file or the MemAvailable line cannot be parsed; -EINVAL
 * for a @size that cannot hold .pages; another -errno from the reads.
 * Since: 0.2
 */
int ksm_unmerge_estimate(struct ksm_ctx *ctx, struct ksm_unmerge_cost *cost, size_t size);

/* ------------------------------------------------------------------------ */
/* Features                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * ksm_probe_features() - what this system offers, as KSM_FEATURE_* bits.
 *
 * Everything is detected by the presence of files under the context's
 * system root and by errno, never by kernel version. The one exception to
 * the system root is KSM_FEATURE_PRCTL_MEMORY_MERGE: a prctl() can only ask
 * the kernel this process runs on, so that bit describes the running kernel
 * and is only probed when the system root is "/".
 *
 * Return: 0 and *features; -errno on an unexpected failure.
 * Since: 0.2
 */
int ksm_probe_features(struct ksm_ctx *ctx, uint64_t *features);

/**
 * ksm_feature_name() - short name of a single KSM_FEATURE_* bit
 * ("ksm", "writable", "use_zero_pages", ...), for listings and JSON.
 * Return: the name, or NULL if @feature is not exactly one known bit.
 * Since: 0.2
 */
const char *ksm_feature_name(uint64_t feature);

/* ------------------------------------------------------------------------ */
/* Memory of the calling process                                             */
/* ------------------------------------------------------------------------ */

/**
 * ksm_mark_mergeable() - register a range of the calling process for merging
 * (madvise MADV_MERGEABLE).
 * @addr: start of the range; need not be page aligned.
 * @len: length in bytes; the range is widened to whole pages.
 *
 * The kernel accepts the advice on any mapping but silently ignores it on
 * shared (MAP_SHARED), hugetlb, DAX and PFN/IO mappings: madvise() returns 0
 * and nothing there is ever merged. libksm checks what the kernel actually
 * registered (the "mg" VmFlag in /proc/self/smaps) and reports a range in
 * which nothing could be registered as -EOPNOTSUPP. A range that is only
 * partly eligible returns 0; ksm_mergeable_bytes() tells how much.
 *
 * Return: 0; -EOPNOTSUPP if the kernel has no KSM or no byte of the range
 * could be registered; -EFAULT if the range contains unmapped holes (the
 * mapped parts are still registered); -ENOMEM if the kernel ran out of
 * memory or the VMA split would exceed vm.max_map_count; -EINVAL for a
 * range that wraps around; 0 for @len == 0.
 * Since: 0.2
 */
int ksm_mark_mergeable(void *addr, size_t len);

/**
 * ksm_mark_unmergeable() - unregister a range (madvise MADV_UNMERGEABLE) and
 * unmerge the KSM pages in it.
 *
 * Unmerging copies every merged page of the range back, so it can need a lot
 * of memory at once.
 *
 * Return: 0; -EFAULT for unmapped holes; -ENOMEM when out of memory or
 * vm.max_map_count is reached; -EINTR when a signal interrupted unmerging;
 * -EOPNOTSUPP without KSM in the kernel; -EINVAL for a range that wraps.
 * Since: 0.2
 */
int ksm_mark_unmergeable(void *addr, size_t len);

/**
 * ksm_mergeable_bytes() - how many bytes of a range of the calling process
 * are registered for merging (VmFlags "mg" in /proc/self/smaps).
 * @addr, @len: the range, widened to whole pages.
 * @bytes: receives the count; unmapped parts count as not registered.
 *
 * Return: 0; -EINVAL for a range that wraps around; -errno if
 * /proc/self/smaps cannot be read.
 * Since: 0.2
 */
int ksm_mergeable_bytes(const void *addr, size_t len, uint64_t *bytes);

/**
 * ksm_set_process_merge() - enable or disable merging of all present and
 * future private anonymous memory of the calling process
 * (prctl PR_SET_MEMORY_MERGE).
 * @enable: non-zero to enable.
 *
 * The setting is inherited by children across fork() and by programs across
 * execve(). Disabling unmerges every merged page of the process and
 * unregisters all its ranges, including ranges marked with
 * ksm_mark_mergeable(). No privilege is needed.
 *
 * Return: 0; -EOPNOTSUPP if the kernel has no such prctl (before 6.4, or
 * without KSM); -ENOMEM; -EINTR.
 * Since: 0.2
 */
int ksm_set_process_merge(int enable);

/**
 * ksm_get_process_merge() - whether process-wide merging is enabled for the
 * calling process (prctl PR_GET_MEMORY_MERGE).
 * Return: 1 or 0; -EOPNOTSUPP if the kernel has no such prctl.
 * Since: 0.2
 */
int ksm_get_process_merge(void);

/* ------------------------------------------------------------------------ */
/* Per-process statistics                                                    */
/* ------------------------------------------------------------------------ */

/* Bits of ksm_proc_stats.present. */
#define KSM_PROC_RMAP_ITEMS    (1u << 0)
#define KSM_PROC_ZERO_PAGES    (1u << 1)
#define KSM_PROC_MERGING_PAGES (1u << 2)
#define KSM_PROC_PROCESS_PROFIT (1u << 3)
#define KSM_PROC_MERGE_ANY     (1u << 4)
#define KSM_PROC_MERGEABLE     (1u << 5)

/*
 * The KSM figures of one process, from /proc/PID/ksm_stat (fields named as
 * there), and /proc/PID/ksm_merging_pages where ksm_stat lacks that field
 * (kernels 5.19 to 6.0 have no ksm_stat, 6.1 to 6.3 only ksm_rmap_items). A field is
 * valid if its KSM_PROC_* bit is set in .present. The struct needs no
 * initialisation; fields are only ever appended.
 */
struct ksm_proc_stats {
	uint64_t present;           /* KSM_PROC_* bits */
	int64_t ksm_rmap_items;
	int64_t ksm_zero_pages;
	int64_t ksm_merging_pages;
	int64_t ksm_process_profit; /* bytes, may be negative */
	int64_t ksm_merge_any;      /* 1 if process-wide merging is on */
	int64_t ksm_mergeable;      /* 1 if any range is registered */

	/* derived figures, always filled; saturated at INT64_MAX or INT64_MIN
	   rather than wrapped, as in struct ksm_stats */
	int64_t saved_bytes;        /* (ksm_merging_pages + ksm_zero_pages) * page size */
	int64_t profit_bytes;       /* ksm_process_profit where the kernel has it, else
	                               saved_bytes less ksm_rmap_items * the kernel's
	                               rmap_item size (as for ksm_stats.profit_bytes) */
	/* Fields added in later versions go here. */
};

/**
 * ksm_proc_stats_read() - the KSM figures of one process.
 * @pid: the process, 0 for the caller.
 * @st: filled; needs no initialisation.
 * @size: sizeof(*st) as the caller knows it, with the rules of
 *        ksm_stats_read().
 *
 * Unknown lines (from newer kernels) are ignored; both the "key value" and
 * the "key: value" forms of the file are accepted. A process without memory
 * (a kernel thread, a zombie) reads as all zero with .present 0.
 *
 * Return: 0; -ESRCH if there is no such process; -EACCES if it belongs to
 * another user (the files are mode 0400); -EOPNOTSUPP if the kernel has
 * neither file; -EBADMSG for text that cannot be parsed, a file longer than
 * 4095 bytes or a negative count (every field but ksm_zero_pages and
 * ksm_process_profit is unsigned in the kernel); -EINVAL for a
 * negative @pid or a @size that cannot hold .present.
 * Since: 0.2
 */
int ksm_proc_stats_read(struct ksm_ctx *ctx, int pid, struct ksm_proc_stats *st, size_t size);

/*
 * One process with KSM activity, as handed to a ksm_proc_foreach() callback.
 * The library owns it; .stats stays the last member so that it can grow.
 */
struct ksm_proc {
	int pid;
	char comm[16];              /* /proc/PID/comm, NUL-terminated */
	struct ksm_proc_stats stats;
};

/**
 * ksm_proc_comm() - the command name of a process (/proc/PID/comm).
 * @pid: the process, 0 for the caller.
 * @buf: receives the name, NUL-terminated, at most 15 characters.
 * Return: the length of the name; -ESRCH if there is no such process;
 * -ENOSPC if @size is too small; -EINVAL for a negative @pid.
 * Since: 0.2
 */
int ksm_proc_comm(struct ksm_ctx *ctx, int pid, char *buf, size_t size);

/**
 * ksm_proc_foreach() - call @fn for every process with KSM activity: memory
 * registered for merging (ksm_mergeable, ksm_merge_any), merged pages,
 * KSM zero pages or scanned pages (ksm_rmap_items).
 *
 * One pass over <sysroot>/proc: a read of ksm_stat per process, and of comm
 * only for the processes reported. Processes that exit meanwhile or that the
 * caller may not inspect are skipped.
 *
 * Return: the number of processes reported; a non-zero value returned by
 * @fn stops the walk, and a negative one is returned as the result; -errno if /proc cannot be read;
 * -EOPNOTSUPP if the kernel has no per-process KSM files.
 * Since: 0.2
 */
int ksm_proc_foreach(struct ksm_ctx *ctx, int (*fn)(const struct ksm_proc *proc, void *data),
		     void *data);

/* What a walk over the processes saw (ksm_proc_foreach_counted()). */
struct ksm_proc_counts {
	int64_t listed; /* processes looked at */
	int64_t denied; /* processes skipped: the caller may not read their figures */
	/* Fields added in later versions go here. */
};

/**
 * ksm_proc_foreach_counted() - ksm_proc_foreach(), and tell what the walk
 * could not see.
 * @counts: filled, also when the walk fails; needs no initialisation.
 * @size: sizeof(*counts) as the caller knows it, with the rules of
 *        ksm_stats_read().
 *
 * The kernel makes /proc/PID/ksm_stat readable by the process's owner and
 * root only, so a caller without privileges sees only its own processes;
 * .denied says how many others were skipped, so that a listing can say it
 * is incomplete.
 *
 * Return: as ksm_proc_foreach(); -EINVAL also for a @size that cannot hold
 * .listed.
 * Since: 0.2
 */
int ksm_proc_foreach_counted(struct ksm_ctx *ctx,
			     int (*fn)(const struct ksm_proc *proc, void *data), void *data,
			     struct ksm_proc_counts *counts, size_t size);

/* ------------------------------------------------------------------------ */
/* Other programs that control KSM                                           */
/* ------------------------------------------------------------------------ */

/*
 * A program other than libksm that changes the KSM knobs on its own, as
 * handed to a ksm_controller_foreach() callback. The library owns it; fields
 * may be appended.
 */
struct ksm_controller {
	const char *name;    /* its command name, e.g. "ksmtuned" */
	int pid;             /* a process of it, or 0 if only its unit is active */
	const char *unit;    /* its systemd unit, e.g. "ksmtuned.service" */
	const char *changes; /* what it does to the knobs, for people */
	const char *advice;  /* what to do about it, for people */
};

/**
 * ksm_controller_foreach() - call @fn for every other program that controls
 * KSM and is running: a process with its command name in <sysroot>/proc, or
 * its systemd unit active (<sysroot>/run/systemd/units/invocation:<unit>).
 *
 * The known programs: ksmtuned (also packaged as ksm-control-daemon), which
 * rewrites run, pages_to_scan and sleep_millisecs every 60 seconds and so
 * silently undoes ksm_set() and transactions. The list grows with the
 * library.
 *
 * Return: the number of programs reported; a non-zero value returned by @fn
 * stops the walk, and a negative one is returned as the result; -EINVAL for
 * a NULL @ctx or @fn. An unreadable /proc counts as no process.
 * Since: 0.2
 */
int ksm_controller_foreach(struct ksm_ctx *ctx,
			   int (*fn)(const struct ksm_controller *c, void *data), void *data);

/* Bits of ksm_proc_ident.present. */
#define KSM_IDENT_CMDLINE (1u << 0)
#define KSM_IDENT_CGROUP  (1u << 1)
#define KSM_IDENT_UNIT    (1u << 2)
#define KSM_IDENT_GUEST   (1u << 3)
#define KSM_IDENT_VMID    (1u << 4)

/*
 * Who a process is (ksm_proc_ident_read()). A field is valid if its
 * KSM_IDENT_* bit is set in .present; the struct needs no initialisation
 * and fields are only ever appended. Texts are NUL-terminated and cut at
 * the size of their array.
 */
struct ksm_proc_ident {
	uint64_t present;     /* KSM_IDENT_* bits */
	char cmdline[4096];   /* /proc/PID/cmdline, arguments joined by blanks; "" for a kernel thread */
	char cgroup[1024];    /* the unified hierarchy's path ("0::" line of /proc/PID/cgroup),
	                         else the name=systemd one */
	char unit[256];       /* systemd unit: the last component of .cgroup ending in .service
	                         or .scope */
	char guest[256];      /* QEMU's guest name: -name guest=NAME (or -name NAME) */
	int64_t vmid;         /* Proxmox VE VMID: the cgroup is /qemu.slice/<VMID>.scope */
	/* Fields added in later versions go here. */
};

/**
 * ksm_proc_ident_read() - who a process is: its command line, cgroup,
 * systemd unit, and for QEMU its guest name and Proxmox VMID.
 * @pid: the process, 0 for the caller.
 * @id: filled; needs no initialisation.
 * @size: sizeof(*id) as the caller knows it, with the rules of
 *        ksm_stats_read().
 *
 * Reads <sysroot>/proc/PID/cmdline and cgroup. Files the caller may not
 * read leave their fields unmarked; that is not an error.
 *
 * Return: 0; -ESRCH if there is no such process; -EINVAL for a negative
 * @pid or a @size that cannot hold .present; -ENOMEM.
 * Since: 0.2
 */
int ksm_proc_ident_read(struct ksm_ctx *ctx, int pid, struct ksm_proc_ident *id, size_t size);

/* ------------------------------------------------------------------------ */
/* Diagnosis                                                                 */

/* Verdict of one check of ksm_doctor(). */
enum ksm_severity {
	KSM_SEVERITY_OK = 0,   /* nothing to do (or a note on what a setting does) */
	KSM_SEVERITY_WARN = 1, /* merging works less well than it could */
	KSM_SEVERITY_FAIL = 2, /* nothing merges until this is fixed */
};

/* One finding of ksm_doctor(); the strings are valid during the callback. */
struct ksm_finding {
	const char *id;           /* the check, stable: "ksm-present", "ksmd-running", ... */
	enum ksm_severity severity;
	const char *summary;      /* one line for people */
	const char *evidence;     /* the figures the verdict rests on; may be "" */
	const char *fix;          /* what to do; "" when nothing */
};

/**
 * ksm_doctor() - answer "why is nothing (or too little) merging?": run
 * every check and call @fn with each finding, in a fixed order.
 *
 * The checks, by id: ksm-present (FAIL without KSM; nothing else is
 * checked then), ksmd-running, controller (ksmtuned, uksmd or MOM running),
 * boost-record (a boost in progress, or a record left behind by a dead
 * process), registered (how many processes and pages; FAIL when none),
 * thp (transparent huge pages over registered memory), scan-rate (time per
 * full scan for the memory tracked; over 600 s is WARN), volatile
 * (pages_volatile above 25% of the pages tracked), profit (negative is
 * WARN), max-page-sharing, use-zero-pages, merge-across-nodes (notes on
 * what those knobs do, where they matter), side-channel (registered
 * processes in more than one cgroup share one merge space: WARN). A check
 * whose subject is absent (no registered process, a knob this kernel
 * lacks) reports nothing.
 *
 * Return: the number of findings reported; a non-zero value returned by
 * @fn stops the checks, and a negative one is returned as the result;
 * -ENOMEM; -EBADMSG or another -errno from reading the knobs.
 * Since: 0.2
 */
int ksm_doctor(struct ksm_ctx *ctx, int (*fn)(const struct ksm_finding *finding, void *data),
	       void *data);

/* ------------------------------------------------------------------------ */
/* Merging of another running process, and the node-wide disable            */
/* ------------------------------------------------------------------------ */

/* Flag of ksm_process_set_merge() and ksm_policy_disable(). */
#define KSM_FORCE (1u << 0) /* skip the safety refusals that say "force" */

/* Bits of the result of ksm_process_merge_state(). */
#define KSM_PROCESS_MERGE_ANY (1 << 0) /* process-wide merging (PR_SET_MEMORY_MERGE) */
#define KSM_PROCESS_MADVISED  (1 << 1) /* ranges it registered itself (MADV_MERGEABLE) */

/**
 * ksm_process_set_merge() - switch merging of a running process on or off,
 * without restarting it.
 * @pid: the process.
 * @enable: non-zero: process-wide merging (PR_SET_MEMORY_MERGE 1) in that
 *          process. Zero: opt it out and unmerge its pages now: process-wide
 *          merging off where it is on (which also unregisters every range),
 *          else MADV_UNMERGEABLE on each range it registered itself (the "mg"
 *          ranges of its smaps, as QEMU registers guest memory).
 * @flags: 0 or KSM_FORCE: act on a process with a seccomp filter or with
 *         SIGTRAP ignored or blocked in every thread, and unmerge even when
 *         MemAvailable is below what unmerging needs.
 *
 * Mainline Linux has no call for this. The backends, probed in this order:
 * the process_ksm_enable/disable syscalls of pf-kernel and CachyOS, their
 * numbers read from <sysroot>/sys/kernel/process_ksm/ (they need
 * CAP_SYS_NICE); on x86-64, ptrace syscall injection: the target's thread is
 * stopped for about 0.1 ms (a disable that unmerges for as long as the
 * unmerge takes) and executes the call itself, through a syscall instruction
 * of its vDSO; its registers are restored exactly and nothing is written to
 * its memory. This needs ptrace access (the same user without Yama
 * restrictions, or CAP_SYS_PTRACE). A stopped (SIGSTOP) process stays
 * stopped. See SECURITY in libksm(3) for the risks that remain.
 *
 * Return: 0; -ESRCH if there is no such process (also when it died during
 * the call, e.g. killed by SIGSYS by a seccomp filter that KSM_FORCE
 * overrode); -EPERM if it cannot be traced: another process traces it
 * already, or there is no ptrace access to it (it is left untouched, as
 * PTRACE_SEIZE leaves it); -EACCES without CAP_SYS_NICE for process_ksm, or
 * when its seccomp filter refuses the call; -EBUSY if it runs in strict
 * seccomp mode, or, without KSM_FORCE, has a seccomp filter, ignores SIGTRAP
 * or blocks it in every thread (the single-step would change that for good); -ENOMEM if unmerging needs more
 * than MemAvailable (or the kernel ran out); -EOPNOTSUPP where neither
 * backend exists (other architectures, kernels before 6.4): the message says
 * what to use instead; -ETIMEDOUT if the process did not stop within 5 s
 * (uninterruptible sleep); -EINVAL for bad arguments.
 * Since: 0.2
 */
int ksm_process_set_merge(struct ksm_ctx *ctx, int pid, int enable, unsigned int flags);

/**
 * ksm_process_merge_state() - how a process takes part in merging.
 * @pid: the process.
 *
 * Read from /proc/PID/ksm_stat and smaps where the kernel has the
 * ksm_merge_any line, else asked through the backends of
 * ksm_process_set_merge() (with its refusals).
 *
 * Return: KSM_PROCESS_MERGE_ANY, KSM_PROCESS_MADVISED or 0; the errors of
 * ksm_process_set_merge() and ksm_proc_stats_read().
 * Since: 0.2
 */
int ksm_process_merge_state(struct ksm_ctx *ctx, int pid);

/**
 * ksm_cgroup_pids() - the processes of a cgroup and of its descendants, from
 * the cgroup.procs files of <sysroot>/sys/fs/cgroup (cgroup v2).
 * @cgroup: the cgroup's path, relative to /sys/fs/cgroup or starting with it
 *          (e.g. "qemu.slice/100.scope"); ".." is refused.
 * @pids: receives up to @max pids (may be NULL if @max is 0).
 * Return: the number of processes, which may exceed @max; -ENOENT if there
 * is no such cgroup; -EINVAL for bad arguments.
 * Since: 0.2
 */
int ksm_cgroup_pids(struct ksm_ctx *ctx, const char *cgroup, int *pids, size_t max);

/**
 * ksm_unit_cgroup() - the cgroup of a running systemd unit: the directory
 * named after it below <sysroot>/sys/fs/cgroup (a name without a type is a
 * ".service").
 * @buf: receives the path relative to /sys/fs/cgroup, NUL-terminated.
 * Return: its length; -ENOENT if no cgroup has that name (the unit does not
 * run); -ENOSPC if @size is too small; -EINVAL for bad arguments.
 * Since: 0.2
 */
int ksm_unit_cgroup(struct ksm_ctx *ctx, const char *unit, char *buf, size_t size);

/**
 * ksm_policy_disable() - disable KSM on this node, and keep it disabled:
 * record "run = 2" in the default profile (ksm_profile_path(), applied by
 * ksm.service at boot), then stop ksmd and unmerge every page (run=2).
 * @flags: 0, or KSM_FORCE to unmerge even when ksm_unmerge_estimate() says
 *         memory cannot hold the pages that unmerging copies back.
 *
 * From then on ksm_start(), boosts, ksm_merge_now() and ksm_merge_range()
 * refuse with -ECANCELED, until ksm_policy_enable().
 *
 * Return: 0; -ENOMEM (nothing changed) if memory cannot hold the unmerged
 * pages, and the other errors of ksm_unmerge_estimate() (nothing changed);
 * -ENOENT without KSM; the errors of writing the profile and of
 * ksm_unmerge_all() (the record stays: KSM is disabled by policy).
 * Since: 0.2
 */
int ksm_policy_disable(struct ksm_ctx *ctx, unsigned int flags);

/**
 * ksm_policy_enable() - undo ksm_policy_disable(): remove the record from
 * the default profile and start ksmd (run=1).
 * Return: 0; -ENOENT without KSM; the errors of writing the profile and of
 * ksm_start().
 * Since: 0.2
 */
int ksm_policy_enable(struct ksm_ctx *ctx);

/**
 * ksm_policy_get() - is KSM disabled by policy (ksm_policy_disable())?
 * @since: if not NULL, receives when it was disabled, in seconds since the
 *         epoch (the profile's modification time if the record lacks it).
 * Return: 1 or 0; -errno if the profile cannot be read.
 * Since: 0.2
 */
int ksm_policy_get(struct ksm_ctx *ctx, int64_t *since);

/* ------------------------------------------------------------------------ */
/* Waiting for ksmd                                                          */
/* ------------------------------------------------------------------------ */

/**
 * ksm_wait_scans() - wait until ksmd has completed @scans more full scans.
 * @scans: full scans to wait for; 0 returns at once.
 * @timeout_ms: give up after this many milliseconds; negative waits without
 *              a time limit.
 *
 * full_scans has no change notification, so it is polled: the call sleeps
 * 1 ms, then 2 ms between reads (a scan is noticed at most 2 ms late), and
 * looks for registered memory about once a second. That costs about 500
 * wake-ups and 2% of one CPU while waiting (0.2 s of CPU time over a 10 s
 * wait, measured with getrusage()). A reset of
 * full_scans by run=2 during the wait counts as a restart from 0, not as
 * progress lost.
 *
 * full_scans only advances while run is 1 and some process has memory
 * registered for merging. So the call returns at once with -EHOSTDOWN when
 * run is not 1, and fails with -EHOSTDOWN as soon as run leaves 1 during the
 * wait. While no scan completes it also checks, at once and then about once
 * a second, whether any process has registered memory at all, and returns
 * -ENODATA if none has (nothing would ever be scanned), with or without a
 * timeout.
 *
 * Return: 0 once the scans completed; -ETIMEDOUT; -EHOSTDOWN (ksmd not
 * running); -ENODATA (nothing registered); -EINTR if a signal handler ran
 * during the wait; -ENOENT without KSM; another -errno from reading the
 * counters.
 * Since: 0.2
 */
int ksm_wait_scans(struct ksm_ctx *ctx, unsigned int scans, int timeout_ms);

/* ------------------------------------------------------------------------ */
/* Transactions: several knobs, all or nothing, in an order that works       */
/* ------------------------------------------------------------------------ */

struct ksm_txn;

/* Flags of ksm_txn_commit() and ksm_txn_plan(). */
#define KSM_TXN_ALLOW_UNMERGE (1u << 0) /* may write run=2 first when a knob needs no merged pages */

/* One write of a plan (ksm_txn_plan()). */
struct ksm_txn_step {
	int knob;      /* enum ksm_knob */
	int64_t value;
};

/**
 * ksm_txn_new() - start an empty set of knob changes on @ctx.
 * @txn: receives the transaction; it holds a reference on @ctx.
 * Return: 0; -ENOMEM; -EINVAL.
 * Since: 0.2
 */
int ksm_txn_new(struct ksm_ctx *ctx, struct ksm_txn **txn);

/**
 * ksm_txn_ref() - take a reference on a transaction.
 * Return: @txn (NULL stays NULL).
 * Since: 0.2
 */
struct ksm_txn *ksm_txn_ref(struct ksm_txn *txn);

/**
 * ksm_txn_unref() - drop a reference; the last one frees the transaction
 * (committed or not) and its reference on the context.
 * Return: NULL if the transaction was freed (or @txn was NULL), else @txn.
 * Since: 0.2
 */
struct ksm_txn *ksm_txn_unref(struct ksm_txn *txn);

/**
 * ksm_txn_set() - add "knob = value" to the transaction; a later value for
 * the same knob replaces the earlier one. Nothing is written yet.
 * Return: 0; -EINVAL if the value is outside the knob's range; -EPERM for a
 * counter; -ENOENT for an unknown knob.
 * Since: 0.2
 */
int ksm_txn_set(struct ksm_txn *txn, enum ksm_knob knob, int64_t value);

/**
 * ksm_txn_set_text() - ksm_knob_parse() followed by ksm_txn_set().
 * Return: as those two.
 * Since: 0.2
 */
int ksm_txn_set_text(struct ksm_txn *txn, enum ksm_knob knob, const char *text);

/**
 * ksm_txn_get() - does the transaction set @knob, and to what?
 * @value: if not NULL and the knob is set, receives its value.
 *
 * For callers that complete a transaction, such as a profile, with defaults
 * of their own ("start merging unless the profile sets run"), or that
 * refuse a knob given twice.
 *
 * Return: 1 if the transaction sets @knob; 0 if it does not; -EINVAL for a
 * NULL @txn or an unknown @knob.
 * Since: 0.2
 */
int ksm_txn_get(const struct ksm_txn *txn, enum ksm_knob knob, int64_t *value);

/**
 * ksm_txn_plan() - the writes ksm_txn_commit() would make now, in order.
 * @flags: KSM_TXN_* as for the commit.
 * @steps: receives up to @max steps (may be NULL when @max is 0).
 * @failed_knob: if not NULL, receives the knob a refusal is about, or -1.
 *
 * The plan starts from the current kernel values and changes only what
 * differs. Its order follows from each knob's entry in the knob table
 * (ksm_knob_info(): kind and requires), so that every write is acceptable
 * to the kernel:
 *  1. run=2 first, if a knob that requires KSM_REQUIRES_NO_MERGED_PAGES
 *     (merge_across_nodes, max_page_sharing) changes while pages are
 *     merged and KSM_TXN_ALLOW_UNMERGE is given;
 *  2. the tunables without prerequisites, in table order (among them the
 *     advisor's parameters);
 *  3. advisor_mode, the knob that KSM_REQUIRES_ADVISOR_NONE refers to;
 *     switching the advisor off makes the kernel reset pages_to_scan, so
 *     the knobs that require the advisor off follow and get their intended
 *     values back;
 *  4. the knobs that require KSM_REQUIRES_ADVISOR_NONE (pages_to_scan);
 *  5. the knobs that require KSM_REQUIRES_NO_MERGED_PAGES;
 *  6. run last (back to its old value after an unmerge, unless set).
 * Knobs the transaction does not name end with the values they had.
 *
 * Return: the number of steps (which may exceed @max);
 *  -ENOENT  a knob does not exist on this kernel;
 *  -EBUSY   merge_across_nodes or max_page_sharing would change while
 *           pages are merged and KSM_TXN_ALLOW_UNMERGE is not given; or
 *           pages_to_scan is set for a state in which the advisor
 *           (advisor_mode scan-time) controls it;
 *  another -errno from reading the current values.
 * Since: 0.2
 */
int ksm_txn_plan(struct ksm_txn *txn, unsigned int flags, struct ksm_txn_step *steps, size_t max,
		 int *failed_knob);

/**
 * ksm_txn_commit() - apply the transaction: all of it or none of it.
 * @flags: KSM_TXN_ALLOW_UNMERGE to let it unmerge all pages (run=2) when a
 *         knob can only change without merged pages.
 * @failed_knob: if not NULL, receives the knob that failed, or -1.
 *
 * Validates everything and plans the writes as ksm_txn_plan() describes,
 * then writes. If a write fails, every knob already changed is written back,
 * in an order that works, so the kernel ends as it started (an unmerge that
 * already happened cannot be undone: merged pages merge again only when
 * ksmd runs). The rollback is logged (LOG_WARNING, see ksm_set_log_fn()).
 *
 * Return: 0; the errors of ksm_txn_plan(); the error of the write that
 * failed, as ksm_set() reports it, when everything was written back;
 * -ENOTRECOVERABLE when a write failed and the rollback could not write
 * every knob back either (*@failed_knob is the write that failed first;
 * ksm_strerror() and the log, at LOG_ERR, name the knobs left changed).
 * Since: 0.2
 */
int ksm_txn_commit(struct ksm_txn *txn, unsigned int flags, int *failed_knob);

/* ------------------------------------------------------------------------ */
/* Profiles: "knob = value" files                                            */
/* ------------------------------------------------------------------------ */

/**
 * ksm_profile_path() - the default profile of this context:
 * <sysroot><sysconfdir>/ksm.conf, where sysconfdir is the one libksm was
 * built for (usually /etc).
 * Return: a string owned by the context, never NULL.
 * Since: 0.2
 */
const char *ksm_profile_path(const struct ksm_ctx *ctx);

/**
 * ksm_profile_load() - add the settings of a profile file to a transaction.
 * @path: the file, or NULL for the default profile (ksm_profile_path(),
 *        below the context's system root). A path given is used as it is:
 *        relative paths are relative to the working directory.
 * @line: if not NULL, receives the line an error is about (0: the file).
 *
 * Format (ksm.conf(5)): one "knob = value" per line, blanks around tokens
 * ignored, "#" starts a comment, empty lines ignored. Values as
 * ksm_knob_parse() takes them. A UTF-8 byte order mark before the first
 * line is ignored. A line "[tune]" starts the settings of the tuner
 * (ksm_tune_load()), which run to the end of the file and are skipped here.
 *
 * Return: the number of settings read;
 *  -EBADMSG  line @line is not "knob = value", names a knob a second time,
 *            holds a NUL byte or is longer than 4096 bytes, or is a section
 *            header other than "[tune]";
 *  -ENOKEY   line @line names no knob;
 *  -EPERM    line @line names a counter;
 *  -EINVAL   line @line has a value outside the knob's range;
 *  -ENOENT, -EACCES, ... the file cannot be read (@line 0).
 * Since: 0.2
 */
int ksm_profile_load(struct ksm_txn *txn, const char *path, unsigned int *line);

/**
 * ksm_profile_write() - write the current tunables as a profile to @fd.
 *
 * Every tunable present except run (a state, not a setting) and, while the
 * advisor controls it, pages_to_scan. Applying the output with
 * ksm_profile_load() and ksm_txn_commit() restores exactly these values.
 *
 * Return: 0; -errno from reading the knobs or writing @fd.
 * Since: 0.2
 */
int ksm_profile_write(struct ksm_ctx *ctx, int fd);

/**
 * ksm_profile_save() - ksm_profile_write() into @path, atomically: a
 * temporary file in the same directory, fsync(), rename().
 * @path: the file, or NULL for the default profile (ksm_profile_path()),
 *        which is written below the context's system root and nowhere else.
 * Return: 0; -errno.
 * Since: 0.2
 */
int ksm_profile_save(struct ksm_ctx *ctx, const char *path);

/* ------------------------------------------------------------------------ */
/* Boost: merge now, then go back to gentle                                  */
/* ------------------------------------------------------------------------ */

struct ksm_boost;

/**
 * ksm_boost_begin() - switch ksmd to its fastest settings until
 * ksm_boost_end(): run=1, sleep_millisecs=0, a large pages_to_scan,
 * advisor_mode none and smart_scan off.
 *
 * Boosts of several processes share one boost: the first saves the values
 * it changes in a record under <sysroot>/run/libksm (written durably before
 * any knob changes, guarded by a lock file), later ones only register, and
 * the last one to end restores the values from before the first, each
 * only where the knob still holds what the boost wrote: a change made
 * during the boost (ksmctl stop, set) stays, and is logged at LOG_NOTICE.
 * A boost whose process died (even by SIGKILL) is noticed by the next
 * ksm_boost_begin(), ksm_boost_end() or ksm_boost_recover(), which restore
 * the saved values once no live process holds a boost. Each holder keeps a
 * file of the state directory locked (flock()) while its boost lasts, so
 * liveness is seen across pid namespaces (a container sharing the record
 * through its system root); a child forked while a boost is held keeps it
 * alive until it exits or execs.
 *
 * The state directory <sysroot>/run/libksm must belong to the caller or
 * root and be writable by nobody else, no component of its path may be a
 * symbolic link, its files must be regular files, and the record must hold
 * only the boost's knobs with values the knob table accepts (run 0 or 1);
 * otherwise nothing is read or changed. The wait for its lock is bounded
 * (10 s).
 *
 * KSM disabled by the administrator (run=2, which unmerged every page) is
 * left alone: the boost is refused with -ECANCELED and nothing changes.
 * From run=0 or run=1, every knob is restored exactly.
 *
 * A boost is an action, not a value: it has no _ref/_unref, and
 * ksm_boost_end() is its one release call.
 *
 * Return: 0; -ECANCELED when run is 2; -EACCES/-EROFS when the knobs or
 * /run cannot be written; -EUCLEAN when the state directory is not safe
 * (see above); -EBADMSG for a record this library did not write;
 * -ETIMEDOUT when its lock stays held for 10 s; -EINTR (ksm_set_interrupt());
 * -ENOENT without KSM; -EAGAIN when 1024 boosts are held at once; errors
 * of ksm_txn_commit().
 * Since: 0.2
 */
int ksm_boost_begin(struct ksm_ctx *ctx, struct ksm_boost **boost);

/**
 * ksm_boost_end() - end a boost and free it, whatever the result; the last
 * boost to end restores the knobs. Safe to call with NULL.
 * Return: 0; -errno if the knobs could not be restored (the record stays,
 * so that ksm_boost_recover() can try again).
 * Since: 0.2
 */
int ksm_boost_end(struct ksm_boost *boost);

/**
 * ksm_boost_recover() - restore the knobs saved by boosts whose processes
 * died. Does nothing while a live process holds a boost.
 * Return: 1 if knobs were restored (logged at LOG_NOTICE), 0 if there was
 * nothing to do; -EUCLEAN, -EBADMSG, -ETIMEDOUT as ksm_boost_begin(), in
 * which case nothing was changed; -errno.
 * Since: 0.2
 */
int ksm_boost_recover(struct ksm_ctx *ctx);

/**
 * ksm_boost_status() - is a boost record present, and how many live
 * processes hold it?
 * @holders: if not NULL, receives the number of live holders (0 without a
 *           record).
 *
 * A record without a live holder was left behind by a process that died:
 * the knobs keep the boost's values until ksm_boost_recover() (or the next
 * boost) restores them. Nothing is written or locked.
 *
 * Return: 1 if a record exists, 0 if not; -EBADMSG if the record cannot be
 * parsed; -EACCES or another -errno from reading it.
 * Since: 0.2
 */
int ksm_boost_status(struct ksm_ctx *ctx, int *holders);

/*
 * Merging now. One vocabulary across the library, ksmctl and the manuals:
 * "merge now" boosts ksmd and waits for it; ksm_merge_now() does so for
 * everything that is registered (ksmctl merge-now), ksm_merge_range() for
 * a range of the calling process.
 */

/**
 * ksm_merge_now() - boost, wait for @scans full scans of everything that is
 * registered, end the boost.
 * @scans: full scans to wait for (2 merge memory registered before the
 *         call: fresh pages merge on their second scan).
 * @timeout_ms: as ksm_wait_scans().
 * Return: 0; the errors of ksm_boost_begin() (-ECANCELED when run is 2:
 * nothing changes) and ksm_wait_scans() (for example -ENODATA at once when
 * nothing is registered); -EINTR when a signal handler ran or the flag of
 * ksm_set_interrupt() was raised (the boost still ends).
 * Since: 0.2
 */
int ksm_merge_now(struct ksm_ctx *ctx, unsigned int scans, int timeout_ms);

/**
 * ksm_merge_range() - merge a range of the calling process now: register it
 * (ksm_mark_mergeable()), boost, wait until it is merged, end the boost.
 * @merged: if not NULL, receives the bytes of KSM pages in the mappings
 *          that overlap the range, as /proc/self/smaps counts them ("KSM:"
 *          field; 0 where smaps lacks it).
 *
 * "Merged" means: every page of the range is a KSM page, or no more pages
 * of the range merged during a full scan after the range was scanned twice
 * (fresh pages merge on their second scan). Without the smaps KSM field it
 * waits for three full scans. A range that stays registered keeps merging
 * at the normal pace afterwards.
 *
 * Return: 0; -ETIMEDOUT (the boost still ends and the knobs are restored);
 * -ECANCELED when run is 2, before the range is registered;
 * -EINTR if a signal handler interrupted the wait (or ksm_set_interrupt()); -EHOSTDOWN if run left 1
 * during the wait; the errors of ksm_mark_mergeable() and ksm_boost_begin().
 * Since: 0.2
 */
int ksm_merge_range(struct ksm_ctx *ctx, void *addr, size_t len, int timeout_ms, uint64_t *merged);

/* ------------------------------------------------------------------------ */
/* Estimates: what KSM would save, before enabling it                        */
/* ------------------------------------------------------------------------ */

/*
 * An estimate reads the memory of other processes, read-only, and predicts
 * the counters KSM would reach if their private anonymous memory were
 * registered for merging (as PR_SET_MEMORY_MERGE or systemd's MemoryKSM=yes
 * register it), with the live values of max_page_sharing, use_zero_pages
 * and merge_across_nodes. Page contents are read through /proc/PID/mem,
 * which leaves copy-on-write and KSM sharing intact (process_vm_readv()
 * would unshare every such page it reads); frames come from
 * /proc/PID/pagemap. Reading needs the right to ptrace the targets
 * (PTRACE_MODE_ATTACH: root, or CAP_SYS_PTRACE, or the targets' owner where
 * Yama allows it); frame numbers need CAP_SYS_ADMIN. Without them the
 * estimate cannot tell frames shared after fork() (or already merged) from
 * copies, nor the shared zero page from zero-filled pages, so it is an upper
 * bound: KSM_ESTIMATE_FRAMES is clear in .present and freed_bytes is not
 * valid.
 *
 * Memory: 24 bytes per candidate page read plus 32 bytes per distinct
 * content (at most 50 % load of a power-of-two index), at most about 14 MiB
 * per GiB of memory read in a full estimate; sampling at rate q keeps only
 * the sampled contents (about q times that, plus the zero and same-filled
 * pages, which are always counted exactly).
 */
struct ksm_estimate;

/* Bits of ksm_estimate_result.present. */
#define KSM_ESTIMATE_FRAMES   (1u << 0) /* frames were known: freed_bytes valid,
					   fork-shared frames told apart */
#define KSM_ESTIMATE_SAMPLED  (1u << 1) /* content-keyed sampling: the *_ci fields hold
					   the half-width of a 95 % confidence interval */
#define KSM_ESTIMATE_VERIFIED (1u << 2) /* a verify pass ran: volatile_pages valid */
#define KSM_ESTIMATE_AUTO_SAMPLED (1u << 3) /* sampled because a full estimate would have
					       exceeded the memory limit */
#define KSM_ESTIMATE_KSMD_COST (1u << 4) /* the ksmd_* fields hold the cost model's
					    prediction at the live pages_to_scan and
					    sleep_millisecs */

/*
 * The memory limit of an estimate's tables unless ksm_estimate_set_memory_limit()
 * says otherwise: 512 MiB, a full estimate of about 9 GiB of candidate memory
 * at KSM_ESTIMATE_BYTES_PER_PAGE.
 */
#define KSM_ESTIMATE_MEMORY_LIMIT (UINT64_C(512) << 20)
/* What the tables of a full estimate take per candidate page, at most: a
 * 24-byte record, a 32-byte content entry and its index slots. */
#define KSM_ESTIMATE_BYTES_PER_PAGE 56

/*
 * The ksmd cost model of ksm_estimate_result (ksmctl(8), COST MODEL): ksmd
 * spends a fixed CPU time per registered page per full scan (a constant
 * fitted on this library's benchmark), scans pages_to_scan pages per batch,
 * sleeps sleep_millisecs between batches, and merges what it can in two
 * full scans (a page is compared on its first scan and merged on its
 * second).
 */

/* Flags of ksm_estimate_run(). */
#define KSM_ESTIMATE_IDLE (1u << 0) /* run the calling thread at SCHED_IDLE meanwhile */

/*
 * The prediction for all targets together (target -1) or for one target
 * (as if it alone were registered). Pages are of ksm_get_page_size() bytes.
 * Field names follow the kernel's counters. The struct needs no
 * initialisation; fields are only ever appended.
 */
struct ksm_estimate_result {
	uint64_t present;           /* KSM_ESTIMATE_* bits */
	int64_t pages_sharing;      /* as /sys/kernel/mm/ksm/pages_sharing */
	int64_t pages_shared;
	int64_t ksm_zero_pages;
	int64_t rmap_items;         /* pages ksmd would track (64 bytes each) */
	int64_t general_profit;     /* bytes, as the kernel computes it */
	int64_t freed_bytes;        /* memory actually freed: less than the counters say
				       for frames shared after fork() */
	int64_t ksm_merging_pages;  /* of a target: its pages that would be merged when
				       all targets are registered; of the whole: all */
	int64_t pages_sharing_ci;   /* half-widths of the 95 % confidence interval (sampled) */
	int64_t general_profit_ci;
	int64_t freed_bytes_ci;
	int64_t candidate_pages;    /* present private anonymous pages read */
	int64_t thp_pages;          /* of those, in transparent huge pages: merging any
				       page of a huge page splits it */
	int64_t volatile_pages;     /* looked duplicate but changed before the verify pass */
	int64_t processes;          /* processes read */
	int64_t skipped_processes;  /* exited, or not readable with the caller's rights */
	int64_t max_page_sharing;   /* the model: the knobs' values used */
	int64_t use_zero_pages;
	int64_t merge_across_nodes;
	double sample_rate;         /* 1 for a full estimate */
	int64_t unreadable_pages;   /* present in pagemap but not readable through
				       /proc/PID/mem (freed or unmapped meanwhile): not
				       counted above */
	int64_t pages_to_scan;      /* the cost model (KSM_ESTIMATE_KSMD_COST): the knobs */
	int64_t sleep_millisecs;
	int64_t ksmd_cpu_to_merge_ns;  /* ksmd CPU for two full scans of rmap_items pages */
	int64_t ksmd_wall_to_merge_ms; /* the wall time those scans take */
	int64_t ksmd_cpu_per_hour_ns;  /* ksmd CPU per hour of scanning at these knobs */
	/* Fields added in later versions go here. */
};

/**
 * ksm_estimate_new() - a new, empty estimate on @ctx.
 * Return: 0 and *@est with one reference; -ENOMEM; -EINVAL.
 * Since: 0.2
 */
int ksm_estimate_new(struct ksm_ctx *ctx, struct ksm_estimate **est);

/**
 * ksm_estimate_ref() - take a reference on @est.
 * Return: @est (NULL for NULL).
 * Since: 0.2
 */
struct ksm_estimate *ksm_estimate_ref(struct ksm_estimate *est);

/**
 * ksm_estimate_unref() - drop a reference; frees @est with the last one.
 * Return: NULL if @est was freed (or NULL), else @est.
 * Since: 0.2
 */
struct ksm_estimate *ksm_estimate_unref(struct ksm_estimate *est);

/**
 * ksm_estimate_add_pid() - add process @pid as a target.
 *
 * A process belongs to the first target that names it. The estimating
 * process itself is never read.
 *
 * Return: the index of the new target (0 for the first); -EINVAL for a pid
 * below 1, after ksm_estimate_run(), or beyond 64 targets; -ENOMEM.
 * Since: 0.2
 */
int ksm_estimate_add_pid(struct ksm_estimate *est, int pid);

/**
 * ksm_estimate_add_cgroup() - add the processes of a cgroup (v2) and of its
 * descendants as one target.
 * @path: the cgroup as /proc/PID/cgroup names it ("/system.slice/x.service"),
 *        relative to <sysroot>/sys/fs/cgroup; a path starting with
 *        /sys/fs/cgroup/ is accepted too.
 * Return: the target's index; -ENOENT if there is no such cgroup; -EINVAL
 * as for ksm_estimate_add_pid(); -ENOMEM.
 * Since: 0.2
 */
int ksm_estimate_add_cgroup(struct ksm_estimate *est, const char *path);

/**
 * ksm_estimate_add_unit() - add the processes of a systemd unit as one
 * target: the first cgroup named @name found below <sysroot>/sys/fs/cgroup,
 * breadth first (system.slice before user slices).
 * Return: as ksm_estimate_add_cgroup(); -ENOENT if no cgroup has that name.
 * Since: 0.2
 */
int ksm_estimate_add_unit(struct ksm_estimate *est, const char *name);

/**
 * ksm_estimate_add_all() - add every process of the system root's /proc as
 * one target (kernel threads have no memory and are left out; processes the
 * caller may not read are counted in skipped_processes).
 * Return: the target's index; -EINVAL as for ksm_estimate_add_pid().
 * Since: 0.2
 */
int ksm_estimate_add_all(struct ksm_estimate *est);

/**
 * ksm_estimate_set_sample() - content-keyed sampling at @rate.
 * @rate: in (0, 1]; 1 reads and counts everything (the default).
 * @seed: selects the sample; the same seed gives the same sample.
 *
 * A page is counted if a seeded hash of its content falls below @rate, so
 * every copy of a content is in the sample or out of it together and the
 * scaled-up figures are unbiased; zero and same-filled pages are always
 * counted exactly. Every page is still read: sampling bounds memory, not
 * time. The result holds the half-width of a 95 % confidence interval.
 *
 * Return: 0; -EINVAL for a rate outside (0, 1] or after ksm_estimate_run().
 * Since: 0.2
 */
int ksm_estimate_set_sample(struct ksm_estimate *est, double rate, uint64_t seed);

/**
 * ksm_estimate_set_verify() - re-read, @delay_ms after the scan, every page
 * that would be merged, and leave out those whose content changed, as ksmd
 * merges only pages whose checksum stayed the same between two scans. 0 (the
 * default) does not verify. A delay near ksmd's full-scan period matches
 * ksmd best.
 * Return: 0; -EINVAL after ksm_estimate_run().
 * Since: 0.2
 */
int ksm_estimate_set_verify(struct ksm_estimate *est, unsigned int delay_ms);

/**
 * ksm_estimate_set_progress() - call @fn during ksm_estimate_run() with the
 * pages read so far and the pages to read (which may still grow), about
 * every 4096 pages and every 100 ms of the verify delay. A non-zero return
 * stops the estimate, which then returns -EINTR.
 * Return: 0; -EINVAL for a NULL @est.
 * Since: 0.2
 */
int ksm_estimate_set_progress(struct ksm_estimate *est,
			      int (*fn)(void *data, uint64_t done, uint64_t total), void *data);

/**
 * ksm_estimate_set_memory_limit() - bound the memory of the estimate's tables.
 * @bytes: the limit; 0 for none. KSM_ESTIMATE_MEMORY_LIMIT unless set.
 *
 * Before reading, ksm_estimate_run() sums the targets' anonymous memory
 * (RssAnon of /proc/PID/status) and, if a full estimate would need more than
 * @bytes at KSM_ESTIMATE_BYTES_PER_PAGE, samples by content at the rate that
 * fits (or at the rate of ksm_estimate_set_sample() if that is lower): the
 * result then has KSM_ESTIMATE_SAMPLED and KSM_ESTIMATE_AUTO_SAMPLED and its
 * sample_rate.
 *
 * Return: 0; -EINVAL after ksm_estimate_run().
 * Since: 0.2
 */
int ksm_estimate_set_memory_limit(struct ksm_estimate *est, uint64_t bytes);

/**
 * ksm_estimate_run() - read the targets and compute the prediction.
 * @flags: 0 or KSM_ESTIMATE_IDLE.
 *
 * Read-only on the targets and on KSM. Targets that exit meanwhile are
 * counted in skipped_processes. While ksmd runs the estimate stays valid, but
 * its references make some pages fail to merge for a moment; it is refused
 * while a boost (ksm_merge_now()) runs.
 *
 * Return: 0; -EINVAL without targets or when run twice; -ESRCH if a process
 * added by pid does not exist; -EACCES if the caller may not read a process
 * added by pid; -EBUSY while a boost runs; -EINTR if the progress function
 * stopped it; -ENOMEM; -ENOENT without KSM.
 * Since: 0.2
 */
int ksm_estimate_run(struct ksm_estimate *est, unsigned int flags);

/**
 * ksm_estimate_result() - the prediction of a completed estimate.
 * @target: -1 for all targets together, else a target's index.
 * @res: filled; needs no initialisation.
 * @size: sizeof(*res), with the rules of ksm_stats_read().
 * Return: 0; -EINVAL for an unknown @target, an estimate not run, or a
 * @size that cannot hold .present.
 * Since: 0.2
 */
int ksm_estimate_result(const struct ksm_estimate *est, int target,
			struct ksm_estimate_result *res, size_t size);

/**
 * ksm_estimate_overlap() - the cross-target matrix: how many pages of target
 * @a would be merged with a page of target @b (@a == @b: with another page
 * of @a itself), all targets registered, into *@pages. Scaled up when
 * sampled.
 * Return: 0; -EINVAL for unknown targets, a NULL @pages or an estimate not
 * run.
 * Since: 0.2
 */
int ksm_estimate_overlap(const struct ksm_estimate *est, int a, int b, int64_t *pages);

/**
 * ksm_estimate_target_count() - how many targets were added.
 * Return: the count; -EINVAL for a NULL @est.
 * Since: 0.2
 */
int ksm_estimate_target_count(const struct ksm_estimate *est);

/**
 * ksm_estimate_target_name() - a target as it was added: the pid in
 * decimal, the cgroup path, the unit name, or "all".
 * Return: the name, owned by @est; NULL for an unknown @target.
 * Since: 0.2
 */
const char *ksm_estimate_target_name(const struct ksm_estimate *est, int target);

/*
 * Guided merging: register only the ranges that hold pages an estimate
 * found would merge, so that ksmd scans those and not the rest.
 */

/* A range of a process's address space, whole pages. */
struct ksm_range {
	uint64_t start;  /* address */
	uint64_t length; /* bytes */
};

/* Pages that would merge are joined into one range when at most this many
 * pages lie between them (ksmctl(8), GUIDED MERGING). */
#define KSM_GUIDED_GAP_PAGES 32
/* At most this many ranges per process: the gap is doubled until they fit. */
#define KSM_GUIDED_MAX_RANGES 1024

/**
 * ksm_estimate_pids() - the processes a completed estimate read.
 * @pids: receives up to @max pids (may be NULL if @max is 0).
 * Return: the number of processes, which may exceed @max; -EINVAL for an
 * estimate not run.
 * Since: 0.2
 */
int ksm_estimate_pids(const struct ksm_estimate *est, int *pids, size_t max);

/**
 * ksm_estimate_ranges() - the ranges of process @pid that hold the pages a
 * full estimate found would merge (the contents that changed before a
 * verify pass left out), in address order.
 * @gap_pages: join two such pages into one range when at most this many
 *             other pages lie between them (KSM_GUIDED_GAP_PAGES is the
 *             default of ksmctl); doubled, with a notice in the log, until
 *             the process has at most KSM_GUIDED_MAX_RANGES ranges.
 * @ranges: receives up to @max ranges (may be NULL if @max is 0).
 *
 * Return: the number of ranges, which may exceed @max (0 if nothing of the
 * process would merge); -ESRCH if the estimate read no process @pid;
 * -EINVAL for an estimate not run or sampled (sampling leaves contents out).
 * Since: 0.2
 */
int ksm_estimate_ranges(const struct ksm_estimate *est, int pid, unsigned int gap_pages,
			struct ksm_range *ranges, size_t max);

/**
 * ksm_process_register() - register @n ranges of process @pid for merging
 * (madvise MADV_MERGEABLE on each).
 * @pid: the process; 0 or the caller's pid: the calling process, through
 *       ksm_mark_mergeable().
 * @flags: 0 or KSM_FORCE, as for ksm_process_set_merge().
 *
 * For another process, the madvise() calls are injected with ptrace as
 * ksm_process_set_merge() injects its prctl (x86-64; the same refusals and
 * guarantees: registers restored, nothing written to its memory). The
 * process_ksm syscalls register whole processes only, so they are not used.
 * A process with process-wide merging on has every range registered
 * already: nothing is done. Ranges that went away meanwhile are skipped.
 * Each range may split a VMA of the process in up to three.
 *
 * Return: the number of ranges registered; -ESRCH if there is no such
 * process; -EOPNOTSUPP without ptrace injection (not x86-64) or KSM; -ENOMEM
 * if no range could be registered (unmapped, or vm.max_map_count reached);
 * the errors of ksm_process_set_merge() and ksm_mark_mergeable(); -EINVAL for
 * bad arguments.
 * Since: 0.2
 */
int ksm_process_register(struct ksm_ctx *ctx, int pid, const struct ksm_range *ranges, size_t n,
			 unsigned int flags);

/* Flags of ksm_merge_guided(), besides KSM_FORCE (which it passes to
 * ksm_process_register()). */
#define KSM_GUIDED_DRY_RUN (1u << 1) /* find the ranges; register nothing, merge nothing */
#define KSM_GUIDED_IDLE    (1u << 2) /* run the estimate with KSM_ESTIMATE_IDLE */

/* Bits of ksm_guided_result.present: the steps that were completed. */
#define KSM_GUIDED_ESTIMATED  (1u << 0) /* the estimate ran (or had run) */
#define KSM_GUIDED_REGISTERED (1u << 1) /* every process was dealt with (with
					   KSM_GUIDED_DRY_RUN: its ranges found) */
#define KSM_GUIDED_MERGED     (1u << 2) /* merged now: the counters after it are valid */

/*
 * One process of ksm_merge_guided(), reported to its callback once its
 * ranges are registered (or found, in a dry run), or failed to be. The
 * library owns it; it is valid during the callback, and fields are only
 * ever appended.
 */
struct ksm_guided_process {
	int pid;
	int error;                      /* 0; -ESRCH: the process exited before its
					   ranges were registered; another -errno:
					   registering failed, ksm_strerror() says why
					   during the callback */
	const struct ksm_range *ranges; /* the ranges that hold the pages that would
					   merge, in address order (ksm_estimate_ranges()) */
	size_t nranges;
	int registered;                 /* of those, ranges registered: 0 in a dry run
					   or on error */
	int64_t pages;                  /* pages in .ranges */
};

/*
 * What ksm_merge_guided() did. Pages are of ksm_get_page_size() bytes. The
 * struct needs no initialisation; fields are only ever appended.
 */
struct ksm_guided_result {
	uint64_t present;           /* KSM_GUIDED_* bits: the steps completed */
	int64_t processes;          /* processes the estimate read */
	int64_t registered_processes; /* processes with ranges registered (in a dry
				       run: with ranges to register) */
	int64_t exited_processes;   /* exited before their ranges were registered */
	int64_t failed_processes;   /* registering failed (reported to the callback) */
	int64_t ranges;             /* ranges registered (in a dry run: to register) */
	int64_t pages;              /* pages in those ranges */
	int64_t candidate_pages;    /* pages the estimate read: .pages is a share of these */
	int64_t pages_sharing;      /* the kernel's counters after merging (KSM_GUIDED_MERGED) */
	int64_t ksm_zero_pages;
	int64_t estimate_ns;        /* wall time of each step (monotonic clock): the */
	int64_t register_ns;        /* estimate (with its verify delay; 0 if it had run), */
	int64_t merge_ns;           /* finding and registering the ranges, merging */
	/* Fields added in later versions go here. */
};

/**
 * ksm_merge_guided() - merge only what an estimate found would merge:
 * estimate, register in each process the ranges that hold those pages,
 * merge now.
 * @est: the targets, added with ksm_estimate_add_pid() and the other
 *       ksm_estimate_add_*() calls, and the estimate's settings (its verify
 *       pass, its progress function). Not sampled: guided ranges need every
 *       content. Run here unless it has run, with no memory limit; it keeps
 *       its results for ksm_estimate_result() afterwards.
 * @gap_pages: as for ksm_estimate_ranges() (KSM_GUIDED_GAP_PAGES is the
 *             default of ksmctl).
 * @scans, @timeout_ms: as for ksm_merge_now().
 * @flags: 0 or more of KSM_FORCE, KSM_GUIDED_DRY_RUN, KSM_GUIDED_IDLE.
 * @fn: if not NULL, called for each process with ranges (ksm_estimate_pids()
 *      order), after its ranges were registered or failed to be, before
 *      merging; a non-zero return stops the call before the next process,
 *      and nothing is merged: a negative one is returned as the result, a
 *      positive one makes it return 0 without KSM_GUIDED_REGISTERED. What
 *      was registered stays registered.
 * @res: filled, also when the call fails; needs no initialisation.
 * @size: sizeof(*res) as the caller knows it, with the rules of
 *        ksm_stats_read().
 *
 * The steps are the calls a caller could make itself: ksm_estimate_run(),
 * then for each process the estimate read ksm_estimate_ranges() and
 * ksm_process_register() (processes where nothing would merge are left
 * alone), then ksm_merge_now() and ksm_stats_read(), with their refusals
 * and guarantees. A process that exits before its ranges are registered is
 * counted in .exited_processes and does not stop the others. When
 * registering fails in a process, the others are still registered, and
 * nothing is merged. Nothing is merged either when no page was registered,
 * nor with KSM_GUIDED_DRY_RUN, which only finds the ranges. The flag of
 * ksm_set_interrupt() is checked before each process and during the merge;
 * the estimate stops when its progress function says so.
 *
 * Return: 0; -EINVAL for bad arguments, unknown flags, a sampled estimate or
 * one whose run failed, or a @size that cannot hold .present; the errors of
 * ksm_estimate_run() (-ESRCH if a process added by pid does not exist,
 * -EACCES if it may not be read, -EINTR if its progress function stopped
 * it, ...); when registering failed in some process, the error of the first
 * one (its message says which, and how many failed); -EINTR if the flag of
 * ksm_set_interrupt() was raised before the last process was dealt with;
 * the errors of ksm_merge_now() and ksm_stats_read().
 * Since: 0.2
 */
int ksm_merge_guided(struct ksm_estimate *est, unsigned int gap_pages, unsigned int scans,
		     int timeout_ms, unsigned int flags,
		     int (*fn)(const struct ksm_guided_process *proc, void *data), void *data,
		     struct ksm_guided_result *res, size_t size);

/* ------------------------------------------------------------------------ */
/* ksmd and the tuner                                                        */
/* ------------------------------------------------------------------------ */

/**
 * ksm_ksmd_cpu() - the CPU time ksmd has used since boot (user + system).
 * @ns: receives nanoseconds, with the clock-tick resolution of /proc.
 *
 * Read from <sysroot>/proc/<pid>/stat of the kernel thread named ksmd,
 * which is found by its name once and remembered in the context. The share
 * of a CPU ksmd used over an interval is the difference of two readings
 * divided by the wall-clock time between them.
 *
 * Return: 0; -ENOENT without KSM; -ESRCH if no ksmd thread is found;
 * -EBADMSG if its stat file cannot be parsed; another -errno.
 * Since: 0.2
 */
int ksm_ksmd_cpu(struct ksm_ctx *ctx, uint64_t *ns);

/*
 * The tuner: what 'ksmctl tune' runs, the successor of ksmtuned. Every
 * interval (and when a new process registers memory) it reads
 * /proc/meminfo, memory pressure (/proc/pressure/memory), the KSM counters,
 * the memory of the processes with memory registered for merging and
 * ksmd's CPU time, decides the values of run, pages_to_scan and
 * sleep_millisecs (or the advisor's bounds), writes them as one
 * transaction and says why. The algorithm and every setting are described
 * in ksmctl(8), TUNING. It never writes run=2 and does nothing while run
 * is 2 (KSM disabled by the administrator).
 */
struct ksm_tune;

/* Flags of ksm_tune_decide(). */
#define KSM_TUNE_DRY_RUN (1u << 0) /* decide and report, write nothing, keep no state */

/* Results of ksm_tune_poll(): why a decision is due now. */
#define KSM_TUNE_POLL_NEW_PROCESS 1 /* a new process registered memory for merging */
#define KSM_TUNE_POLL_SCANNED     2 /* a full scan completed while ksmd scans */
#define KSM_TUNE_POLL_CATCHUP_END 3 /* the full-speed scan for a new process ran out of time */

/*
 * One decision of ksm_tune_decide(). Knob fields hold the value decided,
 * or -1 where the knob is left alone. Sizes are in bytes. The struct needs
 * no initialisation and only grows at its end.
 */
struct ksm_tune_decision {
	int64_t run;
	int64_t pages_to_scan;
	int64_t sleep_millisecs;
	int64_t advisor_mode;
	int64_t advisor_max_cpu;
	int64_t advisor_min_pages_to_scan;
	int64_t advisor_max_pages_to_scan;
	int64_t written;          /* knobs whose value changed (0 with KSM_TUNE_DRY_RUN) */

	/* the inputs the decision was taken on */
	int64_t mem_total;        /* MemTotal */
	int64_t mem_available;    /* MemAvailable; -1 where the kernel lacks it */
	int64_t mem_free;         /* MemFree + Buffers + Cached, ksmtuned's "free" */
	int64_t threshold;        /* thres_coef % of MemTotal, at least thres_const */
	int64_t committed;        /* memory of the processes with registered memory (metric) */
	int64_t registered_procs; /* those processes; -1 if the kernel cannot tell */
	double psi_some_avg10;    /* percent; -1 without PSI */
	double psi_full_avg10;    /* percent; -1 without PSI */
	double ksmd_cpu;          /* percent of a CPU since the previous decision; -1 unknown */
	int64_t saved_bytes;      /* ksm_stats.saved_bytes */
	char reason[256];         /* why, for people */
	/* Fields added in later versions go here. */
};

/**
 * ksm_tune_new() - create a tuner on @ctx with the default settings.
 * @tune: receives the tuner (refcount 1); it holds a reference on @ctx.
 * Return: 0; -EINVAL; -ENOMEM.
 * Since: 0.2
 */
int ksm_tune_new(struct ksm_ctx *ctx, struct ksm_tune **tune);

/**
 * ksm_tune_ref() - take a reference on a tuner.
 * Return: @tune (NULL stays NULL).
 * Since: 0.2
 */
struct ksm_tune *ksm_tune_ref(struct ksm_tune *tune);

/**
 * ksm_tune_unref() - drop a reference; the last one frees the tuner. Knobs
 * are not restored: call ksm_tune_restore() first for that.
 * Return: NULL if the tuner was freed (or @tune was NULL), else @tune.
 * Since: 0.2
 */
struct ksm_tune *ksm_tune_unref(struct ksm_tune *tune);

/**
 * ksm_tune_load() - replace the settings: the defaults, then a file.
 * @path: a file in either format, told apart by its content (a line
 *        "[tune]" makes it a ksm.conf); or NULL for the system's files
 *        below the context's system root: <sysconfdir>/ksmtuned.conf, then
 *        the [tune] section of ksm_profile_path(), each if it exists.
 * @line: if not NULL, receives the line an error is about (0: the file).
 *
 * ksmtuned.conf is read as the shell reads its assignments: NAME=VALUE,
 * values bare or quoted, "#" comments; an empty value means the default.
 * Unknown variables and lines that are not assignments are logged
 * (LOG_WARNING, with file and line) and ignored; LOGFILE and PIDFILE are
 * accepted and not used (LOG_NOTICE). In ksm.conf, lines outside [tune]
 * are knobs and are not read here; unknown settings are logged and
 * ignored.
 *
 * Return: the number of settings read; -EBADMSG for a value that cannot
 * be parsed, an unterminated quote or an unknown section; -EINVAL for a
 * value out of range (both with @line); -errno if a file cannot be read.
 * On failure the settings stay as they were.
 * Since: 0.2
 */
int ksm_tune_load(struct ksm_tune *tune, const char *path, unsigned int *line);

/**
 * ksm_tune_get() - the value of a setting, by its name in the [tune]
 * section ("interval", "restore", ...); enumerations as their index,
 * booleans as 0 or 1.
 * Return: 0; -ENOENT for an unknown name; -EINVAL.
 * Since: 0.2
 */
int ksm_tune_get(const struct ksm_tune *tune, const char *name, int64_t *value);

/**
 * ksm_tune_decide() - read the inputs, decide, and write the knobs that
 * differ as one transaction (ksm_txn_commit()).
 * @flags: KSM_TUNE_DRY_RUN to write nothing and keep no state.
 * @d: receives the decision and its reason (may be NULL with @size 0).
 * @size: sizeof(*d) as the caller knows it, as for ksm_stats_read().
 *
 * Which processes have memory registered comes from their ksm_stat, read
 * only for processes the tuner has not seen yet (or that exec'd, or were
 * found by ksm_tune_poll()), 30 s after a process was first seen
 * unregistered (not with the ksm:ksm_enter tracepoint, which reports a
 * later registration), and every 300 s for the others. KSM disabled
 * by the administrator (run=2) or by policy (ksm_policy_disable()) is
 * left alone. The first change of each knob records its value before, for
 * ksm_tune_restore(). Nothing is allocated (the default profile is read
 * again only after it changed).
 *
 * Return: 0; -EINVAL; errors of ksm_stats_read() and ksm_txn_commit();
 * -ENOENT or another -errno if /proc/meminfo cannot be read.
 * Since: 0.2
 */
int ksm_tune_decide(struct ksm_tune *tune, unsigned int flags, struct ksm_tune_decision *d,
		    size_t size);

/**
 * ksm_tune_poll() - is a decision due before the next interval?
 *
 * Finds processes that register memory for merging, from the first
 * source of these that works (see ksm_tune_next(); the source chosen is
 * logged at LOG_DEBUG):
 *
 * - the kernel's tracepoint ksm:ksm_enter, which fires when a process
 *   registers (madvise(MADV_MERGEABLE), prctl(PR_SET_MEMORY_MERGE)) and
 *   when a registered process forks: a process it names that the tuner did
 *   not know registered is read (its ksm_stat) and counted from now on; a
 *   fork of one already known makes the next decision list /proc, where
 *   the child, unknown, is read. Processes that do not register cost
 *   nothing. Needs the real system root, tracefs mounted at
 *   /sys/kernel/tracing or /sys/kernel/debug/tracing (systemd mounts it)
 *   and the right to open a system-wide perf event (CAP_PERFMON or root);
 * - the kernel's process events connector (the real system root and
 *   CAP_NET_ADMIN), which reports processes that start or exec;
 * - else the last process ID the kernel handed out (/proc/loadavg), noting
 *   the processes created since (at most 256).
 *
 * With the latter two it looks at the ksm_stat of each new process from a
 * quarter of a second of age and again at about 1, 2, 4, 8, 16 and 32
 * seconds, until it shows memory registered for merging. Processes that
 * live less than a quarter of a second are never looked at; processes that
 * register later are seen by a later decision. The next ksm_tune_decide()
 * knows that a new process registered (the native policy then scans at
 * full speed until the new memory was scanned, for at most `catchup`
 * seconds). While the last decision has ksmd scanning, it also reads
 * full_scans and asks for a decision after each full scan, so that
 * scanning that no longer pays stops at once, and when the full-speed
 * scan's time is up.
 *
 * Return: KSM_TUNE_POLL_NEW_PROCESS, KSM_TUNE_POLL_SCANNED,
 * KSM_TUNE_POLL_CATCHUP_END, or 0 when no decision is due; -EINVAL.
 * Since: 0.2
 */
int ksm_tune_poll(struct ksm_tune *tune);

/**
 * ksm_tune_next() - when ksm_tune_poll() is due.
 * @fd: receives one descriptor to poll for reading, or -1 without one: an
 *      epoll descriptor over the ksm:ksm_enter tracepoint's perf events,
 *      one per online CPU, readable when a process registers memory or a
 *      registered one forks; else the kernel's process events connector
 *      (NETLINK_CONNECTOR CN_IDX_PROC), readable when a process starts or
 *      execs. Both are opened at the first call (or ksm_tune_poll()), on
 *      the real system root only; see ksm_tune_poll().
 *
 * A daemon waits until *@fd is readable or the time returned has passed,
 * then calls ksm_tune_poll(). Without an event source that time is at most
 * 500 ms (the poll of /proc/loadavg); with one, a process under watch
 * (connector) or ksmd scanning (full_scans is read once a second, four
 * times a second while ksmd scans at full speed for a new process) set the
 * time, and with neither the daemon sleeps until an event. After a poll
 * that read events, *@fd is -1 for the rest of a quarter of a second: the
 * daemon wakes at most four times a second however many events arrive.
 *
 * Return: milliseconds until ksm_tune_poll() is due (0: now), or -1 for
 * "only when *@fd is readable"; -EINVAL.
 * Since: 0.2
 */
int ksm_tune_next(struct ksm_tune *tune, int *fd);

/**
 * ksm_tune_restore() - write back the values the knobs had before the
 * tuner first changed them, as one transaction: each only where the knob
 * still holds what the tuner set. A knob changed meanwhile (run=2 of an
 * administrator among them) stays, logged at LOG_NOTICE.
 * Return: the number of knobs written back (0 if the tuner changed none);
 * errors of ksm_txn_commit().
 * Since: 0.2
 */
int ksm_tune_restore(struct ksm_tune *tune);

/* ------------------------------------------------------------------------ */
/* Selective KSM partitions                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Selective KSM divides the merge space into named partitions, one per trust
 * domain: pages merge only with pages of the same partition, and merging
 * happens synchronously, when a caller asks for it, instead of in ksmd's
 * background scan. It is NOT in mainline Linux; it exists as an RFC patch
 * series (2025, on 6.14-rc7). libksm speaks to what that series posted and
 * finds out by probing which interface, if any, the kernel has:
 *
 * KSM_PARTITION_SYSFS: the RFC's sysfs layout (ksm/control/add_partition
 * exists; KSM_FEATURE_SELECTIVE_KSM).
 *  - Each partition is a directory ksm/<name>/ with the normal attribute
 *    group plus trigger_merge and trigger_unmerge. Creation and removal are
 *    writes to ksm/control/add_partition and remove_partition, which the
 *    kernel lets only root write (mode 0220).
 *  - Isolation: each partition has its own stable and unstable trees, so
 *    merging never crosses partitions.
 *  - Permissions: libksm gives trigger_merge and trigger_unmerge the mode
 *    asked for at creation, and the kernel enforces those modes when the
 *    files are opened. The kernel does NOT check that the writer may access
 *    the process it names: whoever may write trigger_merge can pull the
 *    registered memory of any process into the partition. A mode therefore
 *    decides who may merge into this partition (and into no other one), not
 *    whose memory: grant it only to callers trusted with every process
 *    they could name.
 *  - Unmerging is per process only: trigger_unmerge unmerges every merged
 *    page of the process, in every partition.
 *  - Removal unmerges every merged page of the system, in all partitions
 *    (the RFC calls the global unmerge), and takes effect at once: handles
 *    still open on the partition then fail with -ENOENT.
 *
 * KSM_PARTITION_SYSCALL: the RFC's system calls ksm_open(name, flags) and
 * ksm_merge(fd, pid, start, size). Their numbers (467 and 468 on x86-64 in
 * the RFC) are used by other calls in recent mainline kernels
 * (open_tree_attr, file_getattr), so libksm never guesses them: it uses this backend only
 * when they are configured, with the build option sksm_syscalls or the
 * environment variable LIBKSM_SKSM_SYSCALLS="OPEN,MERGE" (read with
 * secure_getenv(); it overrides the build option, an empty value turns the
 * backend off). ksm_partition_open() uses this backend whenever it is
 * configured.
 *  - The partition is an object behind a descriptor; it is freed when the
 *    last descriptor is closed. It has no sysfs directory, so it cannot be
 *    listed, unlinked or asked for statistics, and the RFC has no unmerge
 *    call: those calls fail with -EOPNOTSUPP.
 *  - Isolation as above. Permissions: none. ksm_open() takes no mode and
 *    the posted patch checks no permission, so any process that knows the
 *    name can open the partition, and ksm_merge() does not check access to
 *    the target process either.
 *
 * No backend (every mainline kernel): every call fails with -EOPNOTSUPP.
 * Mainline KSM has one merge space for the whole system (per NUMA node with
 * merge_across_nodes=0); it cannot keep trust domains apart. Merged pages
 * are copied on write, and that delay tells a process that another one holds
 * a page with the same content: a timing side channel across everything
 * that is merged together. Without partitions, merge only memory of one
 * trust domain (register it per service or per VM), or keep KSM off.
 *
 * Names: 1 to KSM_PARTITION_NAME_MAX characters of [A-Za-z0-9_.-], not
 * starting with '.' or '-', and not the name of a file of the KSM directory
 * (a knob name, "control", or the proposal's "partition"). The limit is the
 * RFC's: remove_partition compares only 31 characters.
 */

struct ksm_partition;

#define KSM_PARTITION_NAME_MAX 31

/* Flags of ksm_partition_open(), libksm's own values (the proposal gives none). */
#define KSM_SYNC  (1u << 0) /* the handle may merge and unmerge (synchronously) */
#define KSM_CREAT (1u << 1) /* create the partition if it does not exist */
#define KSM_EXCL  (1u << 2) /* with KSM_CREAT: fail with -EEXIST if it exists */
#define KSM_PERSIST (1u << 3) /* the partition must outlive its handles: use the sysfs
                                 backend, -EOPNOTSUPP where only the syscalls are */

/* Flags of ksm_partition_unlink(). */
#define KSM_UNLINK_ALLOW_UNMERGE (1u << 0) /* accept that removal unmerges every page of the system */

/* Backends (ksm_partition_backends()). */
#define KSM_PARTITION_SYSFS   (1u << 0) /* the RFC's sysfs layout */
#define KSM_PARTITION_SYSCALL (1u << 1) /* the RFC's syscalls, numbers configured */

/**
 * ksm_partition_backends() - which Selective KSM interfaces libksm will use
 * on this context, as KSM_PARTITION_* bits.
 *
 * KSM_PARTITION_SYSFS is found by the presence of the RFC's control files,
 * KSM_PARTITION_SYSCALL only from configuration (see above): whether the
 * running kernel implements the configured numbers shows only when they
 * are called.
 *
 * Return: the bits; 0 if the kernel offers no partitions; -EINVAL if
 * LIBKSM_SKSM_SYSCALLS is set but is not "OPEN,MERGE" (two decimal numbers).
 * Since: 0.2
 */
int ksm_partition_backends(struct ksm_ctx *ctx);

/**
 * ksm_partition_name_check() - is @name acceptable as a partition name?
 *
 * The rules above; nothing is asked of the kernel. ksm_partition_open()
 * further refuses a name that is taken by another entry of the KSM
 * directory.
 *
 * Return: 0; -ENAMETOOLONG for more than KSM_PARTITION_NAME_MAX characters;
 * -EINVAL for an empty name, a character outside [A-Za-z0-9_.-], a leading
 * '.' or '-', or a reserved name.
 * Since: 0.2
 */
int ksm_partition_name_check(const char *name);

/**
 * ksm_partition_open() - open, or create and open, a partition.
 * @flags: KSM_SYNC to merge and unmerge through the handle (without it the
 *         handle only reads statistics); KSM_CREAT to create the partition
 *         if it does not exist; KSM_EXCL with KSM_CREAT to insist on
 *         creating it; KSM_PERSIST for a partition that outlives this
 *         process (a named partition of the sysfs backend, as a command-line
 *         tool needs), even where the syscall backend is configured.
 * @mode: permission bits (0 to 0777, like open(2)'s mode) for the files
 *        that trigger merging and unmerging, applied when this call creates
 *        the partition and ignored otherwise. The kernel makes them
 *        writable by root only; a mode such as 0660 opens them to more
 *        callers (their owner stays root: change the group with chown(1)
 *        to grant a group). The syscall backend has no permissions at all
 *        and accepts only 0.
 * @part: receives the handle.
 *
 * The handle is an opaque object rather than a descriptor because the sysfs
 * backend has no descriptor that stands for a partition: there the handle
 * keeps the partition's directory open, so that it keeps referring to the
 * partition it opened; with the syscall backend it holds the ksm_open()
 * descriptor (close-on-exec). Either way it also holds a reference on @ctx.
 *
 * With KSM_SYNC the caller must be allowed to write trigger_merge (checked
 * with the caller's effective IDs, as the kernel will at the merge).
 *
 * The sysfs backend creates a partition by writing "<name>\n" to
 * control/add_partition, then opens the directory the kernel creates
 * before that write returns (waiting up to 500 ms for it, then -EIO), then
 * applies @mode. If applying @mode fails, the partition stays, writable by
 * root only, and the error is returned.
 *
 * Return: 0;
 *  -EOPNOTSUPP  no backend (see ksm_partition_backends()); a mode other
 *               than 0 with the syscall backend; KSM_PERSIST without the
 *               sysfs backend; or the configured syscall
 *               is not the RFC's (ENOSYS, or EFAULT, which ksm_open()
 *               cannot return for a valid name: mainline's call of that
 *               number answered);
 *  -EINVAL      unknown @flags, KSM_EXCL without KSM_CREAT, @mode above
 *               0777, an invalid name, or a name taken by an entry of the
 *               KSM directory that is no partition; also a malformed
 *               LIBKSM_SKSM_SYSCALLS;
 *  -ENAMETOOLONG  the name is longer than KSM_PARTITION_NAME_MAX;
 *  -ENOENT      the partition does not exist and KSM_CREAT was not given;
 *  -EEXIST      KSM_CREAT|KSM_EXCL and the partition exists;
 *  -EACCES      creating needs root; or KSM_SYNC and the partition's mode
 *               does not let the caller merge;
 *  -EROFS       sysfs is mounted read-only;
 *  -ENOMEM;
 *  -EIO         the kernel accepted the name but no partition appeared;
 *  another -errno from the kernel.
 * Since: 0.2
 */
int ksm_partition_open(struct ksm_ctx *ctx, const char *name, unsigned int flags, unsigned int mode,
		       struct ksm_partition **part);

/**
 * ksm_partition_ref() - take a reference on a handle.
 * Return: @part (NULL stays NULL).
 * Since: 0.2
 */
struct ksm_partition *ksm_partition_ref(struct ksm_partition *part);

/**
 * ksm_partition_unref() - drop a reference; the last one closes the handle
 * and frees it. With the syscall backend this closes the descriptor, and
 * the kernel frees the partition once no process holds a descriptor of it.
 * Return: NULL if the handle was freed (or @part was NULL), else @part.
 * Since: 0.2
 */
struct ksm_partition *ksm_partition_unref(struct ksm_partition *part);

/**
 * ksm_partition_get_name() - the name a handle was opened with.
 * Return: a string owned by the handle; "" for NULL.
 * Since: 0.2
 */
const char *ksm_partition_get_name(const struct ksm_partition *part);

/**
 * ksm_partition_unlink() - remove a partition.
 * @flags: KSM_UNLINK_ALLOW_UNMERGE to accept what removal does on the RFC
 *         kernel: unmerge every merged page of the system, in all
 *         partitions, before the partition is freed.
 *
 * Only the sysfs backend can remove partitions, and it does so at once
 * (writing "<name>\n" to control/remove_partition), not when the last
 * handle closes: handles still open fail with -ENOENT afterwards. A
 * partition of the syscall backend goes away when its last descriptor is
 * closed, and cannot be removed by name.
 *
 * Return: 0;
 *  -EBUSY       removal would unmerge every page and
 *               KSM_UNLINK_ALLOW_UNMERGE was not given (nothing written);
 *  -ENOENT      no such partition;
 *  -EOPNOTSUPP  no sysfs backend;
 *  -EINVAL, -ENAMETOOLONG  as ksm_partition_name_check(), unknown @flags,
 *               or a name taken by an entry that is no partition;
 *  -EACCES      not root; -EROFS; -ENOMEM; -EINTR if a signal
 *               interrupted the unmerge; another -errno from the kernel.
 * Since: 0.2
 */
int ksm_partition_unlink(struct ksm_ctx *ctx, const char *name, unsigned int flags);

/**
 * ksm_partition_merge() - merge a range of a process within the partition,
 * synchronously.
 * @pid: the process, in the caller's PID namespace; 0 for the caller.
 * @addr, @size: the range [@addr, @addr + @size), passed to the kernel
 *               unchanged.
 *
 * The sysfs backend writes "<pid> <start> <end>\n" to trigger_merge, with
 * the pid in decimal and start and end in lowercase hexadecimal without
 * "0x" (the kernel parses "%d %lx %lx", which takes both forms); end is
 * @addr + @size. The syscall backend calls ksm_merge(fd, pid, addr, size).
 *
 * Only memory registered for merging (ksm_mark_mergeable(), prctl or
 * ksm_set_process_merge()) is considered; the RFC returns success without
 * merging anything otherwise, and as posted it merges at most the first
 * eligible page of the range per call. Success therefore means "the kernel
 * took the request"; the partition's statistics tell what merged.
 *
 * Return: 0;
 *  -EBADF   the handle was opened without KSM_SYNC (or, syscall backend,
 *           the kernel rejected the descriptor);
 *  -EINVAL  NULL handle, negative @pid, @size 0, a range that wraps or does
 *           not fit in an unsigned long; or the kernel's EINVAL: the
 *           process has no memory (a kernel thread, a zombie);
 *  -ESRCH   no such process;
 *  -ENOENT  the partition was removed;
 *  -EACCES  the partition's mode does not let the caller merge;
 *  -ENOMEM;
 *  -EOPNOTSUPP  the configured syscall is not the RFC's (ENOSYS or
 *               EFAULT, as for ksm_partition_open());
 *  another -errno from the kernel.
 * Since: 0.2
 */
int ksm_partition_merge(struct ksm_partition *part, int pid, uint64_t addr, uint64_t size);

/**
 * ksm_partition_unmerge() - unmerge memory of a process.
 * @pid: the process, in the caller's PID namespace; 0 for the caller.
 * @addr, @size: the range, or 0 and 0 for the whole process.
 *
 * libksm unmerges exactly what is asked or fails. No kernel interface
 * unmerges a range: the RFC's trigger_unmerge takes only a pid and unmerges
 * every merged page of that process, in every partition, not only in this
 * one. So a range gives -EOPNOTSUPP, and the whole-process form (0, 0)
 * does exactly that, by writing "<pid>\n" to trigger_unmerge. The syscall
 * backend has no unmerge call.
 *
 * Return: 0;
 *  -EOPNOTSUPP  a range, the syscall backend, or a kernel without
 *               trigger_unmerge;
 *  -EBADF   the handle was opened without KSM_SYNC;
 *  -EINVAL  NULL handle, negative @pid, @size 0 with @addr not 0, a range
 *           that wraps; the kernel's EINVAL;
 *  -ESRCH   no such process;
 *  -ENOENT  the partition was removed;
 *  -EACCES  the partition's mode does not let the caller unmerge;
 *  -ENOMEM; -EINTR; another -errno from the kernel.
 * Since: 0.2
 */
int ksm_partition_unmerge(struct ksm_partition *part, int pid, uint64_t addr, uint64_t size);

/**
 * ksm_partition_stats_read() - the snapshot of a partition's directory, in
 * the same struct and with the same rules as ksm_stats_read().
 *
 * The RFC's partition directories hold the normal attribute group without
 * the files its configuration compiles out (smart_scan, advisor_*); their
 * .present bits are clear. The figures are whatever the kernel shows in
 * that directory.
 *
 * Return: 0; -EOPNOTSUPP with the syscall backend (no directory); -ENOENT
 * if the partition was removed; the errors of ksm_stats_read().
 * Since: 0.2
 */
int ksm_partition_stats_read(struct ksm_partition *part, struct ksm_stats *st, size_t size);

/**
 * ksm_partition_foreach() - call @fn with the name of every partition, in
 * strcmp() order.
 *
 * Lists the directories of the KSM directory that hold trigger_merge.
 * Partitions of the syscall backend have no directory and are not listed.
 * A partition created outside libksm may have a name that
 * ksm_partition_name_check() refuses; it is listed all the same.
 *
 * Return: the number of partitions reported; a non-zero value returned by
 * @fn stops the walk, and a negative one is returned as the result;
 * -EOPNOTSUPP without the sysfs backend; -ENOMEM; -errno if the directory
 * cannot be read.
 * Since: 0.2
 */
int ksm_partition_foreach(struct ksm_ctx *ctx, int (*fn)(const char *name, void *data), void *data);

#ifdef __cplusplus
}
#endif

#endif /* LIBKSM_KSM_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libksm - a library for Linux Kernel Samepage Merging (KSM)
 *
 * Conventions, valid for every function below:
 *  - Functions return 0 (or a count) on success and a negative errno value
 *    on failure. errno itself is never part of the interface. A NULL
 *    pointer where an object is required gives -EINVAL.
 *  - Objects are opaque and reference counted; "new" functions start with a
 *    reference count of 1 and hand the object back through an out-parameter.
 *  - Knobs are the files of /sys/kernel/mm/ksm. Every knob is described by
 *    one table inside the library (see ksm_knob_info()); names, types, ranges
 *    and prerequisites come from there.
 */
#ifndef LIBKSM_KSM_H
#define LIBKSM_KSM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KSM_VERSION_MAJOR 0
#define KSM_VERSION_MINOR 1

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
 * Since: 0.1
 */
int ksm_new(struct ksm_ctx **ctx);

/**
 * ksm_new_at() - create a context for an explicit system root.
 * @ctx: receives the new context (refcount 1).
 * @sysroot: directory that stands for "/" (e.g. a dump of /sys for tests);
 *           NULL behaves exactly like ksm_new(); "" means "/".
 *
 * Return: as ksm_new().
 * Since: 0.1
 */
int ksm_new_at(struct ksm_ctx **ctx, const char *sysroot);

/**
 * ksm_ref() - take a reference.
 * Return: @ctx (NULL stays NULL).
 * Since: 0.1
 */
struct ksm_ctx *ksm_ref(struct ksm_ctx *ctx);

/**
 * ksm_unref() - drop a reference; the last one frees the context and closes
 * its file descriptors.
 * Return: NULL if the context was freed (or @ctx was NULL), else @ctx.
 * Since: 0.1
 */
struct ksm_ctx *ksm_unref(struct ksm_ctx *ctx);

/**
 * ksm_get_sysroot() - the system root this context works on.
 * Return: a string owned by the context, never NULL.
 * Since: 0.1
 */
const char *ksm_get_sysroot(const struct ksm_ctx *ctx);

/**
 * ksm_get_page_size() - the page size used for byte figures (sysconf).
 * Return: the page size in bytes.
 * Since: 0.1
 */
long ksm_get_page_size(const struct ksm_ctx *ctx);

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
#define KSM_FEATURE_PROCESS_KSM        (UINT64_C(1) << 12) /* /sys/kernel/process_ksm syscalls */

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
};

/**
 * ksm_knob_count() - number of knobs in the table.
 * Return: the count; knob values run from 0 to count - 1.
 * Since: 0.1
 */
int ksm_knob_count(void);

/**
 * ksm_knob_info() - the table entry of a knob.
 * Return: a pointer to static data, or NULL for an unknown @knob.
 * Since: 0.1
 */
const struct ksm_knob_info *ksm_knob_info(enum ksm_knob knob);

/**
 * ksm_knob_lookup() - find a knob by its sysfs name.
 * Return: the knob (>= 0), or -ENOENT if no knob has that name.
 * Since: 0.1
 */
int ksm_knob_lookup(const char *name);

/**
 * ksm_knob_parse() - parse and validate a value given as text.
 * @text: a decimal number; for bool knobs also y/n, yes/no, on/off and
 *        true/false in any letter case; for run also stop/merge/unmerge.
 *        advisor_mode takes only its names, none or scan-time, as the
 *        kernel does. Surrounding blanks are ignored.
 * @value: receives the value.
 *
 * Return: 0; -EINVAL if the text is not a value of the knob's type or lies
 * outside the knob's range; -ENOENT for an unknown knob.
 * Since: 0.1
 */
int ksm_knob_parse(enum ksm_knob knob, const char *text, int64_t *value);

/**
 * ksm_knob_format() - format a value the way the kernel prints it
 * (advisor_mode as its name, everything else as a decimal number).
 * Return: the length written (without NUL), -ENOSPC if @size is too small,
 * -ENOENT for an unknown knob, -EINVAL for an advisor_mode value that names
 * no mode. Numbers are not range-checked: counters can hold any value.
 * Since: 0.1
 */
int ksm_knob_format(enum ksm_knob knob, int64_t value, char *buf, size_t size);

/* ------------------------------------------------------------------------ */
/* Reading and writing knobs                                                 */
/* ------------------------------------------------------------------------ */

/**
 * ksm_get() - read one knob.
 * @value: receives the value; advisor_mode as enum ksm_advisor_mode, run
 *         without the kernel's internal "offlining" bit.
 *
 * Return: 0; -ENOENT if this kernel has no such file (or no KSM);
 * -EBADMSG if the kernel's text cannot be parsed; -EACCES; another -errno
 * from the read.
 * Since: 0.1
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
 *  -EPERM   the knob is a read-only counter;
 *  -EACCES  the caller is not privileged to write the knob;
 *  -EROFS   sysfs is mounted read-only (typical in containers);
 *  -ENOENT  the knob does not exist on this kernel;
 *  -ENOMEM  the kernel could not allocate (first merge_across_nodes=0);
 *  another -errno from the write.
 * Since: 0.1
 */
int ksm_set(struct ksm_ctx *ctx, enum ksm_knob knob, int64_t value);

/**
 * ksm_set_text() - ksm_knob_parse() followed by ksm_set().
 * Return: as ksm_knob_parse() and ksm_set().
 * Since: 0.1
 */
int ksm_set_text(struct ksm_ctx *ctx, enum ksm_knob knob, const char *text);

/* ------------------------------------------------------------------------ */
/* Run control                                                               */
/* ------------------------------------------------------------------------ */

/**
 * ksm_start() - run=1: ksmd scans and merges registered memory.
 * Return: 0 or -errno as ksm_set().
 * Since: 0.1
 */
int ksm_start(struct ksm_ctx *ctx);

/**
 * ksm_stop() - run=0: ksmd stops; merged pages stay merged.
 * Return: 0 or -errno as ksm_set().
 * Since: 0.1
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
 * Since: 0.1
 */
int ksm_unmerge_all(struct ksm_ctx *ctx);

/* ------------------------------------------------------------------------ */
/* Statistics                                                                */
/* ------------------------------------------------------------------------ */

/*
 * One snapshot of every knob. Fields carry the sysfs names. A field is valid
 * only if its bit (1 << enum ksm_knob) is set in .present. New fields are
 * only ever appended; set .size = sizeof(struct ksm_stats) before calling
 * ksm_stats_read() (or use KSM_STATS_INIT) so that the library knows how much
 * of the struct the caller has.
 */
struct ksm_stats {
	uint32_t size;        /* in: sizeof(struct ksm_stats) of the caller */
	uint32_t reserved;
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

	/* derived figures, always filled */
	int64_t page_size;       /* bytes per page (sysconf) */
	int64_t saved_pages;     /* pages_sharing + ksm_zero_pages */
	int64_t saved_bytes;     /* saved_pages * page_size */
	int64_t profit_bytes;    /* general_profit, or its formula where the file is missing */
	double sharing_ratio;    /* pages_sharing / pages_shared; 0 when nothing is shared */
	double effectiveness;    /* saved_pages / every page KSM tracks
	                            (shared + sharing + unshared + volatile + ksm_zero_pages);
	                            0 when KSM tracks nothing */
};

#define KSM_STATS_INIT { .size = sizeof(struct ksm_stats) }

/**
 * ksm_stats_read() - read every counter and tunable present, in one call.
 * @st: filled; st->size must be set by the caller (KSM_STATS_INIT). On
 *      return it holds the number of bytes the library filled, the smaller
 *      of the caller's and the library's struct size.
 *
 * Files this kernel lacks are left 0 and their .present bit clear. The
 * profit estimate used where general_profit is missing counts the kernel's
 * rmap_item as 64 bytes on 64-bit builds of libksm and 32 on 32-bit ones.
 *
 * Return: 0; -ENOENT if KSM is absent (no <sysroot>/sys/kernel/mm/ksm);
 * -EINVAL if st->size is smaller than the first published struct;
 * -EBADMSG if a file holds text that cannot be parsed; another -errno.
 * Since: 0.1
 */
int ksm_stats_read(struct ksm_ctx *ctx, struct ksm_stats *st);

/**
 * ksm_stats_value() - the field of a snapshot that belongs to a knob.
 * Return: 0 and *value; -ENOENT if the knob's file was not present;
 * -EINVAL for an unknown knob or a snapshot whose .size lacks the field.
 * Since: 0.1
 */
int ksm_stats_value(const struct ksm_stats *st, enum ksm_knob knob, int64_t *value);

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
 * Since: 0.1
 */
int ksm_probe_features(struct ksm_ctx *ctx, uint64_t *features);

/**
 * ksm_feature_name() - short name of a single KSM_FEATURE_* bit
 * ("ksm", "writable", "use_zero_pages", ...), for listings and JSON.
 * Return: the name, or NULL if @feature is not exactly one known bit.
 * Since: 0.1
 */
const char *ksm_feature_name(uint64_t feature);

#ifdef __cplusplus
}
#endif

#endif /* LIBKSM_KSM_H */

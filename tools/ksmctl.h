// SPDX-License-Identifier: LGPL-2.1-or-later
/* Shared declarations of ksmctl's files: messages, output helpers, commands. */
#ifndef KSMCTL_H
#define KSMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ksm.h"

/*
 * Exit statuses beyond EXIT_SUCCESS and EXIT_FAILURE, documented in ksmctl(8).
 * exit_status() maps the errors of the library to them.
 */
#define EXIT_USAGE 2              /* the command line is wrong */
#define EXIT_TIMEOUT 3            /* -ETIMEDOUT: gave up waiting */
#define EXIT_NOT_RUNNING 4        /* -EHOSTDOWN: ksmd is not running */
#define EXIT_NOTHING_REGISTERED 5 /* -ENODATA: no memory is registered for merging */

extern const char *progname;

struct command {
	const char *name;
	int (*run)(struct ksm_ctx *ctx, int argc, char **argv);
	const char *args;
	const char *summary;
	const char *help; /* options and details, printed by 'ksmctl help CMD' */
};

const struct command *find_command(const char *name);
int cmd_help(struct ksm_ctx *ctx, int argc, char **argv);

/* output.c: messages on stderr */
__attribute__((format(printf, 1, 2))) void error(const char *fmt, ...);
/* The command being run, for the hint of usage_error(); NULL before one is found. */
extern const char *usage_command;
/* Print the message and the hint ('ksmctl help COMMAND', or 'ksmctl --help'
 * before a command is known); returns EXIT_USAGE. */
__attribute__((format(printf, 1, 2))) int usage_error(const char *fmt, ...);
/* The usage error for what getopt_long() returned as @c ('?' or ':'). */
int option_error(const char *cmd, int c, char **argv);
/* The exit status for a library call that returned @err (0 or -errno). */
int exit_status(int err);
/*
 * Report the failure of the library call that just returned @err: print
 * "ksmctl: <ksm_strerror(err)>" and return exit_status(err). Call it before
 * any other libksm call, which may replace the message.
 */
int fail(int err);

/* output.c: formatting on stdout */
void format_bytes(int64_t bytes, char *buf, size_t size);
bool is_number(const char *s);
/* A fraction with up to six significant digits; @json keeps a decimal point. */
void format_double(double v, bool json, char *buf, size_t size);
/*
 * Strings from the system (process and partition names): the JSON string of
 * @s, with control characters (U+0000 to U+001F, U+007F to U+009F) as \u00XX
 * and each byte that is not valid UTF-8 as U+FFFD; for people, @s with
 * control characters, invalid UTF-8 bytes and backslashes as \xHH and \\,
 * cut at a whole character to fit @size (ksmctl(8), "Names").
 */
void json_string(const char *s);
const char *text_escape(const char *s, char *buf, size_t size);
/* A value formatted by ksm_knob_format(): a number, or a JSON string. */
void json_value(const char *text);
/* The JSON members of one knob's value after @sep: "knob": number, and for
 * an enum knob also "knob_name": "its name". */
void json_knob(const char *sep, int knob, int64_t value);
/* Parse a command's options when it knows only --json and --help: the index
 * of the first argument, -1 after printing help, -EXIT_USAGE on bad options. */
int parse_json_option(int argc, char **argv, bool *json, const struct command *cmd);
/* Options of 'wait' and 'merge-now': -1 to go on, else an exit status. */
int parse_scan_options(int argc, char **argv, const char *cmd, unsigned long *scans, int *timeout_ms);
/* Options of 'set' and 'apply' (--if-exists only where @if_exists is not
 * NULL): -1 to go on (optind is the first argument), else an exit status. */
int parse_txn_options(int argc, char **argv, const char *cmd, bool *allow_unmerge, bool *dry_run,
		      bool *if_exists);
/* parse_txn_options() with --force (-f) too, and for 'apply' --start (-s)
 * where @start is not NULL. */
int parse_txn_options_ex(int argc, char **argv, const char *cmd, bool *allow_unmerge, bool *dry_run,
			 bool *if_exists, bool *force, bool *start);

#define PARSE_OPTIONS(argc, argv, json, name)                                \
	do {                                                                 \
		int _i = parse_json_option(argc, argv, json, find_command(name)); \
		if (_i == -1)                                                \
			return EXIT_SUCCESS;                                 \
		if (_i < 0)                                                  \
			return -_i;                                          \
		argc -= _i;                                                  \
		argv += _i;                                                  \
	} while (0)

/* cmd_knobs.c */
/* A statistics snapshot as 'status' prints it (also used for partitions). */
void print_status_human(const struct ksm_stats *st);
/* The node-wide disable, as 'status' shows it. */
struct policy {
	bool disabled;
	int64_t since; /* seconds since the epoch, -1 unknown */
	const char *file;
};
/* @policy: NULL for a partition. */
void print_status_json(const struct ksm_stats *st, const struct policy *policy);
int cmd_status(struct ksm_ctx *ctx, int argc, char **argv);
int cmd_get(struct ksm_ctx *ctx, int argc, char **argv);
int cmd_set(struct ksm_ctx *ctx, int argc, char **argv);
int cmd_run(struct ksm_ctx *ctx, int argc, char **argv);
int cmd_stop(struct ksm_ctx *ctx, int argc, char **argv);
int cmd_unmerge(struct ksm_ctx *ctx, int argc, char **argv);
int cmd_features(struct ksm_ctx *ctx, int argc, char **argv);
int cmd_knobs(struct ksm_ctx *ctx, int argc, char **argv);
/* Print what unmerging costs; refuse (an exit status) when it cannot fit
 * unless @force, else -1 to go on. */
int unmerge_check(struct ksm_ctx *ctx, bool force, struct ksm_unmerge_cost *c);
/* Warn on stderr about every other program that controls KSM (ksmtuned). */
void warn_controllers(struct ksm_ctx *ctx);
/* Print the one line of what an unmerge did. */
void unmerge_done(const struct ksm_unmerge_cost *c);

/* cmd_profile.c */
/* Commit (or with @dry_run, print the plan of) a transaction; an exit status. */
int commit_txn(struct ksm_txn *txn, bool allow_unmerge, bool dry_run);
/* The same, and before an unmerge the plan contains, print its cost and
 * refuse one that cannot fit unless @force; after it, what was done. */
int commit_txn_checked(struct ksm_ctx *ctx, struct ksm_txn *txn, bool allow_unmerge, bool dry_run,
		       bool force);
int cmd_apply(struct ksm_ctx *ctx, int argc, char **argv);
int cmd_save(struct ksm_ctx *ctx, int argc, char **argv);
int cmd_merge_now(struct ksm_ctx *ctx, int argc, char **argv);
int cmd_recover(struct ksm_ctx *ctx, int argc, char **argv);

/* cmd_proc.c */
int cmd_exec(struct ksm_ctx *ctx, int argc, char **argv);
int cmd_ps(struct ksm_ctx *ctx, int argc, char **argv);
int cmd_wait(struct ksm_ctx *ctx, int argc, char **argv);

/* cmd_tune.c */
int cmd_tune(struct ksm_ctx *ctx, int argc, char **argv);
/* procs.c: the processes with KSM activity, who they are, and sums by group */
struct proc_entry {
	struct ksm_proc proc;
	struct ksm_proc_ident id; /* .present 0 when not read */
};

struct proc_table {
	struct proc_entry *v;
	size_t n, cap;
};

enum group_by { GROUP_NONE, GROUP_CGROUP, GROUP_UNIT, GROUP_COMM };

/* Sums over the processes of one key; strings point into the table. */
struct proc_group {
	const char *key;
	const char *unit; /* the unit all its processes share, else "" */
	int processes;
	int64_t ksm_merging_pages, ksm_zero_pages, ksm_rmap_items, saved_bytes, profit_bytes;
};

/* Every process with KSM activity (ksm_proc_foreach_counted()), with its
 * identity if @ident; @counts (may be NULL) as that call fills it. */
int proc_table_fill(struct ksm_ctx *ctx, struct proc_table *t, bool ident,
		    struct ksm_proc_counts *counts);
/* One process by pid; 0 or -errno (the library's message is recorded). */
int proc_table_add_pid(struct ksm_ctx *ctx, struct proc_table *t, int pid, bool ident);
void proc_table_free(struct proc_table *t);
/* The key of @e for @by: its cgroup, unit ("" if none) or comm. */
const char *proc_group_key(const struct proc_entry *e, enum group_by by);
/* Sum the table by @by, largest profit first; *out is freed with free(). */
int proc_table_group(const struct proc_table *t, enum group_by by, struct proc_group **out,
		     size_t *nout);

/* prom.c: the Prometheus text exposition format */
#define PROM_GLOBAL    (1u << 0) /* node_ksmd_*, ksm_* knobs, derived figures, ksmd CPU, boost */
#define PROM_PROCESSES (1u << 1) /* ksm_process_* and ksm_cgroup_* */
/* Write the metrics to @f; 0 or -errno (message recorded by the library). */
int prom_write(FILE *f, struct ksm_ctx *ctx, unsigned int what);
/* Write the metrics to @path atomically (temporary file + rename), or stdout
 * for NULL; an exit status, errors reported. */
int prom_output(struct ksm_ctx *ctx, unsigned int what, const char *path);

/* cmd_monitor.c */
int cmd_doctor(struct ksm_ctx *ctx, int argc, char **argv);
int cmd_watch(struct ksm_ctx *ctx, int argc, char **argv);
/* cmd_guided.c: merge-now --guided */
int cmd_merge_guided(struct ksm_ctx *ctx, int argc, char **argv);

/* cmd_estimate.c */
int cmd_estimate(struct ksm_ctx *ctx, int argc, char **argv);

/* targets.c: the targets of an estimate, --pid (repeatable), --cgroup,
 * --unit or --all, as options 'p', 'c', 'u' and 'a' of a command's table. */
#define TARGET_OPTIONS                                   \
	{ "pid", required_argument, NULL, 'p' },         \
	{ "cgroup", required_argument, NULL, 'c' },      \
	{ "unit", required_argument, NULL, 'u' },        \
	{ "all", no_argument, NULL, 'a' }
struct estimate_targets {
	int count;
	bool all;
};
/* Add to @est the target of option @c with @arg: 0 when added, -1 when @c is
 * not a target option, else an exit status (the error reported). */
int target_option(struct ksm_estimate *est, struct estimate_targets *t, int c, const char *arg);
/* After the options: an exit status when there is no target (@cmd names the
 * command in the message) or --all comes with another, else 0. */
int targets_check(const struct estimate_targets *t, const char *cmd);
/* cmd_merge.c */
int cmd_enable(struct ksm_ctx *ctx, int argc, char **argv);
int cmd_disable(struct ksm_ctx *ctx, int argc, char **argv);

/* cmd_partition.c */
int cmd_partition(struct ksm_ctx *ctx, int argc, char **argv);

#endif

// SPDX-License-Identifier: LGPL-2.1-or-later
/* apply, save, merge-now, recover: transactions, profiles and boosts. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ksmctl.h"

int commit_txn(struct ksm_txn *txn, bool allow_unmerge, bool dry_run)
{
	unsigned int flags = allow_unmerge ? KSM_TXN_ALLOW_UNMERGE : 0;
	struct ksm_txn_step steps[64];
	int r;

	/* The library's message names the knob, the cause and the fix. */
	if (!dry_run) {
		r = ksm_txn_commit(txn, flags, NULL);
		return r < 0 ? fail(r) : EXIT_SUCCESS;
	}
	r = ksm_txn_plan(txn, flags, steps, sizeof(steps) / sizeof(steps[0]), NULL);
	if (r < 0)
		return fail(r);
	for (int i = 0; i < r && i < (int)(sizeof(steps) / sizeof(steps[0])); i++) {
		char value[64];
		if (ksm_knob_format(steps[i].knob, steps[i].value, value, sizeof(value)) < 0)
			snprintf(value, sizeof(value), "%" PRId64, steps[i].value);
		printf("%s=%s\n", ksm_knob_info(steps[i].knob)->name, value);
	}
	return EXIT_SUCCESS;
}

int commit_txn_checked(struct ksm_ctx *ctx, struct ksm_txn *txn, bool allow_unmerge, bool dry_run,
		       bool force)
{
	unsigned int flags = allow_unmerge ? KSM_TXN_ALLOW_UNMERGE : 0;
	struct ksm_txn_step steps[64];
	struct ksm_unmerge_cost cost;
	bool unmerges = false;
	int n, r;

	if (dry_run)
		return commit_txn(txn, allow_unmerge, dry_run);
	/* Say what an unmerge in the plan costs, and refuse one that cannot fit. */
	n = ksm_txn_plan(txn, flags, steps, sizeof(steps) / sizeof(steps[0]), NULL);
	if (n < 0)
		return fail(n);
	for (int i = 0; i < n && i < (int)(sizeof(steps) / sizeof(steps[0])); i++)
		if (steps[i].knob == KSM_KNOB_RUN && steps[i].value == KSM_RUN_UNMERGE)
			unmerges = true;
	if (unmerges) {
		r = unmerge_check(ctx, force, &cost);
		if (r >= 0)
			return r;
	}
	r = commit_txn(txn, allow_unmerge, false);
	if (r == EXIT_SUCCESS && unmerges)
		unmerge_done(&cost);
	return r;
}

int cmd_apply(struct ksm_ctx *ctx, int argc, char **argv)
{
	bool allow_unmerge = false, dry_run = false, if_exists = false, force = false, start = false;
	const char *path = NULL; /* the default profile, below the system root */
	struct ksm_txn *txn;
	unsigned int line = 0;
	int64_t run;
	int r;

	r = parse_txn_options_ex(argc, argv, "apply", &allow_unmerge, &dry_run, &if_exists, &force,
				 &start);
	if (r >= 0)
		return r;
	if (argc - optind > 1)
		return usage_error("'apply' takes one profile");
	if (optind < argc)
		path = argv[optind];

	r = ksm_txn_new(ctx, &txn);
	if (r < 0)
		return fail(r);
	r = ksm_profile_load(txn, path, &line);
	if (r == -ENOENT && line == 0 && if_exists) {
		if (!start) {
			ksm_txn_unref(txn);
			return EXIT_SUCCESS;
		}
		r = 0; /* no profile: nothing to apply, but --start still starts */
	}
	if (r < 0) {
		r = fail(r);
		ksm_txn_unref(txn);
		return r;
	}
	/* --start: merging starts unless the profile decides run itself. */
	if (start && ksm_txn_get(txn, KSM_KNOB_RUN, &run) == 0) {
		r = ksm_txn_set(txn, KSM_KNOB_RUN, KSM_RUN_MERGE);
		if (r < 0) {
			r = fail(r);
			ksm_txn_unref(txn);
			return r;
		}
	}
	if (!dry_run)
		warn_controllers(ctx);
	r = commit_txn_checked(ctx, txn, allow_unmerge, dry_run, force);
	ksm_txn_unref(txn);
	return r;
}

int cmd_save(struct ksm_ctx *ctx, int argc, char **argv)
{
	const char *path = NULL; /* the default profile, below the system root */
	bool json = false;
	int r;

	PARSE_OPTIONS(argc, argv, &json, "save");
	if (json)
		return usage_error("'save' has no --json output");
	if (argc > 1)
		return usage_error("'save' takes one file");
	if (argc == 1)
		path = argv[0];
	if (path && strcmp(path, "-") == 0)
		r = ksm_profile_write(ctx, STDOUT_FILENO);
	else
		r = ksm_profile_save(ctx, path);
	return r < 0 ? fail(r) : EXIT_SUCCESS;
}

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

int cmd_merge_now(struct ksm_ctx *ctx, int argc, char **argv)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: the wait returns */
	unsigned long scans = 2;
	int timeout_ms = -1;
	int r;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--guided") == 0)
			return cmd_merge_guided(ctx, argc, argv);
	r = parse_scan_options(argc, argv, "merge-now", &scans, &timeout_ms);
	if (r >= 0)
		return r;

	/*
	 * The library restores the knobs when the wait ends, also by a signal:
	 * it checks the flag before every blocking step (the lock, the fsync,
	 * the walk over /proc), wherever the signal arrives.
	 */
	ksm_set_interrupt(ctx, &caught);
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	r = ksm_merge_now(ctx, (unsigned int)scans, timeout_ms);
	ksm_set_interrupt(ctx, NULL);
	if (caught) {
		error("interrupted; the knobs are restored");
		signal(caught, SIG_DFL);
		raise(caught);
		return 128 + caught;
	}
	return r < 0 ? fail(r) : EXIT_SUCCESS;
}

int cmd_recover(struct ksm_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	int r;

	PARSE_OPTIONS(argc, argv, &json, "recover");
	if (json || argc > 0)
		return usage_error("'recover' takes no arguments");
	r = ksm_boost_recover(ctx);
	if (r < 0)
		return fail(r);
	printf("%s\n", r > 0 ? "restored the knobs saved by an interrupted boost"
			     : "nothing to recover");
	return EXIT_SUCCESS;
}

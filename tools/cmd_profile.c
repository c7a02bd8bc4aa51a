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
	int failed = -1, r;

	if (dry_run) {
		r = ksm_txn_plan(txn, flags, steps, sizeof(steps) / sizeof(steps[0]), &failed);
		for (int i = 0; i < r && i < (int)(sizeof(steps) / sizeof(steps[0])); i++) {
			char value[64];
			if (ksm_knob_format(steps[i].knob, steps[i].value, value, sizeof(value)) < 0)
				snprintf(value, sizeof(value), "%" PRId64, steps[i].value);
			printf("%s=%s\n", ksm_knob_info(steps[i].knob)->name, value);
		}
	} else {
		r = ksm_txn_commit(txn, flags, &failed);
	}
	if (r >= 0)
		return EXIT_SUCCESS;
	if (failed >= 0)
		return fail_set(ksm_knob_info(failed), r);
	error("cannot change the knobs: %s", strerror(-r));
	return EXIT_FAILURE;
}

/* Line @no of @path, without its newline, for messages. */
static void file_line(const char *path, unsigned int no, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	unsigned int i = 0;

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(buf, (int)size, f) && ++i < no)
		;
	if (i != no)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

int cmd_apply(struct ksm_ctx *ctx, int argc, char **argv)
{
	bool allow_unmerge = false, dry_run = false, if_exists = false;
	const char *path = KSM_PROFILE_DEFAULT;
	struct ksm_txn *txn;
	unsigned int line;
	char text[256];
	int r;

	r = parse_txn_options(argc, argv, "apply", &allow_unmerge, &dry_run, &if_exists);
	if (r >= 0)
		return r;
	if (argc - optind > 1)
		return usage_error("'apply' takes one profile");
	if (optind < argc)
		path = argv[optind];

	r = ksm_txn_new(ctx, &txn);
	if (r == 0)
		r = ksm_txn_load(txn, path, &line);
	if (r == -ENOENT && line == 0 && if_exists) {
		ksm_txn_free(txn);
		return EXIT_SUCCESS;
	}
	if (r < 0) {
		file_line(path, line, text, sizeof(text));
		switch (-r) {
		case EBADMSG:
			error("%s:%u: expected 'knob = value': %s", path, line, text);
			break;
		case ENOKEY:
			error("%s:%u: unknown knob (see 'ksmctl knobs'): %s", path, line, text);
			break;
		case EPERM:
			error("%s:%u: a read-only counter cannot be set: %s", path, line, text);
			break;
		case EINVAL:
			error("%s:%u: invalid value (see 'ksmctl knobs' for ranges): %s", path, line, text);
			break;
		default:
			error("cannot read %s: %s", path, strerror(-r));
			break;
		}
		ksm_txn_free(txn);
		return EXIT_FAILURE;
	}
	r = commit_txn(txn, allow_unmerge, dry_run);
	ksm_txn_free(txn);
	return r;
}

int cmd_save(struct ksm_ctx *ctx, int argc, char **argv)
{
	const char *path = KSM_PROFILE_DEFAULT;
	bool json = false;
	int r;

	PARSE_OPTIONS(argc, argv, &json, "save");
	if (json)
		return usage_error("'save' has no --json output");
	if (argc > 1)
		return usage_error("'save' takes one file");
	if (argc == 1)
		path = argv[0];
	if (strcmp(path, "-") == 0)
		r = ksm_profile_write(ctx, STDOUT_FILENO);
	else
		r = ksm_profile_save(ctx, path);
	if (r < 0) {
		struct ksm_stats st = KSM_STATS_INIT;

		if (r == -ENOENT && ksm_stats_read(ctx, &st) == -ENOENT)
			return fail_no_ksm(ctx, r);
		error("cannot write %s: %s", strcmp(path, "-") ? path : "standard output",
		      strerror(-r));
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
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

	r = parse_scan_options(argc, argv, "merge-now", &scans, &timeout_ms);
	if (r >= 0)
		return r;

	/* The library restores the knobs when the wait ends, also by a signal. */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	r = ksm_scan_now(ctx, (unsigned int)scans, timeout_ms);
	if (caught) {
		error("interrupted; the knobs are restored");
		signal(caught, SIG_DFL);
		raise(caught);
		return 128 + caught;
	}
	switch (-r) {
	case 0:
		return EXIT_SUCCESS;
	case ETIMEDOUT:
		error("timed out before %lu full scan%s completed; the knobs are restored", scans,
		      scans == 1 ? "" : "s");
		return 3;
	case ENODATA:
		error("no process has memory registered for merging, so there is nothing to scan");
		return 5;
	case ENOENT:
		return fail_no_ksm(ctx, r);
	case EACCES:
	case EROFS:
		return fail_set(ksm_knob_info(KSM_KNOB_RUN), r);
	default:
		error("cannot merge now: %s", strerror(-r));
		return EXIT_FAILURE;
	}
}

int cmd_recover(struct ksm_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	int r;

	PARSE_OPTIONS(argc, argv, &json, "recover");
	if (json || argc > 0)
		return usage_error("'recover' takes no arguments");
	r = ksm_boost_recover(ctx);
	if (r < 0) {
		error("cannot restore the knobs of an interrupted boost: %s", strerror(-r));
		return EXIT_FAILURE;
	}
	printf("%s\n", r > 0 ? "restored the knobs saved by an interrupted boost"
			     : "nothing to recover");
	return EXIT_SUCCESS;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/* status, get, set, run/start, stop, unmerge, features, knobs. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ksmctl.h"

/* ------------------------------------------------------------------------ */
/* status                                                                    */

void print_status_human(const struct ksm_stats *st)
{
	char value[64], saved[32], profit[32], ratio[32];
	int64_t v;

	if (ksm_stats_value(st, KSM_KNOB_RUN, &v) == 0)
		printf("KSM: %s (run=%" PRId64 ")\n",
		       v == KSM_RUN_MERGE   ? "running" :
		       v == KSM_RUN_UNMERGE ? "stopped, all pages unmerged" :
					      "stopped, merged pages are kept", v);

	format_bytes(st->saved_bytes, saved, sizeof(saved));
	format_bytes(st->profit_bytes, profit, sizeof(profit));
	printf("Saved: %s (%" PRId64 " pages of %" PRId64 " B)\n", saved, st->saved_pages,
	       st->page_size);
	printf("Profit: %s (after KSM's own metadata)\n", profit);
	/* pages_sharing / pages_shared: each KSM page has one mapping more than this. */
	format_double(st->sharing_ratio, false, ratio, sizeof(ratio));
	printf("Sharing ratio: %s extra mappings per KSM page\n", ratio);
	printf("Effectiveness: %.1f%% of the pages KSM tracks are saved\n", st->effectiveness * 100.0);

	for (int kind = KSM_KIND_TUNABLE; kind <= KSM_KIND_COUNTER; kind++) {
		printf("\n%s:\n", kind == KSM_KIND_TUNABLE ? "Tunables" : "Counters");
		for (int i = 0; i < ksm_knob_count(); i++) {
			const struct ksm_knob_info *k = ksm_knob_info(i);
			if ((int)k->kind != kind || ksm_stats_value(st, i, &v) < 0)
				continue;
			if (ksm_knob_format(i, v, value, sizeof(value)) < 0)
				continue;
			printf("  %-36s %s\n", k->name, value);
		}
	}
}

void print_status_json(const struct ksm_stats *st, const struct policy *policy)
{
	char ratio[32], effectiveness[32];
	const char *sep = "";
	int64_t v;

	format_double(st->sharing_ratio, true, ratio, sizeof(ratio));
	format_double(st->effectiveness, true, effectiveness, sizeof(effectiveness));
	printf("{");
	for (int i = 0; i < ksm_knob_count(); i++) {
		if (ksm_stats_value(st, i, &v) < 0)
			continue;
		json_knob(sep, i, v);
		sep = ",";
	}
	printf("%s\n  \"page_size\": %" PRId64 ",\n  \"derived\": {\n"
	       "    \"page_size\": %" PRId64 ",\n"
	       "    \"saved_pages\": %" PRId64 ",\n"
	       "    \"saved_bytes\": %" PRId64 ",\n"
	       "    \"profit_bytes\": %" PRId64 ",\n"
	       "    \"sharing_ratio\": %s,\n"
	       "    \"effectiveness\": %s\n"
	       "  }",
	       sep, st->page_size, st->page_size, st->saved_pages, st->saved_bytes, st->profit_bytes,
	       ratio, effectiveness);
	if (policy) {
		printf(",\n  \"policy\": {\n    \"disabled\": %s,\n    \"profile\": ",
		       policy->disabled ? "true" : "false");
		json_string(policy->file);
		if (policy->disabled && policy->since >= 0) {
			char when[32];
			time_t t = (time_t)policy->since;
			struct tm tm;

			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
			printf(",\n    \"disabled_since\": \"%s\"", when);
		}
		printf("\n  }");
	}
	printf("\n}\n");
}

int cmd_status(struct ksm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct policy policy = { 0 };
	struct ksm_stats st;
	const char *output = NULL;
	bool json = false, prometheus = false;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":jpo:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'p':
			prometheus = true;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			return cmd_help(NULL, 2, (char *[]){ "help", "status", NULL });
		default:
			return option_error("status", c, argv);
		}
	}
	if (optind < argc)
		return usage_error("'status' takes no arguments");
	if (json && prometheus)
		return usage_error("--json and --prometheus exclude each other");
	if (output && !prometheus)
		return usage_error("--output needs --prometheus");
	if (prometheus)
		return prom_output(ctx, PROM_GLOBAL | PROM_PROCESSES, output);

	r = ksm_stats_read(ctx, &st, sizeof(st));
	if (r < 0)
		return fail(r);
	if (st.present == 0) {
		int64_t run;

		/* No global file at all: the library says why (e.g. partitions). */
		r = ksm_get(ctx, KSM_KNOB_RUN, &run);
		if (r < 0)
			return fail(r);
	}
	policy.file = ksm_profile_path(ctx);
	r = ksm_policy_get(ctx, &policy.since);
	if (r < 0)
		fprintf(stderr, "%s: warning: %s\n", progname, ksm_strerror(r));
	policy.disabled = r > 0;
	if (json) {
		print_status_json(&st, &policy);
	} else {
		print_status_human(&st);
		if (policy.disabled) {
			char when[64] = "an unknown time";
			time_t t = (time_t)policy.since;
			struct tm tm;

			if (policy.since >= 0)
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime_r(&t, &tm));
			printf("Policy: KSM disabled by policy since %s (run = 2 in %s);\n"
			       "        'ksmctl enable' undoes it\n", when, policy.file);
		}
	}
	return EXIT_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* get / set                                                                 */

static int lookup_or_usage(const char *name, int *knob)
{
	*knob = ksm_knob_lookup(name);
	if (*knob < 0)
		return usage_error("unknown knob '%s' (see 'ksmctl knobs')", name);
	return 0;
}

int cmd_get(struct ksm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "value", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int knobs[64];
	bool json = false, values_only = false;
	int c, status = EXIT_SUCCESS;
	const char *sep = "";

	optind = 0;
	while ((c = getopt_long(argc, argv, ":jnh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'n':
			values_only = true;
			break;
		case 'h':
			return cmd_help(NULL, 2, (char *[]){ "help", "get", NULL });
		default:
			return option_error("get", c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (json && values_only)
		return usage_error("'get' takes --json or --value, not both");
	if (argc == 0)
		return usage_error("'get' needs at least one knob");
	if (argc > (int)(sizeof(knobs) / sizeof(knobs[0])))
		return usage_error("too many knobs");
	for (int i = 0; i < argc; i++)
		if (lookup_or_usage(argv[i], &knobs[i]))
			return EXIT_USAGE;

	if (json)
		printf("{");
	for (int i = 0; i < argc; i++) {
		const struct ksm_knob_info *k = ksm_knob_info(knobs[i]);
		char value[64];
		int64_t v;
		int r = ksm_get(ctx, knobs[i], &v);

		if (r == 0)
			r = ksm_knob_format(knobs[i], v, value, sizeof(value));
		if (r < 0) {
			status = fail(r);
			continue;
		}
		if (json) {
			json_knob(sep, knobs[i], v);
			sep = ",";
		} else if (values_only) {
			printf("%s\n", value);
		} else {
			printf("%s=%s\n", k->name, value);
		}
	}
	if (json)
		printf("%s\n  \"page_size\": %ld\n}\n", sep, ksm_get_page_size(ctx));
	return status;
}

int cmd_set(struct ksm_ctx *ctx, int argc, char **argv)
{
	struct ksm_txn *txn;
	bool allow_unmerge = false, dry_run = false, force = false;
	int r;

	r = parse_txn_options_ex(argc, argv, "set", &allow_unmerge, &dry_run, NULL, &force, NULL);
	if (r >= 0)
		return r;
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return usage_error("'set' needs at least one KNOB=VALUE");

	r = ksm_txn_new(ctx, &txn);
	if (r < 0)
		return fail(r);
	/* Parse and validate everything before the first write. */
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '='), *name;
		int knob;

		if (!eq || eq == argv[i]) {
			ksm_txn_unref(txn);
			return usage_error("expected KNOB=VALUE, got '%s'", argv[i]);
		}
		*eq = '\0';
		/* Blanks around the name are ignored, as in a profile (ksm.conf(5)). */
		name = argv[i] + strspn(argv[i], " \t");
		for (char *e = eq; e > name && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = '\0';
		if (lookup_or_usage(name, &knob)) {
			ksm_txn_unref(txn);
			return EXIT_USAGE;
		}
		if (ksm_txn_get(txn, knob, NULL) == 1) {
			ksm_txn_unref(txn);
			return usage_error("%s is given twice", name);
		}
		r = ksm_txn_set_text(txn, knob, eq + 1);
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

/* ------------------------------------------------------------------------ */
/* run / stop / unmerge                                                      */

static int no_args(int argc, char **argv, const char *name)
{
	bool json = false;

	PARSE_OPTIONS(argc, argv, &json, name);
	if (json)
		return usage_error("'%s' has no --json output", name);
	if (argc > 0)
		return usage_error("'%s' takes no arguments", name);
	return -1;
}

int cmd_run(struct ksm_ctx *ctx, int argc, char **argv)
{
	int r = no_args(argc, argv, argv[0]);

	if (r >= 0)
		return r;
	/*
	 * ksm.service units of Debian and RHEL pass KSM_MAX_KERNEL_PAGES, for
	 * a knob that libksm's table does not have.
	 */
	if (getenv("KSM_MAX_KERNEL_PAGES") && ksm_knob_lookup("max_kernel_pages") < 0)
		fprintf(stderr, "%s: notice: KSM_MAX_KERNEL_PAGES is ignored: there is no "
				"max_kernel_pages knob (see 'ksmctl knobs')\n", progname);
	warn_controllers(ctx);
	r = ksm_start(ctx);
	if (r == -ECANCELED && strcmp(argv[0], "start") == 0) {
		/* ksm.service at boot: the policy is what was asked for. */
		fprintf(stderr, "%s: notice: %s\n", progname, ksm_strerror(r));
		return EXIT_SUCCESS;
	}
	if (r < 0)
		return fail(r);
	return EXIT_SUCCESS;
}

int cmd_stop(struct ksm_ctx *ctx, int argc, char **argv)
{
	int r = no_args(argc, argv, "stop");

	if (r >= 0)
		return r;
	r = ksm_stop(ctx);
	if (r < 0)
		return fail(r);
	return EXIT_SUCCESS;
}

static void print_unmerge_cost(const struct ksm_unmerge_cost *c)
{
	char need[32], avail[32];

	format_bytes(c->need_bytes, need, sizeof(need));
	if (c->available_bytes < 0) {
		printf("Unmerging will copy back %" PRId64 " pages (%s); the memory available is "
		       "unknown.\n", c->pages, need);
		return;
	}
	format_bytes(c->available_bytes, avail, sizeof(avail));
	printf("Unmerging will copy back %" PRId64 " pages (%s); %s of memory is available.\n",
	       c->pages, need, avail);
}

int unmerge_check(struct ksm_ctx *ctx, bool force, struct ksm_unmerge_cost *c)
{
	int r = ksm_unmerge_estimate(ctx, c, sizeof(*c));

	if (r < 0 && r != -ENOMEM)
		return fail(r);
	print_unmerge_cost(c);
	fflush(stdout);
	if (r == -ENOMEM && !force) {
		error("%s", ksm_strerror(r));
		error("nothing was unmerged; --force unmerges all the same");
		return EXIT_FAILURE;
	}
	return -1;
}

void unmerge_done(const struct ksm_unmerge_cost *c)
{
	char need[32];

	format_bytes(c->need_bytes, need, sizeof(need));
	printf("Unmerged %" PRId64 " pages (%s).\n", c->pages, need);
}

int cmd_unmerge(struct ksm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ksm_unmerge_cost cost;
	bool force = false;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			return cmd_help(NULL, 2, (char *[]){ "help", "unmerge", NULL });
		default:
			return option_error("unmerge", c, argv);
		}
	}
	if (optind < argc)
		return usage_error("'unmerge' takes no arguments");
	r = unmerge_check(ctx, force, &cost);
	if (r >= 0)
		return r;
	r = ksm_unmerge_all(ctx);
	if (r < 0)
		return fail(r);
	unmerge_done(&cost);
	return EXIT_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* features / knobs                                                          */

int cmd_features(struct ksm_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	uint64_t f;
	int r;

	PARSE_OPTIONS(argc, argv, &json, "features");
	if (argc > 0)
		return usage_error("'features' takes no arguments");
	r = ksm_probe_features(ctx, &f);
	if (r < 0)
		return fail(r);
	if (json)
		printf("{");
	for (int bit = 0; bit < 64; bit++) {
		const char *name = ksm_feature_name(UINT64_C(1) << bit);
		bool on = f & (UINT64_C(1) << bit);

		if (!name)
			continue;
		/* "has_": the knobs' own names hold numbers elsewhere. */
		if (json)
			printf("%s\n  \"has_%s\": %s", bit ? "," : "", name, on ? "true" : "false");
		else
			printf("%-20s %s\n", name, on ? "yes" : "no");
	}
	if (json)
		printf("\n}\n");
	return EXIT_SUCCESS;
}

static const char *kind_name(enum ksm_knob_kind kind)
{
	return kind == KSM_KIND_TUNABLE ? "tunable" : "counter";
}

static const char *type_name(enum ksm_knob_type type)
{
	switch (type) {
	case KSM_TYPE_UNSIGNED: return "unsigned";
	case KSM_TYPE_SIGNED: return "signed";
	case KSM_TYPE_BOOL: return "bool";
	case KSM_TYPE_ENUM: return "enum";
	}
	return "?";
}

static const char *requires_name(unsigned int req)
{
	if (req & KSM_REQUIRES_NO_MERGED_PAGES)
		return "no_merged_pages";
	if (req & KSM_REQUIRES_ADVISOR_NONE)
		return "advisor_none";
	return NULL;
}

int cmd_knobs(struct ksm_ctx *ctx, int argc, char **argv)
{
	bool json = false;

	PARSE_OPTIONS(argc, argv, &json, "knobs");
	if (argc > 0)
		return usage_error("'knobs' takes no arguments");

	if (json)
		printf("[");
	else
		printf("%-36s %-8s %-9s %-24s %-7s %s\n", "KNOB", "KIND", "TYPE", "RANGE", "SINCE",
		       "REQUIRES");
	for (int i = 0; i < ksm_knob_count(); i++) {
		const struct ksm_knob_info *k = ksm_knob_info(i);
		const char *req = requires_name(k->requires);
		char range[64] = "-";

		if (json) {
			printf("%s\n  {\"name\": \"%s\", \"kind\": \"%s\", \"type\": \"%s\"", i ? "," : "",
			       k->name, kind_name(k->kind), type_name(k->type));
			if (k->kind == KSM_KIND_TUNABLE)
				printf(", \"min\": %" PRId64 ", \"max\": %" PRId64, k->min, k->max);
			if (k->values) {
				printf(", \"values\": [");
				for (int v = 0; k->values[v]; v++)
					printf("%s\"%s\"", v ? ", " : "", k->values[v]);
				printf("]");
			}
			/* Absent, not null, when there is nothing (ksmctl(8), JSON OUTPUT). */
			if (req)
				printf(", \"requires\": \"%s\"", req);
			printf(", \"since\": \"%s\", \"description\": ", k->since);
			json_string(k->description);
			printf("}");
		} else {
			if (k->kind == KSM_KIND_TUNABLE)
				snprintf(range, sizeof(range), "%" PRId64 "..%" PRId64, k->min, k->max);
			printf("%-36s %-8s %-9s %-24s %-7s %s\n", k->name, kind_name(k->kind),
			       type_name(k->type), range, k->since, req ? req : "-");
		}
	}
	if (json)
		printf("\n]\n");
	return EXIT_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* Other programs that control KSM                                           */

static int warn_one(const struct ksm_controller *c, void *data)
{
	if (c->pid > 0)
		fprintf(stderr, "%s: warning: %s (pid %d) is running: %s; %s\n", progname, c->name,
			c->pid, c->changes, c->advice);
	else
		fprintf(stderr, "%s: warning: %s is active: %s; %s\n", progname, c->unit, c->changes,
			c->advice);
	return 0;
}

void warn_controllers(struct ksm_ctx *ctx)
{
	(void)ksm_controller_foreach(ctx, warn_one, NULL);
}

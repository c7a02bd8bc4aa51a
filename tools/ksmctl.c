// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksmctl - control Linux Kernel Samepage Merging.
 *
 * A thin front end: it parses arguments, calls libksm and prints. Every
 * decision about the kernel (names, ranges, prerequisites, ordering) is made
 * by the library; this file only turns results into text.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ksm.h"

#define EXIT_USAGE 2

static const char *progname = "ksmctl";

struct command {
	const char *name;
	int (*run)(struct ksm_ctx *ctx, int argc, char **argv);
	const char *args;
	const char *summary;
	const char *help; /* options and details, printed by 'ksmctl help CMD' */
};

static const struct command *find_command(const char *name);

/* ------------------------------------------------------------------------ */
/* Messages                                                                   */

__attribute__((format(printf, 1, 2)))
static void error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", progname);
	return EXIT_USAGE;
}

/* The accepted values of a knob, for error messages. */
static void describe_range(const struct ksm_knob_info *k, char *buf, size_t size)
{
	if (k->values) {
		size_t n = 0;
		n += (size_t)snprintf(buf + n, size - n, "one of");
		for (int i = 0; k->values[i] && n < size; i++)
			n += (size_t)snprintf(buf + n, size - n, "%s %s", i ? "," : "", k->values[i]);
		if (k->type == KSM_TYPE_ENUM && n < size && strcmp(k->name, "advisor_mode") != 0)
			snprintf(buf + n, size - n, " (or %" PRId64 "-%" PRId64 ")", k->min, k->max);
	} else if (k->type == KSM_TYPE_BOOL) {
		snprintf(buf, size, "0 or 1 (or yes/no, on/off)");
	} else {
		snprintf(buf, size, "an integer from %" PRId64 " to %" PRId64, k->min, k->max);
	}
}

/* Why setting @k failed, and how to fix it. */
static void explain_set_error(const struct ksm_knob_info *k, int err, char *buf, size_t size)
{
	char range[160];

	switch (-err) {
	case EBUSY:
		if (k->requires & KSM_REQUIRES_NO_MERGED_PAGES)
			snprintf(buf, size, "pages are still merged (run 'ksmctl unmerge' first)");
		else if (k->requires & KSM_REQUIRES_ADVISOR_NONE)
			snprintf(buf, size, "the advisor controls it while advisor_mode is scan-time "
					    "(run 'ksmctl set advisor_mode=none' first)");
		else
			snprintf(buf, size, "%s", strerror(-err));
		break;
	case EINVAL:
		describe_range(k, range, sizeof(range));
		snprintf(buf, size, "invalid value (expected %s)", range);
		break;
	case EPERM:
		snprintf(buf, size, "it is a read-only counter");
		break;
	case EACCES:
		snprintf(buf, size, "permission denied (KSM knobs are writable by root only)");
		break;
	case EROFS:
		snprintf(buf, size, "sysfs is mounted read-only (in a container, point --sysroot "
				    "at the host's root, e.g. /proc/1/root)");
		break;
	case ENOENT:
		snprintf(buf, size, "this kernel has no such knob");
		break;
	case ENOMEM:
		snprintf(buf, size, "the kernel ran out of memory");
		break;
	case EINTR:
		snprintf(buf, size, "interrupted by a signal; the kernel left run=0");
		break;
	default:
		snprintf(buf, size, "%s", strerror(-err));
		break;
	}
}

static int fail_set(const struct ksm_knob_info *k, int err)
{
	char why[256];

	explain_set_error(k, err, why, sizeof(why));
	error("cannot set %s: %s", k->name, why);
	return EXIT_FAILURE;
}

static int fail_no_ksm(struct ksm_ctx *ctx, int err)
{
	const char *root = ksm_get_sysroot(ctx);

	if (err == -ENOENT)
		error("KSM is not available: %s%ssys/kernel/mm/ksm does not exist "
		      "(kernel built without CONFIG_KSM, or sysfs not mounted)",
		      root, root[strlen(root) - 1] == '/' ? "" : "/");
	else
		error("cannot read KSM state: %s", strerror(-err));
	return EXIT_FAILURE;
}

/* ------------------------------------------------------------------------ */
/* Output helpers                                                            */

static void format_bytes(int64_t bytes, char *buf, size_t size)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)(bytes < 0 ? -bytes : bytes);
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%s%" PRId64 " B", bytes < 0 ? "-" : "", bytes < 0 ? -bytes : bytes);
	else
		snprintf(buf, size, "%s%.1f %s", bytes < 0 ? "-" : "", v, unit[u]);
}

/* A formatted value is either a decimal number or a name (advisor_mode). */
static bool is_number(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_value(const char *text)
{
	if (is_number(text))
		fputs(text, stdout);
	else
		json_string(text);
}

/* Parse the options of a command that only knows --json and --help. */
static int parse_json_option(int argc, char **argv, bool *json, const struct command *cmd)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			printf("Usage: %s %s %s\n\n%s\n%s", progname, cmd->name, cmd->args,
			       cmd->summary, cmd->help);
			return -1;
		default:
			return -EXIT_USAGE;
		}
	}
	return optind;
}

#define PARSE_OPTIONS(argc, argv, json, name)                                \
	do {                                                                 \
		int _i = parse_json_option(argc, argv, json, find_command(name)); \
		if (_i == -1)                                                \
			return EXIT_SUCCESS;                                 \
		if (_i < 0)                                                  \
			return usage_error("invalid option for '%s'", name); \
		argc -= _i;                                                  \
		argv += _i;                                                  \
	} while (0)

/* ------------------------------------------------------------------------ */
/* status                                                                    */

static void print_status_human(const struct ksm_stats *st)
{
	char value[64], saved[32], profit[32];
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
	printf("Sharing ratio: %.2f mappings per KSM page\n", st->sharing_ratio);
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

static void print_status_json(const struct ksm_stats *st)
{
	char value[64];
	const char *sep = "";
	int64_t v;

	printf("{");
	for (int i = 0; i < ksm_knob_count(); i++) {
		if (ksm_stats_value(st, i, &v) < 0 || ksm_knob_format(i, v, value, sizeof(value)) < 0)
			continue;
		printf("%s\n  \"%s\": ", sep, ksm_knob_info(i)->name);
		json_value(value);
		sep = ",";
	}
	printf("%s\n  \"derived\": {\n"
	       "    \"page_size\": %" PRId64 ",\n"
	       "    \"saved_pages\": %" PRId64 ",\n"
	       "    \"saved_bytes\": %" PRId64 ",\n"
	       "    \"profit_bytes\": %" PRId64 ",\n"
	       "    \"sharing_ratio\": %.6f,\n"
	       "    \"effectiveness\": %.6f\n"
	       "  }\n}\n",
	       sep, st->page_size, st->saved_pages, st->saved_bytes, st->profit_bytes,
	       st->sharing_ratio, st->effectiveness);
}

static int cmd_status(struct ksm_ctx *ctx, int argc, char **argv)
{
	struct ksm_stats st = KSM_STATS_INIT;
	bool json = false;
	int r;

	PARSE_OPTIONS(argc, argv, &json, "status");
	if (argc > 0)
		return usage_error("'status' takes no arguments");

	r = ksm_stats_read(ctx, &st);
	if (r < 0)
		return fail_no_ksm(ctx, r);
	if (json)
		print_status_json(&st);
	else
		print_status_human(&st);
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

static int cmd_get(struct ksm_ctx *ctx, int argc, char **argv)
{
	int knobs[64];
	bool json = false;
	int status = EXIT_SUCCESS;
	const char *sep = "";

	PARSE_OPTIONS(argc, argv, &json, "get");
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
			error("cannot read %s: %s", k->name,
			      r == -ENOENT ? "this kernel has no such knob" : strerror(-r));
			status = EXIT_FAILURE;
			continue;
		}
		if (json) {
			printf("%s\n  \"%s\": ", sep, k->name);
			json_value(value);
			sep = ",";
		} else {
			printf("%s=%s\n", k->name, value);
		}
	}
	if (json)
		printf("\n}\n");
	return status;
}

static int cmd_set(struct ksm_ctx *ctx, int argc, char **argv)
{
	struct {
		int knob;
		int64_t value;
	} req[64];
	bool json = false;

	PARSE_OPTIONS(argc, argv, &json, "set");
	if (json)
		return usage_error("'set' has no --json output");
	if (argc == 0)
		return usage_error("'set' needs at least one KNOB=VALUE");
	if (argc > (int)(sizeof(req) / sizeof(req[0])))
		return usage_error("too many assignments");

	/* Parse and validate everything before the first write. */
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		const struct ksm_knob_info *k;
		char range[160];

		if (!eq || eq == argv[i])
			return usage_error("expected KNOB=VALUE, got '%s'", argv[i]);
		*eq = '\0';
		if (lookup_or_usage(argv[i], &req[i].knob))
			return EXIT_USAGE;
		k = ksm_knob_info(req[i].knob);
		if (k->kind != KSM_KIND_TUNABLE)
			return fail_set(k, -EPERM);
		if (ksm_knob_parse(req[i].knob, eq + 1, &req[i].value) < 0) {
			describe_range(k, range, sizeof(range));
			error("invalid value '%s' for %s (expected %s)", eq + 1, k->name, range);
			return EXIT_FAILURE;
		}
	}
	for (int i = 0; i < argc; i++) {
		int r = ksm_set(ctx, req[i].knob, req[i].value);
		if (r < 0)
			return fail_set(ksm_knob_info(req[i].knob), r);
	}
	return EXIT_SUCCESS;
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

static int cmd_run(struct ksm_ctx *ctx, int argc, char **argv)
{
	int r = no_args(argc, argv, argv[0]);

	if (r >= 0)
		return r;
	/*
	 * ksm.service units of Debian and RHEL pass KSM_MAX_KERNEL_PAGES; the
	 * knob it set disappeared in Linux 2.6.33.
	 */
	if (getenv("KSM_MAX_KERNEL_PAGES"))
		fprintf(stderr, "%s: notice: KSM_MAX_KERNEL_PAGES is ignored: "
				"the max_kernel_pages knob was removed in Linux 2.6.33\n", progname);
	r = ksm_start(ctx);
	if (r < 0)
		return fail_set(ksm_knob_info(KSM_KNOB_RUN), r);
	return EXIT_SUCCESS;
}

static int cmd_stop(struct ksm_ctx *ctx, int argc, char **argv)
{
	int r = no_args(argc, argv, "stop");

	if (r >= 0)
		return r;
	r = ksm_stop(ctx);
	if (r < 0)
		return fail_set(ksm_knob_info(KSM_KNOB_RUN), r);
	return EXIT_SUCCESS;
}

static int cmd_unmerge(struct ksm_ctx *ctx, int argc, char **argv)
{
	int r = no_args(argc, argv, "unmerge");

	if (r >= 0)
		return r;
	r = ksm_unmerge_all(ctx);
	if (r < 0)
		return fail_set(ksm_knob_info(KSM_KNOB_RUN), r);
	return EXIT_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* features / knobs                                                          */

static int cmd_features(struct ksm_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	uint64_t f;
	int r;

	PARSE_OPTIONS(argc, argv, &json, "features");
	if (argc > 0)
		return usage_error("'features' takes no arguments");
	r = ksm_probe_features(ctx, &f);
	if (r < 0) {
		error("cannot probe features: %s", strerror(-r));
		return EXIT_FAILURE;
	}
	if (json)
		printf("{");
	for (int bit = 0; bit < 64; bit++) {
		const char *name = ksm_feature_name(UINT64_C(1) << bit);
		bool on = f & (UINT64_C(1) << bit);

		if (!name)
			continue;
		if (json)
			printf("%s\n  \"%s\": %s", bit ? "," : "", name, on ? "true" : "false");
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

static int cmd_knobs(struct ksm_ctx *ctx, int argc, char **argv)
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
			printf(", \"requires\": %s%s%s, \"since\": \"%s\", \"description\": ",
			       req ? "\"" : "", req ? req : "null", req ? "\"" : "", k->since);
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

static int cmd_help(struct ksm_ctx *ctx, int argc, char **argv);

static const struct command commands[] = {
	{ "status", cmd_status, "[--json]", "Show whether KSM runs, every tunable and counter, and the savings.",
	  "\nOptions:\n  -j, --json   print one JSON object; keys are the sysfs file names,\n"
	  "               plus \"derived\" with page_size, saved_pages, saved_bytes,\n"
	  "               profit_bytes, sharing_ratio and effectiveness\n" },
	{ "get", cmd_get, "[--json] KNOB...", "Print knobs as KNOB=VALUE.",
	  "\nOptions:\n  -j, --json   print one JSON object\n" },
	{ "set", cmd_set, "KNOB=VALUE...", "Validate every assignment, then write them in order.",
	  "\nNothing is written unless every value is valid. Writing stops at the first\n"
	  "failure, which names the knob, the reason and the fix.\n" },
	{ "run", cmd_run, "", "Start merging (run=1).", "" },
	{ "start", cmd_run, "", "Alias of 'run', for ksm.service units (KSM_MAX_KERNEL_PAGES is ignored).", "" },
	{ "stop", cmd_stop, "", "Stop merging; merged pages stay merged (run=0).", "" },
	{ "unmerge", cmd_unmerge, "", "Stop merging and unmerge every page (run=2).",
	  "\nUnmerging copies every shared page back: memory use can grow by the\n"
	  "pages_sharing count at once.\n" },
	{ "features", cmd_features, "[--json]", "Show what this kernel offers, detected by files and errno.",
	  "\nOptions:\n  -j, --json   print one JSON object of booleans\n" },
	{ "knobs", cmd_knobs, "[--json]", "List every knob libksm knows: kind, type, range, prerequisites.",
	  "\nOptions:\n  -j, --json   print a JSON array\n" },
	{ "help", cmd_help, "[COMMAND]", "Show help for ksmctl or one command.", "" },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void print_usage(void)
{
	printf("Usage: %s [--sysroot DIR] COMMAND [ARGS...]\n\n"
	       "Control Linux Kernel Samepage Merging (KSM).\n\n"
	       "Commands:\n", progname);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char head[40];
		snprintf(head, sizeof(head), "%s %s", commands[i].name, commands[i].args);
		printf("  %-26s %s\n", head, commands[i].summary);
	}
	printf("\nOptions:\n"
	       "      --sysroot DIR  use DIR as the system root (default: $KSM_SYSROOT or /)\n"
	       "  -h, --help         show this help\n"
	       "  -V, --version      show the version\n\n"
	       "Exit status: 0 success, 1 failure, 2 usage error.\n"
	       "See ksmctl(8) for details.\n");
}

static int cmd_help(struct ksm_ctx *ctx, int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		print_usage();
		return EXIT_SUCCESS;
	}
	if (argc > 2)
		return usage_error("'help' takes at most one command");
	cmd = find_command(argv[1]);
	if (!cmd)
		return usage_error("unknown command '%s'", argv[1]);
	printf("Usage: %s %s %s\n\n%s\n%s", progname, cmd->name, cmd->args, cmd->summary, cmd->help);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sysroot", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *sysroot = NULL;
	const struct command *cmd;
	struct ksm_ctx *ctx = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			sysroot = optarg;
			break;
		case 'h':
			print_usage();
			return EXIT_SUCCESS;
		case 'V':
			printf("ksmctl (libksm) %s\n", PACKAGE_VERSION);
			return EXIT_SUCCESS;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", progname);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("missing command");
	cmd = find_command(argv[optind]);
	if (!cmd)
		return usage_error("unknown command '%s'", argv[optind]);
	/* These read only the library's own tables. */
	if (cmd->run == cmd_help || cmd->run == cmd_knobs)
		return cmd->run(NULL, argc - optind, argv + optind);

	r = ksm_new_at(&ctx, sysroot);
	if (r < 0) {
		const char *root = sysroot ? sysroot : getenv("KSM_SYSROOT");
		error("cannot open system root '%s': %s", root && *root ? root : "/", strerror(-r));
		return EXIT_FAILURE;
	}
	r = cmd->run(ctx, argc - optind, argv + optind);
	ksm_unref(ctx);
	return r;
}

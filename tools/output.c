// SPDX-License-Identifier: LGPL-2.1-or-later
/* Messages and output helpers shared by the commands. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ksmctl.h"

__attribute__((format(printf, 1, 2)))
void error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

__attribute__((format(printf, 1, 2)))
int usage_error(const char *fmt, ...)
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
void describe_range(const struct ksm_knob_info *k, char *buf, size_t size)
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
void explain_set_error(const struct ksm_knob_info *k, int err, char *buf, size_t size)
{
	char range[160];

	switch (-err) {
	case EBUSY:
		if (k->requires & KSM_REQUIRES_NO_MERGED_PAGES)
			snprintf(buf, size, "pages are still merged (run 'ksmctl unmerge' first, "
					    "or let 'ksmctl set' and 'apply' do it with --allow-unmerge)");
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

int fail_set(const struct ksm_knob_info *k, int err)
{
	char why[256];

	explain_set_error(k, err, why, sizeof(why));
	error("cannot set %s: %s", k->name, why);
	return EXIT_FAILURE;
}

int fail_no_ksm(struct ksm_ctx *ctx, int err)
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

void format_bytes(int64_t bytes, char *buf, size_t size)
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
bool is_number(const char *s)
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

void json_string(const char *s)
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

void json_value(const char *text)
{
	if (is_number(text))
		fputs(text, stdout);
	else
		json_string(text);
}

/* Parse the options of a command that only knows --json and --help. */
int parse_json_option(int argc, char **argv, bool *json, const struct command *cmd)
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

int parse_scan_options(int argc, char **argv, const char *cmd, unsigned long *scans, int *timeout_ms)
{
	static const struct option opts[] = {
		{ "scans", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	double secs;
	char *end;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+n:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			*scans = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' || *scans == 0 ||
			    *scans > UINT32_MAX)
				return usage_error("--scans takes a number of full scans, not '%s'", optarg);
			break;
		case 't':
			errno = 0;
			secs = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(secs >= 0) || secs > INT32_MAX / 1000)
				return usage_error("--timeout takes seconds, not '%s'", optarg);
			*timeout_ms = (int)(secs * 1000.0 + 0.5);
			break;
		case 'h':
			return cmd_help(NULL, 2, (char *[]){ "help", (char *)cmd, NULL });
		default:
			return usage_error("invalid option for '%s'", cmd);
		}
	}
	if (optind < argc)
		return usage_error("'%s' takes no arguments", cmd);
	return -1;
}

int parse_txn_options(int argc, char **argv, const char *cmd, bool *allow_unmerge, bool *dry_run,
		      bool *if_exists)
{
	static const struct option opts[] = {
		{ "allow-unmerge", no_argument, NULL, 'u' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "if-exists", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, if_exists ? "+uneh" : "+unh", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			*allow_unmerge = true;
			break;
		case 'n':
			*dry_run = true;
			break;
		case 'e':
			if (!if_exists)
				return usage_error("invalid option for '%s'", cmd);
			*if_exists = true;
			break;
		case 'h':
			return cmd_help(NULL, 2, (char *[]){ "help", (char *)cmd, NULL });
		default:
			return usage_error("invalid option for '%s'", cmd);
		}
	}
	return -1;
}

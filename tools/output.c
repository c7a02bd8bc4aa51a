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

const char *usage_command;

__attribute__((format(printf, 1, 2)))
int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (usage_command)
		fprintf(stderr, "\nTry '%s help %s' for more information.\n", progname, usage_command);
	else
		fprintf(stderr, "\nTry '%s --help' for more information.\n", progname);
	return EXIT_USAGE;
}

int option_error(const char *cmd, int c, char **argv)
{
	char text[64];

	/* getopt_long() itself is silent (opterr is 0): one message per error. */
	if (c != ':' && optopt && optopt != '?')
		snprintf(text, sizeof(text), "-%c", optopt);
	else if (optind > 0)
		snprintf(text, sizeof(text), "%.*s", (int)strcspn(argv[optind - 1], "="),
			 argv[optind - 1]);
	else
		snprintf(text, sizeof(text), "?");
	if (c == ':')
		return usage_error("option '%s' of '%s' needs a value", text, cmd);
	return usage_error("'%s' has no option '%s'", cmd, text);
}

int exit_status(int err)
{
	switch (-err) {
	case 0:
		return EXIT_SUCCESS;
	case ETIMEDOUT:
		return EXIT_TIMEOUT;
	case EHOSTDOWN:
		return EXIT_NOT_RUNNING;
	case ENODATA:
		return EXIT_NOTHING_REGISTERED;
	default:
		return EXIT_FAILURE;
	}
}

int fail(int err)
{
	error("%s", ksm_strerror(err));
	return exit_status(err);
}

/* ------------------------------------------------------------------------ */
/* Output helpers                                                            */

void format_bytes(int64_t bytes, char *buf, size_t size)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	/* The magnitude as unsigned: -INT64_MIN does not fit an int64_t. */
	uint64_t mag = bytes < 0 ? -(uint64_t)bytes : (uint64_t)bytes;
	double v = (double)mag;
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%s%" PRIu64 " B", bytes < 0 ? "-" : "", mag);
	else
		snprintf(buf, size, "%s%.1f %s", bytes < 0 ? "-" : "", v, unit[u]);
}

/*
 * A fraction as status prints it: up to six significant digits ("%.6g"),
 * for people and JSON alike; with @json, always with a decimal point or an
 * exponent, so that it reads as a floating-point number (249.0, not 249).
 */
void format_double(double v, bool json, char *buf, size_t size)
{
	snprintf(buf, size, "%.6g", v);
	if (json && !strpbrk(buf, ".en"))
		strncat(buf, ".0", size - strlen(buf) - 1);
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

/*
 * The code point of the valid UTF-8 sequence of two or more bytes at @s, its
 * length in *len; -1 for an invalid byte (overlong forms, surrogates, beyond
 * U+10FFFF, a lone or cut sequence).
 */
static long utf8_decode(const unsigned char *s, size_t *len)
{
	long cp;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return -1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = n;
	return cp;
}

const char *text_escape(const char *s, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (size == 0)
		return buf;
	while (*p) {
		char piece[8];
		size_t n = 1, plen;
		long cp = *p >= 0x80 ? utf8_decode(p, &n) : *p;

		if (cp < 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
			/* Control characters and invalid bytes: each byte as \xHH. */
			plen = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", *p);
			n = 1;
		} else if (cp == '\\') {
			memcpy(piece, "\\\\", 2);
			plen = 2;
		} else {
			memcpy(piece, p, n);
			plen = n;
		}
		if (o + plen >= size)
			break; /* whole pieces only */
		memcpy(buf + o, piece, plen);
		o += plen;
		p += n;
	}
	buf[o] = '\0';
	return buf;
}

void json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	while (*p) {
		size_t n = 1;
		long cp = *p >= 0x80 ? utf8_decode(p, &n) : *p;

		if (cp < 0)
			fputs("\\ufffd", stdout); /* an invalid byte: U+FFFD */
		else if (cp == '"' || cp == '\\')
			printf("\\%c", (int)cp);
		else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			printf("\\u%04lx", cp);
		else
			fwrite(p, 1, n, stdout);
		p += n;
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

void json_knob(const char *sep, int knob, int64_t value)
{
	const struct ksm_knob_info *k = ksm_knob_info(knob);

	/* Every knob as a number; an enum also by name (ksmctl(8), JSON OUTPUT). */
	printf("%s\n  \"%s\": %" PRId64, sep, k->name, value);
	if (k->type == KSM_TYPE_ENUM && k->values && value >= k->min && value <= k->max) {
		printf(",\n  \"%s_name\": ", k->name);
		json_string(k->values[value]);
	}
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
	while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			printf("Usage: %s %s %s\n\n%s\n%s", progname, cmd->name, cmd->args,
			       cmd->summary, cmd->help);
			return -1;
		default:
			return -option_error(cmd->name, c, argv);
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
	while ((c = getopt_long(argc, argv, ":n:t:h", opts, NULL)) != -1) {
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
			return option_error(cmd, c, argv);
		}
	}
	if (optind < argc)
		return usage_error("'%s' takes no arguments", cmd);
	return -1;
}

int parse_txn_options(int argc, char **argv, const char *cmd, bool *allow_unmerge, bool *dry_run,
		      bool *if_exists)
{
	return parse_txn_options_ex(argc, argv, cmd, allow_unmerge, dry_run, if_exists, NULL, NULL);
}

int parse_txn_options_ex(int argc, char **argv, const char *cmd, bool *allow_unmerge, bool *dry_run,
			 bool *if_exists, bool *force, bool *start)
{
	static const struct option opts[] = {
		{ "allow-unmerge", no_argument, NULL, 'u' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "if-exists", no_argument, NULL, 'e' },
		{ "force", no_argument, NULL, 'f' },
		{ "start", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":unefsh", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			*allow_unmerge = true;
			break;
		case 'n':
			*dry_run = true;
			break;
		case 'e':
			if (!if_exists)
				return option_error(cmd, '?', argv);
			*if_exists = true;
			break;
		case 'f':
			if (!force)
				return option_error(cmd, '?', argv);
			*force = true;
			break;
		case 's':
			if (!start)
				return option_error(cmd, '?', argv);
			*start = true;
			break;
		case 'h':
			return cmd_help(NULL, 2, (char *[]){ "help", (char *)cmd, NULL });
		default:
			return option_error(cmd, c, argv);
		}
	}
	return -1;
}

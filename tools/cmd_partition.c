// SPDX-License-Identifier: LGPL-2.1-or-later
/* partition: list, create, remove, merge, unmerge and status of Selective KSM partitions. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksmctl.h"

/* ------------------------------------------------------------------------ */
/* Arguments                                                                 */

/* The options of a subcommand; -1 to go on (optind is the first operand), else an exit status. */
static int parse_sub_options(int argc, char **argv, const char *shortopts, const struct option *opts,
			     int (*handle)(int c, void *data), void *data)
{
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (c == 'h')
			return cmd_help(NULL, 2, (char *[]){ "help", "partition", NULL });
		if (c == '?' || c == ':') {
			char cmd[64];

			snprintf(cmd, sizeof(cmd), "partition %s", argv[0]);
			return option_error(cmd, c, argv);
		}
		if ((r = handle(c, data)) < 0)
			return usage_error("invalid option for 'partition %s'", argv[0]);
		if (r > 0)
			return r;
	}
	return -1;
}

/* A name the library refuses is a usage error; it says why. */
static int check_name(const char *name)
{
	int r = ksm_partition_name_check(name);

	if (r < 0)
		return usage_error("%s", ksm_strerror(r));
	return 0;
}

/* A process ID: a positive decimal number. */
static int parse_pid(const char *s, int *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || *s < '0' || *s > '9' || v <= 0 || v > INT32_MAX)
		return usage_error("invalid process ID '%s'", s);
	*pid = (int)v;
	return 0;
}

/* An address or length: 0x-prefixed hexadecimal or decimal. */
static int parse_u64(const char *s, const char *what, uint64_t *value)
{
	const char *digits = s;
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		digits = s + 2;
		base = 16;
	}
	errno = 0;
	if (!((*digits >= '0' && *digits <= '9') ||
	      (base == 16 && ((*digits >= 'a' && *digits <= 'f') || (*digits >= 'A' && *digits <= 'F')))))
		return usage_error("invalid %s '%s' (hexadecimal with 0x, or decimal)", what, s);
	*value = strtoull(digits, &end, base);
	if (errno || *end)
		return usage_error("invalid %s '%s' (hexadecimal with 0x, or decimal)", what, s);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* list                                                                      */

struct list_state {
	bool json;
	char **names;
	size_t n, cap;
};

/* Collect the names first: nothing is printed unless the walk succeeds. */
static int collect_one(const char *name, void *data)
{
	struct list_state *ls = data;

	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 16;
		char **nn = realloc(ls->names, cap * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		ls->names = nn;
		ls->cap = cap;
	}
	ls->names[ls->n] = strdup(name);
	if (!ls->names[ls->n])
		return -ENOMEM;
	ls->n++;
	return 0;
}

static int handle_json(int c, void *data)
{
	if (c != 'j')
		return -1;
	*(bool *)data = true;
	return 0;
}

static const struct option json_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static int sub_list(struct ksm_ctx *ctx, int argc, char **argv)
{
	struct list_state ls = { 0 };
	int r;

	r = parse_sub_options(argc, argv, ":jh", json_opts, handle_json, &ls.json);
	if (r >= 0)
		return r;
	if (optind < argc)
		return usage_error("'partition list' takes no arguments");

	r = ksm_partition_foreach(ctx, collect_one, &ls);
	if (r < 0) {
		r = fail(r);
	} else {
		if (ls.json)
			printf("[");
		for (size_t i = 0; i < ls.n; i++) {
			if (ls.json) {
				printf("%s\n  {\"name\": ", i ? "," : "");
				json_string(ls.names[i]);
				printf("}");
			} else {
				char name[4 * 256];

				printf("%s\n", text_escape(ls.names[i], name, sizeof(name)));
			}
		}
		if (ls.json)
			printf("%s]\n", ls.n ? "\n" : "");
		r = EXIT_SUCCESS;
	}
	for (size_t i = 0; i < ls.n; i++)
		free(ls.names[i]);
	free(ls.names);
	return r;
}

/* ------------------------------------------------------------------------ */
/* create / remove                                                           */

struct create_opts {
	unsigned int mode;
	bool exclusive;
};

static int handle_create(int c, void *data)
{
	struct create_opts *o = data;
	char *end;
	unsigned long v;

	switch (c) {
	case 'm':
		errno = 0;
		v = strtoul(optarg, &end, 8);
		if (errno || end == optarg || *end || optarg[0] < '0' || optarg[0] > '7' || v > 0777)
			return usage_error("--mode takes permission bits in octal (0 to 0777), not '%s'",
					   optarg);
		o->mode = (unsigned int)v;
		return 0;
	case 'x':
		o->exclusive = true;
		return 0;
	}
	return -1;
}

static int sub_create(struct ksm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "exclusive", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct create_opts o = { .mode = 0600 };
	struct ksm_partition *part;
	const char *name;
	int r;

	r = parse_sub_options(argc, argv, ":m:xh", opts, handle_create, &o);
	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return usage_error("'partition create' needs exactly one NAME");
	name = argv[optind];
	if (check_name(name))
		return EXIT_USAGE;
	/*
	 * A partition that is not a directory lives only as long as the handle
	 * that made it, which ends with this process: it cannot be created
	 * from here for later use.
	 */
	r = ksm_partition_open(ctx, name, KSM_PERSIST | KSM_CREAT | (o.exclusive ? KSM_EXCL : 0),
			       o.mode, &part);
	if (r < 0)
		return fail(r);
	ksm_partition_unref(part);
	return EXIT_SUCCESS;
}

static int handle_remove(int c, void *data)
{
	if (c != 'u')
		return -1;
	*(bool *)data = true;
	return 0;
}

static int sub_remove(struct ksm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow-unmerge", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool allow_unmerge = false;
	const char *name;
	int r;

	r = parse_sub_options(argc, argv, ":uh", opts, handle_remove, &allow_unmerge);
	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return usage_error("'partition remove' needs exactly one NAME");
	name = argv[optind];
	if (check_name(name))
		return EXIT_USAGE;
	r = ksm_partition_unlink(ctx, name, allow_unmerge ? KSM_UNLINK_ALLOW_UNMERGE : 0);
	return r < 0 ? fail(r) : EXIT_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* merge / unmerge                                                           */

static int no_options(int c, void *data)
{
	return -1;
}

static const struct option help_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Open @name with @flags; an exit status on failure (>= 0), else -1. */
static int open_part(struct ksm_ctx *ctx, const char *name, unsigned int flags,
		     struct ksm_partition **part)
{
	int r;

	if (check_name(name))
		return EXIT_USAGE;
	r = ksm_partition_open(ctx, name, flags, 0, part);
	return r < 0 ? fail(r) : -1;
}

static int sub_merge(struct ksm_ctx *ctx, int argc, char **argv)
{
	struct ksm_partition *part;
	uint64_t addr, len;
	const char *name;
	int pid, r;

	r = parse_sub_options(argc, argv, ":h", help_opts, no_options, NULL);
	if (r >= 0)
		return r;
	if (argc - optind != 4)
		return usage_error("'partition merge' needs NAME PID ADDR LEN");
	name = argv[optind];
	if (parse_pid(argv[optind + 1], &pid) || parse_u64(argv[optind + 2], "address", &addr) ||
	    parse_u64(argv[optind + 3], "length", &len))
		return EXIT_USAGE;
	r = open_part(ctx, name, KSM_SYNC, &part);
	if (r >= 0)
		return r;

	r = ksm_partition_merge(part, pid, addr, len);
	if (r < 0)
		r = fail(r);
	ksm_partition_unref(part);
	return r;
}

static int sub_unmerge(struct ksm_ctx *ctx, int argc, char **argv)
{
	struct ksm_partition *part;
	uint64_t addr = 0, len = 0;
	const char *name;
	int pid, r;

	r = parse_sub_options(argc, argv, ":h", help_opts, no_options, NULL);
	if (r >= 0)
		return r;
	if (argc - optind != 2 && argc - optind != 4)
		return usage_error("'partition unmerge' needs NAME PID, or NAME PID ADDR LEN");
	name = argv[optind];
	if (parse_pid(argv[optind + 1], &pid))
		return EXIT_USAGE;
	if (argc - optind == 4) {
		if (parse_u64(argv[optind + 2], "address", &addr) ||
		    parse_u64(argv[optind + 3], "length", &len))
			return EXIT_USAGE;
		if (len == 0)
			return usage_error("LEN must not be 0 (leave out ADDR and LEN for the whole process)");
	}
	r = open_part(ctx, name, KSM_SYNC, &part);
	if (r >= 0)
		return r;

	r = ksm_partition_unmerge(part, pid, addr, len);
	if (r < 0)
		r = fail(r);
	ksm_partition_unref(part);
	return r;
}

/* ------------------------------------------------------------------------ */
/* status                                                                    */

static int sub_status(struct ksm_ctx *ctx, int argc, char **argv)
{
	struct ksm_stats st;
	struct ksm_partition *part;
	const char *name;
	bool json = false;
	int r;

	r = parse_sub_options(argc, argv, ":jh", json_opts, handle_json, &json);
	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return usage_error("'partition status' needs exactly one NAME");
	name = argv[optind];
	r = open_part(ctx, name, 0, &part);
	if (r >= 0)
		return r;
	r = ksm_partition_stats_read(part, &st, sizeof(st));
	if (r < 0)
		r = fail(r);
	ksm_partition_unref(part);
	if (r > 0)
		return r;
	if (json) {
		print_status_json(&st, NULL);
	} else {
		printf("Partition: %s\n", name);
		print_status_human(&st);
	}
	return EXIT_SUCCESS;
}

/* ------------------------------------------------------------------------ */

int cmd_partition(struct ksm_ctx *ctx, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct ksm_ctx *ctx, int argc, char **argv);
	} subs[] = {
		{ "list", sub_list },       { "create", sub_create }, { "remove", sub_remove },
		{ "merge", sub_merge },     { "unmerge", sub_unmerge }, { "status", sub_status },
	};

	if (argc < 2)
		return usage_error("'partition' needs a subcommand: list, create, remove, merge, "
				   "unmerge or status");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)
		return cmd_help(NULL, 2, (char *[]){ "help", "partition", NULL });
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(ctx, argc - 1, argv + 1);
	return usage_error("unknown partition subcommand '%s'", argv[1]);
}

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
/* Messages                                                                  */

static int fail_unavailable(void)
{
	error("Selective KSM partitions are not available on this system");
	fprintf(stderr,
		"  Missing: the kernel interface of the Selective KSM patches (feature\n"
		"  'selective_ksm', see 'ksmctl features'), and no partition syscall numbers\n"
		"  are configured (LIBKSM_SKSM_SYSCALLS). Selective KSM is a proposal that\n"
		"  mainline Linux has not merged: mainline KSM merges across the whole system\n"
		"  and cannot keep trust domains apart.\n"
		"  Instead, without isolation: 'ksmctl merge-now' to merge at once, or\n"
		"  'ksmctl exec' to start a program with merging enabled and 'ksmctl run' to\n"
		"  let ksmd merge. Merge only memory of one trust domain.\n");
	return EXIT_FAILURE;
}

/* The backends libksm will use; -1 to go on, else an exit status. */
static int get_backends(struct ksm_ctx *ctx, int *bits)
{
	int b = ksm_partition_backends(ctx);

	if (b == -EINVAL) {
		error("LIBKSM_SKSM_SYSCALLS must be \"OPEN,MERGE\", two syscall numbers (or empty)");
		return EXIT_FAILURE;
	}
	if (b < 0) {
		error("cannot probe for partitions: %s", strerror(-b));
		return EXIT_FAILURE;
	}
	if (b == 0)
		return fail_unavailable();
	*bits = b;
	return -1;
}

static int fail_transient(void)
{
	error("partitions cannot be kept here: with partition syscalls configured they are "
	      "made with ksm_open() and exist only while a process holds their descriptor; "
	      "open them with libksm in the process that merges");
	return EXIT_FAILURE;
}

/* Why a partition call on @name failed with -@err. */
static int fail_partition(const char *what, const char *name, int err)
{
	const char *why;

	switch (-err) {
	case ENOENT:
		why = "no such partition (see 'ksmctl partition list')";
		break;
	case EEXIST:
		why = "it already exists";
		break;
	case EACCES:
		why = "permission denied (creating and removing partitions needs root; merging "
		      "needs the write access that the partition's mode grants)";
		break;
	case EROFS:
		why = "sysfs is mounted read-only (in a container, point --sysroot at the host's "
		      "root, e.g. /proc/1/root)";
		break;
	case EBUSY:
		why = "on this kernel removing a partition unmerges every merged page of the "
		      "system, in all partitions; pass --allow-unmerge to accept that";
		break;
	case ESRCH:
		why = "no such process";
		break;
	case EIO:
		why = "the kernel accepted the name but no partition appeared";
		break;
	case ENOMEM:
		why = "the kernel ran out of memory";
		break;
	case EOPNOTSUPP:
		why = "the configured partition syscalls are not Selective KSM's on this kernel "
		      "(check LIBKSM_SKSM_SYSCALLS and the build option sksm_syscalls)";
		break;
	default:
		why = strerror(-err);
		break;
	}
	error("cannot %s partition '%s': %s", what, name, why);
	return EXIT_FAILURE;
}

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
		if (c == '?' || (r = handle(c, data)) < 0)
			return usage_error("invalid option for 'partition %s'", argv[0]);
		if (r > 0)
			return r;
	}
	return -1;
}

static int check_name(const char *name)
{
	int r = ksm_partition_name_check(name);

	if (r == -ENAMETOOLONG)
		return usage_error("partition name '%s' is longer than %d characters", name,
				   KSM_PARTITION_NAME_MAX);
	if (r < 0)
		return usage_error("invalid partition name '%s': use letters, digits, '_', '.' and "
				   "'-', not first '.' or '-', and not the name of a KSM knob, "
				   "'control' or 'partition'", name);
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
	int n;
};

static int print_one(const char *name, void *data)
{
	struct list_state *ls = data;

	if (ls->json) {
		printf("%s\n  {\"name\": ", ls->n ? "," : "");
		json_string(name);
		printf("}");
	} else {
		printf("%s\n", name);
	}
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
	int bits, r;

	r = parse_sub_options(argc, argv, "jh", json_opts, handle_json, &ls.json);
	if (r >= 0)
		return r;
	if (optind < argc)
		return usage_error("'partition list' takes no arguments");
	r = get_backends(ctx, &bits);
	if (r >= 0)
		return r;
	if (!(bits & KSM_PARTITION_SYSFS)) {
		error("cannot list partitions: partitions made with the ksm_open() syscall have no "
		      "name the kernel lists");
		return EXIT_FAILURE;
	}

	if (ls.json)
		printf("[");
	r = ksm_partition_foreach(ctx, print_one, &ls);
	if (r < 0) {
		if (ls.json)
			printf("]\n");
		error("cannot list partitions: %s", strerror(-r));
		return EXIT_FAILURE;
	}
	if (ls.json)
		printf("%s]\n", ls.n ? "\n" : "");
	return EXIT_SUCCESS;
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
	int bits, r;

	r = parse_sub_options(argc, argv, "m:xh", opts, handle_create, &o);
	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return usage_error("'partition create' needs exactly one NAME");
	name = argv[optind];
	if (check_name(name))
		return EXIT_USAGE;
	r = get_backends(ctx, &bits);
	if (r >= 0)
		return r;
	/* ksm_partition_open() uses the syscalls whenever they are configured. */
	if (bits & KSM_PARTITION_SYSCALL)
		return fail_transient();

	r = ksm_partition_open(ctx, name, KSM_CREAT | (o.exclusive ? KSM_EXCL : 0), o.mode, &part);
	if (r == -EINVAL)
		return usage_error("partition name '%s' is taken by a file of the KSM directory", name);
	if (r < 0)
		return fail_partition("create", name, r);
	ksm_partition_close(part);
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
	int bits, r;

	r = parse_sub_options(argc, argv, "uh", opts, handle_remove, &allow_unmerge);
	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return usage_error("'partition remove' needs exactly one NAME");
	name = argv[optind];
	if (check_name(name))
		return EXIT_USAGE;
	r = get_backends(ctx, &bits);
	if (r >= 0)
		return r;
	if (!(bits & KSM_PARTITION_SYSFS)) {
		error("cannot remove partition '%s': partitions made with the ksm_open() syscall "
		      "go away when the last descriptor is closed", name);
		return EXIT_FAILURE;
	}

	r = ksm_partition_unlink(ctx, name, allow_unmerge ? KSM_UNLINK_ALLOW_UNMERGE : 0);
	if (r == -EINVAL)
		return usage_error("'%s' is no partition but another file of the KSM directory", name);
	if (r < 0)
		return fail_partition("remove", name, r);
	return EXIT_SUCCESS;
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

/* Open @name for merging; an exit status on failure (>= 0), else -1. */
static int open_sync(struct ksm_ctx *ctx, const char *name, const char *what, struct ksm_partition **part)
{
	int bits, r;

	if (check_name(name))
		return EXIT_USAGE;
	r = get_backends(ctx, &bits);
	if (r >= 0)
		return r;
	r = ksm_partition_open(ctx, name, KSM_SYNC, 0, part);
	if (r == -EINVAL)
		return usage_error("'%s' is no partition but another file of the KSM directory", name);
	if (r < 0)
		return fail_partition(what, name, r);
	return -1;
}

static int sub_merge(struct ksm_ctx *ctx, int argc, char **argv)
{
	struct ksm_partition *part;
	uint64_t addr, len;
	const char *name;
	int pid, r;

	r = parse_sub_options(argc, argv, "h", help_opts, no_options, NULL);
	if (r >= 0)
		return r;
	if (argc - optind != 4)
		return usage_error("'partition merge' needs NAME PID ADDR LEN");
	name = argv[optind];
	if (parse_pid(argv[optind + 1], &pid) || parse_u64(argv[optind + 2], "address", &addr) ||
	    parse_u64(argv[optind + 3], "length", &len))
		return EXIT_USAGE;
	r = open_sync(ctx, name, "merge into", &part);
	if (r >= 0)
		return r;

	r = ksm_partition_merge(part, pid, addr, len);
	ksm_partition_close(part);
	if (r == -EINVAL) {
		error("cannot merge into partition '%s': the range 0x%" PRIx64 "+0x%" PRIx64
		      " is empty or wraps, or process %d has no memory", name, addr, len, pid);
		return EXIT_FAILURE;
	}
	if (r == -ESRCH) {
		error("cannot merge into partition '%s': no process %d", name, pid);
		return EXIT_FAILURE;
	}
	if (r < 0)
		return fail_partition("merge into", name, r);
	return EXIT_SUCCESS;
}

static int sub_unmerge(struct ksm_ctx *ctx, int argc, char **argv)
{
	struct ksm_partition *part;
	uint64_t addr = 0, len = 0;
	const char *name;
	int pid, r;

	r = parse_sub_options(argc, argv, "h", help_opts, no_options, NULL);
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
	r = open_sync(ctx, name, "unmerge in", &part);
	if (r >= 0)
		return r;

	r = ksm_partition_unmerge(part, pid, addr, len);
	ksm_partition_close(part);
	if (r == -EOPNOTSUPP) {
		if (len)
			error("cannot unmerge a range: this kernel unmerges only whole processes, in "
			      "every partition; 'ksmctl partition unmerge %s %d' does that", name, pid);
		else
			error("cannot unmerge: this kernel's partitions offer no unmerge");
		return EXIT_FAILURE;
	}
	if (r == -ESRCH) {
		error("cannot unmerge in partition '%s': no process %d", name, pid);
		return EXIT_FAILURE;
	}
	if (r < 0)
		return fail_partition("unmerge in", name, r);
	return EXIT_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* status                                                                    */

static int sub_status(struct ksm_ctx *ctx, int argc, char **argv)
{
	struct ksm_stats st = KSM_STATS_INIT;
	struct ksm_partition *part;
	const char *name;
	bool json = false;
	int bits, r;

	r = parse_sub_options(argc, argv, "jh", json_opts, handle_json, &json);
	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return usage_error("'partition status' needs exactly one NAME");
	name = argv[optind];
	if (check_name(name))
		return EXIT_USAGE;
	r = get_backends(ctx, &bits);
	if (r >= 0)
		return r;
	r = ksm_partition_open(ctx, name, 0, 0, &part);
	if (r == -EINVAL)
		return usage_error("'%s' is no partition but another file of the KSM directory", name);
	if (r < 0)
		return fail_partition("read", name, r);
	r = ksm_partition_stats_read(part, &st);
	ksm_partition_close(part);
	if (r == -EOPNOTSUPP) {
		error("cannot read partition '%s': partitions made with the ksm_open() syscall "
		      "have no statistics", name);
		return EXIT_FAILURE;
	}
	if (r < 0)
		return fail_partition("read", name, r);
	if (json) {
		print_status_json(&st);
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

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksmctl enable|disable: node-wide (the disable that stays disabled) or for
 * running processes named by --pid, --cgroup or --unit.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksmctl.h"

#define MAX_PIDS 4096

struct targets {
	int pids[MAX_PIDS];
	size_t n;
};

static int add_pid(struct targets *t, int pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->pids[i] == pid)
			return 0;
	if (t->n == MAX_PIDS) {
		error("more than %d processes", MAX_PIDS);
		return -1;
	}
	t->pids[t->n++] = pid;
	return 0;
}

static int add_cgroup(struct ksm_ctx *ctx, struct targets *t, const char *cgroup)
{
	static int pids[MAX_PIDS];
	int n = ksm_cgroup_pids(ctx, cgroup, pids, MAX_PIDS);

	if (n < 0) {
		fail(n);
		return -1;
	}
	for (int i = 0; i < n && i < MAX_PIDS; i++)
		if (add_pid(t, pids[i]) < 0)
			return -1;
	if (n == 0)
		fprintf(stderr, "%s: notice: the cgroup %s has no processes\n", progname, cgroup);
	return 0;
}

static int run(struct ksm_ctx *ctx, int argc, char **argv, bool enable)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "unit", required_argument, NULL, 'u' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *name = enable ? "enable" : "disable";
	static struct targets t;
	bool any_target = false;
	unsigned int flags = 0;
	int c, status = EXIT_SUCCESS;

	t.n = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:c:u:fh", opts, NULL)) != -1) {
		char cg[4096], *end;
		long pid;
		int r;

		switch (c) {
		case 'p':
			pid = strtol(optarg, &end, 10);
			if (*end || end == optarg || pid <= 0 || pid > INT32_MAX)
				return usage_error("invalid process id '%s'", optarg);
			if (add_pid(&t, (int)pid) < 0)
				return EXIT_FAILURE;
			any_target = true;
			break;
		case 'c':
			any_target = true;
			if (add_cgroup(ctx, &t, optarg) < 0)
				return EXIT_FAILURE;
			break;
		case 'u':
			any_target = true;
			r = ksm_unit_cgroup(ctx, optarg, cg, sizeof(cg));
			if (r < 0)
				return fail(r);
			if (add_cgroup(ctx, &t, cg) < 0)
				return EXIT_FAILURE;
			break;
		case 'f':
			flags |= KSM_FORCE;
			break;
		case 'h':
			cmd_help(ctx, 2, (char *[]){ "help", (char *)name, NULL });
			return EXIT_SUCCESS;
		default:
			return usage_error("invalid option for '%s'", name);
		}
	}
	if (optind < argc)
		return usage_error("'%s' takes no arguments besides its options", name);

	if (!any_target) {
		int r = enable ? ksm_policy_enable(ctx) : ksm_policy_disable(ctx, flags);

		if (r < 0)
			return fail(r);
		if (enable)
			printf("KSM enabled: merging runs (run=1); the policy record is removed from %s\n",
			       ksm_profile_path(ctx));
		else
			printf("KSM disabled by policy: every page unmerged (run=2), recorded in %s\n",
			       ksm_profile_path(ctx));
		return EXIT_SUCCESS;
	}
	for (size_t i = 0; i < t.n; i++) {
		char comm[16] = "?";
		int r;

		ksm_proc_comm(ctx, t.pids[i], comm, sizeof(comm));
		r = ksm_process_set_merge(ctx, t.pids[i], enable, flags);
		if (r < 0) {
			status = fail(r);
			continue;
		}
		printf("%d %s: %s\n", t.pids[i], comm,
		       enable ? "merging enabled (merge-any)" : "merging disabled, pages unmerged");
	}
	return status;
}

int cmd_enable(struct ksm_ctx *ctx, int argc, char **argv)
{
	return run(ctx, argc, argv, true);
}

int cmd_disable(struct ksm_ctx *ctx, int argc, char **argv)
{
	return run(ctx, argc, argv, false);
}

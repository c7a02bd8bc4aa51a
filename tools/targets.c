// SPDX-License-Identifier: LGPL-2.1-or-later
/* The target options of 'estimate' and 'merge-now --guided'. */
#include <errno.h>
#include <stdlib.h>

#include "ksmctl.h"

int target_option(struct ksm_estimate *est, struct estimate_targets *t, int c, const char *arg)
{
	char *end;
	long pid;
	int r;

	switch (c) {
	case 'p':
		errno = 0;
		pid = strtol(arg, &end, 10);
		if (errno || *end || pid < 1 || pid > INT32_MAX)
			return usage_error("invalid process ID '%s'", arg);
		r = ksm_estimate_add_pid(est, (int)pid);
		break;
	case 'c':
		r = ksm_estimate_add_cgroup(est, arg);
		break;
	case 'u':
		r = ksm_estimate_add_unit(est, arg);
		break;
	case 'a':
		t->all = true;
		r = ksm_estimate_add_all(est);
		break;
	default:
		return -1;
	}
	if (r < 0)
		return fail(r);
	t->count++;
	return 0;
}

int targets_check(const struct estimate_targets *t, const char *cmd)
{
	if (t->count == 0)
		return usage_error("'%s' needs a target: --pid, --cgroup, --unit or --all", cmd);
	if (t->all && t->count > 1)
		return usage_error("--all cannot be combined with other targets");
	return 0;
}

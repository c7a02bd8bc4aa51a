// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "tracefs.h"

void bench_namespace(enum bench_ns ns, const char *who)
{
	if (ns == NS_NONE)
		return;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		fprintf(stderr, "%s: no private mount namespace: %s\n", who, strerror(errno));
		_exit(126);
	}
	if (ns == NS_TRACEFS) {
		if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0)
			fprintf(stderr, "%s: cannot mount tracefs: %s\n", who, strerror(errno));
		return;
	}
	if (mount("tmpfs", "/sys/kernel/tracing", "tmpfs", 0, "size=4k") < 0 ||
	    (access("/sys/kernel/debug", F_OK) == 0 &&
	     mount("tmpfs", "/sys/kernel/debug", "tmpfs", 0, "size=4k") < 0)) {
		fprintf(stderr, "%s: cannot hide tracefs: %s\n", who, strerror(errno));
		_exit(126);
	}
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksmd's own CPU time, from <sysroot>/proc/<ksmd>/stat: what scanning costs.
 * The kernel thread is found once by its name and remembered; a remembered
 * pid that no longer names ksmd is looked up again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* utime + stime of <pid>/stat below @procfd in clock ticks, if it is ksmd: 1; not ksmd: 0. */
static int ksmd_ticks(int procfd, const char *pid, uint64_t *ticks)
{
	char path[32], buf[512], *p;
	unsigned long long ut, st;
	int r;

	snprintf(path, sizeof(path), "%s/stat", pid);
	r = ksm_read_at(procfd, path, buf, sizeof(buf));
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	/* "PID (ksmd) S PPID ..." — the name is the field in parentheses. */
	p = strchr(buf, '(');
	if (!p || strncmp(p, "(ksmd) ", 7) != 0)
		return 0;
	p += 7;
	/* Fields 3 (state) to 13 precede utime (14) and stime (15). */
	for (int field = 3; field < 14; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EBADMSG;
		p++;
	}
	if (sscanf(p, "%llu %llu", &ut, &st) != 2)
		return -EBADMSG;
	*ticks = ut + st;
	return 1;
}

static int find_ksmd(struct ksm_ctx *ctx, int procfd, uint64_t *ticks)
{
	struct dirent *de;
	DIR *dir;
	int dfd, r = 0;

	dfd = openat(procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	dir = fdopendir(dfd);
	if (!dir) {
		r = -errno;
		close(dfd);
		return r;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		r = ksmd_ticks(procfd, de->d_name, ticks);
		if (r == 1) {
			ctx->ksmd_pid = atoi(de->d_name);
			break;
		}
		r = 0;
	}
	closedir(dir);
	return r;
}

KSM_EXPORT int ksm_ksmd_cpu(struct ksm_ctx *ctx, uint64_t *ns)
{
	static long hz;
	uint64_t ticks = 0;
	char pid[16];
	int procfd, r = 0;

	ksm_fail_clear();
	if (!ctx || !ns)
		return -EINVAL;
	if (ctx->ksmfd < 0)
		return ksm_fail_no_ksm(ctx);
	if (!hz)
		hz = sysconf(_SC_CLK_TCK);
	procfd = openat(ctx->rootfd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0) {
		r = -errno;
		return ksm_fail(r, "cannot open %s/proc: %s", ctx->sysroot, strerror(-r));
	}
	if (ctx->ksmd_pid > 0) {
		snprintf(pid, sizeof(pid), "%d", ctx->ksmd_pid);
		r = ksmd_ticks(procfd, pid, &ticks);
	}
	if (r == 0)
		r = find_ksmd(ctx, procfd, &ticks);
	close(procfd);
	if (r == 0) {
		ctx->ksmd_pid = 0;
		return ksm_fail(-ESRCH, "no ksmd thread in %s/proc", ctx->sysroot);
	}
	if (r < 0)
		return ksm_fail(r, "cannot read ksmd's CPU time: %s", strerror(-r));
	*ns = ticks * (1000000000ULL / (uint64_t)(hz > 0 ? hz : 100));
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Other programs that control KSM. A daemon that rewrites the knobs on its
 * own schedule silently undoes what a caller sets; the table below names
 * the known ones and how to find them running: a process by its command
 * name in <sysroot>/proc, or an active systemd unit (systemd keeps
 * run/systemd/units/invocation:<unit> while a unit is active).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const struct {
	const char *name;   /* the command name (/proc/PID/comm) */
	const char *unit;   /* its systemd unit */
	const char *changes;
	const char *advice;
} controllers[] = {
	/* ksmtuned (Fedora/RHEL; Debian's and Proxmox's ksm-control-daemon package) */
	{ "ksmtuned", "ksmtuned.service",
	  "it rewrites run, pages_to_scan and sleep_millisecs every 60 s, undoing changes made "
	  "by others",
	  "stop and disable it ('systemctl disable --now ksmtuned') to tune KSM with libksm" },
};

KSM_EXPORT int ksm_controller_foreach(struct ksm_ctx *ctx,
				      int (*fn)(const struct ksm_controller *c, void *data), void *data)
{
	int found[KSM_ARRAY_SIZE(controllers)];
	int procfd, count = 0, r = 0;
	struct dirent *de;
	DIR *dir = NULL;

	ksm_fail_clear();
	if (!ctx || !fn)
		return -EINVAL;
	memset(found, 0, sizeof(found));

	procfd = openat(ctx->rootfd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd >= 0) {
		dir = fdopendir(procfd);
		if (!dir)
			close(procfd);
	}
	while (dir && (de = readdir(dir))) {
		char path[300], comm[32];

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/comm", de->d_name);
		if (ksm_read_at(dirfd(dir), path, comm, sizeof(comm)) < 0)
			continue; /* gone meanwhile */
		comm[strcspn(comm, "\n")] = '\0';
		for (size_t i = 0; i < KSM_ARRAY_SIZE(controllers); i++) {
			int64_t pid;

			if (found[i] || strcmp(comm, controllers[i].name) != 0 ||
			    ksm_parse_int64(de->d_name, &pid) < 0 || pid > INT32_MAX)
				continue;
			found[i] = (int)pid;
		}
	}
	if (dir)
		closedir(dir);

	for (size_t i = 0; i < KSM_ARRAY_SIZE(controllers); i++) {
		struct ksm_controller c = {
			.name = controllers[i].name,
			.pid = found[i],
			.unit = controllers[i].unit,
			.changes = controllers[i].changes,
			.advice = controllers[i].advice,
		};
		char path[300];

		if (!found[i]) {
			snprintf(path, sizeof(path), "run/systemd/units/invocation:%s", controllers[i].unit);
			if (faccessat(ctx->rootfd, path, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
		}
		count++;
		r = fn(&c, data);
		if (r != 0)
			break;
	}
	return r < 0 ? r : count;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Who a process is, beyond its 15-character comm: the command line, the
 * cgroup and systemd unit, and for QEMU the guest name and Proxmox VMID.
 * Paths are relative to the context's system root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Read all of <procfd>/<pid>/<name> (up to size-1 bytes); the length or -errno. */
static int read_file(int procfd, const char *pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	size_t len = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pid, name);
	fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return (int)n;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (int)len;
}

/*
 * The cgroup of a process from /proc/PID/cgroup: the unified hierarchy's
 * "0::/path" line, else the v1 "name=systemd" line, else the first line.
 */
static void parse_cgroup(char *text, char *out, size_t size)
{
	char *save = NULL, *first = NULL, *named = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *path = strchr(line, ':');

		if (!path || !(path = strchr(path + 1, ':')))
			continue;
		path++;
		if (strncmp(line, "0::", 3) == 0) {
			snprintf(out, size, "%s", path);
			return;
		}
		if (!named && strstr(line, ":name=systemd:"))
			named = path;
		if (!first)
			first = path;
	}
	snprintf(out, size, "%s", named ? named : first ? first : "");
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/*
 * The systemd unit: the last component of the cgroup path that names a
 * service or a scope ("/system.slice/postgresql.service" gives
 * "postgresql.service"; libvirt's ".../machine-qemu\x2d1\x2dvm.scope/libvirt/emulator"
 * gives the scope). The Proxmox VMID: "/qemu.slice/<VMID>.scope".
 */
static void parse_unit(const char *cgroup, char *unit, size_t size, int64_t *vmid, bool *has_vmid)
{
	const char *p = cgroup;

	unit[0] = '\0';
	*has_vmid = false;
	while (*p) {
		size_t len;

		p += strspn(p, "/");
		len = strcspn(p, "/");
		if (len == 0)
			break;
		if (ends_with(p, len, ".service") || ends_with(p, len, ".scope"))
			snprintf(unit, size, "%.*s", (int)len, p);
		if (p - cgroup >= 11 && strncmp(p - 11, "qemu.slice/", 11) == 0 &&
		    ends_with(p, len, ".scope") && len > 6 && len - 6 <= 9 &&
		    strspn(p, "0123456789") == len - 6) {
			*vmid = strtoll(p, NULL, 10);
			*has_vmid = true;
		}
		p += len;
	}
}

/*
 * QEMU's guest name: the argument after "-name", either "guest=NAME,..." or
 * the legacy "NAME,..." form; ",," stands for a comma.
 */
static bool parse_guest(const char *args, size_t len, char *out, size_t size)
{
	const char *end = args + len;

	for (const char *a = args; a < end; a += strlen(a) + 1) {
		const char *v;
		size_t o = 0;

		if (strcmp(a, "-name") != 0 && strcmp(a, "--name") != 0)
			continue;
		v = a + strlen(a) + 1;
		if (v >= end)
			return false;
		if (strncmp(v, "guest=", 6) == 0) {
			v += 6;
		} else {
			/* A key=value list without guest=: no name. */
			const char *eq = strchr(v, '='), *comma = strchr(v, ',');
			if (eq && (!comma || eq < comma))
				return false;
		}
		for (; *v && o + 1 < size; v++) {
			if (*v == ',') {
				if (v[1] != ',')
					break;
				v++;
			}
			out[o++] = *v;
		}
		out[o] = '\0';
		return o > 0;
	}
	return false;
}

KSM_EXPORT int ksm_proc_ident_read(struct ksm_ctx *ctx, int pid, struct ksm_proc_ident *id,
				   size_t size)
{
	struct ksm_proc_ident s;
	char *buf;
	char name[16];
	bool has_vmid;
	int procfd, n;

	ksm_fail_clear();
	if (!ctx || !id)
		return -EINVAL;
	if (pid < 0)
		return ksm_fail(-EINVAL, "invalid process ID %d", pid);
	if (size < sizeof(id->present))
		return ksm_fail_struct_size("ksm_proc_ident", size);
	if (pid == 0)
		snprintf(name, sizeof(name), "self");
	else
		snprintf(name, sizeof(name), "%d", pid);
	procfd = openat(ctx->rootfd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0) {
		n = -errno;
		return ksm_fail(n, "cannot open the proc directory of %s: %s", ctx->sysroot,
				strerror(-n));
	}
	buf = malloc(65536);
	if (!buf) {
		close(procfd);
		return ksm_fail(-ENOMEM, "out of memory");
	}
	memset(&s, 0, sizeof(s));

	n = read_file(procfd, name, "cmdline", buf, 65536);
	if ((n == -ENOENT || n == -ESRCH) && faccessat(procfd, name, F_OK, 0) != 0) {
		free(buf);
		close(procfd);
		return ksm_fail(-ESRCH, "cannot read who process %d is: there is no such process "
					"(it may have exited)", pid);
	}
	if (n > 0) {
		size_t len = (size_t)n, o = 0;

		if (parse_guest(buf, len, s.guest, sizeof(s.guest)))
			s.present |= KSM_IDENT_GUEST;
		/* The arguments joined by blanks; a kernel thread has none. */
		while (len > 0 && buf[len - 1] == '\0')
			len--;
		for (size_t i = 0; i < len && o + 1 < sizeof(s.cmdline); i++)
			s.cmdline[o++] = buf[i] == '\0' || buf[i] == '\n' ? ' ' : buf[i];
		s.cmdline[o] = '\0';
		s.present |= KSM_IDENT_CMDLINE;
	} else if (n == 0) {
		s.present |= KSM_IDENT_CMDLINE; /* known to be empty: a kernel thread or zombie */
	}

	n = read_file(procfd, name, "cgroup", buf, 65536);
	if (n >= 0) {
		parse_cgroup(buf, s.cgroup, sizeof(s.cgroup));
		s.present |= KSM_IDENT_CGROUP;
		parse_unit(s.cgroup, s.unit, sizeof(s.unit), &s.vmid, &has_vmid);
		if (s.unit[0])
			s.present |= KSM_IDENT_UNIT;
		if (has_vmid)
			s.present |= KSM_IDENT_VMID;
	}
	free(buf);
	close(procfd);

	/* Fields beyond the caller's struct are not marked present. */
	if (offsetof(struct ksm_proc_ident, cmdline) + sizeof(s.cmdline) > size)
		s.present &= ~(uint64_t)(KSM_IDENT_CMDLINE | KSM_IDENT_GUEST);
	if (offsetof(struct ksm_proc_ident, cgroup) + sizeof(s.cgroup) > size)
		s.present &= ~(uint64_t)KSM_IDENT_CGROUP;
	if (offsetof(struct ksm_proc_ident, unit) + sizeof(s.unit) > size)
		s.present &= ~(uint64_t)KSM_IDENT_UNIT;
	if (offsetof(struct ksm_proc_ident, guest) + sizeof(s.guest) > size)
		s.present &= ~(uint64_t)KSM_IDENT_GUEST;
	if (offsetof(struct ksm_proc_ident, vmid) + sizeof(s.vmid) > size)
		s.present &= ~(uint64_t)KSM_IDENT_VMID;
	ksm_copy_out(id, size, &s, sizeof(s));
	return 0;
}

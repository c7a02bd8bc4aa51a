// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Profiles: "knob = value" files (ksm.conf(5)), loaded into a transaction,
 * written from the current tunables, saved atomically. The default profile
 * lives below the context's system root, in the sysconfdir libksm was built
 * for.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define BIT(k) (UINT64_C(1) << (k))

/* The longest line a profile may have, newline included. */
#define KSM_PROFILE_LINE_MAX 4096

static char *strip(char *s)
{
	char *e;

	s += strspn(s, " \t\r");
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

KSM_EXPORT int ksm_profile_load(struct ksm_txn *txn, const char *path, unsigned int *line)
{
	unsigned int first_line[KSM_KNOB_NR] = { 0 };
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned int no = 0;
	int count = 0, r = 0;
	bool in_tune = false;
	FILE *f;

	ksm_fail_clear();
	if (line)
		*line = 0;
	if (!txn || (path && !*path))
		return -EINVAL;
	if (!path)
		path = ksm_profile_path(ksm_txn_get_ctx(txn));
	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		return ksm_fail(r, "cannot read the profile %s: %s", path, strerror(-r));
	}
	errno = 0;
	while ((len = getline(&buf, &cap, f)) >= 0) {
		char *hash, *eq, *name, *value, *line_start = buf;
		int knob;

		no++;
		if ((size_t)len > KSM_PROFILE_LINE_MAX) {
			r = ksm_fail(-EBADMSG, "%s:%u: the line is longer than %d bytes", path, no,
				     KSM_PROFILE_LINE_MAX);
			break;
		}
		if (memchr(buf, '\0', (size_t)len)) {
			r = ksm_fail(-EBADMSG, "%s:%u: the line holds a NUL byte (a profile is text)",
				     path, no);
			break;
		}
		/* A UTF-8 byte order mark, as some editors write, is no part of the text. */
		if (no == 1 && strncmp(buf, "\xef\xbb\xbf", 3) == 0)
			line_start += 3;
		hash = strchr(line_start, '#');
		if (hash)
			*hash = '\0';
		name = strip(line_start);
		if (!*name)
			continue;
		/* The [tune] section holds the settings of ksm_tune_load(), not knobs. */
		if (*name == '[') {
			if (strcmp(name, "[tune]") != 0) {
				r = ksm_fail(-EBADMSG, "%s:%u: unknown section %s", path, no, name);
				break;
			}
			in_tune = true;
			continue;
		}
		if (in_tune)
			continue;
		eq = strchr(name, '=');
		if (!eq) {
			r = ksm_fail(-EBADMSG, "%s:%u: expected \"knob = value\"", path, no);
			break;
		}
		*eq = '\0';
		name = strip(name);
		value = strip(eq + 1);
		if (!*name || !*value || strpbrk(name, " \t") || strchr(value, '=')) {
			r = ksm_fail(-EBADMSG, "%s:%u: expected \"knob = value\"", path, no);
			break;
		}
		knob = ksm_knob_lookup(name);
		if (knob < 0) {
			r = ksm_fail(-ENOKEY, "%s:%u: unknown knob '%s'", path, no, KSM_ESC(name));
			break;
		}
		if (first_line[knob]) {
			r = ksm_fail(-EBADMSG, "%s:%u: %s is set twice (first on line %u)", path, no,
				     name, first_line[knob]);
			break;
		}
		first_line[knob] = no;
		r = ksm_txn_set_text(txn, knob, value);
		if (r < 0) {
			char why[400];

			snprintf(why, sizeof(why), "%s", ksm_strerror(r));
			ksm_fail(r, "%s:%u: %s", path, no, why);
			break;
		}
		count++;
	}
	if (r == 0 && ferror(f)) {
		r = errno > 0 ? -errno : -EIO; /* e.g. EISDIR */
		ksm_fail(r, "cannot read the profile %s: %s", path, strerror(-r));
		no = 0;
	}
	free(buf);
	fclose(f);
	if (r < 0) {
		if (line)
			*line = no;
		return r;
	}
	return count;
}

static int write_all(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

KSM_EXPORT int ksm_profile_write(struct ksm_ctx *ctx, int fd)
{
	const struct ksm_knob_def *defs = ksm_knob_defs();
	struct ksm_stats s;
	char line[128], value[KSM_VALUE_MAX];
	bool advisor_on;
	int r;

	ksm_fail_clear();
	if (!ctx || fd < 0)
		return -EINVAL;
	r = ksm_stats_read(ctx, &s, sizeof(s));
	if (r < 0)
		return r;
	r = ksm_advisor_active(ctx);
	if (r < 0)
		return r;
	advisor_on = r > 0;
	r = write_all(fd, "# KSM tunables, one \"knob = value\" per line (ksm.conf(5)).\n"
			  "# Apply with: ksmctl apply FILE\n");
	for (int k = 0; r == 0 && k < KSM_KNOB_NR; k++) {
		const struct ksm_knob_info *info = &defs[k].info;
		int64_t v;

		/* The state is no setting; what the advisor controls is its own. */
		if (info->kind != KSM_KIND_TUNABLE || defs[k].role == KSM_ROLE_STATE ||
		    ksm_stats_value(&s, k, &v) < 0)
			continue;
		if ((info->requires & KSM_REQUIRES_ADVISOR_NONE) && advisor_on)
			continue;
		r = ksm_knob_format(k, v, value, sizeof(value));
		if (r < 0)
			break;
		snprintf(line, sizeof(line), "%s = %s\n", info->name, value);
		r = write_all(fd, line);
	}
	if (r < 0)
		return ksm_fail(r, "cannot write the profile: %s", strerror(-r));
	return 0;
}

KSM_EXPORT int ksm_profile_save(struct ksm_ctx *ctx, const char *path)
{
	char *tmp, *dir_copy, *dir;
	int fd, dfd, r;

	ksm_fail_clear();
	if (!ctx || (path && !*path))
		return -EINVAL;
	if (!path) {
		path = ksm_profile_path(ctx);
		/* The default profile's directory, below the system root only. */
		dir_copy = strdup(path);
		if (!dir_copy)
			return -ENOMEM;
		if (mkdir(dirname(dir_copy), 0755) < 0 && errno != EEXIST) {
			r = -errno;
			free(dir_copy);
			return ksm_fail(r, "cannot create the directory of %s: %s", path, strerror(-r));
		}
		free(dir_copy);
	}
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(tmp);
		return ksm_fail(r, "cannot write %s: %s", path, strerror(-r));
	}
	r = ksm_profile_write(ctx, fd);
	if (r < 0) {
		close(fd);
		unlink(tmp);
		free(tmp);
		return r;
	}
	if (fchmod(fd, 0644) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		free(tmp);
		return ksm_fail(r, "cannot write %s: %s", path, strerror(-r));
	}
	free(tmp);

	/* The rename itself must reach the disk too. */
	dir_copy = strdup(path);
	if (!dir_copy)
		return -ENOMEM;
	dir = dirname(dir_copy);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dir_copy);
	return 0;
}

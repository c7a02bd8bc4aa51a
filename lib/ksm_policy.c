// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The node-wide disable that stays disabled: run = 2 recorded in the default
 * profile (so that ksm.service, which applies it at boot, keeps KSM off),
 * with a marker comment that says since when. Boosts, merge-now and
 * ksm_start() consult it (ksm_disabled_by_policy(), libksm.c) and refuse
 * with -ECANCELED; ksm_policy_enable() removes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* Is @line (of a profile) a "run = ..." line or the policy's marker? */
static bool policy_line(const char *line)
{
	const char *p = line + strspn(line, " \t");

	if (strncmp(p, KSM_POLICY_MARKER, strlen(KSM_POLICY_MARKER)) == 0)
		return true;
	if (strncmp(p, "run", 3) != 0)
		return false;
	p += 3 + strspn(p + 3, " \t");
	return *p == '=';
}

/*
 * Rewrite the default profile atomically: its lines without the policy's
 * lines, then @append (may be NULL). A missing profile counts as empty.
 */
static int rewrite_profile(struct ksm_ctx *ctx, const char *append)
{
	const char *path = ctx->profile_path;
	char *tmp = NULL, *line = NULL, *dir;
	size_t cap = 0;
	struct stat stb;
	mode_t mode = 0644;
	FILE *in, *out;
	int fd, r = 0;

	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST) {
		r = -errno;
		free(dir);
		return ksm_fail(r, "cannot create the directory of %s: %s", path, strerror(-r));
	}
	free(dir);
	in = fopen(path, "re");
	if (!in && errno != ENOENT) {
		r = -errno;
		return ksm_fail(r, "cannot read %s: %s", path, strerror(-r));
	}
	if (in && fstat(fileno(in), &stb) == 0)
		mode = stb.st_mode & 07777;
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		if (in)
			fclose(in);
		return -ENOMEM;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	out = fd >= 0 ? fdopen(fd, "we") : NULL;
	if (!out) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	if (!in)
		fputs("# KSM tunables, one \"knob = value\" per line (ksm.conf(5)).\n", out);
	while (in && getline(&line, &cap, in) > 0)
		if (!policy_line(line))
			fputs(line, out);
	if (append)
		fputs(append, out);
	if (fchmod(fileno(out), mode) < 0 || fflush(out) != 0 || fsync(fileno(out)) < 0)
		r = -errno;
	if (fclose(out) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
fail:
	free(line);
	if (in)
		fclose(in);
	if (r < 0) {
		unlink(tmp);
		free(tmp);
		return ksm_fail(r, "cannot write %s: %s", path, strerror(-r));
	}
	free(tmp);
	return 0;
}

KSM_EXPORT int ksm_policy_get(struct ksm_ctx *ctx, int64_t *since)
{
	int64_t s;
	int r;

	ksm_fail_clear();
	if (!ctx)
		return -EINVAL;
	r = ksm_policy_read(ctx, &s);
	if (r < 0)
		return ksm_fail(r, "cannot read %s: %s", ctx->profile_path, strerror(-r));
	if (since)
		*since = s;
	return r;
}

KSM_EXPORT int ksm_policy_disable(struct ksm_ctx *ctx, unsigned int flags)
{
	struct ksm_unmerge_cost cost;
	char text[160], when[32];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	ksm_fail_clear();
	if (!ctx || (flags & ~KSM_FORCE))
		return -EINVAL;
	if (ctx->ksmfd < 0)
		return ksm_fail_no_ksm(ctx);
	/* Unmerging copies every shared page back: refuse what memory cannot
	 * hold, with the library's one check of an unmerge's cost. Nothing is
	 * changed before it passes. */
	if (!(flags & KSM_FORCE)) {
		r = ksm_unmerge_estimate(ctx, &cost, sizeof(cost));
		if (r < 0)
			return r;
	}
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	snprintf(text, sizeof(text), KSM_POLICY_MARKER "%s ('ksmctl enable' undoes it)\nrun = 2\n",
		 when);
	/* Recorded first: from here on nothing re-enables KSM, even if the unmerge fails. */
	r = rewrite_profile(ctx, text);
	if (r < 0)
		return r;
	ksm_notice(ctx, "KSM disabled by policy in %s", ctx->profile_path);
	r = ksm_set(ctx, KSM_KNOB_RUN, KSM_RUN_UNMERGE);
	return r < 0 ? r : 0;
}

KSM_EXPORT int ksm_policy_enable(struct ksm_ctx *ctx)
{
	int64_t since;
	int r;

	ksm_fail_clear();
	if (!ctx)
		return -EINVAL;
	if (ctx->ksmfd < 0)
		return ksm_fail_no_ksm(ctx);
	r = ksm_policy_read(ctx, &since);
	if (r > 0 || r == -EACCES) {
		r = rewrite_profile(ctx, NULL);
		if (r < 0)
			return r;
		ksm_notice(ctx, "KSM no longer disabled by policy in %s", ctx->profile_path);
	}
	r = ksm_set(ctx, KSM_KNOB_RUN, KSM_RUN_MERGE);
	return r < 0 ? r : 0;
}

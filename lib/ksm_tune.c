// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The tuner behind 'ksmctl tune', the successor of ksmtuned: its settings
 * (ksmtuned.conf and the [tune] section of ksm.conf), its policy as a pure
 * function (ksm_tune_policy()), and the steps of the daemon: read the
 * inputs, decide, write, watch for new processes, restore.
 *
 * After ksm_tune_new() and the first ksm_tune_next() or ksm_tune_poll()
 * (which opens the source of new processes) nothing here allocates: the
 * walk over /proc reads directory entries into a buffer of the tuner and
 * files into the stack.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "internal.h"

#define BIT(k) (UINT64_C(1) << (k))

/* ------------------------------------------------------------------------ */
/* Settings                                                                  */

enum setting_type { T_NUM, T_BOOL, T_POLICY, T_METRIC };

static const struct tune_setting {
	const char *name;     /* in the [tune] section */
	const char *ksmtuned; /* the ksmtuned.conf variable, or NULL */
	enum setting_type type;
	int64_t def, min, max;
} tune_settings[KSM_TUNE_S_NR] = {
	[KSM_TUNE_S_POLICY] = { "policy", NULL, T_POLICY, KSM_TUNE_POLICY_NATIVE, 0, 1 },
	[KSM_TUNE_S_INTERVAL] = { "interval", "KSM_MONITOR_INTERVAL", T_NUM, 60, 1, 86400 },
	[KSM_TUNE_S_SLEEP_MSEC] = { "sleep_msec", "KSM_SLEEP_MSEC", T_NUM, 10, 0, 60000 },
	[KSM_TUNE_S_BOOST] = { "npages_boost", "KSM_NPAGES_BOOST", T_NUM, 300, -1000000, 1000000 },
	[KSM_TUNE_S_DECAY] = { "npages_decay", "KSM_NPAGES_DECAY", T_NUM, -50, -1000000, 1000000 },
	[KSM_TUNE_S_MIN] = { "npages_min", "KSM_NPAGES_MIN", T_NUM, 64, 0, 4294967295LL },
	[KSM_TUNE_S_MAX] = { "npages_max", "KSM_NPAGES_MAX", T_NUM, 1250, 0, 4294967295LL },
	[KSM_TUNE_S_THRES_COEF] = { "thres_coef", "KSM_THRES_COEF", T_NUM, 20, 0, 100 },
	[KSM_TUNE_S_THRES_CONST] = { "thres_const", "KSM_THRES_CONST", T_NUM, 2048, 0, INT64_MAX / 4 },
	[KSM_TUNE_S_METRIC] = { "metric", "KSM_PS_METRIC", T_METRIC, KSM_TUNE_METRIC_RSS, 0, 2 },
	[KSM_TUNE_S_PSI_SOME] = { "psi_some", NULL, T_NUM, 10, 0, 100 },
	[KSM_TUNE_S_MAX_CPU] = { "max_cpu", NULL, T_NUM, 20, 0, 100 },
	[KSM_TUNE_S_ADVISOR] = { "advisor", NULL, T_BOOL, 0, 0, 1 },
	[KSM_TUNE_S_RESTORE] = { "restore", NULL, T_BOOL, 1, 0, 1 },
	[KSM_TUNE_S_REACT] = { "react", NULL, T_BOOL, 1, 0, 1 },
	[KSM_TUNE_S_RECHECK] = { "recheck", NULL, T_NUM, 600, 0, 86400 * 365 },
	[KSM_TUNE_S_CATCHUP] = { "catchup", NULL, T_NUM, 30, 0, 86400 },
	[KSM_TUNE_S_DEBUG] = { "debug", "DEBUG", T_BOOL, 0, 0, 1 },
};

static const char *const policy_names[] = { "native", "ksmtuned", NULL };
static const char *const metric_names[] = { "rss", "pss", "vsz", NULL };

void ksm_tune_defaults(int64_t *set)
{
	for (int i = 0; i < KSM_TUNE_S_NR; i++)
		set[i] = tune_settings[i].def;
}

static int lookup_name(const char *const *names, const char *v)
{
	for (int i = 0; names[i]; i++)
		if (strcasecmp(names[i], v) == 0)
			return i;
	return -1;
}

/* Parse @text as the value of setting @i; -EBADMSG unparsable, -EINVAL out of range. */
static int parse_setting(int i, const char *text, bool from_ksmtuned, int64_t *v)
{
	const struct tune_setting *s = &tune_settings[i];
	int r;

	switch (s->type) {
	case T_BOOL:
		if (from_ksmtuned) { /* DEBUG: set and not empty means on, as in the script */
			*v = *text != '\0';
			return 0;
		}
		if (!strcasecmp(text, "yes") || !strcasecmp(text, "true") || !strcasecmp(text, "on") ||
		    !strcmp(text, "1"))
			*v = 1;
		else if (!strcasecmp(text, "no") || !strcasecmp(text, "false") ||
			 !strcasecmp(text, "off") || !strcmp(text, "0"))
			*v = 0;
		else
			return -EBADMSG;
		return 0;
	case T_POLICY:
		r = lookup_name(policy_names, text);
		break;
	case T_METRIC:
		/* ps(1) spellings of the Proxmox setting: rsz is rss, vsize is vsz. */
		r = !strcasecmp(text, "rsz") ? 0 : !strcasecmp(text, "vsize") ? 2 : lookup_name(metric_names, text);
		break;
	default:
		r = ksm_parse_int64(text, v);
		if (r < 0)
			return -EBADMSG;
		return *v < s->min || *v > s->max ? -EINVAL : 0;
	}
	if (r < 0)
		return -EBADMSG;
	*v = r;
	return 0;
}

static char *strip(char *s)
{
	char *e;

	s += strspn(s, " \t\r\n");
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]))
		*--e = '\0';
	return s;
}

static int bad_value(const char *path, unsigned int no, const char *name, const char *value, int r)
{
	if (r == -EINVAL) {
		for (int i = 0; i < KSM_TUNE_S_NR; i++)
			if ((tune_settings[i].ksmtuned && !strcmp(tune_settings[i].ksmtuned, name)) ||
			    !strcmp(tune_settings[i].name, name))
				return ksm_fail(r, "%s:%u: %s=%s is outside %lld to %lld", path, no, name,
						value, (long long)tune_settings[i].min,
						(long long)tune_settings[i].max);
	}
	return ksm_fail(r, "%s:%u: %s: '%s' is not a valid value", path, no, name, value);
}

/*
 * One ksmtuned.conf line, a shell assignment: [export] NAME=VALUE with VALUE
 * bare, "double" or 'single' quoted, and an optional trailing comment.
 * Returns 1 if a setting was read, 0 for a line without one, -errno.
 */
static int ksmtuned_line(const struct ksm_ctx *ctx, char *line, const char *path, unsigned int no,
			 int64_t *set)
{
	char *name, *value, *end;
	int64_t v;
	int r;

	line = strip(line);
	if (!*line || *line == '#')
		return 0;
	if (!strncmp(line, "export ", 7))
		line = strip(line + 7);
	name = line;
	end = name + strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
	if (end == name || *end != '=' || (*name >= '0' && *name <= '9')) {
		ksm_warn(ctx, "%s:%u: not a variable assignment, ignored", path, no);
		return 0;
	}
	*end = '\0';
	value = end + 1;
	if (*value == '"' || *value == '\'') {
		char *close = strchr(value + 1, *value);

		if (!close)
			return ksm_fail(-EBADMSG, "%s:%u: %s: unterminated quote", path, no, name);
		*close = '\0';
		end = close + 1;
		value++;
	} else {
		end = value + strcspn(value, " \t#");
	}
	if (*end) {
		char *rest = end;

		if (*rest != '#') {
			*rest++ = '\0';
			rest = strip(rest);
		}
		if (*rest && *rest != '#') {
			ksm_warn(ctx, "%s:%u: text after the value of %s, ignored", path, no, name);
		}
	}
	*end = '\0';
	for (int i = 0; i < KSM_TUNE_S_NR; i++) {
		if (!tune_settings[i].ksmtuned || strcmp(tune_settings[i].ksmtuned, name))
			continue;
		/* The script's ${VAR:-default}: an empty value means the default. */
		if (!*value && tune_settings[i].type != T_BOOL) {
			set[i] = tune_settings[i].def;
			return 1;
		}
		r = parse_setting(i, value, true, &v);
		if (r < 0)
			return bad_value(path, no, name, value, r);
		set[i] = v;
		return 1;
	}
	if (!strcmp(name, "LOGFILE") || !strcmp(name, "PIDFILE")) {
		ksm_notice(ctx, "%s:%u: %s is not used: messages go to standard error (the journal)%s",
			   path, no, name, strcmp(name, "PIDFILE") ? "" : " and no PID file is written");
		return 1;
	}
	ksm_warn(ctx, "%s:%u: unknown variable %s, ignored", path, no, name);
	return 0;
}

/* One line of ksm.conf; *@in_tune tracks the section. */
static int ksmconf_line(const struct ksm_ctx *ctx, char *line, const char *path, unsigned int no,
			bool *in_tune, int64_t *set)
{
	char *hash = strchr(line, '#'), *eq, *name, *value;
	int64_t v;
	int r;

	if (hash)
		*hash = '\0';
	line = strip(line);
	if (!*line)
		return 0;
	if (*line == '[') {
		if (strcmp(line, "[tune]"))
			return ksm_fail(-EBADMSG, "%s:%u: unknown section %s", path, no, line);
		*in_tune = true;
		return 0;
	}
	if (!*in_tune)
		return 0; /* a knob: ksm_profile_load() reads those */
	eq = strchr(line, '=');
	if (!eq)
		return ksm_fail(-EBADMSG, "%s:%u: expected \"setting = value\"", path, no);
	*eq = '\0';
	name = strip(line);
	value = strip(eq + 1);
	for (int i = 0; i < KSM_TUNE_S_NR; i++) {
		if (strcmp(tune_settings[i].name, name))
			continue;
		r = parse_setting(i, value, false, &v);
		if (r < 0)
			return bad_value(path, no, name, value, r);
		set[i] = v;
		return 1;
	}
	ksm_warn(ctx, "%s:%u: unknown setting '%s' in [tune], ignored", path, no, name);
	return 0;
}

/*
 * Read @path into @set as @format; KSM_TUNE_FORMAT_AUTO: ksm.conf's [tune]
 * section if the file has section headers, else a ksmtuned.conf. Returns the settings read or -errno with
 * *@line set.
 */
int ksm_tune_parse_file(const struct ksm_ctx *ctx, const char *path, int format, int64_t *set,
			unsigned int *line)
{
	char *buf = NULL;
	size_t cap = 0;
	unsigned int no = 0;
	bool sections = false, in_tune = false;
	int count = 0, r = 0;
	FILE *f;

	*line = 0;
	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		return ksm_fail(r, "cannot read %s: %s", path, strerror(-r));
	}
	while (format == KSM_TUNE_FORMAT_AUTO && getline(&buf, &cap, f) >= 0) {
		char *s = strip(strncmp(buf, "\xef\xbb\xbf", 3) ? buf : buf + 3);
		if (*s == '[') {
			sections = true;
			break;
		}
	}
	if (format == KSM_TUNE_FORMAT_KSM_CONF)
		sections = true;
	rewind(f);
	errno = 0;
	while (getline(&buf, &cap, f) >= 0) {
		no++;
		/* A UTF-8 byte order mark, as ksm_profile_load() accepts it. */
		if (no == 1 && strncmp(buf, "\xef\xbb\xbf", 3) == 0)
			memmove(buf, buf + 3, strlen(buf + 3) + 1);
		r = sections ? ksmconf_line(ctx, buf, path, no, &in_tune, set)
			     : ksmtuned_line(ctx, buf, path, no, set);
		if (r < 0)
			break;
		count += r;
	}
	if (r >= 0 && ferror(f)) {
		r = errno > 0 ? -errno : -EIO;
		ksm_fail(r, "cannot read %s: %s", path, strerror(-r));
		no = 0;
	}
	free(buf);
	fclose(f);
	if (r < 0) {
		*line = no;
		return r;
	}
	return count;
}

/* ------------------------------------------------------------------------ */
/* The policy: a pure function                                               */

static void human(int64_t kb, char *buf, size_t size)
{
	double v = (double)kb;

	if (kb < 0)
		snprintf(buf, size, "-");
	else if (v >= 1024.0 * 1024)
		snprintf(buf, size, "%.1f GiB", v / (1024.0 * 1024));
	else if (v >= 1024.0)
		snprintf(buf, size, "%.1f MiB", v / 1024.0);
	else
		snprintf(buf, size, "%lld KiB", (long long)kb);
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	/* The script tests the minimum first: with MIN > MAX the minimum wins. */
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return v;
}

static void want(struct ksm_tune_out *out, int knob, int64_t v)
{
	out->set |= BIT(knob);
	out->want[knob] = v;
}

#define APPEND(out, ...)                                                                  \
	do {                                                                              \
		size_t _l = strlen((out)->reason);                                        \
		if (_l < sizeof((out)->reason))                                           \
			snprintf((out)->reason + _l, sizeof((out)->reason) - _l, __VA_ARGS__); \
	} while (0)

/* ksmtuned's adjust(), line by line (ksmtuned.sh: committed, free, thres, total in kB). */
static void policy_ksmtuned(const int64_t *s, const struct ksm_tune_input *in,
			    struct ksm_tune_state *st, struct ksm_tune_out *out, int64_t thres,
			    int64_t sleep)
{
	int64_t total = in->mem_total_kb, free = in->mem_free_kb, committed = in->committed_kb;

	if (committed + thres < total && free > thres) {
		want(out, KSM_KNOB_RUN, KSM_RUN_STOP);
		APPEND(out, "%lld < %lld and free > %lld, stop ksm", (long long)(committed + thres),
		       (long long)total, (long long)thres);
		return;
	}
	if (free < thres) {
		st->npages = clamp(st->npages + s[KSM_TUNE_S_BOOST], s[KSM_TUNE_S_MIN], s[KSM_TUNE_S_MAX]);
		APPEND(out, "%lld > %lld, start ksm; %lld < %lld, boost", (long long)(committed + thres),
		       (long long)total, (long long)free, (long long)thres);
	} else {
		st->npages = clamp(st->npages + s[KSM_TUNE_S_DECAY], s[KSM_TUNE_S_MIN], s[KSM_TUNE_S_MAX]);
		APPEND(out, "%lld > %lld, start ksm; %lld > %lld, decay", (long long)(committed + thres),
		       (long long)total, (long long)free, (long long)thres);
	}
	want(out, KSM_KNOB_PAGES_TO_SCAN, st->npages);
	want(out, KSM_KNOB_SLEEP_MILLISECS, sleep);
	want(out, KSM_KNOB_RUN, KSM_RUN_MERGE);
}

/* Did the savings grow by less than 1/256 since the last decision? */
static bool small_gain(const struct ksm_tune_input *in, const struct ksm_tune_state *st)
{
	return (in->saved_pages - st->saved_pages) * 256 <= st->saved_pages;
}

/*
 * A new process registered memory: the kernel puts it behind ksmd's
 * cursor, so at any steady speed its first page is reached only after the
 * rest of a full scan of everything registered, seconds to minutes. Scan
 * at full speed (a CPU) until full_scans has grown by two (by then its
 * memory was scanned once: its pages that equal merged ones are merged),
 * for at most `catchup` seconds. It costs no more pages than the steady
 * speed scans anyway; only sooner. Not where the advisor sets
 * pages_to_scan (its own choice) or with catchup = 0. Returns whether it
 * started.
 */
static bool catchup_start(const int64_t *s, const struct ksm_tune_input *in,
			  struct ksm_tune_state *st)
{
	if (s[KSM_TUNE_S_CATCHUP] <= 0 ||
	    (in->has_advisor && (s[KSM_TUNE_S_ADVISOR] || in->advisor_mode == KSM_ADVISOR_SCAN_TIME)))
		return false;
	st->catchup = true;
	st->catchup_scans = in->full_scans + 2;
	st->catchup_until = in->now_s + s[KSM_TUNE_S_CATCHUP];
	return true;
}

void ksm_tune_policy(const int64_t *s, const struct ksm_tune_input *in, struct ksm_tune_state *st,
		     struct ksm_tune_out *out)
{
	int64_t total = in->mem_total_kb, thres, sleep, avail;
	char a[32], b[32], c[32];
	bool psi_high, boost, advisor, caught_up = st->catchup;

	memset(out, 0, sizeof(*out));
	if (total <= 0) {
		APPEND(out, "MemTotal is unknown: nothing decided");
		return;
	}
	thres = total * s[KSM_TUNE_S_THRES_COEF] / 100;
	if (s[KSM_TUNE_S_THRES_CONST] > thres)
		thres = s[KSM_TUNE_S_THRES_CONST];
	out->threshold_kb = thres;
	sleep = s[KSM_TUNE_S_SLEEP_MSEC] * 16 * 1024 * 1024 / total;
	if (sleep <= 10)
		sleep = 10;

	/* Never re-enable what the administrator disabled, in either policy. */
	if (in->policy_disabled) {
		APPEND(out, "KSM is disabled by policy ('ksmctl disable', run = 2 in ksm.conf): left alone");
		return;
	}
	if (in->run == KSM_RUN_UNMERGE) {
		APPEND(out, "KSM is disabled by the administrator (run=2): left alone");
		return;
	}
	if (s[KSM_TUNE_S_POLICY] == KSM_TUNE_POLICY_KSMTUNED) {
		policy_ksmtuned(s, in, st, out, thres, sleep);
		goto done;
	}

	if (!st->seen)
		st->change_scans = in->full_scans; /* a start: everything is new work */
	if (in->procs == 0) {
		want(out, KSM_KNOB_RUN, KSM_RUN_STOP);
		st->converged = false;
		APPEND(out, "no process has memory registered for merging: stop");
		goto done;
	}
	avail = in->mem_available_kb >= 0 ? in->mem_available_kb : in->mem_free_kb;
	psi_high = s[KSM_TUNE_S_PSI_SOME] > 0 && in->psi_some >= 0 &&
		   in->psi_some >= (double)s[KSM_TUNE_S_PSI_SOME];
	human(in->committed_kb, a, sizeof(a));
	human(thres, b, sizeof(b));
	human(avail, c, sizeof(c));
	if (in->committed_kb + thres < total && avail > thres && !psi_high) {
		want(out, KSM_KNOB_RUN, KSM_RUN_STOP);
		st->converged = false; /* when pressure comes back, scan again */
		APPEND(out, "no memory pressure: registered %s + threshold %s below total, available %s "
			    "above the threshold: stop", a, b, c);
		goto done;
	}
	boost = avail < thres || psi_high;

	if (st->converged) {
		/* ksmd is stopped because a full scan added nothing: start it
		 * again only when there may be something new to merge. */
		const char *why = NULL;

		if (in->new_process)
			why = "a new process registered memory";
		else if (in->procs > st->conv_procs)
			why = "more processes have memory registered";
		else if (in->committed_kb > st->conv_committed_kb + st->conv_committed_kb / 8)
			why = "the registered processes grew by more than an eighth";
		else if (boost && !st->conv_pressure)
			why = "memory pressure rose";
		else if (s[KSM_TUNE_S_RECHECK] > 0 && in->now_s - st->conv_at >= s[KSM_TUNE_S_RECHECK])
			why = "time to re-check (recheck)";
		if (!why) {
			want(out, KSM_KNOB_RUN, KSM_RUN_STOP);
			APPEND(out, "converged %llds ago (a full scan added less than 1/256): ksmd stays "
				    "stopped, merged pages stay merged",
			       (long long)(in->now_s - st->conv_at));
			goto done;
		}
		st->converged = false;
		st->change_scans = in->full_scans;
		st->npages = s[KSM_TUNE_S_MAX];
		if (in->new_process && catchup_start(s, in, st))
			APPEND(out, "converged before, but %s: scan at full speed until it is scanned "
				    "(at most %llds)", why, (long long)s[KSM_TUNE_S_CATCHUP]);
		else
			APPEND(out, "converged before, but %s: scan at npages_max", why);
	} else {
		if (avail < thres)
			APPEND(out, "available %s below threshold %s: boost", c, b);
		else if (psi_high)
			APPEND(out, "memory pressure (PSI some avg10 %.1f%% >= %lld%%): boost",
			       in->psi_some, (long long)s[KSM_TUNE_S_PSI_SOME]);
		else
			APPEND(out, "registered %s + threshold %s reach the total: merge, decay", a, b);
		st->npages = clamp(st->npages + (boost ? s[KSM_TUNE_S_BOOST] : s[KSM_TUNE_S_DECAY]),
				   s[KSM_TUNE_S_MIN], s[KSM_TUNE_S_MAX]);

		if (st->catchup && !in->new_process &&
		    (in->full_scans >= st->catchup_scans || in->now_s >= st->catchup_until)) {
			st->catchup = false;
			if (in->full_scans >= st->catchup_scans) {
				APPEND(out, "; the new memory was scanned: full speed ends");
			} else {
				/* Out of time before ksmd reached all of the new
				 * memory: on at npages_max, within max_cpu again. */
				st->npages = s[KSM_TUNE_S_MAX];
				APPEND(out, "; the full-speed scan ran out of time (catchup): scan at "
					    "npages_max");
			}
		}
		if (in->new_process) {
			/* Its memory merges on its second scan: get there soon. */
			st->npages = s[KSM_TUNE_S_MAX];
			st->change_scans = in->full_scans;
			if (catchup_start(s, in, st))
				APPEND(out, "; a new process registered memory: scan at full speed until "
					    "it is scanned (at most %llds)", (long long)s[KSM_TUNE_S_CATCHUP]);
			else
				APPEND(out, "; a new process registered memory: scan at npages_max");
		} else if (st->catchup) {
			APPEND(out, "; catching up with a new process at full speed (%llds left)",
			       (long long)(st->catchup_until - in->now_s));
		} else if (st->seen && in->full_scans > st->full_scans && !small_gain(in, st)) {
			/* Merging pays: finish it soon, the cost per page is the same. */
			st->npages = s[KSM_TUNE_S_MAX];
			APPEND(out, "; the last full scan merged more: scan at npages_max");
		} else if (st->seen && in->full_scans > st->full_scans &&
			   in->full_scans >= st->change_scans + 2) {
			/* A full scan that added less than 1/256 of the savings, two
			 * scans or more after the last new work (a new page merges
			 * with the stable tree on its first scan, with another new
			 * page on its second): what can merge has merged, and further
			 * scans would add as little. Scanning on costs CPU and saves
			 * (almost) nothing, under pressure or not; run=0 keeps the
			 * merged pages. */
			st->converged = true;
			st->conv_pressure = boost;
			st->conv_at = in->now_s;
			st->conv_procs = in->procs;
			st->conv_committed_kb = in->committed_kb;
			out->set = 0;
			want(out, KSM_KNOB_RUN, KSM_RUN_STOP);
			APPEND(out, "; the last full scan added less than 1/256 to the savings: "
				    "converged, stop ksmd (merged pages stay merged)");
			goto done;
		}
	}
	if (caught_up) {
		/* ksmd's CPU since the last decision was the full-speed scan's. */
	} else if (s[KSM_TUNE_S_MAX_CPU] > 0 && in->ksmd_cpu > (double)s[KSM_TUNE_S_MAX_CPU]) {
		st->npages = clamp((int64_t)((double)st->npages * (double)s[KSM_TUNE_S_MAX_CPU] / in->ksmd_cpu),
				   s[KSM_TUNE_S_MIN], s[KSM_TUNE_S_MAX]);
		APPEND(out, "; ksmd used %.1f%% CPU, above max_cpu %lld%%: fewer pages", in->ksmd_cpu,
		       (long long)s[KSM_TUNE_S_MAX_CPU]);
	}

	advisor = in->has_advisor && s[KSM_TUNE_S_ADVISOR];
	if (advisor) {
		want(out, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME);
		if (s[KSM_TUNE_S_MAX_CPU] > 0)
			want(out, KSM_KNOB_ADVISOR_MAX_CPU, s[KSM_TUNE_S_MAX_CPU]);
		want(out, KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, s[KSM_TUNE_S_MIN]);
		want(out, KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, s[KSM_TUNE_S_MAX]);
		APPEND(out, "; the kernel advisor sets pages_to_scan");
	} else if (in->has_advisor && in->advisor_mode == KSM_ADVISOR_SCAN_TIME) {
		APPEND(out, "; pages_to_scan left to the kernel advisor (advisor_mode=scan-time)");
	} else {
		want(out, KSM_KNOB_PAGES_TO_SCAN, st->catchup ? KSM_FAST_PAGES_TO_SCAN : st->npages);
	}
	want(out, KSM_KNOB_SLEEP_MILLISECS, st->catchup ? 0 : sleep);
	want(out, KSM_KNOB_RUN, KSM_RUN_MERGE);
done:
	if (st->catchup && !(out->set & BIT(KSM_KNOB_RUN) && out->want[KSM_KNOB_RUN] == KSM_RUN_MERGE))
		st->catchup = false;
	st->seen = true;
	st->full_scans = in->full_scans;
	st->saved_pages = in->saved_pages;
}

/* ------------------------------------------------------------------------ */
/* The tuner object                                                          */

#define WATCH_MAX 1024
#define WATCH_MS 32000
#define WATCH_FIRST_MS 250
#define PROBE_MAX 256
#define PIDS_SLOTS 4096 /* a power of 2 */
#define PID_RECHECK_S 300

enum { PID_NOMM = 1, PID_NO, PID_YES };

/* What a walk learnt of one process (see struct ksm_tune). */
struct pid_info {
	int pid;
	uint32_t ino;    /* of /proc/<pid> (procfs numbers fit in 32 bits); 0: read again */
	int32_t checked; /* monotonic seconds */
	uint8_t state;   /* PID_* */
};

struct ksm_tune {
	int refcount;
	struct ksm_ctx *ctx;
	int procfd;
	int64_t set[KSM_TUNE_S_NR];
	struct ksm_tune_state state;
	uint64_t saved_set;           /* knobs changed, with their values before */
	int64_t saved[KSM_KNOB_NR];
	int64_t wrote[KSM_KNOB_NR];   /* what the tuner last set, for the saved knobs */
	/* ksm_policy_read() of the default profile, read again only when the
	 * file changes (it allocates): its identity when read, and the answer. */
	struct { bool read; dev_t dev; ino_t ino; off_t size; struct timespec mtime; int disabled; } policy;
	uint64_t last_ksmd_ns;
	int64_t last_ksmd_at;         /* monotonic ns of last_ksmd_ns, 0: none */
	long last_pid;                /* /proc/loadavg's last pid at the last poll */
	bool new_process;             /* ksm_tune_poll() found one since the last decision */
	int64_t decided_full_scans;   /* full_scans at the last decision */
	bool scanning;                /* the last decision set run=1 */
	struct { int pid; int64_t since, next; } watch[WATCH_MAX];
	int nwatch;
	bool known;                   /* the kernel tells registration (ksm_mergeable) */
	int cn_fd;                    /* the proc connector, -1: poll /proc/loadavg */
	bool cn_busy;                 /* the last poll read events (either source) */
	/*
	 * The ksm:ksm_enter tracepoint, the first choice (see tp_open()): an
	 * epoll descriptor over one perf event per online CPU, each with a
	 * ring buffer of one page. -2: not tried yet; -1: not available, the
	 * connector (cn_fd) is used. rewalk: a registered process forked (or
	 * a registration could not be placed): the next decision walks /proc.
	 */
	int tp_fd;
	int tp_ncpus;
	struct tp_cpu { int fd; struct perf_event_mmap_page *meta; } *tp_cpus;
	bool rewalk;
	int64_t last_poll;            /* monotonic ms of the last ksm_tune_poll() */
	/*
	 * What the walks learnt of each process: no memory (kernel threads),
	 * registered or not, and when that was read. Keyed by pid and the inode
	 * number of /proc/<pid>, which differs for a new process that reuses
	 * the pid; an exec or a look by ksm_tune_poll() clears the inode, so
	 * that the next walk reads the process again. A decision reads
	 * ksm_stat (for which the kernel walks the process's mappings) only of
	 * processes it has not seen, or not for PID_RECHECK_S seconds.
	 */
	struct pid_info pids[PIDS_SLOTS];
	int npids;
	/*
	 * With the tracepoint or the proc connector, a decision between two
	 * walks reads only the processes known to be registered: new ones are
	 * reported by the tracepoint or found by the connector's looks, and one
	 * that exited shows when its files are gone.
	 * The next walk is due when the first process read in the last one is
	 * due for a re-read (walk_due, monotonic s; 0: now), and after rewalk.
	 * lost: events were lost or a process left the watch unlooked at since
	 * the last walk.
	 */
	int64_t walk_due;
	bool lost;
	bool walked;                  /* a walk was made while listening */
	char dents[8192] __attribute__((aligned(8))); /* getdents64() records */
};

static void tp_close(struct ksm_tune *t);

/* Does the tuner learn of new processes from events (tracepoint or connector)? */
static bool listening(const struct ksm_tune *t)
{
	return t->tp_fd >= 0 || t->cn_fd >= 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

KSM_EXPORT int ksm_tune_new(struct ksm_ctx *ctx, struct ksm_tune **out)
{
	struct ksm_tune *t;

	ksm_fail_clear();
	if (!ctx || !out)
		return -EINVAL;
	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->refcount = 1;
	t->ctx = ksm_ref(ctx);
	t->procfd = openat(ctx->rootfd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->cn_fd = -2; /* not tried yet */
	t->tp_fd = -2;
	ksm_tune_defaults(t->set);
	*out = t;
	return 0;
}

KSM_EXPORT struct ksm_tune *ksm_tune_ref(struct ksm_tune *t)
{
	if (t)
		t->refcount++;
	return t;
}

KSM_EXPORT struct ksm_tune *ksm_tune_unref(struct ksm_tune *t)
{
	if (!t || --t->refcount > 0)
		return t;
	if (t->procfd >= 0)
		close(t->procfd);
	if (t->cn_fd >= 0)
		close(t->cn_fd);
	tp_close(t);
	ksm_unref(t->ctx);
	free(t);
	return NULL;
}

KSM_EXPORT int ksm_tune_load(struct ksm_tune *t, const char *path, unsigned int *line)
{
	int64_t set[KSM_TUNE_S_NR];
	unsigned int no = 0;
	char *def = NULL;
	int r, count = 0;

	ksm_fail_clear();
	if (line)
		*line = 0;
	if (!t || (path && !*path))
		return -EINVAL;
	ksm_tune_defaults(set);
	if (path) {
		r = ksm_tune_parse_file(t->ctx, path, KSM_TUNE_FORMAT_AUTO, set, &no);
		if (r < 0)
			goto out;
		count = r;
	} else {
		size_t len = strlen(t->ctx->sysroot);

		while (len > 0 && t->ctx->sysroot[len - 1] == '/')
			len--;
		if (asprintf(&def, "%.*s%s/ksmtuned.conf", (int)len, t->ctx->sysroot,
			     LIBKSM_SYSCONFDIR) < 0)
			return -ENOMEM;
		r = 0;
		if (access(def, F_OK) == 0)
			r = ksm_tune_parse_file(t->ctx, def, KSM_TUNE_FORMAT_KSMTUNED, set, &no);
		if (r < 0)
			goto out;
		count = r;
		r = 0;
		if (access(t->ctx->profile_path, F_OK) == 0)
			r = ksm_tune_parse_file(t->ctx, t->ctx->profile_path, KSM_TUNE_FORMAT_KSM_CONF, set,
						&no);
		if (r < 0)
			goto out;
		count += r;
	}
	memcpy(t->set, set, sizeof(set));
	r = count;
out:
	free(def);
	if (r < 0 && line)
		*line = no;
	return r;
}

KSM_EXPORT int ksm_tune_get(const struct ksm_tune *t, const char *name, int64_t *value)
{
	if (!t || !name || !value)
		return -EINVAL;
	for (int i = 0; i < KSM_TUNE_S_NR; i++)
		if (!strcmp(tune_settings[i].name, name)) {
			*value = t->set[i];
			return 0;
		}
	return -ENOENT;
}

/* ------------------------------------------------------------------------ */
/* Inputs                                                                    */

static int64_t meminfo_field(const char *buf, const char *key)
{
	const char *p = buf;
	size_t klen = strlen(key);

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ':')
			return strtoll(p + klen + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static double psi_field(const char *buf, const char *line)
{
	const char *p = strstr(buf, line);

	if (!p || (p != buf && p[-1] != '\n'))
		return -1;
	p = strstr(p, "avg10=");
	return p ? strtod(p + 6, NULL) : -1;
}

/*
 * Has "<pid>" memory registered for merging? 1 yes, 0 no, -ENODATA for a
 * process without memory, -errno. *@known: the kernel tells registration
 * (ksm_mergeable or ksm_merge_any); older kernels tell only what ksmd has
 * seen.
 */
static int registered(int procfd, const char *pid, bool *known)
{
	struct ksm_proc_stats st;
	int r = ksm_proc_read_at(procfd, pid, &st);

	if (r < 0)
		return r;
	if (!st.present)
		return -ENODATA;
	if (st.present & (KSM_PROC_MERGEABLE | KSM_PROC_MERGE_ANY)) {
		*known = true;
		return st.ksm_mergeable > 0 || st.ksm_merge_any > 0;
	}
	return st.ksm_rmap_items > 0 || st.ksm_merging_pages > 0;
}

/* The memory of a process by the metric setting, in kB. */
static int64_t process_kb(int procfd, const char *pid, int metric, long page_size)
{
	char path[48], buf[1024];
	long long size, resident;

	if (metric == KSM_TUNE_METRIC_PSS) {
		snprintf(path, sizeof(path), "%s/smaps_rollup", pid);
		if (ksm_read_at(procfd, path, buf, sizeof(buf)) < 0)
			return 0;
		char *p = strstr(buf, "\nPss:");
		return p ? strtoll(p + 5, NULL, 10) : 0;
	}
	snprintf(path, sizeof(path), "%s/statm", pid);
	if (ksm_read_at(procfd, path, buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "%lld %lld", &size, &resident) != 2)
		return 0;
	return (metric == KSM_TUNE_METRIC_VSZ ? size : resident) * (page_size / 1024);
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static unsigned int pid_slot(int pid)
{
	return ((unsigned int)pid * 2654435761u) & (PIDS_SLOTS - 1);
}

/* The entry of @pid, a free one for it, or NULL when the table is full. */
static struct pid_info *pid_entry(struct ksm_tune *t, int pid, bool add)
{
	unsigned int i;

	if (add && t->npids >= PIDS_SLOTS / 2) { /* full of the dead: start again */
		memset(t->pids, 0, sizeof(t->pids));
		t->npids = 0;
		t->walk_due = 0;
	}
	for (i = pid_slot(pid); t->pids[i].pid && t->pids[i].pid != pid; i = (i + 1) & (PIDS_SLOTS - 1))
		;
	if (t->pids[i].pid)
		return &t->pids[i];
	if (!add)
		return NULL;
	t->npids++;
	t->pids[i].pid = pid;
	return &t->pids[i];
}

/* Forget what is known of @pid (it exec'd, or it was looked at apart). */
static void pid_forget(struct ksm_tune *t, int pid)
{
	struct pid_info *e = pid_entry(t, pid, false);

	if (e)
		e->ino = 0;
}

static int events_take(struct ksm_tune *t, int64_t now_ms);

/*
 * Between walks: the processes known to be registered, each checked to be
 * the same process (the inode number of /proc/<pid>) and read again after
 * an exec. Those that are gone are marked so; their slot stays (the table
 * is never pruned, only restarted).
 */
static void committed_known(struct ksm_tune *t, struct ksm_tune_input *in, int64_t now)
{
	for (int i = 0; i < PIDS_SLOTS; i++) {
		struct pid_info *e = &t->pids[i];
		char name[16];
		struct stat sb;
		int r;

		if (!e->pid || e->state != PID_YES)
			continue;
		snprintf(name, sizeof(name), "%d", e->pid);
		if (fstatat(t->procfd, name, &sb, 0) < 0) {
			e->ino = 0;
			e->state = PID_NO;
			continue;
		}
		if (e->ino != (uint32_t)sb.st_ino) { /* exec'd, or a new process with the pid */
			r = registered(t->procfd, name, &t->known);
			e->ino = (uint32_t)sb.st_ino;
			e->checked = (int32_t)now;
			e->state = r == -ENODATA ? PID_NOMM : r > 0 ? PID_YES : PID_NO;
			if (r < 0 && r != -ENODATA)
				e->ino = 0;
			if (r <= 0)
				continue;
		}
		in->procs++;
		in->committed_kb += process_kb(t->procfd, name, (int)t->set[KSM_TUNE_S_METRIC],
					       t->ctx->page_size);
	}
}

/* "<pid>" was found registered apart from a walk: decisions count it from now on. */
static void pid_registered(struct ksm_tune *t, const char *pid, int64_t now)
{
	struct pid_info *e = pid_entry(t, atoi(pid), true);
	struct stat sb;

	e->ino = fstatat(t->procfd, pid, &sb, 0) == 0 ? (uint32_t)sb.st_ino : 0;
	e->state = PID_YES;
	e->checked = (int32_t)now;
}

/* Sum the memory of the processes with memory registered for merging. */
static void committed(struct ksm_tune *t, struct ksm_tune_input *in)
{
	int64_t now = now_ns() / 1000000000, due = INT64_MAX;
	bool early;
	long n;

	in->committed_kb = 0;
	in->procs = 0;
	if (t->procfd < 0) {
		in->procs = -1;
		return;
	}
	if (listening(t)) {
		/* What the source reported since the last poll (and, with the
		 * connector, the looks due). */
		if (events_take(t, now_ns() / 1000000) > 0)
			t->new_process = true;
		if (t->walked && t->known && !t->lost && !t->rewalk && t->walk_due &&
		    now < t->walk_due) {
			committed_known(t, in, now);
			return;
		}
	}
	if (lseek(t->procfd, 0, SEEK_SET) < 0) {
		in->procs = -1;
		return;
	}
	/* A process first seen unregistered in this walk may have started
	 * before the tuner listened, or while events were lost, and the
	 * connector's watch does not cover it. The tracepoint reports every
	 * registration after it was opened (by ksm_tune_next() or
	 * ksm_tune_poll(), before the daemon's first walk), and the walk
	 * after lost samples reads every process not known registered
	 * again: no early re-read is needed with it. */
	early = !(t->tp_fd >= 0 || (t->cn_fd >= 0 && t->walked && !t->lost));
	while ((n = syscall(SYS_getdents64, t->procfd, t->dents, sizeof(t->dents))) > 0) {
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(t->dents + off);
			struct pid_info *e;
			int pid, r;

			off += d->d_reclen;
			if (d->d_name[0] < '1' || d->d_name[0] > '9')
				continue;
			pid = atoi(d->d_name);
			e = pid_entry(t, pid, true);
			if (e->ino == (uint32_t)d->d_ino && e->state == PID_NOMM)
				continue;
			/* Without the registration fields (t->known) nothing is
			 * cached: a process shows only once ksmd scanned it. */
			if (e->ino == (uint32_t)d->d_ino && t->known && now - e->checked < PID_RECHECK_S) {
				r = e->state == PID_YES;
			} else {
				bool first = e->ino != (uint32_t)d->d_ino;

				r = registered(t->procfd, d->d_name, &t->known);
				e->ino = (uint32_t)d->d_ino;
				/* A process first seen unregistered is read again 30 s
				 * later, then every PID_RECHECK_S: it may be about to
				 * register, and started before the tuner listened or
				 * while events were lost. */
				e->checked = (int32_t)(first && early && r == 0 ? now - PID_RECHECK_S + 30
									 : now);
				e->state = r == -ENODATA ? PID_NOMM : r > 0 ? PID_YES : PID_NO;
				if (r < 0 && r != -ENODATA)
					e->ino = 0; /* gone, or unreadable: read again */
			}
			if (e->state != PID_NOMM && e->checked + PID_RECHECK_S < due)
				due = e->checked + PID_RECHECK_S;
			if (r <= 0)
				continue;
			in->procs++;
			in->committed_kb += process_kb(t->procfd, d->d_name,
						       (int)t->set[KSM_TUNE_S_METRIC], t->ctx->page_size);
		}
	}
	if (n == 0) {
		t->walk_due = due == INT64_MAX ? now + PID_RECHECK_S : due;
		t->walked = listening(t);
		t->lost = false;
		t->rewalk = false;
	}
	/* Without the registration fields a process shows only once ksmd scanned it:
	 * "none found" then means "unknown", not "none". */
	if (!t->known && in->procs == 0)
		in->procs = -1;
}

/* Is KSM disabled by policy (ksm_policy_disable())? The profile is read only when it changed. */
static bool policy_disabled(struct ksm_tune *t)
{
	struct stat stb;
	int64_t since;
	int r;

	if (stat(t->ctx->profile_path, &stb) < 0)
		memset(&stb, 0, sizeof(stb)); /* no profile: not disabled */
	if (t->policy.read && t->policy.dev == stb.st_dev && t->policy.ino == stb.st_ino &&
	    t->policy.size == stb.st_size && t->policy.mtime.tv_sec == stb.st_mtim.tv_sec &&
	    t->policy.mtime.tv_nsec == stb.st_mtim.tv_nsec)
		return t->policy.disabled > 0;
	r = stb.st_ino ? ksm_policy_read(t->ctx, &since) : 0;
	if (r < 0) /* as ksm_disabled_by_policy(): an unreadable profile does not disable */
		ksm_dbg(t->ctx, "cannot read %s: %s", t->ctx->profile_path, strerror(-r));
	t->policy.read = true;
	t->policy.dev = stb.st_dev;
	t->policy.ino = stb.st_ino;
	t->policy.size = stb.st_size;
	t->policy.mtime = stb.st_mtim;
	t->policy.disabled = r;
	return r > 0;
}

static int ksm_tune_read_input(struct ksm_tune *t, struct ksm_tune_input *in, struct ksm_stats *st)
{
	char buf[8192];
	uint64_t ns, mask;
	int64_t now;
	int r;

	memset(in, 0, sizeof(*in));
	r = ksm_read_at(t->ctx->rootfd, "proc/meminfo", buf, sizeof(buf));
	if (r < 0)
		return ksm_fail(r, "cannot read %s/proc/meminfo: %s", t->ctx->sysroot, strerror(-r));
	in->mem_total_kb = meminfo_field(buf, "MemTotal");
	in->mem_available_kb = meminfo_field(buf, "MemAvailable");
	in->mem_free_kb = meminfo_field(buf, "MemFree");
	if (in->mem_total_kb <= 0 || in->mem_free_kb < 0)
		return ksm_fail(-EBADMSG, "%s/proc/meminfo lacks MemTotal or MemFree", t->ctx->sysroot);
	if (meminfo_field(buf, "Buffers") > 0)
		in->mem_free_kb += meminfo_field(buf, "Buffers");
	if (meminfo_field(buf, "Cached") > 0)
		in->mem_free_kb += meminfo_field(buf, "Cached");
	in->psi_some = in->psi_full = -1;
	if (ksm_read_at(t->ctx->rootfd, "proc/pressure/memory", buf, sizeof(buf)) >= 0) {
		in->psi_some = psi_field(buf, "some ");
		in->psi_full = psi_field(buf, "full ");
	}
	/* Only what the policy reads, and the knobs it may write (a knob
	 * it sets is compared with its value to know what changes). */
	mask = BIT(KSM_KNOB_RUN) | BIT(KSM_KNOB_PAGES_TO_SCAN) | BIT(KSM_KNOB_SLEEP_MILLISECS) |
	       BIT(KSM_KNOB_ADVISOR_MODE) | BIT(KSM_KNOB_FULL_SCANS) | BIT(KSM_KNOB_PAGES_SHARING) |
	       BIT(KSM_KNOB_KSM_ZERO_PAGES);
	if (t->set[KSM_TUNE_S_ADVISOR])
		mask |= BIT(KSM_KNOB_ADVISOR_MAX_CPU) | BIT(KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN) |
			BIT(KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN);
	r = ksm_stats_read_some(t->ctx, mask, st);
	if (r < 0)
		return r;
	in->run = st->run;
	in->pages_to_scan = st->pages_to_scan;
	in->sleep_millisecs = st->sleep_millisecs;
	in->has_advisor = st->present & BIT(KSM_KNOB_ADVISOR_MODE);
	in->advisor_mode = st->advisor_mode;
	in->full_scans = st->full_scans;
	in->saved_pages = st->saved_pages;
	in->policy_disabled = policy_disabled(t);
	committed(t, in);

	in->ksmd_cpu = -1;
	now = now_ns();
	in->now_s = now / 1000000000;
	if (ksm_ksmd_cpu(t->ctx, &ns) == 0) {
		if (t->last_ksmd_at && now > t->last_ksmd_at && ns >= t->last_ksmd_ns)
			in->ksmd_cpu = (double)(ns - t->last_ksmd_ns) * 100.0 /
				       (double)(now - t->last_ksmd_at);
		t->last_ksmd_ns = ns;
		t->last_ksmd_at = now;
	}
	ksm_fail_clear();
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Deciding, watching, restoring                                             */

static void fill(struct ksm_tune_decision *d, const struct ksm_tune_input *in,
		 const struct ksm_tune_out *out, const struct ksm_stats *st, int64_t written)
{
	static const int knobs[] = { KSM_KNOB_RUN, KSM_KNOB_PAGES_TO_SCAN, KSM_KNOB_SLEEP_MILLISECS,
				     KSM_KNOB_ADVISOR_MODE, KSM_KNOB_ADVISOR_MAX_CPU,
				     KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN,
				     KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN };
	int64_t *vals = &d->run;

	for (size_t i = 0; i < KSM_ARRAY_SIZE(knobs); i++)
		vals[i] = out->set & BIT(knobs[i]) ? out->want[knobs[i]] : -1;
	d->written = written;
	d->mem_total = in->mem_total_kb * 1024;
	d->mem_available = in->mem_available_kb < 0 ? -1 : in->mem_available_kb * 1024;
	d->mem_free = in->mem_free_kb * 1024;
	d->threshold = out->threshold_kb * 1024;
	d->committed = in->committed_kb * 1024;
	d->registered_procs = in->procs;
	d->psi_some_avg10 = in->psi_some;
	d->psi_full_avg10 = in->psi_full;
	d->ksmd_cpu = in->ksmd_cpu;
	d->saved_bytes = st->saved_bytes;
	snprintf(d->reason, sizeof(d->reason), "%s", out->reason);
}

KSM_EXPORT int ksm_tune_decide(struct ksm_tune *t, unsigned int flags, struct ksm_tune_decision *d,
			       size_t size)
{
	struct ksm_tune_decision full;
	struct ksm_tune_state state;
	struct ksm_tune_input in;
	struct ksm_tune_out out;
	struct ksm_stats st;
	int64_t written = 0;
	int r;

	ksm_fail_clear();
	if (!t || (flags & ~KSM_TUNE_DRY_RUN) || (size && !d))
		return -EINVAL;
	r = ksm_tune_read_input(t, &in, &st);
	if (r < 0)
		return r;
	in.new_process = t->new_process;
	state = t->state;
	ksm_tune_policy(t->set, &in, &state, &out);
	t->decided_full_scans = in.full_scans;
	t->scanning = (out.set & BIT(KSM_KNOB_RUN)) && out.want[KSM_KNOB_RUN] == KSM_RUN_MERGE;
	if (!(flags & KSM_TUNE_DRY_RUN)) {
		for (int k = 0; k < KSM_KNOB_NR; k++) {
			int64_t cur;

			if (!(out.set & BIT(k)) || ksm_stats_value(&st, k, &cur) < 0 || cur == out.want[k])
				continue;
			written++;
			if (!(t->saved_set & BIT(k))) {
				t->saved_set |= BIT(k);
				t->saved[k] = cur;
			}
		}
		if (written) {
			r = ksm_apply(t->ctx, out.set, out.want, 0, NULL);
			if (r < 0)
				return r;
		}
		for (int k = 0; k < KSM_KNOB_NR; k++)
			if (out.set & BIT(k))
				t->wrote[k] = out.want[k];
		t->state = state;
		t->new_process = false;
	}
	if (size) {
		memset(&full, 0, sizeof(full));
		fill(&full, &in, &out, &st, written);
		ksm_copy_out(d, size, &full, sizeof(full));
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* New processes: the ksm:ksm_enter tracepoint                               */

/*
 * The kernel's tracepoint ksm:ksm_enter fires in __ksm_enter(), whenever an
 * mm is registered with KSM: by madvise(MADV_MERGEABLE) or
 * prctl(PR_SET_MEMORY_MERGE) in the registering process's own context, by
 * the exec of a process with merge-any (the new mm, same context), and at
 * the fork of a registered process (the child's mm, in the parent's
 * context). A system-wide perf event on it, one per online CPU, wakes the
 * tuner exactly when something registers and costs nothing while processes
 * start and exit without registering: no look at any process is needed.
 *
 * Detected by files and errno only: the event's id in tracefs (mounted at
 * sys/kernel/tracing or sys/kernel/debug/tracing below the system root;
 * nothing is mounted here) and perf_event_open()'s answer (CAP_PERFMON or
 * root, or a perf_event_paranoid of -1). Only on the real system root, as
 * the connector: the events are of this kernel's processes.
 */
static const char *const tp_id_files[] = {
	"sys/kernel/tracing/events/ksm/ksm_enter/id",
	"sys/kernel/debug/tracing/events/ksm/ksm_enter/id",
};

static void tp_close(struct ksm_tune *t)
{
	long page = t->ctx->page_size;

	for (int i = 0; t->tp_cpus && i < t->tp_ncpus; i++) {
		if (t->tp_cpus[i].meta)
			munmap(t->tp_cpus[i].meta, (size_t)page * 2);
		if (t->tp_cpus[i].fd >= 0)
			close(t->tp_cpus[i].fd);
	}
	free(t->tp_cpus);
	t->tp_cpus = NULL;
	t->tp_ncpus = 0;
	if (t->tp_fd >= 0)
		close(t->tp_fd);
}

/* The next CPU of a list as sysfs writes it ("0-3,5"); false at its end. */
static bool cpu_next(const char **p, int *cpu, int *last)
{
	char *end;
	long a, b;

	if (*cpu < *last) {
		(*cpu)++;
		return true;
	}
	while (**p == ',' || **p == ' ')
		(*p)++;
	if (**p < '0' || **p > '9')
		return false;
	a = strtol(*p, &end, 10);
	b = a;
	if (*end == '-')
		b = strtol(end + 1, &end, 10);
	*p = end;
	if (b < a || b > 65535)
		return false;
	*cpu = (int)a;
	*last = (int)b;
	return true;
}

/* Open the events; 0 or -errno (the tuner then uses the connector). */
static int tp_open(struct ksm_tune *t)
{
	char buf[4096];
	const char *p;
	size_t len = strlen(t->ctx->sysroot);
	long page = t->ctx->page_size;
	int64_t id;
	int r = -ENOENT, cpu = -1, last = -1, n = 0;

	while (len > 0 && t->ctx->sysroot[len - 1] == '/')
		len--;
	if (len > 0)
		return -EOPNOTSUPP;
	for (size_t i = 0; i < KSM_ARRAY_SIZE(tp_id_files) && r < 0; i++)
		r = ksm_read_at(t->ctx->rootfd, tp_id_files[i], buf, sizeof(buf));
	if (r < 0)
		return r;
	if (ksm_parse_int64(strip(buf), &id) < 0 || id < 0)
		return -EBADMSG;
	r = ksm_read_at(t->ctx->rootfd, "sys/devices/system/cpu/online", buf, sizeof(buf));
	if (r < 0)
		return r;
	for (p = strip(buf); cpu_next(&p, &cpu, &last);)
		n++;
	if (n == 0)
		return -EBADMSG;
	t->tp_cpus = calloc((size_t)n, sizeof(*t->tp_cpus));
	if (!t->tp_cpus)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		t->tp_cpus[i].fd = -1;
	t->tp_ncpus = n;
	t->tp_fd = epoll_create1(EPOLL_CLOEXEC);
	if (t->tp_fd < 0)
		goto fail;
	cpu = last = -1;
	p = strip(buf);
	for (int i = 0; i < n && cpu_next(&p, &cpu, &last); i++) {
		struct perf_event_attr a = {
			.type = PERF_TYPE_TRACEPOINT,
			.size = sizeof(a),
			.config = (uint64_t)id,
			.sample_period = 1,
			.sample_type = PERF_SAMPLE_TID,
			.wakeup_events = 1,
		};
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		void *m;

		t->tp_cpus[i].fd = (int)syscall(SYS_perf_event_open, &a, -1, cpu, -1,
						 PERF_FLAG_FD_CLOEXEC);
		if (t->tp_cpus[i].fd < 0)
			goto fail;
		/* One page of metadata and one of samples (16 bytes each: 256). */
		m = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_SHARED,
			 t->tp_cpus[i].fd, 0);
		if (m == MAP_FAILED)
			goto fail;
		t->tp_cpus[i].meta = m;
		if (epoll_ctl(t->tp_fd, EPOLL_CTL_ADD, t->tp_cpus[i].fd, &ev) < 0)
			goto fail;
	}
	return 0;
fail:
	r = -errno;
	tp_close(t);
	t->tp_fd = -1;
	return r;
}

/* Copy @n bytes at @pos of a ring of @size bytes at @data, across its end. */
static void ring_copy(const char *data, uint64_t size, uint64_t pos, void *to, size_t n)
{
	size_t off = (size_t)(pos % size), first = n < size - off ? n : (size_t)(size - off);

	memcpy(to, data + off, first);
	memcpy((char *)to + first, data, n - first);
}

/*
 * Take the samples of every CPU: each tgid that registered is read (its
 * ksm_stat) if the tuner did not know it registered, and noted registered;
 * a sample of a process already known registered is a fork (its child, a
 * new registered process, is unknown; an exec of a merge-any process looks
 * the same): the next decision walks /proc, as after lost samples, which
 * also read every process not known registered again (a registration lost
 * is found then, at the latest at the next interval). Returns 1 if a
 * process newly registered.
 */
static int tp_read(struct ksm_tune *t, int64_t now)
{
	struct epoll_event evs[16];
	long page = t->ctx->page_size;
	int found = 0;

	/* Clear the epoll set's ready list: every ring is read below. */
	for (int i = 0; i < t->tp_ncpus; i += (int)KSM_ARRAY_SIZE(evs))
		if (epoll_wait(t->tp_fd, evs, KSM_ARRAY_SIZE(evs), 0) < (int)KSM_ARRAY_SIZE(evs))
			break;
	t->cn_busy = false;
	for (int i = 0; i < t->tp_ncpus; i++) {
		struct perf_event_mmap_page *m = t->tp_cpus[i].meta;
		const char *data = (const char *)m + page;
		uint64_t head = __atomic_load_n(&m->data_head, __ATOMIC_ACQUIRE), tail = m->data_tail;
		uint64_t size = (uint64_t)page;

		while (tail < head) {
			struct perf_event_header h;
			struct { uint32_t pid, tid; } s;

			ring_copy(data, size, tail, &h, sizeof(h));
			if (h.size < sizeof(h) || h.size > head - tail) { /* cannot be: read all again */
				t->lost = true;
				tail = head;
				break;
			}
			t->cn_busy = true;
			if (h.type == PERF_RECORD_LOST || h.type == PERF_RECORD_THROTTLE) {
				/* Lost (the ring was full) or throttled (samples
				 * dropped above perf_event_max_sample_rate). */
				/* Those known registered stay so: their samples
				 * that follow are still forks, not registrations.
				 * (Entries become PID_NO only in a walk, which
				 * clears lost.) */
				if (!t->lost) {
					ksm_dbg(t->ctx, "tune: ksm:ksm_enter samples %s; the next decision "
							"reads every process not known registered",
						h.type == PERF_RECORD_LOST ? "lost" : "throttled");
					for (int j = 0; j < PIDS_SLOTS; j++)
						if (t->pids[j].state == PID_NO)
							t->pids[j].ino = 0;
				}
				t->lost = true;
			} else if (h.type == PERF_RECORD_SAMPLE && h.size >= sizeof(h) + sizeof(s)) {
				struct pid_info *e;
				char name[16];
				struct stat sb;
				int r;

				ring_copy(data, size, tail + sizeof(h), &s, sizeof(s));
				snprintf(name, sizeof(name), "%u", s.pid);
				e = pid_entry(t, (int)s.pid, false);
				if (s.pid == 0 || fstatat(t->procfd, name, &sb, 0) < 0) {
					/* Gone: if it forked before it exited, its child
					 * (reparented) may live on registered. */
					t->rewalk = true;
				} else if (e && e->state == PID_YES && e->ino == (uint32_t)sb.st_ino) {
					/* A fork (or a merge-any exec). */
					if (!t->rewalk)
						ksm_dbg(t->ctx, "tune: process %s, registered, forked: "
								"the next decision reads /proc", name);
					t->rewalk = true;
				} else {
					r = registered(t->procfd, name, &t->known);
					if (r > 0) {
						ksm_dbg(t->ctx, "tune: process %s registered memory", name);
						pid_registered(t, name, now / 1000);
						found = 1;
					} else if (r != -ENOENT && r != -ESRCH) {
						/* Registered and unregistered again (an exec),
						 * or unreadable: a walk places it. */
						t->rewalk = true;
					}
				}
			}
			tail += h.size;
		}
		__atomic_store_n(&m->data_tail, tail, __ATOMIC_RELEASE);
	}
	return found;
}

/* ------------------------------------------------------------------------ */
/* New processes: the proc connector, else /proc/loadavg's last pid         */

#define CN_OFF(field) (NLMSG_HDRLEN + offsetof(struct cn_msg, data) + offsetof(struct proc_event, field))

/*
 * Listen to the kernel's process events (NETLINK_CONNECTOR, CN_IDX_PROC;
 * needs CAP_NET_ADMIN), only on the real system root: the events are of
 * this kernel's processes. A socket filter keeps only the start of a
 * process (a fork of a thread group leader, not of a thread) and exec, so
 * that the threads and exits of a busy host never wake the tuner. Returns
 * the socket or -errno.
 */
static int cn_open(struct ksm_tune *t)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, CN_OFF(what)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_EXEC), 5, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_FORK), 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, CN_OFF(event_data.fork.child_tgid)),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, CN_OFF(event_data.fork.child_pid)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = KSM_ARRAY_SIZE(code), .filter = code };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	char buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op))]
		__attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct cn_msg *cn = NLMSG_DATA(nlh);
	enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
	size_t len = strlen(t->ctx->sysroot);
	int fd, r;

	while (len > 0 && t->ctx->sysroot[len - 1] == '/')
		len--;
	if (len > 0)
		return -EOPNOTSUPP;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (fd < 0)
		return -errno;
	/* Room for a quarter of a second of a busy host's events (kernel memory). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 1 << 20 }, sizeof(int)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){ 1 << 20 }, sizeof(int));
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	memset(buf, 0, sizeof(buf));
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(op));
	nlh->nlmsg_type = NLMSG_DONE;
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	if (send(fd, buf, nlh->nlmsg_len, 0) < 0)
		goto fail;
	return fd;
fail:
	r = -errno;
	close(fd);
	return r;
}

/* Watch @pid from @now (ms): looked at from 250 ms of age, then at 1, 2, 4, 8, 16 and 32 s. */
static void watch_add(struct ksm_tune *t, int pid, int64_t now)
{
	int i;

	for (i = 0; i < t->nwatch && t->watch[i].pid != pid; i++)
		;
	if (i == WATCH_MAX) { /* full: forget the oldest, which had the most looks */
		t->lost = true; /* it may register later: the next decision walks */
		i = 0;
		for (int j = 1; j < t->nwatch; j++)
			if (t->watch[j].since < t->watch[i].since)
				i = j;
	} else if (i == t->nwatch) {
		t->nwatch++;
	}
	t->watch[i].pid = pid; /* again after an exec: the new program's time starts */
	t->watch[i].since = now;
	t->watch[i].next = WATCH_FIRST_MS;
}

/* Open the source of new processes: the tracepoint, else the connector,
 * else /proc/loadavg. */
static void cn_start(struct ksm_tune *t)
{
	int r;

	if (t->cn_fd != -2)
		return;
	if (t->tp_fd == -2) {
		r = tp_open(t);
		if (r == 0) {
			t->cn_fd = -1;
			ksm_dbg(t->ctx, "tune: processes that register memory are reported by the "
					"ksm:ksm_enter tracepoint (%d CPUs)",
				t->tp_ncpus);
			return;
		}
		t->tp_fd = -1;
		ksm_dbg(t->ctx, "tune: no ksm:ksm_enter tracepoint (%s): new processes are watched "
				"instead",
			r == -ENOENT	  ? "tracefs is not mounted, or the kernel has no KSM events"
			: r == -EOPNOTSUPP ? "not the real system root"
					   : strerror(-r));
	}
	t->cn_fd = cn_open(t);
	if (t->cn_fd >= 0)
		ksm_dbg(t->ctx, "tune: new processes are reported by the proc connector");
	else
		ksm_info(t->ctx, "tune: no proc connector (%s): new processes are found by polling "
				 "/proc/loadavg twice a second",
			 strerror(-t->cn_fd));
}

/* Take the connector's events; false if there is none (poll /proc/loadavg). */
static bool cn_read(struct ksm_tune *t, int64_t now)
{
	char buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t n;

	if (t->cn_fd < 0)
		return false;
	t->cn_busy = false;
	while ((n = recv(t->cn_fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* Events were lost: read every process again at the next decision. */
				ksm_dbg(t->ctx, "tune: proc connector overrun; every process is read again");
				memset(t->pids, 0, sizeof(t->pids));
				t->npids = 0;
				t->lost = true;
				continue;
			}
			break;
		}
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, (size_t)n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			struct cn_msg *cn = NLMSG_DATA(nlh);
			struct proc_event *ev = (struct proc_event *)cn->data;

			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*cn) + sizeof(*ev)) ||
			    cn->id.idx != CN_IDX_PROC)
				continue;
			t->cn_busy = true;
			if (ev->what == PROC_EVENT_EXEC) {
				pid_forget(t, ev->event_data.exec.process_tgid);
				watch_add(t, ev->event_data.exec.process_tgid, now);
			} else if (ev->what == PROC_EVENT_FORK &&
				   ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid) {
				watch_add(t, ev->event_data.fork.child_tgid, now);
			}
		}
	}
	return true;
}

KSM_EXPORT int ksm_tune_next(struct ksm_tune *t, int *fd)
{
	int64_t now, due = -1, gap;

	ksm_fail_clear();
	if (!t || !fd)
		return -EINVAL;
	cn_start(t);
	*fd = t->tp_fd >= 0 ? t->tp_fd : t->cn_fd >= 0 ? t->cn_fd : -1;
	now = now_ns() / 1000000;
	if (!listening(t))
		due = 500;
	for (int i = 0; i < t->nwatch; i++) {
		int64_t d = t->watch[i].since + t->watch[i].next - now;

		if (due < 0 || d < due)
			due = d < 0 ? 0 : d;
	}
	/* Scanning: full_scans is looked at once a second (ksm_tune_poll()),
	 * four times a second at full speed, which ends at catchup_until. */
	if (t->scanning && t->set[KSM_TUNE_S_POLICY] == KSM_TUNE_POLICY_NATIVE) {
		int64_t every = t->state.catchup ? 250 : 1000;

		if (t->state.catchup && t->state.catchup_until * 1000 - now < every)
			every = t->state.catchup_until * 1000 - now;
		if (every < 0)
			every = 0;
		if (due < 0 || due > every)
			due = every;
	}
	/*
	 * At most four polls a second: the looks that fall due in a quarter of
	 * a second are taken together, and after a poll that read events the
	 * source (tracepoint or connector) is left alone for that time, so that
	 * a host starting hundreds of processes a second (or a registered
	 * process forking as often) wakes the tuner four times, not hundreds
	 * (a new process is looked at from 250 ms of age anyway).
	 */
	gap = t->last_poll + 250 - now;
	if (gap > 0) {
		if (due >= 0 && due < gap)
			due = gap;
		if (listening(t) && t->cn_busy) {
			*fd = -1;
			if (due < 0 || due > gap)
				due = gap;
		}
	}
	return (int)(due > INT32_MAX ? INT32_MAX : due);
}

/*
 * Take the connector's events (else /proc/loadavg's last pid) and look at
 * the processes under watch that are due. Returns 1 if one registered.
 */
static int watch_look(struct ksm_tune *t, int64_t now)
{
	char buf[128], pid[24], *p;
	long cur, from;
	int found = 0;

	if (!cn_read(t, now) && t->procfd >= 0 &&
	    ksm_read_at(t->procfd, "loadavg", buf, sizeof(buf)) >= 0) {
		p = strrchr(strip(buf), ' ');
		cur = p ? strtol(p + 1, NULL, 10) : 0;
		if (t->last_pid && cur != t->last_pid) {
			from = cur > t->last_pid ? t->last_pid + 1 : cur - PROBE_MAX + 1;
			if (cur - from >= PROBE_MAX)
				from = cur - PROBE_MAX + 1;
			/* Noted without a look: most are gone before their first look. */
			for (long q = from < 1 ? 1 : from; q <= cur; q++)
				watch_add(t, (int)q, now);
		}
		t->last_pid = cur;
	}
	for (int i = 0; i < t->nwatch;) {
		int64_t age = now - t->watch[i].since;
		int r;

		/* Looked at from a quarter of a second of age, then at about 1, 2,
		 * 4, 8, 16 and 32 seconds: a process registers early, most never
		 * do, each look costs the kernel a walk over the process's
		 * mappings, and the many processes that live less than a quarter
		 * of a second cost nothing. */
		if (age < t->watch[i].next) {
			i++;
			continue;
		}
		snprintf(pid, sizeof(pid), "%d", t->watch[i].pid);
		r = registered(t->procfd, pid, &t->known);
		t->watch[i].next = t->watch[i].next < 1000 ? 1000 : t->watch[i].next * 2;
		if (r == 0 && t->watch[i].next > WATCH_MS)
			r = -ETIMEDOUT;
		if (r == 0) {
			i++;
			continue;
		}
		if (r > 0) {
			found = 1;
			pid_registered(t, pid, now / 1000);
		}
		t->watch[i] = t->watch[--t->nwatch]; /* the order does not matter */
	}
	return found;
}

/* What the source of new processes told since the last call: 1 if a process registered. */
static int events_take(struct ksm_tune *t, int64_t now)
{
	if (t->tp_fd >= 0)
		return tp_read(t, now);
	return watch_look(t, now);
}

KSM_EXPORT int ksm_tune_poll(struct ksm_tune *t)
{
	int64_t now;

	ksm_fail_clear();
	if (!t)
		return -EINVAL;
	cn_start(t);
	now = now_ns() / 1000000;
	t->last_poll = now;
	if (events_take(t, now) > 0) {
		t->new_process = true;
		return KSM_TUNE_POLL_NEW_PROCESS;
	}
	/* Scanning: decide again after each full scan (one pread() of a
	 * cached file a second tells), so that scanning that no longer pays
	 * stops then, not at the next interval. */
	if (t->scanning && t->set[KSM_TUNE_S_POLICY] == KSM_TUNE_POLICY_NATIVE) {
		int64_t scans;

		if (ksm_get(t->ctx, KSM_KNOB_FULL_SCANS, &scans) == 0 &&
		    scans >= t->decided_full_scans + 1) {
			t->decided_full_scans = scans; /* once, also if no decision follows */
			return KSM_TUNE_POLL_SCANNED;
		}
		if (t->state.catchup && now >= t->state.catchup_until * 1000)
			return KSM_TUNE_POLL_CATCHUP_END;
	}
	return 0;
}

KSM_EXPORT int ksm_tune_restore(struct ksm_tune *t)
{
	const struct ksm_knob_def *defs = ksm_knob_defs();
	struct ksm_stats st;
	uint64_t set = 0;
	int r;

	ksm_fail_clear();
	if (!t)
		return -EINVAL;
	if (!t->saved_set)
		return 0;
	r = ksm_stats_read(t->ctx, &st, sizeof(st));
	if (r < 0)
		return r;
	/*
	 * As the end of a boost: a knob goes back only where it still holds
	 * what the tuner set. One changed meanwhile was changed by someone who
	 * meant it (an administrator's run=2 among them) and stays.
	 */
	for (int k = 0; k < KSM_KNOB_NR; k++) {
		int64_t cur;

		if (!(t->saved_set & BIT(k)) || ksm_stats_value(&st, k, &cur) < 0 ||
		    cur == t->saved[k])
			continue;
		if (cur == t->wrote[k]) {
			set |= BIT(k);
			continue;
		}
		ksm_notice(t->ctx, "tune: %s is left at %lld, not restored to %lld: it was changed "
				   "after the tuner set %lld",
			   defs[k].info.name, (long long)cur, (long long)t->saved[k],
			   (long long)t->wrote[k]);
	}
	if (set) {
		r = ksm_apply(t->ctx, set, t->saved, 0, NULL);
		if (r < 0)
			return r;
	}
	t->saved_set = 0;
	return __builtin_popcountll(set);
}

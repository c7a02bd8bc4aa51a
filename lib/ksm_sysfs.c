// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The knob table, value parsing and validation, and the openat()-relative
 * I/O helpers. Everything the library knows about the files of
 * /sys/kernel/mm/ksm is in the table below; no other file names them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "internal.h"

static const char *const run_values[] = { "stop", "merge", "unmerge", NULL };
static const char *const advisor_values[] = { "none", "scan-time", NULL };

/* "unsigned long" knobs: as far as the kernel's type and our int64 reach. */
#define ULONG_LIMIT ((int64_t)(ULONG_MAX > INT64_MAX ? INT64_MAX : ULONG_MAX))

#define FIELD(n) .offset = offsetof(struct ksm_stats, n)
#define TUNABLE(id, n, t, lo, hi, req, feat, ver, desc, ...)                             \
	[id] = { .info = { .name = #n, .description = desc, .kind = KSM_KIND_TUNABLE,      \
			   .type = t, .min = lo, .max = hi, .requires = req,               \
			   .feature = feat, .since = ver },                                \
		 FIELD(n), __VA_ARGS__ }
#define COUNTER(id, n, t, feat, ver, desc, ...)                                          \
	[id] = { .info = { .name = #n, .description = desc, .kind = KSM_KIND_COUNTER,      \
			   .type = t, .min = (t) == KSM_TYPE_SIGNED ? INT64_MIN : 0,       \
			   .max = INT64_MAX, .feature = feat, .since = ver },              \
		 FIELD(n), __VA_ARGS__ }

/* The kernel's pages_to_scan after the advisor is switched off (DEFAULT_PAGES_TO_SCAN). */
#define KERNEL_DEFAULT_PAGES_TO_SCAN 100

/*
 * Sources: Documentation/admin-guide/mm/ksm.rst and mm/ksm.c. The ranges are
 * those the kernel's store functions accept (kstrtouint: u32, kstrtoint: int,
 * kstrtoul: unsigned long), narrowed where the kernel silently truncates a
 * value into a smaller type (advisor_* into unsigned int).
 *
 * A new knob is one row here, one value appended to enum ksm_knob and one
 * field appended to struct ksm_stats; the planner, the statistics, ksmctl and
 * the documentation's tests all read this table.
 */
static const struct ksm_knob_def table[KSM_KNOB_NR] = {
	[KSM_KNOB_RUN] = {
		.info = { .name = "run", .kind = KSM_KIND_TUNABLE, .type = KSM_TYPE_ENUM,
			  .min = 0, .max = 2, .values = run_values, .since = "2.6.32",
			  .description = "0 stops ksmd (merged pages stay), 1 runs it, 2 stops it and unmerges all pages" },
		FIELD(run), .role = KSM_ROLE_STATE,
		.value_mask = 3, /* without KSM_RUN_OFFLINE (4), set while memory is hot-removed */
	},
	TUNABLE(KSM_KNOB_PAGES_TO_SCAN, pages_to_scan, KSM_TYPE_UNSIGNED, 0, UINT32_MAX, KSM_REQUIRES_ADVISOR_NONE, 0,
		"2.6.32", "pages ksmd scans in each batch",
		.advisor_off_value = KERNEL_DEFAULT_PAGES_TO_SCAN),
	TUNABLE(KSM_KNOB_SLEEP_MILLISECS, sleep_millisecs, KSM_TYPE_UNSIGNED, 0, UINT32_MAX, 0, 0,
		"2.6.32", "milliseconds ksmd sleeps between batches"),
	TUNABLE(KSM_KNOB_MERGE_ACROSS_NODES, merge_across_nodes, KSM_TYPE_BOOL, 0, 1, KSM_REQUIRES_NO_MERGED_PAGES,
		KSM_FEATURE_MERGE_ACROSS_NODES, "3.9",
		"1 merges pages from different NUMA nodes, 0 keeps them apart"),
	TUNABLE(KSM_KNOB_USE_ZERO_PAGES, use_zero_pages, KSM_TYPE_BOOL, 0, 1, 0, KSM_FEATURE_USE_ZERO_PAGES,
		"4.11", "1 maps empty pages to the kernel's zero page instead of a KSM page"),
	TUNABLE(KSM_KNOB_MAX_PAGE_SHARING, max_page_sharing, KSM_TYPE_SIGNED, 2, INT_MAX, KSM_REQUIRES_NO_MERGED_PAGES,
		KSM_FEATURE_MAX_PAGE_SHARING, "4.13", "most mappings one KSM page may have"),
	TUNABLE(KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, stable_node_chains_prune_millisecs, KSM_TYPE_UNSIGNED, 0, UINT32_MAX, 0,
		KSM_FEATURE_MAX_PAGE_SHARING, "4.13",
		"milliseconds between scans for stale stable-node chains"),
	TUNABLE(KSM_KNOB_SMART_SCAN, smart_scan, KSM_TYPE_BOOL, 0, 1, 0, KSM_FEATURE_SMART_SCAN,
		"6.7", "1 skips pages that repeatedly failed to merge"),
	[KSM_KNOB_ADVISOR_MODE] = {
		.info = { .name = "advisor_mode", .kind = KSM_KIND_TUNABLE, .type = KSM_TYPE_ENUM,
			  .min = 0, .max = 1, .values = advisor_values, .feature = KSM_FEATURE_ADVISOR,
			  .since = "6.8",
			  .description = "none, or scan-time to let the kernel tune pages_to_scan" },
		FIELD(advisor_mode), .role = KSM_ROLE_ADVISOR, .names_only = true,
	},
	/* A percentage: the kernel stores any u32, but above 100 means nothing. */
	TUNABLE(KSM_KNOB_ADVISOR_MAX_CPU, advisor_max_cpu, KSM_TYPE_UNSIGNED, 0, 100, 0, KSM_FEATURE_ADVISOR,
		"6.8", "CPU percent the advisor lets ksmd use at most"),
	TUNABLE(KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, advisor_min_pages_to_scan, KSM_TYPE_UNSIGNED, 0, UINT32_MAX, 0, KSM_FEATURE_ADVISOR,
		"6.8", "pages_to_scan the advisor starts from", .role = KSM_ROLE_ADVISOR_START),
	TUNABLE(KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, advisor_max_pages_to_scan, KSM_TYPE_UNSIGNED, 0, UINT32_MAX, 0, KSM_FEATURE_ADVISOR,
		"6.8", "largest pages_to_scan the advisor sets"),
	TUNABLE(KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, advisor_target_scan_time, KSM_TYPE_UNSIGNED, 1, ULONG_LIMIT, 0, KSM_FEATURE_ADVISOR,
		"6.8", "seconds the advisor aims at for one full scan"),
	COUNTER(KSM_KNOB_PAGES_SHARED, pages_shared, KSM_TYPE_UNSIGNED, 0, "2.6.32", "KSM pages in use (stable tree)",
		.role = KSM_ROLE_MERGED),
	COUNTER(KSM_KNOB_PAGES_SHARING, pages_sharing, KSM_TYPE_UNSIGNED, 0, "2.6.32", "further mappings of KSM pages: pages saved"),
	COUNTER(KSM_KNOB_PAGES_UNSHARED, pages_unshared, KSM_TYPE_UNSIGNED, 0, "2.6.32", "unique pages checked repeatedly (unstable tree)"),
	COUNTER(KSM_KNOB_PAGES_VOLATILE, pages_volatile, KSM_TYPE_UNSIGNED, 0, "2.6.32", "pages changing too fast to be merged"),
	COUNTER(KSM_KNOB_PAGES_SCANNED, pages_scanned, KSM_TYPE_UNSIGNED, KSM_FEATURE_SMART_SCAN, "6.7", "pages scanned since boot",
		.info.flags = KSM_KNOB_CUMULATIVE),
	COUNTER(KSM_KNOB_PAGES_SKIPPED, pages_skipped, KSM_TYPE_UNSIGNED, KSM_FEATURE_SMART_SCAN, "6.7", "pages smart scan skipped",
		.info.flags = KSM_KNOB_CUMULATIVE),
	COUNTER(KSM_KNOB_FULL_SCANS, full_scans, KSM_TYPE_UNSIGNED, 0, "2.6.32", "full scans completed (reset by run=2)",
		.info.flags = KSM_KNOB_CUMULATIVE),
	COUNTER(KSM_KNOB_STABLE_NODE_CHAINS, stable_node_chains, KSM_TYPE_UNSIGNED, KSM_FEATURE_MAX_PAGE_SHARING, "4.13",
		"KSM pages that reached max_page_sharing"),
	COUNTER(KSM_KNOB_STABLE_NODE_DUPS, stable_node_dups, KSM_TYPE_UNSIGNED, KSM_FEATURE_MAX_PAGE_SHARING, "4.13",
		"duplicate KSM pages in chains"),
	COUNTER(KSM_KNOB_KSM_ZERO_PAGES, ksm_zero_pages, KSM_TYPE_SIGNED, KSM_FEATURE_KSM_ZERO_PAGES, "6.6",
		"empty pages mapped to the zero page by KSM"),
	COUNTER(KSM_KNOB_GENERAL_PROFIT, general_profit, KSM_TYPE_SIGNED, KSM_FEATURE_GENERAL_PROFIT, "6.4",
		"bytes saved minus KSM's own metadata (may be negative)"),
};

const struct ksm_knob_def *ksm_knob_defs(void)
{
	return table;
}

/*
 * Rules between knobs, checked before anything is written: the value of
 * .lo must not exceed the value of .hi. The kernel takes each file on its
 * own and would accept an advisor whose minimum lies above its maximum.
 */
static const struct {
	int lo, hi;
} rules[] = {
	{ KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN },
};

uint64_t ksm_rules_partners(int knob)
{
	uint64_t partners = 0;

	for (size_t i = 0; i < KSM_ARRAY_SIZE(rules); i++) {
		if (rules[i].lo == knob)
			partners |= UINT64_C(1) << rules[i].hi;
		if (rules[i].hi == knob)
			partners |= UINT64_C(1) << rules[i].lo;
	}
	return partners;
}

int ksm_rules_check(uint64_t known, const int64_t *vals, uint64_t changed)
{
	for (size_t i = 0; i < KSM_ARRAY_SIZE(rules); i++) {
		uint64_t lo = UINT64_C(1) << rules[i].lo, hi = UINT64_C(1) << rules[i].hi;

		if (!(changed & (lo | hi)) || !(known & lo) || !(known & hi))
			continue;
		if (vals[rules[i].lo] > vals[rules[i].hi])
			return ksm_fail(-EINVAL, "%s (%lld%s) must not exceed %s (%lld%s); set both "
						 "in one transaction to move them past each other",
					table[rules[i].lo].info.name, (long long)vals[rules[i].lo],
					changed & lo ? "" : ", its current value",
					table[rules[i].hi].info.name, (long long)vals[rules[i].hi],
					changed & hi ? "" : ", its current value");
	}
	return 0;
}

int ksm_knob_of_role(enum ksm_knob_role role)
{
	for (int i = 0; i < KSM_KNOB_NR; i++)
		if (table[i].role == role)
			return i;
	return -1;
}

const struct ksm_knob_info *ksm_table_get(int knob)
{
	if (knob < 0 || knob >= KSM_KNOB_NR)
		return NULL;
	return &table[knob].info;
}

int ksm_knob_check(int knob, int64_t value)
{
	const struct ksm_knob_info *k = ksm_table_get(knob);

	if (!k)
		return ksm_fail(-ENOENT, "no knob number %d (see ksm_knob_count())", knob);
	if (k->kind != KSM_KIND_TUNABLE)
		return ksm_fail(-EPERM, "%s is a counter that the kernel maintains; it cannot be written",
				k->name);
	if (value < k->min || value > k->max) {
		char range[96];

		ksm_knob_describe_values(knob, range, sizeof(range));
		return ksm_fail(-EINVAL, "%lld is not a valid value of %s (accepted: %s)", (long long)value,
				k->name, range);
	}
	return 0;
}

KSM_EXPORT int ksm_knob_count(void)
{
	return KSM_KNOB_NR;
}

KSM_EXPORT const struct ksm_knob_info *ksm_knob_info(enum ksm_knob knob)
{
	return ksm_table_get((int)knob);
}

KSM_EXPORT int ksm_knob_lookup(const char *name)
{
	if (!name)
		return -ENOENT;
	for (int i = 0; i < KSM_KNOB_NR; i++)
		if (strcmp(table[i].info.name, name) == 0)
			return i;
	return -ENOENT;
}

/* Decimal integer, optional leading '-', nothing else; -EINVAL on overflow. */
int ksm_parse_int64(const char *text, int64_t *value)
{
	const char *p = text;
	bool neg = false;
	uint64_t acc = 0;

	if (*p == '-') {
		neg = true;
		p++;
	}
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (acc > (UINT64_MAX - d) / 10)
			return -EINVAL;
		acc = acc * 10 + d;
	}
	if (*p != '\0')
		return -EINVAL;
	if (neg) {
		if (acc > (uint64_t)INT64_MAX + 1)
			return -EINVAL;
		*value = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
	} else {
		if (acc > (uint64_t)INT64_MAX)
			return -EINVAL;
		*value = (int64_t)acc;
	}
	return 0;
}

/* Copy @text without surrounding blanks into @buf; -EINVAL if too long or empty. */
static int trim(const char *text, char *buf, size_t size)
{
	size_t len;

	while (*text == ' ' || *text == '\t' || *text == '\n')
		text++;
	len = strlen(text);
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\n'))
		len--;
	if (len == 0 || len >= size)
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return 0;
}

static int parse_bool_word(const char *s, int64_t *value)
{
	static const char *const yes[] = { "yes", "y", "on", "true" };
	static const char *const no[] = { "no", "n", "off", "false" };

	for (size_t i = 0; i < KSM_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*value = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*value = 0;
			return 0;
		}
	}
	return -EINVAL;
}

KSM_EXPORT int ksm_knob_parse(enum ksm_knob knob, const char *text, int64_t *value)
{
	const struct ksm_knob_info *k = ksm_table_get((int)knob);
	char buf[KSM_VALUE_MAX];
	int64_t v;

	if (!k)
		return -ENOENT;
	if (!text || !value || trim(text, buf, sizeof(buf)) < 0)
		return -EINVAL;

	/* A '+' before the digits, as the kernel's kstrto*() take it. */
	if (ksm_parse_int64(buf[0] == '+' && buf[1] >= '0' && buf[1] <= '9' ? buf + 1 : buf, &v) < 0) {
		bool found = false;

		if (k->type == KSM_TYPE_BOOL && parse_bool_word(buf, &v) == 0)
			found = true;
		for (int i = 0; k->values && k->values[i] && !found; i++) {
			if (strcasecmp(buf, k->values[i]) == 0) {
				v = i;
				found = true;
			}
		}
		if (!found)
			return -EINVAL;
	} else if (table[knob].names_only) {
		/* The kernel takes this knob as text only. */
		return -EINVAL;
	}
	if (v < k->min || v > k->max)
		return -EINVAL;
	*value = v;
	return 0;
}

KSM_EXPORT int ksm_knob_format(enum ksm_knob knob, int64_t value, char *buf, size_t size)
{
	const struct ksm_knob_info *k = ksm_table_get((int)knob);
	int n;

	if (!k)
		return -ENOENT;
	if (!buf)
		return -EINVAL;
	if (table[knob].names_only) {
		if (value < k->min || value > k->max)
			return -EINVAL;
		n = snprintf(buf, size, "%s", k->values[value]);
	} else {
		n = snprintf(buf, size, "%lld", (long long)value);
	}
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

KSM_EXPORT int ksm_knob_describe_values(enum ksm_knob knob, char *buf, size_t size)
{
	const struct ksm_knob_def *d;
	const struct ksm_knob_info *k = ksm_table_get((int)knob);
	size_t len = 0;
	int n = 0;

	if (!k)
		return -ENOENT;
	if (!buf)
		return -EINVAL;
	if (k->kind != KSM_KIND_TUNABLE)
		return -EPERM;
	if (size == 0)
		return -ENOSPC;
	d = &table[knob];
	buf[0] = '\0';
	if (k->type == KSM_TYPE_ENUM) {
		for (int i = 0; k->values[i]; i++) {
			const char *sep = i == 0 ? "" : k->values[i + 1] ? ", " : " or ";
			if (d->names_only)
				n = snprintf(buf + len, size - len, "%s%s", sep, k->values[i]);
			else
				n = snprintf(buf + len, size - len, "%s%s (%d)", sep, k->values[i], i);
			if (n < 0 || (size_t)n >= size - len)
				return -ENOSPC;
			len += (size_t)n;
		}
		return (int)len;
	}
	if (k->type == KSM_TYPE_BOOL)
		n = snprintf(buf, size, "0 or 1 (also y/n, yes/no, on/off, true/false)");
	else
		n = snprintf(buf, size, "%lld to %lld", (long long)k->min, (long long)k->max);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

int ksm_parse_value(int knob, const char *text, int64_t *value)
{
	const struct ksm_knob_info *k = ksm_table_get(knob);
	char range[128];
	int r = ksm_knob_parse((enum ksm_knob)knob, text, value);

	if (r != -EINVAL || !k)
		return r;
	if (ksm_knob_describe_values((enum ksm_knob)knob, range, sizeof(range)) < 0)
		return ksm_fail(-EPERM, "%s is a counter that the kernel maintains; it cannot be written",
				k->name);
	return ksm_fail(r, "'%s' is not a valid value of %s (accepted: %s)",
			ksm_escape(text ? text : "", 64, (char[256]){ 0 }, 256), k->name,
			range);
}

/*
 * The kernel's own text: plain decimal numbers, except for knobs read by
 * name, which list every name with the selected one in brackets
 * ("[none] scan-time"). A knob's number may carry bits that are no part of
 * the value (run's KSM_RUN_OFFLINE while memory is hot-removed).
 */
int ksm_parse_kernel(int knob, const char *text, int64_t *value)
{
	const struct ksm_knob_info *k = ksm_table_get(knob);
	char buf[KSM_VALUE_MAX];
	int r;

	if (!k)
		return -ENOENT;
	if (trim(text, buf, sizeof(buf)) < 0)
		return -EBADMSG;

	if (table[knob].names_only) {
		const char *open = strchr(buf, '[');
		const char *close = open ? strchr(open, ']') : NULL;

		if (!open || !close)
			return -EBADMSG;
		for (int i = 0; k->values[i]; i++) {
			size_t len = strlen(k->values[i]);
			if ((size_t)(close - open - 1) == len && strncmp(open + 1, k->values[i], len) == 0) {
				*value = i;
				return 0;
			}
		}
		return -EBADMSG;
	}

	r = ksm_parse_int64(buf, value);
	if (r < 0)
		return -EBADMSG;
	/* A counter or knob the kernel keeps unsigned is never negative. */
	if (k->type == KSM_TYPE_UNSIGNED && *value < 0)
		return -EBADMSG;
	if (table[knob].value_mask)
		*value &= table[knob].value_mask;
	return 0;
}

int ksm_fail_read(const struct ksm_ctx *ctx, const char *dir, int knob, int err, const char *text)
{
	const struct ksm_knob_info *k = ksm_table_get(knob);
	char path[4200], found[48];
	size_t n;
	int64_t v;

	if (!k)
		return err;
	if (dir)
		snprintf(path, sizeof(path), "%s%s%s", dir, *dir ? "/" : "", k->name);
	else
		ksm_knob_path(ctx, k->name, path, sizeof(path));
	if (err != -EBADMSG)
		return ksm_fail(err, "cannot read %s: %s", path, strerror(-err));
	if (!text)
		/* ksm_pread_text() found more than the buffer holds. */
		return ksm_fail(err, "cannot read %s: it holds more than %d bytes, longer than any "
				     "value of it", path, KSM_VALUE_MAX - 1);
	/* What was there, escaped and short, without the kernel's newline. */
	n = strlen(text);
	if (n > 0 && text[n - 1] == '\n')
		n--;
	ksm_escape(text, n, found, 48);
	if (k->type == KSM_TYPE_UNSIGNED && ksm_parse_int64(found, &v) == 0 && v < 0)
		return ksm_fail(err, "cannot read %s: expected an unsigned decimal number, found '%s'",
				path, found);
	return ksm_fail(err, "cannot read %s: expected %s, found '%s'", path,
			table[knob].names_only ? "the modes with the selected one in brackets "
						 "(\"[none] scan-time\")"
					       : "a decimal number and a newline",
			found);
}

/* ------------------------------------------------------------------------ */

/* pread() from offset 0; with @whole, -EBADMSG if the file holds more than @size-1 bytes. */
static int pread_text(int fd, char *buf, size_t size, bool whole)
{
	ssize_t n, more;
	char c;

	do {
		n = pread(fd, buf, size - 1, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (!whole || (size_t)n < size - 1)
		return (int)n;
	/* A full buffer: a text cut there would be read as another value. */
	do {
		more = pread(fd, &c, 1, n);
	} while (more < 0 && errno == EINTR);
	if (more < 0)
		return -errno;
	return more > 0 ? -EBADMSG : (int)n;
}

int ksm_pread_text(int fd, char *buf, size_t size)
{
	return pread_text(fd, buf, size, true);
}

static int read_at(int dirfd, const char *name, char *buf, size_t size, bool whole)
{
	int fd, r;

	if (dirfd < 0 && dirfd != AT_FDCWD)
		return -ENOENT;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = pread_text(fd, buf, size, whole);
	close(fd);
	return r;
}

int ksm_read_at(int dirfd, const char *name, char *buf, size_t size)
{
	return read_at(dirfd, name, buf, size, false);
}

int ksm_read_whole_at(int dirfd, const char *name, char *buf, size_t size)
{
	return read_at(dirfd, name, buf, size, true);
}

int ksm_write_at(int dirfd, const char *name, const char *text)
{
	char buf[KSM_VALUE_MAX + 2];
	size_t len;
	ssize_t n;
	int fd, r = 0;

	if (dirfd < 0)
		return -ENOENT;
	len = (size_t)snprintf(buf, sizeof(buf), "%s\n", text);
	if (len >= sizeof(buf))
		return -EINVAL;

	/*
	 * O_TRUNC is a no-op on sysfs and keeps regular files (test trees)
	 * exact. sysfs has no symbolic links among its attributes: a link
	 * there comes from an untrusted system root and is not followed (ELOOP),
	 * or root would truncate whatever it points to.
	 */
	fd = openat(dirfd, name, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	/*
	 * sysfs takes a value in one write(); a short write is an error. EINTR
	 * is not retried: for run=2 it means the kernel gave up unmerging.
	 */
	n = write(fd, buf, len);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != len)
		r = -EIO;
	close(fd);
	return r;
}

/*
 * Read a knob's text through a descriptor kept open in the context: a
 * pread() from offset 0 makes sysfs produce a fresh value, which saves the
 * open/close pair on every read of a snapshot.
 */
int ksm_read_knob(struct ksm_ctx *ctx, int knob, char *buf, size_t size)
{
	const struct ksm_knob_info *k = ksm_table_get(knob);
	int fd, r;

	if (!k || ctx->ksmfd < 0)
		return -ENOENT;
	fd = __atomic_load_n(&ctx->knobfd[knob], __ATOMIC_ACQUIRE);
	if (fd >= 0) {
		r = ksm_pread_text(fd, buf, size);
		if (r >= 0)
			return r;
		/*
		 * The file went away behind us (ENODEV on sysfs). Another
		 * thread may still use the cached descriptor, so it stays
		 * until ksm_unref(); read through a fresh one instead.
		 */
		return ksm_read_whole_at(ctx->ksmfd, k->name, buf, size);
	}

	fd = openat(ctx->ksmfd, k->name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = ksm_pread_text(fd, buf, size);
	if (r < 0) {
		close(fd);
		return r;
	}
	int expected = -1;
	if (!__atomic_compare_exchange_n(&ctx->knobfd[knob], &expected, fd, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		close(fd);
	return r;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The context (system root, the opened KSM directory, page size, default
 * profile), its log hook, and the messages behind ksm_strerror(). Every
 * other file of the library builds on this one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "internal.h"


/* ------------------------------------------------------------------------ */
/* The log                                                                   */

static void log_stderr(void *data, int priority, const char *file, int line, const char *fn,
		       const char *format, va_list args)
{
	fprintf(stderr, "libksm: ");
	vfprintf(stderr, format, args);
	fputc('\n', stderr);
}

/* KSM_LOG: a number, or a syslog priority name; -1 if not understood. */
static int parse_priority(const char *s)
{
	static const char *const names[] = { "emerg", "alert", "crit", "err",
					     "warning", "notice", "info", "debug" };
	char *end;
	long n;

	n = strtol(s, &end, 10);
	if (end != s && *end == '\0')
		return n >= LOG_EMERG && n <= LOG_DEBUG ? (int)n : -1;
	for (size_t i = 0; i < KSM_ARRAY_SIZE(names); i++)
		if (strcasecmp(s, names[i]) == 0)
			return (int)i;
	if (strcasecmp(s, "error") == 0)
		return LOG_ERR;
	return -1;
}

void ksm_log(const struct ksm_ctx *ctx, int prio, const char *file, int line, const char *fn,
	     const char *format, ...)
{
	va_list args;

	if (!ctx || prio > ctx->log_priority || !ctx->log_fn)
		return;
	va_start(args, format);
	ctx->log_fn(ctx->log_data, prio, file, line, fn, format, args);
	va_end(args);
}

KSM_EXPORT void ksm_set_log_fn(struct ksm_ctx *ctx,
			       void (*log_fn)(void *data, int priority, const char *file, int line,
					      const char *fn, const char *format, va_list args),
			       void *data)
{
	if (!ctx)
		return;
	ctx->log_fn = log_fn ? log_fn : log_stderr;
	ctx->log_data = log_fn ? data : NULL;
}

KSM_EXPORT void ksm_set_interrupt(struct ksm_ctx *ctx, const volatile sig_atomic_t *flag)
{
	if (ctx)
		ctx->interrupt = flag;
}

bool ksm_interrupted(const struct ksm_ctx *ctx)
{
	return ctx && ctx->interrupt && *ctx->interrupt;
}

KSM_EXPORT int ksm_get_log_priority(const struct ksm_ctx *ctx)
{
	return ctx ? ctx->log_priority : LOG_ERR;
}

KSM_EXPORT void ksm_set_log_priority(struct ksm_ctx *ctx, int priority)
{
	if (ctx)
		ctx->log_priority = priority;
}

/* ------------------------------------------------------------------------ */
/* Messages of ksm_strerror()                                                */

static __thread struct {
	int err;
	char text[1024];
	char generic[128];
} last;

int ksm_fail(int err, const char *format, ...)
{
	va_list args;

	last.err = err;
	va_start(args, format);
	vsnprintf(last.text, sizeof(last.text), format, args);
	va_end(args);
	return err;
}

void ksm_fail_clear(void)
{
	last.err = 0;
	last.text[0] = '\0';
}

const char *ksm_fail_message(int err)
{
	return err != 0 && last.err == err && last.text[0] ? last.text : NULL;
}

/*
 * Length of the valid UTF-8 sequence of two or more bytes at @s that encodes
 * a printable character (not a C1 control, U+0080 to U+009F), else 0.
 */
static size_t utf8_printable(const unsigned char *s, size_t avail)
{
	uint32_t cp;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF, C1 controls. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
		return 0;
	return n;
}

const char *ksm_escape(const char *s, size_t len, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (size < 4) {
		if (size > 0)
			buf[0] = '\0';
		return buf;
	}
	for (size_t i = 0; i < len && p[i];) {
		char piece[8];
		size_t n = utf8_printable(p + i, len - i), plen;

		if (n > 0) {
			memcpy(piece, p + i, n);
			plen = n;
		} else if (p[i] == '\\') {
			memcpy(piece, "\\\\", 2);
			plen = 2;
			n = 1;
		} else if (p[i] < 0x20 || p[i] >= 0x7f) {
			plen = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", p[i]);
			n = 1;
		} else {
			piece[0] = (char)p[i];
			plen = n = 1;
		}
		/* Keep room for "..." unless this is the last piece and it fits. */
		if (o + plen + 3 >= size &&
		    !(o + plen < size && (i + n >= len || !p[i + n]))) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, piece, plen);
		o += plen;
		i += n;
	}
	buf[o] = '\0';
	return buf;
}

/* What each code means across the library: the ERRORS table of libksm(3). */
static const struct {
	int err;
	const char *text;
} meanings[] = {
	{ EINVAL, "invalid argument or value" },
	{ ENOENT, "no such knob, file or partition, or KSM is not available" },
	{ EPERM, "not permitted: the knob is a counter (it cannot be written), or the process "
		 "cannot be traced (traced by another, or no ptrace access)" },
	{ EACCES, "permission denied: the caller lacks the permission or privilege" },
	{ EROFS, "sysfs is mounted read-only" },
	{ EBUSY, "a prerequisite does not hold (pages still merged, the advisor is on, a boost is "
		 "running, or the process has a seccomp filter)" },
	{ EOPNOTSUPP, "the kernel lacks this interface" },
	{ ESRCH, "no such process" },
	{ EHOSTDOWN, "ksmd is not running (run is not 1)" },
	{ ENODATA, "no process has memory registered for merging" },
	{ ETIMEDOUT, "timed out" },
	{ EINTR, "interrupted by a signal" },
	{ EBADMSG, "text that cannot be parsed" },
	{ ENOKEY, "a profile line names no knob" },
	{ ENOTRECOVERABLE, "a change failed and rolling it back failed too: knobs were left changed" },
	{ ENOMEM, "out of memory" },
	{ EFAULT, "the memory range has unmapped holes" },
	{ EEXIST, "the partition exists" },
	{ ENAMETOOLONG, "the name is too long" },
	{ EBADF, "the handle was not opened for this (KSM_SYNC)" },
	{ EIO, "the kernel accepted the request but did not carry it out" },
	{ ENOSPC, "the buffer is too small" },
	{ EAGAIN, "too many holders (try again later)" },
	{ ECANCELED, "KSM is disabled (run is 2, or by policy: 'ksmctl enable' undoes it): no boost or merge now" },
	{ EUCLEAN, "the boost state directory or a file in it is not safe to trust" },
	{ ELOOP, "a file to be written or given a mode is a symbolic link, which is not followed" },
};

KSM_EXPORT const char *ksm_strerror(int err)
{
	const char *m;

	if (err > 0)
		err = -err;
	m = ksm_fail_message(err);
	if (m)
		return m;
	for (size_t i = 0; i < KSM_ARRAY_SIZE(meanings); i++)
		if (-meanings[i].err == err)
			return meanings[i].text;
	if (err == 0)
		return "success";
	snprintf(last.generic, sizeof(last.generic), "%s", strerror(-err));
	return last.generic;
}

/* ------------------------------------------------------------------------ */
/* The context                                                               */

static void ctx_free(struct ksm_ctx *ctx)
{
	for (int i = 0; i < KSM_KNOB_NR; i++)
		if (ctx->knobfd[i] >= 0)
			close(ctx->knobfd[i]);
	if (ctx->ksmfd >= 0)
		close(ctx->ksmfd);
	if (ctx->rootfd >= 0)
		close(ctx->rootfd);
	free(ctx->sysroot);
	free(ctx->profile_path);
	free(ctx);
}

KSM_EXPORT int ksm_new_at(struct ksm_ctx **out, const char *sysroot)
{
	struct ksm_ctx *ctx;
	const char *env;
	size_t len;
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	ksm_fail_clear();
	if (!sysroot)
		sysroot = secure_getenv("KSM_SYSROOT");
	if (!sysroot || !*sysroot)
		sysroot = "/";

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->refcount = 1;
	ctx->rootfd = -1;
	ctx->ksmfd = -1;
	for (int i = 0; i < KSM_KNOB_NR; i++)
		ctx->knobfd[i] = -1;
	ctx->page_size = sysconf(_SC_PAGESIZE);
	ctx->log_fn = log_stderr;
	ctx->log_priority = LOG_ERR;
	env = secure_getenv("KSM_LOG");
	if (env && parse_priority(env) >= 0)
		ctx->log_priority = parse_priority(env);

	ctx->sysroot = strdup(sysroot);
	/* <sysroot><sysconfdir>/ksm.conf without a doubled slash. */
	len = strlen(sysroot);
	while (len > 0 && sysroot[len - 1] == '/')
		len--;
	if (ctx->sysroot &&
	    asprintf(&ctx->profile_path, "%.*s%s/ksm.conf", (int)len, sysroot, LIBKSM_SYSCONFDIR) < 0)
		ctx->profile_path = NULL;
	if (!ctx->sysroot || !ctx->profile_path) {
		ctx_free(ctx);
		return -ENOMEM;
	}

	ctx->rootfd = open(sysroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->rootfd < 0) {
		r = -errno;
		ctx_free(ctx);
		return ksm_fail(r, "cannot open the system root %s: %s", sysroot, strerror(-r));
	}
	ctx->ksmfd = openat(ctx->rootfd, KSM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->ksmfd < 0 && errno != ENOENT && errno != ENOTDIR) {
		r = -errno;
		ctx_free(ctx);
		return ksm_fail(r, "cannot open %s/" KSM_DIR ": %s", len ? sysroot : "", strerror(-r));
	}
	*out = ctx;
	return 0;
}

KSM_EXPORT int ksm_new(struct ksm_ctx **out)
{
	return ksm_new_at(out, NULL);
}

KSM_EXPORT struct ksm_ctx *ksm_ref(struct ksm_ctx *ctx)
{
	if (ctx)
		__atomic_add_fetch(&ctx->refcount, 1, __ATOMIC_RELAXED);
	return ctx;
}

KSM_EXPORT struct ksm_ctx *ksm_unref(struct ksm_ctx *ctx)
{
	if (!ctx)
		return NULL;
	if (__atomic_sub_fetch(&ctx->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return ctx;
	ctx_free(ctx);
	return NULL;
}

KSM_EXPORT const char *ksm_get_sysroot(const struct ksm_ctx *ctx)
{
	return ctx ? ctx->sysroot : "/";
}

KSM_EXPORT long ksm_get_page_size(const struct ksm_ctx *ctx)
{
	return ctx ? ctx->page_size : sysconf(_SC_PAGESIZE);
}

KSM_EXPORT const char *ksm_profile_path(const struct ksm_ctx *ctx)
{
	return ctx ? ctx->profile_path : LIBKSM_SYSCONFDIR "/ksm.conf";
}

/*
 * "KSM is not available" for the context: the message every call that needs
 * the KSM directory gives when it is missing.
 */
int ksm_fail_no_ksm(const struct ksm_ctx *ctx)
{
	const char *root = ctx ? ctx->sysroot : "/";
	bool slash = root[0] && root[strlen(root) - 1] == '/';

	return ksm_fail(-ENOENT,
			"KSM is not available: %s%s" KSM_DIR " does not exist (a kernel built "
			"without CONFIG_KSM%s)",
			root, slash ? "" : "/",
			strcmp(root, "/") == 0 ? ", or /sys is not mounted" : ", or not a system root");
}

void ksm_copy_out(void *dst, size_t size, const void *src, size_t len)
{
	memcpy(dst, src, size < len ? size : len);
	if (size > len)
		memset((char *)dst + len, 0, size - len);
}

int ksm_fail_struct_size(const char *type, size_t size)
{
	return ksm_fail(-EINVAL, "a struct %s of %zu bytes cannot hold .present (pass "
				 "sizeof(struct %s))", type, size, type);
}

/* "<sysroot>/sys/kernel/mm/ksm/<name>" without a doubled slash, for messages. */
const char *ksm_knob_path(const struct ksm_ctx *ctx, const char *name, char *buf, size_t size)
{
	const char *root = ctx ? ctx->sysroot : "/";
	size_t len = strlen(root);

	while (len > 0 && root[len - 1] == '/')
		len--;
	snprintf(buf, size, "%.*s/" KSM_DIR "/%s", (int)len, root, name);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* The node-wide disable, as recorded in the default profile                */

int ksm_policy_read(const struct ksm_ctx *ctx, int64_t *since)
{
	char *line = NULL;
	size_t cap = 0;
	int disabled = 0;
	int64_t marker = -1;
	struct stat stb;
	FILE *f;

	*since = -1;
	f = fopen(ctx->profile_path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (getline(&line, &cap, f) > 0) {
		char *p = line + strspn(line, " \t"), *v;
		struct tm tm;

		if (strncmp(p, KSM_POLICY_MARKER, strlen(KSM_POLICY_MARKER)) == 0) {
			memset(&tm, 0, sizeof(tm));
			v = strptime(p + strlen(KSM_POLICY_MARKER), "%Y-%m-%dT%H:%M:%SZ", &tm);
			marker = v ? (int64_t)timegm(&tm) : -1;
			continue;
		}
		if (strncmp(p, "run", 3) != 0)
			continue;
		p += 3 + strspn(p + 3, " \t");
		if (*p != '=')
			continue;
		p++;
		p += strspn(p, " \t");
		disabled = *p == '2' && (p[1] == '\0' || strchr(" \t\r\n#", p[1]));
	}
	free(line);
	if (disabled) {
		*since = marker;
		if (marker < 0 && fstat(fileno(f), &stb) == 0)
			*since = stb.st_mtime;
	}
	fclose(f);
	return disabled;
}

int ksm_disabled_by_policy(struct ksm_ctx *ctx)
{
	int64_t since;
	char when[32] = "an unknown time";
	int r = ksm_policy_read(ctx, &since);

	if (r < 0) {
		ksm_dbg(ctx, "cannot read %s: %s", ctx->profile_path, strerror(-r));
		return 0;
	}
	if (r == 0)
		return 0;
	if (since >= 0) {
		time_t t = (time_t)since;
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
	}
	ksm_fail(-ECANCELED, "KSM is disabled by policy since %s (run = 2 in %s): "
		 "'ksmctl enable' undoes it", when, ctx->profile_path);
	return 1;
}

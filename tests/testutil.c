// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Test helpers. Fake sysroots are copied into a temporary directory for each
 * test, so that tests can change them and run in parallel.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ksm.h>

#include "testutil.h"

#define KSM_REL "sys/kernel/mm/ksm"

/*
 * tu_run_suite() makes one session directory before the tests run and removes
 * it afterwards, so copies left behind by a test that check ended early (a
 * failed assertion in a forked test skips the teardown) go with it.
 */
static char session_dir[PATH_MAX];

/* State of the nftw() walk in tu_sysroot_copy(). */
static const char *copy_dst;
static size_t copy_srclen;
static char copy_err[PATH_MAX + 128];

static int copy_file(const char *src, const char *dst, mode_t mode)
{
	char buf[8192];
	ssize_t n;
	int in, out, r = 0;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			r = errno ? -errno : -EIO;
			break;
		}
	}
	if (n < 0)
		r = -errno;
	if (r == 0 && fchmod(out, mode) < 0)
		r = -errno;
	close(in);
	if (close(out) < 0 && r == 0)
		r = -errno;
	return r;
}

/* The mode the kernel gives a file of the KSM directory: 0444 for counters, else 0644. */
static mode_t knob_mode(const char *rel)
{
	const char *slash = strrchr(rel, '/');
	int knob;

	if (!slash || (size_t)(slash - rel) != strlen(KSM_REL) || strncmp(rel, KSM_REL, strlen(KSM_REL)) != 0)
		return 0644;
	knob = ksm_knob_lookup(slash + 1);
	if (knob >= 0 && ksm_knob_info((enum ksm_knob)knob)->kind == KSM_KIND_COUNTER)
		return 0444;
	return 0644;
}

static int copy_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *rel = path + copy_srclen;
	char dst[PATH_MAX];
	int r = 0;

	(void)st;
	(void)ftw;
	while (*rel == '/')
		rel++;
	if (*rel == '\0')
		return 0; /* the top directory: mkdtemp() made it */
	if ((size_t)snprintf(dst, sizeof(dst), "%s/%s", copy_dst, rel) >= sizeof(dst)) {
		snprintf(copy_err, sizeof(copy_err), "path too long: %s", rel);
		return 1;
	}
	switch (type) {
	case FTW_D:
		if (mkdir(dst, 0755) < 0)
			r = -errno;
		break;
	case FTW_F:
		r = copy_file(path, dst, knob_mode(rel));
		break;
	default:
		snprintf(copy_err, sizeof(copy_err), "%s: not a file or directory", path);
		return 1;
	}
	if (r < 0) {
		snprintf(copy_err, sizeof(copy_err), "copy %s: %s", path, strerror(-r));
		return 1;
	}
	return 0;
}

char *tu_sysroot_copy(const char *name)
{
	const char *base = getenv("LIBKSM_SYSROOTS");
	const char *tmp = getenv("TMPDIR");
	char src[PATH_MAX], tmpl[PATH_MAX];
	struct stat st;
	int r;

	if (!base || !*base) {
		/* Run by hand from the source tree (meson test sets the variable). */
		base = "tests/sysroots";
		ck_assert_msg(stat(base, &st) == 0 && S_ISDIR(st.st_mode),
			      "LIBKSM_SYSROOTS is not set and there is no ./tests/sysroots");
	}
	ck_assert_msg((size_t)snprintf(src, sizeof(src), "%s/%s", base, name) < sizeof(src), "path too long");
	ck_assert_msg(stat(src, &st) == 0 && S_ISDIR(st.st_mode), "no sysroot %s: %s", src,
		      strerror(errno));
	if (session_dir[0])
		tmp = session_dir;
	else if (!tmp || !*tmp)
		tmp = "/tmp";
	ck_assert_msg((size_t)snprintf(tmpl, sizeof(tmpl), "%s/libksm-%s-XXXXXX", tmp, name) < sizeof(tmpl),
		      "path too long");
	ck_assert_msg(mkdtemp(tmpl) != NULL, "mkdtemp %s: %s", tmpl, strerror(errno));

	copy_dst = tmpl;
	copy_srclen = strlen(src);
	copy_err[0] = '\0';
	r = nftw(src, copy_one, 16, FTW_PHYS);
	if (r != 0) {
		if (!copy_err[0])
			snprintf(copy_err, sizeof(copy_err), "nftw %s: %s", src, strerror(errno));
		tu_rmtree(tmpl);
		ck_abort_msg("cannot copy sysroot %s: %s", name, copy_err);
	}
	char *path = strdup(tmpl);
	ck_assert_ptr_nonnull(path);
	return path;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

void tu_rmtree(const char *path)
{
	if (!path)
		return;
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
		fprintf(stderr, "warning: cannot remove %s: %s\n", path, strerror(errno));
}

char *tu_read(const char *dir, const char *relpath)
{
	char path[PATH_MAX];
	size_t len = 0, cap = 256;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	ck_assert_ptr_nonnull(buf);
	ck_assert_msg((size_t)snprintf(path, sizeof(path), "%s/%s", dir, relpath) < sizeof(path),
		      "path too long");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		ck_abort_msg("open %s: %s", path, strerror(errno));
	}
	for (;;) {
		if (cap - len < 2) {
			char *nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				free(buf);
				close(fd);
				ck_abort_msg("out of memory");
			}
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			int e = errno;
			free(buf);
			close(fd);
			ck_abort_msg("read %s: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

void tu_write(const char *dir, const char *relpath, const char *text)
{
	char path[PATH_MAX];
	size_t len = strlen(text);
	struct stat st;
	bool restore = false;
	int fd, e = 0;

	ck_assert_msg((size_t)snprintf(path, sizeof(path), "%s/%s", dir, relpath) < sizeof(path),
		      "path too long");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EACCES && stat(path, &st) == 0 &&
	    chmod(path, st.st_mode | S_IWUSR) == 0) {
		/* A 0444 counter and no CAP_DAC_OVERRIDE: write it anyway, keep its mode. */
		restore = true;
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	}
	if (fd < 0) {
		e = errno;
	} else {
		if (write(fd, text, len) != (ssize_t)len)
			e = errno ? errno : EIO;
		if (close(fd) < 0 && !e)
			e = errno;
	}
	if (restore && chmod(path, st.st_mode & 07777) < 0 && !e)
		e = errno;
	ck_assert_msg(e == 0, "write %s: %s", path, strerror(e));
}

void tu_use(const char *name, char **root, struct ksm_ctx **ctx)
{
	int r;

	*root = tu_sysroot_copy(name);
	r = ksm_new_at(ctx, *root);
	ck_assert_msg(r == 0, "ksm_new_at(%s): %s", name, strerror(-r));
}

void tu_unuse(char **root, struct ksm_ctx **ctx)
{
	ksm_unref(*ctx);
	*ctx = NULL;
	if (*root) {
		tu_rmtree(*root);
		free(*root);
		*root = NULL;
	}
}

int64_t tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tu_rmap_item_size(void)
{
	return sizeof(void *) == 8 ? 64 : 32;
}

int tu_run_suite(Suite *s)
{
	const char *tmp = getenv("TMPDIR");
	SRunner *sr = srunner_create(s);
	int failed;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(session_dir, sizeof(session_dir), "%s/libksm-test-XXXXXX", tmp) >= sizeof(session_dir) ||
	    !mkdtemp(session_dir)) {
		fprintf(stderr, "cannot create a directory in %s: %s\n", tmp, strerror(errno));
		srunner_free(sr);
		return EXIT_FAILURE;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tu_rmtree(session_dir);
	session_dir[0] = '\0';
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the library does with a system root it cannot trust, on copies of the
 * fake sysroots:
 *  - text from files and names quoted in messages has no control characters
 *    or invalid UTF-8 left (escaped as \xHH);
 *  - no write and no chmod follows a symbolic link placed where a knob or a
 *    trigger file should be: the link's target stays untouched;
 *  - a file longer than the library reads is reported, never read cut;
 *  - huge values saturate the derived figures instead of overflowing, and a
 *    negative value of an unsigned knob or counter is refused;
 *  - the directory stream over /proc is close-on-exec from its first moment.
 * The unit suite also runs built with UBSan (scripts/dev.sh test), where an
 * overflow in the derived figures stops the test.
 */
#include <dlfcn.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ksm.h>

#include "testutil.h"

#define KSM_REL "sys/kernel/mm/ksm"
#define I64_MAX_TEXT "9223372036854775807\n"

static char *root;
static struct ksm_ctx *ctx;

static void use(const char *tree)
{
	tu_use(tree, &root, &ctx);
}

static void teardown(void)
{
	tu_unuse(&root, &ctx);
	unsetenv("LIBKSM_SKSM_SYSCALLS");
}

/* No byte of @s is a control character, DEL or beyond ASCII (the messages
 * these tests provoke quote only ASCII around the escaped text). */
static void assert_clean(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		ck_assert_msg(*p >= 0x20 && *p < 0x7f, "byte %#x at %zu of \"%s\"", *p,
			      (size_t)(p - (const unsigned char *)s), s);
}

/* <root>/<rel> replaced by a symbolic link to @target. */
static void make_link(const char *rel, const char *target)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	ck_assert_msg(unlink(path) == 0, "unlink %s: %s", path, strerror(errno));
	ck_assert_msg(symlink(target, path) == 0, "symlink %s: %s", path, strerror(errno));
}

/* A file outside the system root that a link points to; malloc'd path. */
static char *victim(const char *content)
{
	char *path;
	FILE *f;

	ck_assert_int_ge(asprintf(&path, "%s.victim", root), 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0644), 0);
	return path;
}

static char *slurp(const char *path)
{
	char buf[256];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	close(fd);
	return strdup(buf);
}

/* ------------------------------------------------------------------------ */
/* 6: escaping in messages                                                   */

START_TEST(message_escapes_file_content)
{
	struct ksm_proc_stats st;
	const char *m;
	int r;

	use("6.18");
	tu_write(root, "proc/2001/ksm_stat", "ksm_rmap_items \x1b[2J\x7f\xff\n");
	r = ksm_proc_stats_read(ctx, 2001, &st, sizeof(st));
	ck_assert_int_eq(r, -EBADMSG);
	m = ksm_strerror(r);
	assert_clean(m);
	ck_assert_msg(strstr(m, "'ksm_rmap_items \\x1b[2J\\x7f\\xff'"), "%s", m);
}
END_TEST

START_TEST(message_escapes_comm)
{
	char comm[4];
	const char *m;
	int r;

	use("6.18");
	tu_write(root, "proc/2001/comm", "\x1b]0;owned\x07\xc2\x9b\n");
	r = ksm_proc_comm(ctx, 2001, comm, sizeof(comm));
	ck_assert_int_eq(r, -ENOSPC);
	m = ksm_strerror(r);
	assert_clean(m);
	/* A C1 control (U+009B, CSI) is escaped byte by byte too. */
	ck_assert_msg(strstr(m, "('\\x1b]0;owned\\x07\\xc2\\x9b')"), "%s", m);
}
END_TEST

START_TEST(message_escapes_names)
{
	const char *m;
	int r;

	r = ksm_partition_name_check("vm\x1b[2J\\\xe2\x82");
	ck_assert_int_eq(r, -EINVAL);
	m = ksm_strerror(r);
	assert_clean(m);
	/* A backslash is doubled, so that "\x1b" in a name cannot pass for ESC. */
	ck_assert_msg(strstr(m, "'vm\\x1b[2J\\\\\\xe2\\x82'"), "%s", m);
	/* Valid UTF-8 stays as it is. */
	ck_assert_int_eq(ksm_partition_name_check("caf\xc3\xa9\x1b"), -EINVAL);
	ck_assert_msg(strstr(ksm_strerror(-EINVAL), "'caf\xc3\xa9\\x1b'"), "%s",
		      ksm_strerror(-EINVAL));
}
END_TEST

START_TEST(message_escapes_profile)
{
	struct ksm_txn *txn = NULL;
	char path[4096];
	unsigned int line;
	int r;

	use("6.18");
	tu_write(root, "ksm.conf", "pages_to_scan = 100\n\x1b[2Jrun = 1\n");
	snprintf(path, sizeof(path), "%s/ksm.conf", root);
	ck_assert_int_eq(ksm_txn_new(ctx, &txn), 0);
	r = ksm_profile_load(txn, path, &line);
	ck_assert_int_eq(r, -ENOKEY);
	ck_assert_uint_eq(line, 2);
	ck_assert_msg(strstr(ksm_strerror(r), "unknown knob '\\x1b[2Jrun'"), "%s", ksm_strerror(r));
	tu_write(root, "ksm.conf", "pages_to_scan = 1\x1b[2J\n");
	r = ksm_profile_load(txn, path, &line);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_msg(strstr(ksm_strerror(r), "'1\\x1b[2J'"), "%s", ksm_strerror(r));
	ksm_txn_unref(txn);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 7: symbolic links                                                          */

START_TEST(knob_write_refuses_link)
{
	char *target, *content;
	int64_t v;

	use("6.18");
	target = victim("5\n");
	make_link(KSM_REL "/pages_to_scan", target);
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_PAGES_TO_SCAN, 200), -ELOOP);
	ck_assert_msg(strstr(ksm_strerror(-ELOOP), "pages_to_scan is a symbolic link"), "%s",
		      ksm_strerror(-ELOOP));
	content = slurp(target);
	ck_assert_str_eq(content, "5\n");
	free(content);
	/* A transaction's write takes the same path. */
	make_link(KSM_REL "/sleep_millisecs", target);
	{
		struct ksm_txn *txn = NULL;

		ck_assert_int_eq(ksm_txn_new(ctx, &txn), 0);
		ck_assert_int_eq(ksm_txn_set(txn, KSM_KNOB_SLEEP_MILLISECS, 7), 0);
		ck_assert_int_eq(ksm_txn_commit(txn, 0, NULL), -ELOOP);
		ksm_txn_unref(txn);
	}
	content = slurp(target);
	ck_assert_str_eq(content, "5\n");
	free(content);
	/* Other knobs are written as ever. */
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_MAX_PAGE_SHARING, 300), 0);
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_MAX_PAGE_SHARING, &v), 0);
	ck_assert_int_eq(v, 300);
	unlink(target);
	free(target);
}
END_TEST

/* The test plays the kernel: it makes the partition named in add_partition,
 * its trigger_merge a link to the victim. */
struct link_kernel {
	const char *target;
	bool done;
};

static void *link_kernel(void *arg)
{
	struct link_kernel *lk = arg;
	char path[8192], tmp[2048], dst[2048];

	snprintf(path, sizeof(path), "%s/" KSM_REL "/control/add_partition", root);
	for (int i = 0; i < 2000; i++) {
		struct stat st;

		if (stat(path, &st) == 0 && st.st_size == 4) {
			snprintf(tmp, sizeof(tmp), "%s/" KSM_REL "/.vm1", root);
			snprintf(dst, sizeof(dst), "%s/" KSM_REL "/vm1", root);
			if (mkdir(tmp, 0755) < 0)
				break;
			snprintf(path, sizeof(path), "%s/trigger_merge", tmp);
			if (symlink(lk->target, path) < 0)
				break;
			snprintf(path, sizeof(path), "%s/trigger_unmerge", tmp);
			if (symlink(lk->target, path) < 0)
				break;
			lk->done = rename(tmp, dst) == 0;
			break;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return NULL;
}

START_TEST(partition_chmod_refuses_link)
{
	struct ksm_partition *p = NULL;
	struct link_kernel lk;
	struct stat st;
	pthread_t t;
	char *target;
	int r;

	setenv("LIBKSM_SKSM_SYSCALLS", "", 1);
	use("sksm-rfc");
	target = victim("precious\n");
	lk = (struct link_kernel){ .target = target };
	ck_assert_int_eq(pthread_create(&t, NULL, link_kernel, &lk), 0);
	r = ksm_partition_open(ctx, "vm1", KSM_CREAT, 0666, &p);
	pthread_join(t, NULL);
	ck_assert(lk.done);
	ck_assert_int_eq(r, -ELOOP);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(ksm_strerror(r), "trigger_merge: it is a symbolic link"), "%s",
		      ksm_strerror(r));
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	unlink(target);
	free(target);
}
END_TEST

START_TEST(partition_write_refuses_link)
{
	struct ksm_partition *p = NULL;
	char rel[256], *target, *content;

	setenv("LIBKSM_SKSM_SYSCALLS", "", 1);
	use("sksm-rfc");
	target = victim("precious\n");
	snprintf(rel, sizeof(rel), KSM_REL "/tenant-a/trigger_merge");
	make_link(rel, target);
	/* The directory is still a partition (trigger_merge exists); the write is refused. */
	ck_assert_int_eq(ksm_partition_open(ctx, "tenant-a", KSM_SYNC, 0, &p), 0);
	ck_assert_int_eq(ksm_partition_merge(p, 4242, 0x1000, 0x3000), -ELOOP);
	content = slurp(target);
	ck_assert_str_eq(content, "precious\n");
	free(content);
	ksm_partition_unref(p);
	unlink(target);
	free(target);
}
END_TEST

START_TEST(profile_save_replaces_link)
{
	char path[4096], *target, *content;
	struct stat st;

	use("6.18");
	target = victim("precious\n");
	snprintf(path, sizeof(path), "%s/saved.conf", root);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(ksm_profile_save(ctx, path), 0);
	/* The link itself is replaced by the new file; its target is not written. */
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	content = slurp(target);
	ck_assert_str_eq(content, "precious\n");
	free(content);
	unlink(target);
	free(target);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 8: truncation                                                             */

START_TEST(knob_longer_than_buffer)
{
	struct ksm_stats st;
	int64_t v;
	int r;

	use("6.18");
	/* 60 blanks and a number: cut at 63 bytes it would read as 123. */
	tu_write(root, KSM_REL "/pages_to_scan",
		 "                                                            12345\n");
	r = ksm_get(ctx, KSM_KNOB_PAGES_TO_SCAN, &v);
	ck_assert_int_eq(r, -EBADMSG);
	ck_assert_msg(strstr(ksm_strerror(r), "/sys/kernel/mm/ksm/pages_to_scan: it holds more than 63 bytes"),
		      "%s", ksm_strerror(r));
	r = ksm_stats_read(ctx, &st, sizeof(st));
	ck_assert_int_eq(r, -EBADMSG);
	ck_assert_msg(strstr(ksm_strerror(r), "/sys/kernel/mm/ksm/pages_to_scan: it holds more than 63 bytes"),
		      "%s", ksm_strerror(r));
	/* 63 bytes exactly still fit. */
	tu_write(root, KSM_REL "/pages_to_scan",
		 "                                                         12345\n");
	ck_assert_int_eq(ksm_get(ctx, KSM_KNOB_PAGES_TO_SCAN, &v), 0);
	ck_assert_int_eq(v, 12345);
}
END_TEST

/* A ksm_stat of @pad bytes of unknown lines, then the 6.18 lines. */
static void write_padded_ksm_stat(size_t pad)
{
	char *text = malloc(pad + 256);
	size_t n = 0;

	ck_assert_ptr_nonnull(text);
	while (n + 20 <= pad)
		n += (size_t)sprintf(text + n, "ksm_padding_%06zu\n", n);
	while (n < pad)
		text[n++] = '\n';
	sprintf(text + n, "ksm_rmap_items 4096\nksm_zero_pages 100\nksm_merging_pages 3000\n"
			  "ksm_process_profit 12435456\nksm_merge_any: yes\nksm_mergeable: yes\n");
	tu_write(root, "proc/2001/ksm_stat", text);
	free(text);
}

START_TEST(ksm_stat_long)
{
	struct ksm_proc_stats st;
	int r;

	use("6.18");
	/* The profit straddles byte 1023, where the old buffer ended. */
	write_padded_ksm_stat(1000);
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 2001, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.ksm_process_profit, 12435456);
	ck_assert_int_eq(st.ksm_mergeable, 1);
	/* Longer than the library reads: an error naming the file, not a cut read. */
	write_padded_ksm_stat(5000);
	r = ksm_proc_stats_read(ctx, 2001, &st, sizeof(st));
	ck_assert_int_eq(r, -EBADMSG);
	ck_assert_msg(strstr(ksm_strerror(r), "/proc/2001/ksm_stat holds more than 4095 bytes"),
		      "%s", ksm_strerror(r));
}
END_TEST

START_TEST(comm_long)
{
	char comm[64];
	int r;

	use("6.18");
	tu_write(root, "proc/2001/comm",
		 "a-name-much-longer-than-the-kernel-allows-for-a-command-name-xyz\n");
	r = ksm_proc_comm(ctx, 2001, comm, sizeof(comm));
	ck_assert_int_eq(r, -EBADMSG);
	ck_assert_msg(strstr(ksm_strerror(r), "/proc/2001/comm holds more than 63 bytes"), "%s",
		      ksm_strerror(r));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 9: arithmetic                                                             */

START_TEST(stats_saturate)
{
	struct ksm_stats st;

	/* 6.1 has no general_profit: the profit is the library's formula. */
	use("6.1");
	tu_write(root, KSM_REL "/pages_sharing", I64_MAX_TEXT);
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.saved_pages, INT64_MAX);
	ck_assert_int_eq(st.saved_bytes, INT64_MAX);
	/* INT64_MAX less the rmap items of INT64_MAX pages (saturated): 0. */
	ck_assert_int_eq(st.profit_bytes, 0);

	tu_write(root, KSM_REL "/pages_sharing", "0\n");
	tu_write(root, KSM_REL "/pages_unshared", I64_MAX_TEXT);
	tu_write(root, KSM_REL "/pages_volatile", I64_MAX_TEXT);
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.saved_bytes, 0);
	ck_assert_int_eq(st.profit_bytes, -INT64_MAX);
	ck_assert(st.effectiveness == 0.0);
}
END_TEST

START_TEST(stats_saturate_zero_pages)
{
	struct ksm_stats st;

	use("6.18");
	tu_write(root, KSM_REL "/pages_sharing", I64_MAX_TEXT);
	tu_write(root, KSM_REL "/ksm_zero_pages", I64_MAX_TEXT);
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.saved_pages, INT64_MAX);
	ck_assert_int_eq(st.saved_bytes, INT64_MAX);
	/* general_profit is the kernel's and taken as it is. */
	ck_assert_int_eq(st.profit_bytes, st.general_profit);
}
END_TEST

START_TEST(proc_stats_saturate)
{
	struct ksm_proc_stats st;

	use("6.1");
	tu_write(root, "proc/4242/ksm_stat", "ksm_rmap_items " I64_MAX_TEXT);
	tu_write(root, "proc/4242/ksm_merging_pages", "4611686018427387904\n");
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 4242, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.saved_bytes, INT64_MAX);
	ck_assert_int_eq(st.profit_bytes, 0);

	teardown();
	use("6.18");
	tu_write(root, "proc/2001/ksm_stat",
		 "ksm_rmap_items 1\nksm_zero_pages " I64_MAX_TEXT "ksm_merging_pages " I64_MAX_TEXT);
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 2001, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.saved_bytes, INT64_MAX);
}
END_TEST

START_TEST(negative_unsigned_refused)
{
	struct ksm_proc_stats pst;
	struct ksm_stats st;
	int64_t v;
	int r;

	use("6.18");
	tu_write(root, KSM_REL "/pages_to_scan", "-5\n");
	r = ksm_get(ctx, KSM_KNOB_PAGES_TO_SCAN, &v);
	ck_assert_int_eq(r, -EBADMSG);
	ck_assert_msg(strstr(ksm_strerror(r), "pages_to_scan: expected an unsigned decimal number, found '-5'"),
		      "%s", ksm_strerror(r));
	tu_write(root, KSM_REL "/pages_to_scan", "1\x1b[2J\n");
	r = ksm_get(ctx, KSM_KNOB_PAGES_TO_SCAN, &v);
	ck_assert_int_eq(r, -EBADMSG);
	ck_assert_msg(strstr(ksm_strerror(r), "found '1\\x1b[2J'"), "%s", ksm_strerror(r));
	tu_write(root, KSM_REL "/pages_to_scan", "100\n");
	tu_write(root, KSM_REL "/full_scans", "-1\n");
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), -EBADMSG);
	tu_write(root, KSM_REL "/full_scans", "0\n");
	/* Signed knobs and counters take negative values. */
	tu_write(root, KSM_REL "/general_profit", "-9223372036854775808\n");
	tu_write(root, KSM_REL "/ksm_zero_pages", "-3\n");
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.general_profit, INT64_MIN);
	ck_assert_int_eq(st.profit_bytes, INT64_MIN);

	tu_write(root, "proc/2001/ksm_stat", "ksm_rmap_items -3\n");
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 2001, &pst, sizeof(pst)), -EBADMSG);
	tu_write(root, "proc/2001/ksm_stat", "ksm_rmap_items 3\nksm_process_profit -4096\n");
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 2001, &pst, sizeof(pst)), 0);
	ck_assert_int_eq(pst.ksm_process_profit, -4096);
}
END_TEST

START_TEST(wait_negative_full_scans)
{
	use("6.18");
	tu_write(root, KSM_REL "/run", "1\n");
	tu_write(root, KSM_REL "/full_scans", "-9223372036854775808\n");
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, 200), -EBADMSG);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 10: close-on-exec                                                         */

static int fdopendir_calls, fdopendir_without_cloexec;

/* Interposed on the C library's: is every stream's descriptor close-on-exec? */
DIR *fdopendir(int fd)
{
	static DIR *(*real)(int);
	int flags = fcntl(fd, F_GETFD);

	if (!real)
		real = (DIR * (*)(int)) dlsym(RTLD_NEXT, "fdopendir");
	__atomic_add_fetch(&fdopendir_calls, 1, __ATOMIC_RELAXED);
	if (flags >= 0 && !(flags & FD_CLOEXEC))
		__atomic_add_fetch(&fdopendir_without_cloexec, 1, __ATOMIC_RELAXED);
	return real(fd);
}

static int count_proc(const struct ksm_proc *p, void *data)
{
	(*(int *)data)++;
	return 0;
}

static int count_name(const char *name, void *data)
{
	(*(int *)data)++;
	return 0;
}

START_TEST(directory_streams_cloexec)
{
	int n = 0;

	use("6.18");
	fdopendir_calls = fdopendir_without_cloexec = 0;
	ck_assert_int_gt(ksm_proc_foreach(ctx, count_proc, &n), 0);
	teardown();
	setenv("LIBKSM_SKSM_SYSCALLS", "", 1);
	use("sksm-rfc");
	ck_assert_int_eq(ksm_partition_foreach(ctx, count_name, &n), 2);
	ck_assert_int_ge(fdopendir_calls, 2);
	ck_assert_int_eq(fdopendir_without_cloexec, 0);
}
END_TEST

static Suite *hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("hostile");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, message_escapes_file_content);
	tcase_add_test(tc, message_escapes_comm);
	tcase_add_test(tc, message_escapes_names);
	tcase_add_test(tc, message_escapes_profile);
	tcase_add_test(tc, knob_write_refuses_link);
	tcase_add_test(tc, partition_chmod_refuses_link);
	tcase_add_test(tc, partition_write_refuses_link);
	tcase_add_test(tc, profile_save_replaces_link);
	tcase_add_test(tc, knob_longer_than_buffer);
	tcase_add_test(tc, ksm_stat_long);
	tcase_add_test(tc, comm_long);
	tcase_add_test(tc, stats_saturate);
	tcase_add_test(tc, stats_saturate_zero_pages);
	tcase_add_test(tc, proc_stats_saturate);
	tcase_add_test(tc, negative_unsigned_refused);
	tcase_add_test(tc, wait_negative_full_scans);
	tcase_add_test(tc, directory_streams_cloexec);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(hostile_suite());
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * 'ksmctl partition', run as a separate process: against copies of the
 * sksm-rfc fake sysroot with a thread of this process playing the RFC kernel
 * (tests/fake_sksm.c), and against the running kernel and the mainline fake
 * trees, where every subcommand must fail with an explanation.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_sksm.h"
#include "ksm.h"
#include "testutil.h"
#include "cli.h"

#define KSM_REL "sys/kernel/mm/ksm"

static struct fake_sksm *kernel;

static void setup_rfc(void)
{
	root = tu_sysroot_copy("sksm-rfc");
	fake_sksm_modes(root);
	kernel = fake_sksm_start(root);
	snprintf(sysroot_opt, sizeof(sysroot_opt), "--sysroot=%s", root);
}

static void teardown_rfc(void)
{
	fake_sksm_stop(kernel);
	kernel = NULL;
	teardown();
}

#define assert_file(rel, expected)                                           \
	do {                                                                 \
		char *_c = tu_read(root, KSM_REL "/" rel);                   \
		ck_assert_str_eq(_c, expected);                              \
		free(_c);                                                    \
	} while (0)

/* ------------------------------------------------------------------------ */

START_TEST(list)
{
	struct result r = ksmctl(sysroot_opt, "partition", "list");

	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "tenant-a\ntenant-b\n");
	ck_assert_str_eq(r.err, "");
	result_free(&r);

	r = ksmctl(sysroot_opt, "partition", "list", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_json(r.out, "d", "[{'name': 'tenant-a'}, {'name': 'tenant-b'}]");
	result_free(&r);
}
END_TEST

/* A system root may hold any directory name: escaped for people, valid JSON. */
START_TEST(list_hostile_name)
{
	char path[4400];
	struct result r;

	snprintf(path, sizeof(path), "%s/sys/kernel/mm/ksm/t\x1b[2J\xff", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	tu_write(path, "trigger_merge", "");
	r = ksmctl(sysroot_opt, "partition", "list");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "t\\x1b[2J\\xff\ntenant-a\ntenant-b\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "partition", "list", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_json(r.out, "d[0]['name'] == 't\\x1b[2J\\ufffd'", "True");
	result_free(&r);
}
END_TEST

START_TEST(create_remove)
{
	struct result r;
	struct stat st;
	char path[4300];

	r = ksmctl(sysroot_opt, "partition", "create", "vm1", "--mode", "0640", "--exclusive");
	ck_assert_msg(r.status == 0, "%s", r.err);
	assert_file("control/add_partition", "vm1\n");
	fake_sksm_wait(kernel, 1);
	snprintf(path, sizeof(path), "%s/" KSM_REL "/vm1/trigger_merge", root);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0640);
	result_free(&r);

	r = ksmctl(sysroot_opt, "partition", "create", "vm1", "--exclusive");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, "ksmctl: cannot create partition 'vm1': it already exists\n");
	result_free(&r);
	/* Without --exclusive an existing partition is fine. */
	r = ksmctl(sysroot_opt, "partition", "create", "vm1");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	result_free(&r);

	r = ksmctl(sysroot_opt, "partition", "list");
	ck_assert_str_eq(r.out, "tenant-a\ntenant-b\nvm1\n");
	result_free(&r);

	/* Removal unmerges everything on this kernel: only with consent. */
	r = ksmctl(sysroot_opt, "partition", "remove", "vm1");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "unmerges every merged page of the system"));
	ck_assert_ptr_nonnull(strstr(r.err, "--allow-unmerge"));
	assert_file("control/remove_partition", "");
	result_free(&r);

	r = ksmctl(sysroot_opt, "partition", "remove", "--allow-unmerge", "vm1");
	ck_assert_msg(r.status == 0, "%s", r.err);
	assert_file("control/remove_partition", "vm1\n");
	fake_sksm_wait(kernel, 2);
	result_free(&r);

	r = ksmctl(sysroot_opt, "partition", "remove", "--allow-unmerge", "vm1");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "no such partition"));
	result_free(&r);
}
END_TEST

/*
 * With partition syscalls configured, ksm_partition_open() makes partitions
 * that live only as long as their descriptor; ksmctl asks for a partition
 * that outlasts it (KSM_PERSIST), so it uses the sysfs layout where the
 * kernel has one and refuses where only the syscalls are. A malformed
 * setting is reported by the library.
 */
START_TEST(create_syscall_backend)
{
	const char *syscalls[] = { "LIBKSM_SKSM_SYSCALLS=467,468", NULL };
	const char *bogus[] = { "LIBKSM_SKSM_SYSCALLS=bogus", NULL };
	char *plain = tu_sysroot_copy("6.18"), opt[4200];
	struct result r;

	r = ksmctl_env(syscalls, -1, sysroot_opt, "partition", "create", "vm2", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	assert_file("control/add_partition", "vm2\n");
	result_free(&r);

	snprintf(opt, sizeof(opt), "--sysroot=%s", plain);
	r = ksmctl_env(syscalls, -1, opt, "partition", "create", "vm3", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "cannot create partition 'vm3' to outlast this process"));
	ck_assert_ptr_nonnull(strstr(r.err, "only while a process holds their descriptor"));
	result_free(&r);
	tu_rmtree(plain);
	free(plain);

	r = ksmctl_env(bogus, -1, sysroot_opt, "partition", "create", "vm4", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "LIBKSM_SKSM_SYSCALLS"));
	result_free(&r);
	assert_file("control/add_partition", "vm2\n");
}
END_TEST

START_TEST(merge_unmerge)
{
	struct result r;

	r = ksmctl(sysroot_opt, "partition", "merge", "tenant-a", "1234", "0x7f0000000000", "2097152");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(r.out, "");
	assert_file("tenant-a/trigger_merge", "1234 7f0000000000 7f0000200000\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "partition", "merge", "tenant-a", "1234", "4096", "0X1000");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_file("tenant-a/trigger_merge", "1234 1000 2000\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "partition", "unmerge", "tenant-a", "1234");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_file("tenant-a/trigger_unmerge", "1234\n");
	result_free(&r);

	/* A range cannot be unmerged on this kernel; the whole process is not done instead. */
	tu_write(root, KSM_REL "/tenant-a/trigger_unmerge", "");
	r = ksmctl(sysroot_opt, "partition", "unmerge", "tenant-a", "1234", "0x1000", "0x1000");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot unmerge a range"));
	ck_assert_ptr_nonnull(strstr(r.err, "'ksmctl partition unmerge tenant-a PID'"));
	assert_file("tenant-a/trigger_unmerge", "");
	result_free(&r);

	r = ksmctl(sysroot_opt, "partition", "merge", "nope", "1234", "0x1000", "0x1000");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "ksmctl: cannot open partition 'nope': no such partition"));
	ck_assert_ptr_nonnull(strstr(r.err, "'ksmctl partition list'"));
	result_free(&r);

	r = ksmctl(sysroot_opt, "partition", "merge", "tenant-a", "1234", "0x1000", "0");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot merge into partition 'tenant-a': the range is empty"));
	result_free(&r);
}
END_TEST

START_TEST(status)
{
	struct result r, global;
	char expr[1024];
	size_t n = 0;

	r = ksmctl(sysroot_opt, "partition", "status", "tenant-a", "--json");
	ck_assert_msg(r.status == 0, "%s", r.err);
	/* The keys of 'status --json': sysfs names of the files present, plus "derived". */
	n += (size_t)snprintf(expr + n, sizeof(expr) - n, "sorted(d) == sorted([");
	for (int i = 0; i < ksm_knob_count(); i++) {
		const char *name = ksm_knob_info(i)->name;
		if (strcmp(name, "smart_scan") == 0 || strncmp(name, "advisor_", 8) == 0)
			continue;
		n += (size_t)snprintf(expr + n, sizeof(expr) - n, "'%s',", name);
	}
	snprintf(expr + n, sizeof(expr) - n, "'run_name','page_size','derived'])");
	assert_json(r.out, expr, "True");
	assert_json(r.out, "d['pages_shared'], d['pages_sharing'], d['general_profit']", "(3, 120, 483136)");
	assert_json(r.out, "d['derived']['sharing_ratio']", "40.0");
	assert_json(r.out, "sorted(d['derived'])",
		    "['effectiveness', 'page_size', 'profit_bytes', 'saved_bytes', 'saved_pages', "
		    "'sharing_ratio']");
	result_free(&r);

	/* 'ksmctl status' has no global files to show here, and says why. */
	global = ksmctl(sysroot_opt, "status", "--json");
	ck_assert_int_eq(global.status, 1);
	ck_assert_str_eq(global.out, "");
	ck_assert_ptr_nonnull(strstr(global.err, "Selective KSM"));
	ck_assert_ptr_nonnull(strstr(global.err, "ksmctl partition status NAME"));
	result_free(&global);

	r = ksmctl(sysroot_opt, "partition", "status", "tenant-a");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "Partition: tenant-a\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "  pages_sharing                        120\n"));
	result_free(&r);
}
END_TEST

START_TEST(usage)
{
	static const char *const cases[][8] = {
		{ "partition", NULL },
		{ "partition", "bogus", NULL },
		{ "partition", "list", "extra", NULL },
		{ "partition", "create", NULL },
		{ "partition", "create", "run", NULL },
		{ "partition", "create", "control", NULL },
		{ "partition", "create", "a/b", NULL },
		{ "partition", "create", "abcdefghijklmnopqrstuvwxyz012345", NULL },
		{ "partition", "create", "x", "--mode", "999", NULL },
		{ "partition", "create", "x", "--mode", "rw", NULL },
		{ "partition", "create", "x", "--bogus", NULL },
		{ "partition", "merge", "tenant-a", "1234", "0x1000", NULL },
		{ "partition", "merge", "tenant-a", "abc", "0x1000", "0x1000", NULL },
		{ "partition", "merge", "tenant-a", "-5", "0x1000", "0x1000", NULL },
		{ "partition", "merge", "tenant-a", "1234", "0xZZ", "0x1000", NULL },
		{ "partition", "merge", "tenant-a", "1234", "0x", "0x1000", NULL },
		{ "partition", "merge", "tenant-a", "1234", "12ab", "0x1000", NULL },
		{ "partition", "unmerge", "tenant-a", "1234", "0x1000", NULL },
		{ "partition", "unmerge", "tenant-a", "1234", "0x1000", "0", NULL },
		{ "partition", "status", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[12] = { getenv("KSMCTL"), sysroot_opt };
		struct result r;
		int n = 2;

		for (int j = 0; cases[i][j]; j++)
			argv[n++] = (char *)cases[i][j];
		r = run_argv(argv, NULL, -1, NULL);
		ck_assert_msg(r.status == 2, "case %zu: status %d, stderr %s", i, r.status, r.err);
		ck_assert_msg(strstr(r.err, "Try 'ksmctl help partition'"), "case %zu: %s", i, r.err);
		ck_assert_str_eq(r.out, "");
		result_free(&r);
	}
	/* Nothing reached the kernel. */
	assert_file("control/add_partition", "");
	assert_file("tenant-a/trigger_merge", "");
	assert_file("tenant-a/trigger_unmerge", "");

	struct result h = ksmctl("partition", "--help");
	ck_assert_int_eq(h.status, 0);
	ck_assert_ptr_nonnull(strstr(h.out, "Usage: ksmctl partition"));
	result_free(&h);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Kernels without Selective KSM                                             */

static void assert_unavailable(struct result *r)
{
	ck_assert_int_eq(r->status, 1);
	ck_assert_str_eq(r->out, "");
	ck_assert_ptr_nonnull(strstr(r->err, "ksmctl: Selective KSM partitions are not available"));
	ck_assert_ptr_nonnull(strstr(r->err, "LIBKSM_SKSM_SYSCALLS"));
	ck_assert_ptr_nonnull(strstr(r->err, "'ksmctl merge-now'"));
	ck_assert_ptr_nonnull(strstr(r->err, "'ksmctl exec'"));
}

START_TEST(stock_live)
{
	struct result r = ksmctl("features", "--json");
	char *has = json_eval(r.out, "d['has_selective_ksm']");
	bool sksm = strcmp(has, "True") == 0;

	free(has);
	result_free(&r);
	if (sksm) {
		printf("stock_live: skipped, this kernel has Selective KSM\n");
		return;
	}
	/* The running kernel; nothing is written because nothing can be. */
	r = ksmctl("partition", "list");
	assert_unavailable(&r);
	result_free(&r);
	r = ksmctl("partition", "list", "--json");
	assert_unavailable(&r);
	result_free(&r);
	r = ksmctl("partition", "create", "x");
	assert_unavailable(&r);
	result_free(&r);
	r = ksmctl("partition", "merge", "x", "1", "0x1000", "0x1000");
	assert_unavailable(&r);
	result_free(&r);
	r = ksmctl("partition", "status", "x");
	assert_unavailable(&r);
	result_free(&r);
}
END_TEST

START_TEST(stock_trees)
{
	static const char *const trees[] = { "6.18", "noksm" };

	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
		struct result r;

		root = tu_sysroot_copy(trees[i]);
		snprintf(sysroot_opt, sizeof(sysroot_opt), "--sysroot=%s", root);
		r = ksmctl(sysroot_opt, "partition", "create", "x", "--mode", "0660");
		assert_unavailable(&r);
		result_free(&r);
		r = ksmctl(sysroot_opt, "partition", "remove", "--allow-unmerge", "x");
		assert_unavailable(&r);
		result_free(&r);
		r = ksmctl(sysroot_opt, "partition", "unmerge", "x", "1");
		assert_unavailable(&r);
		result_free(&r);
		tu_rmtree(root);
		free(root);
		root = NULL;
	}
}
END_TEST

static Suite *cli_partition_suite(void)
{
	Suite *s = suite_create("cli-partition");
	TCase *tc;

	tc = tcase_create("rfc");
	tcase_add_checked_fixture(tc, setup_rfc, teardown_rfc);
	tcase_add_test(tc, list);
	tcase_add_test(tc, list_hostile_name);
	tcase_add_test(tc, create_remove);
	tcase_add_test(tc, create_syscall_backend);
	tcase_add_test(tc, merge_unmerge);
	tcase_add_test(tc, status);
	tcase_add_test(tc, usage);
	suite_add_tcase(s, tc);

	tc = tcase_create("stock");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, stock_live);
	tcase_add_test(tc, stock_trees);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(cli_partition_suite());
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksmctl disable/enable, node-wide and with targets, against fake system
 * roots: the disable that stays disabled through a simulated reboot (the
 * ExecStart lines of ksm.service run in order), the refusals while it holds,
 * the memory check, status, and the cgroup and unit lookups.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ksm.h"
#include "testutil.h"
#include "cli.h"

#ifndef SYSCONFDIR
#error "SYSCONFDIR must be the sysconfdir of this build"
#endif
#ifndef KSM_UNIT_IN
#error "KSM_UNIT_IN must name data/ksm.service.in"
#endif

static void mkdirs(char *path)
{
	char *copy = strdup(path), *dir = dirname(copy);

	if (strcmp(dir, "/") != 0 && access(dir, F_OK) != 0) {
		mkdirs(dir);
		ck_assert_int_eq(mkdir(dir, 0755), 0);
	}
	free(copy);
}

/* Write @text to <root>/@rel, creating directories. */
static void put(const char *rel, const char *text)
{
	char path[4400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkdirs(path);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* The text of <root>/@rel (static buffer), "" if missing. */
static const char *get(const char *rel)
{
	static char buf[8192];
	char path[4400];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

#define PROFILE SYSCONFDIR "/ksm.conf"
#define RUN "sys/kernel/mm/ksm/run"

static void check_ok(struct result *r)
{
	ck_assert_msg(r->status == 0, "exit status %d, stderr: %s", r->status, r->err);
}

/* Run the ExecStart lines of ksm.service in order, as at boot. */
static void boot(void)
{
	static char profile[4400];
	char line[512];
	FILE *f = fopen(KSM_UNIT_IN, "r");
	int n = 0;

	/* A FILE argument is a path of the caller, not below --sysroot. */
	snprintf(profile, sizeof(profile), "%s%s", root, PROFILE);
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		char *args[8] = { 0 }, *p, *save = NULL;
		const char *prefix = "@sbindir@/ksmctl ";
		bool may_fail = false;
		struct result r;
		int k = 0;

		if (strncmp(line, "ExecStart=", 10) != 0)
			continue;
		memmove(line, line + 10, strlen(line + 10) + 1);
		/* "-": systemd ignores its failure. */
		if (line[0] == '-') {
			may_fail = true;
			memmove(line, line + 1, strlen(line));
		}
		if (strncmp(line, prefix, strlen(prefix)) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		for (p = strtok_r(line + strlen(prefix), " ", &save); p && k < 7;
		     p = strtok_r(NULL, " ", &save))
			args[k++] = strcmp(p, "@profile@") == 0 ? profile : p;
		r = ksmctl_env(NULL, -1, sysroot_opt, args[0] ? args[0] : "", args[1], args[2],
			       args[3], args[4], args[5], NULL);
		if (!may_fail)
			check_ok(&r);
		result_free(&r);
		n++;
	}
	fclose(f);
	ck_assert_int_ge(n, 2);
}

START_TEST(disable_stays_disabled)
{
	struct result r;

	use_tree("6.18");
	put(RUN, "1\n");
	put(PROFILE, "# mine\npages_to_scan = 500\nrun = 1\n");

	r = ksmctl(sysroot_opt, "disable");
	check_ok(&r);
	ck_assert_ptr_nonnull(strstr(r.out, "disabled by policy"));
	result_free(&r);
	ck_assert_str_eq(get(RUN), "2\n");
	/* The other lines stay; the old run line is replaced by the record. */
	ck_assert_ptr_nonnull(strstr(get(PROFILE), "# mine\npages_to_scan = 500\n"
					       "# disabled by policy since 20"));
	ck_assert_ptr_nonnull(strstr(get(PROFILE), "\nrun = 2\n"));
	ck_assert_ptr_null(strstr(get(PROFILE), "run = 1"));

	/* status says so, with the file; JSON too. */
	r = ksmctl(sysroot_opt, "status");
	check_ok(&r);
	ck_assert_ptr_nonnull(strstr(r.out, "Policy: KSM disabled by policy since 20"));
	ck_assert_ptr_nonnull(strstr(r.out, PROFILE));
	result_free(&r);
	r = ksmctl(sysroot_opt, "status", "--json");
	check_ok(&r);
	assert_json(r.out, "d['policy']['disabled']", "True");
	assert_json(r.out, "d['policy']['disabled_since'][:2] + d['policy']['disabled_since'][-1]",
		    "20Z");
	assert_json(r.out, "d['policy']['profile'].endswith('" PROFILE "')", "True");
	result_free(&r);

	/* Nothing re-enables it: run, merge-now. */
	r = ksmctl(sysroot_opt, "run");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "disabled by policy"));
	ck_assert_ptr_nonnull(strstr(r.err, "ksmctl enable"));
	result_free(&r);
	r = ksmctl(sysroot_opt, "merge-now", "--timeout", "1");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "disabled by policy"));
	result_free(&r);
	ck_assert_str_eq(get(RUN), "2\n");

	/* A reboot: the kernel starts with run=0, then the unit runs. */
	put(RUN, "0\n");
	boot();
	ck_assert_str_eq(get(RUN), "2\n");
	ck_assert_str_eq(get("sys/kernel/mm/ksm/pages_to_scan"), "500\n");

	/* enable undoes it: merging starts, the record goes, the rest stays. */
	r = ksmctl(sysroot_opt, "enable");
	check_ok(&r);
	result_free(&r);
	ck_assert_str_eq(get(RUN), "1\n");
	ck_assert_str_eq(get(PROFILE), "# mine\npages_to_scan = 500\n");
	r = ksmctl(sysroot_opt, "status", "--json");
	check_ok(&r);
	assert_json(r.out, "d['policy']['disabled']", "False");
	assert_json(r.out, "'disabled_since' in d['policy']", "False");
	result_free(&r);
	/* And a reboot starts merging again. */
	put(RUN, "0\n");
	boot();
	ck_assert_str_eq(get(RUN), "1\n");
}
END_TEST

START_TEST(disable_memory_check)
{
	struct result r;

	use_tree("6.18");
	put(RUN, "1\n");
	/* 1000000 pages to copy back, 100 MiB available. */
	put("sys/kernel/mm/ksm/pages_sharing", "1000000\n");
	put("proc/meminfo", "MemTotal:       8000000 kB\nMemAvailable:     102400 kB\n");
	r = ksmctl(sysroot_opt, "disable");
	ck_assert_int_eq(r.status, 1);
	/* The library's one unmerge check (ksm_unmerge_estimate), its words. */
	ck_assert_ptr_nonnull(strstr(r.err, "more than the 100.0 MiB of memory available"));
	result_free(&r);
	/* Nothing changed. */
	ck_assert_str_eq(get(RUN), "1\n");
	ck_assert_str_eq(get(PROFILE), "");
	r = ksmctl(sysroot_opt, "disable", "--force");
	check_ok(&r);
	result_free(&r);
	ck_assert_str_eq(get(RUN), "2\n");
}
END_TEST

START_TEST(targets)
{
	struct result r;

	use_tree("6.18");
	/* Pids above any pid_max: the lookups work, the processes do not exist. */
	put("sys/fs/cgroup/qemu.slice/100.scope/cgroup.procs", "2000000001\n");
	put("sys/fs/cgroup/qemu.slice/100.scope/vcpu0/cgroup.procs", "2000000002\n");
	put("sys/fs/cgroup/system.slice/myapp.service/cgroup.procs", "2000000003\n");

	r = ksmctl(sysroot_opt, "disable", "--cgroup", "/sys/fs/cgroup/qemu.slice/100.scope");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "no process 2000000001"));
	ck_assert_ptr_nonnull(strstr(r.err, "no process 2000000002"));
	result_free(&r);
	r = ksmctl(sysroot_opt, "enable", "--unit", "myapp");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "no process 2000000003"));
	result_free(&r);
	r = ksmctl(sysroot_opt, "enable", "--unit", "nosuch");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "nosuch.service"));
	result_free(&r);
	r = ksmctl(sysroot_opt, "disable", "--cgroup", "../etc");
	ck_assert_int_eq(r.status, 1);
	result_free(&r);
	r = ksmctl(sysroot_opt, "disable", "--pid", "abc");
	ck_assert_int_eq(r.status, 2);
	result_free(&r);
	r = ksmctl(sysroot_opt, "disable", "extra");
	ck_assert_int_eq(r.status, 2);
	result_free(&r);
	/* Targets leave the node-wide state alone. */
	ck_assert_str_eq(get(PROFILE), "");
}
END_TEST

/* A cgroup.procs far larger than 8 KiB is read to its end. */
START_TEST(large_cgroup)
{
	enum { N = 3000 }; /* 11 bytes a line: about 32 KiB */
	static int pids[N + 10];
	struct ksm_ctx *ctx;
	struct result r;
	char *text = malloc(N * 11 + 1), *p = text, last[32];
	size_t len = 0;

	use_tree("6.18");
	for (int i = 0; i < N; i++)
		p += sprintf(p, "%d\n", 2000000001 + i);
	len = (size_t)(p - text);
	ck_assert_uint_gt(len, 4 * 8192);
	put("sys/fs/cgroup/qemu.slice/101.scope/cgroup.procs", text);
	free(text);
	put("sys/fs/cgroup/qemu.slice/101.scope/vcpu0/cgroup.procs", "1999999999\n");

	ck_assert_int_eq(ksm_new_at(&ctx, root), 0);
	ck_assert_int_eq(ksm_cgroup_pids(ctx, "qemu.slice/101.scope", pids, N + 10), N + 1);
	ck_assert_int_eq(pids[0], 2000000001);
	ck_assert_int_eq(pids[N - 1], 2000000000 + N);
	ck_assert_int_eq(pids[N], 1999999999);
	/* The count goes on past the caller's buffer. */
	ck_assert_int_eq(ksm_cgroup_pids(ctx, "qemu.slice/101.scope", pids, 5), N + 1);
	ksm_unref(ctx);

	/* ksmctl acts on every one of them, the last line of the file included. */
	r = ksmctl(sysroot_opt, "disable", "--cgroup", "qemu.slice/101.scope");
	ck_assert_int_eq(r.status, 1);
	snprintf(last, sizeof(last), "no process %d", 2000000000 + N);
	ck_assert_ptr_nonnull(strstr(r.err, last));
	ck_assert_ptr_nonnull(strstr(r.err, "no process 1999999999"));
	result_free(&r);
}
END_TEST

static Suite *cli_policy_suite(void)
{
	Suite *s = suite_create("cli-policy");
	TCase *tc = tcase_create("policy");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, disable_stays_disabled);
	tcase_add_test(tc, disable_memory_check);
	tcase_add_test(tc, targets);
	tcase_add_test(tc, large_cgroup);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(cli_policy_suite());
}

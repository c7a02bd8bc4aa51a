// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the monitoring commands rest on: who a process is
 * (ksm_proc_ident_read), the boost
 * state (ksm_boost_status) and the diagnosis (ksm_doctor), against copies
 * of the fake sysroots (tests/sysroots/README.md).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ksm.h"
#include "testutil.h"

static char *root;
static struct ksm_ctx *ctx;

static void teardown(void)
{
	tu_unuse(&root, &ctx);
}

static void use(const char *name)
{
	tu_use(name, &root, &ctx);
}

/* Write @len bytes (NULs included) to <root>/@rel. */
static void write_bytes(const char *rel, const char *bytes, size_t len)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* ------------------------------------------------------------------------ */

START_TEST(ident_libvirt_guest)
{
	struct ksm_proc_ident id;

	use("6.18");
	ck_assert_int_eq(ksm_proc_ident_read(ctx, 2001, &id, sizeof(id)), 0);
	ck_assert_uint_eq(id.present, KSM_IDENT_CMDLINE | KSM_IDENT_CGROUP | KSM_IDENT_UNIT |
				      KSM_IDENT_GUEST);
	ck_assert_str_eq(id.cmdline, "/usr/bin/qemu-system-x86_64 -name guest=vm-web,debug-threads=on "
				     "-m 4096 -machine pc,mem-merge=on");
	ck_assert_str_eq(id.cgroup, "/machine.slice/machine-qemu\\x2d1\\x2dvm\\x2dweb.scope/libvirt/emulator");
	ck_assert_str_eq(id.unit, "machine-qemu\\x2d1\\x2dvm\\x2dweb.scope");
	ck_assert_str_eq(id.guest, "vm-web");
}
END_TEST

START_TEST(ident_proxmox)
{
	struct ksm_proc_ident id;

	use("6.18");
	ck_assert_int_eq(ksm_proc_ident_read(ctx, 2004, &id, sizeof(id)), 0);
	ck_assert_uint_eq(id.present, KSM_IDENT_CMDLINE | KSM_IDENT_CGROUP | KSM_IDENT_UNIT |
				      KSM_IDENT_GUEST | KSM_IDENT_VMID);
	ck_assert_int_eq(id.vmid, 104);
	ck_assert_str_eq(id.unit, "104.scope");
	/* The legacy "-name NAME,..." form, with ",," for a comma. */
	ck_assert_str_eq(id.guest, "db,eu");
}
END_TEST

START_TEST(ident_forms)
{
	struct ksm_proc_ident id;

	use("6.18");
	/* A service; no guest for a process without -name. */
	ck_assert_int_eq(ksm_proc_ident_read(ctx, 2002, &id, sizeof(id)), 0);
	ck_assert_uint_eq(id.present, KSM_IDENT_CMDLINE | KSM_IDENT_CGROUP | KSM_IDENT_UNIT);
	ck_assert_str_eq(id.unit, "webapp.service");

	/* cgroup v1: the name=systemd line; no service or scope: no unit. */
	tu_write(root, "proc/2002/cgroup", "12:memory:/foo\n1:name=systemd:/user.slice/user-1000.slice/session-4.scope\n");
	ck_assert_int_eq(ksm_proc_ident_read(ctx, 2002, &id, sizeof(id)), 0);
	ck_assert_str_eq(id.cgroup, "/user.slice/user-1000.slice/session-4.scope");
	ck_assert_str_eq(id.unit, "session-4.scope");
	tu_write(root, "proc/2002/cgroup", "0::/\n");
	ck_assert_int_eq(ksm_proc_ident_read(ctx, 2002, &id, sizeof(id)), 0);
	ck_assert_str_eq(id.cgroup, "/");
	ck_assert(!(id.present & KSM_IDENT_UNIT));

	/* -name with key=value and no guest= names nothing; a VMID needs digits. */
	write_bytes("proc/2002/cmdline", "qemu\0-name\0process=x,debug-threads=on\0", 38);
	tu_write(root, "proc/2002/cgroup", "0::/qemu.slice/abc.scope\n");
	ck_assert_int_eq(ksm_proc_ident_read(ctx, 2002, &id, sizeof(id)), 0);
	ck_assert(!(id.present & (KSM_IDENT_GUEST | KSM_IDENT_VMID)));
	ck_assert_str_eq(id.cmdline, "qemu -name process=x,debug-threads=on");
	/* "guest=" with ",," for a comma, and the VMID. */
	write_bytes("proc/2002/cmdline", "qemu\0-name\0guest=a,,b,debug-threads=on\0", 39);
	tu_write(root, "proc/2002/cgroup", "0::/qemu.slice/100.scope\n");
	ck_assert_int_eq(ksm_proc_ident_read(ctx, 2002, &id, sizeof(id)), 0);
	ck_assert_str_eq(id.guest, "a,b");
	ck_assert_int_eq(id.vmid, 100);

	/* A kernel thread: an empty command line, known to be empty. */
	ck_assert_int_eq(ksm_proc_ident_read(ctx, 45, &id, sizeof(id)), 0);
	ck_assert(id.present & KSM_IDENT_CMDLINE);
	ck_assert_str_eq(id.cmdline, "");

	/* Files a tree lacks leave their fields unmarked. */
	ck_assert_int_eq(ksm_proc_ident_read(ctx, 640, &id, sizeof(id)), 0);
	ck_assert_uint_eq(id.present, 0);
}
END_TEST

START_TEST(ident_errors)
{
	struct ksm_proc_ident id;
	uint64_t small;

	use("6.18");
	ck_assert_int_eq(ksm_proc_ident_read(ctx, 99999, &id, sizeof(id)), -ESRCH);
	ck_assert_ptr_nonnull(strstr(ksm_strerror(-ESRCH), "process 99999"));
	ck_assert_int_eq(ksm_proc_ident_read(ctx, -1, &id, sizeof(id)), -EINVAL);
	ck_assert_int_eq(ksm_proc_ident_read(ctx, 2001, &id, 4), -EINVAL);
	ck_assert_int_eq(ksm_proc_ident_read(NULL, 2001, &id, sizeof(id)), -EINVAL);
	/* A caller that knows only .present gets no field marked. */
	ck_assert_int_eq(ksm_proc_ident_read(ctx, 2001, (struct ksm_proc_ident *)&small, sizeof(small)), 0);
	ck_assert_uint_eq(small, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */

START_TEST(boost_state)
{
	struct ksm_boost *boost = NULL;
	int holders = -1, r;

	use("6.18");
	ck_assert_int_eq(ksm_boost_status(ctx, &holders), 0);
	ck_assert_int_eq(holders, 0);
	/* A boost of this process, on the copy: a record with one live holder. */
	r = ksm_boost_begin(ctx, &boost);
	ck_assert_msg(r == 0, "ksm_boost_begin: %s", ksm_strerror(r));
	ck_assert_int_eq(ksm_boost_status(ctx, &holders), 1);
	ck_assert_int_eq(holders, 1);
	ck_assert_int_eq(ksm_boost_end(boost), 0);
	ck_assert_int_eq(ksm_boost_status(ctx, &holders), 0);
	ck_assert_int_eq(holders, 0);
	/* Something that is no record. */
	tu_write(root, "run/libksm/boost", "garbage\n");
	ck_assert_int_eq(ksm_boost_status(ctx, &holders), -EBADMSG);
}
END_TEST

/* ------------------------------------------------------------------------ */

struct findings {
	char ids[32][32];
	int sev[32];
	char text[32][512];
	int n;
};

static int keep(const struct ksm_finding *f, void *data)
{
	struct findings *fs = data;

	ck_assert_int_lt(fs->n, 32);
	snprintf(fs->ids[fs->n], sizeof(fs->ids[0]), "%s", f->id);
	fs->sev[fs->n] = f->severity;
	snprintf(fs->text[fs->n], sizeof(fs->text[0]), "%s|%s|%s", f->summary, f->evidence, f->fix);
	fs->n++;
	return 0;
}

/* The severity of check @id, or -1 if it reported nothing. */
static int sev_of(const struct findings *fs, const char *id, const char **text)
{
	for (int i = 0; i < fs->n; i++) {
		if (strcmp(fs->ids[i], id) == 0) {
			if (text)
				*text = fs->text[i];
			return fs->sev[i];
		}
	}
	return -1;
}

START_TEST(doctor_idle_tree)
{
	struct findings fs = { 0 };
	const char *t;

	use("6.18");
	ck_assert_int_eq(ksm_doctor(ctx, keep, &fs), fs.n);
	ck_assert_int_eq(sev_of(&fs, "ksm-present", NULL), KSM_SEVERITY_OK);
	ck_assert_int_eq(sev_of(&fs, "ksmd-running", &t), KSM_SEVERITY_FAIL);
	ck_assert_ptr_nonnull(strstr(t, "run=0"));
	ck_assert_ptr_nonnull(strstr(t, "ksmctl run"));
	ck_assert_int_eq(sev_of(&fs, "registered", &t), KSM_SEVERITY_OK);
	ck_assert_ptr_nonnull(strstr(t, "4 processes registered memory"));
	ck_assert_ptr_nonnull(strstr(t, "25596 pages"));
	/* 2001 has 2048 kB of AnonHugePages in smaps_rollup. */
	ck_assert_int_eq(sev_of(&fs, "thp", &t), KSM_SEVERITY_WARN);
	ck_assert_ptr_nonnull(strstr(t, "2.0 MiB of AnonHugePages in 1 registered process (THP mode madvise)"));
	/* Three cgroups share one merge space. */
	ck_assert_int_eq(sev_of(&fs, "side-channel", &t), KSM_SEVERITY_WARN);
	ck_assert_ptr_nonnull(strstr(t, "/machine.slice/"));
	/* ksmd stopped: no scan rate to judge. */
	ck_assert_int_eq(sev_of(&fs, "scan-rate", NULL), -1);
	ck_assert_int_eq(sev_of(&fs, "controller", NULL), KSM_SEVERITY_OK);
}
END_TEST

START_TEST(doctor_problems)
{
	struct findings fs = { 0 };
	const char *t;

	use("6.18");
	tu_write(root, "sys/kernel/mm/ksm/run", "1\n");
	/* 25596 pages at 100 per 200 ms: 51 s; at 1 per 200 ms: 5119 s. */
	tu_write(root, "sys/kernel/mm/ksm/sleep_millisecs", "200\n");
	tu_write(root, "sys/kernel/mm/ksm/pages_to_scan", "1\n");
	tu_write(root, "sys/kernel/mm/ksm/pages_volatile", "10000\n");
	tu_write(root, "sys/kernel/mm/ksm/general_profit", "-4096\n");
	tu_write(root, "sys/kernel/mm/ksm/merge_across_nodes", "0\n");
	tu_write(root, "proc/2001/comm", "ksmtuned\n");
	ck_assert_int_gt(ksm_doctor(ctx, keep, &fs), 0);
	ck_assert_int_eq(sev_of(&fs, "ksmd-running", NULL), KSM_SEVERITY_OK);
	ck_assert_int_eq(sev_of(&fs, "scan-rate", &t), KSM_SEVERITY_WARN);
	ck_assert_ptr_nonnull(strstr(t, "about 5119 s"));
	ck_assert_int_eq(sev_of(&fs, "volatile", &t), KSM_SEVERITY_WARN);
	ck_assert_ptr_nonnull(strstr(t, "pages_volatile=10000 of 25596"));
	ck_assert_int_eq(sev_of(&fs, "profit", &t), KSM_SEVERITY_WARN);
	ck_assert_ptr_nonnull(strstr(t, "general_profit=-4096"));
	ck_assert_int_eq(sev_of(&fs, "controller", &t), KSM_SEVERITY_WARN);
	ck_assert_ptr_nonnull(strstr(t, "process 2001 (ksmtuned) "));
	ck_assert_int_eq(sev_of(&fs, "merge-across-nodes", NULL), KSM_SEVERITY_OK);

	/* The advisor sets the rate: no warning about it. */
	fs.n = 0;
	tu_write(root, "sys/kernel/mm/ksm/advisor_mode", "none [scan-time]\n");
	ck_assert_int_gt(ksm_doctor(ctx, keep, &fs), 0);
	ck_assert_int_eq(sev_of(&fs, "scan-rate", &t), KSM_SEVERITY_OK);
	ck_assert_ptr_nonnull(strstr(t, "every 200 s"));
}
END_TEST

START_TEST(doctor_nothing_registered)
{
	struct findings fs = { 0 };
	const char *t;

	use("6.18-merged");
	ck_assert_int_gt(ksm_doctor(ctx, keep, &fs), 0);
	ck_assert_int_eq(sev_of(&fs, "registered", &t), KSM_SEVERITY_FAIL);
	ck_assert_ptr_nonnull(strstr(t, "nothing asked for merging"));
	ck_assert_ptr_nonnull(strstr(t, "ksmctl exec"));
	ck_assert_ptr_nonnull(strstr(t, "MemoryKSM=yes"));
	ck_assert_int_eq(sev_of(&fs, "thp", NULL), -1);
	teardown();

	/* Without KSM: one FAIL, nothing else. */
	fs.n = 0;
	use("noksm");
	ck_assert_int_eq(ksm_doctor(ctx, keep, &fs), 1);
	ck_assert_str_eq(fs.ids[0], "ksm-present");
	ck_assert_int_eq(fs.sev[0], KSM_SEVERITY_FAIL);
}
END_TEST

static int stop_second(const struct ksm_finding *f, void *data)
{
	return ++*(int *)data == 2 ? -ECANCELED : 0;
}

START_TEST(doctor_stops)
{
	int calls = 0;

	use("6.18");
	ck_assert_int_eq(ksm_doctor(ctx, stop_second, &calls), -ECANCELED);
	ck_assert_int_eq(calls, 2);
	ck_assert_int_eq(ksm_doctor(ctx, NULL, NULL), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc = tcase_create("monitor");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, ident_libvirt_guest);
	tcase_add_test(tc, ident_proxmox);
	tcase_add_test(tc, ident_forms);
	tcase_add_test(tc, ident_errors);
	tcase_add_test(tc, boost_state);
	tcase_add_test(tc, doctor_idle_tree);
	tcase_add_test(tc, doctor_problems);
	tcase_add_test(tc, doctor_nothing_registered);
	tcase_add_test(tc, doctor_stops);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The monitoring commands of the built ksmctl against copies of the fake
 * sysroots: 'status --prometheus' and 'ps --prometheus' (values, types,
 * label escaping, the atomic --output), 'ps' with who each process is and
 * '--by', 'doctor' and 'watch' without a terminal. 'watch' on a terminal
 * is tests/cli/test-watch.py; promtool and node_exporter are in
 * tests/prometheus/.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "cli.h"

#define assert_has(text, needle) \
	ck_assert_msg(strstr(text, needle) != NULL, "'%s' not in:\n%s", needle, text)
#define assert_lacks(text, needle) \
	ck_assert_msg(strstr(text, needle) == NULL, "'%s' in:\n%s", needle, text)

START_TEST(prometheus_values)
{
	char want[128];
	long hz = sysconf(_SC_CLK_TCK);
	struct result r;

	use_tree("6.18-merged");
	r = ksmctl(sysroot_opt, "status", "--prometheus");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	/* node_exporter's names, types and help texts. */
	ck_assert_msg(strncmp(r.out, "# HELP node_ksmd_full_scans_total ksmd 'full_scans' file.\n"
				     "# TYPE node_ksmd_full_scans_total counter\n"
				     "node_ksmd_full_scans_total 7\n", 120) == 0, "%s", r.out);
	assert_has(r.out, "\n# HELP node_ksmd_pages_sharing ksmd 'pages_sharing' file.\n"
			  "# TYPE node_ksmd_pages_sharing gauge\nnode_ksmd_pages_sharing 996\n");
	assert_has(r.out, "\nnode_ksmd_run 1\n");
	assert_has(r.out, "\nnode_ksmd_sleep_seconds 0.02\n");
	/* The rest as ksm_*, from the knob table: counters that only grow are counters. */
	assert_has(r.out, "\n# TYPE ksm_pages_scanned_total counter\nksm_pages_scanned_total 14168\n");
	assert_has(r.out, "\n# TYPE ksm_general_profit gauge\nksm_general_profit 4014848\n");
	assert_has(r.out, "\nksm_zero_pages 0\n");
	assert_lacks(r.out, "ksm_ksm_zero_pages");
	assert_lacks(r.out, "\nksm_run ");           /* no knob twice */
	assert_lacks(r.out, "\nksm_sleep_millisecs ");
	assert_has(r.out, "\nksm_profit_bytes 4014848\n");
	assert_has(r.out, "\n# TYPE ksm_boost_record gauge\nksm_boost_record 0\n");
	assert_has(r.out, "\nksm_boost_holders 0\n");
	/* ksmd: 4000 + 1000 ticks of proc/45/stat. */
	snprintf(want, sizeof(want), "\n# TYPE ksm_ksmd_cpu_seconds_total counter\n"
				     "ksm_ksmd_cpu_seconds_total %ld.000000\n", 5000 / hz);
	assert_has(r.out, want);
	if (sysconf(_SC_PAGESIZE) == 4096)
		assert_has(r.out, "\nksm_saved_bytes 4079616\n");
	/* No process is active in this tree: families without samples are fine,
	 * but no sample. */
	assert_lacks(r.out, "ksm_process_merging_pages{");
	result_free(&r);

	/* Usage */
	r = ksmctl(sysroot_opt, "status", "--prometheus", "--json");
	ck_assert_int_eq(r.status, 2);
	assert_has(r.err, "--json and --prometheus exclude each other");
	result_free(&r);
	r = ksmctl(sysroot_opt, "status", "--output", "/tmp/x.prom");
	ck_assert_int_eq(r.status, 2);
	assert_has(r.err, "--output needs --prometheus");
	result_free(&r);
}
END_TEST

START_TEST(prometheus_processes)
{
	struct result r;

	use_tree("6.18");
	/* A command name may hold anything: quotes and backslashes are escaped. */
	tu_write(root, "proc/2003/comm", "we\"ird\\x\n");
	r = ksmctl(sysroot_opt, "ps", "--prometheus");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_lacks(r.out, "node_ksmd_");
	assert_has(r.out, "\nksm_process_merging_pages{pid=\"2003\",comm=\"we\\\"ird\\\\x\","
			  "cgroup=\"/system.slice/webapp.service\",unit=\"webapp.service\"} 10\n");
	/* systemd's \x2d escapes keep their backslash, doubled. */
	assert_has(r.out, "\nksm_process_profit_bytes{pid=\"2001\",comm=\"qemu-system-x86\","
			  "cgroup=\"/machine.slice/machine-qemu\\\\x2d1\\\\x2dvm\\\\x2dweb.scope/libvirt/emulator\","
			  "unit=\"machine-qemu\\\\x2d1\\\\x2dvm\\\\x2dweb.scope\"} 12435456\n");
	/* Per cgroup: 2002 and 2003 share webapp.service. */
	assert_has(r.out, "\n# TYPE ksm_cgroup_processes gauge\n");
	assert_has(r.out, "\nksm_cgroup_processes{cgroup=\"/system.slice/webapp.service\",unit=\"webapp.service\"} 2\n");
	assert_has(r.out, "\nksm_cgroup_rmap_items{cgroup=\"/system.slice/webapp.service\",unit=\"webapp.service\"} 20000\n");
	assert_has(r.out, "\nksm_cgroup_profit_bytes{cgroup=\"/system.slice/webapp.service\",unit=\"webapp.service\"} -1239040\n");
	result_free(&r);

	/* status --prometheus holds the processes too. */
	r = ksmctl(sysroot_opt, "status", "--prometheus");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_has(r.out, "\nksm_cgroup_processes{cgroup=\"/qemu.slice/104.scope\",unit=\"104.scope\"} 1\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "ps", "--prometheus", "--by", "cgroup");
	ck_assert_int_eq(r.status, 2);
	result_free(&r);
}
END_TEST

START_TEST(prometheus_output)
{
	char dir[4300], file[4400], missing[4400];
	struct result r, again;
	struct stat st1, st2;
	struct dirent *de;
	char *text;
	int entries = 0;
	DIR *d;

	use_tree("6.18-merged");
	snprintf(dir, sizeof(dir), "%s/textfile", root);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(file, sizeof(file), "%s/ksm.prom", dir);
	r = ksmctl(sysroot_opt, "status", "--prometheus", "--output", file);
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "");
	result_free(&r);
	/* The file holds what stdout would. */
	text = tu_read(dir, "ksm.prom");
	r = ksmctl(sysroot_opt, "status", "--prometheus");
	ck_assert_str_eq(text, r.out);
	free(text);
	ck_assert_int_eq(stat(file, &st1), 0);
	ck_assert_uint_eq(st1.st_mode & 07777, 0644);

	/* Replaced by rename: a new inode, and nothing else left in the directory. */
	tu_write(root, "sys/kernel/mm/ksm/pages_sharing", "2000\n");
	again = ksmctl(sysroot_opt, "status", "--prometheus", "--output", file);
	ck_assert_int_eq(again.status, 0);
	result_free(&again);
	ck_assert_int_eq(stat(file, &st2), 0);
	ck_assert_uint_ne(st1.st_ino, st2.st_ino);
	text = tu_read(dir, "ksm.prom");
	assert_has(text, "\nnode_ksmd_pages_sharing 2000\n");
	free(text);
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' || (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")))
			entries++;
	closedir(d);
	ck_assert_int_eq(entries, 1);
	result_free(&r);

	/* A directory that does not exist: exit 1, the reason, no file. */
	snprintf(missing, sizeof(missing), "%s/nowhere/ksm.prom", root);
	r = ksmctl(sysroot_opt, "status", "--prometheus", "--output", missing);
	ck_assert_int_eq(r.status, 1);
	assert_has(r.err, "cannot create a temporary file beside");
	assert_has(r.err, "No such file or directory");
	result_free(&r);

	/* Without KSM nothing is written. */
	teardown();
	use_tree("noksm");
	snprintf(file, sizeof(file), "%s/ksm.prom", root);
	r = ksmctl(sysroot_opt, "status", "--prometheus", "--output", file);
	ck_assert_int_eq(r.status, 1);
	assert_has(r.err, "KSM is not available");
	ck_assert_int_ne(access(file, F_OK), 0);
	result_free(&r);
}
END_TEST

START_TEST(ps_identity)
{
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "ps");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	/* Not a terminal: the whole command line. */
	assert_has(r.out, " yes       madvise   104.scope                db,eu/104      "
			  "/usr/bin/qemu-system-aarch64 -id 104 -name db,,eu,debug-threads=on -m 2048\n");
	assert_has(r.out, " webapp.service           -              java -Xmx2g -jar /opt/webapp/app.jar\n");
	assert_has(r.out, " vm-web         /usr/bin/qemu-system-x86_64 -name guest=vm-web");
	result_free(&r);

	r = ksmctl(sysroot_opt, "ps", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_json(r.out, "[(p['pid'], p.get('unit'), p.get('guest'), p.get('vmid')) for p in d]",
		    "[(2001, 'machine-qemu\\\\x2d1\\\\x2dvm\\\\x2dweb.scope', 'vm-web', None), "
		    "(2004, '104.scope', 'db,eu', 104), (2002, 'webapp.service', None, None), "
		    "(2003, 'webapp.service', None, None)]");
	assert_json(r.out, "d[3]['cmdline']", "java -Xmx2g -jar /opt/webapp/app.jar");
	assert_json(r.out, "d[3]['cgroup']", "/system.slice/webapp.service");
	result_free(&r);
}
END_TEST

START_TEST(ps_by)
{
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "ps", "--by", "cgroup", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	/* Largest profit first; webapp.service sums 2002 and 2003. */
	assert_json(r.out, "[(g['cgroup'], g['processes'], g['ksm_rmap_items'], g['ksm_merging_pages'], "
			   "g['profit_bytes']) for g in d]",
		    "[('/machine.slice/machine-qemu\\\\x2d1\\\\x2dvm\\\\x2dweb.scope/libvirt/emulator', 1, 4096, 3000, 12435456), "
		    "('/qemu.slice/104.scope', 1, 1500, 200, 5638400), "
		    "('/system.slice/webapp.service', 2, 20000, 10, -1239040)]");
	result_free(&r);

	r = ksmctl(sysroot_opt, "ps", "--by", "unit");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_msg(strncmp(r.out, "PROCS    MERGING       ZERO       RMAP     PROFIT UNIT\n", 55) == 0,
		      "%s", r.out);
	assert_has(r.out, "\n    2   40.0 KiB        0 B      20000   -1.2 MiB webapp.service\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "ps", "--by", "comm", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_json(r.out, "sorted((g['comm'], g['processes']) for g in d)",
		    "[('java', 1), ('postgres', 1), ('qemu-system-aar', 1), ('qemu-system-x86', 1)]");
	result_free(&r);

	r = ksmctl(sysroot_opt, "ps", "--by", "host");
	ck_assert_int_eq(r.status, 2);
	assert_has(r.err, "--by takes cgroup, unit or comm, not 'host'");
	result_free(&r);
}
END_TEST

START_TEST(doctor)
{
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "doctor");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_has(r.out, "FAIL  ksmd is not running\n      run=0 (stopped)\n      fix: ksmctl run\n");
	assert_has(r.out, "WARN  transparent huge pages cover registered memory\n");
	assert_has(r.out, "nothing merges until the FAIL lines are fixed\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "doctor", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_json(r.out, "[(f['id'], f['severity']) for f in d]",
		    "[('ksm-present', 'ok'), ('ksmd-running', 'fail'), ('controller', 'ok'), "
		    "('registered', 'ok'), ('thp', 'warn'), ('volatile', 'ok'), ('profit', 'ok'), "
		    "('use-zero-pages', 'ok'), ('side-channel', 'warn')]");
	assert_json(r.out, "sorted(d[0])", "['evidence', 'fix', 'id', 'severity', 'summary']");
	result_free(&r);

	teardown();
	use_tree("noksm");
	r = ksmctl(sysroot_opt, "doctor", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_json(r.out, "[(f['id'], f['severity']) for f in d]", "[('ksm-present', 'fail')]");
	result_free(&r);
}
END_TEST

START_TEST(watch_plain)
{
	struct result r;
	char *second;

	use_tree("6.18-merged");
	r = ksmctl(sysroot_opt, "watch", "--count", "2", "--interval", "0.1");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	/* Not a terminal: one line per refresh, no escape sequences. */
	assert_lacks(r.out, "\033");
	second = strchr(r.out, '\n');
	ck_assert_ptr_nonnull(second);
	second++;
	ck_assert_ptr_nonnull(strchr(second, '\n'));
	ck_assert_str_eq(strchr(second, '\n') + 1, "");
	/* The first has no rates yet; the second has them (nothing changed: 0). */
	assert_has(r.out, " run=1 saved_bytes=");
	assert_has(r.out, " pages_sharing=996 merged_per_s=- full_scans_per_min=- "
			  "seconds_per_full_scan=- ksmd_cpu_percent=-\n");
	assert_has(second, " merged_per_s=0.0 full_scans_per_min=0.00 seconds_per_full_scan=- "
			   "ksmd_cpu_percent=0.0\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "watch", "--interval", "0");
	ck_assert_int_eq(r.status, 2);
	assert_has(r.err, "--interval takes seconds");
	result_free(&r);
	r = ksmctl(sysroot_opt, "watch", "extra");
	ck_assert_int_eq(r.status, 2);
	result_free(&r);
}
END_TEST

static Suite *cli_monitor_suite(void)
{
	Suite *s = suite_create("cli-monitor");
	TCase *tc = tcase_create("monitor");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, prometheus_values);
	tcase_add_test(tc, prometheus_processes);
	tcase_add_test(tc, prometheus_output);
	tcase_add_test(tc, ps_identity);
	tcase_add_test(tc, ps_by);
	tcase_add_test(tc, doctor);
	tcase_add_test(tc, watch_plain);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(cli_monitor_suite());
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksmctl at the edges, as a new user meets it: the cost of unmerging, the
 * boot unit's choices, other KSM controllers, option order, the value
 * grammar, messages that name the file, help texts. Fake sysroots only.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ksm.h"
#include "testutil.h"
#include "cli.h"

static char *knob(const char *name)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/kernel/mm/ksm/%s", name);
	return tu_read(root, rel);
}

#define assert_knob(name, expected)                                          \
	do {                                                                 \
		char *_c = knob(name);                                       \
		ck_assert_str_eq(_c, expected);                              \
		free(_c);                                                    \
	} while (0)

/* tu_write() with the missing directories of @rel created first. */
static void put(const char *rel, const char *text)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
		*p = '/';
	}
	tu_write(root, rel, text);
}

static void rm(const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	ck_assert_msg(unlink(path) == 0, "unlink %s", path);
}

#define assert_ok(r)                                                              \
	ck_assert_msg((r).status == 0, "exit status %d, stdout: %s, stderr: %s", (r).status, \
		      (r).out, (r).err)

#define assert_has(text, needle) \
	ck_assert_msg(strstr(text, needle) != NULL, "'%s' not in:\n%s", needle, text)

/* ------------------------------------------------------------------------ */
/* 1. The cost of unmerging                                                  */

START_TEST(unmerge_says_what_it_costs)
{
	struct result r;

	use_tree("6.18-merged"); /* 996 pages sharing, MemAvailable 7355544 kB */
	r = ksmctl(sysroot_opt, "unmerge");
	assert_ok(r);
	assert_has(r.out, "Unmerging will copy back 996 pages (3.9 MiB); 7.0 GiB of memory is available.\n");
	assert_has(r.out, "Unmerged 996 pages (3.9 MiB).\n");
	assert_knob("run", "2\n");
	result_free(&r);
}
END_TEST

START_TEST(unmerge_refuses_what_cannot_fit)
{
	struct result r;

	use_tree("6.18-merged");
	tu_write(root, "proc/meminfo", "MemTotal: 8029308 kB\nMemFree: 1000 kB\nMemAvailable:    2048 kB\n");
	r = ksmctl(sysroot_opt, "unmerge");
	ck_assert_int_eq(r.status, 1);
	assert_has(r.out, "996 pages (3.9 MiB); 2.0 MiB of memory is available.");
	assert_has(r.err, "more than the 2.0 MiB of memory available");
	assert_has(r.err, "--force");
	assert_knob("run", "1\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "unmerge", "--force");
	assert_ok(r);
	assert_has(r.out, "Unmerged 996 pages");
	assert_knob("run", "2\n");
	result_free(&r);
}
END_TEST

START_TEST(unmerge_without_memavailable)
{
	struct result r;

	use_tree("2.6.32"); /* meminfo predates MemAvailable */
	r = ksmctl(sysroot_opt, "unmerge");
	assert_ok(r);
	assert_has(r.out, "the memory available is unknown");
	assert_knob("run", "2\n");
	result_free(&r);
}
END_TEST

START_TEST(set_allow_unmerge_costs)
{
	struct result r;

	use_tree("6.18-merged");
	tu_write(root, "proc/meminfo", "MemAvailable: 1024 kB\n");
	r = ksmctl(sysroot_opt, "set", "--allow-unmerge", "merge_across_nodes=0");
	ck_assert_int_eq(r.status, 1);
	assert_has(r.out, "Unmerging will copy back 996 pages");
	assert_knob("merge_across_nodes", "1\n");
	assert_knob("run", "1\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "set", "--allow-unmerge", "--force", "merge_across_nodes=0");
	assert_ok(r);
	assert_has(r.out, "Unmerged 996 pages (3.9 MiB).\n");
	assert_knob("merge_across_nodes", "0\n");
	result_free(&r);

	/* No unmerge in the plan: no word of it. */
	r = ksmctl(sysroot_opt, "set", "sleep_millisecs=30");
	assert_ok(r);
	ck_assert_str_eq(r.out, "");
	result_free(&r);
}
END_TEST

START_TEST(apply_allow_unmerge_costs)
{
	struct result r;

	use_tree("6.18-merged");
	put("etc/ksm.conf", "max_page_sharing = 512\n");
	tu_write(root, "proc/meminfo", "MemAvailable: 1024 kB\n");
	r = ksmctl(sysroot_opt, "apply", "--allow-unmerge");
	ck_assert_int_eq(r.status, 1);
	assert_has(r.out, "Unmerging will copy back 996 pages");
	assert_knob("max_page_sharing", "256\n");
	result_free(&r);
	r = ksmctl(sysroot_opt, "apply", "--allow-unmerge", "--force");
	assert_ok(r);
	assert_has(r.out, "Unmerged 996 pages");
	assert_knob("max_page_sharing", "512\n");
	result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 2. apply --start, other controllers                                       */

START_TEST(apply_start_honours_run)
{
	struct result r;

	use_tree("6.18"); /* run 0 */
	put("etc/ksm.conf", "pages_to_scan = 300\n");
	r = ksmctl(sysroot_opt, "apply", "--start");
	assert_ok(r);
	assert_knob("run", "1\n");
	assert_knob("pages_to_scan", "300\n");
	result_free(&r);

	/* A profile that keeps KSM off. */
	tu_write(root, "sys/kernel/mm/ksm/run", "0\n");
	put("etc/ksm.conf", "pages_to_scan = 400\nrun = 0\n");
	r = ksmctl(sysroot_opt, "apply", "--start");
	assert_ok(r);
	assert_knob("run", "0\n");
	assert_knob("pages_to_scan", "400\n");
	result_free(&r);

	/* No profile at all: merging starts as before. */
	rm("etc/ksm.conf");
	r = ksmctl(sysroot_opt, "apply", "--if-exists", "--start");
	assert_ok(r);
	assert_knob("run", "1\n");
	result_free(&r);
}
END_TEST

START_TEST(ksmtuned_is_named)
{
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "set", "pages_to_scan=200");
	assert_ok(r);
	ck_assert_str_eq(r.err, "");
	result_free(&r);

	put("proc/777/comm", "ksmtuned\n");
	r = ksmctl(sysroot_opt, "set", "pages_to_scan=300");
	assert_ok(r);
	assert_has(r.err, "warning: ksmtuned (pid 777) is running");
	assert_has(r.err, "every 60 s");
	result_free(&r);
	r = ksmctl(sysroot_opt, "run");
	assert_ok(r);
	assert_has(r.err, "ksmtuned (pid 777)");
	result_free(&r);
	put("etc/ksm.conf", "pages_to_scan = 100\n");
	r = ksmctl(sysroot_opt, "apply");
	assert_ok(r);
	assert_has(r.err, "ksmtuned (pid 777)");
	result_free(&r);
	/* Reading is not warned about. */
	r = ksmctl(sysroot_opt, "get", "run");
	assert_ok(r);
	ck_assert_str_eq(r.err, "");
	result_free(&r);
}
END_TEST

START_TEST(ksmtuned_unit_is_named)
{
	struct result r;

	use_tree("6.18");
	put("run/systemd/units/invocation:ksmtuned.service", "x");
	r = ksmctl(sysroot_opt, "start");
	assert_ok(r);
	assert_has(r.err, "warning: ksmtuned.service is active");
	result_free(&r);
}
END_TEST


/* ------------------------------------------------------------------------ */
/* 4, 5. get --value; options after operands; one message per usage error   */

START_TEST(get_values_only)
{
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "get", "-n", "run", "pages_to_scan", "advisor_mode");
	assert_ok(r);
	ck_assert_str_eq(r.out, "0\n100\nnone\n");
	result_free(&r);
	r = ksmctl(sysroot_opt, "get", "sleep_millisecs", "--value");
	assert_ok(r);
	ck_assert_str_eq(r.out, "20\n");
	result_free(&r);
	r = ksmctl(sysroot_opt, "get", "--value", "--json", "run");
	ck_assert_int_eq(r.status, 2);
	result_free(&r);
}
END_TEST

START_TEST(options_after_operands)
{
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "get", "pages_to_scan", "--json");
	assert_ok(r);
	assert_json(r.out, "d['pages_to_scan']", "100");
	result_free(&r);

	r = ksmctl(sysroot_opt, "ps", "2001", "--json", "2003", "--sort", "rmap");
	assert_ok(r);
	assert_json(r.out, "[p['pid'] for p in d]", "[2003, 2001]");
	result_free(&r);

	r = ksmctl(sysroot_opt, "set", "pages_to_scan=7", "--dry-run");
	assert_ok(r);
	ck_assert_str_eq(r.out, "pages_to_scan=7\n");
	assert_knob("pages_to_scan", "100\n");
	result_free(&r);

	put("etc/other.conf", "sleep_millisecs = 40\n");
	{
		char path[4096];

		snprintf(path, sizeof(path), "%s/etc/other.conf", root);
		r = ksmctl(sysroot_opt, "apply", path, "--dry-run");
		assert_ok(r);
		ck_assert_str_eq(r.out, "sleep_millisecs=40\n");
		assert_knob("sleep_millisecs", "20\n");
		result_free(&r);
	}

	/* "--" ends the options; after exec everything is the command's. */
	r = ksmctl(sysroot_opt, "get", "--", "--json");
	ck_assert_int_eq(r.status, 2);
	assert_has(r.err, "unknown knob '--json'");
	result_free(&r);
	r = ksmctl("exec", "--", "echo", "x", "--json");
	if (r.status == 0) /* exec needs a kernel with the prctl */
		ck_assert_str_eq(r.out, "x --json\n");
	result_free(&r);
}
END_TEST

START_TEST(usage_error_once)
{
	static const char *const cases[][4] = {
		{ "get", "--bogus", "run", "'get' has no option '--bogus'" },
		{ "wait", "--timeout", NULL, "option '--timeout' of 'wait' needs a value" },
		{ "status", "-x", NULL, "'status' has no option '-x'" },
		{ "set", "nonsense", NULL, "expected KNOB=VALUE, got 'nonsense'" },
	};
	struct result r;

	use_tree("6.18");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[256];

		if (cases[i][2])
			r = ksmctl(sysroot_opt, cases[i][0], cases[i][1], cases[i][2]);
		else
			r = ksmctl(sysroot_opt, cases[i][0], cases[i][1]);
		ck_assert_int_eq(r.status, 2);
		snprintf(want, sizeof(want), "ksmctl: %s\nTry 'ksmctl help %s' for more information.\n",
			 cases[i][3], cases[i][0]);
		ck_assert_str_eq(r.err, want);
		result_free(&r);
	}
	r = ksmctl("--bogus");
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "ksmctl: unknown option '--bogus'\nTry 'ksmctl --help' for more information.\n");
	result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 7. Errors name the file and what was found                                */

START_TEST(errors_name_the_file)
{
	struct result r;
	char want[4300];

	use_tree("6.18");
	tu_write(root, "sys/kernel/mm/ksm/pages_shared", "garbage\n");
	snprintf(want, sizeof(want), "ksmctl: cannot read %s/sys/kernel/mm/ksm/pages_shared: expected a "
		 "decimal number and a newline, found 'garbage'\n", root);
	r = ksmctl(sysroot_opt, "status");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, want);
	result_free(&r);
	r = ksmctl(sysroot_opt, "set", "merge_across_nodes=0");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, want);
	result_free(&r);

	tu_write(root, "sys/kernel/mm/ksm/pages_shared", "0\n");
	rm("sys/kernel/mm/ksm/sleep_millisecs");
	put("sys/kernel/mm/ksm/sleep_millisecs/x", "");
	snprintf(want, sizeof(want), "ksmctl: cannot read %s/sys/kernel/mm/ksm/sleep_millisecs: Is a "
		 "directory\n", root);
	r = ksmctl(sysroot_opt, "set", "pages_to_scan=5");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, want);
	result_free(&r);
}
END_TEST

START_TEST(no_ksm_same_word)
{
	static const char *const cmds[][3] = {
		{ "status" }, { "get", "run" }, { "get", "-n", "pages_to_scan" }, { "set", "pages_to_scan=5" },
		{ "run" }, { "start" }, { "stop" }, { "unmerge" }, { "save", "-" }, { "merge-now" },
		{ "wait" }, { "ps" },
	};
	struct result r;
	char want[4300];

	use_tree("noksm");
	snprintf(want, sizeof(want), "ksmctl: KSM is not available: %s/sys/kernel/mm/ksm does not exist",
		 root);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		r = ksmctl_env(NULL, -1, sysroot_opt, cmds[i][0], cmds[i][1], cmds[i][2], NULL);
		ck_assert_msg(r.status == 1, "%s: exit %d", cmds[i][0], r.status);
		ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0, "%s: %s", cmds[i][0], r.err);
		ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "%s: %s", cmds[i][0], r.err);
		result_free(&r);
	}
}
END_TEST

START_TEST(selective_ksm_said)
{
	struct result r;

	use_tree("sksm-rfc");
	r = ksmctl(sysroot_opt, "status");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	assert_has(r.err, "Selective KSM layout");
	assert_has(r.err, "ksmctl partition status NAME");
	result_free(&r);
	r = ksmctl(sysroot_opt, "status", "--json");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	assert_has(r.err, "Selective KSM layout");
	result_free(&r);
	r = ksmctl(sysroot_opt, "ps");
	ck_assert_int_eq(r.status, 1);
	assert_has(r.err, "Selective KSM layout");
	assert_has(r.err, "ksmctl partition list");
	result_free(&r);
	r = ksmctl(sysroot_opt, "get", "run");
	ck_assert_int_eq(r.status, 1);
	assert_has(r.err, "Selective KSM layout");
	result_free(&r);
}
END_TEST

/* Let uid 65534 reach the copy. */
static void traversable(void)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s", root);
	for (char *p = path + strlen(path);; p = strrchr(path, '/')) {
		struct stat st;

		*p = '\0';
		if (stat(path[0] ? path : "/", &st) == 0 && !(st.st_mode & S_IXOTH))
			chmod(path, st.st_mode | S_IXOTH);
		if (p == path || !strchr(path, '/'))
			break;
	}
	chmod(root, 0755);
}

START_TEST(ps_counts_what_it_could_not_read)
{
	struct result r;
	char path[4200];

	if (geteuid() != 0)
		return; /* needs root to switch users */
	use_tree("6.18");
	traversable();
	for (const char *const *pid = (const char *const[]){ "2001", "2003", NULL }; *pid; pid++) {
		snprintf(path, sizeof(path), "%s/proc/%s/ksm_stat", root, *pid);
		ck_assert_int_eq(chmod(path, 0400), 0);
	}
	r = ksmctl_env(NULL, 65534, sysroot_opt, "ps", NULL);
	assert_ok(r);
	/* 8: the tree's 7 processes and ksmd (a kernel thread, pid 45). */
	ck_assert_str_eq(r.err, "ksmctl: 2 of 8 processes could not be read and are left out: their "
				"KSM figures are readable by their owner and root only\n");
	assert_has(r.out, "2004 qemu-system-aar");
	ck_assert_ptr_null(strstr(r.out, "2001"));
	result_free(&r);

	/* As root nothing is left out, and nothing is said. */
	r = ksmctl(sysroot_opt, "ps");
	assert_ok(r);
	ck_assert_str_eq(r.err, "");
	result_free(&r);
}
END_TEST

START_TEST(recover_says_nothing_to_do)
{
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "recover");
	assert_ok(r);
	ck_assert_str_eq(r.out, "nothing to recover\n");
	result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 6. One grammar for values; rules between knobs                            */

START_TEST(set_grammar)
{
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "set", " pages_to_scan = +7 ", "use_zero_pages=Yes");
	assert_ok(r);
	assert_knob("pages_to_scan", "7\n");
	assert_knob("use_zero_pages", "1\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "set", "run=UNMERGE");
	assert_ok(r);
	assert_knob("run", "2\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "set", "pages_to_scan=0x10");
	ck_assert_int_eq(r.status, 1);
	assert_has(r.err, "'0x10' is not a valid value of pages_to_scan");
	result_free(&r);

	r = ksmctl(sysroot_opt, "set", "pages_to_scan=5", "sleep_millisecs=5", "pages_to_scan=6");
	ck_assert_int_eq(r.status, 2);
	assert_has(r.err, "pages_to_scan is given twice");
	assert_knob("pages_to_scan", "7\n");
	assert_knob("sleep_millisecs", "20\n");
	result_free(&r);
}
END_TEST

START_TEST(set_rules_between_knobs)
{
	struct result r;
	struct ksm_ctx *ctx;

	use_tree("6.18"); /* advisor_min_pages_to_scan 500, advisor_max_pages_to_scan 30000 */
	r = ksmctl(sysroot_opt, "set", "sleep_millisecs=30", "advisor_min_pages_to_scan=40000");
	ck_assert_int_eq(r.status, 1);
	assert_has(r.err, "advisor_min_pages_to_scan (40000) must not exceed advisor_max_pages_to_scan "
			  "(30000, its current value)");
	assert_knob("sleep_millisecs", "20\n");
	assert_knob("advisor_min_pages_to_scan", "500\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "set", "advisor_max_pages_to_scan=400", "--dry-run");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	result_free(&r);

	r = ksmctl(sysroot_opt, "set", "advisor_min_pages_to_scan=40000", "advisor_max_pages_to_scan=50000");
	assert_ok(r);
	assert_knob("advisor_min_pages_to_scan", "40000\n");
	assert_knob("advisor_max_pages_to_scan", "50000\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "set", "advisor_max_cpu=101");
	ck_assert_int_eq(r.status, 1);
	assert_has(r.err, "accepted: 0 to 100");
	assert_knob("advisor_max_cpu", "70\n");
	result_free(&r);

	/* One knob at a time, through the library: the same rule. */
	ck_assert_int_eq(ksm_new_at(&ctx, root), 0);
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, 100), -EINVAL);
	assert_has(ksm_strerror(-EINVAL), "must not exceed");
	assert_knob("advisor_max_pages_to_scan", "50000\n");
	ck_assert_int_eq(ksm_set(ctx, KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, 40000), 0);
	assert_knob("advisor_max_pages_to_scan", "40000\n");
	ksm_unref(ctx);
}
END_TEST

START_TEST(profile_grammar)
{
	struct result r;
	char want[4300];

	use_tree("6.18");
	put("etc/ksm.conf", "\xef\xbb\xbf# saved on Windows\nrun = STOP\npages_to_scan = +300\n");
	r = ksmctl(sysroot_opt, "apply");
	assert_ok(r);
	assert_knob("pages_to_scan", "300\n");
	result_free(&r);

	put("etc/ksm.conf", "pages_to_scan = 300\nsleep_millisecs = 5\npages_to_scan = 400\n");
	r = ksmctl(sysroot_opt, "apply");
	ck_assert_int_eq(r.status, 1);
	snprintf(want, sizeof(want), "ksmctl: %s/etc/ksm.conf:3: pages_to_scan is set twice (first on line 1)\n",
		 root);
	ck_assert_str_eq(r.err, want);
	result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 8. Texts                                                                  */

static void assert_lines_fit(const char *what, const char *text)
{
	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");

		ck_assert_msg(len <= 80, "%s: a line of %zu columns: %.*s", what, len, (int)len, line);
		line += len + (line[len] == '\n');
	}
}

START_TEST(help_fits_80_columns)
{
	struct result r = ksmctl("--help"), c;
	const char *p;
	int n = 0;

	assert_ok(r);
	assert_lines_fit("--help", r.out);
	/* Every exit status is named. */
	assert_has(r.out, "2 usage error");
	assert_has(r.out, "3 timed out");
	assert_has(r.out, "4 ksmd not running");
	assert_has(r.out, "5 nothing registered");
	assert_has(r.out, "127 not found");
	/* Each command's own help, from the list of commands. */
	p = strstr(r.out, "Commands:\n");
	ck_assert_ptr_nonnull(p);
	for (p = strchr(p, '\n') + 1; *p && *p != '\n'; p = strchr(p, '\n') + 1) {
		char name[32];

		if (sscanf(p, "  %31[a-z-]", name) != 1 || p[2] == ' ')
			continue;
		c = ksmctl("help", name);
		assert_ok(c);
		assert_lines_fit(name, c.out);
		result_free(&c);
		n++;
	}
	ck_assert_int_ge(n, 18);
	result_free(&r);
}
END_TEST

START_TEST(status_words)
{
	struct result r;

	use_tree("6.18-merged"); /* 4 KSM pages, 996 more mappings */
	r = ksmctl(sysroot_opt, "status");
	assert_ok(r);
	assert_has(r.out, "Sharing ratio: 249 extra mappings per KSM page\n");
	assert_has(r.out, "Effectiveness: 98.4% of the pages KSM tracks are saved\n");
	result_free(&r);
	r = ksmctl(sysroot_opt, "status", "--json");
	assert_ok(r);
	assert_has(r.out, "\"sharing_ratio\": 249.0,\n");
	assert_has(r.out, "\"effectiveness\": 0.98419\n");
	result_free(&r);

	tu_write(root, "sys/kernel/mm/ksm/run", "2\n");
	r = ksmctl(sysroot_opt, "status");
	assert_ok(r);
	assert_has(r.out, "KSM: stopped, all pages unmerged (run=2)\n");
	result_free(&r);
}
END_TEST

START_TEST(missing_sysroot)
{
	struct result r = ksmctl("--sysroot", "/nonexistent/libksm", "get", "run");

	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, "ksmctl: cannot open the system root /nonexistent/libksm: No such file "
				"or directory\n");
	result_free(&r);
	/* What reads nothing below the system root does not need it. */
	r = ksmctl("--sysroot", "/nonexistent/libksm", "knobs");
	assert_ok(r);
	result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *edges_suite(void)
{
	Suite *s = suite_create("cli-edges");
	TCase *t = tcase_create("fake-sysroots");

	tcase_add_checked_fixture(t, NULL, teardown);
	tcase_add_test(t, unmerge_says_what_it_costs);
	tcase_add_test(t, unmerge_refuses_what_cannot_fit);
	tcase_add_test(t, unmerge_without_memavailable);
	tcase_add_test(t, set_allow_unmerge_costs);
	tcase_add_test(t, apply_allow_unmerge_costs);
	tcase_add_test(t, apply_start_honours_run);
	tcase_add_test(t, ksmtuned_is_named);
	tcase_add_test(t, ksmtuned_unit_is_named);
	tcase_add_test(t, get_values_only);
	tcase_add_test(t, options_after_operands);
	tcase_add_test(t, usage_error_once);
	tcase_add_test(t, errors_name_the_file);
	tcase_add_test(t, no_ksm_same_word);
	tcase_add_test(t, selective_ksm_said);
	tcase_add_test(t, ps_counts_what_it_could_not_read);
	tcase_add_test(t, recover_says_nothing_to_do);
	tcase_add_test(t, set_grammar);
	tcase_add_test(t, set_rules_between_knobs);
	tcase_add_test(t, profile_grammar);
	tcase_add_test(t, help_fits_80_columns);
	tcase_add_test(t, status_words);
	tcase_add_test(t, missing_sysroot);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run_suite(edges_suite());
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The built ksmctl, run as a separate process: against copies of the fake
 * sysroots (any user) and read-only against the running kernel. Output,
 * JSON validity (parsed by python3's json module), exit codes, error texts.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ksm.h"
#include "testutil.h"
#include "cli.h"


static char *knob_file(const char *knob)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/kernel/mm/ksm/%s", knob);
	return tu_read(root, rel);
}

#define assert_file(knob, expected)                                          \
	do {                                                                 \
		char *_c = knob_file(knob);                                  \
		ck_assert_str_eq(_c, expected);                              \
		free(_c);                                                    \
	} while (0)

/* ------------------------------------------------------------------------ */

START_TEST(status_human)
{
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "status");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	ck_assert_ptr_nonnull(strstr(r.out, "KSM: stopped"));
	for (int i = 0; i < ksm_knob_count(); i++)
		ck_assert_msg(strstr(r.out, ksm_knob_info(i)->name), "%s missing", ksm_knob_info(i)->name);
	ck_assert_ptr_nonnull(strstr(r.out, "advisor_mode                         none\n"));
	result_free(&r);
}
END_TEST

START_TEST(status_json_all_knobs)
{
	struct result r;
	char expr[2048];
	size_t n = 0;

	use_tree("6.18-merged");
	r = ksmctl(sysroot_opt, "status", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	/* Keys are exactly the sysfs names, the enums' names, page_size, "derived" and "policy". */
	n += (size_t)snprintf(expr + n, sizeof(expr) - n, "sorted(d) == sorted([");
	for (int i = 0; i < ksm_knob_count(); i++)
		n += (size_t)snprintf(expr + n, sizeof(expr) - n, "'%s',", ksm_knob_info(i)->name);
	snprintf(expr + n, sizeof(expr) - n, "'run_name','advisor_mode_name','page_size','derived','policy'])");
	assert_json(r.out, expr, "True");
	assert_json(r.out, "d['advisor_mode'], d['advisor_mode_name'], d['run'], d['run_name']",
		    "(0, 'none', 1, 'merge')");
	assert_json(r.out, "all(type(v) is int for k, v in d.items() if not k.endswith('_name') and k not in ('derived', 'policy'))",
		    "True");
	assert_json(r.out, "d['pages_shared'], d['pages_sharing']", "(4, 996)");
	assert_json(r.out, "d['derived']['sharing_ratio']", "249.0");
	assert_json(r.out, "d['derived']['saved_bytes'] == d['pages_sharing'] * d['derived']['page_size']",
		    "True");
	result_free(&r);
}
END_TEST

/* The most negative profit the kernel's long can say prints as such. */
START_TEST(status_extreme_profit)
{
	struct result r;

	use_tree("6.18");
	tu_write(root, "sys/kernel/mm/ksm/general_profit", "-9223372036854775808\n");
	r = ksmctl(sysroot_opt, "status");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_msg(strstr(r.out, "Profit: -8.0 EiB (after KSM's own metadata)\n"), "%s", r.out);
	result_free(&r);
	tu_write(root, "sys/kernel/mm/ksm/general_profit", "-1023\n");
	r = ksmctl(sysroot_opt, "status");
	ck_assert_msg(strstr(r.out, "Profit: -1023 B (after KSM's own metadata)\n"), "%s", r.out);
	result_free(&r);
}
END_TEST

START_TEST(status_json_old_kernel)
{
	struct result r;

	use_tree("2.6.32");
	r = ksmctl(sysroot_opt, "status", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	assert_json(r.out, "sorted(k for k in d if k not in ('derived', 'policy'))",
		    "['full_scans', 'page_size', 'pages_shared', 'pages_sharing', 'pages_to_scan', "
		    "'pages_unshared', 'pages_volatile', 'run', 'run_name', 'sleep_millisecs']");
	result_free(&r);

	r = ksmctl(sysroot_opt, "status");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	ck_assert_ptr_null(strstr(r.out, "smart_scan"));
	result_free(&r);
}
END_TEST

START_TEST(status_advisor_json_string)
{
	struct result r;

	use_tree("6.18-advisor");
	r = ksmctl(sysroot_opt, "status", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_json(r.out, "d['advisor_mode'], d['advisor_mode_name']", "(1, 'scan-time')");
	result_free(&r);
}
END_TEST

START_TEST(status_no_ksm)
{
	struct result r;

	use_tree("noksm");
	r = ksmctl(sysroot_opt, "status");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "KSM is not available"));
	result_free(&r);
}
END_TEST

START_TEST(bad_sysroot)
{
	struct result r = ksmctl("--sysroot", "/nonexistent/libksm", "status");

	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "system root"));
	ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent/libksm"));
	result_free(&r);
}
END_TEST

START_TEST(env_sysroot)
{
	char env[4200];
	const char *envv[] = { env, NULL };
	struct result r;

	use_tree("6.18-merged");
	snprintf(env, sizeof(env), "KSM_SYSROOT=%s", root);
	r = ksmctl_env(envv, -1, "get", "pages_sharing", NULL);
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "pages_sharing=996\n");
	result_free(&r);
}
END_TEST

START_TEST(get_values)
{
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "get", "run", "pages_to_scan", "advisor_mode");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "run=0\npages_to_scan=100\nadvisor_mode=none\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "get", "--json", "max_page_sharing", "advisor_mode");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_json(r.out, "d", "{'max_page_sharing': 256, 'advisor_mode': 0, 'advisor_mode_name': 'none', "
				"'page_size': 4096}");
	result_free(&r);
}
END_TEST

START_TEST(get_errors)
{
	struct result r;

	use_tree("4.18");
	r = ksmctl(sysroot_opt, "get", "foo");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown knob 'foo'"));
	ck_assert_ptr_nonnull(strstr(r.err, "Try 'ksmctl help get'"));
	result_free(&r);

	r = ksmctl(sysroot_opt, "get", "run", "smart_scan");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "run=0\n");
	ck_assert_ptr_nonnull(strstr(r.err, "cannot read smart_scan: this kernel has no such file"));
	result_free(&r);
}
END_TEST

START_TEST(set_writes)
{
	struct result r;

	use_tree("6.18");
	/* pages_to_scan together with the advisor on: the advisor would own it. */
	r = ksmctl(sysroot_opt, "set", "pages_to_scan=500", "sleep_millisecs=10", "advisor_mode=scan-time");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot set pages_to_scan: "));
	ck_assert_ptr_nonnull(strstr(r.err, "advisor controls it"));
	assert_file("pages_to_scan", "100\n");
	assert_file("sleep_millisecs", "20\n");
	assert_file("advisor_mode", "[none] scan-time\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "set", "pages_to_scan=500", "sleep_millisecs=10", "use_zero_pages=yes");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	assert_file("pages_to_scan", "500\n");
	assert_file("sleep_millisecs", "10\n");
	assert_file("use_zero_pages", "1\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "set", "advisor_mode=scan-time");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_file("advisor_mode", "scan-time\n");
	result_free(&r);
}
END_TEST

START_TEST(set_validates_all_first)
{
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "set", "pages_to_scan=500", "max_page_sharing=1");
	ck_assert_int_eq(r.status, 1);
	/* The accepted values as the library describes them. */
	ck_assert_ptr_nonnull(strstr(r.err, "'1' is not a valid value of max_page_sharing"));
	ck_assert_ptr_nonnull(strstr(r.err, "2 to 2147483647"));
	assert_file("pages_to_scan", "100\n");
	assert_file("max_page_sharing", "256\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "set", "pages_to_scan=4294967296");
	ck_assert_int_eq(r.status, 1);
	assert_file("pages_to_scan", "100\n");
	result_free(&r);

	/* The accepted values come from the library, also for names. */
	r = ksmctl(sysroot_opt, "set", "advisor_mode=2");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "'2' is not a valid value of advisor_mode"));
	ck_assert_ptr_nonnull(strstr(r.err, "none or scan-time"));
	assert_file("advisor_mode", "[none] scan-time\n");
	result_free(&r);
}
END_TEST

START_TEST(set_errors_explain)
{
	struct result r;

	use_tree("6.18-merged");
	r = ksmctl(sysroot_opt, "set", "merge_across_nodes=0");
	ck_assert_int_eq(r.status, 1);
	/* What failed, why, and both ways out. */
	ck_assert_ptr_nonnull(strstr(r.err, "ksmctl: cannot set merge_across_nodes: 4 KSM pages are still merged"));
	ck_assert_ptr_nonnull(strstr(r.err, "'ksmctl set --allow-unmerge'"));
	ck_assert_ptr_nonnull(strstr(r.err, "'ksmctl unmerge'"));
	assert_file("merge_across_nodes", "1\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "set", "pages_shared=1");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "pages_shared is a counter"));
	result_free(&r);

	r = ksmctl(sysroot_opt, "set", "pages_to_scan");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "expected KNOB=VALUE"));
	result_free(&r);
	teardown();

	use_tree("6.18-advisor");
	r = ksmctl(sysroot_opt, "set", "pages_to_scan=1000");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot set pages_to_scan: "));
	ck_assert_ptr_nonnull(strstr(r.err, "advisor controls it"));
	ck_assert_ptr_nonnull(strstr(r.err, "advisor_mode=none"));
	assert_file("pages_to_scan", "500\n");
	result_free(&r);
	teardown();

	use_tree("4.18");
	r = ksmctl(sysroot_opt, "set", "smart_scan=0");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot set smart_scan: this kernel has no such file"));
	result_free(&r);
}
END_TEST

START_TEST(run_stop_unmerge)
{
	static const struct {
		const char *cmd, *file;
	} steps[] = {
		{ "run", "1\n" }, { "stop", "0\n" }, { "start", "1\n" }, { "unmerge", "2\n" },
	};
	struct result r;

	use_tree("6.18");
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		r = ksmctl(sysroot_opt, steps[i].cmd);
		ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
		if (strcmp(steps[i].cmd, "unmerge") == 0)
			ck_assert_ptr_nonnull(strstr(r.out, "Unmerged 0 pages (0 B).\n"));
		else
			ck_assert_str_eq(r.out, "");
		ck_assert_str_eq(r.err, "");
		assert_file("run", steps[i].file);
		result_free(&r);
	}
	r = ksmctl(sysroot_opt, "stop", "now");
	ck_assert_int_eq(r.status, 2);
	result_free(&r);
}
END_TEST

START_TEST(start_max_kernel_pages)
{
	const char *env[] = { "KSM_MAX_KERNEL_PAGES=100000", NULL };
	struct result r;

	use_tree("6.18");
	r = ksmctl_env(env, -1, sysroot_opt, "start", NULL);
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.err, "notice: KSM_MAX_KERNEL_PAGES is ignored"));
	assert_file("run", "1\n");
	result_free(&r);
}
END_TEST

START_TEST(features_json)
{
	struct result r;

	use_tree("6.8");
	r = ksmctl(sysroot_opt, "features", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_json(r.out, "d['has_ksm'], d['has_advisor'], d['has_smart_scan'], d['has_selective_ksm'], "
			   "d['has_prctl_memory_merge']",
		    "(True, True, True, False, False)");
	assert_json(r.out, "len(d)", "12");
	result_free(&r);
	teardown();

	use_tree("2.6.32");
	r = ksmctl(sysroot_opt, "features");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "ksm                  yes\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "use_zero_pages       no\n"));
	result_free(&r);
}
END_TEST

START_TEST(knobs_json)
{
	struct result r = ksmctl("knobs", "--json");

	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_json(r.out, "len(d), sum(k['kind'] == 'counter' for k in d)", "(24, 11)");
	assert_json(r.out, "[k['requires'] for k in d if k['name'] == 'max_page_sharing']",
		    "['no_merged_pages']");
	/* Absent, not null, where a knob has no prerequisite. */
	assert_json(r.out, "['requires' in k for k in d if k['name'] in ('run', 'sleep_millisecs')]",
		    "[False, False]");
	result_free(&r);
}
END_TEST

START_TEST(usage)
{
	struct result r;

	r = ksmctl("--help");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "Usage: ksmctl"));
	ck_assert_ptr_nonnull(strstr(r.out, "unmerge"));
	result_free(&r);

	r = ksmctl("--version");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "ksmctl (libksm) "));
	result_free(&r);

	r = ksmctl("help", "set");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "Usage: ksmctl set [--allow-unmerge [--force]] [--dry-run] KNOB=VALUE..."));
	result_free(&r);

	r = ksmctl("status", "--help");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "--json"));
	result_free(&r);

	r = ksmctl_env(NULL, -1, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "missing command"));
	result_free(&r);

	r = ksmctl("frobnicate");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown command 'frobnicate'"));
	result_free(&r);

	r = ksmctl("--bogus");
	ck_assert_int_eq(r.status, 2);
	result_free(&r);

	r = ksmctl("status", "--bogus");
	ck_assert_int_eq(r.status, 2);
	result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Profiles: save and apply, by default below the system root                */

/* The default profile of a context on @sysroot, as the library resolves it (malloc'd). */
static char *profile_path(const char *sysroot)
{
	struct ksm_ctx *ctx;
	char *path;

	ck_assert_int_eq(ksm_new_at(&ctx, sysroot), 0);
	path = strdup(ksm_profile_path(ctx));
	ck_assert_ptr_nonnull(path);
	ksm_unref(ctx);
	return path;
}

/* What is known about a file that must not change: whether it exists, and its identity. */
struct file_state {
	int exists;
	struct stat st;
};

static struct file_state file_state(const char *path)
{
	struct file_state fs = { 0 };

	fs.exists = lstat(path, &fs.st) == 0;
	ck_assert_msg(fs.exists || errno == ENOENT, "lstat %s: %s", path, strerror(errno));
	return fs;
}

#define assert_unchanged(path, before)                                                       \
	do {                                                                                 \
		struct file_state _a = file_state(path);                                     \
		ck_assert_msg(_a.exists == (before).exists, "%s appeared or vanished", path); \
		if (_a.exists)                                                               \
			ck_assert_msg(_a.st.st_ino == (before).st.st_ino &&                   \
				      _a.st.st_size == (before).st.st_size &&                 \
				      _a.st.st_mtim.tv_sec == (before).st.st_mtim.tv_sec &&   \
				      _a.st.st_mtim.tv_nsec == (before).st.st_mtim.tv_nsec,   \
				      "%s was changed", path);                                \
	} while (0)

/* mkdir -p of the directory that holds @path. */
static void make_parent(const char *path)
{
	char *dir = strdup(path);

	ck_assert_ptr_nonnull(dir);
	for (char *p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		ck_assert_msg(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", dir, strerror(errno));
		*p = '/';
	}
	free(dir);
}

START_TEST(save_below_sysroot)
{
	char *host, *path, *text;
	struct file_state host_before;
	struct result r;

	use_tree("6.18");
	host = profile_path("/");
	path = profile_path(root);
	ck_assert_msg(strncmp(path, root, strlen(root)) == 0 && path[strlen(root)] == '/',
		      "default profile %s is not below %s", path, root);
	host_before = file_state(host);

	/* The tree has no configuration directory: it is made there, and only there. */
	r = ksmctl(sysroot_opt, "save");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	assert_unchanged(host, host_before);
	text = tu_read("/", path);
	ck_assert_msg(strstr(text, "pages_to_scan = 100\n") && strstr(text, "sleep_millisecs = 20\n") &&
		      strstr(text, "advisor_mode = none\n"), "%s:\n%s", path, text);
	ck_assert_msg(!strstr(text, "run =") && !strstr(text, "pages_shared"), "%s:\n%s", path, text);
	free(text);
	result_free(&r);

	/* The same text on standard output. */
	r = ksmctl(sysroot_opt, "save", "-");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	text = tu_read("/", path);
	ck_assert_str_eq(r.out, text);
	free(text);
	result_free(&r);

	/* KSM_SYSROOT is a system root as well. */
	{
		char env[4200];
		const char *envv[] = { env, NULL };

		ck_assert_int_eq(unlink(path), 0);
		snprintf(env, sizeof(env), "KSM_SYSROOT=%s", root);
		r = ksmctl_env(envv, -1, "save", NULL);
		ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
		ck_assert_int_eq(access(path, F_OK), 0);
		assert_unchanged(host, host_before);
		result_free(&r);
	}

	/* A save that cannot be done below the sysroot fails; it does not go elsewhere. */
	{
		char *dir = strdup(path);
		int fd;

		ck_assert_ptr_nonnull(dir);
		*strrchr(dir, '/') = '\0';
		tu_rmtree(dir);
		fd = open(dir, O_WRONLY | O_CREAT | O_EXCL, 0644); /* a file where the directory was */
		ck_assert_int_ge(fd, 0);
		close(fd);
		r = ksmctl(sysroot_opt, "save");
		ck_assert_int_eq(r.status, 1);
		ck_assert_str_eq(r.out, "");
		ck_assert_msg(strstr(r.err, path) != NULL, "the message does not name %s: %s", path, r.err);
		assert_unchanged(host, host_before);
		result_free(&r);
		free(dir);
	}
	free(path);
	free(host);
}
END_TEST

START_TEST(apply_below_sysroot)
{
	char *host, *path;
	struct file_state host_before;
	struct result r;

	use_tree("6.18");
	host = profile_path("/");
	path = profile_path(root);
	host_before = file_state(host);

	/* No profile in the tree: --if-exists makes that a success with nothing done. */
	r = ksmctl(sysroot_opt, "apply", "--if-exists");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	assert_file("sleep_millisecs", "20\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "apply");
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, path) != NULL, "the message does not name %s: %s", path, r.err);
	assert_file("sleep_millisecs", "20\n");
	result_free(&r);

	make_parent(path);
	tu_write("/", path, "# tuned\nsleep_millisecs = 50\npages_to_scan=300\n");
	r = ksmctl(sysroot_opt, "apply", "--dry-run");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "sleep_millisecs=50\npages_to_scan=300\n");
	assert_file("sleep_millisecs", "20\n");
	result_free(&r);

	r = ksmctl(sysroot_opt, "apply");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	assert_file("sleep_millisecs", "50\n");
	assert_file("pages_to_scan", "300\n");
	assert_unchanged(host, host_before);
	result_free(&r);

	/* A bad line: nothing is written, and the message points at the line. */
	tu_write("/", path, "sleep_millisecs = 70\npages_to_scan = lots\n");
	r = ksmctl(sysroot_opt, "apply");
	ck_assert_int_eq(r.status, 1);
	{
		char *where;

		ck_assert_int_ne(asprintf(&where, "ksmctl: %s:2: 'lots' is not a valid value of pages_to_scan",
					  path), -1);
		ck_assert_msg(strstr(r.err, where) != NULL, "want '%s' in: %s", where, r.err);
		free(where);
	}
	assert_file("sleep_millisecs", "50\n");
	result_free(&r);

	tu_write("/", path, "pages_sharing = 3\n");
	r = ksmctl(sysroot_opt, "apply");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, ":1: pages_sharing is a counter"));
	result_free(&r);

	/* An explicit file is used as it is. */
	r = ksmctl(sysroot_opt, "apply", "/nonexistent/libksm.conf");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent/libksm.conf"));
	result_free(&r);
	r = ksmctl(sysroot_opt, "apply", "--if-exists", "/nonexistent/libksm.conf");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	result_free(&r);

	r = ksmctl(sysroot_opt, "apply", "a", "b");
	ck_assert_int_eq(r.status, 2);
	result_free(&r);
	free(path);
	free(host);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The running kernel, read-only: nothing here changes a knob.               */

static bool live_ksm(void)
{
	return access("/sys/kernel/mm/ksm/run", R_OK) == 0;
}

static char *raw(const char *knob)
{
	char path[256];

	snprintf(path, sizeof(path), "sys/kernel/mm/ksm/%s", knob);
	return tu_read("/", path);
}

START_TEST(live_status_json)
{
	struct result r;
	char *run, *pts, *expect;

	if (!live_ksm())
		return; /* no KSM on this kernel: nothing to compare with */
	r = ksmctl("status", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	run = raw("run");
	pts = raw("pages_to_scan");
	ck_assert_int_ne(asprintf(&expect, "(%d, %d)", atoi(run) & 3, atoi(pts)), -1);
	assert_json(r.out, "d['run'], d['pages_to_scan']", expect);
	free(expect);
	free(run);
	free(pts);
	result_free(&r);
}
END_TEST

START_TEST(live_get_matches_raw)
{
	struct result r;
	char *mps, *expect;

	if (!live_ksm())
		return;
	r = ksmctl("get", "max_page_sharing");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	mps = raw("max_page_sharing");
	ck_assert_int_ne(asprintf(&expect, "max_page_sharing=%s", mps), -1);
	ck_assert_str_eq(r.out, expect);
	free(expect);
	free(mps);
	result_free(&r);
}
END_TEST

START_TEST(live_invalid_leaves_kernel_unchanged)
{
	struct result r;
	char *before, *after;

	if (!live_ksm() || geteuid() != 0)
		return;
	before = raw("max_page_sharing");
	r = ksmctl("set", "max_page_sharing=1");
	ck_assert_int_eq(r.status, 1);
	after = raw("max_page_sharing");
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	result_free(&r);
}
END_TEST

START_TEST(live_unprivileged)
{
	struct passwd *pw = getpwnam("nobody");
	struct result r;
	char *before, *after;

	if (!live_ksm() || geteuid() != 0 || !pw)
		return; /* needs root to switch to nobody */
	r = ksmctl_env(NULL, (int)pw->pw_uid, "status", NULL);
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "pages_sharing"));
	result_free(&r);

	before = raw("sleep_millisecs");
	r = ksmctl_env(NULL, (int)pw->pw_uid, "set", "sleep_millisecs=33", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot set sleep_millisecs: permission denied"));
	after = raw("sleep_millisecs");
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	result_free(&r);
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *fake = tcase_create("fake-sysroots");
	TCase *live = tcase_create("live-kernel");

	tcase_add_checked_fixture(fake, NULL, teardown);
	tcase_add_test(fake, status_human);
	tcase_add_test(fake, status_json_all_knobs);
	tcase_add_test(fake, status_json_old_kernel);
	tcase_add_test(fake, status_extreme_profit);
	tcase_add_test(fake, status_advisor_json_string);
	tcase_add_test(fake, status_no_ksm);
	tcase_add_test(fake, bad_sysroot);
	tcase_add_test(fake, env_sysroot);
	tcase_add_test(fake, get_values);
	tcase_add_test(fake, get_errors);
	tcase_add_test(fake, set_writes);
	tcase_add_test(fake, set_validates_all_first);
	tcase_add_test(fake, set_errors_explain);
	tcase_add_test(fake, run_stop_unmerge);
	tcase_add_test(fake, start_max_kernel_pages);
	tcase_add_test(fake, features_json);
	tcase_add_test(fake, knobs_json);
	tcase_add_test(fake, save_below_sysroot);
	tcase_add_test(fake, apply_below_sysroot);
	tcase_add_test(fake, usage);
	suite_add_tcase(s, fake);

	tcase_add_test(live, live_status_json);
	tcase_add_test(live, live_get_matches_raw);
	tcase_add_test(live, live_invalid_leaves_kernel_unchanged);
	tcase_add_test(live, live_unprivileged);
	suite_add_tcase(s, live);
	return s;
}

int main(void)
{
	return tu_run_suite(cli_suite());
}

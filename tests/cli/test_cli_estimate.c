// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksmctl estimate: usage errors and messages (against fake sysroots), and, on the running kernel, that its output is the
 * library's estimate of the same processes: two est-workload processes
 * (EST_WORKLOAD) started here, read by ksmctl and by ksm_estimate_run().
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ksm.h"
#include "testutil.h"
#include "cli.h"

#ifndef EST_WORKLOAD
#error "EST_WORKLOAD must name the built est-workload"
#endif
#ifndef SCHEMA_PY
#error "SCHEMA_PY must name tests/cli/test-json-schema.py"
#endif

/* The JSON schema of ksmctl(8), as test-json-schema.py checks it: its
 * failures on @json, "0" when it holds (else the first FAIL line). */
static void assert_schema(const char *json)
{
	assert_json(json,
		    "(lambda spec: (lambda mod: (spec.loader.exec_module(mod), "
		    "mod.check_text('estimate', json.dumps(d)))[1])"
		    "(__import__('importlib.util').util.module_from_spec(spec)))"
		    "(__import__('importlib.util').util.spec_from_file_location('schema', '" SCHEMA_PY "'))",
		    "0");
}

static void assert_usage(struct result r, const char *text)
{
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, text) != NULL, "stderr lacks '%s':\n%s", text, r.err);
	ck_assert_msg(strstr(r.err, "Try 'ksmctl help estimate'") != NULL, "no hint:\n%s", r.err);
	result_free(&r);
}

START_TEST(test_usage)
{
	struct result r;

	assert_usage(ksmctl("estimate"), "needs a target: --pid, --cgroup, --unit or --all");
	assert_usage(ksmctl("estimate", "--pid", "abc"), "invalid process ID 'abc'");
	assert_usage(ksmctl("estimate", "--pid", "0"), "invalid process ID '0'");
	assert_usage(ksmctl("estimate", "--all", "--sample", "0"), "invalid sampling rate '0'");
	assert_usage(ksmctl("estimate", "--all", "--sample", "150%"), "invalid sampling rate '150%'");
	assert_usage(ksmctl("estimate", "--all", "--verify", "-1"), "invalid verify delay '-1'");
	assert_usage(ksmctl("estimate", "--all", "--pid", "1"),
		     "--all cannot be combined with other targets");
	assert_usage(ksmctl("estimate", "--all", "extra"), "'estimate' takes no arguments");
	assert_usage(ksmctl("estimate", "--bogus"), "'estimate' has no option '--bogus'");
	assert_usage(ksmctl("estimate", "--pid"), "option '--pid' of 'estimate' needs a value");

	r = ksmctl("merge-now", "--guided");
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "'merge-now --guided' needs a target") != NULL, "%s", r.err);
	result_free(&r);
	r = ksmctl("merge-now", "--guided", "--all", "--gap", "x");
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "--gap takes a number of pages, not 'x'") != NULL, "%s", r.err);
	result_free(&r);
	assert_usage(ksmctl("estimate", "--all", "--memory-limit", "12Q"), "invalid memory limit '12Q'");

	r = ksmctl("estimate", "--help");
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strncmp(r.out, "Usage: ksmctl estimate TARGET...", 32) == 0, "%s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "--verify SECS"));
	result_free(&r);
}
END_TEST

START_TEST(test_fake_root)
{
	struct result r;

	use_tree("6.18");
	/* The fake tree's /proc has no process 4242. */
	r = ksmctl(sysroot_opt, "estimate", "--pid", "4242");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, "ksmctl: cannot estimate process 4242: there is no such process\n");
	result_free(&r);
	r = ksmctl(sysroot_opt, "estimate", "--cgroup", "/system.slice/none.service");
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "there is no cgroup /system.slice/none.service") != NULL, "%s",
		      r.err);
	result_free(&r);
	r = ksmctl(sysroot_opt, "estimate", "--unit", "none.service");
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "none.service") != NULL, "%s", r.err);
	result_free(&r);
}
END_TEST

/* Two est-workload processes; their pids in @pids. */
static pid_t start_workload(int *pids, FILE **in)
{
	int to[2], from[2];
	char line[128], *p;
	FILE *out;
	pid_t pid;

	ck_assert_int_eq(pipe(to), 0);
	ck_assert_int_eq(pipe(from), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		execl(EST_WORKLOAD, EST_WORKLOAD, "-n", "2", "-m", "4", "-d", "50", "-z", "5",
		      (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	*in = fdopen(to[1], "w");
	out = fdopen(from[0], "r");
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), out));
	fclose(out);
	ck_assert_msg(strncmp(line, "ready", 5) == 0, "%s", line);
	p = line + 5;
	pids[0] = (int)strtol(p, &p, 10);
	pids[1] = (int)strtol(p, &p, 10);
	return pid;
}

START_TEST(test_matches_library)
{
	struct ksm_estimate_result lib, one;
	struct ksm_estimate *est;
	struct ksm_ctx *ctx;
	char pa[16], pb[16], expr[64], want[64];
	struct result r;
	int pids[2], rc;
	int64_t ov;
	pid_t wl;
	FILE *in;

	if (access("/sys/kernel/mm/ksm/run", R_OK) != 0)
		return; /* no KSM: nothing to estimate for */
	wl = start_workload(pids, &in);
	/* Stopped, their memory stays as it is between the library's reading and ksmctl's. */
	kill(pids[0], SIGSTOP);
	kill(pids[1], SIGSTOP);
	snprintf(pa, sizeof(pa), "%d", pids[0]);
	snprintf(pb, sizeof(pb), "%d", pids[1]);

	ck_assert_int_eq(ksm_new_at(&ctx, "/"), 0);
	ck_assert_int_eq(ksm_estimate_new(ctx, &est), 0);
	ck_assert_int_eq(ksm_estimate_add_pid(est, pids[0]), 0);
	ck_assert_int_eq(ksm_estimate_add_pid(est, pids[1]), 1);
	rc = ksm_estimate_run(est, 0);
	ck_assert_msg(rc == 0, "%s", ksm_strerror(rc));
	ck_assert_int_eq(ksm_estimate_result(est, -1, &lib, sizeof(lib)), 0);
	ck_assert_int_eq(ksm_estimate_result(est, 1, &one, sizeof(one)), 0);
	ck_assert_int_eq(ksm_estimate_overlap(est, 0, 1, &ov), 0);
	/* 512 duplicate contents in both, 10 0xA5 pages and 51 zero pages each. */
	ck_assert_int_ge(lib.pages_sharing + lib.ksm_zero_pages, 512 + 19 + 101);

	r = ksmctl("estimate", "--pid", pa, "--pid", pb, "--json");
	ck_assert_msg(r.status == 0, "%s", r.err);
	snprintf(want, sizeof(want), "%" PRId64, lib.pages_sharing);
	assert_json(r.out, "d['total']['pages_sharing']", want);
	snprintf(want, sizeof(want), "%" PRId64, lib.pages_shared);
	assert_json(r.out, "d['total']['pages_shared']", want);
	snprintf(want, sizeof(want), "%" PRId64, lib.ksm_zero_pages);
	assert_json(r.out, "d['total']['ksm_zero_pages']", want);
	snprintf(want, sizeof(want), "%" PRId64, lib.rmap_items);
	assert_json(r.out, "d['total']['rmap_items']", want);
	snprintf(want, sizeof(want), "%" PRId64, lib.general_profit);
	assert_json(r.out, "d['total']['general_profit']", want);
	snprintf(want, sizeof(want), "%" PRId64, one.pages_sharing);
	assert_json(r.out, "d['targets'][1]['pages_sharing']", want);
	snprintf(want, sizeof(want), "%" PRId64, ov);
	assert_json(r.out, "d['targets'][0]['overlap'][1]", want);
	snprintf(expr, sizeof(expr), "d['targets'][1]['target']");
	assert_json(r.out, expr, pb);
	assert_json(r.out, "d['sample_rate']", "1.0");
	assert_json(r.out, "d['total']['page_size'] == d['targets'][0]['page_size'] > 0", "True");
	assert_json(r.out, "'pages_sharing_ci' in d['total']", "False");
	assert_schema(r.out);
	result_free(&r);

	/* Sampled and verified: the extra keys appear. */
	r = ksmctl("estimate", "--pid", pa, "--sample", "50%", "--seed", "3", "--verify", "0.1",
		   "--json");
	ck_assert_msg(r.status == 0, "%s", r.err);
	assert_json(r.out, "d['sample_rate']", "0.5");
	assert_json(r.out, "'pages_sharing_ci' in d['total']", "True");
	assert_json(r.out, "'volatile_pages' in d['total']", "True");
	assert_schema(r.out);
	result_free(&r);

	/* The cost model and the memory limit, in JSON. */
	r = ksmctl("estimate", "--pid", pa, "--memory-limit", "16K", "--json");
	ck_assert_msg(r.status == 0, "%s", r.err);
	assert_json(r.out, "d['auto_sampled']", "True");
	assert_json(r.out, "0 < d['sample_rate'] < 1", "True");
	assert_json(r.out, "d['total']['unreadable_pages']", "0");
	assert_json(r.out, "d['total']['ksmd_cpu_to_merge_ns'] > 0", "True");
	assert_schema(r.out);
	result_free(&r);

	/* Guided, dry run: the ranges of the library, nothing registered. */
	{
		struct ksm_range rg[64];
		char line[96];
		int n = ksm_estimate_ranges(est, pids[0], KSM_GUIDED_GAP_PAGES, rg, 64);

		ck_assert_int_gt(n, 0);
		r = ksmctl("merge-now", "--guided", "--pid", pa, "--pid", pb, "--dry-run");
		ck_assert_msg(r.status == 0, "%s", r.err);
		snprintf(line, sizeof(line), "\n  %" PRIx64 "-%" PRIx64 "\n", rg[0].start,
			 rg[0].start + rg[0].length);
		ck_assert_msg(strstr(r.out, line) != NULL, "no '%s' in:\n%s", line, r.out);
		ck_assert_ptr_nonnull(strstr(r.out, "would register "));
		result_free(&r);
		ck_assert_int_eq(ksm_process_merge_state(ctx, pids[0]), 0);
	}

	/* People's output. */
	r = ksmctl("estimate", "--pid", pa, "--pid", pb);
	ck_assert_int_eq(r.status, 0);
	snprintf(want, sizeof(want), "  pages_sharing        %" PRId64 "\n", lib.pages_sharing);
	ck_assert_msg(strstr(r.out, want) != NULL, "no '%s' in:\n%s", want, r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "Pages of ROW merged with a page of COLUMN:"));
	result_free(&r);

	ksm_estimate_unref(est);
	ksm_unref(ctx);
	kill(pids[0], SIGCONT);
	kill(pids[1], SIGCONT);
	fprintf(in, "quit\n");
	fclose(in);
	waitpid(wl, NULL, 0);
}
END_TEST

/* Without privileges: another user's process cannot be read, and says why;
 * --all leaves out what it cannot read and counts it. */
START_TEST(test_unprivileged)
{
	struct result r;
	char pa[16];
	int pids[2];
	pid_t wl;
	FILE *in;

	if (geteuid() != 0 || access("/sys/kernel/mm/ksm/run", R_OK) != 0)
		return; /* needs root to switch to nobody; no KSM: nothing to estimate for */
	wl = start_workload(pids, &in);
	snprintf(pa, sizeof(pa), "%d", pids[0]);
	r = ksmctl_env(NULL, 65534, "estimate", "--pid", pa, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "cannot read the memory of process") &&
		      strstr(r.err, "needs root or CAP_SYS_PTRACE"), "%s", r.err);
	result_free(&r);
	r = ksmctl_env(NULL, 65534, "estimate", "--all", "--json", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	assert_json(r.out, "d['total']['processes']", "0");
	assert_json(r.out, "d['total']['skipped_processes'] >= 2", "True");
	assert_json(r.out, "d['frames']", "False");
	result_free(&r);
	fprintf(in, "quit\n");
	fclose(in);
	waitpid(wl, NULL, 0);
}
END_TEST

START_TEST(test_no_such_process)
{
	struct result r;
	char pid[16];
	pid_t child = fork();

	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	snprintf(pid, sizeof(pid), "%d", (int)child);
	r = ksmctl("estimate", "--pid", pid);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "there is no such process") != NULL, "%s", r.err);
	result_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli_estimate");
	TCase *tc = tcase_create("estimate");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_usage);
	tcase_add_test(tc, test_fake_root);
	tcase_add_test(tc, test_matches_library);
	tcase_add_test(tc, test_no_such_process);
	tcase_add_test(tc, test_unprivileged);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The process commands of the built ksmctl: ps and wait against copies of
 * the fake sysroots (their processes are listed in tests/sysroots/README.md),
 * exec against the running kernel. Output, JSON (parsed by python3's json
 * module), exit statuses and error texts.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksm.h"
#include "testutil.h"
#include "cli.h"


#define HEADER "    PID COMMAND            MERGING       ZERO       RMAP     PROFIT MERGE_ANY MERGEABLE " \
	"MERGE_BY  UNIT                     GUEST          CMDLINE\n"

/* The KSM columns of a line of 'ps' (up to MERGEABLE), without trailing blanks, in place. */
static char *head(char *line)
{
	size_t n = strlen(line);

	if (n > 87)
		n = 87;
	while (n > 0 && line[n - 1] == ' ')
		n--;
	line[n] = '\0';
	return line;
}

/* The pids of the lines after the header, space-separated ("2001 2004"). */
static void line_pids(const char *out, char *buf, size_t size)
{
	const char *line = strchr(out, '\n');
	size_t n = 0;

	buf[0] = '\0';
	ck_assert_ptr_nonnull(line);
	for (line++; *line; line = strchr(line, '\n') + 1) {
		ck_assert_ptr_nonnull(strchr(line, '\n'));
		n += (size_t)snprintf(buf + n, size - n, "%s%d", n ? " " : "", atoi(line));
		ck_assert_uint_lt(n, size);
	}
}

#define assert_pids(out, expected)                                            \
	do {                                                                  \
		char _p[256];                                                 \
		line_pids(out, _p, sizeof(_p));                               \
		ck_assert_str_eq(_p, expected);                               \
	} while (0)

/* The line of @pid in human output, without its newline, copied to @buf. */
static const char *line_of(const char *out, int pid, char *buf, size_t size)
{
	char key[16];
	const char *p;
	size_t len;

	snprintf(key, sizeof(key), "\n%7d ", pid);
	p = strstr(out, key);
	ck_assert_msg(p != NULL, "no line for pid %d in:\n%s", pid, out);
	p++;
	len = strcspn(p, "\n");
	ck_assert_uint_lt(len, size);
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

/* ------------------------------------------------------------------------ */
/* ps                                                                        */

/* A process opted out (neither flag) but still holding scanned pages: none. */
START_TEST(ps_merge_by_none)
{
	char path[4400], line[256];
	struct result r;
	FILE *f;

	use_tree("6.18");
	snprintf(path, sizeof(path), "%s/proc/2002/ksm_stat", root);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("ksm_rmap_items 7\nksm_zero_pages 0\nksm_merging_pages 0\nksm_process_profit -448\n"
	      "ksm_merge_any: no\nksm_mergeable: no\n", f);
	ck_assert_int_eq(fclose(f), 0);
	r = ksmctl(sysroot_opt, "ps", "2002");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(line_of(r.out, 2002, line, sizeof(line)),
				     " no        no        none      "));
	result_free(&r);
	/* --json: the kernel's two fields, from which the means follows. */
	r = ksmctl(sysroot_opt, "ps", "--json", "2002", "2004");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "\"ksm_merge_any\": false, \"ksm_mergeable\": false"));
	ck_assert_ptr_nonnull(strstr(r.out, "\"ksm_merge_any\": false, \"ksm_mergeable\": true"));
	result_free(&r);
	teardown();
}
END_TEST

START_TEST(ps_human)
{
	char line[256];
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "ps");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	/* The header, then the four active processes, largest profit first. */
	ck_assert_msg(strncmp(r.out, HEADER, strlen(HEADER)) == 0, "header:\n%s", r.out);
	assert_pids(r.out, "2001 2004 2002 2003");
	/* Profit is in bytes already: the same units on every page size. */
	ck_assert_ptr_nonnull(strstr(line_of(r.out, 2001, line, sizeof(line)),
				     " qemu-system-x86 "));
	ck_assert_ptr_nonnull(strstr(line, "      4096   11.9 MiB yes       yes"));
	ck_assert_ptr_nonnull(strstr(line_of(r.out, 2004, line, sizeof(line)),
				     "       1500    5.4 MiB no        yes"));
	ck_assert_ptr_nonnull(strstr(line_of(r.out, 2002, line, sizeof(line)),
				     "          0        0 B no        yes"));
	ck_assert_ptr_nonnull(strstr(line_of(r.out, 2003, line, sizeof(line)),
				     "      20000   -1.2 MiB yes       yes"));
	/* By which means each merges: ksm_merge_any, else ksm_mergeable. */
	ck_assert_ptr_nonnull(strstr(line_of(r.out, 2001, line, sizeof(line)),
				     " yes       yes       merge-any "));
	ck_assert_ptr_nonnull(strstr(line_of(r.out, 2004, line, sizeof(line)),
				     " no        yes       madvise   "));
	if (sysconf(_SC_PAGESIZE) == 4096) {
		/* Pages times 4 KiB: 3000 pages, 100 zero pages. */
		ck_assert_str_eq(head((char *)line_of(r.out, 2001, line, sizeof(line))),
				 "   2001 qemu-system-x86   11.7 MiB  400.0 KiB       4096   11.9 MiB yes       yes");
		ck_assert_str_eq(head((char *)line_of(r.out, 2003, line, sizeof(line))),
				 "   2003 java              40.0 KiB        0 B      20000   -1.2 MiB yes       yes");
		ck_assert_str_eq(head((char *)line_of(r.out, 2004, line, sizeof(line))),
				 "   2004 qemu-system-aar  800.0 KiB    4.7 MiB       1500    5.4 MiB no        yes");
	}
	/* Idle processes and kernel threads are not listed. */
	ck_assert_ptr_null(strstr(r.out, "systemd"));
	ck_assert_ptr_null(strstr(r.out, "kthreadd"));
	result_free(&r);
}
END_TEST

START_TEST(ps_sort)
{
	static const struct {
		const char *opt, *key, *pids;
	} sorts[] = {
		{ "--sort", "profit", "2001 2004 2002 2003" },
		{ "--sort", "merging", "2001 2004 2003 2002" },
		{ "--sort", "zero", "2004 2001 2002 2003" }, /* 2002 and 2003 tie: by pid */
		{ "--sort", "rmap", "2003 2001 2004 2002" },
		{ "-s", "rmap", "2003 2001 2004 2002" },
	};
	struct result r;

	use_tree("6.18");
	for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++) {
		r = ksmctl(sysroot_opt, "ps", sorts[i].opt, sorts[i].key);
		ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
		ck_assert_str_eq(r.err, "");
		ck_assert_msg(strncmp(r.out, HEADER, strlen(HEADER)) == 0, "header:\n%s", r.out);
		assert_pids(r.out, sorts[i].pids);
		result_free(&r);
	}

	/* The JSON array is in the same order. */
	r = ksmctl(sysroot_opt, "ps", "--json", "--sort", "zero");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_json(r.out, "[p['pid'] for p in d]", "[2004, 2001, 2002, 2003]");
	result_free(&r);
}
END_TEST

/*
 * Before 6.4 the kernel has no profit figure: PROFIT is the library's
 * estimate (the saved bytes less 64 bytes per rmap item on 64-bit builds),
 * and the sort follows it.
 */
START_TEST(ps_old_kernels)
{
	char line[256];
	struct result r;

	use_tree("5.19");
	/* 1300 now merges more than 1234: it comes first. */
	tu_write(root, "proc/1300/ksm_merging_pages", "4096\n");
	r = ksmctl(sysroot_opt, "ps");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_pids(r.out, "1300 1234");
	/* Only the merged pages are known; the other kernel figures are "-". */
	ck_assert_ptr_nonnull(strstr(line_of(r.out, 1234, line, sizeof(line)),
				     " qemu-kvm "));
	ck_assert_ptr_nonnull(strstr(line, "          -          - "));
	ck_assert_ptr_nonnull(strstr(line, " -         -         -         "));
	if (sysconf(_SC_PAGESIZE) == 4096 && sizeof(long) == 8)
		/* No rmap items known: the estimate is the saved 2048 pages. */
		ck_assert_str_eq(head(line), "   1234 qemu-kvm           8.0 MiB          -          -    8.0 MiB -         -");
	result_free(&r);
	teardown();

	use_tree("6.1");
	r = ksmctl(sysroot_opt, "ps");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_pids(r.out, "812 4242");
	/* 3000 merged pages from ksm_merging_pages, since ksm_stat lacks them. */
	line_of(r.out, 812, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "          -       4096 "));
	if (sysconf(_SC_PAGESIZE) == 4096 && sizeof(long) == 8)
		/* 3000 * 4096 - 4096 * 64 = 12025856 bytes. */
		ck_assert_str_eq(head(line), "    812 qemu-kvm          11.7 MiB          -       4096   11.5 MiB -         -");
	result_free(&r);
	teardown();

	/* No per-process files at all. */
	use_tree("4.18");
	r = ksmctl(sysroot_opt, "ps");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "this kernel has no per-process KSM figures"));
	result_free(&r);
	r = ksmctl(sysroot_opt, "ps", "1234");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "this kernel has no per-process KSM figures"));
	result_free(&r);
}
END_TEST

START_TEST(ps_json)
{
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "ps", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	assert_json(r.out, "[p['pid'] for p in d]", "[2001, 2004, 2002, 2003]");
	/* The kernel's figures; who the process is comes apart (ps_identity). */
	assert_json(r.out, "all(sorted(k for k in p if k not in ('cmdline', 'cgroup', 'unit', 'guest', 'vmid')) == "
			   "sorted(['pid', 'comm', 'page_size', 'ksm_rmap_items', "
			   "'ksm_zero_pages', 'ksm_merging_pages', 'ksm_process_profit', 'ksm_merge_any', "
			   "'ksm_mergeable']) for p in d)", "True");
	assert_json(r.out, "[type(p[k]).__name__ for p in d[:1] for k in sorted(p) "
			   "if k.startswith('ksm_') or k in ('pid', 'comm', 'page_size')]",
		    "['str', 'bool', 'bool', 'int', 'int', 'int', 'int', 'int', 'int']");
	assert_json(r.out, "{k: v for k, v in d[0].items() if k.startswith('ksm_') or k in ('pid', 'comm', 'page_size')}",
		    "{'pid': 2001, 'comm': 'qemu-system-x86', 'page_size': 4096, "
				   "'ksm_rmap_items': 4096, "
				   "'ksm_zero_pages': 100, 'ksm_merging_pages': 3000, "
				   "'ksm_process_profit': 12435456, 'ksm_merge_any': True, "
				   "'ksm_mergeable': True}");
	assert_json(r.out, "[(p['comm'], p['ksm_merge_any'], p['ksm_mergeable']) for p in d[1:]]",
		    "[('qemu-system-aar', False, True), ('postgres', False, True), ('java', True, True)]");
	assert_json(r.out, "d[3]['ksm_process_profit']", "-1239040");
	result_free(&r);
}
END_TEST

/* Output without control characters or invalid UTF-8 (newlines between lines only). */
static void assert_printable(const char *out)
{
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		ck_assert_msg(*p == '\n' || (*p >= 0x20 && *p < 0x7f), "byte %#x at %zu:\n%s", *p,
			      (size_t)(p - (const unsigned char *)out), out);
}

/* A process name is anything its owner sets: escaped for people, valid JSON. */
START_TEST(ps_hostile_comm)
{
	struct result r;
	char line[256];

	use_tree("6.18");
	tu_write(root, "proc/2001/comm", "\x1b[2J\x7f\xff\\x\n");
	tu_write(root, "proc/2004/comm", "caf\xc3\xa9\xc2\x9b\n");
	r = ksmctl(sysroot_opt, "ps");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(line_of(r.out, 2004, line, sizeof(line)), " caf\xc3\xa9\\xc2\\x9b "));
	/* Valid UTF-8 stays; everything else here is ASCII. */
	*strstr(r.out, "caf\xc3\xa9") = '\0';
	assert_printable(r.out);
	ck_assert_ptr_nonnull(strstr(line_of(r.out, 2001, line, sizeof(line)),
				     " \\x1b[2J\\x7f\\xff\\\\x "));
	result_free(&r);

	r = ksmctl(sysroot_opt, "ps", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	/* Control characters as \u00XX, the invalid byte as U+FFFD. */
	assert_json(r.out, "[p['comm'] for p in d if p['pid'] == 2001] == ['\\x1b[2J\\x7f\\ufffd\\\\x']",
		    "True");
	assert_json(r.out, "[p['comm'] for p in d if p['pid'] == 2004] == ['caf\\xe9\\x9b']", "True");
	ck_assert_ptr_nonnull(strstr(r.out, "\"\\u001b[2J\\u007f\\ufffd\\\\x\""));
	ck_assert_ptr_nonnull(strstr(r.out, "\"caf\xc3\xa9\\u009b\""));
	result_free(&r);
}
END_TEST

/* Figures beyond what int64_t bytes hold saturate; the most negative profit prints. */
START_TEST(ps_huge_values)
{
	struct result r;
	char line[256];

	use_tree("6.18");
	tu_write(root, "proc/2001/ksm_stat",
		 "ksm_rmap_items 1\nksm_zero_pages 0\nksm_merging_pages 9223372036854775807\n"
		 "ksm_process_profit -9223372036854775808\nksm_merge_any: yes\nksm_mergeable: yes\n");
	r = ksmctl(sysroot_opt, "ps");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(line_of(r.out, 2001, line, sizeof(line)),
				     "    8.0 EiB        0 B          1   -8.0 EiB yes       yes"));
	result_free(&r);
}
END_TEST

/*
 * A live process this test starts and registers for merging per process
 * (prctl, no global knob changes), with a hostile name: @comm set with
 * PR_SET_NAME, or @argv exec'd (/bin/sh, which reads its stdin). It lives
 * until live_stop(). false where there is no process-wide KSM (before
 * Linux 6.4, or no KSM): nothing to list, the test has nothing to check.
 */
struct live {
	pid_t pid;
	int hold; /* the write end of the child's stdin: it lives until this closes */
	char pidtext[16];
};

static void live_stop(struct live *l)
{
	close(l->hold);
	waitpid(l->pid, NULL, 0);
}

static bool live_start(struct live *l, const char *comm, char *const argv[])
{
	int ready[2], hold[2];
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(hold), 0);
	l->pid = fork();
	ck_assert_int_ge(l->pid, 0);
	if (l->pid == 0) {
		char ok = 'n';

		close(ready[0]);
		close(hold[1]);
		if ((!comm || prctl(PR_SET_NAME, (unsigned long)comm, 0, 0, 0) == 0) &&
		    prctl(67 /* PR_SET_MEMORY_MERGE */, 1, 0, 0, 0) == 0)
			ok = 'y';
		if (write(ready[1], &ok, 1) != 1)
			_exit(1);
		close(ready[1]);
		if (!argv || ok != 'y') {
			/* Until the test closes its end. */
			while (read(hold[0], &c, 1) > 0)
				;
			_exit(0);
		}
		/* sh waits for its stdin (the test's pipe) to close. */
		dup2(hold[0], 0);
		execv("/bin/sh", argv);
		_exit(127);
	}
	close(ready[1]);
	close(hold[0]);
	l->hold = hold[1];
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	if (c != 'y') {
		live_stop(l);
		return false;
	}
	snprintf(l->pidtext, sizeof(l->pidtext), "%d", (int)l->pid);
	return true;
}

/* ksmctl ps --json PID lists the live process alone, its @key holding @value (a Python string's text). */
static void assert_live_json(const struct live *l, const char *key, const char *value)
{
	struct result r;
	char expr[512];

	r = ksmctl("ps", "--json", l->pidtext);
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	snprintf(expr, sizeof(expr), "[(p['pid'], p['%s']) for p in d] == [(%d, '%s')]", key, (int)l->pid,
		 value);
	assert_json(r.out, expr, "True");
	result_free(&r);
}

/*
 * The same on the running kernel: a process this test starts names itself
 * with escape sequences, DEL and an invalid byte (what any user may do) and
 * registers its memory for merging, per process (no global knob changes).
 */
START_TEST(ps_live_hostile_comm)
{
	struct live l;
	struct result r;
	char expr[128];

	if (!live_start(&l, "\x1b[2J\x7f\xff", NULL))
		return;

	r = ksmctl("ps");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	for (const unsigned char *p = (const unsigned char *)r.out; *p; p++)
		ck_assert_msg(*p == '\n' || (*p >= 0x20 && *p != 0x7f), "byte %#x at %zu", *p,
			      (size_t)(p - (const unsigned char *)r.out));
	ck_assert_msg(strstr(r.out, " \\x1b[2J\\x7f\\xff "), "%s", r.out);
	result_free(&r);

	assert_live_json(&l, "comm", "\\x1b[2J\\x7f\\ufffd");

	/* The whole list parses too, whatever the other processes are called. */
	r = ksmctl("ps", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	snprintf(expr, sizeof(expr), "[p['comm'] for p in d if p['pid'] == %d] == ['\\x1b[2J\\x7f\\ufffd']",
		 (int)l.pid);
	assert_json(r.out, expr, "True");
	result_free(&r);

	live_stop(&l);
}
END_TEST

/*
 * The identity columns come from the system too: a command line is whatever
 * a process was started with, a guest name is part of it, and a unit name
 * part of a cgroup path that a delegated user may create. Escaped in text,
 * valid JSON.
 */
START_TEST(ps_hostile_identity)
{
	static const char cmdline[] = "/usr/bin/qemu\x1b[2J\0-name\0guest=ev\x1b]0;x\x07il\xff,debug-threads=on\0"
				      "\x7f\xc2\x9b\\z\0";
	struct result r;
	char line[512];
	char path[4096];
	int fd;

	use_tree("6.18");
	/* With its NUL separators: tu_write() takes a string. */
	snprintf(path, sizeof(path), "%s/proc/2001/cmdline", root);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, cmdline, sizeof(cmdline) - 1), (ssize_t)sizeof(cmdline) - 1);
	close(fd);
	tu_write(root, "proc/2001/cgroup", "0::/machine.slice/ev\x1b[1mil\xfe.scope/libvirt/emulator\n");
	r = ksmctl(sysroot_opt, "ps");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_printable(r.out);
	line_of(r.out, 2001, line, sizeof(line));
	ck_assert_msg(strstr(line, " ev\\x1b[1mil\\xfe.scope ") != NULL, "no escaped unit in: %s", line);
	ck_assert_msg(strstr(line, " ev\\x1b]0;x\\x07il\\xff ") != NULL, "no escaped guest in: %s", line);
	ck_assert_msg(strstr(line, " /usr/bin/qemu\\x1b[2J -name guest=ev\\x1b]0;x\\x07il\\xff,debug-threads=on "
				   "\\x7f\\xc2\\x9b\\\\z") != NULL,
		      "no escaped command line in: %s", line);
	result_free(&r);

	r = ksmctl(sysroot_opt, "ps", "--json", "2001");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	/* Control characters as \u00XX, invalid bytes as U+FFFD, C1 controls (valid UTF-8) kept as such. */
	assert_json(r.out, "[(p['unit'], p['guest'], p['cgroup']) for p in d] == "
		    "[('ev\\x1b[1mil\\ufffd.scope', 'ev\\x1b]0;x\\x07il\\ufffd', "
		    "'/machine.slice/ev\\x1b[1mil\\ufffd.scope/libvirt/emulator')]", "True");
	assert_json(r.out, "d[0]['cmdline'] == '/usr/bin/qemu\\x1b[2J -name guest=ev\\x1b]0;x\\x07il\\ufffd,"
		    "debug-threads=on \\x7f\\x9b\\\\z'", "True");
	for (const unsigned char *p = (const unsigned char *)r.out; *p; p++)
		ck_assert_msg(*p == '\n' || *p >= 0x20, "raw control byte %#x in JSON:\n%s", *p, r.out);
	result_free(&r);
}
END_TEST

/*
 * The same for a live process this test starts: its command line holds
 * escape sequences, BEL, DEL, a C1 control and invalid bytes (what anyone
 * may exec), and it is registered for merging per process (prctl, kept
 * across exec), so ps lists it.
 */
START_TEST(ps_live_hostile_cmdline)
{
	static char *const argv[] = { "\x1b]0;owned\x07sh", "-c", "read x", "\x1b[2J\xff\xfe", "\x7f\xc2\x9b\\q",
				      NULL };
	struct live l;
	struct result r;

	if (!live_start(&l, NULL, argv))
		return;
	/* Until the exec has happened: the command line is the new one. */
	for (int i = 0; i < 500; i++) {
		char path[64], buf[16] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)l.pid);
		f = fopen(path, "r");
		if (f) {
			size_t n = fread(buf, 1, 4, f);

			fclose(f);
			if (n == 4 && memcmp(buf, "\x1b]0;", 4) == 0)
				break;
		}
		usleep(10000);
	}

	r = ksmctl("ps", l.pidtext);
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_printable(r.out);
	ck_assert_msg(strstr(r.out, " \\x1b]0;owned\\x07sh -c read x \\x1b[2J\\xff\\xfe \\x7f\\xc2\\x9b\\\\q\n"),
		      "%s", r.out);
	result_free(&r);

	assert_live_json(&l, "cmdline", "\\x1b]0;owned\\x07sh -c read x \\x1b[2J\\ufffd\\ufffd \\x7f\\x9b\\\\q");

	live_stop(&l);
}
END_TEST

/* Fields the kernel does not print are absent, not 0 or null. */
START_TEST(ps_json_old_kernels)
{
	static const struct {
		const char *tree, *keys, *values;
	} gens[] = {
		{ "5.19", "['comm', 'ksm_merging_pages', 'page_size', 'pid']",
		  "[(1234, 'qemu-kvm', 2048), (1300, 'qemu-system-aar', 512)]" },
		/* ksm_stat has rmap only; ksm_merging_pages comes from its own file. */
		{ "6.1", "['comm', 'ksm_merging_pages', 'ksm_rmap_items', 'page_size', 'pid']",
		  "[(812, 'qemu-kvm', 4096, 3000), (4242, 'qemu-system-aar', 128, 64)]" },
		{ "6.8", "['comm', 'ksm_merging_pages', 'ksm_process_profit', 'ksm_rmap_items', 'ksm_zero_pages', "
			 "'page_size', 'pid']",
		  "[(1500, 'qemu-system-x86', 3417600), (1600, 'java', -19200)]" },
		/* Unknown lines of a newer kernel do not become keys. */
		{ "future", "['comm', 'ksm_merge_any', 'ksm_mergeable', 'ksm_merging_pages', 'ksm_process_profit', "
			    "'ksm_rmap_items', 'ksm_zero_pages', 'page_size', 'pid']",
		  "[(3100, 'redis-server', 472320)]" },
	};
	struct result r;

	for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
		use_tree(gens[i].tree);
		r = ksmctl(sysroot_opt, "ps", "--json");
		ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
		assert_json(r.out, "sorted(set(k for p in d for k in p))", gens[i].keys);
		assert_json(r.out, "all(sorted(p) == sorted(d[0]) for p in d)", "True");
		if (strcmp(gens[i].tree, "5.19") == 0)
			assert_json(r.out, "[(p['pid'], p['comm'], p['ksm_merging_pages']) for p in d]",
				    gens[i].values);
		else if (strcmp(gens[i].tree, "6.1") == 0)
			assert_json(r.out,
				    "[(p['pid'], p['comm'], p['ksm_rmap_items'], p['ksm_merging_pages']) for p in d]",
				    gens[i].values);
		else
			assert_json(r.out, "[(p['pid'], p['comm'], p['ksm_process_profit']) for p in d]",
				    gens[i].values);
		result_free(&r);
		teardown();
	}

	/* Nothing active: an empty array, and a header alone. */
	use_tree("6.18-merged");
	r = ksmctl(sysroot_opt, "ps", "--json");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "[]\n");
	result_free(&r);
	r = ksmctl(sysroot_opt, "ps");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, HEADER);
	result_free(&r);
}
END_TEST

START_TEST(ps_pids)
{
	char line[256];
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "ps", "2003");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	assert_pids(r.out, "2003");
	ck_assert_ptr_nonnull(strstr(line_of(r.out, 2003, line, sizeof(line)), " java "));
	result_free(&r);

	/* A named process is shown even without KSM activity. */
	r = ksmctl(sysroot_opt, "ps", "640", "2001");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_pids(r.out, "2001 640");
	ck_assert_str_eq(head((char *)line_of(r.out, 640, line, sizeof(line))),
			 "    640 systemd-journal        0 B        0 B          0        0 B no        no");
	result_free(&r);

	r = ksmctl(sysroot_opt, "ps", "--json", "2004");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	assert_json(r.out, "[(p['pid'], p['comm'], p['ksm_zero_pages']) for p in d]",
		    "[(2004, 'qemu-system-aar', 1200)]");
	result_free(&r);

	r = ksmctl(sysroot_opt, "ps", "99999");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot read the KSM figures of process 99999: there is no such process"));
	result_free(&r);

	/* The others are still shown. */
	r = ksmctl(sysroot_opt, "ps", "2001", "99999");
	ck_assert_int_eq(r.status, 1);
	assert_pids(r.out, "2001");
	ck_assert_ptr_nonnull(strstr(r.err, "process 99999: there is no such process"));
	result_free(&r);

	r = ksmctl(sysroot_opt, "ps", "abc");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "'abc' is not a process ID"));
	result_free(&r);
	r = ksmctl(sysroot_opt, "ps", "0");
	ck_assert_int_eq(r.status, 2);
	result_free(&r);
}
END_TEST

START_TEST(ps_usage)
{
	struct result r;

	use_tree("6.18");
	r = ksmctl(sysroot_opt, "ps", "--sort", "bogus");
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "--sort takes profit, merging, zero or rmap, not 'bogus'"));
	ck_assert_ptr_nonnull(strstr(r.err, "Try 'ksmctl help ps'"));
	result_free(&r);

	r = ksmctl(sysroot_opt, "ps", "--bogus");
	ck_assert_int_eq(r.status, 2);
	result_free(&r);

	r = ksmctl(sysroot_opt, "ps", "--help");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "Usage: ksmctl ps "));
	result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* wait and merge-now                                                        */

/*
 * Give the copy a process with memory registered for merging (in the 6.14+
 * ksm_stat format of the 6.18 trees), so that ksmd has something to scan.
 */
static void add_registered_process(void)
{
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/proc/4100", root);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	tu_write(root, "proc/4100/comm", "qemu-kvm\n");
	tu_write(root, "proc/4100/ksm_merging_pages", "0\n");
	tu_write(root, "proc/4100/ksm_stat", "ksm_rmap_items 0\nksm_zero_pages 0\nksm_merging_pages 0\n"
					     "ksm_process_profit 0\nksm_merge_any: no\nksm_mergeable: yes\n");
}

/* Every knob file of the copy, concatenated with names, for before/after comparisons. */
static char *knob_files(void)
{
	size_t cap = 8192, n = 0;
	char *all = malloc(cap);

	ck_assert_ptr_nonnull(all);
	all[0] = '\0';
	for (int i = 0; i < ksm_knob_count(); i++) {
		char rel[256], path[4500], *text;

		snprintf(rel, sizeof(rel), "sys/kernel/mm/ksm/%s", ksm_knob_info(i)->name);
		snprintf(path, sizeof(path), "%s/%s", root, rel);
		if (access(path, F_OK) != 0)
			continue;
		text = tu_read(root, rel);
		n += (size_t)snprintf(all + n, cap - n, "%s=%s", ksm_knob_info(i)->name, text);
		ck_assert_uint_lt(n, cap);
		free(text);
	}
	return all;
}

START_TEST(wait_timeout)
{
	struct result r;
	int64_t t0, elapsed;

	use_tree("6.18-merged"); /* run 1, full_scans stays 7 */
	add_registered_process();
	t0 = tu_now_ms();
	r = ksmctl(sysroot_opt, "wait", "--timeout", "0.2");
	elapsed = tu_now_ms() - t0;
	ck_assert_int_eq(r.status, 3);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "timed out"));
	ck_assert_ptr_nonnull(strstr(r.err, "0 of 1 full scan completed"));
	ck_assert_msg(elapsed >= 150 && elapsed < 2000, "exited after %lld ms", (long long)elapsed);
	result_free(&r);

	r = ksmctl(sysroot_opt, "wait", "-n", "3", "-t", "0.1");
	ck_assert_int_eq(r.status, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "0 of 3 full scans completed"));
	result_free(&r);
}
END_TEST

START_TEST(wait_not_running)
{
	struct result r;

	use_tree("6.18"); /* run 0 */
	r = ksmctl(sysroot_opt, "wait", "--timeout", "0.2");
	ck_assert_int_eq(r.status, 4);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "ksmd is not running"));
	result_free(&r);

	tu_write(root, "sys/kernel/mm/ksm/run", "2\n");
	r = ksmctl(sysroot_opt, "wait");
	ck_assert_int_eq(r.status, 4);
	result_free(&r);
	teardown();

	use_tree("noksm");
	r = ksmctl(sysroot_opt, "wait", "--timeout", "0.2");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "KSM is not available"));
	result_free(&r);
}
END_TEST

/* Make the active processes of a 6.18 copy idle: nothing is registered any more. */
static void unregister_all(void)
{
	static const int active[] = { 2001, 2002, 2003, 2004 };
	char rel[64];

	for (size_t i = 0; i < sizeof(active) / sizeof(active[0]); i++) {
		snprintf(rel, sizeof(rel), "proc/%d/ksm_stat", active[i]);
		tu_write(root, rel, "ksm_rmap_items 0\nksm_zero_pages 0\nksm_merging_pages 0\n"
				    "ksm_process_profit 0\nksm_merge_any: no\nksm_mergeable: no\n");
	}
}

/*
 * ksmctl @cmd [--timeout @timeout] on the copy with nothing registered:
 * exit 5 at once, nothing on stdout, the reason on stderr.
 */
static void assert_nothing_registered(const char *cmd, const char *timeout)
{
	struct result r;
	int64_t t0, elapsed;

	t0 = tu_now_ms();
	if (timeout)
		r = ksmctl(sysroot_opt, cmd, "--timeout", timeout);
	else
		r = ksmctl(sysroot_opt, cmd);
	elapsed = tu_now_ms() - t0;
	ck_assert_msg(r.status == 5, "--timeout %s: status %d, stderr: %s", timeout, r.status, r.err);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "no process has memory registered for merging"));
	/* Not after a second of idle polling, nor after the timeout. */
	ck_assert_msg(elapsed < 900, "--timeout %s: exited after %lld ms", timeout, (long long)elapsed);
	result_free(&r);
}

/* Nothing registered: ksmd would never complete a scan. Said at once, timeout or not. */
START_TEST(wait_nothing_registered)
{
	static const char *const timeouts[] = { NULL, "5000", "0.5" };
	struct result r;

	use_tree("6.18");
	tu_write(root, "sys/kernel/mm/ksm/run", "1\n");
	unregister_all();
	for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++)
		assert_nothing_registered("wait", timeouts[i]);
	teardown();

	/* A tree whose only process is the caller, which has nothing registered. */
	use_tree("6.18-merged");
	r = ksmctl(sysroot_opt, "wait", "-n", "2", "--timeout", "5000");
	ck_assert_int_eq(r.status, 5);
	result_free(&r);
}
END_TEST

/* merge-now with nothing registered: exit 5 at once, and the knobs are as before. */
START_TEST(merge_now_nothing_registered)
{
	static const char *const timeouts[] = { "5000", NULL };
	char run[4200], *before, *after;

	use_tree("6.18");
	unregister_all();
	snprintf(run, sizeof(run), "%s/run", root); /* where the boost keeps its record */
	ck_assert_int_eq(mkdir(run, 0755), 0);
	before = knob_files();
	for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++) {
		assert_nothing_registered("merge-now", timeouts[i]);
		after = knob_files();
		ck_assert_str_eq(after, before);
		free(after);
	}
	free(before);
}
END_TEST

/*
 * merge-now and its signals, wherever they arrive: during the wait for the
 * record's lock (held here through another open file) and during the wait
 * for scans (nothing plays ksmd in the tree, so no scan ever completes).
 * ksmctl must end the boost and die by the signal within a second, the
 * knobs as before.
 */
START_TEST(merge_now_signals)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	char path[4200], *before, *after;
	const char *bin = getenv("KSMCTL");

	ck_assert_ptr_nonnull(bin);
	use_tree("6.18"); /* pid 2001 has memory registered */
	snprintf(path, sizeof(path), "%s/run", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/run/libksm", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	before = knob_files();
	for (int phase = 0; phase < 2; phase++) {
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
			int lockfd = -1, status = 0, devnull;
			int64_t t0, elapsed;
			pid_t pid, w = 0;

			if (phase == 0) {
				snprintf(path, sizeof(path), "%s/run/libksm/boost.lock", root);
				lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
				ck_assert_int_ge(lockfd, 0);
				ck_assert_int_eq(flock(lockfd, LOCK_EX), 0);
			}
			fflush(NULL);
			pid = fork();
			ck_assert_int_ge(pid, 0);
			if (pid == 0) {
				devnull = open("/dev/null", O_WRONLY);
				dup2(devnull, 1);
				dup2(devnull, 2);
				unsetenv("KSM_SYSROOT");
				execl(bin, bin, sysroot_opt, "merge-now", (char *)NULL);
				_exit(127);
			}
			if (phase == 0) {
				usleep(300 * 1000); /* well inside the 10 s lock wait */
			} else {
				/* until the boost holds: the record exists */
				snprintf(path, sizeof(path), "%s/run/libksm/boost", root);
				for (int n = 0; n < 400 && access(path, F_OK) < 0; n++)
					usleep(5000);
				ck_assert_msg(access(path, F_OK) == 0, "no boost record 2 s after merge-now started");
				usleep(100 * 1000);
			}
			ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0, "merge-now ended early: status %#x", status);
			ck_assert_int_eq(kill(pid, sigs[i]), 0);
			t0 = tu_now_ms();
			while ((w = waitpid(pid, &status, WNOHANG)) == 0 && tu_now_ms() - t0 < 3000)
				usleep(1000);
			elapsed = tu_now_ms() - t0;
			if (w == 0) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
			}
			if (lockfd >= 0)
				close(lockfd);
			ck_assert_msg(w == pid, "%s during the %s: ksmctl still runs after 3 s", strsignal(sigs[i]),
				      phase == 0 ? "lock wait" : "wait for scans");
			ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == sigs[i],
				      "%s during the %s: status %#x", strsignal(sigs[i]),
				      phase == 0 ? "lock wait" : "wait for scans", status);
			ck_assert_msg(elapsed < 1000, "ksmctl took %lld ms to end", (long long)elapsed);
			after = knob_files();
			ck_assert_str_eq(after, before);
			free(after);
			snprintf(path, sizeof(path), "%s/run/libksm/boost", root);
			ck_assert_msg(access(path, F_OK) < 0, "the boost record is left behind");
		}
	}
	free(before);
}
END_TEST

/* A scan completes while ksmctl waits. */
START_TEST(wait_done)
{
	struct result r;
	pid_t pid;
	int status;

	use_tree("6.18-merged");
	add_registered_process();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* full_scans 7 -> 8, written in place (no empty file to read). */
		char path[4200];
		int fd;

		usleep(300 * 1000);
		snprintf(path, sizeof(path), "%s/sys/kernel/mm/ksm/full_scans", root);
		chmod(path, 0644);
		fd = open(path, O_WRONLY);
		_exit(fd >= 0 && pwrite(fd, "8\n", 2, 0) == 2 ? 0 : 1);
	}
	r = ksmctl(sysroot_opt, "wait", "--timeout", "10");
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	result_free(&r);
}
END_TEST

START_TEST(wait_usage)
{
	static const char *const bad[][2] = {
		{ "--scans", "x" }, { "--scans", "0" }, { "--scans", "-1" }, { "--scans", "1x" },
		{ "--timeout", "soon" }, { "--timeout", "-1" },
	};
	struct result r;

	use_tree("6.18-merged");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = ksmctl(sysroot_opt, "wait", bad[i][0], bad[i][1]);
		ck_assert_msg(r.status == 2, "wait %s %s: status %d", bad[i][0], bad[i][1], r.status);
		ck_assert_ptr_nonnull(strstr(r.err, bad[i][0]));
		ck_assert_ptr_nonnull(strstr(r.err, "Try 'ksmctl help wait'"));
		result_free(&r);
	}
	r = ksmctl(sysroot_opt, "wait", "extra");
	ck_assert_int_eq(r.status, 2);
	result_free(&r);

	r = ksmctl(sysroot_opt, "wait", "--help");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "Usage: ksmctl wait "));
	ck_assert_ptr_nonnull(strstr(r.out, "3 timed out"));
	ck_assert_ptr_nonnull(strstr(r.out, "5 nothing registered"));
	result_free(&r);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = ksmctl(sysroot_opt, "merge-now", bad[i][0], bad[i][1]);
		ck_assert_msg(r.status == 2, "merge-now %s %s: status %d", bad[i][0], bad[i][1], r.status);
		result_free(&r);
	}
	r = ksmctl(sysroot_opt, "merge-now", "--help");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "Usage: ksmctl merge-now "));
	ck_assert_ptr_nonnull(strstr(r.out, "5 nothing"));
	result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* exec: the running kernel                                                  */

START_TEST(exec_usage)
{
	struct result r;

	r = ksmctl("exec");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "'exec' needs a command to run"));
	result_free(&r);

	r = ksmctl("exec", "--");
	ck_assert_int_eq(r.status, 2);
	result_free(&r);

	r = ksmctl("exec", "--help");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "Usage: ksmctl exec "));
	result_free(&r);
}
END_TEST

/* Process-wide merging works here, or exec says why not. */
static bool have_prctl(void)
{
	int r = ksm_get_process_merge();

	ck_assert_msg(r >= 0 || r == -EOPNOTSUPP, "ksm_get_process_merge: %d", r);
	return r >= 0;
}

START_TEST(exec_status)
{
	struct result r;

	r = ksmctl("exec", "--", "sh", "-c", "exit 7");
	if (!have_prctl()) {
		ck_assert_int_eq(r.status, 1);
		ck_assert_ptr_nonnull(strstr(r.err, "this kernel has no process-wide KSM"));
		result_free(&r);
		return;
	}
	ck_assert_int_eq(r.status, 7);
	ck_assert_str_eq(r.err, "");
	result_free(&r);

	/* Without "--" too; arguments reach the command unchanged. */
	r = ksmctl("exec", "sh", "-c", "echo \"$0:$1\"; exit 0", "a b", "-x");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "a b:-x\n");
	result_free(&r);
}
END_TEST

/* The setting survives execve() and fork(): the command and its children have it. */
#define GET_MERGE "import ctypes; print(ctypes.CDLL(None).prctl(68, 0, 0, 0, 0))" /* PR_GET_MEMORY_MERGE */

START_TEST(exec_inherited)
{
	struct result r;
	char *own;

	if (!have_prctl())
		return; /* exec_status checks the message */
	/* Started with it already (MemoryKSM=yes, say): nothing to tell apart. */
	if (ksm_get_process_merge() != 0)
		return;

	r = ksmctl("exec", "--", "python3", "-c", GET_MERGE);
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "1\n");
	result_free(&r);

	r = ksmctl("exec", "--", "sh", "-c", "python3 -c '" GET_MERGE "'");
	ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "1\n");
	result_free(&r);

	/* Kernels since 6.14 show it in ksm_stat as well. */
	own = tu_read("/", "proc/self/ksm_stat");
	if (strstr(own, "ksm_merge_any: no\n")) {
		r = ksmctl("exec", "--", "cat", "/proc/self/ksm_stat");
		ck_assert_msg(r.status == 0, "exit status %d, stderr: %s", r.status, r.err);
		ck_assert_ptr_nonnull(strstr(r.out, "ksm_merge_any: yes\n"));
		result_free(&r);
	}
	free(own);
}
END_TEST

START_TEST(exec_cannot_run)
{
	char path[4200];
	struct result r;

	if (!have_prctl())
		return; /* exec fails before it tries; exec_status checks that */
	r = ksmctl("exec", "/nonexistent/libksm-command");
	ck_assert_int_eq(r.status, 127);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot run '/nonexistent/libksm-command'"));
	result_free(&r);

	r = ksmctl("exec", "--", "libksm-no-such-command-anywhere");
	ck_assert_int_eq(r.status, 127);
	result_free(&r);

	/* Found but not executable. */
	use_tree("6.18");
	snprintf(path, sizeof(path), "%s/sys/kernel/mm/ksm/run", root);
	r = ksmctl("exec", "--", path);
	ck_assert_int_eq(r.status, 126);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot run"));
	ck_assert_ptr_nonnull(strstr(r.err, "Permission denied"));
	result_free(&r);
}
END_TEST

static Suite *cli_proc_suite(void)
{
	Suite *s = suite_create("cli-proc");
	TCase *ps = tcase_create("ps");
	TCase *wait = tcase_create("wait");
	TCase *exec = tcase_create("exec");

	tcase_add_checked_fixture(ps, NULL, teardown);
	tcase_add_test(ps, ps_human);
	tcase_add_test(ps, ps_merge_by_none);
	tcase_add_test(ps, ps_sort);
	tcase_add_test(ps, ps_old_kernels);
	tcase_add_test(ps, ps_json);
	tcase_add_test(ps, ps_json_old_kernels);
	tcase_add_test(ps, ps_pids);
	tcase_add_test(ps, ps_usage);
	tcase_add_test(ps, ps_hostile_comm);
	tcase_add_test(ps, ps_huge_values);
	tcase_add_test(ps, ps_live_hostile_comm);
	tcase_add_test(ps, ps_hostile_identity);
	tcase_add_test(ps, ps_live_hostile_cmdline);
	suite_add_tcase(s, ps);

	tcase_add_checked_fixture(wait, NULL, teardown);
	tcase_add_test(wait, wait_timeout);
	tcase_add_test(wait, wait_not_running);
	tcase_add_test(wait, wait_nothing_registered);
	tcase_add_test(wait, merge_now_nothing_registered);
	tcase_add_test(wait, merge_now_signals);
	tcase_add_test(wait, wait_done);
	tcase_add_test(wait, wait_usage);
	suite_add_tcase(s, wait);

	tcase_add_checked_fixture(exec, NULL, teardown);
	tcase_add_test(exec, exec_usage);
	tcase_add_test(exec, exec_status);
	tcase_add_test(exec, exec_inherited);
	tcase_add_test(exec, exec_cannot_run);
	suite_add_tcase(s, exec);
	return s;
}

int main(void)
{
	return tu_run_suite(cli_proc_suite());
}

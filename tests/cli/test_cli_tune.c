// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * 'ksmctl tune' as systemd runs it, on a fake system root: the test is the
 * service manager (it listens on a datagram socket named by $NOTIFY_SOCKET)
 * and checks READY=1, STATUS=, WATCHDOG=1, RELOADING=1 and STOPPING=1; the
 * reaction to a new process that registers memory, SIGUSR1, SIGHUP, and
 * that SIGTERM restores the knobs. Also --once and --dry-run.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "testutil.h"

static void pressure_tree(void)
{
	use_tree("6.18");
	tu_write(root, "proc/meminfo",
		 "MemTotal:       16777216 kB\nMemFree:          500000 kB\n"
		 "MemAvailable:    1000000 kB\nBuffers:           10000 kB\nCached:           200000 kB\n");
	tu_write(root, "proc/loadavg", "0.00 0.00 0.00 1/100 3000\n");
}

static char *knob(const char *name)
{
	char rel[128];
	char *v;

	snprintf(rel, sizeof(rel), "sys/kernel/mm/ksm/%s", name);
	v = tu_read(root, rel);
	v[strcspn(v, "\n")] = '\0';
	return v;
}

#define assert_knob(name, want)                                                        \
	do {                                                                           \
		char *_v = knob(name);                                                 \
		ck_assert_msg(strcmp(_v, want) == 0, "%s: '%s', want '%s'", name, _v, want); \
		free(_v);                                                              \
	} while (0)

/* Wait up to @ms for knob @name to read @want; the milliseconds it took, or -1. */
static int64_t wait_knob(const char *name, const char *want, int ms)
{
	int64_t start = tu_now_ms();

	for (;;) {
		char *v = knob(name);
		bool ok = strcmp(v, want) == 0;

		free(v);
		if (ok)
			return tu_now_ms() - start;
		if (tu_now_ms() - start > ms)
			return -1;
		usleep(10000);
	}
}

/* The next datagram that starts with @prefix within @ms; its text or NULL. */
static char *expect(int fd, const char *prefix, int ms)
{
	static char buf[1024];
	int64_t end = tu_now_ms() + ms;

	while (tu_now_ms() < end) {
		struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };
		ssize_t n;

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			continue;
		buf[n] = '\0';
		if (strncmp(buf, prefix, strlen(prefix)) == 0)
			return buf;
	}
	return NULL;
}

START_TEST(as_a_service)
{
	char sock[256], conf[256], env_sock[300], *ksmctl = getenv("KSMCTL"), *msg;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, status;
	int64_t took;
	pid_t pid;

	pressure_tree();
	snprintf(sock, sizeof(sock), "%s/notify", root);
	snprintf(conf, sizeof(conf), "%s/tune.conf", root);
	/* Only events decide: the interval is an hour. ksmd scans at full
	 * speed for a new process for a second at most (full_scans does not
	 * move here). */
	tu_write(root, "tune.conf", "[tune]\ninterval = 3600\ncatchup = 1\n");
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_lt(strlen(sock), sizeof(addr.sun_path));
	memcpy(addr.sun_path, sock, strlen(sock) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	snprintf(env_sock, sizeof(env_sock), "NOTIFY_SOCKET=%s", sock);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		putenv(env_sock);
		putenv("WATCHDOG_USEC=400000");
		unsetenv("WATCHDOG_PID");
		execl(ksmctl, ksmctl, sysroot_opt, "tune", "--config", conf, (char *)NULL);
		_exit(127);
	}

	msg = expect(fd, "STATUS=", 5000);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, "STATUS=saving ") && strstr(msg, "below threshold"), "%s", msg);
	ck_assert_ptr_nonnull(expect(fd, "READY=1", 2000));
	assert_knob("run", "1");
	assert_knob("pages_to_scan", "300");
	assert_knob("sleep_millisecs", "10");
	/* WATCHDOG_USEC 400 ms: a ping every 200 ms */
	ck_assert_ptr_nonnull(expect(fd, "WATCHDOG=1", 1000));
	ck_assert_ptr_nonnull(expect(fd, "WATCHDOG=1", 1000));

	/* A new process that registered memory: a decision within a second,
	 * which scans at full speed until the catchup time is up, then at
	 * npages_max. */
	ck_assert_int_eq(mkdir(strcat(strcpy((char[4200]){ 0 }, root), "/proc/3001"), 0755), 0);
	tu_write(root, "proc/3001/ksm_stat", "ksm_rmap_items 0\nksm_merge_any: no\nksm_mergeable: yes\n");
	tu_write(root, "proc/3001/statm", "1000 1000 0 0 0 0 0\n");
	tu_write(root, "proc/loadavg", "0.00 0.00 0.00 1/101 3001\n");
	took = wait_knob("pages_to_scan", "20000", 3000);
	ck_assert_msg(took >= 0 && took <= 1000, "reacted after %lld ms", (long long)took);
	assert_knob("sleep_millisecs", "0");
	msg = expect(fd, "STATUS=", 1000);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, "a new process registered memory: scan at full speed until it is "
				  "scanned (at most 1s)"), "%s", msg);
	msg = expect(fd, "STATUS=", 2500);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, "the full-speed scan ran out of time (catchup): scan at npages_max"),
		      "%s", msg);
	assert_knob("pages_to_scan", "1250");
	assert_knob("sleep_millisecs", "10");

	/* A new process that did not register: no decision. */
	ck_assert_int_eq(mkdir(strcat(strcpy((char[4200]){ 0 }, root), "/proc/3002"), 0755), 0);
	tu_write(root, "proc/3002/ksm_stat", "ksm_rmap_items 0\nksm_merge_any: no\nksm_mergeable: no\n");
	tu_write(root, "proc/loadavg", "0.00 0.00 0.00 1/102 3002\n");
	ck_assert_ptr_null(expect(fd, "STATUS=", 1500));
	/* ... until it registers, while it is watched (looked at 1, 3 and 9 s old) */
	tu_write(root, "proc/3002/ksm_stat", "ksm_rmap_items 0\nksm_merge_any: yes\nksm_mergeable: no\n");
	msg = expect(fd, "STATUS=", 4500);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, "a new process registered memory"), "%s", msg);
	msg = expect(fd, "STATUS=", 2500);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, "ran out of time"), "%s", msg);

	/* SIGUSR1: re-tune now, as ksmtuned (a boost from npages_max stays there) */
	tu_write(root, "sys/kernel/mm/ksm/pages_to_scan", "7\n");
	kill(pid, SIGUSR1);
	ck_assert_int_ge(wait_knob("pages_to_scan", "1250", 1000), 0);

	/* SIGHUP: reload (npages_max now 1000) and decide */
	tu_write(root, "tune.conf", "[tune]\ninterval = 3600\nnpages_max = 1000\n");
	kill(pid, SIGHUP);
	ck_assert_ptr_nonnull(expect(fd, "RELOADING=1", 2000));
	ck_assert_ptr_nonnull(expect(fd, "READY=1", 2000));
	assert_knob("pages_to_scan", "1000");

	/* The administrator disables KSM: the tuner leaves it disabled. */
	tu_write(root, "sys/kernel/mm/ksm/run", "2\n");
	kill(pid, SIGUSR1);
	msg = expect(fd, "STATUS=", 2000);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, "run=2"), "%s", msg);
	assert_knob("run", "2");
	tu_write(root, "sys/kernel/mm/ksm/run", "1\n");

	/* SIGTERM: stop, restore what it changed */
	kill(pid, SIGTERM);
	ck_assert_ptr_nonnull(expect(fd, "STOPPING=1", 2000));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	assert_knob("run", "0");
	assert_knob("pages_to_scan", "100");
	assert_knob("sleep_millisecs", "20");
	close(fd);
}
END_TEST

START_TEST(once_and_dry_run)
{
	struct result r;

	pressure_tree();
	r = ksmctl(sysroot_opt, "tune", "--once", "--dry-run");
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "decision: run=1 pages_to_scan=300 sleep_millisecs=10\n"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "reason: available 976.6 MiB below threshold 3.2 GiB: boost\n"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "memory: total 16.0 GiB, available 976.6 MiB, free+buffers+cached 693.4 MiB, threshold 3.2 GiB\n"),
		      "%s", r.out);
	result_free(&r);
	assert_knob("run", "0");

	r = ksmctl(sysroot_opt, "tune", "--once");
	ck_assert_int_eq(r.status, 0);
	result_free(&r);
	assert_knob("run", "1");
	assert_knob("pages_to_scan", "300");

	/* a broken setting: the message names file and line, exit 1 */
	tu_write(root, "bad.conf", "KSM_NPAGES_MIN=x\n");
	{
		char path[4200];
		snprintf(path, sizeof(path), "%s/bad.conf", root);
		r = ksmctl(sysroot_opt, "tune", "--once", "--config", path);
		ck_assert_int_eq(r.status, 1);
		ck_assert_msg(strstr(r.err, "bad.conf:1: KSM_NPAGES_MIN: 'x' is not a valid value"), "%s", r.err);
		result_free(&r);
	}
	r = ksmctl("tune", "extra");
	ck_assert_int_eq(r.status, 2);
	result_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli-tune");
	TCase *tc = tcase_create("tune");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, as_a_service);
	tcase_add_test(tc, once_and_dry_run);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(suite());
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Save and restore the KSM tunables of the running kernel; see guard.h.
 *
 * Everything here is plain open/read/write/close on /sys/kernel/mm/ksm and
 * independent of libksm. The restore sequence is prebuilt into a list of
 * (path, text) steps at save time, so that the signal handler only has to
 * open/write/close prebuilt buffers.
 *
 * The order of the steps is what the kernel needs (mm/ksm.c):
 *  1. merge_across_nodes, max_page_sharing: a change fails with EBUSY while
 *     KSM pages exist, so run=2 (unmerge everything) is written first when
 *     they differ, and again if a write fails.
 *  2. advisor_mode before pages_to_scan: switching the mode resets
 *     pages_to_scan (to 100 for none, to advisor_min_pages_to_scan for
 *     scan-time), and pages_to_scan cannot be written while the mode is
 *     scan-time. A snapshot taken in scan-time mode is restored by going
 *     through none, setting advisor_min_pages_to_scan to the saved
 *     pages_to_scan, switching to scan-time (which copies it) and then
 *     writing the saved advisor_min_pages_to_scan.
 *  3. every other writable file.
 *  4. run, last. If nothing was merged when the snapshot was taken (and
 *     ksmd was stopped), run=2 comes first: KSM pages and rmap items left
 *     by a test (e.g. of a killed test child, whose stale stable nodes stay
 *     counted until ksmd runs again) are ours, and run=2 drops them.
 */
#include <dirent.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ksm.h"
#include "guard.h"

#define MAX_FILES 64
#define NAME_LEN 64
#define PATH_LEN (sizeof(GUARD_KSM_DIR) + NAME_LEN + 1)
#define TEXT_LEN 128

struct saved {
	char name[NAME_LEN];
	char path[PATH_LEN];
	char text[TEXT_LEN];  /* raw text as read, usually with "\n" */
};

struct step {
	char path[PATH_LEN];
	char text[TEXT_LEN];  /* what to write, with "\n" */
	size_t len;
	bool retry_unmerge;   /* on failure write run=2 and try once more */
};

static struct saved saved[MAX_FILES];
static int nsaved;
static struct step steps[MAX_FILES + 8];
static int nsteps;
static char run_path[PATH_LEN];
static bool have_run;
/* pages_to_scan is the advisor's while scan-time and ksmd runs: don't verify it */
static bool skip_pages_to_scan;
/* ksmd stopped and nothing merged at save time: the counters below must be 0 again */
static bool clean_at_save;
static const char *const merge_counters[] = {
	"pages_shared", "pages_sharing", "pages_unshared", "pages_volatile",
	"ksm_zero_pages", "stable_node_chains", "stable_node_dups",
};
#define NCOUNTERS (sizeof(merge_counters) / sizeof(merge_counters[0]))

static pid_t owner_pid;
static volatile pid_t *child_slot; /* MAP_SHARED: pid of the current test child */

/* ------------------------------------------------------------------------ */
/* raw I/O, async-signal-safe                                               */

static int write_path(const char *path, const char *text, size_t len)
{
	ssize_t n;
	int fd, r;

	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	r = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	close(fd);
	return r;
}

static int read_path(const char *path, char *buf, size_t size)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	while (off + 1 < size) {
		n = read(fd, buf + off, size - 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	close(fd);
	return (int)off;
}

static void make_path(char *dst, const char *name)
{
	snprintf(dst, PATH_LEN, "%s/%s", GUARD_KSM_DIR, name);
}

int guard_raw_read(const char *name, char *buf, size_t size)
{
	char path[PATH_LEN];

	if (strlen(name) >= NAME_LEN)
		return -ENAMETOOLONG;
	make_path(path, name);
	return read_path(path, buf, size);
}

int guard_raw_write(const char *name, const char *text)
{
	char path[PATH_LEN], buf[TEXT_LEN];
	int n;

	if (strlen(name) >= NAME_LEN)
		return -ENAMETOOLONG;
	make_path(path, name);
	n = snprintf(buf, sizeof(buf), "%s\n", text);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	return write_path(path, buf, (size_t)n);
}

/* ------------------------------------------------------------------------ */

int guard_usable(char *why, size_t size)
{
	struct stat st;

	if (geteuid() != 0) {
		snprintf(why, size, "not root");
		return -1;
	}
	if (stat(GUARD_KSM_DIR, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(why, size, "no %s (kernel without KSM or sysfs)", GUARD_KSM_DIR);
		return -1;
	}
	if (faccessat(AT_FDCWD, GUARD_KSM_DIR "/run", W_OK, AT_EACCESS) < 0) {
		snprintf(why, size, "%s/run is not writable: %s", GUARD_KSM_DIR, strerror(errno));
		return -1;
	}
	return 0;
}

int guard_lock(int timeout_s)
{
	int fd = open(GUARD_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);

	if (fd < 0)
		return -errno;
	for (int waited_ms = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited_ms += 100) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int r = -errno;
			close(fd);
			return r;
		}
		if (waited_ms >= timeout_s * 1000) {
			close(fd);
			return -ETIMEDOUT;
		}
		usleep(100000);
	}
	return 0; /* fd stays open: the lock lives as long as the process */
}

static struct saved *find_saved(const char *name)
{
	for (int i = 0; i < nsaved; i++)
		if (strcmp(saved[i].name, name) == 0)
			return &saved[i];
	return NULL;
}

/* "[none] scan-time\n" -> "none"; a plain "123\n" -> "123". */
static void value_of(const struct saved *s, char *out, size_t size)
{
	const char *open = strchr(s->text, '[');
	const char *close = open ? strchr(open, ']') : NULL;
	size_t len;

	if (open && close) {
		len = (size_t)(close - open - 1);
		if (len >= size)
			len = size - 1;
		memcpy(out, open + 1, len);
		out[len] = '\0';
		return;
	}
	len = strcspn(s->text, "\n");
	if (len >= size)
		len = size - 1;
	memcpy(out, s->text, len);
	out[len] = '\0';
}

/* Append "<name> is '<now>', saved '<was>'; " to @msg. */
static void append_diff(char *msg, size_t size, const char *name, const char *now, const char *was)
{
	size_t len;

	if (!msg || size == 0)
		return;
	len = strlen(msg);
	if (len + 1 >= size)
		return;
	snprintf(msg + len, size - len, "%s is '%s', saved '%s'; ", name, now, was);
}

static void chomp(char *dst, const char *src, size_t size)
{
	size_t len = strcspn(src, "\n");

	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void add_step(const char *name, const char *value, bool retry)
{
	struct step *st = &steps[nsteps++];

	make_path(st->path, name);
	snprintf(st->text, sizeof(st->text), "%s\n", value);
	st->len = strlen(st->text);
	st->retry_unmerge = retry;
}

static void add_saved_step(const char *name, bool retry)
{
	struct saved *s = find_saved(name);
	char v[TEXT_LEN];

	if (!s)
		return;
	value_of(s, v, sizeof(v));
	if (strcmp(name, "run") == 0) {
		/* run reads with KSM_RUN_OFFLINE (4) during memory hot-remove */
		char *end;
		long r = strtol(v, &end, 10);
		if (end != v && *end == '\0')
			snprintf(v, sizeof(v), "%ld", r & 3);
	}
	add_step(name, v, retry);
}

static bool is_step_name(const char *name)
{
	static const char *const ordered[] = {
		"run", "merge_across_nodes", "max_page_sharing", "advisor_mode",
		"advisor_max_cpu", "advisor_min_pages_to_scan",
		"advisor_max_pages_to_scan", "advisor_target_scan_time", "pages_to_scan",
	};
	for (size_t i = 0; i < sizeof(ordered) / sizeof(ordered[0]); i++)
		if (strcmp(name, ordered[i]) == 0)
			return true;
	return false;
}

static void build_steps(void)
{
	struct saved *mode = find_saved("advisor_mode");
	struct saved *pts = find_saved("pages_to_scan");
	struct saved *min = find_saved("advisor_min_pages_to_scan");
	struct saved *run = find_saved("run");
	char v[TEXT_LEN];

	nsteps = 0;
	skip_pages_to_scan = false;

	add_saved_step("merge_across_nodes", true);
	add_saved_step("max_page_sharing", true);

	if (mode)
		value_of(mode, v, sizeof(v));
	if (mode && strcmp(v, "scan-time") == 0 && pts && min) {
		char p[TEXT_LEN];

		value_of(pts, p, sizeof(p));
		add_step("advisor_mode", "none", false);
		add_saved_step("advisor_max_cpu", false);
		add_saved_step("advisor_max_pages_to_scan", false);
		add_saved_step("advisor_target_scan_time", false);
		add_step("advisor_min_pages_to_scan", p, false);
		add_step("advisor_mode", "scan-time", false);
		add_saved_step("advisor_min_pages_to_scan", false);
		if (run) {
			char r[TEXT_LEN];
			value_of(run, r, sizeof(r));
			skip_pages_to_scan = (atol(r) & 1) != 0;
		}
	} else {
		add_saved_step("advisor_mode", false);
		add_saved_step("advisor_max_cpu", false);
		add_saved_step("advisor_min_pages_to_scan", false);
		add_saved_step("advisor_max_pages_to_scan", false);
		add_saved_step("advisor_target_scan_time", false);
		add_saved_step("pages_to_scan", false);
	}

	for (int i = 0; i < nsaved; i++)
		if (!is_step_name(saved[i].name))
			add_saved_step(saved[i].name, false);

	if (clean_at_save)
		add_step("run", "2", false);
	add_saved_step("run", false);
}

/* Do the merge counters that exist all read "0"? */
static bool counters_zero(char *msg, size_t size, int *bad)
{
	bool zero = true;

	for (size_t i = 0; i < NCOUNTERS; i++) {
		char path[PATH_LEN], now[TEXT_LEN], a[TEXT_LEN];
		int r;

		make_path(path, merge_counters[i]);
		r = read_path(path, now, sizeof(now));
		if (r == -ENOENT || (r >= 0 && strcmp(now, "0\n") == 0))
			continue;
		zero = false;
		if (bad) {
			if (r < 0)
				snprintf(a, sizeof(a), "<%s>", strerror(-r));
			else
				chomp(a, now, sizeof(a));
			append_diff(msg, size, merge_counters[i], a, "0");
			(*bad)++;
		}
	}
	return zero;
}

static int cmp_saved(const void *a, const void *b)
{
	return strcmp(((const struct saved *)a)->name, ((const struct saved *)b)->name);
}

int guard_save(void)
{
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(GUARD_KSM_DIR);
	if (!d)
		return -errno;
	nsaved = 0;
	while ((de = readdir(d))) {
		struct stat st;
		struct saved *s;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0) {
			r = -errno;
			break;
		}
		/* writable knobs only: 0644 files; counters are 0444 */
		if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IWUSR))
			continue;
		if (strlen(de->d_name) >= NAME_LEN || nsaved == MAX_FILES) {
			r = -ENAMETOOLONG;
			break;
		}
		s = &saved[nsaved];
		strcpy(s->name, de->d_name);
		make_path(s->path, de->d_name);
		r = read_path(s->path, s->text, sizeof(s->text));
		if (r < 0)
			break;
		r = 0;
		nsaved++;
	}
	closedir(d);
	if (r < 0)
		return r;
	qsort(saved, (size_t)nsaved, sizeof(saved[0]), cmp_saved);
	have_run = find_saved("run") != NULL;
	make_path(run_path, "run");
	clean_at_save = false;
	if (have_run) {
		char v[TEXT_LEN];
		value_of(find_saved("run"), v, sizeof(v));
		clean_at_save = (atol(v) & 1) == 0 && counters_zero(NULL, 0, NULL);
	}
	build_steps();
	return 0;
}

int guard_count(void)
{
	return nsaved;
}

const char *guard_name(int i)
{
	return i >= 0 && i < nsaved ? saved[i].name : NULL;
}

const char *guard_saved_text(int i)
{
	return i >= 0 && i < nsaved ? saved[i].text : NULL;
}

/* Async-signal-safe: only open/write/close on the prebuilt steps. */
static void apply_steps(void)
{
	static const char unmerge[] = "2\n";

	for (int i = 0; i < nsteps; i++) {
		int r = write_path(steps[i].path, steps[i].text, steps[i].len);
		if (r < 0 && steps[i].retry_unmerge && have_run) {
			write_path(run_path, unmerge, sizeof(unmerge) - 1);
			write_path(steps[i].path, steps[i].text, steps[i].len);
		}
	}
}

int guard_verify(char *msg, size_t size)
{
	int bad = 0;

	if (msg && size)
		msg[0] = '\0';
	for (int i = 0; i < nsaved; i++) {
		char now[TEXT_LEN], a[TEXT_LEN], b[TEXT_LEN];
		int r;

		if (skip_pages_to_scan && strcmp(saved[i].name, "pages_to_scan") == 0)
			continue;
		r = read_path(saved[i].path, now, sizeof(now));
		if (r < 0) {
			snprintf(a, sizeof(a), "<%s>", strerror(-r));
		} else {
			if (strcmp(now, saved[i].text) == 0)
				continue;
			chomp(a, now, sizeof(a));
		}
		chomp(b, saved[i].text, sizeof(b));
		append_diff(msg, size, saved[i].name, a, b);
		bad++;
	}
	if (clean_at_save)
		counters_zero(msg, size, &bad);
	return bad;
}

/* Does the current value of @name differ from the snapshot? */
static bool differs(const char *name)
{
	struct saved *s = find_saved(name);
	char now[TEXT_LEN];

	if (!s)
		return false;
	return read_path(s->path, now, sizeof(now)) < 0 || strcmp(now, s->text) != 0;
}

int guard_restore(char *msg, size_t size)
{
	int bad = 0;

	if (nsaved == 0)
		return 0;
	if (guard_verify(NULL, 0) == 0) {
		if (msg && size)
			msg[0] = '\0';
		return 0;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		if (have_run && (differs("merge_across_nodes") || differs("max_page_sharing")))
			write_path(run_path, "2\n", 2);
		apply_steps();
		bad = guard_verify(msg, size);
		if (bad == 0)
			break;
	}
	return bad;
}

/* ------------------------------------------------------------------------ */
/* signals and exit                                                          */

/*
 * Stop the running test child (check forks one per test) so that it cannot
 * write after we restored. Only a child of ours that still runs is killed:
 * waitpid(WNOHANG) returns 0 only for such a child, never for a stale pid.
 */
static void stop_child(void)
{
	pid_t pid = child_slot ? *child_slot : 0;
	int status;

	if (pid <= 0 || pid == getpid())
		return;
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
}

static void on_signal(int sig)
{
	struct sigaction sa;
	int saved_errno = errno;

	if (getpid() == owner_pid) {
		stop_child();
		apply_steps();
	}
	/* re-raise with the default action; it is delivered when we return */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	raise(sig);
	errno = saved_errno;
}

static void on_exit_restore(void)
{
	char msg[1024];

	if (getpid() != owner_pid)
		return;
	if (guard_restore(msg, sizeof(msg)) != 0)
		fprintf(stderr, "guard: KSM state NOT restored at exit: %s\n", msg);
}

void guard_install(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	void *p;

	owner_pid = getpid();
	p = mmap(NULL, sizeof(pid_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		child_slot = p;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	atexit(on_exit_restore);
}

void guard_mark_child(void)
{
	if (child_slot)
		*child_slot = getpid();
}

/* ------------------------------------------------------------------------ */
/* The runner shared by the kernel test programs                             */

static int runner_failures;

/* In the test child, before the test: start from the snapshot. */
void guard_neutral(void)
{
	char v[128];

	if (guard_raw_read("advisor_mode", v, sizeof(v)) >= 0 && strstr(v, "[scan-time]"))
		guard_raw_write("advisor_mode", "none");
	if (guard_raw_read("run", v, sizeof(v)) >= 0 && strcmp(v, "0\n") != 0)
		guard_raw_write("run", "0");
}

static void checked_setup(void)
{
	char msg[1024];

	guard_mark_child();
	if (guard_restore(msg, sizeof(msg)) != 0)
		ck_abort_msg("KSM state could not be restored before the test: %s", msg);
	guard_neutral();
}

/* In the test child, after a passing test: restore, and fail if that did not work. */
static void checked_teardown(void)
{
	char msg[1024];
	int bad = guard_restore(msg, sizeof(msg));

	ck_assert_msg(bad == 0, "KSM state not restored after the test: %s", msg);
}

/* In the runner, after every test, also after a failed or killed one. */
static void runner_teardown(void)
{
	char msg[1024];

	if (guard_restore(msg, sizeof(msg)) != 0) {
		fprintf(stderr, "KSM state NOT restored after a test: %s\n", msg);
		runner_failures++;
	}
}

void guard_add(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, NULL, runner_teardown);
	tcase_add_checked_fixture(tc, checked_setup, checked_teardown);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

int guard_run_suite(Suite *s)
{
	SRunner *sr;
	int failed;

	printf("KSM snapshot (%d writable files):", guard_count());
	for (int i = 0; i < guard_count(); i++)
		printf(" %s=%.*s", guard_name(i), (int)strcspn(guard_saved_text(i), "\n"), guard_saved_text(i));
	printf("\n");
	fflush(stdout);

	/* tcase_create() reads CK_DEFAULT_TIMEOUT (meson sets it); check's own default is 4 s */
	setenv("CK_DEFAULT_TIMEOUT", "60", 0);
	setenv("CK_VERBOSITY", "verbose", 0);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}

int guard_run(Suite *s)
{
	char msg[2048];
	int failed, r;

	/* Kernel test programs of other build directories change the same state. */
	r = guard_lock(300);
	if (r < 0) {
		fprintf(stderr, "cannot lock %s: %s\n", GUARD_LOCK_FILE, strerror(-r));
		srunner_free(srunner_create(s)); /* frees @s */
		return EXIT_FAILURE;
	}
	r = guard_save();
	if (r < 0) {
		fprintf(stderr, "cannot snapshot %s: %s\n", GUARD_KSM_DIR, strerror(-r));
		srunner_free(srunner_create(s)); /* frees @s */
		return EXIT_FAILURE;
	}
	guard_install();
	failed = guard_run_suite(s);

	if (guard_restore(msg, sizeof(msg)) != 0) {
		fprintf(stderr, "KSM state NOT restored at the end: %s\n", msg);
		failed++;
	}
	return failed || runner_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

int guard_main(const char *(*missing)(void), Suite *(*suite)(void), int (*run)(Suite *s))
{
	const char *absent;
	char why[256];

	if (guard_usable(why, sizeof(why)) < 0) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	absent = missing ? missing() : NULL;
	if (absent) {
		printf("SKIP: %s\n", absent);
		return 77;
	}
	return (run ? run : guard_run)(suite());
}

const char *guard_missing_ksm_stat_prctl(void)
{
	if (access("/proc/self/ksm_stat", R_OK) != 0 || prctl(68 /* PR_GET_MEMORY_MERGE */, 0, 0, 0, 0) < 0)
		return "no /proc/self/ksm_stat or PR_GET_MEMORY_MERGE (kernel before 6.4)";
	return NULL;
}

const char *guard_missing_ksm_stat(void)
{
	return access("/proc/self/ksm_stat", R_OK) != 0 ? "no /proc/self/ksm_stat" : NULL;
}

const char *guard_missing_injection(void)
{
#if defined(__x86_64__)
	return NULL;
#else
	return "the injection backend is x86-64 only";
#endif
}

/* ------------------------------------------------------------------------ */
/* Small helpers of the kernel test programs                                 */

void raw_text(const char *name, char *buf, size_t size)
{
	int r = guard_raw_read(name, buf, size);

	ck_assert_msg(r >= 0, "reading %s/%s: %s", GUARD_KSM_DIR, name, strerror(-r));
}

bool raw_exists(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", GUARD_KSM_DIR, name);
	return access(path, F_OK) == 0;
}

int64_t raw_num(const char *name)
{
	char buf[128], *end;
	long long v;

	raw_text(name, buf, sizeof(buf));
	errno = 0;
	v = strtoll(buf, &end, 10);
	ck_assert_msg(errno == 0 && end != buf && (buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')) &&
		      (strcmp(end, "\n") == 0 || *end == '\0'),
		      "%s holds no plain number: '%s'", name, buf);
	return v;
}

void raw_write_ok(const char *name, const char *text)
{
	int r = guard_raw_write(name, text);

	ck_assert_msg(r == 0, "writing '%s' to %s: %s", text, name, strerror(-r));
}

void reset_counters(void)
{
	raw_write_ok("run", "2");
	ck_assert_int_eq(raw_num("pages_shared"), 0);
	ck_assert_int_eq(raw_num("pages_sharing"), 0);
	ck_assert_int_eq(raw_num("full_scans"), 0);
}

int64_t max_page_sharing(void)
{
	/* before 4.13 there is no limit */
	return raw_exists("max_page_sharing") ? raw_num("max_page_sharing") : INT64_MAX;
}

void expected_counts(int64_t n, int64_t m, int64_t *shared, int64_t *sharing, int64_t *merged)
{
	if (n < 2) {
		*shared = *sharing = 0;
	} else if (n % m == 0 || n % m == 1) {
		*shared = n / m;
		*sharing = *shared * (m - 1);
	} else {
		*shared = n / m + 1;
		*sharing = n - *shared;
	}
	if (merged)
		*merged = *shared + *sharing;
}

bool wait_counts(int64_t shared, int64_t sharing, double timeout, double *elapsed)
{
	double t0 = now_s();
	bool ok;

	for (;;) {
		ok = raw_num("pages_shared") == shared && raw_num("pages_sharing") == sharing;
		if (ok || now_s() - t0 > timeout)
			break;
		sleep_ms(5);
	}
	if (elapsed)
		*elapsed = now_s() - t0;
	return ok;
}

struct ksm_ctx *new_ctx(void)
{
	struct ksm_ctx *ctx = NULL;
	int r = ksm_new_at(&ctx, "/");

	ck_assert_msg(r == 0, "ksm_new_at(/): %s", strerror(-r));
	return ctx;
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command name may hold ')' and spaces: the state follows the last ')' */
	p = strrchr(buf, ')');
	return p ? p[2] : '?';
}

static int64_t raw_int(const char *name)
{
	char buf[64];

	return guard_raw_read(name, buf, sizeof(buf)) > 0 ? strtoll(buf, NULL, 10) : 0;
}

void guard_counts_read(struct guard_counts *c)
{
	c->shared = raw_int("pages_shared");
	c->sharing = raw_int("pages_sharing");
	c->zero = raw_int("ksm_zero_pages"); /* 0 where the file does not exist */
}

static bool counts_equal(const struct guard_counts *a, const struct guard_counts *b)
{
	return a->shared == b->shared && a->sharing == b->sharing && a->zero == b->zero;
}

void guard_settle(struct guard_counts *base)
{
	char pts[64] = "", sleep[64] = "";
	struct guard_counts at_scan, c;
	int64_t scans0, scans_seen, scanned_seen;
	double t0 = now_s(), t_moved = t0;

	guard_raw_read("pages_to_scan", pts, sizeof(pts));
	guard_raw_read("sleep_millisecs", sleep, sizeof(sleep));
	pts[strcspn(pts, "\n")] = sleep[strcspn(sleep, "\n")] = '\0';
	ck_assert_int_eq(guard_raw_write("pages_to_scan", "10000"), 0);
	ck_assert_int_eq(guard_raw_write("sleep_millisecs", "0"), 0);
	guard_counts_read(&at_scan);
	scans0 = scans_seen = raw_int("full_scans");
	scanned_seen = raw_int("pages_scanned"); /* 0 where it does not exist (before 6.8) */
	ck_assert_int_eq(guard_raw_write("run", "1"), 0);
	for (;;) {
		int64_t scans, scanned;

		sleep_ms(2);
		guard_counts_read(&c);
		scans = raw_int("full_scans");
		scanned = raw_int("pages_scanned");
		if (scans != scans_seen) {
			/* Two scans to merge (unstable tree, then stable): settled
			 * once a later full scan changed nothing. */
			if (scans >= scans0 + 3 && counts_equal(&c, &at_scan))
				break;
			at_scan = c;
			scans_seen = scans;
			t_moved = now_s();
		} else if (scanned != scanned_seen) {
			scanned_seen = scanned;
			t_moved = now_s();
		} else if (now_s() - t_moved > (scanned ? 0.3 : 1.0)) {
			/* ksmd idle at full speed: nothing (any more) registered
			 * anywhere, whatever is merged stays as it is. */
			break;
		}
		if (now_s() - t0 > 30)
			ck_abort_msg("merged pages of other processes: pages_shared %" PRId64
				     " pages_sharing %" PRId64 " ksm_zero_pages %" PRId64
				     " still changing after 30 s (%" PRId64 " full scans)",
				     c.shared, c.sharing, c.zero, scans - scans0);
	}
	ck_assert_int_eq(guard_raw_write("run", "0"), 0);
	if (pts[0])
		guard_raw_write("pages_to_scan", pts);
	if (sleep[0])
		guard_raw_write("sleep_millisecs", sleep);
	guard_counts_read(base);
	if (base->shared || base->sharing || base->zero) {
		printf("    merged pages of other processes: pages_shared %" PRId64 " pages_sharing %" PRId64
		       " ksm_zero_pages %" PRId64 " (%.2f s to settle)\n",
		       base->shared, base->sharing, base->zero, now_s() - t0);
		fflush(stdout);
	}
}

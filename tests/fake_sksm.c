// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fake Selective KSM kernel of the tests: an inotify thread that turns
 * completed writes of control/add_partition and control/remove_partition
 * into partition directories, as the RFC's store functions do in the
 * kernel. Nothing else in a fake tree reacts to writes, so tests assert the
 * bytes the library wrote and, through this thread, what follows from them.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ksm.h>

#include "fake_sksm.h"
#include "testutil.h"

#define KSM_REL "sys/kernel/mm/ksm"

struct fake_sksm {
	char ksmdir[PATH_MAX - 512]; /* room for "/<name>/<file>" */
	int inotify;
	int stopfd;
	pthread_t thread;
	int handled; /* control writes handled, read with __atomic */
};

/* The attribute group of a fresh RFC partition: no smart_scan, no advisor. */
static const struct {
	const char *name;
	const char *value;
	mode_t mode;
} group[] = {
	{ "run", "0\n", 0644 },
	{ "pages_to_scan", "100\n", 0644 },
	{ "sleep_millisecs", "20\n", 0644 },
	{ "merge_across_nodes", "1\n", 0644 },
	{ "use_zero_pages", "0\n", 0644 },
	{ "max_page_sharing", "256\n", 0644 },
	{ "stable_node_chains_prune_millisecs", "2000\n", 0644 },
	{ "pages_shared", "0\n", 0444 },
	{ "pages_sharing", "0\n", 0444 },
	{ "pages_unshared", "0\n", 0444 },
	{ "pages_volatile", "0\n", 0444 },
	{ "pages_scanned", "0\n", 0444 },
	{ "pages_skipped", "0\n", 0444 },
	{ "full_scans", "0\n", 0444 },
	{ "stable_node_chains", "0\n", 0444 },
	{ "stable_node_dups", "0\n", 0444 },
	{ "ksm_zero_pages", "0\n", 0444 },
	{ "general_profit", "0\n", 0444 },
	{ "trigger_merge", "", 0644 },
	{ "trigger_unmerge", "", 0644 },
};

static int chmod_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *base = path + ftw->base;
	int knob = ksm_knob_lookup(base);
	char parent[PATH_MAX];

	(void)st;
	if (type != FTW_F)
		return 0;
	/* Only files of partition directories: <ksm>/<name>/<file>. */
	snprintf(parent, sizeof(parent), "%.*s", ftw->base > 0 ? ftw->base - 1 : 0, path);
	if (strstr(parent, "/" KSM_REL "/") == NULL ||
	    strcmp(parent + strlen(parent) - strlen("/control"), "/control") == 0)
		return 0;
	if (knob >= 0 && ksm_knob_info(knob)->kind == KSM_KIND_COUNTER)
		return chmod(path, 0444);
	return chmod(path, 0644);
}

void fake_sksm_modes(const char *root)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/" KSM_REL, root);
	ck_assert_msg(nftw(dir, chmod_one, 16, FTW_PHYS) == 0, "chmod %s: %s", dir, strerror(errno));
}

static int write_file(int dirfd, const char *name, const char *text, mode_t mode)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	if (fd < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void add_partition(struct fake_sksm *fk, const char *name)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	int dfd;

	snprintf(tmp, sizeof(tmp), "%s/.new-XXXXXX", fk->ksmdir);
	if (!mkdtemp(tmp)) {
		fprintf(stderr, "fake kernel: mkdtemp: %s\n", strerror(errno));
		return;
	}
	chmod(tmp, 0755);
	dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; dfd >= 0 && i < sizeof(group) / sizeof(group[0]); i++)
		if (write_file(dfd, group[i].name, group[i].value, group[i].mode) < 0)
			fprintf(stderr, "fake kernel: %s: %s\n", group[i].name, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	snprintf(dst, sizeof(dst), "%s/%s", fk->ksmdir, name);
	if (rename(tmp, dst) < 0) {
		/* The kernel would refuse a name that exists (-EEXIST). */
		fprintf(stderr, "fake kernel: add %s: %s\n", name, strerror(errno));
		tu_rmtree(tmp);
	}
}

static void remove_partition(struct fake_sksm *fk, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", fk->ksmdir, name);
	tu_rmtree(path);
}

static void handle(struct fake_sksm *fk, const char *file)
{
	char path[PATH_MAX], buf[256], name[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/control/%s", fk->ksmdir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (strcmp(file, "add_partition") == 0) {
		/* add_partition_store(): count >= 50 is -EINVAL; the name is count - 1 bytes. */
		if (n >= 50)
			return;
		buf[n - 1] = '\0';
		add_partition(fk, buf);
	} else if (strcmp(file, "remove_partition") == 0) {
		if (sscanf(buf, "%31s", name) == 1)
			remove_partition(fk, name);
	} else {
		return;
	}
	__atomic_add_fetch(&fk->handled, 1, __ATOMIC_RELEASE);
}

static void *run(void *arg)
{
	struct fake_sksm *fk = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		struct pollfd p[2] = { { fk->inotify, POLLIN, 0 }, { fk->stopfd, POLLIN, 0 } };
		ssize_t len;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		len = read(fk->inotify, buf, sizeof(buf));
		if (len <= 0)
			continue;
		for (char *q = buf; q < buf + len;) {
			struct inotify_event *ev = (struct inotify_event *)q;
			if (ev->len > 0 && (ev->mask & IN_CLOSE_WRITE))
				handle(fk, ev->name);
			q += sizeof(*ev) + ev->len;
		}
	}
	return NULL;
}

struct fake_sksm *fake_sksm_start(const char *root)
{
	struct fake_sksm *fk = calloc(1, sizeof(*fk));
	char control[PATH_MAX];

	ck_assert_ptr_nonnull(fk);
	ck_assert((size_t)snprintf(fk->ksmdir, sizeof(fk->ksmdir), "%s/" KSM_REL, root) < sizeof(fk->ksmdir));
	snprintf(control, sizeof(control), "%s/control", fk->ksmdir);
	fk->inotify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	ck_assert_msg(fk->inotify >= 0, "inotify_init1: %s", strerror(errno));
	ck_assert_msg(inotify_add_watch(fk->inotify, control, IN_CLOSE_WRITE) >= 0,
		      "inotify_add_watch %s: %s", control, strerror(errno));
	fk->stopfd = eventfd(0, EFD_CLOEXEC);
	ck_assert_int_ge(fk->stopfd, 0);
	ck_assert_int_eq(pthread_create(&fk->thread, NULL, run, fk), 0);
	return fk;
}

void fake_sksm_wait(struct fake_sksm *fk, int n)
{
	struct timespec ts = { 0, 1000000 };

	for (int i = 0; i < 5000; i++) {
		if (__atomic_load_n(&fk->handled, __ATOMIC_ACQUIRE) >= n)
			return;
		nanosleep(&ts, NULL);
	}
	ck_abort_msg("the fake kernel handled %d control writes, not %d", fk->handled, n);
}

void fake_sksm_stop(struct fake_sksm *fk)
{
	uint64_t one = 1;

	if (!fk)
		return;
	if (write(fk->stopfd, &one, sizeof(one)) != sizeof(one))
		fprintf(stderr, "fake kernel: cannot stop: %s\n", strerror(errno));
	pthread_join(fk->thread, NULL);
	close(fk->inotify);
	close(fk->stopfd);
	free(fk);
}

void fake_sksm_open_up(const char *root)
{
	char parent[PATH_MAX];
	char *slash;

	ck_assert_int_eq(chmod(root, 0755), 0);
	snprintf(parent, sizeof(parent), "%s", root);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (strncmp(strrchr(parent, '/') ? strrchr(parent, '/') + 1 : parent, "libksm-test-", 12) == 0)
			ck_assert_int_eq(chmod(parent, 0755), 0);
	}
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-process figures and the wait for ksmd, against copies of the fake
 * sysroots: ksm_proc_stats_read(), ksm_proc_comm(), ksm_proc_foreach() and
 * ksm_wait_scans(). The processes of each tree and their figures are listed
 * in tests/sysroots/README.md; the expected values below are spelled out
 * from there. The wait tests change full_scans and run from a child process
 * while the library polls them.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksm.h>

#include "testutil.h"

#define P_ALL4 (KSM_PROC_RMAP_ITEMS | KSM_PROC_ZERO_PAGES | KSM_PROC_MERGING_PAGES | KSM_PROC_PROCESS_PROFIT)
#define P_ALL6 (P_ALL4 | KSM_PROC_MERGE_ANY | KSM_PROC_MERGEABLE)

/* The copy and the context of the running test; the teardown releases both. */
static char *root;
static struct ksm_ctx *ctx;

static void teardown(void)
{
	tu_unuse(&root, &ctx);
}

/* Copy tree @name and open a context on it. */
static void use(const char *name)
{
	teardown();
	tu_use(name, &root, &ctx);
}

/* Read pid's figures into *st, which holds garbage before (it needs no initialisation); the result of the call. */
static int stats(int pid, struct ksm_proc_stats *st)
{
	memset(st, 0xa5, sizeof(*st));
	return ksm_proc_stats_read(ctx, pid, st, sizeof(*st));
}

/* Expected figures of one process; present says which fields count. */
struct want {
	int pid;
	const char *comm;
	uint64_t present;
	int64_t rmap, zero, merging, profit, merge_any, mergeable;
};

static void check_stats(const struct ksm_proc_stats *st, const struct want *w)
{
	int64_t saved = (w->merging + w->zero) * sysconf(_SC_PAGESIZE);

	ck_assert_msg(st->present == w->present, "pid %d: present %#llx, want %#llx", w->pid,
		      (unsigned long long)st->present, (unsigned long long)w->present);
	/* Fields without their bit read as 0. */
	ck_assert_int_eq(st->ksm_rmap_items, w->rmap);
	ck_assert_int_eq(st->ksm_zero_pages, w->zero);
	ck_assert_int_eq(st->ksm_merging_pages, w->merging);
	ck_assert_int_eq(st->ksm_process_profit, w->profit);
	ck_assert_int_eq(st->ksm_merge_any, w->merge_any);
	ck_assert_int_eq(st->ksm_mergeable, w->mergeable);
	/* Derived: the kernel's profit where it has one, else the same estimate as general_profit's. */
	ck_assert_int_eq(st->saved_bytes, saved);
	if (w->present & KSM_PROC_PROCESS_PROFIT)
		ck_assert_int_eq(st->profit_bytes, w->profit);
	else
		ck_assert_int_eq(st->profit_bytes, saved - w->rmap * tu_rmap_item_size());
}

static void check_pid(const struct want *w)
{
	struct ksm_proc_stats st;
	int r = stats(w->pid, &st);

	ck_assert_msg(r == 0, "pid %d: %d", w->pid, r);
	check_stats(&st, w);
}

/* ------------------------------------------------------------------------ */
/* The trees and their processes (tests/sysroots/README.md)                  */

static const struct want procs_5_19[] = {
	{ 1234, "qemu-kvm", KSM_PROC_MERGING_PAGES, 0, 0, 2048, 0, 0, 0 },
	{ 1300, "qemu-system-aar", KSM_PROC_MERGING_PAGES, 0, 0, 512, 0, 0, 0 },
};
static const struct want idle_5_19[] = {
	{ 1, "systemd", KSM_PROC_MERGING_PAGES, 0, 0, 0, 0, 0, 0 },
	{ 1400, "sshd", KSM_PROC_MERGING_PAGES, 0, 0, 0, 0, 0, 0 },
	{ 0, "ksmctl", KSM_PROC_MERGING_PAGES, 0, 0, 0, 0, 0, 0 },
};

static const struct want procs_6_1[] = {
	/* ksm_stat has rmap only (6.1-6.3); the merged pages come from ksm_merging_pages. */
	{ 812, "qemu-kvm", KSM_PROC_RMAP_ITEMS | KSM_PROC_MERGING_PAGES, 4096, 0, 3000, 0, 0, 0 },
	{ 4242, "qemu-system-aar", KSM_PROC_RMAP_ITEMS | KSM_PROC_MERGING_PAGES, 128, 0, 64, 0, 0, 0 },
};
static const struct want idle_6_1[] = {
	{ 1, "systemd", KSM_PROC_RMAP_ITEMS | KSM_PROC_MERGING_PAGES, 0, 0, 0, 0, 0, 0 },
	{ 900, "libvirtd", KSM_PROC_RMAP_ITEMS | KSM_PROC_MERGING_PAGES, 0, 0, 0, 0, 0, 0 },
	{ 0, "ksmctl", KSM_PROC_RMAP_ITEMS | KSM_PROC_MERGING_PAGES, 0, 0, 0, 0, 0, 0 },
};

static const struct want procs_6_8[] = {
	{ 1500, "qemu-system-x86", P_ALL4, 1000, 50, 800, 3417600, 0, 0 },
	{ 1600, "java", P_ALL4, 300, 0, 0, -19200, 0, 0 },
};
static const struct want idle_6_8[] = {
	{ 1, "systemd", P_ALL4, 0, 0, 0, 0, 0, 0 },
	{ 1700, "sshd", P_ALL4, 0, 0, 0, 0, 0, 0 },
	{ 0, "ksmctl", P_ALL4, 0, 0, 0, 0, 0, 0 },
};

static const struct want procs_6_18[] = {
	{ 2001, "qemu-system-x86", P_ALL6, 4096, 100, 3000, 12435456, 1, 1 },
	{ 2002, "postgres", P_ALL6, 0, 0, 0, 0, 0, 1 },
	{ 2003, "java", P_ALL6, 20000, 0, 10, -1239040, 1, 1 },
	{ 2004, "qemu-system-aar", P_ALL6, 1500, 1200, 200, 5638400, 0, 1 },
};
static const struct want idle_6_18[] = {
	{ 1, "systemd", P_ALL6, 0, 0, 0, 0, 0, 0 },
	{ 640, "systemd-journal", P_ALL6, 0, 0, 0, 0, 0, 0 },
	{ 0, "ksmctl", P_ALL6, 0, 0, 0, 0, 0, 0 },
};

static const struct want procs_future[] = {
	{ 3100, "redis-server", P_ALL6, 300, 0, 120, 472320, 0, 1 },
};
static const struct want idle_future[] = {
	/* ksm_new_counter 99: an unknown line never makes a process active. */
	{ 3200, "nginx", P_ALL6, 0, 0, 0, 0, 0, 0 },
	{ 1, "systemd", P_ALL6, 0, 0, 0, 0, 0, 0 },
	{ 0, "ksmctl", P_ALL6, 0, 0, 0, 0, 0, 0 },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct tree {
	const char *name;
	const struct want *active;
	size_t nactive;
	const struct want *idle;
	size_t nidle;
} trees[] = {
	{ "5.19", procs_5_19, N(procs_5_19), idle_5_19, N(idle_5_19) },
	{ "6.1", procs_6_1, N(procs_6_1), idle_6_1, N(idle_6_1) },
	{ "6.8", procs_6_8, N(procs_6_8), idle_6_8, N(idle_6_8) },
	{ "6.18", procs_6_18, N(procs_6_18), idle_6_18, N(idle_6_18) },
	{ "future", procs_future, N(procs_future), idle_future, N(idle_future) },
};
#define N_TREES ((int)N(trees))

/* ------------------------------------------------------------------------ */
/* ksm_proc_stats_read()                                                     */

/* Every field and present bit of every process, per generation. */
START_TEST(stats_per_generation)
{
	const struct tree *t = &trees[_i];
	struct ksm_proc_stats st;

	use(t->name);
	for (size_t i = 0; i < t->nactive; i++)
		check_pid(&t->active[i]);
	for (size_t i = 0; i < t->nidle; i++)
		check_pid(&t->idle[i]);

	/* pid 2 is a kernel thread: its file exists but is empty. */
	ck_assert_int_eq(stats(2, &st), 0);
	ck_assert_uint_eq(st.present, 0);
	ck_assert_int_eq(st.ksm_rmap_items, 0);
	ck_assert_int_eq(st.ksm_zero_pages, 0);
	ck_assert_int_eq(st.ksm_merging_pages, 0);
	ck_assert_int_eq(st.ksm_process_profit, 0);
	ck_assert_int_eq(st.ksm_merge_any, 0);
	ck_assert_int_eq(st.ksm_mergeable, 0);
	ck_assert_int_eq(st.saved_bytes, 0);
	ck_assert_int_eq(st.profit_bytes, 0);

	/* No such process. */
	ck_assert_int_eq(stats(99999, &st), -ESRCH);
	ck_assert_int_eq(stats(3, &st), -ESRCH);
}
END_TEST

/* pid 0 reads proc/self, not some numeric entry. */
START_TEST(stats_self)
{
	struct ksm_proc_stats st;

	use("6.18");
	tu_write(root, "proc/self/ksm_stat",
		 "ksm_rmap_items 11\nksm_zero_pages 12\nksm_merging_pages 13\n"
		 "ksm_process_profit 14\nksm_merge_any: yes\nksm_mergeable: no\n");
	ck_assert_int_eq(stats(0, &st), 0);
	check_stats(&st, &(struct want){ 0, NULL, P_ALL6, 11, 12, 13, 14, 1, 0 });
	teardown();

	use("5.19");
	tu_write(root, "proc/self/ksm_merging_pages", "77\n");
	ck_assert_int_eq(stats(0, &st), 0);
	check_stats(&st, &(struct want){ 0, NULL, KSM_PROC_MERGING_PAGES, 0, 0, 77, 0, 0, 0 });
}
END_TEST

/* Both "key value" and "key: value", in any order, unknown keys anywhere. */
START_TEST(stats_line_forms)
{
	struct ksm_proc_stats st;

	use("6.18");
	tu_write(root, "proc/2001/ksm_stat",
		 "ksm_mergeable yes\nksm_rmap_items: 5\n\nksm_whatever: 1 2 3\n"
		 "ksm_merge_any no\nksm_zero_pages:\t-3\n");
	ck_assert_int_eq(stats(2001, &st), 0);
	/* ksm_merging_pages is missing here, so it comes from its own file (3000). */
	check_stats(&st, &(struct want){ 2001, NULL,
		    KSM_PROC_MERGEABLE | KSM_PROC_RMAP_ITEMS | KSM_PROC_MERGE_ANY | KSM_PROC_ZERO_PAGES |
		    KSM_PROC_MERGING_PAGES,
		    5, -3, 3000, 0, 0, 1 });

	/* Only unknown lines: nothing present, not an error. */
	tu_write(root, "proc/2002/ksm_stat", "ksm_new_counter 5\nksm_something: maybe\n");
	ck_assert_int_eq(stats(2002, &st), 0);
	ck_assert_uint_eq(st.present, 0);
}
END_TEST

START_TEST(stats_malformed)
{
	static const char *const bad[] = {
		"ksm_rmap_items 12abc\n",
		"ksm_rmap_items 1\nksm_zero_pages x\n",
		"ksm_merging_pages 99999999999999999999\n",
		"ksm_rmap_items 0\nksm_merge_any: maybe\n",
		"ksm_mergeable: 1.5\n",
	};
	struct ksm_proc_stats st;

	use("6.18");
	for (size_t i = 0; i < N(bad); i++) {
		tu_write(root, "proc/2001/ksm_stat", bad[i]);
		ck_assert_msg(stats(2001, &st) == -EBADMSG, "'%s' not rejected", bad[i]);
	}
	teardown();

	use("5.19");
	tu_write(root, "proc/1234/ksm_merging_pages", "many\n");
	ck_assert_int_eq(stats(1234, &st), -EBADMSG);
	tu_write(root, "proc/1234/ksm_merging_pages", "12 pages\n");
	ck_assert_int_eq(stats(1234, &st), -EBADMSG);
}
END_TEST

/* A kernel without per-process KSM files: the process exists, the figures do not. */
START_TEST(stats_no_proc_files)
{
	struct ksm_proc_stats st;

	use("4.18");
	ck_assert_int_eq(stats(1234, &st), -EOPNOTSUPP);
	ck_assert_int_eq(stats(1, &st), -EOPNOTSUPP);
	ck_assert_int_eq(stats(0, &st), -EOPNOTSUPP);
	ck_assert_int_eq(stats(4321, &st), -ESRCH);
}
END_TEST

START_TEST(stats_invalid)
{
	struct ksm_proc_stats st;

	use("6.18");
	ck_assert_int_eq(ksm_proc_stats_read(ctx, -1, &st, sizeof(st)), -EINVAL);
	ck_assert_int_eq(ksm_proc_stats_read(ctx, -2001, &st, sizeof(st)), -EINVAL);
	ck_assert_int_eq(ksm_proc_stats_read(NULL, 2001, &st, sizeof(st)), -EINVAL);
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 2001, NULL, sizeof(st)), -EINVAL);

	/* A size that cannot hold .present: nothing written. */
	st.present = 0xdead;
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 2001, &st, 0), -EINVAL);
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 2001, &st, sizeof(st.present) - 1), -EINVAL);
	ck_assert_uint_eq(st.present, 0xdead);
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 2001, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.present, P_ALL6);
}
END_TEST

/* A caller with a larger struct (a newer header): what the library knows, the rest zeroed. */
START_TEST(stats_larger_caller)
{
	struct {
		struct ksm_proc_stats st;
		int64_t later[4];
		int64_t beyond;
	} big;

	use("6.8");
	memset(&big, 0xa5, sizeof(big));
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 1500, &big.st, sizeof(big.st) + sizeof(big.later)), 0);
	check_stats(&big.st, &procs_6_8[0]);
	for (size_t i = 0; i < N(big.later); i++)
		ck_assert_int_eq(big.later[i], 0);
	ck_assert_uint_eq((uint64_t)big.beyond, UINT64_C(0xa5a5a5a5a5a5a5a5));
}
END_TEST

/* A caller with a smaller struct (an older header): only its bytes, only its bits. */
START_TEST(stats_smaller_caller)
{
	struct {
		struct ksm_proc_stats st;
		int64_t beyond;
	} b;
	const size_t size = offsetof(struct ksm_proc_stats, ksm_merging_pages);

	use("6.8");
	memset(&b, 0x5a, sizeof(b));
	ck_assert_int_eq(ksm_proc_stats_read(ctx, 1500, &b.st, size), 0);
	ck_assert_uint_eq(b.st.present, KSM_PROC_RMAP_ITEMS | KSM_PROC_ZERO_PAGES);
	ck_assert_int_eq(b.st.ksm_rmap_items, 1000);
	ck_assert_int_eq(b.st.ksm_zero_pages, 50);
	for (size_t i = size; i < sizeof(b); i++)
		ck_assert_uint_eq(((unsigned char *)&b)[i], 0x5a);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Reads as another user: the files are 0400                                 */

static int unpriv_stats_2001(void)
{
	struct ksm_proc_stats st;

	return ksm_proc_stats_read(ctx, 2001, &st, sizeof(st));
}

static int count_cb(const struct ksm_proc *p, void *data)
{
	(void)p;
	(*(int *)data)++;
	return 0;
}

static int unpriv_foreach(void)
{
	int n = 0, r = ksm_proc_foreach(ctx, count_cb, &n);

	return r == n ? r : -EPROTO;
}

static int unpriv_wait(void)
{
	return ksm_wait_scans(ctx, 1, -1);
}

static int open_dir(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	return type == FTW_D ? chmod(path, (st->st_mode & 07777) | 0755) : 0;
}

/*
 * Run @fn as a user who does not own the copy: as root in a child that
 * switches to nobody (the copy's directories opened up for it first), as
 * any other user directly, since chmod 000 keeps the owner out too.
 * Returns what @fn returned.
 */
static int as_other_user(int (*fn)(void))
{
	struct passwd *pw;
	uid_t uid;
	int fds[2], result = -EPROTO, status;
	pid_t pid;

	if (geteuid() != 0)
		return fn();
	pw = getpwnam("nobody");
	uid = pw ? pw->pw_uid : 65534;
	ck_assert_int_eq(nftw(root, open_dir, 16, FTW_PHYS), 0);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int r = -EPERM;

		close(fds[0]);
		if (setgroups(0, NULL) == 0 && setgid((gid_t)uid) == 0 && setuid(uid) == 0)
			r = fn();
		if (write(fds[1], &r, sizeof(r)) != sizeof(r))
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &result, sizeof(result)), (ssize_t)sizeof(result));
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	ck_assert_msg(result != -EPERM, "cannot switch to uid %u", (unsigned)uid);
	return result;
}

START_TEST(stats_permission)
{
	char path[4200];

	use("6.18");
	snprintf(path, sizeof(path), "%s/proc/2001/ksm_stat", root);
	ck_assert_int_eq(chmod(path, 0), 0);
	if (geteuid() == 0) {
		/* Root reads every process. */
		check_pid(&procs_6_18[0]);
		ck_assert_int_eq(ksm_proc_foreach(ctx, count_cb, &(int){ 0 }), 4);
	}
	ck_assert_int_eq(as_other_user(unpriv_stats_2001), -EACCES);
	/* The walk skips what it may not read and reports the rest. */
	ck_assert_int_eq(as_other_user(unpriv_foreach), 3);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* ksm_proc_comm()                                                           */

START_TEST(comm_read)
{
	char buf[64];

	use("6.18");
	ck_assert_int_eq(ksm_proc_comm(ctx, 2004, buf, sizeof(buf)), 15);
	ck_assert_str_eq(buf, "qemu-system-aar");
	ck_assert_int_eq(ksm_proc_comm(ctx, 2004, buf, 16), 15);
	ck_assert_str_eq(buf, "qemu-system-aar");
	ck_assert_int_eq(ksm_proc_comm(ctx, 640, buf, 16), 15);
	ck_assert_str_eq(buf, "systemd-journal");
	ck_assert_int_eq(ksm_proc_comm(ctx, 2002, buf, sizeof(buf)), 8);
	ck_assert_str_eq(buf, "postgres");
	ck_assert_int_eq(ksm_proc_comm(ctx, 0, buf, sizeof(buf)), 6);
	ck_assert_str_eq(buf, "ksmctl");
	/* Exactly the length plus the NUL is enough. */
	ck_assert_int_eq(ksm_proc_comm(ctx, 2, buf, 9), 8);
	ck_assert_str_eq(buf, "kthreadd");
	teardown();

	/* comm exists also where the KSM files do not. */
	use("4.18");
	ck_assert_int_eq(ksm_proc_comm(ctx, 1234, buf, sizeof(buf)), 8);
	ck_assert_str_eq(buf, "qemu-kvm");
}
END_TEST

START_TEST(comm_errors)
{
	char buf[64];

	use("6.18");
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(ksm_proc_comm(ctx, 2004, buf, 15), -ENOSPC);
	ck_assert_int_eq(ksm_proc_comm(ctx, 2002, buf, 8), -ENOSPC);
	ck_assert_int_eq(ksm_proc_comm(ctx, 2002, buf, 0), -ENOSPC);
	ck_assert_int_eq(buf[0], 'x'); /* nothing written on failure */
	ck_assert_int_eq(ksm_proc_comm(ctx, 99999, buf, sizeof(buf)), -ESRCH);
	ck_assert_int_eq(ksm_proc_comm(ctx, -1, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(ksm_proc_comm(NULL, 1, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(ksm_proc_comm(ctx, 1, NULL, 16), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* ksm_proc_foreach()                                                        */

struct seen {
	struct ksm_proc procs[64];
	int n;
	int stop_at;     /* call number (1-based) that returns stop_with */
	int stop_with;
};

static int collect(const struct ksm_proc *p, void *data)
{
	struct seen *s = data;

	ck_assert_int_lt(s->n, (int)N(s->procs));
	s->procs[s->n++] = *p;
	return s->n == s->stop_at ? s->stop_with : 0;
}

static const struct ksm_proc *find(const struct seen *s, int pid)
{
	for (int i = 0; i < s->n; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

/* Exactly the active processes, each once, with comm and figures. */
START_TEST(foreach_reports_active)
{
	const struct tree *t = &trees[_i];
	struct seen s = { .n = 0 };
	struct ksm_proc_stats st;
	int r;

	use(t->name);
	r = ksm_proc_foreach(ctx, collect, &s);
	ck_assert_int_eq(r, (int)t->nactive);
	ck_assert_int_eq(s.n, (int)t->nactive);
	for (size_t i = 0; i < t->nactive; i++) {
		const struct want *w = &t->active[i];
		const struct ksm_proc *p = find(&s, w->pid);

		ck_assert_msg(p != NULL, "%s: pid %d not reported", t->name, w->pid);
		ck_assert_str_eq(p->comm, w->comm);
		check_stats(&p->stats, w);
		/* The same figures as a single read. */
		ck_assert_int_eq(stats(w->pid, &st), 0);
		ck_assert_int_eq(memcmp(&st, &p->stats, sizeof(st)), 0);
	}
	/* Each pid once (so nothing else, since the counts match). */
	for (int i = 0; i < s.n; i++)
		for (int j = i + 1; j < s.n; j++)
			ck_assert_int_ne(s.procs[i].pid, s.procs[j].pid);
}
END_TEST

START_TEST(foreach_negative_stops)
{
	struct seen s = { .stop_at = 2, .stop_with = -ECANCELED };

	use("6.18");
	ck_assert_int_eq(ksm_proc_foreach(ctx, collect, &s), -ECANCELED);
	ck_assert_int_eq(s.n, 2);

	s = (struct seen){ .stop_at = 1, .stop_with = -1234 };
	ck_assert_int_eq(ksm_proc_foreach(ctx, collect, &s), -1234);
	ck_assert_int_eq(s.n, 1);
}
END_TEST

START_TEST(foreach_positive_stops)
{
	struct seen s = { .stop_at = 2, .stop_with = 1 };

	use("6.18");
	/* The count so far, the process that stopped the walk included. */
	ck_assert_int_eq(ksm_proc_foreach(ctx, collect, &s), 2);
	ck_assert_int_eq(s.n, 2);

	s = (struct seen){ .stop_at = 1, .stop_with = 7 };
	ck_assert_int_eq(ksm_proc_foreach(ctx, collect, &s), 1);
	ck_assert_int_eq(s.n, 1);
}
END_TEST

START_TEST(foreach_unsupported)
{
	struct seen s = { .n = 0 };

	use("4.18");
	ck_assert_int_eq(ksm_proc_foreach(ctx, collect, &s), -EOPNOTSUPP);
	ck_assert_int_eq(s.n, 0);
	teardown();

	use("6.18");
	ck_assert_int_eq(ksm_proc_foreach(ctx, NULL, &s), -EINVAL);
	ck_assert_int_eq(ksm_proc_foreach(NULL, collect, &s), -EINVAL);
	ck_assert_int_eq(s.n, 0);
}
END_TEST

/* Thousands of processes: the walk reads them on several threads. */
#define MANY_FIRST 10000
#define MANY_COUNT 1600

static int collect_many(const struct ksm_proc *p, void *data)
{
	unsigned char *hit = data;
	char comm[16];

	if (p->pid < MANY_FIRST || p->pid >= MANY_FIRST + MANY_COUNT)
		return -ERANGE;
	snprintf(comm, sizeof(comm), "p%d", p->pid);
	if (strcmp(p->comm, comm) != 0 || p->stats.ksm_rmap_items != p->pid ||
	    p->stats.ksm_merging_pages != p->pid / 7 || p->stats.present != P_ALL6)
		return -EBADMSG;
	hit[p->pid - MANY_FIRST]++;
	return 0;
}

START_TEST(foreach_many)
{
	static unsigned char hit[MANY_COUNT];
	char rel[64], text[256];
	int expected = 0;

	use("6.18");
	/* Only the many: the tree's own processes become idle. */
	for (size_t i = 0; i < N(procs_6_18); i++) {
		snprintf(rel, sizeof(rel), "proc/%d/ksm_stat", procs_6_18[i].pid);
		tu_write(root, rel, "ksm_rmap_items 0\nksm_zero_pages 0\nksm_merging_pages 0\n"
				    "ksm_process_profit 0\nksm_merge_any: no\nksm_mergeable: no\n");
	}
	for (int pid = MANY_FIRST; pid < MANY_FIRST + MANY_COUNT; pid++) {
		bool active = pid % 3 == 0;

		snprintf(rel, sizeof(rel), "%s/proc/%d", root, pid);
		ck_assert_int_eq(mkdir(rel, 0755), 0);
		snprintf(rel, sizeof(rel), "proc/%d/comm", pid);
		snprintf(text, sizeof(text), "p%d\n", pid);
		tu_write(root, rel, text);
		snprintf(rel, sizeof(rel), "proc/%d/ksm_stat", pid);
		snprintf(text, sizeof(text),
			 "ksm_rmap_items %d\nksm_zero_pages 0\nksm_merging_pages %d\n"
			 "ksm_process_profit 0\nksm_merge_any: no\nksm_mergeable: %s\n",
			 active ? pid : 0, active ? pid / 7 : 0, active ? "yes" : "no");
		tu_write(root, rel, text);
		expected += active;
	}
	memset(hit, 0, sizeof(hit));
	ck_assert_int_eq(ksm_proc_foreach(ctx, collect_many, hit), expected);
	for (int i = 0; i < MANY_COUNT; i++)
		ck_assert_msg(hit[i] == ((MANY_FIRST + i) % 3 == 0), "pid %d reported %d times",
			      MANY_FIRST + i, hit[i]);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* ksm_wait_scans()                                                          */

/*
 * Change a counter in place while the library polls it: write over the old
 * text, then cut the file to the new length. tu_write() truncates first, and
 * a poll that fell between its truncate and its write would read an empty
 * file (-EBADMSG). Returns 0 or -errno; no check assertions (runs in a child).
 */
static int poke(const char *rel, const char *text)
{
	char path[4200];
	size_t len = strlen(text);
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && chmod(path, 0644) == 0) /* a 0444 counter, not root */
		fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, text, len, 0) != (ssize_t)len || ftruncate(fd, (off_t)len) < 0)
		r = -errno;
	close(fd);
	return r;
}

struct step {
	int delay_ms; /* after the previous step */
	const char *rel;
	const char *text;
};

/* Fork a child that performs @steps; returns its pid. */
static pid_t script(const struct step *steps, size_t n)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		for (size_t i = 0; i < n; i++) {
			struct timespec ts = { steps[i].delay_ms / 1000, (steps[i].delay_ms % 1000) * 1000000L };

			nanosleep(&ts, NULL);
			if (poke(steps[i].rel, steps[i].text) < 0)
				_exit(1);
		}
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer failed: %#x", status);
}

#define FULL_SCANS "sys/kernel/mm/ksm/full_scans"
#define RUN "sys/kernel/mm/ksm/run"

START_TEST(wait_not_running)
{
	int64_t t0;

	use("6.18"); /* run 0 */
	t0 = tu_now_ms();
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, -1), -EHOSTDOWN);
	ck_assert_int_eq(ksm_wait_scans(ctx, 5, 1000), -EHOSTDOWN);
	tu_write(root, RUN, "2\n");
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, -1), -EHOSTDOWN);
	ck_assert_int_lt(tu_now_ms() - t0, 100);

	tu_write(root, RUN, "1\n");
	t0 = tu_now_ms();
	ck_assert_int_eq(ksm_wait_scans(ctx, 0, -1), 0);
	ck_assert_int_lt(tu_now_ms() - t0, 100);
	ck_assert_int_eq(ksm_wait_scans(NULL, 1, 0), -EINVAL);
	teardown();

	use("noksm");
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, 100), -ENOENT);
}
END_TEST

/*
 * 6.18-merged (run 1, full_scans 7) with one process that has memory
 * registered, pid 4000: the tree itself has only proc/self, and without a
 * registered process the wait would give up with -ENODATA at once.
 */
static void use_merged_registered(void)
{
	char path[4200];

	use("6.18-merged");
	snprintf(path, sizeof(path), "%s/proc/4000", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	tu_write(root, "proc/4000/comm", "qemu-kvm\n");
	tu_write(root, "proc/4000/ksm_stat",
		 "ksm_rmap_items 1012\nksm_zero_pages 0\nksm_merging_pages 1000\n"
		 "ksm_process_profit 4031232\nksm_merge_any: no\nksm_mergeable: yes\n");
}

START_TEST(wait_timeout)
{
	int64_t t0, elapsed;

	use_merged_registered(); /* nothing changes */
	t0 = tu_now_ms();
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, 200), -ETIMEDOUT);
	elapsed = tu_now_ms() - t0;
	ck_assert_msg(elapsed >= 150 && elapsed <= 400, "timed out after %lld ms", (long long)elapsed);

	t0 = tu_now_ms();
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, 0), -ETIMEDOUT);
	ck_assert_int_lt(tu_now_ms() - t0, 100);
}
END_TEST

static const char *const idle_stat =
	"ksm_rmap_items 0\nksm_zero_pages 0\nksm_merging_pages 0\n"
	"ksm_process_profit 0\nksm_merge_any: no\nksm_mergeable: no\n";

/* 6.18 with run 1 and every process idle except @keep (0: none). */
static void use_idle_6_18(int keep)
{
	char rel[64];

	use("6.18");
	tu_write(root, RUN, "1\n");
	for (size_t i = 0; i < N(procs_6_18); i++) {
		if (procs_6_18[i].pid == keep)
			continue;
		snprintf(rel, sizeof(rel), "proc/%d/ksm_stat", procs_6_18[i].pid);
		tu_write(root, rel, idle_stat);
	}
}

/* With nothing registered no scan would ever come: -ENODATA at once, with or without a timeout. */
START_TEST(wait_nothing_registered)
{
	int64_t t0, elapsed;

	use_idle_6_18(0);
	t0 = tu_now_ms();
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, -1), -ENODATA);
	elapsed = tu_now_ms() - t0;
	ck_assert_msg(elapsed < 300, "-ENODATA (no timeout) after %lld ms", (long long)elapsed);

	t0 = tu_now_ms();
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, 3000), -ENODATA);
	elapsed = tu_now_ms() - t0;
	ck_assert_msg(elapsed < 300, "-ENODATA (timeout 3000 ms) after %lld ms", (long long)elapsed);
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, 0), -ENODATA);
	/* Nothing to wait for is no error. */
	ck_assert_int_eq(ksm_wait_scans(ctx, 0, 3000), 0);
}
END_TEST

/* The last registered process gives up its registration during the wait: -ENODATA soon after. */
START_TEST(wait_registration_ends)
{
	static const struct step steps[] = {
		{ 300, "proc/2002/ksm_stat", "ksm_rmap_items 0\nksm_zero_pages 0\nksm_merging_pages 0\n"
					      "ksm_process_profit 0\nksm_merge_any: no\nksm_mergeable: no\n" },
	};
	int64_t t0, elapsed;
	pid_t pid;

	use_idle_6_18(2002);
	tu_write(root, FULL_SCANS, "0\n");
	t0 = tu_now_ms();
	pid = script(steps, N(steps));
	/* checked about once a second: well before the timeout */
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, 8000), -ENODATA);
	elapsed = tu_now_ms() - t0;
	reap(pid);
	ck_assert_msg(elapsed >= 250 && elapsed < 3000, "-ENODATA after %lld ms", (long long)elapsed);
}
END_TEST

/* One registered process (2002, not scanned yet) keeps the wait going. */
START_TEST(wait_registered_keeps_waiting)
{
	static const struct step steps[] = { { 1300, FULL_SCANS, "1\n" } };
	int64_t t0, elapsed;
	pid_t pid;

	use_idle_6_18(2002);
	tu_write(root, FULL_SCANS, "0\n");
	t0 = tu_now_ms();
	pid = script(steps, N(steps));
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, -1), 0);
	elapsed = tu_now_ms() - t0;
	reap(pid);
	ck_assert_msg(elapsed >= 1250 && elapsed < 3000, "returned after %lld ms", (long long)elapsed);
}
END_TEST

/* Before 5.19 nothing tells whether memory is registered: keep waiting. */
START_TEST(wait_old_kernel_keeps_waiting)
{
	static const struct step steps[] = { { 1300, FULL_SCANS, "1\n" } };
	int64_t t0, elapsed;
	pid_t pid;

	use("4.18");
	tu_write(root, RUN, "1\n");
	t0 = tu_now_ms();
	pid = script(steps, N(steps));
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, -1), 0);
	elapsed = tu_now_ms() - t0;
	reap(pid);
	ck_assert_msg(elapsed >= 1250 && elapsed < 3000, "returned after %lld ms", (long long)elapsed);
}
END_TEST

/* A registered process the caller may not read may be what ksmd scans. */
START_TEST(wait_unreadable_process_keeps_waiting)
{
	static const struct step steps[] = { { 1300, FULL_SCANS, "1\n" } };
	char path[4200];
	pid_t pid;

	use_idle_6_18(2002);
	tu_write(root, FULL_SCANS, "0\n");
	snprintf(path, sizeof(path), "%s/proc/2002/ksm_stat", root);
	ck_assert_int_eq(chmod(path, 0), 0);
	pid = script(steps, N(steps));
	ck_assert_int_eq(as_other_user(unpriv_wait), 0);
	reap(pid);
}
END_TEST

START_TEST(wait_counts_scans)
{
	static const struct step steps[] = {
		{ 100, FULL_SCANS, "6\n" },
		{ 100, FULL_SCANS, "7\n" },
	};
	int64_t t0, elapsed;
	pid_t pid;

	use_merged_registered();
	tu_write(root, FULL_SCANS, "5\n");
	t0 = tu_now_ms();
	pid = script(steps, N(steps));
	ck_assert_int_eq(ksm_wait_scans(ctx, 2, 3000), 0);
	elapsed = tu_now_ms() - t0;
	reap(pid);
	/* It needed both scans, and noticed the second at once. */
	ck_assert_msg(elapsed >= 180 && elapsed < 1000, "returned after %lld ms", (long long)elapsed);

	/* Two more scans do not come: the counter stays at 7. */
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, 150), -ETIMEDOUT);
}
END_TEST

/* run=2 resets full_scans to 0 during the wait: counting starts again from 0. */
START_TEST(wait_reset_counts_from_zero)
{
	static const struct step steps[] = {
		{ 100, FULL_SCANS, "0\n" },
		{ 100, FULL_SCANS, "1\n" },
		{ 100, FULL_SCANS, "2\n" },
	};
	int64_t t0, elapsed;
	pid_t pid;

	use_merged_registered();
	tu_write(root, FULL_SCANS, "40\n");
	t0 = tu_now_ms();
	pid = script(steps, N(steps));
	ck_assert_int_eq(ksm_wait_scans(ctx, 2, 3000), 0);
	elapsed = tu_now_ms() - t0;
	reap(pid);
	ck_assert_msg(elapsed >= 280 && elapsed < 1500, "returned after %lld ms", (long long)elapsed);

	/* The same sequence is two scans, not three: 40 -> 0 is no progress. */
	tu_write(root, FULL_SCANS, "40\n");
	pid = script(steps, N(steps));
	ck_assert_int_eq(ksm_wait_scans(ctx, 3, 800), -ETIMEDOUT);
	reap(pid);
}
END_TEST

START_TEST(wait_run_stops)
{
	static const struct step steps[] = { { 150, RUN, "0\n" } };
	int64_t t0, elapsed;
	pid_t pid;

	use_merged_registered();
	t0 = tu_now_ms();
	pid = script(steps, N(steps));
	ck_assert_int_eq(ksm_wait_scans(ctx, 1, 3000), -EHOSTDOWN);
	elapsed = tu_now_ms() - t0;
	reap(pid);
	ck_assert_msg(elapsed >= 100 && elapsed < 1000, "returned after %lld ms", (long long)elapsed);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *st = tcase_create("stats");
	TCase *fe = tcase_create("foreach");
	TCase *wt = tcase_create("wait");

	tcase_add_checked_fixture(st, NULL, teardown);
	tcase_add_loop_test(st, stats_per_generation, 0, N_TREES);
	tcase_add_test(st, stats_self);
	tcase_add_test(st, stats_line_forms);
	tcase_add_test(st, stats_malformed);
	tcase_add_test(st, stats_no_proc_files);
	tcase_add_test(st, stats_invalid);
	tcase_add_test(st, stats_larger_caller);
	tcase_add_test(st, stats_smaller_caller);
	tcase_add_test(st, stats_permission);
	tcase_add_test(st, comm_read);
	tcase_add_test(st, comm_errors);
	suite_add_tcase(s, st);

	tcase_add_checked_fixture(fe, NULL, teardown);
	tcase_add_loop_test(fe, foreach_reports_active, 0, N_TREES);
	tcase_add_test(fe, foreach_negative_stops);
	tcase_add_test(fe, foreach_positive_stops);
	tcase_add_test(fe, foreach_unsupported);
	tcase_add_test(fe, foreach_many);
	suite_add_tcase(s, fe);

	tcase_add_checked_fixture(wt, NULL, teardown);
	tcase_add_test(wt, wait_not_running);
	tcase_add_test(wt, wait_timeout);
	tcase_add_test(wt, wait_nothing_registered);
	tcase_add_test(wt, wait_registered_keeps_waiting);
	tcase_add_test(wt, wait_registration_ends);
	tcase_add_test(wt, wait_old_kernel_keeps_waiting);
	tcase_add_test(wt, wait_unreadable_process_keeps_waiting);
	tcase_add_test(wt, wait_counts_scans);
	tcase_add_test(wt, wait_reset_counts_from_zero);
	tcase_add_test(wt, wait_run_stops);
	suite_add_tcase(s, wt);
	return s;
}

int main(void)
{
	return tu_run_suite(proc_suite());
}

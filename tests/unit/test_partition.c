// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Selective KSM partitions, without a Selective KSM kernel:
 *  - sysfs: copies of the sksm-rfc fake sysroot, with a thread playing the
 *    RFC kernel's control files (tests/fake_sksm.c); tests assert the exact
 *    bytes written to the exact files;
 *  - syscalls: a seccomp filter traps the configured numbers (467, 468) and
 *    a SIGSYS handler plays ksm_open() and ksm_merge(), checking the
 *    arguments and returning results through the saved registers (x86-64
 *    only), in a forked child per test so that the filter stays there;
 *  - stock kernels: the running kernel's /sys, read only, and the mainline
 *    fake trees: every call is -EOPNOTSUPP.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <ksm.h>

#include "fake_sksm.h"
#include "testutil.h"
#include "trap.h"

#define KSM_REL "sys/kernel/mm/ksm"
#define BIT(k) (UINT64_C(1) << (k))
#define NOBODY 65534

/* The knob files of an RFC partition directory (smart_scan and advisor_* compiled out). */
#define M_PARTITION                                                                              \
	(BIT(KSM_KNOB_RUN) | BIT(KSM_KNOB_PAGES_TO_SCAN) | BIT(KSM_KNOB_SLEEP_MILLISECS) |       \
	 BIT(KSM_KNOB_MERGE_ACROSS_NODES) | BIT(KSM_KNOB_USE_ZERO_PAGES) |                        \
	 BIT(KSM_KNOB_MAX_PAGE_SHARING) | BIT(KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS) |     \
	 BIT(KSM_KNOB_PAGES_SHARED) | BIT(KSM_KNOB_PAGES_SHARING) | BIT(KSM_KNOB_PAGES_UNSHARED) | \
	 BIT(KSM_KNOB_PAGES_VOLATILE) | BIT(KSM_KNOB_PAGES_SCANNED) | BIT(KSM_KNOB_PAGES_SKIPPED) | \
	 BIT(KSM_KNOB_FULL_SCANS) | BIT(KSM_KNOB_STABLE_NODE_CHAINS) |                            \
	 BIT(KSM_KNOB_STABLE_NODE_DUPS) | BIT(KSM_KNOB_KSM_ZERO_PAGES) | BIT(KSM_KNOB_GENERAL_PROFIT))

static char *root;
static struct ksm_ctx *ctx;
static struct fake_sksm *kernel;
static int control_writes; /* writes the fake kernel has to handle so far */

/* ------------------------------------------------------------------------ */
/* Fixture and helpers                                                       */

static void use(const char *tree)
{
	tu_use(tree, &root, &ctx);
}

static void setup_rfc(void)
{
	/* The build option must not leak into these tests. */
	setenv("LIBKSM_SKSM_SYSCALLS", "", 1);
	use("sksm-rfc");
	fake_sksm_modes(root);
	kernel = fake_sksm_start(root);
	control_writes = 0;
}

/* A mainline tree, without the build's syscall numbers. */
static void setup_mainline(void)
{
	setenv("LIBKSM_SKSM_SYSCALLS", "", 1);
	use("6.18");
}

static void teardown(void)
{
	fake_sksm_stop(kernel);
	kernel = NULL;
	tu_unuse(&root, &ctx);
	unsetenv("LIBKSM_SKSM_SYSCALLS");
}

static char *ksm_file(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), KSM_REL "/%s", rel);
	return tu_read(root, path);
}

#define assert_file(rel, expected)                                           \
	do {                                                                 \
		char *_c = ksm_file(rel);                                    \
		ck_assert_str_eq(_c, expected);                              \
		free(_c);                                                    \
	} while (0)

static mode_t file_mode(const char *rel)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/" KSM_REL "/%s", root, rel);
	ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

static bool exists(const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/" KSM_REL "/%s", root, rel);
	return access(path, F_OK) == 0;
}

/* Create @name through the library and the fake kernel. */
static struct ksm_partition *create(const char *name, unsigned int flags, unsigned int mode)
{
	struct ksm_partition *p = NULL;
	int r = ksm_partition_open(ctx, name, KSM_CREAT | flags, mode, &p);

	ck_assert_msg(r == 0, "create %s: %s", name, strerror(-r));
	ck_assert_ptr_nonnull(p);
	fake_sksm_wait(kernel, ++control_writes);
	return p;
}

/* ------------------------------------------------------------------------ */
/* sysfs backend                                                             */

START_TEST(rfc_probe)
{
	struct ksm_stats st;
	uint64_t f;

	ck_assert_int_eq(ksm_partition_backends(ctx), KSM_PARTITION_SYSFS);
	ck_assert_int_eq(ksm_probe_features(ctx, &f), 0);
	ck_assert(f & KSM_FEATURE_SELECTIVE_KSM);
	/* The global files are not at the top level in the RFC layout. */
	ck_assert_int_eq(ksm_stats_read(ctx, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.present, 0);
}
END_TEST

START_TEST(rfc_create)
{
	struct ksm_partition *p = create("vm1", KSM_SYNC | KSM_EXCL, 0640);

	assert_file("control/add_partition", "vm1\n");
	assert_file("control/remove_partition", "");
	ck_assert(exists("vm1/trigger_merge"));
	ck_assert_uint_eq(file_mode("vm1/trigger_merge"), 0640);
	ck_assert_uint_eq(file_mode("vm1/trigger_unmerge"), 0640);
	ck_assert_uint_eq(file_mode("vm1/run"), 0644); /* only the trigger files change */
	ck_assert_str_eq(ksm_partition_get_name(p), "vm1");

	ck_assert_int_eq(ksm_partition_merge(p, 1234, UINT64_C(0x7f0000000000), 0x200000), 0);
	assert_file("vm1/trigger_merge", "1234 7f0000000000 7f0000200000\n");
	/* one lifecycle rule: a reference more, a reference less, the last one frees */
	ck_assert_ptr_eq(ksm_partition_ref(p), p);
	ck_assert_ptr_eq(ksm_partition_unref(p), p);
	ck_assert_int_eq(ksm_partition_merge(p, 1234, 0x1000, 0x1000), 0);
	assert_file("vm1/trigger_merge", "1234 1000 2000\n");
	ck_assert_ptr_null(ksm_partition_unref(p));
	ck_assert_ptr_null(ksm_partition_unref(NULL));
	ck_assert_ptr_null(ksm_partition_ref(NULL));
	ck_assert_str_eq(ksm_partition_get_name(NULL), "");

	/* The longest name: 31 characters, 32 bytes with the newline (< 50). */
	p = create("abcdefghijklmnopqrstuvwxyz01234", 0, 0600);
	assert_file("control/add_partition", "abcdefghijklmnopqrstuvwxyz01234\n");
	ck_assert(exists("abcdefghijklmnopqrstuvwxyz01234/trigger_merge"));
	ksm_partition_unref(p);
}
END_TEST

START_TEST(rfc_create_existing)
{
	struct ksm_partition *p = NULL;

	/* Without KSM_EXCL an existing partition is opened, nothing written, mode kept. */
	ck_assert_int_eq(ksm_partition_open(ctx, "tenant-a", KSM_SYNC | KSM_CREAT, 0600, &p), 0);
	ck_assert_ptr_nonnull(p);
	assert_file("control/add_partition", "");
	ck_assert_uint_eq(file_mode("tenant-a/trigger_merge"), 0644);
	ksm_partition_unref(p);

	p = (struct ksm_partition *)1;
	ck_assert_int_eq(ksm_partition_open(ctx, "tenant-a", KSM_SYNC | KSM_CREAT | KSM_EXCL, 0600, &p),
			 -EEXIST);
	ck_assert_ptr_null(p);
	assert_file("control/add_partition", "");
}
END_TEST

START_TEST(rfc_open_missing)
{
	struct ksm_partition *p = NULL;

	ck_assert_int_eq(ksm_partition_open(ctx, "nope", KSM_SYNC, 0, &p), -ENOENT);
	ck_assert_int_eq(ksm_partition_open(ctx, "nope", 0, 0, &p), -ENOENT);
	ck_assert_ptr_null(p);
	assert_file("control/add_partition", "");
	ck_assert(!exists("nope"));
}
END_TEST

START_TEST(rfc_create_no_directory)
{
	struct ksm_partition *p = NULL;

	/* Nobody plays the kernel: the library gives up after its short wait. */
	fake_sksm_stop(kernel);
	kernel = NULL;
	ck_assert_int_eq(ksm_partition_open(ctx, "lonely", KSM_CREAT, 0600, &p), -EIO);
	ck_assert_ptr_null(p);
	assert_file("control/add_partition", "lonely\n");
}
END_TEST

START_TEST(rfc_merge_unmerge)
{
	struct ksm_partition *p = NULL, *ro = NULL;
	char expect[64];

	ck_assert_int_eq(ksm_partition_open(ctx, "tenant-a", KSM_SYNC, 0, &p), 0);
	ck_assert_int_eq(ksm_partition_merge(p, 4242, 0x1000, 0x3000), 0);
	assert_file("tenant-a/trigger_merge", "4242 1000 4000\n");
	ck_assert_int_eq(ksm_partition_merge(p, 7, UINT64_C(0x7ffffffff000), 0x1000), 0);
	assert_file("tenant-a/trigger_merge", "7 7ffffffff000 800000000000\n");
	/* pid 0 is the caller */
	ck_assert_int_eq(ksm_partition_merge(p, 0, 0x2000, 0x1000), 0);
	snprintf(expect, sizeof(expect), "%d 2000 3000\n", (int)getpid());
	assert_file("tenant-a/trigger_merge", expect);
	/* invalid ranges and pids: nothing written */
	ck_assert_int_eq(ksm_partition_merge(p, 4242, 0x1000, 0), -EINVAL);
	ck_assert_int_eq(ksm_partition_merge(p, 4242, UINT64_MAX, 2), -EINVAL);
	ck_assert_int_eq(ksm_partition_merge(p, -1, 0x1000, 0x1000), -EINVAL);
	ck_assert_int_eq(ksm_partition_merge(NULL, 1, 0x1000, 0x1000), -EINVAL);
	assert_file("tenant-a/trigger_merge", expect);

	/* Whole process: "<pid>\n" to trigger_unmerge. */
	ck_assert_int_eq(ksm_partition_unmerge(p, 4242, 0, 0), 0);
	assert_file("tenant-a/trigger_unmerge", "4242\n");
	ck_assert_int_eq(ksm_partition_unmerge(p, 0, 0, 0), 0);
	snprintf(expect, sizeof(expect), "%d\n", (int)getpid());
	assert_file("tenant-a/trigger_unmerge", expect);
	/* A range is never widened to the whole process. */
	ck_assert_int_eq(ksm_partition_unmerge(p, 4242, 0x1000, 0x1000), -EOPNOTSUPP);
	ck_assert_int_eq(ksm_partition_unmerge(p, 4242, 0, 0x1000), -EOPNOTSUPP);
	ck_assert_int_eq(ksm_partition_unmerge(p, 4242, 0x1000, 0), -EINVAL);
	ck_assert_int_eq(ksm_partition_unmerge(p, -2, 0, 0), -EINVAL);
	assert_file("tenant-a/trigger_unmerge", expect);

	/* Without KSM_SYNC the handle only reads. */
	ck_assert_int_eq(ksm_partition_open(ctx, "tenant-b", 0, 0, &ro), 0);
	ck_assert_int_eq(ksm_partition_merge(ro, 4242, 0x1000, 0x1000), -EBADF);
	ck_assert_int_eq(ksm_partition_unmerge(ro, 4242, 0, 0), -EBADF);
	assert_file("tenant-b/trigger_merge", "");
	assert_file("tenant-b/trigger_unmerge", "");
	ksm_partition_unref(ro);
	ksm_partition_unref(p);
}
END_TEST

START_TEST(rfc_unmerge_missing_file)
{
	struct ksm_partition *p = NULL;
	char path[4096];

	/* A kernel with the merge patches but without trigger_unmerge. */
	snprintf(path, sizeof(path), "%s/" KSM_REL "/tenant-a/trigger_unmerge", root);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(ksm_partition_open(ctx, "tenant-a", KSM_SYNC, 0, &p), 0);
	ck_assert_int_eq(ksm_partition_unmerge(p, 4242, 0, 0), -EOPNOTSUPP);
	ck_assert(!exists("tenant-a/trigger_unmerge"));
	ksm_partition_unref(p);
}
END_TEST

START_TEST(rfc_stats)
{
	struct ksm_stats st;
	struct ksm_partition *p = NULL;
	int64_t v;

	ck_assert_int_eq(ksm_partition_open(ctx, "tenant-a", 0, 0, &p), 0);
	ck_assert_int_eq(ksm_partition_stats_read(p, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.present, M_PARTITION);
	ck_assert_int_eq(st.run, 1);
	ck_assert_int_eq(st.pages_shared, 3);
	ck_assert_int_eq(st.pages_sharing, 120);
	ck_assert_int_eq(st.pages_unshared, 7);
	ck_assert_int_eq(st.pages_volatile, 1);
	ck_assert_int_eq(st.pages_scanned, 4096);
	ck_assert_int_eq(st.full_scans, 2);
	ck_assert_int_eq(st.general_profit, 483136);
	ck_assert_int_eq(st.saved_pages, 120);
	ck_assert_int_eq(st.profit_bytes, 483136);
	ck_assert(st.sharing_ratio == 40.0);
	ck_assert_int_eq(ksm_stats_value(&st, KSM_KNOB_SMART_SCAN, &v), -ENOENT);
	ck_assert_int_eq(ksm_stats_value(&st, KSM_KNOB_PAGES_SHARING, &v), 0);
	ck_assert_int_eq(v, 120);
	/* The same parsing as the global snapshot: bad text is -EBADMSG. */
	tu_write(root, KSM_REL "/tenant-a/pages_shared", "x\n");
	ck_assert_int_eq(ksm_partition_stats_read(p, &st, sizeof(st)), -EBADMSG);
	ck_assert_int_eq(ksm_partition_stats_read(p, NULL, sizeof(st)), -EINVAL);
	ck_assert_int_eq(ksm_partition_stats_read(NULL, &st, sizeof(st)), -EINVAL);
	ck_assert_int_eq(ksm_partition_stats_read(p, &st, sizeof(st.present) - 1), -EINVAL);
	ksm_partition_unref(p);

	/* A fresh partition reads as the fake kernel made it. */
	p = create("fresh", 0, 0600);
	memset(&st, 0xa5, sizeof(st));
	ck_assert_int_eq(ksm_partition_stats_read(p, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.present, M_PARTITION);
	ck_assert_int_eq(st.pages_to_scan, 100);
	ck_assert_int_eq(st.pages_sharing, 0);
	ksm_partition_unref(p);
}
END_TEST

struct names {
	char buf[512];
	int stop_after; /* return 1 after this many; 0: never */
	int fail_with;
	int n;
};

static int collect(const char *name, void *data)
{
	struct names *nm = data;

	strcat(nm->buf, name);
	strcat(nm->buf, ",");
	nm->n++;
	if (nm->fail_with)
		return nm->fail_with;
	return nm->stop_after && nm->n >= nm->stop_after ? 1 : 0;
}

START_TEST(rfc_list)
{
	struct names nm = { 0 };
	char path[4096];

	ck_assert_int_eq(ksm_partition_foreach(ctx, collect, &nm), 2);
	ck_assert_str_eq(nm.buf, "tenant-a,tenant-b,");

	/* Neither a stray file nor a directory without trigger_merge is a partition. */
	tu_write(root, KSM_REL "/future_knob", "0\n");
	snprintf(path, sizeof(path), "%s/" KSM_REL "/not-a-partition", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ksm_partition_unref(create("a0", 0, 0600));
	memset(&nm, 0, sizeof(nm));
	ck_assert_int_eq(ksm_partition_foreach(ctx, collect, &nm), 3);
	ck_assert_str_eq(nm.buf, "a0,tenant-a,tenant-b,");

	memset(&nm, 0, sizeof(nm));
	nm.stop_after = 2;
	ck_assert_int_eq(ksm_partition_foreach(ctx, collect, &nm), 2);
	ck_assert_str_eq(nm.buf, "a0,tenant-a,");
	memset(&nm, 0, sizeof(nm));
	nm.fail_with = -ECANCELED;
	ck_assert_int_eq(ksm_partition_foreach(ctx, collect, &nm), -ECANCELED);
	ck_assert_int_eq(nm.n, 1);
	ck_assert_int_eq(ksm_partition_foreach(ctx, NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(rfc_remove)
{
	struct ksm_stats st;
	struct ksm_partition *p = NULL;

	ck_assert_int_eq(ksm_partition_open(ctx, "tenant-b", KSM_SYNC, 0, &p), 0);

	/* Removal unmerges everything on this kernel: refused without consent. */
	ck_assert_int_eq(ksm_partition_unlink(ctx, "tenant-b", 0), -EBUSY);
	assert_file("control/remove_partition", "");
	ck_assert_int_eq(ksm_partition_unlink(ctx, "tenant-b", 0x80), -EINVAL);

	ck_assert_int_eq(ksm_partition_unlink(ctx, "tenant-b", KSM_UNLINK_ALLOW_UNMERGE), 0);
	assert_file("control/remove_partition", "tenant-b\n");
	fake_sksm_wait(kernel, ++control_writes);
	ck_assert(!exists("tenant-b"));

	/* The handle still refers to the removed partition, not to its name. */
	ck_assert_int_eq(ksm_partition_merge(p, 4242, 0x1000, 0x1000), -ENOENT);
	ck_assert_int_eq(ksm_partition_unmerge(p, 4242, 0, 0), -ENOENT);
	ck_assert_int_eq(ksm_partition_stats_read(p, &st, sizeof(st)), -ENOENT);
	ksm_partition_unref(p);

	ck_assert_int_eq(ksm_partition_open(ctx, "tenant-b", 0, 0, &p), -ENOENT);
	ck_assert_int_eq(ksm_partition_unlink(ctx, "tenant-b", KSM_UNLINK_ALLOW_UNMERGE), -ENOENT);
	ck_assert_int_eq(ksm_partition_unlink(ctx, "control", KSM_UNLINK_ALLOW_UNMERGE), -EINVAL);
	ck_assert_int_eq(ksm_partition_unlink(ctx, "run", KSM_UNLINK_ALLOW_UNMERGE), -EINVAL);
	assert_file("control/remove_partition", "tenant-b\n");

	/* A recreated partition is a new one. */
	ksm_partition_unref(create("tenant-b", 0, 0600));
	ck_assert(exists("tenant-b/trigger_merge"));
}
END_TEST

START_TEST(rfc_names)
{
	static const char *const bad[] = {
		"", ".hidden", "-x", "a/b", "a b", "tab\there", "new\nline", "caf\xc3\xa9", "a:b",
		"control", "partition", "run", "pages_shared", "pages_to_scan", "general_profit",
		"advisor_mode",
	};
	struct ksm_partition *p = NULL;
	char path[4096];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(ksm_partition_name_check(bad[i]) == -EINVAL, "'%s' accepted", bad[i]);
		ck_assert_int_eq(ksm_partition_open(ctx, bad[i], KSM_CREAT, 0600, &p), -EINVAL);
	}
	ck_assert_int_eq(ksm_partition_name_check(NULL), -EINVAL);
	ck_assert_int_eq(ksm_partition_name_check("abcdefghijklmnopqrstuvwxyz012345"), -ENAMETOOLONG);
	ck_assert_int_eq(ksm_partition_open(ctx, "abcdefghijklmnopqrstuvwxyz012345", KSM_CREAT, 0600, &p),
			 -ENAMETOOLONG);
	/* 49 characters + newline would reach the kernel's 50-byte limit. */
	ck_assert_int_eq(ksm_partition_name_check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
			 -ENAMETOOLONG);
	ck_assert_int_eq(ksm_partition_name_check("abcdefghijklmnopqrstuvwxyz01234"), 0);
	ck_assert_int_eq(ksm_partition_name_check("vm-1.2_X"), 0);
	ck_assert_int_eq(ksm_partition_name_check("Run"), 0);
	ck_assert_int_eq(ksm_partition_name_check("a"), 0);

	/* Entries of the KSM directory that are no partitions. */
	tu_write(root, KSM_REL "/future_knob", "0\n");
	snprintf(path, sizeof(path), "%s/" KSM_REL "/not-a-partition", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_eq(ksm_partition_open(ctx, "future_knob", KSM_CREAT, 0600, &p), -EINVAL);
	ck_assert_int_eq(ksm_partition_open(ctx, "not-a-partition", KSM_CREAT, 0600, &p), -EINVAL);
	ck_assert_int_eq(ksm_partition_open(ctx, "not-a-partition", 0, 0, &p), -EINVAL);
	ck_assert_int_eq(ksm_partition_unlink(ctx, "future_knob", KSM_UNLINK_ALLOW_UNMERGE), -EINVAL);
	ck_assert_ptr_null(p);

	/* Nothing reached the kernel. */
	assert_file("control/add_partition", "");
	assert_file("control/remove_partition", "");
}
END_TEST

START_TEST(rfc_arguments)
{
	struct ksm_partition *p = NULL;

	ck_assert_int_eq(ksm_partition_open(ctx, "x", KSM_EXCL, 0600, &p), -EINVAL);
	ck_assert_int_eq(ksm_partition_open(ctx, "x", 1u << 7, 0600, &p), -EINVAL);
	ck_assert_int_eq(ksm_partition_open(ctx, "x", KSM_CREAT, 01777, &p), -EINVAL);
	ck_assert_int_eq(ksm_partition_open(ctx, "x", KSM_CREAT, 04600, &p), -EINVAL);
	ck_assert_int_eq(ksm_partition_open(ctx, NULL, KSM_CREAT, 0600, &p), -EINVAL);
	ck_assert_int_eq(ksm_partition_open(NULL, "x", KSM_CREAT, 0600, &p), -EINVAL);
	ck_assert_int_eq(ksm_partition_open(ctx, "x", KSM_CREAT, 0600, NULL), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(ksm_partition_backends(NULL), -EINVAL);
	ck_assert_int_eq(ksm_partition_unlink(NULL, "x", 0), -EINVAL);
	ck_assert_int_eq(ksm_partition_foreach(NULL, collect, NULL), -EINVAL);
	assert_file("control/add_partition", "");
}
END_TEST

/* In a child (trap_in_child()): CHECK failures print and exit 1. */
static void as_nobody(void)
{
	struct ksm_stats st;
	struct ksm_partition *p = NULL;
	struct ksm_ctx *c = NULL;

	CHECK(setgroups(0, NULL) == 0 && setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
	CHECK_EQ(ksm_new_at(&c, root), 0);
	/* 0666: nobody may merge into "shared" ... */
	CHECK_EQ(ksm_partition_open(c, "shared", KSM_SYNC, 0, &p), 0);
	CHECK_EQ(ksm_partition_merge(p, 4242, 0x1000, 0x1000), 0);
	CHECK_EQ(ksm_partition_unmerge(p, 4242, 0, 0), 0);
	ksm_partition_unref(p);
	/* ... and into nothing else. */
	CHECK_EQ(ksm_partition_open(c, "private", KSM_SYNC, 0, &p), -EACCES);
	CHECK_EQ(ksm_partition_open(c, "tenant-a", KSM_SYNC, 0, &p), -EACCES);
	/* Statistics are for everyone, as the kernel's files are. */
	CHECK_EQ(ksm_partition_open(c, "private", 0, 0, &p), 0);
	CHECK_EQ(ksm_partition_merge(p, 4242, 0x1000, 0x1000), -EBADF);
	CHECK_EQ(ksm_partition_stats_read(p, &st, sizeof(st)), 0);
	ksm_partition_unref(p);
	/* Creating and removing need root (the control files). */
	CHECK_EQ(ksm_partition_open(c, "mine", KSM_SYNC | KSM_CREAT, 0666, &p), -EACCES);
	CHECK_EQ(ksm_partition_unlink(c, "shared", KSM_UNLINK_ALLOW_UNMERGE), -EACCES);
	ksm_unref(c);
}

START_TEST(rfc_permissions)
{
	if (geteuid() != 0) {
		printf("rfc_permissions: skipped, needs root to switch to nobody\n");
		return;
	}
	ksm_partition_unref(create("shared", 0, 0666));
	ksm_partition_unref(create("private", 0, 0600));
	ck_assert_uint_eq(file_mode("shared/trigger_merge"), 0666);
	ck_assert_uint_eq(file_mode("private/trigger_unmerge"), 0600);
	fake_sksm_open_up(root);

	ck_assert_int_eq(trap_in_child(as_nobody), 0);
	assert_file("shared/trigger_merge", "4242 1000 2000\n");
	assert_file("shared/trigger_unmerge", "4242\n");
	assert_file("private/trigger_merge", "");
	assert_file("tenant-a/trigger_merge", "");
	assert_file("control/add_partition", "private\n");
	assert_file("control/remove_partition", "");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Syscall backend, trapped with seccomp                                     */

#define NR_OPEN 467
#define NR_MERGE 468

#if defined(__x86_64__)

/* The fake kernel of the handler: partitions by name, descriptors to partitions. */
static struct {
	char names[8][129];
	int nparts;
	int fds[16];
	int fd_part[16];
	int nfds;
	int devnull;
	long force; /* non-zero: the next call returns this */
	struct call {
		long nr;
		long a[4];
		char name[129];
	} calls[16];
	int ncalls;
} k;

static long k_open(const char *uname, long flags)
{
	size_t len = strnlen(uname, 129);
	int part = -1;

	if (len > 128)
		return -ENAMETOOLONG;
	for (int i = 0; i < k.nparts; i++)
		if (strcmp(k.names[i], uname) == 0)
			part = i;
	/* As the RFC: O_EXCL is checked even without O_CREAT. */
	if (part >= 0 && (flags & O_EXCL))
		return -EEXIST;
	if (part < 0) {
		if (!(flags & O_CREAT))
			return -ENOENT;
		if (k.nparts == 8)
			return -ENOMEM;
		part = k.nparts++;
		memcpy(k.names[part], uname, len + 1);
	}
	if (k.nfds == 16)
		return -EMFILE;
	/* No O_CLOEXEC, as get_unused_fd_flags(O_RDWR). */
	int fd = fcntl(k.devnull, F_DUPFD, 10);
	if (fd < 0)
		return -errno;
	k.fds[k.nfds] = fd;
	k.fd_part[k.nfds++] = part;
	return fd;
}

static long k_merge(long fd, long pid, unsigned long start, unsigned long size)
{
	int found = 0;

	for (int i = 0; i < k.nfds; i++)
		if (k.fds[i] == fd)
			found = 1;
	if (!found)
		return -EBADF;
	if (start >= start + size)
		return -EINVAL;
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return -ESRCH;
	return 0;
}

static void sigsys(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	int saved = errno;
	long ret;
	struct call *c = &k.calls[k.ncalls < 16 ? k.ncalls++ : 15];

	(void)sig;
	c->nr = si->si_syscall;
	c->a[0] = g[REG_RDI];
	c->a[1] = g[REG_RSI];
	c->a[2] = g[REG_RDX];
	c->a[3] = g[REG_R10];
	if (c->nr == NR_OPEN) {
		const char *uname = (const char *)c->a[0];
		size_t len = strnlen(uname, sizeof(c->name) - 1);
		memcpy(c->name, uname, len);
		c->name[len] = '\0';
	}
	if (k.force) {
		ret = k.force;
		k.force = 0;
	} else if (c->nr == NR_OPEN) {
		ret = k_open((const char *)c->a[0], c->a[1]);
	} else if (c->nr == NR_MERGE) {
		ret = k_merge(c->a[0], c->a[1], (unsigned long)c->a[2], (unsigned long)c->a[3]);
	} else {
		ret = -ENOSYS;
	}
	g[REG_RAX] = ret;
	errno = saved;
}

/* In the child: configure 467,468 and trap them. */
static void trap_sksm(void)
{
	memset(&k, 0, sizeof(k));
	k.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(k.devnull >= 0);
	CHECK(setenv("LIBKSM_SKSM_SYSCALLS", "467,468", 1) == 0);
	trap_syscalls(NR_OPEN, NR_MERGE, sigsys);
}

static void child_open(void)
{
	struct ksm_partition *p = NULL, *q = NULL;
	int fd;

	trap_sksm();
	CHECK_EQ(ksm_partition_backends(ctx), KSM_PARTITION_SYSFS | KSM_PARTITION_SYSCALL);

	/* KSM_CREAT|KSM_EXCL become O_CREAT|O_EXCL; the name is passed as a string. */
	CHECK_EQ(ksm_partition_open(ctx, "vm1", KSM_SYNC | KSM_CREAT | KSM_EXCL, 0, &p), 0);
	CHECK_EQ(k.ncalls, 1);
	CHECK_EQ(k.calls[0].nr, NR_OPEN);
	CHECK(strcmp(k.calls[0].name, "vm1") == 0);
	CHECK_EQ(k.calls[0].a[1], O_CREAT | O_EXCL);
	fd = k.fds[0];
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK(strcmp(ksm_partition_get_name(p), "vm1") == 0);

	/* The kernel's errors. */
	CHECK_EQ(ksm_partition_open(ctx, "vm1", KSM_SYNC | KSM_CREAT | KSM_EXCL, 0, &q), -EEXIST);
	CHECK_EQ(ksm_partition_open(ctx, "nope", KSM_SYNC, 0, &q), -ENOENT);
	CHECK_EQ(k.calls[2].a[1], 0);
	CHECK_EQ(ksm_partition_open(ctx, "vm1", 0, 0, &q), 0);
	CHECK_EQ(k.calls[3].a[1], 0);
	ksm_partition_unref(q);
	CHECK_EQ(ksm_partition_open(ctx, "vm2", KSM_CREAT, 0, &q), 0);
	CHECK_EQ(k.calls[4].a[1], O_CREAT);
	ksm_partition_unref(q);
	CHECK_EQ(k.ncalls, 5);

	/* ksm_open() has no mode: a mode cannot be honoured, nothing is called. */
	CHECK_EQ(ksm_partition_open(ctx, "vm3", KSM_CREAT, 0600, &q), -EOPNOTSUPP);
	CHECK_EQ(k.ncalls, 5);
	/* Validation before the kernel. */
	CHECK_EQ(ksm_partition_open(ctx, "run", KSM_CREAT, 0, &q), -EINVAL);
	CHECK_EQ(ksm_partition_open(ctx, "abcdefghijklmnopqrstuvwxyz012345", KSM_CREAT, 0, &q),
		 -ENAMETOOLONG);
	CHECK_EQ(k.ncalls, 5);
	/* A kernel without the numbers. */
	k.force = -ENOSYS;
	CHECK_EQ(ksm_partition_open(ctx, "vm4", KSM_CREAT, 0, &q), -EOPNOTSUPP);
	/* Mainline's call of that number (open_tree_attr) faults on our arguments. */
	k.force = -EFAULT;
	CHECK_EQ(ksm_partition_open(ctx, "vm4", KSM_CREAT, 0, &q), -EOPNOTSUPP);

	/* Not the sysfs interface: nothing written there. */
	{
		char *c = ksm_file("control/add_partition");
		CHECK(strcmp(c, "") == 0);
		free(c);
	}
	ksm_partition_unref(p);
	CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF);
}

START_TEST(syscall_open)
{
	ck_assert_int_eq(trap_run("syscall_open", child_open), 0);
}
END_TEST

static void child_merge(void)
{
	struct ksm_partition *p = NULL, *ro = NULL;
	int fd;

	trap_sksm();
	CHECK_EQ(ksm_partition_open(ctx, "vm1", KSM_SYNC | KSM_CREAT, 0, &p), 0);
	fd = k.fds[0];

	/* fd, pid, start and size, unchanged. */
	CHECK_EQ(ksm_partition_merge(p, getppid(), UINT64_C(0x7f0000001000), 0x2000), 0);
	CHECK_EQ(k.calls[1].nr, NR_MERGE);
	CHECK_EQ(k.calls[1].a[0], fd);
	CHECK_EQ(k.calls[1].a[1], getppid());
	CHECK_EQ(k.calls[1].a[2], 0x7f0000001000L);
	CHECK_EQ(k.calls[1].a[3], 0x2000);

	/* pid 0 is the caller. */
	CHECK_EQ(ksm_partition_merge(p, 0, 0x1000, 0x1000), 0);
	CHECK_EQ(k.calls[2].a[1], getpid());

	/* Errors as the kernel gives them: a pid above any pid_max ... */
	CHECK_EQ(ksm_partition_merge(p, 0x3fffffff, 0x1000, 0x1000), -ESRCH);
	CHECK_EQ(k.calls[3].a[1], 0x3fffffff);
	k.force = -EINVAL;
	CHECK_EQ(ksm_partition_merge(p, 0, 0x1000, 0x1000), -EINVAL);
	k.force = -ENOSYS;
	CHECK_EQ(ksm_partition_merge(p, 0, 0x1000, 0x1000), -EOPNOTSUPP);
	k.force = -EFAULT;
	CHECK_EQ(ksm_partition_merge(p, 0, 0x1000, 0x1000), -EOPNOTSUPP);
	k.nfds = 0; /* the kernel no longer knows the descriptor */
	CHECK_EQ(ksm_partition_merge(p, 0, 0x1000, 0x1000), -EBADF);
	CHECK_EQ(k.ncalls, 8);

	/* Checked before the kernel. */
	CHECK_EQ(ksm_partition_merge(p, 0, 0x1000, 0), -EINVAL);
	CHECK_EQ(ksm_partition_merge(p, -5, 0x1000, 0x1000), -EINVAL);
	CHECK_EQ(ksm_partition_merge(p, 0, UINT64_MAX, 2), -EINVAL);
	CHECK_EQ(ksm_partition_open(ctx, "vm1", 0, 0, &ro), 0);
	CHECK_EQ(ksm_partition_merge(ro, 0, 0x1000, 0x1000), -EBADF);
	CHECK_EQ(k.ncalls, 9); /* only the open */
	ksm_partition_unref(ro);

	/* No unmerge, no statistics, no unlink or list by the syscalls. */
	{
		struct ksm_stats st;
		CHECK_EQ(ksm_partition_unmerge(p, 0, 0, 0), -EOPNOTSUPP);
		CHECK_EQ(ksm_partition_unmerge(p, 0, 0x1000, 0x1000), -EOPNOTSUPP);
		CHECK_EQ(ksm_partition_stats_read(p, &st, sizeof(st)), -EOPNOTSUPP);
	}
	CHECK_EQ(k.ncalls, 9);
	ksm_partition_unref(p);
}

START_TEST(syscall_merge)
{
	ck_assert_int_eq(trap_run("syscall_merge", child_merge), 0);
}
END_TEST

static void child_syscall_only(void)
{
	struct ksm_partition *p = NULL;

	trap_sksm();
	/* A mainline tree: only the configured syscalls. */
	CHECK_EQ(ksm_partition_backends(ctx), KSM_PARTITION_SYSCALL);
	CHECK_EQ(ksm_partition_open(ctx, "vm1", KSM_SYNC | KSM_CREAT, 0, &p), 0);
	CHECK_EQ(ksm_partition_unlink(ctx, "vm1", KSM_UNLINK_ALLOW_UNMERGE), -EOPNOTSUPP);
	CHECK_EQ(ksm_partition_foreach(ctx, collect, &(struct names){ 0 }), -EOPNOTSUPP);
	CHECK_EQ(k.ncalls, 1);
	ksm_partition_unref(p);
}

START_TEST(syscall_only)
{
	ck_assert_int_eq(trap_run("syscall_only", child_syscall_only), 0);
}
END_TEST

#else

START_TEST(syscall_open)
{
	printf("syscall tests: skipped, the SIGSYS handler knows only x86-64 registers\n");
}
END_TEST

START_TEST(syscall_merge)
{
	printf("syscall tests: skipped, the SIGSYS handler knows only x86-64 registers\n");
}
END_TEST

START_TEST(syscall_only)
{
	printf("syscall tests: skipped, the SIGSYS handler knows only x86-64 registers\n");
}
END_TEST

#endif

START_TEST(syscall_config)
{
	struct ksm_partition *p = NULL;
	struct ksm_ctx *plain = NULL;
	char *copy = tu_sysroot_copy("6.18");
	static const char *const bad[] = { "467", "467,", ",468", "a,b", "467,467", " 467,468",
					   "467;468", "-1,468", "467,468,469", "99999999999,1" };

	ck_assert_int_eq(ksm_new_at(&plain, copy), 0);
	setenv("LIBKSM_SKSM_SYSCALLS", "467,468", 1);
	ck_assert_int_eq(ksm_partition_backends(ctx), KSM_PARTITION_SYSFS | KSM_PARTITION_SYSCALL);
	ck_assert_int_eq(ksm_partition_backends(plain), KSM_PARTITION_SYSCALL);
	/* Empty: no syscalls, whatever the build says. */
	setenv("LIBKSM_SKSM_SYSCALLS", "", 1);
	ck_assert_int_eq(ksm_partition_backends(ctx), KSM_PARTITION_SYSFS);
	ck_assert_int_eq(ksm_partition_backends(plain), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("LIBKSM_SKSM_SYSCALLS", bad[i], 1);
		ck_assert_msg(ksm_partition_backends(ctx) == -EINVAL, "'%s' accepted", bad[i]);
		ck_assert_int_eq(ksm_partition_open(ctx, "tenant-a", 0, 0, &p), -EINVAL);
	}
	ck_assert_ptr_null(p);
	ksm_unref(plain);
	tu_rmtree(copy);
	free(copy);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Kernels without Selective KSM                                             */

static void assert_unsupported(struct ksm_ctx *c)
{
	struct ksm_partition *p = NULL;
	struct names nm = { 0 };

	ck_assert_int_eq(ksm_partition_backends(c), 0);
	ck_assert_int_eq(ksm_partition_open(c, "x", KSM_SYNC | KSM_CREAT, 0600, &p), -EOPNOTSUPP);
	ck_assert_int_eq(ksm_partition_open(c, "x", KSM_SYNC | KSM_CREAT | KSM_EXCL, 0, &p), -EOPNOTSUPP);
	ck_assert_int_eq(ksm_partition_open(c, "x", 0, 0, &p), -EOPNOTSUPP);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(ksm_partition_unlink(c, "x", KSM_UNLINK_ALLOW_UNMERGE), -EOPNOTSUPP);
	ck_assert_int_eq(ksm_partition_unlink(c, "x", 0), -EOPNOTSUPP);
	ck_assert_int_eq(ksm_partition_foreach(c, collect, &nm), -EOPNOTSUPP);
	ck_assert_int_eq(nm.n, 0);
}

START_TEST(stock_trees)
{
	static const char *const trees[] = { "2.6.32", "6.18", "nonuma-6.18", "noksm" };

	setenv("LIBKSM_SKSM_SYSCALLS", "", 1);
	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
		char *copy = tu_sysroot_copy(trees[i]);
		struct ksm_ctx *c = NULL;

		ck_assert_int_eq(ksm_new_at(&c, copy), 0);
		assert_unsupported(c);
		ksm_unref(c);
		tu_rmtree(copy);
		free(copy);
	}
	unsetenv("LIBKSM_SKSM_SYSCALLS");
}
END_TEST

START_TEST(stock_live)
{
	struct ksm_ctx *c = NULL;

	/* The running kernel, read only: nothing is written on a stock kernel. */
	setenv("LIBKSM_SKSM_SYSCALLS", "", 1);
	ck_assert_int_eq(ksm_new_at(&c, "/"), 0);
	if (ksm_partition_backends(c) != 0) {
		printf("stock_live: skipped, this kernel has Selective KSM\n");
	} else {
		assert_unsupported(c);
	}
	ksm_unref(c);
	unsetenv("LIBKSM_SKSM_SYSCALLS");
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *partition_suite(void)
{
	Suite *s = suite_create("partition");
	TCase *tc;

	tc = tcase_create("sysfs");
	tcase_add_checked_fixture(tc, setup_rfc, teardown);
	tcase_add_test(tc, rfc_probe);
	tcase_add_test(tc, rfc_create);
	tcase_add_test(tc, rfc_create_existing);
	tcase_add_test(tc, rfc_open_missing);
	tcase_add_test(tc, rfc_create_no_directory);
	tcase_add_test(tc, rfc_merge_unmerge);
	tcase_add_test(tc, rfc_unmerge_missing_file);
	tcase_add_test(tc, rfc_stats);
	tcase_add_test(tc, rfc_list);
	tcase_add_test(tc, rfc_remove);
	tcase_add_test(tc, rfc_names);
	tcase_add_test(tc, rfc_arguments);
	tcase_add_test(tc, rfc_permissions);
	suite_add_tcase(s, tc);

	tc = tcase_create("syscall");
	tcase_add_checked_fixture(tc, setup_rfc, teardown);
	tcase_add_test(tc, syscall_open);
	tcase_add_test(tc, syscall_merge);
	tcase_add_test(tc, syscall_config);
	suite_add_tcase(s, tc);

	tc = tcase_create("syscall-only");
	tcase_add_checked_fixture(tc, setup_mainline, teardown);
	tcase_add_test(tc, syscall_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("stock");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, stock_trees);
	tcase_add_test(tc, stock_live);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(partition_suite());
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-process KSM figures: /proc/PID/ksm_stat (6.1+), with a fallback to
 * /proc/PID/ksm_merging_pages (5.19 to 6.0), and the walk over all
 * processes. Paths are relative to the context's system root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* signed: the kernel prints a signed type (a profit, an atomic_long_t). */
static const struct {
	const char *key;
	uint32_t bit;
	size_t offset;
	bool is_signed;
} proc_fields[] = {
	{ "ksm_rmap_items", KSM_PROC_RMAP_ITEMS, offsetof(struct ksm_proc_stats, ksm_rmap_items), false },
	{ "ksm_zero_pages", KSM_PROC_ZERO_PAGES, offsetof(struct ksm_proc_stats, ksm_zero_pages), true },
	{ "ksm_merging_pages", KSM_PROC_MERGING_PAGES,
	  offsetof(struct ksm_proc_stats, ksm_merging_pages), false },
	{ "ksm_process_profit", KSM_PROC_PROCESS_PROFIT,
	  offsetof(struct ksm_proc_stats, ksm_process_profit), true },
	{ "ksm_merge_any", KSM_PROC_MERGE_ANY, offsetof(struct ksm_proc_stats, ksm_merge_any), false },
	{ "ksm_mergeable", KSM_PROC_MERGEABLE, offsetof(struct ksm_proc_stats, ksm_mergeable), false },
};

/* What a failed read was about, for the message of ksm_strerror(). */
struct proc_err {
	const char *file; /* the file that failed: "ksm_stat" or "ksm_merging_pages" */
	bool too_long;    /* -EBADMSG: the file is longer than the library reads */
	char text[256];   /* -EBADMSG: the text that cannot be parsed, escaped */
};

/*
 * Parse ksm_stat: "key value" and "key: value" lines (the kernel mixes both),
 * numbers or yes/no. Unknown keys are skipped so that newer kernels do not
 * break older libraries.
 */
static int parse_ksm_stat(char *text, struct ksm_proc_stats *st, struct proc_err *err)
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t klen = strcspn(line, ": \t");
		char *val = line + klen;
		int64_t v;

		val += strspn(val, ": \t");
		if (klen == 0 || !*val)
			continue;
		val[strcspn(val, " \t")] = '\0';
		for (size_t i = 0; i < KSM_ARRAY_SIZE(proc_fields); i++) {
			if (strlen(proc_fields[i].key) != klen || strncmp(line, proc_fields[i].key, klen))
				continue;
			if (strcmp(val, "yes") == 0) {
				v = 1;
			} else if (strcmp(val, "no") == 0) {
				v = 0;
			} else if (ksm_parse_int64(val, &v) < 0 || (v < 0 && !proc_fields[i].is_signed)) {
				if (err)
					snprintf(err->text, sizeof(err->text), "%s %s",
						 ksm_escape(line, klen > 30 ? 30 : klen,
							    (char[128]){ 0 }, 128),
						 ksm_escape(val, 40, (char[192]){ 0 }, 192));
				return -EBADMSG;
			}
			*(int64_t *)((char *)st + proc_fields[i].offset) = v;
			st->present |= proc_fields[i].bit;
			break;
		}
	}
	return 0;
}

enum proc_source { SRC_UNKNOWN, SRC_KSM_STAT, SRC_MERGING_PAGES, SRC_NONE };

/* Which file this kernel has, judged on the calling process's own entry. */
static enum proc_source proc_source(int procfd)
{
	if (faccessat(procfd, "self/ksm_stat", F_OK, 0) == 0)
		return SRC_KSM_STAT;
	if (faccessat(procfd, "self/ksm_merging_pages", F_OK, 0) == 0)
		return SRC_MERGING_PAGES;
	return SRC_NONE;
}

/*
 * Read the figures of "<pid>" (a name below procfd) from @src. Only what the
 * files say: the derived figures are left 0. @err, if not NULL, receives
 * what a failure was about.
 */
static int read_proc(int procfd, const char *pid, enum proc_source src, struct ksm_proc_stats *st,
		     struct proc_err *err)
{
	const char *file = src == SRC_KSM_STAT ? "ksm_stat" : "ksm_merging_pages";
	char path[64], buf[4096];
	int r;

	memset(st, 0, sizeof(*st));
	if (err) {
		err->file = file;
		err->too_long = false;
	}
	snprintf(path, sizeof(path), "%s/%s", pid, file);
	r = ksm_read_whole_at(procfd, path, buf, sizeof(buf));
	if (r == -EBADMSG && err) {
		err->too_long = true;
		snprintf(err->text, sizeof(err->text), "%zu", sizeof(buf) - 1);
	}
	if (r == -ENOENT) {
		snprintf(path, sizeof(path), "%s", pid);
		return faccessat(procfd, path, F_OK, 0) == 0 ? -EOPNOTSUPP : -ESRCH;
	}
	if (r < 0)
		return r == -EPERM ? -EACCES : r;
	if (src == SRC_KSM_STAT) {
		struct ksm_proc_stats m;

		r = parse_ksm_stat(buf, st, err);
		if (r < 0 || !st->present || (st->present & KSM_PROC_MERGING_PAGES))
			return r;
		/* 6.1 to 6.3: ksm_stat has only ksm_rmap_items; the merged pages are apart. */
		if (read_proc(procfd, pid, SRC_MERGING_PAGES, &m, NULL) == 0 &&
		    (m.present & KSM_PROC_MERGING_PAGES)) {
			st->ksm_merging_pages = m.ksm_merging_pages;
			st->present |= KSM_PROC_MERGING_PAGES;
		}
		return 0;
	}

	buf[strcspn(buf, "\n")] = '\0';
	if (!buf[0])
		return 0; /* no mm */
	if (ksm_parse_int64(buf, &st->ksm_merging_pages) < 0 || st->ksm_merging_pages < 0) {
		if (err)
			ksm_escape(buf, 60, err->text, sizeof(err->text));
		return -EBADMSG;
	}
	st->present = KSM_PROC_MERGING_PAGES;
	return 0;
}

/*
 * The figures of "<pid>" below @procfd as the files say them, without the
 * derived ones: ksm_stat, else ksm_merging_pages. present = 0: the process
 * has no memory (a kernel thread, a zombie). Allocates nothing (the tuner).
 */
int ksm_proc_read_at(int procfd, const char *pid, struct ksm_proc_stats *st)
{
	int r = read_proc(procfd, pid, SRC_KSM_STAT, st, NULL);

	if (r == -EOPNOTSUPP)
		r = read_proc(procfd, pid, SRC_MERGING_PAGES, st, NULL);
	return r;
}

/*
 * The derived figures, with the kernel's own formula for the profit
 * (Documentation/admin-guide/mm/ksm.rst, "Monitoring KSM profit") where
 * ksm_stat lacks ksm_process_profit. Fields the kernel lacks are 0.
 */
static void derive(struct ksm_proc_stats *st, long page_size)
{
	/* Saturating: the figures come from files that may hold anything. */
	st->saved_bytes = ksm_mul_sat(ksm_add_sat(st->ksm_merging_pages, st->ksm_zero_pages),
				      (int64_t)page_size);
	if (st->present & KSM_PROC_PROCESS_PROFIT)
		st->profit_bytes = st->ksm_process_profit;
	else
		st->profit_bytes = ksm_sub_sat(st->saved_bytes,
					       ksm_mul_sat(st->ksm_rmap_items, RMAP_ITEM_SIZE));
}

/*
 * Hand @s to a caller whose struct is @size bytes, with the rules of
 * ksm_stats_read(): exactly @size bytes are written; fields the caller does
 * not have are not marked present; bytes the library does not know are 0.
 */
static void copy_out(struct ksm_proc_stats *s, struct ksm_proc_stats *st, size_t size)
{
	for (size_t i = 0; i < KSM_ARRAY_SIZE(proc_fields); i++)
		if (proc_fields[i].offset + sizeof(int64_t) > size)
			s->present &= ~(uint64_t)proc_fields[i].bit;
	ksm_copy_out(st, size, s, sizeof(*s));
}

/* Length of the system root without trailing slashes: paths print as "%.*s/proc/...". */
static int root_len(const struct ksm_ctx *ctx)
{
	size_t len = strlen(ctx->sysroot);

	while (len > 0 && ctx->sysroot[len - 1] == '/')
		len--;
	return (int)len;
}

static int open_proc(struct ksm_ctx *ctx)
{
	int fd = openat(ctx->rootfd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		int r = -errno;

		return ksm_fail(r, "cannot open %.*s/proc: %s", root_len(ctx), ctx->sysroot,
				strerror(-r));
	}
	return fd;
}

/* The message for a kernel without per-process KSM files; returns -EOPNOTSUPP. */
static int fail_no_proc_files(struct ksm_ctx *ctx, const char *what)
{
	int n = root_len(ctx);

	return ksm_fail(-EOPNOTSUPP,
			"cannot %s: this kernel has no per-process KSM figures: neither "
			"%.*s/proc/PID/ksm_stat (it appeared in Linux 6.1) nor "
			"%.*s/proc/PID/ksm_merging_pages (Linux 5.19) exists",
			what, n, ctx->sysroot, n, ctx->sysroot);
}

/* "process PID", or "the calling process" for 0, for messages. */
static const char *who(int pid, char *buf, size_t size)
{
	if (pid == 0)
		snprintf(buf, size, "the calling process");
	else
		snprintf(buf, size, "process %d", pid);
	return buf;
}

/* The message for a failed read of the figures of @pid (@name below proc). */
static int fail_proc(struct ksm_ctx *ctx, int pid, const char *name, int err,
		     const struct proc_err *why)
{
	char buf[48];
	const char *p = who(pid, buf, sizeof(buf));
	int n = root_len(ctx);

	switch (-err) {
	case ESRCH:
		return ksm_fail(err, "cannot read the KSM figures of %s: there is no such process "
				     "(it may have exited)", p);
	case EOPNOTSUPP:
		return fail_no_proc_files(ctx, "read the KSM figures of a process");
	case EACCES:
		return ksm_fail(err, "cannot read the KSM figures of %s: permission denied; "
				     "%.*s/proc/%s/%s is readable only by the process's owner and "
				     "root", p, n, ctx->sysroot, name, why->file);
	case EBADMSG:
		if (why->too_long)
			return ksm_fail(err, "cannot read the KSM figures of %s: %.*s/proc/%s/%s holds "
					     "more than %s bytes, longer than the library reads",
					p, n, ctx->sysroot, name, why->file, why->text);
		return ksm_fail(err, "cannot read the KSM figures of %s: %.*s/proc/%s/%s holds "
				     "text that cannot be parsed ('%s')",
				p, n, ctx->sysroot, name, why->file, why->text);
	default:
		return ksm_fail(err, "cannot read %.*s/proc/%s/%s: %s", n, ctx->sysroot, name,
				why->file, strerror(-err));
	}
}

KSM_EXPORT int ksm_proc_stats_read(struct ksm_ctx *ctx, int pid, struct ksm_proc_stats *st,
				   size_t size)
{
	struct proc_err why = { .file = "ksm_stat" };
	struct ksm_proc_stats s;
	char name[16];
	enum proc_source src;
	int procfd, r;

	ksm_fail_clear();
	if (!ctx || !st)
		return -EINVAL;
	if (pid < 0)
		return ksm_fail(-EINVAL, "invalid process ID %d", pid);
	if (size < sizeof(st->present))
		return ksm_fail_struct_size("ksm_proc_stats", size);
	procfd = open_proc(ctx);
	if (procfd < 0)
		return procfd;
	src = proc_source(procfd);
	if (pid == 0)
		snprintf(name, sizeof(name), "self");
	else
		snprintf(name, sizeof(name), "%d", pid);
	if (src == SRC_NONE)
		r = faccessat(procfd, name, F_OK, 0) == 0 ? -EOPNOTSUPP : -ESRCH;
	else
		r = read_proc(procfd, name, src, &s, &why);
	close(procfd);
	if (r < 0)
		return fail_proc(ctx, pid, name, r, &why);
	derive(&s, ctx->page_size);
	copy_out(&s, st, size);
	return 0;
}

KSM_EXPORT int ksm_proc_comm(struct ksm_ctx *ctx, int pid, char *buf, size_t size)
{
	char path[32], comm[64], wbuf[48];
	size_t len;
	int procfd, r;

	ksm_fail_clear();
	if (!ctx || !buf)
		return -EINVAL;
	if (pid < 0)
		return ksm_fail(-EINVAL, "invalid process ID %d", pid);
	procfd = open_proc(ctx);
	if (procfd < 0)
		return procfd;
	if (pid == 0)
		snprintf(path, sizeof(path), "self/comm");
	else
		snprintf(path, sizeof(path), "%d/comm", pid);
	r = ksm_read_whole_at(procfd, path, comm, sizeof(comm));
	close(procfd);
	if (r == -ENOENT)
		return ksm_fail(-ESRCH, "cannot read the command name of %s: there is no such "
					"process (it may have exited)", who(pid, wbuf, sizeof(wbuf)));
	if (r == -EBADMSG)
		return ksm_fail(r, "cannot read the command name of %s: %.*s/proc/%s holds more "
				   "than %zu bytes, longer than any command name",
				who(pid, wbuf, sizeof(wbuf)), root_len(ctx), ctx->sysroot, path,
				sizeof(comm) - 1);
	if (r < 0)
		return ksm_fail(r, "cannot read %.*s/proc/%s: %s", root_len(ctx), ctx->sysroot, path,
				strerror(-r));
	comm[strcspn(comm, "\n")] = '\0';
	len = strlen(comm);
	if (len >= size)
		return ksm_fail(-ENOSPC, "the command name of %s ('%s') needs %zu bytes, the "
					 "buffer has %zu", who(pid, wbuf, sizeof(wbuf)), KSM_ESC(comm), len + 1,
				size);
	memcpy(buf, comm, len + 1);
	return (int)len;
}

static bool active(const struct ksm_proc_stats *s)
{
	return s->ksm_rmap_items > 0 || s->ksm_merging_pages > 0 || s->ksm_zero_pages > 0 ||
	       s->ksm_merge_any > 0 || s->ksm_mergeable > 0;
}

/*
 * The walk over <sysroot>/proc. Reading ksm_stat costs an open, a read and
 * a close per process, almost all of it in the kernel (path lookup, the
 * process's VMA walk for ksm_mergeable). On hosts with thousands of
 * processes the reads are spread over a few threads, which start while the
 * directory is still being listed; the callback then runs on the calling
 * thread, in /proc order.
 */
#define WALK_MAX_THREADS 4
#define WALK_BLOCK 1024   /* pids per block; blocks never move once written */
#define WALK_MAX_BLOCKS 4096
#define WALK_CHUNK 64     /* pids a thread claims at a time */

struct walk_slot {
	struct ksm_proc proc;
	bool active;
};

struct walk_job {
	int procfd;
	enum proc_source src;
	bool want_comm;
	long page_size;
	int *pids[WALK_MAX_BLOCKS];
	struct walk_slot *slots[WALK_MAX_BLOCKS];
	size_t listed;    /* pids listed so far (release/acquire) */
	bool complete;    /* listing finished (release/acquire) */
	size_t next;      /* next unclaimed index */
	size_t denied;    /* processes that could not be inspected (relaxed) */
	pthread_t threads[WALK_MAX_THREADS];
	int nthreads;
};

#define PID_AT(job, i) ((job)->pids[(i) / WALK_BLOCK][(i) % WALK_BLOCK])
#define SLOT_AT(job, i) (&(job)->slots[(i) / WALK_BLOCK][(i) % WALK_BLOCK])

static void read_one(struct walk_job *job, size_t i)
{
	struct walk_slot *slot = SLOT_AT(job, i);
	char name[16], path[32], comm[64];
	int r;

	snprintf(name, sizeof(name), "%d", PID_AT(job, i));
	/* Gone, not ours to see, or nothing to report: not active. */
	r = read_proc(job->procfd, name, job->src, &slot->proc.stats, NULL);
	if (r == -EACCES)
		__atomic_add_fetch(&job->denied, 1, __ATOMIC_RELAXED);
	if (r < 0 || !active(&slot->proc.stats))
		return;
	derive(&slot->proc.stats, job->page_size);
	slot->active = true;
	slot->proc.pid = PID_AT(job, i);
	slot->proc.comm[0] = '\0';
	if (job->want_comm) {
		snprintf(path, sizeof(path), "%s/comm", name);
		/* A name longer than the kernel's 15 bytes is cut; escaping is the printer's. */
		if (ksm_read_at(job->procfd, path, comm, sizeof(comm)) >= 0) {
			comm[strcspn(comm, "\n")] = '\0';
			size_t len = strnlen(comm, sizeof(slot->proc.comm) - 1);

			memcpy(slot->proc.comm, comm, len);
			slot->proc.comm[len] = '\0';
		}
	}
}

/* Read claimed chunks of listed pids until the listing is complete and read. */
static void *walk_worker(void *arg)
{
	struct walk_job *job = arg;

	for (;;) {
		size_t start = __atomic_fetch_add(&job->next, WALK_CHUNK, __ATOMIC_RELAXED);
		size_t end = start + WALK_CHUNK, listed;

		for (;;) {
			bool complete = __atomic_load_n(&job->complete, __ATOMIC_ACQUIRE);

			listed = __atomic_load_n(&job->listed, __ATOMIC_ACQUIRE);
			if (listed >= end || complete)
				break;
			sched_yield(); /* the lister is a getdents() ahead */
		}
		if (start >= listed)
			return NULL;
		for (size_t i = start; i < end && i < listed; i++)
			read_one(job, i);
	}
}

/* Append the numeric entries of /proc to the job; threads read behind. */
static int list_pids(struct walk_job *job, void (*started)(struct walk_job *))
{
	struct dirent *de;
	size_t n = 0;
	int dfd, r = 0;
	DIR *dir;

	/* Close-on-exec from the start: another thread may fork and exec. */
	dfd = fcntl(job->procfd, F_DUPFD_CLOEXEC, 0);
	dir = dfd < 0 ? NULL : fdopendir(dfd);
	if (!dir) {
		r = -errno;
		if (dfd >= 0)
			close(dfd);
		return r;
	}
	while ((errno = 0, de = readdir(dir))) {
		int64_t pid;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || ksm_parse_int64(de->d_name, &pid) < 0 ||
		    pid > INT32_MAX)
			continue;
		if (n % WALK_BLOCK == 0) {
			size_t b = n / WALK_BLOCK;

			if (b == WALK_MAX_BLOCKS) {
				r = -E2BIG;
				break;
			}
			job->pids[b] = malloc(WALK_BLOCK * sizeof(int));
			job->slots[b] = calloc(WALK_BLOCK, sizeof(struct walk_slot));
			if (!job->pids[b] || !job->slots[b]) {
				r = -ENOMEM;
				break;
			}
			if (b == 1 && started)
				started(job); /* a big system: start the readers */
		}
		job->pids[n / WALK_BLOCK][n % WALK_BLOCK] = (int)pid;
		n++;
		if (n % WALK_CHUNK == 0)
			__atomic_store_n(&job->listed, n, __ATOMIC_RELEASE);
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(dir);
	__atomic_store_n(&job->listed, n, __ATOMIC_RELEASE);
	__atomic_store_n(&job->complete, true, __ATOMIC_RELEASE);
	return r;
}

static void start_threads(struct walk_job *job)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	sigset_t all, old;

	/* Signals stay with the caller's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (job->nthreads + 1 < WALK_MAX_THREADS && job->nthreads + 1 < cpus) {
		if (pthread_create(&job->threads[job->nthreads], NULL, walk_worker, job) != 0)
			break; /* fewer helpers: the calling thread does the rest */
		job->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/*
 * @fn gets each active process; non-zero from @fn stops the walk. *denied,
 * if not NULL, receives the number of processes skipped because the caller
 * may not read their figures, *listed the number of processes looked at.
 */
static int walk(struct ksm_ctx *ctx, int (*fn)(const struct ksm_proc *, void *), void *data,
		bool want_comm, size_t *denied, size_t *listed)
{
	struct walk_job *job;
	int count = 0, r, r2 = 0;

	if (ctx->ksmfd < 0)
		return ksm_fail_no_ksm(ctx); /* no KSM, no per-process figures either */
	job = calloc(1, sizeof(*job));
	if (!job)
		return ksm_fail(-ENOMEM, "out of memory");
	job->want_comm = want_comm;
	job->page_size = ctx->page_size;
	job->procfd = open_proc(ctx);
	if (job->procfd < 0) {
		r = job->procfd;
		free(job);
		return r;
	}
	job->src = proc_source(job->procfd);
	if (job->src == SRC_NONE) {
		close(job->procfd);
		free(job);
		if (ksm_selective_layout(ctx))
			return ksm_fail_selective(ctx, "list the KSM figures of processes");
		return fail_no_proc_files(ctx, "list the KSM figures of processes");
	}

	r = list_pids(job, start_threads);
	walk_worker(job);
	for (int t = 0; t < job->nthreads; t++)
		pthread_join(job->threads[t], NULL);

	if (denied)
		*denied = job->denied;
	if (listed)
		*listed = job->listed;
	for (size_t i = 0; r == 0 && r2 == 0 && i < job->listed; i++) {
		if (!SLOT_AT(job, i)->active)
			continue;
		count++;
		r2 = fn(&SLOT_AT(job, i)->proc, data);
	}
	for (size_t b = 0; b < WALK_MAX_BLOCKS && (job->pids[b] || job->slots[b]); b++) {
		free(job->pids[b]);
		free(job->slots[b]);
	}
	close(job->procfd);
	free(job);
	if (r == -E2BIG)
		return ksm_fail(r, "cannot list %.*s/proc: more than %d processes", root_len(ctx),
				ctx->sysroot, WALK_MAX_BLOCKS * WALK_BLOCK);
	if (r < 0)
		return ksm_fail(r, "cannot list %.*s/proc: %s", root_len(ctx), ctx->sysroot,
				strerror(-r));
	return r2 < 0 ? r2 : count;
}

KSM_EXPORT int ksm_proc_foreach(struct ksm_ctx *ctx, int (*fn)(const struct ksm_proc *proc, void *data),
				void *data)
{
	ksm_fail_clear();
	if (!ctx || !fn)
		return -EINVAL;
	return walk(ctx, fn, data, true, NULL, NULL);
}

KSM_EXPORT int ksm_proc_foreach_counted(struct ksm_ctx *ctx,
					int (*fn)(const struct ksm_proc *proc, void *data), void *data,
					struct ksm_proc_counts *counts, size_t size)
{
	struct ksm_proc_counts c;
	size_t denied = 0, listed = 0;
	int r;

	ksm_fail_clear();
	if (!ctx || !fn || !counts || size < sizeof(counts->listed))
		return -EINVAL;
	r = walk(ctx, fn, data, true, &denied, &listed);
	memset(&c, 0, sizeof(c));
	c.listed = (int64_t)listed;
	c.denied = (int64_t)denied;
	ksm_copy_out(counts, size, &c, sizeof(c));
	return r;
}

static int stop_if_registered(const struct ksm_proc *p, void *data)
{
	const struct ksm_proc_stats *s = &p->stats;

	/* Without the yes/no lines of newer kernels, scanned pages stand for registered memory. */
	if ((s->present & KSM_PROC_MERGEABLE) ? (s->ksm_mergeable || s->ksm_merge_any)
					      : s->ksm_rmap_items > 0 || s->ksm_merging_pages > 0) {
		*(bool *)data = true;
		return 1;
	}
	return 0;
}

int ksm_proc_any_registered(struct ksm_ctx *ctx)
{
	bool found = false;
	size_t denied = 0;
	int r = walk(ctx, stop_if_registered, &found, false, &denied, NULL);

	/* A process the caller may not inspect may have registered memory. */
	return r < 0 ? r : found || denied;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Merging of another, running process: switch its process-wide merging
 * (PR_SET_MEMORY_MERGE) on or off, and unregister the ranges it registered
 * itself (MADV_UNMERGEABLE), without restarting it.
 *
 * Mainline Linux has no call for this: process_madvise() rejects
 * MADV_MERGEABLE for another process and the prctl acts on the caller only.
 * Backends, in this order:
 *  1. the pf-kernel/CachyOS syscalls process_ksm_enable/disable/status(pidfd,
 *     0), their numbers read from <sysroot>/sys/kernel/process_ksm/ (never
 *     assumed);
 *  2. on x86-64, ptrace syscall injection: the target executes the prctl or
 *     madvise itself, through a syscall instruction found in its vDSO (or
 *     libc), with its registers saved before and restored exactly after.
 *     Nothing is written to the target's memory. The facts this rests on
 *     were measured on 6.18 (docs: remote-enable.md);
 *  3. otherwise -EOPNOTSUPP, with what to use instead.
 *
 * The /proc files are read below the context's system root; pids, pidfds and
 * ptrace are the running kernel's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <sys/user.h>
#endif

#include "internal.h"
#include "missing.h"

#ifndef PTRACE_SEIZE
#define PTRACE_SEIZE 0x4206
#endif
#ifndef PTRACE_INTERRUPT
#define PTRACE_INTERRUPT 0x4207
#endif
#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif
#ifndef __WALL
#define __WALL 0x40000000
#endif

/* The kernel's internal restart codes, as a tracer sees them in rax. */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

/* How long to wait for the target to stop. */
#define STOP_TIMEOUT_MS 5000
/* Attempts when foreign signals or restarts get in the way. */
#define INJECT_ATTEMPTS 200
/* Looks, 1 ms apart, at a process whose threads all block SIGTRAP before it
 * is refused: a signal handler's mask blocks it only while the handler runs. */
#define TRAP_BLOCKED_TRIES 100

static const char *const alternatives =
	"restart it with 'ksmctl exec', QEMU -machine mem-merge=on|off, or systemd MemoryKSM=";

/* ------------------------------------------------------------------------ */
/* The syscalls a kernel may lack, one function each                         */

int ksm_sys_pidfd_open(int pid)
{
#ifdef SYS_pidfd_open
	long r = syscall(SYS_pidfd_open, pid, 0);

	return r < 0 ? -errno : (int)r;
#else
	(void)pid;
	return -ENOSYS;
#endif
}

long ksm_sys_process_ksm(long nr, int pidfd)
{
	long r = syscall(nr, pidfd, 0);

	return r < 0 ? -errno : r;
}

/* ------------------------------------------------------------------------ */
/* /proc/PID files below the system root                                     */

static int read_proc_file(struct ksm_ctx *ctx, int pid, const char *name, char *buf, size_t size)
{
	char path[96];

	snprintf(path, sizeof(path), "proc/%d/%s", pid, name);
	return ksm_read_at(ctx->rootfd, path, buf, size);
}

/* A "Key:\tvalue" line of /proc/PID/status as a number; -ENOENT if absent. */
static int status_field(struct ksm_ctx *ctx, int pid, const char *key, int64_t *value)
{
	char buf[4096], *p;
	size_t klen = strlen(key);
	int r = read_proc_file(ctx, pid, "status", buf, sizeof(buf));

	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
			char *e;

			*value = strtoll(p + klen + 1, &e, 10);
			return 0;
		}
	}
	return -ENOENT;
}

/* Field 22 of /proc/PID/stat (after the command in parentheses), or 0. */
__attribute__((unused)) static uint64_t start_time(struct ksm_ctx *ctx, int pid)
{
	char buf[1024], *p;
	unsigned long long v = 0;

	if (read_proc_file(ctx, pid, "stat", buf, sizeof(buf)) < 0)
		return 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
			 "%*d %*d %*d %llu", &v) != 1)
		return 0;
	return v;
}

/* Field 4 of /proc/PID/stat, the parent, or 0. */
__attribute__((unused)) static int parent_pid(struct ksm_ctx *ctx, int pid)
{
	char buf[1024], *p;
	int ppid = 0;

	if (read_proc_file(ctx, pid, "stat", buf, sizeof(buf)) < 0)
		return 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %d", &ppid) != 1)
		return 0;
	return ppid;
}

/* Refuse targets the injection could harm or that another tracer holds. */
__attribute__((unused)) static int check_target(struct ksm_ctx *ctx, int pid, unsigned int flags)
{
	int64_t v;
	int r;

	r = status_field(ctx, pid, "TracerPid", &v);
	if (r < 0 && r != -ENOENT)
		return r == -ESRCH ? ksm_fail(-ESRCH, "no process %d", pid) : r;
	if (r == 0 && v != 0)
		return ksm_fail(-EPERM, "process %d cannot be traced: process %" PRId64
				" (a debugger or sandbox) traces it already; left untouched", pid, v);
	r = status_field(ctx, pid, "Seccomp", &v);
	if (r == 0 && v == 1)
		return ksm_fail(-EBUSY, "process %d runs in strict seccomp mode: a prctl would kill "
				"it; %s", pid, alternatives);
	if (r == 0 && v == 2 && !(flags & KSM_FORCE))
		return ksm_fail(-EBUSY, "process %d has a seccomp filter, which may kill it for the "
				"injected call (force to try anyway: a filter that returns an "
				"error is harmless, one that kills is not); or %s", pid,
				alternatives);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* ptrace syscall injection (x86-64)                                         */

/* LIBKSM_NO_INJECTION builds the path of the other architectures on x86-64
 * too, for the test of that path (tests/unit/test_remote_noarch.c). */
#if defined(__x86_64__) && !defined(LIBKSM_NO_INJECTION)

/*
 * The critical window (from writing the target's registers to restoring
 * them) runs in the functions marked KSM_WINDOW, kept together in one
 * section, and in a few libc functions. A page fault there, under memory
 * pressure, would stretch the time in which the target depends on this
 * process; so these pages and the part of the stack in use are locked in
 * memory for the injection, and unlocked afterwards (lock_window()).
 */
#define KSM_WINDOW __attribute__((section("ksm_inject_window"), noinline))
extern const char __start_ksm_inject_window[] __attribute__((weak, visibility("hidden")));
extern const char __stop_ksm_inject_window[] __attribute__((weak, visibility("hidden")));

/* Stack below the current frame that the window may use, locked with it. */
#define WINDOW_STACK 16384
#define WINDOW_RANGES 16

struct window {
	uintptr_t lo[WINDOW_RANGES], hi[WINDOW_RANGES];
	int n;
};

/* VmLck of this process in kB, or -1. */
static long locked_kb(void)
{
	char buf[4096], *p;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "VmLck:");
	return p ? strtol(p + 6, NULL, 10) : -1;
}

/* Touch the stack @size bytes below this frame, so that mlock() finds it
 * mapped; the lowest address touched. */
static __attribute__((noinline)) uintptr_t touch_stack(size_t size)
{
	volatile char area[WINDOW_STACK];

	for (size_t i = 0; i < size && i < sizeof(area); i += 512)
		area[i] = 0;
	return (uintptr_t)&area[0];
}

static void lock_range(struct ksm_ctx *ctx, struct window *w, uintptr_t lo, uintptr_t hi)
{
	uintptr_t ps = (uintptr_t)ctx->page_size;

	lo &= ~(ps - 1);
	hi = (hi + ps - 1) & ~(ps - 1);
	if (w->n == WINDOW_RANGES || lo >= hi)
		return;
	for (int i = 0; i < w->n; i++)
		if (lo >= w->lo[i] && hi <= w->hi[i])
			return; /* already locked */
	if (mlock((void *)lo, hi - lo) < 0) {
		/* The last page may lie beyond the end of the mapping. */
		if (hi - lo > ps && mlock((void *)lo, ps) == 0)
			hi = lo + ps;
		else
			return;
	}
	w->lo[w->n] = lo;
	w->hi[w->n] = hi;
	w->n++;
}

/*
 * Lock the window's code (its section, and the first two pages of each libc
 * function it calls), and the stack from this frame down to WINDOW_STACK
 * below it. Not mlockall(): that would change the caller for good. Skipped
 * when the caller has locked memory of its own (VmLck > 0), because
 * munlock() afterwards could undo its locks; best effort otherwise (a low
 * RLIMIT_MEMLOCK without CAP_IPC_LOCK locks less or nothing).
 */
static void lock_window(struct ksm_ctx *ctx, struct window *w)
{
	const void *fns[] = { (const void *)ptrace, (const void *)waitpid, (const void *)waitid,
			      (const void *)pthread_sigmask, (const void *)clock_gettime,
			      (const void *)nanosleep, (const void *)sched_yield,
			      (const void *)memset, (const void *)__errno_location };
	uintptr_t sp;

	w->n = 0;
	if (locked_kb() != 0)
		return;
	if (__start_ksm_inject_window && __stop_ksm_inject_window)
		lock_range(ctx, w, (uintptr_t)__start_ksm_inject_window,
			   (uintptr_t)__stop_ksm_inject_window);
	sp = touch_stack(WINDOW_STACK);
	lock_range(ctx, w, sp, (uintptr_t)__builtin_frame_address(0) + 1);
	for (size_t i = 0; i < KSM_ARRAY_SIZE(fns); i++)
		lock_range(ctx, w, (uintptr_t)fns[i], (uintptr_t)fns[i] + 2 * ctx->page_size);
	ksm_dbg(ctx, "%d ranges of the injection's window locked in memory", w->n);
}

static void unlock_window(struct window *w)
{
	for (int i = 0; i < w->n; i++)
		munlock((void *)w->lo[i], w->hi[i] - w->lo[i]);
	w->n = 0;
}

struct inj {
	int pid, tid;
	uintptr_t insn;  /* a syscall instruction (0f 05) in the target */
	uint64_t start;  /* the target's start time, against pid reuse */
	bool child;      /* the target is the caller's own child */
	bool force;      /* KSM_FORCE: skip the refusals that say "force" */
	bool trap_blocked, trap_ignored; /* SIGTRAP in the chosen thread */
};

/*
 * Wait for a state change of the stopped thread: 0 with *@status, -ETIMEDOUT
 * or -errno. The death of a target that is the caller's own child is seen
 * without reaping it: its exit status stays for the caller's waitpid().
 */
KSM_WINDOW static int wait_tid(const struct inj *in, int *status)
{
	struct timespec start, now, nap = { 0, 20000 };
	int spins = 0, tid = in->tid;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t w;

		if (in->child && tid == in->pid) {
			siginfo_t si;

			memset(&si, 0, sizeof(si));
			/* A tracer is told of stops whatever it asks: only deaths count. */
			if (waitid(P_PID, (id_t)tid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0 &&
			    si.si_pid == tid && (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED ||
						 si.si_code == CLD_DUMPED)) {
				*status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 :
					  si.si_code == CLD_DUMPED ? (si.si_status & 0x7f) | 0x80 :
								     si.si_status & 0x7f;
				return 0;
			}
		}
		w = waitpid(tid, status, __WALL | WNOHANG);

		if (w == tid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (++spins < 100) {
			sched_yield();
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
		    STOP_TIMEOUT_MS)
			return -ETIMEDOUT;
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < 1000000)
			nap.tv_nsec *= 2;
	}
}

/* Is @st a death of the tracee? */
KSM_WINDOW static bool gone(int st)
{
	return WIFEXITED(st) || WIFSIGNALED(st);
}


/* A "0f 05" in the mapping of /proc/PID/maps whose line ends in @what. */
static uintptr_t find_syscall_insn(struct ksm_ctx *ctx, int pid, const char *what, bool exec_only)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	uintptr_t found = 0;
	FILE *f;
	int memfd;

	snprintf(path, sizeof(path), "proc/%d/maps", pid);
	memfd = -1;
	{
		int fd = openat(ctx->rootfd, path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return 0;
		f = fdopen(fd, "re");
		if (!f) {
			close(fd);
			return 0;
		}
	}
	snprintf(path, sizeof(path), "proc/%d/mem", pid);
	memfd = openat(ctx->rootfd, path, O_RDONLY | O_CLOEXEC);
	while (memfd >= 0 && !found && getline(&line, &cap, f) > 0) {
		unsigned long lo, hi;
		char perms[8];
		int name = 0;
		size_t len;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &name) < 3 || !name)
			continue;
		len = strlen(line + name);
		if (perms[2] != 'x' || (exec_only && perms[0] != 'r'))
			continue;
		if (strcmp(what, "[vdso]") == 0 ? strcmp(line + name, what) != 0
						  : !strstr(line + name, what))
			continue;
		(void)len;
		for (uintptr_t a = lo; a < hi && !found; a += 4096) {
			unsigned char b[4097];
			ssize_t n = pread(memfd, b, sizeof(b) - 1, (off_t)a);

			if (n <= 1)
				break;
			for (ssize_t i = 0; i + 1 < n; i++)
				if (b[i] == 0x0f && b[i + 1] == 0x05 && a + (uintptr_t)i + 2 <= hi) {
					found = a + (uintptr_t)i;
					break;
				}
		}
	}
	if (memfd >= 0)
		close(memfd);
	free(line);
	fclose(f);
	return found;
}

/* Syscalls that return EINTR rather than restart when their thread stops. */
static bool eintr_syscall(long nr)
{
	static const long list[] = { SYS_epoll_wait, SYS_epoll_pwait,
#ifdef SYS_epoll_pwait2
				     SYS_epoll_pwait2,
#endif
				     SYS_io_getevents, SYS_semop, SYS_semtimedop,
				     SYS_rt_sigtimedwait,
#ifdef SYS_io_uring_enter
				     SYS_io_uring_enter,
#endif
	};

	for (size_t i = 0; i < KSM_ARRAY_SIZE(list); i++)
		if (list[i] == nr)
			return true;
	return false;
}

/*
 * The thread to stop: the prctl acts on the mm, so any will do; prefer one
 * in user space, then one in a syscall the kernel restarts transparently,
 * then others, then those whose syscall returns EINTR, last D state.
 */
/* Is SIGTRAP set in the hex mask of line "@key:" of @status? */
static bool trap_in_mask(const char *status, const char *key)
{
	const char *p = strstr(status, key);
	unsigned long long mask;

	if (!p || sscanf(p + strlen(key), " %llx", &mask) != 1)
		return false;
	return mask & (1ull << (SIGTRAP - 1));
}

static int pick_thread(struct ksm_ctx *ctx, struct inj *in)
{
	int pid = in->pid;
	char path[64];
	int best = -1, best_rank = 99;
	DIR *d;
	int fd;

	snprintf(path, sizeof(path), "proc/%d/task", pid);
	fd = openat(ctx->rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	for (struct dirent *e; (e = readdir(d));) {
		char buf[512], *p;
		int tid = atoi(e->d_name), rank;
		char state, status[4096];
		bool blocked, ignored;
		long nr;

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "%d/stat", tid);
		if (ksm_read_at(fd, path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')))
			continue;
		state = p[2];
		if (state == 'Z' || state == 'X' || state == 'x')
			continue;
		snprintf(path, sizeof(path), "%d/syscall", tid);
		if (ksm_read_at(fd, path, buf, sizeof(buf)) < 0)
			buf[0] = '\0';
		if (strncmp(buf, "running", 7) == 0 || strncmp(buf, "-1 ", 3) == 0)
			rank = 0;
		else if (state == 'D')
			rank = 4;
		else if (sscanf(buf, "%ld", &nr) == 1 && eintr_syscall(nr))
			rank = 3;
		else
			rank = state == 'R' ? 0 : 1;
		/* The single-step's trap is forced on the thread: where SIGTRAP
		 * is blocked the kernel unblocks it for good. Last choice. */
		snprintf(path, sizeof(path), "%d/status", tid);
		if (ksm_read_at(fd, path, status, sizeof(status)) >= 0) {
			blocked = trap_in_mask(status, "SigBlk:");
			ignored = trap_in_mask(status, "SigIgn:");
		} else {
			blocked = ignored = false;
		}
		if (blocked)
			rank += 10;
		if (rank < best_rank) {
			best_rank = rank;
			best = tid;
			in->trap_blocked = blocked;
			in->trap_ignored = ignored;
		}
	}
	closedir(d);
	return best > 0 ? best : -ESRCH;
}

/* After a failed PTRACE_SEIZE: why, recorded. */
static int seize_error(struct ksm_ctx *ctx, const struct inj *in, int err)
{
	int64_t tracer = 0;

	if (err == -ESRCH)
		return ksm_fail(-ESRCH, "no process %d", in->pid);
	/* PTRACE_SEIZE's own EPERM: the target cannot be traced by us. */
	if (err == -EPERM && status_field(ctx, in->pid, "TracerPid", &tracer) == 0 && tracer)
		return ksm_fail(-EPERM, "process %d cannot be traced: process %" PRId64
				" traces it already; left untouched", in->pid, tracer);
	if (err == -EPERM || err == -EACCES)
		return ksm_fail(-EPERM, "process %d cannot be traced: no ptrace access to it (it "
				"belongs to another user or is not dumpable and the caller lacks "
				"CAP_SYS_PTRACE, or a security module forbids it); left untouched",
				in->pid);
	return ksm_fail(err, "cannot attach to process %d with ptrace: %s", in->pid,
			strerror(-err));
}

/*
 * Stop @tid: SEIZE and INTERRUPT, passing on signals that arrive first,
 * until the PTRACE_EVENT_STOP. 0, or -errno with the thread detached.
 */
static int stop_thread(struct ksm_ctx *ctx, struct inj *in)
{
	int st, r;

	if (ptrace(PTRACE_SEIZE, in->tid, 0, 0) < 0)
		return seize_error(ctx, in, -errno);
	if (in->start && start_time(ctx, in->pid) != in->start) {
		ptrace(PTRACE_DETACH, in->tid, 0, 0);
		return ksm_fail(-ESRCH, "process %d exited (its pid was reused)", in->pid);
	}
	if (ptrace(PTRACE_INTERRUPT, in->tid, 0, 0) < 0) {
		r = -errno;
		ptrace(PTRACE_DETACH, in->tid, 0, 0);
		return r == -ESRCH ? ksm_fail(-ESRCH, "process %d exited", in->pid) : r;
	}
	for (;;) {
		r = wait_tid(in, &st);
		if (r == -ETIMEDOUT) {
			/* Stuck in D state: leave it; the kernel drops the trap at detach. */
			ptrace(PTRACE_DETACH, in->tid, 0, 0);
			return ksm_fail(-ETIMEDOUT, "thread %d of process %d did not stop within %d s "
					"(uninterruptible sleep?)", in->tid, in->pid,
					STOP_TIMEOUT_MS / 1000);
		}
		if (r < 0)
			return r;
		if (gone(st))
			return ksm_fail(-ESRCH, "process %d exited", in->pid);
		if ((st >> 16) == PTRACE_EVENT_STOP)
			return 0;
		/* A signal-delivery-stop before ours: deliver it; our trap stays pending. */
		ptrace(PTRACE_CONT, in->tid, 0, (void *)(uintptr_t)WSTOPSIG(st));
	}
}

enum step_result { STEP_DONE, STEP_RETRY, STEP_FAILED };

/* The target died while it executed the call: -ESRCH, recorded with why. */
KSM_WINDOW static int died(const struct inj *in, int st)
{
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
		return ksm_fail(-ESRCH, "process %d was killed by SIGSYS during the injected call: "
				"its seccomp filter kills for that call", in->pid);
	if (WIFSIGNALED(st))
		return ksm_fail(-ESRCH, "process %d was killed by signal %d during the injected "
				"call", in->pid, WTERMSIG(st));
	return ksm_fail(-ESRCH, "process %d exited during the injected call", in->pid);
}

/*
 * With the thread stopped: run one syscall in it and put its registers back.
 * STEP_DONE with *@ret; STEP_RETRY when a signal got in first (the thread is
 * then detached with that signal delivered); STEP_FAILED with *@ret -errno.
 * All signals of the caller are blocked from the first write of the
 * registers to their restore, the window in which the target depends on us.
 */
KSM_WINDOW static enum step_result run_syscall(struct inj *in, long nr, const long args[6],
						  long *ret)
{
	struct user_regs_struct saved, regs;
	sigset_t all, old;
	enum step_result res = STEP_FAILED;
	int st, deferred = 0;

	if (ptrace(PTRACE_GETREGS, in->tid, 0, &saved) < 0) {
		*ret = -errno;
		ptrace(PTRACE_DETACH, in->tid, 0, 0);
		return STEP_FAILED;
	}
	if (saved.cs != 0x33) {
		ptrace(PTRACE_DETACH, in->tid, 0, 0);
		*ret = ksm_fail(-EOPNOTSUPP, "thread %d of process %d runs 32-bit code; %s", in->tid,
				in->pid, alternatives);
		return STEP_FAILED;
	}
	regs = saved;
	regs.rip = in->insn;
	regs.rax = (unsigned long long)nr;
	regs.orig_rax = (unsigned long long)-1;
	regs.rdi = (unsigned long long)args[0];
	regs.rsi = (unsigned long long)args[1];
	regs.rdx = (unsigned long long)args[2];
	regs.r10 = (unsigned long long)args[3];
	regs.r8 = (unsigned long long)args[4];
	regs.r9 = (unsigned long long)args[5];

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (ptrace(PTRACE_SETREGS, in->tid, 0, &regs) < 0 ||
	    ptrace(PTRACE_SINGLESTEP, in->tid, 0, 0) < 0) {
		*ret = -errno;
		goto restore;
	}
	for (;;) {
		struct user_regs_struct now;
		int sig, r = wait_tid(in, &st);

		if (r < 0) {
			*ret = r;
			goto restore;
		}
		if (gone(st)) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			*ret = died(in, st);
			return STEP_FAILED;
		}
		if (ptrace(PTRACE_GETREGS, in->tid, 0, &now) < 0) {
			*ret = -errno;
			goto restore;
		}
		sig = WSTOPSIG(st);
		if (now.rip == in->insn + 2) {
			/* The syscall ran. */
			*ret = (long)now.rax;
			res = STEP_DONE;
			if ((st >> 16) == 0 && sig == SIGTRAP) {
				siginfo_t si;

				/* Our single-step trap is the kernel's (si_code > 0). A
				 * SIGTRAP sent by someone (SI_USER, SI_TKILL: <= 0)
				 * that was pending when the trap came took its place:
				 * standard signals do not queue twice. It is the
				 * target's: delivered at the detach. */
				if (ptrace(PTRACE_GETSIGINFO, in->tid, 0, &si) == 0 &&
				    si.si_code <= 0)
					deferred = SIGTRAP;
				break;
			}
			if ((st >> 16) == 0)
				deferred = sig; /* a signal came before our trap: deliver it last */
			/* Resume with the saved registers until our trap is consumed. */
			if (ptrace(PTRACE_SETREGS, in->tid, 0, &saved) < 0 ||
			    ptrace(PTRACE_CONT, in->tid, 0, 0) < 0)
				goto restore;
			for (;;) {
				if (wait_tid(in, &st) < 0 || gone(st))
					goto restore;
				if ((st >> 16) == 0 && WSTOPSIG(st) == SIGTRAP)
					break;
				ptrace(PTRACE_CONT, in->tid, 0,
				       (void *)(uintptr_t)((st >> 16) ? 0 : WSTOPSIG(st)));
			}
			break;
		}
		if (now.rip != in->insn) {
			*ret = ksm_fail(-EIO, "thread %d of process %d stopped at an unexpected "
					"address; registers restored", in->tid, in->pid);
			goto restore;
		}
		if ((st >> 16) == PTRACE_EVENT_STOP) {
			/* A group-stop came first (SIGSTOPped target): step again. */
			if (ptrace(PTRACE_SINGLESTEP, in->tid, 0, 0) < 0) {
				*ret = -errno;
				goto restore;
			}
			continue;
		}
		/* A foreign signal was dequeued before the syscall ran: deliver it
		 * from the original context, then try again. */
		ptrace(PTRACE_SETREGS, in->tid, 0, &saved);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		ptrace(PTRACE_DETACH, in->tid, 0, (void *)(uintptr_t)sig);
		return STEP_RETRY;
	}
restore:
	if (ptrace(PTRACE_SETREGS, in->tid, 0, &saved) < 0 && res == STEP_DONE)
		res = STEP_FAILED;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	ptrace(PTRACE_DETACH, in->tid, 0, (void *)(uintptr_t)deferred);
	/* A signal of the target's interrupted the injected call (the kernel's
	 * unmerge checks for pending signals): it is delivered now, from the
	 * original context; the call, idempotent, is made again. */
	if (res == STEP_DONE && (*ret == -ERESTARTSYS || *ret == -ERESTARTNOINTR ||
				 *ret == -ERESTARTNOHAND || *ret == -ERESTART_RESTARTBLOCK ||
				 *ret == -EINTR))
		return STEP_RETRY;
	return res;
}

static long inject_locked(struct ksm_ctx *ctx, struct inj *in, long nr, const long args[6])
{
	int blocked_seen = 0;

	for (int attempt = 0; attempt < INJECT_ATTEMPTS; attempt++) {
		enum step_result s;
		long ret = 0;
		int r;

		in->tid = pick_thread(ctx, in);
		if (in->tid < 0)
			return ksm_fail(-ESRCH, "no process %d", in->pid);
		if (in->trap_ignored && !in->force)
			return ksm_fail(-EBUSY, "process %d ignores SIGTRAP: the single-step of the "
					"injection would reset SIGTRAP to its default action (which "
					"kills) for good; force to accept that, or %s", in->pid,
					alternatives);
		if (in->trap_blocked && !in->force && ++blocked_seen < TRAP_BLOCKED_TRIES) {
			/* Maybe only for now, in a signal handler whose mask the
			 * sigreturn restores: look again a little later. */
			struct timespec ms = { 0, 1000000 };

			nanosleep(&ms, NULL);
			attempt--;
			continue;
		}
		if (in->trap_blocked && !in->force)
			return ksm_fail(-EBUSY, "process %d blocks SIGTRAP in every thread: the "
					"single-step of the injection would unblock it in one for good; "
					"force to accept that, or %s", in->pid, alternatives);
		if (in->trap_blocked || in->trap_ignored)
			ksm_warn(ctx, "process %d: SIGTRAP %s by the forced injection", in->pid,
				 in->trap_ignored ? "no longer ignored" : "unblocked in one thread");
		r = stop_thread(ctx, in);
		if (r < 0)
			return r;
		s = run_syscall(in, nr, args, &ret);
		if (s == STEP_DONE)
			return ret;
		if (s == STEP_FAILED)
			return ret;
	}
	return ksm_fail(-EINTR, "process %d kept being interrupted by signals: %d attempts failed",
			in->pid, INJECT_ATTEMPTS);
}

/* Run syscall @nr with @args in process @pid; its result or -errno. */
static long inject(struct ksm_ctx *ctx, struct inj *in, long nr, const long args[6])
{
	struct window w;
	long r;

	lock_window(ctx, &w);
	r = inject_locked(ctx, in, nr, args);
	unlock_window(&w);
	return r;
}

static int inj_init(struct ksm_ctx *ctx, struct inj *in, int pid)
{
	memset(in, 0, sizeof(*in));
	in->pid = pid;
	in->start = start_time(ctx, pid);
	if (!in->start)
		return ksm_fail(-ESRCH, "no process %d", pid);
	in->child = parent_pid(ctx, pid) == getpid();
	{
		/* Its maps are readable exactly where ptrace access is granted. */
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "proc/%d/maps", pid);
		fd = openat(ctx->rootfd, path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && (errno == EACCES || errno == EPERM))
			return ksm_fail(-EPERM, "process %d cannot be traced: no ptrace access to it "
					"(it belongs to another user or is not dumpable and the caller "
					"lacks CAP_SYS_PTRACE, or a security module forbids it); left "
					"untouched", pid);
		if (fd >= 0)
			close(fd);
	}
	in->insn = find_syscall_insn(ctx, pid, "[vdso]", false);
	if (!in->insn)
		in->insn = find_syscall_insn(ctx, pid, "/libc", true);
	if (!in->insn)
		return ksm_fail(-EOPNOTSUPP, "process %d has no syscall instruction in its vDSO or "
				"libc to borrow (nothing is written to its memory); %s", pid,
				alternatives);
	return 0;
}

/*
 * Prepare an injection into @pid: refuse the targets check_target() refuses,
 * then inj_init(); with KSM_FORCE in @flags, the refusals that say "force"
 * are skipped, here and during the injection.
 */
static int inj_open(struct ksm_ctx *ctx, struct inj *in, int pid, unsigned int flags)
{
	int r = check_target(ctx, pid, flags);

	if (r == 0)
		r = inj_init(ctx, in, pid);
	in->force = flags & KSM_FORCE;
	return r;
}

long ksm_inject_syscall(struct ksm_ctx *ctx, int pid, long nr, const long args[6])
{
	struct inj in;
	int r;

	ksm_fail_clear();
	r = inj_open(ctx, &in, pid, KSM_FORCE);
	return r < 0 ? r : inject(ctx, &in, nr, args);
}

#define HAVE_INJECTION 1
#else
long ksm_inject_syscall(struct ksm_ctx *ctx, int pid, long nr, const long args[6])
{
	(void)ctx;
	(void)pid;
	(void)nr;
	(void)args;
	return -EOPNOTSUPP;
}

#define HAVE_INJECTION 0
#endif

/* ------------------------------------------------------------------------ */
/* Backends                                                                  */

struct process_ksm {
	long enable, disable, status; /* syscall numbers, 0 = absent */
};

/* The pf-kernel/CachyOS syscalls' numbers from <sysroot>/sys/kernel/process_ksm. */
static bool process_ksm_numbers(struct ksm_ctx *ctx, struct process_ksm *p)
{
	static const char *const names[] = { "process_ksm_enable", "process_ksm_disable",
					     "process_ksm_status" };
	long *dst[] = { &p->enable, &p->disable, &p->status };
	char path[64], buf[32];

	for (int i = 0; i < 3; i++) {
		int64_t v;

		snprintf(path, sizeof(path), "sys/kernel/process_ksm/%s", names[i]);
		if (ksm_read_at(ctx->rootfd, path, buf, sizeof(buf)) < 0)
			return false;
		buf[strcspn(buf, "\n")] = '\0';
		if (ksm_parse_int64(buf, &v) < 0 || v <= 0 || v > 4096)
			return false;
		*dst[i] = (long)v;
	}
	return true;
}

/* Call process_ksm_* @nr on @pid; its result, or -errno recorded. */
static long process_ksm_call(int pid, long nr, const char *what)
{
	int fd = ksm_sys_pidfd_open(pid);
	long r;

	if (fd < 0)
		return fd == -ESRCH ? ksm_fail(-ESRCH, "no process %d", pid)
				    : ksm_fail(fd, "pidfd_open(%d): %s", pid, strerror(-fd));
	r = ksm_sys_process_ksm(nr, fd);
	close(fd);
	if (r >= 0)
		return r;
	switch (r) {
	case -EPERM:
		return ksm_fail(-EACCES, "%s(%d) was refused: it needs CAP_SYS_NICE", what, pid);
	case -EACCES:
		/* The kernel's ptrace access check on the target failed. */
		return ksm_fail(-EPERM, "%s(%d) was refused: no ptrace access to that process",
				what, pid);
	case -ESRCH:
		return ksm_fail(-ESRCH, "no process %d", pid);
	case -ENOMEM:
		return ksm_fail(-ENOMEM, "%s(%d): out of memory", what, pid);
	case -EINTR:
		return ksm_fail(-EINTR, "%s(%d) was interrupted", what, pid);
	default:
		return ksm_fail((int)r, "%s(%d): %s", what, pid, strerror((int)-r));
	}
}

/* The mergeable ranges of @pid from smaps; the count (up to @max) or -errno. */
__attribute__((unused)) static int mergeable_ranges(struct ksm_ctx *ctx, int pid, uintptr_t (*ranges)[2], int max)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	uintptr_t lo = 0, hi = 0;
	int n = 0, fd;
	FILE *f;

	snprintf(path, sizeof(path), "proc/%d/smaps", pid);
	fd = openat(ctx->rootfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : (errno == EPERM ? -EACCES : -errno);
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (getline(&line, &cap, f) > 0) {
		unsigned long a, b;

		if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			lo = a;
			hi = b;
		} else if (strncmp(line, "VmFlags:", 8) == 0 && strstr(line, " mg")) {
			if (n < max) {
				ranges[n][0] = lo;
				ranges[n][1] = hi;
			}
			n++;
		}
	}
	free(line);
	fclose(f);
	return n;
}

/* KSM_PROCESS_MERGE_ANY from ksm_stat, where the kernel has the line; else -ENOENT. */
static int merge_any_from_stat(struct ksm_ctx *ctx, int pid)
{
	struct ksm_proc_stats st;
	int r = ksm_proc_stats_read(ctx, pid, &st, sizeof(st));

	if (r < 0)
		return r == -EOPNOTSUPP || r == -EBADMSG ? -ENOENT : r;
	if (!(st.present & KSM_PROC_MERGE_ANY))
		return -ENOENT;
	return (int)st.ksm_merge_any;
}

KSM_EXPORT int ksm_process_merge_state(struct ksm_ctx *ctx, int pid)
{
	struct process_ksm pk;
	uintptr_t range[1][2];
	int any, n;

	ksm_fail_clear();
	if (!ctx || pid <= 0)
		return -EINVAL;
	any = merge_any_from_stat(ctx, pid);
	if (any == -ENOENT && process_ksm_numbers(ctx, &pk))
		any = (int)process_ksm_call(pid, pk.status, "process_ksm_status");
#if HAVE_INJECTION
	if (any == -ENOENT) {
		struct inj in;
		const long args[6] = { PR_GET_MEMORY_MERGE };

		any = inj_open(ctx, &in, pid, 0);
		if (any == 0)
			any = (int)inject(ctx, &in, SYS_prctl, args);
		if (any == -EINVAL)
			return ksm_fail(-EOPNOTSUPP, "the kernel has no PR_GET_MEMORY_MERGE (6.4+)");
	}
#endif
	if (any == -ENOENT)
		return ksm_fail(-EOPNOTSUPP, "cannot tell whether process %d merges: the kernel "
				"has no ksm_merge_any in /proc/PID/ksm_stat", pid);
	if (any < 0)
		return any;
	if (any)
		return KSM_PROCESS_MERGE_ANY;
	n = mergeable_ranges(ctx, pid, range, 0);
	if (n < 0)
		return n == -ESRCH ? ksm_fail(-ESRCH, "no process %d", pid) : n;
	return n > 0 ? KSM_PROCESS_MADVISED : 0;
}

/* Unmerging @pid needs a page per merged page: refuse if they are not there. */
static int check_unmerge_memory(struct ksm_ctx *ctx, int pid, unsigned int flags)
{
	struct ksm_proc_stats st;
	int64_t need, avail;

	if (flags & KSM_FORCE)
		return 0;
	if (ksm_proc_stats_read(ctx, pid, &st, sizeof(st)) < 0 ||
	    !(st.present & KSM_PROC_MERGING_PAGES))
		return 0;
	need = st.ksm_merging_pages * ctx->page_size;
	if (ksm_mem_available(ctx, &avail) == 0 && need > avail)
		return ksm_fail(-ENOMEM, "unmerging process %d needs %" PRId64 " MiB, only %" PRId64
				" MiB are available (force to try anyway)", pid, need >> 20,
				avail >> 20);
	return 0;
}

__attribute__((unused)) static int set_error(int pid, long r, bool enable)
{
	if (r == -EINVAL)
		return ksm_fail(-EOPNOTSUPP, "the kernel has no PR_SET_MEMORY_MERGE (6.4+, with "
				"KSM); %s", alternatives);
	if (r == -EPERM)
		return ksm_fail(-EACCES, "the prctl was refused in process %d (its seccomp filter?)",
				pid);
	if (r == -ENOMEM || r == -EAGAIN)
		return ksm_fail(-ENOMEM, "%s process %d: out of memory", enable ? "enabling merging in"
				: "unmerging", pid);
	if (r == -EINTR)
		return ksm_fail(-EINTR, "the prctl in process %d was interrupted", pid);
	return (int)r;
}

KSM_EXPORT int ksm_process_set_merge(struct ksm_ctx *ctx, int pid, int enable, unsigned int flags)
{
	struct process_ksm pk;
	bool have_pk;
	int any, r;

	ksm_fail_clear();
	if (!ctx || pid <= 0 || (flags & ~KSM_FORCE))
		return -EINVAL;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return ksm_fail(-ESRCH, "no process %d", pid);
	have_pk = process_ksm_numbers(ctx, &pk);
	if (!enable) {
		r = check_unmerge_memory(ctx, pid, flags);
		if (r < 0)
			return r;
	}
	if (have_pk) {
		long k = process_ksm_call(pid, enable ? pk.enable : pk.disable,
					  enable ? "process_ksm_enable" : "process_ksm_disable");

		if (k != -ENOSYS && k < 0)
			return (int)k;
		if (k >= 0) {
			uintptr_t range[1][2];

			if (enable)
				return 0;
			/* The syscall leaves ranges the process registered itself. */
			r = mergeable_ranges(ctx, pid, range, 0);
			if (r <= 0)
				return r == -ESRCH ? 0 : r;
			ksm_info(ctx, "process %d registered %d ranges itself; unregistering them "
				 "needs the injection", pid, r);
		}
	}
#if HAVE_INJECTION
	{
		struct inj in;

		r = inj_open(ctx, &in, pid, flags);
		if (r < 0)
			return r;
		if (enable) {
			const long args[6] = { PR_SET_MEMORY_MERGE, 1 };
			long k = inject(ctx, &in, SYS_prctl, args);

			return k < 0 ? set_error(pid, k, true) : 0;
		}
		any = merge_any_from_stat(ctx, pid);
		if (any == -ENOENT) {
			const long args[6] = { PR_GET_MEMORY_MERGE };

			any = (int)inject(ctx, &in, SYS_prctl, args);
		}
		if (any < 0)
			return set_error(pid, any, false);
		if (any) {
			/* Also unregisters and unmerges the ranges it registered itself. */
			const long args[6] = { PR_SET_MEMORY_MERGE, 0 };
			long k = inject(ctx, &in, SYS_prctl, args);

			return k < 0 ? set_error(pid, k, false) : 0;
		}
		for (;;) {
			uintptr_t ranges[64][2];
			int n = mergeable_ranges(ctx, pid, ranges, 64);

			if (n <= 0)
				return n == -ESRCH ? ksm_fail(-ESRCH, "process %d exited", pid) : n;
			for (int i = 0; i < n && i < 64; i++) {
				const long args[6] = { (long)ranges[i][0],
						       (long)(ranges[i][1] - ranges[i][0]),
						       MADV_UNMERGEABLE };
				long k = inject(ctx, &in, SYS_madvise, args);

				if (k == -ENOMEM)
					continue; /* the range went away meanwhile */
				if (k < 0)
					return set_error(pid, k, false);
			}
			if (n <= 64)
				return 0;
		}
	}
#else
	(void)any;
	return ksm_fail(-EOPNOTSUPP, "this kernel cannot change another process's merging, and "
			"libksm injects the call only on x86-64; %s", alternatives);
#endif
}

#if HAVE_INJECTION
/* The errors of an injected madvise(MADV_MERGEABLE). */
static int register_error(int pid, long r)
{
	if (r == -EINVAL)
		return ksm_fail(-EOPNOTSUPP, "the kernel of process %d has no KSM for madvise()", pid);
	if (r == -EPERM)
		return ksm_fail(-EACCES, "madvise() was refused in process %d (its seccomp filter?)",
				pid);
	if (r == -EAGAIN)
		return ksm_fail(-ENOMEM, "registering ranges of process %d: out of memory", pid);
	if (r == -EINTR)
		return ksm_fail(-EINTR, "the madvise() in process %d was interrupted", pid);
	return (int)r;
}
#endif

KSM_EXPORT int ksm_process_register(struct ksm_ctx *ctx, int pid, const struct ksm_range *ranges,
				    size_t n, unsigned int flags)
{
	int done = 0, any, r;

	ksm_fail_clear();
	if (!ctx || pid < 0 || (n && !ranges) || (flags & ~KSM_FORCE))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (ranges[i].start + ranges[i].length < ranges[i].start)
			return ksm_fail(-EINVAL, "range %zu wraps around", i);
	if (pid == 0 || pid == getpid()) {
		for (size_t i = 0; i < n; i++) {
			r = ksm_mark_mergeable_bytes((void *)(uintptr_t)ranges[i].start,
						     (size_t)ranges[i].length, NULL);
			if (r == -EFAULT || r == -ENOMEM)
				continue; /* went away, or the map count is reached */
			if (r < 0)
				return r;
			done++;
		}
		if (n && !done)
			return ksm_fail(-ENOMEM, "none of the %zu ranges could be registered (unmapped, "
					"or vm.max_map_count reached)", n);
		return done;
	}
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return ksm_fail(-ESRCH, "no process %d", pid);
	any = merge_any_from_stat(ctx, pid);
	if (any > 0) {
		ksm_info(ctx, "process %d merges process-wide: its ranges are registered already", pid);
		return (int)(n > INT_MAX ? INT_MAX : n);
	}
	if (n == 0)
		return 0;
#if HAVE_INJECTION
	{
		struct inj in;

		r = inj_open(ctx, &in, pid, flags);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			const long args[6] = { (long)ranges[i].start, (long)ranges[i].length,
					       MADV_MERGEABLE };
			long k = inject(ctx, &in, SYS_madvise, args);

			if (k == -ENOMEM || k == -EFAULT)
				continue; /* went away meanwhile, or the map count is reached */
			if (k < 0)
				return register_error(pid, k);
			done++;
		}
		if (!done)
			return ksm_fail(-ENOMEM, "none of the %zu ranges of process %d could be "
					"registered (unmapped, or vm.max_map_count reached)", n, pid);
		return done;
	}
#else
	(void)r;
	return ksm_fail(-EOPNOTSUPP, "registering ranges of another process needs ptrace "
			"injection, which libksm has on x86-64 only (the process_ksm syscalls "
			"register whole processes: 'ksmctl enable --pid %d')", pid);
#endif
}

/* ------------------------------------------------------------------------ */
/* The processes of a cgroup or a systemd unit                               */

/* Add the pids of the cgroup.procs below @dirfd, read to its end line by
 * line (a busy cgroup lists thousands: no size limit). */
static int read_procs(int dirfd, int *pids, size_t max, size_t *n)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		int64_t v;

		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (ksm_parse_int64(line, &v) == 0 && v > 0 && v <= INT32_MAX) {
			if (*n < max)
				pids[*n] = (int)v;
			(*n)++;
		}
	}
	len = ferror(f) ? -EIO : 0;
	free(line);
	fclose(f);
	return (int)len;
}

/* Add the pids of cgroup.procs below @dirfd and of every child cgroup. */
static int collect_pids(int dirfd, int *pids, size_t max, size_t *n, int depth)
{
	DIR *d;
	int fd, r;

	r = read_procs(dirfd, pids, max, n);
	if (r < 0)
		return r;
	if (depth > 32)
		return 0;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	for (struct dirent *e; (e = readdir(d));) {
		int sub;

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0)
			continue;
		collect_pids(sub, pids, max, n, depth + 1);
		close(sub);
	}
	closedir(d);
	return 0;
}

/* @path relative to <sysroot>/sys/fs/cgroup, whether given with that prefix or not. */
static const char *cgroup_rel(const char *path)
{
	static const char prefix[] = "/sys/fs/cgroup";

	if (strncmp(path, prefix, sizeof(prefix) - 1) == 0 &&
	    (path[sizeof(prefix) - 1] == '/' || !path[sizeof(prefix) - 1]))
		path += sizeof(prefix) - 1;
	path += strspn(path, "/");
	return *path ? path : ".";
}

KSM_EXPORT int ksm_cgroup_pids(struct ksm_ctx *ctx, const char *cgroup, int *pids, size_t max)
{
	char path[4096];
	size_t n = 0;
	int fd, r;

	ksm_fail_clear();
	if (!ctx || !cgroup || (!pids && max) || strstr(cgroup, ".."))
		return -EINVAL;
	snprintf(path, sizeof(path), "sys/fs/cgroup/%s", cgroup_rel(cgroup));
	fd = openat(ctx->rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		return ksm_fail(r == -ENOTDIR ? -ENOENT : r, "no cgroup %s/%s: %s", ctx->sysroot,
				path, strerror(-r));
	}
	r = collect_pids(fd, pids, max, &n, 0);
	close(fd);
	if (r < 0)
		return ksm_fail(r, "cannot read %s/%s/cgroup.procs (cgroup v2 needed): %s",
				ctx->sysroot, path, strerror(-r));
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

/* Depth-first search below @dirfd for a directory named @name. */
static bool find_dir(int dirfd, const char *name, char *rel, size_t size, size_t len, int depth)
{
	DIR *d;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool found = false;

	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	for (struct dirent *e; !found && (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		int sub;

		if (e->d_type != DT_DIR || e->d_name[0] == '.' || len + l + 2 > size)
			continue;
		snprintf(rel + len, size - len, "%s%s", len ? "/" : "", e->d_name);
		if (strcmp(e->d_name, name) == 0) {
			found = true;
			break;
		}
		if (depth >= 8)
			continue;
		sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0)
			continue;
		found = find_dir(sub, name, rel, size, len + l + (len ? 1 : 0), depth + 1);
		close(sub);
	}
	closedir(d);
	if (!found)
		rel[len] = '\0';
	return found;
}

KSM_EXPORT int ksm_unit_cgroup(struct ksm_ctx *ctx, const char *unit, char *buf, size_t size)
{
	char name[256], rel[4096] = "";
	int fd;

	ksm_fail_clear();
	if (!ctx || !unit || !*unit || !buf || strchr(unit, '/') || strlen(unit) > 200)
		return -EINVAL;
	/* systemd's rule: a name without a unit type is a service. */
	snprintf(name, sizeof(name), "%s%s", unit, strchr(unit, '.') ? "" : ".service");
	fd = openat(ctx->rootfd, "sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ksm_fail(-ENOENT, "no cgroup tree at %s/sys/fs/cgroup", ctx->sysroot);
	if (!find_dir(fd, name, rel, sizeof(rel), 0, 0)) {
		close(fd);
		return ksm_fail(-ENOENT, "no cgroup for the unit %s below %s/sys/fs/cgroup (is it "
				"running?)", name, ctx->sysroot);
	}
	close(fd);
	if (strlen(rel) + 1 > size)
		return -ENOSPC;
	memcpy(buf, rel, strlen(rel) + 1);
	return (int)strlen(rel);
}

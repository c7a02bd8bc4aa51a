// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tune: the foreground loop around the library's tuner (ksm_tune_*), with
 * the signals of ksmtuned (SIGUSR1 re-tunes), SIGHUP to reload, SIGTERM to
 * stop, and the systemd notification protocol spoken directly: datagrams
 * to $NOTIFY_SOCKET, so that nothing links libsystemd.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ksmctl.h"

static int log_level = LOG_NOTICE;
static bool journal; /* stderr goes to the journal: prefix "<N>" levels */

static void vlog(int prio, const char *fmt, va_list ap)
{
	if (prio > log_level)
		return;
	if (journal)
		fprintf(stderr, "<%d>", prio);
	else
		fprintf(stderr, "%s tune: ", progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

__attribute__((format(printf, 2, 3))) static void tlog(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, fmt, ap);
	va_end(ap);
}

static void lib_log(void *data, int prio, const char *file, int line, const char *fn,
		    const char *format, va_list args)
{
	vlog(prio, format, args);
}

/* ------------------------------------------------------------------------ */
/* sd_notify(3)'s protocol: one datagram per message to $NOTIFY_SOCKET      */

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;

static void notify_open(void)
{
	const char *e = getenv("NOTIFY_SOCKET");
	size_t n;

	if (!e || (e[0] != '/' && e[0] != '@') || (n = strlen(e)) >= sizeof(notify_addr.sun_path))
		return;
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, e, n);
	if (e[0] == '@')
		notify_addr.sun_path[0] = '\0'; /* abstract namespace */
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	/* Never block on a service manager that does not read. */
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

static void notify(const char *msg)
{
	if (notify_fd >= 0 &&
	    sendto(notify_fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&notify_addr,
		   notify_len) < 0)
		tlog(LOG_DEBUG, "cannot notify the service manager: %s", strerror(errno));
}

/* The watchdog period in ms asked by the service manager, 0 for none. */
static int64_t watchdog_ms(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");

	if (!usec || (pid && strtol(pid, NULL, 10) != getpid()))
		return 0;
	return strtoll(usec, NULL, 10) / 1000;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------ */

static void print_decision(struct ksm_ctx *ctx, const struct ksm_tune_decision *d)
{
	uint64_t ksmd_ns;
	static const char *const names[] = { "run", "pages_to_scan", "sleep_millisecs", "advisor_mode",
					     "advisor_max_cpu", "advisor_min_pages_to_scan",
					     "advisor_max_pages_to_scan" };
	const int64_t *v = &d->run;
	char a[32], b[32], c[32], e[32], f[32];
	bool any = false;

	printf("decision:");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (v[i] < 0)
			continue;
		if (i == 3)
			printf(" %s=%s", names[i], v[i] ? "scan-time" : "none");
		else
			printf(" %s=%" PRId64, names[i], v[i]);
		any = true;
	}
	printf("%s\nreason: %s\n", any ? "" : " leave the knobs alone", d->reason);
	format_bytes(d->mem_total, a, sizeof(a));
	format_bytes(d->mem_available, b, sizeof(b));
	format_bytes(d->mem_free, c, sizeof(c));
	format_bytes(d->threshold, e, sizeof(e));
	format_bytes(d->committed, f, sizeof(f));
	printf("memory: total %s, available %s, free+buffers+cached %s, threshold %s\n", a,
	       d->mem_available < 0 ? "-" : b, c, e);
	if (d->registered_procs < 0)
		printf("registered: %s (the kernel does not tell which processes registered)\n", f);
	else
		printf("registered: %" PRId64 " processes, %s\n", d->registered_procs, f);
	if (d->psi_some_avg10 >= 0)
		printf("pressure: some %.2f%%, full %.2f%% (avg10)\n", d->psi_some_avg10,
		       d->psi_full_avg10 < 0 ? 0 : d->psi_full_avg10);
	else
		printf("pressure: - (no /proc/pressure/memory)\n");
	format_bytes(d->saved_bytes, a, sizeof(a));
	if (d->ksmd_cpu >= 0)
		printf("ksm: saving %s, ksmd %.1f%% CPU\n", a, d->ksmd_cpu);
	else if (ksm_ksmd_cpu(ctx, &ksmd_ns) == 0) /* one reading: no rate, the total */
		printf("ksm: saving %s, ksmd %.2f CPU-seconds since it started\n", a, (double)ksmd_ns / 1e9);
	else
		printf("ksm: saving %s\n", a);
	fflush(stdout);
}

/* One decision; logged, and told to the service manager. */
static int decide(struct ksm_ctx *ctx, struct ksm_tune *tune, unsigned int flags, bool print,
		  const char *why)
{
	struct ksm_tune_decision d;
	char msg[400], saved[32];
	int r;

	r = ksm_tune_decide(tune, flags, &d, sizeof(d));
	if (r < 0) {
		tlog(LOG_ERR, "%s", ksm_strerror(r));
		snprintf(msg, sizeof(msg), "STATUS=failed: %s", ksm_strerror(r));
		notify(msg);
		return r;
	}
	if (print)
		print_decision(ctx, &d);
	tlog(d.written ? LOG_NOTICE : LOG_INFO, "%s%s%s", why ? why : "", why ? ": " : "", d.reason);
	format_bytes(d.saved_bytes, saved, sizeof(saved));
	if (d.ksmd_cpu >= 0)
		snprintf(msg, sizeof(msg), "STATUS=saving %s, ksmd %.1f%% CPU; %s", saved, d.ksmd_cpu,
			 d.reason);
	else
		snprintf(msg, sizeof(msg), "STATUS=saving %s; %s", saved, d.reason);
	notify(msg);
	return 0;
}

static int load(struct ksm_tune *tune, const char *config)
{
	int64_t debug = 0;
	int r = ksm_tune_load(tune, config, NULL);

	if (r < 0)
		return r;
	if (ksm_tune_get(tune, "debug", &debug) == 0 && debug)
		log_level = LOG_DEBUG;
	return 0;
}

int cmd_tune(struct ksm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, '1' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config = NULL;
	bool once = false, dry_run = false, verbose = false;
	unsigned int flags;
	struct ksm_tune *tune = NULL;
	int64_t interval_ms, wd_ms, next, next_wd = 0, react = 1, restore = 1, v;
	sigset_t sigs;
	int c, r, sfd = -1, status = EXIT_SUCCESS;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:1nvh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case '1':
			once = true;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			return cmd_help(NULL, 2, (char *[]){ "help", "tune", NULL });
		default:
			return usage_error("invalid option for 'tune'");
		}
	}
	if (optind < argc)
		return usage_error("'tune' takes no arguments");
	flags = dry_run ? KSM_TUNE_DRY_RUN : 0;
	journal = getenv("JOURNAL_STREAM") != NULL;
	if (verbose)
		log_level = LOG_DEBUG;
	ksm_set_log_fn(ctx, lib_log, NULL);
	ksm_set_log_priority(ctx, LOG_DEBUG);

	r = ksm_tune_new(ctx, &tune);
	if (r < 0)
		return fail(r);
	r = load(tune, config);
	if (r < 0) {
		status = fail(r);
		goto out;
	}
	if (once) {
		r = decide(ctx, tune, flags, true, NULL);
		status = r < 0 ? exit_status(r) : EXIT_SUCCESS;
		goto out;
	}

	/* Signals are taken synchronously, from a signalfd: no handlers. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		status = fail(-errno);
		goto out;
	}
	notify_open();
	wd_ms = watchdog_ms();

	ksm_tune_poll(tune); /* the starting point of "new processes" */
	decide(ctx, tune, flags, dry_run, "start");
	notify("READY=1");
	ksm_tune_get(tune, "interval", &v);
	interval_ms = v * 1000;
	ksm_tune_get(tune, "react", &react);
	next = now_ms() + interval_ms;
	for (;;) {
		/* Wake up for a signal, the next interval, the watchdog, and with
		 * react = yes for the tuner's own events: a process registering
		 * memory (the ksm:ksm_enter tracepoint) or starting (the proc
		 * connector, without the tracepoint), or the times ksm_tune_next()
		 * gives (processes under watch, ksmd scanning, the poll of
		 * /proc/loadavg without either). Nothing else wakes an idle tuner. */
		struct pollfd pfd[2] = { { .fd = sfd, .events = POLLIN }, { .fd = -1, .events = POLLIN } };
		struct signalfd_siginfo si;
		int64_t now = now_ms(), tick = INT64_MAX;
		const char *why = NULL;
		int sig = 0, due;

		if (react) {
			due = ksm_tune_next(tune, &pfd[1].fd);
			if (due >= 0)
				tick = due;
		}
		if (wd_ms > 0) {
			if (now >= next_wd) {
				notify("WATCHDOG=1");
				next_wd = now + wd_ms / 2;
			}
			if (next_wd - now < tick)
				tick = next_wd - now;
		}
		if (next - now < tick)
			tick = next - now > 0 ? next - now : 0;
		r = poll(pfd, 2, (int)(tick > INT32_MAX ? INT32_MAX : tick));
		if (r < 0 && errno != EINTR) {
			status = fail(-errno);
			break;
		}
		if (r > 0 && (pfd[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == sizeof(si))
			sig = (int)si.ssi_signo;
		if (sig == SIGTERM || sig == SIGINT) {
			tlog(LOG_NOTICE, "%s: stopping", strsignal(sig));
			break;
		}
		if (sig == SIGHUP) {
			notify("RELOADING=1");
			r = load(tune, config);
			if (r < 0)
				tlog(LOG_ERR, "reload failed, the settings stay: %s", ksm_strerror(r));
			else
				tlog(LOG_NOTICE, "settings reloaded");
			ksm_tune_get(tune, "interval", &v);
			interval_ms = v * 1000;
			ksm_tune_get(tune, "react", &react);
			why = "reload";
		} else if (sig == SIGUSR1) {
			why = "SIGUSR1";
		} else if (now_ms() >= next) {
			why = "interval";
		} else if (react && !sig) {
			r = ksm_tune_poll(tune);
			if (r == KSM_TUNE_POLL_NEW_PROCESS)
				why = "a new process registered memory for merging";
			else if (r == KSM_TUNE_POLL_SCANNED)
				why = "a full scan completed";
			else if (r == KSM_TUNE_POLL_CATCHUP_END)
				why = "the full-speed scan for a new process ran out of time";
		}
		if (!why)
			continue;
		decide(ctx, tune, flags, dry_run, why);
		if (sig == SIGHUP)
			notify("READY=1");
		next = now_ms() + interval_ms;
	}
	notify("STOPPING=1");
	ksm_tune_get(tune, "restore", &restore);
	if (restore && !dry_run) {
		r = ksm_tune_restore(tune);
		if (r < 0) {
			tlog(LOG_ERR, "cannot restore the knobs: %s", ksm_strerror(r));
			status = exit_status(r);
		} else if (r > 0) {
			tlog(LOG_NOTICE, "restored %d knob(s) to their values before", r);
		}
	}
out:
	if (sfd >= 0)
		close(sfd);
	ksm_tune_unref(tune);
	return status;
}

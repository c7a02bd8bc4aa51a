// SPDX-License-Identifier: LGPL-2.1-or-later
/* doctor and watch: what KSM is doing, why it does not merge more. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ksmctl.h"

/* ------------------------------------------------------------------------ */
/* doctor                                                                    */

static const char *const severity_names[] = { "OK", "WARN", "FAIL" };
static const char *const severity_json[] = { "ok", "warn", "fail" };

struct doctor_out {
	bool json;
	int n;
	int worst;
};

static int doctor_print(const struct ksm_finding *f, void *data)
{
	struct doctor_out *o = data;
	int sev = f->severity >= KSM_SEVERITY_OK && f->severity <= KSM_SEVERITY_FAIL ? (int)f->severity : 2;

	if (sev > o->worst)
		o->worst = sev;
	if (o->json) {
		printf("%s\n  {\"id\": ", o->n ? "," : "");
		json_string(f->id);
		printf(", \"severity\": \"%s\", \"summary\": ", severity_json[sev]);
		json_string(f->summary);
		printf(", \"evidence\": ");
		json_string(f->evidence);
		printf(", \"fix\": ");
		json_string(f->fix);
		printf("}");
	} else {
		printf("%-4s  %s\n", severity_names[sev], f->summary);
		if (f->evidence[0])
			printf("      %s\n", f->evidence);
		if (f->fix[0] && sev > KSM_SEVERITY_OK)
			printf("      fix: %s\n", f->fix);
		else if (f->fix[0])
			printf("      note: %s\n", f->fix);
	}
	o->n++;
	return 0;
}

int cmd_doctor(struct ksm_ctx *ctx, int argc, char **argv)
{
	struct doctor_out o = { 0 };
	int r;

	PARSE_OPTIONS(argc, argv, &o.json, "doctor");
	if (argc > 0)
		return usage_error("'doctor' takes no arguments");
	if (o.json)
		printf("[");
	r = ksm_doctor(ctx, doctor_print, &o);
	if (o.json)
		printf("%s]\n", o.n ? "\n" : "");
	if (r < 0)
		return fail(r);
	if (!o.json)
		printf("\n%d checks: %s\n", o.n,
		       o.worst == KSM_SEVERITY_OK ? "nothing to fix" :
		       o.worst == KSM_SEVERITY_WARN ? "merging works less well than it could (WARN)" :
						      "nothing merges until the FAIL lines are fixed");
	return EXIT_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* watch                                                                     */

static volatile sig_atomic_t watch_stop, watch_resized;

static void on_stop(int sig)
{
	watch_stop = 1;
}

static void on_winch(int sig)
{
	watch_resized = 1;
}

struct sample {
	double t;           /* CLOCK_MONOTONIC seconds */
	struct ksm_stats st;
	bool have_cpu;
	uint64_t cpu_usec;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The rates between two samples; NAN-free: -1 where there is no figure. */
struct rates {
	double merged_per_s, scans_per_min, secs_per_scan, cpu_percent;
};

static struct rates rates_of(const struct sample *a, const struct sample *b)
{
	struct rates r = { -1, -1, -1, -1 };
	double dt = b->t - a->t;

	if (!a->t || dt <= 0)
		return r;
	/* A reset (run=2) drops the counters: no rate across it. */
	if (b->st.pages_sharing >= 0 && b->st.full_scans >= a->st.full_scans) {
		r.merged_per_s = (double)(b->st.pages_sharing - a->st.pages_sharing) / dt;
		r.scans_per_min = (double)(b->st.full_scans - a->st.full_scans) * 60.0 / dt;
		if (b->st.full_scans > a->st.full_scans)
			r.secs_per_scan = dt / (double)(b->st.full_scans - a->st.full_scans);
	}
	if (a->have_cpu && b->have_cpu && b->cpu_usec >= a->cpu_usec)
		r.cpu_percent = (double)(b->cpu_usec - a->cpu_usec) / (dt * 1e4);
	return r;
}

static void fmt_rate(char *buf, size_t size, double v, int decimals, const char *unit)
{
	if (v < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.*f%s", decimals, v, unit);
}

static int by_saved(const void *a, const void *b)
{
	const struct proc_entry *x = a, *y = b;

	if (x->proc.stats.saved_bytes != y->proc.stats.saved_bytes)
		return x->proc.stats.saved_bytes < y->proc.stats.saved_bytes ? 1 : -1;
	return x->proc.pid - y->proc.pid;
}

/* One screen: at most @rows lines of at most @cols columns (0: no limit). */
static void draw(FILE *f, const struct sample *s, const struct rates *r, const struct proc_table *t,
		 double interval, int rows, int cols)
{
	char saved[32], profit[32], merged[32], scans[32], per_scan[32], cpu[32], line[512];
	time_t wall = time(NULL);
	struct tm tm;
	int64_t run = s->st.run;
	int used = 0;

	localtime_r(&wall, &tm);
	format_bytes(s->st.saved_bytes, saved, sizeof(saved));
	format_bytes(s->st.profit_bytes, profit, sizeof(profit));
	fmt_rate(merged, sizeof(merged), r->merged_per_s, 1, "");
	fmt_rate(scans, sizeof(scans), r->scans_per_min, 2, "");
	fmt_rate(per_scan, sizeof(per_scan), r->secs_per_scan, 1, " s");
	fmt_rate(cpu, sizeof(cpu), r->cpu_percent, 1, "%");

#define LINE(...)                                                                   \
	do {                                                                        \
		if (rows <= 0 || used < rows) {                                     \
			snprintf(line, sizeof(line), __VA_ARGS__);                  \
			fprintf(f, "%.*s\n", cols > 0 ? cols : (int)sizeof(line), line); \
			used++;                                                     \
		}                                                                   \
	} while (0)

	LINE("ksmctl watch: every %.1f s, %02d:%02d:%02d (q quits)", interval, tm.tm_hour, tm.tm_min,
	     tm.tm_sec);
	LINE("KSM: %s (run=%" PRId64 ")   pages_to_scan=%" PRId64 "   sleep_millisecs=%" PRId64,
	     run == KSM_RUN_MERGE ? "running" : run == KSM_RUN_UNMERGE ? "stopped, unmerged" : "stopped",
	     run, s->st.pages_to_scan, s->st.sleep_millisecs);
	LINE("Saved: %s (%" PRId64 " pages)   Profit: %s   Sharing ratio: %.2f", saved,
	     s->st.saved_pages, profit, s->st.sharing_ratio);
	LINE("Rates: %s pages merged/s   %s full scans/min   %s per full scan   ksmd CPU %s", merged,
	     scans, per_scan, cpu);
	LINE("Pages: shared %" PRId64 "   sharing %" PRId64 "   unshared %" PRId64 "   volatile %" PRId64
	     "   full scans %" PRId64, s->st.pages_shared, s->st.pages_sharing, s->st.pages_unshared,
	     s->st.pages_volatile, s->st.full_scans);
	LINE("%s", "");
	LINE("%7s %-15s %10s %10s  %s", "PID", "COMM", "SAVED", "PROFIT", "UNIT");
	for (size_t i = 0; i < t->n; i++) {
		const struct proc_entry *e = &t->v[i];
		char ps[32], pp[32];

		format_bytes(e->proc.stats.saved_bytes, ps, sizeof(ps));
		format_bytes(e->proc.stats.profit_bytes, pp, sizeof(pp));
		LINE("%7d %-15s %10s %10s  %.200s", e->proc.pid, e->proc.comm, ps, pp,
		     (e->id.present & KSM_IDENT_UNIT) ? e->id.unit :
		     (e->id.present & KSM_IDENT_CGROUP) ? e->id.cgroup : "-");
	}
#undef LINE
}

/* One line per sample, for logs and pipes. */
static void draw_plain(const struct sample *s, const struct rates *r)
{
	char merged[32], scans[32], per_scan[32], cpu[32];
	time_t wall = time(NULL);
	struct tm tm;

	localtime_r(&wall, &tm);
	fmt_rate(merged, sizeof(merged), r->merged_per_s, 1, "");
	fmt_rate(scans, sizeof(scans), r->scans_per_min, 2, "");
	fmt_rate(per_scan, sizeof(per_scan), r->secs_per_scan, 1, "");
	fmt_rate(cpu, sizeof(cpu), r->cpu_percent, 1, "");
	printf("%02d:%02d:%02d run=%" PRId64 " saved_bytes=%" PRId64 " profit_bytes=%" PRId64
	       " pages_sharing=%" PRId64 " merged_per_s=%s full_scans_per_min=%s"
	       " seconds_per_full_scan=%s ksmd_cpu_percent=%s\n",
	       tm.tm_hour, tm.tm_min, tm.tm_sec, s->st.run, s->st.saved_bytes, s->st.profit_bytes,
	       s->st.pages_sharing, merged, scans, per_scan, cpu);
	fflush(stdout);
}

static struct termios saved_tio;
static bool tio_saved, screen_on;

static void terminal_restore(void)
{
	if (screen_on) {
		fputs("\033[?25h\033[?1049l", stdout); /* cursor back, main screen back */
		fflush(stdout);
		screen_on = false;
	}
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		tio_saved = false;
	}
}

int cmd_watch(struct ksm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sample prev = { 0 }, cur;
	double interval = 2.0;
	long count = 0, done = 0;
	bool tty = isatty(STDOUT_FILENO), keys = tty && isatty(STDIN_FILENO);
	struct sigaction sa = { 0 };
	char *end;
	int c, r, status = EXIT_SUCCESS;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":i:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			errno = 0;
			interval = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(interval >= 0.1) || interval > 86400)
				return usage_error("--interval takes seconds from 0.1 to 86400, not '%s'", optarg);
			break;
		case 'n':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || count < 1)
				return usage_error("--count takes a number of refreshes, not '%s'", optarg);
			break;
		case 'h':
			return cmd_help(NULL, 2, (char *[]){ "help", "watch", NULL });
		default:
			return option_error("watch", c, argv);
		}
	}
	if (optind < argc)
		return usage_error("'watch' takes no arguments");

	/* Fail early and plainly if there is nothing to watch. */
	r = ksm_stats_read(ctx, &cur.st, sizeof(cur.st));
	if (r < 0)
		return fail(r);

	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, NULL);

	if (keys && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		struct termios raw = saved_tio;

		tio_saved = true;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	}
	if (tty) {
		fputs("\033[?1049h\033[?25l", stdout); /* alternate screen, no cursor */
		screen_on = true;
	}

	while (!watch_stop) {
		struct proc_table t = { 0 };
		struct rates rt;
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		double deadline;

		cur.t = now();
		r = ksm_stats_read(ctx, &cur.st, sizeof(cur.st));
		if (r < 0) {
			terminal_restore();
			return fail(r);
		}
		cur.have_cpu = ksm_ksmd_cpu(ctx, &cur.cpu_usec) == 0;
		cur.cpu_usec /= 1000; /* ns to µs */
		rt = rates_of(&prev, &cur);
		if (tty) {
			struct winsize ws = { 0 };
			int rows = 0, cols = 0;

			if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
				rows = ws.ws_row;
				cols = ws.ws_col;
			}
			if (proc_table_fill(ctx, &t, true, NULL) >= 0 && t.n > 1)
				qsort(t.v, t.n, sizeof(*t.v), by_saved);
			fputs("\033[H\033[2J", stdout);
			draw(stdout, &cur, &rt, &t, interval, rows > 1 ? rows - 1 : rows, cols);
			fflush(stdout);
			proc_table_free(&t);
		} else {
			draw_plain(&cur, &rt);
		}
		prev = cur;
		if (count && ++done >= count)
			break;

		/* Wait for the interval, a key, a signal or a resize. */
		deadline = now() + interval;
		while (!watch_stop && !watch_resized) {
			double left = deadline - now();
			int n;

			if (left <= 0)
				break;
			n = poll(&pfd, keys ? 1 : 0, (int)(left * 1000.0) + 1);
			if (n > 0 && (pfd.revents & POLLIN)) {
				char key;

				if (read(STDIN_FILENO, &key, 1) == 1 && (key == 'q' || key == 'Q'))
					watch_stop = 1;
				else if (key == ' ')
					break; /* refresh now */
			} else if (n > 0) {
				keys = false; /* stdin closed: keys no longer work */
			}
		}
		watch_resized = 0;
	}
	terminal_restore();
	return status;
}

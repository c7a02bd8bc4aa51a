// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksmctl - control Linux Kernel Samepage Merging.
 *
 * A thin front end: it parses arguments, calls libksm and prints. Every
 * decision about the kernel (names, ranges, prerequisites, ordering) is made
 * by the library; these files only turn results into text. This one holds
 * main(), the global options and the command table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ksmctl.h"

const char *progname = "ksmctl";

/* The default profile, for help texts; the library resolves it below the system root. */
#ifdef LIBKSM_SYSCONFDIR
#define DEFAULT_PROFILE LIBKSM_SYSCONFDIR "/ksm.conf"
#else
#define DEFAULT_PROFILE "ksm.conf in the configuration directory"
#endif

/* ------------------------------------------------------------------------ */

static const struct command commands[] = {
	{ "status", cmd_status, "[--json | --prometheus [--output FILE]]",
	  "Show whether KSM runs, every tunable and counter, and the savings.",
	  "\nOptions:\n  -j, --json         print one JSON object; keys are the sysfs file names\n"
	  "                     (enums also as NAME_name), page_size, and \"derived\" with\n"
	  "                     saved_pages, saved_bytes, profit_bytes, sharing_ratio and\n"
	  "                     effectiveness; the schema is in ksmctl(8), JSON OUTPUT\n"
	  "  -p, --prometheus   print the Prometheus text format: node_exporter's\n"
	  "                     node_ksmd_* metrics, every other knob and figure as ksm_*,\n"
	  "                     ksmd's CPU time, the boost state, per-process and\n"
	  "                     per-cgroup figures\n"
	  "  -o, --output FILE  with --prometheus: replace FILE atomically (a temporary\n"
	  "                     file in its directory, then rename), e.g. for\n"
	  "                     node_exporter's textfile collector\n" },
	{ "get", cmd_get, "[--json|--value] KNOB...", "Print knobs as KNOB=VALUE.",
	  "\nOptions:\n  -j, --json    print one JSON object\n"
	  "  -n, --value   print the values only, one a line, for scripts\n" },
	{ "set", cmd_set, "[--allow-unmerge [--force]] [--dry-run] KNOB=VALUE...",
	  "Change knobs as one transaction: all or nothing.",
	  "\nOptions:\n  -u, --allow-unmerge  unmerge all pages first if a knob needs it\n"
	  "  -f, --force          unmerge even if the memory available seems too small\n"
	  "  -n, --dry-run        print the writes in the order they would happen\n"
	  "\nNothing is written unless every value is valid. The writes are ordered so\n"
	  "that the kernel accepts them; if one fails, every knob already changed is\n"
	  "written back, and the message names the knob, the reason and the fix.\n" },
	{ "run", cmd_run, "", "Start merging (run=1).", "" },
	{ "start", cmd_run, "", "Alias of 'run', for ksm.service units (KSM_MAX_KERNEL_PAGES is ignored).",
	  "\nWhile KSM is disabled by policy ('ksmctl disable'), 'start' leaves it\n"
	  "disabled, says so and exits 0; 'run' fails.\n" },
	{ "stop", cmd_stop, "", "Stop merging; merged pages stay merged (run=0).", "" },
	{ "unmerge", cmd_unmerge, "[--force]", "Stop merging and unmerge every page (run=2).",
	  "\nOptions:\n  -f, --force   unmerge even if the memory available seems too small\n"
	  "\nUnmerging copies every shared page back: memory use can grow by the\n"
	  "pages_sharing count at once. ksmctl first prints that cost and the memory\n"
	  "available, and refuses when the cost is larger, unless --force is given.\n" },
	{ "features", cmd_features, "[--json]", "Show what this kernel offers, detected by files and errno.",
	  "\nOptions:\n  -j, --json   print one JSON object of booleans\n" },
	{ "knobs", cmd_knobs, "[--json]", "List every knob libksm knows: kind, type, range, prerequisites.",
	  "\nOptions:\n  -j, --json   print a JSON array\n" },
	{ "exec", cmd_exec, "[--] COMMAND [ARG...]", "Run COMMAND with process-wide merging enabled.",
	  "\nThe setting (prctl PR_SET_MEMORY_MERGE) is inherited by the command's\n"
	  "children and across exec, as with systemd's MemoryKSM=yes. Exit status is\n"
	  "the command's; 126 if it cannot be run, 127 if it is not found.\n" },
	{ "ps", cmd_ps, "[--json] [--sort KEY] [--by KEY] [--prometheus] [PID...]",
	  "List processes with KSM activity, largest saving first.",
	  "\nOptions:\n  -j, --json         print a JSON array; keys are the ksm_stat field names,\n"
	  "                     plus cmdline, cgroup, unit, guest and vmid where known\n"
	  "  -s, --sort KEY     profit (default), merging, zero or rmap\n"
	  "  -b, --by KEY       sum the processes by cgroup, unit (systemd) or comm\n"
	  "  -p, --prometheus   print ksm_process_* and ksm_cgroup_* metrics\n"
	  "  -o, --output FILE  with --prometheus: replace FILE atomically\n"
	  "\nUNIT is the systemd unit (else the cgroup), GUEST the QEMU guest name and/or\n"
	  "the Proxmox VMID; the command line is cut at the terminal's width.\n" },
	{ "doctor", cmd_doctor, "[--json]", "Tell why nothing (or too little) merges: checks with evidence and fixes.",
	  "\nOptions:\n  -j, --json   print a JSON array of {id, severity, summary, evidence, fix}\n"
	  "\nEach check is OK, WARN (merging works less well than it could) or FAIL\n"
	  "(nothing merges until it is fixed). Exit status 0 when the checks ran.\n" },
	{ "watch", cmd_watch, "[--interval SECONDS] [--count N]",
	  "Show KSM live, like top: state, savings, rates, ksmd CPU, top processes.",
	  "\nOptions:\n  -i, --interval SECS  seconds between refreshes (default 2, at least 0.1)\n"
	  "  -n, --count N        stop after N refreshes\n"
	  "\nOn a terminal the screen is redrawn in place; q or Ctrl-C quits and the\n"
	  "terminal is restored; space refreshes at once. Otherwise one line of\n"
	  "key=value pairs is printed per refresh.\n" },
	{ "wait", cmd_wait, "[--scans N] [--timeout SECONDS]", "Wait until ksmd completes N more full scans.",
	  "\nOptions:\n  -n, --scans N        full scans to wait for (default 1)\n"
	  "  -t, --timeout SECS   give up after SECS seconds (fractions allowed)\n"
	  "\nExit status: 0 done, 3 timed out, 4 ksmd not running, 5 nothing registered\n"
	  "for merging (ksmd would never scan; reported at once, also with --timeout),\n"
	  "1 other failure, 2 usage error.\n" },
	{ "apply", cmd_apply, "[-u [-f]] [-n] [--if-exists] [--start] [FILE]",
	  "Apply a profile (default " DEFAULT_PROFILE ") all or nothing.",
	  "\nOptions:\n  -u, --allow-unmerge  unmerge all pages first if a knob needs it\n"
	  "  -f, --force          unmerge even if the memory available seems too small\n"
	  "  -n, --dry-run        print the writes in the order they would happen\n"
	  "  -e, --if-exists      succeed without doing anything if FILE does not exist\n"
	  "  -s, --start          start merging (run=1) unless the profile sets run\n"
	  "\nWithout FILE, the profile is " DEFAULT_PROFILE " below the system root\n"
	  "(--sysroot or $KSM_SYSROOT, else /).\n"
	  "The writes are ordered so that the kernel accepts them; if one fails,\n"
	  "every knob already changed is written back. Format: ksm.conf(5).\n" },
	{ "save", cmd_save, "[FILE|-]", "Write the current tunables as a profile (default " DEFAULT_PROFILE ").",
	  "\nThe file is replaced atomically; '-' writes to standard output. Without\n"
	  "FILE, the profile is " DEFAULT_PROFILE " below the system root (--sysroot or\n"
	  "$KSM_SYSROOT, else /), never outside it.\n" },
	{ "merge-now", cmd_merge_now, "[--guided TARGET...] [--scans N] [--timeout SECS]",
	  "Run ksmd at full speed for N full scans (default 2), then restore the knobs.",
	  "\nOptions:\n  -n, --scans N        full scans to wait for (default 2)\n"
	  "  -t, --timeout SECS   give up after SECS seconds\n"
	  "      --guided         first estimate TARGET (--pid PID, repeatable; --cgroup\n"
	  "                       PATH; --unit NAME; --all) and register only the ranges\n"
	  "                       that hold pages that would merge, so that ksmd scans\n"
	  "                       just those (other processes through ptrace, x86-64)\n"
	  "      --gap PAGES      join such pages into one range across at most PAGES\n"
	  "                       other pages (default 32)\n"
	  "  -v, --verify SECS    leave out pages that change within SECS (estimate)\n"
	  "  -d, --dry-run        print the ranges; register nothing, merge nothing\n"
	  "  -f, --force          register in processes with a seccomp filter\n"
	  "\nBoosts of several processes share one boost; the last to finish restores\n"
	  "the values from before the first, except knobs changed meanwhile. Refused\n"
	  "while KSM is disabled (run=2). SIGINT, SIGTERM and SIGHUP restore too.\n"
	  "Exit status: 0 done, 3 timed out, 4 ksmd stopped meanwhile, 5 nothing\n"
	  "registered for merging (reported at once), 1 other failure, 2 usage error.\n" },
	{ "estimate", cmd_estimate, "TARGET... [--sample RATE] [--verify SECS] [--json]",
	  "Predict what KSM would save for processes, before enabling it.",
	  "\nTARGET is one of (--pid may be repeated; each is a target):\n"
	  "  -p, --pid PID        a process\n"
	  "  -c, --cgroup PATH    the processes of a cgroup and its descendants\n"
	  "  -u, --unit NAME      the processes of a systemd unit (its cgroup)\n"
	  "  -a, --all            every process\n"
	  "\nOptions:\n"
	  "  -s, --sample RATE    content-keyed sampling, 0 < RATE <= 1 or a percentage;\n"
	  "                       prints a 95 % confidence interval (default: read all)\n"
	  "      --seed N         which sample (default 0)\n"
	  "  -v, --verify SECS    re-read the duplicates after SECS and leave out those\n"
	  "                       that changed, as ksmd does (default: no verify pass)\n"
	  "  -N, --normal-priority  do not run at SCHED_IDLE\n"
	  "  -M, --memory-limit BYTES  sample by content when a full estimate would need\n"
	  "                       more memory (K, M, G suffixes; 0: no limit; default 512M)\n"
	  "  -j, --json           print one JSON object; keys are the kernel's names\n"
	  "\nReads the targets' memory without changing it (through /proc/PID/mem) and\n"
	  "predicts pages_sharing, pages_shared, ksm_zero_pages, rmap_items,\n"
	  "general_profit and the memory actually freed with the current\n"
	  "max_page_sharing, use_zero_pages and merge_across_nodes, for all targets\n"
	  "together, for each alone, and which targets share pages. Needs root\n"
	  "(CAP_SYS_PTRACE to read, CAP_SYS_ADMIN to see frames). Ctrl-C stops it.\n" },
	{ "recover", cmd_recover, "", "Restore the knobs of a boost whose process died.", "" },
	{ "disable", cmd_disable, "[-f] [-p PID]... [-c CGROUP]... [-u UNIT]...",
	  "Disable KSM on this node and keep it disabled, or opt running processes out.",
	  "\nWithout a target: unmerge every page (run=2) and record run = 2 in\n"
	  "the profile (" DEFAULT_PROFILE "), so that ksm.service keeps KSM off at\n"
	  "boot; 'run', 'merge-now' and boosts refuse until 'ksmctl enable'. Refused\n"
	  "(nothing changed) if MemAvailable cannot hold the unmerged pages (the\n"
	  "check of 'unmerge').\n"
	  "\nWith targets: switch merging off in each running process and unmerge its\n"
	  "pages now, without restarting it.\n"
	  "\nOptions:\n  -p, --pid PID       a process (repeatable)\n"
	  "  -c, --cgroup PATH   every process of a cgroup and its children, relative to\n"
	  "                      /sys/fs/cgroup (e.g. qemu.slice/100.scope)\n"
	  "  -u, --unit NAME     every process of a running systemd unit\n"
	  "  -f, --force         act on processes with a seccomp filter (one that kills\n"
	  "                      for prctl would kill them) or with SIGTRAP ignored or\n"
	  "                      blocked (it is then reset), and unmerge even when\n"
	  "                      MemAvailable looks too small\n"
	  "\nOn mainline kernels the change is made by stopping one thread of the\n"
	  "process for about 0.1 ms with ptrace (x86-64 only): see SECURITY in ksmctl(8).\n" },
	{ "enable", cmd_enable, "[-f] [-p PID]... [-c CGROUP]... [-u UNIT]...",
	  "Undo 'disable': start merging on this node, or opt running processes in.",
	  "\nWithout a target: remove the record of 'disable' from the profile and\n"
	  "start merging (run=1).\n"
	  "\nWith targets: switch process-wide merging on in each running process (as\n"
	  "'ksmctl exec' does at start), without restarting it.\n"
	  "\nOptions: as for 'disable'.\n" },
	{ "partition", cmd_partition, "list|create|remove|merge|unmerge|status ...",
	  "Manage Selective KSM partitions: separate merge spaces with synchronous merge.",
	  "\nSubcommands:\n"
	  "  list [--json]                          the partitions, by name\n"
	  "  create NAME [--mode MODE] [--exclusive]\n"
	  "                                         create a partition (unless it\n"
	  "                                         exists); MODE (octal, default\n"
	  "                                         0600) says who may merge\n"
	  "  remove NAME [--allow-unmerge]          remove it; the kernel unmerges\n"
	  "                                         every page\n"
	  "  merge NAME PID ADDR LEN                merge a range of process PID, now\n"
	  "  unmerge NAME PID [ADDR LEN]            unmerge process PID (a range only where\n"
	  "                                         the kernel can)\n"
	  "  status NAME [--json]                   the partition's figures, as 'status'\n"
	  "\nADDR and LEN are hexadecimal with 0x or decimal. Selective KSM is a\n"
	  "proposed kernel interface; where the kernel lacks it, every subcommand fails\n"
	  "with exit status 1 and says why. Merge only memory of one trust domain into\n"
	  "one partition.\n" },
	{ "tune", cmd_tune, "[--config FILE] [--once] [--dry-run] [--verbose]",
	  "Tune ksmd to memory pressure, in the foreground (successor of ksmtuned).",
	  "\nOptions:\n  -c, --config FILE  read the settings from FILE (ksmtuned.conf or ksm.conf\n"
	  "                     with a [tune] section) instead of " LIBKSM_SYSCONFDIR "/ksmtuned.conf\n"
	  "                     and the [tune] section of " DEFAULT_PROFILE "\n"
	  "  -1, --once         take one decision and exit\n"
	  "  -n, --dry-run      print each decision and its reasons; write nothing\n"
	  "  -v, --verbose      log every decision, also those that change nothing\n"
	  "\nSignals: SIGUSR1 re-tunes now, SIGHUP reloads the settings, SIGTERM and\n"
	  "SIGINT stop (restoring the knobs it changed unless restore = no). It never\n"
	  "writes run=2 and leaves KSM alone while run is 2. Algorithm and settings:\n"
	  "ksmctl(8), TUNING.\n" },
	{ "help", cmd_help, "[COMMAND]", "Show help for ksmctl or one command.", "" },
};

const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* @text from column @col on, wrapped at 80 columns with lines indented to @col. */
static void print_wrapped(const char *text, int col)
{
	int at = col;

	while (*text) {
		int len = (int)strcspn(text, " ");

		if (at > col && at + 1 + len > 80) {
			printf("\n%*s", col, "");
			at = col;
		} else if (at > col) {
			putchar(' ');
			at++;
		}
		printf("%.*s", len, text);
		at += len;
		text += len;
		text += strspn(text, " ");
	}
	putchar('\n');
}

static void print_usage(void)
{
	printf("Usage: %s [--sysroot DIR] COMMAND [ARGS...]\n\n"
	       "Control Linux Kernel Samepage Merging (KSM).\n\n"
	       "Commands:\n", progname);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char head[80];
		snprintf(head, sizeof(head), "%s %s", commands[i].name, commands[i].args);
		if (strlen(head) > 26)
			printf("  %s\n  %-26s ", head, "");
		else
			printf("  %-26s ", head);
		print_wrapped(commands[i].summary, 29);
	}
	printf("\nOptions:\n"
	       "      --sysroot DIR  use DIR as the system root (default: $KSM_SYSROOT or /)\n"
	       "  -h, --help         show this help\n"
	       "  -V, --version      show the version\n\n"
	       "Exit status: 0 success, 1 failure, 2 usage error; 'wait' and 'merge-now'\n"
	       "also 3 timed out, 4 ksmd not running, 5 nothing registered for merging;\n"
	       "'exec' the command's status, 126 cannot run it, 127 not found.\n"
	       "See ksmctl(8) for details.\n");
}

int cmd_help(struct ksm_ctx *ctx, int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		print_usage();
		return EXIT_SUCCESS;
	}
	if (argc > 2)
		return usage_error("'help' takes at most one command");
	cmd = find_command(argv[1]);
	if (!cmd) {
		usage_command = NULL;
		return usage_error("unknown command '%s'", argv[1]);
	}
	printf("Usage: %s %s %s\n\n%s\n%s", progname, cmd->name, cmd->args, cmd->summary, cmd->help);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sysroot", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *sysroot = NULL;
	const struct command *cmd;
	struct ksm_ctx *ctx = NULL;
	int c, r;

	opterr = 0; /* one message per error: ours */
	while ((c = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			sysroot = optarg;
			break;
		case 'h':
			print_usage();
			return EXIT_SUCCESS;
		case 'V':
			printf("ksmctl (libksm) %s\n", PACKAGE_VERSION);
			return EXIT_SUCCESS;
		default:
			if (c == ':')
				return usage_error("option '%s' needs a value", argv[optind - 1]);
			if (optopt)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("missing command");
	cmd = find_command(argv[optind]);
	if (!cmd)
		return usage_error("unknown command '%s'", argv[optind]);
	usage_command = cmd->name;
	/* These read only the library's own tables. */
	if (cmd->run == cmd_help || cmd->run == cmd_knobs || cmd->run == cmd_exec)
		return cmd->run(NULL, argc - optind, argv + optind);

	r = ksm_new_at(&ctx, sysroot);
	if (r < 0)
		return fail(r);
	r = cmd->run(ctx, argc - optind, argv + optind);
	ksm_unref(ctx);
	return r;
}

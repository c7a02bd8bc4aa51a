// SPDX-License-Identifier: LGPL-2.1-or-later
/* The benchmarks' raw access to the live KSM knobs (knobs.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "knobs.h"

static const char *const knobs[] = {
	"max_page_sharing", "merge_across_nodes", "advisor_mode", "pages_to_scan",
	"sleep_millisecs", "smart_scan", "use_zero_pages", "stable_node_chains_prune_millisecs",
	"run",
};
static char saved[sizeof(knobs) / sizeof(knobs[0])][64];

int raw_write(const char *knob, const char *value)
{
	char path[128];
	int fd, r = 0;

	snprintf(path, sizeof(path), KSM "%s", knob);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		r = -errno;
	close(fd);
	return r;
}

long raw_read(const char *knob)
{
	char path[128], buf[64] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), KSM "%s", knob);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

void save_knobs(void)
{
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		char path[128];
		int fd;
		ssize_t n;

		snprintf(path, sizeof(path), KSM "%s", knobs[i]);
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, saved[i], sizeof(saved[i]) - 1);
		if (fd >= 0)
			close(fd);
		saved[i][n > 0 ? n : 0] = '\0';
		/* advisor_mode reads as "[none] scan-time": keep the selected word. */
		char *open_b = strchr(saved[i], '['), *close_b = open_b ? strchr(open_b, ']') : NULL;
		if (open_b && close_b) {
			memmove(saved[i], open_b + 1, (size_t)(close_b - open_b - 1));
			saved[i][close_b - open_b - 1] = '\0';
		}
	}
}

/* In an order the kernel accepts; async-signal-safe (open/write/close). */
void restore_knobs(void)
{
	raw_write("run", "2");
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (saved[i][0] && strcmp(knobs[i], "run") != 0)
			raw_write(knobs[i], saved[i]);
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (saved[i][0] && strcmp(knobs[i], "run") == 0)
			raw_write("run", strcmp(saved[i], "2\n") == 0 ? "0" : saved[i]);
}

void knobs_on_signal(int sig)
{
	restore_knobs();
	signal(sig, SIG_DFL);
	raise(sig);
}

void knobs_guard(void)
{
	save_knobs();
	signal(SIGINT, knobs_on_signal);
	signal(SIGTERM, knobs_on_signal);
	signal(SIGHUP, knobs_on_signal);
}

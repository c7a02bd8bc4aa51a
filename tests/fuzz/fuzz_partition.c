// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Partition names and listing on a copy of the sksm-rfc fake sysroot (no
 * partition system calls: LIBKSM_SKSM_SYSCALLS is empty). The input up to the
 * first NUL is checked with ksm_partition_name_check(); the rest, split at
 * newlines, names directories made in the KSM directory (with a trigger_merge
 * file where the name starts with an odd byte), which ksm_partition_foreach()
 * then lists, each opened and its statistics read; they are removed after.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ksm.h"
#include "fuzz_util.h"

#define MAX_DIRS 16

static struct ksm_ctx *ctx;
static int ksmfd;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *root;
	char dir[4200];

	setenv("LIBKSM_SKSM_SYSCALLS", "", 1);
	root = fz_sysroot("sksm-rfc");
	snprintf(dir, sizeof(dir), "%s/sys/kernel/mm/ksm", root);
	ksmfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ksmfd < 0 || ksm_new_at(&ctx, root) < 0)
		abort();
	ksm_set_log_priority(ctx, 0);
	return 0;
}

static int visit(const char *name, void *data)
{
	struct ksm_partition *p = NULL;
	struct ksm_stats st;

	if (ksm_partition_open(ctx, name, 0, 0, &p) == 0) {
		ksm_partition_stats_read(p, &st, sizeof(st));
		ksm_partition_unref(p);
	}
	ksm_strerror(-1);
	(*(int *)data)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *made[MAX_DIRS], *text;
	size_t pos = 0, len;
	const uint8_t *piece = fz_next(data, size, &pos, &len);
	int n = 0, seen = 0;

	text = fz_strndup(piece ? piece : (const uint8_t *)"", piece ? len : 0);
	ksm_partition_name_check(text);
	ksm_strerror(-1);
	free(text);

	text = fz_strndup(data + (pos < size ? pos : size), pos < size ? size - pos : 0);
	for (char *save = NULL, *name = strtok_r(text, "\n", &save); name && n < MAX_DIRS;
	     name = strtok_r(NULL, "\n", &save)) {
		if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    strlen(name) > 200 || mkdirat(ksmfd, name, 0755) < 0)
			continue;
		made[n++] = name;
		if ((unsigned char)name[0] & 1) {
			char f[256];
			int fd;

			snprintf(f, sizeof(f), "%s/trigger_merge", name);
			fd = openat(ksmfd, f, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
			if (fd >= 0)
				close(fd);
		}
	}
	ksm_partition_foreach(ctx, visit, &seen);
	for (int i = 0; i < n; i++) {
		char f[256];

		snprintf(f, sizeof(f), "%s/trigger_merge", made[i]);
		unlinkat(ksmfd, f, 0);
		unlinkat(ksmfd, made[i], AT_REMOVEDIR);
	}
	free(text);
	return 0;
}

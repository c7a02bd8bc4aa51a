// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The boost record: the input is <sysroot>/run/libksm/boost of a copy of the
 * 6.18 fake sysroot, read by ksm_boost_recover() (which writes any values it
 * restores into the fake knob files, put back afterwards). Only the public
 * calls are used, so the target follows whatever form the record takes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ksm.h"
#include "fuzz_util.h"

static struct ksm_ctx *ctx;
static char record[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *root = fz_sysroot("6.18");
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/run", root);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		abort();
	snprintf(dir, sizeof(dir), "%s/run/libksm", root);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		abort();
	snprintf(record, sizeof(record), "%s/run/libksm/boost", root);
	if (ksm_new_at(&ctx, root) < 0)
		abort();
	ksm_set_log_priority(ctx, 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int r;

	fz_write("run/libksm/boost", data, size);
	r = ksm_boost_recover(ctx);
	ksm_strerror(r);
	unlink(record);
	fz_restore_knobs();
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Profiles and transactions: the input is a profile file, loaded into a
 * transaction on a copy of the 6.18 fake sysroot, planned with the flags of
 * its first byte, and for inputs whose first byte is odd committed into the
 * fake knob files (restored afterwards).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksm.h"
#include "fuzz_util.h"

static struct ksm_ctx *ctx;
static char path[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *root = fz_sysroot("6.18");

	if (ksm_new_at(&ctx, root) < 0)
		abort();
	ksm_set_log_priority(ctx, 0);
	snprintf(path, sizeof(path), "%s/fuzz.conf", root);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ksm_txn_step steps[64];
	struct ksm_txn *txn = NULL;
	unsigned int line, flags = size ? data[0] & KSM_TXN_ALLOW_UNMERGE : 0;
	int failed, r;

	fz_write("fuzz.conf", data, size);
	if (ksm_txn_new(ctx, &txn) < 0)
		abort();
	r = ksm_profile_load(txn, path, &line);
	ksm_strerror(r);
	if (r >= 0) {
		r = ksm_txn_plan(txn, flags, steps, sizeof(steps) / sizeof(steps[0]), &failed);
		ksm_strerror(r);
		if (size && (data[0] & 0x80)) {
			ksm_strerror(ksm_txn_commit(txn, flags, &failed));
			fz_restore_knobs();
		}
	}
	ksm_txn_unref(txn);
	return 0;
}

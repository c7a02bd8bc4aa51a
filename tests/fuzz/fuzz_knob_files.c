// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Knob files with garbage: the input, split at NUL bytes, becomes the content
 * of each file of sys/kernel/mm/ksm in a copy of the 6.18 fake sysroot (in the
 * order of the knob table); then ksm_stats_read() and ksm_get() of every knob.
 */
#include <stdlib.h>
#include <string.h>

#include "ksm.h"
#include "fuzz_util.h"

static struct ksm_ctx *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (ksm_new_at(&ctx, fz_sysroot("6.18")) < 0)
		abort();
	ksm_set_log_priority(ctx, 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ksm_stats st;
	size_t pos = 0, len;
	const uint8_t *piece;
	int r;

	/* Only these writes change the files (the library only reads them here). */
	for (int k = 0; k < ksm_knob_count(); k++) {
		char rel[128];

		piece = fz_next(data, size, &pos, &len);
		strcpy(rel, "sys/kernel/mm/ksm/");
		strcat(rel, ksm_knob_info((enum ksm_knob)k)->name);
		if (piece)
			fz_write(rel, piece, len);
		else
			fz_reset(rel);
	}
	r = ksm_stats_read(ctx, &st, sizeof(st));
	if (r == 0) {
		/* Unsigned counters are never negative, so neither is what they add up to. */
		if (st.pages_sharing < 0 || st.saved_pages < 0 || st.full_scans < 0)
			abort();
	}
	for (int k = 0; k < ksm_knob_count(); k++) {
		int64_t v;

		if (ksm_get(ctx, (enum ksm_knob)k, &v) == 0 &&
		    ksm_knob_info((enum ksm_knob)k)->type == KSM_TYPE_UNSIGNED && v < 0)
			abort();
	}
	ksm_strerror(r);
	return 0;
}

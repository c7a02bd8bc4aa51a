// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The per-process files: the input, split at NUL bytes, becomes
 * /proc/2001/ksm_stat, /proc/2001/ksm_merging_pages and /proc/2001/comm of a
 * copy of the 6.18 fake sysroot, read with ksm_proc_stats_read(),
 * ksm_proc_comm() and (for inputs starting with an odd byte) the walk of
 * ksm_proc_foreach().
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

static int count(const struct ksm_proc *p, void *data)
{
	/* The derived figures are computed; the name is a C string. */
	(*(size_t *)data) += strlen(p->comm) + (size_t)(p->stats.saved_bytes & 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const files[] = { "proc/2001/ksm_stat", "proc/2001/ksm_merging_pages",
					     "proc/2001/comm" };
	struct ksm_proc_stats st;
	size_t pos = 0, len, n = 0;
	char comm[32];
	const uint8_t *piece;

	for (size_t i = 0; i < 3; i++) {
		piece = fz_next(data, size, &pos, &len);
		fz_write(files[i], piece ? piece : (const uint8_t *)"", piece ? len : 0);
	}
	if (ksm_proc_stats_read(ctx, 2001, &st, sizeof(st)) == 0 && st.saved_bytes < 0 &&
	    !(st.present & KSM_PROC_ZERO_PAGES))
		abort(); /* no negative saved bytes from unsigned counts */
	ksm_proc_comm(ctx, 2001, comm, sizeof(comm));
	ksm_strerror(-1);
	if (size > 0 && (data[0] & 1))
		ksm_proc_foreach(ctx, count, &n);
	return 0;
}

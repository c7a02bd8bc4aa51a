// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The public header compiles on its own as strict C99 with -pedantic
 * -Werror, and the natural code of a C user works: a plain struct that
 * nobody initialises, and its size passed with it.
 */
#include <ksm.h>

int main(void)
{
	struct ksm_stats st;
	struct ksm_proc_stats pst;
	struct ksm_ctx *ctx = 0;
	enum ksm_knob k = KSM_KNOB_RUN;
	int r1, r2;

	/* No context: -EINVAL (a negative value), whatever the struct holds. */
	r1 = ksm_stats_read(ctx, &st, sizeof(st));
	r2 = ksm_proc_stats_read(ctx, 0, &pst, sizeof(pst));
	(void)k;
	return r1 < 0 && r2 < 0 && ksm_knob_count() > 0 && ksm_strerror(r1) != 0 ? 0 : 1;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/* The public header compiles on its own as strict C99 with -pedantic -Werror. */
#include <ksm.h>

int main(void)
{
	struct ksm_stats st = KSM_STATS_INIT;
	enum ksm_knob k = KSM_KNOB_RUN;

	(void)k;
	return st.size == sizeof(st) && ksm_knob_count() > 0 ? 0 : 1;
}

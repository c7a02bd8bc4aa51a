// SPDX-License-Identifier: LGPL-2.1-or-later
// The public header compiles on its own as C++17 with -pedantic -Werror, and
// the natural C++ code works: a value-initialised struct, its size passed
// with it.
#include <ksm.h>

int main()
{
	struct ksm_stats st{};
	struct ksm_proc_stats pst{};
	struct ksm_ctx *ctx = nullptr;

	int r1 = ksm_stats_read(ctx, &st, sizeof(st));
	int r2 = ksm_proc_stats_read(ctx, 0, &pst, sizeof(pst));
	ctx = ksm_unref(ctx);
	return r1 < 0 && r2 < 0 && st.present == 0 && ctx == nullptr && ksm_knob_count() > 0 &&
			       ksm_strerror(r1) != nullptr
		       ? 0
		       : 1;
}

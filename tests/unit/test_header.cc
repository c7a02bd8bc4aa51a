// SPDX-License-Identifier: LGPL-2.1-or-later
// The public header compiles on its own as C++ with -pedantic -Werror.
#include <ksm.h>

int main()
{
	struct ksm_stats st = {};
	st.size = sizeof(st);
	struct ksm_ctx *ctx = nullptr;
	ctx = ksm_unref(ctx);
	return st.size == sizeof(st) && ctx == nullptr && ksm_knob_count() > 0 ? 0 : 1;
}

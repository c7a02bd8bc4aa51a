// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Value parsing for every knob: what a user types (ksm_knob_parse(), whose
 * result must format and parse back to itself), what the kernel prints
 * (ksm_parse_kernel()), and the escaping of text quoted in messages
 * (ksm_escape(), whose output must hold no control byte).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char esc[64];

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (int k = 0; k < ksm_knob_count(); k++) {
		const struct ksm_knob_info *info = ksm_knob_info((enum ksm_knob)k);
		char buf[KSM_VALUE_MAX], range[128];
		int64_t v, back;

		if (ksm_knob_parse((enum ksm_knob)k, text, &v) == 0) {
			if (v < info->min || v > info->max)
				abort();
			if (ksm_knob_format((enum ksm_knob)k, v, buf, sizeof(buf)) < 0 ||
			    ksm_knob_parse((enum ksm_knob)k, buf, &back) != 0 || back != v)
				abort();
		}
		if (ksm_parse_kernel(k, text, &v) == 0 && info->type == KSM_TYPE_UNSIGNED && v < 0)
			abort();
		ksm_knob_describe_values((enum ksm_knob)k, range, sizeof(range));
	}
	/* Not NUL-terminated: the length bounds every read. */
	ksm_escape((const char *)data, size, esc, size % sizeof(esc) + 1);
	for (const unsigned char *p = (const unsigned char *)esc; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
	free(text);
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * stats - print the KSM statistics of a system with libksm.
 *
 *     stats [--json] [SYSROOT]
 *
 * Prints every file of /sys/kernel/mm/ksm that the kernel has as one
 * "name value" line, or, with --json, one JSON object with the same keys as
 * "ksmctl status --json". SYSROOT stands for "/" (a copy of /sys for
 * example); without it the system root comes from the environment variable
 * KSM_SYSROOT, else it is "/".
 *
 * Build: cc stats.c $(pkg-config --cflags --libs libksm)
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <ksm.h>

static void print_json(const struct ksm_stats *st)
{
	const char *sep = "";

	printf("{");
	for (int i = 0; i < ksm_knob_count(); i++) {
		const struct ksm_knob_info *k = ksm_knob_info(i);
		int64_t value;

		/* A knob this kernel lacks is not in the snapshot: -ENOENT. */
		if (ksm_stats_value(st, i, &value) < 0)
			continue;
		/* Numbers throughout; an enum also by its name (ksmctl(8), JSON OUTPUT). */
		printf("%s\n  \"%s\": %" PRId64, sep, k->name, value);
		if (k->type == KSM_TYPE_ENUM && value >= k->min && value <= k->max)
			printf(",\n  \"%s_name\": \"%s\"", k->name, k->values[value]);
		sep = ",";
	}
	printf("%s\n  \"page_size\": %" PRId64 ",", sep, st->page_size);
	sep = "";
	printf("%s\n  \"derived\": {\n", sep);
	printf("    \"page_size\": %" PRId64 ",\n", st->page_size);
	printf("    \"saved_pages\": %" PRId64 ",\n", st->saved_pages);
	printf("    \"saved_bytes\": %" PRId64 ",\n", st->saved_bytes);
	printf("    \"profit_bytes\": %" PRId64 ",\n", st->profit_bytes);
	printf("    \"sharing_ratio\": %.6f,\n", st->sharing_ratio);
	printf("    \"effectiveness\": %.6f\n", st->effectiveness);
	printf("  }\n}\n");
}

static void print_lines(const struct ksm_stats *st)
{
	for (int i = 0; i < ksm_knob_count(); i++) {
		char text[64];
		int64_t value;

		if (ksm_stats_value(st, i, &value) < 0)
			continue;
		if (ksm_knob_format(i, value, text, sizeof(text)) < 0)
			continue;
		printf("%s %s\n", ksm_knob_info(i)->name, text);
	}
}

int main(int argc, char **argv)
{
	const char *sysroot = NULL;
	struct ksm_ctx *ctx;
	struct ksm_stats st;
	bool json = false;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (argv[i][0] != '-' && !sysroot) {
			sysroot = argv[i];
		} else {
			fprintf(stderr, "usage: %s [--json] [SYSROOT]\n", argv[0]);
			return 2;
		}
	}

	r = sysroot ? ksm_new_at(&ctx, sysroot) : ksm_new(&ctx);
	if (r < 0) {
		fprintf(stderr, "stats: %s\n", ksm_strerror(r));
		return 1;
	}
	r = ksm_stats_read(ctx, &st, sizeof(st));
	if (r < 0) {
		fprintf(stderr, "stats: %s\n", ksm_strerror(r));
		ksm_unref(ctx);
		return 1;
	}
	if (json)
		print_json(&st);
	else
		print_lines(&st);
	ksm_unref(ctx);
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The benchmarks' raw access to the live KSM knobs: save every tunable
 * before a benchmark changes them, and restore them, also from a signal
 * handler (open/write/close only).
 */
#ifndef BENCH_KNOBS_H
#define BENCH_KNOBS_H

#define KSM "/sys/kernel/mm/ksm/"

int raw_write(const char *knob, const char *value);
long raw_read(const char *knob);
void save_knobs(void);
/* In an order the kernel accepts; async-signal-safe. */
void restore_knobs(void);
/* Restore the knobs, then die of @sig. */
void knobs_on_signal(int sig);
/* save_knobs(), and knobs_on_signal() for SIGINT, SIGTERM and SIGHUP. */
void knobs_guard(void);

#endif

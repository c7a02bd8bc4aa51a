// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Where the benchmarks' 'ksmctl tune' learns of new processes: its
 * ksm:ksm_enter tracepoint needs tracefs, which a machine without systemd
 * may not mount. A tuner started by a benchmark runs in a mount namespace
 * of its own with tracefs mounted, or hidden (the proc connector's path).
 * Nothing is mounted outside that namespace, and it goes with the process.
 */
#ifndef BENCH_TRACEFS_H
#define BENCH_TRACEFS_H

enum bench_ns { NS_NONE, NS_TRACEFS, NS_NO_TRACEFS };

/* In the child before its exec (NS_NONE: the host's mounts); exits 126
 * when the namespace cannot be made. @who names the benchmark in messages. */
void bench_namespace(enum bench_ns ns, const char *who);

#endif

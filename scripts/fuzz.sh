#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build the libFuzzer targets of tests/fuzz with clang, AddressSanitizer and
# UBSan, and run each for SECONDS (default 25) from its committed seed corpus:
#   scripts/fuzz.sh [SECONDS [TARGET...]]
# The long run, up to an hour per target (two targets at once on two cores):
#   scripts/fuzz.sh 3600 fuzz_ksm_stat fuzz_knob_files fuzz_knob_parse &
#   scripts/fuzz.sh 3600 fuzz_profile fuzz_boost_record fuzz_partition fuzz_ksmctl
# With FUZZ_RUNS=N each target stops after N executions instead (or at
# SECONDS, whichever comes first): FUZZ_RUNS=10000000 scripts/fuzz.sh 3600
# runs each to the goal of 10^7 executions.
# New inputs go to a work corpus ($FUZZ_WORK, default build-fuzz/corpus), so
# the committed seeds stay small; a crash is saved as build-fuzz/crash-*.
# The targets act only on private copies of the fake sysroots (under
# /dev/shm, else $TMPDIR or /tmp), never on the running kernel's KSM.
# Prints one line per target: runs, runs per second, and the result; exits 1
# if any target found something. With FUZZ_RESULTS set, also appends one JSON
# line per target to that file ({"name": ..., "result": "OK" or "FAIL"}), the
# form of meson's test log, for scripts/dev.sh's summary.
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)
builddir=${BUILDDIR_FUZZ:-build-fuzz}
seconds=${1:-25}
[ $# -gt 0 ] && shift
targets=${*:-"fuzz_ksm_stat fuzz_knob_files fuzz_knob_parse fuzz_profile fuzz_boost_record fuzz_partition fuzz_ksmctl"}
work=${FUZZ_WORK:-$builddir/corpus}
case $builddir in /*) ;; *) builddir=$top/$builddir ;; esac
case $work in /*) ;; *) work=$top/$work ;; esac

if [ ! -f "$builddir/build.ninja" ]; then
	CC=clang meson setup "$builddir" -Dfuzz=enabled -Db_sanitize=address,undefined \
		-Db_lundef=false -Dtests=disabled -Dman=disabled >/dev/null
fi
ninja -C "$builddir" >/dev/null

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
for t in $targets; do
	mkdir -p "$work/$t"
	log="$builddir/$t.log"
	# In a directory of its own: arguments that ksmctl takes as file names
	# (--output, a profile) land there, not in the source tree.
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/libksm-fuzz.XXXXXX")
	# shellcheck disable=SC2086
	if (cd "$scratch" && "$builddir/tests/fuzz/$t" -max_total_time="$seconds" ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} -timeout=10 \
		-rss_limit_mb=1024 -close_fd_mask=1 -print_final_stats=1 \
		-artifact_prefix="$builddir/" "$work/$t" "$top/tests/fuzz/corpus/$t") \
		>"$log" 2>&1; then
		result=ok
	else
		result="FOUND SOMETHING (see $log)"
		status=1
	fi
	rm -rf "$scratch"
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	printf '%-20s %12s runs %8s/s  %s\n' "$t" "$runs" "$secs" "$result"
	if [ -n "${FUZZ_RESULTS:-}" ]; then
		[ "$result" = ok ] && r=OK || r=FAIL
		printf '{"name": "%s", "result": "%s"}\n' "$t" "$r" >>"$FUZZ_RESULTS"
	fi
done
exit $status

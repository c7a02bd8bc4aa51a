#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run the kernel suite again from initial KSM states other than the one the
# machine is in, and put every knob back exactly afterwards, also on failure
# and on SIGINT/SIGTERM/SIGHUP:
#   run2      run=2 (KSM unmerged by the administrator), with use_zero_pages=1,
#             pages_to_scan=1234 and sleep_millisecs=7
#   advisor   advisor_mode=scan-time, run=1, with sleep_millisecs=50 and
#             smart_scan=0
#   foreign   merged pages of a process the tests did not start: a
#             ksm-foreign process (BUILDDIR/tests/ksm-foreign, 4096 pages:
#             duplicates, zero pages and unique pages) started here, its
#             pages merged with the knobs as found (use_zero_pages too), then
#             every knob put back as found; it stays alive while the suite
#             runs and is killed afterwards
#
# Usage: tests/kernel/initial-states.sh BUILDDIR [STATE...]
# Each run writes BUILDDIR/meson-logs/testlog-<state>.json. Needs root and
# KSM (else it says so and exits 0, as the suites skip); the caller holds
# the lock of the live KSM state, as for the kernel suite itself.
set -u

builddir=${1:?usage: $0 BUILDDIR [STATE...]}
shift
states=${*:-run2 advisor foreign}
ksm=/sys/kernel/mm/ksm

if [ "$(id -u)" -ne 0 ] || [ ! -w "$ksm/run" ] || [ ! -e "$ksm/advisor_mode" ]; then
	echo "initial states: skipped (needs root and a KSM with the advisor, 6.8+)"
	exit 0
fi

saved=$(mktemp -d /tmp/libksm-initial-states.XXXXXX) || exit 1

# Every writable knob, as the kernel prints it.
for f in "$ksm"/*; do
	# writable knobs: mode 0644 (root passes -w on the 0444 counters too)
	[ -f "$f" ] && [ "$(stat -c %a "$f")" = 644 ] || continue
	cat "$f" >"$saved/$(basename "$f")" || exit 1
done

knob() { cat "$ksm/$1"; }
put() { printf '%s\n' "$2" >"$ksm/$1" 2>/dev/null; }
# The value of a saved knob ("none [scan-time]" -> scan-time).
saved_value() { sed -e 's/.*\[\(.*\)\].*/\1/' "$saved/$1"; }

# Put every knob back as saved; 0 if each one reads as before.
restore() {
	put advisor_mode none
	# These two can only change while no page is merged.
	for k in merge_across_nodes max_page_sharing; do
		[ -f "$saved/$k" ] || continue
		if [ "$(knob $k)" != "$(cat "$saved/$k")" ]; then
			put run 2
			put "$k" "$(cat "$saved/$k")"
		fi
	done
	for f in "$saved"/*; do
		k=$(basename "$f")
		case $k in run | advisor_mode | pages_to_scan | merge_across_nodes | max_page_sharing) continue ;; esac
		[ "$(knob "$k")" = "$(cat "$f")" ] || put "$k" "$(cat "$f")"
	done
	put pages_to_scan "$(cat "$saved/pages_to_scan")"
	put advisor_mode "$(saved_value advisor_mode)"
	put run "$(cat "$saved/run")"
	bad=""
	for f in "$saved"/*; do
		k=$(basename "$f")
		# Under the advisor, pages_to_scan is the kernel's.
		[ "$k" = pages_to_scan ] && [ "$(saved_value advisor_mode)" != none ] && continue
		[ "$(knob "$k")" = "$(cat "$f")" ] || bad="$bad $k=$(knob "$k") (was $(cat "$f"))"
	done
	if [ -n "$bad" ]; then
		echo "initial states: KSM NOT restored:$bad" >&2
		return 1
	fi
	return 0
}

# The ksm-foreign process of the state "foreign", while it runs.
foreign_pid=""
foreign_out=""
stop_foreign() {
	if [ -n "$foreign_pid" ]; then
		kill "$foreign_pid" 2>/dev/null
		wait "$foreign_pid" 2>/dev/null
		foreign_pid=""
	fi
	[ -z "$foreign_out" ] || rm -f "$foreign_out"
	foreign_out=""
}

# Start ksm-foreign and let ksmd merge its pages (fast, then the knobs as
# found). 0 once its duplicates (and zero pages) are merged.
start_foreign() {
	helper=$builddir/tests/ksm-foreign
	if [ ! -x "$helper" ]; then
		echo "initial states: $helper not built" >&2
		return 1
	fi
	foreign_out=$(mktemp /tmp/libksm-foreign.XXXXXX) || return 1
	"$helper" 4096 >"$foreign_out" &
	foreign_pid=$!
	i=0
	until grep -q '^ready' "$foreign_out"; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$foreign_pid" 2>/dev/null; then
			echo "initial states: ksm-foreign did not start" >&2
			return 1
		fi
		sleep 0.1
	done
	# ready PID DUPLICATES ZERO UNIQUE
	read -r _ _ dup zero _ <"$foreign_out"
	put advisor_mode none
	put pages_to_scan 5000
	put sleep_millisecs 0
	put run 1
	i=0
	while :; do
		merging=$(sed -n 's/^ksm_merging_pages //p' "/proc/$foreign_pid/ksm_stat" 2>/dev/null)
		zp=$(sed -n 's/^ksm_zero_pages //p' "/proc/$foreign_pid/ksm_stat" 2>/dev/null)
		[ -n "$merging" ] || merging=$(cat "/proc/$foreign_pid/ksm_merging_pages" 2>/dev/null)
		# Zero pages count as merging pages, or as KSM zero pages with
		# use_zero_pages=1.
		[ "${merging:-0}" -ge "$dup" ] && [ $((${merging:-0} + ${zp:-0})) -ge $((dup + zero)) ] && break
		i=$((i + 1))
		if [ $i -gt 600 ]; then
			echo "initial states: ksm-foreign's pages not merged after 60 s (merging ${merging:-?}, zero ${zp:-?}, expected $dup + $zero)" >&2
			return 1
		fi
		sleep 0.1
	done
	restore
}

finish() {
	rc=$1
	trap - EXIT INT TERM HUP
	stop_foreign
	restore || rc=1
	rm -rf "$saved"
	exit "$rc"
}
trap 'finish 1' EXIT
trap 'finish 130' INT
trap 'finish 143' TERM
trap 'finish 129' HUP

set_state() {
	case $1 in
	run2)
		put advisor_mode none
		put run 2
		put use_zero_pages 1
		put pages_to_scan 1234
		put sleep_millisecs 7
		;;
	advisor)
		put sleep_millisecs 50
		put smart_scan 0
		put advisor_mode scan-time
		put run 1
		;;
	foreign)
		start_foreign || return 1
		;;
	*)
		echo "initial states: unknown state '$1'" >&2
		return 1
		;;
	esac
	return 0
}

rc=0
for state in $states; do
	echo "=== kernel suite from initial state '$state'"
	if ! set_state "$state"; then
		rc=1
	else
		printf 'state:'
		for k in run advisor_mode pages_to_scan sleep_millisecs use_zero_pages pages_shared pages_sharing ksm_zero_pages; do
			printf ' %s=%s' "$k" "$(knob $k)"
		done
		echo
		meson test -C "$builddir" --print-errorlogs --suite kernel --logbase "testlog-$state" || rc=1
	fi
	stop_foreign
	restore || rc=1
done
finish "$rc"

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The bash completion of ksmctl, run by bash itself: commands, options of a
# command, knob names (tunables only for 'set'), option values, and the
# partition names of a system root. Usage: test-completion.sh COMPLETION KSMCTL SYSROOTS
set -u
completion=$1 ksmctl=$2 sysroots=$3
# shellcheck disable=SC1090
. "$completion"
status=0

# complete WORDS...: the candidates for the last word, sorted, on one line.
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_ksmctl
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

expect() {
	local want=$1
	shift
	local got
	got=$(complete_words "$@")
	if [ "$got" != "$want" ]; then
		echo "completing '$*': got '$got', want '$want'"
		status=1
	fi
}

expect "doctor" "$ksmctl" do
expect "partition ps" "$ksmctl" p
expect "status" "$ksmctl" --sysroot /tmp stat
expect "--sysroot" "$ksmctl" --sys
expect "wait watch" "$ksmctl" help wa
expect "--by --help --json --output --prometheus --sort" "$ksmctl" ps --
expect "--count --help --interval" "$ksmctl" watch --
expect "cgroup comm unit" "$ksmctl" ps --by ""
expect "merging" "$ksmctl" ps --sort me
expect "pages_scanned pages_shared pages_sharing pages_skipped" "$ksmctl" get pages_s
expect "pages_to_scan=" "$ksmctl" set pages_to
expect "" "$ksmctl" set pages_sharin
expect "general_profit" "$ksmctl" get general
expect "tenant-a tenant-b" "$ksmctl" --sysroot "$sysroots/sksm-rfc" partition status ""
expect "remove" "$ksmctl" partition rem
[ $status -eq 0 ] && echo "bash completion: all cases complete as expected"
exit $status

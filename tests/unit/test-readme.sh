#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# README says plainly what the full test run does to the machine, and which
# suite is safe: test-readme.sh README.md
set -eu
readme=$1
fail=0
need() {
	if ! tr '\n' ' ' <"$readme" | tr -s ' ' | grep -qF -- "$1"; then
		echo "README.md does not say: $1"
		fail=1
	fi
}
need 'Do not run `scripts/dev.sh test`'
need 'on a production host.'
need 'change the live KSM knobs of the whole machine'
need 'run processes with merging enabled'
need 'meson test -C build --suite unit'
need 'The safe suite, for any host and any user'
exit $fail

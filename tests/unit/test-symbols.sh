#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every symbol the library exports is in the version script and documented in
# ksm.h (a "name() -" doc comment and a "Since:" line), and every name in the
# version script is exported.
set -eu
lib=$1 map=$2 header=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sed 's/@.*//' | sort -u >"$tmp/exported"
sed -n 's/^[[:space:]]*\(ksm_[a-z0-9_]*\);$/\1/p' "$map" | sort -u >"$tmp/mapped"
status=0
if ! diff -u "$tmp/mapped" "$tmp/exported" >"$tmp/diff"; then
	echo "version script and exported symbols differ (- map, + exported):"
	cat "$tmp/diff"
	status=1
fi
while read -r sym; do
	if ! grep -q "^ \* $sym() - " "$header"; then
		echo "$sym: no doc comment ' * $sym() - ...' in ksm.h"
		status=1
	fi
	# The doc comment of each function carries a Since: line.
	if ! awk -v s="$sym" '
		index($0, " * " s "() - ") { inside = 1 }
		inside && /Since:/ { found = 1 }
		inside && /\*\// { inside = 0 }
		END { exit found ? 0 : 1 }' "$header"; then
		echo "$sym: doc comment lacks 'Since:'"
		status=1
	fi
done <"$tmp/exported"
n=$(wc -l <"$tmp/exported")
[ "$n" -gt 0 ] || { echo "no symbols exported"; status=1; }
[ $status -eq 0 ] && echo "$n exported symbols: all mapped and documented"
exit $status

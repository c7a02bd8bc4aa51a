#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every symbol the library exports is in the version script and documented in
# ksm.h (a "name() -" doc comment and a "Since:" line), and every name in the
# version script is exported.
#
# The manual cannot drift from the header: every exported function has a
# section "## name()" in libksm(3) whose first literal block holds its
# prototype, and that prototype, and every other one the page shows (the
# SYNOPSIS lists them all), is the header's, blanks aside. No manual page
# names a libksm function that does not exist.
#
# Usage: test-symbols.sh LIBRARY VERSION-SCRIPT HEADER [LIBKSM.3.SCD]
# (the page defaults to man/libksm.3.scd beside the header's include/).
set -eu
export LC_ALL=C
lib=$1 map=$2 header=$3
man=${4:-$(dirname "$header")/../man/libksm.3.scd}
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

# ---------------------------------------------------------------- the manual
[ -f "$man" ] || { echo "$man: no such file"; exit 1; }

# The header's prototypes, one "name<TAB>prototype" a line, blanks normalised:
# comments and preprocessor lines dropped, the rest split at ';'.
awk '
function norm(s) {
	gsub(/[ \t\n]+/, " ", s)
	gsub(/\( /, "(", s); gsub(/ \)/, ")", s); gsub(/ ,/, ",", s)
	sub(/^ /, "", s); sub(/ $/, "", s)
	return s
}
{
	line = $0; out = ""
	while (line != "") {
		if (incomment) {
			p = index(line, "*/")
			if (!p) { line = ""; break }
			line = substr(line, p + 2); incomment = 0
		} else {
			p = index(line, "/*")
			if (!p) { out = out line; break }
			out = out substr(line, 1, p - 1); line = substr(line, p + 2); incomment = 1
		}
	}
	if (out ~ /^[ \t]*#/)
		next
	buf = buf " " out
}
END {
	n = split(buf, stmts, ";")
	for (i = 1; i <= n; i++) {
		s = norm(stmts[i])
		sub(/^.*[{}] */, "", s)  # what follows extern "C" { or a closing brace
		if (s !~ /^(const |unsigned |struct |enum |int |void |long |char |int64_t |uint64_t )/)
			continue
		if (!match(s, /[A-Za-z_0-9]+\(/))
			continue
		name = substr(s, RSTART, RLENGTH - 1)
		if (name ~ /^ksm_/)
			printf "%s\t%s;\n", name, s
	}
}' "$header" | sort >"$tmp/header-protos"
cut -f1 "$tmp/header-protos" >"$tmp/header-names"
if ! diff -u "$tmp/exported" "$tmp/header-names" >"$tmp/diff"; then
	echo "functions declared in ksm.h and exported symbols differ (- exported, + ksm.h):"
	cat "$tmp/diff"
	status=1
fi

# Every prototype the page shows in a literal block, as
# "name<TAB>section<TAB>first<TAB>prototype": section is the function of the
# "## name()" section it is in (or "SYNOPSIS"), first is 1 for the first
# literal block of that section.
awk '
function norm(s) {
	gsub(/[ \t\n]+/, " ", s)
	gsub(/\( /, "(", s); gsub(/ \)/, ")", s); gsub(/ ,/, ",", s)
	sub(/^ /, "", s); sub(/ $/, "", s)
	return s
}
/^```/ {
	if (incode) { incode = 0; blocks++ } else incode = 1
	next
}
!incode && /^#/ {
	section = ""; blocks = 0
	if ($0 ~ /^# SYNOPSIS/) section = "SYNOPSIS"
	if ($0 ~ /^## ksm_[a-z0-9_]+\(\)$/) {
		section = substr($0, 4, length($0) - 5)
		print "section\t" section
	}
	next
}
incode && proto == "" && /^(const |unsigned |struct |enum |int |void |long |char )[^=]*ksm_[a-z0-9_]+\(/ {
	proto = $0
	if (proto !~ /;[ \t]*$/) next
}
incode && proto != "" {
	if (proto != $0) proto = proto "\n" $0
	if ($0 !~ /;[ \t]*$/) next
	s = norm(proto); proto = ""
	match(s, /[A-Za-z_0-9]+\(/)
	name = substr(s, RSTART, RLENGTH - 1)
	printf "proto\t%s\t%s\t%d\t%s\n", name, section, blocks == 0, s
}' "$man" >"$tmp/man-protos"

# The sections, one per exported function and none for anything else.
sed -n 's/^section\t//p' "$tmp/man-protos" | sort >"$tmp/man-sections"
if ! diff -u "$tmp/exported" "$tmp/man-sections" >"$tmp/diff"; then
	echo "$man: '## name()' sections and exported functions differ (- exported, + sections):"
	grep '^[-+][^-+]' "$tmp/diff"
	status=1
fi
if [ -n "$(uniq -d "$tmp/man-sections")" ]; then
	echo "$man: more than one section for: $(uniq -d "$tmp/man-sections" | tr '\n' ' ')"
	status=1
fi

# Each section's first literal block holds its prototype; the SYNOPSIS holds
# every prototype; and every prototype shown is the header's.
while IFS="$(printf '\t')" read -r name hproto; do
	if grep -qx "$name" "$tmp/man-sections" && ! awk -F '\t' -v n="$name" '
		$1 == "proto" && $2 == n && $3 == n && $4 == 1 { found = 1 }
		END { exit found ? 0 : 1 }' "$tmp/man-protos"; then
		echo "$man: section '## $name()' does not start with its prototype in a literal block"
		status=1
	fi
	awk -F '\t' -v n="$name" '$1 == "proto" && $2 == n && $3 == "SYNOPSIS" { found = 1 }
		END { exit found ? 0 : 1 }' "$tmp/man-protos" ||
		{ echo "$man: SYNOPSIS lacks the prototype of $name()"; status=1; }
	awk -F '\t' -v n="$name" -v h="$hproto" -v page="$man" '$1 == "proto" && $2 == n && $5 != h {
			printf "%s: the prototype of %s() (in %s) differs from ksm.h:\n  ksm.h:  %s\n  manual: %s\n",
				page, n, $3 == "" ? "no function section" : $3, h, $5
			bad = 1
		}
		END { exit bad ? 1 : 0 }' "$tmp/man-protos" || status=1
done <"$tmp/header-protos"
# A prototype of a function that does not exist (or is not exported).
awk -F '\t' 'NR == FNR { known[$1] = 1; next }
	$1 == "proto" && $2 ~ /^ksm_/ && !($2 in known) { print $2; bad = 1 }
	END { exit bad ? 1 : 0 }' "$tmp/exported" "$tmp/man-protos" >"$tmp/unknown" ||
	{ echo "$man: prototypes of functions libksm does not export: $(tr '\n' ' ' <"$tmp/unknown")"; status=1; }

# No manual names a libksm function that does not exist: every "ksm_x(" and
# "*ksm_x*(" in man/*.scd is an exported function. ksm_open() and
# ksm_merge() are the Selective KSM RFC's system calls, not libksm's.
for page in "$(dirname "$man")"/*.scd; do
	grep -o 'ksm_[a-z0-9_]*\**(' "$page" | sed 's/\**($//' | sort -u |
		grep -vx -e ksm_open -e ksm_merge | comm -23 - "$tmp/exported" >"$tmp/stale" || true
	if [ -s "$tmp/stale" ]; then
		echo "$page: names functions libksm does not export: $(tr '\n' ' ' <"$tmp/stale")"
		status=1
	fi
done

[ $status -eq 0 ] && echo "libksm(3): a section with the header's prototype for each of the $n functions"
exit $status

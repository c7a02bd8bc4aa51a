#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# One command to go from a fresh Debian/Ubuntu checkout to a result:
#   scripts/dev.sh status   install what is missing, build, run 'ksmctl status'
#   scripts/dev.sh test     install what is missing, build, run every test suite
#
# Build dependencies come from the distribution's archive. BUILDDIR overrides
# the build directory (default: build). With clang present, 'test' also runs
# each libFuzzer target of tests/fuzz for 25 seconds (scripts/fuzz.sh, which
# documents the long run), in $BUILDDIR-fuzz.
set -eu

cd "$(dirname "$0")/.."
builddir=${BUILDDIR:-build}
packages="gcc g++ meson ninja-build pkg-config check scdoc python3 valgrind binutils
	prometheus prometheus-node-exporter tmux bash-completion git xz-utils
	clang libclang-rt-dev"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing() {
	missing=""
	for p in $packages; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "Installing:$missing"
	as_root apt-get update -qq
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

build() {
	if [ ! -f "$builddir/build.ninja" ]; then
		meson setup "$builddir" -Dtests=enabled -Dman=enabled
	fi
	ninja -C "$builddir"
}

# One closing line over every test run: "N passed, N failed, N skipped".
summary() {
	python3 - "$@" <<'PY'
import json, sys
count = {"passed": 0, "failed": 0, "skipped": 0}
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)["result"]
        key = "passed" if r == "OK" else "skipped" if r == "SKIP" else "failed"
        count[key] += 1
print("tests: {passed} passed, {failed} failed, {skipped} skipped".format(**count))
sys.exit(1 if count["failed"] else 0)
PY
}

case "${1:-}" in
status)
	install_missing
	build
	exec "$builddir/ksmctl" status
	;;
test)
	install_missing
	build
	# Every suite: unit, kernel (runs as root on a KSM kernel, else skips),
	# cli and install; then the library suite again under valgrind, and the
	# unit and cli suites built with sanitizers.
	meson test -C "$builddir" --print-errorlogs
	# The kernel suite again from other initial KSM states (run=2, the
	# advisor on, merged pages of another process), every knob restored
	# afterwards; skipped without root.
	rm -f "$builddir"/meson-logs/testlog-run2.json "$builddir"/meson-logs/testlog-advisor.json \
		"$builddir"/meson-logs/testlog-foreign.json
	tests/kernel/initial-states.sh "$builddir" run2 advisor foreign
	meson test -C "$builddir" --print-errorlogs --setup=valgrind --suite unit --no-suite script
	# The library and ksmctl once more, built with AddressSanitizer and UBSan.
	if [ ! -f "$builddir-sanitize/build.ninja" ]; then
		meson setup "$builddir-sanitize" -Db_sanitize=address,undefined -Db_lundef=false \
			-Dtests=enabled -Dman=disabled
	fi
	ninja -C "$builddir-sanitize"
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$builddir-sanitize" --print-errorlogs --suite unit --suite cli --no-suite script
	# Each fuzz target for 25 s from its seeds (7 targets: about 3 minutes).
	fuzzlog=""
	if command -v clang >/dev/null 2>&1; then
		fuzzlog="$builddir-fuzz/testlog-fuzz.json"
		mkdir -p "$builddir-fuzz"
		: >"$fuzzlog"
		BUILDDIR_FUZZ="$builddir-fuzz" FUZZ_RESULTS="$fuzzlog" scripts/fuzz.sh 25 || true
	fi
	# shellcheck disable=SC2046,SC2086
	summary "$builddir/meson-logs/testlog.json" "$builddir/meson-logs/testlog-valgrind.json" \
		"$builddir-sanitize/meson-logs/testlog.json" \
		$(ls "$builddir"/meson-logs/testlog-run2.json "$builddir"/meson-logs/testlog-advisor.json \
			"$builddir"/meson-logs/testlog-foreign.json 2>/dev/null) \
		$fuzzlog
	;;
*)
	echo "usage: $0 status|test" >&2
	exit 2
	;;
esac

#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The release tarball stands on its own: 'meson dist' of the committed tree
# (a clone of HEAD, so that the work tree's state does not matter) gives a
# tarball that configures, builds and passes the unit suite with nothing but
# its own files. Exit 77 outside a git checkout or without git.
# Usage: test-dist.sh SRCDIR
set -eu
srcdir=$1
command -v git >/dev/null 2>&1 || { echo "git not found: skipped"; exit 77; }
git -C "$srcdir" rev-parse --verify -q HEAD >/dev/null 2>&1 ||
	{ echo "$srcdir is not a git checkout: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

git clone -q --no-hardlinks "$srcdir" "$tmp/src"
meson setup "$tmp/dist-build" "$tmp/src" -Dtests=disabled -Dman=disabled >/dev/null
meson dist -C "$tmp/dist-build" --no-tests --formats xztar >"$tmp/dist.log" 2>&1 ||
	{ cat "$tmp/dist.log"; exit 1; }
tarball=$(ls "$tmp"/dist-build/meson-dist/*.tar.xz)
echo "tarball: $(basename "$tarball"), $(wc -c <"$tarball") bytes"

mkdir "$tmp/unpacked"
tar -C "$tmp/unpacked" -xf "$tarball"
top=$(ls "$tmp/unpacked")
# No .git: the tarball is all there is.
[ ! -e "$tmp/unpacked/$top/.git" ] || { echo "the tarball holds .git"; exit 1; }
cd "$tmp/unpacked/$top"
meson setup build -Dtests=enabled -Dman=enabled >"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; exit 1; }
ninja -C build >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
meson test -C build --suite unit --print-errorlogs >"$tmp/test.log" 2>&1 ||
	{ cat "$tmp/test.log"; exit 1; }
grep -E '^(Ok|Fail|Skipped):' "$tmp/test.log"
grep -Eq '^Fail: *0 *$' "$tmp/test.log"
grep -Eq '^Ok: *[1-9]' "$tmp/test.log"

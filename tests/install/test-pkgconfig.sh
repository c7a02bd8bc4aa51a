#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install into a DESTDIR, check what lands there, and build and run a program
# against the installed library through pkg-config alone.
set -eu
builddir=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

meson install -C "$builddir" --destdir "$dest" --quiet >/dev/null

prefix=$(meson introspect "$builddir" --buildoptions |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
pcfile=$(find "$dest" -name libksm.pc | head -n1)
[ -n "$pcfile" ] || { echo "libksm.pc not installed"; exit 1; }
for f in include/ksm.h sbin/ksmctl; do
	[ -e "$dest$prefix/$f" ] || { echo "missing $prefix/$f"; exit 1; }
done
ls "$(dirname "$(dirname "$pcfile")")"/libksm.so.0 >/dev/null
if [ -f "$builddir/ksmctl.8" ]; then
	[ -f "$dest$prefix/share/man/man8/ksmctl.8" ] || { echo "ksmctl.8 not installed"; exit 1; }
	[ -f "$dest$prefix/share/man/man3/libksm.3" ] || { echo "libksm.3 not installed"; exit 1; }
fi

unit=$(find "$dest" -name ksm.service | head -n1)
[ -n "$unit" ] || { echo "ksm.service not installed"; exit 1; }
grep -q "^ExecStart=$prefix/sbin/ksmctl apply --if-exists /etc/ksm.conf$" "$unit" ||
	{ echo "ksm.service does not apply /etc/ksm.conf with the installed ksmctl"; cat "$unit"; exit 1; }
grep -q "^ExecStop=$prefix/sbin/ksmctl stop$" "$unit" || { echo "ksm.service: no ExecStop"; exit 1; }
if [ -f "$builddir/ksm.conf.5" ]; then
	[ -f "$dest$prefix/share/man/man5/ksm.conf.5" ] || { echo "ksm.conf.5 not installed"; exit 1; }
fi

PKG_CONFIG_PATH=$(dirname "$pcfile")
export PKG_CONFIG_PATH
export PKG_CONFIG_SYSROOT_DIR="$dest"
[ "$(pkg-config --modversion libksm)" = "$(meson introspect "$builddir" --projectinfo |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')" ]

cat >"$dest/prog.c" <<'C'
#include <ksm.h>
#include <stdio.h>
int main(void)
{
	struct ksm_ctx *ctx;
	int r = ksm_new_at(&ctx, "/");
	if (r < 0)
		return 1;
	printf("%s %d\n", ksm_knob_info(KSM_KNOB_PAGES_SHARING)->name, ksm_knob_count());
	return ksm_unref(ctx) == NULL ? 0 : 1;
}
C
# shellcheck disable=SC2046
cc -o "$dest/prog" "$dest/prog.c" $(pkg-config --cflags --libs libksm)
out=$(LD_LIBRARY_PATH="$(dirname "$(dirname "$pcfile")")" "$dest/prog")
[ "$out" = "pages_sharing 24" ] || { echo "unexpected output: $out"; exit 1; }

# The installed library exports nothing but ksm_* symbols.
lib=$(dirname "$(dirname "$pcfile")")/libksm.so.0
bad=$(nm -D --defined-only "$lib" | awk '$2 == "T" && $3 !~ /^ksm_/ { print $3 }')
[ -z "$bad" ] || { echo "unexpected exports: $bad"; exit 1; }
echo "installed and linked through pkg-config: $out"

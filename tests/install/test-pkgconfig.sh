#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install into a DESTDIR, check what lands there, and build and run a program
# against the installed library through pkg-config alone. The installed
# libksm.pc is relocatable: its paths are relative to ${prefix}.
set -eu
srcdir=$1 builddir=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

meson install -C "$builddir" --destdir "$dest" --quiet >/dev/null

option() {
	meson introspect "$builddir" --buildoptions |
		python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
prefix=$(option prefix)
# meson's sysconfdir is relative to the prefix, or absolute (/etc for /usr).
sysconfdir=$(option sysconfdir)
case $sysconfdir in /*) ;; *) sysconfdir=$prefix/$sysconfdir ;; esac
pcfile=$(find "$dest" -name libksm.pc | head -n1)
[ -n "$pcfile" ] || { echo "libksm.pc not installed"; exit 1; }
for f in include/ksm.h sbin/ksmctl; do
	[ -e "$dest$prefix/$f" ] || { echo "missing $prefix/$f"; exit 1; }
done
ls "$(dirname "$(dirname "$pcfile")")"/libksm.so.0 >/dev/null
if [ -f "$builddir/ksmctl.8" ]; then
	man3=$dest$prefix/share/man/man3
	[ -f "$dest$prefix/share/man/man8/ksmctl.8" ] || { echo "ksmctl.8 not installed"; exit 1; }
	[ -f "$man3/libksm.3" ] || { echo "libksm.3 not installed"; exit 1; }
	# "man ksm_txn_commit": a page for every exported function, leading to libksm(3).
	# shellcheck disable=SC2013
	for sym in $(sed -n 's/^[[:space:]]*\(ksm_[a-z0-9_]*\);$/\1/p' "$srcdir/lib/libksm.sym"); do
		[ "$(cat "$man3/$sym.3" 2>/dev/null)" = ".so man3/libksm.3" ] ||
			{ echo "man3/$sym.3 is not a link to libksm(3)"; exit 1; }
	done
	if command -v man >/dev/null 2>&1; then
		MANPATH=$dest$prefix/share/man man -w ksm_txn_commit >/dev/null ||
			{ echo "'man ksm_txn_commit' finds nothing"; exit 1; }
	fi
fi

unit=$(find "$dest" -name ksm.service | head -n1)
[ -n "$unit" ] || { echo "ksm.service not installed"; exit 1; }
grep -q "^ExecStart=$prefix/sbin/ksmctl apply --if-exists --start $sysconfdir/ksm.conf$" "$unit" ||
	{ echo "ksm.service does not apply $sysconfdir/ksm.conf with the installed ksmctl"; cat "$unit"; exit 1; }
grep -q "^ExecStop=$prefix/sbin/ksmctl stop$" "$unit" || { echo "ksm.service: no ExecStop"; exit 1; }
tune_unit=$(dirname "$unit")/ksmctl-tune.service
[ -f "$tune_unit" ] || { echo "ksmctl-tune.service not installed beside ksm.service"; exit 1; }
grep -q "^ExecStart=$prefix/sbin/ksmctl tune$" "$tune_unit" &&
	grep -q "^Type=notify$" "$tune_unit" && grep -q "^Conflicts=ksmtuned.service$" "$tune_unit" ||
	{ echo "ksmctl-tune.service is not the notify unit of the installed ksmctl"; cat "$tune_unit"; exit 1; }
# node_exporter's textfile: the service writes ksm.prom in the configured directory, every 30 s.
textfile=$(find "$dest" -name ksmctl-textfile.service | head -n1)
[ -n "$textfile" ] || { echo "ksmctl-textfile.service not installed"; exit 1; }
grep -q "^ExecStart=$prefix/sbin/ksmctl status --prometheus --output $(option textfile_dir)/ksm.prom$" "$textfile" ||
	{ echo "ksmctl-textfile.service does not write $(option textfile_dir)/ksm.prom"; cat "$textfile"; exit 1; }
timer=$(dirname "$textfile")/ksmctl-textfile.timer
grep -q "^OnUnitActiveSec=30s$" "$timer" || { echo "ksmctl-textfile.timer: not every 30 s"; exit 1; }
[ -f "$dest$prefix/share/libksm/ksm.rules.yml" ] || { echo "ksm.rules.yml not installed"; exit 1; }
completion=$(find "$dest" -path '*/bash-completion/completions/ksmctl' | head -n1)
[ -n "$completion" ] || { echo "the bash completion of ksmctl is not installed"; exit 1; }
grep -q '^complete -F _ksmctl ksmctl$' "$completion" || { echo "$completion is not the completion"; exit 1; }
if [ -f "$builddir/ksm.conf.5" ]; then
	[ -f "$dest$prefix/share/man/man5/ksm.conf.5" ] || { echo "ksm.conf.5 not installed"; exit 1; }
fi

# Relocatable: every path is ${prefix} or below it (unless configured outside).
for var in libdir includedir; do
	dir=$(option "$var")
	case $dir in /*) continue ;; esac
	grep -q "^$var=\${prefix}/$dir\$" "$pcfile" ||
		{ echo "libksm.pc: $var is not \${prefix}/$dir"; cat "$pcfile"; exit 1; }
done
grep -q "^prefix=$prefix\$" "$pcfile" || { echo "libksm.pc: prefix is not $prefix"; exit 1; }

PKG_CONFIG_PATH=$(dirname "$pcfile")
export PKG_CONFIG_PATH
[ "$(pkg-config --modversion libksm)" = "$(meson introspect "$builddir" --projectinfo |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')" ]

# The program a newcomer writes: statistics into an uninitialised struct,
# with its size; messages from ksm_strerror().
cat >"$dest/prog.c" <<'C'
#include <ksm.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	struct ksm_ctx *ctx;
	struct ksm_stats st;
	int r = ksm_new_at(&ctx, argv[1]);
	if (r < 0) {
		fprintf(stderr, "%s\n", ksm_strerror(r));
		return 1;
	}
	r = ksm_stats_read(ctx, &st, sizeof(st));
	if (r < 0) {
		fprintf(stderr, "%s\n", ksm_strerror(r));
		return 1;
	}
	printf("%s %d %lld\n", ksm_knob_info(KSM_KNOB_PAGES_TO_SCAN)->name, ksm_knob_count(),
	       (long long)st.pages_to_scan);
	return argc == 2 && ksm_unref(ctx) == NULL ? 0 : 1;
}
C
sysroot=$srcdir/tests/sysroots/6.18
expected="pages_to_scan 24 $(cat "$sysroot/sys/kernel/mm/ksm/pages_to_scan")"
libdir=$(dirname "$(dirname "$pcfile")")

# Built as installed, with pkg-config's sysroot support ...
# shellcheck disable=SC2046
cc -o "$dest/prog" "$dest/prog.c" $(PKG_CONFIG_SYSROOT_DIR="$dest" pkg-config --cflags --libs libksm)
out=$(LD_LIBRARY_PATH="$libdir" "$dest/prog" "$sysroot")
[ "$out" = "$expected" ] || { echo "unexpected output: $out (expected: $expected)"; exit 1; }

# ... and relocated: the tree moved elsewhere, only prefix redefined.
moved=$dest/moved
mkdir -p "$moved"
cp -a "$dest$prefix/." "$moved/"
mpc=$(find "$moved" -name libksm.pc | head -n1)
for var in libdir includedir; do
	dir=$(PKG_CONFIG_PATH=$(dirname "$mpc") pkg-config --define-variable=prefix="$moved" --variable="$var" libksm)
	case $dir in "$moved"/*) ;; *) echo "relocated libksm.pc: $var is $dir, not below $moved"; exit 1 ;; esac
	[ -d "$dir" ] || { echo "relocated libksm.pc: $var $dir does not exist"; exit 1; }
done
# shellcheck disable=SC2046
cc -o "$dest/prog2" "$dest/prog.c" $(PKG_CONFIG_PATH=$(dirname "$mpc") pkg-config --define-variable=prefix="$moved" --cflags --libs libksm)
out=$(LD_LIBRARY_PATH="$(dirname "$(dirname "$mpc")")" "$dest/prog2" "$sysroot")
[ "$out" = "$expected" ] || { echo "relocated: unexpected output: $out"; exit 1; }

# The installed library exports nothing but ksm_* symbols, the Selective KSM
# calls in a version node of their own.
lib=$libdir/libksm.so.0
bad=$(nm -D --defined-only "$lib" | awk '$2 == "T" && $3 !~ /^ksm_/ { print $3 }')
[ -z "$bad" ] || { echo "unexpected exports: $bad"; exit 1; }
bad=$(nm -D --defined-only "$lib" | awk '$2 == "T" && $3 ~ /^ksm_/ {
	partition = $3 ~ /^ksm_partition_/
	if (partition && $3 !~ /@@LIBKSM_PARTITION_0\.2$/ || !partition && $3 !~ /@@LIBKSM_0\.2$/)
		print $3 }')
[ -z "$bad" ] || { echo "symbols in the wrong version node: $bad"; exit 1; }
echo "installed, linked through pkg-config and relocated: $out"

#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run every benchmark; each prints its own ratios, measured in one run.
set -eu
bench=$1 bench_ps=$2 bench_merge=$3 ksmctl=$4 bench_tune=$5 malloc_count=$6 bench_tune_quality=$7
bench_prom=$8 bench_estimate=$9 workload=${10} bench_remote=${11} bench_guided=${12}
echo "== status: ksm_stats_read and ksmctl status --json"
"$bench" "$ksmctl"
echo "== prometheus: ksmctl status --prometheus vs node_exporter's ksmd collector"
python3 "$bench_prom" "$ksmctl" || [ $? -eq 77 ]
echo "== ps: ksmctl ps --json and ps --by cgroup with 10000 processes"
"$bench_ps" "$ksmctl" 10000
echo "== merge: synchronous merge of 100 MiB (changes KSM knobs, restores them)"
"$bench_merge" || [ $? -eq 77 ]
echo "== tune: ksmctl tune against Debian's ksmtuned, CPU and RSS per interval; ksmctl tune in its own mount namespace with tracefs mounted (or hidden for the connector) (changes KSM knobs, restores them)"
# ksmtuned as Debian's package ships it: downloaded from the archive and
# unpacked, not installed (installing would start its units). The copy reads
# its settings from $KSMTUNED_CONF and runs its loop in the foreground, so
# that the benchmark can measure it; nothing else in the script changes.
tmp=$(mktemp -d)
if (cd "$tmp" && apt-get download ksmtuned >/dev/null 2>&1 && dpkg-deb -x ksmtuned_*.deb x); then
	sed -e 's|/etc/ksmtuned.conf|$KSMTUNED_CONF|g' -e 's|^  loop &$|  loop|' \
		"$tmp/x/usr/sbin/ksmtuned" >"$tmp/ksmtuned"
	"$bench_tune" "$ksmctl" "$tmp/ksmtuned" "$malloc_count" "${BENCH_TUNE_SECONDS:-30}" 4 "${BENCH_TUNE_CHURN:-50}" || [ $? -eq 77 ]
	echo "== tune quality: the same workload under ksmtuned, ksmctl tune and the advisor alone"
	"$bench_tune_quality" "$ksmctl" "$tmp/ksmtuned" || [ $? -eq 77 ]
else
	echo "SKIP: cannot download Debian's ksmtuned package"
fi
rm -rf "$tmp"
echo "== estimate: CPU per GiB, estimator vs ksmd (changes KSM knobs, restores them)"
"$bench_estimate" "$workload" || [ $? -eq 77 ]
echo "== guided: merging guided by an estimate vs registering everything; the cost model; wall time vs stock ksmd (changes KSM knobs, restores them)"
"$bench_guided" "$workload" || [ $? -eq 77 ]
echo "== remote: opt a running 1 GiB process out, and in (changes KSM knobs, restores them)"
"$bench_remote" || [ $? -eq 77 ]

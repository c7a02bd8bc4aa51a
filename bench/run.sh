#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run every benchmark; each prints its own ratios, measured in one run.
set -eu
bench=$1 bench_ps=$2 bench_merge=$3 ksmctl=$4
echo "== status: ksm_stats_read and ksmctl status --json"
"$bench" "$ksmctl"
echo "== ps: ksmctl ps --json with 10000 processes"
"$bench_ps" "$ksmctl" 10000
echo "== merge: synchronous merge of 100 MiB (changes KSM knobs, restores them)"
"$bench_merge" || [ $? -eq 77 ]

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every --json output of ksmctl against the schema of ksmctl(8), JSON OUTPUT.

  test-json-schema.py KSMCTL SYSROOTS MANPAGE

Runs status, get (every knob), features, knobs, ps, ps --by, doctor,
partition list and partition status with --json on copies of every fake system root and checks:
every key is one the schema names, with the one type it has everywhere
(a bool is not a number, a float is not an int); nothing is null (absent is
how "nothing" is said); every object that holds a count of pages also holds
page_size; every enum value comes with its name. And the schema's keys are
documented in ksmctl(8).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

KNOBS = ["run", "pages_to_scan", "sleep_millisecs", "merge_across_nodes", "use_zero_pages",
         "max_page_sharing", "stable_node_chains_prune_millisecs", "smart_scan", "advisor_mode",
         "advisor_max_cpu", "advisor_min_pages_to_scan", "advisor_max_pages_to_scan",
         "advisor_target_scan_time", "pages_shared", "pages_sharing", "pages_unshared",
         "pages_volatile", "pages_scanned", "pages_skipped", "full_scans", "stable_node_chains",
         "stable_node_dups", "ksm_zero_pages", "general_profit"]
FEATURES = ["ksm", "writable", "merge_across_nodes", "use_zero_pages", "max_page_sharing",
            "general_profit", "ksm_zero_pages", "smart_scan", "advisor", "prctl_memory_merge",
            "proc_ksm_stat", "selective_ksm"]
ENUMS = {"run": ["stop", "merge", "unmerge"], "advisor_mode": ["none", "scan-time"]}

# One key, one type, in every command's output.
SCHEMA = {k: int for k in KNOBS}
SCHEMA.update({k + "_name": str for k in ENUMS})
SCHEMA.update({"has_" + f: bool for f in FEATURES})
SCHEMA.update({
    "page_size": int, "derived": dict,
    # status: the node-wide disable
    "policy": dict, "disabled": bool, "disabled_since": str, "profile": str,
    "saved_pages": int, "saved_bytes": int, "profit_bytes": int,
    "sharing_ratio": float, "effectiveness": float,
    # knobs
    "name": str, "kind": str, "type": str, "min": int, "max": int, "values": list,
    "requires": str, "since": str, "description": str,
    # ps
    "pid": int, "comm": str, "ksm_rmap_items": int, "ksm_merging_pages": int,
    "ksm_process_profit": int, "ksm_merge_any": bool, "ksm_mergeable": bool,
    "cmdline": str, "cgroup": str, "unit": str, "guest": str, "vmid": int,
    # ps --by
    "processes": int,
    # doctor
    "id": str, "severity": str, "summary": str, "evidence": str, "fix": str,

    # estimate (checked by test_cli_estimate on live processes)
    "sample_rate": float, "frames": bool, "total": dict, "targets": list, "target": str,
    "overlap": list, "rmap_items": int, "freed_bytes": int, "pages_sharing_ci": int,
    "general_profit_ci": int, "freed_bytes_ci": int, "candidate_pages": int, "thp_pages": int,
    "volatile_pages": int, "processes": int, "skipped_processes": int,
    "auto_sampled": bool, "unreadable_pages": int, "ksmd_cpu_to_merge_ns": int,
    "ksmd_wall_to_merge_ms": int, "ksmd_cpu_per_hour_ns": int,
})
PAGE_COUNTS = {"pages_to_scan", "advisor_min_pages_to_scan", "advisor_max_pages_to_scan",
               "pages_shared", "pages_sharing", "pages_unshared", "pages_volatile",
               "pages_scanned", "pages_skipped", "ksm_zero_pages", "ksm_merging_pages",
               "saved_pages", "rmap_items", "candidate_pages", "thp_pages", "volatile_pages",
               "unreadable_pages"}

failures = 0
checked = 0


def fail(where, msg):
    global failures
    failures += 1
    print(f"FAIL {where}: {msg}")


def check(where, value):
    """Walk a parsed JSON value."""
    global checked
    if value is None:
        fail(where, "null (absent is how nothing is said)")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check(f"{where}[{i}]", v)
    elif isinstance(value, dict):
        for key, v in value.items():
            checked += 1
            want = SCHEMA.get(key)
            if want is None:
                fail(where, f"key {key!r} is not in the schema")
            elif type(v) is not want:
                fail(where, f"{key!r} is {type(v).__name__}, the schema says {want.__name__}")
            check(f"{where}.{key}", v)
        if PAGE_COUNTS & set(value) and "page_size" not in value:
            fail(where, f"page counts {sorted(PAGE_COUNTS & set(value))} without page_size")
        for knob, names in ENUMS.items():
            if knob in value and isinstance(value[knob], int):
                if value.get(knob + "_name") != names[value[knob]]:
                    fail(where, f"{knob} {value[knob]} with name {value.get(knob + '_name')!r}")


def check_text(where, text):
    """Check one JSON text (for other tests): the number of failures."""
    check(where, json.loads(text))
    return failures


def run(ksmctl, root, args):
    env = dict(os.environ)
    env.pop("KSM_SYSROOT", None)
    return subprocess.run([ksmctl, "--sysroot", root] + args, capture_output=True, text=True,
                          env=env, timeout=60)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    ksmctl, sysroots, manpage = sys.argv[1:]
    outputs = 0
    tmp = tempfile.mkdtemp()
    try:
        for tree in sorted(os.listdir(sysroots)):
            src = os.path.join(sysroots, tree)
            if not os.path.isdir(src):
                continue
            root = os.path.join(tmp, tree)
            shutil.copytree(src, root, symlinks=True)
            commands = [["status"], ["get"] + KNOBS, ["features"], ["knobs"], ["ps"],
                        ["ps", "--by", "cgroup"], ["ps", "--by", "unit"], ["ps", "--by", "comm"],
                        ["doctor"], ["partition", "list"]]
            if tree == "sksm-rfc":
                commands += [["partition", "status", "tenant-a"]]
            for args in commands:
                p = run(ksmctl, root, args + ["--json"])
                where = f"{tree}: {' '.join(args[:3])} --json"
                if not p.stdout:
                    continue  # failed as it should (no KSM, no such knob): nothing printed
                try:
                    value = json.loads(p.stdout)
                except json.JSONDecodeError as e:
                    fail(where, f"not JSON: {e}")
                    continue
                outputs += 1
                check(where, value)
    finally:
        shutil.rmtree(tmp)

    # The schema is the documented one.
    text = open(manpage).read()
    section = text[text.index("# JSON OUTPUT"):text.index("# OPTIONS")]
    for key in sorted(SCHEMA):
        if key in KNOBS or key.startswith("has_"):
            continue  # documented as "the file names" and "has_ and the feature's name"
        if f"*{key}*" not in section:
            fail("ksmctl(8)", f"JSON OUTPUT does not document {key!r}")
    for phrase in ("*has_*", "2^53", "absent"):
        if phrase not in section:
            fail("ksmctl(8)", f"JSON OUTPUT does not say {phrase!r}")

    print(f"{outputs} outputs, {checked} keys checked, {failures} failures")
    if outputs < 40 or checked < 2000:
        fail("test", "too little was checked")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

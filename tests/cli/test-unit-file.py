#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ksm.service, run the way systemd runs it, against copies of a fake sysroot.

  test-unit-file.py UNIT KSMCTL SYSROOTS

Each ExecStart= line runs in order with KSM_SYSROOT set to the copy and the
unit's ksmctl replaced by the built one; a failing line stops the unit unless
it starts with "-", as systemd does. Checked: a profile's run line decides, a
profile without one starts merging, no profile starts merging, a foreign boost
record does not keep the profile from being applied, and the unit conflicts
with ksmtuned.
"""
import os
import shutil
import subprocess
import sys
import tempfile

failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg)


def unit_lines(path):
    lines = {}
    for raw in open(path):
        raw = raw.strip()
        if not raw or raw.startswith("#") or raw.startswith("[") or "=" not in raw:
            continue
        key, value = raw.split("=", 1)
        lines.setdefault(key, []).append(value)
    return lines


def start(unit, ksmctl, root):
    """Run the ExecStart= lines; True if the unit started."""
    env = dict(os.environ, KSM_SYSROOT=root)
    for line in unit["ExecStart"]:
        ignore = line.startswith("-")
        argv = line.lstrip("-").split()
        if os.path.basename(argv[0]) != "ksmctl":
            fail(f"ExecStart runs {argv[0]}, not ksmctl")
            return False
        # The profile named by its absolute path lies below the system root here.
        args = [root + a if a.startswith("/") and a.endswith(".conf") else a for a in argv[1:]]
        r = subprocess.run([ksmctl] + args, env=env, capture_output=True, text=True)
        if r.returncode != 0 and not ignore:
            print(f"  '{line}' failed ({r.returncode}): {r.stderr.strip()}")
            return False
    return True


def knob(root, name):
    with open(os.path.join(root, "sys/kernel/mm/ksm", name)) as f:
        return f.read().strip()


def case(unit, ksmctl, sysroots, name, profile, record, want_run, want_pages):
    tmp = tempfile.mkdtemp()
    try:
        root = os.path.join(tmp, "root")
        shutil.copytree(os.path.join(sysroots, "6.18"), root)  # run 0, pages_to_scan 100
        if profile is not None:
            # Where the unit looks: its absolute profile path, below the root.
            conf = [a for line in unit["ExecStart"] for a in line.split()
                    if a.startswith("/") and a.endswith(".conf")]
            path = root + (conf[0] if conf else "/etc/ksm.conf")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(profile)
        if record is not None:
            os.makedirs(os.path.join(root, "run/libksm"))
            with open(os.path.join(root, "run/libksm/boost"), "w") as f:
                f.write(record)
        if not start(unit, ksmctl, root):
            fail(f"{name}: the unit did not start")
            return
        got = (knob(root, "run"), knob(root, "pages_to_scan"))
        if got != (want_run, want_pages):
            fail(f"{name}: run, pages_to_scan = {got}, want {(want_run, want_pages)}")
    finally:
        shutil.rmtree(tmp)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, ksmctl, sysroots = sys.argv[1:]
    unit = unit_lines(path)
    if "ksmtuned.service" not in " ".join(unit.get("Conflicts", [])):
        fail("the unit does not conflict with ksmtuned.service")
    case(unit, ksmctl, sysroots, "profile with run = 0", "pages_to_scan = 300\nrun = 0\n", None, "0", "300")
    case(unit, ksmctl, sysroots, "profile with run = 2", "run = 2\n", None, "2", "100")
    case(unit, ksmctl, sysroots, "profile without run", "pages_to_scan = 300\n", None, "1", "300")
    case(unit, ksmctl, sysroots, "no profile", None, None, "1", "100")
    case(unit, ksmctl, sysroots, "foreign boost record", "pages_to_scan = 300\nrun = 0\n",
         "not a record\n", "0", "300")
    print("failures:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

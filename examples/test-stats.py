#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run the stats example against every fake system root.

  test-stats.py raw STATS SYSROOTS
      "name value" lines of the example equal the raw files of
      sys/kernel/mm/ksm, file for file (the system root given through
      KSM_SYSROOT).
  test-stats.py json STATS KSMCTL SYSROOTS
      the example's --json and "ksmctl status --json" hold the same values
      for every key they share, and the example has every knob key of
      ksmctl (the system root given as an argument and as --sysroot).

Each tree is copied to a temporary directory first, as the C tests do: the
trees in the source are never used in place.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

KSM_REL = os.path.join("sys", "kernel", "mm", "ksm")
failures = []


def fail(tree, message):
    failures.append(f"{tree}: {message}")


def raw_value(path):
    """The value of a knob file, as the kernel prints it: a number, or advisor_mode's [selected] name."""
    with open(path) as f:
        text = f.read()
    if "[" in text:
        m = re.search(r"\[([^\]]+)\]", text)
        return m.group(1)
    if not re.fullmatch(r"-?[0-9]+\n", text):
        raise ValueError(f"{path} holds {text!r}")
    return text.strip()


def raw_knobs(root):
    """name -> value text of every regular file in the KSM directory; None without KSM."""
    ksm = os.path.join(root, KSM_REL)
    if not os.path.isdir(ksm):
        return None
    knobs = {}
    for name in sorted(os.listdir(ksm)):
        path = os.path.join(ksm, name)
        if os.path.isfile(path):
            knobs[name] = raw_value(path)
    return knobs


def run(argv, env=None):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                          timeout=60)


def check_raw(tree, root, stats):
    env = dict(os.environ, KSM_SYSROOT=root)
    p = run([stats], env=env)
    want = raw_knobs(root)
    if want is None:
        if p.returncode != 1 or p.stdout or not p.stderr.startswith("stats: "):
            fail(tree, f"without KSM: exit {p.returncode}, stdout {p.stdout!r}, stderr {p.stderr!r}")
        return 0
    if p.returncode != 0:
        fail(tree, f"exit {p.returncode}: {p.stderr}")
        return 0
    got = {}
    for line in p.stdout.splitlines():
        name, sep, value = line.partition(" ")
        if not sep or name in got:
            fail(tree, f"bad or repeated line {line!r}")
            continue
        got[name] = value
    if got != want:
        for name in sorted(set(got) | set(want)):
            if got.get(name) != want.get(name):
                fail(tree, f"{name}: example prints {got.get(name)!r}, the file holds {want.get(name)!r}")
    return len(want)


def compare(tree, where, mine, theirs):
    """Values equal for every key both have; returns how many were compared."""
    n = 0
    for key in sorted(set(mine) & set(theirs)):
        a, b = mine[key], theirs[key]
        if isinstance(a, dict) and isinstance(b, dict):
            n += compare(tree, f"{where}{key}.", a, b)
        elif a != b or type(a) is not type(b):
            fail(tree, f"{where}{key}: example {a!r}, ksmctl {b!r}")
        else:
            n += 1
    return n


def check_json(tree, root, stats, ksmctl):
    env = dict(os.environ)
    env.pop("KSM_SYSROOT", None)
    mine = run([stats, "--json", root], env=env)
    theirs = run([ksmctl, "--sysroot", root, "status", "--json"], env=env)
    knobs = raw_knobs(root)
    if knobs is None:
        if mine.returncode == 0 or theirs.returncode == 0:
            fail(tree, f"without KSM: example exit {mine.returncode}, ksmctl exit {theirs.returncode}")
        return 0
    if not knobs:
        # No global files (the Selective KSM layout): ksmctl status says so and fails.
        if theirs.returncode != 1 or "Selective KSM" not in theirs.stderr:
            fail(tree, f"without global files: ksmctl exit {theirs.returncode}, {theirs.stderr.strip()}")
        return 0
    if mine.returncode != 0 or theirs.returncode != 0:
        fail(tree, f"example exit {mine.returncode} ({mine.stderr.strip()}), "
                   f"ksmctl exit {theirs.returncode} ({theirs.stderr.strip()})")
        return 0
    try:
        a = json.loads(mine.stdout)
        b = json.loads(theirs.stdout)
    except json.JSONDecodeError as e:
        fail(tree, f"not JSON: {e}")
        return 0
    missing = [k for k in knobs if k not in a or k not in b]
    if missing:
        fail(tree, f"knobs missing from the example or from ksmctl: {missing}")
    extra = [k for k in a if k not in b]
    if extra:
        fail(tree, f"keys of the example that ksmctl does not print: {extra}")
    n = compare(tree, "", a, b)
    if n < len(knobs):
        fail(tree, f"only {n} values compared, {len(knobs)} knob files")
    return n


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("raw", "json"):
        print(__doc__, file=sys.stderr)
        return 2
    mode = sys.argv[1]
    if (mode == "raw" and len(sys.argv) != 4) or (mode == "json" and len(sys.argv) != 5):
        print(__doc__, file=sys.stderr)
        return 2
    stats = sys.argv[2]
    sysroots = sys.argv[-1]
    trees = sorted(t for t in os.listdir(sysroots) if os.path.isdir(os.path.join(sysroots, t)))
    if "6.18" not in trees or "noksm" not in trees:
        print(f"{sysroots}: not the fake system roots ({trees})", file=sys.stderr)
        return 1
    total = 0
    with tempfile.TemporaryDirectory(prefix="libksm-example-") as tmp:
        for tree in trees:
            root = os.path.join(tmp, tree)
            shutil.copytree(os.path.join(sysroots, tree), root, symlinks=True)
            if mode == "raw":
                n = check_raw(tree, root, stats)
            else:
                n = check_json(tree, root, stats, sys.argv[3])
            print(f"{tree}: {n} values compared")
            total += n
    for f in failures:
        print("FAIL " + f)
    if total == 0:
        print("FAIL nothing was compared")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

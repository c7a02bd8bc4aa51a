#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""'ksmctl watch' in a real terminal: tmux runs it, send-keys types, capture-pane reads.

Usage: test-watch.py KSMCTL SYSROOTS

Against a copy of the 6.18 fake sysroot (run set to 1): the screen shows
the state, savings, rates and the top processes; a change of pages_sharing
and of ksmd's CPU time shows as rates; the alternate screen is used while it
runs; q and Ctrl-C both exit with status 0, the main screen back and the
terminal's settings (stty -a) as they were. Exit 77 without tmux.
"""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time


def main():
    ksmctl, sysroots = os.path.abspath(sys.argv[1]), sys.argv[2]
    tmux = shutil.which("tmux")
    if not tmux:
        print("tmux not found: skipped")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as d:
        root = os.path.join(d, "root")
        shutil.copytree(os.path.join(sysroots, "6.18"), root)
        open(os.path.join(root, "sys/kernel/mm/ksm/run"), "w").write("1\n")
        sock = os.path.join(d, "tmux.sock")

        def t(*args, check=True):
            p = subprocess.run([tmux, "-S", sock] + list(args), capture_output=True, text=True)
            if check and p.returncode != 0:
                sys.exit(f"tmux {' '.join(args)}: {p.stderr}")
            return p.stdout

        def screen():
            return t("capture-pane", "-p", "-t", "w")

        def wait_for(pred, what, timeout=15):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                s = screen()
                if pred(s):
                    return s
                time.sleep(0.1)
            sys.exit(f"timed out waiting for {what}; the screen:\n{screen()}")

        script = os.path.join(d, "run.sh")
        with open(script, "w") as f:
            # The shell survives the Ctrl-C sent to the foreground process group.
            f.write(f"""trap : INT
stty -a > {d}/before
for round in 1 2; do
  {shlex.quote(ksmctl)} --sysroot {shlex.quote(root)} watch --interval 0.3
  echo "EXIT$round=$?"
  stty -a > {d}/after$round
  [ $round = 1 ] && read next
done
sleep 60
""")
        t("-f", "/dev/null", "new-session", "-d", "-s", "w", "-x", "120", "-y", "30",
          f"sh {shlex.quote(script)}")
        try:
            s = wait_for(lambda s: "KSM: running (run=1)" in s, "the first screen")
            for needle in ("ksmctl watch: every 0.3 s", "Saved: ", "Profit: ",
                           "pages merged/s", "ksmd CPU", "    PID COMM"):
                if needle not in s:
                    sys.exit(f"'{needle}' not on the screen:\n{s}")
            # Top processes by saving: 2001 first, then 2004.
            lines = s.splitlines()
            top = [l.split()[0] for l in lines[lines.index(next(l for l in lines if "PID COMM" in l)) + 1:]
                   if l.strip()]
            if top[:2] != ["2001", "2004"]:
                sys.exit(f"top processes {top}, want 2001 then 2004:\n{s}")
            if t("display-message", "-p", "-t", "w", "#{alternate_on}").strip() != "1":
                sys.exit("watch does not use the alternate screen")

            # ksmd merges 1000 pages and uses CPU time: the rates show it.
            open(os.path.join(root, "sys/kernel/mm/ksm/pages_sharing"), "w").write("1000\n")
            open(os.path.join(root, "proc/45/stat"), "w").write(
                "45 (ksmd) S 2 0 0 0 -1 2097216 0 0 0 0 900 50 0 0 25 5 1 0 35\n")
            s = wait_for(lambda s: "Pages: shared 0   sharing 1000" in s and
                         "Rates: - " not in s and "ksmd CPU -" not in s,
                         "the rates of the change")
            rates = next(l for l in s.splitlines() if l.startswith("Rates:"))
            merged = float(rates.split()[1])
            if merged <= 0:
                sys.exit(f"no merge rate after pages_sharing grew: {rates}")

            # q quits: status 0, the main screen, the terminal as it was.
            t("send-keys", "-t", "w", "q")
            wait_for(lambda s: "EXIT1=0" in s, "exit on q")
            if t("display-message", "-p", "-t", "w", "#{alternate_on}").strip() != "0":
                sys.exit("the main screen is not back after q")
            before = open(f"{d}/before").read()
            if open(f"{d}/after1").read() != before:
                sys.exit("terminal settings differ after q")

            # Ctrl-C in the second round.
            t("send-keys", "-t", "w", "Enter")
            wait_for(lambda s: "KSM: running" in s, "the second round")
            t("send-keys", "-t", "w", "C-c")
            s = wait_for(lambda s: "EXIT2=0" in s, "exit on Ctrl-C")
            if t("display-message", "-p", "-t", "w", "#{alternate_on}").strip() != "0":
                sys.exit("the main screen is not back after Ctrl-C")
            if open(f"{d}/after2").read() != before:
                sys.exit("terminal settings differ after Ctrl-C")
            if "KSM: running" in s:
                sys.exit(f"the watch screen is still shown after Ctrl-C:\n{s}")
            print("watch: drawn, rates, q and Ctrl-C restore the terminal")
        finally:
            t("kill-server", check=False)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""'ksmctl status --prometheus' against node_exporter's ksmd collector.

Both per scrape of the running system, run alternately in one run:
  - ksmctl status --prometheus, a whole process (fork, exec, every knob,
    ksmd's CPU time, the boost state and the per-process walk);
  - an HTTP GET of /metrics from node_exporter (Debian's
    prometheus-node-exporter, on 127.0.0.1) with only its ksmd collector;
  - an HTTP GET of /metrics from node_exporter with only its textfile
    collector serving the file ksmctl wrote (what a scrape costs with
    ksmctl-textfile.timer; the timer's run is the first line).
Prints the medians and the ratios. Exit 77 without node_exporter or KSM.

Usage: bench_prom.py KSMCTL [ROUNDS]
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def main():
    ksmctl = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 51
    exporter = shutil.which("prometheus-node-exporter")
    if not exporter or not os.path.isdir("/sys/kernel/mm/ksm"):
        print("bench-prom: needs prometheus-node-exporter and KSM: skipped")
        sys.exit(77)
    textdir = tempfile.mkdtemp()
    subprocess.run([ksmctl, "status", "--prometheus", "--output", f"{textdir}/ksm.prom"], check=True)
    exporters = []
    try:
        for args in (["--collector.ksmd"], ["--collector.textfile", f"--collector.textfile.directory={textdir}"]):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            url = f"http://127.0.0.1:{port}/metrics"
            exporters.append((subprocess.Popen(
                [exporter, f"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults"] + args,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), url))
            deadline = time.monotonic() + 15
            while True:
                try:
                    urllib.request.urlopen(url, timeout=5).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        sys.exit("bench-prom: node_exporter did not start")
                    time.sleep(0.1)
        ours, theirs, textfile = [], [], []
        for i in range(rounds + 1):
            t0 = time.perf_counter()
            subprocess.run([ksmctl, "status", "--prometheus"], stdout=subprocess.DEVNULL, check=True)
            t1 = time.perf_counter()
            with urllib.request.urlopen(exporters[0][1], timeout=5) as r:
                r.read()
            t2 = time.perf_counter()
            with urllib.request.urlopen(exporters[1][1], timeout=5) as r:
                r.read()
            t3 = time.perf_counter()
            if i:  # the first round warms everything up
                ours.append(t1 - t0)
                theirs.append(t2 - t1)
                textfile.append(t3 - t2)
    finally:
        for p, _ in exporters:
            p.terminate()
            p.wait()
        shutil.rmtree(textdir)
    a, b, c = (sorted(v)[len(v) // 2] for v in (ours, theirs, textfile))
    print(f"ksmctl status --prometheus (process):      median {a * 1e3:8.2f} ms per scrape")
    print(f"node_exporter ksmd collector (HTTP GET):   median {b * 1e3:8.2f} ms per scrape")
    print(f"node_exporter textfile of ksmctl (GET):    median {c * 1e3:8.2f} ms per scrape")
    print(f"ratio ksmctl process/ksmd collector:       {a / b:.3f}")
    print(f"ratio textfile scrape/ksmd collector:      {c / b:.3f}  ({rounds} alternating runs each)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Prometheus output of ksmctl, checked by Prometheus's own tools.

  test-prometheus.py metrics KSMCTL SYSROOTS
      'promtool check metrics' accepts 'status --prometheus' and
      'ps --prometheus' of every fake sysroot and of the running kernel.
  test-prometheus.py rules RULES TESTS
      'promtool check rules' accepts the rules file and 'promtool test rules'
      passes its unit tests.
  test-prometheus.py node-exporter KSMCTL SYSROOTS
      End to end: ksmctl writes the file for node_exporter's textfile
      collector, node_exporter (on 127.0.0.1, a free port) serves it, and the
      values scraped from /metrics equal the raw sysfs files, for a fake
      sysroot and for the running kernel. node_exporter's own ksmd collector
      gives the same node_ksmd_* lines as ksmctl.

Exit status 77 (skipped) where promtool or node_exporter is missing.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77


def need(program):
    path = shutil.which(program)
    if not path:
        print(f"{program} not found: skipped (Debian: prometheus, prometheus-node-exporter)")
        sys.exit(SKIP)
    return path


def run(argv, stdin=None, check=True):
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.exit(f"{' '.join(argv)}: exit status {p.returncode}\n{p.stdout}{p.stderr}")
    return p


def trees(sysroots):
    return sorted(d for d in os.listdir(sysroots) if os.path.isdir(os.path.join(sysroots, d)))


def check_metrics(ksmctl, sysroots):
    promtool = need("promtool")
    checked = 0
    for root in [os.path.join(sysroots, t) for t in trees(sysroots)] + ["/"]:
        for cmd in (["status", "--prometheus"], ["ps", "--prometheus"]):
            p = run([ksmctl, "--sysroot", root] + cmd, check=False)
            if p.returncode != 0:
                # Only a tree without KSM may refuse, and it says why.
                if "KSM is not available" not in p.stderr:
                    sys.exit(f"ksmctl {' '.join(cmd)} on {root} failed: {p.stderr}")
                continue
            lint = run([promtool, "check", "metrics"], stdin=p.stdout, check=False)
            if lint.returncode != 0 or lint.stdout.strip() or lint.stderr.strip():
                sys.exit(f"promtool check metrics on 'ksmctl {' '.join(cmd)}' of {root}:\n"
                         f"{lint.stdout}{lint.stderr}")
            has_run = os.path.exists(os.path.join(root, "sys/kernel/mm/ksm/run"))
            if cmd[0] == "status" and has_run and "# TYPE node_ksmd_run gauge" not in p.stdout:
                sys.exit(f"no node_ksmd_run in the output of {root}")
            checked += 1
    print(f"promtool accepts {checked} outputs")


def check_rules(rules, tests):
    promtool = need("promtool")
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(rules, os.path.join(d, "ksm.rules.yml"))
        shutil.copy(tests, os.path.join(d, "ksm.rules.test.yml"))
        print(run([promtool, "check", "rules", os.path.join(d, "ksm.rules.yml")]).stdout)
        print(run([promtool, "test", "rules", os.path.join(d, "ksm.rules.test.yml")]).stdout)


# ---------------------------------------------------------------- end to end

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NodeExporter:
    """node_exporter on 127.0.0.1 with only the collectors asked for."""

    def __init__(self, args):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/metrics"
        self.proc = subprocess.Popen(
            [need("prometheus-node-exporter"), f"--web.listen-address=127.0.0.1:{self.port}",
             "--collector.disable-defaults"] + args,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 15
        while True:
            try:
                self.scrape()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    sys.exit(f"node_exporter did not start: {self.proc.stderr.read()}")
                time.sleep(0.1)

    def scrape(self):
        with urllib.request.urlopen(self.url, timeout=5) as r:
            return r.read().decode()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def samples(text):
    """{name or name{labels}: value} of an exposition text."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def raw_knobs(root):
    """The KSM files of a system root as numbers (advisor_mode: its index)."""
    d = os.path.join(root, "sys/kernel/mm/ksm")
    knobs = {}
    for name in os.listdir(d):
        path = os.path.join(d, name)
        if not os.path.isfile(path):
            continue
        text = open(path).read().strip()
        if "[" in text:
            knobs[name] = text.split().index(next(w for w in text.split() if w.startswith("[")))
        else:
            knobs[name] = int(text)
    return knobs


def metric_of(name):
    """The metric ksmctl gives a KSM file (node_exporter's name where it has one)."""
    node = {"full_scans": "node_ksmd_full_scans_total", "sleep_millisecs": "node_ksmd_sleep_seconds"}
    if name in node:
        return node[name]
    if name in ("merge_across_nodes", "pages_shared", "pages_sharing", "pages_to_scan",
                "pages_unshared", "pages_volatile", "run"):
        return "node_ksmd_" + name
    base = name if name.startswith("ksm_") else "ksm_" + name
    return base + ("_total" if name in ("pages_scanned", "pages_skipped") else "")


def compare(scraped, knobs, where):
    bad = []
    for name, value in knobs.items():
        want = value / 1000 if name == "sleep_millisecs" else value
        got = scraped.get(metric_of(name))
        if got != want:
            bad.append(f"{metric_of(name)}: scraped {got}, {name} holds {value}")
    if bad:
        sys.exit(f"{where}: scraped values differ from the sysfs files:\n  " + "\n  ".join(bad))
    print(f"{where}: {len(knobs)} files equal their scraped metrics")


def end_to_end(ksmctl, sysroots):
    need("prometheus-node-exporter")
    with tempfile.TemporaryDirectory() as d:
        tree = os.path.join(d, "root")
        shutil.copytree(os.path.join(sysroots, "6.18-merged"), tree)
        textdir = os.path.join(d, "textfile")
        os.mkdir(textdir)
        prom = os.path.join(textdir, "ksm.prom")
        ne = NodeExporter(["--collector.textfile", f"--collector.textfile.directory={textdir}"])
        try:
            # A fake system root: values that are not the defaults.
            run([ksmctl, "--sysroot", tree, "status", "--prometheus", "--output", prom])
            scraped = samples(ne.scrape())
            knobs = raw_knobs(tree)
            compare(scraped, knobs, "6.18-merged")
            hz = os.sysconf("SC_CLK_TCK")
            if scraped.get("ksm_ksmd_cpu_seconds_total") != 5000 / hz:
                sys.exit(f"ksm_ksmd_cpu_seconds_total {scraped.get('ksm_ksmd_cpu_seconds_total')}, "
                         f"want {5000 / hz} (5000 ticks)")
            if scraped.get('node_textfile_scrape_error') != 0:
                sys.exit("node_exporter reports a textfile scrape error")
            # The file is replaced whole, and nothing else is left in the directory.
            open(os.path.join(tree, "sys/kernel/mm/ksm/pages_sharing"), "w").write("2000\n")
            run([ksmctl, "--sysroot", tree, "status", "--prometheus", "--output", prom])
            if samples(ne.scrape()).get("node_ksmd_pages_sharing") != 2000:
                sys.exit("the rewritten file was not served")
            if os.listdir(textdir) != ["ksm.prom"]:
                sys.exit(f"files left in the textfile directory: {os.listdir(textdir)}")

            # The running kernel (idle KSM keeps its values between the two reads).
            if os.path.isdir("/sys/kernel/mm/ksm"):
                run([ksmctl, "--sysroot", "/", "status", "--prometheus", "--output", prom])
                compare(samples(ne.scrape()), raw_knobs("/"), "running kernel")
        finally:
            ne.stop()

    # node_exporter's own ksmd collector and ksmctl agree line for line.
    if os.path.isdir("/sys/kernel/mm/ksm"):
        ne = NodeExporter(["--collector.ksmd"])
        try:
            theirs = [l for l in ne.scrape().splitlines() if "node_ksmd_" in l]
        finally:
            ne.stop()
        ours = [l for l in run([ksmctl, "--sysroot", "/", "status", "--prometheus"]).stdout.splitlines()
                if "node_ksmd_" in l]
        if theirs != ours:
            sys.exit("node_exporter's ksmd collector and ksmctl differ:\n" +
                     "\n".join(f"  node_exporter: {a}\n  ksmctl:        {b}"
                               for a, b in zip(theirs, ours) if a != b) +
                     f"\n({len(theirs)} and {len(ours)} lines)")
        print(f"node_exporter's ksmd collector and ksmctl print the same {len(ours)} lines")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "metrics":
        check_metrics(*args)
    elif mode == "rules":
        check_rules(*args)
    elif mode == "node-exporter":
        end_to_end(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

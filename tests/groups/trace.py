"""The trace group: the scheduler timeline end to end. On CPUS=2,
`trace run mnshow park 5` (user/bin/trace.c) traces an M:N program whose 3
LWPs the kernel spreads over both harts (new LWPs go to the CPU with the
fewest), so both harts switch whatever the host's load; its user thread 1
sleeps in the kernel holding a mutex, so the library reports a user thread
other than main at a kernel event. The dump is parsed with
tools/trace/render.py's parser, which must find a complete dump with switch
records on both CPUs, every LWP of mnshow named by its process (records
carry the pid), the user threads the library reported, wake-ups and blocks.
The SVG (and HTML) must be well-formed XML with one lane per hart; the
Chrome trace-event JSON must load with the json module and hold what the
SVG shows: a track per hart, one slice per interval, an IPI flow per IPI
arrow, a wake-up flow per wake-up arc, the blocks and preemptions. The SVG's
subtitle says which clock it used, and its legend names every KLT that a
narrow interval shows only by number.

trace/nosuch runs `make trace`'s tools/trace/run.py on a program that does
not exist: it must fail with the guest's "trace: cannot run nosuch" and draw
nothing (the NO_TRACE case is in the build group, which has such a kernel).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from qemu import ROOT, LOGDIR
from testlib import group

sys.path.insert(0, os.path.join(ROOT, "tools", "trace"))
import render  # noqa: E402

TESTS = ["trace/dump", "trace/svg", "trace/json", "trace/nosuch"]
SVG = "{http://www.w3.org/2000/svg}"


@group("trace", tests=TESTS, weight=10)
def trace_group(ctx):
    if not any(ctx.want(t) for t in TESTS):
        ctx.idle = True
        return
    with ctx.machine("trace", cpus=2, timeout=120) as m:
        m.boot()
        out = m.run("trace run mnshow park 5", 60)
        m.poweroff()
    traces = render.parse_log(out)
    with ctx.test("trace/dump"):
        ctx.check(re.search(r"mnshow: counter (\d+) \(expected \1\)", out),
                  "mnshow did not finish: %r" % out[-300:])
        ctx.check(traces and traces[-1].complete, "no complete TRACE BEGIN..END dump: %r"
                  % out[-300:])
        t = traces[-1]
        for cpu in (0, 1):
            n = sum(1 for r in t.records if r.cpu == cpu and r.type == "switch")
            ctx.check(n > 0, "no switch records on cpu %d (cpus seen: %s)" % (cpu, t.cpus()))
        ctx.check(any(r.type == "wake" for r in t.records), "no wake-up records")
        ctx.check(any(r.type == "block" for r in t.records), "no block records")
        lwps = {r.lwp - 1 for r in t.records if r.type == "switch" and r.pid
                and t.pids.get(r.pid) == "mnshow"}
        ctx.check(lwps >= {1, 2, 3}, "LWPs of mnshow named by their process: %s (want 1 2 3)"
                  % sorted(lwps))
        utids = {r.utid for r in t.records if r.utid >= 0}
        ctx.check(len(utids) >= 2, "user threads reported by the library: %s" % sorted(utids))
        for cpu in (0, 1):
            times = [r.time for r in t.records if r.cpu == cpu]
            ctx.check(times == sorted(times), "cpu %d records not oldest first" % cpu)
    svg = os.path.join(LOGDIR, "trace.svg")
    with ctx.test("trace/svg"):
        _, html_path = render.render_files(out, svg, "trace run mnshow park 5", icount=False)
        root = ET.parse(svg).getroot()
        ctx.check(root.tag == SVG + "svg", "root element is %r" % root.tag)
        texts = [e.text or "" for e in root.iter(SVG + "text")]
        ctx.check("hart 0" in texts and "hart 1" in texts, "no lane per hart: %r" % texts[:10])
        # Every interval carries its thread's name in a tooltip; a visible label
        # only where the interval is wide enough, which depends on timing.
        tips = [e.text or "" for e in root.iter(SVG + "title")]
        ctx.check(any(x.startswith("mnshow/") for x in tips), "no interval named mnshow/N")
        ctx.check(any("without -icount" in x for x in texts),
                  "the subtitle does not say the clock was not -icount: %r" % texts[:3])
        legend = {x.split()[0]: " ".join(x.split()[1:]) for x in
                  (e.text or "" for e in root.iter(SVG + "text") if e.get("class") == "klt")}
        bare = {x for x in texts if re.fullmatch(r"\d+", x) and not x.endswith("µs")}
        ctx.check(legend and bare <= set(legend), "KLT numbers drawn without a legend entry: %s "
                  "(legend %s)" % (sorted(bare - set(legend)), legend))
        ctx.check(any(v.startswith("mnshow/") for v in legend.values()),
                  "the legend names no LWP of mnshow: %s" % legend)
        rects = list(root.iter(SVG + "rect"))
        ctx.check(len(rects) > 20, "only %d rectangles drawn" % len(rects))
        with open(html_path) as f:
            ctx.check("<svg" in f.read(), "the HTML does not hold the SVG")
    with ctx.test("trace/json"):
        with open(os.path.splitext(svg)[0] + ".json") as f:
            doc = json.load(f)
        ev = doc["traceEvents"]
        titles = [e.text or "" for e in ET.parse(svg).getroot().iter(SVG + "title")]
        shown = {
            "intervals": sum(1 for x in titles if re.search(r"\(klt \d+[^)]*\) pri ", x)),
            "ipis": sum(1 for x in titles if x.startswith("IPI message")),
            "blocks": sum(1 for x in titles if x.endswith(" blocks")),
            "preemptions": sum(1 for x in titles if x.startswith("preempted by")),
            "wake-ups": sum(1 for x in titles if x.startswith("wake ")),
        }
        held = {
            "intervals": sum(1 for e in ev if e["ph"] == "X" and e["pid"] == render.HARTS_PID),
            "ipis": sum(1 for e in ev if e["ph"] == "s" and e["cat"] == "ipi"),
            "blocks": sum(1 for e in ev if e["ph"] == "i" and e["cat"] == "block"),
            "preemptions": sum(1 for e in ev if e["ph"] == "i" and e["cat"] == "preempt"),
            "wake-ups": sum(1 for e in ev if e["ph"] == "s" and e["cat"] == "wake"),
        }
        # a wake-up whose thread did not run again draws a dot but no flow
        ctx.check(held["wake-ups"] <= shown["wake-ups"] and held["wake-ups"] > 0,
                  "wake-up flows %d for %d wake-ups" % (held["wake-ups"], shown["wake-ups"]))
        shown.pop("wake-ups"), held.pop("wake-ups")
        ctx.check(held == shown, "the JSON holds %r, the SVG shows %r" % (held, shown))
        ctx.check(shown["intervals"] > 20 and shown["ipis"] > 0,
                  "too few events to compare: %r" % shown)
        harts = sorted(e["args"]["name"] for e in ev
                       if e["ph"] == "M" and e["name"] == "thread_name" and e["pid"] == 0)
        ctx.check(harts == ["hart 0", "hart 1"], "tracks of the harts: %r" % harts)
        ids = {}
        for e in ev:
            if e["ph"] in "sf":
                ids.setdefault((e["cat"], e["id"]), []).append(e["ph"])
        ctx.check(all(sorted(v) == ["f", "s"] for v in ids.values()),
                  "flow events not in s/f pairs")
        names = {e["name"] for e in ev if e["ph"] == "X"}
        ctx.check(any(n.startswith("mnshow/") for n in names), "no slice named mnshow/N")
        ults = [e for e in ev if e["ph"] == "M" and e["name"] == "thread_name"
                and e["args"]["name"].startswith("user thread")]
        ctx.check(len(ults) >= 2, "tracks of user threads: %r" % ults)
        ctx.check(all(isinstance(e["ts"], (int, float)) and e.get("dur", 0) >= 0
                      for e in ev if "ts" in e), "an event with a bad time")

    if ctx.want("trace/nosuch"):
        with ctx.test("trace/nosuch"), tempfile.TemporaryDirectory() as tmp:
            out_svg = os.path.join(tmp, "t.svg")
            p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "trace", "run.py"),
                                "--cpus", "1", "--out", out_svg, "nosuch"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
            said = p.stdout.decode(errors="replace")
            ctx.check(p.returncode == 1 and "trace: the guest said: trace: cannot run nosuch" in said,
                      "make trace PROG=nosuch: status %d, said %r" % (p.returncode, said[-300:]))
            ctx.check(not os.path.exists(out_svg), "a trace was drawn for a program that never ran")

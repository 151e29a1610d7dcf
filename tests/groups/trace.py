"""The trace group: the scheduler timeline end to end. On CPUS=2,
`trace run pingpong 20` (user/bin/trace.c) traces a pipe ping-pong between
two processes; the dump is parsed with tools/trace/render.py's parser, which
must find a complete dump with switch records on both CPUs, names for the
traced program, and wake-ups; the SVG (and HTML) it renders must be
well-formed XML with one lane per hart.
"""
import os
import sys
import xml.etree.ElementTree as ET

from qemu import ROOT, LOGDIR
from testlib import group

sys.path.insert(0, os.path.join(ROOT, "tools", "trace"))
import render  # noqa: E402

TESTS = ["trace/dump", "trace/svg"]


@group("trace", tests=TESTS, weight=10)
def trace_group(ctx):
    if not any(ctx.want(t) for t in TESTS):
        ctx.idle = True
        return
    with ctx.machine("trace", cpus=2, timeout=120) as m:
        m.boot()
        out = m.run("trace run pingpong 20", 60)
        m.poweroff()
    traces = render.parse_log(out)
    with ctx.test("trace/dump"):
        ctx.check("pingpong: 20 round trips" in out, "pingpong did not finish: %r" % out[-300:])
        ctx.check(traces and traces[-1].complete, "no complete TRACE BEGIN..END dump: %r"
                  % out[-300:])
        t = traces[-1]
        for cpu in (0, 1):
            n = sum(1 for r in t.records if r.cpu == cpu and r.type == "switch")
            ctx.check(n > 0, "no switch records on cpu %d (cpus seen: %s)" % (cpu, t.cpus()))
        ctx.check(any(r.type == "wake" for r in t.records), "no wake-up records")
        ctx.check(any(r.type == "block" for r in t.records), "no block records")
        ctx.check(any(name == "pingpong" for _, _, name in t.names.values()),
                  "the traced program is not named: %r" % t.names)
        for cpu in (0, 1):
            times = [r.time for r in t.records if r.cpu == cpu]
            ctx.check(times == sorted(times), "cpu %d records not oldest first" % cpu)
    with ctx.test("trace/svg"):
        svg = os.path.join(LOGDIR, "trace.svg")
        _, html_path = render.render_files(out, svg, "trace run pingpong 20")
        root = ET.parse(svg).getroot()
        ctx.check(root.tag == "{http://www.w3.org/2000/svg}svg", "root element is %r" % root.tag)
        texts = [e.text or "" for e in root.iter("{http://www.w3.org/2000/svg}text")]
        ctx.check("hart 0" in texts and "hart 1" in texts, "no lane per hart: %r" % texts[:10])
        rects = list(root.iter("{http://www.w3.org/2000/svg}rect"))
        ctx.check(len(rects) > 20, "only %d rectangles drawn" % len(rects))
        with open(html_path) as f:
            ctx.check("<svg" in f.read(), "the HTML does not hold the SVG")

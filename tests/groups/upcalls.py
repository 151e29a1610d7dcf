"""The upcalls group: what the tools show of scheduler activations (lab
upcalls, docs/upcalls.md) on a live system. `mnshow upcalls 4000` runs six
user threads on one LWP with upcalls on; threads 1-3 sleep in the kernel,
each holding an activation, while the others go on. Then:

- upcalls/ps: `ps` lists three LWPs of mnshow as "upcall: blocked holding
  thread T" with the three sleeping threads' ids, and at least one spare;
- upcalls/gdb: gdb's `lwps PID` (tools/gdb/spindle.py) says the same, and
  `ults PID` shows threads 1-3 "in kernel on lwp N";
- upcalls/trace: `trace run mnshow upcalls 3` records upcall events
  (BLOCKED, NEWLWP, UNBLOCKED, RELEASED), and render.py names them in the
  Chrome trace-event JSON.

The lab's own graded tests are labs/upcalls/tests/upctest.c (tests/groups/
labs.py runs them).
"""
import os
import re
import sys

from qemu import ROOT
from testlib import group

from groups.gdb import gdb_batch, machine_with_gdb

sys.path.insert(0, os.path.join(ROOT, "tools", "trace"))
import render  # noqa: E402

TESTS = ["upcalls/ps", "upcalls/gdb", "upcalls/trace"]
BLOCKED = r"upcall: blocked holding thread (\d+)"


@group("upcalls", tests=TESTS, weight=15)
def upcalls(ctx):
    if not any(ctx.want(t) for t in TESTS):
        ctx.idle = True
        return
    with machine_with_gdb(ctx, "upcalls", timeout=180) as (m, tmp):
        m.boot()
        m.send("mnshow upcalls 4000 &")
        pid = int(m.expect(r"mnshow: pid (\d+) has 3 threads blocked in the kernel", 30).group(1))
        ps = m.run("ps", 20)
        if ctx.want("upcalls/ps"):
            with ctx.test("upcalls/ps"):
                mine = ps[ps.find("mnshow"):]
                held = sorted(int(t) for t in re.findall(BLOCKED, mine))
                ctx.check(held == [1, 2, 3], "ps: want blocked activations holding threads "
                          "1 2 3, got %s: %r" % (held, mine[:900]))
                ctx.check("upcall: spare" in mine, "ps shows no spare LWP: %r" % mine[:900])
        if ctx.want("upcalls/gdb"):
            with ctx.test("upcalls/gdb"):
                args = ["-x", os.path.join(ROOT, ".gdbinit"), "-ex", "usym mnshow",
                        "-ex", "lwps %d" % pid, "-ex", "echo ==ults==\\n", "-ex", "ults %d" % pid]
                out = gdb_batch(args, tmp)
                m.note("gdb output:\n" + out)
                lw, _, ults = out.partition("==ults==")
                held = sorted(int(t) for t in re.findall(BLOCKED, lw))
                ctx.check(held == [1, 2, 3], "gdb lwps: want threads 1 2 3 held, got %s: %r"
                          % (held, lw[-900:]))
                inside = sorted(int(t) for t in re.findall(r"^  (\d+)\s+alive\s+\d+\s+in kernel on lwp",
                                                           ults, re.M))
                ctx.check(inside == [1, 2, 3], "gdb ults: want threads 1 2 3 in the kernel, got "
                          "%s: %r" % (inside, ults[-900:]))
                ctx.check("still" in m.run("echo still here", 20),
                          "machine did not run on after gdb detached")
        if ctx.want("upcalls/trace"):
            with ctx.test("upcalls/trace"):
                out = m.run("trace run mnshow upcalls 3", 60)
                traces = render.parse_log(out)
                ctx.check(traces and traces[-1].complete, "no complete trace dump: %r"
                          % out[-300:])
                kinds = {render.UPCALLS.get(r.other) for r in traces[-1].records
                         if r.type == "upcall"}
                want = {"BLOCKED", "NEWLWP", "UNBLOCKED", "RELEASED"}
                ctx.check(want <= kinds, "upcall events traced: %s, want %s"
                          % (sorted(k for k in kinds if k), sorted(want)))
                names = [e.get("name", "") for e in render.chrome_events(traces[-1])]
                ctx.check(any(n.startswith("upcall BLOCKED posted by") for n in names),
                          "the JSON names no upcall event")
        m.poweroff()

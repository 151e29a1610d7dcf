"""The gdbcmds group: Spindle's gdb commands (tools/gdb/spindle.py) on a live
system. QEMU runs with the gdb stub (no -S), boots to the shell prompt and
starts `mnshow park` in the background (an M:N program whose threads then
sit still); gdb-multiarch in batch mode, through the repo's .gdbinit (run
from a scratch directory, as in tests/groups/gdb.py), stops the machine and
runs klts, runq, lwps, ipiq and ults. Each command's output must name the
idle threads and the shell's LWP (process `sh`) as appropriate; afterwards
the machine must still answer at the prompt.
"""
import os
import re

from qemu import ROOT
from testlib import group

from groups.gdb import gdb_batch, machine_with_gdb

TESTS = ["gdbcmds/klts", "gdbcmds/runq", "gdbcmds/lwps", "gdbcmds/ipiq", "gdbcmds/ults",
         "gdbcmds/resume"]


def sections(out):
    """Split gdb's output at the `echo ==NAME==` markers."""
    parts, name = {}, None
    for line in out.splitlines():
        m = re.match(r"^==(\w+)==$", line.strip())
        if m:
            name = m.group(1)
            parts[name] = []
        elif name:
            parts[name].append(line)
    return {k: "\n".join(v) for k, v in parts.items()}


@group("gdbcmds", tests=TESTS, weight=20)
def gdbcmds(ctx):
    if not any(ctx.want(t) for t in TESTS):
        ctx.idle = True
        return
    with machine_with_gdb(ctx, "gdbcmds", timeout=180) as (m, tmp):
        m.boot()
        m.send("mnshow park 4000 &")
        pid = int(m.expect(r"mnshow: pid (\d+) parked", 30).group(1))
        m.run("echo ready", 15)
        cmds = ["usym mnshow", "echo ==klts==\\n", "klts", "echo ==runq==\\n", "runq",
                "echo ==runq0==\\n", "runq 0", "echo ==lwps==\\n", "lwps",
                "echo ==ipiq==\\n", "ipiq all", "echo ==ults==\\n", "ults %d" % pid,
                "echo ==end==\\n"]
        args = ["-x", os.path.join(ROOT, ".gdbinit")] + sum((["-ex", c] for c in cmds), [])
        out = gdb_batch(args, tmp)
        m.note("gdb output:\n" + out)
        s = sections(out)

        if ctx.want("gdbcmds/klts"):
            with ctx.test("gdbcmds/klts"):
                k = s.get("klts", "")
                idle = re.findall(r"^[ *]\s*\d+\s+idle\s+(\d+)\s+0\s+idle\b", k, re.M)
                ctx.check(sorted(idle) == ["0", "1"], "klts: want idle threads on CPUs 0 and 1, "
                          "got %r; output: %r" % (idle, k[:400]))
                ctx.check(re.search(r"\bukern\s+sleeping\s+\d+/\d+\s+sh\b", k),
                          "klts names no LWP of process sh: %r" % k[:600])
                ctx.check(re.search(r"\d+/%d\s+mnshow\b" % pid, k),
                          "klts names no LWP of mnshow (pid %d)" % pid)
        if ctx.want("gdbcmds/runq"):
            with ctx.test("gdbcmds/runq"):
                r = s.get("runq", "")
                for cpu in (0, 1):
                    ctx.check(re.search(r"^cpu %d: cur klt \d+ \S+, idle klt \d+ idle," % cpu, r, re.M),
                              "runq shows no cpu %d with its idle thread: %r" % (cpu, r[:400]))
                r0 = s.get("runq0", "")
                ctx.check(r0.startswith("cpu 0:") and "cpu 1:" not in r0,
                          "runq 0 should show only cpu 0: %r" % r0[:300])
        if ctx.want("gdbcmds/lwps"):
            with ctx.test("gdbcmds/lwps"):
                lw = s.get("lwps", "")
                ctx.check(re.search(r"^pid \d+ sh \(alive\)", lw, re.M),
                          "lwps lists no process sh: %r" % lw[:400])
                ctx.check(re.search(r"lwp \d+ klt \d+ cpu \d .*syscall read\(5\) pc 0x4", lw),
                          "no LWP of the shell waiting in read() with a user pc: %r" % lw[:600])
                ctx.check(len(re.findall(r"^  lwp \d+ klt", lw[lw.find("mnshow"):], re.M)) >= 3,
                          "mnshow (3 LWPs) not listed with its LWPs: %r" % lw[-600:])
        if ctx.want("gdbcmds/ipiq"):
            with ctx.test("gdbcmds/ipiq"):
                q = s.get("ipiq", "")
                ctx.check(re.search(r"ipiq cpu \d -> cpu \d: \d+ pending \(windex \d+, rindex \d+\)", q)
                          or "no IPI messages pending" in q,
                          "ipiq printed neither rings nor 'none pending': %r" % q[:300])
                ctx.check("Error" not in q and "Python Exception" not in q, "ipiq failed: %r" % q)
        if ctx.want("gdbcmds/ults"):
            with ctx.test("gdbcmds/ults"):
                u = s.get("ults", "")
                ctx.check("pid %d (mnshow): uthread table" % pid in u,
                          "ults did not find the uthread table: %r" % u[:400])
                rows = re.findall(r"^  (\d+)\s+(alive|new)\s+\d+\s+(.*?)\s{2,}(\S+)", u, re.M)
                ctx.check(len(rows) >= 7, "want 7 threads (main + 6 workers), got %r" % u[:800])
                ctx.check(sum(1 for r in rows if r[3] == "worker") == 6,
                          "workers not named by their entry function: %r" % rows)
                ctx.check(any(r[2].startswith("on lwp") for r in rows),
                          "no thread shown running on an LWP: %r" % rows)
        if ctx.want("gdbcmds/resume"):
            with ctx.test("gdbcmds/resume"):
                out2 = m.run("echo still alive", 20)
                ctx.check("still alive" in out2, "machine did not run on after gdb detached")
        m.poweroff()

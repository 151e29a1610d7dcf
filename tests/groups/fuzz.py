"""The fuzz group: a short run of the system-call fuzzer (user/bin/fuzz.c)
on 3 harts. Each seed runs two passes; the kernel must not panic or hang,
every pass must make all its calls, and the second pass must leave free
pages and live threads where the first left them (`fuzz: OK`, not
`fuzz: LEAK`). fuzz/table checks that the fuzzer's call table has a row for
every system call in kernel/uapi/syscall.h, so a new call is fuzzed from
the day it is added. `make stress` (tests/stress.py) runs the long version
on 1, 3 and 8 harts.
"""
import os
import re

from qemu import ROOT
from testlib import group

SEEDS = (1, 2)
CALLS = 10000           # per pass: about ten seconds a seed on a busy machine

PASS_LINE = re.compile(r"fuzz: pass (\d) seed \d+: (\d+) calls")
TABLE_ROW = re.compile(r"^\s*\{ (SYS_\w+), (\d+), fuzz_\w+ \},", re.M)
END_LINE = r"fuzz: (OK|LEAK)"


def run_fuzz(m, seed, calls, procs=6, lwps=3, timeout=600):
    """Run one fuzz command; return (calls made, ok, reason)."""
    start = m.pos
    m.send("fuzz %d %d %d %d" % (seed, calls, procs, lwps))
    end = m.expect(END_LINE, timeout)
    text = m.buf[start:end.end()]
    passes = PASS_LINE.findall(text)
    made = sum(int(c) for _, c in passes)
    m.expect(r"\$ ", 30)
    if end.group(1) != "OK":
        summary = re.search(r"fuzz: \d+ calls;.*", text)
        return made, False, "leak: " + (summary.group(0) if summary else "?")
    if len(passes) != 2 or any(int(c) != calls for _, c in passes):
        return made, False, "a pass did not make its %d calls: %s" % (calls, passes)
    return made, True, ""


def untabled_calls():
    """System calls of kernel/uapi/syscall.h without a row in fuzz.c's table."""
    with open(os.path.join(ROOT, "kernel", "uapi", "syscall.h")) as f:
        names = re.findall(r"^#define (SYS_\w+)\s+\d+", f.read(), re.M)
    with open(os.path.join(ROOT, "user", "bin", "fuzz.c")) as f:
        rows = dict(TABLE_ROW.findall(f.read()))
    return [n for n in names if n not in rows], [n for n, w in rows.items() if w == "0"]


@group("fuzz", tests=["fuzz/"], weight=60)
def fuzz_short(ctx):
    if ctx.want("fuzz/table"):
        with ctx.test("fuzz/table"):
            missing, never = untabled_calls()
            ctx.check(not missing, "no row in user/bin/fuzz.c's call table for %s" % ", ".join(missing))
            ctx.check(never == ["SYS_poweroff"], "calls never drawn: %s (only poweroff may be)" % never)
    with ctx.machine("fuzz", cpus=3, timeout=400) as m:
        m.boot(60)
        for seed in SEEDS:
            name = "fuzz/seed%d" % seed
            if not ctx.want(name):
                continue
            with ctx.test(name):
                made, ok, why = run_fuzz(m, seed, CALLS)
                m.note("%s: %d calls" % (name, made))
                ctx.check(ok, why)
        m.poweroff(30)

"""The fuzz group: a short run of the system-call fuzzer (tests/progs/fuzz.c)
on 3 harts. Each seed runs two passes; the kernel must not panic or hang,
every pass must make all its calls, and the second pass must leave free
pages and live threads where the first left them (`fuzz: OK`, not
`fuzz: LEAK`). Every run's figures go through tests/fuzzfigures.py first:
an impossible one is a harness failure, quoting its line. fuzz/table checks
that the fuzzer's call table has a row for every system call in
kernel/uapi/syscall.h, so a new call is fuzzed from the day it is added;
fuzz/figures that the checker catches impossible figures (issue 24's among
them); fuzz/forged that bad reports from fuzzing processes are rejected and
cost the figures nothing. `make stress` (tests/stress.py) runs the long
version on 1, 3 and 8 harts.
"""
import os
import re

import fuzzfigures
from qemu import ROOT
from testlib import group

SEEDS = (1, 2)
CALLS = 10000           # per pass: about ten seconds a seed on a busy machine
CPUS = 3
TABLE_ROW = re.compile(r"^\s*\{ (SYS_\w+), (\d+), fuzz_\w+ \},", re.M)
END_LINE = r"fuzz: (OK|LEAK)"

# fuzz -forge: slots 0 to 3 each send one bad first report, of these kinds.
FORGED = ("more calls than it was asked for", "bad checksum", "bad magic",
          "its count went backwards")


def run_fuzz(m, seed, calls, procs=6, lwps=3, flags=""):
    """Run one fuzz command; return (figures, ok, reason, output)."""
    start = m.pos
    m.send("fuzz %s%d %d %d %d" % (flags, seed, calls, procs, lwps))
    end = m.expect(END_LINE, 600)
    text = m.buf[start:end.end()]
    m.expect(r"\$ ", 30)
    fig, problem = fuzzfigures.check(text, seed, calls, CPUS)
    if problem:
        return fig, False, problem, text
    if end.group(1) != "OK":
        summary = re.search(r"fuzz: \d+ calls;.*", text)
        return fig, False, "leak: " + (summary.group(0) if summary else "?"), text
    made = [p["calls"] for p in fig.passes]
    if made != [calls, calls]:
        return fig, False, "the passes did not make their %d calls: %s" % (calls, made), text
    return fig, True, "", text


def untabled_calls():
    """System calls of kernel/uapi/syscall.h without a row in fuzz.c's table."""
    with open(os.path.join(ROOT, "kernel", "uapi", "syscall.h")) as f:
        names = re.findall(r"^#define (SYS_\w+)\s+\d+", f.read(), re.M)
    with open(os.path.join(ROOT, "tests", "progs", "fuzz.c")) as f:
        rows = dict(TABLE_ROW.findall(f.read()))
    return [n for n in names if n not in rows], [n for n, w in rows.items() if w == "0"]


def pass_line(calls=100000, processes=175, watchdog=103, rejected=0, ticks=823):
    line = ("fuzz: pass 1 seed 2: %d calls, 8 procs x 3 lwps, %d processes, %d killed by the "
            "watchdog, %d reports rejected, %d ticks, free pages 31721, live threads 15")
    return line % (calls, processes, watchdog, rejected, ticks)


def checker_misses():
    """Impossible runs that fuzzfigures.check lets through, and a good one
    it refuses."""
    total = "fuzz: 200000 calls; free pages 1 -> 1 -> 1, live threads 15 -> 15 -> 15"
    good = "\n".join([pass_line(), pass_line().replace("pass 1", "pass 2"), total])
    impossible = {                          # what, (output, harts)
        "issue 24's pass": (pass_line(calls=1073847472), 8),
        "issue 24's pass, old format": ("fuzz: pass 1 seed 2: 1073847472 calls, 8 procs x 3 lwps, "
                                        "175 processes, 103 killed by the watchdog, 823 ticks, "
                                        "free pages 31721, live threads 15", 8),
        "more calls than asked": (pass_line(calls=100001), 8),
        "a rate beyond the harts": (pass_line(ticks=2), 1),
        "more kills than processes": (pass_line(watchdog=100, rejected=76), 8),
        "a total not the sum": (good.replace("200000 calls;", "199999 calls;"), 8),
        "a harness line": ("fuzz: HARNESS: a slot made more calls than its share: 1 2 3", 8),
        "another seed": (good.replace("seed 2", "seed 3"), 8),
        "passes out of order": (good.replace("pass 1", "pass 0"), 8),
    }
    missed = [name for name, (text, cpus) in impossible.items()
              if fuzzfigures.check(text, 2, 100000, cpus)[1] is None]
    problem = fuzzfigures.check(good, 2, 100000, 8)[1]
    if problem:
        missed.append("(a good run was refused: %s)" % problem)
    return missed


@group("fuzz", tests=["fuzz/"], weight=60)
def fuzz_short(ctx):
    if ctx.want("fuzz/table"):
        with ctx.test("fuzz/table"):
            missing, never = untabled_calls()
            ctx.check(not missing, "no row in tests/progs/fuzz.c's call table for %s" % ", ".join(missing))
            ctx.check(never == ["SYS_poweroff"], "calls never drawn: %s (only poweroff may be)" % never)
    if ctx.want("fuzz/figures"):
        with ctx.test("fuzz/figures"):
            missed = checker_misses()
            ctx.check(not missed, "tests/fuzzfigures.py let through: %s" % "; ".join(missed))
    with ctx.machine("fuzz", cpus=CPUS, timeout=400) as m:
        m.boot(60)
        for seed in SEEDS:
            name = "fuzz/seed%d" % seed
            if not ctx.want(name):
                continue
            with ctx.test(name):
                fig, ok, why, _ = run_fuzz(m, seed, CALLS)
                m.note("%s: %d calls, %d reports rejected" % (name, fig.calls, fig.rejected))
                ctx.check(ok, why)
        if ctx.want("fuzz/forged"):
            with ctx.test("fuzz/forged"):
                fig, ok, why, text = run_fuzz(m, 3, 2000, procs=4, flags="-forge ")
                ctx.check(ok, why)
                rejected = [p["rejected"] for p in fig.passes]
                ctx.check(rejected == [4, 4], "reports rejected per pass: %s, not [4, 4]" % rejected)
                for kind in FORGED:
                    seen = len(re.findall(r"rejected report \d+ of pid \d+ \(%s\)" % re.escape(kind), text))
                    ctx.check(seen == 2, "%d rejections for '%s', not one per pass" % (seen, kind))
        m.poweroff(30)

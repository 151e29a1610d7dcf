"""The fuzz group: a short run of the system-call fuzzer (user/bin/fuzz.c)
on 3 harts. Each seed runs two passes; the kernel must not panic or hang,
every pass must make calls, and the second pass must leave free pages and
live threads where the first left them (`fuzz: OK`, not `fuzz: LEAK`).
`make stress` (tests/stress.py) runs the long version on 1, 3 and 8 harts.
"""
import re

from testlib import group

SEEDS = (1, 2)
CALLS = 3000            # per pass: a few seconds each on a busy machine

PASS_LINE = re.compile(r"fuzz: pass (\d) seed \d+: (\d+) calls")
END_LINE = r"fuzz: (OK|LEAK)"


def run_fuzz(m, seed, calls, procs=4, lwps=3, timeout=600):
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
    if len(passes) != 2 or any(int(c) == 0 for _, c in passes):
        return made, False, "a pass made no calls: %s" % passes
    return made, True, ""


@group("fuzz", tests=["fuzz/"], weight=60)
def fuzz_short(ctx):
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

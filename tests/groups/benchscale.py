"""The benchscale group: the scaling table of `make bench` (`scalebench`,
tests/progs/scalebench.c, CPUS=1 under -icount as tests/bench.py runs it).
Every row must print a figure for each N it can reach, and its largest N's
figure must stay within 1.25 times its N=2 figure (issue 23; docs/perf.md
"How costs grow"). Under -icount the figures are guest instructions, the
same on any host and under any load, so the bound is not a timing.
"""
import os
import re
import sys

from testlib import group

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import SCALE_ROWS  # noqa: E402  (tests/bench.py)

FLAT = 1.25


@group("benchscale", tests=["benchscale/flat"], weight=15)
def benchscale(ctx):
    with ctx.test("benchscale/flat"):
        with ctx.machine("benchscale", cpus=1, timeout=240, extra=["-icount", "shift=0"]) as m:
            m.boot(60)
            out = m.run("scalebench", 180)
            m.poweroff()
        figs = {}
        for row, n, v in re.findall(r"^scale (\w+) (\d+) (\d+)$", out, re.M):
            figs.setdefault(row, {})[int(n)] = int(v)
        for row, _ in SCALE_ROWS:
            got = figs.get(row, {})
            ctx.check(2 in got and len(got) >= 2, "%s: figures %s, want N=2 and a larger N: %r"
                      % (row, got, out[-300:]))
            top = max(got)
            ctx.check(got[top] <= FLAT * got[2], "%s: %d at N=%d, %d at N=2: more than %.2fx"
                      % (row, got[top], top, got[2], FLAT))

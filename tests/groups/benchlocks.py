"""The benchlocks group: the lock rows of `make bench` run (`lockbench`,
tests/progs/lockbench.c, CPUS=2 under -icount as tests/bench.py runs them). A short
oncpu workload in ADAPTIVE mode and the sleeper workload in BLOCK mode must
each print their figure and their counters, with exactly the acquisitions
the workload makes (oncpu: 2 per round; sleeper: 20), and the slice-cost
calibration must have measured something. No figure is compared with a
bound: speed is for `make bench` (docs/adaptive.md).
"""
import re

from testlib import group


def check_workload(ctx, out, name, mode, acquired):
    fig = re.search(r"^bench lock_%s_%s (\d+)$" % (name, mode), out, re.M)
    ctx.check(fig, "no figure for %s %s: %r" % (name, mode, out[-300:]))
    stats = re.search(r"^lockstats %s %s acquired (\d+) spun (\d+) blocked (\d+)"
                      % (name, mode), out, re.M)
    ctx.check(stats, "no counters for %s %s: %r" % (name, mode, out[-300:]))
    ctx.check(int(stats.group(1)) == acquired, "%s %s: acquired %s, want %d"
              % (name, mode, stats.group(1), acquired))
    ctx.check(int(fig.group(1)) > 0, "%s %s: figure 0" % (name, mode))


@group("benchlocks", tests=["benchlocks/run"], weight=4)
def benchlocks(ctx):
    with ctx.test("benchlocks/run"):
        with ctx.machine("benchlocks", cpus=2, timeout=180,
                         extra=["-icount", "shift=0,sleep=off"]) as m:
            m.boot(60)
            oncpu = m.run("lockbench oncpu 0 100", 60)
            sleeper = m.run("lockbench sleeper 1", 60)
            m.poweroff()
        check_workload(ctx, oncpu, "oncpu", "adaptive", 200)
        check_workload(ctx, sleeper, "sleeper", "block", 20)
        cost = re.search(r"^lockslices cost (\d+) per slice interrupt", oncpu, re.M)
        ctx.check(cost and int(cost.group(1)) > 0, "no slice cost: %r" % oncpu[-300:])

"""The allocfail group: tests/progs/allocfail walks injected page-allocation
failures (kdebug KD_FAIL_ALLOC) through fork, exec, sbrk, pipe, lwp_create,
set_concurrency, turning upcalls on (the spare cache fills) and user
threads blocking with upcalls on (replacements, refills) on 3 harts. At every point the call must fail with -1,
succeed, or kill only its process; the kernel must not panic; and nothing
may leak (free pages and live threads back where they were). One result per
system call: allocfail/NAME, with the number of points walked in the log.
"""
import re

from qemu import TestFailure
from testlib import group

OPS = ("fork", "exec", "sbrk", "pipe", "lwp_create", "set_concurrency", "upcalls", "upcall_block")


@group("allocfail", tests=["allocfail/"], weight=40)
def allocfail(ctx):
    with ctx.machine("allocfail", cpus=3, timeout=600) as m:
        try:
            m.boot(60)
            for op in OPS:
                name = "allocfail/" + op
                if not ctx.want(name):
                    continue
                with ctx.test(name):
                    out = m.run("allocfail " + op, 300)
                    line = re.search(r"allocfail %s: .*" % op, out)
                    ctx.check(line is not None, "no result line for %s" % op)
                    ok = re.match(r"allocfail %s: (\d+) points ok" % op, line.group(0))
                    ctx.check(ok is not None, line.group(0))
                    ctx.check(int(ok.group(1)) > 0, "no allocation point reached in %s" % op)
            m.poweroff(30)
        except TestFailure as e:
            ctx.report("allocfail", False, str(e))

"""The thread groups: the user programs `lwptests` (LWPs, futexes, the LWKT
scheduler's rules through kdebug), `uthreadtests` (the M:N library; its
tests upcmany and level8 again on 8 harts: uthreadtests-8hart),
`racetests` (kernel races, docs/locking.md), each on its own QEMU with CPUS=3,
and `sigtests` (signals, docs/signals.md) on 3 harts and on 1 (sigtests-1hart). Every `test NAME: OK|FAILED` line they print
becomes a result PROG/NAME; a panic, a hang or a missing final line fails.
"""
import re

from qemu import TestFailure
from testlib import group

FINAL = r"ALL TESTS PASSED|SOME TESTS FAILED"


def check_overflow_report(ctx, out):
    """The kernel's one-line report of the overflow test's fault names the
    thread the library announced, and an address inside its red zone."""
    if not ctx.want("uthreadtests/overflow-report"):
        return
    with ctx.test("uthreadtests/overflow-report"):
        k = re.search(r"killed: stack overflow into red zone by thread (\d+) at pc \S+ addr (0x[0-9a-f]+)", out)
        u = re.search(r"uthread: tid (\d+) stack overflow into red zone \[(0x[0-9a-f]+),(0x[0-9a-f]+)\)", out)
        ctx.check(k is not None, "no kernel line 'stack overflow into red zone by thread N'")
        ctx.check(u is not None, "no red-zone announcement from the test")
        ctx.check(k.group(1) == u.group(1), "kernel named thread %s, the test %s" % (k.group(1), u.group(1)))
        addr, lo, hi = (int(x, 16) for x in (k.group(2), u.group(2), u.group(3)))
        ctx.check(lo <= addr < hi, "fault address %#x outside the red zone [%#x,%#x)" % (addr, lo, hi))


def check_limit_named(ctx, out):
    """upcgate blocks more threads at once than max_threads allows KLTs: the
    kernel says, once, that this limit stopped the replacements."""
    with ctx.test("uthreadtests-8hart/limit-named"):
        ctx.check(re.search(r"upcalls: max_threads \(\d+\) reached", out) is not None,
                  "no console line naming max_threads when upcgate reached it")


def run_suite(ctx, prog, cpus=3, timeout=300, label=None):
    label = label or prog
    with ctx.machine(label, image=ctx.images.plain, cpus=cpus, timeout=timeout) as m:
        try:
            m.boot(60)
            m.send(prog)
            start = m.pos
            while True:
                mm = m.expect(r"^test (\S+?): (OK|FAILED).*$|" + FINAL, timeout)
                if not mm.group(1):
                    break
                ok = mm.group(2) == "OK"
                above = [l.strip() for l in m.buf[start:mm.start()].splitlines() if l.strip()]
                ctx.report("%s/%s" % (label, mm.group(1)), ok, "" if ok else " | ".join(above[-3:]))
                start = mm.end()
            m.expect(r"\$ ", 30)
            if prog == "uthreadtests":
                check_overflow_report(ctx, m.output())
            if label == "uthreadtests-8hart":
                check_limit_named(ctx, m.output())
            m.poweroff(30)
        except TestFailure as e:
            ctx.report(label, False, str(e))


# racetests repeats each race hundreds of times (about 100 s on a busy host);
# a hang inside it is caught sooner by its own watchdog ("hung at try N").
TIMEOUTS = {"racetests": 600}

for _prog in ("lwptests", "uthreadtests", "racetests"):
    group(_prog, tests=[_prog + "/"], weight=60)(
        lambda ctx, p=_prog: run_suite(ctx, p, timeout=TIMEOUTS.get(p, 300)))

# Scheduler activations under load on 8 harts (issue 20): 1,000 threads
# blocked at level 1, and level 8 with 48 sleepers and 16 computers. Each
# test has its own watchdog ("stuck for N ticks while ...").
group("uthreadtests-8hart", tests=["uthreadtests-8hart/"], weight=60)(
    lambda ctx: run_suite(ctx, "uthreadtests upcmany upcgate level8", cpus=8,
                          label="uthreadtests-8hart"))

for _label, _cpus in (("sigtests", 3), ("sigtests-1hart", 1)):
    group(_label, tests=[_label + "/"], weight=30)(
        lambda ctx, lb=_label, c=_cpus: run_suite(ctx, "sigtests", cpus=c, label=lb))

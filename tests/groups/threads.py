"""The thread groups: the user programs `lwptests` (LWPs, futexes, the LWKT
scheduler's rules through kdebug) and `uthreadtests` (the M:N library), each
on its own QEMU with CPUS=3. Every `test NAME: OK|FAILED` line they print
becomes a result PROG/NAME; a panic, a hang or a missing final line fails.
"""
import re

from qemu import TestFailure
from testlib import group

FINAL = r"ALL TESTS PASSED|SOME TESTS FAILED"


def run_suite(ctx, prog, cpus=3, timeout=300):
    with ctx.machine(prog, image=ctx.images.plain, cpus=cpus, timeout=timeout) as m:
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
                ctx.report("%s/%s" % (prog, mm.group(1)), ok, "" if ok else " | ".join(above[-3:]))
                start = mm.end()
            m.expect(r"\$ ", 30)
            m.poweroff(30)
        except TestFailure as e:
            ctx.report(prog, False, str(e))


for _prog in ("lwptests", "uthreadtests"):
    group(_prog, tests=[_prog + "/"], weight=60)(lambda ctx, p=_prog: run_suite(ctx, p))

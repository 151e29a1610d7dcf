"""The doorbell group: cross-CPU wake-ups on both boards the kernel knows
(kernel/arch/ipi.c). On `-machine virt,aclint=on`, every other test's board,
the kernel must say it rings through the ACLINT SSWI; on plain
`-machine virt` it must fall back to SBI IPIs. On each, with CPUS=3, the
cross-CPU tests of lwptests (remotewake: a wake-up through an IPI message;
multihart: LWPs spread over the harts) and racetests ipiqfull (a full IPI
ring to a CPU spinning with interrupts off) and doorbell (no doorbell owed
while waiting, none stranded by a preemption) must pass.
"""
import re

from testlib import group

BOARDS = [("sswi", "aclint=on", "ACLINT SSWI"), ("sbi", "aclint=off", "SBI")]
PROGS = [("lwptests", "remotewake multihart"), ("racetests", "ipiqfull doorbell")]
TESTS = ["doorbell/%s" % b for b, _, _ in BOARDS]


@group("doorbell", tests=TESTS, weight=20)
def doorbell(ctx):
    for board, option, way in BOARDS:
        name = "doorbell/%s" % board
        if not ctx.want(name):
            continue
        with ctx.test(name):
            with ctx.machine("doorbell-" + board, cpus=3, timeout=240,
                             extra=["-machine", option]) as m:
                m.boot(60)
                boot = m.output()
                said = re.search(r"^doorbell: (.*)$", boot, re.M)
                ctx.check(said and said.group(1).strip() == way,
                          "the kernel said %r, want 'doorbell: %s'"
                          % (said and said.group(0), way))
                for prog, names in PROGS:
                    out = m.run("%s %s" % (prog, names), 180)
                    for t in names.split():
                        ctx.check(re.search(r"^test %s: OK" % t, out, re.M),
                                  "%s %s did not pass on %s: %r" % (prog, t, board, out[-300:]))
                m.poweroff()

"""The kdebug group: kdebug's gate (kernel/proc/kdebug.c, docs/kdebug.md).
On a machine nobody armed, `kdgate` may read the kernel's counters but its
test hook (KD_COPY_DELAY) is refused, and the kernel says once how to open
the hooks; after Ctrl-t on the console the hook is open."""
import re

from testlib import group


@group("kdebug", tests=["kdebug/gate"], weight=5)
def kdebug(ctx):
    with ctx.test("kdebug/gate"):
        with ctx.machine("kdebug-gate", cpus=1, timeout=120) as m:
            m.boot(60, hooks=False)
            out = m.run("kdgate", 30)
            ctx.check(re.search(r"kdgate: observations open, test hooks refused", out),
                      "before Ctrl-t: %r" % out[-300:])
            ctx.check("type Ctrl-t on the console to arm test hooks" in out,
                      "no hint on the console for the refused hook: %r" % out[-300:])
            m.arm_hooks()
            m.expect(r"kdebug: test hooks armed", 10)
            out = m.run("kdgate", 30)
            ctx.check(re.search(r"kdgate: observations open, test hooks open", out),
                      "after Ctrl-t: %r" % out[-300:])
            m.poweroff()

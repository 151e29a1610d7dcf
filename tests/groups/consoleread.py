"""The consoleread group: `usertests consoleread` reads typed lines into a
bad buffer and into one straddling the end of the heap; the harness types
the lines when asked. No typed byte may be lost (see docs/decisions.md,
"Bad user buffers lose nothing")."""
from qemu import TestFailure
from testlib import group


@group("consoleread", tests=["consoleread/bad-buffer"], weight=5)
def consoleread(ctx):
    with ctx.test("consoleread/bad-buffer"):
        with ctx.machine("consoleread", cpus=3, timeout=120) as m:
            m.boot(60)
            m.send("usertests consoleread")
            m.expect(r"consoleread: type a line", 30)
            m.send("hello")
            m.expect(r"consoleread: type another line", 30)
            m.send("abcdefgh")
            r = m.expect(r"test consoleread: (OK|FAILED).*", 60)
            if r.group(1) != "OK":
                raise TestFailure(m.output()[-300:].replace("\n", " | "))
            m.expect(r"\$ ", 30)
            m.poweroff(30)

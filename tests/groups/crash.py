"""Crash-safety groups, one per crash point n: boot the image with the test
programs, run `crashfs w SEED n` (tests/extra/crashfs.c), which arms
kdebug(KD_CRASH_AFTER_WRITES, n) so QEMU powers off just before the n-th next
block write, then works on files. Then:

- crash/nN/fsck-log:  tests/fsck.py on the crashed image, with the committed
                      log replayed as recovery would;
- crash/nN/recover:   boot the SAME image, `crashfs c SEED` checks every file
                      against the program's journal;
- crash/nN/fsck:      tests/fsck.py on the image after that clean poweroff.

CRASH_POINTS=1-300 in the environment replaces the crash points by a sweep.
"""
import os

import fsck
from qemu import TestFailure, Timeout
from testlib import group

POINTS = (1, 5, 17, 40, 100, 250, 600, 1000)
if os.environ.get("CRASH_POINTS"):       # e.g. CRASH_POINTS=1-300 for a sweep
    lo, _, hi = os.environ["CRASH_POINTS"].partition("-")
    POINTS = range(int(lo), int(hi or lo) + 1)


def crash_at(ctx, n):
    base = "crash/n%d" % n
    seed = n * 7 + 3
    if ctx.images.progs_error:
        raise TestFailure(ctx.images.progs_error.splitlines()[-1])
    image = None
    with ctx.test(base + "/crash"):
        with ctx.machine(base, image=ctx.images.progs, cpus=3, timeout=120) as m:
            m.boot(60)
            m.send("crashfs w %d %d" % (seed, n))
            m.expect(r"crashfs: armed", 20, fail=r"panic:|crashfs: .*fail")
            # The program must not get to the end: QEMU should power off first.
            try:
                line = m.expect(r"crashfs: (finished|step).*|panic:.*", 60, fail=None)
                raise TestFailure("no crash at write %d: %s" % (n, line.group(0)))
            except Timeout:
                if not m.eof:
                    raise
            rc = m.wait_exit(5)
            ctx.check(rc == 0, "QEMU exit status %s at the crash" % rc)
            image = m.image
    if image is None:
        return
    with ctx.test(base + "/fsck-log"):
        errs = fsck.check(image, replay=True)
        ctx.check(not errs, "; ".join(errs[:4]))
    with ctx.test(base + "/recover"):
        with ctx.machine(base + "-reboot", image=image, share=True, cpus=3, timeout=120) as m:
            m.boot(60)
            out = m.run("crashfs c %d" % seed, 60)
            ctx.check("crashfs: check OK" in out,
                      " | ".join(l for l in out.splitlines() if "BAD" in l or "FAIL" in l)[:400]
                      or "no verdict from crashfs c: " + out[-200:])
            m.poweroff()
    with ctx.test(base + "/fsck"):
        errs = fsck.check(image, replay=False)
        ctx.check(not errs, "; ".join(errs[:4]))


for _n in POINTS:
    group("crash%d" % _n, tests=["crash/n%d/" % _n], weight=20)(
        lambda ctx, n=_n: crash_at(ctx, n))

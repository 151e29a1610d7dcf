"""The usertests group: runs the user program `usertests` with CPUS=3 and
reports each of its tests (`test NAME: OK|FAILED`) as usertests/NAME.

The tests are split over two QEMUs by name: each asks `usertests -l` for the
list and runs every other name (`usertests NAME...`, in short command lines).
Without a usable `-l`, the first QEMU runs plain `usertests` and the second
has nothing to do. A kernel panic, a missing final line (`ALL TESTS PASSED` /
`SOME TESTS FAILED`) or a named test without a result is a failure. The image
is checked with tests/fsck.py after poweroff.
"""
import re
import time

import fsck
from qemu import TestFailure
from testlib import group

SHARDS = 2
LINE_MAX = 90          # the shell's line buffer is small
RESULT = re.compile(r"^test (\S+?): (OK|FAILED)", re.M)
FINAL = r"ALL TESTS PASSED|SOME TESTS FAILED"


def list_tests(m):
    out = m.run("usertests -l", 30)
    names = [l.strip() for l in out.splitlines() if l.strip()]
    if not names or not all(re.fullmatch(r"[A-Za-z0-9_.-]+", n) for n in names):
        return None
    return names


def chunks(names):
    line = []
    for n in names:
        if line and len(" ".join(["usertests"] + line + [n])) > LINE_MAX:
            yield line
            line = []
        line.append(n)
    if line:
        yield line


def run_chunk(ctx, m, args, expected):
    """Run `usertests ARGS`; report its tests; check the names in expected
    all got a result."""
    cmd = " ".join(["usertests"] + args)
    m.send(cmd)
    seen, failed = set(), set()
    final = None
    start = m.pos
    last = time.monotonic()
    # Read result lines one by one so each is reported as soon as it appears
    # and a hang is blamed on the test that was running.
    while final is None:
        mm = m.expect(r"^test (\S+?): (OK|FAILED).*$|" + FINAL, 600)
        now = time.monotonic()
        if mm.group(1):
            name, ok = mm.group(1), mm.group(2) == "OK"
            seen.add(name)
            why = ""
            if not ok:
                failed.add(name)
                # The test explains itself on the lines above its result.
                above = [l.strip() for l in m.buf[start:mm.start()].splitlines() if l.strip()]
                why = " | ".join(above[-3:] + [mm.group(0).strip()])
            if ctx.want("usertests/" + name):
                ctx.report("usertests/" + name, ok, why, secs=now - last)
            start = mm.end()
        else:
            final = mm.group(0)
        last = now
    m.expect(r"\$ ", 30)
    for name in expected:
        if name not in seen:
            ctx.report("usertests/" + name, False, "no result line from `%s`" % cmd)
    if (final == "SOME TESTS FAILED") != bool(failed):
        raise TestFailure("`%s` ended with %s but %d test(s) said FAILED"
                          % (cmd, final, len(failed)))


def shard(ctx, i):
    name = "usertests/shard%d" % i
    with ctx.machine(name, image=ctx.images.plain, cpus=3, timeout=1000) as m:
        try:
            m.boot(60)
            names = list_tests(m)
            if names is None:
                if i != 0:
                    ctx.idle = True
                    m.poweroff()
                    return
                m.note("usertests -l gave no list: running all tests at once")
                run_chunk(ctx, m, [], [])
            else:
                mine = [n for n in names[i::SHARDS] if ctx.want("usertests/" + n)]
                if not mine:
                    ctx.idle = True
                for args in chunks(mine):
                    run_chunk(ctx, m, args, args)
            m.poweroff(30)
        except TestFailure as e:
            # Blame the failure (panic, hang) on a test of its own so the
            # results already reported stay visible.
            ctx.report(name, False, str(e))
            return
    if ctx.want("usertests/fsck"):
        with ctx.test("usertests/fsck%d" % i):
            errs = fsck.check(m.image)
            ctx.check(not errs, "; ".join(errs[:5]))


for _i in range(SHARDS):
    group("usertests%d" % _i, tests=["usertests/"], weight=300)(
        lambda ctx, i=_i: shard(ctx, i))

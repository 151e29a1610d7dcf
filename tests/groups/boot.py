"""Boot groups: with CPUS=1, 3 and 8 every hart starts exactly once, the
kernel and init announce themselves, the shell prompts, and `poweroff` ends
QEMU with status 0. The time from QEMU start to the prompt goes into the log
and tests/logs/boot-times.txt."""
import os
import re

from qemu import LOGDIR
from testlib import group


def check_boot(ctx, cpus):
    name = "boot/cpus%d" % cpus
    if not ctx.want(name):
        return
    with ctx.test(name):
        with ctx.machine(name, cpus=cpus, timeout=120) as m:
            m.expect(r"spindle: %d harts up" % cpus, 60)
            m.expect(r"init: starting sh", 30)
            secs = m.boot(30)
            out = m.output()
            ids = [int(x) for x in re.findall(r"hart (\d+) starting", out)]
            ctx.check(sorted(ids) == list(range(cpus)),
                      "harts that said 'hart N starting': %s, want each of 0..%d once"
                      % (sorted(ids), cpus - 1))
            ctx.check(len(re.findall(r"harts up", out)) == 1, "'harts up' printed more than once")
            m.note("prompt after %.2fs" % secs)
            with open(os.path.join(LOGDIR, "boot-times.txt"), "a") as f:
                f.write("%s %.2fs to prompt\n" % (name, secs))
            m.poweroff()


for n, w in ((1, 5), (3, 5), (8, 8)):
    group("boot%d" % n, tests=["boot/cpus%d" % n], weight=w)(
        lambda ctx, n=n: check_boot(ctx, n))

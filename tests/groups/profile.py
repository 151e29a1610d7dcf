"""The profile group: the sampling profiler end to end, under -icount as
`make profile` runs it. `prof run prof spin N` samples a process that spends
nearly all its instructions in one known function, prof_spin_loop
(user/bin/prof.c); tools/profile/profile.py must name it, from build/bin/prof,
at the top of the function table with most of the samples, and name a line
of it at the top of the line table. The kernel must have dropped no sample.
Then `prof run -i 20 bench getpid` must put the kernel's system-call path
(usertrap or syscall) among the top functions: kernel PCs are named too.
profile/nosuch: `make profile PROG=nosuch` (tools/profile/profile.py) fails
with the guest's own "prof: cannot run nosuch".
"""
import os
import re
import subprocess
import sys

from qemu import ROOT
from testlib import group

sys.path.insert(0, os.path.join(ROOT, "tools", "profile"))
import profile as profiler  # noqa: E402  (tools/profile/profile.py)

TESTS = ["profile/loop", "profile/kernel", "profile/nosuch"]


def rows(rep):
    """The function table's rows: [(share, name)], most samples first."""
    funcs = rep.split("line (function)")[0]
    return [(float(s), name) for s, name in
            re.findall(r"^\|\s+([\d.]+)% \| \d+ \| (.+) \|$", funcs, re.M)]


@group("profile", tests=TESTS, weight=8)
def profile_group(ctx):
    if not any(ctx.want(t) for t in TESTS):
        ctx.idle = True
        return
    with ctx.machine("profile", cpus=1, timeout=180, extra=["-icount", "shift=0"]) as m:
        m.boot()
        spin = m.run("prof run prof spin 3000000", 60)
        getpid = m.run("prof run -i 20 bench getpid", 60)
        m.poweroff()
    with ctx.test("profile/loop"):
        ctx.check("PROF END" in spin, "no complete dump: %r" % spin[-300:])
        ctx.check(re.search(r"PROF END samples (\d+) lost 0", spin),
                  "samples were lost: %r" % spin[-200:])
        rep = profiler.report(spin)
        top = rows(rep)
        ctx.check(top, "no function table: %r" % rep[:300])
        share, name = top[0]
        ctx.check(name == "prof_spin_loop (user prof)",
                  "top function is %r, want prof_spin_loop (user prof)" % name)
        ctx.check(share > 80.0, "prof_spin_loop has only %.1f%% of the samples" % share)
        lines = rep.split("line (function)")[1]
        ctx.check(re.search(r"^\|[^|]+\|[^|]+\| user/bin/prof\.c:\d+ \(prof_spin_loop\) \|$",
                            lines, re.M), "no line of prof_spin_loop in the line table")
    with ctx.test("profile/kernel"):
        names = [n for _, n in rows(profiler.report(getpid))[:5]]
        ctx.check(any(re.match(r"(usertrap|syscall|uservec|userret) \(kernel\)", n) for n in names),
                  "no kernel system-call function among the top five: %s" % names)

    if ctx.want("profile/nosuch"):
        with ctx.test("profile/nosuch"):
            p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "profile", "profile.py"),
                                "nosuch"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=400)
            said = p.stdout.decode(errors="replace")
            ctx.check(p.returncode == 1 and "profile: the guest said: prof: cannot run nosuch" in said,
                      "make profile PROG=nosuch: status %d, said %r" % (p.returncode, said[-300:]))

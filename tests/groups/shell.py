"""The shell group: one QEMU (CPUS=3) on the image with the test programs;
each test types command lines and checks what the shell and the programs
print: redirection, pipes, `;`, `&`, cd, and ls, cat, echo, grep, wc, mkdir,
rm, ln, kill. The image is checked with tests/fsck.py after poweroff.
"""
import re
import time

import fsck
from testlib import group

TESTS = ["echo", "redirect", "pipe", "semicolon", "cd-mkdir", "ln-rm", "ls",
         "grep", "background", "kill", "fsck"]


def lines(out):
    return [l.strip() for l in out.splitlines() if l.strip()]


def shell(ctx):
    image = ctx.images.progs if not ctx.images.progs_error else ctx.images.plain
    t = lambda name: ctx.test("shell/" + name)   # noqa: E731
    want = lambda name: ctx.want("shell/" + name)  # noqa: E731
    check = ctx.check
    with ctx.machine("shell", image=image, cpus=3, timeout=240) as m:
        m.boot(60)
        if want("echo"):
            with t("echo"):
                out = m.run('echo hello   "two words"  x')
                check(lines(out) == ["hello two words x"], "echo printed %r" % out)
        if want("redirect"):
            with t("redirect"):
                m.run("echo hello > f")
                out = m.run("cat f")
                check(lines(out) == ["hello"], "cat f after echo > f: %r" % out)
                out = m.run("wc < f")
                check(re.match(r"\s*1 1 6\b", out), "wc < f: %r" % out)
                m.run("echo bye > f")
                check(lines(m.run("cat f")) == ["bye"], "> did not truncate f")
        if want("pipe"):
            with t("pipe"):
                out = m.run("echo hello > f; cat f | grep hel | wc")
                check(re.match(r"\s*1 1 6\b", out), "cat f | grep hel | wc: %r" % out)
                out = m.run("echo a b c | cat | cat | cat | wc")
                check(re.match(r"\s*1 3 6\b", out), "4-stage pipe: %r" % out)
        if want("semicolon"):
            with t("semicolon"):
                out = m.run("echo one; echo two ;echo three")
                check(lines(out) == ["one", "two", "three"], "; printed %r" % out)
        if want("cd-mkdir"):
            with t("cd-mkdir"):
                out = m.run("mkdir dd; cd dd; echo inside > g; cat g")
                check(lines(out) == ["inside"], "cat g in dd: %r" % out)
                out = m.run("cd ..; cat dd/g")
                check(lines(out) == ["inside"], "cat dd/g after cd ..: %r" % out)
                out = m.run("cd nowhere")
                check("cannot cd" in out, "cd to a missing dir said %r" % out)
                out = m.run("mkdir dd")
                check(out.strip(), "mkdir of an existing dir printed no error")
        if want("ln-rm"):
            with t("ln-rm"):
                m.run("echo linked > l1")
                m.run("ln l1 l2")
                check(lines(m.run("cat l2")) == ["linked"], "cat of the new link")
                m.run("rm l1")
                check(lines(m.run("cat l2")) == ["linked"], "link gone with the old name")
                out = m.run("cat l1")
                check("linked" not in out and out.strip(), "cat l1 after rm: %r" % out)
                m.run("rm l2")
        if want("ls"):
            with t("ls"):
                out = m.run("ls")
                names = [l.split()[0] for l in lines(out)]
                for n in (".", "..", "README.md", "cat", "sh", "dd", "f"):
                    check(n in names, "ls of / lacks %s: %r" % (n, names))
                check("l1" not in names, "ls still shows removed file l1")
                out = m.run("ls dd")
                check(sorted(l.split()[0] for l in lines(out)) == [".", "..", "g"],
                      "ls dd: %r" % out)
        if want("grep"):
            with t("grep"):
                m.run("echo apple > fr; echo banana > b2; cat fr b2 > both")
                out = m.run("grep an both")
                check(lines(out) == ["banana"], "grep an: %r" % out)
                out = m.run("grep zzz both")
                check(lines(out) == [], "grep with no match printed %r" % out)
        if want("background"):
            with t("background"):
                m.send("spin 150 &")          # 1.5 s; the prompt comes back at once
                # the whole line, newline included: typed before spin's
                # newline, the next command's echo is cut in two by it
                pid = m.expect(r"spin (\d+) started\r?\n", 10).group(1)
                out = m.run("echo foreground")
                check("foreground" in out, "echo after & printed %r" % out)
                check("spin %s done" % pid not in m.output(), "& waited for spin")
                m.expect(r"spin %s done" % pid, 20)
        if want("kill"):
            with t("kill"):
                m.send("spin 100000 &")
                pid = m.expect(r"spin (\d+) started\r?\n", 10).group(1)
                out = m.run("kill %s" % pid)
                check(not out.strip(), "kill printed %r" % out)
                for _ in range(10):
                    ps = m.run("ps")
                    if not re.search(r"^%s\s.*spin" % pid, ps, re.M):
                        break
                    time.sleep(0.3)
                check(not re.search(r"^%s\s.*spin" % pid, ps, re.M),
                      "spin still in ps after kill: %r" % ps)
                check("spin %s done" % pid not in m.output(), "killed spin finished")
                out = m.run("kill 999")
                check("no process" in out, "kill of no process said %r" % out)
        m.poweroff()
    if want("fsck"):
        with t("fsck"):
            errs = fsck.check(m.image)
            check(not errs, "; ".join(errs[:4]))


group("shell", tests=["shell/" + n for n in TESTS], weight=30)(shell)

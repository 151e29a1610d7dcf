"""The gdbwalk group: replays the walk-through of docs/gdb.md ("A session: a
remote wake-up, step by step") on a live machine and checks what the page
promises. The `(gdb) ` lines of that section's code blocks are the commands,
taken from the page itself, so the page cannot drift from what gdb does.

QEMU runs on 2 harts with the gdb stub (no -S) and boots to the prompt; gdb
attaching stops it, which stands for the page's `continue` + Ctrl-C. gdb
runs the commands in batch mode through the repo's .gdbinit (as in
tests/groups/gdbcmds.py), each after an `echo` marker; when gdb reaches the
page's first `continue`, the test types `ls` on the console, as the reader
does. Checks: before gdb attaches, the kernel's Ctrl-p dump names each
wait channel as gdb's klts then does (cons+280, procs); the shell sleeps on a named channel on the CPU that is not
the boot hart (which owns uart_intr: hart 0 or 1, OpenSBI's lottery); the conditional
breakpoint stops in the console's wake-up of the shell and nowhere else; with
scheduler-locking on, `ipiq` shows the message pending; the other hart takes
it in ipiq_process; `runq 1` shows the shell queued and the ring empty; the
shell then runs on CPU 1; after gdb detaches, `ls` completes. The shell's
KLT carries the program's name, `sh`, in the dump and in klts (exec renames
it). gdbwalk/lines: every `at FILE:LINE` the page shows in a command's output
is in gdb's output of that command, and a frame the page shows is the frame
gdb printed there.
"""
import os
import re
import subprocess
import threading

import qemu
from qemu import ROOT
from testlib import group

from groups.gdb import machine_with_gdb

TESTS = ["gdbwalk/ctrlp", "gdbwalk/klts", "gdbwalk/wake", "gdbwalk/pending", "gdbwalk/remote",
         "gdbwalk/queued", "gdbwalk/running", "gdbwalk/resume", "gdbwalk/lines"]
SECTION = "## A session"


def walkthrough():
    """The (gdb) commands of the walk-through, in order, without the first
    `continue` that the page interrupts with Ctrl-C and the last one, each
    with the output the page shows for it."""
    with open(os.path.join(ROOT, "docs", "gdb.md"), encoding="utf-8") as f:
        text = f.read()
    start = text.index(SECTION)
    end = text.find("\n## ", start + 1)
    lines = text[start:end if end > 0 else None].splitlines()
    cmds, fence = [], False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fence = not fence
        elif fence and line.startswith("(gdb) "):
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if not (line.strip() == "(gdb) continue" and nxt.strip() == "^C"):
                cmds.append([line[6:].strip(), ""])
        elif fence and cmds and line.strip() != "^C":
            cmds[-1][1] += line + "\n"
    if cmds and cmds[-1][0] == "continue":
        cmds.pop()          # the reader's last continue: in batch mode gdb detaches instead
    return cmds


def walkthrough_commands():
    return [c for c, _ in walkthrough()]


FRAME = re.compile(r"(?:^#(\d+) .*?|hit .*?, )(?:0x[0-9a-f]+ in )?(\w+) \(.*? at (\S+:\d+)$", re.M)


# The page's IPI backtrace is a hart that takes the message in its idle loop;
# a hart that was busy takes it from a trap instead (the page says so), and
# then only the frames both paths share, up to ipiq_process, can be compared.
IDLE_PATH_ONLY = {"lwkt_idle_loop", "kmain_secondary", "_entry_secondary"}


def expected_frames(page, got):
    frames = FRAME.findall(page)
    if "kerneltrap" in got and "kerneltrap" not in page:
        frames = [f for f in frames if f[1] not in IDLE_PATH_ONLY]
    return frames


def check_lines(ctx, parts):
    """Each `FUNCTION (...) at FILE:LINE` of the page's outputs is in gdb's
    output of the same command (a backtrace's frame number too)."""
    shown = walkthrough()
    ctx.check(len(parts) == len(shown), "gdb ran %d of the page's %d commands"
              % (len(parts), len(shown)))
    wrong, n = [], 0
    for (cmd, page), (_, got) in zip(shown, parts):
        real = {(f, fn, at) for f, fn, at in FRAME.findall(got)}
        for frame in expected_frames(page, got):
            n += 1
            if frame not in real:
                wrong.append("%s: the page shows %s at %s%s, gdb said %s" % (
                    cmd, frame[1], frame[2], " (frame #%s)" % frame[0] if frame[0] else "",
                    sorted("%s at %s" % (fn, at) for _, fn, at in real) or got[-200:]))
    ctx.check(n >= 6, "found only %d FILE:LINE frames in docs/gdb.md's walk-through" % n)
    ctx.check(not wrong, "docs/gdb.md drifted from gdb: " + "; ".join(wrong))


def run_gdb(m, tmp, cmds, timeout=150):
    """Run cmds in gdb; type `ls` when the first `continue` starts. Returns
    a list of (command, output) in order."""
    script = []
    for i, c in enumerate(cmds):
        script += ["echo ==%d==\\n" % i, c]
    script.append("echo ==end==\\n")
    path = os.path.join(tmp, "walk.gdb")
    with open(path, "w") as f:
        f.write("\n".join(script) + "\n")
    first_cont = cmds.index("continue")
    p = subprocess.Popen([qemu.gdb_command(), "-batch", "-nx", "-x", os.path.join(ROOT, ".gdbinit"),
                          "-x", path], cwd=tmp, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    out, typed = [], False
    try:
        for raw in iter(p.stdout.readline, b""):
            line = raw.decode(errors="replace")
            out.append(line)
            if not typed and line.strip() == "==%d==" % first_cont:
                typed = True
                # gdb reads this marker just before it resumes the machine;
                # the key waits in the UART until then.
                threading.Timer(1.0, m.send, ["ls"]).start()
        p.wait()
    finally:
        timer.cancel()
    text = "".join(out)
    m.note("gdb output:\n" + text)
    parts, cur = [], None
    for line in text.splitlines():
        mk = re.match(r"^==(\d+|end)==$", line.strip())
        if mk:
            cur = None if mk.group(1) == "end" else int(mk.group(1))
            if cur is not None:
                parts.append([cmds[cur], ""])
        elif cur is not None:
            parts[-1][1] += line + "\n"
    return parts, text


def after(parts, cmd, n=1):
    """Output of the n-th command equal to (or starting with) cmd."""
    seen = 0
    for c, o in parts:
        if c == cmd or c.startswith(cmd + " "):
            seen += 1
            if seen == n:
                return o
    return ""


@group("gdbwalk", tests=TESTS, weight=25)
def gdbwalk(ctx):
    if not any(ctx.want(t) for t in TESTS):
        ctx.idle = True
        return
    cmds = walkthrough_commands()
    with machine_with_gdb(ctx, "gdbwalk", timeout=240) as (m, tmp):
        m.boot()
        m.run("echo ready", 15)
        start = len(m.output())
        m.send("\x10")                   # Ctrl-p: the kernel's own thread dump
        m.expect(r"^pid \d+ sh alive", 15)   # the klt lines come before the pid lines
        dump = m.output()[start:]
        parts, text = run_gdb(m, tmp, cmds)
        ctx.check(len(parts) == len(cmds), "gdb ran %d of the %d commands; output ends: %r"
                  % (len(parts), len(cmds), text[-400:]))
        # The shell's KLT and CPU, and the CPU of the console's interrupt
        # thread (the boot hart: hart 0 or, by OpenSBI's lottery, hart 1).
        k = after(parts, "klts")
        row = re.search(r"^ (\d+)\s+sh\s+(\d)\s+10\s+ukern\s+sleeping\s+\d+/2\s+sh\s+(\S+)",
                        k, re.M)
        uart = re.search(r"^[ *](\d+)\s+uart_intr\s+(\d)\s", k, re.M)
        sh, scpu = (row.group(1), row.group(2)) if row else (r"\d+", r"\d")
        ucpu = uart.group(2) if uart else r"\d"

        if ctx.want("gdbwalk/ctrlp"):
            with ctx.test("gdbwalk/ctrlp"):
                # The kernel names wait channels as gdb's klts does (tools/ksyms.py).
                kchan = dict(re.findall(r"^klt (\d+) .* chan (\S+)$", dump, re.M))
                gchan = dict(re.findall(r"^[ *](\d+)\s.*\s(\S+)$", k, re.M))
                ctx.check(kchan.get(sh) and re.match(r"^cons\+\d+$", kchan[sh]),
                          "Ctrl-p does not name the shell's channel cons+N: %r" % dump[-600:])
                ctx.check(re.search(r"^klt %s sh cpu " % sh, dump, re.M),
                          "Ctrl-p does not name the shell's KLT sh (exec renames it): %r" % dump[-600:])
                ctx.check(all(gchan.get(t) == c for t, c in kchan.items()),
                          "Ctrl-p and klts name channels differently: %r vs %r" % (kchan, gchan))
        if ctx.want("gdbwalk/klts"):
            with ctx.test("gdbwalk/klts"):
                ctx.check(row and uart, "klts shows no KLT named sh (pid 2) sleeping or no uart_intr: %r"
                          % k[:700])
                ctx.check(re.match(r"^cons\+\d+$", row.group(3)),
                          "the shell's channel is not named cons+N: %r" % row.group(3))
                ctx.check(scpu != ucpu, "the shell shares CPU %s with uart_intr: no IPI to see"
                          % scpu)
        m_sh = re.search(r"klts\+(\d+)>", after(parts, "continue"))
        if ctx.want("gdbwalk/wake"):
            with ctx.test("gdbwalk/wake"):
                w = after(parts, "continue")
                ctx.check(re.search(r"hit Breakpoint 1\.?\d*, lwkt_schedule \(t=0x[0-9a-f]+ "
                                    r"<klts\+\d+>\)", w),
                          "the conditional breakpoint did not stop in lwkt_schedule: %r" % w[-400:])
                bt = after(parts, "bt")
                ctx.check("sleepq_wakeup" in bt and "console_intr" in bt,
                          "the backtrace is not the console waking the shell: %r" % bt[:600])
                ctx.check(m_sh is not None, "no klt address in the stop: %r" % w[-300:])
        if ctx.want("gdbwalk/pending"):
            with ctx.test("gdbwalk/pending"):
                q = after(parts, "ipiq")
                ctx.check(re.search(r"ipiq cpu %s -> cpu %s: 1 pending \(windex \d+, rindex \d+\)"
                                    % (ucpu, scpu), q),
                          "with scheduler-locking on, ipiq shows no pending message from CPU %s "
                          "to CPU %s: %r" % (ucpu, scpu, q[:400]))
                ctx.check(re.search(r"schedule_local\(klt %s sh\)" % sh, q),
                          "the pending message is not schedule_local(klt %s sh): %r" % (sh, q[:400]))
        if ctx.want("gdbwalk/remote"):
            with ctx.test("gdbwalk/remote"):
                send = re.search(r"Thread (\d+) hit (?:Temporary b|B)reakpoint \d+, ipiq_send", after(parts, "continue", 2))
                recv = re.search(r"Thread (\d+) hit Breakpoint \d+, schedule_local \(arg=0x[0-9a-f]+ "
                                 r"<klts\+(\d+)>\)", after(parts, "continue", 3))
                ctx.check(send and recv, "no stops in ipiq_send then schedule_local: %r"
                          % [after(parts, "continue", i)[-300:] for i in (2, 3)])
                ctx.check(send.group(1) != recv.group(1),
                          "send and receive on the same hart (Thread %s)" % send.group(1))
                ctx.check(m_sh and recv.group(2) == m_sh.group(1),
                          "schedule_local stopped for another thread than the shell")
                ctx.check("ipiq_process" in after(parts, "bt", 2),
                          "schedule_local not called from ipiq_process: %r" % after(parts, "bt", 2)[:500])
        if ctx.want("gdbwalk/queued"):
            with ctx.test("gdbwalk/queued"):
                r = after(parts, "runq")
                cpu = re.search(r"^cpu %s: .*\n((?:  .*\n)*)" % scpu, r, re.M)
                ctx.check(cpu and "RESCHED" in cpu.group(0).splitlines()[0],
                          "runq does not ask CPU %s to reschedule: %r" % (scpu, r[:500]))
                ctx.check(re.search(r"^  pri 10 ukern: .*\b%s\b" % sh, cpu.group(1), re.M),
                          "the shell is not in CPU %s's ukern queue: %r" % (scpu, r[:500]))
                ctx.check("no IPI messages pending" in after(parts, "ipiq", 2),
                          "the ring is not empty after the message ran: %r" % after(parts, "ipiq", 2)[:300])
        if ctx.want("gdbwalk/running"):
            with ctx.test("gdbwalk/running"):
                ctx.check("lwkt_switch_finish" in after(parts, "continue", 4),
                          "no stop in lwkt_switch_finish: %r" % after(parts, "continue", 4)[-300:])
                k2 = after(parts, "klts", 2)
                ctx.check(re.search(r"^\*%s\s+sh\s+%s\s+10\s+ukern\s+running\s+\d+/2\s+sh"
                                    % (sh, scpu), k2, re.M),
                          "klts does not show the shell running on CPU %s: %r" % (scpu, k2[:700]))
        if ctx.want("gdbwalk/resume"):
            with ctx.test("gdbwalk/resume"):
                m.expect(r"README\.md\s+2 \d+", 30)
                m.expect(qemu.PROMPT, 15)
                out = m.run("echo still alive", 20)
                ctx.check("still alive" in out, "machine did not run on after gdb detached")
        if ctx.want("gdbwalk/lines"):
            with ctx.test("gdbwalk/lines"):
                check_lines(ctx, parts)
        m.poweroff()


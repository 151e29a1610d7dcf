"""The gdb group: QEMU started as `make qemu-gdb` does (-S -gdb tcp::PORT on a
free port), then gdb-multiarch in batch mode breaks on syscall(), continues
(init's first system call gets there) and takes a backtrace, which must show
kernel frames: syscall and the trap handler that called it.

gdb/repo-gdbinit does the same through the repo's .gdbinit (run from a
scratch directory that has kernel/kernel and a .gdbport naming the port), so
the file a student auto-loads is tested too.

gdb/vscode does what .vscode/launch.json asks VS Code to do: its task runs
a Makefile target that exists and prints the line the task waits for, and
its debugger (tools/gdb/gdb.sh) runs its setup commands against QEMU
started as `make qemu-gdb` does; then a breakpoint and backtrace work.
"""
import contextlib
import json
import os
import re
import subprocess
import tempfile

import qemu
from qemu import ROOT, free_port
from testlib import group

COMMANDS = ["break syscall", "continue", "bt", "info threads"]


def gdb_batch(args, cwd, timeout=90):
    p = subprocess.run([qemu.gdb_command(), "-batch", "-nx"] + args, cwd=cwd,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    return p.stdout.decode(errors="replace")


def gdb_scratch(tmp, port):
    """Make tmp look like the repo root to .gdbinit: kernel/kernel, build/
    (for usym) and a .gdbport naming the port of the QEMU under test."""
    os.makedirs(os.path.join(tmp, "kernel"))
    os.symlink(qemu.KERNEL, os.path.join(tmp, "kernel", "kernel"))
    os.symlink(os.path.join(ROOT, "build"), os.path.join(tmp, "build"))
    with open(os.path.join(tmp, ".gdbport"), "w") as f:
        f.write("%d\n" % port)


@contextlib.contextmanager
def machine_with_gdb(ctx, name, cpus=2, timeout=180):
    """A booting machine with QEMU's gdb stub on a free port (not stopped:
    gdb attaching stops it), and a scratch directory made by gdb_scratch
    for running gdb through the repo's .gdbinit. Yields (machine, scratch)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp, \
            ctx.machine(name, cpus=cpus, timeout=timeout,
                        extra=["-gdb", "tcp:127.0.0.1:%d" % port]) as m:
        gdb_scratch(tmp, port)
        yield m, tmp


def check_bt(ctx, out):
    bt = "\n".join(l for l in out.splitlines() if re.match(r"#\d+ ", l))
    ctx.check(re.search(r"#0 .*\bsyscall\b", bt), "no stop in syscall; gdb said: %s"
              % out.strip().splitlines()[-3:])
    ctx.check(re.search(r"#[1-9] .*(usertrap|user_trap|trap)", bt),
              "backtrace has no trap frame above syscall: %r" % bt[:300])


def gdb_direct(ctx):
    if not ctx.want("gdb/backtrace"):
        return
    with ctx.test("gdb/backtrace"):
        port = free_port()
        with ctx.machine("gdb-backtrace", cpus=3, timeout=120,
                         extra=["-S", "-gdb", "tcp:127.0.0.1:%d" % port]) as m:
            ex = ["set architecture riscv:rv64", "file " + qemu.KERNEL,
                  "target remote 127.0.0.1:%d" % port] + COMMANDS
            out = gdb_batch(sum((["-ex", c] for c in ex), []), ROOT)
            m.note("gdb output:\n" + out)
            check_bt(ctx, out)


def gdb_repo_init(ctx):
    if not ctx.want("gdb/repo-gdbinit"):
        return
    with ctx.test("gdb/repo-gdbinit"):
        port = free_port()
        with tempfile.TemporaryDirectory() as tmp, \
                ctx.machine("gdb-gdbinit", cpus=1, timeout=120,
                            extra=["-S", "-gdb", "tcp:127.0.0.1:%d" % port]) as m:
            gdb_scratch(tmp, port)
            args = ["-x", os.path.join(ROOT, ".gdbinit"), "-ex", "usym init"]
            out = gdb_batch(args + sum((["-ex", c] for c in COMMANDS), []), tmp)
            m.note("gdb output:\n" + out)
            ctx.check("spindle: added symbols of build/bin/init" in out,
                      "usym init did not load symbols: %r" % out[-300:])
            check_bt(ctx, out)


def vscode_config():
    """launch.json's configuration and the task it starts first."""
    with open(os.path.join(ROOT, ".vscode", "launch.json")) as f:
        launch = json.load(f)["configurations"][0]
    with open(os.path.join(ROOT, ".vscode", "tasks.json")) as f:
        tasks = {t["label"]: t for t in json.load(f)["tasks"]}
    return launch, tasks.get(launch.get("preLaunchTask"))


def gdb_vscode(ctx):
    if not ctx.want("gdb/vscode"):
        return
    with ctx.test("gdb/vscode"):
        launch, task = vscode_config()
        ctx.check(task, "launch.json's preLaunchTask %r is not in tasks.json"
                  % launch.get("preLaunchTask"))
        with open(os.path.join(ROOT, "Makefile")) as f:
            mk = f.read()
        target = task["command"].split()
        ctx.check(target[0] == "make" and re.search(r"^%s:" % re.escape(target[1]), mk, re.M),
                  "the task runs %r, not a Makefile target" % task["command"])
        ends = task["problemMatcher"]["background"]["endsPattern"]
        ctx.check(re.search(ends, mk), "make %s never prints %r, which the task waits for"
                  % (target[1], ends))
        port = free_port()
        with tempfile.TemporaryDirectory() as tmp, \
                ctx.machine("gdb-vscode", cpus=1, timeout=120,
                            extra=["-S", "-gdb", "tcp:127.0.0.1:%d" % port]) as m:
            gdb_scratch(tmp, port)
            for name in (".gdbinit", "tools"):
                os.symlink(os.path.join(ROOT, name), os.path.join(tmp, name))
            def here(text):
                return text.replace("${workspaceFolder}", tmp)
            debugger = here(launch["miDebuggerPath"])
            ctx.check(os.access(debugger, os.X_OK), "miDebuggerPath %s is not a program" % debugger)
            ctx.check(here(launch["program"]) == os.path.join(tmp, "kernel", "kernel"),
                      "launch.json's program is %r" % launch["program"])
            setup = [here(c["text"]) for c in launch.get("setupCommands", [])
                     + launch["customLaunchSetupCommands"]]
            args = launch["miDebuggerArgs"].split() + ["-batch"]
            p = subprocess.run([debugger] + args + sum((["-ex", c] for c in setup + COMMANDS), []),
                               cwd=here(launch["cwd"]), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=90)
            out = p.stdout.decode(errors="replace")
            m.note("gdb output:\n" + out)
            ctx.check("spindle: connecting to QEMU on localhost:%d" % port in out,
                      "the setup commands did not connect to .gdbport's port: %r" % out[-300:])
            check_bt(ctx, out)


group("gdb", tests=["gdb/backtrace", "gdb/repo-gdbinit", "gdb/vscode"], weight=15)(
    lambda ctx: (gdb_direct(ctx), gdb_repo_init(ctx), gdb_vscode(ctx)))

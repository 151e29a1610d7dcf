"""The one QEMU driver of Spindle's harnesses (`make test` and the grading
harness grade/build.py): one Machine is one run of Spindle.

It owns starting qemu-system-riscv64 the way `make qemu` does (on a private
copy of a disk image unless told otherwise), reading the console into a log
file, expect()/send()/run() to talk to the shell (wait_for() for the grader,
which scores what it sees instead of failing), and making sure QEMU never
outlives the test: a hard timeout, an output cap and kill-on-exit of the
context manager, whatever exception is raised. Each QEMU is recorded with
tests/lifeline.py before its console is read, so it never outlives the
harness either, however the harness ends.
"""
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import lifeline

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL = os.path.join(ROOT, "kernel", "kernel")
LOGDIR = os.path.join(ROOT, "tests", "logs")
PROMPT = r"(?:^|\n)\$ "          # the shell prompt at the start of a line
PANIC = r"panic:"               # a kernel panic anywhere fails the test


LIVE = set()                    # Machines whose QEMU may still run
# The virt board with its ACLINT: a supervisor software interrupt (the IPI
# doorbell) is one store to the SSWI instead of a round trip through
# OpenSBI (kernel/arch/ipi.c). The kernel works without it, slower.
MACHINE = "virt,aclint=on"

_FOUND = {}


def found(what):
    """What tools/deps.sh finds for `what` (cc: the toolchain prefix, gdb:
    the gdb command, opensbi: the firmware), or the value make passed on
    (TOOLPREFIX, OPENSBI); "" if there is none."""
    env = {"cc": "TOOLPREFIX", "opensbi": "OPENSBI"}.get(what)
    if env and os.environ.get(env):
        return os.environ[env]
    if what not in _FOUND:
        p = subprocess.run(["bash", os.path.join(ROOT, "tools", "deps.sh"), "find", what],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        _FOUND[what] = p.stdout.decode().strip()
    return _FOUND[what]


def guest_failure(output, tool):
    """The guest's own lines when `tool run CMD` failed (`TOOL: cannot ...`,
    `TOOL: CMD exited with status N` for N != 0), else []; and whether the
    command never ran (then there is nothing worth drawing)."""
    lines = re.findall(r"^%s: (?:cannot .*|.* exited with status -?[1-9]\d*)$" % tool,
                       output, re.M)
    return lines, any(": cannot " in l for l in lines)


def gdb_command():
    """The RISC-V gdb, or a TestFailure saying how to get one."""
    gdb = found("gdb")
    if not gdb:
        raise TestFailure("no RISC-V gdb (gdb-multiarch, riscv64-elf-gdb): "
                          "run `make deps` or see docs/setup.md")
    return gdb


def kill_all():
    """Kill every QEMU still running (at exit, on Ctrl-C)."""
    for m in list(LIVE):
        m.kill("harness exiting")


atexit.register(kill_all)


class TestFailure(Exception):
    """A check failed; str() is the one-line reason the runner prints."""


class Timeout(TestFailure):
    pass


def free_port():
    """A TCP port nobody listens on now (for QEMU's gdb stub)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(text, n=300):
    text = text[-n:].replace("\n", "\\n")
    return text


class Machine:
    """One QEMU run. Use as a context manager so QEMU is always killed.

    name      names the log file tests/logs/<name>.log ('/' becomes '-')
    image     disk image to use; copied to tests/logs/<name>.img first
              (or to image_copy) unless share=True (then used in place, e.g.
              the second boot after a crash)
    cpus      -smp N
    timeout   hard limit in seconds for the whole run: QEMU is killed then
    stream    copy the console to our stdout as it arrives (-v)
    kernel, log_path, cap: another tree's kernel, another log file, another
              output cap (the grader's)
    """

    OUTPUT_CAP = 8 << 20
    EOL = "\n"

    def __init__(self, name, image, cpus=3, timeout=300, share=False,
                 stream=False, extra=(), mem="128M", kernel=None, log_path=None,
                 image_copy=None, cap=None):
        self.name = name
        self.safe = name.replace("/", "-")
        self.log_path = log_path or os.path.join(LOGDIR, self.safe + ".log")
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        self.kernel = kernel or KERNEL      # read now: testlib may point it at a snapshot
        self.cap = cap or self.OUTPUT_CAP
        self.flooded = False
        if share:
            self.image = image
        else:
            self.image = image_copy or os.path.join(LOGDIR, self.safe + ".img")
            shutil.copyfile(image, self.image)
        self.cpus = cpus
        self.timeout = timeout
        self.stream = stream
        self.extra = list(extra)
        self.mem = mem
        self.proc = None
        self.buf = ""            # console output, '\r' removed
        self.pos = 0             # expect() has consumed buf[:pos]
        self.cond = threading.Condition()
        self.eof = False
        self.killed_reason = None
        self.start_time = None

    # ---- life cycle -------------------------------------------------------
    def command(self):
        return ["qemu-system-riscv64", "-machine", MACHINE, "-bios", found("opensbi") or "default",
                "-kernel", self.kernel, "-m", self.mem, "-smp", str(self.cpus),
                "-nographic", "-global", "virtio-mmio.force-legacy=false",
                # QEMU reads "," as the end of a value unless doubled (a path like
                # ~/os,2026/grade-logs/ otherwise boots nothing)
                "-drive", "file=%s,if=none,format=raw,id=x0" % self.image.replace(",", ",,"),
                "-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0",
                ] + self.extra

    def start(self):
        self.log = open(self.log_path, "wb")
        cmd = self.command()
        self.log.write(("# " + " ".join(cmd) + "\n").encode())
        self.start_time = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        lifeline.watch(self.proc.pid)
        LIVE.add(self)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.timer = threading.Timer(self.timeout, self._expire)
        self.timer.daemon = True
        self.timer.start()
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill()
        return False

    def _expire(self):
        with self.cond:
            self._dump_threads()        # where it was: the log shows it
        self.kill("hard timeout (%ds)" % self.timeout)

    def kill(self, reason=None):
        """Kill QEMU (its whole process group) if it still runs."""
        if reason and not self.killed_reason:
            self.killed_reason = reason
        p = self.proc
        if p and p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        if p and p.poll() is not None:
            lifeline.forget(p.pid)
        LIVE.discard(self)
        if getattr(self, "timer", None):
            self.timer.cancel()
        if getattr(self, "reader", None) and self.reader is not threading.current_thread():
            self.reader.join(5)
        if getattr(self, "log", None) and not self.log.closed:
            with self.cond:
                self.log.close()

    def _read(self):
        fd = self.proc.stdout.fileno()
        total = 0
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            total += len(data)
            text = data.decode("utf-8", "replace").replace("\r", "")
            with self.cond:
                if not self.log.closed:
                    self.log.write(data)
                    self.log.flush()
                self.buf += text
                self.cond.notify_all()
            if self.stream:
                sys.stdout.write(text)
                sys.stdout.flush()
            if total > self.cap:
                self.flooded = True
                self.kill("output cap (%d bytes) exceeded" % self.cap)
                break
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def elapsed(self):
        return time.monotonic() - self.start_time

    def note(self, text):
        """Write a line of the harness's own into the console log."""
        with self.cond:
            if not self.log.closed:
                self.log.write(("\n# harness: %s\n" % text).encode())
                self.log.flush()

    # ---- talking to the console ----------------------------------------------
    def expect(self, regex, timeout=30, fail=PANIC):
        """Wait for regex in the output not yet consumed; return the match.

        The match consumes the output up to its end. Raises TestFailure at
        once if `fail` (default: a kernel panic) shows up first, Timeout if
        nothing matches within `timeout` seconds or QEMU ends first.
        """
        pat = re.compile(regex, re.M)
        bad = re.compile(fail) if fail else None
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = pat.search(self.buf, self.pos)
                b = bad.search(self.buf, self.pos) if bad else None
                if b and (not m or b.start() < m.end()):
                    line_end = self.buf.find("\n", b.start())
                    line = self.buf[b.start():line_end if line_end >= 0 else None]
                    raise TestFailure("kernel %s" % line.strip()[:200])
                if m:
                    self.pos = m.end()
                    return m
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    self._dump_threads()
                    why = self.killed_reason or ("QEMU exited" if self.eof else
                                                 "timeout %ss" % timeout)
                    raise Timeout("waiting for /%s/: %s; output ends: %s"
                                  % (regex, why, tail(self.buf[self.pos:] or self.buf)))
                self.cond.wait(min(left, 0.5))

    def wait_for(self, patterns, start, timeout):
        """Wait until one of the compiled regexes matches buf[start:]; for
        the grader, which scores whatever happened. Returns (index of the
        pattern, match), or (None, reason), reason "flood", "timeout" or "eof"."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i, pat in enumerate(patterns):
                    m = pat.search(self.buf, start)
                    if m:
                        return i, m
                if self.flooded:
                    return None, "flood"
                if self.eof:
                    return None, "eof"
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, "timeout"
                self.cond.wait(min(left, 0.5))

    def _dump_threads(self):
        """On a hang, type Ctrl-p once so the kernel's thread dump lands in
        the log (called with self.cond held; waits up to 1s for it)."""
        if self.eof or getattr(self, "dumped", False) or self.proc.poll() is not None:
            return
        self.dumped = True
        try:
            self.proc.stdin.write(b"\x10")
            self.proc.stdin.flush()
        except OSError:
            return
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            self.cond.wait(end - time.monotonic())
        if self.log and not self.log.closed:
            self.log.write(b"\n# harness: timed out; Ctrl-p dump requested above\n")

    def send(self, line):
        """Type a line on the console."""
        self.proc.stdin.write((line + self.EOL).encode())
        self.proc.stdin.flush()

    def boot(self, timeout=60, hooks=True):
        """Wait for the first shell prompt; return seconds since QEMU start.
        hooks: open kdebug's test hooks (arm_hooks) for the tests to come."""
        self.expect(PROMPT, timeout)
        if hooks:
            self.arm_hooks()
        return self.elapsed()

    def arm_hooks(self):
        """Type Ctrl-t: the kernel opens kdebug's test hooks until poweroff
        (kernel/proc/kdebug.c; a program cannot, only the console)."""
        self.proc.stdin.write(b"\x14")
        self.proc.stdin.flush()

    def run(self, cmd, timeout=30, fail=PANIC):
        """Type cmd into the shell and return its output (without the echo
        of the command and without the next prompt)."""
        self.send(cmd)
        self.expect(re.escape(cmd) + r"\n", timeout, fail)
        start = self.pos
        m = self.expect(PROMPT, timeout, fail)
        return self.buf[start:m.start()] + ("\n" if m.group(0).startswith("\n") else "")

    def wait_exit(self, timeout=20):
        """Wait for QEMU to end by itself; return its exit status."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill("did not exit")
            raise Timeout("QEMU did not exit within %ss; output ends: %s"
                          % (timeout, tail(self.buf)))

    def poweroff(self, timeout=20):
        """Run `poweroff` and check that QEMU exits with status 0."""
        self.send("poweroff")
        rc = self.wait_exit(timeout)
        if rc != 0:
            raise TestFailure("poweroff: QEMU exit status %s" % rc)

    def output(self):
        with self.cond:
            return self.buf

"""One QEMU boot of a built Spindle tree for one graded test: start QEMU on a
private copy of fs.img, read the console into a buffer and a log file, wait
for the prompt, type a command, and wait for a pattern under a deadline and
an output cap. QEMU is always killed on exit of the context manager.

(tests/qemu.py does the same for `make test` but has its kernel and log
paths fixed to the main tree; this one takes them as arguments.)
"""
import os
import re
import signal
import subprocess
import threading
import time

PROMPT = re.compile(r"(?:^|\n)\$ ")
PANIC = re.compile(r"panic:")


class Machine:
    def __init__(self, tree, image, log_path, cpus=3, cap=1 << 20, mem="128M"):
        self.cmd = ["qemu-system-riscv64", "-machine", "virt", "-bios", "default",
                    "-kernel", os.path.join(tree, "kernel", "kernel"), "-m", mem,
                    "-smp", str(cpus), "-nographic",
                    "-global", "virtio-mmio.force-legacy=false",
                    "-drive", "file=%s,if=none,format=raw,id=x0" % image,
                    "-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0"]
        self.log_path = log_path
        self.cap = cap
        self.buf = ""
        self.total = 0
        self.flooded = False
        self.eof = False
        self.cond = threading.Condition()
        self.proc = None

    def __enter__(self):
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        self.log = open(self.log_path, "wb")
        self.log.write(("# " + " ".join(self.cmd) + "\n").encode())
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return self

    def __exit__(self, *exc):
        self.kill()
        return False

    def kill(self):
        p = self.proc
        if p and p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        if p:
            self.reader.join(5)
        if not self.log.closed:
            with self.cond:
                self.log.close()

    def note(self, text):
        with self.cond:
            if not self.log.closed:
                self.log.write(("\n# grade: %s\n" % text).encode())
                self.log.flush()

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            with self.cond:
                self.total += len(data)
                if not self.log.closed:
                    self.log.write(data)
                    self.log.flush()
                self.buf += data.decode("utf-8", "replace").replace("\r", "")
                if self.total > self.cap:
                    self.flooded = True
                self.cond.notify_all()
            if self.flooded:
                os.killpg(self.proc.pid, signal.SIGKILL)
                break
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def wait_for(self, patterns, start, timeout):
        """Wait until one of the compiled regexes matches buf[start:].
        Returns (index of the pattern, match), or (None, reason) with reason
        "flood", "timeout" or "eof"."""
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

    def send(self, line):
        try:
            self.proc.stdin.write((line + "\n").encode())
            self.proc.stdin.flush()
        except OSError:
            pass

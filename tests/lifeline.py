"""Harness lifetime: what a harness (tests/run.py, grade/grade.py, grade.py
batch, grade/mutants.py) starts ends when the harness ends, however it ends:
a normal exit, an exception, SIGTERM, SIGINT, SIGHUP, SIGKILL, or the end of
the process that started it. Owns the lifeline process and the harness's
signal dispositions; must not kill a process or remove a folder it was not
given, and never raises into the harness's threads.

Theory. A QEMU runs in a session of its own (tests/qemu.py: the whole group
can be killed, and a Ctrl-C meant for the harness does not reach it half
way), and so does a grading's build; nothing ends them when their harness
dies: atexit hooks and `finally` do not run on SIGKILL or on a signal's
default action. Three parts close that:

1. The lifeline. watch(pid) records a process group, scratch() a temporary
   folder, with a small process started with the first record
   (`python3 tests/lifeline.py`, in a session of its own). It reads the
   records from a pipe whose only write end is in the harness. However the
   harness ends, the kernel closes that end: the lifeline reads EOF,
   SIGKILLs every group still recorded, removes every folder still
   recorded, and exits. It kills a group only if its leader is still the
   process recorded (the start time in /proc/PID/stat), so a reused pid is
   never hit.
2. guard(), called first by each harness's main: SIGTERM, SIGINT and SIGHUP
   kill the recorded groups at once and _exit (the lifeline then removes
   the folders). No exception is raised: one raised there was swallowed
   before (a thread pool's shutdown joins its workers, so a SystemExit in
   the main thread waited for every grading to finish).
3. guard() also asks the kernel for SIGTERM when the harness's parent ends
   (PR_SET_PDEATHSIG): a grade.py started by make, by a batch or mutants
   worker or by a test group ends with it, and so does all it started. The
   kernel sends it when the parent's starting THREAD ends; each of those
   starts a harness from a thread that waits for it, so that thread ends
   only when the harness has, or when its whole process dies. A harness
   started under nohup (SIGHUP ignored) was asked to outlive the shell that
   started it: it does, unless its parent is a harness too.

Left open: a process group forked in the instant before it is recorded
(between fork and watch()) outlives a harness SIGKILLed just then.
"""
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

PR_SET_PDEATHSIG = 1
HARNESS = "SPINDLE_HARNESS"         # the pid of the harness that set it (its children's parent)

_lock = threading.Lock()            # the pipe to the lifeline
_lifeline = None
_records = set()                    # pids (int), folders (str); read unlocked by the signal handler


def _start_time(pid):
    """Field 22 of /proc/PID/stat (clock ticks after boot), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2:].split()[19]


def _send(sign, what):
    """Record (+) or drop (-) a pid or a folder, starting the lifeline
    first if it is not running (then with every record)."""
    global _lifeline
    with _lock:
        (_records.add if sign == "+" else _records.discard)(what)
        lines = "%s%s\n" % (sign, what)
        if _lifeline is None or _lifeline.poll() is not None:
            _lifeline = subprocess.Popen([sys.executable, os.path.abspath(__file__)],
                                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True)
            lines = "".join("+%s\n" % r for r in _records)
        try:
            _lifeline.stdin.write(lines.encode())
            _lifeline.stdin.flush()
        except OSError:
            pass                    # it died: started again with the next record


def watch(pid):
    """Kill process group `pid` (a session leader the harness started)
    when the harness ends, unless forget(pid) came first."""
    _send("+", pid)


def forget(pid):
    """Group `pid` has ended: nothing to kill."""
    if pid in _records:
        _send("-", pid)


@contextlib.contextmanager
def scratch(prefix):
    """A temporary folder (tempfile's), removed at the end of the with, or
    by the lifeline if the harness ends first."""
    with tempfile.TemporaryDirectory(prefix=prefix) as path:
        path = os.path.abspath(path)
        assert "\n" not in path
        _send("+", path)
        try:
            yield path
        finally:
            _send("-", path)


def run(cmd, timeout, **kw):
    """Run cmd (make: its children may outlive it) in a session of its own,
    watched, its whole group killed after `timeout` seconds. Returns
    (exit status, or None on the timeout, and its stdout)."""
    with subprocess.Popen(cmd, start_new_session=True, **kw) as p:
        watch(p.pid)
        try:
            out, _ = p.communicate(timeout=timeout)
            status = p.returncode
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
            status = None
        forget(p.pid)
    return status, out


def _on_signal(signum, frame):
    """Kill every watched group and end now (no lock: see _records)."""
    for r in list(_records):
        if isinstance(r, int):
            try:
                os.killpg(r, signal.SIGKILL)
            except OSError:
                pass
    try:
        os.write(2, ("%s: %s: stopped, and all it started with it\n" % (
            os.path.basename(sys.argv[0]), signal.Signals(signum).name)).encode())
    except OSError:
        pass
    os._exit(128 + signum)


def guard():
    """For a harness's main, before it starts anything: let SIGTERM, SIGINT
    and SIGHUP (unless ignored, as nohup or a script's `&` leave them) kill
    the watched groups and end the process at once, and end with the parent
    (PR_SET_PDEATHSIG, SIGTERM). A harness under nohup outlives the shell
    that started it, unless that parent is a harness itself (HARNESS)."""
    caught = [s for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
              if signal.getsignal(s) != signal.SIG_IGN]
    for sig in caught:
        signal.signal(sig, _on_signal)
    parent = os.getppid()
    under_harness = os.environ.get(HARNESS) == str(parent)
    os.environ[HARNESS] = str(os.getpid())
    if signal.SIGHUP not in caught and not under_harness:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return                      # not Linux: the lifeline still covers it
    if os.getppid() != parent:      # the parent ended before prctl took effect
        _on_signal(signal.SIGTERM, None)


def lifeline(stream):
    """The lifeline's loop: +X records X (a pid, or a folder), -X drops it;
    at EOF kill the recorded groups whose leader is the process recorded,
    then remove the recorded folders."""
    groups, folders = {}, set()
    for line in stream:
        sign, what = line[:1], line[1:].rstrip(b"\n")
        if what.isdigit():
            pid = int(what)
            if sign == b"+":
                groups[pid] = _start_time(pid)
            else:
                groups.pop(pid, None)
        elif what.startswith(b"/"):
            (folders.add if sign == b"+" else folders.discard)(what)
    for pid, started in groups.items():
        if started is not None and _start_time(pid) == started:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
    for path in folders:
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    lifeline(sys.stdin.buffer)

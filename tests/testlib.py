"""The registry of test groups and the context a group reports through.

A test group is one function, registered with @group, that boots one or more
QEMUs and reports any number of tests. To add a group, put a module in
tests/groups/ (it is imported automatically) with:

    from testlib import group

    @group("mything", tests=["mything/a", "mything/b"], weight=10)
    def mything(ctx):
        with ctx.machine("mything") as m:          # tests/logs/mything.log
            m.boot()
            with ctx.test("mything/a"):             # PASS/FAIL with its time
                out = m.run("echo hi")
                ctx.check("hi" in out, "echo printed %r" % out)
            m.poweroff()

An exception inside `with ctx.test(...)` fails that test only; one that
escapes the group fails a test named after the group. `weight` (rough
seconds) lets the runner start long groups first.
"""
import contextlib
import os
import subprocess
import threading
import time
import traceback

from qemu import ROOT, LOGDIR, Machine, TestFailure

GROUPS = []          # registration order
_print_lock = threading.Lock()


class Group:
    def __init__(self, name, fn, tests, weight):
        self.name, self.fn, self.tests, self.weight = name, fn, tests, weight

    def selected(self, k):
        return (not k or k in self.name or not self.tests
                or any(k in t or t in k for t in self.tests))


def group(name, tests=(), weight=10):
    """Register fn as the test group `name` (tests: the names it reports,
    if known in advance; used by -k)."""
    def register(fn):
        GROUPS.append(Group(name, fn, list(tests), weight))
        return fn
    return register


class Images:
    """The disk images the run uses, made once before any group starts."""
    plain = os.path.join(LOGDIR, "fs.img")
    progs = os.path.join(LOGDIR, "fs-progs.img")
    progs_error = None


class Context:
    """What a group gets: machines, tests, checks, and the -k/-v options."""

    def __init__(self, grp, opts, results):
        self.group = grp
        self.opts = opts
        self.results = results          # shared list of (name, ok, reason, secs)
        self.images = Images
        self.idle = False               # set by a group with nothing to run

    def want(self, name):
        k = self.opts.k
        return not k or k in name or k in self.group.name

    def machine(self, name, image=None, **kw):
        kw.setdefault("stream", self.opts.verbose)
        return Machine(name, image or Images.plain, **kw)

    def report(self, name, ok, reason="", secs=0.0):
        with _print_lock:
            self.results.append((name, ok, reason, secs))
            if ok:
                print("PASS %s (%.1fs)" % (name, secs), flush=True)
            else:
                print("FAIL %s: %s" % (name, reason), flush=True)

    @contextlib.contextmanager
    def test(self, name):
        """Time the body; PASS if it returns, FAIL with the exception's text."""
        t0 = time.monotonic()
        try:
            yield
        except TestFailure as e:
            self.report(name, False, str(e))
        except Exception as e:  # a harness bug still gives a FAIL line
            self.report(name, False, "%s: %s" % (type(e).__name__, e))
            traceback.print_exc()
        else:
            self.report(name, True, secs=time.monotonic() - t0)

    @staticmethod
    def check(cond, reason):
        if not cond:
            raise TestFailure(reason)


def make(*args, timeout=600):
    """Run make in the repo root; return (ok, last lines of output)."""
    p = subprocess.run(["make", "-s"] + list(args), cwd=ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    out = p.stdout.decode(errors="replace")
    return p.returncode == 0, "\n".join(out.splitlines()[-15:])


def prepare_images(progs):
    """Snapshot kernel/kernel and fs.img (so a `make` meanwhile cannot change
    them under a running test), then build the image with the test programs
    (EXTRA_UPROGS) and put fs.img back as `make` left it."""
    import shutil
    import qemu
    os.makedirs(LOGDIR, exist_ok=True)
    snapshot = os.path.join(LOGDIR, "kernel")
    shutil.copyfile(qemu.KERNEL, snapshot)
    qemu.KERNEL = snapshot
    shutil.copyfile(os.path.join(ROOT, "fs.img"), Images.plain)
    if not progs:
        shutil.copyfile(Images.plain, Images.progs)
        return
    ok, out = make("fs.img", "EXTRA_UPROGS=" + " ".join(progs))
    if ok:
        shutil.copyfile(os.path.join(ROOT, "fs.img"), Images.progs)
    else:
        Images.progs_error = "building EXTRA_UPROGS failed:\n" + out
    ok2, out2 = make("fs.img")
    if not ok2:
        shutil.copyfile(Images.plain, os.path.join(ROOT, "fs.img"))

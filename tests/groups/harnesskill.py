"""A harness killed mid-run leaves nothing running (tests/lifeline.py):
each test starts a harness, waits until its QEMU has printed OpenSBI's
banner (so the QEMU is recorded: tests/qemu.py records it before reading
its console), sends the harness a signal and checks that every QEMU of that
run is gone, every process of the harness's session too, and the temporary
folders of the run (TMPDIR is one of the test's own), and that no grading
went on to note its test's end in the console log. The harnesses:
`python3 tests/run.py` (in a copy of this tree, so it shares no log or
image with this run), `make grade` (make forwards
SIGTERM to grade.py; a SIGKILLed make leaves grade.py to its parent-death
signal) and `grade.py batch -j 2` (two gradings at once, each in a grade.py
of its own). A QEMU of the run is one whose command line names the run's
own folder."""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import lifeline
import qemu
from qemu import ROOT, LOGDIR
from testlib import Images, group

UP_LIMIT = 900          # building a pristine tree (cold cache) and starting QEMU
GONE_LIMIT = 30         # all is gone within this (QEMU in < 1 s; the folders in 2 s at load 20)
FIXTURE = os.path.join(ROOT, "grade", "tests", "fixtures", "labs", "misbehave")
# Run argv[1:] with SIGHUP and SIGINT at their defaults, as from a terminal:
# this run may have been started with them ignored (nohup, a script's `&`),
# which a harness respects.
DEFAULTS = ("import os, signal, sys\n"
            "for s in (signal.SIGHUP, signal.SIGINT):\n"
            "    signal.signal(s, signal.SIG_DFL)\n"
            "os.execvp(sys.argv[1], sys.argv[1:])\n")
TESTS = ["run-term", "run-kill", "make-grade-term", "make-grade-kill", "batch-kill", "batch-int"]


def qemus(marker):
    """Pids of the QEMUs whose command line holds marker."""
    out = []
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(path, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"qemu-system-riscv64") and \
                any(marker.encode() in a for a in argv):
            out.append(int(path.split("/")[2]))
    return out


def in_session(sid):
    """Pids of the processes of session sid (the harness and what it
    started, but QEMU, builds and lifelines, which have sessions of their
    own)."""
    out = []
    for path in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(path) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] != "Z" and int(fields[3]) == sid:
            out.append(int(path.split("/")[2]))
    return out


def banner_in(logs):
    """How many of the console logs matching glob `logs` hold OpenSBI's banner."""
    n = 0
    for path in glob.glob(logs):
        with open(path, "rb") as f:
            n += b"OpenSBI" in f.read()
    return n


def went_on(logs):
    """The console logs (glob) in which the grader noted the test's end: a
    harness that goes on after its signal writes it; a stopped one cannot."""
    out = []
    for path in glob.glob(logs):
        with open(path, "rb") as f:
            if b"# harness: stopped:" in f.read():
                out.append(os.path.relpath(path, ROOT))
    return out


def tail(path, n=6):
    with open(path, errors="replace") as f:
        return " | ".join(f.read().strip().splitlines()[-n:])


def kill_run(ctx, name, cmd, cwd, marker, logs, sig, tmp, want=1):
    """Start cmd (a harness) in cwd, its temporary folders in one of tmp;
    once `want` of its QEMUs have printed their banner, send sig to the
    harness and check that they, the harness and its folders all go."""
    if not ctx.want("harnesskill/" + name):
        return
    with ctx.test("harnesskill/" + name):
        out_path = os.path.join(LOGDIR, "harnesskill-%s.out" % name)
        scratch = os.path.join(tmp, "scratch-" + name)
        os.makedirs(scratch)
        with open(out_path, "w") as out:
            h = subprocess.Popen([sys.executable, "-c", DEFAULTS] + cmd, cwd=cwd, stdout=out,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True, env=dict(os.environ, TMPDIR=scratch))
        try:
            end = time.monotonic() + UP_LIMIT
            while banner_in(logs) < want or len(qemus(marker)) < want:
                ctx.check(h.poll() is None, "the harness ended (status %s) before %d QEMU "
                          "started: %s" % (h.returncode, want, tail(out_path)))
                ctx.check(time.monotonic() < end, "no %d QEMU up after %d s: %s"
                          % (want, UP_LIMIT, tail(out_path)))
                time.sleep(0.1)
            running = qemus(marker)
            t0 = time.monotonic()
            os.kill(h.pid, sig)
            try:
                h.wait(GONE_LIMIT)
            except subprocess.TimeoutExpired:
                pass                        # it is in the session: said below
            while (qemus(marker) or in_session(h.pid) or os.listdir(scratch)) and \
                    time.monotonic() - t0 < GONE_LIMIT:
                time.sleep(0.05)
            left, rest, kept = qemus(marker), in_session(h.pid), os.listdir(scratch)
            gone = time.monotonic() - t0
            with open(out_path, "a") as out:
                out.write("\n# harnesskill: %s to the harness; QEMU %s -> %s left, harness "
                          "processes %s left, folders %s left after %.2f s\n"
                          % (signal.Signals(sig).name, running, left, rest, kept, gone))
            ctx.check(not left, "%s to the harness left QEMU %s running after %d s (of %s)"
                      % (signal.Signals(sig).name, left, GONE_LIMIT, running))
            ctx.check(not rest, "%s to the harness left processes of its run going after %d s: "
                      "%s" % (signal.Signals(sig).name, GONE_LIMIT, rest))
            ctx.check(not kept, "%s to the harness left its temporary folders %s after %d s"
                      % (signal.Signals(sig).name, kept, GONE_LIMIT))
            ctx.check(not went_on(logs), "%s to the harness: the grading went on to the test's "
                      "end (%s)" % (signal.Signals(sig).name, ", ".join(went_on(logs))))
        finally:
            try:
                os.killpg(h.pid, signal.SIGKILL)
            except OSError:
                pass
            h.wait()
            for pid in qemus(marker):
                os.kill(pid, signal.SIGKILL)


def copy_tree(dst):
    """What tests/run.py needs of this tree (tests/, tools/, and this run's
    snapshots of the kernel and fs.img), without tests/logs, which other
    groups write meanwhile, and the test programs of tests/extra (so it
    builds nothing)."""
    skip = {os.path.join(ROOT, "tests", x) for x in ("logs", "extra")}
    for top in ("tests", "tools"):
        shutil.copytree(os.path.join(ROOT, top), os.path.join(dst, top), symlinks=True,
                        ignore=lambda d, names: {n for n in names if n == "__pycache__"
                                                 or os.path.join(d, n) in skip})
    os.makedirs(os.path.join(dst, "kernel"))
    shutil.copyfile(qemu.KERNEL, os.path.join(dst, "kernel", "kernel"))
    shutil.copyfile(Images.plain, os.path.join(dst, "fs.img"))


def fixture_lab(labs):
    """The misbehave fixture lab with only its test that never ends, given
    a long timeout: its QEMU lives until someone ends it. Its pristine tree
    is the fixture's (the same programs), so grader/e2e's cached build
    serves it."""
    lab = os.path.join(labs, "misbehave")
    shutil.copytree(os.path.join(FIXTURE, "tests"), os.path.join(lab, "tests"))
    with open(os.path.join(FIXTURE, "lab.json")) as f:
        spec = json.load(f)
    spec["tests"] = [dict(t, timeout=600) for t in spec["tests"] if t["name"] == "hang"]
    with open(os.path.join(lab, "lab.json"), "w") as f:
        json.dump(spec, f)


@group("harnesskill", tests=["harnesskill/" + t for t in TESTS], weight=60)
def harnesskill(ctx):
    with lifeline.scratch("spindle-harnesskill-") as tmp:
        tree = os.path.join(tmp, "tree")
        if ctx.want("harnesskill/run-"):
            copy_tree(tree)
        for sig, name in ((signal.SIGTERM, "run-term"), (signal.SIGKILL, "run-kill")):
            kill_run(ctx, name, [sys.executable, "tests/run.py", "-k", "racetests"], tree,
                     tree, os.path.join(tree, "tests", "logs", "racetests.log"), sig, tmp)

        with open(os.path.join(ROOT, "labs", "ORDER")) as f:
            lab = f.read().split()[0]
        with open(os.path.join(ROOT, "labs", lab, "lab.json")) as f:
            test = json.load(f)["tests"][0]["name"]
        logs = os.path.join(ROOT, "grade-logs", lab)
        for sig, name in ((signal.SIGTERM, "make-grade-term"), (signal.SIGKILL, "make-grade-kill")):
            kill_run(ctx, name, ["make", "-s", "grade", "LAB=" + lab, "TEST=" + test], ROOT,
                     os.path.join(logs, test + ".img"), os.path.join(logs, test + ".log"), sig, tmp)

        labs, subs, out = (os.path.join(tmp, x) for x in ("labs", "subs", "out"))
        fixture_lab(labs)
        for sub in ("a", "b"):
            os.makedirs(os.path.join(subs, sub))
            with open(os.path.join(subs, sub, "notes.txt"), "w") as f:
                f.write("submission %s\n" % sub)
        for sig, name in ((signal.SIGKILL, "batch-kill"), (signal.SIGINT, "batch-int")):
            shutil.rmtree(out, ignore_errors=True)
            kill_run(ctx, name, [sys.executable, os.path.join(ROOT, "grade", "grade.py"), "batch",
                                 subs, "--lab", "misbehave", "-j", "2", "--labs-dir", labs,
                                 "--out", out], ROOT, out,
                     os.path.join(out, "logs", "*", "misbehave", "hang.log"), sig, tmp, want=2)

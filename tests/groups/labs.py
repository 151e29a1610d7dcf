"""The lab invariant, for every lab named in labs/ORDER (a group lab-NAME
each, and mutants-NAME for its mutants):

- labs/NAME/full:    `grade/grade.py --lab NAME` on this tree scores full marks;
- labs/NAME/handout: `tools/handout.py --lab NAME` makes a student tree that
                     builds, boots and scores LESS than full marks on the
                     same tests (the hole is real and the tests notice it).

grade.py builds its own private copy of the tree, so this group never touches
the repository's build/ or fs.img. The two gradings of a lab run in parallel
(each boots one QEMU at a time).
"""
import os
import re
import subprocess
import sys
import tempfile
import threading

from qemu import ROOT
from testlib import group

TIMEOUT = 900


def lab_order():
    try:
        with open(os.path.join(ROOT, "labs", "ORDER")) as f:
            names = [line.split("#")[0].strip() for line in f]
    except OSError:
        return []
    return [n for n in names if n]


def grade(repo, lab, logs, out):
    """Grade `repo` on `lab`; out[...] gets (exit status, total, max, text)."""
    cmd = [sys.executable, os.path.join(ROOT, "grade", "grade.py"), "--lab", lab,
           "--repo", repo, "--logs", logs]
    try:
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=TIMEOUT)
        text, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired:
        text, rc = "grade.py timed out", -1
    m = re.search(r"^TOTAL\s+(\S+)\s+(\S+)\s*$", text, re.M)
    total, most = (float(m.group(1)), float(m.group(2))) if m else (None, None)
    out.update(rc=rc, total=total, most=most, text=text)


def tail(text, n=4):
    return " | ".join(l.strip() for l in text.strip().splitlines()[-n:])


def lab_of(lab):
    """labs/LAB/full and labs/LAB/handout: a group of its own per lab
    (lab-LAB), so the labs grade beside other groups instead of one after
    another."""
    def run(ctx):
        full_name, hand_name = "labs/%s/full" % lab, "labs/%s/handout" % lab
        if not ctx.want(full_name) and not ctx.want(hand_name):
            ctx.idle = True
            return
        with tempfile.TemporaryDirectory(prefix="spindle-labs-") as tmp:
            logdir = os.path.join(ROOT, "tests", "logs", "labs", lab)
            hand = os.path.join(tmp, "handout")
            made = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "handout.py"),
                                   "--lab", lab, "--out", hand], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            full, part = {}, {}
            jobs = [threading.Thread(target=grade, args=(ROOT, lab, os.path.join(logdir, "full"), full))]
            if made.returncode == 0:
                jobs.append(threading.Thread(target=grade,
                                             args=(hand, lab, os.path.join(logdir, "handout"), part)))
            for j in jobs:
                j.start()
            for j in jobs:
                j.join()
            with ctx.test(full_name):
                ctx.check(full["total"] is not None, "no score: " + tail(full["text"]))
                ctx.check(full["rc"] == 0 and full["total"] >= full["most"],
                          "main tree scored %s of %s: %s" % (full["total"], full["most"],
                                                             tail(full["text"], 12)))
            with ctx.test(hand_name):
                ctx.check(made.returncode == 0, "handout.py failed: " + tail(made.stdout))
                ctx.check(part["total"] is not None, "no score: " + tail(part["text"]))
                ctx.check(not re.search(r"build (failed|timed out)|no Makefile|cannot copy",
                                        part["text"]),
                          "handout does not build: " + tail(part["text"]))
                bad = re.search(r"did not boot to the shell prompt|kernel panic.*", part["text"])
                ctx.check(bad is None, "handout: %s" % (bad.group(0) if bad else ""))
                ctx.check(part["total"] < part["most"],
                          "handout scored full marks (%s): the stub does not leave a hole"
                          % part["total"])
    return run


MUTANTS_TIMEOUT = 1800


def mutants_of(lab):
    """labs/LAB/mutants: every in-tree mutant of the lab loses points
    (grade/mutants.py --quick: each mutant's caught-by tests first). A
    group of its own per lab, so the labs' mutants run beside other groups."""
    def run(ctx):
        name = "labs/%s/mutants" % lab
        if not ctx.want(name):
            ctx.idle = True
            return
        logdir = os.path.join(ROOT, "tests", "logs", "mutants")
        os.makedirs(logdir, exist_ok=True)
        cmd = [sys.executable, os.path.join(ROOT, "grade", "mutants.py"), "--lab", lab,
               "--quick", "-j", "1", "--logs", logdir]
        with ctx.test(name):
            try:
                p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, timeout=MUTANTS_TIMEOUT)
                text, rc = p.stdout, p.returncode
            except subprocess.TimeoutExpired:
                text, rc = "mutants.py timed out (%d s)" % MUTANTS_TIMEOUT, -1
            with open(os.path.join(logdir, lab + ".txt"), "w") as f:
                f.write(text)
            fails = re.findall(r"^mutants: .*$", text, re.M)
            ctx.check(rc == 0, "; ".join(fails) or tail(text))
    return run


for _lab in lab_order():
    group("lab-" + _lab, tests=["labs/%s/full" % _lab, "labs/%s/handout" % _lab], weight=150)(lab_of(_lab))
    if os.path.isdir(os.path.join(ROOT, "labs", _lab, "mutants")):
        group("mutants-" + _lab, tests=["labs/%s/mutants" % _lab], weight=150)(mutants_of(_lab))

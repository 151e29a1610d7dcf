"""Preparing and building a submission in a private directory: copy the
submission (never building in place), copy the pristine grade/, the lab's
tests and every protected file over it, copy hidden test programs in, and run
make with the lab's test programs as EXTRA_UPROGS. Also runs one test on the
built tree (run_test): a fresh QEMU per test on a copy of fs.img.
"""
import os
import re
import secrets
import shutil
import subprocess

import machine
import score
import spec as specmod

ROOT = specmod.ROOT
SKIP_TOP = {".git", "build", "grade-logs", "fs.img", ".gdbport"}
SKIP_ANY = {"__pycache__", ".git"}
BUILD_TIMEOUT = 600
BOOT_TIMEOUT = 60


class BuildError(Exception):
    """The submission could not be prepared or built; str() is the reason."""


def _ignore(root):
    def ignore(d, names):
        rel = os.path.relpath(d, root)
        skip = set(n for n in names if n in SKIP_ANY)
        if rel == ".":
            skip |= SKIP_TOP & set(names)
        if rel == "kernel":
            skip |= {"kernel"} & set(names)
        if rel == "tests":
            skip |= {"logs"} & set(names)
        return skip
    return ignore


def _replace(src, dst):
    if os.path.isdir(dst) and not os.path.islink(dst):
        shutil.rmtree(dst)
    elif os.path.lexists(dst):
        os.remove(dst)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.isdir(src):
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copy2(src, dst)


def prepare(submission, spec, work, pristine=ROOT):
    """Copy submission to work/tree with the pristine files over it and
    return (tree, extra_uprogs) with paths relative to the tree."""
    if not os.path.isfile(os.path.join(submission, "Makefile")):
        raise BuildError("no Makefile at the top of the submission")
    tree = os.path.join(work, "tree")
    if os.path.exists(tree):
        shutil.rmtree(tree)
    try:
        shutil.copytree(submission, tree, symlinks=True, ignore=_ignore(submission))
    except (OSError, shutil.Error) as e:
        raise BuildError("cannot copy the submission: %s" % e)
    _replace(os.path.join(pristine, "grade"), os.path.join(tree, "grade"))
    lab_dst = os.path.join(tree, "labs", spec["name"])
    if os.path.isdir(os.path.join(spec["dir"], "tests")):
        _replace(os.path.join(spec["dir"], "tests"), os.path.join(lab_dst, "tests"))
    for rel in spec["protected"]:
        src = os.path.join(pristine, rel)
        if os.path.exists(src):
            _replace(src, os.path.join(tree, rel))
    extra = []
    for prog in spec["programs"]:
        if prog["hidden"]:
            rel = os.path.join(".grade-hidden", os.path.basename(prog["path"]))
        else:
            rel = os.path.join("labs", spec["name"], prog["rel"])
        dst = os.path.join(tree, rel)
        if not os.path.exists(dst) or prog["hidden"]:
            _replace(prog["path"], dst)
        extra.append(rel)
    return tree, extra


def build(tree, extra, log_path, jobs=2):
    """make kernel/kernel fs.img in tree; BuildError with the last lines of
    the output if it fails."""
    cmd = ["make", "-j%d" % jobs, "kernel/kernel", "fs.img", "EXTRA_UPROGS=" + " ".join(extra)]
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "wb") as log:
        log.write(("# " + " ".join(cmd) + "\n").encode())
        log.flush()
        try:
            rc = subprocess.run(cmd, cwd=tree, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, timeout=BUILD_TIMEOUT).returncode
        except subprocess.TimeoutExpired:
            raise BuildError("build timed out (%ds)" % BUILD_TIMEOUT)
    if rc != 0:
        with open(log_path, errors="replace") as f:
            tail = "".join(f.readlines()[-15:])
        raise BuildError("build failed (make exit %d):\n%s" % (rc, tail))


def command_line(test, token):
    return " ".join([test["run"], "--token", token] + [str(a) for a in test["args"]])


def run_test(tree, test, log_path):
    """Boot a fresh QEMU, run the test's command and score it."""
    token = secrets.token_hex(8)
    image = log_path[:-len(".log")] + ".img" if log_path.endswith(".log") else log_path + ".img"
    shutil.copyfile(os.path.join(tree, "fs.img"), image)
    end = re.compile(r"GRADE %s END \d+" % token)
    try:
        with machine.Machine(tree, image, log_path, cpus=test["cpus"], cap=test["output_cap"]) as m:
            i, r = m.wait_for([machine.PROMPT, machine.PANIC], 0, BOOT_TIMEOUT)
            if i != 0:
                m.note("no shell prompt (%s)" % (r if i is None else "panic"))
                return score.evaluate(test, token, m.buf, "flood" if r == "flood" else "noboot")
            start = r.end()
            m.note("running test %s: %s" % (test["name"], command_line(test, token)))
            m.send(command_line(test, token))
            i, r = m.wait_for([end, machine.PANIC, re.compile(r"\n\$ ")], start, test["timeout"])
            killed = r if i is None and r in ("flood", "timeout") else None
            if i == 0:      # end line: catch a panic while the program exits
                m.wait_for([machine.PANIC, re.compile(r"\n\$ ")], r.end(), 5)
            m.note("stopped: %s" % ({0: "end line", 1: "panic", 2: "prompt"}.get(i) or r))
            return score.evaluate(test, token, m.buf[start:], killed)
    finally:
        if os.path.exists(image):
            os.remove(image)

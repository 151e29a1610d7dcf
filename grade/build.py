"""Preparing and building a submission: a fresh tree made from the pristine
source (the lab's handout of the harness's own tree, the lab's tests and any
hidden tests), with only the files the student owns (lab.json
"student_files") copied in from the submission, then `make` with the lab's
test programs as EXTRA_UPROGS. Nothing else of the submission is read into
the tree or run: its Makefile, tools/ and host programs never are. Also runs
one test on the built tree (run_test): a fresh QEMU per test on a copy of
fs.img.

Must not: write into the submission, follow a symbolic link in it, or take
a file outside the student's list.
"""
import fcntl
import filecmp
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

import fsimage
import score
import spec as specmod
from answers import flat_names, regular_file, submitted

ROOT = specmod.ROOT
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import handout  # noqa: E402
import integrity  # noqa: E402
import lifeline  # noqa: E402
import qemu  # noqa: E402

SKIP_TOP = {".git", "build", "grade-logs", "fs.img", ".gdbport", "kernel/kernel", "tests/logs"}
MAX_FILE = 1 << 20
CACHE = os.path.join("build", "grade-cache")    # under the harness's tree (make clean removes it)
CACHE_KEEP = 6
PRISTINE_TIME = 946684800                       # 2000-01-01: the pristine sources' mtime
BUILD_TIMEOUT = 600
BOOT_TIMEOUT = 60
PROMPT = re.compile(qemu.PROMPT)
PANIC = score.PANIC
ICOUNT = ["-icount", "shift=0"]             # a test's "icount": guest time counts instructions


class BuildError(Exception):
    """The submission could not be prepared or built; str() is the reason
    (its first line is the status: "refused ...", "INTEGRITY: ..." or
    "build failed: ..."). student: the reason is about the student's files."""
    def __init__(self, reason, student=True):
        super().__init__(reason)
        self.student = student


def student_mode(labs, lab):
    """Markers in a student file (the instructor's own tree has them): the
    regions of this lab and the earlier ones keep their solution."""
    index = labs.index(lab) if lab in labs else -1

    def mode(name):
        if name not in labs:
            raise handout.HandoutError("marker names unknown lab %r" % name)
        return "solution" if labs.index(name) <= index else "stub"
    return mode


def _copy(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.isdir(src):
        shutil.copytree(src, dst, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copyfile(src, dst)


def pristine(spec, tree, source=ROOT):
    """Write the lab's pristine tree (no student file yet) into tree and
    return the EXTRA_UPROGS paths of its test programs."""
    labs = specmod.lab_names(os.path.join(source, "labs"))
    handout.make_handout(source, spec["name"], tree, any_lab=True,
                         released=handout.earlier(labs, spec["name"]), in_student_files=True)
    lab_dst = os.path.join(tree, "labs", spec["name"])
    if os.path.isdir(os.path.join(spec["dir"], "tests")):
        _copy(os.path.join(spec["dir"], "tests"), os.path.join(lab_dst, "tests"))
    extra = []
    for prog in spec["programs"]:
        if prog["hidden"]:
            rel = os.path.join(".grade-hidden", os.path.basename(prog["path"]))
        else:
            rel = os.path.join("labs", spec["name"], prog["rel"])
        _copy(prog["path"], os.path.join(tree, rel))
        extra.append(rel)
    return extra


def take_student_files(submission, spec, tree, source=ROOT):
    """Copy the student's files from submission into tree (the others stay
    pristine). Returns notes (lines for the log); BuildError for a file that
    must be refused."""
    labs = specmod.lab_names(os.path.join(source, "labs"))
    mode = student_mode(labs, spec["name"])
    notes = []
    for rel in spec["student_files"]:
        found = submitted(submission, rel, spec["student_files"])
        path, why = regular_file(submission, found, MAX_FILE)
        if why == "missing":
            notes.append("student file %s: not in the submission; the handout's is used" % rel)
            continue
        if path is None:
            raise BuildError("refused %s: %s" % (found, why))
        if found != rel:
            notes.append("student file %s: taken from %s at the submission's top" % (rel, found))
        with open(path, "rb") as f:
            data = f.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        lead = handout.comment_of(rel)
        if text is not None and lead and "LAB" in text:
            try:
                data = handout.transform(text, lead, mode, rel).encode("utf-8")
            except handout.HandoutError:
                pass                       # not our markers: the file as it is
        dst = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst) and not os.path.isfile(dst):
            raise BuildError("refused %s: the handout has a folder there" % rel)
        with open(dst, "wb") as f:
            f.write(data)
        notes.append("student file %s: taken" % rel)
    if spec["student_files"] and not any(n.endswith(": taken") for n in notes):
        raise BuildError("no student file of this lab in the submission (looked for %s)"
                         % ", ".join(spec["student_files"]))
    return notes


def other_labs_files(spec, source=ROOT):
    """The student files of the source tree's other labs: a submission's
    earlier labs (graded on the reference's) and later ones differ from the
    pristine tree by design, which is not worth a warning."""
    labs = [x for x in specmod.lab_names(os.path.join(source, "labs")) if x != spec["name"]]
    return handout.student_files(source, labs) - set(spec["student_files"])


def ignored_files(submission, spec, tree, source=ROOT):
    """Files of the submission that differ from the pristine tree but are
    not the student's: they are ignored (listed so the student learns it).
    Other labs' student files are left out of the list."""
    own = set(spec["student_files"]) | other_labs_files(spec, source)
    own |= {name for name, rel in flat_names(spec["student_files"]).items()
            if submitted(submission, rel, spec["student_files"]) == name}
    out = []
    for d, dirs, files in os.walk(submission):
        rel_d = os.path.relpath(d, submission)
        rel_d = "" if rel_d == "." else rel_d + "/"
        dirs[:] = sorted(x for x in dirs if x not in ("__pycache__", ".git")
                         and rel_d + x not in SKIP_TOP)
        for name in sorted(files + [x for x in dirs if os.path.islink(os.path.join(d, x))]):
            rel = rel_d + name
            if rel in own or rel in SKIP_TOP:
                continue
            path, mine = os.path.join(d, name), os.path.join(tree, rel)
            if os.path.islink(path) or not os.path.isfile(path):
                out.append(rel + " (not a regular file)")
            elif not os.path.isfile(mine):
                out.append(rel + " (not in the handout)")
            elif not filecmp.cmp(path, mine, shallow=False):
                out.append(rel)
    return out


def tree_key(tree):
    """A digest of every file (path and content) of a pristine tree."""
    h = hashlib.sha256()
    for d, dirs, files in os.walk(tree):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(d, name)
            h.update(os.path.relpath(path, tree).encode() + b"\0")
            with open(path, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()[:16]


def cached_build(tree, extra, key, log_path, cache, own=()):
    """Give tree the objects of an earlier build of the same pristine tree
    (cache/<key>), or build it and keep a copy there, so a submission
    recompiles only its student files. One grader builds a key at a time
    (the others wait for it, then copy). Built from pristine files only:
    nothing of a submission ever enters the cache."""
    entry = os.path.join(cache, key)
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, "." + key + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isdir(entry):
            try:
                shutil.copytree(entry, tree, symlinks=True, dirs_exist_ok=True)
                return "pristine build reused (cache %s)" % key
            except (OSError, shutil.Error):
                pass                            # being pruned: build afresh
        build(tree, extra, log_path, own)
        tmp = tempfile.mkdtemp(prefix="." + key, dir=cache)
        try:
            for rel in ("build", "kernel/kernel", "fs.img"):
                src, dst = os.path.join(tree, rel), os.path.join(tmp, rel)
                if os.path.isdir(src):
                    shutil.copytree(src, dst, symlinks=True)
                else:
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    shutil.copy2(src, dst)
            os.rename(tmp, entry)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    old = sorted((os.path.getmtime(os.path.join(cache, e)), e) for e in os.listdir(cache)
                 if not e.startswith("."))
    for _, e in old[:-CACHE_KEEP]:
        shutil.rmtree(os.path.join(cache, e), ignore_errors=True)
    return "pristine build kept (cache %s)" % key


def prepare(submission, spec, work, source=ROOT, log_path=os.devnull):
    """Make work/tree: the pristine tree (already built, from the cache when
    it can) with the student's files in it. Returns (tree, extra_uprogs,
    notes, ignored)."""
    if not os.path.isdir(submission):
        raise BuildError("the submission is not a folder")
    tree = os.path.join(work, "tree")
    if os.path.exists(tree):
        shutil.rmtree(tree)
    extra = pristine(spec, tree, source)
    for d, _, files in os.walk(tree):           # older than any object, cached or not
        for name in files:
            os.utime(os.path.join(d, name), (PRISTINE_TIME, PRISTINE_TIME))
    key = tree_key(tree) + "-" + hashlib.sha256(" ".join(extra).encode()).hexdigest()[:8]
    try:
        notes = [cached_build(tree, extra, key, log_path, os.path.join(source, CACHE),
                              spec["student_files"])]
    except BuildError as e:
        if not e.student:        # a harness run from a student's own tree builds its files
            raise BuildError("the pristine tree does not build (harness error): %s" % e, False)
        raise
    time.sleep(0.01)        # student files are newer than any object, for make
    notes += take_student_files(submission, spec, tree, source)
    check_sources(tree, spec)
    return tree, extra, notes, ignored_files(submission, spec, tree, source)


def _taken(spec, tree):
    return [rel for rel in spec["student_files"] if os.path.isfile(os.path.join(tree, rel))]


def check_sources(tree, spec):
    """The preprocessor checks of the student's files (integrity.py):
    BuildError "refused ..." or "INTEGRITY: ..."."""
    try:
        integrity.check_sources(tree, spec, _taken(spec, tree))
    except integrity.Refused as e:
        raise BuildError("refused %s" % e)
    except integrity.Integrity as e:
        raise BuildError("%s: %s" % (score.INTEGRITY, e))


def check_objects(tree, spec):
    """After the build: what the student's objects call (integrity.py);
    notes for files.log, or BuildError "INTEGRITY: ..."."""
    try:
        return integrity.check_calls(tree, spec, _taken(spec, tree))
    except integrity.Integrity as e:
        raise BuildError("%s: %s" % (score.INTEGRITY, e))


def missing_tools():
    """The tools grading needs that this machine lacks, by name. Grading
    installs nothing (an install that fails would score every test 0):
    tools/deps.sh installs them beforehand (Gradescope's setup.sh runs it)."""
    missing = [cmd for cmd in ("make", "cc", "qemu-system-riscv64") if not shutil.which(cmd)]
    prefix = qemu.found("cc")
    if not prefix or not shutil.which(prefix + "gcc"):
        missing.append("a RISC-V gcc (riscv64-*-gcc)")
    if not qemu.found("opensbi"):
        missing.append("OpenSBI's generic fw_dynamic.bin")
    return missing


def check_tools():
    """BuildError (a harness error, not the student's) naming what is missing."""
    missing = missing_tools()
    if missing:
        raise BuildError("harness error: missing on the grading machine: %s (grading installs "
                         "nothing; run tools/deps.sh cc qemu opensbi first, as Gradescope's "
                         "setup.sh does)" % ", ".join(missing), student=False)


def first_error(text):
    """The compiler's (or linker's, or make's) first error line of a build
    log, for the one-line status."""
    for pat in (r"^\S+:\d+:(?:\d+:)? (?:fatal )?error: .*$", r"^.*(?:undefined reference|"
                r"multiple definition).*$", r"^.*\berror\b.*$"):
        m = re.search(pat, text, re.M)
        if m:
            return m.group(0).strip()[:200]
    return None


def build(tree, extra, log_path, own=(), jobs=2):
    """make kernel/kernel fs.img in tree, the output appended to log_path
    with host paths elided. BuildError if it fails: the compiler's first
    errors about the student's files (own), or (student=False) the first
    error of another file."""
    cmd = ["make", "-j%d" % jobs, "kernel/kernel", "fs.img", "EXTRA_UPROGS=" + " ".join(extra)]
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    rc, out = lifeline.run(cmd, BUILD_TIMEOUT, cwd=tree, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    text = out.decode("utf-8", "replace")
    with open(log_path, "a") as log:
        log.write(integrity.elide("# make kernel/kernel fs.img\n" + text, tree))
    if rc is None:
        raise BuildError("build timed out (%ds)" % BUILD_TIMEOUT)
    if rc == 0:
        return
    mine = integrity.diagnostics(text, set(own), tree)
    if mine:
        raise BuildError("build failed: %s\n%s" % (first_error(mine) or mine.splitlines()[0], mine))
    first = first_error(integrity.elide(text, tree)) or "make exit %d" % rc
    raise BuildError("build failed: %s" % first, student=False)


def command_line(test, token):
    return " ".join([test["run"], "--token", token] + [str(a) for a in test["args"]])


def run_test(tree, test, log_path):
    """Boot a fresh QEMU, run the test's command and score it."""
    token = secrets.token_hex(8)
    image = log_path[:-len(".log")] + ".img" if log_path.endswith(".log") else log_path + ".img"
    end = re.compile(r"GRADE %s END \d+" % token)
    with qemu.Machine(os.path.basename(log_path), os.path.join(tree, "fs.img"), cpus=test["cpus"],
                      kernel=os.path.join(tree, "kernel", "kernel"), log_path=log_path,
                      image_copy=image, cap=test["output_cap"], extra=ICOUNT if test["icount"] else (),
                      timeout=BOOT_TIMEOUT + test["timeout"] + 30) as m:
        try:
            i, r = m.wait_for([PROMPT, PANIC], 0, BOOT_TIMEOUT)
            if i != 0:
                m.note("no shell prompt (%s)" % (r if i is None else "panic"))
                return score.evaluate(test, token, m.buf, "flood" if r == "flood" else "noboot")
            start = r.end()
            m.arm_hooks()           # the tests' kdebug hooks (kernel/proc/kdebug.c)
            m.note("running test %s: %s" % (test["name"], command_line(test, token)))
            sent = time.monotonic()
            m.send(command_line(test, token))
            i, r = m.wait_for([end, PANIC, re.compile(r"\n\$ ")], start, test["timeout"])
            # under -icount the guest's clock counts instructions (1 ns each),
            # which may run ahead of the host's: grade_end()'s wait sets no floor
            took = time.monotonic() - sent if i == 0 and not test["icount"] else None
            killed = r if i is None and r in ("flood", "timeout") else None
            if i == 0:      # end line: catch a panic, or more lines, while the program exits
                m.wait_for([PANIC, re.compile(r"\n\$ ")], r.end(), 5)
            m.note("stopped: %s" % ({0: "end line", 1: "panic", 2: "prompt"}.get(i) or r))
            disk_end = None
            if i == 0:
                data = fsimage.read_file(image, score.END_FILE)
                disk_end = data.decode("utf-8", "replace") if data is not None else ""
                m.note("fs.img %s: %s" % (score.END_FILE, disk_end.strip()[:60] or "none"))
            return score.evaluate(test, token, m.buf[start:], killed, took, disk_end)
        finally:
            m.kill()
            if os.path.exists(image):
                os.remove(image)
            _elide_log(log_path, tree)


def _elide_log(path, tree):
    """Host paths out of the harness's own lines (# ...) of a test log."""
    if not os.path.exists(path):
        return
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    for i, line in enumerate(lines):
        if line.startswith(b"# "):
            lines[i] = integrity.elide(line.decode("utf-8", "replace"), tree).encode()
    with open(path, "wb") as f:
        f.write(b"\n".join(lines))

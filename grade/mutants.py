#!/usr/bin/env python3
"""Grading a lab's mutants: plausible wrong solutions kept beside its tests
(labs/<lab>/mutants/<name>.patch), each of which must lose points.

    python3 grade/mutants.py --lab NAME [--only MUTANT]... [-j N] [--runs K]
                             [--quick] [--reference N] [--logs DIR] [--dir DIR]

A mutant is a unified diff (`patch -p1`, paths from the tree's root) against
the lab's student files as they are in this tree (markers included). Its
first lines say what it is:

    # the mistake it makes, in one line
    # caught-by: test [test...]     (optional: the tests meant to catch it)

For each mutant the tree's student files (answers file included, so the
answers check gives its full points) are copied into a fresh submission
folder, the patch is applied, and grade.py grades the folder like any
student's. The table gives each mutant's score and the tests that lost
points. --quick runs only a mutant's caught-by tests (CI uses it: one boot
a mutant), falling back to every test when those keep full marks. --runs K
grades each mutant K times and marks one whose scores differ as unstable.
--reference N grades the unchanged student files N times first; each must
get full marks. --dir DIR takes the mutants from DIR/<lab>/ instead (a set
kept apart from the tree's, as docs/instructor/apart/).

Exit status: 0 if the reference (when asked) got full marks every time and
every mutant lost points in every run, 1 otherwise, 2 for a usage error or a
patch that does not apply.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import spec as specmod  # noqa: E402

ROOT = specmod.ROOT
sys.path.insert(0, os.path.join(ROOT, "tests"))
import lifeline  # noqa: E402
GRADE = os.path.join(ROOT, "grade", "grade.py")
GRADE_TIMEOUT = 1800


class MutantError(Exception):
    """A mutant cannot be graded (its patch does not apply, say)."""


def read_mutant(path):
    """(name, mistake, caught_by) from a mutant's leading '#' lines."""
    name = os.path.splitext(os.path.basename(path))[0]
    mistake, caught_by = "", []
    with open(path) as f:
        for line in f:
            if not line.startswith("#"):
                break
            text = line[1:].strip()
            if text.lower().startswith("caught-by:"):
                caught_by = text.split(":", 1)[1].split()
            elif not mistake:
                mistake = text
    return name, mistake, caught_by


def mutant_paths(folder, only=None):
    if not os.path.isdir(folder):
        return []
    paths = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".patch"))
    if only:
        paths = [p for p in paths if read_mutant(p)[0] in only]
    return paths


def submission(spec, repo, folder, patch=None):
    """Fill folder with repo's student files of the lab, then apply patch."""
    for rel in spec["student_files"]:
        src = os.path.join(repo, rel)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(folder, rel)), exist_ok=True)
            shutil.copyfile(src, os.path.join(folder, rel))
    if patch is None:
        return
    with open(patch) as f:
        p = subprocess.run(["patch", "-p1", "--batch", "--forward", "--no-backup-if-mismatch",
                            "-r", "-", "-d", folder], stdin=f, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise MutantError("%s does not apply: %s" % (os.path.relpath(patch, ROOT),
                                                     " | ".join(p.stdout.strip().splitlines()[-3:])))
    for rel in _changed_files(patch):
        if rel not in spec["student_files"]:
            raise MutantError("%s changes %s, which is not a student file of lab %s"
                              % (os.path.relpath(patch, ROOT), rel, spec["name"]))


def _changed_files(patch):
    with open(patch) as f:
        return [line[6:].split("\t")[0].strip() for line in f if line.startswith("+++ b/")]


def grade(lab, folder, logs, tests=()):
    """Grade folder on lab (only `tests` if given): (score, max, lost, status)
    where lost lists the tests that did not get full marks."""
    out = os.path.join(logs, "results.json")
    cmd = [sys.executable, GRADE, "--lab", lab, "--repo", folder, "--logs", logs, "--json", out]
    for t in tests:
        cmd += ["--test", t]
    os.makedirs(logs, exist_ok=True)
    with open(os.path.join(logs, "grade.out"), "w") as f:
        try:
            subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=GRADE_TIMEOUT)
        except subprocess.TimeoutExpired:
            return None, None, [], "grade.py timed out"
    try:
        with open(out) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None, None, [], "no results (see %s)" % os.path.join(logs, "grade.out")
    rows = doc["tests"]
    lost = [r["name"].split("/", 1)[1] for r in rows if r["score"] < r["max_score"]]
    return (sum(r["score"] for r in rows), sum(r["max_score"] for r in rows), lost,
            doc.get("extra_data", {}).get("status", ""))


def grade_mutant(spec, repo, path, logs, quick):
    """Grade one mutant once: a result dict."""
    name, mistake, caught_by = read_mutant(path)
    t0 = time.monotonic()
    with lifeline.scratch("spindle-mutant-") as tmp:
        folder = os.path.join(tmp, "submission")
        submission(spec, repo, folder, path)
        score = None
        if quick and caught_by:
            score, most, lost, status = grade(spec["name"], folder, logs, caught_by)
            if score is not None and score >= most:
                score = None                 # its catchers missed it: try every test
        if score is None:
            score, most, lost, status = grade(spec["name"], folder, logs)
    return dict(name=name, mistake=mistake, score=score, most=most, lost=lost, status=status,
                elapsed=time.monotonic() - t0)


def grade_reference(spec, repo, logs):
    t0 = time.monotonic()
    with lifeline.scratch("spindle-reference-") as tmp:
        folder = os.path.join(tmp, "submission")
        submission(spec, repo, folder)
        score, most, lost, status = grade(spec["name"], folder, logs)
    return dict(name="(reference)", mistake="the tree's own solution", score=score, most=most,
                lost=lost, status=status, elapsed=time.monotonic() - t0)


def _num(x):
    return "-" if x is None else ("%.2f" % x).rstrip("0").rstrip(".")


def row(runs):
    """A table line for one mutant's runs, and whether it is unstable."""
    first = runs[0]
    scores = [r["score"] for r in runs]
    unstable = len(set(scores)) > 1
    lost = sorted({t for r in runs for t in r["lost"]})
    score = " ".join(_num(s) for s in scores) + " / " + _num(first["most"])
    note = " UNSTABLE" if unstable else ""
    return ("%-28s %-16s %-30s %s%s" % (first["name"], score, ",".join(lost) or "-",
                                        first["mistake"], note), unstable)


def main(argv):
    lifeline.guard()          # a signal, or the parent's end, ends every grading at once
    ap = argparse.ArgumentParser(prog="mutants.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--lab", help="the lab whose mutants to grade (default: every lab)")
    ap.add_argument("--only", action="append", help="grade only this mutant (repeatable)")
    ap.add_argument("-j", type=int, default=2, help="mutants graded at once (default 2)")
    ap.add_argument("--runs", type=int, default=1, help="grade each mutant this many times")
    ap.add_argument("--quick", action="store_true", help="only each mutant's caught-by tests")
    ap.add_argument("--reference", type=int, default=0, metavar="N",
                    help="first grade the unchanged student files N times")
    ap.add_argument("--repo", default=ROOT, help=argparse.SUPPRESS)
    ap.add_argument("--logs", help="log folder: DIR/LAB/MUTANT (default: build/mutants)")
    ap.add_argument("--dir", help="take the mutants from DIR/LAB/ (default: labs/LAB/mutants)")
    opts = ap.parse_args(argv)
    labs = specmod.lab_names()
    if opts.lab and opts.lab not in labs:
        print("mutants: no lab %r (the labs: %s)" % (opts.lab, ", ".join(labs)), file=sys.stderr)
        return 2
    status = 0
    for lab in [opts.lab] if opts.lab else labs:
        status = max(status, grade_lab(lab, opts))
    return status


def grade_lab(lab, opts):
    """Grade one lab's mutants (and reference) and print its table: the
    exit status."""
    spec = specmod.load(lab)
    folder = (os.path.join(opts.dir, lab) if opts.dir else os.path.join(spec["dir"], "mutants"))
    paths = mutant_paths(folder, opts.only)
    if not paths and not opts.reference:
        print("mutants: lab %s has no mutants%s" % (lab, " named " + ", ".join(opts.only)
                                                     if opts.only else ""), file=sys.stderr)
        return 2
    logs = os.path.abspath(os.path.join(opts.logs, lab) if opts.logs else
                           os.path.join(ROOT, "build", "mutants", lab))
    shutil.rmtree(logs, ignore_errors=True)
    repo = os.path.abspath(opts.repo)
    jobs = [("(reference)", k, None) for k in range(opts.reference)]
    jobs += [(read_mutant(p)[0], k, p) for p in paths for k in range(opts.runs)]
    t0 = time.monotonic()

    def run(job):
        name, k, path = job
        where = os.path.join(logs, name + ("" if opts.runs == 1 and path else ".%d" % (k + 1)))
        if path is None:
            return grade_reference(spec, repo, where)
        return grade_mutant(spec, repo, path, where, opts.quick)

    results = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.j)) as pool:
            for job, r in zip(jobs, pool.map(run, jobs)):
                results.setdefault(job[0], []).append(r)
    except MutantError as e:
        print("mutants: %s" % e, file=sys.stderr)
        return 2
    print("%-28s %-16s %-30s %s" % ("mutant", "score / max", "lost points in", "mistake"))
    bad = []
    for name in [j[0] for j in jobs if j[1] == 0]:
        runs = results[name]
        line, unstable = row(runs)
        print(line)
        if name == "(reference)":
            if any(r["score"] is None or r["score"] < r["most"] for r in runs):
                bad.append("the reference lost points (%s)" % ", ".join(runs[0]["lost"] or
                                                                         [runs[0]["status"]]))
        elif any(r["score"] is None or r["score"] >= r["most"] for r in runs):
            bad.append("%s kept full marks%s" % (name, " in some runs" if unstable else ""))
        elif unstable:
            bad.append("%s scored differently in %d runs" % (name, len(runs)))
    print("%d mutant(s) of lab %s, %.0f s; logs in %s" % (len(paths), lab,
                                                         time.monotonic() - t0, logs))
    for b in bad:
        print("mutants: FAIL: %s" % b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

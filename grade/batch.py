"""Batch grading: every submission in a folder (a subfolder, a git work tree,
a bare git repository, or a .tar.gz/.tgz/.tar/.zip archive), N at a time,
each unpacked to its own temp folder and graded by a separate
`grade.py --repo` process, so a broken submission gets 0 with a reason and
never stops the batch. A submission is only read: grade.py takes the lab's
student files from it into a fresh pristine tree. Writes OUT/grades.csv
(submission, score, max, status, flags) and OUT/<submission>.json
(Gradescope format), logs in OUT/logs/<submission>/. Names drop an archive
suffix and a trailing .git, unless that short name is another entry's
short name or another entry's own name (dup/, dup.zip and dup.zip.git):
then the full entry name, so names are unique by construction (and name
results, logs and CSV rows of one submission each). --shard i/n (0 <= i < n)
grades the submissions whose index in the sorted list is i modulo n and
writes OUT/grades-<i>-of-<n>.csv. Each submission's student files, as
grading takes them, are copied to OUT/files/<submission>/ (one folder per
submission: MOSS's and JPlag's input). --deadline grades a git submission as
committed at a date (git's committer dates: the student's clock) or a tag;
--late mark grades the newest commit and flags it late instead. --only NAME
regrades one submission in place: its CSV row, JSON, logs and files folder.
"""
import argparse
import concurrent.futures
import csv
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

import spec as specmod
from answers import regular_file, submitted
from build import MAX_FILE
from integrity import elide
import lifeline  # noqa: E402  (tests/, on the path through build)

HERE = os.path.dirname(os.path.abspath(__file__))
ARCHIVES = (".tar.gz", ".tgz", ".tar", ".zip")
SUBMISSION_TIMEOUT = 3600


def short_name(entry):
    """entry without an archive suffix and a trailing .git."""
    name = entry
    for suffix in ARCHIVES:
        if name.endswith(suffix):
            name = name[:-len(suffix)]
            break
    if name.endswith(".git") and len(name) > 4:
        name = name[:-4]
    return name


def submissions(folder):
    """[(name, path)] sorted by name, names unique: the short name when no
    other entry has it as its short name or as its own name, else the
    entry's own name (entries are unique, and no short name kept equals
    another's entry name)."""
    entries = sorted(e for e in os.listdir(folder) if not e.startswith("."))
    shorts = [short_name(e) for e in entries]
    subs = []
    for e, s in zip(entries, shorts):
        clash = shorts.count(s) > 1 or (s != e and s in entries)
        subs.append((e if clash else s, os.path.join(folder, e)))
    names = [n for n, _ in subs]
    assert len(set(names)) == len(names), names
    return sorted(subs)


def shard(subs, spec):
    """The i-th of n deterministic slices ("i/n", 0 <= i < n) of a sorted
    list: the entries whose index is i modulo n."""
    m = re.match(r"^\s*(\d+)\s*/\s*(\d+)\s*$", spec or "")
    if not m or not int(m.group(1)) < int(m.group(2)):
        raise ValueError("--shard %r: give i/n with whole numbers 0 <= i < n, "
                         "e.g. 0/4, 1/4, 2/4, 3/4 for four shards" % spec)
    i, n = int(m.group(1)), int(m.group(2))
    return [s for k, s in enumerate(subs) if k % n == i]


def is_git(path):
    """Is path a bare git repository, or a work tree with its .git?"""
    bare = os.path.isfile(os.path.join(path, "HEAD")) and os.path.isdir(os.path.join(path, "objects"))
    return bare or os.path.exists(os.path.join(path, ".git"))


def git(repo, *args):
    """git's output in repo; ValueError (the submission's status) if it fails."""
    r = subprocess.run(["git", "-C", repo] + list(args), capture_output=True, text=True)
    if r.returncode:
        raise ValueError("git %s failed: %s" % (args[0], r.stderr.strip()[-200:]))
    return r.stdout.strip()


def cut(tree, deadline, late):
    """Apply --deadline to the clone `tree`: the commit to grade (the last
    one committed at or before the deadline, or the one the tag names) is
    checked out, unless late == "mark". Returns the flags: late:<n> for n
    commits after it. ValueError when nothing was committed in time."""
    if deadline.startswith("tag:"):
        try:
            when = git(tree, "rev-parse", "--verify", "-q", deadline[4:] + "^{commit}")
        except ValueError:
            raise ValueError("no tag %s in the repository" % deadline[4:])
    else:
        when = git(tree, "rev-list", "-1", "--before=" + deadline, "HEAD")
        if not when:
            raise ValueError("nothing committed before the deadline %s" % deadline)
    after = int(git(tree, "rev-list", "--count", when + "..HEAD"))
    if after and late == "cut":
        git(tree, "checkout", "-q", "--detach", when)
    return ["late:%d" % after] if after else []


def unpack(path, work, deadline=None, late="cut"):
    """(a folder holding the submission's tree (its top, with the Makefile),
    flags). A git repository is cloned (a work tree only when a deadline
    applies: then only committed work counts) and cut at the deadline."""
    dst = os.path.join(work, "src")
    if os.path.isdir(path):
        if is_git(path) and (deadline or not os.path.exists(os.path.join(path, ".git"))):
            r = subprocess.run(["git", "clone", "-q", path, dst], capture_output=True, text=True)
            if r.returncode:
                raise ValueError("git clone failed: %s" % r.stderr.strip()[-200:])
            if deadline and git(dst, "rev-list", "--all", "-n", "1"):
                return dst, cut(dst, deadline, late)
            return dst, []
        return path, ["deadline:not-git"] if deadline else []    # grade.py copies it
    os.makedirs(dst)
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                if n.startswith("/") or ".." in n.split("/"):
                    raise ValueError("unsafe path in archive: %s" % n)
            z.extractall(dst)
    elif path.endswith(ARCHIVES):
        with tarfile.open(path) as t:
            if hasattr(tarfile, "data_filter"):
                t.extractall(dst, filter="data")
            else:
                for m in t.getmembers():
                    if m.name.startswith("/") or ".." in m.name.split("/") or m.islnk() or m.issym():
                        raise ValueError("unsafe member in archive: %s" % m.name)
                t.extractall(dst)
    else:
        raise ValueError("not a folder or a .tar.gz/.tgz/.tar/.zip archive")
    top = dst
    while not os.path.exists(os.path.join(top, "Makefile")):
        inner = [e for e in os.listdir(top) if not e.startswith((".", "__MACOSX"))]
        if len(inner) != 1 or not os.path.isdir(os.path.join(top, inner[0])):
            break
        top = os.path.join(top, inner[0])
    return top, ["deadline:not-git"] if deadline else []


def keep_files(tree, spec, dst):
    """Copy the submission's student files (as grading takes them: by path,
    or by name at the top of a flat submission; regular files only) into
    dst, a folder of its own for MOSS or JPlag."""
    for rel in spec["student_files"]:
        path, _ = regular_file(tree, submitted(tree, rel, spec["student_files"]), MAX_FILE)
        if path:
            os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
            shutil.copyfile(path, os.path.join(dst, rel))


def grade_one(name, path, opts, spec):
    """Grade one submission; returns (name, score, max, status, flags)."""
    out_json = os.path.join(opts.out, name + ".json")
    max_score = specmod.max_points(spec)
    shutil.rmtree(os.path.join(opts.out, "files", name), ignore_errors=True)   # a regrade's
    with lifeline.scratch("spindle-batch-") as work:
        try:
            tree, marks = unpack(path, work, opts.deadline, opts.late)
        except (ValueError, OSError, tarfile.TarError, zipfile.BadZipFile) as e:
            return _zero(name, out_json, max_score, "unpack failed: %s" % elide(str(e), work))
        keep_files(tree, spec, os.path.join(opts.out, "files", name))
        cmd = [sys.executable, os.path.join(HERE, "grade.py"), "--repo", tree, "--lab", opts.lab,
               "--json", out_json, "--logs", os.path.join(opts.out, "logs", name),
               "--labs-dir", opts.labs_dir]
        if opts.hidden:
            cmd += ["--hidden", opts.hidden]
        if os.path.exists(out_json):
            os.remove(out_json)
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=SUBMISSION_TIMEOUT,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return _zero(name, out_json, max_score, "grading timed out")
        try:
            with open(out_json) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            why = (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
            return _zero(name, out_json, max_score, "harness error: %s" % elide(why, work))
    extra = doc.get("extra_data", {})
    if marks:
        extra["flags"] = extra.get("flags", []) + marks
        doc["extra_data"] = extra
        with open(out_json, "w") as f:
            json.dump(doc, f, indent=2)
    return (name, "%g" % doc["score"], max_score, extra.get("status", "graded"),
            " ".join(extra.get("flags", [])))


def _zero(name, out_json, max_score, reason):
    with open(out_json, "w") as f:
        json.dump({"score": 0, "output": reason, "tests": []}, f, indent=2)
    return name, 0, max_score, reason, ""


def main(argv):
    ap = argparse.ArgumentParser(prog="grade.py batch")
    ap.add_argument("dir")
    ap.add_argument("--lab", required=True)
    ap.add_argument("-j", type=int, default=1)
    ap.add_argument("--shard", help="i/n: grade slice i (0-based) of n")
    ap.add_argument("--hidden")
    ap.add_argument("--out", default="batch-results")
    ap.add_argument("--labs-dir", default=specmod.LABS, help=argparse.SUPPRESS)
    ap.add_argument("--deadline", help="a date and time (git's --before), or tag:NAME: "
                    "grade git submissions as committed then")
    ap.add_argument("--late", choices=("cut", "mark"), default="cut",
                    help="cut: grade the last commit in time (default); mark: grade the "
                    "newest and flag it late")
    ap.add_argument("--only", action="append",
                    help="regrade only this submission (repeatable): its row of the CSV, its "
                    "JSON, logs and files folder are replaced, the rest kept")
    opts = ap.parse_args(argv)
    if opts.deadline and not opts.deadline.startswith("tag:"):
        try:
            datetime.datetime.fromisoformat(opts.deadline)
        except ValueError:
            print("grade batch: --deadline %r: give a date and time such as 2026-12-01T23:59 "
                  "(+01:00 for a zone), or tag:NAME" % opts.deadline, file=sys.stderr)
            return 2
    opts.out = os.path.abspath(opts.out)
    opts.labs_dir = os.path.abspath(opts.labs_dir)
    if opts.hidden:
        opts.hidden = os.path.abspath(opts.hidden)
    try:
        spec = specmod.load(opts.lab, opts.labs_dir, opts.hidden)
        subs = submissions(opts.dir)
        if opts.shard:
            subs = shard(subs, opts.shard)
        if opts.only:
            unknown = set(opts.only) - {n for n, _ in subs}
            if unknown:
                raise ValueError("--only %s: no such submission in %s"
                                 % (", ".join(sorted(unknown)), opts.dir))
            subs = [(n, p) for n, p in subs if n in opts.only]
    except (specmod.SpecError, ValueError, OSError) as e:
        print("grade batch: %s" % e, file=sys.stderr)
        return 2
    os.makedirs(opts.out, exist_ok=True)
    rows = []
    with concurrent.futures.ThreadPoolExecutor(max(1, opts.j)) as pool:
        futures = [pool.submit(grade_one, n, p, opts, spec) for n, p in subs]
        for fut in concurrent.futures.as_completed(futures):
            row = fut.result()
            print("%-24s %6s / %-6s %s %s" % row, flush=True)
            rows.append(row)
    csv_name = "grades.csv"
    if opts.shard:
        csv_name = "grades-%d-of-%d.csv" % tuple(int(x) for x in re.findall(r"\d+", opts.shard))
    csv_path = os.path.join(opts.out, csv_name)
    if opts.only and os.path.exists(csv_path):      # a regrade: keep the other rows
        with open(csv_path, newline="") as f:
            done = {row[0] for row in rows}
            rows += [tuple(r) for r in list(csv.reader(f))[1:] if r and r[0] not in done]
    rows.sort()
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["submission", "score", "max", "status", "flags"])
        w.writerows(rows)
    print("grade batch: %d submission(s) graded, %s; their student files in %s" % (
        len(subs), csv_path, os.path.join(opts.out, "files")))
    return 0

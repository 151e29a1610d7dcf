"""The term tools: `make handin` (grade/handin.py: a zip of only the student
files), and batch grading's folder per submission of its student files
(MOSS/JPlag), --deadline on git submissions (a date or a tag, cut or
marked late) and --only (a regrade in place). The batch runs the fixture
demo lab on submissions that do not build, each with its own error, so the
status says which version was graded without booting QEMU (the compiler is
needed: skipped without it)."""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
GRADE_DIR = os.path.dirname(HERE)
ROOT = os.path.dirname(GRADE_DIR)
sys.path.insert(0, HERE)
from test_e2e import HAVE_TOOLS  # noqa: E402

FIX = os.path.join(HERE, "fixtures")
DEMO = os.path.join(FIX, "labs", "demo")
PIPE = "kernel/fs/pipe.c"
HANDIN = [sys.executable, os.path.join(GRADE_DIR, "handin.py")]
BATCH = [sys.executable, os.path.join(GRADE_DIR, "grade.py"), "batch"]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def broken(word):
    """A pipe.c whose first compiler error names `word`."""
    return "int %s = undeclared_%s;\n" % (word, word)


def commit(repo, when, message, tag=None):
    env = dict(os.environ, GIT_AUTHOR_NAME="s", GIT_AUTHOR_EMAIL="s@example.org",
               GIT_COMMITTER_NAME="s", GIT_COMMITTER_EMAIL="s@example.org",
               GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    for args in (["add", "-A"], ["commit", "-qm", message]) + ((["tag", tag],) if tag else ()):
        subprocess.run(["git", "-C", repo] + args, check=True, env=env, capture_output=True)


class Handin(unittest.TestCase):
    def test_zip_holds_only_the_student_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            repo = os.path.join(tmp, "repo")
            shutil.copytree(DEMO, os.path.join(repo, "labs", "demo"))
            write(os.path.join(repo, PIPE), "my pipe\n")
            write(os.path.join(repo, "kernel", "fs", "other.c"), "not mine to hand in\n")
            out = os.path.join(tmp, "h.zip")
            r = subprocess.run(HANDIN + ["--lab", "demo", "--repo", repo, "--out", out],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            with zipfile.ZipFile(out) as z:
                self.assertEqual(z.namelist(), [PIPE])
                self.assertEqual(z.read(PIPE), b"my pipe\n")
            os.remove(os.path.join(repo, PIPE))          # a link is not what grading takes
            os.symlink(os.path.join(repo, "kernel", "fs", "other.c"), os.path.join(repo, PIPE))
            r = subprocess.run(HANDIN + ["--lab", "demo", "--repo", repo, "--out", out],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 1)
            self.assertIn("kernel/fs/pipe.c: a symbolic link", r.stdout)
            self.assertIn("no file of lab demo to hand in", r.stderr)
            self.assertFalse(os.path.exists(out))

    def test_answers_template_is_warned_about(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "h.zip")
            repo = os.path.join(tmp, "repo")
            r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "handout.py"),
                                "--lab", "concurrency", "--out", repo], capture_output=True)
            self.assertEqual(r.returncode, 0)
            r = subprocess.run(HANDIN + ["--lab", "concurrency", "--repo", repo, "--out", out],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("answers-concurrency.txt: Q1, Q2, Q3 still '<your answer here>'", r.stdout)
            with zipfile.ZipFile(out) as z:
                self.assertEqual(sorted(z.namelist()), sorted(["kernel/proc/concurrency.c",
                                                               "user/lib/uthread_level.c",
                                                               "answers-concurrency.txt"]))


@unittest.skipUnless(HAVE_TOOLS, "needs qemu-system-riscv64 and a riscv64 gcc")
class BatchTerm(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="grade-term-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.subs = os.path.join(self.tmp, "subs")
        self.out = os.path.join(self.tmp, "out")
        repo = os.path.join(self.subs, "gitrepo")        # a work tree, two commits
        subprocess.run(["git", "init", "-q", repo], check=True)
        write(os.path.join(repo, PIPE), broken("early"))
        commit(repo, "2026-11-20T12:00:00+00:00", "on time", tag="handin")
        write(os.path.join(repo, PIPE), broken("late"))
        commit(repo, "2026-12-02T12:00:00+00:00", "after the deadline")
        write(os.path.join(repo, PIPE), broken("uncommitted"))
        late = os.path.join(self.subs, "tardy")            # only a late commit
        subprocess.run(["git", "init", "-q", late], check=True)
        write(os.path.join(late, PIPE), broken("tardy"))
        commit(late, "2026-12-03T12:00:00+00:00", "late")
        write(os.path.join(self.subs, "flat", "pipe.c"), broken("flat"))   # dragged and dropped

    def batch(self, *args):
        r = subprocess.run(BATCH + [self.subs, "--lab", "demo", "-j", "2", "--out", self.out,
                                    "--labs-dir", os.path.join(FIX, "labs")] + list(args),
                           capture_output=True, text=True, timeout=900)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(self.out, "grades.csv")) as f:
            return {x["submission"]: x for x in csv.DictReader(f)}

    def graded(self, rows, name, word, flags=""):
        self.assertRegex(rows[name]["status"], r"^build failed: kernel/fs/pipe.c:1:\d+: error: "
                         r"'undeclared_%s'" % word, rows[name])
        self.assertEqual(rows[name]["flags"], flags, rows[name])

    def test_deadline_files_and_regrade(self):
        rows = self.batch("--deadline", "2026-12-01T00:00+00:00")
        self.graded(rows, "gitrepo", "early", "late:1")     # the last commit in time
        self.graded(rows, "flat", "flat", "deadline:not-git")
        self.assertEqual(rows["tardy"]["status"],
                         "unpack failed: nothing committed before the deadline "
                         "2026-12-01T00:00+00:00")
        files = os.path.join(self.out, "files")
        self.assertEqual(sorted(os.listdir(files)), ["flat", "gitrepo"])
        with open(os.path.join(files, "gitrepo", PIPE)) as f:
            self.assertEqual(f.read(), broken("early"))        # what was graded
        with open(os.path.join(files, "flat", PIPE)) as f:
            self.assertEqual(f.read(), broken("flat"))          # mapped onto its path

        rows = self.batch("--deadline", "2026-12-01T00:00+00:00", "--late", "mark",
                          "--only", "gitrepo")
        self.graded(rows, "gitrepo", "late", "late:1")          # the newest, flagged
        rows = self.batch("--deadline", "tag:handin", "--only", "gitrepo")
        self.graded(rows, "gitrepo", "early", "late:1")         # the tagged commit

        # a regrade of one submission replaces its row, JSON and files only
        before = rows["flat"]
        write(os.path.join(self.subs, "flat", "pipe.c"), broken("fixed"))
        rows = self.batch("--only", "gitrepo")
        self.graded(rows, "gitrepo", "uncommitted")             # no deadline: the work tree
        self.assertEqual(rows["flat"], before)
        with open(os.path.join(files, "flat", PIPE)) as f:
            self.assertEqual(f.read(), broken("flat"))
        rows = self.batch("--only", "flat")
        self.graded(rows, "flat", "fixed")
        with open(os.path.join(self.out, "flat.json")) as f:
            self.assertIn("undeclared_fixed", json.load(f)["tests"][0]["output"])
        with open(os.path.join(files, "flat", PIPE)) as f:
            self.assertEqual(f.read(), broken("fixed"))
        r = subprocess.run(BATCH + [self.subs, "--lab", "demo", "--only", "nobody", "--labs-dir",
                                    os.path.join(FIX, "labs"), "--out", self.out],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--only nobody: no such submission", r.stderr)


if __name__ == "__main__":
    unittest.main()

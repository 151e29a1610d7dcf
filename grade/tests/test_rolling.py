"""Rolling handouts end to end (no QEMU): the instructor commits each lab's
handout to one git repository (tools/handout.py --commit); a student clones
it, solves lab 1 (the reference's student files), merges lab 2's commit and
keeps their lab 1 while lab 2's files arrive; releasing lab 1's solution
later conflicts only in lab 1's files the student changed."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
GRADE_DIR = os.path.dirname(HERE)
ROOT = os.path.dirname(GRADE_DIR)
sys.path.insert(0, GRADE_DIR)
sys.path.insert(0, os.path.join(ROOT, "tools"))
import handout  # noqa: E402
import spec as specmod  # noqa: E402

TOOL = os.path.join(ROOT, "tools", "handout.py")
ENV = dict(os.environ, GIT_AUTHOR_NAME="student", GIT_AUTHOR_EMAIL="s@example.org",
           GIT_COMMITTER_NAME="student", GIT_COMMITTER_EMAIL="s@example.org")


def git(repo, *args, check=True):
    r = subprocess.run(["git", "-C", repo] + list(args), capture_output=True, text=True, env=ENV)
    if check and r.returncode:
        raise AssertionError("git %s: %s" % (" ".join(args), r.stderr + r.stdout))
    return r


def reference(rel, lab):
    """The instructor's solution of one of lab's student files."""
    with open(os.path.join(ROOT, rel)) as f:
        text = f.read()
    labs = specmod.lab_names()
    return handout.transform(text, handout.comment_of(rel), handout.lab_mode(labs, {lab}), rel)


class RollingTest(unittest.TestCase):
    def release(self, repo, lab, *extra):
        r = subprocess.run([sys.executable, TOOL, "--lab", lab, "--out", repo, "--commit"]
                           + list(extra), capture_output=True, text=True, env=ENV)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def read(self, *path):
        with open(os.path.join(*path)) as f:
            return f.read()

    def test_student_takes_the_next_lab(self):
        labs = specmod.lab_names()
        self.assertGreaterEqual(len(labs), 3, labs)
        one, two, three = labs[:3]
        mine = specmod.load(one)["student_files"]
        theirs = specmod.load(two)["student_files"]
        with tempfile.TemporaryDirectory() as tmp:
            course, student = os.path.join(tmp, "handouts"), os.path.join(tmp, "student")
            self.assertIn("commit", self.release(course, one))
            self.assertFalse(os.path.exists(os.path.join(course, "labs", two)))   # not out yet
            self.assertFalse(os.path.exists(os.path.join(course, theirs[-1])))
            git(tmp, "clone", "-q", course, student)
            solved = {}
            for rel in mine:                       # the student solves lab 1
                solved[rel] = reference(rel, one) + "\n%s the student's own\n" % (
                    handout.comment_of(rel))
                self.assertNotEqual(solved[rel], self.read(student, rel), rel)
                with open(os.path.join(student, rel), "w") as f:
                    f.write(solved[rel])
            git(student, "commit", "-qam", "lab 1 done")

            self.release(course, two)
            r = git(student, "pull", "-q", "--no-rebase", "--no-edit", check=False)
            self.assertEqual(r.returncode, 0, "merging lab 2 conflicted: " + r.stdout + r.stderr)
            for rel in mine:
                self.assertEqual(self.read(student, rel), solved[rel], "%s is not theirs" % rel)
            for rel in theirs + ["labs/%s/README.md" % two, "labs/%s/lab.json" % two]:
                self.assertEqual(self.read(student, rel), self.read(course, rel), rel)
            self.assertIn("<your answer here>", self.read(student, theirs[-1]))
            self.assertFalse(os.path.exists(os.path.join(student, "labs", three)))

            # The instructor releases lab 1's solution with lab 3: the merge
            # can conflict only in lab 1's files, which the student changed
            # (here their code is the reference's, so git merges it cleanly).
            self.assertIn("released: " + one, self.release(course, three, "--released", one))
            git(student, "pull", "-q", "--no-rebase", "--no-edit", check=False)
            conflicts = git(student, "diff", "--name-only", "--diff-filter=U").stdout.split()
            self.assertLessEqual(set(conflicts), set(mine), conflicts)
            for rel in set(mine) - set(conflicts):
                self.assertEqual(self.read(student, rel), solved[rel], "%s is not theirs" % rel)
            self.assertTrue(os.path.exists(os.path.join(student, "labs", three, "README.md")))

    def test_commit_refuses_a_dirty_repository(self):
        labs = specmod.lab_names()
        with tempfile.TemporaryDirectory() as tmp:
            course = os.path.join(tmp, "handouts")
            self.release(course, labs[0])
            self.assertIn("nothing new to commit", self.release(course, labs[0]))
            with open(os.path.join(course, "Makefile"), "a") as f:
                f.write("# edited\n")
            r = subprocess.run([sys.executable, TOOL, "--lab", labs[1], "--out", course,
                                "--commit"], capture_output=True, text=True, env=ENV)
            self.assertEqual(r.returncode, 1)
            self.assertIn("uncommitted changes", r.stderr)


if __name__ == "__main__":
    unittest.main()

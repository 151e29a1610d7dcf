"""Gradescope as uploaded, in a scratch root: the autograder zip of a lab
unpacked to AUTOGRADER/source, its setup.sh run (with apt-get and sudo
replaced by a logger: every tool is already here), then run_autograder on a
flat submission (the student files alone, as dragged and dropped, plus a
stray file): the files are found by name and graded, the stray one is
reported as ignored with the files the lab expects, and nothing is installed
at grading time. Also: a missing tool is a harness error that names it.
Real QEMU: skipped without it."""
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
sys.path.insert(0, GRADE_DIR)
sys.path.insert(0, HERE)
import spec as specmod  # noqa: E402
from test_e2e import HAVE_TOOLS  # noqa: E402
from test_rolling import reference  # noqa: E402

LAB = "concurrency"


def fake_bin(folder, log, hide=()):
    """A PATH folder: every command of the real PATH except `hide`, and an
    apt-get, sudo and brew that only log their arguments to `log`."""
    os.makedirs(folder)
    for d in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            dst = os.path.join(folder, name)
            if name not in hide and not os.path.lexists(dst):
                os.symlink(os.path.join(d, name), dst)
    for name in ("apt-get", "sudo", "brew"):
        path = os.path.join(folder, name)
        if os.path.lexists(path):
            os.remove(path)
        with open(path, "w") as f:
            f.write('#!/bin/sh\necho "%s $*" >> "%s"\n' % (name, log))
        os.chmod(path, 0o755)
    return folder


@unittest.skipUnless(HAVE_TOOLS, "needs qemu-system-riscv64 and a riscv64 gcc")
class Gradescope(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="grade-gs-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.log = os.path.join(self.tmp, "installs.log")

    def env(self, hide=()):
        path = fake_bin(os.path.join(self.tmp, "bin-%d" % len(os.listdir(self.tmp))), self.log, hide)
        env = {k: v for k, v in os.environ.items() if k not in ("TOOLPREFIX", "OPENSBI")}
        return dict(env, PATH=path, AUTOGRADER=os.path.join(self.tmp, "autograder"))

    def installs(self):
        if not os.path.exists(self.log):
            return ""
        with open(self.log) as f:
            return f.read()

    def test_flat_submission_in_a_scratch_root(self):
        ag = os.path.join(self.tmp, "autograder")
        zpath = os.path.join(self.tmp, "autograder.zip")
        subprocess.run([sys.executable, os.path.join(GRADE_DIR, "gradescope", "make_zip.py"),
                        "--lab", LAB, "--out", zpath], check=True, capture_output=True)
        with zipfile.ZipFile(zpath) as z:
            z.extractall(os.path.join(ag, "source"))
        for name in ("setup.sh", "run_autograder"):
            os.chmod(os.path.join(ag, "source", name), 0o755)
        env = self.env()
        r = subprocess.run(["bash", os.path.join(ag, "source", "setup.sh")], env=env,
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("every tool grading needs is here; the pristine tree of lab %s is built"
                      % LAB, r.stdout)
        self.assertNotIn("install riscv", self.installs())   # deps.sh found them all
        os.remove(self.log)

        sub = os.path.join(ag, "submission")
        os.makedirs(sub)
        files = specmod.load(LAB)["student_files"]
        for rel in files:
            with open(os.path.join(sub, os.path.basename(rel)), "w") as f:
                f.write(reference(rel, LAB))
        with open(os.path.join(sub, "notes.txt"), "w") as f:
            f.write("my notes\n")
        r = subprocess.run(["bash", os.path.join(ag, "source", "run_autograder"), "--test",
                            "bounds", "--test", "answers"], env=env, capture_output=True,
                           text=True, timeout=900)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.installs(), "", "grading installed something")
        with open(os.path.join(ag, "results", "results.json")) as f:
            doc = json.load(f)
        scores = {t["name"]: (t["score"], t["max_score"]) for t in doc["tests"]}
        self.assertEqual(scores, {LAB + "/bounds": (15, 15), LAB + "/answers": (5, 5)},
                         r.stdout + json.dumps(doc)[:2000])
        self.assertIn("notes.txt (not in the handout)", doc["output"])
        self.assertIn("This lab grades only: " + ", ".join(files), doc["output"])
        with open(os.path.join(ag, "results", "logs", LAB, "files.log")) as f:
            said = f.read()
        self.assertIn("taken from concurrency.c at the submission's top", said)
        self.assertIn("pristine build reused", said)          # built by setup.sh

    def test_missing_tool_is_a_harness_error(self):
        res = os.path.join(self.tmp, "results.json")
        r = subprocess.run([sys.executable, os.path.join(GRADE_DIR, "grade.py"), "--lab", LAB,
                            "--test", "bounds", "--json", res,
                            "--logs", os.path.join(self.tmp, "logs")],
                           env=self.env(hide={"qemu-system-riscv64"}), capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        with open(res) as f:
            doc = json.load(f)
        self.assertEqual(doc["score"], 0)
        self.assertRegex(doc["tests"][0]["output"],
                         r"^harness error: missing on the grading machine: qemu-system-riscv64 ")
        self.assertEqual(self.installs(), "")


if __name__ == "__main__":
    unittest.main()

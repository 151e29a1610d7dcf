"""End-to-end tests with real QEMU: grade the fixture demo lab (plus the
fixture hidden tests) against this tree, and batch-grade submissions made
from it (good as a .tar.gz, one that does not build, a folder and a .zip
of the same name, an empty bare git repository; forging shells are in
test_routes.py), a
lab whose programs flood the console and hang, and a lab whose programs
print the evidence of forging. Skipped when QEMU or the RISC-V compiler is
missing."""
import csv
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
GRADE_DIR = os.path.dirname(HERE)
ROOT = os.path.dirname(GRADE_DIR)

FIX = os.path.join(HERE, "fixtures")
GRADE = [sys.executable, os.path.join(GRADE_DIR, "grade.py")]
LABS = ["--labs-dir", os.path.join(FIX, "labs")]
HAVE_TOOLS = shutil.which("qemu-system-riscv64") and (
    shutil.which("riscv64-unknown-elf-gcc") or shutil.which("riscv64-linux-gnu-gcc"))


def copy_tree(dst):
    """A copy of this tree's sources, as a student would submit it."""
    skip = {os.path.join(ROOT, x) for x in ("build", "grade-logs", "fs.img", "kernel/kernel",
                                             "tests/logs", ".gdbport")}
    shutil.copytree(ROOT, dst, symlinks=True, ignore=lambda d, names: {
        n for n in names if n in (".git", "__pycache__") or os.path.join(d, n) in skip})
    return dst


@unittest.skipUnless(HAVE_TOOLS, "needs qemu-system-riscv64 and a riscv64 gcc")
class EndToEnd(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="grade-e2e-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_grade_demo_lab(self):
        res = os.path.join(self.tmp, "results.json")
        logs = os.path.join(self.tmp, "logs")
        r = subprocess.run(GRADE + LABS + ["--lab", "demo", "--repo", ROOT, "--json", res,
                                           "--logs", logs, "--hidden", os.path.join(FIX, "hidden")],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)     # not full marks: forge gets 0
        with open(res) as f:
            doc = json.load(f)
        scores = {t["name"]: (t["score"], t["max_score"], t["visibility"]) for t in doc["tests"]}
        self.assertEqual(scores, {"demo/pipe": (10, 10, "visible"),
                                  "demo/forged": (0, 5, "after_due_date"),
                                  "demo/hidden-pipe": (4, 4, "hidden")}, r.stdout)
        self.assertEqual(doc["score"], 14)
        self.assertRegex(r.stdout, r"TOTAL\s+14\s+19")
        for name in ("build", "pipe", "forged", "hidden-pipe"):
            self.assertTrue(os.path.exists(os.path.join(logs, "demo", name + ".log")))
        with open(os.path.join(logs, "demo", "forged.log")) as f:
            self.assertIn("GRADE 0123456789abcdef forged ok", f.read())
        with open(os.path.join(logs, "demo", "pipe.log")) as f:      # left in fs.img, read back
            self.assertRegex(f.read(), r"# harness: fs.img grade.end: 2 [0-9a-f]{16}\n")

    def test_one_test_full_marks(self):
        r = subprocess.run(GRADE + LABS + ["--lab", "demo", "--test", "pipe", "--repo", ROOT,
                                           "--logs", os.path.join(self.tmp, "logs")],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"TOTAL\s+10\s+10")

    def test_flood_and_hang(self):
        res = os.path.join(self.tmp, "results.json")
        r = subprocess.run(GRADE + LABS + ["--lab", "misbehave", "--repo", ROOT, "--json", res,
                                           "--logs", os.path.join(self.tmp, "logs")],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        with open(res) as f:
            tests = {t["name"]: t for t in json.load(f)["tests"]}
        self.assertEqual(tests["misbehave/flood"]["score"], 0)
        self.assertTrue(tests["misbehave/flood"]["output"].startswith("output flood"))
        self.assertEqual(tests["misbehave/hang"]["score"], 0)      # no end line: nothing counts
        self.assertTrue(tests["misbehave/hang"]["output"].startswith("timeout (3s): no end line"))
        log = os.path.getsize(os.path.join(self.tmp, "logs", "misbehave", "flood.log"))
        self.assertLess(log, 2 << 20)

    def test_batch(self):
        subs = os.path.join(self.tmp, "subs")
        os.makedirs(subs)
        good = copy_tree(os.path.join(self.tmp, "good"))
        with tarfile.open(os.path.join(subs, "good.tar.gz"), "w:gz") as t:
            t.add(good, arcname="spindle")
        broken = copy_tree(os.path.join(subs, "broken"))
        with open(os.path.join(broken, "kernel", "fs", "pipe.c"), "a") as f:
            f.write("\nthis is not C;\n")
        partial = copy_tree(os.path.join(subs, "partial"))   # read at pipe EOF gives -1
        pipe_c = os.path.join(partial, "kernel", "fs", "pipe.c")
        with open(pipe_c) as f:
            text = f.read()
        eof = "    if (got == 0)\n      break;\n"
        self.assertIn(eof, text)
        with open(pipe_c, "w") as f:
            f.write(text.replace(eof, "    if (got == 0)\n      return -1;\n"))
        with open(os.path.join(subs, "junk.txt"), "w") as f:
            f.write("not a submission\n")
        # dup/ and dup.zip: two submissions, two names, two work folders
        # (one does not build, the other holds no student file: no QEMU)
        dup = copy_tree(os.path.join(subs, "dup"))
        with open(os.path.join(dup, "kernel", "fs", "pipe.c"), "a") as f:
            f.write("\nthis is not C either;\n")
        with zipfile.ZipFile(os.path.join(subs, "dup.zip"), "w") as z:
            z.writestr("spindle/Makefile", "all:\n")
        os.makedirs(os.path.join(subs, "dup.zip.git"))    # short name dup.zip: an entry's name
        subprocess.run(["git", "init", "-q", "--bare", os.path.join(subs, "bare.git")], check=True)
        out = os.path.join(self.tmp, "out")
        r = subprocess.run(GRADE + ["batch", subs, "--lab", "demo", "-j", "2", "--out", out] + LABS,
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(out, "grades.csv")) as f:
            rows = [(x["submission"], x["score"], x["max"], x["status"]) for x in csv.DictReader(f)]
        with open(os.path.join(out, "grades.csv")) as f:
            rows = {x["submission"]: x for x in csv.DictReader(f)}
        got = sorted((n, x["score"], x["max"]) for n, x in rows.items())
        self.assertEqual(got, [("bare", "0", "15"), ("broken", "0", "15"), ("dup", "0", "15"),
                               ("dup.zip", "0", "15"), ("dup.zip.git", "0", "15"),
                               ("good", "10", "15"),
                               ("junk.txt", "0", "15"), ("partial", "5", "15")],
                         {n: x["status"] for n, x in rows.items()})
        self.assertRegex(rows["broken"]["status"],
                         r"^build failed: kernel/fs/pipe.c:\d+:\d+: error: ", rows["broken"])
        self.assertTrue(rows["dup"]["status"].startswith("build failed: kernel/fs/pipe.c"))
        for name in ("bare", "dup.zip", "dup.zip.git"):
            self.assertTrue(rows[name]["status"].startswith("no student file"), rows[name])
        self.assertRegex(rows["good"]["flags"], r"^ignored:\d+$")   # the instructor's tree's other files
        self.assertTrue(rows["junk.txt"]["status"].startswith("unpack failed"), rows["junk.txt"])
        self.assertEqual(rows["partial"]["status"], "graded")
        for name in rows:
            self.assertTrue(os.path.exists(os.path.join(out, name + ".json")))
        with open(os.path.join(out, "good.json")) as f:
            said = json.load(f)["output"]           # what was ignored, and what the lab takes
        self.assertIn("Ignored (only the lab's student files are graded): ", said)
        self.assertIn("This lab grades only: kernel/fs/pipe.c", said)
        # a shard takes every n-th submission of the sorted list
        r = subprocess.run(GRADE + ["batch", subs, "--lab", "demo", "--shard", "2/4", "--out", out]
                           + LABS, capture_output=True, text=True, timeout=600)
        with open(os.path.join(out, "grades-2-of-4.csv")) as f:
            self.assertEqual([x["submission"] for x in csv.DictReader(f)], ["dup", "junk.txt"])
        for bad in ("3/3", "1-4", "1/4/2", "x/4"):
            r = subprocess.run(GRADE + ["batch", subs, "--lab", "demo", "--shard", bad, "--out", out]
                               + LABS, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 2)
            self.assertIn("give i/n with whole numbers 0 <= i < n", r.stderr)

    def test_integrity(self):
        res = os.path.join(self.tmp, "results.json")
        r = subprocess.run(GRADE + LABS + ["--lab", "forgery", "--repo", ROOT, "--json", res,
                                           "--logs", os.path.join(self.tmp, "logs")],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        with open(res) as f:
            doc = json.load(f)
        seen = {t["name"]: (t["score"], t["output"].split("\n")[0]) for t in doc["tests"]}
        self.assertEqual(seen["forgery/early"],
                         (0, "INTEGRITY: result line 'x ok' before the test program started"))
        self.assertEqual(seen["forgery/twice"], (0, "INTEGRITY: a second END line"))
        self.assertEqual(seen["forgery/fast"][0], 0)
        self.assertRegex(seen["forgery/fast"][1], r"^INTEGRITY: all results [\d.]+ s after the "
                         r"command was typed; the program takes at least 3.00 s$")
        self.assertEqual(seen["forgery/extra"][0], 0)
        self.assertRegex(seen["forgery/extra"][1], r"^INTEGRITY: the end line '1 [0-9a-f]{16}' "
                         r"does not match the 2 result line\(s\) printed")
        self.assertEqual(doc["extra_data"]["flags"][:4], ["integrity:forgery/early",
                                                          "integrity:forgery/twice",
                                                          "integrity:forgery/fast",
                                                          "integrity:forgery/extra"])


if __name__ == "__main__":
    unittest.main()

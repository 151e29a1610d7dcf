"""The recorded forging submissions of fixtures/routes/ (see its README),
made from the concurrency handout: each is prepared the way the harness
prepares any submission (only the student files taken: the tree is the
handout's, the rest is listed as ignored, bad student files are refused),
then batch-graded with real QEMU on one of the lab's tests next to the plain
handout and the instructor's files: no route scores more than the handout,
nothing of a submission ran on the host, the instructor's tests survive, and
no solution line reaches a log. Skipped without QEMU and a RISC-V gcc."""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
GRADE_DIR = os.path.dirname(HERE)
ROOT = os.path.dirname(GRADE_DIR)
sys.path.insert(0, GRADE_DIR)
import build  # noqa: E402
import spec as specmod  # noqa: E402

ROUTES = os.path.join(HERE, "fixtures", "routes")
MARK = "/tmp/spindle-route-makefile-shell-ran"
REFUSED = {"include-abs", "student-symlink", "include-digraph", "hardlink"}
FLAGGED = {"asm-incbin": "prepare", "console-filter": "build"}   # INTEGRITY, found when
HAVE_TOOLS = shutil.which("qemu-system-riscv64") and (
    shutil.which("riscv64-unknown-elf-gcc") or shutil.which("riscv64-linux-gnu-gcc"))


def routes():
    return sorted(d for d in os.listdir(ROUTES) if os.path.isdir(os.path.join(ROUTES, d)))


def apply_route(route, tree, labs):
    """Turn the handout copy `tree` into the route's submission."""
    here = os.path.join(ROUTES, route)
    overlay = os.path.join(here, "overlay")
    if os.path.isdir(overlay):
        shutil.copytree(overlay, tree, dirs_exist_ok=True)
    path = os.path.join(here, "edits.json")
    edits = []
    if os.path.exists(path):
        with open(path) as f:
            edits = json.load(f)
    for e in edits:
        if "hardlink" in e:
            copy = os.path.join(tree, e["to"])
            shutil.copyfile(os.path.join(ROOT, e["hardlink"]), copy)
            os.remove(os.path.join(tree, e["hardlink"]))
            os.link(copy, os.path.join(tree, e["hardlink"]))
            continue
        if "symlink" in e:
            dst = os.path.join(tree, e["symlink"])
            if os.path.isdir(dst) and not os.path.islink(dst):
                shutil.rmtree(dst)
            elif os.path.lexists(dst):
                os.remove(dst)
            os.symlink(e["to"].format(labs=labs), dst)
            continue
        f = os.path.join(tree, e["file"])
        with open(f) as fh:
            text = fh.read()
        if "replace" in e:
            old, new = e["replace"]
            assert old in text, "%s: %r not in %s" % (route, old, e["file"])
            text = text.replace(old, new, 1)
        else:
            with open(os.path.join(here, e.get("insert") or e["append"])) as fh:
                frag = fh.read().replace("@ROOT@", ROOT)
            if "before" in e:
                assert e["before"] in text, "%s: %r not in %s" % (route, e["before"], e["file"])
                text = text.replace(e["before"], frag + e["before"], 1)
            else:
                text += frag
        with open(f, "w") as fh:
            fh.write(text)


def sources(tree):
    """{path: bytes} of a prepared tree's sources (not its build)."""
    out = {}
    for d, dirs, files in os.walk(tree):
        dirs[:] = [x for x in dirs if not (d == tree and x == "build")]
        for name in files:
            rel = os.path.relpath(os.path.join(d, name), tree)
            if rel not in ("fs.img", "kernel/kernel"):
                with open(os.path.join(d, name), "rb") as f:
                    out[rel] = f.read()
    return out


@unittest.skipUnless(HAVE_TOOLS, "needs qemu-system-riscv64 and a riscv64 gcc")
class Routes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="grade-routes-")
        cls.handout = os.path.join(cls.tmp, "handout")
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "handout.py"), "--lab",
                        "concurrency", "--out", cls.handout], check=True, capture_output=True)
        # The lab with one of its tests (one the handout fails), in a folder
        # of its own: the one the symlink-labs route points at.
        cls.labs = os.path.join(cls.tmp, "labs")
        lab = os.path.join(cls.labs, "concurrency")
        shutil.copytree(os.path.join(ROOT, "labs", "concurrency", "tests"), os.path.join(lab, "tests"))
        with open(os.path.join(ROOT, "labs", "concurrency", "lab.json")) as f:
            doc = json.load(f)
        doc["tests"] = [t for t in doc["tests"] if t["name"] == "bounds"]
        with open(os.path.join(lab, "lab.json"), "w") as f:
            json.dump(doc, f)
        cls.subs = os.path.join(cls.tmp, "subs")
        os.makedirs(cls.subs)
        shutil.copytree(cls.handout, os.path.join(cls.subs, "handout"))
        sol = shutil.copytree(cls.handout, os.path.join(cls.subs, "instructor"))
        for rel in specmod.load("concurrency")["student_files"]:
            shutil.copyfile(os.path.join(ROOT, rel), os.path.join(sol, rel))
        for r in routes():
            apply_route(r, shutil.copytree(cls.handout, os.path.join(cls.subs, r), symlinks=True),
                        cls.labs)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def test_only_student_files_are_taken(self):
        spec = specmod.load("concurrency", self.labs)
        with tempfile.TemporaryDirectory() as w:
            tree, _, _, ignored = build.prepare(self.handout, spec, w)
            self.assertEqual(ignored, [])
            want = sources(tree)
        for r in routes():
            with self.subTest(route=r), tempfile.TemporaryDirectory() as w:
                sub = os.path.join(self.subs, r)
                if r in REFUSED or FLAGGED.get(r) == "prepare":
                    first = "refused" if r in REFUSED else "INTEGRITY:"
                    with self.assertRaisesRegex(build.BuildError,
                                                "^%s kernel/proc/concurrency.c" % first):
                        build.prepare(sub, spec, w)
                    continue
                tree, _, notes, ignored = build.prepare(sub, spec, w)
                if r in FLAGGED:
                    continue
                self.assertEqual(sources(tree), want, "the route changed the graded tree")
                self.assertTrue(ignored, "changed files not listed as ignored")

    def test_batch_scores_no_more_than_the_handout(self):
        if os.path.exists(MARK):
            os.remove(MARK)
        out = os.path.join(self.tmp, "out")
        r = subprocess.run([sys.executable, os.path.join(GRADE_DIR, "grade.py"), "batch", self.subs,
                            "--lab", "concurrency", "-j", "2", "--out", out,
                            "--labs-dir", self.labs], capture_output=True, text=True, timeout=900)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(out, "grades.csv")) as f:
            rows = {x["submission"]: x for x in csv.DictReader(f)}
        self.assertEqual(sorted(rows), sorted(routes() + ["handout", "instructor"]))
        for name in sorted(rows):          # the figures, in the log of `make test`
            print("route %-16s %5s / %s  %s  %s" % (name, rows[name]["score"], rows[name]["max"],
                                                    rows[name]["status"], rows[name]["flags"]))
        base = float(rows["handout"]["score"])
        self.assertGreater(float(rows["instructor"]["score"]), base, rows["instructor"])
        for route in routes():
            row = rows[route]
            self.assertLessEqual(float(row["score"]), base, row)
            if route in REFUSED:
                self.assertTrue(row["status"].startswith("refused"), row)
            elif route in FLAGGED:
                self.assertTrue(row["status"].startswith("INTEGRITY: kernel/proc/concurrency.c"), row)
                self.assertIn("integrity:concurrency/bounds", row["flags"], row)
            elif route != "student-symlink":
                self.assertIn("ignored:", row["flags"], row)
        self.assertFalse(os.path.exists(MARK), "the submission's Makefile ran on the host")
        self.assertTrue(os.path.isfile(os.path.join(self.labs, "concurrency", "tests", "conctest.c")))
        solution = "lwp_alloc(p, p->lwp_entry"
        with open(os.path.join(ROOT, "kernel", "proc", "concurrency.c")) as f:
            self.assertIn(solution, f.read())
        # out/files/ holds each submission's own student files (the
        # instructor's solution among them, as submitted): nothing else may
        # hold a solution line or a host path
        self.assertTrue(os.path.isfile(os.path.join(out, "files", "instructor", "kernel", "proc",
                                                     "concurrency.c")))
        for d, dirs, files in os.walk(out):
            if d == out:
                dirs.remove("files")
            for name in files:
                with open(os.path.join(d, name), errors="replace") as f:
                    text = f.read()
                self.assertNotIn(solution, text, os.path.join(d, name))
                for host in (ROOT, "spindle-grade-", "spindle-batch-"):   # no host path
                    self.assertNotIn(host, text, os.path.join(d, name))


if __name__ == "__main__":
    unittest.main()

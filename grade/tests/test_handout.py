"""Unit tests of tools/handout.py: marker rewriting (solution, stub, earlier
and later labs), errors, and a whole handout of the fixtures/handout tree."""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOOL = os.path.join(ROOT, "tools", "handout.py")
FIX = os.path.join(HERE, "fixtures", "handout")

_s = importlib.util.spec_from_file_location("handout", TOOL)
handout = importlib.util.module_from_spec(_s)
_s.loader.exec_module(handout)


def modes(**m):
    def mode(lab):
        if lab not in m:
            raise handout.HandoutError("unknown lab " + lab)
        return m[lab]
    return mode


class TransformTest(unittest.TestCase):
    SRC = ("a\n  // LAB x BEGIN\n  sol();\n  // STUB\n  //| stub();\n  //|\n"
           "  //|   indented();\n  // LAB x END\nb\n")

    def test_solution(self):
        self.assertEqual(handout.transform(self.SRC, "//", modes(x="solution")), "a\n  sol();\nb\n")

    def test_stub(self):
        self.assertEqual(handout.transform(self.SRC, "//", modes(x="stub")),
                         "a\n  stub();\n\n    indented();\nb\n")

    def test_no_stub_block_removes_region(self):
        src = "a\n// LAB x BEGIN\nsol();\n// LAB x END\nb\n"
        self.assertEqual(handout.transform(src, "//", modes(x="stub")), "a\nb\n")

    def test_python(self):
        src = "def f():\n    # LAB x BEGIN\n    return 1\n    # STUB\n    #| return 0\n    # LAB x END\n"
        self.assertEqual(handout.transform(src, "#", modes(x="stub")), "def f():\n    return 0\n")

    def test_crlf_kept(self):
        src = "a\r\n// LAB x BEGIN\r\ns\r\n// STUB\r\n//| t\r\n// LAB x END\r\n"
        self.assertEqual(handout.transform(src, "//", modes(x="stub")), "a\r\nt\r\n")

    def test_errors(self):
        unterminated = "// LAB x " "BEGIN\n"   # split so marker checks see no open region here
        bad = [unterminated,
               "// LAB x END\n",                                     # END without BEGIN
               "// LAB x BEGIN\n// LAB x BEGIN\n// LAB x END\n",     # nested
               "// LAB x BEGIN\n// STUB\nplain\n// LAB x END\n",    # non-stub line in STUB
               "// STUB\n",                                          # STUB outside
               "// LAB y BEGIN\n// LAB y END\n"]                     # unknown lab
        for src in bad:
            with self.assertRaises(handout.HandoutError, msg=src):
                handout.transform(src, "//", modes(x="stub"))


class HandoutTreeTest(unittest.TestCase):
    def make(self, lab, *extra):
        out = tempfile.mkdtemp()
        self.addCleanup(subprocess.run, ["rm", "-rf", out])
        r = subprocess.run([sys.executable, TOOL, "--lab", lab, "--out", out, "--repo", FIX]
                           + list(extra), capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.printed = r.stdout
        return out

    def read(self, out, rel):
        with open(os.path.join(out, rel)) as f:
            return f.read()

    def test_beta(self):
        out = self.make("beta")
        c = self.read(out, "kernel/sched.c")
        self.assertIn("return 0; // TODO alpha", c)              # earlier lab, still open: stub
        self.assertNotIn("alpha solution", c)
        self.assertIn("  // TODO beta: double x\n\n  return -1;\n", c)   # this lab: stub
        self.assertNotIn("beta solution", c)
        self.assertNotIn("gamma_helper", c)                        # later lab: stub (empty)
        self.assertNotIn("LAB", c)
        self.assertNotIn("STUB", c)
        self.assertIn('raise NotImplementedError("beta")', self.read(out, "tools/helper.py"))
        self.assertFalse(os.path.exists(os.path.join(out, "labs/beta/solution.md")))
        self.assertFalse(os.path.exists(os.path.join(out, "labs/beta/tests/secret.c")))
        self.assertTrue(os.path.exists(os.path.join(out, "labs/beta/tests/public.c")))
        self.assertNotIn("secret", self.read(out, "labs/beta/lab.json"))
        self.assertIn("// LAB beta BEGIN", self.read(out, "README.md"))   # not C markers
        notes = self.read(out, "docs/notes.md")             # Markdown markers
        self.assertIn("Beta is the student's lab: see `labs/beta/README.md`.\n", notes)
        self.assertNotIn("shifting", notes)
        self.assertNotIn("Alpha returns 1.", notes)
        self.assertNotIn("<!--", notes)
        self.assertNotIn("teaching.md", notes)                  # LAB instructor: in no handout
        self.assertFalse(os.path.exists(os.path.join(out, "docs/teaching.md")))  # instructor only
        spec = json.loads(self.read(out, "labs/beta/lab.json"))
        hints = {t["name"]: t.get("hint") for t in spec["tests"]}
        self.assertEqual(hints, {"pub": None, "late": None, "pubhint": "visible hint"})
        self.assertFalse(os.path.exists(os.path.join(out, "labs/gamma")))   # not out yet
        self.assertTrue(os.path.exists(os.path.join(out, "labs/alpha/lab.json")))

    def test_released(self):
        out = self.make("beta", "--released", "alpha")
        c = self.read(out, "kernel/sched.c")
        self.assertIn("return 1;   // alpha solution", c)        # released on purpose
        self.assertNotIn("TODO alpha", c)
        self.assertNotIn("beta solution", c)
        self.assertIn("Alpha returns 1.", self.read(out, "docs/notes.md"))
        c = self.read(self.make("gamma", "--released", "alpha,beta"), "kernel/sched.c")
        self.assertIn("alpha solution", c)
        self.assertIn("beta solution", c)
        self.assertNotIn("gamma_helper", c)
        for bad in ("beta", "gamma", "nope"):       # only an earlier lab's solution
            r = subprocess.run([sys.executable, TOOL, "--lab", "beta", "--out", tempfile.mkdtemp(),
                                "--repo", FIX, "--released", bad], capture_output=True, text=True)
            self.assertEqual(r.returncode, 1, bad)
            self.assertIn("only an earlier lab's solution", r.stderr)

    def test_needs(self):
        """beta builds on alpha (lab.json "needs"): its handout says when
        alpha is left as a stub, records alpha's stubs, and a tree whose
        alpha file is still that stub is told so at grading."""
        out = self.make("beta")
        self.assertIn("handout: lab beta builds on lab alpha, left as its stub here: students "
                      "need their own solution (rolling handouts) or RELEASED=alpha\n", self.printed)
        stub = self.read(out, "kernel/alpha.c")
        self.assertIn("TODO alpha", stub)
        self.assertEqual(self.read(out, "labs/alpha/" + handout.STUBS),
                         "%s  kernel/alpha.c\n" % handout.digest(stub))      # sha256sum -c
        line = handout.unsolved_needs_line(out, "beta", ["alpha"])
        self.assertEqual(line, "lab beta builds on lab alpha, but kernel/alpha.c here is still "
                         "the handout's stub: the tests that need it fail until your own "
                         "solution of lab alpha (or the released one) is in this tree")
        with open(os.path.join(out, "kernel/alpha.c"), "w") as f:
            f.write(stub.replace("return 1;", "return 3;"))          # the student's alpha
        self.assertIsNone(handout.unsolved_needs_line(out, "beta", ["alpha"]))
        self.assertIsNone(handout.unsolved_needs_line(FIX, "beta", ["alpha"]))   # solution
        out = self.make("beta", "--released", "alpha")
        self.assertNotIn("builds on", self.printed)
        self.assertIsNone(handout.unsolved_needs_line(out, "beta", ["alpha"]))
        self.make("alpha")
        self.assertNotIn("builds on", self.printed)

    def test_grading_names_a_needed_lab_left_a_stub(self):
        """The real labs: `make grade LAB=adaptive` in a student's adaptive
        handout (lab concurrency left its stub) prints the NOTE line first;
        with RELEASED=concurrency, or graded from this tree (the reference's
        concurrency, as Gradescope grades), it does not. Only the answers
        check runs: no build, no QEMU."""
        def grade(harness, tree):
            r = subprocess.run([sys.executable, os.path.join(harness, "grade", "grade.py"),
                                "--lab", "adaptive", "--test", "answers", "--repo", tree,
                                "--logs", os.path.join(tree, "grade-logs")],
                               capture_output=True, text=True)
            self.assertEqual(r.stdout.splitlines()[0], "grading lab adaptive (%s)" % tree, r.stderr)
            return r.stdout.splitlines()[1]
        for released in ("", "concurrency"):
            out = tempfile.mkdtemp(prefix="handout-needs-")
            self.addCleanup(subprocess.run, ["rm", "-rf", out])
            r = subprocess.run([sys.executable, TOOL, "--lab", "adaptive", "--out", out,
                                "--released", released], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            said = grade(out, out)
            if released:
                self.assertNotIn("NOTE", said)
            else:
                self.assertEqual(said, "  NOTE: lab adaptive builds on lab concurrency, but "
                                 "kernel/proc/concurrency.c, user/lib/uthread_level.c here are "
                                 "still the handout's stubs: the tests that need it fail until "
                                 "your own solution of lab concurrency (or the released one) is "
                                 "in this tree")
                self.assertNotIn("NOTE", grade(ROOT, out))

    def test_alpha(self):
        c = self.read(self.make("alpha"), "kernel/sched.c")
        self.assertIn("return 0; // TODO alpha", c)
        self.assertIn("return -1;", c)

    def test_existing_out_needs_force(self):
        out = self.make("beta")
        with open(os.path.join(out, "kernel/sched.c"), "w") as f:
            f.write("my solved lab\n")
        r = subprocess.run([sys.executable, TOOL, "--lab", "beta", "--out", out, "--repo", FIX],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not empty", r.stderr)
        self.assertEqual(self.read(out, "kernel/sched.c"), "my solved lab\n")
        r = subprocess.run([sys.executable, TOOL, "--lab", "beta", "--out", out, "--repo", FIX,
                            "--force"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotEqual(self.read(out, "kernel/sched.c"), "my solved lab\n")

    def test_markdown_markers(self):
        src = "a\n<!-- LAB x BEGIN -->\nsol\n<!-- STUB -->\n<!--| stub text -->\n<!-- LAB x END -->\nb\n"
        self.assertEqual(handout.transform(src, "<!--", modes(x="stub")), "a\nstub text\nb\n")
        self.assertEqual(handout.transform(src, "<!--", modes(x="solution")), "a\nsol\nb\n")

    def test_unknown_lab_fails(self):
        r = subprocess.run([sys.executable, TOOL, "--lab", "nope", "--out", tempfile.mkdtemp(),
                            "--repo", FIX], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no lab", r.stderr)


if __name__ == "__main__":
    unittest.main()

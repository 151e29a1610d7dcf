"""No handout of any lab holds a solution line of a lab that is still open
(by default, all of them), and the Gradescope autograder zip carries no
solution of its lab or a later one (no QEMU): every line of
a solution region of the lab or a later one (model answers included) that
appears nowhere else in the instructor's tree (outside those regions, in a
stub, or in an earlier lab's solution) must be absent from every file of the
zip, while the zip holds what grading needs: the harness, the full lab.json
with its hidden tests, the test programs and hidden/."""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
GRADE_DIR = os.path.dirname(HERE)
ROOT = os.path.dirname(GRADE_DIR)
sys.path.insert(0, GRADE_DIR)
sys.path.insert(0, os.path.join(ROOT, "tools"))
import spec as specmod  # noqa: E402
from handout import TRAILER, comment_of, list_files, make_handout  # noqa: E402


def regions(text, lead):
    """(lines outside regions and in stubs, {lab: solution lines}) of a file
    whose markers start with lead."""
    c, t = re.escape(lead or "\0"), re.escape(TRAILER.get(lead, ""))
    mark = re.compile(r"^\s*%s\s*(?:LAB\s+(\S+)\s+(BEGIN|END)|(STUB))\s*%s\s*$" % (c, t))
    plain, solution, lab, in_stub = set(), {}, None, False
    for line in text.splitlines():
        m = mark.match(line) if lead else None
        if m and m.group(2) == "BEGIN":
            lab, in_stub = m.group(1), False
        elif m and m.group(2) == "END":
            lab = None
        elif m and m.group(3):
            in_stub = True
        elif lab and not in_stub:
            solution.setdefault(lab, set()).add(line.strip())
        else:
            plain.add(re.sub(r"^\s*(?://|#|<!--)\|\s?", "", line).replace("-->", "").strip())
            plain.add(line.strip())
    return plain, solution


def secret_lines(open_labs):
    """The solution lines of open_labs (model answers included) that appear
    nowhere else in the tree: no handout of an open lab may hold one."""
    allowed, secret = set(), set()
    for rel in list_files(ROOT):
        if "/fixtures/" in rel:
            continue
        with open(os.path.join(ROOT, rel), "rb") as f:
            plain, sol = regions(f.read().decode("utf-8", "replace"), comment_of(rel))
        allowed |= plain
        for name, lines in sol.items():
            (secret if name in open_labs else allowed).update(lines)
    return {x for x in secret - allowed if len(x) >= 8}


def leaks(secret, files):
    """{file: some solution lines it holds} for files [(name, text)]."""
    out = {}
    for name, text in files:
        leaked = secret & {x.strip() for x in text.splitlines()}
        if leaked:
            out[name] = sorted(leaked)[:3]
    return out


class HandoutTest(unittest.TestCase):
    def test_no_open_lab_solution_in_any_handout(self):
        """By default every lab is open: a handout of any lab holds no line
        of any lab's solution or model answers."""
        labs = specmod.lab_names()
        secret = secret_lines(labs)
        self.assertTrue(secret, "no solution lines found: the check checks nothing")
        for lab in labs:
            with self.subTest(lab=lab), tempfile.TemporaryDirectory() as tmp:
                written = make_handout(ROOT, lab, tmp)
                self.assertIn("labs/%s/README.md" % lab, written)
                texts = []
                for rel in written:
                    with open(os.path.join(tmp, rel), "rb") as f:
                        texts.append((rel, f.read().decode("utf-8", "replace")))
                self.assertEqual(leaks(secret, texts), {})


class ZipTest(unittest.TestCase):
    def test_no_solution_in_the_zip(self):
        labs = specmod.lab_names()
        for lab in labs:
            with self.subTest(lab=lab), tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "autograder.zip")
                r = subprocess.run([sys.executable, os.path.join(GRADE_DIR, "gradescope",
                                                                 "make_zip.py"),
                                    "--lab", lab, "--out", out], capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                secret = secret_lines(labs[labs.index(lab):])
                self.assertTrue(secret, "no solution lines found: the check checks nothing")
                with zipfile.ZipFile(out) as z:
                    names = set(z.namelist())
                    self.assertEqual(leaks(secret, [(n, z.read(n).decode("utf-8", "replace"))
                                                    for n in names]), {})
                    full = json.loads(z.read("labs/%s/lab.json" % lab))
                with open(os.path.join(ROOT, "labs", lab, "lab.json")) as f:
                    self.assertEqual(full, json.load(f))       # hidden tests kept for grading
                for need in ("grade/grade.py", "run_autograder", "setup.sh", "LAB", "Makefile"):
                    self.assertIn(need, names)
                for prog in specmod.load(lab)["programs"]:
                    self.assertIn("labs/%s/%s" % (lab, prog["rel"]), names)


if __name__ == "__main__":
    unittest.main()

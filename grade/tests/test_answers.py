"""Unit tests of the written-answers check (grade/answers.py, lab.json
"answers"): the file format, scoring (missing file, template only, short,
filled, symbolic link), the instructor's tree scored like any other (its
answers file holds the model answers in a LAB region), spec validation,
grade.py and batch output, and that handouts give the template instead. No QEMU: the check runs on the host only."""
import csv
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
GRADE_DIR = os.path.dirname(HERE)
ROOT = os.path.dirname(GRADE_DIR)
sys.path.insert(0, GRADE_DIR)
import answers  # noqa: E402
import spec  # noqa: E402

GRADE = [sys.executable, os.path.join(GRADE_DIR, "grade.py")]
README = os.path.join(ROOT, "labs", "concurrency", "README.md")
MODEL = os.path.join(ROOT, "answers-concurrency.txt")     # the instructor's tree's own

LONG = ("The kernel only schedules LWPs, so a user thread that blocks in read blocks "
        "its whole LWP and every user thread waiting to run on it.")     # 26 words
MORE = ("More LWPs than harts keep some LWP free to run ready threads while others wait "
        "in the kernel, at the price of kernel stacks and switches.")


def template():
    """The answers template given in the concurrency handout (README)."""
    with open(README) as f:
        text = f.read()
    m = re.search(r"```\n(# answers-concurrency\.txt.*?)```", text, re.S)
    assert m, "no answers template in labs/concurrency/README.md"
    return m.group(1)


class Tree:
    """A temporary submission holding (optionally) an answers file."""
    def __init__(self, case, text=None, name="answers-concurrency.txt"):
        self.dir = tempfile.mkdtemp(prefix="answers-")
        case.addCleanup(shutil.rmtree, self.dir, True)
        if text is not None:
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)


class AnswersTest(unittest.TestCase):
    def setUp(self):
        self.spec = spec.load("concurrency")
        self.ans = self.spec["answers"]

    def check(self, text, **change):
        ans = dict(self.ans, **change)
        return answers.check(ans, Tree(self, text).dir)

    def test_spec(self):
        a = self.ans
        self.assertEqual((a["name"], a["file"], a["points"], a["questions"], a["min_words"],
                          a["visibility"]), ("answers", "answers-concurrency.txt", 5, 3, 20, "visible"))
        self.assertIn(a["file"], self.spec["student_files"])
        self.assertEqual(spec.max_points(self.spec),
                         sum(t["points"] for t in self.spec["tests"]) + 5)

    def test_parse(self):
        text = ("header, ignored\n# Q1: a comment, ignored\nQ1: one\n  more\n"
                "q2 :two <your answer here>\n#x\nQ3:\nQ1: again\n")
        self.assertEqual(answers.parse(text, "<your answer here>"),
                         {1: "one\n  more\n again", 2: "two", 3: ""})
        self.assertEqual(len(answers.words("p->lock, don't -- 10 ticks.")), 4)

    def test_missing_file(self):
        r = self.check(None)
        self.assertEqual((r["score"], r["status"]), (0, "missing answers-concurrency.txt"))

    def test_template_only(self):
        r = self.check(template())
        self.assertEqual((r["score"], r["status"]), (0, "0/3 answers filled in"))
        self.assertEqual(sorted(r["results"]), ["Q1", "Q2", "Q3"])
        self.assertIn("not answered", r["detail"])

    def test_placeholder_does_not_count(self):
        r = self.check(template().replace("<your answer here>", "<your answer here> " * 30))
        self.assertEqual(r["score"], 0)

    def test_short_answers_are_partial(self):
        text = template().replace("Q1: <your answer here>", "Q1: " + LONG)
        text = text.replace("Q2: <your answer here>", "Q2: too short to count, only seven words")
        r = self.check(text)
        self.assertEqual((r["score"], r["status"]), (1.67, "1/3 answers filled in"))
        self.assertEqual(r["results"], {"Q1": True, "Q2": False, "Q3": False})
        self.assertIn("too short: 7 words, needs 20", r["detail"])
        text = text.replace("Q3: <your answer here>", "Q3: " + LONG)
        self.assertEqual(self.check(text)["score"], 3.33)

    def test_filled(self):
        text = "Name: A. Student\n" + "".join("Q%d: %s\n%s\n\n" % (k, LONG, MORE) for k in (1, 2, 3))
        r = self.check(text)
        self.assertEqual((r["score"], r["max_score"], r["status"]), (5, 5, "ok"))

    def test_filler_scores_zero_and_is_flagged(self):
        """Issue 19's filler: twenty "lorem", an answer pasted twice, the
        README's question copied: 0 for that question, flagged."""
        with open(README) as f:
            readme = f.read()
        para = max(readme.split("\n\n"), key=lambda p: len(answers.words(p)))
        for junk, why in ((" ".join(["lorem"] * 20), "distinct words"),
                          (LONG + " " + LONG, "repeats itself"),
                          (para, "README's own text")):
            text = "Q1: %s\nQ2: %s\nQ3: %s\n" % (junk, LONG, MORE)
            r = answers.check(self.ans, Tree(self, text).dir, readme)
            self.assertEqual(r["score"], 3.33, r["detail"])
            self.assertTrue(r["integrity"])
            self.assertTrue(r["status"].startswith("INTEGRITY: Q1 filler"), r["status"])
            self.assertIn(why, r["status"])
        r = answers.check(self.ans, Tree(self, "Q1: %s\nQ2: %s\nQ3: %s %s\n" % (LONG, MORE, MORE, LONG)).dir,
                          readme)
        self.assertEqual((r["score"], r["integrity"]), (5, False), r["detail"])

    def test_copied_doc_sentence_scores_zero_and_is_flagged(self):
        """An answer holding a sentence of a doc the handout ships (issue 25:
        docs/upcalls.md answered upcalls Q3) scores 0 for its question and
        is flagged; the same ideas in the student's own words are not."""
        sys.path.insert(0, os.path.join(ROOT, "tools"))
        import handout
        docs = handout.shipped_docs(ROOT, "upcalls")
        page = docs["docs/upcalls.md"]
        sentence = max((x for x in re.split(r"(?<=\.)\s+", page) if "`" not in x and "|" not in x),
                       key=lambda x: len(answers.words(x)))
        self.assertGreaterEqual(len(answers.words(sentence)), answers.COPY_RUN, sentence)
        text = "Q1: %s\nQ2: In my words: %s\nQ3: %s\n" % (LONG, sentence, MORE)
        r = answers.check(self.ans, Tree(self, text).dir, "", (), docs)
        self.assertEqual(r["score"], 3.33, r["detail"])
        self.assertTrue(r["integrity"])
        self.assertRegex(r["status"], r"^INTEGRITY: Q2 copied from docs/upcalls.md: '")
        r = answers.check(self.ans, Tree(self, "Q1: %s\nQ2: %s\nQ3: %s\n" % (LONG, MORE, LONG)).dir,
                          "", (), docs)
        self.assertEqual((r["score"], r["integrity"]), (5, False), r["detail"])

    def test_missing_label(self):
        r = self.check("Q1: %s\nQ3: %s\n" % (LONG, LONG))
        self.assertEqual(r["score"], 3.33)
        self.assertIn("missing (no Q2: line)", r["detail"])

    def test_min_words(self):
        self.assertEqual(self.check("Q1: a b\nQ2: c\nQ3: d e f\n", min_words=2)["score"], 3.33)

    def test_symlink_is_refused(self):
        t = Tree(self)
        os.symlink(MODEL, os.path.join(t.dir, "answers-concurrency.txt"))
        r = answers.check(self.ans, t.dir)
        self.assertEqual(r["score"], 0)
        self.assertIn("symbolic link", r["status"])

    def test_same_files_same_score(self):
        """No fallback anywhere: the instructor's tree scores with its own file."""
        with open(MODEL) as f:
            self.assertEqual(self.check(f.read())["score"], 5)
        self.assertEqual(answers.check(self.ans, ROOT)["score"], 5)
        t = Tree(self)                    # model answers elsewhere in a tree mean nothing
        os.makedirs(os.path.join(t.dir, "labs", "concurrency"))
        shutil.copy(MODEL, os.path.join(t.dir, "labs", "concurrency", "solution-answers.txt"))
        self.assertEqual(answers.check(self.ans, t.dir)["score"], 0)

    def test_model_answers_are_complete(self):
        with open(MODEL) as f:
            got = answers.parse(f.read(), self.ans["placeholder"])
        for k in range(1, self.ans["questions"] + 1):
            self.assertGreaterEqual(len(answers.words(got[k])), self.ans["min_words"])

    def test_bad_specs(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "x"))
            base = {"tests": [{"name": "t", "run": "t", "points": 1}]}
            for bad in ({"points": 1}, {"questions": 2}, {"points": 1, "questions": 0},
                        {"points": 1, "questions": 2, "min_words": -1},
                        {"points": 1, "questions": 2, "name": "t"},
                        {"points": 1, "questions": 2, "file": "../up.txt"},
                        {"points": 1, "questions": 2, "file": "/etc/passwd"},
                        {"points": 1, "questions": 2, "visibility": "secret"}, "yes"):
                with open(os.path.join(d, "x", "lab.json"), "w") as f:
                    json.dump(dict(base, answers=bad), f)
                with self.assertRaises(spec.SpecError, msg=str(bad)):
                    spec.load("x", d)
            with open(os.path.join(d, "x", "lab.json"), "w") as f:
                json.dump(dict(base, answers={"points": 2, "questions": 1}), f)
            a = spec.load("x", d)["answers"]
            self.assertEqual(a["file"], "answers-x.txt")


class CommandLineTest(unittest.TestCase):
    """grade.py --test answers builds nothing and boots no QEMU."""
    def run_grade(self, repo, *extra):
        res = os.path.join(tempfile.mkdtemp(prefix="answers-res-"), "results.json")
        self.addCleanup(shutil.rmtree, os.path.dirname(res), True)
        r = subprocess.run(GRADE + ["--lab", "concurrency", "--test", "answers", "--repo", repo,
                                    "--json", res, "--logs", os.path.dirname(res)] + list(extra),
                           capture_output=True, text=True, timeout=60)
        with open(res) as f:
            return r, json.load(f)

    def test_main_tree_full_marks(self):
        r, doc = self.run_grade(ROOT)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"concurrency/answers\s+5\s+5\s+ok")
        self.assertEqual(doc["tests"][0]["visibility"], "visible")
        self.assertIn("read answers-concurrency.txt", doc["tests"][0]["output"])

    def test_submission(self):
        r, doc = self.run_grade(Tree(self, template()).dir)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"TOTAL\s+0\s+5")
        t = doc["tests"][0]
        self.assertEqual((t["name"], t["score"], t["max_score"], t["visibility"], t["status"]),
                         ("concurrency/answers", 0, 5, "visible", "failed"))
        self.assertTrue(t["output"].startswith("0/3 answers filled in"))

    def test_batch_csv(self):
        """A lab with only an answers check: batch grades without QEMU."""
        tmp = tempfile.mkdtemp(prefix="answers-batch-")
        self.addCleanup(shutil.rmtree, tmp, True)
        labs = os.path.join(tmp, "labs")
        os.makedirs(os.path.join(labs, "essay"))
        with open(os.path.join(labs, "essay", "lab.json"), "w") as f:
            json.dump({"answers": {"points": 4, "questions": 2, "min_words": 3}}, f)
        subs = os.path.join(tmp, "subs")
        for name, text in (("empty", None), ("filled", "Q1: one two three\nQ2: four five six\n"),
                           ("half", "Q1: one two three\nQ2: <your answer here>\n")):
            os.makedirs(os.path.join(subs, name))
            if text:
                with open(os.path.join(subs, name, "answers-essay.txt"), "w") as f:
                    f.write(text)
        out = os.path.join(tmp, "out")
        r = subprocess.run(GRADE + ["batch", subs, "--lab", "essay", "--out", out,
                                    "--labs-dir", labs], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(out, "grades.csv")) as f:
            rows = [(x["submission"], x["score"], x["max"]) for x in csv.DictReader(f)]
        self.assertEqual(rows, [("empty", "0", "4"), ("filled", "4", "4"), ("half", "2", "4")])
        with open(os.path.join(out, "half.json")) as f:
            self.assertEqual(json.load(f)["tests"][0]["name"], "essay/answers")


class HandoutTest(unittest.TestCase):
    def test_handout_gives_the_template(self):
        out = tempfile.mkdtemp(prefix="answers-handout-")
        self.addCleanup(shutil.rmtree, out, True)
        r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "handout.py"),
                            "--lab", "concurrency", "--out", out], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "labs", "concurrency",
                                                     "solution-answers.txt")))
        with open(MODEL) as f:
            model = answers.parse(f.read())
        needles = [" ".join(answers.words(model[k])[:12]) for k in model]
        for d, _, files in os.walk(out):
            for name in files:
                with open(os.path.join(d, name), "rb") as f:
                    text = " ".join(f.read().decode("utf-8", "replace").split())
                for needle in needles:
                    self.assertNotIn(needle, text, os.path.join(d, name))
        self.assertEqual(answers.check(spec.load("concurrency", os.path.join(out, "labs"))["answers"],
                                       out)["score"], 0)
        with open(os.path.join(out, "answers-concurrency.txt")) as f:
            self.assertEqual(f.read().strip(), template().strip())


if __name__ == "__main__":
    unittest.main()

"""Unit tests of lab specs (grade/spec.py): defaults, validation, lab order,
merging hidden tests, and the public (student) lab.json."""
import json
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import spec  # noqa: E402

FIX = os.path.join(HERE, "fixtures")


class SpecTest(unittest.TestCase):
    def test_demo_defaults(self):
        s = spec.load("demo", os.path.join(FIX, "labs"))
        pipe, forged = s["tests"]
        self.assertEqual((pipe["cpus"], pipe["timeout"], pipe["partial"]), (2, 30, "fraction"))
        self.assertEqual((forged["partial"], forged["args"]), ("all", []))
        self.assertEqual([p["name"] for p in s["programs"]], ["pipeping", "forge"])

    def test_hidden_merge(self):
        s = spec.load("demo", os.path.join(FIX, "labs"), os.path.join(FIX, "hidden", "demo"))
        self.assertEqual([t["name"] for t in s["tests"]], ["pipe", "forged", "hidden-pipe"])
        self.assertEqual([p["hidden"] for p in s["programs"]], [False, False, True])
        s2 = spec.load("demo", os.path.join(FIX, "labs"), os.path.join(FIX, "hidden"))
        self.assertEqual(len(s2["tests"]), 3)        # DIR/<lab>/lab.json also works

    def test_every_lab_test_has_a_hint(self):
        """Each test of each lab says where to look when it fails (its hint
        reaches the student's feedback), and no lab.json keeps the old
        `protected` list, which nothing reads."""
        for name in spec.lab_names():
            with open(os.path.join(spec.LABS, name, "lab.json")) as f:
                doc = json.load(f)
            self.assertNotIn("protected", doc, name)
            for t in doc["tests"]:
                self.assertGreater(len(t.get("hint", "").split()), 5, "%s/%s" % (name, t["name"]))

    def test_order(self):
        self.assertEqual(spec.lab_names(os.path.join(FIX, "handout", "labs")),
                         ["alpha", "beta", "gamma"])
        with tempfile.TemporaryDirectory() as d:
            for name, order in (("b", 1), ("a", 2), ("c", 1)):
                os.makedirs(os.path.join(d, name))
                with open(os.path.join(d, name, "lab.json"), "w") as f:
                    json.dump({"order": order}, f)
            self.assertEqual(spec.lab_names(d), ["b", "c", "a"])

    def test_bad_specs(self):
        with tempfile.TemporaryDirectory() as d:
            shutil.copytree(os.path.join(FIX, "labs", "demo"), os.path.join(d, "demo"))
            path = os.path.join(d, "demo", "lab.json")
            with open(path) as f:
                good = json.load(f)
            for change in ({"visibility": "secret"}, {"partial": "most"}, {"expect": []},
                           {"run": "two words"}, {"points": None}):
                bad = json.loads(json.dumps(good))
                bad["tests"][0].update(change)
                if change == {"points": None}:
                    del bad["tests"][0]["points"]
                with open(path, "w") as f:
                    json.dump(bad, f)
                with self.assertRaises(spec.SpecError, msg=str(change)):
                    spec.load("demo", d)
            for change in ({"calls": ["x"]}, {"calls": {"kernel/fs/file.c": ["x"]}},
                           {"calls": {"kernel/fs/pipe.c": "kalloc"}}, {"asm": "yes"},
                           {"needs": "demo"}, {"needs": ["demo"]}, {"needs": ["nope"]}):
                with open(path, "w") as f:
                    json.dump(dict(good, **change), f)
                with self.assertRaises(spec.SpecError, msg=str(change)):
                    spec.load("demo", d)
            with open(path, "w") as f:
                f.write("{not json")
            self.assertRaises(spec.SpecError, spec.load, "demo", d)

    def test_needs(self):
        """"needs" names earlier labs only (default none)."""
        labs = os.path.join(FIX, "handout", "labs")
        self.assertEqual(spec.load("beta", labs)["needs"], ["alpha"])
        self.assertEqual(spec.load("gamma", labs)["needs"], [])
        with tempfile.TemporaryDirectory() as d:
            shutil.copytree(labs, os.path.join(d, "labs"))
            path = os.path.join(d, "labs", "alpha", "lab.json")
            for needs in (["beta"], ["alpha"], ["gamma"]):      # later labs, itself
                with open(path, "w") as f:
                    json.dump({"needs": needs}, f)
                with self.assertRaisesRegex(spec.SpecError, "is not a lab before alpha"):
                    spec.load("alpha", os.path.join(d, "labs"))
            path = os.path.join(d, "labs", "gamma", "lab.json")
            with open(path, "w") as f:
                json.dump({"needs": ["alpha", "alpha"]}, f)
            self.assertRaisesRegex(spec.SpecError, "named twice", spec.load, "gamma",
                                   os.path.join(d, "labs"))

    def test_public_json(self):
        with open(os.path.join(FIX, "handout", "labs", "beta", "lab.json")) as f:
            text, dropped = spec.public_json(f.read())
        doc = json.loads(text)
        self.assertEqual(dropped, ["tests/secret.c"])
        self.assertEqual([t["name"] for t in doc["tests"]], ["pub", "late", "pubhint"])
        self.assertNotIn("hint", doc["tests"][1])             # after_due_date: no hint
        self.assertEqual(doc["programs"], ["tests/public.c"])


if __name__ == "__main__":
    unittest.main()

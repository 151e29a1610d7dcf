"""Unit tests of the output parser and scoring (grade/score.py) on recorded
console outputs in fixtures/consoles/, without QEMU."""
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import score  # noqa: E402

TOKEN = "5eed5eed5eed5eed"


def console(name):
    with open(os.path.join(HERE, "fixtures", "consoles", name + ".txt")) as f:
        return f.read()


def test(partial="fraction", points=10):
    return {"name": "pipe", "points": points, "expect": ["roundtrip", "eof"],
            "partial": partial, "timeout": 30}


class ScoreTest(unittest.TestCase):
    def check(self, fixture, want, status, partial="fraction", killed=None):
        r = score.evaluate(test(partial), TOKEN, console(fixture), killed)
        self.assertEqual(r["score"], want, r["detail"])
        self.assertTrue(r["status"].startswith(status), r["status"])
        return r

    def test_pass(self):
        self.check("pass", 10, "ok")
        self.check("pass", 10, "ok", partial="all")

    def test_partial(self):
        self.check("partial", 5, "1/2 passed")
        self.check("partial", 0, "1/2 passed", partial="all")

    def test_timeout_scores_zero(self):
        # pass lines without the end line count for nothing (a forger prints
        # them for a test that hangs)
        r = self.check("timeout", 0, "timeout (30s): no end line", killed="timeout")
        self.assertRegex(r["detail"], r"roundtrip\s+ok")
        self.check("timeout", 0, "timeout", partial="all", killed="timeout")

    def test_panic_scores_zero(self):
        r = self.check("panic", 0, "kernel panic")
        self.assertIn("kerneltrap", r["status"])

    def test_flood_scores_zero(self):
        self.check("flood", 0, "output flood", killed="flood")

    def test_no_boot(self):
        self.check("timeout", 0, "did not boot", killed="noboot")

    def test_forged_lines_earn_nothing(self):
        r = self.check("forged", 0, "test program ended without its end line")
        self.assertEqual(r["results"], {})

    def test_wrong_token_never_counts(self):
        r = score.evaluate(test(), "0123456789abcdef", console("pass"))
        self.assertEqual(r["score"], 0)

    def test_fail_wins(self):
        r = self.check("failwins", 0, "0/2 passed")
        self.assertEqual(r["results"], {"roundtrip": False, "eof": False})

    def test_integrity(self):
        for fixture, seen in (("late", "result line 'eof ok' after the END line"),
                              ("early", "result line 'roundtrip ok' before the test program started"),
                              ("twoend", "a second END line"),
                              ("twostart", "a second START line")):
            r = self.check(fixture, 0, "INTEGRITY: " + seen)
        # all results sooner than grade_end() can print them
        r = score.evaluate(test(), TOKEN, console("pass"), took=0.002)
        self.assertEqual(r["score"], 0)
        self.assertTrue(r["status"].startswith("INTEGRITY: all results 0.002 s after"), r["status"])
        self.assertEqual(score.evaluate(test(), TOKEN, console("pass"), took=0.3)["score"], 10)
        slow = dict(test(), min_seconds=1.0)      # a test whose program sleeps a second
        self.assertEqual(score.evaluate(slow, TOKEN, console("pass"), took=0.5)["score"], 0)
        self.assertEqual(score.evaluate(slow, TOKEN, console("pass"), took=1.5)["score"], 10)

    def test_end_line_digest(self):
        """A console filter that turns a fail line into ok (the end line is
        the program's), an end line without its digest, and one whose count
        is right but digest is another run's: each 0, as INTEGRITY."""
        rewritten = console("partial").replace("eof fail", "eof ok")
        r = score.evaluate(test(), TOKEN, rewritten)
        self.assertEqual(r["score"], 0)
        self.assertIn("does not match the 2 result line(s)", r["status"])
        self.assertTrue(r["status"].startswith("INTEGRITY"), r["status"])
        bare = re.sub(r"(END 2) \S+", r"\1", console("pass"))
        self.assertTrue(score.evaluate(test(), TOKEN, bare)["status"].startswith("INTEGRITY"))
        other = console("pass").replace(score.digest(TOKEN, [("roundtrip", "ok"), ("eof", "ok")]),
                                        score.digest("0" * 16, [("roundtrip", "ok"), ("eof", "ok")]))
        self.assertEqual(score.evaluate(test(), TOKEN, other)["score"], 0)

    def test_disk_end_line(self):
        """The end line the program left in its file system must be the
        console's (a filter that recomputes the digest on the console does
        not see the disk)."""
        end = score.digest(TOKEN, [("roundtrip", "ok"), ("eof", "ok")])
        self.assertEqual(score.evaluate(test(), TOKEN, console("pass"), disk_end=end + "\n")["score"],
                         10)
        self.assertEqual(score.evaluate(test(), TOKEN, console("pass"), disk_end=None)["score"], 10)
        r = score.evaluate(test(), TOKEN, console("pass"), disk_end="")       # printed, never run
        self.assertEqual(r["score"], 0)
        self.assertTrue(r["status"].startswith("the end line is not in the program's file system"))
        r = score.evaluate(test(), TOKEN, console("pass"), disk_end="2 0000000000000000\n")
        self.assertEqual(r["score"], 0)
        self.assertTrue(r["status"].startswith("INTEGRITY: the end line on the console"), r["status"])

    def test_digest_matches_grade_h(self):
        """The value grade_end() prints for this token and these lines
        (computed once by the C code under QEMU: grade/testlib/grade.h)."""
        self.assertEqual(score.digest(TOKEN, [("roundtrip", "ok"), ("eof", "ok")]),
                         "2 b1ba28549dc8d90c")

    def test_panic_is_the_kernel_line_only(self):
        self.check("panicword", 10, "ok")

    def test_hint_only_when_not_full_marks(self):
        hinted = dict(test(), hint="check the child's exit status")
        self.assertNotIn("hint", score.evaluate(hinted, TOKEN, console("pass"))["detail"])
        self.assertIn("hint: check the child's exit status",
                      score.evaluate(hinted, TOKEN, console("partial"))["detail"])

    def test_failed_test_shows_the_console_tail(self):
        """The program's own lines reach the student (bounded, as text
        after '|'), never the harness's lines with the token; a test with
        full marks shows none."""
        r = self.check("partial", 5, "1/2 passed")
        self.assertIn("  |   eof: child status 0, wanted 7", r["detail"])
        self.assertNotIn(TOKEN, r["detail"])
        self.assertNotIn("console's last lines", self.check("pass", 10, "ok")["detail"])
        flood = "".join("line %d %s\x07\n" % (i, "x" * 300) for i in range(100))
        tail = score.diagnostics(TOKEN, flood + "$ ")
        self.assertLessEqual(len(tail), score.FEEDBACK_LINES)
        self.assertLessEqual(sum(len(x) + 5 for x in tail), score.FEEDBACK_BYTES)
        self.assertTrue(tail[-1].startswith("line 99 "), tail[-1][:20])
        self.assertTrue(all(len(x) <= score.FEEDBACK_WIDTH and "\x07" not in x for x in tail))

    def test_program_died_without_end_line(self):
        self.check("noend", 0, "test program ended without its end line")

    def test_interleaved_output_still_counts(self):
        self.check("interleaved", 10, "ok")

    def test_detail_lists_each_expected_result(self):
        r = self.check("partial", 5, "1/2 passed")
        self.assertRegex(r["detail"], r"roundtrip\s+ok")
        self.assertRegex(r["detail"], r"eof\s+FAILED")
        r = self.check("timeout", 0, "timeout", killed="timeout")
        self.assertRegex(r["detail"], r"eof\s+missing")


if __name__ == "__main__":
    unittest.main()

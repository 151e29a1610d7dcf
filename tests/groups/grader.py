"""The grading harness's own tests (grade/tests/, `python3 -m unittest`), in
four groups so they run next to the others: grader/unit (no QEMU: scoring,
specs, handouts, rolling handouts, answers, the Gradescope zip), grader/e2e
(fixture labs and a batch, real QEMU), grader/gradescope (the zip's setup.sh
and run_autograder in a scratch root, real QEMU; handin, and batch's
deadline, regrade and similarity folders) and grader/routes (the
recorded forging submissions of grade/tests/fixtures/routes/, real QEMU)."""
import os
import subprocess
import sys

from qemu import ROOT
from testlib import group

UNIT = ["test_score", "test_spec", "test_handout", "test_rolling", "test_answers", "test_zip",
        "test_integrity", "test_samebuild", "test_diskpath"]


def run_unittests(ctx, name, modules, timeout):
    if not ctx.want(name):
        return
    with ctx.test(name):
        p = subprocess.run([sys.executable, "-m", "unittest"] + ["grade.tests." + m for m in modules],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=timeout)
        log = os.path.join(ROOT, "tests", "logs", name.replace("/", "-") + ".log")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        with open(log, "w") as f:
            f.write(p.stdout)
        tail = " | ".join(p.stdout.strip().splitlines()[-3:])
        ctx.check(p.returncode == 0, "grade/tests failed (%s): %s" % (log, tail))


@group("grader", tests=["grader/unit"], weight=5)
def grader(ctx):
    run_unittests(ctx, "grader/unit", UNIT, 600)


@group("grader-e2e", tests=["grader/e2e"], weight=120)
def grader_e2e(ctx):
    run_unittests(ctx, "grader/e2e", ["test_e2e"], 1800)


@group("grader-gradescope", tests=["grader/gradescope"], weight=60)
def grader_gradescope(ctx):
    run_unittests(ctx, "grader/gradescope", ["test_gradescope", "test_term"], 1500)


@group("grader-routes", tests=["grader/routes"], weight=120)
def grader_routes(ctx):
    run_unittests(ctx, "grader/routes", ["test_routes"], 1800)

"""The grader group: the grading harness's own unit and end-to-end tests
(`python3 -m unittest discover -s grade/tests`), as one result."""
import os
import subprocess
import sys

from qemu import ROOT
from testlib import group


@group("grader", tests=["grader/"], weight=120)
def grader(ctx):
    if not ctx.want("grader/unittest"):
        return
    with ctx.test("grader/unittest"):
        p = subprocess.run([sys.executable, "-m", "unittest", "discover", "-s",
                            os.path.join("grade", "tests")], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=1800)   # a hang guard: >900 s seen at load 48
        tail = " | ".join(p.stdout.strip().splitlines()[-3:])
        ctx.check(p.returncode == 0, "grade/tests failed: " + tail)

"""A student sees the same build result from `make` as from grading
(grade/build.py `build`): a student file and a test program that use a
compiler helper (`__builtin_ctzll`, which rv64gc has no instruction for, is
a call to libgcc's `__ctzdi2`) build and link both ways. The real compiler
and linker on a copy of the tree (with this tree's objects when it is
built, so only what the change needs is rebuilt), no QEMU; skipped without
a RISC-V gcc."""
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

UFILE = "user/lib/uthread_signal.c"          # a user-space student file (lab signals)
HELPER = """
// test_samebuild: the lowest signal of a set, through a compiler helper
int ult_lowest_signal(uint64 set)
{
  return set ? __builtin_ctzll(set) : -1;
}
"""
PROGRAM = """#include "user/user.h"

int main(void)
{
  printf("%d\\n", __builtin_ctzll(uptime() | (1ull << 40)));
  exit(0);
}
"""
HAVE_GCC = shutil.which("riscv64-unknown-elf-gcc") or shutil.which("riscv64-linux-gnu-gcc")


@unittest.skipUnless(HAVE_GCC, "needs a riscv64 gcc")
class SameBuild(unittest.TestCase):
    def test_compiler_helpers_link_in_make_and_grading(self):
        with tempfile.TemporaryDirectory(prefix="grade-samebuild-") as tmp:
            tree = os.path.join(tmp, "tree")
            for rel in ("kernel", "user", "tools", "tests/progs"):
                shutil.copytree(os.path.join(ROOT, rel), os.path.join(tree, rel),
                                ignore=shutil.ignore_patterns("*.o", "*.d"))
            for rel in ("Makefile", "README.md"):
                shutil.copy(os.path.join(ROOT, rel), tree)
            if os.path.isfile(os.path.join(ROOT, "kernel", "kernel")):    # built: reuse it
                shutil.copytree(os.path.join(ROOT, "build"), os.path.join(tree, "build"),
                                ignore=shutil.ignore_patterns("extra", "grade-cache", "slides"))
            with open(os.path.join(tree, UFILE), "a") as f:
                f.write(HELPER)
            with open(os.path.join(tree, "lowbit.c"), "w") as f:
                f.write(PROGRAM)
            extra = "EXTRA_UPROGS=lowbit.c"
            made = subprocess.run(["make", "-j2", extra], cwd=tree, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
            self.assertEqual(made.returncode, 0, "make: " + "\n".join(made.stdout.splitlines()[-5:]))
            for rel in ("build/user/lib/uthread_signal.o", "build/extra%s/lowbit.o" % tree):
                nm = subprocess.run([HAVE_GCC[:-3] + "nm", "-u", os.path.join(tree, rel)],
                                    capture_output=True, text=True)
                self.assertIn("__ctzdi2", nm.stdout, rel + " calls no helper: the test tests nothing")
            # as grading does: the student's files newer than the objects
            made = {rel: os.path.getmtime(os.path.join(tree, rel))
                    for rel in ("build/bin/cat", "build/bin/lowbit")}
            later = max(made.values()) + 2
            for rel in (UFILE, "lowbit.c"):
                os.utime(os.path.join(tree, rel), (later, later))
            build.build(tree, ["lowbit.c"], os.path.join(tmp, "build.log"), [UFILE])
            for rel, when in made.items():
                self.assertGreater(os.path.getmtime(os.path.join(tree, rel)), when,
                                   rel + " was not linked again")


if __name__ == "__main__":
    unittest.main()

"""The build group (no QEMU): what the Makefile promises a newcomer, run in
a scratch copy of the tree (sources and build/, timestamps kept) so the
tree under test is not touched:

- build/cpus: `make CPUS=9` stops with one line naming CPUS=9;
- build/flags (after build/default, so only the kernel is rebuilt): after a build, `make kernel/kernel` compiles nothing, and
  `make kernel/kernel KCFLAGS=-DNO_TRACE` recompiles every kernel file and
  links a kernel without the tracing code (no trace_record symbol);
- build/default: plain `make EXTRA_UPROGS=...` (the default goal) would put
  the extra program into fs.img, and a later plain `make` leaves it out and
  says so (fs.img follows each command line; docs/decisions.md).
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile

from qemu import ROOT
from testlib import group

TESTS = ["build/cpus", "build/flags", "build/default"]


def make(cwd, *args, timeout=600):
    """make as a user types it: not as a sub-make of `make test` (whose
    MAKEFLAGS would pass its variables on and print directories)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    p = subprocess.run(["make"] + list(args), cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout, env=env)
    return p.returncode, p.stdout.decode(errors="replace")


def copy_tree(dst):
    """Sources, build/, kernel/kernel and fs.img, with their timestamps."""
    skip = shutil.ignore_patterns(".git", "logs", "grade-logs")
    for name in os.listdir(ROOT):
        src = os.path.join(ROOT, name)
        if name in (".git", "tests") or name.startswith(".gdb"):
            continue
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dst, name), symlinks=True, ignore=skip)
        else:
            shutil.copy2(src, dst)
    shutil.copytree(os.path.join(ROOT, "tests"), os.path.join(dst, "tests"), ignore=skip)


@group("build", tests=TESTS, weight=40)
def build(ctx):
    if not any(ctx.want(t) for t in TESTS):
        ctx.idle = True
        return
    with tempfile.TemporaryDirectory() as tmp:
        copy_tree(tmp)
        if ctx.want("build/cpus"):
            with ctx.test("build/cpus"):
                rc, out = make(tmp, "CPUS=9")
                lines = [l for l in out.splitlines() if l.strip()]
                ctx.check(rc != 0, "make CPUS=9 succeeded")
                ctx.check(len(lines) == 1 and "CPUS=9" in lines[0],
                          "want one line naming CPUS=9, got %r" % out[-300:])
        if ctx.want("build/default"):
            with ctx.test("build/default"):
                rc, out = make(tmp, "-n", "EXTRA_UPROGS=tests/progs/spin.c")
                ctx.check(re.search(r"mkfs fs\.img .*build/fsbin/spin\b", out),
                          "the default goal would not put spin into fs.img: %r" % out[-400:])
                rc, out = make(tmp, "-s", "fs.img", "EXTRA_UPROGS=tests/progs/spin.c")
                ctx.check(rc == 0, "building spin into fs.img failed: %r" % out[-300:])
                rc, out = make(tmp, "-s", "fs.img")
                ctx.check("fs.img: without spin" in out,
                          "dropping EXTRA_UPROGS did not say it leaves spin out: %r" % out[-300:])
        if ctx.want("build/flags"):
            with ctx.test("build/flags"):
                rc, out = make(tmp, "kernel/kernel")
                ctx.check(rc == 0 and "  CC " not in out,
                          "an up-to-date kernel was rebuilt: %r" % out[-300:])
                rc, out = make(tmp, "kernel/kernel", "KCFLAGS=-DNO_TRACE")
                ctx.check(rc == 0, "make KCFLAGS=-DNO_TRACE failed: %r" % out[-400:])
                ncc = len(re.findall(r"^  CC      kernel/", out, re.M))
                nsrc = len(glob.glob(os.path.join(tmp, "kernel", "**", "*.c"), recursive=True))
                ctx.check(ncc == nsrc, "KCFLAGS changed: %d of %d kernel files recompiled"
                          % (ncc, nsrc))
                tool = shutil.which("riscv64-unknown-elf-nm") or "riscv64-linux-gnu-nm"
                nm = subprocess.run([tool, "kernel/kernel"], cwd=tmp,
                                    stdout=subprocess.PIPE).stdout.decode()
                ctx.check(" T " in nm and "trace_record" not in nm,
                          "the NO_TRACE kernel still has trace_record")

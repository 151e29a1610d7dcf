"""The build group (no QEMU): what the Makefile promises a newcomer, run in
a scratch copy of the tree (sources and build/, timestamps kept) so the
tree under test is not touched:

- build/cpus: `make CPUS=9` stops with one line naming CPUS=9;
- build/flags (after build/default, so only the kernel is rebuilt): after a build, `make kernel/kernel` compiles nothing, and
  `make kernel/kernel KCFLAGS=-DNO_TRACE` recompiles every kernel file and
  links a kernel without the tracing code (no trace_record symbol);
- build/default: plain `make EXTRA_UPROGS=...` (the default goal) would put
  the extra program into fs.img, and a later plain `make` leaves it out and
  says so (fs.img follows each command line; docs/decisions.md);
- build/extra: the same program name from two folders in turn builds each
  one (and back), a name of the tree's (`mine/ls.c`) or a missing file stops
  make with one line before anything is touched, and a compile error in an
  extra program leaves the next build clean (no "fs.img: without bad");
- build/notrace: `make trace` on that NO_TRACE kernel fails with the
  guest's own "cannot start (kernel built with NO_TRACE?)" and says to
  rebuild without it;
- build/quiet: the link and mkfs steps print one short line (`LD`, `MKFS`);
  V=1 prints the whole command;
- build/usage: targets that take a variable say how to call them (handout
  without LAB/OUT, grade LAB=nosuch naming the labs, trace and profile
  without PROG, test with an ONLY= that names no test); `make help` names
  every target and variable README.md shows;
- build/compdb: compile_commands.json has every kernel and user C file with
  a command that compiles it, and follows KCFLAGS;
- build/toolchain: with a PATH whose only RISC-V tools are `riscv64-elf-`
  wrappers (Homebrew's and Arch's names), whose ld rejects
  --no-warn-rwx-segments as binutils 2.38 does, and with no gdb and no
  package manager, `make` builds the kernel and a program; tools/deps.sh
  says in one line what to run for gdb (and asks a `brew` it finds for
  riscv64-elf-gdb);
- build/fresh: with no RISC-V gcc on PATH, `make` asks the package manager
  for the compiler before it reads on (a fake apt-get that records its
  arguments), and stops with one line when there is still none;
- build/slowhart: a kernel whose first secondary hart is held for six
  seconds (KCFLAGS=-DBOOT_HOLD_HART, as a hart whose QEMU thread gets no CPU
  on a loaded host) still boots with every hart up, after one line naming
  the slow hart, the start-up stage it reached and the time waited; that
  hart is also started at _entry (-DBOOT_STALE_START, as OpenSBI 1.1's
  hart_start race does), and must say so and come up all the same;
- build/packages: the dev container and the Gradescope set-up install
  through tools/deps.sh and name no package of its list themselves, and
  every package list docs/setup.md shows is what tools/deps.sh says.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import qemu
from qemu import ROOT
from testlib import group

TESTS = ["build/cpus", "build/flags", "build/default", "build/notrace", "build/slowhart", "build/extra", "build/quiet",
         "build/usage", "build/compdb", "build/toolchain", "build/fresh", "build/packages"]


def make(cwd, *args, timeout=600, path=None):
    """make as a user types it: not as a sub-make of `make test` (whose
    MAKEFLAGS would pass its variables on and print directories, and whose
    TOOLPREFIX and OPENSBI would skip the probes)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES",
                        "TOOLPREFIX", "OPENSBI")}
    if path:
        env["PATH"] = path
    p = subprocess.run(["make"] + list(args), cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout, env=env)
    return p.returncode, p.stdout.decode(errors="replace")


def slow_hart(ctx, tmp):
    flags = "KCFLAGS=-DBOOT_HOLD_HART -DBOOT_STALE_START"
    rc, out = make(tmp, "-s", "kernel/kernel", flags)
    ctx.check(rc == 0, "make %s failed: %r" % (flags, out[-400:]))
    kernel = os.path.join(tmp, "kernel", "kernel")
    with qemu.Machine("build-slowhart", os.path.join(tmp, "fs.img"), cpus=3, kernel=kernel,
                      timeout=120) as m:
        said = m.expect(r"hart (\d) slow to start \(HSM status 0, reached: entry, [5-9] s\); waiting",
                        30, fail=r"did not start|harts up")
        m.expect(r"hart %s entered at _entry, not _entry_secondary" % said.group(1), 30,
                 fail=r"did not start|harts up")
        m.expect(r"spindle: 3 harts up", 30, fail=r"did not start")
        m.boot(30)
    ctx.check(said, "no line about the slow hart")


def copy_tree(dst):
    """Sources, build/, kernel/kernel and fs.img, with their timestamps."""
    # grade-cache is the graders' (lab groups fill and empty it meanwhile)
    skip = shutil.ignore_patterns(".git", "logs", "grade-logs", "grade-cache")
    for name in os.listdir(ROOT):
        src = os.path.join(ROOT, name)
        if name in (".git", "tests") or name.startswith(".gdb"):
            continue
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dst, name), symlinks=True, ignore=skip)
        else:
            shutil.copy2(src, dst)
    shutil.copytree(os.path.join(ROOT, "tests"), os.path.join(dst, "tests"), ignore=skip)


@group("build", tests=TESTS, weight=90)
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
        # first, while the copy is up to date (make test builds `all`)
        if ctx.want("build/usage"):
            with ctx.test("build/usage"):
                usage(ctx, tmp)
        if ctx.want("build/default"):
            with ctx.test("build/default"):
                rc, out = make(tmp, "-n", "EXTRA_UPROGS=tests/extra/spin.c")
                ctx.check(re.search(r"mkfs fs\.img .*build/fsbin/spin\b", out),
                          "the default goal would not put spin into fs.img: %r" % out[-400:])
                # the test suites (tests/progs) go into every image beside
                # the commands (user/bin); a name in both folders stops make
                mkfs = re.search(r"mkfs fs\.img .*", out).group(0)
                for prog in glob.glob(os.path.join(tmp, "tests", "progs", "*.c")):
                    name = os.path.splitext(os.path.basename(prog))[0]
                    ctx.check("build/fsbin/%s " % name in mkfs + " ",
                              "fs.img would not hold tests/progs/%s.c: %r" % (name, mkfs[-400:]))
                shutil.copy(os.path.join(tmp, "user", "bin", "ls.c"),
                            os.path.join(tmp, "tests", "progs", "ls.c"))
                rc, clash = make(tmp, "-n")
                os.remove(os.path.join(tmp, "tests", "progs", "ls.c"))
                ctx.check(rc != 0 and "in both user/bin and tests/progs" in clash,
                          "a program in both folders did not stop make: %r" % clash[-300:])
                rc, out = make(tmp, "-s", "fs.img", "EXTRA_UPROGS=tests/extra/spin.c")
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
                nm = subprocess.run([qemu.found("cc") + "nm", "kernel/kernel"], cwd=tmp,
                                    stdout=subprocess.PIPE).stdout.decode()
                ctx.check(" T " in nm and "trace_record" not in nm,
                          "the NO_TRACE kernel still has trace_record")
                ctx.check(re.search(r"^  LD      kernel/kernel$", out, re.M)
                          and not re.search(r"^\S*ld .*-T", out, re.M),
                          "the link did not print one short line: %r" % out[-400:])
        if ctx.want("build/notrace"):
            with ctx.test("build/notrace"):
                rc, out = make(tmp, "-s", "kernel/kernel", "KCFLAGS=-DNO_TRACE")
                ctx.check(rc == 0, "make KCFLAGS=-DNO_TRACE failed: %r" % out[-400:])
                p = subprocess.run([sys.executable, os.path.join(tmp, "tools", "trace", "run.py"),
                                    "--cpus", "1", "echo hi"], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, timeout=300)
                said = p.stdout.decode(errors="replace")
                ctx.check(p.returncode == 1 and "the guest said: trace: cannot start (kernel built "
                          "with NO_TRACE?)" in said and "rebuild without KCFLAGS=-DNO_TRACE" in said,
                          "make trace on a NO_TRACE kernel: status %d, said %r"
                          % (p.returncode, said[-400:]))
        if ctx.want("build/slowhart"):
            with ctx.test("build/slowhart"):
                slow_hart(ctx, tmp)
        if ctx.want("build/quiet"):
            with ctx.test("build/quiet"):
                os.unlink(os.path.join(tmp, "fs.img"))
                rc, out = make(tmp, "fs.img")
                ctx.check(rc == 0 and re.search(r"^  MKFS    fs.img$", out, re.M)
                          and "build/mkfs fs.img" not in out, "make fs.img printed %r" % out[-400:])
                os.unlink(os.path.join(tmp, "fs.img"))
                rc, out = make(tmp, "fs.img", "V=1")
                ctx.check(rc == 0 and "build/mkfs fs.img README.md build/fsbin/" in out,
                          "make fs.img V=1 did not print the mkfs command: %r" % out[-400:])
        if ctx.want("build/extra"):
            with ctx.test("build/extra"):
                extra(ctx, tmp)
        if ctx.want("build/compdb"):
            with ctx.test("build/compdb"):
                compdb(ctx, tmp)
        if ctx.want("build/fresh"):
            with ctx.test("build/fresh"):
                fresh(ctx, tmp)
        if ctx.want("build/packages"):
            with ctx.test("build/packages"):
                packages(ctx)
        if ctx.want("build/toolchain"):
            with ctx.test("build/toolchain"):
                toolchain(ctx, tmp)


def one_line_error(ctx, what, rc, out, *words):
    lines = [l for l in out.splitlines() if l.strip()]
    ctx.check(rc != 0, "%s succeeded: %r" % (what, out[-300:]))
    ctx.check(len(lines) == 1 and all(w in lines[0] for w in words),
              "%s: want one line naming %s, got %r" % (what, ", ".join(words), out[-400:]))


def extra(ctx, tmp):
    """EXTRA_UPROGS: names from two folders, a clash, a missing file, a
    compile error."""
    def prog(folder, name, text):
        d = os.path.join(tmp, folder)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
        return os.path.join(d, name)
    first = prog("year1", "x.c", '#include "user/user.h"\nint main(void) { printf("from year1\\n"); exit(0); }\n')
    second = prog("year2", "x.c", '#include "user/user.h"\nint main(void) { printf("from year2\\n"); exit(0); }\n')
    binary = os.path.join(tmp, "build", "bin", "x")
    for src, word in ((first, b"from year1"), (second, b"from year2"), (first, b"from year1")):
        rc, out = make(tmp, "fs.img", "EXTRA_UPROGS=" + src)
        ctx.check(rc == 0, "x.c from %s did not build: %r" % (src, out[-400:]))
        with open(binary, "rb") as f:
            ctx.check(word in f.read(), "build/bin/x is not %s's x.c after building it" % src)
    watched = ["build/bin/ls", "build/fsbin/ls", "fs.img"]
    before = {p: os.stat(os.path.join(tmp, p)).st_mtime_ns for p in watched}
    mine = prog("mine", "ls.c", '#include "user/user.h"\nint main(void) { exit(0); }\n')
    rc, out = make(tmp, "EXTRA_UPROGS=" + os.path.relpath(mine, tmp))
    one_line_error(ctx, "make EXTRA_UPROGS=mine/ls.c", rc, out, "mine/ls.c", "rename")
    rc, out = make(tmp, "EXTRA_UPROGS=nosuch/y.c")
    one_line_error(ctx, "make EXTRA_UPROGS=nosuch/y.c", rc, out, "nosuch/y.c")
    after = {p: os.stat(os.path.join(tmp, p)).st_mtime_ns for p in watched}
    ctx.check(before == after, "a refused EXTRA_UPROGS touched %s"
              % [p for p in watched if before[p] != after[p]])
    bad = prog("mine", "bad.c", "int main(void) { return nosuch; }\n")
    rc, out = make(tmp, "fs.img", "EXTRA_UPROGS=" + bad)
    ctx.check(rc != 0 and "nosuch" in out, "a compile error built: %r" % out[-300:])
    rc, out = make(tmp, "fs.img")
    ctx.check(rc == 0, "the build after a compile error failed: %r" % out[-400:])
    ctx.check("without bad" not in out, "after a compile error make said %r" % out[-300:])
    ctx.check("without x" in out, "leaving x out was not said: %r" % out[-300:])


def usage(ctx, tmp):
    labs = sorted(os.path.basename(os.path.dirname(p))
                  for p in glob.glob(os.path.join(tmp, "labs", "*", "lab.json")))
    rc, out = make(tmp, "-s", "handout")
    one_line_error(ctx, "make handout", rc, out, "LAB=", "OUT=", *labs)
    rc, out = make(tmp, "-s", "grade", "LAB=nosuch")
    one_line_error(ctx, "make grade LAB=nosuch", rc, out, "nosuch", *labs)
    for target in ("trace", "profile"):
        rc, out = make(tmp, "-s", target)
        one_line_error(ctx, "make " + target, rc, out, "usage", "PROG=")
    rc, out = make(tmp, "-s", "test", "ONLY=nosuchxyz")
    ctx.check(rc != 0 and "no test or group named like 'nosuchxyz'" in out,
              "make test ONLY=nosuchxyz: status %d, said %r" % (rc, out[-300:]))
    rc, out = make(tmp, "-s", "help")
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    commands = re.findall(r"`(make [^`]*)`|^    (make .*)$", readme, re.M)
    commands = [a or b for a, b in commands]
    shown = {c.split()[1] for c in commands if len(c.split()) > 1 and "=" not in c.split()[1]}
    shown |= {w for c in commands for w in re.findall(r"\b([A-Z][A-Z_]+)=", c)}
    ctx.check(len(shown) > 8, "found only %s in README.md's make commands" % sorted(shown))
    missing = sorted(w for w in shown if not re.search(r"\b%s\b" % re.escape(w), out))
    ctx.check(rc == 0 and not missing, "make help does not name %s" % missing)


def compdb(ctx, tmp):
    import json
    rc, out = make(tmp, "-s", "compile_commands.json")
    ctx.check(rc == 0, "make compile_commands.json failed: %r" % out[-300:])
    with open(os.path.join(tmp, "compile_commands.json")) as f:
        db = {e["file"]: e for e in json.load(f)}
    want = [os.path.relpath(p, tmp) for pat in ("kernel/**/*.c", "user/**/*.c")
            for p in glob.glob(os.path.join(tmp, pat), recursive=True)]
    ctx.check(not set(want) - set(db), "not in compile_commands.json: %s"
              % sorted(set(want) - set(db))[:5])
    for f in ("kernel/thread/lwkt.c", "user/bin/sh.c"):
        e = db[f]
        args = [a for a in e["arguments"] if a not in ("-MD",)]
        args = args[:args.index("-o")] + ["-fsyntax-only", f]
        p = subprocess.run(args, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        ctx.check(p.returncode == 0, "the command for %s does not compile it: %s"
                  % (f, p.stdout.decode(errors="replace")[-300:]))
    rc, out = make(tmp, "-s", "compile_commands.json", "KCFLAGS=-DSPINDLE_COMPDB_PROBE")
    with open(os.path.join(tmp, "compile_commands.json")) as f:
        ctx.check("-DSPINDLE_COMPDB_PROBE" in f.read(), "compile_commands.json did not follow KCFLAGS")


# The programs the fake PATH of build/toolchain gets; riscv64-* tools come
# only as riscv64-elf- wrappers, and no gdb or package manager is there.
def fake_path(tmp, name="fakebin", toolchain=True):
    bindir = os.path.join(tmp, name)
    os.makedirs(bindir)
    hidden = ("riscv64-", "gdb", "apt", "sudo", "brew", "pacman", "dnf")
    for d in ("/usr/local/bin", "/usr/bin", "/bin"):
        for name in os.listdir(d) if os.path.isdir(d) else []:
            dst = os.path.join(bindir, name)
            if not name.startswith(hidden) and not os.path.lexists(dst):
                os.symlink(os.path.join(d, name), dst)
    if not toolchain:
        return bindir
    prefix = qemu.found("cc")
    for tool in ("gcc", "objcopy", "objdump", "nm", "addr2line"):
        os.symlink(shutil.which(prefix + tool), os.path.join(bindir, "riscv64-elf-" + tool))
    with open(os.path.join(bindir, "riscv64-elf-ld"), "w") as f:
        f.write('#!/bin/sh\n# binutils 2.38 ld: no --no-warn-rwx-segments\n'
                'for a in "$@"; do [ "$a" = --no-warn-rwx-segments ] && '
                '{ echo "riscv64-elf-ld: unrecognized option \'$a\'" >&2; exit 1; }; done\n'
                'exec %s "$@"\n' % shutil.which(prefix + "ld"))
    os.chmod(os.path.join(bindir, "riscv64-elf-ld"), 0o755)
    return bindir


def toolchain(ctx, tmp):
    bindir = fake_path(tmp)
    rc, out = make(tmp, "-j2", "kernel/kernel", "build/bin/echo", path=bindir)
    ctx.check(rc == 0, "make with riscv64-elf- wrappers failed: %r" % out[-500:])
    with open(os.path.join(tmp, "build", "buildcmd")) as f:
        cmd = f.read()
    ctx.check(cmd.startswith("riscv64-elf-gcc ") and "--no-warn-rwx-segments" not in cmd,
              "build/buildcmd is %r" % cmd)
    deps = os.path.join(tmp, "tools", "deps.sh")
    env = dict(os.environ, PATH=bindir)
    p = subprocess.run(["bash", deps, "cc", "gdb"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    out = p.stdout.decode()
    one_line_error(ctx, "tools/deps.sh gdb without gdb", p.returncode, out, "gdb", "docs/setup.md")
    with open(os.path.join(bindir, "brew"), "w") as f:
        f.write('#!/bin/sh\necho "$@" >> "%s/brew.log"\n' % tmp)
    os.chmod(os.path.join(bindir, "brew"), 0o755)
    p = subprocess.run(["bash", deps, "cc", "--try", "gdb"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    with open(os.path.join(tmp, "brew.log")) as f:
        asked = f.read()
    ctx.check(asked.strip() == "install riscv64-elf-gdb", "deps.sh asked brew: %r" % asked)
    ctx.check(p.returncode == 0, "a gdb after --try failed deps.sh: %r" % p.stdout.decode())


def packages(ctx):
    def deps(*args):
        p = subprocess.run(["bash", os.path.join(ROOT, "tools", "deps.sh")] + list(args),
                           stdout=subprocess.PIPE, check=True)
        return p.stdout.decode().split()
    apt = set(deps("packages", "apt"))
    for rel, tools in ((".devcontainer/Dockerfile", "cc qemu opensbi gdb"),
                       ("grade/gradescope/setup.sh", "cc qemu opensbi")):
        with open(os.path.join(ROOT, rel)) as f:
            text = f.read()
        ctx.check(re.search(r"deps\.sh %s\b" % tools, text),
                  "%s does not install through tools/deps.sh %s" % (rel, tools))
        words = set(text.replace("deps.sh " + tools, "").split())
        ctx.check(not apt & words, "%s names packages of tools/deps.sh itself: %s"
                  % (rel, sorted(apt & words)))
    with open(os.path.join(ROOT, "docs", "setup.md")) as f:
        text = f.read()
    shown = re.findall(r"deps\.sh packages (\w+) +# (.*)$", text, re.M)
    shown += [("brew", l) for l in re.findall(r"^ +brew install (.*)$", text, re.M)]
    shown += [("pacman", l) for l in re.findall(r"pacman -S --needed (.*)$", text, re.M)]
    shown += [("dnf", l) for l in re.findall(r"dnf install (.*)$", text, re.M)]
    ctx.check(len(shown) >= 7, "found only %d package lists in docs/setup.md" % len(shown))
    for manager, line in shown:
        want = deps("packages", manager)
        got = line.replace("...", "").split()
        ctx.check(got == want[:len(got)] and (len(got) == len(want) or "..." in line),
                  "docs/setup.md lists %s packages %s; tools/deps.sh says %s" % (manager, got, want))


def fresh(ctx, tmp):
    """A machine without the compiler: make installs it first (as root; else
    it says what to run)."""
    bindir = fake_path(tmp, "freshbin", toolchain=False)
    log = os.path.join(tmp, "apt.log")
    with open(os.path.join(bindir, "apt-get"), "w") as f:
        f.write('#!/bin/sh\necho "$@" >> "%s"\n' % log)
    os.chmod(os.path.join(bindir, "apt-get"), 0o755)
    rc, out = make(tmp, "kernel/kernel", path=bindir)
    lines = [l for l in out.splitlines() if l.strip()]
    ctx.check(rc != 0 and lines and "no RISC-V gcc" in lines[-1],
              "make without a compiler: status %d, said %r" % (rc, out[-400:]))
    if os.getuid() == 0:
        with open(log) as f:
            asked = f.read()
        ctx.check("install -y -qq gcc-riscv64-unknown-elf" in asked,
                  "make did not ask apt-get for the compiler: %r" % asked)
    else:
        ctx.check("run: sudo apt-get install -y gcc-riscv64-unknown-elf" in out,
                  "make did not say what to install: %r" % out[-400:])

#!/usr/bin/env python3
"""`make profile PROG="bench pipe"`: boot Spindle in QEMU with -icount
shift=0, run `prof run CMD ARGS` at the shell (user/bin/prof.c), and turn
the samples into tables of functions and of source lines, kernel and user,
each with its share of the samples, that is of the instructions executed.

    python3 tools/profile/profile.py "bench pipe" [--cpus N] [--interval N]
                                     [--top N] [--log LOG]

--log LOG reads a saved console log instead of booting QEMU. Writes the
console log to build/profile.log and the report to build/profile.txt, and
prints the report. PCs are named with the toolchain's addr2line: kernel PCs
from kernel/kernel, user PCs from build/bin/<program> (the name the kernel
recorded for the pid). Samples of the idle loop's wfi are time a hart had
nothing to run, not instructions: they are counted apart. Exit status 1,
with the guest's own message, when the command cannot run or exits with a
status other than 0.
"""
import argparse
import collections
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KERNEL = os.path.join(ROOT, "kernel", "kernel")
BINDIR = os.path.join(ROOT, "build", "bin")


def parse(text):
    """The last complete dump in a console log: (interval, names, samples)
    with names {pid: program} and samples [(pid, user, late, pc, count)]."""
    begin = text.rfind("PROF BEGIN")
    if begin < 0 or text.find("PROF END", begin) < 0:
        raise ValueError("no complete PROF BEGIN..END dump")
    body = text[begin:text.find("PROF END", begin)]
    interval = int(re.match(r"PROF BEGIN interval (\d+)", body).group(1))
    names = {}
    for pid, name in re.findall(r"^N (\d+) (\S+)\r?$", body, re.M):
        names.setdefault(int(pid), name)
    samples = [(int(p), int(u), int(late), int(pc, 16), int(n)) for p, u, late, pc, n
               in re.findall(r"^S (\d+) (\d) (\d) (0x[0-9a-f]+) (\d+)\r?$", body, re.M)]
    return interval, names, samples


def addr2line():
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import qemu  # noqa: E402
    prefix = qemu.found("cc")
    if not prefix:
        raise RuntimeError("no riscv64 addr2line on PATH (docs/setup.md)")
    return prefix + "addr2line"


def symbolize(elf, pcs):
    """{pc: (function, "file:line")} for the PCs in one ELF: the function
    that holds the PC (the outermost of an inlined chain, so intr_on()
    inlined into the idle loop counts as the idle loop) and the source line
    of the instruction itself (the innermost)."""
    pcs = sorted(set(pcs))
    if not pcs or not os.path.exists(elf):
        return {pc: ("?", "?") for pc in pcs}
    out = subprocess.run([addr2line(), "-a", "-f", "-i", "-e", elf] + ["0x%x" % pc for pc in pcs],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    chains, cur = [], None
    for line in out:
        if re.match(r"^0x[0-9a-f]+$", line):
            cur = []
            chains.append(cur)
        else:
            cur.append(line)
    result = {}
    for pc, chain in zip(pcs, chains):
        where = chain[1].split(" ")[0]
        if where.startswith("/"):
            where = os.path.relpath(where, ROOT)
        result[pc] = (chain[-2], where)
    return result


def elf_of(names, pid, user):
    return os.path.join(BINDIR, names.get(pid, "?")) if user else KERNEL


def table(title, counts, total, top):
    lines = ["%s" % title, "", "| share | samples | %s |" % title.split()[0], "|---:|---:|---|"]
    for key, n in counts.most_common(top):
        lines.append("| %5.1f%% | %d | %s |" % (100.0 * n / total, n, key))
    return lines


def report(text, top=15):
    interval, names, samples = parse(text)
    by_elf = collections.defaultdict(list)
    for pid, user, late, pc, n in samples:
        by_elf[elf_of(names, pid, user)].append(pc)
    syms = {elf: symbolize(elf, pcs) for elf, pcs in by_elf.items()}
    funcs, lines = collections.Counter(), collections.Counter()
    idle = late_total = 0
    for pid, user, late, pc, n in samples:
        func, where = syms[elf_of(names, pid, user)][pc]
        if not user and func == "lwkt_idle_loop":
            idle += n
            continue
        side = "user %s" % names.get(pid, "?") if user else "kernel"
        mark = " [interrupts back on]" if late else ""
        late_total += n if late else 0
        funcs["%s (%s)%s" % (func, side, mark)] += n
        lines["%s (%s)%s" % (where, func, mark)] += n
    total = sum(funcs.values())
    if total == 0:
        raise ValueError("no samples outside the idle loop")
    out = ["samples: %d, one every %d instructions per hart on average; idle-loop samples"
           " left out: %d" % (total, interval * 100, idle),
           "[interrupts back on]: %.1f%% of the samples fell due while interrupts were off and"
           " were taken where they came back on" % (100.0 * late_total / total), ""]
    out += table("function (where)", funcs, total, top) + [""]
    out += table("line (function)", lines, total, top)
    return "\n".join(out) + "\n"


def boot_and_run(prog, cpus, interval, timeout):
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import qemu  # noqa: E402
    with qemu.Machine("profile-run", os.path.join(ROOT, "fs.img"), cpus=cpus,
                      timeout=timeout + 120, extra=["-icount", "shift=0"]) as m:
        m.boot(90)
        ran = m.run("prof run -i %d %s" % (interval, prog), timeout)
        m.poweroff()
        return m.output(), ran


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prog", nargs="?", default="", help='the command, e.g. "bench pipe"')
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--interval", type=int, default=20,
                    help="time-CSR units between samples (100 instructions each)")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--timeout", type=int, default=240)
    ap.add_argument("--log", help="read this console log instead of running QEMU")
    a = ap.parse_args()
    failed = []
    if a.log:
        with open(a.log, errors="replace") as f:
            text = f.read()
    else:
        if not a.prog.strip():
            print('usage: make profile PROG="CMD ARGS"', file=sys.stderr)
            return 2
        text, ran = boot_and_run(a.prog.strip(), a.cpus, a.interval, a.timeout)
        os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
        with open(os.path.join(ROOT, "build", "profile.log"), "w") as f:
            f.write(text)
        import qemu  # noqa: E402  (boot_and_run put tests/ on the path)
        failed, never_ran = qemu.guest_failure(ran, "prof")
        for line in failed:
            print("profile: the guest said: %s" % line, file=sys.stderr)
        if never_ran:
            print("profile: no profile; console log in build/profile.log", file=sys.stderr)
            return 1
    try:
        rep = report(text, a.top)
    except ValueError as e:
        print("profile: %s" % e, file=sys.stderr)
        return 1
    if not a.log:
        with open(os.path.join(ROOT, "build", "profile.txt"), "w") as f:
            f.write(rep)
    print(rep, end="")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

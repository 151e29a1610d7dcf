#!/usr/bin/env python3
"""`make trace PROG="CMD ARGS"`: boot Spindle in QEMU, run `trace run CMD ARGS`
at the shell, save the console log and draw the timeline.

    python3 tools/trace/run.py "pingpong 10" [--cpus N] [--out build/trace.svg]
                               [--icount] [--title T]

Writes build/trace.log, build/trace.svg, build/trace.html and build/trace.json
(the Chrome trace-event file Perfetto and chrome://tracing open), or --out and
its siblings, and prints their paths. Uses the built kernel/kernel and a
private copy of fs.img (tests/qemu.py's Machine), so `make` must have run.
--icount runs QEMU with -icount shift=0: deterministic time, one tick of the
time CSR = 100 guest instructions. A Ctrl-p dump is requested after the run
so that kernel threads get their names in the picture.

Exit status 1, with the guest's own message, when the command cannot run or
tracing is compiled out (nothing is drawn), or when it exits with a status
other than 0 (the picture is still drawn).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, HERE)

import qemu  # noqa: E402
import render  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prog", help='the command to trace, e.g. "pingpong 10"')
    ap.add_argument("--cpus", type=int, default=int(os.environ.get("CPUS", "3") or 3))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "trace.svg"))
    ap.add_argument("--icount", action="store_true", help="QEMU -icount shift=0")
    ap.add_argument("--title", default=None)
    ap.add_argument("--timeout", type=int, default=120, help="seconds for the command")
    a = ap.parse_args()
    prog = a.prog.strip()
    if not prog:
        print('usage: make trace PROG="CMD ARGS"', file=sys.stderr)
        return 2
    for f in (qemu.KERNEL, os.path.join(ROOT, "fs.img")):
        if not os.path.exists(f):
            print("trace: %s missing (run make first)" % f, file=sys.stderr)
            return 1
    out_svg = os.path.abspath(a.out)
    os.makedirs(os.path.dirname(out_svg), exist_ok=True)
    extra = ["-icount", "shift=0"] if a.icount else []
    with qemu.Machine("trace-run", os.path.join(ROOT, "fs.img"), cpus=a.cpus,
                      timeout=a.timeout + 120, extra=extra) as m:
        m.boot(90)
        ran = m.run("trace run " + prog, a.timeout)
        m.send("\x10")                      # Ctrl-p: names of kernel threads
        m.expect(r"klt \d+ \S+ cpu .*\n(?!klt)", 10)
        m.poweroff()
        text = m.output()
    log = os.path.splitext(out_svg)[0] + ".log"
    with open(log, "w") as f:
        f.write(text)
    failed, never_ran = qemu.guest_failure(ran, "trace")
    for line in failed:
        print("trace: the guest said: %s" % line, file=sys.stderr)
    if "NO_TRACE" in "".join(failed):
        print("trace: rebuild without KCFLAGS=-DNO_TRACE (make clean is not needed)", file=sys.stderr)
    if never_ran:
        print("trace: nothing drawn; console log in %s" % log, file=sys.stderr)
        return 1
    title = a.title or "trace run %s (CPUS=%d%s)" % (prog, a.cpus, ", -icount" if a.icount else "")
    try:
        trace, out_html = render.render_files(text, out_svg, title, icount=a.icount)
    except ValueError as e:
        print("trace: %s; console log in %s" % (e, log), file=sys.stderr)
        return 1
    print("trace: %d records on %d hart(s)" % (len(trace.records), len(trace.cpus())))
    print(log)
    print(out_svg)
    print(out_html)
    print(os.path.splitext(out_svg)[0] + ".json")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

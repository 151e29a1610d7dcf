#!/usr/bin/env python3
"""`make stress`: the long reliability runs, with their figures.

  1. The system-call fuzzer (tests/progs/fuzz.c) on 1, 3 and 8 harts, at least
     STRESS_CALLS calls on each (default 1000000), as seeds 1, 2, ... of
     two passes each; every run must end `fuzz: OK` (the second pass of a
     seed leaves free pages and live threads where the first left them).
     A panic or hang is counted and the next seed boots afresh, so the
     figures per hart count are: calls made, panics, hangs, leaks, and
     reports the fuzzer rejected (a fuzzing process that scribbled over its
     own count: those calls are not counted). Each run's figures go through
     tests/fuzzfigures.py first: an impossible one (more calls than asked
     for, a rate beyond the machine, ...) is a harness failure, quoted, and
     fails the run.
  2. The thread stress program (tests/progs/stress.c) on 8 harts for
     STRESS_SECS seconds (default 300): processes x LWPs x user threads
     doing pipes, futexes, mutexes, fork/exit and kill at once; it must end
     `stress: OK` (no lost message or update, no hang, no leak).
  3. The race tests (tests/progs/racetests.c, docs/locking.md) on 3 and 8
     harts with `racetests -n STRESS_RACE_SCALE` (default 5): each race
     provoked that many times more than in `make test` (thousands of tries;
     each unit of scale costs about two minutes on 2 cores).
A kernel panic anywhere, or a run that does not finish, fails.
Prints one line per run and a summary table; exit status 1 on any failure.

    python3 tests/stress.py [--calls N] [--secs S] [--cpus 1,3,8] [--race-scale N]
"""
import argparse
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fuzzfigures  # noqa: E402
from qemu import Machine, ROOT, TestFailure  # noqa: E402

CALLS_PER_PASS = 100000         # a run is two passes of one seed
PROCS, LWPS = 8, 3
MAX_PANICS = 3                  # per hart count: boot again after a panic, up to this many


def why(m):
    """The end of the console: a panic's message and backtrace arrive just
    after the word that stopped the run, so give them a moment."""
    time.sleep(3)
    return "  console ends: " + m.output()[-1500:].replace("\n", "\n  ")


def fuzz(cpus, calls, results):
    """Seeds 1, 2, ... until `calls` calls are made. A panic or hang ends
    that boot: it is counted, and the next seed runs on a fresh boot (the
    log of each boot stays in tests/logs/stress-fuzz-cpusN-bootB.log)."""
    made, runs, wd, rejected, panics, leaks, hangs, harness = 0, 0, 0, 0, 0, 0, 0, None
    t0 = time.monotonic()
    image = os.path.join(ROOT, "fs.img")
    seed, boot = 1, 0
    while made < calls and panics + hangs < MAX_PANICS and not harness:
        boot += 1
        with Machine("stress-fuzz-cpus%d-boot%d" % (cpus, boot), image, cpus=cpus,
                     timeout=24 * 3600) as m:
            try:
                m.boot(120)
                while made < calls and not harness:
                    per_pass = min(CALLS_PER_PASS, max(1000, (calls - made + 1) // 2))
                    start = m.pos
                    m.send("fuzz %d %d %d %d" % (seed, per_pass, PROCS, LWPS))
                    end = m.expect(r"fuzz: (OK|LEAK)", 3600)
                    text = m.buf[start:end.end()]
                    fig, harness = fuzzfigures.check(text, seed, per_pass, cpus)
                    for line in text.splitlines():
                        if "rejected report" in line:
                            print("fuzz cpus=%d seed %d: %s" % (cpus, seed, line.strip()), flush=True)
                    if harness:
                        print("fuzz cpus=%d seed %d: %s" % (cpus, seed, harness), flush=True)
                        m.expect(r"\$ ", 60)
                        break
                    made += fig.calls
                    wd += fig.watchdog
                    rejected += fig.rejected
                    runs += 1
                    summary = re.search(r"fuzz: \d+ calls;.*", text)
                    print("fuzz cpus=%d seed %d: %s %s" % (cpus, seed, summary.group(0) if summary else "?",
                                                          end.group(1)), flush=True)
                    leaks += end.group(1) != "OK"
                    seed += 1
                    m.expect(r"\$ ", 60)
                m.poweroff(60)
            except TestFailure as e:
                panic = "panic" in str(e)
                panics += panic
                hangs += not panic
                print("fuzz cpus=%d seed %d: FAILED (%s): %s" % (cpus, seed, "panic" if panic else "hang", e),
                      flush=True)
                print(why(m), flush=True)
                seed += 1
    results.append(dict(kind="fuzz", cpus=cpus, n=made, runs=runs, wd=wd, rejected=rejected,
                        panics=panics, leaks=leaks, hangs=hangs,
                        ok=made >= calls and not (panics or leaks or hangs or harness),
                        result="HARNESS" if harness else None, wall=time.monotonic() - t0))


def stress(cpus, secs, results):
    ok = True
    t0 = time.monotonic()
    image = os.path.join(ROOT, "fs.img")
    with Machine("stress-threads-cpus%d" % cpus, image, cpus=cpus, timeout=secs + 1800) as m:
        try:
            m.boot(120)
            out = m.run("stress %d 8 4 8" % secs, secs + 1200)
            for line in out.splitlines():
                if line.startswith("stress:"):
                    print("stress cpus=%d: %s" % (cpus, line[8:]), flush=True)
            ok = "stress: OK" in out
            m.poweroff(60)
        except TestFailure as e:
            print("stress cpus=%d: FAILED: %s" % (cpus, e), flush=True)
            print(why(m), flush=True)
            ok = False
    results.append(dict(kind="stress", cpus=cpus, n=secs, ok=ok, wall=time.monotonic() - t0))


def races(cpus, scale, results):
    t0 = time.monotonic()
    ok = False
    image = os.path.join(ROOT, "fs.img")
    with Machine("stress-races-cpus%d" % cpus, image, cpus=cpus, timeout=scale * 600 + 600) as m:
        try:
            m.boot(120)
            out = m.run("racetests -n %d" % scale, scale * 600)
            for line in out.splitlines():
                if line.startswith("test ") or line.startswith("  "):
                    print("races cpus=%d: %s" % (cpus, line.strip()), flush=True)
            ok = "ALL TESTS PASSED" in out
        except TestFailure as e:
            print("races cpus=%d: FAILED: %s" % (cpus, e), flush=True)
            print(why(m), flush=True)
    results.append(dict(kind="races", cpus=cpus, n=scale, ok=ok, wall=time.monotonic() - t0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=int(os.environ.get("STRESS_CALLS", 1000000)))
    ap.add_argument("--secs", type=int, default=int(os.environ.get("STRESS_SECS", 300)))
    ap.add_argument("--cpus", default=os.environ.get("STRESS_CPUS", "1,3,8"))
    ap.add_argument("--race-scale", type=int, default=int(os.environ.get("STRESS_RACE_SCALE", 5)))
    opts = ap.parse_args()
    t0 = time.monotonic()
    results = []
    for cpus in [int(c) for c in opts.cpus.split(",")]:
        fuzz(cpus, opts.calls, results)
    stress(8, opts.secs, results)
    for cpus in (3, 8):
        races(cpus, opts.race_scale, results)
    print()
    print("%-7s %5s %12s %5s %9s %8s %6s %6s %6s %7s %8s" % (
        "run", "harts", "calls/secs/x", "runs", "watchdog", "rejected", "panics", "leaks", "hangs",
        "result", "wall"))
    for r in results:
        print("%-7s %5d %12d %5s %9s %8s %6s %6s %6s %7s %7.0fs" % (
            r["kind"], r["cpus"], r["n"], r.get("runs", 1), r.get("wd", "-"), r.get("rejected", "-"),
            r.get("panics", "-"), r.get("leaks", "-"), r.get("hangs", "-"),
            r.get("result") or ("ok" if r["ok"] else "FAILED"), r["wall"]))
    bad = [r for r in results if not r["ok"]]
    print("stress: %s in %.0fs (panics, hangs, leaks and impossible figures fail a run; logs in "
          "tests/logs/stress-*.log)" % ("FAILED" if bad else "OK", time.monotonic() - t0))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

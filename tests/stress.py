#!/usr/bin/env python3
"""`make stress`: the long reliability runs, with their figures.

  1. The system-call fuzzer (user/bin/fuzz.c) on 1, 3 and 8 harts, at least
     STRESS_CALLS calls on each (default 1000000), as several seeds of
     two passes each; every run must end `fuzz: OK` (the second pass of a
     seed leaves free pages and live threads where the first left them).
  2. The thread stress program (user/bin/stress.c) on 8 harts for
     STRESS_SECS seconds (default 300): processes x LWPs x user threads
     doing pipes, futexes, mutexes, fork/exit and kill at once; it must end
     `stress: OK` (no lost message or update, no hang, no leak).
  3. The race tests (user/bin/racetests.c, docs/locking.md) on 3 and 8
     harts with `racetests -n STRESS_RACE_SCALE` (default 20): each race
     provoked that many times more than in `make test` (thousands of tries).
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

from qemu import Machine, ROOT, TestFailure  # noqa: E402

CALLS_PER_RUN = 100000          # per pass; a run is two passes
PASS_LINE = re.compile(r"fuzz: pass \d seed \d+: (\d+) calls, .*?(\d+) killed by the watchdog")


def why(m):
    """The end of the console: a panic's message and backtrace arrive just
    after the word that stopped the run, so give them a moment."""
    time.sleep(3)
    return "  console ends: " + m.output()[-1500:].replace("\n", "\n  ")


def fuzz(cpus, calls, results):
    made, runs, ok, wd = 0, 0, True, 0
    t0 = time.monotonic()
    image = os.path.join(ROOT, "fs.img")
    with Machine("stress-fuzz-cpus%d" % cpus, image, cpus=cpus, timeout=24 * 3600) as m:
        try:
            m.boot(120)
            seed = 1
            while made < calls:
                per_pass = min(CALLS_PER_RUN, max(1000, (calls - made + 1) // 2))
                m.send("fuzz %d %d 6 3" % (seed, per_pass))
                start = m.pos
                end = m.expect(r"fuzz: (OK|LEAK)", 6 * 3600)
                text = m.buf[start:end.end()]
                passes = PASS_LINE.findall(text)
                made += sum(int(c) for c, _ in passes)
                wd += sum(int(k) for _, k in passes)
                runs += 1
                summary = re.search(r"fuzz: \d+ calls;.*", text)
                print("fuzz cpus=%d seed %d: %s %s" % (cpus, seed, summary.group(0) if summary else "?",
                                                      end.group(1)), flush=True)
                if end.group(1) != "OK":
                    ok = False
                m.expect(r"\$ ", 60)
                seed += 1
            m.poweroff(60)
        except TestFailure as e:
            print("fuzz cpus=%d: FAILED: %s" % (cpus, e), flush=True)
            print(why(m), flush=True)
            ok = False
    results.append(("fuzz", cpus, made, runs, wd, ok, time.monotonic() - t0))


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
    results.append(("stress", cpus, secs, 1, 0, ok, time.monotonic() - t0))


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
    results.append(("races", cpus, scale, 1, 0, ok, time.monotonic() - t0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=int(os.environ.get("STRESS_CALLS", 1000000)))
    ap.add_argument("--secs", type=int, default=int(os.environ.get("STRESS_SECS", 300)))
    ap.add_argument("--cpus", default=os.environ.get("STRESS_CPUS", "1,3,8"))
    ap.add_argument("--race-scale", type=int, default=int(os.environ.get("STRESS_RACE_SCALE", 20)))
    opts = ap.parse_args()
    results = []
    for cpus in [int(c) for c in opts.cpus.split(",")]:
        fuzz(cpus, opts.calls, results)
    stress(8, opts.secs, results)
    for cpus in (3, 8):
        races(cpus, opts.race_scale, results)
    print()
    print("%-7s %5s %12s %5s %9s %7s %8s" % ("run", "harts", "calls/secs/x", "runs", "watchdog", "result", "wall"))
    for kind, cpus, n, runs, wd, ok, wall in results:
        print("%-7s %5d %12d %5d %9d %7s %7.0fs" % (kind, cpus, n, runs, wd, "ok" if ok else "FAILED", wall))
    bad = [r for r in results if not r[5]]
    print("stress: %s (panics and leaks fail a run; logs in tests/logs/stress-*.log)"
          % ("FAILED" if bad else "OK"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

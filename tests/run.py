#!/usr/bin/env python3
"""`make test`: runs every registered test group (tests/groups/*.py) against
the built kernel/kernel and fs.img, prints one line per test
(`PASS name (1.2s)` / `FAIL name: reason`) and ends with `N passed, M failed`.
Exit status 1 if anything failed.

    python3 tests/run.py [-k SUBSTRING] [-j N] [-v] [-l]

Console logs go to tests/logs/<test>.log. The test suites (tests/progs/*.c)
are in every fs.img; the programs a test adds of its own (tests/extra/*.c,
as EXTRA_UPROGS) are built into a second image (tests/logs/fs-progs.img) first.
A signal (Ctrl-C, SIGTERM, SIGHUP) or the end of its parent stops the run at
once with no QEMU left (tests/lifeline.py).
"""
import argparse
import concurrent.futures
import glob
import importlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import testlib  # noqa: E402
import lifeline  # noqa: E402
from qemu import ROOT, KERNEL  # noqa: E402


def load_groups():
    for path in sorted(glob.glob(os.path.join(HERE, "groups", "*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if not name.startswith("_"):
            importlib.import_module("groups." + name)
    return testlib.GROUPS


def run_group(grp, opts, results):
    """Run a group once. There is no retry: a test that fails now and then
    is a bug, usually a race, to find and fix (docs/decisions.md)."""
    ctx = testlib.Context(grp, opts, results)
    before = len(results)
    try:
        grp.fn(ctx)
    except Exception as e:
        ctx.report(grp.name, False, "%s: %s" % (type(e).__name__, e)
                   if not isinstance(e, testlib.TestFailure) else str(e))
    if len(results) == before and not opts.k and not ctx.idle:
        ctx.report(grp.name, False, "group reported no tests")


def main():
    lifeline.guard()              # Ctrl-C, SIGTERM, the parent's end: no QEMU left
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", metavar="SUBSTRING", help="run only tests whose name contains this")
    ap.add_argument("-j", type=int, default=2, help="groups run in parallel (default 2)")
    ap.add_argument("-v", dest="verbose", action="store_true", help="stream consoles")
    ap.add_argument("-l", dest="list", action="store_true", help="list groups and tests")
    opts = ap.parse_args()

    groups = [g for g in load_groups() if g.selected(opts.k)]
    if opts.k and not any(opts.k in g.name or any(opts.k in t or t in opts.k for t in g.tests)
                          for g in groups):
        print("no test or group named like %r (make test ONLY=NAME; "
              "python3 tests/run.py -l lists them)" % opts.k)
        return 2
    if opts.list:
        for g in groups:
            print(g.name + ": " + " ".join(g.tests))
        return 0
    for f in (KERNEL, os.path.join(ROOT, "fs.img")):
        if not os.path.exists(f):
            print("FAIL build: %s missing (run make first)" % os.path.relpath(f, ROOT))
            print("0 passed, 1 failed")
            return 1

    t0 = time.monotonic()
    progs = sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(HERE, "extra", "*.c")))
    testlib.prepare_images(progs)

    results = []
    groups.sort(key=lambda g: -g.weight)          # long ones first
    pool = concurrent.futures.ThreadPoolExecutor(max(1, opts.j))
    futures = [pool.submit(run_group, g, opts, results) for g in groups]
    for f in futures:
        f.result()
    pool.shutdown()

    passed = sum(1 for r in results if r[1])
    failed = len(results) - passed
    print("(%.0fs, logs in tests/logs/)" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())

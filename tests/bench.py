"""`make bench`: runs tests/progs/bench under QEMU with -icount shift=0 (one
guest instruction per nanosecond, so the time CSR counts instructions
deterministically) with CPUS=1 and CPUS=2, with and without 50 idle
processes, and prints one table of guest instructions per operation; then
`lockbench` with CPUS=2: guest instructions per acquisition of a umutex in
each mode and workload (lab adaptive; docs/adaptive.md); then the scaling
table, `scalebench` with CPUS=1: each cost with N = 2, 100 and 1000 threads,
LWPs or processes (docs/perf.md, "How costs grow").
`python3 tests/bench.py locks` or `scaling` prints only that table.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import Machine, ROOT  # noqa: E402

ROWS = [
    ("getpid", "getpid round trip"),
    ("lwp_pingpong", "LWP-to-LWP switch round trip (futex ping-pong, one process)"),
    ("pipe_roundtrip", "process-to-process round trip (pipe ping-pong, 1 byte each way)"),
    ("ult_pingpong", "ULT-to-ULT switch round trip (uthread_yield ping-pong, one LWP)"),
    ("lwp_create_join", "lwp_create + lwp_join"),
    ("ult_create_join", "uthread_create + uthread_join (one LWP)"),
    ("lwp_block_roundtrip", "block-and-unblock round trip, plain LWPs (pipe ping-pong, 2 blocks)"),
    ("upcall_block_roundtrip", "block-and-unblock round trip, ULTs at level 1 with upcalls (2 blocks)"),
    ("fork_exit_wait", "fork + exit + wait"),
    ("remote_wake_roundtrip", "futex ping-pong across CPUs (2 remote wake-ups via IPI messages)"),
]

LOCK_WORKLOADS = [
    ("oncpu", "oncpu: short sections, owner running on the other hart"),
    ("sleeper", "sleeper: owner sleeps a tick holding the mutex"),
    ("oversub", "oversub: 8 threads on 2 LWPs, owner yields inside every 8th section"),
]
LOCK_MODES = ["block", "spin", "adaptive"]

SCALE_COLUMNS = [2, 100, 1000]
SCALE_ROWS = [
    ("ult_yield", "ULT yield round trip, N runnable threads on one LWP"),
    ("ult_create_join", "uthread_create + uthread_join, N other threads blocked on a ucond"),
    ("ult_exit_join", "thread exit + join, per thread, N threads"),
    ("umutex_handover", "umutex lock/unlock hand-over between two threads, N idle threads"),
    ("lwp_futex", "LWP futex round trip, N other LWPs asleep on futexes (N ≤ 200)"),
    ("fork_wait", "fork + exit + wait, N idle processes (N ≤ 50)"),
    ("upcall_block", "upcall block/unblock round trip, N threads blocked in the kernel (N ≤ 50)"),
]


def measure(cpus, idle, cmd=None, timeout=240):
    """bench (idle) by default, else cmd (lockbench) with sleep=off: when
    every hart is idle the clock jumps straight to the next timer deadline
    instead of following the host's clock, so idle periods (the lock
    workloads have them) do not make figures differ run to run."""
    image = os.path.join(ROOT, "fs.img")
    name = "bench-cpus%d%s" % (cpus, "-idle" if idle else "") + ("-locks" if cmd else "")
    icount = "shift=0,sleep=off" if cmd else "shift=0"
    cmd = cmd or ("bench idle" if idle else "bench")
    with Machine(name, image, cpus=cpus, timeout=300, extra=["-icount", icount]) as m:
        m.boot(120)
        out = m.run(cmd, timeout)
        m.poweroff()
    return {k: int(v) for k, v in re.findall(r"^bench (\w+) (\d+)$", out, re.M)}


def main():
    configs = [(1, False), (1, True), (2, False), (2, True)]
    results = {c: measure(*c) for c in configs}
    heads = ["CPUS=%d%s" % (c, ", 50 idle procs" if i else "") for c, i in configs]
    print("| operation (guest instructions) | " + " | ".join(heads) + " |")
    print("|---|" + "---:|" * len(configs))
    for key, label in ROWS:
        cells = [("{:,}".format(results[c][key]) if key in results[c] else "-") for c in configs]
        print("| %s | %s |" % (label, " | ".join(cells)))
    print()
    print_locks(measure(2, False, "lockbench"))
    print()
    print_scaling(measure_scaling())


def print_locks(results):
    print("| umutex workload (CPUS=2, guest instructions per acquisition) | "
          + " | ".join(m.upper() for m in LOCK_MODES) + " |")
    print("|---|" + "---:|" * len(LOCK_MODES))
    for key, label in LOCK_WORKLOADS:
        cells = []
        for mode in LOCK_MODES:
            v = results.get("lock_%s_%s" % (key, mode))
            cells.append("{:,}".format(v) if v is not None else "-")
        print("| %s | %s |" % (label, " | ".join(cells)))


def measure_scaling():
    """{(row, N): instructions} from scalebench, CPUS=1."""
    image = os.path.join(ROOT, "fs.img")
    with Machine("bench-scaling", image, cpus=1, timeout=300, extra=["-icount", "shift=0"]) as m:
        m.boot(120)
        out = m.run("scalebench", 240)
        m.poweroff()
    return {(r, int(n)): int(v) for r, n, v in re.findall(r"^scale (\w+) (\d+) (\d+)$", out, re.M)}


def print_scaling(results):
    """One column per N; a row whose largest N is below a column's shows its
    largest N's figure there, marked, and leaves later columns empty."""
    print("| scaling (CPUS=1, guest instructions) | "
          + " | ".join("N=%d" % n for n in SCALE_COLUMNS) + " |")
    print("|---|" + "---:|" * len(SCALE_COLUMNS))
    for key, label in SCALE_ROWS:
        measured = sorted(n for r, n in results if r == key)
        cells = []
        for i, col in enumerate(SCALE_COLUMNS):
            prev = SCALE_COLUMNS[i - 1] if i else 0
            n = [m for m in measured if prev < m <= col]
            if not n:
                cells.append("-")
                continue
            fig = "{:,}".format(results[(key, n[-1])])
            cells.append(fig if n[-1] == col else "%s (N=%d)" % (fig, n[-1]))
        print("| %s | %s |" % (label, " | ".join(cells)))


if __name__ == "__main__":
    if sys.argv[1:] == ["locks"]:       # only the lock table
        print_locks(measure(2, False, "lockbench"))
    elif sys.argv[1:] == ["scaling"]:   # only the scaling table
        print_scaling(measure_scaling())
    else:
        main()

"""`make bench`: runs user/bin/bench under QEMU with -icount shift=0 (one
guest instruction per nanosecond, so the time CSR counts instructions
deterministically) with CPUS=1 and CPUS=2, with and without 50 idle
processes, and prints one table of guest instructions per operation.
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


def measure(cpus, idle):
    image = os.path.join(ROOT, "fs.img")
    cmd = "bench idle" if idle else "bench"
    name = "bench-cpus%d%s" % (cpus, "-idle" if idle else "")
    with Machine(name, image, cpus=cpus, timeout=300, extra=["-icount", "shift=0"]) as m:
        m.boot(120)
        out = m.run(cmd, 240)
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


if __name__ == "__main__":
    main()

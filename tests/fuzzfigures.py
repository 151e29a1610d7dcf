"""The figures of one fuzz run (tests/progs/fuzz.c), checked before anyone
counts them: tests/stress.py and the fuzz group both read runs through
check(). Owns the pass-line format and what makes a figure impossible; it
boots nothing.

A figure the harness cannot have produced honestly fails the run as a
harness failure, quoting the line that showed it:
  - a `fuzz: HARNESS:` line (the master found a slot's frame bad);
  - a pass line that does not parse, passes out of order, another seed;
  - a pass with more calls than it asked for, or more watchdog kills or
    rejected reports than processes;
  - a rate beyond the machine: more than MAX_CALLS_PER_HART_TICK calls per
    hart per clock tick;
  - a total that is not the sum of its passes.
Counts that move backwards, or pass what a process was asked for, are
caught earlier, where they arrive: the fuzzer rejects that process's report
(it scribbled over its own count), counts the rejection, and not its calls.
Rejected reports are therefore figures, not failures.
"""
import re

PASS_LINE = re.compile(
    r"^fuzz: pass (?P<pass>\d+) seed (?P<seed>\d+): (?P<calls>\d+) calls, (?P<procs>\d+) procs x "
    r"(?P<lwps>\d+) lwps, (?P<processes>\d+) processes, (?P<watchdog>\d+) killed by the watchdog, "
    r"(?P<rejected>\d+) reports rejected, (?P<ticks>\d+) ticks, free pages -?\d+, "
    r"live threads -?\d+$")
TOTAL_LINE = re.compile(r"^fuzz: (\d+) calls;")

# The cheapest system call, getpid, is a 260-instruction round trip
# (docs/perf.md); a fuzzed call also draws its arguments. A hart runs at
# most 10^7 instructions in a 10 ms tick (one a nanosecond: what -icount
# shift=0 makes exact, and more than QEMU reaches without it on this host),
# so no hart makes 10^7 / 300 calls in a tick. Real runs make 10 to 30;
# issue 24's bad pass claimed 160,000 (1,073,847,472 calls, 823 ticks, 8 harts).
MAX_CALLS_PER_HART_TICK = 10**7 // 300


class Figures:
    def __init__(self):
        self.calls = self.watchdog = self.rejected = self.processes = 0
        self.passes = []


def check(text, seed, calls, cpus):
    """Check the output of `fuzz SEED CALLS ...` on `cpus` harts. Returns
    (Figures, problem): problem is None, or "harness failure: why: line"."""
    fig = Figures()
    lines = [line.strip() for line in text.splitlines()]

    def bad(why, line):
        return fig, "harness failure: %s: %s" % (why, line)

    for line in lines:
        if line.startswith("fuzz: HARNESS"):
            return bad("the fuzzer found an impossible figure", line)
    for line in lines:
        if not line.startswith("fuzz: pass "):
            continue
        m = PASS_LINE.match(line)
        if not m:
            return bad("a pass line that does not parse", line)
        p = {k: int(v) for k, v in m.groupdict().items()}
        if p["pass"] != len(fig.passes) + 1 or p["seed"] != seed:
            return bad("pass %d of seed %d expected" % (len(fig.passes) + 1, seed), line)
        if p["calls"] > calls:
            return bad("more calls than the pass asked for (%d)" % calls, line)
        if p["watchdog"] + p["rejected"] > p["processes"]:
            return bad("more watchdog kills and rejected reports than processes", line)
        if p["calls"] > MAX_CALLS_PER_HART_TICK * cpus * max(p["ticks"], 1):
            return bad("more than %d calls per hart per tick on %d harts"
                       % (MAX_CALLS_PER_HART_TICK, cpus), line)
        fig.passes.append(p)
        fig.calls += p["calls"]
        fig.watchdog += p["watchdog"]
        fig.rejected += p["rejected"]
        fig.processes += p["processes"]
    for line in lines:
        m = TOTAL_LINE.match(line)
        if m and int(m.group(1)) != fig.calls:
            return bad("a total that is not the sum of its passes (%d)" % fig.calls, line)
    return fig, None

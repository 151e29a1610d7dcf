"""Reading a test's console output and scoring it, without QEMU.

Only lines `GRADE <token> START <pid>`, `GRADE <token> <name> ok|fail` and
`GRADE <token> END <n>` with this run's token count (they may follow other
text on the same line, since the token cannot be guessed); everything else
is log. A kernel panic (the kernel's own `panic: hart N:` line) or an output
flood scores 0; a timeout or a program that ended without its end line keeps
the results it printed (missing expected results are failures).

Evidence of forging scores 0 with the status INTEGRITY and what was seen:
result lines before the program's START line, a second START or END line,
result lines after END, or the END line sooner after the command was typed
than the program can take (grade.h's grade_end() waits MIN_TICKS ticks of
the guest's clock, which never runs faster than the host's, and a test may
ask for more with "min_seconds").
"""
import re

PANIC = re.compile(r"panic: hart \d+: ")
MIN_TICKS = 5                       # grade/testlib/grade.h GRADE_MIN_TICKS
TICK = 0.01                         # kernel/param.h HZ 100
FLOOR = (MIN_TICKS - 1) * TICK      # sleep(n) may start just before a tick
INTEGRITY = "INTEGRITY"


def lines_of(token, text):
    """Every GRADE line of this token, in order: (name, value)."""
    line = re.compile(r"GRADE %s (\S+) (\S+)[ \t]*$" % re.escape(token), re.M)
    return [(m.group(1), m.group(2)) for m in line.finditer(text)]


def find_results(token, text):
    """(results, end_count): results maps name -> True/False (a name that was
    reported both ok and fail counts as fail), from the lines between START
    and the first END; end_count is the number on the END line, or None."""
    results, end, started = {}, None, False
    for name, value in lines_of(token, text):
        if name == "START":
            started = True
        elif name == "END":
            if end is None and value.isdigit():
                end = int(value)
        elif started and end is None and value in ("ok", "fail"):
            results[name] = results.get(name, True) and value == "ok"
    return results, end


def forged(token, text, took=None, min_seconds=0.0):
    """What shows the output was not (only) the test program's: a one-line
    description, or None."""
    starts = ends = 0
    for name, value in lines_of(token, text):
        if name == "START":
            starts += 1
            if starts > 1:
                return "a second START line"
        elif name == "END":
            ends += 1
            if ends > 1:
                return "a second END line"
        elif value in ("ok", "fail"):
            if not starts:
                return "result line '%s %s' before the test program started" % (name, value)
            if ends:
                return "result line '%s %s' after the END line" % (name, value)
    if ends and not starts:
        return "END line before the test program started"
    least = max(FLOOR, min_seconds)
    if ends and took is not None and took < least:
        return "all results %.3f s after the command was typed; the program takes at least %.2f s" % (
            took, least)
    return None


def evaluate(test, token, text, killed=None, took=None):
    """Score one test. test: a spec test dict (points, expect, partial);
    text: the console output from the typed command on; killed: None,
    "timeout", "flood" or "noboot" (why the harness stopped QEMU); took:
    seconds from typing the command to the END line (None: not measured).
    Returns dict(score, max_score, status, detail, results)."""
    points = test["points"]
    results, end = find_results(token, text)
    expect = list(test["expect"])
    passed = [n for n in expect if results.get(n)]
    lines = []
    for n in expect:
        lines.append("  %-24s %s" % (n, "ok" if results.get(n) else
                                      "FAILED" if n in results else "missing"))

    def out(score, status):
        detail = status + ("\n" + "\n".join(lines) if lines else "")
        if score < points and test.get("hint"):
            detail += "\n  hint: " + test["hint"]
        return {"score": round(score, 2), "max_score": points, "status": status,
                "detail": detail, "results": results}

    m = PANIC.search(text)
    if m:
        eol = text.find("\n", m.start())
        return out(0, "kernel panic: " + text[m.start():eol if eol >= 0 else None].strip()[:160])
    seen = forged(token, text, took, test.get("min_seconds", 0))
    if seen:
        return out(0, "%s: %s" % (INTEGRITY, seen))
    if killed == "flood":
        return out(0, "output flood")
    if killed == "noboot":
        return out(0, "did not boot to the shell prompt")
    if test["partial"] == "fraction":
        score = points * len(passed) / len(expect)
    else:
        score = points if len(passed) == len(expect) else 0
    if killed == "timeout":
        status = "timeout (%ss)" % test["timeout"]
    elif end is None:
        status = "test program ended without its end line"
    elif len(passed) == len(expect):
        status = "ok"
    else:
        status = "%d/%d passed" % (len(passed), len(expect))
    return out(score, status)

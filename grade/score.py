"""Reading a test's console output and scoring it, without QEMU.

Only lines `GRADE <token> START <pid>`, `GRADE <token> <name> ok|fail` and
`GRADE <token> END <n> <digest>` with this run's token count (they may follow
other text on the same line, since the token cannot be guessed); everything
else is log. A test's results count only with its end line: a kernel panic
(the kernel's own `panic: hart N:` line), an output flood, a timeout or a
program that ended without its end line scores 0 (the detail still lists
what it printed, and a test short of full marks shows the console's last
lines (diagnostics()) as they are). The end line's digest (digest(), the computation of
grade/testlib/grade.h) covers every result line under the token: a result
line the program did not print, or one rewritten on its way, does not match.
The program also leaves its end line in the file system (END_FILE), read
back from the test's disk image: none scores 0 (code that printed the
program's lines without running it), and one that differs from the
console's is INTEGRITY (out of band: a console filter does not see the disk).

Evidence of forging scores 0 with the status INTEGRITY and what was seen:
result lines before the program's START line, a second START or END line,
result lines after END, or the END line sooner after the command was typed
than the program can take (grade.h's grade_end() waits MIN_TICKS ticks of
the guest's clock, which never runs faster than the host's without
-icount (an "icount" test is not timed), and a test may ask for more with
"min_seconds"), or an end line whose count or digest does
not match the result lines.
"""
import re

PANIC = re.compile(r"panic: hart \d+: ")
FEEDBACK_LINES = 10                 # the program's last lines a failed test shows
FEEDBACK_BYTES = 1024
FEEDBACK_WIDTH = 320                # a test's own "stuck for 150 ticks ..." line fits
MIN_TICKS = 5                       # grade/testlib/grade.h GRADE_MIN_TICKS
END_FILE = "grade.end"              # grade.h GRADE_END_FILE, in the image's root
TICK = 0.01                         # kernel/param.h HZ 100
FLOOR = (MIN_TICKS - 1) * TICK      # sleep(n) may start just before a tick
INTEGRITY = "INTEGRITY"


FNV_BASIS, FNV_PRIME, MASK = 0xcbf29ce484222325, 0x100000001b3, (1 << 64) - 1


def fnv(text, h=FNV_BASIS):
    for b in text.encode():
        h = ((h ^ b) * FNV_PRIME) & MASK
    return h


def digest(token, lines):
    """The end line's `<count> <digest>` for result lines [(name, value)]
    (grade.h grade_end(): FNV-1a of "<token> END <count> <sum>", sum being
    the 64-bit sum of each line's FNV-1a of "<token> <name> <value>")."""
    total = sum(fnv("%s %s %s" % (token, n, v)) for n, v in lines) & MASK
    return "%d %016x" % (len(lines), fnv("%s END %d %016x" % (token, len(lines), total)))


def lines_of(token, text):
    """Every GRADE line of this token, in order: (name, value, rest)."""
    line = re.compile(r"GRADE %s (\S+) (\S+)(?: (\S+))?[ \t]*$" % re.escape(token), re.M)
    return [(m.group(1), m.group(2), m.group(3) or "") for m in line.finditer(text)]


def find_results(token, text):
    """(results, end): results maps name -> True/False (a name that was
    reported both ok and fail counts as fail), from the lines between START
    and the first END; end is the END line's "<count> <digest>", or None."""
    results, end, started = {}, None, False
    for name, value, rest in lines_of(token, text):
        if name == "START":
            started = True
        elif name == "END":
            if end is None:
                end = ("%s %s" % (value, rest)).strip()
        elif started and end is None and value in ("ok", "fail"):
            results[name] = results.get(name, True) and value == "ok"
    return results, end


def forged(token, text, took=None, min_seconds=0.0):
    """What shows the output was not (only) the test program's: a one-line
    description, or None."""
    starts = ends = 0
    seen, end = [], None
    for name, value, rest in lines_of(token, text):
        if name == "START":
            starts += 1
            if starts > 1:
                return "a second START line"
        elif name == "END":
            ends += 1
            if ends > 1:
                return "a second END line"
            end = ("%s %s" % (value, rest)).strip()
        elif value in ("ok", "fail"):
            seen.append((name, value))
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
    if end is not None and end != digest(token, seen):
        return ("the end line '%s' does not match the %d result line(s) printed (a result line "
                "the program did not print, or one rewritten on its way)" % (end[:40], len(seen)))
    return None


def diagnostics(token, text):
    """The console's last lines other than the harness's own (the command
    with its token, GRADE lines, prompts): at most FEEDBACK_LINES lines of
    FEEDBACK_WIDTH characters and FEEDBACK_BYTES in all, printable ASCII
    only. Shown to the student as the program's output, never read for a
    verdict."""
    kept = []
    for line in text.splitlines():
        line = "".join(c if " " <= c <= "~" else "?" for c in line.expandtabs(2)).rstrip()
        if token in line or line.strip() in ("", "$"):
            continue
        if line.startswith("$ "):
            line = line[2:]
        kept.append(line[:FEEDBACK_WIDTH])
    kept = kept[-FEEDBACK_LINES:]
    while kept and sum(len(x) + 5 for x in kept) > FEEDBACK_BYTES:
        kept.pop(0)
    return kept


def evaluate(test, token, text, killed=None, took=None, disk_end=None):
    """Score one test. test: a spec test dict (points, expect, partial);
    text: the console output from the typed command on; killed: None,
    "timeout", "flood" or "noboot" (why the harness stopped QEMU); took:
    seconds from typing the command to the END line (None: not measured);
    disk_end: the END_FILE text read from the test's disk image after the
    END line ("": the image has none; None: not read).
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
        said = diagnostics(token, text) if score < points else []
        if said:
            detail += "\n  the console's last lines:\n" + "\n".join("  | " + x for x in said)
        return {"score": round(score, 2), "max_score": points, "status": status,
                "detail": detail, "results": results}

    m = PANIC.search(text)
    if m:
        eol = text.find("\n", m.start())
        return out(0, "kernel panic: " + text[m.start():eol if eol >= 0 else None].strip()[:160])
    seen = forged(token, text, took, test.get("min_seconds", 0))
    if seen:
        return out(0, "%s: %s" % (INTEGRITY, seen))
    if end is not None and disk_end == "":
        return out(0, "the end line is not in the program's file system (/%s): no result counts"
                   % END_FILE)
    if end is not None and disk_end is not None and disk_end.strip() != end:
        return out(0, "%s: the end line on the console ('%s') is not the one the program left in "
                   "its file system ('%s')" % (INTEGRITY, end[:40], disk_end.strip()[:40]))
    if killed == "flood":
        return out(0, "output flood")
    if killed == "noboot":
        return out(0, "did not boot to the shell prompt")
    if killed == "timeout":
        return out(0, "timeout (%ss): no end line, so no result counts" % test["timeout"])
    if end is None:
        return out(0, "test program ended without its end line (no result counts)")
    if test["partial"] == "fraction":
        score = points * len(passed) / len(expect)
    else:
        score = points if len(passed) == len(expect) else 0
    if len(passed) == len(expect):
        status = "ok"
    else:
        status = "%d/%d passed" % (len(passed), len(expect))
    return out(score, status)

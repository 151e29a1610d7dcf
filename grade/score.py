"""Reading a test's console output and scoring it, without QEMU.

Only lines `GRADE <token> <name> ok|fail` and `GRADE <token> END <n>` with
this run's token count (they may follow other text on the same line, since
the token cannot be guessed); everything else is log. A kernel panic or an
output flood scores 0; a timeout or a program that ended without its end line
keeps the results it printed (missing expected results are failures).
"""
import re

PANIC = re.compile(r"panic:")


def find_results(token, text):
    """(results, end_count): results maps name -> True/False (a name that was
    reported both ok and fail counts as fail); end_count is the number on
    the END line, or None if there is none."""
    line = re.compile(r"GRADE %s (\S+) (\S+)[ \t]*$" % re.escape(token), re.M)
    results, end = {}, None
    for m in line.finditer(text):
        name, value = m.group(1), m.group(2)
        if name == "END":
            if end is None and value.isdigit():
                end = int(value)
        elif end is None and value in ("ok", "fail"):
            results[name] = results.get(name, True) and value == "ok"
    return results, end


def evaluate(test, token, text, killed=None):
    """Score one test. test: a spec test dict (points, expect, partial);
    text: the console output from the typed command on; killed: None,
    "timeout", "flood" or "noboot" (why the harness stopped QEMU).
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
        return {"score": round(score, 2), "max_score": points, "status": status,
                "detail": detail, "results": results}

    m = PANIC.search(text)
    if m:
        eol = text.find("\n", m.start())
        return out(0, "kernel panic: " + text[m.start():eol if eol >= 0 else None].strip()[:160])
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

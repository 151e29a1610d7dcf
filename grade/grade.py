#!/usr/bin/env python3
"""The grading harness's command line: grade one tree (the main tree, a
student's, or --repo DIR) on one lab or all labs, print a table, write the
console logs to grade-logs/<lab>/<test>.log and optionally Gradescope's
results.json. Only the lab's student files are taken from the tree, into a
pristine tree built from this harness's own (build.py); files.log lists what
was taken and what was ignored. A lab's written-answers check (lab.json
"answers", answers.py) runs on the host against the submission's file,
before and independent of the build and QEMU. `grade.py batch ...` grades a
folder of submissions (batch.py). A signal or the end of its parent stops a
grading at once, leaving no QEMU, build or temporary folder behind
(tests/lifeline.py).

    python3 grade/grade.py [--lab NAME] [--test TEST] [--json results.json]
                           [--repo DIR] [--hidden DIR] [--labs-dir DIR] [--logs DIR]
    python3 grade/grade.py batch DIR --lab NAME [-j N] [--shard i/n] [--hidden DIR]

Exit status: 0 full marks, 1 anything less, 2 usage or spec error.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import answers as answersmod  # noqa: E402
import build  # noqa: E402
import lifeline  # noqa: E402  (tests/, on the path through build)
import score as scoremod  # noqa: E402
import spec as specmod  # noqa: E402


def _line(spec, r, details=True):
    """A test's row; below it, for a test short of full marks, the rest of
    its detail (what each result was, its hint, the console's last lines):
    the feedback Gradescope shows as the test's output."""
    print("  %-28s %6s / %-4s %s" % (spec["name"] + "/" + r["test"]["name"], _num(r["score"]),
                                    _num(r["max_score"]), r["status"]), flush=True)
    if details and r["score"] < r["max_score"]:
        for line in r["detail"].splitlines()[1:]:
            print("      " + line)


def check_answers(repo, spec, logs):
    """The host-side answers check (no build, no QEMU): a result dict."""
    t0 = time.monotonic()
    readme = os.path.join(spec["dir"], "README.md")
    text = ""
    if os.path.isfile(readme):
        with open(readme, errors="replace") as f:
            text = f.read()
    docs = build.handout.shipped_docs(specmod.ROOT, spec["name"])
    r = answersmod.check(spec["answers"], repo, text, spec["student_files"], docs)
    r.update(test=spec["answers"], elapsed=time.monotonic() - t0)
    os.makedirs(logs, exist_ok=True)
    with open(os.path.join(logs, spec["answers"]["name"] + ".log"), "w") as f:
        f.write(r["detail"] + "\n")
    _line(spec, r)
    return r


def _files_log(path, notes, ignored):
    """Write what was taken from the submission and what was ignored."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("# only the lab's student_files are taken; the rest is the handout's\n")
        for n in notes:
            f.write(n + "\n")
        for rel in ignored:
            f.write("ignored (not a student file of this lab): %s\n" % rel)


def clear_logs(logs, spec, tests, answers):
    """Remove what an earlier run left in the lab's log folder: the logs of
    every test (all of them when the whole lab runs), the build and files
    logs, and QEMU's leftover disk copies."""
    if not os.path.isdir(logs):
        return
    names = {t["name"] for t in tests} | {"build", "files"}
    if answers:
        names.add(spec["answers"]["name"])
    whole = {t["name"] for t in spec["tests"]} <= {t["name"] for t in tests}
    for f in os.listdir(logs):
        base, ext = os.path.splitext(f)
        if ext in (".log", ".img") and (whole or base in names):
            os.remove(os.path.join(logs, f))


def grade_lab(repo, spec, tests, logs, answers=False):
    """Check the answers (if `answers`), then build the lab's pristine tree
    with repo's student files in it and run `tests`. Returns (results,
    ignored): a list of result dicts, and the changed files that were not
    taken."""
    clear_logs(logs, spec, tests, answers)
    unsolved = spec["needs"] and build.handout.unsolved_needs_line(specmod.ROOT, spec["name"],
                                                                    spec["needs"])
    if unsolved:                 # a student's tree without an earlier lab it builds on
        print("  NOTE: " + unsolved, flush=True)
    results = [check_answers(repo, spec, logs)] if answers else []
    if not tests:
        return results, []
    ignored = []
    with lifeline.scratch("spindle-grade-") as work:
        try:
            build.check_tools()
            build_log = os.path.join(logs, "build.log")
            tree, extra, notes, ignored = build.prepare(repo, spec, work, log_path=build_log)
            _files_log(os.path.join(logs, "files.log"), notes, ignored)
            if ignored and repo != specmod.ROOT:     # the instructor's own tree differs by design
                print("  ignored %d changed file(s): %s\n  %s" % (
                    len(ignored), ", ".join(ignored[:8]) + (" ..." if len(ignored) > 8 else ""),
                    expected_note(spec["student_files"])), flush=True)
            build.build(tree, extra, build_log, spec["student_files"])
            notes += build.check_objects(tree, spec)
            _files_log(os.path.join(logs, "files.log"), notes, ignored)
        except (build.BuildError, build.handout.HandoutError, OSError) as e:
            for t in tests:
                results.append(dict(test=t, score=0, max_score=t["points"], status=str(e).split("\n")[0],
                                    detail=str(e), elapsed=0.0, build_error=str(e)))
                _line(spec, results[-1], details=t is tests[-1])
            return results, ignored
        for t in tests:
            t0 = time.monotonic()
            r = build.run_test(tree, t, os.path.join(logs, t["name"] + ".log"))
            r.update(test=t, elapsed=time.monotonic() - t0)
            results.append(r)
            _line(spec, r)
    return results, ignored


def flags(all_results, ignored):
    """Words for the batch CSV's flags column: integrity:<test> per test
    with evidence of forging, ignored:<n> for changed files not taken."""
    out = ["integrity:%s/%s" % (lab, r["test"]["name"]) for lab, r in all_results
           if r["status"].startswith(scoremod.INTEGRITY) or r.get("integrity")]
    if ignored:
        out.append("ignored:%d" % len(ignored))
    return out


def _num(x):
    return ("%.2f" % x).rstrip("0").rstrip(".")


def expected_note(student_files):
    """The line that tells a student which files a lab takes."""
    return ("This lab grades only: %s (with their paths, or the files alone at the top)"
            % ", ".join(student_files))


def gradescope_json(all_results, ignored=(), expected=()):
    tests = []
    for lab, r in all_results:
        t = r["test"]
        tests.append({"name": "%s/%s" % (lab, t["name"]), "score": r["score"],
                      "max_score": r["max_score"], "visibility": t["visibility"],
                      "status": "passed" if r["score"] >= r["max_score"] else "failed",
                      "output": r["detail"], "execution_time": round(r["elapsed"], 1)})
    doc = {"score": round(sum(x["score"] for x in tests), 2), "tests": tests,
           "visibility": "visible", "stdout_visibility": "hidden"}
    errors = [r["build_error"] for _, r in all_results if r.get("build_error")]
    notes = []
    if errors:
        notes.append(errors[0])
    if ignored:
        notes.append("Ignored (only the lab's student files are graded): " + ", ".join(ignored))
        if expected:
            notes.append(expected_note(expected))
    if notes:
        doc["output"] = "\n".join(notes)
    doc["extra_data"] = {"status": errors[0].split("\n")[0] if errors else "graded",
                         "flags": flags(all_results, ignored), "ignored": list(ignored)}
    return doc


def summary(all_results):
    lines = ["%-32s %8s %6s  %s" % ("test", "score", "max", "status")]
    for lab, r in all_results:
        lines.append("%-32s %8s %6s  %s" % (lab + "/" + r["test"]["name"], _num(r["score"]),
                                            _num(r["max_score"]), r["status"]))
    total = sum(r["score"] for _, r in all_results)
    most = sum(r["max_score"] for _, r in all_results)
    lines.append("%-32s %8s %6s" % ("TOTAL", _num(total), _num(most)))
    return "\n".join(lines), total, most


def main(argv):
    lifeline.guard()          # a signal, or the parent's end, leaves no QEMU and no grading going on
    if argv and argv[0] == "batch":
        import batch
        return batch.main(argv[1:])
    ap = argparse.ArgumentParser(prog="grade.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--lab", help="grade this lab only (default: every lab, in order)")
    ap.add_argument("--test", action="append", help="run only this test (repeatable)")
    ap.add_argument("--json", help="write Gradescope's results.json here")
    ap.add_argument("--repo", default=specmod.ROOT, help="the tree to grade (default: this one)")
    ap.add_argument("--hidden", help="instructor's hidden tests: DIR/lab.json (or DIR/<lab>/lab.json)")
    ap.add_argument("--labs-dir", default=specmod.LABS, help=argparse.SUPPRESS)
    ap.add_argument("--logs", help="log folder (default: REPO/grade-logs)")
    opts = ap.parse_args(argv)
    repo = os.path.abspath(opts.repo)
    labs = [opts.lab] if opts.lab else specmod.lab_names(opts.labs_dir)
    if not labs:
        print("grade: no labs under %s: nothing to grade" % opts.labs_dir)
        return 0
    all_results, ignored, expected = [], [], []
    for lab in labs:
        try:
            spec = specmod.load(lab, opts.labs_dir, opts.hidden)
        except specmod.SpecError as e:
            print("grade: %s" % e, file=sys.stderr)
            return 2
        tests = [t for t in spec["tests"] if not opts.test or t["name"] in opts.test]
        answers = bool(spec["answers"]) and (not opts.test or spec["answers"]["name"] in opts.test)
        if opts.test and not tests and not answers:
            continue
        logs = os.path.join(os.path.abspath(opts.logs or os.path.join(repo, "grade-logs")), lab)
        print("grading lab %s (%s)" % (lab, repo), flush=True)
        results, skipped = grade_lab(repo, spec, tests, logs, answers=answers)
        all_results += [(lab, r) for r in results]
        expected += spec["student_files"]
        ignored += [x for x in skipped if x not in ignored]
    if opts.test and not all_results:
        print("grade: no test named %s" % ", ".join(opts.test), file=sys.stderr)
        return 2
    table, total, most = summary(all_results)
    print(table)
    if opts.json:
        os.makedirs(os.path.dirname(os.path.abspath(opts.json)), exist_ok=True)
        with open(opts.json, "w") as f:
            json.dump(gradescope_json(all_results, ignored, expected), f, indent=2)
    return 0 if total >= most else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

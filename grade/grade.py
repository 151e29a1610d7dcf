#!/usr/bin/env python3
"""The grading harness's command line: grade one tree (the main tree, a
student's, or --repo DIR) on one lab or all labs, print a table, write the
console logs to grade-logs/<lab>/<test>.log and optionally Gradescope's
results.json. A lab's written-answers check (lab.json "answers", answers.py)
runs on the host against the submission's file, before and independent of
the build and QEMU. `grade.py batch ...` grades a folder of submissions
(batch.py).

    python3 grade/grade.py [--lab NAME] [--test TEST] [--json results.json]
                           [--repo DIR] [--hidden DIR] [--labs-dir DIR] [--logs DIR]
    python3 grade/grade.py batch DIR --lab NAME [-j N] [--shard i/n] [--hidden DIR]

Exit status: 0 full marks, 1 anything less, 2 usage or spec error.
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import answers as answersmod  # noqa: E402
import build  # noqa: E402
import spec as specmod  # noqa: E402


def _line(spec, r):
    print("  %-28s %6s / %-4s %s" % (spec["name"] + "/" + r["test"]["name"], _num(r["score"]),
                                    _num(r["max_score"]), r["status"]), flush=True)


def is_instructor_tree(repo):
    """Is repo the tree this harness lives in? Only then may the answers check
    fall back to the lab's model answers (never for --repo SUBMISSION)."""
    return os.path.realpath(repo) == os.path.realpath(specmod.ROOT)


def check_answers(repo, spec, logs):
    """The host-side answers check (no build, no QEMU): a result dict."""
    t0 = time.monotonic()
    r = answersmod.check(spec["answers"], repo, is_instructor_tree(repo))
    r.update(test=spec["answers"], elapsed=time.monotonic() - t0)
    os.makedirs(logs, exist_ok=True)
    with open(os.path.join(logs, spec["answers"]["name"] + ".log"), "w") as f:
        f.write(r["detail"] + "\n")
    _line(spec, r)
    return r


def grade_lab(repo, spec, tests, logs, keep=False, answers=False):
    """Check the answers (if `answers`), then build repo for the lab and run
    `tests`; a list of result dicts."""
    results = [check_answers(repo, spec, logs)] if answers else []
    if not tests:
        return results
    with tempfile.TemporaryDirectory(prefix="spindle-grade-") as work:
        try:
            tree, extra = build.prepare(repo, spec, work)
            build.build(tree, extra, os.path.join(logs, "build.log"))
        except build.BuildError as e:
            for t in tests:
                results.append(dict(test=t, score=0, max_score=t["points"], status=str(e).split("\n")[0],
                                    detail=str(e), elapsed=0.0, build_error=str(e)))
            return results
        for t in tests:
            t0 = time.monotonic()
            r = build.run_test(tree, t, os.path.join(logs, t["name"] + ".log"))
            r.update(test=t, elapsed=time.monotonic() - t0)
            results.append(r)
            _line(spec, r)
    return results


def _num(x):
    return ("%.2f" % x).rstrip("0").rstrip(".")


def gradescope_json(all_results):
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
    if errors:
        doc["output"] = errors[0]
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
    all_results = []
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
        all_results += [(lab, r) for r in grade_lab(repo, spec, tests, logs, answers=answers)]
    if opts.test and not all_results:
        print("grade: no test named %s" % ", ".join(opts.test), file=sys.stderr)
        return 2
    table, total, most = summary(all_results)
    print(table)
    if opts.json:
        os.makedirs(os.path.dirname(os.path.abspath(opts.json)), exist_ok=True)
        with open(opts.json, "w") as f:
            json.dump(gradescope_json(all_results), f, indent=2)
    return 0 if total >= most else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""The zip a student uploads: only the student files of one lab (its
answers file included), at their paths, checked as grading will take them
(regular files of at most 1 MB, no links). Says what is missing or still the
template, so nothing is lost between `make grade` and the upload.

    python3 grade/handin.py --lab NAME [--repo DIR] [--out FILE]   # make handin LAB=NAME

Writes handin-<lab>.zip at the top of the tree by default. Never reads or
writes anything else of the tree.
"""
import argparse
import os
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spec as specmod  # noqa: E402
from answers import parse, regular_file  # noqa: E402
from build import MAX_FILE  # noqa: E402


def handin(repo, spec, out):
    """Write the zip; (files put in it, warnings)."""
    taken, warnings = [], []
    placeholder = spec["answers"]["placeholder"] if spec["answers"] else None
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in spec["student_files"]:
            path, why = regular_file(repo, rel, MAX_FILE)
            if path is None:
                warnings.append("%s: %s, not handed in" % (rel, why))
                continue
            z.write(path, rel)
            taken.append(rel)
            if placeholder and spec["answers"]["file"] == rel:
                with open(path, errors="replace") as f:
                    left = [q for q, text in parse(f.read()).items() if placeholder in text]
                if left:
                    warnings.append("%s: %s still '%s'" % (
                        rel, ", ".join("Q%d" % q for q in sorted(left)), placeholder))
    return taken, warnings


def main(argv):
    ap = argparse.ArgumentParser(prog="handin.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--lab", required=True)
    ap.add_argument("--repo", default=specmod.ROOT)
    ap.add_argument("--out", help="default: REPO/handin-LAB.zip")
    opts = ap.parse_args(argv)
    repo = os.path.abspath(opts.repo)
    try:
        spec = specmod.load(opts.lab, os.path.join(repo, "labs"))
    except specmod.SpecError as e:
        print("handin: %s" % e, file=sys.stderr)
        return 2
    out = os.path.abspath(opts.out or os.path.join(repo, "handin-%s.zip" % opts.lab))
    taken, warnings = handin(repo, spec, out)
    for w in warnings:
        print("handin: warning: %s" % w)
    if not taken:
        os.remove(out)
        print("handin: no file of lab %s to hand in (%s)" % (opts.lab,
                                                          ", ".join(spec["student_files"])),
              file=sys.stderr)
        return 1
    print("handin: %s holds %s; upload it (Gradescope takes the zip as it is)"
          % (os.path.relpath(out), ", ".join(taken)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

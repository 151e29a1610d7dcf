#!/usr/bin/env python3
"""Building Gradescope's autograder.zip for one lab:

    python3 grade/gradescope/make_zip.py --lab NAME [--hidden DIR] [--out autograder.zip]

The zip holds no solution of this lab or a later one: the lab's handout tree
(tools/handout.py: solution regions of this lab and later ones replaced by
their stubs, model answers, labs/*/solution* and instructor pages left out)
with the earlier labs' solutions released, since a lab is graded on the
reference's earlier labs as `make grade` does (students never see the zip;
the handouts they get keep every open lab a stub), with the lab's full
lab.json and its hidden test programs put back, setup.sh and run_autograder
at its top, a LAB file naming the lab, and DIR's lab.json and programs under
hidden/. The harness in it grades against that same tree, so Gradescope and
`make grade` give the same score for the same student files.
"""
import argparse
import os
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import spec as specmod  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tools"))
from handout import earlier, make_handout  # noqa: E402


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--lab", required=True)
    ap.add_argument("--hidden")
    ap.add_argument("--out", default="autograder.zip")
    opts = ap.parse_args(argv)
    try:
        spec = specmod.load(opts.lab, hidden=opts.hidden)      # fails early on a bad spec
    except specmod.SpecError as e:
        print("make_zip: %s" % e, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="spindle-zip-") as tmp, \
            zipfile.ZipFile(opts.out, "w", zipfile.ZIP_DEFLATED) as z:
        labs = specmod.lab_names(os.path.join(ROOT, "labs"))
        files = set(make_handout(ROOT, opts.lab, tmp, released=earlier(labs, opts.lab),
                                  in_student_files=True))
        lab = os.path.join("labs", opts.lab)
        full = [os.path.join(lab, "lab.json")] + [os.path.join(lab, p["rel"])
                                                  for p in spec["programs"] if not p["hidden"]]
        for rel in sorted(files | set(full)):
            z.write(os.path.join(ROOT if rel in full else tmp, rel), rel)
        for name in ("setup.sh", "run_autograder"):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            with open(os.path.join(HERE, name), "rb") as f:
                z.writestr(info, f.read())
        z.writestr("LAB", opts.lab + "\n")
        if opts.hidden:
            for d, _, files in os.walk(opts.hidden):
                for f in files:
                    path = os.path.join(d, f)
                    z.write(path, os.path.join("hidden", os.path.relpath(path, opts.hidden)))
    print("wrote %s" % opts.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

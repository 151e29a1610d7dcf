#!/usr/bin/env python3
"""Building Gradescope's autograder.zip for one lab:

    python3 grade/gradescope/make_zip.py --lab NAME [--hidden DIR] [--out autograder.zip]

The zip holds the instructor tree (git's files, so the pristine grade/, labs/
and protected files), setup.sh and run_autograder at its top, a LAB file
naming the lab, and DIR's lab.json and programs under hidden/.
"""
import argparse
import os
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import spec as specmod  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tools"))
from handout import list_files  # noqa: E402


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--lab", required=True)
    ap.add_argument("--hidden")
    ap.add_argument("--out", default="autograder.zip")
    opts = ap.parse_args(argv)
    try:
        specmod.load(opts.lab, hidden=opts.hidden)      # fails early on a bad spec
    except specmod.SpecError as e:
        print("make_zip: %s" % e, file=sys.stderr)
        return 2
    with zipfile.ZipFile(opts.out, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in list_files(ROOT):
            z.write(os.path.join(ROOT, rel), rel)
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

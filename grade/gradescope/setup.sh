#!/usr/bin/env bash
# Gradescope image set-up (runs once, when the autograder is built): what
# every Spindle command assumes (python3, make, a host cc for tools/mkfs.c),
# then every tool from the one package list, tools/deps.sh of the tree in
# the zip, so that grading installs nothing. Ends with the harness's own
# check of what grading needs: a tool still missing fails the build of the
# image here, by name, not every submission later. AUTOGRADER (default
# /autograder) is the folder holding source/.
set -euo pipefail
SRC=${AUTOGRADER:-/autograder}/source
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 make git gcc libc6-dev >/dev/null
bash "$SRC"/tools/deps.sh cc qemu opensbi gdb
# Check the tools, then build the pristine tree once, into the image
# (source/build/grade-cache): each submission then compiles its own files only.
python3 - "$SRC" <<'PY'
import os, sys, tempfile
src = sys.argv[1]
sys.path.insert(0, os.path.join(src, "grade"))
import build, spec as specmod
missing = build.missing_tools()
if missing:
    sys.exit("setup.sh: still missing after tools/deps.sh: " + ", ".join(missing))
with open(os.path.join(src, "LAB")) as f:
    lab = f.read().strip()
hidden = os.path.join(src, "hidden")
spec = specmod.load(lab, hidden=hidden if os.path.isfile(os.path.join(hidden, "lab.json")) else None)
with tempfile.TemporaryDirectory() as work:
    empty = os.path.join(work, "empty")
    os.makedirs(empty)
    try:
        build.prepare(empty, spec, work, log_path=os.path.join(work, "build.log"))
    except build.BuildError as e:
        if not e.student:
            sys.exit("setup.sh: %s" % e)
print("setup.sh: every tool grading needs is here; the pristine tree of lab %s is built" % lab)
PY

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
bash "$SRC/tools/deps.sh" cc qemu opensbi gdb
python3 - "$SRC" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "grade"))
import build
missing = build.missing_tools()
if missing:
    sys.exit("setup.sh: still missing after tools/deps.sh: " + ", ".join(missing))
print("setup.sh: every tool grading needs is here")
PY

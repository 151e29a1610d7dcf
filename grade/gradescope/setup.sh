#!/usr/bin/env bash
# Gradescope image set-up (runs once when the autograder is built): what
# every Spindle command assumes (python3, make, a host cc for tools/mkfs.c),
# then the compiler, QEMU and OpenSBI from the one package list,
# tools/deps.sh of the tree in the zip (gdb is not needed to grade).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 make git gcc libc6-dev >/dev/null
bash /autograder/source/tools/deps.sh cc qemu opensbi

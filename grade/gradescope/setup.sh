#!/usr/bin/env bash
# Gradescope image set-up (runs once when the autograder is built): the
# Debian/Ubuntu packages the harness needs to build and boot Spindle.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq gcc-riscv64-unknown-elf qemu-system-misc opensbi python3 make git >/dev/null

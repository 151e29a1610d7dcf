#!/bin/sh
# The RISC-V gdb that tools/deps.sh finds (gdb-multiarch, riscv64-elf-gdb,
# ...), run with the arguments given: VS Code's "miDebuggerPath"
# (.vscode/launch.json), which cannot look for one itself.
gdb=$(bash "$(dirname "$0")/../deps.sh" find gdb) || {
  echo "spindle: no RISC-V gdb; run: make deps (docs/setup.md)" >&2; exit 1; }
exec "$gdb" "$@"

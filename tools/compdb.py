#!/usr/bin/env python3
"""Writes compile_commands.json (the compilation database clangd and VS
Code's C/C++ extension read) to stdout, from the command lines the Makefile
really uses; `make compile_commands.json` (and plain `make`) calls it.

    python3 tools/compdb.py --kernel "CC FLAGS" FILE... --user "CC FLAGS" FILE...
                            [--host "CC FLAGS" FILE...]

Each FILE gets the command of the group it follows; paths are relative to
the repo root, which is the "directory" of every entry.
"""
import json
import os
import shlex
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def entries(argv):
    command, out = None, []
    args = iter(argv)
    for a in args:
        if a in ("--kernel", "--user", "--host"):
            command = shlex.split(next(args))
            continue
        if command is None:
            raise SystemExit("compdb.py: %s comes before any --kernel/--user/--host" % a)
        obj = os.path.join("build", os.path.splitext(a)[0] + ".o")
        out.append({"directory": ROOT, "file": a,
                    "arguments": command + ["-c", "-o", obj, a]})
    return out


if __name__ == "__main__":
    json.dump(entries(sys.argv[1:]), sys.stdout, indent=1)
    sys.stdout.write("\n")

"""The docs group (no QEMU): every file path that a chapter docs/*.md names
in backticks, like `kernel/thread/lwkt.c`, must exist in the tree, so the
reader's guide cannot drift from the code. A path is a backticked word of
the form top/.../name whose first component is a directory of the repo
(kernel, user, tests, tools, docs, grade, labs); generated files under build/
and tests/logs/, and words with wildcards or placeholders (* < > $ { }),
are not checked. A `file.c:123` or `file.c` + `:function` suffix is
stripped first.
"""
import glob
import os
import re

from qemu import ROOT
from testlib import group

TOP = ("kernel", "user", "tests", "tools", "docs", "grade", "labs")
CODE = re.compile(r"`([^`\n]+)`")
PATH = re.compile(r"^(?:\./)?((?:%s)/[\w.+/-]*)$" % "|".join(TOP))


def named_paths(text):
    """File paths named in backticks in a Markdown text (outside code
    fences: a ``` block is an example, not a reference)."""
    out = []
    in_fence = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        for word in CODE.findall(line):
            word = word.strip()
            if any(c in word for c in "*<>${} "):
                continue
            word = re.sub(r":[\w()]+$", "", word)
            m = PATH.match(word)
            if m and not m.group(1).startswith("tests/logs"):
                out.append(m.group(1))
    return out


@group("docs", tests=["docs/paths"], weight=1)
def docs(ctx):
    with ctx.test("docs/paths"):
        missing = []
        chapters = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
        ctx.check(chapters, "no docs/*.md")
        for path in chapters:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for p in named_paths(text):
                if not os.path.exists(os.path.join(ROOT, p.rstrip("/"))):
                    missing.append("%s: %s" % (os.path.relpath(path, ROOT), p))
        ctx.check(not missing, "%d path(s) named in docs do not exist: %s"
                  % (len(missing), "; ".join(missing[:12])))

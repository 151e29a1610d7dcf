"""The docs group (no QEMU): what README.md, docs/*.md and labs/*/README.md
claim about the tree must hold, so the guide cannot drift from the code.
Each backticked span and each line of a code block is read as a claim:

- paths: `kernel/thread/lwkt.c` (a word under kernel, user, tests, tools,
  docs, grade, labs; a `:123` or `:function` suffix is dropped) must exist;
- make: `make TARGET VAR=value` must name targets the Makefile has and
  variables it reads; LAB= must be a lab, TEST= one of its tests, ONLY= must
  select a test, CPUS= lie in 1..8, EXTRA_UPROGS= and PROG= name files and
  programs that exist;
- scripts: `python3 tests/run.py -k x` must name a script that takes each
  option given (and -k must select a test);
- programs: a `$ ` line of a code block, or a span that starts with a
  program, must name a program (user/bin, tests/progs, labs/*/tests, tests/extra, or a
  shell built-in), and a word it compares argv with (`mnshow park`,
  `trace run`) must be one the program knows;
- gdb: a `(gdb) ` line must use a gdb command or one of Spindle's
  (.gdbinit, tools/gdb/spindle.py); `break f` must name a function;
- functions: `f()` or `f(args)` must be defined somewhere in the tree (or be
  one of FOREIGN: functions of other systems the docs compare with, and names
  like f() that stand for a function argument);
- tests: `group/name` must be a test the runner lists.
- sizes: "`struct trace_rec`, N bytes" (docs, user/user.h) must be the
  record's size as the RISC-V compiler lays it out;
- places: `path:123` must be a line of the file, `path:name` a name in it;
- constants: "`UPC_RING` (32)" or "`UPC_SPARES` = 2" must be the value of
  a numeric #define (or Python constant) of that name in the tree;
- labs: each labs/LAB/README.md labels every "## Part N: ..." heading
  (easy), (moderate) or (hard), and its grading table (`| test | points`)
  gives each test its lab.json points and a `total` row with their sum;
  docs/teaching/schedule.md's hours table has a row per lab whose hours are
  those of its instructor's page and whose parts are labelled as in its
  README;
- teaching: every page of docs/teaching/ is instructor only, a mutant a TA
  guide's table names (`(name, ...)` in docs/teaching/LAB.md) is one of
  labs/LAB/mutants/, and exam.md has 10 or more questions, each with its
  answer.

docs/slides: `make slides` (tools/slides.py) draws every diagram of the
docs as a picture holding its labels' words, one slide each, and marks
those of a lab's solution region.

docs/answers: no model answer of any lab (the solution region of its
answers file) shares ANSWER_RUN words in a row with a Markdown page of any
lab's handout (tools/handout.py), words of the lab's own questions aside:
the docs explain, the student answers.

docs/bench (boots QEMU): a table of a doc preceded by
`<!-- bench locks: within N% (ROW N%, ...) -->` must agree, cell by cell,
with the same table of `make bench` measured now (tests/bench.py), within
the tolerance the marker states (a row whose label starts with ROW gets its
own). docs/gdb.md's FILE:LINE frames are checked by gdbwalk/lines.

docs/apart: the mutants written apart from the tree (docs/instructor/apart/
LAB/*.patch, graded with grade/mutants.py --dir) still apply to the lab's
student files and say their mistake on their first line.

Words with placeholders (<x>, CMD, $VAR, ...) are not checked. Run it alone
for the count of claims and the failures: python3 tests/groups/docs.py
"""
import glob
import os
import re
import shlex
import sys
import tempfile

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from qemu import ROOT  # noqa: E402
import testlib  # noqa: E402
from testlib import group  # noqa: E402

TOP = ("kernel", "user", "tests", "tools", "docs", "grade", "labs")
CODE = re.compile(r"`([^`\n]+)`")
PATH = re.compile(r"^(?:\./)?((?:%s)/[\w.+/-]*)$" % "|".join(TOP))
FUNC = re.compile(r"^([A-Za-z_]\w*)\(([^()]*)\)$")
TESTNAME = re.compile(r"^([a-z][\w-]*)/([\w./-]*)$")
PLACEHOLDER = re.compile(r"[<>*${}]|\.\.\.|\b[A-Z]{2,}\b(?!=)")
GDB_BUILTIN = {"break", "tbreak", "b", "continue", "c", "finish", "delete", "info", "bt",
               "backtrace", "set", "print", "p", "x", "next", "step", "stepi", "nexti",
               "condition", "thread", "frame", "up", "down", "list", "display", "until",
               "advance", "file", "target", "add-symbol-file", "detach", "quit", "source",
               "echo", "disable", "enable", "watch", "interrupt", "commands", "end", "run",
               "python", "define", "document", "show", "ptype", "whatis", "kill"}
SHELL_BUILTIN = {"cd", "exit"}
# Functions of other systems that the docs name to compare with.
# f(), fn(), entry(arg): a function passed as an argument, not one by that name.
# asm(...): GCC's inline-assembly statement.
FOREIGN = {"f", "fn", "h", "entry", "func", "asm", "TD_IS_RUNNING",
           "thr_setconcurrency", "sa_setconcurrency", "pthread_create", "pthread_setconcurrency",
           "lwp_park", "schedctl_init", "kse_create", "sa_register", "sched_yield"}
# Files of other systems' trees that look like ours (Linux's kernel/...).
FOREIGN_PATHS = {"kernel/locking/mutex.c"}
DOCS = ["README.md", "docs/*.md", "docs/teaching/*.md", "labs/*/README.md"]


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8", errors="replace") as f:
        return f.read()


class Tree:
    """What the tree offers, read once: make targets and variables, programs
    and their argv words, functions, gdb commands, labs, tests."""

    def __init__(self, groups):
        mk = read("Makefile")
        for var, val in re.findall(r"^(K|U|BUILD)\s*:?=\s*(\S+)", mk, re.M):
            mk = mk.replace("$(%s)" % var, val)
        self.targets = set()
        for m in re.finditer(r"^([^\s#=:][^=:]*?)\s*:(?![=])", mk, re.M):
            self.targets.update(t for t in m.group(1).split() if "%" not in t and "$" not in t)
        phony = re.search(r"^\.PHONY:(.*)$", mk, re.M)
        self.targets.update(phony.group(1).split() if phony else [])
        self.make_vars = set(re.findall(r"^([A-Z_][A-Z0-9_]*)\s*[?:+]?=", mk, re.M))
        self.make_vars |= set(re.findall(r"\$[({]([A-Z_][A-Z0-9_]*)[)}]", mk))
        self.cpus = set(map(str, range(1, 9)))
        self.programs = {}                     # name -> source path
        for pat in ("user/bin/*.c", "labs/*/tests/*.c", "tests/progs/*.c", "tests/extra/*.c"):
            for p in glob.glob(os.path.join(ROOT, pat)):
                self.programs[os.path.splitext(os.path.basename(p))[0]] = p
        self.sources = {}
        for pat in ("kernel/**/*.[chS]", "user/**/*.[chS]", "labs/**/*.c", "tests/**/*.c",
                    "tools/**/*.py", "tools/**/*.c", "tests/**/*.py", "grade/**/*.py", ".gdbinit"):
            for p in glob.glob(os.path.join(ROOT, pat), recursive=True):
                with open(p, encoding="utf-8", errors="replace") as f:
                    self.sources[p] = f.read()
        self.functions = set()
        for p, text in self.sources.items():
            if p.endswith(".py") or p.endswith(".gdbinit"):
                self.functions.update(re.findall(r"^\s*def (\w+)\(", text, re.M))
            elif p.endswith(".S"):
                self.functions.update(re.findall(r"^(\w+):", text, re.M))
                self.functions.update(re.findall(r"^STUB\((\w+)\)", text, re.M))
            else:
                self.functions.update(re.findall(r"^[A-Za-z_][\w \t\*]*?\b(\w+)\([^;]*$", text, re.M))
                # one-line definitions: static inline T f(void) { ... }
                self.functions.update(re.findall(r"^[A-Za-z_][\w \t\*]*?\b(\w+)\([^;{]*\)\s*\{", text, re.M))
                self.functions.update(re.findall(r"^#define (\w+)\(", text, re.M))
        self.gdb = set(GDB_BUILTIN)
        for p in ("tools/gdb/spindle.py", ".gdbinit"):
            self.gdb.update(re.findall(r"super\(\).__init__\(\"([\w-]+)\"", read(p)))
        self.labs = {os.path.basename(os.path.dirname(p)): p
                     for p in glob.glob(os.path.join(ROOT, "labs", "*", "lab.json"))}
        self.groups = groups
        self.tests = {t for g in groups for t in g.tests}

    def argv_words(self, prog):
        """The words a program compares its arguments with (strcmp against a
        literal), and every string literal of it; None if it compares none."""
        text = read(os.path.relpath(self.programs[prog], ROOT))
        if not re.search(r"strcmp\((argv|t\b|c->argv|argv\[)", text):
            return None
        return set(re.findall(r'"([\w-]+)"', text))

    def lab_tests(self, lab):
        import json
        spec = json.loads(read(os.path.relpath(self.labs[lab], ROOT)))
        names = {t["name"] for t in spec.get("tests", [])}
        if spec.get("answers"):
            names.add(spec["answers"].get("name", "answers"))
        return names

    def selects(self, k):
        """Would `-k k` (or ONLY=k) run at least one test?"""
        return any(k in g.name or any(k in t or (t.endswith("/") and t in k) for t in g.tests)
                   for g in self.groups)

    def is_test(self, name):
        return name in self.tests or any(t.endswith("/") and name.startswith(t) and name != t
                                         for t in self.tests)


class Checker:
    def __init__(self, tree):
        self.tree = tree
        self.claims = {}        # kind -> count
        self.wrong = []         # "file: what"

    def claim(self, kind, ok, where, what):
        self.claims[kind] = self.claims.get(kind, 0) + 1
        if not ok:
            self.wrong.append("%s: %s" % (where, what))

    # ---- one claim per kind -------------------------------------------------
    def path(self, where, p):
        ok = (os.path.exists(os.path.join(ROOT, p.rstrip("/"))) or p in self.tree.targets
              or p in FOREIGN_PATHS)
        self.claim("paths", ok, where, "no file %s" % p)     # a target: made by make

    def place(self, where, path, at):
        """`path:123` names a line the file has; `path:name` a name it holds."""
        full = os.path.join(ROOT, path)
        if not os.path.isfile(full):
            return                      # the path claim says so
        text = read(path)
        if at.isdigit():
            self.claim("places", 0 < int(at) <= text.count("\n") + 1, where,
                       "%s has %d lines, not %s" % (path, text.count("\n") + 1, at))
        else:
            name = at.rstrip("()")
            self.claim("places", re.search(r"\b%s\b" % re.escape(name), text) is not None, where,
                       "no %s in %s" % (name, path))

    def make(self, where, words):
        t = self.tree
        vals = {}
        for w in words[1:]:
            if w.startswith("-"):
                continue
            if "=" in w:
                var, val = w.split("=", 1)
                self.claim("make", var in t.make_vars, where, "make has no variable %s" % var)
                vals[var] = val
            elif not PLACEHOLDER.search(w):
                self.claim("make", w in t.targets, where, "make has no target %s" % w)
        placeholder = {k for k, v in vals.items() if PLACEHOLDER.search(v) or not v}
        lab = vals.get("LAB")
        if lab and "LAB" not in placeholder:
            self.claim("make", lab in t.labs, where, "no lab %s (labs/%s/lab.json)" % (lab, lab))
        if "TEST" in vals and "TEST" not in placeholder:
            labs = [lab] if lab in t.labs else list(t.labs)
            self.claim("make", any(vals["TEST"] in t.lab_tests(x) for x in labs), where,
                       "lab %s has no test %s" % (lab or "(any)", vals["TEST"]))
        if "ONLY" in vals and "ONLY" not in placeholder:
            self.claim("tests", t.selects(vals["ONLY"]), where,
                       "ONLY=%s selects no test" % vals["ONLY"])
        if "CPUS" in vals and "CPUS" not in placeholder:
            self.claim("make", vals["CPUS"] in t.cpus, where, "CPUS=%s outside 1..8" % vals["CPUS"])
        if "EXTRA_UPROGS" in vals and "EXTRA_UPROGS" not in placeholder:
            for p in vals["EXTRA_UPROGS"].split():
                if not PLACEHOLDER.search(p) and PATH.match(p):
                    self.path(where, p)
        if "PROG" in vals and "PROG" not in placeholder:
            self.program(where, vals["PROG"].split())

    def script(self, where, words):
        if len(words) < 2 or not PATH.match(words[1]):
            return
        self.path(where, words[1])
        src = os.path.join(ROOT, words[1])
        text = ""        # the script and the modules beside it (grade.py batch: batch.py)
        if os.path.isfile(src):
            for p in glob.glob(os.path.join(os.path.dirname(src), "*.py")):
                text += read(os.path.relpath(p, ROOT))
        for i, w in enumerate(words[2:], 2):
            if re.match(r"^--?[A-Za-z][\w-]*$", w):
                self.claim("scripts", ('"%s"' % w) in text, where,
                           "%s takes no option %s" % (words[1], w))
                if w == "-k" and i + 1 < len(words) and not PLACEHOLDER.search(words[i + 1]):
                    self.claim("tests", self.tree.selects(words[i + 1]), where,
                               "-k %s selects no test" % words[i + 1])

    def program(self, where, words, nested=False):
        t = self.tree
        if not words or PLACEHOLDER.search(words[0]):
            return
        prog = words[0]
        self.claim("programs", prog in t.programs or prog in SHELL_BUILTIN, where,
                   "no program %s" % prog)
        if prog not in t.programs or len(words) < 2:
            return
        known = t.argv_words(prog)
        sub = words[1]
        if known is not None and re.match(r"^[a-z][\w-]*$", sub):
            self.claim("programs", sub in known, where, "%s knows no argument %s" % (prog, sub))
            if len(words) > 2 and words[2] in t.programs and not nested:
                self.program(where, words[2:], nested=True)

    def shell_line(self, where, line):
        """A line typed at Spindle's shell: commands split at ; & |."""
        for part in re.split(r"[;&|]", line):
            words = [w for w in part.split() if not w.startswith(">") and not w.startswith("<")]
            if words:
                self.program(where, words)

    def gdb_line(self, where, line):
        words = line.split()
        if not words or PLACEHOLDER.search(words[0]):
            return
        self.claim("gdb", words[0] in self.tree.gdb, where, "no gdb command %s" % words[0])
        if words[0] in ("break", "tbreak", "b") and len(words) > 1:
            fn = words[1]
            if re.match(r"^[A-Za-z_]\w*$", fn):
                self.claim("gdb", fn in self.tree.functions, where, "no function %s to break on" % fn)

    def function(self, where, name):
        self.claim("functions", name in self.tree.functions or name in FOREIGN, where,
                   "no function %s()" % name)

    # ---- a span or a line of a code block -----------------------------------
    def command(self, where, text, in_block):
        text = text.strip()
        if in_block:
            text = re.sub(r"\s+#.*$", "", text)
        if text.startswith("(gdb) "):
            self.gdb_line(where, text[6:])
            return True
        if text.startswith("$ "):
            text = text[2:].strip()
            if not (text.startswith("make ") or text.startswith("python3 ")):
                self.shell_line(where, text)
                return True
        try:
            words = shlex.split(text)
        except ValueError:
            words = text.split()
        if not words:
            return True
        if words[0] == "make":
            self.make(where, words)
            return True
        if words[0] in ("python3", "python"):
            self.script(where, words)
            return True
        return False

    def span(self, where, word):
        word = word.strip()
        if self.command(where, word, False):
            return
        t = self.tree
        first = word.split()[0]
        if first in t.programs and not (first in t.gdb and where.endswith("gdb.md")):
            self.shell_line(where, word)
            return
        if where.endswith("gdb.md") and first in t.gdb and first not in GDB_BUILTIN:
            self.claim("gdb", True, where, "")          # one of Spindle's commands
            return
        if first in ("break", "tbreak") and len(word.split()) == 2:
            self.gdb_line(where, word)
            return
        m = FUNC.match(word)
        if m:
            self.function(where, m.group(1))
            return
        if " " in word or PLACEHOLDER.search(word):
            return
        stripped = re.sub(r":[\w()]+$", "", word)
        if stripped.startswith("build/") or stripped.startswith("tests/logs"):
            return          # made by make or by the tests
        if stripped != word and PATH.match(stripped):
            self.place(where, stripped, word[len(stripped) + 1:])
        m = PATH.match(stripped)
        if m and os.path.exists(os.path.join(ROOT, m.group(1).rstrip("/"))):
            self.path(where, m.group(1))
            return
        m = TESTNAME.match(word)
        if m and (m.group(1) in {g.name for g in t.groups}
                  or any(x.startswith(m.group(1) + "/") for x in t.tests)):
            self.claim("tests", t.is_test(word), where, "no test %s (tests/run.py -l)" % word)
            return
        m = PATH.match(stripped)
        if m:
            self.path(where, m.group(1))

    def document(self, rel):
        in_fence = False
        prev_blank = True
        in_indent = False
        for n, line in enumerate(read(rel).splitlines(), 1):
            where = "%s:%d" % (rel, n)
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
                continue
            if in_fence:
                self.command(where, line, True)
                continue
            in_indent = line.startswith("    ") and (prev_blank or in_indent) and line.strip()
            prev_blank = not line.strip()
            if in_indent and not line.lstrip().startswith("- "):
                self.command(where, line, True)
                continue
            for word in CODE.findall(line):
                self.span(where, word)


def trace_rec_size():
    """sizeof(struct trace_rec) for RISC-V: the size nm gives an array of
    that many bytes compiled by the toolchain make uses."""
    import subprocess
    import tempfile
    import qemu
    prefix = qemu.found("cc")
    if not prefix:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        obj = os.path.join(tmp, "size.o")
        src = '#include "uapi/trace.h"\nchar trace_rec_size[sizeof(struct trace_rec)];\n'
        subprocess.run([prefix + "gcc", "-I", os.path.join(ROOT, "kernel"), "-ffreestanding", "-fno-common",
                        "-c", "-x", "c", "-", "-o", obj], input=src.encode(), check=True)
        out = subprocess.run([prefix + "nm", "-S", obj], stdout=subprocess.PIPE,
                             check=True).stdout.decode()
    return int(re.search(r"^\w+ (\w+) \w trace_rec_size$", out, re.M).group(1), 16)


RECSIZE = re.compile(r"struct trace_rec`?,? (\d+) bytes")


def check_sizes(c):
    size = trace_rec_size()
    for rel in ["user/user.h"] + [os.path.relpath(p, ROOT) for pat in DOCS
                                  for p in sorted(glob.glob(os.path.join(ROOT, pat)))]:
        text = read(rel)
        for m in RECSIZE.finditer(re.sub(r"\s*\n\s*(?://)?\s*", " ", text)):
            c.claim("sizes", size is not None and int(m.group(1)) == size, rel,
                    "says struct trace_rec is %s bytes; it is %s" % (m.group(1), size))


CONSTANT = re.compile(r"`([A-Z][A-Z0-9_]{2,})`(?: \(| = ?)(\d[\d,]*)\b")


C_CONSTANT = re.compile(r"^#define ([A-Z][A-Z0-9_]+)\s+\(?(\d+)\)?\s*(?://.*)?$", re.M)
PY_CONSTANT = re.compile(r"^([A-Z][A-Z0-9_]+) = (\d+)\b", re.M)


def defined_constants(tree):
    """{NAME: {values}} of the tree's numeric #defines and Python constants."""
    found = {}
    for p, text in tree.sources.items():
        pat = PY_CONSTANT if p.endswith(".py") else C_CONSTANT
        for name, value in pat.findall(text):
            found.setdefault(name, set()).add(int(value))
    return found


def check_constants(c, docs):
    """"`UPC_RING` (32)", "`UPC_SPARES` = 2": the constant has that value."""
    known = defined_constants(c.tree)
    for rel in docs:
        for n, line in enumerate(read(rel).splitlines(), 1):
            for name, value in CONSTANT.findall(line):
                if name in known:
                    got = int(value.replace(",", ""))
                    c.claim("constants", got in known[name], "%s:%d" % (rel, n),
                            "%s is %s, not %d" % (name, "/".join(map(str, sorted(known[name]))), got))


PART = re.compile(r"^## Part \d+: .*$", re.M)
DIFFICULTY = re.compile(r" \((easy|moderate|hard)\)$")


def check_lab_readme(c, lab):
    """A lab README labels each part easy, moderate or hard, and its grading
    table (header `| test | points`) gives each test its lab.json points and
    a total row with their sum."""
    import json
    rel = os.path.join("labs", lab, "README.md")
    if not os.path.exists(os.path.join(ROOT, rel)):
        return                  # a lab being written: nothing claimed yet
    text = read(rel)
    spec = json.loads(read(os.path.join("labs", lab, "lab.json")))
    parts = PART.findall(text)
    c.claim("labs", bool(parts), rel, "no '## Part N: ...' heading")
    for h in parts:
        c.claim("labs", DIFFICULTY.search(h) is not None, rel,
                "%r is not labelled (easy), (moderate) or (hard)" % h)
    points = {t["name"]: t["points"] for t in spec.get("tests", [])}
    if spec.get("answers"):
        points[spec["answers"].get("name", "answers")] = spec["answers"]["points"]
    table = re.search(r"^\| test \| points \|.*\n(?:\|.*\n)*", text, re.M)
    if not table:
        c.claim("labs", False, rel, "no grading table (| test | points | ...)")
        return
    rows = {}
    for label, cells in table_rows(table.group(0)).items():
        rows[label.split()[0].strip("`*")] = number(cells[0].strip("*")) if cells else None
    for name, pts in points.items():
        c.claim("labs", rows.get(name) == pts, rel, "grading table gives %s %s points; lab.json %s"
                % (name, rows.get(name), pts))
    c.claim("labs", rows.get("total") == sum(points.values()), rel,
            "grading table's total is %s; lab.json's points add up to %d"
            % (rows.get("total"), sum(points.values())))


SCHEDULE = "docs/teaching/schedule.md"


def check_schedule(c, labs):
    """The course guide's hours table (`| lab | hours | parts |`) has a row
    per lab: its hours as the lab's instructor page gives them ("3 to 5
    hours"), its parts labelled as the README's headings are."""
    if not os.path.exists(os.path.join(ROOT, SCHEDULE)):
        return
    table = re.search(r"^\| lab \| hours \| parts \|.*\n(?:\|.*\n)*", read(SCHEDULE), re.M)
    if not table:
        c.claim("labs", False, SCHEDULE, "no hours table (| lab | hours | parts |)")
        return
    rows = table_rows(table.group(0))
    for lab in [x for x in labs if os.path.exists(os.path.join(ROOT, "labs", x, "README.md"))]:
        row = rows.get(lab)
        c.claim("labs", row is not None, SCHEDULE, "no row for lab %s in the hours table" % lab)
        if row is None:
            continue
        page = os.path.join("docs", "instructor", lab + ".md")
        said = re.search(r"(\d+) to (\d+) hours", read(page)) if os.path.exists(os.path.join(ROOT, page)) else None
        if said:
            c.claim("labs", row[0] == "%s to %s" % said.groups(), SCHEDULE,
                    "lab %s: %s hours; %s says %s to %s" % ((lab, row[0], page) + said.groups()))
        readme = ["Part %s %s" % m for m in re.findall(r"^## Part (\d+): .* \((easy|moderate|hard)\)$",
                                                        read(os.path.join("labs", lab, "README.md")), re.M)]
        c.claim("labs", row[1] == ", ".join(readme), SCHEDULE, "lab %s: parts '%s'; its README says '%s'"
                % (lab, row[1], ", ".join(readme)))


def check_teaching(c):
    """docs/teaching/ is for instructors: each page starts with the line
    that keeps it out of handouts; exam.md has 10 or more questions, each
    with an answer."""
    for p in sorted(glob.glob(os.path.join(ROOT, "docs", "teaching", "*.md"))):
        rel = os.path.relpath(p, ROOT)
        c.claim("teaching", read(rel).startswith("<!-- instructor only -->\n"), rel,
                "does not start with <!-- instructor only -->: it would ship in every handout")
    for lab in sorted(os.listdir(os.path.join(ROOT, "labs"))):
        guide = os.path.join("docs", "teaching", lab + ".md")
        if not os.path.exists(os.path.join(ROOT, guide)):
            continue
        table = re.search(r"^\|[^\n]*\(mutant\)[^\n]*\n(?:\|.*\n)*", read(guide), re.M)
        rows = table_rows("\n".join(table.group(0).splitlines()[2:])) if table else {}
        for cells in rows.values():
            for names in re.findall(r"\(([a-z0-9-]+(?:, [a-z0-9-]+)*)\)", cells[0] if cells else ""):
                for name in names.split(", "):
                    c.claim("teaching", os.path.exists(os.path.join(
                        ROOT, "labs", lab, "mutants", name + ".patch")), guide,
                        "no mutant %s (labs/%s/mutants/%s.patch)" % (name, lab, name))
    exam = "docs/teaching/exam.md"
    if os.path.exists(os.path.join(ROOT, exam)):
        blocks = re.split(r"^\*\*\d+\. ", read(exam), flags=re.M)[1:]
        c.claim("teaching", len(blocks) >= 10, exam, "%d questions, not 10 or more" % len(blocks))
        for i, b in enumerate(blocks, 1):
            c.claim("teaching", "*Answer.*" in b, exam, "question %d has no *Answer.*" % i)


def check_all(groups):
    tree = Tree(groups)
    c = Checker(tree)
    docs = [os.path.relpath(p, ROOT) for pat in DOCS for p in sorted(glob.glob(os.path.join(ROOT, pat)))]
    for rel in docs:
        c.document(rel)
    check_sizes(c)
    check_constants(c, docs)
    for lab in sorted(tree.labs):
        check_lab_readme(c, lab)
    check_schedule(c, sorted(tree.labs))
    check_teaching(c)
    return c


BENCH_MARK = re.compile(r"^<!-- bench (\w+): within (\d+)%(?: \((.*)\))? -->$", re.M)


def table_rows(text):
    """{first cell: [other cells]} of a Markdown table (header and rule skipped)."""
    rows = {}
    for line in text.splitlines():
        cells = [x.strip() for x in line.strip().strip("|").split("|")]
        if len(cells) > 1 and not set(cells[1]) <= set("-: "):
            rows[cells[0]] = cells[1:]
    return rows


def number(cell):
    return int(cell.replace(",", "")) if re.fullmatch(r"[\d,]+", cell) else None


def bench_marks():
    """(doc, kind, default %, {row prefix: %}, table text) of every marked table."""
    found = []
    for pat in DOCS:
        for p in sorted(glob.glob(os.path.join(ROOT, pat))):
            text = read(os.path.relpath(p, ROOT))
            for m in BENCH_MARK.finditer(text):
                rest = text[m.end():].lstrip("\n").splitlines()
                table = "\n".join(next(iter([rest[:i] for i, l in enumerate(rest)
                                              if not l.startswith("|")]), rest))
                per_row = {k.strip(): int(v) for k, v in
                           re.findall(r"([^,]+?) (\d+)%", m.group(3) or "")}
                found.append((os.path.relpath(p, ROOT), m.group(1), int(m.group(2)), per_row, table))
    return found


def bench_table(kind):
    """The Markdown table `make bench` prints for kind, measured now."""
    import contextlib
    import io
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import bench
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if kind == "locks":
            bench.print_locks(bench.measure(2, False, "lockbench"))
        elif kind == "scaling":
            bench.print_scaling(bench.measure_scaling())
        else:
            raise ValueError("no bench table %r (locks, scaling)" % kind)
    return out.getvalue()


def check_bench(ctx):
    marks = bench_marks()
    ctx.check(marks, "no <!-- bench ... --> table in the docs")
    measured, wrong, n = {}, [], 0
    for doc, kind, pct, per_row, table in marks:
        if kind not in measured:
            measured[kind] = bench_table(kind)
            print("docs/bench: make bench's %s table now:\n%s" % (kind, measured[kind]), flush=True)
        now = table_rows(measured[kind])
        for label, cells in table_rows(table).items():
            ctx.check(label in now, "%s: row %r is not in make bench's %s table" % (doc, label, kind))
            tol = next((v for k, v in per_row.items() if label.startswith(k)), pct)
            for shown, got in zip(cells, now[label]):
                a, b = number(shown), number(got)
                if a is None:
                    continue
                n += 1
                if b is None or abs(a - b) > a * tol / 100.0:
                    wrong.append("%s: %s: %s, make bench gives %s (within %d%%)"
                                 % (doc, label[:30], shown, got, tol))
    ctx.check(n > 0, "no figures found in the marked tables")
    ctx.check(not wrong, "%d of %d figures off: %s" % (len(wrong), n, "; ".join(wrong)))


ANSWER_RUN = 8      # words in a row that a model answer may not share with a shipped doc


def tree_module(folder, name):
    """Import module name from the tree's folder (tools/, grade/)."""
    import importlib
    path = os.path.join(ROOT, folder)
    if path not in sys.path:
        sys.path.insert(0, path)
    return importlib.import_module(name)


def word_list(text):
    return re.findall(r"[a-z0-9_]+(?:'[a-z]+)?", text.lower())


def runs(ws, n):
    return {" ".join(ws[i:i + n]) for i in range(len(ws) - n + 1)}


def model_answers(lab):
    """{question: model answer} of lab, from the instructor's answers file
    (its solution region); {} for a lab without written answers."""
    import json
    answers, handout = tree_module("grade", "answers"), tree_module("tools", "handout")
    spec = json.loads(read(os.path.join("labs", lab, "lab.json")))
    if not spec.get("answers"):
        return {}
    rel = spec["answers"]["file"]
    text = handout.transform(read(rel), "#", lambda name: "solution", rel)
    return answers.parse(text)


def shipped_docs(lab, out):
    """{path: text} of the Markdown pages in lab's handout, written to out."""
    files = tree_module("tools", "handout").make_handout(ROOT, lab, out)
    docs = {}
    for rel in files:
        if rel.endswith(".md"):
            with open(os.path.join(out, rel), encoding="utf-8", errors="replace") as f:
                docs[rel] = f.read()
    return docs


def answer_runs(lab):
    """{question: its model answer's runs of ANSWER_RUN words}, without the
    runs of the README's questions (an answer may quote its question)."""
    readme = os.path.join(ROOT, "labs", lab, "README.md")
    asked = set()
    if os.path.exists(readme):
        questions = read(os.path.relpath(readme, ROOT)).split("## Questions", 1)[-1]
        asked = runs(word_list(questions), ANSWER_RUN)
    return {q: runs(word_list(text), ANSWER_RUN) - asked for q, text in model_answers(lab).items()}


def answers_given_away(handout_lab, answers, out):
    """["handout H: lab Qn: doc: 'words'"] for every run of words that a model
    answer ({lab: answer_runs(lab)}) shares with a page of H's handout."""
    docs = {rel: runs(word_list(text), ANSWER_RUN)
            for rel, text in shipped_docs(handout_lab, out).items()}
    found = []
    for lab, model in sorted(answers.items()):
        for q, mine in sorted(model.items()):
            for rel, theirs in sorted(docs.items()):
                for shared in sorted(mine & theirs)[:2]:
                    found.append("handout %s: %s Q%d: %s: '%s'" % (handout_lab, lab, q, rel, shared))
    return found


def check_answers(ctx):
    """Every lab's model answers against the pages of every lab's handout:
    its own, and the later ones, which carry it as a stub while it is open
    and as its released solution after."""
    import tempfile
    labs = sorted(os.path.basename(os.path.dirname(p))
                  for p in glob.glob(os.path.join(ROOT, "labs", "*", "lab.json")))
    answers = {lab: answer_runs(lab) for lab in labs}
    questions = sum(len(a) for a in answers.values())
    found = []
    for lab in labs:
        with tempfile.TemporaryDirectory() as out:
            found += answers_given_away(lab, answers, out)
    print("docs/answers: %d model answers of %d labs against the pages of each lab's handout"
          % (questions, len(labs)), flush=True)
    ctx.check(questions >= len(labs), "only %d model answers found for %d labs: is the "
              "answers file's solution region still read?" % (questions, len(labs)))
    ctx.check(not found, "%d passages of shipped docs repeat a model answer (%d words in a "
              "row; move them to docs/teaching/ or an instructor page): %s"
              % (len(found), ANSWER_RUN, "; ".join(found[:8])))


def check_slides(ctx):
    """make slides draws one slide per diagram of the docs, each a picture
    (no source shown instead), holding the words of every label, and marks
    the diagrams of a lab's solution region."""
    import xml.etree.ElementTree as ET
    slides = tree_module("tools", "slides")
    ok, out = testlib.make("slides")
    ctx.check(ok, "make slides failed: %s" % out)
    print(out, flush=True)
    ctx.check("not drawn" not in out, "make slides showed a diagram as its source: %s" % out)
    page = os.path.join(ROOT, "build", "slides", "index.html")
    ns = "{http://www.w3.org/1999/xhtml}"
    try:
        root = ET.parse(page).getroot()
    except ET.ParseError as e:
        ctx.check(False, "%s is not well-formed: %s" % (page, e))
    shown = root.findall(".//%ssection[@class='slide']" % ns)
    expected, missing = [], []
    for _, rel, text in slides.pages(ROOT):
        expected += [(rel, d) for d in slides.diagrams(rel, text)]
    n_mermaid = sum(read(rel).count("```mermaid") for _, rel, _ in slides.pages(ROOT))
    ctx.check(len(shown) == len(expected) and n_mermaid <= len(expected),
              "%d slides for %d diagrams (%d Mermaid blocks)" % (len(shown), len(expected), n_mermaid))
    marked = 0
    for sec, (rel, (_, _, lab, kind, source, line)) in zip(shown, expected):
        words = " ".join(t.text or "" for t in sec.iter("{http://www.w3.org/2000/svg}text")).split()
        ctx.check(sec.find(".//{http://www.w3.org/2000/svg}svg") is not None,
                  "the slide of %s:%d has no picture" % (rel, line))
        if kind == "mermaid":
            _, texts, _ = slides.draw(source)
            want = [w for label in texts for w in label.split()]
            missing += ["%s:%d: %s" % (rel, line, w) for w in want if w not in words][:2]
        solution = "solution" in "".join(sec.find("%sh2" % ns).itertext())
        ctx.check(solution == bool(lab), "the slide of %s:%d %s" % (
            rel, line, "is in lab %s's solution region but not marked" % lab if lab
            else "is marked as a solution"))
        marked += solution
    print("docs/slides: %d slides, %d of them a lab's solution" % (len(shown), marked), flush=True)
    ctx.check(not missing, "labels missing from the drawn slides: %s" % "; ".join(missing[:8]))


APART = os.path.join(ROOT, "docs", "instructor", "apart")


def check_apart(ctx):
    sys.path.insert(0, os.path.join(ROOT, "grade"))
    import mutants
    import spec as specmod
    n, wrong = 0, []
    for lab in sorted(os.listdir(APART)):
        if not os.path.isdir(os.path.join(APART, lab)):
            continue
        spec = specmod.load(lab)
        for path in mutants.mutant_paths(os.path.join(APART, lab)):
            n += 1
            name, mistake, _ = mutants.read_mutant(path)
            if not mistake:
                wrong.append("%s/%s: no '# mistake' first line" % (lab, name))
            with tempfile.TemporaryDirectory(prefix="spindle-apart-") as tmp:
                try:
                    mutants.submission(spec, ROOT, tmp, path)
                except mutants.MutantError as e:
                    wrong.append(str(e))
    ctx.check(n > 0, "no patches in %s" % APART)
    ctx.check(not wrong, "%d of %d patches: %s" % (len(wrong), n, "; ".join(wrong[:6])))


@group("docs", tests=["docs/claims", "docs/bench", "docs/answers", "docs/slides", "docs/apart"],
       weight=15)
def docs(ctx):
    if ctx.want("docs/apart"):
        with ctx.test("docs/apart"):
            check_apart(ctx)
    if ctx.want("docs/bench"):
        with ctx.test("docs/bench"):
            check_bench(ctx)
    if ctx.want("docs/slides"):
        with ctx.test("docs/slides"):
            check_slides(ctx)
    if ctx.want("docs/answers"):
        with ctx.test("docs/answers"):
            check_answers(ctx)
    if not ctx.want("docs/claims"):
        return
    with ctx.test("docs/claims"):
        c = check_all(testlib.GROUPS)
        total = sum(c.claims.values())
        print("docs: %d claims checked (%s)" % (total, ", ".join(
            "%s %d" % kv for kv in sorted(c.claims.items()))), flush=True)
        ctx.check(total > 100, "only %d claims found: is the parser broken?" % total)
        wrong = c.wrong
        ctx.check(not wrong, "%d of %d claims in the docs are wrong: %s"
                  % (len(wrong), total, "; ".join(wrong[:12])))


if __name__ == "__main__":
    import importlib
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "groups", "*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if not name.startswith("_") and name != "docs":
            importlib.import_module("groups." + name)
    checker = check_all(testlib.GROUPS)
    print("%d claims checked: %s" % (sum(checker.claims.values()), ", ".join(
        "%s %d" % kv for kv in sorted(checker.claims.items()))))
    for w in checker.wrong:
        print("WRONG " + w)
    sys.exit(1 if checker.wrong else 0)

"""What a student's source file may reach, checked with the build's own
compiler on the prepared tree (build.py calls these; docs/grading.md says
what each check stops and what it leaves to an instructor):

- dependencies: the preprocessor's own list (`-H`) of every file a student
  file reads must hold only the tree's headers (kernel/ and user/ .h files)
  and the compiler's; anything else refuses the file. A preprocessor error
  refuses it too (it might hide an include).
- assembly: in the student's own lines of the preprocessed text (line
  markers tell them from the headers'; markers must follow the includes -H
  saw, so a `#line` that passes the student's lines off as a header's is
  itself flagged), an asm statement is allowed when its template is one
  instruction (no directive, no second statement); anything else is flagged
  INTEGRITY unless lab.json says "asm": true, and even then `.incbin`,
  `.include` and `.macro` are refused. The compiler's own assembly output
  for a C student file is searched for those directives too (a section
  name is copied into it verbatim). In a .S student file they are refused.
- calls: the undefined symbols of the student's object (`nm -u`) must be in
  lab.json "calls"[file] or be allowed everywhere (EVERYWHERE: compiler
  helpers, printf, panic); a file with no "calls"
  entry may reference anything but the console/device layer, the file
  system, the user-level I/O and process calls and the kernel's symbol
  table (DENIED).

Must not: run anything of the submission on the host (only the compiler,
the preprocessor and nm read its files), or put a host path or another
file's text into a message.
"""
import fnmatch
import os
import re
import subprocess


class Refused(Exception):
    """A student file that cannot be built; str() is the reason."""


class Integrity(Exception):
    """Evidence of forging; str() names the file and what was seen."""


# Emitted by the compiler for plain C (struct copies, divisions...).
COMPILER_HELPERS = ["memset", "memcpy", "memmove", "memcmp", "__ashl*", "__ashr*", "__lshr*",
                    "__mul*", "__div*", "__mod*", "__udiv*", "__umod*", "__clz*", "__ctz*",
                    "__popcount*", "__ffs*", "__parity*", "__bswap*", "__atomic_*", "__sync_*",
                    "__riscv_save_*", "__riscv_restore_*"]
# Allowed in every student file, listed or not: the compiler's helpers, and
# printf and panic, which students debug and assert with (printf only adds
# lines: a forged result line breaks the end line's digest, and an end line
# printed with it is not the one left in the file system).
EVERYWHERE = COMPILER_HELPERS + ["printf", "panic"]
# What no lab needs unless its "calls" list names it: the console and
# devices, the file system's entry points, the user-level I/O and process
# calls, the kernel's symbol table.
DENIED = ["console*", "cons_*", "consputc", "uart*", "devsw", "print_lock", "print_unlock",
          "virtio*", "plic*", "ksym*", "fs*", "namei*", "readi", "writei", "ilock", "iunlock",
          "iget", "iput", "ialloc", "dirlookup", "dirlink", "bread", "bwrite", "brelse",
          "begin_op", "end_op", "log_write", "file*", "pipe*", "sys_*", "exec", "copyinstr",
          "write", "read", "open", "close", "dup", "pipe", "fork", "kill", "exit", "wait",
          "unlink", "link", "mknod", "fstat", "mkdir", "chdir", "sigsend", "lwp_sigsend",
          "fprintf", "vprintf", "puts", "putc", "getc"]
SAFE_ASM = re.compile(r"^\s*[a-z][a-z0-9]*(\.[a-z0-9]+)*(\s+[^.;\n\"\\#]*)?$")
BAD_DIRECTIVE = re.compile(r"\.\s*(incbin|include|macro|irpc?|rept|altmacro)\b|\.\s*%")
ASM_WORD = re.compile(r"\b(__asm__|__asm|asm)\b")
MARKER = re.compile(r'^# (\d+) "((?:[^"\\]|\\.)*)"((?: \d)*)\s*$')
STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def tools(tree):
    """(cc, nm, kernel flags, user flags) of the tree's own Makefile."""
    rule = 'print-grade-flags:\n\t@echo "$(CC)|$(NM)|$(CFLAGS) -I$(K)|$(UCFLAGS)"\n'
    r = subprocess.run(["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", "-",
                        "print-grade-flags"], cwd=tree, input=rule, capture_output=True, text=True)
    parts = r.stdout.strip().split("|")
    if r.returncode or len(parts) != 4:
        raise Refused("harness error: the tree's Makefile gives no compiler flags")
    drop = {"-MD", "-Werror"}
    cc, nm, kflags, uflags = parts
    return (cc, nm, [f for f in kflags.split() if f not in drop],
            [f for f in uflags.split() if f not in drop])


def flags_for(rel, tl):
    return tl[2] if rel.startswith("kernel/") else tl[3]


def system_dirs(cc, flags):
    """The compiler's own include folders (real paths; not the -I ones)."""
    flags = [f for f in flags if not f.startswith("-I")]
    r = subprocess.run([cc] + flags + ["-xc", "-E", "-v", "-"], input="", capture_output=True,
                       text=True, cwd="/")
    dirs, on = [], False
    for line in r.stderr.splitlines():
        if line.startswith("#include <...>"):
            on = True
        elif line.startswith("End of search list"):
            on = False
        elif on and line.startswith(" "):
            dirs.append(os.path.realpath(line.strip()))
    return dirs


def allowed_header(tree, path, sysdirs):
    """Is path (a real path) a header the student may include?"""
    rel = os.path.relpath(path, tree)
    if not rel.startswith(".."):
        return rel.endswith(".h") and rel.split("/")[0] in ("kernel", "user")
    return any(path.startswith(d + "/") for d in sysdirs)


def elide(text, tree):
    """text with the tree's path removed and any other absolute path
    replaced by <host path>."""
    text = text.replace(os.path.realpath(tree) + "/", "").replace(tree + "/", "")
    return re.sub(r"(?<![\w.])/[^\s:'\"`]+", "<host path>", text)


def diagnostics(text, own, tree, most=12):
    """The compiler's (or linker's) lines about the files in `own` (each
    with the source and caret lines under it), other paths elided: what a
    student may see of a failed build."""
    text = elide(text, tree)
    out, keep = [], False
    for line in text.splitlines():
        if re.match(r"^\S+:\d+:", line) or re.match(r"^\S+: (In function|At top level)", line):
            keep = line.split(":")[0] in own
        elif re.search(r"undefined reference|multiple definition", line):
            keep = True
            line = re.sub(r"^\S*ld(\.bfd)?: ", "ld: ", line)
        elif not line.startswith(" "):
            keep = False
        if keep:
            out.append(line)
    return "\n".join(out[:most * 4])


def preprocess(tree, rel, tl):
    """(text, headers, stderr) of the real preprocessor on rel: headers is
    -H's list of every file it opened, [(depth, path as written)]."""
    r = subprocess.run([tl[0]] + flags_for(rel, tl) + ["-H", "-E", rel], cwd=tree,
                       capture_output=True, text=True, errors="replace")
    headers = [(len(m.group(1)), m.group(2)) for m in
               re.finditer(r"^(\.+) (.*)$", r.stderr, re.M)]
    return r.stdout if r.returncode == 0 else None, headers, r.stderr


def check_dependencies(tree, rel, headers, sysdirs):
    """Refused for the first file the preprocessor read that is not a
    header of the tree or of the compiler."""
    real_tree = os.path.realpath(tree)
    for _, name in headers:
        path = os.path.realpath(os.path.join(tree, name))
        if not allowed_header(real_tree, path, sysdirs):
            shown = os.path.relpath(path, real_tree)
            shown = shown if not shown.startswith("..") else "a file outside the tree"
            raise Refused("%s includes %s: a student file may include only the tree's headers "
                          "(kernel/, user/) and the compiler's" % (rel, elide(shown, tree)))


def own_text(pre, rel, headers):
    """[(line number, text)] of the preprocessed output that comes from rel
    itself. The line markers must follow the real includes (-H's list, in
    order): a `#line` or hand-written line marker that would pass the
    student's lines off as a header's is Integrity."""
    out, stack, no, expect = [], [], 0, list(headers)
    norm = os.path.normpath
    for line in pre.splitlines():
        m = MARKER.match(line)
        if not m:
            if stack and stack[-1] == rel:
                out.append((no, line))
            no += 1
            continue
        name, flagset, no = norm(m.group(2)), m.group(3).split(), int(m.group(1))
        if not stack:
            if name == rel and no == 1:
                stack.append(rel)
            continue
        if "1" in flagset:
            real = expect.pop(0) if expect else None
            ok = real is not None and norm(real[1]) == name and real[0] == len(stack)
            stack.append(name)
        elif "2" in flagset:
            stack.pop()
            ok = bool(stack) and stack[-1] == name
        else:
            ok = stack[-1] == name
        if not ok:
            raise Integrity("%s: a #line or line-marker directive names %s, which the "
                            "preprocessor did not open there" % (rel, name))
    return out


def asm_statements(lines):
    """[(line, template)] for each asm statement in the lines: the template
    is its adjacent string literals joined (None if it has none)."""
    text = "\n".join(t for _, t in lines)
    starts, pos = [], 0
    for no, t in lines:
        starts.append((pos, no))
        pos += len(t) + 1
    found = []
    for m in ASM_WORD.finditer(STRING.sub(lambda s: '"' + "_" * (len(s.group(0)) - 2) + '"', text)):
        line = max((p, n) for p, n in starts if p <= m.start())[1]
        rest = text[m.end():]
        q = re.match(r"(\s*(volatile|__volatile__|inline|goto)\b)*\s*\(\s*", rest)
        parts = []
        tail = rest[q.end():] if q else ""
        while q:
            s = re.match(r'"((?:[^"\\\n]|\\.)*)"\s*', tail)
            if not s:
                break
            parts.append(bytes(s.group(1), "utf-8").decode("unicode_escape", "replace"))
            tail = tail[s.end():]
        found.append((line, "".join(parts) if parts else None))
    return found


def check_assembly(rel, lines, allow):
    if rel.endswith((".S", ".s")):
        for no, text in lines:
            for _, directive in directive_lines(text):
                raise Refused("%s:%d: assembler directive %s (not allowed in a student file)"
                              % (rel, no, directive))
        return
    for no, template in asm_statements(lines):
        bad = BAD_DIRECTIVE.search(template or "")
        if bad:
            raise Integrity("%s:%d: inline assembly with the directive %s"
                            % (rel, no, bad.group(0).strip()))
        if allow or (template is not None and SAFE_ASM.match(template)):
            continue
        raise Integrity("%s:%d: inline assembly %s (lab.json does not allow assembly beyond one "
                        "instruction)" % (rel, no, repr(template)[:60] if template else
                                          "with no literal template"))


def directive_lines(text):
    """(line number, directive) of each assembler statement in text (lines
    split at ';', labels skipped) that is a forbidden directive."""
    for no, line in enumerate(text.splitlines(), 1):
        for stmt in line.split(";"):
            stmt = re.sub(r"^\s*([\w.$]+:\s*)*", "", stmt)
            m = re.match(r"\.(incbin|include|macro|irpc?|rept|altmacro)\b", stmt)
            if m:
                yield no, m.group(0)


def check_compiled(tree, rel, tl):
    """The assembly the compiler makes of rel holds no forbidden directive,
    whatever put it there (inline asm, or a section name the compiler
    copies into its output): Integrity."""
    r = subprocess.run([tl[0]] + flags_for(rel, tl) + ["-S", "-o", "-", rel], cwd=tree,
                       capture_output=True, text=True, errors="replace")
    if r.returncode:
        return              # the build fails on it too, and says why
    for no, directive in directive_lines(r.stdout):
        raise Integrity("%s: the compiler's assembly for it holds the directive %s (line %d of "
                        "its output: inline assembly or a section name)" % (rel, directive, no))


def check_sources(tree, spec, files):
    """Every dependency and assembly check of the student's source files
    (files: tree-relative paths present in tree)."""
    sources = [f for f in files if f.endswith((".c", ".h", ".S", ".s"))]
    if not sources:
        return
    tl = tools(tree)
    sysdirs = system_dirs(tl[0], tl[2])
    for rel in sources:
        text, headers, err = preprocess(tree, rel, tl)
        check_dependencies(tree, rel, headers, sysdirs)
        if text is None:
            raise Refused("%s: the preprocessor fails on it:\n%s" % (
                rel, diagnostics(err, {rel}, tree) or "(no message about this file)"))
        check_assembly(rel, own_text(text, rel, headers), spec.get("asm") is True)
        if rel.endswith(".c"):
            check_compiled(tree, rel, tl)


def undefined(tree, rel, nm):
    obj = os.path.join(tree, "build", os.path.splitext(rel)[0] + ".o")
    r = subprocess.run([nm, "-u", obj], capture_output=True, text=True)
    if r.returncode:
        return None
    return [line.split()[-1] for line in r.stdout.splitlines() if line.strip()]


def check_calls(tree, spec, files):
    """Integrity for the first student object that references a symbol its
    lab does not allow; returns notes for files.log."""
    calls = spec.get("calls") or {}
    notes = []
    nm = None
    for rel in files:
        if not rel.endswith((".c", ".S", ".s")):
            continue
        nm = nm or tools(tree)[1]
        syms = undefined(tree, rel, nm)
        if syms is None:
            notes.append("calls %s: no object found (not checked)" % rel)
            continue
        listed = calls.get(rel)
        for sym in syms:
            if any(fnmatch.fnmatchcase(sym, p) for p in EVERYWHERE):
                continue
            if listed is not None and sym not in listed:
                raise Integrity("%s references %s, which is not in lab %s's calls list for it"
                                % (rel, sym, spec["name"]))
            if listed is None and any(fnmatch.fnmatchcase(sym, p) for p in DENIED):
                raise Integrity("%s references %s (console, devices, file system, I/O or process "
                                "calls: no lab allows them unless its calls list names them)"
                                % (rel, sym))
        notes.append("calls %s: %d external symbol(s), %s" % (
            rel, len(syms), "all in lab.json calls" if listed is not None else
            "no calls list: checked against the denied list only"))
    return notes

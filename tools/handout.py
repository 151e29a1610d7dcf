#!/usr/bin/env python3
"""Generating a lab's student tree from the full (solution) tree.

    python3 tools/handout.py --lab NAME --out DIR [--repo DIR] [--force]
                             [--released LAB,...] [--commit]

DIR must not exist or be empty, unless --force (`make handout ... FORCE=1`):
a student's solved tree is never overwritten by accident. With --commit
(`make handout ... COMMIT=1`) DIR is a git repository of handouts: the
handout replaces its work tree and becomes one commit, which students merge
into their own repositories (docs/grading.md, "Rolling handouts").

Solution regions in C/assembly and Python/shell/Makefile/.txt files look like

    // LAB concurrency BEGIN
    ...solution...
    // STUB
    //| return -1;   // emitted as "return -1;" (indentation before //| kept)
    // LAB concurrency END

(`#`, `# STUB`, `#| ` in Python, shell, Makefiles and .txt files such as a
lab's answers file; in Markdown `<!-- LAB x BEGIN -->`, `<!-- STUB -->`,
`<!--| text -->`, `<!-- LAB x END -->`). Every lab is open until its
solution is released: regions of every lab become their stub (nothing if no
STUB block), except those of the labs named by --released (earlier labs
only, labs/ORDER, else lab.json "order"), which keep their solution; marker
lines are removed. Labs after NAME are not handed out yet: their folders and
answers files are left out (their stubs in shared files stay). A region
named `LAB instructor` (a line that points at an instructor page, say) is in
no handout. Instructor-only files never appear: labs/*/solution*,
labs/*/mutants/ (wrong solutions, made from the right one), everything
under docs/instructor/ (its pages, and patches such as docs/instructor/apart/),
Markdown pages whose first line is `<!-- instructor only -->` (such as
docs/grading.md), test programs used only by `hidden` tests (and those tests
in lab.json), and the `hint` of `hidden` and `after_due_date` tests.
Files under grade/tests/fixtures/ are copied verbatim (they are test data).

A lab may build on earlier labs (lab.json "needs"): its tests run on their
solutions. The handout then says which needed labs it leaves as stubs (not
released): students bring their own solutions by merging (rolling
handouts). Each lab folder handed out gets STUBS (labs/<lab>/stubs.sha256,
`sha256sum -c` format): the digest of each of the lab's student files as an
unreleased handout holds it, so grading a student's tree can tell that a
needed lab is still its stub (unsolved_needs) although the tree no longer
has markers.
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "grade"))
import spec as specmod  # noqa: E402

COMMENT = {".c": "//", ".h": "//", ".S": "//", ".s": "//", ".ld": "//",
           ".py": "#", ".sh": "#", ".mk": "#", ".txt": "#", ".md": "<!--"}
TRAILER = {"<!--": "-->"}
INSTRUCTOR_ONLY = "<!-- instructor only -->"
INSTRUCTOR_REGION = "instructor"   # `LAB instructor` regions are in no handout
VERBATIM = ("grade/tests/fixtures/",)
SKIP_DIRS = {".git", "build", "grade-logs", "__pycache__"}
SKIP_FILES = {"fs.img", "kernel/kernel", ".gdbport", "compile_commands.json"}
SKIP_PATHS = {"tests/logs", "batch-results"}
STUBS = "stubs.sha256"                  # in each handed-out lab's folder


class HandoutError(Exception):
    pass


def comment_of(path):
    base = os.path.basename(path)
    if base == "Makefile" or base.startswith("Makefile."):
        return "#"
    return COMMENT.get(os.path.splitext(base)[1])


def transform(text, lead, mode, path="<text>"):
    """Rewrite one file's text. lead: the comment leader ("//", "#" or
    "<!--", which closes with "-->"); mode(lab) -> "solution" or "stub" for
    a lab name (raises HandoutError for an unknown one). Returns the new text."""
    c, t = re.escape(lead), re.escape(TRAILER.get(lead, ""))
    begin = re.compile(r"^\s*%s\s*LAB\s+(\S+)\s+BEGIN\s*%s\s*$" % (c, t))
    end = re.compile(r"^\s*%s\s*LAB\s+(\S+)\s+END\s*%s\s*$" % (c, t))
    stub = re.compile(r"^\s*%s\s*STUB\s*%s\s*$" % (c, t))
    stub_line = re.compile(r"^(\s*)%s\|(?: |$)(.*?)%s$" % (c, r"\s*" + t if t else ""))
    out, lab, body, stub_lines, in_stub, start = [], None, [], None, False, 0
    for no, line in enumerate(text.splitlines(keepends=True), 1):
        bare = line.rstrip("\r\n")
        nl = line[len(bare):]
        m = begin.match(bare)
        if m:
            if lab:
                raise HandoutError("%s:%d: LAB %s BEGIN inside LAB %s (line %d)"
                                   % (path, no, m.group(1), lab, start))
            lab, body, stub_lines, in_stub, start = m.group(1), [], None, False, no
            mode(lab)
            continue
        m = end.match(bare)
        if m:
            if m.group(1) != lab:
                raise HandoutError("%s:%d: LAB %s END without its BEGIN" % (path, no, m.group(1)))
            if mode(lab) == "solution":
                out += body
            else:
                out += stub_lines or []
            lab = None
            continue
        if lab is None:
            if stub.match(bare) or stub_line.match(bare):
                raise HandoutError("%s:%d: STUB outside a LAB region" % (path, no))
            out.append(line)
        elif stub.match(bare):
            if in_stub:
                raise HandoutError("%s:%d: second STUB in LAB %s" % (path, no, lab))
            in_stub, stub_lines = True, []
        elif in_stub:
            m = stub_line.match(bare)
            if not m:
                raise HandoutError("%s:%d: a STUB block holds only '%s| ' lines until LAB %s END"
                                   % (path, no, lead, lab))
            code = m.group(1) + m.group(2) if m.group(2).strip() else ""
            stub_lines.append(code + nl)
        else:
            body.append(line)
    if lab:
        raise HandoutError("%s:%d: LAB %s BEGIN without END" % (path, start, lab))
    return "".join(out)


def list_files(repo):
    """Repository-relative paths: git's tracked and untracked-not-ignored
    files, or a walk when repo is not a git work tree."""
    if os.path.exists(os.path.join(repo, ".git")):     # a folder, or a file in a worktree
        r = subprocess.run(["git", "-C", repo, "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], capture_output=True)
        if r.returncode == 0:
            names = sorted(set(p.decode() for p in r.stdout.split(b"\0") if p))
            return [p for p in names if os.path.isfile(os.path.join(repo, p))]
    found = []
    for d, dirs, files in os.walk(repo):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS
                         and os.path.relpath(os.path.join(d, x), repo) not in SKIP_PATHS)
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), repo)
            if rel not in SKIP_FILES:
                found.append(rel)
    return sorted(found)


def instructor_only(repo, labs):
    """(excluded paths, {lab.json path: public text}) for every lab."""
    excluded, rewritten = set(), {}
    for lab in labs:
        rel = os.path.join("labs", lab, "lab.json")
        with open(os.path.join(repo, rel)) as f:
            text, dropped = specmod.public_json(f.read())
        if dropped:
            rewritten[rel] = text
            excluded |= {os.path.normpath(os.path.join("labs", lab, p)) for p in dropped}
    return excluded, rewritten


def lab_mode(labs, released=()):
    """mode() for transform: regions of the labs in `released` keep their
    solution, every other lab's (and `LAB instructor`) become stubs."""
    def mode(name):
        if name == INSTRUCTOR_REGION:
            return "stub"
        if name not in labs:
            raise HandoutError("marker names unknown lab %r" % name)
        return "solution" if name in released else "stub"
    return mode


def earlier(labs, lab):
    """The labs before `lab` in lab order (none for a lab not in it)."""
    return labs[:labs.index(lab)] if lab in labs else []


def not_yet_out(repo, labs, lab):
    """Paths of the labs after `lab`, which are not handed out yet: their
    folders and answers files."""
    if lab not in labs:
        return set(), set()
    later = labs[labs.index(lab) + 1:]
    specs = [specmod.load(name, os.path.join(repo, "labs")) for name in later]
    return ({os.path.join("labs", name) + os.sep for name in later},
            {spec["answers"]["file"] for spec in specs if spec["answers"]})


def instructor_page(path):
    """Is path a Markdown page marked instructor-only on its first line?"""
    if not path.endswith(".md"):
        return False
    with open(path, errors="replace") as f:
        return f.readline().strip().lower() == INSTRUCTOR_ONLY


def marked(rel):
    """The comment leader of rel's markers, or None: a file type without
    them, or test data copied verbatim."""
    return None if rel.startswith(VERBATIM) else comment_of(rel)


def as_handed_out(repo, rel, mode):
    """The text of repo's file rel with its regions rewritten by mode (as it
    is when it has none)."""
    with open(os.path.join(repo, rel), newline="") as f:
        text = f.read()
    return transform(text, marked(rel), mode, rel) if marked(rel) else text


def rewrite(repo, rel, dst, mode):
    """Write repo's file rel to dst, solution regions rewritten by mode when
    the file type has markers."""
    src = os.path.join(repo, rel)
    if marked(rel):
        with open(dst, "w", newline="") as f:
            f.write(as_handed_out(repo, rel, mode))
        shutil.copymode(src, dst)
    else:
        shutil.copy2(src, dst)


def student_files(repo, labs):
    """The student files of labs (their answers files included)."""
    files = set()
    for name in labs:
        files |= set(specmod.load(name, os.path.join(repo, "labs"))["student_files"])
    return files


def digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stub_digests(repo, lab):
    """{path: sha256} of lab's student files as an unreleased handout holds
    them: from the lab's STUBS file in a handout, else from the markers of
    repo's files (a file with no region of any lab is left out: its stub
    is unknown)."""
    recorded = os.path.join(repo, "labs", lab, STUBS)
    if os.path.isfile(recorded):
        with open(recorded) as f:
            return {rel: h for h, rel in (line.split(None, 1) for line in f.read().splitlines()
                                          if line.strip())}
    labs, found = specmod.lab_names(os.path.join(repo, "labs")), {}
    for rel in sorted(student_files(repo, [lab])):
        if os.path.isfile(os.path.join(repo, rel)):
            stub = as_handed_out(repo, rel, lab_mode(labs))
            if stub != as_handed_out(repo, rel, lambda name: "solution"):
                found[rel] = digest(stub)
    return found


def write_stubs(repo, out, labs):
    """Give each lab of labs handed out in out its STUBS file."""
    for name in labs:
        if os.path.isdir(os.path.join(out, "labs", name)):
            with open(os.path.join(out, "labs", name, STUBS), "w") as f:
                f.writelines("%s  %s\n" % (h, rel)
                             for rel, h in sorted(stub_digests(repo, name).items()))


def unsolved_needs(repo, lab, needs):
    """[(needed lab, [its code files still their stub])] of the labs lab
    builds on (needs), as repo's grading builds them (earlier labs'
    solutions where repo has them)."""
    labs = specmod.lab_names(os.path.join(repo, "labs"))
    mode = lab_mode(labs, set(earlier(labs, lab)))
    found = []
    for need in needs:
        other = specmod.load(need, os.path.join(repo, "labs"))
        answers = other["answers"]["file"] if other["answers"] else None
        stubs = stub_digests(repo, need)
        left = [rel for rel in other["student_files"] if rel != answers and rel in stubs
                and os.path.isfile(os.path.join(repo, rel))
                and digest(as_handed_out(repo, rel, mode)) == stubs[rel]]
        if left:
            found.append((need, left))
    return found


def unsolved_needs_line(repo, lab, needs):
    """The line grading prints first when a lab it builds on is still the
    handout's stub in repo (None when none is)."""
    found = unsolved_needs(repo, lab, needs)
    if not found:
        return None
    names = [need for need, _ in found]
    files = [rel for _, rels in found for rel in rels]
    return ("lab %s builds on %s, but %s here %s still the handout's stub%s: the tests that "
            "need it fail until your own solution of %s (or the released one) is in this tree"
            % (lab, plural(names), ", ".join(files), "are" if len(files) > 1 else "is",
               "s" if len(files) > 1 else "", plural(names)))


def plural(names):
    """"lab x" or "labs x, y"."""
    return "lab%s %s" % ("s" if len(names) > 1 else "", ", ".join(names))


def unreleased_needs_line(repo, lab, released):
    """The line `make handout` prints when lab builds on labs it leaves as
    stubs (None when it does not)."""
    needs = [x for x in specmod.load(lab, os.path.join(repo, "labs"))["needs"]
             if x not in released]
    if not needs:
        return None
    return ("lab %s builds on %s, left as %s stub%s here: students need their own solution "
            "(rolling handouts) or RELEASED=%s" % (lab, plural(needs), "their" if len(needs) > 1
                                                   else "its", "s" if len(needs) > 1 else "",
                                                   ",".join(needs)))


def make_handout(repo, lab, out, any_lab=False, released=(), in_student_files=False):
    """Write lab's student tree from repo into out; the list of files.
    released: the earlier labs whose solutions it keeps; in_student_files:
    only in those labs' student files (the grader's pristine tree builds on
    the reference's earlier labs while every other file, docs included, is
    the students' handout). any_lab: a lab missing from repo's labs/ is
    allowed (every region is then a stub: the harness's pristine tree for a
    test lab)."""
    labs = specmod.lab_names(os.path.join(repo, "labs"))
    if lab not in labs and not any_lab:
        raise HandoutError("no lab %r (labs: %s)" % (lab, ", ".join(labs) or "none"))
    wrong = [x for x in released if x not in earlier(labs, lab)]
    if wrong:
        raise HandoutError("cannot release %s with lab %s: only an earlier lab's solution "
                           "(%s) can be released" % (", ".join(wrong), lab,
                                                     ", ".join(earlier(labs, lab)) or "none"))
    mode, stubs = lab_mode(labs, set(released)), lab_mode(labs)
    solved = student_files(repo, released) if in_student_files else None
    excluded, rewritten = instructor_only(repo, labs)
    written = []
    for rel in handed_out(repo, labs, lab, excluded):
        dst = os.path.join(out, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if rel in rewritten:
            with open(dst, "w") as f:
                f.write(rewritten[rel])
        else:
            rewrite(repo, rel, dst, mode if solved is None or rel in solved else stubs)
        written.append(rel)
    write_stubs(repo, out, labs)
    return list(dict.fromkeys(written + [os.path.join("labs", name, STUBS) for name in labs
                                         if os.path.isdir(os.path.join(out, "labs", name))]))


def handed_out(repo, labs, lab, excluded):
    """The files of repo that lab's handout holds: not `excluded` (hidden
    tests), not a lab that is not out yet, no lab's solution notes or
    mutants, nothing under docs/instructor/, no instructor page."""
    later_dirs, later_files = not_yet_out(repo, labs, lab)
    for rel in list_files(repo):
        parts = rel.split(os.sep)
        if rel in excluded or rel in later_files or rel.startswith(tuple(later_dirs)) \
                or (len(parts) >= 3 and parts[0] == "labs"
                    and (parts[2].startswith("solution") or parts[2] == "mutants")) \
                or parts[:2] == ["docs", "instructor"] or instructor_page(os.path.join(repo, rel)):
            continue
        yield rel


def shipped_docs(repo, lab):
    """{path: text} of the Markdown pages lab's default handout holds, as
    students read them (every lab's regions their stubs): what an answer to
    the lab's questions must not copy (grade/answers.py)."""
    labs = specmod.lab_names(os.path.join(repo, "labs"))
    docs = {}
    for rel in handed_out(repo, labs, lab, set()):
        if rel.endswith(".md") and not rel.startswith(VERBATIM):
            with open(os.path.join(repo, rel), errors="replace") as f:
                docs[rel] = transform(f.read(), "<!--", lab_mode(labs), rel)
    return docs


def git(repo, *args):
    """Run git in repo; its stdout, HandoutError with its message if it fails."""
    r = subprocess.run(["git", "-C", repo] + list(args), capture_output=True, text=True)
    if r.returncode:
        raise HandoutError("git %s: %s" % (args[0], (r.stderr or r.stdout).strip()[-300:]))
    return r.stdout


def commit_handout(repo, lab, out, released):
    """Make the handout the next commit of the git repository `out`
    (created if missing or empty): every file of the handout written, every
    tracked file no longer in it removed, so a student who merges the commit
    gets exactly this handout, with conflicts only in files they changed."""
    if not os.path.isdir(os.path.join(out, ".git")):
        if os.path.isdir(out) and os.listdir(out):
            raise HandoutError("%s is not empty and not a git repository" % out)
        os.makedirs(out, exist_ok=True)
        git(out, "init", "-q")
    if git(out, "status", "--porcelain"):
        raise HandoutError("%s has uncommitted changes; commit or discard them first" % out)
    files = make_handout(repo, lab, out, released=released)
    keep = set(files)
    for rel in git(out, "ls-files", "-z").split("\0"):
        if rel and rel not in keep:
            os.remove(os.path.join(out, rel))
    git(out, "add", "-A")
    if not git(out, "status", "--porcelain"):
        return files, None
    who = [] if subprocess.run(["git", "-C", out, "config", "user.email"],
                               capture_output=True).returncode == 0 else \
        ["-c", "user.name=Spindle handout", "-c", "user.email=handout@localhost"]
    message = "Lab %s handout" % lab + ("; solutions released: %s" % ", ".join(released)
                                        if released else "")
    git(out, *who, "commit", "-q", "-m", message)
    return files, git(out, "rev-parse", "--short", "HEAD").strip()


def main(argv):
    ap = argparse.ArgumentParser(description="Write a lab's student tree.")
    ap.add_argument("--lab", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--repo", default=specmod.ROOT)
    ap.add_argument("--force", action="store_true", help="write into a non-empty DIR")
    ap.add_argument("--released", default="",
                    help="LAB,...: earlier labs whose solutions the handout keeps")
    ap.add_argument("--commit", action="store_true",
                    help="DIR is a git repository of handouts: commit the handout there")
    opts = ap.parse_args(argv)
    repo, out = os.path.abspath(opts.repo), os.path.abspath(opts.out)
    released = [x for x in opts.released.replace(",", " ").split() if x]
    if out == repo:
        print("handout: --out must not be the repository", file=sys.stderr)
        return 2
    if not opts.commit and os.path.isdir(out) and os.listdir(out) and not opts.force:
        print("handout: %s exists and is not empty (a solved tree?); choose another "
              "folder, or overwrite with --force (make handout ... FORCE=1)" % out,
              file=sys.stderr)
        return 2
    try:
        if opts.commit:
            files, commit = commit_handout(repo, opts.lab, out, released)
        else:
            files, commit = make_handout(repo, opts.lab, out, released=released), None
    except (HandoutError, specmod.SpecError, ValueError, UnicodeDecodeError) as e:
        print("handout: %s" % e, file=sys.stderr)
        return 1
    print("handout: lab %s: %d files in %s%s%s" % (
        opts.lab, len(files), out, "; solutions released: " + ", ".join(released) if released else "",
        "; commit " + commit if commit else "; nothing new to commit" if opts.commit else ""))
    line = unreleased_needs_line(repo, opts.lab, released)
    if line:
        print("handout: " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

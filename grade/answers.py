"""The written-answers check: a host-side test that the submission has filled
in the lab's answers file (lab.json "answers"; format in docs/grading.md).
It reads the submission's file only (never anything the kernel or a test
program produced), so a kernel cannot forge it. It checks that the answers are
there and long enough, not that they are right: the instructor reads them.

The file: lines `Q1:` .. `QN:` (at the start of a line, `q` also accepted)
each start an answer, which runs to the next such line or the end; text
before Q1, lines whose first non-blank character is `#`, and every
occurrence of the template's placeholder are ignored. A word is a
whitespace-separated token with a letter or digit in it. An answer counts
when it has at least min_words words and is not filler (filler()): too few
distinct words, long repeats, or mostly the lab README's own text (the
question); or a copy: COPY_RUN words in a row from a doc the handout ships
(docs, the lab's README). Either scores 0 for its question and flags the
check INTEGRITY for the instructor. The score is points x counted / N.
"""
import os
import re
import stat

MAX_BYTES = 1 << 20
LABEL = re.compile(r"^[ \t]*[Qq](\d+)[ \t]*:(.*)$")


def parse(text, placeholder=""):
    """{question number: answer text} (comments and placeholders removed; a
    label given twice gets both texts)."""
    found, current = {}, None
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        m = LABEL.match(line)
        if m:
            current = int(m.group(1))
            found.setdefault(current, [])
            line = m.group(2)
        if current is not None:
            found[current].append(line)
    out = {}
    for k, lines in found.items():
        body = "\n".join(lines)
        if placeholder:
            body = body.replace(placeholder, " ")
        out[k] = body.strip()
    return out


def words(text):
    return [w for w in text.split() if any(c.isalnum() for c in w)]


def _norm(text):
    return [w.strip(".,;:!?()[]{}\"'`*").lower() for w in words(text)]


def _grams(ws, n):
    return [" ".join(ws[i:i + n]) for i in range(len(ws) - n + 1)]


def filler(text, need, readme=""):
    """Why an answer long enough to count is filler, or None: fewer
    distinct words than half the words needed, a text that
    mostly repeats its own 4-word runs, or one whose 4-word runs are mostly
    the README's (the question copied)."""
    ws = _norm(text)
    distinct = len(set(ws))
    if distinct < need // 2:
        return "filler: %d distinct words" % distinct
    grams = _grams(ws, 4)
    if grams and len(set(grams)) < 0.7 * len(grams):
        return "filler: repeats itself (%d of %d four-word runs are repeats)" % (
            len(grams) - len(set(grams)), len(grams))
    known = set(_grams(_norm(readme), 4))
    if grams and sum(g in known for g in grams) > 0.5 * len(grams):
        return "filler: mostly the README's own text (%d of %d four-word runs)" % (
            sum(g in known for g in grams), len(grams))
    return None


COPY_RUN = 12          # words in a row shared with a shipped doc: a copied sentence


def doc_runs(docs):
    """{COPY_RUN-word run: the doc it is from} of {path: text}."""
    runs = {}
    for rel, text in sorted(docs.items()):
        for g in _grams(_norm(text), COPY_RUN):
            runs.setdefault(g, rel)
    return runs


def copied(text, runs):
    """Why an answer copies a shipped doc (a run of COPY_RUN words in a row
    from one of them), or None."""
    for g in _grams(_norm(text), COPY_RUN):
        if g in runs:
            return "copied from %s: '%s ...'" % (runs[g], " ".join(g.split()[:8]))
    return None


def regular_file(base, rel, max_bytes=None):
    """The path of base/rel if it and every folder on the way (below base)
    are real (no symbolic links) and it is a regular file (of at most
    max_bytes); else (None, why). Also build.py's rule for student files."""
    path = base
    for part in rel.split("/"):
        path = os.path.join(path, part)
        try:
            st = os.lstat(path)
        except OSError:
            return None, "missing"
        if stat.S_ISLNK(st.st_mode):
            return None, "a symbolic link (submit a regular file)"
    if not stat.S_ISREG(st.st_mode):
        return None, "not a regular file"
    if st.st_nlink > 1:
        return None, "a hard link (submit a regular file of its own)"
    if max_bytes is not None and st.st_size > max_bytes:
        return None, "larger than %d bytes" % max_bytes
    return path, None


def flat_names(student_files):
    """{file name: path} of the student files whose name no other student
    file has: the ones a flat submission (the files alone, as dragged into
    Gradescope) may hold at its top."""
    names = [os.path.basename(rel) for rel in student_files]
    return {os.path.basename(rel): rel for rel in student_files
            if names.count(os.path.basename(rel)) == 1}


def submitted(repo, rel, student_files):
    """Where the submission holds student file rel: at its path, else (a
    flat submission) its name at the top when no other student file has
    that name. Relative to repo; rel itself when neither is there."""
    if os.path.lexists(os.path.join(repo, rel)):
        return rel
    name = os.path.basename(rel)
    if flat_names(student_files).get(name) == rel and os.path.lexists(os.path.join(repo, name)):
        return name
    return rel


def check(ans, repo, readme="", student_files=(), docs=None):
    """Score the answers of spec["answers"] `ans` in the tree `repo` (the
    same for the instructor's tree, whose answers file holds the model
    answers inside a LAB region, and for a student's).
    Returns dict(score, max_score, status, detail, results)."""
    n, need, points = ans["questions"], ans["min_words"], ans["points"]
    source = submitted(repo, ans["file"], list(student_files) or [ans["file"]])
    path, why = regular_file(repo, source)
    if path is None:
        status = "%s is %s" % (ans["file"], why) if why != "missing" else "missing %s" % ans["file"]
        return {"score": 0, "max_score": points, "status": status,
                "detail": status + "\n  answer Q1..Q%d in %s at the top of your tree "
                "(template in the lab's README)" % (n, ans["file"]), "results": {}}
    with open(path, "rb") as f:
        text = f.read(MAX_BYTES).decode("utf-8", errors="replace")
    got = parse(text, ans["placeholder"])
    runs = doc_runs(docs or {})
    results, lines, flagged = {}, [], []
    for k in range(1, n + 1):
        count = len(words(got.get(k, "")))
        results["Q%d" % k] = ok = count >= need
        junk = (filler(got[k], need, readme) or copied(got[k], runs)) if ok else None
        if junk:
            results["Q%d" % k] = False
            flagged.append("Q%d %s" % (k, junk))
            why = "scored 0, %s" % junk
        elif k not in got:
            why = "missing (no Q%d: line)" % k
        elif count == 0:
            why = "not answered"
        elif not ok:
            why = "too short: %d words, needs %d" % (count, need)
        else:
            why = "ok (%d words)" % count
        lines.append("  %-24s %s" % ("Q%d" % k, why))
    good = sum(results.values())
    status = "ok" if good == n else "%d/%d answers filled in" % (good, n)
    if flagged:
        status = "INTEGRITY: %s (%s)" % ("; ".join(flagged), status)
    return {"score": round(points * good / n, 2), "max_score": points, "status": status,
            "detail": "%s\n  read %s\n%s" % (status, source, "\n".join(lines)),
            "results": results, "integrity": bool(flagged)}

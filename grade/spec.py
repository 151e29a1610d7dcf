"""Lab specifications: loading labs/<name>/lab.json, defaults, validation,
lab order (labs/ORDER or "order"), the earlier labs a lab builds on
("needs"), the files a student owns ("student_files", the only files the
harness takes from a submission),
merging an instructor's hidden spec (--hidden DIR) into a lab, and the
written-answers check's settings ("answers"). The format is documented in
docs/grading.md.
"""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABS = os.path.join(ROOT, "labs")

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
PARTIALS = ("all", "fraction")
PRISTINE_TOPS = ("grade", "tools", "labs", "tests")   # never a student's file
TEST_DEFAULTS = {"args": [], "partial": "all", "visibility": "visible", "icount": False}


class SpecError(Exception):
    """lab.json is malformed; str() says where."""


def lab_names(labs_dir=LABS):
    """Every lab under labs_dir, in lab order: the names listed in
    labs_dir/ORDER (one a line, # comments) first, then the others sorted by
    their lab.json "order" and name. A listed lab with no folder (one not
    handed out yet) is not a lab here."""
    if not os.path.isdir(labs_dir):
        return []
    found = sorted(d for d in os.listdir(labs_dir)
                   if os.path.isfile(os.path.join(labs_dir, d, "lab.json")))
    listed = []
    order_file = os.path.join(labs_dir, "ORDER")
    if os.path.exists(order_file):
        with open(order_file) as f:
            for line in f:
                name = line.split("#")[0].strip()
                if name in found and name not in listed:
                    listed.append(name)
    rest = [d for d in found if d not in listed]
    rest.sort(key=lambda d: (_order_of(labs_dir, d), d))
    return listed + rest


def _order_of(labs_dir, name):
    try:
        with open(os.path.join(labs_dir, name, "lab.json")) as f:
            return float(json.load(f).get("order", 1e9))
    except (OSError, ValueError):
        return 1e9


def load(name, labs_dir=LABS, hidden=None):
    """The spec of lab `name` as a dict with defaults filled in. Program paths
    become absolute (spec["programs"]); with hidden=DIR the tests and
    programs of DIR/lab.json are added (a hidden test with the name of a
    public one replaces it). The old "protected" key is ignored: everything
    outside "student_files" is pristine."""
    lab_dir = os.path.join(labs_dir, name)
    if name not in lab_names(labs_dir):
        raise SpecError("no lab %r; the labs are %s" % (name, " ".join(lab_names(labs_dir))))
    spec = _read(os.path.join(lab_dir, "lab.json"))
    spec.setdefault("name", name)
    spec["dir"] = lab_dir
    spec["programs"] = [_prog(lab_dir, p, False) for p in spec.get("programs", [])]
    spec.pop("protected", None)
    spec.setdefault("tests", [])
    if hidden:
        hpath = os.path.join(hidden, "lab.json")
        if not os.path.exists(hpath):
            hpath = os.path.join(hidden, name, "lab.json")   # DIR/<lab>/lab.json
        extra = _read(hpath)
        hdir = os.path.dirname(hpath)
        spec["programs"] += [_prog(hdir, p, True) for p in extra.get("programs", [])]
        names = {t["name"] for t in extra.get("tests", [])}
        spec["tests"] = [t for t in spec["tests"] if t.get("name") not in names]
        spec["tests"] += extra.get("tests", [])
        if "answers" in extra:
            spec["answers"] = extra["answers"]
    for t in spec["tests"]:
        _check_test(spec, t)
    spec["answers"] = _check_answers(spec, spec.get("answers"))
    spec["student_files"] = _check_student_files(spec)
    spec["needs"] = _check_needs(spec, name, lab_names(labs_dir))
    _check_reach(spec)
    return spec


def _check_needs(spec, name, labs):
    """"needs": the labs before lab `name` in lab order whose solutions its
    tests run on (a list of their names, none by default)."""
    needs = spec.get("needs", [])
    where = "lab %s needs" % spec["name"]
    if not isinstance(needs, list) or not all(isinstance(x, str) for x in needs):
        raise SpecError("%s: must be a list of lab names" % where)
    before = labs[:labs.index(name)]
    for need in needs:
        if need not in before:
            raise SpecError("%s: %r is not a lab before %s (earlier labs: %s)"
                            % (where, need, name, ", ".join(before) or "none"))
    if len(set(needs)) != len(needs):
        raise SpecError("%s: a lab named twice" % where)
    return list(needs)


def _check_reach(spec):
    """"calls": {student file: [symbol, ...]}; "asm": true or false."""
    where = "lab %s" % spec["name"]
    calls = spec.setdefault("calls", {})
    if not isinstance(calls, dict):
        raise SpecError("%s calls: must map student files to lists of symbols" % where)
    for rel, syms in calls.items():
        if rel not in spec["student_files"]:
            raise SpecError("%s calls: %r is not one of its student_files" % (where, rel))
        if not isinstance(syms, list) or not all(isinstance(x, str) and x for x in syms):
            raise SpecError("%s calls %s: must be a list of symbol names" % (where, rel))
    if not isinstance(spec.setdefault("asm", False), bool):
        raise SpecError("%s asm: must be true or false" % where)


def safe_relpath(rel):
    """Is rel a plain path inside a tree (relative, no '..', no '.', no
    backslash, no empty part)?"""
    return (isinstance(rel, str) and bool(rel) and not rel.startswith("/") and "\\" not in rel
            and all(part not in ("", ".", "..") for part in rel.split("/")))


def _check_student_files(spec):
    """The files a student owns: lab.json "student_files" plus the answers
    file; each a plain repository-relative path."""
    files = spec.get("student_files", [])
    where = "lab %s student_files" % spec["name"]
    if not isinstance(files, list):
        raise SpecError("%s: must be a list of paths" % where)
    if spec["answers"] and spec["answers"]["file"] not in files:
        files = files + [spec["answers"]["file"]]
    for rel in files:
        if not safe_relpath(rel):
            raise SpecError("%s: %r must be a path inside the tree" % (where, rel))
        if os.path.basename(rel).startswith("Makefile") or rel.endswith(".mk"):
            raise SpecError("%s: %r would run on the grading host" % (where, rel))
        if rel.split("/")[0] in PRISTINE_TOPS:
            raise SpecError("%s: %r is under %s/, which is always the harness's own"
                            % (where, rel, rel.split("/")[0]))
    return list(dict.fromkeys(files))


def max_points(spec):
    """The lab's total: its tests plus its answers check."""
    return sum(t["points"] for t in spec["tests"]) + (
        spec["answers"]["points"] if spec.get("answers") else 0)


def _check_answers(spec, ans):
    """spec["answers"] with defaults, validated (None if the lab has none)."""
    if ans is None:
        return None
    where = "lab %s answers" % spec["name"]
    if not isinstance(ans, dict):
        raise SpecError("%s: must be an object" % where)
    ans = dict(ans)
    ans.pop("_base", None)
    for key in ("points", "questions"):
        if key not in ans:
            raise SpecError("%s: missing %r" % (where, key))
    ans.setdefault("name", "answers")
    ans.setdefault("file", "answers-%s.txt" % spec["name"])
    ans.setdefault("min_words", 20)
    ans.setdefault("placeholder", "<your answer here>")
    ans.setdefault("visibility", "visible")
    if not isinstance(ans["questions"], int) or ans["questions"] < 1:
        raise SpecError("%s: questions must be a whole number >= 1" % where)
    if not isinstance(ans["min_words"], int) or ans["min_words"] < 0:
        raise SpecError("%s: min_words must be a whole number >= 0" % where)
    if not isinstance(ans["points"], (int, float)) or ans["points"] < 0:
        raise SpecError("%s: points must be a number >= 0" % where)
    if ans["visibility"] not in VISIBILITIES:
        raise SpecError("%s: visibility must be one of %s" % (where, ", ".join(VISIBILITIES)))
    name = str(ans["name"])
    if not name or any(c.isspace() for c in name):
        raise SpecError("%s: name %r must be a non-empty word" % (where, name))
    if name in {t["name"] for t in spec["tests"]}:
        raise SpecError("%s: name %r is also a test's name" % (where, name))
    if not isinstance(ans["placeholder"], str):
        raise SpecError("%s: placeholder must be a string" % where)
    f = ans["file"]
    if not isinstance(f, str) or not f or f.startswith("/") or "\\" in f or ".." in f.split("/"):
        raise SpecError("%s: file %r must be a path inside the submission" % (where, f))
    ans.pop("model", None)      # old key: the model answers now live in the answers file
    return ans


def _read(path):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as e:
        raise SpecError("%s: %s" % (path, e.strerror))
    except ValueError as e:
        raise SpecError("%s: %s" % (path, e))


def _prog(base, rel, hidden):
    path = os.path.normpath(os.path.join(base, rel))
    return {"path": path, "rel": rel, "hidden": hidden,
            "name": os.path.splitext(os.path.basename(rel))[0]}


def _check_test(spec, t):
    where = "lab %s test %s" % (spec["name"], t.get("name", "?"))
    for key in ("name", "run", "points"):
        if key not in t:
            raise SpecError("%s: missing %r" % (where, key))
    for key, value in TEST_DEFAULTS.items():
        t.setdefault(key, list(value) if isinstance(value, list) else value)
    t.setdefault("timeout", spec.get("timeout", 60))
    t.setdefault("cpus", spec.get("cpus", 3))
    t.setdefault("expect", [t["name"]])
    t.setdefault("output_cap", spec.get("output_cap", 1 << 20))
    if t["visibility"] not in VISIBILITIES:
        raise SpecError("%s: visibility must be one of %s" % (where, ", ".join(VISIBILITIES)))
    if t["partial"] not in PARTIALS:
        raise SpecError("%s: partial must be one of %s" % (where, ", ".join(PARTIALS)))
    if not t["expect"]:
        raise SpecError("%s: expect is empty" % where)
    if not isinstance(t.get("hint", ""), str):
        raise SpecError("%s: hint must be a string" % where)
    if not isinstance(t["icount"], bool):
        raise SpecError("%s: icount must be true or false" % where)
    ms = t.setdefault("min_seconds", 0)
    if not isinstance(ms, (int, float)) or ms < 0:
        raise SpecError("%s: min_seconds must be a number >= 0" % where)
    for name in [t["run"]] + list(t["args"]) + list(t["expect"]):
        if not name or any(c.isspace() for c in str(name)):
            raise SpecError("%s: %r must be a non-empty word" % (where, name))


def public_json(spec_text):
    """lab.json text without its hidden tests and their programs (for the
    student handout), and without the `hint` of tests whose results show
    only after the due date. Programs used only by hidden tests are dropped."""
    spec = json.loads(spec_text)
    tests = spec.get("tests", [])
    hidden = [t for t in tests if t.get("visibility") == "hidden"]
    late = [t for t in tests if t.get("visibility") in ("after_due_date", "after_published")
            and "hint" in t]
    if not hidden and not late:
        return spec_text, []
    for t in late:
        del t["hint"]
    kept = [t for t in tests if t.get("visibility") != "hidden"]
    used = {t.get("run") for t in kept}
    dropped = [p for p in spec.get("programs", [])
               if os.path.splitext(os.path.basename(p))[0] not in used
               and os.path.splitext(os.path.basename(p))[0] in {t.get("run") for t in hidden}]
    spec["tests"] = kept
    spec["programs"] = [p for p in spec.get("programs", []) if p not in dropped]
    return json.dumps(spec, indent=2) + "\n", dropped

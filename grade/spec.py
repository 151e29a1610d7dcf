"""Lab specifications: loading labs/<name>/lab.json, defaults, validation,
lab order (labs/ORDER or "order"), and merging an instructor's hidden spec
(--hidden DIR) into a lab. The format is documented in docs/grading.md.
"""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABS = os.path.join(ROOT, "labs")

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
PARTIALS = ("all", "fraction")
TEST_DEFAULTS = {"args": [], "partial": "all", "visibility": "visible"}


class SpecError(Exception):
    """lab.json is malformed; str() says where."""


def lab_names(labs_dir=LABS):
    """Every lab under labs_dir, in lab order: the names listed in
    labs_dir/ORDER (one a line, # comments) first, then the others sorted by
    their lab.json "order" and name."""
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
                if name and name not in listed:
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
    become absolute (spec["programs"]); with hidden=DIR the tests, programs
    and protected files of DIR/lab.json are added (a hidden test with the
    name of a public one replaces it)."""
    lab_dir = os.path.join(labs_dir, name)
    spec = _read(os.path.join(lab_dir, "lab.json"))
    spec.setdefault("name", name)
    spec["dir"] = lab_dir
    spec["programs"] = [_prog(lab_dir, p, False) for p in spec.get("programs", [])]
    spec.setdefault("protected", [])
    spec.setdefault("tests", [])
    if hidden:
        hpath = os.path.join(hidden, "lab.json")
        if not os.path.exists(hpath):
            hpath = os.path.join(hidden, name, "lab.json")   # DIR/<lab>/lab.json
        extra = _read(hpath)
        hdir = os.path.dirname(hpath)
        spec["programs"] += [_prog(hdir, p, True) for p in extra.get("programs", [])]
        spec["protected"] = sorted(set(spec["protected"]) | set(extra.get("protected", [])))
        names = {t["name"] for t in extra.get("tests", [])}
        spec["tests"] = [t for t in spec["tests"] if t.get("name") not in names]
        spec["tests"] += extra.get("tests", [])
    for t in spec["tests"]:
        _check_test(spec, t)
    return spec


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
    for name in [t["run"]] + list(t["args"]) + list(t["expect"]):
        if not name or any(c.isspace() for c in str(name)):
            raise SpecError("%s: %r must be a non-empty word" % (where, name))


def public_json(spec_text):
    """lab.json text without its hidden tests and their programs (for the
    student handout). Programs used only by hidden tests are dropped."""
    spec = json.loads(spec_text)
    tests = spec.get("tests", [])
    hidden = [t for t in tests if t.get("visibility") == "hidden"]
    if not hidden:
        return spec_text, []
    kept = [t for t in tests if t.get("visibility") != "hidden"]
    used = {t.get("run") for t in kept}
    dropped = [p for p in spec.get("programs", [])
               if os.path.splitext(os.path.basename(p))[0] not in used
               and os.path.splitext(os.path.basename(p))[0] in {t.get("run") for t in hidden}]
    spec["tests"] = kept
    spec["programs"] = [p for p in spec.get("programs", []) if p not in dropped]
    return json.dumps(spec, indent=2) + "\n", dropped

"""The grader's checks of what a student file may reach (grade/integrity.py,
build.py's use of them) on the forging student files of fixtures/forge/
(see its README): the real compiler, preprocessor and nm on a small tree
(the harness's Makefile, kernel/, user/ and tools/), no QEMU. Also: a build
error is shown as the compiler's lines about the student's file, host paths elided;
a hard-linked student file is refused; batch names are unique. Skipped
without a RISC-V gcc."""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
GRADE_DIR = os.path.dirname(HERE)
ROOT = os.path.dirname(GRADE_DIR)
sys.path.insert(0, GRADE_DIR)
import batch  # noqa: E402
import build  # noqa: E402
import integrity  # noqa: E402
import spec as specmod  # noqa: E402
from build import handout  # noqa: E402

FORGE = os.path.join(HERE, "fixtures", "forge")
KFILE, UFILE = "kernel/proc/concurrency.c", "user/lib/uthread_upcall.c"
SECRET = "hidden-test-answer-4242"
HAVE_GCC = shutil.which("riscv64-unknown-elf-gcc") or shutil.which("riscv64-linux-gnu-gcc")


@unittest.skipUnless(HAVE_GCC, "needs a riscv64 gcc")
class Integrity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="grade-integrity-")
        cls.tree = os.path.join(cls.tmp, "tree")
        for rel in ("kernel", "user", "tools"):
            shutil.copytree(os.path.join(ROOT, rel), os.path.join(cls.tree, rel),
                            ignore=shutil.ignore_patterns("*.o", "*.d"))
        shutil.copy(os.path.join(ROOT, "Makefile"), cls.tree)
        cls.secret = os.path.join(cls.tmp, "secret.txt")
        with open(cls.secret, "w") as f:
            f.write(SECRET + "\n")
        cls.tl = integrity.tools(cls.tree)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def put(self, fixture, rel):
        """The fixture as the tree's student file rel (the original saved)."""
        dst = os.path.join(self.tree, rel)
        saved = dst + ".orig"
        if not os.path.exists(saved):
            shutil.copy(dst, saved)
            self.addCleanup(os.replace, saved, dst)
        with open(os.path.join(FORGE, fixture)) as f:
            text = f.read().replace("@ROOT@", ROOT).replace("@SECRET@", self.secret)
        with open(dst, "w") as f:
            f.write(text)

    def sources(self, fixture, rel, spec=None):
        self.put(fixture, rel)
        integrity.check_sources(self.tree, spec or {"name": "lab"}, [rel])

    def calls(self, fixture, rel, spec):
        self.put(fixture, rel)
        obj = os.path.join(self.tree, "build", os.path.splitext(rel)[0] + ".o")
        os.makedirs(os.path.dirname(obj), exist_ok=True)
        subprocess.run([self.tl[0]] + integrity.flags_for(rel, self.tl) + ["-c", "-o", obj, rel],
                       cwd=self.tree, check=True, capture_output=True)
        return integrity.check_calls(self.tree, spec, [rel])

    def test_includes_outside_the_tree_are_refused(self):
        for fixture in ("digraph_include.c", "comment_string.c", "host_leak.c"):
            with self.subTest(fixture=fixture):
                with self.assertRaises(integrity.Refused) as cm:
                    self.sources(fixture, KFILE)
                msg = str(cm.exception)
                self.assertTrue(msg.startswith(KFILE + " includes a file outside the tree"), msg)
                for leak in (SECRET, self.tmp, ROOT, "lwp_alloc"):
                    self.assertNotIn(leak, msg)

    def test_assembly_is_flagged(self):
        for fixture, seen in (("incbin.c", "directive .incbin"),
                              ("line_marker.c", "names kernel/arch/riscv.h"),
                              ("asm_block.c", "beyond one instruction"),
                              ("section_name.c", "assembly for it holds the directive .incbin")):
            with self.subTest(fixture=fixture):
                with self.assertRaisesRegex(integrity.Integrity, seen):
                    self.sources(fixture, KFILE)
        # "asm": true lets the block through, never the directive
        self.sources("asm_block.c", KFILE, {"name": "lab", "asm": True})
        with self.assertRaisesRegex(integrity.Integrity, "incbin"):
            self.sources("incbin.c", KFILE, {"name": "lab", "asm": True})

    def test_honest_assembly_passes(self):
        self.sources("honest_asm.c", "user/lib/uthread_mutex.c")

    def test_calls_outside_the_list(self):
        # no "calls" entry: the denied list
        with self.assertRaisesRegex(integrity.Integrity, "^%s references devsw" % KFILE):
            self.calls("console_filter.c", KFILE, {"name": "lab"})
        with self.assertRaisesRegex(integrity.Integrity, "^%s references (open|close|dup|fork|"
                                    "kill|getpid)" % UFILE):
            self.calls("lib_forge.c", UFILE, {"name": "lab"})
        # a "calls" entry: anything else, named
        spec = {"name": "lab", "calls": {UFILE: ["printf", "open", "close", "dup", "getpid"]}}
        with self.assertRaisesRegex(integrity.Integrity, "references (fork|kill), which is not in "
                                    "lab lab's calls list"):
            self.calls("lib_forge.c", UFILE, spec)
        spec["calls"][UFILE] += ["fork", "kill"]
        notes = self.calls("lib_forge.c", UFILE, spec)
        self.assertIn("all in lab.json calls", notes[0])

    def test_build_errors_show_only_the_students_lines(self):
        log = ("  CC      kernel/proc/proc.c\n"
               "In file included from %(t)s/kernel/proc/concurrency.c:3:\n"
               "%(s)s:1:1: error: unknown type name 'hidden'\n"
               "    1 | %(x)s\n"
               "%(t)s/kernel/proc/concurrency.c:4:9: error: expected expression before ';' token\n"
               "    4 | int x = ;\n"
               "      |         ^\n"
               "make: *** [Makefile:58: build/kernel/proc/concurrency.o] Error 1\n"
               % {"t": self.tree, "s": self.secret, "x": SECRET})
        got = integrity.diagnostics(log, {KFILE}, self.tree)
        self.assertEqual(got, "kernel/proc/concurrency.c:4:9: error: expected expression before "
                         "';' token\n    4 | int x = ;\n      |         ^")
        self.assertEqual(build.first_error(got).split(": error")[0], KFILE + ":4:9")
        self.assertNotIn(self.tmp, integrity.elide(log, self.tree))

    def test_hard_link_refused(self):
        sub = os.path.join(self.tmp, "sub")
        os.makedirs(os.path.join(sub, "kernel", "proc"))
        os.link(self.secret, os.path.join(sub, KFILE))
        spec = {"name": "concurrency", "student_files": [KFILE]}
        with self.assertRaisesRegex(build.BuildError, "^refused %s: a hard link" % KFILE):
            build.take_student_files(sub, spec, os.path.join(self.tmp, "t2"))


def region_lines(text, lab):
    """The longer lines of text's `LAB <lab>` solution regions that appear
    nowhere outside them (a stub's lines count as outside: a stub may give
    a function's first line)."""
    inside, stub, mine, rest = None, False, [], []
    for line in text.splitlines():
        m = re.match(r"^\s*(//|#|<!--)\s*LAB\s+(\S+)\s+(BEGIN|END)", line)
        if m:
            inside = m.group(2) if m.group(3) == "BEGIN" else None
            stub = False
        elif inside and re.match(r"^\s*(//|#|<!--)\s*STUB", line):
            stub = True
        elif inside == lab and not stub:
            mine.append(line.strip())
        else:
            rest.append(re.sub(r"^\s*(//|#|<!--)\|", "", line).strip())
    return [x for x in mine if len(x) > 24 and x not in rest]


class Pristine(unittest.TestCase):
    def test_no_solution_of_the_graded_lab(self):
        """Issue 19 item 5: built from the instructor's solved tree, the
        tree a submission goes into holds no line of the graded lab's
        solution regions (earlier labs' solutions stay, by design)."""
        for lab in specmod.lab_names():
            spec = specmod.load(lab)
            with self.subTest(lab=lab), tempfile.TemporaryDirectory() as tree:
                build.pristine(spec, tree)
                checked = 0
                for rel in handout.list_files(ROOT):
                    lead = handout.comment_of(rel)
                    if not lead or rel.startswith(handout.VERBATIM):
                        continue
                    with open(os.path.join(ROOT, rel), errors="replace") as f:
                        sol = region_lines(f.read(), lab)
                    if not sol or not os.path.exists(os.path.join(tree, rel)):
                        continue
                    with open(os.path.join(tree, rel), errors="replace") as f:
                        got = set(x.strip() for x in f.read().splitlines())
                    self.assertFalse([x for x in sol if x in got], rel)
                    checked += len(sol)
                self.assertGreater(checked, 10, "no solution line of %s found to look for" % lab)


MKFS = os.path.join(ROOT, "build", "mkfs")


@unittest.skipUnless(os.path.exists(MKFS), "needs build/mkfs (make)")
class DiskImage(unittest.TestCase):
    def test_read_the_end_line_a_program_left(self):
        """fsimage reads a file of an image made by the in-tree mkfs, and a
        committed but not installed log block wins over its home block."""
        import fsimage
        with tempfile.TemporaryDirectory() as d:
            end = os.path.join(d, "grade.end")
            with open(end, "w") as f:
                f.write("2 0123456789abcdef\n")
            img = os.path.join(d, "fs.img")
            subprocess.run([MKFS, img, end, os.path.join(ROOT, "README.md")], check=True,
                           capture_output=True)
            self.assertEqual(fsimage.read_file(img, "grade.end"), b"2 0123456789abcdef\n")
            with open(os.path.join(ROOT, "README.md"), "rb") as f:
                self.assertEqual(fsimage.read_file(img, "README.md"), f.read())
            self.assertIsNone(fsimage.read_file(img, "nothere"))
            # log the file's data block with other text, as a commit not yet installed
            image = fsimage.Image(img)
            home = image.inode(image.lookup("grade.end"))[2][0]
            logstart = struct.unpack_from("<8I", image.block(1))[5]
            with open(img, "r+b") as f:
                f.seek((logstart + 1) * fsimage.BSIZE)
                f.write(b"2 fedcba9876543210\n".ljust(fsimage.BSIZE, b"\0"))
                f.seek(logstart * fsimage.BSIZE)
                f.write(struct.pack("<II", 1, home))
            self.assertEqual(fsimage.read_file(img, "grade.end"), b"2 fedcba9876543210\n")
            with open(img, "r+b") as f:
                f.write(b"\0" * 4 * fsimage.BSIZE)
            self.assertIsNone(fsimage.read_file(img, "grade.end"))


class BatchNames(unittest.TestCase):
    def test_unique_by_construction(self):
        with tempfile.TemporaryDirectory() as d:
            for e in ("dup", "dup.zip", "dup.zip.git", "a.tar.gz", "b", "b.git", "c.git"):
                os.mkdir(os.path.join(d, e))
            names = [n for n, _ in batch.submissions(d)]
        self.assertEqual(names, ["a", "b", "b.git", "c", "dup", "dup.zip", "dup.zip.git"])


if __name__ == "__main__":
    unittest.main()

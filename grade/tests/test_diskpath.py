"""The grader's QEMU command line names a test's disk copy whatever its
path holds: QEMU's -drive reads "," as the end of the file name unless it
is doubled, so a tree under ~/os,2026/ booted nothing (every test "did not
boot to the shell prompt"). No QEMU runs here."""
import os
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import qemu  # noqa: E402


class DiskPath(unittest.TestCase):
    def test_comma_in_the_path(self):
        with tempfile.TemporaryDirectory(prefix="grade,disk-") as tmp:
            image = os.path.join(tmp, "fs.img")
            with open(image, "wb") as f:
                f.write(b"\0" * 512)
            m = qemu.Machine("t", image, share=True, kernel=os.path.join(tmp, "kernel"),
                             log_path=os.path.join(tmp, "logs", "t.log"))
            cmd = m.command()
            drive = cmd[cmd.index("-drive") + 1]
            self.assertEqual(drive, "file=%s,if=none,format=raw,id=x0" % image.replace(",", ",,"))
            self.assertEqual(drive.split(",if=")[0].replace(",,", ","), "file=" + image)


if __name__ == "__main__":
    unittest.main()

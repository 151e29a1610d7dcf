# Spindle's gdb set-up, auto-loaded by `gdb-multiarch` started in the repo
# root once ~/.gdbinit allows it (see README.md):
#   echo "add-auto-load-safe-path $(pwd)/.gdbinit" >> ~/.gdbinit
# It loads the kernel's symbols and connects to the QEMU that `make qemu-gdb`
# started (port in .gdbport, else uid % 5000 + 25000).
#   usym NAME   also load the symbols of user program build/bin/NAME
#               (linked at 0x40000000), e.g. `usym sh` then `break main`.
# It also sources tools/gdb/spindle.py: klts, runq, lwps, ipiq, ults
# (type `spindle` for the list; docs/gdb.md walks through a session).
set confirm off
set pagination off
set tcp connect-timeout 5
set architecture riscv:rv64
python
import os

try:
    gdb.execute("file kernel/kernel")
except gdb.error as e:
    print("spindle: %s (run make first)" % e)

class UserSymbols(gdb.Command):
    """usym NAME: add the symbols of build/bin/NAME (a user program)."""
    def __init__(self):
        super().__init__("usym", gdb.COMMAND_FILES, gdb.COMPLETE_FILENAME)

    def invoke(self, arg, from_tty):
        name = arg.strip()
        if not name:
            raise gdb.GdbError("usage: usym NAME  (a program in build/bin/)")
        path = name if os.path.sep in name else os.path.join("build", "bin", name)
        if not os.path.exists(path):
            raise gdb.GdbError("no such program: " + path)
        gdb.execute("add-symbol-file " + path, to_string=True)
        print("spindle: added symbols of %s" % path)

UserSymbols()

def spindle_commands():
    """tools/gdb/spindle.py of this tree: from the working directory, else
    through the build/ or kernel/kernel there (they may be symlinks)."""
    rel = os.path.join("tools", "gdb", "spindle.py")
    roots = ["."]
    for link in ("build", os.path.join("kernel", "kernel")):
        if os.path.exists(link):
            real = os.path.realpath(link)
            roots.append(os.path.dirname(real) if link == "build"
                         else os.path.dirname(os.path.dirname(real)))
    for root in roots:
        if os.path.exists(os.path.join(root, rel)):
            return os.path.join(root, rel)
    return None

_cmds = spindle_commands()
if _cmds:
    gdb.execute("source " + _cmds)
else:
    print("spindle: tools/gdb/spindle.py not found: klts, runq, lwps, ipiq, ults missing")

def spindle_port():
    try:
        with open(".gdbport") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return os.getuid() % 5000 + 25000

_port = spindle_port()
print("spindle: connecting to QEMU on localhost:%d (start it with `make qemu-gdb`)" % _port)
try:
    gdb.execute("target remote localhost:%d" % _port)
except gdb.error as e:
    print("spindle: no QEMU there (%s); run `make qemu-gdb`, then `target remote :%d`"
          % (e, _port))
end

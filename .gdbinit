# Spindle's gdb set-up, auto-loaded by `gdb-multiarch` started in the repo
# root once ~/.gdbinit allows it (see README.md):
#   echo "add-auto-load-safe-path $(pwd)/.gdbinit" >> ~/.gdbinit
# It loads the kernel's symbols and connects to the QEMU that `make qemu-gdb`
# started (port in .gdbport, else uid % 5000 + 25000).
#   usym NAME   also load the symbols of user program build/bin/NAME
#               (linked at 0x40000000), e.g. `usym sh` then `break main`.
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

#!/usr/bin/env python3
"""Host-side fsck of a Spindle disk image. It owns reading the on-disk format
straight from kernel/uapi/fs.h (constants and struct layouts are parsed from
the header, so a format change needs no edit here) and checking it:

- the superblock is sane and the regions (log, inodes, bitmap, data) fit;
- a committed log (header n > 0) is replayed in memory first, as the kernel
  would at boot (--no-replay checks the home blocks as they are);
- every directory entry names an allocated inode; "." and ".." are right;
  every directory is reachable from / exactly once;
- link counts match the entries naming each inode (for directories, with or
  without counting ".", whichever convention the kernel uses);
- every block an inode uses is a data block, marked in the bitmap and used
  only once; every data block marked in the bitmap is used; no allocated
  inode is unreachable.

    python3 tests/fsck.py IMAGE [--no-replay]     # exit 1 if not clean
"""
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "kernel", "uapi", "fs.h")
T_DIR, T_FILE, T_DEVICE = 1, 2, 3
CTYPES = {"uint": "I", "int": "i", "short": "h", "ushort": "H", "char": "s",
          "uchar": "B", "uint8": "B", "uint16": "H", "uint32": "I", "uint64": "Q",
          "long": "q"}


class Format:
    """Constants and struct layouts of fs.h."""

    def __init__(self, path=HEADER):
        text = re.sub(r"//[^\n]*|/\*.*?\*/", "", open(path).read(), flags=re.S)
        self.structs = {}
        self.raw = dict(re.findall(r"^#define\s+(\w+)\s+(.+?)\s*$", text, re.M))
        for name, body in re.findall(r"struct\s+(\w+)\s*\{(.*?)\}\s*;", text, re.S):
            fields = re.findall(r"(\w+)\s+(\w+)\s*(?:\[([^\]]+)\])?\s*;", body)
            self._layout(name, fields)

    def const(self, name):
        expr = self.raw[name]
        expr = re.sub(r"sizeof\s*\(\s*struct\s+(\w+)\s*\)",
                      lambda m: str(self.structs[m.group(1)][1]), expr)
        expr = re.sub(r"sizeof\s*\(\s*(\w+)\s*\)",
                      lambda m: str(struct.calcsize(CTYPES[m.group(1)])), expr)
        expr = re.sub(r"\b([A-Z_][A-Z0-9_]*)\b", lambda m: str(self.const(m.group(1))), expr)
        return int(eval(expr.replace("/", "//"), {}))  # header arithmetic only

    def _layout(self, name, fields):
        fmt, off, names, align = "<", 0, [], 1
        for ctype, fname, count in fields:
            code = CTYPES[ctype]
            size = struct.calcsize(code)
            align = max(align, size)
            pad = -off % size
            fmt += "%dx" % pad if pad else ""
            n = self.eval(count) if count else 1
            fmt += "%d%s" % (n, code)
            off += pad + n * size
            names.append((fname, n if count and code != "s" else None))
        off += -off % align
        fmt += "%dx" % (off - struct.calcsize(fmt)) if off > struct.calcsize(fmt) else ""
        self.structs[name] = (fmt, off, names)

    def eval(self, expr):
        self.raw["_expr"] = expr
        return self.const("_expr")

    def unpack(self, name, data, offset=0):
        fmt, size, names = self.structs[name]
        vals = list(struct.unpack_from(fmt, data, offset))
        out = {}
        for fname, n in names:
            if n is None:
                out[fname] = vals.pop(0)
            else:
                out[fname], vals = vals[:n], vals[n:]
        return out

    def size(self, name):
        return self.structs[name][1]


def check(image, replay=True, fmt=None):
    """Return a list of problems found in image (empty = clean)."""
    f = fmt or Format()
    bs = f.const("BSIZE")
    data = bytearray(open(image, "rb").read())
    errs = []

    def block(b):
        return data[b * bs:(b + 1) * bs]

    sb = f.unpack("superblock", data, bs)
    if sb["magic"] != f.const("FS_MAGIC"):
        return ["bad superblock magic %#x" % sb["magic"]]
    if sb["size"] * bs > len(data):
        return ["superblock size %d blocks > image (%d)" % (sb["size"], len(data) // bs)]
    ipb = bs // f.size("dinode")
    bpb = bs * 8
    ninodes = sb["ninodes"]
    inode_end = sb["inodestart"] + (ninodes + ipb - 1) // ipb
    datastart = sb["bmapstart"] + (sb["size"] + bpb - 1) // bpb
    if not (sb["logstart"] + sb["nlog"] <= sb["inodestart"] and inode_end <= sb["bmapstart"]
            and datastart <= sb["size"]):
        errs.append("regions overlap: %s" % sb)

    # The log: redo committed blocks in memory, as recovery would.
    lh = f.unpack("logheader", data, sb["logstart"] * bs)
    if lh["n"]:
        if lh["n"] > sb["nlog"] - 1:
            errs.append("log header n=%d > log size %d" % (lh["n"], sb["nlog"] - 1))
        elif replay:
            for i in range(lh["n"]):
                home = lh["block"][i]
                if not 0 < home < sb["size"]:
                    errs.append("log entry %d: home block %d out of range" % (i, home))
                    continue
                src = (sb["logstart"] + 1 + i) * bs
                data[home * bs:(home + 1) * bs] = data[src:src + bs]

    nindirect = f.const("NINDIRECT")
    ndirect = f.const("NDIRECT")
    dsize = f.size("dirent")
    owner = {}                       # block -> inode using it

    def use(b, inum, what):
        if not datastart <= b < sb["size"]:
            errs.append("inode %d: %s block %d outside the data area" % (inum, what, b))
        elif b in owner:
            errs.append("block %d used twice (inodes %d and %d)" % (b, owner[b], inum))
        else:
            owner[b] = inum

    inodes = {}
    for inum in range(1, ninodes):
        off = (sb["inodestart"] + inum // ipb) * bs + (inum % ipb) * f.size("dinode")
        di = f.unpack("dinode", data, off)
        if di["type"] == 0:
            continue
        if di["type"] not in (T_DIR, T_FILE, T_DEVICE):
            errs.append("inode %d: bad type %d" % (inum, di["type"]))
            continue
        inodes[inum] = di
        addrs = list(di["addrs"][:ndirect])
        ind = di["addrs"][ndirect]
        if ind:
            use(ind, inum, "indirect")
            if datastart <= ind < sb["size"]:
                addrs += list(struct.unpack_from("<%dI" % nindirect, data, ind * bs))
        nblk = (di["size"] + bs - 1) // bs
        if nblk > ndirect + nindirect:
            errs.append("inode %d: size %d too big" % (inum, di["size"]))
        for i, b in enumerate(addrs):
            if b:
                use(b, inum, "data")
                if i >= nblk:
                    errs.append("inode %d: block %d at index %d beyond size %d"
                                % (inum, b, i, di["size"]))
            elif i < nblk:
                errs.append("inode %d: hole at block index %d (size %d)" % (inum, i, di["size"]))
        inodes[inum]["blocks"] = [b for b in addrs[:nblk] if b]

    def content(inum):
        return b"".join(bytes(block(b)) for b in inodes[inum]["blocks"])[:inodes[inum]["size"]]

    # Directories: walk from the root.
    refs = {i: 0 for i in inodes}     # entries naming the inode, "." excluded
    dots = {i: 0 for i in inodes}
    rootino = f.const("ROOTINO")
    seen_dirs = set()
    stack = [(rootino, rootino, "/")]
    if inodes.get(rootino, {}).get("type") != T_DIR:
        return errs + ["root inode %d is not a directory" % rootino]
    while stack:
        dnum, parent, path = stack.pop()
        if dnum in seen_dirs:
            errs.append("directory %s (inode %d) reached twice" % (path, dnum))
            continue
        seen_dirs.add(dnum)
        raw = content(dnum)
        if len(raw) % dsize:
            errs.append("directory %s: size %d not a multiple of %d" % (path, len(raw), dsize))
        names = set()
        for off in range(0, len(raw) - dsize + 1, dsize):
            de = f.unpack("dirent", raw, off)
            if de["inum"] == 0:
                continue
            name = de["name"].split(b"\0")[0].decode(errors="replace")
            if name in names:
                errs.append("directory %s: name %r twice" % (path, name))
            names.add(name)
            full = path.rstrip("/") + "/" + name
            if de["inum"] >= ninodes or de["inum"] not in inodes:
                errs.append("%s names free or invalid inode %d" % (full, de["inum"]))
                continue
            if name == ".":
                dots[de["inum"]] += 1
                if de["inum"] != dnum:
                    errs.append("%s is inode %d, not %d" % (full, de["inum"], dnum))
                continue
            refs[de["inum"]] += 1
            if name == "..":
                if de["inum"] != parent:
                    errs.append("%s is inode %d, not the parent %d" % (full, de["inum"], parent))
                continue
            if inodes[de["inum"]]["type"] == T_DIR:
                stack.append((de["inum"], dnum, full))
        for must in (".", ".."):
            if must not in names:
                errs.append("directory %s has no %r entry" % (path, must))

    for inum, di in sorted(inodes.items()):
        if refs[inum] == 0:
            errs.append("inode %d (type %d, nlink %d) allocated but in no directory"
                        % (inum, di["type"], di["nlink"]))
            continue
        ok = [refs[inum]] + ([refs[inum] + dots[inum]] if di["type"] == T_DIR else [])
        if di["nlink"] not in ok:
            errs.append("inode %d: nlink %d but %d entries name it" % (inum, di["nlink"], refs[inum]))

    # The bitmap: metadata and used blocks marked, nothing else.
    def marked(b):
        byte = data[sb["bmapstart"] * bs + b // 8]
        return byte >> (b % 8) & 1
    for b in range(sb["size"]):
        m = marked(b)
        if b < datastart:
            if not m:
                errs.append("metadata block %d not marked in the bitmap" % b)
        elif b in owner and not m:
            errs.append("block %d used by inode %d but free in the bitmap" % (b, owner[b]))
        elif b not in owner and m:
            errs.append("block %d marked in the bitmap but used by no inode" % b)
    return errs


def main(argv):
    args = [a for a in argv if not a.startswith("-")]
    if len(args) != 1:
        print(__doc__)
        return 2
    errs = check(args[0], replay="--no-replay" not in argv)
    for e in errs[:50]:
        print("fsck: " + e)
    print("fsck: %s: %s" % (args[0], "%d problem(s)" % len(errs) if errs else "clean"))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

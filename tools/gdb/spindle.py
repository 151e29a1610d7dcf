# Spindle's gdb commands for the thread structures, loaded by the repo's
# .gdbinit (or by hand: `source tools/gdb/spindle.py`). They read the kernel
# globals klts[], lwps[], procs[], cpus[] and ncpu through gdb's Python API,
# so they work whenever gdb is stopped, wherever each hart was.
#
#   klts           every KLT that is not free: id, name, CPU, priority and
#                  class, state, wait channel, LWP id and pid ('*' = running)
#   runq [CPU]     a CPU's LWKT run queues, most urgent first (all CPUs if none)
#   lwps [PID]     a process's LWPs with the user pc/sp/ra of the trap frame
#   ipiq [all]     IPI messages still waiting, per (sender, receiver) ring
#   ults PID       the uthread table of process PID (needs `usym PROG` first)
#   spindle        this list
#
# Walk-through: docs/gdb.md. Python 3 standard library and gdb only.
import os
import re

import gdb

HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else "tools/gdb"
ROOT = os.path.dirname(os.path.dirname(HERE))

KLT_STATES = ["free", "embryo", "runq", "running", "sleeping", "dead"]
PROC_STATES = ["unused", "alive", "zombie"]
ULT_STATES = ["free", "new", "alive", "exited", "dead"]
PGSIZE = 4096


def pri_class(pri):
    """The thresholds of pri_class() in kernel/thread/klt.c."""
    for low, name in ((28, "intr"), (14, "soft"), (12, "kern"), (10, "ukern"), (1, "user")):
        if pri >= low:
            return name
    return "idle"


def syscall_names():
    names = {}
    try:
        with open(os.path.join(ROOT, "kernel", "uapi", "syscall.h")) as f:
            for m in re.finditer(r"#define SYS_(\w+)\s+(\d+)", f.read()):
                names[int(m.group(2))] = m.group(1)
    except OSError:
        pass
    return names


SYSCALLS = syscall_names()


# ---- reading memory ---------------------------------------------------------------
def read_bytes(addr, n):
    """Read n bytes at a kernel address. QEMU reads through the MMU of the
    selected hart, in its privilege mode; a hart stopped in user mode cannot
    see kernel pages, so try the other harts then."""
    inf = gdb.selected_inferior()
    try:
        return inf.read_memory(addr, n).tobytes()
    except gdb.MemoryError:
        pass
    orig = gdb.selected_thread()
    try:
        for th in inf.threads():
            th.switch()
            try:
                return inf.read_memory(addr, n).tobytes()
            except gdb.MemoryError:
                continue
    finally:
        if orig is not None and orig.is_valid():
            orig.switch()
    raise gdb.GdbError("cannot read %d bytes at 0x%x from any hart" % (n, addr))


class Table:
    """A kernel array read in one piece; t[i] is element i as a gdb.Value
    built from the bytes already read (so field access costs no round trip,
    and no value exceeds gdb's max-value-size)."""

    def __init__(self, expr):
        v = gdb.parse_and_eval(expr)
        self.addr = int(v.address)
        self.elem = v.type.strip_typedefs().target()
        self.size = self.elem.sizeof
        self.len = v.type.sizeof // self.size
        self.raw = read_bytes(self.addr, v.type.sizeof)
        self.cache = {}

    def __len__(self):
        return self.len

    def __getitem__(self, i):
        if i not in self.cache:
            self.cache[i] = gdb.Value(self.raw[i * self.size:(i + 1) * self.size], self.elem)
        return self.cache[i]

    def index(self, ptr):
        p = int(ptr)
        if p < self.addr or p >= self.addr + self.size * self.len or (p - self.addr) % self.size:
            return None
        return (p - self.addr) // self.size


def u64(addr):
    return int.from_bytes(read_bytes(addr, 8), "little")


def cstr(v):
    raw = bytes(int(c) & 0xff for c in [v[i] for i in range(v.type.range()[1] + 1)])
    return raw.split(b"\0")[0].decode(errors="replace")


def sym(addr, prog=None):
    """Symbol (+offset) of an address, or its hex. With prog, a user address
    is named only from the symbols of build/bin/prog (loaded by usym), never
    from another program's that happen to cover the same address."""
    if not addr:
        return "0"
    try:
        out = gdb.execute("info symbol 0x%x" % addr, to_string=True).strip()
    except gdb.error:
        out = ""
    m = re.match(r"(\S+)( \+ (\d+))? in section \S+( of (\S+))?", out)
    if not m:
        return "0x%x" % addr
    if prog is not None and os.path.basename(m.group(5) or "") != prog:
        return "0x%x" % addr
    return m.group(1) + ("+" + m.group(3) if m.group(3) else "")


class Kernel:
    """One consistent-enough snapshot of the thread tables."""

    def __init__(self, need=("klts", "lwps", "procs", "cpus")):
        self.ncpu = int(gdb.parse_and_eval("ncpu"))
        for name in need:
            setattr(self, name, Table(name))

    def index(self, table, ptr):
        """Index in table (klts, lwps, procs, cpus) that ptr points at, or None."""
        return getattr(self, table).index(ptr)

    def started_cpus(self):
        return [i for i in range(len(self.cpus)) if int(self.cpus[i]["started"])]

    def klt_label(self, ptr):
        i = self.index("klts", ptr)
        if i is None:
            return "0x%x" % int(ptr) if int(ptr) else "-"
        return "%d %s" % (i, cstr(self.klts[i]["name"]))

    def proc_of_pid(self, pid):
        for i in range(len(self.procs)):
            p = self.procs[i]
            if int(p["state"]) != 0 and int(p["pid"]) == pid:
                return i, p
        raise gdb.GdbError("no process with pid %d" % pid)

    def proc_lwps(self, p):
        """The LWPs of a process, following proc->lwps and lwp->next."""
        out, ptr, seen = [], p["lwps"], set()
        while int(ptr):
            i = self.index("lwps", ptr)
            if i is None or i in seen:
                break
            seen.add(i)
            out.append((i, self.lwps[i]))
            ptr = self.lwps[i]["next"]
        return out


def arg_int(arg, what, default=None):
    arg = arg.strip()
    if not arg:
        if default is None:
            raise gdb.GdbError("usage: %s" % what)
        return default
    try:
        return int(gdb.parse_and_eval(arg))
    except gdb.error:
        raise gdb.GdbError("usage: %s" % what)


# ---- commands -------------------------------------------------------------------------
class Klts(gdb.Command):
    """klts: every KLT not free: id, name, CPU, priority and class, state,
wait channel, LWP id and pid. '*' marks a KLT running on its CPU now."""

    def __init__(self):
        super().__init__("klts", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        k = Kernel()
        running = {k.index("klts", k.cpus[c]["cur"]) for c in k.started_cpus()}
        print(" %-3s %-16s %-3s %-3s %-6s %-9s %-8s %-12s %s" %
              ("KLT", "NAME", "CPU", "PRI", "CLASS", "STATE", "LWP/PID", "PROC", "CHANNEL"))
        for i in range(len(k.klts)):
            t = k.klts[i]
            state = int(t["state"])
            if state == 0:
                continue
            cpu = k.index("cpus", t["cpu"])
            pri = int(t["pri"])
            lwp, pname = "-", "(kernel)"
            li = k.index("lwps", t["lwp"])
            if li is not None:
                l = k.lwps[li]
                pi = k.index("procs", l["proc"])
                pid = int(k.procs[pi]["pid"]) if pi is not None else -1
                pname = cstr(k.procs[pi]["name"]) if pi is not None else "?"
                lwp = "%d/%d" % (int(l["id"]), pid)
            chan = sym(int(t["chan"])) if int(t["chan"]) else "-"
            print("%s%-3d %-16s %-3s %-3d %-6s %-9s %-8s %-12s %s" %
                  ("*" if i in running else " ", int(t["id"]), cstr(t["name"]),
                   "-" if cpu is None else int(k.cpus[cpu]["id"]), pri, pri_class(pri),
                   KLT_STATES[state] if state < len(KLT_STATES) else state, lwp, pname, chan))


class Runq(gdb.Command):
    """runq [CPU]: the LWKT run queues of a CPU (default: every started CPU),
most urgent priority first, with its current and idle thread, critical-section
depth, pending flags and run-queue mask."""

    def __init__(self):
        super().__init__("runq", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        k = Kernel(need=("klts", "cpus"))
        cpus = k.started_cpus()
        if arg.strip():
            want = arg_int(arg, "runq [CPU]")
            cpus = [c for c in range(len(k.cpus)) if int(k.cpus[c]["id"]) == want and
                    int(k.cpus[c]["started"])]
            if not cpus:
                raise gdb.GdbError("no started CPU %d" % want)
        for c in cpus:
            cpu = k.cpus[c]
            mask = int(cpu["rq_mask"])
            flags = int(cpu["reqflags"])
            print("cpu %d: cur klt %s, idle klt %s, crit %d, reqflags %s, nuser %d, rq_mask 0x%08x"
                  % (int(cpu["id"]), k.klt_label(cpu["cur"]), k.klt_label(cpu["idle"]),
                     int(cpu["critcount"]), "|".join(n for b, n in ((1, "RESCHED"), (2, "TICK"))
                                                     if flags & b) or "0",
                     int(cpu["nuser"]), mask))
            empty = True
            for p in range(31, -1, -1):
                head = cpu["rq_head"][p]
                if not int(head):
                    if mask & (1 << p):
                        print("  pri %2d: mask bit set but queue empty (inconsistent)" % p)
                    continue
                empty = False
                names, ptr, n = [], head, 0
                while int(ptr) and n < 300:
                    i = k.index("klts", ptr)
                    if i is None:
                        names.append("?0x%x" % int(ptr))
                        break
                    names.append("%d %s" % (i, cstr(k.klts[i]["name"])))
                    ptr = k.klts[i]["rq_next"]
                    n += 1
                note = "" if mask & (1 << p) else "  (mask bit clear: inconsistent)"
                print("  pri %2d %-5s: %s%s" % (p, pri_class(p), " -> ".join(names), note))
            if empty:
                print("  (run queues empty)")


class Lwps(gdb.Command):
    """lwps [PID]: the LWPs of process PID (default: every process) with the
user pc, sp and ra saved in the trap frame, the system call being served and
the KLT that runs it. The pc is named if `usym PROG` loaded its symbols."""

    def __init__(self):
        super().__init__("lwps", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        k = Kernel()
        if arg.strip():
            procs = [k.proc_of_pid(arg_int(arg, "lwps [PID]"))]
        else:
            procs = [(i, k.procs[i]) for i in range(len(k.procs)) if int(k.procs[i]["state"]) != 0]
        for _, p in procs:
            st = int(p["state"])
            print("pid %d %s (%s) nlwp %d concurrency %d" %
                  (int(p["pid"]), cstr(p["name"]), PROC_STATES[st] if st < 3 else st,
                   int(p["nlwp"]), int(p["concurrency"])))
            prog = cstr(p["name"])
            for li, l in sorted(k.proc_lwps(p), key=lambda e: int(e[1]["id"])):
                ti = k.index("klts", l["klt"])
                t = k.klts[ti] if ti is not None else None
                state = KLT_STATES[int(t["state"])] if t is not None else "?"
                cpu = k.index("cpus", t["cpu"]) if t is not None else None
                nr = int(l["syscall_nr"])
                call = "-" if nr < 0 else "%s(%d)" % (SYSCALLS.get(nr, "?"), nr)
                tf = l["tf"]
                pc = int(tf["epc"])
                extra = "".join(s for c, s in ((l["dead"], " dead"), (l["exit_req"], " exit-req"))
                                if int(c))
                upc = int(l["upc"]["state"])          # scheduler activations (lab upcalls)
                if upc == 1:
                    extra += " upcall: blocked holding thread %d" % int(l["upc"]["tid"])
                elif upc == 2:
                    extra += " upcall: spare"
                mask, pend = int(l["sigmask"]), int(l["sigpending"])   # signals (proc/signal.c)
                if mask or pend:
                    extra += " sigmask 0x%x pending 0x%x" % (mask, pend)
                name = sym(pc, prog)
                print("  lwp %d klt %s cpu %s %s syscall %s pc 0x%x%s sp 0x%x ra 0x%x "
                      "vcsw %d ivcsw %d%s" %
                      (int(l["id"]), ti, "-" if cpu is None else int(k.cpus[cpu]["id"]), state,
                       call, pc, "" if name.startswith("0x") else " <%s>" % name,
                       int(tf["sp"]), int(tf["ra"]),
                       int(l["vcsw"]), int(l["ivcsw"]), extra))


class Ipiq(gdb.Command):
    """ipiq [all]: IPI messages still waiting in each (sender, receiver) ring:
windex - rindex, and each message's function and argument. With `all`, every
ring that was ever used is listed with its totals."""

    def __init__(self):
        super().__init__("ipiq", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        k = Kernel(need=("klts", "cpus"))
        show_all = arg.strip() == "all"
        size = int(gdb.parse_and_eval("sizeof(((struct ipiq *)0)->msg)/sizeof(struct ipi_msg)"))
        pending_total = 0
        for to in k.started_cpus():
            cpu = k.cpus[to]
            for frm in range(len(k.cpus)):
                q = cpu["ipiq"][frm]
                w, r = int(q["windex"]), int(q["rindex"])
                n = (w - r) & 0xffffffff
                if n == 0 and not (show_all and w):
                    continue
                pending_total += n
                print("ipiq cpu %d -> cpu %d: %d pending (windex %d, rindex %d)%s" %
                      (int(k.cpus[frm]["id"]), int(cpu["id"]), n, w, r,
                       "" if n <= size else "  (more than the ring holds: inconsistent)"))
                for j in range(min(n, size)):
                    m = q["msg"][(r + j) % size]
                    a = int(m["arg"])
                    ti = k.index("klts", a)
                    what = ("klt %d %s" % (ti, cstr(k.klts[ti]["name"])) if ti is not None
                            else sym(a))
                    print("    %s(%s)" % (sym(int(m["func"])), what))
            if int(cpu["ipimask"]):
                print("cpu %d: ipimask 0x%x" % (int(cpu["id"]), int(cpu["ipimask"])))
        if pending_total == 0:
            print("no IPI messages pending" + ("" if show_all else " (`ipiq all` shows totals)"))


# ---- user memory and the uthread table ------------------------------------------------
class UserMemory:
    """Reads a process's memory by walking its Sv39 page table in the kernel's
    identity map (physical address = kernel virtual address), so it works
    whatever satp the stopped hart holds."""

    def __init__(self, pagetable):
        self.pt = pagetable
        self.cache = {}

    def translate(self, va):
        page = va & ~(PGSIZE - 1)
        if page in self.cache:
            return self.cache[page] + (va & (PGSIZE - 1))
        pt = self.pt
        for level in (2, 1, 0):
            pte = u64(pt + ((va >> (12 + 9 * level)) & 0x1ff) * 8)
            if not pte & 1:
                raise gdb.GdbError("user address 0x%x is not mapped" % va)
            pa = (pte >> 10) << 12
            if pte & 0xe:            # R, W or X: a leaf (maybe a superpage)
                pa += va & ((1 << (12 + 9 * level)) - 1) & ~(PGSIZE - 1)
                self.cache[page] = pa
                return pa + (va & (PGSIZE - 1))
            pt = pa
        raise gdb.GdbError("bad page table entry for 0x%x" % va)

    def read(self, va, n):
        out = b""
        while n > 0:
            chunk = min(n, PGSIZE - (va & (PGSIZE - 1)))
            out += read_bytes(self.translate(va), chunk)
            va += chunk
            n -= chunk
        return out

    def value(self, va, typ):
        return gdb.Value(self.read(va, typ.sizeof), typ)


def user_global(name, prog):
    """The global `name` of the uthread library (user/lib/uthread*.c) in the
    symbols of prog (loaded with usym); falls back to any copy that was
    loaded."""
    cands = []
    for objfile in gdb.objfiles():
        s = objfile.lookup_global_symbol(name)
        if s is not None and s.symtab and os.path.basename(s.symtab.filename).startswith("uthread"):
            cands.append(s)
    if not cands:
        raise gdb.GdbError("no uthread symbols loaded: run `usym %s` first" % (prog or "PROG"))
    for s in cands:
        if os.path.basename(s.symtab.objfile.filename) == prog:
            return s
    return cands[0]


class Ults(gdb.Command):
    """ults PID: the uthread (M:N) thread table of process PID, read from user
memory through the process's page table. Needs the program's symbols: run
`usym PROG` first (PROG = the program's name in build/bin/). Lists each used
tid: state, priority, queued or running (on which ult_lwp / kernel LWP),
bound, entry function, saved pc/sp of a thread that is switched out, stack."""

    def __init__(self):
        super().__init__("ults", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        pid = arg_int(arg, "ults PID  (after `usym PROG`)")
        k = Kernel(need=("procs", "lwps"))
        _, p = k.proc_of_pid(pid)
        prog = cstr(p["name"])
        user_pc = {int(l["id"]): int(l["tf"]["epc"]) for _, l in k.proc_lwps(p)}
        mem = UserMemory(int(p["pagetable"]))
        def global_addr(name):
            s = user_global(name, prog)
            return s, int(s.value().address)
        s_threads, a_threads = global_addr("ult_threads")
        s_lwps, a_lwps = global_addr("ult_lwps")
        _, a_next = global_addr("ult_next_tid")
        _, a_ready = global_addr("ult_ready")
        ready = int.from_bytes(mem.read(a_ready, 4), "little")
        threads = int.from_bytes(mem.read(a_threads, 8), "little")
        lwps = int.from_bytes(mem.read(a_lwps, 8), "little")
        if not ready or not threads:
            print("pid %d (%s) has not called uthread_init" % (pid, prog))
            return
        n = int.from_bytes(mem.read(a_next, 4), "little", signed=True)
        ult_t = s_threads.type.target()
        lwp_t = s_lwps.type.target()
        # who is current on each LWP of the library (the records' list, newest first)
        current, in_kernel = {}, set()
        print("pid %d (%s): uthread table at 0x%x, %d tid(s) ever used" % (pid, prog, threads, n))
        records, addr = [], lwps
        while addr and len(records) < 4096:
            records.append(addr)
            addr = int(mem.value(addr, lwp_t)["all_next"])
        for i, addr in enumerate(reversed(records)):
            l = mem.value(addr, lwp_t)
            if not int(l["in_use"]):
                continue
            cur = int(l["current"])
            tid = (cur - threads) // ult_t.sizeof if cur else None
            blocked = int(l["in_kernel"])   # a blocked activation (lab upcalls)
            if tid is not None:
                current[tid] = int(l["lwpid"])
                if blocked:
                    in_kernel.add(tid)
            print("  ult_lwp %d: kernel lwp %d, current tid %s%s%s" %
                  (i, int(l["lwpid"]), "-" if tid is None else tid,
                   ", bound" if int(l["bound"]) else "",
                   ", blocked in the kernel (upcalls)" if blocked else ""))
        print("  %-4s %-7s %-4s %-22s %-24s %-12s %s" %
              ("TID", "STATE", "PRIO", "WHERE", "ENTRY", "PC", "STACK"))
        for tid in range(max(0, min(n, 2048))):
            t = mem.value(threads + tid * ult_t.sizeof, ult_t)
            st = int(t["state"])
            if st == 0:
                continue
            if tid in in_kernel and st == 2 and not int(t["queued"]):
                where = "in kernel on lwp %d" % current[tid]
            elif tid in current and st == 2:
                where = "on lwp %d" % current[tid]
            elif int(t["queued"]):
                where = "run queue"
            elif st == 2:
                where = "blocked"
            else:
                where = "-"
            if int(t["bound_lwp"]):
                where += ", bound"
            fn = int(t["fn"])
            pc = int(t["ctx"]["ra"])         # where uthread_switch returns to
            if tid in current and st == 2:   # running: the LWP's trap-frame pc
                pc = user_pc.get(current[tid], pc)
            stack = ("[0x%x,0x%x)" % (int(t["stack_lo"]), int(t["stack_hi"]))
                     if int(t["stack_hi"]) else "main stack")
            print("  %-4d %-7s %-4d %-22s %-24s %-12s %s" %
                  (tid, ULT_STATES[st] if st < len(ULT_STATES) else st, int(t["prio"]), where,
                   sym(fn, prog) if fn else "(main)", sym(pc, prog) if pc else "-", stack))


class Spindle(gdb.Command):
    """spindle: list Spindle's gdb commands (tools/gdb/spindle.py)."""

    def __init__(self):
        super().__init__("spindle", gdb.COMMAND_SUPPORT)

    def invoke(self, arg, from_tty):
        print("klts          every KLT that is not free ('*' = running now)\n"
              "runq [CPU]    LWKT run queues of a CPU, most urgent first\n"
              "lwps [PID]    LWPs of a process with user pc/sp from the trap frame\n"
              "ipiq [all]    IPI messages waiting between CPUs\n"
              "ults PID      uthread table of PID (after `usym PROG`)\n"
              "usym PROG     add the symbols of build/bin/PROG\n"
              "docs/gdb.md walks through a session.")


Klts()
Runq()
Lwps()
Ipiq()
Ults()
Spindle()

// exec: replace the calling process's program. The new image is built in a
// fresh page table while the old one keeps running; only when it is
// complete are the process's other LWPs ended and the tables swapped, so a
// failed exec leaves the process as it was.
//
// User image: program segments from USER_BASE, then an unmapped guard page,
// then USTACK_PAGES of stack; the heap (sbrk) grows above the stack.
#include "proc/proc.h"
#include "proc/elf.h"
#include "proc/signal.h"
#include "thread/lwp.h"
#include "thread/cpu.h"
#include "vm/vm.h"
#include "vm/kalloc.h"
#include "fs/fs.h"
#include "arch/memlayout.h"
#include "lib/string.h"
#include "lib/printf.h"
#include "uapi/mman.h"

static int load_segment(pagetable_t pt, uint64 va, struct inode *ip, uint off, uint64 n)
{
  for (uint64 i = 0; i < n; i += PGSIZE) {
    uint64 pa = uvm_addr(pt, va + i);
    assert(pa);
    uint chunk = n - i < PGSIZE ? n - i : PGSIZE;
    if (inode_read(ip, 0, pa, off + i, chunk) != (int)chunk)
      return -1;
  }
  return 0;
}

// Load the program's segments into pt. *szp follows what is allocated,
// also when loading fails, so the caller can free it.
static int load_program(pagetable_t pt, struct inode *ip, uint64 *entry, uint64 *szp)
{
  struct elfhdr eh;
  uint64 sz = 0;
  if (inode_read(ip, 0, (uint64)&eh, 0, sizeof(eh)) != sizeof(eh) || eh.magic != ELF_MAGIC)
    return -1;
  for (int i = 0; i < eh.phnum; i++) {
    struct proghdr ph;
    uint off = eh.phoff + i * sizeof(ph);
    if (inode_read(ip, 0, (uint64)&ph, off, sizeof(ph)) != sizeof(ph))
      return -1;
    if (ph.type != ELF_PROG_LOAD || ph.memsz == 0)
      continue;
    if (ph.memsz < ph.filesz || ph.vaddr + ph.memsz < ph.vaddr || ph.vaddr % PGSIZE
        || ph.vaddr < USER_BASE + sz || ph.vaddr + ph.memsz > USER_TOP)
      return -1;
    int perm = 0;
    if (ph.flags & ELF_PROG_FLAG_EXEC)
      perm |= PTE_X;
    if (ph.flags & ELF_PROG_FLAG_WRITE)
      perm |= PTE_W;
    uint64 newsz = uvm_alloc(pt, sz, ph.vaddr + ph.memsz - USER_BASE, perm);
    if (newsz == 0)
      return -1;
    sz = *szp = newsz;
    if (load_segment(pt, ph.vaddr, ip, ph.off, ph.filesz) < 0)
      return -1;
  }
  *entry = eh.entry;
  return sz ? 0 : -1;
}

// Push argv onto the new stack; returns the new sp or 0.
static uint64 push_args(pagetable_t pt, uint64 sp, uint64 stackbase, char **argv, int *argcp)
{
  uint64 ustack[MAXARG + 1];
  int argc = 0;
  for (; argv[argc]; argc++) {
    if (argc >= MAXARG)
      return 0;
    sp -= strlen(argv[argc]) + 1;
    sp &= ~15UL;
    if (sp < stackbase || copyout(pt, sp, argv[argc], strlen(argv[argc]) + 1) < 0)
      return 0;
    ustack[argc] = sp;
  }
  ustack[argc] = 0;
  sp -= (argc + 1) * sizeof(uint64);
  sp &= ~15UL;
  if (sp < stackbase || copyout(pt, sp, ustack, (argc + 1) * sizeof(uint64)) < 0)
    return 0;
  *argcp = argc;
  return sp;
}

static const char *last_name(const char *path)
{
  const char *s = path;
  for (const char *p = path; *p; p++)
    if (*p == '/')
      s = p + 1;
  return s;
}

int proc_exec(const char *path, char **argv)
{
  struct lwp *l = curlwp();
  struct proc *p = l->proc;
  uint64 entry = 0, sz = 0;
  int loaded = -1;
  pagetable_t pt = uvm_create();
  if (pt == 0)
    return -1;

  log_begin_op();
  struct inode *ip = path_lookup(path);
  if (ip) {
    inode_lock(ip);
    loaded = load_program(pt, ip, &entry, &sz);
    inode_unlockput(ip);
  }
  log_end_op();
  if (loaded < 0)
    goto bad;

  sz = PGROUNDUP(sz);
  uint64 stacksz = uvm_alloc(pt, sz, sz + (USTACK_PAGES + 1) * PGSIZE, PTE_W);
  if (stacksz == 0)
    goto bad;
  uint64 guard = USER_BASE + sz;
  sz = stacksz;
  if (uvm_protect(pt, guard, PGSIZE, PROT_NONE) < 0)
    goto bad;
  uint64 stackbase = guard + PGSIZE;
  int argc;
  uint64 sp = push_args(pt, USER_BASE + sz, stackbase, argv, &argc);
  if (sp == 0)
    goto bad;

  // Point of no return, unless an exit, exec or kill came first.
  if (proc_single(p) < 0)
    goto bad;
  pagetable_t oldpt = p->pagetable;
  uint64 oldsz = p->sz;
  sig_exec(p);                  // handlers are addresses in the old image
  spinlock_acquire(&p->lock);
  if (p->schedctl) {
    pte_t *pte = vm_walk(oldpt, USER_TOP - PGSIZE, 0);
    *pte = 0;
    kfree(p->schedctl);
    p->schedctl = 0;
  }
  l->sc = 0;
  l->tidword = 0;
  p->lwp_entry = 0;             // the new program registers its own (concurrency)
  upcall_forget(p, l);          // and its own upcall area
  p->concurrency = 1;
  p->preempt_handler = 0;       // the old handler's address means nothing now
  l->kicked = 0;
  p->pagetable = pt;
  p->sz = sz;
  spinlock_release(&p->lock);
  int s = intr_save();
  CSR_WRITE(satp, MAKE_SATP(pt));
  sfence_vma();
  mycpu()->loaded_proc = p;
  intr_restore(s);
  uvm_free(oldpt, oldsz);

  // The process and its one KLT left take the program's name (the KLT was
  // named at fork after the parent): the Ctrl-p dump and gdb's klts show it.
  safestrcpy(p->name, last_name(path), sizeof(p->name));
  safestrcpy(l->klt->name, p->name, sizeof(l->klt->name));
  l->tf.epc = entry;
  l->tf.sp = sp;
  l->tf.a1 = sp;
  return argc;   // lands in a0: main(argc, argv)

bad:
  uvm_free(pt, sz);
  return -1;
}

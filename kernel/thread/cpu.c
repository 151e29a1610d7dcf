// The per-CPU table. A hart finds its own entry through tp, which always
// holds the entry's address while in the kernel (mycpu() and cpuid() in
// cpu.h; trapvec.S reloads it from the trap frame on entry from user mode).
#include "thread/cpu.h"

struct cpu cpus[NCPU];
int ncpu;
int boot_hart;

// Before anything that may take a lock (printf does): spinlocks record
// cpuid() as their holder.
void cpu_enter(int hartid)
{
  cpus[hartid].id = hartid;
  w_tp((uint64)&cpus[hartid]);
}

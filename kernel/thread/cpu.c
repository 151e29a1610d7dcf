// The per-CPU table. A hart finds its own entry through tp, which always
// holds its hart id while in the kernel.
#include "thread/cpu.h"
#include "arch/riscv.h"

struct cpu cpus[NCPU];
int ncpu;
int boot_hart;

int cpuid(void)
{
  return r_tp();
}

struct cpu *mycpu(void)
{
  return &cpus[r_tp()];
}

// The per-CPU table. A hart finds its own entry through tp, which always
// holds its hart id while in the kernel (mycpu() and cpuid() in cpu.h).
#include "thread/cpu.h"

struct cpu cpus[NCPU];
int ncpu;
int boot_hart;

// ps: lists every process (pid, parent, name, memory size, concurrency
// level) and, indented below it, each of its LWPs (id, KLT, priority, state,
// CPU, voluntary and involuntary context switches, for a scheduler
// activation the user thread it holds, and its signal mask and pending set
// when either is not empty), using procinfo(); then
// each CPU's switch counters (kdebug KD_CPU_STATS).
#include "user/user.h"
#include "uapi/kdebug.h"

#define MAX_PROCS 64

static struct procinfo table[MAX_PROCS];

// A scheduler activation (lab upcalls) also shows what it is doing: blocked
// in the kernel holding a user thread, or parked as a spare.
static void print_lwp(const struct lwpinfo *l)
{
  printf("    lwp %d klt %d pri %d %-5s %-6s cpu %d vcsw %lu ivcsw %lu", l->lwpid, l->kltid,
         l->pri, l->cls, l->state_name, l->cpu, (unsigned long)l->vcsw, (unsigned long)l->ivcsw);
  if (l->upc_state == 1)
    printf(" upcall: blocked holding thread %d", l->upc_tid);
  else if (l->upc_state == 2)
    printf(" upcall: spare");
  if (l->sigmask || l->sigpending)
    printf(" sigmask 0x%lx pending 0x%lx", (unsigned long)l->sigmask, (unsigned long)l->sigpending);
  printf("\n");
}

static void print_proc(const struct procinfo *p)
{
  char name[PI_NAMELEN + 1];
  memmove(name, p->name, PI_NAMELEN);
  name[PI_NAMELEN] = 0;
  printf("%-5d %-5d %-16s %-9lu %d%s", p->pid, p->ppid, name, (unsigned long)p->size,
         p->concurrency, p->state == 2 ? " (zombie)" : "");
  if (p->sigpending)
    printf(" pending 0x%lx", (unsigned long)p->sigpending);
  printf("\n");
  int nlwp = p->nlwp < 8 ? p->nlwp : 8;
  for (int i = 0; i < nlwp; i++)
    print_lwp(&p->lwps[i]);
}

// One line per CPU: how its switches split between staying in a process
// (page table kept) and crossing to another (satp written, TLB flushed).
static void print_cpus(void)
{
  static struct cpuinfo cpus[8];
  int n = kdebug(KD_CPU_STATS, (long)cpus);
  for (int i = 0; i < n && i < 8; i++)
    printf("cpu %d: switches same-proc %lu cross-proc %lu kernel %lu, preempt %lu, "
           "ipi sent %lu recv %lu, migrations %lu, user LWPs %d\n", cpus[i].id,
           (unsigned long)cpus[i].switch_same_proc, (unsigned long)cpus[i].switch_cross_proc,
           (unsigned long)cpus[i].switch_kernel, (unsigned long)cpus[i].preempt,
           (unsigned long)cpus[i].ipi_sent, (unsigned long)cpus[i].ipi_recv,
           (unsigned long)cpus[i].migrations, cpus[i].nuser);
}

int main(void)
{
  int n = procinfo(table, MAX_PROCS);
  if (n < 0) {
    fprintf(2, "ps: procinfo failed\n");
    return 1;
  }
  printf("%-5s %-5s %-16s %-9s %s\n", "PID", "PPID", "NAME", "SIZE", "CONC");
  for (int i = 0; i < n && i < MAX_PROCS; i++)
    print_proc(&table[i]);
  print_cpus();
  return 0;
}

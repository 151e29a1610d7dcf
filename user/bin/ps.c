// ps: lists every process (pid, parent, name, memory size, concurrency
// level) and, indented below it, each of its LWPs (id, KLT, priority, state,
// CPU, voluntary and involuntary context switches), using procinfo().
#include "user/user.h"

#define MAX_PROCS 64

static struct procinfo table[MAX_PROCS];

// KLT states as numbered by the kernel (enum klt_state).
static const char *const klt_state_names[] = {
  "free", "embryo", "runq", "running", "sleeping", "dead",
};

static const char *klt_state_name(int state)
{
  int n = sizeof(klt_state_names) / sizeof(klt_state_names[0]);
  if (state < 0 || state >= n)
    return "?";
  return klt_state_names[state];
}

static void print_lwp(const struct lwpinfo *l)
{
  printf("    lwp %d klt %d pri %d %-8s cpu %d vcsw %lu ivcsw %lu\n", l->lwpid, l->kltid,
         l->pri, klt_state_name(l->state), l->cpu, (unsigned long)l->vcsw,
         (unsigned long)l->ivcsw);
}

static void print_proc(const struct procinfo *p)
{
  char name[PI_NAMELEN + 1];
  memmove(name, p->name, PI_NAMELEN);
  name[PI_NAMELEN] = 0;
  printf("%-5d %-5d %-16s %-9lu %d%s\n", p->pid, p->ppid, name, (unsigned long)p->size,
         p->concurrency, p->state == 2 ? " (zombie)" : "");
  int nlwp = p->nlwp < 8 ? p->nlwp : 8;
  for (int i = 0; i < nlwp; i++)
    print_lwp(&p->lwps[i]);
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
  return 0;
}

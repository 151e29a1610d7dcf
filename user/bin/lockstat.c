// lockstat: the counters of each class of kernel sleep lock (all locks made
// with one name), read with kdebug(KD_LOCKSTAT). A waiter spins while the
// holder runs on another CPU and sleeps otherwise (docs/adaptive.md):
//   CLASS  ACQUIRED  SPUN  SLEPT  SPINLOOPS
#include "user/user.h"
#include "uapi/kdebug.h"
#include "uapi/lockstat.h"

static struct lockstat stats[LOCKSTAT_MAX];

int main(void)
{
  int n = kdebug(KD_LOCKSTAT, (long)stats);
  if (n < 0) {
    printf("lockstat: cannot read the counters\n");
    exit(1);
  }
  printf("%-16s %10s %10s %10s %12s\n", "CLASS", "ACQUIRED", "SPUN", "SLEPT", "SPINLOOPS");
  for (int i = 0; i < n; i++)
    printf("%-16s %10lu %10lu %10lu %12lu\n", stats[i].name, stats[i].acquired, stats[i].spun,
           stats[i].slept, stats[i].spin_loops);
  exit(0);
}

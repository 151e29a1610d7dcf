// kdgate: which kdebug commands this program may use (tests/groups/kdebug.py).
// Prints whether an observation (KD_FREE_PAGES) and a test hook
// (KD_COPY_DELAY with 0 loops, which changes nothing) were allowed; the
// test hooks open only after Ctrl-t on the console (kernel/proc/kdebug.c).
#include "user/user.h"
#include "uapi/kdebug.h"

int main(void)
{
  int observe = kdebug(KD_FREE_PAGES, 0) > 0;
  int hook = kdebug(KD_COPY_DELAY, 0) == 0;
  printf("kdgate: observations %s, test hooks %s\n", observe ? "open" : "refused",
         hook ? "open" : "refused");
  exit(0);
}

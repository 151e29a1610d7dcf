// kdebug's gate: which kdebug commands any program may use, and the switch
// that opens the others. Owns that switch and the list of open commands;
// sys_kdebug (sysproc.c) asks here before it runs a command, and the
// console (dev/console.c) turns the switch on. Must not run any command.
//
// Observations (counters, statistics, the Ctrl-p dump, the caller's own
// upcall counters and announce delay) are open to every program. Everything
// else is a test hook that changes the kernel for every process (a page
// allocation that fails, copies that spin with interrupts off, a disk that
// stops writing, a smaller max_threads, delays, in-kernel tests) and is
// refused (-1) until someone at the console types Ctrl-t, which opens the
// hooks until poweroff. A program cannot type on the console, so it cannot
// open them; the test harness types Ctrl-t after each boot (tests/qemu.py,
// grade/build.py). docs/decisions.md says why.
#include "proc/kdebug.h"
#include "lib/printf.h"
#include "uapi/kdebug.h"

static int armed;     // Ctrl-t seen: test hooks open until poweroff
static int hinted;    // a refused hook said how to open them once

void kdebug_arm(void)
{
  if (__atomic_exchange_n(&armed, 1, __ATOMIC_SEQ_CST) == 0)
    printf("kdebug: test hooks armed (Ctrl-t)\n");
}

static int observation(int cmd)
{
  switch (cmd) {
  case KD_GET_MAX_THREADS:
  case KD_LIVE_THREADS:
  case KD_FREE_PAGES:
  case KD_CPU_STATS:
  case KD_CACHED_PAGES:
  case KD_DUMP:
  case KD_UPCALL_STATS:
  case KD_UPCALL_RESET:
  case KD_UPCALL_DELAY:             // the caller's own replacements only
  case KD_UPCALL_GAP:               // the caller's own ring only
  case KD_UPCALL_ROOM_WAIT:         // the caller's own posters only
  case KD_SPARE_DELAY:              // the caller's own spares only
  case KD_LOCKSTAT:
  case KD_BENCH_TIMES:
    return 1;
  }
  return 0;
}

int kdebug_allowed(int cmd)
{
  if (observation(cmd) || __atomic_load_n(&armed, __ATOMIC_SEQ_CST))
    return 1;
  if (__atomic_exchange_n(&hinted, 1, __ATOMIC_SEQ_CST) == 0)
    printf("kdebug: test hook %d refused: type Ctrl-t on the console to arm test hooks\n", cmd);
  return 0;
}

// In-kernel scheduler tests reached through kdebug(): behaviour a user
// program cannot observe directly (who preempts whom, the remote wake-up
// path). Each returns 0 when the rule held.
#include "thread/klt.h"
#include "thread/lwkt.h"
#include "thread/cpu.h"
#include "thread/sleepq.h"
#include "thread/clock.h"
#include "arch/riscv.h"
#include "lib/printf.h"

int kdebug_preempt_test(void)
{
  return -1;
}

int kdebug_remote_wake_test(void)
{
  return -1;
}

// Critical sections: while this CPU's depth is above zero, no thread switch
// happens here (no preemption, no interrupt-thread dispatch). Interrupts are
// still taken; what they make runnable waits until crit_exit().
#pragma once
#include "thread/cpu.h"

void crit_enter(void);
void crit_exit(void);

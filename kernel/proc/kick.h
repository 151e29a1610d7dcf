// Kicks (lwp_kick, lwp_preempt_handler, lwp_resume): see kick.c.
#pragma once
#include "uapi/types.h"

struct lwp;
// Run the process's preemption handler at this return to user mode
// (lwp_userret calls it when l->kicked is set).
void kick_deliver(struct lwp *l);
// Write l's user registers as a struct uframe (uapi/uframe.h) below its user
// sp, for lwp_resume(); the frame's user address, or 0 after killing the
// process with a line naming `what` when there is no room.
uint64 uframe_push(struct lwp *l, const char *what);
// Could pc be an instruction of p's image (a handler or a resumed pc)?
struct proc;
int user_code(struct proc *p, uint64 pc);

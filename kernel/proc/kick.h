// Kicks (lwp_kick, lwp_preempt_handler, lwp_resume): see kick.c.
#pragma once

struct lwp;
// Run the process's preemption handler at this return to user mode
// (lwp_userret calls it when l->kicked is set).
void kick_deliver(struct lwp *l);

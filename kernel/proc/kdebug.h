// kdebug's gate (kdebug.c): observations are open, test hooks only once the
// console has armed them.
#pragma once

int  kdebug_allowed(int cmd);   // sys_kdebug: may the caller run command cmd?
void kdebug_arm(void);          // the console: Ctrl-t opens the test hooks until poweroff

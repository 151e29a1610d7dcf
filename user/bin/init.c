// init: the first user process. Sets up the console as fds 0, 1 and 2, then
// runs the shell forever, restarting it when it exits and reaping orphans.
#include "user/user.h"

#define CONSOLE_MAJOR 1

static void open_console(void)
{
  if (open("console", O_RDWR) < 0) {
    mknod("console", CONSOLE_MAJOR, 0);
    if (open("console", O_RDWR) < 0)
      exit(1);     // nowhere to report it
  }
  dup(0);          // stdout
  dup(0);          // stderr
}

// Starts sh and waits until it exits, reaping any orphan meanwhile.
static void run_shell_once(void)
{
  static char *sh_argv[] = { "sh", 0 };
  printf("init: starting sh\n");
  int pid = fork();
  if (pid < 0) {
    sleep(10);
    return;
  }
  if (pid == 0) {
    exec("sh", sh_argv);
    exec("/sh", sh_argv);
    exit(1);
  }
  for (;;) {
    int reaped = wait(0);
    if (reaped == pid || reaped < 0)
      return;
  }
}

int main(void)
{
  open_console();
  for (;;)
    run_shell_once();
}

// spin TICKS: a test program for the shell tests (`&`, kill, ps). Prints
// "spin PID started", sleeps TICKS timer ticks in steps of 10, then prints
// "spin PID done". Killed early, it never prints "done".
#include "user/user.h"

int main(int argc, char **argv)
{
  int ticks = argc > 1 ? atoi(argv[1]) : 100;
  int pid = getpid();
  printf("spin %d started\n", pid);
  for (int t = 0; t < ticks; t += 10)
    sleep(10);
  printf("spin %d done\n", pid);
  return 0;
}

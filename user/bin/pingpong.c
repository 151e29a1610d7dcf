// pingpong [N]: two processes pass one byte back and forth through two
// pipes N times (default 10). Small on purpose: it is the program behind
// the timeline figure docs/trace-pipe.svg (`make trace PROG="pingpong"`),
// where each round trip shows two blocks, two wake-ups and two switches,
// with IPI messages when the partners sit on different CPUs.
#include "user/user.h"

int main(int argc, char *argv[])
{
  int n = argc > 1 ? atoi(argv[1]) : 10;
  int down[2], up[2];
  char c = 'p';
  if (pipe(down) < 0 || pipe(up) < 0) {
    fprintf(2, "pingpong: pipe failed\n");
    return 1;
  }
  int pid = fork();
  if (pid < 0) {
    fprintf(2, "pingpong: fork failed\n");
    return 1;
  }
  if (pid == 0) {
    for (int i = 0; i < n; i++) {
      if (read(down[0], &c, 1) != 1)
        exit(1);
      write(up[1], &c, 1);
    }
    exit(0);
  }
  for (int i = 0; i < n; i++) {
    write(down[1], &c, 1);
    if (read(up[0], &c, 1) != 1)
      break;
  }
  wait(0);
  printf("pingpong: %d round trips, parent on cpu %d\n", n, getcpu());
  return 0;
}

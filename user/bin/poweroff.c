// poweroff: turns the machine off.
#include "user/user.h"

int main(void)
{
  poweroff();
  fprintf(2, "poweroff: failed\n");
  return 1;
}

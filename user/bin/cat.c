// cat: copies each named file (or standard input) to standard output.
#include "user/user.h"

static char copy_buf[1024];

static int copy_fd(int fd)
{
  int n;
  while ((n = read(fd, copy_buf, sizeof(copy_buf))) > 0) {
    if (write(1, copy_buf, n) != n) {
      fprintf(2, "cat: write error\n");
      return -1;
    }
  }
  if (n < 0) {
    fprintf(2, "cat: read error\n");
    return -1;
  }
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 2)
    return copy_fd(0) < 0 ? 1 : 0;
  int status = 0;
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "cat: cannot open %s\n", argv[i]);
      status = 1;
      continue;
    }
    if (copy_fd(fd) < 0)
      status = 1;
    close(fd);
  }
  return status;
}

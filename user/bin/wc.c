// wc: counts lines, words and bytes of each named file (or standard input).
#include "user/user.h"

struct counts {
  long lines, words, bytes;
};

static char wc_buf[1024];

static int is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int count_fd(int fd, struct counts *c)
{
  int in_word = 0, n;
  c->lines = c->words = c->bytes = 0;
  while ((n = read(fd, wc_buf, sizeof(wc_buf))) > 0) {
    c->bytes += n;
    for (int i = 0; i < n; i++) {
      if (wc_buf[i] == '\n')
        c->lines++;
      if (is_space(wc_buf[i])) {
        in_word = 0;
      } else if (!in_word) {
        in_word = 1;
        c->words++;
      }
    }
  }
  return n < 0 ? -1 : 0;
}

static int report(int fd, const char *name)
{
  struct counts c;
  if (count_fd(fd, &c) < 0) {
    fprintf(2, "wc: read error\n");
    return 1;
  }
  if (name)
    printf("%ld %ld %ld %s\n", c.lines, c.words, c.bytes, name);
  else
    printf("%ld %ld %ld\n", c.lines, c.words, c.bytes);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 2)
    return report(0, 0);
  int status = 0;
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "wc: cannot open %s\n", argv[i]);
      status = 1;
      continue;
    }
    status |= report(fd, argv[i]);
    close(fd);
  }
  return status;
}

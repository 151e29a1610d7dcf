// The string, memory and small I/O helpers of the user C library.
#include "user/user.h"

char *strcpy(char *dst, const char *src)
{
  char *d = dst;
  while ((*d++ = *src++) != 0)
    ;
  return dst;
}

int strcmp(const char *a, const char *b)
{
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return (uchar)*a - (uchar)*b;
}

int strncmp(const char *a, const char *b, uint n)
{
  for (; n > 0; n--, a++, b++) {
    if (*a != *b || *a == 0)
      return (uchar)*a - (uchar)*b;
  }
  return 0;
}

uint strlen(const char *s)
{
  uint n = 0;
  while (s[n])
    n++;
  return n;
}

// Word by word where it can: uthread_init clears a table of 458 KB.
void *memset(void *dst, int c, uint n)
{
  uchar *d = dst;
  uint i = 0;
  if (((uint64)d & 7) == 0) {
    uint64 word = (uchar)c * 0x0101010101010101ULL;
    for (; i + 8 <= n; i += 8)
      *(uint64 *)(d + i) = word;
  }
  for (; i < n; i++)
    d[i] = (uchar)c;
  return dst;
}

// Copies correctly even when the two ranges overlap.
void *memmove(void *dst, const void *src, uint n)
{
  uchar *d = dst;
  const uchar *s = src;
  if (d == s || n == 0)
    return dst;
  if (d < s || d >= s + n) {
    for (uint i = 0; i < n; i++)
      d[i] = s[i];
  } else {
    for (uint i = n; i > 0; i--)
      d[i - 1] = s[i - 1];
  }
  return dst;
}

void *memcpy(void *dst, const void *src, uint n)
{
  return memmove(dst, src, n);
}

int memcmp(const void *a, const void *b, uint n)
{
  const uchar *x = a, *y = b;
  for (uint i = 0; i < n; i++) {
    if (x[i] != y[i])
      return x[i] - y[i];
  }
  return 0;
}

char *strchr(const char *s, char c)
{
  for (; *s; s++) {
    if (*s == c)
      return (char *)s;
  }
  return 0;
}

// Reads one line from fd 0 into buf (at most max-1 bytes, the newline kept)
// and NUL-terminates it; an empty string means end of input.
char *gets(char *buf, int max)
{
  int len = 0;
  while (len + 1 < max) {
    char c;
    if (read(0, &c, 1) != 1)
      break;
    buf[len++] = c;
    if (c == '\n' || c == '\r')
      break;
  }
  buf[len] = 0;
  return buf;
}

int stat(const char *path, struct stat *st)
{
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  int r = fstat(fd, st);
  close(fd);
  return r;
}

// Decimal string to int; an optional leading '-' is honoured.
int atoi(const char *s)
{
  int sign = 1, n = 0;
  while (*s == ' ' || *s == '\t')
    s++;
  if (*s == '-') {
    sign = -1;
    s++;
  }
  while (*s >= '0' && *s <= '9')
    n = n * 10 + (*s++ - '0');
  return sign * n;
}

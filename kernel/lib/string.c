// Byte and string helpers the kernel needs, written for clarity over speed
// except memset/memmove, which copy a word at a time when aligned, sixteen
// words per turn of the loop: zeroing, copying and junk-filling pages is
// most of what fork + exit costs, and a one-word loop spent more
// instructions on itself (pointer, count, branch) than on the stores
// (eight words per turn still spent 3 of every 19 on the loop).
#include "lib/string.h"

static void set_words(uint64 *w, uint64 v, size_t nwords)
{
  for (; nwords >= 16; nwords -= 16, w += 16) {
    w[0] = v;  w[1] = v;  w[2] = v;  w[3] = v;
    w[4] = v;  w[5] = v;  w[6] = v;  w[7] = v;
    w[8] = v;  w[9] = v;  w[10] = v; w[11] = v;
    w[12] = v; w[13] = v; w[14] = v; w[15] = v;
  }
  for (; nwords; nwords--)
    *w++ = v;
}

static void copy_words(uint64 *d, const uint64 *s, size_t nwords)
{
  for (; nwords >= 16; nwords -= 16, d += 16, s += 16) {
    d[0] = s[0];   d[1] = s[1];   d[2] = s[2];   d[3] = s[3];
    d[4] = s[4];   d[5] = s[5];   d[6] = s[6];   d[7] = s[7];
    d[8] = s[8];   d[9] = s[9];   d[10] = s[10]; d[11] = s[11];
    d[12] = s[12]; d[13] = s[13]; d[14] = s[14]; d[15] = s[15];
  }
  for (; nwords; nwords--)
    *d++ = *s++;
}

void *memset(void *dst, int c, size_t n)
{
  uint8 *d = dst;
  if (((uint64)d & 7) == 0 && (n & 7) == 0) {
    uint64 v = (uint8)c;
    v |= v << 8; v |= v << 16; v |= v << 32;
    set_words(dst, v, n / 8);
    return dst;
  }
  while (n--)
    *d++ = c;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
  uint8 *d = dst;
  const uint8 *s = src;
  if (s < d && s + n > d) {       // overlap: copy backwards
    while (n--)
      d[n] = s[n];
    return dst;
  }
  if ((((uint64)d | (uint64)s | n) & 7) == 0) {
    copy_words(dst, src, n / 8);
    return dst;
  }
  while (n--)
    *d++ = *s++;
  return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
  return memmove(dst, src, n);
}

int memcmp(const void *a, const void *b, size_t n)
{
  const uint8 *x = a, *y = b;
  for (; n; n--, x++, y++)
    if (*x != *y)
      return *x - *y;
  return 0;
}

size_t strlen(const char *s)
{
  size_t n = 0;
  while (s[n])
    n++;
  return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
  for (; n && *a && *a == *b; n--, a++, b++)
    ;
  if (n == 0)
    return 0;
  return (uint8)*a - (uint8)*b;
}

char *strncpy(char *dst, const char *src, size_t n)
{
  size_t i = 0;
  for (; i < n && src[i]; i++)
    dst[i] = src[i];
  for (; i < n; i++)
    dst[i] = 0;
  return dst;
}

char *safestrcpy(char *dst, const char *src, size_t n)
{
  if (n == 0)
    return dst;
  size_t i = 0;
  for (; i + 1 < n && src[i]; i++)
    dst[i] = src[i];
  dst[i] = 0;
  return dst;
}

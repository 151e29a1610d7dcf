// The result-printing helper of graded test programs (header only).
//
// The grading harness runs a test program as `prog --token TOKEN [args]` and
// only believes lines `GRADE <TOKEN> <name> ok|fail` followed by the end line
// `GRADE <TOKEN> END <count> <digest>`; anything else the program (or anybody
// else) prints is just log. The digest sums a keyed hash of each result line
// (grade/score.py digest(), the same computation): a result line the program
// did not print, or one it printed and somebody rewrote, makes the harness
// score the test 0. Report every result from the process that called
// grade_init() (any of its threads): a forked child's lines are not in the
// parent's digest. Use:
//
//   int main(int argc, char *argv[]) {
//     grade_init(&argc, &argv);          // removes --token TOKEN from argv
//     grade_result("roundtrip", ok);
//     grade_end();                       // then exit(0)
//   }
//
// Each line is built in a buffer and written with one write() so lines of
// concurrent LWPs or processes do not mix within a line.
#pragma once
#include "user/user.h"

#define GRADE_MIN_TICKS 5        // grade_end() never comes sooner (grade/score.py MIN_TICKS)
#define GRADE_END_FILE "/grade.end"  // grade/score.py END_FILE

static char *grade_token_ = "notoken";
static int grade_count_;
static int grade_start_;
static uint64 grade_sum_;        // sum of grade_hash_ of the result lines

#define GRADE_FNV_BASIS 0xcbf29ce484222325ull
#define GRADE_FNV_PRIME 0x100000001b3ull

static inline uint64 grade_line_(const char *name, const char *what);
static inline void grade_num_(int n, char *num, int size);

static inline void grade_init(int *argc, char ***argv)
{
  char **v = *argv;
  for (int i = 1; i + 1 < *argc; i++) {
    if (strcmp(v[i], "--token") == 0) {
      grade_token_ = v[i + 1];
      for (int j = i; j + 2 <= *argc; j++)
        v[j] = v[j + 2];          // includes the terminating 0
      *argc -= 2;
      break;
    }
  }
  char pid[12];
  grade_num_(getpid(), pid, sizeof pid);
  grade_start_ = uptime();
  grade_line_("START", pid);
}

// n in decimal into num (size >= 12).
static inline void grade_num_(int n, char *num, int size)
{
  char tmp[12];
  int i = sizeof tmp - 1, k = 0;
  tmp[i] = 0;
  do { tmp[--i] = '0' + n % 10; n /= 10; } while (n && i > 0);
  while (tmp[i] && k < size - 1)
    num[k++] = tmp[i++];
  num[k] = 0;
}

// FNV-1a, continued from h over s.
static inline uint64 grade_hash_(uint64 h, const char *s, int n)
{
  for (int i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * GRADE_FNV_PRIME;
  return h;
}

static inline void grade_cat_(char *buf, int *n, int max, const char *s)
{
  while (*s && *n < max - 1)
    buf[(*n)++] = *s++;
}

// Write `GRADE <token> <name> <what>`; returns the line's hash (of the text
// after "GRADE ", which holds the token).
static inline uint64 grade_line_(const char *name, const char *what)
{
  char buf[200];
  int n = 0;
  grade_cat_(buf, &n, sizeof buf, "GRADE ");
  grade_cat_(buf, &n, sizeof buf, grade_token_);
  grade_cat_(buf, &n, sizeof buf, " ");
  grade_cat_(buf, &n, sizeof buf, name);
  grade_cat_(buf, &n, sizeof buf, " ");
  grade_cat_(buf, &n, sizeof buf, what);
  uint64 h = grade_hash_(GRADE_FNV_BASIS, buf + 6, n - 6);
  buf[n++] = '\n';
  write(1, buf, n);
  return h;
}

// Report one named result (a name without spaces, listed in lab.json "expect").
static inline void grade_result(const char *name, int ok)
{
  uint64 h = grade_line_(name, ok ? "ok" : "fail");
  __atomic_fetch_add(&grade_count_, 1, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&grade_sum_, h, __ATOMIC_SEQ_CST);
}

// The end line's text, left in the file system as GRADE_END_FILE before the
// line is printed: the harness reads it from the disk image after the run
// and compares it with the console's (a filter on the console does not see
// it). Without the file no result counts: keep a file descriptor and an inode
// free for grade_end().
static inline void grade_leave_(const char *tail, int n)
{
  int fd = open(GRADE_END_FILE, O_CREATE | O_WRONLY | O_TRUNC);
  if (fd < 0)
    return;
  write(fd, tail, n);
  write(fd, "\n", 1);
  close(fd);
}

// The end line, `END <count> <digest>`: the harness stops reading when it
// sees it. It comes at least GRADE_MIN_TICKS after grade_init(), so an END
// sooner than that after the command was typed cannot be the program's.
// digest: FNV-1a of "<token> END <count> <sum in 16 hex digits>".
static inline void grade_end(void)
{
  char num[12], tail[48], sum[17];
  int n = 0;
  while (uptime() - grade_start_ < GRADE_MIN_TICKS)
    sleep(1);
  uint64 s = __atomic_load_n(&grade_sum_, __ATOMIC_SEQ_CST);
  for (int i = 15; i >= 0; i--, s >>= 4)
    sum[i] = "0123456789abcdef"[s & 15];
  sum[16] = 0;
  grade_num_(__atomic_load_n(&grade_count_, __ATOMIC_SEQ_CST), num, sizeof num);
  uint64 h = grade_hash_(GRADE_FNV_BASIS, grade_token_, strlen(grade_token_));
  h = grade_hash_(h, " END ", 5);
  h = grade_hash_(h, num, strlen(num));
  h = grade_hash_(h, " ", 1);
  h = grade_hash_(h, sum, 16);
  grade_cat_(tail, &n, sizeof tail, num);
  grade_cat_(tail, &n, sizeof tail, " ");
  for (int i = 15; i >= 0; i--, h >>= 4)
    sum[i] = "0123456789abcdef"[h & 15];
  grade_cat_(tail, &n, sizeof tail, sum);
  tail[n] = 0;
  grade_leave_(tail, n);
  grade_line_("END", tail);
}

// The result-printing helper of graded test programs (header only).
//
// The grading harness runs a test program as `prog --token TOKEN [args]` and
// only believes lines `GRADE <TOKEN> <name> ok|fail` and the end line
// `GRADE <TOKEN> END <count>`; anything else the program (or anybody else)
// prints is just log. Use:
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

static char *grade_token_ = "notoken";
static int grade_count_;
static int grade_start_;

static inline void grade_line_(const char *name, const char *what);
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

static inline void grade_cat_(char *buf, int *n, int max, const char *s)
{
  while (*s && *n < max - 1)
    buf[(*n)++] = *s++;
}

static inline void grade_line_(const char *name, const char *what)
{
  char buf[160];
  int n = 0;
  grade_cat_(buf, &n, sizeof buf, "GRADE ");
  grade_cat_(buf, &n, sizeof buf, grade_token_);
  grade_cat_(buf, &n, sizeof buf, " ");
  grade_cat_(buf, &n, sizeof buf, name);
  grade_cat_(buf, &n, sizeof buf, " ");
  grade_cat_(buf, &n, sizeof buf, what);
  buf[n++] = '\n';
  write(1, buf, n);
}

// Report one named result (a name without spaces, listed in lab.json "expect").
static inline void grade_result(const char *name, int ok)
{
  grade_count_++;
  grade_line_(name, ok ? "ok" : "fail");
}

// The end line: the harness stops reading when it sees it. It comes at
// least GRADE_MIN_TICKS after grade_init(), so an END sooner than that after
// the command was typed cannot be the program's.
static inline void grade_end(void)
{
  char num[12];
  while (uptime() - grade_start_ < GRADE_MIN_TICKS)
    sleep(1);
  grade_num_(grade_count_, num, sizeof num);
  grade_line_("END", num);
}

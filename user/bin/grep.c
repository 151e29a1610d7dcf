// grep: prints the lines of each file (or standard input) that match a
// simple regular expression: literal characters, '.' (any character),
// 'x*' (zero or more of x), '^' (start of line) and '$' (end of line).
#include "user/user.h"

// A pattern compiled into tokens: each matches one character (or, when
// starred, any run of them).
struct re_token {
  char ch;        // the literal character
  char any;       // '.': matches every character
  char star;      // followed by '*'
};

#define MAX_TOKENS 128

struct pattern {
  struct re_token tok[MAX_TOKENS];
  int ntok;
  int anchored_start;   // leading '^'
  int anchored_end;     // trailing '$'
};

static struct pattern pat;

// Compiles re into pat; returns -1 if it is too long.
static int compile_pattern(const char *re)
{
  pat.ntok = 0;
  pat.anchored_start = (*re == '^');
  if (pat.anchored_start)
    re++;
  for (; *re; re++) {
    if (re[0] == '$' && re[1] == 0) {
      pat.anchored_end = 1;
      break;
    }
    if (pat.ntok == MAX_TOKENS)
      return -1;
    struct re_token *t = &pat.tok[pat.ntok++];
    t->ch = *re;
    t->any = (*re == '.');
    t->star = (re[1] == '*');
    if (t->star)
      re++;
  }
  return 0;
}

static int token_accepts(const struct re_token *t, char c)
{
  return c != 0 && (t->any || t->ch == c);
}

// Do tokens t[0..ntok) match text from its start (and reach its end if the
// pattern ends with '$')? A starred token tries its longest run first.
static int match_from(const struct re_token *t, int ntok, const char *text)
{
  if (ntok == 0)
    return !pat.anchored_end || *text == 0;
  if (t->star) {
    int run = 0;
    while (token_accepts(t, text[run]))
      run++;
    for (int k = run; k >= 0; k--) {
      if (match_from(t + 1, ntok - 1, text + k))
        return 1;
    }
    return 0;
  }
  return token_accepts(t, *text) && match_from(t + 1, ntok - 1, text + 1);
}

static int match_line(const char *text)
{
  if (pat.anchored_start)
    return match_from(pat.tok, pat.ntok, text);
  for (;; text++) {
    if (match_from(pat.tok, pat.ntok, text))
      return 1;
    if (*text == 0)
      return 0;
  }
}

#define LINE_MAX 1024
static char line_buf[LINE_MAX + 1];

// Prints matching lines of fd; returns how many matched.
static int grep_fd(int fd)
{
  int used = 0, n, matches = 0;
  while ((n = read(fd, line_buf + used, LINE_MAX - used)) > 0) {
    used += n;
    line_buf[used] = 0;
    char *start = line_buf, *nl;
    while ((nl = strchr(start, '\n')) != 0) {
      *nl = 0;
      if (match_line(start)) {
        *nl = '\n';
        write(1, start, nl - start + 1);
        matches++;
      }
      start = nl + 1;
    }
    used -= start - line_buf;
    if (used == LINE_MAX)        // a line longer than the buffer: test it alone
      used = 0;
    memmove(line_buf, start, used);
  }
  if (used > 0) {                // last line without a newline
    line_buf[used] = 0;
    if (match_line(line_buf)) {
      printf("%s\n", line_buf);
      matches++;
    }
  }
  return matches;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(2, "usage: grep pattern [file...]\n");
    return 2;
  }
  if (compile_pattern(argv[1]) < 0) {
    fprintf(2, "grep: pattern too long\n");
    return 2;
  }
  if (argc == 2)
    return grep_fd(0) > 0 ? 0 : 1;
  int matches = 0;
  for (int i = 2; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "grep: cannot open %s\n", argv[i]);
      continue;
    }
    matches += grep_fd(fd);
    close(fd);
  }
  return matches > 0 ? 0 : 1;
}

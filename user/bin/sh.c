// sh: the shell. Reads command lines from the console (prompt "$ " on fd 2)
// or from a script (`sh file`, no prompt) and runs them until end of input.
// A line is a list of pipelines separated by ';' (run in turn) or ended by
// '&' (run in the background); a pipeline is commands joined by '|'; a
// command is words with optional "<", ">" and ">>" (append) redirections.
// Words may be quoted with "...". Built-ins: cd dir, exit [status].
#include "user/user.h"

#define LINE_MAX     512
#define MAX_TOKENS   128
#define MAX_WORDS    32     // per command, including the final 0
#define MAX_PIPE     8      // commands per pipeline
#define PATH_MAX     128    // longest path the kernel accepts (MAXPATH)

// ---- tokens -----------------------------------------------------------------

enum token_kind { TOK_WORD, TOK_PIPE, TOK_IN, TOK_OUT, TOK_APPEND, TOK_SEMI, TOK_AMP, TOK_END };

struct token {
  enum token_kind kind;
  char *word;               // TOK_WORD: NUL-terminated text in word_store
};

struct token_list {
  struct token tok[MAX_TOKENS];
  int count;
  char word_store[LINE_MAX * 2];
  int store_used;
};

static int is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int operator_kind(char c)
{
  switch (c) {
  case '|': return TOK_PIPE;
  case '<': return TOK_IN;
  case '>': return TOK_OUT;
  case ';': return TOK_SEMI;
  case '&': return TOK_AMP;
  default:  return -1;
  }
}

static int add_token(struct token_list *tl, enum token_kind kind, char *word)
{
  if (tl->count == MAX_TOKENS - 1) {
    fprintf(2, "sh: line has too many words\n");
    return -1;
  }
  tl->tok[tl->count].kind = kind;
  tl->tok[tl->count].word = word;
  tl->count++;
  return 0;
}

// Copies one word starting at *p into the store; handles "quoted text".
static char *scan_word(struct token_list *tl, const char **p)
{
  char *word = tl->word_store + tl->store_used;
  const char *s = *p;
  while (*s && !is_blank(*s) && operator_kind(*s) < 0) {
    if (*s == '"') {
      for (s++; *s && *s != '"'; s++)
        tl->word_store[tl->store_used++] = *s;
      if (*s == '"')
        s++;
    } else {
      tl->word_store[tl->store_used++] = *s++;
    }
  }
  tl->word_store[tl->store_used++] = 0;
  *p = s;
  return word;
}

// Splits line into tokens, ending the list with TOK_END. -1 on error.
static int tokenize(const char *line, struct token_list *tl)
{
  tl->count = 0;
  tl->store_used = 0;
  const char *p = line;
  for (;;) {
    while (is_blank(*p))
      p++;
    if (*p == 0 || *p == '#')
      break;
    int op = operator_kind(*p);
    if (op == TOK_OUT && p[1] == '>') {
      op = TOK_APPEND;
      p++;
    }
    int r = op >= 0 ? add_token(tl, op, 0) : add_token(tl, TOK_WORD, scan_word(tl, &p));
    if (r < 0)
      return -1;
    if (op >= 0)
      p++;
  }
  tl->tok[tl->count].kind = TOK_END;
  tl->tok[tl->count].word = 0;
  return 0;
}

// ---- parsed commands ----------------------------------------------------------

struct command {
  char *argv[MAX_WORDS];
  int argc;
  char *input;              // '<' file or 0
  char *output;             // '>' or '>>' file or 0
  int append;               // output was given with '>>'
};

struct pipeline {
  struct command cmd[MAX_PIPE];
  int ncmd;
  int background;
};

static int syntax_error(const char *what)
{
  fprintf(2, "sh: syntax error: %s\n", what);
  return -1;
}

// Parses one command starting at token *pos; -1 on a syntax error.
static int parse_command(struct token_list *tl, int *pos, struct command *c)
{
  memset(c, 0, sizeof(*c));
  for (;;) {
    struct token *t = &tl->tok[*pos];
    if (t->kind == TOK_WORD) {
      if (c->argc == MAX_WORDS - 1)
        return syntax_error("too many arguments");
      c->argv[c->argc++] = t->word;
    } else if (t->kind == TOK_IN || t->kind == TOK_OUT || t->kind == TOK_APPEND) {
      struct token *file = &tl->tok[*pos + 1];
      if (file->kind != TOK_WORD)
        return syntax_error("missing file name after <, > or >>");
      if (t->kind == TOK_IN) {
        c->input = file->word;
      } else {
        c->output = file->word;
        c->append = (t->kind == TOK_APPEND);
      }
      (*pos)++;
    } else {
      break;
    }
    (*pos)++;
  }
  c->argv[c->argc] = 0;
  return c->argc > 0 ? 0 : syntax_error("missing command");
}

// Parses "cmd | cmd ... [; or &]" at *pos. Returns 1 if a pipeline was
// parsed, 0 at the end of the line, -1 on a syntax error.
static int parse_pipeline(struct token_list *tl, int *pos, struct pipeline *pl)
{
  while (tl->tok[*pos].kind == TOK_SEMI)
    (*pos)++;
  if (tl->tok[*pos].kind == TOK_END)
    return 0;
  pl->ncmd = 0;
  pl->background = 0;
  for (;;) {
    if (pl->ncmd == MAX_PIPE)
      return syntax_error("pipeline too long");
    if (parse_command(tl, pos, &pl->cmd[pl->ncmd++]) < 0)
      return -1;
    if (tl->tok[*pos].kind != TOK_PIPE)
      break;
    (*pos)++;
  }
  enum token_kind end = tl->tok[*pos].kind;
  if (end == TOK_AMP)
    pl->background = 1;
  if (end == TOK_AMP || end == TOK_SEMI)
    (*pos)++;
  else if (end != TOK_END)
    return syntax_error("unexpected token");
  return 1;
}

// ---- running -------------------------------------------------------------------

// Makes fd `target` refer to the file at path, opened with flags.
static void redirect(int target, const char *path, int flags)
{
  close(target);
  int fd = open(path, flags);
  if (fd < 0) {
    fprintf(2, "sh: cannot open %s\n", path);
    exit(1);
  }
  if (fd != target) {
    fprintf(2, "sh: redirection of %s went to fd %d\n", path, fd);
    exit(1);
  }
}

// There is no seek: move fd's offset to the end by reading everything.
static void skip_to_end(int fd)
{
  char buf[512];
  while (read(fd, buf, sizeof(buf)) > 0)
    ;
}

// Runs in the child: redirections, then exec; never returns.
static void exec_command(struct command *c)
{
  if (c->input)
    redirect(0, c->input, O_RDONLY);
  if (c->output && c->append) {
    redirect(1, c->output, O_RDWR | O_CREATE);
    skip_to_end(1);
  } else if (c->output) {
    redirect(1, c->output, O_WRONLY | O_CREATE | O_TRUNC);
  }
  exec(c->argv[0], c->argv);
  if (c->argv[0][0] != '/') {
    // programs live in the root directory: find them from any cwd
    char path[PATH_MAX];
    if (strlen(c->argv[0]) + 2 <= sizeof(path)) {
      path[0] = '/';
      strcpy(path + 1, c->argv[0]);
      exec(path, c->argv);
    }
  }
  fprintf(2, "sh: cannot run %s\n", c->argv[0]);
  exit(127);
}

// Moves fd `from` onto fd `to` (used for the pipe ends of a child).
static void move_fd(int from, int to)
{
  if (from == to)
    return;
  close(to);
  dup(from);
  close(from);
}

// Starts every command of pl joined by pipes; stores the child pids.
// Returns how many children were started.
static int start_pipeline(struct pipeline *pl, int *pids)
{
  int read_end = -1;                   // read end of the previous pipe
  int started = 0;
  for (int i = 0; i < pl->ncmd; i++) {
    int p[2] = { -1, -1 };
    int last = (i == pl->ncmd - 1);
    if (!last && pipe(p) < 0) {
      fprintf(2, "sh: pipe failed\n");
      break;
    }
    int pid = fork();
    if (pid == 0) {
      if (read_end >= 0)
        move_fd(read_end, 0);
      if (!last) {
        close(p[0]);
        move_fd(p[1], 1);
      }
      exec_command(&pl->cmd[i]);
    }
    if (read_end >= 0)
      close(read_end);
    if (!last)
      close(p[1]);
    read_end = last ? -1 : p[0];
    if (pid < 0) {
      fprintf(2, "sh: fork failed\n");
      break;
    }
    pids[started++] = pid;
  }
  if (read_end >= 0)
    close(read_end);
  return started;
}

// Waits until every pid in pids has been reaped (others are reaped too).
static void wait_for_all(int *pids, int n)
{
  int remaining = n;
  while (remaining > 0) {
    int pid = wait(0);
    if (pid < 0)
      return;
    for (int i = 0; i < n; i++) {
      if (pids[i] == pid) {
        pids[i] = -1;
        remaining--;
      }
    }
  }
}

static void run_foreground(struct pipeline *pl)
{
  int pids[MAX_PIPE];
  int n = start_pipeline(pl, pids);
  wait_for_all(pids, n);
}

// A background pipeline runs under its own child shell process, which waits
// for the pipeline so that the interactive shell does not have to.
static void run_background(struct pipeline *pl)
{
  int pid = fork();
  if (pid < 0) {
    fprintf(2, "sh: fork failed\n");
    return;
  }
  if (pid == 0) {
    run_foreground(pl);
    exit(0);
  }
  printf("[%d]\n", pid);
}

// cd and exit run in the shell itself. Returns 1 if pl was a built-in.
static int run_builtin(struct pipeline *pl)
{
  struct command *c = &pl->cmd[0];
  if (pl->ncmd != 1 || pl->background)
    return 0;
  if (strcmp(c->argv[0], "cd") == 0) {
    const char *dir = c->argc > 1 ? c->argv[1] : "/";
    if (chdir(dir) < 0)
      fprintf(2, "sh: cannot cd %s\n", dir);
    return 1;
  }
  if (strcmp(c->argv[0], "exit") == 0)
    exit(c->argc > 1 ? atoi(c->argv[1]) : 0);
  return 0;
}

static struct token_list tokens;

static void run_line(const char *line)
{
  if (tokenize(line, &tokens) < 0)
    return;
  int pos = 0;
  struct pipeline pl;
  int r;
  while ((r = parse_pipeline(&tokens, &pos, &pl)) > 0) {
    if (run_builtin(&pl))
      continue;
    if (pl.background)
      run_background(&pl);
    else
      run_foreground(&pl);
  }
}

// ---- input ----------------------------------------------------------------------

// Reads one line from fd into buf (newline dropped). Returns -1 at end of
// input with nothing read.
static int read_line(int fd, char *buf, int max)
{
  int len = 0;
  char c;
  int n;
  while ((n = read(fd, &c, 1)) == 1) {
    if (c == '\n')
      break;
    if (len + 1 < max)
      buf[len++] = c;
  }
  buf[len] = 0;
  return (n != 1 && len == 0) ? -1 : len;
}

static char line[LINE_MAX];

int main(int argc, char **argv)
{
  int input = 0;
  int interactive = 1;
  if (argc > 1) {
    input = open(argv[1], O_RDONLY);
    if (input < 0) {
      fprintf(2, "sh: cannot open %s\n", argv[1]);
      return 1;
    }
    interactive = 0;
  }
  for (;;) {
    if (interactive)
      fprintf(2, "$ ");
    if (read_line(input, line, sizeof(line)) < 0)
      break;
    run_line(line);
  }
  return 0;
}

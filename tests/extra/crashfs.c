// crashfs: the crash-safety test program (tests/groups/crash.py runs it).
//
//   crashfs w SEED N   make /cr and /cr/journal, arm kdebug(KD_CRASH_AFTER_WRITES, N)
//                      (QEMU powers off just before the N-th next block write),
//                      then run the steps SEED chooses; after each step append
//                      one byte to /cr/journal.
//   crashfs c SEED     after the reboot: check the files against the journal.
//
// The steps (mkdir, create with one write, create a big file with many writes,
// rename = link + unlink, unlink) and every file's contents follow from SEED,
// so the checker recomputes what must be on disk. k journal bytes mean steps
// 0..k-1 finished (each system call commits before it returns), so their
// effects must all be there intact; step k may have been cut anywhere, so for
// the files it touches each state its system calls can leave is accepted:
// create: absent, empty or complete; big create: absent or a correct prefix;
// rename: old only, both (same inode, nlink 2) or new only; unlink: intact or
// gone; mkdir: absent or an empty directory. Nothing else may exist.
#include "user/user.h"
#include "uapi/kdebug.h"   // KD_*: not (yet) brought in by user.h

#define NSTEP  80
#define NSLOT  24
#define NDIR   3
#define SMALL  2000          // one write() of up to this many bytes: one log op
#define CHUNK  1000          // big files are written CHUNK bytes at a time
#define BIGMAX 16000         // reaches past the direct blocks

enum { OP_MKDIR, OP_CREATE, OP_BIG, OP_RENAME, OP_UNLINK };
static const char *opname[] = { "mkdir", "create", "big", "rename", "unlink" };

struct step { int op, a, b, len; };   // slots a (and b); len of a new file
static struct step steps[NSTEP];
static int id_of[NSLOT], len_of[NSLOT];  // content (step that wrote it) or -1
static unsigned rng;
static char buf[BIGMAX], got[BIGMAX];
static int problems;

static unsigned rnd(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static char byte_of(int id, int i)   // the i-th byte of the file step id wrote
{
  return (char)('a' + (id * 7 + i * 13 + i / 97) % 26);
}

static void fill(int id, int len)
{
  for (int i = 0; i < len; i++)
    buf[i] = byte_of(id, i);
}

static void slot_path(int s, char *p)
{
  strcpy(p, "cr/d0/s00");
  p[4] = '0' + s % NDIR;
  p[7] = '0' + s / 10;
  p[8] = '0' + s % 10;
}

static void dir_path(int d, char *p)
{
  strcpy(p, "cr/d0");
  p[4] = '0' + d;
}

// Apply step k to the model (id_of/len_of).
static void apply(int k)
{
  struct step *st = &steps[k];
  switch (st->op) {
  case OP_CREATE: case OP_BIG: id_of[st->a] = k; len_of[st->a] = st->len; break;
  case OP_RENAME: id_of[st->b] = id_of[st->a]; len_of[st->b] = len_of[st->a];
                  id_of[st->a] = -1; break;
  case OP_UNLINK: id_of[st->a] = -1; break;
  }
}

static int pick(int full)   // a random slot that is full (or empty), or -1
{
  int start = rnd() % NSLOT;
  for (int i = 0; i < NSLOT; i++) {
    int s = (start + i) % NSLOT;
    if ((id_of[s] >= 0) == full)
      return s;
  }
  return -1;
}

// Choose every step for seed, then reset the model to the empty state.
static void generate(int seed)
{
  rng = seed * 2654435761u + 12345;
  for (int s = 0; s < NSLOT; s++)
    id_of[s] = -1;
  for (int k = 0; k < NSTEP; k++) {
    struct step *st = &steps[k];
    int r = rnd() % 10;
    st->b = -1;
    if (k < NDIR) {
      st->op = OP_MKDIR;
      st->a = k;
    } else if (r < 2 && pick(1) >= 0 && pick(0) >= 0) {
      st->op = OP_RENAME;
      st->a = pick(1);
      st->b = pick(0);
    } else if ((r < 4 && pick(1) >= 0) || pick(0) < 0) {
      st->op = OP_UNLINK;
      st->a = pick(1);
    } else {
      st->op = r < 8 ? OP_CREATE : OP_BIG;
      st->a = pick(0);
      st->len = st->op == OP_CREATE ? 1 + rnd() % SMALL : SMALL + rnd() % (BIGMAX - SMALL);
    }
    apply(k);
  }
  for (int s = 0; s < NSLOT; s++)
    id_of[s] = -1;
}

static void fail(const char *what, int k)
{
  printf("crashfs: step %d (%s) failed: %s\n", k, opname[steps[k].op], what);
  exit(1);
}

static void run_step(int k)
{
  struct step *st = &steps[k];
  char pa[16], pb[16];
  slot_path(st->a, pa);
  if (st->b >= 0)
    slot_path(st->b, pb);
  if (st->op == OP_MKDIR) {
    dir_path(st->a, pa);
    if (mkdir(pa) < 0)
      fail("mkdir", k);
  } else if (st->op == OP_CREATE || st->op == OP_BIG) {
    int fd = open(pa, O_CREATE | O_WRONLY);
    if (fd < 0)
      fail("open", k);
    fill(k, st->len);
    int step = st->op == OP_CREATE ? st->len : CHUNK;
    for (int off = 0; off < st->len; off += step) {
      int n = st->len - off < step ? st->len - off : step;
      if (write(fd, buf + off, n) != n)
        fail("write", k);
    }
    close(fd);
  } else if (st->op == OP_RENAME) {
    if (link(pa, pb) < 0)
      fail("link", k);
    if (unlink(pa) < 0)
      fail("unlink", k);
  } else if (st->op == OP_UNLINK) {
    if (unlink(pa) < 0)
      fail("unlink", k);
  }
}

static int writer(int seed, int n)
{
  generate(seed);
  mkdir("cr");
  int j = open("cr/journal", O_CREATE | O_WRONLY | O_TRUNC);
  if (j < 0) {
    printf("crashfs: cannot create cr/journal\n");
    return 1;
  }
  if (kdebug(KD_CRASH_AFTER_WRITES, n) < 0) {
    printf("crashfs: kdebug(KD_CRASH_AFTER_WRITES) failed\n");
    return 1;
  }
  printf("crashfs: armed seed=%d n=%d\n", seed, n);
  for (int k = 0; k < NSTEP; k++) {
    run_step(k);
    if (write(j, "j", 1) != 1)
      fail("journal write", k);
  }
  printf("crashfs: finished %d steps\n", NSTEP);
  return 0;
}

static void bad(const char *path, const char *what, int v)
{
  printf("crashfs: BAD %s: %s (%d)\n", path, what, v);
  problems++;
}

// What a slot may hold: a file with id's contents, full length or a prefix,
// or nothing. Returns 1 if present; fills *ino and *nlink.
#define MAY_ABSENT 1
#define MAY_EMPTY  2
#define MAY_PREFIX 4
static int check_file(int s, int id, int len, int may, uint *ino, int *nlink)
{
  char p[16];
  slot_path(s, p);
  int fd = open(p, O_RDONLY);
  if (fd < 0) {
    if (id >= 0 && !(may & MAY_ABSENT))
      bad(p, "missing; content of step", id);
    return 0;
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || st.type != T_FILE) {
    bad(p, "not a regular file, type", st.type);
    close(fd);
    return 1;
  }
  *ino = st.ino;
  *nlink = st.nlink;
  if (id < 0) {
    bad(p, "exists but should not; size", (int)st.size);
  } else if (!(st.size == len || (st.size == 0 && (may & MAY_EMPTY)) ||
               (st.size < len && (may & MAY_PREFIX)))) {
    bad(p, "wrong size", (int)st.size);
  } else {
    int n = read(fd, got, sizeof(got));
    fill(id, len);
    if (n != (int)st.size)
      bad(p, "read returned", n);
    else if (memcmp(got, buf, n) != 0)
      bad(p, "wrong contents; step", id);
  }
  close(fd);
  return 1;
}

static int checker(int seed)
{
  generate(seed);
  int j = open("cr/journal", O_RDONLY);
  if (j < 0) {
    printf("crashfs: BAD cr/journal missing\n");
    return 1;
  }
  int k = read(j, got, sizeof(got));
  close(j);
  for (int i = 0; i < k; i++)
    if (got[i] != 'j')
      bad("cr/journal", "bad byte at", i);
  if (k < 0 || k > NSTEP) {
    bad("cr/journal", "bad length", k);
    return 1;
  }
  for (int i = 0; i < k; i++)
    apply(i);
  struct step *fly = k < NSTEP ? &steps[k] : 0;   // the step that was cut
  printf("crashfs: journal says %d steps done; step %d (%s) was in flight\n",
         k, k, fly ? opname[fly->op] : "none");

  for (int d = 0; d < NDIR; d++) {
    char p[16];
    struct stat st;
    dir_path(d, p);
    int there = stat(p, &st) == 0;
    int want = d < k;
    if (there && st.type != T_DIR)
      bad(p, "not a directory", st.type);
    if (there != want && !(fly && fly->op == OP_MKDIR && fly->a == d))
      bad(p, want ? "directory missing" : "directory exists too early", d);
  }
  for (int s = 0; s < NSLOT; s++) {
    uint ino = 0;
    int nlink = 0;
    int touched = fly && (fly->a == s || fly->b == s) && fly->op != OP_MKDIR;
    if (!touched) {
      if (check_file(s, id_of[s], len_of[s], 0, &ino, &nlink) && nlink != 1)
        bad("slot", "nlink should be 1", nlink);
      continue;
    }
    char p[16];
    slot_path(s, p);
    if (fly->op == OP_CREATE || fly->op == OP_BIG) {
      check_file(s, k, fly->len, MAY_ABSENT | MAY_EMPTY | (fly->op == OP_BIG ? MAY_PREFIX : 0),
                 &ino, &nlink);
    } else if (fly->op == OP_UNLINK) {
      check_file(s, id_of[s], len_of[s], MAY_ABSENT, &ino, &nlink);
    } else if (s == fly->a) {       // rename a -> b: look at both names at once
      uint ino_b = 0;
      int nlink_b = 0;
      int id = id_of[fly->a], len = len_of[fly->a];
      int has_a = check_file(fly->a, id, len, MAY_ABSENT, &ino, &nlink);
      int has_b = check_file(fly->b, id, len, MAY_ABSENT, &ino_b, &nlink_b);
      if (!has_a && !has_b)
        bad(p, "rename lost both names of step", id);
      if (has_a && has_b && (ino != ino_b || nlink != 2))
        bad(p, "both names but not one inode with nlink 2", nlink);
      if (has_a != has_b && (has_a ? nlink : nlink_b) != 1)
        bad(p, "one name but nlink", has_a ? nlink : nlink_b);
    }
  }
  if (problems)
    printf("crashfs: check FAILED: %d problem(s), k=%d\n", problems, k);
  else
    printf("crashfs: check OK, k=%d\n", k);
  return problems != 0;
}

int main(int argc, char **argv)
{
  if (argc == 4 && argv[1][0] == 'w')
    return writer(atoi(argv[2]), atoi(argv[3]));
  if (argc == 3 && argv[1][0] == 'c')
    return checker(atoi(argv[2]));
  fprintf(2, "usage: crashfs w SEED N | crashfs c SEED\n");
  return 2;
}

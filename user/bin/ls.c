// ls: lists directories (one line per entry: name, type, inode, size) and
// describes named files the same way.
#include "user/user.h"

#include "uapi/fs.h"      // struct dirent, DIRSIZ

static void print_entry(const char *name, const struct stat *st)
{
  printf("%-14s %d %d %lu\n", name, st->type, st->ino, (unsigned long)st->size);
}

// Returns "dir/name" in buf, or 0 when it does not fit.
static char *join_path(char *buf, int max, const char *dir, const char *name)
{
  int dlen = strlen(dir);
  if (dlen + 1 + DIRSIZ + 1 > max)
    return 0;
  strcpy(buf, dir);
  buf[dlen] = '/';
  memmove(buf + dlen + 1, name, DIRSIZ);
  buf[dlen + 1 + DIRSIZ] = 0;
  return buf;
}

static void list_directory(int fd, const char *dir)
{
  struct dirent de;
  char path[512];
  while (read(fd, &de, sizeof(de)) == sizeof(de)) {
    if (de.inum == 0)
      continue;
    if (join_path(path, sizeof(path), dir, de.name) == 0) {
      fprintf(2, "ls: path too long\n");
      return;
    }
    struct stat st;
    if (stat(path, &st) < 0) {
      fprintf(2, "ls: cannot stat %s\n", path);
      continue;
    }
    char name[DIRSIZ + 1];
    memmove(name, de.name, DIRSIZ);
    name[DIRSIZ] = 0;
    print_entry(name, &st);
  }
}

static int list(const char *path)
{
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    fprintf(2, "ls: cannot open %s\n", path);
    return 1;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    fprintf(2, "ls: cannot stat %s\n", path);
    close(fd);
    return 1;
  }
  if (st.type == T_DIR)
    list_directory(fd, path);
  else
    print_entry(path, &st);
  close(fd);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 2)
    return list(".");
  int status = 0;
  for (int i = 1; i < argc; i++)
    status |= list(argv[i]);
  return status;
}

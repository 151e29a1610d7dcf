// The test-program runner declared in user/testsuite.h.
#include "user/user.h"
#include "user/testsuite.h"
#include "uapi/kdebug.h"

const char *test_current = "?";

static int run_one(const struct test *t)
{
  test_current = t->name;
  int pid = fork();
  if (pid == 0) {
    t->fn();
    exit(0);
  }
  int st = -1;
  wait(&st);
  printf("test %s: %s\n", t->name, st == 0 ? "OK" : "FAILED");
  return st == 0;
}

static int wanted(const char *name, int argc, char *argv[])
{
  if (argc < 2)
    return 1;
  for (int j = 1; j < argc; j++)
    if (strcmp(argv[j], name) == 0)
      return 1;
  return 0;
}

int test_suite_run(int argc, char *argv[], const struct test *tests, int n)
{
  int failed = 0;
  for (int i = 0; i < n; i++)
    if (wanted(tests[i].name, argc, argv) && !run_one(&tests[i]))
      failed = 1;
  printf(failed ? "SOME TESTS FAILED\n" : "ALL TESTS PASSED\n");
  return failed;
}

void test_kernel_settle(int *pages, int *threads)
{
  int last_p = -1, last_t = -1, same = 0;
  for (int i = 0; i < 200 && same < 3; i++) {
    sleep(2);
    int pg = kdebug(KD_FREE_PAGES, 0) + kdebug(KD_CACHED_PAGES, 0);
    int th = kdebug(KD_LIVE_THREADS, 0);
    same = pg == last_p && th == last_t ? same + 1 : 0;
    last_p = pg;
    last_t = th;
  }
  *pages = last_p;
  *threads = last_t;
}

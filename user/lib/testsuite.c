// The test-program runner declared in user/testsuite.h.
#include "user/user.h"
#include "user/testsuite.h"

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

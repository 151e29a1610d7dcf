// A tiny runner for test programs that follow the usertests convention:
// each test runs in a forked child (exit 0 = passed), prints
// "test NAME: OK|FAILED", and the run ends with ALL TESTS PASSED or SOME
// TESTS FAILED. `prog NAME...` runs only the named tests.
#pragma once

struct test {
  const char *name;
  void (*fn)(void);
};

extern const char *test_current;   // name of the test running in this process

// Runs the tests argv selects (all when none); returns 0 if all passed.
int test_suite_run(int argc, char *argv[], const struct test *tests, int n);

// What a leak check compares: free pages (counting the pages a kernel cache
// would give back) and live kernel threads, read once they have stopped
// moving (the reaper and init finish their work in the background).
void test_kernel_settle(int *pages, int *threads);

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

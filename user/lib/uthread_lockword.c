// The lock word of struct umutex, and the library's test hooks. Owns only
// m->locked's two transitions (taken, released) and ult_test_hook; what a
// thread does when it finds the word held (spin, block, wake) is the
// mutex's, in user/lib/uthread_mutex.c (lab adaptive). Kept apart so the
// tests of lab adaptive can hold a thread at these points whatever the
// mutex around them does (labs/adaptive/tests/adaptest.c).
#include "user/user.h"
#include "user/uthread.h"
#include "user/lib/uthread_impl.h"

void (*ult_test_hook)(int event, void *obj, int tid);

// Reads before it swaps, so waiters that keep looking do not keep stealing
// the cache line from the owner.
int ult_lock_try(struct umutex *m)
{
  if (__atomic_load_n(&m->locked, __ATOMIC_RELAXED) == 0 &&
      __atomic_exchange_n(&m->locked, 1, __ATOMIC_ACQUIRE) == 0)
    return 1;
  if (ult_test_hook)
    ult_test_hook(ULT_HOOK_TAKE_FAILED, m, ult_self());
  return 0;
}

void ult_lock_release(struct umutex *m)
{
  if (ult_test_hook)
    ult_test_hook(ULT_HOOK_RELEASE, m, ult_self());
  __atomic_store_n(&m->locked, 0, __ATOMIC_RELEASE);
  if (ult_test_hook)
    ult_test_hook(ULT_HOOK_RELEASED, m, ult_self());
}

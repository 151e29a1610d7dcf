// uthread mutexes: a lock word taken by an atomic swap, and a wait list for
// the threads that block. What a thread does when it finds the mutex held is
// the mutex's mode: ADAPTIVE (after Solaris: spin while the owner runs on a
// CPU, block otherwise), BLOCK or SPIN. Owns struct umutex and its counters;
// threads, LWPs and the run queue are user/lib/uthread.c's, reached only
// through user/lib/uthread_impl.h. The design: docs/adaptive.md.
//
// Unlock releases the lock word and wakes every blocked waiter; it does not
// hand the mutex to the first one (which would make a spinner wait behind a
// thread that is not even running). A woken waiter competes again.
//
// No wake-up is lost: a waiter sets m->waiters, then re-reads the lock word,
// then blocks; unlock clears the lock word, then reads m->waiters. With a
// full fence between each pair, at least one of the two sees the other's
// store: the waiter takes the mutex, or unlock wakes it (the guard makes
// unlock wait until the waiter is fully off its stack and on the list).
#include "user/user.h"
#include "user/uthread.h"
#include "user/lib/uthread_impl.h"

#define SPIN_MAX          1000   // adaptive: re-checks before blocking anyway
#define BACKOFF_MAX       64     // longest pause between two looks at the lock word
#define SPIN_YIELD_EVERY  32     // SPIN mode: let other threads of this LWP run this often

// ---- the lock word --------------------------------------------------------------
// Takes the mutex if it is free; 1 if the caller owns it now. Reads before it
// swaps, so waiters do not keep stealing the cache line from the owner.
static int try_take(struct umutex *m)
{
  return __atomic_load_n(&m->locked, __ATOMIC_RELAXED) == 0 &&
         __atomic_exchange_n(&m->locked, 1, __ATOMIC_ACQUIRE) == 0;
}

// Waits a little before the next look: twice as long each time, up to
// BACKOFF_MAX, so that spinners leave the owner's cache line alone.
static void backoff(int *delay)
{
  for (int i = 0; i < *delay; i++)
    asm volatile("nop");
  if (*delay < BACKOFF_MAX)
    *delay *= 2;
}

// ---- spin or block: the adaptive decision ------------------------------------------
// Is the owner the thread its LWP runs now, and is that LWP on a CPU (SC_ONPROC
// in the schedctl entry the kernel keeps for it)? Only then will the owner let
// go soon. The answer is a hint: it may change right after it is read.
static int owner_running(struct umutex *m)
{
  // LAB adaptive BEGIN
  int owner = __atomic_load_n(&m->owner, __ATOMIC_RELAXED);
  struct ult_lwp *l = ult_lwp_of(owner);       // 0 for NO_TID: being released
  if (l == 0 || ult_lwp_current(l) != owner)
    return 0;                                   // blocked, or waiting on the run queue
  struct schedctl *sc = ult_lwp_schedctl(l);
  return sc != 0 && sc->sc_state == SC_ONPROC;  // off CPU: asleep in the kernel, preempted
  // STUB
  //| return 0;   // lab adaptive: find the owner's LWP and read its schedctl entry
  // LAB adaptive END
}

// ADAPTIVE: spins (bounded, with backoff) while the mutex is held and its
// owner runs. 1 if the caller took the mutex; 0 if it should block.
// *loops counts the re-checks of the held mutex.
static int spin_while_owner_runs(struct umutex *m, uint64 *loops)
{
  // LAB adaptive BEGIN
  int delay = 1;
  for (int n = 0; n < SPIN_MAX; n++) {
    if (try_take(m))
      return 1;
    if (!owner_running(m))
      return 0;
    (*loops)++;
    backoff(&delay);
  }
  return try_take(m);
  // STUB
  //| return 0;   // lab adaptive: spin while owner_running(m), a bounded number of times
  // LAB adaptive END
}

// SPIN: never blocks. Yields now and then, so that an owner waiting for this
// LWP (on the run queue behind us) gets to run and release the mutex.
static void spin_until_taken(struct umutex *m, uint64 *loops)
{
  int delay = 1;
  while (!try_take(m)) {
    (*loops)++;
    backoff(&delay);
    if (*loops % SPIN_YIELD_EVERY == 0)
      uthread_yield();
  }
}

enum { TOOK, BLOCKED, RETRY };

// Announces the caller as a waiter, then looks again before it blocks: the
// lock word (closing the race with unlock, see the top of the file) and, for
// ADAPTIVE, the owner, which may have got back onto a CPU since the spin
// phase gave up (then blocking would cost a sleep and a wake-up for a mutex
// about to be free). Returns TOOK, BLOCKED (woken since) or RETRY.
static int block_or_take(struct umutex *m, int self, int mode)
{
  ult_spin_lock(&m->guard);
  __atomic_store_n(&m->waiters, 1, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (try_take(m)) {
    ult_spin_unlock(&m->guard);
    return TOOK;
  }
  if (mode == UMUTEX_ADAPTIVE && owner_running(m)) {
    ult_spin_unlock(&m->guard);
    return RETRY;
  }
  ult_wait_append(&m->wait_head, &m->wait_tail, self);
  ult_block_releasing(&m->guard);      // unlock wakes us; then compete again
  return BLOCKED;
}

// Bookkeeping of one acquisition, by the new owner (so no atomics needed).
static void took(struct umutex *m, int self, int mode, int held, int blocked, uint64 loops)
{
  m->owner = self;
  m->stats.acquired++;
  if (blocked)
    m->stats.blocked++;
  else if (held && mode != UMUTEX_BLOCK)
    m->stats.spun++;
  m->stats.spin_loops += loops;
}

static void lock_held(struct umutex *m, int self)
{
  int mode = m->mode, blocked = 0;
  uint64 loops = 0;
  for (;;) {
    if (mode == UMUTEX_SPIN) {
      spin_until_taken(m, &loops);
      break;
    }
    if (mode == UMUTEX_ADAPTIVE && spin_while_owner_runs(m, &loops))
      break;
    int r = block_or_take(m, self, mode);
    if (r == TOOK)
      break;
    if (r == BLOCKED)
      blocked = 1;
  }
  took(m, self, mode, 1, blocked, loops);
}

// ---- the interface ----------------------------------------------------------------
void umutex_init(struct umutex *m)
{
  memset(m, 0, sizeof *m);
  m->owner = NO_TID;
  m->wait_head = m->wait_tail = NO_TID;
  m->mode = UMUTEX_ADAPTIVE;
}

int umutex_setmode(struct umutex *m, int mode)
{
  if (m == 0 || (mode != UMUTEX_ADAPTIVE && mode != UMUTEX_BLOCK && mode != UMUTEX_SPIN))
    return -1;
  m->mode = mode;
  return 0;
}

int umutex_stats(struct umutex *m, struct umutex_stats *out)
{
  if (m == 0 || out == 0)
    return -1;
  *out = m->stats;
  return 0;
}

void umutex_lock(struct umutex *m)
{
  int was = ult_lib_enter();
  int self = ult_self();
  if (try_take(m))
    took(m, self, m->mode, 0, 0, 0);
  else
    lock_held(m, self);
  ult_lib_leave(was);
}

int umutex_trylock(struct umutex *m)
{
  int was = ult_lib_enter();
  int got = try_take(m);
  if (got)
    took(m, ult_self(), m->mode, 0, 0, 0);
  ult_lib_leave(was);
  return got ? 0 : -1;
}

// Wakes every blocked waiter; those that lose the race for the mutex
// announce themselves again and block again.
static void wake_all(struct umutex *m)
{
  ult_spin_lock(&m->guard);
  int head = m->wait_head, tail = m->wait_tail;
  m->wait_head = m->wait_tail = NO_TID;
  __atomic_store_n(&m->waiters, 0, __ATOMIC_RELAXED);
  ult_spin_unlock(&m->guard);
  for (int tid; (tid = ult_wait_take(&head, &tail)) != NO_TID; )
    ult_wake(tid);
}

void umutex_unlock(struct umutex *m)
{
  int was = ult_lib_enter();
  m->owner = NO_TID;
  __atomic_store_n(&m->locked, 0, __ATOMIC_RELEASE);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (__atomic_load_n(&m->waiters, __ATOMIC_RELAXED))
    wake_all(m);
  ult_lib_leave(was);
}

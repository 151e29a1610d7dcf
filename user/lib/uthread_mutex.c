// uthread mutexes (lab adaptive): what a thread does when it finds a mutex
// held, and what unlock does for the threads that wait. The mode of the
// mutex says how to wait: ADAPTIVE (after Solaris: spin while the owner runs
// on a CPU, block otherwise), BLOCK or SPIN. Owns the fields of struct
// umutex except the lock word, which it changes only through
// ult_lock_try/ult_lock_release; threads, LWPs, wait lists and the run queue
// are the library core's, reached only through user/lib/uthread_impl.h.
// The handout: labs/adaptive/README.md; the design: docs/adaptive.md.
#include "user/user.h"
#include "user/uthread.h"
#include "user/lib/uthread_impl.h"

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

// LAB adaptive BEGIN
// The protocol.
//
// No lost wake-up: a waiter announces itself (m->waiters = 1), then looks
// at the lock word again, then blocks; unlock releases the lock word, then
// reads m->waiters. With a full fence between each pair, at least one of the
// two sees the other's store: the waiter takes the mutex, or unlock wakes
// it. The waiter holds the wait list's guard from its announcement until it
// is off its stack (ult_block_releasing), so unlock, which takes the guard
// to empty the list, cannot wake it before it has blocked.
//
// No convoy: unlock releases the lock word and wakes every blocked waiter;
// it never hands the mutex to one. Whoever runs first takes it (a spinner,
// the old owner coming back, a woken waiter); a woken waiter that loses
// announces itself again. A hand-off would make every running thread wait
// until a woken one has been scheduled.
//
// ADAPTIVE spins only while the owner runs: while the owner is the thread
// its LWP runs now and that LWP is on a CPU (its schedctl entry). That look
// is a hint (the owner may stop running right after), so spinning is
// bounded: at most SPIN_MAX looks find the owner running, in all for one
// acquisition. A waiter that has announced itself looks at the owner again
// before it blocks (it may have got back onto a CPU meanwhile) and spins
// again while fewer looks were spent. A look that finds the owner off its
// CPU is not counted: an owner that keeps leaving its CPU and coming back
// keeps a waiter going between the two for as long as it holds the mutex.
#define SPIN_MAX          100    // adaptive: looks at a held mutex, in all, before blocking
#define BACKOFF_MAX       64     // longest pause between two looks at the lock word
#define SPIN_YIELD_EVERY  32     // SPIN: let the other threads of this LWP run this often

// A pause twice as long each time, up to BACKOFF_MAX, so that spinners
// leave the owner's cache line alone.
static void backoff(int *delay)
{
  for (volatile int i = 0; i < *delay; i++)
    ;
  if (*delay < BACKOFF_MAX)
    *delay *= 2;
}

static int owner_running(struct umutex *m)
{
  int owner = __atomic_load_n(&m->owner, __ATOMIC_RELAXED);   // changes under us
  struct ult_lwp *l = ult_lwp_of(owner);        // 0 for NO_TID: being released
  if (l == 0 || ult_lwp_current(l) != owner)
    return 0;                                   // blocked, or waiting on the run queue
  struct schedctl *sc = ult_lwp_schedctl(l);
  return sc != 0 && sc->sc_state == SC_ONPROC;  // off CPU: asleep in the kernel, preempted
}

// ADAPTIVE: 1 if the caller took the mutex while its owner ran; 0 if it
// should block. *loops counts the looks at the held mutex.
static int spin_while_owner_runs(struct umutex *m, uint64 *loops)
{
  int delay = 1;
  for (; *loops < SPIN_MAX; (*loops)++) {
    if (ult_lock_try(m))
      return 1;
    if (!owner_running(m))
      return 0;
    backoff(&delay);
  }
  return ult_lock_try(m);
}

// SPIN: never blocks; yields now and then, so that an owner waiting on the
// run queue behind the spinner gets its LWP back.
static void spin_until_taken(struct umutex *m, uint64 *loops)
{
  int delay = 1;
  while (!ult_lock_try(m)) {
    (*loops)++;
    backoff(&delay);
    if (*loops % SPIN_YIELD_EVERY == 0)
      uthread_yield();
  }
}

enum { TOOK, BLOCKED, RETRY };

// Announces the caller, looks again (the lock word, then for ADAPTIVE the
// owner), and blocks only if both still say so.
static int block_or_take(struct umutex *m, int self, int mode, uint64 loops)
{
  ult_spin_lock(&m->guard);
  __atomic_store_n(&m->waiters, 1, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (ult_lock_try(m)) {
    ult_spin_unlock(&m->guard);
    return TOOK;
  }
  if (mode == UMUTEX_ADAPTIVE && loops < SPIN_MAX && owner_running(m)) {
    ult_spin_unlock(&m->guard);
    return RETRY;
  }
  ult_wait_append(&m->wait_head, &m->wait_tail, self);
  ult_block_releasing(&m->guard);
  return BLOCKED;
}

// The new owner's bookkeeping (under the mutex: no atomics needed).
static void took(struct umutex *m, int self, int held, int blocked, uint64 loops)
{
  m->owner = self;
  m->stats.acquired++;
  if (blocked)
    m->stats.blocked++;
  else if (held)
    m->stats.spun++;
  m->stats.spin_loops += loops;
}

void umutex_lock(struct umutex *m)
{
  int was = ult_lib_enter();
  int self = ult_self(), mode = m->mode, held = 0, blocked = 0;
  uint64 loops = 0;
  while (!ult_lock_try(m)) {
    held = 1;
    if (mode == UMUTEX_SPIN) {
      spin_until_taken(m, &loops);
      break;
    }
    if (mode == UMUTEX_ADAPTIVE && spin_while_owner_runs(m, &loops))
      break;
    int r = block_or_take(m, self, mode, loops);
    if (r == TOOK)
      break;
    blocked |= r == BLOCKED;
  }
  took(m, self, held, blocked, loops);
  ult_lib_leave(was);
}

int umutex_trylock(struct umutex *m)
{
  int was = ult_lib_enter();
  int got = ult_lock_try(m);
  if (got)
    took(m, ult_self(), 0, 0, 0);
  ult_lib_leave(was);
  return got ? 0 : -1;
}

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
  ult_lock_release(m);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (__atomic_load_n(&m->waiters, __ATOMIC_RELAXED))
    wake_all(m);
  ult_lib_leave(was);
}
// STUB
//| // Your mutex (labs/adaptive/README.md, Parts 1 and 2). Write here, above
//| // the code, the theory of your waiter protocol: why no wake-up is lost.
//| //
//| // Until then a placeholder keeps the library and the earlier labs' tests
//| // working: a correct lock that only spins and yields. It never blocks,
//| // never looks at the owner, counts nothing and has no modes.
//|
//| void umutex_lock(struct umutex *m)
//| {
//|   while (!ult_lock_try(m))
//|     uthread_yield();
//| }
//|
//| int umutex_trylock(struct umutex *m)
//| {
//|   return ult_lock_try(m) ? 0 : -1;
//| }
//|
//| void umutex_unlock(struct umutex *m)
//| {
//|   ult_lock_release(m);
//| }
// LAB adaptive END

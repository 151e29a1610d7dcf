// Thread stacks and thread slots: red-zoned stacks, the slot a new thread
// takes, and the death row that keeps retired slots with their stacks for
// reuse (the stack cache, bounded in bytes, emptied by malloc when the heap
// cannot grow). Owns ult_next_tid, the death row and cached_bytes, all under
// ult_table_lock. Does not touch a thread's state beyond NEW and DEAD: the
// thread calls (user/lib/uthread.c) own its life.
#include "user/lib/uthread_core.h"

#define STACK_CACHE_BYTES (16 << 20)   // stack memory kept on the death row (glibc: 40 MiB)

int ult_next_tid;
static int death_row_head = NO_TID;
static uint64 cached_bytes;        // stack memory held by the death row

// ---- stacks with red zones ----------------------------------------------------------
static int stack_alloc(struct ult *t, int size)
{
  char *mem = malloc(size + 2 * PAGE);
  if (mem == 0)
    return 0;
  uint64 red = ((uint64)mem + PAGE - 1) & ~(uint64)(PAGE - 1);
  if (mprotect((void *)red, PAGE, PROT_NONE) < 0) {
    free(mem);
    return 0;
  }
  t->stack_mem = mem;
  t->red_lo = red;
  t->stack_lo = red + PAGE;
  t->stack_hi = t->stack_lo + size;
  t->stack_size = size;
  return 1;
}

static void stack_release(char *mem, uint64 red_lo)
{
  mprotect((void *)red_lo, PAGE, PROT_READ | PROT_WRITE);
  free(mem);
}

// The heap memory a stack of t's holds: the stack, its red zone and the
// page lost to alignment.
static uint64 stack_bytes(struct ult *t)
{
  return t->stack_size + 2 * PAGE;
}

// Gives t a stack of `size` bytes, reusing the cached one when it fits.
int ult_stack_ensure(struct ult *t, int size)
{
  if (t->stack_mem && t->stack_size == size)
    return 1;
  if (t->stack_mem)
    stack_release(t->stack_mem, t->red_lo);
  t->stack_mem = 0;
  return stack_alloc(t, size);
}

void ult_announce_stack(struct ult *t)
{
  printf("uthread: tid %d stack [%p,%p) red zone [%p,%p)\n", t->tid,
         (void *)t->stack_lo, (void *)t->stack_hi, (void *)t->red_lo, (void *)(t->red_lo + PAGE));
}

// ---- thread slots and the death row -------------------------------------------------
// A slot for a new thread: a retired one from the death row first.
struct ult *ult_slot_take(void)
{
  struct ult *t = 0;
  spin_lock(&ult_table_lock);
  if (death_row_head != NO_TID) {
    t = &ult_threads[death_row_head];
    death_row_head = t->next;
    if (t->stack_mem)
      cached_bytes -= stack_bytes(t);
  } else if (ult_next_tid < UTHREAD_MAX) {
    t = &ult_threads[ult_next_tid];
    t->tid = ult_next_tid++;
  }
  if (t)
    t->state = ULT_NEW;
  spin_unlock(&ult_table_lock);
  return t;
}

// Retires t (joined, or never started) to the death row; keeps its stack
// while the cached stacks stay within STACK_CACHE_BYTES, frees it otherwise.
// The bound is in bytes, not stacks, and large (a thousand default stacks),
// so that retiring a thread costs the same with 2 threads or 1,000: freeing
// a stack is a system call (the red zone) and a free. The memory is not
// lost to the rest of the program: malloc empties the cache when the heap
// cannot grow (ult_stack_cache_drain).
void ult_death_row_put(struct ult *t)
{
  char *drop = 0;
  uint64 drop_red = 0;
  spin_lock(&ult_table_lock);
  t->state = ULT_DEAD;
  if (t->stack_mem && cached_bytes + stack_bytes(t) > STACK_CACHE_BYTES) {
    drop = t->stack_mem;
    drop_red = t->red_lo;
    t->stack_mem = 0;
  } else if (t->stack_mem) {
    cached_bytes += stack_bytes(t);
  }
  t->next = death_row_head;
  death_row_head = t->tid;
  spin_unlock(&ult_table_lock);
  if (drop)
    stack_release(drop, drop_red);
}

// A cached stack waiting to be freed by ult_stack_cache_drain, written at the
// bottom of its own usable stack.
struct stack_to_free {
  char *mem;
  uint64 red_lo;
  struct stack_to_free *next;
};

// malloc's reclaim hook: frees every stack the death row keeps. Slots keep
// their place on the row, without a stack; ult_slot_take's caller allocates one.
void ult_stack_cache_drain(void)
{
  struct stack_to_free *list = 0;
  spin_lock(&ult_table_lock);
  for (int tid = death_row_head; tid != NO_TID; tid = ult_threads[tid].next) {
    struct ult *t = &ult_threads[tid];
    if (t->stack_mem == 0)
      continue;
    struct stack_to_free *f = (struct stack_to_free *)t->stack_lo;
    *f = (struct stack_to_free){ t->stack_mem, t->red_lo, list };
    list = f;
    t->stack_mem = 0;
  }
  cached_bytes = 0;
  spin_unlock(&ult_table_lock);
  while (list) {
    struct stack_to_free f = *list;  // the block holding *list is freed next
    stack_release(f.mem, f.red_lo);
    list = f.next;
  }
}

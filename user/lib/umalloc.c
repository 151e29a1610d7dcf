// The user heap: malloc and free over memory obtained with sbrk().
// Free blocks sit on one list sorted by address; malloc takes the first block
// big enough (splitting off its tail), free puts a block back and merges it
// with free neighbours so memory is reused. One lock (heap_lock) makes
// malloc and free safe to call from several LWPs at once (the uthread library).
// It is the uthread library's lock (user/lib/uthread_lock.h): a thread holds
// it inside the library, so no kick takes it off its LWP meanwhile, and a
// waiter's nap is no activation's block.
#include "user/user.h"
#include "user/lib/uthread_lock.h"

static int heap_lock;

// Test hook (0 in every other program): called inside malloc with heap_lock
// held, so that a test can hold the lock while another thread wants it.
void (*malloc_test_hook)(void);

// Every block, free or in use, starts with this header; sizes count headers.
struct block_header {
  struct block_header *next;   // next free block (free blocks only)
  uint64 units;                // size of the block in header-sized units
};

#define UNIT            sizeof(struct block_header)
#define MIN_GROW_UNITS  4096   // ask sbrk for at least 64 KiB at a time

// Circular list through every free block plus this zero-size anchor.
static struct block_header anchor = { &anchor, 0 };

static uint64 units_for(uint nbytes)
{
  return (nbytes + UNIT - 1) / UNIT + 1;
}

// Inserts b into the sorted free list and merges it with adjacent blocks.
static void insert_free_block(struct block_header *b)
{
  struct block_header *prev = &anchor;
  while (prev->next != &anchor && prev->next < b)
    prev = prev->next;
  struct block_header *next = prev->next;

  if (next != &anchor && b + b->units == next) {
    b->units += next->units;
    b->next = next->next;
  } else {
    b->next = next;
  }
  if (prev != &anchor && prev + prev->units == b) {
    prev->units += b->units;
    prev->next = b->next;
  } else {
    prev->next = b;
  }
}

// Gets at least `units` more units from the kernel; 0 if it has none.
static int grow_heap(uint64 units)
{
  if (units < MIN_GROW_UNITS)
    units = MIN_GROW_UNITS;
  uint64 bytes = units * UNIT + UNIT;   // one spare unit to align the start
  if (bytes > 0x7fffffff)
    return 0;
  char *mem = sbrk((int)bytes);
  if (mem == (char *)-1)
    return 0;
  // someone may have moved the break by an odd amount: align to UNIT
  // The block runs to the new break, so that it touches the next one sbrk
  // gives and the two merge.
  uint64 start = ((uint64)mem + UNIT - 1) & ~(uint64)(UNIT - 1);
  struct block_header *b = (struct block_header *)start;
  b->units = ((uint64)mem + bytes - start) / UNIT;
  insert_free_block(b);
  return 1;
}

// First fit: a block of at least `units` taken off the free list, or 0.
// It hands out the head of a larger block and keeps the tail free: the tail
// of the highest block touches the break, so what the heap grows by next
// merges with it. (Handing out tails left the head of every sbrk'd chunk
// behind, too small for the next request, and every malloc and free walked
// past all of them: a thread library's stacks made that grow with the
// number of threads, docs/perf.md "How costs grow".)
static struct block_header *take_first_fit(uint64 units)
{
  for (struct block_header *prev = &anchor; prev->next != &anchor; prev = prev->next) {
    struct block_header *b = prev->next;
    if (b->units < units)
      continue;
    if (b->units == units) {
      prev->next = b->next;
      return b;
    }
    struct block_header *tail = b + units;
    tail->units = b->units - units;
    tail->next = b->next;
    prev->next = tail;
    b->units = units;
    return b;
  }
  return 0;
}

static void *malloc_locked(uint nbytes)
{
  uint64 units = units_for(nbytes);
  struct block_header *b = take_first_fit(units);
  if (b == 0) {
    if (!grow_heap(units))
      return 0;
    b = take_first_fit(units);
    if (b == 0)
      return 0;
  }
  b->next = 0;
  return b + 1;
}

// Called when the heap cannot grow: a cache (the thread library's stacks)
// gives its memory back, and malloc tries once more.
static void (*reclaim_hook)(void);

void malloc_set_reclaim(void (*fn)(void))
{
  reclaim_hook = fn;
}

static void *malloc_once(uint nbytes)
{
  int was = ulock_acquire(&heap_lock);
  if (malloc_test_hook)
    malloc_test_hook();
  void *p = malloc_locked(nbytes);
  ulock_release(&heap_lock, was);
  return p;
}

void *malloc(uint nbytes)
{
  void *p = malloc_once(nbytes);
  if (p == 0 && reclaim_hook) {
    reclaim_hook();                // frees, so outside heap_lock
    p = malloc_once(nbytes);
  }
  return p;
}

void free(void *p)
{
  if (p == 0)
    return;
  int was = ulock_acquire(&heap_lock);
  insert_free_block((struct block_header *)p - 1);
  ulock_release(&heap_lock, was);
}

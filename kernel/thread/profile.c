// The sampling profiler. While on, every hart's timer also fires at random
// gaps of prof_interval units of the time CSR on average (clock.c sets it
// for the earlier of the next tick and the next sample); a sample is the PC
// it interrupted: a kernel address, or a user address with the pid and the
// name of its program. Under -icount shift=0 the time CSR counts guest
// instructions, so the samples fall evenly over the instructions executed
// and a PC's share of them is its share of the instructions. The sampling
// code itself runs with interrupts off and is never sampled.
//
// One buffer for all harts: a sample's slot is claimed with one atomic add,
// so harts never wait for each other here. Owns nothing else.
#include "thread/profile.h"
#include "thread/cpu.h"
#include "thread/clock.h"
#include "thread/lwp.h"
#include "proc/proc.h"
#include "vm/vm.h"
#include "lib/string.h"
#include "uapi/profile.h"

#define PROF_SAMPLES 32768
#define PROF_NAMES_MAX 64

volatile uint64 prof_interval;
static struct prof_sample samples[PROF_SAMPLES];
static volatile uint32 nsamples;
static struct prof_name names[PROF_NAMES_MAX];
static volatile uint32 nnames;

// Remember pid's program name the first time it is sampled. Two harts may
// both add the same pid: harmless, the reader takes the first.
static void note_name(struct proc *p)
{
  uint32 n = nnames < PROF_NAMES_MAX ? nnames : PROF_NAMES_MAX;
  for (uint32 i = 0; i < n; i++)
    if (names[i].pid == p->pid)
      return;
  uint32 i = __sync_fetch_and_add(&nnames, 1);
  if (i >= PROF_NAMES_MAX)
    return;
  names[i].pid = p->pid;
  safestrcpy(names[i].name, p->name, sizeof(names[i].name));
}

// The gap to a hart's next sample: prof_interval on average, drawn evenly
// from [interval/2, 3*interval/2) so the samples cannot fall into step with
// a loop whose length divides the interval (a fixed gap did: one PC of a
// ping-pong collected all the samples of its phase).
uint64 profile_next_gap(struct cpu *c)
{
  uint64 interval = prof_interval;
  c->prof_seed = c->prof_seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return interval / 2 + (c->prof_seed >> 33) % (interval ? interval : 1);
}

void profile_sample(uint64 pc, int user, int late)
{
  struct lwp *l = mycpu()->cur->lwp;
  struct proc *p = l ? l->proc : 0;
  uint32 i = __sync_fetch_and_add(&nsamples, 1);
  if (i >= PROF_SAMPLES)
    return;
  samples[i] = (struct prof_sample){ pc, p ? p->pid : 0, cpuid(), user && p, late };
  if (user && p)
    note_name(p);
}

static int copy_out(uint64 uaddr, void *src, int n, int size, uint32 have)
{
  if (n < 0)
    return -1;
  if (have < (uint32)n)
    n = have;
  if (copyout(curproc()->pagetable, uaddr, src, (uint64)n * size) < 0)
    return -1;
  return n;
}

int profile_control(int cmd, uint64 uaddr, int n)
{
  switch (cmd) {
  case PROF_START:
    if (n <= 0)
      return -1;
    prof_interval = 0;
    nsamples = 0;
    nnames = 0;
    __sync_synchronize();
    prof_interval = n;
    clock_profile_started();
    return 0;
  case PROF_STOP:
    prof_interval = 0;
    return 0;
  case PROF_READ:
    return copy_out(uaddr, samples, n, sizeof(samples[0]),
                    nsamples < PROF_SAMPLES ? nsamples : PROF_SAMPLES);
  case PROF_NAMES:
    return copy_out(uaddr, names, n, sizeof(names[0]),
                    nnames < PROF_NAMES_MAX ? nnames : PROF_NAMES_MAX);
  case PROF_LOST:
    return nsamples > PROF_SAMPLES ? nsamples - PROF_SAMPLES : 0;
  }
  return -1;
}

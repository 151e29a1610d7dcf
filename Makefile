# Spindle: build, run, test. `make qemu` and `make test` are the two commands
# a newcomer needs; both install missing tools first (see `make deps`).

CPUS     ?= 3
MEM      ?= 128M
.DEFAULT_GOAL := all
# A recipe that fails leaves no half-written target behind (a partial fs.img
# would otherwise look up to date to the next make).
.DELETE_ON_ERROR:

# NCPU in kernel/param.h: the kernel would ignore harts beyond it, so refuse.
ifeq ($(filter $(CPUS),1 2 3 4 5 6 7 8),)
$(error CPUS=$(CPUS): Spindle runs on 1 to 8 harts (NCPU in kernel/param.h))
endif
BUILD    := build
K        := kernel
U        := user

# --- toolchain --------------------------------------------------------------
TOOLPREFIX ?= $(or $(shell for p in riscv64-unknown-elf- riscv64-linux-gnu-; do \
	if command -v $${p}gcc >/dev/null 2>&1; then echo $$p; break; fi; done),riscv64-unknown-elf-)
CC      = $(TOOLPREFIX)gcc
AS      = $(TOOLPREFIX)gcc
LD      = $(TOOLPREFIX)ld
OBJCOPY = $(TOOLPREFIX)objcopy
OBJDUMP = $(TOOLPREFIX)objdump
NM      = $(TOOLPREFIX)nm
QEMU    = qemu-system-riscv64
HOSTCC  = cc

# Options a lab or test may flip on the command line.
KCFLAGS ?=
CFLAGS  = -Wall -Werror -O2 -g -fno-omit-frame-pointer -ggdb -std=gnu11
CFLAGS += -mcmodel=medany -march=rv64gc -mabi=lp64d -ffreestanding -fno-common -nostdlib
CFLAGS += -fno-builtin-printf -fno-builtin-malloc -fno-stack-protector -fno-pie -no-pie
CFLAGS += -mno-relax -MD $(KCFLAGS)
LDFLAGS = -z max-page-size=4096 --no-warn-rwx-segments
LIBGCC  = $(shell $(CC) $(CFLAGS) -print-libgcc-file-name 2>/dev/null)

# The command line objects were built with (like Linux's .cmd files): every
# object depends on this file, which changes only when the flags do, so
# `make KCFLAGS=-DNO_TRACE` after a plain `make` rebuilds everything.
# Objects also wait for `deps` (order-only), so `make -j` on a fresh machine
# installs the toolchain before the first compile.
BUILDCMD := $(CC) $(CFLAGS) | $(LD) $(LDFLAGS)
$(BUILD)/buildcmd: FORCE
	@mkdir -p $(@D)
	@echo '$(BUILDCMD)' | cmp -s - $@ || echo '$(BUILDCMD)' > $@

# --- kernel -----------------------------------------------------------------
KSRC   := $(wildcard $(K)/arch/*.S $(K)/arch/*.c $(K)/lib/*.c $(K)/vm/*.c $(K)/thread/*.c \
                     $(K)/dev/*.c $(K)/fs/*.c $(K)/proc/*.c $(K)/*.c)
KOBJS  := $(patsubst %,$(BUILD)/%.o,$(basename $(KSRC)))

$(BUILD)/$(K)/%.o: $(K)/%.c $(BUILD)/buildcmd | deps
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -I$(K) -c -o $@ $<
$(BUILD)/$(K)/%.o: $(K)/%.S $(BUILD)/buildcmd | deps
	@mkdir -p $(@D)
	@echo "  AS      $<"
	@$(CC) $(CFLAGS) -I$(K) -c -o $@ $<

# The kernel is linked twice, like Linux's kallsyms: first with an empty
# symbol table, then with the table of the first link's symbols
# (tools/ksyms.py: names for the Ctrl-p dump and panic backtraces). The table
# has a fixed size, so both links place every symbol alike; checked here.
$(BUILD)/ksyms0.S: tools/ksyms.py
	@mkdir -p $(@D)
	@python3 tools/ksyms.py < /dev/null > $@
$(BUILD)/kernel.nosyms: $(KOBJS) $(BUILD)/ksyms0.o $(K)/arch/kernel.ld $(BUILD)/buildcmd | deps
	@$(LD) $(LDFLAGS) -T $(K)/arch/kernel.ld -o $@ $(KOBJS) $(BUILD)/ksyms0.o $(LIBGCC)
$(BUILD)/ksyms.S: $(BUILD)/kernel.nosyms tools/ksyms.py
	@$(NM) -n -S --defined-only $< | python3 tools/ksyms.py > $@
$(BUILD)/ksyms0.o $(BUILD)/ksyms.o: $(BUILD)/%.o: $(BUILD)/%.S $(BUILD)/buildcmd | deps
	@$(CC) $(CFLAGS) -c -o $@ $<
$(K)/kernel: $(BUILD)/kernel.nosyms $(BUILD)/ksyms.o
	$(LD) $(LDFLAGS) -T $(K)/arch/kernel.ld -o $@ $(KOBJS) $(BUILD)/ksyms.o $(LIBGCC)
	@$(NM) -n $< | grep -v ' ksym_names$$' > $(BUILD)/kernel.nosyms.nm
	@$(NM) -n $@ | grep -v ' ksym_names$$' | cmp -s - $(BUILD)/kernel.nosyms.nm || \
	  { echo "kernel: symbols moved between the two links (tools/ksyms.py)"; rm -f $@; exit 1; }

# --- user programs ----------------------------------------------------------
UCFLAGS = $(CFLAGS) -I. -I$(K)
ULIBSRC := $(U)/lib/start.S $(U)/lib/usys.S $(U)/lib/ulib.c $(U)/lib/printf.c $(U)/lib/umalloc.c \
           $(U)/lib/testsuite.c \
           $(wildcard $(U)/lib/uthread*.c $(U)/lib/uthread*.S)
ULIB    := $(patsubst %,$(BUILD)/%.o,$(basename $(ULIBSRC)))
UPROGS  := $(basename $(notdir $(wildcard $(U)/bin/*.c)))
EXTRA_UPROGS ?=
EXTRA_NAMES  := $(basename $(notdir $(EXTRA_UPROGS)))
UBINS   := $(addprefix $(BUILD)/bin/,$(UPROGS) $(EXTRA_NAMES))

$(BUILD)/$(U)/%.o: $(U)/%.c $(BUILD)/buildcmd | deps
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(UCFLAGS) -c -o $@ $<
$(BUILD)/$(U)/%.o: $(U)/%.S $(BUILD)/buildcmd | deps
	@mkdir -p $(@D)
	@echo "  AS      $<"
	@$(CC) $(UCFLAGS) -c -o $@ $<

$(BUILD)/bin/%: $(BUILD)/$(U)/bin/%.o $(ULIB) $(U)/lib/user.ld $(BUILD)/buildcmd
	@mkdir -p $(@D)
	$(LD) $(LDFLAGS) -T $(U)/lib/user.ld -o $@ $< $(ULIB)

# Extra programs from outside the tree (hidden tests): each named after its file.
define extra_prog
$(BUILD)/extra/$(basename $(notdir $(1))).o: $(1) $(BUILD)/buildcmd | deps
	@mkdir -p $$(@D)
	$$(CC) $$(UCFLAGS) -c -o $$@ $$<
$(BUILD)/bin/$(basename $(notdir $(1))): $(BUILD)/extra/$(basename $(notdir $(1))).o $$(ULIB) $(U)/lib/user.ld $(BUILD)/buildcmd
	@mkdir -p $$(@D)
	$$(LD) $$(LDFLAGS) -T $(U)/lib/user.ld -o $$@ $$< $$(ULIB)
endef
$(foreach p,$(EXTRA_UPROGS),$(eval $(call extra_prog,$(p))))

# --- file-system image ------------------------------------------------------
$(BUILD)/mkfs: tools/mkfs.c $(K)/uapi/fs.h $(K)/param.h | deps
	@mkdir -p $(@D)
	$(HOSTCC) -Wall -Werror -O2 -I$(K) -o $@ tools/mkfs.c

# fs.img holds exactly the programs of this command line: the list is
# remembered, so adding EXTRA_UPROGS, or leaving it out after a build that had
# it, rebuilds the image (and says which programs it leaves out). To keep a
# program, name it on every command: make qemu EXTRA_UPROGS=a.c (docs/decisions.md).
$(BUILD)/uprogs.list: FORCE
	@mkdir -p $(@D)
	@echo "$(UBINS)" | cmp -s - $@ || { \
	  for b in $$(cat $@ 2>/dev/null); do case " $(UBINS) " in *" $$b "*) ;; \
	    *) echo "  fs.img: without $${b##*/} (not in EXTRA_UPROGS this time)";; esac; done; \
	  echo "$(UBINS)" > $@; }

# The image gets each program without its debug sections (gdb and the
# profiler read build/bin/, which keeps them): debug information is most of a
# program's file, and a file may not exceed MAXFILE blocks (kernel/uapi/fs.h).
FSBINS  := $(patsubst $(BUILD)/bin/%,$(BUILD)/fsbin/%,$(UBINS))
$(FSBINS): $(BUILD)/fsbin/%: $(BUILD)/bin/%
	@mkdir -p $(@D)
	@$(OBJCOPY) --strip-debug $< $@

fs.img: $(BUILD)/mkfs README.md $(FSBINS) $(BUILD)/uprogs.list
	$(BUILD)/mkfs $@ README.md $(FSBINS)

FORCE:

# --- running ----------------------------------------------------------------
GDBPORT ?= $(shell expr `id -u` % 5000 + 25000)
QEMUOPTS = -machine virt -bios default -kernel $(K)/kernel -m $(MEM) -smp $(CPUS) -nographic
QEMUOPTS += -global virtio-mmio.force-legacy=false
QEMUOPTS += -drive file=fs.img,if=none,format=raw,id=x0
QEMUOPTS += -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0
QEMUEXTRA ?=

all: deps $(K)/kernel fs.img

qemu: all
	$(QEMU) $(QEMUOPTS) $(QEMUEXTRA)

qemu-gdb: all
	@echo $(GDBPORT) > .gdbport
	@echo "*** gdb stub on tcp::$(GDBPORT); in another window run: gdb-multiarch"
	$(QEMU) $(QEMUOPTS) $(QEMUEXTRA) -S -gdb tcp::$(GDBPORT)

# --- set-up -----------------------------------------------------------------
# Installs the Debian packages Spindle needs when a tool is missing.
DEPS_PKGS = gcc-riscv64-unknown-elf qemu-system-misc opensbi gdb-multiarch
deps:
	@bash tools/deps.sh $(DEPS_PKGS)

# --- tests, benchmarks, grading ----------------------------------------------
test: all
	python3 tests/run.py $(if $(ONLY),-k $(ONLY)) $(TESTFLAGS)

bench: all
	python3 tests/bench.py

# Long reliability runs (tests/stress.py): the fuzzer on 1, 3 and 8 harts
# (STRESS_CALLS calls each), the thread stress program on 8 harts
# (STRESS_SECS seconds) and racetests -n STRESS_RACE_SCALE on 3 and 8 harts;
# prints the figures. About 22 minutes on 2 cores (docs/reliability.md),
# most of it the race tests: each unit of scale costs ~2 minutes.
STRESS_CALLS ?= 1000000
STRESS_SECS  ?= 300
STRESS_RACE_SCALE ?= 5
stress: all
	python3 tests/stress.py --calls $(STRESS_CALLS) --secs $(STRESS_SECS) --race-scale $(STRESS_RACE_SCALE)

LAB  ?=
TEST ?=
grade: deps
	python3 grade/grade.py $(if $(LAB),--lab $(LAB)) $(if $(TEST),--test $(TEST))

# Each in-tree mutant of a lab (labs/LAB/mutants/*.patch, a plausible wrong
# solution) graded like a submission: a table of score and the tests that
# caught it (grade/mutants.py). make mutants [LAB=x] [MUTANT=name] [RUNS=3]
MUTANT ?=
RUNS   ?= 1
mutants: deps
	python3 grade/mutants.py $(if $(LAB),--lab $(LAB)) $(if $(MUTANT),--only $(MUTANT)) --runs $(RUNS)

# Scheduler timeline of one command: make trace PROG="pingpong 10" [CPUS=2] [ICOUNT=1]
# writes build/trace.svg, .html and .json (Perfetto, chrome://tracing); docs/trace.md
PROG   ?=
ICOUNT ?=
trace: all
	python3 tools/trace/run.py --cpus $(CPUS) $(if $(ICOUNT),--icount) "$(PROG)"

# Sampling profile of one command under -icount: make profile PROG="bench pipe" [CPUS=2]
# (one hart unless CPUS is given on the command line)
profile: all
	python3 tools/profile/profile.py $(if $(filter command line,$(origin CPUS)),--cpus $(CPUS)) "$(PROG)"

handout:
	python3 tools/handout.py --lab $(LAB) --out $(OUT) $(if $(FORCE),--force)

clean:
	rm -rf $(BUILD) $(K)/kernel fs.img .gdbport grade-logs

.PHONY: all qemu qemu-gdb deps test bench stress grade mutants handout trace profile clean FORCE
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

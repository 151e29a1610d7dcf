# Spindle: build, run, test. `make qemu` and `make test` are the two commands
# a newcomer needs; both install missing tools first (tools/deps.sh).
# `make help` prints the lines below that start with "#:".
#: Targets (README.md, docs/setup.md):
#:   make                 build kernel/kernel, fs.img and compile_commands.json
#:   make qemu            build, then boot to the shell prompt (Ctrl-a x quits)
#:   make qemu-gdb        boot halted, waiting for gdb (port in .gdbport; docs/gdb.md)
#:   make test            run every test (ONLY=NAME for some; TESTFLAGS=... to tests/run.py)
#:   make grade           grade the labs (LAB=NAME one lab, TEST=NAME one test)
#:   make mutants         grade each lab's mutants (LAB=NAME, MUTANT=name, RUNS=n)
#:   make handin          the zip of your files of a lab to upload: LAB=NAME
#:   make handout         the student tree of a lab: LAB=NAME OUT=DIR [FORCE=1]
#:                        [RELEASED=lab,...] [COMMIT=1] (docs/grading.md)
#:   make slides          lecture slides from the docs' diagrams: build/slides/index.html
#:   make bench           guest instructions per operation (docs/perf.md)
#:   make trace           scheduler timeline: PROG="CMD ARGS" [ICOUNT=1] (docs/trace.md)
#:   make profile         where the instructions go: PROG="CMD ARGS" (docs/perf.md)
#:   make stress          long reliability runs (STRESS_CALLS, STRESS_SECS, STRESS_RACE_SCALE)
#:   make deps            install the compiler, QEMU, OpenSBI and gdb where possible
#:   make compile_commands.json   the compilation database for clangd and VS Code
#:   make clean           remove everything built
#:   make help            this list
#: Variables:
#:   CPUS=1..8 (default 3)   MEM=128M   QEMUEXTRA="qemu options"   GDBPORT=n
#:   EXTRA_UPROGS="a.c b.c"  more user programs, each named after its file
#:   KCFLAGS=-DNO_TRACE      more compiler flags (rebuilds everything)
#:   V=1                     print whole command lines
#:   TOOLPREFIX=riscv64-elf- OPENSBI=path/fw_dynamic.bin   instead of the ones found

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
# tools/deps.sh knows every name a RISC-V toolchain, gdb and OpenSBI go by
# (Debian, Ubuntu, Homebrew, Arch, Fedora; docs/setup.md); each may be named
# instead: make TOOLPREFIX=riscv64-elf- OPENSBI=/path/fw_dynamic.bin.
# Goals that compile install a missing compiler first (when it can), so the
# probes below see it on a fresh machine.
NOBUILD_GOALS := clean help deps handout handin
ifndef TOOLPREFIX
TOOLPREFIX := $(shell bash tools/deps.sh find cc)
endif
ifeq ($(TOOLPREFIX),)
ifneq ($(filter-out $(NOBUILD_GOALS),$(or $(MAKECMDGOALS),all)),)
ifneq ($(shell bash tools/deps.sh cc >&2 && echo ok),ok)
$(error no RISC-V gcc on PATH (riscv64-unknown-elf-gcc, riscv64-elf-gcc, ...): see the line above, docs/setup.md, or name one with TOOLPREFIX=)
endif
TOOLPREFIX := $(shell bash tools/deps.sh find cc)
endif
endif
ifndef OPENSBI
OPENSBI := $(or $(shell bash tools/deps.sh find opensbi),default)
endif
# The Python tools (tests, trace, profile) use the same toolchain and firmware.
export TOOLPREFIX OPENSBI
CC      = $(TOOLPREFIX)gcc
AS      = $(TOOLPREFIX)gcc
LD      = $(TOOLPREFIX)ld
OBJCOPY = $(TOOLPREFIX)objcopy
OBJDUMP = $(TOOLPREFIX)objdump
NM      = $(TOOLPREFIX)nm
QEMU    = qemu-system-riscv64
HOSTCC  = cc
GDB     = $(or $(shell bash tools/deps.sh find gdb),gdb-multiarch)

# Options a lab or test may flip on the command line.
KCFLAGS ?=
CFLAGS  = -Wall -Werror -O2 -g -fno-omit-frame-pointer -ggdb -std=gnu11
CFLAGS += -mcmodel=medany -march=rv64gc -mabi=lp64d -ffreestanding -fno-common -nostdlib
CFLAGS += -fno-builtin-printf -fno-builtin-malloc -fno-stack-protector -fno-pie -no-pie
CFLAGS += -mno-relax -MD $(KCFLAGS)
# binutils 2.39 added --no-warn-rwx-segments (and the warning it silences);
# 2.38 (Ubuntu 22.04) rejects the option, so it is passed only if accepted.
LDFLAGS := -z max-page-size=4096 \
           $(shell $(LD) --no-warn-rwx-segments --version >/dev/null 2>&1 && echo --no-warn-rwx-segments)
# libgcc: the routines the compiler calls for what rv64gc has no instruction
# for (__builtin_ctzll is __ctzdi2); the kernel and every user program link it.
LIBGCC  := $(shell $(CC) $(CFLAGS) -print-libgcc-file-name 2>/dev/null)

# V=1 prints every command whole; by default one short line per step.
V ?=
Q := $(if $(filter 1,$(V)),,@)

# The command line objects were built with (like Linux's .cmd files): every
# object depends on this file, which changes only when the flags do, so
# `make KCFLAGS=-DNO_TRACE` after a plain `make` rebuilds everything.
BUILDCMD := $(CC) $(CFLAGS) | $(LD) $(LDFLAGS)
$(BUILD)/buildcmd: FORCE
	@mkdir -p $(@D)
	@echo '$(BUILDCMD)' | cmp -s - $@ || echo '$(BUILDCMD)' > $@

# --- kernel -----------------------------------------------------------------
KSRC   := $(wildcard $(K)/arch/*.S $(K)/arch/*.c $(K)/lib/*.c $(K)/vm/*.c $(K)/thread/*.c \
                     $(K)/dev/*.c $(K)/fs/*.c $(K)/proc/*.c $(K)/*.c)
KOBJS  := $(patsubst %,$(BUILD)/%.o,$(basename $(KSRC)))
KCC     = $(CC) $(CFLAGS) -I$(K)

$(BUILD)/$(K)/%.o: $(K)/%.c $(BUILD)/buildcmd
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(KCC) -c -o $@ $<
$(BUILD)/$(K)/%.o: $(K)/%.S $(BUILD)/buildcmd
	@mkdir -p $(@D)
	@echo "  AS      $<"
	$(Q)$(KCC) -c -o $@ $<

# The kernel is linked twice, like Linux's kallsyms: first with an empty
# symbol table, then with the table of the first link's symbols
# (tools/ksyms.py: names for the Ctrl-p dump and panic backtraces). The table
# has a fixed size, so both links place every symbol alike; checked here.
$(BUILD)/ksyms0.S: tools/ksyms.py
	@mkdir -p $(@D)
	$(Q)python3 tools/ksyms.py < /dev/null > $@
$(BUILD)/kernel.nosyms: $(KOBJS) $(BUILD)/ksyms0.o $(K)/arch/kernel.ld $(BUILD)/buildcmd
	@echo "  LD      $@"
	$(Q)$(LD) $(LDFLAGS) -T $(K)/arch/kernel.ld -o $@ $(KOBJS) $(BUILD)/ksyms0.o $(LIBGCC)
$(BUILD)/ksyms.S: $(BUILD)/kernel.nosyms tools/ksyms.py
	$(Q)$(NM) -n -S --defined-only $< | python3 tools/ksyms.py > $@
$(BUILD)/ksyms0.o $(BUILD)/ksyms.o: $(BUILD)/%.o: $(BUILD)/%.S $(BUILD)/buildcmd
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<
$(K)/kernel: $(BUILD)/kernel.nosyms $(BUILD)/ksyms.o
	@echo "  LD      $@"
	$(Q)$(LD) $(LDFLAGS) -T $(K)/arch/kernel.ld -o $@ $(KOBJS) $(BUILD)/ksyms.o $(LIBGCC)
	@$(NM) -n $< | grep -v ' ksym_names$$' > $(BUILD)/kernel.nosyms.nm
	@$(NM) -n $@ | grep -v ' ksym_names$$' | cmp -s - $(BUILD)/kernel.nosyms.nm || \
	  { echo "kernel: symbols moved between the two links (tools/ksyms.py)"; rm -f $@; exit 1; }

# --- user programs ----------------------------------------------------------
UCFLAGS = $(CFLAGS) -I. -I$(K)
ULIBSRC := $(U)/lib/start.S $(U)/lib/usys.S $(U)/lib/ulib.c $(U)/lib/printf.c $(U)/lib/umalloc.c \
           $(U)/lib/testsuite.c \
           $(wildcard $(U)/lib/uthread*.c $(U)/lib/uthread*.S)
ULIB    := $(patsubst %,$(BUILD)/%.o,$(basename $(ULIBSRC)))
# Two folders of programs, both in every fs.img: $(U)/bin holds the commands
# a student types, $(TPROGS) the test suites and benchmarks.
TPROGS  := tests/progs
PROGSRC := $(wildcard $(U)/bin/*.c $(TPROGS)/*.c)
USRC    := $(ULIBSRC) $(PROGSRC)
UPROGS  := $(basename $(notdir $(PROGSRC)))
UBINS   := $(addprefix $(BUILD)/bin/,$(UPROGS))
PROGS_TWICE := $(sort $(foreach n,$(UPROGS),$(if $(filter-out 1,$(words $(filter $(n),$(UPROGS)))),$(n))))
$(if $(PROGS_TWICE),$(error a program name is in both $(U)/bin and $(TPROGS): $(PROGS_TWICE)))

$(BUILD)/$(U)/%.o: $(U)/%.c $(BUILD)/buildcmd
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(UCFLAGS) -c -o $@ $<
$(BUILD)/$(U)/%.o: $(U)/%.S $(BUILD)/buildcmd
	@mkdir -p $(@D)
	@echo "  AS      $<"
	$(Q)$(CC) $(UCFLAGS) -c -o $@ $<

$(BUILD)/$(TPROGS)/%.o: $(TPROGS)/%.c $(BUILD)/buildcmd
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(UCFLAGS) -c -o $@ $<

prog_obj = $(BUILD)/$(basename $(filter %/$(1).c,$(PROGSRC))).o
define tree_prog
$(BUILD)/bin/$(1): $(call prog_obj,$(1)) $$(ULIB) $(U)/lib/user.ld $(BUILD)/buildcmd
	@mkdir -p $$(@D)
	@echo "  LD      $$@"
	$$(Q)$$(LD) $$(LDFLAGS) -T $(U)/lib/user.ld -o $$@ $$< $$(ULIB) $$(LIBGCC)
endef
$(foreach n,$(UPROGS),$(eval $(call tree_prog,$(n))))

# Extra programs from outside the tree (hidden tests, a student's own):
# each named after its file. The names are checked before anything is
# built: one of the tree's programs or a name given twice would overwrite
# build/bin/NAME. Each source is compiled under build/extra/ + its absolute
# path, so the same name from another folder is another object (with its own
# .d file), and build/extra/NAME.src, rewritten when NAME's source changes,
# relinks build/bin/NAME when the folder changes back.
EXTRA_UPROGS ?=
EXTRA_NAMES  := $(basename $(notdir $(EXTRA_UPROGS)))
$(foreach p,$(EXTRA_UPROGS),$(if $(wildcard $(p)),,$(error EXTRA_UPROGS: no file $(p))))
$(foreach p,$(EXTRA_UPROGS),$(if $(filter $(UPROGS),$(basename $(notdir $(p)))),\
  $(error EXTRA_UPROGS: $(p) is named like the tree's $(filter %/$(notdir $(p)),$(PROGSRC)); rename your file)))
$(if $(filter-out 1,$(foreach n,$(EXTRA_NAMES),$(words $(filter $(n),$(EXTRA_NAMES))))),\
  $(error EXTRA_UPROGS: two files named alike in "$(EXTRA_UPROGS)"; each program needs its own name))
extra_obj = $(BUILD)/extra$(abspath $(basename $(1))).o
EXTRA_OBJS := $(foreach p,$(EXTRA_UPROGS),$(call extra_obj,$(p)))
UBINS   += $(addprefix $(BUILD)/bin/,$(EXTRA_NAMES))

define extra_prog
$(call extra_obj,$(1)): $(1) $(BUILD)/buildcmd
	@mkdir -p $$(@D)
	@echo "  CC      $(1)"
	$$(Q)$$(CC) $$(UCFLAGS) -c -o $$@ $$<
$(BUILD)/extra/$(2).src: FORCE
	@mkdir -p $$(@D)
	@echo '$(abspath $(1))' | cmp -s - $$@ || echo '$(abspath $(1))' > $$@
$(BUILD)/bin/$(2): $(call extra_obj,$(1)) $(BUILD)/extra/$(2).src $$(ULIB) $(U)/lib/user.ld $(BUILD)/buildcmd
	@mkdir -p $$(@D)
	@echo "  LD      $$@"
	$$(Q)$$(LD) $$(LDFLAGS) -T $(U)/lib/user.ld -o $$@ $$< $$(ULIB) $$(LIBGCC)
endef
$(foreach p,$(EXTRA_UPROGS),$(eval $(call extra_prog,$(p),$(basename $(notdir $(p))))))

# --- file-system image ------------------------------------------------------
$(BUILD)/mkfs: tools/mkfs.c $(K)/uapi/fs.h $(K)/param.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) -Wall -Werror -O2 -I$(K) -o $@ tools/mkfs.c

# fs.img holds exactly the programs of this command line: the wanted list is
# kept in build/uprogs.list (rewritten when it changes, so adding
# EXTRA_UPROGS or leaving it out rebuilds the image). Once an image is made,
# its list goes to build/fsimg.list, and the next image says which of those
# programs it leaves out: only programs that were in an image. To keep a
# program, name it on every command: make qemu EXTRA_UPROGS=a.c (docs/decisions.md).
$(BUILD)/uprogs.list: FORCE
	@mkdir -p $(@D)
	@echo "$(UBINS)" | cmp -s - $@ || echo "$(UBINS)" > $@

# The image gets each program without its debug sections (gdb and the
# profiler read build/bin/, which keeps them): debug information is most of a
# program's file, and a file may not exceed MAXFILE blocks (kernel/uapi/fs.h).
FSBINS  := $(patsubst $(BUILD)/bin/%,$(BUILD)/fsbin/%,$(UBINS))
$(FSBINS): $(BUILD)/fsbin/%: $(BUILD)/bin/%
	@mkdir -p $(@D)
	$(Q)$(OBJCOPY) --strip-debug $< $@

fs.img: $(BUILD)/mkfs README.md $(FSBINS) $(BUILD)/uprogs.list
	@for b in $$(cat $(BUILD)/fsimg.list 2>/dev/null); do case " $(UBINS) " in *" $$b "*) ;; \
	  *) echo "  fs.img: without $${b##*/} (not in EXTRA_UPROGS this time)";; esac; done
	@echo "  MKFS    $@"
	@rm -f $(BUILD)/fsimg.list
	$(Q)$(BUILD)/mkfs $@ README.md $(FSBINS)
	@cp $(BUILD)/uprogs.list $(BUILD)/fsimg.list

FORCE:

# --- editors ------------------------------------------------------------------
# compile_commands.json (clangd, VS Code's C/C++): every kernel and user C
# file with the command line the build uses; remade when the flags change.
compile_commands.json: tools/compdb.py $(BUILD)/buildcmd Makefile
	@echo "  GEN     $@"
	$(Q)python3 tools/compdb.py --kernel "$(KCC)" $(filter %.c,$(KSRC)) \
	  --user "$(CC) $(UCFLAGS)" $(filter %.c,$(USRC)) --host "$(HOSTCC) -Wall -O2 -I$(K)" tools/mkfs.c > $@

# --- running ----------------------------------------------------------------
# aclint=on: the ACLINT SSWI makes an IPI one store (kernel/arch/ipi.c); the
# kernel falls back to SBI IPIs on a board without it.
GDBPORT ?= $(shell expr `id -u` % 5000 + 25000)
QEMUOPTS = -machine virt,aclint=on -bios $(OPENSBI) -kernel $(K)/kernel -m $(MEM) -smp $(CPUS) -nographic
QEMUOPTS += -global virtio-mmio.force-legacy=false
QEMUOPTS += -drive file=fs.img,if=none,format=raw,id=x0
QEMUOPTS += -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0
QEMUEXTRA ?=

all: $(K)/kernel fs.img compile_commands.json

qemu: all
	@bash tools/deps.sh qemu opensbi
	$(QEMU) $(QEMUOPTS) $(QEMUEXTRA)

# gdb is not needed to build or boot; only here (and in the gdb tests).
qemu-gdb: all
	@bash tools/deps.sh qemu opensbi gdb
	@echo $(GDBPORT) > .gdbport
	@echo "*** gdb stub on tcp::$(GDBPORT); in another window run: $(GDB)"
	$(QEMU) $(QEMUOPTS) $(QEMUEXTRA) -S -gdb tcp::$(GDBPORT)

# --- set-up -----------------------------------------------------------------
# Everything Spindle uses, installed where it can be (tools/deps.sh).
deps:
	@bash tools/deps.sh cc qemu opensbi gdb

# --- tests, benchmarks, grading ----------------------------------------------
LABS := $(patsubst labs/%/lab.json,%,$(wildcard labs/*/lab.json))

test: all
	@bash tools/deps.sh qemu opensbi --try gdb
	python3 tests/run.py $(if $(ONLY),-k $(ONLY)) $(TESTFLAGS)

bench: all
	@bash tools/deps.sh qemu opensbi
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
	@bash tools/deps.sh qemu opensbi
	python3 tests/stress.py --calls $(STRESS_CALLS) --secs $(STRESS_SECS) --race-scale $(STRESS_RACE_SCALE)

LAB  ?=
TEST ?=
ifneq ($(filter-out $(LABS),$(LAB)),)
$(error LAB=$(LAB): no such lab; the labs are $(LABS))
endif
grade:
	@bash tools/deps.sh qemu opensbi
	python3 grade/grade.py $(if $(LAB),--lab $(LAB)) $(if $(TEST),--test $(TEST))

# The zip a student uploads: only LAB's student files (grade/handin.py).
ifneq ($(filter handin,$(MAKECMDGOALS)),)
ifeq ($(LAB),)
$(error usage: make handin LAB=<lab>; the labs are $(LABS))
endif
endif
handin:
	python3 grade/handin.py --lab $(LAB)

# Each in-tree mutant of a lab (labs/LAB/mutants/*.patch, a plausible wrong
# solution) graded like a submission: a table of score and the tests that
# caught it (grade/mutants.py). make mutants [LAB=x] [MUTANT=name] [RUNS=3]
MUTANT ?=
RUNS   ?= 1
mutants:
	@bash tools/deps.sh qemu opensbi
	python3 grade/mutants.py $(if $(LAB),--lab $(LAB)) $(if $(MUTANT),--only $(MUTANT)) --runs $(RUNS)

# Scheduler timeline of one command: make trace PROG="pingpong 10" [CPUS=2] [ICOUNT=1]
# writes build/trace.svg, .html and .json (Perfetto, chrome://tracing); docs/trace.md
PROG   ?=
ICOUNT ?=
ifneq ($(filter trace profile,$(MAKECMDGOALS)),)
ifeq ($(strip $(PROG)),)
$(error usage: make $(filter trace profile,$(MAKECMDGOALS)) PROG="CMD ARGS" [CPUS=n])
endif
endif
trace: all
	@bash tools/deps.sh qemu opensbi
	python3 tools/trace/run.py --cpus $(CPUS) $(if $(ICOUNT),--icount) "$(PROG)"

# Sampling profile of one command under -icount: make profile PROG="bench pipe" [CPUS=2]
# (one hart unless CPUS is given on the command line)
profile: all
	@bash tools/deps.sh qemu opensbi
	python3 tools/profile/profile.py $(if $(filter command line,$(origin CPUS)),--cpus $(CPUS)) "$(PROG)"

ifneq ($(filter handout,$(MAKECMDGOALS)),)
ifeq ($(and $(LAB),$(OUT)),)
$(error usage: make handout LAB=<lab> OUT=<new dir> [FORCE=1] [RELEASED=lab,...] [COMMIT=1]; the labs are $(LABS))
endif
endif
# Every other lab stays a stub unless RELEASED names it; COMMIT=1: OUT is the
# git repository of handouts students merge from, and the handout its next commit.
RELEASED ?=
handout:
	python3 tools/handout.py --lab $(LAB) --out $(OUT) $(if $(FORCE),--force) \
	  $(if $(RELEASED),--released $(RELEASED)) $(if $(COMMIT),--commit)

# One slide per diagram of the docs, drawn without Mermaid tools (docs/teaching/).
slides:
	python3 tools/slides.py --out $(BUILD)/slides

help:
	@sed -n 's/^#: \{0,1\}//p' Makefile

clean:
	rm -rf $(BUILD) $(K)/kernel fs.img .gdbport grade-logs compile_commands.json

.PHONY: all qemu qemu-gdb deps test bench stress grade mutants handin handout slides trace profile clean help FORCE
.SECONDARY:

# Dependencies the compiler found (-MD) for the objects of this command only:
# a .d file of a program left out now may name a source that is gone.
-include $(patsubst %.o,%.d,$(KOBJS) $(ULIB) $(foreach n,$(UPROGS),$(call prog_obj,$(n))) $(EXTRA_OBJS))

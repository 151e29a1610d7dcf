#!/usr/bin/env bash
# The tools Spindle needs, how to find each, and the package that holds it
# on each system: the one list that the Makefile, the dev container
# (.devcontainer/Dockerfile) and the Gradescope image (grade/gradescope/
# setup.sh) install from. It owns no build rule; the Makefile calls it.
#
#   tools/deps.sh TOOL... [--try TOOL...]
#       TOOL is cc (RISC-V gcc and binutils), qemu, opensbi or gdb. Installs
#       the missing ones where it can (apt-get, pacman or dnf as root or
#       through passwordless sudo; brew as the user). A missing TOOL it cannot
#       install ends it with status 1 and one line saying what to run; one
#       after --try only gets that line (make test: the gdb tests need gdb,
#       the rest do not).
#   tools/deps.sh find cc|gdb|opensbi
#       prints the toolchain prefix, the gdb command or the firmware path
#       found (status 1 and nothing if none).
#   tools/deps.sh packages MANAGER [TOOL...]
#       prints the packages of MANAGER (apt, brew, pacman, dnf) for the TOOLs
#       (default all four).
# No `set -u`: macOS's bash 3.2 calls an empty array unbound.
set -eo pipefail

TOOLS="cc qemu opensbi gdb"
PREFIXES="riscv64-unknown-elf- riscv64-elf- riscv64-linux-gnu- riscv64-unknown-linux-gnu-"
GDBS="gdb-multiarch riscv64-elf-gdb riscv64-unknown-elf-gdb"
FIRMWARE=opensbi-riscv64-generic-fw_dynamic.bin

# The packages of one tool for one package manager.
packages_of() {
  case "$1:$2" in
    apt:cc)         echo gcc-riscv64-unknown-elf ;;
    apt:qemu)       echo qemu-system-misc ;;
    apt:opensbi)    echo opensbi ;;
    apt:gdb)        echo gdb-multiarch ;;
    brew:cc)        echo riscv64-elf-gcc ;;
    brew:qemu|brew:opensbi) echo qemu ;;       # Homebrew's qemu carries OpenSBI
    brew:gdb)       echo riscv64-elf-gdb ;;
    pacman:cc)      echo riscv64-elf-gcc riscv64-elf-binutils ;;
    pacman:qemu)    echo qemu-system-riscv ;;
    pacman:opensbi) echo qemu-system-riscv-firmware ;;
    pacman:gdb)     echo riscv64-elf-gdb ;;
    dnf:cc)         echo gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu ;;
    dnf:qemu|dnf:opensbi) echo qemu-system-riscv ;;
    dnf:gdb)        echo gdb ;;                 # no gdb-multiarch; find_gdb tries it
    *) echo "deps.sh: no package list for $1:$2" >&2; exit 2 ;;
  esac
}

find_cc() {
  for p in $PREFIXES; do
    if command -v "${p}gcc" >/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# A plain gdb counts only if it knows RISC-V (Fedora's does, most do not).
find_gdb() {
  for g in $GDBS; do
    if command -v "$g" >/dev/null; then echo "$g"; return 0; fi
  done
  if command -v gdb >/dev/null && gdb -batch -nx -ex "set architecture riscv:rv64" >/dev/null 2>&1; then
    echo gdb; return 0
  fi
  return 1
}

# OpenSBI's generic fw_dynamic: in QEMU's own data folder (Debian, Ubuntu,
# Homebrew, Arch, Fedora), else where an opensbi package puts it.
find_opensbi() {
  local dirs=() q
  if q=$(command -v qemu-system-riscv64); then
    dirs+=("$(dirname "$q")/../share/qemu/$FIRMWARE")
  fi
  dirs+=(/usr/share/qemu/$FIRMWARE /opt/homebrew/share/qemu/$FIRMWARE /usr/local/share/qemu/$FIRMWARE
         /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
         /usr/share/opensbi/lp64/generic/firmware/fw_dynamic.bin)
  for f in "${dirs[@]}"; do
    if [ -e "$f" ]; then (cd "$(dirname "$f")" && echo "$(pwd -P)/$(basename "$f")"); return 0; fi
  done
  return 1
}

present() {
  case "$1" in
    cc)      find_cc >/dev/null ;;
    qemu)    command -v qemu-system-riscv64 >/dev/null ;;
    opensbi) find_opensbi >/dev/null ;;
    gdb)     find_gdb >/dev/null ;;
    *) echo "deps.sh: unknown tool $1 (tools: $TOOLS)" >&2; exit 2 ;;
  esac
}

manager() {
  for m in apt-get brew pacman dnf; do
    if command -v $m >/dev/null; then echo "${m%-get}"; return 0; fi
  done
  return 1
}

install_command() {
  case "$1" in
    apt)    echo "apt-get install -y" ;;
    brew)   echo "brew install" ;;
    pacman) echo "pacman -S --needed --noconfirm" ;;
    dnf)    echo "dnf install -y" ;;
  esac
}

# Installs the packages of the missing tools; says what to run where it
# cannot. Status 0 when every tool of $need is there afterwards.
ensure() {
  local need=() try=() missing=() fatal=0 m pkgs=() sudo=
  while [ $# -gt 0 ]; do
    case "$1" in
      --try) shift; try=("$@"); break ;;
      *) need+=("$1"); shift ;;
    esac
  done
  for t in "${need[@]}" "${try[@]}"; do present "$t" || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! m=$(manager); then
    echo "spindle: missing ${missing[*]}; no apt-get, brew, pacman or dnf here: install a RISC-V gcc (riscv64-elf-gcc), qemu-system-riscv64 with OpenSBI, and gdb-multiarch (docs/setup.md)" >&2
    for t in "${missing[@]}"; do present "$t" || case " ${need[*]} " in *" $t "*) fatal=1;; esac; done
    return $fatal
  fi
  for t in "${missing[@]}"; do pkgs+=($(packages_of "$m" "$t")); done
  pkgs=($(printf '%s\n' "${pkgs[@]}" | awk '!seen[$0]++'))
  if [ "$m" != brew ] && [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=no; fi
  fi
  if [ "$sudo" = no ]; then
    echo "spindle: missing ${missing[*]}; run: sudo $(install_command "$m") ${pkgs[*]}" >&2
  else
    echo "spindle: installing ${pkgs[*]}" >&2
    if [ "$m" = apt ]; then
      export DEBIAN_FRONTEND=noninteractive
      $sudo apt-get update -qq
      $sudo apt-get install -y -qq "${pkgs[@]}" >/dev/null
    else
      $sudo $(install_command "$m") "${pkgs[@]}"
    fi
  fi
  for t in "${need[@]}"; do present "$t" || fatal=1; done
  return $fatal
}

case "${1:-}" in
  find)
    case "${2:-}" in
      cc) find_cc ;; gdb) find_gdb ;; opensbi) find_opensbi ;;
      *) echo "usage: tools/deps.sh find cc|gdb|opensbi" >&2; exit 2 ;;
    esac ;;
  packages)
    [ -n "${2:-}" ] || { echo "usage: tools/deps.sh packages apt|brew|pacman|dnf [TOOL...]" >&2; exit 2; }
    m=$2; shift 2
    out=()
    for t in ${*:-$TOOLS}; do out+=($(packages_of "$m" "$t")); done
    printf '%s\n' "${out[@]}" | awk '!seen[$0]++' | paste -sd ' ' - ;;
  ""|-h|--help)
    sed -n '2,/^# No `set -u`/p' "$0" | sed '$d; s/^# \{0,1\}//' ; exit 2 ;;
  *) ensure "$@" ;;
esac

#!/usr/bin/env bash
# Install the Debian packages Spindle needs, but only when a tool is missing.
# Uses apt-get as root or through passwordless sudo; otherwise prints the one
# command to run.
set -e
need=()
command -v riscv64-unknown-elf-gcc >/dev/null || command -v riscv64-linux-gnu-gcc >/dev/null \
  || need+=(gcc-riscv64-unknown-elf)
command -v qemu-system-riscv64 >/dev/null || need+=(qemu-system-misc)
[ -e /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin ] \
  || [ -e /usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin ] || need+=(opensbi)
command -v gdb-multiarch >/dev/null || need+=(gdb-multiarch)
[ ${#need[@]} -eq 0 ] && exit 0

echo "spindle: installing ${need[*]}" >&2
if [ "$(id -u)" = 0 ]; then
  SUDO=
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "spindle: missing tools; run: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${need[@]}" >/dev/null

#!/bin/sh
# Runs a guest kernel under Bochs 2.7 (Debian: apt-get install bochs bochsbios vgabios) on
# the corei7_skylake_x model, which emulates VMX with EPT: the reference for minivisor.
#   guests/minivisor/bochs/run.sh [KERNEL.elf] [SECONDS]
# Serial output goes to stdout. Bochs has no isa-debug-exit, so the run ends when a line
# matches "L2 halted|not available|failed|unexpected", or after SECONDS (default 120).
# Work files go to a temporary directory; nothing is written in the repository.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
KERNEL=${1:-$HERE/../../images/minivisor.elf}
LIMIT=${2:-120}
W=$(mktemp -d)
trap 'kill $BPID 2>/dev/null || true; rm -rf "$W"' EXIT
objcopy -O binary "$KERNEL" "$W/kernel.bin"
SZ=$(stat -c %s "$W/kernel.bin")
NSECT=$(( (SZ + 511) / 512 ))
ENTRY=$(readelf -h "$KERNEL" | awk '/Entry point/ {print $4}')
as --32 --defsym NSECT=$NSECT --defsym ENTRY=$ENTRY -o "$W/boot.o" "$HERE/boot.S"
ld -m elf_i386 -Ttext 0x7c00 --oformat binary -o "$W/boot.bin" "$W/boot.o"
dd if=/dev/zero of="$W/disk.img" bs=512 count=20160 status=none
dd if="$W/boot.bin" of="$W/disk.img" conv=notrunc status=none
dd if="$W/kernel.bin" of="$W/disk.img" bs=512 seek=1 conv=notrunc status=none
cat > "$W/bochsrc" <<RC
megs: 64
cpu: model=corei7_skylake_x, count=1, ips=50000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=disk, path=$W/disk.img, mode=flat, cylinders=20, heads=16, spt=63
boot: disk
com1: enabled=1, mode=file, dev=$W/serial.out
display_library: rfb, options="timeout=0"
speaker: enabled=0
sound: driver=dummy
log: $W/bochs.log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
clock: sync=none
RC
: > "$W/serial.out"
# Debian's Bochs is built with its debugger: "c" on stdin starts the simulation.
echo c > "$W/cmd"
bochs-bin -q -f "$W/bochsrc" < "$W/cmd" > "$W/bochs.out" 2>&1 &
BPID=$!
i=0
while [ $i -lt $((LIMIT * 2)) ]; do
  if grep -qE 'L2 halted|not available|failed|unexpected' "$W/serial.out"; then break; fi
  sleep 0.5; i=$((i + 1))
done
sleep 0.5
cat "$W/serial.out"
kill $BPID 2>/dev/null || true

#!/bin/sh
# Benchmark: host CPU used by an idle unikernel. Boots build/pvh/test-idle
# (one fiber asleep for SECONDS + 2 s, nothing else) under QEMU as
# scripts/mist-run would start it (microvm; KVM when usable, else TCG;
# MIST_QEMU_ACCEL overrides), waits 1 s for boot, then reads QEMU's
# utime + stime from /proc/<pid>/stat at the start and the end of a SECONDS
# window. The figure is absolute, CPU ms over the window and its share of
# one CPU: there is no fair reference to run beside it (the point is that it
# is close to nothing).
#
# Environment: SECONDS_IDLE (10).
#
# Last line:
# bench: pvh-idle accel=<kvm|tcg> seconds=<s> cpu_ms=<ms> cpu_percent=<p>
set -eu

cd "$(dirname "$0")/.."
SECONDS_IDLE=${SECONDS_IDLE:-10}
make -s build/pvh/test-idle >/dev/null

CMD=$(scripts/mist-run --dry-run build/pvh/test-idle -- "--seconds=$((SECONDS_IDLE + 2))")
ACCEL=$(echo "$CMD" | sed -n 's/.*-accel \([a-z]*\).*/\1/p')
eval "$CMD" </dev/null >/dev/null 2>&1 &
QEMU=$!
trap 'kill "$QEMU" 2>/dev/null || true' EXIT

# Fields 14 and 15 of /proc/PID/stat (utime, stime) in clock ticks; the
# command name (field 2) has no blanks here.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$QEMU/stat"
}

sleep 1
START=$(cpu_ticks)
sleep "$SECONDS_IDLE"
END=$(cpu_ticks)
wait "$QEMU" || true
trap - EXIT

HZ=$(getconf CLK_TCK)
echo "test-idle under QEMU ($ACCEL), ${SECONDS_IDLE} s window: $((END - START)) ticks of 1/$HZ s"
awk -v t="$((END - START))" -v hz="$HZ" -v s="$SECONDS_IDLE" -v accel="$ACCEL" 'BEGIN {
	ms = t * 1000 / hz
	printf "bench: pvh-idle accel=%s seconds=%d cpu_ms=%d cpu_percent=%.2f\n", accel, s, ms, ms / (s * 10)
}'

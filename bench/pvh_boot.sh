#!/bin/sh
# Benchmark: how fast a pvh image boots. For ROUNDS boots of build/pvh/hello
# under scripts/mist-run (microvm, the runner's accelerator: KVM when usable,
# else TCG; MIST_QEMU_ACCEL overrides), measured on the host from the exec of
# the runner to
#   - the first line on the console (the first "hello", printed by the app),
#   - QEMU's exit (hello sleeps 2 x 100 ms, so exit is ~200 ms later);
# and in the guest, from the PVH entry (TSC) to mist_boot() and to the first
# idle wait, after mist_main() has run (pvh=debug log lines). The reference
# is the same app as a Linux process (build/posix-tap/hello), exec to first
# line, in the same invocation. Figures are medians.
#
# Environment: ROUNDS (10).
#
# Last line:
# bench: pvh-boot accel=<kvm|tcg> first_line_ms=<m> exit_ms=<m> guest_ready_us=<m> \
#        guest_main_us=<m> posix_first_line_ms=<m>
set -eu

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-10}
make -s build/pvh/hello build/posix-tap/hello >/dev/null

exec /usr/bin/python3 - "$ROUNDS" <<'PYTHON'
import re
import statistics
import subprocess
import sys
import time

rounds = int(sys.argv[1])
accel = subprocess.run(["scripts/mist-run", "--dry-run", "build/pvh/hello"],
                       capture_output=True, text=True, check=True).stdout
accel = re.search(r"-accel (\w+)", accel).group(1)


def run(argv):
    """(ms to the first line, ms to exit, whole output) of one run."""
    start = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    first = p.stdout.readline()
    first_ms = (time.monotonic() - start) * 1000
    rest = p.stdout.read()
    p.wait()
    exit_ms = (time.monotonic() - start) * 1000
    if p.returncode != 0:
        sys.exit(f"pvh_boot.sh: {argv} exited {p.returncode}:\n{(first + rest).decode()}")
    return first_ms, exit_ms, (first + rest).decode()


pvh = [run(["scripts/mist-run", "build/pvh/hello", "--", "--log=info,pvh=debug"])
       for _ in range(rounds)]
posix = [run(["build/posix-tap/hello"]) for _ in range(rounds)]
guest = [re.search(r"PVH entry to mist_boot (\d+) us, to first idle \(mist_main done\) (\d+) us",
                   out).groups() for _, _, out in pvh]

median = statistics.median
print(f"pvh hello, {rounds} boots, accel {accel}:")
for (first, exit_, _), (ready, main) in zip(pvh, guest):
    print(f"  first line {first:7.1f} ms  exit {exit_:7.1f} ms  "
          f"guest: mist_boot {int(ready):6d} us  first idle {int(main):6d} us")
print(f"posix-tap hello, first line: {', '.join(f'{f:.1f}' for f, _, _ in posix)} ms")
print(f"bench: pvh-boot accel={accel} "
      f"first_line_ms={median(f for f, _, _ in pvh):.1f} "
      f"exit_ms={median(e for _, e, _ in pvh):.1f} "
      f"guest_ready_us={median(int(r) for r, _ in guest):.0f} "
      f"guest_main_us={median(int(m) for _, m in guest):.0f} "
      f"posix_first_line_ms={median(f for f, _, _ in posix):.1f}")
PYTHON

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
# line, in the same invocation.
#
# Then, for ROUNDS boots of build/pvh/echo with QEMU's user networking
# forwarding 127.0.0.1:PORT (a free port) to the echo port, the host time
# from the exec of the runner to the first TCP connection accepted: the
# first connection through which a probe comes back echoed. Until QEMU
# listens, connects are refused; after, QEMU accepts every connection
# itself and only then opens one to the guest, so a connection says nothing
# until its echo comes back. A new connection is tried every PROBE_MS while
# the older ones stay open, so that the figure does not depend on how QEMU
# retries a connection that the guest was not yet up to answer. Figures are
# medians.
#
# Environment: ROUNDS (10).
#
# Last line:
# bench: pvh-boot accel=<kvm|tcg> first_line_ms=<m> exit_ms=<m> guest_ready_us=<m> \
#        guest_main_us=<m> posix_first_line_ms=<m> first_tcp_echo_ms=<m>
set -eu

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-10}
make -s build/pvh/hello build/posix-tap/hello build/pvh/echo >/dev/null

exec /usr/bin/python3 - "$ROUNDS" <<'PYTHON'
import errno
import re
import selectors
import socket
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

ECHO_PORT = 8081
PROBE = b"mist boot probe\n"
PROBE_MS = 10        # a new connection this often until one echoes
PROBES_OPEN_MAX = 64  # the oldest is closed beyond this
ECHO_DEADLINE_S = 60  # the most a boot may take to echo


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe_until_echo(port, start, runner):
    """ms from `start` to the first echoed PROBE on 127.0.0.1:port, and the connects tried."""
    sel = selectors.DefaultSelector()
    tried = 0
    next_probe = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if now - start > ECHO_DEADLINE_S or runner.poll() is not None:
                return None, tried
            if now >= next_probe:
                if len(sel.get_map()) >= PROBES_OPEN_MAX:
                    oldest = min(sel.get_map().values(), key=lambda k: k.data)
                    sel.unregister(oldest.fileobj)
                    oldest.fileobj.close()
                s = socket.socket()
                s.setblocking(False)
                if s.connect_ex(("127.0.0.1", port)) in (0, errno.EINPROGRESS):
                    sel.register(s, selectors.EVENT_WRITE, tried)
                else:
                    s.close()
                tried += 1
                next_probe = now + PROBE_MS / 1000
            for key, events in sel.select(max(0.0, next_probe - time.monotonic())):
                s = key.fileobj
                try:
                    if events & selectors.EVENT_WRITE:
                        # Connected to QEMU, unless refused: QEMU does not listen yet.
                        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                            s.send(PROBE)
                            sel.modify(s, selectors.EVENT_READ, key.data)
                            continue
                    elif s.recv(len(PROBE)) == PROBE:
                        return (time.monotonic() - start) * 1000, tried
                except OSError:
                    pass
                # Refused, reset, or closed by QEMU when the guest did not answer.
                sel.unregister(s)
                s.close()
    finally:
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()


def echo_boot():
    """(ms from exec to the first echoed probe, connects tried) for one boot of echo."""
    port = free_port()
    start = time.monotonic()
    runner = subprocess.Popen(["scripts/mist-run", f"--hostfwd=tcp:{port}:{ECHO_PORT}",
                               "build/pvh/echo", "--", "--ipv4=10.0.2.15/24"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    try:
        ms, tried = probe_until_echo(port, start, runner)
    finally:
        runner.terminate()
        out = runner.communicate(timeout=30)[0].decode(errors="replace")
    if ms is None:
        sys.exit(f"pvh_boot.sh: build/pvh/echo did not echo within {ECHO_DEADLINE_S} s:\n{out}")
    return ms, tried


echo = [echo_boot() for _ in range(rounds)]

median = statistics.median
print(f"pvh hello, {rounds} boots, accel {accel}:")
for (first, exit_, _), (ready, main) in zip(pvh, guest):
    print(f"  first line {first:7.1f} ms  exit {exit_:7.1f} ms  "
          f"guest: mist_boot {int(ready):6d} us  first idle {int(main):6d} us")
print(f"posix-tap hello, first line: {', '.join(f'{f:.1f}' for f, _, _ in posix)} ms")
print(f"pvh echo, {rounds} boots with user networking, exec to the first TCP echo:")
for ms, tried in echo:
    print(f"  {ms:7.1f} ms  ({tried} connects tried)")
print(f"bench: pvh-boot accel={accel} "
      f"first_line_ms={median(f for f, _, _ in pvh):.1f} "
      f"exit_ms={median(e for _, e, _ in pvh):.1f} "
      f"guest_ready_us={median(int(r) for r, _ in guest):.0f} "
      f"guest_main_us={median(int(m) for _, m in guest):.0f} "
      f"posix_first_line_ms={median(f for f, _, _ in posix):.1f} "
      f"first_tcp_echo_ms={median(ms for ms, _ in echo):.1f}")
PYTHON

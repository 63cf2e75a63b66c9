"""build/pvh/udp-echo booted under QEMU with virtio-net on a TAP device in a
network namespace of its own, the namespace's kernel as the peer: the
virtio-mmio transport on the microvm machine, the virtio-pci transport on
q35. Each machine boots once (module fixture, parametrized); the tests ping
it (56 bytes, 1472 bytes = a full 1500-byte frame, 8000 bytes = fragmented
both ways), echo UDP datagrams through socat and Python, checked byte for
byte, and check the MAC the driver chose.

QEMU runs under scripts/mist-run: KVM when it is usable, else TCG;
MIST_QEMU_ACCEL=tcg forces TCG.
"""
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, Netns, _die_with_parent

PVH_UDP_ECHO = ROOT / os.environ.get("MIST_BUILD", "build") / "pvh" / "udp-echo"
MIST_RUN = ROOT / "scripts" / "mist-run"

TAP = "mtap0"
MIST_IP = "10.79.0.2"
PEER_IP = "10.79.0.1"
PREFIX = 24
ECHO_PORT = 8081
BOOT_TIMEOUT = 60  # seconds; TCG on a loaded machine is slow

# microvm boots with --mac (the driver leaves VIRTIO_NET_F_MAC alone), q35
# without (the driver takes the device's MAC, which the runner sets).
MACHINES = {
    "microvm": {"mac_arg": "02:4d:49:53:54:05", "device_mac": "52:54:00:4d:49:01",
                "expect_mac": "02:4d:49:53:54:05", "transport": "virtio-mmio@"},
    "q35": {"mac_arg": None, "device_mac": "52:54:00:4d:49:02",
            "expect_mac": "52:54:00:4d:49:02", "transport": "virtio-pci "},
}


class PvhUdpEcho:
    """udp-echo under QEMU in a fresh namespace whose TAP has PEER_IP."""

    def __init__(self, machine, workdir):
        self.machine = machine
        self.cfg = MACHINES[machine]
        self.console_path = Path(workdir) / f"console-{machine}.txt"
        self.ns = Netns()
        self.proc = None
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        self.ns.run(["ip", "tuntap", "add", "dev", TAP, "mode", "tap"])
        self.ns.run(["ip", "addr", "add", f"{PEER_IP}/{PREFIX}", "dev", TAP])
        self.ns.run(["ip", "link", "set", TAP, "up"])
        boot_args = [f"--ipv4={MIST_IP}/{PREFIX}"]
        if self.cfg["mac_arg"] is not None:
            boot_args.append(f"--mac={self.cfg['mac_arg']}")
        self._console = open(self.console_path, "w")
        # The runner picks KVM or TCG (MIST_QEMU_ACCEL=tcg forces TCG).
        runner = [str(MIST_RUN), f"--machine={self.machine}", f"--tap={TAP}",
                  f"--mac={self.cfg['device_mac']}", str(PVH_UDP_ECHO), "--", *boot_args]
        self.proc = subprocess.Popen(
            self.ns.cmd(runner),
            stdin=subprocess.DEVNULL, stdout=self._console, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        deadline = time.monotonic() + BOOT_TIMEOUT
        while "echoing UDP on port" not in self.console:
            if self.proc.poll() is not None:
                raise AssertionError(f"QEMU exited {self.proc.returncode} at boot:\n"
                                     f"{self.console}")
            if time.monotonic() > deadline:
                raise AssertionError(f"udp-echo did not start within {BOOT_TIMEOUT} s:\n"
                                     f"{self.console}")
            time.sleep(0.05)

    @property
    def console(self):
        return self.console_path.read_text(errors="replace")

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def run(self, argv, **kw):
        return self.ns.run(argv, **kw)

    def python(self, code, *args, **kw):
        return self.ns.python(code, *args, **kw)

    def close(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            if self.proc is not None:
                self._console.close()
        finally:
            self.ns.delete()


@pytest.fixture(scope="module", params=list(MACHINES))
def pvh(request, tmp_path_factory):
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 is not installed")
    if not PVH_UDP_ECHO.exists():
        pytest.fail(f"{PVH_UDP_ECHO} missing: run `make TARGET=pvh APP=udp-echo` first")
    echo = PvhUdpEcho(request.param, tmp_path_factory.mktemp(f"pvh-{request.param}"))
    try:
        yield echo
    finally:
        echo.close()


def test_driver_found_the_device_on_its_transport(pvh):
    lines = [l for l in pvh.console.splitlines() if "virtio-net:" in l and "MAC" in l]
    assert len(lines) == 1, pvh.console
    assert pvh.cfg["transport"] in lines[0], lines[0]
    assert pvh.cfg["expect_mac"] in lines[0], lines[0]
    assert "MTU 1500" in lines[0], lines[0]


@pytest.mark.parametrize("size", [56, 1472, 8000])
def test_ping(pvh, size):
    r = pvh.run(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "3", "-s", str(size), MIST_IP],
                check=False, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr + pvh.console
    assert " 3 received" in r.stdout, r.stdout
    # ping prints the ICMP length: payload + 8-byte header.
    assert f"{size + 8} bytes from {MIST_IP}" in r.stdout, r.stdout


def test_peer_resolved_the_mac_the_driver_chose(pvh):
    pvh.run(["ping", "-n", "-c", "1", "-W", "3", MIST_IP], check=False, timeout=10)
    neigh = json.loads(pvh.run(["ip", "-j", "neigh", "show", MIST_IP, "dev", TAP]).stdout)
    assert [n.get("lladdr") for n in neigh] == [pvh.cfg["expect_mac"]], neigh


def test_udp_echo_line_with_socat(pvh):
    line = "hello from the kernel side, through virtio\n"
    r = pvh.run(["socat", "-t", "3", "-T", "5", "-", f"UDP:{MIST_IP}:{ECHO_PORT}"],
                input=line, check=False, timeout=15)
    assert r.returncode == 0, r.stderr
    assert r.stdout == line


UDP_ECHOES = r"""
import os, socket, sys
count, size, port, dst = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((dst, port))
for i in range(count):
    data = i.to_bytes(4, "big") + os.urandom(size - 4)
    for attempt in range(3):
        s.send(data)
        try:
            got = s.recv(70000)
        except socket.timeout:
            continue
        if got == data:
            break
        sys.exit(f"echo {i}: {len(got)} bytes back for {len(data)}, differing")
    else:
        sys.exit(f"echo {i}: no reply")
print("ok", count)
"""


@pytest.mark.parametrize("count,size", [
    (600, 1472),   # full frames, more than twice around the 256-entry rings
    (2, 20000),    # 14 fragments each way
])
def test_udp_echo_byte_for_byte(pvh, count, size):
    r = pvh.python(UDP_ECHOES, str(count), str(size), str(ECHO_PORT), MIST_IP, check=False,
                   timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == f"ok {count}"


BURST = r"""
import socket, sys, time
count, port, dst = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.connect((dst, port))
for i in range(count):
    s.send(i.to_bytes(4, "big") * 16)
got = set()
s.settimeout(2)
try:
    while len(got) < count:
        got.add(int.from_bytes(s.recv(100)[:4], "big"))
except socket.timeout:
    pass
print(len(got))
"""


def test_udp_burst_is_echoed(pvh):
    """100 datagrams sent back to back: more than one poll budget of frames
    reaches the device before the loop runs, so receive batching, refill and
    the interrupt hand-off all take part. Nothing may be lost on this
    otherwise idle link."""
    r = pvh.python(BURST, "100", str(ECHO_PORT), MIST_IP, timeout=20)
    assert r.stdout.strip() == "100"
    assert pvh.alive, pvh.console

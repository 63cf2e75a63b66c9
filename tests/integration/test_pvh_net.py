"""build/pvh/udp-echo booted under QEMU with virtio-net on a TAP device in a
network namespace of its own, the namespace's kernel as the peer: the
virtio-mmio transport on the microvm machine, the virtio-pci transport on
q35. Each machine boots once (module fixture, parametrized); the tests ping
it (56 bytes, 1472 bytes = a full 1500-byte frame, 8000 bytes = fragmented
both ways), echo UDP datagrams through socat and Python, checked byte for
byte, and check the MAC and the offloads the driver chose.

QEMU runs under scripts/mist-run: KVM when it is usable, else TCG;
MIST_QEMU_ACCEL=tcg forces TCG.
"""
import json
import shutil

import pytest

from conftest import BUILD, TAP, Pvh

PVH_UDP_ECHO = BUILD / "pvh" / "udp-echo"

MIST_IP = "10.79.0.2"
PEER_IP = "10.79.0.1"
PREFIX = 24
ECHO_PORT = 8081

# microvm boots with --mac (the driver leaves VIRTIO_NET_F_MAC alone), q35
# without (the driver takes the device's MAC, which the runner sets).
MACHINES = {
    "microvm": {"mac_arg": "02:4d:49:53:54:05", "device_mac": "52:54:00:4d:49:01",
                "expect_mac": "02:4d:49:53:54:05", "transport": "virtio-mmio@"},
    "q35": {"mac_arg": None, "device_mac": "52:54:00:4d:49:02",
            "expect_mac": "52:54:00:4d:49:02", "transport": "virtio-pci "},
}


@pytest.fixture(scope="module", params=list(MACHINES))
def machine(request):
    return request.param


@pytest.fixture(scope="module")
def pvh(machine, tmp_path_factory):
    """udp-echo booted on `machine`, its TAP's kernel side at PEER_IP."""
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 is not installed")
    cfg = MACHINES[machine]
    boot_args = [f"--ipv4={MIST_IP}/{PREFIX}"]
    if cfg["mac_arg"] is not None:
        boot_args.append(f"--mac={cfg['mac_arg']}")
    with Pvh(PVH_UDP_ECHO, tmp_path_factory.mktemp(f"pvh-{machine}"),
             [f"--machine={machine}", f"--mac={cfg['device_mac']}"], boot_args,
             tap_peer=f"{PEER_IP}/{PREFIX}", ready=r"echoing UDP on port") as echo:
        yield echo


def test_driver_found_the_device_on_its_transport(pvh, machine):
    lines = [l for l in pvh.log().splitlines() if "virtio-net:" in l and "MAC" in l]
    assert len(lines) == 1, pvh.log()
    assert MACHINES[machine]["transport"] in lines[0], lines[0]
    assert MACHINES[machine]["expect_mac"] in lines[0], lines[0]
    assert "MTU 1500" in lines[0], lines[0]
    # QEMU's virtio-net on a TAP with virtio_net_hdr offers all four; the driver takes them.
    assert "offloads tx-csum tx-tso4 rx-csum rx-gso" in lines[0], lines[0]


@pytest.mark.parametrize("size", [56, 1472, 8000])
def test_ping(pvh, size):
    r = pvh.run(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "3", "-s", str(size), MIST_IP],
                check=False, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr + pvh.log()
    assert " 3 received" in r.stdout, r.stdout
    # ping prints the ICMP length: payload + 8-byte header.
    assert f"{size + 8} bytes from {MIST_IP}" in r.stdout, r.stdout


def test_peer_resolved_the_mac_the_driver_chose(pvh, machine):
    pvh.run(["ping", "-n", "-c", "1", "-W", "3", MIST_IP], check=False, timeout=10)
    neigh = json.loads(pvh.run(["ip", "-j", "neigh", "show", MIST_IP, "dev", TAP]).stdout)
    assert [n.get("lladdr") for n in neigh] == [MACHINES[machine]["expect_mac"]], neigh


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
    assert pvh.alive, pvh.log()

"""build/pvh/echo, the seed's TCP echo server, booted as a unikernel under
QEMU: on a TAP device in a namespace of its own with the namespace's kernel
as the TCP peer (a 20 MB echo checked by SHA-256, 100 concurrent
connections, the log lines of each connection, the virtio-net offloads
taken both ways), and with QEMU's user networking forwarding
127.0.0.1:PORT to it, the way `make run` starts it.
"""
import json
import socket

import pytest

from conftest import BUILD, TAP, Pvh

PVH_ECHO = BUILD / "pvh" / "echo"
MIST_IP = "10.80.0.2"
PEER_IP = "10.80.0.1"
READY = r"echoing TCP on port"
ECHO_PORT = 8081
ETHER_FRAME_MAX = 1514  # a 1500-byte IP MTU plus the Ethernet header

# Both ends at once: the client writes from one thread and reads in another.
ECHO_CLIENT = r"""
import hashlib, socket, sys, threading
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = bytes((i * 7 + i // 251) & 0xff for i in range(1 << 20)) * (n >> 20)
s = socket.create_connection((host, port), timeout=60)
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send)
t.start()
h, got = hashlib.sha256(), 0
while True:
    b = s.recv(1 << 16)
    if not b:
        break
    h.update(b)
    got += len(b)
t.join()
print(got, h.hexdigest() == hashlib.sha256(data).hexdigest())
"""

MANY_CLIENT = r"""
import socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = [socket.create_connection((host, port), timeout=30) for _ in range(n)]
for i, s in enumerate(socks):
    s.sendall(b"flow %d\n" % i)
bad = 0
for i, s in enumerate(socks):
    want, got = b"flow %d\n" % i, b""
    while len(got) < len(want):
        b = s.recv(64)
        if not b:
            break
        got += b
    bad += got != want
for s in socks:
    s.close()
print(bad)
"""


@pytest.fixture(scope="module")
def pvh_echo_tap(tmp_path_factory):
    """echo booted with virtio-net on a TAP whose kernel side is PEER_IP."""
    with Pvh(PVH_ECHO, tmp_path_factory.mktemp("pvh-tcp"), [], [f"--ipv4={MIST_IP}/24"],
             tap_peer=f"{PEER_IP}/24", ready=READY) as echo:
        yield echo


def test_20mb_echo_is_byte_exact(pvh_echo_tap):
    r = pvh_echo_tap.python(ECHO_CLIENT, MIST_IP, str(ECHO_PORT), str(20 << 20), timeout=240)
    assert r.stdout.split() == [str(20 << 20), "True"], r.stdout + r.stderr


def _tap_counters(pvh):
    """The kernel's counters for the TAP: (packets, bytes) it received from
    the guest, and (packets, bytes) it sent to the guest."""
    info = json.loads(pvh.run(["ip", "-j", "-s", "link", "show", TAP]).stdout)
    s = info[0]["stats64"]
    return ((s["rx"]["packets"], s["rx"]["bytes"]), (s["tx"]["packets"], s["tx"]["bytes"]))


def test_echo_takes_the_offloads_both_ways(pvh_echo_tap):
    """The driver negotiated checksum offload and TSO both ways, and they carry
    the echo: the kernel counts a super-frame as one packet, so bytes per
    packet exceed a 1514-byte Ethernet frame only with segmentation offload
    (Mist's TSO towards the kernel, the kernel's GSO towards Mist)."""
    echo = pvh_echo_tap
    line = [l for l in echo.log().splitlines() if "virtio-net:" in l and "offloads" in l]
    assert len(line) == 1 and "offloads tx-csum tx-tso4 rx-csum rx-gso" in line[0], echo.log()
    before = _tap_counters(echo)
    r = echo.python(ECHO_CLIENT, MIST_IP, str(ECHO_PORT), str(20 << 20), timeout=240)
    assert r.stdout.split() == [str(20 << 20), "True"], r.stdout + r.stderr
    after = _tap_counters(echo)
    for direction in (0, 1):
        packets = after[direction][0] - before[direction][0]
        nbytes = after[direction][1] - before[direction][1]
        assert packets > 0 and nbytes / packets > 4 * ETHER_FRAME_MAX, (direction, before, after)


def test_100_concurrent_connections_each_get_their_own_echo(pvh_echo_tap):
    r = pvh_echo_tap.python(MANY_CLIENT, MIST_IP, str(ECHO_PORT), "100", timeout=120)
    assert r.stdout.strip() == "0", r.stdout + r.stderr


def test_each_connection_is_logged_from_open_to_close(pvh_echo_tap):
    echo = pvh_echo_tap
    echo.python(MANY_CLIENT, MIST_IP, str(ECHO_PORT), "3", timeout=60)
    echo.wait_for(lambda: echo.log().count("Connection closed") >= echo.log().count("From "),
                  "a close logged for each connection", 10)
    assert f"From {PEER_IP}:" in echo.log()
    assert echo.log().count("Connection closed") == echo.log().count("From ")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_user_networking_forwards_localhost_to_the_echo(tmp_path):
    """What `make run` does: QEMU user networking (restrict=on), 127.0.0.1:PORT forwarded."""
    port = _free_port()
    with Pvh(PVH_ECHO, tmp_path, [f"--hostfwd=tcp:{port}:{ECHO_PORT}"], ["--ipv4=10.0.2.15/24"],
             ready=READY):
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(b"hello, unikernel\n")
            s.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                b = s.recv(64)
                if not b:
                    break
                got += b
        assert got == b"hello, unikernel\n"

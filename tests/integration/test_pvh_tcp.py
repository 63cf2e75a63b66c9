"""build/pvh/echo, the seed's TCP echo server, booted as a unikernel under
QEMU: on a TAP device in a namespace of its own with the namespace's kernel
as the TCP peer (a 20 MB echo checked by SHA-256, 100 concurrent
connections, the log lines of each connection), and with QEMU's user
networking forwarding 127.0.0.1:PORT to it, the way `make run` starts it.
"""
import socket
import subprocess
import time

import pytest

from conftest import ROOT, Netns, _die_with_parent
from test_pvh_net import BOOT_TIMEOUT, MIST_RUN

PVH_ECHO = ROOT / __import__("os").environ.get("MIST_BUILD", "build") / "pvh" / "echo"
TAP = "mtap0"
MIST_IP = "10.80.0.2"
PEER_IP = "10.80.0.1"
ECHO_PORT = 8081

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


class PvhEcho:
    """build/pvh/echo under scripts/mist-run with `runner_args`, in `ns` (or the root namespace)."""

    def __init__(self, runner_args, boot_args, console_path, ns=None):
        self.ns = ns
        self.console_path = console_path
        self._console = open(console_path, "w")
        argv = [str(MIST_RUN), *runner_args, str(PVH_ECHO), "--", *boot_args]
        self.proc = subprocess.Popen(ns.cmd(argv) if ns else argv, stdin=subprocess.DEVNULL,
                                     stdout=self._console, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        deadline = time.monotonic() + BOOT_TIMEOUT
        while "echoing TCP on port" not in self.console:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"echo did not start:\n{self.console}")
            time.sleep(0.05)

    @property
    def console(self):
        return self.console_path.read_text(errors="replace")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._console.close()


@pytest.fixture(scope="module")
def pvh_echo_tap(tmp_path_factory):
    if not PVH_ECHO.exists():
        pytest.fail(f"{PVH_ECHO} missing: run `make TARGET=pvh APP=echo` first")
    ns = Netns()
    echo = None
    try:
        ns.run(["ip", "tuntap", "add", "dev", TAP, "mode", "tap"])
        ns.run(["ip", "addr", "add", f"{PEER_IP}/24", "dev", TAP])
        ns.run(["ip", "link", "set", TAP, "up"])
        echo = PvhEcho([f"--tap={TAP}"], [f"--ipv4={MIST_IP}/24"],
                       tmp_path_factory.mktemp("pvh-tcp") / "console.txt", ns)
        yield ns, echo
    finally:
        if echo is not None:
            echo.close()
        ns.delete()


def test_20mb_echo_is_byte_exact(pvh_echo_tap):
    ns, _ = pvh_echo_tap
    r = ns.python(ECHO_CLIENT, MIST_IP, str(ECHO_PORT), str(20 << 20), timeout=240)
    assert r.stdout.split() == [str(20 << 20), "True"], r.stdout + r.stderr


def test_100_concurrent_connections_each_get_their_own_echo(pvh_echo_tap):
    ns, _ = pvh_echo_tap
    r = ns.python(MANY_CLIENT, MIST_IP, str(ECHO_PORT), "100", timeout=120)
    assert r.stdout.strip() == "0", r.stdout + r.stderr


def test_each_connection_is_logged_from_open_to_close(pvh_echo_tap):
    ns, echo = pvh_echo_tap
    ns.python(MANY_CLIENT, MIST_IP, str(ECHO_PORT), "3", timeout=60)
    deadline = time.monotonic() + 10
    while echo.console.count("Connection closed") < echo.console.count("From ") and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    assert f"From {PEER_IP}:" in echo.console
    assert echo.console.count("Connection closed") == echo.console.count("From ")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_user_networking_forwards_localhost_to_the_echo(tmp_path):
    """What `make run` does: QEMU user networking (restrict=on), 127.0.0.1:PORT forwarded."""
    port = _free_port()
    echo = PvhEcho([f"--hostfwd=tcp:{port}:{ECHO_PORT}"], ["--ipv4=10.0.2.15/24"],
                   tmp_path / "console.txt")
    try:
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
    finally:
        echo.close()

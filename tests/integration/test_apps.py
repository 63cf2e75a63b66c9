"""The applications against real clients, once per target, so that any
difference between Mist's own stack and the host sockets shows as a failing
test: echo (1 MB checked by SHA-256, its log lines), half-close, peer abort,
200 concurrent connections, UDP echo.

Each case starts the app in a namespace of its own, where the clients run
too, with the app at MIST_IP and the clients at PEER_IP:
  - posix-tap: the app owns TAP mtap0 in the namespace; the namespace's
    kernel is the peer on the other side of the TAP (as test_udp_echo.py);
  - posix-socket: the app uses the namespace's kernel sockets, listening on
    MIST_IP (--ipv4); both addresses sit on a veth pair inside the
    namespace, so the connection runs over its loopback.
"""
import hashlib
import random
import re

import pytest

from conftest import BUILD, MIST_IP, MIST_MAC, PEER_IP, TAP, PosixSocket, PosixTap, built

PLACEMENTS = {"posix-tap": PosixTap, "posix-socket": PosixSocket}
ECHO_PORT = 8081
READY = r"echoing (TCP|UDP) on port \d+"


@pytest.fixture(params=list(PLACEMENTS))
def target(request):
    return request.param


def _app(target, name, tmp_path):
    """build/<target>/<name> serving in a fresh namespace for one test, which
    it must survive and then end with status 0 on SIGTERM."""
    with PLACEMENTS[target](BUILD / target / name, tmp_path, ready=READY) as app:
        yield app
        assert app.alive, f"{name} died during the test:\n{app.log()[-3000:]}"
        app.stop()
        assert app.returncode == 0, f"{name} exited {app.returncode} on SIGTERM:\n{app.log()}"


@pytest.fixture
def echo(target, tmp_path):
    yield from _app(target, "echo", tmp_path)


@pytest.fixture
def udp_echo(target, tmp_path):
    yield from _app(target, "udp-echo", tmp_path)


def _client_port():
    """A source port for a client whose connection the log must name."""
    return random.randint(20000, 30000)


# --- TCP echo -------------------------------------------------------------------------

def test_echo_1mb_through_socat_sha256(echo, tmp_path):
    data = random.Random(1).randbytes(1 << 20)
    src = tmp_path / "1mb"
    src.write_bytes(data)
    port = _client_port()
    with open(src, "rb") as stdin:
        r = echo.run(["socat", "-t", "5", "-T", "20", "-",
                      f"TCP:{MIST_IP}:{ECHO_PORT},bind={PEER_IP}:{port}"],
                     stdin=stdin, capture_output=True, text=False, check=False, timeout=30)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == len(data)
    assert hashlib.sha256(r.stdout).hexdigest() == hashlib.sha256(data).hexdigest()
    echo.wait_log(rf"app: From {re.escape(PEER_IP)}:{port}$")
    echo.wait_log(r"app: Connection closed$")


def test_echo_short_line_through_nc(echo):
    r = echo.run(["nc", "-N", "-w", "5", MIST_IP, str(ECHO_PORT)],
                 input="hello, echo\n", check=False, timeout=15)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello, echo\n"


HALF_CLOSE = r"""
import hashlib, random, socket, sys
dst, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = random.Random(2).randbytes(size)
s = socket.create_connection((dst, port), timeout=10)
# Send everything and shut our write side while the echo is still coming:
# the server must go on sending after our FIN, then close its side.
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = bytearray()
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    got += chunk
print(len(got), hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest())
"""


def test_half_close_echo_continues_after_client_fin(echo):
    size = 200_000
    r = echo.python(HALF_CLOSE, MIST_IP, str(ECHO_PORT), str(size), timeout=30)
    assert r.stdout.split() == [str(size), "True"], r.stdout + r.stderr
    echo.wait_log(r"app: Connection closed$")


PEER_ABORT = r"""
import socket, struct, sys
dst, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((dst, port), timeout=10)
s.sendall(b"before the reset")
assert s.recv(100) == b"before the reset"
# Linger on, time 0: close() sends a reset instead of a FIN.
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print("reset sent")
"""


def test_peer_abort_is_logged_as_reset_and_server_goes_on(echo):
    r = echo.python(PEER_ABORT, MIST_IP, str(ECHO_PORT), timeout=15)
    assert r.stdout.strip() == "reset sent", r.stderr
    echo.wait_log(r"app: Connection closed: connection reset$")
    # The listener is unaffected: a new connection is served.
    r = echo.run(["nc", "-N", "-w", "5", MIST_IP, str(ECHO_PORT)], input="still here\n",
                 check=False, timeout=15)
    assert r.stdout == "still here\n", r.stderr
    echo.wait_log(r"app: Connection closed$")


MANY = r"""
import asyncio, sys
dst, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

async def connect(i):
    return await asyncio.wait_for(asyncio.open_connection(dst, port), 15)

async def exchange(i, reader, writer):
    msg = f"connection {i:03d} says {'x' * (i % 97)}\n".encode()
    writer.write(msg)
    await writer.drain()
    got = await asyncio.wait_for(reader.readexactly(len(msg)), 15)
    writer.close()
    await writer.wait_closed()
    return got == msg

async def main():
    # Every connection is open before any data moves.
    conns = await asyncio.gather(*(connect(i) for i in range(n)))
    results = await asyncio.gather(*(exchange(i, r, w) for i, (r, w) in enumerate(conns)))
    print(sum(results))

asyncio.run(main())
"""


def test_200_concurrent_connections_each_echo_their_own_message(echo):
    n = 200
    r = echo.python(MANY, MIST_IP, str(ECHO_PORT), str(n), timeout=60)
    assert r.stdout.strip() == str(n), r.stdout + r.stderr
    assert len(echo.wait_log(r"app: From ", count=n)) == n
    echo.wait_log(r"app: Connection closed$", count=n, timeout=20)


# --- UDP echo -------------------------------------------------------------------------

UDP_ECHO = r"""
import random, socket, sys
dst, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((dst, port))
rnd = random.Random(3)
for size in (1, 512, 1472, 20000, 65507):
    data = rnd.randbytes(size)
    for attempt in range(3):
        s.send(data)
        try:
            got = s.recv(70000)
            break
        except socket.timeout:
            continue
    else:
        sys.exit(f"no echo of {size} bytes")
    if got != data:
        sys.exit(f"echo of {size} bytes differs ({len(got)} bytes back)")
print("ok")
"""


def test_udp_echo_datagrams_of_every_size(udp_echo):
    r = udp_echo.python(UDP_ECHO, MIST_IP, str(ECHO_PORT), check=False, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


def test_udp_echo_line_through_socat(udp_echo):
    r = udp_echo.run(["socat", "-t", "1", "-T", "3", "-", f"UDP:{MIST_IP}:{ECHO_PORT}"],
                     input="one line\n", check=False, timeout=10)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "one line\n"


# --- posix-socket only ----------------------------------------------------------------

@pytest.mark.parametrize("flag", [f"--tap={TAP}", f"--mac={MIST_MAC}"])
def test_posix_socket_refuses_device_flags(netns, flag):
    binary = built(BUILD / "posix-socket" / "echo")
    r = netns.run([str(binary), flag], check=False, timeout=10)
    assert r.returncode == 2, r.stderr
    assert f"{flag.split('=')[0]} is not accepted on the posix-socket target" in r.stderr

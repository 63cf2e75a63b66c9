"""Mist's TCP against the Linux kernel's, over a TAP device in a network
namespace: build/posix-tap/echo and build/posix-tap/bulk with real clients
(socat, nc, curl, Python sockets) on the kernel side. Every transfer is
checked by SHA-256 on both ends; bulk's stream is a known pattern (32-bit
big-endian words 0, 1, 2, ...), so its digest is also worked out here.

Each program runs in a namespace of its own (module fixtures, so the
namespaces are deleted at the end, also on failure). The last tests of each
fixture stop it with SIGTERM and read the counters it prints
("stats: layer.name=value"). The same echo and download run again with
Mist's fault-injecting device dropping and reordering 1% of the frames each
way (--fault), each bounded in time.
"""
import array
import hashlib
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import BUILD, MIST_IP, PEER_IP, Netns, PosixTap, die_with_parent

ECHO = BUILD / "posix-tap" / "echo"
BULK = BUILD / "posix-tap" / "bulk"

ECHO_PORT = 8081
BULK_PORT = 8082
KERNEL_SINK_PORT = 8083   # nc -l on the kernel side, for bulk's source
CLOSED_PORT = 9
NC_PORT = 40123           # fixed source ports, to find a connection's line in the log
CURL_PORT = 40124

MB = 1 << 20
ECHO_BYTES = 50 * MB
SINK_BYTES = 50 * MB
DOWNLOAD_BYTES = 20 * MB
CONNECTIONS = 1000
FAULT = "loss=1%,reorder=1%"

TRANSFER_BOUND = 60       # seconds for one transfer without faults
FAULT_BOUND = 120         # ... and with them

LINE_RE = re.compile(r"(sink|source): (?:from|to) (\d+\.\d+\.\d+\.\d+):(\d+) bytes=(\d+) "
                     r"secs=(\d+\.\d+) mbps=(\d+\.\d+) sha256=([0-9a-f]{64}|off)")


def pattern_sha256(n):
    """SHA-256 of the first n bytes of bulk's pattern."""
    h = hashlib.sha256()
    words_per_chunk = 1 << 20
    words = n // 4
    for first in range(0, words, words_per_chunk):
        chunk = array.array("I", range(first, min(first + words_per_chunk, words)))
        if sys.byteorder == "little":
            chunk.byteswap()
        h.update(chunk.tobytes())
    if n % 4:
        h.update(words.to_bytes(4, "big")[:n % 4])
    return h.hexdigest()


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def wait_line(app, match, timeout):
    """Waits for a transfer line of app's log for which match(m) is true."""
    return app.wait_for(lambda: next((m for m in LINE_RE.finditer(app.log()) if match(m)), None),
                        "such a transfer line", timeout)


def app_fixture(program, *args):
    @pytest.fixture(scope="module")
    def fixture(tmp_path_factory):
        with PosixTap(program, tmp_path_factory.mktemp(program.name), args) as app:
            yield app
    return fixture


echo = app_fixture(ECHO)
echo_faulty = app_fixture(ECHO, f"--fault={FAULT}")
source = app_fixture(BULK, "--mode=source", f"--bytes={DOWNLOAD_BYTES}")
source_faulty = app_fixture(BULK, "--mode=source", f"--bytes={DOWNLOAD_BYTES}",
                            f"--fault={FAULT}")
sink = app_fixture(BULK, "--mode=sink")


@pytest.fixture(scope="module")
def expected_download_sha():
    return pattern_sha256(DOWNLOAD_BYTES)


def run_in(ns, argv, timeout, **kw):
    return subprocess.run(ns.cmd(argv), timeout=timeout, **kw)


# --- echo ---------------------------------------------------------------------------

def echo_through_socat(app, tmp_path, size, timeout):
    """Sends `size` random bytes through socat to the echo server and checks that the
    same bytes come back (socat half-closes at the end of its input, the echo closes
    once it has sent everything back)."""
    sent, got = tmp_path / "sent", tmp_path / "got"
    sent.write_bytes(os.urandom(size))
    with open(sent, "rb") as fin, open(got, "wb") as fout:
        r = run_in(app.ns, ["socat", "-b", "65536", "-t", str(timeout), "-T", str(timeout), "-",
                            f"TCP:{MIST_IP}:{ECHO_PORT}"],
                   timeout=timeout, stdin=fin, stdout=fout, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, r.stderr
    assert got.stat().st_size == size
    assert file_sha256(got) == file_sha256(sent)


def test_echo_50mb_through_socat(echo, tmp_path):
    echo_through_socat(echo, tmp_path, ECHO_BYTES, TRANSFER_BOUND)


HALF_CLOSE = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(b"half a conversation")
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    got += chunk
print(got.decode())
"""


def test_echo_half_close_still_answers(echo):
    r = echo.ns.python(HALF_CLOSE, MIST_IP, str(ECHO_PORT), timeout=20)
    assert r.stdout.strip() == "half a conversation"


ABORT = r"""
import socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(b"abort")
assert s.recv(5) == b"abort"
print(s.getsockname()[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()   # with a zero linger time: RST
"""


def test_echo_peer_abort_ends_connection_with_reset(echo):
    echo.ns.python(ABORT, MIST_IP, str(ECHO_PORT), timeout=20)
    echo.wait_log(r"Connection closed: connection reset", timeout=5)
    r = echo.ns.python(HALF_CLOSE, MIST_IP, str(ECHO_PORT), timeout=20)
    assert r.stdout.strip() == "half a conversation"


MANY = r"""
import resource, selectors, socket, sys, time
dst, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, n + 64), max(hard, n + 64)))
sel = selectors.DefaultSelector()
conns = []
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex((dst, port))
    c = {"sock": s, "msg": (f"connection {i:04d} says hello. " * 8).encode(), "sent": 0,
         "got": b"", "connected": False}
    conns.append(c)
    sel.register(s, selectors.EVENT_WRITE, c)
deadline = time.monotonic() + float(sys.argv[4])
echoed, open_at_once, errors = 0, 0, []
while echoed + len(errors) < n and time.monotonic() < deadline:
    for key, events in sel.select(timeout=0.5):
        c = key.data
        s = c["sock"]
        try:
            if not c["connected"]:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise OSError(err, "connect")
                c["connected"] = True
            if events & selectors.EVENT_WRITE:
                c["sent"] += s.send(c["msg"][c["sent"]:])
                if c["sent"] == len(c["msg"]):
                    sel.modify(s, selectors.EVENT_READ, c)
            if events & selectors.EVENT_READ:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("closed before the whole echo came back")
                c["got"] += chunk
                if len(c["got"]) >= len(c["msg"]):
                    if c["got"] != c["msg"]:
                        raise OSError("echo differs")
                    sel.unregister(s)
                    echoed += 1
        except OSError as e:
            sel.unregister(s)
            errors.append(f"{c['msg'][:15]!r}: {e}")
    open_at_once = max(open_at_once, sum(c["connected"] for c in conns))
for c in conns:
    c["sock"].close()
print(f"echoed={echoed} open_at_once={open_at_once} errors={len(errors)} {errors[:5]}")
"""


def test_echo_1000_concurrent_connections(echo):
    """Every connection stays open until all have been echoed, so all 1,000 are open
    at once; each sends its own message."""
    r = echo.ns.python(MANY, MIST_IP, str(ECHO_PORT), str(CONNECTIONS), str(TRANSFER_BOUND),
                       timeout=TRANSFER_BOUND + 15)
    assert r.stdout.startswith(f"echoed={CONNECTIONS} open_at_once={CONNECTIONS} errors=0"), \
        r.stdout + r.stderr


REFUSED = r"""
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    print("connected")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
"""


def test_connect_to_closed_port_gets_reset(echo):
    r = echo.ns.python(REFUSED, MIST_IP, str(CLOSED_PORT), timeout=15)
    assert r.stdout.strip() == "refused"


def test_echo_counters_after_sigterm(echo):
    stats = echo.stop()
    assert echo.returncode == 0, echo.log()[-3000:]
    for name in ("tcp.rx", "tcp.tx"):
        assert stats.get(name, 0) > 0, (name, stats)
    assert "tcp.retransmits" in stats, stats
    assert "heap.bytes_in_use" in stats, stats


# --- bulk: downloads from the source, uploads to the sink, Mist as the client -----------

def test_nc_downloads_from_source(source, tmp_path, expected_download_sha):
    out = tmp_path / "download"
    with open(out, "wb") as f:
        r = run_in(source.ns, ["nc", "-d", "-w", str(TRANSFER_BOUND), "-p", str(NC_PORT),
                               MIST_IP, str(BULK_PORT)],
                   timeout=TRANSFER_BOUND, stdout=f, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size == DOWNLOAD_BYTES
    assert file_sha256(out) == expected_download_sha
    line = wait_line(source, lambda m: m[1] == "source" and m[3] == str(NC_PORT), 10)
    assert int(line[4]) == DOWNLOAD_BYTES
    assert line[7] == expected_download_sha


def test_curl_downloads_from_source(source, tmp_path, expected_download_sha):
    out = tmp_path / "download"
    r = run_in(source.ns, ["curl", "-sS", "--local-port", str(CURL_PORT), "--max-time",
                           str(TRANSFER_BOUND), "-o", str(out), "-w", "%{http_code} %{size_download}",
                           f"http://{MIST_IP}:{BULK_PORT}/"],
               timeout=TRANSFER_BOUND + 5, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"200 {DOWNLOAD_BYTES}"
    assert file_sha256(out) == expected_download_sha
    line = wait_line(source, lambda m: m[1] == "source" and m[3] == str(CURL_PORT), 10)
    assert line[7] == expected_download_sha


UPLOAD = r"""
import hashlib, os, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
data = os.urandom(int(sys.argv[3]))
s.sendall(data)
s.shutdown(socket.SHUT_WR)
left = s.recv(1)   # b"" once the sink has read everything and closed
print(s.getsockname()[1], hashlib.sha256(data).hexdigest(), len(left))
"""


def test_kernel_sends_50mb_to_sink(sink):
    r = sink.ns.python(UPLOAD, MIST_IP, str(BULK_PORT), str(SINK_BYTES),
                       timeout=TRANSFER_BOUND)
    port, sha, left = r.stdout.split()
    assert left == "0"
    line = wait_line(sink, lambda m: m[1] == "sink" and m[3] == port, 10)
    assert int(line[4]) == SINK_BYTES
    assert line[7] == sha


def test_sink_counters_after_sigterm(sink):
    stats = sink.stop()
    assert sink.returncode == 0, sink.log()[-3000:]
    assert stats.get("tcp.rx", 0) > 0, stats


def test_source_sends_to_kernel_nc(tmp_path, expected_download_sha):
    """bulk --peer connects to a kernel `nc -l`, sends, waits for nc to close once it
    has read everything, and exits 0 by itself."""
    ns = Netns()
    out = tmp_path / "received"
    nc = None
    try:
        with open(out, "wb") as f:
            nc = subprocess.Popen(ns.cmd(["nc", "-l", "-w", str(TRANSFER_BOUND),
                                          str(KERNEL_SINK_PORT)]),
                                  stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.PIPE,
                                  preexec_fn=die_with_parent)
        deadline = time.monotonic() + 5
        while f":{KERNEL_SINK_PORT} " not in ns.run(["ss", "-ltnH"]).stdout:
            assert time.monotonic() < deadline, "nc -l does not listen"
            time.sleep(0.02)
        with PosixTap(BULK, tmp_path, ["--mode=source", f"--bytes={DOWNLOAD_BYTES}",
                                       f"--peer={PEER_IP}:{KERNEL_SINK_PORT}"], ns=ns) as app:
            app.wait_exit(TRANSFER_BOUND)
            assert app.returncode == 0, app.log()[-3000:]
            line = wait_line(app, lambda m: m[1] == "source", 1)
        assert nc.wait(timeout=10) == 0, nc.stderr.read()
        assert int(line[4]) == DOWNLOAD_BYTES
        assert line[7] == expected_download_sha
        assert out.stat().st_size == DOWNLOAD_BYTES
        assert file_sha256(out) == expected_download_sha
    finally:
        if nc is not None and nc.poll() is None:
            nc.kill()
            nc.wait()
        ns.delete()


# --- the same with frames lost and reordered --------------------------------------------

def test_echo_50mb_with_faults(echo_faulty, tmp_path):
    echo_through_socat(echo_faulty, tmp_path, ECHO_BYTES, FAULT_BOUND)


def test_echo_faults_were_injected(echo_faulty):
    stats = echo_faulty.stop()
    assert echo_faulty.returncode == 0, echo_faulty.log()[-3000:]
    for name in ("fault.rx_dropped", "fault.tx_dropped", "fault.rx_reordered",
                 "fault.tx_reordered", "tcp.retransmits"):
        assert stats.get(name, 0) > 0, (name, stats)


def test_nc_downloads_with_faults(source_faulty, tmp_path, expected_download_sha):
    out = tmp_path / "download"
    with open(out, "wb") as f:
        r = run_in(source_faulty.ns, ["nc", "-d", "-w", str(FAULT_BOUND), MIST_IP,
                                      str(BULK_PORT)],
                   timeout=FAULT_BOUND, stdout=f, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size == DOWNLOAD_BYTES
    assert file_sha256(out) == expected_download_sha
    stats = source_faulty.stop()
    assert stats.get("fault.tx_dropped", 0) > 0, stats
    assert stats.get("tcp.retransmits", 0) > 0, stats


# --- arguments ------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--fault=loss=2"], "--fault=loss=2: 'loss=2' is not a rate"),
    (["--fault=loss=1%,drop=1%"], "'drop=1%' has an unknown name"),
    (["--mode=both"], "--mode=both: expected sink or source"),
    (["--mode=source", "--peer=10.77.0.1"], "--peer=10.77.0.1: expected ADDR:PORT"),
    (["--peer=10.77.0.1:80"], "--peer=10.77.0.1:80: only with --mode=source"),
])
def test_bad_arguments_exit_2(netns, args, message):
    r = netns.run([str(BULK), *args], check=False, timeout=10)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert message in r.stderr, r.stderr
